//! The crate's error type.

use thiserror::Error;

/// Everything that can go wrong while drafting, verifying or assembling a list.
#[derive(Debug, Error)]
pub enum SpecError {
    /// A configuration value is out of range.
    #[error("invalid SpecGR config: {0}")]
    Config(String),
    /// A drafter returned an item with no semantic ID.
    #[error(
        "query {query}: drafter returned item {item}, but semantic IDs cover only {num_items} items"
    )]
    UnknownItem {
        /// Index of the query in the batch.
        query: usize,
        /// The offending item.
        item: u32,
        /// Number of items with a semantic ID.
        num_items: usize,
    },
    /// The verifier or the drafter returned a result of the wrong shape.
    #[error("{what}: got {got}, expected {expected}")]
    VerifierShape {
        /// What was miscounted (queries, candidates, digits, beams).
        what: &'static str,
        /// How many came back.
        got: usize,
        /// How many were asked for.
        expected: usize,
    },
    /// A request is malformed (an empty history, mismatched batch sizes).
    #[error("request {query}: {reason}")]
    Request {
        /// Index of the request in the batch.
        query: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The drafter failed.
    #[error(transparent)]
    Drafter(#[from] drafters::DrafterError),
    /// The TIGER verifier failed.
    #[error(transparent)]
    Tiger(#[from] gr_model::TigerError),
}

/// The crate's result type.
pub type Result<T, E = SpecError> = std::result::Result<T, E>;
