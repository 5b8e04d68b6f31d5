//! Progress in a log: with stderr not a terminal, long stages print plain progress
//! lines (issue #21 §5: `semid fit` and `eval` printed nothing into a log file).

use std::process::{Command, Stdio};

fn specgr(args: &[&str], runs: &std::path::Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_specgr"))
        .args(args)
        .arg("--runs")
        .arg(runs)
        .env_remove("SPECGR_DATA")
        .env("SPECGR_PROGRESS_SECS", "0.01")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped()) // not a terminal
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "specgr {}: {err}", args.join(" "));
    err
}

#[test]
fn a_stage_writing_to_a_log_prints_plain_progress_lines() {
    let tmp = tempfile::tempdir().unwrap();
    crate::resume::write_embeddings(tmp.path());
    specgr(&["semid", "fit", "--dataset", "synthetic", "--method", "rqkmeans", "--codebook-size", "8"], tmp.path());
    let err = specgr(
        &[
            "train", "tiger", "--dataset", "synthetic", "--preset", "tiny", "--ids", "rqkmeans", "--epochs", "2",
            "--batch-size", "16", "--train-limit", "160", "--valid-limit", "8", "--shards", "1",
        ],
        tmp.path(),
    );
    // 2 epochs of 10 steps; the stage's message (the loss, once training) leads the line.
    let lines: Vec<&str> = err.lines().filter(|l| l.contains(": ") && l.contains("/20 (")).collect();
    assert!(!lines.is_empty(), "no progress line in: {err}");
    assert!(lines.iter().all(|l| l.contains("/s, elapsed ") && l.contains(", ETA ")), "{lines:?}");
    assert!(!err.contains('\r') && !err.contains("\u{1b}["), "no bar drawing in a log: {err}");
}

/// `--max-minutes` stops a TIGER run at a checkpoint and says so; the same command
/// without it resumes there and finishes (issue #21 §3: a wall-time budget).
#[test]
fn a_time_budget_stops_training_at_a_checkpoint_that_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    crate::resume::write_embeddings(tmp.path());
    specgr(&["semid", "fit", "--dataset", "synthetic", "--method", "rqkmeans", "--codebook-size", "8"], tmp.path());
    let train = [
        "train", "tiger", "--dataset", "synthetic", "--preset", "tiny", "--ids", "rqkmeans", "--epochs", "2",
        "--batch-size", "16", "--train-limit", "160", "--valid-limit", "8", "--shards", "1",
    ];
    let run = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_specgr"))
            .args(train.iter().chain(extra))
            .arg("--runs")
            .arg(tmp.path())
            .env_remove("SPECGR_DATA")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let state = || -> serde_json::Value {
        let path = tmp.path().join("synthetic/tiger-rqkmeans-tiny/last/state.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    // A budget shorter than one step: it stops after the first step.
    let out = run(&["--max-minutes", "0.000001"]);
    assert!(out.contains("stopped after --max-minutes") && out.contains("the same command resumes there"), "{out}");
    assert_eq!((state()["epochs_done"].as_u64(), state()["batches_done"].as_u64()), (Some(0), Some(1)));
    let out = run(&[]);
    assert!(!out.contains("stopped after"), "{out}");
    assert_eq!((state()["epochs_done"].as_u64(), state()["samples_seen"].as_u64()), (Some(2), Some(320)));
}

/// The same for UniSRec (which could not resume at all before) and SpecGR++ (which
/// lost the partial epoch): `--max-minutes` stops at the step then running, says so,
/// and the same command resumes there (issue #21 §3).
#[test]
fn a_time_budget_stops_unisrec_and_specgr_pp_at_checkpoints_that_resume() {
    let tmp = tempfile::tempdir().unwrap();
    crate::resume::write_embeddings(tmp.path());
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_specgr"))
            .args(args)
            .arg("--runs")
            .arg(tmp.path())
            .env_remove("SPECGR_DATA")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let state = |dir: &str| -> (Option<u64>, Option<u64>) {
        let path = tmp.path().join("synthetic").join(dir).join("last/state.json");
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        (v["epochs_done"].as_u64(), v["batches_done"].as_u64())
    };
    let budget = ["--max-minutes", "0.000001"];
    let unisrec = ["train", "unisrec", "--dataset", "synthetic", "--epochs", "2", "--batch-size", "16", "--train-sample", "64", "--valid-limit", "8"];
    let out = run(&[&unisrec[..], &budget].concat());
    assert!(out.contains("stopped after --max-minutes") && out.contains("the same command resumes there"), "{out}");
    assert_eq!(state("unisrec"), (Some(0), Some(1)));
    let out = run(&unisrec);
    assert!(!out.contains("stopped after") && out.contains("trained 2 epochs"), "{out}");
    assert_eq!(state("unisrec"), (Some(2), Some(0)));

    run(&["semid", "fit", "--dataset", "synthetic", "--method", "rqkmeans", "--codebook-size", "8"]);
    let pp = [
        "train", "specgr++", "--dataset", "synthetic", "--preset", "tiny", "--ids", "rqkmeans", "--stage1-epochs", "1",
        "--stage2-epochs", "1", "--emb-batch-size", "16", "--gen-batch-size", "8", "--train-sample", "48", "--valid-sample", "8",
    ];
    let dir = "specgr-pp-rqkmeans-tiny/stage1";
    let out = run(&[&pp[..], &budget].concat());
    assert!(out.contains("stopped after --max-minutes") && out.contains("stage 1, epoch 0, batch 1"), "{out}");
    assert_eq!(state(dir), (Some(0), Some(1)));
    let out = run(&pp);
    assert!(out.contains("stage 1: 1 epochs (3 steps)") && out.contains("stage 2: 1 epochs"), "{out}");
}
