//! The 2-d UniSRec transformer and the per-expert adaptor against independent
//! oracles: Burn's own `TransformerEncoder` (post-LN, causal mask, read at each
//! history's last position — the model as first written) with the same weights,
//! and the adaptor's formula evaluated with plain loops on the host.

use burn::backend::{Autodiff, Flex};
use burn::module::Param;
use burn::nn::Linear;
use burn::nn::attention::generate_autoregressive_mask;
use burn::nn::transformer::{TransformerEncoder, TransformerEncoderConfig, TransformerEncoderInput};
use burn::prelude::*;
use burn::tensor::Distribution;
use drafters::unisrec::{UniSRecModel, l2_normalize};
use drafters::{UniSRecConfig, unisrec::MoeAdaptorConfig, unisrec::DropoutRng};

use crate::TestRng;

const D_MODEL: usize = 8;

fn config(n_layers: usize) -> UniSRecConfig {
    UniSRecConfig::new(6).with_d_model(D_MODEL).with_d_inner(12).with_n_heads(2).with_n_layers(n_layers).with_max_history(7).with_hidden_dropout(0.0)
}

fn random<B: Backend, const D: usize>(shape: [usize; D], device: &B::Device) -> Tensor<B, D> {
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), device)
}

/// Burn's encoder, and our model holding the same linear maps and norms (norms
/// given random scales and shifts, so a swapped norm would show).
fn pair<B: Backend>(n_layers: usize, device: &B::Device) -> (UniSRecModel<B>, TransformerEncoder<B>) {
    let c = config(n_layers);
    let mut enc = TransformerEncoderConfig::new(D_MODEL, c.d_inner, c.n_heads, n_layers)
        .with_dropout(0.0)
        .with_norm_first(false)
        .with_layer_norm_eps(c.layer_norm_eps)
        .init::<B>(device);
    let mut model = c.init::<B>(device);
    for (mine, theirs) in model.layers.iter_mut().zip(enc.layers.iter_mut()) {
        for norm in [&mut theirs.norm_1, &mut theirs.norm_2] {
            norm.gamma = Param::from_tensor(random([D_MODEL], device));
            norm.beta = Some(Param::from_tensor(random([D_MODEL], device)));
        }
        mine.query = shared(&theirs.mha.query);
        mine.key = shared(&theirs.mha.key);
        mine.value = shared(&theirs.mha.value);
        mine.output = shared(&theirs.mha.output);
        mine.ffn_inner = shared(&theirs.pwff.linear_inner);
        mine.ffn_outer = shared(&theirs.pwff.linear_outer);
        mine.norm_attn = theirs.norm_1.clone();
        mine.norm_ffn = theirs.norm_2.clone();
    }
    (model, enc)
}

/// A clone holding the same parameters: parameters are initialised lazily, so
/// they are read first (a clone of an unread parameter initialises anew).
fn shared<B: Backend>(linear: &Linear<B>) -> Linear<B> {
    let _ = linear.weight.val();
    if let Some(bias) = &linear.bias {
        let _ = bias.val();
    }
    linear.clone()
}

/// The first implementation: 3-d tensors through Burn's encoder, then a one-hot
/// pick of each row's last position.
fn oracle<B: Backend>(model: &UniSRecModel<B>, enc: &TransformerEncoder<B>, items: Tensor<B, 3>, lengths: &[usize]) -> Tensor<B, 2> {
    let [batch, seq, d_model] = items.dims();
    let device = items.device();
    let positions = model.position.forward(Tensor::<B, 1, Int>::arange(0..seq as i64, &device).reshape([1, seq]));
    let h = model.norm.forward(items + positions);
    let h = enc.forward(TransformerEncoderInput::new(h).mask_attn(generate_autoregressive_mask::<B>(batch, seq, &device)));
    let mut pick = vec![0.0f32; batch * seq];
    for (b, &len) in lengths.iter().enumerate() {
        pick[b * seq + len - 1] = 1.0;
    }
    let pick = Tensor::<B, 3>::from_data(TensorData::new(pick, [batch, seq, 1]), &device);
    l2_normalize((h * pick).sum_dim(1).reshape([batch, d_model]))
}

fn assert_close<B: Backend, const D: usize>(a: Tensor<B, D>, b: Tensor<B, D>, tol: f32, what: &str) {
    let (a, b) = (a.into_data().to_vec::<f32>().unwrap(), b.into_data().to_vec::<f32>().unwrap());
    assert_eq!(a.len(), b.len(), "{what}");
    let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
    assert!(worst < tol, "{what}: max |diff| {worst}");
}

const LENGTHS: [usize; 5] = [1, 7, 3, 5, 2];

#[test]
fn sequences_match_burns_encoder() {
    let _guard = crate::rng_lock();
    let device = Default::default();
    Flex::seed(&device, 11);
    for n_layers in [1, 2, 3] {
        let (model, enc) = pair::<Flex>(n_layers, &device);
        let items = random::<Flex, 3>([LENGTHS.len(), 7, D_MODEL], &device);
        let got = model.sequences_from_items(items.clone(), &LENGTHS);
        assert_close(got, oracle(&model, &enc, items, &LENGTHS), 1e-5, &format!("{n_layers} layers"));
    }
}

#[test]
fn gradients_match_burns_encoder() {
    let _guard = crate::rng_lock();
    type Ad = Autodiff<Flex>;
    let device = Default::default();
    Ad::seed(&device, 12);
    let (model, enc) = pair::<Ad>(2, &device);
    let items = random::<Ad, 3>([LENGTHS.len(), 7, D_MODEL], &device).require_grad();
    let weights = random::<Ad, 2>([LENGTHS.len(), D_MODEL], &device);
    let loss = |seq: Tensor<Ad, 2>| (seq * weights.clone()).sum();
    let g_new = loss(model.sequences_from_items(items.clone(), &LENGTHS)).backward();
    let g_old = loss(oracle(&model, &enc, items.clone(), &LENGTHS)).backward();
    let both = |t: Tensor<Ad, 2>, what: &str| assert_close(t.grad(&g_new).unwrap(), t.grad(&g_old).unwrap(), 1e-4, what);
    both(enc.layers[0].mha.query.weight.val(), "layer 0 query");
    both(enc.layers[1].mha.key.weight.val(), "layer 1 key");
    both(enc.layers[1].pwff.linear_outer.weight.val(), "layer 1 ffn outer");
    both(model.position.weight.val(), "positions");
    assert_close(items.grad(&g_new).unwrap(), items.grad(&g_old).unwrap(), 1e-4, "items");
    let gamma = model.norm.gamma.val();
    assert_close(gamma.grad(&g_new).unwrap(), gamma.grad(&g_old).unwrap(), 1e-4, "input norm");
}

#[test]
fn adaptor_matches_its_formula() {
    let _guard = crate::rng_lock();
    let device = Default::default();
    let (d_in, e, d_out, n) = (5, 3, 4, 6);
    let mut moe = MoeAdaptorConfig::new(d_in).with_d_output(d_out).with_n_experts(e).init::<Flex>(&device, &DropoutRng::default());
    let mut rng = TestRng::new(5);
    let mut host = |len: usize| (0..len).map(|_| rng.uniform()).collect::<Vec<f32>>();
    let (w, b, g, x) = (host(d_in * e * d_out), host(e * d_in), host(d_in * e), host(n * d_in));
    let tensor = |v: &[f32], shape: [usize; 2]| Tensor::<Flex, 2>::from_data(TensorData::new(v.to_vec(), shape), &device);
    moe.experts = Param::from_tensor(tensor(&w, [d_in, e * d_out]));
    moe.biases = Param::from_tensor(tensor(&b, [e, d_in]));
    moe.w_gate = Param::from_tensor(tensor(&g, [d_in, e]));
    let got = moe.forward(tensor(&x, [n, d_in])).into_data().to_vec::<f32>().unwrap();
    // out = sum_e softmax(x W_gate)_e W_e^T (x - b_e), with W_e columns e*d_out.. of `experts`.
    for r in 0..n {
        let xr = &x[r * d_in..(r + 1) * d_in];
        let logits: Vec<f32> = (0..e).map(|j| (0..d_in).map(|i| xr[i] * g[i * e + j]).sum()).collect();
        let max = logits.iter().copied().fold(f32::MIN, f32::max);
        let z: f32 = logits.iter().map(|l| (l - max).exp()).sum();
        for o in 0..d_out {
            let expected: f32 = (0..e)
                .map(|j| (logits[j] - max).exp() / z * (0..d_in).map(|i| (xr[i] - b[j * d_in + i]) * w[i * e * d_out + j * d_out + o]).sum::<f32>())
                .sum();
            assert!((got[r * d_out + o] - expected).abs() < 1e-5, "row {r} col {o}: {} vs {expected}", got[r * d_out + o]);
        }
    }
}

