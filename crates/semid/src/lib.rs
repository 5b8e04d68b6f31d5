#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod artifact;
mod error;
mod fit;
mod hkmeans;
mod ids;
pub mod kmeans;
mod layout;
mod matrix;
mod quantizer;
mod report;
mod rng;
mod rqkmeans;
mod rqvae;
mod tokenizer;
mod trie;

pub use error::{Result, SemidError};
pub use fit::{FitConfig, FitProgress, fit};
pub use hkmeans::{HierarchicalKMeans, HierarchicalKMeansConfig};
pub use ids::SemanticIds;
pub use kmeans::KMeansConfig;
pub use layout::TokenLayout;
pub use matrix::EmbeddingMatrix;
pub use quantizer::{Method, Quantizer};
pub use report::{FitReport, LevelReport};
pub use rqkmeans::{ResidualKMeans, ResidualKMeansConfig};
pub use rqvae::{
    EpochStats, Mlp, RqVae, RqVaeConfig, RqVaeNet, RqVaeOptimizer, RqVaeTrainConfig, Standardizer,
    train_rqvae,
};
pub use tokenizer::{FittedQuantizer, SemanticIdModel};
pub use trie::PrefixTrie;
