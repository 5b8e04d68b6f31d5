//! SemanticKNN: the mean text embedding of the last few history items, then the
//! nearest items by cosine similarity.

use recdata::ItemId;
use serde::{Deserialize, Serialize};

use crate::drafter::filtered_search;
use rec_core::{Drafter, Query};
use crate::error::Result;
use rec_core::DraftFilter;
use crate::knn::{KnnConfig, KnnIndex};
use crate::table::EmbeddingTable;
use crate::topk::{Neighbor, normalize};

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

/// The SemanticKNN drafter. Item vectors are the L2-normalised text embeddings,
/// so inner product is cosine similarity; the query is the normalised mean of
/// the normalised embeddings of the last `window` known history items.
#[derive(Debug)]
pub struct SemanticKnn {
    config: SemanticKnnConfig,
    table: EmbeddingTable,
    index: KnnIndex,
}

impl SemanticKnn {
    /// A drafter over `items` with text embeddings `embeddings` (row-major).
    pub fn new(config: SemanticKnnConfig, items: &[ItemId], embeddings: &[f32]) -> Result<Self> {
        let mut d = Self { table: EmbeddingTable::new(config.knn.dim), index: KnnIndex::new(config.knn.clone())?, config };
        d.add_items(items, embeddings)?;
        Ok(d)
    }

    /// The index of item vectors.
    pub fn index(&self) -> &KnnIndex {
        &self.index
    }
}

impl Drafter for SemanticKnn {
    fn name(&self) -> &str {
        "semantic-knn"
    }

    fn dim(&self) -> usize {
        self.config.knn.dim
    }

    fn num_items(&self) -> usize {
        self.index.len()
    }

    fn embed_queries(&self, queries: &[Query<'_>]) -> Result<Vec<Vec<f32>>> {
        queries
            .iter()
            .enumerate()
            .map(|(q, query)| {
                let items = self.table.known_suffix(query.history, self.config.window, q)?;
                let mut v = vec![0.0f32; self.dim()];
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

    fn search(&self, vectors: &[Vec<f32>], filters: &[DraftFilter<'_>], n: usize) -> Result<Vec<Vec<Neighbor>>> {
        filtered_search(&self.index, vectors, filters, n, self.config.max_candidates)
    }

    fn add_items(&mut self, items: &[ItemId], embeddings: &[f32]) -> Result<()> {
        let d = self.dim();
        let mut rows = embeddings.to_vec();
        rows.chunks_exact_mut(d).for_each(normalize);
        // The index checks lengths and finiteness before changing anything.
        self.index.add(items, &rows)?;
        self.table.set(items, &rows)
    }
}
