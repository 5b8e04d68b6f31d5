use recdata::formats::GenericCsv;
use recdata::{CutOff, Dataset, Format, ItemId, LoadOptions, SplitConfig};

use crate::write;

/// Users' sequences (item keys at times) → dataset.
fn dataset(rows: &[(&str, &str, i64)]) -> Dataset {
    let dir = tempfile::tempdir().unwrap();
    let mut items: Vec<&str> = rows.iter().map(|r| r.1).collect();
    items.sort();
    items.dedup();
    let items_csv: String = std::iter::once("item_id,title".to_owned())
        .chain(items.iter().map(|i| format!("{i},title {i}")))
        .collect::<Vec<_>>()
        .join("\n");
    write(dir.path(), "items.csv", &items_csv);
    let inter: String = std::iter::once("user_id,item_id,timestamp".to_owned())
        .chain(rows.iter().map(|(u, i, t)| format!("{u},{i},{t}")))
        .collect::<Vec<_>>()
        .join("\n");
    write(dir.path(), "interactions.csv", &inter);
    Format::GenericCsv(GenericCsv::default()).load("t", dir.path(), LoadOptions::default()).unwrap()
}

fn keys(d: &Dataset, items: &[ItemId]) -> Vec<String> {
    items.iter().map(|&i| d.catalog.key(i).to_owned()).collect()
}

#[test]
fn chronological_split_histories_cross_boundaries_and_in_sample_includes_first_interactions() {
    let d = dataset(&[
        ("u1", "a", 1),
        ("u1", "b", 2),
        ("u1", "c", 5), // valid
        ("u1", "d", 8), // test
        ("u2", "e", 3), // first interaction only, before t1: in-sample, no example
        ("u2", "f", 9), // test, unseen
        ("u3", "g", 6), // valid, empty history: dropped
    ]);
    let config = SplitConfig::Chronological {
        valid: CutOff::TimestampMs(5000),
        test: CutOff::TimestampMs(8000),
        max_history: 2,
    };
    let s = d.split(&config).unwrap();
    assert_eq!(s.train.len(), 1);
    assert_eq!(keys(&d, &s.train[0].history), ["a"]);
    assert_eq!(keys(&d, &[s.train[0].target]), ["b"]);
    assert_eq!(s.valid.len(), 1, "u3's only interaction has no history");
    assert_eq!(keys(&d, &s.valid[0].history), ["a", "b"]);
    assert_eq!(s.test.len(), 2);
    assert_eq!(keys(&d, &s.test[0].history), ["b", "c"], "truncated to the last 2, crossing into valid");
    assert_eq!(keys(&d, &s.test[1].history), ["e"]);
    let in_sample: Vec<String> = keys(&d, &s.in_sample_items());
    assert_eq!(in_sample, ["a", "b", "e"]);
    assert_eq!(s.in_sample_prefix(), Some(3), "in-sample items are a prefix of the numbering");
    assert_eq!((s.stats[1].interactions, s.stats[1].dropped_empty_history, s.stats[1].examples), (2, 1, 1));
    assert_eq!((s.stats[2].unseen_interactions, s.stats[2].unseen_examples), (2, 2));
    assert_eq!(s.cutoffs_ms, Some((5000, 8000)));
}

#[test]
fn quantile_cutoffs_send_ties_to_the_later_part() {
    let rows: Vec<(String, String, i64)> =
        (0..10).map(|i| ("u".to_owned(), format!("i{i}"), if i >= 7 { 7 } else { i })).collect();
    let rows: Vec<(&str, &str, i64)> = rows.iter().map(|(u, i, t)| (u.as_str(), i.as_str(), *t)).collect();
    let d = dataset(&rows);
    // ⌊0.8·10⌋ = 8 → the 9th interaction's time, 7 s; three interactions share it.
    assert_eq!(d.cutoff(CutOff::Quantile(0.8)).unwrap(), 7000);
    let s = d.split(&SplitConfig::quantiles(0.5, 0.8)).unwrap();
    assert_eq!(s.stats.map(|p| p.interactions), [5, 2, 3]);
    assert!(d.split(&SplitConfig::quantiles(0.9, 0.5)).is_err(), "t1 after t2");
    assert!(d.cutoff(CutOff::Quantile(1.5)).is_err());
}

#[test]
fn leave_one_out_takes_the_last_two_per_user() {
    let d = dataset(&[
        ("u1", "a", 1),
        ("u1", "b", 2),
        ("u1", "c", 3),
        ("u1", "d", 4),
        ("u2", "a", 1),
        ("u2", "e", 5), // two interactions only: all train
    ]);
    let s = d.split(&SplitConfig::LeaveOneOut { max_history: 20 }).unwrap();
    assert_eq!(s.test.len(), 1);
    assert_eq!(keys(&d, &[s.test[0].target]), ["d"]);
    assert_eq!(keys(&d, &s.test[0].history), ["a", "b", "c"]);
    assert_eq!(keys(&d, &[s.valid[0].target]), ["c"]);
    assert_eq!(s.train.len(), 2, "u1: b; u2: e");
    assert!(!s.is_in_sample(d.catalog.id("d").unwrap()));
    assert!(s.is_in_sample(d.catalog.id("e").unwrap()));
    assert!(s.cutoffs_ms.is_none());
}

#[test]
fn long_histories_are_truncated_to_the_most_recent() {
    let rows: Vec<(String, String, i64)> = (0..100).map(|i| ("u".to_owned(), format!("i{i:03}"), i)).collect();
    let rows: Vec<(&str, &str, i64)> = rows.iter().map(|(u, i, t)| (u.as_str(), i.as_str(), *t)).collect();
    let d = dataset(&rows);
    let s = d.split(&SplitConfig::quantiles(0.9, 0.95)).unwrap();
    let last = s.test.last().unwrap();
    assert_eq!(last.history.len(), 20);
    assert_eq!(keys(&d, &last.history)[0], "i079");
    assert_eq!(keys(&d, &last.history)[19], "i098");
}

/// Splits and expects an error whose message contains every fragment.
fn check_split_error(d: &Dataset, config: &SplitConfig, fragments: &[&str]) {
    let err = d.split(config).expect_err("expected an empty training split to be refused").to_string();
    for f in fragments {
        assert!(err.contains(f), "error `{err}` should mention `{f}`");
    }
}

#[test]
fn a_split_with_no_training_examples_is_refused_saying_why() {
    // The same timestamp on every row (a filled-in column): the quantile cut-offs fall
    // on it and every interaction lands in test.
    let rows: Vec<(String, String, i64)> =
        (0..12).map(|i| (format!("u{}", i % 3), format!("i{i}"), 1_629_498_965)).collect();
    let rows: Vec<(&str, &str, i64)> = rows.iter().map(|(u, i, t)| (u.as_str(), i.as_str(), *t)).collect();
    let d = dataset(&rows);
    check_split_error(
        &d,
        &SplitConfig::quantiles(0.8, 0.9),
        &["dataset `t`", "training split is empty", "all 12 interactions have the same timestamp (1629498965000 ms)"],
    );
    // Fixed cut-offs before every interaction.
    let d = dataset(&[("u1", "a", 10), ("u1", "b", 20), ("u2", "a", 30)]);
    let before = SplitConfig::Chronological {
        valid: CutOff::TimestampMs(5),
        test: CutOff::TimestampMs(6),
        max_history: 20,
    };
    check_split_error(&d, &before, &["training split is empty", "none of the 3 interactions is before", "t1 = 5 ms"]);
    // Only first interactions before t1: no history to predict from.
    let first_only = SplitConfig::Chronological {
        valid: CutOff::TimestampMs(15_000),
        test: CutOff::TimestampMs(25_000),
        max_history: 20,
    };
    check_split_error(&d, &first_only, &["training split is empty", "first interactions"]);
    // Leave-one-out with three interactions per user: the first of each is train, with no history.
    let d = dataset(&[("u1", "a", 1), ("u1", "b", 2), ("u1", "c", 3)]);
    check_split_error(&d, &SplitConfig::LeaveOneOut { max_history: 20 }, &["training split is empty", "leave-one-out"]);
}
