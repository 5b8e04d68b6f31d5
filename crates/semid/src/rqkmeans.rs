//! Residual k-means (RQ-KMeans): k-means on the residuals, level by level.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Result, SemidError};
use crate::kmeans::{self, KMeansConfig};
use crate::matrix::EmbeddingMatrix;
use crate::quantizer::{Method, Quantizer};

/// Settings of residual k-means.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ResidualKMeansConfig {
    /// Code levels.
    pub levels: usize,
    /// Codes per level (K).
    pub codebook_size: usize,
    /// Most Lloyd iterations per level.
    pub max_iters: usize,
    /// Most points k-means++ initialisation looks at (a seeded sample).
    pub init_sample: usize,
    /// Seed; level `l` uses `seed + l`.
    pub seed: u64,
}

impl Default for ResidualKMeansConfig {
    fn default() -> Self {
        Self {
            levels: 3,
            codebook_size: 256,
            max_iters: 25,
            init_sample: 16384,
            seed: 42,
        }
    }
}

/// Fitted residual k-means: one codebook per level, on the host.
///
/// Level `l` quantizes the residual left after subtracting the chosen codewords of
/// levels `0..l`; codes are nearest codewords in Euclidean distance.
#[derive(Debug, Clone)]
pub struct ResidualKMeans<B: Backend> {
    config: ResidualKMeansConfig,
    dim: usize,
    /// `levels` codebooks of `codebook_size x dim`, row-major.
    codebooks: Vec<Vec<f32>>,
    device: B::Device,
}

impl<B: Backend> ResidualKMeans<B> {
    /// Fits on `embeddings` (the in-sample items only).
    pub fn fit(
        config: ResidualKMeansConfig,
        embeddings: &EmbeddingMatrix,
        device: &B::Device,
    ) -> Result<Self> {
        let dim = embeddings.dim();
        let mut residual = embeddings.as_slice().to_vec();
        let mut codebooks = Vec::with_capacity(config.levels);
        for level in 0..config.levels {
            let km = KMeansConfig {
                k: config.codebook_size,
                max_iters: config.max_iters,
                init_sample: config.init_sample,
                seed: config.seed.wrapping_add(level as u64),
            };
            let fit = kmeans::fit::<B>(&residual, dim, &km, device)?;
            tracing::debug!(
                level,
                iterations = fit.iterations,
                "residual k-means level fitted"
            );
            subtract_codewords(&mut residual, dim, &fit.centroids, &fit.assignment);
            codebooks.push(fit.centroids);
        }
        Ok(Self {
            config,
            dim,
            codebooks,
            device: device.clone(),
        })
    }

    /// Rebuilds a fitted quantizer from its parts (as saved by [`crate::SemanticIdModel::save`]).
    pub fn from_parts(
        config: ResidualKMeansConfig,
        dim: usize,
        codebooks: Vec<Vec<f32>>,
        device: &B::Device,
    ) -> Result<Self> {
        if codebooks.len() != config.levels
            || codebooks
                .iter()
                .any(|c| c.len() != config.codebook_size * dim)
        {
            return Err(SemidError::Config(format!(
                "residual k-means expects {} codebooks of {}x{dim}",
                config.levels, config.codebook_size
            )));
        }
        Ok(Self {
            config,
            dim,
            codebooks,
            device: device.clone(),
        })
    }

    /// The settings it was fitted with.
    pub fn config(&self) -> &ResidualKMeansConfig {
        &self.config
    }

    /// The codebooks, one `codebook_size x dim` row-major buffer per level.
    pub fn codebooks(&self) -> &[Vec<f32>] {
        &self.codebooks
    }

    /// Codes and the final residuals of every row.
    fn quantize(&self, embeddings: &EmbeddingMatrix) -> Result<(Vec<u32>, Vec<f32>)> {
        embeddings.expect_dim(self.dim)?;
        let rows = embeddings.rows();
        let levels = self.config.levels;
        let mut residual = embeddings.as_slice().to_vec();
        let mut codes = vec![0u32; rows * levels];
        for (level, codebook) in self.codebooks.iter().enumerate() {
            let (assignment, _) = kmeans::nearest::<B>(&residual, self.dim, codebook, &self.device);
            subtract_codewords(&mut residual, self.dim, codebook, &assignment);
            for (row, a) in assignment.into_iter().enumerate() {
                codes[row * levels + level] = a;
            }
        }
        Ok((codes, residual))
    }
}

/// `residual[i] -= codebook[assignment[i]]` for every row.
pub(crate) fn subtract_codewords(
    residual: &mut [f32],
    dim: usize,
    codebook: &[f32],
    assignment: &[u32],
) {
    for (r, &a) in residual.chunks_exact_mut(dim).zip(assignment) {
        for (x, c) in r
            .iter_mut()
            .zip(&codebook[a as usize * dim..(a as usize + 1) * dim])
        {
            *x -= c;
        }
    }
}

impl<B: Backend> Quantizer for ResidualKMeans<B> {
    fn method(&self) -> Method {
        Method::RqKMeans
    }

    fn dim(&self) -> usize {
        self.dim
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
        let (_, residual) = self.quantize(embeddings)?;
        let sum: f64 = residual.iter().map(|&v| (v as f64) * (v as f64)).sum();
        Ok(Some(sum / residual.len().max(1) as f64))
    }
}
