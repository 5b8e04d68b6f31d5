//! [`KnnDrafter`]: a drafter is a query encoder plus a KNN index. The encoder
//! ([`QueryEncoder`]) says how a history becomes a vector and how an item's input
//! features become an index vector; the drafter owns the index, its filtered search
//! and the online addition of items. SemanticKNN, UniSRec and the SpecGR++ encoder
//! drafter differ only in their encoders.

use rec_core::{DraftFilter, Drafter, Plan, Query};
use recdata::ItemId;

use crate::error::{DrafterError, Result};
use crate::knn::{KnnConfig, KnnIndex, Keep};
use crate::topk::Neighbor;

/// How a KNN drafter embeds queries and items: everything a drafter needs beyond
/// the index. Vectors are unit-norm, so the index's inner product is the cosine.
pub trait QueryEncoder {
    /// A short name for logs and reports (the drafter's [`Drafter::name`]).
    fn name(&self) -> &str;

    /// Embeds each query (unit L2 norm), as [`Drafter::embed_queries`].
    fn embed_queries(&self, queries: &[Query<'_>]) -> Result<Vec<Vec<f32>>>;

    /// The index vectors (row-major) of `items` from their input features
    /// (`features`, row-major: text embeddings for SemanticKNN and UniSRec). Nothing
    /// changes yet: the index checks the vectors first.
    fn item_vectors(&self, items: &[ItemId], features: &[f32]) -> Result<Vec<f32>>;

    /// Called once the index holds `vectors` for `items`: an encoder that keeps
    /// per-item state (the text table a history is embedded from) records it here.
    /// The default keeps nothing.
    fn items_added(&mut self, _items: &[ItemId], _features: &[f32], _vectors: &[f32]) -> Result<()> {
        Ok(())
    }
}

/// A drafter made of a [`QueryEncoder`] and the [`KnnIndex`] of item vectors it
/// searches under each query's [`DraftFilter`].
#[derive(Debug)]
pub struct KnnDrafter<E> {
    encoder: E,
    index: KnnIndex,
    max_candidates: usize,
}

impl<E: QueryEncoder> KnnDrafter<E> {
    /// A drafter over `items` with input features `features` (row-major), indexed
    /// with `knn`; filters that allow at most `max_candidates` items are scored by
    /// enumerating them.
    pub fn with_encoder(
        encoder: E,
        knn: KnnConfig,
        max_candidates: usize,
        items: &[ItemId],
        features: &[f32],
    ) -> Result<Self> {
        let mut d = Self { encoder, index: KnnIndex::new(knn)?, max_candidates };
        d.add_items(items, features)?;
        Ok(d)
    }

    /// The query encoder.
    pub fn encoder(&self) -> &E {
        &self.encoder
    }

    /// The index of item vectors.
    pub fn index(&self) -> &KnnIndex {
        &self.index
    }
}

impl<E: QueryEncoder> Drafter for KnnDrafter<E> {
    fn name(&self) -> &str {
        self.encoder.name()
    }

    fn dim(&self) -> usize {
        self.index.dim()
    }

    fn num_items(&self) -> usize {
        self.index.len()
    }

    fn embed_queries(&self, queries: &[Query<'_>]) -> Result<Vec<Vec<f32>>> {
        self.encoder.embed_queries(queries)
    }

    fn search(&self, vectors: &[Vec<f32>], filters: &[DraftFilter<'_>], n: usize) -> Result<Vec<Vec<Neighbor>>> {
        filtered_search(&self.index, vectors, filters, n, self.max_candidates)
    }

    fn add_items(&mut self, items: &[ItemId], features: &[f32]) -> Result<()> {
        let vectors = self.encoder.item_vectors(items, features)?;
        // The index checks lengths and finiteness before changing anything.
        self.index.add(items, &vectors)?;
        self.encoder.items_added(items, features, &vectors)
    }
}

/// Searches `index` for each query under its filter: short candidate lists are
/// scored exactly, the rest share one predicate pass over the index.
pub fn filtered_search(
    index: &KnnIndex,
    vectors: &[Vec<f32>],
    filters: &[DraftFilter<'_>],
    n: usize,
    max_candidates: usize,
) -> Result<Vec<Vec<Neighbor>>> {
    if vectors.len() != filters.len() {
        return Err(DrafterError::BatchMismatch { queries: vectors.len(), filters: filters.len() });
    }
    let _span = tracing::debug_span!("draft_search", queries = vectors.len(), n).entered();
    let prepared: Vec<_> = filters.iter().map(DraftFilter::prepare).collect();
    let mut out: Vec<Vec<Neighbor>> = vec![Vec::new(); vectors.len()];
    let mut scan_queries: Vec<usize> = Vec::new();
    for (q, (v, f)) in vectors.iter().zip(&prepared).enumerate() {
        match f.plan(max_candidates) {
            Plan::Empty => {}
            Plan::Candidates(items) => out[q] = index.score_unique_candidates(v, &items, n)?,
            Plan::Predicate => scan_queries.push(q),
        }
    }
    if !scan_queries.is_empty() {
        let qs: Vec<&[f32]> = scan_queries.iter().map(|&q| vectors[q].as_slice()).collect();
        let preds: Vec<Box<dyn Fn(ItemId) -> bool + Sync + '_>> = scan_queries
            .iter()
            .map(|&q| {
                let f = &prepared[q];
                let pred: Box<dyn Fn(ItemId) -> bool + Sync> =
                    if f.is_trivial() { Box::new(|_| true) } else { Box::new(move |i| f.allows(i)) };
                pred
            })
            .collect();
        let refs: Vec<Keep<'_>> = preds.iter().map(|b| b.as_ref()).collect();
        for (q, res) in scan_queries.into_iter().zip(index.search_batch(&qs, &refs, n)?) {
            out[q] = res;
        }
    }
    Ok(out)
}
