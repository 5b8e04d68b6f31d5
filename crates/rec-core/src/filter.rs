//! Per-query draft filters: subset ranking, guided re-drafting by semantic-ID
//! prefix, and exclusion of items already drafted.
//!
//! A filter is applied in one of two ways, chosen per query. When the allowed
//! items are few (a short allowed subset, or prefixes that cover few items in the
//! [`PrefixTrie`]) they are gathered and scored exactly, which costs time
//! proportional to their number. Otherwise the index is searched with the filter
//! as a predicate, tested only on items that would enter the top list.

use std::collections::HashSet;

use recdata::ItemId;
use semid::{PrefixTrie, SemanticIds};

use crate::item_set::ItemSet;

/// Guided re-drafting: keep only items whose semantic ID starts with one of
/// `prefixes` (codes as [`SemanticIds::codes`] returns them, not tokens).
#[derive(Clone, Copy, Debug)]
pub struct PrefixFilter<'a> {
    /// Every item's semantic ID.
    pub ids: &'a SemanticIds,
    /// The trie over `ids`, used to enumerate the items under a prefix.
    pub trie: &'a PrefixTrie,
    /// The allowed prefixes (for SpecGR, this query's current beam prefixes of
    /// length r). An empty list allows nothing.
    pub prefixes: &'a [Vec<u32>],
}

/// What a query may draft. The default allows every item in the index.
///
/// An empty `allowed` set or an empty prefix list yields an empty draft, not an
/// error: there is simply nothing to propose.
#[derive(Clone, Copy, Debug, Default)]
pub struct DraftFilter<'a> {
    /// Subset ranking: only these items (`None`: all items).
    pub allowed: Option<&'a ItemSet>,
    /// Guided re-drafting: only items under one of these prefixes.
    pub prefixes: Option<PrefixFilter<'a>>,
    /// Items already drafted for this query, never returned again.
    pub drafted: Option<&'a ItemSet>,
}

impl<'a> DraftFilter<'a> {
    /// A filter that allows every item.
    pub fn all() -> Self {
        Self::default()
    }

    /// Restricts drafting to `allowed`.
    pub fn allowed(mut self, allowed: &'a ItemSet) -> Self {
        self.allowed = Some(allowed);
        self
    }

    /// Restricts drafting to items under one of `prefixes`.
    pub fn prefixes(mut self, prefixes: PrefixFilter<'a>) -> Self {
        self.prefixes = Some(prefixes);
        self
    }

    /// Excludes the items in `drafted`.
    pub fn excluding(mut self, drafted: &'a ItemSet) -> Self {
        self.drafted = Some(drafted);
        self
    }

    /// Prepares the filter for many membership tests.
    pub fn prepare(&self) -> PreparedFilter<'a> {
        let prefixes = self.prefixes.map(|p| {
            let set: HashSet<&'a [u32]> = p.prefixes.iter().map(Vec::as_slice).collect();
            let mut lengths: Vec<usize> = set.iter().map(|s| s.len()).collect();
            lengths.sort_unstable();
            lengths.dedup();
            PreparedPrefixes { filter: p, set, lengths }
        });
        PreparedFilter { allowed: self.allowed, drafted: self.drafted, prefixes }
    }
}

#[derive(Debug)]
struct PreparedPrefixes<'a> {
    filter: PrefixFilter<'a>,
    set: HashSet<&'a [u32]>,
    lengths: Vec<usize>,
}

/// A [`DraftFilter`] ready for fast membership tests and candidate gathering.
#[derive(Debug)]
pub struct PreparedFilter<'a> {
    allowed: Option<&'a ItemSet>,
    drafted: Option<&'a ItemSet>,
    prefixes: Option<PreparedPrefixes<'a>>,
}

/// How a KNN drafter searches for one query (see [`PreparedFilter::plan`]).
#[derive(Debug)]
pub enum Plan {
    /// Nothing can pass the filter.
    Empty,
    /// Score exactly these items (deduplicated, all passing the filter).
    Candidates(Vec<ItemId>),
    /// Search the index with the filter as a predicate.
    Predicate,
}

impl PreparedFilter<'_> {
    /// Whether `item` passes every part of the filter.
    #[inline]
    pub fn allows(&self, item: ItemId) -> bool {
        self.allowed.is_none_or(|a| a.contains(item))
            && !self.drafted.is_some_and(|d| d.contains(item))
            && self.prefixes.as_ref().is_none_or(|p| {
                if item.index() >= p.filter.ids.len() {
                    return false;
                }
                let codes = p.filter.ids.codes(item.0);
                p.lengths.iter().any(|&l| l <= codes.len() && p.set.contains(&codes[..l]))
            })
    }

    /// Whether the filter lets everything through (no predicate is needed).
    pub fn is_trivial(&self) -> bool {
        self.allowed.is_none() && self.drafted.is_none_or(ItemSet::is_empty) && self.prefixes.is_none()
    }

    /// Chooses between gathering candidates (when at most `max_candidates` items
    /// can pass) and a predicate search.
    pub fn plan(&self, max_candidates: usize) -> Plan {
        if self.allowed.is_some_and(ItemSet::is_empty) || self.prefixes.as_ref().is_some_and(|p| p.set.is_empty()) {
            return Plan::Empty;
        }
        // Items under the prefixes, from the trie; prefixes that extend a shorter
        // allowed prefix are dropped so that no item is gathered twice.
        let trie_roots = self.prefixes.as_ref().map(|p| {
            let roots: Vec<&[u32]> =
                p.set.iter().copied().filter(|s| !(1..s.len()).any(|l| p.set.contains(&s[..l]))).collect();
            let total: usize = roots.iter().map(|s| p.filter.trie.items_with_prefix(s).len()).sum();
            (roots, p.filter.trie, total)
        });
        let trie_total = trie_roots.as_ref().map_or(usize::MAX, |t| t.2);
        let allowed_total = self.allowed.map_or(usize::MAX, ItemSet::len);
        let candidates: Vec<ItemId> = match trie_roots {
            Some((roots, trie, total)) if total <= max_candidates && total <= allowed_total => {
                // Disjoint prefixes give disjoint item lists; sorting the ids makes
                // the later row reads sequential.
                let mut items: Vec<ItemId> = roots
                    .iter()
                    .flat_map(|s| trie.items_with_prefix(s).iter().map(|&i| ItemId(i)))
                    .filter(|&i| self.allowed.is_none_or(|a| a.contains(i)) && !self.drafted.is_some_and(|d| d.contains(i)))
                    .collect();
                items.sort_unstable();
                items
            }
            _ if allowed_total <= max_candidates && allowed_total <= trie_total => {
                self.allowed.into_iter().flat_map(ItemSet::iter).filter(|&i| self.allows(i)).collect()
            }
            _ => return Plan::Predicate,
        };
        if candidates.is_empty() { Plan::Empty } else { Plan::Candidates(candidates) }
    }
}
