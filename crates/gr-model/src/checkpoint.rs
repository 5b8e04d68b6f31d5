//! Saving and loading models: a directory with `config.json` and `model.mpk`, each
//! written atomically (a temporary file, then a rename).
//!
//! Loading checks a record file against the model it is loaded into before Burn sees
//! it: every tensor's name and shape is read from the file (without decoding the
//! weights) and compared with the model its config describes. Burn itself would load
//! tensors of any shape and panic later inside the backend, and reports a file cut
//! short as "the internal data format has changed since version 0.14.0".

use std::path::Path;

use burn::module::{Module, ModuleVisitor, Param};
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Record, Recorder};
use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Int, Tensor};

use crate::{Tiger, TigerConfig, TigerError};

/// The model's config file inside a checkpoint directory.
pub const CONFIG_FILE: &str = "config.json";
/// The model's weights inside a checkpoint directory.
pub const MODEL_FILE: &str = "model.mpk";

pub(crate) use recdata::fsio::write_atomic;

/// Reads a whole file, naming it in the error.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, TigerError> {
    std::fs::read(path).map_err(|source| TigerError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Serialises a Burn record (model or optimizer state) to bytes.
pub(crate) fn record_bytes<B: Backend, R: Record<B>>(
    record: R,
    path: &Path,
) -> Result<Vec<u8>, TigerError> {
    NamedMpkBytesRecorder::<FullPrecisionSettings>::default()
        .record(record, ())
        .map_err(|e| TigerError::Record {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

/// Loads the record at `path` into `module` after checking that it holds exactly the
/// module's tensors, shape for shape; `config` names where those shapes come from.
pub(crate) fn load_checked<B: Backend, M: Module<B>>(
    module: M,
    path: &Path,
    config: &str,
    device: &B::Device,
) -> Result<M, TigerError> {
    let mut bytes = read(path)?;
    check_record_bytes(&mut bytes, &module, path, config)?;
    let record = decode_record::<B, M::Record>(bytes, path, device)?;
    Ok(module.load_record(record))
}

/// Decodes a record whose bytes have been checked.
fn decode_record<B: Backend, R: Record<B>>(
    bytes: Vec<u8>,
    path: &Path,
    device: &B::Device,
) -> Result<R, TigerError> {
    let len = bytes.len();
    NamedMpkBytesRecorder::<FullPrecisionSettings>::default()
        .load(bytes, device)
        .map_err(|e| corrupt(path, len, &e.to_string()))
}

/// The error for a record file that cannot be decoded. Burn's own message suggests an
/// old format (its text about version 0.14.0), which is not what happened to a file
/// this program wrote: keep only its first line.
fn corrupt(path: &Path, bytes: usize, message: &str) -> TigerError {
    let first = message.lines().next().unwrap_or_default().trim();
    // Burn wraps the decoder's message as `Unknown("...")`.
    let first = first.strip_prefix("Unknown(\"").map_or(first, |s| s.trim_end_matches("\")"));
    TigerError::CorruptCheckpoint {
        path: path.to_path_buf(),
        bytes,
        message: first.to_owned(),
    }
}

/// Every tensor of a record file: its path inside the record (`item.<field>...`) and
/// shape, read without decoding the weights. Fails (naming the file) when it cannot be
/// parsed, or when a tensor's bytes or a parameter id would make Burn's decoder panic.
fn record_tensors<B: Backend>(bytes: &mut Vec<u8>, path: &Path) -> Result<Vec<(String, Vec<usize>)>, TigerError> {
    let recorder = NamedMpkBytesRecorder::<FullPrecisionSettings>::default();
    let shapes = <NamedMpkBytesRecorder<FullPrecisionSettings> as Recorder<B>>::load_item::<RecordShapes>(&recorder, bytes)
        .map_err(|e| corrupt(path, bytes.len(), &e.to_string()))?;
    Ok(shapes.0)
}

/// Every tensor of a record file: its path (`encoder.0.attention.q.weight`) and shape,
/// read without decoding the weights. Fails (naming the file) when it cannot be parsed.
pub(crate) fn record_shapes<B: Backend>(
    bytes: &mut Vec<u8>,
    path: &Path,
) -> Result<Vec<(String, Vec<usize>)>, TigerError> {
    Ok(record_tensors::<B>(bytes, path)?
        .into_iter()
        .filter_map(|(p, shape)| {
            // `item.<module path>.param` holds a parameter's tensor data.
            let p = p.strip_prefix("item.")?.strip_suffix(".param")?.to_owned();
            Some((p, shape))
        })
        .collect())
}

/// Every parameter of `module`: its path and shape (without initialising lazy ones).
pub(crate) fn module_shapes<B: Backend, M: Module<B>>(module: &M) -> Vec<(String, Vec<usize>)> {
    module_params::<B, M>(module).into_iter().map(|p| (p.name, p.shape)).collect()
}

/// One parameter of a module.
struct ParamInfo {
    /// Its path in the module (`encoder_layers.0.ff.wi.weight`).
    name: String,
    /// Its shape.
    shape: Vec<usize>,
    /// Its id as records write it (optimizer states are keyed by it).
    id: String,
}

/// Every parameter of `module` (without initialising lazy ones).
fn module_params<B: Backend, M: Module<B>>(module: &M) -> Vec<ParamInfo> {
    struct Shapes {
        path: Vec<String>,
        out: Vec<ParamInfo>,
    }
    impl Shapes {
        fn push(&mut self, shape: burn::tensor::Shape, id: burn::module::ParamId) {
            self.out.push(ParamInfo { name: self.path.join("."), shape: shape.as_slice().to_vec(), id: id.serialize() });
        }
    }
    impl<B: Backend> ModuleVisitor<B> for Shapes {
        fn enter_module(&mut self, name: &str, _container_type: &str) {
            self.path.push(name.to_owned());
        }
        fn exit_module(&mut self, _name: &str, _container_type: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            self.push(param.lazy_shape(), param.id);
        }
        fn visit_int<const D: usize>(&mut self, param: &Param<Tensor<B, D, Int>>) {
            self.push(param.lazy_shape(), param.id);
        }
        fn visit_bool<const D: usize>(&mut self, param: &Param<Tensor<B, D, Bool>>) {
            self.push(param.lazy_shape(), param.id);
        }
    }
    let mut shapes = Shapes { path: Vec::new(), out: Vec::new() };
    module.visit(&mut shapes);
    shapes.out
}

/// Loads the optimizer state at `path` for `module`, the model of the same
/// checkpoint (loaded from `model_path`), after checking that it belongs to it.
///
/// Burn keys each parameter's state by the parameter's id: it would silently start
/// afresh for the parameters of a state from another run, and panic inside the backend
/// at the first step on a state of other shapes.
pub(crate) fn load_optim_checked<B: Backend, M: Module<B>, R: Record<B>>(
    module: &M,
    path: &Path,
    model_path: &Path,
    device: &B::Device,
) -> Result<R, TigerError> {
    let mut bytes = read(path)?;
    let found = record_tensors::<B>(&mut bytes, path)?;
    let params = module_params::<B, M>(module);
    let mut problems = Vec::new();
    // Parameter ids with a state: of the model, and of no parameter of it.
    let (mut known, mut unknown) = (std::collections::BTreeSet::new(), std::collections::BTreeSet::new());
    for (p, shape) in &found {
        // `item.<parameter id>.<the optimizer's fields>`: every tensor of a state has
        // its parameter's shape (Adam's two moments do).
        let Some(id) = p.strip_prefix("item.").and_then(|p| p.split('.').next()) else {
            problems.push(format!("`{p}` {shape:?} is not a parameter's state"));
            continue;
        };
        match params.iter().find(|q| q.id == id) {
            None => {
                unknown.insert(id);
            }
            Some(q) if &q.shape != shape => {
                if known.insert(id) {
                    problems.push(format!("the state of `{}` is {shape:?} in the file, {:?} in the model", q.name, q.shape));
                }
            }
            Some(_) => {
                known.insert(id);
            }
        }
    }
    if !unknown.is_empty() {
        problems.insert(
            0,
            format!(
                "{} of its {} parameter states belong to no parameter of the model",
                unknown.len(),
                unknown.len() + known.len()
            ),
        );
    }
    let missing: Vec<&ParamInfo> = params.iter().filter(|q| !known.contains(q.id.as_str())).collect();
    if !found.is_empty() && !missing.is_empty() {
        let names: Vec<String> = missing.iter().take(3).map(|q| format!("`{}`", q.name)).collect();
        problems.push(format!(
            "{} of the model's {} parameters have no state ({}{})",
            missing.len(),
            params.len(),
            names.join(", "),
            if missing.len() > names.len() { ", ..." } else { "" }
        ));
    }
    if !problems.is_empty() {
        return Err(TigerError::CheckpointShapes {
            path: path.to_path_buf(),
            config: model_path.display().to_string(),
            problems,
        });
    }
    decode_record(bytes, path, device)
}

/// Checks that a Burn named-MessagePack record file (its bytes, read from `path`)
/// holds exactly the tensors of `module`, shape for shape, before Burn decodes it:
/// Burn itself loads tensors of any shape and fails later inside the backend.
/// `config` names where the module's shapes came from. For other models' loaders
/// (the UniSRec drafter); TIGER's go through [`Tiger::load`].
pub fn check_record<B: Backend, M: Module<B>>(
    bytes: &mut Vec<u8>,
    module: &M,
    path: &Path,
    config: &str,
) -> Result<(), TigerError> {
    check_record_bytes::<B, M>(bytes, module, path, config)
}

/// Checks that the record in `bytes` holds exactly the tensors of `module`, shape for
/// shape; `config` names where the module's shapes came from.
pub(crate) fn check_record_bytes<B: Backend, M: Module<B>>(
    bytes: &mut Vec<u8>,
    module: &M,
    path: &Path,
    config: &str,
) -> Result<(), TigerError> {
    let found = record_shapes::<B>(bytes, path)?;
    let expected = module_shapes::<B, M>(module);
    let mut problems = Vec::new();
    for (name, shape) in &expected {
        match found.iter().find(|(n, _)| n == name) {
            None => problems.push(format!("`{name}` {shape:?} is missing")),
            Some((_, s)) if s != shape => {
                problems.push(format!("`{name}` is {s:?} in the file, {shape:?} in the config"))
            }
            Some(_) => {}
        }
    }
    for (name, shape) in &found {
        if !expected.iter().any(|(n, _)| n == name) {
            problems.push(format!("`{name}` {shape:?} is not part of the model"));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(TigerError::CheckpointShapes {
        path: path.to_path_buf(),
        config: config.to_owned(),
        problems,
    })
}

/// The tensor shapes of a serialised record, with their paths: a serde visitor that
/// walks any value and keeps each map's `shape` (a `TensorData`'s), skipping the bytes.
struct RecordShapes(Vec<(String, Vec<usize>)>);

impl<'de> serde::Deserialize<'de> for RecordShapes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut out = Vec::new();
        serde::de::DeserializeSeed::deserialize(Walk { path: String::new(), out: &mut out }, d)?;
        Ok(Self(out))
    }
}

struct Walk<'a> {
    path: String,
    out: &'a mut Vec<(String, Vec<usize>)>,
}

impl Walk<'_> {
    fn child(&mut self, key: &str) -> Walk<'_> {
        let path = if self.path.is_empty() { key.to_owned() } else { format!("{}.{key}", self.path) };
        Walk { path, out: self.out }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Walk<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

/// A map key as text (names; sequence-like keys as numbers).
struct Key(String);

impl<'de> serde::Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map key")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_owned()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Key, E> {
                Ok(Key(String::from_utf8_lossy(v).into_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> serde::de::Visitor<'de> for Walk<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a Burn record")
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_bytes<E: serde::de::Error>(self, _: &[u8]) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_newtype_struct<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        while seq.next_element_seed(self.child(&i.to_string()))?.is_some() {
            i += 1;
        }
        Ok(())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        use serde::de::Error;
        // A `TensorData` is a map of `bytes`, `shape` and `dtype`; Burn takes its
        // bytes as they are, so their length is checked against the other two here.
        let (mut shape, mut bytes, mut dtype) = (None, None, None);
        while let Some(Key(key)) = map.next_key::<Key>()? {
            match key.as_str() {
                "shape" => shape = Some(map.next_value::<Vec<usize>>()?),
                "bytes" => match map.next_value::<ByteLen>()? {
                    ByteLen(Some(n)) => bytes = Some(n),
                    ByteLen(None) => {}
                },
                "dtype" => dtype = map.next_value::<burn::tensor::DType>().ok(),
                // A `Param`'s id: Burn's decoder panics on one it cannot parse.
                "id" => {
                    let id: String = map.next_value()?;
                    if !param_id_is_valid(&id) {
                        return Err(A::Error::custom(format!(
                            "`{}` has the parameter id {id:?}, which Burn cannot read",
                            shown(&self.path)
                        )));
                    }
                }
                _ => map.next_value_seed(self.child(&key))?,
            }
        }
        if let Some(shape) = shape {
            if let (Some(len), Some(dtype)) = (bytes, dtype) {
                let size = match dtype {
                    burn::tensor::DType::QFloat(_) | burn::tensor::DType::Bool(_) => None,
                    d => Some(d.size()),
                };
                if let Some(size) = size {
                    let expected = shape.iter().try_fold(size, |n, &d| n.checked_mul(d));
                    if expected != Some(len) {
                        return Err(A::Error::custom(format!(
                            "tensor `{}` of shape {shape:?} ({dtype:?}) holds {len} bytes, not {}",
                            shown(&self.path),
                            expected.map_or("a number that fits in memory".to_owned(), |n| n.to_string())
                        )));
                    }
                }
            }
            self.out.push((self.path.clone(), shape));
        }
        Ok(())
    }
}

/// A record path as the model names it: `item.shared.weight.param` is `shared.weight`.
fn shown(path: &str) -> &str {
    let path = path.strip_prefix("item.").unwrap_or(path);
    path.strip_suffix(".param").unwrap_or(path)
}

/// The length of a byte string (`None` for any other value, which is skipped).
struct ByteLen(Option<usize>);

impl<'de> serde::Deserialize<'de> for ByteLen {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ByteLen;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("tensor bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<ByteLen, E> {
                Ok(ByteLen(Some(v.len())))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<ByteLen, A::Error> {
                let mut n = 0;
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(ByteLen(Some(n)))
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<ByteLen, E> {
                Ok(ByteLen(None))
            }
            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<ByteLen, E> {
                Ok(ByteLen(None))
            }
            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<ByteLen, E> {
                Ok(ByteLen(None))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<ByteLen, A::Error> {
                while map.next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?.is_some() {}
                Ok(ByteLen(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// Whether Burn's `ParamId::deserialize` reads `id` without panicking: it panics on
/// an id it cannot parse, and on a base-32 id of more than 8 bytes (13 characters).
fn param_id_is_valid(id: &str) -> bool {
    if id.len() > 13 && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    burn::module::ParamId::try_deserialize(id).is_some()
}

/// Reads the config of a checkpoint directory and checks its sizes
/// ([`TigerConfig::validate`]), so that nothing is allocated for a damaged one.
pub fn read_config(dir: &Path) -> Result<TigerConfig, TigerError> {
    let path = dir.join(CONFIG_FILE);
    let bytes = read(&path)?;
    let config: TigerConfig =
        serde_json::from_slice(&bytes).map_err(|source| TigerError::Json { path: path.clone(), source })?;
    config.validate().map_err(|e| TigerError::InvalidConfigFile { path, message: e.to_string() })?;
    Ok(config)
}

/// Fails with the first field where `found` differs from `expected`.
pub(crate) fn check_same_config(
    dir: &Path,
    found: &TigerConfig,
    expected: &TigerConfig,
) -> Result<(), TigerError> {
    if found == expected {
        return Ok(());
    }
    let as_map = |c: &TigerConfig| match serde_json::to_value(c) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let (f, e) = (as_map(found), as_map(expected));
    let (field, found, expected) = e
        .iter()
        .find(|(k, v)| f.get(*k) != Some(v))
        .map(|(k, v)| {
            (
                k.clone(),
                f.get(k).map_or("missing".into(), |x| x.to_string()),
                v.to_string(),
            )
        })
        .unwrap_or_else(|| ("?".into(), format!("{found:?}"), format!("{expected:?}")));
    Err(TigerError::ConfigMismatch {
        path: dir.to_path_buf(),
        field,
        found,
        expected,
    })
}

impl<B: Backend> Tiger<B> {
    /// Saves the config and weights into `dir` (created if needed).
    pub fn save(&self, dir: &Path) -> Result<(), TigerError> {
        let config =
            serde_json::to_vec_pretty(&self.config).map_err(|source| TigerError::Json {
                path: dir.join(CONFIG_FILE),
                source,
            })?;
        let model_path = dir.join(MODEL_FILE);
        let bytes = record_bytes::<B, _>(self.clone().into_record(), &model_path)?;
        write_atomic(&model_path, &bytes)?;
        Ok(write_atomic(&dir.join(CONFIG_FILE), &config)?)
    }

    /// Loads a model saved by [`Tiger::save`], rebuilding it from its own config.
    ///
    /// Fails, naming the file, when `model.mpk` is cut short or corrupt, or when its
    /// tensors do not have the shapes `config.json` describes.
    pub fn load(dir: &Path, device: &B::Device) -> Result<Self, TigerError> {
        let config = read_config(dir)?;
        let model = config.placeholder::<B>(device)?;
        let source = dir.join(CONFIG_FILE).display().to_string();
        load_checked(model, &dir.join(MODEL_FILE), &source, device)
    }

    /// Loads a model saved by [`Tiger::save`], failing with the first differing field
    /// when it was written for another config.
    pub fn load_expecting(
        dir: &Path,
        expected: &TigerConfig,
        device: &B::Device,
    ) -> Result<Self, TigerError> {
        check_same_config(dir, &read_config(dir)?, expected)?;
        Self::load(dir, device)
    }
}
