//! Counted floating-point operations of TIGER's forward passes (a multiply–add is
//! 2 FLOPs), for comparing measured latency with what the hardware's matmul rate
//! allows. Only the matrix products are counted: projections, attention scores and
//! weighted sums, feed-forward layers and the output projection. Norms, softmax,
//! position bias, embedding lookups and the host-side beam bookkeeping are left out;
//! they are linear in the activations and small next to the products, so the count
//! is a floor, not an estimate of the total.

use crate::TigerConfig;

impl TigerConfig {
    /// Width of the attention's inner space: heads × d_kv.
    fn inner(&self) -> u64 {
        (self.num_heads * self.d_kv) as u64
    }

    /// One encoder pass over a history of `len` tokens (all encoder layers).
    pub fn encoder_flops(&self, len: usize) -> u64 {
        let (l, d, i, f) = (len as u64, self.d_model as u64, self.inner(), self.d_ff as u64);
        let per_layer = 2 * (4 * l * d * i) // Q, K, V, O projections
            + 2 * (2 * l * l * i) // scores and weighted sum
            + 2 * (2 * l * d * f); // feed-forward in and out
        per_layer * self.num_encoder_layers as u64
    }

    /// The cross-attention keys and values of one query's encoder output, computed
    /// once and shared by every beam and candidate of the query (all decoder layers).
    pub fn cross_kv_flops(&self, enc_len: usize) -> u64 {
        let (l, d, i) = (enc_len as u64, self.d_model as u64, self.inner());
        2 * (2 * l * d * i) * self.num_decoder_layers as u64
    }

    /// Decoding one new position that attends to `positions` decoder positions
    /// (itself included, read from the KV cache) and `enc_len` encoder states:
    /// every decoder layer plus the full-vocabulary output projection.
    pub fn decoder_position_flops(&self, positions: usize, enc_len: usize) -> u64 {
        let (t, l) = (positions as u64, enc_len as u64);
        let (d, i, f) = (self.d_model as u64, self.inner(), self.d_ff as u64);
        let per_layer = 2 * (4 * d * i) // self-attention Q, K, V, O
            + 2 * (2 * t * i) // self-attention scores and weighted sum
            + 2 * (2 * d * i) // cross-attention Q and O
            + 2 * (2 * l * i) // cross-attention scores and weighted sum
            + 2 * (2 * d * f); // feed-forward
        per_layer * self.num_decoder_layers as u64 + 2 * d * self.vocab_size as u64
    }

    /// One query's KV-cached beam search: the encoder pass, the cross keys and
    /// values, and `steps` decoding steps of `rows[s]` beams each (step `s` decodes
    /// position `s + 1` after the start token; the first step has one row).
    pub fn beam_search_flops(&self, enc_len: usize, rows: &[usize]) -> u64 {
        self.encoder_flops(enc_len)
            + self.cross_kv_flops(enc_len)
            + rows
                .iter()
                .enumerate()
                .map(|(s, &r)| r as u64 * self.decoder_position_flops(s + 1, enc_len))
                .sum::<u64>()
    }

    /// Teacher-forced scoring of candidates whose distinct prefixes number
    /// `prefixes[level]` at each depth (depth 0 is the start token, which predicts the
    /// first digit): each distinct prefix is decoded once. Encoder and cross keys and
    /// values are not included (a query computes them once; see [`Self::beam_search_flops`]).
    pub fn score_flops(&self, enc_len: usize, prefixes: &[usize]) -> u64 {
        prefixes
            .iter()
            .enumerate()
            .map(|(depth, &n)| n as u64 * self.decoder_position_flops(depth + 1, enc_len))
            .sum()
    }
}
