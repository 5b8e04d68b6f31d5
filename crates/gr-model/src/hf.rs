//! Hugging Face T5 weights in and out of [`Tiger`]: one explicit table from each
//! `T5ForConditionalGeneration` weight name to the field of ours it fills.
//!
//! [`load_hf_t5`] builds a [`Tiger`] from a safetensors file of HF names (a T5 trained
//! by `transformers`, e.g. `crates/gr-model/tools/hf_t5_train.py`, or any TIGER
//! reproduction's checkpoint of the same shape); [`save_hf_t5`] writes ours under HF's
//! names, which `T5ForConditionalGeneration.load_state_dict` reads. Both go through
//! [`hf_t5_names`]' table, and loading is strict: every key the table names must be in
//! the file with the right shape, every key in the file must be used, and every
//! parameter of ours must be assigned; each failure names the file and the key.
//!
//! Layouts: HF's `nn.Linear` stores `[out, in]` and Burn's `Linear` `[in, out]`, so
//! projections are transposed; embedding tables (`shared`, `[vocab, d_model]`, and
//! the relative-position biases, `[buckets, heads]`) and RMSNorm scales are the same
//! in both. HF's relative-position bias of each stack lives in its block 0; ours in
//! `encoder_bias` / `decoder_bias`. TIGER ties the input embeddings of both stacks and
//! the output projection to `shared.weight` (HF `tie_word_embeddings=True`): files
//! that also store those aliases (`encoder.embed_tokens.weight`,
//! `decoder.embed_tokens.weight`, `lm_head.weight`) must hold the same values.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::nn::Linear;
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use safetensors::{Dtype, SafeTensors};

use crate::checkpoint::{read, write_atomic};
use crate::{Tiger, TigerConfig, TigerError};

/// HF weight names that are `shared.weight` itself when embeddings are tied.
pub const TIED_ALIASES: [&str; 3] = [
    "encoder.embed_tokens.weight",
    "decoder.embed_tokens.weight",
    "lm_head.weight",
];

/// The safetensors metadata key under which [`save_hf_t5`] stores the model's
/// [`TigerConfig`] as JSON.
pub const CONFIG_METADATA: &str = "tiger_config";

/// A parameter of [`Tiger`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Shared,
    EncoderBias,
    DecoderBias,
    EncoderNorm,
    DecoderNorm,
    Encoder(usize, EncoderField),
    Decoder(usize, DecoderField),
}

/// A parameter of a [`crate::layers::EncoderLayer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// A parameter of a [`crate::layers::DecoderLayer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// Every HF T5 weight name a model of `config`'s shape has (tied aliases of
/// `shared.weight` left out): 5 stack-level weights, 8 per encoder block and 13 per
/// decoder block.
pub fn hf_t5_names(config: &TigerConfig) -> Vec<String> {
    key_table(config).into_iter().map(|(k, _)| k).collect()
}

/// Where a field lives in our model, and how its layout relates to HF's.
enum Slot<'a, B: Backend> {
    /// A matrix; `transpose`: HF stores it `[out, in]` (`nn.Linear`) and Burn's
    /// `Linear` `[in, out]`. Embedding tables have the same layout in both.
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

/// One weight under its HF name, in HF's layout (row-major float32).
#[derive(Debug, Clone, PartialEq)]
pub struct HfTensor {
    /// The `T5ForConditionalGeneration` weight name.
    pub name: String,
    /// HF's shape (`[out, in]` for projections).
    pub shape: Vec<usize>,
    /// The values, row-major.
    pub values: Vec<f32>,
}

fn float_values<B: Backend, const D: usize>(t: Tensor<B, D>) -> Result<Vec<f32>, String> {
    t.into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .map_err(|e| format!("{e:?}"))
}

/// Every weight of `model` under its HF name and in HF's layout, in [`hf_t5_names`]'
/// order (tied aliases left out). Applied to a model whose parameters hold gradients,
/// it gives the gradients in HF's layout.
pub fn hf_t5_tensors<B: Backend>(model: &Tiger<B>) -> Result<Vec<HfTensor>, TigerError> {
    let mut model = model.clone();
    let config = model.config.clone();
    let mut out = Vec::new();
    for (name, field) in key_table(&config) {
        let bad = |message: String| TigerError::InvalidConfig(format!("{name}: {message}"));
        let (shape, values) = match slot(&mut model, field) {
            Slot::Matrix { param, transpose } => {
                let [rows, cols] = param.shape().dims::<2>();
                let values = float_values(param.val()).map_err(bad)?;
                if transpose {
                    (vec![cols, rows], transposed(&values, rows, cols))
                } else {
                    (vec![rows, cols], values)
                }
            }
            Slot::Vector(param) => {
                let [n] = param.shape().dims::<1>();
                (vec![n], float_values(param.val()).map_err(bad)?)
            }
        };
        out.push(HfTensor {
            name,
            shape,
            values,
        });
    }
    Ok(out)
}

/// Writes `model`'s weights under HF T5 names to a safetensors file (float32, tied
/// aliases left out as `save_pretrained` does), atomically: a temporary file, then a
/// rename. The metadata holds `format: pt` and the model's [`TigerConfig`] as JSON
/// under [`CONFIG_METADATA`].
pub fn save_hf_t5<B: Backend>(model: &Tiger<B>, path: &Path) -> Result<(), TigerError> {
    let tensors = hf_t5_tensors(model)?;
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .into_iter()
        .map(|t| {
            let bytes = t.values.iter().flat_map(|v| v.to_le_bytes()).collect();
            (t.name, t.shape, bytes)
        })
        .collect();
    let error = |message: String| TigerError::HfT5 {
        path: path.to_path_buf(),
        message,
    };
    let views = bytes
        .iter()
        .map(|(name, shape, data)| {
            safetensors::tensor::TensorView::new(Dtype::F32, shape.clone(), data)
                .map(|v| (name.clone(), v))
                .map_err(|e| error(format!("`{name}`: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let config = serde_json::to_string(&model.config).map_err(|source| TigerError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    let metadata = std::collections::HashMap::from([
        ("format".to_string(), "pt".to_string()),
        (CONFIG_METADATA.to_string(), config),
        ("tied".to_string(), TIED_ALIASES.join(",")),
    ]);
    let data = safetensors::serialize(views, Some(metadata)).map_err(|e| error(e.to_string()))?;
    Ok(write_atomic(path, &data)?)
}

/// The [`TigerConfig`] that [`save_hf_t5`] stored in a file's metadata, if any.
pub fn hf_t5_config(path: &Path) -> Result<Option<TigerConfig>, TigerError> {
    let bytes = read(path)?;
    let (_, header) = SafeTensors::read_metadata(&bytes).map_err(|e| TigerError::HfT5 {
        path: path.to_path_buf(),
        message: format!("not a safetensors file: {e}"),
    })?;
    let Some(text) = header.metadata().as_ref().and_then(|m| m.get(CONFIG_METADATA)) else {
        return Ok(None);
    };
    serde_json::from_str(text)
        .map(Some)
        .map_err(|source| TigerError::Json {
            path: path.to_path_buf(),
            source,
        })
}

/// One tensor of the file as float32 (stored as float32, float64 or bfloat16).
fn read_floats(st: &SafeTensors<'_>, name: &str) -> Result<(Vec<usize>, Vec<f32>), String> {
    let view = st.tensor(name).map_err(|e| e.to_string())?;
    let data = view.data();
    let values = match view.dtype() {
        Dtype::F32 => data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        Dtype::F64 => data
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32)
            .collect(),
        Dtype::BF16 => data
            .chunks_exact(2)
            .map(|b| f32::from_bits(u32::from(u16::from_le_bytes([b[0], b[1]])) << 16))
            .collect(),
        other => {
            return Err(format!(
                "dtype {other:?} (float32, float64 or bfloat16 expected; convert the checkpoint to float32)"
            ));
        }
    };
    Ok((view.shape().to_vec(), values))
}

/// Collects the id of every float parameter of a module, with its path.
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

/// A [`Tiger`] of `config`'s shape holding the weights of a safetensors file of
/// Hugging Face T5 names (`T5ForConditionalGeneration`'s `state_dict`, with or without
/// the tied aliases of `shared.weight`).
///
/// Strict: fails, naming the file and the key, when a weight the table names is
/// missing, has another shape, or is not a float; when the file holds a key the table
/// does not use (another architecture or more layers than `config`); when a tied alias
/// differs from `shared.weight` (untied embeddings, which TIGER does not have); and
/// when a parameter of ours is left unassigned. The model is built with
/// [`TigerConfig::init`], whose parameters Burn initialises lazily: every one is
/// replaced before it is read, so loading draws nothing from the backend's generator.
pub fn load_hf_t5<B: Backend>(
    path: &Path,
    config: &TigerConfig,
    device: &B::Device,
) -> Result<Tiger<B>, TigerError> {
    let error = |message: String| TigerError::HfT5 {
        path: path.to_path_buf(),
        message,
    };
    let bytes = read(path)?;
    let st = SafeTensors::deserialize(&bytes)
        .map_err(|e| error(format!("not a safetensors file: {e}")))?;
    let mut unused: BTreeSet<String> = st.names().into_iter().map(String::from).collect();
    let table = key_table(config);
    // Tied aliases: the same values as `shared.weight` (which may itself be stored only
    // under an alias, as some `save_pretrained` versions do).
    let mut shared_source = "shared.weight";
    if !unused.contains(shared_source)
        && let Some(alias) = TIED_ALIASES.iter().find(|a| unused.contains(**a))
    {
        shared_source = alias;
    }
    // Every parameter is replaced below (a missing one is an error): nothing is drawn.
    let mut model = config.placeholder::<B>(device)?;
    let mut assigned = HashSet::new();
    let mut shared_values: Option<(Vec<usize>, Vec<f32>)> = None;
    for (key, field) in &table {
        let source = if *field == Field::Shared { shared_source } else { key.as_str() };
        if !unused.remove(source) {
            let n = |prefix: &str| {
                unused
                    .iter()
                    .filter_map(|k| k.strip_prefix(prefix)?.split('.').next()?.parse::<usize>().ok())
                    .max()
                    .map_or(0, |m| m + 1)
            };
            return Err(error(format!(
                "missing HF T5 weight `{key}`: a TIGER of this config ({} encoder and {} decoder \
                 layers) needs it; the file's blocks go up to {} encoder and {} decoder layers",
                config.num_encoder_layers,
                config.num_decoder_layers,
                n("encoder.block."),
                n("decoder.block."),
            )));
        }
        let (shape, values) =
            read_floats(&st, source).map_err(|e| error(format!("`{source}`: {e}")))?;
        if *field == Field::Shared {
            shared_values = Some((shape.clone(), values.clone()));
        }
        match slot(&mut model, *field) {
            Slot::Matrix { param, transpose } => {
                let ours = param.lazy_shape().dims::<2>();
                let expected = if transpose { [ours[1], ours[0]] } else { ours };
                if shape[..] != expected[..] {
                    return Err(error(format!(
                        "`{source}` has shape {shape:?}, but this config needs {expected:?} \
                         (check vocab_size, d_model, d_ff, num_heads x d_kv and num_buckets)"
                    )));
                }
                let (values, dims) = if transpose {
                    (transposed(&values, expected[0], expected[1]), ours)
                } else {
                    (values, ours)
                };
                *param =
                    Param::from_tensor(Tensor::from_data(TensorData::new(values, dims), device));
                assigned.insert(param.id);
            }
            Slot::Vector(param) => {
                let ours = param.lazy_shape().dims::<1>();
                if shape[..] != ours[..] {
                    return Err(error(format!(
                        "`{source}` has shape {shape:?}, but this config needs {ours:?} (d_model)"
                    )));
                }
                *param =
                    Param::from_tensor(Tensor::from_data(TensorData::new(values, ours), device));
                assigned.insert(param.id);
            }
        }
    }
    let (shared_shape, shared) = shared_values.expect("the table maps shared.weight");
    for alias in TIED_ALIASES {
        if unused.remove(alias) {
            let (shape, values) =
                read_floats(&st, alias).map_err(|e| error(format!("`{alias}`: {e}")))?;
            if shape != shared_shape || values != shared {
                return Err(error(format!(
                    "`{alias}` differs from `{shared_source}`: TIGER ties the input embeddings and \
                     the output projection (HF tie_word_embeddings=True); untied checkpoints do not fit"
                )));
            }
        }
    }
    if !unused.is_empty() {
        return Err(error(format!(
            "HF weights with no place in a TIGER of this config: {}",
            unused.into_iter().collect::<Vec<_>>().join(", ")
        )));
    }
    let mut params = ParamList {
        path: Vec::new(),
        found: Vec::new(),
    };
    model.visit(&mut params);
    let unassigned: Vec<&String> = params
        .found
        .iter()
        .filter(|(_, id)| !assigned.contains(id))
        .map(|(p, _)| p)
        .collect();
    if !unassigned.is_empty() || params.found.len() != assigned.len() {
        return Err(error(format!(
            "parameters of ours the key table does not fill: {unassigned:?}"
        )));
    }
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_table_names_each_hf_key_and_field_once() {
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
        assert!(TIED_ALIASES.iter().all(|a| !keys.contains(&a.to_string())));
    }

    #[test]
    fn transposing_twice_is_the_identity() {
        let v: Vec<f32> = (0..6).map(|i| i as f32).collect();
        let t = transposed(&v, 2, 3);
        assert_eq!(t, vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
        assert_eq!(transposed(&t, 3, 2), v);
    }
}
