//! TIGER_C and the ensembles against hand-computed and brute-force oracles.

use recdata::ItemId;
use semid::{PrefixTrie, SemanticIds};
use speculative::baselines::{Ensemble, EnsembleConfig, batch_scoring, ensemble, tiger, tiger_c};
use speculative::{ItemSpace, Recommendation, Request, Source};

use crate::common::{TableDrafter, TableVerifier, catalogue, first, histories, items, layout};

fn rec(item: u32, score: f32) -> Recommendation {
    Recommendation {
        item: ItemId(item),
        score,
        source: Source::Baseline,
    }
}

#[test]
fn tiger_c_mixes_in_unseen_items_by_code_prefix() {
    let mut ids = SemanticIds::new(layout());
    // Items 0-3 in-sample; 4 and 5 unseen under item 1's prefix, 6 under item 0's, 7 elsewhere.
    for codes in [
        [0, 0, 0],
        [1, 1, 1],
        [2, 2, 2],
        [3, 3, 3],
        [1, 1, 1],
        [1, 1, 1],
        [0, 0, 0],
        [3, 0, 3],
    ] {
        ids.push(&codes).unwrap();
    }
    let space = ItemSpace::new(&ids, &first(4));
    let list = vec![rec(1, -0.1), rec(0, -0.2), rec(2, -0.3), rec(3, -0.4)];
    // ε = 0.5 of K = 4: at most 2 unseen, in the order of the items they match (4, 5 under item 1).
    assert_eq!(
        items(&tiger_c(&list, &space, 4, 0.5, None)),
        vec![1, 0, 4, 5]
    );
    // ε = 0.75: 3 unseen (4, 5, then 6 under item 0).
    assert_eq!(
        items(&tiger_c(&list, &space, 4, 0.75, None)),
        vec![1, 4, 5, 6]
    );
    assert_eq!(
        items(&tiger_c(&list, &space, 4, 0.0, None)),
        vec![1, 0, 2, 3]
    );
    let allowed: speculative::ItemSet = [0, 1, 2, 3, 5].into_iter().map(ItemId).collect();
    assert_eq!(
        items(&tiger_c(&list, &space, 4, 0.5, Some(&allowed))),
        vec![1, 0, 2, 5]
    );
}

#[test]
fn ensembles_follow_their_definitions() {
    let n = 40;
    let ids = catalogue(n, 80);
    let verifier = TableVerifier::new(81, Some(PrefixTrie::from_ids(&ids)));
    let drafter = TableDrafter::new(82, n);
    let in_sample = first(30);
    let space = ItemSpace::new(&ids, &in_sample);
    let hs = histories(3, n, 83);
    let requests: Vec<Request<'_>> = hs.iter().map(|h| Request::new(h)).collect();
    let score = |h: &[ItemId], i: ItemId| {
        let d = if i.index() < 30 { 4 } else { 3 };
        verifier.sequence(h, &ids.codes(i.0)[..d]) / d as f32
    };
    let cfg = |kind| EnsembleConfig {
        kind,
        k: 5,
        beam_size: 6,
        pool: 6,
        likelihood_adjustment: true,
    };

    // 2-stage: the drafter's top 5, re-ranked by the verifier.
    let two = ensemble(
        &verifier,
        &drafter,
        &space,
        &requests,
        &cfg(Ensemble::TwoStage),
    )
    .unwrap();
    for (q, h) in hs.iter().enumerate() {
        let mut expected: Vec<ItemId> = drafter.ranking(h).into_iter().take(5).collect();
        expected.sort_by(|&a, &b| score(h, b).total_cmp(&score(h, a)));
        assert_eq!(two[q].iter().map(|r| r.item).collect::<Vec<_>>(), expected);
    }

    // Rank-based: mean position in TIGER's list and the drafter's (missing = list length).
    let tiger_lists = tiger(&verifier, &space, &requests, 6, 6).unwrap();
    let rank = ensemble(&verifier, &drafter, &space, &requests, &cfg(Ensemble::Rank)).unwrap();
    for (q, h) in hs.iter().enumerate() {
        let t: Vec<ItemId> = tiger_lists[q].iter().map(|r| r.item).collect();
        let d: Vec<ItemId> = drafter.ranking(h).into_iter().take(6).collect();
        let mut union: Vec<ItemId> = t.clone();
        union.extend(d.iter().filter(|i| !t.contains(i)));
        let pos = |l: &[ItemId], i: ItemId| l.iter().position(|&x| x == i).unwrap_or(l.len());
        let mut expected = union.clone();
        expected.sort_by_key(|&i| pos(&t, i) + pos(&d, i)); // stable: ties keep union order
        expected.truncate(5);
        assert_eq!(
            rank[q].iter().map(|r| r.item).collect::<Vec<_>>(),
            expected,
            "query {q}"
        );
    }

    // Score-based with all weight on TIGER: the union ranked by verification score.
    let by_score = ensemble(
        &verifier,
        &drafter,
        &space,
        &requests,
        &cfg(Ensemble::Score { weight: 1.0 }),
    )
    .unwrap();
    for (q, h) in hs.iter().enumerate() {
        let mut union: Vec<ItemId> = tiger_lists[q].iter().map(|r| r.item).collect();
        for i in drafter.ranking(h).into_iter().take(6) {
            if !union.contains(&i) {
                union.push(i);
            }
        }
        union.sort_by(|&a, &b| score(h, b).total_cmp(&score(h, a)));
        union.truncate(5);
        assert_eq!(
            by_score[q].iter().map(|r| r.item).collect::<Vec<_>>(),
            union,
            "query {q}"
        );
    }
}

#[test]
fn batch_scoring_ranks_the_subset_by_verification_score_in_any_chunking() {
    let n = 40;
    let ids = catalogue(n, 90);
    let verifier = TableVerifier::new(91, Some(PrefixTrie::from_ids(&ids)));
    let in_sample = first(30);
    let space = ItemSpace::new(&ids, &in_sample);
    let hs = histories(3, n, 92);
    // Query 0 ranks the whole catalog, 1 and 2 a subset each (2's smaller than a chunk).
    let subset_a: speculative::ItemSet = (0..n as u32).filter(|i| i % 3 != 0).map(ItemId).collect();
    let subset_b: speculative::ItemSet = [5, 31, 17, 38].into_iter().map(ItemId).collect();
    let requests = vec![
        Request::new(&hs[0]),
        Request::new(&hs[1]).within(&subset_a),
        Request::new(&hs[2]).within(&subset_b),
    ];
    let allowed = |q: usize, i: ItemId| match q {
        1 => subset_a.contains(i),
        2 => subset_b.contains(i),
        _ => true,
    };
    for adjust in [true, false] {
        let score = |h: &[ItemId], i: ItemId| {
            let d = if adjust && i.index() >= 30 { 3 } else { 4 };
            verifier.sequence(h, &ids.codes(i.0)[..d]) / d as f32
        };
        let one_pass = batch_scoring(&verifier, &space, &requests, 7, 1000, adjust).unwrap();
        let chunked = batch_scoring(&verifier, &space, &requests, 7, 6, adjust).unwrap();
        assert_eq!(items(&one_pass[0]), items(&chunked[0]));
        for q in 0..3 {
            assert_eq!(items(&one_pass[q]), items(&chunked[q]), "query {q}");
            // Brute force: every allowed item's score, sorted.
            let mut expected: Vec<ItemId> =
                (0..n as u32).map(ItemId).filter(|&i| allowed(q, i)).collect();
            expected.sort_by(|&a, &b| score(&hs[q], b).total_cmp(&score(&hs[q], a)));
            expected.truncate(7);
            assert_eq!(
                one_pass[q].iter().map(|r| r.item).collect::<Vec<_>>(),
                expected,
                "query {q}, adjust {adjust}"
            );
        }
        assert_eq!(one_pass[2].len(), 4, "a subset smaller than K gives all it has");
    }
    // Without the adjustment the best item is the exhaustive argmax that a
    // constrained beam search as wide as the catalog finds.
    let best = batch_scoring(&verifier, &space, &requests[..1], 1, 5, false).unwrap();
    let beams = tiger(&verifier, &space, &requests[..1], 1, n).unwrap();
    assert_eq!(items(&best[0]), items(&beams[0]));
}
