//! [`Tiger`]: the T5 encoder-decoder, exposed in pieces — `encode` once per query,
//! `decode` with a per-layer cache one or more positions at a time.

use burn::module::Module;
use burn::nn::Embedding;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};

use crate::TigerConfig;
use crate::attention::KeyValue;
use crate::layers::{DecoderLayer, EncoderLayer};
use crate::ops::{Dropout, MatmulPrecision, RmsNorm};
use crate::position::RelativeBias;

/// The logit that removes a key from a softmax: `-inf`, whose `exp` is an exact 0 on
/// libm's fast path. A large finite value such as -1e9 gives the same 0, but every
/// such `expf` underflows into libm's error path (it sets `errno`), which took ≈ 7 %
/// of a `tiny` training step. No attention row is ever masked whole, which would be
/// NaN: every history has at least its BOS and EOS tokens (encoder and cross
/// attention), and a causal row always sees its own position.
pub(crate) const MASKED: f32 = f32::NEG_INFINITY;

/// The TIGER model: a T5 encoder-decoder over semantic-ID tokens.
#[derive(Module, Debug)]
pub struct Tiger<B: Backend> {
    /// Token embeddings shared by encoder, decoder and output projection, `[vocab, d_model]`.
    pub shared: Embedding<B>,
    /// Bidirectional relative position bias of the encoder (T5: owned by its first layer).
    pub encoder_bias: RelativeBias<B>,
    /// Unidirectional relative position bias of the decoder.
    pub decoder_bias: RelativeBias<B>,
    /// Encoder layers.
    pub encoder_layers: Vec<EncoderLayer<B>>,
    /// Decoder layers.
    pub decoder_layers: Vec<DecoderLayer<B>>,
    /// Final encoder norm.
    pub encoder_norm: RmsNorm<B>,
    /// Final decoder norm.
    pub decoder_norm: RmsNorm<B>,
    /// Dropout, active only on autodiff backends.
    pub dropout: Dropout,
    /// The sizes this model was built from.
    #[module(skip)]
    pub config: TigerConfig,
}

/// What the decoder needs from the encoder, computed once per query.
#[derive(Debug, Clone)]
pub struct EncoderOutput<B: Backend> {
    /// Final encoder states, `[queries, src_len, d_model]` (padding positions included).
    pub hidden: Tensor<B, 3>,
    /// Number of real tokens of each query's input; the rest is padding.
    pub lengths: Vec<usize>,
    /// Cross-attention keys and values for each decoder layer, `[queries, heads, src_len, d_kv]`.
    pub memory: Vec<KeyValue<B>>,
}

impl<B: Backend> EncoderOutput<B> {
    /// Number of queries.
    pub fn num_queries(&self) -> usize {
        self.lengths.len()
    }

    /// Keeps (and repeats) the queries named by `index`, e.g. to drop queries that exited.
    pub fn select_queries(&self, index: &[usize]) -> Self {
        let device = self.hidden.device();
        let idx = int_tensor::<B>(index.iter().map(|&i| i as i64).collect(), &device);
        Self {
            hidden: self.hidden.clone().select(0, idx.clone()),
            lengths: index.iter().map(|&i| self.lengths[i]).collect(),
            memory: self
                .memory
                .iter()
                .map(|kv| kv.select_rows(idx.clone()))
                .collect(),
        }
    }
}

/// Per-layer self-attention keys and values of the decoded positions of every row.
///
/// Rows are laid out query-major: `groups` rows per query. [`DecoderCache::select_rows`]
/// reorders them (beam reordering, or walking down a prefix tree).
#[derive(Debug, Clone)]
pub struct DecoderCache<B: Backend> {
    /// One entry per decoder layer, `[queries * groups, heads, len, d_kv]`.
    pub layers: Vec<KeyValue<B>>,
    /// Number of decoded positions.
    pub len: usize,
}

impl<B: Backend> DecoderCache<B> {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.layers.first().map_or(0, |kv| kv.k.dims()[0])
    }

    /// Builds a cache whose row `i` is the old row `index[i]`.
    pub fn select_rows(&self, index: &[usize]) -> Self {
        let device = self.layers[0].k.device();
        let idx = int_tensor::<B>(index.iter().map(|&i| i as i64).collect(), &device);
        Self {
            layers: self
                .layers
                .iter()
                .map(|kv| kv.select_rows(idx.clone()))
                .collect(),
            len: self.len,
        }
    }
}

/// The additive padding mask of each query's keys, repeated for `repeats` query
/// positions, `[queries, repeats * src_len]`; `None` when no query has padding.
fn padding_mask<B: Backend>(
    lengths: &[usize],
    src_len: usize,
    repeats: usize,
    device: &B::Device,
) -> Option<Tensor<B, 2>> {
    if lengths.iter().all(|&l| l >= src_len) {
        return None;
    }
    let mut mask = Vec::with_capacity(lengths.len() * repeats * src_len);
    for &len in lengths {
        let row: Vec<f32> = (0..src_len)
            .map(|i| if i < len { 0.0 } else { MASKED })
            .collect();
        for _ in 0..repeats {
            mask.extend_from_slice(&row);
        }
    }
    Some(Tensor::from_data(
        TensorData::new(mask, [lengths.len(), repeats * src_len]),
        device,
    ))
}

/// An `Int` tensor of shape `[values.len()]`.
pub(crate) fn int_tensor<B: Backend>(values: Vec<i64>, device: &B::Device) -> Tensor<B, 1, Int> {
    let n = values.len();
    Tensor::from_data(TensorData::new(values, [n]), device)
}

impl<B: Backend> Tiger<B> {
    /// Runs the encoder on right-padded token rows.
    ///
    /// # Shapes
    ///
    /// - tokens: `[queries, src_len]`, `lengths[q]` real tokens then PAD
    pub fn encode_tokens(
        &self,
        tokens: Tensor<B, 2, Int>,
        lengths: Vec<usize>,
    ) -> EncoderOutput<B> {
        let _span = tracing::trace_span!("tiger_encode").entered();
        let hidden = self.encode_states(tokens, &lengths);
        let memory = self.memory(hidden.clone());
        EncoderOutput {
            hidden,
            lengths,
            memory,
        }
    }

    /// The decoder layers' cross-attention keys and values over encoder states.
    ///
    /// # Shapes
    ///
    /// - hidden: `[queries, src_len, d_model]`
    /// - output: per decoder layer, `[queries, heads, src_len, d_kv]`
    pub fn memory(&self, hidden: Tensor<B, 3>) -> Vec<KeyValue<B>> {
        self.decoder_layers
            .iter()
            .map(|layer| layer.cross_attention.memory(hidden.clone()))
            .collect()
    }

    /// Runs the encoder stack only (no cross-attention memory): the final encoder
    /// states, as in [`EncoderOutput::hidden`]. SpecGR++ embeds single items this way.
    ///
    /// # Shapes
    ///
    /// - tokens: `[queries, src_len]`, `lengths[q]` real tokens then PAD
    /// - output: `[queries, src_len, d_model]`
    pub fn encode_states(&self, tokens: Tensor<B, 2, Int>, lengths: &[usize]) -> Tensor<B, 3> {
        let device = tokens.device();
        let [queries, src_len] = tokens.dims();
        let heads = self.config.num_heads;
        let position = self.encoder_bias.forward(0, src_len, src_len); // [1, heads, src, src]
        // The position bias and the padding mask are added once and shared by all layers.
        let bias = match padding_mask::<B>(lengths, src_len, heads * src_len, &device) {
            Some(mask) => {
                let rest = heads * src_len * src_len;
                (position.reshape([1, rest]) + mask.reshape([queries, rest]))
                    .reshape([queries, heads, src_len, src_len])
            }
            None => position,
        };
        let mut x = self.dropout.forward(self.shared.forward(tokens)); // [queries, src_len, d_model]
        for layer in &self.encoder_layers {
            x = layer.forward(x, bias.clone(), &self.dropout);
        }
        self.dropout.forward(self.encoder_norm.forward(x))
    }

    /// Decodes `len` new positions per row after the positions held in `cache`
    /// (none: from the start) and returns the next-token logits at each new position.
    ///
    /// Rows are query-major: `rows / queries` rows per query of `encoded`.
    ///
    /// # Shapes
    ///
    /// - tokens: `[rows, len]` decoder inputs (position 0 is PAD, the decoder start)
    /// - output: logits `[rows, len, vocab]` and the cache grown by `len` positions
    pub fn decode(
        &self,
        encoded: &EncoderOutput<B>,
        cache: Option<&DecoderCache<B>>,
        tokens: Tensor<B, 2, Int>,
    ) -> (Tensor<B, 3>, DecoderCache<B>) {
        let (hidden, cache) = self.decode_hidden(encoded, cache, tokens);
        (self.project(hidden), cache)
    }

    /// Like [`Tiger::decode`], but returns the final decoder states before the output projection.
    ///
    /// # Shapes
    ///
    /// - output: `[rows, len, d_model]`
    pub fn decode_hidden(
        &self,
        encoded: &EncoderOutput<B>,
        cache: Option<&DecoderCache<B>>,
        tokens: Tensor<B, 2, Int>,
    ) -> (Tensor<B, 3>, DecoderCache<B>) {
        let _span = tracing::trace_span!("tiger_decode").entered();
        let device = tokens.device();
        let [_, len] = tokens.dims();
        let past = cache.map_or(0, |c| c.len);
        let total = past + len;
        let mut bias = self.decoder_bias.forward(past, len, total); // [1, heads, len, total]
        // (The causal mask below is [1, 1, len, total]: a tiny tensor, never one per row.)
        if len > 1 {
            let causal: Vec<f32> = (0..len)
                .flat_map(|q| (0..total).map(move |k| if k > past + q { MASKED } else { 0.0 }))
                .collect();
            bias = bias
                + Tensor::<B, 4>::from_data(TensorData::new(causal, [1, 1, len, total]), &device);
        }
        let [rows, _] = tokens.dims();
        let [queries, src_len, _] = encoded.hidden.dims();
        let heads = self.config.num_heads;
        let cross_mask = padding_mask::<B>(
            &encoded.lengths,
            src_len,
            heads * rows / queries * len,
            &device,
        )
        .map(|m| m.reshape([queries, heads, rows / queries * len, src_len]));
        let mut x = self.dropout.forward(self.shared.forward(tokens)); // [rows, len, d_model]
        let mut layers = Vec::with_capacity(self.decoder_layers.len());
        for (i, layer) in self.decoder_layers.iter().enumerate() {
            let (y, kv) = layer.forward(
                x,
                cache.map(|c| &c.layers[i]),
                bias.clone(),
                &encoded.memory[i],
                cross_mask.clone(),
                &self.dropout,
            );
            x = y;
            layers.push(kv);
        }
        let hidden = self.dropout.forward(self.decoder_norm.forward(x));
        (hidden, DecoderCache { layers, len: total })
    }

    /// Runs the products of every linear map of the model (attention projections and
    /// feed-forward blocks) in `precision` from now on; see [`MatmulPrecision`]. Not a
    /// property of the weights: a loaded checkpoint starts in float32.
    pub fn set_matmul_precision(&mut self, precision: MatmulPrecision) {
        for layer in &mut self.encoder_layers {
            layer.attention.precision = precision;
            layer.ff.precision = precision;
        }
        for layer in &mut self.decoder_layers {
            layer.self_attention.precision = precision;
            layer.cross_attention.precision = precision;
            layer.ff.precision = precision;
        }
    }

    /// The precision of the model's linear maps (of its first encoder layer's
    /// feed-forward block; [`Tiger::set_matmul_precision`] sets them all alike).
    pub fn matmul_precision(&self) -> MatmulPrecision {
        self.encoder_layers
            .first()
            .map_or(MatmulPrecision::F32, |layer| layer.ff.precision)
    }

    /// Restarts the dropout generator (shared by all layers) from `seed`.
    pub fn seed_dropout(&self, seed: u64) {
        self.dropout.rng.reseed(seed);
    }

    /// The tied output projection: `(hidden * d_model^-0.5) @ shared^T`.
    ///
    /// # Shapes
    ///
    /// - hidden: `[rows, len, d_model]`
    /// - output: `[rows, len, vocab]`
    pub fn project(&self, hidden: Tensor<B, 3>) -> Tensor<B, 3> {
        let [rows, len, d_model] = hidden.dims();
        let scaled = hidden
            .mul_scalar((d_model as f64).powf(-0.5))
            .reshape([rows * len, d_model]);
        scaled
            .matmul(self.shared.weight.val().transpose())
            .reshape([rows, len, self.config.vocab_size])
    }
}
