//! `cargo xtask sweep`: one experiment file (`experiments/*.toml`), with its optional
//! tuning step on valid, then its runs of `specgr eval`. Each run passes
//! `--reuse-finished` (unless `--rerun`): a point an earlier run of the sweep finished
//! with the same settings is read back from its report, so a sweep resumes after a kill
//! at its first unfinished point (and `specgr eval --report` resumes that point itself).

use std::path::Path;

use anyhow::Result;

pub(crate) fn sweep(path: &Path, out: &Path, dataset: Option<String>, data_root: Option<&Path>, rerun: bool) -> Result<()> {
    use crate::experiment::{Experiment, Value, read_metric};
    let mut e = Experiment::read(path)?;
    if let Some(d) = dataset {
        e.dataset = d;
    }
    let dir = out.join(&e.dataset).join(&e.name);
    let specgr = crate::specgr::Specgr::build(None, data_root)?;
    let run = |settings: &std::collections::BTreeMap<String, Value>, report: &Path| -> Result<()> {
        let mut args = Experiment::args(&e.dataset, settings);
        args.push("--report".into());
        args.push(report.display().to_string());
        if !rerun {
            args.push("--reuse-finished".into());
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        specgr.run(&refs)
    };
    let mut base = e.eval.clone();
    println!("== {}: {} on `{}`", e.name, e.title, e.dataset);
    if let Some(t) = &e.tune {
        let mut table = format!("# Tuning `{}` for {} ({} overall)\n\n| {} | {} |\n|---:|---:|\n", t.setting, t.method, t.metric, t.setting, t.metric);
        let mut best: Option<(f64, Value)> = None;
        for v in &t.values {
            let mut s = base.clone();
            s.extend(t.eval.clone());
            s.insert(t.setting.clone(), v.clone());
            let report = dir.join("tune").join(format!("{}={v}", t.setting));
            println!("-- tune {} = {v}", t.setting);
            run(&s, &report)?;
            let m = read_metric(&report.join("results.json"), &t.method, &t.metric)?;
            table += &format!("| {v} | {m:.4} |\n");
            if best.as_ref().is_none_or(|(b, _)| m > *b) {
                best = Some((m, v.clone()));
            }
        }
        let (m, v) = best.expect("tuning has values");
        table += &format!("\nChosen: {} = {v} ({} {m:.4}).\n", t.setting, t.metric);
        recdata::fsio::write_atomic(&dir.join("tune.md"), table.as_bytes())?;
        println!("-- chose {} = {v} ({} {m:.4})", t.setting, t.metric);
        base.insert(t.setting.clone(), v);
    }
    match &e.sweep {
        None => run(&base, &dir)?,
        Some(s) => {
            let mut table = format!("# {} — sweep over `{}`\n\n| {} | method | subset | R@10 | N@10 | R@50 | N@50 | s/query |\n|---:|---|---|---:|---:|---:|---:|---:|\n", e.title, s.setting, s.setting);
            for v in &s.values {
                let mut settings = base.clone();
                settings.insert(s.setting.clone(), v.clone());
                let report = dir.join(format!("{}={v}", s.setting));
                println!("-- {} = {v}", s.setting);
                run(&settings, &report)?;
                let r = recdata::report::Report::read(&report.join("results.json"))?;
                for row in &r.rows {
                    let m = |name| row.metric(name).unwrap_or(f64::NAN);
                    table += &format!(
                        "| {v} | {} | {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} |\n",
                        row.method,
                        row.subset,
                        m("recall@10"),
                        m("ndcg@10"),
                        m("recall@50"),
                        m("ndcg@50"),
                        row.seconds_per_query,
                    );
                }
            }
            recdata::fsio::write_atomic(&dir.join("results.md"), table.as_bytes())?;
        }
    }
    println!("-- results in {}", dir.display());
    Ok(())
}
