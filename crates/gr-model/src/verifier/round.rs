//! One decoder call per round: the next beam-search step and the verification of
//! the drafts that extend a beam, decoded together from the beams' KV cache.
//!
//! A beam at depth `d` has its first `d` digits decoded; feeding its last digit
//! gives the distribution of digit `d`, which the beam step needs. A draft whose
//! first `d` digits equal that beam's needs the same distribution and then its
//! remaining digits: its row continues from the beam's cache and feeds its own
//! digits `d..` teacher-forced, all positions in the same call (the causal mask
//! keeps positions apart). Its earlier digits' log-probabilities are the beam's.
//! This is the paper's "verification and one beam-search step in one batched
//! decoder pass"; with guided re-drafting every draft after round 0 extends a beam,
//! and in round 0 every draft extends the empty root beam.

use burn::tensor::activation::log_softmax;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use crate::attention::KeyValue;
use crate::{DecoderCache, EncoderOutput, Tiger};
use semid::TokenLayout;

/// A beam of the adapter's search, with what the next decoder call needs.
#[derive(Debug, Clone)]
pub(crate) struct RowBeam {
    pub codes: Vec<u32>,
    /// Per-digit log-probabilities (their sum is the beam's score).
    pub log_probs: Vec<f32>,
    /// The cache row holding this beam's decoded positions (before its last digit).
    pub row: usize,
}

impl RowBeam {
    pub fn log_prob(&self) -> f32 {
        self.log_probs.iter().sum()
    }
}

/// A draft to verify in the round's call: which beam of its query it extends and
/// its digits from the beam's depth on.
#[derive(Debug, Clone)]
pub(crate) struct Extension {
    pub beam: usize,
    pub tail: Vec<u32>,
}

/// The outcome of a round's decoder call.
#[derive(Debug)]
pub(crate) struct Round<B: Backend> {
    /// The queries decoded, in row order.
    pub queries: Vec<usize>,
    /// Rows per query.
    pub groups: usize,
    /// `beam_log_probs[i][j]`: log-probabilities of digit `depth`'s codes after beam `j`
    /// of query `queries[i]`.
    pub beam_log_probs: Vec<Vec<Vec<f32>>>,
    /// `tail_log_probs[i][e]`: log-probabilities of extension `e`'s tail digits.
    pub tail_log_probs: Vec<Vec<Vec<f32>>>,
    /// The cache after feeding each row's first position (the beam's last digit).
    pub cache: DecoderCache<B>,
}

/// Decodes the beams of `queries` (all at depth `depth`) and their extensions in one call.
///
/// `past` holds the rows that the beams' `row` fields name (none at depth 0).
#[allow(clippy::too_many_arguments)]
pub(crate) fn decode_round<B: Backend>(
    model: &Tiger<B>,
    encoded: &EncoderOutput<B>,
    layout: &TokenLayout,
    past: Option<&DecoderCache<B>>,
    depth: usize,
    queries: &[usize],
    beams: &[&[RowBeam]],
    extensions: &[Vec<Extension>],
) -> Round<B> {
    let _span = tracing::trace_span!("tiger_round", depth, queries = queries.len()).entered();
    let device = encoded.hidden.device();
    let vocab = model.config.vocab_size;
    let groups = beams
        .iter()
        .zip(extensions)
        .map(|(b, e)| b.len() + e.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let len = extensions
        .iter()
        .flatten()
        .map(|e| e.tail.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let rows = queries.len() * groups;
    let mut tokens = vec![0i64; rows * len];
    let mut parents = Vec::with_capacity(rows);
    let mut index = Vec::new();
    let width = layout.digit_size(depth);
    let offset = layout.offset(depth) as usize;
    for (i, (bs, exts)) in beams.iter().zip(extensions).enumerate() {
        let first_token = |b: &RowBeam| {
            b.codes
                .last()
                .map_or(0, |&c| i64::from(layout.token(depth - 1, c)))
        };
        for j in 0..groups {
            let row = i * groups + j;
            // Rows: the beams, then the extensions, then padding that repeats beam 0.
            let (beam, tail): (&RowBeam, &[u32]) = match j.checked_sub(bs.len()) {
                None => (&bs[j], &[]),
                Some(e) if e < exts.len() => (&bs[exts[e].beam], &exts[e].tail),
                Some(_) => (&bs[0], &[]),
            };
            parents.push(beam.row);
            tokens[row * len] = first_token(beam);
            // Position t + 1 feeds tail digit t, to predict tail digit t + 1.
            for (t, &code) in tail.iter().enumerate().take(len - 1) {
                tokens[row * len + t + 1] = i64::from(layout.token(depth + t, code));
            }
        }
        for j in 0..bs.len() {
            let base = (i * groups + j) * len * vocab + offset;
            index.extend((0..width).map(|c| (base + c) as i64));
        }
        for (e, ext) in exts.iter().enumerate() {
            let row = i * groups + bs.len() + e;
            for (t, &code) in ext.tail.iter().enumerate() {
                index.push(
                    ((row * len + t) * vocab + layout.token(depth + t, code) as usize) as i64,
                );
            }
        }
    }
    let selected = past.map(|c| c.select_rows(&parents));
    let tokens: Tensor<B, 2, Int> =
        Tensor::from_data(TensorData::new(tokens, [rows, len]), &device);
    let (hidden, grown) = model.decode_hidden(encoded, selected.as_ref(), tokens); // [rows, len, d_model]
    let log_probs = log_softmax(model.project(hidden), 2).reshape([rows * len * vocab]);
    let n = index.len();
    let picked = log_probs.select(
        0,
        Tensor::<B, 1, Int>::from_data(TensorData::new(index, [n]), &device),
    );
    let values = picked
        .into_data()
        .convert::<f32>()
        .into_vec::<f32>()
        .unwrap_or_default();

    let mut values = values.into_iter();
    let mut beam_log_probs = Vec::with_capacity(queries.len());
    let mut tail_log_probs = Vec::with_capacity(queries.len());
    for (bs, exts) in beams.iter().zip(extensions) {
        beam_log_probs.push(
            bs.iter()
                .map(|_| values.by_ref().take(width).collect())
                .collect(),
        );
        tail_log_probs.push(
            exts.iter()
                .map(|e| values.by_ref().take(e.tail.len()).collect())
                .collect(),
        );
    }
    Round {
        queries: queries.to_vec(),
        groups,
        beam_log_probs,
        tail_log_probs,
        cache: truncate(grown, depth + 1),
    }
}

/// The cache cut to its first `len` positions (extension digits past the beam's
/// next position are not part of any beam).
fn truncate<B: Backend>(cache: DecoderCache<B>, len: usize) -> DecoderCache<B> {
    if cache.len <= len {
        return cache;
    }
    let cut = |t: Tensor<B, 4>| {
        let [r, h, _, d] = t.dims();
        t.slice([0..r, 0..h, 0..len, 0..d])
    };
    DecoderCache {
        layers: cache
            .layers
            .into_iter()
            .map(|kv| KeyValue {
                k: cut(kv.k),
                v: cut(kv.v),
            })
            .collect(),
        len,
    }
}
