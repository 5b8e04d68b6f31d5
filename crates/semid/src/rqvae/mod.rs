//! RQ-VAE: an MLP autoencoder whose latent is quantised by residual EMA codebooks.

mod config;
mod model;
mod train;

pub use config::{RqVaeConfig, RqVaeOptimizer, RqVaeTrainConfig};
pub use model::{Mlp, RqVae, RqVaeNet, Standardizer};
pub use train::{EpochStats, train_rqvae};
