//! The `specgr` binary killed mid-training (SIGKILL, not a polite stop) and run again
//! with the same command resumes from its last complete epoch and ends exactly where
//! an uninterrupted run with the same seed ends: the same epochs, losses, validation
//! numbers and test metrics (#8's acceptance, end to end).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_specgr");
const EPOCHS: usize = 4;

/// Seeded random unit vectors, one per item of the synthetic dataset: the test needs
/// semantic IDs, not a text encoder.
pub fn write_embeddings(runs: &Path) {
    let data = recdata::load_dataset_with("synthetic", Path::new("."), None).unwrap();
    let n = data.dataset.num_items();
    let dim = 16;
    let mut rng = recdata::rng::Rng::new(7);
    let mut v = Vec::with_capacity(n * dim);
    for _ in 0..n {
        let row: Vec<f32> = (0..dim).map(|_| rng.below(2001) as f32 / 1000.0 - 1.0).collect();
        let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
        v.extend(row.iter().map(|x| x / norm));
    }
    let path = runs.join("synthetic/embeddings/embeddings.safetensors");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    text_encoder::Embeddings::new(dim, v)
        .unwrap()
        .save(&path, Default::default())
        .unwrap();
}

fn specgr(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args).env_remove("SPECGR_DATA").stdout(Stdio::null()).stderr(Stdio::piped());
    c
}

fn train_args(runs: &Path) -> Vec<String> {
    [
        "train", "tiger", "--dataset", "synthetic", "--preset", "tiny", "--ids", "rqkmeans",
        "--epochs", "4", "--batch-size", "64", "--train-limit", "1536", "--eval-every", "1",
        "--valid-limit", "64", "--runs",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([runs.display().to_string()])
    .collect()
}

fn run_ok(mut c: Command) {
    let out = c.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn state(run: &Path) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(run.join("last/state.json")).ok()?;
    serde_json::from_str(&text).ok()
}

#[test]
fn killed_training_resumes_and_matches_an_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    let killed = tmp.path().join("killed");
    write_embeddings(&whole);
    run_ok(specgr(&[
        "semid", "fit", "--dataset", "synthetic", "--method", "rqkmeans", "--codebook-size", "8",
        "--runs", &whole.display().to_string(),
    ]));
    // Both runs start from the same embeddings and semantic IDs.
    for sub in ["embeddings", "semid/rqkmeans"] {
        let (from, to) = (whole.join("synthetic").join(sub), killed.join("synthetic").join(sub));
        std::fs::create_dir_all(&to).unwrap();
        for f in std::fs::read_dir(&from).unwrap() {
            let f = f.unwrap();
            std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
        }
    }
    let run_dir = |runs: &Path| -> PathBuf { runs.join("synthetic/tiger-rqkmeans-tiny") };

    let args = train_args(&whole);
    run_ok(specgr(&args.iter().map(String::as_str).collect::<Vec<_>>()));

    // Start the same training, SIGKILL it as soon as its first epoch is checkpointed.
    let args = train_args(&killed);
    let mut child = specgr(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if state(&run_dir(&killed)).is_some_and(|s| s["epochs_done"].as_u64() >= Some(1)) {
            child.kill().unwrap();
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("training ended ({status}) before the test could kill it");
        }
        assert!(start.elapsed() < Duration::from_secs(600), "no checkpoint within 10 min");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait().unwrap();
    let at_kill = state(&run_dir(&killed)).unwrap()["epochs_done"].as_u64().unwrap();
    assert!(
        (at_kill as usize) < EPOCHS,
        "the run finished before the kill landed; nothing was resumed"
    );

    // The same command again: it resumes (epoch 0 is not trained again) and finishes.
    let out = specgr(&args.iter().map(String::as_str).collect::<Vec<_>>()).output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(
        !log.contains("epoch 0 checkpointed") && log.contains(&format!("epoch {} checkpointed", EPOCHS - 1)),
        "the second run did not resume from the checkpoint:\n{log}"
    );
    let (a, b) = (state(&run_dir(&whole)).unwrap(), state(&run_dir(&killed)).unwrap());
    assert_eq!(b["epochs_done"].as_u64(), Some(EPOCHS as u64));
    assert_eq!(a["steps_done"], b["steps_done"]);
    assert_eq!(a["validations"], b["validations"], "validation metrics differ");
    assert_eq!(a["best"], b["best"]);
    let (la, lb) = (a["epoch_losses"].as_array().unwrap(), b["epoch_losses"].as_array().unwrap());
    for (x, y) in la.iter().zip(lb) {
        let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
        assert!((x - y).abs() < 1e-5, "epoch losses {la:?} vs {lb:?}");
    }
    // The kept best models give the same test numbers. (Their bytes may differ in
    // the last bits: Flex's threaded kernels do not fix the order of float sums, so
    // two uninterrupted runs differ there too.)
    let metrics = |runs: &Path| -> serde_json::Value {
        let out = specgr(&[
            "eval", "--dataset", "synthetic", "--ids", "rqkmeans", "--preset", "tiny",
            "--methods", "tiger", "--limit", "200", "--json", "--runs", &runs.display().to_string(),
        ])
        .stdout(Stdio::piped())
        .output()
        .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v[0]["metrics"].clone()
    };
    let (ma, mb) = (metrics(&whole), metrics(&killed));
    assert!(ma.is_object() || ma.is_array(), "no metrics in the eval output: {ma}");
    assert_eq!(ma, mb, "test metrics of the resumed run differ");
}
