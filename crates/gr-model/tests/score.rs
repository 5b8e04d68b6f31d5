//! Prefix-shared scoring against naive full decoding and against beam scores.

use gr_model::Constraint;

use crate::common::{encode, ids, layout, model, trie};

fn candidates() -> Vec<Vec<Vec<u32>>> {
    let ids = ids();
    let full = |i: u32| ids.codes(i).to_vec();
    vec![
        (0..14).map(full).collect(),
        vec![full(3), vec![1, 3], full(3), vec![2, 2, 1]],
        vec![],
        vec![full(13), full(0), full(1), vec![0]],
    ]
}

#[test]
fn prefix_shared_scores_equal_naive_scores() {
    let ids = ids();
    let model = model(11);
    let enc = encode(&model, &ids);
    let shared = model.score(&enc, &candidates(), &layout()).unwrap();
    let naive = model.score_naive(&enc, &candidates(), &layout()).unwrap();
    for (q, (a, b)) in shared.log_probs.iter().zip(&naive.log_probs).enumerate() {
        assert_eq!(a.len(), b.len());
        for (c, (x, y)) in a.iter().zip(b).enumerate() {
            assert_eq!(x.len(), y.len());
            for (d, (u, v)) in x.iter().zip(y).enumerate() {
                assert!(
                    (u - v).abs() < 1e-5,
                    "query {q} candidate {c} digit {d}: {u} vs {v}"
                );
                assert!(*u <= 0.0);
            }
        }
    }
}

#[test]
fn score_of_a_beam_equals_its_beam_score() {
    let ids = ids();
    let model = model(12);
    let enc = encode(&model, &ids);
    let trie = trie(&ids);
    for constraint in [Constraint::None, Constraint::Trie(&trie)] {
        let steps = model
            .beam_search(&enc, &layout(), 5, 4, constraint)
            .unwrap();
        for (step, per_query) in steps.iter().enumerate() {
            let candidates: Vec<Vec<Vec<u32>>> = per_query
                .iter()
                .map(|beams| beams.iter().map(|b| b.codes.clone()).collect())
                .collect();
            let scores = model.score(&enc, &candidates, &layout()).unwrap();
            for (q, beams) in per_query.iter().enumerate() {
                for (c, beam) in beams.iter().enumerate() {
                    assert_eq!(beam.codes.len(), step + 1);
                    let s = scores.sum(q, c, step + 1);
                    assert!(
                        (s - beam.log_prob).abs() < 1e-4,
                        "step {step} query {q} beam {c}: {s} vs {}",
                        beam.log_prob
                    );
                }
            }
        }
    }
}
