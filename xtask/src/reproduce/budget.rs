//! `cargo xtask reproduce --max-minutes`: one wall-time budget for the training stages.

use std::time::{Duration, Instant};

/// The time left to the training stages (TIGER with UniSRec beside it, then SpecGR++).
/// Each training command gets what is left as its own `--max-minutes`, so it stops at
/// a checkpoint when the budget is spent, and the same reproduce command resumes it.
pub(crate) struct TrainingBudget {
    minutes: f64,
    deadline: Instant,
}

impl TrainingBudget {
    /// Starts the budget now; `None` without `--max-minutes`.
    pub(crate) fn start(minutes: Option<f64>) -> Option<Self> {
        minutes.map(|minutes| Self { minutes, deadline: Instant::now() + Duration::from_secs_f64(minutes * 60.0) })
    }

    /// The `--max-minutes` argument for a training command starting now: the minutes
    /// left. A spent budget still passes a positive value (the command then stops at
    /// its first step, at a checkpoint); reproduce does not start one then.
    pub(crate) fn args(&self) -> [String; 2] {
        let left = self.deadline.saturating_duration_since(Instant::now()).as_secs_f64() / 60.0;
        // Rounded up, so the command's deadline is never before this budget's (see `spent`).
        ["--max-minutes".to_owned(), format!("{:.4}", ((left * 1e4).ceil() / 1e4).max(1e-4))]
    }

    /// Whether the deadline has passed. A training command started with [`Self::args`]
    /// that stopped on its budget stopped after its own deadline, which is not earlier
    /// than this one: when this says no, every training so far ran to its end.
    pub(crate) fn spent(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Says where reproduce stopped, and how to go on.
    pub(crate) fn say_spent(&self, stage: &str, runs: &std::path::Path) {
        println!(
            "-- stopped: the training budget (--max-minutes {}) was spent in stage {stage}. Every model trained \
             so far is checkpointed under {}; run the same command again to resume (with more --max-minutes, or \
             none to train to the end). No report was written: tuning and evaluation need finished models.",
            self.minutes,
            runs.display()
        );
    }
}
