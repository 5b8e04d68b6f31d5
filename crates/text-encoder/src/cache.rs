//! The on-disk embedding cache: `embeddings.safetensors` (one row per text, in the
//! caller's order) plus `manifest.json` keyed by the model checksum and a hash of
//! each text, so a re-run embeds only the texts that changed.
//!
//! The pair is also the artifact that later stages read: row `i` of the matrix is the
//! embedding of the `i`-th text, and the manifest says which model made it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::files::{read_json, sha256_file, write_atomic};

/// File name of the embedding matrix in a cache directory.
pub const EMBEDDINGS_FILE: &str = "embeddings.safetensors";
/// File name of the manifest in a cache directory.
pub const MANIFEST_FILE: &str = "manifest.json";
const FORMAT_VERSION: u32 = 1;

/// Per-text record in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextEntry {
    /// Hex sha256 of the text's UTF-8 bytes.
    pub sha256: String,
    /// Whether the text was truncated to the model's maximum length.
    pub truncated: bool,
}

/// `manifest.json`: what made `embeddings.safetensors`, and for which texts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Version of this layout.
    pub format: u32,
    /// Hex sha256 of the model's `model.safetensors`: the cache key.
    pub model_checksum: String,
    /// The model directory the embeddings were computed with (informational).
    pub model_dir: String,
    /// Width of a row.
    pub dim: usize,
    /// Truncation length in word pieces, special tokens included.
    pub max_seq_length: usize,
    /// Hex sha256 of `embeddings.safetensors`, to detect a matrix and manifest that do
    /// not belong together.
    pub embeddings_sha256: String,
    /// One entry per row, in row order.
    pub texts: Vec<TextEntry>,
}

/// Reusable rows of a previous run, by text hash.
#[derive(Debug, Default)]
pub(crate) struct CachedRows {
    rows: HashMap<String, (usize, bool)>,
    embeddings: Option<Embeddings>,
    entries: Vec<TextEntry>,
}

impl CachedRows {
    /// The cached embedding and truncation flag of a text, by its hash.
    pub(crate) fn get(&self, sha256: &str) -> Option<(&[f32], bool)> {
        let (row, truncated) = *self.rows.get(sha256)?;
        Some((self.embeddings.as_ref()?.row(row), truncated))
    }

    /// Whether the cache already holds exactly these texts in this order, so that
    /// rewriting it would change nothing.
    pub(crate) fn holds_exactly(&self, entries: &[TextEntry]) -> bool {
        self.embeddings.is_some() && self.entries == entries
    }
}

fn paths(dir: &Path) -> (PathBuf, PathBuf) {
    (dir.join(EMBEDDINGS_FILE), dir.join(MANIFEST_FILE))
}

/// Reads the manifest of a cache directory.
pub fn read_manifest(dir: &Path) -> Result<Manifest> {
    read_json(&dir.join(MANIFEST_FILE))
}

/// Loads the rows of a cache directory that were made by the model with
/// `model_checksum`. A missing cache, or one made by another model, yields nothing;
/// an unreadable or inconsistent one is an error naming the file.
pub(crate) fn load_cached(dir: &Path, model_checksum: &str, dim: usize) -> Result<CachedRows> {
    let (embeddings_path, manifest_path) = paths(dir);
    if !manifest_path.exists() || !embeddings_path.exists() {
        return Ok(CachedRows::default());
    }
    let manifest: Manifest = read_json(&manifest_path)?;
    if manifest.format != FORMAT_VERSION || manifest.model_checksum != model_checksum {
        tracing::info!(dir = %dir.display(), "embedding cache made by another model: recomputing");
        return Ok(CachedRows::default());
    }
    let inconsistent = |message: String| Error::Embeddings {
        path: manifest_path.clone(),
        message,
    };
    if sha256_file(&embeddings_path)? != manifest.embeddings_sha256 {
        return Err(inconsistent(format!(
            "embeddings_sha256 does not match {}",
            embeddings_path.display()
        )));
    }
    let (embeddings, _) = Embeddings::load(&embeddings_path)?;
    if embeddings.dim() != dim || manifest.dim != dim || embeddings.len() != manifest.texts.len() {
        return Err(inconsistent(format!(
            "manifest lists {} texts of width {}, {} holds {} rows of width {}; the model's width is {dim}",
            manifest.texts.len(),
            manifest.dim,
            embeddings_path.display(),
            embeddings.len(),
            embeddings.dim()
        )));
    }
    let rows = manifest
        .texts
        .iter()
        .enumerate()
        .map(|(row, entry)| (entry.sha256.clone(), (row, entry.truncated)))
        .collect();
    Ok(CachedRows {
        rows,
        embeddings: Some(embeddings),
        entries: manifest.texts,
    })
}

/// Writes a cache directory: the matrix first, then the manifest that vouches for it,
/// each atomically, so an interrupted write leaves a cache that fails its checksum
/// rather than one that silently lies.
pub(crate) fn store(dir: &Path, embeddings: &Embeddings, manifest_base: Manifest) -> Result<()> {
    let (embeddings_path, manifest_path) = paths(dir);
    let metadata = HashMap::from([
        (
            "model_checksum".to_string(),
            manifest_base.model_checksum.clone(),
        ),
        (
            "format".to_string(),
            "text-encoder embeddings v1".to_string(),
        ),
    ]);
    embeddings.save(&embeddings_path, metadata)?;
    let manifest = Manifest {
        format: FORMAT_VERSION,
        embeddings_sha256: sha256_file(&embeddings_path)?,
        ..manifest_base
    };
    let json = serde_json::to_string_pretty(&manifest).map_err(|e| Error::Json {
        path: manifest_path.clone(),
        message: e.to_string(),
    })?;
    Ok(write_atomic(&manifest_path, json.as_bytes())?)
}

/// The manifest fields the encoder fills in before [`store`] adds the checksums.
pub(crate) fn manifest_base(
    model_checksum: &str,
    model_dir: &Path,
    dim: usize,
    max_seq_length: usize,
    texts: Vec<TextEntry>,
) -> Manifest {
    Manifest {
        format: FORMAT_VERSION,
        model_checksum: model_checksum.to_string(),
        model_dir: model_dir.display().to_string(),
        dim,
        max_seq_length,
        embeddings_sha256: String::new(),
        texts,
    }
}
