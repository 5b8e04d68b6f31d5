//! The `specgr` subcommands, one module per topic.

pub mod bench;
pub mod data;

use std::path::PathBuf;

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
