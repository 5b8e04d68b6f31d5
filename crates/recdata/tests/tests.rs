//! Integration tests of `recdata`, one module per topic (one test binary keeps links short).

mod beauty;
mod formats;
mod fuzz;
mod fuzz_harness;
mod lock;
mod manifests;
mod splits;
mod synthetic;

use std::io::Write;
use std::path::Path;

/// Writes `text` to `dir/name`, gzipped when the name ends in `.gz`.
pub fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    if name.ends_with(".gz") {
        let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&path).unwrap(), flate2::Compression::default());
        gz.write_all(text.as_bytes()).unwrap();
        gz.finish().unwrap();
    } else {
        std::fs::write(path, text).unwrap();
    }
}
