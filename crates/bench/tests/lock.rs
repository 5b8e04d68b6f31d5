//! Run-directory locks end to end (#20 §1): a stage refuses a run directory another
//! process is writing, naming that process, and takes over the lock of a killed one.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_specgr");

fn specgr(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args).env_remove("SPECGR_DATA").env_remove("RUST_LOG").stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

fn refused(out: Output, pid: u32, holder_command: &str) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "it ran although the directory was locked:\n{err}");
    assert!(err.contains("is in use by another run") && err.contains(&format!("PID {pid}")), "{err}");
    assert!(err.contains(holder_command), "{err}");
    err
}

/// Each stage that writes a run directory refuses one that this process holds.
#[test]
fn every_writing_stage_refuses_a_locked_run_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().display().to_string();
    crate::resume::write_embeddings(tmp.path());
    let me = std::process::id();
    let cases: [(&str, Vec<&str>); 5] = [
        ("synthetic/tiger-rqkmeans-tiny", vec!["train", "tiger", "--preset", "tiny", "--ids", "rqkmeans"]),
        ("synthetic/unisrec", vec!["train", "unisrec"]),
        ("synthetic/specgr-pp-rqkmeans-tiny", vec!["train", "specgr++", "--preset", "tiny", "--ids", "rqkmeans"]),
        ("synthetic/semid/rqkmeans", vec!["semid", "fit", "--method", "rqkmeans", "--codebook-size", "8"]),
        ("report", vec!["eval", "--methods", "semantic-knn", "--report"]),
    ];
    for (dir, args) in cases {
        let dir = tmp.path().join(dir);
        let holder = format!("holder of {}", dir.display());
        let lock = recdata::RunLock::acquire_as(&dir, &holder).unwrap();
        let mut args = args;
        let report = dir.display().to_string();
        if args.last() == Some(&"--report") {
            args.push(&report);
        }
        args.extend(["--dataset", "synthetic", "--runs", &runs]);
        refused(specgr(&args).output().unwrap(), me, &holder);
        drop(lock);
    }
}

/// Two `specgr train tiger` runs (different seeds) into one run directory: the second
/// is refused while the first runs; once the first is killed, its lock is taken over.
#[test]
fn a_second_training_into_the_same_run_directory_is_refused_while_the_first_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().display().to_string();
    crate::resume::write_embeddings(tmp.path());
    let fit = specgr(&[
        "semid", "fit", "--dataset", "synthetic", "--method", "rqkmeans", "--codebook-size", "8", "--runs", &runs,
    ])
    .output()
    .unwrap();
    assert!(fit.status.success(), "{}", String::from_utf8_lossy(&fit.stderr));
    let train = |seed: &str, epochs: &str| {
        specgr(&[
            "train", "tiger", "--dataset", "synthetic", "--preset", "tiny", "--ids", "rqkmeans", "--epochs", epochs,
            "--batch-size", "64", "--train-limit", "256", "--valid-limit", "16", "--eval-every", "1000", "--seed", seed,
            "--runs", &runs,
        ])
    };
    // The first run would take minutes (no validation, so no early stop): it is killed
    // as soon as the second has been refused.
    let mut first = train("1", "1000").stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let lock_file = tmp.path().join("synthetic/tiger-rqkmeans-tiny/.lock");
    let start = Instant::now();
    while !std::fs::read_to_string(&lock_file).is_ok_and(|t| t.contains(&first.id().to_string())) {
        if let Some(status) = first.try_wait().unwrap() {
            panic!("the first run ended ({status}) before it was seen holding the lock");
        }
        assert!(start.elapsed() < Duration::from_secs(120), "no lock file within 2 min");
        std::thread::sleep(Duration::from_millis(10));
    }
    let second = train("2", "1000").output();
    let still_running = first.try_wait().unwrap().is_none();
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(still_running, "the first run ended before the second was refused");
    refused(second.unwrap(), first.id(), "--seed 1");

    // Killed, the first run leaves its lock file; the next run takes it over and says so.
    assert!(lock_file.exists(), "SIGKILL leaves the lock file behind");
    // (It may then stop at the first run's checkpoint, written with another seed.)
    let out = train("2", "1").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("taking over the stale lock of PID {}", first.id())), "{err}");
    assert!(!lock_file.exists(), "the lock is released when the run ends");
}
