//! The RQ-VAE network and the fitted, frozen RQ-VAE quantizer.

use burn::module::Param;
use burn::prelude::*;
use burn::tensor::TensorData;
use serde::{Deserialize, Serialize};

use super::config::RqVaeConfig;
use crate::error::Result;
use crate::kmeans;
use crate::matrix::EmbeddingMatrix;
use crate::quantizer::{Method, Quantizer};
use crate::rng::SplitMix64;
use crate::rqkmeans::subtract_codewords;

/// A stack of linear layers with ReLU between them (none after the last).
#[derive(Module, Debug)]
pub struct Mlp<B: Backend> {
    layers: Vec<nn::Linear<B>>,
}

impl<B: Backend> Mlp<B> {
    /// Layers of widths `dims[0] -> dims[1] -> ...`, from a seeded generator so that
    /// initialisation does not depend on the backend's global random state. Weights
    /// are He-uniform (±sqrt(6/fan_in)), which keeps the signal's scale through ReLU
    /// layers; biases are uniform in ±1/sqrt(fan_in) like PyTorch's `nn.Linear`.
    /// (PyTorch's default weights, ±1/sqrt(fan_in), shrink the signal about 2.4x per
    /// layer: through ten layers a short training run barely moves.)
    pub(crate) fn init(dims: &[usize], rng: &mut SplitMix64, device: &B::Device) -> Self {
        let layers = dims
            .windows(2)
            .map(|w| {
                let (d_in, d_out) = (w[0], w[1]);
                let mut uniform = |n: usize, bound: f64| -> Vec<f32> {
                    (0..n)
                        .map(|_| ((rng.next_f64() * 2.0 - 1.0) * bound) as f32)
                        .collect()
                };
                let weight = uniform(d_in * d_out, (6.0 / d_in as f64).sqrt());
                let weight = Tensor::from_data(TensorData::new(weight, [d_in, d_out]), device);
                let bias = Tensor::from_data(
                    TensorData::new(uniform(d_out, 1.0 / (d_in as f64).sqrt()), [d_out]),
                    device,
                );
                nn::Linear {
                    weight: Param::from_tensor(weight),
                    bias: Some(Param::from_tensor(bias)),
                }
            })
            .collect();
        Self { layers }
    }

    /// # Shapes
    /// - input: `[batch, dims[0]]`
    /// - output: `[batch, dims[last]]`
    pub fn forward(&self, mut x: Tensor<B, 2>) -> Tensor<B, 2> {
        let last = self.layers.len().saturating_sub(1);
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            if i < last {
                x = burn::tensor::activation::relu(x);
            }
        }
        x
    }
}

/// Encoder and decoder of an RQ-VAE (the codebooks live beside it, see [`RqVae`]).
#[derive(Module, Debug)]
pub struct RqVaeNet<B: Backend> {
    /// Embedding to latent.
    pub encoder: Mlp<B>,
    /// Latent to embedding.
    pub decoder: Mlp<B>,
}

impl RqVaeConfig {
    /// Encoder widths, input first.
    pub fn encoder_dims(&self) -> Vec<usize> {
        let mut dims = vec![self.input_dim];
        dims.extend(&self.hidden);
        dims.push(self.latent_dim);
        dims
    }

    /// A freshly initialised network, seeded.
    pub fn init<B: Backend>(&self, seed: u64, device: &B::Device) -> RqVaeNet<B> {
        let mut rng = SplitMix64::new(seed);
        let enc = self.encoder_dims();
        let dec: Vec<usize> = enc.iter().rev().copied().collect();
        RqVaeNet {
            encoder: Mlp::init(&enc, &mut rng, device),
            decoder: Mlp::init(&dec, &mut rng, device),
        }
    }
}

/// Centres and scales embeddings before the encoder: `(x - mean) / scale`, with the
/// in-sample mean per dimension and one global scale (the root mean squared
/// deviation), so the geometry is unchanged but the network sees unit-variance
/// inputs and targets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    /// Per-dimension mean.
    pub mean: Vec<f32>,
    /// Global scale.
    pub scale: f32,
}

impl Standardizer {
    /// The standardizer of the rows of `x`.
    pub fn fit(x: &EmbeddingMatrix) -> Self {
        let (rows, dim) = (x.rows().max(1) as f64, x.dim());
        let mut mean = vec![0f64; dim];
        for r in x.as_slice().chunks_exact(dim) {
            for (m, v) in mean.iter_mut().zip(r) {
                *m += *v as f64;
            }
        }
        mean.iter_mut().for_each(|m| *m /= rows);
        let sq: f64 = x
            .as_slice()
            .chunks_exact(dim)
            .flat_map(|r| r.iter().zip(&mean).map(|(v, m)| (*v as f64 - m).powi(2)))
            .sum();
        let scale = (sq / (rows * dim as f64)).sqrt().max(1e-12) as f32;
        Self {
            mean: mean.into_iter().map(|m| m as f32).collect(),
            scale,
        }
    }

    /// The identity (mean 0, scale 1), for training on raw embeddings.
    pub fn identity(dim: usize) -> Self {
        Self {
            mean: vec![0.0; dim],
            scale: 1.0,
        }
    }

    /// Standardised copy of row-major `rows`.
    pub fn apply(&self, rows: &[f32]) -> Vec<f32> {
        let dim = self.mean.len();
        rows.iter()
            .enumerate()
            .map(|(i, v)| (v - self.mean[i % dim]) / self.scale)
            .collect()
    }
}

/// Rows per forward pass when encoding.
const ENCODE_BATCH: usize = 4096;

/// A fitted RQ-VAE: the frozen network and one codebook per level.
#[derive(Debug, Clone)]
pub struct RqVae<B: Backend> {
    config: RqVaeConfig,
    net: RqVaeNet<B>,
    standardizer: Standardizer,
    /// `levels` codebooks of `codebook_size x latent_dim`, row-major.
    codebooks: Vec<Vec<f32>>,
    device: B::Device,
}

impl<B: Backend> RqVae<B> {
    /// Assembles a fitted RQ-VAE from its parts.
    pub fn from_parts(
        config: RqVaeConfig,
        net: RqVaeNet<B>,
        standardizer: Standardizer,
        codebooks: Vec<Vec<f32>>,
        device: &B::Device,
    ) -> Result<Self> {
        let size = config.codebook_size * config.latent_dim;
        if standardizer.mean.len() != config.input_dim
            || standardizer.scale.is_nan()
            || standardizer.scale <= 0.0
        {
            return Err(crate::SemidError::Config(
                "RQ-VAE standardizer does not match the input dimension".into(),
            ));
        }
        if codebooks.len() != config.levels || codebooks.iter().any(|c| c.len() != size) {
            return Err(crate::SemidError::Config(format!(
                "RQ-VAE expects {} codebooks of {}x{}",
                config.levels, config.codebook_size, config.latent_dim
            )));
        }
        Ok(Self {
            config,
            net,
            standardizer,
            codebooks,
            device: device.clone(),
        })
    }

    /// The network settings.
    pub fn config(&self) -> &RqVaeConfig {
        &self.config
    }

    /// The encoder and decoder.
    pub fn net(&self) -> &RqVaeNet<B> {
        &self.net
    }

    /// The input standardizer.
    pub fn standardizer(&self) -> &Standardizer {
        &self.standardizer
    }

    /// The codebooks, one `codebook_size x latent_dim` row-major buffer per level.
    pub fn codebooks(&self) -> &[Vec<f32>] {
        &self.codebooks
    }

    /// The encoder's latent of every row, row-major `rows x latent_dim`.
    pub fn latents(&self, embeddings: &EmbeddingMatrix) -> Result<Vec<f32>> {
        embeddings.expect_dim(self.config.input_dim)?;
        let dim = self.config.input_dim;
        let mut out = Vec::with_capacity(embeddings.rows() * self.config.latent_dim);
        for block in embeddings.as_slice().chunks(ENCODE_BATCH * dim) {
            let x = self.standardizer.apply(block);
            let x = Tensor::<B, 2>::from_data(
                TensorData::new(x, [block.len() / dim, dim]),
                &self.device,
            );
            out.extend(self.net.encoder.forward(x).into_data().iter::<f32>());
        }
        Ok(out)
    }

    /// Codes (`rows x levels`) and quantised latents (sum of chosen codewords).
    fn quantize(&self, embeddings: &EmbeddingMatrix) -> Result<(Vec<u32>, Vec<f32>)> {
        let latent = self.config.latent_dim;
        let z = self.latents(embeddings)?;
        let (codes, residual) = quantize_residual::<B>(&z, latent, &self.codebooks, &self.device);
        let quantized = z.iter().zip(&residual).map(|(a, r)| a - r).collect();
        Ok((codes, quantized))
    }
}

/// Residual quantisation of `z` (`rows x dim`) through `codebooks`: the codes
/// (`rows x levels`) and the final residuals.
pub(crate) fn quantize_residual<B: Backend>(
    z: &[f32],
    dim: usize,
    codebooks: &[Vec<f32>],
    device: &B::Device,
) -> (Vec<u32>, Vec<f32>) {
    let rows = z.len() / dim;
    let levels = codebooks.len();
    let mut residual = z.to_vec();
    let mut codes = vec![0u32; rows * levels];
    for (level, codebook) in codebooks.iter().enumerate() {
        let (assignment, _) = kmeans::nearest::<B>(&residual, dim, codebook, device);
        subtract_codewords(&mut residual, dim, codebook, &assignment);
        for (row, a) in assignment.into_iter().enumerate() {
            codes[row * levels + level] = a;
        }
    }
    (codes, residual)
}

impl<B: Backend> Quantizer for RqVae<B> {
    fn method(&self) -> Method {
        Method::RqVae
    }

    fn dim(&self) -> usize {
        self.config.input_dim
    }

    fn levels(&self) -> usize {
        self.config.levels
    }

    fn codebook_size(&self) -> usize {
        self.config.codebook_size
    }

    fn encode(&self, embeddings: &EmbeddingMatrix) -> Result<Vec<u32>> {
        Ok(self.quantize(embeddings)?.0)
    }

    fn reconstruction_mse(&self, embeddings: &EmbeddingMatrix) -> Result<Option<f64>> {
        let (_, quantized) = self.quantize(embeddings)?;
        let (latent, dim) = (self.config.latent_dim, self.config.input_dim);
        let mut sum = 0f64;
        for (q, x) in quantized
            .chunks(ENCODE_BATCH * latent)
            .zip(embeddings.as_slice().chunks(ENCODE_BATCH * dim))
        {
            let q = Tensor::<B, 2>::from_data(
                TensorData::new(q.to_vec(), [q.len() / latent, latent]),
                &self.device,
            );
            let x = Tensor::<B, 2>::from_data(
                TensorData::new(self.standardizer.apply(x), [x.len() / dim, dim]),
                &self.device,
            );
            let err = (self.net.decoder.forward(q) - x).powi_scalar(2).sum(); // [1]
            sum += err.into_data().iter::<f32>().next().unwrap_or(0.0) as f64;
        }
        // Back to the embeddings' own units.
        let scale = self.standardizer.scale as f64;
        Ok(Some(
            sum * scale * scale / embeddings.as_slice().len().max(1) as f64,
        ))
    }
}
