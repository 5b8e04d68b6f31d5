//! The real Amazon Beauty 2014 data, where `SPECGR_DATA` points at it.

use std::path::PathBuf;

fn data_root() -> Option<PathBuf> {
    let root = PathBuf::from(std::env::var_os("SPECGR_DATA")?);
    root.join("beauty-2014/interactions.csv").is_file().then_some(root)
}

#[test]
fn beauty_2014_counts_match_the_published_numbers() {
    let Some(root) = data_root() else {
        eprintln!("skipping beauty_2014_counts_match_the_published_numbers: beauty-2014 not found (set SPECGR_DATA)");
        return;
    };
    let r = recdata::load_dataset("beauty-2014", &root).unwrap();
    let d = &r.dataset;
    // Published in shared/data/beauty-2014/README.md.
    assert_eq!((d.num_users(), d.num_items(), d.interactions.len()), (22_363, 12_101, 198_502));
    assert_eq!(d.report.items_without_text, 7, "README: 7 titles are empty");
    let s = d.split(&r.split).unwrap();
    let test = s.stats[2];
    // 80/10/10 quantile split: 5,417 of 20,147 test interactions target unseen items.
    assert_eq!((test.interactions, test.unseen_interactions), (20_147, 5_417));
    assert!(test.examples < test.interactions && test.dropped_empty_history > 0);
    assert_eq!(test.examples + test.dropped_empty_history, test.interactions);
    assert_eq!(s.in_sample_prefix(), Some(s.num_in_sample()));
}
