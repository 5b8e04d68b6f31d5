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
    /// Standard error of `recall` over the examples (the sample standard deviation of
    /// the per-example hit over √n); `None` with fewer than two examples and in files
    /// written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recall_se: Option<f64>,
    /// Standard error of `ndcg` over the examples, as `recall_se`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ndcg_se: Option<f64>,
}

impl RankingMetrics {
    /// Metrics without standard errors (as files written before they were recorded).
    pub fn new(k: usize, recall: f64, ndcg: f64, examples: usize) -> Self {
        Self { k, recall, ndcg, examples, recall_se: None, ndcg_se: None }
    }
}

/// The standard error of a mean of `n` values with sum `sum` and sum of squares
/// `sum_sq`: the sample standard deviation over √n; `None` for n < 2.
fn standard_error(sum: f64, sum_sq: f64, n: usize) -> Option<f64> {
    if n < 2 {
        return None;
    }
    let n = n as f64;
    let variance = ((sum_sq - sum * sum / n) / (n - 1.0)).max(0.0);
    Some((variance / n).sqrt())
}

/// Recall and NDCG at `k` from 1-based ranks (`None`: not retrieved).
pub fn metrics_at(ranks: &[Option<usize>], k: usize) -> RankingMetrics {
    let n = ranks.len();
    let (hits, gain, gain_sq) = ranks.iter().flatten().filter(|&&r| r >= 1 && r <= k).fold(
        (0usize, 0.0f64, 0.0f64),
        |(c, g, g2), &r| {
            let x = 1.0 / ((r + 1) as f64).log2();
            (c + 1, g + x, g2 + x * x)
        },
    );
    let denom = n.max(1) as f64;
    RankingMetrics {
        k,
        recall: hits as f64 / denom,
        ndcg: gain / denom,
        examples: n,
        // A hit is 0 or 1: its square is itself.
        recall_se: standard_error(hits as f64, hits as f64, n),
        ndcg_se: standard_error(gain, gain_sq, n),
    }
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

    /// Standard errors against a brute-force computation: the per-example values'
    /// sample standard deviation over √n.
    #[test]
    fn standard_errors_are_the_sample_deviation_over_root_n() {
        let ranks = [Some(1), Some(3), None, Some(11), Some(2)];
        let m = metrics_at(&ranks, 10);
        let se = |xs: &[f64]| {
            let n = xs.len() as f64;
            let mean = xs.iter().sum::<f64>() / n;
            (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0) / n).sqrt()
        };
        let gains = [1.0, 0.5, 0.0, 0.0, 1.0 / 3f64.log2()];
        assert!((m.recall_se.unwrap() - se(&[1.0, 1.0, 0.0, 0.0, 1.0])).abs() < 1e-12);
        assert!((m.ndcg_se.unwrap() - se(&gains)).abs() < 1e-12);
        assert_eq!(metrics_at(&[Some(1)], 10).recall_se, None, "one example has no spread");
        assert_eq!(metrics_at(&[Some(1), Some(1)], 10).recall_se, Some(0.0));
        // Files written before standard errors were recorded still read.
        let old: RankingMetrics = serde_json::from_str(r#"{"k":10,"recall":0.5,"ndcg":0.25,"examples":4}"#).unwrap();
        assert_eq!(old, RankingMetrics::new(10, 0.5, 0.25, 4));
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
