//! The two error types of the interface: what a drafter reports, and what the
//! SpecGR loop (and a verifier) reports.

use std::path::PathBuf;

use thiserror::Error;

/// Everything that can go wrong while building, searching or training a drafter.
#[derive(Debug, Error)]
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
    /// A checkpoint whose tensors do not fit the model its config describes (the
    /// checker's own error, which names the file and the tensors).
    #[error(transparent)]
    Checkpoint(Box<dyn std::error::Error + Send + Sync>),
    /// A checkpoint or config could not be encoded or decoded.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

impl DrafterError {
    /// A file could not be read or written.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }

    /// A file could not be encoded or decoded.
    pub fn format(path: impl Into<PathBuf>, message: impl ToString) -> Self {
        Self::Format { path: path.into(), message: message.to_string() }
    }
}

impl From<recdata::fsio::WriteError> for DrafterError {
    fn from(e: recdata::fsio::WriteError) -> Self {
        Self::Io { path: e.path, source: e.source }
    }
}

/// Everything that can go wrong while drafting, verifying or assembling a list.
#[derive(Debug, Error)]
pub enum SpecError {
    /// A configuration value is out of range.
    #[error("invalid SpecGR config: {0}")]
    Config(String),
    /// A drafter returned an item with no semantic ID.
    #[error(
        "query {query}: drafter returned item {item}, but semantic IDs cover only {num_items} items"
    )]
    UnknownItem {
        /// Index of the query in the batch.
        query: usize,
        /// The offending item.
        item: u32,
        /// Number of items with a semantic ID.
        num_items: usize,
    },
    /// The verifier or the drafter returned a result of the wrong shape.
    #[error("{what}: got {got}, expected {expected}")]
    VerifierShape {
        /// What was miscounted (queries, candidates, digits, beams).
        what: &'static str,
        /// How many came back.
        got: usize,
        /// How many were asked for.
        expected: usize,
    },
    /// A request is malformed (an empty history, mismatched batch sizes).
    #[error("request {query}: {reason}")]
    Request {
        /// Index of the request in the batch.
        query: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The drafter failed.
    #[error(transparent)]
    Drafter(#[from] DrafterError),
    /// The verifier's model failed (for TIGER: a `gr_model::TigerError`, which
    /// converts into this variant with `?`).
    #[error(transparent)]
    Verifier(Box<dyn std::error::Error + Send + Sync + 'static>),
}

/// The result type of the loop and of [`crate::Verifier`].
pub type Result<T, E = SpecError> = std::result::Result<T, E>;
