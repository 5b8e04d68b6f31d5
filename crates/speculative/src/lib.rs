#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod baselines;
mod config;
mod engine;
mod fill;
mod space;
mod stats;

pub use config::{Normalisation, RedraftFrom, Selection, SpecGrConfig, UnseenDigits};
pub use engine::{Output, Request, SpecGr};
pub use space::{ItemSpace, Recommendation, Source};
pub use stats::{RoundStats, StepStats};
// The interface the loop works through (the `rec-core` crate), re-exported so that
// users of the loop need one dependency.
pub use rec_core::{
    Beam, DraftFilter, Drafter, DrafterError, DrafterResult, ItemSet, Neighbor, PrefixFilter, Query,
    Result, SpecError, Verifier, mean_log_prob,
};
