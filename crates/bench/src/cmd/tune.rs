//! `specgr tune`: each SpecGR method's acceptance threshold γ, chosen on the
//! validation part by a grid search (the paper tunes γ on valid).
//!
//! Every γ of the grid runs every method once on the same (sampled) validation
//! examples, with the models loaded once; each method keeps the γ of its best overall
//! metric (ties go to the first γ listed). The result goes to
//! `<runs>/<dataset>/tune-<ids>-<preset>/`: `gamma.json` (which `specgr eval` reads
//! when no γ is given), `tune.md` (the table) and one report per γ (`gamma=<γ>/`).
//! A γ whose report an earlier run of the same tuning wrote (the same settings, models,
//! examples and binary) is not run again, so a stopped tuning resumes at the next γ.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use burn::tensor::backend::Backend;

use crate::cmd::eval::gamma::{Gammas, TuneRow, TuneSettings, Tuned};
use crate::cmd::eval::output::{MethodResult, RunInfo, finished_report, settings_json};
use crate::cmd::eval::{EvalArgs, MethodId, Prepared, SpecGrArgs, TigerBeams, methods};
use crate::cmd::plot::Metric;

/// `specgr tune` arguments.
#[derive(Debug, clap::Args)]
pub struct TuneArgs {
    /// The trained run: dataset, semantic IDs, TIGER preset, device, run directory.
    #[command(flatten)]
    pub run: crate::cmd::RunArgs,
    /// The SpecGR methods to tune.
    #[arg(long, value_delimiter = ',', default_value = "specgr-knn,specgr-aux,specgr-pp")]
    pub methods: Vec<MethodId>,
    /// The γ values tried. The paper's grid is −1.1 … −1.8; the default is coarser and
    /// reaches much lower, since small, briefly trained verifiers give lower
    /// likelihoods (on Beauty the best γ for SpecGR_Aux was −7, on the synthetic data
    /// −3 or below). Ties go to the first value listed.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true, default_value = "-1.2,-1.5,-1.8,-2.2,-2.6,-3,-4,-5,-6,-8", value_parser = crate::cmd::args::finite_f32)]
    pub gammas: Vec<f32>,
    /// The metric maximised, on the overall subset of valid.
    #[arg(long, value_enum, default_value = "ndcg@50")]
    pub metric: Metric,
    /// Tune on a uniform random sample of this many validation examples (drawn with
    /// `--seed`, after `--limit`); 0 uses them all.
    #[arg(long, default_value_t = 1000)]
    pub sample: usize,
    /// The seed of `--sample`.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Use only the first N validation examples.
    #[arg(long, value_parser = crate::cmd::args::positive)]
    pub limit: Option<usize>,
    /// K, δ, β, the SpecGR variant and the batch size, as `specgr eval` will use them.
    #[command(flatten)]
    pub spec: SpecGrArgs,
    /// Precision of TIGER's linear maps and attention products while tuning, as `specgr
    /// eval --matmul`: `bf16` is 1.3-2x faster with `--device tch` on a CPU with
    /// AVX512-BF16 and ranks the same lists to within rounding, so the stored γ serves
    /// evaluations in either precision (its reports are kept apart) [default: f32].
    #[arg(long)]
    pub matmul: Option<gr_model::MatmulPrecision>,
}

impl TuneArgs {
    /// The `specgr eval` settings of one γ (`None`: as `specgr eval` would resolve it).
    fn eval_args(&self, threshold: Option<f32>) -> EvalArgs {
        EvalArgs {
            run: self.run.clone(),
            methods: self.methods.clone(),
            part: "valid".into(),
            limit: self.limit,
            spec: self.spec.clone(),
            threshold,
            method_threshold: Vec::new(),
            method_draft_size: Vec::new(),
            method_beam_size: Vec::new(),
            tiger_beams: TigerBeams::All,
            subset_size: None,
            score_chunk: 1000,
            ensemble_weight: 0.5,
            popularity_days: None,
            drafter_popularity_prior: None,
            epsilon: 0.1,
            repeat: 1,
            matmul: self.matmul,
            sample: (self.sample > 0).then_some(self.sample),
            seed: self.seed,
            report: None,
            checkpoint_every: crate::cmd::eval::checkpoint::DEFAULT_EXAMPLES,
            json: false,
            overlap: false,
            reuse_finished: false,
            allow_unfinished: false,
            tiger_checkpoint: None,
        }
    }
}

/// Runs `specgr tune`.
pub fn run(args: TuneArgs) -> anyhow::Result<()> {
    crate::with_backend!(args.run.device, |B, device| run_on::<B>(args, &device))
}

fn run_on<B: Backend>(args: TuneArgs, device: &B::Device) -> anyhow::Result<()> {
    anyhow::ensure!(!args.gammas.is_empty(), "--gammas needs at least one value");
    anyhow::ensure!(!args.methods.is_empty(), "--methods needs at least one SpecGR method");
    if let Some(m) = args.methods.iter().find(|m| !m.has_threshold()) {
        anyhow::bail!("--methods {m}: it has no γ to tune; only {} do", MethodId::ids_text(MethodId::has_threshold));
    }
    let cut = args.metric.cut_off();
    anyhow::ensure!(cut <= args.spec.k, "--metric {} needs lists of at least {cut} items; --k is {}", args.metric.key(), args.spec.k);
    let eval = args.eval_args(None);
    let p = Prepared::new(&eval)?;
    anyhow::ensure!(
        p.ks.contains(&cut),
        "--metric {}: this dataset's protocol reports no @{cut} (cut-offs {:?})",
        args.metric.key(),
        p.ks
    );
    let dir = p.tune_dir(&eval);
    let _lock = crate::cmd::lock_run_dir(&dir)?;
    let resources = p.load::<B>(&eval, &args.methods, device)?;
    let requests = crate::cmd::eval::requests(&p.examples, None);
    println!(
        "tuning γ of {} on {} validation examples of `{}` ({} overall), γ in {:?}",
        args.methods.iter().map(|m| m.name()).collect::<Vec<_>>().join(", "),
        p.examples.len(),
        p.resolved.dataset.name,
        args.metric.key(),
        args.gammas
    );
    let mut rows = Vec::new();
    for &g in &args.gammas {
        let eval_g = args.eval_args(Some(g));
        let gammas = Gammas::resolve(&eval_g, &dir)?;
        let gamma_dir = dir.join(format!("gamma={g}"));
        let settings = settings_json(&eval_g, &p.resolved.dataset.name, &gammas, &resources.inputs);
        // A γ an earlier, stopped run of the same tuning finished is not run again.
        if let Some(report) = finished_report(&gamma_dir, &settings, eval_g.seed, &args.methods) {
            let scores = scores_of(&report, &args.methods, args.metric);
            let line: Vec<String> = args.methods.iter().map(|m| format!("{} {:.4}", m.name(), scores[m.id()])).collect();
            println!("γ = {g}: {} {} (kept from an earlier run: {})", args.metric.key(), line.join(", "), gamma_dir.display());
            rows.push(TuneRow { gamma: g, scores });
            continue;
        }
        let mut results = Vec::new();
        for &m in &args.methods {
            let method = methods::build(m, &resources, &eval_g, g)?;
            let (out, seconds) = p.run(method.as_ref(), &requests, &format!("{} γ = {g}", m.name()))?;
            results.push(MethodResult {
                method: m,
                name: m.name(),
                metrics: p.score(&out.lists),
                seconds,
                seconds_all: vec![seconds],
                unseen_share_of_output: p.unseen_share(&out.lists),
                stats: out.stats,
                resumed_examples: 0,
            });
        }
        let info = RunInfo { args: &eval_g, dataset: &p.resolved.dataset.name, examples: p.examples.len(), gammas: &gammas, inputs: &resources.inputs, overlaps: &[] };
        let report = crate::cmd::eval::output::report(&info, &results);
        report.write(&gamma_dir)?;
        let scores = scores_of(&report, &args.methods, args.metric);
        let line: Vec<String> = args.methods.iter().map(|m| format!("{} {:.4}", m.name(), scores[m.id()])).collect();
        println!("γ = {g}: {} {}", args.metric.key(), line.join(", "));
        rows.push(TuneRow { gamma: g, scores });
    }
    let tuned = Tuned {
        gammas: choose(&args.methods, &rows),
        metric: args.metric.key().into(),
        part: "valid".into(),
        examples: p.examples.len(),
        settings: TuneSettings::of(&eval),
        rows,
    };
    tuned.write(&dir)?;
    recdata::fsio::write_atomic(&dir.join("tune.md"), table(&tuned, &args.methods).as_bytes())?;
    println!("chose {}; stored in {}", chosen_text(&tuned, &args.methods), dir.join(crate::cmd::eval::gamma::TUNED_FILE).display());
    Ok(())
}

/// Each method's overall `metric` in `report` (NaN where it has none).
fn scores_of(report: &crate::report::Report, methods: &[MethodId], metric: Metric) -> BTreeMap<String, f64> {
    methods.iter().map(|m| (m.id().to_owned(), report.row(m.id(), "overall").map_or(f64::NAN, |r| metric.of(r)))).collect()
}

/// Per method, the γ of its best score: the first γ listed among equals, and never a
/// NaN score unless every score is NaN.
fn choose(methods: &[MethodId], rows: &[TuneRow]) -> BTreeMap<String, f32> {
    let mut best: BTreeMap<String, f32> = BTreeMap::new();
    for m in methods {
        let mut top: Option<(f64, f32)> = None;
        for row in rows {
            let v = row.scores.get(m.id()).copied().unwrap_or(f64::NAN);
            if top.is_none_or(|(b, _)| v > b || b.is_nan() && !v.is_nan()) {
                top = Some((v, row.gamma));
            }
        }
        if let Some((_, g)) = top {
            best.insert(m.id().to_owned(), g);
        }
    }
    best
}

/// `specgr-knn=-2.2, specgr-aux=-5`: what `--method-threshold` would take.
fn chosen_text(tuned: &Tuned, methods: &[MethodId]) -> String {
    methods
        .iter()
        .filter_map(|m| tuned.gammas.get(m.id()).map(|g| format!("{}={g}", m.id())))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The grid as a Markdown table, with the choice under it.
fn table(tuned: &Tuned, methods: &[MethodId]) -> String {
    let mut s = format!("# γ tuned on valid (overall {})\n\n| γ |", tuned.metric.replace("ndcg", "NDCG").replace("recall", "Recall"));
    for m in methods {
        let _ = write!(s, " {} |", m.name());
    }
    let _ = write!(s, "\n|---:|{}\n", "---:|".repeat(methods.len()));
    for row in &tuned.rows {
        let _ = write!(s, "| {} |", row.gamma);
        for m in methods {
            let _ = write!(s, " {:.4} |", row.scores.get(m.id()).copied().unwrap_or(f64::NAN));
        }
        s += "\n";
    }
    let _ = writeln!(s, "\nChosen: {}.", chosen_text(tuned, methods));
    let _ = writeln!(s, "\n{} validation examples; one report per γ in `gamma=<γ>/` beside this file.", tuned.examples);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(gamma: f32, knn: f64, aux: f64) -> TuneRow {
        TuneRow { gamma, scores: [("specgr-knn".to_owned(), knn), ("specgr-aux".to_owned(), aux)].into() }
    }

    /// The argmax per method, the first γ among equals, NaN never preferred.
    #[test]
    fn each_method_keeps_the_gamma_of_its_best_score() {
        let methods = [MethodId::SpecgrKnn, MethodId::SpecgrAux];
        let rows = [row(-1.2, 0.09, f64::NAN), row(-2.2, 0.10, 0.15), row(-3.0, 0.10, 0.18), row(-4.0, 0.08, 0.18)];
        let chosen = choose(&methods, &rows);
        assert_eq!(chosen["specgr-knn"], -2.2, "ties go to the first");
        assert_eq!(chosen["specgr-aux"], -3.0, "NaN is not a best score");
    }
}
