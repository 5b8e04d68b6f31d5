//! Input stamps for `cargo xtask reproduce`: each training stage's run directory
//! records the fingerprints of what it was trained from (the dataset, the semantic
//! IDs, the embeddings, the TIGER it started from). A resumable trainer only checks
//! its own settings, so without this a changed input (a refitted set of IDs, another
//! version of the data) would let a model trained on the old one be resumed or kept
//! silently. When the inputs changed, the old directory is set aside, not deleted.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The stamp's file name inside a run directory.
pub const STAMP_FILE: &str = "inputs-stamp.txt";

/// What a stage's run directory holds, compared with its inputs now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// No run directory yet.
    Fresh,
    /// The directory was made from these inputs.
    Matches,
    /// The directory has no stamp (made before stamps existed, or by hand): kept, and
    /// assumed to match.
    Unstamped,
    /// The inputs changed; the old directory was moved to this path.
    SetAside(PathBuf),
}

/// The stamp text of named inputs: one `name sha256` line each, in the given order.
pub fn stamp_text(inputs: &[(&str, String)]) -> String {
    inputs.iter().map(|(name, hash)| format!("{name} {hash}\n")).collect()
}

/// Compares `run_dir`'s stamp with `stamp`; when they differ the directory is renamed
/// to `<run_dir>.stale-<n>` (the first free n) so the stage starts afresh.
pub fn check(run_dir: &Path, stamp: &str) -> Result<Status> {
    if !run_dir.exists() {
        return Ok(Status::Fresh);
    }
    let path = run_dir.join(STAMP_FILE);
    let old = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Status::Unstamped),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    if old == stamp {
        return Ok(Status::Matches);
    }
    let mut n = 1;
    let aside = loop {
        let mut name = run_dir.as_os_str().to_owned();
        name.push(format!(".stale-{n}"));
        let candidate = PathBuf::from(name);
        if !candidate.exists() {
            break candidate;
        }
        n += 1;
    };
    std::fs::rename(run_dir, &aside)
        .with_context(|| format!("moving {} aside to {}", run_dir.display(), aside.display()))?;
    Ok(Status::SetAside(aside))
}

/// Records `stamp` in `run_dir` (atomically).
pub fn write(run_dir: &Path, stamp: &str) -> Result<()> {
    Ok(recdata::fsio::write_atomic(&run_dir.join(STAMP_FILE), stamp.as_bytes())?)
}

/// The SHA-256 of a dataset's content ([`recdata::Dataset::fingerprint`]: every
/// interaction and every item's key and text), the same value `specgr` records in the
/// artifacts it makes from the dataset.
pub fn dataset_fingerprint(data: &recdata::Dataset) -> String {
    data.fingerprint()
}
