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
