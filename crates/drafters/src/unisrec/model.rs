//! The UniSRec sequence model: adapted item embeddings, positions, a post-LN
//! transformer, and the representation at the last position.

use burn::nn::{Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig};
use burn::prelude::*;

use super::dropout::{DropoutRng, HostDropout};
use super::encoder::{EncoderLayer, causal_bias, init_layer, last_position_bias};
use super::moe::{MoeAdaptor, MoeAdaptorConfig};

/// UniSRec hyperparameters (defaults from the reference configuration).
#[derive(Config, Debug, PartialEq)]
pub struct UniSRecConfig {
    /// Dimension of the frozen text embeddings (384 for MiniLM, 768 for sentence-T5).
    pub d_text: usize,
    /// Hidden size of the adaptor output and the transformer.
    #[config(default = 300)]
    pub d_model: usize,
    /// Inner size of the feed-forward layers.
    #[config(default = 256)]
    pub d_inner: usize,
    /// Transformer layers.
    #[config(default = 2)]
    pub n_layers: usize,
    /// Attention heads.
    #[config(default = 2)]
    pub n_heads: usize,
    /// Mixture-of-experts adaptor experts.
    #[config(default = 8)]
    pub n_experts: usize,
    /// Dropout inside the adaptor (on the text embeddings).
    #[config(default = 0.2)]
    pub adaptor_dropout: f64,
    /// Dropout after the input LayerNorm and inside the transformer.
    #[config(default = 0.5)]
    pub hidden_dropout: f64,
    /// Longest history (number of positional embeddings).
    #[config(default = 20)]
    pub max_history: usize,
    /// LayerNorm epsilon.
    #[config(default = 1e-12)]
    pub layer_norm_eps: f64,
    /// Softmax temperature of the cosine logits.
    #[config(default = 0.07)]
    pub temperature: f64,
}

/// The UniSRec model.
#[derive(Module, Debug)]
pub struct UniSRecModel<B: Backend> {
    /// Text embedding to item representation.
    pub adaptor: MoeAdaptor<B>,
    /// Learned positional embeddings, `[max_history, d_model]`.
    pub position: Embedding<B>,
    /// LayerNorm on the input sum.
    pub norm: LayerNorm<B>,
    /// Dropout on the normalised input.
    pub dropout: HostDropout,
    /// The post-LN transformer layers.
    pub layers: Vec<EncoderLayer<B>>,
    /// Longest history.
    pub max_history: usize,
    /// The generator behind every dropout mask of the model.
    #[module(skip)]
    pub rng: DropoutRng,
}

/// The most parameters [`UniSRecConfig::validate`] accepts (the reference model has
/// about 0.3 M besides its adaptor; 10^9 is 4 GB of weights).
const MAX_PARAMS: u64 = 1_000_000_000;
/// The largest width, history length or expert count.
const MAX_WIDTH: usize = 1 << 16;
/// The most transformer layers.
const MAX_LAYERS: usize = 256;

impl UniSRecConfig {
    /// Checks that the sizes make a model this program builds, before anything is
    /// allocated: a `unisrec-config.json` of absurd sizes would otherwise end in an
    /// out-of-memory abort, and zero heads or widths in a panic inside Burn.
    pub fn validate(&self) -> Result<(), String> {
        for (name, v, max) in [
            ("d_text", self.d_text, MAX_WIDTH),
            ("d_model", self.d_model, MAX_WIDTH),
            ("d_inner", self.d_inner, MAX_WIDTH),
            ("n_layers", self.n_layers, MAX_LAYERS),
            ("n_heads", self.n_heads, MAX_WIDTH),
            ("n_experts", self.n_experts, MAX_WIDTH),
            ("max_history", self.max_history, MAX_WIDTH),
        ] {
            if v == 0 {
                return Err(format!("field `{name}`: must be positive"));
            }
            if v > max {
                return Err(format!("field `{name}`: {v} is beyond the largest this program builds ({max})"));
            }
        }
        if !self.d_model.is_multiple_of(self.n_heads) {
            return Err(format!("field `d_model`: {} is not a multiple of n_heads {}", self.d_model, self.n_heads));
        }
        for (name, p) in [("adaptor_dropout", self.adaptor_dropout), ("hidden_dropout", self.hidden_dropout)] {
            if !(0.0..1.0).contains(&p) {
                return Err(format!("field `{name}`: {p} is not in [0, 1)"));
            }
        }
        for (name, v) in [("layer_norm_eps", self.layer_norm_eps), ("temperature", self.temperature)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("field `{name}`: {v} is not a positive number"));
            }
        }
        // Each factor is at most 2^16 (layers 2^8), so these products fit in u64.
        let [t, d, i, e, l, h] = [self.d_text, self.d_model, self.d_inner, self.n_experts, self.n_layers, self.max_history]
            .map(|v| v as u64);
        // Experts' projections and gates, positions, and per layer attention (4 d x d)
        // and feed-forward (2 d x inner), biases and norms aside.
        let params = e * t * d + e * t + h * d + l * (4 * d * d + 2 * d * i);
        if params > MAX_PARAMS {
            return Err(format!(
                "these sizes make a model of about {params} parameters, more than the {MAX_PARAMS} this program builds"
            ));
        }
        Ok(())
    }

    /// Builds a freshly initialised model.
    pub fn init<B: Backend>(&self, device: &B::Device) -> UniSRecModel<B> {
        let rng = super::dropout::unisrec_rng();
        UniSRecModel {
            adaptor: MoeAdaptorConfig::new(self.d_text)
                .with_d_output(self.d_model)
                .with_n_experts(self.n_experts)
                .with_dropout(self.adaptor_dropout)
                .init(device, &rng),
            position: EmbeddingConfig::new(self.max_history, self.d_model)
                .with_initializer(burn::nn::Initializer::Normal { mean: 0.0, std: super::encoder::INIT_STD })
                .init(device),
            norm: LayerNormConfig::new(self.d_model).with_epsilon(self.layer_norm_eps).init(device),
            dropout: HostDropout::new(self.hidden_dropout, rng.clone()),
            layers: (0..self.n_layers)
                .map(|_| init_layer(self.d_model, self.d_inner, self.n_heads, self.hidden_dropout, self.layer_norm_eps, &rng, device))
                .collect(),
            max_history: self.max_history,
            rng,
        }
    }
}

impl<B: Backend> UniSRecModel<B> {
    /// Item representations from text embeddings, L2-normalised.
    ///
    /// # Shapes
    /// - `text`: `[n, d_text]`
    /// - output: `[n, d_model]`
    pub fn items(&self, text: Tensor<B, 2>) -> Tensor<B, 2> {
        l2_normalize(self.adaptor.forward(text))
    }

    /// Sequence representations at each history's last position, L2-normalised.
    /// Histories are right-padded; padding never influences a real position
    /// because attention is causal.
    ///
    /// # Shapes
    /// - `text`: `[batch, seq, d_text]`, history item text embeddings, oldest
    ///   first, `seq` at most `max_history`
    /// - `lengths`: the number of real items per row, each in `1..=seq`
    /// - output: `[batch, d_model]`
    pub fn sequences(&self, text: Tensor<B, 3>, lengths: &[usize]) -> Tensor<B, 2> {
        let [batch, seq, d_text] = text.dims();
        let items = self.adaptor.forward(text.reshape([batch * seq, d_text]));
        let d_model = items.dims()[1];
        self.sequences_from_items(items.reshape([batch, seq, d_model]), lengths)
    }

    /// Like [`UniSRecModel::sequences`], from already adapted (unnormalised)
    /// item representations. Training uses it to adapt each distinct item of a
    /// batch once.
    ///
    /// # Shapes
    /// - `items`: `[batch, seq, d_model]`, `seq` at most `max_history`
    /// - output: `[batch, d_model]`
    pub fn sequences_from_items(&self, items: Tensor<B, 3>, lengths: &[usize]) -> Tensor<B, 2> {
        let [batch, seq, d_model] = items.dims();
        let device = items.device();
        // Positions added on a [batch, seq * d_model] view: a row broadcast.
        let positions = self.position.weight.val().slice([0..seq, 0..d_model]).reshape([1, seq * d_model]);
        let x = (items.reshape([batch, seq * d_model]) + positions).reshape([batch * seq, d_model]);
        let mut h = self.dropout.forward(self.norm.forward(x)); // [batch * seq, d_model]
        let picks: Vec<i64> = lengths.iter().enumerate().map(|(b, &len)| (b * seq + len.clamp(1, seq) - 1) as i64).collect();
        let picks = Tensor::<B, 1, Int>::from_data(TensorData::new(picks, [batch]), &device);
        let Some((last, rest)) = self.layers.split_last() else {
            return l2_normalize(h.select(0, picks));
        };
        if !rest.is_empty() {
            let causal = causal_bias::<B>(seq, &device);
            for layer in rest {
                h = layer.forward(h, batch, seq, causal.clone());
            }
        }
        let keys = last_position_bias::<B>(lengths, last.n_heads, seq, &device);
        l2_normalize(last.forward_last(h, batch, seq, picks, keys))
    }

    /// Restarts every dropout mask (and the adaptor's gate noise) from `seed`.
    pub fn reseed(&self, seed: u64) {
        self.rng.reseed(seed);
    }
}

/// Scales every row to unit L2 norm.
///
/// # Shapes
/// - `x`: `[n, d]`, output `[n, d]`
pub fn l2_normalize<B: Backend>(x: Tensor<B, 2>) -> Tensor<B, 2> {
    let norm = x.clone().square().sum_dim(1).sqrt().clamp_min(1e-12); // [n, 1]
    x / norm
}
