use recdata::formats::{Amazon2014, Amazon2023, GenericCsv, TimestampUnit};
use recdata::{DataError, Format, LoadOptions, MissingItemPolicy};

use crate::write;

fn generic() -> Format {
    Format::GenericCsv(GenericCsv { item_column: "item_asin".into(), ..GenericCsv::default() })
}

const ITEMS: &str = "item_asin,title\nA,Alpha &amp; co\nB,<b>Beta</b>\nC,\nZ,unused\n";

fn load_generic(interactions: &str, options: LoadOptions) -> recdata::Result<recdata::Dataset> {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "items.csv", ITEMS);
    write(dir.path(), "interactions.csv", interactions);
    generic().load("t", dir.path(), options)
}

/// Loads and expects an error whose message contains every fragment.
fn check_error(result: recdata::Result<recdata::Dataset>, fragments: &[&str]) {
    let err = result.expect_err("expected an error").to_string();
    for f in fragments {
        assert!(err.contains(f), "error `{err}` should mention `{f}`");
    }
}

#[test]
fn generic_csv_numbers_by_first_interaction_and_keeps_ties_in_file_order() {
    let d = load_generic(
        "user_id,item_asin,timestamp\nu1,B,20\nu1,A,10\nu2,C,20\nu2,B,20\nu1,A,30\n",
        LoadOptions::default(),
    )
    .unwrap();
    // Sorted by time, stable: (u1,A,10) (u1,B,20) (u2,C,20) (u2,B,20) (u1,A,30).
    let keys: Vec<&str> = d.interactions.iter().map(|x| d.catalog.key(x.item)).collect();
    assert_eq!(keys, ["A", "B", "C", "B", "A"]);
    assert_eq!(d.catalog.keys(), ["A", "B", "C"]);
    assert_eq!(d.catalog.text(d.catalog.id("A").unwrap()), "Alpha & co");
    assert_eq!(d.catalog.text(d.catalog.id("B").unwrap()), "Beta");
    assert_eq!(d.interactions[0].timestamp_ms, 10_000, "seconds become milliseconds");
    assert_eq!(d.report.duplicate_user_item_rows, 1, "(u1, A) twice: kept and counted");
    assert_eq!(d.interactions.len(), 5);
    assert_eq!(d.report.items_without_text, 1, "C has an empty title");
    assert_eq!(d.report.catalog_items_unused, 1, "Z is never used");
    assert_eq!(d.users, ["u1", "u2"]);
}

/// `Dataset::from_raw` (a format of one's own) builds exactly what a shipped format
/// builds from the same rows and texts: same numbering, counts and fingerprint.
#[test]
fn a_dataset_from_raw_rows_equals_the_shipped_format_on_the_same_rows() {
    let rows = "user_id,item_asin,timestamp\nu1,B,20\nu1,A,10\nu2,C,20\nu2,B,20\nu1,A,30\n";
    let shipped = load_generic(rows, LoadOptions::default()).unwrap();
    let raw: Vec<recdata::RawInteraction> = rows
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            recdata::RawInteraction { user: f[0].into(), item: f[1].into(), timestamp_ms: f[2].parse::<i64>().unwrap() * 1000 }
        })
        .collect();
    // The texts as the CSV loader cleans them (HTML unescaped, tags dropped).
    let texts = [("A", "Alpha & co"), ("B", "Beta"), ("C", ""), ("Z", "unused")];
    let texts = texts.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    let own = recdata::Dataset::from_raw("t", raw, texts);
    assert_eq!(own.fingerprint(), shipped.fingerprint());
    assert_eq!(own.users, shipped.users);
    assert_eq!(own.interactions, shipped.interactions);
    assert_eq!(own.report, shipped.report);
}

#[test]
fn generic_csv_bad_rows_name_file_line_and_field() {
    let h = "user_id,item_asin,timestamp\n";
    check_error(load_generic(&format!("{h}u1,A,10\nu1,B\n"), LoadOptions::default()), &["interactions.csv:3", "2 fields"]);
    check_error(load_generic(&format!("{h}u1,A,10,extra\n"), LoadOptions::default()), &["interactions.csv:2", "4 fields"]);
    check_error(load_generic(&format!("{h}u1,A,ten\n"), LoadOptions::default()), &["interactions.csv:2", "`timestamp`", "`ten`"]);
    check_error(load_generic(&format!("{h}u1,A,-5\n"), LoadOptions::default()), &["interactions.csv:2", "negative"]);
    check_error(load_generic(&format!("{h}u1,A,1\nu1,Q,2\n"), LoadOptions::default()), &["interactions.csv:3", "`Q`", "item_asin"]);
    check_error(load_generic(h, LoadOptions::default()), &["interactions.csv", "empty"]);
    check_error(load_generic("", LoadOptions::default()), &["interactions.csv"]);
    check_error(load_generic("user,item_asin,timestamp\nu1,A,1\n", LoadOptions::default()), &["no column `user_id`"]);
}

#[test]
fn a_header_naming_a_column_twice_is_refused() {
    // Before: the first `timestamp` column was read and the second silently ignored.
    check_error(
        load_generic("user_id,item_asin,timestamp,timestamp\nu1,A,10,99\n", LoadOptions::default()),
        &["interactions.csv:1", "column `timestamp` twice", "columns 3 and 4"],
    );
    check_error(
        load_generic("user_id,item_asin, user_id ,timestamp\nu1,A,u2,10\n", LoadOptions::default()),
        &["interactions.csv:1", "column `user_id` twice", "columns 1 and 3"],
    );
}

#[test]
fn a_csv_cut_inside_a_quoted_last_field_is_refused() {
    let h = "user_id,item_asin,timestamp\n";
    // Before: the unterminated quote swallowed the rest of the file and the row loaded.
    check_error(
        load_generic(&format!("{h}u1,A,10\nu1,B,\"20"), LoadOptions::default()),
        &["interactions.csv:3", "ends inside a quoted field"],
    );
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "items.csv", "item_asin,title\nA,\"Alpha, the first\"\nB,\"Beta \"\"5\"\"\"\nC,\"Gamma, cut");
    write(dir.path(), "interactions.csv", &format!("{h}u1,A,10\n"));
    check_error(generic().load("t", dir.path(), LoadOptions::default()), &["items.csv:4", "ends inside a quoted field"]);
    // Closed quotes, doubled quotes and a quote inside an unquoted field all still load,
    // with or without a final line end.
    write(dir.path(), "items.csv", "item_asin,title\nA,\"Alpha, the first\"\nB,\"Beta \"\"5\"\"\"\nC,Gamma 5\" screen");
    let d = generic().load("t", dir.path(), LoadOptions::default()).unwrap();
    assert_eq!(d.catalog.text(d.catalog.id("A").unwrap()), "Alpha, the first");
}

#[test]
fn the_unknown_item_hint_names_the_manifest_key() {
    let h = "user_id,item_asin,timestamp\n";
    check_error(
        load_generic(&format!("{h}u1,Q,2\n"), LoadOptions::default()),
        &["`Q` is not in the catalog", "missing_items = \"skip\"", "[load]"],
    );
    let err = load_generic(&format!("{h}u1,Q,2\n"), LoadOptions::default()).unwrap_err().to_string();
    assert!(!err.contains("MissingItemPolicy"), "{err}");
}

#[test]
fn unknown_items_are_skipped_and_counted_when_asked() {
    let options = LoadOptions { missing_items: MissingItemPolicy::Skip, ..LoadOptions::default() };
    let d = load_generic("user_id,item_asin,timestamp\nu1,A,1\nu1,Q,2\nu1,Q,3\nu2,R,3\n", options).unwrap();
    assert_eq!(d.interactions.len(), 1);
    assert_eq!(d.report.rows_skipped_unknown_item, 3);
    assert_eq!(d.report.unknown_items, 2);
}

#[test]
fn gzip_files_load_and_truncated_streams_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "items.csv.gz", ITEMS);
    let mut rows = String::from("user_id,item_asin,timestamp\n");
    for i in 0..5000 {
        rows += &format!("u{},A,{}\n", i % 50, i);
    }
    write(dir.path(), "interactions.csv.gz", &rows);
    let d = generic().load("t", dir.path(), LoadOptions::default()).unwrap();
    assert_eq!(d.interactions.len(), 5000);

    // Cut the gzip stream in the middle.
    let path = dir.path().join("interactions.csv.gz");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    check_error(generic().load("t", dir.path(), LoadOptions::default()), &["interactions.csv.gz", "ends early"]);
}

#[test]
fn non_utf8_rows_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "items.csv", ITEMS);
    std::fs::write(dir.path().join("interactions.csv"), b"user_id,item_asin,timestamp\nu\xff1,A,1\n").unwrap();
    check_error(generic().load("t", dir.path(), LoadOptions::default()), &["interactions.csv:2", "UTF-8"]);
}

#[test]
fn amazon_2023_benchmark_files() {
    let dir = tempfile::tempdir().unwrap();
    let h = "user_id,parent_asin,rating,timestamp,history\n";
    write(dir.path(), "Cat.train.csv", &format!("{h}u1,A,5.0,1000,\nu1,B,4.0,2000,A\nu2,B,4.0,1500,\n"));
    write(dir.path(), "Cat.valid.csv.gz", &format!("{h}u1,C,3.0,3000,A B\n"));
    write(dir.path(), "Cat.test.csv", &format!("{h}u2,C,5.0,4000,B\n"));
    let meta = [
        r#"{"parent_asin": "A", "title": "Game A", "features": ["Fast", "Fun"], "categories": ["Video Games", "PC"], "description": ["<p>Great</p>"]}"#,
        r#"{"parent_asin": "B", "title": "Game B", "features": [], "categories": [], "description": []}"#,
        r#"{"parent_asin": "C", "title": "Game C"}"#,
        r#"{"parent_asin": "D", "title": "Unused"}"#,
    ]
    .join("\n");
    write(dir.path(), "meta_Cat.jsonl", &meta);
    let f = Format::Amazon2023(Amazon2023 { category: "Cat".into() });
    let d = f.load("t", dir.path(), LoadOptions::default()).unwrap();
    assert_eq!(d.interactions.len(), 5);
    assert_eq!(d.catalog.keys(), ["A", "B", "C"]);
    assert_eq!(d.catalog.text(recdata::ItemId(0)), "Game A Fast, Fun. Video Games, PC. Great.");
    assert_eq!(d.interactions[0].timestamp_ms, 1000, "2023 timestamps are already ms");

    // A history item missing from the meta file.
    write(dir.path(), "Cat.test.csv", &format!("{h}u2,C,5.0,4000,B X\n"));
    check_error(f.load("t", dir.path(), LoadOptions::default()), &["Cat.test.csv:2", "`history`", "`X`"]);
    let skip = LoadOptions { missing_items: MissingItemPolicy::Skip, ..LoadOptions::default() };
    let d = f.load("t", dir.path(), skip).unwrap();
    assert_eq!((d.interactions.len(), d.report.rows_skipped_unknown_item), (4, 1));
}

#[test]
fn amazon_2014_reviews_with_python_literal_meta() {
    let dir = tempfile::tempdir().unwrap();
    let reviews = [
        r#"{"reviewerID": "u1", "asin": "A", "reviewerName": "x", "overall": 5.0, "unixReviewTime": 100}"#,
        r#"{"reviewerID": "u1", "asin": "B", "unixReviewTime": 200}"#,
        r#"{"reviewerID": "u2", "asin": "A", "unixReviewTime": 150}"#,
    ]
    .join("\n");
    write(dir.path(), "reviews_Beauty_5.json.gz", &reviews);
    let meta = [
        r#"{'asin': 'A', 'title': "L'Oreal Lipstick", 'categories': [['Beauty', 'Makeup', 'Lips']], 'description': 'Red &amp; bold'}"#,
        r#"{'asin': 'B', 'categories': [['Beauty']], 'salesRank': {'Beauty': 12}}"#,
    ]
    .join("\n");
    write(dir.path(), "meta_Beauty.json.gz", &meta);
    let f = Format::Amazon2014(Amazon2014 { category: "Beauty".into() });
    let d = f.load("t", dir.path(), LoadOptions::default()).unwrap();
    assert_eq!(d.catalog.text(d.catalog.id("A").unwrap()), "L'Oreal Lipstick Beauty, Makeup, Lips. Red & bold");
    assert_eq!(d.catalog.text(d.catalog.id("B").unwrap()), "Beauty.");
    assert_eq!(d.interactions[1].timestamp_ms, 150_000);

    write(dir.path(), "meta_Beauty.json.gz", "{'asin': 'A', 'title': 'broken\n");
    check_error(f.load("t", dir.path(), LoadOptions::default()), &["meta_Beauty.json.gz:1", "Python"]);
    write(dir.path(), "reviews_Beauty_5.json.gz", r#"{"reviewerID": "u1", "asin": "A", "unixReviewTime": "soon"}"#);
    check_error(f.load("t", dir.path(), LoadOptions::default()), &["reviews_Beauty_5.json.gz:1", "`unixReviewTime`"]);
}

#[test]
fn generic_csv_with_millisecond_timestamps_and_several_text_columns() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "items.csv", "id,name,brand\n1,Shoe,Acme\n");
    write(dir.path(), "events.csv", "uid,id,ts\nx,1,1500\n");
    let f = Format::GenericCsv(GenericCsv {
        interactions: "events.csv".into(),
        user_column: "uid".into(),
        item_column: "id".into(),
        timestamp_column: "ts".into(),
        timestamp_unit: TimestampUnit::Milliseconds,
        text_columns: vec!["name".into(), "brand".into()],
        ..GenericCsv::default()
    });
    let d = f.load("t", dir.path(), LoadOptions::default()).unwrap();
    assert_eq!(d.catalog.text(recdata::ItemId(0)), "Shoe Acme");
    assert_eq!(d.interactions[0].timestamp_ms, 1500);
    assert!(matches!(
        Format::GenericCsv(GenericCsv::default()).load("t", dir.path(), LoadOptions::default()),
        Err(DataError::Io { .. })
    ));
}
