//! `specgr train ...`: train the models of the pipeline.

use std::ops::ControlFlow;
use std::path::PathBuf;

use anyhow::Context;
use burn::tensor::backend::Backend;
use gr_model::{TigerConfig, TigerPreset, TrainConfig, TrainEvent, TrainExample};
use semid::SemanticIdModel;

use crate::cmd::backend::{DeviceKind, DeviceSpec};
use crate::cmd::DatasetArgs;

/// `specgr train` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum TrainCommand {
    /// Train the TIGER verifier (DSI when `--ids hkmeans`).
    Tiger(TigerArgs),
    /// Train the UniSRec drafter on the items' text embeddings (resumable).
    Unisrec(crate::cmd::train_unisrec::UniSRecArgs),
    /// Train SpecGR++: contrastive pre-training, then learning-to-rank fine-tuning.
    #[command(name = "specgr++", alias = "specgr-pp")]
    SpecgrPp(crate::cmd::specgr_pp::SpecGrPpArgs),
}

/// `specgr train tiger` arguments.
#[derive(Debug, clap::Args)]
pub struct TigerArgs {
    /// Which dataset.
    #[command(flatten)]
    pub dataset: DatasetArgs,
    /// Model size: `tiny`, `small`, `games`, `paper` (the TIGER paper's Beauty model:
    /// 4+4 layers, d_model 128, 6 heads of 64, d_ff 1024), `office`, `phones`.
    #[arg(long, default_value = "small")]
    pub preset: TigerPreset,
    /// Which semantic IDs (from `specgr semid fit --method ...`): rqvae (TIGER), hkmeans (DSI), rqkmeans.
    #[arg(long, default_value = "rqvae")]
    pub ids: crate::cmd::IdsName,
    /// Most epochs (early stopping on valid may end sooner) [default: 200].
    #[arg(long, value_parser = crate::cmd::args::positive)]
    pub epochs: Option<usize>,
    /// Examples per step [default: 256].
    #[arg(long, value_parser = crate::cmd::args::positive)]
    pub batch_size: Option<usize>,
    /// Validate every this many epochs [default: 5].
    #[arg(long, value_parser = crate::cmd::args::positive)]
    pub eval_every: Option<usize>,
    /// Which training and validation examples: the first N, or a seeded sample.
    #[command(flatten)]
    pub examples: ExampleArgs,
    /// Peak learning rate [default: 1e-3].
    #[arg(long, value_parser = crate::cmd::args::positive_f64)]
    pub lr: Option<f64>,
    /// After the warm-up: `cosine` decay to zero at the last epoch, or `constant`
    /// [default: cosine].
    #[arg(long)]
    pub lr_decay: Option<gr_model::LrDecay>,
    /// Warm-up steps [default: 5 % of all steps].
    #[arg(long, value_parser = crate::cmd::args::warmup_steps)]
    pub warmup_steps: Option<usize>,
    /// AdamW's decoupled weight decay [default: 0.05].
    #[arg(long, value_parser = crate::cmd::args::non_negative_f64, allow_hyphen_values = true)]
    pub weight_decay: Option<f64>,
    /// The wall-time budget.
    #[command(flatten)]
    pub budget: crate::cmd::BudgetArgs,
    /// Gradient clipping and Adam's epsilon.
    #[command(flatten)]
    pub optim: OptimArgs,
    /// Precision of the linear maps' and attention's products while training: `f32`, or `bf16`
    /// (bfloat16 products with float32 accumulation, parameters and optimiser state, as
    /// `torch.autocast` trains; several times faster per product with `--device tch` on a
    /// CPU with AVX512-BF16 or AMX, slower on `cpu`, whose bf16 products convert to
    /// f32). Validation stays f32. A run may be resumed in the other precision
    /// [default: f32].
    #[arg(long)]
    pub matmul: Option<gr_model::MatmulPrecision>,
    /// Dropout probability [default: the preset's, 0.1 for all but `tiny`].
    #[arg(long, value_parser = crate::cmd::args::dropout)]
    pub dropout: Option<f64>,
    /// Sort each run of this many batches by history length before batching: far less
    /// padding, so faster epochs (0: plain shuffled batches) [default: 0].
    #[arg(long)]
    pub sort_window: Option<usize>,
    /// Validation metric for the best checkpoint and early stopping: `ndcg` or
    /// `recall` (at 10) [default: ndcg].
    #[arg(long)]
    pub select_by: Option<gr_model::SelectMetric>,
    /// Validations without improvement before stopping [default: 4].
    #[arg(long, value_parser = crate::cmd::args::positive)]
    pub patience: Option<usize>,
    /// Also checkpoint within an epoch every this many minutes, so a kill loses at
    /// most that much (0: at epoch ends only) [default: 0].
    #[arg(long, value_parser = crate::cmd::args::non_negative_f64)]
    pub checkpoint_minutes: Option<f64>,
    /// The run directory of this model [default: `<runs>/<dataset>/tiger-<ids>-<preset>`].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Start from another run's checkpoint (its `last/` directory: model, optimiser and
    /// state) instead of fresh weights, in a run directory of its own (`--out`), e.g. a
    /// learning-rate cool-down of a constant-rate run: `--init-from
    /// runs/<dataset>/tiger-rqvae-paper/last --lr-decay cosine --warmup-steps 1
    /// --epochs 2 --out runs/<dataset>/cooldown`. Same model and data as the source;
    /// examples seen count on from its own.
    #[arg(long, requires = "out")]
    pub init_from: Option<PathBuf>,
    /// Compute each batch's gradient in this many shards on their own threads (the same
    /// update up to rounding; part of the training config, so a resumed run keeps it).
    /// Defaults to 2 on the CPU, where a small model keeps only one core busy, and 1 on
    /// other devices.
    #[arg(long, value_parser = crate::cmd::args::positive)]
    pub shards: Option<usize>,
    /// The seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Where to compute: `cpu`, or `wgpu` / `cuda` / `tch` / `tch-cuda` in builds with that feature.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceKind,
    /// Train on several devices at once (data parallelism), e.g. `cuda:0,cuda:1`: each
    /// batch is split into one shard per device, each device computes its shard's
    /// gradient on its own copy of the model, and burn-collective's all-reduce sums them
    /// (docs/multi-device.md). The same update as `--shards N` on one device (bit for
    /// bit with two devices, to rounding with more), so `--shards` is N or left out; a
    /// run's checkpoint resumes on any devices. All entries name one backend; `cpu,cpu`
    /// (two replicas on the CPU) tests the path. Instead of `--device`.
    #[arg(long, value_delimiter = ',', conflicts_with = "device")]
    pub devices: Vec<DeviceSpec>,
    /// The run directory: reads `<runs>/<dataset>/semid/<ids>/`, writes `<runs>/<dataset>/tiger-<ids>-<preset>/`.
    #[arg(long, default_value = "runs")]
    pub runs: PathBuf,
}

/// A split's examples as the trainers take them.
pub(crate) fn examples(list: &[recdata::Example]) -> Vec<TrainExample> {
    list.iter()
        .map(|e| TrainExample { history: e.history.iter().map(|i| i.0).collect(), target: e.target.0 })
        .collect()
}

/// The model and training configs `specgr train tiger` (and `specgr tiger trace`) build
/// from their arguments, for a vocabulary of `vocab` tokens and `max_history` items.
pub(crate) fn tiger_configs(
    args: &TigerArgs,
    vocab: usize,
    max_history: usize,
) -> anyhow::Result<(TigerConfig, TrainConfig)> {
    let mut model_config = TigerConfig::preset(args.preset, vocab).with_max_history(max_history);
    if let Some(p) = args.dropout {
        anyhow::ensure!((0.0..1.0).contains(&p), "--dropout {p}: must be in [0, 1)");
        model_config = model_config.with_dropout(p);
    }
    let mut config = TrainConfig::new().with_seed(args.seed);
    if let Some(e) = args.epochs {
        config = config.with_max_epochs(e);
    }
    if let Some(b) = args.batch_size {
        config = config.with_batch_size(b);
    }
    if let Some(e) = args.eval_every {
        config = config.with_eval_every(e);
    }
    if let Some(lr) = args.lr {
        anyhow::ensure!(lr > 0.0 && lr.is_finite(), "--lr {lr}: must be a positive number");
        config = config.with_lr(lr);
    }
    if let Some(d) = args.lr_decay {
        config = config.with_lr_decay(d);
    }
    if let Some(w) = args.warmup_steps {
        config = config.with_warmup_steps(w);
    }
    if let Some(w) = args.weight_decay {
        anyhow::ensure!(w >= 0.0 && w.is_finite(), "--weight-decay {w}: must be >= 0");
        config = config.with_weight_decay(w);
    }
    if let Some(c) = args.optim.grad_clip {
        config = config.with_grad_clip(c);
    }
    if let Some(e) = args.optim.adam_epsilon {
        config = config.with_adam_epsilon(e as f32);
    }
    if let Some(m) = args.matmul {
        for kind in std::iter::once(args.device).chain(args.devices.iter().map(|d| d.kind)) {
            crate::cmd::backend::check_matmul(kind, m)?;
        }
        config = config.with_matmul(m);
    }
    if let Some(w) = args.sort_window {
        config = config.with_sort_window(w);
    }
    if let Some(m) = args.select_by {
        config = config.with_select_by(m);
    }
    if let Some(p) = args.patience {
        anyhow::ensure!(p > 0, "--patience 0 would stop at the first validation");
        config = config.with_patience(p);
    }
    if let Some(m) = args.checkpoint_minutes {
        anyhow::ensure!(m >= 0.0 && m.is_finite(), "--checkpoint-minutes {m}: must be >= 0");
        config = config.with_checkpoint_minutes(m);
    }
    config = config.with_shards(tiger_shards(args)?);
    if let Some(source) = &args.init_from {
        let out = tiger_run_dir(args)?;
        anyhow::ensure!(
            !source.starts_with(&out),
            "--init-from {}: inside this run's own directory {}; a fork needs an --out of its own",
            source.display(),
            out.display()
        );
        config = config.with_init_from(Some(source.display().to_string()));
    }
    Ok((model_config, config))
}

/// The shard count of `specgr train tiger`: `--shards`, else 2 on the CPU and 1
/// elsewhere; with `--devices`, one per device (a `--shards` of another count is an
/// error, given before anything is loaded).
pub(crate) fn tiger_shards(args: &TigerArgs) -> anyhow::Result<usize> {
    let shards = match (args.devices.len(), args.shards) {
        (0, Some(shards)) => shards,
        (0, None) if args.device == DeviceKind::Cpu => 2,
        (0, None) => 1,
        (devices, None) => devices,
        (devices, Some(shards)) if shards == devices => shards,
        (devices, Some(shards)) => anyhow::bail!(
            "--shards {shards} with {devices} --devices: each device computes one shard of every batch, \
             so leave --shards out (or give {devices})"
        ),
    };
    Ok(shards.max(1))
}


/// The training and validation examples `specgr train tiger` (and `specgr tiger trace`)
/// use ([`ExampleArgs::pick`]).
pub(crate) fn tiger_examples(args: &TigerArgs, split: &recdata::Split) -> (Vec<TrainExample>, Vec<TrainExample>) {
    args.examples.pick(split, args.seed)
}

/// The two optimiser settings where Burn's defaults and PyTorch's (the reference
/// code's) differ; `train tiger` and `train specgr++` (both stages) take them.
#[derive(Debug, Clone, clap::Args)]
pub struct OptimArgs {
    /// Gradient clipping to norm 1: `per-tensor` (each parameter's gradient on its own,
    /// Burn's rule) or `global` (all together, PyTorch's `clip_grad_norm_`, as the
    /// reference and the published TIGER reproductions train) [default: per-tensor].
    #[arg(long)]
    pub grad_clip: Option<gr_model::GradClip>,
    /// Adam's epsilon (PyTorch's default, the reference's: 1e-8) [default: 1e-5, Burn's].
    #[arg(long, value_parser = crate::cmd::args::positive_f64)]
    pub adam_epsilon: Option<f64>,
}

/// Which training and validation examples a trainer (TIGER, SpecGR++) uses: all, the
/// first N, or a random sample of N drawn with `--seed` and kept in time order.
#[derive(Debug, Clone, clap::Args)]
pub struct ExampleArgs {
    /// Train on only the first N training examples, the oldest (quick runs and tests;
    /// all by default); `--train-sample` draws them at random instead.
    #[arg(long, value_parser = crate::cmd::args::positive)]
    pub train_limit: Option<usize>,
    /// Train on a random sample of N training examples, drawn with `--seed` and kept in
    /// time order (all by default).
    #[arg(long, value_parser = crate::cmd::args::positive, conflicts_with = "train_limit")]
    pub train_sample: Option<usize>,
    /// Train on only the last N training examples, the newest: e.g. to fine-tune a
    /// model on the period nearest the one it is evaluated on, where what users take
    /// drifts over time. With `--init-from` (TIGER), the source is a run on all the
    /// training examples (of the same IDs), which this run fine-tunes. With
    /// `--train-sample`, the sample is drawn from these N.
    #[arg(long, value_parser = crate::cmd::args::positive, conflicts_with = "train_limit")]
    pub train_last: Option<usize>,
    /// Use only the first N validation examples (faster validation; all by default).
    /// The first users are not a random sample: on Beauty leave-one-out the first 2,000
    /// had 1.8× the Recall@10 of all 22,363 (`experiments/results/gr-model/
    /// hf-t5-side-by-side.md`); `--valid-sample` draws them at random instead.
    #[arg(long, value_parser = crate::cmd::args::positive)]
    pub valid_limit: Option<usize>,
    /// Validate on a random sample of N validation examples, drawn with `--seed` (the
    /// same ones at every validation; all by default).
    #[arg(long, value_parser = crate::cmd::args::positive, conflicts_with = "valid_limit")]
    pub valid_sample: Option<usize>,
}

impl ExampleArgs {
    /// The split's training and validation examples, cut or sampled as asked.
    pub fn pick(&self, split: &recdata::Split, seed: u64) -> (Vec<TrainExample>, Vec<TrainExample>) {
        (
            select(examples(&split.train), self.train_limit, self.train_last, self.train_sample, seed),
            select(examples(&split.valid), self.valid_limit, None, self.valid_sample, seed),
        )
    }
}

/// The examples of a part (in time order) that a trainer uses: the first `limit`, or
/// the last `last`, then a seeded random `sample` of those, kept in order.
fn select<T>(mut list: Vec<T>, limit: Option<usize>, last: Option<usize>, sample: Option<usize>, seed: u64) -> Vec<T> {
    if let Some(n) = limit {
        list.truncate(n);
    }
    if let Some(n) = last {
        list.drain(..list.len().saturating_sub(n));
    }
    match sample {
        Some(n) => crate::cmd::sample_in_order(list, n, seed),
        None => list,
    }
}

/// The directory a TIGER training run writes: `--out`, else `<runs>/<dataset>/tiger-<ids>-<preset>`.
pub(crate) fn tiger_run_dir(args: &TigerArgs) -> anyhow::Result<PathBuf> {
    Ok(match &args.out {
        Some(out) => out.clone(),
        None => recdata::RunDir::new(&args.runs, &args.dataset.name()?).tiger(&args.ids.name(), args.preset.name()),
    })
}

/// Runs a `specgr train` subcommand.
pub fn run(command: TrainCommand) -> anyhow::Result<()> {
    let args = match command {
        TrainCommand::Tiger(args) => args,
        TrainCommand::Unisrec(args) => return crate::cmd::train_unisrec::run(args),
        TrainCommand::SpecgrPp(args) => return crate::cmd::specgr_pp::run(args),
    };
    tiger_shards(&args)?;
    if args.devices.is_empty() {
        crate::with_backend!(args.device, |B, device| train_tiger_on::<B>(&args, std::slice::from_ref(&device)))
    } else {
        crate::with_backend_devices!(&args.devices, |B, devices| train_tiger_on::<B>(&args, &devices))
    }
}

/// Trains on `devices` (one: [`gr_model::train`]; several: data-parallel).
fn train_tiger_on<B: Backend>(args: &TigerArgs, devices: &[B::Device]) -> anyhow::Result<()> {
    let device = &devices[0];
    let resolved = args.dataset.load()?;
    let split = resolved.dataset.split(&resolved.split)?;
    let run_dir = recdata::RunDir::new(&args.runs, &resolved.dataset.name);
    let semid_dir = run_dir.semid(&args.ids.name());
    let data = crate::cmd::identity::DatasetIdentity::new(&resolved.dataset, &args.dataset);
    let ids_sha256 = crate::cmd::identity::check_semid(&semid_dir, &data, &args.ids.fit_args())?;
    let semid = SemanticIdModel::<B>::load(&semid_dir, device).with_context(|| {
        format!("reading {} (run `specgr semid fit {}` first)", semid_dir.display(), args.ids.fit_args())
    })?;
    let ids = semid.ids();
    let (model_config, mut config) =
        tiger_configs(args, ids.layout().vocab_size() as usize, resolved.split.max_history())?;
    let (train, valid) = tiger_examples(args, &split);
    if args.init_from.is_some() && args.examples.train_last.is_some() {
        // A fine-tune on the newest examples forks a source that trained on all of them.
        config = config.with_init_from_inputs(Some(gr_model::inputs_fingerprint(ids, &examples(&split.train))));
    }
    let out = tiger_run_dir(args)?;
    // The model's identity goes into `best/` before training, so every model saved
    // there carries it; a `best/` of another model is refused rather than mixed with.
    crate::cmd::identity::claim_best(&out, &out.join("best"), &data, &args.ids.name(), &ids_sha256, &args.preset.name())?;
    let progress = crate::cmd::training_progress::TrainingProgress::new("", 100);
    let budget = args.budget.start();
    let mut out_of_time = false;
    let mut on_event = |e: &TrainEvent| {
        progress.tiger(e);
        if matches!(e, TrainEvent::Step { .. }) && budget.spent() {
            out_of_time = true;
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    };
    let state = gr_model::train_on_devices::<burn::backend::Autodiff<B>>(
        &model_config,
        &config,
        ids,
        &train,
        &valid,
        &out,
        devices,
        &mut on_event,
    )?;
    progress.finish();
    if out_of_time {
        let at = format!("epoch {}, batch {} ({} samples seen)", state.epochs_done, state.batches_done, state.samples_seen);
        args.budget.say_stopped(&at, &out.join("last"));
    }
    println!(
        "trained {} epochs ({} steps, {} samples){}; best valid {:?}@{}: {}; model in {}",
        state.epochs_done,
        state.steps_done,
        state.samples_seen,
        if state.stopped_early { ", stopped early" } else { "" },
        config.select_by,
        config.eval_k,
        state.best.map_or("none".into(), |(n, e)| format!("{n:.4} at epoch {e}")),
        out.join("best").display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::select;

    /// `--train-limit` keeps the oldest examples, `--train-last` the newest, and a
    /// sample is drawn from what they keep, in time order.
    #[test]
    fn examples_are_the_first_or_the_last_then_a_sample_of_them() {
        let all: Vec<u32> = (0..10).collect();
        assert_eq!(select(all.clone(), None, None, None, 1), all);
        assert_eq!(select(all.clone(), Some(3), None, None, 1), [0, 1, 2]);
        assert_eq!(select(all.clone(), None, Some(3), None, 1), [7, 8, 9]);
        assert_eq!(select(all.clone(), None, Some(30), None, 1), all, "more than there are: all");
        let sample = select(all.clone(), None, Some(6), Some(3), 1);
        assert_eq!(sample.len(), 3);
        assert!(sample.windows(2).all(|w| w[0] < w[1]) && sample.iter().all(|&x| x >= 4), "{sample:?}");
    }
}
