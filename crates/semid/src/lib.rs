#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

#[cfg(feature = "fit")]
mod artifact;
mod error;
#[cfg(feature = "fit")]
mod fit;
#[cfg(feature = "fit")]
mod hkmeans;
mod ids;
#[cfg(feature = "fit")]
pub mod kmeans;
mod layout;
mod matrix;
mod quantizer;
mod report;
#[cfg(feature = "fit")]
mod rng;
#[cfg(feature = "fit")]
mod rqkmeans;
#[cfg(feature = "fit")]
mod rqvae;
#[cfg(feature = "fit")]
mod tokenizer;
mod trie;

pub use error::{Result, SemidError};
#[cfg(feature = "fit")]
pub use fit::{FitConfig, FitProgress, fit};
#[cfg(feature = "fit")]
pub use hkmeans::{HierarchicalKMeans, HierarchicalKMeansConfig};
pub use ids::SemanticIds;
#[cfg(feature = "fit")]
pub use kmeans::KMeansConfig;
pub use layout::TokenLayout;
pub use matrix::EmbeddingMatrix;
pub use quantizer::{Method, Quantizer};
pub use report::{FitReport, LevelReport};
#[cfg(feature = "fit")]
pub use rqkmeans::{ResidualKMeans, ResidualKMeansConfig};
#[cfg(feature = "fit")]
pub use rqvae::{
    EpochStats, Mlp, RqVae, RqVaeConfig, RqVaeNet, RqVaeOptimizer, RqVaeTrainConfig, Standardizer,
    train_rqvae,
};
#[cfg(feature = "fit")]
pub use tokenizer::{FittedQuantizer, SemanticIdModel};
pub use trie::PrefixTrie;
