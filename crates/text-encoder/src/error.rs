//! The crate's error type.

use std::path::PathBuf;

/// One tensor that a checkpoint lacks, has in excess, or has in the wrong shape or type.
///
/// Names are the checkpoint's own (Hugging Face) names; shapes are in the checkpoint's
/// layout (a linear weight is `[out, in]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TensorProblem {
    /// The model needs this tensor and the checkpoint does not have it.
    Missing {
        /// Checkpoint name of the tensor.
        name: String,
        /// The shape the model expects.
        shape: Vec<usize>,
    },
    /// The checkpoint has a tensor that the model does not use.
    Unexpected {
        /// Checkpoint name of the tensor.
        name: String,
        /// Its shape in the checkpoint.
        shape: Vec<usize>,
    },
    /// The tensor is present with another shape than the model expects.
    WrongShape {
        /// Checkpoint name of the tensor.
        name: String,
        /// The shape the model expects.
        expected: Vec<usize>,
        /// The shape found in the checkpoint.
        found: Vec<usize>,
    },
    /// The tensor is present with another element type than `F32`.
    WrongDtype {
        /// Checkpoint name of the tensor.
        name: String,
        /// The element type found in the checkpoint.
        found: String,
    },
}

impl std::fmt::Display for TensorProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing { name, shape } => write!(f, "missing {name} {shape:?}"),
            Self::Unexpected { name, shape } => write!(f, "unexpected {name} {shape:?}"),
            Self::WrongShape {
                name,
                expected,
                found,
            } => write!(
                f,
                "wrong shape {name}: expected {expected:?}, found {found:?}"
            ),
            Self::WrongDtype { name, found } => {
                write!(f, "wrong dtype {name}: expected F32, found {found}")
            }
        }
    }
}

fn list(problems: &[TensorProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("\n  - {p}"))
        .collect::<String>()
}

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read (missing, permissions, ...).
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A text file is not valid UTF-8.
    #[error("{path} is not valid UTF-8 (invalid byte at offset {offset})")]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// Byte offset of the first invalid sequence.
        offset: usize,
    },
    /// A JSON file does not parse or lacks a field.
    #[error("{path}: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What was wrong, with line and column where known.
        message: String,
    },
    /// The model configuration is valid JSON but describes something this crate cannot run.
    #[error("{path}: unsupported configuration: {message}")]
    UnsupportedConfig {
        /// The configuration file.
        path: PathBuf,
        /// What is unsupported.
        message: String,
    },
    /// `tokenizer.json` could not be loaded or configured.
    #[error("{path}: tokenizer error: {message}")]
    Tokenizer {
        /// The tokenizer file.
        path: PathBuf,
        /// The tokenizers crate's message.
        message: String,
    },
    /// A text could not be tokenised.
    #[error("cannot tokenise text #{index}: {message}")]
    Tokenize {
        /// Index of the text in the input.
        index: usize,
        /// The tokenizers crate's message.
        message: String,
    },
    /// A safetensors file is malformed (bad header, truncated data).
    #[error("{path}: malformed safetensors file: {message}")]
    Safetensors {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// A checkpoint does not match the model: each problem tensor is listed.
    #[error("{path}: checkpoint does not match the model ({} problems):{}", problems.len(), list(problems))]
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// Every missing, unexpected or misshapen tensor.
        problems: Vec<TensorProblem>,
    },
    /// burn-store refused the checkpoint after our own checks passed.
    #[error("{path}: loading failed: {message}")]
    Store {
        /// The checkpoint file.
        path: PathBuf,
        /// burn-store's report.
        message: String,
    },
    /// Stored embeddings do not fit together (wrong sizes, inconsistent manifest).
    #[error("{path}: {message}")]
    Embeddings {
        /// The embeddings or manifest file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// An argument was out of range (for example a batch size of zero).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

/// Shorthand for results in this crate.
pub type Result<T> = std::result::Result<T, Error>;

impl From<recdata::fsio::WriteError> for Error {
    fn from(e: recdata::fsio::WriteError) -> Self {
        Self::Write { path: e.path, source: e.source }
    }
}
