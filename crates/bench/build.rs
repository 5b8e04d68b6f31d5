//! Embeds the git commit the binary was built from (`SPECGR_BUILD_REVISION`), so a
//! report made outside the checkout still names it (`report::git_revision`).
//!
//! Only the commit is tracked (rebuilds follow `HEAD` and the branch refs, not every
//! edit), so it is written `<commit> (built)`: the commit the build started from, which
//! a modified tree may differ from. Inside a checkout `git describe --dirty` is used.

use std::path::Path;
use std::process::Command;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let git_dir = root.join(".git");
    for watched in ["HEAD", "packed-refs", "refs/heads"] {
        let path = git_dir.join(watched);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    println!("cargo:rerun-if-env-changed=SPECGR_BUILD_REVISION");
    let revision = std::env::var("SPECGR_BUILD_REVISION").ok().or_else(|| {
        let out = Command::new("git").args(["rev-parse", "--short", "HEAD"]).current_dir(&root).output().ok()?;
        out.status.success().then(|| format!("{} (built)", String::from_utf8_lossy(&out.stdout).trim()))
    });
    println!("cargo:rustc-env=SPECGR_BUILD_REVISION={}", revision.unwrap_or_else(|| "unknown".into()));
}
