//! The semantic-ID table: code digits plus the identification digit per item.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{Result, SemidError};
use crate::layout::TokenLayout;

/// Each item's semantic ID: `levels` code digits and one identification digit.
///
/// Items are dense indices `0..len()` (the `u32` inside `recdata::ItemId`). The
/// identification digit numbers the items that share the same code digits, from 0,
/// in the order the items were added, so when in-sample items are added first
/// (they are a prefix of the item numbering) they get the lower numbers and unseen
/// items the later ones. (The reference code counts from 1; we count from 0 so a
/// group of K items still fits a digit of K values.)
///
/// When a group would grow past the identification digit's capacity
/// ([`TokenLayout::id_size`]), adding the item fails with
/// [`SemidError::CollisionOverflow`], naming the prefix and the group size; the
/// table is left unchanged. The counter never wraps.
#[derive(Debug, Clone, PartialEq)]
pub struct SemanticIds {
    layout: TokenLayout,
    /// `len * num_digits` digits, item-major.
    codes: Vec<u32>,
    /// Group sizes by code prefix (without the identification digit).
    groups: HashMap<Vec<u32>, u32>,
    /// Full ID to item.
    index: HashMap<Vec<u32>, u32>,
}

/// The serialised form of [`SemanticIds`]: the layout and the flat digit table.
#[derive(Serialize, Deserialize)]
struct SemanticIdsFile {
    layout: TokenLayout,
    num_items: usize,
    codes: Vec<u32>,
}

impl SemanticIds {
    /// An empty table.
    pub fn new(layout: TokenLayout) -> Self {
        Self {
            layout,
            codes: Vec::new(),
            groups: HashMap::new(),
            index: HashMap::new(),
        }
    }

    /// Builds the table from `levels` codes per item (item-major, flat), numbering
    /// collisions in row order.
    pub fn from_codes(layout: TokenLayout, codes: &[u32]) -> Result<Self> {
        let levels = layout.levels();
        if !codes.len().is_multiple_of(levels) {
            return Err(SemidError::RaggedBuffer {
                what: "semantic codes",
                len: codes.len(),
                width: levels,
            });
        }
        let mut ids = Self::new(layout);
        ids.codes
            .reserve(codes.len() / levels * layout.num_digits());
        for row in codes.chunks_exact(levels) {
            ids.push(row)?;
        }
        Ok(ids)
    }

    /// Appends an item with the given code digits (without the identification digit)
    /// and returns its index.
    pub fn push(&mut self, codes: &[u32]) -> Result<u32> {
        let levels = self.layout.levels();
        if codes.len() != levels {
            return Err(SemidError::InvalidCodes {
                codes: codes.to_vec(),
                reason: format!("expected {levels} code digits"),
            });
        }
        self.layout.check(codes)?;
        let item = u32::try_from(self.len())
            .map_err(|_| SemidError::Config("more than u32::MAX items".into()))?;
        let next = self.groups.get(codes).copied().unwrap_or(0);
        if next as usize >= self.layout.id_size() {
            return Err(SemidError::CollisionOverflow {
                prefix: codes.to_vec(),
                group_size: next as usize + 1,
                capacity: self.layout.id_size(),
            });
        }
        self.groups.insert(codes.to_vec(), next + 1);
        let mut full = codes.to_vec();
        full.push(next);
        self.codes.extend_from_slice(&full);
        self.index.insert(full, item);
        Ok(item)
    }

    /// The token layout.
    pub fn layout(&self) -> &TokenLayout {
        &self.layout
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.codes.len() / self.layout.num_digits()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// Digits per item (levels + identification digit).
    pub fn num_digits(&self) -> usize {
        self.layout.num_digits()
    }

    /// All digits of `item`.
    ///
    /// # Panics
    /// When `item >= len()`.
    pub fn codes(&self, item: u32) -> &[u32] {
        let n = self.num_digits();
        &self.codes[item as usize * n..(item as usize + 1) * n]
    }

    /// The flat, item-major digit table (`len() * num_digits()` values).
    pub fn as_flat(&self) -> &[u32] {
        &self.codes
    }

    /// The tokens of `item`'s digits.
    pub fn tokens(&self, item: u32) -> impl Iterator<Item = u32> + '_ {
        self.layout.tokens(self.codes(item))
    }

    /// The item with exactly this full ID (all digits), if any.
    pub fn item_of(&self, codes: &[u32]) -> Option<u32> {
        self.index.get(codes).copied()
    }

    /// How many items share the code prefix (without the identification digit).
    pub fn group_size(&self, prefix: &[u32]) -> usize {
        self.groups.get(prefix).copied().unwrap_or(0) as usize
    }

    /// Share of items whose code prefix (without the identification digit) no other item has.
    pub fn unique_prefix_share(&self) -> f64 {
        if self.is_empty() {
            return 0.0;
        }
        let unique = self.groups.values().filter(|&&n| n == 1).count();
        unique as f64 / self.len() as f64
    }

    /// Size of the largest group of items sharing one code prefix.
    pub fn largest_collision_group(&self) -> usize {
        self.groups.values().copied().max().unwrap_or(0) as usize
    }

    /// Serialises the table as JSON.
    pub fn to_json(&self) -> serde_json::Result<String> {
        serde_json::to_string(&SemanticIdsFile {
            layout: self.layout,
            num_items: self.len(),
            codes: self.codes.clone(),
        })
    }

    /// Parses a table written by [`SemanticIds::to_json`], re-checking every digit
    /// and that the identification digits are exactly the numbering `from_codes` gives.
    pub fn from_json(json: &str) -> Result<Self, String> {
        let file: SemanticIdsFile = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let n = file.layout.num_digits();
        if file.codes.len() != file.num_items * n {
            return Err(format!(
                "{} digits for {} items of {n} digits",
                file.codes.len(),
                file.num_items
            ));
        }
        let levels = file.layout.levels();
        let prefixes: Vec<u32> = file
            .codes
            .chunks_exact(n)
            .flat_map(|r| r[..levels].iter().copied())
            .collect();
        let ids = Self::from_codes(file.layout, &prefixes).map_err(|e| e.to_string())?;
        if ids.codes != file.codes {
            return Err("identification digits do not follow item order".into());
        }
        Ok(ids)
    }
}
