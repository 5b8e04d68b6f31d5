//! The learning-rate schedule (linear warm-up, then cosine decay to zero) and seeded
//! shuffling.

/// Linear warm-up to the peak rate, then cosine decay to zero at the last step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LrSchedule {
    peak: f64,
    total: usize,
    warmup: usize,
}

impl LrSchedule {
    /// A schedule over `total` steps, warming up for `warmup_fraction` of them.
    pub fn new(peak: f64, total: usize, warmup_fraction: f64) -> Self {
        let warmup = ((total as f64 * warmup_fraction).round() as usize).min(total);
        Self {
            peak,
            total: total.max(1),
            warmup,
        }
    }

    /// Number of steps of the whole run.
    pub fn total_steps(&self) -> usize {
        self.total
    }

    /// The learning rate of step `step` (from 0).
    pub fn at(&self, step: usize) -> f64 {
        if step < self.warmup {
            return self.peak * (step + 1) as f64 / self.warmup as f64;
        }
        let decay = (self.total - self.warmup).max(1) as f64;
        let progress = ((step - self.warmup) as f64 / decay).min(1.0);
        self.peak * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
    }
}

/// SplitMix64: a small, good-enough generator for shuffling (Steele et al., 2014).
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A permutation of `0..n` determined by `seed` and `epoch` (Fisher-Yates).
pub fn shuffled(n: usize, seed: u64, epoch: u64) -> Vec<usize> {
    let mut state = seed ^ epoch.wrapping_mul(0xD1B5_4A32_D192_ED03);
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (splitmix64(&mut state) % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_then_cosine() {
        let s = LrSchedule::new(1e-3, 100, 0.1);
        assert!((s.at(0) - 1e-4).abs() < 1e-12);
        assert!((s.at(9) - 1e-3).abs() < 1e-12);
        assert!((s.at(10) - 1e-3).abs() < 1e-12);
        // Halfway through the decay the cosine is at 0: half the peak.
        assert!((s.at(55) - 5e-4).abs() < 1e-12);
        assert!(s.at(99) < 1e-5);
    }

    #[test]
    fn shuffles_are_permutations_and_seeded() {
        let a = shuffled(50, 7, 0);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_eq!(a, shuffled(50, 7, 0));
        assert_ne!(a, shuffled(50, 7, 1));
        assert_ne!(a, shuffled(50, 8, 0));
    }
}
