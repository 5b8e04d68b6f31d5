//! SpecGR's latency bounds next to TIGER's beam search, on the CPU (Flex) backend,
//! with a seeded untrained model and a SemanticKNN drafter over random vectors.
//!
//! `cargo bench -p gr-model --bench specgr_latency -- [preset] [queries] [items] [parts]`
//!
//! With `parts`, it times the verifier's pieces for one batch of 32 instead.
//!
//! An untrained model says nothing about acceptance rates, so the engine is timed at
//! its two extremes: γ = −∞ (every draft accepted: one draft, one scoring pass, exit
//! after round 0 when δ ≥ K) and γ = +∞ (nothing accepted: four rounds of drafting
//! and scoring plus a full beam search, then the fill). A trained model's SpecGR
//! latency lies between the two; where, its acceptance rate decides.

use std::time::{Duration, Instant};

use burn::backend::Flex;
use burn::tensor::backend::Backend;
use drafters::{ItemSet, SemanticKnn, SemanticKnnConfig};
use gr_model::{Constraint, TigerConfig, TigerPreset, TigerVerifier};
use recdata::ItemId;
use semid::{PrefixTrie, SemanticIds, TokenLayout};
use speculative::{ItemSpace, Request, SpecGr, SpecGrConfig, StepStats, baselines};

const SEED: u64 = 42;
/// Beauty uses K = 256 codes per level in the TIGER paper's setup.
const CODES: usize = 256;
const K: usize = 50;
const BEAM: usize = 50;
const DRAFT: usize = 50;
const DIM: usize = 64;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        recdata::rng::splitmix64(&mut self.0)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn uniform(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    }
}

/// Random codes whose first digit is skewed (clustered, like real IDs); groups that
/// would overflow the identification digit are redrawn.
fn catalogue(items: usize, rng: &mut Rng) -> SemanticIds {
    let mut ids = SemanticIds::new(TokenLayout::new(3, CODES).expect("layout"));
    while ids.len() < items {
        let codes = [
            rng.below(CODES / 4) as u32,
            rng.below(CODES) as u32,
            rng.below(CODES) as u32,
        ];
        if ids.group_size(&codes) < CODES {
            ids.push(&codes).expect("codes in range");
        }
    }
    ids
}

fn time<F: FnMut() -> StepStats>(mut f: F) -> (Duration, StepStats) {
    let t = Instant::now();
    let stats = f();
    (t.elapsed(), stats)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let preset: TigerPreset = args
        .first()
        .map_or("small", String::as_str)
        .parse()
        .expect("preset");
    let queries: usize = args.get(1).map_or(64, |s| s.parse().expect("queries"));
    let items: usize = args.get(2).map_or(12_101, |s| s.parse().expect("items"));
    let mut rng = Rng(SEED);
    let ids = catalogue(items, &mut rng);
    let trie = PrefixTrie::from_ids(&ids);
    let in_sample: ItemSet = (0..(items * 9 / 10) as u32).map(ItemId).collect();
    let device = Default::default();
    Flex::seed(&device, SEED);
    let model = TigerConfig::preset(preset, ids.layout().vocab_size())
        .init::<Flex>(&device)
        .expect("model");
    let rows: Vec<f32> = (0..items * DIM).map(|_| rng.uniform()).collect();
    let all: Vec<ItemId> = (0..items as u32).map(ItemId).collect();
    let drafter = SemanticKnn::new(SemanticKnnConfig::new(DIM), &all, &rows).expect("drafter");
    let histories: Vec<Vec<ItemId>> = (0..queries)
        .map(|_| {
            (0..5 + rng.below(16))
                .map(|_| ItemId(rng.below(items) as u32))
                .collect()
        })
        .collect();
    let requests: Vec<Request<'_>> = histories.iter().map(|h| Request::new(h)).collect();
    let verifier = TigerVerifier::new(&model, &ids, Constraint::Trie(&trie), device);
    let space = ItemSpace::new(&ids, &in_sample);

    if args.get(3).is_some_and(|a| a == "parts") {
        use speculative::Verifier;
        let hs: Vec<&[ItemId]> = histories.iter().take(32).map(Vec::as_slice).collect();
        let cands: Vec<Vec<u32>> = (0..50).map(|i| ids.codes(i * 7).to_vec()).collect();
        let c: Vec<Vec<&[u32]>> = (0..hs.len())
            .map(|_| cands.iter().map(Vec::as_slice).collect())
            .collect();
        let qs: Vec<usize> = (0..hs.len()).collect();
        for _ in 0..2 {
            let t = Instant::now();
            let mut s = verifier.begin(&hs).unwrap();
            let t_enc = t.elapsed();
            let t = Instant::now();
            verifier.score(&mut s, &qs, &c).unwrap();
            let t_score = t.elapsed();
            let t = Instant::now();
            verifier.beam_step(&mut s, &qs, BEAM).unwrap();
            let t_b0 = t.elapsed();
            let t = Instant::now();
            verifier.beam_step(&mut s, &qs, BEAM).unwrap();
            let t_b1 = t.elapsed();
            let t = Instant::now();
            verifier.beam_step(&mut s, &qs, BEAM).unwrap();
            let t_b2 = t.elapsed();
            let t = Instant::now();
            let enc = s.encoded().clone();
            let owned: Vec<Vec<Vec<u32>>> = c
                .iter()
                .map(|x| x.iter().map(|y| y.to_vec()).collect())
                .collect();
            model.score(&enc, &owned, ids.layout()).unwrap();
            let t_gr = t.elapsed();
            let t = Instant::now();
            model.score_naive(&enc, &owned, ids.layout()).unwrap();
            let t_naive = t.elapsed();
            println!(
                "32 queries, 50 drafts each: encode {t_enc:?} | round 0 (verify + step 0) {t_score:?} | \
                 step 0 from the round {t_b0:?} | step 1 {t_b1:?} | step 2 {t_b2:?} | \
                 Tiger::score (shared prefixes) {t_gr:?} | Tiger::score_naive {t_naive:?}"
            );
        }
        return;
    }
    println!(
        "preset {} | {items} items | {queries} queries | K {K} β {BEAM} δ {DRAFT} | Flex CPU",
        preset.name()
    );
    println!(
        "| batch | method | ms/query | queries/s | × TIGER | rounds/query | decoder calls | draft ms | verify ms |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for batch in [1usize, 32] {
        let chunks: Vec<&[Request<'_>]> = requests.chunks(batch).collect();
        // Warm-up, so allocation and first-touch costs are not timed.
        baselines::tiger(&verifier, &space, chunks[0], K, BEAM).expect("tiger");
        let (tiger_time, _) = time(|| {
            for c in &chunks {
                baselines::tiger(&verifier, &space, c, K, BEAM).expect("tiger");
            }
            StepStats::default()
        });
        row(
            batch,
            "TIGER (KV cache, trie-constrained)",
            tiger_time,
            &StepStats::default(),
            queries,
            tiger_time,
        );
        let cases = [
            ("SpecGR γ=−∞ (all accepted), tree", f32::NEG_INFINITY, false),
            (
                "SpecGR γ=−∞ (all accepted), one call",
                f32::NEG_INFINITY,
                true,
            ),
            ("SpecGR γ=+∞ (none accepted), tree", f32::INFINITY, false),
            ("SpecGR γ=+∞ (none accepted), one call", f32::INFINITY, true),
        ];
        for (name, gamma, one_call) in cases {
            let verifier = verifier.clone().with_one_call_rounds(one_call);
            let engine = SpecGr::new(
                SpecGrConfig::new(K, DRAFT, BEAM, gamma),
                ItemSpace::new(&ids, &in_sample),
            )
            .expect("engine");
            let (elapsed, stats) = time(|| {
                let mut total = StepStats::default();
                for c in &chunks {
                    total.merge(
                        &engine
                            .recommend(&verifier, &drafter, c)
                            .expect("specgr")
                            .stats,
                    );
                }
                total
            });
            row(batch, name, elapsed, &stats, queries, tiger_time);
        }
    }
}

fn row(
    batch: usize,
    name: &str,
    elapsed: Duration,
    stats: &StepStats,
    queries: usize,
    tiger: Duration,
) {
    let ms = elapsed.as_secs_f64() * 1e3 / queries as f64;
    println!(
        "| {batch} | {name} | {ms:.2} | {:.1} | {:.2} | {:.2} | {} | {:.1} | {:.1} |",
        queries as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() / tiger.as_secs_f64(),
        stats.mean_rounds(),
        stats.decoder_calls,
        stats.draft_time.as_secs_f64() * 1e3,
        stats.verifier_time().as_secs_f64() * 1e3,
    );
}
