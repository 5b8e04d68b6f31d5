//! The TIGER adapter on a tiny seeded model (CPU backend), with a real SemanticKNN drafter.

use burn::backend::Flex;
use burn::tensor::backend::Backend;
use drafters::{SemanticKnn, SemanticKnnConfig};
use gr_model::{Constraint, Tiger, TigerConfig, TigerPreset, TigerVerifier};
use recdata::ItemId;
use semid::{PrefixTrie, SemanticIds};
use speculative::{ItemSpace, Request, SpecGr, SpecGrConfig, Verifier};

use crate::spec_common::{catalogue, first, histories, items, unit};

type TestBackend = Flex;
const ITEMS: usize = 40;
const IN_SAMPLE: usize = 30;

fn model(seed: u64, ids: &SemanticIds) -> Tiger<TestBackend> {
    let device = Default::default();
    let _guard = crate::common::rng_lock();
    TestBackend::seed(&device, seed);
    crate::common::materialised(TigerConfig::preset(TigerPreset::Tiny, ids.layout().vocab_size()).init(&device).unwrap())
}

fn knn(seed: u64) -> SemanticKnn {
    let dim = 8;
    let rows: Vec<f32> = (0..ITEMS * dim).map(|i| unit(seed, [i as u64])).collect();
    let items: Vec<ItemId> = (0..ITEMS as u32).map(ItemId).collect();
    SemanticKnn::new(SemanticKnnConfig::new(dim), &items, &rows).unwrap()
}

#[test]
fn adapter_scores_match_naive_teacher_forcing() {
    let ids = catalogue(ITEMS, 60);
    let model = model(61, &ids);
    let verifier = TigerVerifier::new(&model, &ids, Constraint::None, Default::default());
    let hs = histories(4, ITEMS, 62);
    let refs: Vec<&[ItemId]> = hs.iter().map(Vec::as_slice).collect();
    let mut session = verifier.begin(&refs).unwrap();
    // Queries 1 and 3 only; mixed lengths (3 digits for "unseen" items).
    let cands: Vec<Vec<&[u32]>> = vec![
        vec![ids.codes(0), &ids.codes(5)[..3], ids.codes(7)],
        vec![&ids.codes(9)[..3], ids.codes(2)],
    ];
    let got = verifier.score(&mut session, &[1, 3], &cands).unwrap();
    let raw: Vec<Vec<u32>> = hs.iter().map(|h| h.iter().map(|i| i.0).collect()).collect();
    let enc = model
        .encode(&[&raw[1], &raw[3]], &ids, &Default::default())
        .unwrap();
    let owned: Vec<Vec<Vec<u32>>> = cands
        .iter()
        .map(|c| c.iter().map(|s| s.to_vec()).collect())
        .collect();
    let naive = model.score_naive(&enc, &owned, ids.layout()).unwrap();
    for (q, c) in got.iter().zip(&naive.log_probs) {
        for (a, b) in q.iter().zip(c) {
            assert_eq!(a.len(), b.len());
            assert!(
                a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-4),
                "{a:?} vs {b:?}"
            );
        }
    }
    // At depth 0 every candidate extends the root beam: the tree decodes one level per digit.
    assert_eq!(verifier.decoder_calls(&session), 4);
}

#[test]
fn drafts_verified_with_the_beam_step_match_naive_scoring_and_beam_search() {
    for one_call in [false, true] {
        check_shared_rounds(one_call);
    }
}

fn check_shared_rounds(one_call: bool) {
    let ids = catalogue(ITEMS, 78);
    let trie = PrefixTrie::from_ids(&ids);
    let model = model(79, &ids);
    let hs = histories(3, ITEMS, 80);
    let raw: Vec<Vec<u32>> = hs.iter().map(|h| h.iter().map(|i| i.0).collect()).collect();
    let refs: Vec<&[u32]> = raw.iter().map(Vec::as_slice).collect();
    let enc = model.encode(&refs, &ids, &Default::default()).unwrap();
    let oracle = model
        .beam_search(&enc, ids.layout(), 4, 4, Constraint::Trie(&trie))
        .unwrap();
    let verifier = TigerVerifier::new(&model, &ids, Constraint::Trie(&trie), Default::default())
        .with_one_call_rounds(one_call);
    let hrefs: Vec<&[ItemId]> = hs.iter().map(Vec::as_slice).collect();
    let mut session = verifier.begin(&hrefs).unwrap();
    let all: Vec<Vec<u32>> = (0..ITEMS as u32).map(|i| ids.codes(i).to_vec()).collect();
    for (depth, oracle_step) in oracle.iter().enumerate() {
        // Every item, full or without its identification digit: some extend a beam, most do not.
        let cands: Vec<Vec<&[u32]>> = (0..3)
            .map(|q| {
                all.iter()
                    .enumerate()
                    .map(|(i, c)| if (i + q) % 2 == 0 { &c[..] } else { &c[..3] })
                    .collect()
            })
            .collect();
        let before = verifier.decoder_calls(&session);
        let got = verifier.score(&mut session, &[0, 1, 2], &cands).unwrap();
        let owned: Vec<Vec<Vec<u32>>> = cands
            .iter()
            .map(|c| c.iter().map(|s| s.to_vec()).collect())
            .collect();
        let naive = model.score_naive(&enc, &owned, ids.layout()).unwrap();
        for (q, (a, b)) in got.iter().zip(&naive.log_probs).enumerate() {
            for (c, (x, y)) in a.iter().zip(b).enumerate() {
                assert_eq!(x.len(), y.len());
                assert!(
                    x.iter().zip(y).all(|(u, v)| (u - v).abs() < 1e-4),
                    "depth {depth} query {q} cand {c}: {x:?} vs {y:?}"
                );
            }
        }
        let during = verifier.decoder_calls(&session);
        // The beam step reuses the round's decoder call.
        let beams = verifier.beam_step(&mut session, &[0, 1, 2], 4).unwrap();
        assert_eq!(verifier.decoder_calls(&session), during, "depth {depth}");
        assert!(during > before);
        for (q, got) in beams.iter().enumerate() {
            let want = &oracle_step[q];
            assert_eq!(
                got.iter().map(|b| &b.codes).collect::<Vec<_>>(),
                want.iter().map(|b| &b.codes).collect::<Vec<_>>()
            );
            assert!(
                got.iter()
                    .zip(want)
                    .all(|(a, b)| (a.log_prob - b.log_prob).abs() < 1e-4)
            );
        }
    }
}

#[test]
fn without_drafting_specgr_is_tigers_constrained_beam_search() {
    let ids = catalogue(ITEMS, 63);
    let trie = PrefixTrie::from_ids(&ids);
    let model = model(64, &ids);
    let verifier = TigerVerifier::new(&model, &ids, Constraint::Trie(&trie), Default::default());
    let hs = histories(3, ITEMS, 65);
    let engine = SpecGr::new(
        SpecGrConfig::new(5, 0, 8, -1.0),
        ItemSpace::new(&ids, &first(IN_SAMPLE)),
    )
    .unwrap();
    let requests: Vec<Request<'_>> = hs.iter().map(|h| Request::new(h)).collect();
    let out = engine.recommend(&verifier, &knn(66), &requests).unwrap();
    let raw: Vec<Vec<u32>> = hs.iter().map(|h| h.iter().map(|i| i.0).collect()).collect();
    let refs: Vec<&[u32]> = raw.iter().map(Vec::as_slice).collect();
    let enc = model.encode(&refs, &ids, &Default::default()).unwrap();
    let steps = model
        .beam_search(&enc, ids.layout(), 8, 4, Constraint::Trie(&trie))
        .unwrap();
    for (q, beams) in steps[3].iter().enumerate() {
        let expected: Vec<u32> = beams
            .iter()
            .take(5)
            .map(|b| ids.item_of(&b.codes).unwrap())
            .collect();
        assert_eq!(items(&out.lists[q]), expected, "query {q}");
    }
}

#[test]
fn tiger_batches_match_single_queries_with_a_real_drafter() {
    let ids = catalogue(ITEMS, 67);
    let trie = PrefixTrie::from_ids(&ids);
    let model = model(68, &ids);
    let verifier = TigerVerifier::new(&model, &ids, Constraint::Trie(&trie), Default::default());
    let drafter = knn(69);
    let hs = histories(5, ITEMS, 70);
    // An untrained model's mean log-probability is about -ln 4 = -1.39 per digit.
    let engine = SpecGr::new(
        SpecGrConfig::new(6, 3, 4, -1.39),
        ItemSpace::new(&ids, &first(IN_SAMPLE)),
    )
    .unwrap();
    let requests: Vec<Request<'_>> = hs.iter().map(|h| Request::new(h)).collect();
    let batch = engine.recommend(&verifier, &drafter, &requests).unwrap();
    assert!(batch.stats.decoder_calls > 0 && batch.stats.drafted() > 0);
    for (q, r) in requests.iter().enumerate() {
        let single = engine
            .recommend(&verifier, &drafter, std::slice::from_ref(r))
            .unwrap();
        assert_eq!(items(&single.lists[0]), items(&batch.lists[q]), "query {q}");
        for (a, b) in single.lists[0].iter().zip(&batch.lists[q]) {
            assert!((a.score - b.score).abs() < 1e-4);
        }
        assert_eq!(batch.lists[q].len(), 6);
    }
}

#[test]
fn adapter_beams_match_gr_model_beam_search_as_queries_drop_out() {
    let ids = catalogue(ITEMS, 71);
    let trie = PrefixTrie::from_ids(&ids);
    let model = model(72, &ids);
    let hs = histories(4, ITEMS, 73);
    let raw: Vec<Vec<u32>> = hs.iter().map(|h| h.iter().map(|i| i.0).collect()).collect();
    let refs: Vec<&[u32]> = raw.iter().map(Vec::as_slice).collect();
    let enc = model.encode(&refs, &ids, &Default::default()).unwrap();
    for constraint in [Constraint::None, Constraint::Trie(&trie)] {
        let oracle = model
            .beam_search(&enc, ids.layout(), 5, 4, constraint)
            .unwrap();
        let verifier = TigerVerifier::new(&model, &ids, constraint, Default::default());
        let hrefs: Vec<&[ItemId]> = hs.iter().map(Vec::as_slice).collect();
        let mut session = verifier.begin(&hrefs).unwrap();
        // All four queries, then three, then two, then one.
        let schedule: [&[usize]; 4] = [&[0, 1, 2, 3], &[0, 2, 3], &[2, 3], &[3]];
        for (step, queries) in schedule.iter().enumerate() {
            let beams = verifier.beam_step(&mut session, queries, 5).unwrap();
            for (&q, got) in queries.iter().zip(&beams) {
                let want = &oracle[step][q];
                assert_eq!(got.len(), want.len());
                for (a, b) in got.iter().zip(want) {
                    assert_eq!(a.codes, b.codes, "step {step} query {q}");
                    assert!((a.log_prob - b.log_prob).abs() < 1e-4);
                }
            }
        }
        assert_eq!(verifier.decoder_calls(&session), 4);
        // Query 1 was left out after step 0: it cannot resume.
        assert!(verifier.beam_step(&mut session, &[1], 5).is_err());
    }
}

#[test]
fn self_drafting_passes_the_encoder_pass_to_the_drafter() {
    let ids = catalogue(ITEMS, 74);
    let trie = PrefixTrie::from_ids(&ids);
    let model = model(75, &ids);
    let hs = histories(3, ITEMS, 76);
    // Mean over the real encoder positions of each query: an oracle recomputed below.
    let embed = |enc: &gr_model::EncoderOutput<TestBackend>| -> speculative::Result<Vec<Vec<f32>>> {
        let [_, _, d] = enc.hidden.dims();
        let flat = enc
            .hidden
            .clone()
            .into_data()
            .convert::<f32>()
            .into_vec::<f32>()
            .unwrap();
        let src = flat.len() / enc.num_queries() / d;
        Ok((0..enc.num_queries())
            .map(|q| {
                (0..d)
                    .map(|c| {
                        (0..enc.lengths[q])
                            .map(|p| flat[(q * src + p) * d + c])
                            .sum::<f32>()
                            / enc.lengths[q] as f32
                    })
                    .collect()
            })
            .collect())
    };
    let verifier = TigerVerifier::new(&model, &ids, Constraint::Trie(&trie), Default::default())
        .with_query_embedding(&embed);
    let drafter = crate::spec_common::TableDrafter::new(77, ITEMS);
    let engine = SpecGr::new(
        SpecGrConfig::new(4, 2, 4, -1.0),
        ItemSpace::new(&ids, &first(IN_SAMPLE)),
    )
    .unwrap();
    let requests: Vec<Request<'_>> = hs.iter().map(|h| Request::new(h)).collect();
    engine.recommend(&verifier, &drafter, &requests).unwrap();
    let raw: Vec<Vec<u32>> = hs.iter().map(|h| h.iter().map(|i| i.0).collect()).collect();
    let refs: Vec<&[u32]> = raw.iter().map(Vec::as_slice).collect();
    let expected = embed(&model.encode(&refs, &ids, &Default::default()).unwrap()).unwrap();
    let got = drafter.vectors.borrow();
    assert_eq!(got.len(), hs.len());
    for (a, b) in got.iter().zip(&expected) {
        assert!(a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5));
    }
}

#[test]
fn subset_ranking_with_per_query_beam_tries() {
    let ids = catalogue(ITEMS, 84);
    let model = model(85, &ids);
    let hs = histories(3, ITEMS, 86);
    let space = ItemSpace::new(&ids, &first(IN_SAMPLE));
    let subsets: Vec<drafters::ItemSet> = (0..3u32)
        .map(|q| {
            (0..ITEMS as u32)
                .filter(|i| (i + q).is_multiple_of(4))
                .map(ItemId)
                .collect()
        })
        .collect();
    let tries: Vec<PrefixTrie> = subsets.iter().map(|s| space.subset_trie(s)).collect();
    let verifier = TigerVerifier::new(
        &model,
        &ids,
        Constraint::PerQuery(&tries),
        Default::default(),
    );
    let engine = SpecGr::new(SpecGrConfig::new(5, 2, 8, -1.39), space.clone()).unwrap();
    let requests: Vec<Request<'_>> = hs
        .iter()
        .zip(&subsets)
        .map(|(h, s)| Request::new(h).within(s))
        .collect();
    let out = engine.recommend(&verifier, &knn(87), &requests).unwrap();
    for (q, list) in out.lists.iter().enumerate() {
        assert_eq!(list.len(), 5);
        assert!(
            list.iter().all(|r| subsets[q].contains(r.item)),
            "query {q}: {:?}",
            items(list)
        );
    }
}
