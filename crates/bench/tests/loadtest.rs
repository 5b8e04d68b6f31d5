//! `specgr loadtest` (#25 §4) on the tiny run, so that the driver cannot rot: every
//! request sent is counted and answered, every item added while recommendations run
//! is in the catalog and on disk, the run's overlay is put back afterwards, and bad
//! arguments are refused. Counts only: nothing here depends on how fast anything is.

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_specgr");

fn loadtest(args: &[&str]) -> Output {
    Command::new(BIN).arg("loadtest").args(args).env_remove("SPECGR_DATA").output().unwrap()
}

#[test]
fn the_load_test_answers_every_request_and_keeps_every_added_item() {
    let tmp = crate::serving::copy_of_run();
    let runs = tmp.path().display().to_string();
    let out = tmp.path().join("loadtest.json").display().to_string();
    let o = loadtest(&[
        "--methods", "tiger,specgr-aux,specgr-pp", "--clients", "1,3", "--requests", "6", "--warmup", "1",
        "--add-items", "3", "--add-clients", "2", "--max-seconds", "300", "--out", &out, "--",
        "--dataset", "synthetic", "--ids", "rqkmeans", "--preset", "tiny", "--k", "3", "--draft-size", "10",
        "--beam-size", "10", "--batch-size", "4", "--runs", &runs,
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "specgr loadtest: {stderr}");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("SpecGR_Aux (specgr-aux)") && stdout.contains("2+add"), "{stdout}");

    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let methods = report["methods"].as_array().unwrap();
    let names: Vec<&str> = methods.iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["TIGER", "SpecGR_Aux", "SpecGR++"]);
    for m in methods {
        let phases = m["phases"].as_array().unwrap();
        let clients: Vec<u64> = phases.iter().map(|p| p["clients"].as_u64().unwrap()).collect();
        assert_eq!(clients, [1, 3], "{m}");
        for p in phases {
            assert_eq!((p["sent"].as_u64(), p["ok"].as_u64(), p["failed"].as_u64()), (Some(6), Some(6), Some(0)), "{p}");
            assert!(p["p50_ms"].as_f64().unwrap() <= p["p99_ms"].as_f64().unwrap(), "{p}");
        }
        let w = &m["while_adding"];
        assert_eq!((w["recommend"]["ok"].as_u64(), w["recommend"]["failed"].as_u64()), (Some(6), Some(0)), "{w}");
        assert_eq!((w["adds"]["ok"].as_u64(), w["adds"]["failed"].as_u64()), (Some(3), Some(0)), "{w}");
        assert_eq!(w["added"].as_array().unwrap().len(), 3, "{w}");
        assert_eq!(w["catalog_after"].as_u64().unwrap(), w["catalog_before"].as_u64().unwrap() + 3, "{w}");
        assert_eq!(w["missing_from_overlay"], serde_json::json!([]), "{w}");
        assert_eq!(w["clean_exit"], true, "{w}");
    }
    // The run's catalog is as it was (it had no overlay).
    assert!(!tmp.path().join("synthetic/catalog/overlay.json").exists(), "the overlay is put back");
}

#[test]
fn bad_load_test_arguments_are_refused() {
    let cases: [(&[&str], &str); 6] = [
        (&["--clients", "0"], "at least 1"),
        (&["--clients", "1,0"], "at least 1"),
        (&["--requests", "0"], "at least 1"),
        (&["--max-seconds", "0"], "greater than 0"),
        (&["--", "--method", "tiger"], "sets it itself"),
        (&["--", "--no-such-flag"], "the `specgr serve` arguments after `--`"),
    ];
    for (args, fragment) in cases {
        let o = loadtest(args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} was accepted");
        assert!(stderr.contains(fragment), "{args:?}: `{fragment}` in {stderr}");
    }
}
