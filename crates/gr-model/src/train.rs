//! Training TIGER: AdamW with warm-up and cosine decay (or a constant rate), gradient
//! clipping, seeded shuffling (optionally into length-sorted batches), periodic
//! validation with constrained beam search, best checkpoint, early stopping, and
//! resumption from the last checkpoint (the end of an epoch, or a point within one
//! every [`TrainConfig::checkpoint_minutes`]).
//!
//! Run directory layout: `best/` (a [`Tiger::save`] checkpoint of the best model),
//! `last/` (`model-<epoch>[-<batch>].mpk`, `optim-<epoch>[-<batch>].mpk` and
//! `state.json`, which is written last and names them, so a kill at any point leaves
//! the previous complete checkpoint in force).

use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

use burn::config::Config;
use burn::grad_clipping::GradientClippingConfig;
use burn::module::{AutodiffModule, Module, ModuleVisitor, Param};
use burn::optim::{AdamWConfig, GradientsAccumulator, GradientsParams, Optimizer};
use burn::tensor::{ElementConversion, Tensor};
use burn::tensor::backend::AutodiffBackend;
use semid::{PrefixTrie, SemanticIds};

use crate::batch::validate_examples;
use crate::checkpoint::check_same_config;
use crate::data_parallel::{DataParallel, GlobalClip};
use crate::eval::{RankingMetrics, evaluate};
use crate::schedule::{LrDecay, LrSchedule, interleave_for_shards, length_sorted_batches, shuffled};
use crate::train_loop::{
    AfterStep, Cadence, EarlyStopping, Fingerprint, LastCheckpoint, config_differences, epoch_dropout_seed, stem,
};
use crate::{MatmulPrecision, Tiger, TigerConfig, TigerError, TrainBatch, TrainExample};

/// Hyper-parameters of a training run.
#[derive(Config, Debug, PartialEq)]
pub struct TrainConfig {
    /// Peak learning rate (reference: 1e-3).
    #[config(default = 1e-3)]
    pub lr: f64,
    /// AdamW decoupled weight decay (reference: 0.05).
    #[config(default = 0.05)]
    pub weight_decay: f64,
    /// Examples per step (reference: 256).
    #[config(default = 256)]
    pub batch_size: usize,
    /// Most epochs to run.
    #[config(default = 200)]
    pub max_epochs: usize,
    /// Share of all steps spent warming the learning rate up linearly (reference: 10k of 200k).
    #[config(default = 0.05)]
    pub warmup_fraction: f64,
    /// Gradient-norm clipping threshold ([`grad_clip`](Self::grad_clip) says of what).
    #[config(default = 1.0)]
    pub grad_clip_norm: f32,
    /// What `grad_clip_norm` bounds: each parameter tensor's gradient on its own (Burn's
    /// clipping; the default, so older runs resume as they were) or the norm of all
    /// gradients together (PyTorch's `clip_grad_norm_`, which the published TIGER
    /// reproductions use).
    #[config(default = "GradClip::PerTensor")]
    pub grad_clip: GradClip,
    /// Adam's epsilon (Burn's default 1e-5; PyTorch's 1e-8).
    #[config(default = 1e-5)]
    pub adam_epsilon: f32,
    /// Validate every this many epochs (and after the last one).
    #[config(default = 5)]
    pub eval_every: usize,
    /// Stop after this many validations without improvement.
    #[config(default = 4)]
    pub patience: usize,
    /// Cut-off of the validation metric (NDCG@K, reference `ndcg_10`).
    #[config(default = 10)]
    pub eval_k: usize,
    /// Beam size for validation (at least `eval_k`).
    #[config(default = 20)]
    pub eval_beam_size: usize,
    /// Queries per validation batch.
    #[config(default = 64)]
    pub eval_batch_size: usize,
    /// Validate on at most this many validation examples (the first ones; 0: all).
    /// Beam search costs tens of milliseconds per query on a CPU.
    #[config(default = 0)]
    pub eval_limit: usize,
    /// Seed for initialisation, shuffling and dropout.
    #[config(default = 42)]
    pub seed: u64,
    /// Splits each batch into this many equal shards whose forward and backward passes
    /// run on their own threads (each with its own autodiff graph); their gradients,
    /// weighted by shard size, are summed into one update. That is the whole batch's
    /// gradient up to rounding, so the numbers depend on this setting but not on how
    /// many cores run the shards. Small models leave all but one core idle otherwise.
    /// A run may be resumed with another value (to use more or fewer cores): the
    /// updates stay the same up to rounding and dropout draws (each shard draws its
    /// own masks), so it then continues close to, not bit-identically with, an
    /// uninterrupted run; a warning says so. On several devices ([`train_on_devices`])
    /// it is the device count: each device computes one shard, with the same numbers.
    #[config(default = 1)]
    pub shards: usize,
    /// What the learning rate does after the warm-up: cosine decay to zero at
    /// `max_epochs` (the reference), or constant (the published TIGER reproductions).
    #[config(default = "LrDecay::Cosine")]
    pub lr_decay: LrDecay,
    /// Warm-up steps; 0 means `warmup_fraction` of all steps.
    #[config(default = 0)]
    pub warmup_steps: usize,
    /// Cut each epoch's shuffled order into runs of this many batches and sort each run
    /// by history length before batching ([`length_sorted_batches`]), so batches carry
    /// little padding; 0 keeps plain shuffled batches. Beauty histories average 27 real
    /// tokens of up to 82, so a shuffled batch is two-thirds padding.
    #[config(default = 0)]
    pub sort_window: usize,
    /// The validation metric that chooses `best/` and drives early stopping.
    #[config(default = "SelectMetric::Ndcg")]
    pub select_by: SelectMetric,
    /// Also checkpoint `last/` within an epoch once this many minutes have passed since
    /// the last checkpoint (0: only at the end of each epoch). A resumed run continues
    /// from that batch with the same numbers. Not part of a run's identity: a run may
    /// be resumed with another value.
    #[config(default = 0.0)]
    pub checkpoint_minutes: f64,
    /// Start a new run from another run's checkpoint instead of fresh weights: the
    /// directory of its `last/` (model, optimiser state and `state.json`), e.g. to fork
    /// a constant-rate run into a learning-rate cool-down (`LrDecay::Cosine` over a few
    /// epochs, one warm-up step). The model config and the training inputs must be the
    /// source's; the schedule, step count and epochs start from zero, the optimiser's
    /// moments and step count carry on, and `samples_seen` counts on from the source's,
    /// so a learning curve's x axis stays the examples the model has seen. Epoch `e` of
    /// the new run shuffles as epoch `e` of any run with its seed. Part of the run's
    /// identity (a resumed fork must name the same source).
    pub init_from: Option<String>,
    /// The training-input fingerprint ([`inputs_fingerprint`]) the `init_from` source
    /// must carry when this run trains on other examples than its source did: a
    /// fine-tune on part of the source's data (e.g. the newest examples, nearest a
    /// chronological split's validation period). `None`: the source trained on this
    /// run's own inputs, as a cool-down fork does. Either way a source trained on other
    /// semantic IDs is refused. Part of the run's identity, as `init_from`.
    pub init_from_inputs: Option<u64>,
    /// The precision of the model's linear maps while training ([`MatmulPrecision`]):
    /// float32 (the default) or bfloat16 products with float32 accumulation, parameters
    /// and optimiser state, as `torch.autocast` trains (the reference trains SpecGR++,
    /// not necessarily TIGER, in bf16).
    /// Validation runs in float32 either way, so validation curves stay comparable.
    /// Not part of a run's identity: a run may be resumed in the other precision (a
    /// warning says so), e.g. a float32 run continued in bfloat16 where that is faster.
    #[config(default = "MatmulPrecision::F32")]
    pub matmul: MatmulPrecision,
}

/// How gradients are clipped to [`TrainConfig::grad_clip_norm`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GradClip {
    /// Each parameter tensor's gradient scaled to at most the norm on its own (Burn's
    /// `GradientClippingConfig::Norm`).
    #[default]
    PerTensor,
    /// All gradients scaled by one factor so that their joint norm is at most the norm
    /// (PyTorch's `torch.nn.utils.clip_grad_norm_`).
    Global,
}

impl std::str::FromStr for GradClip {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "per-tensor" => Ok(Self::PerTensor),
            "global" => Ok(Self::Global),
            other => Err(format!("unknown gradient clipping `{other}` (per-tensor, global)")),
        }
    }
}

/// Scales `grads` (of `model`'s parameters) by `min(1, max_norm / (‖g‖ + FLT_MIN))`,
/// ‖g‖ the norm of all of them together: PyTorch's `clip_grad_norm_` (its
/// `1e-6` guard aside). The factor stays on the device: no synchronisation.
pub fn clip_global_norm<B: AutodiffBackend, M: Module<B>>(
    model: &M,
    mut grads: GradientsParams,
    max_norm: f32,
) -> GradientsParams {
    struct SumSquares<'a, B: AutodiffBackend> {
        grads: &'a GradientsParams,
        total: Option<Tensor<B::InnerBackend, 1>>,
    }
    impl<B: AutodiffBackend> ModuleVisitor<B> for SumSquares<'_, B> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            if let Some(g) = self.grads.get::<B::InnerBackend, D>(param.id) {
                let s = g.square().sum();
                self.total = Some(match self.total.take() {
                    Some(t) => t + s,
                    None => s,
                });
            }
        }
    }
    struct Scale<'a, B: AutodiffBackend> {
        grads: &'a mut GradientsParams,
        factor: Tensor<B::InnerBackend, 1>,
    }
    impl<B: AutodiffBackend> ModuleVisitor<B> for Scale<'_, B> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            if let Some(g) = self.grads.remove::<B::InnerBackend, D>(param.id) {
                let factor = self.factor.clone().reshape([1usize; D]);
                self.grads.register(param.id, g * factor);
            }
        }
    }
    let mut sum = SumSquares::<B> { grads: &grads, total: None };
    model.visit(&mut sum);
    let Some(total) = sum.total else { return grads };
    let factor = (total.sqrt().add_scalar(f32::MIN_POSITIVE).recip() * max_norm).clamp_max(1.0);
    model.visit(&mut Scale::<B> { grads: &mut grads, factor });
    grads
}

/// Which validation metric picks the best checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SelectMetric {
    /// NDCG@`eval_k` (the reference's `ndcg_10`).
    #[default]
    Ndcg,
    /// Recall@`eval_k` (what the TIGER reproductions report and stop on).
    Recall,
}

impl SelectMetric {
    /// The chosen metric's value.
    pub fn of(self, metrics: &RankingMetrics) -> f64 {
        match self {
            SelectMetric::Ndcg => metrics.ndcg,
            SelectMetric::Recall => metrics.recall,
        }
    }
}

impl std::str::FromStr for SelectMetric {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ndcg" => Ok(Self::Ndcg),
            "recall" => Ok(Self::Recall),
            other => Err(format!("unknown validation metric `{other}` (ndcg, recall)")),
        }
    }
}

/// What the training loop reports to its caller.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainEvent {
    /// One optimisation step finished.
    Step {
        /// Epoch (from 0).
        epoch: usize,
        /// Step (from 0, over all epochs).
        step: usize,
        /// Steps of the whole run.
        total_steps: usize,
        /// Training loss of this batch.
        loss: f32,
        /// Learning rate used.
        lr: f64,
        /// Training throughput of this epoch so far.
        samples_per_sec: f64,
    },
    /// A validation finished.
    Validation {
        /// Epoch (from 0).
        epoch: usize,
        /// Recall and NDCG at `eval_k`.
        metrics: RankingMetrics,
        /// Whether it is the best so far (and was saved to `best/`).
        improved: bool,
    },
    /// The last checkpoint now holds this epoch (a kill after this loses nothing).
    Checkpoint {
        /// Epoch (from 0).
        epoch: usize,
    },
    /// The last checkpoint now holds this epoch up to `batches` of its batches (a
    /// time-based checkpoint within an epoch, [`TrainConfig::checkpoint_minutes`]).
    PartialCheckpoint {
        /// Epoch (from 0).
        epoch: usize,
        /// Batches of the epoch done.
        batches: usize,
    },
}

/// The persistent part of the loop's state, `last/state.json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainState {
    /// Model config of the run.
    pub model: TigerConfig,
    /// Training config of the run.
    #[serde(deserialize_with = "train_config_with_defaults")]
    pub train: TrainConfig,
    /// Epochs completed.
    pub epochs_done: usize,
    /// Batches of epoch `epochs_done` completed (0 at an epoch boundary).
    #[serde(default)]
    pub batches_done: usize,
    /// Training examples seen over the whole run (0 in states written before it was
    /// recorded; then `steps_done * batch_size` bounds it).
    #[serde(default)]
    pub samples_seen: u64,
    /// Loss sum and examples of the epoch in progress (a mid-epoch checkpoint).
    #[serde(default)]
    pub epoch_progress: (f64, usize),
    /// The dropout generator's state at a mid-epoch checkpoint.
    #[serde(default)]
    pub dropout_state: u64,
    /// Optimisation steps completed.
    pub steps_done: usize,
    /// Best validation metric so far ([`TrainConfig::select_by`]) and its epoch.
    pub best: Option<(f64, usize)>,
    /// Validations since the best one.
    pub since_best: usize,
    /// All validations so far.
    pub validations: Vec<(usize, RankingMetrics)>,
    /// Training examples seen at each validation (a learning curve's x axis; empty in
    /// states written before it was recorded).
    #[serde(default)]
    pub validation_samples: Vec<u64>,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
    /// Mean training loss of each completed epoch.
    pub epoch_losses: Vec<f64>,
    /// Fingerprint of what the run trains on: the semantic-ID table and the training
    /// examples ([`inputs_fingerprint`]). A run is resumed only with the same inputs.
    /// `None` in states written before it was recorded (not checked then).
    #[serde(default)]
    pub inputs: Option<u64>,
}

/// Reads a run's training config, giving fields added since it was written the value
/// that reproduces how it was trained (`shards`: 1, the whole batch at once). Burn's
/// `Config` derive has no serde defaults of its own.
fn train_config_with_defaults<'de, D: serde::Deserializer<'de>>(d: D) -> Result<TrainConfig, D::Error> {
    let mut value = <serde_json::Value as serde::Deserialize>::deserialize(d)?;
    if let Some(map) = value.as_object_mut() {
        map.entry("shards").or_insert(serde_json::json!(1));
        map.entry("lr_decay").or_insert(serde_json::json!("cosine"));
        map.entry("warmup_steps").or_insert(serde_json::json!(0));
        map.entry("sort_window").or_insert(serde_json::json!(0));
        map.entry("select_by").or_insert(serde_json::json!("ndcg"));
        map.entry("checkpoint_minutes").or_insert(serde_json::json!(0.0));
        map.entry("grad_clip").or_insert(serde_json::json!("per-tensor"));
        map.entry("adam_epsilon").or_insert(serde_json::json!(1e-5));
        map.entry("init_from").or_insert(serde_json::Value::Null);
        map.entry("init_from_inputs").or_insert(serde_json::Value::Null);
        map.entry("matmul").or_insert(serde_json::json!("f32"));
    }
    serde_json::from_value(value).map_err(serde::de::Error::custom)
}

/// The model and optimiser of the checkpoint in `source` (a run's `last/`,
/// [`TrainConfig::init_from`]) and its state, after checking that it holds a model of
/// `model_config` trained on the inputs fingerprinted `inputs`.
fn load_init_from<B: AutodiffBackend, O: Optimizer<Tiger<B>, B>>(
    source: &Path,
    model_config: &TigerConfig,
    inputs: u64,
    model: Tiger<B>,
    optim: O,
    device: &B::Device,
) -> Result<(Tiger<B>, O, TrainState), TigerError> {
    let checkpoint = LastCheckpoint::new(source);
    let Some(state) = checkpoint.read_state::<TrainState>()? else {
        return Err(TigerError::InvalidConfig(format!(
            "init_from {}: no {} there; give a training run's `last/` directory (model, optimiser and state)",
            source.display(),
            checkpoint.state_path().display()
        )));
    };
    check_checkpoint(
        source,
        &state,
        model_config,
        inputs,
        "the init_from run trained on other semantic IDs or training examples",
    )?;
    let (model, optim) = checkpoint.load::<B, _, _>(model, optim, &stem(state.epochs_done, state.batches_done), device)?;
    Ok((model, optim, state))
}

/// Checks that the checkpoint in `dir`, described by its `state`, was trained on the
/// inputs fingerprinted `inputs` (else the error says `other_inputs`) and holds a model
/// of `model_config`: what a resumed run and a fork both need before loading it.
fn check_checkpoint(
    dir: &Path,
    state: &TrainState,
    model_config: &TigerConfig,
    inputs: u64,
    other_inputs: &str,
) -> Result<(), TigerError> {
    if state.inputs.is_some_and(|f| f != inputs) {
        return Err(TigerError::InvalidConfig(format!("{}: {other_inputs}", dir.display())));
    }
    check_same_config(dir, &state.model, model_config)
}

/// A fingerprint of a run's inputs, stable across processes and platforms (FNV-1a
/// over the ID table's digits and the examples' item indices, [`Fingerprint`]).
pub fn inputs_fingerprint(ids: &SemanticIds, train: &[TrainExample]) -> u64 {
    let mut f = Fingerprint::new();
    f.eat_u32(ids.num_digits() as u32);
    for item in 0..ids.len() as u32 {
        ids.codes(item).iter().for_each(|&c| f.eat_u32(c));
    }
    for e in train {
        f.eat_u32(e.history.len() as u32);
        e.history.iter().for_each(|&i| f.eat_u32(i));
        f.eat_u32(e.target);
    }
    f.finish()
}

/// Trains (or resumes training of) a TIGER model in `run_dir` and returns the final state.
///
/// The best model is in `run_dir/best/` ([`Tiger::load`]). `on_event` may return
/// `ControlFlow::Break` to stop after the current step: the run is checkpointed there
/// (after an epoch's last step, at the epoch's end, validation included) and resumes
/// from it. Resuming with the same configs yields the numbers of an uninterrupted run.
#[allow(clippy::too_many_arguments)]
pub fn train<B: AutodiffBackend>(
    model_config: &TigerConfig,
    config: &TrainConfig,
    ids: &SemanticIds,
    train: &[TrainExample],
    valid: &[TrainExample],
    run_dir: &Path,
    device: &B::Device,
    on_event: &mut dyn FnMut(&TrainEvent) -> ControlFlow<()>,
) -> Result<TrainState, TigerError> {
    train_on_devices::<B>(model_config, config, ids, train, valid, run_dir, std::slice::from_ref(device), on_event)
}

/// [`train`] on several devices at once (data parallelism): each batch is split into
/// one shard per device, each device computes its shard's gradient on its own replica
/// of the model, and Burn's collective all-reduce (burn-collective) sums them on every
/// device, which then all apply the same optimizer step (the module `data_parallel`).
///
/// `config.shards` must equal the number of devices: the numbers are those of
/// [`sharded_grads`] with that many shards on one device (bit for bit with two devices,
/// up to rounding with more), so a run's checkpoint resumes on any devices, or on one
/// with as many threaded shards. (Not in the first step of a fresh run: there the
/// threaded shards' forks draw lazily initialised weights of their own, while the
/// replicas here are forked after the first device's forward pass drew them, so a
/// fresh run matches one device without shards; docs/multi-device.md.) Validation,
/// checkpoints and the returned model live on the first device. With one device this
/// is [`train`].
#[allow(clippy::too_many_arguments)]
pub fn train_on_devices<B: AutodiffBackend>(
    model_config: &TigerConfig,
    config: &TrainConfig,
    ids: &SemanticIds,
    train: &[TrainExample],
    valid: &[TrainExample],
    run_dir: &Path,
    devices: &[B::Device],
    on_event: &mut dyn FnMut(&TrainEvent) -> ControlFlow<()>,
) -> Result<TrainState, TigerError> {
    let Some(device) = devices.first() else {
        return Err(TigerError::InvalidConfig("no device to train on".into()));
    };
    if devices.len() > 1 && config.shards != devices.len() {
        return Err(TigerError::InvalidConfig(format!(
            "each of the {n} devices computes one shard of every batch, so shards must be {n} (it is {})",
            config.shards,
            n = devices.len(),
        )));
    }
    if train.is_empty() {
        return Err(TigerError::Data("no training examples".into()));
    }
    let last = LastCheckpoint::new(run_dir.join("last"));
    let last_dir = last.dir();
    let per_tensor = (config.grad_clip == GradClip::PerTensor).then_some(GradientClippingConfig::Norm(config.grad_clip_norm));
    let mut optim = AdamWConfig::new()
        .with_weight_decay(config.weight_decay as f32)
        .with_epsilon(config.adam_epsilon)
        .with_grad_clipping(per_tensor)
        .init::<B, Tiger<B>>();
    B::seed(device, config.seed);
    let mut model = model_config.init::<B>(device)?;
    model.check_ids(ids)?;
    let inputs = inputs_fingerprint(ids, train);
    let mut state = match last.read_state::<TrainState>()? {
        Some(mut state) => {
            check_checkpoint(
                last_dir,
                &state,
                model_config,
                inputs,
                "run was started on other semantic IDs or training examples; \
                 use a new run directory (or move this one aside) to train on these",
            )?;
            let mut run_config = state.train.clone();
            run_config.checkpoint_minutes = config.checkpoint_minutes;
            run_config.shards = config.shards;
            run_config.matmul = config.matmul;
            if &run_config != config {
                return Err(TigerError::InvalidConfig(format!(
                    "{}: run was started with another training config ({}); use a new run \
                     directory, or the run's settings to resume it",
                    last_dir.display(),
                    config_differences(&state.train, config).join("; ")
                )));
            }
            if state.train.shards != config.shards {
                tracing::warn!(
                    run = state.train.shards,
                    now = config.shards,
                    "resuming with another shard count: the same updates up to rounding and \
                     dropout draws, not bit-identical to an uninterrupted run"
                );
            }
            if state.train.matmul != config.matmul {
                tracing::warn!(
                    run = %state.train.matmul,
                    now = %config.matmul,
                    "resuming with another matmul precision: the updates differ by rounding from here on"
                );
            }
            state.train = config.clone();
            // `check_same_config` has just shown that `state.json` describes this model,
            // so its shapes are the ones the files must have.
            (model, optim) = last.load::<B, _, _>(model, optim, &stem(state.epochs_done, state.batches_done), device)?;
            tracing::info!(epoch = state.epochs_done, batches = state.batches_done, "resuming TIGER training");
            state
        }
        None => {
            // A fork starts from its source's weights and optimiser, counting on from
            // the examples they have seen.
            let mut samples_seen = 0;
            if let Some(source) = &config.init_from {
                let from;
                let expected = config.init_from_inputs.unwrap_or(inputs);
                (model, optim, from) = load_init_from::<B, _>(Path::new(source), model_config, expected, model, optim, device)?;
                samples_seen = from.samples_seen;
                tracing::info!(
                    source = %source,
                    epochs = from.epochs_done,
                    batches = from.batches_done,
                    samples = from.samples_seen,
                    "starting from another run's checkpoint"
                );
            }
            TrainState {
                model: model_config.clone(),
                train: config.clone(),
                epochs_done: 0,
                batches_done: 0,
                samples_seen,
                epoch_progress: (0.0, 0),
                dropout_state: 0,
                steps_done: 0,
                best: None,
                since_best: 0,
                validations: Vec::new(),
                validation_samples: Vec::new(),
                stopped_early: false,
                epoch_losses: Vec::new(),
                inputs: Some(inputs),
            }
        }
    };
    model.set_matmul_precision(config.matmul);
    validate_examples(train, ids, "train")?;
    validate_examples(valid, ids, "valid")?;
    let trie = PrefixTrie::from_ids(ids);
    let batch_size = config.batch_size.max(1);
    let steps_per_epoch = train.len().div_ceil(batch_size);
    let total_steps = steps_per_epoch * config.max_epochs;
    let warmup = if config.warmup_steps > 0 {
        config.warmup_steps
    } else {
        (total_steps as f64 * config.warmup_fraction).round() as usize
    };
    let schedule = LrSchedule::with_warmup_steps(config.lr, total_steps, warmup, config.lr_decay);
    let token_length = |i: usize| train[i].history.len().min(model_config.max_history);
    // Several devices: one replica each, gradients summed by collective all-reduce.
    let mut parallel = if devices.len() > 1 {
        Some(DataParallel::<B, _>::start(devices)?)
    } else {
        None
    };
    let global_clip = GlobalClip((config.grad_clip == GradClip::Global).then_some(config.grad_clip_norm));
    let mut stop_after_epoch = false;
    while state.epochs_done < config.max_epochs && !state.stopped_early {
        let epoch = state.epochs_done;
        let resume_at = state.batches_done;
        // Dropout masks come from the model's own generator; seeding it per epoch (and
        // restoring its state at a mid-epoch checkpoint) makes a resumed run identical
        // to an uninterrupted one.
        if resume_at == 0 {
            model.seed_dropout(epoch_dropout_seed(config.seed, epoch));
            state.epoch_progress = (0.0, 0);
        } else {
            model.seed_dropout(state.dropout_state);
        }
        let order = shuffled(train.len(), config.seed, epoch as u64);
        let batches = length_sorted_batches(
            &order,
            token_length,
            batch_size,
            config.sort_window,
            config.seed,
            epoch as u64,
        );
        let started = Instant::now();
        let mut cadence = Cadence::every_minutes(config.checkpoint_minutes);
        let mut seen_now = 0usize;
        for (b, chunk) in batches.iter().enumerate().skip(resume_at) {
            let chunk = if config.sort_window > 0 {
                interleave_for_shards(chunk, config.shards)
            } else {
                chunk.clone()
            };
            let examples: Vec<&TrainExample> = chunk.iter().map(|&i| &train[i]).collect();
            let lr = schedule.at(state.steps_done);
            let value = if let Some(parallel) = parallel.as_mut() {
                let offset = b * config.batch_size;
                let stream = config.seed ^ (state.steps_done as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                let (value, stepped) =
                    parallel.step(model, &mut optim, &examples, stream, lr, global_clip, |part, start, device| {
                        TrainBatch::<B>::new(part, ids, model_config.max_history, offset + start, device)
                    })?;
                model = stepped;
                value
            } else {
                let (value, grads) = if config.shards <= 1 {
                    let batch =
                        TrainBatch::<B>::new(&examples, ids, model_config.max_history, b * config.batch_size, device)?;
                    let loss = model.loss(&batch);
                    let value = loss.clone().into_scalar().elem::<f32>();
                    (value, GradientsParams::from_grads(loss.backward(), &model))
                } else {
                    let offset = b * config.batch_size;
                    let stream = config.seed ^ (state.steps_done as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                    sharded_grads(&model, &examples, config.shards, stream, |part, start| {
                        TrainBatch::<B>::new(part, ids, model_config.max_history, offset + start, device)
                    })?
                };
                let grads = match config.grad_clip {
                    GradClip::PerTensor => grads, // the optimizer clips
                    GradClip::Global => clip_global_norm(&model, grads, config.grad_clip_norm),
                };
                model = optim.step(lr, model, grads);
                value
            };
            state.steps_done += 1;
            state.batches_done = b + 1;
            state.samples_seen += chunk.len() as u64;
            state.epoch_progress.0 += f64::from(value) * chunk.len() as f64;
            state.epoch_progress.1 += chunk.len();
            seen_now += chunk.len();
            let event = TrainEvent::Step {
                epoch,
                step: state.steps_done - 1,
                total_steps: schedule.total_steps(),
                loss: value,
                lr,
                samples_per_sec: seen_now as f64 / started.elapsed().as_secs_f64().max(1e-9),
            };
            // Stop at a checkpoint: this batch's, or the epoch's end after the last one.
            match cadence.after_step(on_event(&event).is_break(), b, batches.len()) {
                AfterStep::Continue => {}
                AfterStep::StopAtEpochEnd => {
                    stop_after_epoch = true;
                    break;
                }
                AfterStep::StopHere => {
                    state.dropout_state = model.dropout.rng.state();
                    save_last(&model, &optim, &state, &last)?;
                    return Ok(state);
                }
                AfterStep::Checkpoint => {
                    state.dropout_state = model.dropout.rng.state();
                    save_last(&model, &optim, &state, &last)?;
                    cadence.checkpointed();
                    let event = TrainEvent::PartialCheckpoint { epoch, batches: b + 1 };
                    if on_event(&event).is_break() {
                        return Ok(state);
                    }
                }
            }
        }
        let (loss_sum, seen) = state.epoch_progress;
        state.epoch_losses.push(loss_sum / seen.max(1) as f64);
        state.epochs_done += 1;
        state.batches_done = 0;
        state.epoch_progress = (0.0, 0);
        state.dropout_state = 0;
        let is_last = state.epochs_done == config.max_epochs;
        if !valid.is_empty() && (state.epochs_done % config.eval_every.max(1) == 0 || is_last) {
            let mut inner = model.valid();
            inner.set_matmul_precision(MatmulPrecision::F32);
            let limit = if config.eval_limit == 0 {
                valid.len()
            } else {
                config.eval_limit.min(valid.len())
            };
            let metrics = evaluate(
                &inner,
                ids,
                &trie,
                &valid[..limit],
                &[config.eval_k],
                config.eval_beam_size,
                config.eval_batch_size,
                device,
            )?[0];
            let value = config.select_by.of(&metrics);
            let verdict = EarlyStopping { patience: config.patience }.observe(
                &mut state.best,
                &mut state.since_best,
                value,
                epoch,
            );
            let improved = verdict.improved;
            if improved {
                inner.save(&run_dir.join("best"))?;
            } else {
                state.stopped_early = verdict.stop;
            }
            state.validations.push((epoch, metrics));
            state.validation_samples.push(state.samples_seen);
            if on_event(&TrainEvent::Validation {
                epoch,
                metrics,
                improved,
            })
            .is_break()
            {
                save_last(&model, &optim, &state, &last)?;
                return Ok(state);
            }
        } else if valid.is_empty() {
            // Without validation data the latest model is the best one.
            model.valid().save(&run_dir.join("best"))?;
        }
        save_last(&model, &optim, &state, &last)?;
        if on_event(&TrainEvent::Checkpoint { epoch }).is_break() || stop_after_epoch {
            return Ok(state);
        }
    }
    Ok(state)
}

/// The loss and gradients of one batch computed in `shards` parts on their own threads
/// ([`TrainConfig::shards`]): each part's loss is weighted by its share of the batch and
/// the weighted gradients are summed, which is the whole batch's mean-loss gradient.
///
/// The first part runs on `model` itself, on this thread; the others on forks of it
/// (their own autodiff graphs, with the same parameter ids) whose dropout generators are
/// seeded from `stream` and the part's index, so the result does not depend on thread
/// timing. `make_batch(part, start)` builds a part's batch; `start` is the index of
/// its first example in `examples`.
pub fn sharded_grads<B: AutodiffBackend>(
    model: &Tiger<B>,
    examples: &[&TrainExample],
    shards: usize,
    stream: u64,
    make_batch: impl Fn(&[&TrainExample], usize) -> Result<TrainBatch<B>, TigerError>,
) -> Result<(f32, GradientsParams), TigerError> {
    let n = examples.len();
    let shards = shards.clamp(1, n.max(1));
    let bounds: Vec<usize> = (0..=shards).map(|j| j * n / shards).collect();
    let mut parts = Vec::with_capacity(shards);
    for j in 0..shards {
        let (start, end) = (bounds[j], bounds[j + 1]);
        parts.push((make_batch(&examples[start..end], start)?, (end - start) as f32 / n as f32));
    }
    let run = |model: &Tiger<B>, batch: &TrainBatch<B>, weight: f32| {
        let loss = model.loss(batch) * weight;
        let value = loss.clone().into_scalar().elem::<f32>();
        (value, GradientsParams::from_grads(loss.backward(), model))
    };
    let mut parts = parts.into_iter();
    let (first, first_weight) = parts.next().expect("at least one shard");
    // A fresh model's parameters are drawn lazily, on first use, and a clone of an
    // undrawn parameter draws its own values: the first part then runs alone, drawing
    // them in the order (and so with the values) of a one-shard run, before any fork.
    let first_pass = (!all_drawn(model)).then(|| run(model, &first, first_weight));
    let results = std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .enumerate()
            .map(|(j, (batch, weight))| {
                let mut fork = model.clone().fork(&first.source.device());
                fork.dropout.rng = crate::ops::DropoutRng::default();
                fork.seed_dropout(stream.wrapping_add((j as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03)));
                scope.spawn(move || run(&fork, &batch, weight))
            })
            .collect();
        let mut results = vec![first_pass.unwrap_or_else(|| run(model, &first, first_weight))];
        for handle in handles {
            results.push(handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        }
        results
    });
    let mut total = 0.0f32;
    let mut accumulator = GradientsAccumulator::<Tiger<B>>::new();
    for (value, grads) in results {
        total += value;
        accumulator.accumulate(model, grads);
    }
    Ok((total, accumulator.grads()))
}

/// Whether every float parameter of `model` holds its values (none is still lazy).
fn all_drawn<B: AutodiffBackend>(model: &Tiger<B>) -> bool {
    struct Drawn(bool);
    impl<B: burn::tensor::backend::Backend> ModuleVisitor<B> for Drawn {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            self.0 &= param.is_initialized();
        }
    }
    let mut drawn = Drawn(true);
    model.visit(&mut drawn);
    drawn.0
}

/// Writes `last/` ([`LastCheckpoint::save`]) at the point the state describes.
fn save_last<B: AutodiffBackend, O: Optimizer<Tiger<B>, B>>(
    model: &Tiger<B>,
    optim: &O,
    state: &TrainState,
    last: &LastCheckpoint,
) -> Result<(), TigerError> {
    last.save::<B, _, _, _>(model, optim, state, &stem(state.epochs_done, state.batches_done))
}
