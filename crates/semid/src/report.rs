//! What a fit produced: codebook utilisation, prefix uniqueness, collisions, error, time.

use std::fmt;

use serde::Serialize;

#[cfg(feature = "fit")]
use crate::ids::SemanticIds;
use crate::quantizer::Method;

/// Utilisation of one code level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelReport {
    /// Level, from 0.
    pub level: usize,
    /// Distinct codes that all items (in-sample and unseen) use at this level.
    pub codes_used: usize,
    /// `codes_used / K`.
    pub utilisation: f64,
    /// Distinct codes that the in-sample items use.
    pub codes_used_in_sample: usize,
    /// `codes_used_in_sample / K`.
    pub utilisation_in_sample: f64,
}

/// A summary of one semantic-ID fit (what `specgr semid fit` prints).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitReport {
    /// The method.
    pub method: Method,
    /// Items with an ID (in-sample and unseen).
    pub num_items: usize,
    /// In-sample items the quantizer was fitted on.
    pub num_fitted: usize,
    /// Embedding dimension.
    pub dim: usize,
    /// Codes per level (K).
    pub codebook_size: usize,
    /// Per level utilisation.
    pub levels: Vec<LevelReport>,
    /// Share of all items whose code prefix (without the identification digit) is unique.
    pub unique_prefix_share: f64,
    /// Largest number of items sharing one code prefix.
    pub largest_collision_group: usize,
    /// Mean squared reconstruction error per dimension over all items (RQ-VAE: of the
    /// decoder output; residual k-means: of the summed codewords; none for hierarchical k-means).
    pub reconstruction_mse: Option<f64>,
    /// Seconds spent fitting the quantizer.
    pub fit_seconds: f64,
    /// Seconds spent encoding all items and numbering collisions.
    pub encode_seconds: f64,
}

impl FitReport {
    /// Measures utilisation, uniqueness and collisions of `ids`, whose first rows
    /// where `in_sample` is true are the fitted items.
    #[cfg(feature = "fit")]
    pub(crate) fn measure(
        method: Method,
        dim: usize,
        ids: &SemanticIds,
        in_sample: &[bool],
    ) -> Self {
        let layout = ids.layout();
        let k = layout.codebook_size();
        let levels = (0..layout.levels())
            .map(|level| {
                let mut all = vec![false; k];
                let mut fitted = vec![false; k];
                for item in 0..ids.len() {
                    let c = ids.codes(item as u32)[level] as usize;
                    all[c] = true;
                    if in_sample.get(item).copied().unwrap_or(false) {
                        fitted[c] = true;
                    }
                }
                let count = |v: &[bool]| v.iter().filter(|&&u| u).count();
                LevelReport {
                    level,
                    codes_used: count(&all),
                    utilisation: count(&all) as f64 / k as f64,
                    codes_used_in_sample: count(&fitted),
                    utilisation_in_sample: count(&fitted) as f64 / k as f64,
                }
            })
            .collect();
        Self {
            method,
            num_items: ids.len(),
            num_fitted: in_sample.iter().filter(|&&s| s).count(),
            dim,
            codebook_size: k,
            levels,
            unique_prefix_share: ids.unique_prefix_share(),
            largest_collision_group: ids.largest_collision_group(),
            reconstruction_mse: None,
            fit_seconds: 0.0,
            encode_seconds: 0.0,
        }
    }
}

impl fmt::Display for FitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "method {}: {} items ({} fitted), dim {}, K = {}",
            self.method, self.num_items, self.num_fitted, self.dim, self.codebook_size
        )?;
        for l in &self.levels {
            writeln!(
                f,
                "  level {}: {}/{} codes used ({:.1}%), in-sample {:.1}%",
                l.level + 1,
                l.codes_used,
                self.codebook_size,
                100.0 * l.utilisation,
                100.0 * l.utilisation_in_sample
            )?;
        }
        writeln!(
            f,
            "  unique code prefix: {:.1}% of items",
            100.0 * self.unique_prefix_share
        )?;
        writeln!(
            f,
            "  largest collision group: {}",
            self.largest_collision_group
        )?;
        if let Some(mse) = self.reconstruction_mse {
            writeln!(f, "  reconstruction MSE: {mse:.6}")?;
        }
        write!(
            f,
            "  fit {:.2} s, encode {:.2} s",
            self.fit_seconds, self.encode_seconds
        )
    }
}
