//! Training UniSRec: cross-entropy over cosine/τ against all in-sample items,
//! Adam, early stopping on validation NDCG@10, best checkpoint saved atomically, and
//! resumption from the last checkpoint (the shared skeleton, `gr_model::train_loop`).

use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

use burn::module::AutodiffModule;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use burn::tensor::backend::AutodiffBackend;
use recdata::{Example, ItemId};

use super::drafter::{UniSRec, save_checkpoint};
use super::model::{UniSRecConfig, UniSRecModel, l2_normalize};
use super::run_state::{EpochOrder, Resumed, UniSRecState, inputs_fingerprint, resumable_state, resume, save_last};
use rec_core::{Drafter, Query};
use crate::error::DrafterError;
use rec_core::DraftFilter;
use crate::knn::KnnConfig;
use crate::table::EmbeddingTable;
use gr_model::train_loop::{AfterStep, Cadence, EarlyStopping, LastCheckpoint};

/// Optimisation settings for [`train_unisrec`].
#[derive(Config, Debug, PartialEq)]
pub struct UniSRecTrainConfig {
    /// Adam learning rate (reference: 1e-3).
    #[config(default = 1e-3)]
    pub learning_rate: f64,
    /// Examples per step (reference: 2048).
    #[config(default = 2048)]
    pub batch_size: usize,
    /// Most epochs (reference: 300).
    #[config(default = 300)]
    pub max_epochs: usize,
    /// Stop after this many epochs without a better validation NDCG@10
    /// (reference: 40; lower here to fit CPU budgets).
    #[config(default = 10)]
    pub patience: usize,
    /// Seed for initialisation, dropout, gate noise and shuffling.
    #[config(default = 42)]
    pub seed: u64,
    /// Validate on at most this many examples (evenly strided; 0 = all).
    #[config(default = 5000)]
    pub max_eval_examples: usize,
    /// Also checkpoint `last/` within an epoch each time this many minutes have passed,
    /// so that a kill loses at most that much (0: at epoch ends only). Not part of the
    /// run's identity: a run resumes with any value.
    #[config(default = 0.0)]
    pub checkpoint_minutes: f64,
}

/// What training reads.
#[derive(Clone, Copy, Debug)]
pub struct UniSRecData<'a> {
    /// Text embeddings of every item (those of unseen items are used only to rank
    /// them during validation).
    pub text: &'a EmbeddingTable,
    /// The items the softmax runs over (the in-sample items).
    pub in_sample: &'a [ItemId],
    /// Training examples; those whose target is not in `in_sample` are skipped.
    pub train: &'a [Example],
    /// Validation examples for early stopping (empty: train `max_epochs`, keep the last).
    pub valid: &'a [Example],
}

/// Recall and NDCG at 10 and 50 over a set of examples (one target each).
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EvalMetrics {
    /// Examples evaluated.
    pub examples: usize,
    /// Recall@10.
    pub recall_10: f64,
    /// NDCG@10.
    pub ndcg_10: f64,
    /// Recall@50.
    pub recall_50: f64,
    /// NDCG@50.
    pub ndcg_50: f64,
}

impl EvalMetrics {
    /// Metrics from each example's 0-based rank of its target (`None`: not in the top 50).
    pub fn from_ranks(ranks: &[Option<usize>]) -> Self {
        let n = ranks.len().max(1) as f64;
        let at = |k: usize| {
            let hits = ranks.iter().flatten().filter(|&&r| r < k);
            let (mut recall, mut ndcg) = (0.0, 0.0);
            for &r in hits {
                recall += 1.0;
                ndcg += 1.0 / ((r + 2) as f64).log2();
            }
            (recall / n, ndcg / n)
        };
        let ((recall_10, ndcg_10), (recall_50, ndcg_50)) = (at(10), at(50));
        Self { examples: ranks.len(), recall_10, ndcg_10, recall_50, ndcg_50 }
    }
}

/// Progress reported after every step and every validation.
#[derive(Clone, Debug)]
pub struct TrainProgress {
    /// 1-based epoch.
    pub epoch: usize,
    /// 1-based step within the epoch.
    pub step: usize,
    /// Steps per epoch.
    pub steps: usize,
    /// This step's loss.
    pub loss: f64,
    /// Set once per epoch, after validation.
    pub valid: Option<EvalMetrics>,
}

/// The outcome of training.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct TrainReport {
    /// Epochs run.
    pub epochs: usize,
    /// The epoch whose model was kept.
    pub best_epoch: usize,
    /// Its validation metrics.
    pub best_valid: EvalMetrics,
    /// Mean training loss per epoch.
    pub epoch_losses: Vec<f64>,
    /// Training examples per second of optimisation (validation excluded).
    pub samples_per_sec: f64,
    /// Whether the run was stopped before its end (the caller asked): it resumes from
    /// its checkpoint when trained again with the same settings.
    #[serde(default)]
    pub stopped: bool,
}

/// Each example's 0-based rank of its target among the drafter's top 50
/// (`None` when absent or when its history holds no known item).
pub fn evaluate(drafter: &dyn Drafter, examples: &[Example]) -> crate::Result<Vec<Option<usize>>> {
    let mut ranks = Vec::with_capacity(examples.len());
    for chunk in examples.chunks(256) {
        let queries: Vec<Query<'_>> = chunk.iter().map(|e| Query::new(&e.history)).collect();
        let filters = vec![DraftFilter::all(); chunk.len()];
        let lists = match drafter.draft(&queries, &filters, 50) {
            Ok(lists) => lists,
            // One unknown history should not sink the batch: retry one by one.
            Err(DrafterError::UnknownHistory { .. }) => queries
                .iter()
                .map(|q| drafter.draft(std::slice::from_ref(q), &filters[..1], 50).map(|mut v| v.remove(0)).or_else(|e| match e {
                    DrafterError::UnknownHistory { .. } => Ok(Vec::new()),
                    e => Err(e),
                }))
                .collect::<crate::Result<_>>()?,
            Err(e) => return Err(e),
        };
        ranks.extend(chunk.iter().zip(lists).map(|(e, list)| list.iter().position(|n| n.item == e.target)));
    }
    Ok(ranks)
}

/// The examples and softmax classes a run trains on.
struct Prepared {
    /// The softmax classes: in-sample items that have text.
    classes: Vec<ItemId>,
    /// Each item's class (by item index), `u32::MAX` for none.
    class_of: Vec<u32>,
    /// The usable training examples: the known suffix of the history, and the class.
    examples: Vec<(Vec<ItemId>, u32)>,
}

/// Checks the settings and builds what a run trains on (an error when nothing is usable).
fn prepare(config: &UniSRecConfig, train: &UniSRecTrainConfig, data: UniSRecData<'_>) -> crate::Result<Prepared> {
    config.validate().map_err(DrafterError::Config)?;
    if data.text.dim() != config.d_text {
        return Err(DrafterError::Dimension { what: "UniSRec text embeddings".into(), expected: config.d_text, got: data.text.dim() });
    }
    if train.batch_size == 0 || train.learning_rate <= 0.0 {
        return Err(DrafterError::Config(format!("batch_size and learning_rate must be positive: {train:?}")));
    }
    let classes: Vec<ItemId> = data.in_sample.iter().copied().filter(|&i| data.text.get(i).is_some()).collect();
    let mut class_of = vec![u32::MAX; data.text.items().iter().last().map_or(0, |i| i.index() + 1)];
    for (c, item) in classes.iter().enumerate() {
        class_of[item.index()] = c as u32;
    }
    let class = |item: ItemId| class_of.get(item.index()).copied().filter(|&c| c != u32::MAX);
    let examples: Vec<(Vec<ItemId>, u32)> = data
        .train
        .iter()
        .filter_map(|e| Some((data.text.known_suffix(&e.history, config.max_history, 0).ok()?, class(e.target)?)))
        .collect();
    if examples.is_empty() || classes.is_empty() {
        return Err(DrafterError::Data(format!(
            "no usable training example ({} given, {} in-sample items with text)",
            data.train.len(),
            classes.len()
        )));
    }
    Ok(Prepared { classes, class_of, examples })
}

/// Whether [`train_unisrec`] with these arguments would find its run in
/// `checkpoint_dir` finished (stopped early, or all its epochs done) and so change
/// nothing there. A caller that marks the directory while training runs (the CLI's
/// "unfinished" stamp) asks first, so that running the command again on a finished
/// run leaves the directory as it is, even for a moment. False for a fresh
/// directory, or for a run of other settings or inputs (training replaces or refuses it).
pub fn training_finished(
    config: &UniSRecConfig,
    train: &UniSRecTrainConfig,
    data: UniSRecData<'_>,
    checkpoint_dir: &Path,
) -> crate::Result<bool> {
    let prepared = prepare(config, train, data)?;
    let fresh = UniSRecState::fresh(config, train, inputs_fingerprint(&prepared.examples, &prepared.classes));
    let last = LastCheckpoint::new(checkpoint_dir.join("last"));
    Ok(resumable_state(&last, &fresh)?.is_some_and(|state| state.finished()))
}

/// Trains (or resumes training of) UniSRec and returns the model of the best
/// validation epoch.
///
/// When `checkpoint_dir` is given, the best model so far and its config are written
/// there atomically after every improvement, and `checkpoint_dir/last/` keeps the run
/// resumable ([`gr_model::train_loop`]): after every epoch, and at the step where
/// `progress` returns `ControlFlow::Break`, which ends the call with
/// [`TrainReport::stopped`] set. Called again with the same settings and inputs, it
/// resumes there and ends with the weights of an uninterrupted run. A finished run of
/// other settings there is trained anew; an unfinished one is refused.
pub fn train_unisrec<B: AutodiffBackend>(
    config: &UniSRecConfig,
    train: &UniSRecTrainConfig,
    data: UniSRecData<'_>,
    device: &B::Device,
    checkpoint_dir: Option<&Path>,
    progress: &mut dyn FnMut(&TrainProgress) -> ControlFlow<()>,
) -> crate::Result<(UniSRecModel<B::InnerBackend>, TrainReport)> {
    let Prepared { classes, class_of, examples } = prepare(config, train, data)?;
    let valid: Vec<Example> = strided(data.valid, train.max_eval_examples);
    let all_items: Vec<ItemId> = data.text.items().iter().collect();
    let all_text: Vec<f32> = all_items.iter().flat_map(|&i| data.text.get(i).unwrap_or(&[]).iter().copied()).collect();

    B::seed(device, train.seed);
    let mut model: UniSRecModel<B> = config.init(device);
    let mut optim = AdamConfig::new().init::<B, UniSRecModel<B>>();
    let last = checkpoint_dir.map(|dir| LastCheckpoint::new(dir.join("last")));
    let inputs = inputs_fingerprint(&examples, &classes);
    let fresh = UniSRecState::fresh(config, train, inputs);
    let (mut state, mut best_model) = match resume(last.as_ref(), &fresh, model, optim, device)? {
        Resumed::Fresh(m, o) => {
            (model, optim) = (m, o);
            let best = model.valid();
            (fresh, best)
        }
        Resumed::At(state, m, o) => {
            (model, optim) = (m, o);
            let best = match (checkpoint_dir, state.best.is_some() || valid.is_empty()) {
                (Some(dir), true) if state.epochs_done > 0 => super::drafter::load_checkpoint::<B::InnerBackend>(dir, device)?.1,
                _ => model.valid(),
            };
            (state, best)
        }
    };
    model.reseed(state.rng_state);
    // Every step adapts each known item once (the softmax classes and all
    // history items), then gathers rows; adapting every history slot separately
    // would cost ~3x more on Beauty.
    let mut row_of = vec![0u32; class_of.len().max(all_items.last().map_or(0, |i| i.index() + 1))];
    for (r, item) in all_items.iter().enumerate() {
        row_of[item.index()] = r as u32;
    }
    let all_text_t = Tensor::<B, 2>::from_data(TensorData::new(all_text.clone(), [all_items.len(), config.d_text]), device);
    let class_rows: Vec<i64> = classes.iter().map(|i| i64::from(row_of[i.index()])).collect();
    let class_rows = Tensor::<B, 1, Int>::from_data(TensorData::new(class_rows, [classes.len()]), device);

    let steps = examples.len().div_ceil(train.batch_size);
    let lengths: Vec<usize> = examples.iter().map(|e| e.0.len()).collect();
    let mut order = EpochOrder::new(train.seed, examples.len());
    // The data order of an epoch follows from the previous one: replay the epochs done
    // (host-side shuffles only).
    for _ in 0..state.epochs_done {
        order.next_epoch(&lengths, train.batch_size);
    }
    let stopping = EarlyStopping { patience: train.patience };
    let mut stopped = false;
    while !state.finished() && !stopped {
        let epoch = state.epochs_done + 1;
        let _span = tracing::info_span!("unisrec_epoch", epoch).entered();
        let batches = order.next_epoch(&lengths, train.batch_size);
        if state.batches_done == 0 {
            state.epoch_loss = 0.0;
        }
        let mut cadence = Cadence::every_minutes(train.checkpoint_minutes);
        let mut stop_after_epoch = false;
        for (step, idx) in batches.iter().enumerate().skip(state.batches_done) {
            let idx = order.batch(*idx, train.batch_size);
            let t0 = Instant::now();
            let histories: Vec<Vec<ItemId>> = idx.iter().map(|&i| examples[i].0.clone()).collect();
            let targets: Vec<i64> = idx.iter().map(|&i| i64::from(examples[i].1)).collect();
            let seq_len = histories.iter().map(Vec::len).max().unwrap_or(1);
            let lengths: Vec<usize> = histories.iter().map(Vec::len).collect();
            let row_of = &row_of;
            let slots: Vec<i64> = histories
                .iter()
                .flat_map(|h| (0..seq_len).map(move |t| h.get(t).map_or(0, |i| i64::from(row_of[i.index()]))))
                .collect();
            let slots = Tensor::<B, 1, Int>::from_data(TensorData::new(slots, [idx.len() * seq_len]), device);
            let adapted = model.adaptor.forward(all_text_t.clone()); // [all items, d_model]
            let d_model = adapted.dims()[1];
            let history_items = adapted.clone().select(0, slots).reshape([idx.len(), seq_len, d_model]);
            let seq = model.sequences_from_items(history_items, &lengths); // [b, d_model]
            let items = l2_normalize(adapted.select(0, class_rows.clone())); // [classes, d_model]
            let logits = seq.matmul(items.transpose()) / config.temperature; // [b, classes]
            let targets = Tensor::<B, 1, Int>::from_data(TensorData::new(targets, [idx.len()]), device).reshape([idx.len(), 1]);
            let loss = log_softmax(logits, 1).gather(1, targets).mean().neg();
            let loss_value = f64::from(loss.clone().into_scalar().elem::<f32>());
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(train.learning_rate, model, grads);
            state.train_secs += t0.elapsed().as_secs_f64();
            state.samples_seen += idx.len() as u64;
            state.epoch_loss += loss_value;
            state.batches_done = step + 1;
            if !loss_value.is_finite() {
                return Err(DrafterError::Data(format!("loss became {loss_value} at epoch {epoch} step {}", step + 1)));
            }
            let asked = progress(&TrainProgress { epoch, step: step + 1, steps, loss: loss_value, valid: None }).is_break();
            match cadence.after_step(asked, step, steps) {
                AfterStep::Continue => {}
                AfterStep::Checkpoint => {
                    if let Some(last) = &last {
                        state.rng_state = model.rng.state();
                        save_last(last, &model, &optim, &state)?;
                    }
                    cadence.checkpointed();
                }
                AfterStep::StopAtEpochEnd => stop_after_epoch = true,
                AfterStep::StopHere => {
                    if let Some(last) = &last {
                        state.rng_state = model.rng.state();
                        save_last(last, &model, &optim, &state)?;
                    }
                    return Ok((best_model, report(&state, true)));
                }
            }
        }
        state.epochs_done = epoch;
        state.batches_done = 0;
        state.epoch_losses.push(state.epoch_loss / steps as f64);
        state.epoch_loss = 0.0;
        if valid.is_empty() {
            // Without validation data the latest model is the best one.
            best_model = model.valid();
            if let Some(dir) = checkpoint_dir {
                save_checkpoint(dir, config, &best_model)?;
            }
        } else {
            let inner = model.valid();
            let drafter = UniSRec::new(config.clone(), inner.clone(), KnnConfig::new(config.d_model), device, &all_items, &all_text)?;
            let metrics = EvalMetrics::from_ranks(&evaluate(&drafter, &valid)?);
            let mean_loss = state.epoch_losses[epoch - 1];
            tracing::info!(epoch, loss = mean_loss, ndcg_10 = metrics.ndcg_10, recall_50 = metrics.recall_50, "validated");
            state.validations.push(super::run_state::UniSRecValidation { epoch, samples_seen: state.samples_seen, metrics });
            let asked = progress(&TrainProgress { epoch, step: steps, steps, loss: mean_loss, valid: Some(metrics) }).is_break();
            stop_after_epoch |= asked;
            let verdict = stopping.observe(&mut state.best, &mut state.since_best, metrics.ndcg_10, epoch);
            if verdict.improved {
                (state.best_valid, best_model) = (metrics, inner);
                if let Some(dir) = checkpoint_dir {
                    save_checkpoint(dir, config, &best_model)?;
                }
            } else {
                state.stopped_early = verdict.stop;
            }
        }
        if let Some(last) = &last {
            state.rng_state = model.rng.state();
            save_last(last, &model, &optim, &state)?;
        }
        stopped = stop_after_epoch;
    }
    let stopped = !state.finished();
    Ok((best_model, report(&state, stopped)))
}

/// The report of a run in `state`; `stopped` when it was stopped before its end.
fn report(state: &UniSRecState, stopped: bool) -> TrainReport {
    TrainReport {
        epochs: state.epochs_done,
        // Without validation data the latest model is the best one.
        best_epoch: state.best.map_or(state.epochs_done, |(_, e)| e),
        best_valid: state.best_valid,
        epoch_losses: state.epoch_losses.clone(),
        samples_per_sec: state.samples_seen as f64 / state.train_secs.max(1e-9),
        stopped,
    }
}

/// At most `max` examples, evenly strided (all when `max` is 0 or larger).
fn strided(examples: &[Example], max: usize) -> Vec<Example> {
    if max == 0 || examples.len() <= max {
        return examples.to_vec();
    }
    (0..max).map(|i| examples[i * examples.len() / max].clone()).collect()
}
