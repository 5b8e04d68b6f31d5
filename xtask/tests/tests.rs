//! Tests of the xtask library against a local HTTP server on 127.0.0.1 (never the internet).

mod server;

use server::Server;
use xtask::download::{Fetch, Outcome, Quiet, fetch, sha256_file};

fn body(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn downloads_verify_and_rename_atomically() {
    let data = body(300_000);
    let server = Server::start(vec![("/f.bin".into(), data.clone())]);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("sub/f.bin");
    let job = Fetch { urls: vec![server.url("/f.bin")], dest: dest.clone(), sha256: Some(sha256(&data)) };
    let out = fetch(&job, &mut Quiet).unwrap();
    assert_eq!(out, Outcome::Downloaded { sha256: sha256(&data), resumed_from: 0 });
    assert_eq!(std::fs::read(&dest).unwrap(), data);
    assert!(!dir.path().join("sub/f.bin.partial").exists());
    // A second run finds the file and does not fetch it again.
    let requests = server.requests();
    assert_eq!(fetch(&job, &mut Quiet).unwrap(), Outcome::Present { sha256: sha256(&data) });
    assert_eq!(server.requests(), requests);
}

#[test]
fn an_interrupted_download_resumes_with_a_range_request() {
    let data = body(500_000);
    let server = Server::start(vec![("/f.bin".into(), data.clone())]);
    server.cut_next_response_after(123_456);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("f.bin");
    let job = Fetch { urls: vec![server.url("/f.bin")], dest: dest.clone(), sha256: Some(sha256(&data)) };
    let err = fetch(&job, &mut Quiet).unwrap_err().to_string();
    assert!(!dest.exists(), "a partial file never takes the final name ({err})");
    let partial = dir.path().join("f.bin.partial");
    assert_eq!(std::fs::metadata(&partial).unwrap().len(), 123_456);
    let out = fetch(&job, &mut Quiet).unwrap();
    assert_eq!(out, Outcome::Downloaded { sha256: sha256(&data), resumed_from: 123_456 });
    assert_eq!(sha256_file(&dest).unwrap(), sha256(&data));
    assert_eq!(server.last_range().as_deref(), Some("bytes=123456-"));
}

#[test]
fn a_checksum_mismatch_keeps_nothing() {
    let server = Server::start(vec![("/f.bin".into(), body(1000))]);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("f.bin");
    let job = Fetch { urls: vec![server.url("/f.bin")], dest: dest.clone(), sha256: Some("00".repeat(32)) };
    let err = fetch(&job, &mut Quiet).unwrap_err().to_string();
    assert!(err.contains("checksum mismatch"), "{err}");
    assert!(!dest.exists() && !dir.path().join("f.bin.partial").exists());
}

#[test]
fn mirrors_are_tried_after_a_failing_url() {
    let data = body(10);
    let server = Server::start(vec![("/good".into(), data.clone())]);
    let dir = tempfile::tempdir().unwrap();
    let job = Fetch {
        urls: vec![server.url("/missing"), server.url("/good")],
        dest: dir.path().join("x"),
        sha256: None,
    };
    assert!(matches!(fetch(&job, &mut Quiet).unwrap(), Outcome::Downloaded { .. }));
    let job = Fetch { urls: vec![server.url("/missing")], dest: dir.path().join("y"), sha256: None };
    assert!(fetch(&job, &mut Quiet).unwrap_err().to_string().contains("HTTP 404"));
}

#[test]
fn encoder_download_uses_hub_urls_and_skips_missing_optional_files() {
    let files = vec![
        ("/org/model/resolve/main/config.json".to_owned(), b"{}".to_vec()),
        ("/org/model/resolve/main/model.safetensors".to_owned(), body(5000)),
        ("/org/model/resolve/main/tokenizer.json".to_owned(), b"{\"x\":1}".to_vec()),
        ("/org/model/resolve/main/1_Pooling/config.json".to_owned(), b"{}".to_vec()),
    ];
    let server = Server::start(files);
    let dir = tempfile::tempdir().unwrap();
    let sums = xtask::encoder::download_encoder(&server.url(""), "org/model", "main", dir.path(), &mut Quiet).unwrap();
    assert_eq!(sums.len(), 4);
    assert!(dir.path().join("1_Pooling/config.json").is_file());
    let listing = std::fs::read_to_string(dir.path().join("checksums.sha256")).unwrap();
    assert!(listing.contains(&format!("{}  model.safetensors", sha256(&body(5000)))));

    // A required file the hub lacks is an error.
    let server = Server::start(vec![("/org/model/resolve/main/config.json".to_owned(), b"{}".to_vec())]);
    let dir = tempfile::tempdir().unwrap();
    let err = xtask::encoder::download_encoder(&server.url(""), "org/model", "main", dir.path(), &mut Quiet);
    assert!(format!("{:#}", err.unwrap_err()).contains("model.safetensors"));
}

mod experiments {
    use std::path::Path;

    use xtask::experiment::{Experiment, Value};

    #[test]
    fn every_shipped_experiment_parses() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../experiments");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let e = Experiment::read(&path).unwrap_or_else(|err| panic!("{err:#}"));
                assert!(path.file_stem().unwrap().to_string_lossy() == e.name, "{} names itself {}", path.display(), e.name);
                n += 1;
            }
        }
        assert!(n >= 4, "found {n} experiments");
    }

    #[test]
    fn unknown_keys_and_settings_say_what_is_expected() {
        let p = Path::new("x.toml");
        let err = Experiment::parse("name = \"x\"\ntitle = \"t\"\ndataset = \"d\"\ncolour = 1\n", p).unwrap_err().to_string();
        assert!(err.contains("colour") && err.contains("expected keys"), "{err}");
        let err = Experiment::parse("name = \"x\"\ntitle = \"t\"\ndataset = \"d\"\n[eval]\ndelta = 5\n", p).unwrap_err().to_string();
        assert!(err.contains("`delta`") && err.contains("draft-size"), "{err}");
        let text = "name = \"x\"\ntitle = \"t\"\ndataset = \"d\"\n[tune]\nsetting = \"threshold\"\nvalues = [-1.0]\nmethod = \"M\"\nmetric = \"mrr\"\n";
        let err = Experiment::parse(text, p).unwrap_err().to_string();
        assert!(err.contains("ndcg@50"), "{err}");
    }

    #[test]
    fn settings_become_specgr_eval_flags() {
        let e = Experiment::parse(
            "name = \"x\"\ntitle = \"t\"\ndataset = \"d\"\n[eval]\nthreshold = -1.4\nk = 50\nmethods = \"tiger\"\n",
            Path::new("x.toml"),
        )
        .unwrap();
        assert_eq!(e.eval["threshold"], Value::Float(-1.4));
        assert_eq!(
            Experiment::args(&e.dataset, &e.eval),
            ["eval", "--dataset", "d", "--k", "50", "--methods", "tiger", "--threshold", "-1.4"]
        );
        // An empty string leaves the flag out: the baseline row of an ablation sweep.
        let mut settings = e.eval.clone();
        settings.insert("without".into(), Value::Str(String::new()));
        assert_eq!(Experiment::args(&e.dataset, &settings), Experiment::args(&e.dataset, &e.eval));
        settings.insert("without".into(), Value::Str("rerank".into()));
        assert!(Experiment::args(&e.dataset, &settings).ends_with(&["--without".into(), "rerank".into()]));
    }

    #[test]
    fn tuning_reads_the_overall_metric_of_a_report() {
        use recdata::report::{Provenance, Report, ResultRow};
        let dir = tempfile::tempdir().unwrap();
        let row = |subset: &str, ndcg_50| ResultRow {
            method: "A".into(),
            id: Some("a".into()),
            subset: subset.into(),
            examples: 4,
            recall_5: None,
            ndcg_5: None,
            recall_10: 0.5,
            ndcg_10: 0.2,
            recall_50: f64::NAN,
            ndcg_50,
            standard_errors: None,
            seconds_per_query: 0.01,
            unseen_share_of_output: 0.0,
        };
        let report = Report {
            title: "t".into(),
            dataset: "d".into(),
            rows: vec![row("unseen", 0.9), row("overall", 0.25)],
            notes: vec![],
            provenance: Provenance::new(0, serde_json::json!({}), "rev".into(), "machine".into()),
        };
        report.write(dir.path()).unwrap();
        let path = dir.path().join("results.json");
        let read = |method, metric| xtask::experiment::read_metric(&path, method, metric);
        assert_eq!(read("A", "ndcg@50").unwrap(), 0.25, "by the printed name");
        assert_eq!(read("a", "ndcg@50").unwrap(), 0.25, "by the id");
        let err = read("B", "ndcg@50").unwrap_err().to_string();
        assert!(err.contains("no overall `ndcg@50` for method `B`") && err.contains("it has: a"), "{err}");
        let err = read("A", "recall@50").unwrap_err().to_string();
        assert!(err.contains("no overall `recall@50`"), "not computed (null): {err}");
        let err = read("A", "ndcg@20").unwrap_err().to_string();
        assert!(err.contains("unknown metric `ndcg@20`"), "{err}");
        std::fs::write(&path, r#"{"rows": []}"#).unwrap();
        let err = format!("{:#}", read("A", "ndcg@50").unwrap_err());
        assert!(err.contains("not a report that `specgr` wrote"), "{err}");
    }
}

mod stamps {
    use xtask::stamp::{Status, check, dataset_fingerprint, stamp_text, write};

    #[test]
    fn a_run_trained_from_other_inputs_is_set_aside_not_resumed() {
        let root = tempfile::tempdir().unwrap();
        let run = root.path().join("tiger-rqvae-small");
        let a = stamp_text(&[("data", "d1".into()), ("ids", "i1".into())]);
        let b = stamp_text(&[("data", "d1".into()), ("ids", "i2".into())]);
        assert_eq!(a, "data d1\nids i1\n");
        assert_eq!(check(&run, &a).unwrap(), Status::Fresh);

        std::fs::create_dir_all(run.join("last")).unwrap();
        std::fs::write(run.join("last").join("model-3.mpk"), b"old model").unwrap();
        assert_eq!(check(&run, &a).unwrap(), Status::Unstamped, "older runs are kept");
        write(&run, &a).unwrap();
        assert_eq!(check(&run, &a).unwrap(), Status::Matches);

        // New IDs: the old run moves aside with its files; the stage starts afresh.
        let aside = root.path().join("tiger-rqvae-small.stale-1");
        assert_eq!(check(&run, &b).unwrap(), Status::SetAside(aside.clone()));
        assert!(!run.exists());
        assert_eq!(std::fs::read(aside.join("last").join("model-3.mpk")).unwrap(), b"old model");
        write(&run, &b).unwrap();
        assert_eq!(
            check(&run, &a).unwrap(),
            Status::SetAside(root.path().join("tiger-rqvae-small.stale-2")),
            "earlier set-aside runs are never overwritten"
        );
        assert!(aside.join("inputs-stamp.txt").exists());
    }

    #[test]
    fn the_dataset_fingerprint_follows_the_content() {
        let config = recdata::synthetic::SyntheticConfig::tiny();
        let a = config.generate(1).unwrap();
        assert_eq!(dataset_fingerprint(&a), dataset_fingerprint(&config.generate(1).unwrap()));
        assert_ne!(dataset_fingerprint(&a), dataset_fingerprint(&config.generate(2).unwrap()));
        assert_eq!(dataset_fingerprint(&a).len(), 64);
    }
}

/// Runs `cargo xtask reproduce` in a temporary directory where the build stage cannot
/// start (no `cargo`): what it does before building, and how it fails.
fn reproduce_before_building(args: &[&str], dir: &std::path::Path, hub: Option<&str>) -> (String, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.arg("reproduce")
        .args(args)
        .arg("--data-root")
        .arg(dir.join("data"))
        .arg("--out")
        .arg(dir.join("out"))
        .current_dir(dir)
        .env("RUST_BACKTRACE", "0")
        .env_remove("SPECGR_MODELS")
        .env_remove("CARGO")
        // A `cargo` that cannot run: reaching the build stage fails with a message of its own.
        .env("PATH", "");
    if let Some(hub) = hub {
        cmd.env("HF_ENDPOINT", hub);
    }
    let out = cmd.output().unwrap();
    assert!(!out.status.success(), "reproduce {args:?} succeeded");
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// `cargo xtask reproduce` run on bad input: it must fail before building anything,
/// with an error that says what was expected.
fn reproduce_error(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let encoder = dir.path().join("encoder");
    std::fs::create_dir_all(&encoder).unwrap();
    std::fs::write(encoder.join("model.safetensors"), b"").unwrap();
    let encoder = encoder.display().to_string();
    let args: Vec<&str> = args.iter().copied().chain(["--encoder", encoder.as_str()]).collect();
    let (_, err) = reproduce_before_building(&args, dir.path(), None);
    assert!(!err.contains("running cargo build"), "reproduce {args:?} reached the build: {err}");
    err
}

#[test]
fn reproduce_downloads_a_missing_encoder_from_the_hub_before_building() {
    let model = "/sentence-transformers/all-MiniLM-L6-v2/resolve/main";
    let files: Vec<(String, Vec<u8>)> = ["config.json", "model.safetensors", "tokenizer.json"]
        .iter()
        .map(|f| (format!("{model}/{f}"), body(100)))
        .collect();
    let server = Server::start(files);
    let dir = tempfile::tempdir().unwrap();
    let encoder = dir.path().join("models").join("all-MiniLM-L6-v2");
    let (out, err) = reproduce_before_building(&["--encoder", &encoder.display().to_string()], dir.path(), Some(&server.url("")));
    assert!(out.contains("downloading sentence-transformers/all-MiniLM-L6-v2"), "{out}");
    assert_eq!(std::fs::read(encoder.join("model.safetensors")).unwrap(), body(100));
    assert!(encoder.join("checksums.sha256").is_file());
    // Then it went on to the build, which cannot run here.
    assert!(err.contains("running cargo build"), "{err}");

    // --offline: no download, and the error says how to provide the encoder.
    let dir = tempfile::tempdir().unwrap();
    let (out, err) = reproduce_before_building(&["--offline"], dir.path(), Some(&server.url("")));
    assert!(!out.contains("downloading") && err.contains("no sentence encoder in models/all-MiniLM-L6-v2"), "{err}");
    assert!(err.contains("cargo xtask download-encoder") && !err.contains("running cargo build"), "{err}");

    // A hub without the model: the error says where the encoder was expected and how to provide it.
    let server = Server::start(Vec::new());
    let dir = tempfile::tempdir().unwrap();
    let (_, err) = reproduce_before_building(&[], dir.path(), Some(&server.url("")));
    assert!(err.contains("no sentence encoder in models/all-MiniLM-L6-v2") && err.contains("HTTP 404"), "{err}");
    assert!(err.contains("SPECGR_MODELS") && !err.contains("running cargo build"), "{err}");
}

#[test]
fn reproduce_rejects_an_unknown_dataset_or_missing_data_before_building() {
    let err = reproduce_error(&["--dataset", "nope"]);
    assert!(err.contains("unknown dataset `nope`") && err.contains("beauty-2014"), "{err}");
    // With --offline a missing dataset is not downloaded (without, it is; not tested
    // here: the shipped manifests name the real servers).
    let err = reproduce_error(&["--dataset", "beauty-2014", "--offline"]);
    assert!(err.contains("no data found in") && err.contains("cargo xtask download beauty-2014"), "{err}");
    let err = reproduce_error(&["--levels", "0"]);
    assert!(err.contains("'0' for '--levels") && err.contains("1 to 64 code levels"), "{err}");
    let err = reproduce_error(&["--max-minutes", "0"]);
    assert!(err.contains("'0' for '--max-minutes") && err.contains("positive number of minutes"), "{err}");
}

/// A user's own interaction log goes through the whole main job in one command:
/// `cargo xtask reproduce --manifest my-data/dataset.toml` on a tiny generic CSV the
/// test writes (issue #21 §1), every stage on a small budget, and the report lands in
/// the untracked `runs/results/` of the working directory.
#[test]
fn reproduce_runs_a_users_own_csv_from_its_manifest() {
    let models = std::env::var_os("SPECGR_MODELS")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("SPECGR_DATA").map(|d| std::path::PathBuf::from(d).join("../models")));
    let Some(encoder) = models.map(|m| m.join("all-MiniLM-L6-v2")).filter(|e| e.join("model.safetensors").is_file()) else {
        println!("skipping reproduce_runs_a_users_own_csv_from_its_manifest: all-MiniLM-L6-v2 not found (set SPECGR_MODELS)");
        return;
    };
    // The `specgr` binary `cargo test --workspace` builds beside this one (for bench's tests).
    let specgr = std::path::Path::new(env!("CARGO_BIN_EXE_xtask")).with_file_name(format!("specgr{}", std::env::consts::EXE_SUFFIX));
    if !specgr.is_file() {
        println!("skipping reproduce_runs_a_users_own_csv_from_its_manifest: {} not built (run the workspace's tests)", specgr.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("my-data");
    std::fs::create_dir(&data).unwrap();
    // 60 users, 7 interactions each over 48 items (the last 8 appear only late: unseen
    // items of the test part), titles with a comma inside quotes.
    let mut rows = String::from("user,item,ts\n");
    for u in 0..60u32 {
        for t in 0..7u32 {
            let late = u % 5 == 0 && t == 6;
            let item = if late { 40 + u % 8 } else { (u * 3 + t * 7) % 40 };
            rows += &format!("user{u},item{item},{}\n", 1_600_000_000 + 3_600 * (7 * u + t) + if late { 10_000_000 } else { 0 });
        }
    }
    std::fs::write(data.join("log.csv"), rows).unwrap();
    let mut items = String::from("item,title,category\n");
    for i in 0..48u32 {
        items += &format!("item{i},\"Product {i}, size {}\",shelf {}\n", i % 3, i % 6);
    }
    std::fs::write(data.join("catalog.csv"), items).unwrap();
    std::fs::write(
        data.join("dataset.toml"),
        "name = \"my-shop\"\n\n[[format]]\nkind = \"generic-csv\"\ninteractions = \"log.csv\"\nitems = \"catalog.csv\"\n\
         user_column = \"user\"\nitem_column = \"item\"\ntimestamp_column = \"ts\"\ntimestamp_unit = \"seconds\"\n\
         text_columns = [\"title\", \"category\"]\n\n[split]\nkind = \"chronological\"\nvalid = { quantile = 0.8 }\n\
         test = { quantile = 0.9 }\nmax_history = 20\n",
    )
    .unwrap();
    let reproduce = |extra: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["reproduce", "--manifest", "my-data/dataset.toml", "--preset", "tiny", "--ids", "rqkmeans"])
            .args(["--codebook-size", "8", "--epochs", "1", "--eval-every", "1", "--unisrec-epochs", "1"])
            .args(["--pp-stage1-epochs", "1", "--pp-stage2-epochs", "1", "--gammas=-3", "--offline", "--encoder"])
            .arg(&encoder)
            .args(extra)
            .current_dir(dir.path())
            .env("SPECGR_BIN", &specgr)
            .env("SPECGR_PROGRESS_SECS", "0")
            .env_remove("SPECGR_DATA")
            .output()
            .unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "reproduce {extra:?} failed:\n{stdout}\n{stderr}");
        stdout.into_owned()
    };
    let report = dir.path().join("runs/results/my-shop/reproduce-tiny-rqkmeans");
    // A training budget spent at once: TIGER and UniSRec stop at their first step, at a
    // checkpoint; reproduce stops after stage 5, says so, and writes no report.
    let stdout = reproduce(&["--max-minutes", "0.00001"]);
    assert!(stdout.contains("-- stopped: the training budget (--max-minutes 0.00001) was spent in stage 5"), "{stdout}");
    assert!(stdout.contains("stopped after --max-minutes") && !stdout.contains("stage 6/8"), "{stdout}");
    assert!(dir.path().join("runs/my-shop/tiger-rqkmeans-tiny/last/state.json").is_file());
    assert!(!report.exists() && !dir.path().join("runs/my-shop/unisrec/reproduce-stamp.json").exists());
    // The same command without the budget resumes both and goes to the end.
    let stdout = reproduce(&[]);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(report.join("results.json")).unwrap()).unwrap();
    let rows = json["rows"].as_array().unwrap();
    // Each method by its id, and the paper's name in the table.
    let methods = [
        ("tiger", "TIGER"),
        ("tiger-c", "TIGER_C"),
        ("semantic-knn", "SemanticKNN"),
        ("unisrec", "UniSRec"),
        ("specgr-knn", "SpecGR-KNN"),
        ("specgr-aux", "SpecGR_Aux"),
        ("specgr-pp", "SpecGR++"),
    ];
    let table = std::fs::read_to_string(report.join("results.md")).unwrap();
    for (method, name) in methods {
        let of = |subset: &str| rows.iter().find(|r| r["id"] == method && r["subset"] == subset);
        assert!(table.contains(&format!("| {name} |")), "{name} in the table:\n{table}");
        let overall = of("overall").unwrap_or_else(|| panic!("{method} missing: {json}"));
        assert!(overall["recall@50"].as_f64().is_some_and(|r| (0.0..=1.0).contains(&r)), "{overall}");
        assert!(of("unseen").is_some_and(|r| r["examples"].as_u64() > Some(0)), "the late items are unseen: {json}");
    }
    assert!(dir.path().join("runs/my-shop/tiger-rqkmeans-tiny/best/model.mpk").is_file());
    // `specgr tune` stored γ in the run directory, and the test evaluation used it.
    assert!(dir.path().join("runs/my-shop/tune-rqkmeans-tiny/gamma.json").is_file());
    assert!(report.join("tune.md").is_file());
    assert!(table.contains("SpecGR_Aux -3") && table.contains("tuned on valid"), "the tuned γ, said so:\n{table}");
    assert!(stdout.contains("using SPECGR_BIN"), "{stdout}");
    // Run outside the checkout, the report still names the commit specgr was built from.
    let revision = json["provenance"]["git_revision"].as_str().unwrap_or_default();
    assert!(revision.ends_with("(built)") || revision == "unknown", "{revision}");
    if std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.git").exists() {
        assert_ne!(revision, "unknown", "built in a git checkout, the binary knows its commit");
    }
    // Run again with other UniSRec settings: its run is set aside and trained anew
    // (resuming it would be refused), TIGER's is kept.
    let stdout = reproduce(&["--unisrec-batch-size", "128"]);
    assert!(stdout.contains("runs/my-shop/unisrec: trained from other inputs; moved aside"), "{stdout}");
    assert!(!stdout.contains("tiger-rqkmeans-tiny: trained from other inputs"), "{stdout}");
    assert!(report.join("results.json").is_file());
}

/// experiments/scripts/cuda-check.sh refuses, before building or writing anything, on
/// a machine without a CUDA device (the part of it a CPU-only machine can run).
mod cuda_check {
    use std::path::Path;
    use std::process::{Command, Output};

    fn run(nvidia_smi: &Path, out: &Path) -> Output {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../experiments/scripts/cuda-check.sh");
        Command::new("bash")
            .arg(script)
            .env("NVIDIA_SMI", nvidia_smi)
            .env("OUT", out)
            .output()
            .unwrap()
    }

    fn refused(output: &Output, why: &str, out: &Path) {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(why), "{stderr}");
        assert!(stderr.contains("nothing was run"), "{stderr}");
        assert!(!out.exists(), "a refused run writes no results");
    }

    #[test]
    fn refuses_without_nvidia_smi() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let output = run(&dir.path().join("no-such-nvidia-smi"), &out);
        refused(&output, "no CUDA device found: ", &out);
        refused(&output, "is not installed", &out);
    }

    #[test]
    fn refuses_when_nvidia_smi_lists_no_gpu() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        // What nvidia-smi prints on a machine whose driver sees no GPU.
        let fake = dir.path().join("nvidia-smi");
        std::fs::write(&fake, "#!/bin/sh\necho 'No devices were found'\nexit 6\n").unwrap();
        let output = run(&fake, &out);
        // Not executable: `command -v` does not find it.
        refused(&output, "is not installed", &out);
        Command::new("chmod").arg("+x").arg(&fake).status().unwrap();
        let output = run(&fake, &out);
        refused(&output, "lists no GPU (No devices were found)", &out);
    }
}
