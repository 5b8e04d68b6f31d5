//! A briefly trained tiny TIGER: it learns that in-sample items carry identification
//! digit 0, so its beams never finish on an unseen item (digit 1); SpecGR, verifying
//! unseen drafts over their first three digits, recommends them.

use std::ops::ControlFlow;

use burn::backend::{Autodiff, Flex};
use gr_model::{Constraint, Tiger, TigerConfig, TigerPreset, TigerVerifier, TrainConfig, TrainExample, train};
use recdata::ItemId;
use semid::{PrefixTrie, SemanticIds};
use speculative::{ItemSpace, Request, SpecGr, SpecGrConfig, baselines};

use crate::spec_common::{TableDrafter, first, layout};

const IN_SAMPLE: u32 = 24;
const UNSEEN: u32 = 12;

/// In-sample items on distinct prefixes; unseen items repeat the prefixes of the first 12.
fn catalogue() -> SemanticIds {
    let mut ids = SemanticIds::new(layout());
    for p in (0..IN_SAMPLE).chain(0..UNSEEN) {
        let p = p * 2 + 1;
        ids.push(&[p / 16, p / 4 % 4, p % 4]).unwrap();
    }
    ids
}

#[test]
fn trained_tiger_recommends_no_unseen_item_and_specgr_does() {
    // Training seeds Burn's global generator: no other test may draw from it meanwhile.
    let _guard = crate::common::rng_lock();
    let ids = catalogue();
    let trie = PrefixTrie::from_ids(&ids);
    // Each in-sample item is followed by a fixed successor.
    let next = |i: u32| (i * 7 + 3) % IN_SAMPLE;
    let examples: Vec<TrainExample> = (0..IN_SAMPLE)
        .map(|i| TrainExample {
            history: vec![(i + 5) % IN_SAMPLE, i],
            target: next(i),
        })
        .collect();
    let dir = std::env::temp_dir().join(format!("speculative-trained-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let device = Default::default();
    let model_config = TigerConfig::preset(TigerPreset::Tiny, layout().vocab_size());
    let train_config = TrainConfig::new()
        .with_lr(1e-2)
        .with_weight_decay(0.0)
        .with_batch_size(12)
        .with_max_epochs(150)
        .with_warmup_fraction(0.05)
        .with_eval_every(1000)
        .with_patience(1000)
        .with_eval_k(1)
        .with_eval_beam_size(4)
        .with_seed(7);
    train::<Autodiff<Flex>>(
        &model_config,
        &train_config,
        &ids,
        &examples,
        &examples,
        &dir,
        &device,
        &mut |_| ControlFlow::Continue(()),
    )
    .unwrap();
    let model = Tiger::<Flex>::load(&dir.join("best"), &device).unwrap();
    let _ = std::fs::remove_dir_all(&dir);

    let in_sample = first(IN_SAMPLE as usize);
    let unseen: drafters::ItemSet = (IN_SAMPLE..IN_SAMPLE + UNSEEN).map(ItemId).collect();
    let verifier = TigerVerifier::new(&model, &ids, Constraint::Trie(&trie), device);
    let histories: Vec<Vec<ItemId>> = (0..IN_SAMPLE)
        .map(|i| vec![ItemId((i + 5) % IN_SAMPLE), ItemId(i)])
        .collect();
    let requests: Vec<Request<'_>> = histories.iter().map(|h| Request::new(h)).collect();
    let space = ItemSpace::new(&ids, &in_sample);
    let k = 5;

    let tiger = baselines::tiger(&verifier, &space, &requests, k, 10).unwrap();
    let hits = tiger
        .iter()
        .zip(0..)
        .filter(|(l, i)| l[0].item == ItemId(next(*i)))
        .count();
    assert!(
        hits >= 8,
        "the model learned the successors (chance: 1 of 24): {hits} of 24 top-1 hits"
    );
    let tiger_unseen = tiger
        .iter()
        .flatten()
        .filter(|r| unseen.contains(r.item))
        .count();
    assert_eq!(tiger_unseen, 0, "TIGER recommends no unseen item");

    // A drafter that ranks unseen items first (as an inductive drafter would for new items).
    let mut drafter = TableDrafter::new(8, ids.len());
    drafter.boost = unseen.clone();
    let engine = SpecGr::new(SpecGrConfig::new(k, 3, 10, -2.5), space.clone()).unwrap();
    let out = engine.recommend(&verifier, &drafter, &requests).unwrap();
    assert!(
        out.stats.unseen_results > 0,
        "SpecGR recommends unseen items; stats {:?}",
        out.stats
    );
    let accepted_unseen = out
        .lists
        .iter()
        .flatten()
        .filter(|r| r.source == speculative::Source::Accepted && unseen.contains(r.item))
        .count();
    assert!(
        accepted_unseen > 0,
        "some unseen items pass verification on their own"
    );
    assert!(out.lists.iter().all(|l| l.len() == k));
}
