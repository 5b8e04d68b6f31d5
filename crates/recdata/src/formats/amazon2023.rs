//! Amazon Reviews 2023 benchmark files: `{Category}.{train,valid,test}.csv`
//! (`user_id,parent_asin,rating,timestamp,history`, timestamps in ms, `history`
//! space-separated) with `meta_{Category}.jsonl` (title, features[], categories[],
//! description[], ...). Plain or `.gz`.
//!
//! The interactions are the rows of the three files together; each user's history
//! is rebuilt from their earlier rows when splitting. The `history` column is
//! checked against the catalog (an unknown history item follows the missing-item
//! policy) but not used otherwise: in the 5-core benchmark files it equals the
//! user's earlier rows.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::csv_common::{CsvFile, parse_timestamp};
use super::generic::find;
use super::{LoadOptions, MissingItemPolicy};
use crate::dataset::{LoadReport, RawInteraction, build};
use crate::error::{DataError, Result};
use crate::io::Lines;
use crate::text::{Field, item_text};
use crate::Dataset;

/// The Amazon Reviews 2023 layout of one category.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Amazon2023 {
    /// The category, as in the file names (`Video_Games`).
    pub category: String,
}

impl Amazon2023 {
    fn split_files(&self) -> [String; 3] {
        ["train", "valid", "test"].map(|s| format!("{}.{s}.csv", self.category))
    }

    fn meta_file(&self) -> String {
        format!("meta_{}.jsonl", self.category)
    }

    pub(crate) fn files(&self) -> Vec<String> {
        let mut f = self.split_files().to_vec();
        f.push(self.meta_file());
        f
    }

    pub(crate) fn load(&self, name: &str, dir: &Path, options: LoadOptions) -> Result<Dataset> {
        let mut report = LoadReport::default();
        let mut raw = Vec::new();
        // (file index, line, item) of every history entry, checked once the meta is read.
        let mut history_refs: Vec<(usize, usize, String)> = Vec::new();
        let mut paths = Vec::new();
        for file in self.split_files() {
            let path = find(dir, &file)?;
            let mut csv = CsvFile::open(&path)?;
            let (u, i, t, h) = (
                csv.column("user_id")?,
                csv.column("parent_asin")?,
                csv.column("timestamp")?,
                csv.column("history")?,
            );
            let file_index = paths.len();
            let mut rows = 0;
            while let Some((line, rec)) = csv.next()? {
                rows += 1;
                let ts = parse_timestamp(&path, line, "timestamp", &rec[t])?;
                let user = rec[u].trim();
                if user.is_empty() {
                    return Err(DataError::field(&path, line, "user_id", "empty user id"));
                }
                for item in rec[h].split_whitespace() {
                    history_refs.push((file_index, line, item.to_owned()));
                }
                raw.push((
                    file_index,
                    line,
                    RawInteraction { user: user.to_owned(), item: rec[i].trim().to_owned(), timestamp_ms: ts },
                ));
            }
            if rows == 0 && file.contains(".train.") {
                return Err(DataError::EmptyFile { path, expected: "interaction rows".into() });
            }
            report.rows_read += rows;
            paths.push(path.clone());
        }

        let needed: HashSet<&str> = raw.iter().map(|(_, _, r)| r.item.as_str()).collect();
        let mut texts = read_meta(&find(dir, &self.meta_file())?, &needed, options)?;

        let mut unknown = HashSet::new();
        let mut bad_rows: HashSet<(usize, usize)> = HashSet::new();
        let known = |item: &str| texts.contains_key(item);
        for (file, line, item) in raw.iter().map(|(f, l, r)| (*f, *l, &r.item)).chain(
            history_refs.iter().map(|(f, l, i)| (*f, *l, i)),
        ) {
            if known(item) {
                continue;
            }
            match options.missing_items {
                MissingItemPolicy::Error => {
                    let field = if raw.iter().any(|(f, l, r)| *f == file && *l == line && &r.item == item) {
                        "parent_asin"
                    } else {
                        "history"
                    };
                    return Err(DataError::UnknownItem {
                        path: paths[file].clone(),
                        line,
                        field: field.into(),
                        item: item.clone(),
                    });
                }
                MissingItemPolicy::Skip => {
                    unknown.insert(item.clone());
                    bad_rows.insert((file, line));
                }
            }
        }
        report.unknown_items = unknown.len();
        report.rows_skipped_unknown_item = bad_rows.len();
        let raw: Vec<RawInteraction> = raw
            .into_iter()
            .filter(|(f, l, _)| !bad_rows.contains(&(*f, *l)))
            .map(|(_, _, r)| r)
            .collect();
        Ok(build(name, raw, &mut texts, report))
    }
}

/// Reads the texts of the `needed` items from a `meta_*.jsonl` file.
fn read_meta(path: &Path, needed: &HashSet<&str>, options: LoadOptions) -> Result<HashMap<String, String>> {
    let mut texts = HashMap::with_capacity(needed.len());
    let mut lines = Lines::open(path)?;
    let mut any = false;
    while let Some((line, text)) = lines.next_line()? {
        any = true;
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| DataError::Parse {
            path: path.to_owned(),
            line,
            message: format!("not a JSON object: {e}"),
        })?;
        let Some(asin) = value.get("parent_asin").and_then(|v| v.as_str()) else {
            return Err(DataError::field(path, line, "parent_asin", "missing or not a string"));
        };
        if !needed.contains(asin) {
            continue;
        }
        let fields = ["title", "features", "categories", "description"].map(|f| json_field(&value, f));
        texts.insert(asin.to_owned(), item_text(fields.iter().flatten(), options.text));
    }
    if !any {
        return Err(DataError::EmptyFile { path: path.to_owned(), expected: "item metadata lines".into() });
    }
    Ok(texts)
}

/// A metadata field as a [`Field`]: strings stay strings, lists (of lists) are flattened.
pub(crate) fn json_field(value: &serde_json::Value, name: &str) -> Option<Field> {
    fn flatten(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(a) => a.iter().for_each(|x| flatten(x, out)),
            serde_json::Value::Number(n) => out.push(n.to_string()),
            _ => {}
        }
    }
    match value.get(name)? {
        serde_json::Value::String(s) => Some(Field::Text(s.clone())),
        v @ serde_json::Value::Array(_) => {
            let mut out = Vec::new();
            flatten(v, &mut out);
            Some(Field::List(out))
        }
        _ => None,
    }
}
