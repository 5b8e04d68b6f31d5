//! SemanticKNN: the query is the mean of the last five history items, new items
//! are draftable at once, bad queries give clear errors.

use drafters::{DraftFilter, Drafter, DrafterError, Query, SemanticKnn, SemanticKnnConfig, dot, normalize};
use recdata::ItemId;

use crate::{TestRng, ids};

const DIM: usize = 12;

fn semantic_knn(n: u32) -> (SemanticKnn, Vec<f32>) {
    let rows = TestRng::new(21).unit_rows(n as usize, DIM);
    (SemanticKnn::new(SemanticKnnConfig::new(DIM), &ids(0..n), &rows).unwrap(), rows)
}

#[test]
fn query_is_the_mean_of_the_last_five_known_items() {
    let (d, rows) = semantic_knn(100);
    // Item 500 is unknown and skipped; the last five known are 4, 5, 6, 7, 8.
    let history: Vec<ItemId> = [1, 2, 3, 4, 5, 6, 500, 7, 8].into_iter().map(ItemId).collect();
    let got = d.embed_queries(&[Query::new(&history)]).unwrap().remove(0);
    let mut mean = vec![0.0f32; DIM];
    for i in [4, 5, 6, 7, 8] {
        mean.iter_mut().zip(&rows[i * DIM..(i + 1) * DIM]).for_each(|(m, r)| *m += r / 5.0);
    }
    normalize(&mut mean);
    assert!(got.iter().zip(&mean).all(|(a, b)| (a - b).abs() < 1e-5));
    // The drafted scores are cosines with that mean.
    let out = d.draft(&[Query::new(&history)], &[DraftFilter::all()], 3).unwrap().remove(0);
    let top = out[0];
    assert!((top.score - dot(&mean, &rows[top.item.index() * DIM..(top.item.index() + 1) * DIM])).abs() < 1e-5);
}

#[test]
fn items_added_after_construction_are_draftable_at_once() {
    let (mut d, rows) = semantic_knn(100);
    let history = [ItemId(10), ItemId(11)];
    let query = d.embed_queries(&[Query::new(&history)]).unwrap().remove(0);
    // A new item whose text embedding is (a multiple of) the query direction.
    let text: Vec<f32> = query.iter().map(|x| 3.0 * x).collect();
    d.add_items(&[ItemId(100)], &text).unwrap();
    assert_eq!(d.num_items(), 101);
    let out = d.draft(&[Query::new(&history)], &[DraftFilter::all()], 5).unwrap().remove(0);
    assert_eq!(out[0].item, ItemId(100));
    assert!((out[0].score - 1.0).abs() < 1e-5);
    // And it may appear in later histories.
    assert!(d.embed_queries(&[Query::new(&[ItemId(100)])]).is_ok());
    drop(rows);
}

#[test]
fn bad_queries_give_clear_errors() {
    let (mut d, _) = semantic_knn(20);
    let unknown = [ItemId(99), ItemId(1000)];
    let err = d.embed_queries(&[Query::new(&[ItemId(1)]), Query::new(&unknown)]).unwrap_err();
    assert!(matches!(err, DrafterError::UnknownHistory { query: 1, history_len: 2, known: 20 }), "{err}");
    assert!(err.to_string().contains("query 1"));
    let err = d.embed_queries(&[Query::new(&[])]).unwrap_err();
    assert!(matches!(err, DrafterError::UnknownHistory { history_len: 0, .. }));
    let err = d.draft(&[Query::new(&[ItemId(1)])], &[], 5).unwrap_err();
    assert!(matches!(err, DrafterError::BatchMismatch { queries: 1, filters: 0 }));
    // Embeddings of another dimension are refused and change nothing.
    let err = d.add_items(&[ItemId(30)], &[0.5; DIM + 3]).unwrap_err();
    assert!(matches!(err, DrafterError::BufferLength { .. }), "{err}");
    assert_eq!(d.num_items(), 20);
    let err = d.search(&[vec![0.1; DIM - 1]], &[DraftFilter::all()], 5).unwrap_err();
    assert!(matches!(err, DrafterError::Dimension { .. }), "{err}");
}
