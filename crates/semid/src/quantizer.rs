//! The quantizer interface and the choice of method.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Result, SemidError};
use crate::matrix::EmbeddingMatrix;

/// Turns embeddings into `levels` codes each, with parameters frozen at fit time.
///
/// Implementations are fitted on the in-sample items only (see [`crate::fit`]);
/// `encode` then gives any item, in-sample, unseen or added later, its codes.
pub trait Quantizer {
    /// The method.
    fn method(&self) -> Method;
    /// Embedding dimension the quantizer was fitted on.
    fn dim(&self) -> usize;
    /// Code levels per item (without the identification digit).
    fn levels(&self) -> usize;
    /// Codes per level.
    fn codebook_size(&self) -> usize;
    /// The codes of every row, row-major (`rows x levels`).
    ///
    /// Fails with [`SemidError::DimensionMismatch`] when the rows have the wrong width.
    fn encode(&self, embeddings: &EmbeddingMatrix) -> Result<Vec<u32>>;
    /// Squared reconstruction error of every row, averaged over rows and dimensions,
    /// where the method defines a reconstruction.
    fn reconstruction_mse(&self, embeddings: &EmbeddingMatrix) -> Result<Option<f64>>;
}

/// A semantic-ID method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// RQ-VAE: an MLP autoencoder with residual EMA codebooks (TIGER, SpecGR).
    RqVae,
    /// Residual k-means: k-means on the residuals, level by level, no network.
    RqKMeans,
    /// Hierarchical k-means (DSI): recursive clustering, K children per node.
    HKMeans,
}

impl Method {
    /// Every method, in CLI order.
    pub const ALL: [Method; 3] = [Method::RqVae, Method::RqKMeans, Method::HKMeans];

    /// The CLI name (`rqvae`, `rqkmeans`, `hkmeans`).
    pub fn name(self) -> &'static str {
        match self {
            Method::RqVae => "rqvae",
            Method::RqKMeans => "rqkmeans",
            Method::HKMeans => "hkmeans",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Method {
    type Err = SemidError;

    fn from_str(s: &str) -> Result<Self> {
        Method::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                SemidError::Config(format!(
                    "unknown method {s:?}; expected rqvae, rqkmeans or hkmeans"
                ))
            })
    }
}
