//! `cargo xtask reproduce` arguments and their value parsers.

use std::path::PathBuf;

/// `cargo xtask reproduce` arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct Reproduce {
    /// The dataset: `synthetic` (embedded, the default) or a manifest name (shipped, or
    /// `<name>.toml` in `--datasets-dir`).
    #[arg(long, default_value = "synthetic")]
    pub(crate) dataset: String,
    /// Your own data: a manifest file (`docs/data.md`); its data files are read from
    /// the manifest's own directory, and the dataset is named by the manifest's `name`.
    /// Overrides `--dataset`; nothing is downloaded for it.
    #[arg(long, conflicts_with = "datasets_dir")]
    pub(crate) manifest: Option<PathBuf>,
    /// A directory of dataset manifests (`<name>.toml`), searched before the shipped
    /// ones [default: `./datasets` when it exists].
    #[arg(long)]
    pub(crate) datasets_dir: Option<PathBuf>,
    /// Where datasets live; defaults to $SPECGR_DATA, else ./data.
    #[arg(long, env = "SPECGR_DATA")]
    pub(crate) data_root: Option<PathBuf>,
    /// The sentence encoder directory; defaults to $SPECGR_MODELS/all-MiniLM-L6-v2, else models/all-MiniLM-L6-v2.
    #[arg(long)]
    pub(crate) encoder: Option<PathBuf>,
    /// TIGER size: `tiny`, `small`, `games`, `office`, `phones`.
    #[arg(long, default_value = "tiny")]
    pub(crate) preset: String,
    /// Semantic-ID method: `rqvae` (the paper's; the default for real datasets),
    /// `hkmeans` (DSI's hierarchical k-means; the default for the synthetic data) or
    /// `rqkmeans` (residual k-means). On the small synthetic catalog hierarchical k-means
    /// gives every in-sample item its own code prefix, so only new items carry a non-zero
    /// identification digit, as on large real catalogs: TIGER then never emits them.
    #[arg(long, value_parser = ["rqkmeans", "rqvae", "hkmeans"])]
    pub(crate) ids: Option<String>,
    /// Codes per level; defaults to 32 for the synthetic data and 256 otherwise.
    #[arg(long, value_parser = positive)]
    pub(crate) codebook_size: Option<usize>,
    /// Code levels of the semantic IDs, before the identification digit (the paper's 3
    /// gives 4 digits). Other lengths (Figure A1) keep their own IDs and models
    /// (`<ids>-l<levels>`) and report to `reproduce-<preset>-l<levels>/`.
    #[arg(long, default_value_t = 3, value_parser = levels)]
    pub(crate) levels: usize,
    /// TIGER training epochs (training resumes where a previous run stopped).
    #[arg(long, default_value_t = 10, value_parser = positive)]
    pub(crate) epochs: usize,
    /// Validate TIGER every this many epochs (part of its training config: a resumed
    /// run must use the value it started with).
    #[arg(long, default_value_t = 2, value_parser = positive)]
    pub(crate) eval_every: usize,
    /// UniSRec training epochs (at most; early stopping on valid).
    #[arg(long, default_value_t = 3, value_parser = positive)]
    pub(crate) unisrec_epochs: usize,
    /// UniSRec examples per step.
    #[arg(long, default_value_t = 256, value_parser = positive)]
    pub(crate) unisrec_batch_size: usize,
    /// SpecGR++ stage-1 (contrastive) epochs, starting from the trained TIGER.
    #[arg(long, default_value_t = 2)]
    pub(crate) pp_stage1_epochs: usize,
    /// SpecGR++ stage-2 (learning-to-rank) epochs.
    #[arg(long, default_value_t = 2)]
    pub(crate) pp_stage2_epochs: usize,
    /// Train SpecGR++ on only the first N training examples (all by default).
    #[arg(long, value_parser = positive)]
    pub(crate) pp_train_limit: Option<usize>,
    /// The γ values tried on valid for each SpecGR method; each method then runs on
    /// test with the γ of its best overall NDCG@50. The paper's grid is −1.1 … −1.8
    /// (`--gammas=-1.1,-1.2,-1.3,-1.4,-1.5,-1.6,-1.7,-1.8`); the default is coarser and
    /// reaches much lower, since small, briefly trained verifiers give lower likelihoods
    /// (on Beauty the best γ for SpecGR_Aux was −7, on the synthetic data −3 or below).
    /// Ties go to the first value listed.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true, default_value = "-1.2,-1.5,-1.8,-2.2,-2.6,-3,-4,-5,-6,-8", value_parser = finite_gamma)]
    pub(crate) gammas: Vec<f32>,
    /// Which of the authors' code versions SpecGR follows where they differ (see
    /// `specgr eval --help`): `v1` (the paper's equations) or `v2` (unseen items scored
    /// over the code prefix they share with in-sample items, drafting-order selection,
    /// re-drafting from round 2; the default, as in `specgr eval`).
    #[arg(long, default_value = "v2", value_parser = ["v1", "v2"])]
    pub(crate) reference: String,
    /// Tune γ on a random sample of this many validation examples (0 = all).
    #[arg(long, default_value_t = 300)]
    pub(crate) tune_sample: usize,
    /// A wall-time budget, in minutes, for the training stages (5: TIGER with UniSRec
    /// beside it; 6: SpecGR++), counted from the start of stage 5. When it is spent the
    /// training then running stops at a checkpoint and reproduce stops there, saying
    /// so, without a report; the same command resumes. The other stages (build, data,
    /// embeddings, semantic IDs: cached after a first run; γ tuning and evaluation)
    /// always run to their end [default: no limit].
    #[arg(long, value_parser = positive_minutes)]
    pub(crate) max_minutes: Option<f64>,
    /// Evaluate on the first N test examples only (all by default).
    #[arg(long, value_parser = positive)]
    pub(crate) limit: Option<usize>,
    /// Evaluate on a uniform random sample of N test examples (seed 1), after `--limit`.
    #[arg(long, value_parser = positive)]
    pub(crate) test_sample: Option<usize>,
    /// Where the report goes: `<out>/<dataset>/reproduce-<preset>/`, with `-<ids>` added
    /// for IDs other than the dataset's default and `-l<levels>` for other than 3 levels
    /// [default: `runs/results`, untracked, so a run leaves the checkout clean;
    /// `experiments/results` with `--record`].
    #[arg(long, conflicts_with = "record")]
    pub(crate) out: Option<PathBuf>,
    /// Record the report in the repository's `experiments/results/` (for maintainers:
    /// those files are tracked, and the shipped tables were written this way).
    #[arg(long)]
    pub(crate) record: bool,
    /// Never download: fail when the dataset's directory or the sentence encoder is
    /// missing (by default both are fetched, the dataset as `cargo xtask download` does).
    #[arg(long)]
    pub(crate) offline: bool,
    /// Where to compute: `cpu` (Flex), `wgpu`, `cuda`, `tch` or `tch-cuda`; a GPU
    /// device builds `specgr` with that cargo feature.
    #[arg(long, default_value = "cpu", value_parser = ["cpu", "wgpu", "cuda", "tch", "tch-cuda"])]
    pub(crate) device: String,
}

pub(crate) fn encoder_dir(r: &Reproduce) -> PathBuf {
    r.encoder.clone().unwrap_or_else(|| {
        std::env::var_os("SPECGR_MODELS")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("models"))
            .join(crate::encoder::DEFAULT_ENCODER.rsplit('/').next().unwrap_or_default())
    })
}

/// A whole number of at least 1 (`--epochs`, `--limit`, ...): 0 would leave nothing to
/// run, or (as `specgr` reads some of them) silently mean something else.
pub(crate) fn positive(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1 (0 would leave nothing to compute)".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{s}` is not a whole number >= 1")),
    }
}

/// `--levels`: 1 to 64 code levels, as `specgr semid fit --levels` accepts.
pub(crate) fn levels(s: &str) -> Result<usize, String> {
    match positive(s) {
        Ok(n) if n <= 64 => Ok(n),
        _ => Err("must be 1 to 64 code levels".into()),
    }
}

/// One γ of `--gammas`: a finite number (±inf or NaN would accept or refuse everything).
pub(crate) fn finite_gamma(s: &str) -> Result<f32, String> {
    match s.trim().parse::<f32>() {
        Ok(g) if g.is_finite() => Ok(g),
        Ok(g) => Err(format!("must be a finite number, not {g}")),
        Err(_) => Err(format!("`{s}` is not a number")),
    }
}

/// `--max-minutes`: a positive, finite number of minutes.
pub(crate) fn positive_minutes(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(m) if m.is_finite() && m > 0.0 => Ok(m),
        Ok(_) => Err("must be a positive number of minutes (0 would stop before any training)".into()),
        Err(_) => Err(format!("`{s}` is not a number of minutes")),
    }
}
