//! Downloads: datasets and sentence encoders. `cargo xtask` is built without the HTTP
//! client (the crate's `net` feature) and hands downloads to `xtask-net`, the same
//! tasks built with it, which cargo compiles the first time something is to be
//! downloaded.

use std::path::Path;

use anyhow::{Context, Result, bail};

#[cfg(feature = "net")]
use indicatif::{ProgressBar, ProgressStyle};
#[cfg(feature = "net")]
use crate::download::{Fetch, Outcome, Progress, fetch};

#[cfg(feature = "net")]
struct Bar(Option<ProgressBar>);

#[cfg(feature = "net")]
impl Progress for Bar {
    fn start(&mut self, name: &str, start: u64, total: Option<u64>) {
        let bar = ProgressBar::new(total.unwrap_or(0));
        bar.set_style(
            ProgressStyle::with_template("{msg:30} {bytes:>10}/{total_bytes:10} {bytes_per_sec:>12} {wide_bar}")
                .expect("valid template"),
        );
        bar.set_message(name.to_owned());
        bar.set_position(start);
        self.0 = Some(bar);
    }
    fn advance(&mut self, n: u64) {
        if let Some(b) = &self.0 {
            b.inc(n);
        }
    }
    fn finish(&mut self) {
        if let Some(b) = self.0.take() {
            b.finish();
        }
    }
}

/// Downloads a dataset whose data is missing from `dir` (`<root>/<name>/`), as
/// `cargo xtask download` does (resuming an interrupted download).
pub(crate) fn download_dataset_into(name: &str, root: &Path, dir: &Path) -> Result<()> {
    println!("-- dataset `{name}`: no data in {}; downloading it there", dir.display());
    download_data(name, root, Path::new("datasets")).with_context(|| {
        format!(
            "dataset `{name}` is not in {} and downloading it failed: run again to resume, or put its files there \
             (SPECGR_DATA / --data-root choose the data root; --offline never downloads)",
            dir.display()
        )
    })
}

/// Downloads a sentence encoder from the hub into `dir`.
#[cfg(feature = "net")]
pub(crate) fn download_encoder(model_id: &str, dir: &Path, revision: &str) -> Result<()> {
    let endpoint = crate::encoder::hub_endpoint();
    let sums = crate::encoder::download_encoder(&endpoint, model_id, revision, dir, &mut Bar(None))?;
    println!("{model_id} -> {} ({} files, checksums in checksums.sha256)", dir.display(), sums.len());
    Ok(())
}

/// Downloads a sentence encoder from the hub into `dir`, through `xtask-net`.
#[cfg(not(feature = "net"))]
pub(crate) fn download_encoder(model_id: &str, dir: &Path, revision: &str) -> Result<()> {
    with_net(&["download-encoder".into(), model_id.into(), "--encoder".into(), dir.into(), "--revision".into(), revision.into()])
}

/// Runs `cargo xtask <args>` as `xtask-net`: the same tasks with the `net` feature,
/// built by cargo the first time (its HTTP client and TLS stack are compiled only on a
/// machine that downloads something).
#[cfg(not(feature = "net"))]
pub(crate) fn with_net(args: &[std::ffi::OsString]) -> Result<()> {
    println!("-- downloads run in xtask-net (cargo xtask with its HTTP client), built the first time they are needed");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args(["run", "--package", "xtask", "--features", "net", "--bin", "xtask-net", "--"])
        .args(args)
        .status()
        .context("running cargo to build and start xtask-net")?;
    if !status.success() {
        let shown: Vec<_> = args.iter().map(|a| a.to_string_lossy()).collect();
        bail!("`xtask-net {}` failed ({status})", shown.join(" "));
    }
    Ok(())
}

/// Downloads a dataset's files into `<root>/<name>/` (`datasets_dir`: manifests searched
/// before the shipped ones).
#[cfg(feature = "net")]
pub(crate) fn download_data(name: &str, root: &Path, datasets_dir: &Path) -> Result<()> {
    let manifest = recdata::find_manifest(name, Some(datasets_dir))?;
    if manifest.downloads.is_empty() {
        bail!("dataset `{name}` lists no files to download");
    }
    let dir = root.join(manifest.dir_name());
    for d in &manifest.downloads {
        let job = Fetch {
            urls: std::iter::once(d.url.clone()).chain(d.mirrors.iter().cloned()).collect(),
            dest: dir.join(&d.file),
            sha256: d.sha256.clone(),
        };
        match fetch(&job, &mut Bar(None))? {
            Outcome::Present { sha256 } => println!("{}: present (sha256 {sha256})", d.file),
            Outcome::Downloaded { sha256, resumed_from } => {
                println!("{}: downloaded (sha256 {sha256}, resumed from byte {resumed_from})", d.file)
            }
        }
    }
    println!("dataset `{name}` is in {}", dir.display());
    Ok(())
}

/// Downloads a dataset's files into `<root>/<name>/`, through `xtask-net`.
#[cfg(not(feature = "net"))]
pub(crate) fn download_data(name: &str, root: &Path, datasets_dir: &Path) -> Result<()> {
    with_net(&["download".into(), name.into(), "--data-root".into(), root.into(), "--datasets-dir".into(), datasets_dir.into()])
}
