//! Backend-independent figure descriptions and their drawing with plotters.
//! A plot module fills in a [`Figure`] from data; this module turns it into
//! pixels or SVG, the same code for both.

use plotters::coord::Shift;
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::style::{FAMILY, colour, fmt_num, viridis};

/// How a series is marked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mark {
    /// A line through the points.
    Line,
    /// A line with a dot on every point.
    LinePoints,
    /// Dots only (a scatter).
    Points,
}

/// One named series of an [`XyChart`].
#[derive(Clone, Debug)]
pub(crate) struct Series {
    /// The legend label.
    pub name: String,
    /// The palette index.
    pub colour: usize,
    /// The points; a non-finite y breaks the line.
    pub points: Vec<(f64, f64)>,
    /// A confidence band `(x, low, high)`, drawn translucent; may be empty.
    pub band: Vec<(f64, f64, f64)>,
    /// Line or line with points.
    pub mark: Mark,
}

/// A horizontal reference line (the SLO).
#[derive(Clone, Debug)]
pub(crate) struct HLine {
    /// Its y value.
    pub y: f64,
    /// The legend label.
    pub label: String,
}

/// A marked point, named in the legend (capacity at the SLO).
#[derive(Clone, Debug)]
pub(crate) struct Marker {
    /// Where.
    pub at: (f64, f64),
    /// The legend text.
    pub label: String,
    /// The palette index of the series it belongs to (ring colour).
    pub colour: usize,
}

/// A shaded x interval (warm-up, fault windows).
#[derive(Clone, Debug)]
pub(crate) struct Shade {
    /// From.
    pub from: f64,
    /// To.
    pub to: f64,
    /// The legend label.
    pub label: String,
    /// Grey for the warm-up, a palette colour for faults.
    pub colour: Option<usize>,
}

/// A line chart with optional bands, reference line, markers and shading.
#[derive(Clone, Debug, Default)]
pub(crate) struct XyChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_log: bool,
    pub y_log: bool,
    pub series: Vec<Series>,
    pub hlines: Vec<HLine>,
    pub markers: Vec<Marker>,
    pub shades: Vec<Shade>,
    /// Extra room above the data on a linear y axis, as a fraction of the
    /// data range (0 means the default, 5 %).
    pub headroom: f64,
    /// Fit the y axis to the data instead of starting it at 0 (for shares
    /// that all lie near 1, which a 0-based axis flattens).
    pub y_fit: bool,
    /// The x values are counts (workers, replicas, a capacity): a linear x
    /// axis gets ticks at whole numbers only, never at 1.5 or 2.5.
    pub x_integer: bool,
}

/// A grid of coloured cells, one per (x, y) parameter pair.
#[derive(Clone, Debug)]
pub(crate) struct Heatmap {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_values: Vec<String>,
    pub y_values: Vec<String>,
    /// `(x index, y index, value)`; a missing cell is left blank.
    pub cells: Vec<(usize, usize, f64)>,
    /// The colour bar's label, e.g. `p99 latency (ms)`.
    pub value_label: String,
}

/// Grouped bars per category, with optional CI error bars.
#[derive(Clone, Debug)]
pub(crate) struct Bars {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub categories: Vec<String>,
    pub groups: Vec<BarGroup>,
    pub hline: Option<HLine>,
}

/// One bar per category.
#[derive(Clone, Debug)]
pub(crate) struct BarGroup {
    pub name: String,
    pub colour: usize,
    pub values: Vec<f64>,
    /// `(low, high)` per category, empty without replications.
    pub ci: Vec<(f64, f64)>,
}

/// Anything this crate draws.
#[derive(Clone, Debug)]
pub(crate) enum Figure {
    /// One chart.
    Xy(XyChart),
    /// Charts stacked vertically under one title, sharing the x axis.
    Stacked { title: String, panels: Vec<XyChart> },
    /// A heatmap.
    Heatmap(Heatmap),
    /// A bar chart.
    Bars(Bars),
}

type DrawResult = Result<(), String>;

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Scales a base size in CSS pixels by `s`.
fn px(base: f64, s: f64) -> u32 {
    (base * s).round() as u32
}

/// Height of one legend row at scale 1, pixels (13 px text and its gap).
const LEGEND_ROW: f64 = 20.0;

/// The short line drawn beside a line's label in a legend.
fn legend_line(lx: i32, ly: i32, s: f64, style: ShapeStyle) -> PathElement<(i32, i32)> {
    PathElement::new(vec![(lx, ly), (lx + px(20.0, s) as i32, ly)], style)
}

/// The filled swatch drawn beside an area or bar label in a legend.
fn legend_box(lx: i32, ly: i32, s: f64, style: ShapeStyle) -> Rectangle<(i32, i32)> {
    Rectangle::new(
        [
            (lx, ly - px(6.0, s) as i32),
            (lx + px(20.0, s) as i32, ly + px(6.0, s) as i32),
        ],
        style,
    )
}

impl Figure {
    /// Draws on `root`; `s` scales fonts, strokes and margins.
    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        s: f64,
    ) -> DrawResult {
        match self {
            Figure::Xy(c) => draw_xy(root, c, s, true, None),
            Figure::Stacked { title, panels } => {
                let area = title_area(root, title, s)?;
                let n = panels.len().max(1);
                let parts = area.split_evenly((n, 1));
                // One legend width for all panels, so their x axes line up.
                let legend_w = panels
                    .iter()
                    .map(|p| legend_width(&area, p, s))
                    .max()
                    .unwrap_or(0);
                for (panel, part) in panels.iter().zip(parts.iter()) {
                    draw_xy(part, panel, s, false, Some(legend_w))?;
                }
                Ok(())
            }
            Figure::Heatmap(h) => draw_heatmap(root, h, s),
            Figure::Bars(b) => draw_bars(root, b, s),
        }
    }

    /// The number of points of each series, in order (for tests).
    #[cfg(test)]
    pub(crate) fn series_lengths(&self) -> Vec<usize> {
        match self {
            Figure::Xy(c) => c.series.iter().map(|s| s.points.len()).collect(),
            Figure::Stacked { panels, .. } => panels
                .iter()
                .flat_map(|c| c.series.iter().map(|s| s.points.len()))
                .collect(),
            Figure::Heatmap(h) => vec![h.cells.len()],
            Figure::Bars(b) => b.groups.iter().map(|g| g.values.len()).collect(),
        }
    }
}

/// Draws `title` centred in a band at the top of `root` and returns the
/// area below it. (plotters' `titled` places ab_glyph text too high.)
fn title_area<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    s: f64,
) -> Result<DrawingArea<DB, Shift>, String> {
    let (w, _) = root.dim_in_pixel();
    let (top, rest) = root.split_vertically(px(44.0, s));
    let font =
        TextStyle::from((FAMILY, 22.0 * s).into_font()).pos(Pos::new(HPos::Center, VPos::Center));
    top.draw(&Text::new(
        title.to_string(),
        ((w / 2) as i32, px(24.0, s) as i32),
        font,
    ))
    .map_err(err)?;
    Ok(rest)
}

/// The range of finite values, padded; for a log axis only positive ones.
fn axis_range(values: impl Iterator<Item = f64>, log: bool, from_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite() && (!log || *v > 0.0)) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return if log { (0.1, 10.0) } else { (0.0, 1.0) };
    }
    if log {
        if hi <= lo {
            return (lo / 2.0, hi * 2.0);
        }
        return (lo / 1.15, hi * 1.15);
    }
    if from_zero && lo >= 0.0 {
        lo = 0.0;
    }
    if hi <= lo {
        // All values equal: a from-zero axis of zeros reads 0 to 1 (no
        // negative latency or count below it).
        if from_zero && lo == 0.0 {
            return (0.0, 1.0);
        }
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        return (lo - pad, hi + pad);
    }
    let pad = (hi - lo) * 0.05;
    (
        if from_zero && lo == 0.0 {
            0.0
        } else {
            lo - pad
        },
        hi + pad,
    )
}

fn draw_xy<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    c: &XyChart,
    s: f64,
    caption: bool,
    legend_w: Option<u32>,
) -> DrawResult {
    let xs = c
        .series
        .iter()
        .flat_map(|se| se.points.iter().map(|p| p.0))
        .chain(c.markers.iter().map(|m| m.at.0));
    let x = axis_range(xs, c.x_log, false);
    let ys = c
        .series
        .iter()
        .flat_map(|se| {
            se.points
                .iter()
                .map(|p| p.1)
                .chain(se.band.iter().flat_map(|b| [b.1, b.2]))
        })
        .chain(c.hlines.iter().map(|h| h.y));
    let mut y = axis_range(ys, c.y_log, !c.y_fit);
    // A little air above the data (the legend is outside, to the right).
    let headroom = if c.headroom > 0.0 { c.headroom } else { 0.05 };
    if c.y_log {
        y.1 *= (y.1 / y.0).powf(headroom);
    } else {
        y.1 += (y.1 - y.0) * headroom;
    }
    // The title spans the whole width, above the plot and its legend.
    let titled;
    let area = if caption {
        titled = title_area(area, &c.title, s)?;
        &titled
    } else {
        area
    };
    let legend = legend_entries(c);
    let (w, _) = area.dim_in_pixel();
    let legend_w = legend_w.unwrap_or_else(|| legend_width(area, c, s));
    let (area, legend_area) = area.split_horizontally(w - legend_w);
    let area = &area;
    let mut builder = ChartBuilder::on(area);
    builder
        .margin(px(12.0, s))
        .margin_right(px(24.0, s))
        .x_label_area_size(px(if c.x_label.is_empty() { 28.0 } else { 48.0 }, s))
        .y_label_area_size(px(72.0, s));
    let drawn = match (c.x_log, c.y_log) {
        (false, false) if c.x_integer => {
            let ctx = builder
                .build_cartesian_2d(IntegerAxis::new(x), y.0..y.1)
                .map_err(err)?;
            fill_xy(ctx, c, s, x, y)
        }
        (false, true) if c.x_integer => {
            let ctx = builder
                .build_cartesian_2d(IntegerAxis::new(x), (y.0..y.1).log_scale())
                .map_err(err)?;
            fill_xy(ctx, c, s, x, y)
        }
        (false, false) => {
            let ctx = builder
                .build_cartesian_2d(x.0..x.1, y.0..y.1)
                .map_err(err)?;
            fill_xy(ctx, c, s, x, y)
        }
        (true, false) => {
            let ctx = builder
                .build_cartesian_2d((x.0..x.1).log_scale(), y.0..y.1)
                .map_err(err)?;
            fill_xy(ctx, c, s, x, y)
        }
        (false, true) => {
            let ctx = builder
                .build_cartesian_2d(x.0..x.1, (y.0..y.1).log_scale())
                .map_err(err)?;
            fill_xy(ctx, c, s, x, y)
        }
        (true, true) => {
            let ctx = builder
                .build_cartesian_2d((x.0..x.1).log_scale(), (y.0..y.1).log_scale())
                .map_err(err)?;
            fill_xy(ctx, c, s, x, y)
        }
    };
    drawn?;
    draw_legend(
        &legend_area,
        &legend,
        s,
        if caption { px(44.0, s) } else { px(12.0, s) },
    )
}

/// What a legend row shows beside its label.
#[derive(Clone, Copy, Debug)]
enum Swatch {
    /// A line in this style.
    Line(ShapeStyle),
    /// A dashed line (a reference line).
    Dashed(ShapeStyle),
    /// A filled box (a shaded window).
    Box(ShapeStyle),
    /// A ring (a marked point).
    Ring(ShapeStyle),
    /// A filled dot (a series drawn as points).
    Dot(ShapeStyle),
}

/// One legend row.
#[derive(Clone, Debug)]
struct LegendEntry {
    label: String,
    swatch: Swatch,
}

/// The legend rows of a chart, in drawing order: windows, lines,
/// reference lines, marked points.
fn legend_entries(c: &XyChart) -> Vec<LegendEntry> {
    let mut out = Vec::new();
    for shade in &c.shades {
        let fill = match shade.colour {
            Some(i) => colour(i).mix(0.18),
            None => BLACK.mix(0.10),
        };
        out.push(LegendEntry {
            label: shade.label.clone(),
            swatch: Swatch::Box(fill.filled()),
        });
    }
    for se in c
        .series
        .iter()
        .filter(|se| se.points.iter().any(|p| p.1.is_finite()))
    {
        out.push(LegendEntry {
            label: se.name.clone(),
            swatch: if se.mark == Mark::Points {
                Swatch::Dot(colour(se.colour).filled())
            } else {
                Swatch::Line(colour(se.colour).stroke_width(2))
            },
        });
    }
    for h in &c.hlines {
        out.push(LegendEntry {
            label: h.label.clone(),
            swatch: Swatch::Dashed(BLACK.mix(0.8).stroke_width(2)),
        });
    }
    for m in &c.markers {
        out.push(LegendEntry {
            label: m.label.clone(),
            swatch: Swatch::Ring(colour(m.colour).stroke_width(3)),
        });
    }
    out
}

/// Draws the legend in its own strip to the right of the plot, so it never
/// covers data, starting `top` pixels down (level with the plotting area).
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
    s: f64,
    top: u32,
) -> DrawResult {
    let font =
        TextStyle::from((FAMILY, 13.0 * s).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    let row = px(LEGEND_ROW, s) as i32;
    let x0 = px(6.0, s) as i32;
    let sw = px(22.0, s) as i32;
    for (i, e) in entries.iter().enumerate() {
        let y = top as i32 + row / 2 + i as i32 * row;
        let scale = |st: ShapeStyle| ShapeStyle {
            stroke_width: px(f64::from(st.stroke_width), s).max(1),
            ..st
        };
        match e.swatch {
            Swatch::Line(st) => area
                .draw(&PathElement::new(vec![(x0, y), (x0 + sw, y)], scale(st)))
                .map_err(err)?,
            Swatch::Dashed(st) => {
                let dash = sw / 4;
                for k in [0, 2] {
                    area.draw(&PathElement::new(
                        vec![(x0 + k * dash, y), (x0 + (k + 1) * dash + dash / 2, y)],
                        scale(st),
                    ))
                    .map_err(err)?;
                }
            }
            Swatch::Box(st) => area
                .draw(&Rectangle::new(
                    [(x0, y - row / 3), (x0 + sw, y + row / 3)],
                    st,
                ))
                .map_err(err)?,
            Swatch::Ring(st) => area
                .draw(&Circle::new((x0 + sw / 2, y), px(7.0, s), scale(st)))
                .map_err(err)?,
            Swatch::Dot(st) => area
                .draw(&Circle::new((x0 + sw / 2, y), px(4.0, s), st))
                .map_err(err)?,
        }
        area.draw(&Text::new(
            e.label.clone(),
            (x0 + sw + px(8.0, s) as i32, y),
            font.clone(),
        ))
        .map_err(err)?;
    }
    Ok(())
}

/// At most this many x tick labels.
const X_TICKS: usize = 8;

/// A linear f64 axis whose ticks are [`integer_ticks`] (a count axis).
struct IntegerAxis {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
}

impl IntegerAxis {
    fn new(range: (f64, f64)) -> IntegerAxis {
        IntegerAxis {
            inner: (range.0..range.1).into(),
            ticks: integer_ticks(range, X_TICKS),
        }
    }
}

impl Ranged for IntegerAxis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // The bold (labelled) lines at the ticks; no light lines between.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}

impl ValueFormatter<f64> for IntegerAxis {
    fn format(value: &f64) -> String {
        fmt_num(*value)
    }
}

/// Ticks at whole numbers inside `range`, at most `most` of them: every
/// multiple of the smallest step of 1, 2 or 5 times a power of ten that
/// keeps their number at most `most` (a count axis of 1 to 4 reads 1, 2,
/// 3, 4; of 0 to 64, 0, 10, ..., 60).
fn integer_ticks(range: (f64, f64), most: usize) -> Vec<f64> {
    let (lo, hi) = (range.0.ceil(), range.1.floor());
    if !(lo.is_finite() && hi.is_finite()) || hi < lo {
        return Vec::new();
    }
    let mut step = 1.0_f64;
    loop {
        for m in [1.0, 2.0, 5.0] {
            let st = step * m;
            let first = (lo / st).ceil();
            let last = (hi / st).floor();
            if last - first + 1.0 <= most.max(1) as f64 {
                return (first as i64..=last as i64)
                    .map(|k| k as f64 * st)
                    .collect();
            }
        }
        step *= 10.0;
    }
}

/// About one y tick label per 45 px of plot height (at scale 1), 3 to 8,
/// so a short panel of a stacked figure does not pile its labels up.
fn y_ticks(height: u32, s: f64) -> usize {
    ((f64::from(height) / (45.0 * s)) as usize).clamp(3, 8)
}

/// The width of a chart's legend strip: its longest label and a swatch, at
/// most a third of the figure.
fn legend_width<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, c: &XyChart, s: f64) -> u32 {
    let legend = legend_entries(c);
    if legend.is_empty() {
        return 0;
    }
    let font = TextStyle::from((FAMILY, 13.0 * s).into_font());
    let text_w = legend
        .iter()
        .map(|e| area.estimate_text_size(&e.label, &font).map_or(0, |t| t.0))
        .max()
        .unwrap_or(0);
    (text_w + px(44.0, s)).min(area.dim_in_pixel().0 / 3)
}

/// Splits points into runs of finite values (a NaN y breaks the line).
fn segments(points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for &(x, y) in points {
        if x.is_finite() && y.is_finite() {
            if let Some(last) = out.last_mut() {
                last.push((x, y));
            }
        } else if out.last().is_some_and(|l| !l.is_empty()) {
            out.push(Vec::new());
        }
    }
    out.retain(|l| !l.is_empty());
    out
}

fn fill_xy<'a, DB, X, Y>(
    mut ctx: ChartContext<'a, DB, Cartesian2d<X, Y>>,
    c: &XyChart,
    s: f64,
    x: (f64, f64),
    y: (f64, f64),
) -> DrawResult
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let stroke = px(2.0, s).max(1);
    let plot_height = ctx.plotting_area().dim_in_pixel().1;
    ctx.configure_mesh()
        .x_desc(c.x_label.as_str())
        .y_desc(c.y_label.as_str())
        .label_style((FAMILY, 13.0 * s))
        .axis_desc_style((FAMILY, 15.0 * s))
        .x_label_formatter(&|v| fmt_num(*v))
        .y_label_formatter(&|v| fmt_num(*v))
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(BLACK.mix(0.04))
        .x_labels(X_TICKS)
        .y_labels(y_ticks(plot_height, s))
        .draw()
        .map_err(err)?;

    for shade in &c.shades {
        let (a, b) = (shade.from.max(x.0), shade.to.min(x.1));
        // NaN or empty windows draw nothing.
        if a.partial_cmp(&b) != Some(std::cmp::Ordering::Less) {
            continue;
        }
        let fill = match shade.colour {
            Some(i) => colour(i).mix(0.18),
            None => BLACK.mix(0.10),
        };
        ctx.draw_series(std::iter::once(Rectangle::new(
            [(a, y.0), (b, y.1)],
            fill.filled(),
        )))
        .map_err(err)?
        .label(shade.label.as_str())
        .legend(move |(lx, ly)| legend_box(lx, ly, s, fill.filled()));
    }

    for se in &c.series {
        let band: Vec<(f64, f64, f64)> = se
            .band
            .iter()
            .copied()
            .filter(|b| b.0.is_finite() && b.1.is_finite() && b.2.is_finite())
            .collect();
        if band.len() >= 2 {
            let mut poly: Vec<(f64, f64)> = band.iter().map(|b| (b.0, b.2)).collect();
            poly.extend(band.iter().rev().map(|b| (b.0, b.1)));
            ctx.draw_series(std::iter::once(Polygon::new(
                poly,
                colour(se.colour).mix(0.2).filled(),
            )))
            .map_err(err)?;
        }
    }

    for se in &c.series {
        let col = colour(se.colour);
        let style = col.stroke_width(stroke);
        if se.mark == Mark::Points {
            let dot = col.filled();
            ctx.draw_series(
                se.points
                    .iter()
                    .filter(|p| p.0.is_finite() && p.1.is_finite())
                    .map(|&p| Circle::new(p, px(3.5, s), dot)),
            )
            .map_err(err)?
            .label(se.name.as_str())
            .legend(move |(lx, ly)| Circle::new((lx + px(8.0, s) as i32, ly), px(3.5, s), dot));
            continue;
        }
        for (k, seg) in segments(&se.points).into_iter().enumerate() {
            let anno = ctx
                .draw_series(LineSeries::new(seg.iter().copied(), style))
                .map_err(err)?;
            if k == 0 {
                anno.label(se.name.as_str())
                    .legend(move |(lx, ly)| legend_line(lx, ly, s, style));
            }
            if se.mark == Mark::LinePoints {
                ctx.draw_series(
                    seg.iter()
                        .map(|&p| Circle::new(p, px(3.5, s), col.filled())),
                )
                .map_err(err)?;
            }
        }
    }

    for h in &c.hlines {
        let style = BLACK.mix(0.8).stroke_width(stroke);
        ctx.draw_series(DashedLineSeries::new(
            [(x.0, h.y), (x.1, h.y)],
            px(8.0, s) as i32,
            px(5.0, s) as i32,
            style,
        ))
        .map_err(err)?
        .label(h.label.as_str())
        .legend(move |(lx, ly)| legend_line(lx, ly, s, style));
    }

    for m in &c.markers {
        let ring = colour(m.colour).stroke_width(stroke + 1);
        let r = px(7.0, s);
        ctx.draw_series(DashedLineSeries::new(
            [(m.at.0, y.0), (m.at.0, m.at.1)],
            px(4.0, s) as i32,
            px(4.0, s) as i32,
            BLACK.mix(0.6).stroke_width(px(1.0, s).max(1)),
        ))
        .map_err(err)?;
        ctx.draw_series(std::iter::once(Circle::new(m.at, r, ring)))
            .map_err(err)?
            .label(m.label.as_str())
            .legend(move |(lx, ly)| Circle::new((lx + px(10.0, s) as i32, ly), r, ring));
    }

    Ok(())
}

fn draw_heatmap<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    h: &Heatmap,
    s: f64,
) -> DrawResult {
    let area = title_area(root, &h.title, s)?;
    let (w, _) = area.dim_in_pixel();
    let (main, bar) = area.split_horizontally(w.saturating_sub(px(130.0, s)));
    let values: Vec<f64> = h
        .cells
        .iter()
        .map(|c| c.2)
        .filter(|v| v.is_finite())
        .collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let log = lo > 0.0 && hi / lo >= 10.0;
    let norm = move |v: f64| -> f64 {
        if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
            0.5
        } else if log {
            (v.ln() - lo.ln()) / (hi.ln() - lo.ln())
        } else {
            (v - lo) / (hi - lo)
        }
    };
    let denorm = move |t: f64| -> f64 {
        if log {
            (lo.ln() + t * (hi.ln() - lo.ln())).exp()
        } else {
            lo + t * (hi - lo)
        }
    };
    let (nx, ny) = (h.x_values.len().max(1), h.y_values.len().max(1));
    // Plain numeric coordinates, cell (i, j) spanning [i, i+1] x [j, j+1];
    // the level names are drawn by hand at the cell centres (plotters'
    // segmented axes mishandle a single level).
    let mut ctx = ChartBuilder::on(&main)
        .margin(px(12.0, s))
        .x_label_area_size(px(48.0, s))
        .y_label_area_size(px(80.0, s))
        .build_cartesian_2d(0.0..nx as f64, 0.0..ny as f64)
        .map_err(err)?;
    ctx.configure_mesh()
        .disable_mesh()
        .x_desc(h.x_label.as_str())
        .y_desc(h.y_label.as_str())
        .axis_desc_style((FAMILY, 15.0 * s))
        .x_labels(0)
        .y_labels(0)
        .draw()
        .map_err(err)?;
    ctx.draw_series(
        h.cells
            .iter()
            .filter(|c| c.2.is_finite())
            .map(|&(i, j, v)| {
                Rectangle::new(
                    [(i as f64, j as f64), ((i + 1) as f64, (j + 1) as f64)],
                    viridis(norm(v)).filled(),
                )
            }),
    )
    .map_err(err)?;
    let label_size = if nx * ny <= 64 { 12.0 * s } else { 0.0 };
    if label_size > 0.0 {
        ctx.draw_series(
            h.cells
                .iter()
                .filter(|c| c.2.is_finite())
                .map(|&(i, j, v)| {
                    let ink = if norm(v) < 0.6 { WHITE } else { BLACK };
                    Text::new(
                        fmt_num(v),
                        (i as f64 + 0.5, j as f64 + 0.5),
                        (FAMILY, label_size)
                            .into_font()
                            .color(&ink)
                            .pos(Pos::new(HPos::Center, VPos::Center)),
                    )
                }),
        )
        .map_err(err)?;
    }
    let base = main.get_base_pixel();
    let tick = TextStyle::from((FAMILY, 13.0 * s).into_font());
    for (i, name) in h.x_values.iter().enumerate() {
        let (x, y) = ctx.backend_coord(&(i as f64 + 0.5, 0.0));
        main.draw(&Text::new(
            name.clone(),
            (x - base.0, y - base.1 + px(6.0, s) as i32),
            tick.pos(Pos::new(HPos::Center, VPos::Top)),
        ))
        .map_err(err)?;
    }
    for (j, name) in h.y_values.iter().enumerate() {
        let (x, y) = ctx.backend_coord(&(0.0, j as f64 + 0.5));
        main.draw(&Text::new(
            name.clone(),
            (x - base.0 - px(6.0, s) as i32, y - base.1),
            tick.pos(Pos::new(HPos::Right, VPos::Center)),
        ))
        .map_err(err)?;
    }

    // The colour bar: normalised 0..1 on the y axis, labelled in data units.
    let mut bar_ctx = ChartBuilder::on(&bar)
        .margin_top(px(12.0, s))
        .margin_bottom(px(60.0, s))
        .margin_right(px(10.0, s))
        .y_label_area_size(px(0.0, s))
        .right_y_label_area_size(px(70.0, s))
        .build_cartesian_2d(0.0..1.0, 0.0..1.0)
        .map_err(err)?;
    let steps = 100;
    bar_ctx
        .draw_series((0..steps).map(|k| {
            let t0 = k as f64 / steps as f64;
            let t1 = (k + 1) as f64 / steps as f64;
            Rectangle::new([(0.0, t0), (1.0, t1)], viridis((t0 + t1) / 2.0).filled())
        }))
        .map_err(err)?;
    let bar_fmt = |t: &f64| fmt_num(denorm(*t));
    bar_ctx
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_desc(h.value_label.as_str())
        .label_style((FAMILY, 12.0 * s))
        .axis_desc_style((FAMILY, 13.0 * s))
        .y_labels(6)
        .y_label_formatter(&bar_fmt)
        .draw()
        .map_err(err)?;
    Ok(())
}

fn draw_bars<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, b: &Bars, s: f64) -> DrawResult {
    let n = b.categories.len().max(1);
    let ys = b
        .groups
        .iter()
        .flat_map(|g| g.values.iter().copied().chain(g.ci.iter().map(|c| c.1)))
        .chain(b.hline.iter().map(|h| h.y));
    let mut y = axis_range(ys, false, true);
    y.1 += (y.1 - y.0) * 0.05;
    // Title over the full width; the legend in a strip right of the bars.
    let titled = title_area(root, &b.title, s)?;
    let mut legend: Vec<LegendEntry> = b
        .groups
        .iter()
        .map(|g| LegendEntry {
            label: g.name.clone(),
            swatch: Swatch::Box(colour(g.colour).filled()),
        })
        .collect();
    if let Some(h) = &b.hline {
        legend.push(LegendEntry {
            label: h.label.clone(),
            swatch: Swatch::Dashed(BLACK.mix(0.8).stroke_width(2)),
        });
    }
    let font = TextStyle::from((FAMILY, 13.0 * s).into_font());
    let text_w = legend
        .iter()
        .map(|e| {
            titled
                .estimate_text_size(&e.label, &font)
                .map_or(0, |t| t.0)
        })
        .max()
        .unwrap_or(0);
    let (w, _) = titled.dim_in_pixel();
    let legend_w = (text_w + px(44.0, s)).min(w / 3);
    let (plot, legend_area) = titled.split_horizontally(w - legend_w);
    let root = &plot;
    let mut ctx = ChartBuilder::on(root)
        .margin(px(12.0, s))
        .margin_right(px(24.0, s))
        .x_label_area_size(px(48.0, s))
        .y_label_area_size(px(72.0, s))
        .build_cartesian_2d(-0.5..(n as f64 - 0.5), y.0..y.1)
        .map_err(err)?;
    let no_label = |_: &f64| String::new();
    ctx.configure_mesh()
        .disable_x_mesh()
        .x_desc(b.x_label.as_str())
        .y_desc(b.y_label.as_str())
        .label_style((FAMILY, 13.0 * s))
        .axis_desc_style((FAMILY, 15.0 * s))
        .x_label_formatter(&no_label)
        .y_label_formatter(&|v| fmt_num(*v))
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(BLACK.mix(0.04))
        .draw()
        .map_err(err)?;
    let groups = b.groups.len().max(1) as f64;
    let width = 0.8 / groups;
    for (g, group) in b.groups.iter().enumerate() {
        let col = colour(group.colour);
        let left = |i: usize| i as f64 - 0.4 + g as f64 * width;
        ctx.draw_series(
            group
                .values
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_finite())
                .map(|(i, &v)| {
                    Rectangle::new([(left(i), 0.0), (left(i) + width * 0.92, v)], col.filled())
                }),
        )
        .map_err(err)?
        .label(group.name.as_str())
        .legend(move |(lx, ly)| legend_box(lx, ly, s, col.filled()));
        let whisker = BLACK.stroke_width(px(1.5, s).max(1));
        for (i, &(lo, hi)) in group.ci.iter().enumerate() {
            if !(lo.is_finite() && hi.is_finite()) {
                continue;
            }
            let mid = left(i) + width * 0.46;
            let cap = width * 0.2;
            ctx.draw_series([
                PathElement::new(vec![(mid, lo), (mid, hi)], whisker),
                PathElement::new(vec![(mid - cap, lo), (mid + cap, lo)], whisker),
                PathElement::new(vec![(mid - cap, hi), (mid + cap, hi)], whisker),
            ])
            .map_err(err)?;
        }
    }
    if let Some(h) = &b.hline {
        let style = BLACK.mix(0.8).stroke_width(px(2.0, s).max(1));
        ctx.draw_series(DashedLineSeries::new(
            [(-0.5, h.y), (n as f64 - 0.5, h.y)],
            px(8.0, s) as i32,
            px(5.0, s) as i32,
            style,
        ))
        .map_err(err)?
        .label(h.label.as_str())
        .legend(move |(lx, ly)| legend_line(lx, ly, s, style));
    }
    // Category names under each group of bars, in backend pixels.
    let base = root.get_base_pixel();
    let font =
        TextStyle::from((FAMILY, 13.0 * s).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    for (i, name) in b.categories.iter().enumerate() {
        let (px_x, px_y) = ctx.backend_coord(&(i as f64, y.0));
        root.draw(&Text::new(
            name.clone(),
            (px_x - base.0, px_y - base.1 + px(8.0, s) as i32),
            font.clone(),
        ))
        .map_err(err)?;
    }
    draw_legend(&legend_area, &legend, s, px(12.0, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_breaks_a_line() {
        let pts = [(0.0, 1.0), (1.0, f64::NAN), (2.0, 2.0), (3.0, 3.0)];
        assert_eq!(segments(&pts).len(), 2);
    }

    #[test]
    fn integer_ticks_are_whole_numbers_at_a_round_step() {
        assert_eq!(integer_ticks((0.85, 4.15), 8), [1.0, 2.0, 3.0, 4.0]);
        assert_eq!(integer_ticks((0.0, 9.0), 8), [0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(
            integer_ticks((0.0, 64.0), 8),
            [0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
        );
        assert_eq!(integer_ticks((1.2, 1.8), 8), Vec::<f64>::new());
    }

    #[test]
    fn axis_ranges_are_padded_and_start_at_zero() {
        let (lo, hi) = axis_range([1.0, 3.0].into_iter(), false, true);
        assert_eq!(lo, 0.0);
        assert!(hi > 3.0);
        assert_eq!(axis_range([0.0, 0.0].into_iter(), false, true), (0.0, 1.0));
        assert_eq!(axis_range([0.0].into_iter(), false, false), (-1.0, 1.0));
        let (lo, _) = axis_range([0.0, 2.0, 10.0].into_iter(), true, false);
        assert!(lo > 1.0 && lo < 2.0);
    }
}
