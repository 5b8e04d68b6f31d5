//! The SpecGR++ drafter: the generative recommender's own encoder drafts.
//!
//! Item vectors are the GR encoder's projections of single items
//! (`[BOS d1 .. dn EOS]` through the encoder, mean-pooled, projected, normalised;
//! `gr_model::SpecGrPp::embed_all_items`), unseen items included. A query's vector is
//! the projection of the history's encoder states that the verifier computed anyway
//! ([`Query::vector`], filled by the speculative loop from
//! `gr_model::TigerVerifier::with_query_embedding` or `Request::vector`), so
//! drafting costs no second encoder pass. This crate holds no model: the vectors
//! come in ready-made.

use recdata::ItemId;
use serde::{Deserialize, Serialize};

use rec_core::Query;

use crate::error::{DrafterError, Result, check_vector};
use crate::knn::KnnConfig;
use crate::knn_drafter::{KnnDrafter, QueryEncoder};
use crate::topk::normalize;

/// Encoder-drafter settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EncoderDrafterConfig {
    /// Filters that allow at most this many items are scored by enumerating them.
    pub max_candidates: usize,
    /// The index settings (its `dim` is the projection head's width).
    pub knn: KnnConfig,
}

impl EncoderDrafterConfig {
    /// Defaults for vectors of dimension `dim` (the projection width, reference 128).
    pub fn new(dim: usize) -> Self {
        Self { max_candidates: 16_384, knn: KnnConfig::new(dim) }
    }
}

/// A KNN drafter over the GR encoder's item vectors, queried with the GR encoder's
/// history vectors: a [`KnnDrafter`] over [`GivenVectors`]. Scores are cosine
/// similarities.
pub type EncoderDrafter = KnnDrafter<GivenVectors>;

impl EncoderDrafter {
    /// A drafter over `items` with encoder item vectors `vectors` (row-major,
    /// `items.len() * dim` floats; normalised here).
    pub fn new(config: EncoderDrafterConfig, items: &[ItemId], vectors: &[f32]) -> Result<Self> {
        let encoder = GivenVectors { dim: config.knn.dim, prior: None };
        Self::with_encoder(encoder, config.knn, config.max_candidates, items, vectors)
    }

    /// The same drafter with a [`PopularityPrior`]: item `j` scores
    /// `cos(u, v_j) + weight · ln(1 + n_j)`. Not the paper's SpecGR++ drafter.
    ///
    /// The search stays one exact inner product: each item vector gains the
    /// coordinate `weight · ln(1 + n_j)` and each query vector the coordinate 1.
    ///
    /// # Errors
    /// [`DrafterError::Config`] for a weight that is not finite; what
    /// [`EncoderDrafter::new`] returns otherwise.
    pub fn with_prior(config: EncoderDrafterConfig, prior: PopularityPrior, items: &[ItemId], vectors: &[f32]) -> Result<Self> {
        if !prior.weight.is_finite() {
            return Err(DrafterError::Config(format!("popularity prior weight {} is not finite", prior.weight)));
        }
        let dim = config.knn.dim;
        let mut knn = config.knn;
        knn.dim = dim + 1;
        let encoder = GivenVectors { dim, prior: Some(prior) };
        Self::with_encoder(encoder, knn, config.max_candidates, items, vectors)
    }
}

/// A popularity prior on the encoder drafter's scores (not in the paper).
///
/// Why: stage 1 of SpecGR++ trains the encoder with in-batch negatives, and a batch
/// holds an item about as often as training examples target it, so the contrastive
/// loss is minimised by scores that discount each item's log-frequency (the sampling
/// bias of in-batch softmax; Yi et al., RecSys 2019). With temperature τ, a
/// `weight` of τ on `ln(1 + n_j)` adds that log-frequency back.
#[derive(Clone, Debug, PartialEq)]
pub struct PopularityPrior {
    /// The weight on `ln(1 + n_j)`, in units of the cosine.
    pub weight: f32,
    /// `n_j`: how many training examples target item `j` (absent items: 0, e.g.
    /// unseen items and items added later).
    pub counts: std::collections::HashMap<ItemId, usize>,
}

impl PopularityPrior {
    /// The term added to item `item`'s cosine.
    pub fn term(&self, item: ItemId) -> f32 {
        self.weight * (self.counts.get(&item).copied().unwrap_or(0) as f32).ln_1p()
    }
}

/// The SpecGR++ drafter's query encoder: it embeds nothing itself. A query's vector
/// is the one the verifier computed ([`Query::vector`]), normalised; items' vectors
/// are the ones given to `add_items`, normalised.
///
/// With a [`PopularityPrior`] the vectors carry one more coordinate: 1 for a query,
/// the prior's term for an item.
#[derive(Debug)]
pub struct GivenVectors {
    dim: usize,
    prior: Option<PopularityPrior>,
}

impl QueryEncoder for GivenVectors {
    fn name(&self) -> &str {
        "gr-encoder"
    }

    /// Normalises each query's precomputed vector.
    ///
    /// # Errors
    /// [`DrafterError::MissingQueryVector`] when a query has no vector: this drafter
    /// cannot embed a history itself.
    fn embed_queries(&self, queries: &[Query<'_>]) -> Result<Vec<Vec<f32>>> {
        queries
            .iter()
            .enumerate()
            .map(|(q, query)| {
                let v = query.vector.ok_or(DrafterError::MissingQueryVector { query: q, drafter: "gr-encoder" })?;
                check_vector(|| format!("query {q} vector"), v, self.dim)?;
                let mut v = v.to_vec();
                normalize(&mut v);
                if self.prior.is_some() {
                    v.push(1.0);
                }
                Ok(v)
            })
            .collect()
    }

    /// `embeddings` are the items' encoder vectors (not text embeddings): embed new
    /// items' semantic IDs with the same model's projection head first.
    fn item_vectors(&self, items: &[ItemId], embeddings: &[f32]) -> Result<Vec<f32>> {
        let d = self.dim;
        if embeddings.len() != items.len() * d {
            return Err(DrafterError::BufferLength {
                what: "EncoderDrafter::add_items vectors".into(),
                got: embeddings.len(),
                items: items.len(),
                dim: d,
            });
        }
        let mut rows = embeddings.to_vec();
        rows.chunks_exact_mut(d).for_each(normalize);
        match &self.prior {
            None => Ok(rows),
            Some(prior) => Ok(rows
                .chunks_exact(d)
                .zip(items)
                .flat_map(|(row, &item)| row.iter().copied().chain(std::iter::once(prior.term(item))))
                .collect()),
        }
    }
}
