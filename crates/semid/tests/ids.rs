//! The identification digit and the ID table.

use semid::{SemanticIds, SemidError, TokenLayout};

#[test]
fn collision_digit_counts_in_item_order() {
    let layout = TokenLayout::new(2, 3).unwrap();
    // Items 0, 2, 3 share (1, 2); item 1 is alone; item 4 shares (0, 0) with nobody.
    let codes = [1, 2, 0, 1, 1, 2, 1, 2, 0, 0];
    let ids = SemanticIds::from_codes(layout, &codes).unwrap();
    let expected: [&[u32]; 5] = [&[1, 2, 0], &[0, 1, 0], &[1, 2, 1], &[1, 2, 2], &[0, 0, 0]];
    for (item, want) in expected.iter().enumerate() {
        assert_eq!(ids.codes(item as u32), *want, "item {item}");
        assert_eq!(ids.item_of(want), Some(item as u32));
    }
    assert_eq!(ids.len(), 5);
    assert_eq!(ids.num_digits(), 3);
    assert_eq!(ids.largest_collision_group(), 3);
    assert!((ids.unique_prefix_share() - 2.0 / 5.0).abs() < 1e-12);
    assert_eq!(ids.item_of(&[1, 2, 3]), None);
}

#[test]
fn overflow_is_an_error_not_a_wrap() {
    let layout = TokenLayout::new(1, 2).unwrap();
    let mut ids = SemanticIds::new(layout);
    ids.push(&[1]).unwrap();
    ids.push(&[1]).unwrap();
    let err = ids.push(&[1]).unwrap_err();
    assert!(
        matches!(err, SemidError::CollisionOverflow { ref prefix, group_size: 3, capacity: 2 } if prefix == &[1])
    );
    assert!(err.to_string().contains("[1]"), "{err}");
    // The failed push left the table unchanged, and a wider digit takes the third item.
    assert_eq!(ids.len(), 2);
    let wide = TokenLayout::with_id_size(1, 2, 3).unwrap();
    let ids = SemanticIds::from_codes(wide, &[1, 1, 1]).unwrap();
    assert_eq!(ids.codes(2), &[1, 2]);
    assert_eq!(
        ids.tokens(2).collect::<Vec<_>>(),
        vec![wide.token(0, 1), wide.token(1, 2)]
    );
}

#[test]
fn bad_codes_are_rejected() {
    let layout = TokenLayout::new(2, 3).unwrap();
    assert!(matches!(
        SemanticIds::from_codes(layout, &[0, 1, 2]),
        Err(SemidError::RaggedBuffer { .. })
    ));
    assert!(matches!(
        SemanticIds::from_codes(layout, &[0, 3]),
        Err(SemidError::InvalidCodes { .. })
    ));
}

#[test]
fn json_round_trip() {
    let layout = TokenLayout::new(2, 4).unwrap();
    let ids = SemanticIds::from_codes(layout, &[0, 1, 0, 1, 3, 3, 2, 2]).unwrap();
    let back = SemanticIds::from_json(&ids.to_json().unwrap()).unwrap();
    assert_eq!(back, ids);
}
