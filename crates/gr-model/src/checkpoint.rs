//! Saving and loading models: a directory with `config.json` and `model.mpk`, each
//! written atomically (a temporary file, then a rename).

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Record, Recorder};
use burn::tensor::backend::Backend;

use crate::{Tiger, TigerConfig, TigerError};

/// The model's config file inside a checkpoint directory.
pub const CONFIG_FILE: &str = "config.json";
/// The model's weights inside a checkpoint directory.
pub const MODEL_FILE: &str = "model.mpk";

/// Writes `bytes` to `path` through `path.tmp` and a rename, so readers never see a partial file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TigerError> {
    let io = |source| TigerError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

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

/// Parses a Burn record written by [`record_bytes`].
pub(crate) fn load_record<B: Backend, R: Record<B>>(
    path: &Path,
    device: &B::Device,
) -> Result<R, TigerError> {
    let bytes = read(path)?;
    NamedMpkBytesRecorder::<FullPrecisionSettings>::default()
        .load(bytes, device)
        .map_err(|e| TigerError::Record {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

/// Reads the config of a checkpoint directory.
pub fn read_config(dir: &Path) -> Result<TigerConfig, TigerError> {
    let path = dir.join(CONFIG_FILE);
    let bytes = read(&path)?;
    serde_json::from_slice(&bytes).map_err(|source| TigerError::Json { path, source })
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
        write_atomic(&dir.join(CONFIG_FILE), &config)
    }

    /// Loads a model saved by [`Tiger::save`], rebuilding it from its own config.
    pub fn load(dir: &Path, device: &B::Device) -> Result<Self, TigerError> {
        let config = read_config(dir)?;
        let model = config.init::<B>(device)?;
        let record = load_record::<B, _>(&dir.join(MODEL_FILE), device)?;
        Ok(model.load_record(record))
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
