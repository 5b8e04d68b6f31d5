//! Integration tests for `semid` (one binary, one module per topic).

mod artifact;
mod data;
mod fit;
mod fuzz;
#[path = "../../recdata/tests/fuzz_harness.rs"]
mod fuzz_harness;
mod ids;
mod trie;
