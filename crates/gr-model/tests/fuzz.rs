//! Property tests of the checkpoint and config readers (#20): a saved model whose
//! `config.json` or `model.mpk` has random edits loads or fails with an error, never a
//! panic. `SPECGR_FUZZ_SECS=<s>` runs each for that long (see
//! `recdata/tests/fuzz_harness.rs`).

use gr_model::checkpoint::read_config;
use gr_model::{Tiger, TigerConfig};

use crate::common::{TestBackend, device, model, rng_lock};
use crate::fuzz_harness::{edits, fuzz, mutate};

/// Whether every size in `c` is at most a few times the tiny model's, so that building
/// it cannot exhaust memory. A config of absurd sizes is not checked before the model
/// is allocated (an out-of-memory abort, not a panic): see docs/bad-inputs.md.
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
