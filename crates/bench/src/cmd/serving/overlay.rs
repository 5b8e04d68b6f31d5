//! The catalog overlay: items added and removed after training, kept in one JSON file
//! (`<runs>/<dataset>/catalog/overlay.json`) on top of the dataset's own catalog.
//!
//! The overlay records what the items are (id, text, text embedding), not their
//! semantic IDs or drafter vectors: those follow from the frozen models, so every
//! loader derives them again, in the order the items were added, and gets the same
//! identification digits `specgr items add` reported. Removed items stay in the file
//! (and keep their item number and semantic ID, so no later item's ID moves); they are
//! only never recommended.
//!
//! The file names what it extends (the dataset, its item count and the SHA-256 of its
//! embedding matrix) and is refused when that changed: an overlay on other embeddings
//! would give its items IDs in another space. Each write bumps `version` and goes
//! through [`recdata::fsio::write_atomic`], so a reader sees the old file or the new.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

/// The format of `overlay.json` this program reads and writes.
pub const FORMAT: u32 = 1;

/// One item added after training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddedItem {
    /// The item's id (unique across the dataset's catalog and the overlay).
    pub id: String,
    /// Its text (title, features, ...), as the dataset's item texts are.
    pub text: String,
    /// Its text embedding, by the run's sentence encoder.
    pub embedding: Vec<f32>,
}

/// What the overlay extends: refused when any of it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Base {
    /// The dataset's name.
    pub dataset: String,
    /// The dataset's item count (added items are numbered from here).
    pub items: usize,
    /// The SHA-256 of `embeddings/embeddings.safetensors`.
    pub embeddings_sha256: String,
    /// The embedding width.
    pub dim: usize,
}

/// The catalog changes of one run directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overlay {
    /// [`FORMAT`].
    pub format: u32,
    /// Bumped by every write.
    pub version: u64,
    /// What it extends.
    pub base: Base,
    /// Added items in the order they were added: item `base.items + i` is `added[i]`.
    pub added: Vec<AddedItem>,
    /// Ids of removed items (of the dataset or added), in the order they were removed.
    pub removed: Vec<String>,
}

impl Overlay {
    /// An empty overlay on `base`.
    pub fn new(base: Base) -> Self {
        Self { format: FORMAT, version: 0, base, added: Vec::new(), removed: Vec::new() }
    }

    /// Reads the overlay at `path`; `None` when there is none.
    pub fn read(path: &Path) -> anyhow::Result<Option<Self>> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let overlay: Self = serde_json::from_slice(&bytes)
            .with_context(|| format!("{}: not a catalog overlay written by `specgr items`", path.display()))?;
        if overlay.format != FORMAT {
            bail!("{}: format {} (this program reads {FORMAT})", path.display(), overlay.format);
        }
        Ok(Some(overlay))
    }

    /// Reads the overlay at `path` and checks that it extends `base`; an empty one on
    /// `base` when there is none.
    pub fn read_for(path: &Path, base: &Base) -> anyhow::Result<Self> {
        let Some(overlay) = Self::read(path)? else { return Ok(Self::new(base.clone())) };
        overlay.check_base(path, base)?;
        Ok(overlay)
    }

    /// Refuses an overlay made on top of another dataset or other embeddings, naming both.
    pub fn check_base(&self, path: &Path, base: &Base) -> anyhow::Result<()> {
        let b = &self.base;
        let differs = if b.dataset != base.dataset {
            format!("dataset `{}`, not `{}`", b.dataset, base.dataset)
        } else if b.items != base.items {
            format!("a catalog of {} items, but the dataset has {}", b.items, base.items)
        } else if b.embeddings_sha256 != base.embeddings_sha256 {
            format!(
                "embeddings with SHA-256 {}, but the run's are {}",
                short(&b.embeddings_sha256),
                short(&base.embeddings_sha256)
            )
        } else if b.dim != base.dim {
            format!("{}-wide embeddings, but the run's are {}-wide", b.dim, base.dim)
        } else {
            return Ok(());
        };
        bail!(
            "{} extends {differs}: its items would get IDs in another space. Move it aside and add the items \
             again (`specgr items add`)",
            path.display()
        )
    }

    /// Writes the overlay atomically with the next version number.
    pub fn write(&mut self, path: &Path) -> anyhow::Result<()> {
        self.version += 1;
        let json = serde_json::to_vec_pretty(self).context("serialising the catalog overlay")?;
        recdata::fsio::write_atomic(path, &json)?;
        Ok(())
    }

    /// Whether `id` was removed.
    pub fn is_removed(&self, id: &str) -> bool {
        self.removed.iter().any(|r| r == id)
    }
}

/// The base of the run directory's current dataset and embeddings.
pub fn base_of(run_dir: &recdata::RunDir, dataset: &recdata::Dataset, dim: usize) -> anyhow::Result<Base> {
    Ok(Base {
        dataset: dataset.name.clone(),
        items: dataset.num_items(),
        embeddings_sha256: crate::cmd::identity::sha256_file(&run_dir.embeddings_file())?,
        dim,
    })
}

/// The overlay's path in `run_dir`.
pub fn path(run_dir: &recdata::RunDir) -> PathBuf {
    run_dir.catalog_overlay()
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Base {
        Base { dataset: "synthetic".into(), items: 10, embeddings_sha256: "ab".repeat(32), dim: 4 }
    }

    #[test]
    fn round_trips_bumps_the_version_and_refuses_another_base() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog/overlay.json");
        let mut o = Overlay::read_for(&path, &base()).unwrap();
        assert_eq!(o.version, 0, "none yet: an empty overlay");
        o.added.push(AddedItem { id: "new".into(), text: "A new item.".into(), embedding: vec![0.1, -0.2, 1e-7, 0.3] });
        o.write(&path).unwrap();
        o.removed.push("new".into());
        o.write(&path).unwrap();
        let back = Overlay::read_for(&path, &base()).unwrap();
        assert_eq!(back, o);
        assert_eq!(back.version, 2);
        assert!(back.is_removed("new"));
        let other = Base { embeddings_sha256: "cd".repeat(32), ..base() };
        let err = Overlay::read_for(&path, &other).unwrap_err().to_string();
        assert!(err.contains("SHA-256 abababababab") && err.contains("cdcdcdcdcdcd") && err.contains("Move it aside"), "{err}");
        let err = Overlay::read_for(&path, &Base { items: 11, ..base() }).unwrap_err().to_string();
        assert!(err.contains("10 items, but the dataset has 11"), "{err}");
        std::fs::write(&path, b"{\"format\": 9}").unwrap();
        assert!(Overlay::read(&path).is_err());
    }
}
