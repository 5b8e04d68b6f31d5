//! `specgr plot sweep`: a PNG figure from a sweep directory, like the paper's Figure 3.
//!
//! `cargo xtask sweep` writes one report per value of the swept setting, as
//! `<dir>/<setting>=<value>/results.json`. The figure has two panels: on the left the
//! chosen metric against the setting, one line per method × subset (in-sample and
//! unseen by default); on the right the seconds per query, one line per method. The
//! right panel alone is Figure A2 (subset-ranking latency against subset size) when
//! the sweep is over the subset size. With `--speedup-over <method>` the right panel
//! shows instead how many times faster than that method each other method is (that
//! method's seconds per query over theirs): Figure A1's acceleration factor, when the
//! sweep is over `ids` (semantic IDs of different lengths, drawn against their number
//! of digits).
//!
//! Text is drawn with DejaVu Sans, embedded from the `dejavu` crate through plotters'
//! `ab_glyph` feature, so plotting needs no system fonts or fontconfig. The picture is
//! rendered into memory, encoded with `png`, and written atomically.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use plotters::prelude::*;

use recdata::fsio::write_atomic;

use crate::cmd::chart::{COLORS, Line, Panel, encode_png, register_font};
use crate::report::ResultRow;

/// Width of the figure in pixels (two panels side by side).
pub const WIDTH: u32 = 1400;
/// Height of the figure in pixels.
pub const HEIGHT: u32 = 520;

/// `specgr plot` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum PlotCommand {
    /// A sweep directory (`<setting>=<value>/results.json`, written by `cargo xtask sweep`):
    /// the metric and the seconds per query against the setting.
    Sweep(SweepArgs),
    /// TIGER learning curves: validation Recall and NDCG against training examples
    /// seen, one line per run directory (read from `<run>/last/state.json`).
    Curve(crate::cmd::curve::CurveArgs),
}

/// `specgr plot sweep` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct SweepArgs {
    /// The sweep directory, holding one `<setting>=<value>/` per value.
    pub dir: PathBuf,
    /// The metric on the left panel.
    #[arg(long, value_enum, default_value = "recall@50")]
    pub metric: Metric,
    /// The subsets to draw on the left panel, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "in-sample,unseen")]
    pub subsets: Vec<String>,
    /// Space the values evenly (labelled with the values) instead of on a numeric axis;
    /// always so when some value is not a number.
    #[arg(long)]
    pub evenly: bool,
    /// The PNG to write; defaults to `<DIR>/plot-<metric>.png`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Draw, on the right, the acceleration over this method (its id, e.g. `tiger`, or
    /// its name in the reports, `TIGER`): its seconds per query divided by each other
    /// method's.
    #[arg(long)]
    pub speedup_over: Option<String>,
}

/// A ranking metric of `results.json` (what `plot sweep` draws and `tune` maximises).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Metric {
    /// Recall@10.
    #[value(name = "recall@10")]
    Recall10,
    /// NDCG@10.
    #[value(name = "ndcg@10")]
    Ndcg10,
    /// Recall@50.
    #[value(name = "recall@50")]
    Recall50,
    /// NDCG@50.
    #[value(name = "ndcg@50")]
    Ndcg50,
}

impl Metric {
    /// The field name in `results.json` (also the name on the command line).
    pub fn key(self) -> &'static str {
        match self {
            Metric::Recall10 => "recall@10",
            Metric::Ndcg10 => "ndcg@10",
            Metric::Recall50 => "recall@50",
            Metric::Ndcg50 => "ndcg@50",
        }
    }

    /// Its cut-off: 10 or 50.
    pub fn cut_off(self) -> usize {
        match self {
            Metric::Recall10 | Metric::Ndcg10 => 10,
            Metric::Recall50 | Metric::Ndcg50 => 50,
        }
    }

    /// The metric's value in a row (NaN where it was not computed).
    pub fn of(self, row: &ResultRow) -> f64 {
        match self {
            Metric::Recall10 => row.recall_10,
            Metric::Ndcg10 => row.ndcg_10,
            Metric::Recall50 => row.recall_50,
            Metric::Ndcg50 => row.ndcg_50,
        }
    }
}

/// One row of a `results.json`, as far as plotting needs it; missing (`null`) numbers are NaN.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The method's name.
    pub method: String,
    /// The method's id (`specgr eval`'s reports since methods have ids).
    pub id: Option<String>,
    /// `overall`, `in-sample` or `unseen`.
    pub subset: String,
    /// The chosen metric.
    pub metric: f64,
    /// Wall seconds per query.
    pub seconds_per_query: f64,
}

impl Row {
    /// Whether the row is of `method`: its id or its name, or (for reports written
    /// before methods had ids) the same method under its old name (`Tiger`).
    pub fn is(&self, method: &str) -> bool {
        use crate::cmd::eval::MethodId;
        self.method == method
            || self.id.as_deref() == Some(method)
            || MethodId::parse(method).is_some_and(|m| MethodId::parse(&self.method) == Some(m))
    }
}

/// One value of the swept setting and its report.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The value as the directory name spells it.
    pub label: String,
    /// The value as a number, when it is one.
    pub value: Option<f64>,
    /// The report's rows.
    pub rows: Vec<Row>,
}

/// A sweep directory, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    /// The swept setting (the part of the directory names before `=`).
    pub setting: String,
    /// One point per value, sorted by numeric value (by name when some value is not a number).
    pub points: Vec<Point>,
}

/// Runs `specgr plot`.
pub fn run(command: PlotCommand) -> anyhow::Result<()> {
    match command {
        PlotCommand::Sweep(args) => {
            let out = plot_sweep(&args)?;
            println!("{}", out.display());
            Ok(())
        }
        PlotCommand::Curve(args) => crate::cmd::curve::run(&args),
    }
}

/// Reads the sweep in `args.dir`, draws it, and writes the PNG; returns where it went.
pub fn plot_sweep(args: &SweepArgs) -> anyhow::Result<PathBuf> {
    let sweep = read_sweep(&args.dir, args.metric)?;
    // The baseline as the reports name it (`--speedup-over tiger` finds `TIGER`).
    let base = match &args.speedup_over {
        None => None,
        Some(base) => match sweep.points.iter().flat_map(|p| &p.rows).find(|r| r.is(base)) {
            Some(row) => Some(row.method.clone()),
            None => bail!("--speedup-over {base}: no method of that name in the reports under {}", args.dir.display()),
        },
    };
    let png = render_sweep(&sweep, args.metric, &args.subsets, args.evenly, base.as_deref())?;
    let out = args.out.clone().unwrap_or_else(|| args.dir.join(format!("plot-{}.png", args.metric.key())));
    write_atomic(&out, &png)?;
    Ok(out)
}

/// Reads every `<setting>=<value>/results.json` under `dir`.
///
/// Other entries (`tune/`, `results.md`, earlier plots) are ignored. It is an error
/// when there is no such subdirectory, when the subdirectories name different
/// settings, or when a `results.json` is missing or malformed.
pub fn read_sweep(dir: &Path, metric: Metric) -> anyhow::Result<Sweep> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading sweep directory {}", dir.display()))?;
    let mut setting: Option<String> = None;
    let mut points = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("reading sweep directory {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((s, v)) = name.split_once('=') else { continue };
        if s.is_empty() || v.is_empty() || !entry.path().is_dir() {
            continue;
        }
        match &setting {
            None => setting = Some(s.to_owned()),
            Some(prev) if prev != s => {
                bail!("{} mixes sweeps over `{prev}` and `{s}`; plot one setting at a time", dir.display())
            }
            Some(_) => {}
        }
        let rows = read_rows(&entry.path().join("results.json"), metric)?;
        points.push(Point { label: v.to_owned(), value: v.parse::<f64>().ok().filter(|x| x.is_finite()), rows });
    }
    let Some(setting) = setting else {
        bail!("{} has no `<setting>=<value>/` subdirectories (as `cargo xtask sweep` writes)", dir.display())
    };
    if setting == "ids" {
        place_ids_by_digits(&mut points);
    }
    if points.iter().all(|p| p.value.is_some()) {
        points.sort_by(|a, b| a.value.partial_cmp(&b.value).expect("finite values"));
    } else {
        points.sort_by(|a, b| a.label.cmp(&b.label));
    }
    Ok(Sweep { setting, points })
}

/// Places a sweep over `ids` by the number of digits (code levels plus the
/// identification digit) when every value is one method at different lengths
/// (`rqkmeans-l2`, `rqkmeans`, ...); a sweep across methods (`rqvae`, `hkmeans`) keeps
/// its labelled, evenly spaced values.
fn place_ids_by_digits(points: &mut [Point]) {
    let ids: Option<Vec<crate::cmd::IdsName>> = points.iter().map(|p| p.label.parse().ok()).collect();
    let Some(ids) = ids else { return };
    let one_method = ids.windows(2).all(|w| w[0].method == w[1].method);
    let mut digits: Vec<usize> = ids.iter().map(|i| i.levels() + 1).collect();
    digits.sort_unstable();
    let distinct = digits.windows(2).all(|w| w[0] != w[1]);
    if one_method && distinct {
        for (p, i) in points.iter_mut().zip(&ids) {
            p.value = Some((i.levels() + 1) as f64);
        }
    }
}

/// Reads the rows of one `results.json` through [`ResultRow`], the type that writes
/// them, with errors that name the file.
fn read_rows(path: &Path, metric: Metric) -> anyhow::Result<Vec<Row>> {
    /// A report as far as plotting reads it: its rows.
    #[derive(serde::Deserialize)]
    struct Rows {
        rows: Vec<ResultRow>,
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let report: Rows = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a report that `specgr eval --report` wrote", path.display()))?;
    Ok(report
        .rows
        .into_iter()
        .map(|r| Row {
            metric: metric.of(&r),
            method: r.method,
            id: r.id,
            subset: r.subset,
            seconds_per_query: r.seconds_per_query,
        })
        .collect())
}

/// Draws the sweep as a `WIDTH` × `HEIGHT` PNG and returns its bytes.
pub fn render_sweep(
    sweep: &Sweep,
    metric: Metric,
    subsets: &[String],
    evenly: bool,
    speedup_over: Option<&str>,
) -> anyhow::Result<Vec<u8>> {
    register_font()?;
    let numeric = !evenly && sweep.points.iter().all(|p| p.value.is_some());
    // Evenly spaced values sit at 0, 1, 2, ... and the tick labels give the values.
    let xs: Vec<f64> =
        sweep.points.iter().enumerate().map(|(i, p)| if numeric { p.value.expect("numeric") } else { i as f64 }).collect();
    let mut methods: Vec<&str> = Vec::new();
    for r in sweep.points.iter().flat_map(|p| &p.rows) {
        if !methods.contains(&r.method.as_str()) {
            methods.push(&r.method);
        }
    }
    let mut metric_lines = Vec::new();
    let mut time_lines = Vec::new();
    for (mi, m) in methods.iter().enumerate() {
        for (si, s) in subsets.iter().enumerate() {
            let points = series(sweep, &xs, |r| (r.method == *m && r.subset == *s).then_some(r.metric));
            let color = COLORS[(mi * subsets.len() + si) % COLORS.len()];
            metric_lines.push(Line { label: format!("{m}, {s}"), color, points });
        }
        // Seconds per query is the same on every subset row of a method: take the first.
        let color = COLORS[(mi * subsets.len()) % COLORS.len()];
        let points = match speedup_over {
            None => series(sweep, &xs, |r| (r.method == *m).then_some(r.seconds_per_query)),
            Some(base) if base == *m => continue,
            Some(base) => speedups(sweep, &xs, base, m),
        };
        time_lines.push(Line { label: (*m).to_owned(), color, points });
    }
    let x_desc = match (sweep.setting.as_str(), numeric) {
        ("ids", true) => "semantic ID digits".to_owned(),
        _ => sweep.setting.clone(),
    };

    let mut buf = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        let (left, right) = root.split_horizontally(WIDTH / 2);
        let x_label = |x: &f64| -> String {
            if numeric {
                format!("{}", (x * 1e6).round() / 1e6)
            } else {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 { sweep.points.get(i as usize).map_or(String::new(), |p| p.label.clone()) } else { String::new() }
            }
        };
        let panel = Panel { xs: &xs, numeric, setting: &x_desc, x_label: &x_label };
        panel.draw(&left, &format!("{} against {x_desc}", metric.key()), metric.key(), &metric_lines, false)?;
        match speedup_over {
            None => panel.draw(&right, &format!("seconds per query against {x_desc}"), "seconds per query", &time_lines, true)?,
            Some(base) => panel.draw(
                &right,
                &format!("acceleration over {base} against {x_desc}"),
                &format!("{base} time / method time"),
                &time_lines,
                true,
            )?,
        }
        root.present()?;
    }
    encode_png(&buf, WIDTH, HEIGHT)
}

/// The points of one line: the first row that `pick` accepts at each value, if finite.
fn series(sweep: &Sweep, xs: &[f64], pick: impl Fn(&Row) -> Option<f64>) -> Vec<(f64, f64)> {
    sweep
        .points
        .iter()
        .zip(xs)
        .filter_map(|(p, &x)| p.rows.iter().find_map(&pick).filter(|y| y.is_finite()).map(|y| (x, y)))
        .collect()
}

/// `base`'s seconds per query over `method`'s at each value where both ran.
fn speedups(sweep: &Sweep, xs: &[f64], base: &str, method: &str) -> Vec<(f64, f64)> {
    let time = |p: &Point, m: &str| p.rows.iter().find(|r| r.method == m).map(|r| r.seconds_per_query);
    sweep
        .points
        .iter()
        .zip(xs)
        .filter_map(|(p, &x)| Some((x, time(p, base)? / time(p, method)?)))
        .filter(|(_, y)| y.is_finite())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acceleration_is_the_baseline_time_over_the_method_time_where_both_ran() {
        let row = |method: &str, s: f64| Row { method: method.into(), id: None, subset: "overall".into(), metric: 0.1, seconds_per_query: s };
        let point = |rows| Point { label: String::new(), value: None, rows };
        let sweep = Sweep {
            setting: "ids".into(),
            points: vec![
                point(vec![row("Tiger", 0.4), row("SpecGR", 0.1)]),
                point(vec![row("SpecGR", 0.1)]),
                point(vec![row("Tiger", 0.3), row("SpecGR", 0.6)]),
            ],
        };
        assert_eq!(speedups(&sweep, &[3.0, 4.0, 6.0], "Tiger", "SpecGR"), vec![(3.0, 4.0), (6.0, 0.5)]);
    }

}
