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
/// naming also the commit the binary was built from when that is another one (a
/// binary kept aside and run in a later checkout), else, outside a checkout, the
/// commit the binary was built from (`<commit> (built)`, embedded by `build.rs`).
pub fn git_revision() -> String {
    if let Ok(rev) = std::env::var("SPECGR_GIT_REVISION") {
        return rev;
    }
    let checkout = std::process::Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    describe_revision(checkout.as_deref(), built_from())
}

/// The commit this binary was built from as its build script found it (`<commit>
/// (built)`), or `unknown` where that script last ran for another checkout.
pub fn built_from() -> &'static str {
    build_revision(env!("SPECGR_BUILD_REVISION"), env!("SPECGR_BUILD_ROOT"), env!("CARGO_MANIFEST_DIR"))
}

/// The commit the build script found, or `unknown` when the script last ran for another
/// checkout (`script_root`) than the one this crate was compiled from (`crate_root`):
/// checkouts sharing a target directory share the script's output (`build.rs`).
fn build_revision<'a>(revision: &'a str, script_root: &str, crate_root: &str) -> &'a str {
    if script_root == crate_root { revision } else { "unknown" }
}

/// The revision a report names, from the checkout's `git describe` (if any) and the
/// build's `<commit> (built)`.
fn describe_revision(checkout: Option<&str>, built: &str) -> String {
    let commit = built.split_whitespace().next().unwrap_or("");
    match checkout {
        None => built.to_owned(),
        Some(rev) if commit.is_empty() || commit == "unknown" || rev.starts_with(commit) => rev.to_owned(),
        Some(rev) => format!("{rev} (checkout; binary built from {commit})"),
    }
}

#[cfg(test)]
mod tests {
    use super::{build_revision, describe_revision};

    #[test]
    fn a_build_script_run_for_another_checkout_names_no_commit() {
        assert_eq!(build_revision("973edb7 (built)", "/a/crates/bench", "/a/crates/bench"), "973edb7 (built)");
        assert_eq!(build_revision("973edb7 (built)", "/verify/crates/bench", "/a/crates/bench"), "unknown");
        assert_eq!(describe_revision(Some("a1b2c3d"), build_revision("973edb7 (built)", "/v", "/a")), "a1b2c3d");
    }

    #[test]
    fn a_binary_built_from_another_commit_says_so() {
        assert_eq!(describe_revision(Some("973edb7-dirty"), "973edb7 (built)"), "973edb7-dirty");
        assert_eq!(
            describe_revision(Some("a1b2c3d"), "973edb7 (built)"),
            "a1b2c3d (checkout; binary built from 973edb7)"
        );
        assert_eq!(describe_revision(None, "973edb7 (built)"), "973edb7 (built)");
        assert_eq!(describe_revision(Some("a1b2c3d"), "unknown"), "a1b2c3d");
    }
}
