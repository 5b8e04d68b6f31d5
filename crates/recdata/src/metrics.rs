//! Ranking metrics of the protocol: Recall@K and NDCG@K, overall and on the
//! in-sample and unseen subsets of examples.
//!
//! A hit is the target item at 1-based rank `r ≤ K` of a recommendation list;
//! NDCG@K with one relevant item is `1 / log2(r + 1)`. Both are averaged over
//! examples (an example whose target is missing from the list counts as zero).

use crate::item::ItemId;
use crate::split::{Example, Split};

/// Recall and NDCG at one cut-off, averaged over examples.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RankingMetrics {
    /// The cut-off K.
    pub k: usize,
    /// Share of examples whose target is in the top K.
    pub recall: f64,
    /// Mean of `1 / log2(rank + 1)` over examples with rank ≤ K (ranks from 1).
    pub ndcg: f64,
    /// Number of examples averaged over (absent in files written before it existed).
    #[serde(default)]
    pub examples: usize,
}

/// Recall and NDCG at `k` from 1-based ranks (`None`: not retrieved).
pub fn metrics_at(ranks: &[Option<usize>], k: usize) -> RankingMetrics {
    let n = ranks.len();
    let (hits, gain) = ranks
        .iter()
        .flatten()
        .filter(|&&r| r >= 1 && r <= k)
        .fold((0usize, 0.0f64), |(c, g), &r| (c + 1, g + 1.0 / ((r + 1) as f64).log2()));
    let denom = n.max(1) as f64;
    RankingMetrics { k, recall: hits as f64 / denom, ndcg: gain / denom, examples: n }
}

/// The 1-based rank of `target` in `list`, if present.
pub fn rank_of(list: &[ItemId], target: ItemId) -> Option<usize> {
    list.iter().position(|&i| i == target).map(|p| p + 1)
}

/// Which examples a metric is averaged over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Subset {
    /// Every example.
    Overall,
    /// Examples whose target is in-sample.
    InSample,
    /// Examples whose target is unseen (a new item).
    Unseen,
}

impl Subset {
    /// All three subsets, in report order.
    pub const ALL: [Subset; 3] = [Subset::Overall, Subset::InSample, Subset::Unseen];

    /// The subset's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Subset::Overall => "overall",
            Subset::InSample => "in-sample",
            Subset::Unseen => "unseen",
        }
    }
}

/// Metrics at each cut-off for each subset.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SubsetMetrics {
    /// `(subset, metrics at each K)`, in [`Subset::ALL`] order.
    pub subsets: Vec<(Subset, Vec<RankingMetrics>)>,
}

impl SubsetMetrics {
    /// Evaluates recommendation lists (one per example, best first) against the
    /// examples' targets, at each K in `ks`.
    pub fn evaluate(examples: &[Example], lists: &[Vec<ItemId>], split: &Split, ks: &[usize]) -> Self {
        assert_eq!(examples.len(), lists.len(), "one recommendation list per example");
        let mut ranks: [Vec<Option<usize>>; 3] = Default::default();
        for (e, list) in examples.iter().zip(lists) {
            let r = rank_of(list, e.target);
            ranks[0].push(r);
            let subset = if split.is_in_sample(e.target) { 1 } else { 2 };
            ranks[subset].push(r);
        }
        let subsets = Subset::ALL
            .iter()
            .zip(&ranks)
            .map(|(&s, r)| (s, ks.iter().map(|&k| metrics_at(r, k)).collect()))
            .collect();
        Self { subsets }
    }

    /// The metrics of one subset at one K.
    pub fn get(&self, subset: Subset, k: usize) -> Option<RankingMetrics> {
        self.subsets.iter().find(|(s, _)| *s == subset)?.1.iter().find(|m| m.k == k).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_metrics() {
        // Ranks 1, 3, miss, 11: recall@10 = 2/4; ndcg@10 = (1 + 1/log2(4)) / 4 = 0.375.
        let m = metrics_at(&[Some(1), Some(3), None, Some(11)], 10);
        assert!((m.recall - 0.5).abs() < 1e-12);
        assert!((m.ndcg - 0.375).abs() < 1e-12);
        assert_eq!(m.examples, 4);
        let m = metrics_at(&[Some(1), Some(3), None, Some(11)], 50);
        assert!((m.recall - 0.75).abs() < 1e-12);
        assert!((m.ndcg - (1.0 + 0.5 + 1.0 / 12f64.log2()) / 4.0).abs() < 1e-12);
        assert_eq!(metrics_at(&[], 10).recall, 0.0);
    }

    #[test]
    fn subsets_split_by_target() {
        let split = Split {
            train: vec![],
            valid: vec![],
            test: vec![],
            in_sample: vec![true, true, false],
            cutoffs_ms: None,
            stats: Default::default(),
        };
        let ex = |t: u32| Example { user: 0, history: vec![ItemId(0)], target: ItemId(t), timestamp_ms: 0 };
        let examples = [ex(1), ex(2), ex(2)];
        let lists = vec![vec![ItemId(1)], vec![ItemId(0), ItemId(2)], vec![ItemId(0)]];
        let m = SubsetMetrics::evaluate(&examples, &lists, &split, &[1, 2]);
        assert_eq!(m.get(Subset::InSample, 1).unwrap().recall, 1.0);
        assert_eq!(m.get(Subset::Unseen, 1).unwrap().recall, 0.0);
        assert_eq!(m.get(Subset::Unseen, 2).unwrap().recall, 0.5);
        assert!((m.get(Subset::Overall, 2).unwrap().recall - 2.0 / 3.0).abs() < 1e-12);
    }
}
