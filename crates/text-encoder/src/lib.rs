#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod bert;
mod cache;
mod embeddings;
mod encoder;
mod error;
mod files;
pub mod pooling;
mod tokenizer;

pub use cache::{EMBEDDINGS_FILE, MANIFEST_FILE, Manifest, TextEntry, read_manifest};
pub use embeddings::{EMBEDDINGS_TENSOR, Embeddings};
pub use encoder::{EmbedOutput, SentenceEncoder};
pub use error::{Error, Result, TensorProblem};
pub use files::{
    CONFIG_FILE, EncoderFile, POOLING_CONFIG_FILE, SENTENCE_CONFIG_FILE, TOKENIZER_FILE,
    WEIGHTS_FILE, encoder_files, sha256_file, sha256_str,
};
pub use tokenizer::{TextTokenizer, TokenizedText};
