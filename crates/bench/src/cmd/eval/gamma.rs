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

fn scored_digits() -> String {
    "scored-digits".to_owned()
}

/// The settings a tuned γ depends on besides the models: a γ tuned under other ones is
/// not used.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TuneSettings {
    /// `--reference` (`v1` or `v2`).
    pub reference: String,
    /// `--unseen-digits`, when given.
    pub unseen_digits: Option<String>,
    /// `--normalisation` (γ files from before it existed were tuned with `scored-digits`).
    #[serde(default = "scored_digits")]
    pub normalisation: String,
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
    /// The settings of an evaluation (δ and β: the run's, `--draft-size` and
    /// `--beam-size`; [`TuneSettings::of_method`] for one method's own).
    pub fn of(args: &EvalArgs) -> Self {
        use clap::ValueEnum;
        let name = |v: Option<clap::builder::PossibleValue>| v.map_or_else(String::new, |p| p.get_name().to_owned());
        Self {
            reference: name(args.spec.reference.to_possible_value()),
            unseen_digits: args.spec.unseen_digits.map(|u| name(u.to_possible_value())),
            normalisation: name(args.spec.normalisation.to_possible_value()),
            without: args.spec.without.iter().map(|c| name(c.to_possible_value())).collect(),
            k: args.spec.k,
            draft_size: args.spec.draft_size,
            beam_size: args.spec.beam_size,
        }
    }

    /// The settings `method` runs under in an evaluation: its own δ and β
    /// (`--method-draft-size`, `--method-beam-size`) where given.
    pub fn of_method(args: &EvalArgs, method: MethodId) -> Self {
        Self { draft_size: args.draft_size(method), beam_size: args.beam_size(method), ..Self::of(args) }
    }

    /// The settings that differ from those `tuned` was tuned with, as
    /// `--k 20 (tuned with 50)`; `flag` names the flag each came from (a method's own δ
    /// is `--method-draft-size specgr-aux=20`, not `--draft-size 20`).
    fn differences(&self, tuned: &Self, flag: impl Fn(&'static str, &str) -> String) -> Vec<String> {
        let mut d = Vec::new();
        let mut check = |name: &'static str, a: String, b: String| {
            if a != b {
                d.push(format!("{} (tuned with {b})", flag(name, &a)));
            }
        };
        check("--reference", self.reference.clone(), tuned.reference.clone());
        check("--unseen-digits", format!("{:?}", self.unseen_digits), format!("{:?}", tuned.unseen_digits));
        check("--normalisation", self.normalisation.clone(), tuned.normalisation.clone());
        check("--without", format!("{:?}", self.without), format!("{:?}", tuned.without));
        check("--k", self.k.to_string(), tuned.k.to_string());
        check("--draft-size", self.draft_size.to_string(), tuned.draft_size.to_string());
        check("--beam-size", self.beam_size.to_string(), tuned.beam_size.to_string());
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
        Ok(recdata::fsio::write_atomic(&dir.join(TUNED_FILE), serde_json::to_string_pretty(self)?.as_bytes())?)
    }
}

/// How a setting of `method` is named in words: `--draft-size 20`, or
/// `--method-draft-size specgr-aux=20` where the method has its own.
fn own_flag(args: &EvalArgs, method: MethodId) -> impl Fn(&'static str, &str) -> String + '_ {
    move |flag, value| {
        let own = match flag {
            "--draft-size" => args.method_draft_size.iter().any(|(m, _)| *m == method).then_some("--method-draft-size"),
            "--beam-size" => args.method_beam_size.iter().any(|(m, _)| *m == method).then_some("--method-beam-size"),
            _ => None,
        };
        match own {
            Some(own) => format!("{own} {method}={value}"),
            None => format!("{flag} {value}"),
        }
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
                    Some(t) => match (t.gammas.get(m.id()), TuneSettings::of_method(args, m).differences(&t.settings, own_flag(args, m))) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn eval_args(line: &str) -> EvalArgs {
        use clap::Parser;
        let args = ["specgr", "eval", "--methods", "tiger,specgr-knn,specgr-aux"].into_iter().chain(line.split_whitespace());
        match crate::cli::Cli::try_parse_from(args).unwrap().command {
            crate::cli::Command::Eval(a) => a,
            other => panic!("{other:?}"),
        }
    }

    fn tuned(settings: TuneSettings) -> Tuned {
        Tuned {
            gammas: [("specgr-knn".to_owned(), -2.2), ("specgr-aux".to_owned(), -5.0)].into(),
            metric: "ndcg@50".into(),
            part: "valid".into(),
            examples: 300,
            settings,
            rows: Vec::new(),
        }
    }

    /// `line`'s γ of SpecGR-KNN and SpecGR_Aux with `dir` as the tune directory, and
    /// each one's source in words.
    fn check(dir: &Path, line: &str, expected: [(f32, &str); 2]) {
        let gammas = Gammas::resolve(&eval_args(line), dir).unwrap();
        for ((m, g, source), (want, words)) in gammas.0.iter().zip(expected) {
            assert_eq!(*g, want, "{m} with `{line}`");
            assert!(source.to_string().contains(words), "{m} with `{line}`: {source}");
        }
        assert_eq!(gammas.0.len(), 2, "only the SpecGR methods have a γ");
    }

    #[test]
    fn gamma_comes_from_the_flags_then_the_tuning_then_the_default() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        check(d, "", [(DEFAULT_GAMMA, "not tuned"), (DEFAULT_GAMMA, "not tuned")]);
        tuned(TuneSettings::of(&eval_args(""))).write(d).unwrap();
        check(d, "", [(-2.2, "tuned on valid"), (-5.0, "tuned on valid")]);
        check(d, "--threshold -3", [(-3.0, "--threshold"), (-3.0, "--threshold")]);
        check(d, "--method-threshold specgr-unisrec=-4", [(-2.2, "tuned on valid"), (-4.0, "--method-threshold")]);
        check(d, "--k 20", [(DEFAULT_GAMMA, "--k 20 (tuned with 50)"), (DEFAULT_GAMMA, "other settings")]);
        check(d, "--reference v1", [(DEFAULT_GAMMA, "--reference v1 (tuned with v2)"), (DEFAULT_GAMMA, "v1")]);
        // A method's own δ or β is a setting of its own: only its tuned γ lapses.
        check(d, "--method-draft-size specgr-aux=20", [(-2.2, "tuned on valid"), (DEFAULT_GAMMA, "--method-draft-size specgr-aux=20 (tuned with 50)")]);
        check(d, "--method-beam-size specgr-knn=20", [(DEFAULT_GAMMA, "--method-beam-size specgr-knn=20 (tuned with 50)"), (-5.0, "tuned on valid")]);
        check(d, "--draft-size 20", [(DEFAULT_GAMMA, "--draft-size 20 (tuned with 50)"), (DEFAULT_GAMMA, "--draft-size 20")]);
        let gammas = Gammas::resolve(&eval_args(""), d).unwrap();
        assert_eq!(gammas.describe(), format!("SpecGR-KNN -2.2, SpecGR_Aux -5 (tuned on valid, {})", d.join(TUNED_FILE).display()));
        assert_eq!(gammas.by_id()["specgr-knn"], -2.2, "printed as given");
    }

    #[test]
    fn each_specgr_method_runs_with_its_own_draft_and_beam_size_where_given() {
        let args = eval_args("--draft-size 30 --beam-size 40 --method-draft-size specgr-aux=20,specgr-aux=10 --method-beam-size specgr-knn=5");
        let config = |m| crate::cmd::eval::methods::spec_config(&args, m, -2.0);
        let (aux, knn, pp) = (config(MethodId::SpecgrAux), config(MethodId::SpecgrKnn), config(MethodId::SpecgrPp));
        assert_eq!((aux.draft_size, aux.beam_size), (10, 40), "the last value given for a method wins");
        assert_eq!((knn.draft_size, knn.beam_size), (30, 5));
        assert_eq!((pp.draft_size, pp.beam_size), (30, 40), "no own setting: the run's");
        assert_eq!(args.own_settings_text(), "SpecGR_Aux δ 10, SpecGR-KNN β 5");
        assert_eq!(eval_args("").own_settings_text(), "");
        assert!(args.unused_own_settings().is_empty());
        // A setting for a method that does not run is named (eval warns), not shown as used.
        let typo = eval_args("--method-draft-size specgr-pp=20 --method-threshold specgr-pp=-2,specgr-knn=-3");
        assert_eq!(typo.own_settings_text(), "");
        assert_eq!(typo.unused_own_settings(), [("--method-threshold", "specgr-pp"), ("--method-draft-size", "specgr-pp")]);
    }

    #[test]
    fn a_damaged_tuning_file_is_an_error_that_names_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(TUNED_FILE), "{ not json").unwrap();
        let err = format!("{:#}", Gammas::resolve(&eval_args(""), dir.path()).unwrap_err());
        assert!(err.contains(TUNED_FILE) && err.contains("specgr tune"), "{err}");
        // Not read when every γ is given.
        assert!(Gammas::resolve(&eval_args("--threshold -2"), dir.path()).is_ok());
    }
}
