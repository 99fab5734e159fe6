//! Contention: per-thread counters, the hottest lines (the header line first: every insert
//! and remove writes it), and sparklines of the run's rates over time.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::Widget;

use crate::model::{LineHeat, Series, ThreadRow, ThreadTable, Timeline};
use crate::panel::{panel, put};
use crate::plot::{col, columns, fit_columns, linear, table_head, table_row, Align, Column};
use crate::state::{HOT_LINES, SORT_KEYS};
use crate::theme::Theme;
use crate::units::{Percent, Si};

/// The contention view: full screen, or a compact panel for the dashboard.
#[derive(Clone, Copy, Debug)]
pub struct ContentionView<'a> {
    threads: &'a ThreadTable,
    heat: &'a LineHeat,
    timeline: &'a Timeline,
    compact: bool,
    hot_lines: bool,
    sort: &'static str,
    selected: Option<usize>,
    theme: &'a Theme,
}

impl<'a> ContentionView<'a> {
    /// The view of `threads`' counters, `heat`'s hot lines and `timeline`'s rates.
    pub fn new(
        threads: &'a ThreadTable,
        heat: &'a LineHeat,
        timeline: &'a Timeline,
        theme: &'a Theme,
    ) -> Self {
        ContentionView {
            threads,
            heat,
            timeline,
            compact: false,
            hot_lines: true,
            sort: SORT_KEYS[0],
            selected: None,
            theme,
        }
    }

    /// Sorts the threads table by the column titled `key` (one of [`SORT_KEYS`]).
    #[must_use]
    pub fn sort(mut self, key: &'static str) -> Self {
        self.sort = key;
        self
    }

    /// Marks the hottest line of rank `rank` as selected.
    #[must_use]
    pub fn selected(mut self, rank: Option<usize>) -> Self {
        self.selected = rank;
        self
    }

    /// Whether to show the hottest lines (off for backends without per-line data: the
    /// sparklines take the room).
    #[must_use]
    pub fn hot_lines(mut self, show: bool) -> Self {
        self.hot_lines = show;
        self
    }

    /// The dashboard's panel: fewer columns, the header line, one sparkline.
    #[must_use]
    pub fn compact(mut self, compact: bool) -> Self {
        self.compact = compact;
        self
    }
}

const THREAD_COLS: [Column; 13] = [
    col("thread", 6, Align::Left, 0),
    col("group", 8, Align::Left, 4),
    col("core", 5, Align::Right, 1),
    col("ops/s", 7, Align::Right, 0),
    col("lookups", 7, Align::Right, 6),
    col("inserts", 7, Align::Right, 6),
    col("removes", 7, Align::Right, 6),
    col("hit%", 6, Align::Right, 5),
    col("skips", 6, Align::Right, 2),
    col("retries", 7, Align::Right, 2),
    col("full", 5, Align::Right, 5),
    col("stale", 6, Align::Right, 5),
    col("viol", 5, Align::Right, 1),
];

#[allow(clippy::cast_precision_loss)]
fn si(v: u64) -> String {
    Si(v as f64).to_string()
}

/// The text and style of the column titled `title` for `row` (`None` = the totals row).
fn thread_cell(t: &Theme, table: &ThreadTable, row: Option<&ThreadRow>, title: &str) -> (String, Style) {
    let sum = |f: fn(&ThreadRow) -> u64| -> u64 { table.rows.iter().map(f).sum() };
    let get = |f: fn(&ThreadRow) -> u64| -> u64 { row.map_or_else(|| sum(f), f) };
    let count_style = |v: u64, warn: bool| if v > 0 && warn { t.warn() } else { t.text() };
    match title {
        "thread" => match row {
            Some(r) => (format!("T{}", r.index), t.value()),
            None => ("all".to_owned(), t.heading()),
        },
        "group" => (row.map_or(String::new(), |r| table.group_name(r.group).to_owned()), t.dim()),
        "core" => match row {
            Some(ThreadRow { core: Some(c), .. }) => (c.to_string(), t.text()),
            Some(_) => ("-".to_owned(), t.dim()),
            None => (String::new(), t.dim()),
        },
        "ops/s" => (Si(row.map_or_else(|| table.total_ops_per_s(), |r| r.ops_per_s)).to_string(), t.value()),
        "lookups" => (si(get(|r| r.lookups)), t.text()),
        "inserts" => (si(get(|r| r.inserts)), t.text()),
        "removes" => (si(get(|r| r.removes)), t.text()),
        "hit%" => {
            let (h, m) = (get(|r| r.hits), get(|r| r.misses));
            (Percent::of(h, h + m).to_string(), t.text())
        }
        "skips" => {
            let v = get(|r| r.ticket_skips);
            (si(v), count_style(v, true))
        }
        "retries" => {
            let v = get(|r| r.ring_retries);
            (si(v), count_style(v, true))
        }
        "full" => {
            let v = get(|r| r.full_refusals);
            (si(v), count_style(v, true))
        }
        "stale" => (si(get(|r| r.stale_rejections)), t.text()),
        _ => {
            let v = get(|r| r.violations);
            (si(v), if v > 0 { t.alarm() } else { t.good() })
        }
    }
}

/// What the threads table sorts `row` by for the column titled `key` (larger first).
#[allow(clippy::cast_precision_loss)]
fn sort_value(row: &ThreadRow, key: &str) -> f64 {
    match key {
        "ops/s" => row.ops_per_s,
        "lookups" => row.lookups as f64,
        "inserts" => row.inserts as f64,
        "removes" => row.removes as f64,
        "hit%" => {
            let n = row.hits + row.misses;
            if n == 0 {
                -1.0
            } else {
                row.hits as f64 / n as f64
            }
        }
        "skips" => row.ticket_skips as f64,
        "retries" => row.ring_retries as f64,
        "full" => row.full_refusals as f64,
        "stale" => row.stale_rejections as f64,
        "viol" => row.violations as f64,
        _ => 0.0,
    }
}

/// The rows of `table` in the order of the column titled `sort`: the table's own order for
/// "thread", else largest first, ties in the table's order.
fn sorted_rows<'t>(table: &'t ThreadTable, sort: &str) -> Vec<&'t ThreadRow> {
    let mut rows: Vec<&ThreadRow> = table.rows.iter().collect();
    if sort != SORT_KEYS[0] {
        rows.sort_by(|a, b| sort_value(b, sort).total_cmp(&sort_value(a, sort)));
    }
    rows
}

/// Draws the thread table in `area` with the columns that fit, sorted by the column titled
/// `sort` (its heading marked); returns the rows used.
fn thread_table(
    buf: &mut Buffer,
    area: Rect,
    t: &Theme,
    table: &ThreadTable,
    cols: &[Column],
    sort: &str,
) -> u16 {
    if area.is_empty() {
        return 0;
    }
    let mask = fit_columns(cols, area.width);
    table_head(buf, area.x, area.y, area.right(), cols, mask, t.heading());
    if sort != SORT_KEYS[0] {
        // The sorted column's heading, marked like a badge.
        let mut x = area.x;
        for (i, c) in cols.iter().enumerate() {
            if mask & (1 << i) == 0 {
                continue;
            }
            if c.title == sort {
                let w = c.width.min(area.right().saturating_sub(x));
                buf.set_style(Rect { x, y: area.y, width: w, height: 1 }, t.badge());
            }
            x += c.width + 1;
        }
    }
    let mut y = area.y + 1;
    let room = area.height.saturating_sub(1);
    let with_total = table.rows.len() > 1 && usize::from(room) > table.rows.len();
    let shown = usize::from(room.saturating_sub(u16::from(with_total))).min(table.rows.len());
    for row in sorted_rows(table, sort).into_iter().take(shown) {
        table_row(buf, area.x, y, area.right(), cols, mask, |i| {
            thread_cell(t, table, Some(row), cols[i].title)
        });
        y += 1;
    }
    if shown < table.rows.len() && room > 0 {
        // Say what was left out rather than cutting silently.
        let last = y - 1;
        let more = table.rows.len() - shown + 1;
        buf.set_style(Rect { x: area.x, y: last, width: area.width, height: 1 }, Style::reset());
        for x in area.x..area.right() {
            if let Some(c) = buf.cell_mut((x, last)) {
                c.set_symbol(" ");
            }
        }
        put(buf, area.x, last, area.right(), &format!("{} {more} more threads", t.glyphs.ellipsis), t.dim());
    }
    if with_total {
        table_row(buf, area.x, y, area.right(), cols, mask, |i| thread_cell(t, table, None, cols[i].title));
        y += 1;
    }
    y - area.y
}

/// One labelled sparkline band: `label value` on the first row, the plot below (or beside,
/// when the band is one row high).
fn spark_band(buf: &mut Buffer, area: Rect, t: &Theme, label: &str, series: &Series, style: Style) {
    if area.is_empty() {
        return;
    }
    let last = series.last().unwrap_or(0);
    let (text_area, plot) = if area.height >= 2 {
        (Rect { height: 1, ..area }, Rect { y: area.y + 1, height: area.height - 1, ..area })
    } else {
        let lw = 22.min(area.width);
        (Rect { width: lw, ..area }, Rect { x: area.x + lw, width: area.width - lw, ..area })
    };
    let n = usize::from(plot.width);
    let max = series.max_of_tail(n);
    // A sparkline shows the trend: its floor sits a little below the smallest value shown
    // (the label gives the absolute figures).
    let min = series.tail(n).min().unwrap_or(0);
    let floor = min.saturating_sub((max - min) / 8 + 1);
    let x = put(buf, text_area.x, text_area.y, text_area.right(), label, t.dim());
    #[allow(clippy::cast_precision_loss)]
    let x = put(buf, x + 1, text_area.y, text_area.right(), &Si(last as f64).to_string(), t.value());
    if area.height >= 2 {
        #[allow(clippy::cast_precision_loss)]
        put(buf, x + 1, text_area.y, text_area.right(), &format!("(peak {})", Si(max as f64)), t.dim());
    }
    // Newest at the right edge.
    let shown = series.len().min(n);
    let plot = Rect {
        x: plot.x + u16::try_from(n - shown).unwrap_or(0),
        width: u16::try_from(shown).unwrap_or(0),
        ..plot
    };
    columns(buf, plot, series.tail(shown).map(|v| linear(v - floor, max - floor)), style, t);
}

/// The [`HOT_LINES`] hottest slot lines of `heat`, heaviest first (ties: lower line first):
/// the rows of the contention view's hottest lines, which `j`/`k` select and Enter opens.
pub fn hottest_lines(heat: &LineHeat) -> Vec<usize> {
    let (top, len) = hottest::<HOT_LINES>(heat);
    top[..len].iter().map(|&(_, line)| line).collect()
}

/// The hottest slot lines, heaviest first, without allocating: up to `N`.
fn hottest<const N: usize>(heat: &LineHeat) -> ([(u32, usize); N], usize) {
    let mut top = [(0u32, 0usize); N];
    let mut len = 0;
    for (line, &w) in heat.slots.writes.iter().enumerate() {
        if w == 0 || (len == N && w <= top[N - 1].0) {
            continue;
        }
        // Insert in descending order (ties: lower line first).
        let mut i = if len < N { len } else { N - 1 };
        while i > 0 && top[i - 1].0 < w {
            if i < N {
                top[i] = top[i - 1];
            }
            i -= 1;
        }
        top[i] = (w, line);
        len = (len + 1).min(N);
    }
    (top, len)
}

impl ContentionView<'_> {
    fn draw_hot_lines(&self, buf: &mut Buffer, area: Rect) {
        let t = self.theme;
        let block = panel(t, "Hottest lines", "writes in the last interval".to_owned());
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.is_empty() {
            return;
        }
        let (top, len) = hottest::<HOT_LINES>(self.heat);
        // The line column fits its widest label ("slots L8191" in a 2^16-slot table): line
        // numbers are never cut. The last column holds a bar, or what the header line holds.
        let widest = top.iter().take(len).map(|&(_, line)| format!("slots L{line}").len()).max().unwrap_or(0);
        let line_w = u16::try_from(widest).unwrap_or(u16::MAX).max(9);
        let cols = [
            col("line", line_w, Align::Left, 0),
            col("writes", 7, Align::Right, 0),
            col("per s", 7, Align::Right, 1),
            col("writers", 7, Align::Right, 0),
            col("", 10, Align::Left, 2),
        ];
        let (x, right) = (inner.x + 1, inner.right().saturating_sub(1));
        let mask = fit_columns(&cols, right.saturating_sub(x));
        if !self.heat.measured {
            put(buf, x, inner.y, right, "not measured: the workers run without probes", t.dim());
            return;
        }
        table_head(buf, x, inner.y, right, &cols, mask, t.heading());
        let mut y = inner.y + 1;
        let h = self.heat;
        let rate = |w: u64| h.per_second(w).map_or("-".to_owned(), |r| Si(r).to_string());
        if y < inner.bottom() {
            let writers = h.header_writers;
            table_row(buf, x, y, right, &cols, mask, |i| match i {
                0 => ("header".to_owned(), t.value()),
                1 => (si(h.header_writes), t.text()),
                2 => (rate(h.header_writes), t.text()),
                3 => (writers.to_string(), if writers >= 2 { t.shared() } else { t.text() }),
                // What the header line holds: the count and the two ring cursors.
                _ => ("counters".to_owned(), t.dim()),
            });
            y += 1;
        }
        let max = top[0].0;
        for (rank, &(w, line)) in top.iter().take(len).enumerate() {
            if y >= inner.bottom() {
                break;
            }
            if self.selected == Some(rank) {
                buf.set_style(Rect { x, y, width: right.saturating_sub(x), height: 1 }, t.selected_row());
            }
            let writers = h.slots.writers(line);
            table_row(buf, x, y, right, &cols, mask, |i| match i {
                0 => (format!("slots L{line}"), t.text()),
                1 => (si(u64::from(w)), t.text()),
                2 => (rate(u64::from(w)), t.text()),
                3 => {
                    if writers >= 2 {
                        (format!("{} {writers}", t.glyphs.shared), t.shared())
                    } else {
                        (writers.to_string(), t.text())
                    }
                }
                _ => (String::new(), t.dim()),
            });
            if mask & (1 << 4) != 0 {
                // A bar of this line's writes against the hottest line, log-scaled like the
                // map's heat (in thousandths of the hottest line's log).
                let bx = x + cols[..4].iter().map(|c| c.width + 1).sum::<u16>();
                let log = |v: u32| f64::from(v).ln_1p();
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let share = (1000.0 * log(w) / log(max).max(f64::MIN_POSITIVE)) as u64;
                let width = cols[4].width.min(right.saturating_sub(bx));
                crate::generations::draw_hbar(buf, bx, y, width, share, 1000, t.chart(), t);
            }
            y += 1;
        }
        if len == 0 && y < inner.bottom() {
            put(buf, x, y, right, "no slot line written in the interval", t.dim());
        }
    }

    fn sparklines(&self, buf: &mut Buffer, area: Rect) {
        let t = self.theme;
        let secs = self.timeline.sample_period.as_secs_f64();
        let span = if secs > 0.0 {
            #[allow(clippy::cast_precision_loss)]
            let s = secs * area.width.saturating_sub(4) as f64;
            format!("1 column = 1 sample, {s:.0} s across")
        } else {
            "1 column = 1 sample".to_owned()
        };
        let block = panel(t, "Over time", span);
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.is_empty() {
            return;
        }
        let bands: [(&str, &Series, Style); 4] = [
            ("ops/s", &self.timeline.ops_per_s, t.chart()),
            ("ticket skips/s", &self.timeline.ticket_skips_per_s, t.warn()),
            ("ring retries/s", &self.timeline.ring_retries_per_s, t.warn()),
            ("header writes/s", &self.timeline.header_writes_per_s, t.chart()),
        ];
        let inner = Rect { x: inner.x + 1, width: inner.width.saturating_sub(2), ..inner };
        let per = (inner.height / 4).max(1);
        for (i, (label, series, style)) in bands.iter().enumerate() {
            let y = inner.y + per * u16::try_from(i).unwrap_or(0);
            if y >= inner.bottom() {
                break;
            }
            let h = per.min(inner.bottom() - y);
            // Leave a blank row between tall bands.
            let h = if h >= 4 { h - 1 } else { h };
            spark_band(buf, Rect { y, height: h, ..inner }, t, label, series, *style);
        }
    }

    fn render_full(&self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let want = u16::try_from(self.threads.rows.len()).unwrap_or(u16::MAX).saturating_add(4);
        let top_h = want.min(area.height / 2).max(area.height.min(5));
        let top = Rect { height: top_h, ..area };
        let bottom = Rect { y: area.y + top_h, height: area.height - top_h, ..area };
        let block = panel(t, "Threads", "1 row = 1 worker thread (counts since start)".to_owned());
        let inner = block.inner(top);
        block.render(top, buf);
        let inner = Rect { x: inner.x + 1, width: inner.width.saturating_sub(2), ..inner };
        thread_table(buf, inner, t, self.threads, &THREAD_COLS, self.sort);
        if bottom.is_empty() {
            return;
        }
        let left_w = if !self.hot_lines {
            0
        } else if bottom.width >= 90 {
            bottom.width * 9 / 20
        } else {
            bottom.width
        };
        if left_w > 0 {
            self.draw_hot_lines(buf, Rect { width: left_w, ..bottom });
        }
        if left_w < bottom.width {
            self.sparklines(buf, Rect { x: bottom.x + left_w, width: bottom.width - left_w, ..bottom });
        }
    }

    fn render_compact(&self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let block = panel(t, "Contention", "1 row = 1 thread".to_owned());
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.is_empty() {
            return;
        }
        let inner = Rect { x: inner.x + 1, width: inner.width.saturating_sub(2), ..inner };
        let cols = [
            THREAD_COLS[0],
            THREAD_COLS[2],
            THREAD_COLS[3],
            col("skips", 6, Align::Right, 2),
            col("retries", 7, Align::Right, 3),
            col("viol", 5, Align::Right, 1),
        ];
        // Bottom two rows: the header line and the ops/s sparkline.
        let extra = if inner.height >= 6 { 2 } else { 0 };
        let table_area = Rect { height: inner.height - extra, ..inner };
        thread_table(buf, table_area, t, self.threads, &cols, self.sort);
        if extra == 0 {
            return;
        }
        let y = inner.bottom() - 2;
        let h = self.heat;
        let mut x = put(buf, inner.x, y, inner.right(), "header line ", t.dim());
        match h.per_second(h.header_writes) {
            Some(r) => x = put(buf, x, y, inner.right(), &format!("{}/s", Si(r)), t.value()),
            None => x = put(buf, x, y, inner.right(), &si(h.header_writes), t.value()),
        }
        let style = if h.header_writers >= 2 { t.shared() } else { t.text() };
        let x = put(buf, x, y, inner.right(), &format!("  {} writers", h.header_writers), style);
        let _ = x;
        spark_band(
            buf,
            Rect { y: y + 1, height: 1, ..inner },
            t,
            "ops/s",
            &self.timeline.ops_per_s,
            t.chart(),
        );
    }
}

impl Widget for &ContentionView<'_> {
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
    use crate::model::LineWrites;

    fn rows(buf: &Buffer) -> Vec<String> {
        (0..buf.area.height).map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect()).collect()
    }

    fn table() -> ThreadTable {
        ThreadTable {
            groups: vec!["main".into()],
            rows: vec![
                ThreadRow {
                    index: 0,
                    core: Some(2),
                    ops_per_s: 1.5e6,
                    ticket_skips: 3,
                    ..ThreadRow::default()
                },
                ThreadRow { index: 1, core: None, ops_per_s: 2.5e6, violations: 2, ..ThreadRow::default() },
            ],
        }
    }

    #[test]
    fn hottest_keeps_the_top_in_order() {
        let heat = LineHeat {
            slots: LineWrites { writes: vec![5, 0, 9, 9, 1, 7, 2], writers: vec![], ..LineWrites::default() },
            ..LineHeat::default()
        };
        let (top, len) = hottest::<3>(&heat);
        assert_eq!(len, 3);
        assert_eq!(top, [(9, 2), (9, 3), (7, 5)]);
        let (_, none) = hottest::<3>(&LineHeat::default());
        assert_eq!(none, 0);
    }

    #[test]
    fn thread_table_rows_totals_and_loud_violations() {
        let t = Theme::default();
        let tt = table();
        let mut buf = Buffer::empty(Rect::new(0, 0, 40, 4));
        let cols = [THREAD_COLS[0], THREAD_COLS[2], THREAD_COLS[3], THREAD_COLS[8], THREAD_COLS[12]];
        let area = buf.area;
        thread_table(&mut buf, area, &t, &tt, &cols, "thread");
        let r = rows(&buf);
        assert_eq!(r[0], "thread  core   ops/s  skips  viol       ");
        assert_eq!(r[1], "T0         2   1.50M      3     0       ");
        assert_eq!(r[2], "T1         -   2.50M      0     2       ");
        assert_eq!(r[3], "all            4.00M      3     2       ");
        assert_eq!(buf[(32, 2)].bg, t.alarm().bg.unwrap());
        assert_eq!(buf[(32, 1)].fg, t.good().fg.unwrap());
    }

    #[test]
    fn too_many_threads_say_how_many_are_hidden() {
        let t = Theme::default();
        let mut tt = table();
        for i in 2..10 {
            tt.rows.push(ThreadRow { index: i, ..ThreadRow::default() });
        }
        let mut buf = Buffer::empty(Rect::new(0, 0, 30, 4));
        let area = buf.area;
        thread_table(&mut buf, area, &t, &tt, &THREAD_COLS, "thread");
        let r = rows(&buf);
        assert!(r[3].starts_with("… 8 more threads"), "{}", r[3]);
    }

    #[test]
    fn the_table_sorts_largest_first_by_the_marked_column() {
        let t = Theme::default();
        let mut tt = table();
        tt.rows = (0..4u32)
            .map(|i| ThreadRow {
                index: i,
                ops_per_s: [5.0, 40.0, 1.0, 40.0][i as usize],
                ..ThreadRow::default()
            })
            .collect();
        let cols = [col("thread", 6, Align::Left, 0), col("ops/s", 7, Align::Right, 0)];
        let mut buf = Buffer::empty(Rect::new(0, 0, 20, 6));
        let area = buf.area;
        thread_table(&mut buf, area, &t, &tt, &cols, "ops/s");
        let r = rows(&buf);
        let order: Vec<&str> = r[1..5].iter().map(|l| l.split_whitespace().next().unwrap()).collect();
        assert_eq!(order, ["T1", "T3", "T0", "T2"], "largest first, ties in thread order");
        assert_eq!(buf[(8, 0)].style().bg, t.badge().bg, "the sorted heading is marked");
        assert_ne!(buf[(0, 0)].style().bg, t.badge().bg);
        let mut buf = Buffer::empty(Rect::new(0, 0, 20, 6));
        thread_table(&mut buf, area, &t, &tt, &cols, "thread");
        assert!(rows(&buf)[1].starts_with("T0"), "the threads' own order");
    }

    #[test]
    fn hot_lines_lead_with_the_header_and_mark_sharing() {
        let t = Theme::default();
        let heat = LineHeat {
            measured: true,
            interval_ns: 1_000_000_000,
            slots: LineWrites { writes: vec![0, 50, 7], writers: vec![0, 2, 1], ..LineWrites::default() },
            header_writes: 90,
            header_writers: 3,
            ..LineHeat::default()
        };
        let tt = table();
        let tl = Timeline::default();
        let v = ContentionView::new(&tt, &heat, &tl, &t);
        let mut buf = Buffer::empty(Rect::new(0, 0, 50, 7));
        let a = buf.area;
        v.draw_hot_lines(&mut buf, a);
        let r = rows(&buf);
        assert!(r[2].starts_with("│ header         90      90       3"), "{}", r[2]);
        assert!(r[3].starts_with("│ slots L1       50      50     × 2 ██████████"), "{}", r[3]);
        assert!(r[4].starts_with("│ slots L2        7       7       1 █████▍ "), "{}", r[4]);
    }

    #[test]
    fn hot_line_numbers_appear_whole_in_a_large_table() {
        // A 2^20-slot table has 131072 lines: six-digit line numbers must not be cut.
        let t = Theme::default();
        let mut writes = vec![0; 131_072];
        let mut writers = vec![0; 131_072];
        for (line, w) in [(131_071usize, 40u32), (100_000, 30), (7, 20)] {
            writes[line] = w;
            writers[line] = 2;
        }
        let heat = LineHeat {
            measured: true,
            interval_ns: 1_000_000_000,
            slots: LineWrites { writes, writers, ..LineWrites::default() },
            header_writes: 90,
            header_writers: 2,
            ..LineHeat::default()
        };
        let tt = table();
        let tl = Timeline::default();
        let v = ContentionView::new(&tt, &heat, &tl, &t);
        let mut buf = Buffer::empty(Rect::new(0, 0, 54, 7));
        let a = buf.area;
        v.draw_hot_lines(&mut buf, a);
        let r = rows(&buf);
        for (row, line) in [(3, "slots L131071 "), (4, "slots L100000 "), (5, "slots L7 ")] {
            assert!(r[row].starts_with(&format!("│ {line}")), "{}", r[row]);
        }
        assert!(r[2].contains("counters"), "{}", r[2]);
    }

    #[test]
    fn sparkline_band_puts_the_newest_sample_at_the_right() {
        let t = Theme::default();
        let s = Series::from_values(10, [1, 2, 4, 8]);
        let mut buf = Buffer::empty(Rect::new(0, 0, 30, 1));
        let area = buf.area;
        spark_band(&mut buf, area, &t, "ops/s", &s, Style::new());
        assert_eq!(rows(&buf)[0], "ops/s 8                   ▁▂▄█");
    }
}
