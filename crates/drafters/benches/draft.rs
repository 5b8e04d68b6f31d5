//! Draft latency (δ = 50) with and without prefix filters, on a Beauty-sized
//! catalog (exact search) and a synthetic 1M-item catalog (HNSW), and UniSRec
//! training throughput.
//!
//! `cargo bench -p drafters --bench draft --features flex-parallel -- [beauty] [million] [unisrec]`
//! (all three when none is named; `flex-parallel` gives Flex the rayon and SIMD
//! kernels that the `specgr` binary has). Data are random unit vectors (seed 7) and
//! random 3-level codes with K = 256, so prefix filters have the selectivity of
//! a well-balanced semantic-ID codebook.

use std::time::Instant;

use burn::backend::{Autodiff, Flex};
use drafters::unisrec::UniSRecData;
use drafters::{
    DraftFilter, Drafter, EmbeddingTable, ItemSet, KnnConfig, PrefixFilter, Query, SemanticKnn, SemanticKnnConfig, UniSRecConfig,
    UniSRecTrainConfig, train_unisrec,
};
use recdata::{Example, ItemId};
use semid::{PrefixTrie, SemanticIds, TokenLayout};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        recdata::rng::splitmix64(&mut self.0)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn unit_rows(&mut self, n: usize, dim: usize) -> Vec<f32> {
        let mut v: Vec<f32> = (0..n * dim).map(|_| ((self.next() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0).collect();
        v.chunks_exact_mut(dim).for_each(drafters::normalize);
        v
    }
}

const K: u32 = 256;
const DELTA: usize = 50;
const BEAMS: usize = 50;

struct Catalog {
    drafter: SemanticKnn,
    ids: SemanticIds,
    trie: PrefixTrie,
    histories: Vec<Vec<ItemId>>,
}

fn catalog(n: usize, dim: usize, knn: KnnConfig, rng: &mut Rng) -> (Catalog, f64) {
    let rows = rng.unit_rows(n, dim);
    let codes: Vec<u32> = (0..n * 3).map(|_| rng.below(K as usize) as u32).collect();
    let ids = SemanticIds::from_codes(TokenLayout::with_id_size(3, K as usize, 4096).unwrap(), &codes).unwrap();
    let trie = PrefixTrie::from_ids(&ids);
    let items: Vec<ItemId> = (0..n as u32).map(ItemId).collect();
    let mut config = SemanticKnnConfig::new(dim);
    config.knn = knn;
    let t = Instant::now();
    let drafter = SemanticKnn::new(config, &items, &rows).unwrap();
    let build = t.elapsed().as_secs_f64();
    let histories = (0..256).map(|_| (0..5).map(|_| ItemId(rng.below(n) as u32)).collect()).collect();
    (Catalog { drafter, ids, trie, histories }, build)
}

/// Milliseconds per query for drafting `queries` histories in batches of `batch`,
/// each with 50 beam prefixes of length `r` (0: no prefix filter) and the items
/// of the previous round (δ of them) excluded.
fn time_drafts(c: &Catalog, queries: usize, batch: usize, r: usize, rng: &mut Rng) -> f64 {
    let prefixes: Vec<Vec<Vec<u32>>> = (0..queries)
        .map(|q| (0..BEAMS).map(|b| c.ids.codes(((q * 7919 + b * 104_729) % c.ids.len()) as u32)[..r].to_vec()).collect())
        .collect();
    let drafted: Vec<ItemSet> =
        (0..queries).map(|_| (0..DELTA).map(|_| ItemId(rng.below(c.ids.len()) as u32)).collect()).collect();
    let t = Instant::now();
    let mut found = 0;
    for start in (0..queries).step_by(batch) {
        let end = (start + batch).min(queries);
        let qs: Vec<Query<'_>> = (start..end).map(|q| Query::new(&c.histories[q % c.histories.len()])).collect();
        let filters: Vec<DraftFilter<'_>> = (start..end)
            .map(|q| {
                let f = DraftFilter::all().excluding(&drafted[q]);
                if r == 0 { f } else { f.prefixes(PrefixFilter { ids: &c.ids, trie: &c.trie, prefixes: &prefixes[q] }) }
            })
            .collect();
        found += c.drafter.draft(&qs, &filters, DELTA).unwrap().iter().map(Vec::len).sum::<usize>();
    }
    let ms = t.elapsed().as_secs_f64() * 1e3 / queries as f64;
    assert!(found > 0);
    ms
}

fn report(name: &str, c: &Catalog, queries: usize, rng: &mut Rng) {
    for batch in [1, 32] {
        for r in [0, 1, 2, 3] {
            let ms = time_drafts(c, queries, batch, r, rng);
            println!("{name}\tbatch {batch}\tprefix len {r}\t{ms:.3} ms/query");
        }
    }
}

fn beauty(rng: &mut Rng) {
    let (c, build) = catalog(12_101, 384, KnnConfig::new(384), rng);
    println!("beauty-sized 12101 x 384: exact={} build {build:.2} s", !c.drafter.index().is_approximate());
    time_drafts(&c, 64, 1, 0, rng); // warm-up
    report("beauty 12101x384 exact", &c, 512, rng);
    usearch_exact(&c, rng);
}

/// Side by side: usearch's own exact (brute-force, SIMD-dispatched) search over
/// the same vectors, unfiltered, δ = 50, one query at a time.
fn usearch_exact(c: &Catalog, rng: &mut Rng) {
    let index = c.drafter.index();
    let dim = index.dim();
    let options = usearch::IndexOptions {
        dimensions: dim,
        metric: usearch::MetricKind::IP,
        quantization: usearch::ScalarKind::F32,
        connectivity: 16,
        expansion_add: 128,
        expansion_search: 128,
        multi: false,
    };
    let u = usearch::Index::new(&options).unwrap();
    u.reserve(index.len()).unwrap();
    for item in index.items().iter() {
        u.add(u64::from(item.0), index.vector(item).unwrap()).unwrap();
    }
    let queries = rng.unit_rows(512, dim);
    let t = Instant::now();
    for q in queries.chunks_exact(dim) {
        assert_eq!(u.exact_search(q, DELTA).unwrap().keys.len(), DELTA);
    }
    let usearch_ms = t.elapsed().as_secs_f64() * 1e3 / 512.0;
    let t = Instant::now();
    for q in queries.chunks_exact(dim) {
        assert_eq!(index.search(q, DELTA).unwrap().len(), DELTA);
    }
    let ours_ms = t.elapsed().as_secs_f64() * 1e3 / 512.0;
    println!(
        "exact top-50, batch 1, side by side: usearch exact_search {usearch_ms:.3} ms/query, KnnIndex scan {ours_ms:.3} ms/query (usearch {})",
        u.hardware_acceleration()
    );
}

fn million(rng: &mut Rng) {
    let (n, dim) = (1_000_000, 64);
    let (c, build) = catalog(n, dim, KnnConfig::new(dim), rng);
    println!("synthetic {n} x {dim}: hnsw={} build {build:.1} s", c.drafter.index().is_approximate());
    // Recall of the HNSW top-50 against exact scoring of every item.
    let mut hits = 0;
    for h in c.histories.iter().take(50) {
        let qv = c.drafter.embed_queries(&[Query::new(h)]).unwrap();
        let approx = c.drafter.search(&qv, &[DraftFilter::all()], DELTA).unwrap().remove(0);
        let exact = c.drafter.index().score_candidates(&qv[0], (0..n as u32).map(ItemId), DELTA).unwrap();
        let set: ItemSet = approx.iter().map(|x| x.item).collect();
        hits += exact.iter().filter(|x| set.contains(x.item)).count();
    }
    println!("hnsw recall@50 vs exact over 50 queries: {:.4}", hits as f64 / (50 * DELTA) as f64);
    time_drafts(&c, 32, 1, 0, rng);
    report("synthetic 1Mx64 hnsw", &c, 256, rng);
}

fn unisrec(rng: &mut Rng) {
    let (n, d_text, in_sample) = (12_101, 384, 11_000);
    let text = EmbeddingTable::from_rows(d_text, &rng.unit_rows(n, d_text)).unwrap();
    let items: Vec<ItemId> = (0..in_sample as u32).map(ItemId).collect();
    let train: Vec<Example> = (0..4096)
        .map(|_| {
            let len = 1 + rng.below(20);
            let history = (0..len).map(|_| ItemId(rng.below(in_sample) as u32)).collect();
            Example { user: 0, history, target: ItemId(rng.below(in_sample) as u32), timestamp_ms: 0 }
        })
        .collect();
    let data = UniSRecData { text: &text, in_sample: &items, train: &train, valid: &[] };
    let config = UniSRecConfig::new(d_text);
    let device = Default::default();
    let train_config = UniSRecTrainConfig::new().with_max_epochs(1).with_seed(7);
    let t = Instant::now();
    let (_, report) = train_unisrec::<Autodiff<Flex>>(&config, &train_config, data, &device, None, &mut |p| {
        eprintln!("step {}/{} loss {:.3}", p.step, p.steps, p.loss);
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    println!(
        "unisrec train (Flex CPU, batch 2048, {in_sample} in-sample items, d_text {d_text}): {:.1} samples/s over {} examples ({:.1} s total)",
        report.samples_per_sec,
        train.len(),
        t.elapsed().as_secs_f64()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let want = |name: &str| args.is_empty() || args.iter().any(|a| a == name);
    let mut rng = Rng(7);
    println!("threads: {}", std::thread::available_parallelism().map_or(1, |n| n.get()));
    if want("beauty") {
        beauty(&mut rng);
    }
    if want("million") {
        million(&mut rng);
    }
    if want("unisrec") {
        unisrec(&mut rng);
    }
}
