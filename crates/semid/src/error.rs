//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while fitting, encoding, saving or loading semantic IDs.
#[derive(Debug, thiserror::Error)]
pub enum SemidError {
    /// An embedding holds NaN or an infinity.
    #[error("embedding row {row}, column {col} is not finite ({value})")]
    NonFinite {
        /// Row (item) index in the matrix that was passed in.
        row: usize,
        /// Column index.
        col: usize,
        /// The offending value.
        value: f32,
    },
    /// Embeddings do not have the dimension the quantizer was fitted on.
    #[error("embedding dimension mismatch: the quantizer expects {expected}, got {got}")]
    DimensionMismatch {
        /// Dimension the quantizer was fitted on.
        expected: usize,
        /// Dimension that was passed in.
        got: usize,
    },
    /// A flat buffer's length is not a multiple of the row width.
    #[error("{what}: buffer of length {len} is not a whole number of rows of width {width}")]
    RaggedBuffer {
        /// What the buffer holds.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The expected row width.
        width: usize,
    },
    /// Fewer fitting items than codes in a codebook.
    #[error(
        "cannot fit {codes} codes on only {items} items (need at least as many items as codes)"
    )]
    TooFewItems {
        /// Number of items available to the fit.
        items: usize,
        /// Codebook size.
        codes: usize,
    },
    /// An in-sample mask does not match the number of rows.
    #[error("in-sample mask has {mask} entries but the embedding matrix has {rows} rows")]
    MaskLength {
        /// Mask length.
        mask: usize,
        /// Number of rows.
        rows: usize,
    },
    /// More items share one code prefix than the identification digit can number.
    #[error(
        "{group_size} items share the code prefix {prefix:?}, but the identification digit holds only \
         {capacity} values; build the TokenLayout with a wider identification digit \
         (TokenLayout::with_id_size) or use a larger codebook"
    )]
    CollisionOverflow {
        /// The shared code prefix (without the identification digit).
        prefix: Vec<u32>,
        /// Size the group would reach.
        group_size: usize,
        /// Number of values the identification digit holds.
        capacity: usize,
    },
    /// A code sequence does not fit the token layout.
    #[error("invalid code sequence {codes:?}: {reason}")]
    InvalidCodes {
        /// The codes.
        codes: Vec<u32>,
        /// Why they are invalid.
        reason: String,
    },
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A JSON file could not be parsed or written.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The serde error (its message names line and column).
        source: serde_json::Error,
    },
    /// A saved artifact is inconsistent.
    #[error("{path}: {reason}")]
    Artifact {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Saving or loading module weights failed.
    #[error("{path}: weights: {reason}")]
    Weights {
        /// The weights file.
        path: PathBuf,
        /// The store's message.
        reason: String,
    },
}

/// Shorthand for results in this crate.
pub type Result<T, E = SemidError> = std::result::Result<T, E>;

impl From<recdata::fsio::WriteError> for SemidError {
    fn from(e: recdata::fsio::WriteError) -> Self {
        Self::Io { path: e.path, source: e.source }
    }
}
