//! An independent oracle: BERT sentence embedding written as plain loops over the
//! checkpoint's tensors in Hugging Face layout (`y = x Wᵀ + b`), following
//! `transformers.models.bert.modeling_bert` and sentence-transformers' mean pooling.

use std::collections::HashMap;

use text_encoder::bert::BertConfig;

use crate::common::NamedTensor;

struct Weights<'a>(HashMap<&'a str, &'a [f32]>);

impl Weights<'_> {
    fn get(&self, name: &str) -> &[f32] {
        self.0[name]
    }
}

/// `x` is `[t, inp]`, `w` is `[out, inp]`.
fn linear(x: &[Vec<f64>], w: &[f32], b: &[f32]) -> Vec<Vec<f64>> {
    let out = b.len();
    x.iter()
        .map(|row| {
            (0..out)
                .map(|o| {
                    let w_row = &w[o * row.len()..(o + 1) * row.len()];
                    b[o] as f64
                        + row
                            .iter()
                            .zip(w_row)
                            .map(|(a, &w)| a * w as f64)
                            .sum::<f64>()
                })
                .collect()
        })
        .collect()
}

fn layer_norm(x: &mut [Vec<f64>], gamma: &[f32], beta: &[f32], eps: f64) {
    for row in x {
        let n = row.len() as f64;
        let mean = row.iter().sum::<f64>() / n;
        let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        for (i, v) in row.iter_mut().enumerate() {
            *v = (*v - mean) / (var + eps).sqrt() * gamma[i] as f64 + beta[i] as f64;
        }
    }
}

/// erf by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7).
fn erf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let y = 1.0 - poly * (-x * x).exp();
    if x < 0.0 { -y } else { y }
}

fn gelu(x: f64) -> f64 {
    0.5 * x * (1.0 + erf(x / std::f64::consts::SQRT_2))
}

/// The normalised sentence embedding of one unpadded id sequence.
pub fn embed(config: &BertConfig, tensors: &[NamedTensor], ids: &[u32]) -> Vec<f32> {
    let w = Weights(
        tensors
            .iter()
            .map(|(name, _, data)| (name.as_str(), data.as_slice()))
            .collect(),
    );
    let d = config.hidden_size;
    let eps = config.layer_norm_eps;
    let (word, pos, ty) = (
        w.get("embeddings.word_embeddings.weight"),
        w.get("embeddings.position_embeddings.weight"),
        w.get("embeddings.token_type_embeddings.weight"),
    );
    let mut x: Vec<Vec<f64>> = ids
        .iter()
        .enumerate()
        .map(|(t, &id)| {
            let id = id as usize;
            (0..d)
                .map(|i| (word[id * d + i] + pos[t * d + i] + ty[i]) as f64)
                .collect()
        })
        .collect();
    layer_norm(
        &mut x,
        w.get("embeddings.LayerNorm.weight"),
        w.get("embeddings.LayerNorm.bias"),
        eps,
    );
    let heads = config.num_attention_heads;
    let dh = d / heads;
    for l in 0..config.num_hidden_layers {
        let p = |name: &str| format!("encoder.layer.{l}.{name}");
        let lin = |x: &[Vec<f64>], name: &str| {
            linear(
                x,
                w.get(&p(&format!("{name}.weight"))),
                w.get(&p(&format!("{name}.bias"))),
            )
        };
        let q = lin(&x, "attention.self.query");
        let k = lin(&x, "attention.self.key");
        let v = lin(&x, "attention.self.value");
        let n = x.len();
        let mut context = vec![vec![0.0; d]; n];
        for h in 0..heads {
            let r = h * dh..(h + 1) * dh;
            for i in 0..n {
                let scores: Vec<f64> = (0..n)
                    .map(|j| {
                        q[i][r.clone()]
                            .iter()
                            .zip(&k[j][r.clone()])
                            .map(|(a, b)| a * b)
                            .sum::<f64>()
                            / (dh as f64).sqrt()
                    })
                    .collect();
                let max = scores.iter().cloned().fold(f64::MIN, f64::max);
                let exp: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
                let total: f64 = exp.iter().sum();
                for j in 0..n {
                    for c in r.clone() {
                        context[i][c] += exp[j] / total * v[j][c];
                    }
                }
            }
        }
        let mut a = lin(&context, "attention.output.dense");
        for (a, x) in a.iter_mut().zip(&x) {
            a.iter_mut().zip(x).for_each(|(a, x)| *a += x);
        }
        layer_norm(
            &mut a,
            w.get(&p("attention.output.LayerNorm.weight")),
            w.get(&p("attention.output.LayerNorm.bias")),
            eps,
        );
        let mut hidden = lin(&a, "intermediate.dense");
        hidden.iter_mut().flatten().for_each(|v| *v = gelu(*v));
        let mut out = lin(&hidden, "output.dense");
        for (o, a) in out.iter_mut().zip(&a) {
            o.iter_mut().zip(a).for_each(|(o, a)| *o += a);
        }
        layer_norm(
            &mut out,
            w.get(&p("output.LayerNorm.weight")),
            w.get(&p("output.LayerNorm.bias")),
            eps,
        );
        x = out;
    }
    let mean: Vec<f64> = (0..d)
        .map(|i| x.iter().map(|row| row[i]).sum::<f64>() / x.len() as f64)
        .collect();
    let norm = mean.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-12);
    mean.iter().map(|v| (v / norm) as f32).collect()
}
