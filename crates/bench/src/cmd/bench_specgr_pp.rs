//! `specgr bench specgr-pp`: SpecGR++'s training throughput (embedding-batch examples
//! per second) on real data, one stage-1 or stage-2 step as `specgr train specgr++`
//! takes it, with the encoder's micro-batching as the configurations side by side.
//!
//! Each `--micro-batch` value gets its own model (the `--init` TIGER with a fresh head,
//! or fresh weights) and AdamW optimiser, created once. Then, in interleaved rounds,
//! every configuration runs the same `--steps` batches (the first ones of epoch 0's
//! seeded shuffle, as training draws them) and is timed: forward, backward and the
//! optimiser step. The batches are shuffled, so nearly every one holds a history of
//! the longest length: padding to it is what micro-batches avoid.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use burn::grad_clipping::GradientClippingConfig;
use burn::module::AutodiffModule;
use burn::optim::{AdamWConfig, GradientsParams, Optimizer};
use burn::tensor::ElementConversion;
use burn::tensor::backend::Backend;
use gr_model::schedule::shuffled;
use gr_model::{ProjectionConfig, SpecGrPp, SpecGrPpTrainConfig, Stage, TigerConfig, TigerPreset, TrainExample};

use crate::cmd::DatasetArgs;
use crate::cmd::backend::DeviceKind;
use crate::machine::Machine;

/// `specgr bench specgr-pp` arguments.
#[derive(Debug, clap::Args)]
pub struct BenchSpecGrPpArgs {
    /// Which dataset (its semantic IDs must exist: `specgr semid fit`).
    #[command(flatten)]
    pub dataset: DatasetArgs,
    /// Which semantic IDs.
    #[arg(long, default_value = "rqvae")]
    pub ids: crate::cmd::IdsName,
    /// Model size (any `specgr train specgr++ --preset`).
    #[arg(long, default_value = "paper")]
    pub preset: TigerPreset,
    /// Start from this TIGER checkpoint (a fresh head is added) instead of fresh weights.
    #[arg(long)]
    pub init: Option<PathBuf>,
    /// Which stage's step: 1 (InfoNCE, in-batch negatives) or 2 (softmax over every
    /// in-sample item, against item vectors computed once from the starting model).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    pub stage: u8,
    /// A micro-batch size to time (0: the whole batch at once). Repeat the flag for
    /// several; the first is the baseline of the ratios [default: 0 and 128].
    #[arg(long = "micro-batch")]
    pub micro_batches: Vec<usize>,
    /// Rounds; each times every configuration once.
    #[arg(long, default_value_t = 3, value_parser = crate::cmd::args::positive)]
    pub rounds: usize,
    /// Timed steps per configuration and round.
    #[arg(long, default_value_t = 2, value_parser = crate::cmd::args::positive)]
    pub steps: usize,
    /// Embedding batch [default: the stage's, 1024 or 256].
    #[arg(long, value_parser = crate::cmd::args::positive)]
    pub emb_batch_size: Option<usize>,
    /// Generation batch [default: the stage's, 256].
    #[arg(long)]
    pub gen_batch_size: Option<usize>,
    /// The seed (initialisation, shuffling, dropout).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Write the results as JSON here (the table goes to stdout either way).
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Where to compute: `cpu` (Flex), or `tch` in builds with that feature.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceKind,
    /// The run directory holding `<dataset>/semid/<ids>/`.
    #[arg(long, default_value = "runs")]
    pub runs: PathBuf,
}

/// One configuration's measurements.
#[derive(Debug, serde::Serialize)]
struct RunReport {
    micro_batch: usize,
    rounds_samples_per_sec: Vec<f64>,
    median_samples_per_sec: f64,
    ratio_to_baseline: f64,
    /// Encoder tokens per example: real, and as padded (each micro-batch to its longest).
    real_tokens_per_sample: f64,
    padded_tokens_per_sample: f64,
}

#[derive(Debug, serde::Serialize)]
struct Report {
    command: String,
    git_revision: String,
    build_profile: &'static str,
    device: String,
    dataset: String,
    ids: String,
    preset: &'static str,
    init: Option<PathBuf>,
    stage: u8,
    train_examples: usize,
    emb_batch_size: usize,
    gen_batch_size: usize,
    rounds: usize,
    steps: usize,
    seed: u64,
    runs: Vec<RunReport>,
    machine: Machine,
    unix_time: u64,
}

/// Runs `specgr bench specgr-pp`.
pub fn run(args: BenchSpecGrPpArgs) -> anyhow::Result<()> {
    crate::with_backend!(args.device, |B, device| run_on::<B>(&args, &device))
}

fn run_on<B: Backend>(args: &BenchSpecGrPpArgs, device: &B::Device) -> anyhow::Result<()> {
    type Ad<B> = burn::backend::Autodiff<B>;
    let micro_batches = if args.micro_batches.is_empty() { vec![0, 128] } else { args.micro_batches.clone() };
    let (resolved, semid) = crate::cmd::load_ids::<B>(&args.dataset, args.ids, &args.runs, device)?;
    let split = resolved.dataset.split(&resolved.split)?;
    let max_history = resolved.split.max_history();
    let ids = semid.ids();
    let train: Vec<TrainExample> = crate::cmd::train::examples(&split.train);
    let mut stage = match args.stage {
        1 => SpecGrPpTrainConfig::stage1(),
        _ => SpecGrPpTrainConfig::stage2(),
    }
    .with_seed(args.seed);
    if let Some(b) = args.emb_batch_size {
        stage = stage.with_emb_batch_size(b);
    }
    if let Some(b) = args.gen_batch_size {
        stage = stage.with_gen_batch_size(b);
    }
    let batch = stage.emb_batch_size;
    let order = shuffled(train.len(), args.seed, 0);
    let picks: Vec<&[usize]> = order.chunks(batch).filter(|b| b.len() == batch).take(args.steps).collect();
    anyhow::ensure!(
        picks.len() == args.steps,
        "{} training examples make {} full batches of {batch}, fewer than --steps {}",
        train.len(),
        train.len() / batch,
        args.steps
    );
    let model_config = TigerConfig::preset(args.preset, ids.layout().vocab_size()).with_max_history(max_history);
    let head = ProjectionConfig::new(model_config.d_model);
    let fresh = || -> anyhow::Result<SpecGrPp<Ad<B>>> {
        <Ad<B> as Backend>::seed(device, args.seed);
        let model = match &args.init {
            Some(dir) => SpecGrPp::<Ad<B>>::load_or_new_head(dir, &head, device)
                .with_context(|| format!("loading --init {}", dir.display()))?,
            None => SpecGrPp { tiger: model_config.init::<Ad<B>>(device)?, head: head.init::<Ad<B>>(device)? },
        };
        model.tiger.check_ids(ids)?;
        model.tiger.seed_dropout(args.seed);
        Ok(model)
    };
    // Stage 2's table: every in-sample item's vector from the starting model.
    let rank_table = match stage.stage {
        Stage::Contrastive => None,
        Stage::Rank => {
            let items = fresh()?.valid().embed_all_items(ids, stage.eval_batch_size, device)?;
            let in_sample: Vec<u32> = split.in_sample_items().iter().map(|i| i.0).collect();
            Some(gr_model::in_sample_table::<Ad<B>>(&items, &in_sample, device)?)
        }
    };
    eprintln!(
        "{}: {} training examples; stage {}, batches of {batch} (generation {}), {} timed steps",
        resolved.dataset.name,
        train.len(),
        args.stage,
        stage.gen_batch_size,
        args.steps
    );

    let tokens = |i: usize| 2 + train[i].history.len().min(max_history) * ids.layout().num_digits();
    let mut runners = Vec::new();
    for &m in &micro_batches {
        let optim = AdamWConfig::new()
            .with_weight_decay(stage.weight_decay as f32)
            .with_grad_clipping(Some(GradientClippingConfig::Norm(stage.grad_clip_norm)))
            .init::<Ad<B>, SpecGrPp<Ad<B>>>();
        runners.push((stage.clone().with_micro_batch(m), Some(fresh()?), optim, Vec::new()));
    }
    for round in 0..args.rounds {
        for (config, model, optim, rates) in &mut runners {
            let started = Instant::now();
            for rows in &picks {
                let examples: Vec<&TrainExample> = rows.iter().map(|&i| &train[i]).collect();
                let m = model.take().expect("the model is put back after each step");
                let (emb, generation) =
                    gr_model::specgr_pp_losses(&m, &examples, ids, config, rank_table.as_ref(), None, device)?;
                let mut loss = emb.mul_scalar(config.lambda_emb);
                if let Some(g) = generation {
                    loss = loss + g.mul_scalar(config.lambda_gen);
                }
                let _ = loss.clone().into_scalar().elem::<f32>();
                let grads = GradientsParams::from_grads(loss.backward(), &m);
                *model = Some(optim.step(stage.lr, m, grads));
            }
            let elapsed = started.elapsed().as_secs_f64();
            let samples = picks.len() * batch;
            rates.push(samples as f64 / elapsed);
            eprintln!(
                "round {}/{} micro-batch {}: {:.1} samples/s ({samples} in {elapsed:.2} s)",
                round + 1,
                args.rounds,
                config.micro_batch,
                samples as f64 / elapsed
            );
        }
    }

    let samples = (picks.len() * batch) as f64;
    let real = picks.iter().flat_map(|b| b.iter()).map(|&i| tokens(i)).sum::<usize>() as f64 / samples;
    let padded = |m: usize| {
        let mut total = 0usize;
        for rows in &picks {
            let mut lengths: Vec<usize> = rows.iter().map(|&i| tokens(i)).collect();
            let chunk = if m == 0 { lengths.len() } else { lengths.sort_unstable(); m };
            total += lengths.chunks(chunk).map(|c| c.len() * c.iter().max().copied().unwrap_or(0)).sum::<usize>();
        }
        total as f64 / samples
    };
    let base = crate::cmd::bench_train::median(&runners[0].3);
    let runs: Vec<RunReport> = runners
        .iter()
        .map(|(config, _, _, rates)| {
            let median = crate::cmd::bench_train::median(rates);
            RunReport {
                micro_batch: config.micro_batch,
                rounds_samples_per_sec: rates.clone(),
                median_samples_per_sec: median,
                ratio_to_baseline: median / base,
                real_tokens_per_sample: real,
                padded_tokens_per_sample: padded(config.micro_batch),
            }
        })
        .collect();
    println!("| micro-batch | samples/s (median) | rounds | ratio | encoder tokens/example real | padded |");
    println!("| ---: | ---: | --- | ---: | ---: | ---: |");
    for r in &runs {
        let rounds: Vec<String> = r.rounds_samples_per_sec.iter().map(|x| format!("{x:.1}")).collect();
        println!(
            "| {} | {:.1} | {} | {:.2}x | {:.1} | {:.1} |",
            r.micro_batch,
            r.median_samples_per_sec,
            rounds.join(", "),
            r.ratio_to_baseline,
            r.real_tokens_per_sample,
            r.padded_tokens_per_sample
        );
    }
    let report = Report {
        command: std::env::args().collect::<Vec<_>>().join(" "),
        git_revision: crate::report::git_revision(),
        build_profile: if cfg!(debug_assertions) { "dev" } else { "release" },
        device: format!("{:?}", args.device),
        dataset: resolved.dataset.name.clone(),
        ids: args.ids.name(),
        preset: args.preset.name(),
        init: args.init.clone(),
        stage: args.stage,
        train_examples: train.len(),
        emb_batch_size: batch,
        gen_batch_size: stage.gen_batch_size,
        rounds: args.rounds,
        steps: args.steps,
        seed: args.seed,
        runs,
        machine: Machine::current(),
        unix_time: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
    };
    if let Some(path) = &args.json {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        recdata::fsio::write_atomic(path, serde_json::to_string_pretty(&report)?.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
