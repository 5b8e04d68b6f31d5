#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod attention;
mod batch;
mod beam;
pub mod checkpoint;
mod config;
mod error;
pub mod eval;
pub mod input;
pub mod layers;
mod model;
pub mod ops;
pub mod position;
pub mod schedule;
mod score;
mod train;

pub use batch::{TrainBatch, TrainExample};
pub use beam::{Beam, BeamSearch, Constraint};
pub use config::{TigerConfig, TigerPreset};
pub use error::TigerError;
pub use eval::RankingMetrics;
pub use model::{DecoderCache, EncoderOutput, Tiger};
pub use score::CandidateScores;
pub use train::{TrainConfig, TrainEvent, TrainState, train};
