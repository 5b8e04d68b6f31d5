#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod baselines;
mod config;
mod engine;
mod error;
mod fill;
mod space;
mod stats;
mod tiger;
mod tiger_round;
mod tiger_tree;
mod verifier;

pub use config::{RedraftFrom, Selection, SpecGrConfig, UnseenDigits};
pub use engine::{Output, Request, SpecGr};
pub use error::{Result, SpecError};
pub use space::{ItemSpace, Recommendation, Source};
pub use stats::{RoundStats, StepStats};
pub use tiger::{QueryEmbedding, TigerSession, TigerVerifier};
pub use verifier::{Beam, Verifier, mean_log_prob};
