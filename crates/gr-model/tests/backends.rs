//! The same model on every backend this machine has gives the same results as Flex:
//! NdArray always, WGPU where the Vulkan loader finds an adapter, CUDA with the
//! `test-cuda` feature where `nvidia-smi` lists a GPU, and LibTorch with the `test-tch`
//! feature.
//!
//! The `specgr` binary runs one generic code path on whichever backend `--device`
//! names, and a checkpoint trained on one backend is evaluated on another (a GPU for
//! training, the CPU for `specgr eval`). These tests check both halves: a model saved
//! on Flex and loaded on the other backend encodes, scores, beam-searches and
//! back-propagates to the same numbers.
//!
//! A backend that cannot run here is skipped, and the test says so on the terminal
//! (not captured by the test harness), e.g.
//! `skipped WGPU: no Vulkan adapter (...); scripts/install-test-deps.sh installs Mesa's lavapipe`.
//! `SPECGR_REQUIRE_BACKENDS=wgpu,cuda` turns such a skip into a failure (CI requires
//! WGPU: .ci/run). Backends behind a cargo feature are `ignored` without it, with the
//! reason in the test output:
//!
//! ```sh
//! cargo xtask libtorch --test                                            # LibTorch
//! cargo test -p gr-model --features test-cuda --test tests backends      # CUDA
//! ```

use std::path::PathBuf;
use std::sync::Mutex;

use burn::backend::Autodiff;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use burn_ndarray::{NdArray, NdArrayDevice};
use gr_model::{Beam, CandidateScores, Constraint, Tiger, TrainBatch, TrainExample};
use semid::SemanticIds;

use crate::common::{TestBackend, device, histories, ids, layout, max_diff, model, trie};
#[cfg(feature = "test-cuda")]
use crate::present::cuda_gpu;
use crate::present::wgpu_adapter;

/// Float results of two backends agree to this (f32 kernels that sum in a different
/// order; the tiny model's values are O(1)).
const TOLERANCE: f32 = 1e-4;

/// Writes a line to the terminal past the harness's capture (which only takes
/// `print!`/`eprint!`), once per distinct line.
fn note(line: String) {
    use std::io::Write;
    static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
    if !seen.contains(&line) {
        let _ = writeln!(std::io::stderr(), "{line}");
        seen.push(line);
    }
}

/// Whether the tests of `backend` (`WGPU`, `CUDA`) run: `presence` is the device they
/// run on, or why there is none. A skip is printed, and fails instead when
/// `SPECGR_REQUIRE_BACKENDS` (comma-separated, any case) names the backend.
fn runs(backend: &str, presence: &Result<String, String>) -> bool {
    match presence {
        Ok(device) => {
            note(format!("backends: {backend} on {device}"));
            true
        }
        Err(why) => {
            let required = std::env::var("SPECGR_REQUIRE_BACKENDS").unwrap_or_default();
            if required.split(',').any(|b| b.trim().eq_ignore_ascii_case(backend)) {
                panic!("{backend} is required (SPECGR_REQUIRE_BACKENDS={required}) but cannot run: {why}");
            }
            note(format!("skipped {backend}: {why}"));
            false
        }
    }
}


fn values<const D: usize, B: Backend>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().convert::<f32>().to_vec().unwrap()
}

/// Saves the seeded tiny Flex model and loads its weights on backends `A` and `B`.
fn both<A: Backend, B: Backend>(
    seed: u64,
    name: &str,
    a: &A::Device,
    b: &B::Device,
) -> (Tiger<A>, Tiger<B>) {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("gr-model-backends-{name}-{}", std::process::id()));
    model(seed).save(&dir).unwrap();
    let loaded = (
        Tiger::<A>::load(&dir, a).unwrap(),
        Tiger::<B>::load(&dir, b).unwrap(),
    );
    let _ = std::fs::remove_dir_all(&dir);
    loaded
}

fn encode<B: Backend>(
    model: &Tiger<B>,
    ids: &SemanticIds,
    device: &B::Device,
) -> gr_model::EncoderOutput<B> {
    let h = histories();
    let refs: Vec<&[u32]> = h.iter().map(Vec::as_slice).collect();
    model.encode(&refs, ids, device).unwrap()
}

/// Asserts that two beam lists hold the same code sequences in the same order, with
/// log-probabilities within `tolerance`.
fn check_beams(what: &str, a: &[Vec<Vec<Beam>>], b: &[Vec<Vec<Beam>>], tolerance: f32) {
    assert_eq!(a.len(), b.len(), "{what}: steps");
    for (step, (a, b)) in a.iter().zip(b).enumerate() {
        for (q, (a, b)) in a.iter().zip(b).enumerate() {
            let codes = |beams: &[Beam]| beams.iter().map(|x| x.codes.clone()).collect::<Vec<_>>();
            assert_eq!(codes(a), codes(b), "{what}: step {step} query {q}");
            for (x, y) in a.iter().zip(b) {
                assert!(
                    (x.log_prob - y.log_prob).abs() < tolerance,
                    "{what}: step {step} query {q} beam {:?}: {} vs {}",
                    x.codes,
                    x.log_prob,
                    y.log_prob
                );
            }
        }
    }
}

fn flat(scores: &CandidateScores) -> Vec<f32> {
    scores
        .log_probs
        .iter()
        .flatten()
        .flatten()
        .copied()
        .collect()
}

/// Flex and `O` agree on encoder states, candidate scores and beam search.
fn agree_on_encoder_scores_and_beam_search<O: Backend>(
    name: &str,
    other: &O::Device,
    tolerance: f32,
) {
    let ids = ids();
    let trie = trie(&ids);
    let layout = layout();
    for seed in [5, 6] {
        let (flex, nd) = both::<TestBackend, O>(
            seed,
            &format!("infer-{name}-{seed}"),
            &device(),
            other,
        );
        let (ef, en) = (
            encode(&flex, &ids, &device()),
            encode(&nd, &ids, other),
        );
        assert_eq!(ef.lengths, en.lengths);
        let d = max_diff(&values(ef.hidden.clone()), &values(en.hidden.clone()));
        assert!(d < tolerance, "seed {seed}: encoder states differ by {d}");

        // Every item for every query, plus partial codes.
        let all: Vec<Vec<u32>> = (0..ids.len() as u32)
            .map(|i| ids.codes(i).to_vec())
            .collect();
        let mut candidates = vec![all; ef.num_queries()];
        candidates[1].extend([vec![1, 3], vec![2]]);
        let (sf, sn) = (
            flex.score(&ef, &candidates, &layout).unwrap(),
            nd.score(&en, &candidates, &layout).unwrap(),
        );
        let d = max_diff(&flat(&sf), &flat(&sn));
        assert!(d < tolerance, "seed {seed}: score log-probs differ by {d}");

        for (name, constraint) in [
            ("trie", Constraint::Trie(&trie)),
            ("free", Constraint::None),
        ] {
            let bf = flex.beam_search(&ef, &layout, 6, 4, constraint).unwrap();
            let bn = nd.beam_search(&en, &layout, 6, 4, constraint).unwrap();
            check_beams(&format!("seed {seed} {name}"), &bf, &bn, tolerance);
        }
    }
}

/// Flex and `O` agree on the training loss and the gradient of the shared embedding.
fn agree_on_the_training_loss_and_its_gradient<O: Backend>(
    name: &str,
    other: &O::Device,
    tolerance: f32,
) {
    let ids = ids();
    let (flex, nd) =
        both::<Autodiff<TestBackend>, Autodiff<O>>(7, &format!("grad-{name}"), &device(), other);
    let examples: Vec<TrainExample> = (0..6u32)
        .map(|i| TrainExample {
            history: vec![i, (i + 4) % 14],
            target: (i * 3 + 2) % 14,
        })
        .collect();
    let refs: Vec<&TrainExample> = examples.iter().collect();

    // The tiny preset has no dropout, so the autodiff forward pass is deterministic.
    let lf = flex
        .loss(&TrainBatch::<Autodiff<TestBackend>>::new(&refs, &ids, 20, 0, &device()).unwrap());
    let ln = nd.loss(&TrainBatch::<Autodiff<O>>::new(&refs, &ids, 20, 0, other).unwrap());
    let (vf, vn) = (values(lf.clone()), values(ln.clone()));
    assert!(
        (vf[0] - vn[0]).abs() < tolerance,
        "loss {} vs {}",
        vf[0],
        vn[0]
    );

    // The gradient of the shared embedding touches every part of the model (tied
    // input and output embeddings).
    let (gf, gn) = (lf.backward(), ln.backward());
    let gf = flex.shared.weight.grad(&gf).unwrap();
    let gn = nd.shared.weight.grad(&gn).unwrap();
    let d = max_diff(&values(gf), &values(gn));
    assert!(d < tolerance, "embedding gradients differ by {d}");
}

#[test]
fn flex_and_ndarray_agree_on_encoder_scores_and_beam_search() {
    agree_on_encoder_scores_and_beam_search::<NdArray>("ndarray", &NdArrayDevice::Cpu, TOLERANCE);
}

#[test]
fn flex_and_ndarray_agree_on_the_training_loss_and_its_gradient() {
    agree_on_the_training_loss_and_its_gradient::<NdArray>("ndarray", &NdArrayDevice::Cpu, TOLERANCE);
}

#[test]
fn flex_and_wgpu_agree_on_encoder_scores_and_beam_search() {
    use burn_wgpu::{Wgpu, WgpuDevice};
    if runs("WGPU", wgpu_adapter()) {
        agree_on_encoder_scores_and_beam_search::<Wgpu>("wgpu", &WgpuDevice::DefaultDevice, TOLERANCE);
    }
}

#[test]
fn flex_and_wgpu_agree_on_the_training_loss_and_its_gradient() {
    use burn_wgpu::{Wgpu, WgpuDevice};
    if runs("WGPU", wgpu_adapter()) {
        agree_on_the_training_loss_and_its_gradient::<Wgpu>("wgpu", &WgpuDevice::DefaultDevice, TOLERANCE);
    }
}

#[test]
#[cfg_attr(
    not(feature = "test-cuda"),
    ignore = "skipped CUDA: build with --features test-cuda (experiments/scripts/cuda-check.sh)"
)]
fn flex_and_cuda_agree_on_encoder_scores_and_beam_search() {
    #[cfg(feature = "test-cuda")]
    {
        use burn::backend::{Cuda, cuda::CudaDevice};
        if runs("CUDA", cuda_gpu()) {
            agree_on_encoder_scores_and_beam_search::<Cuda>("cuda", &CudaDevice::default(), TOLERANCE);
        }
    }
}

#[test]
#[cfg_attr(
    not(feature = "test-cuda"),
    ignore = "skipped CUDA: build with --features test-cuda (experiments/scripts/cuda-check.sh)"
)]
fn flex_and_cuda_agree_on_the_training_loss_and_its_gradient() {
    #[cfg(feature = "test-cuda")]
    {
        use burn::backend::{Cuda, cuda::CudaDevice};
        if runs("CUDA", cuda_gpu()) {
            agree_on_the_training_loss_and_its_gradient::<Cuda>("cuda", &CudaDevice::default(), TOLERANCE);
        }
    }
}

#[test]
#[cfg_attr(
    not(feature = "test-tch"),
    ignore = "skipped LibTorch: build with --features test-tch, see `cargo xtask libtorch --test`"
)]
fn flex_and_libtorch_agree_on_encoder_scores_and_beam_search() {
    #[cfg(feature = "test-tch")]
    {
        use burn::backend::libtorch::{LibTorch, LibTorchDevice};
        agree_on_encoder_scores_and_beam_search::<LibTorch>("libtorch", &LibTorchDevice::Cpu, TOLERANCE);
    }
}

#[test]
#[cfg_attr(
    not(feature = "test-tch"),
    ignore = "skipped LibTorch: build with --features test-tch, see `cargo xtask libtorch --test`"
)]
fn flex_and_libtorch_agree_on_the_training_loss_and_its_gradient() {
    #[cfg(feature = "test-tch")]
    {
        use burn::backend::libtorch::{LibTorch, LibTorchDevice};
        agree_on_the_training_loss_and_its_gradient::<LibTorch>("libtorch", &LibTorchDevice::Cpu, TOLERANCE);
    }
}
