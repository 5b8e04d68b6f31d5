//! [`SpecGr`]: the draft-verify loop of the paper's Methodology section.
//!
//! For a batch of queries: encode once; embed the queries for the drafter; then in
//! each round r < L, every query that has not exited drafts its δ best items not yet
//! drafted (from round 1 on, only items whose first r digits match one of *its*
//! beams), all drafts of the batch are scored in one verifier pass, items scoring
//! above γ are accepted, queries with K accepted exit, and the others' beams take
//! one step. Queries that end with fewer than K are filled from their rejected
//! drafts and finished beams. Every query keeps its own state, so a batch gives the
//! same lists as its queries one by one.
//!
//! Where we differ from the reference code: prefixes are per query (V2 unions them
//! over the batch), beams may be constrained to real items (see
//! [`crate::TigerVerifier`]), and finished beams that spell no item are skipped.

use std::collections::HashSet;
use std::time::Instant;

use rec_core::{DraftFilter, Drafter, ItemSet, PrefixFilter, Query};
use recdata::ItemId;

use crate::config::{Normalisation, SpecGrConfig};
use rec_core::{Result, SpecError};
use crate::fill::{Candidate, assemble};
use crate::space::{ItemSpace, Recommendation};
use crate::stats::StepStats;
use rec_core::{Beam, Verifier, mean_log_prob};

/// One query: a history and, optionally, a candidate subset and a precomputed
/// drafter query vector (SpecGR++ passes the encoder's projection).
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The history, oldest first.
    pub history: &'a [ItemId],
    /// Subset ranking: only these items are drafted or taken from beams.
    pub allowed: Option<&'a ItemSet>,
    /// A query vector for the drafter, computed elsewhere.
    pub vector: Option<&'a [f32]>,
}

impl<'a> Request<'a> {
    /// A request for a history over all items.
    pub fn new(history: &'a [ItemId]) -> Self {
        Self {
            history,
            allowed: None,
            vector: None,
        }
    }

    /// Restricts the request to a candidate subset.
    pub fn within(mut self, allowed: &'a ItemSet) -> Self {
        self.allowed = Some(allowed);
        self
    }
}

/// The recommendation lists of a batch and what it took to make them.
#[derive(Debug, Clone)]
pub struct Output {
    /// Per query, best first: K items, or all there were.
    pub lists: Vec<Vec<Recommendation>>,
    /// Counts and times.
    pub stats: StepStats,
}

/// The state of one query during the loop.
#[derive(Debug, Default)]
struct QueryState {
    drafted: ItemSet,
    candidates: Vec<Candidate>,
    accepted: usize,
    active: bool,
    beams: Vec<Beam>,
}

/// The SpecGR engine over one item space.
#[derive(Debug, Clone)]
pub struct SpecGr<'a> {
    config: SpecGrConfig,
    space: ItemSpace<'a>,
}

impl<'a> SpecGr<'a> {
    /// An engine with a validated config.
    pub fn new(config: SpecGrConfig, space: ItemSpace<'a>) -> Result<Self> {
        config.validate()?;
        Ok(Self { config, space })
    }

    /// The config.
    pub fn config(&self) -> &SpecGrConfig {
        &self.config
    }

    /// The item space.
    pub fn space(&self) -> &ItemSpace<'a> {
        &self.space
    }

    /// Recommends K items for every request.
    ///
    /// With `draft_size` 0 the drafter is never called and the result is the
    /// verifier's beam-search list.
    pub fn recommend<V: Verifier>(
        &self,
        verifier: &V,
        drafter: &dyn Drafter,
        requests: &[Request<'_>],
    ) -> Result<Output> {
        let _span = tracing::debug_span!("specgr", queries = requests.len()).entered();
        let cfg = &self.config;
        let mut stats = StepStats {
            queries: requests.len(),
            ..StepStats::default()
        };
        if requests.is_empty() {
            return Ok(Output {
                lists: Vec::new(),
                stats,
            });
        }
        for (q, r) in requests.iter().enumerate() {
            if r.history.is_empty() {
                return Err(SpecError::Request {
                    query: q,
                    reason: "empty history".into(),
                });
            }
        }
        let num_digits = verifier.num_digits();
        if num_digits != self.space.num_digits() {
            return Err(SpecError::Config(format!(
                "verifier decodes {num_digits} digits but semantic IDs have {}",
                self.space.num_digits()
            )));
        }
        let histories: Vec<&[ItemId]> = requests.iter().map(|r| r.history).collect();
        let t = Instant::now();
        let mut session = verifier.begin(&histories)?;
        stats.encode_time += t.elapsed();

        let vectors = if cfg.draft_size > 0 {
            let t = Instant::now();
            // SpecGR++: the verifier's own encoder pass yields the query vectors.
            let own = verifier.query_vectors(&session)?;
            if let Some(own) = &own {
                check_len("verifier query vectors", own.len(), requests.len())?;
            }
            let queries: Vec<Query<'_>> = requests
                .iter()
                .enumerate()
                .map(|(q, r)| Query {
                    history: r.history,
                    vector: r.vector.or(own.as_ref().map(|v| v[q].as_slice())),
                })
                .collect();
            let v = drafter.embed_queries(&queries)?;
            check_len("drafter query vectors", v.len(), requests.len())?;
            stats.draft_time += t.elapsed();
            v
        } else {
            Vec::new()
        };

        let mut states: Vec<QueryState> = requests
            .iter()
            .map(|_| QueryState {
                active: true,
                ..QueryState::default()
            })
            .collect();
        let rounds = cfg.max_rounds.min(num_digits);
        for round in 0..rounds {
            let active: Vec<usize> = (0..states.len()).filter(|&q| states[q].active).collect();
            if active.is_empty() {
                break;
            }
            stats.round_mut(round).queries += active.len();
            if cfg.draft_size > 0 {
                self.draft_and_verify(
                    verifier,
                    &mut session,
                    drafter,
                    requests,
                    &vectors,
                    &mut states,
                    &active,
                    round,
                    &mut stats,
                )?;
            }
            let mut stepping = Vec::with_capacity(active.len());
            for &q in &active {
                if cfg.adaptive_exit && states[q].accepted >= cfg.k {
                    states[q].active = false;
                    stats.round_mut(round).exited += 1;
                } else {
                    stepping.push(q);
                }
            }
            self.beam_step(verifier, &mut session, &mut states, &stepping, &mut stats)?;
        }
        // Queries short of K need finished beams to fill from.
        loop {
            let short: Vec<usize> = (0..states.len())
                .filter(|&q| {
                    states[q].accepted < cfg.k && verifier.beam_depth(&session, q) < num_digits
                })
                .collect();
            if short.is_empty() {
                break;
            }
            self.beam_step(verifier, &mut session, &mut states, &short, &mut stats)?;
        }
        stats.decoder_calls += verifier.decoder_calls(&session);

        let mut lists = Vec::with_capacity(states.len());
        for (q, state) in states.iter().enumerate() {
            let beams: Vec<Candidate> = if state.accepted < cfg.k {
                self.beam_items(state, requests[q].allowed)
            } else {
                Vec::new()
            };
            let list = assemble(&state.candidates, &beams, cfg.k, cfg.selection, cfg.rerank);
            for r in &list {
                stats.results += 1;
                stats.unseen_results += usize::from(!self.space.is_in_sample(r.item));
                stats.from_rejected += usize::from(r.source == crate::Source::Rejected);
                stats.from_beams += usize::from(r.source == crate::Source::Beam);
            }
            lists.push(list);
        }
        Ok(Output { lists, stats })
    }

    /// Recommends for many requests in batches of `batch_size`, calling `progress`
    /// with the number of requests done after each batch; the statistics are summed.
    pub fn recommend_batched<V: Verifier>(
        &self,
        verifier: &V,
        drafter: &dyn Drafter,
        requests: &[Request<'_>],
        batch_size: usize,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Output> {
        let mut lists = Vec::with_capacity(requests.len());
        let mut stats = StepStats::default();
        for chunk in requests.chunks(batch_size.max(1)) {
            let out = self.recommend(verifier, drafter, chunk)?;
            lists.extend(out.lists);
            stats.merge(&out.stats);
            progress(lists.len());
        }
        Ok(Output { lists, stats })
    }

    /// One round's drafting for the active queries, then one batched scoring pass.
    #[allow(clippy::too_many_arguments)]
    fn draft_and_verify<V: Verifier>(
        &self,
        verifier: &V,
        session: &mut V::Session,
        drafter: &dyn Drafter,
        requests: &[Request<'_>],
        vectors: &[Vec<f32>],
        states: &mut [QueryState],
        active: &[usize],
        round: usize,
        stats: &mut StepStats,
    ) -> Result<()> {
        let cfg = &self.config;
        let t = Instant::now();
        let guided = cfg.first_guided_round().is_some_and(|first| round >= first);
        // Guided re-drafting: the query's own beam prefixes (all of length `round`).
        let prefixes: Vec<Vec<Vec<u32>>> = active
            .iter()
            .map(|&q| {
                if guided {
                    states[q].beams.iter().map(|b| b.codes.clone()).collect()
                } else {
                    Vec::new()
                }
            })
            .collect();
        let filters: Vec<DraftFilter<'_>> = active
            .iter()
            .zip(&prefixes)
            .map(|(&q, prefixes)| DraftFilter {
                allowed: requests[q].allowed,
                prefixes: guided.then_some(PrefixFilter {
                    ids: self.space.ids(),
                    trie: self.space.trie(),
                    prefixes,
                }),
                drafted: Some(&states[q].drafted),
            })
            .collect();
        let query_vectors: Vec<Vec<f32>> = active.iter().map(|&q| vectors[q].clone()).collect();
        let drafts = drafter.search(&query_vectors, &filters, cfg.draft_size)?;
        drop(filters);
        stats.draft_time += t.elapsed();
        check_len("drafter result lists", drafts.len(), active.len())?;

        let t = Instant::now();
        let mut items: Vec<Vec<(ItemId, usize)>> = Vec::with_capacity(active.len());
        for (&q, neighbors) in active.iter().zip(&drafts) {
            let mut mine = Vec::with_capacity(neighbors.len());
            for n in neighbors.iter().take(cfg.draft_size) {
                self.space.codes(n.item, q)?;
                // A drafter that ignores the exclusion filter must not make us verify twice.
                if states[q].drafted.insert(n.item) {
                    let digits = self.space.scored_digits(
                        n.item,
                        cfg.likelihood_adjustment,
                        cfg.unseen_digits,
                    );
                    mine.push((n.item, digits));
                }
            }
            items.push(mine);
        }
        let codes: Vec<Vec<&[u32]>> = items
            .iter()
            .zip(active)
            .map(|(mine, &q)| {
                mine.iter()
                    .map(|&(i, d)| Ok(&self.space.codes(i, q)?[..d]))
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<_>>()?;
        let total: usize = codes.iter().map(Vec::len).sum();
        if total == 0 {
            stats.verify_time += t.elapsed();
            return Ok(());
        }
        let log_probs = verifier.score(session, active, &codes)?;
        stats.verify_passes += 1;
        check_len("verifier score lists", log_probs.len(), active.len())?;
        let round_stats = stats.round_mut(round);
        for ((&q, mine), lps) in active.iter().zip(&items).zip(&log_probs) {
            check_len("verifier candidate scores", lps.len(), mine.len())?;
            for (&(item, digits), lp) in mine.iter().zip(lps) {
                check_len("verifier digit log-probabilities", lp.len(), digits)?;
                let score = match cfg.normalisation {
                    Normalisation::ScoredDigits => mean_log_prob(lp, digits),
                    Normalisation::AllDigits if digits > 0 => {
                        lp[..digits].iter().sum::<f32>() / self.space.num_digits().max(digits) as f32
                    }
                    Normalisation::AllDigits => f32::NEG_INFINITY,
                };
                let accepted = score > cfg.threshold;
                let state = &mut states[q];
                state.accepted += usize::from(accepted);
                state.candidates.push(Candidate {
                    item,
                    score,
                    accepted,
                });
                round_stats.drafted += 1;
                round_stats.accepted += usize::from(accepted);
            }
        }
        stats.verify_time += t.elapsed();
        Ok(())
    }

    /// One beam step for `queries`, storing their new beams.
    fn beam_step<V: Verifier>(
        &self,
        verifier: &V,
        session: &mut V::Session,
        states: &mut [QueryState],
        queries: &[usize],
        stats: &mut StepStats,
    ) -> Result<()> {
        if queries.is_empty() {
            return Ok(());
        }
        let t = Instant::now();
        let beams = verifier.beam_step(session, queries, self.config.beam_size)?;
        check_len("verifier beam lists", beams.len(), queries.len())?;
        for (&q, b) in queries.iter().zip(beams) {
            states[q].beams = b;
        }
        stats.beam_steps += 1;
        stats.beam_time += t.elapsed();
        Ok(())
    }

    /// The finished beams of a query that spell allowed items, as fill candidates
    /// scored by log-probability over the number of digits.
    fn beam_items(&self, state: &QueryState, allowed: Option<&ItemSet>) -> Vec<Candidate> {
        let n = self.space.num_digits();
        let mut seen = HashSet::new();
        state
            .beams
            .iter()
            .filter(|b| b.codes.len() == n)
            .filter_map(|b| self.space.item_of(&b.codes).map(|i| (i, b.log_prob)))
            .filter(|&(i, _)| {
                !state.drafted.contains(i)
                    && allowed.is_none_or(|a| a.contains(i))
                    && seen.insert(i)
            })
            .map(|(item, lp)| Candidate {
                item,
                score: lp / n as f32,
                accepted: false,
            })
            .collect()
    }
}

fn check_len(what: &'static str, got: usize, expected: usize) -> Result<()> {
    if got == expected {
        Ok(())
    } else {
        Err(SpecError::VerifierShape {
            what,
            got,
            expected,
        })
    }
}
