//! `BertLayer`: self-attention, then a GELU feed-forward block, each post-LN.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::activation::gelu;
use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Tensor};

use super::attention::{SelfAttention, SelfAttentionConfig};

/// Sizes of one transformer layer.
#[derive(Config, Debug)]
pub struct BertLayerConfig {
    /// The attention block.
    pub attention: SelfAttentionConfig,
    /// Width of the feed-forward inner layer.
    pub d_ff: usize,
}

/// One BERT transformer layer.
#[derive(Module, Debug)]
pub struct BertLayer<B: Backend> {
    /// Self-attention with its residual and LayerNorm.
    pub attention: SelfAttention<B>,
    /// Feed-forward up-projection `d_model -> d_ff`.
    pub intermediate: Linear<B>,
    /// Feed-forward down-projection `d_ff -> d_model`.
    pub output: Linear<B>,
    /// LayerNorm after the feed-forward residual.
    pub layer_norm: LayerNorm<B>,
}

impl BertLayerConfig {
    /// Builds a randomly initialised layer.
    pub fn init<B: Backend>(&self, device: &B::Device) -> BertLayer<B> {
        let d_model = self.attention.d_model;
        BertLayer {
            attention: self.attention.init(device),
            intermediate: LinearConfig::new(d_model, self.d_ff).init(device),
            output: LinearConfig::new(self.d_ff, d_model).init(device),
            layer_norm: LayerNormConfig::new(d_model)
                .with_epsilon(self.attention.layer_norm_eps)
                .init(device),
        }
    }
}

impl<B: Backend> BertLayer<B> {
    /// Runs the layer on flattened hidden states (see [`SelfAttention::forward`]).
    ///
    /// # Shapes
    ///
    /// - `x`: `[batch * seq, d_model]`
    /// - `pad_mask`: `[1, batch, seq, seq]`, `true` at keys to ignore
    /// - output: `[batch * seq, d_model]`
    pub fn forward(
        &self,
        x: Tensor<B, 2>,
        batch: usize,
        seq: usize,
        pad_mask: Option<Tensor<B, 4, Bool>>,
    ) -> Tensor<B, 2> {
        let x = self.attention.forward(x, batch, seq, pad_mask);
        // BERT's "gelu" is the exact, erf-based GELU.
        let h = gelu(self.intermediate.forward(x.clone())); // [batch * seq, d_ff]
        self.layer_norm.forward(self.output.forward(h) + x)
    }
}
