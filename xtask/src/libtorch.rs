//! `cargo xtask libtorch`: Burn's LibTorch backend on this machine, from the PyTorch
//! 2.9.0 wheel of the Python package index (`docs/backends.md`, recipe 2).
//!
//! Finds torch in a Python (installing the wheel with `--install`), then builds
//! `specgr` with the `tch` feature against it (`--build`) and runs the backend-equality
//! test, Flex against LibTorch (`--test`), and says how to run the binary (the wheel's
//! libraries must be on `LD_LIBRARY_PATH` at run time).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The libtorch version Burn 0.21's LibTorch backend builds against (`tch` 0.22
/// refuses any other).
pub(crate) const TORCH_VERSION: &str = "2.9.0";

/// The options of `cargo xtask libtorch`.
#[derive(Debug, clap::Args)]
pub(crate) struct Libtorch {
    /// The Python whose torch to use.
    #[arg(long, default_value = "python3")]
    pub python: String,
    /// Install `torch==2.9.0` into that Python with pip when it has none (a download of
    /// about 1 GB from the Python package index).
    #[arg(long)]
    pub install: bool,
    /// Build `specgr` (release) with the `tch` feature (and `avx512`, for the Flex side).
    #[arg(long)]
    pub build: bool,
    /// Run the backend-equality test: Flex against LibTorch (gr-model, `test-tch`).
    #[arg(long)]
    pub test: bool,
}

/// A torch installation: its version and the directory of its package (holding
/// `include/` and `lib/`).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Torch {
    pub version: String,
    pub dir: PathBuf,
}

impl Torch {
    /// The shared libraries the binary needs at run time.
    pub fn lib(&self) -> PathBuf {
        self.dir.join("lib")
    }

    /// Whether this is the version the backend builds against (any local build tag,
    /// e.g. `2.9.0+cpu` or `2.9.0+cu128`).
    pub fn supported(&self) -> bool {
        self.version.split('+').next() == Some(TORCH_VERSION)
    }
}

const PROBE: &str = "import os, torch; print(torch.__version__); print(os.path.dirname(torch.__file__))";

/// Asks `python` for its torch: `None` when it has none (the import fails).
pub(crate) fn find_torch(python: &str) -> Result<Option<Torch>> {
    let out = Command::new(python)
        .args(["-c", PROBE])
        .output()
        .with_context(|| format!("running `{python}` (is it installed? `--python` names another)"))?;
    if !out.status.success() {
        return Ok(None);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    match (lines.next(), lines.next()) {
        (Some(version), Some(dir)) if !version.trim().is_empty() && !dir.trim().is_empty() => {
            Ok(Some(Torch { version: version.trim().to_owned(), dir: PathBuf::from(dir.trim()) }))
        }
        _ => bail!("`{python} -c '{PROBE}'` printed {text:?}: expected the torch version and its directory"),
    }
}

fn pip_install(python: &str) -> Result<()> {
    println!("-- {python} -m pip install torch=={TORCH_VERSION}");
    let status = Command::new(python)
        .args(["-m", "pip", "install", &format!("torch=={TORCH_VERSION}")])
        .status()
        .with_context(|| format!("running `{python} -m pip`"))?;
    if !status.success() {
        bail!("`{python} -m pip install torch=={TORCH_VERSION}` failed ({status})");
    }
    Ok(())
}

/// The torch to build against: found, or installed with `install`; refused when its
/// version is not [`TORCH_VERSION`].
pub(crate) fn torch(python: &str, install: bool) -> Result<Torch> {
    let found = match find_torch(python)? {
        Some(t) => Some(t),
        None if install => {
            pip_install(python)?;
            find_torch(python)?
        }
        None => None,
    };
    let Some(torch) = found else {
        bail!(
            "`{python}` has no torch: install the wheel the backend builds against with \
             `{python} -m pip install torch=={TORCH_VERSION}` (about 1 GB), or pass --install"
        );
    };
    if !torch.supported() {
        bail!(
            "`{python}` has torch {} (in {}); Burn 0.21's LibTorch backend builds against \
             {TORCH_VERSION} exactly: `{python} -m pip install torch=={TORCH_VERSION}` (or a \
             virtual environment with it, named by --python)",
            torch.version,
            torch.dir.display()
        );
    }
    Ok(torch)
}

/// `LD_LIBRARY_PATH` with the torch libraries first.
fn library_path(torch: &Torch) -> std::ffi::OsString {
    let mut paths = vec![torch.lib()];
    if let Some(old) = std::env::var_os("LD_LIBRARY_PATH") {
        paths.extend(std::env::split_paths(&old));
    }
    std::env::join_paths(paths).unwrap_or_else(|_| torch.lib().into_os_string())
}

/// A cargo command that builds against `torch`: `LIBTORCH_USE_PYTORCH` when `python` is
/// the `python3` torch-sys asks itself, else `LIBTORCH` pointing at the wheel.
fn cargo(python: &str, torch: &Torch) -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    if python == "python3" {
        cmd.env("LIBTORCH_USE_PYTORCH", "1");
    } else {
        cmd.env("LIBTORCH", &torch.dir);
    }
    cmd.env("LD_LIBRARY_PATH", library_path(torch));
    cmd
}

fn run(mut cmd: Command, what: &str) -> Result<()> {
    let status = cmd.status().with_context(|| format!("running {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// Runs `cargo xtask libtorch`.
pub(crate) fn libtorch(args: &Libtorch) -> Result<()> {
    let torch = torch(&args.python, args.install)?;
    println!("-- torch {} in {}", torch.version, torch.dir.display());
    if args.build {
        let mut cmd = cargo(&args.python, &torch);
        cmd.args(["build", "--release", "-p", "bench", "--features", "tch,avx512"]);
        run(cmd, "building specgr with the tch feature")?;
    }
    if args.test {
        let mut cmd = cargo(&args.python, &torch);
        cmd.args(["test", "-p", "gr-model", "--features", "test-tch", "--test", "tests", "backends"]);
        run(cmd, "the backend-equality test (Flex against LibTorch)")?;
    }
    print_usage(&torch, Path::new("target/release/specgr"));
    Ok(())
}

fn print_usage(torch: &Torch, bin: &Path) {
    println!(
        "-- to run the tch build: export LD_LIBRARY_PATH={}:$LD_LIBRARY_PATH\n   \
         fastest CPU training (2 shards of one LibTorch thread each):\n   \
         OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE {} train tiger --device tch --shards 2 ...",
        torch.lib().display(),
        bin.display()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in `python` that prints what a real one would for `PROBE` (or fails).
    fn fake_python(dir: &Path, body: &str) -> String {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("python");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.display().to_string()
    }

    #[test]
    fn finds_torch_accepts_only_its_supported_version_and_says_how_to_install_it() {
        let dir = tempfile::tempdir().unwrap();
        let py = fake_python(dir.path(), "echo 2.9.0+cu128; echo /opt/site-packages/torch");
        let t = torch(&py, false).unwrap();
        assert_eq!(t, Torch { version: "2.9.0+cu128".into(), dir: "/opt/site-packages/torch".into() });
        assert_eq!(t.lib(), PathBuf::from("/opt/site-packages/torch/lib"));

        let py = fake_python(dir.path(), "echo 2.8.1; echo /x/torch");
        let err = torch(&py, false).unwrap_err().to_string();
        assert!(err.contains("has torch 2.8.1") && err.contains("torch==2.9.0"), "{err}");
        // 2.9.01 is not 2.9.0.
        assert!(!Torch { version: "2.9.01".into(), dir: "/x".into() }.supported());

        // A Python without torch: the error says how to install it. (One test, so that
        // no two of these scripts are written and run at once.)
        let dir = tempfile::tempdir().unwrap();
        let py = fake_python(dir.path(), "echo 'ModuleNotFoundError: torch' >&2; exit 1");
        let err = torch(&py, false).unwrap_err().to_string();
        assert!(err.contains("has no torch") && err.contains("pip install torch==2.9.0") && err.contains("--install"), "{err}");

        let py = fake_python(dir.path(), "echo only-one-line");
        let err = find_torch(&py).unwrap_err().to_string();
        assert!(err.contains("expected the torch version"), "{err}");

        let err = find_torch("/nonexistent/python").unwrap_err().to_string();
        assert!(err.contains("--python"), "{err}");
    }
}
