//! Integration tests of gr-model against independent oracles.

mod beam;
mod common;
mod decoding;
mod errors;
mod score;
mod train;
