//! View 8, Charts: throughput per thread group and latency (p50, p99, max per operation) over
//! a time window of 30 s to 10 min (`+` narrows it, `-` widens it), and the whole run's
//! percentile spectrum with the corrected curve drawn over the service-time one.
//!
//! Drawn with ratatui's [`Chart`] (braille lines, axes with ticks and units). Latency charts
//! are small multiples on one shared log scale, as in the latency view, so operations compare
//! honestly; each chart names its series on its first row, with the marker that draws them, so
//! colour is never needed (the mono palette draws max with dots, the others with braille).
//! With `--ascii` the markers become `*` and `+`.

use std::time::Duration;

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::Span;
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Widget};

use crate::model::{History, Inputs, LatencyStats, Op, SpectrumPoint};
use crate::panel::{draw_legend, halves, panel, put, LegendItem};
use crate::state::ViewState;
use crate::theme::Theme;
use crate::units::{Nanos, Si};

/// Rows one chart of a small multiple needs: its legend row, four rows of plot, the x axis
/// and its labels.
const MIN_CHART_ROWS: u16 = 7;
/// Width of the y labels (right-aligned), so that stacked charts line up.
const Y_LABEL_WIDTH: usize = 7;

/// The charts view.
#[derive(Clone, Copy, Debug)]
pub struct ChartsView<'a> {
    latency: &'a LatencyStats,
    history: &'a History,
    groups: &'a [String],
    /// The frame's run time: the right edge of the time axis.
    now: Duration,
    window: Duration,
    compact: bool,
    theme: &'a Theme,
}

/// How a series is drawn: its marker and style, and the glyph that names it in a legend.
#[derive(Clone, Copy, Debug)]
struct Look {
    marker: Marker,
    style: Style,
    glyph: &'static str,
}

impl<'a> ChartsView<'a> {
    /// The charts of `inputs` over `state`'s time window, ending at the frame's time.
    pub fn new(inputs: &Inputs<'a>, state: &ViewState, theme: &'a Theme) -> Self {
        ChartsView {
            latency: inputs.latency,
            history: inputs.history,
            groups: &inputs.threads.groups,
            now: inputs.header.elapsed,
            window: state.chart_window(),
            compact: false,
            theme,
        }
    }

    /// The dashboard's charts under a short map: throughput and latency over time side by
    /// side (stacked below 100 columns: throughput only), no spectrum.
    #[must_use]
    pub fn compact(mut self, compact: bool) -> Self {
        self.compact = compact;
        self
    }

    fn ascii(&self) -> bool {
        self.theme.glyphs.micro != "µ"
    }

    fn ns(&self, v: u64) -> String {
        Nanos::new(v, self.ascii()).to_string()
    }

    /// The main line of a chart (p99, a group, the corrected spectrum).
    fn line(&self, style: Style) -> Look {
        let glyph = if self.ascii() { "*" } else { "━" };
        Look { marker: Marker::Braille, style, glyph }
    }

    /// A second line, dimmer (p50, service time under the corrected curve).
    fn faint(&self, style: Style) -> Look {
        let glyph = if self.ascii() { "*" } else { "─" };
        Look { marker: Marker::Braille, style: style.add_modifier(Modifier::DIM), glyph }
    }

    /// The extreme, in dots: max.
    fn dots(&self, style: Style) -> Look {
        let glyph = if self.ascii() { "+" } else { "•" };
        Look { marker: Marker::Dot, style, glyph }
    }

    fn window_note(&self) -> String {
        let w = secs_label(self.window.as_secs());
        // On the dashboard `+`/`-` zoom the map; the window is set on view 8.
        if self.compact {
            format!("last {w}")
        } else {
            format!("last {w} · +/- window (30s..10m)")
        }
    }

    /// The time axis: from `-window` to now, in seconds.
    fn time_axis(&self, labels: bool) -> Axis<'static> {
        let w = self.window.as_secs();
        #[allow(clippy::cast_precision_loss)]
        let axis = Axis::default().bounds([-(w as f64), 0.0]).style(self.theme.axis());
        if labels {
            let l = |s: String| Span::styled(s, self.theme.dim());
            axis.labels([
                l(format!("-{}", secs_label(w))),
                l(format!("-{}", secs_label(w / 2))),
                l("now".into()),
            ])
        } else {
            axis
        }
    }

    /// Seconds before now of a point at run time `at`.
    fn x_of(&self, at: Duration) -> f64 {
        -(self.now.saturating_sub(at).as_secs_f64())
    }

    fn window_points(&self) -> impl Iterator<Item = &'a crate::model::ChartPoint> + 'a {
        let from = self.now.saturating_sub(self.window);
        self.history.between(from, self.now)
    }

    fn throughput(&self, buf: &mut Buffer, area: Rect) {
        let t = self.theme;
        let what = if self.compact { "ops/s per group" } else { "ops/s per thread group" };
        let block = panel(t, "Throughput", format!("{what}, {}", self.window_note()));
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.height < 4 || inner.width < 20 {
            return;
        }
        let inner = Rect { x: inner.x + 1, width: inner.width - 2, ..inner };
        let n = self.groups.len().max(1);
        let mut series: Vec<Vec<(f64, f64)>> = vec![Vec::new(); n];
        let mut top = 0.0f64;
        for p in self.window_points() {
            let x = self.x_of(p.at);
            for (s, &v) in series.iter_mut().zip(&p.group_ops_per_s) {
                s.push((x, v));
                top = top.max(v);
            }
        }
        let looks: Vec<Look> = (0..n).map(|g| self.line(group_style(t, g))).collect();
        let legend: Vec<LegendItem<'_>> = looks
            .iter()
            .enumerate()
            .map(|(g, l)| {
                let name = self.groups.get(g).map_or("all", String::as_str);
                vec![Span::styled(l.glyph, l.style), Span::styled(format!(" {name}"), t.text())]
            })
            .collect();
        draw_legend(buf, Rect { height: 1, ..inner }, &legend);
        let top = if top > 0.0 { top * 1.1 } else { 1.0 };
        let y_labels = [0.0, top / 2.0, top].map(|v| Span::styled(pad(&Si(v).to_string()), t.dim()));
        let datasets = series.iter().zip(&looks).map(|(s, l)| dataset(s, *l)).collect();
        let chart = Chart::new(datasets)
            .x_axis(self.time_axis(true))
            .y_axis(
                Axis::default()
                    .bounds([0.0, top])
                    .labels(y_labels)
                    .labels_alignment(Alignment::Right)
                    .style(t.axis()),
            )
            .legend_position(None);
        let area = Rect { y: inner.y + 1, height: inner.height - 1, ..inner };
        chart.render(area, buf);
        if self.ascii() {
            asciify(buf, area);
        }
    }

    /// The operations that have something to draw: timed in the window (`over_time`) or in
    /// the whole run's spectrum.
    fn ops_with_data(&self, over_time: bool) -> Vec<Op> {
        Op::ALL
            .into_iter()
            .filter(|&op| {
                if over_time {
                    self.window_points().any(|p| p.latency[op.index()].is_some())
                } else {
                    !self.latency.op(op).spectrum.is_empty()
                }
            })
            .collect()
    }

    fn latency_over_time(&self, buf: &mut Buffer, area: Rect) {
        let t = self.theme;
        let mode = if self.latency.open_loop { "corrected from intended start" } else { "service time" };
        let block = panel(t, "Latency over time", format!("{mode}, log"));
        let inner = block.inner(area);
        block.render(area, buf);
        let ops = self.ops_with_data(true);
        if inner.height < 4 || inner.width < 20 {
            return;
        }
        let inner = Rect { x: inner.x + 1, width: inner.width - 2, ..inner };
        if ops.is_empty() {
            put(buf, inner.x, inner.y, inner.right(), "nothing timed in this window", t.dim());
            return;
        }
        let (mut lo, mut hi) = (u64::MAX, 0u64);
        for p in self.window_points() {
            for op in &ops {
                if let Some(v) = p.latency[op.index()] {
                    lo = lo.min(v[0].max(1));
                    hi = hi.max(v[2]);
                }
            }
        }
        let scale = LogScale::new(lo, hi);
        let each = inner.height / u16::try_from(ops.len()).unwrap_or(1);
        if each >= MIN_CHART_ROWS {
            for (i, &op) in ops.iter().enumerate() {
                let y = inner.y + each * u16::try_from(i).unwrap_or(0);
                let last = i + 1 == ops.len();
                let h = if last { inner.bottom() - y } else { each };
                let looks = [self.faint(t.op(op)), self.line(t.op(op)), self.dots(t.text())];
                let mut series: [Vec<(f64, f64)>; 3] = Default::default();
                for p in self.window_points() {
                    if let Some(v) = p.latency[op.index()] {
                        for (s, v) in series.iter_mut().zip(v) {
                            s.push((self.x_of(p.at), scale.y(v)));
                        }
                    }
                }
                let names = ["p50", "p99", "max"];
                let mut legend: Vec<LegendItem<'_>> = vec![vec![Span::styled(op.name(), t.op(op))]];
                legend.extend(looks.iter().zip(names).map(|(l, n)| {
                    vec![Span::styled(l.glyph, l.style), Span::styled(format!(" {n}"), t.text())]
                }));
                draw_legend(buf, Rect { y, height: 1, ..inner }, &legend);
                let datasets = series.iter().zip(looks).map(|(s, l)| dataset(s, l)).collect();
                let area = Rect { y: y + 1, height: h - 1, ..inner };
                self.log_chart(datasets, &scale, self.time_axis(last), area, buf);
            }
        } else {
            // Too short for one chart an operation: their p99s on one chart.
            let looks: Vec<Look> = ops.iter().map(|&op| self.line(t.op(op))).collect();
            let mut legend: Vec<LegendItem<'_>> = vec![vec![Span::styled("p99:", t.text())]];
            legend.extend(ops.iter().zip(&looks).map(|(op, l)| {
                vec![Span::styled(l.glyph, l.style), Span::styled(format!(" {}", op.name()), t.text())]
            }));
            draw_legend(buf, Rect { height: 1, ..inner }, &legend);
            let series: Vec<Vec<(f64, f64)>> = ops
                .iter()
                .map(|op| {
                    self.window_points()
                        .filter_map(|p| p.latency[op.index()].map(|v| (self.x_of(p.at), scale.y(v[1]))))
                        .collect()
                })
                .collect();
            let datasets = series.iter().zip(looks).map(|(s, l)| dataset(s, l)).collect();
            let area = Rect { y: inner.y + 1, height: inner.height - 1, ..inner };
            self.log_chart(datasets, &scale, self.time_axis(true), area, buf);
        }
    }

    fn log_chart(
        &self,
        datasets: Vec<Dataset<'_>>,
        scale: &LogScale,
        x: Axis<'_>,
        area: Rect,
        buf: &mut Buffer,
    ) {
        let t = self.theme;
        let labels = scale.labels().map(|v| Span::styled(pad(&self.ns(v)), t.dim()));
        let chart = Chart::new(datasets)
            .x_axis(x)
            .y_axis(
                Axis::default()
                    .bounds([scale.lo, scale.hi])
                    .labels(labels)
                    .labels_alignment(Alignment::Right)
                    .style(t.axis()),
            )
            .legend_position(None);
        chart.render(area, buf);
        if self.ascii() {
            asciify(buf, area);
        }
    }

    fn spectrum(&self, buf: &mut Buffer, area: Rect) {
        let t = self.theme;
        let block = panel(t, "Percentile spectrum", "whole run, x: 1/(1-p) log, y: log".to_owned());
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.height < 4 || inner.width < 20 {
            return;
        }
        let inner = Rect { x: inner.x + 1, width: inner.width - 2, ..inner };
        let ops = self.ops_with_data(false);
        if ops.is_empty() {
            put(buf, inner.x, inner.y, inner.right(), "nothing timed yet", t.dim());
            return;
        }
        let all = ops.iter().flat_map(|&op| {
            let l = self.latency.op(op);
            l.spectrum.iter().chain(&l.spectrum_uncorrected).filter(|p| p.percentile < 100.0)
        });
        let (lo, hi) = all.fold((u64::MAX, 0), |(lo, hi), p| (lo.min(p.value_ns.max(1)), hi.max(p.value_ns)));
        let scale = LogScale::new(lo, hi);
        // Six ticks (0% .. 99.999%) where the plot is wide enough, else three up to 99.99%.
        let wide = inner.width >= 44;
        let decades = if wide { 5.0 } else { 4.0 };
        let ticks: &[&str] =
            if wide { &["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"] } else { &["0%", "99%", "99.99%"] };
        let each = inner.height / u16::try_from(ops.len()).unwrap_or(1);
        let stacked = each >= MIN_CHART_ROWS;
        let charts: Vec<(Vec<Op>, Rect)> = if stacked {
            ops.iter()
                .enumerate()
                .map(|(i, &op)| {
                    let y = inner.y + each * u16::try_from(i).unwrap_or(0);
                    let h = if i + 1 == ops.len() { inner.bottom() - y } else { each };
                    (vec![op], Rect { y, height: h, ..inner })
                })
                .collect()
        } else {
            vec![(ops.clone(), inner)]
        };
        let n = charts.len();
        for (i, (ops, area)) in charts.into_iter().enumerate() {
            let mut datasets = Vec::new();
            let mut series: Vec<(Vec<(f64, f64)>, Look)> = Vec::new();
            let mut legend: Vec<LegendItem<'_>> = Vec::new();
            for &op in &ops {
                let l = self.latency.op(op);
                let open = !l.spectrum_uncorrected.is_empty();
                let main = self.line(t.op(op));
                let under = self.faint(t.op(op));
                if stacked {
                    legend.push(vec![Span::styled(op.name(), t.op(op))]);
                }
                if open {
                    // Service time first, so the corrected curve is drawn over it.
                    series.push((spectrum_points(&l.spectrum_uncorrected, decades, &scale), under));
                    let name = if stacked {
                        " service time".to_owned()
                    } else {
                        format!(" {} service time", op.name())
                    };
                    legend.push(vec![Span::styled(under.glyph, under.style), Span::styled(name, t.text())]);
                }
                series.push((spectrum_points(&l.spectrum, decades, &scale), main));
                let name = match (open, stacked) {
                    (true, true) => " corrected".to_owned(),
                    (true, false) => format!(" {} corrected", op.name()),
                    (false, true) => " service time".to_owned(),
                    (false, false) => format!(" {}", op.name()),
                };
                legend.push(vec![Span::styled(main.glyph, main.style), Span::styled(name, t.text())]);
            }
            draw_legend(buf, Rect { height: 1, ..area }, &legend);
            for (s, l) in &series {
                datasets.push(dataset(s, *l));
            }
            let labels = ticks.iter().map(|s| Span::styled(*s, t.dim())).collect::<Vec<_>>();
            let x = Axis::default().bounds([0.0, decades]).style(t.axis());
            let x = if i + 1 == n { x.labels(labels) } else { x };
            let area = Rect { y: area.y + 1, height: area.height - 1, ..area };
            self.log_chart(datasets, &scale, x, area, buf);
        }
    }
}

impl Widget for &ChartsView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.is_empty() {
            return;
        }
        let t = self.theme;
        if self.history.is_empty() {
            let block = panel(t, "Charts", String::new());
            let inner = block.inner(area);
            block.render(area, buf);
            let say = "nothing to chart yet: the charts draw a live run's samples (a replay has none)";
            put(buf, inner.x + 1, inner.y, inner.right(), say, t.dim());
            return;
        }
        if self.compact {
            if area.width >= 100 {
                let (throughput, over_time) = halves(area, true);
                self.throughput(buf, throughput);
                self.latency_over_time(buf, over_time);
            } else {
                self.throughput(buf, area);
            }
            return;
        }
        let top_h = (area.height / 3).clamp(8, 16).min(area.height);
        self.throughput(buf, Rect { height: top_h, ..area });
        let rest = Rect { y: area.y + top_h, height: area.height - top_h, ..area };
        if rest.height < 6 {
            return;
        }
        let (over_time, spectrum) = halves(rest, rest.width >= 100);
        self.latency_over_time(buf, over_time);
        self.spectrum(buf, spectrum);
    }
}

/// A shared log scale: whole decades of ns around the values.
#[derive(Clone, Copy, Debug)]
struct LogScale {
    lo: f64,
    hi: f64,
}

impl LogScale {
    fn new(lo: u64, hi: u64) -> LogScale {
        #[allow(clippy::cast_precision_loss)]
        let (l, h) = ((lo.max(1) as f64).log10().floor(), (hi.max(lo).max(1) as f64).log10().ceil());
        LogScale { lo: l, hi: if h > l { h } else { l + 1.0 } }
    }

    #[allow(clippy::cast_precision_loss)]
    fn y(&self, ns: u64) -> f64 {
        (ns.max(1) as f64).log10().clamp(self.lo, self.hi)
    }

    /// The values at the bottom, the middle and the top (where ratatui puts three labels).
    fn labels(&self) -> [u64; 3] {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let v = |e: f64| 10f64.powf(e).round() as u64;
        [v(self.lo), v((self.lo + self.hi) / 2.0), v(self.hi)]
    }
}

/// A spectrum's points on the x of decades of 1/(1-p), up to `decades` (the maximum, p100,
/// has no x: the table gives it).
fn spectrum_points(pts: &[SpectrumPoint], decades: f64, scale: &LogScale) -> Vec<(f64, f64)> {
    pts.iter()
        .filter(|p| p.percentile < 100.0)
        .map(|p| ((1.0 / (1.0 - p.percentile / 100.0)).log10(), scale.y(p.value_ns)))
        .filter(|(x, _)| *x <= decades + 1e-9)
        .collect()
}

fn dataset<'d>(data: &'d [(f64, f64)], look: Look) -> Dataset<'d> {
    let kind = if look.marker == Marker::Dot { GraphType::Scatter } else { GraphType::Line };
    Dataset::default().data(data).marker(look.marker).graph_type(kind).style(look.style)
}

/// A group's line style: the first three in the operations' colours (a legend names them).
fn group_style(t: &Theme, g: usize) -> Style {
    match g {
        0 => t.chart(),
        1 => t.op(Op::Insert),
        2 => t.op(Op::Remove),
        _ => t.text(),
    }
}

/// A y label, right-aligned to the common width.
fn pad(s: &str) -> String {
    format!("{s:>Y_LABEL_WIDTH$}")
}

/// `30s`, `1m`, `2m30s`... for axis ends and the window.
fn secs_label(s: u64) -> String {
    match (s / 60, s % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s}s"),
    }
}

/// `--ascii`: braille and dots become `*` and `+`.
fn asciify(buf: &mut Buffer, area: Rect) {
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            if let Some(c) = buf.cell_mut((x, y)) {
                let s = c.symbol();
                let ch = s.chars().next().unwrap_or(' ');
                if ('\u{2801}'..='\u{28FF}').contains(&ch) {
                    c.set_symbol("*");
                } else if s == "•" {
                    c.set_symbol("+");
                } else if s == "│" {
                    c.set_symbol("|");
                } else if s == "─" {
                    c.set_symbol("-");
                } else if s == "└" {
                    c.set_symbol("+");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::{Demo, DemoSpec};

    fn rows(buf: &Buffer) -> Vec<String> {
        (0..buf.area.height).map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect()).collect()
    }

    fn draw(demo: &Demo, state: &ViewState, theme: &Theme, w: u16, h: u16) -> Buffer {
        let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
        let inputs = demo.inputs();
        (&ChartsView::new(&inputs, state, theme)).render(buf.area, &mut buf);
        buf
    }

    fn braille(buf: &Buffer, area: Rect) -> usize {
        let mut n = 0;
        for y in area.top()..area.bottom() {
            for x in area.left()..area.right() {
                let ch = buf[(x, y)].symbol().chars().next().unwrap_or(' ');
                if ('\u{2801}'..='\u{28FF}').contains(&ch) {
                    n += 1;
                }
            }
        }
        n
    }

    #[test]
    fn every_chart_is_drawn_with_axes_units_and_named_series() {
        let demo = Demo::build(&DemoSpec { open_loop: true, ..DemoSpec::default() });
        let buf = draw(&demo, &ViewState::default(), &Theme::default(), 120, 40);
        let text = rows(&buf).join("\n");
        for want in
            ["Throughput", "Latency over time", "Percentile spectrum", "p50", "p99", "max", "corrected"]
        {
            assert!(text.contains(want), "{want} missing:\n{text}");
        }
        assert!(text.contains("service time"), "open loop: the service-time curve is named:\n{text}");
        assert!(text.contains("-1m") && text.contains("now"), "time axis ticks:\n{text}");
        assert!(text.contains("99.999%"), "spectrum ticks:\n{text}");
        assert!(text.contains("µs") || text.contains("ns"), "latency axis in units:\n{text}");
        for g in &demo.threads.groups {
            assert!(text.contains(g.as_str()), "group {g} in the legend:\n{text}");
        }
        // Lines are drawn in every chart region.
        assert!(braille(&buf, Rect::new(0, 0, 120, 13)) > 20, "throughput line:\n{text}");
        assert!(braille(&buf, Rect::new(0, 13, 60, 27)) > 20, "latency lines:\n{text}");
        assert!(braille(&buf, Rect::new(60, 13, 60, 27)) > 10, "spectrum lines:\n{text}");
    }

    #[test]
    fn a_frozen_frame_draws_only_its_past_and_the_window_bounds_the_points() {
        let mut demo = Demo::build(&DemoSpec::default());
        let theme = Theme::default();
        let state = ViewState::default();
        let now = draw(&demo, &state, &theme, 120, 40);
        // The demo's history ends at 42.5 s; at 5 s only the first eighth of it is past.
        demo.header.elapsed = Duration::from_secs(5);
        let early = draw(&demo, &state, &theme, 120, 40);
        let top = Rect::new(0, 0, 120, 13);
        assert!(braille(&early, top) < braille(&now, top) / 2, "a frame before the end draws less");
        // A 30 s window of the 42.5 s history: points start at the left edge; a 10 min one
        // squeezes them into the right 7%.
        demo.header.elapsed = Duration::from_millis(42_500);
        let wide = ViewState { chart_window: 4, ..ViewState::default() };
        let squeezed = draw(&demo, &wide, &theme, 120, 40);
        let left_half = Rect::new(12, 2, 50, 10);
        assert_eq!(braille(&squeezed, left_half), 0, "10 min: nothing in the left half");
        let narrow = ViewState { chart_window: 0, ..ViewState::default() };
        assert!(
            braille(&draw(&demo, &narrow, &theme, 120, 40), left_half) > 0,
            "30 s: the left half is used"
        );
        assert!(rows(&squeezed).join("\n").contains("-10m"));
    }

    #[test]
    fn small_terminals_fold_the_latency_charts_into_one_and_ascii_has_no_braille() {
        let demo = Demo::build(&DemoSpec::default());
        let theme = Theme::new(crate::theme::Palette::Mono, true);
        let buf = draw(&demo, &ViewState::default(), &theme, 80, 21);
        let text = rows(&buf).join("\n");
        assert!(text.contains("p99:"), "one chart of p99s:\n{text}");
        assert_eq!(braille(&buf, buf.area), 0, "ascii:\n{text}");
        assert!(text.contains('*'), "ascii lines:\n{text}");
        assert!(text.contains("us"), "ascii micro:\n{text}");
    }

    #[test]
    fn an_empty_history_says_why_there_is_nothing() {
        let mut demo = Demo::build(&DemoSpec::default());
        demo.history = History::new();
        let buf = draw(&demo, &ViewState::default(), &Theme::default(), 100, 30);
        assert!(rows(&buf).join("\n").contains("nothing to chart yet"));
    }

    #[test]
    fn log_scales_are_whole_decades() {
        let s = LogScale::new(37, 4_100);
        assert_eq!((s.lo, s.hi), (1.0, 4.0));
        assert_eq!(s.labels(), [10, 316, 10_000]);
        let one = LogScale::new(100, 100);
        assert_eq!((one.lo, one.hi), (2.0, 3.0));
        assert_eq!(secs_label(150), "2m30s");
        assert_eq!(secs_label(600), "10m");
    }
}
