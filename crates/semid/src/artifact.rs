//! Saving a fitted model (config, weights, codebooks, ID table) in one directory
//! and loading it back exactly.

use std::fs;
use std::path::Path;

use burn::prelude::*;
use burn_store::{ModuleSnapshot, SafetensorsStore};
use serde::{Deserialize, Serialize};

use crate::error::{Result, SemidError};
use crate::fit::FitConfig;
use crate::hkmeans::{HierarchicalKMeans, HierarchicalKMeansConfig};
use crate::ids::SemanticIds;
use crate::quantizer::Quantizer;
use crate::rqkmeans::{ResidualKMeans, ResidualKMeansConfig};
use crate::rqvae::{RqVae, RqVaeConfig, RqVaeNet, Standardizer};
use crate::tokenizer::{FittedQuantizer, SemanticIdModel};

/// Written last: its presence means the other files are complete.
const MANIFEST: &str = "semid.json";
const IDS: &str = "ids.json";
const CODEBOOKS: &str = "codebooks.f32";
const WEIGHTS: &str = "weights.safetensors";
const FORMAT: u32 = 1;

/// The quantizer-specific part of the manifest.
#[derive(Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "lowercase")]
enum Parts {
    RqVae {
        net: RqVaeConfig,
        standardizer: Standardizer,
    },
    RqKMeans {
        config: ResidualKMeansConfig,
    },
    HKMeans {
        config: HierarchicalKMeansConfig,
        node_sizes: Vec<u32>,
        children: Vec<u32>,
    },
}

#[derive(Serialize, Deserialize)]
struct Manifest {
    format: u32,
    config: FitConfig,
    dim: usize,
    /// Number of f32 values in the codebook file.
    codebook_values: usize,
    parts: Parts,
}

impl<B: Backend> SemanticIdModel<B> {
    /// Writes the model into `dir` (created if needed): `semid.json` (configs),
    /// `codebooks.f32` (little-endian f32), `weights.safetensors` (RQ-VAE only) and
    /// `ids.json`. Every file is written to `*.tmp` and renamed; the manifest comes last.
    pub fn save(&self, dir: &Path) -> Result<()> {
        fs::create_dir_all(dir).map_err(|source| SemidError::Io {
            path: dir.into(),
            source,
        })?;
        let ids_json = self.ids.to_json().map_err(|source| SemidError::Json {
            path: dir.join(IDS),
            source,
        })?;
        write_atomic(&dir.join(IDS), ids_json.as_bytes())?;
        let dim = self.quantizer.dim();
        let (parts, codebooks): (Parts, Vec<f32>) = match &self.quantizer {
            FittedQuantizer::RqVae(q) => {
                let mut store = SafetensorsStore::from_bytes(None);
                let weights = dir.join(WEIGHTS);
                q.net()
                    .save_into(&mut store)
                    .map_err(|e| SemidError::Weights {
                        path: weights.clone(),
                        reason: e.to_string(),
                    })?;
                let bytes = store.get_bytes().map_err(|e| SemidError::Weights {
                    path: weights.clone(),
                    reason: e.to_string(),
                })?;
                write_atomic(&weights, &bytes)?;
                (
                    Parts::RqVae {
                        net: q.config().clone(),
                        standardizer: q.standardizer().clone(),
                    },
                    q.codebooks().concat(),
                )
            }
            FittedQuantizer::RqKMeans(q) => (
                Parts::RqKMeans {
                    config: *q.config(),
                },
                q.codebooks().concat(),
            ),
            FittedQuantizer::HKMeans(q) => {
                let (node_sizes, children, centroids) = q.to_parts();
                (
                    Parts::HKMeans {
                        config: *q.config(),
                        node_sizes,
                        children,
                    },
                    centroids,
                )
            }
        };
        let bytes: Vec<u8> = codebooks.iter().flat_map(|v| v.to_le_bytes()).collect();
        write_atomic(&dir.join(CODEBOOKS), &bytes)?;
        let manifest = Manifest {
            format: FORMAT,
            config: self.config.clone(),
            dim,
            codebook_values: codebooks.len(),
            parts,
        };
        let path = dir.join(MANIFEST);
        let json = serde_json::to_vec_pretty(&manifest).map_err(|source| SemidError::Json {
            path: path.clone(),
            source,
        })?;
        Ok(write_atomic(&path, &json)?)
    }

    /// Loads a model written by [`SemanticIdModel::save`].
    pub fn load(dir: &Path, device: &B::Device) -> Result<Self> {
        let path = dir.join(MANIFEST);
        let manifest: Manifest =
            serde_json::from_slice(&read(&path)?).map_err(|source| SemidError::Json {
                path: path.clone(),
                source,
            })?;
        if manifest.format != FORMAT {
            return Err(SemidError::Artifact {
                path,
                reason: format!("format {} (expected {FORMAT})", manifest.format),
            });
        }
        check_sizes(&manifest).map_err(|reason| SemidError::Artifact {
            path: path.clone(),
            reason,
        })?;
        let cb_path = dir.join(CODEBOOKS);
        let bytes = read(&cb_path)?;
        if Some(bytes.len()) != manifest.codebook_values.checked_mul(4) {
            return Err(SemidError::Artifact {
                path: cb_path,
                reason: format!(
                    "{} bytes, the manifest says {} values",
                    bytes.len(),
                    manifest.codebook_values
                ),
            });
        }
        let values: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let dim = manifest.dim;
        let artifact_err = |e: SemidError| SemidError::Artifact {
            path: cb_path.clone(),
            reason: e.to_string(),
        };
        let quantizer = match manifest.parts {
            Parts::RqVae { net, standardizer } => {
                let weights = dir.join(WEIGHTS);
                let mut model: RqVaeNet<B> = net.init(0, device);
                let mut store = SafetensorsStore::from_bytes(Some(read(&weights)?));
                let applied = model
                    .load_from(&mut store)
                    .map_err(|e| SemidError::Weights {
                        path: weights.clone(),
                        reason: e.to_string(),
                    })?;
                if !applied.missing.is_empty() || !applied.errors.is_empty() {
                    return Err(SemidError::Weights {
                        path: weights,
                        reason: format!("{applied:?}"),
                    });
                }
                let per_level = net.codebook_size * net.latent_dim;
                let codebooks = split(&values, per_level, net.levels).map_err(artifact_err)?;
                FittedQuantizer::RqVae(RqVae::from_parts(
                    net,
                    model,
                    standardizer,
                    codebooks,
                    device,
                )?)
            }
            Parts::RqKMeans { config } => {
                let codebooks = split(&values, config.codebook_size * dim, config.levels)
                    .map_err(artifact_err)?;
                FittedQuantizer::RqKMeans(ResidualKMeans::from_parts(
                    config, dim, codebooks, device,
                )?)
            }
            Parts::HKMeans {
                config,
                node_sizes,
                children,
            } => FittedQuantizer::HKMeans(
                HierarchicalKMeans::from_parts(
                    config,
                    dim,
                    &node_sizes,
                    &children,
                    &values,
                    device,
                )
                .map_err(artifact_err)?,
            ),
        };
        let ids_path = dir.join(IDS);
        let json = String::from_utf8(read(&ids_path)?).map_err(|e| SemidError::Artifact {
            path: ids_path.clone(),
            reason: e.to_string(),
        })?;
        let ids = SemanticIds::from_json(&json).map_err(|reason| SemidError::Artifact {
            path: ids_path.clone(),
            reason,
        })?;
        if ids.layout() != &manifest.config.layout()? || quantizer.dim() != dim {
            return Err(SemidError::Artifact {
                path: ids_path,
                reason: "ID table layout does not match the manifest".into(),
            });
        }
        Ok(Self::new(manifest.config, quantizer, ids))
    }
}

/// The largest width (embedding, hidden, latent dimension, codes per level) and code
/// depth a manifest may name, and the most parameters an RQ-VAE network it describes
/// may have: a `semid.json` of absurd sizes is refused before anything is allocated
/// (it would otherwise end in an out-of-memory abort or an overflow, not an error).
const MAX_WIDTH: usize = 1 << 20;
const MAX_LEVELS: usize = 64;
const MAX_HIDDEN_LAYERS: usize = 64;
const MAX_PARAMS: u64 = 1_000_000_000;

/// Checks the manifest's sizes (see [`MAX_WIDTH`]); the error names the field.
fn check_sizes(m: &Manifest) -> std::result::Result<(), String> {
    let width = |name: &str, v: usize| {
        if v == 0 || v > MAX_WIDTH {
            Err(format!("`{name}` is {v}: expected 1 to {MAX_WIDTH}"))
        } else {
            Ok(())
        }
    };
    let levels = |v: usize| {
        if v == 0 || v > MAX_LEVELS {
            Err(format!("`levels` is {v}: expected 1 to {MAX_LEVELS}"))
        } else {
            Ok(())
        }
    };
    width("dim", m.dim)?;
    let (lv, k) = match &m.parts {
        Parts::RqVae { net, .. } => {
            width("net.input_dim", net.input_dim)?;
            width("net.latent_dim", net.latent_dim)?;
            if net.hidden.len() > MAX_HIDDEN_LAYERS {
                return Err(format!("`net.hidden` has {} layers: at most {MAX_HIDDEN_LAYERS}", net.hidden.len()));
            }
            for &h in &net.hidden {
                width("net.hidden", h)?;
            }
            // Encoder input -> hidden... -> latent, weights and biases; the decoder mirrors it.
            let dims: Vec<u64> = std::iter::once(net.input_dim)
                .chain(net.hidden.iter().copied())
                .chain(std::iter::once(net.latent_dim))
                .map(|d| d as u64)
                .collect();
            let params: u64 = dims.windows(2).map(|w| w[0] * w[1] + w[1] + w[0]).sum::<u64>() * 2;
            if params > MAX_PARAMS {
                return Err(format!(
                    "the network it describes has about {params} parameters, more than the {MAX_PARAMS} this program builds"
                ));
            }
            (net.levels, net.codebook_size)
        }
        Parts::RqKMeans { config } => (config.levels, config.codebook_size),
        Parts::HKMeans { config, .. } => (config.levels, config.codebook_size),
    };
    levels(lv)?;
    width("codebook_size", k)?;
    // Widths below 2^20 and at most 64 levels: the codebook sizes fit in 2^46 values.
    let most = MAX_PARAMS as usize;
    if m.codebook_values > most {
        return Err(format!("`codebook_values` is {}: more than the {most} this program loads", m.codebook_values));
    }
    Ok(())
}

fn split(values: &[f32], per_level: usize, levels: usize) -> Result<Vec<Vec<f32>>> {
    if values.len() != per_level * levels {
        return Err(SemidError::Config(format!(
            "{} codebook values, expected {levels} x {per_level}",
            values.len()
        )));
    }
    Ok(values
        .chunks_exact(per_level.max(1))
        .map(<[f32]>::to_vec)
        .collect())
}

fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|source| SemidError::Io {
        path: path.into(),
        source,
    })
}

use recdata::fsio::write_atomic;
