//! CSV reading shared by the CSV-based formats.

use std::path::{Path, PathBuf};

use crate::error::{DataError, Result};

/// A CSV file with a header, read record by record.
pub(crate) struct CsvFile {
    pub path: PathBuf,
    reader: csv::Reader<Box<dyn std::io::Read>>,
    headers: csv::StringRecord,
    record: csv::StringRecord,
    /// Lines read so far: the header is line 1.
    last_line: usize,
}

impl CsvFile {
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(crate::io::open(path)?);
        let headers = reader.headers().map_err(|e| csv_error(path, e))?.clone();
        if headers.is_empty() {
            return Err(DataError::EmptyFile { path: path.to_owned(), expected: "a CSV header".into() });
        }
        Ok(Self { path: path.to_owned(), reader, headers, record: csv::StringRecord::new(), last_line: 1 })
    }

    /// The index of a header column, or an error listing the columns there are.
    pub(crate) fn column(&self, name: &str) -> Result<usize> {
        self.headers.iter().position(|h| h.trim() == name).ok_or_else(|| DataError::MissingColumn {
            path: self.path.clone(),
            column: name.to_owned(),
            found: self.headers.iter().collect::<Vec<_>>().join(","),
        })
    }

    /// Reads the next record; returns its line number.
    pub(crate) fn next(&mut self) -> Result<Option<(usize, &csv::StringRecord)>> {
        match self.reader.read_record(&mut self.record) {
            Ok(true) => {
                self.last_line = self.record.position().map_or(self.last_line + 1, |p| p.line() as usize);
                Ok(Some((self.last_line, &self.record)))
            }
            Ok(false) => Ok(None),
            Err(e) => Err(csv_error_at(&self.path, self.last_line, e)),
        }
    }
}

fn csv_error(path: &Path, e: csv::Error) -> DataError {
    csv_error_at(path, 0, e)
}

fn csv_error_at(path: &Path, last_line: usize, e: csv::Error) -> DataError {
    let line = e.position().map_or(last_line + 1, |p| p.line() as usize);
    match e.into_kind() {
        csv::ErrorKind::Io(io) => crate::io::read_error(path, last_line, io),
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => DataError::Parse {
            path: path.to_owned(),
            line,
            message: format!("the row has {len} fields, the header has {expected_len} (truncated or ragged row)"),
        },
        csv::ErrorKind::Utf8 { .. } => {
            DataError::Parse { path: path.to_owned(), line, message: "the row is not valid UTF-8".into() }
        }
        other => DataError::Parse { path: path.to_owned(), line, message: format!("{other:?}") },
    }
}

/// Parses a non-negative integer timestamp field.
pub(crate) fn parse_timestamp(path: &Path, line: usize, field: &str, value: &str) -> Result<i64> {
    let value = value.trim();
    let t: i64 = value.parse().map_err(|_| {
        DataError::field(path, line, field, format!("`{value}` is not an integer timestamp"))
    })?;
    if t < 0 {
        return Err(DataError::field(path, line, field, format!("negative timestamp {t}")));
    }
    Ok(t)
}
