//! Search of a [`KnnIndex`] under per-query draft filters, shared by every KNN drafter.

use rec_core::{DraftFilter, Plan};
use recdata::ItemId;

use crate::error::{DrafterError, Result};
use crate::knn::{KnnIndex, Keep};
use crate::topk::Neighbor;

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
