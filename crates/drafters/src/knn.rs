//! A filtered inner-product nearest-neighbour index over item vectors.
//!
//! Small catalogs are searched exactly: a brute-force scan over a dense row-major
//! matrix, blocked so that a batch of queries reads each block of rows once while
//! it is in cache. Catalogs above [`KnnConfig::exact_threshold`] items are searched
//! through a usearch HNSW graph, which is built the moment the catalog crosses the
//! threshold and kept in step with every later add and remove. Both paths accept
//! a per-query predicate; a short explicit candidate list (see
//! [`KnnIndex::score_candidates`]) is always scored exactly.

use recdata::ItemId;
use serde::{Deserialize, Serialize};
use usearch::{Index, IndexOptions, MetricKind, ScalarKind};

use crate::error::{DrafterError, Result, check_vector};
use rec_core::ItemSet;
use crate::topk::{Neighbor, TopK, dot};

/// How a [`KnnIndex`] is built and searched.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KnnConfig {
    /// The dimension of every vector.
    pub dim: usize,
    /// Catalogs with at most this many items are searched exactly; larger ones
    /// through the HNSW graph.
    pub exact_threshold: usize,
    /// HNSW connectivity (edges per node, `M`).
    pub connectivity: usize,
    /// HNSW candidate-list size while inserting (`efConstruction`).
    pub expansion_add: usize,
    /// HNSW candidate-list size while searching (`ef`); raised to `k` when a search
    /// asks for more neighbours than this.
    pub expansion_search: usize,
    /// Threads that insert into the HNSW graph; 0 (the default) uses every core.
    /// Insertion on several threads is faster, but the graph then depends on thread
    /// timing, so approximate results can differ from run to run; 1 builds the same
    /// graph every time.
    #[serde(default)]
    pub insert_threads: usize,
}

impl KnnConfig {
    /// The defaults for vectors of dimension `dim`: exact search up to 200,000
    /// items, then HNSW with M = 16, efConstruction = 128, ef = 128.
    pub fn new(dim: usize) -> Self {
        Self { dim, exact_threshold: 200_000, connectivity: 16, expansion_add: 128, expansion_search: 128, insert_threads: 0 }
    }

    /// The same config with another number of graph-insertion threads (1: a
    /// reproducible graph; 0: every core).
    pub fn with_insert_threads(mut self, threads: usize) -> Self {
        self.insert_threads = threads;
        self
    }

    /// The same config with another exact-search threshold.
    pub fn with_exact_threshold(mut self, threshold: usize) -> Self {
        self.exact_threshold = threshold;
        self
    }
}

/// Rows per block of the exact scan: 256 rows of 384 floats (384 KiB) stay in L2
/// while every query of a batch passes over them.
const BLOCK_ROWS: usize = 256;

/// Scans of at least this many multiply-adds are split across threads (below
/// it, spawning costs more than it saves).
const PARALLEL_WORK: usize = 1 << 21;

/// A per-query item predicate; `Sync` so that scans can run on several threads.
pub type Keep<'a> = &'a (dyn Fn(ItemId) -> bool + Sync);

/// An inner-product KNN index keyed by [`ItemId`], with online adds and removes.
///
/// Scores are raw inner products; callers that want cosine similarity add
/// L2-normalised vectors and normalise their queries.
pub struct KnnIndex {
    config: KnnConfig,
    /// Row `i` holds item `i`'s vector; rows of absent items are zero.
    rows: Vec<f32>,
    present: ItemSet,
    hnsw: Option<Index>,
}

impl std::fmt::Debug for KnnIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnnIndex")
            .field("config", &self.config)
            .field("len", &self.len())
            .field("hnsw", &self.hnsw.is_some())
            .finish()
    }
}

impl KnnIndex {
    /// An empty index.
    pub fn new(config: KnnConfig) -> Result<Self> {
        if config.dim == 0 {
            return Err(DrafterError::Config("KnnConfig.dim must be positive".into()));
        }
        if config.connectivity < 2 || config.expansion_add == 0 || config.expansion_search == 0 {
            return Err(DrafterError::Config(format!(
                "KnnConfig: connectivity must be >= 2 and expansions positive, got {config:?}"
            )));
        }
        Ok(Self { config, rows: Vec::new(), present: ItemSet::new(), hnsw: None })
    }

    /// The index's config.
    pub fn config(&self) -> &KnnConfig {
        &self.config
    }

    /// The vector dimension.
    pub fn dim(&self) -> usize {
        self.config.dim
    }

    /// The number of items in the index.
    pub fn len(&self) -> usize {
        self.present.len()
    }

    /// Whether the index holds no item.
    pub fn is_empty(&self) -> bool {
        self.present.is_empty()
    }

    /// Whether `item` is in the index.
    pub fn contains(&self, item: ItemId) -> bool {
        self.present.contains(item)
    }

    /// The items in the index.
    pub fn items(&self) -> &ItemSet {
        &self.present
    }

    /// Whether searches currently go through the HNSW graph (else exact).
    pub fn is_approximate(&self) -> bool {
        self.hnsw.is_some() && self.len() > self.config.exact_threshold
    }

    /// The stored vector of `item`.
    pub fn vector(&self, item: ItemId) -> Option<&[f32]> {
        let d = self.config.dim;
        self.contains(item).then(|| &self.rows[item.index() * d..(item.index() + 1) * d])
    }

    /// Adds (or replaces) the vectors of `items`; `vectors` holds their rows,
    /// row-major, `items.len() * dim` floats. Nothing is added if any row is bad.
    pub fn add(&mut self, items: &[ItemId], vectors: &[f32]) -> Result<()> {
        let d = self.config.dim;
        if vectors.len() != items.len() * d {
            return Err(DrafterError::BufferLength {
                what: "KnnIndex::add vectors".into(),
                got: vectors.len(),
                items: items.len(),
                dim: d,
            });
        }
        for (i, (item, row)) in items.iter().zip(vectors.chunks_exact(d)).enumerate() {
            check_vector(|| format!("KnnIndex::add row {i} (item {item})"), row, d)?;
        }
        let max = items.iter().map(|i| i.index() + 1).max().unwrap_or(0);
        if self.rows.len() < max * d {
            self.rows.resize(max * d, 0.0);
        }
        for (&item, row) in items.iter().zip(vectors.chunks_exact(d)) {
            if let Some(hnsw) = &self.hnsw
                && self.present.contains(item)
            {
                hnsw.remove(u64::from(item.0)).map_err(|e| DrafterError::Usearch(e.to_string()))?;
            }
            self.rows[item.index() * d..(item.index() + 1) * d].copy_from_slice(row);
            self.present.insert(item);
        }
        match &self.hnsw {
            Some(_) => self.hnsw_add(items)?,
            None if self.len() > self.config.exact_threshold => self.build_hnsw()?,
            None => {}
        }
        Ok(())
    }

    /// Removes `item`; returns whether it was present.
    pub fn remove(&mut self, item: ItemId) -> Result<bool> {
        if !self.present.remove(item) {
            return Ok(false);
        }
        let d = self.config.dim;
        self.rows[item.index() * d..(item.index() + 1) * d].fill(0.0);
        if let Some(hnsw) = &self.hnsw {
            hnsw.remove(u64::from(item.0)).map_err(|e| DrafterError::Usearch(e.to_string()))?;
        }
        Ok(true)
    }

    fn build_hnsw(&mut self) -> Result<()> {
        let c = &self.config;
        let options = IndexOptions {
            dimensions: c.dim,
            metric: MetricKind::IP,
            quantization: ScalarKind::F32,
            connectivity: c.connectivity,
            expansion_add: c.expansion_add,
            expansion_search: c.expansion_search,
            multi: false,
        };
        let index = Index::new(&options).map_err(|e| DrafterError::Usearch(e.to_string()))?;
        tracing::info!(items = self.len(), dim = c.dim, "building HNSW graph");
        self.hnsw = Some(index);
        let items: Vec<ItemId> = self.present.iter().collect();
        self.hnsw_add(&items)
    }

    /// Inserts `items` (already in `rows`) into the graph, on
    /// [`KnnConfig::insert_threads`] threads.
    fn hnsw_add(&self, items: &[ItemId]) -> Result<()> {
        let Some(hnsw) = &self.hnsw else { return Ok(()) };
        let threads = match self.config.insert_threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let needed = hnsw.size() + items.len();
        if needed > hnsw.capacity() {
            hnsw.reserve_capacity_and_threads(needed.max(2 * hnsw.capacity()), threads)
                .map_err(|e| DrafterError::Usearch(e.to_string()))?;
        }
        let d = self.config.dim;
        let chunk = items.len().div_ceil(threads).max(1);
        std::thread::scope(|s| {
            let handles: Vec<_> = items
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || {
                        part.iter().try_for_each(|&item| {
                            let row = &self.rows[item.index() * d..(item.index() + 1) * d];
                            hnsw.add(u64::from(item.0), row).map_err(|e| DrafterError::Usearch(e.to_string()))
                        })
                    })
                })
                .collect();
            handles.into_iter().try_for_each(|h| h.join().unwrap_or_else(|_| Err(DrafterError::Usearch("insert thread panicked".into()))))
        })
    }

    /// The `k` items with the highest inner product with `query`.
    pub fn search(&self, query: &[f32], k: usize) -> Result<Vec<Neighbor>> {
        self.search_filtered(query, k, |_| true)
    }

    /// The `k` items with the highest inner product with `query` among those for
    /// which `keep` returns true. Fewer than `k` come back when fewer pass.
    pub fn search_filtered(&self, query: &[f32], k: usize, keep: impl Fn(ItemId) -> bool + Sync) -> Result<Vec<Neighbor>> {
        check_vector(|| "KnnIndex::search query".into(), query, self.config.dim)?;
        if k == 0 || self.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(hnsw) = self.hnsw.as_ref().filter(|_| self.is_approximate()) {
            let _span = tracing::trace_span!("knn_search", mode = "hnsw", k).entered();
            if hnsw.expansion_search() < k {
                hnsw.change_expansion_search(k);
            }
            let m = hnsw
                .filtered_search(query, k, |key| keep(ItemId(key as u32)))
                .map_err(|e| DrafterError::Usearch(e.to_string()))?;
            // usearch's inner-product distance is 1 - <q, x>.
            return Ok(m.keys.iter().zip(&m.distances).map(|(&key, &dist)| Neighbor { item: ItemId(key as u32), score: 1.0 - dist }).collect());
        }
        let _span = tracing::trace_span!("knn_search", mode = "exact", k).entered();
        let keep: Keep<'_> = &keep;
        Ok(self.scan(&[query], &[keep], k).pop().unwrap_or_default())
    }

    /// Exact search for a batch of queries, each with its own predicate: one pass
    /// over the rows serves the whole batch. Falls back to per-query searches
    /// when the index is approximate.
    pub fn search_batch(&self, queries: &[&[f32]], keep: &[Keep<'_>], k: usize) -> Result<Vec<Vec<Neighbor>>> {
        if queries.len() != keep.len() {
            return Err(DrafterError::BatchMismatch { queries: queries.len(), filters: keep.len() });
        }
        for (i, q) in queries.iter().enumerate() {
            check_vector(|| format!("KnnIndex::search_batch query {i}"), q, self.config.dim)?;
        }
        if self.is_approximate() {
            return queries.iter().zip(keep).map(|(q, f)| self.search_filtered(q, k, f)).collect();
        }
        Ok(self.scan(queries, keep, k))
    }

    /// The `k` best of the given candidates (scored exactly; absent items and
    /// duplicates are skipped).
    pub fn score_candidates(&self, query: &[f32], candidates: impl IntoIterator<Item = ItemId>, k: usize) -> Result<Vec<Neighbor>> {
        check_vector(|| "KnnIndex::score_candidates query".into(), query, self.config.dim)?;
        let d = self.config.dim;
        let mut top = TopK::new(k);
        let mut seen = ItemSet::new();
        for item in candidates {
            if self.present.contains(item) && seen.insert(item) {
                top.push(item, dot(query, &self.rows[item.index() * d..(item.index() + 1) * d]));
            }
        }
        Ok(top.into_sorted())
    }

    /// Like [`KnnIndex::score_candidates`] for a list known to hold no duplicates.
    pub(crate) fn score_unique_candidates(&self, query: &[f32], candidates: &[ItemId], k: usize) -> Result<Vec<Neighbor>> {
        check_vector(|| "KnnIndex::score_candidates query".into(), query, self.config.dim)?;
        let d = self.config.dim;
        let mut top = TopK::new(k);
        for &item in candidates {
            if self.present.contains(item) {
                top.push(item, dot(query, &self.rows[item.index() * d..(item.index() + 1) * d]));
            }
        }
        Ok(top.into_sorted())
    }

    /// Brute-force scan of all rows, blocked so a batch shares each block's
    /// reads; large scans are split across the available cores.
    fn scan(&self, queries: &[&[f32]], keep: &[Keep<'_>], k: usize) -> Vec<Vec<Neighbor>> {
        let n_rows = self.rows.len() / self.config.dim;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let work = n_rows * self.config.dim * queries.len();
        if threads < 2 || work < PARALLEL_WORK {
            return self.scan_rows(queries, keep, k, 0..n_rows).into_iter().map(TopK::into_sorted).collect();
        }
        let per = n_rows.div_ceil(threads).div_ceil(BLOCK_ROWS) * BLOCK_ROWS;
        let parts: Vec<Vec<TopK>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..n_rows)
                .step_by(per)
                .map(|start| s.spawn(move || self.scan_rows(queries, keep, k, start..(start + per).min(n_rows))))
                .collect();
            handles.into_iter().map(|h| h.join().expect("scan threads do not panic")).collect()
        });
        (0..queries.len())
            .map(|q| {
                let mut top = TopK::new(k);
                parts.iter().flat_map(|p| p[q].iter()).for_each(|n| top.push(n.item, n.score));
                top.into_sorted()
            })
            .collect()
    }

    fn scan_rows(&self, queries: &[&[f32]], keep: &[Keep<'_>], k: usize, rows: std::ops::Range<usize>) -> Vec<TopK> {
        let d = self.config.dim;
        let mut tops: Vec<TopK> = queries.iter().map(|_| TopK::new(k)).collect();
        for start in rows.clone().step_by(BLOCK_ROWS) {
            let end = (start + BLOCK_ROWS).min(rows.end);
            for ((q, f), top) in queries.iter().zip(keep).zip(&mut tops) {
                for i in start..end {
                    if !self.present.contains_index(i) {
                        continue;
                    }
                    let s = dot(q, &self.rows[i * d..(i + 1) * d]);
                    if top.would_accept(s) && f(ItemId(i as u32)) {
                        top.push(ItemId(i as u32), s);
                    }
                }
            }
        }
        tops
    }
}
