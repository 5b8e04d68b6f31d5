//! Turning item histories into encoder inputs, and checking candidates against the
//! token layout.

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use semid::{SemanticIds, TokenLayout};

use crate::{EncoderOutput, Tiger, TigerError};

/// The encoder tokens of one history: `[BOS] + digits of the last `max_history` items + [EOS]`.
///
/// `query` only names the history in error messages.
pub fn history_tokens(
    history: &[u32],
    ids: &SemanticIds,
    max_history: usize,
    query: usize,
) -> Result<Vec<u32>, TigerError> {
    if history.is_empty() {
        return Err(TigerError::EmptyHistory { query });
    }
    let layout = ids.layout();
    let skip = history.len().saturating_sub(max_history);
    let mut tokens = Vec::with_capacity(2 + (history.len() - skip) * layout.num_digits());
    tokens.push(layout.bos());
    for (position, &item) in history.iter().enumerate().skip(skip) {
        if item as usize >= ids.len() {
            return Err(TigerError::UnknownItem {
                query,
                position,
                item,
                num_items: ids.len(),
            });
        }
        tokens.extend(ids.tokens(item));
    }
    tokens.push(layout.eos());
    Ok(tokens)
}

/// Right-pads token rows with PAD into one `[rows, max_len]` tensor; returns it with the row lengths.
pub fn pad_rows<B: Backend>(
    rows: &[Vec<u32>],
    device: &B::Device,
) -> (Tensor<B, 2, Int>, Vec<usize>) {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let mut flat = vec![0i64; rows.len() * width];
    for (r, row) in rows.iter().enumerate() {
        for (c, &t) in row.iter().enumerate() {
            flat[r * width + c] = i64::from(t);
        }
    }
    let tensor = Tensor::from_data(TensorData::new(flat, [rows.len(), width]), device);
    (tensor, rows.iter().map(Vec::len).collect())
}

/// Checks that `layout` matches the model's vocabulary.
pub(crate) fn check_layout(layout: &TokenLayout, vocab_size: usize) -> Result<(), TigerError> {
    if layout.vocab_size() != vocab_size {
        return Err(TigerError::VocabMismatch {
            layout: layout.vocab_size(),
            model: vocab_size,
        });
    }
    Ok(())
}

/// Checks that a candidate's digits are a valid, non-empty semantic-ID prefix.
pub(crate) fn check_codes(
    layout: &TokenLayout,
    codes: &[u32],
    what: &str,
) -> Result<(), TigerError> {
    if codes.is_empty() {
        return Err(TigerError::InvalidCandidate(format!("{what}: no digits")));
    }
    layout
        .check(codes)
        .map_err(|e| TigerError::InvalidCandidate(format!("{what}: {e}")))
}

impl<B: Backend> Tiger<B> {
    /// Encodes a batch of item histories (oldest first; the last
    /// [`TigerConfig::max_history`](crate::TigerConfig::max_history) items are kept).
    ///
    /// Fails on an empty history, an item without a semantic ID, or a layout whose
    /// vocabulary differs from the model's.
    pub fn encode(
        &self,
        histories: &[&[u32]],
        ids: &SemanticIds,
        device: &B::Device,
    ) -> Result<EncoderOutput<B>, TigerError> {
        check_layout(ids.layout(), self.config.vocab_size)?;
        let rows = histories
            .iter()
            .enumerate()
            .map(|(q, h)| history_tokens(h, ids, self.config.max_history, q))
            .collect::<Result<Vec<_>, _>>()?;
        let (tokens, lengths) = pad_rows::<B>(&rows, device);
        Ok(self.encode_tokens(tokens, lengths))
    }
}
