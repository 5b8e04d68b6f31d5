//! The `specgr` binary as the stages of `cargo xtask` run it: built once through
//! cargo (so its build shows as a stage of its own, and cargo's lock is not taken
//! again for every stage), then started directly, in the foreground or beside
//! another stage with its output in a log file.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};

/// A built `specgr` executable and the data root its stages read.
#[derive(Debug, Clone)]
pub struct Specgr {
    bin: PathBuf,
    data_root: Option<PathBuf>,
}

impl Specgr {
    /// Builds `specgr` in the dev profile (dependencies optimised, see the workspace
    /// `Cargo.toml`) with an optional backend feature (`wgpu`, `cuda`, `tch`); cargo's
    /// progress goes to the terminal.
    ///
    /// `$SPECGR_BIN` names an executable to use instead, without building (a binary
    /// built beforehand, or one a test harness built).
    pub fn build(feature: Option<&str>, data_root: Option<&Path>) -> Result<Self> {
        if let Some(bin) = std::env::var_os("SPECGR_BIN") {
            let bin = PathBuf::from(bin);
            if !bin.is_file() {
                bail!("SPECGR_BIN={}: no such executable", bin.display());
            }
            println!("-- using SPECGR_BIN={} (not building)", bin.display());
            return Ok(Self { bin, data_root: data_root.map(Path::to_owned) });
        }
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.args(["build", "--package", "bench", "--bin", "specgr", "--message-format=json-render-diagnostics"]);
        if let Some(f) = feature {
            cmd.args(["--features", f]);
        }
        let out = cmd.stderr(Stdio::inherit()).output().context("running cargo build")?;
        if !out.status.success() {
            bail!("building specgr failed ({}); cargo's messages are above", out.status);
        }
        let messages = String::from_utf8_lossy(&out.stdout);
        let bin = executable_from_messages(&messages, "specgr")
            .context("cargo built specgr but named no executable for it")?;
        Ok(Self { bin, data_root: data_root.map(Path::to_owned) })
    }

    /// The executable.
    pub fn path(&self) -> &Path {
        &self.bin
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args);
        if let Some(root) = &self.data_root {
            cmd.env("SPECGR_DATA", root);
        }
        cmd
    }

    /// Runs `specgr <args>` in the foreground.
    pub fn run(&self, args: &[&str]) -> Result<()> {
        let status = self.command(args).status().context("running specgr")?;
        if !status.success() {
            bail!("`specgr {}` failed ({status})", args.join(" "));
        }
        Ok(())
    }

    /// Starts `specgr <args>` in the background, its output (stdout and stderr) going
    /// to `log`, which is replaced. The process is killed if the handle is dropped
    /// before [`Background::wait`], so a failing foreground stage leaves nothing behind.
    pub fn spawn_logged(&self, args: &[&str], log: &Path) -> Result<Background> {
        if let Some(dir) = log.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let out = File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone().with_context(|| format!("opening {} twice", log.display()))?;
        let child = self
            .command(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .context("starting specgr")?;
        Ok(Background { child: Some(child), what: format!("specgr {}", args.join(" ")), log: log.to_owned() })
    }

    /// Runs `specgr` once per job (its arguments and its log), at most `parallel` at a
    /// time, starting the next as soon as one ends. The first failure is returned, with
    /// the end of its log, and the jobs still running are killed.
    pub fn run_all(&self, jobs: &[(Vec<String>, PathBuf)], parallel: usize) -> Result<()> {
        let mut pending = jobs.iter();
        let mut running: Vec<Background> = Vec::new();
        loop {
            while running.len() < parallel.max(1) {
                let Some((args, log)) = pending.next() else { break };
                let refs: Vec<&str> = args.iter().map(String::as_str).collect();
                running.push(self.spawn_logged(&refs, log)?);
            }
            if running.is_empty() {
                return Ok(());
            }
            let before = running.len();
            let mut i = 0;
            while i < running.len() {
                if running[i].try_wait()? {
                    running.swap_remove(i);
                } else {
                    i += 1;
                }
            }
            if running.len() == before {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
    }
}

/// A `specgr` process running beside the foreground stages.
#[derive(Debug)]
pub struct Background {
    child: Option<Child>,
    what: String,
    log: PathBuf,
}

impl Background {
    /// Waits for the process; on failure the error carries the end of its log.
    pub fn wait(mut self) -> Result<()> {
        let mut child = self.child.take().expect("waited once");
        let status = child.wait().with_context(|| format!("waiting for `{}`", self.what))?;
        self.check(status)
    }

    /// Whether the process has ended (successfully); an error, with the end of its log,
    /// when it failed.
    pub fn try_wait(&mut self) -> Result<bool> {
        let child = self.child.as_mut().expect("not yet waited for");
        match child.try_wait().with_context(|| format!("waiting for `{}`", self.what))? {
            None => Ok(false),
            Some(status) => {
                self.child = None;
                self.check(status)?;
                Ok(true)
            }
        }
    }

    fn check(&self, status: std::process::ExitStatus) -> Result<()> {
        if !status.success() {
            let text = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(20).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            bail!("`{}` failed ({status}); the end of {}:\n{}", self.what, self.log.display(), tail.join("\n"));
        }
        Ok(())
    }

    /// The log file.
    pub fn log(&self) -> &Path {
        &self.log
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The executable of the binary target `name` in cargo's JSON messages
/// (`--message-format=json…`, one object per line); the last one wins.
pub fn executable_from_messages(messages: &str, name: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == name)
        .filter(|m| m["target"]["kind"].as_array().is_some_and(|k| k.iter().any(|k| k == "bin")))
        .filter_map(|m| m["executable"].as_str().map(PathBuf::from))
        .next_back()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_executable_is_read_from_cargo_messages() {
        let messages = [
            r#"{"reason":"compiler-artifact","target":{"name":"bench","kind":["lib"]},"executable":null}"#,
            "not json: a line cargo or a build script printed",
            r#"{"reason":"compiler-artifact","target":{"name":"specgr","kind":["bin"]},"executable":"/t/debug/specgr"}"#,
            r#"{"reason":"build-finished","success":true}"#,
        ]
        .join("\n");
        assert_eq!(executable_from_messages(&messages, "specgr"), Some(PathBuf::from("/t/debug/specgr")));
        assert_eq!(executable_from_messages(&messages, "other"), None);
        assert_eq!(executable_from_messages("", "specgr"), None);
    }

    #[test]
    fn run_all_runs_every_job_and_stops_at_a_failure() {
        let dir = tempfile::tempdir().unwrap();
        // `sh` stands in for specgr: each job leaves a file behind.
        let sh = Specgr { bin: PathBuf::from("sh"), data_root: None };
        let job = |i: usize, script: &str| {
            (vec!["-c".to_owned(), script.replace("{out}", &dir.path().join(format!("done{i}")).display().to_string())],
             dir.path().join(format!("job{i}.log")))
        };
        let jobs: Vec<_> = (0..5).map(|i| job(i, "sleep 0.05; echo ran > {out}")).collect();
        sh.run_all(&jobs, 2).unwrap();
        assert!((0..5).all(|i| dir.path().join(format!("done{i}")).is_file()));

        // Job 7 writes its process id and waits; job 6 fails after it has started.
        let failing = vec![
            job(5, "echo ran > {out}"),
            job(6, "sleep 0.5; echo the reason; exit 3"),
            job(7, "echo $$ > {out}; exec sleep 30"),
        ];
        let started = std::time::Instant::now();
        let err = format!("{:#}", sh.run_all(&failing, 3).unwrap_err());
        assert!(err.contains("the reason") && err.contains("job6.log"), "{err}");
        assert!(started.elapsed().as_secs() < 20, "run_all waited for the job it should have killed");
        // The job still running was killed (and reaped).
        #[cfg(target_os = "linux")]
        {
            let pid = std::fs::read_to_string(dir.path().join("done7")).unwrap();
            assert!(!Path::new("/proc").join(pid.trim()).exists(), "process {} still runs", pid.trim());
        }
    }
}
