//! [`TigerVerifier`]: the [`Verifier`] trait for TIGER on any Burn backend.
//!
//! The beam search is [`crate::BeamSearch`]'s KV-cached search (the two share how
//! beams are expanded and chosen, `beam::choose`), except that each step runs
//! only for the queries asked for (queries that exited early drop out of the batch)
//! and that a round's drafts that extend a beam are verified together with the next
//! beam step, from the beams' cache: as a prefix tree (`tree`, the default) or in
//! one call (`round`). Drafts that
//! extend no beam (unguided re-drafting) are scored from scratch with
//! [`Tiger::score`], each distinct prefix decoded once.

use std::collections::HashMap;

use burn::tensor::backend::Backend;
use rec_core::{Beam, Result, SpecError, Verifier};
use recdata::ItemId;
use semid::SemanticIds;

use crate::beam::choose;
use crate::{Constraint, DecoderCache, EncoderOutput, Tiger, TigerError};
use round::{Extension, Round, RowBeam, decode_round};
use tree::decode_tree;

mod round;
mod tree;

/// A TIGER error seen through the loop's interface: the loop reports it as the
/// verifier's failure, and `?` converts it.
impl From<TigerError> for SpecError {
    fn from(e: TigerError) -> Self {
        SpecError::Verifier(Box::new(e))
    }
}

/// TIGER as a SpecGR verifier.
///
/// Beams are constrained by `constraint`. The reference code's beams are
/// unconstrained and may spell IDs of no item; pass a trie over the items to keep
/// every finished beam a real item, or one trie per query (built from each query's
/// candidate set) for subset ranking.
#[derive(Clone)]
pub struct TigerVerifier<'a, B: Backend> {
    model: &'a Tiger<B>,
    ids: &'a SemanticIds,
    device: B::Device,
    constraint: Constraint<'a>,
    query_embedding: Option<&'a QueryEmbedding<'a, B>>,
    one_call: bool,
}

/// Maps an encoder output to one drafter query vector per query (SpecGR++: the
/// projection head over the mean-pooled encoder states).
pub type QueryEmbedding<'a, B> = dyn Fn(&EncoderOutput<B>) -> Result<Vec<Vec<f32>>> + 'a;

impl<B: Backend> std::fmt::Debug for TigerVerifier<'_, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TigerVerifier")
            .field("constraint", &self.constraint)
            .field("self_drafting", &self.query_embedding.is_some())
            .finish_non_exhaustive()
    }
}

/// The per-batch state of [`TigerVerifier`].
#[derive(Debug)]
pub struct TigerSession<B: Backend> {
    encoded: EncoderOutput<B>,
    /// The encoder output of a subset of queries, kept while the subset repeats.
    selected: Option<(Vec<usize>, EncoderOutput<B>)>,
    beams: Vec<Vec<RowBeam>>,
    depth: Vec<usize>,
    /// The rows that the beams' `row` fields name.
    cache: Option<DecoderCache<B>>,
    /// A decoded round whose beam step has not been taken yet.
    pending: Option<(usize, Round<B>)>,
    /// Counts beam steps; `stepped[q]` is the step whose cache holds query q's rows.
    generation: usize,
    stepped: Vec<usize>,
    decoder_calls: usize,
}

impl<B: Backend> TigerSession<B> {
    /// The encoder output of the whole batch (SpecGR++ drafts from the same pass).
    pub fn encoded(&self) -> &EncoderOutput<B> {
        &self.encoded
    }

    /// Whether `queries` can take the shared path at `depth`: same depth, live cache rows.
    fn lockstep(&self, queries: &[usize]) -> Option<usize> {
        let depth = self.depth[*queries.first()?];
        queries
            .iter()
            .all(|&q| self.depth[q] == depth && (depth == 0 || self.stepped[q] == self.generation))
            .then_some(depth)
    }
}

/// The encoder output of `queries`, gathered once per distinct subset in a row.
fn select<'s, B: Backend>(
    encoded: &'s EncoderOutput<B>,
    selected: &'s mut Option<(Vec<usize>, EncoderOutput<B>)>,
    queries: &[usize],
) -> &'s EncoderOutput<B> {
    let all =
        queries.len() == encoded.num_queries() && queries.iter().enumerate().all(|(i, &q)| i == q);
    if all {
        return encoded;
    }
    if selected.as_ref().is_none_or(|(qs, _)| qs != queries) {
        *selected = Some((queries.to_vec(), encoded.select_queries(queries)));
    }
    &selected.as_ref().expect("just set").1
}

impl<'a, B: Backend> TigerVerifier<'a, B> {
    /// A verifier for `model` over the items of `ids`, with beams constrained by `constraint`.
    pub fn new(
        model: &'a Tiger<B>,
        ids: &'a SemanticIds,
        constraint: Constraint<'a>,
        device: B::Device,
    ) -> Self {
        Self {
            model,
            ids,
            device,
            constraint,
            query_embedding: None,
            one_call: false,
        }
    }

    /// Decodes each round (the beam step and every draft that extends a beam) in
    /// one decoder call with all draft digits teacher-forced at once, as the paper
    /// describes, instead of the default prefix tree (one call per digit level, each
    /// distinct prefix once). One call suits devices where a call's latency
    /// dominates; the tree decodes fewer positions, which is what counts on the CPU.
    pub fn with_one_call_rounds(mut self, one_call: bool) -> Self {
        self.one_call = one_call;
        self
    }

    /// Drafts from the verifier's own encoder pass (SpecGR++): `embed` turns the
    /// session's encoder output into the drafter's query vectors.
    pub fn with_query_embedding(mut self, embed: &'a QueryEmbedding<'a, B>) -> Self {
        self.query_embedding = Some(embed);
        self
    }

    /// Decodes the round of `queries` at `depth`, with `extensions` verified alongside.
    fn round(
        &self,
        session: &mut TigerSession<B>,
        queries: &[usize],
        depth: usize,
        extensions: &[Vec<Extension>],
    ) -> Round<B> {
        let TigerSession {
            encoded,
            selected,
            beams,
            cache,
            ..
        } = session;
        let encoded = select(encoded, selected, queries);
        let beams: Vec<&[RowBeam]> = queries.iter().map(|&q| beams[q].as_slice()).collect();
        let past = if depth == 0 { None } else { cache.as_ref() };
        let layout = self.ids.layout();
        let (round, calls) = if self.one_call {
            (
                decode_round(
                    self.model, encoded, layout, past, depth, queries, &beams, extensions,
                ),
                1,
            )
        } else {
            decode_tree(
                self.model, encoded, layout, past, depth, queries, &beams, extensions,
            )
        };
        session.decoder_calls += calls;
        round
    }

    /// Scores candidates from scratch (no beam to continue from).
    fn score_fresh(
        &self,
        session: &mut TigerSession<B>,
        queries: &[usize],
        candidates: &[Vec<Vec<u32>>],
    ) -> Result<Vec<Vec<Vec<f32>>>> {
        let levels = candidates.iter().flatten().map(Vec::len).max().unwrap_or(0);
        if levels == 0 {
            return Ok(candidates
                .iter()
                .map(|c| vec![Vec::new(); c.len()])
                .collect());
        }
        let encoded = select(&session.encoded, &mut session.selected, queries);
        let scores = self.model.score(encoded, candidates, self.ids.layout())?;
        session.decoder_calls += levels;
        Ok(scores.log_probs)
    }
}

impl<B: Backend> Verifier for TigerVerifier<'_, B> {
    type Session = TigerSession<B>;

    fn num_digits(&self) -> usize {
        self.ids.num_digits()
    }

    fn begin(&self, histories: &[&[ItemId]]) -> Result<Self::Session> {
        if let Constraint::PerQuery(tries) = self.constraint
            && tries.len() != histories.len()
        {
            return Err(SpecError::Request {
                query: tries.len().min(histories.len()),
                reason: format!("{} beam tries for {} queries", tries.len(), histories.len()),
            });
        }
        let raw: Vec<Vec<u32>> = histories
            .iter()
            .map(|h| h.iter().map(|i| i.0).collect())
            .collect();
        let refs: Vec<&[u32]> = raw.iter().map(Vec::as_slice).collect();
        let encoded = self.model.encode(&refs, self.ids, &self.device)?;
        let root = vec![RowBeam {
            codes: Vec::new(),
            log_probs: Vec::new(),
            row: 0,
        }];
        Ok(TigerSession {
            encoded,
            selected: None,
            beams: vec![root; histories.len()],
            depth: vec![0; histories.len()],
            cache: None,
            pending: None,
            generation: 0,
            stepped: vec![0; histories.len()],
            decoder_calls: 0,
        })
    }

    fn score(
        &self,
        session: &mut Self::Session,
        queries: &[usize],
        candidates: &[Vec<&[u32]>],
    ) -> Result<Vec<Vec<Vec<f32>>>> {
        let _span = tracing::trace_span!("tiger_verify", queries = queries.len()).entered();
        let n = self.ids.num_digits();
        let shared = session.lockstep(queries).filter(|&d| d < n);
        // Split each query's candidates into beam extensions and the rest.
        let mut extensions: Vec<Vec<Extension>> = vec![Vec::new(); queries.len()];
        let mut fresh: Vec<Vec<Vec<u32>>> = vec![Vec::new(); queries.len()];
        let mut place: Vec<Vec<Place>> = Vec::with_capacity(queries.len());
        for (i, (&q, cands)) in queries.iter().zip(candidates).enumerate() {
            let by_prefix: HashMap<&[u32], usize> = match shared {
                Some(_) => session.beams[q]
                    .iter()
                    .enumerate()
                    .map(|(j, b)| (b.codes.as_slice(), j))
                    .collect(),
                None => HashMap::new(),
            };
            let mut mine = Vec::with_capacity(cands.len());
            for c in cands {
                let place = match shared {
                    Some(d) if c.len() > d => by_prefix.get(&c[..d]).map(|&j| {
                        extensions[i].push(Extension {
                            beam: j,
                            tail: c[d..].to_vec(),
                        });
                        Place::Extension(extensions[i].len() - 1)
                    }),
                    // A candidate no longer than the beams: its digits are a beam's.
                    Some(_) => session.beams[q]
                        .iter()
                        .find(|b| b.codes.starts_with(c))
                        .map(|b| Place::Known(b.log_probs[..c.len()].to_vec())),
                    None => None,
                };
                mine.push(place.unwrap_or_else(|| {
                    fresh[i].push(c.to_vec());
                    Place::Fresh(fresh[i].len() - 1)
                }));
            }
            place.push(mine);
        }
        let fresh_scores = self.score_fresh(session, queries, &fresh)?;
        let round = match shared {
            Some(d) if extensions.iter().any(|e| !e.is_empty()) => {
                Some((d, self.round(session, queries, d, &extensions)))
            }
            _ => None,
        };
        let mut out = Vec::with_capacity(queries.len());
        for (i, &q) in queries.iter().enumerate() {
            let mut mine = Vec::with_capacity(place[i].len());
            for p in &place[i] {
                mine.push(match (p, &round) {
                    (Place::Extension(k), Some((d, r))) => {
                        let beam = &session.beams[q][extensions[i][*k].beam];
                        beam.log_probs[..*d]
                            .iter()
                            .chain(&r.tail_log_probs[i][*k])
                            .copied()
                            .collect()
                    }
                    (Place::Known(lps), _) => lps.clone(),
                    (Place::Fresh(k), _) => fresh_scores[i][*k].clone(),
                    (Place::Extension(_), None) => {
                        unreachable!("extensions exist, so the round was decoded")
                    }
                });
            }
            out.push(mine);
        }
        session.pending = round;
        Ok(out)
    }

    fn beam_step(
        &self,
        session: &mut Self::Session,
        queries: &[usize],
        beam_size: usize,
    ) -> Result<Vec<Vec<Beam>>> {
        let _span = tracing::trace_span!("tiger_beam_step", queries = queries.len()).entered();
        let Some(&first) = queries.first() else {
            return Ok(Vec::new());
        };
        let layout = self.ids.layout();
        let Some(depth) = session.lockstep(queries) else {
            return Err(SpecError::Request {
                query: first,
                reason: "beam steps run in lockstep: queries at different depths, or resumed after being left out of a step".into(),
            });
        };
        if depth >= layout.num_digits() {
            return Err(SpecError::Request {
                query: first,
                reason: format!("all {depth} digits are decoded"),
            });
        }
        let round = match session.pending.take() {
            Some((d, r)) if d == depth && queries.iter().all(|q| r.queries.contains(q)) => r,
            _ => self.round(session, queries, depth, &vec![Vec::new(); queries.len()]),
        };
        let position: HashMap<usize, usize> = round
            .queries
            .iter()
            .enumerate()
            .map(|(i, &q)| (q, i))
            .collect();
        let mut out = Vec::with_capacity(queries.len());
        for &q in queries {
            let i = position[&q];
            let beams = &session.beams[q];
            let options = choose(
                beams.iter().zip(&round.beam_log_probs[i]).map(|(beam, row)| {
                    (beam.codes.as_slice(), beam.log_prob(), row.as_slice())
                }),
                self.constraint.trie(q),
                beam_size,
            )
            .map_err(|c| {
                TigerError::InvalidCandidate(format!(
                    "query {q}: trie code {c} at digit {depth} is outside the layout's codes"
                ))
            })?;
            let next: Vec<RowBeam> = options
                .iter()
                .map(|&(_, j, c)| {
                    let mut codes = beams[j].codes.clone();
                    codes.push(c);
                    let mut log_probs = beams[j].log_probs.clone();
                    log_probs.push(round.beam_log_probs[i][j][c as usize]);
                    RowBeam {
                        codes,
                        log_probs,
                        row: i * round.groups + j,
                    }
                })
                .collect();
            out.push(
                next.iter()
                    .zip(&options)
                    .map(|(b, o)| Beam {
                        codes: b.codes.clone(),
                        log_prob: o.0,
                    })
                    .collect(),
            );
            session.beams[q] = next;
            session.depth[q] = depth + 1;
        }
        session.cache = Some(round.cache);
        session.generation += 1;
        for &q in queries {
            session.stepped[q] = session.generation;
        }
        Ok(out)
    }

    fn query_vectors(&self, session: &Self::Session) -> Result<Option<Vec<Vec<f32>>>> {
        self.query_embedding
            .map(|embed| embed(&session.encoded))
            .transpose()
    }

    fn beam_depth(&self, session: &Self::Session, query: usize) -> usize {
        session.depth[query]
    }

    fn decoder_calls(&self, session: &Self::Session) -> usize {
        session.decoder_calls
    }
}

/// Where a candidate's log-probabilities come from.
enum Place {
    /// The round's shared decoder call (an extension of a beam).
    Extension(usize),
    /// A from-scratch scoring pass.
    Fresh(usize),
    /// A beam's own digits.
    Known(Vec<f32>),
}
