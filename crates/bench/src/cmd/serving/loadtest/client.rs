//! The load test's side of the wire: a minimal HTTP/1.1 client over a blocking
//! `std::net::TcpStream` (one keep-alive connection per client thread, loopback only),
//! a phase of N requests at concurrency C bounded by a deadline, and the latency
//! summary (nearest-rank percentiles).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use serde::Serialize;

/// The largest response body read (a top-K list is a few KiB).
const MAX_BODY: usize = 16 << 20;

/// One keep-alive connection to the server.
pub struct Conn {
    addr: SocketAddr,
    stream: Option<BufReader<TcpStream>>,
    timeout: Duration,
}

impl Conn {
    /// A client of `addr`, which must be a loopback address; every read and write of a
    /// request gives up after `timeout`.
    pub fn new(addr: SocketAddr, timeout: Duration) -> anyhow::Result<Self> {
        ensure!(addr.ip().is_loopback(), "the load test only talks to loopback addresses, not {addr}");
        Ok(Self { addr, stream: None, timeout: timeout.max(Duration::from_millis(1)) })
    }

    /// Sends one request and reads its answer: the status and the body. An error (and
    /// any answer that asks to close) drops the connection; the next request opens a new
    /// one. Requests are never retried, so a failure is always reported.
    pub fn request(&mut self, method: &str, path: &str, body: &str) -> anyhow::Result<(u16, String)> {
        let result = self.exchange(method, path, body);
        if !matches!(result, Ok((_, _, true))) {
            self.stream = None;
        }
        result.map(|(status, body, _)| (status, body))
    }

    fn exchange(&mut self, method: &str, path: &str, body: &str) -> anyhow::Result<(u16, String, bool)> {
        if self.stream.is_none() {
            let s = TcpStream::connect_timeout(&self.addr, self.timeout).with_context(|| format!("connecting to {}", self.addr))?;
            s.set_read_timeout(Some(self.timeout))?;
            s.set_write_timeout(Some(self.timeout))?;
            s.set_nodelay(true)?;
            self.stream = Some(BufReader::new(s));
        }
        let stream = self.stream.as_mut().expect("connected above");
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        stream.get_mut().write_all(request.as_bytes()).context("sending the request")?;
        let mut line = String::new();
        stream.read_line(&mut line).context("reading the status line")?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .with_context(|| format!("not an HTTP status line: {:?}", line.trim_end()))?;
        let (mut length, mut keep) = (None, true);
        loop {
            line.clear();
            stream.read_line(&mut line).context("reading the headers")?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let Some((name, value)) = header.split_once(':') else { bail!("malformed header {header:?}") };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.parse::<usize>().with_context(|| format!("Content-Length {value:?}"))?);
            } else if name.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close") {
                keep = false;
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                bail!("the answer is sent as {value:?}; this client reads Content-Length bodies only");
            }
        }
        let length = length.context("an answer without Content-Length")?;
        ensure!(length <= MAX_BODY, "an answer of {length} bytes (at most {MAX_BODY})");
        let mut bytes = vec![0; length];
        stream.read_exact(&mut bytes).context("reading the body")?;
        Ok((status, String::from_utf8(bytes).context("the body is not UTF-8")?, keep))
    }
}

/// What one request gave: its latency, and an error message unless it got `expect`.
struct Outcome {
    latency: Duration,
    error: Option<String>,
}

/// One phase: up to `requests` requests from `clients` concurrent clients.
#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    /// Concurrent clients (one connection each).
    pub clients: usize,
    /// Requests asked for.
    pub requests: usize,
    /// Requests sent (fewer than `requests` only when the deadline came first).
    pub sent: usize,
    /// Requests answered with the expected status.
    pub ok: usize,
    /// Requests that failed: another status, a connection error or a timeout.
    pub failed: usize,
    /// The first few failures' messages.
    pub errors: Vec<String>,
    /// Latency percentiles over every sent request, in milliseconds (nearest rank).
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Mean latency.
    pub mean_ms: f64,
    /// Slowest request.
    pub max_ms: f64,
    /// From the first request sent to the last answer, in seconds.
    pub wall_s: f64,
    /// Answered requests per second of `wall_s`.
    pub requests_per_s: f64,
}

/// Runs `requests` requests, `body(i)` for the i-th, from `clients` threads, each on its
/// own keep-alive connection; a request counts as answered when its status is
/// `expect`. No request starts after `deadline`.
pub fn run_phase(
    addr: SocketAddr,
    clients: usize,
    requests: usize,
    deadline: Instant,
    (method, path, expect): (&str, &str, u16),
    body: &(dyn Fn(usize) -> String + Sync),
) -> anyhow::Result<Phase> {
    ensure!(clients >= 1, "at least one client");
    let next = AtomicUsize::new(0);
    let timeout = deadline.saturating_duration_since(Instant::now());
    let start = Instant::now();
    let outcomes: Vec<Outcome> = std::thread::scope(|scope| -> anyhow::Result<Vec<Outcome>> {
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                scope.spawn(|| -> anyhow::Result<Vec<Outcome>> {
                    let mut conn = Conn::new(addr, timeout)?;
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= requests || Instant::now() >= deadline {
                            return Ok(mine);
                        }
                        let text = body(i);
                        let t = Instant::now();
                        let error = match conn.request(method, path, &text) {
                            Ok((status, _)) if status == expect => None,
                            Ok((status, answer)) => Some(format!("{method} {path}: {status} {}", answer.chars().take(200).collect::<String>())),
                            Err(e) => Some(format!("{method} {path}: {e:#}")),
                        };
                        mine.push(Outcome { latency: t.elapsed(), error });
                    }
                })
            })
            .collect();
        let mut all = Vec::with_capacity(requests);
        for h in handles {
            all.extend(h.join().map_err(|_| anyhow::anyhow!("a client thread panicked"))??);
        }
        anyhow::Ok(all)
    })?;
    let wall = start.elapsed().as_secs_f64();
    Ok(summarise(clients, requests, &outcomes, wall))
}

fn summarise(clients: usize, requests: usize, outcomes: &[Outcome], wall_s: f64) -> Phase {
    let mut ms: Vec<f64> = outcomes.iter().map(|o| o.latency.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let failed = outcomes.iter().filter(|o| o.error.is_some()).count();
    let ok = outcomes.len() - failed;
    let mean = if ms.is_empty() { 0.0 } else { ms.iter().sum::<f64>() / ms.len() as f64 };
    Phase {
        clients,
        requests,
        sent: outcomes.len(),
        ok,
        failed,
        errors: outcomes.iter().filter_map(|o| o.error.clone()).take(5).collect(),
        p50_ms: percentile(&ms, 50.0),
        p99_ms: percentile(&ms, 99.0),
        mean_ms: mean,
        max_ms: ms.last().copied().unwrap_or(0.0),
        wall_s,
        requests_per_s: if wall_s > 0.0 { ok as f64 / wall_s } else { 0.0 },
    }
}

/// The nearest-rank `p`-th percentile of sorted values (0 for none).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!((percentile(&v, 50.0), percentile(&v, 99.0), percentile(&v, 100.0)), (50.0, 99.0, 100.0));
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
        assert_eq!(percentile(&[1.0, 2.0, 3.0], 50.0), 2.0);
    }

    #[test]
    fn only_loopback_is_targeted() {
        let e = Conn::new("10.0.0.1:80".parse().unwrap(), Duration::from_secs(1)).err().unwrap();
        assert!(e.to_string().contains("loopback"), "{e}");
    }
}
