//! Latency: per-operation percentiles for the last interval and the whole run
//! (coordinated-omission corrected and uncorrected in open loop), p99 over time, and the
//! whole-run percentile spectrum. Charts are small multiples (one band per operation, named on
//! its left) on one shared log scale, so bands compare honestly and colour is never needed.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::widgets::Widget;

use crate::model::{LatencyStats, Op, OpLatency, Percentiles, SpectrumPoint, Timeline};
use crate::panel::{halves, panel, put, put_right};
use crate::plot::{col, columns, fit_columns, linear, table_head, table_row, Align, Column, LogAxis};
use crate::theme::Theme;
use crate::units::{Nanos, Si};

/// The latency view: full screen, or a compact panel for the dashboard.
#[derive(Clone, Copy, Debug)]
pub struct LatencyView<'a> {
    latency: &'a LatencyStats,
    timeline: &'a Timeline,
    compact: bool,
    theme: &'a Theme,
}

impl<'a> LatencyView<'a> {
    /// The view of `latency` with `timeline`'s p99 history.
    pub fn new(latency: &'a LatencyStats, timeline: &'a Timeline, theme: &'a Theme) -> Self {
        LatencyView { latency, timeline, compact: false, theme }
    }

    /// The dashboard's panel: interval percentiles and a p99 trend per operation.
    #[must_use]
    pub fn compact(mut self, compact: bool) -> Self {
        self.compact = compact;
        self
    }
}

const TABLE_COLS: [Column; 8] = [
    col("", 14, Align::Left, 0),
    // The ops timed (1 in k of all), not the op count.
    col("timed", 7, Align::Right, 3),
    col("p50", 7, Align::Right, 0),
    col("p90", 7, Align::Right, 2),
    col("p99", 7, Align::Right, 0),
    col("p99.9", 7, Align::Right, 1),
    col("p99.99", 7, Align::Right, 2),
    col("max", 7, Align::Right, 1),
];

/// Width of the full percentile table.
const TABLE_WIDTH: u16 = 14 + 7 * 7 + 7;

impl LatencyView<'_> {
    fn ns(&self, v: u64) -> String {
        Nanos::new(v, self.theme.glyphs.micro != "µ").to_string()
    }

    /// A percentile: `<X` below the clock's floor (it does not resolve it).
    fn pct(&self, v: u64) -> String {
        let floor = self.latency.floor_ns;
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        if (v as f64) < floor {
            return format!("<{}", self.ns(floor.ceil() as u64));
        }
        self.ns(v)
    }

    /// The ops whose median is at most twice the instrument's own cost per op (the engine's
    /// overhead plus one clock read): their figures are dominated by it.
    fn dominated(&self) -> Vec<&'static str> {
        let l = self.latency;
        let Some(o) = l.overhead_ns else { return Vec::new() };
        let own = o + l.timer_cost_ns;
        Op::ALL
            .into_iter()
            .filter(|&op| {
                let p = l.op(op).run;
                #[allow(clippy::cast_precision_loss)]
                let median = p.p50 as f64;
                p.count > 0 && median <= 2.0 * own
            })
            .map(Op::name)
            .collect()
    }

    fn mode_note(&self) -> String {
        let l = self.latency;
        let loop_note = if l.open_loop {
            "open loop: op rows corrected from intended start"
        } else {
            "closed loop: service time"
        };
        let timed = if l.timed_every > 1 {
            format!("1 op in {} timed", l.timed_every)
        } else {
            "every op timed".to_owned()
        };
        let mut note = format!(
            "{loop_note} {} {timed} {} clock {:.1} ns",
            self.theme.glyphs.dot, self.theme.glyphs.dot, l.timer_cost_ns
        );
        if let Some(o) = l.overhead_ns {
            note.push_str(&format!(" {} engine ~{o:.0} ns/op", self.theme.glyphs.dot));
        }
        let dominated = self.dominated();
        if !dominated.is_empty() {
            note.push_str(&format!(
                " {} {}: p50 <= 2x engine+clock",
                self.theme.glyphs.warn,
                dominated.join(", ")
            ));
        }
        note
    }

    /// The table's sections: with two or more thread groups, one per group under its name;
    /// else one of all threads.
    fn sections(&self) -> Vec<(Option<&str>, &[OpLatency; 3])> {
        let l = self.latency;
        if l.groups.len() >= 2 {
            l.groups.iter().map(|g| (Some(g.name.as_str()), &g.ops)).collect()
        } else {
            vec![(None, &l.ops)]
        }
    }

    /// The rows of one section's op: the op's own (corrected from intended start where it ran
    /// open loop), then its service time where it ran open loop; rows with nothing timed are
    /// left out.
    fn op_rows<'s>(
        &self,
        op: Op,
        o: &OpLatency,
        pick: fn(&OpLatency) -> (Percentiles, Percentiles),
    ) -> Vec<(&'s str, Percentiles, Style)> {
        let t = self.theme;
        let (main, service) = pick(o);
        let open =
            self.latency.open_loop && (o.interval_uncorrected.count > 0 || o.run_uncorrected.count > 0);
        let mut rows = vec![(op.name(), main, t.op(op))];
        if open {
            rows.push(("  service time", service, t.dim()));
        }
        rows.retain(|r| r.1.count > 0);
        rows
    }

    /// Rows a table takes below its title and heading.
    fn table_rows(&self, pick: fn(&OpLatency) -> (Percentiles, Percentiles)) -> u16 {
        let n: usize = self
            .sections()
            .iter()
            .map(|(name, ops)| {
                usize::from(name.is_some())
                    + Op::ALL.iter().map(|&op| self.op_rows(op, &ops[op.index()], pick).len()).sum::<usize>()
            })
            .sum();
        u16::try_from(n).unwrap_or(u16::MAX)
    }

    /// A percentile table: a row per operation (plus a `service time` row where it ran open
    /// loop), per thread group where there are two or more.
    fn table(
        &self,
        buf: &mut Buffer,
        area: Rect,
        title: &str,
        pick: fn(&OpLatency) -> (Percentiles, Percentiles),
    ) {
        let t = self.theme;
        if area.is_empty() {
            return;
        }
        let mask = fit_columns(&TABLE_COLS, area.width);
        put(buf, area.x, area.y, area.right(), title, t.title());
        if area.height < 2 {
            return;
        }
        table_head(buf, area.x, area.y + 1, area.right(), &TABLE_COLS, mask, t.heading());
        let mut y = area.y + 2;
        for (group, ops) in self.sections() {
            if let Some(name) = group {
                if y >= area.bottom() {
                    return;
                }
                // The group says what its op rows measure.
                let open =
                    ops.iter().any(|o| o.interval_uncorrected.count > 0 || o.run_uncorrected.count > 0);
                let what = if self.latency.open_loop && open {
                    "open loop: op rows corrected from intended start"
                } else {
                    "service time"
                };
                let x = put(buf, area.x, y, area.right(), name, t.heading());
                put(buf, x + 1, y, area.right(), &format!("{} {what}", t.glyphs.dot), t.dim());
                y += 1;
            }
            for op in Op::ALL {
                for (name, p, name_style) in self.op_rows(op, &ops[op.index()], pick) {
                    if y >= area.bottom() {
                        return;
                    }
                    let vals = p.values();
                    table_row(buf, area.x, y, area.right(), &TABLE_COLS, mask, |i| match i {
                        0 => (name.to_owned(), name_style),
                        1 => {
                            #[allow(clippy::cast_precision_loss)]
                            let c = Si(p.count as f64).to_string();
                            (c, t.dim())
                        }
                        _ if p.count == 0 => ("-".to_owned(), t.dim()),
                        i => {
                            let style = if name_style == t.dim() {
                                t.dim()
                            } else if i == 4 {
                                t.value()
                            } else {
                                t.text()
                            };
                            (self.pct(vals[i - 2]), style)
                        }
                    });
                    y += 1;
                }
            }
        }
    }

    /// Small multiples: one band per operation with its name and `value` on the left.
    fn bands(
        &self,
        buf: &mut Buffer,
        area: Rect,
        label_value: impl Fn(Op) -> Option<u64>,
        mut draw: impl FnMut(&mut Buffer, Rect, Op),
    ) {
        let t = self.theme;
        let per = (area.height / 3).max(1);
        let label_w = 9.min(area.width);
        for (i, op) in Op::ALL.into_iter().enumerate() {
            let y = area.y + per * u16::try_from(i).unwrap_or(0);
            if y >= area.bottom() {
                break;
            }
            let h = per.min(area.bottom() - y);
            put(buf, area.x, y, area.x + label_w, op.name(), t.op(op).add_modifier(Modifier::BOLD));
            if let Some(v) = label_value(op) {
                let row = if h >= 2 { y + 1 } else { y };
                if h >= 2 {
                    put(buf, area.x, row, area.x + label_w, &self.pct(v), t.text());
                }
            }
            // Bands of 3+ rows keep a blank row below.
            let h = if h >= 3 { h - 1 } else { h };
            let plot = Rect { x: area.x + label_w, y, width: area.width - label_w, height: h };
            // A faint baseline so an empty band still reads as a chart.
            for x in plot.x..plot.right() {
                if let Some(c) = buf.cell_mut((x, plot.bottom() - 1)) {
                    c.set_symbol(t.glyphs.gauge_empty).set_style(t.axis());
                }
            }
            draw(buf, plot, op);
        }
    }

    fn p99_over_time(&self, buf: &mut Buffer, area: Rect) {
        let t = self.theme;
        let block = panel(t, "p99 over time", "1 column = 1 sample, log scale".to_owned());
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.is_empty() {
            return;
        }
        let inner = Rect { x: inner.x + 1, width: inner.width.saturating_sub(2), ..inner };
        let n = usize::from(inner.width.saturating_sub(9));
        let series = &self.timeline.p99_ns;
        let lo = series.iter().flat_map(|s| s.tail(n)).filter(|&v| v > 0).min().unwrap_or(1);
        let hi = series.iter().map(|s| s.max_of_tail(n)).max().unwrap_or(1);
        let axis = LogAxis::new(lo, hi);
        let body = Rect { height: inner.height.saturating_sub(1), ..inner };
        self.bands(
            buf,
            body,
            |op| series[op.index()].last(),
            |buf, plot, op| {
                let s = &series[op.index()];
                let shown = s.len().min(usize::from(plot.width));
                let x = plot.x + u16::try_from(usize::from(plot.width) - shown).unwrap_or(0);
                let plot = Rect { x, width: u16::try_from(shown).unwrap_or(0), ..plot };
                columns(buf, plot, s.tail(shown).map(|v| axis.fraction(v)), t.op(op), t);
            },
        );
        if inner.height >= 2 {
            let y = inner.bottom() - 1;
            let secs = self.timeline.sample_period.as_secs_f64();
            #[allow(clippy::cast_precision_loss)]
            let left = if secs > 0.0 { format!("-{:.0}s", secs * n as f64) } else { format!("-{n} samples") };
            put(buf, inner.x + 9, y, inner.right(), &left, t.dim());
            put_right(
                buf,
                inner.x,
                inner.right(),
                y,
                &format!("now {} scale {}{}{}", t.glyphs.dot, self.ns(lo), t.glyphs.dash, self.ns(hi)),
                t.dim(),
            );
        }
    }

    fn spectrum(&self, buf: &mut Buffer, area: Rect) {
        let t = self.theme;
        let block = panel(t, "Percentile spectrum", "whole run, x: 1/(1-p) log, y: log".to_owned());
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.is_empty() {
            return;
        }
        let inner = Rect { x: inner.x + 1, width: inner.width.saturating_sub(2), ..inner };
        // x from 0 (p0) to 5 (p99.999) decades of 1/(1-p).
        const DECADES: f64 = 5.0;
        let spectra = |op: Op| -> &[SpectrumPoint] { &self.latency.op(op).spectrum };
        let lo = Op::ALL
            .iter()
            .filter_map(|&op| spectra(op).iter().map(|p| p.value_ns).filter(|&v| v > 0).min())
            .min()
            .unwrap_or(1);
        let hi =
            Op::ALL.iter().filter_map(|&op| spectra(op).iter().map(|p| p.value_ns).max()).max().unwrap_or(1);
        let axis = LogAxis::new(lo, hi);
        let body = Rect { height: inner.height.saturating_sub(1), ..inner };
        let plot_w = body.width.saturating_sub(9);
        self.bands(
            buf,
            body,
            |op| spectra(op).last().map(|p| p.value_ns),
            |buf, plot, op| {
                let pts = spectra(op);
                let w = f64::from(plot.width.max(2) - 1);
                let values = (0..plot.width).map(|c| {
                    let x = f64::from(c) / w * DECADES;
                    let p = 100.0 * (1.0 - 10f64.powf(-x));
                    // The first point at or above p (the spectrum is a step function).
                    pts.iter()
                        .find(|s| s.percentile >= p - 1e-9)
                        .or(pts.last())
                        .and_then(|s| axis.fraction(s.value_ns))
                });
                columns(buf, plot, values, t.op(op), t);
            },
        );
        if inner.height >= 2 && plot_w > 0 {
            let y = inner.bottom() - 1;
            let ticks = ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"];
            let x0 = inner.x + 9;
            // The last tick first, right-aligned to the plot's end; the others where they fit.
            let last = ticks[ticks.len() - 1];
            let last_x = (x0 + plot_w).saturating_sub(u16::try_from(last.len()).unwrap_or(0)).max(x0);
            put(buf, last_x, y, inner.right(), last, t.dim());
            let mut next_free = x0;
            for (d, label) in ticks[..ticks.len() - 1].iter().enumerate() {
                #[allow(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    clippy::cast_precision_loss
                )]
                let col = (d as f64 / DECADES * f64::from(plot_w - 1)).round() as u16;
                let lw = u16::try_from(label.len()).unwrap_or(0);
                let x = x0 + col;
                if x >= next_free && x + lw < last_x {
                    put(buf, x, y, inner.right(), label, t.dim());
                    next_free = x + lw + 1;
                }
            }
        }
    }

    fn render_full(&self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let block = panel(t, "Latency", self.mode_note());
        let interval = |o: &OpLatency| (o.interval, o.interval_uncorrected);
        let run = |o: &OpLatency| (o.run, o.run_uncorrected);
        let rows_per_table = 2 + self.table_rows(interval).max(self.table_rows(run)).max(1);
        let side = area.width >= 2 * TABLE_WIDTH + 6;
        let tables_h = if side { rows_per_table } else { 2 * rows_per_table + 1 } + 2;
        let tables_h = tables_h.min(area.height);
        let top = Rect { height: tables_h, ..area };
        let inner = block.inner(top);
        block.render(top, buf);
        if !inner.is_empty() {
            let inner = Rect { x: inner.x + 1, width: inner.width.saturating_sub(2), ..inner };
            if side {
                let w = inner.width / 2;
                self.table(buf, Rect { width: w - 2, ..inner }, "Last interval", interval);
                self.table(
                    buf,
                    Rect { x: inner.x + w + 2, width: inner.width - w - 2, ..inner },
                    "Whole run",
                    run,
                );
            } else {
                self.table(
                    buf,
                    Rect { height: rows_per_table.min(inner.height), ..inner },
                    "Last interval",
                    interval,
                );
                let y = inner.y + rows_per_table + 1;
                if y < inner.bottom() {
                    self.table(buf, Rect { y, height: inner.bottom() - y, ..inner }, "Whole run", run);
                }
            }
        }
        let bottom = Rect { y: area.y + tables_h, height: area.height - tables_h, ..area };
        // Three bands of two rows, the axis and the border: below that the charts say nothing.
        if bottom.height < 9 {
            return;
        }
        let (over_time, spectrum) = halves(bottom, bottom.width >= 80);
        self.p99_over_time(buf, over_time);
        self.spectrum(buf, spectrum);
    }

    fn render_compact(&self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let note = if self.latency.open_loop { "interval (corrected)" } else { "last interval" };
        let block = panel(t, "Latency", note.to_owned());
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.is_empty() {
            return;
        }
        let inner = Rect { x: inner.x + 1, width: inner.width.saturating_sub(2), ..inner };
        let cols = [
            col("", 7, Align::Left, 0),
            col("p50", 7, Align::Right, 1),
            col("p99", 7, Align::Right, 0),
            col("p99.9", 7, Align::Right, 2),
            col("max", 7, Align::Right, 3),
        ];
        let mask = fit_columns(&cols, inner.width);
        let used: u16 =
            cols.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, c)| c.width + 1).sum();
        table_head(buf, inner.x, inner.y, inner.right(), &cols, mask, t.heading());
        let trend_x = inner.x + used + 1;
        let trend_w = inner.right().saturating_sub(trend_x);
        if trend_w >= 6 {
            put(buf, trend_x, inner.y, inner.right(), "p99 trend", t.heading());
        }
        let series = &self.timeline.p99_ns;
        let n = usize::from(trend_w);
        for (i, op) in Op::ALL.into_iter().enumerate() {
            let y = inner.y + 1 + u16::try_from(i).unwrap_or(0);
            if y >= inner.bottom() {
                break;
            }
            let p = self.latency.op(op).interval;
            let vals = [p.p50, p.p99, p.p999, p.max];
            table_row(buf, inner.x, y, inner.right(), &cols, mask, |c| match c {
                0 => (op.name().to_owned(), t.op(op)),
                _ if p.count == 0 => ("-".to_owned(), t.dim()),
                c => (self.pct(vals[c - 1]), if c == 2 { t.value() } else { t.text() }),
            });
            if trend_w >= 6 {
                let s = &series[op.index()];
                let shown = s.len().min(n);
                let plot = Rect {
                    x: trend_x + u16::try_from(n - shown).unwrap_or(0),
                    y,
                    width: u16::try_from(shown).unwrap_or(0),
                    height: 1,
                };
                // A trend: each operation on its own scale, floor a little below its minimum
                // (the table gives the figures).
                let (lo, hi) = (s.tail(shown).min().unwrap_or(0), s.max_of_tail(shown));
                let floor = lo.saturating_sub((hi - lo) / 8 + 1);
                columns(buf, plot, s.tail(shown).map(|v| linear(v - floor, hi - floor)), t.op(op), t);
            }
        }
        let y = inner.y + 5;
        if y < inner.bottom() {
            let l = self.latency;
            let timed = if l.timed_every > 1 {
                format!("1 in {} timed", l.timed_every)
            } else {
                "all timed".to_owned()
            };
            put(
                buf,
                inner.x,
                y,
                inner.right(),
                &format!("{timed} {} clock {:.1} ns", t.glyphs.dot, l.timer_cost_ns),
                t.dim(),
            );
        }
    }
}

impl Widget for &LatencyView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.is_empty() {
            return;
        }
        if self.compact {
            self.render_compact(area, buf);
        } else {
            self.render_full(area, buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OpLatency;

    fn rows(buf: &Buffer) -> Vec<String> {
        (0..buf.area.height).map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect()).collect()
    }

    fn stats(open_loop: bool) -> LatencyStats {
        let p = |b: u64| Percentiles {
            count: 1000,
            p50: b,
            p90: 2 * b,
            p99: 3 * b,
            p999: 4 * b,
            p9999: 5 * b,
            max: 1000 * b,
        };
        let op = |b| OpLatency {
            interval: p(b),
            run: p(b + 1),
            interval_uncorrected: p(b / 2),
            run_uncorrected: p(b / 2),
            spectrum: vec![],
            spectrum_uncorrected: vec![],
        };
        LatencyStats {
            open_loop,
            ops: [op(40), op(100), OpLatency::default()],
            timed_every: 1,
            timer_cost_ns: 7.0,
            ..LatencyStats::default()
        }
    }

    #[test]
    fn percentiles_under_the_clock_floor_show_as_less_than_and_dominated_ops_are_named() {
        let mut l = stats(false);
        l.floor_ns = 90.0;
        l.overhead_ns = Some(20.0);
        let tl = Timeline::default();
        let t = Theme::default();
        let v = LatencyView::new(&l, &tl, &t);
        let mut buf = Buffer::empty(Rect::new(0, 0, 70, 6));
        let a = buf.area;
        v.table(&mut buf, a, "Last interval", |o| (o.interval, o.interval_uncorrected));
        let r = rows(&buf);
        // 40 and 80 ns are under the 90 ns floor; 120 ns and up print as measured.
        assert_eq!(r[2], "lookup           1.00k   <90ns   <90ns   120ns   160ns   200ns  40.0µs");
        assert_eq!(r[3], "insert           1.00k   100ns   200ns   300ns   400ns   500ns   100µs");
        // Lookup's whole-run p50 (41 ns) is within twice the engine + clock (27 ns); insert's is not.
        let note = v.mode_note();
        assert!(note.contains("engine ~20 ns/op"), "{note}");
        assert!(note.contains("lookup: p50 <= 2x engine+clock"), "{note}");
        assert!(!note.contains("insert"), "{note}");
    }

    #[test]
    fn closed_loop_table_has_a_row_per_timed_op() {
        let l = stats(false);
        let tl = Timeline::default();
        let t = Theme::default();
        let v = LatencyView::new(&l, &tl, &t);
        let mut buf = Buffer::empty(Rect::new(0, 0, 70, 6));
        let a = buf.area;
        v.table(&mut buf, a, "Last interval", |o| (o.interval, o.interval_uncorrected));
        let r = rows(&buf);
        assert_eq!(r[1], "                 timed     p50     p90     p99   p99.9  p99.99     max");
        assert_eq!(r[2], "lookup           1.00k    40ns    80ns   120ns   160ns   200ns  40.0µs");
        assert_eq!(r[3], "insert           1.00k   100ns   200ns   300ns   400ns   500ns   100µs");
        assert!(!r[4].contains("remove"), "nothing timed, no row: {}", r[4]);
    }

    #[test]
    fn open_loop_adds_service_time_rows() {
        let l = stats(true);
        let tl = Timeline::default();
        let t = Theme::new(crate::theme::Palette::Dark, true);
        let v = LatencyView::new(&l, &tl, &t);
        let mut buf = Buffer::empty(Rect::new(0, 0, 70, 9));
        let a = buf.area;
        v.table(&mut buf, a, "Whole run", |o| (o.run, o.run_uncorrected));
        let r = rows(&buf);
        assert_eq!(r[2], "lookup           1.00k    41ns    82ns   123ns   164ns   205ns  41.0us");
        assert_eq!(r[3], "  service time   1.00k    20ns    40ns    60ns    80ns   100ns  20.0us");
        assert!(r[4].starts_with("insert "));
        assert!(r[5].starts_with("  service time"));
    }

    #[test]
    fn narrow_tables_keep_p50_and_p99_first() {
        let l = stats(false);
        let tl = Timeline::default();
        let t = Theme::default();
        let v = LatencyView::new(&l, &tl, &t);
        let mut buf = Buffer::empty(Rect::new(0, 0, 30, 4));
        let a = buf.area;
        v.table(&mut buf, a, "x", |o| (o.interval, o.interval_uncorrected));
        assert_eq!(rows(&buf)[1], "                   p50     p99");
    }

    #[test]
    fn spectrum_bands_rise_toward_the_tail() {
        let mut l = stats(false);
        l.ops[0].spectrum = vec![
            SpectrumPoint { percentile: 50.0, value_ns: 10 },
            SpectrumPoint { percentile: 99.0, value_ns: 100 },
            SpectrumPoint { percentile: 100.0, value_ns: 10_000 },
        ];
        let tl = Timeline::default();
        let t = Theme::default();
        let v = LatencyView::new(&l, &tl, &t);
        let mut buf = Buffer::empty(Rect::new(0, 0, 40, 14));
        let a = buf.area;
        v.spectrum(&mut buf, a);
        let r = rows(&buf);
        // Lookup's band: rows 1-3 (4 rows per band, one blank). Its last column is full height,
        // its first low.
        let plot_x0 = 2 + 9;
        assert_eq!(buf[(37, 1)].symbol(), "█", "{}", r[1]);
        assert_ne!(buf[(plot_x0, 1)].symbol(), "█");
        assert!(r[1].contains("lookup"));
        assert!(r[12].contains("0%") && r[12].contains("99.999%"), "{}", r[12]);
    }
}
