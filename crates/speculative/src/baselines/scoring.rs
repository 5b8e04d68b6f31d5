//! TIGER by batch scoring (the paper's "BS" for subset ranking, Figure A2): every
//! allowed item is scored by the verifier, a fixed number of candidates per pass,
//! and the best K are kept.

use recdata::ItemId;

use super::ensemble::score_in_session;
use crate::engine::Request;
use rec_core::Result;
use crate::space::{ItemSpace, Recommendation, Source};
use rec_core::Verifier;

/// Ranks every item a request allows (its `allowed` subset, else the whole catalog)
/// by the verifier's length-normalised log-likelihood and returns the best `k`.
///
/// The histories are encoded once; candidates are scored `chunk` per query per
/// verifier pass, so time grows linearly with the subset size. With
/// `likelihood_adjustment` unseen items are scored without their identification
/// digit, as SpecGR scores them; without it every item is scored over all digits,
/// which ranks exactly as the sequence log-probability does. Ties keep item order.
pub fn batch_scoring<V: Verifier>(
    verifier: &V,
    space: &ItemSpace<'_>,
    requests: &[Request<'_>],
    k: usize,
    chunk: usize,
    likelihood_adjustment: bool,
) -> Result<Vec<Vec<Recommendation>>> {
    let _span = tracing::debug_span!("batch_scoring", queries = requests.len()).entered();
    if requests.is_empty() {
        return Ok(Vec::new());
    }
    let chunk = chunk.max(1);
    let candidates: Vec<Vec<ItemId>> = requests
        .iter()
        .map(|r| {
            (0..space.len())
                .map(|i| ItemId(i as u32))
                .filter(|&i| r.allowed.is_none_or(|a| a.contains(i)))
                .collect()
        })
        .collect();
    let histories: Vec<&[ItemId]> = requests.iter().map(|r| r.history).collect();
    let mut session = verifier.begin(&histories)?;
    let mut scores: Vec<Vec<f32>> = candidates
        .iter()
        .map(|c| Vec::with_capacity(c.len()))
        .collect();
    let passes = candidates
        .iter()
        .map(|c| c.len().div_ceil(chunk))
        .max()
        .unwrap_or(0);
    for pass in 0..passes {
        let part: Vec<Vec<ItemId>> = candidates
            .iter()
            .map(|list| list.iter().skip(pass * chunk).take(chunk).copied().collect())
            .collect();
        let scored = score_in_session(verifier, &mut session, space, &part, likelihood_adjustment)?;
        for (out, s) in scores.iter_mut().zip(scored) {
            out.extend(s);
        }
    }
    Ok(candidates
        .iter()
        .zip(&scores)
        .map(|(items, scores)| {
            let mut order: Vec<usize> = (0..items.len()).collect();
            order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
            order
                .into_iter()
                .take(k)
                .map(|i| Recommendation {
                    item: items[i],
                    score: scores[i],
                    source: Source::Baseline,
                })
                .collect()
        })
        .collect())
}
