//! TIGER (beam search) and TIGER_C (TIGER with unseen items mixed in by code prefix).

use std::collections::HashSet;

use recdata::ItemId;

use crate::engine::Request;
use rec_core::{Result, SpecError};
use crate::space::{ItemSpace, Recommendation, Source};
use rec_core::Verifier;

/// TIGER: a beam search of width `beam_size` over all digits; the finished beams
/// that spell (allowed) items, best first, at most `k`. Scores are the beams'
/// log-probabilities over the number of digits.
///
/// With a constrained verifier every beam is an item, so `beam_size >= k` gives
/// exactly `k` results whenever there are that many items.
pub fn tiger<V: Verifier>(
    verifier: &V,
    space: &ItemSpace<'_>,
    requests: &[Request<'_>],
    k: usize,
    beam_size: usize,
) -> Result<Vec<Vec<Recommendation>>> {
    let _span = tracing::debug_span!("tiger", queries = requests.len()).entered();
    if requests.is_empty() {
        return Ok(Vec::new());
    }
    let n = verifier.num_digits();
    let histories: Vec<&[ItemId]> = requests.iter().map(|r| r.history).collect();
    let mut session = verifier.begin(&histories)?;
    let queries: Vec<usize> = (0..requests.len()).collect();
    let mut beams = Vec::new();
    for _ in 0..n {
        beams = verifier.beam_step(&mut session, &queries, beam_size.max(1))?;
    }
    if beams.len() != requests.len() {
        return Err(SpecError::VerifierShape {
            what: "verifier beam lists",
            got: beams.len(),
            expected: requests.len(),
        });
    }
    Ok(beams
        .iter()
        .zip(requests)
        .map(|(beams, request)| {
            let mut seen = HashSet::new();
            beams
                .iter()
                .filter(|b| b.codes.len() == n)
                .filter_map(|b| space.item_of(&b.codes).map(|item| (item, b.log_prob)))
                .filter(|&(item, _)| {
                    request.allowed.is_none_or(|a| a.contains(item)) && seen.insert(item)
                })
                .take(k)
                .map(|(item, lp)| Recommendation {
                    item,
                    score: lp / n as f32,
                    source: Source::Baseline,
                })
                .collect()
        })
        .collect())
}

/// TIGER_C (the paper's appendix, after Rajput et al. 2024): unseen items whose
/// code prefix (the semantic ID without the identification digit) matches an item
/// of TIGER's list, at most `epsilon * k` of them, placed after the first `k - x`
/// generated items.
///
/// Unseen items are taken in the order of the generated items they match, and in
/// item order within one prefix; each gets the score of the item it matched.
pub fn tiger_c(
    tiger_list: &[Recommendation],
    space: &ItemSpace<'_>,
    k: usize,
    epsilon: f64,
    allowed: Option<&rec_core::ItemSet>,
) -> Vec<Recommendation> {
    let max_unseen = ((epsilon.clamp(0.0, 1.0) * k as f64).floor() as usize).min(k);
    let levels = space.num_digits() - 1;
    let listed: HashSet<ItemId> = tiger_list.iter().map(|r| r.item).collect();
    let mut prefixes = HashSet::new();
    let mut unseen = Vec::new();
    for r in tiger_list {
        let codes = space.ids().codes(r.item.0);
        if !prefixes.insert(&codes[..levels]) {
            continue;
        }
        for &i in space.trie().items_with_prefix(&codes[..levels]) {
            let item = ItemId(i);
            if unseen.len() < max_unseen
                && !space.is_in_sample(item)
                && !listed.contains(&item)
                && allowed.is_none_or(|a| a.contains(item))
            {
                unseen.push(Recommendation {
                    item,
                    score: r.score,
                    source: Source::Baseline,
                });
            }
        }
    }
    let generated = tiger_list.len().min(k - unseen.len());
    tiger_list[..generated]
        .iter()
        .copied()
        .chain(unseen)
        .collect()
}
