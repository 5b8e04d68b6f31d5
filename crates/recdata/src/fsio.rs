//! Writing files so that no reader, and no crash, ever sees half of one: the one
//! atomic write every crate of the workspace uses.
//!
//! The bytes go to `<path>.tmp` first, which is then renamed over `path`. A rename
//! within a directory is atomic on the file systems we run on, so `path` holds either
//! the old file or the new one. A crash leaves at most the `.tmp` file, which the next
//! write of the same path overwrites (`.gitignore` ignores `*.tmp`).

use std::io::Write;
use std::path::{Path, PathBuf};

/// A failed atomic write: the file that could not be written, created or renamed (the
/// temporary or the target), and why.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct WriteError {
    /// The file that failed.
    pub path: PathBuf,
    /// The underlying error.
    #[source]
    pub source: std::io::Error,
}

/// The temporary a write of `path` goes through: `path` with `.tmp` appended.
pub fn tmp_path(path: &Path) -> PathBuf {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    PathBuf::from(tmp)
}

/// Writes `bytes` to `path` atomically, creating its directory if needed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Writes what `body` writes to `path` atomically (through a buffer), creating its
/// directory if needed: for files written piece by piece, such as a CSV export.
pub fn write_atomic_with(
    path: &Path,
    body: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), WriteError> {
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WriteError { path, source }
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err(dir))?;
    }
    let tmp = tmp_path(path);
    let file = std::fs::File::create(&tmp).map_err(err(&tmp))?;
    let mut w = std::io::BufWriter::new(file);
    body(&mut w).and_then(|()| w.flush()).map_err(err(&tmp))?;
    drop(w);
    std::fs::rename(&tmp, path).map_err(err(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_through_a_temporary_and_replaces_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/dir/file.json");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert!(!tmp_path(&path).exists(), "the temporary is renamed, not left behind");
        assert_eq!(tmp_path(&path), dir.path().join("sub/dir/file.json.tmp"));
    }

    #[test]
    fn a_failed_body_leaves_the_old_file_and_names_the_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("file.csv");
        write_atomic(&path, b"old").unwrap();
        let err = write_atomic_with(&path, |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(err.path, tmp_path(&path));
        assert!(err.to_string().ends_with("file.csv.tmp: disk full"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
    }
}
