//! A compact set of items: a bitset over dense [`ItemId`]s that also remembers
//! its size, so a filter can tell at once whether it is small enough to
//! enumerate.

use recdata::ItemId;

/// A set of items stored as a bitset. Inserting, removing and membership tests are
/// O(1); iteration is in increasing item order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemSet {
    words: Vec<u64>,
    len: usize,
}

impl ItemSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty set with room for items `0..capacity` without reallocating.
    pub fn with_capacity(capacity: usize) -> Self {
        Self { words: vec![0; capacity.div_ceil(64)], len: 0 }
    }

    /// The set of all items `0..n`.
    pub fn full(n: usize) -> Self {
        let mut words = vec![u64::MAX; n / 64];
        if !n.is_multiple_of(64) {
            words.push((1u64 << (n % 64)) - 1);
        }
        Self { words, len: n }
    }

    /// Adds an item; returns whether it was new.
    pub fn insert(&mut self, item: ItemId) -> bool {
        let (w, b) = (item.index() / 64, item.index() % 64);
        if w >= self.words.len() {
            self.words.resize(w + 1, 0);
        }
        let new = self.words[w] & (1 << b) == 0;
        self.words[w] |= 1 << b;
        self.len += usize::from(new);
        new
    }

    /// Removes an item; returns whether it was present.
    pub fn remove(&mut self, item: ItemId) -> bool {
        let (w, b) = (item.index() / 64, item.index() % 64);
        let Some(word) = self.words.get_mut(w) else { return false };
        let present = *word & (1 << b) != 0;
        *word &= !(1 << b);
        self.len -= usize::from(present);
        present
    }

    /// Whether the item is in the set.
    #[inline]
    pub fn contains(&self, item: ItemId) -> bool {
        self.contains_index(item.index())
    }

    /// Whether the item with dense index `i` is in the set.
    #[inline]
    pub fn contains_index(&self, i: usize) -> bool {
        self.words.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// The number of items in the set.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Removes every item.
    pub fn clear(&mut self) {
        self.words.iter_mut().for_each(|w| *w = 0);
        self.len = 0;
    }

    /// The items in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = ItemId> + '_ {
        self.words.iter().enumerate().flat_map(|(w, &word)| {
            let mut bits = word;
            std::iter::from_fn(move || {
                if bits == 0 {
                    return None;
                }
                let b = bits.trailing_zeros();
                bits &= bits - 1;
                Some(ItemId(w as u32 * 64 + b))
            })
        })
    }
}

impl FromIterator<ItemId> for ItemSet {
    fn from_iter<I: IntoIterator<Item = ItemId>>(iter: I) -> Self {
        let mut set = Self::new();
        iter.into_iter().for_each(|i| {
            set.insert(i);
        });
        set
    }
}

impl Extend<ItemId> for ItemSet {
    fn extend<I: IntoIterator<Item = ItemId>>(&mut self, iter: I) {
        iter.into_iter().for_each(|i| {
            self.insert(i);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_remove_iterate() {
        let mut s: ItemSet = [3, 64, 3, 130, 0].into_iter().map(ItemId).collect();
        assert_eq!(s.len(), 4);
        assert!(s.contains(ItemId(64)) && !s.contains(ItemId(65)) && !s.contains(ItemId(10_000)));
        assert!(s.remove(ItemId(3)) && !s.remove(ItemId(3)) && !s.remove(ItemId(99_999)));
        assert_eq!(s.iter().map(|i| i.0).collect::<Vec<_>>(), vec![0, 64, 130]);
        let full = ItemSet::full(70);
        assert_eq!((full.len(), full.iter().count()), (70, 70));
        assert!(full.contains(ItemId(69)) && !full.contains(ItemId(70)));
    }
}
