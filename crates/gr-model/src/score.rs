//! Teacher-forced scoring of many candidate IDs per query: the verification pass of
//! the speculative loop.
//!
//! Candidates of one query often share prefixes (drafts cluster in code space). The
//! decoder walks the tree of their distinct prefixes level by level, so each prefix is
//! decoded once, with the per-row cache reordered from parent to child. The naive
//! version decodes every candidate in full and serves as the oracle.

use std::collections::HashMap;

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use semid::TokenLayout;

use crate::input::{check_codes, check_layout};
use crate::model::int_tensor;
use crate::ops::log_softmax3;
use crate::{DecoderCache, EncoderOutput, Tiger, TigerError};

/// Per-digit log-probabilities of the candidates of every query.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateScores {
    /// `log_probs[q][c][d]` = log p(digit `d` of candidate `c` | history `q`, its digits before `d`).
    pub log_probs: Vec<Vec<Vec<f32>>>,
}

impl CandidateScores {
    /// Sum of the log-probabilities of the first `digits` digits of candidate `c` of query `q`.
    pub fn sum(&self, q: usize, c: usize, digits: usize) -> f32 {
        self.log_probs[q][c][..digits].iter().sum()
    }

    /// Mean log-probability of the first `digits` digits (the SpecGR verification score:
    /// 4 digits for in-sample items, 3 for unseen ones).
    pub fn mean(&self, q: usize, c: usize, digits: usize) -> f32 {
        self.sum(q, c, digits) / digits as f32
    }
}

/// Where each gathered log-probability goes: `(query, candidate, digit)`.
type Slots = Vec<(usize, usize, usize)>;

impl<B: Backend> Tiger<B> {
    /// Log-probability of every digit of every candidate (`candidates[q]` are code
    /// sequences of 1..=`num_digits` digits for query `q`), decoding each distinct
    /// prefix of a query once.
    pub fn score(
        &self,
        encoded: &EncoderOutput<B>,
        candidates: &[Vec<Vec<u32>>],
        layout: &TokenLayout,
    ) -> Result<CandidateScores, TigerError> {
        let _span = tracing::trace_span!("tiger_score").entered();
        let max_len = self.check_candidates(encoded, candidates, layout)?;
        let device = encoded.hidden.device();
        let queries = candidates.len();
        let vocab = self.config.vocab_size;
        let mut slots: Slots = Vec::new();
        let mut gathered = Vec::new();
        let mut cache: Option<DecoderCache<B>> = None;
        // Row index (within its query) of each prefix at the previous level.
        let mut previous: Vec<HashMap<&[u32], usize>> = vec![HashMap::new(); queries];
        let mut previous_groups = 1;
        for level in 0..max_len {
            let mut current: Vec<HashMap<&[u32], usize>> = vec![HashMap::new(); queries];
            let mut order: Vec<Vec<&[u32]>> = vec![Vec::new(); queries];
            for (q, cands) in candidates.iter().enumerate() {
                for c in cands.iter().filter(|c| c.len() > level) {
                    let prefix = &c[..level];
                    if !current[q].contains_key(prefix) {
                        current[q].insert(prefix, order[q].len());
                        order[q].push(prefix);
                    }
                }
            }
            let groups = order.iter().map(Vec::len).max().unwrap_or(0).max(1);
            let mut tokens = vec![0i64; queries * groups];
            let mut parents = vec![0usize; queries * groups];
            for q in 0..queries {
                for (j, prefix) in order[q].iter().enumerate() {
                    if level > 0 {
                        tokens[q * groups + j] =
                            i64::from(layout.token(level - 1, prefix[level - 1]));
                        parents[q * groups + j] =
                            q * previous_groups + previous[q][&prefix[..level - 1]];
                    }
                }
                // Padding rows continue the query's first row and are never read.
                for j in order[q].len()..groups {
                    parents[q * groups + j] = q * previous_groups;
                }
            }
            let reordered = cache.as_ref().map(|c| c.select_rows(&parents));
            let tokens: Tensor<B, 2, Int> =
                Tensor::from_data(TensorData::new(tokens, [queries * groups, 1]), &device);
            let (logits, grown) = self.decode(encoded, reordered.as_ref(), tokens);
            let log_probs = log_softmax3(logits).reshape([queries * groups * vocab]);
            let mut index = Vec::new();
            for (q, cands) in candidates.iter().enumerate() {
                for (ci, c) in cands.iter().enumerate().filter(|(_, c)| c.len() > level) {
                    let row = q * groups + current[q][&c[..level]];
                    index.push((row * vocab + layout.token(level, c[level]) as usize) as i64);
                    slots.push((q, ci, level));
                }
            }
            gathered.push(log_probs.select(0, int_tensor::<B>(index, &device)));
            cache = Some(grown);
            previous = current;
            previous_groups = groups;
        }
        Ok(fill(candidates, &slots, gathered))
    }

    /// The oracle for [`Tiger::score`]: every candidate decoded in full, teacher-forced,
    /// in one pass with the causal mask and no prefix sharing.
    pub fn score_naive(
        &self,
        encoded: &EncoderOutput<B>,
        candidates: &[Vec<Vec<u32>>],
        layout: &TokenLayout,
    ) -> Result<CandidateScores, TigerError> {
        let max_len = self.check_candidates(encoded, candidates, layout)?;
        let device = encoded.hidden.device();
        let queries = candidates.len();
        let vocab = self.config.vocab_size;
        let groups = candidates.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let mut tokens = vec![0i64; queries * groups * max_len];
        let mut index = Vec::new();
        let mut slots: Slots = Vec::new();
        for (q, cands) in candidates.iter().enumerate() {
            for (ci, c) in cands.iter().enumerate() {
                let row = q * groups + ci;
                for (d, &code) in c.iter().enumerate() {
                    if d + 1 < max_len {
                        tokens[row * max_len + d + 1] = i64::from(layout.token(d, code));
                    }
                    index.push(
                        ((row * max_len + d) * vocab + layout.token(d, code) as usize) as i64,
                    );
                    slots.push((q, ci, d));
                }
            }
        }
        let tokens: Tensor<B, 2, Int> = Tensor::from_data(
            TensorData::new(tokens, [queries * groups, max_len]),
            &device,
        );
        let (logits, _) = self.decode(encoded, None, tokens);
        let log_probs = log_softmax3(logits).reshape([queries * groups * max_len * vocab]);
        let gathered = log_probs.select(0, int_tensor::<B>(index, &device));
        Ok(fill(candidates, &slots, vec![gathered]))
    }

    /// Validates candidates; returns the longest candidate length.
    fn check_candidates(
        &self,
        encoded: &EncoderOutput<B>,
        candidates: &[Vec<Vec<u32>>],
        layout: &TokenLayout,
    ) -> Result<usize, TigerError> {
        check_layout(layout, self.config.vocab_size)?;
        if candidates.len() != encoded.num_queries() {
            return Err(TigerError::InvalidCandidate(format!(
                "{} candidate lists for {} encoded queries",
                candidates.len(),
                encoded.num_queries()
            )));
        }
        let mut max_len = 0;
        for (q, cands) in candidates.iter().enumerate() {
            for (c, codes) in cands.iter().enumerate() {
                check_codes(layout, codes, &format!("query {q}, candidate {c}"))?;
                max_len = max_len.max(codes.len());
            }
        }
        Ok(max_len)
    }
}

/// Moves the gathered values into per-candidate digit vectors.
fn fill<B: Backend>(
    candidates: &[Vec<Vec<u32>>],
    slots: &Slots,
    gathered: Vec<Tensor<B, 1>>,
) -> CandidateScores {
    let mut log_probs: Vec<Vec<Vec<f32>>> = candidates
        .iter()
        .map(|cands| cands.iter().map(|c| vec![0.0; c.len()]).collect())
        .collect();
    if !slots.is_empty() {
        let values = Tensor::cat(gathered, 0)
            .into_data()
            .convert::<f32>()
            .into_vec::<f32>()
            .unwrap_or_default();
        for (&(q, c, d), v) in slots.iter().zip(values) {
            log_probs[q][c][d] = v;
        }
    }
    CandidateScores { log_probs }
}
