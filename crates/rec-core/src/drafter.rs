//! The [`Drafter`] trait: the only view the speculative loop has of a drafter.

use recdata::ItemId;

use crate::error::DrafterError;
use crate::filter::DraftFilter;

/// The result type of [`Drafter`]'s methods.
pub type DrafterResult<T> = std::result::Result<T, DrafterError>;

/// One search result: an item and its score (higher is better).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Neighbor {
    /// The item.
    pub item: ItemId,
    /// Its score: the inner product with the query (cosine similarity for
    /// normalised vectors).
    pub score: f32,
}

/// One drafting query: a user's history and, where the caller has one, a
/// precomputed query vector.
#[derive(Clone, Copy, Debug)]
pub struct Query<'a> {
    /// The history, oldest first.
    pub history: &'a [ItemId],
    /// A query vector in the drafter's item space, computed elsewhere (SpecGR++
    /// passes the GR encoder's projection here). Drafters that embed histories
    /// themselves (`drafters::SemanticKnn`, `drafters::UniSRec`) ignore it.
    pub vector: Option<&'a [f32]>,
}

impl<'a> Query<'a> {
    /// A query from a history alone.
    pub fn new(history: &'a [ItemId]) -> Self {
        Self { history, vector: None }
    }

    /// The same query with a precomputed vector.
    pub fn with_vector(mut self, vector: &'a [f32]) -> Self {
        self.vector = Some(vector);
        self
    }
}

/// A drafter proposes candidate items for a batch of queries.
///
/// Drafting is split in two so that a multi-round loop embeds each query once:
/// [`Drafter::embed_queries`] maps queries to vectors, then [`Drafter::search`]
/// is called once per round with that round's filters. [`Drafter::draft`] does
/// both.
pub trait Drafter {
    /// A short name for logs and reports.
    fn name(&self) -> &str;

    /// The dimension of query and item vectors.
    fn dim(&self) -> usize;

    /// The number of draftable items.
    fn num_items(&self) -> usize;

    /// Embeds each query (unit L2 norm).
    ///
    /// # Errors
    /// [`DrafterError::UnknownHistory`] when a query's history holds no item the
    /// drafter knows; [`DrafterError::Dimension`] for a precomputed vector of the
    /// wrong size.
    fn embed_queries(&self, queries: &[Query<'_>]) -> DrafterResult<Vec<Vec<f32>>>;

    /// The top `n` items per query vector under that query's filter, best first,
    /// with their scores (cosine similarity). A filter that allows nothing gives
    /// an empty list.
    fn search(&self, vectors: &[Vec<f32>], filters: &[DraftFilter<'_>], n: usize) -> DrafterResult<Vec<Vec<Neighbor>>>;

    /// Embeds and searches in one call.
    fn draft(&self, queries: &[Query<'_>], filters: &[DraftFilter<'_>], n: usize) -> DrafterResult<Vec<Vec<Neighbor>>> {
        if queries.len() != filters.len() {
            return Err(DrafterError::BatchMismatch { queries: queries.len(), filters: filters.len() });
        }
        let vectors = self.embed_queries(queries)?;
        self.search(&vectors, filters, n)
    }

    /// Makes `items` draftable at once, without retraining. `embeddings` holds
    /// their input features row-major (text embeddings for SemanticKNN and
    /// UniSRec); an item already known is replaced.
    fn add_items(&mut self, items: &[ItemId], embeddings: &[f32]) -> DrafterResult<()>;
}

