//! `specgr recommend`: top-K lists from a saved run for histories given as JSON lines.
//!
//! Input, one request per line: `{"history": ["item id", ...], "id": any, "k": n}`
//! (`id` and `k` optional). Output, one line per input line in the same order:
//! `{"line": n, "id": ..., "method": "specgr-aux", "items": [{"item": "...", "score":
//! -1.2, "unseen": false}, ...]}`, or `{"line": n, "id": ..., "error": {"field":
//! "history[2]", "message": "unknown item id \"x\""}}` for a refused line. Requests
//! are run `--batch-size` at a time through the same method values `specgr eval`
//! builds ([`methods::build`]).

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::{Context, bail, ensure};
use burn::tensor::backend::Backend;
use clap::Parser;
use serde::Serialize;
use serde_json::Value;
use speculative::Request;

use super::Served;
use super::requests::{self, BadInput, RecommendRequest};
use crate::cmd::eval::{EvalArgs, Method, MethodId, SpecGrArgs, gamma, methods};

/// The saved run and the method that `specgr recommend` and `specgr serve` answer with.
#[derive(Debug, clap::Args)]
pub struct MethodRun {
    /// The trained run: dataset, semantic IDs, TIGER preset, device, run directory.
    #[command(flatten)]
    pub run: crate::cmd::RunArgs,
    /// The method (any that `specgr eval --methods` takes).
    #[arg(long, default_value = "specgr-aux")]
    pub method: MethodId,
    /// K (the list length, and the largest `k` a request may ask for), δ, β, the
    /// SpecGR variant and the batch size (requests run together).
    #[command(flatten)]
    pub spec: SpecGrArgs,
    /// Acceptance threshold γ of a SpecGR method [default: the γ `specgr tune` stored
    /// for these settings, else -1.4, as `specgr eval`].
    #[arg(long, allow_hyphen_values = true, value_parser = crate::cmd::args::finite_f32)]
    pub threshold: Option<f32>,
}

/// `specgr recommend` arguments.
#[derive(Debug, clap::Args)]
pub struct RecommendArgs {
    /// The run and the method.
    #[command(flatten)]
    pub run: MethodRun,
    /// Read requests from this file instead of stdin.
    #[arg(long)]
    pub input: Option<PathBuf>,
}

/// `eval`'s arguments, to parse its defaults from.
#[derive(Parser)]
struct EvalDefaults {
    #[command(flatten)]
    eval: EvalArgs,
}

impl MethodRun {
    /// The `specgr eval` arguments that build the same method: `eval`'s defaults with
    /// this command's settings, so the two never drift apart.
    pub fn eval_args(&self) -> anyhow::Result<EvalArgs> {
        let mut eval = EvalDefaults::try_parse_from(["eval"]).context("eval's default arguments")?.eval;
        eval.run = self.run.clone();
        eval.methods = vec![self.method];
        eval.spec = self.spec.clone();
        eval.threshold = self.threshold;
        Ok(eval)
    }
}

/// One listed item.
#[derive(Debug, Clone, Serialize)]
pub struct Scored {
    /// The item's id.
    pub item: String,
    /// What the method ranked it by (`null` in JSON where it is not finite).
    pub score: f32,
    /// Whether it was not seen in training (added items included).
    pub unseen: bool,
}

/// One output line.
#[derive(Serialize)]
struct Answer {
    line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    items: Option<Vec<Scored>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<BadInput>,
}

/// Runs `specgr recommend`.
pub fn run(args: RecommendArgs) -> anyhow::Result<()> {
    crate::with_backend!(args.run.run.device, |B, device| run_on::<B>(&args, &device))
}

impl MethodRun {
    /// Opens the run with what the method needs and the catalog overlay applied.
    pub fn open<B: Backend>(&self, device: &B::Device) -> anyhow::Result<Served<B>> {
        let served = Served::<B>::open(&self.run.dataset, &self.run.runs, self.run.ids, self.run.preset, self.method.needs(), device)?;
        ensure!(
            self.spec.k <= served.num_live(),
            "--k {}: the catalog has only {} items that can be recommended",
            self.spec.k,
            served.num_live()
        );
        Ok(served)
    }

    /// The method's γ (tuned, given or the default), said on stderr as `eval` does.
    pub fn gamma<B: Backend>(&self, served: &Served<B>) -> anyhow::Result<(EvalArgs, f32)> {
        let eval = self.eval_args()?;
        let gammas = gamma::Gammas::resolve(&eval, &gamma::tune_dir(&served.run.run_dir, self.run.ids, self.run.preset))?;
        if !gammas.describe().is_empty() {
            eprintln!("γ: {}", gammas.describe());
        }
        Ok((eval, gammas.of(self.method)))
    }
}

fn run_on<B: Backend>(args: &RecommendArgs, device: &B::Device) -> anyhow::Result<()> {
    let served = args.run.open::<B>(device)?;
    let (eval, gamma) = args.run.gamma(&served)?;
    let method = methods::build(args.run.method, &served.resources, &eval, gamma)?;
    let input: Box<dyn BufRead> = match &args.input {
        Some(path) => Box::new(std::io::BufReader::new(
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?,
        )),
        None => Box::new(std::io::stdin().lock()),
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let counts = serve_lines(&served, method.as_ref(), &args.run, input, &mut out)?;
    out.flush()?;
    if counts.refused > 0 {
        bail!("{} of {} requests refused (their lines carry an `error`)", counts.refused, counts.total);
    }
    Ok(())
}

/// A refused line: its `id` where it had one, and why.
type Refused = (Option<Value>, BadInput);

/// How many requests were read and refused.
#[derive(Debug, Default)]
pub struct Counts {
    /// Requests read (blank lines are not requests).
    pub total: usize,
    /// Requests refused.
    pub refused: usize,
}

/// Answers every line of `input` on `out`, `--batch-size` requests at a time.
fn serve_lines<B: Backend>(
    served: &Served<B>,
    method: &dyn Method,
    args: &MethodRun,
    mut input: Box<dyn BufRead + '_>,
    out: &mut dyn Write,
) -> anyhow::Result<Counts> {
    let max_history = served.run.resolved.split.max_history();
    let batch = args.spec.batch_size.max(1);
    let mut counts = Counts::default();
    let mut pending: Vec<(usize, Result<RecommendRequest, Refused>)> = Vec::new();
    let mut buf = Vec::new();
    let mut line_no = 0;
    loop {
        buf.clear();
        let n = input.read_until(b'\n', &mut buf).context("reading the requests")?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let parsed = match std::str::from_utf8(&buf) {
            Ok(text) if text.trim().is_empty() => continue,
            // A refused line still echoes its `id` where it has one.
            Ok(text) => requests::recommend(text, |k| served.item(k), args.spec.k, args.spec.k, max_history)
                .map_err(|e| (requests::object(text).ok().and_then(|mut m| m.remove("id")), e)),
            Err(e) => Err((None, BadInput::new("", format!("not UTF-8 text: {e}")))),
        };
        counts.total += 1;
        counts.refused += usize::from(parsed.is_err());
        pending.push((line_no, parsed));
        if pending.iter().filter(|(_, p)| p.is_ok()).count() >= batch {
            answer(served, method, std::mem::take(&mut pending), out)?;
        }
    }
    answer(served, method, pending, out)?;
    Ok(counts)
}

/// Runs `requests` as one batch through `method`: one list per request, removed items
/// left out, at most each request's `k` items.
pub fn run_batch<B: Backend>(
    served: &Served<B>,
    method: &dyn Method,
    requests: &[&RecommendRequest],
) -> anyhow::Result<Vec<Vec<Scored>>> {
    if requests.is_empty() {
        return Ok(Vec::new());
    }
    let batch: Vec<Request<'_>> = requests
        .iter()
        .map(|r| match served.live() {
            Some(live) => Request::new(&r.history).within(live),
            None => Request::new(&r.history),
        })
        .collect();
    let found = method.recommend(&batch, &mut |_| {})?;
    ensure!(found.lists.len() == batch.len(), "{} returned {} lists for {} requests", method.id(), found.lists.len(), batch.len());
    Ok(requests
        .iter()
        .enumerate()
        .map(|(n, request)| {
            let scores = found.scores.get(n);
            found.lists[n]
                .iter()
                .enumerate()
                .filter(|&(_, &item)| !served.is_removed(item))
                .take(request.k)
                .map(|(i, &item)| Scored {
                    item: served.key(item).to_owned(),
                    score: scores.and_then(|s| s.get(i)).copied().unwrap_or(f32::NAN),
                    unseen: !served.is_in_sample(item),
                })
                .collect()
        })
        .collect())
}

/// Runs the parsed requests of `pending` as one batch and writes every line's answer
/// in input order.
fn answer<B: Backend>(
    served: &Served<B>,
    method: &dyn Method,
    pending: Vec<(usize, Result<RecommendRequest, Refused>)>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let ok: Vec<&RecommendRequest> = pending.iter().filter_map(|(_, p)| p.as_ref().ok()).collect();
    let mut lists = run_batch(served, method, &ok)
        .with_context(|| {
            let lines: Vec<String> = pending.iter().filter(|(_, p)| p.is_ok()).map(|(n, _)| n.to_string()).collect();
            format!("{} failed on the requests of lines {}", method.id(), lines.join(", "))
        })?
        .into_iter();
    for (line, parsed) in pending {
        let answer = match parsed {
            Err((id, error)) => Answer { line, id, method: None, items: None, error: Some(error) },
            Ok(request) => {
                let items = lists.next().context("a list per parsed request")?;
                Answer { line, id: request.id, method: Some(method.id().id()), items: Some(items), error: None }
            }
        };
        serde_json::to_writer(&mut *out, &answer)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
