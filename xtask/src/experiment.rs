//! Experiment definitions (`experiments/*.toml`) and how they expand into `specgr eval` runs.
//!
//! An experiment names a dataset, the `specgr eval` settings shared by every run, an
//! optional sweep of one setting (Figure 3's δ, β, γ curves), and an optional tuning
//! step that picks a setting on the validation part before the test runs (the paper
//! tunes γ on valid). Unknown keys and unknown settings are errors that list what is
//! expected.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};

/// The `specgr eval` settings an experiment may give (its command-line flags without `--`).
pub const EVAL_SETTINGS: &[&str] = &[
    "methods",
    "ids",
    "preset",
    "part",
    "limit",
    "sample",
    "seed",
    "k",
    "draft-size",
    "beam-size",
    "threshold",
    "batch-size",
    "runs",
    "without",
    "reference",
    "tiger-beams",
    "epsilon",
    "method-threshold",
    "repeat",
    "subset-size",
    "score-chunk",
    "ensemble-weight",
];

/// A setting's value.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(untagged)]
pub enum Value {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string (lists of methods are comma-separated strings).
    Str(String),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => f.write_str(s),
        }
    }
}

/// Sweep one setting over values.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sweep {
    /// The setting (one of [`EVAL_SETTINGS`]).
    pub setting: String,
    /// Its values, one run each.
    pub values: Vec<Value>,
}

/// Pick a setting on another part (valid) before the runs.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tune {
    /// The setting (one of [`EVAL_SETTINGS`]), e.g. `threshold`.
    pub setting: String,
    /// The candidate values.
    pub values: Vec<Value>,
    /// The method whose metric decides: its id, as `specgr eval --methods` takes it
    /// (`specgr-knn`), or its name in the reports' tables (`SpecGR-KNN`).
    pub method: String,
    /// The deciding metric: `recall@10`, `ndcg@10`, `recall@50` or `ndcg@50`, on the overall subset.
    pub metric: String,
    /// Settings that differ while tuning (e.g. `part = "valid"`, `sample = 1000`).
    #[serde(default)]
    pub eval: BTreeMap<String, Value>,
}

/// One experiment file.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// The name; results go to `<out>/<dataset>/<name>/` (`cargo xtask sweep --out`, or
    /// `experiments/results/` with `--record`).
    pub name: String,
    /// What the paper calls it (Table 1, Figure 3, ...).
    pub title: String,
    /// The dataset.
    pub dataset: String,
    /// `specgr eval` settings shared by every run.
    #[serde(default)]
    pub eval: BTreeMap<String, Value>,
    /// An optional sweep.
    pub sweep: Option<Sweep>,
    /// An optional tuning step.
    pub tune: Option<Tune>,
}

/// The metrics a tuning step may maximise.
pub const METRICS: &[&str] = &["recall@10", "ndcg@10", "recall@50", "ndcg@50"];

fn check_setting(path: &Path, where_: &str, key: &str) -> Result<()> {
    if !EVAL_SETTINGS.contains(&key) {
        bail!("{}: {where_}: unknown setting `{key}`; expected one of {}", path.display(), EVAL_SETTINGS.join(", "));
    }
    Ok(())
}

impl Experiment {
    /// Reads and checks an experiment file.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text, path)
    }

    /// Parses and checks an experiment; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let e: Experiment = toml::from_str(text).map_err(|err| {
            anyhow::anyhow!(
                "{}: {err}\nexpected keys: name, title, dataset, [eval], [sweep] (setting, values), \
                 [tune] (setting, values, method, metric, [tune.eval])",
                path.display()
            )
        })?;
        for key in e.eval.keys() {
            check_setting(path, "[eval]", key)?;
        }
        if let Some(s) = &e.sweep {
            check_setting(path, "[sweep]", &s.setting)?;
            if s.values.is_empty() {
                bail!("{}: [sweep] has no values", path.display());
            }
        }
        if let Some(t) = &e.tune {
            check_setting(path, "[tune]", &t.setting)?;
            for key in t.eval.keys() {
                check_setting(path, "[tune.eval]", key)?;
            }
            if !METRICS.contains(&t.metric.as_str()) {
                bail!("{}: [tune] metric `{}`; expected one of {}", path.display(), t.metric, METRICS.join(", "));
            }
            if t.values.is_empty() {
                bail!("{}: [tune] has no values", path.display());
            }
        }
        Ok(e)
    }

    /// The `specgr eval` arguments for `settings` (in a stable order); an empty
    /// string means "not set" (a sweep's baseline, e.g. `without = ""`).
    pub fn args(dataset: &str, settings: &BTreeMap<String, Value>) -> Vec<String> {
        let mut args = vec!["eval".to_owned(), "--dataset".to_owned(), dataset.to_owned()];
        for (k, v) in settings {
            if matches!(v, Value::Str(s) if s.is_empty()) {
                continue;
            }
            args.push(format!("--{k}"));
            args.push(v.to_string());
        }
        args
    }
}

/// Reads the overall `metric` of `method` (its id, or its name in the table) from a
/// `results.json` report.
pub fn read_metric(report: &Path, method: &str, metric: &str) -> Result<f64> {
    use recdata::report::{Report, ResultRow};
    if !ResultRow::METRICS.contains(&metric) {
        bail!("unknown metric `{metric}` (reports hold: {})", ResultRow::METRICS.join(", "));
    }
    let r = Report::read(report)?;
    r.row(method, "overall").and_then(|row| row.metric(metric)).with_context(|| {
        let known: Vec<&str> =
            r.rows.iter().filter(|row| row.subset == "overall").map(|row| row.id.as_deref().unwrap_or(&row.method)).collect();
        format!("{}: no overall `{metric}` for method `{method}` (it has: {})", report.display(), known.join(", "))
    })
}
