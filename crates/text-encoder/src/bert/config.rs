//! `BertConfig`: the architecture, read from a Hugging Face `config.json`.

use burn::config::Config;
use burn::tensor::backend::Backend;

use super::attention::SelfAttentionConfig;
use super::embeddings::BertEmbeddingsConfig;
use super::layer::BertLayerConfig;
use super::model::BertModel;

/// The BERT architecture, with the field names of Hugging Face's `config.json`
/// (unknown fields there, such as dropout rates, are ignored: this crate only infers).
#[derive(Config, Debug)]
pub struct BertConfig {
    /// Number of word pieces in the vocabulary.
    pub vocab_size: usize,
    /// Width of the hidden states (`d_model`).
    pub hidden_size: usize,
    /// Number of transformer layers.
    pub num_hidden_layers: usize,
    /// Number of attention heads; must divide `hidden_size`.
    pub num_attention_heads: usize,
    /// Width of the feed-forward inner layer.
    pub intermediate_size: usize,
    /// Number of learned absolute positions: the longest input the model accepts.
    #[config(default = 512)]
    pub max_position_embeddings: usize,
    /// Number of token types (segments).
    #[config(default = 2)]
    pub type_vocab_size: usize,
    /// LayerNorm epsilon.
    #[config(default = 1e-12)]
    pub layer_norm_eps: f64,
    /// Feed-forward activation; only `"gelu"` (the exact, erf-based GELU) is supported.
    #[config(default = "String::from(\"gelu\")")]
    pub hidden_act: String,
    /// Position embedding kind; only `"absolute"` is supported.
    #[config(default = "String::from(\"absolute\")")]
    pub position_embedding_type: String,
    /// Id of the padding token.
    #[config(default = 0)]
    pub pad_token_id: usize,
}

impl BertConfig {
    /// Checks that this crate can run the configuration; the error says what it cannot.
    pub fn check(&self) -> Result<(), String> {
        if self.hidden_act != "gelu" {
            return Err(format!(
                "hidden_act {:?} (only \"gelu\" is implemented)",
                self.hidden_act
            ));
        }
        if self.position_embedding_type != "absolute" {
            return Err(format!(
                "position_embedding_type {:?} (only \"absolute\" is implemented)",
                self.position_embedding_type
            ));
        }
        if self.num_attention_heads == 0
            || !self.hidden_size.is_multiple_of(self.num_attention_heads)
        {
            return Err(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            ));
        }
        let sizes = [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("intermediate_size", self.intermediate_size),
            ("max_position_embeddings", self.max_position_embeddings),
            ("type_vocab_size", self.type_vocab_size),
        ];
        if let Some((name, _)) = sizes.iter().find(|(_, v)| *v == 0) {
            return Err(format!("{name} is 0"));
        }
        // Sizes are checked before the model is allocated: a config.json of absurd
        // sizes would otherwise end in an out-of-memory abort. BERT-large is 1024 wide
        // with 24 layers and a vocabulary of 30,522; multilingual ones reach 250,002.
        const MAX_WIDTH: usize = 1 << 16;
        for (name, v, max) in [
            ("vocab_size", self.vocab_size, 1 << 22),
            ("hidden_size", self.hidden_size, MAX_WIDTH),
            ("intermediate_size", self.intermediate_size, MAX_WIDTH),
            ("max_position_embeddings", self.max_position_embeddings, MAX_WIDTH),
            ("type_vocab_size", self.type_vocab_size, MAX_WIDTH),
            ("num_attention_heads", self.num_attention_heads, MAX_WIDTH),
            ("num_hidden_layers", self.num_hidden_layers, 256),
        ] {
            if v > max {
                return Err(format!("{name} {v} is beyond the largest this program builds ({max})"));
            }
        }
        // Each factor is at most 2^22, so these products fit in u64.
        let [v, h, i, p, t, l] = [
            self.vocab_size,
            self.hidden_size,
            self.intermediate_size,
            self.max_position_embeddings,
            self.type_vocab_size,
            self.num_hidden_layers,
        ]
        .map(|x| x as u64);
        // Embeddings, then per layer attention (4 h x h) and feed-forward (2 h x i).
        let params = (v + p + t) * h + l * (4 * h * h + 2 * h * i);
        const MAX_PARAMS: u64 = 2_000_000_000;
        if params > MAX_PARAMS {
            return Err(format!(
                "these sizes make a model of about {params} parameters, more than the {MAX_PARAMS} this program builds"
            ));
        }
        Ok(())
    }

    /// Builds a randomly initialised model (weights are then usually loaded with
    /// [`load_checkpoint`](super::load_checkpoint)).
    pub fn init<B: Backend>(&self, device: &B::Device) -> BertModel<B> {
        let embeddings = BertEmbeddingsConfig {
            vocab_size: self.vocab_size,
            max_positions: self.max_position_embeddings,
            type_vocab_size: self.type_vocab_size,
            d_model: self.hidden_size,
            layer_norm_eps: self.layer_norm_eps,
        }
        .init(device);
        let layer = BertLayerConfig {
            attention: SelfAttentionConfig {
                d_model: self.hidden_size,
                n_heads: self.num_attention_heads,
                layer_norm_eps: self.layer_norm_eps,
            },
            d_ff: self.intermediate_size,
        };
        let layers = (0..self.num_hidden_layers)
            .map(|_| layer.init(device))
            .collect();
        BertModel { embeddings, layers }
    }
}
