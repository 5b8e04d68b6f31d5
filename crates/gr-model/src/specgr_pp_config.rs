//! The hyper-parameters, events and persistent state of SpecGR++ training.

use burn::config::Config;

use crate::projection::ProjectionConfig;
use crate::{GradClip, MatmulPrecision, RankingMetrics, TigerConfig};

/// Which of the two SpecGR++ training stages a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Stage 1: InfoNCE between history and target-item embeddings with in-batch
    /// negatives, plus the generation loss.
    Contrastive,
    /// Stage 2 (learning to rank): item embeddings computed once and frozen; full
    /// softmax over every in-sample item, plus the generation loss.
    Rank,
}

/// Hyper-parameters of one SpecGR++ training stage. The defaults are the reference
/// code's stage-1 values (`../shared/reference/specgr-reference.md`, "Configs");
/// [`SpecGrPpTrainConfig::stage2`] gives its fine-tuning values.
#[derive(Config, Debug, PartialEq)]
pub struct SpecGrPpTrainConfig {
    /// The stage.
    pub stage: Stage,
    /// Peak learning rate (reference: 3e-4 pre-training, 3e-5 fine-tuning).
    #[config(default = 3e-4)]
    pub lr: f64,
    /// AdamW decoupled weight decay (reference: 0.035).
    #[config(default = 0.035)]
    pub weight_decay: f64,
    /// Examples per step for the embedding loss (reference: 1024 pre-training; the
    /// paper's 2048 is gathered over 4 GPUs). An epoch is one pass of this batch
    /// over the training examples.
    #[config(default = 1024)]
    pub emb_batch_size: usize,
    /// The first this many examples of each embedding batch also feed the generation
    /// loss (reference: 256), sharing the embedding batch's encoder pass.
    #[config(default = 256)]
    pub gen_batch_size: usize,
    /// Weight of the embedding loss (reference: 6 pre-training, 20 fine-tuning).
    #[config(default = 6.0)]
    pub lambda_emb: f64,
    /// Weight of the generation loss (reference: 1).
    #[config(default = 1.0)]
    pub lambda_gen: f64,
    /// Softmax temperature of cosine similarities (reference: 0.07).
    #[config(default = 0.07)]
    pub temperature: f64,
    /// Most epochs to run (reference: 80 pre-training, 15 fine-tuning).
    #[config(default = 80)]
    pub max_epochs: usize,
    /// Share of all steps spent warming the learning rate up linearly.
    #[config(default = 0.05)]
    pub warmup_fraction: f64,
    /// Gradient-norm clipping threshold (reference: 1.0; [`grad_clip`](Self::grad_clip)
    /// says of what).
    #[config(default = 1.0)]
    pub grad_clip_norm: f32,
    /// What `grad_clip_norm` bounds: each parameter tensor's gradient on its own (Burn's
    /// `GradientClippingConfig::Norm`, the default), or all of them together (PyTorch's
    /// `clip_grad_norm_`), as [`crate::TrainConfig::grad_clip`].
    #[config(default = "GradClip::PerTensor")]
    pub grad_clip: GradClip,
    /// AdamW's epsilon (Burn's default 1e-5; PyTorch's, the reference's, 1e-8).
    #[config(default = 1e-5)]
    pub adam_epsilon: f32,
    /// Validate every this many epochs (and after the last one).
    #[config(default = 1)]
    pub eval_every: usize,
    /// Stop after this many validations without improvement.
    #[config(default = 5)]
    pub patience: usize,
    /// Cut-off of the checkpointing metric, encoder-retrieval Recall@K (reference: 50).
    #[config(default = 50)]
    pub eval_k: usize,
    /// Histories (and items) embedded per batch during validation.
    #[config(default = 256)]
    pub eval_batch_size: usize,
    /// Encode each training batch in length-sorted micro-batches of at most this many
    /// rows, each padded only to its own longest history (0: the whole batch at once,
    /// padded to its longest). Both losses are means over rows (InfoNCE, the softmax
    /// over in-sample items) or over tokens of equal-length rows (generation), so the
    /// losses and gradients are the whole batch's, up to rounding and dropout draws;
    /// the encoder skips most of the padding of a shuffled batch (two thirds of the
    /// tokens on Beauty). Not part of a run's identity: a run resumes with any value.
    #[config(default = 128)]
    pub micro_batch: usize,
    /// Also checkpoint `last/` within an epoch once this many minutes have passed since
    /// the last checkpoint (0: only at the end of each epoch). A resumed run continues
    /// from that batch with the same numbers. Not part of a run's identity.
    #[config(default = 0.0)]
    pub checkpoint_minutes: f64,
    /// Stage 1 only, not in the paper: subtract `ln n_j` from each in-batch logit of item
    /// `j`, `n_j` the training examples that target it (how often it appears among
    /// the in-batch negatives). Uncorrected, the in-batch loss is minimised by scores
    /// that discount each item's log-frequency, and the encoder's retrieval ranks
    /// popular items too low.
    #[config(default = false)]
    pub logq_correction: bool,
    /// Validate on at most this many validation examples (the first ones; 0: all).
    #[config(default = 0)]
    pub eval_limit: usize,
    /// The precision of the TIGER's linear maps while training ([`MatmulPrecision`]):
    /// float32, or bfloat16 products with float32 accumulation (the reference trains
    /// SpecGR++ in bf16). The projection head, the similarities and the losses stay
    /// float32; validation and stage 2's frozen item vectors are computed in float32.
    /// Not part of a run's identity: a run resumes in either.
    #[config(default = "MatmulPrecision::F32")]
    pub matmul: MatmulPrecision,
    /// Seed for the head's initialisation, shuffling and dropout.
    #[config(default = 42)]
    pub seed: u64,
}

impl SpecGrPpTrainConfig {
    /// The reference code's stage-1 (contrastive pre-training) values.
    pub fn stage1() -> Self {
        Self::new(Stage::Contrastive)
    }

    /// The reference code's stage-2 (learning-to-rank fine-tuning) values: lr 3e-5,
    /// λ_emb 20, batch 256 for both losses, 15 epochs.
    pub fn stage2() -> Self {
        Self::new(Stage::Rank)
            .with_lr(3e-5)
            .with_lambda_emb(20.0)
            .with_emb_batch_size(256)
            .with_gen_batch_size(256)
            .with_max_epochs(15)
    }
}

/// What SpecGR++ training reports to its caller.
#[derive(Debug, Clone, PartialEq)]
pub enum SpecGrPpEvent {
    /// One optimisation step finished.
    Step {
        /// Epoch (from 0).
        epoch: usize,
        /// Step (from 0, over all epochs).
        step: usize,
        /// Steps of the whole run.
        total_steps: usize,
        /// The embedding loss (InfoNCE or full-softmax cross-entropy), unweighted.
        emb_loss: f32,
        /// The generation loss, unweighted (0 when no example fed it).
        gen_loss: f32,
        /// Learning rate used.
        lr: f64,
        /// Examples of embedding batches per second in this epoch so far.
        samples_per_sec: f64,
    },
    /// A validation finished.
    Validation {
        /// Epoch (from 0).
        epoch: usize,
        /// Encoder-retrieval Recall and NDCG at `eval_k` over all items.
        metrics: RankingMetrics,
        /// Whether it is the best so far (and was saved to `best/`).
        improved: bool,
    },
    /// The last checkpoint now holds this epoch.
    Checkpoint {
        /// Epoch (from 0).
        epoch: usize,
    },
    /// A stop was asked for within an epoch: the last checkpoint now holds this epoch
    /// up to `batches` of its batches, and the run resumes from there.
    PartialCheckpoint {
        /// Epoch (from 0).
        epoch: usize,
        /// Batches of the epoch done.
        batches: usize,
    },
}

/// The persistent part of a stage's state, `last/state.json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SpecGrPpState {
    /// Model config of the run.
    pub model: TigerConfig,
    /// Head config of the run.
    pub head: ProjectionConfig,
    /// Training config of the run.
    #[serde(deserialize_with = "train_config_with_defaults")]
    pub train: SpecGrPpTrainConfig,
    /// Epochs completed.
    pub epochs_done: usize,
    /// Batches of epoch `epochs_done` completed (0 at an epoch boundary; a run stopped
    /// within an epoch resumes after them).
    #[serde(default)]
    pub batches_done: usize,
    /// Embedding-loss sum, generation-loss sum and examples of the epoch in progress
    /// (a checkpoint within an epoch).
    #[serde(default)]
    pub epoch_progress: (f64, f64, usize),
    /// The dropout generator's state at a checkpoint within an epoch.
    #[serde(default)]
    pub dropout_state: u64,
    /// Optimisation steps completed.
    pub steps_done: usize,
    /// Best validation recall so far and its epoch.
    pub best: Option<(f64, usize)>,
    /// Validations since the best one.
    pub since_best: usize,
    /// All validations so far.
    pub validations: Vec<(usize, RankingMetrics)>,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
    /// Mean (embedding, generation) loss of each completed epoch.
    pub epoch_losses: Vec<(f64, f64)>,
    /// Mean training throughput (embedding-batch examples per second) of each completed epoch.
    pub samples_per_sec: Vec<f64>,
    /// Training examples an epoch (so a validation after epoch `e` follows `(e + 1)`
    /// times as many examples seen). `None` in states written before it was kept; a
    /// resumed run fills it in.
    #[serde(default)]
    pub train_examples: Option<usize>,
}

impl SpecGrPpState {
    /// Training examples seen before the validation after `epoch` (from 0), when the
    /// state knows the epoch's size.
    pub fn samples_at_epoch_end(&self, epoch: usize) -> Option<u64> {
        self.train_examples.map(|n| (n as u64) * (epoch as u64 + 1))
    }
}

impl SpecGrPpTrainConfig {
    /// Whether a run started with `self` may be resumed with `other`: every field but
    /// the ones that change how, not what, it trains (`micro_batch`,
    /// `checkpoint_minutes`, `matmul`) must be equal.
    pub fn same_run(&self, other: &Self) -> bool {
        let how = Self {
            micro_batch: other.micro_batch,
            checkpoint_minutes: other.checkpoint_minutes,
            matmul: other.matmul,
            ..self.clone()
        };
        &how == other
    }
}

/// Reads a run's training config, giving fields added since it was written the value
/// that reproduces how it was trained (`micro_batch` 0: the whole batch at once;
/// `checkpoint_minutes` 0; `logq_correction` false; `grad_clip` per tensor; `adam_epsilon`
/// 1e-5). Burn's `Config` derive has no serde defaults of its own.
fn train_config_with_defaults<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SpecGrPpTrainConfig, D::Error> {
    let mut value = <serde_json::Value as serde::Deserialize>::deserialize(d)?;
    if let Some(map) = value.as_object_mut() {
        map.entry("micro_batch").or_insert(serde_json::json!(0));
        map.entry("checkpoint_minutes").or_insert(serde_json::json!(0.0));
        map.entry("logq_correction").or_insert(serde_json::json!(false));
        map.entry("matmul").or_insert(serde_json::json!("f32"));
        map.entry("grad_clip").or_insert(serde_json::json!("per-tensor"));
        map.entry("adam_epsilon").or_insert(serde_json::json!(1e-5));
    }
    serde_json::from_value(value).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::{SpecGrPpState, SpecGrPpTrainConfig};

    /// A state written before `micro_batch`, `checkpoint_minutes` and `logq_correction`
    /// existed reads with the values it was trained with; the correction is part of a
    /// run's identity (a resume that changes it is refused), micro-batches are not.
    #[test]
    fn old_states_read_with_the_settings_they_were_trained_with() {
        let state = r#"{
          "model": {"vocab_size": 1027, "d_model": 128, "d_ff": 1024, "d_kv": 64, "num_heads": 6,
                    "num_encoder_layers": 4, "num_decoder_layers": 4, "dropout": 0.1, "num_buckets": 32,
                    "max_distance": 128, "layer_norm_eps": 1e-06, "max_history": 20},
          "head": {"d_model": 128, "proj_dim": 128},
          "train": {"stage": "contrastive", "lr": 0.0003, "weight_decay": 0.035, "emb_batch_size": 256,
                    "gen_batch_size": 64, "lambda_emb": 6.0, "lambda_gen": 1.0, "temperature": 0.07,
                    "max_epochs": 4, "warmup_fraction": 0.05, "grad_clip_norm": 1.0, "eval_every": 1,
                    "patience": 5, "eval_k": 50, "eval_batch_size": 256, "eval_limit": 0, "seed": 42},
          "epochs_done": 1, "steps_done": 539, "best": [0.0265, 0], "since_best": 0, "validations": [],
          "stopped_early": false, "epoch_losses": [], "samples_per_sec": []
        }"#;
        let state: SpecGrPpState = serde_json::from_str(state).unwrap();
        assert_eq!((state.train.micro_batch, state.train.checkpoint_minutes, state.train.logq_correction), (0, 0.0, false));
        let corrected = state.train.clone().with_logq_correction(true);
        assert!(!state.train.same_run(&corrected));
        assert!(state.train.same_run(&state.train.clone().with_micro_batch(64)));
        assert_eq!(state.train.matmul, crate::MatmulPrecision::F32);
        assert!(state.train.same_run(&state.train.clone().with_matmul(crate::MatmulPrecision::Bf16)));
        assert!(!SpecGrPpTrainConfig::stage1().logq_correction, "off by default: the paper's loss");
    }
}
