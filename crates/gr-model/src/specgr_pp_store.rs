//! Files of a SpecGR++ training run: the resumable `last/` checkpoint, the best
//! model with its item vectors, and stage 2's frozen item vectors.

use std::path::Path;

use burn::module::{AutodiffModule, Module};
use burn::optim::Optimizer;
use burn::tensor::backend::{AutodiffBackend, Backend};
use semid::SemanticIds;

use crate::checkpoint::{read, record_bytes, write_atomic};
use crate::specgr_pp::ItemEmbeddings;
use crate::specgr_pp_config::{SpecGrPpState, SpecGrPpTrainConfig};
use crate::{SpecGrPp, TigerError};

/// Stage 2's frozen item vectors: read from `dir` when a previous attempt wrote
/// them, else computed from the starting model and written there.
pub(crate) fn frozen_items<B: AutodiffBackend>(
    model: &SpecGrPp<B>,
    ids: &SemanticIds,
    config: &SpecGrPpTrainConfig,
    dir: &Path,
    device: &B::Device,
) -> Result<ItemEmbeddings, TigerError> {
    if dir.join(crate::specgr_pp::ITEMS_META_FILE).exists() {
        let items = ItemEmbeddings::load(dir)?;
        if items.num_items == ids.len() && items.dim == model.head.proj_dim() {
            return Ok(items);
        }
        return Err(TigerError::InvalidConfig(format!(
            "{}: frozen item vectors are {} x {}, expected {} x {}; use a new run directory",
            dir.display(),
            items.num_items,
            items.dim,
            ids.len(),
            model.head.proj_dim()
        )));
    }
    let items = model
        .valid()
        .embed_all_items(ids, config.eval_batch_size, device)?;
    items.save(dir)?;
    Ok(items)
}

/// Writes the best model and the item vectors its drafter searches.
pub(crate) fn save_best<B: Backend>(
    model: &SpecGrPp<B>,
    items: &ItemEmbeddings,
    dir: &Path,
) -> Result<(), TigerError> {
    model.save(dir)?;
    items.save(dir)
}

pub(crate) fn read_state(dir: &Path) -> Result<Option<SpecGrPpState>, TigerError> {
    let path = dir.join("state.json");
    if !path.exists() {
        return Ok(None);
    }
    serde_json::from_slice(&read(&path)?)
        .map(Some)
        .map_err(|source| TigerError::Json { path, source })
}

/// Writes the model and optimizer of this epoch, then the state that points at them,
/// then removes the files of older epochs.
pub(crate) fn save_last<B: AutodiffBackend, O: Optimizer<SpecGrPp<B>, B>>(
    model: &SpecGrPp<B>,
    optim: &O,
    state: &SpecGrPpState,
    dir: &Path,
) -> Result<(), TigerError> {
    let epoch = state.epochs_done;
    let model_path = dir.join(format!("model-{epoch}.mpk"));
    write_atomic(
        &model_path,
        &record_bytes::<B, _>(model.clone().into_record(), &model_path)?,
    )?;
    let optim_path = dir.join(format!("optim-{epoch}.mpk"));
    write_atomic(
        &optim_path,
        &record_bytes::<B, _>(optim.to_record(), &optim_path)?,
    )?;
    let state_path = dir.join("state.json");
    let json = serde_json::to_vec_pretty(state).map_err(|source| TigerError::Json {
        path: state_path.clone(),
        source,
    })?;
    write_atomic(&state_path, &json)?;
    let keep = [format!("model-{epoch}.mpk"), format!("optim-{epoch}.mpk")];
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if !keep.contains(&name) && name.ends_with(".mpk") {
                // A leftover of an older epoch; failing to delete it is harmless.
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    Ok(())
}
