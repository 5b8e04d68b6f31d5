//! `cargo xtask`: orchestration for this workspace (downloads, reproduction).
//!
//! Heavy work runs in the real binary (`specgr`), which this program builds once
//! through cargo and then runs directly (see `xtask::specgr`); it only resolves
//! arguments, fetches files and sequences stages.
//!
//! `cargo xtask` is built without the HTTP client (the crate's `net` feature): it hands
//! downloads to `xtask-net`, these same tasks built with it (`src/bin/xtask-net.rs`),
//! which cargo compiles the first time something is to be downloaded.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Parser;

#[cfg(feature = "net")]
use indicatif::{ProgressBar, ProgressStyle};
#[cfg(feature = "net")]
use xtask::download::{Fetch, Outcome, Progress, fetch};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "SpecGR workspace tasks")]
enum Task {
    /// Download a dataset's files (resumable, checksummed) into <data-root>/<name>/.
    Download {
        /// The dataset manifest name (`beauty-2014`, `games-2023`, `office-2023`, `phones-2023`).
        dataset: String,
        /// Where datasets live; defaults to $SPECGR_DATA, else ./data.
        #[arg(long, env = "SPECGR_DATA")]
        data_root: Option<PathBuf>,
        /// A directory of manifests searched before the shipped ones.
        #[arg(long, default_value = "datasets")]
        datasets_dir: PathBuf,
    },
    /// Download a sentence encoder from the Hugging Face hub ($HF_ENDPOINT overrides the host).
    DownloadEncoder {
        /// The model id, e.g. `sentence-transformers/all-MiniLM-L6-v2`.
        model_id: String,
        /// The model directory to create; defaults to models/<last part of the id>.
        #[arg(long)]
        encoder: Option<PathBuf>,
        /// The hub revision (branch, tag or commit).
        #[arg(long, default_value = "main")]
        revision: String,
    },
    /// Run the pipeline on a dataset: data, embeddings, semantic IDs, TIGER, evaluation.
    Reproduce(Reproduce),
    /// Run one experiment file (experiments/*.toml): optional tuning on valid, then the runs.
    Sweep {
        /// The experiment file.
        experiment: PathBuf,
        /// Where results go: `<out>/<dataset>/<name>/` [default: `runs/results`, untracked;
        /// `experiments/results` with `--record`].
        #[arg(long, conflicts_with = "record")]
        out: Option<PathBuf>,
        /// Record the results in the repository's `experiments/results/` (for maintainers:
        /// those files are tracked).
        #[arg(long)]
        record: bool,
        /// Run on this dataset instead of the file's.
        #[arg(long)]
        dataset: Option<String>,
        /// Where datasets live; defaults to $SPECGR_DATA, else ./data.
        #[arg(long, env = "SPECGR_DATA")]
        data_root: Option<PathBuf>,
    },
}

#[cfg(feature = "net")]
struct Bar(Option<ProgressBar>);

#[cfg(feature = "net")]
impl Progress for Bar {
    fn start(&mut self, name: &str, start: u64, total: Option<u64>) {
        let bar = ProgressBar::new(total.unwrap_or(0));
        bar.set_style(
            ProgressStyle::with_template("{msg:30} {bytes:>10}/{total_bytes:10} {bytes_per_sec:>12} {wide_bar}")
                .expect("valid template"),
        );
        bar.set_message(name.to_owned());
        bar.set_position(start);
        self.0 = Some(bar);
    }
    fn advance(&mut self, n: u64) {
        if let Some(b) = &self.0 {
            b.inc(n);
        }
    }
    fn finish(&mut self) {
        if let Some(b) = self.0.take() {
            b.finish();
        }
    }
}

/// Parses the command line and runs the task.
pub fn main() -> Result<()> {
    match Task::parse() {
        Task::Download { dataset, data_root, datasets_dir } => {
            let root = data_root.unwrap_or_else(recdata::default_data_root);
            download_data(&dataset, &root, &datasets_dir)
        }
        Task::DownloadEncoder { model_id, encoder, revision } => {
            let dir = encoder.unwrap_or_else(|| {
                PathBuf::from("models").join(model_id.rsplit('/').next().unwrap_or(&model_id))
            });
            download_encoder(&model_id, &dir, &revision)
        }
        Task::Reproduce(r) => reproduce(&r),
        Task::Sweep { experiment, out, record, dataset, data_root } => {
            sweep(&experiment, &results_dir(out, record), dataset, data_root.as_deref())
        }
    }
}

/// Downloads a dataset whose data is missing from `dir` (`<root>/<name>/`), as
/// `cargo xtask download` does (resuming an interrupted download).
fn download_dataset_into(name: &str, root: &Path, dir: &Path) -> Result<()> {
    println!("-- dataset `{name}`: no data in {}; downloading it there", dir.display());
    download_data(name, root, Path::new("datasets")).with_context(|| {
        format!(
            "dataset `{name}` is not in {} and downloading it failed: run again to resume, or put its files there \
             (SPECGR_DATA / --data-root choose the data root; --offline never downloads)",
            dir.display()
        )
    })
}

/// Downloads a sentence encoder from the hub into `dir`.
#[cfg(feature = "net")]
fn download_encoder(model_id: &str, dir: &Path, revision: &str) -> Result<()> {
    let endpoint = xtask::encoder::hub_endpoint();
    let sums = xtask::encoder::download_encoder(&endpoint, model_id, revision, dir, &mut Bar(None))?;
    println!("{model_id} -> {} ({} files, checksums in checksums.sha256)", dir.display(), sums.len());
    Ok(())
}

/// Downloads a sentence encoder from the hub into `dir`, through `xtask-net`.
#[cfg(not(feature = "net"))]
fn download_encoder(model_id: &str, dir: &Path, revision: &str) -> Result<()> {
    with_net(&["download-encoder".into(), model_id.into(), "--encoder".into(), dir.into(), "--revision".into(), revision.into()])
}

/// Runs `cargo xtask <args>` as `xtask-net`: the same tasks with the `net` feature,
/// built by cargo the first time (its HTTP client and TLS stack are compiled only on a
/// machine that downloads something).
#[cfg(not(feature = "net"))]
fn with_net(args: &[std::ffi::OsString]) -> Result<()> {
    println!("-- downloads run in xtask-net (cargo xtask with its HTTP client), built the first time they are needed");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args(["run", "--package", "xtask", "--features", "net", "--bin", "xtask-net", "--"])
        .args(args)
        .status()
        .context("running cargo to build and start xtask-net")?;
    if !status.success() {
        let shown: Vec<_> = args.iter().map(|a| a.to_string_lossy()).collect();
        bail!("`xtask-net {}` failed ({status})", shown.join(" "));
    }
    Ok(())
}

/// Downloads a dataset's files into `<root>/<name>/` (`datasets_dir`: manifests searched
/// before the shipped ones).
#[cfg(feature = "net")]
fn download_data(name: &str, root: &Path, datasets_dir: &Path) -> Result<()> {
    let manifest = recdata::find_manifest(name, Some(datasets_dir))?;
    if manifest.downloads.is_empty() {
        bail!("dataset `{name}` lists no files to download");
    }
    let dir = root.join(manifest.dir_name());
    for d in &manifest.downloads {
        let job = Fetch {
            urls: std::iter::once(d.url.clone()).chain(d.mirrors.iter().cloned()).collect(),
            dest: dir.join(&d.file),
            sha256: d.sha256.clone(),
        };
        match fetch(&job, &mut Bar(None))? {
            Outcome::Present { sha256 } => println!("{}: present (sha256 {sha256})", d.file),
            Outcome::Downloaded { sha256, resumed_from } => {
                println!("{}: downloaded (sha256 {sha256}, resumed from byte {resumed_from})", d.file)
            }
        }
    }
    println!("dataset `{name}` is in {}", dir.display());
    Ok(())
}

/// Downloads a dataset's files into `<root>/<name>/`, through `xtask-net`.
#[cfg(not(feature = "net"))]
fn download_data(name: &str, root: &Path, datasets_dir: &Path) -> Result<()> {
    with_net(&["download".into(), name.into(), "--data-root".into(), root.into(), "--datasets-dir".into(), datasets_dir.into()])
}

/// `cargo xtask reproduce` arguments.
#[derive(Debug, clap::Args)]
struct Reproduce {
    /// The dataset: `synthetic` (embedded, the default) or a manifest name (shipped, or
    /// `<name>.toml` in `--datasets-dir`).
    #[arg(long, default_value = "synthetic")]
    dataset: String,
    /// Your own data: a manifest file (`docs/data.md`); its data files are read from
    /// the manifest's own directory, and the dataset is named by the manifest's `name`.
    /// Overrides `--dataset`; nothing is downloaded for it.
    #[arg(long, conflicts_with = "datasets_dir")]
    manifest: Option<PathBuf>,
    /// A directory of dataset manifests (`<name>.toml`), searched before the shipped
    /// ones [default: `./datasets` when it exists].
    #[arg(long)]
    datasets_dir: Option<PathBuf>,
    /// Where datasets live; defaults to $SPECGR_DATA, else ./data.
    #[arg(long, env = "SPECGR_DATA")]
    data_root: Option<PathBuf>,
    /// The sentence encoder directory; defaults to $SPECGR_MODELS/all-MiniLM-L6-v2, else models/all-MiniLM-L6-v2.
    #[arg(long)]
    encoder: Option<PathBuf>,
    /// TIGER size: `tiny`, `small`, `games`, `office`, `phones`.
    #[arg(long, default_value = "tiny")]
    preset: String,
    /// Semantic-ID method: `rqvae` (the paper's; the default for real datasets),
    /// `hkmeans` (DSI's hierarchical k-means; the default for the synthetic data) or
    /// `rqkmeans` (residual k-means). On the small synthetic catalog hierarchical k-means
    /// gives every in-sample item its own code prefix, so only new items carry a non-zero
    /// identification digit, as on large real catalogs: TIGER then never emits them.
    #[arg(long, value_parser = ["rqkmeans", "rqvae", "hkmeans"])]
    ids: Option<String>,
    /// Codes per level; defaults to 32 for the synthetic data and 256 otherwise.
    #[arg(long, value_parser = positive)]
    codebook_size: Option<usize>,
    /// Code levels of the semantic IDs, before the identification digit (the paper's 3
    /// gives 4 digits). Other lengths (Figure A1) keep their own IDs and models
    /// (`<ids>-l<levels>`) and report to `reproduce-<preset>-l<levels>/`.
    #[arg(long, default_value_t = 3, value_parser = levels)]
    levels: usize,
    /// TIGER training epochs (training resumes where a previous run stopped).
    #[arg(long, default_value_t = 10, value_parser = positive)]
    epochs: usize,
    /// Validate TIGER every this many epochs (part of its training config: a resumed
    /// run must use the value it started with).
    #[arg(long, default_value_t = 2, value_parser = positive)]
    eval_every: usize,
    /// UniSRec training epochs (at most; early stopping on valid).
    #[arg(long, default_value_t = 3, value_parser = positive)]
    unisrec_epochs: usize,
    /// UniSRec examples per step.
    #[arg(long, default_value_t = 256, value_parser = positive)]
    unisrec_batch_size: usize,
    /// SpecGR++ stage-1 (contrastive) epochs, starting from the trained TIGER.
    #[arg(long, default_value_t = 2)]
    pp_stage1_epochs: usize,
    /// SpecGR++ stage-2 (learning-to-rank) epochs.
    #[arg(long, default_value_t = 2)]
    pp_stage2_epochs: usize,
    /// Train SpecGR++ on only the first N training examples (all by default).
    #[arg(long, value_parser = positive)]
    pp_train_limit: Option<usize>,
    /// The γ values tried on valid for each SpecGR method; each method then runs on
    /// test with the γ of its best overall NDCG@50. The paper's grid is −1.1 … −1.8
    /// (`--gammas=-1.1,-1.2,-1.3,-1.4,-1.5,-1.6,-1.7,-1.8`); the default is coarser and
    /// reaches much lower, since small, briefly trained verifiers give lower likelihoods
    /// (on Beauty the best γ for SpecGR_Aux was −7, on the synthetic data −3 or below).
    /// Ties go to the first value listed.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true, default_value = "-1.2,-1.5,-1.8,-2.2,-2.6,-3,-4,-5,-6,-8", value_parser = finite_gamma)]
    gammas: Vec<f32>,
    /// Which of the authors' code versions SpecGR follows where they differ (see
    /// `specgr eval --help`): `v1` (the paper's equations) or `v2` (unseen items scored
    /// over the code prefix they share with in-sample items, drafting-order selection,
    /// re-drafting from round 2; the default, as in `specgr eval`).
    #[arg(long, default_value = "v2", value_parser = ["v1", "v2"])]
    reference: String,
    /// Tune γ on a random sample of this many validation examples (0 = all).
    #[arg(long, default_value_t = 300)]
    tune_sample: usize,
    /// Evaluate on the first N test examples only (all by default).
    #[arg(long, value_parser = positive)]
    limit: Option<usize>,
    /// Evaluate on a uniform random sample of N test examples (seed 1), after `--limit`.
    #[arg(long, value_parser = positive)]
    test_sample: Option<usize>,
    /// Where the report goes: `<out>/<dataset>/reproduce-<preset>/`, with `-<ids>` added
    /// for IDs other than the dataset's default and `-l<levels>` for other than 3 levels
    /// [default: `runs/results`, untracked, so a run leaves the checkout clean;
    /// `experiments/results` with `--record`].
    #[arg(long, conflicts_with = "record")]
    out: Option<PathBuf>,
    /// Record the report in the repository's `experiments/results/` (for maintainers:
    /// those files are tracked, and the shipped tables were written this way).
    #[arg(long)]
    record: bool,
    /// Never download: fail when the dataset's directory or the sentence encoder is
    /// missing (by default both are fetched, the dataset as `cargo xtask download` does).
    #[arg(long)]
    offline: bool,
    /// Where to compute: `cpu` (Flex), `wgpu`, `cuda`, `tch` or `tch-cuda`; a GPU
    /// device builds `specgr` with that cargo feature.
    #[arg(long, default_value = "cpu", value_parser = ["cpu", "wgpu", "cuda", "tch", "tch-cuda"])]
    device: String,
}

fn encoder_dir(r: &Reproduce) -> PathBuf {
    r.encoder.clone().unwrap_or_else(|| {
        std::env::var_os("SPECGR_MODELS")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("models"))
            .join(xtask::encoder::DEFAULT_ENCODER.rsplit('/').next().unwrap_or_default())
    })
}

/// Where results go: `--out`, else the tracked `experiments/results` with `--record`,
/// else the untracked `runs/results` (a user's run leaves `git status` clean).
fn results_dir(out: Option<PathBuf>, record: bool) -> PathBuf {
    out.unwrap_or_else(|| if record { PathBuf::from("experiments/results") } else { PathBuf::from("runs/results") })
}

/// Where the γ search of reproduce puts the valid report of the SpecGR methods at one γ.
fn tune_dir(report_dir: &Path, gamma: f32) -> PathBuf {
    report_dir.join("tune").join(format!("gamma={gamma}"))
}

/// The SpecGR methods whose γ is tuned, and the baselines beside them.
const SPECGR_METHODS: [&str; 3] = ["specgr-knn", "specgr-unisrec", "specgr-pp"];
const BASELINES: [&str; 4] = ["tiger", "tiger-c", "semantic-knn", "unisrec"];

fn reproduce(r: &Reproduce) -> Result<()> {
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
    let tiger_best = format!("runs/{ds}/tiger-{ids}-{}/best", r.preset);
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
        xtask::stamp::dataset_fingerprint(&dataset)
    };
    // After the data (an unknown dataset should not cost a download) and before the build.
    let encoder = encoder_dir(r);
    if !encoder.join("model.safetensors").is_file() {
        let model = xtask::encoder::DEFAULT_ENCODER;
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
    let specgr = xtask::specgr::Specgr::build(feature, data_root)?;
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
    let runs = PathBuf::from("runs").join(ds);
    let file_hash = |p: PathBuf| xtask::download::sha256_file(&p);
    let ids_hash = file_hash(runs.join("semid").join(&ids).join("ids.json"))?;
    let emb_hash = file_hash(runs.join("embeddings").join("embeddings.safetensors"))?;
    // The stamp is written before training, so a run killed midway is resumed only
    // with the inputs it started from.
    let guard = |dir: &Path, stamp: &str| -> Result<()> {
        match xtask::stamp::check(dir, stamp)? {
            xtask::stamp::Status::SetAside(to) => {
                println!("{}: trained from other inputs; moved aside to {}", dir.display(), to.display())
            }
            xtask::stamp::Status::Unstamped => {
                println!("{}: no input stamp (an older run); assuming it matches", dir.display())
            }
            _ => {}
        }
        xtask::stamp::write(dir, stamp)
    };

    // TIGER and UniSRec are independent: UniSRec trains in the background (its output in
    // a log) while TIGER trains, and TIGER's two shards take the core UniSRec leaves
    // once it has finished.
    stage(5, "train TIGER (resumes a previous run) and UniSRec beside it (skipped when trained)");
    let unisrec_dir = runs.join("unisrec");
    guard(&unisrec_dir, &xtask::stamp::stamp_text(&[("data", data_hash.clone()), ("embeddings", emb_hash)]))?;
    let stamp_path = unisrec_dir.join("reproduce-stamp.json");
    let stamp = serde_json::json!({ "epochs": r.unisrec_epochs, "batch_size": r.unisrec_batch_size }).to_string();
    let unisrec = if std::fs::read_to_string(&stamp_path).ok().as_deref() == Some(stamp.as_str()) {
        println!("UniSRec already trained with these settings ({})", stamp_path.display());
        None
    } else {
        let args = [&["train", "unisrec"], dsa.as_slice(), &["--epochs", &u_epochs, "--batch-size", &u_batch, dev[0], dev[1]]].concat();
        let job = specgr.spawn_logged(&args, &runs.join("logs").join("train-unisrec.log"))?;
        println!("UniSRec trains in the background; its output goes to {}", job.log().display());
        Some(job)
    };
    let tiger_dir = runs.join(format!("tiger-{ids}-{}", r.preset));
    // On the CPU each batch is computed in two shards on two threads: the tiny model
    // keeps only one core busy otherwise (on a GPU one stream does it all).
    let shards = if r.device == "cpu" { "2" } else { "1" };
    let eval_every = r.eval_every.to_string();
    // The training settings are stamped too: a run started with other ones cannot be
    // resumed, and is set aside instead (`specgr train` would refuse it).
    let tiger_stamp = xtask::stamp::stamp_text(&[
        ("data", data_hash.clone()),
        ("ids", ids_hash.clone()),
        ("train", format!("epochs {epochs}, eval every {eval_every}, shards {shards}")),
    ]);
    guard(&tiger_dir, &tiger_stamp)?;
    run_owned(&with(&["train", "tiger"], &["--epochs", &epochs, "--eval-every", &eval_every, "--shards", shards]))?;
    if let Some(job) = unisrec {
        println!("waiting for UniSRec ({})", job.log().display());
        let log = job.log().to_owned();
        job.wait()?;
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(last) = text.lines().rev().find(|l| l.starts_with("trained")) {
            println!("UniSRec: {last}");
        }
        xtask::download::write_atomic(&stamp_path, stamp.as_bytes())?;
    }

    stage(6, "train SpecGR++ from the trained TIGER (resumes a previous run)");
    let pp_dir = runs.join(format!("specgr-pp-{ids}-{}", r.preset));
    let pp_stamp = xtask::stamp::stamp_text(&[
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
    run_owned(&with(&["train", "specgr++"], &pp_tail))?;

    stage(7, "tune γ of each SpecGR method on valid");
    // Each γ is one `specgr eval` process keeping about one core busy: on the CPU
    // several run at a time (their output in logs), the next starting as one ends.
    // (Tuning SpecGR-KNN and SpecGR_Aux while SpecGR++ trains was tried and gained
    // nothing on two cores: SpecGR++ training uses both.)
    let methods = SPECGR_METHODS.join(",");
    let sample = r.tune_sample.to_string();
    let mut jobs = Vec::new();
    for &g in &r.gammas {
        let gamma = g.to_string();
        let dir = tune_dir(&report_dir, g).display().to_string();
        let mut tail = vec!["--part", "valid", "--methods", &methods, "--threshold", &gamma, "--reference", &r.reference, "--report", &dir];
        if r.tune_sample > 0 {
            tail.extend(["--sample", sample.as_str(), "--seed", "1"]);
        }
        let log = runs.join("logs").join(format!("tune-{report_name}-gamma={g}.log"));
        jobs.push((with(&["eval"], &tail), log));
    }
    specgr.run_all(&jobs, parallel)?;
    let mut best: Vec<Option<(f64, f32)>> = vec![None; SPECGR_METHODS.len()];
    let mut tune_table = String::from("# γ tuned on valid (overall NDCG@50)\n\n| γ |");
    for m in SPECGR_METHODS {
        tune_table += &format!(" {m} |");
    }
    tune_table += &format!("\n|---:|{}\n", "---:|".repeat(SPECGR_METHODS.len()));
    for &g in &r.gammas {
        tune_table += &format!("| {g} |");
        let mut line = format!("-- γ = {g}: NDCG@50");
        for (i, m) in SPECGR_METHODS.iter().enumerate() {
            let results = tune_dir(&report_dir, g).join("results.json");
            let v = xtask::experiment::read_metric(&results, &eval_name(m), "ndcg@50")?;
            tune_table += &format!(" {v:.4} |");
            line += &format!(" {m} {v:.4}");
            if best[i].is_none_or(|(b, _)| v > b) {
                best[i] = Some((v, g));
            }
        }
        println!("{line}");
        tune_table += "\n";
    }
    let chosen: Vec<String> = SPECGR_METHODS
        .iter()
        .zip(&best)
        .map(|(m, b)| format!("{m}={}", b.expect("at least one γ").1))
        .collect();
    tune_table += &format!("\nChosen: {}.\n", chosen.join(", "));
    xtask::download::write_atomic(&report_dir.join("tune.md"), tune_table.as_bytes())?;
    println!("-- chose {}", chosen.join(", "));

    stage(8, "evaluate every method on test");
    let all = BASELINES.iter().chain(SPECGR_METHODS.iter()).copied().collect::<Vec<_>>().join(",");
    let chosen = chosen.join(",");
    let dir_s = report_dir.display().to_string();
    let limit = r.limit.map(|n| n.to_string());
    let mut tail = vec![
        "--part", "test", "--methods", &all, "--method-threshold", &chosen, "--reference", &r.reference, "--report", &dir_s,
    ];
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

/// Wall time of each reproduce stage, printed as each one ends and summed up at the end,
/// so a user sees where the time goes (training, γ tuning, evaluation).
struct StageClock {
    total: usize,
    current: Option<(usize, &'static str, std::time::Instant)>,
    done: Vec<(usize, &'static str, f64)>,
}

impl StageClock {
    fn new(total: usize) -> Self {
        Self { total, current: None, done: Vec::new() }
    }

    /// Ends the running stage (if any) and starts stage `i`.
    fn begin(&mut self, i: usize, name: &'static str) {
        self.end();
        println!("-- stage {i}/{}: {name}", self.total);
        self.current = Some((i, name, std::time::Instant::now()));
    }

    fn end(&mut self) {
        if let Some((i, name, t)) = self.current.take() {
            let secs = t.elapsed().as_secs_f64();
            println!("-- stage {i}/{} took {secs:.1} s", self.total);
            self.done.push((i, name, secs));
        }
    }

    /// Ends the last stage and prints every stage's time.
    fn finish(&mut self) {
        self.end();
        println!("-- time per stage:");
        for (i, name, secs) in &self.done {
            println!("   {i}. {name}: {secs:.1} s");
        }
    }
}

/// The name `specgr eval` gives a method in its reports (`specgr-knn` -> `SpecgrKnn`).
fn eval_name(cli: &str) -> String {
    cli.split('-').map(|w| w[..1].to_uppercase() + &w[1..]).collect()
}

fn sweep(path: &Path, out: &Path, dataset: Option<String>, data_root: Option<&Path>) -> Result<()> {
    use xtask::experiment::{Experiment, Value, read_metric};
    let mut e = Experiment::read(path)?;
    if let Some(d) = dataset {
        e.dataset = d;
    }
    let dir = out.join(&e.dataset).join(&e.name);
    let specgr = xtask::specgr::Specgr::build(None, data_root)?;
    let run = |settings: &std::collections::BTreeMap<String, Value>, report: &Path| -> Result<()> {
        let mut args = Experiment::args(&e.dataset, settings);
        args.push("--report".into());
        args.push(report.display().to_string());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        specgr.run(&refs)
    };
    let mut base = e.eval.clone();
    println!("== {}: {} on `{}`", e.name, e.title, e.dataset);
    if let Some(t) = &e.tune {
        let mut table = format!("# Tuning `{}` for {} ({} overall)\n\n| {} | {} |\n|---:|---:|\n", t.setting, t.method, t.metric, t.setting, t.metric);
        let mut best: Option<(f64, Value)> = None;
        for v in &t.values {
            let mut s = base.clone();
            s.extend(t.eval.clone());
            s.insert(t.setting.clone(), v.clone());
            let report = dir.join("tune").join(format!("{}={v}", t.setting));
            println!("-- tune {} = {v}", t.setting);
            run(&s, &report)?;
            let m = read_metric(&report.join("results.json"), &t.method, &t.metric)?;
            table += &format!("| {v} | {m:.4} |\n");
            if best.as_ref().is_none_or(|(b, _)| m > *b) {
                best = Some((m, v.clone()));
            }
        }
        let (m, v) = best.expect("tuning has values");
        table += &format!("\nChosen: {} = {v} ({} {m:.4}).\n", t.setting, t.metric);
        xtask::download::write_atomic(&dir.join("tune.md"), table.as_bytes())?;
        println!("-- chose {} = {v} ({} {m:.4})", t.setting, t.metric);
        base.insert(t.setting.clone(), v);
    }
    match &e.sweep {
        None => run(&base, &dir)?,
        Some(s) => {
            let mut table = format!("# {} — sweep over `{}`\n\n| {} | method | subset | R@10 | N@10 | R@50 | N@50 | s/query |\n|---:|---|---|---:|---:|---:|---:|---:|\n", e.title, s.setting, s.setting);
            for v in &s.values {
                let mut settings = base.clone();
                settings.insert(s.setting.clone(), v.clone());
                let report = dir.join(format!("{}={v}", s.setting));
                println!("-- {} = {v}", s.setting);
                run(&settings, &report)?;
                let text = std::fs::read_to_string(report.join("results.json"))?;
                let json: serde_json::Value = serde_json::from_str(&text)?;
                for r in json["rows"].as_array().into_iter().flatten() {
                    table += &format!(
                        "| {v} | {} | {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} |\n",
                        r["method"].as_str().unwrap_or(""),
                        r["subset"].as_str().unwrap_or(""),
                        r["recall@10"].as_f64().unwrap_or(f64::NAN),
                        r["ndcg@10"].as_f64().unwrap_or(f64::NAN),
                        r["recall@50"].as_f64().unwrap_or(f64::NAN),
                        r["ndcg@50"].as_f64().unwrap_or(f64::NAN),
                        r["seconds_per_query"].as_f64().unwrap_or(f64::NAN),
                    );
                }
            }
            xtask::download::write_atomic(&dir.join("results.md"), table.as_bytes())?;
        }
    }
    println!("-- results in {}", dir.display());
    Ok(())
}

/// A whole number of at least 1 (`--epochs`, `--limit`, ...): 0 would leave nothing to
/// run, or (as `specgr` reads some of them) silently mean something else.
fn positive(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1 (0 would leave nothing to compute)".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{s}` is not a whole number >= 1")),
    }
}

/// `--levels`: 1 to 64 code levels, as `specgr semid fit --levels` accepts.
fn levels(s: &str) -> Result<usize, String> {
    match positive(s) {
        Ok(n) if n <= 64 => Ok(n),
        _ => Err("must be 1 to 64 code levels".into()),
    }
}

/// One γ of `--gammas`: a finite number (±inf or NaN would accept or refuse everything).
fn finite_gamma(s: &str) -> Result<f32, String> {
    match s.trim().parse::<f32>() {
        Ok(g) if g.is_finite() => Ok(g),
        Ok(g) => Err(format!("must be a finite number, not {g}")),
        Err(_) => Err(format!("`{s}` is not a number")),
    }
}

#[cfg(test)]
mod tests {
    use super::Task;
    use clap::Parser;

    #[test]
    fn meaningless_reproduce_numbers_are_refused() {
        for (args, flag, why) in [
            ("--epochs 0", "--epochs", "at least 1"),
            ("--eval-every 0", "--eval-every", "at least 1"),
            ("--unisrec-batch-size 0", "--unisrec-batch-size", "at least 1"),
            ("--codebook-size 0", "--codebook-size", "at least 1"),
            ("--levels 0", "--levels", "1 to 64"),
            ("--limit 0", "--limit", "at least 1"),
            ("--test-sample 0", "--test-sample", "at least 1"),
            ("--gammas=-1.5,-inf", "--gammas", "finite"),
            ("--gammas=NaN", "--gammas", "finite"),
        ] {
            let line = ["cargo-xtask", "reproduce"].into_iter().chain(args.split_whitespace());
            let err = Task::try_parse_from(line).expect_err(args).to_string();
            assert!(err.contains(flag) && err.contains(why), "{args}: {err}");
        }
        let ok = ["cargo-xtask", "reproduce", "--epochs", "1", "--levels", "5", "--gammas=-1.5,-3", "--tune-sample", "0"];
        Task::try_parse_from(ok).unwrap();
    }

    /// A user's run writes its report outside the tracked `experiments/results/`, so it
    /// leaves `git status` clean; maintainers record there with `--record`.
    #[test]
    fn results_go_to_the_untracked_runs_directory_unless_recorded() {
        use std::path::PathBuf;
        let parse = |args: &[&str]| match Task::try_parse_from(["cargo-xtask"].iter().chain(args)) {
            Ok(Task::Reproduce(r)) => super::results_dir(r.out, r.record),
            Ok(Task::Sweep { out, record, .. }) => super::results_dir(out, record),
            other => panic!("{args:?}: {other:?}"),
        };
        assert_eq!(parse(&["reproduce"]), PathBuf::from("runs/results"));
        assert_eq!(parse(&["reproduce", "--record"]), PathBuf::from("experiments/results"));
        assert_eq!(parse(&["reproduce", "--out", "x"]), PathBuf::from("x"));
        assert_eq!(parse(&["sweep", "e.toml"]), PathBuf::from("runs/results"));
        assert_eq!(parse(&["sweep", "e.toml", "--record"]), PathBuf::from("experiments/results"));
        let both = Task::try_parse_from(["cargo-xtask", "reproduce", "--record", "--out", "x"]);
        assert!(both.is_err(), "--record with --out accepted");
    }
}
