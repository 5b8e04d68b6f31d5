//! The files of a model directory, and small file helpers (UTF-8 checked reads,
//! checksums, atomic writes) that report errors with the file's name.

use std::io::Read;
use std::path::Path;

use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// One file of a sentence-encoder model directory, as published on the Hugging Face hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncoderFile {
    /// Path relative to the model directory (and to `resolve/main/` on the hub).
    pub name: &'static str,
    /// Whether loading fails without it; optional files refine the defaults.
    pub required: bool,
}

/// The model architecture and sizes (`BertConfig`).
pub const CONFIG_FILE: &str = "config.json";
/// The weights.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// The Hugging Face tokenizers file.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// sentence-transformers' settings: `max_seq_length`.
pub const SENTENCE_CONFIG_FILE: &str = "sentence_bert_config.json";
/// sentence-transformers' pooling settings; only mean pooling is supported.
pub const POOLING_CONFIG_FILE: &str = "1_Pooling/config.json";

const ENCODER_FILES: &[EncoderFile] = &[
    EncoderFile {
        name: CONFIG_FILE,
        required: true,
    },
    EncoderFile {
        name: WEIGHTS_FILE,
        required: true,
    },
    EncoderFile {
        name: TOKENIZER_FILE,
        required: true,
    },
    EncoderFile {
        name: SENTENCE_CONFIG_FILE,
        required: false,
    },
    EncoderFile {
        name: POOLING_CONFIG_FILE,
        required: false,
    },
];

/// The files [`SentenceEncoder::load`](crate::SentenceEncoder::load) reads from a model
/// directory, for downloaders: fetch every one, fail only on a missing required one.
pub fn encoder_files() -> &'static [EncoderFile] {
    ENCODER_FILES
}

/// Reads a whole file, naming it in the error.
pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a UTF-8 text file, naming it in the error when it is unreadable or not UTF-8.
pub(crate) fn read_text(path: &Path) -> Result<String> {
    String::from_utf8(read_bytes(path)?).map_err(|e| Error::NotUtf8 {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })
}

/// Reads and parses a JSON file.
pub(crate) fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = read_text(path)?;
    serde_json::from_str(&text).map_err(|e| Error::Json {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Hex sha256 of a file's contents, read in blocks so large checkpoints stay out of memory.
pub fn sha256_file(path: &Path) -> Result<String> {
    let read_err = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(read_err)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(read_err)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// Hex sha256 of a string's UTF-8 bytes: a text's key in the cache's `manifest.json`.
pub fn sha256_str(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) use recdata::fsio::write_atomic;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_string() {
        // FIPS 180-2 example: sha256("abc").
        assert_eq!(
            sha256_str("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn encoder_files_lists_required_files() {
        let required: Vec<_> = encoder_files()
            .iter()
            .filter(|f| f.required)
            .map(|f| f.name)
            .collect();
        assert_eq!(required, [CONFIG_FILE, WEIGHTS_FILE, TOKENIZER_FILE]);
    }
}
