//! What `specgr bench train` counts: FLOPs of a step, padded tokens, which batches
//! are timed, and the matmul rate at the model's shapes.

use std::time::Instant;

use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor};
use gr_model::TigerConfig;

use super::report::MatmulRate;

/// Counted FLOPs of one training step on one example whose encoder input has
/// `src_len` real tokens and whose decoder input has `dec_len` tokens (TIGER:
/// `num_digits + 1` = 5).
///
/// A multiply–add is 2 FLOPs and only matrix products are counted, with `i` = heads ×
/// d_kv, `d` = d_model, `f` = d_ff, `V` = vocabulary, `L` = `src_len`, `T` = `dec_len`:
///
/// ```text
/// forward = n_enc · [ 2·4·L·d·i          Q, K, V, O projections
///                   + 2·2·L²·i           attention scores and context
///                   + 2·2·L·d·f ]        feed-forward in and out
///         + n_dec · [ 2·4·T·d·i          self-attention Q, K, V, O
///                   + 2·2·(T(T+1)/2)·i   causal self-attention scores and context
///                   + 2·2·T·d·i          cross-attention Q and O
///                   + 2·2·L·d·i          cross-attention K and V of the source
///                   + 2·2·T·L·i          cross-attention scores and context
///                   + 2·2·T·d·f ]        feed-forward
///         + 2·T·d·V                      tied output projection
/// train   = 3 · forward                  backward ≈ 2 × forward (input and weight gradients)
/// ```
///
/// Counted on real tokens, this is the work a padding-free implementation must do;
/// a padded batch computes the same formula at its padded width (norms, softmax,
/// dropout and the optimizer are left out: a floor, not the total).
pub fn train_flops(config: &TigerConfig, src_len: usize, dec_len: usize) -> u64 {
    let decoder: u64 = (1..=dec_len).map(|t| config.decoder_position_flops(t, src_len)).sum();
    3 * (config.encoder_flops(src_len) + config.cross_kv_flops(src_len) + decoder)
}

/// Padded encoder tokens of a batch cut into `shards` parts as [`sharded_grads`] cuts
/// it, each part padded to its own longest row.
pub(super) fn padded_tokens(rows: &[usize], shards: usize, src_len: &dyn Fn(usize) -> usize) -> u64 {
    let n = rows.len();
    let shards = shards.clamp(1, n.max(1));
    (0..shards)
        .map(|j| {
            let part = &rows[j * n / shards..(j + 1) * n / shards];
            (part.len() * part.iter().map(|&i| src_len(i)).max().unwrap_or(0)) as u64
        })
        .sum()
}

/// The batches (indices into `batches`) that every round times: the middle batch of
/// each of `steps` equal strata of the batches ranked by real tokens.
pub fn timed_batches(batches: &[Vec<usize>], src_len: &dyn Fn(usize) -> usize, steps: usize) -> Vec<usize> {
    let mut ranked: Vec<(usize, usize)> =
        batches.iter().enumerate().map(|(b, rows)| (rows.iter().map(|&i| src_len(i)).sum(), b)).collect();
    ranked.sort_unstable();
    let n = ranked.len();
    let steps = steps.clamp(1, n.max(1));
    (0..steps).map(|k| ranked[(k * n / steps + (k + 1) * n / steps) / 2].1).collect()
}

/// GFLOP/s of the model's matmul shapes (`[rows, k] x [k, n]`, best of three timed
/// runs of about 0.2 s each), for each distinct preset among `configs`.
pub(super) fn matmul_rates<B: Backend>(configs: &[TigerConfig], rows: usize, device: &B::Device) -> Vec<MatmulRate> {
    let mut shapes: Vec<(usize, usize)> = Vec::new();
    for c in configs {
        for s in [(c.d_model, c.d_ff), (c.d_ff, c.d_model), (c.d_model, c.inner_dim())] {
            if !shapes.contains(&s) {
                shapes.push(s);
            }
        }
    }
    shapes
        .into_iter()
        .map(|(k, n)| {
            let a = Tensor::<B, 2>::random([rows, k], Distribution::Default, device);
            let b = Tensor::<B, 2>::random([k, n], Distribution::Default, device);
            let flop = 2.0 * (rows * k * n) as f64;
            let once = || {
                let _ = a.clone().matmul(b.clone()).into_data();
            };
            once();
            let t = Instant::now();
            once();
            let reps = ((0.2 / t.elapsed().as_secs_f64().max(1e-6)) as usize).clamp(1, 1000);
            let mut best = f64::INFINITY;
            for _ in 0..3 {
                let t = Instant::now();
                for _ in 0..reps {
                    once();
                }
                best = best.min(t.elapsed().as_secs_f64() / reps as f64);
            }
            MatmulRate { shape: format!("[{rows},{k}]x[{k},{n}]"), gflops: flop / best / 1e9 }
        })
        .collect()
}
