//! Embeds a dataset's item texts (in `recdata`'s item order: row `i` is `ItemId(i)`)
//! with a sentence encoder and writes them as an embedding cache directory.
//!
//! ```text
//! cargo run --release -p text-encoder --example embed_dataset -- \
//!     <dataset> <data-root> <encoder-dir> <out-dir> [batch] [threads]
//! cargo run --release -p text-encoder --example embed_dataset -- \
//!     beauty-2014 ../shared/data ../shared/models/all-MiniLM-L6-v2 runs/beauty-2014/embeddings
//! ```
//!
//! The `specgr embed` command of the `bench` crate is the supported way to do this;
//! this example exists so that embeddings can be made before it does.

use std::path::PathBuf;
use std::time::Instant;

use burn::backend::Flex;
use text_encoder::SentenceEncoder;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dataset, data_root, encoder_dir, out, rest @ ..] = args.as_slice() else {
        return Err(
            "usage: embed_dataset <dataset> <data-root> <encoder-dir> <out-dir> [batch] [threads]"
                .into(),
        );
    };
    let batch: usize = rest.first().map_or(Ok(16), |b| b.parse())?;
    let threads: usize = rest.get(1).map_or(Ok(2), |t| t.parse())?;
    let resolved = recdata::load_dataset(dataset, &PathBuf::from(data_root))?;
    let catalog = &resolved.dataset.catalog;
    let texts: Vec<&str> = catalog.texts().iter().map(String::as_str).collect();
    let encoder = SentenceEncoder::<Flex>::load(&PathBuf::from(encoder_dir), &Default::default())?
        .with_threads(threads);
    let start = Instant::now();
    let mut last_report = Instant::now();
    let output = encoder.embed_all(&texts, batch, Some(&PathBuf::from(out)), |done, total| {
        if last_report.elapsed().as_secs() >= 10 || done == total {
            eprintln!("{done}/{total}");
            last_report = Instant::now();
        }
    })?;
    println!(
        "{dataset}: {} items embedded into {out} in {:.1} s ({} reused from the cache, {} truncated)",
        output.embeddings.len(),
        start.elapsed().as_secs_f64(),
        output.reused,
        output.truncated
    );
    Ok(())
}
