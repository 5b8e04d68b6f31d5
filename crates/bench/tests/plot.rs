//! `specgr plot sweep` on small hand-written sweep directories.

use std::path::{Path, PathBuf};

use bench::cmd::plot::{HEIGHT, Metric, SweepArgs, WIDTH, plot_sweep, read_sweep};

/// A `results.json` as `bench::report` writes it, its rows whole (they are read through
/// `ResultRow`), the provenance left out; `unseen` R@50 is `null`, as serde_json writes NaN.
fn results(r50: f64, seconds: f64) -> String {
    let row = |subset: &str, r: serde_json::Value| {
        serde_json::json!({
            "method": "SpecGR", "subset": subset, "examples": 10,
            "recall@10": 0.1, "ndcg@10": 0.05, "recall@50": r, "ndcg@50": 0.07,
            "seconds_per_query": seconds, "unseen_share_of_output": 0.2,
        })
    };
    let rows = vec![
        row("overall", r50.into()),
        row("in-sample", (r50 + 0.05).into()),
        row("unseen", if r50 > 0.15 { serde_json::Value::Null } else { (r50 - 0.05).into() }),
    ];
    serde_json::json!({ "title": "t", "dataset": "synthetic", "rows": rows, "notes": [] }).to_string()
}

/// Writes `<dir>/<name>/results.json`.
fn write(dir: &Path, name: &str, text: &str) {
    std::fs::create_dir_all(dir.join(name)).unwrap();
    std::fs::write(dir.join(name).join("results.json"), text).unwrap();
}

fn args(dir: &Path) -> SweepArgs {
    SweepArgs {
        dir: dir.to_owned(),
        metric: Metric::Recall50,
        subsets: vec!["in-sample".into(), "unseen".into()],
        evenly: false,
        out: None,
        speedup_over: None,
    }
}

/// Checks the PNG signature and the IHDR width and height.
fn check_png(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{} is not a PNG", path.display());
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes(b.try_into().unwrap());
    assert_eq!((be(&bytes[16..20]), be(&bytes[20..24])), (WIDTH, HEIGHT));
}

#[test]
fn draws_a_sweep_sorted_by_numeric_value() {
    let dir = tempfile::tempdir().unwrap();
    // Written out of order, and "10" sorts before "5" as text.
    write(dir.path(), "beam-size=10", &results(0.2, 0.03));
    write(dir.path(), "beam-size=5", &results(0.12, 0.02));
    write(dir.path(), "beam-size=1", &results(0.1, 0.01));
    // What else `cargo xtask sweep` leaves in the directory is ignored.
    write(dir.path(), "tune/threshold=-1.4", &results(0.1, 0.01));
    std::fs::write(dir.path().join("results.md"), "# table").unwrap();

    let sweep = read_sweep(dir.path(), Metric::Recall50).unwrap();
    assert_eq!(sweep.setting, "beam-size");
    let labels: Vec<&str> = sweep.points.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(labels, ["1", "5", "10"]);
    assert!(sweep.points[2].rows[2].metric.is_nan(), "null reads as NaN");

    let out = plot_sweep(&args(dir.path())).unwrap();
    assert_eq!(out, dir.path().join("plot-recall@50.png"));
    check_png(&out);
    assert!(!dir.path().join("plot-recall@50.png.tmp").exists(), "written through a temp file and a rename");

    // Evenly spaced, another metric, an explicit output path.
    let out = dir.path().join("figure.png");
    let a = SweepArgs { metric: Metric::Ndcg10, evenly: true, out: Some(out.clone()), ..args(dir.path()) };
    assert_eq!(plot_sweep(&a).unwrap(), out);
    check_png(&out);
}

/// Runs `plot_sweep` on a directory that `setup` fills, and checks that it fails
/// with a message naming `expected`, a path relative to the directory ("" for itself).
fn check_error(setup: impl Fn(&Path), expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let err = format!("{:#}", plot_sweep(&args(dir.path())).unwrap_err());
    let expected: PathBuf = if expected.is_empty() { dir.path().to_owned() } else { dir.path().join(expected) };
    assert!(err.contains(&*expected.to_string_lossy()), "{err:?} should name {}", expected.display());
    assert!(std::fs::read_dir(dir.path()).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().ends_with(".png")));
}

#[test]
fn errors_name_the_file() {
    // No `<setting>=<value>/` subdirectories: the error names the directory.
    check_error(|d| std::fs::create_dir(d.join("tune")).unwrap(), "");
    // Two settings in one directory.
    check_error(
        |d| {
            write(d, "beam-size=1", &results(0.1, 0.01));
            write(d, "draft-size=1", &results(0.1, 0.01));
        },
        "",
    );
    // A value directory without its report.
    check_error(|d| std::fs::create_dir(d.join("threshold=-1.4")).unwrap(), "threshold=-1.4/results.json");
    // Not JSON.
    check_error(|d| write(d, "threshold=-1.4", "{ not json"), "threshold=-1.4/results.json");
    // JSON, but not a report.
    check_error(|d| write(d, "threshold=-1.4", r#"{"title": "t"}"#), "threshold=-1.4/results.json");
    // A row without the metric.
    check_error(
        |d| {
            write(d, "threshold=-2", &results(0.1, 0.01));
            write(d, "threshold=-1", r#"{"rows": [{"method": "SpecGR", "subset": "overall", "seconds_per_query": 0.1}]}"#);
        },
        "threshold=-1/results.json",
    );
}

/// A report with two methods, `Tiger` and `SpecGR`, and their seconds per query.
fn two_methods(tiger_s: f64, specgr_s: f64) -> String {
    let row = |method: &str, subset: &str, s: f64| {
        serde_json::json!({
            "method": method, "subset": subset, "examples": 10, "recall@10": 0.1, "ndcg@10": 0.05, "recall@50": 0.2,
            "ndcg@50": 0.07, "seconds_per_query": s, "unseen_share_of_output": 0.0,
        })
    };
    let rows: Vec<_> = ["overall", "in-sample", "unseen"]
        .iter()
        .flat_map(|sub| [row("Tiger", sub, tiger_s), row("SpecGR", sub, specgr_s)])
        .collect();
    serde_json::json!({ "rows": rows }).to_string()
}

#[test]
fn a_sweep_over_semantic_ids_is_placed_by_digits_and_can_show_the_acceleration() {
    let dir = tempfile::tempdir().unwrap();
    // As text, "rqkmeans" (3 levels, 4 digits) sorts first and "-l10" before "-l2".
    write(dir.path(), "ids=rqkmeans-l10", &two_methods(0.8, 0.2));
    write(dir.path(), "ids=rqkmeans", &two_methods(0.4, 0.2));
    write(dir.path(), "ids=rqkmeans-l2", &two_methods(0.3, 0.2));
    let sweep = read_sweep(dir.path(), Metric::Recall50).unwrap();
    let placed: Vec<(&str, Option<f64>)> = sweep.points.iter().map(|p| (p.label.as_str(), p.value)).collect();
    assert_eq!(placed, [("rqkmeans-l2", Some(3.0)), ("rqkmeans", Some(4.0)), ("rqkmeans-l10", Some(11.0))]);

    let a = SweepArgs { speedup_over: Some("Tiger".into()), ..args(dir.path()) };
    check_png(&plot_sweep(&a).unwrap());
    // The method's id finds it too, in reports written before methods had ids.
    let a = SweepArgs { speedup_over: Some("tiger".into()), ..args(dir.path()) };
    check_png(&plot_sweep(&a).unwrap());

    // A sweep across ID methods (Table 4's `rqvae`, `hkmeans`) keeps its labels.
    let methods = tempfile::tempdir().unwrap();
    write(methods.path(), "ids=rqvae", &two_methods(0.4, 0.2));
    write(methods.path(), "ids=hkmeans", &two_methods(0.5, 0.2));
    let sweep = read_sweep(methods.path(), Metric::Recall50).unwrap();
    assert!(sweep.points.iter().all(|p| p.value.is_none()), "{:?}", sweep.points);
    // A baseline that is not in the reports is an error naming the directory.
    let a = SweepArgs { speedup_over: Some("Tigger".into()), ..args(dir.path()) };
    let err = format!("{:#}", plot_sweep(&a).unwrap_err());
    assert!(err.contains("Tigger") && err.contains(&*dir.path().to_string_lossy()), "{err}");
}
