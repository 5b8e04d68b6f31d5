//! `cargo xtask reproduce`: the pipeline on one dataset, stage by stage: data,
//! embeddings, semantic IDs, TIGER and UniSRec, SpecGR++, γ tuned on valid
//! (`specgr tune`), every method on test (`specgr eval`).

mod args;
mod budget;
mod clock;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

pub(crate) use args::{Reproduce, encoder_dir};
use budget::TrainingBudget;
use clock::StageClock;

use crate::cli::results_dir;
use crate::net::{download_dataset_into, download_encoder};

/// The SpecGR methods whose γ is tuned, and the baselines beside them.
const SPECGR_METHODS: [&str; 3] = ["specgr-knn", "specgr-aux", "specgr-pp"];
const BASELINES: [&str; 4] = ["tiger", "tiger-c", "semantic-knn", "unisrec"];

pub(crate) fn reproduce(r: &Reproduce) -> Result<()> {
    // As `specgr semid fit --levels` accepts.
    anyhow::ensure!((1..=64).contains(&r.levels), "--levels {}: 1 to 64 code levels", r.levels);
    if r.gammas.is_empty() {
        bail!("--gammas needs at least one value");
    }
    // The dataset's name (its directory under runs/ and the report's) and how each
    // `specgr` stage is told which dataset to read.
    let datasets_dir = r.datasets_dir.clone().or_else(|| Some(PathBuf::from("datasets")).filter(|d| d.is_dir()));
    let (ds_name, dataset_args): (String, Vec<String>) = match &r.manifest {
        Some(path) => {
            let manifest = recdata::Manifest::read(path)?;
            (manifest.name, vec!["--manifest".into(), path.display().to_string()])
        }
        None => {
            let mut a = vec!["--dataset".to_owned(), r.dataset.clone()];
            if let Some(dir) = &datasets_dir {
                a.extend(["--datasets-dir".to_owned(), dir.display().to_string()]);
            }
            (r.dataset.clone(), a)
        }
    };
    let ds = ds_name.as_str();
    let dsa: Vec<&str> = dataset_args.iter().map(String::as_str).collect();
    let data_root = r.data_root.as_deref();
    let feature = match r.device.as_str() {
        "cpu" => None,
        "tch-cuda" => Some("tch"),
        other => Some(other),
    };
    let dev = ["--device", r.device.as_str()];
    let k = r.codebook_size.unwrap_or(if ds == "synthetic" { 32 } else { 256 }).to_string();
    let (epochs, u_epochs, u_batch) = (r.epochs.to_string(), r.unisrec_epochs.to_string(), r.unisrec_batch_size.to_string());
    let (s1, s2) = (r.pp_stage1_epochs.to_string(), r.pp_stage2_epochs.to_string());
    // The name `specgr` gives IDs of other than three levels (`--ids rqkmeans-l5`).
    let default_ids = if ds == "synthetic" { "hkmeans" } else { "rqvae" };
    let method = r.ids.as_deref().unwrap_or(default_ids);
    let ids = match r.levels {
        3 => method.to_owned(),
        l => format!("{method}-l{l}"),
    };
    // Runs on other IDs get their own report, beside the default's.
    let mut report_name = format!("reproduce-{}", r.preset);
    if method != default_ids {
        report_name = format!("{report_name}-{method}");
    }
    if r.levels != 3 {
        report_name = format!("{report_name}-l{}", r.levels);
    }
    let levels = r.levels.to_string();
    // The run directory: `specgr`'s `--runs` default, `runs/<dataset>/`.
    let runs = recdata::RunDir::new("runs", ds);
    let tiger_best = runs.tiger_best(&ids, &r.preset).display().to_string();
    let report_dir = results_dir(r.out.clone(), r.record).join(ds).join(&report_name);
    let common: Vec<&str> =
        dsa.iter().copied().chain(["--ids", ids.as_str(), "--preset", r.preset.as_str(), dev[0], dev[1]]).collect();
    let with = |head: &[&str], tail: &[&str]| -> Vec<String> {
        head.iter().chain(common.iter()).chain(tail).map(|s| s.to_string()).collect()
    };
    println!("== reproduce: dataset `{ds}`, TIGER `{}` on {method} IDs (K = {k}, {} digits)", r.preset, r.levels + 1);
    // Fetched when missing and loaded here, before anything is built, so that an unknown
    // dataset or unreadable data fails at once; its fingerprint stamps the trained models
    // below.
    let data_hash = {
        let root = data_root.map(Path::to_owned).unwrap_or_else(recdata::default_data_root);
        let dataset = match &r.manifest {
            Some(path) => recdata::load_manifest_file(path)?.dataset,
            None => match recdata::load_dataset_with(ds, &root, datasets_dir.as_deref()) {
                // Nothing readable there (no directory, or an interrupted download): fetch it.
                Err(recdata::DataError::MissingData { dir, .. }) if !r.offline => {
                    download_dataset_into(ds, &root, &dir)?;
                    recdata::load_dataset_with(ds, &root, datasets_dir.as_deref())?.dataset
                }
                loaded => loaded?.dataset,
            },
        };
        crate::stamp::dataset_fingerprint(&dataset)
    };
    // After the data (an unknown dataset should not cost a download) and before the build.
    let encoder = encoder_dir(r);
    if !encoder.join("model.safetensors").is_file() {
        let model = crate::encoder::DEFAULT_ENCODER;
        if r.offline {
            bail!(
                "no sentence encoder in {}: point SPECGR_MODELS or --encoder at a model directory, or run \
                 `cargo xtask download-encoder {model} --encoder {}` (--offline: nothing is downloaded)",
                encoder.display(),
                encoder.display()
            );
        }
        println!("-- no sentence encoder in {}: downloading {model} there", encoder.display());
        download_encoder(model, &encoder, "main").with_context(|| {
            format!(
                "no sentence encoder in {} and downloading {model} failed: point SPECGR_MODELS or --encoder at \
                 a model directory, or run `cargo xtask download-encoder {model} --encoder {}` when online",
                encoder.display(),
                encoder.display()
            )
        })?;
    }
    let enc = encoder.display().to_string();
    let start = std::time::Instant::now();
    let mut clock = StageClock::new(8);
    let mut stage = |i: usize, name: &'static str| clock.begin(i, name);

    stage(1, "build specgr (once; a no-op when it is up to date)");
    let specgr = crate::specgr::Specgr::build(feature, data_root)?;
    let run = |args: &[&str]| specgr.run(args);
    let run_owned = |args: &[String]| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        specgr.run(&refs)
    };
    stage(2, "data: load, split, statistics");
    run(&[&["data", "stats"], dsa.as_slice()].concat())?;
    stage(3, "embeddings (cached by text hash)");
    // On the CPU, several batches at once: small matmuls leave cores idle otherwise
    // (the embeddings are the same; experiments/results/text-encoder/embed-beauty.md).
    let parallel = if r.device == "cpu" {
        std::thread::available_parallelism().map_or(1, |n| n.get()).min(4)
    } else {
        1
    };
    let threads = parallel.to_string();
    run(&[&["embed"], dsa.as_slice(), &["--encoder", &enc, "--threads", &threads, dev[0], dev[1]]].concat())?;
    stage(4, "semantic IDs");
    run(&[&["semid", "fit"], dsa.as_slice(), &["--method", method, "--codebook-size", &k, "--levels", &levels, dev[0], dev[1]]].concat())?;
    // What each trained model is made from: a model trained on other inputs is set
    // aside (never resumed or kept) when they change.
    let file_hash = |p: PathBuf| crate::download::sha256_file(&p);
    let ids_hash = file_hash(runs.semid(&ids).join("ids.json"))?;
    let emb_hash = file_hash(runs.embeddings_file())?;
    // The stamp is written before training, so a run killed midway is resumed only
    // with the inputs it started from.
    let guard = |dir: &Path, stamp: &str| -> Result<()> {
        match crate::stamp::check(dir, stamp)? {
            crate::stamp::Status::SetAside(to) => {
                println!("{}: trained from other inputs; moved aside to {}", dir.display(), to.display())
            }
            crate::stamp::Status::Unstamped => {
                println!("{}: no input stamp (an older run); assuming it matches", dir.display())
            }
            _ => {}
        }
        crate::stamp::write(dir, stamp)
    };

    // TIGER and UniSRec are independent: UniSRec trains in the background (its output in
    // a log) while TIGER trains, and TIGER's two shards take the core UniSRec leaves
    // once it has finished.
    stage(5, "train TIGER (resumes a previous run) and UniSRec beside it (skipped when trained)");
    // From here on, --max-minutes bounds the training (stages 5 and 6).
    let budget = TrainingBudget::start(r.max_minutes);
    let budget_args: Vec<String> = budget.as_ref().map(|b| b.args().to_vec()).unwrap_or_default();
    let budget_args: Vec<&str> = budget_args.iter().map(String::as_str).collect();
    let unisrec_dir = runs.unisrec();
    // Its settings are stamped too, as TIGER's below: a UniSRec run (resumable from
    // its last checkpoint) would refuse to resume with others; it is set aside instead.
    let unisrec_settings = format!("epochs {}, batch size {}", r.unisrec_epochs, r.unisrec_batch_size);
    guard(
        &unisrec_dir,
        &crate::stamp::stamp_text(&[("data", data_hash.clone()), ("embeddings", emb_hash), ("train", unisrec_settings)]),
    )?;
    let stamp_path = unisrec_dir.join("reproduce-stamp.json");
    let stamp = serde_json::json!({ "epochs": r.unisrec_epochs, "batch_size": r.unisrec_batch_size }).to_string();
    let unisrec = if std::fs::read_to_string(&stamp_path).ok().as_deref() == Some(stamp.as_str()) {
        println!("UniSRec already trained with these settings ({})", stamp_path.display());
        None
    } else {
        let args = [
            &["train", "unisrec"],
            dsa.as_slice(),
            &["--epochs", &u_epochs, "--batch-size", &u_batch, dev[0], dev[1]],
            budget_args.as_slice(),
        ]
        .concat();
        let job = specgr.spawn_logged(&args, &runs.logs().join("train-unisrec.log"))?;
        println!("UniSRec trains in the background; its output goes to {}", job.log().display());
        Some(job)
    };
    let tiger_dir = runs.tiger(&ids, &r.preset);
    // On the CPU each batch is computed in two shards on two threads: the tiny model
    // keeps only one core busy otherwise (on a GPU one stream does it all).
    let shards = if r.device == "cpu" { "2" } else { "1" };
    let eval_every = r.eval_every.to_string();
    // The training settings are stamped too: a run started with other ones cannot be
    // resumed, and is set aside instead (`specgr train` would refuse it).
    let tiger_stamp = crate::stamp::stamp_text(&[
        ("data", data_hash.clone()),
        ("ids", ids_hash.clone()),
        ("train", format!("epochs {epochs}, eval every {eval_every}, shards {shards}")),
    ]);
    guard(&tiger_dir, &tiger_stamp)?;
    let tiger_tail = [&["--epochs", epochs.as_str(), "--eval-every", &eval_every, "--shards", shards], budget_args.as_slice()].concat();
    run_owned(&with(&["train", "tiger"], &tiger_tail))?;
    if let Some(job) = unisrec {
        println!("waiting for UniSRec ({})", job.log().display());
        let log = job.log().to_owned();
        job.wait()?;
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        // A UniSRec run stopped by --max-minutes says so instead of `trained ...`, and
        // is not marked trained: the next reproduce resumes it.
        match text.lines().rev().find(|l| l.starts_with("trained")) {
            Some(last) => {
                println!("UniSRec: {last}");
                recdata::fsio::write_atomic(&stamp_path, stamp.as_bytes())?;
            }
            None => println!("UniSRec stopped before the end of its training ({})", log.display()),
        }
    }
    if let Some(b) = budget.as_ref().filter(|b| b.spent()) {
        b.say_spent("5 (TIGER and UniSRec)", runs.path());
        return Ok(());
    }

    stage(6, "train SpecGR++ from the trained TIGER (resumes a previous run)");
    let pp_dir = runs.specgr_pp(&ids, &r.preset);
    let pp_stamp = crate::stamp::stamp_text(&[
        ("data", data_hash),
        ("ids", ids_hash),
        ("tiger", file_hash(tiger_dir.join("best").join("model.mpk"))?),
    ]);
    guard(&pp_dir, &pp_stamp)?;
    let pp_limit = r.pp_train_limit.map(|n| n.to_string());
    let mut pp_tail = vec!["--init", tiger_best.as_str(), "--stage1-epochs", &s1, "--stage2-epochs", &s2];
    if let Some(n) = &pp_limit {
        pp_tail.extend(["--train-limit", n.as_str()]);
    }
    let pp_budget = budget.as_ref().map(|b| b.args().to_vec()).unwrap_or_default();
    pp_tail.extend(pp_budget.iter().map(String::as_str));
    run_owned(&with(&["train", "specgr++"], &pp_tail))?;
    if let Some(b) = budget.as_ref().filter(|b| b.spent()) {
        b.say_spent("6 (SpecGR++)", runs.path());
        return Ok(());
    }

    stage(7, "tune γ of each SpecGR method on valid (specgr tune)");
    // `specgr tune` runs each γ of the grid on the same validation sample with the
    // models loaded once, and stores each method's best γ in the run directory, where
    // `specgr eval` below picks it up.
    let methods = SPECGR_METHODS.join(",");
    let gammas = format!("--gammas={}", r.gammas.iter().map(f32::to_string).collect::<Vec<_>>().join(","));
    let sample = r.tune_sample.to_string();
    let tail = ["--methods", methods.as_str(), gammas.as_str(), "--reference", &r.reference, "--sample", &sample, "--seed", "1"];
    run_owned(&with(&["tune"], &tail))?;
    let tuned_dir = runs.tune(&ids, &r.preset);
    let tune_table = std::fs::read_to_string(tuned_dir.join("tune.md"))
        .with_context(|| format!("reading {}", tuned_dir.join("tune.md").display()))?;
    std::fs::create_dir_all(&report_dir).with_context(|| format!("creating {}", report_dir.display()))?;
    recdata::fsio::write_atomic(&report_dir.join("tune.md"), tune_table.as_bytes())?;

    stage(8, "evaluate every method on test");
    let all = BASELINES.iter().chain(SPECGR_METHODS.iter()).copied().collect::<Vec<_>>().join(",");
    let dir_s = report_dir.display().to_string();
    let limit = r.limit.map(|n| n.to_string());
    let mut tail = vec!["--part", "test", "--methods", &all, "--reference", &r.reference, "--report", &dir_s];
    if let Some(n) = &limit {
        tail.extend(["--limit", n.as_str()]);
    }
    let test_sample = r.test_sample.map(|n| n.to_string());
    if let Some(n) = &test_sample {
        tail.extend(["--sample", n.as_str(), "--seed", "1"]);
    }
    run_owned(&with(&["eval"], &tail))?;
    let table = std::fs::read_to_string(report_dir.join("results.md"))
        .with_context(|| format!("reading {}", report_dir.join("results.md").display()))?;
    println!("\n{table}");
    clock.finish();
    println!("-- done in {:.0} s; report in {}", start.elapsed().as_secs_f64(), report_dir.display());
    Ok(())
}
