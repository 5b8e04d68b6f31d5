//! Amazon 2014 per-category 5-core files: `reviews_{Category}_5.json.gz` (strict
//! JSON a line: `reviewerID`, `asin`, `unixReviewTime` in seconds) with
//! `meta_{Category}.json.gz` (Python literals a line: `asin`, `title`,
//! `description`, `categories`, `brand`, ...).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::amazon2023::json_field;
use super::generic::find;
use super::{LoadOptions, MissingItemPolicy};
use crate::dataset::{LoadReport, RawInteraction, build};
use crate::error::{DataError, Result};
use crate::io::Lines;
use crate::text::item_text;
use crate::Dataset;

/// The Amazon 2014 layout of one category.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Amazon2014 {
    /// The category, as in the file names (`Beauty`).
    pub category: String,
}

impl Amazon2014 {
    fn reviews_file(&self) -> String {
        format!("reviews_{}_5.json", self.category)
    }

    fn meta_file(&self) -> String {
        format!("meta_{}.json", self.category)
    }

    pub(crate) fn files(&self) -> Vec<String> {
        vec![self.reviews_file(), self.meta_file()]
    }

    pub(crate) fn load(&self, name: &str, dir: &Path, options: LoadOptions) -> Result<Dataset> {
        let reviews_path = find(dir, &self.reviews_file())?;
        let mut report = LoadReport::default();
        let mut raw = Vec::new();
        let mut lines = Lines::open(&reviews_path)?;
        while let Some((line, text)) = lines.next_line()? {
            report.rows_read += 1;
            let v: serde_json::Value = serde_json::from_str(text).map_err(|e| DataError::Parse {
                path: reviews_path.clone(),
                line,
                message: format!("not a JSON object: {e}"),
            })?;
            let string = |field: &str| -> Result<String> {
                v.get(field).and_then(|x| x.as_str()).map(str::to_owned).ok_or_else(|| {
                    DataError::field(&reviews_path, line, field, "missing or not a string")
                })
            };
            let ts = match v.get("unixReviewTime") {
                Some(serde_json::Value::Number(n)) => n.as_i64(),
                _ => None,
            }
            .ok_or_else(|| DataError::field(&reviews_path, line, "unixReviewTime", "missing or not an integer"))?;
            if ts < 0 {
                return Err(DataError::field(&reviews_path, line, "unixReviewTime", format!("negative timestamp {ts}")));
            }
            raw.push((line, RawInteraction { user: string("reviewerID")?, item: string("asin")?, timestamp_ms: ts * 1000 }));
        }
        if raw.is_empty() {
            return Err(DataError::EmptyFile { path: reviews_path, expected: "review lines".into() });
        }

        let needed: HashSet<&str> = raw.iter().map(|(_, r)| r.item.as_str()).collect();
        let meta_path = find(dir, &self.meta_file())?;
        let mut texts = HashMap::with_capacity(needed.len());
        let mut lines = Lines::open(&meta_path)?;
        while let Some((line, text)) = lines.next_line()? {
            let v = super::parse_python_literal(text).map_err(|message| DataError::Parse {
                path: meta_path.clone(),
                line,
                message: format!("not a Python dict literal: {message}"),
            })?;
            let Some(asin) = v.get("asin").and_then(|a| a.as_str()) else {
                return Err(DataError::field(&meta_path, line, "asin", "missing or not a string"));
            };
            if needed.contains(asin) {
                let fields = ["title", "features", "categories", "description"].map(|f| json_field(&v, f));
                texts.insert(asin.to_owned(), item_text(fields.iter().flatten(), options.text));
            }
        }

        let mut unknown = HashSet::new();
        let mut kept = Vec::with_capacity(raw.len());
        for (line, r) in raw {
            if texts.contains_key(&r.item) {
                kept.push(r);
                continue;
            }
            match options.missing_items {
                MissingItemPolicy::Error => {
                    return Err(DataError::UnknownItem { path: reviews_path, line, field: "asin".into(), item: r.item });
                }
                MissingItemPolicy::Skip => {
                    report.rows_skipped_unknown_item += 1;
                    unknown.insert(r.item);
                }
            }
        }
        report.unknown_items = unknown.len();
        Ok(build(name, kept, &mut texts, report))
    }
}
