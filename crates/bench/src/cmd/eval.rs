//! `specgr eval`: Recall/NDCG of each method, overall / in-sample / unseen.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use drafters::{DraftFilter, Drafter, ItemSet, Query, SemanticKnn, SemanticKnnConfig};
use gr_model::{Constraint, Tiger, TigerPreset, TigerVerifier};
use recdata::ItemId;
use recdata::metrics::{Subset, SubsetMetrics};
use semid::SemanticIdModel;
use speculative::{ItemSpace, Request, SpecGr, SpecGrConfig, StepStats};

use burn::tensor::backend::Backend;

use crate::cmd::backend::DeviceKind;
use crate::cmd::{DatasetArgs, progress_bar};

/// A method `specgr eval` can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvalMethod {
    /// TIGER: beam search over the IDs `--tiger-beams` allows.
    Tiger,
    /// TIGER_C: TIGER's list with up to ε·K unseen items whose code prefix it generated.
    TigerC,
    /// SemanticKNN alone: nearest items to the mean of the last five history embeddings.
    SemanticKnn,
    /// SpecGR with the SemanticKNN drafter and TIGER verifying.
    SpecgrKnn,
    /// SpecGR++: the SpecGR++ model's encoder drafts (`specgr train specgr++`), its TIGER verifies.
    SpecgrPp,
    /// UniSRec alone (`specgr train unisrec`; checkpoint in `<runs>/<dataset>/unisrec/`).
    Unisrec,
    /// SpecGR_Aux: SpecGR with the UniSRec drafter and TIGER verifying.
    SpecgrUnisrec,
    /// TIGER by batch scoring: every allowed item scored, `--score-chunk` per pass (subset ranking's "BS").
    TigerBs,
    /// Score-based ensemble (Table A5): `w`·TIGER score + (1 − `w`)·UniSRec similarity, `w` = `--ensemble-weight`.
    EnsembleScore,
    /// Rank-based ensemble (Table A5): mean position in TIGER's and UniSRec's lists.
    EnsembleRank,
    /// 2-stage ensemble (Table A5): UniSRec's top K re-ranked by TIGER.
    #[value(name = "ensemble-2stage")]
    #[serde(rename = "ensemble-2stage")]
    Ensemble2Stage,
}

impl EvalMethod {
    /// Whether the method uses the UniSRec drafter.
    fn uses_unisrec(self) -> bool {
        matches!(
            self,
            Self::Unisrec
                | Self::SpecgrUnisrec
                | Self::EnsembleScore
                | Self::EnsembleRank
                | Self::Ensemble2Stage
        )
    }
}

/// `specgr eval` arguments.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Which dataset.
    #[command(flatten)]
    pub dataset: DatasetArgs,
    /// Methods to evaluate.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "tiger,semantic-knn,specgr-knn"
    )]
    pub methods: Vec<EvalMethod>,
    /// Which semantic IDs the TIGER model was trained on.
    #[arg(long, default_value = "rqvae")]
    pub ids: crate::cmd::IdsName,
    /// The TIGER model's preset (its run directory is `tiger-<ids>-<preset>`).
    #[arg(long, default_value = "small")]
    pub preset: TigerPreset,
    /// Evaluate on `valid` or `test`.
    #[arg(long, default_value = "test")]
    pub part: String,
    /// Use only the first N examples of the part.
    #[arg(long, value_parser = crate::cmd::args::positive)]
    pub limit: Option<usize>,
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
    /// Acceptance threshold γ.
    #[arg(long, default_value_t = -1.4, allow_hyphen_values = true, value_parser = crate::cmd::args::finite_f32)]
    pub threshold: f32,
    /// A SpecGR method's own γ, overriding `--threshold` for it: `specgr-knn=-2.5`
    /// (repeat the flag or separate pairs with commas), e.g. each tuned on valid.
    #[arg(long, value_delimiter = ',', value_parser = parse_method_threshold, allow_hyphen_values = true)]
    pub method_threshold: Vec<(EvalMethod, f32)>,
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
    /// TIGER_C: the largest share ε of the list given to unseen items.
    #[arg(long, default_value_t = 0.1, value_parser = crate::cmd::args::unit_f64, allow_hyphen_values = true)]
    pub epsilon: f64,
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
    /// SpecGR components to switch off (the paper's Table 3): `inductive-drafting`
    /// (δ = 0), `likelihood-adjustment`, `guided-redrafting`, `rerank`, `adaptive-exit`.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub without: Vec<Component>,
    /// Queries per batch.
    #[arg(long, default_value_t = 32, value_parser = crate::cmd::args::positive)]
    pub batch_size: usize,
    /// Run the methods this many times, interleaved (all methods once, then again),
    /// and report the median time: latency compared side by side in one run.
    #[arg(long, default_value_t = 1, value_parser = crate::cmd::args::positive)]
    pub repeat: usize,
    /// Evaluate a uniform random sample of N examples of the part (drawn with `--seed`,
    /// kept in time order); applied after `--limit`.
    #[arg(long, value_parser = crate::cmd::args::positive)]
    pub sample: Option<usize>,
    /// The seed of `--sample`.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Also write results.md / results.csv / results.json with provenance into this directory.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Where to compute: `cpu`, or `wgpu` / `cuda` / `tch` / `tch-cuda` in builds with that feature.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceKind,
    /// The run directory.
    #[arg(long, default_value = "runs")]
    pub runs: PathBuf,
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
fn parse_method_threshold(s: &str) -> Result<(EvalMethod, f32), String> {
    use clap::ValueEnum;
    let (m, g) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: expected METHOD=γ, e.g. specgr-knn=-2.5"))?;
    let method = EvalMethod::from_str(m.trim(), true).map_err(|_| {
        let names: Vec<_> = EvalMethod::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value())
            .map(|p| p.get_name().to_owned())
            .collect();
        format!(
            "`{m}` is not a method (expected one of {})",
            names.join(", ")
        )
    })?;
    if !matches!(
        method,
        EvalMethod::SpecgrKnn | EvalMethod::SpecgrUnisrec | EvalMethod::SpecgrPp
    ) {
        return Err(format!(
            "`{m}` has no threshold: only specgr-knn, specgr-unisrec and specgr-pp do"
        ));
    }
    let gamma = crate::cmd::args::finite_f32(g).map_err(|e| format!("`{g}` (in `{s}`): {e}"))?;
    Ok((method, gamma))
}

impl EvalArgs {
    /// The γ a method runs with: its `--method-threshold` if given, else `--threshold`.
    pub fn threshold_of(&self, method: EvalMethod) -> f32 {
        self.method_threshold
            .iter()
            .rev()
            .find(|(m, _)| *m == method)
            .map_or(self.threshold, |&(_, g)| g)
    }
}

/// The SpecGR settings of `args` for `method`; SpecGR++'s V2 unseen prefix is 3 digits.
fn spec_config(args: &EvalArgs, method: EvalMethod) -> SpecGrConfig {
    let own_drafter = method == EvalMethod::SpecgrPp;
    let mut c = SpecGrConfig::new(
        args.k,
        args.draft_size,
        args.beam_size,
        args.threshold_of(method),
    );
    let min_shared = if own_drafter { 3 } else { 2 };
    if args.reference == Reference::V2 {
        c = c.with_v2_choices(min_shared);
    }
    match args.unseen_digits {
        Some(UnseenScoring::DropIdentification) => c.unseen_digits = speculative::UnseenDigits::DropIdentification,
        Some(UnseenScoring::SharedPrefix) => c.unseen_digits = speculative::UnseenDigits::SharedPrefix { min: min_shared },
        None => {}
    }
    for component in &args.without {
        match component {
            Component::InductiveDrafting => c.draft_size = 0,
            Component::LikelihoodAdjustment => c.likelihood_adjustment = false,
            Component::GuidedRedrafting => c.guided_redrafting = false,
            Component::Rerank => c.rerank = false,
            Component::AdaptiveExit => c.adaptive_exit = false,
        }
    }
    c
}

/// `γ` as the report states it: the global value and any per-method ones.
fn gammas_text(args: &EvalArgs) -> String {
    let mut t = args.threshold.to_string();
    for (m, g) in &args.method_threshold {
        t += &format!(", {m:?} {g}");
    }
    t
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

/// One method's results.
#[derive(Debug, serde::Serialize)]
struct MethodResult {
    method: EvalMethod,
    metrics: SubsetMetrics,
    /// The median over the repetitions.
    seconds: f64,
    /// Every repetition's time, sorted.
    seconds_all: Vec<f64>,
    unseen_share_of_output: f64,
    /// The SpecGR loop's counters (first repetition), for SpecGR methods.
    stats: Option<StepStats>,
}

/// One line per round (drafted, accepted, acceptance rate, exits) and the time split,
/// for the report's notes and the terminal.
fn describe_stats(method: EvalMethod, s: &StepStats, seconds: f64) -> String {
    let rounds: Vec<String> = s
        .rounds
        .iter()
        .enumerate()
        .map(|(r, x)| {
            format!(
                "r{r}: {} drafted, {} accepted ({:.1}%), {} exited",
                x.drafted,
                x.accepted,
                100.0 * x.acceptance_rate(),
                x.exited
            )
        })
        .collect();
    let ms = |d: std::time::Duration| 1e3 * d.as_secs_f64() / s.queries.max(1) as f64;
    format!(
        "{method:?}: {}; per query: encode {:.2} ms, draft {:.2} ms, verify {:.2} ms, beam {:.2} ms of {:.2} ms total; {} beam steps, {} scoring passes; from rejected {}, from beams {}",
        rounds.join("; "),
        ms(s.encode_time),
        ms(s.draft_time),
        ms(s.verify_time),
        ms(s.beam_time),
        1e3 * seconds / s.queries.max(1) as f64,
        s.beam_steps,
        s.verify_passes,
        s.from_rejected,
        s.from_beams
    )
}

/// Runs `specgr eval`.
pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    crate::with_backend!(args.device, |B, device| run_on::<B>(args, &device))
}

fn run_on<B: Backend>(args: EvalArgs, device: &B::Device) -> anyhow::Result<()> {
    if let Some(n) = args.subset_size {
        anyhow::ensure!(
            n > args.k,
            "--subset-size {n} is not larger than --k {}: every list would hold the whole subset, target included, so every metric would read 1",
            args.k
        );
    }
    // Taken first, so that a report directory another run is writing fails at once.
    let _lock = args.report.as_deref().map(crate::cmd::lock_run_dir).transpose()?;
    let resolved = args.dataset.load()?;
    // Leave-one-out results are reported at K = 5 and 10 (TIGER's protocol). Only
    // cut-offs within the list length are computed: a list of K items says nothing
    // about Recall@50 when K < 50 (it would only repeat Recall@K).
    let ks = cutoffs(&resolved.split, args.k)?;
    let ks = ks.as_slice();
    let split = resolved.dataset.split(&resolved.split)?;
    let run_dir = args.runs.join(&resolved.dataset.name);
    let device = device.clone();
    let mut examples = match args.part.as_str() {
        "test" => split.test.clone(),
        "valid" => split.valid.clone(),
        other => anyhow::bail!("--part must be `valid` or `test`, not `{other}`"),
    };
    if let Some(n) = args.limit {
        examples.truncate(n);
    }
    if let Some(n) = args.sample {
        examples = crate::cmd::sample_in_order(examples, n, args.seed);
    }
    anyhow::ensure!(!examples.is_empty(), "the `{}` part of {} has no examples to evaluate", args.part, resolved.dataset.name);
    let semid_dir = run_dir.join("semid").join(args.ids.name());
    let data = crate::cmd::identity::DatasetIdentity::new(&resolved.dataset, &args.dataset);
    let ids_sha256 = crate::cmd::identity::check_semid(&semid_dir, &data, &args.ids.fit_args())?;
    let semid = SemanticIdModel::<B>::load(&semid_dir, &device)
        .with_context(|| format!("reading {}", semid_dir.display()))?;
    let ids = semid.ids();
    let in_sample: ItemSet = split.in_sample_items().into_iter().collect();
    let space = ItemSpace::new(ids, &in_sample);
    let tiger_dir = run_dir
        .join(format!("tiger-{}-{}", args.ids.name(), args.preset.name()))
        .join("best");
    let needs_tiger = args.methods.iter().any(|m| {
        !matches!(
            m,
            EvalMethod::SemanticKnn | EvalMethod::SpecgrPp | EvalMethod::Unisrec
        )
    });
    let model = if needs_tiger {
        crate::cmd::identity::check_model(&tiger_dir, &data, &args.ids.name(), &ids_sha256, &args.preset.name())?;
        Some(
            Tiger::<B>::load(&tiger_dir, &device)
                .with_context(|| format!("loading {}", tiger_dir.display()))?,
        )
    } else {
        None
    };
    let embeddings = crate::cmd::identity::load_embeddings(&run_dir, &data)?;
    let items: Vec<ItemId> = resolved.dataset.catalog.ids().collect();
    let knn = SemanticKnn::new(
        SemanticKnnConfig::new(embeddings.dim()),
        &items,
        embeddings.as_slice(),
    )?;
    let unisrec = match args.methods.iter().any(|m| m.uses_unisrec()) {
        true => {
            let dir = run_dir.join("unisrec");
            if dir.exists() {
                let emb_path = run_dir.join("embeddings").join(text_encoder::EMBEDDINGS_FILE);
                crate::cmd::identity::check_unisrec(&dir, &data, &emb_path)?;
            }
            let knn_config = drafters::KnnConfig::new(0);
            Some(
                drafters::UniSRec::<B>::load(
                    &dir,
                    knn_config,
                    &device,
                    &items,
                    embeddings.as_slice(),
                )
                .with_context(|| {
                    format!(
                        "loading {} (run `specgr train unisrec` first)",
                        dir.display()
                    )
                })?,
            )
        }
        false => None,
    };
    let subsets: Option<Vec<ItemSet>> = args
        .subset_size
        .map(|n| draw_subsets(&examples, items.len(), n, args.seed));
    let requests: Vec<Request<'_>> = examples
        .iter()
        .enumerate()
        .map(|(i, e)| match &subsets {
            Some(s) => Request::new(&e.history).within(&s[i]),
            None => Request::new(&e.history),
        })
        .collect();
    let specgr_pp = match args.methods.contains(&EvalMethod::SpecgrPp) {
        true => Some(crate::cmd::specgr_pp::SpecGrPpEval::<B>::load(
            &run_dir,
            args.ids,
            args.preset,
            ids,
            &device,
        )?),
        false => None,
    };

    let repeat = args.repeat.max(1);
    let mut runs: Vec<Option<(Vec<Vec<ItemId>>, Option<StepStats>)>> =
        vec![None; args.methods.len()];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); args.methods.len()];
    for rep in 0..repeat {
        for (m_index, &method) in args.methods.iter().enumerate() {
            let label = if repeat > 1 {
                format!("{method:?} ({}/{repeat})", rep + 1)
            } else {
                format!("{method:?}")
            };
            let bar = progress_bar(examples.len() as u64, &label);
            let start = Instant::now();
            let mut stats = None;
            let lists: Vec<Vec<ItemId>> = match method {
                EvalMethod::SemanticKnn | EvalMethod::Unisrec => {
                    let drafter: &dyn Drafter = match method {
                        EvalMethod::Unisrec => unisrec.as_ref().expect("loaded above"),
                        _ => &knn,
                    };
                    let mut lists = Vec::with_capacity(examples.len());
                    for chunk in requests.chunks(args.batch_size.max(1)) {
                        let queries: Vec<Query<'_>> =
                            chunk.iter().map(|r| Query::new(r.history)).collect();
                        let filters: Vec<DraftFilter<'_>> = chunk
                            .iter()
                            .map(|r| match r.allowed {
                                Some(a) => DraftFilter::all().allowed(a),
                                None => DraftFilter::all(),
                            })
                            .collect();
                        for found in drafter.draft(&queries, &filters, args.k)? {
                            lists.push(found.into_iter().map(|n| n.item).collect());
                        }
                        bar.set_position(lists.len() as u64);
                    }
                    lists
                }
                EvalMethod::Tiger | EvalMethod::TigerC => {
                    let model = model.as_ref().expect("loaded above");
                    let in_sample_trie;
                    let constraint = match args.tiger_beams {
                        TigerBeams::All => Constraint::Trie(space.trie()),
                        TigerBeams::InSample => {
                            in_sample_trie = space.subset_trie(&in_sample);
                            Constraint::Trie(&in_sample_trie)
                        }
                        TigerBeams::Free => Constraint::None,
                    };
                    let finish = |list: Vec<speculative::Recommendation>, allowed| {
                        let list = match method {
                            EvalMethod::TigerC => speculative::baselines::tiger_c(
                                &list, &space, args.k, args.epsilon, allowed,
                            ),
                            _ => list,
                        };
                        list.into_iter().map(|r| r.item).collect::<Vec<ItemId>>()
                    };
                    let mut lists = Vec::with_capacity(examples.len());
                    if subsets.is_some() {
                        // Constrained beam search over each query's own subset (CBS):
                        // one query at a time, its trie built per query.
                        for request in &requests {
                            let allowed = request.allowed.expect("every request has a subset");
                            let trie = space.subset_trie(allowed);
                            let verifier = TigerVerifier::new(
                                model,
                                ids,
                                Constraint::Trie(&trie),
                                device.clone(),
                            );
                            for list in speculative::baselines::tiger(
                                &verifier,
                                &space,
                                std::slice::from_ref(request),
                                args.k,
                                args.beam_size,
                            )? {
                                lists.push(finish(list, Some(allowed)));
                            }
                            bar.set_position(lists.len() as u64);
                        }
                    } else {
                        let verifier = TigerVerifier::new(model, ids, constraint, device.clone());
                        for chunk in requests.chunks(args.batch_size.max(1)) {
                            for list in speculative::baselines::tiger(
                                &verifier,
                                &space,
                                chunk,
                                args.k,
                                args.beam_size,
                            )? {
                                lists.push(finish(list, None));
                            }
                            bar.set_position(lists.len() as u64);
                        }
                    }
                    lists
                }
                EvalMethod::TigerBs => {
                    let model = model.as_ref().expect("loaded above");
                    let verifier =
                        TigerVerifier::new(model, ids, Constraint::Trie(space.trie()), device.clone());
                    let adjust = !args.without.contains(&Component::LikelihoodAdjustment);
                    let mut lists = Vec::with_capacity(examples.len());
                    for chunk in requests.chunks(args.batch_size.max(1)) {
                        for list in speculative::baselines::batch_scoring(
                            &verifier,
                            &space,
                            chunk,
                            args.k,
                            args.score_chunk,
                            adjust,
                        )? {
                            lists.push(list.into_iter().map(|r| r.item).collect());
                        }
                        bar.set_position(lists.len() as u64);
                    }
                    lists
                }
                EvalMethod::EnsembleScore | EvalMethod::EnsembleRank | EvalMethod::Ensemble2Stage => {
                    let model = model.as_ref().expect("loaded above");
                    let drafter: &dyn Drafter = unisrec.as_ref().expect("loaded above");
                    let verifier =
                        TigerVerifier::new(model, ids, Constraint::Trie(space.trie()), device.clone());
                    let config = speculative::baselines::EnsembleConfig {
                        kind: match method {
                            EvalMethod::EnsembleScore => speculative::baselines::Ensemble::Score {
                                weight: args.ensemble_weight,
                            },
                            EvalMethod::EnsembleRank => speculative::baselines::Ensemble::Rank,
                            _ => speculative::baselines::Ensemble::TwoStage,
                        },
                        k: args.k,
                        beam_size: args.beam_size,
                        pool: args.draft_size.max(args.k),
                        likelihood_adjustment: !args
                            .without
                            .contains(&Component::LikelihoodAdjustment),
                    };
                    let mut lists = Vec::with_capacity(examples.len());
                    for chunk in requests.chunks(args.batch_size.max(1)) {
                        for list in speculative::baselines::ensemble(
                            &verifier, drafter, &space, chunk, &config,
                        )? {
                            lists.push(list.into_iter().map(|r| r.item).collect());
                        }
                        bar.set_position(lists.len() as u64);
                    }
                    lists
                }
                EvalMethod::SpecgrKnn | EvalMethod::SpecgrUnisrec => {
                    let model = model.as_ref().expect("loaded above");
                    let drafter: &dyn Drafter = match method {
                        EvalMethod::SpecgrUnisrec => unisrec.as_ref().expect("loaded above"),
                        _ => &knn,
                    };
                    let engine =
                        SpecGr::new(spec_config(&args, method), ItemSpace::new(ids, &in_sample))?;
                    let verifier = TigerVerifier::new(
                        model,
                        ids,
                        Constraint::Trie(engine.space().trie()),
                        device.clone(),
                    );
                    let out = engine.recommend_batched(
                        &verifier,
                        drafter,
                        &requests,
                        args.batch_size,
                        &mut |n| bar.set_position(n as u64),
                    )?;
                    stats = Some(out.stats);
                    out.lists
                        .into_iter()
                        .map(|l| l.into_iter().map(|r| r.item).collect())
                        .collect()
                }
                EvalMethod::SpecgrPp => {
                    let pp = specgr_pp.as_ref().expect("loaded above");
                    let engine =
                        SpecGr::new(spec_config(&args, method), ItemSpace::new(ids, &in_sample))?;
                    let out = pp.recommend(&engine, ids, &requests, args.batch_size, &mut |n| {
                        bar.set_position(n as u64)
                    })?;
                    stats = Some(out.stats);
                    out.lists
                        .into_iter()
                        .map(|l| l.into_iter().map(|r| r.item).collect())
                        .collect()
                }
            };
            bar.finish_and_clear();
            times[m_index].push(start.elapsed().as_secs_f64());
            if rep == 0 {
                runs[m_index] = Some((lists, stats));
            }
        }
    }
    let mut results = Vec::new();
    for ((&method, run), mut seconds_all) in args.methods.iter().zip(runs).zip(times) {
        let (lists, stats) = run.expect("every method ran");
        seconds_all.sort_by(f64::total_cmp);
        let total: usize = lists.iter().map(Vec::len).sum();
        let unseen: usize = lists
            .iter()
            .flatten()
            .filter(|&&i| !split.is_in_sample(i))
            .count();
        results.push(MethodResult {
            method,
            metrics: SubsetMetrics::evaluate(&examples, &lists, &split, ks),
            seconds: seconds_all[seconds_all.len() / 2],
            seconds_all,
            unseen_share_of_output: unseen as f64 / total.max(1) as f64,
            stats,
        });
    }
    if let Some(dir) = &args.report {
        let per_query = |r: &MethodResult| r.seconds / examples.len().max(1) as f64;
        let report = crate::report::Report {
            title: format!("{} examples of `{}`", examples.len(), args.part),
            dataset: resolved.dataset.name.clone(),
            rows: results
                .iter()
                .flat_map(|r| {
                    crate::report::ResultRow::from_metrics(&format!("{:?}", r.method), &r.metrics, per_query(r), r.unseen_share_of_output)
                })
                .collect(),
            notes: vec![format!(
                "K = {}, δ = {}, β = {}, γ = {}, ε = {}, batch {}; TIGER `{}` on {} IDs, baseline beams: {:?}; SpecGR as {:?}{}, without {:?}{}",
                args.k,
                args.draft_size,
                args.beam_size,
                gammas_text(&args),
                args.epsilon,
                args.batch_size,
                args.preset.name(),
                args.ids,
                args.tiger_beams,
                args.reference,
                match args.unseen_digits {
                    Some(u) => format!(" (unseen items scored by {u:?})"),
                    None => String::new(),
                },
                args.without,
                match args.subset_size {
                    Some(n) => format!("; subset ranking: {n} items per example (target included, seed {}), TIGER constrained per query", args.seed),
                    None => String::new(),
                }
            )]
            .into_iter()
            .chain((repeat > 1).then(|| format!("times: median of {repeat} interleaved repetitions")))
            .chain(results.iter().filter_map(|r| r.stats.as_ref().map(|s| describe_stats(r.method, s, r.seconds))))
            .collect(),
            provenance: crate::report::Provenance::current(
                args.seed,
                serde_json::json!({
                    "dataset": resolved.dataset.name, "part": args.part, "limit": args.limit, "sample": args.sample,
                    "k": args.k, "draft_size": args.draft_size, "beam_size": args.beam_size,
                    "threshold": args.threshold, "batch_size": args.batch_size, "repeat": repeat,
                    "method_threshold": args.method_threshold.iter().map(|(m, g)| format!("{m:?}={g}")).collect::<Vec<_>>(),
                    "epsilon": args.epsilon, "tiger_beams": format!("{:?}", args.tiger_beams),
                    "reference": format!("{:?}", args.reference),
                    "unseen_digits": args.unseen_digits.map(|u| format!("{u:?}")),
                    "without": args.without.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>(),
                    "ids": args.ids.name(), "preset": args.preset.name(),
                    "subset_size": args.subset_size, "score_chunk": args.score_chunk,
                    "ensemble_weight": args.ensemble_weight,
                    "methods": args.methods.iter().map(|m| format!("{m:?}")).collect::<Vec<_>>(),
                }),
            ),
        };
        report.write(dir)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
        return Ok(());
    }
    println!(
        "{} {} examples of `{}` (K = {}, δ = {}, β = {}, γ = {})",
        examples.len(),
        args.part,
        resolved.dataset.name,
        args.k,
        args.draft_size,
        args.beam_size,
        gammas_text(&args)
    );
    println!(
        "{:<14} {:<10} {:>8} {:>8} {:>8} {:>8} {:>9} {:>8}",
        "method", "subset", "R@10", "N@10", "R@50", "N@50", "unseen%", "s/query"
    );
    for r in &results {
        for s in Subset::ALL {
            // A cut-off beyond K was not computed: shown as `–`, not as a number.
            let m = |k| match r.metrics.get(s, k) {
                Some(m) => (format!("{:.4}", m.recall), format!("{:.4}", m.ndcg)),
                None => ("–".to_owned(), "–".to_owned()),
            };
            let ((r10, n10), (r50, n50)) = (m(10), m(50));
            println!(
                "{:<14} {:<10} {r10:>8} {n10:>8} {r50:>8} {n50:>8} {:>8.1}% {:>8.4}",
                format!("{:?}", r.method),
                s.name(),
                100.0 * r.unseen_share_of_output,
                r.seconds / examples.len().max(1) as f64
            );
        }
    }
    for r in &results {
        if let Some(s) = &r.stats {
            println!("{}", describe_stats(r.method, s, r.seconds));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::cutoffs;
    use recdata::SplitConfig;

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
