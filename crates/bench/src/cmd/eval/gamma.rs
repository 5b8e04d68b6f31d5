//! The acceptance threshold γ of each SpecGR method: given on the command line, else
//! the one `specgr tune` stored in the run directory, else the default, and in every
//! case said where it came from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::EvalArgs;
use super::method::MethodId;

/// γ when neither the command line nor a tuning gives one.
pub const DEFAULT_GAMMA: f32 = -1.4;

/// The file `specgr tune` writes in its directory.
pub const TUNED_FILE: &str = "gamma.json";

/// Where `specgr tune` keeps what it found for the TIGER model `tiger-<ids>-<preset>`:
/// `<runs>/<dataset>/tune-<ids>-<preset>/`.
pub fn tune_dir(run_dir: &recdata::RunDir, ids: crate::cmd::IdsName, preset: gr_model::TigerPreset) -> PathBuf {
    run_dir.tune(&ids.name(), preset.name())
}

/// The settings a tuned γ depends on besides the models: a γ tuned under other ones is
/// not used.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TuneSettings {
    /// `--reference` (`v1` or `v2`).
    pub reference: String,
    /// `--unseen-digits`, when given.
    pub unseen_digits: Option<String>,
    /// `--without`.
    pub without: Vec<String>,
    /// `--k`.
    pub k: usize,
    /// `--draft-size`.
    pub draft_size: usize,
    /// `--beam-size`.
    pub beam_size: usize,
}

impl TuneSettings {
    /// The settings of an evaluation.
    pub fn of(args: &EvalArgs) -> Self {
        use clap::ValueEnum;
        let name = |v: Option<clap::builder::PossibleValue>| v.map_or_else(String::new, |p| p.get_name().to_owned());
        Self {
            reference: name(args.reference.to_possible_value()),
            unseen_digits: args.unseen_digits.map(|u| name(u.to_possible_value())),
            without: args.without.iter().map(|c| name(c.to_possible_value())).collect(),
            k: args.k,
            draft_size: args.draft_size,
            beam_size: args.beam_size,
        }
    }

    /// The settings that differ from `other`'s, as `name ours (theirs)`.
    fn differences(&self, other: &Self) -> Vec<String> {
        let mut d = Vec::new();
        let mut check = |name: &str, a: String, b: String| {
            if a != b {
                d.push(format!("{name} {a} (tuned with {b})"));
            }
        };
        check("--reference", self.reference.clone(), other.reference.clone());
        check("--unseen-digits", format!("{:?}", self.unseen_digits), format!("{:?}", other.unseen_digits));
        check("--without", format!("{:?}", self.without), format!("{:?}", other.without));
        check("--k", self.k.to_string(), other.k.to_string());
        check("--draft-size", self.draft_size.to_string(), other.draft_size.to_string());
        check("--beam-size", self.beam_size.to_string(), other.beam_size.to_string());
        d
    }
}

/// One γ of the grid and each method's score at it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TuneRow {
    /// The γ tried.
    pub gamma: f32,
    /// Each method's overall metric at this γ, by method id.
    pub scores: BTreeMap<String, f64>,
}

/// What `specgr tune` found: the chosen γ per method and the whole grid.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tuned {
    /// The chosen γ per method id (`specgr-knn`, `specgr-aux`, `specgr-pp`).
    pub gammas: BTreeMap<String, f32>,
    /// The metric maximised, on the overall subset (`ndcg@50`).
    pub metric: String,
    /// The part tuned on (`valid`).
    pub part: String,
    /// Examples of that part used (a seeded sample), or all of them.
    pub examples: usize,
    /// The settings γ was tuned under.
    pub settings: TuneSettings,
    /// The grid, in the order tried (ties go to the first).
    pub rows: Vec<TuneRow>,
}

impl Tuned {
    /// Reads `<dir>/gamma.json`; `None` when there is none.
    pub fn read(dir: &Path) -> anyhow::Result<Option<Self>> {
        let path = dir.join(TUNED_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let tuned = serde_json::from_str(&text).with_context(|| {
            format!("{}: not a tuned-γ file `specgr tune` wrote (delete it, or run `specgr tune` again)", path.display())
        })?;
        Ok(Some(tuned))
    }

    /// Writes `<dir>/gamma.json` atomically.
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        crate::report::write_atomic(&dir.join(TUNED_FILE), serde_json::to_string_pretty(self)?.as_bytes())
    }
}

/// Where a method's γ came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// `--method-threshold`.
    MethodThreshold,
    /// `--threshold`.
    Threshold,
    /// `specgr tune`, stored in this file.
    Tuned(PathBuf),
    /// Nothing gave one: the default, for this reason.
    Default(String),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::MethodThreshold => f.write_str("--method-threshold"),
            Source::Threshold => f.write_str("--threshold"),
            Source::Tuned(path) => write!(f, "tuned on valid, {}", path.display()),
            Source::Default(why) => write!(f, "the default {DEFAULT_GAMMA}: {why}"),
        }
    }
}

/// The γ of each SpecGR method of a run, and where each came from.
#[derive(Debug, Clone, Default)]
pub struct Gammas(Vec<(MethodId, f32, Source)>);

impl Gammas {
    /// Resolves γ for the SpecGR methods among `args.methods`: `--method-threshold`,
    /// else `--threshold`, else the tuned γ in `tune_dir` (when tuned under the same
    /// settings), else [`DEFAULT_GAMMA`].
    pub fn resolve(args: &EvalArgs, tune_dir: &Path) -> anyhow::Result<Self> {
        let methods: Vec<MethodId> = args.methods.iter().copied().filter(|m| m.has_threshold()).collect();
        let tuned = match (methods.is_empty(), args.threshold) {
            (false, None) => Tuned::read(tune_dir)?,
            _ => None,
        };
        let path = tune_dir.join(TUNED_FILE);
        let mut out = Vec::new();
        for m in methods {
            if let Some(&(_, g)) = args.method_threshold.iter().rev().find(|(x, _)| *x == m) {
                out.push((m, g, Source::MethodThreshold));
            } else if let Some(g) = args.threshold {
                out.push((m, g, Source::Threshold));
            } else {
                let (g, source) = match &tuned {
                    None => (DEFAULT_GAMMA, Source::Default(format!("not tuned (no {}; `specgr tune` writes it)", path.display()))),
                    Some(t) => match (t.gammas.get(m.id()), t.settings.differences(&TuneSettings::of(args))) {
                        (None, _) => (DEFAULT_GAMMA, Source::Default(format!("{} holds no γ for {m}", path.display()))),
                        (Some(&g), d) if d.is_empty() => (g, Source::Tuned(path.clone())),
                        (Some(_), d) => (
                            DEFAULT_GAMMA,
                            Source::Default(format!("the γ in {} was tuned with other settings: {}", path.display(), d.join(", "))),
                        ),
                    },
                };
                out.push((m, g, source));
            }
        }
        Ok(Self(out))
    }

    /// γ of `method`: its resolved value, or the default for a method not resolved here.
    pub fn of(&self, method: MethodId) -> f32 {
        self.0.iter().find(|(m, _, _)| *m == method).map_or(DEFAULT_GAMMA, |&(_, g, _)| g)
    }

    /// Each method's γ by id, for the report's configuration: as `f64`s that print as
    /// the `f32` was given (−1.2, not −1.2000000476837158).
    pub fn by_id(&self) -> BTreeMap<&'static str, f64> {
        self.0.iter().map(|&(m, g, _)| (m.id(), g.to_string().parse().unwrap_or(f64::from(g)))).collect()
    }

    /// `SpecGR-KNN -2.2, SpecGR_Aux -5 (tuned on valid, <path>)`: the values, each group
    /// of one source followed by it; empty when no SpecGR method runs.
    pub fn describe(&self) -> String {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for (m, g, source) in &self.0 {
            let source = source.to_string();
            let value = format!("{} {g}", m.name());
            match groups.iter_mut().find(|(s, _)| *s == source) {
                Some((_, values)) => values.push(value),
                None => groups.push((source, vec![value])),
            }
        }
        groups.into_iter().map(|(s, v)| format!("{} ({s})", v.join(", "))).collect::<Vec<_>>().join("; ")
    }
}
