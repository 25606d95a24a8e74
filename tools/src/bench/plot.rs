//! Rate–distortion plots (bpp against PSNR or MS-SSIM) as SVG and PNG, drawn with plotters.
//!
//! Text is laid out (and, for PNG, rasterised) by ab_glyph from a TrueType font found at run
//! time: `LIC_FONT`, else common system locations such as Debian's fonts-dejavu-core. Without
//! one no plot is drawn and the caller says how to get one; the tables do not need it.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

/// One labelled curve.
pub struct Curve {
    /// Legend label.
    pub name: String,
    /// (bpp, quality) points, sorted by rate.
    pub points: Vec<(f64, f64)>,
    /// Published data rather than a measurement of this run: drawn thinner, without markers.
    pub reference: bool,
}

const SIZE: (u32, u32) = (1000, 700);
/// Tableau 10: distinct at a glance, and readable on white (unlike pure yellows).
const COLORS: [RGBColor; 10] = [
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
/// Rates beyond this are cut from the plot: the interesting range of image codecs.
const MAX_BPP: f64 = 3.0;
const FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
    "C:\\Windows\\Fonts\\arial.ttf",
];

/// Registers a sans-serif font for bitmap text, once; false when none could be found.
fn font_ready() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| {
        let env = std::env::var_os("LIC_FONT").map(PathBuf::from);
        env.into_iter().chain(FONT_PATHS.iter().map(PathBuf::from)).any(|p| {
            std::fs::read(&p).ok().is_some_and(|bytes| {
                // plotters keeps fonts for the life of the process; one leak per process.
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok()
            })
        })
    })
}

/// Whether plots can be drawn here (a usable TrueType font was found).
pub fn available() -> bool {
    font_ready()
}

/// Writes `{stem}.svg` and `{stem}.png`; returns the files written (none without a font or
/// without points).
pub fn rd_plot(stem: &Path, title: &str, y_label: &str, curves: &[Curve]) -> Result<Vec<PathBuf>, String> {
    let curves: Vec<&Curve> = curves.iter().filter(|c| !c.points.is_empty()).collect();
    if curves.is_empty() || !font_ready() {
        return Ok(Vec::new());
    }
    let svg = stem.with_extension("svg");
    draw(SVGBackend::new(&svg, SIZE).into_drawing_area(), title, y_label, &curves)?;
    let png = stem.with_extension("png");
    let mut buf = vec![255u8; (SIZE.0 * SIZE.1 * 3) as usize];
    draw(BitMapBackend::with_buffer(&mut buf, SIZE).into_drawing_area(), title, y_label, &curves)?;
    let img = image::RgbImage::from_raw(SIZE.0, SIZE.1, buf).ok_or("plot buffer has the wrong size")?;
    img.save(&png).map_err(|e| format!("cannot write {}: {e}", png.display()))?;
    Ok(vec![svg, png])
}

/// The axis ranges: x from 0 to just past the measured curves' largest rate (reference
/// curves are cut there), y over every point in that range, with a margin.
fn ranges(curves: &[&Curve]) -> (f64, (f64, f64)) {
    let measured = curves.iter().filter(|c| !c.reference);
    let x_max = measured
        .flat_map(|c| c.points.iter().map(|p| p.0))
        .chain(curves.iter().filter(|c| c.reference).flat_map(|c| c.points.first().map(|p| p.0)))
        .fold(0.0f64, f64::max)
        .min(MAX_BPP)
        * 1.05;
    let x_max = if x_max > 0.0 { x_max } else { 1.0 };
    let ys = curves.iter().flat_map(|c| c.points.iter().filter(|p| p.0 <= x_max).map(|p| p.1));
    let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| (lo.min(y), hi.max(y)));
    let (lo, hi) = if lo.is_finite() && hi > lo { (lo, hi) } else { (0.0, 1.0) };
    let pad = (hi - lo) * 0.05;
    (x_max, (lo - pad, hi + pad))
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    y_label: &str,
    curves: &[&Curve],
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("plot: {e}");
    root.fill(&WHITE).map_err(err)?;
    let (x_max, (y_lo, y_hi)) = ranges(curves);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 28))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..x_max, y_lo..y_hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("bits per pixel")
        .y_desc(y_label)
        .label_style(("sans-serif", 18))
        .axis_desc_style(("sans-serif", 20))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(err)?;
    for (i, c) in curves.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let width = if c.reference {
            1
        } else if c.name == "lic" {
            3
        } else {
            2
        };
        let pts: Vec<(f64, f64)> = c.points.iter().copied().filter(|p| p.0 <= x_max).collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(width)))
            .map_err(err)?
            .label(c.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        if !c.reference {
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled()))).map_err(err)?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 18))
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}
