//! The trained UniSRec model as a drafter over a KNN index of adapted items.

use std::path::Path;

use burn::prelude::*;
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Recorder};
use recdata::ItemId;

use super::model::{UniSRecConfig, UniSRecModel};
use rec_core::Query;

use crate::error::{DrafterError, Result};
use crate::knn::KnnConfig;
use crate::knn_drafter::{KnnDrafter, QueryEncoder};
use crate::table::EmbeddingTable;

/// Items adapted per forward pass when filling the index.
const ITEM_CHUNK: usize = 4096;
/// Queries per forward pass.
const QUERY_CHUNK: usize = 256;

/// File names inside a UniSRec checkpoint directory.
pub const CONFIG_FILE: &str = "unisrec-config.json";
/// The model record (Burn named MessagePack).
pub const MODEL_FILE: &str = "unisrec.mpk";

/// The UniSRec drafter: a [`KnnDrafter`] over [`UniSRecEncoder`]. Queries are the
/// model's sequence representations, items its adapted text embeddings; both
/// unit-norm, so scores are cosines.
pub type UniSRec<B> = KnnDrafter<UniSRecEncoder<B>>;

/// UniSRec's query encoder: the trained model, and the text embeddings that
/// histories are read from.
#[derive(Debug)]
pub struct UniSRecEncoder<B: Backend> {
    config: UniSRecConfig,
    model: UniSRecModel<B>,
    device: B::Device,
    text: EmbeddingTable,
}

impl<B: Backend> KnnDrafter<UniSRecEncoder<B>> {
    /// A drafter from a trained model, over `items` with text embeddings `text`
    /// (row-major, `config.d_text` wide). The index uses `knn` (its `dim` is set
    /// to the model's `d_model`).
    pub fn new(
        config: UniSRecConfig,
        model: UniSRecModel<B>,
        knn: KnnConfig,
        device: &B::Device,
        items: &[ItemId],
        text: &[f32],
    ) -> Result<Self> {
        let knn = KnnConfig { dim: config.d_model, ..knn };
        let encoder =
            UniSRecEncoder { text: EmbeddingTable::new(config.d_text), config, model, device: device.clone() };
        Self::with_encoder(encoder, knn, 16_384, items, text)
    }

    /// Loads the checkpoint that [`crate::train_unisrec`] wrote to `dir`.
    pub fn load(dir: &Path, knn: KnnConfig, device: &B::Device, items: &[ItemId], text: &[f32]) -> Result<Self> {
        let (config, model) = load_checkpoint(dir, device)?;
        Self::new(config, model, knn, device, items, text)
    }

    /// The model.
    pub fn model(&self) -> &UniSRecModel<B> {
        &self.encoder().model
    }
}

/// Reads `dir/unisrec-config.json` and `dir/unisrec.mpk`.
pub fn load_checkpoint<B: Backend>(dir: &Path, device: &B::Device) -> Result<(UniSRecConfig, UniSRecModel<B>)> {
    let cpath = dir.join(CONFIG_FILE);
    let json = std::fs::read_to_string(&cpath).map_err(|e| DrafterError::io(&cpath, e))?;
    let config: UniSRecConfig = serde_json::from_str(&json).map_err(|e| DrafterError::format(&cpath, e))?;
    config.validate().map_err(|e| DrafterError::format(&cpath, e))?;
    let mpath = dir.join(MODEL_FILE);
    let mut bytes = std::fs::read(&mpath).map_err(|e| DrafterError::io(&mpath, e))?;
    let model = config.init::<B>(device);
    // Burn would load tensors of any shape and panic later inside the backend.
    gr_model::checkpoint::check_record::<B, _>(&mut bytes, &model, &mpath, &cpath.display().to_string())
        .map_err(|e| DrafterError::Checkpoint(Box::new(e)))?;
    let record = NamedMpkBytesRecorder::<FullPrecisionSettings>::default()
        .load(bytes, device)
        .map_err(|e| DrafterError::format(&mpath, e))?;
    Ok((config, model.load_record(record)))
}

/// Writes a checkpoint atomically (each file to `.tmp`, then renamed; the
/// model last, so a complete model file implies a matching config).
pub fn save_checkpoint<B: Backend>(dir: &Path, config: &UniSRecConfig, model: &UniSRecModel<B>) -> Result<()> {
    let cpath = dir.join(CONFIG_FILE);
    let json = serde_json::to_string_pretty(config).map_err(|e| DrafterError::format(&cpath, e))?;
    recdata::fsio::write_atomic(&cpath, json.as_bytes())?;
    let mpath = dir.join(MODEL_FILE);
    let bytes = NamedMpkBytesRecorder::<FullPrecisionSettings>::default()
        .record(model.clone().into_record(), ())
        .map_err(|e| DrafterError::format(&mpath, e))?;
    Ok(recdata::fsio::write_atomic(&mpath, &bytes)?)
}

/// Stacks the histories' text embeddings into one right-padded batch.
///
/// # Shapes
/// - output: `[histories.len(), longest, table.dim()]` and the lengths
pub(crate) fn history_batch<B: Backend>(
    table: &EmbeddingTable,
    histories: &[Vec<ItemId>],
    device: &B::Device,
) -> (Tensor<B, 3>, Vec<usize>) {
    let d = table.dim();
    let seq = histories.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let mut flat = vec![0.0f32; histories.len() * seq * d];
    for (b, h) in histories.iter().enumerate() {
        for (t, &item) in h.iter().enumerate() {
            if let Some(row) = table.get(item) {
                flat[(b * seq + t) * d..(b * seq + t + 1) * d].copy_from_slice(row);
            }
        }
    }
    let lengths = histories.iter().map(Vec::len).collect();
    (Tensor::from_data(TensorData::new(flat, [histories.len(), seq, d]), device), lengths)
}

/// Copies a 2-d tensor into row vectors.
pub(crate) fn rows_of<B: Backend>(t: Tensor<B, 2>) -> Result<Vec<f32>> {
    t.into_data().convert::<f32>().into_vec::<f32>().map_err(|e| DrafterError::Data(format!("reading tensor: {e:?}")))
}

impl<B: Backend> QueryEncoder for UniSRecEncoder<B> {
    fn name(&self) -> &str {
        "unisrec"
    }

    fn embed_queries(&self, queries: &[Query<'_>]) -> Result<Vec<Vec<f32>>> {
        let _span = tracing::debug_span!("unisrec_embed", queries = queries.len()).entered();
        let histories: Vec<Vec<ItemId>> = queries
            .iter()
            .enumerate()
            .map(|(q, query)| self.text.known_suffix(query.history, self.config.max_history, q))
            .collect::<Result<_>>()?;
        let d = self.config.d_model;
        let mut out = Vec::with_capacity(queries.len());
        for chunk in histories.chunks(QUERY_CHUNK) {
            let (text, lengths) = history_batch::<B>(&self.text, chunk, &self.device);
            let rows = rows_of(self.model.sequences(text, &lengths))?;
            out.extend(rows.chunks_exact(d).map(<[f32]>::to_vec));
        }
        Ok(out)
    }

    fn item_vectors(&self, items: &[ItemId], text: &[f32]) -> Result<Vec<f32>> {
        let d_text = self.config.d_text;
        // Validate everything before touching the table or the index.
        EmbeddingTable::new(d_text).set(items, text)?;
        let mut adapted = Vec::with_capacity(items.len() * self.config.d_model);
        for rows in text.chunks(ITEM_CHUNK * d_text) {
            let n = rows.len() / d_text;
            let x = Tensor::<B, 2>::from_data(TensorData::new(rows.to_vec(), [n, d_text]), &self.device);
            adapted.extend(rows_of(self.model.items(x))?);
        }
        Ok(adapted)
    }

    fn items_added(&mut self, items: &[ItemId], text: &[f32], _vectors: &[f32]) -> Result<()> {
        self.text.set(items, text)
    }
}
