//! The error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong while reading, checking or splitting a dataset.
///
/// Messages name the file, the line (1-based, counting the header) and the field
/// whenever the problem comes from user data.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A gzip stream ended before its trailer: the file was cut short.
    #[error("{path}: the gzip stream ends early (truncated download?) after line {line}")]
    TruncatedGzip {
        /// The file.
        path: PathBuf,
        /// The last line read completely.
        line: usize,
    },
    /// A file holds no records at all.
    #[error("{path}: the file is empty (expected {expected})")]
    EmptyFile {
        /// The file.
        path: PathBuf,
        /// What the file should have held.
        expected: String,
    },
    /// A record could not be parsed.
    #[error("{path}:{line}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// What was wrong.
        message: String,
    },
    /// A field of a record holds a bad value.
    #[error("{path}:{line}: field `{field}`: {message}")]
    Field {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// The field's name.
        field: String,
        /// What was wrong with it.
        message: String,
    },
    /// A header lacks a column the loader needs.
    #[error("{path}: the header has no column `{column}` (columns: {found})")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column that was looked for.
        column: String,
        /// The columns the header has, comma-separated.
        found: String,
    },
    /// An interaction or history names an item that the catalog lacks.
    #[error(
        "{path}:{line}: field `{field}`: item `{item}` is not in the catalog \
         (to skip such rows and count them, set `missing_items = \"skip\"` under `[load]` in the \
         dataset's manifest)"
    )]
    UnknownItem {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// The field holding the item.
        field: String,
        /// The item's key.
        item: String,
    },
    /// A dataset manifest is malformed or names something unknown.
    #[error("{path}: {message}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// No dataset of this name is known.
    #[error("unknown dataset `{name}`: expected `synthetic` or one of the manifests in {dir} ({known})")]
    UnknownDataset {
        /// The requested name.
        name: String,
        /// Where manifests were looked for.
        dir: PathBuf,
        /// The names that exist, comma-separated.
        known: String,
    },
    /// The data directory does not hold any layout the manifest describes.
    #[error("dataset `{name}`: no data found in {dir}; expected {expected} ({hint})")]
    MissingData {
        /// The dataset.
        name: String,
        /// The directory that was searched.
        dir: PathBuf,
        /// The files that were looked for.
        expected: String,
        /// What to do about it: download it (a manifest with downloads), or put the
        /// files there.
        hint: String,
    },
    /// A split leaves no training examples, so nothing could be trained or fitted.
    #[error("dataset `{dataset}`: the training split is empty: {reason}")]
    EmptyTrainSplit {
        /// The dataset.
        dataset: String,
        /// Why, in the data's terms.
        reason: String,
    },
    /// A split or generator setting is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }

    pub(crate) fn field(
        path: impl Into<PathBuf>,
        line: usize,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::Field { path: path.into(), line, field: field.into(), message: message.into() }
    }
}

/// The result type of this crate.
pub type Result<T, E = DataError> = std::result::Result<T, E>;

impl From<crate::fsio::WriteError> for DataError {
    fn from(e: crate::fsio::WriteError) -> Self {
        Self::Io { path: e.path, source: e.source }
    }
}
