//! A BERT encoder written with Burn modules, and loading of Hugging Face checkpoints.
//!
//! Module paths mirror the checkpoint's names where Burn allows
//! (`embeddings.word_embeddings`, `layers.{i}.attention.query`, ...); the explicit
//! table in [`key_table`] maps one to the other.

mod attention;
mod checkpoint;
mod config;
mod embeddings;
mod layer;
mod model;

pub use attention::{SelfAttention, SelfAttentionConfig};
pub use checkpoint::{IGNORED_TENSORS, KeyMapping, key_table, load_checkpoint};
pub use config::BertConfig;
pub use embeddings::{BertEmbeddings, BertEmbeddingsConfig};
pub use layer::{BertLayer, BertLayerConfig};
pub use model::BertModel;
