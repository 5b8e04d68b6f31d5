//! The round's decoding walked as a prefix tree: the beam step's call gives every
//! draft's digit at the beams' depth, and each later digit level decodes each
//! distinct draft prefix once, continuing from its parent's cache row.
//!
//! It makes more (smaller) decoder calls than [`super::round::decode_round`]'s
//! single call, and decodes fewer positions: drafts that share a prefix share its
//! rows, and no row is padded to the longest draft. Where the cost of a call is its
//! arithmetic (the CPU), fewer positions win; where it is the call's latency (a
//! GPU), one call wins.

use std::collections::HashMap;

use burn::tensor::activation::log_softmax;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use crate::{DecoderCache, EncoderOutput, Tiger};
use semid::TokenLayout;

use super::round::{Extension, Round, RowBeam};

/// Decodes the beams of `queries` (all at depth `depth`) and then their extensions
/// level by level; returns the same [`Round`] as the one-call version and the
/// number of decoder calls made.
#[allow(clippy::too_many_arguments)]
pub(crate) fn decode_tree<B: Backend>(
    model: &Tiger<B>,
    encoded: &EncoderOutput<B>,
    layout: &TokenLayout,
    past: Option<&DecoderCache<B>>,
    depth: usize,
    queries: &[usize],
    beams: &[&[RowBeam]],
    extensions: &[Vec<Extension>],
) -> (Round<B>, usize) {
    let _span = tracing::trace_span!("tiger_tree", depth, queries = queries.len()).entered();
    let device = encoded.hidden.device();
    let vocab = model.config.vocab_size;
    let width = layout.digit_size(depth);
    let offset = layout.offset(depth) as usize;

    // Level 0: one row per beam, fed the beam's last digit.
    let groups = beams.iter().map(|b| b.len()).max().unwrap_or(1).max(1);
    let rows = queries.len() * groups;
    let mut tokens = vec![0i64; rows];
    let mut parents = Vec::with_capacity(rows);
    let mut index = Vec::with_capacity(rows * width);
    for (i, bs) in beams.iter().enumerate() {
        for j in 0..groups {
            let beam = bs.get(j).unwrap_or(&bs[0]);
            parents.push(beam.row);
            tokens[i * groups + j] = beam
                .codes
                .last()
                .map_or(0, |&c| i64::from(layout.token(depth - 1, c)));
        }
        for j in 0..bs.len() {
            index.extend((0..width).map(|c| ((i * groups + j) * vocab + offset + c) as i64));
        }
    }
    let selected = past.map(|c| c.select_rows(&parents));
    let (log_probs, cache) =
        decode_gather(model, encoded, selected.as_ref(), tokens, index, &device);
    let mut calls = 1;
    let mut values = log_probs.into_iter();
    let beam_log_probs: Vec<Vec<Vec<f32>>> = beams
        .iter()
        .map(|bs| {
            bs.iter()
                .map(|_| values.by_ref().take(width).collect())
                .collect()
        })
        .collect();
    // Every extension's first tail digit comes from its beam's row.
    let mut tail_log_probs: Vec<Vec<Vec<f32>>> = extensions
        .iter()
        .enumerate()
        .map(|(i, exts)| {
            exts.iter()
                .map(|e| vec![beam_log_probs[i][e.beam][e.tail[0] as usize]])
                .collect()
        })
        .collect();

    // Later levels: one row per distinct (beam, tail prefix), continuing from its parent's row.
    let max_tail = extensions
        .iter()
        .flatten()
        .map(|e| e.tail.len())
        .max()
        .unwrap_or(0);
    // Row of each (beam, tail prefix) in the previous level's cache.
    let mut previous: Vec<HashMap<(usize, &[u32]), usize>> = (0..queries.len())
        .map(|i| {
            (0..beams[i].len())
                .map(|j| ((j, &[][..]), i * groups + j))
                .collect()
        })
        .collect();
    let mut level_cache = cache.clone();
    for t in 1..max_tail {
        let mut current: Vec<HashMap<(usize, &[u32]), usize>> = vec![HashMap::new(); queries.len()];
        let mut order: Vec<Vec<(usize, &[u32])>> = vec![Vec::new(); queries.len()];
        for (i, exts) in extensions.iter().enumerate() {
            for e in exts.iter().filter(|e| e.tail.len() > t) {
                let key = (e.beam, &e.tail[..t]);
                if !current[i].contains_key(&key) {
                    current[i].insert(key, order[i].len());
                    order[i].push(key);
                }
            }
        }
        let level_groups = order.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let rows = queries.len() * level_groups;
        let mut tokens = vec![0i64; rows];
        let mut parents = vec![0usize; rows];
        for (i, keys) in order.iter().enumerate() {
            for (g, &(beam, prefix)) in keys.iter().enumerate() {
                tokens[i * level_groups + g] =
                    i64::from(layout.token(depth + t - 1, prefix[t - 1]));
                parents[i * level_groups + g] = previous[i][&(beam, &prefix[..t - 1])];
            }
            // Padding rows continue the query's first row of the previous level and are never read.
            let first = previous[i].values().copied().min().unwrap_or(0);
            for g in keys.len()..level_groups {
                parents[i * level_groups + g] = first;
            }
        }
        let mut index = Vec::new();
        for (i, exts) in extensions.iter().enumerate() {
            for e in exts.iter().filter(|e| e.tail.len() > t) {
                let row = i * level_groups + current[i][&(e.beam, &e.tail[..t])];
                index.push((row * vocab + layout.token(depth + t, e.tail[t]) as usize) as i64);
            }
        }
        let selected = level_cache.select_rows(&parents);
        let (values, grown) =
            decode_gather(model, encoded, Some(&selected), tokens, index, &device);
        calls += 1;
        let mut values = values.into_iter();
        for (i, exts) in extensions.iter().enumerate() {
            for (k, e) in exts.iter().enumerate() {
                if e.tail.len() > t {
                    tail_log_probs[i][k].extend(values.next());
                }
            }
        }
        for (i, keys) in order.iter().enumerate() {
            previous[i] = keys
                .iter()
                .enumerate()
                .map(|(g, &key)| (key, i * level_groups + g))
                .collect();
        }
        level_cache = grown;
    }
    let round = Round {
        queries: queries.to_vec(),
        groups,
        beam_log_probs,
        tail_log_probs,
        cache,
    };
    (round, calls)
}

/// One decoder call of one position per row; returns the log-probabilities at
/// `index` (into the flattened `[rows, vocab]` output) and the grown cache.
fn decode_gather<B: Backend>(
    model: &Tiger<B>,
    encoded: &EncoderOutput<B>,
    past: Option<&DecoderCache<B>>,
    tokens: Vec<i64>,
    index: Vec<i64>,
    device: &B::Device,
) -> (Vec<f32>, DecoderCache<B>) {
    let rows = tokens.len();
    let vocab = model.config.vocab_size;
    let tokens: Tensor<B, 2, Int> = Tensor::from_data(TensorData::new(tokens, [rows, 1]), device);
    let (hidden, grown) = model.decode_hidden(encoded, past, tokens); // [rows, 1, d_model]
    let log_probs = log_softmax(model.project(hidden), 2).reshape([rows * vocab]);
    let n = index.len();
    if n == 0 {
        return (Vec::new(), grown);
    }
    let picked = log_probs.select(
        0,
        Tensor::<B, 1, Int>::from_data(TensorData::new(index, [n]), device),
    );
    (
        picked
            .into_data()
            .convert::<f32>()
            .into_vec::<f32>()
            .unwrap_or_default(),
        grown,
    )
}
