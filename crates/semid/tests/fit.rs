//! Fitting: determinism, the frozen quantizer, collision numbering, online assignment.

use semid::{EmbeddingMatrix, FittedQuantizer, Method, PrefixTrie, Quantizer, SemanticIdModel};

use crate::data::{Inner, clustered, fit, prefix_mask, tiny};

fn codebooks(model: &SemanticIdModel<Inner>) -> Vec<f32> {
    match &model.quantizer {
        FittedQuantizer::RqVae(q) => q.codebooks().concat(),
        FittedQuantizer::RqKMeans(q) => q.codebooks().concat(),
        FittedQuantizer::HKMeans(q) => q.to_parts().2,
    }
}

#[test]
fn same_seed_same_ids() {
    let x = clustered(1, 200, 16);
    let mask = prefix_mask(200, 150);
    for method in Method::ALL {
        let (a, _) = fit(&tiny(method), &x, &mask).unwrap();
        let (b, _) = fit(&tiny(method), &x, &mask).unwrap();
        assert_eq!(a.ids(), b.ids(), "{method}");
        assert_eq!(codebooks(&a), codebooks(&b), "{method}");
    }
}

/// The unseen rows are poisoned with huge values; the fit with a mask must equal a
/// fit on the in-sample rows alone, bit for bit, so it never looked at the others.
#[test]
fn fit_never_sees_unseen_items() {
    let clean = clustered(2, 200, 16);
    let mut poisoned = clean.as_slice().to_vec();
    for v in &mut poisoned[150 * 16..] {
        *v = 1.0e6;
    }
    let poisoned = EmbeddingMatrix::new(poisoned, 16).unwrap();
    let mask = prefix_mask(200, 150);
    let subset = EmbeddingMatrix::new(clean.as_slice()[..150 * 16].to_vec(), 16).unwrap();
    for method in Method::ALL {
        let (masked, report) = fit(&tiny(method), &poisoned, &mask).unwrap();
        let (alone, _) = fit(&tiny(method), &subset, &[true; 150]).unwrap();
        assert_eq!(codebooks(&masked), codebooks(&alone), "{method}");
        assert_eq!(
            masked.ids().as_flat()[..150 * 4],
            alone.ids().as_flat()[..],
            "{method}"
        );
        assert_eq!((report.num_items, report.num_fitted), (200, 150));
    }
}

/// Unseen copies of in-sample items share their codes and are numbered after them.
#[test]
fn collision_digits_number_in_sample_items_first() {
    let base = clustered(3, 120, 8);
    let mut data = base.as_slice().to_vec();
    data.extend_from_slice(&base.as_slice()[..20 * 8]);
    let x = EmbeddingMatrix::new(data, 8).unwrap();
    for method in [Method::RqKMeans, Method::HKMeans] {
        let (model, report) = fit(&tiny(method), &x, &prefix_mask(140, 120)).unwrap();
        let ids = model.ids();
        for copy in 120..140u32 {
            let original = ids.codes(copy - 120);
            let c = ids.codes(copy);
            assert_eq!(c[..3], original[..3], "{method} item {copy}");
            assert!(
                c[3] > original[3],
                "{method}: unseen copy {copy} numbered before its original"
            );
        }
        // The identification digits of every group are 0, 1, 2, ... in item order.
        let mut seen = std::collections::HashMap::new();
        for item in 0..ids.len() as u32 {
            let c = ids.codes(item);
            let next = seen.entry(c[..3].to_vec()).or_insert(0u32);
            assert_eq!(c[3], *next, "{method} item {item}");
            *next += 1;
        }
        assert!(report.largest_collision_group >= 2);
    }
}

#[test]
fn assign_uses_the_frozen_quantizer_and_updates_the_trie() {
    let x = clustered(4, 200, 16);
    for method in Method::ALL {
        let (mut model, _) = fit(&tiny(method), &x, &prefix_mask(200, 200)).unwrap();
        let before = model.quantizer.encode(&x).unwrap();
        let fresh = clustered(5, 10, 16);
        let expected = model.quantizer.encode(&fresh).unwrap();
        for row in 0..10 {
            let item = model.assign(fresh.row(row)).unwrap();
            assert_eq!(item as usize, 200 + row);
            let id = model.ids().codes(item).to_vec();
            assert_eq!(id[..3], expected[row * 3..row * 3 + 3], "{method}");
            assert!(model.trie().items_with_prefix(&id).contains(&item));
        }
        // Nothing was refitted, and the online trie equals a rebuilt one.
        assert_eq!(model.quantizer.encode(&x).unwrap(), before, "{method}");
        let rebuilt = PrefixTrie::from_ids(model.ids());
        for item in 0..model.ids().len() as u32 {
            let id = model.ids().codes(item);
            for l in 0..=id.len() {
                assert_eq!(
                    model.trie().items_with_prefix(&id[..l]),
                    rebuilt.items_with_prefix(&id[..l])
                );
                assert_eq!(
                    model.trie().next_codes(&id[..l]),
                    rebuilt.next_codes(&id[..l])
                );
            }
        }
        // A batch assignment numbers the same way as one-by-one assignment.
        let (mut batch, _) = fit(&tiny(method), &x, &prefix_mask(200, 200)).unwrap();
        batch.assign_batch(&fresh).unwrap();
        assert_eq!(batch.ids(), model.ids());
    }
}

#[test]
fn report_counts_utilisation() {
    let x = clustered(6, 300, 16);
    let (model, report) = fit(&tiny(Method::RqKMeans), &x, &prefix_mask(300, 300)).unwrap();
    for l in &report.levels {
        let mut used: Vec<u32> = (0..300).map(|i| model.ids().codes(i)[l.level]).collect();
        used.sort_unstable();
        used.dedup();
        assert_eq!(l.codes_used, used.len());
        // Every k-means cluster keeps at least one fitted point.
        assert_eq!(l.codes_used_in_sample, 8, "level {}", l.level);
    }
    assert!(report.reconstruction_mse.unwrap() > 0.0);
    assert!(report.to_string().contains("level 3"));
    let json = serde_json::to_string(&report).unwrap();
    assert!(json.contains("\"unique_prefix_share\""));
}
