//! A fitted tokenizer: the frozen quantizer, the ID table and the prefix trie together.

use burn::prelude::*;

use crate::error::Result;
use crate::fit::FitConfig;
use crate::hkmeans::HierarchicalKMeans;
use crate::ids::SemanticIds;
use crate::matrix::EmbeddingMatrix;
use crate::quantizer::{Method, Quantizer};
use crate::rqkmeans::ResidualKMeans;
use crate::rqvae::RqVae;
use crate::trie::PrefixTrie;

/// One of the fitted quantizers.
#[derive(Debug, Clone)]
pub enum FittedQuantizer<B: Backend> {
    /// RQ-VAE.
    RqVae(RqVae<B>),
    /// Residual k-means.
    RqKMeans(ResidualKMeans<B>),
    /// Hierarchical k-means.
    HKMeans(HierarchicalKMeans<B>),
}

impl<B: Backend> FittedQuantizer<B> {
    fn inner(&self) -> &dyn Quantizer {
        match self {
            FittedQuantizer::RqVae(q) => q,
            FittedQuantizer::RqKMeans(q) => q,
            FittedQuantizer::HKMeans(q) => q,
        }
    }
}

impl<B: Backend> Quantizer for FittedQuantizer<B> {
    fn method(&self) -> Method {
        self.inner().method()
    }

    fn dim(&self) -> usize {
        self.inner().dim()
    }

    fn levels(&self) -> usize {
        self.inner().levels()
    }

    fn codebook_size(&self) -> usize {
        self.inner().codebook_size()
    }

    fn encode(&self, embeddings: &EmbeddingMatrix) -> Result<Vec<u32>> {
        self.inner().encode(embeddings)
    }

    fn reconstruction_mse(&self, embeddings: &EmbeddingMatrix) -> Result<Option<f64>> {
        self.inner().reconstruction_mse(embeddings)
    }
}

/// Everything a recommender needs about semantic IDs: the frozen quantizer, every
/// item's ID, and the trie over them. New items get IDs with [`SemanticIdModel::assign`]
/// without refitting anything.
#[derive(Debug, Clone)]
pub struct SemanticIdModel<B: Backend> {
    /// How it was fitted.
    pub config: FitConfig,
    /// The frozen quantizer.
    pub quantizer: FittedQuantizer<B>,
    pub(crate) ids: SemanticIds,
    pub(crate) trie: PrefixTrie,
}

impl<B: Backend> SemanticIdModel<B> {
    /// Assembles a model; the trie is built from `ids`.
    pub fn new(config: FitConfig, quantizer: FittedQuantizer<B>, ids: SemanticIds) -> Self {
        let trie = PrefixTrie::from_ids(&ids);
        Self {
            config,
            quantizer,
            ids,
            trie,
        }
    }

    /// Every item's ID.
    pub fn ids(&self) -> &SemanticIds {
        &self.ids
    }

    /// The trie over all items' full IDs.
    pub fn trie(&self) -> &PrefixTrie {
        &self.trie
    }

    /// Gives a new item (the next index, `ids().len()`) its ID from the frozen
    /// quantizer and adds it to the table and the trie. Returns the item index.
    pub fn assign(&mut self, embedding: &[f32]) -> Result<u32> {
        let x = EmbeddingMatrix::new(embedding.to_vec(), embedding.len())?;
        x.expect_dim(self.quantizer.dim())?;
        let codes = self.quantizer.encode(&x)?;
        let item = self.ids.push(&codes)?;
        self.trie.insert(item, self.ids.codes(item))?;
        Ok(item)
    }

    /// Like [`SemanticIdModel::assign`] for many new items at once (one batched
    /// encode, one trie rebuild). On a collision overflow the items before the
    /// failing one keep their IDs.
    pub fn assign_batch(&mut self, embeddings: &EmbeddingMatrix) -> Result<Vec<u32>> {
        let codes = self.quantizer.encode(embeddings)?;
        let levels = self.quantizer.levels();
        let mut items = Vec::with_capacity(embeddings.rows());
        let mut result = Ok(());
        for row in codes.chunks_exact(levels) {
            match self.ids.push(row) {
                Ok(item) => items.push(item),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.trie = PrefixTrie::from_ids(&self.ids);
        result.map(|()| items)
    }
}
