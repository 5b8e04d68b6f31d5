//! Integration tests for the drafters crate: one binary, one module per topic.

mod encoder_drafter;
mod filters;
mod knn;
mod semantic_knn;
mod unisrec;
mod unisrec_oracle;

use std::sync::{Mutex, MutexGuard};

use drafters::{ItemSet, Neighbor};
use recdata::ItemId;

/// The backend's random generator is global: tests that seed it or draw from it
/// (initialisation, training) hold this lock so parallel tests cannot interleave
/// draws (a resumed run is compared with an uninterrupted one weight for weight).
pub fn rng_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A small seeded generator (SplitMix64) so test data needs no extra crates.
pub struct TestRng(u64);

impl TestRng {
    /// A generator with this seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        recdata::rng::splitmix64(&mut self.0)
    }

    /// Uniform in [-1, 1).
    pub fn uniform(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// `n` unit-norm vectors of dimension `dim`, row-major.
    pub fn unit_rows(&mut self, n: usize, dim: usize) -> Vec<f32> {
        let mut v: Vec<f32> = (0..n * dim).map(|_| self.uniform()).collect();
        v.chunks_exact_mut(dim).for_each(drafters::normalize);
        v
    }
}

/// Item ids for a range.
pub fn ids(range: std::ops::Range<u32>) -> Vec<ItemId> {
    range.map(ItemId).collect()
}

/// The oracle: every stored row scored with a plain loop, sorted, filtered.
pub fn brute_force(rows: &[f32], dim: usize, present: &ItemSet, query: &[f32], k: usize, keep: impl Fn(ItemId) -> bool) -> Vec<Neighbor> {
    let mut all: Vec<Neighbor> = present
        .iter()
        .filter(|&i| keep(i))
        .map(|i| {
            let row = &rows[i.index() * dim..(i.index() + 1) * dim];
            Neighbor { item: i, score: row.iter().zip(query).map(|(a, b)| a * b).sum() }
        })
        .collect();
    all.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.item.cmp(&b.item)));
    all.truncate(k);
    all
}

/// Share of the oracle's items that `got` contains.
pub fn recall(got: &[Neighbor], expected: &[Neighbor]) -> f64 {
    if expected.is_empty() {
        return 1.0;
    }
    let got: ItemSet = got.iter().map(|n| n.item).collect();
    expected.iter().filter(|n| got.contains(n.item)).count() as f64 / expected.len() as f64
}
