//! HTTP downloads with resume, progress, checksum verification and an atomic rename.
//!
//! A file is fetched into `<name>.partial`; an interrupted download resumes from
//! where it stopped with an HTTP `Range` request (a server that ignores the range
//! gets the file from the start again). Only after the whole body has arrived and
//! its SHA-256 matches the expected one (when known) is the file renamed to its
//! final name, so a partial file is never taken for a complete one.
//!
//! The HTTP client is behind the crate's `net` feature (`fetch` exists only with
//! it); `cargo xtask` is built without it and hands downloads to `xtask-net`.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

#[cfg(feature = "net")]
pub use http::fetch;

/// One file to fetch.
#[derive(Clone, Debug)]
pub struct Fetch {
    /// URLs serving the same bytes, tried in order.
    pub urls: Vec<String>,
    /// Where the file goes.
    pub dest: PathBuf,
    /// The expected SHA-256 in hex, when known.
    pub sha256: Option<String>,
}

/// What happened to a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It was already there (and matched its checksum, when one is known).
    Present {
        /// Its SHA-256.
        sha256: String,
    },
    /// It was downloaded (possibly resuming a partial file).
    Downloaded {
        /// Its SHA-256.
        sha256: String,
        /// Bytes that were already on disk and not fetched again.
        resumed_from: u64,
    },
}

/// Progress reporting, so the library stays free of terminal drawing.
pub trait Progress {
    /// A download of `total` bytes (when known) starts at `start`.
    fn start(&mut self, name: &str, start: u64, total: Option<u64>);
    /// `n` more bytes arrived.
    fn advance(&mut self, n: u64);
    /// The file is complete.
    fn finish(&mut self);
}

/// Progress reporting that says nothing.
pub struct Quiet;

impl Progress for Quiet {
    fn start(&mut self, _: &str, _: u64, _: Option<u64>) {}
    fn advance(&mut self, _: u64) {}
    fn finish(&mut self) {}
}

/// The SHA-256 of a file, in hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The HTTP side, with the `net` feature.
#[cfg(feature = "net")]
mod http {
    use std::fs::{File, OpenOptions};
    use std::io::{Read, Write};
    use std::path::{Path, PathBuf};

    use anyhow::{Context, Result, bail};

    use super::{Fetch, Outcome, Progress, sha256_file};

    fn partial_path(dest: &Path) -> PathBuf {
        let mut name = dest.file_name().unwrap_or_default().to_os_string();
        name.push(".partial");
        dest.with_file_name(name)
    }

    /// Fetches one file, trying each URL in turn; see the module docs.
    pub fn fetch(job: &Fetch, progress: &mut dyn Progress) -> Result<Outcome> {
        if job.dest.is_file() {
            let sha256 = sha256_file(&job.dest)?;
            match &job.sha256 {
                Some(want) if !want.eq_ignore_ascii_case(&sha256) => bail!(
                    "{} exists but its SHA-256 is {sha256}, expected {want}: remove it to download again",
                    job.dest.display()
                ),
                _ => return Ok(Outcome::Present { sha256 }),
            }
        }
        if let Some(dir) = job.dest.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let mut errors = Vec::new();
        for url in &job.urls {
            match fetch_from(url, job, progress) {
                Ok(outcome) => return Ok(outcome),
                Err(e) => errors.push(format!("{url}: {e:#}")),
            }
        }
        bail!("could not download {}:\n  {}", job.dest.display(), errors.join("\n  "))
    }

    fn fetch_from(url: &str, job: &Fetch, progress: &mut dyn Progress) -> Result<Outcome> {
        let partial = partial_path(&job.dest);
        let have = std::fs::metadata(&partial).map(|m| m.len()).unwrap_or(0);
        let mut request = ureq::get(url).timeout(std::time::Duration::from_secs(60));
        if have > 0 {
            request = request.set("Range", &format!("bytes={have}-"));
        }
        let response = match request.call() {
            Ok(r) => r,
            // The partial file is already whole: the server has nothing past its end.
            Err(ureq::Error::Status(416, _)) if have > 0 => return finish(job, &partial, have, progress),
            Err(ureq::Error::Status(code, r)) => bail!("HTTP {code} {}", r.status_text()),
            Err(e) => return Err(e.into()),
        };
        let (mut file, start) = if response.status() == 206 && have > 0 {
            (OpenOptions::new().append(true).open(&partial)?, have)
        } else {
            (File::create(&partial).with_context(|| format!("creating {}", partial.display()))?, 0)
        };
        let length: Option<u64> = response.header("Content-Length").and_then(|v| v.parse().ok());
        let name = job.dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        progress.start(&name, start, length.map(|l| l + start));
        let mut reader = response.into_reader();
        let mut buf = vec![0u8; 1 << 16];
        let mut received = 0u64;
        loop {
            let n = reader.read(&mut buf).context("reading the response body")?;
            if n == 0 {
                break;
            }
            file.write_all(&buf[..n]).with_context(|| format!("writing {}", partial.display()))?;
            received += n as u64;
            progress.advance(n as u64);
        }
        file.sync_all()?;
        drop(file);
        if let Some(len) = length {
            if received != len {
                bail!("the connection closed after {received} of {len} bytes; run again to resume");
            }
        }
        finish(job, &partial, start, progress)
    }

    fn finish(job: &Fetch, partial: &Path, resumed_from: u64, progress: &mut dyn Progress) -> Result<Outcome> {
        let sha256 = sha256_file(partial)?;
        if let Some(want) = &job.sha256 {
            if !want.eq_ignore_ascii_case(&sha256) {
                std::fs::remove_file(partial).ok();
                bail!("checksum mismatch for {}: got {sha256}, expected {want}", job.dest.display());
            }
        }
        std::fs::rename(partial, &job.dest)
            .with_context(|| format!("renaming {} to {}", partial.display(), job.dest.display()))?;
        progress.finish();
        Ok(Outcome::Downloaded { sha256, resumed_from })
    }
}
