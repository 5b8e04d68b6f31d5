//! Small seeded test data: clustered embeddings and a tiny fit configuration.

use semid::{EmbeddingMatrix, FitConfig, Method, RqVaeTrainConfig};

pub(crate) type Inner = burn::backend::Flex;
pub(crate) type Train = burn::backend::Autodiff<Inner>;

/// A SplitMix64 stream of uniforms in [-1, 1).
pub(crate) fn uniforms(seed: u64, n: usize) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            ((z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) as f32
        })
        .collect()
}

/// `rows x dim` points around 12 random centres.
pub(crate) fn clustered(seed: u64, rows: usize, dim: usize) -> EmbeddingMatrix {
    let centres = uniforms(seed, 12 * dim);
    let noise = uniforms(seed + 1, rows * dim);
    let data = (0..rows * dim)
        .map(|i| centres[(i / dim) % 12 * dim + i % dim] + 0.3 * noise[i])
        .collect();
    EmbeddingMatrix::new(data, dim).unwrap()
}

/// A tiny configuration: 3 levels of 8 codes, a small RQ-VAE trained for 3 epochs.
pub(crate) fn tiny(method: Method) -> FitConfig {
    FitConfig {
        codebook_size: 8,
        id_size: Some(64),
        rqvae_hidden: vec![32],
        rqvae_latent: 8,
        rqvae_train: RqVaeTrainConfig::new().with_epochs(3).with_batch_size(64),
        ..FitConfig::new(method)
    }
}

/// Fits `config` with no progress output.
pub(crate) fn fit(
    config: &FitConfig,
    x: &EmbeddingMatrix,
    in_sample: &[bool],
) -> semid::Result<(semid::SemanticIdModel<Inner>, semid::FitReport)> {
    semid::fit::<Train>(config, x, in_sample, &Default::default(), &mut |_| {})
}

/// The first `fitted` of `rows` items are in-sample.
pub(crate) fn prefix_mask(rows: usize, fitted: usize) -> Vec<bool> {
    (0..rows).map(|i| i < fitted).collect()
}
