//! CSV reading shared by the CSV-based formats.

use std::path::{Path, PathBuf};

use crate::error::{DataError, Result};

/// A CSV file with a header, read record by record.
pub(crate) struct CsvFile {
    pub path: PathBuf,
    reader: csv::Reader<QuoteTracker>,
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
            .from_reader(QuoteTracker::new(crate::io::open(path)?));
        let headers = reader.headers().map_err(|e| csv_error(path, e))?.clone();
        if headers.is_empty() {
            return Err(DataError::EmptyFile { path: path.to_owned(), expected: "a CSV header".into() });
        }
        // A column named twice would make `column` pick the first silently, and the
        // data under the second name would never be read.
        for (j, name) in headers.iter().enumerate() {
            if let Some(k) = headers.iter().take(j).position(|h| h.trim() == name.trim()) {
                return Err(DataError::Parse {
                    path: path.to_owned(),
                    line: 1,
                    message: format!(
                        "the header names column `{}` twice (columns {} and {}); rename one of them",
                        name.trim(),
                        k + 1,
                        j + 1
                    ),
                });
            }
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
            Ok(false) => {
                let tracker = self.reader.get_ref();
                if tracker.state == QuoteState::Quoted {
                    // The csv reader takes everything up to the end of the file as the
                    // rest of the field, so a cut inside a quoted field reads as a whole row.
                    return Err(DataError::Parse {
                        path: self.path.clone(),
                        line: self.last_line,
                        message: "the last row ends inside a quoted field (a `\"` is never closed): \
                                  the file is cut short, or the quote is not closed"
                            .into(),
                    });
                }
                if tracker.last_byte.is_some_and(|b| b != b'\n' && b != b'\r') && self.last_line > 1 {
                    // A file cut inside an unquoted last field still parses (a timestamp
                    // `1629498965065` cut to `16` is a valid number), and only the missing
                    // line end hints at it. Some published files lack it too, so this warns.
                    tracing::warn!(
                        "{}:{}: the file does not end with a line end: if it was cut short, its last row \
                         may be incomplete",
                        self.path.display(),
                        self.last_line
                    );
                }
                Ok(None)
            }
            Err(e) => Err(csv_error_at(&self.path, self.last_line, e)),
        }
    }
}

/// Where a byte stream stands in CSV's quoting, as far as the last byte read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum QuoteState {
    /// At the start of a field (or of the file).
    FieldStart,
    /// Inside an unquoted field.
    Unquoted,
    /// Inside a quoted field.
    Quoted,
    /// Just after a `"` inside a quoted field: its end, or the first half of `""`.
    QuoteInQuoted,
}

/// Passes bytes through to the csv reader while following RFC 4180 quoting (the csv
/// crate's defaults: `,` between fields, `""` inside quotes), so that the end of the
/// file can be checked: the csv reader itself accepts a quoted field that never ends.
pub(crate) struct QuoteTracker {
    inner: Box<dyn std::io::Read>,
    state: QuoteState,
    last_byte: Option<u8>,
}

impl QuoteTracker {
    fn new(inner: Box<dyn std::io::Read>) -> Self {
        Self { inner, state: QuoteState::FieldStart, last_byte: None }
    }
}

impl std::io::Read for QuoteTracker {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            self.state = match (self.state, b) {
                (QuoteState::FieldStart, b'"') => QuoteState::Quoted,
                (QuoteState::Quoted, b'"') => QuoteState::QuoteInQuoted,
                (QuoteState::Quoted, _) => QuoteState::Quoted,
                (QuoteState::QuoteInQuoted, b'"') => QuoteState::Quoted,
                (_, b',' | b'\n' | b'\r') => QuoteState::FieldStart,
                _ => QuoteState::Unquoted,
            };
        }
        if n > 0 {
            self.last_byte = Some(buf[n - 1]);
        }
        Ok(n)
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
