//! Scored neighbours, a bounded top-k collector and the inner product.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use recdata::ItemId;

pub use rec_core::Neighbor;

/// Orders neighbours best first: higher score, then lower item id, so equal
/// scores rank deterministically.
fn better(a: &Neighbor, b: &Neighbor) -> Ordering {
    b.score.total_cmp(&a.score).then(a.item.cmp(&b.item))
}

/// Heap entry ordered so that the heap's maximum is the worst kept neighbour.
struct Worst(Neighbor);

impl PartialEq for Worst {
    fn eq(&self, other: &Self) -> bool {
        better(&self.0, &other.0) == Ordering::Equal
    }
}
impl Eq for Worst {}
impl PartialOrd for Worst {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Worst {
    fn cmp(&self, other: &Self) -> Ordering {
        better(&self.0, &other.0)
    }
}

/// Keeps the `k` best neighbours pushed into it.
pub(crate) struct TopK {
    k: usize,
    heap: BinaryHeap<Worst>,
}

impl TopK {
    pub(crate) fn new(k: usize) -> Self {
        Self { k, heap: BinaryHeap::with_capacity(k + 1) }
    }

    /// Whether a neighbour with score `s` could enter (ties may still lose on id).
    #[inline]
    pub(crate) fn would_accept(&self, s: f32) -> bool {
        self.k > 0 && (self.heap.len() < self.k || self.heap.peek().is_some_and(|w| s >= w.0.score))
    }

    #[inline]
    pub(crate) fn push(&mut self, item: ItemId, score: f32) {
        if self.k == 0 {
            return;
        }
        let n = Worst(Neighbor { item, score });
        if self.heap.len() < self.k {
            self.heap.push(n);
        } else if self.heap.peek().is_some_and(|w| n < *w) {
            self.heap.pop();
            self.heap.push(n);
        }
    }

    /// The kept neighbours, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Neighbor> {
        self.heap.iter().map(|w| &w.0)
    }

    /// The kept neighbours, best first.
    pub(crate) fn into_sorted(self) -> Vec<Neighbor> {
        let mut v: Vec<Neighbor> = self.heap.into_iter().map(|w| w.0).collect();
        v.sort_by(better);
        v
    }
}

/// The inner product of two equally long vectors, written so the compiler
/// vectorises it (eight independent accumulators).
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for j in 0..8 {
            acc[j] += x[j] * y[j];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Scales `v` to unit L2 norm in place; a zero vector stays zero.
pub fn normalize(v: &mut [f32]) {
    let norm = dot(v, v).sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_best_k_with_id_tiebreak() {
        let mut t = TopK::new(3);
        for (i, s) in [0.1, 0.9, 0.5, 0.9, 0.2, 0.7].into_iter().enumerate() {
            t.push(ItemId(i as u32), s);
        }
        let got: Vec<u32> = t.into_sorted().iter().map(|n| n.item.0).collect();
        assert_eq!(got, vec![1, 3, 5]);
    }

    #[test]
    fn dot_matches_naive() {
        let a: Vec<f32> = (0..37).map(|i| i as f32 * 0.5 - 3.0).collect();
        let b: Vec<f32> = (0..37).map(|i| (i as f32).sin()).collect();
        let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - naive).abs() < 1e-4);
    }
}
