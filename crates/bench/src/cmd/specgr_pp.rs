//! `specgr train specgr++`: SpecGR++'s two training stages, and where `specgr eval`
//! finds their result.
//!
//! Run directory `<runs>/<dataset>/specgr-pp-<ids>-<preset>/`: `stage1/` (contrastive
//! pre-training) and `stage2/` (learning-to-rank fine-tuning), each with `best/` and
//! a resumable `last/`. The model to use is `stage2/best` (or `stage1/best` when
//! stage 2 was skipped); its `item_embeddings.*` are the vectors the drafter searches.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::tensor::backend::Backend;
use gr_model::{
    ProjectionConfig, SpecGrPp, SpecGrPpData, SpecGrPpEvent, SpecGrPpInit, SpecGrPpState,
    SpecGrPpTrainConfig, TigerConfig, TigerPreset,
};
use gr_model::train_loop::TimeBudget;
use semid::SemanticIdModel;

use crate::cmd::backend::DeviceKind;
use crate::cmd::{CpuBackend, DatasetArgs};

/// `specgr train specgr++` arguments.
#[derive(Debug, clap::Args)]
pub struct SpecGrPpArgs {
    /// Which dataset.
    #[command(flatten)]
    pub dataset: DatasetArgs,
    /// Model size: `tiny`, `small`, `games`, `paper` (4+4 layers, d_model 128, 6 heads of
    /// 64, d_ff 1024), `office`, `phones`; `--init`'s TIGER must have this size.
    #[arg(long, default_value = "small")]
    pub preset: TigerPreset,
    /// Which semantic IDs (from `specgr semid fit --method ...`).
    #[arg(long, default_value = "rqvae")]
    pub ids: crate::cmd::IdsName,
    /// Start stage 1 from this checkpoint, e.g. a trained TIGER
    /// (`runs/<dataset>/tiger-<ids>-<preset>/best`); a fresh head is added.
    #[arg(long)]
    pub init: Option<PathBuf>,
    /// Stage-1 epochs [default: 80, the reference's]; 0 skips stage 1. With both stages at 0 nothing is
    /// trained: `--init`'s TIGER with an identity head (its mean-pooled encoder states
    /// as the embeddings, `--proj-dim` ignored) is written as `stage1/best`, TIGER's own
    /// encoder as the drafter (Table 3 (2.1)).
    #[arg(long)]
    pub stage1_epochs: Option<usize>,
    /// Stage-2 epochs [default: 15, the reference's]; 0 skips stage 2.
    #[arg(long)]
    pub stage2_epochs: Option<usize>,
    /// Stage-1 embedding batch [default: 1024, the reference's].
    #[arg(long, value_parser = crate::cmd::args::positive)]
    pub emb_batch_size: Option<usize>,
    /// Stage-1 generation batch, the first rows of each embedding batch [default: 256, the
    /// reference's].
    #[arg(long, value_parser = crate::cmd::args::positive)]
    pub gen_batch_size: Option<usize>,
    /// Stage-1 learning rate [default: 3e-4, the reference's].
    #[arg(long, value_parser = crate::cmd::args::positive_f64)]
    pub stage1_lr: Option<f64>,
    /// Not in the paper: stage 1 subtracts `ln n` from each in-batch logit, `n` the
    /// item's training targets (the logQ correction of in-batch negatives' sampling
    /// bias; uncorrected, the encoder learns to rank popular items too low).
    #[arg(long)]
    pub stage1_logq_correction: bool,
    /// Stage-2 learning rate [default: 3e-5, the reference's].
    #[arg(long, value_parser = crate::cmd::args::positive_f64)]
    pub stage2_lr: Option<f64>,
    /// Encode each batch in length-sorted micro-batches of at most this many rows, each
    /// padded only to its own longest history; 0: the whole batch at once [default: 128].
    /// The losses and gradients are the whole batch's (up to rounding and dropout
    /// draws); a run resumes with any value.
    #[arg(long)]
    pub micro_batch: Option<usize>,
    /// Also checkpoint within an epoch every this many minutes, so a kill loses at most
    /// that much (0: at epoch ends only); a run resumes with any value [default: 0].
    #[arg(long, value_parser = crate::cmd::args::non_negative_f64)]
    pub checkpoint_minutes: Option<f64>,
    /// Precision of the TIGER's linear maps and attention products while training, both
    /// stages: `f32`, or `bf16` (bfloat16 products with float32 accumulation, as `train
    /// tiger --matmul`; the reference trains SpecGR++ in bf16); validation stays f32 and
    /// a run resumes in either [default: f32].
    #[arg(long)]
    pub matmul: Option<gr_model::MatmulPrecision>,
    /// Gradient clipping and AdamW's epsilon, both stages.
    #[command(flatten)]
    pub optim: crate::cmd::train::OptimArgs,
    /// Stop a stage after this many validations without a better encoder retrieval
    /// Recall@50 [default: 5]; larger than the epochs, it never stops early.
    #[arg(long, value_parser = crate::cmd::args::positive)]
    pub patience: Option<usize>,
    /// Embedding width (reference V2: 128).
    #[arg(long, default_value_t = 128, value_parser = crate::cmd::args::positive)]
    pub proj_dim: usize,
    /// Which training and validation examples: the first N, or a seeded sample.
    #[command(flatten)]
    pub examples: crate::cmd::train::ExampleArgs,
    /// The wall-time budget, of both stages together.
    #[command(flatten)]
    pub budget: crate::cmd::BudgetArgs,
    /// The seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Where to compute: `cpu`, or `wgpu` / `cuda` / `tch` / `tch-cuda` in builds with that feature.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceKind,
    /// The run directory: reads `<runs>/<dataset>/semid/<ids>/`, writes
    /// `<runs>/<dataset>/specgr-pp-<ids>-<preset>/`.
    #[arg(long, default_value = "runs")]
    pub runs: PathBuf,
}

/// Marks a `stage1/best` written with both stages at 0 epochs (nothing trained).
const UNTRAINED_MARKER: &str = "untrained.json";

/// The run directory of a SpecGR++ model.
pub fn run_dir(dataset_dir: &recdata::RunDir, ids: crate::cmd::IdsName, preset: TigerPreset) -> PathBuf {
    dataset_dir.specgr_pp(&ids.name(), preset.name())
}

/// The checkpoint `specgr eval` uses: `stage2/best`, else `stage1/best`.
pub fn best_checkpoint(dataset_dir: &recdata::RunDir, ids: crate::cmd::IdsName, preset: TigerPreset) -> PathBuf {
    let dir = run_dir(dataset_dir, ids, preset);
    let stage2 = dir.join("stage2").join("best");
    if SpecGrPp::<CpuBackend>::has_head(&stage2) { stage2 } else { dir.join("stage1").join("best") }
}

/// Runs `specgr train specgr++`.
pub fn run(args: SpecGrPpArgs) -> anyhow::Result<()> {
    crate::with_backend!(args.device, |B, device| run_on::<B>(&args, &device))
}

fn run_on<B: Backend>(args: &SpecGrPpArgs, device: &B::Device) -> anyhow::Result<()> {
    let resolved = args.dataset.load()?;
    let split = resolved.dataset.split(&resolved.split)?;
    let dataset_dir = recdata::RunDir::new(&args.runs, &resolved.dataset.name);
    let semid_dir = dataset_dir.semid(&args.ids.name());
    let fit_hint = || format!("reading {} (run `specgr semid fit {}` first)", semid_dir.display(), args.ids.fit_args());
    let data_identity = crate::cmd::identity::DatasetIdentity::new(&resolved.dataset, &args.dataset);
    let ids_sha256 = crate::cmd::identity::check_semid(&semid_dir, &data_identity, &args.ids.fit_args())?;
    if let Some(init) = &args.init {
        // SpecGR++ starts from this TIGER: it must have been trained on these IDs.
        crate::cmd::identity::check_model(init, &data_identity, &args.ids.name(), &ids_sha256, &args.preset.name())
            .with_context(|| format!("--init {}", init.display()))?;
    }
    let semid = SemanticIdModel::<B>::load(&semid_dir, device).with_context(fit_hint)?;
    let ids = semid.ids();
    let model_config = TigerConfig::preset(args.preset, ids.layout().vocab_size())
        .with_max_history(resolved.split.max_history());
    let head = ProjectionConfig::new(model_config.d_model).with_proj_dim(args.proj_dim);
    let (train, valid) = args.examples.pick(&split, args.seed);
    let in_sample: Vec<u32> = split.in_sample_items().iter().map(|i| i.0).collect();
    let data = SpecGrPpData { ids, train: &train, valid: &valid, in_sample: &in_sample };
    let out = run_dir(&dataset_dir, args.ids, args.preset);

    let mut stage1 = SpecGrPpTrainConfig::stage1().with_seed(args.seed);
    if let Some(e) = args.stage1_epochs {
        stage1 = stage1.with_max_epochs(e);
    }
    if let Some(b) = args.emb_batch_size {
        stage1 = stage1.with_emb_batch_size(b);
    }
    if let Some(b) = args.gen_batch_size {
        stage1 = stage1.with_gen_batch_size(b);
    }
    if let Some(lr) = args.stage1_lr {
        stage1 = stage1.with_lr(lr);
    }
    stage1 = stage1.with_logq_correction(args.stage1_logq_correction);
    let mut stage2 = SpecGrPpTrainConfig::stage2().with_seed(args.seed);
    if let Some(e) = args.stage2_epochs {
        stage2 = stage2.with_max_epochs(e);
    }
    if let Some(lr) = args.stage2_lr {
        stage2 = stage2.with_lr(lr);
    }
    if let Some(m) = args.matmul {
        crate::cmd::backend::check_matmul(args.device, m)?;
    }
    for stage in [&mut stage1, &mut stage2] {
        if let Some(m) = args.micro_batch {
            stage.micro_batch = m;
        }
        if let Some(m) = args.checkpoint_minutes {
            stage.checkpoint_minutes = m;
        }
        if let Some(p) = args.patience {
            stage.patience = p;
        }
        if let Some(c) = args.optim.grad_clip {
            stage.grad_clip = c;
        }
        if let Some(e) = args.optim.adam_epsilon {
            stage.adam_epsilon = e as f32;
        }
        if let Some(m) = args.matmul {
            stage.matmul = m;
        }
    }
    let stage1_dir = out.join("stage1");
    // Each stage's `best/` carries what it was trained on, as TIGER's does (`eval`
    // checks it); a run directory holding a model of other inputs is refused.
    let claim = |best: &Path| {
        crate::cmd::identity::claim_best(&out, best, &data_identity, &args.ids.name(), &ids_sha256, &args.preset.name())
    };
    if stage1.max_epochs == 0 && stage2.max_epochs == 0 {
        let from = args.init.as_deref().context("with both stages at 0 epochs, --init names the TIGER to use")?;
        // Never overwrite a trained model (a run leaves `last/` checkpoints behind).
        for trained in [stage1_dir.join("last"), out.join("stage2")] {
            anyhow::ensure!(
                !trained.exists(),
                "{} holds a trained SpecGR++; write the untrained one to another --runs directory",
                trained.display()
            );
        }
        let tiger = gr_model::Tiger::<B>::load(from, device)
            .with_context(|| format!("loading {} (a TIGER checkpoint)", from.display()))?;
        tiger.check_ids(ids)?;
        let d = tiger.config.d_model;
        let model = SpecGrPp { tiger, head: ProjectionConfig::new(d).with_proj_dim(d).init_identity(device)? };
        let items = model.embed_all_items(ids, stage1.eval_batch_size, device)?;
        let best = stage1_dir.join("best");
        claim(&best)?;
        model.save(&best)?;
        items.save(&best)?;
        recdata::fsio::write_atomic(&best.join(UNTRAINED_MARKER), b"{\"trained\": false}\n")?;
        println!(
            "no training: TIGER {} with an identity head ({d}-d mean-pooled encoder states) in {}",
            from.display(),
            best.display()
        );
        return Ok(());
    }
    let budget = args.budget.start();
    if stage1.max_epochs > 0 {
        let init = SpecGrPpInit { model: &model_config, head: &head, from: args.init.as_deref() };
        claim(&stage1_dir.join("best"))?;
        let state = train_stage::<B>("stage 1", init, &stage1, data, &stage1_dir, &budget, device)?;
        if stopped(&state) {
            return Ok(out_of_time(args, "stage 1", &state, &stage1_dir));
        }
        report("stage 1", &state, &stage1_dir);
    }
    if stage2.max_epochs > 0 {
        let from = stage1_dir.join("best");
        // An untrained export's identity head is no stage-1 result to fine-tune.
        anyhow::ensure!(
            !from.join(UNTRAINED_MARKER).exists(),
            "{} is the untrained TIGER-encoder export (both stages at 0 epochs), not a stage-1 model; \
             train stage 2 in another --runs directory",
            from.display()
        );
        let from = if SpecGrPp::<B>::has_head(&from) {
            from
        } else {
            args.init.clone().context("stage 2 needs stage 1's best checkpoint or --init")?
        };
        let init = SpecGrPpInit { model: &model_config, head: &head, from: Some(&from) };
        let dir = out.join("stage2");
        claim(&dir.join("best"))?;
        let state = train_stage::<B>("stage 2", init, &stage2, data, &dir, &budget, device)?;
        if stopped(&state) {
            return Ok(out_of_time(args, "stage 2", &state, &dir));
        }
        report("stage 2", &state, &dir);
    }
    Ok(())
}

fn train_stage<B: Backend>(
    name: &str,
    init: SpecGrPpInit<'_>,
    config: &SpecGrPpTrainConfig,
    data: SpecGrPpData<'_>,
    dir: &Path,
    budget: &TimeBudget,
    device: &B::Device,
) -> anyhow::Result<SpecGrPpState> {
    let progress = crate::cmd::training_progress::TrainingProgress::new(name, 20);
    let mut on_event = |e: &SpecGrPpEvent| {
        progress.specgr_pp(e);
        if matches!(e, SpecGrPpEvent::Step { .. }) && budget.spent() {
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    };
    let state = gr_model::train_specgr_pp::<burn::backend::Autodiff<B>>(init, config, data, dir, device, &mut on_event)?;
    progress.finish();
    Ok(state)
}

/// Whether a stage ended before its last epoch without early stopping: stopped by
/// `--max-minutes`, resumable.
fn stopped(state: &SpecGrPpState) -> bool {
    state.epochs_done < state.train.max_epochs && !state.stopped_early
}

/// Says where a run stopped by `--max-minutes` stands.
fn out_of_time(args: &SpecGrPpArgs, name: &str, state: &SpecGrPpState, dir: &Path) {
    let at = format!("{name}, epoch {}, batch {}", state.epochs_done, state.batches_done);
    args.budget.say_stopped(&at, &dir.join("last"));
}

fn report(name: &str, state: &SpecGrPpState, dir: &Path) {
    let speed = state.samples_per_sec.iter().sum::<f64>() / state.samples_per_sec.len().max(1) as f64;
    println!(
        "{name}: {} epochs ({} steps){}, {speed:.1} samples/s; best valid retrieval recall@{}: {}; model in {}",
        state.epochs_done,
        state.steps_done,
        if state.stopped_early { ", stopped early" } else { "" },
        state.train.eval_k,
        state.best.map_or("none".into(), |(r, e)| format!("{r:.4} at epoch {e}")),
        dir.join("best").display()
    );
}

/// A trained SpecGR++ model and the drafter over its item vectors, for `specgr eval`.
pub struct SpecGrPpEval<B: Backend> {
    /// The model (TIGER and the projection head).
    pub model: SpecGrPp<B>,
    /// The KNN drafter over the checkpoint's item vectors (every item, unseen included).
    pub drafter: drafters::EncoderDrafter,
    /// Where the model lives.
    pub device: B::Device,
    /// The checkpoint's item vectors (the drafter's index holds them normalised).
    items: gr_model::ItemEmbeddings,
}

impl<B: Backend> SpecGrPpEval<B> {
    /// Loads the best checkpoint of `<dataset_dir>/specgr-pp-<ids>-<preset>/`.
    /// Loads the best SpecGR++ checkpoint of a run, after checking that it was trained
    /// on this dataset and these semantic IDs (`ids_sha256`) at this preset.
    pub fn load(
        dataset_dir: &recdata::RunDir,
        method: crate::cmd::IdsName,
        preset: TigerPreset,
        (data, ids_sha256): (&crate::cmd::identity::DatasetIdentity<'_>, &str),
        ids: &semid::SemanticIds,
        device: &B::Device,
    ) -> anyhow::Result<Self> {
        let dir = best_checkpoint(dataset_dir, method, preset);
        if dir.exists() {
            crate::cmd::identity::check_model(&dir, data, &method.name(), ids_sha256, &preset.name())?;
        }
        let model = SpecGrPp::<B>::load(&dir, device)
            .with_context(|| format!("loading {} (run `specgr train specgr++` first)", dir.display()))?;
        let items = gr_model::ItemEmbeddings::load(&dir)?;
        anyhow::ensure!(
            items.num_items == ids.len(),
            "{}: item vectors for {} items, but the semantic IDs cover {}",
            dir.display(),
            items.num_items,
            ids.len()
        );
        let all: Vec<recdata::ItemId> = (0..items.num_items as u32).map(recdata::ItemId).collect();
        let drafter = drafters::EncoderDrafter::new(drafters::EncoderDrafterConfig::new(items.dim), &all, &items.rows)?;
        Ok(Self { model, drafter, device: device.clone(), items })
    }

    /// Drafts with `prior` added to the cosine from now on (`specgr eval
    /// --drafter-popularity-prior`; not the paper's drafter). The index is rebuilt from
    /// the checkpoint's item vectors: call it before adding items.
    pub fn set_popularity_prior(&mut self, prior: drafters::PopularityPrior) -> anyhow::Result<()> {
        let all: Vec<recdata::ItemId> = (0..self.items.num_items as u32).map(recdata::ItemId).collect();
        let config = drafters::EncoderDrafterConfig::new(self.items.dim);
        self.drafter = drafters::EncoderDrafter::with_prior(config, prior, &all, &self.items.rows)?;
        Ok(())
    }

    /// Runs SpecGR with the encoder drafter: each batch's query vectors are pooled
    /// from the verifier's own encoder pass (`TigerVerifier::with_query_embedding`).
    pub fn recommend(
        &self,
        engine: &speculative::SpecGr<'_>,
        ids: &semid::SemanticIds,
        requests: &[speculative::Request<'_>],
        batch_size: usize,
        progress: &mut dyn FnMut(usize),
    ) -> anyhow::Result<speculative::Output> {
        let embed = |encoded: &gr_model::EncoderOutput<B>| -> speculative::Result<Vec<Vec<f32>>> {
            Ok(self.model.query_vectors(encoded)?)
        };
        let embed: &gr_model::QueryEmbedding<'_, B> = &embed;
        let verifier = gr_model::TigerVerifier::new(
            &self.model.tiger,
            ids,
            gr_model::Constraint::Trie(engine.space().trie()),
            self.device.clone(),
        )
        .with_query_embedding(embed);
        Ok(engine.recommend_batched(&verifier, &self.drafter, requests, batch_size, progress)?)
    }
}
