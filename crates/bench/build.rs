//! Embeds the git commit the binary was built from (`SPECGR_BUILD_REVISION`), so a
//! report made outside the checkout still names it (`report::git_revision`).
//!
//! Only the commit is tracked (rebuilds follow `HEAD` and the branch refs, not every
//! edit), so it is written `<commit> (built)`: the commit the build started from, which
//! a modified tree may differ from. Inside a checkout `git describe --dirty` is used.
//!
//! Checkouts of one workspace that share a target directory (a worktree built with
//! `CARGO_TARGET_DIR` pointing at another's) share this script's output too: cargo
//! keys it by the package's path within the workspace, so the commit it found may be
//! the other checkout's. It therefore also records which checkout it ran for
//! (`SPECGR_BUILD_ROOT`); a binary compiled from another checkout sees the mismatch and
//! names no commit rather than the wrong one (`report::git_revision`). Build each
//! checkout in its own target directory for a revision that names its own commit.

use std::path::Path;
use std::process::Command;

fn main() {
    // Read when the script runs, not when it was compiled: a script binary compiled for
    // one checkout may be run for another that shares its target directory.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned());
    let root = Path::new(&manifest_dir).join("../..");
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git").args(args).current_dir(&root).output().ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    // Asked of git rather than assumed to be `.git/...`: in a linked worktree `.git` is
    // a file, HEAD lives under the main repository's `worktrees/`, and the branch refs
    // in its common directory. A path that is not watched is never looked at again, so
    // the revision would go stale.
    let mut watched = vec!["HEAD".to_owned(), "packed-refs".to_owned(), "refs/heads".to_owned()];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in watched {
        // `--path-format` needs git 2.31; older ones get the plain `.git` layout.
        let path = git(&["rev-parse", "--path-format=absolute", "--git-path", &name])
            .unwrap_or_else(|| root.join(".git").join(&name).display().to_string());
        if Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    println!("cargo:rerun-if-env-changed=SPECGR_BUILD_REVISION");
    let revision = std::env::var("SPECGR_BUILD_REVISION")
        .ok()
        .or_else(|| git(&["rev-parse", "--short", "HEAD"]).map(|commit| format!("{commit} (built)")));
    println!("cargo:rustc-env=SPECGR_BUILD_REVISION={}", revision.unwrap_or_else(|| "unknown".into()));
    println!("cargo:rustc-env=SPECGR_BUILD_ROOT={manifest_dir}");
}
