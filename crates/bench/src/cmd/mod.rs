//! The `specgr` subcommands, one module per topic.

pub mod args;
pub mod backend;
pub mod bench;
pub mod bench_specgr_pp;
pub mod bench_train;
pub mod chart;
pub mod curve;
pub mod data;
pub mod diagnose;
pub mod embed;
pub mod eval;
pub mod identity;
pub mod plot;
pub mod semid;
pub mod serving;
pub mod specgr_pp;
pub mod tiger;
pub mod train;
pub mod train_unisrec;
pub mod training_progress;
pub mod tune;

use std::path::PathBuf;

use anyhow::Context as _;

/// The CPU backend the binary runs on (Burn's Flex).
pub type CpuBackend = burn::backend::Flex;

/// Prints a line above a progress bar, or on stderr when the bar is hidden (no terminal).
pub fn say(bar: &indicatif::ProgressBar, line: String) {
    if bar.is_hidden() {
        eprintln!("{line}");
    } else {
        bar.println(line);
    }
}

/// `--max-minutes`: the wall-time budget of a training command (TIGER, UniSRec,
/// SpecGR++), through the shared skeleton's `TimeBudget`.
#[derive(Debug, Clone, clap::Args)]
pub struct BudgetArgs {
    /// Stop after this many minutes of training, at a checkpoint of the step then
    /// running; the same command resumes there. Not part of the run's identity
    /// [default: no limit].
    #[arg(long, value_parser = crate::cmd::args::positive_f64)]
    pub max_minutes: Option<f64>,
}

impl BudgetArgs {
    /// The budget, starting now.
    pub fn start(&self) -> gr_model::train_loop::TimeBudget {
        gr_model::train_loop::TimeBudget::minutes(self.max_minutes)
    }

    /// Says that a run stopped when the budget was spent, at a checkpoint (`at`, in
    /// `dir`) from which the same command resumes.
    pub fn say_stopped(&self, at: &str, dir: &std::path::Path) {
        println!(
            "stopped after --max-minutes {} at {at}, checkpointed in {}; the same command resumes there",
            self.max_minutes.unwrap_or_default(),
            dir.display()
        );
    }
}

/// `n` of `items` drawn uniformly without replacement with `seed`, in their original
/// order (all of them when `n` is not smaller).
pub fn sample_in_order<T>(items: Vec<T>, n: usize, seed: u64) -> Vec<T> {
    if n >= items.len() {
        return items;
    }
    let mut rng = recdata::rng::Rng::new(seed);
    let mut index: Vec<usize> = (0..items.len()).collect();
    for i in 0..n {
        let j = i + rng.below(index.len() - i);
        index.swap(i, j);
    }
    let mut keep = vec![false; items.len()];
    index[..n].iter().for_each(|&i| keep[i] = true);
    items.into_iter().zip(keep).filter_map(|(e, k)| k.then_some(e)).collect()
}

/// A progress bar for `len` units of work, drawn on stderr.
///
/// When stderr is not a terminal (a log file, a pipe) the bar is hidden and a plain
/// line — stage, done/total, rate, elapsed, ETA — is printed instead every
/// `$SPECGR_PROGRESS_SECS` seconds (default 30; 0: never), while the bar is alive.
pub fn progress_bar(len: u64, message: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:24} {wide_bar} {pos}/{len} [{elapsed_precise} < {eta_precise}]")
            .expect("a valid progress template"),
    );
    bar.set_message(message.to_owned());
    if bar.is_hidden() {
        let secs = std::env::var("SPECGR_PROGRESS_SECS").ok().and_then(|s| s.parse::<f64>().ok()).unwrap_or(30.0);
        if secs > 0.0 && secs.is_finite() {
            log_progress(bar.downgrade(), std::time::Duration::from_secs_f64(secs));
        }
    }
    bar
}

/// Prints [`progress_line`] of a hidden bar every `every`, on a thread that ends with
/// the bar (when it is finished or dropped). Lines are printed only when the position
/// moved since the last one.
fn log_progress(bar: indicatif::WeakProgressBar, every: std::time::Duration) {
    let spawned = std::thread::Builder::new().name("progress".into()).spawn(move || {
        let tick = every.min(std::time::Duration::from_millis(500));
        let mut last_print = std::time::Instant::now();
        let mut last_pos = None;
        loop {
            std::thread::sleep(tick);
            let Some(bar) = bar.upgrade() else { return };
            if bar.is_finished() {
                return;
            }
            if last_print.elapsed() >= every && last_pos != Some(bar.position()) {
                last_pos = Some(bar.position());
                last_print = std::time::Instant::now();
                eprintln!("{}", progress_line(&bar.message(), bar.position(), bar.length(), bar.per_sec(), bar.elapsed(), bar.eta()));
            }
        }
    });
    if let Err(e) = spawned {
        tracing::debug!("no progress lines: {e}");
    }
}

/// `stage: done/total (percent), rate/s, elapsed h:mm:ss, ETA h:mm:ss`; without the total
/// and ETA when the length is unknown (0).
pub fn progress_line(
    stage: &str,
    pos: u64,
    len: Option<u64>,
    per_sec: f64,
    elapsed: std::time::Duration,
    eta: std::time::Duration,
) -> String {
    let hms = |d: std::time::Duration| {
        let s = d.as_secs();
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    };
    let rate = if per_sec >= 10.0 { format!("{per_sec:.0}/s") } else { format!("{per_sec:.2}/s") };
    match len.filter(|&l| l > 0) {
        Some(len) => format!(
            "{stage}: {pos}/{len} ({:.1} %), {rate}, elapsed {}, ETA {}",
            100.0 * pos as f64 / len as f64,
            hms(elapsed),
            hms(eta)
        ),
        None => format!("{stage}: {pos}, {rate}, elapsed {}", hms(elapsed)),
    }
}

/// The trained run a command reads: its dataset, the semantic IDs and TIGER preset
/// that name its models (`<runs>/<dataset>/tiger-<ids>-<preset>/`, the SpecGR++ and
/// UniSRec runs beside it), where to compute, and the run directory. `eval`, `tune`,
/// `diagnose scores`, `recommend` and `serve` take it, so the flags read the same in
/// each.
#[derive(Clone, Debug, clap::Args)]
pub struct RunArgs {
    /// Which dataset.
    #[command(flatten)]
    pub dataset: DatasetArgs,
    /// Which semantic IDs the TIGER model was trained on.
    #[arg(long, default_value = "rqvae")]
    pub ids: IdsName,
    /// The TIGER model's preset (its run directory is `tiger-<ids>-<preset>`).
    #[arg(long, default_value = "small")]
    pub preset: gr_model::TigerPreset,
    /// Where to compute: `cpu`, or `wgpu` / `cuda` / `tch` / `tch-cuda` in builds with that feature.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: backend::DeviceKind,
    /// The run directory.
    #[arg(long, default_value = "runs")]
    pub runs: PathBuf,
}

/// The dataset and the semantic IDs a model was trained on (`<runs>/<dataset>/semid/<ids>/`).
pub(crate) fn load_ids<B: burn::tensor::backend::Backend>(
    dataset: &DatasetArgs,
    ids: crate::cmd::IdsName,
    runs: &std::path::Path,
    device: &B::Device,
) -> anyhow::Result<(recdata::Resolved, ::semid::SemanticIdModel<B>)> {
    let resolved = dataset.load()?;
    let semid_dir = recdata::RunDir::new(runs, &resolved.dataset.name).semid(&ids.name());
    let semid = ::semid::SemanticIdModel::<B>::load(&semid_dir, device).with_context(|| {
        format!("reading {} (run `specgr semid fit {}` first)", semid_dir.display(), ids.fit_args())
    })?;
    Ok((resolved, semid))
}

/// Where a dataset comes from, shared by every subcommand that reads one.
#[derive(Clone, Debug, clap::Args)]
pub struct DatasetArgs {
    /// The dataset: `synthetic` or a manifest name (`beauty-2014`, `games-2023`, ...).
    #[arg(long, default_value = "synthetic")]
    pub dataset: String,
    /// The directory holding `<dataset>/`; defaults to `$SPECGR_DATA`, else `./data`.
    #[arg(long, env = "SPECGR_DATA")]
    pub data_root: Option<PathBuf>,
    /// A directory of extra dataset manifests (`<name>.toml`), searched before the shipped ones.
    #[arg(long)]
    pub datasets_dir: Option<PathBuf>,
    /// A manifest file for your own data; its files are read from the manifest's directory.
    /// Overrides `--dataset`.
    #[arg(long)]
    pub manifest: Option<PathBuf>,
}

impl DatasetArgs {
    /// Loads the dataset and its split configuration.
    pub fn load(&self) -> anyhow::Result<recdata::Resolved> {
        if let Some(path) = &self.manifest {
            return Ok(recdata::load_manifest_file(path)?);
        }
        let root = self.data_root.clone().unwrap_or_else(recdata::default_data_root);
        Ok(recdata::load_dataset_with(&self.dataset, &root, self.datasets_dir().as_deref())?)
    }

    /// The dataset's name (its directory under `--runs`), read from its manifest
    /// without loading the data: the name [`load`](Self::load) gives the dataset.
    pub fn name(&self) -> anyhow::Result<String> {
        if let Some(path) = &self.manifest {
            return Ok(recdata::Manifest::read(path)?.name);
        }
        if self.dataset == "synthetic" {
            return Ok(self.dataset.clone());
        }
        Ok(recdata::find_manifest(&self.dataset, self.datasets_dir().as_deref())?.name)
    }

    /// `--datasets-dir`, else `./datasets` when it exists.
    fn datasets_dir(&self) -> Option<PathBuf> {
        self.datasets_dir.clone().or_else(|| {
            let local = PathBuf::from("datasets");
            local.is_dir().then_some(local)
        })
    }
}

/// Takes the exclusive lock on a run directory that a command is about to write
/// (`<dir>/.lock`, see [`recdata::lock`]); a directory another run is writing is
/// refused with that run's PID and command line. Held until the lock is dropped.
pub fn lock_run_dir(dir: &std::path::Path) -> anyhow::Result<recdata::RunLock> {
    Ok(recdata::RunLock::acquire(dir)?)
}

/// The lock on the run directory a `specgr train` command writes.
///
/// TIGER's directory is the one `train::train_tiger_on` writes ([`train::tiger_run_dir`]).
pub fn train_lock(command: &train::TrainCommand) -> anyhow::Result<recdata::RunLock> {
    let dir = match command {
        train::TrainCommand::Tiger(a) => train::tiger_run_dir(a)?,
        train::TrainCommand::Unisrec(a) => recdata::RunDir::new(&a.runs, &a.dataset.name()?).unisrec(),
        train::TrainCommand::SpecgrPp(a) => specgr_pp::run_dir(&recdata::RunDir::new(&a.runs, &a.dataset.name()?), a.ids, a.preset),
    };
    lock_run_dir(&dir)
}

/// Which semantic IDs a command reads: a method (`rqvae`, `rqkmeans`, `hkmeans`) and,
/// for IDs fitted with other than three code levels, the level count (`rqkmeans-l5`).
///
/// The name is the directory under `<runs>/<dataset>/semid/` and part of the TIGER and
/// SpecGR++ run directories (`tiger-<ids>-<preset>`), so models trained on IDs of
/// different lengths live side by side (Figure A1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdsName {
    /// The quantiser.
    pub method: ::semid::Method,
    /// Code levels other than the default three (the identification digit not counted).
    pub levels: Option<usize>,
}

impl IdsName {
    /// The default number of code levels (the reference's three, plus the identification digit).
    pub const DEFAULT_LEVELS: usize = 3;
    /// The most code levels accepted (the paper's Figure A1 goes to 16 digits).
    pub const MAX_LEVELS: usize = 64;

    /// The IDs of `method` with `levels` code levels; three levels gives the plain method name.
    pub fn new(method: ::semid::Method, levels: usize) -> Self {
        Self { method, levels: (levels != Self::DEFAULT_LEVELS).then_some(levels) }
    }

    /// The number of code levels.
    pub fn levels(self) -> usize {
        self.levels.unwrap_or(Self::DEFAULT_LEVELS)
    }

    /// The directory name: `rqvae`, or `rqkmeans-l5` for five levels.
    pub fn name(self) -> String {
        self.to_string()
    }

    /// The `specgr semid fit` arguments that write these IDs.
    pub fn fit_args(self) -> String {
        match self.levels {
            None => format!("--method {}", self.method.name()),
            Some(l) => format!("--method {} --levels {l}", self.method.name()),
        }
    }
}

impl From<::semid::Method> for IdsName {
    fn from(method: ::semid::Method) -> Self {
        Self { method, levels: None }
    }
}

impl std::fmt::Display for IdsName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.levels {
            None => f.write_str(self.method.name()),
            Some(l) => write!(f, "{}-l{l}", self.method.name()),
        }
    }
}

impl std::str::FromStr for IdsName {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let expected = "expected rqvae, rqkmeans or hkmeans, optionally with `-l<levels>` (e.g. rqkmeans-l5)";
        let (method, levels) = match s.rsplit_once("-l") {
            Some((m, l)) if !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()) => {
                let levels: usize = l.parse().map_err(|_| format!("unknown semantic IDs {s:?}; {expected}"))?;
                if !(1..=Self::MAX_LEVELS).contains(&levels) {
                    return Err(format!("semantic IDs {s:?}: 1 to {} code levels", Self::MAX_LEVELS));
                }
                (m, Some(levels))
            }
            _ => (s, None),
        };
        let method: ::semid::Method = method.parse().map_err(|_| format!("unknown semantic IDs {s:?}; {expected}"))?;
        Ok(Self { method, levels: levels.filter(|&l| l != Self::DEFAULT_LEVELS) })
    }
}

impl serde::Serialize for IdsName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::IdsName;
    use ::semid::Method;

    #[test]
    fn samples_are_seeded_uniform_and_keep_the_order() {
        let v: Vec<u32> = (0..100).collect();
        let a = super::sample_in_order(v.clone(), 10, 7);
        assert_eq!(a.len(), 10);
        assert!(a.windows(2).all(|w| w[0] < w[1]), "time order kept: {a:?}");
        assert_eq!(a, super::sample_in_order(v.clone(), 10, 7), "seeded");
        assert_ne!(a, super::sample_in_order(v.clone(), 10, 8));
        assert_ne!(a, (0..10).collect::<Vec<_>>(), "not the oldest ten");
        assert_eq!(super::sample_in_order(v.clone(), 200, 7), v);
    }

    #[test]
    fn progress_lines_name_the_stage_the_count_the_rate_and_the_eta() {
        use std::time::Duration;
        let line = super::progress_line("embedding items", 1200, Some(12000), 21.3, Duration::from_secs(56), Duration::from_secs(3725));
        assert_eq!(line, "embedding items: 1200/12000 (10.0 %), 21/s, elapsed 0:00:56, ETA 1:02:05");
        let line = super::progress_line("training", 7, Some(0), 0.5, Duration::from_secs(61), Duration::ZERO);
        assert_eq!(line, "training: 7, 0.50/s, elapsed 0:01:01", "an unknown length has no total or ETA");
    }

    #[test]
    fn ids_names_round_trip_and_three_levels_is_the_plain_method() {
        for (text, method, levels) in [
            ("rqvae", Method::RqVae, 3),
            ("rqkmeans-l5", Method::RqKMeans, 5),
            ("hkmeans-l2", Method::HKMeans, 2),
        ] {
            let ids: IdsName = text.parse().unwrap();
            assert_eq!((ids.method, ids.levels()), (method, levels));
            assert_eq!(ids.name(), text);
            assert_eq!(IdsName::new(method, levels), ids);
        }
        assert_eq!("rqvae-l3".parse::<IdsName>().unwrap().name(), "rqvae");
    }

    /// The run directory's layout names the file the text encoder writes.
    #[test]
    fn the_run_directory_names_the_embeddings_file_the_encoder_writes() {
        let run = recdata::RunDir::new("runs", "synthetic");
        assert_eq!(run.embeddings_file(), run.embeddings().join(text_encoder::EMBEDDINGS_FILE));
    }

    #[test]
    fn bad_ids_names_say_what_is_expected() {
        for bad in ["rq", "rqvae-l", "rqvae-lx", "rqvae-l0", "rqvae-l65", "rqvae-l99999999999999999999999", "-l5", ""] {
            let err = bad.parse::<IdsName>().unwrap_err();
            assert!(err.contains("rqvae") || err.contains("code levels"), "{bad}: {err}");
        }
    }
}
