//! Throughput of embedding every Beauty title with all-MiniLM-L6-v2 on the Flex CPU
//! backend, and the process's peak memory.
//!
//! ```text
//! SPECGR_DATA=../shared/data cargo bench -p text-encoder --bench embed -- [--batch N]... [--threads N]... [--limit N] [--out DIR]
//! ```
//!
//! Each (`--threads`, `--batch`) pair embeds the whole catalog once (after a short
//! warm-up), so settings are compared side by side in one process. `--out DIR` writes the
//! embeddings of the last run as an embedding cache directory.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::backend::Flex;
use text_encoder::SentenceEncoder;

fn env_path(var: &str) -> Option<PathBuf> {
    let value = PathBuf::from(std::env::var_os(var)?);
    if value.is_absolute() || value.exists() {
        return Some(value);
    }
    Some(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(value),
    )
}

/// VmHWM (peak resident set) from /proc/self/status, in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// CPU time (user + system, all threads) of this process in seconds, from
/// /proc/self/stat (fields 14 and 15, in clock ticks of 1/100 s on Linux).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // The command name (field 2) may hold spaces; fields after it follow the last ')'.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    // `after` starts at field 3, so fields 14 and 15 are at indices 11 and 12.
    (ticks(11) + ticks(12)) / 100.0
}

fn read_titles(path: &Path) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut reader = csv::Reader::from_path(path)?;
    let column = reader
        .headers()?
        .iter()
        .position(|h| h == "title")
        .ok_or_else(|| format!("{}: no `title` column", path.display()))?;
    let mut titles = Vec::new();
    for record in reader.records() {
        titles.push(record?.get(column).unwrap_or("").to_string());
    }
    Ok(titles)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut batches = Vec::new();
    let mut threads = Vec::new();
    let mut limit = usize::MAX;
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--batch" => batches.push(args.next().ok_or("--batch N")?.parse()?),
            "--threads" => threads.push(args.next().ok_or("--threads N")?.parse()?),
            "--limit" => limit = args.next().ok_or("--limit N")?.parse()?,
            "--out" => out = Some(PathBuf::from(args.next().ok_or("--out DIR")?)),
            "--bench" => {} // passed by `cargo bench`
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if batches.is_empty() {
        batches.push(32);
    }
    if threads.is_empty() {
        threads.push(1);
    }
    let Some(data) = env_path("SPECGR_DATA") else {
        println!("skipping embed bench: SPECGR_DATA not set");
        return Ok(());
    };
    let items = data.join("beauty-2014/items.csv");
    let models = env_path("SPECGR_MODELS").unwrap_or_else(|| data.join("../models"));
    let model_dir = models.join("all-MiniLM-L6-v2");
    if !items.exists() || !model_dir.exists() {
        println!(
            "skipping embed bench: {} or {} not found",
            items.display(),
            model_dir.display()
        );
        return Ok(());
    }

    let mut titles = read_titles(&items)?;
    titles.truncate(limit);
    let texts: Vec<&str> = titles.iter().map(String::as_str).collect();
    let device = Default::default();
    let start = Instant::now();
    let mut encoder = SentenceEncoder::<Flex>::load(&model_dir, &device)?;
    println!("load: {:.2} s", start.elapsed().as_secs_f64());

    let start = Instant::now();
    let tokenized = encoder.tokenize(&texts)?;
    let tokens: usize = tokenized.iter().map(|t| t.ids.len()).sum();
    let longest = tokenized.iter().map(|t| t.ids.len()).max().unwrap_or(0);
    println!(
        "tokenize {} titles: {:.3} s ({tokens} word pieces, mean {:.1}, max {longest})",
        texts.len(),
        start.elapsed().as_secs_f64(),
        tokens as f64 / texts.len() as f64
    );
    // Warm-up: allocator and thread pools.
    encoder.embed_all(&texts[..texts.len().min(64)], 32, None, |_, _| {})?;

    let mut last = None;
    for &n_threads in &threads {
        encoder = encoder.with_threads(n_threads);
        for &batch in &batches {
            let start = Instant::now();
            let cpu_start = cpu_seconds();
            let output = encoder.embed_all(&texts, batch, None, |_, _| {})?;
            let secs = start.elapsed().as_secs_f64();
            let cpu = cpu_seconds() - cpu_start;
            println!(
                "threads {n_threads} batch {batch:4}: {} titles in {secs:.2} s = {:.1} titles/s; \
                 {cpu:.2} CPU-s = {:.1} titles per CPU-second ({} truncated)",
                texts.len(),
                texts.len() as f64 / secs,
                texts.len() as f64 / cpu,
                output.truncated
            );
            last = Some(batch);
        }
    }
    if let (Some(dir), Some(batch)) = (out, last) {
        let start = Instant::now();
        let output = encoder.embed_all(&texts, batch, Some(&dir), |_, _| {})?;
        println!(
            "wrote {} rows to {} in {:.2} s ({} reused from its cache)",
            output.embeddings.len(),
            dir.display(),
            start.elapsed().as_secs_f64(),
            output.reused
        );
    }
    if let Some(peak) = peak_rss_mib() {
        println!("peak memory (VmHWM): {peak:.0} MiB");
    }
    Ok(())
}
