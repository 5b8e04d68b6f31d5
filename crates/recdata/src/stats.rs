//! Summary statistics of a dataset and its split (`specgr data stats`).

use crate::dataset::{Dataset, LoadReport};
use crate::split::{PartStats, Split};

/// Counts describing a dataset and its split.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DatasetStats {
    /// The dataset's name.
    pub name: String,
    /// Distinct users.
    pub users: usize,
    /// Distinct items that occur in interactions.
    pub items: usize,
    /// Interactions.
    pub interactions: usize,
    /// In-sample items (occurring before the validation cut-off).
    pub in_sample_items: usize,
    /// Unseen (new) items.
    pub unseen_items: usize,
    /// The chronological cut-offs (ms), when the split has them.
    pub cutoffs_ms: Option<(i64, i64)>,
    /// Train part.
    pub train: PartStats,
    /// Validation part.
    pub valid: PartStats,
    /// Test part.
    pub test: PartStats,
    /// What the loader counted.
    pub load: LoadReport,
}

impl DatasetStats {
    /// Computes the statistics.
    pub fn new(data: &Dataset, split: &Split) -> Self {
        let in_sample_items = split.num_in_sample();
        Self {
            name: data.name.clone(),
            users: data.num_users(),
            items: data.num_items(),
            interactions: data.interactions.len(),
            in_sample_items,
            unseen_items: data.num_items() - in_sample_items,
            cutoffs_ms: split.cutoffs_ms,
            train: split.stats[0],
            valid: split.stats[1],
            test: split.stats[2],
            load: data.report.clone(),
        }
    }

    /// A human-readable table.
    pub fn to_text(&self) -> String {
        let pct = |a: usize, b: usize| if b == 0 { 0.0 } else { 100.0 * a as f64 / b as f64 };
        let mut s = format!(
            "dataset {}\n  users {}  items {}  interactions {}\n  items in-sample {}  unseen {} ({:.1}%)\n",
            self.name,
            self.users,
            self.items,
            self.interactions,
            self.in_sample_items,
            self.unseen_items,
            pct(self.unseen_items, self.items)
        );
        if let Some((t1, t2)) = self.cutoffs_ms {
            s += &format!("  cut-offs: valid from {t1} ms, test from {t2} ms\n");
        }
        s += "  part    interactions  unseen-target        dropped(empty)  examples  unseen-target\n";
        for (name, p) in [("train", &self.train), ("valid", &self.valid), ("test", &self.test)] {
            s += &format!(
                "  {name:<6} {:>13} {:>8} ({:>5.1}%) {:>15} {:>9} {:>7} ({:>5.1}%)\n",
                p.interactions,
                p.unseen_interactions,
                pct(p.unseen_interactions, p.interactions),
                p.dropped_empty_history,
                p.examples,
                p.unseen_examples,
                pct(p.unseen_examples, p.examples)
            );
        }
        let l = &self.load;
        s += &format!(
            "  load: rows {}, skipped (unknown item) {}, duplicate user-item rows {}, items without text {}, unused catalog entries {}\n",
            l.rows_read, l.rows_skipped_unknown_item, l.duplicate_user_item_rows, l.items_without_text, l.catalog_items_unused
        );
        s
    }
}
