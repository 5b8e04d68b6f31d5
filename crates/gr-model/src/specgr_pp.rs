//! [`SpecGrPp`]: TIGER with the SpecGR++ projection head, its checkpoints, and the
//! embedding losses of its two training stages.
//!
//! A checkpoint directory holds TIGER's own `config.json` + `model.mpk` (so
//! [`Tiger::load`] reads it as a plain TIGER model), the head as `projection.json` +
//! `projection.mpk`, and the item vectors the drafter searches as
//! `item_embeddings.f32` (row-major little-endian `f32`) + `item_embeddings.json`.
//! A TIGER checkpoint without the head stays loadable everywhere.

use std::path::Path;

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use semid::SemanticIds;

use crate::checkpoint::{load_checked, read, record_bytes, write_atomic};
use crate::ops::log_softmax3;
use crate::projection::{ProjectionConfig, ProjectionHead, to_flat, to_rows};
use crate::{EncoderOutput, Tiger, TigerError};

/// The head's config inside a checkpoint directory.
pub const PROJECTION_CONFIG_FILE: &str = "projection.json";
/// The head's weights inside a checkpoint directory.
pub const PROJECTION_FILE: &str = "projection.mpk";
/// The item vectors' shape inside a checkpoint directory.
pub const ITEMS_META_FILE: &str = "item_embeddings.json";
/// The item vectors inside a checkpoint directory.
pub const ITEMS_FILE: &str = "item_embeddings.f32";

/// TIGER plus the SpecGR++ projection head: the verifier that drafts for itself.
#[derive(Module, Debug)]
pub struct SpecGrPp<B: Backend> {
    /// The encoder-decoder.
    pub tiger: Tiger<B>,
    /// Mean-pooled encoder states to unit vectors.
    pub head: ProjectionHead<B>,
}

/// Item vectors of every item with a semantic ID, in item order, unit L2 norm.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ItemEmbeddings {
    /// Number of items.
    pub num_items: usize,
    /// Width of one vector.
    pub dim: usize,
    /// `num_items * dim` floats, row-major.
    #[serde(skip)]
    pub rows: Vec<f32>,
}

impl ItemEmbeddings {
    /// The vector of item `item`.
    pub fn row(&self, item: usize) -> &[f32] {
        &self.rows[item * self.dim..(item + 1) * self.dim]
    }

    /// Writes the vectors, then the shape that vouches for them (both atomically).
    pub fn save(&self, dir: &Path) -> Result<(), TigerError> {
        let bytes: Vec<u8> = self.rows.iter().flat_map(|x| x.to_le_bytes()).collect();
        write_atomic(&dir.join(ITEMS_FILE), &bytes)?;
        let meta_path = dir.join(ITEMS_META_FILE);
        let meta = serde_json::to_vec_pretty(self).map_err(|source| TigerError::Json {
            path: meta_path.clone(),
            source,
        })?;
        Ok(write_atomic(&meta_path, &meta)?)
    }

    /// Reads vectors written by [`ItemEmbeddings::save`].
    pub fn load(dir: &Path) -> Result<Self, TigerError> {
        let meta_path = dir.join(ITEMS_META_FILE);
        let mut meta: Self =
            serde_json::from_slice(&read(&meta_path)?).map_err(|source| TigerError::Json {
                path: meta_path,
                source,
            })?;
        let path = dir.join(ITEMS_FILE);
        let bytes = read(&path)?;
        if bytes.len() != meta.num_items * meta.dim * 4 {
            return Err(TigerError::Record {
                path,
                message: format!(
                    "{} bytes, expected {} items x {} dims x 4",
                    bytes.len(),
                    meta.num_items,
                    meta.dim
                ),
            });
        }
        meta.rows = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Ok(meta)
    }
}

impl<B: Backend> SpecGrPp<B> {
    /// Query vectors of an encoder pass already made (one row per query), for
    /// `crate::TigerVerifier::with_query_embedding`.
    pub fn query_vectors(&self, encoded: &EncoderOutput<B>) -> Result<Vec<Vec<f32>>, TigerError> {
        let _span = tracing::trace_span!("specgr_pp_query_vectors").entered();
        to_rows(self.head.embed_encoded(encoded))
    }

    /// Embeds every item of `ids`, `batch_size` at a time.
    pub fn embed_all_items(
        &self,
        ids: &SemanticIds,
        batch_size: usize,
        device: &B::Device,
    ) -> Result<ItemEmbeddings, TigerError> {
        let _span = tracing::debug_span!("specgr_pp_embed_items", items = ids.len()).entered();
        let all: Vec<u32> = (0..ids.len() as u32).collect();
        let mut rows = Vec::with_capacity(ids.len() * self.head.proj_dim());
        for chunk in all.chunks(batch_size.max(1)) {
            rows.extend(to_flat(
                self.tiger.embed_items(&self.head, chunk, ids, device)?,
            )?);
        }
        Ok(ItemEmbeddings {
            num_items: ids.len(),
            dim: self.head.proj_dim(),
            rows,
        })
    }

    /// Saves TIGER and the head into `dir` (TIGER's files stay a valid TIGER checkpoint).
    pub fn save(&self, dir: &Path) -> Result<(), TigerError> {
        self.tiger.save(dir)?;
        let head_path = dir.join(PROJECTION_FILE);
        let bytes = record_bytes::<B, _>(self.head.clone().into_record(), &head_path)?;
        write_atomic(&head_path, &bytes)?;
        let config =
            ProjectionConfig::new(self.tiger.config.d_model).with_proj_dim(self.head.proj_dim());
        let config_path = dir.join(PROJECTION_CONFIG_FILE);
        let json = serde_json::to_vec_pretty(&config).map_err(|source| TigerError::Json {
            path: config_path.clone(),
            source,
        })?;
        Ok(write_atomic(&config_path, &json)?)
    }

    /// Whether `dir` holds a projection head (else it is a plain TIGER checkpoint).
    pub fn has_head(dir: &Path) -> bool {
        dir.join(PROJECTION_CONFIG_FILE).exists() && dir.join(PROJECTION_FILE).exists()
    }

    /// Loads a checkpoint written by [`SpecGrPp::save`].
    pub fn load(dir: &Path, device: &B::Device) -> Result<Self, TigerError> {
        let tiger = Tiger::load(dir, device)?;
        let config_path = dir.join(PROJECTION_CONFIG_FILE);
        let config: ProjectionConfig =
            serde_json::from_slice(&read(&config_path)?).map_err(|source| TigerError::Json {
                path: config_path.clone(),
                source,
            })?;
        if config.d_model != tiger.config.d_model {
            return Err(TigerError::ConfigMismatch {
                path: config_path,
                field: "d_model".into(),
                found: config.d_model.to_string(),
                expected: tiger.config.d_model.to_string(),
            });
        }
        let head = load_checked(
            config.init::<B>(device)?,
            &dir.join(PROJECTION_FILE),
            &config_path.display().to_string(),
            device,
        )?;
        Ok(Self { tiger, head })
    }

    /// Loads TIGER from `dir` with the head found there, or a fresh head from
    /// `head_config` when `dir` is a plain TIGER checkpoint.
    pub fn load_or_new_head(
        dir: &Path,
        head_config: &ProjectionConfig,
        device: &B::Device,
    ) -> Result<Self, TigerError> {
        if Self::has_head(dir) {
            return Self::load(dir, device);
        }
        Ok(Self {
            tiger: Tiger::load(dir, device)?,
            head: head_config.init(device)?,
        })
    }
}

/// Softmax cross-entropy of retrieving each query's label among `table`'s rows by
/// cosine / `temperature` (InfoNCE with in-batch negatives when `table` holds the
/// batch's targets; the learning-to-rank loss when it holds every in-sample item).
///
/// # Shapes
///
/// - queries: `[rows, dim]` (unit rows); table: `[items, dim]`; labels: `[rows]`
/// - output: `[1]`
pub fn retrieval_loss<B: Backend>(
    queries: Tensor<B, 2>,
    table: Tensor<B, 2>,
    labels: Tensor<B, 1, Int>,
    temperature: f64,
) -> Tensor<B, 1> {
    retrieval_loss_with_bias(queries, table, labels, temperature, None)
}

/// [`retrieval_loss`] with `column_bias[j]` added to every logit of table row `j`
/// (`[items]`): with `-ln Q_j`, `Q_j` how often item `j` appears among in-batch
/// negatives, it is the sampling-bias-corrected in-batch softmax (logQ correction,
/// Yi et al., RecSys 2019), whose optimum is the full softmax's and no longer
/// discounts popular items.
pub fn retrieval_loss_with_bias<B: Backend>(
    queries: Tensor<B, 2>,
    table: Tensor<B, 2>,
    labels: Tensor<B, 1, Int>,
    temperature: f64,
    column_bias: Option<Tensor<B, 1>>,
) -> Tensor<B, 1> {
    let [rows, _] = queries.dims();
    let [items, _] = table.dims();
    let mut logits = queries.matmul(table.transpose()).div_scalar(temperature); // [rows, items]
    if let Some(bias) = column_bias {
        logits = logits + bias.reshape([1, items]);
    }
    let log_probs = log_softmax3(logits.reshape([1, rows, items])).reshape([rows, items]);
    let picked = log_probs.gather(1, labels.reshape([rows, 1])); // [rows, 1]
    picked.mean().neg()
}

/// The distinct items of `targets` in first-seen order, and each target's index
/// among them: the label of every example in an in-batch InfoNCE. (A repeated item
/// is one column, so no example counts its own target as a negative.)
pub fn unique_targets(targets: &[u32]) -> (Vec<u32>, Vec<i64>) {
    let mut items = Vec::new();
    let mut index = std::collections::HashMap::new();
    let labels = targets
        .iter()
        .map(|&t| {
            *index.entry(t).or_insert_with(|| {
                items.push(t);
                items.len() - 1
            }) as i64
        })
        .collect();
    (items, labels)
}

/// An `Int` tensor of labels.
pub(crate) fn labels_tensor<B: Backend>(labels: Vec<i64>, device: &B::Device) -> Tensor<B, 1, Int> {
    let n = labels.len();
    Tensor::from_data(TensorData::new(labels, [n]), device)
}

/// Encoder-retrieval quality: each example's history embedding against every row of
/// `items` (exact inner product), Recall@K and NDCG@K of its target for each K in
/// `ks`. The target's rank is 1 + the number of items scoring strictly higher.
pub fn evaluate_retrieval<B: Backend>(
    model: &SpecGrPp<B>,
    items: &ItemEmbeddings,
    ids: &SemanticIds,
    examples: &[crate::TrainExample],
    ks: &[usize],
    batch_size: usize,
    device: &B::Device,
) -> Result<Vec<crate::RankingMetrics>, TigerError> {
    let _span = tracing::debug_span!("specgr_pp_retrieval", examples = examples.len()).entered();
    if items.dim != model.head.proj_dim() {
        return Err(TigerError::InvalidConfig(format!(
            "item embeddings have {} dimensions, the projection head {}",
            items.dim,
            model.head.proj_dim()
        )));
    }
    let table = Tensor::<B, 2>::from_data(
        TensorData::new(items.rows.clone(), [items.num_items, items.dim]),
        device,
    )
    .transpose(); // [dim, items]
    let mut ranks = Vec::with_capacity(examples.len());
    for chunk in examples.chunks(batch_size.max(1)) {
        let histories: Vec<&[u32]> = chunk.iter().map(|e| e.history.as_slice()).collect();
        for (i, e) in chunk.iter().enumerate() {
            if e.target as usize >= items.num_items {
                return Err(TigerError::Data(format!(
                    "validation example {i} of a batch: target {} has no item embedding ({} items)",
                    e.target, items.num_items
                )));
            }
        }
        let queries = model
            .tiger
            .embed_histories(&model.head, &histories, ids, device)?;
        let scores = queries.matmul(table.clone()); // [rows, items]
        let targets =
            labels_tensor::<B>(chunk.iter().map(|e| i64::from(e.target)).collect(), device);
        let target_scores = scores.clone().gather(1, targets.reshape([chunk.len(), 1])); // [rows, 1]
        let higher = (scores - target_scores)
            .greater_elem(0.0)
            .float()
            .sum_dim(1); // [rows, 1]
        ranks.extend(to_flat(higher)?.into_iter().map(|h| Some(h as usize + 1)));
    }
    Ok(ks
        .iter()
        .map(|&k| crate::eval::metrics_at(&ranks, k))
        .collect())
}
