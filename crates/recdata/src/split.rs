//! Splitting interactions into train / valid / test examples.
//!
//! Every interaction is one example whose history is all of that user's earlier
//! items, crossing split boundaries, truncated to the last `max_history`;
//! examples with an empty history are dropped (and counted).

use crate::dataset::Dataset;
use crate::error::{DataError, Result};
use crate::item::ItemId;

fn default_max_history() -> usize {
    20
}

/// Where a chronological cut-off falls.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum CutOff {
    /// A fixed time, in milliseconds since the epoch: the later part starts here.
    TimestampMs(i64),
    /// A quantile of the interactions in time order: with `n` interactions the
    /// later part starts at the timestamp of interaction `⌊q·n⌋` (0-based), and
    /// every interaction at that timestamp or later belongs to it.
    Quantile(f64),
}

/// How to split a dataset.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum SplitConfig {
    /// Two fixed cut-offs t1 < t2: train before t1, valid in [t1, t2), test from t2.
    Chronological {
        /// Where validation starts (t1).
        valid: CutOff,
        /// Where test starts (t2).
        test: CutOff,
        /// The longest history kept (the most recent items).
        #[serde(default = "default_max_history")]
        max_history: usize,
    },
    /// Per user: the last interaction is test, the second-to-last valid, the rest
    /// train (the TIGER paper's protocol). Users with fewer than three
    /// interactions only train.
    LeaveOneOut {
        /// The longest history kept (the most recent items).
        #[serde(default = "default_max_history")]
        max_history: usize,
    },
}

impl SplitConfig {
    /// The 80/10/10 chronological split by interaction quantiles.
    pub fn quantiles(valid: f64, test: f64) -> Self {
        Self::Chronological {
            valid: CutOff::Quantile(valid),
            test: CutOff::Quantile(test),
            max_history: default_max_history(),
        }
    }

    /// The longest history kept.
    pub fn max_history(&self) -> usize {
        match self {
            Self::Chronological { max_history, .. } | Self::LeaveOneOut { max_history } => *max_history,
        }
    }
}

/// One prediction task: given a user's history, predict the target item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Example {
    /// The user's dense index.
    pub user: u32,
    /// The user's earlier items, oldest first, at most `max_history` of them.
    pub history: Vec<ItemId>,
    /// The item to predict.
    pub target: ItemId,
    /// When the target interaction happened (ms).
    pub timestamp_ms: i64,
}

/// Counts for one part of a split.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PartStats {
    /// Interactions that fall into this part.
    pub interactions: usize,
    /// Of those, how many target an unseen item (before dropping empty histories).
    pub unseen_interactions: usize,
    /// Interactions dropped because the user had no earlier item.
    pub dropped_empty_history: usize,
    /// Examples kept.
    pub examples: usize,
    /// Of those, how many target an unseen item.
    pub unseen_examples: usize,
}

/// The three parts of a split and the seen/unseen bookkeeping.
#[derive(Clone, Debug)]
pub struct Split {
    /// Training examples.
    pub train: Vec<Example>,
    /// Validation examples.
    pub valid: Vec<Example>,
    /// Test examples.
    pub test: Vec<Example>,
    /// Per item: whether it is in-sample (occurs in a training-period interaction,
    /// as a target or only as a user's first interaction).
    pub in_sample: Vec<bool>,
    /// The chronological cut-offs (t1, t2) in ms, when the split has them.
    pub cutoffs_ms: Option<(i64, i64)>,
    /// Counts per part: train, valid, test.
    pub stats: [PartStats; 3],
}

impl Split {
    /// Whether an item is in-sample.
    pub fn is_in_sample(&self, item: ItemId) -> bool {
        self.in_sample[item.index()]
    }

    /// The in-sample items, in order.
    pub fn in_sample_items(&self) -> Vec<ItemId> {
        (0..self.in_sample.len() as u32).map(ItemId).filter(|&i| self.is_in_sample(i)).collect()
    }

    /// The number of in-sample items.
    pub fn num_in_sample(&self) -> usize {
        self.in_sample.iter().filter(|&&b| b).count()
    }

    /// The number of in-sample items when they are a prefix of the item numbering
    /// (always so for a chronological split), else `None`.
    pub fn in_sample_prefix(&self) -> Option<usize> {
        let n = self.num_in_sample();
        self.in_sample[..n].iter().all(|&b| b).then_some(n)
    }
}

impl Dataset {
    /// Splits the interactions into examples.
    pub fn split(&self, config: &SplitConfig) -> Result<Split> {
        let max_history = config.max_history();
        if max_history == 0 {
            return Err(DataError::Config("max_history must be at least 1".into()));
        }
        // part[i] = 0 train, 1 valid, 2 test, for interaction i.
        let (part, cutoffs_ms) = match config {
            SplitConfig::Chronological { valid, test, .. } => {
                let t1 = self.cutoff(*valid)?;
                let t2 = self.cutoff(*test)?;
                if t1 > t2 {
                    return Err(DataError::Config(format!(
                        "the valid cut-off ({t1} ms) is after the test cut-off ({t2} ms)"
                    )));
                }
                let part = self
                    .interactions
                    .iter()
                    .map(|x| u8::from(x.timestamp_ms >= t1) + u8::from(x.timestamp_ms >= t2))
                    .collect::<Vec<u8>>();
                (part, Some((t1, t2)))
            }
            SplitConfig::LeaveOneOut { .. } => {
                let mut part = vec![0u8; self.interactions.len()];
                for seq in self.user_sequences() {
                    if seq.len() >= 3 {
                        part[seq[seq.len() - 1] as usize] = 2;
                        part[seq[seq.len() - 2] as usize] = 1;
                    }
                }
                (part, None)
            }
        };

        let mut in_sample = vec![false; self.num_items()];
        for (x, &p) in self.interactions.iter().zip(&part) {
            if p == 0 {
                in_sample[x.item.index()] = true;
            }
        }

        let mut parts: [Vec<Example>; 3] = Default::default();
        let mut stats = [PartStats::default(); 3];
        let mut histories: Vec<Vec<ItemId>> = vec![Vec::new(); self.num_users()];
        for (x, &p) in self.interactions.iter().zip(&part) {
            let s = &mut stats[p as usize];
            let unseen = !in_sample[x.item.index()];
            s.interactions += 1;
            s.unseen_interactions += usize::from(unseen);
            let h = &mut histories[x.user as usize];
            if h.is_empty() {
                s.dropped_empty_history += 1;
            } else {
                s.examples += 1;
                s.unseen_examples += usize::from(unseen);
                let start = h.len().saturating_sub(max_history);
                parts[p as usize].push(Example {
                    user: x.user,
                    history: h[start..].to_vec(),
                    target: x.item,
                    timestamp_ms: x.timestamp_ms,
                });
            }
            h.push(x.item);
            // Keep the buffer bounded: only the last `max_history` items are ever read.
            if h.len() >= 4 * max_history {
                h.drain(..h.len() - max_history);
            }
        }
        let [train, valid, test] = parts;
        if train.is_empty() {
            return Err(DataError::EmptyTrainSplit {
                dataset: self.name.clone(),
                reason: self.why_no_training_examples(config, cutoffs_ms, &stats[0]),
            });
        }
        for (name, part) in [("validation", &valid), ("test", &test)] {
            if part.is_empty() {
                tracing::warn!(dataset = %self.name, "the {name} split is empty: nothing to evaluate on it");
            }
        }
        Ok(Split { train, valid, test, in_sample, cutoffs_ms, stats })
    }

    /// Says, in the data's terms, why a split left no training examples.
    fn why_no_training_examples(&self, config: &SplitConfig, cutoffs_ms: Option<(i64, i64)>, train: &PartStats) -> String {
        let n = self.interactions.len();
        let first = self.interactions.first().map_or(0, |x| x.timestamp_ms);
        let constant = self.interactions.iter().all(|x| x.timestamp_ms == first);
        match (config, cutoffs_ms) {
            (SplitConfig::Chronological { .. }, Some((t1, _))) if constant && n > 1 => format!(
                "all {n} interactions have the same timestamp ({first} ms), so the cut-off t1 = {t1} ms puts every \
                 one of them in the validation or test part; the timestamp column is probably constant or was \
                 filled in. Give the interactions their real times, or split leave-one-out \
                 ([split] kind = \"leave-one-out\" in the manifest)"
            ),
            (SplitConfig::Chronological { .. }, Some((t1, _))) if train.interactions == 0 => format!(
                "none of the {n} interactions is before the valid cut-off t1 = {t1} ms (the earliest is at {first} ms); \
                 move the cut-off later"
            ),
            (SplitConfig::Chronological { .. }, Some((t1, _))) => format!(
                "the {} interactions before the valid cut-off t1 = {t1} ms are all users' first interactions, which \
                 have no history to predict from; move the cut-off later",
                train.interactions
            ),
            _ => format!(
                "none of the {} users has a training interaction after an earlier one of theirs (leave-one-out keeps \
                 each user's last two interactions for validation and test), so no training example has a history",
                self.num_users()
            ),
        }
    }

    /// The timestamp (ms) a cut-off stands for.
    pub fn cutoff(&self, cutoff: CutOff) -> Result<i64> {
        match cutoff {
            CutOff::TimestampMs(t) => Ok(t),
            CutOff::Quantile(q) => {
                if !(0.0..=1.0).contains(&q) || q.is_nan() {
                    return Err(DataError::Config(format!("quantile {q} is outside [0, 1]")));
                }
                let n = self.interactions.len();
                if n == 0 {
                    return Err(DataError::Config("the dataset has no interactions".into()));
                }
                // Interactions are sorted by time, so the ⌊q·n⌋-th is the quantile.
                let idx = ((q * n as f64).floor() as usize).min(n - 1);
                Ok(self.interactions[idx].timestamp_ms)
            }
        }
    }
}
