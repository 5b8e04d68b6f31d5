//! Shared fixtures: a tiny catalog, its semantic IDs and a seeded tiny model.

use std::sync::{Mutex, MutexGuard};

use burn::backend::Flex;
use burn::tensor::backend::Backend;
use gr_model::{EncoderOutput, Tiger, TigerConfig, TigerPreset};
use semid::{PrefixTrie, SemanticIds, TokenLayout};

pub type TestBackend = Flex;

pub fn device() -> burn::tensor::Device<TestBackend> {
    Default::default()
}

/// Three levels of 4 codes, identification digit of 4 values: 19 tokens.
pub fn layout() -> TokenLayout {
    TokenLayout::new(3, 4).unwrap()
}

/// 14 items; several share code prefixes so the identification digit and shared
/// prefixes are exercised.
pub fn ids() -> SemanticIds {
    let codes: [[u32; 3]; 14] = [
        [0, 1, 2],
        [0, 1, 2],
        [0, 1, 3],
        [0, 2, 0],
        [1, 0, 0],
        [1, 0, 0],
        [1, 0, 0],
        [1, 3, 2],
        [2, 2, 2],
        [2, 2, 1],
        [3, 0, 1],
        [3, 1, 1],
        [3, 1, 1],
        [0, 1, 2],
    ];
    SemanticIds::from_codes(layout(), &codes.concat()).unwrap()
}

pub fn trie(ids: &SemanticIds) -> PrefixTrie {
    PrefixTrie::from_ids(ids)
}

/// The backend's random generator is global: tests that seed it and then draw from it
/// (initialisation, dropout) hold this lock so parallel tests cannot interleave draws.
/// Every draw in this binary happens under it (checked 2026-12-05 by logging the thread
/// of each `float_random` in a patched burn-flex beside this lock's acquisitions): a
/// model built under it must be [`materialised`] before the guard drops.
pub fn rng_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Draws every lazily initialised parameter of `module` now. Burn draws a parameter's
/// initial values from the global generator at its first use, not at `init`: a model
/// built under [`rng_lock`] and first used after it is released would draw between
/// another test's `seed()` and its draws (a resumed-run test then saw two runs start
/// from different weights).
pub fn materialised<B: burn::tensor::backend::Backend, M: burn::module::Module<B>>(module: M) -> M {
    struct Touch;
    impl<B: burn::tensor::backend::Backend> burn::module::ModuleVisitor<B> for Touch {
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<burn::tensor::Tensor<B, D>>) {
            let _ = param.val();
        }
    }
    module.visit(&mut Touch);
    module
}

/// A seeded tiny model (no dropout), its parameters drawn under [`rng_lock`].
pub fn model(seed: u64) -> Tiger<TestBackend> {
    let _guard = rng_lock();
    TestBackend::seed(&device(), seed);
    materialised(TigerConfig::preset(TigerPreset::Tiny, layout().vocab_size()).init(&device()).unwrap())
}

pub fn histories() -> Vec<Vec<u32>> {
    vec![
        vec![0, 3, 5],
        vec![7],
        vec![1, 2, 4, 8, 9, 10, 11],
        vec![13, 12],
    ]
}

pub fn encode(model: &Tiger<TestBackend>, ids: &SemanticIds) -> EncoderOutput<TestBackend> {
    let h = histories();
    let refs: Vec<&[u32]> = h.iter().map(Vec::as_slice).collect();
    model.encode(&refs, ids, &device()).unwrap()
}

/// Largest absolute difference between two equally long slices.
pub fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}
