//! Arguments that can only be judged together or against the data (#20 §4): refused
//! before anything is loaded or computed, with the reason.

use std::process::{Command, Stdio};

/// Runs `specgr` on the synthetic dataset with the run directory `runs`, expects
/// success and returns its standard output.
fn on_synthetic(runs: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_specgr"))
        .args(args)
        .args(["--dataset", "synthetic", "--runs", runs])
        .env_remove("SPECGR_DATA")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn refused(args: &[&str]) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_specgr"))
        .args(args)
        .args(["--dataset", "synthetic", "--runs", &tmp.path().display().to_string()])
        .env_remove("SPECGR_DATA")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "`specgr {}` ran:\n{err}", args.join(" "));
    err
}

#[test]
fn eval_refuses_a_subset_no_larger_than_the_list() {
    let err = refused(&["eval", "--subset-size", "50", "--k", "50"]);
    assert!(err.contains("--subset-size 50 is not larger than --k 50") && err.contains("would read 1"), "{err}");
}

#[test]
fn eval_refuses_lists_shorter_than_every_cut_off() {
    // The synthetic split is chronological: Recall/NDCG at 10 and 50.
    let err = refused(&["eval", "--k", "5", "--methods", "semantic-knn"]);
    assert!(err.contains("--k 5") && err.contains("@10") && err.contains("--k 10 or more"), "{err}");
}

#[test]
fn tune_refuses_methods_without_a_gamma_and_metrics_beyond_the_list() {
    let err = refused(&["tune", "--methods", "specgr-knn,tiger"]);
    assert!(err.contains("--methods tiger: it has no γ to tune") && err.contains("specgr-aux"), "{err}");
    let err = refused(&["tune", "--k", "10"]);
    assert!(err.contains("--metric ndcg@50 needs lists of at least 50 items; --k is 10"), "{err}");
}

/// `--k 10` used to print the @10 values again in the @50 columns; now they are `–`
/// and the JSON holds no @50 entry.
#[test]
fn eval_with_k_below_50_reports_no_at_50_metrics() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().display().to_string();
    crate::resume::write_embeddings(tmp.path());
    let specgr = |args: &[&str]| on_synthetic(&runs, args);
    specgr(&["semid", "fit", "--method", "rqkmeans", "--codebook-size", "8"]);
    let eval = ["eval", "--ids", "rqkmeans", "--methods", "semantic-knn", "--limit", "40", "--k", "10"];
    let table = specgr(&eval);
    let row = table.lines().find(|l| l.starts_with("SemanticKNN") && l.contains("overall")).expect(&table);
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(&cells[4..6], ["–", "–"], "R@50 and N@50 of lists of 10:\n{table}");
    assert!(cells[2].parse::<f64>().is_ok(), "R@10 is computed:\n{table}");
    let json: serde_json::Value = serde_json::from_str(&specgr(&[&eval[..], &["--json"]].concat())).unwrap();
    let cut_offs: Vec<u64> = json[0]["metrics"]["subsets"][0][1]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["k"].as_u64().unwrap())
        .collect();
    assert_eq!(cut_offs, [10], "{json}");

    // `--overlap`: one line per pair of methods, at each reported cut-off, in the
    // table and the report's notes; nothing without the flag.
    assert!(!table.contains("list overlap"), "{table}");
    let report = tmp.path().join("report");
    let report_s = report.display().to_string();
    let pair = ["eval", "--ids", "rqkmeans", "--methods", "semantic-knn,popularity", "--limit", "40", "--k", "10"];
    let table = specgr(&[&pair[..], &["--overlap", "--report", &report_s]].concat());
    let line = table.lines().find(|l| l.starts_with("list overlap SemanticKNN ~ Popularity: @10 ")).expect(&table);
    let share: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!((0.0..=1.0).contains(&share), "{line}");
    assert!(std::fs::read_to_string(report.join("results.md")).unwrap().contains(line), "the report's notes say it too");

    // `--part train`: the training examples themselves, every target in-sample.
    let train = specgr(&["eval", "--ids", "rqkmeans", "--methods", "semantic-knn", "--part", "train", "--limit", "40", "--k", "10"]);
    assert!(train.contains("40 train examples"), "{train}");
    let unseen = train.lines().find(|l| l.starts_with("SemanticKNN") && l.contains("unseen")).expect(&train);
    assert!(unseen.contains("0.0000"), "no unseen target among training examples:\n{train}");
}

/// Popularity counts the interactions before the evaluated part: there are none before
/// the training examples.
#[test]
fn eval_refuses_popularity_on_the_training_examples() {
    let err = refused(&["eval", "--methods", "popularity", "--part", "train"]);
    assert!(err.contains("--part train") && err.contains("none come before `train`"), "{err}");
}

/// `--devices` (data-parallel TIGER training): a shard count other than the device
/// count, `--device` beside it, and an indexed CPU are refused before anything loads.
#[test]
fn train_tiger_refuses_devices_that_do_not_fit_the_other_flags() {
    let err = refused(&["train", "tiger", "--devices", "cpu,cpu", "--shards", "3"]);
    assert!(err.contains("--shards 3 with 2 --devices") && err.contains("leave --shards out"), "{err}");
    let err = refused(&["train", "tiger", "--devices", "cpu,cpu", "--device", "cpu"]);
    assert!(err.contains("--device") && err.contains("cannot be used with"), "{err}");
    let err = refused(&["train", "tiger", "--devices", "cpu:1"]);
    assert!(err.contains("the CPU backend has one device"), "{err}");
}

/// `specgr train tiger --devices cpu,cpu` trains (two replicas on the CPU, gradients
/// summed by burn-collective) and records the two shards it used.
#[test]
fn train_tiger_runs_on_two_cpu_devices() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().display().to_string();
    crate::resume::write_embeddings(tmp.path());
    let specgr = |args: &[&str]| on_synthetic(&runs, args);
    specgr(&["semid", "fit", "--method", "rqkmeans", "--codebook-size", "8"]);
    specgr(&[
        "train", "tiger", "--preset", "tiny", "--ids", "rqkmeans", "--epochs", "1", "--batch-size", "64",
        "--train-limit", "128", "--valid-limit", "16", "--devices", "cpu,cpu",
    ]);
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("synthetic/tiger-rqkmeans-tiny/last/state.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(state["train"]["shards"], 2, "{state}");
    assert_eq!(state["epochs_done"], 1, "{state}");
}

#[test]
fn plot_curve_refuses_labels_that_do_not_match_its_runs() {
    let out = Command::new(env!("CARGO_BIN_EXE_specgr"))
        .args(["plot", "curve", "no-such-run", "--labels", "a,b"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("--labels names 2 runs, but 1 run directory was given"), "{err}");
}
