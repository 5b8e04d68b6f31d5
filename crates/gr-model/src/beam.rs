//! Beam search over semantic-ID digits, one step at a time, with the decoder's
//! self-attention cache reordered per beam and the encoder memory shared by all
//! beams of a query.

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use semid::{PrefixTrie, TokenLayout};

use crate::input::check_layout;
use crate::ops::log_softmax3;
use crate::{DecoderCache, EncoderOutput, Tiger, TigerError};

/// Which digit sequences a beam may take.
#[derive(Debug, Clone, Copy)]
pub enum Constraint<'a> {
    /// Any code at each digit (the reference behaviour): beams may spell IDs of no item.
    None,
    /// Only prefixes of items in the trie: every finished beam is a catalog item.
    Trie(&'a PrefixTrie),
    /// One trie per query (e.g. subset ranking: each query's own candidate set).
    PerQuery(&'a [PrefixTrie]),
}

impl<'a> Constraint<'a> {
    /// The trie that constrains query `q`, if any.
    pub(crate) fn trie(&self, q: usize) -> Option<&'a PrefixTrie> {
        match *self {
            Constraint::None => None,
            Constraint::Trie(trie) => Some(trie),
            Constraint::PerQuery(tries) => tries.get(q),
        }
    }
}

/// One beam: the digits decoded so far and their summed log-probability (the
/// interface's type: the SpecGR loop reads the same beams through its `Verifier`).
pub use rec_core::Beam;

/// The state of a batched beam search that the caller advances one step at a time.
///
/// Every query keeps at most `beam_size` beams, best first. After `n` steps each
/// beam holds `n` digits; [`BeamSearch::history`] keeps the beams after every step.
#[derive(Debug, Clone)]
pub struct BeamSearch<B: Backend> {
    beam_size: usize,
    use_cache: bool,
    beams: Vec<Vec<Beam>>,
    history: Vec<Vec<Vec<Beam>>>,
    cache: Option<DecoderCache<B>>,
    /// Decoder rows per query at the next step.
    groups: usize,
}

impl<B: Backend> BeamSearch<B> {
    /// A search for `num_queries` queries, each starting from the empty prefix.
    ///
    /// With `use_cache` false every step re-decodes all positions from scratch (the
    /// reference behaviour; kept for benchmarks and as an oracle).
    pub fn new(num_queries: usize, beam_size: usize, use_cache: bool) -> Self {
        Self {
            beam_size: beam_size.max(1),
            use_cache,
            beams: vec![
                vec![Beam {
                    codes: Vec::new(),
                    log_prob: 0.0
                }];
                num_queries
            ],
            history: Vec::new(),
            cache: None,
            groups: 1,
        }
    }

    /// Number of steps taken.
    pub fn steps(&self) -> usize {
        self.history.len()
    }

    /// The current beams of every query, best first.
    pub fn beams(&self) -> &[Vec<Beam>] {
        &self.beams
    }

    /// The beams of every query after each step: `history()[step][query]`.
    pub fn history(&self) -> &[Vec<Vec<Beam>>] {
        &self.history
    }

    /// Consumes the search, returning the beams after each step.
    pub fn into_history(self) -> Vec<Vec<Vec<Beam>>> {
        self.history
    }

    /// Extends every beam by one digit and keeps the best `beam_size` per query.
    ///
    /// Fails once all digits of the layout are decoded, or when the encoder output
    /// has a different number of queries.
    pub fn step(
        &mut self,
        model: &Tiger<B>,
        encoded: &EncoderOutput<B>,
        layout: &TokenLayout,
        constraint: Constraint<'_>,
    ) -> Result<(), TigerError> {
        let _span = tracing::trace_span!("beam_step", step = self.steps()).entered();
        check_layout(layout, model.config.vocab_size)?;
        let digit = self.steps();
        if digit >= layout.num_digits() {
            return Err(TigerError::InvalidCandidate(format!(
                "beam search already decoded all {} digits",
                layout.num_digits()
            )));
        }
        if encoded.num_queries() != self.beams.len() {
            return Err(TigerError::InvalidCandidate(format!(
                "beam search over {} queries given {} encoded queries",
                self.beams.len(),
                encoded.num_queries()
            )));
        }
        if let Constraint::PerQuery(tries) = constraint
            && tries.len() != self.beams.len()
        {
            return Err(TigerError::InvalidCandidate(format!(
                "{} tries for {} queries",
                tries.len(),
                self.beams.len()
            )));
        }
        for q in 0..self.beams.len() {
            if let Some(trie) = constraint.trie(q)
                && trie.depth() != layout.num_digits()
            {
                return Err(TigerError::InvalidCandidate(format!(
                    "query {q}: trie depth {} differs from the layout's {} digits",
                    trie.depth(),
                    layout.num_digits()
                )));
            }
        }
        let log_probs = self.next_log_probs(model, encoded, layout, digit);
        let width = layout.digit_size(digit);
        let mut parents = Vec::with_capacity(self.beams.len() * self.beam_size);
        let mut next_beams = Vec::with_capacity(self.beams.len());
        for (q, beams) in self.beams.iter().enumerate() {
            let options = choose(
                beams.iter().enumerate().map(|(j, beam)| {
                    let row = &log_probs
                        [(q * self.groups + j) * width..(q * self.groups + j + 1) * width];
                    (beam.codes.as_slice(), beam.log_prob, row)
                }),
                constraint.trie(q),
                self.beam_size,
            )
            .map_err(|c| {
                TigerError::InvalidCandidate(format!(
                    "query {q}: trie code {c} at digit {digit} is outside the layout's {width} codes"
                ))
            })?;
            let chosen: Vec<Beam> = options
                .iter()
                .map(|&(log_prob, j, c)| {
                    let mut codes = beams[j].codes.clone();
                    codes.push(c);
                    Beam { codes, log_prob }
                })
                .collect();
            for j in 0..self.beam_size {
                // Padding rows (fewer options than beams) repeat the query's first row.
                let parent = options.get(j).map_or(0, |o| o.1);
                parents.push(q * self.groups + parent);
            }
            next_beams.push(chosen);
        }
        if self.use_cache {
            self.cache = self.cache.take().map(|c| c.select_rows(&parents));
        }
        self.groups = self.beam_size;
        self.beams = next_beams;
        self.history.push(self.beams.clone());
        Ok(())
    }

    /// Log-probabilities of digit `digit`'s codes for every decoder row, `[rows * digit_size]`.
    fn next_log_probs(
        &mut self,
        model: &Tiger<B>,
        encoded: &EncoderOutput<B>,
        layout: &TokenLayout,
        digit: usize,
    ) -> Vec<f32> {
        let device = encoded.hidden.device();
        let rows = self.beams.len() * self.groups;
        // Decoder inputs: PAD then the tokens of the beam's digits; padding rows repeat row 0.
        let len = if self.use_cache { 1 } else { digit + 1 };
        let mut tokens = vec![0i64; rows * len];
        for (q, beams) in self.beams.iter().enumerate() {
            for j in 0..self.groups {
                let beam = beams.get(j).or(beams.first());
                let Some(beam) = beam else { continue };
                let row = q * self.groups + j;
                let full: Vec<i64> = std::iter::once(0)
                    .chain(layout.tokens(&beam.codes).map(i64::from))
                    .collect();
                tokens[row * len..(row + 1) * len].copy_from_slice(&full[full.len() - len..]);
            }
        }
        let tokens: Tensor<B, 2, Int> =
            Tensor::from_data(TensorData::new(tokens, [rows, len]), &device);
        let past = if self.use_cache {
            self.cache.as_ref()
        } else {
            None
        };
        let (hidden, cache) = model.decode_hidden(encoded, past, tokens);
        if self.use_cache {
            self.cache = Some(cache);
        }
        let last = hidden.slice([0..rows, len - 1..len]); // [rows, 1, d_model]
        let offset = layout.offset(digit) as usize;
        let width = layout.digit_size(digit);
        let log_probs =
            log_softmax3(model.project(last)).slice([0..rows, 0..1, offset..offset + width]);
        log_probs
            .into_data()
            .convert::<f32>()
            .into_vec::<f32>()
            .unwrap_or_default()
    }
}

/// One beam-search choice: the extended beam's score, the index of the beam it
/// extends, and the code it appends.
pub(crate) type Choice = (f32, usize, u32);

/// Expands every beam by each code it may take next and keeps the best `beam_size`
/// extensions, best first; ties go to the earlier beam and the smaller code, so the
/// result is deterministic. This is the one step rule of every TIGER beam search:
/// [`BeamSearch::step`] and the SpecGR verifier's steps (`crate::TigerVerifier`).
///
/// `beams` yields, per beam: its codes, its score, and the log-probabilities of the
/// next digit's codes. With a `trie`, a beam takes only the codes that continue an
/// item's ID. A trie code outside the row is an error that names the code.
pub(crate) fn choose<'a>(
    beams: impl Iterator<Item = (&'a [u32], f32, &'a [f32])>,
    trie: Option<&PrefixTrie>,
    beam_size: usize,
) -> Result<Vec<Choice>, u32> {
    let mut options: Vec<Choice> = Vec::new();
    for (j, (codes, base, row)) in beams.enumerate() {
        match trie {
            None => options.extend(
                row.iter()
                    .enumerate()
                    .map(|(c, &lp)| (base + lp, j, c as u32)),
            ),
            Some(trie) => {
                for &c in trie.next_codes(codes) {
                    let &lp = row.get(c as usize).ok_or(c)?;
                    options.push((base + lp, j, c));
                }
            }
        }
    }
    let order = |a: &Choice, b: &Choice| {
        b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2))
    };
    let beam_size = beam_size.max(1);
    if options.len() > beam_size {
        options.select_nth_unstable_by(beam_size - 1, order);
        options.truncate(beam_size);
    }
    options.sort_unstable_by(order);
    Ok(options)
}

impl<B: Backend> Tiger<B> {
    /// Runs `steps` beam-search steps (at most the layout's number of digits) and
    /// returns the beams of every query after each step: `result[step][query]`.
    pub fn beam_search(
        &self,
        encoded: &EncoderOutput<B>,
        layout: &TokenLayout,
        beam_size: usize,
        steps: usize,
        constraint: Constraint<'_>,
    ) -> Result<Vec<Vec<Vec<Beam>>>, TigerError> {
        let mut search = BeamSearch::new(encoded.num_queries(), beam_size, true);
        for _ in 0..steps {
            search.step(self, encoded, layout, constraint)?;
        }
        Ok(search.into_history())
    }
}
