//! Integration tests for the speculative crate: one binary, one module per topic.

mod baselines;
mod common;
mod encoder_drafter;
mod engine;
mod tiger;
mod trained;
mod unseen;
