//! Semantic IDs of another length (Figure A1): `semid fit --levels` writes them beside
//! the default IDs, and training and evaluation read them with `--ids <method>-l<levels>`;
//! SpecGR++ with nothing trained (Table 3 (2.1)) is written and evaluated on them too.

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
fn five_level_ids_are_fitted_trained_on_and_evaluated_beside_the_default_and_drafted_from_untrained() {
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

    // SpecGR++ with nothing trained (Table 3 (2.1)): the TIGER's own encoder drafts.
    let tiger = tmp.path().join("synthetic/tiger-rqkmeans-l5-tiny/best").display().to_string();
    let untrained = [
        "train", "specgr++", "--dataset", "synthetic", "--preset", "tiny", "--ids", "rqkmeans-l5", "--init", &tiger,
        "--stage1-epochs", "0", "--stage2-epochs", "0", "--runs", &runs,
    ];
    specgr(&untrained);
    let best = tmp.path().join("synthetic/specgr-pp-rqkmeans-l5-tiny/stage1/best");
    assert!(best.join("model.mpk").exists(), "the untrained model is written as stage 1's best");
    let out = specgr(&[
        "eval", "--dataset", "synthetic", "--ids", "rqkmeans-l5", "--preset", "tiny", "--methods", "specgr-pp",
        "--threshold=-2", "--limit", "8", "--json", "--runs", &runs,
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().map(Vec::len), Some(1));
    // Stage 2 does not take the export for a stage-1 model.
    let out = Command::new(BIN)
        .args([
            "train", "specgr++", "--dataset", "synthetic", "--preset", "tiny", "--ids", "rqkmeans-l5", "--init", &tiger,
            "--stage1-epochs", "0", "--stage2-epochs", "1", "--runs", &runs,
        ])
        .env_remove("SPECGR_DATA")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("untrained TIGER-encoder export"));
    // It never overwrites a trained SpecGR++.
    std::fs::create_dir_all(best.parent().unwrap().join("last")).unwrap();
    let out = Command::new(BIN).args(untrained).env_remove("SPECGR_DATA").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds a trained SpecGR++"));

    // An unknown length is an error that names the missing IDs.
    let out = Command::new(BIN)
        .args(["eval", "--dataset", "synthetic", "--ids", "rqkmeans-l7", "--methods", "tiger", "--runs", &runs])
        .env_remove("SPECGR_DATA")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("rqkmeans-l7"));
}
