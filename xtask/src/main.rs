//! `cargo xtask`: orchestration for this workspace (downloads, reproduction).
//!
//! Heavy work runs in the real binaries (`specgr`), which this program invokes
//! through cargo; it only resolves arguments, fetches files and sequences stages.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

use xtask::download::{Fetch, Outcome, Progress, fetch};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "SpecGR workspace tasks")]
enum Task {
    /// Download a dataset's files (resumable, checksummed) into <data-root>/<name>/.
    Download {
        /// The dataset manifest name (`beauty-2014`, `games-2023`, `office-2023`, `phones-2023`).
        dataset: String,
        /// Where datasets live; defaults to $SPECGR_DATA, else ./data.
        #[arg(long, env = "SPECGR_DATA")]
        data_root: Option<PathBuf>,
        /// A directory of manifests searched before the shipped ones.
        #[arg(long, default_value = "datasets")]
        datasets_dir: PathBuf,
    },
    /// Download a sentence encoder from the Hugging Face hub ($HF_ENDPOINT overrides the host).
    DownloadEncoder {
        /// The model id, e.g. `sentence-transformers/all-MiniLM-L6-v2`.
        model_id: String,
        /// The model directory to create; defaults to models/<last part of the id>.
        #[arg(long)]
        encoder: Option<PathBuf>,
        /// The hub revision (branch, tag or commit).
        #[arg(long, default_value = "main")]
        revision: String,
    },
    /// Run the whole pipeline on a dataset (stages that exist today: data).
    Reproduce {
        /// The dataset: `synthetic` (embedded, the default) or a manifest name.
        #[arg(long, default_value = "synthetic")]
        dataset: String,
        /// Where datasets live; defaults to $SPECGR_DATA, else ./data.
        #[arg(long, env = "SPECGR_DATA")]
        data_root: Option<PathBuf>,
    },
}

struct Bar(Option<ProgressBar>);

impl Progress for Bar {
    fn start(&mut self, name: &str, start: u64, total: Option<u64>) {
        let bar = ProgressBar::new(total.unwrap_or(0));
        bar.set_style(
            ProgressStyle::with_template("{msg:30} {bytes:>10}/{total_bytes:10} {bytes_per_sec:>12} {wide_bar}")
                .expect("valid template"),
        );
        bar.set_message(name.to_owned());
        bar.set_position(start);
        self.0 = Some(bar);
    }
    fn advance(&mut self, n: u64) {
        if let Some(b) = &self.0 {
            b.inc(n);
        }
    }
    fn finish(&mut self) {
        if let Some(b) = self.0.take() {
            b.finish();
        }
    }
}

fn main() -> Result<()> {
    match Task::parse() {
        Task::Download { dataset, data_root, datasets_dir } => {
            let root = data_root.unwrap_or_else(recdata::default_data_root);
            download_dataset(&dataset, &root, &datasets_dir)
        }
        Task::DownloadEncoder { model_id, encoder, revision } => {
            let dir = encoder.unwrap_or_else(|| {
                PathBuf::from("models").join(model_id.rsplit('/').next().unwrap_or(&model_id))
            });
            let sums = xtask::encoder::download_encoder(
                &xtask::encoder::hub_endpoint(),
                &model_id,
                &revision,
                &dir,
                &mut Bar(None),
            )?;
            println!("{model_id} -> {} ({} files, checksums in checksums.sha256)", dir.display(), sums.len());
            Ok(())
        }
        Task::Reproduce { dataset, data_root } => reproduce(&dataset, data_root.as_deref()),
    }
}

fn download_dataset(name: &str, root: &Path, datasets_dir: &Path) -> Result<()> {
    let manifest = recdata::find_manifest(name, Some(datasets_dir))?;
    if manifest.downloads.is_empty() {
        bail!("dataset `{name}` lists no files to download");
    }
    let dir = root.join(&manifest.name);
    for d in &manifest.downloads {
        let job = Fetch {
            urls: std::iter::once(d.url.clone()).chain(d.mirrors.iter().cloned()).collect(),
            dest: dir.join(&d.file),
            sha256: d.sha256.clone(),
        };
        match fetch(&job, &mut Bar(None))? {
            Outcome::Present { sha256 } => println!("{}: present (sha256 {sha256})", d.file),
            Outcome::Downloaded { sha256, resumed_from } => {
                println!("{}: downloaded (sha256 {sha256}, resumed from byte {resumed_from})", d.file)
            }
        }
    }
    println!("dataset `{name}` is in {}", dir.display());
    Ok(())
}

fn reproduce(dataset: &str, data_root: Option<&Path>) -> Result<()> {
    println!("== reproduce: dataset `{dataset}`");
    println!("-- stage 1/1: data (load, split, statistics)");
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(["run", "--quiet", "--package", "bench", "--bin", "specgr", "--", "data", "stats", "--dataset", dataset]);
    if let Some(root) = data_root {
        cmd.arg("--data-root").arg(root);
    }
    let status = cmd.status().context("running specgr")?;
    if !status.success() {
        bail!("the data stage failed ({status})");
    }
    println!(
        "-- stopping after the data stage: the embedding, semantic-ID, model and evaluation \
         stages are not in this build yet (see the open issues)."
    );
    Ok(())
}
