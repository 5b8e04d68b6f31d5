//! The paper's baselines, on the same [`Verifier`](crate::Verifier) and
//! [`Drafter`](rec_core::Drafter) traits: TIGER's beam-search list, TIGER_C, TIGER
//! by batch scoring (subset ranking, Figure A2), and the score-based, rank-based and
//! 2-stage ensembles of Table A5.

mod ensemble;
mod scoring;
mod tiger;

pub use ensemble::{Ensemble, EnsembleConfig, ensemble};
pub use scoring::batch_scoring;
pub use tiger::{tiger, tiger_c};
