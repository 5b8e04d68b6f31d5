//! New items: the verifier (like a trained TIGER) gives unseen items' identification
//! digits almost no probability, so its beams never reach them; SpecGR does.

use recdata::ItemId;
use semid::{PrefixTrie, SemanticIds};
use speculative::{ItemSpace, Request, SpecGr, SpecGrConfig, baselines};

use crate::common::{TableDrafter, TableVerifier, first, histories, layout};

const IN_SAMPLE: usize = 32;
const UNSEEN: usize = 16;

/// In-sample items on 32 distinct prefixes (identification digit 0); unseen items
/// on the prefixes of the first 16 (identification digit 1).
fn catalogue() -> SemanticIds {
    let mut ids = SemanticIds::new(layout());
    for p in (0..IN_SAMPLE as u32).chain(0..UNSEEN as u32) {
        let p = p * 2; // spread over the 64 prefixes
        ids.push(&[p / 16, p / 4 % 4, p % 4]).unwrap();
    }
    ids
}

#[test]
fn specgr_recommends_unseen_items_where_tiger_recommends_none() {
    let ids = catalogue();
    let unseen: speculative::ItemSet = (IN_SAMPLE as u32..(IN_SAMPLE + UNSEEN) as u32)
        .map(ItemId)
        .collect();
    let mut verifier = TableVerifier::new(50, Some(PrefixTrie::from_ids(&ids)));
    // The identification digits unseen items need (1..) are all but impossible.
    verifier.id_bias = vec![0.0, -30.0, -30.0, -30.0];
    let mut drafter = TableDrafter::new(51, ids.len());
    drafter.boost = unseen.clone();
    let hs = histories(6, IN_SAMPLE, 52);
    let requests: Vec<Request<'_>> = hs.iter().map(|h| Request::new(h)).collect();
    let in_sample = first(IN_SAMPLE);
    let space = ItemSpace::new(&ids, &in_sample);
    let k = 10;

    let tiger = baselines::tiger(&verifier, &space, &requests, k, 20).unwrap();
    let tiger_unseen: usize = tiger
        .iter()
        .flatten()
        .filter(|r| unseen.contains(r.item))
        .count();
    assert_eq!(
        tiger_unseen, 0,
        "TIGER's beams never finish on an unseen item"
    );
    assert!(tiger.iter().all(|l| l.len() == k));

    let run = |cfg: SpecGrConfig| {
        let engine = SpecGr::new(cfg, ItemSpace::new(&ids, &in_sample)).unwrap();
        engine.recommend(&verifier, &drafter, &requests).unwrap()
    };
    let spec = run(SpecGrConfig::new(k, 5, 20, -2.0));
    for (q, list) in spec.lists.iter().enumerate() {
        assert_eq!(list.len(), k);
        assert!(
            list.iter().any(|r| unseen.contains(r.item)),
            "query {q} has no unseen item"
        );
    }
    assert!(
        spec.stats.unseen_share() > 0.2,
        "unseen share {}",
        spec.stats.unseen_share()
    );

    // Without the likelihood adjustment the identification digit sinks every unseen
    // item below γ (Table 3, row 1.2): none is accepted.
    let plain = run(SpecGrConfig {
        likelihood_adjustment: false,
        ..SpecGrConfig::new(k, 5, 20, -2.0)
    });
    let accepted_unseen = plain
        .lists
        .iter()
        .flatten()
        .filter(|r| r.source == speculative::Source::Accepted && unseen.contains(r.item))
        .count();
    assert_eq!(accepted_unseen, 0);
    assert!(plain.stats.unseen_share() < spec.stats.unseen_share());
}

#[test]
fn v2_scores_unseen_items_over_the_prefix_they_share() {
    // Unseen item 3 shares two digits with in-sample item 0; unseen item 4 shares all three with item 1.
    let mut ids = SemanticIds::new(layout());
    for codes in [[0, 1, 2], [3, 3, 3], [2, 0, 0], [0, 1, 3], [3, 3, 3]] {
        ids.push(&codes).unwrap();
    }
    let space = ItemSpace::new(&ids, &first(3));
    let rule = |min| speculative::UnseenDigits::SharedPrefix { min };
    assert_eq!(space.scored_digits(ItemId(3), true, rule(1)), 2);
    assert_eq!(space.scored_digits(ItemId(3), true, rule(3)), 3);
    assert_eq!(space.scored_digits(ItemId(4), true, rule(2)), 3);
    assert_eq!(
        space.scored_digits(
            ItemId(4),
            true,
            speculative::UnseenDigits::DropIdentification
        ),
        3
    );
    assert_eq!(space.scored_digits(ItemId(0), true, rule(2)), 4);
    assert_eq!(space.scored_digits(ItemId(3), false, rule(2)), 4);
}

/// `ItemSpace::without` (an item removed from a served catalog): neither trie spells a
/// removed item, nothing else changes, and an empty removal is the space itself.
#[test]
fn a_space_without_removed_items_spells_only_the_others() {
    let ids = crate::common::catalogue(24, 5);
    let in_sample = first(16);
    let space = ItemSpace::new(&ids, &in_sample);
    let removed: speculative::ItemSet = [ItemId(2), ItemId(20)].into_iter().collect();
    let without = space.clone().without(&removed);
    let reachable = |s: &ItemSpace<'_>| -> Vec<u32> {
        let mut all = s.trie().items_with_prefix(&[]).to_vec();
        all.sort_unstable();
        all
    };
    let expected: Vec<u32> = (0..24).filter(|i| *i != 2 && *i != 20).collect();
    assert_eq!(reachable(&without), expected);
    assert_eq!(reachable(&space), (0..24).collect::<Vec<u32>>());
    assert!(!without.is_in_sample(ItemId(2)) && without.is_in_sample(ItemId(3)));
    // IDs and numbering are untouched.
    assert_eq!(without.len(), 24);
    assert_eq!(without.codes(ItemId(20), 0).unwrap(), ids.codes(20));
    let none = space.clone().without(&speculative::ItemSet::new());
    assert_eq!(reachable(&none), reachable(&space));
}
