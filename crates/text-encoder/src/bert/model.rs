//! `BertModel`: embeddings and a stack of transformer layers, returning the last
//! hidden states (no pooler: sentence encoders pool the hidden states themselves).

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Int, Tensor};

use super::embeddings::BertEmbeddings;
use super::layer::BertLayer;

/// A BERT encoder.
#[derive(Module, Debug)]
pub struct BertModel<B: Backend> {
    /// The input layer.
    pub embeddings: BertEmbeddings<B>,
    /// The transformer layers, bottom first.
    pub layers: Vec<BertLayer<B>>,
}

impl<B: Backend> BertModel<B> {
    /// Encodes a batch of right-padded word-piece sequences.
    ///
    /// `padding` is `true` at padding positions; they are ignored as attention keys,
    /// so the hidden states of real tokens are the same whatever padding a batch has.
    /// The hidden states at padding positions are meaningless. Pass `None` when no row
    /// is padded, which lets backends skip the mask.
    ///
    /// # Shapes
    ///
    /// - `input_ids`: `[batch, seq]`, `seq <= max_position_embeddings`
    /// - `padding`: `[batch, seq]`
    /// - output: `[batch, seq, d_model]`
    pub fn forward(
        &self,
        input_ids: Tensor<B, 2, Int>,
        padding: Option<Tensor<B, 2, Bool>>,
    ) -> Tensor<B, 3> {
        let [batch, seq] = input_ids.dims();
        // The layers attend over [heads, batch, seq, d_head]: the mask is broadcast
        // over the leading (head) axis.
        let pad_mask = padding.map(|padding| {
            padding
                .reshape([1, batch, 1, seq])
                .expand([1, batch, seq, seq]) // [1, batch, seq_q, seq_k]
        });
        let mut x = self.embeddings.forward(input_ids); // [batch * seq, d_model]
        for layer in &self.layers {
            x = layer.forward(x, batch, seq, pad_mask.clone());
        }
        let [_, d_model] = x.dims();
        x.reshape([batch, seq, d_model])
    }
}
