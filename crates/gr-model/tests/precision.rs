//! Mixed precision (`MatmulPrecision::Bf16`): what the bfloat16 products compute,
//! checked against a host computation of the same rounding, and what that does to
//! the model's scores, loss and gradients.

use burn::backend::Autodiff;
use burn::module::{AutodiffModule, Module, ModuleVisitor, Param};
use burn::nn::Linear;
use burn::optim::{AdamWConfig, GradientsParams, Optimizer};
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor, TensorData, bf16};
use gr_model::ops::{linear3, matmul};
use gr_model::{MatmulPrecision, Tiger, TigerConfig, TigerPreset, TrainBatch, TrainExample};

use crate::common::{TestBackend, device, encode, ids, layout, materialised, max_diff, model, rng_lock, trie};

type TrainBackend = Autodiff<TestBackend>;

fn round(x: f32) -> f32 {
    bf16::from_f32(x).to_f32()
}

/// Deterministic values in about [-1, 1] that bfloat16 cannot hold exactly.
fn values(n: usize, salt: u32) -> Vec<f32> {
    (0..n as u32)
        .map(|i| {
            let h = (i.wrapping_mul(2_654_435_761) ^ salt.wrapping_mul(40_503)).wrapping_mul(2_246_822_519);
            (h >> 8) as f32 / (1u32 << 23) as f32 - 1.0 + 1e-4
        })
        .collect()
}

#[test]
fn bf16_products_round_inputs_and_weights_and_return_f32() {
    let device = device();
    let (rows, len, d_in, d_out) = (3, 2, 40, 5);
    let x = values(rows * len * d_in, 1);
    let w = values(d_in * d_out, 2);
    let bias = values(d_out, 3);
    let linear = Linear::<TestBackend> {
        weight: Param::from_tensor(Tensor::from_data(TensorData::new(w.clone(), [d_in, d_out]), &device)),
        bias: Some(Param::from_tensor(Tensor::from_data(TensorData::new(bias.clone(), [d_out]), &device))),
    };
    let input = Tensor::<TestBackend, 3>::from_data(TensorData::new(x.clone(), [rows, len, d_in]), &device);
    let out = linear3(&linear, input.clone(), MatmulPrecision::Bf16);
    assert_eq!(out.dtype(), DType::F32, "the product comes back as float32");
    let got = out.into_data().to_vec::<f32>().unwrap();
    let exact = linear3(&linear, input, MatmulPrecision::F32).into_data().to_vec::<f32>().unwrap();
    // The host computation: bf16(sum of bf16(x) * bf16(w)), then the float32 bias.
    let mut expected = Vec::new();
    for r in 0..rows * len {
        for o in 0..d_out {
            let dot: f64 = (0..d_in).map(|i| f64::from(round(x[r * d_in + i])) * f64::from(round(w[i * d_out + o]))).sum();
            expected.push((round(dot as f32), bias[o]));
        }
    }
    for (g, (product, b)) in got.iter().zip(&expected) {
        // One bfloat16 step of the product (2^-8 relative, so 2^-7 to be safe) covers a
        // float32 sum that rounds the other way at its last bit.
        let e = product + b;
        assert!((g - e).abs() <= product.abs() * 2f32.powi(-7) + 1e-6, "bf16 {g} vs host {e}");
    }
    assert!(max_diff(&got, &exact) > 0.0, "the bf16 path rounds: it differs from float32");
    assert!(max_diff(&got, &exact) < 0.1, "and stays near it: {}", max_diff(&got, &exact));
}

/// Attention's per-head products (`matmul`) in bf16: both operands rounded, the
/// product returned as float32, against the same rounding on the host; and through
/// autodiff, gradients that are float32 and near float32's.
#[test]
fn bf16_attention_products_round_both_operands_and_return_f32() {
    let device = device();
    let (b0, b1, m, k, n) = (2, 3, 4, 40, 5);
    let a = values(b0 * b1 * m * k, 4);
    let b = values(b0 * b1 * k * n, 5);
    let ta = Tensor::<TestBackend, 4>::from_data(TensorData::new(a.clone(), [b0, b1, m, k]), &device);
    let tb = Tensor::<TestBackend, 4>::from_data(TensorData::new(b.clone(), [b0, b1, k, n]), &device);
    let out = matmul(ta.clone(), tb.clone(), MatmulPrecision::Bf16);
    assert_eq!(out.dtype(), DType::F32, "the product comes back as float32");
    assert_eq!(out.dims(), [b0, b1, m, n]);
    let got = out.into_data().to_vec::<f32>().unwrap();
    let exact = matmul(ta, tb, MatmulPrecision::F32).into_data().to_vec::<f32>().unwrap();
    let mut expected = Vec::new();
    for batch in 0..b0 * b1 {
        for r in 0..m {
            for c in 0..n {
                let dot: f64 = (0..k)
                    .map(|i| f64::from(round(a[(batch * m + r) * k + i])) * f64::from(round(b[(batch * k + i) * n + c])))
                    .sum();
                expected.push(dot as f32);
            }
        }
    }
    for (g, e) in got.iter().zip(&expected) {
        assert!((g - e).abs() <= e.abs() * 2f32.powi(-7) + 1e-6, "bf16 {g} vs host {e}");
    }
    assert!(max_diff(&got, &exact) > 0.0, "the bf16 path rounds: it differs from float32");
    // A transposed operand (as the scores' keys are) gives the same product.
    let tb_t = Tensor::<TestBackend, 4>::from_data(TensorData::new(b.clone(), [b0, b1, k, n]), &device)
        .swap_dims(2, 3)
        .into_data();
    let tb_t = Tensor::<TestBackend, 4>::from_data(tb_t, &device).swap_dims(2, 3);
    let ta = Tensor::<TestBackend, 4>::from_data(TensorData::new(a.clone(), [b0, b1, m, k]), &device);
    let strided = matmul(ta, tb_t, MatmulPrecision::Bf16).into_data().to_vec::<f32>().unwrap();
    assert_eq!(strided, got, "a strided operand multiplies as its contiguous copy");
    // Gradients: float32, within bf16 rounding of float32's.
    let grads = |precision| {
        let ta = Tensor::<TrainBackend, 4>::from_data(TensorData::new(a.clone(), [b0, b1, m, k]), &device).require_grad();
        let tb = Tensor::<TrainBackend, 4>::from_data(TensorData::new(b.clone(), [b0, b1, k, n]), &device).require_grad();
        let g = matmul(ta.clone(), tb.clone(), precision).powi_scalar(2).sum().backward();
        let (ga, gb) = (ta.grad(&g).unwrap(), tb.grad(&g).unwrap());
        assert_eq!((ga.dtype(), gb.dtype()), (DType::F32, DType::F32), "gradients stay float32");
        let mut all = ga.into_data().to_vec::<f32>().unwrap();
        all.extend(gb.into_data().to_vec::<f32>().unwrap());
        all
    };
    let (g32, g16) = (grads(MatmulPrecision::F32), grads(MatmulPrecision::Bf16));
    let scale = g32.iter().fold(0f32, |m, x| m.max(x.abs()));
    let diff = max_diff(&g32, &g16);
    assert!(diff > 0.0 && diff < 0.02 * scale, "gradient differs by {diff} (largest {scale})");
}

/// Sum of squares and count of every parameter gradient.
struct GradNorms<'a> {
    grads: &'a GradientsParams,
    all: Vec<f32>,
    dtypes_f32: bool,
}

impl ModuleVisitor<TrainBackend> for GradNorms<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<TrainBackend, D>>) {
        self.dtypes_f32 &= param.val().dtype() == DType::F32;
        if let Some(g) = self.grads.get::<<TrainBackend as burn::tensor::backend::AutodiffBackend>::InnerBackend, D>(param.id) {
            self.dtypes_f32 &= g.dtype() == DType::F32;
            self.all.extend(g.into_data().convert::<f32>().to_vec::<f32>().unwrap());
        }
    }
}

fn loss_and_grads(model: &Tiger<TrainBackend>) -> (f32, Vec<f32>, bool) {
    let ids = ids();
    let examples: Vec<TrainExample> =
        (0..8u32).map(|i| TrainExample { history: vec![i, (i + 3) % 14, (i + 7) % 14], target: (i * 5 + 1) % 14 }).collect();
    let refs: Vec<&TrainExample> = examples.iter().collect();
    let batch = TrainBatch::new(&refs, &ids, 20, 0, &device()).unwrap();
    let loss = model.loss(&batch);
    let value = loss.clone().into_data().to_vec::<f32>().unwrap()[0];
    let grads = GradientsParams::from_grads(loss.backward(), model);
    let mut visitor = GradNorms { grads: &grads, all: Vec::new(), dtypes_f32: true };
    model.visit(&mut visitor);
    (value, visitor.all, visitor.dtypes_f32)
}

#[test]
fn a_bf16_model_keeps_f32_weights_and_gradients_close_to_f32_ones() {
    let model = {
        let _guard = rng_lock();
        TrainBackend::seed(&device(), 11);
        materialised(
            TigerConfig::preset(TigerPreset::Tiny, layout().vocab_size())
                .with_dropout(0.0)
                .init::<TrainBackend>(&device())
                .unwrap(),
        )
    };
    assert_eq!(model.matmul_precision(), MatmulPrecision::F32, "a new model is float32");
    let (loss32, grads32, f32_32) = loss_and_grads(&model);
    let mut half = model.clone();
    half.set_matmul_precision(MatmulPrecision::Bf16);
    assert_eq!(half.matmul_precision(), MatmulPrecision::Bf16);
    let (loss16, grads16, f32_16) = loss_and_grads(&half);
    assert!(f32_32 && f32_16, "parameters and their gradients stay float32");
    assert_ne!(loss16, loss32, "the bf16 products change the loss");
    assert!((loss16 - loss32).abs() < 0.02 * loss32.abs(), "loss bf16 {loss16} vs f32 {loss32}");
    // The gradient as a whole points the same way (cosine) with a similar norm.
    let dot: f64 = grads32.iter().zip(&grads16).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum();
    let n32: f64 = grads32.iter().map(|a| f64::from(*a).powi(2)).sum::<f64>().sqrt();
    let n16: f64 = grads16.iter().map(|a| f64::from(*a).powi(2)).sum::<f64>().sqrt();
    let cosine = dot / (n32 * n16);
    assert!(cosine > 0.999, "cosine {cosine}");
    assert!((n16 / n32 - 1.0).abs() < 0.02, "norms {n16} vs {n32}");
    // The precision survives an optimiser step (which rebuilds the module) and a fork.
    let grads = {
        let ids = ids();
        let examples = [TrainExample { history: vec![1, 2], target: 3 }];
        let refs: Vec<&TrainExample> = examples.iter().collect();
        let batch = TrainBatch::new(&refs, &ids, 20, 0, &device()).unwrap();
        GradientsParams::from_grads(half.loss(&batch).backward(), &half)
    };
    let mut optim = AdamWConfig::new().init::<TrainBackend, Tiger<TrainBackend>>();
    let stepped = optim.step(1e-3, half.clone(), grads);
    assert_eq!(stepped.matmul_precision(), MatmulPrecision::Bf16, "after an optimiser step");
    assert_eq!(stepped.fork(&device()).matmul_precision(), MatmulPrecision::Bf16, "after a fork");
    // Saved weights carry no precision: a model loaded from them is float32 again.
    let dir = std::env::temp_dir().join(format!("gr-model-test-precision-{}", std::process::id()));
    half.valid().save(&dir).unwrap();
    let loaded = Tiger::<TestBackend>::load(&dir, &device()).unwrap();
    assert_eq!(loaded.matmul_precision(), MatmulPrecision::F32);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Inference in bf16 (`specgr eval --matmul bf16`, as the reference's autocast): the
/// encoder states, the verifier's per-digit log-probabilities and the beams' scores stay
/// within bf16 rounding of float32's, and do differ (the products really are bf16).
#[test]
fn bf16_inference_scores_and_beams_stay_within_rounding_of_f32() {
    let ids = ids();
    let f32_model = model(21);
    let mut half = f32_model.clone();
    half.set_matmul_precision(MatmulPrecision::Bf16);
    let (enc32, enc16) = (encode(&f32_model, &ids), encode(&half, &ids));
    let candidates: Vec<Vec<Vec<u32>>> = (0..enc32.num_queries())
        .map(|q| (0..14).filter(|i| (i + q as u32) % 2 == 0).map(|i| ids.codes(i).to_vec()).collect())
        .collect();
    let s32 = f32_model.score(&enc32, &candidates, &layout()).unwrap();
    let s16 = half.score(&enc16, &candidates, &layout()).unwrap();
    let flat = |s: &gr_model::CandidateScores| -> Vec<f32> { s.log_probs.iter().flatten().flatten().copied().collect() };
    let (a, b) = (flat(&s32), flat(&s16));
    assert!(!a.is_empty());
    assert_ne!(a, b, "the bf16 products change the log-probabilities");
    let diff = max_diff(&a, &b);
    assert!(diff < 0.05, "per-digit log-probability differs by {diff}");
    let trie = trie(&ids);
    let beams32 = f32_model.beam_search(&enc32, &layout(), 5, 4, gr_model::Constraint::Trie(&trie)).unwrap();
    let beams16 = half.beam_search(&enc16, &layout(), 5, 4, gr_model::Constraint::Trie(&trie)).unwrap();
    let best = |steps: &[Vec<Vec<gr_model::Beam>>]| -> Vec<f32> {
        steps.last().unwrap().iter().map(|beams| beams.iter().map(|b| b.log_prob).fold(f32::MIN, f32::max)).collect()
    };
    let diff = max_diff(&best(&beams32), &best(&beams16));
    assert!(diff < 0.1, "the best beam's score differs by {diff}");
}
