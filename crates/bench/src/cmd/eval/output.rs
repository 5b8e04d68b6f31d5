//! What `specgr eval` shows: the table on the terminal, JSON, and the report directory.

use recdata::metrics::{Subset, SubsetMetrics};
use speculative::StepStats;

use super::{EvalArgs, Normalising};
use super::gamma::Gammas;
use super::method::MethodId;

/// One method's results.
#[derive(Debug, serde::Serialize)]
pub struct MethodResult {
    /// The method's id.
    pub method: MethodId,
    /// The paper's name.
    pub name: &'static str,
    /// Recall and NDCG per subset.
    pub metrics: SubsetMetrics,
    /// The median over the repetitions.
    pub seconds: f64,
    /// Every repetition's time, sorted.
    pub seconds_all: Vec<f64>,
    /// The share of recommended items that are unseen.
    pub unseen_share_of_output: f64,
    /// The SpecGR loop's counters (first repetition), for SpecGR methods.
    pub stats: Option<StepStats>,
    /// Examples whose lists (and times) an earlier, stopped run of the same command
    /// computed (`--report`'s checkpoint).
    pub resumed_examples: usize,
}

/// What the report and the terminal say about one run besides the results.
pub struct RunInfo<'a> {
    /// The arguments.
    pub args: &'a EvalArgs,
    /// The dataset's name.
    pub dataset: &'a str,
    /// Examples evaluated.
    pub examples: usize,
    /// The SpecGR methods' γ and where each came from.
    pub gammas: &'a Gammas,
    /// What was evaluated: the dataset's fingerprint, the IDs' hash, each model's files,
    /// identity and samples seen.
    pub inputs: &'a serde_json::Value,
    /// How alike the methods' lists are, one line per pair ([`overlaps`]).
    pub overlaps: &'a [String],
}

/// The overlap of two methods' lists at cut-off `k`: the mean over requests of the
/// share of the first `k` items of `a`'s list that are also among the first `k` of
/// `b`'s (divided by `k`, so a short list counts its missing places as misses).
pub fn list_overlap(a: &[Vec<recdata::ItemId>], b: &[Vec<recdata::ItemId>], k: usize) -> f64 {
    if a.is_empty() || k == 0 {
        return 0.0;
    }
    let total: usize = a
        .iter()
        .zip(b)
        .map(|(x, y)| {
            let y: std::collections::HashSet<_> = y.iter().take(k).collect();
            x.iter().take(k).filter(|i| y.contains(i)).count()
        })
        .sum();
    total as f64 / (a.len() * k) as f64
}

/// One line per pair of methods: the [`list_overlap`] of their lists at each cut-off,
/// e.g. whether a drafter ranks what popularity ranks.
pub fn overlaps(lists: &[(MethodId, &[Vec<recdata::ItemId>])], ks: &[usize]) -> Vec<String> {
    let mut lines = Vec::new();
    for (i, (a, la)) in lists.iter().enumerate() {
        for (b, lb) in &lists[i + 1..] {
            let shares: Vec<String> = ks.iter().map(|&k| format!("@{k} {:.3}", list_overlap(la, lb, k))).collect();
            lines.push(format!("list overlap {} ~ {}: {}", a.name(), b.name(), shares.join(", ")));
        }
    }
    lines
}

/// How popular in training the items a method lists are: the median, over every item
/// at each cut-off of every list, of how many training examples have it as their
/// target, and the share of listed items no training example targets. `None` as the
/// method gives the line of the targets themselves (`lists` then holds one target per
/// example). A retrieval model trained with in-batch negatives learns to discount
/// popular items; this line shows whether its lists lean away from what the targets
/// are.
pub fn popularity_profile(
    method: Option<MethodId>,
    lists: &[Vec<recdata::ItemId>],
    counts: &std::collections::HashMap<recdata::ItemId, usize>,
    ks: &[usize],
) -> String {
    let at = |k: usize| {
        let mut seen: Vec<usize> = lists.iter().flat_map(|l| l.iter().take(k)).map(|i| counts.get(i).copied().unwrap_or(0)).collect();
        seen.sort_unstable();
        let never = seen.iter().filter(|&&c| c == 0).count();
        match seen.len() {
            0 => "no items".to_owned(),
            n => format!("median {}, {:.1}% never a target", seen[(n - 1) / 2], 100.0 * never as f64 / n as f64),
        }
    };
    match method {
        Some(m) => {
            let parts: Vec<String> = ks.iter().map(|&k| format!("@{k} {}", at(k))).collect();
            format!("training targets per listed item, {}: {}", m.name(), parts.join("; "))
        }
        None => format!("training targets per target item (the examples' own): {}", at(1)),
    }
}

impl RunInfo<'_> {
    fn per_query(&self, r: &MethodResult) -> f64 {
        r.seconds / self.examples.max(1) as f64
    }

    /// `γ = …` as the header and the notes say it.
    fn gamma_text(&self) -> String {
        match self.gammas.describe() {
            d if d.is_empty() => format!("{}", self.args.threshold.unwrap_or(super::gamma::DEFAULT_GAMMA)),
            d => d,
        }
    }
}

/// One line per round (drafted, accepted, acceptance rate, exits) and the time split,
/// for the report's notes and the terminal.
pub fn describe_stats(method: MethodId, s: &StepStats, seconds: f64) -> String {
    let rounds: Vec<String> = s
        .rounds
        .iter()
        .enumerate()
        .map(|(r, x)| {
            format!(
                "r{r}: {} drafted, {} accepted ({:.1}%), {} exited",
                x.drafted,
                x.accepted,
                100.0 * x.acceptance_rate(),
                x.exited
            )
        })
        .collect();
    let ms = |d: std::time::Duration| 1e3 * d.as_secs_f64() / s.queries.max(1) as f64;
    format!(
        "{}: {}; per query: encode {:.2} ms, draft {:.2} ms, verify {:.2} ms, beam {:.2} ms of {:.2} ms total; {} beam steps, {} scoring passes; from rejected {}, from beams {}",
        method.name(),
        rounds.join("; "),
        ms(s.encode_time),
        ms(s.draft_time),
        ms(s.verify_time),
        ms(s.beam_time),
        1e3 * seconds / s.queries.max(1) as f64,
        s.beam_steps,
        s.verify_passes,
        s.from_rejected,
        s.from_beams
    )
}

/// `; SpecGR_Aux δ 20` when methods have their own δ or β, else nothing.
fn own_settings(args: &super::EvalArgs) -> String {
    match args.own_settings_text() {
        t if t.is_empty() => t,
        t => format!("; {t}"),
    }
}

/// The report of a run: the table, the settings and each SpecGR method's counters.
pub fn report(info: &RunInfo<'_>, results: &[MethodResult]) -> crate::report::Report {
    let args = info.args;
    let name = |v: &dyn Fn() -> Option<clap::builder::PossibleValue>| v().map_or_else(String::new, |p| p.get_name().to_owned());
    use clap::ValueEnum;
    let settings = format!(
        "K = {}, δ = {}, β = {}{}, γ = {}, ε = {}, batch {}; TIGER `{}` on {} IDs, baseline beams: {}; SpecGR as {}{}, without [{}]{}",
        args.spec.k,
        args.spec.draft_size,
        args.spec.beam_size,
        own_settings(args),
        info.gamma_text(),
        args.epsilon,
        args.spec.batch_size,
        args.run.preset.name(),
        args.run.ids,
        name(&|| args.tiger_beams.to_possible_value()),
        name(&|| args.spec.reference.to_possible_value()),
        match (args.spec.unseen_digits, args.spec.normalisation) {
            (None, Normalising::ScoredDigits) => String::new(),
            (u, n) => format!(
                " (unseen items scored by {}, scores normalised by {})",
                u.map_or_else(|| "the version's rule".to_owned(), |u| name(&|| u.to_possible_value())),
                name(&|| n.to_possible_value())
            ),
        },
        args.spec.without.iter().map(|c| name(&|| c.to_possible_value())).collect::<Vec<_>>().join(", "),
        match args.subset_size {
            Some(n) => format!("; subset ranking: {n} items per example (target included, seed {}), TIGER constrained per query", args.seed),
            None => String::new(),
        }
    );
    let repeat = args.repeat.max(1);
    crate::report::Report {
        title: format!("{} examples of `{}`", info.examples, args.part),
        dataset: info.dataset.to_owned(),
        rows: results
            .iter()
            .flat_map(|r| {
                crate::report::ResultRow::from_metrics(r.name, &r.metrics, info.per_query(r), r.unseen_share_of_output)
                    .into_iter()
                    .map(|row| row.with_id(r.method.id()))
            })
            .collect(),
        notes: std::iter::once(settings)
            .chain((repeat > 1).then(|| format!("times: median of {repeat} interleaved repetitions")))
            .chain(results.iter().filter(|r| r.resumed_examples > 0).map(|r| {
                format!(
                    "{}: resumed; the lists and times of {} of the {} examples come from an earlier, stopped run of the same command",
                    r.method.name(),
                    r.resumed_examples,
                    info.examples
                )
            }))
            .chain(results.iter().filter_map(|r| r.stats.as_ref().map(|s| describe_stats(r.method, s, r.seconds))))
            .chain((!info.overlaps.is_empty()).then(|| {
                "list overlap: the mean share of one method's top K that the other's top K holds too".to_owned()
            }))
            .chain(info.overlaps.iter().cloned())
            .collect(),
        provenance: crate::report::provenance(
            args.seed,
            settings_json(args, info.dataset, info.gammas, info.inputs),
        ),
    }
}

/// Every setting that decides a run's lists, and what it evaluated (the report's
/// provenance, and the key a resumed run must match: [`super::checkpoint`]).
pub fn settings_json(args: &EvalArgs, dataset: &str, gammas: &Gammas, inputs: &serde_json::Value) -> serde_json::Value {
    let name = |v: &dyn Fn() -> Option<clap::builder::PossibleValue>| v().map_or_else(String::new, |p| p.get_name().to_owned());
    use clap::ValueEnum;
    let repeat = args.repeat.max(1);
    let mut settings = serde_json::json!({
        "dataset": dataset, "part": args.part, "limit": args.limit, "sample": args.sample,
        "k": args.spec.k, "draft_size": args.spec.draft_size, "beam_size": args.spec.beam_size,
        "threshold": args.threshold, "batch_size": args.spec.batch_size, "repeat": repeat,
        "gammas": gammas.by_id(), "gamma_source": gammas.describe(),
        "method_threshold": args.method_threshold.iter().map(|(m, g)| format!("{m}={g}")).collect::<Vec<_>>(),
        "method_draft_size": args.method_draft_size.iter().map(|(m, d)| format!("{m}={d}")).collect::<Vec<_>>(),
        "method_beam_size": args.method_beam_size.iter().map(|(m, b)| format!("{m}={b}")).collect::<Vec<_>>(),
        "epsilon": args.epsilon, "tiger_beams": name(&|| args.tiger_beams.to_possible_value()),
        "reference": name(&|| args.spec.reference.to_possible_value()),
        "unseen_digits": args.spec.unseen_digits.map(|u| name(&|| u.to_possible_value())),
        "normalisation": name(&|| args.spec.normalisation.to_possible_value()),
        "without": args.spec.without.iter().map(|c| name(&|| c.to_possible_value())).collect::<Vec<_>>(),
        "ids": args.run.ids.name(), "preset": args.run.preset.name(),
        "subset_size": args.subset_size, "score_chunk": args.score_chunk,
        "ensemble_weight": args.ensemble_weight, "popularity_days": args.popularity_days,
        "methods": args.methods.iter().map(|m| m.id()).collect::<Vec<_>>(),
        "inputs": inputs,
        "device": format!("{:?}", args.run.device),
        "build": crate::report::built_from(),
    });
    // Only when bf16, so that float32 reports written before the flag existed still match.
    if args.matmul == Some(gr_model::MatmulPrecision::Bf16) {
        settings["matmul"] = serde_json::json!("bf16");
    }
    // Only when given, so that reports written before the flag existed still match.
    if let Some(w) = args.drafter_popularity_prior {
        // Through its shortest decimal, so 0.07 reads 0.07 and not 0.07000000029802322.
        settings["drafter_popularity_prior"] = serde_json::json!(w.to_string().parse::<f64>().unwrap_or(f64::from(w)));
    }
    settings
}

/// The report in `dir` if a run with exactly these settings (the same models, examples,
/// γ and binary) and seed wrote it, with an overall row for every method; else `None`
/// (and the run is to be made, again).
pub fn finished_report(dir: &std::path::Path, settings: &serde_json::Value, seed: u64, methods: &[MethodId]) -> Option<crate::report::Report> {
    let report = crate::report::Report::read(&dir.join("results.json")).ok()?;
    let same = report.provenance.config == *settings && report.provenance.seed == seed;
    let whole = methods.iter().all(|m| report.row(m.id(), "overall").is_some());
    (same && whole).then_some(report)
}

/// Prints a finished report: its Markdown table, or with `--json` the report itself
/// (what its `results.json` holds).
pub fn print_report(report: &crate::report::Report, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        print!("{}", report.to_markdown());
    }
    Ok(())
}

/// Prints the results as a table (or JSON with `--json`).
pub fn print(info: &RunInfo<'_>, results: &[MethodResult]) -> anyhow::Result<()> {
    let args = info.args;
    if args.json {
        println!("{}", serde_json::to_string_pretty(results)?);
        return Ok(());
    }
    println!(
        "{} {} examples of `{}` (K = {}, δ = {}, β = {}{}, γ = {})",
        info.examples,
        args.part,
        info.dataset,
        args.spec.k,
        args.spec.draft_size,
        args.spec.beam_size,
        own_settings(args),
        info.gamma_text()
    );
    println!(
        "{:<22} {:<10} {:>8} {:>8} {:>8} {:>8} {:>9} {:>8}",
        "method", "subset", "R@10", "N@10", "R@50", "N@50", "unseen%", "s/query"
    );
    for r in results {
        for s in Subset::ALL {
            // A cut-off beyond K was not computed: shown as `–`, not as a number.
            let m = |k| match r.metrics.get(s, k) {
                Some(m) => (format!("{:.4}", m.recall), format!("{:.4}", m.ndcg)),
                None => ("–".to_owned(), "–".to_owned()),
            };
            let ((r10, n10), (r50, n50)) = (m(10), m(50));
            println!(
                "{:<22} {:<10} {r10:>8} {n10:>8} {r50:>8} {n50:>8} {:>8.1}% {:>8.4}",
                r.name,
                s.name(),
                100.0 * r.unseen_share_of_output,
                info.per_query(r)
            );
        }
    }
    for r in results {
        if let Some(s) = &r.stats {
            println!("{}", describe_stats(r.method, s, r.seconds));
        }
    }
    for line in info.overlaps {
        println!("{line}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use recdata::ItemId;

    use super::{list_overlap, overlaps, popularity_profile};
    use crate::cmd::eval::MethodId;

    fn lists(rows: &[&[u32]]) -> Vec<Vec<ItemId>> {
        rows.iter().map(|r| r.iter().map(|&i| ItemId(i)).collect()).collect()
    }

    /// Shares counted by hand: order within the cut-off does not matter, items beyond it
    /// do not count, and a short list's missing places are misses.
    #[test]
    fn list_overlap_is_the_mean_share_of_common_items_within_the_cut_off() {
        let a = lists(&[&[1, 2, 3, 4], &[5, 6, 7, 8], &[9]]);
        let b = lists(&[&[4, 3, 9, 1], &[8, 0, 0, 5], &[9, 1]]);
        // @2: {1,2} vs {4,3}: 0; {5,6} vs {8,0}: 0; {9} vs {9,1}: 1 -> 1 / 6.
        assert!((list_overlap(&a, &b, 2) - 1.0 / 6.0).abs() < 1e-12);
        // @4: 3 of 4, 2 of 4, 1 of 4 -> 6 / 12.
        assert!((list_overlap(&a, &b, 4) - 0.5).abs() < 1e-12);
        assert_eq!(list_overlap(&a, &a[..], 1), 1.0);
        assert_eq!(list_overlap(&[], &[], 10), 0.0);
        let lines = overlaps(&[(MethodId::Popularity, &a), (MethodId::SpecgrPpDrafter, &b), (MethodId::Tiger, &a)], &[2, 4]);
        assert_eq!(
            lines,
            [
                "list overlap Popularity ~ SpecGR++ drafter: @2 0.167, @4 0.500",
                "list overlap Popularity ~ TIGER: @2 0.833, @4 0.750", // a list with itself: the short third list misses places
                "list overlap SpecGR++ drafter ~ TIGER: @2 0.167, @4 0.500",
            ]
        );
    }

    /// Medians and shares counted by hand; the lower median for an even count; only
    /// the first k of each list count.
    #[test]
    fn popularity_profile_is_the_median_training_count_of_the_listed_items() {
        let counts: std::collections::HashMap<ItemId, usize> = [(1, 10), (2, 5), (3, 1)].into_iter().map(|(i, c)| (ItemId(i), c)).collect();
        let l = lists(&[&[1, 2, 9], &[3, 1]]);
        // @1: items 1 and 3 -> counts [1, 10], lower median 1, none unseen.
        // @3: 1, 2, 9, 3, 1 -> [0, 1, 5, 10, 10], median 5, 1 of 5 never a target.
        assert_eq!(
            popularity_profile(Some(MethodId::SemanticKnn), &l, &counts, &[1, 3]),
            "training targets per listed item, SemanticKNN: @1 median 1, 0.0% never a target; @3 median 5, 20.0% never a target"
        );
        assert_eq!(
            popularity_profile(None, &lists(&[&[2], &[7], &[1]]), &counts, &[1, 3]),
            "training targets per target item (the examples' own): median 5, 33.3% never a target"
        );
        assert_eq!(popularity_profile(None, &[], &counts, &[1]), "training targets per target item (the examples' own): no items");
    }
}
