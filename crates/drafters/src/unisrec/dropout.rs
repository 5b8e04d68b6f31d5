//! UniSRec's dropout and gate noise: the workspace's one host-side dropout
//! ([`gr_model::ops::Dropout`]), with UniSRec's own generator step so that its masks
//! are the ones it has always been trained with.

pub use gr_model::ops::{Dropout as HostDropout, DropoutRng};

/// UniSRec's step between masks.
const UNISREC_STEP: u64 = 0xD1B5_4A32_D192_ED03;

/// A fresh generator for one UniSRec model (reseeded from the training seed).
pub fn unisrec_rng() -> DropoutRng {
    DropoutRng::with_step(UNISREC_STEP)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, Flex};
    use burn::prelude::*;

    fn draw(rng: &DropoutRng) -> Vec<f32> {
        let x = Tensor::<Autodiff<Flex>, 2>::ones([100, 100], &Default::default());
        HostDropout::new(0.2, rng.clone()).forward(x).into_data().to_vec::<f32>().unwrap()
    }

    #[test]
    fn rate_scale_seeding_and_inference_identity() {
        let rng = unisrec_rng();
        rng.reseed(3);
        let a = draw(&rng);
        // 10,000 Bernoulli(0.2) draws: 2000 zeros expected, standard deviation 40.
        let zeros = a.iter().filter(|&&v| v == 0.0).count();
        assert!((1800..2200).contains(&zeros), "{zeros} zeros");
        assert!(a.iter().all(|&v| v == 0.0 || (v - 1.25).abs() < 1e-6));
        assert_ne!(a, draw(&rng), "successive masks differ");
        rng.reseed(3);
        assert_eq!(a, draw(&rng), "reseeding repeats the masks");
        // The first mask starts from the seed itself; the step sets the ones after it.
        let second = draw(&rng);
        let other = DropoutRng::default();
        other.reseed(3);
        assert_eq!(a, draw(&other));
        assert_ne!(second, draw(&other), "UniSRec's step is its own, not TIGER's");
        let x = Tensor::<Flex, 2>::ones([3, 3], &Default::default());
        let y = HostDropout::new(0.5, rng.clone()).forward(x).into_data().to_vec::<f32>().unwrap();
        assert!(y.iter().all(|&v| v == 1.0), "inactive without autodiff");
    }
}
