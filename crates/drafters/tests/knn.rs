//! `KnnIndex` against a brute-force oracle: exact and HNSW, with and without a
//! predicate, online adds and removes, bad input.

use drafters::{DrafterError, ItemSet, KnnConfig, KnnIndex};
use recdata::ItemId;

use crate::{TestRng, brute_force, ids, recall};

const DIM: usize = 24;

fn index(n: usize, exact_threshold: usize, seed: u64) -> (KnnIndex, Vec<f32>) {
    index_on_threads(n, exact_threshold, seed, KnnConfig::new(DIM).insert_threads)
}

/// `threads` graph-insertion threads (0: the default, one per core). With more
/// than one the graph depends on how the threads interleave.
fn index_on_threads(n: usize, exact_threshold: usize, seed: u64, threads: usize) -> (KnnIndex, Vec<f32>) {
    let rows = TestRng::new(seed).unit_rows(n, DIM);
    let config = KnnConfig::new(DIM).with_exact_threshold(exact_threshold).with_insert_threads(threads);
    let mut index = KnnIndex::new(config).unwrap();
    index.add(&ids(0..n as u32), &rows).unwrap();
    (index, rows)
}

/// Mean recall over 20 queries of `search_filtered` against the oracle.
fn check(index: &KnnIndex, rows: &[f32], k: usize, keep: impl Fn(ItemId) -> bool + Copy + Sync) -> f64 {
    let mut rng = TestRng::new(99);
    let total: f64 = (0..20)
        .map(|_| {
            let q = rng.unit_rows(1, DIM);
            let got = index.search_filtered(&q, k, keep).unwrap();
            let expected = brute_force(rows, DIM, index.items(), &q, k, keep);
            assert!(got.iter().all(|n| keep(n.item)), "a filtered-out item came back");
            recall(&got, &expected)
        })
        .sum();
    total / 20.0
}

#[test]
fn exact_search_matches_brute_force() {
    let (index, rows) = index(2000, usize::MAX, 1);
    assert!(!index.is_approximate());
    assert_eq!(check(&index, &rows, 50, |_| true), 1.0);
    assert_eq!(check(&index, &rows, 50, |i| i.0 % 3 == 0), 1.0);
    // Scores and order too, not just membership.
    let q = TestRng::new(5).unit_rows(1, DIM);
    let got = index.search(&q, 10).unwrap();
    let expected = brute_force(&rows, DIM, index.items(), &q, 10, |_| true);
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(g.item, e.item);
        assert!((g.score - e.score).abs() < 1e-5);
    }
}

#[test]
fn hnsw_search_recall_at_defaults() {
    // Threshold 0: the graph is used for every search. One insertion thread:
    // the graph, hence the recall, is the same on every run and machine
    // (0.999-1.0 on seeds 2-5 here).
    let (index, rows) = index_on_threads(3000, 0, 2, 1);
    assert!(index.is_approximate());
    let unfiltered = check(&index, &rows, 50, |_| true);
    let filtered = check(&index, &rows, 50, |i| i.0.is_multiple_of(2));
    assert!(unfiltered >= 0.99, "HNSW recall {unfiltered}");
    assert!(filtered >= 0.99, "filtered HNSW recall {filtered}");
}

#[test]
fn hnsw_built_on_several_threads_keeps_a_high_recall() {
    // Concurrent insertion makes the graph depend on scheduling, and it is a
    // little worse: over 20 builds (seeds 2-5) on 2 threads here recall@50 ranged
    // 0.990-1.0, and 0.989 once on a loaded CI machine — which failed the
    // 0.99 bound above when this test used the default thread count. The
    // bound here is a floor for a working graph (a broken one recalls a few
    // per cent), not a benchmark.
    let (index, rows) = index_on_threads(3000, 0, 2, 2);
    let unfiltered = check(&index, &rows, 50, |_| true);
    let filtered = check(&index, &rows, 50, |i| i.0.is_multiple_of(2));
    assert!(unfiltered >= 0.95, "HNSW recall {unfiltered}");
    assert!(filtered >= 0.95, "filtered HNSW recall {filtered}");
}

#[test]
fn batch_search_equals_single_searches() {
    let (index, _) = index(700, usize::MAX, 3);
    let qs = TestRng::new(4).unit_rows(3, DIM);
    let queries: Vec<&[f32]> = qs.chunks_exact(DIM).collect();
    let even = |i: ItemId| i.0.is_multiple_of(2);
    let all = |_: ItemId| true;
    let preds: Vec<drafters::Keep<'_>> = vec![&even, &all, &even];
    let batch = index.search_batch(&queries, &preds, 7).unwrap();
    for ((q, p), b) in queries.iter().zip(&preds).zip(&batch) {
        assert_eq!(&index.search_filtered(q, 7, p).unwrap(), b);
    }
}

#[test]
fn added_item_is_found_and_removed_item_is_not() {
    for threshold in [usize::MAX, 0] {
        let (mut index, _) = index(500, threshold, 6);
        let q = TestRng::new(7).unit_rows(1, DIM);
        // A new item equal to the query is its nearest neighbour at once.
        index.add(&[ItemId(10_000)], &q).unwrap();
        let top = index.search(&q, 5).unwrap();
        assert_eq!(top[0].item, ItemId(10_000), "threshold {threshold}");
        assert!((top[0].score - 1.0).abs() < 1e-4);
        assert!(index.remove(ItemId(10_000)).unwrap());
        assert!(!index.remove(ItemId(10_000)).unwrap());
        assert!(index.search(&q, 50).unwrap().iter().all(|n| n.item != ItemId(10_000)));
        assert_eq!(index.len(), 500);
    }
}

#[test]
fn crossing_the_threshold_builds_the_graph() {
    let rows = TestRng::new(8).unit_rows(300, DIM);
    // One insertion thread: a graph built on several depends on thread timing, and on
    // so few random points its recall then varies between runs (0.975–1.0 seen).
    let config = KnnConfig::new(DIM).with_exact_threshold(200).with_insert_threads(1);
    let mut index = KnnIndex::new(config).unwrap();
    index.add(&ids(0..150), &rows[..150 * DIM]).unwrap();
    assert!(!index.is_approximate());
    index.add(&ids(150..300), &rows[150 * DIM..]).unwrap();
    assert!(index.is_approximate());
    let r = check(&index, &rows, 20, |_| true);
    assert!(r >= 0.99, "recall {r}");
}

#[test]
fn bad_input_gives_errors_or_empty_results() {
    let (mut index, _) = index(50, usize::MAX, 9);
    let err = index.search(&[0.5; DIM + 1], 5).unwrap_err();
    assert!(matches!(err, DrafterError::Dimension { expected: DIM, got: 25, .. }), "{err}");
    let err = index.add(&[ItemId(60)], &[0.1; DIM - 1]).unwrap_err();
    assert!(matches!(err, DrafterError::BufferLength { .. }), "{err}");
    let mut nan = vec![0.0; DIM];
    nan[3] = f32::NAN;
    assert!(matches!(index.add(&[ItemId(61)], &nan).unwrap_err(), DrafterError::NotFinite { index: 3, .. }));
    assert!(matches!(index.search(&nan, 3).unwrap_err(), DrafterError::NotFinite { .. }));
    assert_eq!(index.len(), 50, "failed adds change nothing");
    let q = vec![0.2; DIM];
    assert!(index.search(&q, 0).unwrap().is_empty());
    assert!(index.search_filtered(&q, 5, |_| false).unwrap().is_empty());
    let empty = KnnIndex::new(KnnConfig::new(DIM)).unwrap();
    assert!(empty.search(&q, 5).unwrap().is_empty());
    assert!(KnnIndex::new(KnnConfig::new(0)).is_err());
    // An empty candidate list is an empty result.
    assert!(index.score_candidates(&q, ItemSet::new().iter(), 5).unwrap().is_empty());
}

#[test]
fn large_batches_split_across_threads_match_brute_force() {
    // 3000 rows x 24 dims x 40 queries is above the crate's threshold for a
    // multi-threaded scan (2^21 multiply-adds).
    let (index, rows) = index(3000, usize::MAX, 12);
    let qs = TestRng::new(13).unit_rows(40, DIM);
    let queries: Vec<&[f32]> = qs.chunks_exact(DIM).collect();
    let odd = |i: ItemId| i.0 % 2 == 1;
    let preds: Vec<drafters::Keep<'_>> = vec![&odd; 40];
    let batch = index.search_batch(&queries, &preds, 25).unwrap();
    for (q, got) in queries.iter().zip(&batch) {
        let expected = brute_force(&rows, DIM, index.items(), q, 25, odd);
        assert_eq!(got.iter().map(|n| n.item).collect::<Vec<_>>(), expected.iter().map(|n| n.item).collect::<Vec<_>>());
    }
}

#[test]
fn one_insertion_thread_builds_the_same_graph_every_time() {
    let rows = TestRng::new(12).unit_rows(600, DIM);
    let build = || {
        let mut index = KnnIndex::new(KnnConfig::new(DIM).with_exact_threshold(0).with_insert_threads(1)).unwrap();
        index.add(&ids(0..600), &rows).unwrap();
        assert!(index.is_approximate());
        index
    };
    let (a, b) = (build(), build());
    let queries = TestRng::new(13).unit_rows(10, DIM);
    for q in queries.chunks(DIM) {
        assert_eq!(a.search(q, 30).unwrap(), b.search(q, 30).unwrap());
    }
}
