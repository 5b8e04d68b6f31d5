//! Hierarchical k-means (the DSI tokenisation): recursive clustering, K children per node.

use std::collections::BTreeMap;

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Result, SemidError};
use crate::kmeans::{self, KMeansConfig};
use crate::matrix::EmbeddingMatrix;
use crate::quantizer::{Method, Quantizer};

/// Settings of hierarchical k-means.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HierarchicalKMeansConfig {
    /// Depth of the tree: code levels per item.
    pub levels: usize,
    /// Most children per node (K).
    pub codebook_size: usize,
    /// Most Lloyd iterations per node.
    pub max_iters: usize,
    /// Most points k-means++ initialisation looks at (a seeded sample).
    pub init_sample: usize,
    /// Seed; node `n` uses `seed + n`.
    pub seed: u64,
}

impl Default for HierarchicalKMeansConfig {
    fn default() -> Self {
        Self {
            levels: 3,
            codebook_size: 256,
            max_iters: 25,
            init_sample: 16384,
            seed: 42,
        }
    }
}

/// One tree node: its children's centroids and, above the last level, their node indices.
#[derive(Debug, Clone, PartialEq)]
struct Node {
    /// `children x dim`, row-major.
    centroids: Vec<f32>,
    /// Node index of every child; empty at the last level.
    children: Vec<u32>,
}

/// Fitted hierarchical k-means.
///
/// The scheme: the root clusters all fitted items into K clusters with k-means;
/// every cluster is a child node whose items are clustered again, on their
/// embeddings (not residuals), down to `levels` levels. A node with at most K items
/// gives every item its own child, in item order, without k-means. An item's code
/// at level `l` is the index of the child it descends into; encoding descends to
/// the nearest child centroid at every level. Unlike DSI's variable-depth tree
/// (recurse while a cluster has more than `c` items, then number the leaves),
/// the depth is fixed so the IDs share the token layout of the other methods, and
/// the identification digit numbers the items that end in the same leaf.
///
/// The tree stores one centroid per child, so near the leaves it holds about as
/// many centroids as fitted items: its size is of the order of the fitted matrix.
#[derive(Debug, Clone)]
pub struct HierarchicalKMeans<B: Backend> {
    config: HierarchicalKMeansConfig,
    dim: usize,
    nodes: Vec<Node>,
    device: B::Device,
}

impl<B: Backend> HierarchicalKMeans<B> {
    /// Fits on `embeddings` (the in-sample items only).
    pub fn fit(
        config: HierarchicalKMeansConfig,
        embeddings: &EmbeddingMatrix,
        device: &B::Device,
    ) -> Result<Self> {
        let dim = embeddings.dim();
        let k = config.codebook_size;
        if config.levels == 0 || k == 0 {
            return Err(SemidError::Config(
                "hierarchical k-means needs levels > 0 and K > 0".into(),
            ));
        }
        if embeddings.rows() < k {
            return Err(SemidError::TooFewItems {
                items: embeddings.rows(),
                codes: k,
            });
        }
        let mut nodes = vec![Node {
            centroids: Vec::new(),
            children: Vec::new(),
        }];
        // Breadth first: (node, depth, rows of the fitted matrix).
        let mut queue = std::collections::VecDeque::from([(
            0usize,
            0usize,
            (0..embeddings.rows()).collect::<Vec<_>>(),
        )]);
        while let Some((node, depth, rows)) = queue.pop_front() {
            let data: Vec<f32> = rows
                .iter()
                .flat_map(|&r| embeddings.row(r).iter().copied())
                .collect();
            let (centroids, assignment) = if rows.len() <= k {
                (data, (0..rows.len() as u32).collect::<Vec<_>>())
            } else {
                let km = KMeansConfig {
                    k,
                    max_iters: config.max_iters,
                    init_sample: config.init_sample,
                    seed: config.seed.wrapping_add(node as u64),
                };
                let fit = kmeans::fit::<B>(&data, dim, &km, device)?;
                (fit.centroids, fit.assignment)
            };
            let num_children = centroids.len() / dim;
            nodes[node].centroids = centroids;
            if depth + 1 < config.levels {
                let mut members = vec![Vec::new(); num_children];
                for (&row, &a) in rows.iter().zip(&assignment) {
                    members[a as usize].push(row);
                }
                for child_rows in members {
                    let child = nodes.len();
                    nodes.push(Node {
                        centroids: Vec::new(),
                        children: Vec::new(),
                    });
                    nodes[node].children.push(child as u32);
                    queue.push_back((child, depth + 1, child_rows));
                }
            }
        }
        tracing::debug!(nodes = nodes.len(), "hierarchical k-means fitted");
        Ok(Self {
            config,
            dim,
            nodes,
            device: device.clone(),
        })
    }

    /// The tree as flat parts: per node its number of children, all children's node
    /// indices (empty at the last level), and all centroids (row-major).
    pub fn to_parts(&self) -> (Vec<u32>, Vec<u32>, Vec<f32>) {
        let sizes = self
            .nodes
            .iter()
            .map(|n| (n.centroids.len() / self.dim) as u32)
            .collect();
        let children = self
            .nodes
            .iter()
            .flat_map(|n| n.children.iter().copied())
            .collect();
        let centroids = self
            .nodes
            .iter()
            .flat_map(|n| n.centroids.iter().copied())
            .collect();
        (sizes, children, centroids)
    }

    /// Rebuilds the tree from [`HierarchicalKMeans::to_parts`], checking its shape.
    pub fn from_parts(
        config: HierarchicalKMeansConfig,
        dim: usize,
        sizes: &[u32],
        children: &[u32],
        centroids: &[f32],
        device: &B::Device,
    ) -> Result<Self> {
        let bad =
            |reason: String| SemidError::Config(format!("hierarchical k-means tree: {reason}"));
        if sizes.iter().map(|&s| s as usize).sum::<usize>() * dim != centroids.len() {
            return Err(bad("centroid count does not match the node sizes".into()));
        }
        // Node depths follow from the child links (children always come after their parent).
        let mut depth = vec![usize::MAX; sizes.len()];
        let mut nodes = Vec::with_capacity(sizes.len());
        let (mut c, mut ch) = (0usize, 0usize);
        for (n, &s) in sizes.iter().enumerate() {
            let s = s as usize;
            let d = if n == 0 { 0 } else { depth[n] };
            if d == usize::MAX {
                return Err(bad(format!("node {n} has no parent")));
            }
            let mut kids = Vec::new();
            if d + 1 < config.levels {
                kids = children
                    .get(ch..ch + s)
                    .ok_or_else(|| bad("too few child indices".into()))?
                    .to_vec();
                ch += s;
                for &k in &kids {
                    let k = k as usize;
                    if k <= n || k >= sizes.len() || depth[k] != usize::MAX {
                        return Err(bad(format!("node {n} has an invalid child {k}")));
                    }
                    depth[k] = d + 1;
                }
            }
            nodes.push(Node {
                centroids: centroids[c..c + s * dim].to_vec(),
                children: kids,
            });
            c += s * dim;
        }
        if ch != children.len() {
            return Err(bad("more child indices than nodes with children".into()));
        }
        Ok(Self {
            config,
            dim,
            nodes,
            device: device.clone(),
        })
    }

    /// The settings it was fitted with.
    pub fn config(&self) -> &HierarchicalKMeansConfig {
        &self.config
    }

    /// Number of tree nodes.
    pub fn num_nodes(&self) -> usize {
        self.nodes.len()
    }
}

impl<B: Backend> Quantizer for HierarchicalKMeans<B> {
    fn method(&self) -> Method {
        Method::HKMeans
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn levels(&self) -> usize {
        self.config.levels
    }

    fn codebook_size(&self) -> usize {
        self.config.codebook_size
    }

    fn encode(&self, embeddings: &EmbeddingMatrix) -> Result<Vec<u32>> {
        embeddings.expect_dim(self.dim)?;
        let levels = self.config.levels;
        let rows = embeddings.rows();
        let mut codes = vec![0u32; rows * levels];
        let mut node_of = vec![0u32; rows];
        for level in 0..levels {
            // Rows grouped by the node they reached, so each node is one batched search.
            let mut groups: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
            for (row, &n) in node_of.iter().enumerate() {
                groups.entry(n).or_default().push(row);
            }
            for (n, members) in groups {
                let node = &self.nodes[n as usize];
                let data: Vec<f32> = members
                    .iter()
                    .flat_map(|&r| embeddings.row(r).iter().copied())
                    .collect();
                let (assignment, _) =
                    kmeans::nearest::<B>(&data, self.dim, &node.centroids, &self.device);
                for (&row, a) in members.iter().zip(assignment) {
                    codes[row * levels + level] = a;
                    if level + 1 < levels {
                        node_of[row] = node.children[a as usize];
                    }
                }
            }
        }
        Ok(codes)
    }

    fn reconstruction_mse(&self, _embeddings: &EmbeddingMatrix) -> Result<Option<f64>> {
        Ok(None)
    }
}
