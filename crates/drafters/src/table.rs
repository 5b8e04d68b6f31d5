//! A table of per-item feature vectors (text embeddings), keyed by dense item id.

use recdata::ItemId;

use crate::error::{DrafterError, Result, check_vector};
use rec_core::ItemSet;

/// Per-item vectors of one dimension; items may be added at any time.
#[derive(Clone, Debug)]
pub struct EmbeddingTable {
    dim: usize,
    rows: Vec<f32>,
    known: ItemSet,
}

impl EmbeddingTable {
    /// An empty table of vectors of dimension `dim`.
    pub fn new(dim: usize) -> Self {
        Self { dim, rows: Vec::new(), known: ItemSet::new() }
    }

    /// The table of items `0..n` from `n * dim` row-major floats.
    pub fn from_rows(dim: usize, rows: &[f32]) -> Result<Self> {
        if dim == 0 || !rows.len().is_multiple_of(dim) {
            return Err(DrafterError::Config(format!("{} floats do not split into rows of dimension {dim}", rows.len())));
        }
        let ids: Vec<ItemId> = (0..(rows.len() / dim) as u32).map(ItemId).collect();
        let mut t = Self::new(dim);
        t.set(&ids, rows)?;
        Ok(t)
    }

    /// Sets (adds or replaces) the vectors of `items`.
    pub fn set(&mut self, items: &[ItemId], rows: &[f32]) -> Result<()> {
        let d = self.dim;
        if rows.len() != items.len() * d {
            return Err(DrafterError::BufferLength { what: "item embeddings".into(), got: rows.len(), items: items.len(), dim: d });
        }
        for (i, (item, row)) in items.iter().zip(rows.chunks_exact(d)).enumerate() {
            check_vector(|| format!("embedding row {i} (item {item})"), row, d)?;
        }
        let max = items.iter().map(|i| i.index() + 1).max().unwrap_or(0);
        if self.rows.len() < max * d {
            self.rows.resize(max * d, 0.0);
        }
        for (&item, row) in items.iter().zip(rows.chunks_exact(d)) {
            self.rows[item.index() * d..(item.index() + 1) * d].copy_from_slice(row);
            self.known.insert(item);
        }
        Ok(())
    }

    /// The vector dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The number of known items.
    pub fn len(&self) -> usize {
        self.known.len()
    }

    /// Whether no item is known.
    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    /// The known items.
    pub fn items(&self) -> &ItemSet {
        &self.known
    }

    /// The vector of `item`, if known.
    pub fn get(&self, item: ItemId) -> Option<&[f32]> {
        let d = self.dim;
        self.known.contains(item).then(|| &self.rows[item.index() * d..(item.index() + 1) * d])
    }

    /// The last `window` known items of `history`, oldest first; `query` names the
    /// query in the error when there is none.
    pub fn known_suffix(&self, history: &[ItemId], window: usize, query: usize) -> Result<Vec<ItemId>> {
        let mut last: Vec<ItemId> = history.iter().rev().copied().filter(|&i| self.known.contains(i)).take(window).collect();
        if last.is_empty() {
            return Err(DrafterError::UnknownHistory { query, history_len: history.len(), known: self.len() });
        }
        last.reverse();
        Ok(last)
    }
}
