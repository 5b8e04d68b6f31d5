//! Loading Hugging Face BERT weights (`model.safetensors`) through `burn-store`.
//!
//! The mapping from checkpoint names to module paths is an explicit table built from
//! the configuration, one row per tensor with its expected shape. Before anything is
//! loaded the file's header is checked against the table, so a checkpoint with missing,
//! unexpected, misshapen or non-`F32` tensors is refused with every problem listed.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

use burn::tensor::backend::Backend;
use burn_store::{KeyRemapper, ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore};
use serde::Deserialize;

use super::config::BertConfig;
use super::model::BertModel;
use crate::error::{Error, Result, TensorProblem};

/// Checkpoint tensors that the model deliberately does not use: the position-id buffer
/// and the next-sentence pooler (sentence encoders pool the hidden states themselves).
pub const IGNORED_TENSORS: &[&str] = &[
    "embeddings.position_ids",
    "pooler.dense.weight",
    "pooler.dense.bias",
];

/// One row of the key-remapping table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMapping {
    /// Name in the Hugging Face checkpoint.
    pub checkpoint: String,
    /// Path of the parameter in [`BertModel`].
    pub module: String,
    /// Shape in the checkpoint's layout (linear weights are `[out, in]`).
    pub shape: Vec<usize>,
}

/// The key-remapping table for a configuration: every tensor the model needs.
pub fn key_table(config: &BertConfig) -> Vec<KeyMapping> {
    let d = config.hidden_size;
    let ff = config.intermediate_size;
    let mut rows = Vec::new();
    let mut row = |checkpoint: String, module: String, shape: &[usize]| {
        rows.push(KeyMapping {
            checkpoint,
            module,
            shape: shape.to_vec(),
        })
    };
    for (table, n) in [
        ("word_embeddings", config.vocab_size),
        ("position_embeddings", config.max_position_embeddings),
        ("token_type_embeddings", config.type_vocab_size),
    ] {
        let name = format!("embeddings.{table}.weight");
        row(name.clone(), name, &[n, d]);
    }
    // Hugging Face LayerNorms hold `weight`/`bias`; Burn's hold `gamma`/`beta`.
    let norm = |row: &mut dyn FnMut(String, String, &[usize]), from: &str, to: &str| {
        row(format!("{from}.weight"), format!("{to}.gamma"), &[d]);
        row(format!("{from}.bias"), format!("{to}.beta"), &[d]);
    };
    norm(&mut row, "embeddings.LayerNorm", "embeddings.layer_norm");
    for i in 0..config.num_hidden_layers {
        let hf = format!("encoder.layer.{i}");
        let burn = format!("layers.{i}");
        let mut linear = |from: String, to: String, out: usize, inp: usize| {
            row(
                format!("{from}.weight"),
                format!("{to}.weight"),
                &[out, inp],
            );
            row(format!("{from}.bias"), format!("{to}.bias"), &[out]);
        };
        for proj in ["query", "key", "value"] {
            linear(
                format!("{hf}.attention.self.{proj}"),
                format!("{burn}.attention.{proj}"),
                d,
                d,
            );
        }
        linear(
            format!("{hf}.attention.output.dense"),
            format!("{burn}.attention.output"),
            d,
            d,
        );
        linear(
            format!("{hf}.intermediate.dense"),
            format!("{burn}.intermediate"),
            ff,
            d,
        );
        linear(
            format!("{hf}.output.dense"),
            format!("{burn}.output"),
            d,
            ff,
        );
        norm(
            &mut row,
            &format!("{hf}.attention.output.LayerNorm"),
            &format!("{burn}.attention.layer_norm"),
        );
        norm(
            &mut row,
            &format!("{hf}.output.LayerNorm"),
            &format!("{burn}.layer_norm"),
        );
    }
    rows
}

/// A tensor's entry in a safetensors header.
#[derive(Debug, Deserialize)]
struct HeaderEntry {
    dtype: String,
    shape: Vec<usize>,
}

/// Reads the names, dtypes and shapes in a safetensors file's header without
/// reading the tensor data.
pub(crate) fn read_header(path: &Path) -> Result<BTreeMap<String, (String, Vec<usize>)>> {
    let read_err = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let malformed = |message: String| Error::Safetensors {
        path: path.to_path_buf(),
        message,
    };
    let mut file = std::fs::File::open(path).map_err(read_err)?;
    let file_len = file.metadata().map_err(read_err)?.len();
    let mut len = [0u8; 8];
    file.read_exact(&mut len)
        .map_err(|_| malformed(format!("file is {file_len} bytes, shorter than a header")))?;
    let header_len = u64::from_le_bytes(len);
    if header_len > file_len.saturating_sub(8) || header_len > 100 << 20 {
        return Err(malformed(format!(
            "header length {header_len} does not fit in a {file_len}-byte file"
        )));
    }
    let mut header = vec![0u8; header_len as usize];
    file.read_exact(&mut header).map_err(read_err)?;
    let mut entries: BTreeMap<String, serde_json::Value> = serde_json::from_slice(&header)
        .map_err(|e| malformed(format!("header is not a JSON object: {e}")))?;
    entries.remove("__metadata__");
    entries
        .into_iter()
        .map(|(name, value)| {
            let entry: HeaderEntry = serde_json::from_value(value)
                .map_err(|e| malformed(format!("header entry {name}: {e}")))?;
            Ok((name, (entry.dtype, entry.shape)))
        })
        .collect()
}

/// Compares a checkpoint's header with the table: every missing, unexpected,
/// misshapen or non-`F32` tensor, sorted by name.
pub(crate) fn check_header(
    table: &[KeyMapping],
    header: &BTreeMap<String, (String, Vec<usize>)>,
) -> Vec<TensorProblem> {
    let mut problems = Vec::new();
    let known: BTreeSet<&str> = table.iter().map(|row| row.checkpoint.as_str()).collect();
    for row in table {
        match header.get(&row.checkpoint) {
            None => problems.push(TensorProblem::Missing {
                name: row.checkpoint.clone(),
                shape: row.shape.clone(),
            }),
            Some((_, shape)) if *shape != row.shape => problems.push(TensorProblem::WrongShape {
                name: row.checkpoint.clone(),
                expected: row.shape.clone(),
                found: shape.clone(),
            }),
            Some((dtype, _)) if dtype != "F32" => problems.push(TensorProblem::WrongDtype {
                name: row.checkpoint.clone(),
                found: dtype.clone(),
            }),
            Some(_) => {}
        }
    }
    for (name, (_, shape)) in header {
        if !known.contains(name.as_str()) && !IGNORED_TENSORS.contains(&name.as_str()) {
            problems.push(TensorProblem::Unexpected {
                name: name.clone(),
                shape: shape.clone(),
            });
        }
    }
    problems.sort_by(|a, b| problem_name(a).cmp(problem_name(b)));
    problems
}

fn problem_name(problem: &TensorProblem) -> &str {
    match problem {
        TensorProblem::Missing { name, .. }
        | TensorProblem::Unexpected { name, .. }
        | TensorProblem::WrongShape { name, .. }
        | TensorProblem::WrongDtype { name, .. } => name,
    }
}

/// Loads a Hugging Face BERT checkpoint into `model` (built from the same `config`).
///
/// The header is checked against [`key_table`] first; then `burn-store` reads the
/// tensors, renames them with the table and transposes linear weights from PyTorch's
/// `[out, in]` to Burn's `[in, out]`.
pub fn load_checkpoint<B: Backend>(
    model: BertModel<B>,
    config: &BertConfig,
    path: &Path,
) -> Result<BertModel<B>> {
    let table = key_table(config);
    let problems = check_header(&table, &read_header(path)?);
    if !problems.is_empty() {
        return Err(Error::Checkpoint {
            path: path.to_path_buf(),
            problems,
        });
    }
    // Checkpoint names are dotted identifiers; escaping the dots and anchoring each
    // pattern makes every row an exact rename.
    let patterns = table
        .iter()
        .filter(|row| row.checkpoint != row.module)
        .map(|row| {
            (
                format!("^{}$", row.checkpoint.replace('.', "\\.")),
                row.module.clone(),
            )
        })
        .collect::<Vec<_>>();
    let remapper = KeyRemapper::from_patterns(patterns).map_err(|e| Error::Store {
        path: path.to_path_buf(),
        message: format!("bad remapping pattern: {e}"),
    })?;
    let mut store = SafetensorsStore::from_file(path)
        .remap(remapper)
        .with_from_adapter(PyTorchToBurnAdapter);
    let mut model = model;
    let result = model.load_from(&mut store).map_err(|e| Error::Store {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let unused: Vec<_> = result
        .unused
        .iter()
        .filter(|name| !IGNORED_TENSORS.contains(&name.as_str()))
        .collect();
    if !result.errors.is_empty() || !result.missing.is_empty() || !unused.is_empty() {
        return Err(Error::Store {
            path: path.to_path_buf(),
            message: result.to_string(),
        });
    }
    tracing::debug!(path = %path.display(), tensors = result.applied.len(), "loaded checkpoint");
    Ok(model)
}
