//! The paper's baselines, on the same [`Verifier`](crate::Verifier) and
//! [`Drafter`](drafters::Drafter) traits: TIGER's beam-search list, TIGER_C, and
//! the score-based, rank-based and 2-stage ensembles of Table A5.

mod ensemble;
mod tiger;

pub use ensemble::{Ensemble, EnsembleConfig, ensemble};
pub use tiger::{tiger, tiger_c};
