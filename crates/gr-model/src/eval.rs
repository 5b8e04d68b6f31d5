//! Ranking quality of constrained beam search: Recall@K and NDCG@K, used for
//! validation during training.

use burn::tensor::backend::Backend;
use semid::{PrefixTrie, SemanticIds};

use crate::{Constraint, Tiger, TigerError, TrainExample};

pub use recdata::metrics::{RankingMetrics, metrics_at};

/// The recommended items of each example: constrained beam search with `beam_size`
/// beams, best first (every beam is a catalog item).
pub fn recommend<B: Backend>(
    model: &Tiger<B>,
    ids: &SemanticIds,
    trie: &PrefixTrie,
    histories: &[&[u32]],
    beam_size: usize,
    device: &B::Device,
) -> Result<Vec<Vec<u32>>, TigerError> {
    let encoded = model.encode(histories, ids, device)?;
    let layout = ids.layout();
    let steps = model.beam_search(
        &encoded,
        layout,
        beam_size,
        layout.num_digits(),
        Constraint::Trie(trie),
    )?;
    let last = steps
        .last()
        .cloned()
        .unwrap_or_else(|| vec![Vec::new(); histories.len()]);
    Ok(last
        .into_iter()
        .map(|beams| beams.iter().filter_map(|b| ids.item_of(&b.codes)).collect())
        .collect())
}

/// Recall@K and NDCG@K for each K in `ks`, from constrained beam search with
/// `max(beam_size, max K)` beams, `batch_size` examples at a time.
#[allow(clippy::too_many_arguments)]
pub fn evaluate<B: Backend>(
    model: &Tiger<B>,
    ids: &SemanticIds,
    trie: &PrefixTrie,
    examples: &[TrainExample],
    ks: &[usize],
    beam_size: usize,
    batch_size: usize,
    device: &B::Device,
) -> Result<Vec<RankingMetrics>, TigerError> {
    let _span = tracing::debug_span!("tiger_evaluate", examples = examples.len()).entered();
    let beams = ks.iter().copied().max().unwrap_or(1).max(beam_size);
    let mut ranks = Vec::with_capacity(examples.len());
    for chunk in examples.chunks(batch_size.max(1)) {
        let histories: Vec<&[u32]> = chunk.iter().map(|e| e.history.as_slice()).collect();
        let lists = recommend(model, ids, trie, &histories, beams, device)?;
        for (ex, list) in chunk.iter().zip(lists) {
            ranks.push(list.iter().position(|&i| i == ex.target).map(|p| p + 1));
        }
    }
    Ok(ks.iter().map(|&k| metrics_at(&ranks, k)).collect())
}
