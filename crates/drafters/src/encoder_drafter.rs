//! The SpecGR++ drafter: the generative recommender's own encoder drafts.
//!
//! Item vectors are the GR encoder's projections of single items
//! (`[BOS d1 .. dn EOS]` through the encoder, mean-pooled, projected, normalised;
//! `gr_model::SpecGrPp::embed_all_items`), unseen items included. A query's vector is
//! the projection of the history's encoder states that the verifier computed anyway
//! ([`Query::vector`], filled by the speculative loop from
//! `gr_model::TigerVerifier::with_query_embedding` or `Request::vector`), so
//! drafting costs no second encoder pass. This crate holds no model: the vectors
//! come in ready-made.

use recdata::ItemId;
use serde::{Deserialize, Serialize};

use crate::drafter::filtered_search;
use rec_core::{Drafter, Query};
use crate::error::{DrafterError, Result, check_vector};
use rec_core::DraftFilter;
use crate::knn::{KnnConfig, KnnIndex};
use crate::topk::{Neighbor, normalize};

/// Encoder-drafter settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EncoderDrafterConfig {
    /// Filters that allow at most this many items are scored by enumerating them.
    pub max_candidates: usize,
    /// The index settings (its `dim` is the projection head's width).
    pub knn: KnnConfig,
}

impl EncoderDrafterConfig {
    /// Defaults for vectors of dimension `dim` (the projection width, reference 128).
    pub fn new(dim: usize) -> Self {
        Self { max_candidates: 16_384, knn: KnnConfig::new(dim) }
    }
}

/// A KNN drafter over the GR encoder's item vectors, queried with the GR encoder's
/// history vectors. Scores are cosine similarities.
#[derive(Debug)]
pub struct EncoderDrafter {
    config: EncoderDrafterConfig,
    index: KnnIndex,
}

impl EncoderDrafter {
    /// A drafter over `items` with encoder item vectors `vectors` (row-major,
    /// `items.len() * dim` floats; normalised here).
    pub fn new(config: EncoderDrafterConfig, items: &[ItemId], vectors: &[f32]) -> Result<Self> {
        let mut d = Self { index: KnnIndex::new(config.knn.clone())?, config };
        d.add_items(items, vectors)?;
        Ok(d)
    }

    /// The index of item vectors.
    pub fn index(&self) -> &KnnIndex {
        &self.index
    }
}

impl Drafter for EncoderDrafter {
    fn name(&self) -> &str {
        "gr-encoder"
    }

    fn dim(&self) -> usize {
        self.config.knn.dim
    }

    fn num_items(&self) -> usize {
        self.index.len()
    }

    /// Normalises each query's precomputed vector.
    ///
    /// # Errors
    /// [`DrafterError::MissingQueryVector`] when a query has no vector: this drafter
    /// cannot embed a history itself.
    fn embed_queries(&self, queries: &[Query<'_>]) -> Result<Vec<Vec<f32>>> {
        queries
            .iter()
            .enumerate()
            .map(|(q, query)| {
                let v = query.vector.ok_or(DrafterError::MissingQueryVector { query: q, drafter: "gr-encoder" })?;
                check_vector(|| format!("query {q} vector"), v, self.dim())?;
                let mut v = v.to_vec();
                normalize(&mut v);
                Ok(v)
            })
            .collect()
    }

    fn search(&self, vectors: &[Vec<f32>], filters: &[DraftFilter<'_>], n: usize) -> Result<Vec<Vec<Neighbor>>> {
        filtered_search(&self.index, vectors, filters, n, self.config.max_candidates)
    }

    /// `embeddings` are the items' encoder vectors (not text embeddings): embed new
    /// items' semantic IDs with the same model's projection head first.
    fn add_items(&mut self, items: &[ItemId], embeddings: &[f32]) -> Result<()> {
        let d = self.dim();
        if embeddings.len() != items.len() * d {
            return Err(DrafterError::BufferLength {
                what: "EncoderDrafter::add_items vectors".into(),
                got: embeddings.len(),
                items: items.len(),
                dim: d,
            });
        }
        let mut rows = embeddings.to_vec();
        rows.chunks_exact_mut(d).for_each(normalize);
        self.index.add(items, &rows)
    }
}
