//! `TextTokenizer`: a Hugging Face `tokenizer.json` with its shipped padding switched
//! off and truncation set to the encoder's maximum length.

use std::path::{Path, PathBuf};

use tokenizers::{Tokenizer, TruncationParams};

use crate::error::{Error, Result};
use crate::files::read_text;

/// One tokenised text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenizedText {
    /// Word-piece ids including the special tokens (`[CLS] ... [SEP]` for BERT).
    pub ids: Vec<u32>,
    /// Whether the text was longer than the maximum and lost its tail.
    pub truncated: bool,
}

/// Word-piece tokenisation for a sentence encoder.
#[derive(Debug, Clone)]
pub struct TextTokenizer {
    tokenizer: Tokenizer,
    max_length: usize,
    path: PathBuf,
}

impl TextTokenizer {
    /// Loads `tokenizer.json`, switches its padding off (the caller pads per batch and
    /// masks the padding) and truncates at `max_length` ids, special tokens included.
    pub fn from_file(path: &Path, max_length: usize) -> Result<Self> {
        let err = |message: String| Error::Tokenizer {
            path: path.to_path_buf(),
            message,
        };
        let json = read_text(path)?;
        let mut tokenizer =
            Tokenizer::from_bytes(json.as_bytes()).map_err(|e| err(e.to_string()))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length,
                ..TruncationParams::default()
            }))
            .map_err(|e| err(format!("cannot truncate at {max_length}: {e}")))?;
        Ok(Self {
            tokenizer,
            max_length,
            path: path.to_path_buf(),
        })
    }

    /// The truncation length, special tokens included.
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// The file this tokenizer was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The largest id the tokenizer can emit (its vocabulary and added tokens).
    pub fn max_id(&self) -> Option<u32> {
        self.tokenizer.get_vocab(true).into_values().max()
    }

    /// The id of a token (such as `"[PAD]"`), if the vocabulary has it.
    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.tokenizer.token_to_id(token)
    }

    /// Tokenises texts with special tokens added; an empty text gives just the
    /// special tokens (`[CLS] [SEP]`).
    pub fn tokenize(&self, texts: &[&str]) -> Result<Vec<TokenizedText>> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| {
                // encode_batch does not say which text failed: find it.
                let index = texts
                    .iter()
                    .position(|t| self.tokenizer.encode(*t, true).is_err())
                    .unwrap_or(0);
                Error::Tokenize {
                    index,
                    message: e.to_string(),
                }
            })?;
        Ok(encodings
            .into_iter()
            .map(|encoding| TokenizedText {
                truncated: !encoding.get_overflowing().is_empty(),
                ids: encoding.get_ids().to_vec(),
            })
            .collect())
    }
}
