//! Data quirks that load, but only after a warning on stderr (#20 §5).

use std::process::Command;

fn stats(manifest: &std::path::Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_specgr"))
        .args(["data", "stats", "--manifest", &manifest.display().to_string()])
        .env_remove("SPECGR_DATA")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{err}");
    err
}

#[test]
fn a_file_without_a_final_line_end_and_an_empty_part_are_warned_about() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("synth");
    let out = Command::new(env!("CARGO_BIN_EXE_specgr"))
        .args(["data", "synth", "--size", "tiny", "--out", &dir.display().to_string()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let manifest = dir.join("dataset.toml");
    let whole = stats(&manifest);
    assert!(!whole.contains("WARN"), "{whole}");

    // Cut inside the last field: the value left is a valid timestamp, so only the
    // missing line end shows it.
    let path = dir.join("interactions.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, &text[..text.len() - 12]).unwrap();
    let lines = text.lines().count();
    let err = stats(&manifest);
    assert!(
        err.contains(&format!("interactions.csv:{lines}: the file does not end with a line end")),
        "{err}"
    );
    std::fs::write(&path, &text).unwrap();

    // Validation and test cut-offs at the same time: no validation examples.
    let t: Vec<i64> = text.lines().skip(1).map(|l| l.rsplit(',').next().unwrap().parse().unwrap()).collect();
    let mid = t[t.len() / 2];
    let toml = std::fs::read_to_string(&manifest).unwrap().replace(
        "valid = { quantile = 0.8 }\ntest = { quantile = 0.9 }",
        &format!("valid = {{ timestamp_ms = {mid} }}\ntest = {{ timestamp_ms = {mid} }}"),
    );
    assert!(toml.contains("timestamp_ms"), "{toml}");
    std::fs::write(&manifest, toml).unwrap();
    let err = stats(&manifest);
    assert!(err.contains("the validation split is empty"), "{err}");
}
