//! The `specgr` subcommands, one module per topic.

pub mod backend;
pub mod bench;
pub mod data;
pub mod diagnose;
pub mod embed;
pub mod eval;
pub mod plot;
pub mod semid;
pub mod specgr_pp;
pub mod train;

use std::path::PathBuf;

/// The CPU backend the binary runs on (Burn's Flex).
pub type CpuBackend = burn::backend::Flex;

/// Prints a line above a progress bar, or on stderr when the bar is hidden (no terminal).
pub fn say(bar: &indicatif::ProgressBar, line: String) {
    if bar.is_hidden() {
        eprintln!("{line}");
    } else {
        bar.println(line);
    }
}

/// A progress bar for `len` units of work, drawn on stderr.
pub fn progress_bar(len: u64, message: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:24} {wide_bar} {pos}/{len} [{elapsed_precise} < {eta_precise}]")
            .expect("a valid progress template"),
    );
    bar.set_message(message.to_owned());
    bar
}

/// Where a dataset comes from, shared by every subcommand that reads one.
#[derive(Clone, Debug, clap::Args)]
pub struct DatasetArgs {
    /// The dataset: `synthetic` or a manifest name (`beauty-2014`, `games-2023`, ...).
    #[arg(long, default_value = "synthetic")]
    pub dataset: String,
    /// The directory holding `<dataset>/`; defaults to `$SPECGR_DATA`, else `./data`.
    #[arg(long, env = "SPECGR_DATA")]
    pub data_root: Option<PathBuf>,
    /// A directory of extra dataset manifests (`<name>.toml`), searched before the shipped ones.
    #[arg(long)]
    pub datasets_dir: Option<PathBuf>,
    /// A manifest file for your own data; its files are read from the manifest's directory.
    /// Overrides `--dataset`.
    #[arg(long)]
    pub manifest: Option<PathBuf>,
}

impl DatasetArgs {
    /// Loads the dataset and its split configuration.
    pub fn load(&self) -> anyhow::Result<recdata::Resolved> {
        if let Some(path) = &self.manifest {
            let manifest = recdata::Manifest::read(path)?;
            let dir = path.parent().unwrap_or(std::path::Path::new("."));
            return Ok(recdata::Resolved { dataset: manifest.load(dir)?, split: manifest.split });
        }
        let root = self.data_root.clone().unwrap_or_else(recdata::default_data_root);
        let datasets_dir = self.datasets_dir.clone().or_else(|| {
            let local = PathBuf::from("datasets");
            local.is_dir().then_some(local)
        });
        Ok(recdata::load_dataset_with(&self.dataset, &root, datasets_dir.as_deref())?)
    }
}
