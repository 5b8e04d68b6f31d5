//! Chart plumbing shared by the `specgr` figures (`plot sweep`, `plot curve`, `tiger
//! plot-loss`): the embedded font, the palette, a two-axis line panel with its legend
//! placed in the emptiest corner, and PNG encoding.

use anyhow::{Context, bail};
use plotters::prelude::*;

/// Registers the embedded font under the name the figure asks for, once per process.
pub(crate) fn register_font() -> anyhow::Result<()> {
    static REGISTERED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular()).is_ok()
    });
    if !ok {
        bail!("the embedded DejaVu Sans font could not be parsed");
    }
    Ok(())
}

/// Line colours (Tableau 10), one per method × subset.
pub(crate) const COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// One line of a panel.
pub(crate) struct Line {
    pub(crate) label: String,
    pub(crate) color: RGBColor,
    pub(crate) points: Vec<(f64, f64)>,
}

/// What the two panels share: the x positions and their labels.
pub(crate) struct Panel<'a> {
    pub(crate) xs: &'a [f64],
    pub(crate) numeric: bool,
    pub(crate) setting: &'a str,
    pub(crate) x_label: &'a dyn Fn(&f64) -> String,
}

impl Panel<'_> {
    /// Draws one panel; `from_zero` starts the y axis at 0 (times), otherwise it fits the data.
    pub(crate) fn draw(
        &self,
        area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
        caption: &str,
        y_desc: &str,
        lines: &[Line],
        from_zero: bool,
    ) -> anyhow::Result<()> {
        let (x0, x1) = padded(self.xs.iter().copied(), false);
        let (y0, y1) = padded(lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)), from_zero);
        let mut chart = ChartBuilder::on(area)
            .caption(caption, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        let mut mesh = chart.configure_mesh();
        mesh.light_line_style(RGBColor(238, 238, 238)).x_desc(self.setting).y_desc(y_desc).x_label_formatter(self.x_label).y_label_formatter(&|y| format!("{y:.3}"));
        if !self.numeric {
            // One tick per value: the formatter names only the integer positions.
            mesh.x_labels(self.xs.len().max(2));
        }
        mesh.draw()?;
        for line in lines {
            let color = line.color;
            chart
                .draw_series(LineSeries::new(line.points.iter().copied(), color.stroke_width(2)))?
                .label(line.label.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
            chart.draw_series(line.points.iter().map(|&p| Circle::new(p, 4, color.filled())))?;
        }
        if !lines.is_empty() {
            chart
                .configure_series_labels()
                .position(emptiest_corner(lines, (x0, x1), (y0, y1)))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .label_font(("sans-serif", 15))
                .draw()?;
        }
        Ok(())
    }
}

/// The corner of the panel with the fewest points, for the legend.
fn emptiest_corner(lines: &[Line], (x0, x1): (f64, f64), (y0, y1): (f64, f64)) -> SeriesLabelPosition {
    let mut counts = [0usize; 4]; // upper left, upper right, lower left, lower right
    for &(x, y) in lines.iter().flat_map(|l| &l.points) {
        let right = x > (x0 + x1) / 2.0;
        let lower = y < (y0 + y1) / 2.0;
        counts[2 * usize::from(lower) + usize::from(right)] += 1;
    }
    // The first minimum: upper left wins ties, as in most figures.
    let best = (0..4).min_by_key(|&i| counts[i]).unwrap_or(0);
    match best {
        0 => SeriesLabelPosition::UpperLeft,
        1 => SeriesLabelPosition::UpperRight,
        2 => SeriesLabelPosition::LowerLeft,
        _ => SeriesLabelPosition::LowerRight,
    }
}

/// The range of the values with 5% room either side (from 0 when asked); 0..1 when empty.
fn padded(values: impl Iterator<Item = f64>, from_zero: bool) -> (f64, f64) {
    let (lo, hi) = values.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if lo > hi {
        return (0.0, 1.0);
    }
    let lo = if from_zero { lo.min(0.0) } else { lo };
    let pad = if hi > lo { 0.05 * (hi - lo) } else { 0.05 * hi.abs().max(1e-3) };
    (if from_zero && lo >= 0.0 { 0.0 } else { lo - pad }, hi + pad)
}

/// Encodes an RGB buffer as an 8-bit PNG.
pub(crate) fn encode_png(rgb: &[u8], width: u32, height: u32) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().context("encoding the PNG header")?;
    writer.write_image_data(rgb).context("encoding the PNG")?;
    writer.finish().context("finishing the PNG")?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_padded_and_never_empty() {
        assert_eq!(padded(std::iter::empty(), false), (0.0, 1.0));
        let (lo, hi) = padded([1.0, 3.0].into_iter(), false);
        assert!((lo - 0.9).abs() < 1e-12 && (hi - 3.1).abs() < 1e-12);
        assert_eq!(padded([2.0, 4.0, f64::NAN].into_iter(), true).0, 0.0);
        let (lo, hi) = padded([0.5].into_iter(), false);
        assert!(lo < 0.5 && hi > 0.5);
    }
}
