//! Reading plain and gzipped files line by line, with errors that name the file and line.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::error::{DataError, Result};

/// Opens a file for reading, decompressing it when its name ends in `.gz`.
pub(crate) fn open(path: &Path) -> Result<Box<dyn Read>> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let file = BufReader::with_capacity(1 << 16, file);
    if is_gzip(path) {
        Ok(Box::new(flate2::bufread::MultiGzDecoder::new(file)))
    } else {
        Ok(Box::new(file))
    }
}

pub(crate) fn is_gzip(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "gz")
}

/// Maps a read error to a [`DataError`]: an early end of a gzip stream becomes
/// [`DataError::TruncatedGzip`], bad UTF-8 a parse error at the line.
pub(crate) fn read_error(path: &Path, line: usize, e: std::io::Error) -> DataError {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof if is_gzip(path) => {
            DataError::TruncatedGzip { path: path.to_owned(), line }
        }
        std::io::ErrorKind::InvalidData if e.to_string().contains("UTF-8") => DataError::Parse {
            path: path.to_owned(),
            line: line + 1,
            message: "the line is not valid UTF-8".into(),
        },
        _ => DataError::io(path, e),
    }
}

/// Lines of a plain or gzipped text file, numbered from 1.
pub(crate) struct Lines {
    reader: BufReader<Box<dyn Read>>,
    path: PathBuf,
    line: usize,
    buf: String,
}

impl Lines {
    pub(crate) fn open(path: &Path) -> Result<Self> {
        Ok(Self {
            reader: BufReader::with_capacity(1 << 16, open(path)?),
            path: path.to_owned(),
            line: 0,
            buf: String::new(),
        })
    }

    /// The next non-empty line with its number, or `None` at the end.
    pub(crate) fn next_line(&mut self) -> Result<Option<(usize, &str)>> {
        loop {
            self.buf.clear();
            let n = self
                .reader
                .read_line(&mut self.buf)
                .map_err(|e| read_error(&self.path, self.line, e))?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            if !self.buf.trim().is_empty() {
                return Ok(Some((self.line, self.buf.trim_end_matches(['\n', '\r']))));
            }
        }
    }
}

/// Finds `name` or `name.gz` in `dir`.
pub(crate) fn find_plain_or_gz(dir: &Path, name: &str) -> Option<PathBuf> {
    let plain = dir.join(name);
    if plain.is_file() {
        return Some(plain);
    }
    let gz = dir.join(format!("{name}.gz"));
    gz.is_file().then_some(gz)
}
