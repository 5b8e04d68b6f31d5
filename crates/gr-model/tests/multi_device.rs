//! Data-parallel training on several devices (`train_on_devices`, burn-collective's
//! all-reduce): two CPU devices (Flex has one device value; each is a peer of the
//! collective with its own replica, as in burn-collective's own tests) make the update
//! of two threaded shards bit for bit, of one device up to rounding, and resume.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use burn::backend::Autodiff;
use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use gr_model::{GradClip, Tiger, TigerConfig, TigerError, TigerPreset, TrainConfig, TrainEvent, TrainExample, train_on_devices};

use crate::common::{TestBackend, device, ids, layout, max_diff, rng_lock};

type TrainBackend = Autodiff<TestBackend>;

/// 13 examples: with batches of 6 the last batch of an epoch has one example, so the
/// second device has no shard of it.
fn examples() -> Vec<TrainExample> {
    (0..13u32)
        .map(|i| TrainExample { history: vec![i, (i + 3) % 14], target: (i * 5 + 1) % 14 })
        .collect()
}

fn run_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gr-model-multi-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn copy_dir(from: &Path, to: &Path) {
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

fn config(epochs: usize, shards: usize) -> TrainConfig {
    TrainConfig::new()
        .with_lr(1e-2)
        .with_weight_decay(0.0)
        .with_batch_size(6)
        .with_max_epochs(epochs)
        .with_warmup_steps(2)
        .with_eval_every(100)
        .with_seed(3)
        .with_shards(shards)
}

fn model_config(dropout: f64) -> TigerConfig {
    TigerConfig::preset(TigerPreset::Tiny, layout().vocab_size()).with_dropout(dropout)
}

/// Every parameter's values, in the model's visiting order.
fn weights(model: &Tiger<TestBackend>) -> Vec<Vec<f32>> {
    struct Collect(Vec<Vec<f32>>);
    impl<B: Backend> ModuleVisitor<B> for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            self.0.push(param.val().into_data().convert::<f32>().to_vec::<f32>().unwrap());
        }
    }
    let mut collect = Collect(Vec::new());
    model.visit(&mut collect);
    collect.0
}

/// What a run did: each step's loss, and its final model (`best/`: without validation
/// examples the latest model is the best).
struct Run {
    losses: Vec<f32>,
    weights: Vec<Vec<f32>>,
    epochs_done: usize,
    steps_done: usize,
}

/// Trains in `dir` on `devices` CPU devices (1: the one-device trainer), stopping after
/// `stop_after` steps when given.
fn run(dir: &Path, model: &TigerConfig, cfg: &TrainConfig, devices: usize, stop_after: Option<usize>) -> Run {
    let data = examples();
    let devices = vec![device(); devices];
    let mut losses = Vec::new();
    let state = train_on_devices::<TrainBackend>(model, cfg, &ids(), &data, &[], dir, &devices, &mut |e| {
        if let TrainEvent::Step { loss, .. } = e {
            losses.push(*loss);
            if stop_after == Some(losses.len()) {
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    let best = Tiger::<TestBackend>::load(&dir.join("best"), &device()).unwrap();
    Run { losses, weights: weights(&best), epochs_done: state.epochs_done, steps_done: state.steps_done }
}

/// Two devices against two threaded shards on one, from the same checkpoint (with
/// dropout: each peer draws the masks its shard draws): the same numbers, bit for bit,
/// through an epoch whose last batch leaves the second device without a shard.
#[test]
fn two_cpu_devices_make_the_update_of_two_threaded_shards() {
    let _guard = rng_lock();
    let model = model_config(0.1);
    let start = run_dir("start");
    // One epoch on one device, then the same run continued two ways.
    let first = run(&start, &model, &config(3, 2), 1, Some(3));
    assert_eq!((first.epochs_done, first.steps_done), (1, 3));
    let (threads, devices) = (run_dir("threads"), run_dir("devices"));
    copy_dir(&start, &threads);
    copy_dir(&start, &devices);
    let on_threads = run(&threads, &model, &config(3, 2), 1, None);
    let on_devices = run(&devices, &model, &config(3, 2), 2, None);
    assert_eq!(on_devices.steps_done, 9);
    assert_eq!(on_devices.losses.len(), 6);
    assert_eq!(on_devices.losses, on_threads.losses);
    assert!(on_devices.weights == on_threads.weights, "the two-device model differs from the two-shard one");
    for dir in [start, threads, devices] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// From scratch without dropout: two devices against the whole batch on one device, up
/// to rounding. The replicas are forked after the first forward pass drew the lazily
/// initialised weights, so both runs start from the same model.
#[test]
fn two_cpu_devices_match_one_device_up_to_rounding() {
    let _guard = rng_lock();
    let model = model_config(0.0);
    let (one, two) = (run_dir("one"), run_dir("two"));
    let on_one = run(&one, &model, &config(2, 1), 1, None);
    let on_two = run(&two, &model, &config(2, 2), 2, None);
    assert_eq!(on_two.losses.len(), 6);
    let loss_diff = max_diff(&on_one.losses, &on_two.losses);
    assert!(loss_diff < 1e-5, "losses {:?} vs {:?}", on_one.losses, on_two.losses);
    for (a, b) in on_one.weights.iter().zip(&on_two.weights) {
        let diff = max_diff(a, b);
        assert!(diff < 1e-4, "a parameter differs by {diff}");
    }
    let _ = std::fs::remove_dir_all(one);
    let _ = std::fs::remove_dir_all(two);
}

/// A two-device run stopped within an epoch resumes to the numbers of an uninterrupted
/// one, on two devices or on one with two threaded shards (checkpoints hold no device),
/// with the global-norm clipping each peer applies to the summed gradients.
#[test]
fn a_two_device_run_resumes_to_the_numbers_of_an_uninterrupted_one() {
    let _guard = rng_lock();
    let model = model_config(0.1);
    let cfg = config(3, 2).with_grad_clip(GradClip::Global).with_grad_clip_norm(0.5);
    let whole = run(&run_dir("whole"), &model, &cfg, 2, None);
    let stopped = run_dir("stopped");
    // Step 4 is the first batch of the second epoch: a checkpoint within the epoch.
    let first = run(&stopped, &model, &cfg, 2, Some(4));
    assert_eq!(first.steps_done, 4);
    let on_one = run_dir("stopped-on-one");
    copy_dir(&stopped, &on_one);
    let resumed = run(&stopped, &model, &cfg, 2, None);
    let resumed_on_one = run(&on_one, &model, &cfg, 1, None);
    let joined: Vec<f32> = first.losses.iter().chain(&resumed.losses).copied().collect();
    assert_eq!(joined, whole.losses);
    assert!(resumed.weights == whole.weights, "the resumed two-device model differs");
    assert_eq!(resumed_on_one.losses, resumed.losses);
    assert!(resumed_on_one.weights == whole.weights, "resumed on one device, the model differs");
    for dir in [run_dir("whole"), stopped, on_one] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn device_and_shard_counts_must_agree() {
    let _guard = rng_lock();
    let dir = run_dir("refused");
    let data = examples();
    let train = |cfg: &TrainConfig, devices: &[burn::tensor::Device<TrainBackend>]| {
        train_on_devices::<TrainBackend>(&model_config(0.0), cfg, &ids(), &data, &[], &dir, devices, &mut |_| {
            ControlFlow::Continue(())
        })
    };
    let err = train(&config(1, 3), &[device(), device()]).unwrap_err();
    assert!(matches!(err, TigerError::InvalidConfig(_)) && err.to_string().contains("shards must be 2"), "{err}");
    let err = train(&config(1, 1), &[]).unwrap_err();
    assert!(err.to_string().contains("no device"), "{err}");
    assert!(!dir.exists(), "a refused run writes nothing");
}
