//! The resumable state of a UniSRec run: what `last/state.json` holds, how a run
//! resumes from it (through the shared `gr_model::train_loop` skeleton), and the data
//! order of each epoch, rebuilt on resumption by replaying the earlier epochs.

use burn::optim::Optimizer;
use burn::tensor::backend::AutodiffBackend;
use gr_model::TigerError;
use gr_model::train_loop::{Fingerprint, LastCheckpoint, config_differences, stem};
use recdata::ItemId;

use super::model::{UniSRecConfig, UniSRecModel};
use super::train::{EvalMetrics, UniSRecTrainConfig};
use crate::error::DrafterError;
use crate::rng::Rng;

/// The persistent part of a UniSRec run, `<checkpoint_dir>/last/state.json` (the
/// shared [`gr_model::train_loop`] layout, beside `model-<stem>.mpk` and
/// `optim-<stem>.mpk`).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UniSRecState {
    /// Model config of the run.
    pub model: UniSRecConfig,
    /// Training config of the run.
    #[serde(deserialize_with = "train_config_with_defaults")]
    pub train: UniSRecTrainConfig,
    /// Fingerprint of what the run trains on (the usable examples and the softmax
    /// classes): a run is resumed only with the same inputs.
    pub inputs: u64,
    /// Epochs completed.
    pub epochs_done: usize,
    /// Batches of the next epoch completed (0 at an epoch boundary).
    pub batches_done: usize,
    /// Loss sum of the epoch in progress.
    pub epoch_loss: f64,
    /// The state of the model's generator (dropout masks and gate noise) at the
    /// checkpoint; a run starts it from the seed.
    pub rng_state: u64,
    /// Best validation NDCG@10 so far and its epoch (from 1).
    pub best: Option<(f64, usize)>,
    /// The best epoch's validation metrics.
    pub best_valid: EvalMetrics,
    /// Validations since the best one.
    pub since_best: usize,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
    /// Mean training loss of each completed epoch.
    pub epoch_losses: Vec<f64>,
    /// Seconds of optimisation and examples trained on so far (throughput).
    pub train_secs: f64,
    /// Training examples seen over the whole run.
    pub samples_seen: u64,
    /// Every validation so far, in order: the learning curve (`specgr plot curve`).
    /// Empty in states written before it was recorded.
    #[serde(default)]
    pub validations: Vec<UniSRecValidation>,
}

/// One validation of a UniSRec run.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UniSRecValidation {
    /// The epoch it followed (from 1).
    pub epoch: usize,
    /// Training examples seen before it.
    pub samples_seen: u64,
    /// Its metrics.
    pub metrics: EvalMetrics,
}

impl UniSRecState {
    /// The state of a run not started yet.
    pub(crate) fn fresh(model: &UniSRecConfig, train: &UniSRecTrainConfig, inputs: u64) -> Self {
        Self {
            model: model.clone(),
            train: train.clone(),
            inputs,
            epochs_done: 0,
            batches_done: 0,
            epoch_loss: 0.0,
            rng_state: train.seed,
            best: None,
            best_valid: EvalMetrics::default(),
            since_best: 0,
            stopped_early: false,
            epoch_losses: Vec::new(),
            train_secs: 0.0,
            samples_seen: 0,
            validations: Vec::new(),
        }
    }

    /// Whether the run has nothing left to do.
    pub fn finished(&self) -> bool {
        self.stopped_early || self.epochs_done >= self.train.max_epochs
    }
}

/// Where a run starts: afresh, or at the checkpoint in `last`.
pub(crate) enum Resumed<B: AutodiffBackend, O> {
    Fresh(UniSRecModel<B>, O),
    At(UniSRecState, UniSRecModel<B>, O),
}

/// Loads `last/` when it holds a run of `fresh`'s settings and inputs. A finished run
/// of other settings is removed (a new training replaces it, as the best model in the
/// directory above is replaced); an unfinished one is refused, naming what differs.
pub(crate) fn resume<B: AutodiffBackend, O: Optimizer<UniSRecModel<B>, B>>(
    last: Option<&LastCheckpoint>,
    fresh: &UniSRecState,
    model: UniSRecModel<B>,
    optim: O,
    device: &B::Device,
) -> crate::Result<Resumed<B, O>> {
    let checkpoint = |e: TigerError| DrafterError::Checkpoint(Box::new(e));
    let Some(last) = last else { return Ok(Resumed::Fresh(model, optim)) };
    if let Some(state) = resumable_state(last, fresh)? {
        let stem = stem(state.epochs_done, state.batches_done);
        let (model, optim) = last.load::<B, _, _>(model, optim, &stem, device).map_err(checkpoint)?;
        tracing::info!(epoch = state.epochs_done, batches = state.batches_done, "resuming UniSRec training");
        return Ok(Resumed::At(state, model, optim));
    }
    let Some(state) = last.read_state::<UniSRecState>().map_err(checkpoint)? else {
        return Ok(Resumed::Fresh(model, optim));
    };
    let differs = settings_differences(&state, fresh);
    if state.finished() {
        tracing::info!(dir = %last.dir().display(), "a finished UniSRec run of other settings: training anew");
        last.remove().map_err(checkpoint)?;
        return Ok(Resumed::Fresh(model, optim));
    }
    Err(DrafterError::Config(format!(
        "{}: an unfinished UniSRec run of other settings ({differs}); resume it with its settings, or move {} \
         aside to train anew",
        last.state_path().display(),
        last.dir().display()
    )))
}

/// The state a run of `fresh`'s settings and inputs resumes at: `last/state.json`
/// with the training config of now (which may differ from the run's only in
/// `checkpoint_minutes`), or `None` when there is none or it is a run of other
/// settings (another `max_epochs` included) or inputs.
pub(crate) fn resumable_state(last: &LastCheckpoint, fresh: &UniSRecState) -> crate::Result<Option<UniSRecState>> {
    let state = last.read_state::<UniSRecState>().map_err(|e| DrafterError::Checkpoint(Box::new(e)))?;
    Ok(state.filter(|s| settings_differences(s, fresh).is_empty()).map(|s| UniSRecState { train: fresh.train.clone(), ..s }))
}

/// Reads a run's training config, giving fields added since it was written the value
/// that reproduces how it was trained (`checkpoint_minutes`: 0, at epoch ends only).
/// Burn's `Config` derive has no serde defaults of its own.
fn train_config_with_defaults<'de, D: serde::Deserializer<'de>>(d: D) -> Result<UniSRecTrainConfig, D::Error> {
    let mut value = <serde_json::Value as serde::Deserialize>::deserialize(d)?;
    if let Some(map) = value.as_object_mut() {
        map.entry("checkpoint_minutes").or_insert(serde_json::json!(0.0));
    }
    serde_json::from_value(value).map_err(serde::de::Error::custom)
}

/// `field: run's value, now value` for each setting in which a saved run differs
/// (`checkpoint_minutes` is not one: a run resumes with any checkpoint cadence).
fn settings_differences(run: &UniSRecState, now: &UniSRecState) -> String {
    let mut out = config_differences(&run.model, &now.model);
    let run_train = UniSRecTrainConfig { checkpoint_minutes: now.train.checkpoint_minutes, ..run.train.clone() };
    out.extend(config_differences(&run_train, &now.train));
    if run.inputs != now.inputs {
        out.push("the training examples or in-sample items".into());
    }
    out.join("; ")
}

pub(crate) fn save_last<B: AutodiffBackend, O: Optimizer<UniSRecModel<B>, B>>(
    last: &LastCheckpoint,
    model: &UniSRecModel<B>,
    optim: &O,
    state: &UniSRecState,
) -> crate::Result<()> {
    last.save::<B, _, _, _>(model, optim, state, &stem(state.epochs_done, state.batches_done))
        .map_err(|e| DrafterError::Checkpoint(Box::new(e)))
}

/// A fingerprint of a run's inputs: the usable examples (history and class) and the
/// softmax classes.
pub(crate) fn inputs_fingerprint(examples: &[(Vec<ItemId>, u32)], classes: &[ItemId]) -> u64 {
    let mut f = Fingerprint::new();
    f.eat_u32(classes.len() as u32);
    classes.iter().for_each(|c| f.eat_u32(c.0));
    for (history, class) in examples {
        f.eat_u32(history.len() as u32);
        history.iter().for_each(|i| f.eat_u32(i.0));
        f.eat_u32(*class);
    }
    f.finish()
}

/// The data order of successive epochs: one seeded generator for the whole run, each
/// epoch shuffling the previous epoch's order, so an epoch's order is rebuilt by
/// replaying the ones before it.
pub(crate) struct EpochOrder {
    rng: Rng,
    order: Vec<usize>,
}

impl EpochOrder {
    pub(crate) fn new(seed: u64, n: usize) -> Self {
        Self { rng: Rng::new(seed), order: (0..n).collect() }
    }

    /// The next epoch's batches, as batch numbers in the order they run
    /// ([`EpochOrder::batch`] gives their examples).
    pub(crate) fn next_epoch(&mut self, lengths: &[usize], batch_size: usize) -> Vec<usize> {
        self.rng.shuffle(&mut self.order);
        // Batches of similar history lengths waste little work on padding: sort
        // windows of 32 batches by length, then shuffle the batches.
        for window in self.order.chunks_mut(batch_size * 32) {
            window.sort_by_key(|&i| lengths[i]);
        }
        let mut batches: Vec<usize> = (0..self.order.len().div_ceil(batch_size)).collect();
        self.rng.shuffle(&mut batches);
        batches
    }

    /// The examples of batch `b` of the current epoch.
    pub(crate) fn batch(&self, b: usize, batch_size: usize) -> &[usize] {
        let start = b * batch_size;
        &self.order[start..(start + batch_size).min(self.order.len())]
    }
}
