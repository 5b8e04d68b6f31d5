//! Semantic IDs for Amazon Beauty 2014 from MiniLM title embeddings: fits each
//! method on the in-sample items, prints the fit report, and saves the model and
//! the report under `runs/beauty-2014/semid/<method>/`.
//!
//! ```text
//! SPECGR_DATA=../shared/data cargo run --release -p semid --example beauty -- \
//!     [--methods rqkmeans,rqvae,hkmeans] [--epochs 20] [--batch 512] [--kmeans-iters 25]
//!     [--seed 42] [--runs runs]
//! ```
//! Embeddings come from `runs/beauty-2014/embeddings/` (the text-encoder cache);
//! texts not in the cache are embedded with `$SPECGR_MODELS/all-MiniLM-L6-v2`
//! (default `$SPECGR_DATA/../models`) and the cache is updated.

use std::path::{Path, PathBuf};
use std::time::Instant;

use semid::{EmbeddingMatrix, FitConfig, FitProgress, Method};
use text_encoder::SentenceEncoder;

type Inner = burn::backend::Flex;
type Train = burn::backend::Autodiff<Inner>;

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.into())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let methods = arg(&args, "--methods", "rqkmeans,rqvae,hkmeans");
    let epochs: usize = arg(&args, "--epochs", "20").parse()?;
    let batch: usize = arg(&args, "--batch", "512").parse()?;
    let kmeans_iters: usize = arg(&args, "--kmeans-iters", "25").parse()?;
    let seed: u64 = arg(&args, "--seed", "42").parse()?;
    let runs = PathBuf::from(arg(&args, "--runs", "runs"));
    let data_root = std::env::var_os("SPECGR_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| "../shared/data".into());
    let models = std::env::var_os("SPECGR_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| data_root.join("../models"));
    let device = Default::default();

    let resolved = recdata::load_dataset("beauty-2014", &data_root)?;
    let split = resolved.dataset.split(&resolved.split)?;
    let texts: Vec<&str> = resolved
        .dataset
        .catalog
        .texts()
        .iter()
        .map(String::as_str)
        .collect();
    println!(
        "beauty-2014: {} items, {} in-sample",
        texts.len(),
        split.num_in_sample()
    );

    let cache = runs.join("beauty-2014/embeddings");
    let t = Instant::now();
    let encoder = SentenceEncoder::<Inner>::load(&models.join("all-MiniLM-L6-v2"), &device)?;
    let out = encoder.embed_all(&texts, 64, Some(&cache), |done, total| {
        if done % 2048 < 64 || done == total {
            eprintln!("  embedded {done}/{total}");
        }
    })?;
    println!(
        "embeddings: {} reused from {}, {:.1} s",
        out.reused,
        cache.display(),
        t.elapsed().as_secs_f64()
    );
    let x = EmbeddingMatrix::new(out.embeddings.into_vec(), encoder.dim())?;

    for method in methods.split(',') {
        let method: Method = method.parse()?;
        let mut config = FitConfig::new(method);
        config.seed = seed;
        config.kmeans_iters = kmeans_iters;
        config.rqvae_train = config
            .rqvae_train
            .clone()
            .with_epochs(epochs)
            .with_batch_size(batch);
        let mut on_progress = |p: &FitProgress| match p {
            FitProgress::Epoch(e) => eprintln!(
                "  epoch {}/{}: recon {:.6} commit {:.6} utilisation {:?} reset {}",
                e.epoch, e.epochs, e.reconstruction, e.commitment, e.utilisation, e.reset_codes
            ),
            other => eprintln!("  {other:?}"),
        };
        let (model, report) =
            semid::fit::<Train>(&config, &x, &split.in_sample, &device, &mut on_progress)?;
        println!("{report}");
        let dir = runs
            .join("beauty-2014/semid")
            .join(arg(&args, "--tag", method.name()));
        model.save(&dir)?;
        write(
            &dir.join("report.json"),
            &serde_json::to_vec_pretty(&report)?,
        )?;
        println!("saved {}", dir.display());
    }
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    recdata::fsio::write_atomic(path, bytes).map_err(std::io::Error::other)
}
