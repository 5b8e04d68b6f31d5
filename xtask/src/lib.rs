//! The library behind `cargo xtask`: downloads and the subcommands' building blocks.

#![warn(missing_docs)]

pub mod download;
pub mod encoder;
pub mod experiment;
pub mod specgr;
pub mod stamp;
