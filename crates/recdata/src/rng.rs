//! A small seeded generator (SplitMix64), so synthetic data is identical on every
//! platform and every version of this crate's dependencies.
//!
//! [`splitmix64`] is the workspace's one copy of the SplitMix64 step: every seeded
//! generator (k-means and RQ-VAE in semid, shuffling and dropout in gr-model and
//! drafters, the benchmarks' data) draws from it. Each keeps its own seeding and its
//! own way of turning bits into floats and indices, so every number stays as it was.

/// SplitMix64's increment of its state per step (the golden gamma).
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// One SplitMix64 step (Steele, Lea and Flood 2014): advances `state` by the golden
/// gamma and returns the mixed 64 bits.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(GAMMA);
    mix(*state)
}

/// The `i`-th output (from 1) of the SplitMix64 stream that starts at `state`: what the
/// `i`-th call of [`splitmix64`] on a copy of `state` returns, computed without the
/// `i - 1` before it. SplitMix64 is a counter passed through a mixing function, so a
/// loop over `i` has no dependency between iterations (gr-model's dropout masks).
pub fn splitmix64_at(state: u64, i: u64) -> u64 {
    mix(state.wrapping_add(i.wrapping_mul(GAMMA)))
}

/// SplitMix64's output function.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// SplitMix64: fast, statistically sound for simulation, and fully specified.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        splitmix64(&mut self.0)
    }

    /// A uniform float in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform integer in [0, n); `n` must be positive.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() >> 32) * n as u64 >> 32) as usize
    }

    /// An index drawn with probability proportional to `weights` (not all zero).
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut r = self.f64() * total;
        for (i, &w) in weights.iter().enumerate() {
            if r < w {
                return i;
            }
            r -= w;
        }
        weights.len() - 1
    }

    /// A standard normal sample (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.f64().max(f64::MIN_POSITIVE);
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_keeps_the_published_stream_and_splitmix64_at_indexes_it() {
        // The reference values of SplitMix64 from seed 1234567 (the generator's
        // published test vector).
        let mut state = 1_234_567u64;
        let published = [6_457_827_717_110_365_317u64, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423];
        for (i, &want) in published.iter().enumerate() {
            assert_eq!(splitmix64(&mut state), want, "output {}", i + 1);
        }
        for start in [0u64, 1_234_567, u64::MAX - 5] {
            let mut state = start;
            for i in 1..=1_000u64 {
                assert_eq!(splitmix64_at(start, i), splitmix64(&mut state), "start {start}, output {i}");
            }
        }
    }
}
