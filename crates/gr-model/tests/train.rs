//! Training: memorisation, resumption after a kill, checkpoints.

use std::ops::ControlFlow;
use std::path::PathBuf;

use burn::backend::Autodiff;
use gr_model::eval::evaluate;
use gr_model::{
    GradClip, MatmulPrecision, Tiger, TigerConfig, TigerError, TigerPreset, TrainConfig, TrainEvent, TrainExample, inputs_fingerprint, train,
};

use crate::common::{TestBackend, device, ids, layout, rng_lock, trie};

type TrainBackend = Autodiff<TestBackend>;

/// 14 examples whose histories determine their targets.
fn examples() -> Vec<TrainExample> {
    (0..14u32)
        .map(|i| TrainExample {
            history: vec![i, (i + 3) % 14],
            target: (i * 5 + 1) % 14,
        })
        .collect()
}

fn run_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gr-model-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn config(epochs: usize) -> TrainConfig {
    TrainConfig::new()
        .with_lr(1e-2)
        .with_weight_decay(0.0)
        .with_batch_size(7)
        .with_max_epochs(epochs)
        .with_warmup_fraction(0.05)
        .with_eval_every(10)
        .with_patience(100)
        .with_eval_k(1)
        .with_eval_beam_size(4)
        .with_seed(3)
}

#[test]
fn tiny_model_memorises_a_tiny_dataset() {
    let _guard = rng_lock();
    let ids = ids();
    let data = examples();
    let dir = run_dir("memorise");
    let model_config = TigerConfig::preset(TigerPreset::Tiny, layout().vocab_size());
    let mut last_loss = f32::MAX;
    let state = train::<TrainBackend>(
        &model_config,
        &config(120),
        &ids,
        &data,
        &data,
        &dir,
        &device(),
        &mut |e| {
            if let TrainEvent::Step { loss, .. } = e {
                last_loss = *loss;
            }
            ControlFlow::Continue(())
        },
    )
    .unwrap();
    assert!(last_loss < 0.05, "final training loss {last_loss}");
    let best = Tiger::<TestBackend>::load(&dir.join("best"), &device()).unwrap();
    let m = evaluate(&best, &ids, &trie(&ids), &data, &[1], 4, 16, &device()).unwrap()[0];
    assert_eq!(
        m.recall, 1.0,
        "Recall@1 on the training examples; state {:?}",
        state.validations
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn resumed_run_matches_uninterrupted_run() {
    resumed_run_matches_uninterrupted_run_with(1);
}

/// With its batches in shards on threads (and dropout on), too: each shard's dropout
/// masks come from its own seeded generator, not from thread timing.
#[test]
fn resumed_sharded_run_matches_uninterrupted_run() {
    resumed_run_matches_uninterrupted_run_with(3);
}

fn resumed_run_matches_uninterrupted_run_with(shards: usize) {
    let _guard = rng_lock();
    let ids = ids();
    let data = examples();
    let model_config =
        TigerConfig::preset(TigerPreset::Tiny, layout().vocab_size()).with_dropout(0.1);
    let cfg = config(6).with_eval_every(2).with_shards(shards);
    let whole_dir = run_dir(&format!("whole-{shards}"));
    let whole = train::<TrainBackend>(
        &model_config,
        &cfg,
        &ids,
        &data,
        &data,
        &whole_dir,
        &device(),
        &mut |_| ControlFlow::Continue(()),
    )
    .unwrap();
    // Kill after the checkpoint of epoch 2 and in the middle of epoch 4, then resume.
    let dir = run_dir(&format!("resumed-{shards}"));
    let kill_at = |epoch_to_stop: usize| {
        move |e: &TrainEvent| match e {
            TrainEvent::Checkpoint { epoch } if *epoch == epoch_to_stop => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        }
    };
    train::<TrainBackend>(
        &model_config,
        &cfg,
        &ids,
        &data,
        &data,
        &dir,
        &device(),
        &mut kill_at(1),
    )
    .unwrap();
    let mut steps = 0;
    train::<TrainBackend>(
        &model_config,
        &cfg,
        &ids,
        &data,
        &data,
        &dir,
        &device(),
        &mut |e| {
            steps += usize::from(matches!(e, TrainEvent::Step { .. }));
            if steps == 5 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
    )
    .unwrap();
    let resumed = train::<TrainBackend>(
        &model_config,
        &cfg,
        &ids,
        &data,
        &data,
        &dir,
        &device(),
        &mut |_| ControlFlow::Continue(()),
    )
    .unwrap();
    assert_eq!(resumed.epochs_done, 6);
    assert_eq!(resumed.steps_done, whole.steps_done);
    for (a, b) in resumed.epoch_losses.iter().zip(&whole.epoch_losses) {
        assert!(
            (a - b).abs() < 1e-5,
            "epoch losses {:?} vs {:?}",
            resumed.epoch_losses,
            whole.epoch_losses
        );
    }
    assert_eq!(resumed.validations, whole.validations);
    // A run directory cannot be resumed with another model config.
    let other = model_config.clone().with_d_ff(48);
    let err = train::<TrainBackend>(
        &other,
        &cfg,
        &ids,
        &data,
        &data,
        &dir,
        &device(),
        &mut |_| ControlFlow::Continue(()),
    )
    .unwrap_err();
    assert!(
        matches!(err, TigerError::ConfigMismatch { ref field, .. } if field == "d_ff"),
        "{err}"
    );
    // Nor with other training examples: a model trained on the old ones would be kept.
    let fewer = &data[..10];
    let err = train::<TrainBackend>(
        &model_config,
        &cfg,
        &ids,
        fewer,
        &data,
        &dir,
        &device(),
        &mut |_| ControlFlow::Continue(()),
    )
    .unwrap_err();
    assert!(err.to_string().contains("other semantic IDs or training examples"), "{err}");
    assert_ne!(
        gr_model::inputs_fingerprint(&ids, fewer),
        gr_model::inputs_fingerprint(&ids, &data)
    );
    let _ = std::fs::remove_dir_all(&whole_dir);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The shard count is a speed setting: a run resumes with another one (and records
/// it), while another learning rate is still refused.
#[test]
fn a_run_resumes_with_another_shard_count_or_precision_but_not_another_rate() {
    let _guard = rng_lock();
    let ids = ids();
    let data = examples();
    let model_config =
        TigerConfig::preset(TigerPreset::Tiny, layout().vocab_size()).with_dropout(0.1);
    let dir = run_dir("reshard");
    let cfg = config(3).with_eval_every(1).with_shards(1);
    let run = |cfg: &TrainConfig, events: &mut dyn FnMut(&TrainEvent) -> ControlFlow<()>| {
        train::<TrainBackend>(&model_config, cfg, &ids, &data, &data, &dir, &device(), events)
    };
    let first = run(&cfg, &mut |e| match e {
        TrainEvent::Checkpoint { epoch: 0 } => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    })
    .unwrap();
    assert_eq!(first.epochs_done, 1);
    let err = run(&cfg.clone().with_lr(5e-3), &mut |_| ControlFlow::Continue(())).unwrap_err();
    assert!(err.to_string().contains("lr: "), "{err}");
    let resumed = run(&cfg.clone().with_shards(2).with_matmul(MatmulPrecision::Bf16), &mut |_| ControlFlow::Continue(())).unwrap();
    assert_eq!(resumed.epochs_done, 3);
    assert_eq!((resumed.train.shards, resumed.train.matmul), (2, MatmulPrecision::Bf16));
    assert!(resumed.epoch_losses.iter().all(|l| l.is_finite()), "{:?}", resumed.epoch_losses);
    assert_eq!(resumed.samples_seen, 3 * data.len() as u64);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn checkpoint_of_another_config_is_rejected() {
    let _guard = rng_lock();
    let dir = run_dir("ckpt");
    let cfg = TigerConfig::preset(TigerPreset::Tiny, layout().vocab_size());
    let model = cfg.init::<TestBackend>(&device()).unwrap();
    model.save(&dir).unwrap();
    let loaded = Tiger::<TestBackend>::load_expecting(&dir, &cfg, &device()).unwrap();
    assert_eq!(loaded.config, cfg);
    let err = Tiger::<TestBackend>::load_expecting(&dir, &cfg.clone().with_d_model(64), &device())
        .unwrap_err();
    assert!(err.to_string().contains("d_model"), "{err}");
    let err = Tiger::<TestBackend>::load(&dir.join("missing"), &device()).unwrap_err();
    assert!(err.to_string().contains("config.json"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The sharded gradient (each shard on its own thread and autodiff graph) against the
/// whole batch's, computed in one pass: the same loss and gradients up to rounding.
#[test]
fn sharded_gradients_equal_the_whole_batch_gradients() {
    use burn::module::{Module, ModuleVisitor, Param};
    use burn::optim::GradientsParams;
    use burn::tensor::Tensor;
    use gr_model::{TrainBatch, sharded_grads};

    struct Compare<'a> {
        a: &'a GradientsParams,
        b: &'a GradientsParams,
        params: usize,
        max_diff: f32,
        max_abs: f32,
    }
    impl ModuleVisitor<TrainBackend> for Compare<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<TrainBackend, D>>) {
            let get = |g: &GradientsParams| {
                g.get::<TestBackend, D>(param.id)
                    .expect("a gradient for every parameter")
                    .into_data()
                    .to_vec::<f32>()
                    .unwrap()
            };
            let (a, b) = (get(self.a), get(self.b));
            self.params += 1;
            self.max_diff = self.max_diff.max(crate::common::max_diff(&a, &b));
            self.max_abs = a.iter().fold(self.max_abs, |m, x| m.max(x.abs()));
        }
    }

    let ids = ids();
    let data = examples();
    let refs: Vec<&TrainExample> = data.iter().collect();
    let model = {
        let _guard = rng_lock();
        <TrainBackend as burn::tensor::backend::Backend>::seed(&device(), 11);
        crate::common::materialised(
            TigerConfig::preset(TigerPreset::Tiny, layout().vocab_size())
                .init::<TrainBackend>(&device())
                .unwrap(),
        )
    };
    let max_history = model.config.max_history;
    let batch = |part: &[&TrainExample], start: usize| {
        TrainBatch::<TrainBackend>::new(part, &ids, max_history, start, &device())
    };
    let loss = model.loss(&batch(&refs, 0).unwrap());
    let whole_loss = loss.clone().into_scalar();
    let whole = GradientsParams::from_grads(loss.backward(), &model);
    for shards in [2, 3, 14] {
        let (sharded_loss, sharded) = sharded_grads(&model, &refs, shards, 7, batch).unwrap();
        assert!((sharded_loss - whole_loss).abs() < 1e-5, "{shards} shards: loss {sharded_loss} vs {whole_loss}");
        let mut cmp = Compare { a: &whole, b: &sharded, params: 0, max_diff: 0.0, max_abs: 0.0 };
        model.visit(&mut cmp);
        assert!(cmp.params > 10, "{shards} shards: {} parameter tensors", cmp.params);
        assert!(cmp.max_abs > 1e-3, "the gradients are not all zero");
        assert!(cmp.max_diff < 1e-5, "{shards} shards: gradients differ by {}", cmp.max_diff);
    }
}

/// A fresh model (parameters not yet drawn) in shards: every shard computes with the
/// weights a one-shard run draws. Forks made before the first forward pass used to draw
/// their own (first loss 3.912 in two shards against 4.062 in one on Beauty).
#[test]
fn a_fresh_model_in_shards_starts_from_the_weights_of_one_shard() {
    use gr_model::{TrainBatch, sharded_grads};

    let ids = ids();
    let data = examples();
    let refs: Vec<&TrainExample> = data.iter().collect();
    let fresh = || {
        <TrainBackend as burn::tensor::backend::Backend>::seed(&device(), 11);
        TigerConfig::preset(TigerPreset::Tiny, layout().vocab_size()).init::<TrainBackend>(&device()).unwrap()
    };
    let max_history = TigerConfig::preset(TigerPreset::Tiny, layout().vocab_size()).max_history;
    let batch = |part: &[&TrainExample], start: usize| {
        TrainBatch::<TrainBackend>::new(part, &ids, max_history, start, &device())
    };
    let _guard = rng_lock();
    let (one, _) = sharded_grads(&fresh(), &refs, 1, 7, batch).unwrap();
    for shards in [2, 3] {
        let (sharded, _) = sharded_grads(&fresh(), &refs, shards, 7, batch).unwrap();
        assert!((sharded - one).abs() < 1e-5, "{shards} shards of a fresh model: loss {sharded} vs {one}");
    }
}

/// Global-norm clipping (PyTorch's `clip_grad_norm_`) against a brute-force
/// computation: every gradient times `min(1, max_norm / ‖g‖)`, ‖g‖ the norm of all
/// gradients together; and a run with it (and PyTorch's Adam epsilon) trains
/// differently from one that clips each tensor on its own.
#[test]
fn global_clipping_scales_every_gradient_by_one_factor() {
    use burn::module::{Module, ModuleVisitor, Param};
    use burn::optim::GradientsParams;
    use burn::tensor::Tensor;
    use gr_model::{TrainBatch, clip_global_norm};

    struct Flat<'a>(&'a GradientsParams, Vec<Vec<f32>>);
    impl ModuleVisitor<TrainBackend> for Flat<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<TrainBackend, D>>) {
            let g = self.0.get::<TestBackend, D>(param.id).expect("a gradient for every parameter");
            self.1.push(g.into_data().to_vec::<f32>().unwrap());
        }
    }
    let flat = |model: &Tiger<TrainBackend>, g: &GradientsParams| {
        let mut v = Flat(g, Vec::new());
        model.visit(&mut v);
        v.1
    };
    let norm = |g: &[Vec<f32>]| g.iter().flatten().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();

    let ids = ids();
    let data = examples();
    let refs: Vec<&TrainExample> = data.iter().collect();
    let model = {
        let _guard = rng_lock();
        <TrainBackend as burn::tensor::backend::Backend>::seed(&device(), 5);
        crate::common::materialised(
            TigerConfig::preset(TigerPreset::Tiny, layout().vocab_size()).init::<TrainBackend>(&device()).unwrap(),
        )
    };
    let grads = || {
        let batch = TrainBatch::<TrainBackend>::new(&refs, &ids, model.config.max_history, 0, &device()).unwrap();
        GradientsParams::from_grads(model.loss(&batch).backward(), &model)
    };
    let before = flat(&model, &grads());
    let n = norm(&before);
    assert!(before.len() > 10 && n > 1e-3, "{} tensors, norm {n}", before.len());
    // Above the norm: untouched. Below: all scaled by max / n, joint norm max.
    for (max_norm, factor) in [(2.0 * n, 1.0), (n / 4.0, 0.25)] {
        let after = flat(&model, &clip_global_norm(&model, grads(), max_norm as f32));
        assert_eq!(after.len(), before.len());
        for (a, b) in after.iter().flatten().zip(before.iter().flatten()) {
            assert!((f64::from(*a) - factor * f64::from(*b)).abs() <= 1e-6 * (1.0 + f64::from(b.abs())), "{a} vs {factor} * {b}");
        }
        assert!((norm(&after) - (n * factor)).abs() < 1e-4 * n, "norm {} after clipping to {max_norm}", norm(&after));
    }

    // Wired into training: a clipping norm below the gradients' makes the two rules differ.
    let _guard = rng_lock();
    let model_config = TigerConfig::preset(TigerPreset::Tiny, layout().vocab_size());
    let cfg = config(1).with_grad_clip_norm(0.05);
    let loss = |cfg: &TrainConfig, name: &str| {
        let dir = run_dir(name);
        let state = train::<TrainBackend>(&model_config, cfg, &ids, &data, &data, &dir, &device(), &mut |_| {
            ControlFlow::Continue(())
        })
        .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(state.train.grad_clip, cfg.grad_clip);
        state.epoch_losses[0]
    };
    let per_tensor = loss(&cfg, "clip-per-tensor");
    let global = loss(&cfg.clone().with_grad_clip(GradClip::Global).with_adam_epsilon(1e-8), "clip-global");
    assert!(per_tensor.is_finite() && global.is_finite());
    assert_ne!(per_tensor, global);
}

/// A run written before `TrainConfig::shards` existed (no such field in its
/// `state.json`) was trained on whole batches: it resumes with 1 shard, not another.
#[test]
fn a_state_written_before_shards_existed_reads_as_one_shard() {
    let _guard = rng_lock();
    let ids = ids();
    let data = examples();
    let model_config = TigerConfig::preset(TigerPreset::Tiny, layout().vocab_size());
    let cfg = config(1);
    let dir = run_dir("before-shards");
    let run = |cfg: &TrainConfig| {
        train::<TrainBackend>(&model_config, cfg, &ids, &data, &data, &dir, &device(), &mut |_| {
            ControlFlow::Continue(())
        })
    };
    run(&cfg).unwrap();
    let path = dir.join("last").join("state.json");
    let mut state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let train = state["train"].as_object_mut().unwrap();
    for field in [
        "shards",
        "lr_decay",
        "warmup_steps",
        "sort_window",
        "select_by",
        "checkpoint_minutes",
        "grad_clip",
        "adam_epsilon",
        "matmul",
    ] {
        assert!(train.remove(field).is_some(), "{field}");
    }
    for field in ["batches_done", "samples_seen", "epoch_progress", "dropout_state", "validation_samples"] {
        assert!(state.as_object_mut().unwrap().remove(field).is_some(), "{field}");
    }
    let old = serde_json::to_string(&state).unwrap();
    std::fs::write(&path, &old).unwrap();
    let read: gr_model::TrainState = serde_json::from_str(&old).unwrap();
    assert_eq!(read.train.shards, 1);
    let resumed = run(&cfg).unwrap();
    assert_eq!((resumed.epochs_done, resumed.train.shards), (1, 1));
    assert_eq!((resumed.train.grad_clip, resumed.train.adam_epsilon), (GradClip::PerTensor, 1e-5));
    assert_eq!(resumed.train.matmul, MatmulPrecision::F32);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A run with length-sorted batches, a constant learning rate and time-based
/// checkpoints within epochs, killed right after a mid-epoch checkpoint and resumed
/// (with another checkpoint interval, which is not part of a run's identity), ends
/// with the numbers of an uninterrupted run.
#[test]
fn run_killed_within_an_epoch_resumes_to_the_same_numbers() {
    let _guard = rng_lock();
    let ids = ids();
    // Histories of 1 to 4 items, so length sorting changes the batches.
    let data: Vec<TrainExample> = (0..14u32)
        .map(|i| TrainExample {
            history: (0..1 + i % 4).map(|j| (i + j * 3) % 14).collect(),
            target: (i * 5 + 1) % 14,
        })
        .collect();
    let model_config =
        TigerConfig::preset(TigerPreset::Tiny, layout().vocab_size()).with_dropout(0.1);
    let cfg = config(3)
        .with_batch_size(3)
        .with_eval_every(1)
        .with_shards(2)
        .with_sort_window(2)
        .with_lr_decay(gr_model::LrDecay::Constant)
        .with_warmup_steps(2)
        .with_select_by(gr_model::SelectMetric::Recall);
    let run = |dir: &PathBuf, cfg: &TrainConfig, on_event: &mut dyn FnMut(&TrainEvent) -> ControlFlow<()>| {
        train::<TrainBackend>(&model_config, cfg, &ids, &data, &data, dir, &device(), on_event)
    };
    let whole_dir = run_dir("whole-partial");
    let whole = run(&whole_dir, &cfg, &mut |_| ControlFlow::Continue(())).unwrap();
    assert_eq!(whole.samples_seen, 3 * 14);
    let dir = run_dir("partial");
    // A checkpoint after every batch; killed after the one at batch 3 of epoch 1.
    let every_batch = cfg.clone().with_checkpoint_minutes(1e-9);
    let mut partials = 0;
    let stopped = run(&dir, &every_batch, &mut |e| match e {
        TrainEvent::PartialCheckpoint { epoch: 1, batches: 3 } => {
            partials += 1;
            ControlFlow::Break(())
        }
        TrainEvent::PartialCheckpoint { .. } => {
            partials += 1;
            ControlFlow::Continue(())
        }
        _ => ControlFlow::Continue(()),
    })
    .unwrap();
    assert_eq!((stopped.epochs_done, stopped.batches_done), (1, 3));
    // Epoch 0 has 5 batches: checkpoints after batches 1-4, then epoch 1's 1-3.
    assert_eq!(partials, 7);
    let names: Vec<String> = std::fs::read_dir(dir.join("last"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.contains(&"model-1-3.mpk".to_string()), "{names:?}");
    assert!(!names.contains(&"model-1.mpk".to_string()), "older checkpoints are removed: {names:?}");
    let resumed = run(&dir, &cfg, &mut |_| ControlFlow::Continue(())).unwrap();
    assert_eq!((resumed.epochs_done, resumed.steps_done), (3, whole.steps_done));
    assert_eq!(resumed.samples_seen, whole.samples_seen);
    for (a, b) in resumed.epoch_losses.iter().zip(&whole.epoch_losses) {
        assert!((a - b).abs() < 1e-5, "epoch losses {:?} vs {:?}", resumed.epoch_losses, whole.epoch_losses);
    }
    assert_eq!(resumed.validations, whole.validations);
    assert_eq!(resumed.validation_samples, vec![14, 28, 42]);
    assert_eq!(resumed.best.map(|b| b.1), whole.best.map(|b| b.1));
    let _ = std::fs::remove_dir_all(&whole_dir);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Loading a checkpoint draws nothing from Burn's process-wide generator: a load beside
/// a seeded training (another thread, another test) would shift the training's draws
/// and change its numbers (the resumed-run tests above failed about one run in three
/// while loads ran beside them).
#[test]
fn loading_a_checkpoint_draws_nothing_from_the_generator() {
    use burn::tensor::{Distribution, Tensor};
    let dir = run_dir("load-draws");
    let head = gr_model::ProjectionConfig::new(crate::common::model(3).config.d_model).with_proj_dim(8);
    crate::common::model(3).save(&dir).unwrap();
    let _guard = rng_lock();
    let draws = || Tensor::<TestBackend, 1>::random([16], Distribution::Default, &device()).into_data();
    <TestBackend as burn::tensor::backend::Backend>::seed(&device(), 9);
    let expected = draws();
    <TestBackend as burn::tensor::backend::Backend>::seed(&device(), 9);
    let tiger = Tiger::<TestBackend>::load(&dir, &device()).unwrap();
    let pp = gr_model::SpecGrPp::<TestBackend>::load_or_new_head(&dir, &head, &device()).unwrap();
    assert_eq!(draws(), expected, "a load drew from the generator");
    drop((tiger, pp));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A fork (`init_from` another run's `last/`) continues that run's model and optimiser:
/// with one batch per epoch, no dropout and a constant rate, a fork of a one-epoch run
/// takes the steps of an uninterrupted run's epochs 1 and 2 (the same batch, shuffled
/// otherwise, so equal up to rounding). A fork with a fresh optimiser would differ from
/// its second step on (Adam's moments and step count).
#[test]
fn a_fork_continues_its_source_model_and_optimiser() {
    let _guard = rng_lock();
    let ids = ids();
    let data = examples();
    let model_config = TigerConfig::preset(TigerPreset::Tiny, layout().vocab_size()).with_dropout(0.0);
    let cfg = |epochs: usize| {
        config(epochs)
            .with_batch_size(data.len())
            .with_lr_decay(gr_model::LrDecay::Constant)
            .with_warmup_steps(1)
    };
    let losses = |cfg: &TrainConfig, dir: &PathBuf| {
        let mut losses = Vec::new();
        let state = train::<TrainBackend>(&model_config, cfg, &ids, &data, &data, dir, &device(), &mut |e| {
            if let TrainEvent::Step { loss, .. } = e {
                losses.push(*loss);
            }
            ControlFlow::Continue(())
        });
        (state, losses)
    };
    let (whole_dir, source_dir, fork_dir) = (run_dir("fork-whole"), run_dir("fork-source"), run_dir("fork"));
    let (_, whole) = losses(&cfg(3), &whole_dir);
    let (_, source) = losses(&cfg(1), &source_dir);
    assert_eq!(source[0], whole[0]);
    let fork_cfg = cfg(2).with_init_from(Some(source_dir.join("last").display().to_string()));
    let (state, fork) = losses(&fork_cfg, &fork_dir);
    let state = state.unwrap();
    assert_eq!(fork.len(), 2);
    for (step, (f, w)) in fork.iter().zip(&whole[1..]).enumerate() {
        assert!((f - w).abs() < 1e-4, "fork step {step}: loss {f}, uninterrupted run {w} (all {whole:?})");
    }
    assert!((whole[2] - whole[1]).abs() > 1e-3, "the steps must change the loss for this test to mean anything");
    assert_eq!(state.samples_seen, 3 * data.len() as u64, "the source's examples count");
    assert_eq!(state.steps_done, 2);
    // Resuming the fork with another source, or forking a model of another shape, or a
    // directory without a checkpoint, is refused.
    let err = losses(&cfg(2).with_init_from(Some(whole_dir.join("last").display().to_string())), &fork_dir).0.unwrap_err();
    assert!(err.to_string().contains("init_from"), "{err}");
    let other_shape = TigerConfig::preset(TigerPreset::Tiny, layout().vocab_size()).with_dropout(0.0).with_d_ff(24);
    let err = train::<TrainBackend>(&other_shape, &fork_cfg, &ids, &data, &data, &run_dir("fork-shape"), &device(), &mut |_| {
        ControlFlow::Continue(())
    })
    .unwrap_err();
    assert!(err.to_string().contains("d_ff"), "{err}");
    let err = losses(&cfg(1).with_init_from(Some(source_dir.display().to_string())), &run_dir("fork-nothing")).0.unwrap_err();
    assert!(err.to_string().contains("state.json"), "{err}");
    for dir in [whole_dir, source_dir, fork_dir, run_dir("fork-shape"), run_dir("fork-nothing")] {
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A fine-tune on part of its source's examples (`init_from_inputs`: the fingerprint of
/// the source's inputs): refused without it, as any fork on other examples is, and with
/// the fingerprint of anything but the source's inputs; accepted with it, counting on
/// from the source's examples.
#[test]
fn a_fine_tune_on_part_of_the_examples_forks_a_source_it_names_by_fingerprint() {
    let _guard = rng_lock();
    let ids = ids();
    let data = examples();
    let part = &data[data.len() / 2..];
    let model_config = TigerConfig::preset(TigerPreset::Tiny, layout().vocab_size()).with_dropout(0.0);
    let run = |cfg: &TrainConfig, train_on: &[TrainExample], dir: &PathBuf| {
        train::<TrainBackend>(&model_config, cfg, &ids, train_on, &data, dir, &device(), &mut |_| ControlFlow::Continue(()))
    };
    let source_dir = run_dir("tune-source");
    let source = run(&config(1), &data, &source_dir).unwrap();
    let fork = |inputs: Option<u64>| config(1).with_init_from(Some(source_dir.join("last").display().to_string())).with_init_from_inputs(inputs);
    let err = run(&fork(None), part, &run_dir("tune-plain")).unwrap_err();
    assert!(err.to_string().contains("other semantic IDs or training examples"), "{err}");
    let err = run(&fork(Some(inputs_fingerprint(&ids, part))), part, &run_dir("tune-wrong")).unwrap_err();
    assert!(err.to_string().contains("other semantic IDs or training examples"), "{err}");
    let tuned = run(&fork(Some(inputs_fingerprint(&ids, &data))), part, &run_dir("tune")).unwrap();
    assert_eq!(tuned.samples_seen, source.samples_seen + part.len() as u64, "the source's examples count");
    for name in ["tune-source", "tune-plain", "tune-wrong", "tune"] {
        let _ = std::fs::remove_dir_all(run_dir(name));
    }
}
