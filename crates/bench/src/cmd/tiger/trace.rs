//! `specgr tiger trace` (a training run that also writes every step's loss, its initial
//! weights under HF T5 names and its exact token batches) and `specgr tiger batch-loss`
//! (a checkpoint's mean loss on such batches).

use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use burn::backend::Autodiff;
use burn::tensor::backend::Backend;
use burn::tensor::{ElementConversion, Int, Tensor};
use gr_model::hf::save_hf_t5;
use gr_model::schedule::{LrSchedule, interleave_for_shards, length_sorted_batches, shuffled};
use gr_model::{Tiger, TigerConfig, TrainBatch, TrainConfig, TrainEvent, TrainExample};
use semid::SemanticIds;

use crate::cmd::backend::DeviceKind;
use crate::cmd::load_ids;
use crate::cmd::train::{TigerArgs, tiger_configs, tiger_examples, tiger_run_dir};

/// `specgr tiger trace` arguments: every `specgr train tiger` argument, plus where to
/// write what the run does step by step.
#[derive(Debug, clap::Args)]
pub struct TraceArgs {
    /// The training run, exactly as `specgr train tiger` takes it.
    #[command(flatten)]
    pub train: TigerArgs,
    /// Write `step,epoch,samples,lr,loss,seconds` of every step here (CSV).
    #[arg(long)]
    pub loss_csv: Option<PathBuf>,
    /// Write the run's initial weights under HF T5 names here (safetensors).
    #[arg(long)]
    pub init_hf: Option<PathBuf>,
    /// Write the token batches of every step, in training order, here (safetensors):
    /// `batch.<b>.input_ids` (right-padded with PAD), `batch.<b>.lengths`,
    /// `batch.<b>.decoder_input_ids`, `batch.<b>.labels` (int64, as `specgr bench
    /// train --export-batches` names them), `lr` (float64, each step's learning rate),
    /// and the run's settings in the metadata key `export` (JSON).
    #[arg(long)]
    pub export_batches: Option<PathBuf>,
    /// Stop after this many steps (before any validation).
    #[arg(long, value_parser = crate::cmd::args::positive)]
    pub max_steps: Option<usize>,
    /// Write `--init-hf` and `--export-batches`, and do not train.
    #[arg(long)]
    pub export_only: bool,
}

/// The learning-rate schedule [`gr_model::train`] follows (its warm-up rule).
fn schedule(config: &TrainConfig, train_len: usize) -> LrSchedule {
    let batch_size = config.batch_size.max(1);
    let total_steps = train_len.div_ceil(batch_size) * config.max_epochs;
    let warmup = if config.warmup_steps > 0 {
        config.warmup_steps
    } else {
        (total_steps as f64 * config.warmup_fraction).round() as usize
    };
    LrSchedule::with_warmup_steps(config.lr, total_steps, warmup, config.lr_decay)
}

/// The examples of every step, in training order: [`gr_model::train`]'s batching
/// (seeded shuffle, length-sorted runs, interleaving for shards), epoch after epoch.
fn steps(train: &[TrainExample], model_config: &TigerConfig, config: &TrainConfig) -> Vec<Vec<usize>> {
    let token_length = |i: usize| train[i].history.len().min(model_config.max_history);
    let mut out = Vec::new();
    for epoch in 0..config.max_epochs {
        let order = shuffled(train.len(), config.seed, epoch as u64);
        let batches =
            length_sorted_batches(&order, token_length, config.batch_size.max(1), config.sort_window, config.seed, epoch as u64);
        for chunk in batches {
            out.push(if config.sort_window > 0 { interleave_for_shards(&chunk, config.shards) } else { chunk });
        }
    }
    out
}

fn ints<B: Backend>(t: Tensor<B, 2, Int>) -> anyhow::Result<(Vec<usize>, Vec<u8>)> {
    let d = t.into_data().convert::<i64>();
    let shape = d.shape.to_vec();
    let values = d.to_vec::<i64>().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok((shape, values.into_iter().flat_map(i64::to_le_bytes).collect()))
}

/// Writes the token batches of `steps` (see [`TraceArgs::export_batches`]).
#[allow(clippy::too_many_arguments)]
fn export_batches<B: Backend>(
    path: &Path,
    steps: &[Vec<usize>],
    train: &[TrainExample],
    ids: &SemanticIds,
    model_config: &TigerConfig,
    config: &TrainConfig,
    schedule: &LrSchedule,
    meta: serde_json::Value,
    device: &B::Device,
) -> anyhow::Result<()> {
    use safetensors::{Dtype, tensor::TensorView};
    let mut buffers: Vec<(String, Vec<usize>, Vec<u8>, Dtype)> = Vec::new();
    for (b, rows) in steps.iter().enumerate() {
        let examples: Vec<&TrainExample> = rows.iter().map(|&i| &train[i]).collect();
        let batch = TrainBatch::<B>::new(&examples, ids, model_config.max_history, 0, device)?;
        for (name, t) in [("input_ids", batch.source), ("decoder_input_ids", batch.decoder_input), ("labels", batch.labels)] {
            let (shape, bytes) = ints(t)?;
            buffers.push((format!("batch.{b}.{name}"), shape, bytes, Dtype::I64));
        }
        let lengths: Vec<u8> = batch.lengths.iter().flat_map(|&l| (l as i64).to_le_bytes()).collect();
        buffers.push((format!("batch.{b}.lengths"), vec![batch.lengths.len()], lengths, Dtype::I64));
    }
    let lrs: Vec<u8> = (0..steps.len()).flat_map(|s| schedule.at(s).to_le_bytes()).collect();
    buffers.push(("lr".into(), vec![steps.len()], lrs, Dtype::F64));
    let views = buffers
        .iter()
        .map(|(name, shape, bytes, dtype)| Ok((name.clone(), TensorView::new(*dtype, shape.clone(), bytes)?)))
        .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()?;
    let mut meta = meta;
    meta["batches"] = serde_json::json!(steps.len());
    meta["samples"] = serde_json::json!(steps.iter().map(Vec::len).sum::<usize>());
    meta["total_steps"] = serde_json::json!(schedule.total_steps());
    meta["train_config"] = serde_json::to_value(config)?;
    meta["model_config"] = serde_json::to_value(model_config)?;
    let metadata = std::collections::HashMap::from([("export".to_owned(), meta.to_string())]);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let bytes = safetensors::serialize(views, Some(metadata))?;
    recdata::fsio::write_atomic(path, &bytes)?;
    Ok(())
}

/// Runs `specgr tiger trace` on backend `B`.
pub(super) fn run<B: Backend>(args: &TraceArgs, device: &B::Device) -> anyhow::Result<()> {
    let a = &args.train;
    if !a.devices.is_empty() {
        bail!("`specgr tiger trace` runs on one device (--device); --devices is for `specgr train tiger`");
    }
    let (resolved, semid) = load_ids::<B>(&a.dataset, a.ids, &a.runs, device)?;
    let split = resolved.dataset.split(&resolved.split)?;
    let ids = semid.ids();
    let (model_config, config) = tiger_configs(a, ids.layout().vocab_size() as usize, resolved.split.max_history())?;
    let (train, valid) = tiger_examples(a, &split);
    let out = tiger_run_dir(a)?;
    let schedule = schedule(&config, train.len());

    let mut steps = steps(&train, &model_config, &config);
    if let Some(n) = args.max_steps {
        steps.truncate(n);
    }
    if let Some(path) = &args.init_hf {
        // `gr_model::train` seeds the backend's generator with the run's seed and builds
        // the model. Burn initialises parameters lazily, each on its first access, in
        // the order of those accesses: the trainer's first access is the forward pass of
        // its first batch, so the same forward pass here draws the same weights (saving
        // the fresh model instead would draw them in the key table's order: other
        // weights from the same seed).
        <Autodiff<B> as Backend>::seed(device, config.seed);
        let model = model_config.init::<Autodiff<B>>(device)?;
        model.seed_dropout(config.seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
        let examples: Vec<&TrainExample> = steps[0].iter().map(|&i| &train[i]).collect();
        let batch = TrainBatch::<Autodiff<B>>::new(&examples, ids, model_config.max_history, 0, device)?;
        let loss = model.loss(&batch).into_scalar().elem::<f32>();
        save_hf_t5(&model, path)?;
        eprintln!(
            "wrote the initial weights (seed {}) to {}; their loss on the first batch: {loss:.7}",
            config.seed,
            path.display()
        );
    }
    if let Some(path) = &args.export_batches {
        if config.shards > 1 {
            eprintln!(
                "note: --shards {}: training computes each batch in {} parts (their gradients summed); \
                 the export holds whole batches",
                config.shards, config.shards
            );
        }
        let meta = serde_json::json!({
            "dataset": resolved.dataset.name,
            "ids": a.ids.name(),
            "train_examples": train.len(),
            "batch_size": config.batch_size,
            "sort_window": config.sort_window,
            "shards": config.shards,
            "seed": config.seed,
            "epochs": config.max_epochs,
            "lr": config.lr,
            "lr_decay": config.lr_decay,
            "warmup_steps": config.warmup_steps,
            "weight_decay": config.weight_decay,
            "grad_clip_norm": config.grad_clip_norm,
            "vocab_size": ids.layout().vocab_size(),
            "pad": ids.layout().pad(),
            "bos": ids.layout().bos(),
            "eos": ids.layout().eos(),
            "num_digits": ids.layout().num_digits(),
            "max_history": model_config.max_history,
            "command": std::env::args().collect::<Vec<_>>().join(" "),
            "git_revision": crate::report::git_revision(),
        });
        export_batches::<B>(path, &steps, &train, ids, &model_config, &config, &schedule, meta, device)?;
        eprintln!(
            "wrote {} batches ({} samples) to {}",
            steps.len(),
            steps.iter().map(Vec::len).sum::<usize>(),
            path.display()
        );
    }
    if args.export_only {
        return Ok(());
    }

    let mut csv = match &args.loss_csv {
        Some(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let mut f = std::io::BufWriter::new(
                std::fs::File::create(path).with_context(|| format!("writing {}", path.display()))?,
            );
            writeln!(f, "step,epoch,samples,lr,loss,seconds")?;
            Some(f)
        }
        None => None,
    };
    let progress = crate::cmd::training_progress::TrainingProgress::new("", 100);
    let started = Instant::now();
    let mut samples = 0usize;
    let mut write_error: Option<std::io::Error> = None;
    let batch_size = config.batch_size.max(1);
    let train_len = train.len();
    let mut on_event = |e: &TrainEvent| {
        match e {
            TrainEvent::Step { epoch, step, loss, lr, .. } => {
                // The last batch of an epoch may be short.
                let in_epoch = step % train_len.div_ceil(batch_size);
                samples += (train_len - in_epoch * batch_size).min(batch_size);
                if let Some(f) = csv.as_mut()
                    && let Err(err) = writeln!(
                        f,
                        "{step},{epoch},{samples},{lr:e},{loss:.9},{:.3}",
                        started.elapsed().as_secs_f64()
                    )
                {
                    write_error.get_or_insert(err);
                }
                progress.tiger(e);
                if args.max_steps.is_some_and(|n| step + 1 >= n) || write_error.is_some() {
                    return ControlFlow::Break(());
                }
            }
            _ => progress.tiger(e),
        }
        ControlFlow::Continue(())
    };
    let state = gr_model::train::<Autodiff<B>>(&model_config, &config, ids, &train, &valid, &out, device, &mut on_event)?;
    progress.finish();
    if let Some(err) = write_error {
        bail!("writing the loss CSV: {err}");
    }
    if let Some(mut f) = csv {
        f.flush()?;
    }
    println!(
        "trained {} epochs ({} steps, {} samples in {:.0} s); validations {:?}; model in {}",
        state.epochs_done,
        state.steps_done,
        state.samples_seen,
        started.elapsed().as_secs_f64(),
        state.validations,
        out.display()
    );
    Ok(())
}

/// `specgr tiger batch-loss` arguments.
#[derive(Debug, clap::Args)]
pub struct BatchLossArgs {
    /// A TIGER checkpoint directory.
    #[arg(long)]
    pub model: PathBuf,
    /// A `specgr tiger trace --export-batches` file.
    #[arg(long)]
    pub batches: PathBuf,
    /// The first batch to score.
    #[arg(long, default_value_t = 0)]
    pub first: usize,
    /// How many batches to score.
    #[arg(long, default_value_t = 8, value_parser = crate::cmd::args::positive)]
    pub count: usize,
    /// With dropout (the checkpoint config's rate), averaged over this many mask draws
    /// per batch; 0: without dropout.
    #[arg(long, default_value_t = 0)]
    pub draws: usize,
    /// Seed of the dropout masks.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where to compute.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceKind,
}

/// Batch `b` of an export file as a [`TrainBatch`].
fn read_batch<B: Backend>(st: &safetensors::SafeTensors<'_>, b: usize, device: &B::Device) -> anyhow::Result<TrainBatch<B>> {
    let get = |name: &str| -> anyhow::Result<(Vec<usize>, Vec<i64>)> {
        let v = st.tensor(&format!("batch.{b}.{name}")).with_context(|| format!("batch.{b}.{name}"))?;
        anyhow::ensure!(v.dtype() == safetensors::Dtype::I64, "batch.{b}.{name}: not int64");
        let values = v.data().chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes"))).collect();
        Ok((v.shape().to_vec(), values))
    };
    let matrix = |(shape, values): (Vec<usize>, Vec<i64>)| -> anyhow::Result<Tensor<B, 2, Int>> {
        anyhow::ensure!(shape.len() == 2, "not a matrix: {shape:?}");
        Ok(Tensor::from_data(burn::tensor::TensorData::new(values, [shape[0], shape[1]]), device))
    };
    let (_, lengths) = get("lengths")?;
    Ok(TrainBatch {
        source: matrix(get("input_ids")?)?,
        lengths: lengths.into_iter().map(|l| l as usize).collect(),
        decoder_input: matrix(get("decoder_input_ids")?)?,
        labels: matrix(get("labels")?)?,
    })
}

/// Runs `specgr tiger batch-loss` on backend `B`.
pub(super) fn batch_loss<B: Backend>(args: &BatchLossArgs, device: &B::Device) -> anyhow::Result<()> {
    let bytes = std::fs::read(&args.batches).with_context(|| format!("reading {}", args.batches.display()))?;
    let st = safetensors::SafeTensors::deserialize(&bytes)?;
    let mut losses = Vec::new();
    if args.draws == 0 {
        let model = Tiger::<B>::load(&args.model, device)?;
        for b in args.first..args.first + args.count {
            losses.push(model.loss(&read_batch::<B>(&st, b, device)?).into_scalar().elem::<f32>() as f64);
        }
    } else {
        // Dropout is active on autodiff backends only.
        let model = Tiger::<Autodiff<B>>::load(&args.model, device)?;
        model.seed_dropout(args.seed);
        for b in args.first..args.first + args.count {
            let batch = read_batch::<Autodiff<B>>(&st, b, device)?;
            for _ in 0..args.draws {
                let loss = model.loss(&batch);
                losses.push(loss.clone().into_scalar().elem::<f32>() as f64);
                // Burn frees a forward pass's autodiff graph in `backward`; without it
                // every draw's graph stays in memory.
                drop(loss.backward());
            }
        }
    }
    let n = losses.len() as f64;
    let mean = losses.iter().sum::<f64>() / n;
    let sd = (losses.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
    println!(
        "{}: mean loss {mean:.7} over batches {}..{} ({} values, {}; sd {sd:.5})",
        args.model.display(),
        args.first,
        args.first + args.count,
        losses.len(),
        if args.draws == 0 { "no dropout".to_string() } else { format!("{} dropout draws each", args.draws) },
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trace_schedule_and_steps_are_the_trainers() {
        // 10 examples, batches of 4: 3 steps an epoch, the last one short.
        let train: Vec<TrainExample> =
            (0..10).map(|i| TrainExample { history: vec![0; 1 + i % 4], target: 0 }).collect();
        let model_config = TigerConfig::new(10);
        let config = TrainConfig::new().with_batch_size(4).with_max_epochs(2).with_sort_window(2).with_shards(1);
        let steps = steps(&train, &model_config, &config);
        assert_eq!(steps.len(), 6);
        assert_eq!(steps.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 2, 4, 4, 2]);
        let s = schedule(&config.clone().with_warmup_steps(3), train.len());
        assert_eq!(s.total_steps(), 6);
        assert!((s.at(0) - 1e-3 / 3.0).abs() < 1e-12);
    }
}
