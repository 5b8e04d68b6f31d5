//! Training examples, batches and the teacher-forced generation loss.

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use semid::SemanticIds;

use crate::input::{check_layout, history_tokens, pad_rows};
use crate::ops::log_softmax3;
use crate::{EncoderOutput, Tiger, TigerError};

/// One training example: item history (oldest first) and the next item.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrainExample {
    /// Item indices of the history, oldest first.
    pub history: Vec<u32>,
    /// Item index of the target.
    pub target: u32,
}

/// A batch ready for the model.
#[derive(Debug, Clone)]
pub struct TrainBatch<B: Backend> {
    /// Encoder tokens, `[batch, src_len]`, right-padded.
    pub source: Tensor<B, 2, Int>,
    /// Real tokens per source row.
    pub lengths: Vec<usize>,
    /// Decoder inputs `[PAD d1 .. dn]`, `[batch, n + 1]`.
    pub decoder_input: Tensor<B, 2, Int>,
    /// Labels `[d1 .. dn EOS]`, `[batch, n + 1]`.
    pub labels: Tensor<B, 2, Int>,
}

/// Checks every example of a data set (named `what` in errors) against the semantic
/// IDs: a non-empty history of known items and a known target.
pub fn validate_examples(
    examples: &[TrainExample],
    ids: &SemanticIds,
    what: &str,
) -> Result<(), TigerError> {
    for (i, ex) in examples.iter().enumerate() {
        if ex.history.is_empty() {
            return Err(TigerError::Data(format!(
                "{what} example {i}: empty history"
            )));
        }
        for (position, &item) in ex.history.iter().enumerate() {
            if item as usize >= ids.len() {
                return Err(TigerError::Data(format!(
                    "{what} example {i}, history position {position}: item {item} has no semantic ID ({} items)",
                    ids.len()
                )));
            }
        }
        if ex.target as usize >= ids.len() {
            return Err(TigerError::Data(format!(
                "{what} example {i}: target item {} has no semantic ID ({} items)",
                ex.target,
                ids.len()
            )));
        }
    }
    Ok(())
}

impl<B: Backend> TrainBatch<B> {
    /// Builds a batch; `offset` is the index of `examples[0]` in its data set (for errors).
    pub fn new(
        examples: &[&TrainExample],
        ids: &SemanticIds,
        max_history: usize,
        offset: usize,
        device: &B::Device,
    ) -> Result<Self, TigerError> {
        let layout = ids.layout();
        let n = layout.num_digits();
        let mut sources = Vec::with_capacity(examples.len());
        let mut input = Vec::with_capacity(examples.len() * (n + 1));
        let mut labels = Vec::with_capacity(examples.len() * (n + 1));
        for (i, ex) in examples.iter().enumerate() {
            sources.push(history_tokens(&ex.history, ids, max_history, offset + i)?);
            if ex.target as usize >= ids.len() {
                return Err(TigerError::Data(format!(
                    "example {}: target item {} has no semantic ID ({} items)",
                    offset + i,
                    ex.target,
                    ids.len()
                )));
            }
            let tokens: Vec<i64> = ids.tokens(ex.target).map(i64::from).collect();
            input.push(i64::from(layout.pad()));
            input.extend_from_slice(&tokens);
            labels.extend_from_slice(&tokens);
            labels.push(i64::from(layout.eos()));
        }
        let (source, lengths) = pad_rows::<B>(&sources, device);
        let rows = examples.len();
        Ok(Self {
            source,
            lengths,
            decoder_input: Tensor::from_data(TensorData::new(input, [rows, n + 1]), device),
            labels: Tensor::from_data(TensorData::new(labels, [rows, n + 1]), device),
        })
    }
}

impl<B: Backend> Tiger<B> {
    /// Mean cross-entropy of the labels `[d1 .. dn EOS]` under teacher forcing.
    ///
    /// # Shapes
    ///
    /// - output: `[1]`
    pub fn loss(&self, batch: &TrainBatch<B>) -> Tensor<B, 1> {
        let encoded = self.encode_tokens(batch.source.clone(), batch.lengths.clone());
        self.generation_loss(&encoded, batch.decoder_input.clone(), batch.labels.clone())
    }

    /// Mean cross-entropy of `labels` given an encoder pass already made (SpecGR++
    /// shares one encoder pass between its embedding and generation losses).
    ///
    /// # Shapes
    ///
    /// - decoder_input, labels: `[queries, n + 1]` (one row per query of `encoded`)
    /// - output: `[1]`
    pub fn generation_loss(
        &self,
        encoded: &EncoderOutput<B>,
        decoder_input: Tensor<B, 2, Int>,
        labels: Tensor<B, 2, Int>,
    ) -> Tensor<B, 1> {
        let (logits, _) = self.decode(encoded, None, decoder_input); // [batch, n + 1, vocab]
        let log_probs = log_softmax3(logits);
        let picked = log_probs.gather(2, labels.unsqueeze_dim(2)); // [batch, n + 1, 1]
        picked.mean().neg()
    }

    /// Checks that the semantic IDs fit this model.
    pub fn check_ids(&self, ids: &SemanticIds) -> Result<(), TigerError> {
        check_layout(ids.layout(), self.config.vocab_size)
    }
}
