//! The `Drafter` trait: the only view the speculative loop has of a drafter.

use recdata::ItemId;

use crate::error::{DrafterError, Result};
use crate::filter::{DraftFilter, Plan};
use crate::knn::{KnnIndex, Keep};
use crate::topk::Neighbor;

/// One drafting query: a user's history and, where the caller has one, a
/// precomputed query vector.
#[derive(Clone, Copy, Debug)]
pub struct Query<'a> {
    /// The history, oldest first.
    pub history: &'a [ItemId],
    /// A query vector in the drafter's item space, computed elsewhere (SpecGR++
    /// passes the GR encoder's projection here). Drafters that embed histories
    /// themselves ([`crate::SemanticKnn`], [`crate::UniSRec`]) ignore it.
    pub vector: Option<&'a [f32]>,
}

impl<'a> Query<'a> {
    /// A query from a history alone.
    pub fn new(history: &'a [ItemId]) -> Self {
        Self { history, vector: None }
    }

    /// The same query with a precomputed vector.
    pub fn with_vector(mut self, vector: &'a [f32]) -> Self {
        self.vector = Some(vector);
        self
    }
}

/// A drafter proposes candidate items for a batch of queries.
///
/// Drafting is split in two so that a multi-round loop embeds each query once:
/// [`Drafter::embed_queries`] maps queries to vectors, then [`Drafter::search`]
/// is called once per round with that round's filters. [`Drafter::draft`] does
/// both.
pub trait Drafter {
    /// A short name for logs and reports.
    fn name(&self) -> &str;

    /// The dimension of query and item vectors.
    fn dim(&self) -> usize;

    /// The number of draftable items.
    fn num_items(&self) -> usize;

    /// Embeds each query (unit L2 norm).
    ///
    /// # Errors
    /// [`DrafterError::UnknownHistory`] when a query's history holds no item the
    /// drafter knows; [`DrafterError::Dimension`] for a precomputed vector of the
    /// wrong size.
    fn embed_queries(&self, queries: &[Query<'_>]) -> Result<Vec<Vec<f32>>>;

    /// The top `n` items per query vector under that query's filter, best first,
    /// with their scores (cosine similarity). A filter that allows nothing gives
    /// an empty list.
    fn search(&self, vectors: &[Vec<f32>], filters: &[DraftFilter<'_>], n: usize) -> Result<Vec<Vec<Neighbor>>>;

    /// Embeds and searches in one call.
    fn draft(&self, queries: &[Query<'_>], filters: &[DraftFilter<'_>], n: usize) -> Result<Vec<Vec<Neighbor>>> {
        if queries.len() != filters.len() {
            return Err(DrafterError::BatchMismatch { queries: queries.len(), filters: filters.len() });
        }
        let vectors = self.embed_queries(queries)?;
        self.search(&vectors, filters, n)
    }

    /// Makes `items` draftable at once, without retraining. `embeddings` holds
    /// their input features row-major (text embeddings for SemanticKNN and
    /// UniSRec); an item already known is replaced.
    fn add_items(&mut self, items: &[ItemId], embeddings: &[f32]) -> Result<()>;
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
