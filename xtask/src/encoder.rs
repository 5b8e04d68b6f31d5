//! Fetching a sentence encoder from the Hugging Face hub.

#[cfg(feature = "net")]
use std::path::Path;

#[cfg(feature = "net")]
use crate::download::{Fetch, Outcome, Progress, fetch};

/// The sentence encoder `cargo xtask reproduce` uses (and downloads when it is missing).
pub const DEFAULT_ENCODER: &str = "sentence-transformers/all-MiniLM-L6-v2";

/// The files of a sentence-transformers model directory: (path, required).
pub const ENCODER_FILES: &[(&str, bool)] = &[
    ("config.json", true),
    ("model.safetensors", true),
    ("tokenizer.json", true),
    ("modules.json", false),
    ("sentence_bert_config.json", false),
    ("config_sentence_transformers.json", false),
    ("special_tokens_map.json", false),
    ("tokenizer_config.json", false),
    ("vocab.txt", false),
    ("1_Pooling/config.json", false),
    ("2_Dense/config.json", false),
    ("2_Dense/model.safetensors", false),
];

/// The hub's base URL: `$HF_ENDPOINT` (as the Python client reads it), else huggingface.co.
pub fn hub_endpoint() -> String {
    std::env::var("HF_ENDPOINT").unwrap_or_else(|_| "https://huggingface.co".to_owned())
}

/// The URL of one file of a model at a revision.
pub fn file_url(endpoint: &str, model_id: &str, revision: &str, file: &str) -> String {
    format!("{}/{model_id}/resolve/{revision}/{file}", endpoint.trim_end_matches('/'))
}

/// Downloads a model's files into `dir` and writes `checksums.sha256` beside them.
///
/// Required files must exist; optional ones a model does not have (HTTP 404) are skipped.
#[cfg(feature = "net")]
pub fn download_encoder(
    endpoint: &str,
    model_id: &str,
    revision: &str,
    dir: &Path,
    progress: &mut dyn Progress,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut sums = Vec::new();
    for &(file, required) in ENCODER_FILES {
        let job = Fetch {
            urls: vec![file_url(endpoint, model_id, revision, file)],
            dest: dir.join(file),
            sha256: None,
        };
        match fetch(&job, progress) {
            Ok(Outcome::Present { sha256 } | Outcome::Downloaded { sha256, .. }) => sums.push((file.to_owned(), sha256)),
            Err(e) if !required && format!("{e:#}").contains("HTTP 404") => continue,
            Err(e) => return Err(e),
        }
    }
    let listing: String = sums.iter().map(|(f, s)| format!("{s}  {f}\n")).collect();
    let tmp = dir.join("checksums.sha256.tmp");
    std::fs::write(&tmp, listing)?;
    std::fs::rename(&tmp, dir.join("checksums.sha256"))?;
    Ok(sums)
}
