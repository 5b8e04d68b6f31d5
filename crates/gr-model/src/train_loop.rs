//! The training-loop skeleton the trainers share (TIGER's [`crate::train`], SpecGR++'s
//! [`crate::train_specgr_pp`] and the drafters crate's UniSRec): the resumable `last/`
//! checkpoint, the best-so-far bookkeeping with early stopping, when to checkpoint
//! within an epoch and how a stop request ends one, a wall-time budget, and the
//! per-epoch dropout seed.
//!
//! Each trainer keeps its own epoch body (batching, losses, validation), because that
//! is where they differ: TIGER splits batches into shards on threads, SpecGR++ adds a
//! second loss, UniSRec adapts every item once per step. What a run does between steps
//! and epochs is written once, here.
//!
//! `last/` holds `model-<stem>.mpk` and `optim-<stem>.mpk` (Burn named-MessagePack
//! records) and `state.json`, which is written last and names the stem, so a kill at
//! any point leaves the previous complete checkpoint in force. The stem is the epochs
//! done, with `-<batches>` for a checkpoint within an epoch ([`stem`]).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use burn::module::AutodiffModule;
use burn::optim::Optimizer;
use burn::tensor::backend::AutodiffBackend;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::TigerError;
use crate::checkpoint::{load_checked, load_optim_checked, read, record_bytes, write_atomic};

/// The state file of a `last/` checkpoint.
pub const STATE_FILE: &str = "state.json";

/// The name part of a checkpoint's files: the epochs done, and the batches done within
/// the next epoch for a checkpoint within one.
pub fn stem(epochs_done: usize, batches_done: usize) -> String {
    match batches_done {
        0 => epochs_done.to_string(),
        b => format!("{epochs_done}-{b}"),
    }
}

/// A run's resumable checkpoint directory (`<run>/last`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastCheckpoint {
    dir: PathBuf,
}

impl LastCheckpoint {
    /// The checkpoint in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Its directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Its state file.
    pub fn state_path(&self) -> PathBuf {
        self.dir.join(STATE_FILE)
    }

    /// The state of the checkpoint, `None` when there is none yet.
    pub fn read_state<S: DeserializeOwned>(&self) -> Result<Option<S>, TigerError> {
        let path = self.state_path();
        if !path.exists() {
            return Ok(None);
        }
        serde_json::from_slice(&read(&path)?)
            .map(Some)
            .map_err(|source| TigerError::Json { path, source })
    }

    /// Writes the model and optimizer of this checkpoint, then the state that points at
    /// them, then removes the record files of older checkpoints.
    pub fn save<B, M, O, S>(&self, model: &M, optim: &O, state: &S, stem: &str) -> Result<(), TigerError>
    where
        B: AutodiffBackend,
        M: AutodiffModule<B>,
        O: Optimizer<M, B>,
        S: Serialize,
    {
        let model_path = self.dir.join(format!("model-{stem}.mpk"));
        write_atomic(&model_path, &record_bytes::<B, _>(model.clone().into_record(), &model_path)?)?;
        let optim_path = self.dir.join(format!("optim-{stem}.mpk"));
        write_atomic(&optim_path, &record_bytes::<B, _>(optim.to_record(), &optim_path)?)?;
        let state_path = self.state_path();
        let json = serde_json::to_vec_pretty(state).map_err(|source| TigerError::Json {
            path: state_path.clone(),
            source,
        })?;
        write_atomic(&state_path, &json)?;
        let keep = [format!("model-{stem}.mpk"), format!("optim-{stem}.mpk")];
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().to_string();
                if !keep.contains(&name) && name.ends_with(".mpk") {
                    // A leftover of an older checkpoint; failing to delete it is harmless.
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        Ok(())
    }

    /// Loads the model and optimizer records of the checkpoint `stem` into `model` and
    /// `optim`, after checking that their tensors fit the model (the optimizer's
    /// against the model's parameters). The model's shapes come from the state file.
    pub fn load<B, M, O>(&self, model: M, optim: O, stem: &str, device: &B::Device) -> Result<(M, O), TigerError>
    where
        B: AutodiffBackend,
        M: AutodiffModule<B>,
        O: Optimizer<M, B>,
    {
        let source = format!("{} (`model`)", self.state_path().display());
        let model_path = self.dir.join(format!("model-{stem}.mpk"));
        let model = load_checked::<B, M>(model, &model_path, &source, device)?;
        let record = load_optim_checked::<B, _, _>(&model, &self.dir.join(format!("optim-{stem}.mpk")), &model_path, device)?;
        Ok((model, optim.load_record(record)))
    }

    /// Removes the checkpoint (a finished run replaced by a new one); what is not there
    /// is not an error.
    pub fn remove(&self) -> Result<(), TigerError> {
        match std::fs::remove_dir_all(&self.dir) {
            Err(source) if source.kind() != std::io::ErrorKind::NotFound => {
                Err(TigerError::Io { path: self.dir.clone(), source })
            }
            _ => Ok(()),
        }
    }
}

/// The best validation value so far and patience: a run stops after `patience`
/// validations in a row that did not beat the best (higher is better).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EarlyStopping {
    /// Validations without improvement before stopping.
    pub patience: usize,
}

/// What one validation meant for the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// It beat the best so far (or is the first): save it as the best model.
    pub improved: bool,
    /// Patience ran out: stop after this epoch.
    pub stop: bool,
}

impl EarlyStopping {
    /// Records `value`, validated after `epoch`, in a run's `best` (value, epoch) and
    /// `since_best` (validations since the best).
    pub fn observe(&self, best: &mut Option<(f64, usize)>, since_best: &mut usize, value: f64, epoch: usize) -> Verdict {
        if best.is_none_or(|(b, _)| value > b) {
            *best = Some((value, epoch));
            *since_best = 0;
            Verdict { improved: true, stop: false }
        } else {
            *since_best += 1;
            Verdict { improved: false, stop: *since_best >= self.patience }
        }
    }
}

/// What a trainer does after a step ([`Cadence::after_step`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterStep {
    /// Go on.
    Continue,
    /// Checkpoint here (within the epoch) and go on.
    Checkpoint,
    /// A stop was asked for within the epoch: checkpoint here and return.
    StopHere,
    /// A stop was asked for at the epoch's last step: finish the epoch (validation and
    /// its checkpoint), then return.
    StopAtEpochEnd,
}

/// When to checkpoint within an epoch, and how a stop request (the caller's callback
/// returning `Break`) ends the epoch. Made at the start of each epoch.
#[derive(Debug, Clone)]
pub struct Cadence {
    every: Option<Duration>,
    last: Instant,
}

impl Cadence {
    /// A checkpoint within the epoch each time `minutes` have passed since the last
    /// one (or the epoch's start); 0: only at epoch ends.
    pub fn every_minutes(minutes: f64) -> Self {
        let every = (minutes > 0.0 && minutes.is_finite()).then(|| Duration::from_secs_f64(minutes * 60.0));
        Self { every, last: Instant::now() }
    }

    /// The action after batch `batch` (from 0) of `batches`, `stop` when the caller asked
    /// to stop. A checkpoint due at the epoch's last batch is left to the epoch's end.
    pub fn after_step(&mut self, stop: bool, batch: usize, batches: usize) -> AfterStep {
        let last_batch = batch + 1 >= batches;
        if stop {
            return if last_batch { AfterStep::StopAtEpochEnd } else { AfterStep::StopHere };
        }
        let due = self.every.is_some_and(|every| self.last.elapsed() >= every);
        if due && !last_batch {
            AfterStep::Checkpoint
        } else {
            AfterStep::Continue
        }
    }

    /// Restarts the clock after a checkpoint within the epoch.
    pub fn checkpointed(&mut self) {
        self.last = Instant::now();
    }
}

/// A wall-time budget (`--max-minutes`): a caller stops the run at the first step
/// after it is spent, which checkpoints there.
#[derive(Debug, Clone, Copy)]
pub struct TimeBudget {
    started: Instant,
    limit: Option<Duration>,
}

impl TimeBudget {
    /// A budget of `minutes` from now (`None`: unlimited).
    pub fn minutes(minutes: Option<f64>) -> Self {
        let limit = minutes.filter(|m| *m > 0.0 && m.is_finite()).map(|m| Duration::from_secs_f64(m * 60.0));
        Self { started: Instant::now(), limit }
    }

    /// Whether the budget is spent.
    pub fn spent(&self) -> bool {
        self.limit.is_some_and(|limit| self.started.elapsed() >= limit)
    }
}

/// `field: run's value, now value` for each field in which two configs (or any
/// values serialised as JSON objects) differ: what an error about resuming a run with
/// other settings lists.
pub fn config_differences<T: Serialize>(run: &T, now: &T) -> Vec<String> {
    let (run, now) = (serde_json::json!(run), serde_json::json!(now));
    let (Some(run), Some(now)) = (run.as_object(), now.as_object()) else {
        return Vec::new();
    };
    run.iter()
        .filter(|&(key, value)| now.get(key) != Some(value))
        .map(|(key, value)| format!("{key}: {value} in the run, {} now", now.get(key).unwrap_or(&serde_json::Value::Null)))
        .collect()
}

/// A fingerprint of a run's inputs (FNV-1a, 64 bits), stable across processes and
/// platforms: a run is resumed only with the inputs it started from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(u64);

impl Default for Fingerprint {
    fn default() -> Self {
        Self::new()
    }
}

impl Fingerprint {
    /// The fingerprint of nothing.
    pub fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    /// Adds bytes.
    pub fn eat_bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// Adds a number (its little-endian bytes).
    pub fn eat_u32(&mut self, x: u32) {
        self.eat_bytes(&x.to_le_bytes());
    }

    /// The fingerprint so far.
    pub fn finish(&self) -> u64 {
        self.0
    }
}

/// The dropout generator's seed at the start of `epoch` of a run seeded with `seed`:
/// seeding it per epoch makes a run resumed at an epoch boundary draw the masks of an
/// uninterrupted one.
pub fn epoch_dropout_seed(seed: u64, epoch: usize) -> u64 {
    seed.wrapping_mul(0x2545_F491_4F6C_DD1D).wrapping_add(epoch as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn early_stopping_counts_validations_since_the_best() {
        let stopping = EarlyStopping { patience: 2 };
        let (mut best, mut since) = (None, 0);
        let mut run = |v: f64, e: usize| stopping.observe(&mut best, &mut since, v, e);
        assert_eq!(run(0.1, 0), Verdict { improved: true, stop: false });
        assert_eq!(run(0.1, 1), Verdict { improved: false, stop: false }, "a tie is no improvement");
        assert_eq!(run(0.2, 2), Verdict { improved: true, stop: false });
        assert_eq!(run(0.0, 3), Verdict { improved: false, stop: false });
        assert_eq!(run(0.1, 4), Verdict { improved: false, stop: true });
        assert_eq!((best, since), (Some((0.2, 2)), 2));
    }

    #[test]
    fn a_stop_request_ends_the_epoch_at_a_checkpoint() {
        let mut never = Cadence::every_minutes(0.0);
        assert_eq!(never.after_step(false, 0, 3), AfterStep::Continue);
        assert_eq!(never.after_step(true, 1, 3), AfterStep::StopHere);
        assert_eq!(never.after_step(true, 2, 3), AfterStep::StopAtEpochEnd);
        let mut always = Cadence { every: Some(Duration::ZERO), last: Instant::now() };
        assert_eq!(always.after_step(false, 0, 3), AfterStep::Checkpoint);
        assert_eq!(always.after_step(false, 2, 3), AfterStep::Continue, "the epoch's end checkpoints anyway");
        assert!(!TimeBudget::minutes(None).spent());
        assert!(!TimeBudget::minutes(Some(60.0)).spent());
    }

    #[test]
    fn fingerprints_are_fnv1a() {
        // The published FNV-1a 64 test vectors (www.isthe.com/chongo/tech/comp/fnv).
        let of = |s: &str| {
            let mut f = Fingerprint::new();
            f.eat_bytes(s.as_bytes());
            f.finish()
        };
        assert_eq!(of(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(of("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(of("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn stems_name_epoch_and_batch() {
        assert_eq!(stem(3, 0), "3");
        assert_eq!(stem(3, 17), "3-17");
    }
}
