//! The ensembles of TIGER and a drafter that the paper's Table A5 compares SpecGR to.

use std::collections::HashMap;

use rec_core::{DraftFilter, Drafter, ItemSet, Query};
use recdata::ItemId;
use serde::{Deserialize, Serialize};

use super::tiger::tiger;
use crate::config::UnseenDigits;
use crate::engine::Request;
use rec_core::{Result, SpecError};
use crate::space::{ItemSpace, Recommendation, Source};
use rec_core::{Verifier, mean_log_prob};

/// How the two models' lists are combined.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Ensemble {
    /// `weight * TIGER score + (1 - weight) * drafter score` over the union of both
    /// lists; TIGER's score is the (length-adjusted) mean log-probability, the
    /// drafter's its similarity.
    Score {
        /// Weight of TIGER's score.
        weight: f32,
    },
    /// The mean of the item's positions in the two lists (an item missing from a
    /// list counts as one past its end); ties go to TIGER's order.
    Rank,
    /// The drafter's top K, re-ranked by TIGER's score.
    TwoStage,
}

/// Settings of an ensemble run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnsembleConfig {
    /// The combination rule.
    pub kind: Ensemble,
    /// Recommendations per query.
    pub k: usize,
    /// TIGER's beam size (its list holds up to this many items).
    pub beam_size: usize,
    /// Items taken from the drafter (for the 2-stage ensemble K are used).
    pub pool: usize,
    /// Score unseen items without their identification digit, as SpecGR does.
    pub likelihood_adjustment: bool,
}

/// Runs an ensemble for a batch of requests.
pub fn ensemble<V: Verifier>(
    verifier: &V,
    drafter: &dyn Drafter,
    space: &ItemSpace<'_>,
    requests: &[Request<'_>],
    config: &EnsembleConfig,
) -> Result<Vec<Vec<Recommendation>>> {
    let _span = tracing::debug_span!("ensemble", queries = requests.len()).entered();
    if requests.is_empty() {
        return Ok(Vec::new());
    }
    let queries: Vec<Query<'_>> = requests
        .iter()
        .map(|r| Query {
            history: r.history,
            vector: r.vector,
        })
        .collect();
    let vectors = drafter.embed_queries(&queries)?;
    let pool = if config.kind == Ensemble::TwoStage {
        config.k
    } else {
        config.pool
    };
    let filters: Vec<DraftFilter<'_>> = requests
        .iter()
        .map(|r| DraftFilter {
            allowed: r.allowed,
            ..DraftFilter::all()
        })
        .collect();
    let drafted = drafter.search(&vectors, &filters, pool)?;
    let generated = if config.kind == Ensemble::TwoStage {
        vec![Vec::new(); requests.len()]
    } else {
        tiger(
            verifier,
            space,
            requests,
            config.beam_size,
            config.beam_size,
        )?
    };
    // Every item of either list gets both scores.
    let unions: Vec<Vec<ItemId>> = drafted
        .iter()
        .zip(&generated)
        .map(|(d, g)| {
            let mut seen = ItemSet::new();
            g.iter()
                .map(|r| r.item)
                .chain(d.iter().map(|n| n.item))
                .filter(|&i| seen.insert(i))
                .collect()
        })
        .collect();
    let tiger_scores = verify_scores(
        verifier,
        space,
        requests,
        &unions,
        config.likelihood_adjustment,
    )?;
    let sets: Vec<ItemSet> = unions.iter().map(|u| u.iter().copied().collect()).collect();
    let union_filters: Vec<DraftFilter<'_>> =
        sets.iter().map(|s| DraftFilter::all().allowed(s)).collect();
    let drafter_scores: Vec<HashMap<ItemId, f32>> = drafter
        .search(
            &vectors,
            &union_filters,
            unions.iter().map(Vec::len).max().unwrap_or(0),
        )?
        .into_iter()
        .map(|list| list.into_iter().map(|n| (n.item, n.score)).collect())
        .collect();

    let mut out = Vec::with_capacity(requests.len());
    for q in 0..requests.len() {
        let union = &unions[q];
        let tiger_rank: HashMap<ItemId, usize> = generated[q]
            .iter()
            .enumerate()
            .map(|(r, x)| (x.item, r))
            .collect();
        let draft_rank: HashMap<ItemId, usize> = drafted[q]
            .iter()
            .enumerate()
            .map(|(r, n)| (n.item, r))
            .collect();
        let mut scored: Vec<(ItemId, f32, usize)> = union
            .iter()
            .enumerate()
            .map(|(pos, &item)| {
                let t = tiger_scores[q][pos];
                let score = match config.kind {
                    Ensemble::TwoStage => t,
                    Ensemble::Score { weight } => {
                        // Items the drafter cannot score get the lowest cosine similarity.
                        let d = drafter_scores[q].get(&item).copied().unwrap_or(-1.0);
                        weight * t + (1.0 - weight) * d
                    }
                    Ensemble::Rank => {
                        let a = tiger_rank.get(&item).copied().unwrap_or(generated[q].len());
                        let b = draft_rank.get(&item).copied().unwrap_or(drafted[q].len());
                        -((a + b) as f32) / 2.0
                    }
                };
                (item, score, pos)
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.2.cmp(&b.2)));
        scored.truncate(config.k);
        out.push(
            scored
                .into_iter()
                .map(|(item, score, _)| Recommendation {
                    item,
                    score,
                    source: Source::Baseline,
                })
                .collect(),
        );
    }
    Ok(out)
}

/// The verification score of every item in `items[q]` for query `q`, in one pass.
pub(crate) fn verify_scores<V: Verifier>(
    verifier: &V,
    space: &ItemSpace<'_>,
    requests: &[Request<'_>],
    items: &[Vec<ItemId>],
    adjust: bool,
) -> Result<Vec<Vec<f32>>> {
    let histories: Vec<&[ItemId]> = requests.iter().map(|r| r.history).collect();
    let mut session = verifier.begin(&histories)?;
    score_in_session(verifier, &mut session, space, items, adjust)
}

/// The verification score of every item in `items[q]` for query `q` of an open
/// session (one scoring pass; the histories are not encoded again).
pub(crate) fn score_in_session<V: Verifier>(
    verifier: &V,
    session: &mut V::Session,
    space: &ItemSpace<'_>,
    items: &[Vec<ItemId>],
    adjust: bool,
) -> Result<Vec<Vec<f32>>> {
    let queries: Vec<usize> = (0..items.len()).collect();
    let digits: Vec<Vec<usize>> = items
        .iter()
        .map(|list| {
            list.iter()
                .map(|&i| space.scored_digits(i, adjust, UnseenDigits::DropIdentification))
                .collect()
        })
        .collect();
    let mut codes: Vec<Vec<&[u32]>> = Vec::with_capacity(items.len());
    for (q, (list, d)) in items.iter().zip(&digits).enumerate() {
        codes.push(
            list.iter()
                .zip(d)
                .map(|(&i, &n)| Ok(&space.codes(i, q)?[..n]))
                .collect::<Result<_>>()?,
        );
    }
    if codes.iter().all(Vec::is_empty) {
        return Ok(vec![Vec::new(); items.len()]);
    }
    let log_probs = verifier.score(session, &queries, &codes)?;
    if log_probs.len() != items.len() {
        return Err(SpecError::VerifierShape {
            what: "verifier score lists",
            got: log_probs.len(),
            expected: items.len(),
        });
    }
    Ok(log_probs
        .iter()
        .zip(&digits)
        .map(|(lps, d)| {
            lps.iter()
                .zip(d)
                .map(|(lp, &n)| mean_log_prob(lp, n))
                .collect()
        })
        .collect())
}
