//! `specgr tiger plot-loss`: loss curves of training runs (ours and Hugging Face T5's) as
//! a PNG, with each curve's difference to the first.

use std::path::{Path, PathBuf};

use anyhow::Context;
use plotters::prelude::*;

use crate::cmd::chart::{COLORS, encode_png, register_font};

/// `specgr tiger plot-loss` arguments.
#[derive(Debug, clap::Args)]
pub struct PlotLossArgs {
    /// `LABEL=FILE`: a CSV with `samples` and `loss` columns; repeat for several.
    #[arg(long = "csv", required = true, value_parser = label_file)]
    pub csvs: Vec<(String, PathBuf)>,
    /// Mean over windows of this many steps (1: every step).
    #[arg(long, default_value_t = 1, value_parser = crate::cmd::args::positive)]
    pub window: usize,
    /// The title.
    #[arg(long, default_value = "training loss")]
    pub title: String,
    /// The PNG to write.
    #[arg(long)]
    pub out: PathBuf,
}

fn label_file(s: &str) -> Result<(String, PathBuf), String> {
    let (label, file) = s.split_once('=').ok_or_else(|| format!("`{s}`: expected LABEL=FILE"))?;
    Ok((label.to_owned(), PathBuf::from(file)))
}

/// `(samples, loss)` of every row of a loss CSV.
fn read_loss_csv(path: &Path) -> anyhow::Result<Vec<(f64, f64)>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.trim() == name)
            .with_context(|| format!("{}: no `{name}` column in {header:?}", path.display()))
    };
    let (s, l) = (col("samples")?, col("loss")?);
    lines
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let num = |i: usize| -> anyhow::Result<f64> {
                f.get(i)
                    .and_then(|v| v.trim().parse().ok())
                    .with_context(|| format!("{}: bad row `{line}`", path.display()))
            };
            Ok((num(s)?, num(l)?))
        })
        .collect()
}

/// Means over consecutive windows of `window` points (x: the window's last).
fn windowed(points: &[(f64, f64)], window: usize) -> Vec<(f64, f64)> {
    points
        .chunks(window.max(1))
        .map(|c| (c[c.len() - 1].0, c.iter().map(|p| p.1).sum::<f64>() / c.len() as f64))
        .collect()
}

/// Runs `specgr tiger plot-loss`.
pub(super) fn run(args: &PlotLossArgs) -> anyhow::Result<()> {
    const WIDTH: u32 = 1400;
    const HEIGHT: u32 = 600;
    let series: Vec<(String, Vec<(f64, f64)>)> = args
        .csvs
        .iter()
        .map(|(label, path)| Ok((label.clone(), windowed(&read_loss_csv(path)?, args.window))))
        .collect::<anyhow::Result<_>>()?;
    anyhow::ensure!(series.iter().all(|(_, p)| !p.is_empty()), "a loss CSV has no rows");
    register_font()?;
    let range = |v: &mut dyn Iterator<Item = f64>| {
        let (lo, hi) = v.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
        let pad = ((hi - lo) * 0.05).max(1e-6);
        (lo - pad)..(hi + pad)
    };
    let xs = range(&mut series.iter().flat_map(|(_, p)| p.iter().map(|q| q.0)));
    let ys = range(&mut series.iter().flat_map(|(_, p)| p.iter().map(|q| q.1)));
    // Right panel: each series minus the first, at the x values they share.
    let base: std::collections::BTreeMap<u64, f64> = series[0].1.iter().map(|&(x, y)| (x as u64, y)).collect();
    let diffs: Vec<(String, Vec<(f64, f64)>)> = series[1..]
        .iter()
        .map(|(label, p)| {
            let d = p.iter().filter_map(|&(x, y)| base.get(&(x as u64)).map(|b| (x, y - b))).collect();
            (format!("{label} - {}", series[0].0), d)
        })
        .collect();
    let mut buf = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        let (left, right) = root.split_horizontally(WIDTH * 3 / 5);
        let smoothing = if args.window > 1 { format!(", mean of {} steps", args.window) } else { String::new() };
        let mut chart = ChartBuilder::on(&left)
            .caption(format!("{}{smoothing}", args.title), ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(xs.clone(), ys)?;
        chart
            .configure_mesh()
            .light_line_style(RGBColor(238, 238, 238))
            .x_desc("training samples seen")
            .y_desc("loss (mean token cross-entropy)")
            .y_label_formatter(&|y| format!("{y:.2}"))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .draw()?;
        for (i, (label, points)) in series.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            chart
                .draw_series(LineSeries::new(points.iter().copied(), color.stroke_width(2)))?
                .label(label.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 15))
            .draw()?;
        if !diffs.is_empty() {
            let dy = range(&mut diffs.iter().flat_map(|(_, p)| p.iter().map(|q| q.1)).chain([0.0]));
            let mut chart = ChartBuilder::on(&right)
                .caption("difference", ("sans-serif", 20))
                .margin(12)
                .x_label_area_size(45)
                .y_label_area_size(70)
                .build_cartesian_2d(xs, dy)?;
            chart
                .configure_mesh()
                .light_line_style(RGBColor(238, 238, 238))
                .x_desc("training samples seen")
                .y_desc("loss difference")
                .y_label_formatter(&|y| format!("{y:.3}"))
                .x_label_formatter(&|x| format!("{x:.0}"))
                .draw()?;
            for (i, (label, points)) in diffs.iter().enumerate() {
                let color = COLORS[(i + 1) % COLORS.len()];
                chart
                    .draw_series(LineSeries::new(points.iter().copied(), color.stroke_width(2)))?
                    .label(label.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
            }
            let (x_range, y_range) = (chart.x_range(), chart.y_range());
            chart
                .configure_series_labels()
                .position(emptiest_corner(diffs.iter().flat_map(|(_, p)| p.iter().copied()), x_range, y_range))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .label_font(("sans-serif", 15))
                .draw()?;
        }
        root.present()?;
    }
    recdata::fsio::write_atomic(&args.out, &encode_png(&buf, WIDTH, HEIGHT)?)?;
    println!("wrote {}", args.out.display());
    Ok(())
}

/// The corner of a panel with the fewest points, for its legend.
fn emptiest_corner(
    points: impl Iterator<Item = (f64, f64)>,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
) -> SeriesLabelPosition {
    let mut counts = [0usize; 4]; // upper left, upper right, lower left, lower right
    for (px, py) in points {
        let right = px > (x.start + x.end) / 2.0;
        let lower = py < (y.start + y.end) / 2.0;
        counts[2 * usize::from(lower) + usize::from(right)] += 1;
    }
    match (0..4).min_by_key(|&i| counts[i]).unwrap_or(1) {
        0 => SeriesLabelPosition::UpperLeft,
        1 => SeriesLabelPosition::UpperRight,
        2 => SeriesLabelPosition::LowerLeft,
        _ => SeriesLabelPosition::LowerRight,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_average_and_keep_the_last_x() {
        let p = [(1.0, 2.0), (2.0, 4.0), (3.0, 6.0)];
        assert_eq!(windowed(&p, 2), vec![(2.0, 3.0), (3.0, 6.0)]);
        assert_eq!(windowed(&p, 1), p.to_vec());
    }
}
