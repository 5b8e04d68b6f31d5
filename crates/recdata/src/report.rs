//! Result reports: one directory per experiment run, holding the table as the paper
//! prints it (`results.md`), one row per method × subset (`results.csv`,
//! `results.json`), and what it takes to make it again (command, config, seed, git
//! revision, machine). Every file is written atomically.
//!
//! `specgr` writes reports (its `report` module adds the revision and machine);
//! `cargo xtask` and `specgr plot` read them back through the same types.

use std::fmt::Write as _;
use std::path::Path;

use crate::fsio::{WriteError, write_atomic};
use crate::metrics::{Subset, SubsetMetrics};

/// A report that could not be read or written, naming its file.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The report file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a `results.json` that [`Report::write`] wrote.
    #[error("{path}: not a report that `specgr` wrote: {source}")]
    Parse {
        /// The report file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A file of the report could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The report could not be serialised (a configuration value JSON cannot hold).
    #[error("serialising the report: {0}")]
    Serialise(#[from] serde_json::Error),
}

/// One method on one subset of examples.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ResultRow {
    /// The method's name as the report prints it (for `specgr eval`, the paper's:
    /// `SpecGR_Aux`).
    pub method: String,
    /// The method's id, as the command line names it (`specgr-aux`), for `specgr eval`'s
    /// methods; absent in other reports and in those written before methods had ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `overall`, `in-sample` or `unseen`.
    pub subset: String,
    /// Examples in the subset.
    pub examples: usize,
    /// Recall@5, when measured (the leave-one-out protocol reports K = 5 and 10).
    #[serde(rename = "recall@5", default, skip_serializing_if = "Option::is_none")]
    pub recall_5: Option<f64>,
    /// NDCG@5, when measured.
    #[serde(rename = "ndcg@5", default, skip_serializing_if = "Option::is_none")]
    pub ndcg_5: Option<f64>,
    /// Recall@10.
    #[serde(rename = "recall@10", deserialize_with = "nan_if_null")]
    pub recall_10: f64,
    /// NDCG@10.
    #[serde(rename = "ndcg@10", deserialize_with = "nan_if_null")]
    pub ndcg_10: f64,
    /// Recall@50.
    #[serde(rename = "recall@50", deserialize_with = "nan_if_null")]
    pub recall_50: f64,
    /// NDCG@50.
    #[serde(rename = "ndcg@50", deserialize_with = "nan_if_null")]
    pub ndcg_50: f64,
    /// Standard errors over the subset's examples of R@10, N@10, R@50 and N@50, in that
    /// order (absent where not computed and in reports written before they were).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standard_errors: Option<[Option<f64>; 4]>,
    /// Wall seconds per query for the whole method (the same on every subset row).
    pub seconds_per_query: f64,
    /// Share of recommended items that are unseen (the same on every subset row).
    pub unseen_share_of_output: f64,
}

impl ResultRow {
    /// The three subset rows of one method's metrics. A cut-off that was not computed
    /// (the list was shorter) is NaN: `–` in the table, empty in the CSV, `null` in JSON.
    pub fn from_metrics(method: &str, m: &SubsetMetrics, seconds_per_query: f64, unseen_share: f64) -> Vec<Self> {
        Subset::ALL
            .iter()
            .map(|&s| {
                let at = |k| m.get(s, k);
                let (r5, r10, r50) = (at(5), at(10), at(50));
                ResultRow {
                    method: method.to_owned(),
                    id: None,
                    subset: s.name().to_owned(),
                    examples: r10.or(r50).map_or(0, |x| x.examples),
                    recall_5: r5.map(|x| x.recall),
                    ndcg_5: r5.map(|x| x.ndcg),
                    recall_10: r10.map_or(f64::NAN, |x| x.recall),
                    ndcg_10: r10.map_or(f64::NAN, |x| x.ndcg),
                    recall_50: r50.map_or(f64::NAN, |x| x.recall),
                    ndcg_50: r50.map_or(f64::NAN, |x| x.ndcg),
                    standard_errors: Some([
                        r10.and_then(|x| x.recall_se),
                        r10.and_then(|x| x.ndcg_se),
                        r50.and_then(|x| x.recall_se),
                        r50.and_then(|x| x.ndcg_se),
                    ]),
                    seconds_per_query,
                    unseen_share_of_output: unseen_share,
                }
            })
            .collect()
    }

    /// The row with the method's id set.
    pub fn with_id(self, id: &str) -> Self {
        Self { id: Some(id.to_owned()), ..self }
    }

    /// Whether this row is of `method`: its id, or else its printed name.
    pub fn is_method(&self, method: &str) -> bool {
        self.id.as_deref() == Some(method) || self.method == method
    }

    /// A metric by the name the JSON gives it: `recall@5`, `ndcg@5`, `recall@10`,
    /// `ndcg@10`, `recall@50`, `ndcg@50`, `seconds_per_query` or
    /// `unseen_share_of_output`. `None` for another name and for a cut-off that was not
    /// computed.
    pub fn metric(&self, name: &str) -> Option<f64> {
        let value = match name {
            "recall@5" => self.recall_5?,
            "ndcg@5" => self.ndcg_5?,
            "recall@10" => self.recall_10,
            "ndcg@10" => self.ndcg_10,
            "recall@50" => self.recall_50,
            "ndcg@50" => self.ndcg_50,
            "seconds_per_query" => self.seconds_per_query,
            "unseen_share_of_output" => self.unseen_share_of_output,
            _ => return None,
        };
        (!value.is_nan()).then_some(value)
    }

    /// The names [`metric`](Self::metric) knows.
    pub const METRICS: [&str; 8] = [
        "recall@5",
        "ndcg@5",
        "recall@10",
        "ndcg@10",
        "recall@50",
        "ndcg@50",
        "seconds_per_query",
        "unseen_share_of_output",
    ];
}

/// How the report was made.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Provenance {
    /// The exact command line.
    pub command: String,
    /// The seed of the run.
    pub seed: u64,
    /// `git describe --always --dirty` of the working tree, or `unknown`.
    pub git_revision: String,
    /// The machine, in words.
    pub machine: String,
    /// When it finished (UTC, RFC 3339).
    pub finished: String,
    /// The resolved configuration.
    pub config: serde_json::Value,
}

impl Provenance {
    /// The provenance of the current process (its command line, and now as the time
    /// it finished), on the revision and machine the caller names: the binary that
    /// writes the report knows those (`bench::report::provenance`).
    pub fn new(seed: u64, config: serde_json::Value, git_revision: String, machine: String) -> Self {
        Self {
            command: std::env::args().collect::<Vec<_>>().join(" "),
            seed,
            git_revision,
            machine,
            finished: utc_now(),
            config,
        }
    }
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`, without a date library.
fn utc_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// A report: a title, the rows, and the provenance.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Report {
    /// What the table shows.
    pub title: String,
    /// The dataset.
    pub dataset: String,
    /// The rows, one per method × subset.
    pub rows: Vec<ResultRow>,
    /// Free-form notes printed under the table.
    pub notes: Vec<String>,
    /// How it was made.
    pub provenance: Provenance,
}

impl Report {
    /// Reads a `results.json` that [`Report::write`] wrote.
    pub fn read(path: &Path) -> Result<Self, ReportError> {
        let text = std::fs::read_to_string(path).map_err(|source| ReportError::Read { path: path.into(), source })?;
        serde_json::from_str(&text).map_err(|source| ReportError::Parse { path: path.into(), source })
    }

    /// The row of `method` (its id, or its printed name) on `subset`.
    pub fn row(&self, method: &str, subset: &str) -> Option<&ResultRow> {
        self.rows.iter().find(|r| r.is_method(method) && r.subset == subset)
    }

    /// The table in the paper's layout: methods down, subsets × metrics across.
    pub fn to_markdown(&self) -> String {
        let mut s = format!("# {}\n\nDataset `{}`.\n\n", self.title, self.dataset);
        let subsets: Vec<&str> = Subset::ALL.iter().map(|s| s.name()).collect();
        // Examples per subset (the same for every method evaluated on one test set).
        let size = |sub: &str| {
            let mut sizes: Vec<usize> = self.rows.iter().filter(|r| r.subset == sub).map(|r| r.examples).collect();
            sizes.dedup();
            match sizes.as_slice() {
                [n] => format!(" (n = {n})"),
                _ => String::new(),
            }
        };
        s += "| method |";
        for sub in &subsets {
            let _ = write!(s, " {sub}{} R@10 | N@10 | R@50 | N@50 |", size(sub));
        }
        s += " s/query | unseen in output |\n|---|";
        s += &"---:|".repeat(4 * subsets.len() + 2);
        s += "\n";
        let mut methods: Vec<&str> = Vec::new();
        for r in &self.rows {
            if !methods.contains(&r.method.as_str()) {
                methods.push(&r.method);
            }
        }
        for m in &methods {
            let _ = write!(s, "| {m} |");
            let mut tail = (0.0, 0.0);
            for sub in &subsets {
                match self.rows.iter().find(|r| r.method == *m && r.subset == *sub) {
                    Some(r) => {
                        let _ = write!(s, " {} | {} | {} | {} |", cell(r.recall_10), cell(r.ndcg_10), cell(r.recall_50), cell(r.ndcg_50));
                        tail = (r.seconds_per_query, r.unseen_share_of_output);
                    }
                    None => s += " – | – | – | – |",
                }
            }
            let _ = writeln!(s, " {:.4} | {:.1}% |", tail.0, 100.0 * tail.1);
        }
        if self.rows.iter().any(|r| r.standard_errors.is_some_and(|se| se.iter().any(Option::is_some))) {
            s += "\n95 % confidence half-widths (1.96 standard errors over the subset's examples):\n\n| method |";
            for sub in &subsets {
                let _ = write!(s, " {sub} ±R@10 | ±N@10 | ±R@50 | ±N@50 |");
            }
            s += "\n|---|";
            s += &"---:|".repeat(4 * subsets.len());
            s += "\n";
            for m in &methods {
                let _ = write!(s, "| {m} |");
                for sub in &subsets {
                    let se = self.rows.iter().find(|r| r.method == *m && r.subset == *sub).and_then(|r| r.standard_errors);
                    for i in 0..4 {
                        let _ = write!(s, " {} |", se.and_then(|se| se[i]).map_or("–".into(), |x| format!("{:.4}", 1.96 * x)));
                    }
                }
                s += "\n";
            }
        }
        if self.rows.iter().any(|r| r.recall_5.is_some()) {
            s += "\nAt K = 5 (the leave-one-out protocol's other cut-off):\n\n| method |";
            for sub in &subsets {
                let _ = write!(s, " {sub} R@5 | N@5 |");
            }
            s += "\n|---|";
            s += &"---:|".repeat(2 * subsets.len());
            s += "\n";
            for m in &methods {
                let _ = write!(s, "| {m} |");
                for sub in &subsets {
                    match self.rows.iter().find(|r| r.method == *m && r.subset == *sub) {
                        Some(ResultRow { recall_5: Some(r), ndcg_5: Some(n), .. }) => {
                            let _ = write!(s, " {r:.4} | {n:.4} |");
                        }
                        _ => s += " – | – |",
                    }
                }
                s += "\n";
            }
        }
        if !self.notes.is_empty() {
            s += "\n";
            for n in &self.notes {
                let _ = writeln!(s, "- {n}");
            }
        }
        let p = &self.provenance;
        let _ = write!(
            s,
            "\n## Provenance\n\n- Command: `{}`\n- Seed: {}\n- Git revision: {}\n- Machine: {}\n- Finished: {}\n\nConfiguration:\n\n```json\n{}\n```\n",
            p.command,
            p.seed,
            p.git_revision,
            p.machine,
            p.finished,
            serde_json::to_string_pretty(&p.config).unwrap_or_default()
        );
        s
    }

    /// One CSV line per row, with a header.
    pub fn to_csv(&self) -> String {
        let mut s = String::from(
            "method,subset,examples,recall@10,ndcg@10,recall@50,ndcg@50,seconds_per_query,unseen_share_of_output,recall@5,ndcg@5\n",
        );
        let opt = |x: Option<f64>| x.map_or(String::new(), |x| x.to_string());
        let num = |x: f64| if x.is_nan() { String::new() } else { x.to_string() };
        for r in &self.rows {
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},{},{},{},{},{}",
                csv_field(&r.method),
                r.subset,
                r.examples,
                num(r.recall_10),
                num(r.ndcg_10),
                num(r.recall_50),
                num(r.ndcg_50),
                r.seconds_per_query,
                r.unseen_share_of_output,
                opt(r.recall_5),
                opt(r.ndcg_5)
            );
        }
        s
    }

    /// Writes `results.md`, `results.csv` and `results.json` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), ReportError> {
        let json = serde_json::to_string_pretty(self)?;
        write_atomic(&dir.join("results.md"), self.to_markdown().as_bytes())?;
        write_atomic(&dir.join("results.csv"), self.to_csv().as_bytes())?;
        Ok(write_atomic(&dir.join("results.json"), json.as_bytes())?)
    }
}

/// A metric in the markdown table: four decimals, `–` when not computed (NaN).
fn cell(x: f64) -> String {
    if x.is_nan() { "–".into() } else { format!("{x:.4}") }
}

/// Reads a metric that JSON holds as `null` (not computed; serde_json writes NaN so) as NaN.
fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(<Option<f64> as serde::Deserialize>::deserialize(d)?.unwrap_or(f64::NAN))
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}



#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::RankingMetrics;

    fn report() -> Report {
        let m = |r, n, e| RankingMetrics::new(0, r, n, e);
        let metrics = SubsetMetrics {
            subsets: vec![
                (Subset::Overall, vec![RankingMetrics { k: 10, ..m(0.1, 0.05, 4) }, RankingMetrics { k: 50, ..m(0.2, 0.07, 4) }]),
                (Subset::InSample, vec![RankingMetrics { k: 10, ..m(0.1, 0.05, 3) }, RankingMetrics { k: 50, ..m(0.3, 0.08, 3) }]),
                (Subset::Unseen, vec![RankingMetrics { k: 10, ..m(0.0, 0.0, 1) }, RankingMetrics { k: 50, ..m(0.0, 0.0, 1) }]),
            ],
        };
        Report {
            title: "Table 1".into(),
            dataset: "synthetic".into(),
            rows: ResultRow::from_metrics("TIGER, beam 50", &metrics, 0.01, 0.0),
            notes: vec!["a note".into()],
            provenance: Provenance::new(7, serde_json::json!({"k": 50}), "abc1234".into(), "a test machine".into()),
        }
    }

    #[test]
    fn writes_markdown_csv_and_json_that_round_trip() {
        let r = report();
        let dir = tempfile::tempdir().unwrap();
        r.write(dir.path()).unwrap();
        let md = std::fs::read_to_string(dir.path().join("results.md")).unwrap();
        assert!(md.contains("| TIGER, beam 50 | 0.1000 | 0.0500 | 0.2000 | 0.0700 |"), "{md}");
        assert!(md.contains("| overall (n = 4) R@10 |") && md.contains(" unseen (n = 1) R@10 |"), "{md}");
        assert!(!md.contains("confidence"), "no standard errors were given: {md}");
        assert!(md.contains("Seed: 7"));
        let csv = std::fs::read_to_string(dir.path().join("results.csv")).unwrap();
        assert_eq!(csv.lines().count(), 4);
        assert!(csv.lines().nth(1).unwrap().starts_with("\"TIGER, beam 50\",overall,4,0.1,"));
        let back: Report = serde_json::from_str(&std::fs::read_to_string(dir.path().join("results.json")).unwrap()).unwrap();
        assert_eq!(back.rows, r.rows);
        assert!(std::fs::read_dir(dir.path()).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().ends_with(".tmp")));
    }

    #[test]
    fn k5_metrics_get_their_own_table_and_columns_when_measured() {
        let plain = report();
        assert!(!plain.to_markdown().contains("R@5 |"), "no K = 5 table unless measured");
        assert!(plain.to_csv().lines().nth(1).unwrap().ends_with(",,"), "empty K = 5 cells");
        let m = |k, r, n| RankingMetrics::new(k, r, n, 4);
        let metrics = SubsetMetrics {
            subsets: vec![
                (Subset::Overall, vec![m(5, 0.25, 0.125), m(10, 0.5, 0.25), m(50, 0.75, 0.3)]),
                (Subset::InSample, vec![m(10, 0.5, 0.25), m(50, 0.75, 0.3)]),
                (Subset::Unseen, vec![m(10, 0.5, 0.25), m(50, 0.75, 0.3)]),
            ],
        };
        let r = Report { rows: ResultRow::from_metrics("TIGER", &metrics, 0.01, 0.0), ..plain };
        assert_eq!((r.rows[0].recall_5, r.rows[0].ndcg_5), (Some(0.25), Some(0.125)));
        assert_eq!(r.rows[1].recall_5, None, "subsets measured without K = 5 stay empty");
        let md = r.to_markdown();
        assert!(md.contains("| overall R@5 | N@5 |") && md.contains("| TIGER | 0.2500 | 0.1250 | – | – |"), "{md}");
        assert!(r.to_csv().lines().nth(1).unwrap().ends_with(",0.25,0.125"), "{}", r.to_csv());
        let back: Report = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back.rows, r.rows);
        assert!(serde_json::to_string(&plain_row()).unwrap().find("\"recall@5\"").is_none(), "absent, not null");
    }

    /// With K = 10 the @50 columns were not computed: they stay empty (#20: `--k 10` used
    /// to repeat the @10 values there).
    #[test]
    fn cut_offs_that_were_not_computed_stay_empty() {
        let m = |k, r, n| RankingMetrics::new(k, r, n, 4);
        let only_10 = vec![m(10, 0.5, 0.25)];
        let metrics = SubsetMetrics {
            subsets: vec![(Subset::Overall, only_10.clone()), (Subset::InSample, only_10.clone()), (Subset::Unseen, only_10)],
        };
        let r = Report { rows: ResultRow::from_metrics("TIGER", &metrics, 0.01, 0.0), ..report() };
        let md = r.to_markdown();
        assert!(md.contains("| TIGER | 0.5000 | 0.2500 | – | – |"), "{md}");
        let csv = r.to_csv();
        assert!(csv.lines().nth(1).unwrap().starts_with("TIGER,overall,4,0.5,0.25,,,"), "{csv}");
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"recall@50\":null"), "{json}");
        let back: Report = serde_json::from_str(&json).unwrap();
        assert!(back.rows[0].recall_50.is_nan() && back.rows[0].ndcg_50.is_nan());
        assert_eq!(back.rows[0].recall_10, 0.5);
    }

    /// Evaluated metrics carry standard errors; the report prints their 95 % half-widths.
    #[test]
    fn reports_show_subset_sizes_and_confidence_half_widths() {
        use crate::metrics::metrics_at;
        let ranks = [Some(1), None, Some(30), None];
        let at = |k| metrics_at(&ranks, k);
        let metrics = SubsetMetrics {
            subsets: vec![
                (Subset::Overall, vec![at(10), at(50)]),
                (Subset::InSample, vec![at(10), at(50)]),
                (Subset::Unseen, vec![metrics_at(&[None], 10), metrics_at(&[None], 50)]),
            ],
        };
        let r = Report { rows: ResultRow::from_metrics("TIGER", &metrics, 0.01, 0.0), ..report() };
        let se = r.rows[0].standard_errors.unwrap();
        // R@10: one hit of 4, sample sd 0.5, standard error 0.25.
        assert!((se[0].unwrap() - 0.25).abs() < 1e-12, "{se:?}");
        assert_eq!(r.rows[2].standard_errors.unwrap(), [None; 4], "one unseen example has no spread");
        let md = r.to_markdown();
        assert!(md.contains("95 % confidence half-widths"), "{md}");
        assert!(md.contains("| TIGER | 0.4900 |"), "1.96 × 0.25: {md}");
        let back: Report = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back.rows, r.rows);
    }

    #[test]
    fn metrics_are_read_by_their_json_names() {
        let r = plain_row();
        assert_eq!(r.metric("recall@10"), Some(0.1));
        assert_eq!(r.metric("ndcg@50"), Some(0.07));
        assert_eq!(r.metric("recall@5"), None, "not measured");
        assert_eq!(r.metric("recall@20"), None, "not a metric of reports");
        let json = serde_json::to_value(&r).unwrap();
        for name in ResultRow::METRICS {
            let in_json = json.get(name).and_then(serde_json::Value::as_f64);
            assert_eq!(r.metric(name), in_json, "{name}: the name the JSON gives it");
        }
    }

    fn plain_row() -> ResultRow {
        report().rows.remove(0)
    }

    #[test]
    fn utc_dates_are_well_formed() {
        let t = utc_now();
        assert_eq!(t.len(), 20);
        assert!(t.starts_with("20") && t.ends_with('Z'));
    }
}
