//! A small seeded random number generator, so fitting is reproducible everywhere
//! without depending on a particular `rand` version's streams.

/// SplitMix64 (Steele, Lea and Flood 2014): tiny, fast, and statistically fine for
/// sampling initial centroids and shuffling batches.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        recdata::rng::splitmix64(&mut self.0)
    }

    /// Uniform in `[0, 1)` with 53 bits.
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// A random permutation of `0..n`.
    pub(crate) fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            p.swap(i, self.below(i + 1));
        }
        p
    }

    /// `m` distinct indices from `0..n`, in random order (`m <= n`).
    pub(crate) fn sample(&mut self, n: usize, m: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        for i in 0..m.min(n) {
            let j = i + self.below(n - i);
            p.swap(i, j);
        }
        p.truncate(m.min(n));
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_and_sample_stay_in_range() {
        let mut r = SplitMix64::new(7);
        assert!((0..1000).all(|_| r.below(13) < 13));
        let s = r.sample(50, 20);
        let mut sorted = s.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 20);
        let mut p = r.permutation(30);
        p.sort_unstable();
        assert_eq!(p, (0..30).collect::<Vec<_>>());
    }
}
