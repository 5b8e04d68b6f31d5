//! SemanticKNN: the mean text embedding of the last few history items, then the
//! nearest items by cosine similarity.

use recdata::ItemId;
use serde::{Deserialize, Serialize};

use rec_core::Query;

use crate::error::Result;
use crate::knn::KnnConfig;
use crate::knn_drafter::{KnnDrafter, QueryEncoder};
use crate::table::EmbeddingTable;
use crate::topk::normalize;

/// SemanticKNN settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SemanticKnnConfig {
    /// How many of the most recent known history items are averaged (paper: 5).
    pub window: usize,
    /// Filters that allow at most this many items are scored by enumerating them.
    pub max_candidates: usize,
    /// The index settings (its `dim` is the text-embedding dimension).
    pub knn: KnnConfig,
}

impl SemanticKnnConfig {
    /// The paper's settings for text embeddings of dimension `dim`.
    pub fn new(dim: usize) -> Self {
        Self { window: 5, max_candidates: 16_384, knn: KnnConfig::new(dim) }
    }
}

/// The SemanticKNN drafter: a [`KnnDrafter`] over [`MeanTextEncoder`]. Item vectors
/// are the L2-normalised text embeddings, so inner product is cosine similarity; the
/// query is the normalised mean of the normalised embeddings of the last `window`
/// known history items.
pub type SemanticKnn = KnnDrafter<MeanTextEncoder>;

impl SemanticKnn {
    /// A drafter over `items` with text embeddings `embeddings` (row-major).
    pub fn new(config: SemanticKnnConfig, items: &[ItemId], embeddings: &[f32]) -> Result<Self> {
        let encoder = MeanTextEncoder { window: config.window, table: EmbeddingTable::new(config.knn.dim) };
        Self::with_encoder(encoder, config.knn, config.max_candidates, items, embeddings)
    }
}

/// SemanticKNN's query encoder: the normalised mean of the (normalised) text
/// embeddings of the last `window` known history items.
#[derive(Debug)]
pub struct MeanTextEncoder {
    window: usize,
    table: EmbeddingTable,
}

impl QueryEncoder for MeanTextEncoder {
    fn name(&self) -> &str {
        "semantic-knn"
    }

    fn embed_queries(&self, queries: &[Query<'_>]) -> Result<Vec<Vec<f32>>> {
        queries
            .iter()
            .enumerate()
            .map(|(q, query)| {
                let items = self.table.known_suffix(query.history, self.window, q)?;
                let mut v = vec![0.0f32; self.table.dim()];
                for item in &items {
                    let row = self.table.get(*item).unwrap_or(&[]);
                    v.iter_mut().zip(row).for_each(|(a, b)| *a += b);
                }
                // The mean's direction is the sum's; only the direction matters for cosine.
                normalize(&mut v);
                Ok(v)
            })
            .collect()
    }

    fn item_vectors(&self, _items: &[ItemId], embeddings: &[f32]) -> Result<Vec<f32>> {
        let mut rows = embeddings.to_vec();
        rows.chunks_exact_mut(self.table.dim()).for_each(normalize);
        Ok(rows)
    }

    fn items_added(&mut self, items: &[ItemId], _embeddings: &[f32], vectors: &[f32]) -> Result<()> {
        self.table.set(items, vectors)
    }
}
