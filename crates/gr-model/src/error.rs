//! [`TigerError`]: everything that can go wrong in this crate.

use std::path::PathBuf;

/// Errors of the TIGER model, its inputs, checkpoints and training.
#[derive(Debug, thiserror::Error)]
pub enum TigerError {
    /// A config field is out of range.
    #[error("invalid TIGER config: {0}")]
    InvalidConfig(String),
    /// A config file describes no model this program builds (a size out of range).
    #[error("{path}: {message}")]
    InvalidConfigFile {
        /// The config file.
        path: PathBuf,
        /// What is out of range ([`TigerError::InvalidConfig`]'s message).
        message: String,
    },
    /// A preset name is not one of tiny, small, games, office, phones.
    #[error("unknown TIGER preset `{0}` (expected tiny, small, games, office or phones)")]
    UnknownPreset(String),
    /// A history is empty.
    #[error("history {query} is empty: TIGER needs at least one item to condition on")]
    EmptyHistory {
        /// Index of the history in the batch.
        query: usize,
    },
    /// A history names an item without a semantic ID.
    #[error(
        "history {query}, position {position}: item {item} has no semantic ID (catalog has {num_items} items)"
    )]
    UnknownItem {
        /// Index of the history in the batch.
        query: usize,
        /// Position of the item in the history.
        position: usize,
        /// The item index.
        item: u32,
        /// Number of items with semantic IDs.
        num_items: usize,
    },
    /// A candidate or target is malformed.
    #[error("invalid candidate: {0}")]
    InvalidCandidate(String),
    /// The token layout does not match the model's vocabulary.
    #[error("token layout has {layout} tokens but the model's vocab_size is {model}")]
    VocabMismatch {
        /// Vocabulary of the layout.
        layout: usize,
        /// Vocabulary of the model.
        model: usize,
    },
    /// A checkpoint was written for another model configuration.
    #[error(
        "checkpoint {path}: written for another config (field `{field}`: checkpoint {found}, expected {expected})"
    )]
    ConfigMismatch {
        /// The checkpoint directory.
        path: PathBuf,
        /// The first differing field.
        field: String,
        /// Value in the checkpoint.
        found: String,
        /// Value expected.
        expected: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A JSON file could not be parsed.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: serde_json::Error,
    },
    /// A checkpoint file cannot be decoded: cut short, corrupt, or not a checkpoint.
    #[error(
        "{path}: cannot read this checkpoint ({bytes} bytes): the file is truncated or corrupt, or not a model \
         record written by specgr ({message}). Write it again (train or save anew)"
    )]
    CorruptCheckpoint {
        /// The file.
        path: PathBuf,
        /// Its length.
        bytes: usize,
        /// The decoder's first line.
        message: String,
    },
    /// A checkpoint's tensors do not match the model its config describes.
    #[error(
        "{path}: its tensors do not fit the model that {config} describes ({} problems: {}). Was it copied from \
         another run, preset or set of semantic IDs?",
        problems.len(),
        summary(problems)
    )]
    CheckpointShapes {
        /// The record file.
        path: PathBuf,
        /// Where the expected shapes come from (a config file).
        config: String,
        /// Each missing, unexpected or misshapen tensor.
        problems: Vec<String>,
    },
    /// Burn could not save or load a record.
    #[error("{path}: {message}")]
    Record {
        /// The file.
        path: PathBuf,
        /// Burn's message.
        message: String,
    },
    /// A Hugging Face T5 weight file does not fit the model ([`crate::hf`]).
    #[error("{path}: Hugging Face T5 weights: {message}")]
    HfT5 {
        /// The safetensors file.
        path: PathBuf,
        /// What does not fit, naming the key.
        message: String,
    },
    /// Training data is unusable.
    #[error("training data: {0}")]
    Data(String),
    /// A collective operation across devices (data-parallel training) failed.
    #[error("multi-device training: {0}")]
    Collective(String),
}

/// The first few problems, and how many more.
fn summary(problems: &[String]) -> String {
    const SHOWN: usize = 4;
    let mut text = problems.iter().take(SHOWN).cloned().collect::<Vec<_>>().join("; ");
    if problems.len() > SHOWN {
        text += &format!("; and {} more", problems.len() - SHOWN);
    }
    text
}

impl From<recdata::fsio::WriteError> for TigerError {
    fn from(e: recdata::fsio::WriteError) -> Self {
        Self::Io { path: e.path, source: e.source }
    }
}
