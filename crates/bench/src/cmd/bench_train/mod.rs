//! `specgr bench train`: TIGER's training throughput (samples/s) on real data, for
//! several configurations side by side.
//!
//! Each configuration (`<preset>-<batching>-<shards>`, e.g. `paper-sorted-2`) gets its
//! own model and AdamW optimizer, created once. Then, in interleaved rounds, every
//! configuration runs `--steps` real training steps (forward, backward, AdamW step,
//! exactly as [`gr_model::train`] does them: one autodiff graph, or
//! [`gr_model::sharded_grads`] for shards > 1) and is timed.
//!
//! Which batches are timed ([`timed_batches`]): epoch 0's full batches are ranked by
//! their real tokens and cut into `steps` equal strata, and step `k` of every round
//! takes the middle batch of stratum `k`. The timed batches then span the epoch's range
//! of batch lengths, which matters for length-sorted batches (from 3 to 82 tokens
//! wide): their epoch average is what training gets, and a few consecutive batches
//! would miss it. Every round times the same batches, so rounds differ only by the
//! machine's noise; every configuration of a batching times the same batches in the
//! same order, and `--export-batches` writes them for the PyTorch side
//! (`crates/gr-model/tools/hf_t5_train_bench.py`).
//!
//! Batching: `shuffled` cuts epoch 0's seeded shuffle into batches (`--sort-window 0`
//! of `specgr train tiger`); `sorted` sorts each run of `--sort-window` batches by
//! history length ([`length_sorted_batches`]) and interleaves each batch for its
//! shards ([`interleave_for_shards`]), as training with `--sort-window` does.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use burn::grad_clipping::GradientClippingConfig;
use burn::module::Module;
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::{AdamW, AdamWConfig, GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::ElementConversion;
use gr_model::schedule::{interleave_for_shards, length_sorted_batches, shuffled};
use gr_model::{MatmulPrecision, Tiger, TigerConfig, TigerPreset, TrainBatch, TrainExample, sharded_grads};

mod export;
mod measure;
mod report;

pub use measure::{timed_batches, train_flops};

use export::export_batches;
use measure::{matmul_rates, padded_tokens};
pub(crate) use report::median;
use report::{Report, RunReport, print_table};

use crate::cmd::DatasetArgs;
use crate::cmd::backend::DeviceKind;
use crate::machine::Machine;

/// `specgr bench train` arguments.
#[derive(Debug, clap::Args)]
pub struct BenchTrainArgs {
    /// Which dataset (its semantic IDs must exist: `specgr semid fit`).
    #[command(flatten)]
    pub dataset: DatasetArgs,
    /// Which semantic IDs.
    #[arg(long, default_value = "rqvae")]
    pub ids: crate::cmd::IdsName,
    /// A configuration to time, `<preset>-<batching>-<shards>[-<matmul>]`: preset
    /// `small`, `paper` (any `specgr train tiger --preset`), batching `shuffled` or
    /// `sorted`, shards 1, 2, ..., and optionally the linear maps' precision `f32` (the
    /// default) or `bf16` (`specgr train tiger --matmul`). Repeat the flag for several;
    /// they are timed in this order each round.
    #[arg(long = "config", value_name = "PRESET-BATCHING-SHARDS[-MATMUL]")]
    pub configs: Vec<RunSpec>,
    /// The configuration the ratios are relative to [default: the first `--config`].
    #[arg(long)]
    pub baseline: Option<RunSpec>,
    /// Rounds; each round times every configuration once (0: only export).
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Training steps per configuration and round (strata of batch length).
    #[arg(long, default_value_t = 3, value_parser = crate::cmd::args::positive)]
    pub steps: usize,
    /// Steps per round for `sorted` batching, whose batches differ in length far more
    /// [default: `--steps`].
    #[arg(long, value_parser = crate::cmd::args::positive)]
    pub sorted_steps: Option<usize>,
    /// Before the first round, one untimed step per configuration on this many rows
    /// of its first timed batch (allocates the optimizer state; 0: none).
    #[arg(long, default_value_t = 32)]
    pub warmup_rows: usize,
    /// Examples per step.
    #[arg(long, default_value_t = 256, value_parser = crate::cmd::args::positive)]
    pub batch_size: usize,
    /// Batches per length-sorted run for `sorted` batching.
    #[arg(long, default_value_t = 32, value_parser = crate::cmd::args::positive)]
    pub sort_window: usize,
    /// Learning rate (constant; no warm-up).
    #[arg(long, default_value_t = 1e-3, value_parser = crate::cmd::args::positive_f64)]
    pub lr: f64,
    /// AdamW weight decay (`specgr train tiger`'s default is 0.05; the paper runs use 0).
    #[arg(long, default_value_t = 0.05, value_parser = crate::cmd::args::non_negative_f64, allow_hyphen_values = true)]
    pub weight_decay: f64,
    /// Dropout probability [default: the preset's, 0.1].
    #[arg(long, value_parser = crate::cmd::args::dropout)]
    pub dropout: Option<f64>,
    /// Rows of the matmuls timed for the peak rate (about one sorted batch's real tokens).
    #[arg(long, default_value_t = 8192, value_parser = crate::cmd::args::positive)]
    pub peak_rows: usize,
    /// The seed (initialisation, shuffling, dropout).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Write the results as JSON here (the table goes to stdout either way).
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write the timed batches of `--export-batching` (one round's, in order) to this
    /// safetensors file: for each batch `b`, `batch.<b>.input_ids` (right-padded with PAD), `batch.<b>.lengths`,
    /// `batch.<b>.decoder_input_ids`, `batch.<b>.labels` (all int64).
    #[arg(long)]
    pub export_batches: Option<PathBuf>,
    /// Which batching to export (shards 1: the examples and padded width of every shard
    /// count) [default: the first `--config`'s].
    #[arg(long)]
    pub export_batching: Option<Batching>,
    /// Where to compute: `cpu` (Flex), or `tch` in builds with that feature.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceKind,
    /// The run directory holding `<dataset>/semid/<ids>/`.
    #[arg(long, default_value = "runs")]
    pub runs: PathBuf,
}

/// How a configuration batches the training examples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Batching {
    /// Plain batches of epoch 0's shuffled order.
    Shuffled,
    /// Length-sorted runs of `--sort-window` batches, each batch interleaved for its shards.
    Sorted,
}

impl Batching {
    fn name(self) -> &'static str {
        match self {
            Batching::Shuffled => "shuffled",
            Batching::Sorted => "sorted",
        }
    }
}

/// One configuration: `<preset>-<batching>-<shards>[-<matmul>]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunSpec {
    /// Model size.
    pub preset: TigerPreset,
    /// Batching.
    pub batching: Batching,
    /// Shards per batch (threads computing its gradient).
    pub shards: usize,
    /// Precision of the linear maps' and attention's products.
    pub matmul: MatmulPrecision,
}

impl std::str::FromStr for RunSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let expected = "expected <preset>-<batching>-<shards>[-<matmul>], e.g. small-sorted-2 or paper-sorted-1-bf16";
        let parts: Vec<&str> = s.split('-').collect();
        let (preset, batching, shards, matmul) = match parts[..] {
            [preset, batching, shards] => (preset, batching, shards, MatmulPrecision::F32),
            [preset, batching, shards, matmul] => {
                (preset, batching, shards, matmul.parse().map_err(|e| format!("{s:?}: {e}"))?)
            }
            _ => return Err(format!("{s:?}: {expected}")),
        };
        let preset: TigerPreset = preset.parse().map_err(|e| format!("{s:?}: {e}"))?;
        let batching = match batching {
            "shuffled" => Batching::Shuffled,
            "sorted" => Batching::Sorted,
            other => return Err(format!("{s:?}: unknown batching {other:?} (shuffled, sorted)")),
        };
        let shards: usize = shards.parse().map_err(|_| format!("{s:?}: shards must be a number; {expected}"))?;
        if shards == 0 {
            return Err(format!("{s:?}: at least one shard"));
        }
        Ok(Self { preset, batching, shards, matmul })
    }
}

impl std::fmt::Display for RunSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}-{}", self.preset.name(), self.batching.name(), self.shards)?;
        match self.matmul {
            MatmulPrecision::F32 => Ok(()),
            other => write!(f, "-{other}"),
        }
    }
}

impl serde::Serialize for RunSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The training loop of one configuration.
struct Runner<A: AutodiffBackend> {
    spec: RunSpec,
    config: TigerConfig,
    model: Option<Tiger<A>>,
    optim: OptimizerAdaptor<AdamW, Tiger<A>, A>,
    params: usize,
    batches: Vec<Vec<usize>>,
    steps_done: usize,
    rounds_s: Vec<f64>,
    rounds_samples: Vec<usize>,
    real_tokens: u64,
    padded_tokens: u64,
    flops: u64,
    samples: u64,
    epoch_real: f64,
    epoch_padded: f64,
}

/// Runs `specgr bench train`.
pub fn run(args: BenchTrainArgs) -> anyhow::Result<()> {
    for spec in &args.configs {
        crate::cmd::backend::check_matmul(args.device, spec.matmul)?;
    }
    crate::with_backend!(args.device, |B, device| run_on::<B>(&args, &device))
}

fn run_on<B: Backend>(args: &BenchTrainArgs, device: &B::Device) -> anyhow::Result<()> {
    anyhow::ensure!(
        !args.configs.is_empty() || args.export_batches.is_some(),
        "nothing to do: give at least one --config (or --export-batches)"
    );
    anyhow::ensure!(args.batch_size > 0 && args.steps > 0, "--batch-size and --steps must be positive");
    let (resolved, semid) = crate::cmd::load_ids::<B>(&args.dataset, args.ids, &args.runs, device)?;
    let split = resolved.dataset.split(&resolved.split)?;
    let max_history = resolved.split.max_history();
    let ids = semid.ids();
    let train: Vec<TrainExample> = crate::cmd::train::examples(&split.train);
    let digits = ids.layout().num_digits();
    let src_len = |i: usize| 2 + train[i].history.len().min(max_history) * digits;
    let epoch_batches = |batching: Batching| -> Vec<Vec<usize>> {
        let window = if batching == Batching::Sorted { args.sort_window } else { 0 };
        let order = shuffled(train.len(), args.seed, 0);
        let mut batches = length_sorted_batches(&order, src_len, args.batch_size, window, args.seed, 0);
        batches.retain(|b| b.len() == args.batch_size);
        batches
    };
    let steps_of = |batching: Batching| match batching {
        Batching::Sorted => args.sorted_steps.unwrap_or(args.steps),
        Batching::Shuffled => args.steps,
    };
    anyhow::ensure!(steps_of(Batching::Sorted) > 0, "--sorted-steps must be positive");
    eprintln!(
        "{}: {} training examples, {} full batches of {}",
        resolved.dataset.name,
        train.len(),
        train.len() / args.batch_size,
        args.batch_size
    );

    if let Some(path) = &args.export_batches {
        let batching = args
            .export_batching
            .or(args.configs.first().map(|c| c.batching))
            .context("--export-batches needs --export-batching or a --config")?;
        let all = epoch_batches(batching);
        let picked: Vec<Vec<usize>> =
            timed_batches(&all, &src_len, steps_of(batching)).into_iter().map(|b| all[b].clone()).collect();
        export_batches::<B>(path, &picked, &train, ids, max_history, batching, args, device)?;
    }
    if args.configs.is_empty() || args.rounds == 0 {
        return Ok(());
    }

    let baseline = args.baseline.unwrap_or(args.configs[0]);
    anyhow::ensure!(args.configs.contains(&baseline), "--baseline {baseline} is not one of the --config values");
    let vocab = ids.layout().vocab_size() as usize;
    let mut runners: Vec<Runner<burn::backend::Autodiff<B>>> = Vec::new();
    for &spec in &args.configs {
        let mut config = TigerConfig::preset(spec.preset, vocab).with_max_history(max_history);
        if let Some(p) = args.dropout {
            config = config.with_dropout(p);
        }
        <burn::backend::Autodiff<B> as Backend>::seed(device, args.seed);
        let mut model = config.init::<burn::backend::Autodiff<B>>(device)?;
        model.set_matmul_precision(spec.matmul);
        model.seed_dropout(args.seed);
        let optim = AdamWConfig::new()
            .with_weight_decay(args.weight_decay as f32)
            .with_grad_clipping(Some(GradientClippingConfig::Norm(1.0)))
            .init();
        let batches: Vec<Vec<usize>> = epoch_batches(spec.batching)
            .into_iter()
            .map(|b| if spec.batching == Batching::Sorted { interleave_for_shards(&b, spec.shards) } else { b })
            .collect();
        let epoch_samples = batches.iter().map(Vec::len).sum::<usize>().max(1) as f64;
        let epoch_real = batches.iter().flatten().map(|&i| src_len(i)).sum::<usize>() as f64 / epoch_samples;
        let epoch_padded =
            batches.iter().map(|b| padded_tokens(b, spec.shards, &src_len)).sum::<u64>() as f64 / epoch_samples;
        runners.push(Runner {
            spec,
            params: model.num_params(),
            config,
            model: Some(model),
            optim,
            batches,
            steps_done: 0,
            rounds_s: Vec::new(),
            rounds_samples: Vec::new(),
            real_tokens: 0,
            padded_tokens: 0,
            flops: 0,
            samples: 0,
            epoch_real,
            epoch_padded,
        });
    }

    let step = |r: &mut Runner<burn::backend::Autodiff<B>>, rows: &[usize]| -> anyhow::Result<()> {
        let examples: Vec<&TrainExample> = rows.iter().map(|&i| &train[i]).collect();
        let model = r.model.take().expect("the model is put back after each step");
        let (_, grads) = if r.spec.shards <= 1 {
            let batch = TrainBatch::new(&examples, ids, max_history, 0, device)?;
            let loss = model.loss(&batch);
            let value = loss.clone().into_scalar().elem::<f32>();
            (value, GradientsParams::from_grads(loss.backward(), &model))
        } else {
            let stream = args.seed ^ (r.steps_done as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            sharded_grads(&model, &examples, r.spec.shards, stream, |part, start| {
                TrainBatch::new(part, ids, max_history, start, device)
            })?
        };
        r.model = Some(r.optim.step(args.lr, model, grads));
        r.steps_done += 1;
        Ok(())
    };

    if args.warmup_rows > 0 {
        for r in &mut runners {
            let first = &r.batches[timed_batches(&r.batches, &src_len, steps_of(r.spec.batching))[0]];
            let rows = first[..args.warmup_rows.min(first.len())].to_vec();
            step(r, &rows)?;
        }
    }
    let dec_len = digits + 1;
    for round in 0..args.rounds {
        for r in &mut runners {
            let picks: Vec<Vec<usize>> = timed_batches(&r.batches, &src_len, steps_of(r.spec.batching))
                .into_iter()
                .map(|b| r.batches[b].clone())
                .collect();
            let started = Instant::now();
            for rows in &picks {
                step(r, rows)?;
            }
            let elapsed = started.elapsed().as_secs_f64();
            let samples: usize = picks.iter().map(Vec::len).sum();
            r.rounds_s.push(elapsed);
            r.rounds_samples.push(samples);
            for rows in &picks {
                r.padded_tokens += padded_tokens(rows, r.spec.shards, &src_len);
                for &i in rows {
                    r.real_tokens += src_len(i) as u64;
                    r.flops += train_flops(&r.config, src_len(i), dec_len);
                }
                r.samples += rows.len() as u64;
            }
            eprintln!(
                "round {}/{} {}: {:.1} samples/s ({samples} in {elapsed:.2} s)",
                round + 1,
                args.rounds,
                r.spec,
                samples as f64 / elapsed
            );
        }
    }

    let matmul =
        matmul_rates::<B>(&runners.iter().map(|r| r.config.clone()).collect::<Vec<_>>(), args.peak_rows, device);
    let peak = matmul.iter().map(|m| m.gflops).fold(0.0, f64::max);
    let rate =
        |r: &Runner<_>| -> Vec<f64> { r.rounds_samples.iter().zip(&r.rounds_s).map(|(&n, &s)| n as f64 / s).collect() };
    let base = median(&rate(runners.iter().find(|r| r.spec == baseline).expect("baseline is a config")));
    let runs: Vec<RunReport> = runners
        .iter()
        .map(|r| {
            let rates = rate(r);
            let med = median(&rates);
            let samples = r.samples.max(1) as f64;
            let flop_per_sample = r.flops as f64 / samples;
            let padded_per_sample = r.padded_tokens as f64 / samples;
            // FLOPs at the padded width: the per-sample count at the mean padded length.
            let padded_flop = train_flops(&r.config, padded_per_sample.round() as usize, dec_len) as f64;
            RunReport {
                config: r.spec,
                preset: r.spec.preset.name(),
                batching: r.spec.batching,
                shards: r.spec.shards,
                params: r.params,
                model: r.config.clone(),
                median_samples_per_sec: med,
                min_samples_per_sec: rates.iter().copied().fold(f64::INFINITY, f64::min),
                max_samples_per_sec: rates.iter().copied().fold(0.0, f64::max),
                rounds_samples_per_sec: rates,
                ratio_to_baseline: med / base,
                real_tokens_per_sample: r.real_tokens as f64 / samples,
                padded_tokens_per_sample: padded_per_sample,
                epoch_real_tokens_per_sample: r.epoch_real,
                epoch_padded_tokens_per_sample: r.epoch_padded,
                train_gflop_per_sample_real: flop_per_sample / 1e9,
                gflops_real: med * flop_per_sample / 1e9,
                gflops_padded: med * padded_flop / 1e9,
                share_of_peak_real: med * flop_per_sample / 1e9 / peak,
            }
        })
        .collect();
    let report = Report {
        command: std::env::args().collect::<Vec<_>>().join(" "),
        git_revision: crate::report::git_revision(),
        build_profile: if cfg!(debug_assertions) { "dev" } else { "release" },
        device: format!("{:?}", args.device),
        rayon_num_threads: std::env::var("RAYON_NUM_THREADS").ok(),
        dataset: resolved.dataset.name.clone(),
        ids: args.ids.name(),
        train_examples: train.len(),
        batch_size: args.batch_size,
        sort_window: args.sort_window,
        rounds: args.rounds,
        steps: args.steps,
        sorted_steps: steps_of(Batching::Sorted),
        warmup_rows: args.warmup_rows,
        lr: args.lr,
        weight_decay: args.weight_decay,
        seed: args.seed,
        baseline,
        matmul_peak_gflops: peak,
        matmul,
        runs,
        machine: Machine::current(),
        unix_time: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
    };
    print_table(&report);
    if let Some(path) = &args.json {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_specs_parse_and_print() {
        let s: RunSpec = "paper-sorted-2".parse().unwrap();
        assert_eq!(
            s,
            RunSpec { preset: TigerPreset::Paper, batching: Batching::Sorted, shards: 2, matmul: MatmulPrecision::F32 }
        );
        assert_eq!(s.to_string(), "paper-sorted-2");
        assert_eq!("paper-sorted-2-f32".parse::<RunSpec>().unwrap(), s);
        let b: RunSpec = "paper-sorted-1-bf16".parse().unwrap();
        assert_eq!((b.shards, b.matmul), (1, MatmulPrecision::Bf16));
        assert_eq!(b.to_string(), "paper-sorted-1-bf16");
        for bad in
            ["paper-sorted", "huge-sorted-1", "small-random-1", "small-sorted-0", "small-sorted-x", "small-sorted-1-f16", "a-b-1-bf16-x"]
        {
            assert!(bad.parse::<RunSpec>().is_err(), "{bad}");
        }
    }

    #[test]
    fn timed_batches_take_the_middle_batch_of_each_length_stratum() {
        // Batch b holds one example of length 100 - b: ranked, batch 99 is the shortest.
        let batches: Vec<Vec<usize>> = (0..100).map(|b| vec![b]).collect();
        let len = |i: usize| 100 - i;
        // Ranks 12, 37, 62, 87 (0 = shortest) are batches 87, 62, 37, 12.
        assert_eq!(timed_batches(&batches, &len, 4), vec![87, 62, 37, 12]);
        assert_eq!(timed_batches(&batches, &len, 1), vec![49]);
    }

    #[test]
    fn train_flops_follow_the_formula() {
        // One layer each way, 1 head of 2, d_model 2, d_ff 4, vocabulary 10.
        let c = TigerConfig::new(10)
            .with_d_model(2)
            .with_d_kv(2)
            .with_num_heads(1)
            .with_d_ff(4)
            .with_num_encoder_layers(1)
            .with_num_decoder_layers(1);
        let (l, t, d, i, f, v) = (3u64, 2u64, 2u64, 2u64, 4u64, 10u64);
        let encoder = 8 * l * d * i + 4 * l * l * i + 4 * l * d * f;
        let decoder =
            8 * t * d * i + 4 * (t * (t + 1) / 2) * i + 4 * t * d * i + 4 * l * d * i + 4 * t * l * i + 4 * t * d * f;
        let output = 2 * t * d * v;
        assert_eq!(train_flops(&c, 3, 2), 3 * (encoder + decoder + output));
    }
}
