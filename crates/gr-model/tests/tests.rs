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
mod multi_device;
mod precision;
mod present;
mod score;
mod specgr_pp;
mod train;
mod flops;
// TigerVerifier in the SpecGR loop (these tests lived in `speculative` until the
// loop stopped depending on Burn). They share speculative's fixtures, the very file.
#[path = "../../speculative/tests/common.rs"]
#[allow(dead_code)] // the table verifier serves only speculative's own tests
mod spec_common;
mod verifier;
mod verifier_specgr_pp;
mod verifier_trained;
