//! Sentence pooling shared by every encoder family: attention-mask-aware mean
//! pooling, then L2 normalisation, as sentence-transformers does (`Pooling` with
//! `pooling_mode_mean_tokens`, then `Normalize`). A T5 encoder's hidden states pool
//! the same way.

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

/// Mean of the hidden states over the positions where `keep` is 1.
///
/// Padding positions (where `keep` is 0) contribute exactly nothing, whatever their
/// hidden states hold. A row without any kept position yields zeros (the count is
/// clamped at 1e-9, as sentence-transformers does).
///
/// # Shapes
///
/// - `hidden`: `[batch, seq, d_model]`
/// - `keep`: `[batch, seq]`, 1.0 for tokens and 0.0 for padding
/// - output: `[batch, d_model]`
pub fn mean_pool<B: Backend>(hidden: Tensor<B, 3>, keep: Tensor<B, 2>) -> Tensor<B, 2> {
    let [batch, seq, d_model] = hidden.dims();
    let counts = keep.clone().sum_dim(1).clamp_min(1e-9); // [batch, 1]
    // A masked sum is a batched product [1, seq] x [seq, d_model] per row, which
    // avoids a 3-d broadcast multiply.
    let sums = keep
        .reshape([batch, 1, seq])
        .matmul(hidden) // [batch, 1, d_model]
        .reshape([batch, d_model]);
    sums / counts
}

/// Scales every row to unit Euclidean norm (rows of zeros stay zero: the norm is
/// clamped at 1e-12, as `torch.nn.functional.normalize` does).
///
/// # Shapes
///
/// - `x`: `[batch, d]`
/// - output: `[batch, d]`
pub fn l2_normalize<B: Backend>(x: Tensor<B, 2>) -> Tensor<B, 2> {
    let norms = x.clone().powi_scalar(2).sum_dim(1).sqrt().clamp_min(1e-12); // [batch, 1]
    x / norms
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::tensor::TensorData;

    type B = Flex;

    #[test]
    fn mean_pool_ignores_padding_and_normalises() {
        let device = Default::default();
        // Row 0: tokens [1, 2] and [3, 4], then a padding row full of junk.
        // Row 1: a single token [0, -5].
        let hidden = Tensor::<B, 3>::from_data(
            TensorData::new(
                vec![
                    1.0f32, 2.0, 3.0, 4.0, 99.0, 99.0, 0.0, -5.0, 7.0, 7.0, 7.0, 7.0,
                ],
                [2, 3, 2],
            ),
            &device,
        );
        let keep = Tensor::<B, 2>::from_data(
            TensorData::new(vec![1.0f32, 1.0, 0.0, 1.0, 0.0, 0.0], [2, 3]),
            &device,
        );
        let pooled = mean_pool(hidden, keep);
        // Hand-computed: mean([1,2],[3,4]) = [2,3]; mean([0,-5]) = [0,-5].
        pooled.clone().into_data().assert_approx_eq::<f32>(
            &TensorData::new(vec![2.0f32, 3.0, 0.0, -5.0], [2, 2]),
            Default::default(),
        );
        let unit = l2_normalize(pooled);
        let s13 = 13f32.sqrt();
        unit.into_data().assert_approx_eq::<f32>(
            &TensorData::new(vec![2.0 / s13, 3.0 / s13, 0.0, -1.0], [2, 2]),
            Default::default(),
        );
    }
}
