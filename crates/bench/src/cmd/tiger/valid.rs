//! `specgr tiger valid`: a checkpoint's Recall@K and NDCG@K on validation (or test)
//! examples, with exactly the trainer's evaluation code and settings.

use std::path::PathBuf;
use std::time::Instant;

use burn::tensor::backend::Backend;
use gr_model::{Tiger, TrainConfig};
use semid::PrefixTrie;

use crate::cmd::{DatasetArgs, load_ids};
use crate::cmd::backend::DeviceKind;
use crate::cmd::train::examples;

/// Which examples `valid` scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// The validation examples (what training validates on).
    Valid,
    /// The test examples.
    Test,
}

/// `specgr tiger valid` arguments.
#[derive(Debug, clap::Args)]
pub struct ValidArgs {
    /// Which dataset.
    #[command(flatten)]
    pub dataset: DatasetArgs,
    /// Which semantic IDs the model was trained on.
    #[arg(long, default_value = "rqvae")]
    pub ids: crate::cmd::IdsName,
    /// The checkpoint directory (`best/` of a run, or `import-hf --out`).
    #[arg(long)]
    pub model: PathBuf,
    /// Score only the first N examples (training's `--valid-limit`; all by default).
    #[arg(long, value_parser = crate::cmd::args::positive)]
    pub valid_limit: Option<usize>,
    /// Validation or test examples.
    #[arg(long, value_enum, default_value = "valid")]
    pub part: Part,
    /// The cut-off K (training: 10).
    #[arg(long, default_value_t = TrainConfig::new().eval_k, value_parser = crate::cmd::args::positive)]
    pub k: usize,
    /// Beams of the constrained beam search (training: 20).
    #[arg(long, default_value_t = TrainConfig::new().eval_beam_size, value_parser = crate::cmd::args::positive)]
    pub beam_size: usize,
    /// Queries per batch (training: 64).
    #[arg(long, default_value_t = TrainConfig::new().eval_batch_size, value_parser = crate::cmd::args::positive)]
    pub batch_size: usize,
    /// Also write the result as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Where to compute.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceKind,
    /// The run directory holding `<dataset>/semid/<ids>/`.
    #[arg(long, default_value = "runs")]
    pub runs: PathBuf,
}

/// Runs `specgr tiger valid` on backend `B`.
pub(super) fn run<B: Backend>(args: &ValidArgs, device: &B::Device) -> anyhow::Result<()> {
    let (resolved, semid) = load_ids::<B>(&args.dataset, args.ids, &args.runs, device)?;
    let split = resolved.dataset.split(&resolved.split)?;
    let ids = semid.ids();
    let model = Tiger::<B>::load(&args.model, device)?;
    model.check_ids(ids)?;
    let mut examples = examples(match args.part {
        Part::Valid => &split.valid,
        Part::Test => &split.test,
    });
    if let Some(n) = args.valid_limit {
        examples.truncate(n);
    }
    let trie = PrefixTrie::from_ids(ids);
    let started = Instant::now();
    let metrics = gr_model::eval::evaluate(
        &model,
        ids,
        &trie,
        &examples,
        &[args.k],
        args.beam_size,
        args.batch_size,
        device,
    )?[0];
    let seconds = started.elapsed().as_secs_f64();
    let part = match args.part {
        Part::Valid => "valid",
        Part::Test => "test",
    };
    println!(
        "{}: {part} recall@{k} {r:.4} ndcg@{k} {n:.4} ({m} examples, beam {b}, {seconds:.0} s)",
        args.model.display(),
        k = metrics.k,
        r = metrics.recall,
        n = metrics.ndcg,
        m = metrics.examples,
        b = args.beam_size,
    );
    if let Some(path) = &args.json {
        let json = serde_json::json!({
            "model": args.model,
            "dataset": resolved.dataset.name,
            "ids": args.ids.name(),
            "part": part,
            "limit": args.valid_limit,
            "beam_size": args.beam_size,
            "batch_size": args.batch_size,
            "metrics": metrics,
            "seconds": seconds,
            "git_revision": crate::report::git_revision(),
        });
        recdata::fsio::write_atomic(path, serde_json::to_string_pretty(&json)?.as_bytes())?;
    }
    Ok(())
}
