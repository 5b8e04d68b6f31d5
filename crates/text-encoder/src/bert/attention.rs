//! `SelfAttention`: BERT's multi-head self-attention block, post-LN
//! (`LayerNorm(x + Dense(Attention(x)))`).

use burn::config::Config;
use burn::module::Module;
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::backend::Backend;
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Bool, Tensor};

/// Sizes of a self-attention block.
#[derive(Config, Debug)]
pub struct SelfAttentionConfig {
    /// Width of the hidden states.
    pub d_model: usize,
    /// Number of heads; must divide `d_model`.
    pub n_heads: usize,
    /// LayerNorm epsilon.
    #[config(default = 1e-12)]
    pub layer_norm_eps: f64,
}

/// Multi-head self-attention with its output projection, residual and LayerNorm.
#[derive(Module, Debug)]
pub struct SelfAttention<B: Backend> {
    /// Query projection.
    pub query: Linear<B>,
    /// Key projection.
    pub key: Linear<B>,
    /// Value projection.
    pub value: Linear<B>,
    /// Output projection.
    pub output: Linear<B>,
    /// LayerNorm after the residual connection.
    pub layer_norm: LayerNorm<B>,
    /// Number of heads.
    pub n_heads: usize,
}

impl SelfAttentionConfig {
    /// Builds a randomly initialised block.
    pub fn init<B: Backend>(&self, device: &B::Device) -> SelfAttention<B> {
        let linear = || LinearConfig::new(self.d_model, self.d_model).init(device);
        SelfAttention {
            query: linear(),
            key: linear(),
            value: linear(),
            output: linear(),
            layer_norm: LayerNormConfig::new(self.d_model)
                .with_epsilon(self.layer_norm_eps)
                .init(device),
            n_heads: self.n_heads,
        }
    }
}

impl<B: Backend> SelfAttention<B> {
    /// Attends every position to every non-padding position of its row.
    ///
    /// The hidden states come flattened to `[batch * seq, d_model]` so that every
    /// projection is one large matrix product with a row-broadcast bias, which CPU
    /// backends run far faster than a batched product with a 3-d broadcast.
    ///
    /// `pad_mask` is `true` at key positions to ignore. Masked keys get exactly zero
    /// weight (the scores are set to -inf before the softmax), so a row's result does
    /// not depend on how much padding its batch adds.
    ///
    /// # Shapes
    ///
    /// - `x`: `[batch * seq, d_model]`
    /// - `pad_mask`: `[1, batch, seq, seq]`
    /// - output: `[batch * seq, d_model]`
    pub fn forward(
        &self,
        x: Tensor<B, 2>,
        batch: usize,
        seq: usize,
        pad_mask: Option<Tensor<B, 4, Bool>>,
    ) -> Tensor<B, 2> {
        let q = self.split_heads(self.query.forward(x.clone()), batch, seq);
        let k = self.split_heads(self.key.forward(x.clone()), batch, seq);
        let v = self.split_heads(self.value.forward(x.clone()), batch, seq);
        // Heads lead and batch rows follow ([heads, batch, seq, d_head]): attention is
        // independent per (head, row) pair, so the order of the two leading axes is
        // free, and this one is reached with contiguous slice copies, whereas the usual
        // [batch, seq, heads, d_head] -> [batch, heads, seq, d_head] transpose took a
        // third of the CPU time on Flex (see experiments/results/text-encoder). The mask
        // is broadcast over heads accordingly. Scale defaults to 1/sqrt(d_head), as in BERT.
        let context = attention(q, k, v, pad_mask, None, AttentionModuleOptions::default());
        let context = self.merge_heads(context, batch, seq); // [batch * seq, d_model]
        self.layer_norm.forward(self.output.forward(context) + x)
    }

    /// `[batch * seq, d_model]` to `[heads, batch, seq, d_head]`.
    fn split_heads(&self, x: Tensor<B, 2>, batch: usize, seq: usize) -> Tensor<B, 4> {
        let [rows, d_model] = x.dims();
        let d_head = d_model / self.n_heads;
        let heads = (0..self.n_heads)
            .map(|h| {
                x.clone()
                    .slice([0..rows, h * d_head..(h + 1) * d_head]) // [batch * seq, d_head]
                    .reshape([1, batch, seq, d_head])
            })
            .collect();
        Tensor::cat(heads, 0)
    }

    /// `[heads, batch, seq, d_head]` to `[batch * seq, d_model]`.
    fn merge_heads(&self, x: Tensor<B, 4>, batch: usize, seq: usize) -> Tensor<B, 2> {
        let [_, _, _, d_head] = x.dims();
        let heads = (0..self.n_heads)
            .map(|h| x.clone().slice(h..h + 1).reshape([batch * seq, d_head]))
            .collect();
        Tensor::cat(heads, 1)
    }
}
