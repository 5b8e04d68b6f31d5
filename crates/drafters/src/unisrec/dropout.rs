//! Inverted dropout (and the adaptor's gate noise) drawn on the host from a
//! seeded generator.
//!
//! Burn's `Dropout` samples its mask through the backend's distribution sampler,
//! which on the CPU backend costs more than the masked multiply itself; a
//! SplitMix64 stream is an order of magnitude cheaper and makes training
//! reproducible from the training seed alone (the backend's generator is global,
//! shared with anything else running in the process).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use burn::prelude::*;

/// The generator state shared by every dropout site of one model.
#[derive(Debug, Clone, Default)]
pub struct DropoutRng(Arc<AtomicU64>);

impl DropoutRng {
    /// Restarts the generator from `seed`.
    pub fn reseed(&self, seed: u64) {
        self.0.store(seed, Ordering::SeqCst);
    }

    /// A fresh stream start for one mask.
    fn next_stream(&self) -> u64 {
        self.0.fetch_add(0xD1B5_4A32_D192_ED03, Ordering::SeqCst)
    }

    /// A tensor of standard normal draws (Box–Muller), from the next stream.
    ///
    /// # Shapes
    /// - output: `shape`
    pub fn normal<B: Backend, const D: usize>(&self, shape: [usize; D], device: &B::Device) -> Tensor<B, D> {
        let n = shape.iter().product::<usize>();
        let mut state = self.next_stream();
        let mut values = Vec::with_capacity(n + 1);
        while values.len() < n {
            let bits = recdata::rng::splitmix64(&mut state);
            // Two uniforms in (0, 1] and [0, 1) from the two 32-bit halves.
            let u1 = ((bits >> 32) as f64 + 1.0) / 4_294_967_296.0;
            let u2 = (bits & 0xFFFF_FFFF) as f64 / 4_294_967_296.0;
            let r = (-2.0 * u1.ln()).sqrt();
            let angle = std::f64::consts::TAU * u2;
            values.push((r * angle.cos()) as f32);
            values.push((r * angle.sin()) as f32);
        }
        values.truncate(n);
        Tensor::from_data(TensorData::new(values, shape), device)
    }
}

/// Zeroes each element with probability `prob` and scales the rest by
/// `1 / (1 - prob)`; the identity unless the backend tracks gradients.
#[derive(Module, Debug, Clone)]
pub struct HostDropout {
    /// Probability of zeroing an element.
    pub prob: f64,
    /// The model-wide generator.
    #[module(skip)]
    pub rng: DropoutRng,
}

impl HostDropout {
    /// A dropout of probability `prob` drawing from `rng`.
    pub fn new(prob: f64, rng: DropoutRng) -> Self {
        Self { prob, rng }
    }

    /// # Shapes
    /// - `x`, output: any
    pub fn forward<B: Backend, const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        let device = x.device();
        if self.prob <= 0.0 || !B::ad_enabled(&device) {
            return x;
        }
        let shape = x.shape();
        let n = shape.num_elements();
        let keep = (1.0 / (1.0 - self.prob)) as f32;
        // Compare 32-bit halves against prob * 2^32.
        let threshold = (self.prob.min(1.0) * 4_294_967_296.0) as u64;
        let mut state = self.rng.next_stream();
        let mut mask = Vec::with_capacity(n + 1);
        while mask.len() < n {
            let bits = recdata::rng::splitmix64(&mut state);
            for half in [bits & 0xFFFF_FFFF, bits >> 32] {
                mask.push(if half < threshold { 0.0f32 } else { keep });
            }
        }
        mask.truncate(n);
        x * Tensor::<B, D>::from_data(TensorData::new(mask, shape), &device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, Flex};

    fn draw(rng: &DropoutRng) -> Vec<f32> {
        let x = Tensor::<Autodiff<Flex>, 2>::ones([100, 100], &Default::default());
        HostDropout::new(0.2, rng.clone()).forward(x).into_data().to_vec::<f32>().unwrap()
    }

    #[test]
    fn rate_scale_seeding_and_inference_identity() {
        let rng = DropoutRng::default();
        rng.reseed(3);
        let a = draw(&rng);
        // 10,000 Bernoulli(0.2) draws: 2000 zeros expected, standard deviation 40.
        let zeros = a.iter().filter(|&&v| v == 0.0).count();
        assert!((1800..2200).contains(&zeros), "{zeros} zeros");
        assert!(a.iter().all(|&v| v == 0.0 || (v - 1.25).abs() < 1e-6));
        assert_ne!(a, draw(&rng), "successive masks differ");
        rng.reseed(3);
        assert_eq!(a, draw(&rng), "reseeding repeats the masks");
        let x = Tensor::<Flex, 2>::ones([3, 3], &Default::default());
        let y = HostDropout::new(0.5, rng.clone()).forward(x).into_data().to_vec::<f32>().unwrap();
        assert!(y.iter().all(|&v| v == 1.0), "inactive without autodiff");
    }

    #[test]
    fn normal_draws_have_unit_moments() {
        let rng = DropoutRng::default();
        let v = rng.normal::<Flex, 1>([20_000], &Default::default()).into_data().to_vec::<f32>().unwrap();
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let var = v.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum::<f64>() / n;
        // Standard errors: mean 1/sqrt(n) = 0.007, variance sqrt(2/n) = 0.01.
        assert!(mean.abs() < 0.03 && (var - 1.0).abs() < 0.05, "mean {mean} var {var}");
    }
}
