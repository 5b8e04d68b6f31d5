//! The generic layout: `interactions.csv` (user, item, timestamp) plus `items.csv`
//! (item key plus text columns), with configurable column names.

use std::collections::HashMap;
use std::path::Path;

use super::csv_common::{CsvFile, parse_timestamp};
use super::{LoadOptions, MissingItemPolicy};
use crate::dataset::{LoadReport, RawInteraction, build};
use crate::error::{DataError, Result};
use crate::text::{Field, item_text};
use crate::Dataset;

/// The unit of the timestamp column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimestampUnit {
    /// Seconds since the Unix epoch.
    #[default]
    Seconds,
    /// Milliseconds since the Unix epoch.
    Milliseconds,
}

impl TimestampUnit {
    /// Converts a timestamp in this unit to milliseconds.
    pub fn to_ms(self, t: i64) -> i64 {
        match self {
            TimestampUnit::Seconds => t.saturating_mul(1000),
            TimestampUnit::Milliseconds => t,
        }
    }
}

fn default_interactions() -> String {
    "interactions.csv".into()
}
fn default_items() -> String {
    "items.csv".into()
}
fn default_user() -> String {
    "user_id".into()
}
fn default_item() -> String {
    "item_id".into()
}
fn default_timestamp() -> String {
    "timestamp".into()
}
fn default_text() -> Vec<String> {
    vec!["title".into()]
}

/// Column names and files of the generic CSV layout.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenericCsv {
    /// The interactions file (plain or `.gz`).
    #[serde(default = "default_interactions")]
    pub interactions: String,
    /// The items file (plain or `.gz`).
    #[serde(default = "default_items")]
    pub items: String,
    /// The user column of the interactions file.
    #[serde(default = "default_user")]
    pub user_column: String,
    /// The item column, in both files.
    #[serde(default = "default_item")]
    pub item_column: String,
    /// The timestamp column of the interactions file.
    #[serde(default = "default_timestamp")]
    pub timestamp_column: String,
    /// The timestamp unit.
    #[serde(default)]
    pub timestamp_unit: TimestampUnit,
    /// The text columns of the items file, in the order they are joined.
    #[serde(default = "default_text")]
    pub text_columns: Vec<String>,
}

impl Default for GenericCsv {
    fn default() -> Self {
        Self {
            interactions: default_interactions(),
            items: default_items(),
            user_column: default_user(),
            item_column: default_item(),
            timestamp_column: default_timestamp(),
            timestamp_unit: TimestampUnit::default(),
            text_columns: default_text(),
        }
    }
}

impl GenericCsv {
    pub(crate) fn files(&self) -> Vec<String> {
        vec![self.interactions.clone(), self.items.clone()]
    }

    pub(crate) fn load(&self, name: &str, dir: &Path, options: LoadOptions) -> Result<Dataset> {
        let items_path = find(dir, &self.items)?;
        let inter_path = find(dir, &self.interactions)?;

        let mut texts: HashMap<String, String> = HashMap::new();
        let mut items = CsvFile::open(&items_path)?;
        let key_col = items.column(&self.item_column)?;
        let text_cols =
            self.text_columns.iter().map(|c| items.column(c)).collect::<Result<Vec<_>>>()?;
        let mut rows = 0;
        while let Some((line, rec)) = items.next()? {
            rows += 1;
            let key = rec[key_col].trim();
            if key.is_empty() {
                return Err(DataError::field(&items_path, line, &self.item_column, "empty item key"));
            }
            let fields: Vec<Field> = text_cols.iter().map(|&c| Field::Text(rec[c].to_owned())).collect();
            texts.insert(key.to_owned(), item_text(&fields, options.text));
        }
        if rows == 0 {
            return Err(DataError::EmptyFile { path: items_path, expected: "item rows".into() });
        }

        let mut report = LoadReport::default();
        let mut unknown = std::collections::HashSet::new();
        let mut raw = Vec::new();
        let mut inter = CsvFile::open(&inter_path)?;
        let (u, i, t) = (
            inter.column(&self.user_column)?,
            inter.column(&self.item_column)?,
            inter.column(&self.timestamp_column)?,
        );
        while let Some((line, rec)) = inter.next()? {
            report.rows_read += 1;
            let user = rec[u].trim();
            if user.is_empty() {
                return Err(DataError::field(&inter_path, line, &self.user_column, "empty user id"));
            }
            let item = rec[i].trim();
            let ts = parse_timestamp(&inter_path, line, &self.timestamp_column, &rec[t])?;
            if !texts.contains_key(item) {
                match options.missing_items {
                    MissingItemPolicy::Error => {
                        return Err(DataError::UnknownItem {
                            path: inter_path.clone(),
                            line,
                            field: self.item_column.clone(),
                            item: item.to_owned(),
                        });
                    }
                    MissingItemPolicy::Skip => {
                        report.rows_skipped_unknown_item += 1;
                        unknown.insert(item.to_owned());
                        continue;
                    }
                }
            }
            raw.push(RawInteraction {
                user: user.to_owned(),
                item: item.to_owned(),
                timestamp_ms: self.timestamp_unit.to_ms(ts),
            });
        }
        if report.rows_read == 0 {
            return Err(DataError::EmptyFile { path: inter_path, expected: "interaction rows".into() });
        }
        report.unknown_items = unknown.len();
        Ok(build(name, raw, &mut texts, report))
    }
}

pub(crate) fn find(dir: &Path, name: &str) -> Result<std::path::PathBuf> {
    crate::io::find_plain_or_gz(dir, name).ok_or_else(|| {
        DataError::io(dir.join(name), std::io::Error::new(std::io::ErrorKind::NotFound, "file not found (nor with .gz)"))
    })
}
