//! [`StepStats`]: what the loop did, per round and in total, for the paper's
//! acceptance-rate (Table A3) and latency-split (Table A6) analyses.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Counts of one draft-verify round, summed over the queries that took part.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RoundStats {
    /// Queries still drafting in this round.
    pub queries: usize,
    /// Items drafted (and verified).
    pub drafted: usize,
    /// Drafted items whose score exceeded the threshold.
    pub accepted: usize,
    /// Queries that reached K accepted items in this round and exited.
    pub exited: usize,
}

impl RoundStats {
    /// Accepted share of the drafted items (0 when nothing was drafted).
    pub fn acceptance_rate(&self) -> f64 {
        if self.drafted == 0 {
            0.0
        } else {
            self.accepted as f64 / self.drafted as f64
        }
    }

    fn add(&mut self, other: &Self) {
        self.queries += other.queries;
        self.drafted += other.drafted;
        self.accepted += other.accepted;
        self.exited += other.exited;
    }
}

/// Statistics of one or more batches; [`StepStats::merge`] sums batches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepStats {
    /// Queries served.
    pub queries: usize,
    /// Per round, by round index.
    pub rounds: Vec<RoundStats>,
    /// Batched beam-search steps taken (including steps that finish beams for the fill).
    pub beam_steps: usize,
    /// Batched scoring passes.
    pub verify_passes: usize,
    /// Decoder invocations reported by the verifier.
    pub decoder_calls: usize,
    /// Time spent in the verifier's encoder.
    pub encode_time: Duration,
    /// Time spent drafting: embedding the queries and searching.
    pub draft_time: Duration,
    /// Time spent scoring drafted items.
    pub verify_time: Duration,
    /// Time spent in beam-search steps.
    pub beam_time: Duration,
    /// Recommendations returned.
    pub results: usize,
    /// Recommendations that are unseen (not in-sample) items.
    pub unseen_results: usize,
    /// Recommendations taken from rejected drafts to fill the list.
    pub from_rejected: usize,
    /// Recommendations taken from beams to fill the list.
    pub from_beams: usize,
}

impl StepStats {
    /// Adds another batch's statistics to these.
    pub fn merge(&mut self, other: &Self) {
        self.queries += other.queries;
        if self.rounds.len() < other.rounds.len() {
            self.rounds
                .resize(other.rounds.len(), RoundStats::default());
        }
        for (a, b) in self.rounds.iter_mut().zip(&other.rounds) {
            a.add(b);
        }
        self.beam_steps += other.beam_steps;
        self.verify_passes += other.verify_passes;
        self.decoder_calls += other.decoder_calls;
        self.encode_time += other.encode_time;
        self.draft_time += other.draft_time;
        self.verify_time += other.verify_time;
        self.beam_time += other.beam_time;
        self.results += other.results;
        self.unseen_results += other.unseen_results;
        self.from_rejected += other.from_rejected;
        self.from_beams += other.from_beams;
    }

    /// Drafted items over all rounds.
    pub fn drafted(&self) -> usize {
        self.rounds.iter().map(|r| r.drafted).sum()
    }

    /// Accepted items over all rounds.
    pub fn accepted(&self) -> usize {
        self.rounds.iter().map(|r| r.accepted).sum()
    }

    /// Acceptance rate of each round (Table A3).
    pub fn acceptance_by_round(&self) -> Vec<f64> {
        self.rounds
            .iter()
            .map(RoundStats::acceptance_rate)
            .collect()
    }

    /// Share of unseen items among the recommendations.
    pub fn unseen_share(&self) -> f64 {
        if self.results == 0 {
            0.0
        } else {
            self.unseen_results as f64 / self.results as f64
        }
    }

    /// Time in the verifier: encoding, scoring and beam steps.
    pub fn verifier_time(&self) -> Duration {
        self.encode_time + self.verify_time + self.beam_time
    }

    /// Mean number of rounds a query took part in.
    pub fn mean_rounds(&self) -> f64 {
        if self.queries == 0 {
            0.0
        } else {
            self.rounds.iter().map(|r| r.queries).sum::<usize>() as f64 / self.queries as f64
        }
    }

    pub(crate) fn round_mut(&mut self, round: usize) -> &mut RoundStats {
        if self.rounds.len() <= round {
            self.rounds.resize(round + 1, RoundStats::default());
        }
        &mut self.rounds[round]
    }
}
