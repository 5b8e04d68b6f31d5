//! `Embeddings`: an `n × dim` matrix of `f32` sentence embeddings, one row per text,
//! stored as a safetensors file holding one tensor named `embeddings`.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::Dtype;

use crate::error::{Error, Result};
use crate::files::{read_bytes, write_atomic};

/// The name of the tensor in an embeddings file.
pub const EMBEDDINGS_TENSOR: &str = "embeddings";

/// Row-major sentence embeddings.
#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    dim: usize,
    data: Vec<f32>,
}

impl Embeddings {
    /// Wraps a row-major matrix; `data.len()` must be a multiple of `dim`.
    pub fn new(dim: usize, data: Vec<f32>) -> Result<Self> {
        if dim == 0 || !data.len().is_multiple_of(dim) {
            return Err(Error::InvalidArgument(format!(
                "{} values do not make rows of width {dim}",
                data.len()
            )));
        }
        Ok(Self { dim, data })
    }

    /// Width of a row.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.data.len() / self.dim
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Row `i`, the embedding of the `i`-th text. Panics when `i >= len()`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// Iterates over the rows.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = &[f32]> {
        self.data.chunks_exact(self.dim)
    }

    /// The whole row-major matrix.
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }

    /// Takes the row-major matrix out.
    pub fn into_vec(self) -> Vec<f32> {
        self.data
    }

    /// Writes the matrix atomically as a safetensors file with one `F32` tensor
    /// `embeddings` of shape `[n, dim]`, with `metadata` in its header.
    ///
    /// The same matrix and metadata always give the same bytes: the header's keys are
    /// written in sorted order (the `safetensors` crate's writer follows a `HashMap`'s
    /// random order), so a file's SHA-256, which the semantic-ID and reproduce stamps
    /// key on, changes only when its content does.
    pub fn save(&self, path: &Path, metadata: HashMap<String, String>) -> Result<()> {
        let data: Vec<u8> = self.data.iter().flat_map(|v| v.to_le_bytes()).collect();
        let metadata: std::collections::BTreeMap<String, String> = metadata.into_iter().collect();
        let header = serde_json::json!({
            "__metadata__": metadata,
            EMBEDDINGS_TENSOR: {
                "dtype": "F32",
                "shape": [self.len(), self.dim],
                "data_offsets": [0, data.len()],
            },
        });
        let mut header = serde_json::to_vec(&header).map_err(|e| Error::Safetensors {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        // The format pads the header with spaces to a multiple of 8 bytes.
        header.resize(header.len().div_ceil(8) * 8, b' ');
        let mut file = Vec::with_capacity(8 + header.len() + data.len());
        file.extend_from_slice(&(header.len() as u64).to_le_bytes());
        file.extend_from_slice(&header);
        file.extend_from_slice(&data);
        Ok(write_atomic(path, &file)?)
    }

    /// Reads a file written by [`save`](Self::save) (or any safetensors file with a 2-d
    /// `F32` tensor named `embeddings`), with its header metadata.
    pub fn load(path: &Path) -> Result<(Self, HashMap<String, String>)> {
        let bytes = read_bytes(path)?;
        let malformed = |message: String| Error::Safetensors {
            path: path.to_path_buf(),
            message,
        };
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes)
            .map_err(|e| malformed(e.to_string()))?;
        let metadata = header.metadata().clone().unwrap_or_default();
        let file =
            safetensors::SafeTensors::deserialize(&bytes).map_err(|e| malformed(e.to_string()))?;
        let tensor = file
            .tensor(EMBEDDINGS_TENSOR)
            .map_err(|e| malformed(format!("tensor {EMBEDDINGS_TENSOR}: {e}")))?;
        let shape = tensor.shape();
        if tensor.dtype() != Dtype::F32 || shape.len() != 2 {
            return Err(malformed(format!(
                "tensor {EMBEDDINGS_TENSOR} is {:?} {:?}, expected F32 [n, dim]",
                tensor.dtype(),
                shape
            )));
        }
        let data = tensor
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let embeddings = Self::new(shape[1], data).map_err(|e| malformed(e.to_string()))?;
        Ok((embeddings, metadata))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_round_trip() {
        let dir = std::env::temp_dir().join(format!("text-encoder-emb-{}", std::process::id()));
        let path = dir.join("e.safetensors");
        let embeddings = Embeddings::new(3, vec![1.0, -2.0, 0.5, 3.25, 0.0, -0.125]).unwrap();
        let metadata = HashMap::from([("model".to_string(), "abc".to_string())]);
        embeddings.save(&path, metadata.clone()).unwrap();
        let (loaded, loaded_metadata) = Embeddings::load(&path).unwrap();
        assert_eq!(loaded, embeddings);
        assert_eq!(loaded_metadata, metadata);
        assert_eq!(loaded.row(1), &[3.25, 0.0, -0.125]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_same_content_gives_the_same_bytes_and_safetensors_reads_it() {
        let dir = std::env::temp_dir().join(format!("text-encoder-det-{}", std::process::id()));
        let embeddings = Embeddings::new(2, vec![0.5, -1.0, 2.0, 4.0]).unwrap();
        let metadata: HashMap<String, String> =
            (0..12).map(|i| (format!("key{i}"), format!("value{i}"))).collect();
        let mut files = Vec::new();
        for i in 0..3 {
            // A fresh HashMap each time: its iteration order differs between instances.
            let path = dir.join(format!("e{i}.safetensors"));
            embeddings.save(&path, metadata.clone().into_iter().collect()).unwrap();
            files.push(std::fs::read(&path).unwrap());
        }
        assert!(files.windows(2).all(|w| w[0] == w[1]), "bytes differ between saves");
        let parsed = safetensors::SafeTensors::deserialize(&files[0]).unwrap();
        let t = parsed.tensor(EMBEDDINGS_TENSOR).unwrap();
        assert_eq!((t.dtype(), t.shape()), (Dtype::F32, &[2usize, 2][..]));
        assert_eq!(t.data(), &files[0][files[0].len() - 16..]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn rejects_ragged_rows() {
        assert!(Embeddings::new(2, vec![1.0, 2.0, 3.0]).is_err());
    }
}
