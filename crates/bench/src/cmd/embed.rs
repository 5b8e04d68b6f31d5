//! `specgr embed`: item text to sentence embeddings, cached under the run directory.

use std::path::PathBuf;

use anyhow::Context;
use text_encoder::SentenceEncoder;

use burn::tensor::backend::Backend;

use crate::cmd::{DatasetArgs, progress_bar};

/// `specgr embed` arguments.
#[derive(Debug, clap::Args)]
pub struct EmbedArgs {
    /// Which dataset's items to embed (ignored with `--text`).
    #[command(flatten)]
    pub dataset: DatasetArgs,
    /// The sentence-transformers model directory (see `cargo xtask download-encoder`).
    /// Defaults to `$SPECGR_MODELS/all-MiniLM-L6-v2`, else `models/all-MiniLM-L6-v2`.
    #[arg(long)]
    pub encoder: Option<PathBuf>,
    /// Embed this text and print the start of its vector and its norm, instead of a dataset.
    #[arg(long)]
    pub text: Option<String>,
    /// Texts per forward pass (small batches keep activations in cache: 16 measured best).
    #[arg(long, default_value_t = 16, value_parser = crate::cmd::args::positive)]
    pub batch_size: usize,
    /// Batches embedded at once (default: 1; the CPU backend already spreads each matmul over the cores).
    #[arg(long, default_value_t = 1, value_parser = crate::cmd::args::positive)]
    pub threads: usize,
    /// Where to compute: `cpu`, or `wgpu` / `cuda` / `tch` in builds with that feature.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: crate::cmd::backend::DeviceKind,
    /// The run directory; embeddings go to `<runs>/<dataset>/embeddings/`.
    #[arg(long, default_value = "runs")]
    pub runs: PathBuf,
}

/// The encoder directory to use when none is given.
pub fn default_encoder_dir() -> PathBuf {
    let models = std::env::var_os("SPECGR_MODELS").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("models"));
    models.join("all-MiniLM-L6-v2")
}

/// Runs `specgr embed`.
pub fn run(args: EmbedArgs) -> anyhow::Result<()> {
    crate::with_backend!(args.device, |B, device| run_on::<B>(&args, &device))
}

fn run_on<B: Backend>(args: &EmbedArgs, device: &B::Device) -> anyhow::Result<()> {
    let dir = args.encoder.clone().unwrap_or_else(default_encoder_dir);
    let threads = args.threads;
    let encoder = SentenceEncoder::<B>::load(&dir, device)
        .with_context(|| format!("loading the encoder from {}", dir.display()))?
        .with_threads(threads);
    if let Some(text) = &args.text {
        let out = encoder.embed_all(&[text.as_str()], 1, None, |_, _| {})?;
        let row = out.embeddings.row(0);
        let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt();
        let head: Vec<String> = row.iter().take(8).map(|x| format!("{x:.6}")).collect();
        println!("dim {}  norm {norm:.6}  truncated {}", row.len(), out.truncated);
        println!("[{}, ...]", head.join(", "));
        return Ok(());
    }
    let resolved = args.dataset.load()?;
    let texts: Vec<&str> = resolved.dataset.catalog.texts().iter().map(String::as_str).collect();
    let out_dir = recdata::RunDir::new(&args.runs, &resolved.dataset.name).embeddings();
    let _lock = crate::cmd::lock_run_dir(&out_dir)?;
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let bar = progress_bar(texts.len() as u64, "embedding items");
    let start = std::time::Instant::now();
    let out = encoder.embed_all(&texts, args.batch_size, Some(&out_dir), |done, _| bar.set_position(done as u64))?;
    bar.finish();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{} items ({} reused from the cache, {} truncated) in {secs:.1} s -> {}",
        texts.len(),
        out.reused,
        out.truncated,
        out_dir.display()
    );
    Ok(())
}
