//! The [`Verifier`] trait: all the speculative loop needs from a generative
//! recommender, with no tensor type in sight.
//!
//! A verifier scores candidate semantic IDs by teacher forcing and runs a beam
//! search one step at a time. `gr_model::TigerVerifier` implements it for TIGER on any
//! Burn backend; tests implement it with a table of log-probabilities, so the loop's
//! logic is checked against brute force.

use recdata::ItemId;

use crate::error::Result;

/// One beam: the digits decoded so far and their summed log-probability.
#[derive(Debug, Clone, PartialEq)]
pub struct Beam {
    /// Digit codes (not tokens), one per step taken.
    pub codes: Vec<u32>,
    /// Sum of the digits' log-probabilities.
    pub log_prob: f32,
}

/// A generative recommender that verifies drafts.
///
/// Work for a batch of queries happens inside a session made by [`Verifier::begin`]
/// (for TIGER: the encoder output and the beam-search state). Queries are named by
/// their index in the batch given to `begin`.
pub trait Verifier {
    /// Per-batch state: encoder output, beams, caches.
    type Session;

    /// Digits per semantic ID, identification digit included.
    fn num_digits(&self) -> usize;

    /// Encodes the histories once and starts an empty beam search for each.
    fn begin(&self, histories: &[&[ItemId]]) -> Result<Self::Session>;

    /// Per-digit log-probabilities of candidates, teacher-forced:
    /// `result[i][c][d]` = log p(digit `d` of `candidates[i][c]` | history of query
    /// `queries[i]`, the candidate's earlier digits). Candidates are code prefixes
    /// of 1..=`num_digits` digits; only the given digits are scored.
    fn score(
        &self,
        session: &mut Self::Session,
        queries: &[usize],
        candidates: &[Vec<&[u32]>],
    ) -> Result<Vec<Vec<Vec<f32>>>>;

    /// Advances the beam search of at least the queries in `queries` by one digit
    /// and returns their beams (best first, at most `beam_size`), in the order of
    /// `queries`. Other queries may be advanced too; their results are unaffected.
    fn beam_step(
        &self,
        session: &mut Self::Session,
        queries: &[usize],
        beam_size: usize,
    ) -> Result<Vec<Vec<Beam>>>;

    /// Digits decoded so far by the beam search of `query`.
    fn beam_depth(&self, session: &Self::Session, query: usize) -> usize;

    /// Query vectors for the drafter computed from this session's encoder pass
    /// (SpecGR++ self-drafting), one per query, or `None` when the verifier does not
    /// draft. The default is `None`.
    fn query_vectors(&self, _session: &Self::Session) -> Result<Option<Vec<Vec<f32>>>> {
        Ok(None)
    }

    /// Decoder invocations made in this session so far (one per decoded position
    /// batch: a beam step is one, a scoring pass one per digit level).
    fn decoder_calls(&self, session: &Self::Session) -> usize;
}

/// Mean of the first `digits` log-probabilities: the length-normalised
/// log-likelihood that SpecGR uses as its verification score.
pub fn mean_log_prob(log_probs: &[f32], digits: usize) -> f32 {
    let n = digits.min(log_probs.len());
    if n == 0 {
        return f32::NEG_INFINITY;
    }
    log_probs[..n].iter().sum::<f32>() / n as f32
}
