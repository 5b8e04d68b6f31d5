//! A loaded dataset: a catalog of items with text and time-ordered interactions.

use std::collections::{HashMap, HashSet};

use crate::item::{Catalog, ItemId};

/// One interaction: a user consumed an item at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interaction {
    /// The user's dense index (0-based, by first interaction).
    pub user: u32,
    /// The item.
    pub item: ItemId,
    /// The time, in milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
}

/// Counts of what the loader saw, kept, skipped and repaired.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LoadReport {
    /// Interaction rows read from the files.
    pub rows_read: usize,
    /// Rows skipped because their item (or a history item) is not in the catalog.
    pub rows_skipped_unknown_item: usize,
    /// Distinct unknown item keys behind those skips.
    pub unknown_items: usize,
    /// Rows whose (user, item) pair occurred earlier too; they are kept.
    pub duplicate_user_item_rows: usize,
    /// Items that interactions use but whose text is empty; they are kept with empty text.
    pub items_without_text: usize,
    /// Catalog entries that no interaction uses; they are dropped.
    pub catalog_items_unused: usize,
}

/// A catalog of items with text and the time-ordered interactions over it.
///
/// Interactions are sorted by time with a stable sort, so equal timestamps keep
/// file order; users and items are numbered by their first interaction.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// The dataset's name (`beauty-2014`, `synthetic`, ...).
    pub name: String,
    /// The items that occur in interactions, numbered by first interaction.
    pub catalog: Catalog,
    /// User keys, indexed by the dense user index.
    pub users: Vec<String>,
    /// Interactions sorted by time (stable).
    pub interactions: Vec<Interaction>,
    /// What the loader counted.
    pub report: LoadReport,
}

/// A raw interaction as a format reads it from its files: keys, not indices. A
/// format of one's own yields these and builds its dataset with
/// [`Dataset::from_raw`] (`docs/extending.md`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawInteraction {
    /// The user's key, as the files spell it.
    pub user: String,
    /// The item's key, as the files spell it.
    pub item: String,
    /// The time, in milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
}

/// Turns raw interactions and item texts into a [`Dataset`].
///
/// `texts` maps item keys to cleaned text; every interaction's item must be in it
/// (the format loaders check this and apply the missing-item policy first).
pub(crate) fn build(
    name: &str,
    mut raw: Vec<RawInteraction>,
    texts: &mut HashMap<String, String>,
    mut report: LoadReport,
) -> Dataset {
    // Stable: equal timestamps keep file order.
    raw.sort_by_key(|r| r.timestamp_ms);
    let mut catalog = Catalog::new();
    let mut user_index: HashMap<String, u32> = HashMap::new();
    let mut users = Vec::new();
    let mut seen_pairs: HashSet<(u32, ItemId)> = HashSet::with_capacity(raw.len());
    let mut interactions = Vec::with_capacity(raw.len());
    for r in raw {
        let user = *user_index.entry(r.user).or_insert_with_key(|key| {
            users.push(key.clone());
            users.len() as u32 - 1
        });
        let item = match catalog.id(&r.item) {
            Some(id) => id,
            None => {
                let text = texts.remove(&r.item).unwrap_or_default();
                if text.is_empty() {
                    report.items_without_text += 1;
                }
                catalog.push(&r.item, text)
            }
        };
        if !seen_pairs.insert((user, item)) {
            report.duplicate_user_item_rows += 1;
        }
        interactions.push(Interaction { user, item, timestamp_ms: r.timestamp_ms });
    }
    report.catalog_items_unused = texts.len();
    if report.items_without_text > 0 {
        tracing::warn!(
            dataset = name,
            count = report.items_without_text,
            "items without text are kept with empty text"
        );
    }
    if report.duplicate_user_item_rows > 0 {
        tracing::info!(dataset = name, count = report.duplicate_user_item_rows, "duplicate user-item rows kept");
    }
    Dataset { name: name.to_owned(), catalog, users, interactions, report }
}

impl Dataset {
    /// Builds a dataset from raw interactions and item texts (item key → text), as
    /// every shipped format does once it has read its files: interactions are sorted
    /// by time (stably, so equal times keep their order), and users and items are
    /// numbered by their first interaction.
    ///
    /// An item with no text (absent from `texts`, or empty) is kept with empty text and
    /// counted in [`LoadReport::items_without_text`]; texts of items that no
    /// interaction uses are dropped and counted in
    /// [`LoadReport::catalog_items_unused`]. A format that must refuse such data (or
    /// skip rows by a policy, as [`MissingItemPolicy`](crate::MissingItemPolicy) does)
    /// does so before calling this.
    pub fn from_raw(name: &str, raw: Vec<RawInteraction>, mut texts: HashMap<String, String>) -> Dataset {
        let report = LoadReport { rows_read: raw.len(), ..LoadReport::default() };
        build(name, raw, &mut texts, report)
    }

    /// The number of users.
    pub fn num_users(&self) -> usize {
        self.users.len()
    }

    /// The number of items.
    pub fn num_items(&self) -> usize {
        self.catalog.len()
    }

    /// The SHA-256 (hex) of the dataset's content: every interaction (user index,
    /// item key, time) in order, and every item's key and text. Artifacts made from a
    /// dataset record it, so that one made from another dataset of the same name (or
    /// from another version of the data) is recognised.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for x in &self.interactions {
            h.update(x.user.to_le_bytes());
            h.update(self.catalog.key(x.item).as_bytes());
            h.update([0]);
            h.update(x.timestamp_ms.to_le_bytes());
        }
        for (key, text) in self.catalog.keys().iter().zip(self.catalog.texts()) {
            h.update(key.as_bytes());
            h.update([0]);
            h.update(text.as_bytes());
            h.update([0]);
        }
        format!("{:x}", h.finalize())
    }

    /// Each user's interactions, in time order, as indices into `interactions`.
    pub fn user_sequences(&self) -> Vec<Vec<u32>> {
        let mut seqs = vec![Vec::new(); self.users.len()];
        for (i, x) in self.interactions.iter().enumerate() {
            seqs[x.user as usize].push(i as u32);
        }
        seqs
    }
}
