//! Per-backend timings of a tiny TIGER training step and of a beam search, each as a
//! ratio to Flex, all in one process on the same weights and inputs.
//!
//! A check that every backend present runs the real workload, and how fast next to the
//! CPU, not a benchmark of any of them (the backend-equality tests in
//! `tests/backends.rs` check the numbers; this only times and reports the first loss
//! and the beams beside Flex's). Run through `experiments/scripts/backend-timings.sh`,
//! which records the machine and driver versions beside the output:
//!
//! ```sh
//! cargo run -p gr-model --features backend-timings --example backend_timings -- [--preset tiny] [--repeats 5] [--json out.json]
//! #   --features test-tch (LibTorch, on LD_LIBRARY_PATH) and/or test-cuda add those backends
//! ```
//!
//! Backends: Flex and NdArray always, WGPU where the Vulkan loader finds an adapter,
//! CUDA with `test-cuda` where `nvidia-smi` lists a GPU, LibTorch with `test-tch`;
//! an absent one is listed with the reason. Each timing is the median of `--repeats`
//! runs after two untimed warm-up runs (which compile the GPU kernels).

#[path = "../tests/present.rs"]
mod present;

use std::path::Path;
use std::time::Instant;

use burn::backend::{Autodiff, Flex};
use burn::optim::{AdamWConfig, GradientsParams, Optimizer};
use burn::tensor::backend::Backend;
use gr_model::{Constraint, Tiger, TigerConfig, TigerPreset, TrainBatch, TrainExample};
use semid::{PrefixTrie, SemanticIds, TokenLayout};
use serde::Serialize;

const SEED: u64 = 42;
/// Synthetic catalog: random 3-level codes of K values.
const ITEMS: usize = 2_000;
const K: usize = 64;
const HISTORY: usize = 20;
const WARMUP: usize = 2;

struct Args {
    preset: TigerPreset,
    batch: usize,
    queries: usize,
    beam: usize,
    repeats: usize,
    json: Option<String>,
}

fn parse_args() -> Args {
    let mut a = Args { preset: TigerPreset::Tiny, batch: 64, queries: 16, beam: 10, repeats: 5, json: None };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--preset" => a.preset = value().parse().expect("--preset: a TIGER preset (tiny, small, ...)"),
            "--batch" => a.batch = value().parse().expect("--batch: a number"),
            "--queries" => a.queries = value().parse().expect("--queries: a number"),
            "--beam" => a.beam = value().parse().expect("--beam: a number"),
            "--repeats" => a.repeats = value().parse().expect("--repeats: a number"),
            "--json" => a.json = Some(value()),
            "--bench" => {}
            other => panic!(
                "unknown argument {other}: expected --preset, --batch, --queries, --beam, --repeats, --json"
            ),
        }
    }
    assert!(a.repeats > 0, "--repeats must be at least 1");
    a
}

fn next(state: &mut u64) -> u64 {
    recdata::rng::splitmix64(state)
}

fn catalog(state: &mut u64) -> SemanticIds {
    let layout = TokenLayout::new(3, K).unwrap();
    let codes: Vec<u32> = (0..ITEMS * 3).map(|_| (next(state) % K as u64) as u32).collect();
    SemanticIds::from_codes(layout, &codes).unwrap()
}

fn examples(state: &mut u64, n: usize) -> Vec<TrainExample> {
    (0..n)
        .map(|_| TrainExample {
            history: (0..HISTORY).map(|_| (next(state) % ITEMS as u64) as u32).collect(),
            target: (next(state) % ITEMS as u64) as u32,
        })
        .collect()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 { xs[n / 2] } else { (xs[n / 2 - 1] + xs[n / 2]) / 2.0 }
}

/// One backend's results.
#[derive(Serialize)]
struct Row {
    backend: String,
    device: String,
    /// Median ms of one training step (forward, backward, AdamW, synchronised).
    train_step_ms: f64,
    /// Median ms of encoding the queries and a trie-constrained beam search over all digits.
    beam_search_ms: f64,
    train_step_ratio_to_flex: f64,
    beam_search_ratio_to_flex: f64,
    /// The loss of the first training step (same weights and batch everywhere).
    first_loss: f32,
    /// |first_loss - Flex's|.
    first_loss_diff_to_flex: f32,
    /// Queries whose final beams hold the same codes in the same order as Flex's.
    beams_equal_to_flex: usize,
}

struct Work<'a> {
    args: &'a Args,
    config: TigerConfig,
    ids: SemanticIds,
    trie: PrefixTrie,
    batches: Vec<Vec<TrainExample>>,
    queries: Vec<Vec<u32>>,
    checkpoint: &'a Path,
}

/// Times `B`: returns (train ms, beam ms, first loss, final beams' codes).
fn time<B: Backend>(w: &Work<'_>, device: &B::Device) -> (f64, f64, f32, Vec<Vec<Vec<u32>>>) {
    let sync = || {
        let _ = B::sync(device);
    };
    // Training: Autodiff<B>, the saved weights, one batch per step.
    let mut model = Tiger::<Autodiff<B>>::load(w.checkpoint, device).unwrap();
    let mut optim = AdamWConfig::new().with_weight_decay(0.05).init::<Autodiff<B>, Tiger<Autodiff<B>>>();
    let mut train = Vec::new();
    let mut first_loss = f32::NAN;
    for (s, batch) in w.batches.iter().enumerate() {
        let refs: Vec<&TrainExample> = batch.iter().collect();
        let b = TrainBatch::<Autodiff<B>>::new(&refs, &w.ids, w.config.max_history, 0, device).unwrap();
        sync();
        let t = Instant::now();
        let loss = model.loss(&b);
        let value = loss.clone().into_data().convert::<f32>().to_vec::<f32>().unwrap()[0];
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-3, model, grads);
        let _ = model.shared.weight.val().slice([0..1, 0..1]).into_data();
        sync();
        if s == 0 {
            first_loss = value;
        }
        if s >= WARMUP {
            train.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    // Beam search: B, the saved weights.
    let model = Tiger::<B>::load(w.checkpoint, device).unwrap();
    let histories: Vec<&[u32]> = w.queries.iter().map(Vec::as_slice).collect();
    let layout = w.ids.layout();
    let mut beam = Vec::new();
    let mut last = Vec::new();
    for r in 0..WARMUP + w.args.repeats {
        sync();
        let t = Instant::now();
        let enc = model.encode(&histories, &w.ids, device).unwrap();
        let steps = model
            .beam_search(&enc, layout, w.args.beam, layout.num_digits(), Constraint::Trie(&w.trie))
            .unwrap();
        sync();
        if r >= WARMUP {
            beam.push(t.elapsed().as_secs_f64() * 1e3);
        }
        last = steps
            .last()
            .map(|qs| qs.iter().map(|bs| bs.iter().map(|b| b.codes.clone()).collect()).collect())
            .unwrap_or_default();
    }
    (median(train), median(beam), first_loss, last)
}

fn sh(cmd: &str, args: &[&str]) -> String {
    std::process::Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}

fn main() {
    let args = parse_args();
    let mut state = SEED;
    let ids = catalog(&mut state);
    let trie = PrefixTrie::from_ids(&ids);
    let config = TigerConfig::preset(args.preset, ids.layout().vocab_size()).with_dropout(0.0);
    let batches: Vec<Vec<TrainExample>> =
        (0..WARMUP + args.repeats).map(|_| examples(&mut state, args.batch)).collect();
    let queries: Vec<Vec<u32>> = examples(&mut state, args.queries).into_iter().map(|e| e.history).collect();

    // The weights every backend loads: drawn once on Flex and saved.
    let dir = std::env::temp_dir().join(format!("gr-model-backend-timings-{}", std::process::id()));
    let flex = Default::default();
    Flex::seed(&flex, SEED);
    config.init::<Flex>(&flex).unwrap().save(&dir).unwrap();
    let work = Work { args: &args, config, ids, trie, batches, queries, checkpoint: &dir };

    let mut measured: Vec<(String, String, (f64, f64, f32, Vec<Vec<Vec<u32>>>))> = Vec::new();
    let mut skipped: Vec<(String, String)> = Vec::new();
    let mut run = |name: &str, device: String, f: &dyn Fn() -> (f64, f64, f32, Vec<Vec<Vec<u32>>>)| {
        eprintln!("timing {name} on {device}");
        measured.push((name.into(), device, f()));
    };
    run("Flex", format!("CPU, {} threads", std::thread::available_parallelism().map_or(1, |n| n.get())), &|| {
        time::<Flex>(&work, &flex)
    });
    run("NdArray", "CPU".into(), &|| time::<burn_ndarray::NdArray>(&work, &burn_ndarray::NdArrayDevice::Cpu));
    match present::wgpu_adapter() {
        Ok(adapter) => run("WGPU", adapter.clone(), &|| {
            time::<burn_wgpu::Wgpu>(&work, &burn_wgpu::WgpuDevice::DefaultDevice)
        }),
        Err(why) => skipped.push(("WGPU".into(), why.clone())),
    }
    #[cfg(feature = "test-cuda")]
    match present::cuda_gpu() {
        Ok(gpu) => run("CUDA", gpu.clone(), &|| {
            time::<burn::backend::Cuda>(&work, &burn::backend::cuda::CudaDevice::default())
        }),
        Err(why) => skipped.push(("CUDA".into(), why.clone())),
    }
    #[cfg(not(feature = "test-cuda"))]
    skipped.push(("CUDA".into(), "built without --features test-cuda".into()));
    #[cfg(feature = "test-tch")]
    run("LibTorch", format!("CPU, OMP_NUM_THREADS={}", std::env::var("OMP_NUM_THREADS").unwrap_or("unset".into())), &|| {
        time::<burn::backend::LibTorch>(&work, &burn::backend::libtorch::LibTorchDevice::Cpu)
    });
    #[cfg(not(feature = "test-tch"))]
    skipped.push(("LibTorch".into(), "built without --features test-tch".into()));
    let _ = std::fs::remove_dir_all(&dir);

    let (flex_train, flex_beam, flex_loss, flex_beams) = measured[0].2.clone();
    let rows: Vec<Row> = measured
        .into_iter()
        .map(|(backend, device, (train, beam, loss, beams))| Row {
            backend,
            device,
            train_step_ms: train,
            beam_search_ms: beam,
            train_step_ratio_to_flex: train / flex_train,
            beam_search_ratio_to_flex: beam / flex_beam,
            first_loss: loss,
            first_loss_diff_to_flex: (loss - flex_loss).abs(),
            beams_equal_to_flex: beams.iter().zip(&flex_beams).filter(|(a, b)| a == b).count(),
        })
        .collect();

    let c = &work.config;
    let workload = format!(
        "preset {} (d_model {}, d_ff {}, {}x{} heads, {}+{} layers, dropout 0), {ITEMS} items of 3 random codes (K {K}), \
         training step: batch {} x history {HISTORY}, AdamW; beam search: {} queries x history {HISTORY}, beam {}, \
         trie-constrained, all {} digits; median of {} runs after {WARMUP} warm-up runs",
        args.preset.name(),
        c.d_model,
        c.d_ff,
        c.num_heads,
        c.d_kv,
        c.num_encoder_layers,
        c.num_decoder_layers,
        args.batch,
        args.queries,
        args.beam,
        work.ids.layout().num_digits(),
        args.repeats
    );
    println!("{workload}\n");
    println!("| backend | device | train step ms | x Flex | beam search ms | x Flex | first loss | Δ loss vs Flex | beams = Flex |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in &rows {
        println!(
            "| {} | {} | {:.1} | {:.2} | {:.1} | {:.2} | {:.6} | {:.1e} | {}/{} |",
            r.backend,
            r.device,
            r.train_step_ms,
            r.train_step_ratio_to_flex,
            r.beam_search_ms,
            r.beam_search_ratio_to_flex,
            r.first_loss,
            r.first_loss_diff_to_flex,
            r.beams_equal_to_flex,
            args.queries
        );
    }
    for (b, why) in &skipped {
        println!("\nskipped {b}: {why}");
    }

    if let Some(path) = &args.json {
        let adapter = match present::wgpu_adapter_info() {
            Ok(i) => serde_json::json!({
                "name": i.name, "device_type": format!("{:?}", i.device_type), "backend": format!("{:?}", i.backend),
                "driver": i.driver, "driver_info": i.driver_info, "vendor": i.vendor, "device": i.device,
            }),
            Err(why) => serde_json::json!({ "absent": why }),
        };
        let report = serde_json::json!({
            "command": std::env::args().collect::<Vec<_>>().join(" "),
            "git": sh("git", &["describe", "--always", "--dirty", "--exclude", "*"]),
            "date": sh("date", &["-u", "+%FT%TZ"]),
            "machine": {
                "cpu": std::fs::read_to_string("/proc/cpuinfo").ok()
                    .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())),
                "threads": std::thread::available_parallelism().map_or(1, |n| n.get()),
                "load_avg": std::fs::read_to_string("/proc/loadavg").ok().map(|s| s.trim().to_owned()),
            },
            "versions": { "burn": "0.21.0", "wgpu": "29", "wgpu_adapter": adapter, "rustc": sh("rustc", &["--version"]) },
            "workload": workload,
            "rows": rows,
            "skipped": skipped.iter().map(|(b, why)| serde_json::json!({"backend": b, "why": why})).collect::<Vec<_>>(),
        });
        std::fs::write(path, serde_json::to_string_pretty(&report).unwrap() + "\n").unwrap();
        eprintln!("wrote {path}");
    }
}
