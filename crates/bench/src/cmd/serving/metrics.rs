//! `GET /metrics` of `specgr serve`: request counts by route and status, latency
//! histograms by route, batch sizes and the catalog size, in Prometheus' text format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 14] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// One route's latencies.
#[derive(Default)]
struct Histogram {
    /// Requests per bucket (not cumulative), the last one beyond every bound.
    counts: [u64; BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

/// The server's counters.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    latency: Mutex<BTreeMap<&'static str, Histogram>>,
    /// Items that can be recommended.
    pub catalog_items: AtomicUsize,
    /// Model batches run.
    pub batches: AtomicU64,
    /// Recommendation requests run in those batches.
    pub batched_requests: AtomicU64,
}

impl Metrics {
    /// Counts one answered request of `route` with `status` that took `took`.
    pub fn record(&self, route: &'static str, status: u16, took: Duration) {
        if let Ok(mut r) = self.requests.lock() {
            *r.entry((route, status)).or_default() += 1;
        }
        if let Ok(mut l) = self.latency.lock() {
            let h = l.entry(route).or_default();
            let secs = took.as_secs_f64();
            let bucket = BUCKETS.iter().position(|&b| secs <= b).unwrap_or(BUCKETS.len());
            h.counts[bucket] += 1;
            h.sum += secs;
            h.count += 1;
        }
    }

    /// The Prometheus text exposition of every counter.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# HELP specgr_requests_total Requests answered, by route and HTTP status.");
        let _ = writeln!(s, "# TYPE specgr_requests_total counter");
        if let Ok(r) = self.requests.lock() {
            for ((route, status), n) in r.iter() {
                let _ = writeln!(s, "specgr_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}");
            }
        }
        let _ = writeln!(s, "# HELP specgr_request_seconds Request latency, by route.");
        let _ = writeln!(s, "# TYPE specgr_request_seconds histogram");
        if let Ok(l) = self.latency.lock() {
            for (route, h) in l.iter() {
                let mut cumulative = 0;
                for (i, bound) in BUCKETS.iter().enumerate() {
                    cumulative += h.counts[i];
                    let _ = writeln!(s, "specgr_request_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}");
                }
                let _ = writeln!(s, "specgr_request_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}", h.count);
                let _ = writeln!(s, "specgr_request_seconds_sum{{route=\"{route}\"}} {}", h.sum);
                let _ = writeln!(s, "specgr_request_seconds_count{{route=\"{route}\"}} {}", h.count);
            }
        }
        let gauge = |s: &mut String, name: &str, help: &str, kind: &str, v: u64| {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
        };
        gauge(&mut s, "specgr_catalog_items", "Items that can be recommended.", "gauge", self.catalog_items.load(Ordering::Relaxed) as u64);
        gauge(&mut s, "specgr_batches_total", "Model batches run.", "counter", self.batches.load(Ordering::Relaxed));
        gauge(
            &mut s,
            "specgr_batched_requests_total",
            "Recommendation requests run in those batches.",
            "counter",
            self.batched_requests.load(Ordering::Relaxed),
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_counts_keyed_by_route_and_status() {
        let m = Metrics::default();
        m.record("recommend", 200, Duration::from_millis(3));
        m.record("recommend", 200, Duration::from_millis(40));
        m.record("recommend", 400, Duration::from_secs(100));
        let text = m.render();
        for line in [
            "specgr_requests_total{route=\"recommend\",status=\"200\"} 2",
            "specgr_requests_total{route=\"recommend\",status=\"400\"} 1",
            "specgr_request_seconds_bucket{route=\"recommend\",le=\"0.0025\"} 0",
            "specgr_request_seconds_bucket{route=\"recommend\",le=\"0.005\"} 1",
            "specgr_request_seconds_bucket{route=\"recommend\",le=\"0.05\"} 2",
            "specgr_request_seconds_bucket{route=\"recommend\",le=\"30\"} 2",
            "specgr_request_seconds_bucket{route=\"recommend\",le=\"+Inf\"} 3",
            "specgr_request_seconds_count{route=\"recommend\"} 3",
            "specgr_catalog_items 0",
        ] {
            assert!(text.lines().any(|l| l == line), "`{line}` in\n{text}");
        }
    }
}
