use std::path::Path;

use recdata::{DataError, Manifest, SplitConfig};

#[test]
fn shipped_manifests_parse() {
    for name in Manifest::known_names().into_iter().filter(|n| *n != "synthetic") {
        let m = Manifest::builtin(name).unwrap();
        assert_eq!(m.name, name);
        assert!(!m.downloads.is_empty(), "{name} has download URLs");
        assert!(m.downloads.iter().all(|d| d.url.starts_with("http")));
    }
    let games = Manifest::builtin("games-2023").unwrap();
    assert_eq!(
        games.split,
        SplitConfig::Chronological {
            valid: recdata::CutOff::TimestampMs(1_628_643_414_042),
            test: recdata::CutOff::TimestampMs(1_658_002_729_837),
            max_history: 20,
        }
    );
}

#[test]
fn unknown_keys_and_names_are_clear_errors() {
    let text = r#"
name = "x"
colour = "blue"
[[format]]
kind = "generic-csv"
[split]
kind = "leave-one-out"
"#;
    let err = Manifest::from_toml(text, Path::new("x.toml")).unwrap_err().to_string();
    assert!(err.contains("x.toml") && err.contains("colour"), "{err}");

    let text = "name = \"x\"\n[[format]]\nkind = \"generic-csv\"\nitem_colum = \"id\"\n[split]\nkind = \"leave-one-out\"\n";
    let err = Manifest::from_toml(text, Path::new("x.toml")).unwrap_err().to_string();
    assert!(err.contains("item_colum"), "{err}");

    let err = recdata::load_dataset("nope", Path::new("/nonexistent")).unwrap_err();
    assert!(matches!(err, DataError::UnknownDataset { .. }));
    assert!(err.to_string().contains("beauty-2014"), "{err}");

    let err = recdata::load_dataset("beauty-2014", Path::new("/nonexistent")).unwrap_err().to_string();
    assert!(err.contains("/nonexistent/beauty-2014") && err.contains("xtask download"), "{err}");
}

#[test]
fn a_manifest_dir_with_no_matching_layout_lists_what_it_expected() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("beauty-2014")).unwrap();
    let err = recdata::load_dataset("beauty-2014", dir.path()).unwrap_err().to_string();
    assert!(err.contains("interactions.csv + items.csv") && err.contains("reviews_Beauty_5.json"), "{err}");
}
