//! Items and the catalog that names them.

use std::collections::HashMap;

/// A dense, 0-based item index.
///
/// Items are numbered by their first interaction in time order, so under a
/// chronological split the in-sample items are a prefix of the numbering and the
/// items that arrive later get the higher numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ItemId(pub u32);

impl ItemId {
    /// The index as a `usize`, for indexing slices.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl std::fmt::Display for ItemId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// The items of a dataset: their external keys (ASINs, ids) and their text.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    keys: Vec<String>,
    texts: Vec<String>,
    index: HashMap<String, ItemId>,
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an item and returns its id; an existing key returns its old id and keeps its text.
    pub fn push(&mut self, key: &str, text: String) -> ItemId {
        if let Some(&id) = self.index.get(key) {
            return id;
        }
        let id = ItemId(self.keys.len() as u32);
        self.keys.push(key.to_owned());
        self.texts.push(text);
        self.index.insert(key.to_owned(), id);
        id
    }

    /// The number of items.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the catalog has no items.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The id of the item with this external key.
    pub fn id(&self, key: &str) -> Option<ItemId> {
        self.index.get(key).copied()
    }

    /// The external key (ASIN, item id) of an item.
    pub fn key(&self, item: ItemId) -> &str {
        &self.keys[item.index()]
    }

    /// The cleaned text of an item (empty when the source had none).
    pub fn text(&self, item: ItemId) -> &str {
        &self.texts[item.index()]
    }

    /// All texts, in item order.
    pub fn texts(&self) -> &[String] {
        &self.texts
    }

    /// All keys, in item order.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// Every item id, in order.
    pub fn ids(&self) -> impl Iterator<Item = ItemId> + '_ {
        (0..self.keys.len() as u32).map(ItemId)
    }
}
