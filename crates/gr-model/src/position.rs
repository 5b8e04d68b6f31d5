//! T5 relative position bias: bucketed relative distances, one learned scalar per
//! bucket and head, added to the attention logits of every layer of a stack.

use burn::config::Config;
use burn::module::{Initializer, Module, Param};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};

/// Configuration of a [`RelativeBias`].
#[derive(Config, Debug)]
pub struct RelativeBiasConfig {
    /// Number of attention heads.
    pub num_heads: usize,
    /// Whether keys after the query get their own buckets (encoder) or share bucket 0
    /// with the query position (decoder, unidirectional).
    pub bidirectional: bool,
    /// Number of buckets.
    #[config(default = 32)]
    pub num_buckets: usize,
    /// Distance beyond which all positions share the last bucket.
    #[config(default = 128)]
    pub max_distance: usize,
    /// Standard deviation of the initial bias values.
    #[config(default = 1.0)]
    pub std: f64,
}

/// Learned relative position bias of one T5 stack.
#[derive(Module, Debug)]
pub struct RelativeBias<B: Backend> {
    /// Bias per bucket and head, `[num_buckets, num_heads]`.
    pub weight: Param<Tensor<B, 2>>,
    /// Whether the buckets distinguish keys before and after the query.
    pub bidirectional: bool,
    /// Number of buckets.
    pub num_buckets: usize,
    /// Distance beyond which all positions share the last bucket.
    pub max_distance: usize,
}

impl RelativeBiasConfig {
    /// Initialises the bias table.
    pub fn init<B: Backend>(&self, device: &B::Device) -> RelativeBias<B> {
        RelativeBias {
            weight: Initializer::Normal {
                mean: 0.0,
                std: self.std,
            }
            .init([self.num_buckets, self.num_heads], device),
            bidirectional: self.bidirectional,
            num_buckets: self.num_buckets,
            max_distance: self.max_distance,
        }
    }
}

impl<B: Backend> RelativeBias<B> {
    /// The bias for queries at positions `q_start..q_start + q_len` attending to keys
    /// at positions `0..k_len`.
    ///
    /// # Shapes
    ///
    /// - output: `[1, num_heads, q_len, k_len]`
    pub fn forward(&self, q_start: usize, q_len: usize, k_len: usize) -> Tensor<B, 4> {
        let device = self.weight.device();
        let mut buckets = Vec::with_capacity(q_len * k_len);
        for q in q_start..q_start + q_len {
            for k in 0..k_len {
                let relative = k as i64 - q as i64;
                buckets.push(relative_position_bucket(
                    relative,
                    self.bidirectional,
                    self.num_buckets,
                    self.max_distance,
                ) as i64);
            }
        }
        let heads = self.weight.dims()[1];
        let index =
            Tensor::<B, 1, Int>::from_data(TensorData::new(buckets, [q_len * k_len]), &device);
        // [q_len * k_len, heads] -> [heads, q_len, k_len]
        self.weight
            .val()
            .select(0, index)
            .reshape([q_len, k_len, heads])
            .permute([2, 0, 1])
            .unsqueeze_dim(0)
    }
}

/// The T5 bucket of a relative position `key - query` (Hugging Face's
/// `T5Attention._relative_position_bucket`).
///
/// Half the buckets (of each direction, when bidirectional) hold exact distances; the
/// rest cover distances up to `max_distance` logarithmically; farther keys share the
/// last bucket. Unidirectional buckets map every key after the query to bucket 0.
pub fn relative_position_bucket(
    relative: i64,
    bidirectional: bool,
    num_buckets: usize,
    max_distance: usize,
) -> usize {
    let mut buckets = num_buckets as i64;
    let mut offset = 0;
    let distance = if bidirectional {
        buckets /= 2;
        if relative > 0 {
            offset = buckets;
        }
        relative.abs()
    } else {
        (-relative).max(0)
    };
    let max_exact = buckets / 2;
    let bucket = if distance < max_exact {
        distance
    } else {
        // Truncation towards zero, as `.to(torch.long)` does on the positive value.
        let log_ratio = (distance as f64 / max_exact as f64).ln()
            / (max_distance as f64 / max_exact as f64).ln();
        let large = max_exact + (log_ratio * (buckets - max_exact) as f64) as i64;
        large.min(buckets - 1)
    };
    (offset + bucket) as usize
}

#[cfg(test)]
mod tests {
    use super::relative_position_bucket;

    #[test]
    fn buckets_match_hand_computed_t5_values() {
        // Hand-computed from HF T5's formula with 32 buckets and max distance 128:
        // bidirectional: 16 buckets per side, exact below 8; unidirectional: 32
        // buckets, exact below 16. For 20 (bidirectional): 8 + floor(ln(20/8) /
        // ln(128/8) * 8) = 8 + floor(2.64) = 10.
        let check = |rel: i64, bi: bool, expected: usize| {
            assert_eq!(
                relative_position_bucket(rel, bi, 32, 128),
                expected,
                "rel {rel} bi {bi}"
            );
        };
        check(0, true, 0);
        check(-1, true, 1);
        check(1, true, 17);
        check(-7, true, 7);
        check(-8, true, 8);
        check(-20, true, 10);
        check(20, true, 26);
        check(-127, true, 15);
        check(-1000, true, 15);
        check(5, false, 0);
        check(-15, false, 15);
        check(-16, false, 16);
        // 16 + floor(ln(40/16) / ln(128/16) * 16) = 16 + floor(7.05) = 23.
        check(-40, false, 23);
        check(-500, false, 31);
    }
}
