//! Property tests of the checkpoint and config readers (#20): a saved model whose
//! `config.json` or `model.mpk` has random edits loads or fails with an error, never a
//! panic; so does resuming a training whose optimizer state (`last/optim-*.mpk`) has
//! random edits. `SPECGR_FUZZ_SECS=<s>` runs each for that long (see
//! `recdata/tests/fuzz_harness.rs`).

use gr_model::checkpoint::read_config;
use gr_model::{Tiger, TigerConfig};

use crate::common::{TestBackend, device, model, rng_lock};
use crate::fuzz_harness::{edits, fuzz, mutate};

/// Whether every size in `c` is at most a few times the tiny model's. `read_config`
/// refuses absurd sizes before anything is allocated, but sizes within its limits can
/// still make a model of gigabytes: only small ones are built, to keep cases fast.
fn small(c: &TigerConfig, tiny: &TigerConfig) -> bool {
    let within = |a: usize, b: usize| a <= 4 * b.max(1);
    within(c.vocab_size, tiny.vocab_size)
        && within(c.d_model, tiny.d_model)
        && within(c.d_ff, tiny.d_ff)
        && within(c.d_kv, tiny.d_kv)
        && within(c.num_heads, tiny.num_heads)
        && within(c.num_encoder_layers, tiny.num_encoder_layers)
        && within(c.num_decoder_layers, tiny.num_decoder_layers)
        && within(c.num_buckets, tiny.num_buckets)
        && within(c.max_distance, tiny.max_distance)
        && within(c.max_history, tiny.max_history)
}

#[test]
fn checkpoint_and_config_readers_never_panic() {
    let saved = tempfile::tempdir().unwrap();
    let tiny = model(5);
    // Every load initialises a model from the backend's global generator: hold the lock
    // that seeded tests hold, or their draws interleave with these.
    let _guard = rng_lock();
    tiny.save(saved.path()).unwrap();
    let config = std::fs::read(saved.path().join("config.json")).unwrap();
    let weights = std::fs::read(saved.path().join("model.mpk")).unwrap();
    let tiny_config = read_config(saved.path()).unwrap();

    fuzz("tiger config.json", edits(), |e| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), mutate(&config, &e)).unwrap();
        std::fs::write(dir.path().join("model.mpk"), &weights).unwrap();
        if let Ok(c) = read_config(dir.path())
            && small(&c, &tiny_config)
        {
            let _ = Tiger::<TestBackend>::load(dir.path(), &device());
        }
    });
    // Edits of the weights: the small edits of the harness hit the msgpack framing and
    // tensor headers; most land in the float data, which loads.
    fuzz("tiger model.mpk", edits(), |e| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), &config).unwrap();
        std::fs::write(dir.path().join("model.mpk"), mutate(&weights, &e)).unwrap();
        let _ = Tiger::<TestBackend>::load(dir.path(), &device());
    });
}

#[test]
fn optimizer_state_reader_never_panics() {
    use burn::backend::Autodiff;
    use gr_model::{TigerPreset, TrainConfig, TrainEvent, TrainExample};
    use std::ops::ControlFlow;
    type B = Autodiff<TestBackend>;
    let ids = crate::common::ids();
    let config = TigerConfig::preset(TigerPreset::Tiny, crate::common::layout().vocab_size());
    let examples: Vec<TrainExample> =
        (0..14u32).map(|i| TrainExample { history: vec![i], target: (i + 1) % 14 }).collect();
    let train_config = TrainConfig::new().with_max_epochs(2).with_batch_size(7).with_seed(1);
    let _guard = rng_lock();
    // A run stopped at its first checkpoint, as a kill would leave it.
    let run = tempfile::tempdir().unwrap();
    let mut stop = |e: &TrainEvent| match e {
        TrainEvent::Checkpoint { .. } => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    };
    let _ = gr_model::train::<B>(&config, &train_config, &ids, &examples, &[], run.path(), &device(), &mut stop);
    let last = run.path().join("last");
    let files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&last)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap())
        })
        .collect();
    let optim = files.iter().position(|(n, _)| n.starts_with("optim-")).expect("an optimizer state");

    // Each case resumes a copy of the run with an edited optimizer state: an error, or a
    // finished second epoch.
    fuzz("tiger optim.mpk (resume)", edits(), |e| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("last")).unwrap();
        for (i, (name, bytes)) in files.iter().enumerate() {
            let bytes = if i == optim { mutate(bytes, &e) } else { bytes.clone() };
            std::fs::write(dir.path().join("last").join(name), bytes).unwrap();
        }
        let _ = gr_model::train::<B>(&config, &train_config, &ids, &examples, &[], dir.path(), &device(), &mut |_| {
            ControlFlow::Continue(())
        });
    });
}
