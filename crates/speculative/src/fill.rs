//! Turning a query's verified drafts and finished beams into its final list.

use recdata::ItemId;

use crate::config::Selection;
use crate::space::{Recommendation, Source};

/// A verified draft (or a finished beam offered as fill).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Candidate {
    pub item: ItemId,
    pub score: f32,
    pub accepted: bool,
}

/// Sorts best first by score; equal scores keep their order (stable sort).
fn by_score(list: &mut [Recommendation]) {
    list.sort_by(|a, b| b.score.total_cmp(&a.score));
}

/// The final list of one query.
///
/// `candidates` are its drafts in drafting order, `beams` its finished beams (not
/// drafted, deduplicated) best first. With at least `k` accepted drafts, `k` of them
/// are kept by `selection`. Otherwise all accepted drafts are kept and the list is
/// filled from the rejected drafts and the beams, best score first. With `rerank`
/// the list is ranked by score; without, accepted drafts come in drafting order,
/// then the fill.
pub(crate) fn assemble(
    candidates: &[Candidate],
    beams: &[Candidate],
    k: usize,
    selection: Selection,
    rerank: bool,
) -> Vec<Recommendation> {
    let rec = |c: &Candidate, source| Recommendation {
        item: c.item,
        score: c.score,
        source,
    };
    let accepted: Vec<Recommendation> = candidates
        .iter()
        .filter(|c| c.accepted)
        .map(|c| rec(c, Source::Accepted))
        .collect();
    let mut list = if accepted.len() >= k {
        match selection {
            Selection::DraftingOrder => accepted[..k].to_vec(),
            Selection::BestScore => {
                // Pick the best k by score, then restore drafting order so that
                // `rerank` alone decides the final order.
                let mut order: Vec<usize> = (0..accepted.len()).collect();
                order.sort_by(|&a, &b| {
                    accepted[b]
                        .score
                        .total_cmp(&accepted[a].score)
                        .then(a.cmp(&b))
                });
                order.truncate(k);
                order.sort_unstable();
                order.into_iter().map(|i| accepted[i]).collect()
            }
        }
    } else {
        let mut pool: Vec<Recommendation> = candidates
            .iter()
            .filter(|c| !c.accepted)
            .map(|c| rec(c, Source::Rejected))
            .chain(beams.iter().map(|c| rec(c, Source::Beam)))
            .collect();
        by_score(&mut pool);
        pool.truncate(k - accepted.len());
        accepted.into_iter().chain(pool).collect()
    };
    if rerank {
        by_score(&mut list);
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(item: u32, score: f32, accepted: bool) -> Candidate {
        Candidate {
            item: ItemId(item),
            score,
            accepted,
        }
    }

    fn items(list: &[Recommendation]) -> Vec<u32> {
        list.iter().map(|r| r.item.0).collect()
    }

    #[test]
    fn selection_and_fill_follow_their_rules() {
        let drafts = [
            c(1, -1.0, true),
            c(2, -3.0, false),
            c(3, -0.5, true),
            c(4, -0.8, true),
        ];
        let beams = [c(9, -2.0, false), c(8, -4.0, false)];
        // Enough accepted: best two by score vs the first two drafted.
        assert_eq!(
            items(&assemble(&drafts, &beams, 2, Selection::BestScore, true)),
            vec![3, 4]
        );
        assert_eq!(
            items(&assemble(
                &drafts,
                &beams,
                2,
                Selection::DraftingOrder,
                true
            )),
            vec![3, 1]
        );
        assert_eq!(
            items(&assemble(&drafts, &beams, 2, Selection::BestScore, false)),
            vec![3, 4]
        );
        assert_eq!(
            items(&assemble(
                &drafts,
                &beams,
                2,
                Selection::DraftingOrder,
                false
            )),
            vec![1, 3]
        );
        // Too few accepted: fill with the beam (-2) before the rejected draft (-3), then the last beam.
        let five = assemble(&drafts, &beams, 5, Selection::BestScore, true);
        assert_eq!(items(&five), vec![3, 4, 1, 9, 2]);
        assert_eq!(five[3].source, Source::Beam);
        assert_eq!(five[4].source, Source::Rejected);
        assert_eq!(
            items(&assemble(&drafts, &beams, 9, Selection::BestScore, false)),
            vec![1, 3, 4, 9, 2, 8]
        );
    }
}
