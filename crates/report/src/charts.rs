//! Charts as inline SVG, drawn by `plotters` with its SVG backend. Text is
//! emitted as SVG `<text>` and laid out by plotters' built-in estimate (no font
//! feature), so drawing needs no font file and the viewer's own sans-serif
//! renders it. Each chart carries what it drew (`points`, `total`) so that a
//! test can hold it against the input.

use plotters::coord::Shift;
use plotters::prelude::*;
use serde::Serialize;

use crate::stats::Histogram;

const WIDTH: u32 = 560;
const HEIGHT: u32 = 300;
/// Series colours, in order (a colour-blind-safe palette).
const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
];
const LIMIT: RGBColor = RGBColor(200, 30, 30);
const P99: RGBColor = RGBColor(90, 90, 90);

/// One drawn chart.
#[derive(Clone, Debug, Serialize)]
pub struct Chart {
    /// The element id (`ttft-hist`, `timeline-inflight`, …).
    pub id: String,
    /// `histogram`, `cdf`, `line` or `scatter`.
    pub kind: &'static str,
    /// Bars or points drawn, over all series.
    pub points: usize,
    /// Histograms: the values counted over all bars.
    pub total: u64,
    /// The SVG element.
    pub svg: String,
}

/// A vertical marker (a limit, a percentile) with its legend text.
pub struct Marker {
    /// Legend text.
    pub label: String,
    /// Where, in the x axis' unit.
    pub x: f64,
    /// A limit (red) or a statistic (grey).
    pub is_limit: bool,
}

/// A named series of (x, y) points. A point whose y is not finite (NaN)
/// is a break: the line stops before it and starts again after it, so a
/// gap in the data is drawn as a gap, never bridged.
pub struct Series {
    /// Legend text.
    pub name: String,
    /// The points.
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// The runs of points between breaks.
    fn segments(&self) -> impl Iterator<Item = &[(f64, f64)]> {
        self.points
            .split(|p| !p.1.is_finite())
            .filter(|s| !s.is_empty())
    }

    /// Points drawn (breaks are not points).
    fn drawn(&self) -> usize {
        self.points.iter().filter(|p| p.1.is_finite()).count()
    }
}

/// The x axis that every chart of a run's timeline shares: its range in
/// seconds since the run started, and the measured window shaded on it.
#[derive(Clone, Copy, Debug)]
pub struct TimeAxis {
    /// The x range, seconds.
    pub range: (f64, f64),
    /// The measured window, seconds.
    pub window: Option<(f64, f64)>,
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn draw(
    id: &str,
    kind: &'static str,
    points: usize,
    total: u64,
    f: impl FnOnce(&Area<'_>) -> DrawResult,
) -> Chart {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        let drawn = root
            .fill(&WHITE)
            .map_err(Into::into)
            .and_then(|()| f(&root))
            .and_then(|()| root.present().map_err(Into::into));
        if let Err(e) = drawn {
            // Plotters fails only on impossible ranges; say so in place of the chart.
            drop(root);
            return Chart {
                id: id.into(),
                kind,
                points: 0,
                total: 0,
                svg: format!("<p class=\"note\">chart not drawn: {e}</p>"),
            };
        }
    }
    Chart {
        id: id.into(),
        kind,
        points,
        total,
        svg,
    }
}

/// A range that plotters can draw, with a little room above the data.
fn span(lo: f64, hi: f64) -> std::ops::Range<f64> {
    let (lo, hi) = if lo.is_finite() && hi.is_finite() {
        (lo, hi)
    } else {
        (0.0, 1.0)
    };
    if hi > lo {
        lo..hi + (hi - lo) * 0.04
    } else {
        lo - 0.5..lo + 0.5
    }
}

fn draw_markers<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    markers: &[Marker],
    y_top: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    for m in markers {
        let color = if m.is_limit { LIMIT } else { P99 };
        let style = ShapeStyle::from(&color).stroke_width(2);
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(m.x, 0.0), (m.x, y_top)],
                style,
            )))?
            .label(&m.label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], style));
    }
    Ok(())
}

/// A histogram with its markers; x in the histogram's unit.
pub fn histogram(id: &str, title: &str, x_desc: &str, h: &Histogram, markers: &[Marker]) -> Chart {
    let hi_data = h.lo + h.width * h.counts.len() as f64;
    let x_hi = markers.iter().map(|m| m.x).fold(hi_data, f64::max);
    let y_hi = h.counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    draw(id, "histogram", h.counts.len(), h.total(), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 15))
            .margin(8)
            .x_label_area_size(34)
            .y_label_area_size(52)
            .build_cartesian_2d(span(h.lo.min(0.0), x_hi), 0.0..y_hi * 1.08)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc(x_desc)
            .y_desc("samples")
            .draw()?;
        let fill = PALETTE[0].mix(0.75).filled();
        chart.draw_series(h.counts.iter().enumerate().map(|(i, &c)| {
            let x0 = h.lo + h.width * i as f64;
            Rectangle::new([(x0, 0.0), (x0 + h.width, c as f64)], fill)
        }))?;
        draw_markers(&mut chart, markers, y_hi * 1.08)?;
        if !markers.is_empty() {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(SeriesLabelPosition::UpperRight)
                .draw()?;
        }
        Ok(())
    })
}

/// Lines (CDFs, timelines), with markers and an optional shaded x window.
pub fn lines(
    id: &str,
    kind: &'static str,
    title: &str,
    (x_desc, y_desc): (&str, &str),
    series: &[Series],
    markers: &[Marker],
    axis: Option<TimeAxis>,
) -> Chart {
    let all = || series.iter().flat_map(|s| s.points.iter());
    let x_range = match axis {
        Some(a) => span(a.range.0, a.range.1),
        None => span(
            all().map(|p| p.0).fold(f64::INFINITY, f64::min).min(0.0),
            all()
                .map(|p| p.0)
                .chain(markers.iter().map(|m| m.x))
                .fold(f64::NEG_INFINITY, f64::max),
        ),
    };
    let window = axis.and_then(|a| a.window);
    let y_hi = all().map(|p| p.1).fold(0.0, f64::max).max(1e-9) * 1.08;
    let points = series.iter().map(Series::drawn).sum();
    draw(id, kind, points, 0, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 15))
            .margin(8)
            .x_label_area_size(34)
            .y_label_area_size(56)
            .build_cartesian_2d(x_range, 0.0..y_hi)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .draw()?;
        if let Some((a, b)) = window {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(a, 0.0), (b, y_hi)],
                    RGBColor(120, 120, 120).mix(0.12).filled(),
                )))?
                .label("measured window")
                .legend(|(x, y)| {
                    Rectangle::new(
                        [(x, y - 5), (x + 16, y + 5)],
                        RGBColor(120, 120, 120).mix(0.3).filled(),
                    )
                });
        }
        for (i, s) in series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let style = ShapeStyle::from(&color).stroke_width(2);
            for (k, segment) in s.segments().enumerate() {
                // A lone reading between two gaps is a dot, not an invisible line.
                let drawn = if segment.len() == 1 {
                    chart.draw_series(std::iter::once(Circle::new(
                        segment[0],
                        3,
                        color.filled(),
                    )))?
                } else {
                    chart.draw_series(LineSeries::new(segment.iter().copied(), style))?
                };
                if k == 0 {
                    drawn
                        .label(&s.name)
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], style));
                }
            }
        }
        draw_markers(&mut chart, markers, y_hi)?;
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::LowerRight)
            .draw()?;
        Ok(())
    })
}

/// A scatter of each series' points as small circles (one `<circle>` per
/// point: the legend uses squares so that circles count points only).
pub fn scatter(
    id: &str,
    title: &str,
    (x_desc, y_desc): (&str, &str),
    series: &[Series],
    axis: TimeAxis,
) -> Chart {
    let all = || series.iter().flat_map(|s| s.points.iter());
    let window = axis.window;
    let y_hi = all().map(|p| p.1).fold(0.0, f64::max).max(1e-9) * 1.08;
    let points = series.iter().map(|s| s.points.len()).sum();
    draw(id, "scatter", points, 0, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 15))
            .margin(8)
            .x_label_area_size(34)
            .y_label_area_size(56)
            .build_cartesian_2d(span(axis.range.0, axis.range.1), 0.0..y_hi)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .draw()?;
        if let Some((a, b)) = window {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(a, 0.0), (b, y_hi)],
                    RGBColor(120, 120, 120).mix(0.12).filled(),
                )))?
                .label("measured window")
                .legend(|(x, y)| {
                    Rectangle::new(
                        [(x, y - 5), (x + 16, y + 5)],
                        RGBColor(120, 120, 120).mix(0.3).filled(),
                    )
                });
        }
        for (i, s) in series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            chart
                .draw_series(
                    s.points
                        .iter()
                        .map(|&p| Circle::new(p, 2, color.mix(0.6).filled())),
                )?
                .label(&s.name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 4), (x + 8, y + 4)], color.filled()));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
        Ok(())
    })
}
