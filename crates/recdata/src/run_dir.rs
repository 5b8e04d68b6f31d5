//! The layout of a run directory: where each stage of the pipeline keeps its artifacts
//! under `<runs>/<dataset>/`. The `specgr` commands and `cargo xtask` spell these paths
//! only through [`RunDir`], so the layout is written down once.
//!
//! ```
//! use recdata::RunDir;
//!
//! let run = RunDir::new("runs", "synthetic");
//! assert_eq!(run.tiger_best("hkmeans", "tiny"), std::path::Path::new("runs/synthetic/tiger-hkmeans-tiny/best"));
//! assert_eq!(run.semid("rqkmeans-l5"), std::path::Path::new("runs/synthetic/semid/rqkmeans-l5"));
//! ```

use std::path::{Path, PathBuf};

/// `<runs>/<dataset>/` and the paths of the artifacts under it. Semantic IDs are named
/// as `specgr` names them (`rqvae`, `rqkmeans-l5`), TIGER presets by their name (`tiny`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// The run directory of `dataset` under `runs`.
    pub fn new(runs: impl AsRef<Path>, dataset: &str) -> Self {
        Self { root: runs.as_ref().join(dataset) }
    }

    /// `<runs>/<dataset>/` itself.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// `embeddings/`: the item text embeddings and their cache.
    pub fn embeddings(&self) -> PathBuf {
        self.root.join("embeddings")
    }

    /// `embeddings/embeddings.safetensors`: the embeddings every later stage reads.
    pub fn embeddings_file(&self) -> PathBuf {
        self.embeddings().join("embeddings.safetensors")
    }

    /// `semid/<ids>/`: a fit of semantic IDs.
    pub fn semid(&self, ids: &str) -> PathBuf {
        self.root.join("semid").join(ids)
    }

    /// `tiger-<ids>-<preset>/`: a TIGER training run.
    pub fn tiger(&self, ids: &str, preset: &str) -> PathBuf {
        self.root.join(format!("tiger-{ids}-{preset}"))
    }

    /// `tiger-<ids>-<preset>/best/`: its best checkpoint, the one every later stage reads.
    pub fn tiger_best(&self, ids: &str, preset: &str) -> PathBuf {
        self.tiger(ids, preset).join("best")
    }

    /// `unisrec/`: the UniSRec drafter.
    pub fn unisrec(&self) -> PathBuf {
        self.root.join("unisrec")
    }

    /// `specgr-pp-<ids>-<preset>/`: SpecGR++ trained from `tiger-<ids>-<preset>`.
    pub fn specgr_pp(&self, ids: &str, preset: &str) -> PathBuf {
        self.root.join(format!("specgr-pp-{ids}-{preset}"))
    }

    /// `tune-<ids>-<preset>/`: the γ `specgr tune` chose for the SpecGR methods on
    /// `tiger-<ids>-<preset>`.
    pub fn tune(&self, ids: &str, preset: &str) -> PathBuf {
        self.root.join(format!("tune-{ids}-{preset}"))
    }

    /// `catalog/`: items added and removed after training (`specgr items`), as one
    /// overlay file ([`RunDir::catalog_overlay`]) on top of the dataset's catalog.
    pub fn catalog(&self) -> PathBuf {
        self.root.join("catalog")
    }

    /// `catalog/overlay.json`: the catalog changes `specgr recommend` applies.
    pub fn catalog_overlay(&self) -> PathBuf {
        self.catalog().join("overlay.json")
    }

    /// `logs/`: the output of stages run in the background.
    pub fn logs(&self) -> PathBuf {
        self.root.join("logs")
    }
}
