//! Integration tests of gr-model against independent oracles.

mod backends;
mod beam;
mod common;
mod decoding;
mod errors;
mod fuzz;
#[path = "../../recdata/tests/fuzz_harness.rs"]
mod fuzz_harness;
mod hf_t5;
mod score;
mod specgr_pp;
mod train;
mod flops;
