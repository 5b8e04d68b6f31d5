//! Training SpecGR++ (both stages): AdamW with warm-up and cosine decay, gradient
//! clipping, seeded shuffling, validation by encoder-retrieval Recall@K over all
//! items, best checkpoint, early stopping, and resumption from the last checkpoint:
//! an epoch's end, or the step where the caller asked to stop.
//!
//! Run directory layout, as gr-model's [`crate::train`] (both through
//! [`crate::train_loop`]): `best/` (a [`SpecGrPp::save`] checkpoint plus the item
//! vectors the drafter should search), `last/` (`model-<epoch>[-<batch>].mpk`,
//! `optim-<epoch>[-<batch>].mpk`, then `state.json`). Stage 2
//! also writes `frozen/` (the item vectors computed once at its start) before its
//! first step, so a resumed run trains against the same vectors.
//!
//! Each step encodes one embedding batch once: its pooled states feed the embedding
//! loss, and the first `gen_batch_size` rows' states also feed the generation loss.

use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

use burn::grad_clipping::GradientClippingConfig;
use burn::module::AutodiffModule;
use burn::optim::{AdamWConfig, GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Int, Tensor, TensorData};
use semid::SemanticIds;

use crate::batch::validate_examples;
use crate::checkpoint::check_same_config;
use crate::input::{history_tokens, pad_rows};
use crate::projection::ProjectionConfig;
use crate::schedule::{LrSchedule, shuffled};
use crate::specgr_pp::{ItemEmbeddings, labels_tensor, retrieval_loss, retrieval_loss_with_bias, unique_targets};
use crate::specgr_pp_config::{SpecGrPpEvent, SpecGrPpState, SpecGrPpTrainConfig, Stage};
use crate::specgr_pp_store::{frozen_items, save_best, save_last};
use crate::train_loop::{AfterStep, Cadence, EarlyStopping, LastCheckpoint, epoch_dropout_seed, stem};
use crate::{EncoderOutput, GradClip, SpecGrPp, TigerConfig, TigerError, TrainExample, clip_global_norm, evaluate_retrieval};

/// The data of a SpecGR++ training run.
#[derive(Debug, Clone, Copy)]
pub struct SpecGrPpData<'a> {
    /// Semantic IDs of every item (unseen ones included: validation retrieves among all).
    pub ids: &'a SemanticIds,
    /// Training examples.
    pub train: &'a [TrainExample],
    /// Validation examples (empty: the latest model is saved as the best).
    pub valid: &'a [TrainExample],
    /// The in-sample items (stage 2's softmax runs over them).
    pub in_sample: &'a [u32],
}

/// Where a run's model starts.
#[derive(Debug, Clone, Copy)]
pub struct SpecGrPpInit<'a> {
    /// The TIGER sizes (a checkpoint in `from` must have been written for them).
    pub model: &'a TigerConfig,
    /// The head's sizes (used when `from` has no head).
    pub head: &'a ProjectionConfig,
    /// A checkpoint to start from: a trained TIGER (`tiger-<ids>-<preset>/best`, a
    /// fresh head is added) or a SpecGR++ checkpoint (stage 1's `best` for stage 2).
    pub from: Option<&'a Path>,
}

/// Trains (or resumes) one SpecGR++ stage in `run_dir` and returns its final state.
///
/// `on_event` may return `ControlFlow::Break` to stop after the current step: the run
/// is checkpointed there (after an epoch's last step, at the epoch's end, validation
/// included) and resumes from it with the numbers of an uninterrupted run.
pub fn train_specgr_pp<B: AutodiffBackend>(
    init: SpecGrPpInit<'_>,
    config: &SpecGrPpTrainConfig,
    data: SpecGrPpData<'_>,
    run_dir: &Path,
    device: &B::Device,
    on_event: &mut dyn FnMut(&SpecGrPpEvent) -> ControlFlow<()>,
) -> Result<SpecGrPpState, TigerError> {
    let ids = data.ids;
    if data.train.is_empty() {
        return Err(TigerError::Data("no training examples".into()));
    }
    validate_examples(data.train, ids, "train")?;
    validate_examples(data.valid, ids, "valid")?;
    let last = LastCheckpoint::new(run_dir.join("last"));
    let per_tensor = (config.grad_clip == GradClip::PerTensor).then_some(GradientClippingConfig::Norm(config.grad_clip_norm));
    let mut optim = AdamWConfig::new()
        .with_weight_decay(config.weight_decay as f32)
        .with_epsilon(config.adam_epsilon)
        .with_grad_clipping(per_tensor)
        .init::<B, SpecGrPp<B>>();
    B::seed(device, config.seed);
    let mut model = match init.from {
        Some(dir) => {
            check_same_config(dir, &crate::checkpoint::read_config(dir)?, init.model)?;
            // Loading draws nothing from the seeded generator; a fresh TIGER's eager
            // draws, discarded, keep a new head's lazy draws where runs recorded
            // before loading stopped drawing had them (same seed, same numbers).
            drop(init.model.init::<B>(device)?);
            SpecGrPp::<B>::load_or_new_head(dir, init.head, device)?
        }
        None => SpecGrPp {
            tiger: init.model.init::<B>(device)?,
            head: init.head.init::<B>(device)?,
        },
    };
    model.tiger.check_ids(ids)?;
    let head_config =
        ProjectionConfig::new(init.model.d_model).with_proj_dim(model.head.proj_dim());
    let mut state = match last.read_state::<SpecGrPpState>()? {
        Some(mut state) => {
            check_same_config(last.dir(), &state.model, init.model)?;
            if !state.train.same_run(config) || state.head != head_config {
                return Err(TigerError::InvalidConfig(format!(
                    "{}: run was started with another training or head config; use a new run directory",
                    last.dir().display()
                )));
            }
            // How it trains from here (micro-batches, checkpoint cadence) is the caller's.
            state.train = config.clone();
            (model, optim) = last.load::<B, _, _>(model, optim, &stem(state.epochs_done, state.batches_done), device)?;
            tracing::info!(epoch = state.epochs_done, batches = state.batches_done, "resuming SpecGR++ training");
            state
        }
        None => SpecGrPpState {
            model: init.model.clone(),
            head: head_config,
            train: config.clone(),
            epochs_done: 0,
            batches_done: 0,
            epoch_progress: (0.0, 0.0, 0),
            dropout_state: 0,
            steps_done: 0,
            best: None,
            since_best: 0,
            validations: Vec::new(),
            stopped_early: false,
            epoch_losses: Vec::new(),
            samples_per_sec: Vec::new(),
            train_examples: Some(data.train.len()),
        },
    };
    // States written before the epoch's size was kept: the run's own examples.
    state.train_examples.get_or_insert(data.train.len());
    // Stage 2's item vectors: computed once from the starting model, then frozen.
    let frozen = match config.stage {
        Stage::Contrastive => None,
        Stage::Rank => Some(frozen_items(
            &model,
            ids,
            config,
            &run_dir.join("frozen"),
            device,
        )?),
    };
    // Frozen item vectors (above) and validation (below) are float32; training steps
    // run in the configured precision.
    model.tiger.set_matmul_precision(config.matmul);
    let rank_table = match &frozen {
        Some(items) => Some(in_sample_table::<B>(items, data.in_sample, device)?),
        None => None,
    };
    let log_q = (config.logq_correction && config.stage == Stage::Contrastive).then(|| target_log_counts(data.train));
    let batch_size = config.emb_batch_size.max(1);
    let steps_per_epoch = data.train.len().div_ceil(batch_size);
    let schedule = LrSchedule::new(
        config.lr,
        steps_per_epoch * config.max_epochs,
        config.warmup_fraction,
    );
    let stopping = EarlyStopping { patience: config.patience };
    let mut stop_after_epoch = false;
    while state.epochs_done < config.max_epochs && !state.stopped_early {
        let epoch = state.epochs_done;
        let resume_at = state.batches_done;
        // As TIGER's loop: seeded per epoch, restored at a checkpoint within one.
        if resume_at == 0 {
            model.tiger.seed_dropout(epoch_dropout_seed(config.seed, epoch));
            state.epoch_progress = (0.0, 0.0, 0);
        } else {
            model.tiger.seed_dropout(state.dropout_state);
        }
        let order = shuffled(data.train.len(), config.seed, epoch as u64);
        let batches = order.len().div_ceil(batch_size);
        let started = Instant::now();
        let mut seen_now = 0usize;
        let mut cadence = Cadence::every_minutes(config.checkpoint_minutes);
        for (b, chunk) in order.chunks(batch_size).enumerate().skip(resume_at) {
            let examples: Vec<&TrainExample> = chunk.iter().map(|&i| &data.train[i]).collect();
            let (emb, generation) =
                specgr_pp_losses(&model, &examples, ids, config, rank_table.as_ref(), log_q.as_deref(), device)?;
            let emb_value = emb.clone().into_scalar().elem::<f32>();
            let gen_value = generation
                .as_ref()
                .map_or(0.0, |g| g.clone().into_scalar().elem::<f32>());
            let mut loss = emb.mul_scalar(config.lambda_emb);
            if let Some(generation) = generation {
                loss = loss + generation.mul_scalar(config.lambda_gen);
            }
            let lr = schedule.at(state.steps_done);
            let mut grads = GradientsParams::from_grads(loss.backward(), &model);
            if config.grad_clip == GradClip::Global {
                grads = clip_global_norm(&model, grads, config.grad_clip_norm);
            }
            model = optim.step(lr, model, grads);
            state.steps_done += 1;
            state.batches_done = b + 1;
            state.epoch_progress.0 += f64::from(emb_value) * chunk.len() as f64;
            state.epoch_progress.1 += f64::from(gen_value) * chunk.len() as f64;
            state.epoch_progress.2 += chunk.len();
            seen_now += chunk.len();
            let event = SpecGrPpEvent::Step {
                epoch,
                step: state.steps_done - 1,
                total_steps: schedule.total_steps(),
                emb_loss: emb_value,
                gen_loss: gen_value,
                lr,
                samples_per_sec: seen_now as f64 / started.elapsed().as_secs_f64().max(1e-9),
            };
            match cadence.after_step(on_event(&event).is_break(), b, batches) {
                AfterStep::Continue => {}
                AfterStep::Checkpoint => {
                    state.dropout_state = model.tiger.dropout.rng.state();
                    save_last(&model, &optim, &state, &last)?;
                    cadence.checkpointed();
                    let event = SpecGrPpEvent::PartialCheckpoint { epoch, batches: b + 1 };
                    if on_event(&event).is_break() {
                        return Ok(state);
                    }
                }
                AfterStep::StopAtEpochEnd => {
                    stop_after_epoch = true;
                    break;
                }
                AfterStep::StopHere => {
                    state.dropout_state = model.tiger.dropout.rng.state();
                    save_last(&model, &optim, &state, &last)?;
                    let _ = on_event(&SpecGrPpEvent::PartialCheckpoint { epoch, batches: b + 1 });
                    return Ok(state);
                }
            }
        }
        let (emb_sum, gen_sum, seen) = state.epoch_progress;
        let n = seen.max(1) as f64;
        state.epoch_losses.push((emb_sum / n, gen_sum / n));
        // The throughput of this process's part of the epoch.
        state
            .samples_per_sec
            .push(seen_now as f64 / started.elapsed().as_secs_f64().max(1e-9));
        state.epochs_done += 1;
        state.batches_done = 0;
        state.epoch_progress = (0.0, 0.0, 0);
        state.dropout_state = 0;
        let is_last = state.epochs_done == config.max_epochs;
        let mut inner = model.valid();
        inner.tiger.set_matmul_precision(crate::MatmulPrecision::F32);
        if !data.valid.is_empty() && (state.epochs_done % config.eval_every.max(1) == 0 || is_last)
        {
            let items = match &frozen {
                Some(items) => items.clone(),
                None => inner.embed_all_items(ids, config.eval_batch_size, device)?,
            };
            let limit = match config.eval_limit {
                0 => data.valid.len(),
                n => n.min(data.valid.len()),
            };
            let metrics = evaluate_retrieval(
                &inner,
                &items,
                ids,
                &data.valid[..limit],
                &[config.eval_k],
                config.eval_batch_size,
                device,
            )?[0];
            let verdict = stopping.observe(&mut state.best, &mut state.since_best, metrics.recall, epoch);
            let improved = verdict.improved;
            if improved {
                save_best(&inner, &items, &run_dir.join("best"))?;
            } else {
                state.stopped_early = verdict.stop;
            }
            state.validations.push((epoch, metrics));
            if on_event(&SpecGrPpEvent::Validation {
                epoch,
                metrics,
                improved,
            })
            .is_break()
            {
                save_last(&model, &optim, &state, &last)?;
                return Ok(state);
            }
        } else if data.valid.is_empty() {
            // Without validation data the latest model is the best one.
            let items = match &frozen {
                Some(items) => items.clone(),
                None => inner.embed_all_items(ids, config.eval_batch_size, device)?,
            };
            save_best(&inner, &items, &run_dir.join("best"))?;
        }
        save_last(&model, &optim, &state, &last)?;
        if on_event(&SpecGrPpEvent::Checkpoint { epoch }).is_break() || stop_after_epoch {
            return Ok(state);
        }
    }
    Ok(state)
}

/// The embedding loss of one batch and, when `gen_batch_size > 0` and `lambda_gen > 0`,
/// the generation loss of its first rows, from one encoder pass (in
/// [`SpecGrPpTrainConfig::micro_batch`]-row parts): the losses of one training step,
/// unweighted. `rank_table` is stage 2's frozen in-sample item table and each item's
/// row in it (`None`: stage 1, in-batch negatives). `log_q[item]` (stage 1 only):
/// subtracted from that item's in-batch logits ([`target_log_counts`]; the logQ
/// correction). Public for `specgr bench specgr-pp`.
pub fn specgr_pp_losses<B: Backend>(
    model: &SpecGrPp<B>,
    examples: &[&TrainExample],
    ids: &SemanticIds,
    config: &SpecGrPpTrainConfig,
    rank_table: Option<&(Tensor<B, 2>, Vec<Option<usize>>)>,
    log_q: Option<&[f32]>,
    device: &B::Device,
) -> Result<(Tensor<B, 1>, Option<Tensor<B, 1>>), TigerError> {
    let tiger = &model.tiger;
    let rows = examples
        .iter()
        .enumerate()
        .map(|(i, e)| history_tokens(&e.history, ids, tiger.config.max_history, i))
        .collect::<Result<Vec<_>, _>>()?;
    let g = if config.lambda_gen == 0.0 { 0 } else { config.gen_batch_size.min(examples.len()) };
    // The rows in the order they are encoded: by length within micro-batches, so each
    // is padded only to its own longest history. Both losses are means (over rows, or
    // over the equal-length decoder rows), so the order changes nothing but rounding.
    let mut order: Vec<usize> = (0..rows.len()).collect();
    let chunk = match config.micro_batch {
        0 => rows.len().max(1),
        m => {
            order.sort_by_key(|&r| rows[r].len());
            m
        }
    };
    let mut queries = Vec::new();
    // Each micro-batch's share of the generation loss: (its mean, its rows).
    let mut generation = Vec::new();
    for part in order.chunks(chunk) {
        let part_rows: Vec<Vec<u32>> = part.iter().map(|&r| rows[r].clone()).collect();
        let (tokens, lengths) = pad_rows::<B>(&part_rows, device);
        let hidden = tiger.encode_states(tokens, &lengths); // [part, src_len, d_model]
        queries.push(model.head.embed_states(hidden.clone(), &lengths)); // [part, proj_dim]
        // The generation loss feeds on the first `g` rows of the batch.
        let gen_rows: Vec<usize> = (0..part.len()).filter(|&p| part[p] < g).collect();
        if gen_rows.is_empty() {
            continue;
        }
        let hidden = if gen_rows.len() == part.len() {
            hidden
        } else {
            let index = gen_rows.iter().map(|&p| p as i64).collect::<Vec<_>>();
            let index = Tensor::<B, 1, Int>::from_data(TensorData::new(index, [gen_rows.len()]), device);
            hidden.select(0, index)
        };
        let encoded = EncoderOutput {
            memory: tiger.memory(hidden.clone()),
            hidden,
            lengths: gen_rows.iter().map(|&p| lengths[p]).collect(),
        };
        let targets: Vec<u32> = gen_rows.iter().map(|&p| examples[part[p]].target).collect();
        let (input, labels) = decoder_rows::<B>(&targets, ids, device);
        generation.push((tiger.generation_loss(&encoded, input, labels), gen_rows.len()));
    }
    let queries = Tensor::cat(queries, 0); // [batch, proj_dim], rows in `order`
    let targets: Vec<u32> = order.iter().map(|&r| examples[r].target).collect();
    let emb = match rank_table {
        None => {
            let (items, labels) = unique_targets(&targets);
            let table = tiger.embed_items(&model.head, &items, ids, device)?; // [unique, proj_dim]
            let bias = log_q.map(|log_q| {
                let bias: Vec<f32> = items.iter().map(|&i| -log_q.get(i as usize).copied().unwrap_or(0.0)).collect();
                Tensor::<B, 1>::from_data(TensorData::new(bias, [items.len()]), device)
            });
            retrieval_loss_with_bias(
                queries,
                table,
                labels_tensor(labels, device),
                config.temperature,
                bias,
            )
        }
        Some((table, position)) => {
            let labels = order
                .iter()
                .zip(&targets)
                .map(|(&i, &t)| {
                    position.get(t as usize).copied().flatten().map(|p| p as i64).ok_or_else(|| {
                        TigerError::Data(format!(
                            "training example {i} of a batch: target item {t} is not in-sample, so stage 2's softmax has no row for it"
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            retrieval_loss(
                queries,
                table.clone(),
                labels_tensor(labels, device),
                config.temperature,
            )
        }
    };
    if g == 0 {
        return Ok((emb, None));
    }
    // The mean over all `g` rows' tokens, from the micro-batches' means.
    let generation = generation
        .into_iter()
        .map(|(loss, n)| loss.mul_scalar(n as f64 / g as f64))
        .reduce(|a, b| a + b);
    Ok((emb, generation))
}

/// `ln n_i` per item number `i`, `n_i` the examples of `train` that target it (0
/// where none does: such an item is never an in-batch column).
pub fn target_log_counts(train: &[TrainExample]) -> Vec<f32> {
    let items = train.iter().map(|e| e.target as usize + 1).max().unwrap_or(0);
    let mut counts = vec![0usize; items];
    for e in train {
        counts[e.target as usize] += 1;
    }
    counts.into_iter().map(|c| if c == 0 { 0.0 } else { (c as f32).ln() }).collect()
}

/// Decoder inputs `[PAD d1 .. dn]` and labels `[d1 .. dn EOS]` of the targets.
fn decoder_rows<B: Backend>(
    targets: &[u32],
    ids: &SemanticIds,
    device: &B::Device,
) -> (Tensor<B, 2, Int>, Tensor<B, 2, Int>) {
    let layout = ids.layout();
    let n = layout.num_digits();
    let (mut input, mut labels) = (Vec::new(), Vec::new());
    for &t in targets {
        let tokens: Vec<i64> = ids.tokens(t).map(i64::from).collect();
        input.push(i64::from(layout.pad()));
        input.extend_from_slice(&tokens);
        labels.extend_from_slice(&tokens);
        labels.push(i64::from(layout.eos()));
    }
    let rows = targets.len();
    (
        Tensor::from_data(TensorData::new(input, [rows, n + 1]), device),
        Tensor::from_data(TensorData::new(labels, [rows, n + 1]), device),
    )
}

/// The in-sample rows of `items` as a constant tensor, and each item's row in it:
/// stage 2's softmax table ([`specgr_pp_losses`]' `rank_table`).
#[allow(clippy::type_complexity)]
pub fn in_sample_table<B: Backend>(
    items: &ItemEmbeddings,
    in_sample: &[u32],
    device: &B::Device,
) -> Result<(Tensor<B, 2>, Vec<Option<usize>>), TigerError> {
    if in_sample.is_empty() {
        return Err(TigerError::Data("stage 2 needs in-sample items".into()));
    }
    let mut rows = Vec::with_capacity(in_sample.len() * items.dim);
    let mut position = vec![None; items.num_items];
    for (p, &item) in in_sample.iter().enumerate() {
        if item as usize >= items.num_items {
            return Err(TigerError::Data(format!(
                "in-sample item {item} has no semantic ID ({} items)",
                items.num_items
            )));
        }
        rows.extend_from_slice(items.row(item as usize));
        position[item as usize] = Some(p);
    }
    let table = Tensor::from_data(TensorData::new(rows, [in_sample.len(), items.dim]), device);
    Ok((table, position))
}

#[cfg(test)]
mod tests {
    use burn::backend::{Autodiff, Flex};
    use semid::TokenLayout;

    use super::*;
    use crate::TigerPreset;

    type Ad = Autodiff<Flex>;

    /// The losses and the gradients of one step: the whole batch at once against
    /// length-sorted micro-batches of 3 rows (no dropout, so only rounding differs).
    /// Histories of 1 to 6 items, so each micro-batch pads to another length, and a
    /// generation batch of 5 of the 8 rows, so some micro-batches feed it only in part.
    #[test]
    fn micro_batches_give_the_whole_batch_losses_and_gradients() {
        let device = Default::default();
        let layout = TokenLayout::new(2, 4).unwrap();
        let codes: Vec<u32> = (0..12u32).flat_map(|i| [i % 4, (i / 4) % 4]).collect();
        let ids = SemanticIds::from_codes(layout, &codes).unwrap();
        let config = TigerConfig::preset(TigerPreset::Tiny, ids.layout().vocab_size()).with_dropout(0.0);
        Ad::seed(&device, 3);
        let model = SpecGrPp::<Ad> {
            tiger: config.init::<Ad>(&device).unwrap(),
            head: ProjectionConfig::new(config.d_model).with_proj_dim(8).init(&device).unwrap(),
        };
        let lengths = [6, 1, 4, 2, 6, 3, 1, 5];
        let examples: Vec<TrainExample> = lengths
            .iter()
            .enumerate()
            .map(|(r, &n)| TrainExample {
                history: (0..n).map(|k| ((r * 5 + k * 7) % 12) as u32).collect(),
                target: ((r * 7 + 2) % 12) as u32,
            })
            .collect();
        let refs: Vec<&TrainExample> = examples.iter().collect();
        let in_sample: Vec<u32> = (0..12).collect();
        let items = model.valid().embed_all_items(&ids, 16, &device).unwrap();
        let table = in_sample_table::<Ad>(&items, &in_sample, &device).unwrap();
        for (stage, rank) in [(SpecGrPpTrainConfig::stage1(), None), (SpecGrPpTrainConfig::stage2(), Some(&table))] {
            let stage = stage.with_gen_batch_size(5);
            let run = |micro: usize| {
                let config = stage.clone().with_micro_batch(micro);
                let (emb, generation) = specgr_pp_losses(&model, &refs, &ids, &config, rank, None, &device).unwrap();
                let generation = generation.unwrap();
                let values = [emb.clone().into_scalar().elem::<f32>(), generation.clone().into_scalar().elem::<f32>()];
                let grads = (emb.mul_scalar(config.lambda_emb) + generation).backward();
                let grad = |t: Tensor<Ad, 2>| t.grad(&grads).unwrap().into_data().to_vec::<f32>().unwrap();
                let mut all = grad(model.tiger.shared.weight.val());
                all.extend(grad(model.head.linear.weight.val()));
                (values, all)
            };
            let (whole, whole_grads) = run(0);
            let (micro, micro_grads) = run(3);
            for (a, b) in whole.iter().zip(&micro) {
                assert!((a - b).abs() < 1e-5, "{:?}: losses {whole:?} vs {micro:?}", stage.stage);
            }
            let scale = whole_grads.iter().fold(0f32, |m, g| m.max(g.abs()));
            assert!(scale > 0.0);
            let diff = whole_grads.iter().zip(&micro_grads).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
            assert!(diff < 1e-4 * scale, "{:?}: gradients differ by {diff} (largest {scale})", stage.stage);
        }
    }
}
