#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod drafter;
mod error;
mod filter;
mod item_set;
mod verifier;

pub use drafter::{Drafter, DrafterResult, Neighbor, Query};
pub use error::{DrafterError, Result, SpecError};
pub use filter::{DraftFilter, Plan, PrefixFilter, PreparedFilter};
pub use item_set::ItemSet;
pub use verifier::{Beam, Verifier, mean_log_prob};
