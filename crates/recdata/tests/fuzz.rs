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
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use recdata::formats::{Amazon2014, Amazon2023, GenericCsv};
use recdata::{Format, LoadOptions, Manifest, MissingItemPolicy, SplitConfig};

/// One edit of a seed file.
#[derive(Clone, Debug)]
enum Edit {
    /// Delete up to `len` bytes at a position.
    Delete { at: usize, len: usize },
    /// Insert bytes at a position.
    Insert { at: usize, bytes: Vec<u8> },
    /// Copy a slice of the file to another position.
    Duplicate { from: usize, len: usize, to: usize },
    /// Cut the file at a position.
    Truncate { at: usize },
}

/// Bytes that mean something to one of the formats, and any byte now and then.
fn syntax_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => prop::sample::select(b",\"'\n\r{}[]:\\ -0123456789aeTFNu.#=".to_vec()),
        1 => any::<u8>(),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1usize..16).prop_map(|(at, len)| Edit::Delete { at, len }),
        (any::<usize>(), prop::collection::vec(syntax_byte(), 1..8)).prop_map(|(at, bytes)| Edit::Insert { at, bytes }),
        (any::<usize>(), 1usize..64, any::<usize>()).prop_map(|(from, len, to)| Edit::Duplicate { from, len, to }),
        any::<usize>().prop_map(|at| Edit::Truncate { at }),
    ]
}

/// Edits for the files of one case.
pub fn edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(edit(), 0..6)
}

/// Applies edits to a seed.
pub fn mutate(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for e in edits {
        let n = b.len();
        let pos = |at: usize| if n == 0 { 0 } else { at % (n + 1) };
        match e {
            Edit::Delete { at, len } => {
                let start = pos(*at);
                b.drain(start..(start + len).min(n));
            }
            Edit::Insert { at, bytes } => {
                let at = pos(*at);
                b.splice(at..at, bytes.iter().copied());
            }
            Edit::Duplicate { from, len, to } => {
                let start = pos(*from);
                let slice = b[start..(start + len).min(n)].to_vec();
                let to = pos(*to);
                b.splice(to..to, slice);
            }
            Edit::Truncate { at } => b.truncate(pos(*at)),
        }
    }
    b
}

/// Runs `test` on cases drawn from `strategy`: 256 in `cargo test`, or as many as
/// `SPECGR_FUZZ_SECS` seconds allow. A panic in `test` fails with the (shrunk) case.
pub fn fuzz<S: Strategy>(name: &str, strategy: S, test: impl Fn(S::Value)) {
    let secs: Option<f64> = std::env::var("SPECGR_FUZZ_SECS").ok().and_then(|s| s.parse().ok());
    let cases = 256;
    let start = std::time::Instant::now();
    let mut total = 0u64;
    for round in 0u64.. {
        // Short runs are the same every time; each round of a long run has its own seed.
        let mut seed = [0u8; 32];
        let salt = if secs.is_some() { start.elapsed().as_nanos() as u64 } else { 0 };
        seed[..8].copy_from_slice(&round.to_le_bytes());
        seed[8..16].copy_from_slice(&salt.to_le_bytes());
        let config = Config { cases, failure_persistence: None, ..Config::default() };
        let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
        if let Err(e) = runner.run(&strategy, |value| {
            test(value);
            Ok(())
        }) {
            panic!("{name}: {e}");
        }
        total += u64::from(cases);
        if secs.is_none_or(|s| start.elapsed().as_secs_f64() >= s) {
            break;
        }
    }
    eprintln!("fuzz {name}: {total} cases in {:.1} s, no panic", start.elapsed().as_secs_f64());
}

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
