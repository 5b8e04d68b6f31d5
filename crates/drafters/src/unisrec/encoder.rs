//! UniSRec's post-LN transformer layer, written for speed on the CPU backend.
//!
//! Every operation runs on 2-d views (`[batch * seq, d_model]`): linear maps are
//! one matrix product each, LayerNorm and softmax see rows, and the attention
//! masks are additive biases broadcast over rows. Burn's `TransformerEncoder` on
//! 3-d inputs broadcasts each weight per batch row (and sums per-row weight
//! gradients), fills 4-d masks and samples dropout masks through the backend;
//! on Flex those paths cost several times the arithmetic. The last layer is
//! evaluated only at each history's last position, the one UniSRec reads.

use burn::nn::{Gelu, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::softmax;

use super::dropout::{DropoutRng, HostDropout};

/// Score added to masked attention logits (Burn's `min_float` default).
pub(crate) const MASKED: f32 = -1.0e4;

/// One post-LN encoder layer: `x = LN(x + drop(attn(x)))`, `x = LN(x + drop(ffn(x)))`,
/// with GELU in the feed-forward block and dropout on the attention weights.
#[derive(Module, Debug)]
pub struct EncoderLayer<B: Backend> {
    /// Query projection.
    pub query: Linear<B>,
    /// Key projection.
    pub key: Linear<B>,
    /// Value projection.
    pub value: Linear<B>,
    /// Attention output projection.
    pub output: Linear<B>,
    /// Feed-forward `d_model -> d_inner`.
    pub ffn_inner: Linear<B>,
    /// Feed-forward `d_inner -> d_model`.
    pub ffn_outer: Linear<B>,
    /// LayerNorm after the attention residual.
    pub norm_attn: LayerNorm<B>,
    /// LayerNorm after the feed-forward residual.
    pub norm_ffn: LayerNorm<B>,
    /// Dropout on residual branches, attention weights and the inner activation.
    pub dropout: HostDropout,
    /// GELU (exact, erf-based).
    pub gelu: Gelu,
    /// Attention heads.
    pub n_heads: usize,
}

/// The reference's `initializer_range`: linear and embedding weights are drawn from
/// N(0, 0.02²). Burn's defaults (Kaiming-uniform linears, N(0, 1) embeddings) give
/// position vectors ~50× longer than adapted item vectors, which drowns the items
/// and made training crawl.
pub(crate) const INIT_STD: f64 = 0.02;

/// Builds a layer initialised as the reference does (N(0, 0.02²) linear weights).
pub(crate) fn init_layer<B: Backend>(
    d_model: usize,
    d_inner: usize,
    n_heads: usize,
    dropout: f64,
    eps: f64,
    rng: &DropoutRng,
    device: &B::Device,
) -> EncoderLayer<B> {
    let init = burn::nn::Initializer::Normal { mean: 0.0, std: INIT_STD };
    let linear = |i, o| LinearConfig::new(i, o).with_initializer(init.clone()).init(device);
    let norm = || LayerNormConfig::new(d_model).with_epsilon(eps).init(device);
    EncoderLayer {
        query: linear(d_model, d_model),
        key: linear(d_model, d_model),
        value: linear(d_model, d_model),
        output: linear(d_model, d_model),
        ffn_inner: linear(d_model, d_inner),
        ffn_outer: linear(d_inner, d_model),
        norm_attn: norm(),
        norm_ffn: norm(),
        dropout: HostDropout::new(dropout, rng.clone()),
        gelu: Gelu::new(),
        n_heads,
    }
}

/// The additive causal mask for sequences of length `seq`: position `i` may
/// attend to `j <= i`.
///
/// # Shapes
/// - output: `[1, seq * seq]`
pub(crate) fn causal_bias<B: Backend>(seq: usize, device: &B::Device) -> Tensor<B, 2> {
    let bias: Vec<f32> = (0..seq * seq).map(|k| if k % seq > k / seq { MASKED } else { 0.0 }).collect();
    Tensor::from_data(TensorData::new(bias, [1, seq * seq]), device)
}

/// The additive key mask of a single query at each row's last real position:
/// keys at or beyond a row's length are masked, for every head.
///
/// # Shapes
/// - output: `[lengths.len(), n_heads * seq]`
pub(crate) fn last_position_bias<B: Backend>(lengths: &[usize], n_heads: usize, seq: usize, device: &B::Device) -> Tensor<B, 2> {
    let mut bias = vec![0.0f32; lengths.len() * n_heads * seq];
    for (row, &len) in bias.chunks_exact_mut(n_heads * seq).zip(lengths) {
        for head in row.chunks_exact_mut(seq) {
            head[len.clamp(1, seq)..].fill(MASKED);
        }
    }
    Tensor::from_data(TensorData::new(bias, [lengths.len(), n_heads * seq]), device)
}

impl<B: Backend> EncoderLayer<B> {
    /// Self-attention over whole sequences with a causal mask.
    ///
    /// # Shapes
    /// - `x`: `[batch * seq, d_model]`, row `b * seq + t` is position `t` of sequence `b`
    /// - `causal`: `[1, seq * seq]` from [`causal_bias`]
    /// - output: `[batch * seq, d_model]`
    pub fn forward(&self, x: Tensor<B, 2>, batch: usize, seq: usize, causal: Tensor<B, 2>) -> Tensor<B, 2> {
        let [rows, d_model] = x.dims();
        let (h, dk) = (self.n_heads, d_model / self.n_heads);
        let heads = |t: Tensor<B, 2>| t.reshape([batch, seq, h, dk]).swap_dims(1, 2); // [batch, h, seq, dk]
        let q = heads(self.query.forward(x.clone()));
        let k = heads(self.key.forward(x.clone()));
        let v = heads(self.value.forward(x.clone()));
        let scores = q.matmul(k.swap_dims(2, 3)).mul_scalar(1.0 / (dk as f64).sqrt()); // [batch, h, seq, seq]
        let scores = scores.reshape([batch * h, seq * seq]) + causal;
        let probs = self.dropout.forward(softmax(scores.reshape([batch * h * seq, seq]), 1));
        let context = probs.reshape([batch, h, seq, seq]).matmul(v).swap_dims(1, 2).reshape([rows, d_model]);
        self.residual_blocks(x, self.output.forward(context))
    }

    /// The layer's output at one position per sequence (`picks`), attending to
    /// that sequence's first `lengths[b]` positions.
    ///
    /// # Shapes
    /// - `x`: `[batch * seq, d_model]`
    /// - `picks`: `[batch]`, the rows `b * seq + lengths[b] - 1`
    /// - `keys`: `[batch, n_heads * seq]` from [`last_position_bias`]
    /// - output: `[batch, d_model]`
    pub fn forward_last(&self, x: Tensor<B, 2>, batch: usize, seq: usize, picks: Tensor<B, 1, Int>, keys: Tensor<B, 2>) -> Tensor<B, 2> {
        let d_model = x.dims()[1];
        let (h, dk) = (self.n_heads, d_model / self.n_heads);
        let last = x.clone().select(0, picks); // [batch, d_model]
        let q = self.query.forward(last.clone()).reshape([batch, h, 1, dk]);
        let heads = |t: Tensor<B, 2>| t.reshape([batch, seq, h, dk]).swap_dims(1, 2); // [batch, h, seq, dk]
        let k = heads(self.key.forward(x.clone()));
        let v = heads(self.value.forward(x));
        let scores = q.matmul(k.swap_dims(2, 3)).mul_scalar(1.0 / (dk as f64).sqrt()); // [batch, h, 1, seq]
        let scores = scores.reshape([batch, h * seq]) + keys;
        let probs = self.dropout.forward(softmax(scores.reshape([batch * h, seq]), 1));
        let context = probs.reshape([batch, h, 1, seq]).matmul(v).reshape([batch, d_model]); // [batch, h, 1, dk] is row-major [batch, d_model]
        self.residual_blocks(last, self.output.forward(context))
    }

    /// `x = LN(x + drop(attention))`, then the feed-forward block.
    ///
    /// # Shapes
    /// - `x`, `attention`, output: `[rows, d_model]`
    fn residual_blocks(&self, x: Tensor<B, 2>, attention: Tensor<B, 2>) -> Tensor<B, 2> {
        let x = self.norm_attn.forward(x + self.dropout.forward(attention));
        let inner = self.dropout.forward(self.gelu.forward(self.ffn_inner.forward(x.clone())));
        self.norm_ffn.forward(x + self.dropout.forward(self.ffn_outer.forward(inner)))
    }
}
