//! SpecGR++: the projection head against separate forward passes and hand
//! computations, the InfoNCE loss against a brute-force loop, and both training
//! stages on a tiny dataset.

use std::ops::ControlFlow;
use std::path::PathBuf;

use burn::backend::Autodiff;
use burn::tensor::{Tensor, TensorData};
use gr_model::projection::{mean_pool, to_flat, to_rows};
use gr_model::{
    ProjectionConfig, SpecGrPp, SpecGrPpData, SpecGrPpEvent, SpecGrPpInit, SpecGrPpTrainConfig,
    Tiger, TigerConfig, TigerPreset, TrainExample, evaluate_retrieval, retrieval_loss,
    train_specgr_pp, unique_targets,
};

use crate::common::{TestBackend, device, histories, ids, layout, max_diff, model, rng_lock};

type TrainBackend = Autodiff<TestBackend>;

fn spec(seed: u64) -> SpecGrPp<TestBackend> {
    let tiger = model(seed);
    let _guard = rng_lock();
    let head = ProjectionConfig::new(tiger.config.d_model)
        .with_proj_dim(8)
        .init(&device())
        .unwrap();
    SpecGrPp { tiger, head: crate::common::materialised(head) }
}

fn run_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gr-model-pp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn history_embedding_from_the_verifier_pass_equals_a_separate_pass() {
    let m = spec(1);
    let ids = ids();
    let h = histories();
    let refs: Vec<&[u32]> = h.iter().map(Vec::as_slice).collect();
    // The verifier's encoder output of the whole (padded) batch...
    let encoded = m.tiger.encode(&refs, &ids, &device()).unwrap();
    let from_verifier = m.query_vectors(&encoded).unwrap();
    for (q, history) in refs.iter().enumerate() {
        // ...against each history encoded alone (no padding at all).
        let alone = m
            .tiger
            .embed_histories(&m.head, &[history], &ids, &device())
            .unwrap();
        let alone = to_flat(alone).unwrap();
        assert!(max_diff(&from_verifier[q], &alone) < 1e-5, "query {q}");
        let norm: f32 = alone.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "query {q}: norm {norm}");
    }
    // Items: unit norm, and the same alone as in a batch of different items.
    let items = m
        .tiger
        .embed_items(&m.head, &[0, 7, 13], &ids, &device())
        .unwrap();
    let rows = to_rows(items).unwrap();
    let alone = to_flat(m.tiger.embed_items(&m.head, &[7], &ids, &device()).unwrap()).unwrap();
    assert!(max_diff(&rows[1], &alone) < 1e-5);
    for r in &rows {
        assert!((r.iter().map(|x| x * x).sum::<f32>().sqrt() - 1.0).abs() < 1e-5);
    }
}

#[test]
fn the_identity_head_embeds_the_normalised_mean_of_the_encoder_states() {
    let d = 2;
    let head = ProjectionConfig::new(d).with_proj_dim(d).init_identity::<TestBackend>(&device()).unwrap();
    let x = Tensor::<TestBackend, 3>::from_floats([[[1.0, 2.0], [5.0, 6.0], [100.0, -3.0]]], &device());
    // Mean of the two real positions (3, 4), divided by its norm 5.
    let got = to_flat(head.embed_states(x, &[2])).unwrap();
    assert!(max_diff(&got, &[0.6, 0.8]) < 1e-6, "{got:?}");
    // Only a square head can be the identity.
    assert!(ProjectionConfig::new(4).with_proj_dim(8).init_identity::<TestBackend>(&device()).is_err());
}

#[test]
fn mean_pool_ignores_padding() {
    // Row 0 has 2 real positions of 3, row 1 all 3 (hand-computed means).
    let x = Tensor::<TestBackend, 3>::from_floats(
        [
            [[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]],
            [[1.0, 1.0], [2.0, 2.0], [3.0, 6.0]],
        ],
        &device(),
    );
    let pooled = to_flat(mean_pool(x, &[2, 3])).unwrap();
    assert!(max_diff(&pooled, &[2.0, 3.0, 2.0, 3.0]) < 1e-6);
}

#[test]
fn info_nce_matches_a_brute_force_loop() {
    // Three queries, targets [5, 9, 5]: two distinct items, so labels [0, 1, 0].
    let (items, labels) = unique_targets(&[5, 9, 5]);
    assert_eq!((items, labels.clone()), (vec![5, 9], vec![0, 1, 0]));
    let q = [[0.6f32, 0.8], [1.0, 0.0], [0.0, 1.0]];
    let t = [[1.0f32, 0.0], [0.0, 1.0]];
    let tau = 0.07f64;
    let expected = hand_loss(&q, &t, &labels, &[0.0, 0.0], tau);
    let queries = Tensor::<TestBackend, 2>::from_floats(q, &device());
    let table = Tensor::<TestBackend, 2>::from_floats(t, &device());
    let labels = Tensor::from_data(TensorData::new(labels, [3]), &device());
    let got = to_flat(retrieval_loss(queries, table, labels, tau)).unwrap()[0];
    assert!(
        (f64::from(got) - expected).abs() < 1e-4,
        "{got} vs {expected}"
    );
}

/// The mean softmax cross-entropy of each query's label among the table's rows, by
/// dot product / `tau` plus each row's `bias`, in f64: the oracle of the retrieval losses.
fn hand_loss(q: &[[f32; 2]], t: &[[f32; 2]], labels: &[i64], bias: &[f64], tau: f64) -> f64 {
    let mut total = 0.0f64;
    for (qi, &label) in q.iter().zip(labels) {
        let logits: Vec<f64> = t
            .iter()
            .zip(bias)
            .map(|(tj, b)| f64::from(qi[0] * tj[0] + qi[1] * tj[1]) / tau + b)
            .collect();
        let log_sum = logits.iter().map(|l| l.exp()).sum::<f64>().ln();
        total += log_sum - logits[label as usize];
    }
    total / q.len() as f64
}

/// The logQ-corrected loss, computed by hand: each logit of column j less ln n_j;
/// `target_log_counts` counts each item's training targets.
#[test]
fn the_logq_corrected_loss_subtracts_each_columns_log_count() {
    let train: Vec<TrainExample> = [5u32, 9, 5, 5, 2]
        .iter()
        .map(|&t| TrainExample { history: vec![0], target: t })
        .collect();
    let log_q = gr_model::target_log_counts(&train);
    assert_eq!(log_q.len(), 10);
    assert!((log_q[5] - 3f32.ln()).abs() < 1e-6 && log_q[9] == 0.0 && log_q[2] == 0.0 && log_q[0] == 0.0);
    let q = [[0.6f32, 0.8], [1.0, 0.0], [0.0, 1.0]];
    let t = [[1.0f32, 0.0], [0.0, 1.0]];
    let labels = vec![0i64, 1, 0];
    let bias = [-3f64.ln(), -(2f64.ln())];
    let tau = 0.07f64;
    let expected = hand_loss(&q, &t, &labels, &bias, tau);
    let queries = Tensor::<TestBackend, 2>::from_floats(q, &device());
    let table = Tensor::<TestBackend, 2>::from_floats(t, &device());
    let labels = Tensor::from_data(TensorData::new(labels, [3]), &device());
    let bias = Tensor::<TestBackend, 1>::from_floats([bias[0] as f32, bias[1] as f32], &device());
    let got = to_flat(gr_model::retrieval_loss_with_bias(queries, table, labels, tau, Some(bias))).unwrap()[0];
    assert!((f64::from(got) - expected).abs() < 1e-4, "{got} vs {expected}");
}

/// 14 examples whose histories determine their targets (all targets distinct).
fn examples() -> Vec<TrainExample> {
    (0..14u32)
        .map(|i| TrainExample {
            history: vec![i, (i + 3) % 14],
            target: (i * 5 + 1) % 14,
        })
        .collect()
}

fn stage1(epochs: usize) -> SpecGrPpTrainConfig {
    SpecGrPpTrainConfig::stage1()
        .with_lr(1e-2)
        .with_weight_decay(0.0)
        .with_emb_batch_size(14)
        .with_gen_batch_size(7)
        .with_max_epochs(epochs)
        .with_eval_every(10)
        .with_patience(100)
        .with_eval_k(2)
        .with_seed(5)
}

#[test]
fn stage_one_lowers_the_contrastive_loss_and_raises_recall_then_stage_two_resumes() {
    let _guard = rng_lock();
    let ids = ids();
    let data = examples();
    let in_sample: Vec<u32> = (0..14).collect();
    let model_config = TigerConfig::preset(TigerPreset::Tiny, layout().vocab_size());
    let head = ProjectionConfig::new(model_config.d_model).with_proj_dim(8);
    let d = SpecGrPpData {
        ids: &ids,
        train: &data,
        valid: &data,
        in_sample: &in_sample,
    };
    let dir = run_dir("stage1");
    let init = SpecGrPpInit {
        model: &model_config,
        head: &head,
        from: None,
    };
    let mut first: Option<f32> = None;
    let state = train_specgr_pp::<TrainBackend>(init, &stage1(60), d, &dir, &device(), &mut |e| {
        if let SpecGrPpEvent::Step {
            emb_loss, gen_loss, ..
        } = e
        {
            assert!(emb_loss.is_finite() && gen_loss.is_finite() && *gen_loss > 0.0);
            first.get_or_insert(*emb_loss);
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    let (first, last) = (first.unwrap(), state.epoch_losses.last().unwrap().0 as f32);
    // ln(14) = 2.64 for uniform logits; training must get well below the start.
    assert!(last < 0.5 * first, "contrastive loss {first} -> {last}");
    let recalls: Vec<f64> = state.validations.iter().map(|(_, m)| m.recall).collect();
    let best = SpecGrPp::<TestBackend>::load(&dir.join("best"), &device()).unwrap();
    let items = gr_model::ItemEmbeddings::load(&dir.join("best")).unwrap();
    let after = evaluate_retrieval(&best, &items, &ids, &data, &[2], 16, &device()).unwrap()[0];
    // The untrained model with the same seed: recall@2 of 14 items is near chance.
    <TestBackend as burn::tensor::backend::Backend>::seed(&device(), 5);
    let fresh = SpecGrPp::<TestBackend> {
        tiger: model_config.init(&device()).unwrap(),
        head: head.init(&device()).unwrap(),
    };
    let fresh_items = fresh.embed_all_items(&ids, 16, &device()).unwrap();
    let before =
        evaluate_retrieval(&fresh, &fresh_items, &ids, &data, &[2], 16, &device()).unwrap()[0];
    assert!(
        after.recall >= 0.85 && after.recall > before.recall + 0.4,
        "recall {before:?} -> {after:?} ({recalls:?})"
    );
    // The checkpoint is also a plain TIGER checkpoint.
    assert!(Tiger::<TestBackend>::load(&dir.join("best"), &device()).is_ok());

    // Stage 2 from stage 1's best: frozen vectors are written, and an interrupted
    // run resumes to the numbers of an uninterrupted one.
    let stage2 = SpecGrPpTrainConfig::stage2()
        .with_lr(1e-3)
        .with_emb_batch_size(7)
        .with_gen_batch_size(7)
        .with_max_epochs(4)
        .with_eval_k(2)
        .with_seed(5);
    let from = dir.join("best");
    let init2 = SpecGrPpInit {
        model: &model_config,
        head: &head,
        from: Some(&from),
    };
    let whole = run_dir("stage2-whole");
    let a = train_specgr_pp::<TrainBackend>(init2, &stage2, d, &whole, &device(), &mut |_| {
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(a.epochs_done, 4);
    assert!(whole.join("frozen").join("item_embeddings.f32").exists());
    let frozen = gr_model::ItemEmbeddings::load(&whole.join("frozen")).unwrap();
    // Stage 2's vectors are stage 1's, frozen.
    assert!(max_diff(&frozen.rows, &items.rows) < 1e-5);
    let split = run_dir("stage2-split");
    let mut checkpoints = 0;
    train_specgr_pp::<TrainBackend>(init2, &stage2, d, &split, &device(), &mut |e| {
        checkpoints += usize::from(matches!(e, SpecGrPpEvent::Checkpoint { .. }));
        if checkpoints == 2 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap();
    let b = train_specgr_pp::<TrainBackend>(init2, &stage2, d, &split, &device(), &mut |_| {
        ControlFlow::Continue(())
    })
    .unwrap();
    // Equal up to summation order (the backend's reductions may differ in the last bit).
    assert_eq!(a.epoch_losses.len(), b.epoch_losses.len());
    for (x, y) in a.epoch_losses.iter().zip(&b.epoch_losses) {
        assert!(
            (x.0 - y.0).abs() < 1e-6 && (x.1 - y.1).abs() < 1e-6,
            "{x:?} vs {y:?}"
        );
    }
    let recalls = |s: &gr_model::SpecGrPpState| {
        s.validations
            .iter()
            .map(|(e, m)| (*e, m.recall))
            .collect::<Vec<_>>()
    };
    assert_eq!(recalls(&a), recalls(&b));
    // Stopped within an epoch (a step's `Break`, as `--max-minutes` stops it): the
    // step is checkpointed and the run resumes after it. Two steps an epoch: the third
    // is the first of epoch 1. Before: the partial epoch was lost and redone.
    let mid = run_dir("stage2-mid");
    let (mut steps, mut partial) = (0, None);
    let stopped = train_specgr_pp::<TrainBackend>(init2, &stage2, d, &mid, &device(), &mut |e| {
        match e {
            SpecGrPpEvent::Step { .. } => steps += 1,
            SpecGrPpEvent::PartialCheckpoint { epoch, batches } => partial = Some((*epoch, *batches)),
            _ => {}
        }
        if steps == 3 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    })
    .unwrap();
    assert_eq!((stopped.epochs_done, stopped.batches_done, partial), (1, 1, Some((1, 1))));
    let mut resumed_steps = 0;
    let c = train_specgr_pp::<TrainBackend>(init2, &stage2, d, &mid, &device(), &mut |e| {
        resumed_steps += usize::from(matches!(e, SpecGrPpEvent::Step { .. }));
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!((c.steps_done, resumed_steps), (a.steps_done, a.steps_done - 3));
    for (x, y) in a.epoch_losses.iter().zip(&c.epoch_losses) {
        assert!((x.0 - y.0).abs() < 1e-6 && (x.1 - y.1).abs() < 1e-6, "{x:?} vs {y:?}");
    }
    assert_eq!(recalls(&a), recalls(&c));
    for p in [dir, whole, split, mid] {
        let _ = std::fs::remove_dir_all(p);
    }
}

#[test]
fn checkpoints_round_trip_and_plain_tiger_checkpoints_get_a_fresh_head() {
    let m = spec(2);
    // A fresh head below is drawn lazily, from the process-wide generator.
    let _guard = rng_lock();
    let ids = ids();
    let dir = run_dir("checkpoint");
    // Burn initialises parameters lazily, and each clone of a never-used parameter
    // draws its own values: use the model once so that what is saved is what it holds.
    let encoded = crate::common::encode(&m.tiger, &ids);
    let a = m.query_vectors(&encoded).unwrap().concat();
    // A plain TIGER checkpoint has no head: a fresh one is added, TIGER is kept.
    m.tiger.save(&dir).unwrap();
    assert!(!SpecGrPp::<TestBackend>::has_head(&dir));
    let head = ProjectionConfig::new(m.tiger.config.d_model).with_proj_dim(8);
    let from_tiger = SpecGrPp::<TestBackend>::load_or_new_head(&dir, &head, &device()).unwrap();
    let again = crate::common::encode(&from_tiger.tiger, &ids);
    let diff = max_diff(
        &to_flat(encoded.hidden.clone()).unwrap(),
        &to_flat(again.hidden).unwrap(),
    );
    assert!(diff < 1e-6, "{diff}");
    // A SpecGR++ checkpoint gives the same vectors after a round trip.
    m.save(&dir).unwrap();
    let loaded = SpecGrPp::<TestBackend>::load(&dir, &device()).unwrap();
    let b = loaded.query_vectors(&encoded).unwrap().concat();
    assert!(max_diff(&a, &b) < 1e-6);
    let items = m.embed_all_items(&ids, 5, &device()).unwrap();
    items.save(&dir).unwrap();
    assert_eq!(gr_model::ItemEmbeddings::load(&dir).unwrap(), items);
    let _ = std::fs::remove_dir_all(dir);
}
