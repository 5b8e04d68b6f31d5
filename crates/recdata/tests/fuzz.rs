//! Property tests of every reader of user files: whatever the bytes, loading returns
//! `Ok` or a [`DataError`], never a panic (#20). Inputs are valid files with random
//! edits (bytes deleted, inserted, duplicated, cut), which reach far deeper into a
//! parser than random bytes do.
//!
//! `cargo test` runs a few hundred cases per reader. For a long run set
//! `SPECGR_FUZZ_SECS` (seconds per reader): each reader is then fed new cases, from a
//! new seed per round, until the time is up, and the number of cases is printed:
//! `SPECGR_FUZZ_SECS=600 cargo test -p recdata --test tests fuzz -- --nocapture`.

use std::path::Path;

use proptest::prelude::*;
use recdata::formats::{Amazon2014, Amazon2023, GenericCsv};
use recdata::{Format, LoadOptions, Manifest, MissingItemPolicy, SplitConfig};

use crate::fuzz_harness::{Edit, edits, fuzz, mutate};

/// Writes bytes to `dir/name`, gzipped when the name ends in `.gz`.
fn write_bytes(dir: &Path, name: &str, bytes: &[u8]) {
    use std::io::Write;
    let path = dir.join(name);
    if name.ends_with(".gz") {
        let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&path).unwrap(), flate2::Compression::fast());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap();
    } else {
        std::fs::write(path, bytes).unwrap();
    }
}

/// Loads edited copies of `files` with `format`; whatever loads is split and
/// fingerprinted too, which must not panic either.
fn load_edited(format: &Format, files: &[(&str, &str)], edits: &[Vec<Edit>], skip: bool) {
    let dir = tempfile::tempdir().unwrap();
    for ((name, seed), e) in files.iter().zip(edits) {
        write_bytes(dir.path(), name, &mutate(seed.as_bytes(), e));
    }
    let options = LoadOptions {
        missing_items: if skip { MissingItemPolicy::Skip } else { MissingItemPolicy::Error },
        ..LoadOptions::default()
    };
    if let Ok(d) = format.load("fuzz", dir.path(), options) {
        let _ = d.fingerprint();
        let _ = d.split(&SplitConfig::quantiles(0.8, 0.9));
        let _ = d.split(&SplitConfig::LeaveOneOut { max_history: 3 });
    }
}

const GENERIC_ITEMS: &str = "item_id,title,brand\nA,\"Alpha, the \"\"first\"\"\",X\nB,Beta &amp; co,\nC,,Y\n";
const GENERIC_INTERACTIONS: &str = "user_id,item_id,timestamp\nu1,A,10\nu1,B,20\nu2,C,20\nu2,A,30\nu1,C,40\nu3,A,5\nu3,B,50\n";

#[test]
fn generic_csv_never_panics() {
    let format = Format::GenericCsv(GenericCsv { text_columns: vec!["title".into(), "brand".into()], ..GenericCsv::default() });
    let files = [("items.csv", GENERIC_ITEMS), ("interactions.csv", GENERIC_INTERACTIONS)];
    fuzz("generic csv", (edits(), edits(), any::<bool>()), |(a, b, skip)| load_edited(&format, &files, &[a, b], skip));
    let gz = [("items.csv.gz", GENERIC_ITEMS), ("interactions.csv", GENERIC_INTERACTIONS)];
    fuzz("generic csv (gzip)", (edits(), edits(), any::<bool>()), |(a, b, skip)| load_edited(&format, &gz, &[a, b], skip));
}

const REVIEWS_2014: &str = concat!(
    r#"{"reviewerID": "u1", "asin": "A", "reviewerName": "x", "overall": 5.0, "unixReviewTime": 100}"#,
    "\n",
    r#"{"reviewerID": "u1", "asin": "B", "unixReviewTime": 200}"#,
    "\n",
    r#"{"reviewerID": "u2", "asin": "A", "unixReviewTime": 150}"#,
    "\n",
    r#"{"reviewerID": "u2", "asin": "B", "unixReviewTime": 250}"#,
    "\n"
);
const META_2014: &str = concat!(
    r#"{'asin': 'A', 'title': "L'Oreal Lipstick", 'categories': [['Beauty', 'Makeup', 'Lips']], 'description': 'Red &amp; bold', 'price': 1.5e1, 'x': None, 'y': (True, False)}"#,
    "\n",
    r#"{'asin': 'B', 'categories': [['Beauty']], 'salesRank': {'Beauty': 12}, 'related': {'also_bought': ['A', u'B\'s', -3]}}"#,
    "\n"
);

#[test]
fn amazon_2014_json_and_python_literal_meta_never_panic() {
    let format = Format::Amazon2014(Amazon2014 { category: "Beauty".into() });
    let files = [("reviews_Beauty_5.json", REVIEWS_2014), ("meta_Beauty.json", META_2014)];
    fuzz("amazon 2014", (edits(), edits(), any::<bool>()), |(a, b, skip)| load_edited(&format, &files, &[a, b], skip));
    fuzz("python literal", edits(), |e| {
        let text = String::from_utf8_lossy(&mutate(META_2014.lines().next().unwrap().as_bytes(), &e)).into_owned();
        let _ = recdata::formats::parse_python_literal(&text);
    });
    // Deep nesting must be an error, not a stack overflow.
    fuzz("python literal nesting", (1usize..20_000, prop::sample::select(vec!["[", "{'a': ", "(", "[[", "{'k': ["])), |(depth, open)| {
        let _ = recdata::formats::parse_python_literal(&open.repeat(depth));
    });
}

const TRAIN_2023: &str = "user_id,parent_asin,rating,timestamp,history\nu1,A,5.0,1000,\nu1,B,4.0,2000,A\nu2,B,4.0,1500,\n";
const VALID_2023: &str = "user_id,parent_asin,rating,timestamp,history\nu1,C,3.0,3000,A B\n";
const TEST_2023: &str = "user_id,parent_asin,rating,timestamp,history\nu2,C,5.0,4000,B\n";
const META_2023: &str = concat!(
    r#"{"parent_asin": "A", "title": "Game A", "features": ["Fast", "Fun"], "categories": ["Video Games", "PC"], "description": ["<p>Great</p>"]}"#,
    "\n",
    r#"{"parent_asin": "B", "title": "Game B", "features": [], "categories": [], "description": [], "details": {"a": [1, 2.5e3, null, true]}}"#,
    "\n",
    r#"{"parent_asin": "C", "title": "Game \u00e9 C"}"#,
    "\n"
);

#[test]
fn amazon_2023_csv_and_jsonl_never_panic() {
    let format = Format::Amazon2023(Amazon2023 { category: "Cat".into() });
    let files = [("Cat.train.csv", TRAIN_2023), ("Cat.valid.csv", VALID_2023), ("Cat.test.csv", TEST_2023), ("meta_Cat.jsonl", META_2023)];
    fuzz("amazon 2023", (edits(), edits(), edits(), any::<bool>()), |(a, b, m, skip)| {
        load_edited(&format, &files, &[a, Vec::new(), b, m], skip)
    });
}

#[test]
fn manifests_never_panic() {
    let seeds: Vec<String> = Manifest::known_names()
        .into_iter()
        .filter(|n| *n != "synthetic")
        .map(|n| std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../datasets/{n}.toml"))).unwrap())
        .collect();
    fuzz("manifest", (0..seeds.len(), edits()), |(i, e)| {
        let text = String::from_utf8_lossy(&mutate(seeds[i].as_bytes(), &e)).into_owned();
        if let Ok(m) = Manifest::from_toml(&text, Path::new("fuzz.toml")) {
            // A manifest that parses is loaded from an empty directory: an error, not a panic.
            let dir = tempfile::tempdir().unwrap();
            let _ = m.load(dir.path());
        }
    });
}
