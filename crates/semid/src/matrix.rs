//! A dense, validated embedding matrix on the host.

use crate::error::{Result, SemidError};

/// Row-major `rows x dim` embeddings, one row per item, every value finite.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddingMatrix {
    data: Vec<f32>,
    dim: usize,
}

impl EmbeddingMatrix {
    /// Wraps a row-major buffer, checking that it is a whole number of rows and that
    /// every value is finite (the error names the first bad row and column).
    pub fn new(data: Vec<f32>, dim: usize) -> Result<Self> {
        if dim == 0 || !data.len().is_multiple_of(dim) {
            return Err(SemidError::RaggedBuffer {
                what: "embedding matrix",
                len: data.len(),
                width: dim,
            });
        }
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(SemidError::NonFinite {
                row: i / dim,
                col: i % dim,
                value: data[i],
            });
        }
        Ok(Self { data, dim })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.data.len() / self.dim
    }

    /// Row width.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// The whole buffer, row-major.
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }

    /// The rows where `mask` is true, in order (the in-sample subset, say).
    pub fn select_mask(&self, mask: &[bool]) -> Result<Self> {
        if mask.len() != self.rows() {
            return Err(SemidError::MaskLength {
                mask: mask.len(),
                rows: self.rows(),
            });
        }
        let data = (0..self.rows())
            .filter(|&i| mask[i])
            .flat_map(|i| self.row(i).iter().copied())
            .collect();
        Ok(Self {
            data,
            dim: self.dim,
        })
    }

    /// Checks that the rows have the expected width.
    pub fn expect_dim(&self, expected: usize) -> Result<()> {
        if self.dim != expected {
            return Err(SemidError::DimensionMismatch {
                expected,
                got: self.dim,
            });
        }
        Ok(())
    }
}
