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
    /// Unseen (not fitted) items by how many leading code digits (identification digit
    /// excluded, 0..=levels) they share with some fitted item: entry `d` counts those
    /// whose longest such prefix has `d` digits. The verifier scores an unseen item over
    /// that prefix, and TIGER gives a code combination it never saw a low probability,
    /// so the fewer digits shared, the lower an unseen item's score.
    pub unseen_by_shared_digits: Vec<usize>,
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
            unseen_by_shared_digits: unseen_by_shared_digits(ids, in_sample),
            reconstruction_mse: None,
            fit_seconds: 0.0,
            encode_seconds: 0.0,
        }
    }
}

/// See [`FitReport::unseen_by_shared_digits`].
#[cfg(feature = "fit")]
fn unseen_by_shared_digits(ids: &SemanticIds, in_sample: &[bool]) -> Vec<usize> {
    let levels = ids.layout().levels();
    let fitted = |item: usize| in_sample.get(item).copied().unwrap_or(false);
    let mut counts = vec![0; levels + 1];
    let seen = crate::PrefixTrie::build(
        levels,
        (0..ids.len()).filter(|&i| fitted(i)).map(|i| (i as u32, &ids.codes(i as u32)[..levels])),
    );
    // Every row has `levels` code digits, so the build cannot fail; an empty table of
    // fitted items shares nothing.
    let Ok(seen) = seen else { return counts };
    for item in (0..ids.len()).filter(|&i| !fitted(i)) {
        counts[seen.shared_prefix_len(&ids.codes(item as u32)[..levels])] += 1;
    }
    counts
}

impl FitReport {
    /// What looks wrong with this fit for its catalog, as advice a user can act on:
    /// a codebook far too large for the items (most first-level codes unused) or many
    /// items sharing a code prefix (the identification digit then carries arbitrary
    /// numbers TIGER must learn). Empty when neither holds.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let k = self.codebook_size;
        // A rule of thumb, not a law: about √n codes per level leave room for n items
        // (Beauty: 12,101 items, K = 256 ≈ 2.3 √n).
        let suggest = ((self.num_fitted.max(1) as f64).sqrt().ceil() as usize).next_power_of_two().clamp(8, k.max(8));
        if let Some(first) = self.levels.first()
            && first.utilisation_in_sample < 0.5
            && suggest < k
        {
            out.push(format!(
                "only {} of K = {k} first-level codes are used by the {} fitted items: K is large for this \
                 catalog; consider --codebook-size {suggest}",
                first.codes_used_in_sample, self.num_fitted
            ));
        }
        if self.unique_prefix_share < 0.8 {
            out.push(format!(
                "{:.0} % of items share their code prefix with another (up to {} in one group): the \
                 identification digit tells them apart, but TIGER must then learn arbitrary digits; consider \
                 another --codebook-size, more --levels, or --method rqvae",
                100.0 * (1.0 - self.unique_prefix_share),
                self.largest_collision_group
            ));
        }
        out
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
        let unseen: usize = self.unseen_by_shared_digits.iter().sum();
        if unseen > 0 {
            let shares: Vec<String> = self
                .unseen_by_shared_digits
                .iter()
                .enumerate()
                .map(|(d, &n)| format!("{d}: {n} ({:.1}%)", 100.0 * n as f64 / unseen as f64))
                .collect();
            writeln!(
                f,
                "  unseen items by code digits shared with a fitted item: {}",
                shares.join(", ")
            )?;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn report(k: usize, used: usize, fitted: usize, unique: f64) -> FitReport {
        FitReport {
            method: Method::RqVae,
            num_items: fitted,
            num_fitted: fitted,
            dim: 8,
            codebook_size: k,
            levels: vec![LevelReport {
                level: 0,
                codes_used: used,
                utilisation: used as f64 / k as f64,
                codes_used_in_sample: used,
                utilisation_in_sample: used as f64 / k as f64,
            }],
            unique_prefix_share: unique,
            largest_collision_group: 3,
            unseen_by_shared_digits: vec![0; 2],
            reconstruction_mse: None,
            fit_seconds: 0.0,
            encode_seconds: 0.0,
        }
    }

    /// The small-catalog case of issue #21 §7: 1,660 items, 85 of 256 codes used, 46 %
    /// of prefixes shared.
    #[test]
    fn a_codebook_too_large_for_its_catalog_and_shared_prefixes_are_warned_about() {
        let w = report(256, 85, 1660, 0.54).warnings();
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("85 of K = 256") && w[0].contains("--codebook-size 64"), "{w:?}");
        assert!(w[1].starts_with("46 % of items share"), "{w:?}");
        // Beauty's fit: 12,101 items, most codes used, prefixes unique: nothing to say.
        assert!(report(256, 250, 12_101, 0.97).warnings().is_empty());
    }

    /// The histogram against a brute force over every fitted item's prefixes: with
    /// K = 4, 3 levels, some seeded codes and fitted flags.
    #[cfg(feature = "fit")]
    #[test]
    fn unseen_items_are_counted_by_the_digits_they_share_with_a_fitted_item() {
        use crate::TokenLayout;
        let layout = TokenLayout::new(3, 4).unwrap();
        let mut state = 7u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as u32
        };
        let codes: Vec<u32> = (0..60 * 3).map(|_| next() % 4).collect();
        let in_sample: Vec<bool> = (0..60).map(|_| next() % 3 != 0).collect();
        let ids = SemanticIds::from_codes(layout, &codes).unwrap();
        let got = unseen_by_shared_digits(&ids, &in_sample);
        let mut want = vec![0; 4];
        for u in (0..60).filter(|&i| !in_sample[i]) {
            let row = &codes[u * 3..u * 3 + 3];
            let shared = (0..60)
                .filter(|&i| in_sample[i])
                .map(|i| row.iter().zip(&codes[i * 3..i * 3 + 3]).take_while(|(a, b)| a == b).count())
                .max()
                .unwrap_or(0);
            want[shared] += 1;
        }
        assert_eq!(got, want);
        assert_eq!(got.iter().sum::<usize>(), in_sample.iter().filter(|&&s| !s).count());
        assert!(got.iter().filter(|&&n| n > 0).count() >= 2, "a test that sees one bucket only: {got:?}");
        // No fitted item: nothing is shared.
        assert_eq!(unseen_by_shared_digits(&ids, &[false; 60]), vec![60, 0, 0, 0]);
    }
}
