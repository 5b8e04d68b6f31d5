//! [`TigerConfig`]: the sizes of the T5 encoder-decoder and its named presets.

use burn::config::Config;
use burn::module::Initializer;
use burn::module::Module;
use burn::nn::EmbeddingConfig;
use burn::tensor::backend::Backend;

use crate::layers::{DecoderLayer, EncoderLayer, LayerSizes};
use crate::ops::{Dropout, DropoutRng, RmsNorm};
use crate::position::RelativeBiasConfig;
use crate::{Tiger, TigerError};

/// Sizes of a TIGER model (a T5 encoder-decoder over semantic-ID tokens).
///
/// The T5 details follow Hugging Face's `T5ForConditionalGeneration` as used by the
/// reference code: relative position bias with `num_buckets` buckets up to
/// `max_distance`, computed by the first layer of each stack and shared by the
/// others; RMSNorm without mean subtraction; ReLU feed-forward; no `1/sqrt(d_kv)`
/// attention scaling; input and output embeddings tied, with the decoder output
/// scaled by `d_model^-0.5` before the output projection.
#[derive(Config, Debug, PartialEq)]
pub struct TigerConfig {
    /// Number of tokens: `PAD` + all digit codes + `BOS` + `EOS` (`semid::TokenLayout::vocab_size`).
    pub vocab_size: usize,
    /// Width of the residual stream.
    #[config(default = 128)]
    pub d_model: usize,
    /// Hidden width of the ReLU feed-forward block.
    #[config(default = 1024)]
    pub d_ff: usize,
    /// Width of one attention head.
    #[config(default = 64)]
    pub d_kv: usize,
    /// Number of attention heads.
    #[config(default = 4)]
    pub num_heads: usize,
    /// Number of encoder layers.
    #[config(default = 4)]
    pub num_encoder_layers: usize,
    /// Number of decoder layers.
    #[config(default = 4)]
    pub num_decoder_layers: usize,
    /// Dropout probability (embeddings, attention weights, sub-layer outputs, feed-forward).
    #[config(default = 0.1)]
    pub dropout: f64,
    /// Number of relative-position buckets.
    #[config(default = 32)]
    pub num_buckets: usize,
    /// Largest relative distance with its own logarithmic bucket.
    #[config(default = 128)]
    pub max_distance: usize,
    /// RMSNorm epsilon.
    #[config(default = 1e-6)]
    pub layer_norm_eps: f64,
    /// Number of most recent history items the encoder sees.
    #[config(default = 20)]
    pub max_history: usize,
}

/// The most parameters [`TigerConfig::validate`] accepts: 10^9, 200 times the paper's
/// Beauty model (4 GB of weights, 16 GB with Adam's moments while training).
pub const MAX_PARAMS: u64 = 1_000_000_000;
/// The most layers per stack (T5-XXL has 24).
const MAX_LAYERS: usize = 256;
/// The largest width, head count, bucket count, distance or history length.
const MAX_WIDTH: usize = 1 << 16;
/// The largest vocabulary (semantic-ID tokens; the paper's have 1,026).
const MAX_VOCAB: usize = 1 << 24;

/// Named model sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TigerPreset {
    /// A few thousand parameters, for tests.
    Tiny,
    /// CPU experiments on Beauty: d_model 64, d_ff 256, 2+2 layers, 4 heads of 32
    /// (0.39M parameters). Measured 134–157 training samples/s at batch 256 on 2 shared
    /// cores (`experiments/results/gr-model/benchmarks.md`): about 15 minutes per epoch
    /// of Beauty's training examples (estimated ~140k: 80% of 198,502 interactions less
    /// users' first ones), so an hour buys ~4 epochs.
    Small,
    /// The paper's Games size: d_model 128, d_ff 1024, 4+4 layers, 4 heads (reference V2).
    Games,
    /// The TIGER paper's Beauty model: d_model 128, d_ff 1024, 4+4 layers, 6 heads of
    /// 64, ReLU, 32 buckets up to distance 128: the shape every published Beauty
    /// reproduction trains (about 4.6 M parameters over 1,026 tokens; the TIGER paper
    /// quotes ≈ 13 M for its model without a breakdown).
    Paper,
    /// The paper's Office size: d_model 128, d_ff 1024, 6+6 layers, 6 heads.
    Office,
    /// The paper's Phones size: d_model 128, d_ff 2048, 8+8 layers, 6 heads.
    Phones,
}

impl TigerPreset {
    /// All presets, in size order.
    pub const ALL: [TigerPreset; 6] = [
        TigerPreset::Tiny,
        TigerPreset::Small,
        TigerPreset::Games,
        TigerPreset::Paper,
        TigerPreset::Office,
        TigerPreset::Phones,
    ];

    /// The lower-case name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            TigerPreset::Tiny => "tiny",
            TigerPreset::Small => "small",
            TigerPreset::Games => "games",
            TigerPreset::Paper => "paper",
            TigerPreset::Office => "office",
            TigerPreset::Phones => "phones",
        }
    }
}

impl std::str::FromStr for TigerPreset {
    type Err = TigerError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| TigerError::UnknownPreset(s.to_string()))
    }
}

impl TigerConfig {
    /// The configuration of a named preset for a vocabulary of `vocab_size` tokens.
    ///
    /// Paper sizes are from the reference code's configs (see
    /// `../shared/reference/specgr-reference.md`; Games uses V2's d_model 128).
    pub fn preset(preset: TigerPreset, vocab_size: usize) -> Self {
        let base = TigerConfig::new(vocab_size);
        match preset {
            TigerPreset::Tiny => base
                .with_d_model(32)
                .with_d_ff(64)
                .with_d_kv(16)
                .with_num_heads(2)
                .with_num_encoder_layers(1)
                .with_num_decoder_layers(2)
                .with_dropout(0.0),
            TigerPreset::Small => base
                .with_d_model(64)
                .with_d_ff(256)
                .with_d_kv(32)
                .with_num_heads(4)
                .with_num_encoder_layers(2)
                .with_num_decoder_layers(2),
            TigerPreset::Games => base,
            TigerPreset::Paper => base.with_num_heads(6),
            TigerPreset::Office => base
                .with_num_heads(6)
                .with_num_encoder_layers(6)
                .with_num_decoder_layers(6),
            TigerPreset::Phones => base
                .with_d_ff(2048)
                .with_num_heads(6)
                .with_num_encoder_layers(8)
                .with_num_decoder_layers(8),
        }
    }

    /// Width of all heads together, `num_heads * d_kv`.
    pub fn inner_dim(&self) -> usize {
        self.num_heads * self.d_kv
    }

    /// Checks that the sizes make a model.
    pub fn validate(&self) -> Result<(), TigerError> {
        let bad = |field: &str, why: &str| {
            Err(TigerError::InvalidConfig(format!("field `{field}`: {why}")))
        };
        if self.vocab_size < 4 {
            return bad("vocab_size", "needs PAD, BOS, EOS and at least one code");
        }
        for (name, v) in [
            ("d_model", self.d_model),
            ("d_ff", self.d_ff),
            ("d_kv", self.d_kv),
            ("num_heads", self.num_heads),
            ("num_encoder_layers", self.num_encoder_layers),
            ("num_decoder_layers", self.num_decoder_layers),
            ("max_history", self.max_history),
        ] {
            if v == 0 {
                return bad(name, "must be positive");
            }
        }
        if self.num_buckets < 4 || self.max_distance < self.num_buckets / 2 {
            return bad(
                "num_buckets",
                "need >= 4 buckets and max_distance >= num_buckets / 2",
            );
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return bad("dropout", "must be in [0, 1)");
        }
        if self.layer_norm_eps <= 0.0 {
            return bad("layer_norm_eps", "must be positive");
        }
        // Sizes are checked before anything is allocated: a `config.json` of absurd
        // sizes would otherwise end in an out-of-memory abort, not an error.
        for (name, v, max) in [
            ("num_encoder_layers", self.num_encoder_layers, MAX_LAYERS),
            ("num_decoder_layers", self.num_decoder_layers, MAX_LAYERS),
            ("num_heads", self.num_heads, MAX_WIDTH),
            ("num_buckets", self.num_buckets, MAX_WIDTH),
            ("max_distance", self.max_distance, MAX_WIDTH),
            ("max_history", self.max_history, MAX_WIDTH),
            ("vocab_size", self.vocab_size, MAX_VOCAB),
            ("d_model", self.d_model, MAX_WIDTH),
            ("d_ff", self.d_ff, MAX_WIDTH),
            ("d_kv", self.d_kv, MAX_WIDTH),
        ] {
            if v > max {
                return bad(name, &format!("{v} is beyond the largest this program builds ({max})"));
            }
        }
        match self.num_params() {
            Some(n) if n <= MAX_PARAMS => Ok(()),
            n => Err(TigerError::InvalidConfig(format!(
                "these sizes make a model of {} parameters, more than the {MAX_PARAMS} this program builds",
                n.map_or("over 2^64".to_owned(), |n| n.to_string())
            ))),
        }
    }

    /// The number of parameters of the model these sizes describe, without building
    /// it (`None` when the count overflows `u64`).
    pub fn num_params(&self) -> Option<u64> {
        let v = |x: usize| u64::try_from(x).ok();
        let (d, ff, inner) = (v(self.d_model)?, v(self.d_ff)?, v(self.num_heads)?.checked_mul(v(self.d_kv)?)?);
        // q, k, v and out projections, without biases.
        let attention = d.checked_mul(inner)?.checked_mul(4)?;
        let feed_forward = d.checked_mul(ff)?.checked_mul(2)?;
        // An encoder layer: two RMSNorms, self-attention, feed-forward; a decoder
        // layer adds cross-attention and its norm.
        let encoder_layer = attention.checked_add(feed_forward)?.checked_add(d.checked_mul(2)?)?;
        let decoder_layer = encoder_layer.checked_add(attention)?.checked_add(d)?;
        let embedding = v(self.vocab_size)?.checked_mul(d)?;
        let biases = v(self.num_buckets)?.checked_mul(v(self.num_heads)?)?.checked_mul(2)?;
        v(self.num_encoder_layers)?
            .checked_mul(encoder_layer)?
            .checked_add(v(self.num_decoder_layers)?.checked_mul(decoder_layer)?)?
            .checked_add(embedding)?
            .checked_add(biases)?
            // The two final norms.
            .checked_add(d.checked_mul(2)?)
    }

    /// Builds a freshly initialised model (Hugging Face T5's initialisation).
    pub fn init<B: Backend>(&self, device: &B::Device) -> Result<Tiger<B>, TigerError> {
        self.build(LayerSizes::from(self), device)
    }

    /// A model of this shape whose every parameter is about to be replaced by loaded
    /// values: it draws nothing from the backend's process-wide generator (the eager
    /// weights are zeros, the lazy ones are never drawn), so loading a checkpoint
    /// cannot shift the draws of a seeded training running beside it.
    pub(crate) fn placeholder<B: Backend>(&self, device: &B::Device) -> Result<Tiger<B>, TigerError> {
        self.build(LayerSizes::from(self).placeholders(), device)
    }

    fn build<B: Backend>(&self, sizes: LayerSizes, device: &B::Device) -> Result<Tiger<B>, TigerError> {
        self.validate()?;
        let bias = |bidirectional| {
            RelativeBiasConfig::new(self.num_heads, bidirectional)
                .with_num_buckets(self.num_buckets)
                .with_max_distance(self.max_distance)
                .with_std((self.d_model as f64).powf(-0.5))
                .init(device)
        };
        let norm = || RmsNorm::new(self.d_model, self.layer_norm_eps, device);
        let shared = EmbeddingConfig::new(self.vocab_size, self.d_model)
            .with_initializer(Initializer::Normal {
                mean: 0.0,
                std: 1.0,
            })
            .init(device);
        let encoder_layers = (0..self.num_encoder_layers)
            .map(|_| EncoderLayer::new(&sizes, device))
            .collect();
        let decoder_layers = (0..self.num_decoder_layers)
            .map(|_| DecoderLayer::new(&sizes, device))
            .collect();
        let tiger = Tiger {
            shared,
            encoder_bias: bias(true),
            decoder_bias: bias(false),
            encoder_layers,
            decoder_layers,
            encoder_norm: norm(),
            decoder_norm: norm(),
            dropout: Dropout::new(self.dropout, DropoutRng::default()),
            config: self.clone(),
        };
        tracing::debug!(params = tiger.num_params(), "initialised TIGER");
        Ok(tiger)
    }
}
