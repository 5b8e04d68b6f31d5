//! RQ-VAE training: k-means initialisation per level, EMA codebooks, the
//! straight-through estimator and the commitment loss.

use burn::module::AutodiffModule;
use burn::optim::{AdaGradConfig, AdamConfig, GradientsParams, Optimizer};
use burn::prelude::*;
use burn::tensor::TensorData;
use burn::tensor::backend::AutodiffBackend;
use serde::Serialize;

use super::config::{RqVaeConfig, RqVaeOptimizer, RqVaeTrainConfig};
use super::model::{RqVae, RqVaeNet, Standardizer};
use crate::error::{Result, SemidError};
use crate::kmeans::{self, KMeansConfig};
use crate::matrix::EmbeddingMatrix;
use crate::rng::SplitMix64;
use crate::rqkmeans::subtract_codewords;

/// Progress after one training epoch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpochStats {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Total epochs.
    pub epochs: usize,
    /// Mean reconstruction MSE over the epoch's batches (of standardised embeddings
    /// when `standardize` is on).
    pub reconstruction: f64,
    /// Mean commitment loss (summed over levels) over the epoch's batches.
    pub commitment: f64,
    /// Per level, the share of codes chosen at least once during the epoch.
    pub utilisation: Vec<f64>,
    /// Codes moved by the dead-code reset after this epoch.
    pub reset_codes: usize,
}

/// EMA codebooks on the host (van den Oord et al. 2017, appendix; decay and Laplace smoothing as in the reference).
struct EmaCodebooks {
    dim: usize,
    k: usize,
    codebooks: Vec<Vec<f32>>,
    sizes: Vec<Vec<f64>>,
    sums: Vec<Vec<f64>>,
}

impl EmaCodebooks {
    /// Starts from k-means codebooks whose clusters have `counts` members, rescaled
    /// to the batch size so the first EMA steps do not drag codewords.
    fn new(
        dim: usize,
        k: usize,
        codebooks: Vec<Vec<f32>>,
        counts: Vec<Vec<usize>>,
        scale: f64,
    ) -> Self {
        let sizes: Vec<Vec<f64>> = counts
            .iter()
            .map(|c| c.iter().map(|&n| n as f64 * scale).collect())
            .collect();
        let sums = codebooks
            .iter()
            .zip(&sizes)
            .map(|(cb, s)| {
                cb.iter()
                    .enumerate()
                    .map(|(i, &v)| v as f64 * s[i / dim])
                    .collect()
            })
            .collect();
        Self {
            dim,
            k,
            codebooks,
            sizes,
            sums,
        }
    }

    /// One EMA step of `level` with a batch's residuals and their codes.
    fn update(&mut self, level: usize, residual: &[f32], codes: &[u32], decay: f64, eps: f64) {
        let (dim, k) = (self.dim, self.k);
        let mut counts = vec![0f64; k];
        let mut sums = vec![0f64; k * dim];
        for (r, &c) in residual.chunks_exact(dim).zip(codes) {
            counts[c as usize] += 1.0;
            for (s, v) in sums[c as usize * dim..(c as usize + 1) * dim]
                .iter_mut()
                .zip(r)
            {
                *s += *v as f64;
            }
        }
        let size = &mut self.sizes[level];
        for (s, c) in size.iter_mut().zip(&counts) {
            *s = decay * *s + (1.0 - decay) * c;
        }
        for (s, v) in self.sums[level].iter_mut().zip(&sums) {
            *s = decay * *s + (1.0 - decay) * v;
        }
        let n: f64 = size.iter().sum();
        let codewords = self.codebooks[level]
            .chunks_exact_mut(dim)
            .zip(self.sums[level].chunks_exact(dim));
        for ((codeword, sum), s) in codewords.zip(size.iter()) {
            let smoothed = (s + eps) / (n + k as f64 * eps) * n;
            for (c, v) in codeword.iter_mut().zip(sum) {
                *c = (v / smoothed) as f32;
            }
        }
    }

    /// Moves code `j` of `level` onto `vector`, with a fresh EMA history of weight 1.
    fn reset(&mut self, level: usize, j: usize, vector: &[f32]) {
        let dim = self.dim;
        self.codebooks[level][j * dim..(j + 1) * dim].copy_from_slice(vector);
        self.sizes[level][j] = 1.0;
        for (s, v) in self.sums[level][j * dim..(j + 1) * dim]
            .iter_mut()
            .zip(vector)
        {
            *s = *v as f64;
        }
    }
}

/// Trains an RQ-VAE on `embeddings` (the in-sample items only) and returns the
/// frozen quantizer on the inner (non-autodiff) backend.
///
/// The encoder and decoder are seeded; the codebooks start from k-means on the
/// initial encoder's latents of all rows, level by level on the residuals, then
/// follow their EMA. Each step quantises the detached latents, adds the commitment
/// loss per level, and passes the codewords to the decoder with the
/// straight-through estimator.
pub fn train_rqvae<A: AutodiffBackend>(
    config: &RqVaeConfig,
    train: &RqVaeTrainConfig,
    embeddings: &EmbeddingMatrix,
    device: &A::Device,
    progress: &mut dyn FnMut(&EpochStats),
) -> Result<RqVae<A::InnerBackend>> {
    embeddings.expect_dim(config.input_dim)?;
    if embeddings.rows() < config.codebook_size {
        return Err(SemidError::TooFewItems {
            items: embeddings.rows(),
            codes: config.codebook_size,
        });
    }
    if train.batch_size == 0 || config.levels == 0 {
        return Err(SemidError::Config(
            "RQ-VAE needs batch_size > 0 and levels > 0".into(),
        ));
    }
    let net: RqVaeNet<A> = config.init(train.seed, device);
    let standardizer = if train.standardize {
        Standardizer::fit(embeddings)
    } else {
        Standardizer::identity(config.input_dim)
    };
    let x = EmbeddingMatrix::new(standardizer.apply(embeddings.as_slice()), config.input_dim)?;
    let (net, codebooks) = match train.optimizer {
        RqVaeOptimizer::Adam => run(
            config,
            train,
            &x,
            device,
            net,
            AdamConfig::new().init(),
            progress,
        )?,
        RqVaeOptimizer::Adagrad => run(
            config,
            train,
            &x,
            device,
            net,
            AdaGradConfig::new().init(),
            progress,
        )?,
    };
    RqVae::from_parts(config.clone(), net.valid(), standardizer, codebooks, device)
}

fn run<A: AutodiffBackend, O: Optimizer<RqVaeNet<A>, A>>(
    config: &RqVaeConfig,
    train: &RqVaeTrainConfig,
    embeddings: &EmbeddingMatrix,
    device: &A::Device,
    mut net: RqVaeNet<A>,
    mut optim: O,
    progress: &mut dyn FnMut(&EpochStats),
) -> Result<(RqVaeNet<A>, Vec<Vec<f32>>)> {
    let inner = device.clone();
    let (n, dim, latent, k) = (
        embeddings.rows(),
        config.input_dim,
        config.latent_dim,
        config.codebook_size,
    );
    let batch_size = train.batch_size.min(n);
    let mut ema = kmeans_init(
        config,
        train,
        embeddings,
        &net,
        &inner,
        batch_size as f64 / n as f64,
    )?;
    let mut rng = SplitMix64::new(train.seed ^ 0x5EED_BA7C);
    let mut step = 0usize;
    for epoch in 1..=train.epochs {
        let order = rng.permutation(n);
        let mut used = vec![vec![false; k]; config.levels];
        let (mut recon_sum, mut commit_sum, mut batches) = (0f64, 0f64, 0usize);
        let mut last_residuals = Vec::new();
        for rows in order.chunks(batch_size) {
            let b = rows.len();
            let xb: Vec<f32> = rows
                .iter()
                .flat_map(|&r| embeddings.row(r).iter().copied())
                .collect();
            let x = Tensor::<A, 2>::from_data(TensorData::new(xb, [b, dim]), device);
            let z = net.encoder.forward(x.clone()); // [b, latent]
            let z_host: Vec<f32> = z.clone().into_data().iter::<f32>().collect();
            // Residual quantisation on detached latents; the codewords are constants.
            let mut residual = z_host;
            let mut commit = Tensor::<A, 1>::zeros([1], device);
            let mut acc = z.clone();
            let mut quantized = Tensor::<A, 2>::zeros([b, latent], device);
            last_residuals.clear();
            for (level, used_level) in used.iter_mut().enumerate() {
                let cb = &ema.codebooks[level];
                let (codes, _) = kmeans::nearest::<A::InnerBackend>(&residual, latent, cb, &inner);
                let q_host: Vec<f32> = codes
                    .iter()
                    .flat_map(|&c| {
                        cb[c as usize * latent..(c as usize + 1) * latent]
                            .iter()
                            .copied()
                    })
                    .collect();
                // The next level quantises what this level's (pre-update) codewords leave.
                let next: Vec<f32> = residual.iter().zip(&q_host).map(|(r, q)| r - q).collect();
                let q = Tensor::<A, 2>::from_data(TensorData::new(q_host, [b, latent]), device);
                commit = commit + (acc.clone() - q.clone()).powi_scalar(2).mean();
                acc = acc - q.clone();
                quantized = quantized + q;
                ema.update(level, &residual, &codes, config.decay, config.eps);
                for &c in &codes {
                    used_level[c as usize] = true;
                }
                last_residuals.push(std::mem::replace(&mut residual, next));
            }
            // Straight-through estimator: the decoder sees the codewords, gradients flow to z.
            let z_q = z.clone() + (quantized - z).detach();
            let recon = (net.decoder.forward(z_q) - x).powi_scalar(2).mean();
            let loss = recon.clone() + commit.clone().mul_scalar(config.commitment);
            recon_sum += scalar(recon);
            commit_sum += scalar(commit);
            batches += 1;
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            step += 1;
            let warmup = if train.warmup_steps > 0 {
                (step as f64 / train.warmup_steps as f64).min(1.0)
            } else {
                1.0
            };
            net = optim.step(train.lr * warmup, net, grads);
        }
        let mut reset_codes = 0;
        if train.reset_dead_codes {
            for (level, residuals) in last_residuals.iter().enumerate() {
                let rows = residuals.len() / latent;
                for j in (0..k).filter(|&j| !used[level][j]) {
                    let r = rng.below(rows);
                    ema.reset(level, j, &residuals[r * latent..(r + 1) * latent]);
                    reset_codes += 1;
                }
            }
        }
        let stats = EpochStats {
            epoch,
            epochs: train.epochs,
            reconstruction: recon_sum / batches as f64,
            commitment: commit_sum / batches as f64,
            utilisation: used
                .iter()
                .map(|u| u.iter().filter(|&&x| x).count() as f64 / k as f64)
                .collect(),
            reset_codes,
        };
        tracing::debug!(?stats, "RQ-VAE epoch");
        progress(&stats);
    }
    Ok((net, ema.codebooks))
}

fn scalar<B: Backend>(t: Tensor<B, 1>) -> f64 {
    t.into_data().iter::<f32>().next().unwrap_or(f32::NAN) as f64
}

/// k-means on the initial encoder's latents of all fitted items, level by level on
/// the residuals; returns the EMA state with cluster sizes scaled by `scale`.
fn kmeans_init<A: AutodiffBackend>(
    config: &RqVaeConfig,
    train: &RqVaeTrainConfig,
    embeddings: &EmbeddingMatrix,
    net: &RqVaeNet<A>,
    inner: &A::Device,
    scale: f64,
) -> Result<EmaCodebooks> {
    let (latent, k) = (config.latent_dim, config.codebook_size);
    let codebooks = vec![vec![0.0; k * latent]; config.levels];
    let identity = Standardizer::identity(config.input_dim);
    let frozen = RqVae::from_parts(config.clone(), net.valid(), identity, codebooks, inner)?;
    let mut residual = frozen.latents(embeddings)?;
    let (mut codebooks, mut counts) = (Vec::new(), Vec::new());
    for level in 0..config.levels {
        let km = KMeansConfig {
            k,
            max_iters: train.kmeans_iters,
            init_sample: 16384,
            seed: train.seed.wrapping_add(level as u64),
        };
        let fit = kmeans::fit::<A::InnerBackend>(&residual, latent, &km, inner)?;
        let mut c = vec![0usize; k];
        for &a in &fit.assignment {
            c[a as usize] += 1;
        }
        subtract_codewords(&mut residual, latent, &fit.centroids, &fit.assignment);
        codebooks.push(fit.centroids);
        counts.push(c);
    }
    Ok(EmaCodebooks::new(latent, k, codebooks, counts, scale))
}
