//! `specgr eval --report DIR` killed mid-run (SIGKILL) and run again with the same
//! command computes only what is missing and writes the report an uninterrupted run
//! writes: the same metrics for every method and subset, SpecGR's counters included.
//! `specgr tune` run again keeps the γ an earlier run of the same tuning finished, and
//! `specgr eval --reuse-finished` reads back a finished report of the same command;
//! `--tiger-checkpoint` evaluates a TIGER model kept elsewhere.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_specgr");

fn specgr(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args).env_remove("SPECGR_DATA").stdout(Stdio::null()).stderr(Stdio::piped());
    c
}

fn run_ok(mut c: Command) -> String {
    let out = c.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{err}");
    err
}

fn results(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap()
}

/// The report's rows without their times, and its SpecGR counters without theirs.
fn without_times(r: &serde_json::Value) -> (Vec<serde_json::Value>, Vec<String>) {
    let rows = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let mut row = row.clone();
            row.as_object_mut().unwrap().remove("seconds_per_query");
            row
        })
        .collect();
    let counters = r["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n.as_str())
        .filter(|n| n.starts_with("SpecGR-KNN: r0"))
        .map(|n| n.split("; per query").next().unwrap().to_owned())
        .collect();
    (rows, counters)
}

#[test]
fn a_killed_evaluation_resumes_and_reports_what_an_uninterrupted_one_does_and_tuning_keeps_finished_gammas() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    crate::resume::write_embeddings(&runs);
    let runs_s = runs.display().to_string();
    run_ok(specgr(&[
        "semid", "fit", "--dataset", "synthetic", "--method", "rqkmeans", "--codebook-size", "8", "--runs", &runs_s,
    ]));
    run_ok(specgr(&[
        "train", "tiger", "--dataset", "synthetic", "--preset", "tiny", "--ids", "rqkmeans", "--epochs", "1",
        "--batch-size", "64", "--train-limit", "256", "--valid-limit", "16", "--runs", &runs_s,
    ]));
    let eval = |report: &Path| -> Vec<String> {
        [
            "eval", "--dataset", "synthetic", "--ids", "rqkmeans", "--preset", "tiny", "--methods",
            "tiger,semantic-knn,specgr-knn", "--k", "10", "--draft-size", "10", "--beam-size", "10", "--batch-size",
            "16", "--checkpoint-every", "20", "--threshold=-3", "--runs", &runs_s, "--report",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([report.display().to_string()])
        .collect()
    };
    let (whole, killed) = (tmp.path().join("whole"), tmp.path().join("killed"));
    let args = eval(&whole);
    run_ok(specgr(&args.iter().map(String::as_str).collect::<Vec<_>>()));
    assert!(!whole.join("checkpoint").exists(), "the checkpoint is removed once the report is written");

    // The same evaluation, SIGKILLed once some of TIGER's chunks are saved.
    let args = eval(&killed);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut child = specgr(&args).stderr(Stdio::null()).spawn().unwrap();
    let start = Instant::now();
    let saved = |name: &str| killed.join("checkpoint").join(name).is_file();
    loop {
        if saved("tiger.1.json") {
            child.kill().unwrap();
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the evaluation ended ({status}) before the test could kill it");
        }
        assert!(start.elapsed() < Duration::from_secs(600), "no chunk saved within 10 min");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.wait().unwrap();
    assert!(!killed.join("results.json").exists(), "the kill landed after the report was written");
    assert!(!saved("specgr-knn.0.json"), "the kill landed after SpecGR-KNN had started");

    // The same command again: it resumes and ends with the uninterrupted run's numbers.
    let log = run_ok(specgr(&args));
    assert!(log.contains("TIGER: resumed"), "the second run did not resume:\n{log}");
    assert!(!killed.join("checkpoint").exists());
    let (a, b) = (results(&whole), results(&killed));
    assert_eq!(without_times(&a), without_times(&b), "the resumed run's report differs");
    assert_eq!(without_times(&a).1.len(), 1, "SpecGR-KNN's counters are in the report");
    let notes = b["notes"].to_string();
    assert!(notes.contains("TIGER: resumed") && !notes.contains("SpecGR-KNN: resumed"), "{notes}");

    // `specgr tune`: a γ finished by an earlier run of the same tuning is kept, the
    // choice is the same; other settings run every γ again.
    let tune = |k: &str| -> Vec<String> {
        [
            "tune", "--dataset", "synthetic", "--ids", "rqkmeans", "--preset", "tiny", "--methods", "specgr-knn",
            "--gammas=-1,-3", "--metric", "ndcg@10", "--sample", "40", "--k", k, "--draft-size", "10", "--beam-size", "10", "--runs", &runs_s,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let tune_out = |args: Vec<String>| -> String {
        let out = specgr(&args.iter().map(String::as_str).collect::<Vec<_>>()).stdout(Stdio::piped()).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let gamma_json = || std::fs::read_to_string(runs.join("synthetic/tune-rqkmeans-tiny/gamma.json")).unwrap();
    let first = tune_out(tune("10"));
    assert!(!first.contains("kept from an earlier run"), "{first}");
    let chosen = gamma_json();
    let again = tune_out(tune("10"));
    assert_eq!(again.matches("kept from an earlier run").count(), 2, "{again}");
    assert_eq!(gamma_json(), chosen, "the resumed tuning chose otherwise");
    let other = tune_out(tune("20"));
    assert!(!other.contains("kept from an earlier run"), "other settings reused a report:\n{other}");
    // In bf16 the float32 reports are not taken for its own, and its reports say bf16.
    let mut half = tune("20");
    half.extend(["--matmul".to_owned(), "bf16".to_owned()]);
    let half = tune_out(half);
    assert!(!half.contains("kept from an earlier run"), "a float32 report was reused in bf16:\n{half}");
    let report = results(&runs.join("synthetic/tune-rqkmeans-tiny/gamma=-1"));
    assert_eq!(report["provenance"]["config"]["matmul"], "bf16");

    // Another evaluation into a directory that holds a checkpoint is refused, not mixed in.
    std::fs::create_dir_all(killed.join("checkpoint")).unwrap();
    std::fs::write(killed.join("checkpoint/key.json"), r#"{"chunk": 20, "run": {}}"#).unwrap();
    let out = specgr(&args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("holds a checkpoint of another evaluation"), "{err}");

    // `--reuse-finished` (what `cargo xtask sweep` passes): the finished report of the
    // same command is read back, not rewritten; other settings evaluate again.
    let before = std::fs::read_to_string(whole.join("results.json")).unwrap();
    let reuse = |extra: &str| -> String {
        let mut args = eval(&whole);
        args.push("--reuse-finished".into());
        args.extend(extra.split_whitespace().map(str::to_owned));
        run_ok(specgr(&args.iter().map(String::as_str).collect::<Vec<_>>()))
    };
    let log = reuse("");
    assert!(log.contains("not run again"), "{log}");
    assert_eq!(std::fs::read_to_string(whole.join("results.json")).unwrap(), before, "a reused report was rewritten");
    let log = reuse("--epsilon 0.2");
    assert!(!log.contains("not run again"), "other settings reused a report:\n{log}");
    assert_ne!(std::fs::read_to_string(whole.join("results.json")).unwrap(), before, "the other settings' report was not written");
    let out = specgr(&["eval", "--dataset", "synthetic", "--reuse-finished"]).output().unwrap();
    assert!(!out.status.success(), "--reuse-finished without --report was accepted");

    // `--tiger-checkpoint`: a copy of the run's best model frozen elsewhere gives the
    // same lists, and the report names the copy; a directory without one is refused.
    let best = runs.join("synthetic/tiger-rqkmeans-tiny/best");
    let frozen = tmp.path().join("frozen/best");
    crate::identity::copy_dir(&best, &frozen);
    let tiger_only = |report: &Path, extra: &[&str]| -> Vec<String> {
        [
            "eval", "--dataset", "synthetic", "--ids", "rqkmeans", "--preset", "tiny", "--methods", "tiger", "--k", "10",
            "--beam-size", "10", "--limit", "24", "--runs", &runs_s, "--report",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([report.display().to_string()])
        .chain(extra.iter().map(|s| s.to_string()))
        .collect()
    };
    let (own, copy) = (tmp.path().join("own"), tmp.path().join("copy"));
    let frozen_s = frozen.display().to_string();
    for (report, extra) in [(&own, &[][..]), (&copy, &["--tiger-checkpoint", frozen_s.as_str()][..])] {
        let args = tiger_only(report, extra);
        run_ok(specgr(&args.iter().map(String::as_str).collect::<Vec<_>>()));
    }
    assert_eq!(without_times(&results(&own)).0, without_times(&results(&copy)).0, "the frozen copy ranks otherwise");
    assert_eq!(results(&copy)["provenance"]["config"]["inputs"]["tiger"]["dir"], frozen_s.as_str());
    // `--matmul bf16`: the report says so (and a float32 report keeps the key it had
    // before the flag existed); a tiny model's lists stay close to float32's.
    let half = tmp.path().join("bf16");
    let args = tiger_only(&half, &["--matmul", "bf16"]);
    run_ok(specgr(&args.iter().map(String::as_str).collect::<Vec<_>>()));
    let (r32, r16) = (results(&own), results(&half));
    assert_eq!(r16["provenance"]["config"]["matmul"], "bf16");
    assert!(r32["provenance"]["config"].get("matmul").is_none(), "a float32 report names no matmul");
    assert!(r16["notes"].to_string().contains("bfloat16"), "{}", r16["notes"]);
    let recall = |r: &serde_json::Value| -> f64 {
        let row = r["rows"].as_array().unwrap().iter().find(|row| row["subset"] == "overall").unwrap().clone();
        row["recall@10"].as_f64().unwrap()
    };
    assert!((recall(&r32) - recall(&r16)).abs() <= 0.25, "recall@10 f32 {} vs bf16 {}", recall(&r32), recall(&r16));
    let missing = tmp.path().join("no-model").display().to_string();
    let args = tiger_only(&tmp.path().join("none"), &["--tiger-checkpoint", &missing]);
    let out = specgr(&args.iter().map(String::as_str).collect::<Vec<_>>()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains(&missing), "{err}");
}
