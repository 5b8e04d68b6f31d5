//! Our TIGER against an independent oracle: Hugging Face `transformers`'
//! `T5ForConditionalGeneration`, the model the reference code trains.
//!
//! `tools/hf_t5_fixture.py` builds that model with seeded random weights (layer norms
//! drawn around 1, not HF's all-ones) and no dropout, runs it in float64 on right-padded
//! encoder rows, and stores weights, inputs, encoder states, logits, loss and gradients
//! in `tests/fixtures/hf_t5_tiny.safetensors`. This test loads every HF weight into a
//! [`Tiger`] through the explicit key table below and checks, in float32:
//!
//! - encoder states (all positions, padding included), logits and the loss: largest
//!   absolute difference at most [`FORWARD_ABS`];
//! - the same logits decoded one position at a time with the KV cache, with every
//!   query's row repeated as two beams sharing one cross-attention memory;
//! - gradients of the loss on `Autodiff<Flex>` (`Tiger::loss` on a `TrainBatch`): largest
//!   absolute difference at most [`GRAD_ABS`], and at most [`GRAD_REL`] of the tensor's
//!   largest expected magnitude (relative to scale).
//!
//! Any HF key the table does not consume, any table key missing from the fixture, and
//! any parameter of ours left unassigned fails the test. Set `SPECGR_HF_T5_FIXTURE` to
//! another fixture (e.g. the paper-shaped one, too large to commit) to check it with
//! the same code: `cargo test -p gr-model --test tests hf_t5 -- --nocapture`.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use burn::backend::Autodiff;
use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::nn::Linear;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use gr_model::{DecoderCache, Tiger, TigerConfig, TrainBatch};
use safetensors::{Dtype, SafeTensors};
use semid::TokenLayout;

use crate::common::{TestBackend, device, rng_lock};

/// The committed fixture (`hf_t5_fixture.py --shape tiny`).
const TINY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/hf_t5_tiny.safetensors"
);

/// Names another fixture to check with the same code.
const EXTRA_FIXTURE: &str = "SPECGR_HF_T5_FIXTURE";

/// Largest absolute difference allowed for encoder states, logits and the loss.
const FORWARD_ABS: f32 = 1e-4;
/// Largest absolute difference allowed for a gradient.
const GRAD_ABS: f32 = 1e-3;
/// Largest difference allowed for a gradient, relative to its largest expected magnitude.
const GRAD_REL: f32 = 1e-3;

type Ad = Autodiff<TestBackend>;

// ---------------------------------------------------------------------------------
// The key table: Hugging Face T5 name -> our field.

/// A parameter of [`Tiger`].
#[derive(Debug, Clone, Copy)]
enum Field {
    Shared,
    EncoderBias,
    DecoderBias,
    EncoderNorm,
    DecoderNorm,
    Encoder(usize, EncoderField),
    Decoder(usize, DecoderField),
}

/// A parameter of an [`gr_model::layers::EncoderLayer`].
#[derive(Debug, Clone, Copy)]
enum EncoderField {
    AttentionNorm,
    Q,
    K,
    V,
    Out,
    FfNorm,
    Wi,
    Wo,
}

/// A parameter of a [`gr_model::layers::DecoderLayer`].
#[derive(Debug, Clone, Copy)]
enum DecoderField {
    SelfNorm,
    SelfQ,
    SelfK,
    SelfV,
    SelfOut,
    CrossNorm,
    CrossQ,
    CrossK,
    CrossV,
    CrossOut,
    FfNorm,
    Wi,
    Wo,
}

/// `encoder.block.{i}.` + suffix. HF's `relative_attention_bias` of block 0 is the
/// stack's, mapped in [`key_table`].
const ENCODER_BLOCK: [(&str, EncoderField); 8] = [
    ("layer.0.layer_norm.weight", EncoderField::AttentionNorm),
    ("layer.0.SelfAttention.q.weight", EncoderField::Q),
    ("layer.0.SelfAttention.k.weight", EncoderField::K),
    ("layer.0.SelfAttention.v.weight", EncoderField::V),
    ("layer.0.SelfAttention.o.weight", EncoderField::Out),
    ("layer.1.layer_norm.weight", EncoderField::FfNorm),
    ("layer.1.DenseReluDense.wi.weight", EncoderField::Wi),
    ("layer.1.DenseReluDense.wo.weight", EncoderField::Wo),
];

/// `decoder.block.{i}.` + suffix.
const DECODER_BLOCK: [(&str, DecoderField); 13] = [
    ("layer.0.layer_norm.weight", DecoderField::SelfNorm),
    ("layer.0.SelfAttention.q.weight", DecoderField::SelfQ),
    ("layer.0.SelfAttention.k.weight", DecoderField::SelfK),
    ("layer.0.SelfAttention.v.weight", DecoderField::SelfV),
    ("layer.0.SelfAttention.o.weight", DecoderField::SelfOut),
    ("layer.1.layer_norm.weight", DecoderField::CrossNorm),
    ("layer.1.EncDecAttention.q.weight", DecoderField::CrossQ),
    ("layer.1.EncDecAttention.k.weight", DecoderField::CrossK),
    ("layer.1.EncDecAttention.v.weight", DecoderField::CrossV),
    ("layer.1.EncDecAttention.o.weight", DecoderField::CrossOut),
    ("layer.2.layer_norm.weight", DecoderField::FfNorm),
    ("layer.2.DenseReluDense.wi.weight", DecoderField::Wi),
    ("layer.2.DenseReluDense.wo.weight", DecoderField::Wo),
];

/// HF keys that are `shared.weight` itself when embeddings are tied (the fixture
/// stores only `shared.weight` and names these in its metadata).
const TIED: [&str; 3] = [
    "decoder.embed_tokens.weight",
    "encoder.embed_tokens.weight",
    "lm_head.weight",
];

/// Every HF weight name of a model of `config`'s shape, with the field it fills.
fn key_table(config: &TigerConfig) -> Vec<(String, Field)> {
    let mut table: Vec<(String, Field)> = vec![
        ("shared.weight".into(), Field::Shared),
        (
            "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight".into(),
            Field::EncoderBias,
        ),
        (
            "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight".into(),
            Field::DecoderBias,
        ),
        ("encoder.final_layer_norm.weight".into(), Field::EncoderNorm),
        ("decoder.final_layer_norm.weight".into(), Field::DecoderNorm),
    ];
    for i in 0..config.num_encoder_layers {
        for (suffix, f) in ENCODER_BLOCK {
            table.push((format!("encoder.block.{i}.{suffix}"), Field::Encoder(i, f)));
        }
    }
    for i in 0..config.num_decoder_layers {
        for (suffix, f) in DECODER_BLOCK {
            table.push((format!("decoder.block.{i}.{suffix}"), Field::Decoder(i, f)));
        }
    }
    table
}

/// Where a field lives in our model, and how its layout relates to HF's.
enum Slot<'a, B: Backend> {
    /// A matrix; `transpose`: HF stores it `[out, in]` (`nn.Linear`) and Burn's
    /// `Linear` `[in, out]`. Embedding tables (`[vocab, d_model]`, `[buckets, heads]`)
    /// have the same layout in both.
    Matrix {
        param: &'a mut Param<Tensor<B, 2>>,
        transpose: bool,
    },
    /// An RMSNorm scale.
    Vector(&'a mut Param<Tensor<B, 1>>),
}

fn linear<B: Backend>(l: &mut Linear<B>) -> Slot<'_, B> {
    Slot::Matrix {
        param: &mut l.weight,
        transpose: true,
    }
}

fn table<B: Backend>(param: &mut Param<Tensor<B, 2>>) -> Slot<'_, B> {
    Slot::Matrix {
        param,
        transpose: false,
    }
}

fn slot<B: Backend>(model: &mut Tiger<B>, field: Field) -> Slot<'_, B> {
    match field {
        Field::Shared => table(&mut model.shared.weight),
        Field::EncoderBias => table(&mut model.encoder_bias.weight),
        Field::DecoderBias => table(&mut model.decoder_bias.weight),
        Field::EncoderNorm => Slot::Vector(&mut model.encoder_norm.gamma),
        Field::DecoderNorm => Slot::Vector(&mut model.decoder_norm.gamma),
        Field::Encoder(i, f) => {
            let l = &mut model.encoder_layers[i];
            match f {
                EncoderField::AttentionNorm => Slot::Vector(&mut l.attention_norm.gamma),
                EncoderField::Q => linear(&mut l.attention.q),
                EncoderField::K => linear(&mut l.attention.k),
                EncoderField::V => linear(&mut l.attention.v),
                EncoderField::Out => linear(&mut l.attention.out),
                EncoderField::FfNorm => Slot::Vector(&mut l.ff_norm.gamma),
                EncoderField::Wi => linear(&mut l.ff.wi),
                EncoderField::Wo => linear(&mut l.ff.wo),
            }
        }
        Field::Decoder(i, f) => {
            let l = &mut model.decoder_layers[i];
            match f {
                DecoderField::SelfNorm => Slot::Vector(&mut l.self_norm.gamma),
                DecoderField::SelfQ => linear(&mut l.self_attention.q),
                DecoderField::SelfK => linear(&mut l.self_attention.k),
                DecoderField::SelfV => linear(&mut l.self_attention.v),
                DecoderField::SelfOut => linear(&mut l.self_attention.out),
                DecoderField::CrossNorm => Slot::Vector(&mut l.cross_norm.gamma),
                DecoderField::CrossQ => linear(&mut l.cross_attention.q),
                DecoderField::CrossK => linear(&mut l.cross_attention.k),
                DecoderField::CrossV => linear(&mut l.cross_attention.v),
                DecoderField::CrossOut => linear(&mut l.cross_attention.out),
                DecoderField::FfNorm => Slot::Vector(&mut l.ff_norm.gamma),
                DecoderField::Wi => linear(&mut l.ff.wi),
                DecoderField::Wo => linear(&mut l.ff.wo),
            }
        }
    }
}

/// `[rows, cols]` row-major -> `[cols, rows]` row-major.
fn transposed(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    out
}

// ---------------------------------------------------------------------------------
// The fixture file.

struct Fixture {
    path: PathBuf,
    bytes: Vec<u8>,
    meta: serde_json::Value,
}

impl Fixture {
    fn open(path: &Path) -> Self {
        let bytes =
            std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
        let text = header
            .metadata()
            .as_ref()
            .and_then(|m| m.get("fixture"))
            .unwrap_or_else(|| panic!("{}: no `fixture` metadata", path.display()))
            .clone();
        Self {
            path: path.to_path_buf(),
            bytes,
            meta: serde_json::from_str(&text).unwrap(),
        }
    }

    fn tensors(&self) -> SafeTensors<'_> {
        SafeTensors::deserialize(&self.bytes).unwrap()
    }

    fn names(&self) -> Vec<String> {
        self.tensors()
            .names()
            .into_iter()
            .map(String::from)
            .collect()
    }

    fn floats(&self, name: &str) -> (Vec<usize>, Vec<f32>) {
        let st = self.tensors();
        let view = st
            .tensor(name)
            .unwrap_or_else(|e| panic!("{}: {name}: {e}", self.path.display()));
        assert_eq!(view.dtype(), Dtype::F32, "{name}");
        let values = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        (view.shape().to_vec(), values)
    }

    fn ints(&self, name: &str) -> (Vec<usize>, Vec<i64>) {
        let st = self.tensors();
        let view = st
            .tensor(name)
            .unwrap_or_else(|e| panic!("{}: {name}: {e}", self.path.display()));
        assert_eq!(view.dtype(), Dtype::I64, "{name}");
        let values = view
            .data()
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
            .collect();
        (view.shape().to_vec(), values)
    }

    fn usize(&self, key: &str) -> usize {
        self.meta[key]
            .as_u64()
            .unwrap_or_else(|| panic!("metadata `{key}` missing")) as usize
    }

    /// Our config for the fixture's T5 config, after checking the options we hard-code.
    fn config(&self) -> TigerConfig {
        let m = &self.meta;
        assert_eq!(m["feed_forward_proj"], "relu");
        assert_eq!(m["dropout_rate"].as_f64(), Some(0.0));
        // Our token layout: PAD 0 is also the decoder start; BOS and EOS come last.
        let layout = TokenLayout::new(self.usize("levels"), self.usize("codebook_size")).unwrap();
        assert_eq!(self.usize("vocab_size"), layout.vocab_size());
        assert_eq!(self.usize("pad_token_id"), layout.pad() as usize);
        assert_eq!(self.usize("decoder_start_token_id"), layout.pad() as usize);
        assert_eq!(self.usize("bos_token_id"), layout.bos() as usize);
        assert_eq!(self.usize("eos_token_id"), layout.eos() as usize);
        // Tied embeddings (encoder, decoder and output projection are `shared`).
        let tied: BTreeSet<&str> = m["tied"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                assert_eq!(v, "shared.weight", "{k}");
                k.as_str()
            })
            .collect();
        assert_eq!(tied, TIED.into_iter().collect());
        TigerConfig::new(self.usize("vocab_size"))
            .with_d_model(self.usize("d_model"))
            .with_d_ff(self.usize("d_ff"))
            .with_d_kv(self.usize("d_kv"))
            .with_num_heads(self.usize("num_heads"))
            .with_num_encoder_layers(self.usize("num_layers"))
            .with_num_decoder_layers(self.usize("num_decoder_layers"))
            .with_num_buckets(self.usize("relative_attention_num_buckets"))
            .with_max_distance(self.usize("relative_attention_max_distance"))
            .with_layer_norm_eps(m["layer_norm_epsilon"].as_f64().unwrap())
            .with_dropout(0.0)
    }

    /// The HF weight names (everything but inputs, expectations and gradients).
    fn weight_names(&self) -> BTreeSet<String> {
        self.names()
            .into_iter()
            .filter(|n| {
                !(n.starts_with("input.") || n.starts_with("expected.") || n.starts_with("grad."))
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------
// Loading.

/// Collects every float parameter of a module with its path.
struct ParamList {
    path: Vec<String>,
    found: Vec<(String, ParamId)>,
}

impl<B: Backend> ModuleVisitor<B> for ParamList {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        self.found.push((self.path.join("."), param.id));
    }
}

/// A [`Tiger`] holding the fixture's weights: every HF key goes through [`key_table`],
/// every key must be used and every parameter of ours assigned.
fn load<B: Backend>(fixture: &Fixture, device: &B::Device) -> Tiger<B> {
    let config = fixture.config();
    let mut model = {
        // Initialisation draws from the backend's global generator, which other tests seed.
        let _guard = rng_lock();
        config.init::<B>(device).unwrap()
    };
    let mut unused = fixture.weight_names();
    let mut assigned = HashSet::new();
    for (key, field) in key_table(&config) {
        assert!(
            unused.remove(&key),
            "{}: our key table names `{key}`, which the fixture does not hold",
            fixture.path.display()
        );
        let (shape, values) = fixture.floats(&key);
        match slot(&mut model, field) {
            Slot::Matrix { param, transpose } => {
                let [rows, cols] = shape[..] else {
                    panic!("{key}: shape {shape:?} is not a matrix")
                };
                let (values, dims) = if transpose {
                    (transposed(&values, rows, cols), [cols, rows])
                } else {
                    (values, [rows, cols])
                };
                assert_eq!(
                    param.shape().dims::<2>(),
                    dims,
                    "{key} ({field:?}): HF shape {shape:?}, transpose {transpose}"
                );
                *param =
                    Param::from_tensor(Tensor::from_data(TensorData::new(values, dims), device));
                assigned.insert(param.id);
            }
            Slot::Vector(param) => {
                assert_eq!(param.shape().dims::<1>(), [shape[0]], "{key} ({field:?})");
                assert_eq!(shape.len(), 1, "{key}");
                *param = Param::from_tensor(Tensor::from_data(
                    TensorData::new(values, [shape[0]]),
                    device,
                ));
                assigned.insert(param.id);
            }
        }
    }
    assert!(
        unused.is_empty(),
        "{}: HF keys with no field of ours: {unused:?}",
        fixture.path.display()
    );
    let mut params = ParamList {
        path: Vec::new(),
        found: Vec::new(),
    };
    model.visit(&mut params);
    let unassigned: Vec<&String> = params
        .found
        .iter()
        .filter(|(_, id)| !assigned.contains(id))
        .map(|(path, _)| path)
        .collect();
    assert!(
        unassigned.is_empty(),
        "parameters not assigned from the fixture: {unassigned:?}"
    );
    assert_eq!(params.found.len(), assigned.len());
    model
}

// ---------------------------------------------------------------------------------
// Inputs and comparisons.

struct Inputs<B: Backend> {
    tokens: Tensor<B, 2, Int>,
    lengths: Vec<usize>,
    decoder_input: Tensor<B, 2, Int>,
    labels: Tensor<B, 2, Int>,
    /// `[rows, len]` of the decoder.
    decoder_dims: [usize; 2],
}

fn int2<B: Backend>(shape: &[usize], values: Vec<i64>, device: &B::Device) -> Tensor<B, 2, Int> {
    Tensor::from_data(TensorData::new(values, [shape[0], shape[1]]), device)
}

fn inputs<B: Backend>(fixture: &Fixture, device: &B::Device) -> Inputs<B> {
    let (shape, ids) = fixture.ints("input.input_ids");
    let (mask_shape, mask) = fixture.ints("input.attention_mask");
    assert_eq!(shape, mask_shape);
    // Right padding: each row's mask is ones then zeros, and padding is PAD.
    let lengths = mask
        .chunks(shape[1])
        .zip(ids.chunks(shape[1]))
        .map(|(m, t)| {
            let len = m.iter().take_while(|&&v| v == 1).count();
            assert!(
                m[len..].iter().all(|&v| v == 0),
                "mask {m:?} is not right padding"
            );
            assert!(
                t[len..].iter().all(|&v| v == 0),
                "padding is not PAD in {t:?}"
            );
            len
        })
        .collect();
    let (dshape, decoder_input) = fixture.ints("input.decoder_input_ids");
    let (lshape, labels) = fixture.ints("input.labels");
    assert_eq!(dshape, lshape);
    // `[PAD d1 .. dn]` and `[d1 .. dn EOS]`.
    for (d, l) in decoder_input
        .chunks(dshape[1])
        .zip(labels.chunks(dshape[1]))
    {
        assert_eq!(d[0], 0);
        assert_eq!(d[1..], l[..l.len() - 1]);
    }
    Inputs {
        tokens: int2(&shape, ids, device),
        lengths,
        decoder_input: int2(&dshape, decoder_input, device),
        labels: int2(&lshape, labels, device),
        decoder_dims: [dshape[0], dshape[1]],
    }
}

fn values<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().convert::<f32>().to_vec().unwrap()
}

/// Largest absolute difference, and the same over the largest expected magnitude.
#[derive(Debug, Clone, Copy)]
struct Error {
    abs: f32,
    rel: f32,
}

fn error(ours: &[f32], expected: &[f32]) -> Error {
    assert_eq!(ours.len(), expected.len());
    assert!(ours.iter().all(|v| v.is_finite()), "non-finite values");
    let abs = ours
        .iter()
        .zip(expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    let scale = expected.iter().map(|v| v.abs()).fold(0.0, f32::max);
    Error {
        abs,
        rel: abs / scale.max(f32::MIN_POSITIVE),
    }
}

/// Compares and records one tensor; failures are collected so one run reports all.
struct Report {
    name: String,
    lines: Vec<String>,
    failures: Vec<String>,
}

impl Report {
    fn check(
        &mut self,
        what: &str,
        ours: &[f32],
        expected: &[f32],
        max_abs: f32,
        max_rel: Option<f32>,
    ) {
        let e = error(ours, expected);
        let ok = e.abs <= max_abs && max_rel.is_none_or(|r| e.rel <= r);
        let line = format!(
            "{}: {what}: max abs err {:.3e}, rel to max |expected| {:.3e} ({} values){}",
            self.name,
            e.abs,
            e.rel,
            expected.len(),
            if ok { "" } else { "  FAILED" }
        );
        println!("{line}");
        self.lines.push(line.clone());
        if !ok {
            self.failures.push(line);
        }
    }
}

/// Runs every comparison on one fixture; panics listing each one that failed.
fn check_fixture(path: &Path) {
    let fixture = Fixture::open(path);
    let name = format!("hf-t5 {}", fixture.meta["shape"].as_str().unwrap_or("?"));
    let mut report = Report {
        name,
        lines: Vec::new(),
        failures: Vec::new(),
    };
    let device = device();

    // Inference backend: encoder states, logits (one pass and cached steps), loss.
    let model = load::<TestBackend>(&fixture, &device);
    let x = inputs::<TestBackend>(&fixture, &device);
    let encoded = model.encode_tokens(x.tokens.clone(), x.lengths.clone());
    let (_, expected) = fixture.floats("expected.encoder_last_hidden_state");
    report.check(
        "encoder states",
        &values(encoded.hidden.clone()),
        &expected,
        FORWARD_ABS,
        None,
    );

    let (logit_shape, expected_logits) = fixture.floats("expected.logits");
    let (logits, _) = model.decode(&encoded, None, x.decoder_input.clone());
    assert_eq!(logits.dims().to_vec(), logit_shape);
    report.check(
        "logits",
        &values(logits),
        &expected_logits,
        FORWARD_ABS,
        None,
    );

    // The beam-search path: every query decoded as two rows ("beams") against one
    // cross-attention memory, one position at a time with the self-attention cache.
    let [rows, len] = x.decoder_dims;
    let vocab = logit_shape[2];
    let beams = 2;
    let repeat: Vec<i64> = (0..rows as i64)
        .flat_map(|r| std::iter::repeat_n(r, beams))
        .collect();
    let repeat =
        Tensor::<TestBackend, 1, Int>::from_data(TensorData::new(repeat, [rows * beams]), &device);
    let tokens = x.decoder_input.clone().select(0, repeat);
    let mut cache: Option<DecoderCache<TestBackend>> = None;
    let mut stepped = vec![vec![0.0f32; rows * len * vocab]; beams];
    for t in 0..len {
        let step = tokens.clone().slice([0..rows * beams, t..t + 1]);
        let (logits, next) = model.decode(&encoded, cache.as_ref(), step);
        let logits = values(logits); // [rows * beams, 1, vocab]
        for r in 0..rows {
            for (b, out) in stepped.iter_mut().enumerate() {
                out[(r * len + t) * vocab..][..vocab]
                    .copy_from_slice(&logits[(r * beams + b) * vocab..][..vocab]);
            }
        }
        cache = Some(next);
    }
    for (b, stepped) in stepped.iter().enumerate() {
        report.check(
            &format!("logits, cached steps, beam {b} of {beams}"),
            stepped,
            &expected_logits,
            FORWARD_ABS,
            None,
        );
    }

    let (_, expected_loss) = fixture.floats("expected.loss");
    let loss = model.generation_loss(&encoded, x.decoder_input.clone(), x.labels.clone());
    report.check(
        "loss (inference backend)",
        &values(loss),
        &expected_loss,
        FORWARD_ABS,
        None,
    );

    // Autodiff: the training loss and its gradients.
    let mut model = load::<Ad>(&fixture, &device);
    let x = inputs::<Ad>(&fixture, &device);
    let batch = TrainBatch {
        source: x.tokens,
        lengths: x.lengths,
        decoder_input: x.decoder_input,
        labels: x.labels,
    };
    let loss = model.loss(&batch);
    report.check(
        "loss (autodiff)",
        &values(loss.clone()),
        &expected_loss,
        FORWARD_ABS,
        None,
    );
    let grads = loss.backward();
    let fields: BTreeMap<String, Field> = key_table(&fixture.config()).into_iter().collect();
    let grad_names: Vec<String> = fixture
        .names()
        .into_iter()
        .filter_map(|n| n.strip_prefix("grad.").map(String::from))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert!(!grad_names.is_empty(), "the fixture holds no gradients");
    for key in &grad_names {
        let field = *fields
            .get(key)
            .unwrap_or_else(|| panic!("gradient of `{key}`, which the key table lacks"));
        let (shape, expected) = fixture.floats(&format!("grad.{key}"));
        // Ours, in HF's layout.
        let ours = match slot(&mut model, field) {
            Slot::Matrix { param, transpose } => {
                let g = values(param.grad(&grads).expect("no gradient"));
                if transpose {
                    // Ours is [in, out] = [shape[1], shape[0]].
                    transposed(&g, shape[1], shape[0])
                } else {
                    g
                }
            }
            Slot::Vector(param) => values(param.grad(&grads).expect("no gradient")),
        };
        report.check(
            &format!("grad {key}"),
            &ours,
            &expected,
            GRAD_ABS,
            Some(GRAD_REL),
        );
    }

    assert!(
        report.failures.is_empty(),
        "{} differs from Hugging Face T5 ({}):\n{}",
        report.name,
        path.display(),
        report.failures.join("\n")
    );
}

#[test]
fn hf_t5_tiny_fixture_matches_tiger() {
    check_fixture(Path::new(TINY));
}

/// Checks the fixture named by `SPECGR_HF_T5_FIXTURE` (passes when unset).
#[test]
fn hf_t5_extra_fixture_from_env_matches_tiger() {
    match std::env::var_os(EXTRA_FIXTURE) {
        Some(path) => check_fixture(Path::new(&path)),
        None => println!("{EXTRA_FIXTURE} unset: no extra Hugging Face T5 fixture checked"),
    }
}

#[test]
fn hf_t5_key_table_names_each_hf_key_and_field_once() {
    let config = TigerConfig::new(35)
        .with_num_encoder_layers(3)
        .with_num_decoder_layers(2);
    let table = key_table(&config);
    let keys: BTreeSet<&String> = table.iter().map(|(k, _)| k).collect();
    let fields: BTreeSet<String> = table.iter().map(|(_, f)| format!("{f:?}")).collect();
    assert_eq!(keys.len(), table.len(), "a HF key is mapped twice");
    assert_eq!(fields.len(), table.len(), "a field of ours is filled twice");
    // 5 stack-level weights, 8 per encoder block, 13 per decoder block.
    assert_eq!(table.len(), 5 + 3 * 8 + 2 * 13);
}
