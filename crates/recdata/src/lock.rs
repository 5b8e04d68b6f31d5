//! Exclusive locks on run directories, so that two processes never write one at once.
//!
//! Every stage that writes a run directory (training, embedding, fitting semantic IDs,
//! writing a report) holds a [`RunLock`] on it for as long as it writes. The lock is the
//! file `<dir>/.lock`: an advisory exclusive lock on it (`flock`, released by the
//! operating system when the holder exits or is killed), and in it, as JSON, who holds
//! it: [`LockHolder`] (PID, host, start time, command line). A second writer is refused
//! with an error that names the holder.
//!
//! A lock file left behind by a killed process is stale: when its PID no longer runs on
//! this host (or runs but is another process that reused the PID), the next writer
//! takes the lock over and says so with a warning. A lock file written on another host
//! cannot be checked from here and is never taken over silently: the error says which
//! file to delete once that process is known to be gone.
//!
//! The lock is released when the [`RunLock`] is dropped: its file is removed.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The lock file's name inside a locked directory.
pub const LOCK_FILE: &str = ".lock";

/// Who holds (or held) a lock: what the lock file says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LockHolder {
    /// The holder's process ID.
    pub pid: u32,
    /// The host it runs on.
    pub host: String,
    /// When it took the lock, in seconds since the Unix epoch.
    pub started: u64,
    /// Its command line.
    pub command: String,
    /// The process's start time (clock ticks after boot, from `/proc/<pid>/stat`), to
    /// tell the holder from a later process that reused its PID; absent where unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid_start: Option<u64>,
}

impl LockHolder {
    /// The current process, running `command`.
    pub fn current(command: &str) -> Self {
        let pid = std::process::id();
        Self {
            pid,
            host: host_name(),
            started: unix_now(),
            command: command.to_owned(),
            pid_start: process_start(pid),
        }
    }

    /// How long ago it took the lock, in words (`3 min ago`).
    pub fn age(&self) -> String {
        let secs = unix_now().saturating_sub(self.started);
        match secs {
            0..120 => format!("{secs} s ago"),
            120..7200 => format!("{} min ago", secs / 60),
            _ => format!("{:.1} h ago", secs as f64 / 3600.0),
        }
    }

    /// Whether the holder still runs: `None` where this host cannot tell (another host,
    /// or no `/proc`).
    pub fn is_running(&self) -> Option<bool> {
        if self.host != host_name() {
            return None;
        }
        if !Path::new("/proc/self").exists() {
            return None;
        }
        if !Path::new("/proc").join(self.pid.to_string()).exists() {
            return Some(false);
        }
        // The PID runs: the holder itself, unless another process reused the PID.
        match (self.pid_start, process_start(self.pid)) {
            (Some(then), Some(now)) => Some(then == now),
            _ => Some(true),
        }
    }
}

impl std::fmt::Display for LockHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PID {} on {} (started {}): `{}`", self.pid, self.host, self.age(), self.command)
    }
}

/// Why a lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds the lock.
    #[error(
        "{dir} is in use by another run: {holder}. Wait for it to finish (or stop it), or write to another directory"
    )]
    Held {
        /// The locked directory.
        dir: PathBuf,
        /// Who holds it, as far as its lock file says.
        holder: LockHolder,
    },
    /// Another process holds the lock and its lock file does not say who (yet).
    #[error("{dir} is in use by another run (its lock file {lock} does not name it). Wait for it to finish, or write to another directory")]
    HeldByUnknown {
        /// The locked directory.
        dir: PathBuf,
        /// The lock file.
        lock: PathBuf,
    },
    /// The lock file names a process on another host, which cannot be checked from here.
    #[error(
        "{dir} is locked by {holder}, on another host than this one ({this_host}), which cannot be checked from here. \
         If that run is gone, delete {lock} and try again"
    )]
    OtherHost {
        /// The locked directory.
        dir: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// Who holds it.
        holder: LockHolder,
        /// This host.
        this_host: String,
    },
    /// Creating, reading or writing the lock file failed.
    #[error("{path}: {source}")]
    Io {
        /// The directory or lock file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// An exclusive lock on a run directory, released (its file removed) on drop.
#[derive(Debug)]
pub struct RunLock {
    file: File,
    path: PathBuf,
    took_over: Option<LockHolder>,
}

impl RunLock {
    /// Locks `dir` (created if needed) for this process, recording its command line.
    pub fn acquire(dir: &Path) -> Result<Self, LockError> {
        let command: Vec<String> = std::env::args().collect();
        Self::acquire_as(dir, &command.join(" "))
    }

    /// Locks `dir` (created if needed), recording `command` as the holder's command.
    pub fn acquire_as(dir: &Path, command: &str) -> Result<Self, LockError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| LockError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let path = dir.join(LOCK_FILE);
        // A few rounds: the holder may release (and remove) the file between our open
        // and our lock, and a new holder may not have written its name yet.
        for round in 0..50 {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(io(&path))?;
            let os_lock = match file.try_lock() {
                Ok(()) => true,
                Err(std::fs::TryLockError::WouldBlock) => {
                    match read_holder(&mut file) {
                        Some(holder) => return Err(LockError::Held { dir: dir.to_path_buf(), holder }),
                        // Locked, but its holder has not written its name yet.
                        None if round < 49 => {
                            std::thread::sleep(Duration::from_millis(20));
                            continue;
                        }
                        None => return Err(LockError::HeldByUnknown { dir: dir.to_path_buf(), lock: path }),
                    }
                }
                // A file system without advisory locks: the PID rule alone decides.
                Err(std::fs::TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Unsupported => false,
                Err(std::fs::TryLockError::Error(e)) => return Err(io(&path)(e)),
            };
            if !same_file(&file, &path) {
                // The previous holder removed the file after we opened it: start again.
                continue;
            }
            let previous = read_holder(&mut file);
            let took_over = match previous {
                None => None,
                Some(holder) => match holder.is_running() {
                    Some(false) => Some(holder),
                    // The OS lock was free, so no process here holds it; without /proc
                    // that is the only evidence there is.
                    None if os_lock && holder.host == host_name() => Some(holder),
                    None => {
                        return Err(LockError::OtherHost {
                            dir: dir.to_path_buf(),
                            lock: path,
                            holder,
                            this_host: host_name(),
                        });
                    }
                    Some(true) => return Err(LockError::Held { dir: dir.to_path_buf(), holder }),
                },
            };
            if let Some(stale) = &took_over {
                tracing::warn!(
                    "{}: taking over the stale lock of PID {} (`{}`, started {}), which no longer runs",
                    path.display(),
                    stale.pid,
                    stale.command,
                    stale.age()
                );
            }
            let me = LockHolder::current(command);
            let json = serde_json::to_string_pretty(&me).map_err(|e| io(&path)(std::io::Error::other(e)))?;
            file.set_len(0).map_err(io(&path))?;
            file.seek(SeekFrom::Start(0)).map_err(io(&path))?;
            file.write_all(json.as_bytes()).map_err(io(&path))?;
            file.flush().map_err(io(&path))?;
            return Ok(Self { file, path, took_over });
        }
        Err(LockError::HeldByUnknown { dir: dir.to_path_buf(), lock: path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The holder of a stale lock file this lock replaced, if any.
    pub fn took_over(&self) -> Option<&LockHolder> {
        self.took_over.as_ref()
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Removed while still locked, so that a process waiting on this file sees it
        // replaced (`same_file`) and starts again on a fresh one.
        if same_file(&self.file, &self.path) {
            let _ = std::fs::remove_file(&self.path);
        }
        let _ = self.file.unlock();
    }
}

/// Reads the holder a lock file names; `None` when it is empty or unreadable.
fn read_holder(file: &mut File) -> Option<LockHolder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

/// Whether `path` still names the open `file` (it was not removed and recreated).
fn same_file(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), std::fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        path.exists()
    }
}

/// This host's name.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "unknown-host".into())
}

/// A process's start time in clock ticks after boot (`/proc/<pid>/stat`, field 22).
fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count from
    // the last `)`, after which field 3 comes first.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(22 - 3)?.parse().ok()
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_running_and_has_a_start_time() {
        let me = LockHolder::current("test");
        assert_eq!(me.pid, std::process::id());
        if Path::new("/proc/self").exists() {
            assert!(me.pid_start.is_some());
            assert_eq!(me.is_running(), Some(true));
            let reused = LockHolder { pid_start: me.pid_start.map(|s| s + 1), ..me };
            assert_eq!(reused.is_running(), Some(false), "a reused PID is not the holder");
        }
    }

    #[test]
    fn ages_read_as_words() {
        let mut h = LockHolder::current("x");
        assert!(h.age().ends_with(" s ago"));
        h.started -= 600;
        assert_eq!(h.age(), "10 min ago");
    }
}
