//! Building blocks written for speed on the CPU backend: every broadcasting
//! element-wise operation runs on a 2-d view (Flex's fast path; 3-d and 4-d broadcasts
//! go through a per-element strided iterator), linear maps are one matrix product, and
//! dropout masks are drawn on the host from our own seeded generator.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::backend::Backend;
use burn::tensor::{FloatDType, Tensor, TensorData};

/// The element type of the matrix products of the model's linear maps (the
/// projections of attention and the feed-forward blocks: nearly all of its arithmetic).
///
/// [`MatmulPrecision::Bf16`] is mixed precision as `torch.autocast` runs it on a CPU:
/// parameters, optimiser state, activations between the products, norms, softmax and
/// the loss stay in float32; each linear map rounds its input and weight to bfloat16,
/// multiplies them with float32 accumulation and returns float32. The gradients of
/// the products are bfloat16 products too (the casts' backward passes), and arrive at
/// the float32 parameters as float32. Attention's own score and context products are
/// bfloat16 products too ([`matmul`]: autocast runs `matmul` in bfloat16, and these
/// many small per-head products were 16 % of a bf16 training step in float32); the
/// tied output projection stays float32 (a few percent of the work).
///
/// It pays where the backend has fast bfloat16 kernels: LibTorch on a CPU with
/// AVX512-BF16 or AMX (oneDNN). Flex multiplies bfloat16 by converting it to float32,
/// so there it only costs time (it computes the same rounded numbers, which is what
/// the tests check).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatmulPrecision {
    /// Float32 throughout (the default, and every run before the option existed).
    #[default]
    F32,
    /// Products in bfloat16 with float32 accumulation; everything else float32.
    Bf16,
}

impl MatmulPrecision {
    /// The name used on the command line and in reports: `f32` or `bf16`.
    pub fn name(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::Bf16 => "bf16",
        }
    }
}

impl std::fmt::Display for MatmulPrecision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for MatmulPrecision {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "f32" => Ok(Self::F32),
            "bf16" => Ok(Self::Bf16),
            other => Err(format!("unknown matmul precision `{other}` (expected f32 or bf16)")),
        }
    }
}

/// Applies `linear` to `[rows, len, d_input]` as one `[rows * len, d_input]` matrix
/// product, in `precision`.
///
/// Burn's `Linear::forward` on a 3-d input runs a batched product against the weight
/// broadcast per row, and its weight gradient materialises one `[d_input, d_output]`
/// product per row before summing them; flattening first makes both one GEMM.
///
/// # Shapes
///
/// - x: `[rows, len, d_input]`
/// - output: `[rows, len, d_output]`
pub fn linear3<B: Backend>(linear: &Linear<B>, x: Tensor<B, 3>, precision: MatmulPrecision) -> Tensor<B, 3> {
    let [rows, len, d_input] = x.dims();
    let x = x.reshape([rows * len, d_input]);
    let y = match precision {
        MatmulPrecision::F32 => linear.forward(x),
        MatmulPrecision::Bf16 => {
            let y = matmul(x, linear.weight.val(), precision);
            match &linear.bias {
                Some(bias) => y + bias.val().unsqueeze_dim::<2>(0),
                None => y,
            }
        }
    };
    let d_output = y.dims()[1];
    y.reshape([rows, len, d_output])
}

/// The (batched) product `a · b` in `precision`: attention's per-head scores and
/// contexts (rank 4), and [`linear3`]'s flattened product (rank 2).
///
/// In bf16 both operands are rounded to bfloat16 (the cast also lays out a transposed
/// or head-split operand, a copy the product needed anyway) and the product comes
/// back in `a`'s float type, as `torch.autocast` runs `matmul` on a CPU. Small batched
/// products are where float32 is slowest against bfloat16: PyTorch 2.9 on one Zen 5
/// thread runs `[1536, 82, 64] x [1536, 64, 82]` 3-6x faster in bfloat16.
///
/// # Shapes
///
/// - a: `[..., m, k]`
/// - b: `[..., k, n]` (the leading dimensions as `a`'s, or broadcast)
/// - output: `[..., m, n]`
pub fn matmul<B: Backend, const D: usize>(a: Tensor<B, D>, b: Tensor<B, D>, precision: MatmulPrecision) -> Tensor<B, D> {
    match precision {
        MatmulPrecision::F32 => a.matmul(b),
        MatmulPrecision::Bf16 => {
            let dtype = FloatDType::from(a.dtype());
            a.cast(FloatDType::BF16).matmul(b.cast(FloatDType::BF16)).cast(dtype)
        }
    }
}

/// ReLU whose gradient, on LibTorch, is one multiply.
///
/// Burn 0.21's LibTorch backend keeps Burn's default ReLU backward: a comparison and
/// then PyTorch's `masked_fill_`, whose CPU kernel walks a boolean mask one element at a
/// time. For the paper shape's feed-forward activations (`[7,680, 1,024]`) it takes
/// 58 ms against 4 ms for a multiply (PyTorch 2.9, one thread): 9 % of a training
/// step in a `perf` profile of a leave-one-out run. There, under autodiff, the output
/// is the input times its own 0/1 mask (`sign(relu(x))`, computed off the graph), so
/// the backward is `grad * mask`: the same values, zero where the input was not
/// positive. Every other backend (Flex's backward is one fused pass) and every
/// inference pass keeps Burn's `relu`.
///
/// # Shapes
///
/// - x, output: any
pub fn relu<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    let device = x.device();
    if B::ad_enabled(&device) && B::name(&device).contains("libtorch") {
        return relu_by_mask(x);
    }
    burn::tensor::activation::relu(x)
}

/// `x * sign(relu(x))`, the mask computed off the autodiff graph: ReLU's values (a
/// negative input gives -0.0), and a gradient that is one multiply by the mask.
fn relu_by_mask<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    let mask = burn::tensor::activation::relu(x.clone().detach()).sign();
    x * mask
}

/// Softmax over the last axis of a 4-d tensor, computed on a 2-d view.
///
/// # Shapes
///
/// - x, output: `[a, b, c, d]`
pub fn softmax4<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    let dims = x.dims();
    softmax(x.reshape([dims[0] * dims[1] * dims[2], dims[3]]), 1).reshape(dims)
}

/// Log-softmax over the last axis of a 3-d tensor, computed on a 2-d view.
///
/// # Shapes
///
/// - x, output: `[a, b, c]`
pub fn log_softmax3<B: Backend>(x: Tensor<B, 3>) -> Tensor<B, 3> {
    let dims = x.dims();
    log_softmax(x.reshape([dims[0] * dims[1], dims[2]]), 1).reshape(dims)
}

/// T5's RMSNorm: `x / sqrt(mean(x^2) + eps) * gamma`, without mean subtraction.
#[derive(Module, Debug)]
pub struct RmsNorm<B: Backend> {
    /// Learned scale, `[d_model]`, initialised to ones.
    pub gamma: Param<Tensor<B, 1>>,
    /// Added to the mean square.
    pub epsilon: f64,
}

impl<B: Backend> RmsNorm<B> {
    /// A norm over `d_model` features.
    pub fn new(d_model: usize, epsilon: f64, device: &B::Device) -> Self {
        Self {
            gamma: Param::from_tensor(Tensor::ones([d_model], device)),
            epsilon,
        }
    }

    /// # Shapes
    ///
    /// - x, output: `[rows, len, d_model]`
    pub fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let dims = x.dims();
        let flat = x.reshape([dims[0] * dims[1], dims[2]]); // [rows * len, d_model]
        let rms = (flat.clone().square().mean_dim(1) + self.epsilon).sqrt(); // [rows * len, 1]
        let normed = flat / rms * self.gamma.val().unsqueeze_dim::<2>(0);
        normed.reshape(dims)
    }
}

/// Inverted dropout whose masks come from a seeded counter-based generator shared by
/// all layers of a model, so training is reproducible regardless of other users of
/// the backend's global generator. Active only on autodiff backends.
///
/// Burn's own `Dropout` samples its mask through the backend's distribution sampler,
/// which on the CPU backend costs more than the masked multiply itself; a SplitMix64
/// stream is an order of magnitude cheaper. This is the one host-side dropout of the
/// workspace: TIGER and the UniSRec drafter both use it.
#[derive(Module, Debug, Clone)]
pub struct Dropout {
    /// Probability of zeroing an element.
    pub prob: f64,
    /// The generator state shared by every dropout site of the model.
    #[module(skip)]
    pub rng: DropoutRng,
}

/// The shared state of the dropout generator: a counter, advanced by a fixed odd step
/// for each mask; each mask is the SplitMix64 stream from the counter's value.
#[derive(Debug, Clone)]
pub struct DropoutRng {
    state: Arc<AtomicU64>,
    step: u64,
}

/// TIGER's step between masks (the golden-ratio increment).
const TIGER_STEP: u64 = 0x9E37_79B9_7F4A_7C15;

impl Default for DropoutRng {
    /// TIGER's generator (its checkpoints keep the counter, so its step must not change).
    fn default() -> Self {
        Self::with_step(TIGER_STEP)
    }
}

impl DropoutRng {
    /// A generator whose counter advances by `step` per mask. Another model's own step
    /// keeps the masks it was trained with (UniSRec's is `0xD1B5_4A32_D192_ED03`).
    pub fn with_step(step: u64) -> Self {
        Self { state: Arc::new(AtomicU64::new(0)), step }
    }

    /// Restarts the generator from `seed`.
    pub fn reseed(&self, seed: u64) {
        self.state.store(seed, Ordering::SeqCst);
    }

    /// The generator's current state: [`DropoutRng::reseed`] with it continues the
    /// same sequence of masks (a mid-epoch checkpoint keeps it).
    pub fn state(&self) -> u64 {
        self.state.load(Ordering::SeqCst)
    }

    /// A fresh stream start for one mask.
    fn next_stream(&self) -> u64 {
        self.state.fetch_add(self.step, Ordering::SeqCst)
    }

    /// A tensor of standard normal draws (Box–Muller), from the next stream: the
    /// UniSRec adaptor's gate noise.
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

impl Dropout {
    /// A dropout of probability `prob` drawing from `rng`.
    pub fn new(prob: f64, rng: DropoutRng) -> Self {
        Self { prob, rng }
    }

    /// Zeroes each element with probability `prob` and scales the rest by `1 / (1 - prob)`.
    ///
    /// # Shapes
    ///
    /// - input, output: any
    pub fn forward<B: Backend, const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        let device = x.device();
        if self.prob <= 0.0 || !B::ad_enabled(&device) {
            return x;
        }
        let shape = x.shape();
        let n = shape.num_elements();
        let keep = 1.0 / (1.0 - self.prob) as f32;
        // Compare 32-bit halves against prob * 2^32.
        let threshold = (self.prob.min(1.0) * 4_294_967_296.0) as u64;
        // The stream's outputs by index (`recdata::rng::splitmix64_at`): the same masks as
        // drawing them in turn, in a loop without a dependency between iterations (1.7x
        // the sequential loop in isolation; no measurable change in a whole training
        // step: experiments/results/gr-model/dropout-by-index/).
        let start = self.rng.next_stream();
        let pairs = n.div_ceil(2) as u64;
        let pick = |half: u64| if half < threshold { 0.0f32 } else { keep };
        let mut mask = Vec::with_capacity(2 * pairs as usize);
        mask.extend((1..=pairs).flat_map(|i| {
            let bits = recdata::rng::splitmix64_at(start, i);
            [pick(bits & 0xFFFF_FFFF), pick(bits >> 32)]
        }));
        mask.truncate(n);
        x * Tensor::<B, D>::from_data(TensorData::new(mask, shape), &device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, Flex};

    type Ad = Autodiff<Flex>;

    fn draw(rng: &DropoutRng, prob: f64) -> Vec<f32> {
        let x = Tensor::<Ad, 2>::ones([100, 100], &Default::default());
        Dropout::new(prob, rng.clone())
            .forward(x)
            .into_data()
            .to_vec::<f32>()
            .unwrap()
    }

    /// The masks as they were first defined: SplitMix64 drawn in turn from the stream's
    /// start, two 32-bit halves per draw, low half first. Every checkpoint's dropout
    /// counter assumes these masks, so they must never change.
    fn sequential_mask(start: u64, n: usize, prob: f64) -> Vec<f32> {
        let keep = 1.0 / (1.0 - prob) as f32;
        let threshold = (prob * 4_294_967_296.0) as u64;
        let mut state = start;
        let mut mask = Vec::new();
        while mask.len() < n {
            let bits = recdata::rng::splitmix64(&mut state);
            for half in [bits & 0xFFFF_FFFF, bits >> 32] {
                mask.push(if half < threshold { 0.0f32 } else { keep });
            }
        }
        mask.truncate(n);
        mask
    }

    #[test]
    fn dropout_masks_are_the_sequential_streams() {
        let rng = DropoutRng::default();
        rng.reseed(77);
        for (prob, start) in [(0.1, 77u64), (0.5, 77u64.wrapping_add(TIGER_STEP))] {
            // 10,000 elements (even) and then an odd count, from consecutive streams.
            let got = draw(&rng, prob);
            assert_eq!(got, sequential_mask(start, 10_000, prob), "p {prob}");
        }
        let x = Tensor::<Ad, 1>::ones([7], &Default::default());
        let odd = Dropout::new(0.3, rng.clone()).forward(x).into_data().to_vec::<f32>().unwrap();
        assert_eq!(odd, sequential_mask(77u64.wrapping_add(2u64.wrapping_mul(TIGER_STEP)), 7, 0.3));
    }

    #[test]
    fn dropout_rate_scale_and_seeding() {
        let rng = DropoutRng::default();
        rng.reseed(5);
        let a = draw(&rng, 0.1);
        let zeros = a.iter().filter(|&&v| v == 0.0).count();
        // 10,000 Bernoulli(0.1) draws: 1000 expected, standard deviation 30.
        assert!((850..1150).contains(&zeros), "{zeros} zeros");
        assert!(a.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.9).abs() < 1e-6));
        assert_ne!(a, draw(&rng, 0.1), "successive masks differ");
        rng.reseed(5);
        assert_eq!(a, draw(&rng, 0.1), "reseeding repeats the masks");
        // Inactive without autodiff.
        let x = Tensor::<Flex, 2>::ones([4, 4], &Default::default());
        let y = Dropout::new(0.5, rng)
            .forward(x)
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        assert!(y.iter().all(|&v| v == 1.0));
    }

    #[test]
    fn relu_by_mask_has_relus_values_and_gradient() {
        let device = Default::default();
        let values = [[-2.0f32, -0.0, 0.0, 0.5], [3.0, -1e-30, 1e-30, -7.0]];
        let upstream = Tensor::<Ad, 2>::from_floats([[1.0, 2.0, 3.0, 4.0], [-5.0, 6.0, 7.0, -8.0]], &device);
        let run = |by_mask: bool| {
            let x = Tensor::<Ad, 2>::from_floats(values, &device).require_grad();
            let y = if by_mask { relu_by_mask(x.clone()) } else { burn::tensor::activation::relu(x.clone()) };
            let grads = (y.clone() * upstream.clone()).sum().backward();
            let dx = x.grad(&grads).unwrap().into_data().to_vec::<f32>().unwrap();
            (y.into_data().to_vec::<f32>().unwrap(), dx)
        };
        let (y, dx) = run(true);
        assert_eq!(run(false), (y.clone(), dx.clone()), "values compare equal (-0.0 == 0.0) and gradients too");
        assert_eq!(y, [0.0, 0.0, 0.0, 0.5, 3.0, 0.0, 1e-30, 0.0]);
        assert_eq!(dx, [0.0, 0.0, 0.0, 4.0, -5.0, 0.0, 7.0, 0.0], "zero gradient where the input is not positive");
        // The plain `relu` is Burn's on every backend but LibTorch under autodiff.
        let x = Tensor::<Ad, 2>::from_floats(values, &device);
        assert_eq!(relu(x).into_data().to_vec::<f32>().unwrap(), y);
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

    #[test]
    fn rms_norm_matches_hand_computation() {
        let device = Default::default();
        let x = Tensor::<Flex, 3>::from_floats([[[3.0, 4.0], [1.0, -1.0]]], &device);
        let y = RmsNorm::new(2, 1e-6, &device)
            .forward(x)
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        // rms([3, 4]) = sqrt(12.5); rms([1, -1]) = 1.
        let r = 12.5f32.sqrt();
        let expected = [3.0 / r, 4.0 / r, 1.0, -1.0];
        for (a, b) in y.iter().zip(expected) {
            assert!((a - b).abs() < 1e-5, "{y:?}");
        }
    }
}
