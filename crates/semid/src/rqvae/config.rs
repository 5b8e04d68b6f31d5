//! RQ-VAE settings: the network and codebooks, and how they are trained.

use burn::config::Config;
use serde::{Deserialize, Serialize};

/// The RQ-VAE network and codebooks (TIGER's tokenizer, as the SpecGR reference
/// configures it: MLP 768-2048-1024-512-256-128 with ReLU, mirror decoder, three
/// levels of EMA codebooks, commitment weight 0.25).
#[derive(Config, Debug, PartialEq)]
pub struct RqVaeConfig {
    /// Embedding dimension (768 for sentence-t5-base, 384 for MiniLM).
    pub input_dim: usize,
    /// Hidden widths of the encoder, input side first; the decoder mirrors them.
    #[config(default = "vec![2048, 1024, 512, 256]")]
    pub hidden: Vec<usize>,
    /// Latent (codeword) dimension.
    #[config(default = 128)]
    pub latent_dim: usize,
    /// Residual quantisation levels.
    #[config(default = 3)]
    pub levels: usize,
    /// Codes per level (K).
    #[config(default = 256)]
    pub codebook_size: usize,
    /// EMA decay of the codebooks.
    #[config(default = 0.99)]
    pub decay: f64,
    /// Laplace smoothing of the EMA cluster sizes.
    #[config(default = 1e-5)]
    pub eps: f64,
    /// Weight of the commitment loss.
    #[config(default = 0.25)]
    pub commitment: f64,
}

/// The optimiser of the encoder and decoder (the codebooks follow their EMA).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RqVaeOptimizer {
    /// Adagrad, as the reference code trains (with 10k epochs).
    Adagrad,
    /// Adam, which converges in far fewer epochs (our CPU default).
    Adam,
}

/// How an RQ-VAE is trained.
#[derive(Config, Debug, PartialEq)]
pub struct RqVaeTrainConfig {
    /// Passes over the in-sample items.
    #[config(default = 20)]
    pub epochs: usize,
    /// Items per step (the reference uses 2048; smaller batches give the EMA
    /// codebooks more steps to follow the encoder in a short run).
    #[config(default = 512)]
    pub batch_size: usize,
    /// Learning rate.
    #[config(default = 1e-3)]
    pub lr: f64,
    /// Steps over which the learning rate rises linearly from `lr / warmup_steps`
    /// to `lr` (0: none). Off by default: 100 steps did not prevent the early
    /// codebook collapse on Beauty (see `experiments/results/semid/beauty.md`).
    #[config(default = 0)]
    pub warmup_steps: usize,
    /// Optimiser.
    #[config(default = "RqVaeOptimizer::Adam")]
    pub optimizer: RqVaeOptimizer,
    /// Lloyd iterations of the per-level k-means initialisation.
    #[config(default = 25)]
    pub kmeans_iters: usize,
    /// After every epoch, move codes that no item chose during the epoch onto random
    /// residuals of the last batch (not in the reference; keeps utilisation high).
    #[config(default = true)]
    pub reset_dead_codes: bool,
    /// Centre the embeddings and scale them to unit variance before the encoder
    /// (not in the reference; without it the decoder of a short CPU run learns
    /// little more than the mean embedding).
    #[config(default = true)]
    pub standardize: bool,
    /// Seed of the weights, the k-means initialisation and the batch order.
    #[config(default = 42)]
    pub seed: u64,
}

impl RqVaeTrainConfig {
    /// The reference code's schedule: Adagrad, lr 1e-3 without warm-up, batch 2048,
    /// 10 000 epochs, raw embeddings, no dead-code reset.
    pub fn paper() -> Self {
        Self::new()
            .with_epochs(10_000)
            .with_batch_size(2048)
            .with_optimizer(RqVaeOptimizer::Adagrad)
            .with_reset_dead_codes(false)
            .with_standardize(false)
    }
}
