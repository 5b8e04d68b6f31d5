//! UniSRec's mixture-of-experts adaptor: whitened linear experts over frozen text
//! embeddings, mixed by a softmax gate that is noisy while training.

use burn::module::{Initializer, Param};
use burn::prelude::*;
use burn::tensor::activation::{softmax, softplus};

use super::dropout::{DropoutRng, HostDropout};

/// Settings of the [`MoeAdaptor`].
#[derive(Config, Debug)]
pub struct MoeAdaptorConfig {
    /// Dimension of the input (text) embeddings.
    pub d_input: usize,
    /// Dimension of the adapted item representation.
    #[config(default = 300)]
    pub d_output: usize,
    /// Number of experts.
    #[config(default = 8)]
    pub n_experts: usize,
    /// Dropout on the input of every expert.
    #[config(default = 0.2)]
    pub dropout: f64,
    /// Whether the gate adds learned Gaussian noise while training.
    #[config(default = true)]
    pub noisy_gating: bool,
}

/// Eight (by default) parametric-whitening experts `W_e (dropout(x) - b_e)`,
/// combined by `softmax(x W_gate [+ noise])`.
///
/// Unlike RecBole, one dropout mask is shared by all experts. Each expert is its
/// own matrix product whose `[n, d_output]` result is scaled by its gate column
/// (a row broadcast), so no `[n, n_experts, d_output]` tensor is materialised.
#[derive(Module, Debug)]
pub struct MoeAdaptor<B: Backend> {
    /// Expert projections, `[d_input, n_experts * d_output]`.
    pub experts: Param<Tensor<B, 2>>,
    /// Whitening biases, `[n_experts, d_input]`.
    pub biases: Param<Tensor<B, 2>>,
    /// Gate weights, `[d_input, n_experts]`.
    pub w_gate: Param<Tensor<B, 2>>,
    /// Gate-noise weights, `[d_input, n_experts]`.
    pub w_noise: Param<Tensor<B, 2>>,
    /// Input dropout.
    pub dropout: HostDropout,
    /// Number of experts.
    pub n_experts: usize,
    /// Output dimension.
    pub d_output: usize,
    /// Whether the gate is noisy while training.
    pub noisy_gating: bool,
}

impl MoeAdaptorConfig {
    /// Initialises the adaptor as RecBole does: experts ~ N(0, 0.02), biases and
    /// gates zero (so the gate starts uniform).
    /// Its dropout draws from `rng`.
    pub fn init<B: Backend>(&self, device: &B::Device, rng: &DropoutRng) -> MoeAdaptor<B> {
        let (d_in, e, d_out) = (self.d_input, self.n_experts, self.d_output);
        let normal = Initializer::Normal { mean: 0.0, std: 0.02 };
        MoeAdaptor {
            experts: normal.init([d_in, e * d_out], device),
            biases: Initializer::Zeros.init([e, d_in], device),
            w_gate: Initializer::Zeros.init([d_in, e], device),
            w_noise: Initializer::Zeros.init([d_in, e], device),
            dropout: HostDropout::new(self.dropout, rng.clone()),
            n_experts: e,
            d_output: d_out,
            noisy_gating: self.noisy_gating,
        }
    }
}

impl<B: Backend> MoeAdaptor<B> {
    /// Adapts text embeddings.
    ///
    /// # Shapes
    /// - `x`: `[n, d_input]`
    /// - output: `[n, d_output]`
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let [n, d_in] = x.dims();
        let (e, d_out) = (self.n_experts, self.d_output);
        let experts = self.experts.val(); // [d_in, e * d_out]
        let mut logits = x.clone().matmul(self.w_gate.val()); // [n, e]
        if self.noisy_gating && B::ad_enabled(&x.device()) {
            let std = softplus(x.clone().matmul(self.w_noise.val()), 1.0) + 1e-2;
            logits = logits + self.dropout.rng.normal([n, e], &std.device()) * std;
        }
        let gates = softmax(logits, 1); // [n, e]
        // sum_e g_e W_e (x' - b_e) = sum_e g_e (x' W_e) - gates (b_e W_e)_e
        let dropped = self.dropout.forward(x);
        let mut out = None;
        for j in 0..e {
            let w = experts.clone().slice([0..d_in, j * d_out..(j + 1) * d_out]); // [d_in, d_out]
            let y = dropped.clone().matmul(w) * gates.clone().slice([0..n, j..j + 1]); // [n, d_out]
            out = Some(match out {
                Some(acc) => acc + y,
                None => y,
            });
        }
        let bias_proj = self
            .biases
            .val()
            .reshape([e, 1, d_in])
            .matmul(experts.reshape([d_in, e, d_out]).swap_dims(0, 1)) // [e, 1, d_out]
            .reshape([e, d_out]);
        let mixed = out.unwrap_or_else(|| Tensor::zeros([n, d_out], &gates.device()));
        mixed - gates.matmul(bias_proj)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    type B = burn::backend::Flex;

    #[test]
    fn uniform_gate_averages_experts() {
        let device = Default::default();
        let moe = MoeAdaptorConfig::new(6).with_d_output(4).with_n_experts(3).init::<B>(&device, &super::super::dropout::unisrec_rng());
        let x = Tensor::<B, 2>::random([5, 6], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
        let out = moe.forward(x.clone());
        assert_eq!(out.dims(), [5, 4]);
        // With zero gate weights and biases the output is the mean of x W_e.
        let w = moe.experts.val().reshape([6, 3, 4]);
        let mean_w = w.sum_dim(1).reshape([6, 4]) / 3.0;
        let expected = x.matmul(mean_w);
        out.into_data().assert_approx_eq::<f32>(&expected.into_data(), burn::tensor::Tolerance::absolute(1e-5));
    }
}
