//! `specgr eval`: Recall/NDCG of each method, overall / in-sample / unseen.
//!
//! Each method is a value ([`method::Method`]) that [`methods::build`] makes from the
//! loaded models ([`load::Resources`]); this module resolves the arguments, loads
//! what the methods need, times and scores them, and hands the results to [`output`].

pub mod checkpoint;
pub mod gamma;
pub mod load;
pub mod method;
pub mod methods;
pub mod output;

use std::path::PathBuf;
use std::time::Instant;

use drafters::ItemSet;
use recdata::ItemId;
use recdata::metrics::SubsetMetrics;
use speculative::Request;

use burn::tensor::backend::Backend;

pub use method::{Method, MethodId, Needs};

use crate::cmd::progress_bar;

/// `specgr eval` arguments.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// The trained run: dataset, semantic IDs, TIGER preset, device, run directory.
    #[command(flatten)]
    pub run: crate::cmd::RunArgs,
    /// Methods to evaluate.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "tiger,semantic-knn,specgr-knn"
    )]
    pub methods: Vec<MethodId>,
    /// Evaluate on `valid` or `test`; or on `train`, the training examples themselves
    /// (how well a model fits what it learned from, beside how it generalises; every
    /// target there is in-sample, and Popularity, which counts what came before the
    /// part, has nothing to count).
    #[arg(long, default_value = "test")]
    pub part: String,
    /// Use only the first N examples of the part.
    #[arg(long, value_parser = crate::cmd::args::positive)]
    pub limit: Option<usize>,
    /// K, δ, β, the SpecGR variant and the batch size.
    #[command(flatten)]
    pub spec: SpecGrArgs,
    /// Acceptance threshold γ of every SpecGR method [default: each method's γ that
    /// `specgr tune` stored in `<runs>/<dataset>/tune-<ids>-<preset>/gamma.json`, when
    /// tuned with the same K, δ, β and SpecGR settings; else -1.4]. The output says
    /// which γ each method ran with and where it came from.
    #[arg(long, allow_hyphen_values = true, value_parser = crate::cmd::args::finite_f32)]
    pub threshold: Option<f32>,
    /// A SpecGR method's own γ, overriding `--threshold` and the tuned γ for it:
    /// `specgr-knn=-2.5` (repeat the flag or separate pairs with commas).
    #[arg(long, value_delimiter = ',', value_parser = parse_method_threshold, allow_hyphen_values = true)]
    pub method_threshold: Vec<(MethodId, f32)>,
    /// A SpecGR method's own draft size δ, overriding `--draft-size` for it:
    /// `specgr-aux=20` (repeat the flag or separate pairs with commas). With
    /// `--method-beam-size` and `--method-threshold`, each SpecGR method of one run can
    /// have the settings tuned for it.
    #[arg(long, value_delimiter = ',', value_parser = parse_method_draft_size)]
    pub method_draft_size: Vec<(MethodId, usize)>,
    /// A SpecGR method's own beam size β, overriding `--beam-size` for it (the TIGER
    /// baselines and the ensembles keep `--beam-size`): `specgr-pp=20`.
    #[arg(long, value_delimiter = ',', value_parser = parse_method_beam_size)]
    pub method_beam_size: Vec<(MethodId, usize)>,
    /// Which semantic IDs the TIGER and TIGER_C baselines' beams may spell: `all`
    /// catalog items, only `in-sample` items (what TIGER was trained to emit), or
    /// `free` (any tokens, as the reference code; sequences that are no item are dropped).
    /// SpecGR's own beams always stay on real items.
    #[arg(long, value_enum, default_value = "all")]
    pub tiger_beams: TigerBeams,
    /// Subset ranking (Figure A2): each example ranks only a seeded random subset of
    /// this many catalog items that includes its target (drawn with `--seed`). TIGER
    /// then runs one query at a time with its beams constrained to the subset (CBS).
    #[arg(long, value_parser = parse_subset_size)]
    pub subset_size: Option<usize>,
    /// TIGER by batch scoring: candidates scored per query per pass.
    #[arg(long, default_value_t = 1000, value_parser = crate::cmd::args::positive)]
    pub score_chunk: usize,
    /// The score-based ensemble's weight on TIGER's score.
    #[arg(long, default_value_t = 0.5, value_parser = crate::cmd::args::unit_f32, allow_hyphen_values = true)]
    pub ensemble_weight: f32,
    /// Popularity: count only the interactions of the last N days before the
    /// evaluated part starts (its chronological cut-off; under leave-one-out, the
    /// latest counted interaction) [default: every earlier interaction]. The counts are
    /// the targets of the earlier parts' examples: `train` for `valid`, `train` and
    /// `valid` for `test`.
    #[arg(long, value_parser = crate::cmd::args::positive)]
    pub popularity_days: Option<usize>,
    /// Not in the paper: SpecGR++'s drafter (in `specgr-pp` and `specgr-pp-drafter`)
    /// ranks item `j` by `cos + W · ln(1 + n_j)`, `n_j` the training examples that
    /// target it. Stage 1's in-batch negatives teach the encoder to discount each
    /// item's log-frequency; `W` = the training temperature (0.07) adds it back.
    #[arg(long, value_name = "W", allow_negative_numbers = true, value_parser = crate::cmd::args::finite_f32)]
    pub drafter_popularity_prior: Option<f32>,
    /// TIGER_C: the largest share ε of the list given to unseen items.
    #[arg(long, default_value_t = 0.1, value_parser = crate::cmd::args::unit_f64, allow_hyphen_values = true)]
    pub epsilon: f64,
    /// Run the methods this many times, interleaved (all methods once, then again),
    /// and report the median time: latency compared side by side in one run.
    #[arg(long, default_value_t = 1, value_parser = crate::cmd::args::positive)]
    pub repeat: usize,
    /// Precision of the linear maps' and attention's products of TIGER (and SpecGR++'s
    /// model) while scoring, beams and encoding queries: `f32`, or `bf16` (bfloat16
    /// products with float32 accumulation, as the reference's inference under
    /// `torch.autocast`; with `--device tch` on a CPU with AVX512-BF16 or AMX about twice
    /// as fast per product, on `cpu` slower). Norms, softmax and the output projection
    /// stay float32, and so do SpecGR++'s stored item vectors, UniSRec and
    /// the text embeddings [default: f32].
    #[arg(long)]
    pub matmul: Option<gr_model::MatmulPrecision>,
    /// Evaluate a uniform random sample of N examples of the part (drawn with `--seed`,
    /// kept in time order); applied after `--limit`.
    #[arg(long, value_parser = crate::cmd::args::positive)]
    pub sample: Option<usize>,
    /// The seed of `--sample`.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Also write results.md / results.csv / results.json with provenance into this
    /// directory. The run is then resumable: each method's lists are saved there
    /// (`checkpoint/`) every `--checkpoint-every` examples, and the same command run
    /// again after a kill computes only what is missing (with `--repeat 1`: repeated
    /// timings are compared within one process). The checkpoint is removed once the
    /// report is written.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// With `--report`: examples per saved chunk of each method's lists (rounded up to
    /// whole batches, so every batch is the one an uninterrupted run forms).
    #[arg(long, default_value_t = checkpoint::DEFAULT_EXAMPLES, value_parser = crate::cmd::args::positive)]
    pub checkpoint_every: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Also say, for each pair of methods, the mean share of one's top K that the
    /// other's top K holds too (at each reported cut-off): e.g. whether a drafter ranks
    /// what `popularity` ranks; and how popular in training each method's listed items
    /// are, beside the targets (the median count of training examples that target them).
    #[arg(long)]
    pub overlap: bool,
    /// With `--report`: when that directory already holds the finished report of a run
    /// with exactly these settings (models, examples, γ, binary) and seed, print it (with
    /// `--json`, as its `results.json`) and stop instead of evaluating again. `cargo xtask sweep` passes it, so that a sweep
    /// run again after a kill evaluates only the points it had not finished.
    #[arg(long, requires = "report")]
    pub reuse_finished: bool,
    /// Evaluate a UniSRec drafter whose training has not finished (killed, stopped by
    /// `--max-minutes`, or still running): its best epoch on valid so far. The report
    /// records the epochs and samples its run had seen. Without it such a drafter is
    /// refused, so that a half-trained model is never taken for a finished one.
    #[arg(long)]
    pub allow_unfinished: bool,
    /// The TIGER checkpoint to evaluate instead of `<runs>/<dataset>/tiger-<ids>-<preset>/best/`:
    /// another run's `best/`, or a copy frozen aside. It is checked against the dataset,
    /// IDs and preset as that one is, and the report records its directory and files.
    #[arg(long)]
    pub tiger_checkpoint: Option<PathBuf>,
}

/// The settings of the SpecGR loop and its evaluation that `eval` and `tune` share
/// (a γ tuned under one set of them is used only under the same).
#[derive(Debug, Clone, clap::Args)]
pub struct SpecGrArgs {
    /// Recommendation list length K. Metrics are reported at the protocol's cut-offs
    /// (5, 10, 50) up to K only: those beyond K are shown as `–` (so @50 needs K ≥ 50).
    #[arg(long, default_value_t = 50, value_parser = crate::cmd::args::positive)]
    pub k: usize,
    /// Draft size δ.
    #[arg(long, default_value_t = 50)]
    pub draft_size: usize,
    /// Beam size β.
    #[arg(long, default_value_t = 50, value_parser = crate::cmd::args::positive)]
    pub beam_size: usize,
    /// Which of the authors' code versions SpecGR follows where they differ: `v1`
    /// (re-draft from round 1, best K accepted by score, unseen items scored without
    /// the identification digit) or `v2` (re-draft from round 2, first K accepted in
    /// drafting order, unseen items scored over the prefix they share with in-sample
    /// items: at least 3 digits for SpecGR++, 2 with another drafter). The default is
    /// v2: on Beauty and on the synthetic data it gives SpecGR higher overall and
    /// unseen recall (docs/reproduction.md); the library's `SpecGrConfig::new` keeps
    /// the paper's equations (v1).
    #[arg(long, value_enum, default_value = "v2")]
    pub reference: Reference,
    /// Override only how unseen items are scored, keeping the rest of `--reference`:
    /// `drop-identification` (v1) or `shared-prefix` (v2). For telling apart which of
    /// the two versions' choices makes a difference.
    #[arg(long, value_enum)]
    pub unseen_digits: Option<UnseenScoring>,
    /// What a draft's summed log-probability is divided by: `scored-digits` (the
    /// paper's Eq. 2, both reference versions) or `all-digits` (ours: the full ID's
    /// length, so an unseen item scored over a shorter prefix is not divided by less
    /// than an in-sample item; docs/reproduction.md).
    #[arg(long, value_enum, default_value = "scored-digits")]
    pub normalisation: Normalising,
    /// SpecGR components to switch off (the paper's Table 3): `inductive-drafting`
    /// (δ = 0), `likelihood-adjustment`, `guided-redrafting`, `rerank`, `adaptive-exit`.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub without: Vec<Component>,
    /// Queries per batch.
    #[arg(long, default_value_t = 32, value_parser = crate::cmd::args::positive)]
    pub batch_size: usize,
}

/// The authors' code version whose choices SpecGR follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Reference {
    /// The paper's equations and the first code version.
    V1,
    /// The second code version ("AAAI 2026").
    V2,
}

/// How unseen items' verification scores are computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum UnseenScoring {
    /// Every code digit, the identification digit left out (v1, the paper's Eq. 2).
    DropIdentification,
    /// The code prefix shared with an in-sample item: at least 3 digits for SpecGR++,
    /// 2 with another drafter (v2).
    SharedPrefix,
}

/// What a draft's summed log-probability is divided by (`--normalisation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Normalising {
    /// The digits scored (the paper's Eq. 2).
    ScoredDigits,
    /// The full semantic ID's digits (ours).
    AllDigits,
}

/// A SpecGR component an ablation switches off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Component {
    /// Drafting (δ = 0: SpecGR becomes beam search).
    InductiveDrafting,
    /// Scoring unseen items without their identification digit.
    LikelihoodAdjustment,
    /// Restricting later drafts to the beams' prefixes.
    GuidedRedrafting,
    /// Ranking the final list by verification score.
    Rerank,
    /// Stopping once K items are accepted.
    AdaptiveExit,
}

/// Parses `--subset-size`: at least 2 (a subset of one item is just the target, and
/// every metric would read 1). It must also exceed `--k`, checked when the run starts.
fn parse_subset_size(s: &str) -> Result<usize, String> {
    match crate::cmd::args::whole(s)? {
        n @ 2.. => Ok(n),
        _ => Err("must be at least 2: a subset of one item is just the target, so every metric would read 1".into()),
    }
}


/// Parses `method=γ` for `--method-threshold`.
fn parse_method_threshold(s: &str) -> Result<(MethodId, f32), String> {
    parse_method_value(s, "threshold", "γ, e.g. specgr-knn=-2.5", crate::cmd::args::finite_f32)
}

/// Parses `method=δ` for `--method-draft-size` (δ = 0 is drafting switched off, as
/// `--draft-size 0`).
fn parse_method_draft_size(s: &str) -> Result<(MethodId, usize), String> {
    parse_method_value(s, "draft size", "δ, e.g. specgr-aux=20", crate::cmd::args::whole)
}

/// Parses `method=β` for `--method-beam-size`.
fn parse_method_beam_size(s: &str) -> Result<(MethodId, usize), String> {
    parse_method_value(s, "beam size", "β, e.g. specgr-pp=20", crate::cmd::args::positive)
}

/// Parses `method=value` for a SpecGR method's own setting (`what`, e.g. "threshold").
fn parse_method_value<T>(
    s: &str,
    what: &str,
    expected: &str,
    value: impl Fn(&str) -> Result<T, String>,
) -> Result<(MethodId, T), String> {
    let (m, v) = s.split_once('=').ok_or_else(|| format!("`{s}`: expected METHOD={expected}"))?;
    let method = <MethodId as clap::ValueEnum>::from_str(m.trim(), true)
        .map_err(|_| format!("`{m}` is not a method (expected one of {})", MethodId::ids_text(|_| true)))?;
    if !method.has_threshold() {
        return Err(format!("`{m}` has no {what}: only {} do", MethodId::ids_text(MethodId::has_threshold)));
    }
    let v = value(v).map_err(|e| format!("`{v}` (in `{s}`): {e}"))?;
    Ok((method, v))
}

impl EvalArgs {
    /// The draft size δ of `method`: its `--method-draft-size`, else `--draft-size`.
    pub fn draft_size(&self, method: MethodId) -> usize {
        own(&self.method_draft_size, method).unwrap_or(self.spec.draft_size)
    }

    /// The beam size β of `method`: its `--method-beam-size`, else `--beam-size`.
    pub fn beam_size(&self, method: MethodId) -> usize {
        own(&self.method_beam_size, method).unwrap_or(self.spec.beam_size)
    }

    /// The per-method δ and β of the methods that run, as `SpecGR_Aux δ 20, SpecGR++ β
    /// 20` (empty when none).
    pub fn own_settings_text(&self) -> String {
        let each = |flag: &[(MethodId, usize)], sym: &str| {
            let mut seen: Vec<MethodId> = Vec::new();
            for &(m, _) in flag {
                if !seen.contains(&m) && self.methods.contains(&m) {
                    seen.push(m);
                }
            }
            seen.into_iter().filter_map(|m| own(flag, m).map(|v| format!("{} {sym} {v}", m.name()))).collect::<Vec<_>>()
        };
        let mut parts = each(&self.method_draft_size, "δ");
        parts.extend(each(&self.method_beam_size, "β"));
        if let Some(w) = self.drafter_popularity_prior.filter(|_| self.uses_encoder_drafter()) {
            parts.push(format!("SpecGR++ drafter + {w}·ln(1 + training count)"));
        }
        if self.matmul == Some(gr_model::MatmulPrecision::Bf16) {
            parts.push("TIGER's linear maps and attention products in bfloat16 (autocast's)".to_owned());
        }
        parts.join(", ")
    }

    /// Whether a method drafts with the SpecGR++ encoder.
    fn uses_encoder_drafter(&self) -> bool {
        self.methods.iter().any(|m| matches!(m, MethodId::SpecgrPp | MethodId::SpecgrPpDrafter))
    }

    /// Each per-method flag's methods that do not run (`--method-threshold`,
    /// `--method-draft-size`, `--method-beam-size`), as (flag, method id): most likely a
    /// typo for a method that does, whose setting then silently stays the run's.
    pub fn unused_own_settings(&self) -> Vec<(&'static str, &'static str)> {
        let thresholds = self.method_threshold.iter().map(|&(m, _)| ("--method-threshold", m));
        let drafts = self.method_draft_size.iter().map(|&(m, _)| ("--method-draft-size", m));
        let beams = self.method_beam_size.iter().map(|&(m, _)| ("--method-beam-size", m));
        let mut out: Vec<(&'static str, &'static str)> = Vec::new();
        if self.drafter_popularity_prior.is_some() && !self.uses_encoder_drafter() {
            out.push(("--drafter-popularity-prior", MethodId::SpecgrPpDrafter.id()));
        }
        for (flag, m) in thresholds.chain(drafts).chain(beams) {
            if !self.methods.contains(&m) && !out.contains(&(flag, m.id())) {
                out.push((flag, m.id()));
            }
        }
        out
    }
}

/// The value a per-method flag gives `method` (the last one given wins).
fn own<T: Copy>(flag: &[(MethodId, T)], method: MethodId) -> Option<T> {
    flag.iter().rev().find(|(m, _)| *m == method).map(|&(_, v)| v)
}

/// The IDs the TIGER baselines' beam search may spell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TigerBeams {
    /// Any catalog item, unseen ones included (a prefix trie over every item).
    All,
    /// Only in-sample items.
    InSample,
    /// Any token sequence (the reference code's unconstrained beam search).
    Free,
}

/// Per example, a subset of `size` distinct catalog items (of `num_items`) that holds
/// the example's target: a partial Fisher–Yates shuffle per example, one seeded stream.
fn draw_subsets(
    examples: &[recdata::Example],
    num_items: usize,
    size: usize,
    seed: u64,
) -> Vec<ItemSet> {
    let size = size.clamp(1, num_items.max(1));
    let mut rng = recdata::rng::Rng::new(seed ^ 0x5B5E_7000);
    let mut perm: Vec<u32> = (0..num_items as u32).collect();
    examples
        .iter()
        .map(|e| {
            for i in 0..size {
                let j = i + rng.below(num_items - i);
                perm.swap(i, j);
            }
            let mut set: ItemSet = perm[..size].iter().map(|&i| ItemId(i)).collect();
            if !set.contains(e.target) {
                set.remove(ItemId(perm[size - 1]));
                set.insert(e.target);
            }
            set
        })
        .collect()
}

/// The cut-offs metrics are computed at for lists of `k` items: those of the protocol
/// (5, 10, 50 for leave-one-out; 10, 50 otherwise) up to `k`.
fn cutoffs(split: &recdata::SplitConfig, k: usize) -> anyhow::Result<Vec<usize>> {
    let all: &[usize] = match split {
        recdata::SplitConfig::LeaveOneOut { .. } => &[5, 10, 50],
        recdata::SplitConfig::Chronological { .. } => &[10, 50],
    };
    let ks: Vec<usize> = all.iter().copied().filter(|&c| c <= k).collect();
    anyhow::ensure!(
        !ks.is_empty(),
        "--k {k}: lists of {k} items are too short for the smallest cut-off this split reports (@{}); use --k {} or more",
        all[0],
        all[0]
    );
    Ok(ks)
}


/// The examples one evaluation scores, and what they are scored against.
pub struct Prepared {
    /// The dataset and its split configuration.
    pub resolved: recdata::Resolved,
    /// The split.
    pub split: recdata::Split,
    /// The examples of the part, after `--limit` and `--sample`.
    pub examples: Vec<recdata::Example>,
    /// The cut-offs metrics are computed at.
    pub ks: Vec<usize>,
    /// `<runs>/<dataset>`.
    pub run_dir: recdata::RunDir,
}

impl Prepared {
    /// Loads the dataset and picks the examples `args` asks for.
    pub fn new(args: &EvalArgs) -> anyhow::Result<Self> {
        let load::Run { resolved, split, run_dir } = load::Run::open(&args.run.dataset, &args.run.runs)?;
        // Leave-one-out results are reported at K = 5 and 10 (TIGER's protocol). Only
        // cut-offs within the list length are computed: a list of K items says nothing
        // about Recall@50 when K < 50 (it would only repeat Recall@K).
        let ks = cutoffs(&resolved.split, args.spec.k)?;
        let mut examples = match args.part.as_str() {
            "test" => split.test.clone(),
            "valid" => split.valid.clone(),
            "train" => split.train.clone(),
            other => anyhow::bail!("--part must be `valid`, `test` or `train`, not `{other}`"),
        };
        if let Some(n) = args.limit {
            examples.truncate(n);
        }
        if let Some(n) = args.sample {
            examples = crate::cmd::sample_in_order(examples, n, args.seed);
        }
        anyhow::ensure!(
            !examples.is_empty(),
            "the `{}` part of {} has no examples to evaluate",
            args.part,
            resolved.dataset.name
        );
        Ok(Self { resolved, split, examples, ks, run_dir })
    }

    /// Loads what `methods` need, checked against this dataset (the popularity counts
    /// of the interactions before `args.part`).
    pub fn load<B: Backend>(&self, args: &EvalArgs, methods: &[MethodId], device: &B::Device) -> anyhow::Result<load::Resources<B>> {
        let at = load::Checkpoints {
            run_dir: &self.run_dir,
            ids: args.run.ids,
            preset: args.run.preset,
            allow_unfinished: args.allow_unfinished,
            tiger: args.tiger_checkpoint.as_deref(),
        };
        let needs = Needs::of(methods);
        let mut resources = load::load_resources(&self.resolved.dataset, &self.split, at, &args.run.dataset, needs, device)?;
        if needs.popularity {
            resources.popularity = Some(popularity_before(&self.split, &args.part, args.popularity_days)?);
        }
        if let Some(precision) = args.matmul {
            crate::cmd::backend::check_matmul(args.run.device, precision)?;
            if let Some(tiger) = resources.tiger.as_mut() {
                tiger.set_matmul_precision(precision);
            }
            if let Some(pp) = resources.specgr_pp.as_mut() {
                pp.model.tiger.set_matmul_precision(precision);
            }
        }
        if let (Some(weight), Some(pp)) = (args.drafter_popularity_prior, resources.specgr_pp.as_mut()) {
            pp.set_popularity_prior(drafters::PopularityPrior { weight, counts: self.training_counts() })?;
        }
        Ok(resources)
    }

    /// Where `specgr tune` keeps the tuned γ of `args`' TIGER model.
    pub fn tune_dir(&self, args: &EvalArgs) -> PathBuf {
        gamma::tune_dir(&self.run_dir, args.run.ids, args.run.preset)
    }

    /// Per example, its subset of the catalog under subset ranking (`--subset-size`).
    pub fn subsets(&self, args: &EvalArgs) -> Option<Vec<ItemSet>> {
        let num_items = self.resolved.dataset.catalog.ids().count();
        args.subset_size.map(|n| draw_subsets(&self.examples, num_items, n, args.seed))
    }

    /// Runs `method` on `requests` (one per example) with a progress bar labelled
    /// `label`; its lists and the wall seconds it took.
    pub fn run(&self, method: &dyn Method, requests: &[Request<'_>], label: &str) -> anyhow::Result<(method::Output, f64)> {
        let bar = progress_bar(requests.len() as u64, label);
        let done = timed_recommend(method, requests, &mut |n| bar.set_position(n as u64));
        bar.finish_and_clear();
        done
    }

    /// [`Prepared::run`] chunk by chunk through `checkpoint`: chunks an earlier run of
    /// the same command saved are loaded, the others run and are saved. The lists,
    /// the wall seconds summed over the chunks, and how many examples came from the
    /// checkpoint.
    pub fn run_chunked(
        &self,
        method: &dyn Method,
        requests: &[Request<'_>],
        label: &str,
        checkpoint: &checkpoint::Checkpoint,
    ) -> anyhow::Result<(method::Output, f64, usize)> {
        let bar = progress_bar(requests.len() as u64, label);
        let mut all = method::Output { lists: Vec::with_capacity(requests.len()), scores: Vec::new(), stats: None };
        let (mut seconds, mut from_before) = (0.0, 0);
        for (index, chunk) in requests.chunks(checkpoint.chunk()).enumerate() {
            let start = index * checkpoint.chunk();
            let (out, s) = match checkpoint.load(method.id(), index, chunk.len())? {
                Some(done) => {
                    from_before += chunk.len();
                    done
                }
                None => {
                    let (out, s) = timed_recommend(method, chunk, &mut |n| bar.set_position((start + n) as u64))?;
                    checkpoint.save(method.id(), index, &out, s)?;
                    (out, s)
                }
            };
            bar.set_position((start + chunk.len()) as u64);
            seconds += s;
            all.lists.extend(out.lists);
            all.scores.extend(out.scores);
            match (&mut all.stats, out.stats) {
                (Some(a), Some(b)) => a.merge(&b),
                (a @ None, b) => *a = b,
                (Some(_), None) => anyhow::bail!("{}: SpecGR counters in some chunks only", method.id().name()),
            }
        }
        bar.finish_and_clear();
        if from_before > 0 {
            eprintln!(
                "{}: resumed, {from_before} of {} examples' lists from the checkpoint of an earlier run",
                method.id().name(),
                requests.len()
            );
        }
        Ok((all, seconds, from_before))
    }

    /// Recall and NDCG of one list per example.
    pub fn score(&self, lists: &[Vec<ItemId>]) -> SubsetMetrics {
        SubsetMetrics::evaluate(&self.examples, lists, &self.split, &self.ks)
    }

    /// How many training examples have each item as their target.
    pub fn training_counts(&self) -> std::collections::HashMap<ItemId, usize> {
        let mut counts = std::collections::HashMap::new();
        for e in &self.split.train {
            *counts.entry(e.target).or_insert(0) += 1;
        }
        counts
    }

    /// The share of recommended items that are unseen.
    pub fn unseen_share(&self, lists: &[Vec<ItemId>]) -> f64 {
        let total: usize = lists.iter().map(Vec::len).sum();
        let unseen = lists.iter().flatten().filter(|&&i| !self.split.is_in_sample(i)).count();
        unseen as f64 / total.max(1) as f64
    }
}

/// `method`'s lists for `requests`, checked to be one per request, and the wall
/// seconds they took.
fn timed_recommend(
    method: &dyn Method,
    requests: &[Request<'_>],
    progress: &mut dyn FnMut(usize),
) -> anyhow::Result<(method::Output, f64)> {
    let start = Instant::now();
    let out = method.recommend(requests, progress)?;
    let seconds = start.elapsed().as_secs_f64();
    anyhow::ensure!(
        out.lists.len() == requests.len(),
        "{} returned {} lists for {} queries",
        method.id().name(),
        out.lists.len(),
        requests.len()
    );
    Ok((out, seconds))
}

/// One request per example, each within its subset under subset ranking.
pub fn requests<'a>(examples: &'a [recdata::Example], subsets: Option<&'a [ItemSet]>) -> Vec<Request<'a>> {
    examples
        .iter()
        .enumerate()
        .map(|(i, e)| match subsets {
            Some(s) => Request::new(&e.history).within(&s[i]),
            None => Request::new(&e.history),
        })
        .collect()
}

/// The popularity counts known when `part` starts: the targets of the earlier parts'
/// examples, within the last `days` days before the part's start (its chronological
/// cut-off; without one, just after the latest counted interaction).
pub fn popularity_before(split: &recdata::Split, part: &str, days: Option<usize>) -> anyhow::Result<drafters::Popularity> {
    let (earlier, cutoff): (Vec<&recdata::Example>, Option<i64>) = match part {
        "valid" => (split.train.iter().collect(), split.cutoffs_ms.map(|c| c.0)),
        "test" => (split.train.iter().chain(&split.valid).collect(), split.cutoffs_ms.map(|c| c.1)),
        "train" => anyhow::bail!(POPULARITY_ON_TRAIN),
        other => anyhow::bail!("--part must be `valid` or `test`, not `{other}`"),
    };
    let until = match cutoff {
        Some(t) => t,
        None => earlier.iter().map(|e| e.timestamp_ms).max().map_or(i64::MAX, |t| t.saturating_add(1)),
    };
    let from = days.map_or(i64::MIN, |d| until.saturating_sub(d as i64 * 86_400_000));
    let counts = drafters::Popularity::count(earlier.iter().map(|e| (e.target, e.timestamp_ms)), from, until);
    anyhow::ensure!(
        !counts.is_empty(),
        "Popularity: no interaction before the `{part}` part{}, so it would recommend nothing",
        days.map(|d| format!(" in the last {d} days (--popularity-days)")).unwrap_or_default()
    );
    Ok(counts)
}

/// Why Popularity cannot rank the training examples.
const POPULARITY_ON_TRAIN: &str =
    "Popularity with --part train: it counts the interactions before the evaluated part, and none come before `train`";

/// Runs `specgr eval`.
pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    crate::with_backend!(args.run.device, |B, device| run_on::<B>(args, &device))
}

fn run_on<B: Backend>(args: EvalArgs, device: &B::Device) -> anyhow::Result<()> {
    // Refused before anything loads.
    anyhow::ensure!(!(args.part == "train" && args.methods.contains(&MethodId::Popularity)), POPULARITY_ON_TRAIN);
    if let Some(n) = args.subset_size {
        anyhow::ensure!(
            n > args.spec.k,
            "--subset-size {n} is not larger than --k {}: every list would hold the whole subset, target included, so every metric would read 1",
            args.spec.k
        );
    }
    // Taken first, so that a report directory another run is writing fails at once.
    let _lock = args.report.as_deref().map(crate::cmd::lock_run_dir).transpose()?;
    let p = Prepared::new(&args)?;
    for (flag, named) in args.unused_own_settings() {
        tracing::warn!("{flag} names {named}, which is not among --methods: ignored");
    }
    let gammas = gamma::Gammas::resolve(&args, &p.tune_dir(&args))?;
    if !args.json && !gammas.describe().is_empty() {
        eprintln!("γ: {}", gammas.describe());
    }
    let resources = p.load::<B>(&args, &args.methods, device)?;
    let subsets = p.subsets(&args);
    let requests = requests(&p.examples, subsets.as_deref());
    let methods = args
        .methods
        .iter()
        .map(|&m| methods::build(m, &resources, &args, gammas.of(m)))
        .collect::<anyhow::Result<Vec<_>>>()?;

    let repeat = args.repeat.max(1);
    let settings = output::settings_json(&args, &p.resolved.dataset.name, &gammas, &resources.inputs);
    if let Some(dir) = args.report.as_deref().filter(|_| args.reuse_finished)
        && let Some(report) = output::finished_report(dir, &settings, args.seed, &args.methods)
    {
        eprintln!(
            "{}: finished earlier with the same settings, models, examples and seed ({}, {}): not run again",
            dir.display(),
            report.provenance.git_revision,
            report.provenance.finished
        );
        return output::print_report(&report, args.json);
    }
    // Resumable with a report and one repetition (repeated timings are compared
    // within one process).
    let checkpoint = match (&args.report, repeat) {
        (Some(dir), 1) => {
            let key = serde_json::json!({
                "settings": settings,
                "seed": args.seed,
                "examples": p.examples.len(),
            });
            let chunk = checkpoint::chunk_size(args.checkpoint_every, args.spec.batch_size);
            Some(checkpoint::Checkpoint::open(dir, key, chunk)?)
        }
        _ => None,
    };
    let mut runs: Vec<Option<method::Output>> = vec![None; methods.len()];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); methods.len()];
    let mut resumed: Vec<usize> = vec![0; methods.len()];
    for rep in 0..repeat {
        for (i, method) in methods.iter().enumerate() {
            let name = method.id().name();
            let label = if repeat > 1 { format!("{name} ({}/{repeat})", rep + 1) } else { name.to_owned() };
            let (out, seconds) = match &checkpoint {
                Some(c) => {
                    let (out, seconds, from_before) = p.run_chunked(method.as_ref(), &requests, &label, c)?;
                    resumed[i] = from_before;
                    (out, seconds)
                }
                None => p.run(method.as_ref(), &requests, &label)?,
            };
            times[i].push(seconds);
            if rep == 0 {
                runs[i] = Some(out);
            }
        }
    }
    let runs = runs
        .into_iter()
        .zip(&methods)
        .map(|(run, method)| run.ok_or_else(|| anyhow::anyhow!("{} did not run", method.id())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let overlaps = match args.overlap {
        true => {
            let mut lines = output::overlaps(
                &methods.iter().zip(&runs).map(|(m, out)| (m.id(), out.lists.as_slice())).collect::<Vec<_>>(),
                &p.ks,
            );
            let counts = p.training_counts();
            let targets: Vec<Vec<ItemId>> = p.examples.iter().map(|e| vec![e.target]).collect();
            lines.push(output::popularity_profile(None, &targets, &counts, &p.ks));
            lines.extend(methods.iter().zip(&runs).map(|(m, out)| output::popularity_profile(Some(m.id()), &out.lists, &counts, &p.ks)));
            lines
        }
        false => Vec::new(),
    };
    let mut results = Vec::new();
    for (((method, out), mut seconds_all), resumed_examples) in methods.iter().zip(runs).zip(times).zip(resumed) {
        seconds_all.sort_by(f64::total_cmp);
        results.push(output::MethodResult {
            resumed_examples,
            method: method.id(),
            name: method.id().name(),
            metrics: p.score(&out.lists),
            seconds: seconds_all[seconds_all.len() / 2],
            seconds_all,
            unseen_share_of_output: p.unseen_share(&out.lists),
            stats: out.stats,
        });
    }
    let info = output::RunInfo {
        args: &args,
        dataset: &p.resolved.dataset.name,
        examples: p.examples.len(),
        gammas: &gammas,
        inputs: &resources.inputs,
        overlaps: &overlaps,
    };
    if let Some(dir) = &args.report {
        output::report(&info, &results).write(dir)?;
    }
    if let Some(c) = checkpoint {
        c.finish()?;
    }
    output::print(&info, &results)
}

#[cfg(test)]
mod tests {
    use super::{cutoffs, popularity_before};
    use recdata::{Example, ItemId, Split, SplitConfig};

    const DAY: i64 = 86_400_000;

    fn example(target: u32, day: i64) -> Example {
        Example { user: 0, history: vec![ItemId(0)], target: ItemId(target), timestamp_ms: day * DAY }
    }

    /// Valid counts the training targets only; test counts train and valid; the
    /// window ends at the part's cut-off (or after the latest counted target without
    /// one) and reaches back `days` days; the part's own targets never count.
    #[test]
    fn popularity_counts_what_was_known_before_the_part() {
        let mut split = Split {
            train: vec![example(1, 1), example(1, 2), example(2, 8), example(3, 9)],
            valid: vec![example(4, 10), example(4, 11), example(4, 12)],
            test: vec![example(5, 20), example(5, 21)],
            in_sample: vec![true; 6],
            cutoffs_ms: Some((10 * DAY, 20 * DAY)),
            stats: Default::default(),
        };
        let items = |p: &drafters::Popularity| p.top(10, None).into_iter().map(|(i, c)| (i.0, c as u32)).collect::<Vec<_>>();
        assert_eq!(items(&popularity_before(&split, "valid", None).unwrap()), [(1, 2), (2, 1), (3, 1)]);
        assert_eq!(items(&popularity_before(&split, "valid", Some(2)).unwrap()), [(2, 1), (3, 1)], "days 8 and 9 of [8, 10)");
        assert_eq!(items(&popularity_before(&split, "test", None).unwrap()), [(4, 3), (1, 2), (2, 1), (3, 1)]);
        assert_eq!(items(&popularity_before(&split, "test", Some(9)).unwrap()), [(4, 2)], "[11, 20): days 11 and 12");
        let err = popularity_before(&split, "test", Some(5)).unwrap_err().to_string();
        assert!(err.contains("last 5 days") && err.contains("nothing"), "{err}");
        assert!(popularity_before(&split, "train", None).is_err());
        // Without cut-offs (leave-one-out), the window ends after the latest counted target.
        split.cutoffs_ms = None;
        assert_eq!(items(&popularity_before(&split, "valid", Some(2)).unwrap()), [(2, 1), (3, 1)], "(7, 9]");
        assert_eq!(items(&popularity_before(&split, "test", Some(2)).unwrap()), [(4, 2)], "(10, 12]");
    }

    #[test]
    fn only_cut_offs_within_the_list_length_are_computed() {
        let chrono = SplitConfig::quantiles(0.8, 0.9);
        let loo = SplitConfig::LeaveOneOut { max_history: 20 };
        assert_eq!(cutoffs(&chrono, 50).unwrap(), [10, 50]);
        assert_eq!(cutoffs(&chrono, 10).unwrap(), [10], "no @50 from lists of 10");
        assert_eq!(cutoffs(&loo, 10).unwrap(), [5, 10]);
        assert_eq!(cutoffs(&loo, 100).unwrap(), [5, 10, 50]);
        let err = cutoffs(&chrono, 5).unwrap_err().to_string();
        assert!(err.contains("--k 5") && err.contains("--k 10 or more"), "{err}");
    }
}

