//! Result reports: the types live in [`recdata::report`], where `cargo xtask` reads
//! them too; this module adds what only the binary knows, the revision it runs from
//! and the machine it runs on.

pub use recdata::report::{Provenance, Report, ReportError, ResultRow};

use crate::machine::Machine;

/// The provenance of the current process: its command line, `seed`, the resolved
/// `config`, [`git_revision`] and the [`Machine`].
pub fn provenance(seed: u64, config: serde_json::Value) -> Provenance {
    Provenance::new(seed, config, git_revision(), Machine::current().to_string())
}

/// `$SPECGR_GIT_REVISION` (what a driver script records when it builds the binary),
/// else the git revision of the working directory (`git describe --always --dirty`),
/// else, outside a checkout, the commit the binary was built from (`<commit> (built)`,
/// embedded by `build.rs`).
pub fn git_revision() -> String {
    if let Ok(rev) = std::env::var("SPECGR_GIT_REVISION") {
        return rev;
    }
    std::process::Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| env!("SPECGR_BUILD_REVISION").to_owned())
}
