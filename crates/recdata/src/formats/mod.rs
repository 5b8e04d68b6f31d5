//! The file formats a dataset can come in, all loaded into one [`Dataset`].

mod amazon2014;
mod amazon2023;
mod csv_common;
mod generic;
mod pyliteral;

use std::path::Path;

use crate::dataset::Dataset;
use crate::error::Result;
use crate::text::TextOptions;

pub use amazon2014::Amazon2014;
pub use amazon2023::Amazon2023;
pub use generic::{GenericCsv, TimestampUnit};
pub use pyliteral::parse_python_literal;

/// What to do with an interaction (or history entry) whose item is not in the catalog.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MissingItemPolicy {
    /// Stop with an error naming the file, line and item.
    #[default]
    Error,
    /// Skip the row and count it in the [`LoadReport`](crate::LoadReport).
    Skip,
}

/// Options shared by every format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LoadOptions {
    /// What to do with rows naming items the catalog lacks.
    #[serde(default)]
    pub missing_items: MissingItemPolicy,
    /// How item text is cleaned.
    #[serde(default)]
    pub text: TextOptions,
}

/// A dataset's on-disk layout.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Format {
    /// Amazon Reviews 2023 benchmark CSVs plus `meta_{Category}.jsonl`.
    #[serde(rename = "amazon-2023")]
    Amazon2023(Amazon2023),
    /// Amazon 2014 `reviews_{Category}_5.json.gz` plus `meta_{Category}.json.gz`.
    #[serde(rename = "amazon-2014")]
    Amazon2014(Amazon2014),
    /// `interactions.csv` plus `items.csv` with configurable columns.
    GenericCsv(GenericCsv),
}

impl Format {
    /// The files this layout needs, for messages (a `.gz` variant is accepted too).
    pub fn files(&self) -> Vec<String> {
        match self {
            Format::Amazon2023(f) => f.files(),
            Format::Amazon2014(f) => f.files(),
            Format::GenericCsv(f) => f.files(),
        }
    }

    /// Whether all of this layout's files are in `dir`.
    pub fn is_present(&self, dir: &Path) -> bool {
        self.files().iter().all(|f| crate::io::find_plain_or_gz(dir, f).is_some())
    }

    /// Loads the dataset from `dir`.
    pub fn load(&self, name: &str, dir: &Path, options: LoadOptions) -> Result<Dataset> {
        match self {
            Format::Amazon2023(f) => f.load(name, dir, options),
            Format::Amazon2014(f) => f.load(name, dir, options),
            Format::GenericCsv(f) => f.load(name, dir, options),
        }
    }
}
