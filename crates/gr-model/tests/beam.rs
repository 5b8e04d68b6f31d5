//! Beam search against exhaustive search over the catalog.

use gr_model::{BeamSearch, Constraint};

use crate::common::{TestBackend, encode, ids, layout, model, trie};

#[test]
fn constrained_top1_is_the_exhaustive_argmax_and_results_are_items() {
    let ids = ids();
    let trie = trie(&ids);
    for seed in [1, 2, 3] {
        let model = model(seed);
        let enc = encode(&model, &ids);
        // A beam as wide as the catalog explores every item, so its top-1 must be
        // the best item by exhaustive scoring.
        let steps = model
            .beam_search(&enc, &layout(), ids.len(), 4, Constraint::Trie(&trie))
            .unwrap();
        let all: Vec<Vec<u32>> = (0..ids.len() as u32)
            .map(|i| ids.codes(i).to_vec())
            .collect();
        let scores = model
            .score(&enc, &vec![all.clone(); enc.num_queries()], &layout())
            .unwrap();
        for (q, beams) in steps[3].iter().enumerate() {
            let best = (0..all.len())
                .max_by(|&a, &b| scores.sum(q, a, 4).total_cmp(&scores.sum(q, b, 4)))
                .unwrap();
            assert_eq!(beams[0].codes, all[best], "seed {seed} query {q}");
            assert!((beams[0].log_prob - scores.sum(q, best, 4)).abs() < 1e-4);
            assert_eq!(beams.len(), ids.len(), "every item is a finished beam");
            for b in beams {
                assert!(
                    ids.item_of(&b.codes).is_some(),
                    "beam {:?} is not an item",
                    b.codes
                );
            }
        }
        // A narrow constrained beam still only yields items.
        let narrow = model
            .beam_search(&enc, &layout(), 3, 4, Constraint::Trie(&trie))
            .unwrap();
        for beams in &narrow[3] {
            assert_eq!(beams.len(), 3);
            assert!(beams.iter().all(|b| ids.item_of(&b.codes).is_some()));
            assert!(beams.windows(2).all(|w| w[0].log_prob >= w[1].log_prob));
        }
    }
}

#[test]
fn unconstrained_full_width_beam_finds_the_best_code_sequence() {
    let ids = ids();
    let model = model(4);
    let enc = encode(&model, &ids);
    // Exhaustive over all 4^4 digit sequences.
    let all: Vec<Vec<u32>> = (0..256u32)
        .map(|n| vec![n / 64, n / 16 % 4, n / 4 % 4, n % 4])
        .collect();
    let scores = model
        .score(&enc, &vec![all.clone(); enc.num_queries()], &layout())
        .unwrap();
    let steps = model
        .beam_search(&enc, &layout(), 256, 4, Constraint::None)
        .unwrap();
    for (q, beams) in steps[3].iter().enumerate() {
        let best = (0..256)
            .max_by(|&a, &b| scores.sum(q, a, 4).total_cmp(&scores.sum(q, b, 4)))
            .unwrap();
        assert_eq!(beams[0].codes, all[best], "query {q}");
    }
}

#[test]
fn cached_and_uncached_beam_search_agree_step_by_step() {
    let ids = ids();
    let trie = trie(&ids);
    let model = model(5);
    let enc = encode(&model, &ids);
    for constraint in [Constraint::None, Constraint::Trie(&trie)] {
        let mut cached = BeamSearch::<TestBackend>::new(enc.num_queries(), 6, true);
        let mut uncached = BeamSearch::<TestBackend>::new(enc.num_queries(), 6, false);
        for _ in 0..4 {
            cached.step(&model, &enc, &layout(), constraint).unwrap();
            uncached.step(&model, &enc, &layout(), constraint).unwrap();
            for (a, b) in cached.beams().iter().zip(uncached.beams()) {
                assert_eq!(a.len(), b.len());
                for (x, y) in a.iter().zip(b) {
                    assert_eq!(x.codes, y.codes);
                    assert!((x.log_prob - y.log_prob).abs() < 1e-4);
                }
            }
        }
        assert!(
            cached.step(&model, &enc, &layout(), constraint).is_err(),
            "a fifth digit does not exist"
        );
    }
}

#[test]
fn per_query_tries_keep_each_query_inside_its_subset() {
    let ids = ids();
    let model = model(6);
    let enc = encode(&model, &ids);
    let subsets: [&[u32]; 4] = [&[0, 1, 2], &[4, 5, 6, 7], &[13], &[8, 9, 10, 11, 12]];
    let tries: Vec<semid::PrefixTrie> = subsets
        .iter()
        .map(|s| semid::PrefixTrie::build(4, s.iter().map(|&i| (i, ids.codes(i)))).unwrap())
        .collect();
    let steps = model
        .beam_search(&enc, &layout(), 10, 4, Constraint::PerQuery(&tries))
        .unwrap();
    for (q, beams) in steps[3].iter().enumerate() {
        assert_eq!(
            beams.len(),
            subsets[q].len(),
            "query {q}: every subset item is found once"
        );
        for b in beams {
            let item = ids.item_of(&b.codes).unwrap();
            assert!(
                subsets[q].contains(&item),
                "query {q}: item {item} outside its subset"
            );
        }
    }
    assert!(
        model
            .beam_search(&enc, &layout(), 10, 4, Constraint::PerQuery(&tries[..2]))
            .is_err()
    );
}

#[test]
fn batched_results_equal_one_by_one_results() {
    let ids = ids();
    let trie = trie(&ids);
    let model = model(9);
    // Histories of different lengths: in the batch the shorter ones are padded.
    let enc = encode(&model, &ids);
    let batched = model
        .beam_search(&enc, &layout(), 5, 4, Constraint::Trie(&trie))
        .unwrap();
    for (q, history) in crate::common::histories().iter().enumerate() {
        let alone = model
            .encode(&[history.as_slice()], &ids, &crate::common::device())
            .unwrap();
        let single = model
            .beam_search(&alone, &layout(), 5, 4, Constraint::Trie(&trie))
            .unwrap();
        for step in 0..4 {
            let (a, b) = (&batched[step][q], &single[step][0]);
            assert_eq!(a.len(), b.len());
            for (x, y) in a.iter().zip(b) {
                assert_eq!(x.codes, y.codes, "query {q} step {step}");
                assert!(
                    (x.log_prob - y.log_prob).abs() < 1e-4,
                    "query {q} step {step}"
                );
            }
        }
        // Selecting the query out of the batch's encoder output gives the same beams too.
        let selected = enc.select_queries(&[q]);
        let picked = model
            .beam_search(&selected, &layout(), 5, 4, Constraint::Trie(&trie))
            .unwrap();
        assert_eq!(picked[3][0][0].codes, single[3][0][0].codes);
    }
}
