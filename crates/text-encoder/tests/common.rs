//! Shared test helpers: where the real model lives, temporary directories, and a tiny
//! randomly initialised BERT model directory that needs no downloaded files.

use std::path::{Path, PathBuf};

use burn::backend::Flex;
use text_encoder::bert::{BertConfig, key_table};

pub type TestBackend = Flex;

/// Resolves an environment path; relative paths are tried from the current directory
/// and then from the workspace root (cargo runs tests from the crate directory, CI
/// sets paths relative to the workspace root).
fn env_path(var: &str) -> Option<PathBuf> {
    let value = PathBuf::from(std::env::var_os(var)?);
    if value.is_absolute() || value.exists() {
        return Some(value);
    }
    Some(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(value),
    )
}

/// The all-MiniLM-L6-v2 directory from `SPECGR_MODELS` (default
/// `$SPECGR_DATA/../models`), or `None` after printing why the test is skipped.
pub fn minilm_dir(test: &str) -> Option<PathBuf> {
    let models = env_path("SPECGR_MODELS")
        .or_else(|| env_path("SPECGR_DATA").map(|data| data.join("../models")));
    let dir = models.map(|m| m.join("all-MiniLM-L6-v2"));
    match dir {
        Some(dir) if dir.join("model.safetensors").exists() => Some(dir),
        Some(dir) => {
            println!(
                "skipping {test}: {} not found (set SPECGR_DATA)",
                dir.display()
            );
            None
        }
        None => {
            println!("skipping {test}: all-MiniLM-L6-v2 not found (set SPECGR_DATA)");
            None
        }
    }
}

/// A fresh, empty directory under the system temp directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "text-encoder-test-{}-{n}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A small seeded generator (SplitMix64), so tests need no `rand` dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u64(&mut self) -> u64 {
        recdata::rng::splitmix64(&mut self.0)
    }

    /// Uniform in `[-scale, scale)`.
    pub fn uniform(&mut self, scale: f32) -> f32 {
        let unit = (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
        (2.0 * unit - 1.0) * scale
    }
}

/// A named tensor in checkpoint (Hugging Face) layout.
pub type NamedTensor = (String, Vec<usize>, Vec<f32>);

/// Writes tensors to a safetensors file (any dtype given as `F32` data).
pub fn write_safetensors(path: &Path, tensors: &[NamedTensor]) {
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, _, data)| data.iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let views: Vec<_> = tensors
        .iter()
        .zip(&bytes)
        .map(|((name, shape, _), bytes)| {
            let view = safetensors::tensor::TensorView::new(
                safetensors::tensor::Dtype::F32,
                shape.clone(),
                bytes,
            )
            .unwrap();
            (name.clone(), view)
        })
        .collect();
    let file = safetensors::serialize(views, None).unwrap();
    std::fs::write(path, file).unwrap();
}

/// The tiny model's architecture.
pub fn tiny_config() -> BertConfig {
    BertConfig::new(TINY_VOCAB.len(), 8, 2, 2, 16).with_max_position_embeddings(16)
}

/// The tiny vocabulary; ids are positions. Special tokens as in BERT's layout.
pub const TINY_VOCAB: &[&str] = &[
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "red", "blue", "lipstick", "shampoo", "for", "dry", "hair",
    "a", "matte", "gloss", "pack", "of",
];

/// Random checkpoint tensors for the tiny model, named and shaped as Hugging Face does.
/// Scales are chosen so activations stay O(1), like a trained model's.
pub fn tiny_tensors(seed: u64) -> Vec<NamedTensor> {
    let mut rng = Rng::new(seed);
    key_table(&tiny_config())
        .into_iter()
        .map(|row| {
            let n: usize = row.shape.iter().product();
            let name = row.checkpoint;
            let data = if name.ends_with("LayerNorm.weight") {
                (0..n).map(|_| 1.0 + rng.uniform(0.2)).collect()
            } else if name.ends_with("LayerNorm.bias") || name.ends_with(".bias") {
                (0..n).map(|_| rng.uniform(0.1)).collect()
            } else if name.starts_with("embeddings.") {
                (0..n).map(|_| rng.uniform(1.0)).collect()
            } else {
                let fan_in = row.shape[1] as f32;
                (0..n).map(|_| rng.uniform(1.0 / fan_in.sqrt())).collect()
            };
            (name, row.shape, data)
        })
        .collect()
}

/// A `tokenizer.json` for the tiny vocabulary: lowercase, split on whitespace and
/// punctuation, whole-word lookup, `[CLS] ... [SEP]`, padding to 8 switched on (as
/// all-MiniLM-L6-v2 ships padding to 128) so the tests see that it is switched off.
pub fn tiny_tokenizer_json() -> String {
    let vocab: serde_json::Map<String, serde_json::Value> = TINY_VOCAB
        .iter()
        .enumerate()
        .map(|(i, w)| (w.to_string(), serde_json::json!(i)))
        .collect();
    let added: Vec<_> = TINY_VOCAB[..4]
        .iter()
        .enumerate()
        .map(|(i, w)| {
            serde_json::json!({"id": i, "content": w, "single_word": false, "lstrip": false,
                "rstrip": false, "normalized": false, "special": true})
        })
        .collect();
    serde_json::json!({
        "version": "1.0",
        "truncation": {"direction": "Right", "max_length": 8, "strategy": "LongestFirst", "stride": 0},
        "padding": {"strategy": {"Fixed": 8}, "direction": "Right", "pad_to_multiple_of": null,
            "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"},
        "added_tokens": added,
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}
            }
        },
        "decoder": null,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"}
    })
    .to_string()
}

/// Truncation length of the tiny model (from its `sentence_bert_config.json`).
pub const TINY_MAX_SEQ: usize = 6;

/// Writes a complete tiny model directory (config, tokenizer, weights from `seed`).
pub fn write_tiny_model(dir: &Path, seed: u64) -> Vec<NamedTensor> {
    std::fs::write(
        dir.join("config.json"),
        serde_json::to_string_pretty(&tiny_config()).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("sentence_bert_config.json"),
        format!(r#"{{"max_seq_length": {TINY_MAX_SEQ}, "do_lower_case": false}}"#),
    )
    .unwrap();
    std::fs::write(dir.join("tokenizer.json"), tiny_tokenizer_json()).unwrap();
    let tensors = tiny_tensors(seed);
    write_safetensors(&dir.join("model.safetensors"), &tensors);
    tensors
}

/// Largest absolute difference between two equally long slices.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// The rows of a `[n, d]` tensor.
pub fn rows(t: burn::tensor::Tensor<TestBackend, 2>) -> Vec<Vec<f32>> {
    let [_, d] = t.dims();
    let values: Vec<f32> = t.into_data().iter::<f32>().collect();
    values.chunks(d).map(<[f32]>::to_vec).collect()
}
