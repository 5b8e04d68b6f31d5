//! `specgr plot curve`: TIGER, UniSRec and SpecGR++ (one stage's directory) learning
//! curves, from the `last/state.json` that training keeps in each run directory.
//!
//! The x axis is training examples seen (millions), the quantity published TIGER
//! budgets are given in; the left panel is validation Recall@K, the right NDCG@K, one
//! line per run. Beside the PNG goes a Markdown table with one row per validation:
//! epoch, examples seen, the epoch's mean training loss, Recall and NDCG, and which
//! validation is the run's best.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use gr_model::TrainState;
use plotters::prelude::*;

use crate::cmd::chart::{COLORS, Line, Panel, encode_png, register_font};
use recdata::fsio::write_atomic;

/// `specgr plot curve` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct CurveArgs {
    /// TIGER, UniSRec or SpecGR++ stage run directories (each holding `last/state.json`;
    /// for SpecGR++ `<run>/stage1` or `<run>/stage2`, the encoder's retrieval metrics).
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    /// A label per run, comma-separated [default: the directory names].
    #[arg(long, value_delimiter = ',')]
    pub labels: Option<Vec<String>>,
    /// Where to write `<OUT>.png` and `<OUT>.md` [default: `<first run>/curve`].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// One validation of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct CurvePoint {
    /// Epoch of the validation (from 0).
    pub epoch: usize,
    /// Training examples seen before it.
    pub samples: u64,
    /// Mean training loss of that epoch, when recorded.
    pub loss: Option<f64>,
    /// Validation Recall@`k`.
    pub recall: f64,
    /// Validation NDCG@`k`.
    pub ndcg: f64,
    /// The cut-off K.
    pub k: usize,
    /// Validation examples.
    pub examples: usize,
}

/// A run's learning curve.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// The run's label.
    pub label: String,
    /// Its validations, in order.
    pub points: Vec<CurvePoint>,
    /// The epoch of the best validation (the checkpoint in `best/`).
    pub best_epoch: Option<usize>,
    /// Training examples seen so far (validated or not).
    pub samples_seen: u64,
}

/// Runs `specgr plot curve`.
pub fn run(args: &CurveArgs) -> anyhow::Result<()> {
    if let Some(labels) = &args.labels
        && labels.len() != args.runs.len()
    {
        let count = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        bail!(
            "--labels names {}, but {} given",
            count(labels.len(), "run", "runs"),
            count(args.runs.len(), "run directory was", "run directories were")
        );
    }
    let curves = args
        .runs
        .iter()
        .enumerate()
        .map(|(i, dir)| {
            let label = args.labels.as_ref().map_or_else(
                || dir.file_name().map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into_owned()),
                |l| l[i].clone(),
            );
            read_curve(dir, label)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let out = args.out.clone().unwrap_or_else(|| args.runs[0].join("curve"));
    let png = out.with_extension("png");
    let md = out.with_extension("md");
    write_atomic(&png, &render_curves(&curves)?)?;
    write_atomic(&md, markdown(&curves).as_bytes())?;
    println!("{}\n{}", png.display(), md.display());
    Ok(())
}

/// Reads a run's validations from `<dir>/last/state.json`.
///
/// States written before the examples seen at each validation were recorded place
/// validation `e` at `(e + 1)` epochs' worth of examples, an epoch's worth being the
/// examples of the completed epochs over their number.
pub fn read_curve(dir: &Path, label: String) -> anyhow::Result<Curve> {
    let path = dir.join("last").join("state.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading {} (is {} a TIGER, UniSRec or SpecGR++ stage run directory?)", path.display(), dir.display()))?;
    let state: TrainState = match serde_json::from_str(&text) {
        Ok(state) => state,
        Err(tiger) => {
            if let Ok(state) = serde_json::from_str::<drafters::unisrec::UniSRecState>(&text) {
                return Ok(unisrec_curve(&state, label));
            }
            if let Ok(state) = serde_json::from_str::<gr_model::SpecGrPpState>(&text) {
                return specgr_pp_curve(&state, label, &path);
            }
            return Err(tiger).with_context(|| format!("parsing {} (as a TIGER run's state)", path.display()));
        }
    };
    let recorded = state.validation_samples.len() == state.validations.len();
    let per_epoch = (state.epochs_done > 0)
        .then(|| (state.samples_seen - state.epoch_progress.1 as u64) / state.epochs_done as u64)
        .filter(|&n| n > 0);
    let points = state
        .validations
        .iter()
        .enumerate()
        .map(|(i, (epoch, m))| {
            let samples = if recorded {
                state.validation_samples[i]
            } else {
                per_epoch.map_or(0, |n| n * (*epoch as u64 + 1))
            };
            CurvePoint {
                epoch: *epoch,
                samples,
                loss: state.epoch_losses.get(*epoch).copied(),
                recall: m.recall,
                ndcg: m.ndcg,
                k: m.k,
                examples: m.examples,
            }
        })
        .collect();
    Ok(Curve { label, points, best_epoch: state.best.map(|b| b.1), samples_seen: state.samples_seen })
}

/// A UniSRec run's curve: its validations at K = 10 (the metric its early stopping
/// watches is NDCG@10), epochs counted from 0 as TIGER's are.
fn unisrec_curve(state: &drafters::unisrec::UniSRecState, label: String) -> Curve {
    let points = state
        .validations
        .iter()
        .map(|v| CurvePoint {
            epoch: v.epoch.saturating_sub(1),
            samples: v.samples_seen,
            loss: state.epoch_losses.get(v.epoch.saturating_sub(1)).copied(),
            recall: v.metrics.recall_10,
            ndcg: v.metrics.ndcg_10,
            k: 10,
            examples: v.metrics.examples,
        })
        .collect();
    Curve { label, points, best_epoch: state.best.map(|b| b.1.saturating_sub(1)), samples_seen: state.samples_seen }
}

/// A SpecGR++ stage's curve: the encoder's retrieval Recall and NDCG at the stage's
/// `eval_k` over all items, the epoch's mean embedding loss as the loss.
fn specgr_pp_curve(state: &gr_model::SpecGrPpState, label: String, path: &Path) -> anyhow::Result<Curve> {
    let Some(per_epoch) = state.train_examples else {
        bail!(
            "{}: a SpecGR++ state written before the examples an epoch were kept; resume the run once \
             (the same `specgr train specgr++` command) to fill them in",
            path.display()
        );
    };
    let points = state
        .validations
        .iter()
        .map(|(epoch, m)| CurvePoint {
            epoch: *epoch,
            samples: state.samples_at_epoch_end(*epoch).unwrap_or(0),
            loss: state.epoch_losses.get(*epoch).map(|l| l.0),
            recall: m.recall,
            ndcg: m.ndcg,
            k: m.k,
            examples: m.examples,
        })
        .collect();
    let samples_seen = (per_epoch * state.epochs_done + state.epoch_progress.2) as u64;
    Ok(Curve { label, points, best_epoch: state.best.map(|b| b.1), samples_seen })
}

/// The curves' table: one row per validation.
pub fn markdown(curves: &[Curve]) -> String {
    let mut s = String::new();
    for c in curves {
        let k = c.points.first().map_or(10, |p| p.k);
        s.push_str(&format!(
            "## {}\n\n{} training examples seen in all.\n\n| epoch | examples seen | train loss | valid Recall@{k} | valid NDCG@{k} | valid examples | best |\n| ---: | ---: | ---: | ---: | ---: | ---: | :---: |\n",
            c.label, c.samples_seen
        ));
        for p in &c.points {
            let loss = p.loss.map_or("–".to_owned(), |l| format!("{l:.4}"));
            let best = if c.best_epoch == Some(p.epoch) { "✓" } else { "" };
            s.push_str(&format!(
                "| {} | {} | {loss} | {:.4} | {:.4} | {} | {best} |\n",
                p.epoch, p.samples, p.recall, p.ndcg, p.examples
            ));
        }
        s.push('\n');
    }
    s
}

/// Width and height of the figure.
const SIZE: (u32, u32) = (1400, 520);

/// Draws Recall (left) and NDCG (right) against millions of examples seen.
pub fn render_curves(curves: &[Curve]) -> anyhow::Result<Vec<u8>> {
    register_font()?;
    let lines = |metric: fn(&CurvePoint) -> f64| -> Vec<Line> {
        curves
            .iter()
            .enumerate()
            .map(|(i, c)| Line {
                label: c.label.clone(),
                color: COLORS[i % COLORS.len()],
                points: c.points.iter().map(|p| (p.samples as f64 / 1e6, metric(p))).collect(),
            })
            .collect()
    };
    let xs: Vec<f64> = curves.iter().flat_map(|c| c.points.iter().map(|p| p.samples as f64 / 1e6)).chain([0.0]).collect();
    let k = curves.iter().find_map(|c| c.points.first()).map_or(10, |p| p.k);
    let (w, h) = SIZE;
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE)?;
        let (left, right) = root.split_horizontally(w / 2);
        let x_label = |x: &f64| format!("{x:.2}");
        let panel = Panel { xs: &xs, numeric: true, setting: "training examples seen (millions)", x_label: &x_label };
        panel.draw(&left, &format!("valid Recall@{k}"), &format!("Recall@{k}"), &lines(|p| p.recall), true)?;
        panel.draw(&right, &format!("valid NDCG@{k}"), &format!("NDCG@{k}"), &lines(|p| p.ndcg), true)?;
        root.present()?;
    }
    encode_png(&buf, w, h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state_json(with_samples: bool) -> String {
        let metrics = |r: f64| serde_json::json!({"k": 10, "recall": r, "ndcg": r / 2.0, "examples": 100});
        let mut state = serde_json::json!({
            "model": serde_json::to_value(gr_model::TigerConfig::new(10)).unwrap(),
            "train": serde_json::to_value(gr_model::TrainConfig::new()).unwrap(),
            "epochs_done": 2, "batches_done": 1, "samples_seen": 250, "epoch_progress": [1.0, 50],
            "steps_done": 5, "best": [0.02, 1], "since_best": 0,
            "validations": [[0, metrics(0.01)], [1, metrics(0.02)]],
            "stopped_early": false, "epoch_losses": [5.0, 4.0],
        });
        if with_samples {
            state["validation_samples"] = serde_json::json!([90, 190]);
        }
        state.to_string()
    }

    #[test]
    fn reads_a_curve_with_and_without_recorded_sample_counts() {
        for (with, samples) in [(true, [90, 190]), (false, [100, 200])] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(dir.path().join("last")).unwrap();
            std::fs::write(dir.path().join("last/state.json"), state_json(with)).unwrap();
            let c = read_curve(dir.path(), "run".into()).unwrap();
            assert_eq!(c.points.iter().map(|p| p.samples).collect::<Vec<_>>(), samples);
            assert_eq!(c.points[1].loss, Some(4.0));
            assert_eq!(c.best_epoch, Some(1));
            let md = markdown(&[c.clone()]);
            assert!(md.contains("| 1 | ") && md.contains("| 0.0200 | 0.0100 | 100 | ✓ |"), "{md}");
            let png = render_curves(&[c]).unwrap();
            assert_eq!(&png[1..4], b"PNG");
        }
        let err = read_curve(Path::new("/nonexistent-run"), "x".into()).unwrap_err();
        assert!(format!("{err:#}").contains("/nonexistent-run/last/state.json"), "{err:#}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("last")).unwrap();
        std::fs::write(dir.path().join("last/state.json"), r#"{"epochs_done": 1}"#).unwrap();
        let err = read_curve(dir.path(), "x".into()).unwrap_err();
        assert!(format!("{err:#}").contains("as a TIGER run's state"), "{err:#}");
    }

    /// A UniSRec run's validations (epochs from 1 there) read as a curve at K = 10.
    #[test]
    fn reads_a_unisrec_curve() {
        use drafters::unisrec::{EvalMetrics, UniSRecState, UniSRecValidation};
        let metrics = |r: f64| EvalMetrics { examples: 100, recall_10: r, ndcg_10: r / 2.0, recall_50: 3.0 * r, ndcg_50: r };
        let state = UniSRecState {
            model: drafters::UniSRecConfig::new(16),
            train: drafters::UniSRecTrainConfig::new(),
            inputs: 7,
            epochs_done: 2,
            batches_done: 0,
            epoch_loss: 0.0,
            rng_state: 1,
            best: Some((0.02, 2)),
            best_valid: metrics(0.04),
            since_best: 0,
            stopped_early: false,
            epoch_losses: vec![9.0, 8.5],
            train_secs: 10.0,
            samples_seen: 240,
            validations: vec![
                UniSRecValidation { epoch: 1, samples_seen: 120, metrics: metrics(0.03) },
                UniSRecValidation { epoch: 2, samples_seen: 240, metrics: metrics(0.04) },
            ],
        };
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("last")).unwrap();
        std::fs::write(dir.path().join("last/state.json"), serde_json::to_string(&state).unwrap()).unwrap();
        let c = read_curve(dir.path(), "UniSRec".into()).unwrap();
        assert_eq!(c.points.iter().map(|p| (p.epoch, p.samples)).collect::<Vec<_>>(), [(0, 120), (1, 240)]);
        assert_eq!((c.points[1].loss, c.points[1].recall, c.points[1].k, c.best_epoch), (Some(8.5), 0.04, 10, Some(1)));
        assert!(markdown(&[c]).contains("| 1 | 240 | 8.5000 | 0.0400 | 0.0200 | 100 | ✓ |"));
    }
    /// A SpecGR++ stage's validations read as a curve at its `eval_k`; a state written
    /// before the epoch's size was kept is refused with what to do.
    #[test]
    fn reads_a_specgr_pp_curve() {
        let metrics = |r: f64| gr_model::RankingMetrics { k: 50, recall: r, ndcg: r / 4.0, examples: 2000, recall_se: None, ndcg_se: None };
        let mut state = gr_model::SpecGrPpState {
            model: gr_model::TigerConfig::new(10),
            head: gr_model::ProjectionConfig::new(8),
            train: gr_model::SpecGrPpTrainConfig::stage1(),
            epochs_done: 2,
            batches_done: 3,
            epoch_progress: (0.0, 0.0, 300),
            dropout_state: 0,
            steps_done: 9,
            best: Some((0.04, 1)),
            since_best: 0,
            validations: vec![(0, metrics(0.03)), (1, metrics(0.04))],
            stopped_early: false,
            epoch_losses: vec![(6.5, 1.9), (6.1, 1.8)],
            samples_per_sec: vec![40.0, 41.0],
            train_examples: Some(1000),
        };
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("last")).unwrap();
        std::fs::write(dir.path().join("last/state.json"), serde_json::to_string(&state).unwrap()).unwrap();
        let c = read_curve(dir.path(), "SpecGR++ stage 1".into()).unwrap();
        assert_eq!(c.points.iter().map(|p| (p.epoch, p.samples)).collect::<Vec<_>>(), [(0, 1000), (1, 2000)]);
        assert_eq!((c.points[1].loss, c.points[1].recall, c.points[1].k, c.best_epoch), (Some(6.1), 0.04, 50, Some(1)));
        assert_eq!(c.samples_seen, 2300);
        assert!(markdown(&[c]).contains("| 1 | 2000 | 6.1000 | 0.0400 | 0.0100 | 2000 | ✓ |"));
        // Written before `train_examples` existed: the field is absent.
        state.train_examples = None;
        let mut old = serde_json::to_value(&state).unwrap();
        old.as_object_mut().unwrap().remove("train_examples");
        std::fs::write(dir.path().join("last/state.json"), old.to_string()).unwrap();
        let err = read_curve(dir.path(), "x".into()).unwrap_err();
        assert!(format!("{err:#}").contains("resume the run once"), "{err:#}");
    }
}
