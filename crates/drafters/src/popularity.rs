//! [`Popularity`]: items ranked by how often they were interacted with in a time
//! window, the same list for every user ("MostPop"). Not one of the paper's methods:
//! the simple baseline that says how much of a split is explained by what was
//! popular lately, with no personalisation at all.

use rec_core::ItemSet;
use recdata::ItemId;

/// Items ranked by their interaction count within a window, most frequent first
/// (ties by item number). Items without an interaction in the window are not ranked.
#[derive(Debug, Clone, PartialEq)]
pub struct Popularity {
    /// `(item, count)`, best first.
    ranked: Vec<(ItemId, f32)>,
}

impl Popularity {
    /// Counts the interactions `(item, time in ms)` that fall in `[from_ms, until_ms)`.
    pub fn count(interactions: impl IntoIterator<Item = (ItemId, i64)>, from_ms: i64, until_ms: i64) -> Self {
        let mut counts: Vec<u32> = Vec::new();
        for (item, t) in interactions {
            if (from_ms..until_ms).contains(&t) {
                let i = item.index();
                if i >= counts.len() {
                    counts.resize(i + 1, 0);
                }
                counts[i] += 1;
            }
        }
        let mut ranked: Vec<(ItemId, u32)> = counts
            .iter()
            .enumerate()
            .filter(|&(_, &c)| c > 0)
            .map(|(i, &c)| (ItemId(i as u32), c))
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        Self { ranked: ranked.into_iter().map(|(i, c)| (i, c as f32)).collect() }
    }

    /// The number of ranked items (those with at least one interaction in the window).
    pub fn len(&self) -> usize {
        self.ranked.len()
    }

    /// Whether no item was interacted with in the window.
    pub fn is_empty(&self) -> bool {
        self.ranked.is_empty()
    }

    /// The `k` most popular items (of `allowed`, when given) with their counts, best
    /// first; fewer when fewer are ranked.
    pub fn top(&self, k: usize, allowed: Option<&ItemSet>) -> Vec<(ItemId, f32)> {
        self.ranked
            .iter()
            .filter(|(item, _)| allowed.is_none_or(|a| a.contains(*item)))
            .take(k)
            .copied()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts within the window only, most frequent first, ties by item number,
    /// items without an interaction in the window left out; checked against a
    /// brute-force count of every item.
    #[test]
    fn ranks_the_window_s_counts() {
        let events: Vec<(ItemId, i64)> = [(3, 10), (1, 11), (3, 12), (2, 13), (1, 14), (5, 5), (5, 30), (4, 29), (0, 20)]
            .iter()
            .map(|&(i, t)| (ItemId(i), t))
            .collect();
        let pop = Popularity::count(events.iter().copied(), 10, 30);
        // In [10, 30): item 3 twice, 1 twice, 2, 0 and 4 once; 5 only outside.
        assert_eq!(
            pop.top(10, None),
            vec![(ItemId(1), 2.0), (ItemId(3), 2.0), (ItemId(0), 1.0), (ItemId(2), 1.0), (ItemId(4), 1.0)]
        );
        assert_eq!(pop.len(), 5);
        for (item, count) in pop.top(10, None) {
            let brute = events.iter().filter(|&&(i, t)| i == item && (10..30).contains(&t)).count();
            assert_eq!(count, brute as f32, "{item:?}");
        }
        assert_eq!(pop.top(2, None), vec![(ItemId(1), 2.0), (ItemId(3), 2.0)]);
        let allowed: ItemSet = [ItemId(3), ItemId(4), ItemId(5)].into_iter().collect();
        assert_eq!(pop.top(10, Some(&allowed)), vec![(ItemId(3), 2.0), (ItemId(4), 1.0)], "5 has no count in the window");
        assert!(Popularity::count(events, 100, 200).is_empty());
    }
}
