//! Seeded k-means (k-means++ initialisation, Lloyd iterations, empty clusters
//! re-seeded from the farthest points), the building block of the residual and
//! hierarchical quantizers and of the RQ-VAE codebook initialisation.

use burn::prelude::*;
use burn::tensor::TensorData;
use serde::{Deserialize, Serialize};

use crate::error::{Result, SemidError};
use crate::rng::SplitMix64;

/// Settings of one k-means fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KMeansConfig {
    /// Number of clusters.
    pub k: usize,
    /// Most Lloyd iterations; the fit stops earlier when no assignment changes.
    pub max_iters: usize,
    /// k-means++ runs on at most this many points (a seeded sample) to bound its
    /// `k` sequential passes; Lloyd iterations always use every point.
    pub init_sample: usize,
    /// Seed of the initialisation.
    pub seed: u64,
}

impl KMeansConfig {
    /// `k` clusters with the defaults: 25 iterations, k-means++ on at most 16384 points.
    pub fn new(k: usize, seed: u64) -> Self {
        Self {
            k,
            max_iters: 25,
            init_sample: 16384,
            seed,
        }
    }
}

/// A fitted k-means model: the centroids and, for the fitted points, their clusters.
#[derive(Debug, Clone)]
pub struct KMeansFit {
    /// `k x dim`, row-major.
    pub centroids: Vec<f32>,
    /// Cluster of each fitted point.
    pub assignment: Vec<u32>,
    /// Lloyd iterations run.
    pub iterations: usize,
}

/// Below this many multiply-adds a nearest-centroid search runs in plain loops on the
/// host; above it, as one matrix product per block of rows on the backend.
const HOST_WORK: usize = 1 << 22;
/// Rows per block of the device nearest-centroid search (bounds the `rows x k` scores).
const BLOCK_ROWS: usize = 8192;

/// Points uploaded once to the device, in row blocks, with their squared norms.
struct Points<'a, B: Backend> {
    data: &'a [f32],
    dim: usize,
    blocks: Vec<Tensor<B, 2>>,
    norms: Vec<f32>,
}

impl<'a, B: Backend> Points<'a, B> {
    fn new(data: &'a [f32], dim: usize, k: usize, device: &B::Device) -> Self {
        let rows = data.len() / dim;
        let norms = data
            .chunks_exact(dim)
            .map(|r| r.iter().map(|v| v * v).sum())
            .collect();
        let blocks = if rows * k * dim <= HOST_WORK {
            Vec::new()
        } else {
            data.chunks(BLOCK_ROWS * dim)
                .map(|b| {
                    Tensor::from_data(TensorData::new(b.to_vec(), [b.len() / dim, dim]), device)
                })
                .collect()
        };
        Self {
            data,
            dim,
            blocks,
            norms,
        }
    }

    /// The nearest centroid of every point and the squared distance to it.
    fn nearest(&self, centroids: &[f32], device: &B::Device) -> (Vec<u32>, Vec<f32>) {
        let k = centroids.len() / self.dim;
        if self.blocks.is_empty() {
            return nearest_host(self.data, self.dim, centroids);
        }
        let c =
            Tensor::<B, 2>::from_data(TensorData::new(centroids.to_vec(), [k, self.dim]), device);
        let c_norms = c.clone().powi_scalar(2).sum_dim(1).reshape([1, k]); // [1, k]
        let ct = c.transpose(); // [dim, k]
        let mut assignment = Vec::with_capacity(self.norms.len());
        let mut dist = Vec::with_capacity(self.norms.len());
        for block in &self.blocks {
            // ||x - c||^2 - ||x||^2 = ||c||^2 - 2 x.c; ||x||^2 is added back on the host.
            let scores = block
                .clone()
                .matmul(ct.clone())
                .mul_scalar(-2.0)
                .add(c_norms.clone()); // [rows, k]
            let (min, idx) = scores.min_dim_with_indices(1); // [rows, 1]
            assignment.extend(idx.into_data().iter::<i64>().map(|i| i as u32));
            dist.extend(min.into_data().iter::<f32>());
        }
        for (d, n) in dist.iter_mut().zip(&self.norms) {
            *d = (*d + n).max(0.0);
        }
        (assignment, dist)
    }
}

/// Nearest centroid by exhaustive search in plain loops (ties go to the lower index).
pub fn nearest_host(data: &[f32], dim: usize, centroids: &[f32]) -> (Vec<u32>, Vec<f32>) {
    data.chunks_exact(dim)
        .map(|x| {
            let mut best = (0u32, f32::INFINITY);
            for (j, c) in centroids.chunks_exact(dim).enumerate() {
                let d = squared_distance(x, c);
                if d < best.1 {
                    best = (j as u32, d);
                }
            }
            best
        })
        .unzip()
}

/// `||a - b||^2`.
pub fn squared_distance(a: &[f32], b: &[f32]) -> f32 {
    // Eight independent accumulators let the compiler vectorise the loop.
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| (x - y) * (x - y))
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            let d = x[l] - y[l];
            acc[l] += d * d;
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// The nearest of `centroids` (`k x dim`) for every row of `data` (`rows x dim`) and the
/// squared distance to it: plain loops for small inputs, one matrix product per block
/// of rows on the backend for large ones.
pub fn nearest<B: Backend>(
    data: &[f32],
    dim: usize,
    centroids: &[f32],
    device: &B::Device,
) -> (Vec<u32>, Vec<f32>) {
    Points::<B>::new(data, dim, centroids.len() / dim, device).nearest(centroids, device)
}

/// Fits k-means to the rows of `data` (`rows x dim`, row-major); fails when there
/// are fewer rows than clusters.
pub fn fit<B: Backend>(
    data: &[f32],
    dim: usize,
    config: &KMeansConfig,
    device: &B::Device,
) -> Result<KMeansFit> {
    let rows = data.len() / dim;
    let k = config.k;
    if k == 0 {
        return Err(SemidError::Config("k-means needs k > 0".into()));
    }
    if rows < k {
        return Err(SemidError::TooFewItems {
            items: rows,
            codes: k,
        });
    }
    let mut rng = SplitMix64::new(config.seed);
    let mut centroids = init_plus_plus(data, dim, k, config.init_sample, &mut rng);
    let points = Points::<B>::new(data, dim, k, device);
    let (mut assignment, mut dist) = points.nearest(&centroids, device);
    let mut iterations = 0;
    while iterations < config.max_iters {
        iterations += 1;
        reseed_empty(&mut assignment, &dist, k);
        centroids = means(data, dim, &assignment, k);
        let (next, next_dist) = points.nearest(&centroids, device);
        let changed = next.iter().zip(&assignment).filter(|(a, b)| a != b).count();
        assignment = next;
        dist = next_dist;
        tracing::trace!(iterations, changed, "k-means iteration");
        if changed == 0 {
            break;
        }
    }
    // Leave no cluster empty: a last re-seed moves a far point into every empty one.
    if reseed_empty(&mut assignment, &dist, k) {
        centroids = means(data, dim, &assignment, k);
    }
    Ok(KMeansFit {
        centroids,
        assignment,
        iterations,
    })
}

/// k-means++ (Arthur and Vassilvitskii 2007) on a seeded sample of at most `cap` rows.
fn init_plus_plus(
    data: &[f32],
    dim: usize,
    k: usize,
    cap: usize,
    rng: &mut SplitMix64,
) -> Vec<f32> {
    let rows = data.len() / dim;
    let sample: Vec<usize> = if rows > cap.max(k) {
        rng.sample(rows, cap.max(k))
    } else {
        (0..rows).collect()
    };
    let row = |i: usize| &data[sample[i] * dim..(sample[i] + 1) * dim];
    let mut centroids = Vec::with_capacity(k * dim);
    let first = rng.below(sample.len());
    centroids.extend_from_slice(row(first));
    let mut d2: Vec<f64> = (0..sample.len())
        .map(|i| squared_distance(row(i), row(first)) as f64)
        .collect();
    for _ in 1..k {
        let total: f64 = d2.iter().sum();
        let pick = if total > 0.0 {
            let mut target = rng.next_f64() * total;
            let mut pick = d2.len() - 1;
            for (i, &d) in d2.iter().enumerate() {
                if target < d {
                    pick = i;
                    break;
                }
                target -= d;
            }
            pick
        } else {
            // Every sampled point coincides with a centroid: take any.
            rng.below(sample.len())
        };
        let c = row(pick).to_vec();
        for (i, d) in d2.iter_mut().enumerate() {
            *d = d.min(squared_distance(row(i), &c) as f64);
        }
        centroids.extend_from_slice(&c);
    }
    centroids
}

/// Moves the farthest points (largest distance to their centroid, taken from
/// clusters that keep at least one point) into empty clusters. Returns whether it moved any.
fn reseed_empty(assignment: &mut [u32], dist: &[f32], k: usize) -> bool {
    let mut counts = vec![0usize; k];
    for &a in assignment.iter() {
        counts[a as usize] += 1;
    }
    let empty: Vec<usize> = (0..k).filter(|&c| counts[c] == 0).collect();
    if empty.is_empty() {
        return false;
    }
    let mut order: Vec<usize> = (0..assignment.len()).collect();
    // Farthest first; ties by index, so the result does not depend on the sort.
    order.sort_by(|&a, &b| dist[b].total_cmp(&dist[a]).then(a.cmp(&b)));
    let mut candidates = order.into_iter();
    for c in empty {
        for p in candidates.by_ref() {
            let from = assignment[p] as usize;
            if counts[from] > 1 {
                counts[from] -= 1;
                counts[c] += 1;
                assignment[p] = c as u32;
                break;
            }
        }
    }
    true
}

/// Cluster means (accumulated in f64, so the result does not depend on summation blocking).
fn means(data: &[f32], dim: usize, assignment: &[u32], k: usize) -> Vec<f32> {
    let mut sums = vec![0f64; k * dim];
    let mut counts = vec![0usize; k];
    for (x, &a) in data.chunks_exact(dim).zip(assignment) {
        counts[a as usize] += 1;
        for (s, v) in sums[a as usize * dim..(a as usize + 1) * dim]
            .iter_mut()
            .zip(x)
        {
            *s += *v as f64;
        }
    }
    sums.chunks_exact(dim)
        .zip(&counts)
        .flat_map(|(s, &n)| s.iter().map(move |v| (v / n.max(1) as f64) as f32))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    type B = burn::backend::Flex;

    #[test]
    fn separates_obvious_clusters_and_fills_every_cluster() {
        // Three tight blobs far apart: k-means must find them, on both search paths.
        let mut rng = SplitMix64::new(3);
        let centers = [[0.0f32, 0.0], [10.0, 0.0], [0.0, 10.0]];
        let data: Vec<f32> = (0..300)
            .flat_map(|i| {
                let c = centers[i % 3];
                [
                    c[0] + rng.next_f64() as f32 * 0.1,
                    c[1] + rng.next_f64() as f32 * 0.1,
                ]
            })
            .collect();
        let three = fit::<B>(&data, 2, &KMeansConfig::new(3, 1), &Default::default()).unwrap();
        for i in 0..300 {
            assert_eq!(three.assignment[i], three.assignment[i % 3], "point {i}");
        }
        let (dev, _) = nearest::<B>(&data.repeat(20), 2, &three.centroids, &Default::default());
        let (host, _) = nearest_host(&data.repeat(20), 2, &three.centroids);
        assert_eq!(dev, host);
        // More clusters than distinct blobs: no cluster may stay empty.
        let forty = fit::<B>(&data, 2, &KMeansConfig::new(40, 1), &Default::default()).unwrap();
        let mut used = forty.assignment.clone();
        used.sort_unstable();
        used.dedup();
        assert_eq!(used.len(), 40);
    }
}
