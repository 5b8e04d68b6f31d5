//! The prefix trie against brute force over random IDs.

use semid::{PrefixTrie, SemanticIds, TokenLayout};

/// A small deterministic generator for test data (SplitMix64).
pub(crate) fn random_codes(seed: u64, n: usize, width: usize, k: u32) -> Vec<u32> {
    let mut s = seed;
    (0..n * width)
        .map(|_| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) % k as u64) as u32
        })
        .collect()
}

/// Compares every query on every prefix of every stored row (and some absent ones)
/// with a linear scan.
fn check(trie: &PrefixTrie, rows: &[(u32, Vec<u32>)], k: u32) {
    let depth = trie.depth();
    assert_eq!(trie.len(), rows.len());
    let mut queries: Vec<Vec<u32>> = vec![vec![]];
    for (_, r) in rows {
        for l in 1..=depth {
            queries.push(r[..l].to_vec());
        }
    }
    queries.extend(random_codes(99, 50, 2, k + 1).chunks(2).map(|c| c.to_vec()));
    for q in &queries {
        let mut want: Vec<(Vec<u32>, u32)> = rows
            .iter()
            .filter(|(_, r)| r.starts_with(q))
            .map(|(i, r)| (r.clone(), *i))
            .collect();
        want.sort();
        let want_items: Vec<u32> = want.iter().map(|w| w.1).collect();
        let mut got_items = trie.items_with_prefix(q).to_vec();
        // Within one full ID the trie keeps insertion order; compare as sets there.
        got_items.sort_by_key(|&i| (rows.iter().find(|r| r.0 == i).unwrap().1.clone(), i));
        assert_eq!(got_items, want_items, "items with prefix {q:?}");
        let mut next: Vec<u32> = if q.len() < depth {
            want.iter().map(|w| w.0[q.len()]).collect()
        } else {
            vec![]
        };
        next.dedup();
        assert_eq!(
            trie.next_codes(q),
            next.as_slice(),
            "next codes after {q:?}"
        );
        assert_eq!(trie.contains_prefix(q), !want.is_empty(), "contains {q:?}");
        let shared = (0..=q.len()).rev().find(|&l| rows.iter().any(|(_, r)| r.starts_with(&q[..l]))).unwrap_or(0);
        let shared = if rows.is_empty() { 0 } else { shared };
        assert_eq!(trie.shared_prefix_len(q), shared, "shared prefix of {q:?}");
    }
}

#[test]
fn built_trie_matches_brute_force() {
    for (seed, n, k) in [(1, 0, 3), (2, 1, 3), (3, 200, 3), (4, 300, 6)] {
        let codes = random_codes(seed, n, 3, k);
        let rows: Vec<(u32, Vec<u32>)> = codes
            .chunks(3)
            .enumerate()
            .map(|(i, c)| (i as u32, c.to_vec()))
            .collect();
        let trie = PrefixTrie::build(3, rows.iter().map(|(i, r)| (*i, r.as_slice()))).unwrap();
        check(&trie, &rows, k);
    }
}

#[test]
fn online_inserts_match_a_rebuild() {
    let k = 4;
    let codes = random_codes(5, 400, 3, k);
    let rows: Vec<(u32, Vec<u32>)> = codes
        .chunks(3)
        .enumerate()
        .map(|(i, c)| (i as u32, c.to_vec()))
        .collect();
    // Start from a built trie over the first half, insert the rest one by one
    // (new branches, new leaves, duplicates, first and last children).
    let mut trie =
        PrefixTrie::build(3, rows[..200].iter().map(|(i, r)| (*i, r.as_slice()))).unwrap();
    for (i, r) in &rows[200..] {
        trie.insert(*i, r).unwrap();
    }
    check(&trie, &rows, k);
    let mut from_empty = PrefixTrie::new(3);
    for (i, r) in &rows {
        from_empty.insert(*i, r).unwrap();
    }
    check(&from_empty, &rows, k);
    assert!(trie.insert(0, &[1, 2]).is_err());
}

#[test]
fn trie_from_semantic_ids() {
    // 300 items over 125 prefixes: groups can outgrow K = 5, so widen the identification digit.
    let layout = TokenLayout::with_id_size(3, 5, 20).unwrap();
    let codes = random_codes(8, 300, 3, 5);
    let ids = SemanticIds::from_codes(layout, &codes).unwrap();
    let trie = PrefixTrie::from_ids(&ids);
    for item in 0..ids.len() as u32 {
        assert_eq!(trie.items_with_prefix(ids.codes(item)), &[item]);
    }
    let rows: Vec<(u32, Vec<u32>)> = (0..ids.len() as u32)
        .map(|i| (i, ids.codes(i).to_vec()))
        .collect();
    check(&trie, &rows, 20);
}

#[test]
fn shared_prefix_counts_the_leading_codes_some_item_has() {
    let in_sample: [(u32, &[u32]); 2] = [(0, &[1, 2, 3]), (1, &[1, 5, 6])];
    let seen = PrefixTrie::build(3, in_sample).unwrap();
    assert_eq!(seen.shared_prefix_len(&[1, 2, 3]), 3);
    // The combination (2, 6) never occurs, though each code does somewhere.
    assert_eq!(seen.shared_prefix_len(&[1, 2, 6]), 2);
    assert_eq!(seen.shared_prefix_len(&[1, 6, 3]), 1);
    assert_eq!(seen.shared_prefix_len(&[7, 2, 3]), 0);
    // Longer than the trie's depth: at most the depth.
    assert_eq!(seen.shared_prefix_len(&[1, 2, 3, 4]), 3);
}
