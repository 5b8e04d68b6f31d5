//! The loop against independent oracles, with the table verifier and drafter.

use std::collections::HashSet;

use recdata::ItemId;
use semid::{PrefixTrie, SemanticIds};
use speculative::{
    ItemSpace, Normalisation, Output, Recommendation, Request, Selection, Source, SpecGr, SpecGrConfig, baselines,
};

use crate::common::{TableDrafter, TableVerifier, catalogue, first, histories, items};

const ITEMS: usize = 60;
const IN_SAMPLE: usize = 45;

fn run(
    cfg: &SpecGrConfig,
    ids: &SemanticIds,
    verifier: &TableVerifier,
    drafter: &TableDrafter,
    hs: &[Vec<ItemId>],
) -> Output {
    let engine = SpecGr::new(cfg.clone(), ItemSpace::new(ids, &first(IN_SAMPLE))).unwrap();
    let requests: Vec<Request<'_>> = hs.iter().map(|h| Request::new(h)).collect();
    engine.recommend(verifier, drafter, &requests).unwrap()
}

/// The oracle score: the mean of the exact log-probabilities over 4 digits (3 for unseen items).
fn oracle_score(v: &TableVerifier, ids: &SemanticIds, history: &[ItemId], item: ItemId) -> f32 {
    let digits = if item.index() < IN_SAMPLE { 4 } else { 3 };
    v.sequence(history, &ids.codes(item.0)[..digits]) / digits as f32
}

/// That `list` holds the best `k` of `expected` (item, oracle score), best first, with
/// the oracle's scores.
fn assert_best_k_by_score(list: &[Recommendation], mut expected: Vec<(ItemId, f32)>, k: usize) {
    expected.sort_by(|a, b| b.1.total_cmp(&a.1));
    expected.truncate(k);
    assert_eq!(
        list.iter().map(|r| r.item).collect::<Vec<_>>(),
        expected.iter().map(|e| e.0).collect::<Vec<_>>()
    );
    for (r, e) in list.iter().zip(&expected) {
        assert!((r.score - e.1).abs() < 1e-5, "score {} vs oracle {}", r.score, e.1);
    }
}

#[test]
fn without_drafting_the_result_is_the_beam_search_list() {
    let ids = catalogue(ITEMS, 1);
    let trie = PrefixTrie::from_ids(&ids);
    for (seed, constrained) in [(2, true), (3, false)] {
        let verifier = TableVerifier::new(seed, constrained.then(|| trie.clone()));
        let drafter = TableDrafter::new(seed, ITEMS);
        let hs = histories(5, ITEMS, seed);
        let cfg = SpecGrConfig {
            draft_size: 0,
            ..SpecGrConfig::new(8, 0, 12, -1.0)
        };
        let out = run(&cfg, &ids, &verifier, &drafter, &hs);
        assert!(drafter.calls.borrow().is_empty(), "δ = 0 never drafts");
        let space = ItemSpace::new(&ids, &first(IN_SAMPLE));
        let requests: Vec<Request<'_>> = hs.iter().map(|h| Request::new(h)).collect();
        let tiger = baselines::tiger(&verifier, &space, &requests, 8, 12).unwrap();
        for (q, h) in hs.iter().enumerate() {
            // Oracle: the plain beam search's finished beams that are items, in order.
            let finished = &verifier.beams(h, 12, 4)[3];
            let expected: Vec<u32> = finished
                .iter()
                .filter_map(|b| ids.item_of(&b.codes))
                .take(8)
                .collect();
            assert_eq!(items(&out.lists[q]), expected, "seed {seed} query {q}");
            assert_eq!(
                out.lists[q],
                tiger[q]
                    .iter()
                    .map(|r| speculative::Recommendation {
                        source: Source::Beam,
                        ..*r
                    })
                    .collect::<Vec<_>>()
            );
            if constrained {
                assert_eq!(out.lists[q].len(), 8);
            }
        }
        assert_eq!(out.stats.beam_steps, 4);
        assert_eq!(out.stats.drafted(), 0);
    }
}

#[test]
fn with_threshold_minus_infinity_the_first_drafts_are_ranked_by_score() {
    let ids = catalogue(ITEMS, 4);
    let verifier = TableVerifier::new(5, Some(PrefixTrie::from_ids(&ids)));
    let drafter = TableDrafter::new(6, ITEMS);
    let hs = histories(4, ITEMS, 7);
    let k = 6;
    let check = |draft_size: usize, selection: Selection| {
        let cfg = SpecGrConfig {
            selection,
            ..SpecGrConfig::new(k, draft_size, 5, f32::NEG_INFINITY)
        };
        let out = run(&cfg, &ids, &verifier, &drafter, &hs);
        for (q, h) in hs.iter().enumerate() {
            let drafted: Vec<ItemId> = drafter.ranking(h).into_iter().take(draft_size).collect();
            let mut expected: Vec<(ItemId, f32)> = drafted
                .iter()
                .map(|&i| (i, oracle_score(&verifier, &ids, h, i)))
                .collect();
            if selection == Selection::DraftingOrder {
                expected.truncate(k);
            }
            assert_best_k_by_score(&out.lists[q], expected, k);
            assert!(out.lists[q].iter().all(|r| r.source == Source::Accepted));
        }
        // Everything drafted in round 0 is accepted, so every query exits after one round.
        assert_eq!(out.stats.rounds.len(), 1);
        assert_eq!(out.stats.rounds[0].exited, hs.len());
        assert_eq!(out.stats.beam_steps, 0);
        drafter.calls.borrow_mut().clear();
    };
    check(k, Selection::BestScore);
    check(k, Selection::DraftingOrder);
    check(15, Selection::DraftingOrder);
    check(15, Selection::BestScore);
}

#[test]
fn normalising_by_all_digits_divides_an_unseen_items_sum_by_the_full_length() {
    let ids = catalogue(ITEMS, 4);
    let verifier = TableVerifier::new(5, Some(PrefixTrie::from_ids(&ids)));
    let drafter = TableDrafter::new(6, ITEMS);
    let hs = histories(4, ITEMS, 7);
    let (k, draft_size) = (6, 20);
    let cfg = SpecGrConfig {
        normalisation: Normalisation::AllDigits,
        ..SpecGrConfig::new(k, draft_size, 5, f32::NEG_INFINITY)
    };
    let out = run(&cfg, &ids, &verifier, &drafter, &hs);
    let mut unseen_drafted = 0;
    for (q, h) in hs.iter().enumerate() {
        // Oracle: the sum over the scored digits (4, or 3 for an unseen item), over 4.
        let drafted: Vec<ItemId> = drafter.ranking(h).into_iter().take(draft_size).collect();
        unseen_drafted += drafted.iter().filter(|i| i.index() >= IN_SAMPLE).count();
        let expected: Vec<(ItemId, f32)> = drafted
            .iter()
            .map(|&i| (i, oracle_score(&verifier, &ids, h, i) * if i.index() < IN_SAMPLE { 1.0 } else { 0.75 }))
            .collect();
        assert_best_k_by_score(&out.lists[q], expected, k);
    }
    assert!(unseen_drafted > 0, "the check needs unseen drafts");
}

#[test]
fn guided_redrafting_only_drafts_under_the_querys_own_beams() {
    let ids = catalogue(ITEMS, 8);
    let verifier = TableVerifier::new(9, Some(PrefixTrie::from_ids(&ids)));
    let hs = histories(6, ITEMS, 10);
    let beam_size = 3;
    for first_round in [1, 2] {
        let drafter = TableDrafter::new(11, ITEMS);
        // A strict threshold keeps queries drafting for several rounds.
        let mut cfg = SpecGrConfig::new(10, 4, beam_size, -1.3);
        if first_round == 2 {
            cfg.redraft_from = speculative::RedraftFrom::SecondStep;
        }
        let out = run(&cfg, &ids, &verifier, &drafter, &hs);
        let calls = drafter.calls.borrow();
        let mut guided_calls = 0;
        for (q, h) in hs.iter().enumerate() {
            let oracle = verifier.beams(h, beam_size, 4);
            let mine: Vec<_> = calls.iter().filter(|c| &c.history == h).collect();
            for (round, call) in mine.iter().enumerate() {
                if round < first_round {
                    assert!(
                        call.prefixes.is_none(),
                        "query {q} round {round} is not guided"
                    );
                    continue;
                }
                guided_calls += 1;
                let allowed: HashSet<Vec<u32>> =
                    oracle[round - 1].iter().map(|b| b.codes.clone()).collect();
                assert_eq!(
                    call.prefixes
                        .as_ref()
                        .unwrap()
                        .iter()
                        .cloned()
                        .collect::<HashSet<_>>(),
                    allowed
                );
                for item in &call.items {
                    let prefix = ids.codes(item.0)[..round].to_vec();
                    assert!(
                        allowed.contains(&prefix),
                        "query {q} round {round} drafted {item} outside its beams"
                    );
                }
            }
            assert!(out.lists[q].len() == 10);
        }
        assert!(
            guided_calls > 0,
            "the threshold must leave some query drafting past round {first_round}"
        );
    }
}

#[test]
fn a_batch_gives_the_same_lists_as_its_queries_one_by_one() {
    let ids = catalogue(ITEMS, 12);
    let verifier = TableVerifier::new(13, Some(PrefixTrie::from_ids(&ids)));
    let drafter = TableDrafter::new(14, ITEMS);
    let hs = histories(8, ITEMS, 15);
    for cfg in [
        SpecGrConfig::new(5, 4, 4, -1.4),
        SpecGrConfig::new(5, 4, 6, -1.6).with_v2_choices(2),
        SpecGrConfig {
            adaptive_exit: false,
            rerank: false,
            ..SpecGrConfig::new(7, 5, 5, -1.5)
        },
    ] {
        let batch = run(&cfg, &ids, &verifier, &drafter, &hs);
        // Queries must exit in different rounds for the test to mean anything.
        let exits: usize = batch.stats.rounds.iter().filter(|r| r.exited > 0).count();
        if cfg.adaptive_exit {
            assert!(exits >= 2, "exits by round {:?}", batch.stats.rounds);
        }
        let engine = SpecGr::new(cfg.clone(), ItemSpace::new(&ids, &first(IN_SAMPLE))).unwrap();
        let requests: Vec<Request<'_>> = hs.iter().map(|h| Request::new(h)).collect();
        let mut done = Vec::new();
        let batched = engine
            .recommend_batched(&verifier, &drafter, &requests, 3, &mut |n| done.push(n))
            .unwrap();
        assert_eq!(done, vec![3, 6, 8]);
        assert_eq!(batched.lists, batch.lists);
        let mut merged = speculative::StepStats::default();
        for (q, h) in hs.iter().enumerate() {
            let single = run(&cfg, &ids, &verifier, &drafter, std::slice::from_ref(h));
            assert_eq!(single.lists[0], batch.lists[q], "query {q}");
            merged.merge(&single.stats);
        }
        assert_eq!(merged.rounds, batch.stats.rounds);
        assert_eq!(merged.results, batch.stats.results);
    }
}

#[test]
fn every_switch_gives_k_distinct_items_in_score_order() {
    let ids = catalogue(ITEMS, 16);
    let trie = PrefixTrie::from_ids(&ids);
    let hs = histories(6, ITEMS, 17);
    let base = SpecGrConfig::new(9, 4, 9, -1.4);
    let configs = [
        base.clone(),
        SpecGrConfig {
            likelihood_adjustment: false,
            ..base.clone()
        },
        SpecGrConfig {
            guided_redrafting: false,
            ..base.clone()
        },
        SpecGrConfig {
            rerank: false,
            ..base.clone()
        },
        SpecGrConfig {
            adaptive_exit: false,
            ..base.clone()
        },
        SpecGrConfig {
            max_rounds: 2,
            ..base.clone()
        },
        base.clone().with_v2_choices(3),
    ];
    for (c, cfg) in configs.iter().enumerate() {
        let verifier = TableVerifier::new(18 + c as u64, Some(trie.clone()));
        let drafter = TableDrafter::new(30 + c as u64, ITEMS);
        let out = run(cfg, &ids, &verifier, &drafter, &hs);
        for list in &out.lists {
            assert_eq!(list.len(), 9, "config {c}");
            assert_eq!(
                list.iter().map(|r| r.item).collect::<HashSet<_>>().len(),
                9,
                "config {c}: duplicates"
            );
            if cfg.rerank {
                assert!(
                    list.windows(2).all(|w| w[0].score >= w[1].score),
                    "config {c}"
                );
            }
            // Accepted items come first and are all above the threshold.
            for r in list.iter().filter(|r| r.source == Source::Accepted) {
                assert!(r.score > cfg.threshold);
            }
        }
        // Drafted counts per round match what the drafter returned.
        let returned: usize = drafter.calls.borrow().iter().map(|c| c.items.len()).sum();
        assert_eq!(out.stats.drafted(), returned, "config {c}");
        assert!(out.stats.rounds.len() <= cfg.max_rounds);
        if !cfg.adaptive_exit {
            assert!(out.stats.rounds.iter().all(|r| r.exited == 0));
            assert_eq!(out.stats.rounds.len(), cfg.max_rounds.min(4));
        }
    }
}

#[test]
fn without_reranking_accepted_items_keep_drafting_order() {
    let ids = catalogue(ITEMS, 40);
    let verifier = TableVerifier::new(41, Some(PrefixTrie::from_ids(&ids)));
    let drafter = TableDrafter::new(42, ITEMS);
    let hs = histories(4, ITEMS, 43);
    let cfg = SpecGrConfig {
        rerank: false,
        ..SpecGrConfig::new(5, 20, 5, -1.6)
    };
    let out = run(&cfg, &ids, &verifier, &drafter, &hs);
    for (q, h) in hs.iter().enumerate() {
        let ranking = drafter.ranking(h);
        let position = |i: ItemId| ranking.iter().position(|&x| x == i).unwrap();
        let accepted: Vec<usize> = out.lists[q]
            .iter()
            .filter(|r| r.source == Source::Accepted)
            .map(|r| position(r.item))
            .collect();
        assert!(
            accepted.windows(2).all(|w| w[0] < w[1]),
            "query {q}: {accepted:?}"
        );
    }
}

#[test]
fn subset_ranking_stays_inside_the_subset() {
    let ids = catalogue(ITEMS, 19);
    let verifier = TableVerifier::new(20, Some(PrefixTrie::from_ids(&ids)));
    let drafter = TableDrafter::new(21, ITEMS);
    let hs = histories(4, ITEMS, 22);
    let subsets: Vec<speculative::ItemSet> = (0..hs.len())
        .map(|q| {
            (0..ITEMS as u32)
                .filter(|i| (i + q as u32).is_multiple_of(3))
                .map(ItemId)
                .collect()
        })
        .collect();
    let engine = SpecGr::new(
        SpecGrConfig::new(6, 3, 30, -1.3),
        ItemSpace::new(&ids, &first(IN_SAMPLE)),
    )
    .unwrap();
    let requests: Vec<Request<'_>> = hs
        .iter()
        .zip(&subsets)
        .map(|(h, s)| Request::new(h).within(s))
        .collect();
    let out = engine.recommend(&verifier, &drafter, &requests).unwrap();
    for (q, list) in out.lists.iter().enumerate() {
        assert_eq!(list.len(), 6);
        assert!(
            list.iter().all(|r| subsets[q].contains(r.item)),
            "query {q}: {:?}",
            items(list)
        );
    }
    for call in drafter.calls.borrow().iter() {
        let q = hs.iter().position(|h| h == &call.history).unwrap();
        assert!(call.items.iter().all(|&i| subsets[q].contains(i)));
    }
}
