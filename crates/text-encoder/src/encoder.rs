//! `SentenceEncoder`: text in, L2-normalised sentence embeddings out, the way
//! sentence-transformers computes them for BERT models such as all-MiniLM-L6-v2.

use std::path::{Path, PathBuf};

use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Int, Tensor, TensorData};
use serde::Deserialize;

use crate::bert::{BertConfig, BertModel, load_checkpoint};
use crate::cache::{self, TextEntry};
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::files::{
    CONFIG_FILE, POOLING_CONFIG_FILE, SENTENCE_CONFIG_FILE, TOKENIZER_FILE, WEIGHTS_FILE,
    read_json, sha256_file, sha256_str,
};
use crate::pooling::{l2_normalize, mean_pool};
use crate::tokenizer::{TextTokenizer, TokenizedText};

/// `sentence_bert_config.json`.
#[derive(Debug, Deserialize)]
struct SentenceBertConfig {
    max_seq_length: Option<usize>,
}

/// `1_Pooling/config.json` (only the fields that matter here).
#[derive(Debug, Deserialize)]
struct PoolingConfig {
    #[serde(default = "yes")]
    pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
    #[serde(default)]
    pooling_mode_mean_sqrt_len_tokens: bool,
}

fn yes() -> bool {
    true
}

/// What [`SentenceEncoder::embed_all`] produced.
#[derive(Debug, Clone)]
pub struct EmbedOutput {
    /// One row per input text, in input order.
    pub embeddings: Embeddings,
    /// How many texts were longer than the maximum and were truncated.
    pub truncated: usize,
    /// How many rows came from the cache rather than the model.
    pub reused: usize,
}

/// A BERT sentence encoder: tokenizer, model, mean pooling and L2 normalisation.
#[derive(Debug)]
pub struct SentenceEncoder<B: Backend> {
    model: BertModel<B>,
    config: BertConfig,
    tokenizer: TextTokenizer,
    pad_id: u32,
    model_checksum: String,
    model_dir: PathBuf,
    device: B::Device,
    threads: usize,
    /// How often [`embed_all`](Self::embed_all) saves finished rows to its cache.
    checkpoint_every: std::time::Duration,
}

/// How often [`SentenceEncoder::embed_all`] saves finished rows unless told otherwise.
const DEFAULT_CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

impl<B: Backend> SentenceEncoder<B> {
    /// Loads a sentence-transformers model directory (see
    /// [`encoder_files`](crate::encoder_files)): `config.json`, `tokenizer.json`,
    /// `model.safetensors`, and where present `sentence_bert_config.json` (maximum
    /// length) and `1_Pooling/config.json` (which must ask for mean pooling).
    pub fn load(dir: &Path, device: &B::Device) -> Result<Self> {
        let config_path = dir.join(CONFIG_FILE);
        let config: BertConfig = read_json(&config_path)?;
        let unsupported = |path: &Path, message: String| Error::UnsupportedConfig {
            path: path.to_path_buf(),
            message,
        };
        config.check().map_err(|m| unsupported(&config_path, m))?;

        let sentence_path = dir.join(SENTENCE_CONFIG_FILE);
        let mut max_length = config.max_position_embeddings;
        if sentence_path.exists() {
            let sentence: SentenceBertConfig = read_json(&sentence_path)?;
            if let Some(max) = sentence.max_seq_length {
                if max < 2 || max > config.max_position_embeddings {
                    return Err(unsupported(
                        &sentence_path,
                        format!(
                            "max_seq_length {max} is outside 2..={}",
                            config.max_position_embeddings
                        ),
                    ));
                }
                max_length = max;
            }
        }
        let pooling_path = dir.join(POOLING_CONFIG_FILE);
        if pooling_path.exists() {
            let pooling: PoolingConfig = read_json(&pooling_path)?;
            if !pooling.pooling_mode_mean_tokens
                || pooling.pooling_mode_cls_token
                || pooling.pooling_mode_max_tokens
                || pooling.pooling_mode_mean_sqrt_len_tokens
            {
                return Err(unsupported(
                    &pooling_path,
                    "only mean pooling (pooling_mode_mean_tokens alone) is implemented".into(),
                ));
            }
        }

        let tokenizer_path = dir.join(TOKENIZER_FILE);
        let tokenizer = TextTokenizer::from_file(&tokenizer_path, max_length)?;
        // An id beyond the embedding table would panic inside the backend.
        if let Some(max) = tokenizer.max_id().filter(|&m| m as usize >= config.vocab_size) {
            return Err(Error::Tokenizer {
                path: tokenizer_path,
                message: format!(
                    "its vocabulary has ids up to {max}, but the model's vocab_size is {} ({}): \
                     this tokenizer does not belong to this model",
                    config.vocab_size,
                    config_path.display()
                ),
            });
        }
        let weights_path = dir.join(WEIGHTS_FILE);
        let model_checksum = sha256_file(&weights_path)?;
        let model = load_checkpoint(config.init(device), &config, &weights_path)?;
        tracing::info!(dir = %dir.display(), max_length, "loaded sentence encoder");
        Ok(Self::from_parts(
            model,
            config,
            tokenizer,
            model_checksum,
            dir,
            device,
        ))
    }

    /// Assembles an encoder from a model and tokenizer already in hand.
    /// `model_checksum` keys the embedding cache; `model_dir` is recorded in it.
    pub fn from_parts(
        model: BertModel<B>,
        config: BertConfig,
        tokenizer: TextTokenizer,
        model_checksum: String,
        model_dir: &Path,
        device: &B::Device,
    ) -> Self {
        let pad_id = u32::try_from(config.pad_token_id).unwrap_or(0);
        Self {
            model,
            config,
            tokenizer,
            pad_id,
            model_checksum,
            model_dir: model_dir.to_path_buf(),
            device: device.clone(),
            threads: 1,
            checkpoint_every: DEFAULT_CHECKPOINT_EVERY,
        }
    }

    /// Saves the rows finished so far to the cache directory of
    /// [`embed_all`](Self::embed_all) whenever this much time has passed since the last
    /// save (default 30 s; zero saves after every batch), so that a killed run resumes
    /// from them instead of starting over.
    pub fn with_checkpoint_every(mut self, every: std::time::Duration) -> Self {
        self.checkpoint_every = every;
        self
    }

    /// Runs [`embed_all`](Self::embed_all)'s batches on `threads` threads at once
    /// (at least 1). Worth it on CPU backends whose kernels are single-threaded; a GPU
    /// backend gains nothing from more than one.
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// How many batches [`embed_all`](Self::embed_all) runs at once.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Width of an embedding.
    pub fn dim(&self) -> usize {
        self.config.hidden_size
    }

    /// Truncation length in word pieces, special tokens included.
    pub fn max_seq_length(&self) -> usize {
        self.tokenizer.max_length()
    }

    /// Hex sha256 of the weights file: the embedding cache's key.
    pub fn model_checksum(&self) -> &str {
        &self.model_checksum
    }

    /// The model's configuration.
    pub fn config(&self) -> &BertConfig {
        &self.config
    }

    /// The underlying BERT model.
    pub fn model(&self) -> &BertModel<B> {
        &self.model
    }

    /// The tokenizer (padding off, truncation at [`max_seq_length`](Self::max_seq_length)).
    pub fn tokenizer(&self) -> &TextTokenizer {
        &self.tokenizer
    }

    /// Tokenises texts as [`encode`](Self::encode) would; fails on an id beyond the
    /// model's vocabulary (a tokenizer that does not belong to the model).
    pub fn tokenize(&self, texts: &[&str]) -> Result<Vec<TokenizedText>> {
        let tokenized = self.tokenizer.tokenize(texts)?;
        let vocab = self.config.vocab_size;
        for (index, t) in tokenized.iter().enumerate() {
            if let Some(&id) = t.ids.iter().find(|&&id| id as usize >= vocab) {
                return Err(Error::Tokenize {
                    index,
                    message: format!(
                        "{} gave token id {id}, beyond the model's vocabulary of {vocab} (config.json of {})",
                        self.tokenizer.path().display(),
                        self.model_dir.display()
                    ),
                });
            }
        }
        Ok(tokenized)
    }

    /// Embeds texts in one batch, in order.
    ///
    /// # Shapes
    ///
    /// - output: `[texts.len(), dim]`, rows of unit norm
    pub fn encode(&self, texts: &[&str]) -> Result<Tensor<B, 2>> {
        if texts.is_empty() {
            return Err(Error::InvalidArgument("no texts to encode".into()));
        }
        let tokenized = self.tokenize(texts)?;
        let ids: Vec<&[u32]> = tokenized.iter().map(|t| t.ids.as_slice()).collect();
        Ok(self.encode_ids(&ids))
    }

    /// Embeds already tokenised sequences (each at most
    /// [`max_seq_length`](Self::max_seq_length) long, every id below the config's
    /// `vocab_size`, as [`tokenize`](Self::tokenize) checks) in one padded batch.
    ///
    /// # Shapes
    ///
    /// - output: `[batch.len(), dim]`, rows of unit norm
    pub fn encode_ids(&self, batch: &[&[u32]]) -> Tensor<B, 2> {
        let _span = tracing::debug_span!("encode_batch", rows = batch.len()).entered();
        let rows = batch.len();
        let seq = batch.iter().map(|ids| ids.len()).max().unwrap_or(0).max(1);
        let mut ids = Vec::with_capacity(rows * seq);
        let mut keep = Vec::with_capacity(rows * seq);
        for row in batch {
            ids.extend(row.iter().map(|&id| id as i64));
            ids.extend(std::iter::repeat_n(self.pad_id as i64, seq - row.len()));
            keep.extend(std::iter::repeat_n(1.0f32, row.len()));
            keep.extend(std::iter::repeat_n(0.0f32, seq - row.len()));
        }
        let padded = batch.iter().any(|ids| ids.len() != seq);
        let keep = Tensor::<B, 2>::from_data(TensorData::new(keep, [rows, seq]), &self.device);
        let padding: Option<Tensor<B, 2, Bool>> = padded.then(|| keep.clone().equal_elem(0.0));
        let ids = Tensor::<B, 2, Int>::from_data(TensorData::new(ids, [rows, seq]), &self.device);
        let hidden = self.model.forward(ids, padding); // [rows, seq, dim]
        l2_normalize(mean_pool(hidden, keep))
    }

    /// Writes the finished rows (and only those) to the cache in `dir`.
    fn store_rows(&self, dir: &Path, data: &[f32], hashes: &[String], truncated: &[bool], finished: &[bool]) -> Result<()> {
        let dim = self.dim();
        let rows: Vec<usize> = (0..finished.len()).filter(|&i| finished[i]).collect();
        let values: Vec<f32> = rows.iter().flat_map(|&i| data[i * dim..(i + 1) * dim].iter().copied()).collect();
        let entries = rows.iter().map(|&i| TextEntry { sha256: hashes[i].clone(), truncated: truncated[i] }).collect();
        let manifest = cache::manifest_base(&self.model_checksum, &self.model_dir, dim, self.max_seq_length(), entries);
        cache::store(dir, &Embeddings::new(dim, values)?, manifest)
    }

    /// Embeds every text, `batch_size` at a time, longest first so that each batch
    /// holds texts of similar length and little padding.
    ///
    /// With `cache_dir`, rows of texts embedded before by the same model (same
    /// checksum, same text hash) are reused, and afterwards the directory holds
    /// `embeddings.safetensors` and `manifest.json` for exactly `texts`, in order.
    /// `progress(done, total)` is called as texts are finished.
    pub fn embed_all(
        &self,
        texts: &[&str],
        batch_size: usize,
        cache_dir: Option<&Path>,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<EmbedOutput> {
        if batch_size == 0 {
            return Err(Error::InvalidArgument("batch size 0".into()));
        }
        let _span = tracing::info_span!("embed_all", texts = texts.len()).entered();
        let dim = self.dim();
        let total = texts.len();
        let hashes: Vec<String> = texts.iter().map(|t| sha256_str(t)).collect();
        let cached = match cache_dir {
            // The cache is only ever rebuilt from the model, so a damaged one (cut short,
            // or a matrix and manifest that do not belong together) is safe to replace.
            Some(dir) => cache::load_cached(dir, &self.model_checksum, dim).unwrap_or_else(|e| {
                tracing::warn!("the embedding cache in {} is damaged ({e}); embedding every text again and rewriting it", dir.display());
                Default::default()
            }),
            None => Default::default(),
        };
        let mut data = vec![0f32; total * dim];
        let mut truncated = vec![false; total];
        let mut finished = vec![false; total];
        let mut todo = Vec::new();
        for (i, hash) in hashes.iter().enumerate() {
            match cached.get(hash) {
                Some((row, was_truncated)) => {
                    data[i * dim..(i + 1) * dim].copy_from_slice(row);
                    truncated[i] = was_truncated;
                    finished[i] = true;
                }
                None => todo.push(i),
            }
        }
        let reused = total - todo.len();
        let mut done = reused;
        progress(done, total);

        let todo_texts: Vec<&str> = todo.iter().map(|&i| texts[i]).collect();
        let tokenized = self.tokenize(&todo_texts)?;
        let mut order: Vec<usize> = (0..todo.len()).collect();
        order.sort_by_key(|&j| std::cmp::Reverse(tokenized[j].ids.len()));
        let chunks: Vec<&[usize]> = order.chunks(batch_size).collect();
        let mut last_save = std::time::Instant::now();
        let mut save_error = None;
        let mut place = |chunk: &[usize], values: Vec<f32>| {
            for (&j, row) in chunk.iter().zip(values.chunks_exact(dim)) {
                let i = todo[j];
                data[i * dim..(i + 1) * dim].copy_from_slice(row);
                truncated[i] = tokenized[j].truncated;
                finished[i] = true;
            }
            done += chunk.len();
            // Finished rows are saved now and then, so a killed run keeps them: the
            // cache then holds just those texts, and the next run reuses them by hash.
            if let Some(dir) = cache_dir
                && done < total
                && save_error.is_none()
                && last_save.elapsed() >= self.checkpoint_every
            {
                if let Err(e) = self.store_rows(dir, &data, &hashes, &truncated, &finished) {
                    save_error = Some(e);
                }
                last_save = std::time::Instant::now();
            }
            progress(done, total);
        };
        let run = |chunk: &[usize]| -> Vec<f32> {
            let ids: Vec<&[u32]> = chunk.iter().map(|&j| tokenized[j].ids.as_slice()).collect();
            self.encode_ids(&ids).into_data().iter::<f32>().collect()
        };
        if self.threads <= 1 || chunks.len() <= 1 {
            for chunk in &chunks {
                place(chunk, run(chunk));
            }
        } else {
            // Workers take batches in turn from a shared counter and send results
            // back; this thread places them and reports progress.
            let next = std::sync::atomic::AtomicUsize::new(0);
            std::thread::scope(|scope| {
                let (sender, receiver) = std::sync::mpsc::channel();
                for _ in 0..self.threads.min(chunks.len()) {
                    let sender = sender.clone();
                    let (next, chunks, run) = (&next, &chunks, &run);
                    scope.spawn(move || {
                        loop {
                            let c = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(chunk) = chunks.get(c) else { break };
                            if sender.send((c, run(chunk))).is_err() {
                                break;
                            }
                        }
                    });
                }
                drop(sender);
                for (c, values) in receiver {
                    place(chunks[c], values);
                }
            });
        }
        if let Some(e) = save_error {
            return Err(e);
        }

        let embeddings = Embeddings::new(dim, data)?;
        let entries: Vec<TextEntry> = hashes
            .into_iter()
            .zip(&truncated)
            .map(|(sha256, &truncated)| TextEntry { sha256, truncated })
            .collect();
        // A cache that already holds exactly these texts is left untouched, so that
        // readers of an unchanged artifact never see it rewritten.
        if let Some(dir) = cache_dir.filter(|_| !cached.holds_exactly(&entries)) {
            let manifest = cache::manifest_base(
                &self.model_checksum,
                &self.model_dir,
                dim,
                self.max_seq_length(),
                entries,
            );
            cache::store(dir, &embeddings, manifest)?;
        }
        let truncated = truncated.iter().filter(|&&t| t).count();
        tracing::info!(total, reused, truncated, "embedded texts");
        Ok(EmbedOutput {
            embeddings,
            truncated,
            reused,
        })
    }
}
