#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod drafter;
mod encoder_drafter;
mod error;
mod filter;
mod item_set;
mod knn;
mod rng;
mod semantic_knn;
mod table;
mod topk;
pub mod unisrec;

pub use drafter::{Drafter, Query, filtered_search};
pub use encoder_drafter::{EncoderDrafter, EncoderDrafterConfig};
pub use error::{DrafterError, Result};
pub use filter::{DraftFilter, PrefixFilter, PreparedFilter};
pub use item_set::ItemSet;
pub use knn::{Keep, KnnConfig, KnnIndex};
pub use semantic_knn::{SemanticKnn, SemanticKnnConfig};
pub use table::EmbeddingTable;
pub use topk::{Neighbor, dot, normalize};
pub use unisrec::{UniSRec, UniSRecConfig, UniSRecModel, UniSRecTrainConfig, train_unisrec};
