//! Integration tests of `bench`, one module per topic (one test binary keeps links short).

mod plot;
mod resume;
