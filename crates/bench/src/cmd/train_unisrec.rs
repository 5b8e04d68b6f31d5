//! `specgr train unisrec`: the UniSRec drafter, resumable through the shared
//! training-loop skeleton (`gr_model::train_loop`).

use std::ops::ControlFlow;
use std::path::PathBuf;

use burn::tensor::backend::Backend;
use drafters::unisrec::{EvalMetrics, TrainProgress, UniSRecData};
use drafters::{EmbeddingTable, UniSRecConfig, UniSRecTrainConfig};

use crate::cmd::backend::DeviceKind;
use crate::cmd::identity;
use crate::cmd::{DatasetArgs, progress_bar, say};

/// `specgr train unisrec` arguments.
#[derive(Debug, clap::Args)]
pub struct UniSRecArgs {
    /// Which dataset (its embeddings must exist: run `specgr embed` first).
    #[command(flatten)]
    pub dataset: DatasetArgs,
    /// Most epochs (early stopping on valid may end sooner) [default: 300].
    #[arg(long, value_parser = crate::cmd::args::positive)]
    pub epochs: Option<usize>,
    /// Examples per step [default: 2048].
    #[arg(long, value_parser = crate::cmd::args::positive)]
    pub batch_size: Option<usize>,
    /// Train on a random sample of N training examples, drawn with `--seed` and kept in
    /// time order (all by default).
    #[arg(long, value_parser = crate::cmd::args::positive)]
    pub train_sample: Option<usize>,
    /// Validate on N validation examples spread evenly over the split (every k-th one,
    /// not the first N) [default: 5000].
    #[arg(long, value_parser = crate::cmd::args::positive)]
    pub valid_limit: Option<usize>,
    /// Epochs without a better validation NDCG@10 before stopping [default: 10; the
    /// reference's is 40].
    #[arg(long, value_parser = crate::cmd::args::positive)]
    pub patience: Option<usize>,
    /// Also checkpoint within an epoch every this many minutes, so a kill loses at most
    /// that much (0: at epoch ends only); a run resumes with any value [default: 0].
    #[arg(long, value_parser = crate::cmd::args::non_negative_f64)]
    pub checkpoint_minutes: Option<f64>,
    /// The wall-time budget.
    #[command(flatten)]
    pub budget: crate::cmd::BudgetArgs,
    /// The seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Where to compute: `cpu`, or `wgpu` / `cuda` / `tch` / `tch-cuda` in builds with that feature.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceKind,
    /// The run directory: reads `<runs>/<dataset>/embeddings/`, writes `<runs>/<dataset>/unisrec/`
    /// (the best model, and `last/`, the checkpoint a stopped run resumes from).
    #[arg(long, default_value = "runs")]
    pub runs: PathBuf,
}

/// Runs `specgr train unisrec`.
pub fn run(args: UniSRecArgs) -> anyhow::Result<()> {
    crate::with_backend!(args.device, |B, device| train_on::<B>(&args, &device))
}

/// The training config the arguments ask for.
fn train_config(args: &UniSRecArgs) -> UniSRecTrainConfig {
    let mut config = UniSRecTrainConfig::new().with_seed(args.seed);
    if let Some(e) = args.epochs {
        config = config.with_max_epochs(e);
    }
    if let Some(b) = args.batch_size {
        config = config.with_batch_size(b);
    }
    if let Some(n) = args.valid_limit {
        config = config.with_max_eval_examples(n);
    }
    if let Some(p) = args.patience {
        config = config.with_patience(p);
    }
    if let Some(m) = args.checkpoint_minutes {
        config = config.with_checkpoint_minutes(m);
    }
    config
}

fn train_on<B: Backend>(args: &UniSRecArgs, device: &B::Device) -> anyhow::Result<()> {
    let resolved = args.dataset.load()?;
    let split = resolved.dataset.split(&resolved.split)?;
    let run_dir = recdata::RunDir::new(&args.runs, &resolved.dataset.name);
    let data_identity = identity::DatasetIdentity::new(&resolved.dataset, &args.dataset);
    let embeddings = identity::load_embeddings(&run_dir, &data_identity)?;
    let text = EmbeddingTable::from_rows(embeddings.dim(), embeddings.as_slice())?;
    let in_sample = split.in_sample_items();
    let config = train_config(args);
    let train = match args.train_sample {
        Some(n) => crate::cmd::sample_in_order(split.train.clone(), n, args.seed),
        None => split.train.clone(),
    };
    let data = UniSRecData { text: &text, in_sample: &in_sample, train: &train, valid: &split.valid };
    let out = run_dir.unisrec();
    // Training rewrites the checkpoint as it improves: until it ends, the directory is
    // stamped unfinished, so a killed or stopped run is refused by `eval` (unless
    // `--allow-unfinished` asks for its best epoch so far), not taken for a finished
    // drafter; the same command resumes it. A finished run is not stamped again: the
    // command then only reports it, and an `eval` starting meanwhile must not find it
    // marked unfinished (it did, once: 2026-12-07).
    let embeddings_sha256 = identity::sha256_file(&run_dir.embeddings_file())?;
    let stamp = identity::unisrec_stamp(&data_identity, &embeddings_sha256);
    let model_config = UniSRecConfig::new(embeddings.dim());
    let finished = drafters::unisrec::training_finished(&model_config, &config, data, &out)?;
    let done_before = finished && identity::has_model_stamp(&out, &stamp)?;
    if !done_before {
        identity::write_model_stamp(&out, &identity::unisrec_unfinished_stamp(&data_identity, &embeddings_sha256))?;
    }
    let bar = progress_bar(0, "training UniSRec");
    let budget = args.budget.start();
    let mut progress = |p: &TrainProgress| {
        bar.set_length(p.steps as u64);
        bar.set_position(p.step as u64);
        bar.set_message(format!("ep {} loss {:.3}", p.epoch, p.loss));
        if let Some(v) = &p.valid {
            say(&bar, format!("epoch {}: valid {}", p.epoch, metrics_line(v)));
        }
        if budget.spent() { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    };
    let (_, report) = drafters::train_unisrec::<burn::backend::Autodiff<B>>(
        &model_config,
        &config,
        data,
        device,
        Some(&out),
        &mut progress,
    )?;
    bar.finish_and_clear();
    if report.stopped {
        let at = format!("{} complete epochs", report.epochs);
        args.budget.say_stopped(&at, &out.join("last"));
        return Ok(());
    }
    if !done_before {
        identity::write_model_stamp(&out, &stamp)?;
    }
    println!(
        "trained {} epochs at {:.0} samples/s; best epoch {} (valid {}); checkpoint in {}",
        report.epochs,
        report.samples_per_sec,
        report.best_epoch,
        metrics_line(&report.best_valid),
        out.display()
    );
    Ok(())
}

/// UniSRec's validation metrics as a log line.
fn metrics_line(m: &EvalMetrics) -> String {
    format!(
        "recall@10 {:.4} ndcg@10 {:.4} recall@50 {:.4} ndcg@50 {:.4} ({} examples)",
        m.recall_10, m.ndcg_10, m.recall_50, m.ndcg_50, m.examples
    )
}
