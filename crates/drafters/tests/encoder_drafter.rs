//! EncoderDrafter (SpecGR++): searches the GR encoder's item vectors with the
//! verifier's history vector, against a brute-force oracle.

use drafters::{DraftFilter, Drafter, DrafterError, EncoderDrafter, EncoderDrafterConfig, ItemSet, PopularityPrior, Query, dot};
use recdata::ItemId;

use crate::{TestRng, brute_force, ids};

const DIM: usize = 16;

fn drafter(n: u32) -> (EncoderDrafter, Vec<f32>) {
    let rows = TestRng::new(31).unit_rows(n as usize, DIM);
    (EncoderDrafter::new(EncoderDrafterConfig::new(DIM), &ids(0..n), &rows).unwrap(), rows)
}

#[test]
fn drafts_match_brute_force_under_filters() {
    let (d, rows) = drafter(300);
    let history = [ItemId(1), ItemId(2)];
    let mut rng = TestRng::new(7);
    let drafted: ItemSet = [ItemId(3), ItemId(10)].into_iter().collect();
    let allowed: ItemSet = (0..300).filter(|i| i % 4 != 1).map(ItemId).collect();
    for _ in 0..5 {
        // An unnormalised vector: the drafter normalises it (cosine scores).
        let raw: Vec<f32> = rng.unit_rows(1, DIM).iter().map(|x| 2.5 * x).collect();
        let unit: Vec<f32> = raw.iter().map(|x| x / 2.5).collect();
        let query = Query::new(&history).with_vector(&raw);
        let filters = [DraftFilter::all(), DraftFilter::all().allowed(&allowed).excluding(&drafted)];
        let got = d.draft(&[query, query], &filters, 20).unwrap();
        let all = brute_force(&rows, DIM, d.index().items(), &unit, 20, |_| true);
        let kept = brute_force(&rows, DIM, d.index().items(), &unit, 20, |i| allowed.contains(i) && !drafted.contains(i));
        for (got, expected) in got.iter().zip([all, kept]) {
            assert_eq!(got.iter().map(|n| n.item).collect::<Vec<_>>(), expected.iter().map(|n| n.item).collect::<Vec<_>>());
            assert!(got.iter().zip(&expected).all(|(g, e)| (g.score - e.score).abs() < 1e-5));
        }
    }
}

#[test]
fn new_items_are_draftable_and_missing_vectors_are_errors() {
    let (mut d, _) = drafter(50);
    let history = [ItemId(1)];
    let q = TestRng::new(8).unit_rows(1, DIM);
    // A new (unseen) item whose encoder vector is the query direction comes first.
    d.add_items(&[ItemId(50)], &q).unwrap();
    assert_eq!(d.num_items(), 51);
    let out = d.draft(&[Query::new(&history).with_vector(&q)], &[DraftFilter::all()], 3).unwrap();
    assert_eq!(out[0][0].item, ItemId(50));
    assert!((out[0][0].score - 1.0).abs() < 1e-5);
    // Without the verifier's vector the drafter cannot embed the history.
    let err = d.embed_queries(&[Query::new(&history).with_vector(&q), Query::new(&history)]).unwrap_err();
    assert!(matches!(err, DrafterError::MissingQueryVector { query: 1, .. }), "{err}");
    assert!(err.to_string().contains("with_query_embedding"), "{err}");
    let err = d.embed_queries(&[Query::new(&history).with_vector(&q[..DIM - 1])]).unwrap_err();
    assert!(matches!(err, DrafterError::Dimension { .. }), "{err}");
    let err = d.add_items(&[ItemId(60)], &[0.1; DIM + 1]).unwrap_err();
    assert!(matches!(err, DrafterError::BufferLength { .. }), "{err}");
    assert_eq!(d.num_items(), 51);
}

/// With a popularity prior the drafts are the brute-force ranking of
/// cos + weight·ln(1 + n) (scores included), under a filter too; an item added later
/// has count 0; a weight that is not finite is refused.
#[test]
fn a_popularity_prior_adds_the_weighted_log_count_to_the_cosine() {
    let n = 200u32;
    let rows = TestRng::new(31).unit_rows(n as usize, DIM);
    let counts: std::collections::HashMap<ItemId, usize> = (0..n).filter(|i| i % 3 != 0).map(|i| (ItemId(i), (i as usize * 7) % 50)).collect();
    let prior = PopularityPrior { weight: 0.07, counts: counts.clone() };
    let mut d = EncoderDrafter::with_prior(EncoderDrafterConfig::new(DIM), prior.clone(), &ids(0..n), &rows).unwrap();
    let history = [ItemId(1)];
    let allowed: ItemSet = (0..n).filter(|i| i % 5 != 2).map(ItemId).collect();
    let mut rng = TestRng::new(9);
    for _ in 0..4 {
        let q = rng.unit_rows(1, DIM);
        let query = Query::new(&history).with_vector(&q);
        let mut expected: Vec<(ItemId, f32)> =
            (0..n).map(|i| (ItemId(i), dot(&rows[i as usize * DIM..(i as usize + 1) * DIM], &q) + prior.term(ItemId(i)))).collect();
        expected.sort_by(|a, b| b.1.total_cmp(&a.1));
        let got = d.draft(&[query, query], &[DraftFilter::all(), DraftFilter::all().allowed(&allowed)], 15).unwrap();
        let kept: Vec<_> = expected.iter().filter(|(i, _)| allowed.contains(*i)).take(15).copied().collect();
        for (got, want) in got.iter().zip([expected[..15].to_vec(), kept]) {
            assert_eq!(got.iter().map(|x| x.item).collect::<Vec<_>>(), want.iter().map(|x| x.0).collect::<Vec<_>>());
            assert!(got.iter().zip(&want).all(|(g, w)| (g.score - w.1).abs() < 1e-5));
        }
    }
    // Item 3's count (21) lifts it by 0.07·ln 22; a new item in its direction has no prior.
    assert!((prior.term(ItemId(3)) - 0.0).abs() < 1e-9, "3 % 3 == 0: never a target");
    assert!((prior.term(ItemId(4)) - 0.07 * 29f32.ln()).abs() < 1e-6);
    let q = TestRng::new(10).unit_rows(1, DIM);
    d.add_items(&[ItemId(n)], &q).unwrap();
    let out = d.draft(&[Query::new(&history).with_vector(&q)], &[DraftFilter::all().allowed(&[ItemId(n)].into_iter().collect())], 1).unwrap();
    assert!((out[0][0].score - 1.0).abs() < 1e-5, "{}", out[0][0].score);
    let bad = PopularityPrior { weight: f32::NAN, counts };
    let err = EncoderDrafter::with_prior(EncoderDrafterConfig::new(DIM), bad, &ids(0..n), &rows).unwrap_err();
    assert!(matches!(err, DrafterError::Config(_)) && err.to_string().contains("not finite"), "{err}");
}
