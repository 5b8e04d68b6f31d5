//! Draft filters through `SemanticKnn`: prefixes (guided re-drafting), allowed
//! subsets and already-drafted items, on both the candidate and predicate paths.

use drafters::{DraftFilter, Drafter, ItemSet, PrefixFilter, Query, SemanticKnn, SemanticKnnConfig};
use recdata::ItemId;
use semid::{PrefixTrie, SemanticIds, TokenLayout};

use crate::{TestRng, brute_force, ids};

const DIM: usize = 16;
const N: usize = 400;

struct Fixture {
    rows: Vec<f32>,
    ids: SemanticIds,
    trie: PrefixTrie,
}

fn fixture() -> Fixture {
    let mut rng = TestRng::new(11);
    let rows = rng.unit_rows(N, DIM);
    let codes: Vec<u32> = (0..N * 3).map(|_| rng.below(4) as u32).collect();
    let ids = SemanticIds::from_codes(TokenLayout::with_id_size(3, 4, 64).unwrap(), &codes).unwrap();
    let trie = PrefixTrie::from_ids(&ids);
    Fixture { rows, ids, trie }
}

fn drafter(f: &Fixture, max_candidates: usize) -> SemanticKnn {
    let mut config = SemanticKnnConfig::new(DIM);
    config.max_candidates = max_candidates;
    SemanticKnn::new(config, &ids(0..N as u32), &f.rows).unwrap()
}

fn matches(ids: &SemanticIds, item: ItemId, prefixes: &[Vec<u32>]) -> bool {
    prefixes.iter().any(|p| ids.codes(item.0).starts_with(p))
}

/// Drafts for one query under `filter` on both paths and compares with the oracle.
fn check(f: &Fixture, filter: DraftFilter<'_>, keep: impl Fn(ItemId) -> bool + Copy) {
    let history = [ItemId(3), ItemId(17), ItemId(250)];
    for max_candidates in [16_384, 0] {
        let d = drafter(f, max_candidates);
        let qv = d.embed_queries(&[Query::new(&history)]).unwrap();
        let got = d.search(&qv, &[filter], 30).unwrap().remove(0);
        let present: ItemSet = ids(0..N as u32).into_iter().collect();
        let expected = brute_force(&f.rows, DIM, &present, &qv[0], 30, keep);
        assert_eq!(got.iter().map(|n| n.item).collect::<Vec<_>>(), expected.iter().map(|n| n.item).collect::<Vec<_>>(), "max_candidates {max_candidates}");
    }
}

#[test]
fn prefix_filter_returns_only_matching_items() {
    let f = fixture();
    for prefixes in [vec![vec![1]], vec![vec![0, 2], vec![3, 1]], vec![vec![2, 2, 0], vec![1], vec![1, 3]]] {
        let pf = PrefixFilter { ids: &f.ids, trie: &f.trie, prefixes: &prefixes };
        check(&f, DraftFilter::all().prefixes(pf), |i| matches(&f.ids, i, &prefixes));
    }
}

#[test]
fn allowed_subset_and_drafted_items() {
    let f = fixture();
    let allowed: ItemSet = (0..N as u32).filter(|i| i % 3 != 0).map(ItemId).collect();
    let drafted: ItemSet = (0..N as u32).filter(|i| i % 5 == 0).map(ItemId).collect();
    check(&f, DraftFilter::all().allowed(&allowed), |i| allowed.contains(i));
    check(&f, DraftFilter::all().excluding(&drafted), |i| !drafted.contains(i));
    let prefixes = vec![vec![2], vec![0, 1]];
    let pf = PrefixFilter { ids: &f.ids, trie: &f.trie, prefixes: &prefixes };
    let all_three = DraftFilter::all().allowed(&allowed).excluding(&drafted).prefixes(pf);
    check(&f, all_three, |i| allowed.contains(i) && !drafted.contains(i) && matches(&f.ids, i, &prefixes));
}

#[test]
fn each_query_keeps_its_own_prefixes() {
    let f = fixture();
    let d = drafter(&f, 16_384);
    let (h1, h2) = ([ItemId(1), ItemId(2)], [ItemId(300)]);
    let (p1, p2) = (vec![vec![0]], vec![vec![3, 3]]);
    let filters = [
        DraftFilter::all().prefixes(PrefixFilter { ids: &f.ids, trie: &f.trie, prefixes: &p1 }),
        DraftFilter::all().prefixes(PrefixFilter { ids: &f.ids, trie: &f.trie, prefixes: &p2 }),
    ];
    let out = d.draft(&[Query::new(&h1), Query::new(&h2)], &filters, 50).unwrap();
    assert!(!out[0].is_empty() && !out[1].is_empty());
    assert!(out[0].iter().all(|n| matches(&f.ids, n.item, &p1)));
    assert!(out[1].iter().all(|n| matches(&f.ids, n.item, &p2)));
}

#[test]
fn filters_that_allow_nothing_give_empty_drafts() {
    let f = fixture();
    let d = drafter(&f, 16_384);
    let h = [ItemId(5)];
    let empty = ItemSet::new();
    let no_prefixes: Vec<Vec<u32>> = Vec::new();
    let unknown_prefix = vec![vec![9, 9]];
    let filters = [
        DraftFilter::all().allowed(&empty),
        DraftFilter::all().prefixes(PrefixFilter { ids: &f.ids, trie: &f.trie, prefixes: &no_prefixes }),
        DraftFilter::all().prefixes(PrefixFilter { ids: &f.ids, trie: &f.trie, prefixes: &unknown_prefix }),
    ];
    let out = d.draft(&[Query::new(&h); 3], &filters, 10).unwrap();
    assert!(out.iter().all(Vec::is_empty), "{out:?}");
}
