//! Evaluation, experiments and benchmarks for SpecGR, and the `specgr` command-line tool.
//!
//! The binary's subcommands live in [`cmd`], one module per topic; each resolves
//! its raw arguments into a validated configuration before doing any work.

#![warn(missing_docs)]

pub mod cli;
pub mod cmd;
pub mod machine;
pub mod report;
