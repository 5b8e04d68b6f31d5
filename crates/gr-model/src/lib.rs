#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod attention;
mod batch;
mod beam;
pub mod checkpoint;
mod config;
mod data_parallel;
mod error;
mod flops;
pub mod eval;
pub mod hf;
pub mod input;
pub mod layers;
mod model;
pub mod ops;
pub mod position;
pub mod projection;
pub mod schedule;
mod score;
mod specgr_pp;
mod specgr_pp_config;
mod specgr_pp_store;
mod specgr_pp_train;
mod train;
pub mod train_loop;
mod verifier;

pub use batch::{TrainBatch, TrainExample};
pub use ops::MatmulPrecision;
pub use beam::{Beam, BeamSearch, Constraint};
pub use verifier::{QueryEmbedding, TigerSession, TigerVerifier};
pub use config::{TigerConfig, TigerPreset};
pub use error::TigerError;
pub use eval::RankingMetrics;
pub use model::{DecoderCache, EncoderOutput, Tiger};
pub use projection::{ProjectionConfig, ProjectionHead};
pub use score::CandidateScores;
pub use specgr_pp::{
    ItemEmbeddings, SpecGrPp, evaluate_retrieval, retrieval_loss, retrieval_loss_with_bias, unique_targets,
};
pub use specgr_pp_config::{SpecGrPpEvent, SpecGrPpState, SpecGrPpTrainConfig, Stage};
pub use specgr_pp_train::{SpecGrPpData, SpecGrPpInit, in_sample_table, specgr_pp_losses, target_log_counts, train_specgr_pp};
pub use schedule::LrDecay;
pub use train::{GradClip, SelectMetric, TrainConfig, clip_global_norm, TrainEvent, TrainState, inputs_fingerprint, sharded_grads, train, train_on_devices};

/// `docs/extending.md`, compiled and run as doctests: a drafter of one's own runs the
/// SpecGR loop, with TIGER verifying, through the public API only.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/extending.md")]
pub struct ExtendingGuide;
