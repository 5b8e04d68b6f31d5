use recdata::SplitConfig;
use recdata::synthetic::SyntheticConfig;

#[test]
fn synthetic_data_is_seeded_and_has_new_items_in_test() {
    let config = SyntheticConfig::tiny();
    let a = config.generate(3).unwrap();
    let b = config.generate(3).unwrap();
    assert_eq!(a.interactions, b.interactions);
    assert_eq!(a.catalog.texts(), b.catalog.texts());
    let c = config.generate(4).unwrap();
    assert_ne!(a.interactions, c.interactions);
    assert!(a.catalog.texts().iter().all(|t| t.split_whitespace().count() >= 5));
    let users: std::collections::HashSet<u32> = a.interactions.iter().map(|x| x.user).collect();
    assert_eq!(users.len(), config.users);
}

#[test]
fn default_synthetic_data_has_at_least_a_fifth_unseen_test_targets() {
    let d = SyntheticConfig::default().generate(0).unwrap();
    let s = d.split(&SplitConfig::quantiles(0.8, 0.9)).unwrap();
    let share = s.stats[2].unseen_examples as f64 / s.stats[2].examples as f64;
    assert!(share >= 0.2, "unseen share of test examples {share:.3}");
    assert!(share <= 0.6, "in-sample items must still matter: {share:.3}");
    assert!(s.train.len() > 5 * s.test.len() / 2);
}

#[test]
fn bad_synthetic_configs_are_errors() {
    let bad = SyntheticConfig { stay: 0.8, follow: 0.5, ..SyntheticConfig::tiny() };
    assert!(bad.generate(0).unwrap_err().to_string().contains("stay + follow"));
    let bad = SyntheticConfig { items: 2, ..SyntheticConfig::tiny() };
    assert!(bad.generate(0).is_err());
}

#[test]
fn exported_synthetic_data_loads_back_identically() {
    let data = SyntheticConfig::tiny().generate(9).unwrap();
    let dir = tempfile::tempdir().unwrap();
    recdata::export::write_generic_csv(&data, dir.path()).unwrap();
    let manifest = recdata::Manifest::read(&dir.path().join("dataset.toml")).unwrap();
    let back = manifest.load(dir.path()).unwrap();
    assert_eq!(back.catalog.keys(), data.catalog.keys());
    assert_eq!(back.catalog.texts(), data.catalog.texts());
    assert_eq!(back.interactions, data.interactions);
    let (a, b) = (data.split(&manifest.split).unwrap(), back.split(&manifest.split).unwrap());
    assert_eq!(a.test, b.test);
}

/// New items must be new in content, not only in interactions: most unseen test
/// targets name a brand or trend that no training item's text contains (their
/// release era started after training ended), which is what keeps a generative
/// model from producing their semantic IDs.
#[test]
fn most_unseen_test_targets_describe_something_no_training_item_does() {
    let d = SyntheticConfig::default().generate(0).unwrap();
    let s = d.split(&SplitConfig::quantiles(0.8, 0.9)).unwrap();
    let words = |t: &str| t.split_whitespace().map(str::to_owned).collect::<std::collections::HashSet<_>>();
    let mut seen_words = std::collections::HashSet::new();
    for i in s.in_sample_items() {
        seen_words.extend(words(d.catalog.text(i)));
    }
    let unseen: Vec<_> = s.test.iter().filter(|e| !s.is_in_sample(e.target)).collect();
    assert!(!unseen.is_empty());
    let novel = unseen.iter().filter(|e| !words(d.catalog.text(e.target)).is_subset(&seen_words)).count();
    let share = novel as f64 / unseen.len() as f64;
    assert!(share >= 0.5, "only {share:.2} of unseen test targets have novel words");
}
