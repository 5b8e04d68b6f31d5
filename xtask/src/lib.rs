//! The library behind `cargo xtask`: the tasks (one module each, dispatched by
//! [`cli`]) and their building blocks.

#![warn(missing_docs)]

pub mod cli;
pub mod download;
pub mod encoder;
pub mod experiment;
mod libtorch;
mod net;
mod reproduce;
pub mod specgr;
pub mod stamp;
mod sweep;
