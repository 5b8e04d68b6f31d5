//! T5 blocks: pre-norm residual layers with RMSNorm and a ReLU feed-forward.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::TigerConfig;
use crate::attention::{CrossAttention, KeyValue, SelfAttention, Weights, normal_linear};
use crate::ops::{Dropout, MatmulPrecision, RmsNorm, linear3, relu};

/// The sizes every layer needs.
#[derive(Debug, Clone, Copy)]
pub struct LayerSizes {
    d_model: usize,
    d_ff: usize,
    d_kv: usize,
    heads: usize,
    eps: f64,
    weights: Weights,
}

impl From<&TigerConfig> for LayerSizes {
    fn from(c: &TigerConfig) -> Self {
        Self {
            d_model: c.d_model,
            d_ff: c.d_ff,
            d_kv: c.d_kv,
            heads: c.num_heads,
            eps: c.layer_norm_eps,
            weights: Weights::Drawn,
        }
    }
}

impl LayerSizes {
    /// The same sizes, building layers whose weights are placeholders for loaded ones.
    pub(crate) fn placeholders(self) -> Self {
        Self { weights: Weights::Placeholder, ..self }
    }

    fn norm<B: Backend>(&self, device: &B::Device) -> RmsNorm<B> {
        RmsNorm::new(self.d_model, self.eps, device)
    }
}

/// The ReLU feed-forward block `wo(dropout(relu(wi(x))))`.
#[derive(Module, Debug)]
pub struct FeedForward<B: Backend> {
    /// `[d_model, d_ff]`.
    pub wi: Linear<B>,
    /// `[d_ff, d_model]`.
    pub wo: Linear<B>,
    /// The precision of the two products (a run-time choice, not saved with the weights).
    #[module(skip)]
    pub precision: MatmulPrecision,
}

impl<B: Backend> FeedForward<B> {
    fn new(s: &LayerSizes, device: &B::Device) -> Self {
        Self {
            wi: normal_linear(s.d_model, &[(s.d_ff, (s.d_model as f64).powf(-0.5))], s.weights, device),
            wo: normal_linear(s.d_ff, &[(s.d_model, (s.d_ff as f64).powf(-0.5))], s.weights, device),
            precision: MatmulPrecision::F32,
        }
    }

    /// # Shapes
    ///
    /// - x, output: `[rows, len, d_model]`
    pub fn forward(&self, x: Tensor<B, 3>, dropout: &Dropout) -> Tensor<B, 3> {
        let p = self.precision;
        linear3(&self.wo, dropout.forward(relu(linear3(&self.wi, x, p))), p)
    }
}

/// One encoder layer: bidirectional self-attention, then feed-forward.
#[derive(Module, Debug)]
pub struct EncoderLayer<B: Backend> {
    /// Norm before self-attention.
    pub attention_norm: RmsNorm<B>,
    /// Self-attention.
    pub attention: SelfAttention<B>,
    /// Norm before the feed-forward block.
    pub ff_norm: RmsNorm<B>,
    /// Feed-forward block.
    pub ff: FeedForward<B>,
}

impl<B: Backend> EncoderLayer<B> {
    /// A freshly initialised layer.
    pub fn new(s: &LayerSizes, device: &B::Device) -> Self {
        Self {
            attention_norm: s.norm(device),
            attention: SelfAttention::with_weights(s.d_model, s.heads, s.d_kv, s.weights, device),
            ff_norm: s.norm(device),
            ff: FeedForward::new(s, device),
        }
    }

    /// # Shapes
    ///
    /// - x, output: `[queries, src_len, d_model]`
    /// - bias: `[queries, heads, src_len, src_len]` or broadcastable (position bias + padding mask)
    pub fn forward(&self, x: Tensor<B, 3>, bias: Tensor<B, 4>, dropout: &Dropout) -> Tensor<B, 3> {
        let (attended, _) =
            self.attention
                .forward(self.attention_norm.forward(x.clone()), None, bias, dropout);
        let x = x + dropout.forward(attended);
        let ff = self.ff.forward(self.ff_norm.forward(x.clone()), dropout);
        x + dropout.forward(ff)
    }
}

/// One decoder layer: causal self-attention, cross-attention, feed-forward.
#[derive(Module, Debug)]
pub struct DecoderLayer<B: Backend> {
    /// Norm before self-attention.
    pub self_norm: RmsNorm<B>,
    /// Causal self-attention.
    pub self_attention: SelfAttention<B>,
    /// Norm before cross-attention.
    pub cross_norm: RmsNorm<B>,
    /// Cross-attention to the encoder memory.
    pub cross_attention: CrossAttention<B>,
    /// Norm before the feed-forward block.
    pub ff_norm: RmsNorm<B>,
    /// Feed-forward block.
    pub ff: FeedForward<B>,
}

impl<B: Backend> DecoderLayer<B> {
    /// A freshly initialised layer.
    pub fn new(s: &LayerSizes, device: &B::Device) -> Self {
        Self {
            self_norm: s.norm(device),
            self_attention: SelfAttention::with_weights(s.d_model, s.heads, s.d_kv, s.weights, device),
            cross_norm: s.norm(device),
            cross_attention: CrossAttention::with_weights(s.d_model, s.heads, s.d_kv, s.weights, device),
            ff_norm: s.norm(device),
            ff: FeedForward::new(s, device),
        }
    }

    /// Runs the layer on `len` new positions after `past` cached ones.
    ///
    /// # Shapes
    ///
    /// - x, output: `[queries * groups, len, d_model]`
    /// - past: `[queries * groups, heads, past_len, d_kv]`
    /// - bias: `[1, heads, len, past_len + len]` (position bias + causal mask)
    /// - memory: `[queries, heads, src_len, d_kv]`; memory_mask `[queries, heads, groups * len, src_len]`
    pub fn forward(
        &self,
        x: Tensor<B, 3>,
        past: Option<&KeyValue<B>>,
        bias: Tensor<B, 4>,
        memory: &KeyValue<B>,
        memory_mask: Option<Tensor<B, 4>>,
        dropout: &Dropout,
    ) -> (Tensor<B, 3>, KeyValue<B>) {
        let (attended, cache) =
            self.self_attention
                .forward(self.self_norm.forward(x.clone()), past, bias, dropout);
        let x = x + dropout.forward(attended);
        let crossed = self.cross_attention.forward(
            self.cross_norm.forward(x.clone()),
            memory,
            memory_mask,
            dropout,
        );
        let x = x + dropout.forward(crossed);
        let ff = self.ff.forward(self.ff_norm.forward(x.clone()), dropout);
        (x + dropout.forward(ff), cache)
    }
}
