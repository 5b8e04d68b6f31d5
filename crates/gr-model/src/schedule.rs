//! The learning-rate schedule (linear warm-up, then cosine decay to zero or a
//! constant rate), seeded shuffling, and length-sorted batches.

/// What the learning rate does after the warm-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LrDecay {
    /// Cosine decay to zero at the last step of `max_epochs`.
    #[default]
    Cosine,
    /// The peak rate until the end (the recipe of the published TIGER reproductions:
    /// Adam at a constant 5e-4 to 1e-3, best checkpoint on valid).
    Constant,
}

impl std::str::FromStr for LrDecay {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cosine" => Ok(Self::Cosine),
            "constant" => Ok(Self::Constant),
            other => Err(format!("unknown learning-rate decay `{other}` (cosine, constant)")),
        }
    }
}

/// Linear warm-up to the peak rate, then cosine decay to zero at the last step (or
/// the peak rate to the end, [`LrDecay::Constant`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LrSchedule {
    peak: f64,
    total: usize,
    warmup: usize,
    decay: LrDecay,
}

impl LrSchedule {
    /// A cosine schedule over `total` steps, warming up for `warmup_fraction` of them.
    pub fn new(peak: f64, total: usize, warmup_fraction: f64) -> Self {
        let warmup = ((total as f64 * warmup_fraction).round() as usize).min(total);
        Self {
            peak,
            total: total.max(1),
            warmup,
            decay: LrDecay::Cosine,
        }
    }

    /// A schedule over `total` steps that warms up for `warmup` steps, then decays as `decay` says.
    pub fn with_warmup_steps(peak: f64, total: usize, warmup: usize, decay: LrDecay) -> Self {
        Self {
            peak,
            total: total.max(1),
            warmup: warmup.min(total),
            decay,
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
        if self.decay == LrDecay::Constant {
            return self.peak;
        }
        let decay = (self.total - self.warmup).max(1) as f64;
        let progress = ((step - self.warmup) as f64 / decay).min(1.0);
        self.peak * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
    }
}

/// A permutation of `0..n` determined by `seed` and `epoch` (Fisher-Yates).
pub fn shuffled(n: usize, seed: u64, epoch: u64) -> Vec<usize> {
    let mut state = seed ^ epoch.wrapping_mul(0xD1B5_4A32_D192_ED03);
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (recdata::rng::splitmix64(&mut state) % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

/// The batches of one epoch: `order` cut into batches of `batch_size`; with
/// `sort_window` > 0, each run of `sort_window` batches of `order` is first sorted by
/// `length` (stably), so a batch holds examples of similar length and little padding,
/// and then all batches are put in a seeded random order (`seed`, `epoch`), so that
/// batch lengths do not rise and fall in waves through the epoch.
///
/// Every example appears exactly once; only the last batch can be short.
pub fn length_sorted_batches(
    order: &[usize],
    length: impl Fn(usize) -> usize,
    batch_size: usize,
    sort_window: usize,
    seed: u64,
    epoch: u64,
) -> Vec<Vec<usize>> {
    let batch_size = batch_size.max(1);
    if sort_window == 0 {
        return order.chunks(batch_size).map(<[usize]>::to_vec).collect();
    }
    let mut batches = Vec::with_capacity(order.len().div_ceil(batch_size));
    for pool in order.chunks(batch_size.saturating_mul(sort_window)) {
        let mut pool = pool.to_vec();
        pool.sort_by_key(|&i| length(i));
        batches.extend(pool.chunks(batch_size).map(<[usize]>::to_vec));
    }
    // The short batch (if any) is the last of the last pool: keep it last, shuffle the rest.
    let full = if order.len() % batch_size == 0 { batches.len() } else { batches.len() - 1 };
    let perm = shuffled(full, seed ^ 0x6C65_6E67_7468_7331, epoch);
    let mut out: Vec<Vec<usize>> = perm.iter().map(|&b| std::mem::take(&mut batches[b])).collect();
    out.extend(batches.drain(full..));
    out
}

/// Reorders a length-sorted batch so that each of `shards` contiguous equal parts
/// (as [`crate::sharded_grads`] cuts it) gets every `shards`-th example: the parts
/// then have the same mix of lengths, and no thread waits for the one with the
/// longest histories.
pub fn interleave_for_shards(batch: &[usize], shards: usize) -> Vec<usize> {
    if shards <= 1 {
        return batch.to_vec();
    }
    (0..shards).flat_map(|j| batch.iter().copied().skip(j).step_by(shards)).collect()
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
    fn constant_decay_keeps_the_peak_after_warmup() {
        let s = LrSchedule::with_warmup_steps(1e-3, 100, 10, LrDecay::Constant);
        assert!((s.at(0) - 1e-4).abs() < 1e-12);
        assert!((s.at(9) - 1e-3).abs() < 1e-12);
        assert_eq!(s.at(10), 1e-3);
        assert_eq!(s.at(99), 1e-3);
        assert_eq!(s.at(500), 1e-3);
        let c = LrSchedule::with_warmup_steps(1e-3, 100, 10, LrDecay::Cosine);
        assert_eq!(c, LrSchedule::new(1e-3, 100, 0.1));
    }

    #[test]
    fn length_sorted_batches_cover_every_example_once_with_less_padding() {
        let n = 1000;
        let lengths: Vec<usize> = (0..n).map(|i| 1 + (i * 7919) % 50).collect();
        let order = shuffled(n, 3, 0);
        let plain = length_sorted_batches(&order, |i| lengths[i], 32, 0, 3, 0);
        let sorted = length_sorted_batches(&order, |i| lengths[i], 32, 8, 3, 0);
        for batches in [&plain, &sorted] {
            let mut all: Vec<usize> = batches.iter().flatten().copied().collect();
            all.sort_unstable();
            assert_eq!(all, (0..n).collect::<Vec<_>>());
            assert!(batches[..batches.len() - 1].iter().all(|b| b.len() == 32));
            assert_eq!(batches.last().unwrap().len(), n % 32);
        }
        assert_eq!(plain, order.chunks(32).map(<[usize]>::to_vec).collect::<Vec<_>>());
        // Padded tokens: each batch pads to its longest example.
        let padded = |batches: &[Vec<usize>]| -> usize {
            batches.iter().map(|b| b.len() * b.iter().map(|&i| lengths[i]).max().unwrap()).sum()
        };
        assert!(padded(&sorted) * 10 < padded(&plain) * 7, "{} vs {}", padded(&sorted), padded(&plain));
        // Seeded: the same seed and epoch repeat, another epoch does not.
        assert_eq!(sorted, length_sorted_batches(&order, |i| lengths[i], 32, 8, 3, 0));
        assert_ne!(sorted, length_sorted_batches(&order, |i| lengths[i], 32, 8, 3, 1));
        // Batch lengths are not in waves: the first batches are not all the short ones.
        let first_max: Vec<usize> =
            sorted[..4].iter().map(|b| b.iter().map(|&i| lengths[i]).max().unwrap()).collect();
        assert!(first_max.iter().any(|&l| l > 12), "{first_max:?}");
    }

    #[test]
    fn interleaving_gives_each_shard_every_other_example() {
        assert_eq!(interleave_for_shards(&[10, 11, 12, 13, 14], 2), vec![10, 12, 14, 11, 13]);
        assert_eq!(interleave_for_shards(&[1, 2, 3], 1), vec![1, 2, 3]);
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
