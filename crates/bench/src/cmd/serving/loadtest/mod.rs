//! `specgr loadtest`: a bounded load test of `specgr serve` on loopback (#25 §4).
//!
//! For each method it starts `specgr serve` (this executable) on 127.0.0.1 with an
//! ephemeral port, sends a few warm-up requests, then for each client count C sends N
//! `POST /recommend` requests from C concurrent clients (one keep-alive connection
//! each; histories are the test split's, in turn) and reports p50/p99 latency and
//! throughput. Then it runs N requests again while one more client adds items
//! (`POST /items`, embeddings copied from the run's own), checks that the catalog grew
//! by every item answered 201, stops the server with SIGTERM and checks that every
//! added item is in the overlay on disk. The overlay is then put back as it was
//! (unless `--keep-added`). Every phase is bounded by `--requests` and `--max-seconds`.
//! The command fails (after writing its report) when any request failed or any added
//! item is missing.

mod client;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use clap::Parser;
use serde::Serialize;

pub use client::{Conn, Phase, run_phase};

use super::serve::ServeArgs;
use crate::cmd::eval::MethodId;
use crate::cmd::eval::load::Run;

/// `specgr loadtest` arguments.
#[derive(Debug, clap::Args)]
pub struct LoadtestArgs {
    /// The methods to serve, one server each (any that `specgr serve --method` takes).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "tiger,specgr-aux,specgr-pp")]
    pub methods: Vec<MethodId>,
    /// The concurrent client counts, one measurement each.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32", value_parser = crate::cmd::args::positive)]
    pub clients: Vec<usize>,
    /// Recommendation requests per measurement.
    #[arg(long, default_value_t = 200, value_parser = crate::cmd::args::positive)]
    pub requests: usize,
    /// Requests sent one at a time before a server's first measurement, not counted.
    #[arg(long, default_value_t = 8, value_parser = crate::cmd::args::whole)]
    pub warmup: usize,
    /// The longest a measurement may take, in seconds: no request starts after it, and
    /// a request unanswered by then fails.
    #[arg(long, default_value_t = 300.0, value_parser = crate::cmd::args::positive_f64)]
    pub max_seconds: f64,
    /// The longest a server may take to load the run, in seconds.
    #[arg(long, default_value_t = 600.0, value_parser = crate::cmd::args::positive_f64)]
    pub startup_seconds: f64,
    /// Items added while recommendations run (0 skips that measurement).
    #[arg(long, default_value_t = 20, value_parser = crate::cmd::args::whole)]
    pub add_items: usize,
    /// Recommendation clients while items are added.
    #[arg(long, default_value_t = 8, value_parser = crate::cmd::args::positive)]
    pub add_clients: usize,
    /// Keep the added items in the run's catalog overlay (by default it is put back as it
    /// was once each server has stopped).
    #[arg(long)]
    pub keep_added: bool,
    /// Write the raw numbers here as JSON.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// `specgr serve`'s arguments for the run (`--dataset`, `--ids`, `--preset`,
    /// `--runs`, `--k`, `--batch-size`, ...), after `--`; the load test sets `--method`
    /// and `--listen` (127.0.0.1:0) itself.
    #[arg(last = true)]
    pub serve: Vec<String>,
}

/// `specgr serve`'s command line, to check and read the arguments after `--`.
#[derive(Parser)]
#[command(name = "specgr serve")]
struct ServeCli {
    #[command(flatten)]
    serve: ServeArgs,
}

/// The raw numbers of a load test.
#[derive(Debug, Serialize)]
pub struct Report {
    /// `specgr serve`'s arguments (before `--method` and `--listen`).
    pub serve_args: Vec<String>,
    /// The distinct histories sent (the test split's), in turn.
    pub histories: usize,
    /// Per method.
    pub methods: Vec<MethodReport>,
}

/// One method's server.
#[derive(Debug, Serialize)]
pub struct MethodReport {
    /// The method id (`specgr-aux`).
    pub method: &'static str,
    /// The paper's name (`SpecGR_Aux`).
    pub name: &'static str,
    /// From starting the server to its `listening` line, in seconds.
    pub startup_s: f64,
    /// One per client count. Each request carries one history, so histories per
    /// second equal `requests_per_s`.
    pub phases: Vec<Phase>,
    /// Recommendations while items were added.
    pub while_adding: Option<WhileAdding>,
}

/// Recommendations run while items are added.
#[derive(Debug, Serialize)]
pub struct WhileAdding {
    /// The recommendation requests.
    pub recommend: Phase,
    /// The `POST /items` requests (one client).
    pub adds: Phase,
    /// Live catalog items (`GET /health`) before and after.
    pub catalog_before: usize,
    /// After the adds.
    pub catalog_after: usize,
    /// The ids sent with `POST /items` (each answered 201 unless `adds.failed` > 0).
    pub added: Vec<String>,
    /// Added ids missing from the catalog on disk after SIGTERM (should be none).
    pub missing_from_overlay: Vec<String>,
    /// Whether the server exited 0 after SIGTERM.
    pub clean_exit: bool,
}

impl MethodReport {
    /// What went wrong in this method's measurements, if anything.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        for ph in &self.phases {
            if ph.failed > 0 || ph.ok < ph.requests {
                p.push(format!("{} with {} clients: {} of {} answered ({:?})", self.name, ph.clients, ph.ok, ph.requests, ph.errors));
            }
        }
        if let Some(w) = &self.while_adding {
            for (what, ph) in [("recommendations", &w.recommend), ("adds", &w.adds)] {
                if ph.failed > 0 || ph.ok < ph.requests {
                    p.push(format!("{} while adding: {what}: {} of {} answered ({:?})", self.name, ph.ok, ph.requests, ph.errors));
                }
            }
            if w.catalog_after != w.catalog_before + w.added.len() {
                p.push(format!("{}: catalog {} -> {} after {} adds", self.name, w.catalog_before, w.catalog_after, w.added.len()));
            }
            if !w.missing_from_overlay.is_empty() {
                p.push(format!("{}: added items lost from the overlay: {:?}", self.name, w.missing_from_overlay));
            }
            if !w.clean_exit {
                p.push(format!("{}: the server did not exit 0 after SIGTERM", self.name));
            }
        }
        p
    }
}

/// Runs `specgr loadtest`.
pub fn run(args: LoadtestArgs) -> anyhow::Result<()> {
    ensure!(!args.methods.is_empty(), "--methods: name at least one method");
    ensure!(!args.clients.is_empty(), "--clients: name at least one client count");
    for a in &args.serve {
        let flag = a.split('=').next().unwrap_or(a);
        if flag == "--method" || flag == "--listen" {
            bail!("`{flag}` after `--`: the load test sets it itself (--methods; a free port on 127.0.0.1)");
        }
    }
    let serve = parse_serve(&args.serve, args.methods[0])?.serve;
    let run = Run::open(&serve.run.run.dataset, &serve.run.run.runs)?;
    let keys = run.resolved.dataset.catalog.keys();
    let bodies: Vec<String> = run
        .split
        .test
        .iter()
        .filter(|e| !e.history.is_empty())
        .map(|e| serde_json::json!({"history": e.history.iter().map(|i| &keys[i.index()]).collect::<Vec<_>>()}).to_string())
        .collect();
    ensure!(!bodies.is_empty(), "the test split has no history to send");
    let overlay_path = super::overlay::path(&run.run_dir);
    let embeddings = if args.add_items > 0 {
        Some(text_encoder::Embeddings::load(&run.run_dir.embeddings_file()).context("the run's embeddings, for the added items")?.0)
    } else {
        None
    };
    let nonce = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let mut report = Report { serve_args: args.serve.clone(), histories: bodies.len(), methods: Vec::new() };
    for &method in &args.methods {
        let before = std::fs::read(&overlay_path).ok();
        let measured = measure(&args, method, &bodies, embeddings.as_ref(), &overlay_path, nonce);
        if !args.keep_added {
            restore(&overlay_path, before.as_deref())?;
        }
        let m = measured?;
        print_method(&m);
        report.methods.push(m);
    }
    if let Some(out) = &args.out {
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(out, serde_json::to_string_pretty(&report)? + "\n").with_context(|| format!("writing {}", out.display()))?;
    }
    let problems: Vec<String> = report.methods.iter().flat_map(MethodReport::problems).collect();
    if !problems.is_empty() {
        bail!("the load test found {} problem(s):\n  {}", problems.len(), problems.join("\n  "));
    }
    Ok(())
}

fn parse_serve(serve: &[String], method: MethodId) -> anyhow::Result<ServeCli> {
    let argv = std::iter::once("serve".to_string())
        .chain(serve.iter().cloned())
        .chain(["--method".into(), method.id().into(), "--listen".into(), "127.0.0.1:0".into()]);
    ServeCli::try_parse_from(argv).map_err(|e| anyhow::anyhow!("the `specgr serve` arguments after `--`: {e}"))
}

/// Puts the overlay back as it was (`None`: there was none).
fn restore(path: &std::path::Path, before: Option<&[u8]>) -> anyhow::Result<()> {
    match before {
        Some(bytes) => recdata::fsio::write_atomic(path, bytes).with_context(|| format!("restoring {}", path.display())),
        None if path.exists() => std::fs::remove_file(path).with_context(|| format!("removing {}", path.display())),
        None => Ok(()),
    }
}

/// One method: start its server, warm it up, measure each client count, then the
/// run-while-adding measurement, and stop it.
fn measure(
    args: &LoadtestArgs,
    method: MethodId,
    bodies: &[String],
    embeddings: Option<&text_encoder::Embeddings>,
    overlay_path: &std::path::Path,
    nonce: u64,
) -> anyhow::Result<MethodReport> {
    let started = Instant::now();
    let mut server = Server::start(&args.serve, method, Duration::from_secs_f64(args.startup_seconds))?;
    let startup_s = started.elapsed().as_secs_f64();
    eprintln!("loadtest: {} ({}) listening on {} after {startup_s:.1} s", method.name(), method.id(), server.addr);
    let limit = Duration::from_secs_f64(args.max_seconds);
    let recommend = |i: usize| bodies[i % bodies.len()].clone();
    let route = ("POST", "/recommend", 200);
    if args.warmup > 0 {
        let warm = run_phase(server.addr, 1, args.warmup, Instant::now() + limit, route, &recommend)?;
        ensure!(warm.failed == 0, "{}: warm-up requests failed: {:?}", method.name(), warm.errors);
    }
    let mut phases = Vec::new();
    for &clients in &args.clients {
        let phase = run_phase(server.addr, clients, args.requests, Instant::now() + limit, route, &recommend)?;
        eprintln!("loadtest: {} x{clients}: {} ok, {} failed, p50 {:.1} ms", method.name(), phase.ok, phase.failed, phase.p50_ms);
        phases.push(phase);
    }
    let while_adding = match embeddings.filter(|_| args.add_items > 0) {
        Some(emb) => Some(while_adding(args, method, &mut server, bodies, emb, overlay_path, nonce)?),
        None => {
            server.stop()?;
            None
        }
    };
    Ok(MethodReport { method: method.id(), name: method.name(), startup_s, phases, while_adding })
}

fn while_adding(
    args: &LoadtestArgs,
    method: MethodId,
    server: &mut Server,
    bodies: &[String],
    emb: &text_encoder::Embeddings,
    overlay_path: &std::path::Path,
    nonce: u64,
) -> anyhow::Result<WhileAdding> {
    let addr = server.addr;
    let catalog_before = live_items(addr)?;
    let ids: Vec<String> = (0..args.add_items).map(|i| format!("loadtest-{nonce}-{}-{i}", method.id())).collect();
    // Each added item copies the embedding of an existing item (spread over the
    // catalog), so it gets a real semantic ID (an identification digit above 0).
    let add = |i: usize| {
        let row = emb.row((i * 7919 + 13) % emb.len());
        serde_json::json!({"id": ids[i], "text": format!("Load-test item {i}."), "embedding": row}).to_string()
    };
    let recommend = |i: usize| bodies[i % bodies.len()].clone();
    let deadline = Instant::now() + Duration::from_secs_f64(args.max_seconds);
    let (recommend, adds) = std::thread::scope(|s| {
        let adder = s.spawn(|| run_phase(addr, 1, args.add_items, deadline, ("POST", "/items", 201), &add));
        let rec = run_phase(addr, args.add_clients, args.requests, deadline, ("POST", "/recommend", 200), &recommend);
        (rec, adder.join().map_err(|_| anyhow::anyhow!("the adding client panicked")).and_then(|r| r))
    });
    let (recommend, adds) = (recommend?, adds?);
    let catalog_after = live_items(addr)?;
    let clean_exit = server.stop()?.success();
    let overlay: serde_json::Value = serde_json::from_slice(
        &std::fs::read(overlay_path).with_context(|| format!("reading {} after the adds", overlay_path.display()))?,
    )
    .with_context(|| format!("parsing {}", overlay_path.display()))?;
    let on_disk: std::collections::HashSet<&str> =
        overlay["added"].as_array().map(|a| a.iter().filter_map(|i| i["id"].as_str()).collect()).unwrap_or_default();
    let added: Vec<String> = ids[..adds.sent].to_vec();
    let missing_from_overlay = added.iter().filter(|id| !on_disk.contains(id.as_str())).cloned().collect();
    eprintln!(
        "loadtest: {} while adding: {} recommendations ok, {} failed; {} of {} items added; catalog {catalog_before} -> {catalog_after}",
        method.name(),
        recommend.ok,
        recommend.failed,
        adds.ok,
        args.add_items
    );
    Ok(WhileAdding { recommend, adds, catalog_before, catalog_after, added, missing_from_overlay, clean_exit })
}

/// `GET /health`'s `catalog_items`.
fn live_items(addr: SocketAddr) -> anyhow::Result<usize> {
    let (status, body) = Conn::new(addr, Duration::from_secs(60))?.request("GET", "/health", "")?;
    ensure!(status == 200, "GET /health: {status} {body}");
    let v: serde_json::Value = serde_json::from_str(&body).with_context(|| format!("GET /health: {body}"))?;
    v["catalog_items"].as_u64().map(|n| n as usize).with_context(|| format!("GET /health without catalog_items: {body}"))
}

fn print_method(m: &MethodReport) {
    println!("{} ({}), server loaded in {:.1} s", m.name, m.method, m.startup_s);
    println!("  clients  requests  failed  p50 ms  p99 ms  requests/s");
    let row = |label: String, p: &Phase| {
        println!("  {label:>7}  {:>8}  {:>6}  {:>6.1}  {:>6.1}  {:>10.1}", p.ok, p.failed, p.p50_ms, p.p99_ms, p.requests_per_s);
    };
    for p in &m.phases {
        row(p.clients.to_string(), p);
    }
    if let Some(w) = &m.while_adding {
        row(format!("{}+add", w.recommend.clients), &w.recommend);
        println!(
            "  adds: {} of {} answered 201 (p50 {:.1} ms); catalog {} -> {}; missing on disk: {}; clean exit: {}",
            w.adds.ok,
            w.adds.requests,
            w.adds.p50_ms,
            w.catalog_before,
            w.catalog_after,
            w.missing_from_overlay.len(),
            w.clean_exit
        );
    }
}

/// A `specgr serve` child on a free loopback port; killed if dropped unstopped.
struct Server {
    child: Option<Child>,
    addr: SocketAddr,
}

impl Server {
    fn start(serve: &[String], method: MethodId, startup: Duration) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("finding the specgr executable")?;
        let mut child = Command::new(exe)
            .arg("serve")
            .args(serve)
            .args(["--method", method.id(), "--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting specgr serve")?;
        let stdout = child.stdout.take().context("the server's stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = tx.send(BufReader::new(stdout).read_line(&mut line).map(|_| line));
        });
        let mut server = Self { child: Some(child), addr: SocketAddr::from(([127, 0, 0, 1], 0)) };
        let line = match rx.recv_timeout(startup) {
            Ok(Ok(line)) => line,
            Ok(Err(e)) => bail!("reading the server's address: {e}"),
            Err(_) => bail!("specgr serve --method {} did not listen within {startup:?}", method.id()),
        };
        let addr = line.trim().strip_prefix("listening on http://").and_then(|a| a.parse().ok());
        let Some(addr) = addr else {
            let status = server.child.as_mut().and_then(|c| c.wait().ok());
            bail!("specgr serve --method {} stopped before listening ({status:?}; its messages are above)", method.id());
        };
        server.addr = addr;
        Ok(server)
    }

    /// SIGTERM, then waits up to a minute for the exit.
    fn stop(&mut self) -> anyhow::Result<ExitStatus> {
        let mut child = self.child.take().context("the server was already stopped")?;
        let signalled = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().context("running kill")?;
        ensure!(signalled.success(), "kill -TERM {} failed", child.id());
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() > until {
                let _ = child.kill();
                let _ = child.wait();
                bail!("the server did not stop within a minute of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
