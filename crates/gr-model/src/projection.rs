//! The SpecGR++ projection head: masked mean pooling of encoder states, a linear map
//! to the embedding space, and L2 normalisation.
//!
//! Histories are pooled from the [`EncoderOutput`] the verifier already computed, so
//! drafting costs no second encoder pass; single items are encoded as
//! `[BOS d1 .. dn EOS]` by the same encoder.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use semid::SemanticIds;

use crate::input::{check_layout, pad_rows};
use crate::{EncoderOutput, Tiger, TigerError};

/// Added under the square root of the L2 norm so a zero vector stays finite.
const NORM_EPS: f64 = 1e-12;

/// Sizes of the projection head.
#[derive(Config, Debug, PartialEq)]
pub struct ProjectionConfig {
    /// Width of the encoder states (the TIGER model's `d_model`).
    pub d_model: usize,
    /// Width of the embeddings (reference V2: 128).
    #[config(default = 128)]
    pub proj_dim: usize,
}

/// `Linear(d_model -> proj_dim)` then L2 normalisation, over mean-pooled encoder states.
#[derive(Module, Debug)]
pub struct ProjectionHead<B: Backend> {
    /// The linear map, with bias.
    pub linear: Linear<B>,
}

impl ProjectionConfig {
    /// Checks that the sizes make a head.
    pub fn validate(&self) -> Result<(), TigerError> {
        if self.d_model == 0 || self.proj_dim == 0 {
            return Err(TigerError::InvalidConfig(format!(
                "projection head: fields `d_model` ({}) and `proj_dim` ({}) must be positive",
                self.d_model, self.proj_dim
            )));
        }
        Ok(())
    }

    /// A freshly initialised head (Burn's default initialisation for `Linear`).
    pub fn init<B: Backend>(&self, device: &B::Device) -> Result<ProjectionHead<B>, TigerError> {
        self.validate()?;
        Ok(ProjectionHead {
            linear: LinearConfig::new(self.d_model, self.proj_dim).init(device),
        })
    }
}

impl ProjectionConfig {
    /// The identity head (`proj_dim` must equal `d_model`; weight I, bias 0): embeddings
    /// are the mean-pooled encoder states themselves, L2-normalised. With a TIGER that
    /// SpecGR++ never trained, this drafts with TIGER's own encoder, Table 3's (2.1).
    pub fn init_identity<B: Backend>(&self, device: &B::Device) -> Result<ProjectionHead<B>, TigerError> {
        self.validate()?;
        if self.proj_dim != self.d_model {
            return Err(TigerError::InvalidConfig(format!(
                "identity projection head: `proj_dim` ({}) must equal `d_model` ({})",
                self.proj_dim, self.d_model
            )));
        }
        // Built whole rather than from `LinearConfig::init`: zeroing its lazily drawn
        // bias would draw it first, from the process-wide generator.
        let linear = Linear {
            weight: burn::module::Param::from_tensor(Tensor::eye(self.d_model, device)),
            bias: Some(burn::module::Param::from_tensor(Tensor::zeros([self.proj_dim], device))),
        };
        Ok(ProjectionHead { linear })
    }
}

impl<B: Backend> ProjectionHead<B> {
    /// Projects pooled states and normalises each row to unit L2 norm.
    ///
    /// # Shapes
    ///
    /// - pooled: `[rows, d_model]`
    /// - output: `[rows, proj_dim]`
    pub fn forward(&self, pooled: Tensor<B, 2>) -> Tensor<B, 2> {
        l2_normalize(self.linear.forward(pooled))
    }

    /// Embeds encoder states: masked mean pooling, projection, normalisation.
    ///
    /// # Shapes
    ///
    /// - hidden: `[rows, len, d_model]`, `lengths[r]` real positions then padding
    /// - output: `[rows, proj_dim]`
    pub fn embed_states(&self, hidden: Tensor<B, 3>, lengths: &[usize]) -> Tensor<B, 2> {
        self.forward(mean_pool(hidden, lengths))
    }

    /// Embeds the histories of an encoder pass already made (the verifier's).
    ///
    /// # Shapes
    ///
    /// - output: `[queries, proj_dim]`
    pub fn embed_encoded(&self, encoded: &EncoderOutput<B>) -> Tensor<B, 2> {
        self.embed_states(encoded.hidden.clone(), &encoded.lengths)
    }

    /// The output width.
    pub fn proj_dim(&self) -> usize {
        self.linear.weight.dims()[1]
    }
}

/// Masked mean over the sequence axis: the mean of each row's first `lengths[r]` states.
///
/// # Shapes
///
/// - hidden: `[rows, len, d]`
/// - output: `[rows, d]`
pub fn mean_pool<B: Backend>(hidden: Tensor<B, 3>, lengths: &[usize]) -> Tensor<B, 2> {
    let [rows, len, d] = hidden.dims();
    let device = hidden.device();
    // The mask carries 1/length, so one weighted sum is the mean (a 2-d broadcast).
    let mut weights = vec![0.0f32; rows * len];
    for (r, &l) in lengths.iter().enumerate() {
        let l = l.clamp(1, len);
        weights[r * len..r * len + l].fill(1.0 / l as f32);
    }
    let weights = Tensor::<B, 2>::from_data(TensorData::new(weights, [rows * len, 1]), &device);
    let weighted = hidden.reshape([rows * len, d]) * weights; // [rows * len, d]
    weighted
        .reshape([rows, len, d])
        .sum_dim(1)
        .reshape([rows, d])
}

/// Divides each row by its L2 norm.
///
/// # Shapes
///
/// - x, output: `[rows, d]`
pub fn l2_normalize<B: Backend>(x: Tensor<B, 2>) -> Tensor<B, 2> {
    let norm = (x.clone().square().sum_dim(1) + NORM_EPS).sqrt(); // [rows, 1]
    x / norm
}

/// The encoder tokens of single items: `[BOS d1 .. dn EOS]`.
pub fn item_tokens(items: &[u32], ids: &SemanticIds) -> Result<Vec<Vec<u32>>, TigerError> {
    let layout = ids.layout();
    items
        .iter()
        .enumerate()
        .map(|(i, &item)| {
            if item as usize >= ids.len() {
                return Err(TigerError::InvalidCandidate(format!(
                    "item {i} of the batch: item {item} has no semantic ID ({} items)",
                    ids.len()
                )));
            }
            let mut row = Vec::with_capacity(ids.num_digits() + 2);
            row.push(layout.bos());
            row.extend(ids.tokens(item));
            row.push(layout.eos());
            Ok(row)
        })
        .collect()
}

impl<B: Backend> Tiger<B> {
    /// Encodes single items as `[BOS d1 .. dn EOS]` and pools them with `head`.
    ///
    /// # Shapes
    ///
    /// - output: `[items, proj_dim]`
    pub fn embed_items(
        &self,
        head: &ProjectionHead<B>,
        items: &[u32],
        ids: &SemanticIds,
        device: &B::Device,
    ) -> Result<Tensor<B, 2>, TigerError> {
        check_layout(ids.layout(), self.config.vocab_size)?;
        let rows = item_tokens(items, ids)?;
        let (tokens, lengths) = pad_rows::<B>(&rows, device);
        let hidden = self.encode_states(tokens, &lengths); // [items, n + 2, d_model]
        Ok(head.embed_states(hidden, &lengths))
    }

    /// Encodes histories (as [`Tiger::encode`]) and pools them with `head`; the same
    /// numbers as [`ProjectionHead::embed_encoded`] on the verifier's encoder output.
    ///
    /// # Shapes
    ///
    /// - output: `[histories, proj_dim]`
    pub fn embed_histories(
        &self,
        head: &ProjectionHead<B>,
        histories: &[&[u32]],
        ids: &SemanticIds,
        device: &B::Device,
    ) -> Result<Tensor<B, 2>, TigerError> {
        let encoded = self.encode(histories, ids, device)?;
        Ok(head.embed_encoded(&encoded))
    }
}

/// Copies a `[rows, d]` tensor to host rows.
pub fn to_rows<B: Backend>(x: Tensor<B, 2>) -> Result<Vec<Vec<f32>>, TigerError> {
    let [_, d] = x.dims();
    let flat = to_flat(x)?;
    Ok(flat.chunks_exact(d.max(1)).map(<[f32]>::to_vec).collect())
}

/// Copies a tensor to a flat host vector.
pub fn to_flat<B: Backend, const D: usize>(x: Tensor<B, D>) -> Result<Vec<f32>, TigerError> {
    x.into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .map_err(|e| TigerError::Data(format!("reading embeddings back from the device: {e:?}")))
}
