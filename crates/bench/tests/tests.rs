//! Integration tests of `bench`, one module per topic (one test binary keeps links short).

mod args;
mod data;
mod eval_resume;
mod identity;
mod levels;
mod loadtest;
mod lock;
mod plot;
mod progress;
mod resume;
mod serve;
mod serving;
