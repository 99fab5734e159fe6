//! The HTML report (`--output-format html`): one self-contained file, with no script and
//! nothing fetched from anywhere, that a browser opens offline. It holds the run's verdict
//! (the one-screen text report) and SVG charts drawn by `plotters` with its SVG backend:
//!
//! - throughput over time, one line per thread group (from the per-interval series);
//! - p99 latency over time, one line per op (service time, merged over threads per interval);
//! - each op's percentile spectrum, the open-loop corrected curve over the service-time one
//!   (log-log: latency against `1/(1-percentile)`, the wrk2 / HdrHistogram plot);
//! - ops/s per thread, as bars.
//!
//! The page itself (a heading, the verdict in a `<pre>`, one `<figure>` per chart) is a few
//! lines of HTML written here: no template crate is needed for that.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use plotters::coord::Shift;
use plotters::prelude::*;
use slotscope_stress::report::verdict::render_verdict;
use slotscope_stress::{OpKind, Report};
use slotscope_trace::latency_histogram;

use crate::exit::{self, Failure};

/// Every chart's size in pixels.
const SIZE: (u32, u32) = (760, 300);
/// Line colours, by series index.
const COLOURS: [RGBColor; 4] =
    [RGBColor(31, 119, 180), RGBColor(214, 39, 40), RGBColor(44, 160, 44), RGBColor(148, 103, 189)];

/// The titles of the charts [`render`] draws (each is the chart's caption and its figure's).
pub const CHART_TITLES: [&str; 4] =
    ["Throughput over time", "p99 latency over time", "Latency spectrum", "Throughput per thread"];

/// The report as one HTML page.
pub fn render(report: &Report) -> Result<Vec<u8>, Failure> {
    let fail = |e: String| Failure::new(exit::OUTPUT_FAILED, format!("error: drawing the html report: {e}"));
    let mut page = String::new();
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str(&format!("<title>slotscope: {}</title>\n", escape(&report.spec.name)));
    page.push_str(
        "<style>body{font-family:sans-serif;margin:2em;max-width:90em}pre{font-size:12px;\
         background:#f6f6f6;padding:1em;overflow-x:auto}figure{margin:2em 0}figcaption{font-weight:bold}</style>\n",
    );
    page.push_str("</head>\n<body>\n");
    page.push_str(&format!("<h1>slotscope: <code>{}</code></h1>\n", escape(&report.spec.name)));
    page.push_str(&format!("<pre>{}</pre>\n", escape(&render_verdict(report, false))));
    let charts: [(&str, Result<String, String>); 4] = [
        (CHART_TITLES[0], throughput_chart(report)),
        (CHART_TITLES[1], p99_chart(report)),
        (CHART_TITLES[2], spectrum_chart(report)),
        (CHART_TITLES[3], threads_chart(report)),
    ];
    for (title, svg) in charts {
        let svg = svg.map_err(fail)?;
        page.push_str(&format!("<figure>\n<figcaption>{title}</figcaption>\n{svg}\n</figure>\n"));
    }
    page.push_str("</body>\n</html>\n");
    Ok(page.into_bytes())
}

/// `text` safe inside HTML text and attribute values.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Draws into an SVG string of [`SIZE`].
fn svg(
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), String>,
) -> Result<String, String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        draw(&root)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// A chart on `root` captioned `title`, with room for the axes' labels.
fn chart<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    title: &str,
) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut c = ChartBuilder::on(root);
    c.caption(title, ("sans-serif", 16)).margin(10).x_label_area_size(30).y_label_area_size(70);
    c
}

/// A line series drawn in `style`, named `label` in the legend.
fn line<DB, CT>(
    c: &mut ChartContext<'_, DB, CT>,
    points: &[(f64, f64)],
    style: ShapeStyle,
    label: &str,
) -> Result<(), String>
where
    DB: DrawingBackend,
    CT: CoordTranslate<From = (f64, f64)>,
{
    c.draw_series(LineSeries::new(points.iter().copied(), style))
        .map_err(err)?
        .label(label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], style));
    Ok(())
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Seconds since the clock started, of `ns`.
#[allow(clippy::cast_precision_loss)]
fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// Ops/s per interval (at its end, in s) for each thread group, from the series.
fn group_rates(report: &Report) -> BTreeMap<String, Vec<(f64, f64)>> {
    let mut by: BTreeMap<(String, u64), (u64, u64)> = BTreeMap::new();
    for r in &report.series.records {
        let group = report.thread(r.thread).map_or_else(|| "?".to_owned(), |t| t.group.clone());
        let e = by.entry((group, r.end_ns)).or_insert((0, r.end_ns.saturating_sub(r.start_ns)));
        e.0 += r.counts.ops();
    }
    let mut out: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for ((group, end), (ops, len)) in by {
        if len > 0 {
            #[allow(clippy::cast_precision_loss)]
            out.entry(group).or_default().push((secs(end), ops as f64 / secs(len)));
        }
    }
    out
}

fn time_span(report: &Report) -> f64 {
    report.series.records.iter().map(|r| secs(r.end_ns)).fold(0.0, f64::max).max(1e-3)
}

fn throughput_chart(report: &Report) -> Result<String, String> {
    let rates = group_rates(report);
    let top = rates.values().flatten().map(|p| p.1).fold(0.0, f64::max).max(1.0) * 1.1;
    svg(|root| {
        let mut c =
            chart(root, CHART_TITLES[0]).build_cartesian_2d(0.0..time_span(report), 0.0..top).map_err(err)?;
        c.configure_mesh()
            .x_desc("seconds since start")
            .y_desc("ops/s")
            .y_label_formatter(&|v| si(*v))
            .draw()
            .map_err(err)?;
        for (i, (group, points)) in rates.iter().enumerate() {
            line(&mut c, points, COLOURS[i % COLOURS.len()].stroke_width(2), group)?;
        }
        c.configure_series_labels().border_style(BLACK).background_style(WHITE).draw().map_err(err)?;
        Ok(())
    })
}

/// Per op: (interval end in s, p99 of the service times timed in it over all threads, in µs).
fn p99_series(report: &Report) -> Vec<(OpKind, Vec<(f64, f64)>)> {
    OpKind::ALL
        .into_iter()
        .filter_map(|op| {
            let mut by: BTreeMap<u64, Histogram<u64>> = BTreeMap::new();
            for r in &report.series.records {
                for l in r.latency.iter().filter(|l| l.op == op) {
                    let h = by.entry(r.end_ns).or_insert_with(latency_histogram);
                    let _ = h.add(l.service.to_histogram());
                }
            }
            #[allow(clippy::cast_precision_loss)]
            let points: Vec<(f64, f64)> = by
                .iter()
                .filter(|(_, h)| !h.is_empty())
                .map(|(&end, h)| (secs(end), h.value_at_quantile(0.99) as f64 / 1e3))
                .collect();
            (!points.is_empty()).then_some((op, points))
        })
        .collect()
}

fn p99_chart(report: &Report) -> Result<String, String> {
    let series = p99_series(report);
    let top = series.iter().flat_map(|s| &s.1).map(|p| p.1).fold(0.0, f64::max).max(1e-3) * 2.0;
    let bottom =
        series.iter().flat_map(|s| &s.1).map(|p| p.1).fold(f64::INFINITY, f64::min).clamp(1e-3, top / 4.0)
            / 2.0;
    svg(|root| {
        let mut c = chart(root, CHART_TITLES[1])
            .build_cartesian_2d(0.0..time_span(report), (bottom..top).log_scale())
            .map_err(err)?;
        c.configure_mesh()
            .x_desc("seconds since start")
            .y_desc("p99, µs (service time)")
            .draw()
            .map_err(err)?;
        for (op, points) in &series {
            line(&mut c, points, COLOURS[op.index() % COLOURS.len()].stroke_width(2), op.name())?;
        }
        c.configure_series_labels().border_style(BLACK).background_style(WHITE).draw().map_err(err)?;
        Ok(())
    })
}

/// `(1/(1-q), value in µs)` points of `h`, as HdrHistogram's percentile plot draws them.
fn spectrum_points(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    #[allow(clippy::cast_precision_loss)]
    h.iter_quantiles(5)
        .map(|v| (v.quantile_iterated_to(), v.value_iterated_to() as f64 / 1e3))
        .filter(|&(q, _)| q < 1.0)
        .map(|(q, v)| (1.0 / (1.0 - q), v.max(1e-3)))
        .collect()
}

/// A spectrum curve: its label, its points, whether it is the corrected one, its op's colour.
type Curve = (String, Vec<(f64, f64)>, bool, RGBColor);

fn spectrum_chart(report: &Report) -> Result<String, String> {
    // One colour per op, the corrected curve bold.
    let mut curves: Vec<Curve> = Vec::new();
    for (i, op) in report.ops.iter().enumerate().filter(|(_, o)| o.latency.service.count > 0) {
        let (name, colour) = (op.op.name(), COLOURS[i % COLOURS.len()]);
        if let Some(c) = op.latency.corrected_histogram.as_ref().filter(|c| !c.is_empty()) {
            curves.push((
                format!("{name}, open loop corrected"),
                spectrum_points(&c.to_histogram()),
                true,
                colour,
            ));
        }
        let service = spectrum_points(&op.latency.service_histogram.to_histogram());
        curves.push((format!("{name}, service time"), service, false, colour));
    }
    let all = || curves.iter().flat_map(|c| &c.1);
    let right = all().map(|p| p.0).fold(10.0, f64::max) * 1.5;
    let top = all().map(|p| p.1).fold(1e-3, f64::max) * 2.0;
    let bottom = all().map(|p| p.1).fold(f64::INFINITY, f64::min).clamp(1e-3, top / 4.0) / 2.0;
    svg(|root| {
        let mut c = chart(root, CHART_TITLES[2])
            .build_cartesian_2d((1.0..right).log_scale(), (bottom..top).log_scale())
            .map_err(err)?;
        c.configure_mesh()
            .x_desc("1/(1-percentile): 10 = p90, 100 = p99, 1000 = p99.9")
            .y_desc("latency, µs")
            .draw()
            .map_err(err)?;
        for (label, points, corrected, colour) in &curves {
            let style = if *corrected { colour.stroke_width(3) } else { colour.mix(0.6).stroke_width(1) };
            line(&mut c, points, style, label)?;
        }
        c.configure_series_labels().border_style(BLACK).background_style(WHITE).draw().map_err(err)?;
        Ok(())
    })
}

fn threads_chart(report: &Report) -> Result<String, String> {
    let rates: Vec<(String, f64)> = report
        .threads
        .iter()
        .map(|t| (format!("T{} {}", t.index, t.group), t.throughput_ops_per_s))
        .collect();
    let top = rates.iter().map(|r| r.1).fold(1.0, f64::max) * 1.1;
    let n = u32::try_from(rates.len()).unwrap_or(u32::MAX).max(1);
    svg(|root| {
        let mut c = chart(root, CHART_TITLES[3])
            .build_cartesian_2d((0..n).into_segmented(), 0.0..top)
            .map_err(err)?;
        let names: Vec<String> = rates.iter().map(|r| r.0.clone()).collect();
        c.configure_mesh()
            .disable_x_mesh()
            .y_desc("ops/s")
            .y_label_formatter(&|v| si(*v))
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => names.get(*i as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .draw()
            .map_err(err)?;
        c.draw_series(rates.iter().enumerate().map(|(i, r)| {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            let mut bar = Rectangle::new(
                [(SegmentValue::Exact(i), 0.0), (SegmentValue::Exact(i + 1), r.1)],
                COLOURS[0].filled(),
            );
            bar.set_margin(0, 0, 8, 8);
            bar
        }))
        .map_err(err)?;
        Ok(())
    })
}

/// `v` with a multiplier: `1.2M`.
fn si(v: f64) -> String {
    slotscope_stress::scenario::values::format_rate(v)
}
