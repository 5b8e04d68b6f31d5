//! Files of a SpecGR++ training run: the resumable `last/` checkpoint (the shared
//! [`crate::train_loop`] layout), the best model with its item vectors, and stage 2's
//! frozen item vectors.

use std::path::Path;

use burn::module::AutodiffModule;
use burn::optim::Optimizer;
use burn::tensor::backend::{AutodiffBackend, Backend};
use semid::SemanticIds;

use crate::train_loop::{LastCheckpoint, stem};
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

/// Writes `last/` ([`LastCheckpoint::save`]) at the point the state describes.
pub(crate) fn save_last<B: AutodiffBackend, O: Optimizer<SpecGrPp<B>, B>>(
    model: &SpecGrPp<B>,
    optim: &O,
    state: &SpecGrPpState,
    last: &LastCheckpoint,
) -> Result<(), TigerError> {
    last.save::<B, _, _, _>(model, optim, state, &stem(state.epochs_done, state.batches_done))
}
