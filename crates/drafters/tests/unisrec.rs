//! UniSRec on a tiny synthetic task: items form clusters in text space and a
//! user's next item comes from the cluster of their history. Training must lower
//! the loss and beat random ranking; new items must be draftable at once.

use std::ops::ControlFlow;

use burn::backend::{Autodiff, Flex};
use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use drafters::unisrec::{EvalMetrics, UniSRecData, UniSRecState, evaluate, load_checkpoint, training_finished};
use drafters::{DraftFilter, Drafter, DrafterError, EmbeddingTable, KnnConfig, Query, UniSRec, UniSRecConfig, UniSRecTrainConfig, train_unisrec};
use recdata::{Example, ItemId};

use crate::{TestRng, ids, rng_lock};

type TrainBackend = Autodiff<Flex>;

const D_TEXT: usize = 16;
const CLUSTERS: usize = 6;
const PER_CLUSTER: usize = 10;
const N: usize = CLUSTERS * PER_CLUSTER;

struct Task {
    text: Vec<f32>,
    centers: Vec<f32>,
    train: Vec<Example>,
    valid: Vec<Example>,
}

/// Item `i` belongs to cluster `i % CLUSTERS`; its text is the cluster centre plus noise.
fn task() -> Task {
    let mut rng = TestRng::new(31);
    let centers = rng.unit_rows(CLUSTERS, D_TEXT);
    let text: Vec<f32> = (0..N).flat_map(|i| {
        let c = i % CLUSTERS;
        centers[c * D_TEXT..(c + 1) * D_TEXT].iter().map(|x| x + 0.1 * (i as f32 * 0.37 + x * 11.0).sin()).collect::<Vec<_>>()
    }).collect();
    let example = |rng: &mut TestRng| {
        let c = rng.below(CLUSTERS);
        let len = 2 + rng.below(4);
        let history = (0..len).map(|_| ItemId((c + CLUSTERS * rng.below(PER_CLUSTER)) as u32)).collect();
        Example { user: 0, history, target: ItemId((c + CLUSTERS * rng.below(PER_CLUSTER)) as u32), timestamp_ms: 0 }
    };
    let train = (0..600).map(|_| example(&mut rng)).collect();
    let valid = (0..120).map(|_| example(&mut rng)).collect();
    Task { text, centers, train, valid }
}

fn tiny_config() -> UniSRecConfig {
    UniSRecConfig::new(D_TEXT)
        .with_d_model(16)
        .with_d_inner(32)
        .with_n_layers(1)
        .with_n_experts(2)
        .with_adaptor_dropout(0.1)
        .with_hidden_dropout(0.1)
        .with_max_history(8)
}

/// The training seed. Seeds 1-6 all passed at these settings (validation
/// Recall@10 0.64-0.91); at lr 3e-3 some seeds fell to ~0.5.
const SEED: u64 = 1;

#[test]
fn training_lowers_the_loss_beats_random_and_drafts_new_items() {
    let _guard = rng_lock();
    let t = task();
    let table = EmbeddingTable::from_rows(D_TEXT, &t.text).unwrap();
    let in_sample = ids(0..N as u32);
    let data = UniSRecData { text: &table, in_sample: &in_sample, train: &t.train, valid: &t.valid };
    let train = UniSRecTrainConfig::new().with_batch_size(64).with_learning_rate(1e-2).with_max_epochs(8).with_patience(8).with_seed(SEED);
    let dir = std::env::temp_dir().join(format!("drafters-unisrec-test-{}", std::process::id()));
    let mut steps = 0;
    let device = Default::default();
    let (model, report) =
        train_unisrec::<TrainBackend>(&tiny_config(), &train, data, &device, Some(&dir), &mut |_| {
            steps += 1;
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(steps, 8 * 10 + 8, "10 steps per epoch plus one validation report per epoch");
    let (first, last) = (report.epoch_losses[0], *report.epoch_losses.last().unwrap());
    assert!(last < first - 0.3, "loss {first} -> {last}");
    // Random ranking of 60 items puts the target in the top 10 with probability 1/6;
    // a model that learned the clusters ranks the target's 10-item cluster first.
    assert!(report.best_valid.recall_10 > 0.5, "{:?}", report.best_valid);
    assert!(report.samples_per_sec > 0.0);

    let mut drafter = UniSRec::<Flex>::new(tiny_config(), model, KnnConfig::new(0), &device, &in_sample, &t.text).unwrap();
    let ranks = evaluate(&drafter, &t.valid).unwrap();
    let metrics = EvalMetrics::from_ranks(&ranks);
    assert!((metrics.recall_10 - report.best_valid.recall_10).abs() < 1e-9, "evaluation is deterministic");

    // A new item at cluster 0's centre, added without retraining, is drafted for
    // cluster-0 histories.
    drafter.add_items(&[ItemId(N as u32)], &t.centers[..D_TEXT]).unwrap();
    let history = [ItemId(0), ItemId(6), ItemId(12)];
    let out = drafter.draft(&[Query::new(&history)], &[DraftFilter::all()], 11).unwrap().remove(0);
    assert!(out.iter().any(|n| n.item == ItemId(N as u32)), "{out:?}");

    // The checkpoint holds the best model: same query vectors.
    let (config, loaded) = load_checkpoint::<Flex>(&dir, &device).unwrap();
    let reloaded = UniSRec::<Flex>::new(config, loaded, KnnConfig::new(0), &device, &in_sample, &t.text).unwrap();
    let (a, b) = (drafter.embed_queries(&[Query::new(&history)]).unwrap(), reloaded.embed_queries(&[Query::new(&history)]).unwrap());
    assert!(a[0].iter().zip(&b[0]).all(|(x, y)| (x - y).abs() < 1e-5));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_checkpoint_of_other_shapes_than_its_config_is_refused() {
    let _guard = rng_lock();
    let dir = tempfile::tempdir().unwrap();
    let device = Default::default();
    let model = tiny_config().init::<Flex>(&device);
    drafters::unisrec::save_checkpoint(dir.path(), &tiny_config(), &model).unwrap();
    assert!(load_checkpoint::<Flex>(dir.path(), &device).is_ok());
    // The config of a wider model beside these weights. Before: loaded, and the first
    // forward pass panicked inside the backend.
    let wider = tiny_config().with_d_model(32);
    let json = serde_json::to_string(&wider).unwrap();
    std::fs::write(dir.path().join(drafters::unisrec::CONFIG_FILE), json).unwrap();
    let err = load_checkpoint::<Flex>(dir.path(), &device).unwrap_err().to_string();
    assert!(err.contains("unisrec.mpk: its tensors do not fit the model that") && err.contains("unisrec-config.json"), "{err}");
    assert!(err.contains("is [") && err.contains("in the file"), "{err}");
}

/// A `unisrec-config.json` of absurd or zero sizes is refused before anything is
/// allocated, naming the file and the field (#20 §3). Before: an out-of-memory abort
/// (d_model 10^9), or a panic inside Burn (n_heads 0).
#[test]
fn a_config_of_absurd_sizes_is_refused_before_allocating() {
    let _guard = rng_lock();
    let dir = tempfile::tempdir().unwrap();
    let device = Default::default();
    let model = tiny_config().init::<Flex>(&device);
    drafters::unisrec::save_checkpoint(dir.path(), &tiny_config(), &model).unwrap();
    let path = dir.path().join(drafters::unisrec::CONFIG_FILE);
    let good: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for (field, value, expected) in [
        ("d_model", 1_000_000_000u64, "field `d_model`: 1000000000 is beyond the largest this program builds (65536)"),
        ("n_layers", 1_000_000, "field `n_layers`: 1000000 is beyond"),
        ("n_heads", 0, "field `n_heads`: must be positive"),
        ("d_text", 0, "field `d_text`: must be positive"),
        ("d_model", 65_536, "more than the 1000000000 this program builds"),
    ] {
        let mut config = good.clone();
        config[field] = value.into();
        std::fs::write(&path, config.to_string()).unwrap();
        let err = load_checkpoint::<Flex>(dir.path(), &device).unwrap_err().to_string();
        assert!(err.starts_with(&path.display().to_string()) && err.contains(expected), "{field} {value}: {err}");
    }
}

#[test]
fn training_refuses_unusable_data() {
    let _guard = rng_lock();
    let t = task();
    let table = EmbeddingTable::from_rows(D_TEXT, &t.text).unwrap();
    let in_sample = ids(0..N as u32);
    let device = Default::default();
    let train = UniSRecTrainConfig::new().with_max_epochs(1);
    let data = UniSRecData { text: &table, in_sample: &in_sample, train: &[], valid: &[] };
    let err = train_unisrec::<TrainBackend>(&tiny_config(), &train, data, &device, None, &mut |_| ControlFlow::Continue(())).unwrap_err();
    assert!(matches!(err, DrafterError::Data(_)), "{err}");
    let data = UniSRecData { text: &table, in_sample: &in_sample, train: &t.train, valid: &[] };
    let err = train_unisrec::<TrainBackend>(&UniSRecConfig::new(D_TEXT + 1), &train, data, &device, None, &mut |_| ControlFlow::Continue(())).unwrap_err();
    assert!(matches!(err, DrafterError::Dimension { .. }), "{err}");
}





/// The reference initialises every linear and embedding weight from N(0, 0.02²)
/// (`initializer_range`). Burn's N(0, 1) embedding default made position vectors
/// ~50× longer than the adapted item vectors, so the model barely saw the items
/// (Beauty validation Recall@50 0.016 after an epoch, against 0.61 on the
/// synthetic data once fixed). Checked on a model of the default size.
#[test]
fn weights_start_at_the_reference_scale() {
    let _guard = rng_lock();
    let model = UniSRecConfig::new(384).init::<Flex>(&Default::default());
    let std = |t: burn::tensor::Tensor<Flex, 2>| {
        let v: Vec<f32> = t.into_data().to_vec().unwrap();
        let mean = v.iter().sum::<f32>() / v.len() as f32;
        (v.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / v.len() as f32).sqrt()
    };
    let close = |s: f32, what: &str| assert!((s - 0.02).abs() < 0.002, "{what}: std {s}");
    close(std(model.position.weight.val()), "position embeddings");
    close(std(model.adaptor.experts.val()), "adaptor experts");
    for layer in &model.layers {
        close(std(layer.query.weight.val()), "query");
        close(std(layer.ffn_inner.weight.val()), "ffn inner");
        close(std(layer.ffn_outer.weight.val()), "ffn outer");
    }
}

/// Every float parameter of a model, in visiting order.
fn weights<B: Backend, M: Module<B>>(model: &M) -> Vec<f32> {
    struct Collect(Vec<f32>);
    impl<B: Backend> ModuleVisitor<B> for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            self.0.extend(param.val().into_data().iter::<f32>());
        }
    }
    let mut out = Collect(Vec::new());
    model.visit(&mut out);
    out.0
}

/// A run stopped within an epoch (a step's `Break`, as `--max-minutes` stops it) and
/// again at an epoch's end resumes each time where it stopped, and ends with the
/// weights, losses and best epoch of an uninterrupted run (issue #21 §3). Before: no
/// resumption at all; a killed run started over.
#[test]
fn a_stopped_run_resumes_to_the_weights_of_an_uninterrupted_one() {
    let _guard = rng_lock();
    let t = task();
    let table = EmbeddingTable::from_rows(D_TEXT, &t.text).unwrap();
    let in_sample = ids(0..N as u32);
    let data = UniSRecData { text: &table, in_sample: &in_sample, train: &t.train, valid: &t.valid };
    let train = UniSRecTrainConfig::new().with_batch_size(64).with_learning_rate(1e-2).with_max_epochs(4).with_patience(8).with_seed(SEED);
    let device = Default::default();
    let go = |_: &drafters::unisrec::TrainProgress| ControlFlow::Continue(());
    let whole_dir = tempfile::tempdir().unwrap();
    let (whole, whole_report) =
        train_unisrec::<TrainBackend>(&tiny_config(), &train, data, &device, Some(whole_dir.path()), &mut { go }).unwrap();
    assert!(!whole_report.stopped);

    let dir = tempfile::tempdir().unwrap();
    let state = || -> UniSRecState {
        serde_json::from_slice(&std::fs::read(dir.path().join("last").join("state.json")).unwrap()).unwrap()
    };
    let finished = |train: &UniSRecTrainConfig| training_finished(&tiny_config(), train, data, dir.path()).unwrap();
    assert!(!finished(&train), "a fresh directory");
    // 10 steps an epoch: stop after the 15th, in the middle of epoch 2.
    let mut steps = 0;
    let (_, report) = train_unisrec::<TrainBackend>(&tiny_config(), &train, data, &device, Some(dir.path()), &mut |p| {
        steps += usize::from(p.valid.is_none());
        if steps == 15 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    })
    .unwrap();
    assert!(report.stopped);
    assert_eq!((state().epochs_done, state().batches_done), (1, 5));
    assert!(!finished(&train), "a stopped run");
    // Settings other than the unfinished run's are refused, naming the difference.
    let other = UniSRecTrainConfig { max_epochs: 5, ..train.clone() };
    let err = train_unisrec::<TrainBackend>(&tiny_config(), &other, data, &device, Some(dir.path()), &mut { go }).unwrap_err();
    assert!(err.to_string().contains("max_epochs: 4 in the run, 5 now"), "{err}");
    // Resume, and stop again at epoch 3's validation: its end is checkpointed.
    let (_, report) = train_unisrec::<TrainBackend>(&tiny_config(), &train, data, &device, Some(dir.path()), &mut |p| {
        if p.valid.is_some() && p.epoch == 3 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    })
    .unwrap();
    assert!(report.stopped);
    assert_eq!((report.epochs, state().epochs_done, state().batches_done), (3, 3, 0));
    let (resumed, report) =
        train_unisrec::<TrainBackend>(&tiny_config(), &train, data, &device, Some(dir.path()), &mut { go }).unwrap();
    assert!(!report.stopped);
    // Every validation of the run is in its state (the learning curve), resumptions
    // included: one after each epoch, at the examples seen by then.
    let curve: Vec<(usize, u64)> = state().validations.iter().map(|v| (v.epoch, v.samples_seen)).collect();
    assert_eq!(curve, [(1, 600), (2, 1200), (3, 1800), (4, 2400)]);
    let best = state().validations[report.best_epoch - 1].metrics;
    assert!((best.ndcg_10 - report.best_valid.ndcg_10).abs() < 1e-12, "{best:?} vs {:?}", report.best_valid);
    // Numbers that went through `state.json` may come back one unit in the last place
    // off (serde_json parses floats without its `float_roundtrip` feature); the
    // weights, which the model files carry, must be equal.
    let close = |a: &[f64], b: &[f64]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12);
    assert!(close(&report.epoch_losses, &whole_report.epoch_losses), "{report:?} vs {whole_report:?}");
    let metrics = |m: EvalMetrics| [m.recall_10, m.ndcg_10, m.recall_50, m.ndcg_50];
    assert_eq!(report.best_epoch, whole_report.best_epoch);
    assert!(close(&metrics(report.best_valid), &metrics(whole_report.best_valid)), "{report:?} vs {whole_report:?}");
    assert_eq!(weights(&resumed), weights(&whole), "the best model");
    let (_, saved) = load_checkpoint::<Flex>(dir.path(), &device).unwrap();
    assert_eq!(weights(&saved), weights(&whole), "the saved best model");
    // A finished run is not trained again: the same call returns its result, and the
    // callers that mark a directory while training runs can tell beforehand.
    assert!(finished(&train));
    // Other settings (more epochs, another seed) train anew in its place.
    assert!(!finished(&UniSRecTrainConfig { max_epochs: 5, ..train.clone() }), "more epochs");
    assert!(!finished(&UniSRecTrainConfig { seed: SEED + 1, ..train.clone() }), "another seed");
    // The checkpoint cadence is not a setting of the run.
    assert!(finished(&UniSRecTrainConfig { checkpoint_minutes: 3.0, ..train.clone() }));
    let (again, report) =
        train_unisrec::<TrainBackend>(&tiny_config(), &train, data, &device, Some(dir.path()), &mut |_| panic!("no step"))
            .unwrap();
    assert_eq!((report.epochs, weights(&again)), (4, weights(&whole)));
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// `checkpoint_minutes`: a run killed in the middle of an epoch (no checkpoint at the
/// kill) resumes from its last time-based checkpoint to the weights of a run that was
/// never checkpointed, with another cadence and from a state written before the field
/// existed; the checkpoints themselves change nothing.
#[test]
fn a_killed_run_resumes_from_its_last_time_based_checkpoint() {
    let _guard = rng_lock();
    let t = task();
    let table = EmbeddingTable::from_rows(D_TEXT, &t.text).unwrap();
    let in_sample = ids(0..N as u32);
    let data = UniSRecData { text: &table, in_sample: &in_sample, train: &t.train, valid: &t.valid };
    let train = UniSRecTrainConfig::new().with_batch_size(64).with_learning_rate(1e-2).with_max_epochs(3).with_patience(8).with_seed(SEED);
    let device = Default::default();
    let go = |_: &drafters::unisrec::TrainProgress| ControlFlow::Continue(());
    let (plain, plain_report) = train_unisrec::<TrainBackend>(&tiny_config(), &train, data, &device, None, &mut { go }).unwrap();

    // A checkpoint after (almost) every step; at the 15th step's report, the last one
    // written is that of step 14 (epoch 2, batch 4): copy the directory as a kill
    // there would leave it.
    let often = train.clone().with_checkpoint_minutes(1e-9);
    let dir = tempfile::tempdir().unwrap();
    let killed = tempfile::tempdir().unwrap();
    let mut steps = 0;
    let (checkpointed, report) = train_unisrec::<TrainBackend>(&tiny_config(), &often, data, &device, Some(dir.path()), &mut |p| {
        steps += usize::from(p.valid.is_none());
        if steps == 15 {
            copy_dir(dir.path(), killed.path());
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    assert!(!report.stopped);
    assert_eq!(weights(&checkpointed), weights(&plain), "checkpoints change the training");

    let state_path = killed.path().join("last").join("state.json");
    let mut state: serde_json::Value = serde_json::from_slice(&std::fs::read(&state_path).unwrap()).unwrap();
    assert_eq!((state["epochs_done"].as_u64(), state["batches_done"].as_u64()), (Some(1), Some(4)));
    // A run written before `checkpoint_minutes` existed reads as one checkpointed at
    // epoch ends only, and resumes with any cadence.
    state["train"].as_object_mut().unwrap().remove("checkpoint_minutes").unwrap();
    std::fs::write(&state_path, serde_json::to_vec(&state).unwrap()).unwrap();
    let (resumed, report) =
        train_unisrec::<TrainBackend>(&tiny_config(), &train.clone().with_checkpoint_minutes(5.0), data, &device, Some(killed.path()), &mut { go })
            .unwrap();
    assert!(!report.stopped);
    assert_eq!(report.best_epoch, plain_report.best_epoch);
    assert_eq!(weights(&resumed), weights(&plain), "the resumed run's best model");
}
