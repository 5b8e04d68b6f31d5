//! T5 attention: self-attention, and cross-attention whose keys and
//! values are computed once per query and shared by all decoder rows of that query.
//!
//! T5 does not scale the logits by `1/sqrt(d_kv)` (the scale is folded into the
//! initialisation of the query projection), and its projections have no bias.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor};

use crate::ops::{Dropout, MatmulPrecision, linear3, matmul, softmax4};

/// Keys and values of one attention, `[rows, heads, keys, d_kv]` each.
#[derive(Debug, Clone)]
pub struct KeyValue<B: Backend> {
    /// Keys, `[rows, heads, keys, d_kv]`.
    pub k: Tensor<B, 4>,
    /// Values, `[rows, heads, keys, d_kv]`.
    pub v: Tensor<B, 4>,
}

impl<B: Backend> KeyValue<B> {
    /// Keeps (and repeats) the rows named by `index`.
    pub fn select_rows(&self, index: burn::tensor::Tensor<B, 1, burn::tensor::Int>) -> Self {
        Self {
            k: self.k.clone().select(0, index.clone()),
            v: self.v.clone().select(0, index),
        }
    }
}

/// How a constructor fills the weights it would draw.
///
/// Burn's random generator is process-wide. A model about to be overwritten by a
/// checkpoint must not draw from it: a load beside a seeded training (another thread,
/// another test) would shift that training's draws and change its numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Weights {
    /// Drawn now from the backend's generator: a new model.
    Drawn,
    /// Zeros, to be replaced by loaded values; draws nothing.
    Placeholder,
}

/// A linear map without bias whose weight, `[d_input, d_output]`, is drawn from
/// `N(0, std^2)` (Hugging Face T5's initialisation), or zeros with
/// [`Weights::Placeholder`].
pub(crate) fn normal_linear<B: Backend>(
    d_input: usize,
    blocks: &[(usize, f64)],
    weights: Weights,
    device: &B::Device,
) -> Linear<B> {
    let parts: Vec<Tensor<B, 2>> = blocks
        .iter()
        .map(|&(d_output, std)| match weights {
            Weights::Drawn => Tensor::random([d_input, d_output], Distribution::Normal(0.0, std), device),
            Weights::Placeholder => Tensor::zeros([d_input, d_output], device),
        })
        .collect();
    Linear {
        weight: Param::from_tensor(Tensor::cat(parts, 1)),
        bias: None,
    }
}

/// Adds an attention bias to the logits; a bias shared by all rows (`[1, ...]`) is
/// added on a 2-d view, where the CPU backend broadcasts fast.
///
/// # Shapes
///
/// - scores, output: `[rows, heads, len, keys]`
/// - bias: `[rows or 1, heads, len, keys]`
pub fn add_bias<B: Backend>(scores: Tensor<B, 4>, bias: Tensor<B, 4>) -> Tensor<B, 4> {
    let dims = scores.dims();
    let bias_rows = bias.dims()[0];
    if bias_rows == dims[0] {
        return scores + bias;
    }
    let rest = dims[1] * dims[2] * dims[3];
    (scores.reshape([dims[0], rest]) + bias.reshape([1, rest])).reshape(dims)
}

/// Splits `[rows, len, heads * d_kv]` into heads, `[rows, heads, len, d_kv]`.
fn split_heads<B: Backend>(x: Tensor<B, 3>, heads: usize) -> Tensor<B, 4> {
    let [rows, len, inner] = x.dims();
    x.reshape([rows, len, heads, inner / heads]).swap_dims(1, 2)
}

/// Merges `[rows, heads, len, d_kv]` back into `[rows, len, heads * d_kv]`.
fn merge_heads<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 3> {
    let [rows, heads, len, d_kv] = x.dims();
    x.swap_dims(1, 2).reshape([rows, len, heads * d_kv])
}

/// Multi-head self-attention.
///
/// Q, K and V are three projections rather than one fused `[d_model, 3 * inner]`
/// map: splitting a fused output slices the activations, and on the CPU backend the
/// backward of each slice allocates and fills a full-size gradient (measured slower).
#[derive(Module, Debug)]
pub struct SelfAttention<B: Backend> {
    /// Query projection, `[d_model, heads * d_kv]`.
    pub q: Linear<B>,
    /// Key projection, `[d_model, heads * d_kv]`.
    pub k: Linear<B>,
    /// Value projection, `[d_model, heads * d_kv]`.
    pub v: Linear<B>,
    /// Output projection, `[heads * d_kv, d_model]`.
    pub out: Linear<B>,
    /// Number of heads.
    pub heads: usize,
    /// The precision of the four projections and of the score and context products (a
    /// run-time choice, not saved with the weights).
    #[module(skip)]
    pub precision: MatmulPrecision,
}

impl<B: Backend> SelfAttention<B> {
    /// A freshly initialised self-attention.
    pub fn new(d_model: usize, heads: usize, d_kv: usize, device: &B::Device) -> Self {
        Self::with_weights(d_model, heads, d_kv, Weights::Drawn, device)
    }

    pub(crate) fn with_weights(d_model: usize, heads: usize, d_kv: usize, w: Weights, device: &B::Device) -> Self {
        let inner = heads * d_kv;
        let dm = d_model as f64;
        Self {
            q: normal_linear(d_model, &[(inner, (dm * d_kv as f64).powf(-0.5))], w, device),
            k: normal_linear(d_model, &[(inner, dm.powf(-0.5))], w, device),
            v: normal_linear(d_model, &[(inner, dm.powf(-0.5))], w, device),
            out: normal_linear(inner, &[(d_model, (inner as f64).powf(-0.5))], w, device),
            heads,
            precision: MatmulPrecision::F32,
        }
    }

    /// Attends `x` to itself, after the cached keys and values of earlier positions.
    ///
    /// `bias` holds the position bias plus any mask (large negative values).
    ///
    /// # Shapes
    ///
    /// - x: `[rows, len, d_model]`
    /// - past: `[rows, heads, past_len, d_kv]`
    /// - bias: `[1 or rows, heads, len, past_len + len]`
    /// - output: `[rows, len, d_model]`, and the keys/values of all `past_len + len` positions
    pub fn forward(
        &self,
        x: Tensor<B, 3>,
        past: Option<&KeyValue<B>>,
        bias: Tensor<B, 4>,
        dropout: &Dropout,
    ) -> (Tensor<B, 3>, KeyValue<B>) {
        let q = split_heads(linear3(&self.q, x.clone(), self.precision), self.heads); // [rows, heads, len, d_kv]
        let k = split_heads(linear3(&self.k, x.clone(), self.precision), self.heads);
        let v = split_heads(linear3(&self.v, x, self.precision), self.heads);
        let (k, v) = match past {
            Some(past) => (
                Tensor::cat(vec![past.k.clone(), k], 2),
                Tensor::cat(vec![past.v.clone(), v], 2),
            ),
            None => (k, v),
        };
        let scores = add_bias(matmul(q, k.clone().swap_dims(2, 3), self.precision), bias); // [rows, heads, len, keys]
        let weights = dropout.forward(softmax4(scores));
        let context = merge_heads(matmul(weights, v.clone(), self.precision));
        (linear3(&self.out, context, self.precision), KeyValue { k, v })
    }
}

/// Multi-head cross-attention from decoder rows to their query's encoder memory.
#[derive(Module, Debug)]
pub struct CrossAttention<B: Backend> {
    /// Query projection, `[d_model, heads * d_kv]`.
    pub q: Linear<B>,
    /// Key projection, `[d_model, heads * d_kv]`.
    pub k: Linear<B>,
    /// Value projection, `[d_model, heads * d_kv]`.
    pub v: Linear<B>,
    /// Output projection, `[heads * d_kv, d_model]`.
    pub out: Linear<B>,
    /// Number of heads.
    pub heads: usize,
    /// The precision of the four projections and of the score and context products (a
    /// run-time choice, not saved with the weights).
    #[module(skip)]
    pub precision: MatmulPrecision,
}

impl<B: Backend> CrossAttention<B> {
    /// A freshly initialised cross-attention.
    pub fn new(d_model: usize, heads: usize, d_kv: usize, device: &B::Device) -> Self {
        Self::with_weights(d_model, heads, d_kv, Weights::Drawn, device)
    }

    pub(crate) fn with_weights(d_model: usize, heads: usize, d_kv: usize, w: Weights, device: &B::Device) -> Self {
        let inner = heads * d_kv;
        let dm = d_model as f64;
        Self {
            q: normal_linear(d_model, &[(inner, (dm * d_kv as f64).powf(-0.5))], w, device),
            k: normal_linear(d_model, &[(inner, dm.powf(-0.5))], w, device),
            v: normal_linear(d_model, &[(inner, dm.powf(-0.5))], w, device),
            out: normal_linear(inner, &[(d_model, (inner as f64).powf(-0.5))], w, device),
            heads,
            precision: MatmulPrecision::F32,
        }
    }

    /// Keys and values of the encoder memory, computed once per query.
    ///
    /// # Shapes
    ///
    /// - memory: `[queries, src_len, d_model]`
    /// - output: `[queries, heads, src_len, d_kv]` each
    pub fn memory(&self, memory: Tensor<B, 3>) -> KeyValue<B> {
        KeyValue {
            k: split_heads(linear3(&self.k, memory.clone(), self.precision), self.heads),
            v: split_heads(linear3(&self.v, memory, self.precision), self.heads),
        }
    }

    /// Attends `groups` decoder rows per query to that query's memory.
    ///
    /// The rows of a query are laid side by side along the sequence axis, so all of
    /// them attend to one copy of the memory: the memory is never repeated per beam
    /// or candidate.
    ///
    /// # Shapes
    ///
    /// - x: `[queries * groups, len, d_model]` (rows of query `q` are `q * groups ..`)
    /// - memory: `[queries, heads, src_len, d_kv]`
    /// - memory_mask: `[queries, heads, groups * len, src_len]`, 0 for real tokens, large
    ///   negative for padding; `None` when no query has padding
    /// - output: `[queries * groups, len, d_model]`
    pub fn forward(
        &self,
        x: Tensor<B, 3>,
        memory: &KeyValue<B>,
        memory_mask: Option<Tensor<B, 4>>,
        dropout: &Dropout,
    ) -> Tensor<B, 3> {
        let [rows, len, _] = x.dims();
        let queries = memory.k.dims()[0];
        let groups = rows / queries;
        let q = split_heads(linear3(&self.q, x, self.precision), self.heads); // [rows, heads, len, d_kv]
        let d_kv = q.dims()[3];
        let q = q
            .reshape([queries, groups, self.heads, len, d_kv])
            .swap_dims(1, 2)
            .reshape([queries, self.heads, groups * len, d_kv]);
        let mut scores = matmul(q, memory.k.clone().swap_dims(2, 3), self.precision); // [queries, heads, groups * len, src]
        if let Some(mask) = memory_mask {
            scores = scores + mask;
        }
        let weights = dropout.forward(softmax4(scores));
        let context = matmul(weights, memory.v.clone(), self.precision) // [queries, heads, groups * len, d_kv]
            .reshape([queries, self.heads, groups, len, d_kv])
            .swap_dims(1, 2)
            .reshape([rows, self.heads, len, d_kv]);
        linear3(&self.out, merge_heads(context), self.precision)
    }
}
