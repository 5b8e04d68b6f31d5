//! Artifact identity (#20 §2): semantic IDs and TIGER models carry what they were made
//! from, and every consumer refuses one made from something else, naming both sides.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_specgr");

fn specgr(args: &[&str]) -> Output {
    Command::new(BIN).args(args).env_remove("SPECGR_DATA").output().unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = specgr(args);
    assert!(out.status.success(), "specgr {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// Runs a command that must fail; returns its stderr, which must contain every fragment.
fn refused(args: &[&str], fragments: &[&str]) -> String {
    let out = specgr(args);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "`specgr {}` ran:\n{err}", args.join(" "));
    for f in fragments {
        assert!(err.contains(f), "`specgr {}`: the error should mention `{f}`:\n{err}", args.join(" "));
    }
    err
}

/// Writes the `manifest.json` that `specgr embed` keeps beside the embeddings of the
/// built-in synthetic dataset (without running a sentence encoder).
fn write_cache_manifest(dir: &Path) {
    let data = recdata::load_dataset_with("synthetic", Path::new("."), None).unwrap().dataset;
    let embeddings = dir.join(text_encoder::EMBEDDINGS_FILE);
    let manifest = text_encoder::Manifest {
        format: 1,
        model_checksum: "test".into(),
        model_dir: "test".into(),
        dim: 16,
        max_seq_length: 128,
        embeddings_sha256: text_encoder::sha256_file(&embeddings).unwrap(),
        texts: data
            .catalog
            .texts()
            .iter()
            .map(|t| text_encoder::TextEntry { sha256: text_encoder::sha256_str(t), truncated: false })
            .collect(),
    };
    std::fs::write(dir.join(text_encoder::MANIFEST_FILE), serde_json::to_string(&manifest).unwrap()).unwrap();
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// `<dir>/runs` holding the built-in synthetic dataset's embeddings and their cache
/// manifest (no sentence encoder run), and that path as a string for the arguments.
fn embedded_runs(dir: &Path) -> (std::path::PathBuf, String) {
    let runs = dir.join("runs");
    crate::resume::write_embeddings(&runs);
    write_cache_manifest(&runs.join("synthetic/embeddings"));
    let runs_s = runs.display().to_string();
    (runs, runs_s)
}

#[test]
fn artifacts_made_from_other_inputs_are_refused_naming_both_sides() {
    let tmp = tempfile::tempdir().unwrap();
    let (runs, runs_s) = embedded_runs(tmp.path());
    let fit = ["semid", "fit", "--dataset", "synthetic", "--method", "rqkmeans", "--codebook-size", "8", "--runs", &runs_s];
    refused(
        &[
            "train", "tiger", "--dataset", "synthetic", "--preset", "tiny", "--ids", "rqkmeans", "--epochs", "1",
            "--runs", &runs_s,
        ],
        &["semid/rqkmeans/ids.json not found: run `specgr semid fit --dataset synthetic --method rqkmeans` first"],
    );
    ok(&fit);
    let semid = runs.join("synthetic/semid/rqkmeans");
    let ids = semid.join("ids.json");
    let stamp: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(semid.join("fit-stamp.json")).unwrap()).unwrap();
    assert_eq!(stamp["dataset"].as_str().map(str::len), Some(64), "the fit records the dataset: {stamp}");
    assert_eq!(stamp["ids_sha256"].as_str().map(str::len), Some(64), "and the IDs it wrote: {stamp}");
    let train = |preset: &str| {
        ok(&[
            "train", "tiger", "--dataset", "synthetic", "--preset", preset, "--ids", "rqkmeans", "--epochs", "1",
            "--batch-size", "64", "--train-limit", "128", "--valid-limit", "16", "--runs", &runs_s,
        ])
    };
    train("tiny");
    let tiny_best = runs.join("synthetic/tiger-rqkmeans-tiny/best");
    assert!(tiny_best.join("inputs-stamp.json").is_file());
    let eval = |preset: &str| -> Vec<String> {
        ["eval", "--dataset", "synthetic", "--ids", "rqkmeans", "--preset", preset, "--methods", "tiger", "--limit", "4",
         "--runs", &runs_s]
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    ok(&strs(&eval("tiny")));

    // A `best/` of the `tiny` preset copied where the `small` model belongs. Before:
    // evaluated as "small" without a word (the model is rebuilt from its own config).
    copy_dir(&tiny_best, &runs.join("synthetic/tiger-rqkmeans-small/best"));
    refused(
        &strs(&eval("small")),
        &["tiger-rqkmeans-small/best holds a model of the `tiny` preset trained on rqkmeans IDs", "asks for `small`"],
    );

    // A dataset of the same name from a manifest: `data synth` writes name = "synthetic".
    // Before: `train tiger --manifest` trained on the built-in dataset's IDs.
    let other = tmp.path().join("other");
    ok(&["data", "synth", "--size", "tiny", "--seed", "3", "--out", &other.display().to_string()]);
    let manifest = other.join("dataset.toml").display().to_string();
    refused(
        &[
            "train", "tiger", "--manifest", &manifest, "--preset", "tiny", "--ids", "rqkmeans", "--epochs", "1",
            "--runs", &runs_s,
        ],
        &["semid/rqkmeans was made from dataset content", "but dataset `synthetic` (--manifest", "name of its own"],
    );
    refused(
        &["semid", "fit", "--manifest", &manifest, "--method", "rqkmeans", "--codebook-size", "8", "--runs", &runs_s],
        &["holds embeddings of", "texts, but dataset `synthetic` (--manifest"],
    );

    // `ids.json` rewritten after its fit (an interrupted refit leaves the old stamp).
    // Before: `semid fit` said "kept" and training used the new IDs with the old stamp.
    let original = std::fs::read(&ids).unwrap();
    std::fs::write(&ids, [&original[..], b"\n"].concat()).unwrap();
    refused(&strs(&eval("tiny")), &["ids.json (SHA-256", "is not the file its fit wrote"]);
    let out = ok(&fit);
    assert!(out.contains("refitting") && out.contains("is not the file this fit wrote") && !out.contains("kept"), "{out}");

    // IDs refitted with other settings: the TIGER trained on the old ones is refused.
    ok(&["semid", "fit", "--dataset", "synthetic", "--method", "rqkmeans", "--codebook-size", "8", "--seed", "7", "--runs", &runs_s]);
    assert_ne!(std::fs::read(&ids).unwrap(), original, "another seed gives other IDs");
    refused(
        &strs(&eval("tiny")),
        &["tiger-rqkmeans-tiny/best was trained on semantic IDs with SHA-256", "Train it again"],
    );
    // Training again into that run directory would mix the two models' files.
    refused(
        &[
            "train", "tiger", "--dataset", "synthetic", "--preset", "tiny", "--ids", "rqkmeans", "--epochs", "1",
            "--runs", &runs_s,
        ],
        &["tiger-rqkmeans-tiny holds a model of other inputs", "move the directory aside", "was trained on semantic IDs"],
    );

    // Run directories written before identities existed are read, with a warning.
    let mut old_stamp: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(semid.join("fit-stamp.json")).unwrap()).unwrap();
    old_stamp.as_object_mut().unwrap().retain(|k, _| k != "dataset" && k != "ids_sha256");
    std::fs::write(semid.join("fit-stamp.json"), old_stamp.to_string()).unwrap();
    std::fs::remove_file(tiny_best.join("inputs-stamp.json")).unwrap();
    let out = specgr(&strs(&eval("tiny")));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("no identity in fit-stamp.json") && err.contains("no inputs-stamp.json"), "{err}");
    let out = ok(&[&fit[..], &["--seed", "7"]].concat());
    assert!(out.contains("kept"), "an old stamp of the same settings still keeps the fit: {out}");

    // A UniSRec drafter trained on embeddings that were made again since.
    let train_unisrec = ["train", "unisrec", "--dataset", "synthetic", "--epochs", "1", "--runs", &runs_s];
    ok(&train_unisrec);
    // The same command on the finished run changes nothing, its stamp included: an
    // `eval` starting meanwhile must not find it marked unfinished, even for a moment.
    let stamp_path = runs.join("synthetic/unisrec/inputs-stamp.json");
    let written = std::fs::metadata(&stamp_path).unwrap().modified().unwrap();
    ok(&train_unisrec);
    assert_eq!(std::fs::metadata(&stamp_path).unwrap().modified().unwrap(), written, "the finished run's stamp was rewritten");
    let unisrec_eval = ["eval", "--dataset", "synthetic", "--ids", "rqkmeans", "--methods", "unisrec", "--limit", "4", "--runs", &runs_s];
    ok(&unisrec_eval);
    let emb_dir = runs.join("synthetic/embeddings");
    let (e, _) = text_encoder::Embeddings::load(&emb_dir.join(text_encoder::EMBEDDINGS_FILE)).unwrap();
    let flipped: Vec<f32> = e.as_slice().iter().map(|x| -x).collect();
    text_encoder::Embeddings::new(e.dim(), flipped).unwrap().save(&emb_dir.join(text_encoder::EMBEDDINGS_FILE), Default::default()).unwrap();
    write_cache_manifest(&emb_dir);
    refused(&unisrec_eval, &["synthetic/unisrec was trained on text embeddings with SHA-256", "Train it again: `specgr train unisrec --dataset synthetic`"]);
    // A training that was killed leaves the stamp it wrote at its start.
    let finished: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&stamp_path).unwrap()).unwrap();
    let mut stamp = finished.clone();
    stamp["embeddings_sha256"] = "unfinished".into();
    std::fs::write(&stamp_path, stamp.to_string()).unwrap();
    let unfinished = ["synthetic/unisrec: its training did not finish (killed", "resumes it: `specgr train unisrec --dataset synthetic`", "--allow-unfinished"];
    refused(&unisrec_eval, &unfinished);
    // Asked for, its best epoch so far is used; a stamp of this old form names no
    // embeddings, so the flipped ones cannot be caught (it says so).
    let allowed = [&unisrec_eval[..], &["--allow-unfinished"]].concat();
    ok(&allowed);
    // Today's stamp of a running training keeps the embeddings' hash: refused without
    // the flag, and with it still refused for embeddings made again since.
    let mut stamp = finished;
    stamp["finished"] = false.into();
    std::fs::write(&stamp_path, stamp.to_string()).unwrap();
    refused(&unisrec_eval, &unfinished);
    refused(&allowed, &["synthetic/unisrec was trained on text embeddings with SHA-256"]);

    // A matrix that its manifest does not vouch for (another run's, or half rewritten).
    let embeddings = runs.join("synthetic/embeddings").join(text_encoder::EMBEDDINGS_FILE);
    let rows = text_encoder::Embeddings::load(&embeddings).unwrap().0.len();
    text_encoder::Embeddings::new(16, vec![0.25; rows * 16]).unwrap().save(&embeddings, Default::default()).unwrap();
    refused(&fit, &["embeddings.safetensors (SHA-256", "is not the matrix", "manifest.json vouches for", "specgr embed --dataset synthetic"]);
}

/// SpecGR++ models carry their identity too (#20 §2): `eval` refuses a SpecGR++ model
/// trained on other semantic IDs, or copied from another preset's run, and training
/// into a run directory that holds a model of other inputs is refused, not mixed.
#[test]
fn specgr_pp_models_made_from_other_inputs_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (runs, runs_s) = embedded_runs(tmp.path());
    let fit = ["semid", "fit", "--dataset", "synthetic", "--method", "rqkmeans", "--codebook-size", "8", "--runs", &runs_s];
    ok(&fit);
    ok(&[
        "train", "tiger", "--dataset", "synthetic", "--preset", "tiny", "--ids", "rqkmeans", "--epochs", "1",
        "--batch-size", "64", "--train-limit", "128", "--valid-limit", "16", "--grad-clip", "global",
        "--adam-epsilon", "1e-8", "--runs", &runs_s,
    ]);
    // The optimiser flags (shared with `train specgr++`) reach TIGER's settings.
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(runs.join("synthetic/tiger-rqkmeans-tiny/last/state.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(state["train"]["grad_clip"], "global");
    assert!((state["train"]["adam_epsilon"].as_f64().unwrap() - 1e-8).abs() < 1e-12);
    let tiger_best = runs.join("synthetic/tiger-rqkmeans-tiny/best").display().to_string();
    let train_pp = [
        "train", "specgr++", "--dataset", "synthetic", "--preset", "tiny", "--ids", "rqkmeans", "--init", &tiger_best,
        "--stage1-epochs", "1", "--stage2-epochs", "1", "--train-limit", "64", "--valid-limit", "16", "--patience", "7",
        "--grad-clip", "global", "--adam-epsilon", "1e-8", "--runs", &runs_s,
    ];
    ok(&train_pp);
    let pp = runs.join("synthetic/specgr-pp-rqkmeans-tiny");
    for stage in ["stage1", "stage2"] {
        assert!(pp.join(stage).join("best/inputs-stamp.json").is_file(), "{stage} carries its identity");
        // `--patience`, `--grad-clip` and `--adam-epsilon` reach both stages' settings.
        let state: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(pp.join(stage).join("last/state.json")).unwrap()).unwrap();
        assert_eq!(state["train"]["patience"], 7, "{stage}");
        assert_eq!(state["train"]["grad_clip"], "global", "{stage}");
        assert!((state["train"]["adam_epsilon"].as_f64().unwrap() - 1e-8).abs() < 1e-12, "{stage}");
    }
    let eval = |preset: &str| -> Vec<String> {
        ["eval", "--dataset", "synthetic", "--ids", "rqkmeans", "--preset", preset, "--methods", "specgr-pp", "--limit",
         "4", "--runs", &runs_s]
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    // The report names what it evaluated: the files, their identity, the samples seen.
    let report = tmp.path().join("report").display().to_string();
    ok(&[&strs(&eval("tiny"))[..], &["--report", &report]].concat());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("report/results.json")).unwrap()).unwrap();
    let inputs = &json["provenance"]["config"]["inputs"];
    assert_eq!(inputs["ids_sha256"].as_str().map(str::len), Some(64), "{inputs}");
    let model = &inputs["specgr_pp"];
    assert!(model["dir"].as_str().unwrap().ends_with("specgr-pp-rqkmeans-tiny/stage2/best"), "{model}");
    assert_eq!(model["files_sha256"].as_str().map(str::len), Some(64), "{model}");
    assert_eq!(model["stamp"]["preset"], "tiny", "{model}");
    assert!(model["training"]["steps_done"].as_u64() > Some(0), "{model}");
    assert_eq!(model["training"]["epochs_done"], 1, "{model}");

    // The tiny run copied where the `small` one belongs. Before: evaluated as `small`.
    let small = runs.join("synthetic/specgr-pp-rqkmeans-small");
    for stage in ["stage1", "stage2"] {
        copy_dir(&pp.join(stage).join("best"), &small.join(stage).join("best"));
    }
    refused(
        &strs(&eval("small")),
        &["specgr-pp-rqkmeans-small/stage2/best holds a model of the `tiny` preset trained on rqkmeans IDs", "asks for `small`"],
    );

    // IDs refitted since: the SpecGR++ model trained on the old ones is refused.
    ok(&[&fit[..], &["--seed", "7"]].concat());
    refused(&strs(&eval("tiny")), &["specgr-pp-rqkmeans-tiny/stage2/best was trained on semantic IDs with SHA-256"]);
    // The TIGER it started from was trained on the old IDs too: refused as --init.
    let err = refused(&train_pp, &["tiger-rqkmeans-tiny/best was trained on semantic IDs with SHA-256"]);
    assert!(err.contains("--init"), "{err}");
    // Training into its run directory from scratch would mix the two models' files.
    refused(
        &[
            "train", "specgr++", "--dataset", "synthetic", "--preset", "tiny", "--ids", "rqkmeans", "--stage1-epochs",
            "1", "--stage2-epochs", "0", "--train-limit", "64", "--valid-limit", "16", "--runs", &runs_s,
        ],
        &["specgr-pp-rqkmeans-tiny holds a model of other inputs", "move the directory aside"],
    );
}
