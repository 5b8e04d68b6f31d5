//! Datasets for inductive generative recommendation.
//!
//! `recdata` loads real recommendation data in three formats (Amazon Reviews 2023
//! benchmark CSVs, Amazon 2014 5-core JSON, a generic CSV pair) into one
//! [`Dataset`]: a [`Catalog`] of items with cleaned text and time-ordered
//! interactions. [`Dataset::split`] turns it into train / valid / test
//! [`Example`]s with the seen/unseen bookkeeping SpecGR's protocol needs, and
//! [`synthetic`] generates a seeded dataset with new items arriving over time. Data in
//! a format of one's own becomes a dataset through [`Dataset::from_raw`]
//! (`docs/extending.md`). The crate also holds what every other crate shares without
//! a model: ranking [`metrics`], result [`report`]s, the run directory's layout
//! ([`RunDir`]), atomic writes ([`fsio`]) and run locks ([`lock`]).
//!
//! ```
//! use recdata::{SplitConfig, synthetic::SyntheticConfig};
//!
//! let data = SyntheticConfig::tiny().generate(7).unwrap();
//! let split = data.split(&SplitConfig::quantiles(0.8, 0.9)).unwrap();
//! assert!(!split.test.is_empty());
//! let unseen = split.test.iter().filter(|e| !split.is_in_sample(e.target)).count();
//! assert!(unseen > 0, "new items arrive after the training period");
//! ```

#![warn(missing_docs)]

mod dataset;
pub mod export;
mod error;
pub mod formats;
pub mod fsio;
mod io;
mod item;
pub mod lock;
mod manifest;
pub mod metrics;
pub mod report;
pub mod rng;
pub mod run_dir;
mod split;
pub mod stats;
pub mod synthetic;
pub mod text;

pub use dataset::{Dataset, Interaction, LoadReport, RawInteraction};
pub use error::{DataError, Result};
pub use formats::{Format, LoadOptions, MissingItemPolicy};
pub use item::{Catalog, ItemId};
pub use lock::{LockError, LockHolder, RunLock};
pub use run_dir::RunDir;
pub use manifest::{
    Download, Manifest, Resolved, default_data_root, find_manifest, load_dataset, load_dataset_with, load_manifest_file,
};
pub use split::{CutOff, Example, PartStats, Split, SplitConfig};
