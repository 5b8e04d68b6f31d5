//! Integration tests for `semid` (one binary, one module per topic).

mod artifact;
mod data;
mod fit;
mod ids;
mod trie;
