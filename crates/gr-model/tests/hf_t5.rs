//! Our TIGER against an independent oracle: Hugging Face `transformers`'
//! `T5ForConditionalGeneration`, the model the reference code trains.
//!
//! `tools/hf_t5_fixture.py` builds that model with seeded random weights (layer norms
//! drawn around 1, not HF's all-ones) and no dropout, runs it in float64 on right-padded
//! encoder rows, and stores weights, inputs, encoder states, logits, loss and gradients
//! in `tests/fixtures/hf_t5_tiny.safetensors`. This test copies the fixture's weights
//! into a file of their own, loads them into a [`Tiger`] with the library's loader
//! ([`gr_model::hf::load_hf_t5`] and its explicit key table), and checks, in float32:
//!
//! - encoder states (all positions, padding included), logits and the loss: largest
//!   absolute difference at most [`FORWARD_ABS`];
//! - the same logits decoded one position at a time with the KV cache, with every
//!   query's row repeated as two beams sharing one cross-attention memory;
//! - gradients of the loss on `Autodiff<Flex>` (`Tiger::loss` on a `TrainBatch`): largest
//!   absolute difference at most [`GRAD_ABS`], and at most [`GRAD_REL`] of the tensor's
//!   largest expected magnitude (relative to scale).
//!
//! The loader fails on any HF key its table does not consume, any table key missing
//! from the file, a wrong shape, an untied alias, and any parameter of ours left
//! unassigned; the tests below check that it does (a dropped key fails the test), and
//! that [`gr_model::hf::save_hf_t5`] writes the fixture's weights back bit for bit.
//! Gradients are compared in HF's layout through [`gr_model::hf::hf_t5_tensors`] of a
//! model whose parameters hold the gradients. Set `SPECGR_HF_T5_FIXTURE` to
//! another fixture (e.g. the paper-shaped one, too large to commit) to check it with
//! the same code: `cargo test -p gr-model --test tests hf_t5 -- --nocapture`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use burn::backend::Autodiff;
use burn::module::{AutodiffModule, Module, ModuleMapper, Param};
use burn::optim::GradientsParams;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use gr_model::hf::{TIED_ALIASES, hf_t5_config, hf_t5_names, hf_t5_tensors, load_hf_t5, save_hf_t5};
use gr_model::{
    DecoderCache, ProjectionHead, SpecGrPp, SpecGrPpTrainConfig, Tiger, TigerConfig, TrainBatch, TrainExample,
    specgr_pp_losses,
};
use safetensors::{Dtype, SafeTensors};
use semid::{SemanticIds, TokenLayout};

use crate::common::{TestBackend, device, rng_lock};

/// The committed fixture (`hf_t5_fixture.py --shape tiny`).
const TINY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/hf_t5_tiny.safetensors"
);

/// The committed SpecGR++ stage-1 fixture (`hf_specgr_pp_fixture.py`).
const SPECGR_PP_TINY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/hf_specgr_pp_tiny.safetensors"
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
        assert_eq!(tied, TIED_ALIASES.into_iter().collect());
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
                !(n.starts_with("input.")
                    || n.starts_with("expected.")
                    || n.starts_with("grad.")
                    || n.starts_with("head."))
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------
// Loading, through the library.

/// A file in the temporary directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(tag: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        Self(std::env::temp_dir().join(format!(
            "gr-model-hf-t5-{}-{n}-{tag}.safetensors",
            std::process::id()
        )))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A named float32 tensor: HF name, shape, values.
type Named = (String, Vec<usize>, Vec<f32>);

fn write_safetensors(path: &Path, tensors: &[Named]) {
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, _, v)| v.iter().flat_map(|x| x.to_le_bytes()).collect())
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
        .iter()
        .zip(&bytes)
        .map(|((name, shape, _), b)| {
            (
                name.clone(),
                safetensors::tensor::TensorView::new(Dtype::F32, shape.clone(), b).unwrap(),
            )
        })
        .collect();
    safetensors::serialize_to_file(views, None, path).unwrap();
}

impl Fixture {
    /// The fixture's weights, in name order.
    fn weights(&self) -> Vec<Named> {
        self.weight_names()
            .into_iter()
            .map(|n| {
                let (shape, values) = self.floats(&n);
                (n, shape, values)
            })
            .collect()
    }

    /// The fixture's weights (as `edit` changes the list) in a file of their own.
    fn weights_file(&self, tag: &str, edit: impl FnOnce(&mut Vec<Named>)) -> TempFile {
        let mut weights = self.weights();
        edit(&mut weights);
        let file = TempFile::new(tag);
        write_safetensors(&file.0, &weights);
        file
    }
}

/// [`load_hf_t5`] of a weights file under `config`.
fn load_file<B: Backend>(
    path: &Path,
    config: &TigerConfig,
    device: &B::Device,
) -> Result<Tiger<B>, gr_model::TigerError> {
    // Initialisation draws from the backend's global generator, which other tests seed.
    let _guard = rng_lock();
    load_hf_t5::<B>(path, config, device)
}

/// A [`Tiger`] holding the fixture's weights, loaded by the library.
fn load<B: Backend>(fixture: &Fixture, device: &B::Device) -> Tiger<B> {
    let file = fixture.weights_file("weights", |_| {});
    load_file::<B>(&file.0, &fixture.config(), device).unwrap_or_else(|e| panic!("{e}"))
}

/// Replaces every parameter by its gradient (same id), so that [`hf_t5_tensors`] gives
/// the gradients under HF names and in HF's layout.
struct GradsAsParams<'a>(&'a GradientsParams);

impl<B: Backend> ModuleMapper<B> for GradsAsParams<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let id = param.id;
        let grad = self
            .0
            .get::<B, D>(id)
            .unwrap_or_else(|| panic!("no gradient for parameter {id}"));
        Param::initialized(id, grad)
    }
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
    let model = load::<Ad>(&fixture, &device);
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
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    let grad_model = model.valid().map(&mut GradsAsParams(&grads));
    let ours: BTreeMap<String, (Vec<usize>, Vec<f32>)> = hf_t5_tensors(&grad_model)
        .unwrap()
        .into_iter()
        .map(|t| (t.name, (t.shape, t.values)))
        .collect();
    let grad_names: BTreeSet<String> = fixture
        .names()
        .into_iter()
        .filter_map(|n| n.strip_prefix("grad.").map(String::from))
        .collect();
    assert!(!grad_names.is_empty(), "the fixture holds no gradients");
    for key in &grad_names {
        let (our_shape, ours) = ours
            .get(key)
            .unwrap_or_else(|| panic!("gradient of `{key}`, which the key table lacks"));
        let (shape, expected) = fixture.floats(&format!("grad.{key}"));
        assert_eq!(our_shape, &shape, "grad {key}");
        report.check(
            &format!("grad {key}"),
            ours,
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
fn hf_t5_names_list_each_weight_once() {
    let config = TigerConfig::new(35)
        .with_num_encoder_layers(3)
        .with_num_decoder_layers(2);
    let names = hf_t5_names(&config);
    let unique: BTreeSet<&String> = names.iter().collect();
    assert_eq!(unique.len(), names.len(), "a HF key is named twice");
    // 5 stack-level weights, 8 per encoder block, 13 per decoder block.
    assert_eq!(names.len(), 5 + 3 * 8 + 2 * 13);
    assert!(TIED_ALIASES.iter().all(|a| !unique.contains(&a.to_string())));
    // The tiny fixture's weights are exactly the names of its config.
    let fixture = Fixture::open(Path::new(TINY));
    let names: BTreeSet<String> = hf_t5_names(&fixture.config()).into_iter().collect();
    assert_eq!(names, fixture.weight_names());
}

/// Loading and saving again gives the fixture's weights back bit for bit, under the
/// same names, with our config in the metadata; the saved file loads again.
#[test]
fn hf_t5_save_writes_the_fixture_weights_back_exactly() {
    let fixture = Fixture::open(Path::new(TINY));
    let device = device();
    let model = load::<TestBackend>(&fixture, &device);
    let saved = TempFile::new("saved");
    save_hf_t5(&model, &saved.0).unwrap();
    let bytes = std::fs::read(&saved.0).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let names: BTreeSet<String> = st.names().into_iter().map(String::from).collect();
    assert_eq!(names, fixture.weight_names());
    for (name, shape, values) in fixture.weights() {
        let view = st.tensor(&name).unwrap();
        assert_eq!(view.dtype(), Dtype::F32, "{name}");
        assert_eq!(view.shape(), &shape[..], "{name}");
        let ours: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert!(
            ours.iter().zip(&values).all(|(a, b)| a.to_bits() == b.to_bits()),
            "{name} changed on the way through"
        );
    }
    assert_eq!(hf_t5_config(&saved.0).unwrap(), Some(fixture.config()));
    let again = load_file::<TestBackend>(&saved.0, &fixture.config(), &device).unwrap();
    assert_eq!(hf_t5_tensors(&again).unwrap(), hf_t5_tensors(&model).unwrap());
    // No temporary file is left beside it.
    assert!(!recdata::fsio::tmp_path(&saved.0).exists());
}

/// Every way a weight file can fail to fit is refused, naming the file and the key.
#[test]
fn hf_t5_loader_refuses_files_that_do_not_fit() {
    let fixture = Fixture::open(Path::new(TINY));
    let config = fixture.config();
    let device = device();
    let refused = |file: &TempFile, config: &TigerConfig, needles: &[&str]| {
        let err = match load_file::<TestBackend>(&file.0, config, &device) {
            Ok(_) => panic!("{} was accepted", file.0.display()),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(&file.0.display().to_string()), "{err}");
        for needle in needles {
            assert!(err.contains(needle), "`{needle}` not in: {err}");
        }
    };
    let dropped = "decoder.block.1.layer.2.DenseReluDense.wo.weight";
    let file = fixture.weights_file("dropped", |w| w.retain(|(n, _, _)| n != dropped));
    refused(&file, &config, &[dropped, "missing"]);

    let extra = "decoder.block.2.layer.0.layer_norm.weight";
    let file = fixture.weights_file("extra", |w| w.push((extra.into(), vec![32], vec![1.0; 32])));
    refused(&file, &config, &[extra, "no place"]);

    // A config with one decoder layer fewer leaves the file's block 1 unused.
    let file = fixture.weights_file("fewer", |_| {});
    let fewer = config.clone().with_num_decoder_layers(1);
    refused(&file, &fewer, &["decoder.block.1.layer.0.SelfAttention.q.weight"]);

    // Another feed-forward width: the first feed-forward weight's shape is refused.
    let wider = config.clone().with_d_ff(config.d_ff + 1);
    refused(&file, &wider, &["encoder.block.0.layer.1.DenseReluDense.wi.weight", "shape"]);

    // Heads split otherwise (same inner width): the relative bias has another shape.
    let heads = config.clone().with_num_heads(1).with_d_kv(config.d_kv * config.num_heads);
    refused(&file, &heads, &["relative_attention_bias", "shape"]);

    // Untied output projection.
    let file = fixture.weights_file("untied", |w| {
        let (_, shape, mut values) = w.iter().find(|(n, _, _)| n == "shared.weight").unwrap().clone();
        values[0] += 1.0;
        w.push(("lm_head.weight".into(), shape, values));
    });
    refused(&file, &config, &["lm_head.weight", "differs"]);

    // Tied aliases holding `shared.weight`'s values are accepted, also without
    // `shared.weight` itself, and give the same model.
    let file = fixture.weights_file("aliases", |w| {
        let (_, shape, values) = w.iter().find(|(n, _, _)| n == "shared.weight").unwrap().clone();
        w.retain(|(n, _, _)| n != "shared.weight");
        for alias in TIED_ALIASES {
            w.push((alias.into(), shape.clone(), values.clone()));
        }
    });
    let model = load_file::<TestBackend>(&file.0, &config, &device).unwrap();
    assert_eq!(
        hf_t5_tensors(&model).unwrap(),
        hf_t5_tensors(&load::<TestBackend>(&fixture, &device)).unwrap()
    );

    // Not a safetensors file.
    let file = TempFile::new("garbage");
    std::fs::write(&file.0, b"not a safetensors file").unwrap();
    refused(&file, &config, &["not a safetensors file"]);
}

/// SpecGR++'s stage-1 losses against the oracle (`tools/hf_specgr_pp_fixture.py`): the
/// in-batch InfoNCE of mean-pooled, projected, normalised history embeddings against
/// the batch's distinct target items (one item is two rows' target), the generation
/// loss of the first rows, both from [`specgr_pp_losses`] (the training step's own
/// function), and the gradients of their weighted sum, on encoder rows of different
/// lengths and items whose identification digits differ.
#[test]
fn hf_specgr_pp_stage1_losses_and_gradients_match() {
    let fixture = Fixture::open(Path::new(SPECGR_PP_TINY));
    let device = device();
    let mut report = Report {
        name: "hf-t5 specgr++ stage 1".into(),
        lines: Vec::new(),
        failures: Vec::new(),
    };
    let tiger = load::<Ad>(&fixture, &device);
    // PyTorch's Linear weight is [out, in]; Burn's [in, out].
    let (shape, w) = fixture.floats("head.weight");
    let (proj, d_model) = (shape[0], shape[1]);
    assert_eq!(d_model, tiger.config.d_model);
    let weight = Tensor::<Ad, 2>::from_data(TensorData::new(w, [proj, d_model]), &device).transpose();
    let (_, b) = fixture.floats("head.bias");
    let bias = Tensor::<Ad, 1>::from_data(TensorData::new(b, [proj]), &device);
    let mut linear = burn::nn::LinearConfig::new(d_model, proj).init::<Ad>(&device);
    linear.weight = Param::from_tensor(weight);
    linear.bias = Some(Param::from_tensor(bias));
    let model = SpecGrPp { tiger, head: ProjectionHead { linear } };

    let layout = TokenLayout::new(fixture.usize("levels"), fixture.usize("codebook_size")).unwrap();
    let (_, codes) = fixture.ints("input.codes");
    let codes: Vec<u32> = codes.iter().map(|&c| c as u32).collect();
    let ids = SemanticIds::from_codes(layout, &codes).unwrap();
    let (shape, histories) = fixture.ints("input.histories");
    let (_, targets) = fixture.ints("input.targets");
    let examples: Vec<TrainExample> = histories
        .chunks_exact(shape[1])
        .zip(&targets)
        .map(|(h, &t)| TrainExample {
            history: h.iter().filter(|&&i| i >= 0).map(|&i| i as u32).collect(),
            target: t as u32,
        })
        .collect();
    let refs: Vec<&TrainExample> = examples.iter().collect();
    let meta = &fixture.meta;
    let config = SpecGrPpTrainConfig::stage1()
        .with_temperature(meta["temperature"].as_f64().unwrap())
        .with_lambda_emb(meta["lambda_emb"].as_f64().unwrap())
        .with_lambda_gen(meta["lambda_gen"].as_f64().unwrap())
        .with_gen_batch_size(fixture.usize("gen_rows"));
    // Whole batch at once, and in length-sorted micro-batches of 2 (the trainer's default
    // path): the same losses and gradients up to rounding.
    for micro_batch in [0, 2] {
        let config = config.clone().with_micro_batch(micro_batch);
        let (emb, generation) = specgr_pp_losses(&model, &refs, &ids, &config, None, None, &device).unwrap();
        let generation = generation.expect("a generation loss");
        let what = format!("micro-batch {micro_batch}");
        let (_, expected) = fixture.floats("expected.emb_loss");
        report.check(&format!("{what}: InfoNCE"), &values(emb.clone()), &expected, FORWARD_ABS, None);
        let (_, expected) = fixture.floats("expected.gen_loss");
        report.check(&format!("{what}: generation loss"), &values(generation.clone()), &expected, FORWARD_ABS, None);
        let loss = emb.mul_scalar(config.lambda_emb) + generation.mul_scalar(config.lambda_gen);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let grad_model = model.valid().map(&mut GradsAsParams(&grads));
        let mut ours: BTreeMap<String, (Vec<usize>, Vec<f32>)> = hf_t5_tensors(&grad_model.tiger)
            .unwrap()
            .into_iter()
            .map(|t| (t.name, (t.shape, t.values)))
            .collect();
        let head_weight = grad_model.head.linear.weight.val().transpose();
        ours.insert("head.weight".into(), (head_weight.dims().to_vec(), values(head_weight)));
        let head_bias = grad_model.head.linear.bias.as_ref().unwrap().val();
        ours.insert("head.bias".into(), (head_bias.dims().to_vec(), values(head_bias)));
        let grad_names: Vec<String> =
            fixture.names().into_iter().filter_map(|n| n.strip_prefix("grad.").map(String::from)).collect();
        assert!(grad_names.len() >= 3, "the fixture holds gradients");
        for key in &grad_names {
            let (our_shape, ours) = ours.get(key).unwrap_or_else(|| panic!("no gradient of `{key}`"));
            let (shape, expected) = fixture.floats(&format!("grad.{key}"));
            assert_eq!(our_shape, &shape, "grad {key}");
            report.check(&format!("{what}: grad {key}"), ours, &expected, GRAD_ABS, Some(GRAD_REL));
        }
    }
    assert!(
        report.failures.is_empty(),
        "{} differs from Hugging Face T5:\n{}",
        report.name,
        report.failures.join("\n")
    );
}
