//! Bad input gives clear errors, not panics.

use gr_model::{TigerConfig, TigerError, TigerPreset};
use semid::TokenLayout;

use crate::common::{device, encode, ids, layout, model};

#[test]
fn unknown_item_and_empty_history_are_named() {
    let ids = ids();
    let model = model(1);
    let err = model
        .encode(&[&[0, 1], &[2, 99]], &ids, &device())
        .unwrap_err();
    assert!(
        matches!(
            err,
            TigerError::UnknownItem {
                query: 1,
                position: 1,
                item: 99,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("item 99"), "{err}");
    let err = model.encode(&[&[0, 1], &[]], &ids, &device()).unwrap_err();
    assert!(
        matches!(err, TigerError::EmptyHistory { query: 1 }),
        "{err}"
    );
}

#[test]
fn mismatched_layout_and_bad_candidates_are_rejected() {
    let ids = ids();
    let model = model(1);
    let other =
        semid::SemanticIds::from_codes(TokenLayout::new(3, 5).unwrap(), &[0, 1, 2]).unwrap();
    let err = model.encode(&[&[0]], &other, &device()).unwrap_err();
    assert!(matches!(err, TigerError::VocabMismatch { .. }), "{err}");
    let enc = encode(&model, &ids);
    let bad = vec![vec![vec![0, 9]], vec![], vec![], vec![]];
    let err = model.score(&enc, &bad, &layout()).unwrap_err();
    assert!(err.to_string().contains("query 0, candidate 0"), "{err}");
    let err = model.score(&enc, &[vec![]], &layout()).unwrap_err();
    assert!(matches!(err, TigerError::InvalidCandidate(_)), "{err}");
}

#[test]
fn invalid_configs_and_presets_are_rejected() {
    assert!(
        TigerConfig::new(19)
            .with_num_heads(0)
            .init::<crate::common::TestBackend>(&device())
            .is_err()
    );
    assert!("huge".parse::<TigerPreset>().is_err());
    assert_eq!("games".parse::<TigerPreset>().unwrap(), TigerPreset::Games);
}

#[test]
fn bad_training_data_names_the_example() {
    use gr_model::TrainExample;
    let ids = ids();
    let cfg = TigerConfig::preset(TigerPreset::Tiny, layout().vocab_size());
    let dir = std::env::temp_dir().join(format!("gr-model-test-baddata-{}", std::process::id()));
    let good = TrainExample {
        history: vec![0, 1],
        target: 2,
    };
    let cases = [
        (
            TrainExample {
                history: vec![],
                target: 2,
            },
            "train example 1: empty history",
        ),
        (
            TrainExample {
                history: vec![0, 77],
                target: 2,
            },
            "train example 1, history position 1: item 77",
        ),
        (
            TrainExample {
                history: vec![0],
                target: 50,
            },
            "train example 1: target item 50",
        ),
    ];
    for (bad, expected) in cases {
        let err = gr_model::train::<burn::backend::Autodiff<crate::common::TestBackend>>(
            &cfg,
            &gr_model::TrainConfig::new(),
            &ids,
            &[good.clone(), bad],
            &[],
            &dir,
            &device(),
            &mut |_| std::ops::ControlFlow::Continue(()),
        )
        .unwrap_err();
        assert!(err.to_string().contains(expected), "{err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
