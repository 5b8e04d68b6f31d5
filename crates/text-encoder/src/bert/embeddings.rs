//! `BertEmbeddings`: word + position + token-type embeddings, then LayerNorm.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

/// Sizes of the embedding layer.
#[derive(Config, Debug)]
pub struct BertEmbeddingsConfig {
    /// Number of word pieces.
    pub vocab_size: usize,
    /// Number of learned absolute positions.
    pub max_positions: usize,
    /// Number of token types (segments).
    pub type_vocab_size: usize,
    /// Width of the embeddings.
    pub d_model: usize,
    /// LayerNorm epsilon.
    #[config(default = 1e-12)]
    pub layer_norm_eps: f64,
}

/// The input layer of BERT.
#[derive(Module, Debug)]
pub struct BertEmbeddings<B: Backend> {
    /// Word-piece embeddings `[vocab_size, d_model]`.
    pub word_embeddings: Embedding<B>,
    /// Absolute position embeddings `[max_positions, d_model]`.
    pub position_embeddings: Embedding<B>,
    /// Token-type (segment) embeddings `[type_vocab_size, d_model]`.
    pub token_type_embeddings: Embedding<B>,
    /// LayerNorm over the summed embeddings.
    pub layer_norm: LayerNorm<B>,
}

impl BertEmbeddingsConfig {
    /// Builds a randomly initialised embedding layer.
    pub fn init<B: Backend>(&self, device: &B::Device) -> BertEmbeddings<B> {
        let table = |n| EmbeddingConfig::new(n, self.d_model).init(device);
        BertEmbeddings {
            word_embeddings: table(self.vocab_size),
            position_embeddings: table(self.max_positions),
            token_type_embeddings: table(self.type_vocab_size),
            layer_norm: LayerNormConfig::new(self.d_model)
                .with_epsilon(self.layer_norm_eps)
                .init(device),
        }
    }
}

impl<B: Backend> BertEmbeddings<B> {
    /// Embeds word-piece ids at positions `0..seq`, all of token type 0 (one segment,
    /// as sentence encoders use BERT), flattened to one row per token.
    ///
    /// `seq` must not exceed `max_positions`; [`SentenceEncoder`](crate::SentenceEncoder)
    /// truncates its inputs so that it never does.
    ///
    /// # Shapes
    ///
    /// - `input_ids`: `[batch, seq]`
    /// - output: `[batch * seq, d_model]`
    pub fn forward(&self, input_ids: Tensor<B, 2, Int>) -> Tensor<B, 2> {
        let [batch, seq] = input_ids.dims();
        let device = input_ids.device();
        let words = self.word_embeddings.forward(input_ids); // [batch, seq, d_model]
        let [_, _, d_model] = words.dims();
        // Position ids are gathered like word ids rather than broadcast over the batch:
        // same-shape additions stay on backends' fast paths.
        let positions = Tensor::<B, 1, Int>::arange(0..seq as i64, &device)
            .reshape([1, seq])
            .repeat_dim(0, batch); // [batch, seq]
        let positions = self.position_embeddings.forward(positions);
        let token_type = self.token_type_embeddings.weight.val().slice(0..1); // [1, d_model]
        let x = (words + positions).reshape([batch * seq, d_model]) + token_type;
        self.layer_norm.forward(x)
    }
}
