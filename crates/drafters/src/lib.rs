#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod encoder_drafter;
mod error;
mod knn;
mod knn_drafter;
mod popularity;
mod rng;
mod semantic_knn;
mod table;
mod topk;
pub mod unisrec;

pub use encoder_drafter::{EncoderDrafter, EncoderDrafterConfig, GivenVectors, PopularityPrior};
pub use error::{DrafterError, Result};
// The interface the loop sees, re-exported so that `drafters::Drafter` keeps working.
pub use rec_core::{DraftFilter, Drafter, ItemSet, PrefixFilter, PreparedFilter, Query};
pub use knn::{Keep, KnnConfig, KnnIndex};
pub use knn_drafter::{KnnDrafter, QueryEncoder, filtered_search};
pub use popularity::Popularity;
pub use semantic_knn::{MeanTextEncoder, SemanticKnn, SemanticKnnConfig};
pub use table::EmbeddingTable;
pub use topk::{Neighbor, dot, normalize};
pub use unisrec::{UniSRec, UniSRecConfig, UniSRecEncoder, UniSRecModel, UniSRecTrainConfig, train_unisrec};
