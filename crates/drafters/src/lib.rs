#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod drafter;
mod encoder_drafter;
mod error;
mod knn;
mod rng;
mod semantic_knn;
mod table;
mod topk;
pub mod unisrec;

pub use drafter::filtered_search;
pub use encoder_drafter::{EncoderDrafter, EncoderDrafterConfig};
pub use error::{DrafterError, Result};
// The interface the loop sees, re-exported so that `drafters::Drafter` keeps working.
pub use rec_core::{DraftFilter, Drafter, ItemSet, PrefixFilter, PreparedFilter, Query};
pub use knn::{Keep, KnnConfig, KnnIndex};
pub use semantic_knn::{SemanticKnn, SemanticKnnConfig};
pub use table::EmbeddingTable;
pub use topk::{Neighbor, dot, normalize};
pub use unisrec::{UniSRec, UniSRecConfig, UniSRecModel, UniSRecTrainConfig, train_unisrec};
