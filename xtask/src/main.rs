//! `cargo xtask`: orchestration for this workspace (downloads, reproduction).
//!
//! Heavy work runs in the real binaries (`specgr`), which this program invokes
//! through cargo; it only resolves arguments, fetches files and sequences stages.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

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
        /// Where results go: `<out>/<dataset>/<name>/`.
        #[arg(long, default_value = "experiments/results")]
        out: PathBuf,
        /// Run on this dataset instead of the file's.
        #[arg(long)]
        dataset: Option<String>,
        /// Where datasets live; defaults to $SPECGR_DATA, else ./data.
        #[arg(long, env = "SPECGR_DATA")]
        data_root: Option<PathBuf>,
    },
}

struct Bar(Option<ProgressBar>);

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

fn main() -> Result<()> {
    match Task::parse() {
        Task::Download { dataset, data_root, datasets_dir } => {
            let root = data_root.unwrap_or_else(recdata::default_data_root);
            download_dataset(&dataset, &root, &datasets_dir)
        }
        Task::DownloadEncoder { model_id, encoder, revision } => {
            let dir = encoder.unwrap_or_else(|| {
                PathBuf::from("models").join(model_id.rsplit('/').next().unwrap_or(&model_id))
            });
            let sums = xtask::encoder::download_encoder(
                &xtask::encoder::hub_endpoint(),
                &model_id,
                &revision,
                &dir,
                &mut Bar(None),
            )?;
            println!("{model_id} -> {} ({} files, checksums in checksums.sha256)", dir.display(), sums.len());
            Ok(())
        }
        Task::Reproduce(r) => reproduce(&r),
        Task::Sweep { experiment, out, dataset, data_root } => sweep(&experiment, &out, dataset, data_root.as_deref()),
    }
}

fn download_dataset(name: &str, root: &Path, datasets_dir: &Path) -> Result<()> {
    let manifest = recdata::find_manifest(name, Some(datasets_dir))?;
    if manifest.downloads.is_empty() {
        bail!("dataset `{name}` lists no files to download");
    }
    let dir = root.join(&manifest.name);
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

/// `cargo xtask reproduce` arguments.
#[derive(Debug, clap::Args)]
struct Reproduce {
    /// The dataset: `synthetic` (embedded, the default) or a manifest name.
    #[arg(long, default_value = "synthetic")]
    dataset: String,
    /// Where datasets live; defaults to $SPECGR_DATA, else ./data.
    #[arg(long, env = "SPECGR_DATA")]
    data_root: Option<PathBuf>,
    /// The sentence encoder directory; defaults to $SPECGR_MODELS/all-MiniLM-L6-v2, else models/all-MiniLM-L6-v2.
    #[arg(long)]
    encoder: Option<PathBuf>,
    /// TIGER size: `tiny`, `small`, `games`, `office`, `phones`.
    #[arg(long, default_value = "tiny")]
    preset: String,
    /// Semantic-ID method: `rqkmeans` (fast), `rqvae` (the paper's), `hkmeans` (DSI).
    #[arg(long, default_value = "rqkmeans")]
    ids: String,
    /// Codes per level; defaults to 32 for the synthetic data and 256 otherwise.
    #[arg(long)]
    codebook_size: Option<usize>,
    /// TIGER training epochs (training resumes where a previous run stopped).
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    /// SpecGR's acceptance threshold γ.
    #[arg(long, default_value_t = -1.8, allow_hyphen_values = true)]
    threshold: f32,
    /// Evaluate on the first N test examples only (all by default).
    #[arg(long)]
    limit: Option<usize>,
}

fn encoder_dir(r: &Reproduce) -> PathBuf {
    r.encoder.clone().unwrap_or_else(|| {
        std::env::var_os("SPECGR_MODELS")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("models"))
            .join("all-MiniLM-L6-v2")
    })
}

fn reproduce(r: &Reproduce) -> Result<()> {
    let encoder = encoder_dir(r);
    if !encoder.join("model.safetensors").is_file() {
        bail!(
            "no sentence encoder in {}: run `cargo xtask download-encoder sentence-transformers/all-MiniLM-L6-v2 \
             --encoder {}` (or point SPECGR_MODELS / --encoder at a model directory)",
            encoder.display(),
            encoder.display()
        );
    }
    let ds = r.dataset.as_str();
    let k = r.codebook_size.unwrap_or(if ds == "synthetic" { 32 } else { 256 }).to_string();
    let epochs = r.epochs.to_string();
    let threshold = r.threshold.to_string();
    let enc = encoder.display().to_string();
    let mut eval = vec!["eval", "--dataset", ds, "--ids", &r.ids, "--preset", &r.preset, "--threshold", &threshold];
    let limit = r.limit.map(|n| n.to_string());
    if let Some(n) = &limit {
        eval.extend(["--limit", n.as_str()]);
    }
    let stages: Vec<(&str, Vec<&str>)> = vec![
        ("data: load, split, statistics", vec!["data", "stats", "--dataset", ds]),
        ("embeddings (cached by text hash)", vec!["embed", "--dataset", ds, "--encoder", &enc]),
        ("semantic IDs", vec!["semid", "fit", "--dataset", ds, "--method", &r.ids, "--codebook-size", &k]),
        (
            "train TIGER (resumes a previous run)",
            vec!["train", "tiger", "--dataset", ds, "--ids", &r.ids, "--preset", &r.preset, "--epochs", &epochs, "--eval-every", "2"],
        ),
        ("evaluate TIGER, SemanticKNN and SpecGR", eval),
    ];
    println!("== reproduce: dataset `{ds}`, TIGER `{}` on {} IDs (K = {k})", r.preset, r.ids);
    let start = std::time::Instant::now();
    for (i, (name, args)) in stages.iter().enumerate() {
        println!("-- stage {}/{}: {name}", i + 1, stages.len());
        specgr(args, r.data_root.as_deref())?;
    }
    println!(
        "-- done in {:.0} s. Not run here yet: UniSRec and SpecGR++ training, experiment tables and plots (issue 8).",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn sweep(path: &Path, out: &Path, dataset: Option<String>, data_root: Option<&Path>) -> Result<()> {
    use xtask::experiment::{Experiment, Value, read_metric};
    let mut e = Experiment::read(path)?;
    if let Some(d) = dataset {
        e.dataset = d;
    }
    let dir = out.join(&e.dataset).join(&e.name);
    let run = |settings: &std::collections::BTreeMap<String, Value>, report: &Path| -> Result<()> {
        let mut args = Experiment::args(&e.dataset, settings);
        args.push("--report".into());
        args.push(report.display().to_string());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        specgr(&refs, data_root)
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

/// Runs `specgr <args>` through cargo (the dev profile, which shares its build with the tests).
fn specgr(args: &[&str], data_root: Option<&Path>) -> Result<()> {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(["run", "--quiet", "--package", "bench", "--bin", "specgr", "--"]).args(args);
    if let Some(root) = data_root {
        cmd.env("SPECGR_DATA", root);
    }
    let status = cmd.status().context("running specgr")?;
    if !status.success() {
        bail!("`specgr {}` failed ({status})", args.join(" "));
    }
    Ok(())
}
