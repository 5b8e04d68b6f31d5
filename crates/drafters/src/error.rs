//! The crate's error type is the interface's [`DrafterError`] (every drafter reports
//! the same errors to the loop); this module keeps the helpers that use it.

use std::path::PathBuf;

pub use rec_core::DrafterError;

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, DrafterError>;

/// Checks that `v` has `dim` finite elements.
pub(crate) fn check_vector(what: impl FnOnce() -> String, v: &[f32], dim: usize) -> Result<()> {
    if v.len() != dim {
        return Err(DrafterError::Dimension { what: what(), expected: dim, got: v.len() });
    }
    if let Some((index, &value)) = v.iter().enumerate().find(|(_, x)| !x.is_finite()) {
        return Err(DrafterError::NotFinite { what: what(), index, value });
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically: to `path.tmp` first, then renamed.
pub(crate) fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| DrafterError::io(dir, e))?;
    }
    std::fs::write(&tmp, bytes).map_err(|e| DrafterError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| DrafterError::io(path, e))
}
