//! What a training command shows while it runs, one place for TIGER's, SpecGR++'s and
//! `specgr tiger trace`'s trainers: a progress bar with the losses (on a terminal) or a
//! log line every so many steps (without one), a line per validation and, in a log, a
//! line per checkpoint.

use gr_model::RankingMetrics;
use indicatif::ProgressBar;

use crate::cmd::{progress_bar, say};

/// The display of one training run (a SpecGR++ stage is one run).
pub struct TrainingProgress {
    bar: ProgressBar,
    /// Put before every line (`"stage 1 "`), or empty.
    prefix: String,
    /// Without a terminal: a step line every this many steps.
    log_every: usize,
}

impl TrainingProgress {
    /// A display whose lines start with `name` (none when empty) and that logs a step
    /// line every `log_every` steps when there is no terminal.
    pub fn new(name: &str, log_every: usize) -> Self {
        let label = if name.is_empty() { "training" } else { name };
        let prefix = if name.is_empty() { String::new() } else { format!("{name} ") };
        Self { bar: progress_bar(0, label), prefix, log_every: log_every.max(1) }
    }

    /// Step `step` of `total_steps` (0-based) in `epoch`, with its named losses.
    pub fn step(&self, epoch: usize, step: usize, total_steps: usize, losses: &[(&str, f32)], samples_per_sec: f64) {
        let (p, bar) = (&self.prefix, &self.bar);
        bar.set_length(total_steps as u64);
        bar.set_position(step as u64 + 1);
        let short: Vec<String> = losses.iter().map(|(name, x)| format!("{name} {x:.3}")).collect();
        bar.set_message(format!("{p}ep {epoch} {} {samples_per_sec:.0}/s", short.join(" ")));
        // Without a terminal the bar is hidden: log a line now and then instead.
        if bar.is_hidden() && step % self.log_every == 0 {
            let long: Vec<String> = losses.iter().map(|(name, x)| format!("{name} {x:.4}")).collect();
            eprintln!("{p}step {step}/{total_steps} epoch {epoch} {} {samples_per_sec:.1} samples/s", long.join(" "));
        }
    }

    /// A validation after `epoch`: `what` was measured (`valid`, `valid retrieval`).
    pub fn validation(&self, epoch: usize, what: &str, m: &RankingMetrics, improved: bool) {
        let best = if improved { " (best)" } else { "" };
        let k = m.k;
        say(
            &self.bar,
            format!(
                "{}epoch {epoch}: {what} recall@{k} {:.4} ndcg@{k} {:.4} ({} examples){best}",
                self.prefix, m.recall, m.ndcg, m.examples
            ),
        );
    }

    /// A checkpoint at the end of `epoch`, or after `batches` batches of it. Logged
    /// only without a terminal (on a terminal the bar shows where the run is).
    pub fn checkpoint(&self, epoch: usize, batches: Option<usize>) {
        if self.bar.is_hidden() {
            match batches {
                Some(b) => eprintln!("{}epoch {epoch} checkpointed after {b} batches", self.prefix),
                None => eprintln!("{}epoch {epoch} checkpointed", self.prefix),
            }
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl TrainingProgress {
    /// Shows one of TIGER's training events.
    pub fn tiger(&self, e: &gr_model::TrainEvent) {
        use gr_model::TrainEvent as E;
        match e {
            E::Step { epoch, step, total_steps, loss, samples_per_sec, .. } => {
                self.step(*epoch, *step, *total_steps, &[("loss", *loss)], *samples_per_sec);
            }
            E::Validation { epoch, metrics, improved } => self.validation(*epoch, "valid", metrics, *improved),
            E::Checkpoint { epoch } => self.checkpoint(*epoch, None),
            E::PartialCheckpoint { epoch, batches } => self.checkpoint(*epoch, Some(*batches)),
        }
    }

    /// Shows one of SpecGR++'s training events.
    pub fn specgr_pp(&self, e: &gr_model::SpecGrPpEvent) {
        use gr_model::SpecGrPpEvent as E;
        match e {
            E::Step { epoch, step, total_steps, emb_loss, gen_loss, samples_per_sec, .. } => {
                self.step(*epoch, *step, *total_steps, &[("emb", *emb_loss), ("gen", *gen_loss)], *samples_per_sec);
            }
            E::Validation { epoch, metrics, improved } => self.validation(*epoch, "valid retrieval", metrics, *improved),
            E::Checkpoint { epoch } => self.checkpoint(*epoch, None),
            E::PartialCheckpoint { epoch, batches } => self.checkpoint(*epoch, Some(*batches)),
        }
    }
}
