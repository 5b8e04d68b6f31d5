//! Semantic IDs of another length (Figure A1): `semid fit --levels` writes them beside
//! the default IDs, and training and evaluation read them with `--ids <method>-l<levels>`.

use std::path::Path;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_specgr");

fn specgr(args: &[&str]) -> std::process::Output {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("SPECGR_DATA")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(out.status.success(), "specgr {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    out
}

#[test]
fn five_level_ids_are_fitted_trained_on_and_evaluated_beside_the_default() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().display().to_string();
    crate::resume::write_embeddings(tmp.path());
    let fit = |levels: &str| {
        specgr(&[
            "semid", "fit", "--dataset", "synthetic", "--method", "rqkmeans", "--codebook-size", "8", "--levels", levels,
            "--runs", &runs,
        ])
    };
    fit("3");
    fit("5");
    let digits = |dir: &str| -> usize {
        let json = std::fs::read_to_string(tmp.path().join("synthetic/semid").join(dir).join("ids.json")).unwrap();
        semid::SemanticIds::from_json(&json).unwrap().num_digits()
    };
    assert_eq!(digits("rqkmeans"), 4, "three levels plus the identification digit");
    assert_eq!(digits("rqkmeans-l5"), 6, "five levels plus the identification digit");

    specgr(&[
        "train", "tiger", "--dataset", "synthetic", "--preset", "tiny", "--ids", "rqkmeans-l5", "--epochs", "1",
        "--batch-size", "64", "--train-limit", "128", "--valid-limit", "16", "--runs", &runs,
    ]);
    assert!(Path::new(&runs).join("synthetic/tiger-rqkmeans-l5-tiny/best").is_dir());
    let out = specgr(&[
        "eval", "--dataset", "synthetic", "--ids", "rqkmeans-l5", "--preset", "tiny", "--methods", "tiger,specgr-knn",
        "--limit", "8", "--json", "--runs", &runs,
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = v.as_array().expect("one entry per method");
    assert_eq!(rows.len(), 2);

    // An unknown length is an error that says what exists.
    let out = Command::new(BIN)
        .args(["eval", "--dataset", "synthetic", "--ids", "rqkmeans-l7", "--methods", "tiger", "--runs", &runs])
        .env_remove("SPECGR_DATA")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("rqkmeans-l7"));
}
