//! The `cargo xtask` command line: the tasks and their dispatch. Each task lives in
//! its own module ([`crate::net`] downloads, [`crate::reproduce`], [`crate::sweep`]);
//! `cargo xtask` and `xtask-net` (the same tasks with the `net` feature) both start
//! here.

use std::path::PathBuf;

use anyhow::Result;
use clap::Parser;

use crate::libtorch::{Libtorch, libtorch};
use crate::net::{download_data, download_encoder};
use crate::reproduce::{Reproduce, reproduce};
use crate::sweep::sweep;

/// The tasks.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "SpecGR workspace tasks")]
pub(crate) enum Task {
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
    /// Set up Burn's LibTorch backend from the PyTorch 2.9.0 wheel: find (or `--install`)
    /// torch, `--build` specgr with the `tch` feature, `--test` it against Flex.
    Libtorch(Libtorch),
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
        /// Evaluate every point again. By default a point whose report an earlier run
        /// finished with the same settings, models, examples and binary is read back,
        /// not run again (`specgr eval --reuse-finished`), so a sweep stopped part-way
        /// resumes at its first unfinished point.
        #[arg(long)]
        rerun: bool,
    },
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
        Task::Libtorch(l) => libtorch(&l),
        Task::Sweep { experiment, out, record, dataset, data_root, rerun } => {
            sweep(&experiment, &results_dir(out, record), dataset, data_root.as_deref(), rerun)
        }
    }
}

/// Where results go: `--out`, else the tracked `experiments/results` with `--record`,
/// else the untracked `runs/results` (a user's run leaves `git status` clean).
pub(crate) fn results_dir(out: Option<PathBuf>, record: bool) -> PathBuf {
    out.unwrap_or_else(|| if record { PathBuf::from("experiments/results") } else { PathBuf::from("runs/results") })
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

