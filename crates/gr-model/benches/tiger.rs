//! TIGER benchmarks on the CPU (Flex) backend, synthetic Beauty-sized data.
//!
//! `cargo bench -p gr-model --bench tiger -- <what> [preset] [options]` where `what` is
//! - `train <preset> [batch] [steps]`: training samples/s, with a forward/backward/optimizer split;
//! - `beam <preset> [queries] [beam]`: beam-search latency per query, with vs without the
//!   KV cache, constrained vs unconstrained;
//! - `score <preset> [queries] [candidates]`: candidates/s with vs without prefix sharing;
//! - `ops <preset> [batch]`: forward+backward of our building blocks against the Burn
//!   equivalents we replaced (where the training time went);
//! - `flops <preset> [queries] [beam]`: counted FLOPs of a KV-cached beam search per query
//!   against the backend's measured matmul rate: how far above the arithmetic floor
//!   the measured latency is.

use std::time::Instant;

use burn::backend::{Autodiff, Flex};
use burn::optim::{AdamWConfig, GradientsParams, Optimizer};
use burn::tensor::ElementConversion;
use burn::tensor::backend::Backend;
use gr_model::{BeamSearch, Constraint, Tiger, TigerConfig, TigerPreset, TrainBatch, TrainExample};
use semid::{PrefixTrie, SemanticIds, TokenLayout};

type Cpu = Flex;
type Train = Autodiff<Flex>;

const SEED: u64 = 42;
/// Beauty 5-core has 12,101 items; the reference uses K = 256 codes per level.
const ITEMS: usize = 12_101;
const K: usize = 256;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        recdata::rng::splitmix64(&mut self.0)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Random 3-level codes for every item (first level skewed so prefixes are shared).
fn catalog(rng: &mut Rng) -> SemanticIds {
    let layout = TokenLayout::new(3, K).unwrap();
    let mut codes = Vec::with_capacity(ITEMS * 3);
    for _ in 0..ITEMS {
        codes.extend([
            rng.below(K) as u32,
            rng.below(K) as u32,
            rng.below(K) as u32,
        ]);
    }
    SemanticIds::from_codes(layout, &codes).unwrap()
}

fn examples(rng: &mut Rng, n: usize) -> Vec<TrainExample> {
    (0..n)
        .map(|_| TrainExample {
            history: (0..20).map(|_| rng.below(ITEMS) as u32).collect(),
            target: rng.below(ITEMS) as u32,
        })
        .collect()
}

fn arg<T: std::str::FromStr>(args: &[String], i: usize, default: T) -> T {
    args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let what = args.first().cloned().unwrap_or_else(|| "train".into());
    let preset: TigerPreset = arg(&args, 1, TigerPreset::Small.name().to_string())
        .parse()
        .unwrap();
    let mut rng = Rng(SEED);
    let ids = catalog(&mut rng);
    let mut config = TigerConfig::preset(preset, ids.layout().vocab_size());
    if let Some(p) = std::env::var("TIGER_DROPOUT")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        config = config.with_dropout(p);
    }
    let device = Default::default();
    println!(
        "preset {} ({config:?}), seed {SEED}, {ITEMS} items, K {K}",
        preset.name()
    );
    match what.as_str() {
        "train" => bench_train(
            &config,
            &ids,
            arg(&args, 2, 256),
            arg(&args, 3, 5),
            &mut rng,
            &device,
        ),
        "beam" => bench_beam(
            &config,
            &ids,
            arg(&args, 2, 32),
            arg(&args, 3, 50),
            &mut rng,
            &device,
        ),
        "ops" => bench_ops(&config, arg(&args, 2, 256), &device),
        "score" => bench_score(
            &config,
            &ids,
            arg(&args, 2, 32),
            arg(&args, 3, 100),
            &mut rng,
            &device,
        ),
        "flops" => bench_flops(
            &config,
            &ids,
            arg(&args, 2, 32),
            arg(&args, 3, 50),
            &mut rng,
            &device,
        ),
        other => panic!("unknown benchmark {other}: expected train, beam, score, ops or flops"),
    }
}

fn bench_train(
    config: &TigerConfig,
    ids: &SemanticIds,
    batch: usize,
    steps: usize,
    rng: &mut Rng,
    device: &burn::tensor::Device<Train>,
) {
    Train::seed(device, SEED);
    let mut model = config.init::<Train>(device).unwrap();
    println!("parameters: {}", burn::module::Module::num_params(&model));
    let mut optim = AdamWConfig::new()
        .with_weight_decay(0.05)
        .init::<Train, Tiger<Train>>();
    let data = examples(rng, batch * (steps + 1));
    let (mut fwd, mut bwd, mut opt) = (0.0, 0.0, 0.0);
    for (s, chunk) in data.chunks(batch).enumerate() {
        let refs: Vec<&TrainExample> = chunk.iter().collect();
        let b = TrainBatch::<Train>::new(&refs, ids, config.max_history, 0, device).unwrap();
        let t0 = Instant::now();
        let loss = model.loss(&b);
        let _ = loss.clone().into_scalar().elem::<f32>();
        let t1 = Instant::now();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let t2 = Instant::now();
        model = optim.step(1e-3, model, grads);
        // Force the update so its time is not billed to the next forward.
        let _ = model
            .shared
            .weight
            .val()
            .slice([0..1, 0..1])
            .into_scalar()
            .elem::<f32>();
        let t3 = Instant::now();
        if s > 0 {
            fwd += (t1 - t0).as_secs_f64();
            bwd += (t2 - t1).as_secs_f64();
            opt += (t3 - t2).as_secs_f64();
        }
    }
    let total = fwd + bwd + opt;
    println!(
        "train: batch {batch}, {steps} timed steps: {:.1} samples/s, {:.3} s/step (forward {:.3}, backward {:.3}, optimizer {:.3})",
        (batch * steps) as f64 / total,
        total / steps as f64,
        fwd / steps as f64,
        bwd / steps as f64,
        opt / steps as f64
    );
}

fn bench_beam(
    config: &TigerConfig,
    ids: &SemanticIds,
    queries: usize,
    beam: usize,
    rng: &mut Rng,
    device: &burn::tensor::Device<Cpu>,
) {
    Cpu::seed(device, SEED);
    let model = config.init::<Cpu>(device).unwrap();
    let trie = PrefixTrie::from_ids(ids);
    let data = examples(rng, queries);
    let histories: Vec<&[u32]> = data.iter().map(|e| e.history.as_slice()).collect();
    let layout = ids.layout();
    let run = |cache: bool, constraint: Constraint<'_>| {
        let t = Instant::now();
        let enc = model.encode(&histories, ids, device).unwrap();
        let mut search = BeamSearch::<Cpu>::new(queries, beam, cache);
        for _ in 0..layout.num_digits() {
            search.step(&model, &enc, layout, constraint).unwrap();
        }
        t.elapsed().as_secs_f64()
    };
    run(true, Constraint::None); // warm-up
    for (name, constraint) in [
        ("unconstrained", Constraint::None),
        ("constrained", Constraint::Trie(&trie)),
    ] {
        let cached = run(true, constraint);
        let uncached = run(false, constraint);
        println!(
            "beam {name}: {queries} queries, beam {beam}, 4 steps: KV cache {:.1} ms/query, no cache {:.1} ms/query, speed-up {:.2}x",
            1e3 * cached / queries as f64,
            1e3 * uncached / queries as f64,
            uncached / cached
        );
    }
}

fn bench_score(
    config: &TigerConfig,
    ids: &SemanticIds,
    queries: usize,
    per_query: usize,
    rng: &mut Rng,
    device: &burn::tensor::Device<Cpu>,
) {
    Cpu::seed(device, SEED);
    let model = config.init::<Cpu>(device).unwrap();
    let data = examples(rng, queries);
    let histories: Vec<&[u32]> = data.iter().map(|e| e.history.as_slice()).collect();
    let enc = model.encode(&histories, ids, device).unwrap();
    let layout = ids.layout();
    // Random catalog items share few prefixes; drafts near a beam share the first digits.
    let random: Vec<Vec<Vec<u32>>> = (0..queries)
        .map(|_| {
            (0..per_query)
                .map(|_| ids.codes(rng.below(ITEMS) as u32).to_vec())
                .collect()
        })
        .collect();
    let clustered: Vec<Vec<Vec<u32>>> = (0..queries)
        .map(|_| {
            let heads: Vec<u32> = (0..5).map(|_| rng.below(K) as u32).collect();
            (0..per_query)
                .map(|_| {
                    vec![
                        heads[rng.below(5)],
                        rng.below(4) as u32,
                        rng.below(K) as u32,
                        0,
                    ]
                })
                .collect()
        })
        .collect();
    for (name, cands) in [("random items", &random), ("clustered drafts", &clustered)] {
        let _ = model.score(&enc, cands, layout).unwrap();
        let t = Instant::now();
        let _ = model.score(&enc, cands, layout).unwrap();
        let shared = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let _ = model.score_naive(&enc, cands, layout).unwrap();
        let naive = t.elapsed().as_secs_f64();
        let n = (queries * per_query) as f64;
        println!(
            "score {name}: {queries} queries x {per_query}: prefix-shared {:.0} candidates/s, naive {:.0} candidates/s, ratio {:.2}x",
            n / shared,
            n / naive,
            naive / shared
        );
    }
}

fn bench_ops(config: &TigerConfig, batch: usize, device: &burn::tensor::Device<Train>) {
    use burn::tensor::activation::{relu, softmax};
    use burn::tensor::{Distribution, Tensor};
    use gr_model::ops::{Dropout, DropoutRng, MatmulPrecision, RmsNorm, linear3, softmax4};
    Train::seed(device, SEED);
    let len = 2 + 20 * 4;
    let (d, ff, h) = (config.d_model, config.d_ff, config.num_heads);
    let wi = burn::nn::LinearConfig::new(d, ff)
        .with_bias(false)
        .init::<Train>(device);
    let wo = burn::nn::LinearConfig::new(ff, d)
        .with_bias(false)
        .init::<Train>(device);
    let ours_norm = RmsNorm::<Train>::new(d, 1e-6, device);
    let burn_norm = burn::nn::RmsNormConfig::new(d)
        .with_epsilon(1e-6)
        .init::<Train>(device);
    let ours_drop = Dropout::new(0.1, DropoutRng::default());
    let burn_drop = burn::nn::DropoutConfig::new(0.1).init();
    let x =
        Tensor::<Train, 3>::random([batch, len, d], Distribution::Default, device).require_grad();
    let hidden =
        Tensor::<Train, 3>::random([batch, len, ff], Distribution::Default, device).require_grad();
    let scores = Tensor::<Train, 4>::random([batch, h, len, len], Distribution::Default, device)
        .require_grad();
    // Runs forward + backward three times and returns seconds per run.
    let time = |f: &dyn Fn() -> Tensor<Train, 1>| {
        let _ = f().backward();
        let t = Instant::now();
        for _ in 0..3 {
            let grads = f().backward();
            let _ = x
                .grad(&grads)
                .map(|g| g.slice([0..1, 0..1, 0..1]).into_scalar().elem::<f32>());
        }
        t.elapsed().as_secs_f64() / 3.0
    };
    type Case<'a> = (
        &'a str,
        Box<dyn Fn() -> Tensor<Train, 1> + 'a>,
        Box<dyn Fn() -> Tensor<Train, 1> + 'a>,
    );
    let cases: Vec<Case<'_>> = vec![
        (
            "feed-forward (flattened linear vs Burn's 3-d Linear)",
            Box::new(|| linear3(&wo, relu(linear3(&wi, x.clone(), MatmulPrecision::F32)), MatmulPrecision::F32).sum()),
            Box::new(|| wo.forward(relu(wi.forward(x.clone()))).sum()),
        ),
        (
            "RMSNorm (2-d broadcasts vs burn-nn RmsNorm)",
            Box::new(|| ours_norm.forward(x.clone()).sum()),
            Box::new(|| burn_norm.forward(x.clone()).sum()),
        ),
        (
            "softmax over keys (2-d view vs 4-d)",
            Box::new(|| softmax4(scores.clone()).sum()),
            Box::new(|| softmax(scores.clone(), 3).sum()),
        ),
        (
            "dropout 0.1 on the feed-forward hidden layer (host mask vs burn-nn Dropout)",
            Box::new(|| ours_drop.forward(hidden.clone()).sum()),
            Box::new(|| burn_drop.forward(hidden.clone()).sum()),
        ),
    ];
    for (name, ours, theirs) in &cases {
        let (a, b) = (time(ours.as_ref()), time(theirs.as_ref()));
        println!(
            "{name}, batch {batch}: ours {:.1} ms, Burn {:.1} ms, ratio {:.2}x",
            1e3 * a,
            1e3 * b,
            b / a
        );
    }
}

/// GFLOP/s of an `[m, k] x [k, n]` product on this backend (best of a few timed runs).
fn matmul_rate(m: usize, k: usize, n: usize, device: &burn::tensor::Device<Cpu>) -> f64 {
    use burn::tensor::{Distribution, Tensor};
    let a = Tensor::<Cpu, 2>::random([m, k], Distribution::Default, device);
    let b = Tensor::<Cpu, 2>::random([k, n], Distribution::Default, device);
    let reps = (200_000_000 / (2 * m * k * n)).clamp(3, 2000);
    let _ = a.clone().matmul(b.clone()).into_data();
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let t = Instant::now();
        for _ in 0..reps {
            let _ = a.clone().matmul(b.clone()).into_data();
        }
        best = best.min(t.elapsed().as_secs_f64() / reps as f64);
    }
    2.0 * (m * k * n) as f64 / best / 1e9
}

fn bench_flops(
    config: &TigerConfig,
    ids: &SemanticIds,
    queries: usize,
    beam: usize,
    rng: &mut Rng,
    device: &burn::tensor::Device<Cpu>,
) {
    Cpu::seed(device, SEED);
    let model = config.init::<Cpu>(device).unwrap();
    let data = examples(rng, queries);
    let layout = ids.layout();
    let digits = layout.num_digits();
    // [BOS] + 4 tokens for each of 20 history items + [EOS].
    let enc_len = 2 + digits * 20;
    let rows: Vec<usize> = (0..digits).map(|s| if s == 0 { 1 } else { beam }).collect();
    let flops = config.beam_search_flops(enc_len, &rows);
    let (d, f, v) = (config.d_model, config.d_ff, config.vocab_size);
    let rates = [
        ("beam rows x d_model x d_ff", matmul_rate(beam, d, f, device)),
        ("beam rows x d_model x vocab", matmul_rate(beam, d, v, device)),
        ("encoder tokens x d_model x d_ff", matmul_rate(enc_len, d, f, device)),
        ("4096 x d_model x d_ff (large)", matmul_rate(4096, d, f, device)),
    ];
    for (name, r) in &rates {
        println!("matmul {name}: {r:.2} GFLOP/s");
    }
    let peak = rates.iter().map(|r| r.1).fold(0.0, f64::max);
    let at_shape = rates[0].1;
    let run = |batch: usize| {
        let t = Instant::now();
        for chunk in data.chunks(batch) {
            let histories: Vec<&[u32]> = chunk.iter().map(|e| e.history.as_slice()).collect();
            let enc = model.encode(&histories, ids, device).unwrap();
            let mut search = BeamSearch::<Cpu>::new(histories.len(), beam, true);
            for _ in 0..digits {
                search.step(&model, &enc, layout, Constraint::None).unwrap();
            }
        }
        t.elapsed().as_secs_f64() / queries as f64
    };
    run(queries); // warm-up
    println!(
        "counted FLOPs per query (beam {beam}, {digits} steps, history 20 items = {enc_len} tokens): {:.1} MFLOP",
        flops as f64 / 1e6
    );
    for batch in [1, queries] {
        let s = run(batch);
        println!(
            "batch {batch}: {:.2} ms/query; floor at the best matmul rate {:.3} ms ({:.1}x above), at the beam-shape rate {:.3} ms ({:.1}x above)",
            1e3 * s,
            1e3 * flops as f64 / (peak * 1e9),
            s / (flops as f64 / (peak * 1e9)),
            1e3 * flops as f64 / (at_shape * 1e9),
            s / (flops as f64 / (at_shape * 1e9)),
        );
    }
}
