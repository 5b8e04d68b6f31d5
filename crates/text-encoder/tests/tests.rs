//! Integration tests for text-encoder. Everything except `minilm` runs on a tiny,
//! randomly initialised BERT written to a temporary directory, so CI without the
//! shared data still tests the model, the loader and the cache.

mod cache;
mod checkpoint;
mod common;
mod minilm;
mod reference;
mod tiny;
