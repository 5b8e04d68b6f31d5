//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong while building, searching or training a drafter.
#[derive(Debug, thiserror::Error)]
pub enum DrafterError {
    /// A vector's length differs from the index's dimension.
    #[error("{what}: vector has {got} dimensions, the index expects {expected}")]
    Dimension {
        /// What the vector was (a query, an item's embedding, ...).
        what: String,
        /// The index's dimension.
        expected: usize,
        /// The vector's length.
        got: usize,
    },
    /// A flat embedding buffer is not `ids.len() * dim` long.
    #[error("{what}: {got} floats for {items} items of dimension {dim} (expected {})", items * dim)]
    BufferLength {
        /// What the buffer was.
        what: String,
        /// Its length.
        got: usize,
        /// The number of items it should hold.
        items: usize,
        /// The dimension of one row.
        dim: usize,
    },
    /// A query's history holds no item the drafter knows.
    #[error("query {query}: none of its {history_len} history items is known to the drafter ({known} items known)")]
    UnknownHistory {
        /// The query's position in the batch.
        query: usize,
        /// Its history length (0 for an empty history).
        history_len: usize,
        /// How many items the drafter knows.
        known: usize,
    },
    /// A drafter that cannot embed histories itself got a query without a vector.
    #[error(
        "query {query}: the {drafter} drafter needs the query vector computed by the GR encoder (Query::vector; in SpecGR, TigerVerifier::with_query_embedding or Request::vector)"
    )]
    MissingQueryVector {
        /// The query's position in the batch.
        query: usize,
        /// The drafter's name.
        drafter: &'static str,
    },
    /// The numbers of queries and filters differ.
    #[error("{queries} queries but {filters} filters: pass one filter per query")]
    BatchMismatch {
        /// Number of queries.
        queries: usize,
        /// Number of filters.
        filters: usize,
    },
    /// An invalid configuration value.
    #[error("invalid config: {0}")]
    Config(String),
    /// A vector holds NaN or infinity.
    #[error("{what}: element {index} is not finite ({value})")]
    NotFinite {
        /// What the vector was.
        what: String,
        /// The offending element.
        index: usize,
        /// Its value.
        value: f32,
    },
    /// The usearch library reported an error.
    #[error("usearch: {0}")]
    Usearch(String),
    /// Training data cannot train a model (no examples, no in-sample items, ...).
    #[error("training data: {0}")]
    Data(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A checkpoint whose tensors do not fit the model its config describes.
    #[error(transparent)]
    Checkpoint(#[from] gr_model::TigerError),
    /// A checkpoint or config could not be encoded or decoded.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, DrafterError>;

impl DrafterError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }

    pub(crate) fn format(path: impl Into<PathBuf>, message: impl ToString) -> Self {
        Self::Format { path: path.into(), message: message.to_string() }
    }
}

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
