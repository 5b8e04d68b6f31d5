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

#[test]
fn data_dir_lets_a_second_manifest_split_the_same_files_its_own_way() {
    let loo = Manifest::builtin("beauty-2014-loo").unwrap();
    assert_eq!(loo.dir_name(), "beauty-2014");
    assert_eq!(loo.split, SplitConfig::LeaveOneOut { max_history: 20 });
    assert_eq!(Manifest::builtin("beauty-2014").unwrap().dir_name(), "beauty-2014");

    // Three users of four interactions, written once under `shop/`.
    let root = tempfile::tempdir().unwrap();
    let shop = root.path().join("shop");
    std::fs::create_dir(&shop).unwrap();
    let mut rows = String::from("user_id,item_asin,timestamp\n");
    for u in 0..3 {
        for t in 0..4 {
            rows += &format!("u{u},i{},{}\n", (u + t) % 5, 1_000 + 10 * u + t);
        }
    }
    std::fs::write(shop.join("interactions.csv"), rows).unwrap();
    std::fs::write(shop.join("items.csv"), "item_asin,title\ni0,a\ni1,b\ni2,c\ni3,d\ni4,e\n").unwrap();
    let manifests = tempfile::tempdir().unwrap();
    let manifest = |name: &str, extra: &str| {
        let text = format!(
            "name = \"{name}\"\n{extra}\n[[format]]\nkind = \"generic-csv\"\nitem_column = \"item_asin\"\n\
             text_columns = [\"title\"]\n[split]\nkind = \"leave-one-out\"\n"
        );
        std::fs::write(manifests.path().join(format!("{name}.toml")), text).unwrap();
    };
    manifest("shop-loo", "data_dir = \"shop\"");
    manifest("elsewhere", "");
    let r = recdata::load_dataset_with("shop-loo", root.path(), Some(manifests.path())).unwrap();
    assert_eq!(r.dataset.name, "shop-loo", "the dataset keeps its own name (its runs directory)");
    assert_eq!(r.dataset.interactions.len(), 12);
    let split = r.dataset.split(&r.split).unwrap();
    assert_eq!((split.valid.len(), split.test.len()), (3, 3), "one valid and one test example per user");
    // Without `data_dir`, the directory is the name, and its absence is the error.
    let err = recdata::load_dataset_with("elsewhere", root.path(), Some(manifests.path())).unwrap_err().to_string();
    assert!(err.contains("elsewhere"), "{err}");
}

/// A user's manifest (no downloads) missing its files says to put them there, not to
/// download; an unknown name lists the manifests of the user's directory too (issue
/// #21 §2).
#[test]
fn errors_about_a_users_own_dataset_point_at_its_own_files_and_manifests() {
    let manifests = tempfile::tempdir().unwrap();
    let text = "name = \"shop\"\n[[format]]\nkind = \"generic-csv\"\n[split]\nkind = \"leave-one-out\"\n";
    std::fs::write(manifests.path().join("shop.toml"), text).unwrap();
    let data = tempfile::tempdir().unwrap();
    std::fs::create_dir(data.path().join("shop")).unwrap();
    let err = recdata::load_dataset_with("shop", data.path(), Some(manifests.path())).unwrap_err().to_string();
    assert!(err.contains("put the files there") && !err.contains("xtask download"), "{err}");
    let err = recdata::load_dataset_with("shpo", data.path(), Some(manifests.path())).unwrap_err().to_string();
    assert!(err.contains("(shop, synthetic, beauty-2014"), "{err}");
    // Given by path, the manifest reads its files beside it: the error says so.
    let err = recdata::load_manifest_file(&manifests.path().join("shop.toml")).unwrap_err().to_string();
    assert!(err.contains("from the manifest's own directory, not from SPECGR_DATA"), "{err}");
    assert!(err.contains(&manifests.path().display().to_string()), "names where it looked: {err}");
}
