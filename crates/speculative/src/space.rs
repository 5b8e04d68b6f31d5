//! [`ItemSpace`]: the items the loop can recommend — their semantic IDs, a prefix
//! trie over them, and which of them are in-sample.

use rec_core::ItemSet;
use recdata::ItemId;
use semid::{PrefixTrie, SemanticIds};
use serde::{Deserialize, Serialize};

use crate::config::UnseenDigits;
use rec_core::{Result, SpecError};

/// Semantic IDs of all items, the trie over them, and the in-sample set.
#[derive(Debug, Clone)]
pub struct ItemSpace<'a> {
    ids: &'a SemanticIds,
    trie: PrefixTrie,
    in_sample: ItemSet,
    in_sample_trie: PrefixTrie,
}

impl<'a> ItemSpace<'a> {
    /// The space of every item in `ids`; `in_sample` names the items seen in training.
    pub fn new(ids: &'a SemanticIds, in_sample: &ItemSet) -> Self {
        let in_sample_trie = PrefixTrie::build(
            ids.num_digits(),
            in_sample
                .iter()
                .filter(|i| i.index() < ids.len())
                .map(|i| (i.0, ids.codes(i.0))),
        )
        .expect("every row of a SemanticIds table has num_digits digits");
        Self {
            ids,
            trie: PrefixTrie::from_ids(ids),
            in_sample: in_sample.clone(),
            in_sample_trie,
        }
    }

    /// The same space without `removed`: neither trie spells them any more (so
    /// constrained beams never end on them) and they are no longer in-sample. Their
    /// semantic IDs stay, so no other item's ID or number changes.
    pub fn without(mut self, removed: &ItemSet) -> Self {
        if removed.is_empty() {
            return self;
        }
        let live: ItemSet = (0..self.ids.len() as u32).map(ItemId).filter(|&i| !removed.contains(i)).collect();
        self.trie = self.subset_trie(&live);
        self.in_sample = self.in_sample.iter().filter(|&i| !removed.contains(i)).collect();
        self.in_sample_trie = self.subset_trie(&self.in_sample);
        self
    }

    /// The semantic IDs.
    pub fn ids(&self) -> &'a SemanticIds {
        self.ids
    }

    /// The prefix trie over all items.
    pub fn trie(&self) -> &PrefixTrie {
        &self.trie
    }

    /// A trie over the items of `subset` only, to constrain a query's beams in
    /// subset ranking (pass one per query as `Constraint::PerQuery`).
    pub fn subset_trie(&self, subset: &ItemSet) -> PrefixTrie {
        PrefixTrie::build(
            self.num_digits(),
            subset
                .iter()
                .filter(|i| i.index() < self.ids.len())
                .map(|i| (i.0, self.ids.codes(i.0))),
        )
        .expect("every row of a SemanticIds table has num_digits digits")
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Digits per semantic ID.
    pub fn num_digits(&self) -> usize {
        self.ids.num_digits()
    }

    /// Whether `item` was seen in training.
    pub fn is_in_sample(&self, item: ItemId) -> bool {
        self.in_sample.contains(item)
    }

    /// All digits of `item`, or an error naming `query` when it has no semantic ID.
    pub fn codes(&self, item: ItemId, query: usize) -> Result<&'a [u32]> {
        if item.index() >= self.ids.len() {
            return Err(SpecError::UnknownItem {
                query,
                item: item.0,
                num_items: self.ids.len(),
            });
        }
        Ok(self.ids.codes(item.0))
    }

    /// The item a full code sequence spells, if any.
    pub fn item_of(&self, codes: &[u32]) -> Option<ItemId> {
        self.ids.item_of(codes).map(ItemId)
    }

    /// How many leading digits of `item` count in its verification score.
    ///
    /// In-sample items, and every item when `adjust` is off, count all digits.
    pub fn scored_digits(&self, item: ItemId, adjust: bool, rule: UnseenDigits) -> usize {
        let all = self.num_digits();
        if !adjust || self.is_in_sample(item) || item.index() >= self.ids.len() {
            return all;
        }
        let levels = all - 1;
        match rule {
            UnseenDigits::DropIdentification => levels.max(1),
            UnseenDigits::SharedPrefix { min } => {
                let codes = self.ids.codes(item.0);
                let shared = self.in_sample_trie.shared_prefix_len(&codes[..levels]);
                shared.clamp(min.min(levels).max(1), levels.max(1))
            }
        }
    }
}

/// Where a recommendation came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    /// A drafted item the verifier accepted.
    Accepted,
    /// A drafted item below the threshold, used to fill the list.
    Rejected,
    /// A finished beam, used to fill the list.
    Beam,
    /// A baseline's own list (TIGER, TIGER_C, an ensemble).
    Baseline,
}

/// One recommended item.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// The item.
    pub item: ItemId,
    /// Its score: the verification score for drafts, the beam's log-probability
    /// divided by the number of digits for beams, a baseline's own score otherwise.
    pub score: f32,
    /// Where it came from.
    pub source: Source,
}
