//! Integration tests of gr-model against independent oracles.

mod backends;
mod beam;
mod common;
mod decoding;
mod errors;
mod hf_t5;
mod score;
mod specgr_pp;
mod train;
mod flops;
