//! Integration tests for the speculative crate: one binary, one module per topic.

mod baselines;
mod common;
mod engine;
mod unseen;
