//! Free list: the ring of free ids in ticket order with its alloc (`A`) and free (`F`)
//! cursors, how many ids are free, RESERVED cells inside the free window (a remover mid-push:
//! the next insert that meets one skips it), and the next ids with their slot and line.
//!
//! The ring holds a free id in every cell from the alloc cursor up to the free cursor; inserts
//! take from `A`, removes push at `F`, both moving forward around the ring.
//!
//! With the magazine allocator the view adds each writer's magazine under the next ids: its
//! fill against its size, and the ids its next inserts take (newest first), with their slot
//! and line; the summary counts the ids in magazines beside those in the ring.

use std::ops::Range;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::Widget;
use slotscope_table::Snapshot;

use crate::mapgrid::{MapGrid, MapPainter};
use crate::model::LineHeat;
use crate::occupancy::ordinal_glyph;
use crate::panel::{draw_legend, panel, put, put_right, with_footnote, HeatScale, LegendItem};
use crate::state::{Zoom, MAX_NEXT_IDS};
use crate::theme::Theme;
use crate::units::Percent;

/// The free-list view: the full ring, or a compact panel for the dashboard.
#[derive(Clone, Copy, Debug)]
pub struct FreeList<'a> {
    snapshot: &'a Snapshot,
    heat: &'a LineHeat,
    next_ids: usize,
    compact: bool,
    theme: &'a Theme,
}

impl<'a> FreeList<'a> {
    /// The ring of `snapshot`, coloured by the ring lines' heat.
    pub fn new(snapshot: &'a Snapshot, heat: &'a LineHeat, theme: &'a Theme) -> Self {
        FreeList { snapshot, heat, next_ids: MAX_NEXT_IDS, compact: false, theme }
    }

    /// How many upcoming ids to list (the full view lists as many as fit, up to this).
    #[must_use]
    pub fn next_ids(mut self, n: usize) -> Self {
        self.next_ids = n.min(MAX_NEXT_IDS);
        self
    }

    /// The dashboard's panel: a gauge, the cursors, a strip of the ring, the next ids.
    #[must_use]
    pub fn compact(mut self, compact: bool) -> Self {
        self.compact = compact;
        self
    }
}

/// The ring's state derived from the header cursors.
#[derive(Clone, Copy, Debug)]
struct Window {
    n: u64,
    alloc: u64,
    free: u64,
    /// Free ids between the cursors, clamped to N.
    len: u64,
    /// Ring cells that hold an id: the free ids the ring has now. Not the cursors'
    /// difference: under contention every ticket skip moves the alloc cursor on while the id
    /// it skipped stays in its cell (found again a lap later), so after a while the cursors'
    /// difference says nothing about how many ids there are.
    held: u64,
}

/// Free ids between the cursors. The alloc cursor is 32 bits wide (it wraps) and either
/// cursor may run ahead: pops skip RESERVED cells and pushes skip cells still holding an id,
/// so under contention the free cursor can trail the alloc one for a while (no ids between
/// them: 0, not a wrapped-around N).
fn ids_between(alloc: u64, free: u64, n: u64) -> u64 {
    // Truncation is the point: the difference modulo 2^32, read as signed.
    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
    let d = (free as u32).wrapping_sub(alloc as u32) as i32;
    u64::try_from(d).map_or(0, |d| d.min(n))
}

impl Window {
    fn of(s: &Snapshot) -> Window {
        let n = s.capacity() as u64;
        let (alloc, free) = (s.alloc_cursor(), s.free_cursor());
        let held = (0..s.capacity()).filter(|&r| s.ring_cell(r).is_some()).count() as u64;
        Window { n, alloc, free, len: ids_between(alloc, free, n), held }
    }

    /// Whether ticket residue `r` lies between the cursors (its cell should hold a free id).
    #[inline]
    fn contains(&self, r: u64) -> bool {
        r.wrapping_sub(self.alloc % self.n) % self.n < self.len
    }

    /// How many residues of `lo..hi` lie between the cursors.
    fn overlap(&self, lo: u64, hi: u64) -> u64 {
        let a = self.alloc % self.n;
        let end = a + self.len;
        let part = |s: u64, e: u64| e.min(hi).saturating_sub(s.max(lo));
        part(a, end.min(self.n)) + if end > self.n { part(0, end - self.n) } else { 0 }
    }

    fn residue(&self, t: u64) -> u64 {
        t % self.n
    }
}

/// RESERVED cells between the cursors (in-flight pushes), by a scan of the whole ring.
fn in_flight(s: &Snapshot, w: &Window) -> u64 {
    let mut count = 0;
    for i in 0..w.len {
        #[allow(clippy::cast_possible_truncation)]
        let r = w.residue(w.alloc.wrapping_add(i)) as usize;
        if s.ring_cell(r).is_none() {
            count += 1;
        }
    }
    count
}

struct RingPainter<'a> {
    snapshot: &'a Snapshot,
    window: Window,
    ring_writes: &'a [u32],
    scale: HeatScale,
    theme: &'a Theme,
}

impl RingPainter<'_> {
    fn heat_of(&self, residues: &Range<usize>) -> u8 {
        let g = self.snapshot.geometry();
        let mut max = 0;
        let mut last_line = usize::MAX;
        for r in residues.clone() {
            let line = g.ring_line_of_cell(g.ring_cell_of_ticket(r as u64));
            if line != last_line {
                max = max.max(self.ring_writes.get(line).copied().unwrap_or(0));
                last_line = line;
            }
        }
        self.scale.level(u64::from(max))
    }
}

impl MapPainter for RingPainter<'_> {
    fn slot(&self, line: usize, _i: usize) -> (&'static str, Style) {
        self.cell(line..line + 1)
    }

    fn line_mark(&self, _line: usize) -> Option<(&'static str, Style)> {
        None
    }

    fn cell(&self, residues: Range<usize>) -> (&'static str, Style) {
        let t = self.theme;
        let g = &t.glyphs;
        let w = &self.window;
        let contains_res = |c: u64| residues.contains(&usize::try_from(c).unwrap_or(usize::MAX));
        if contains_res(w.residue(w.alloc)) {
            return (g.alloc_cursor, t.ring_cursor());
        }
        if contains_res(w.residue(w.free)) {
            return (g.free_cursor, t.ring_cursor());
        }
        let mut held = 0u64;
        let mut stuck = false;
        for r in residues.clone() {
            let has_id = self.snapshot.ring_cell(r).is_some();
            if has_id {
                held += 1;
            } else if w.contains(r as u64) {
                stuck = true;
            }
        }
        if stuck {
            return (g.reserved, t.reserved());
        }
        let level = self.heat_of(&residues);
        if held == 0 {
            (g.free, t.free(level))
        } else {
            (g.vbar_for(held, residues.len() as u64), t.occupied(level))
        }
    }
}

impl Widget for &FreeList<'_> {
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

impl FreeList<'_> {
    fn summary(&self, buf: &mut Buffer, x: u16, y: u16, right: u16, w: &Window, stuck: Option<u64>) {
        let t = self.theme;
        let mut x = put(buf, x, y, right, "free ", t.dim());
        x = put(buf, x, y, right, &w.held.to_string(), t.value());
        x = put(buf, x, y, right, &format!(" of {} ", w.n), t.dim());
        x = put(buf, x, y, right, &format!("({})", Percent::of(w.held, w.n)), t.dim());
        x = put(buf, x, y, right, "   ", t.dim());
        x = put(buf, x, y, right, self.theme.glyphs.alloc_cursor, t.ring_cursor());
        x = put(buf, x, y, right, " alloc ", t.dim());
        x = put(buf, x, y, right, &w.alloc.to_string(), t.value());
        x = put(buf, x, y, right, "  ", t.dim());
        x = put(buf, x, y, right, self.theme.glyphs.free_cursor, t.ring_cursor());
        x = put(buf, x, y, right, " free ", t.dim());
        x = put(buf, x, y, right, &w.free.to_string(), t.value());
        if let Some(stuck) = stuck {
            x = put(buf, x, y, right, "   in flight ", t.dim());
            let style = if stuck > 0 { t.reserved() } else { t.value() };
            x = put(buf, x, y, right, &stuck.to_string(), style);
        }
        if self.snapshot.allocator().magazine().is_some() {
            x = put(buf, x, y, right, "   in magazines ", t.dim());
            x = put(buf, x, y, right, &self.snapshot.in_magazines().to_string(), t.value());
        }
        x = put(buf, x, y, right, "   header count ", t.dim());
        put(buf, x, y, right, &self.snapshot.count().to_string(), t.value());
    }

    /// One row per writer's magazine: `w3  12/64 ████░░░░  next s1234 L154, s88 L11`.
    /// Returns the rows used.
    fn magazines(&self, buf: &mut Buffer, area: Rect) -> u16 {
        let Some(size) = self.snapshot.allocator().magazine() else {
            return 0;
        };
        if area.height < 2 {
            return 0;
        }
        let t = self.theme;
        let g = self.snapshot.geometry();
        let mags = self.snapshot.magazines();
        let writers = if mags.len() == 1 { "1 writer".to_owned() } else { format!("{} writers", mags.len()) };
        let title = format!("magazines ({writers}, {size} ids each)");
        put(buf, area.x, area.y, area.right(), &title, t.title());
        let right = area.right();
        let mut used = 1;
        for m in mags.iter().take(usize::from(area.height - 1)) {
            let y = area.y + used;
            let mut x = put(buf, area.x, y, right, &format!("w{:<3}", m.record), t.dim());
            let fill = m.ids.len();
            x = put(buf, x, y, right, &format!("{fill:>4}/{size:<4} "), t.value());
            let width: usize = 8;
            let full = (fill * width).div_ceil(size as usize).min(width);
            for i in 0..width {
                let (sym, style) =
                    if i < full { (t.glyphs.hbars[7], t.chart()) } else { (t.glyphs.gauge_empty, t.axis()) };
                x = put(buf, x, y, right, sym, style);
            }
            x = put(buf, x, y, right, "  next", t.dim());
            // As many of the next ids as fit whole (a number is never cut).
            for k in m.ids.iter().rev().take(3) {
                let id = format!(" s{} L{}", k.slot(), g.line_of_slot(k.slot()));
                if usize::from(x) + id.chars().count() > usize::from(right) {
                    break;
                }
                x = put(buf, x, y, right, &id, t.text());
            }
            used += 1;
        }
        used
    }

    fn gauge(&self, buf: &mut Buffer, x: u16, y: u16, width: u16, w: &Window) {
        let t = self.theme;
        let filled =
            (w.held * u64::from(width)).checked_div(w.n).map_or(0, |f| u16::try_from(f).unwrap_or(width));
        for i in 0..width {
            let (sym, style) =
                if i < filled { (t.glyphs.hbars[7], t.chart()) } else { (t.glyphs.gauge_empty, t.axis()) };
            if let Some(c) = buf.cell_mut((x + i, y)) {
                c.set_symbol(sym).set_style(style);
            }
        }
    }

    /// The next-ids table's columns and their widths for its first `rows` rows: each at least
    /// its usual width, and wide enough for its widest value with two spaces before it (tickets
    /// and generations grow without bound in a long run).
    fn next_columns(&self, rows: usize) -> [(&'static str, u16); 6] {
        let mut cols = [("#", 3), ("ticket", 10), ("id", 10), ("slot", 8), ("line", 7), ("gen", 5)];
        let g = self.snapshot.geometry();
        let width = |v: u64| u16::try_from(v.checked_ilog10().unwrap_or(0) + 3).unwrap_or(u16::MAX);
        for (ticket, key) in self.snapshot.next_ids(rows) {
            cols[1].1 = cols[1].1.max(width(ticket));
            if let Some(k) = key.filter(|k| g.owns(*k)) {
                let vals = [g.id_of(k), k.slot() as u64, g.line_of_slot(k.slot()) as u64, k.generation()];
                for (c, v) in cols[2..].iter_mut().zip(vals) {
                    c.1 = c.1.max(width(v));
                }
            }
        }
        cols
    }

    fn next_table(&self, buf: &mut Buffer, area: Rect, limit: usize) {
        if area.is_empty() {
            return;
        }
        let t = self.theme;
        let g = self.snapshot.geometry();
        let rows = usize::from(area.height.saturating_sub(1)).min(limit);
        let cols = self.next_columns(rows);
        let right = area.right();
        let mut x = area.x;
        for (name, w) in cols {
            put_right(buf, x, (x + w).min(right), area.y, name, t.heading());
            x = x.saturating_add(w);
        }
        for (i, (ticket, key)) in self.snapshot.next_ids(rows).enumerate() {
            let y = area.y + 1 + u16::try_from(i).unwrap_or(u16::MAX);
            let mut x = area.x;
            let ord = u8::try_from(i).unwrap_or(u8::MAX);
            let (o, ostyle) = if i < 9 { (ordinal_glyph(ord, t), t.next_id()) } else { ("", t.dim()) };
            put_right(buf, x, x + cols[0].1 - 1, y, o, ostyle);
            if i >= 9 {
                put_right(buf, x, x + cols[0].1, y, &(i + 1).to_string(), t.dim());
            }
            x += cols[0].1;
            put_right(buf, x, (x + cols[1].1).min(right), y, &ticket.to_string(), t.dim());
            x = x.saturating_add(cols[1].1);
            match key.filter(|k| g.owns(*k)) {
                Some(k) => {
                    let vals = [
                        g.id_of(k).to_string(),
                        k.slot().to_string(),
                        g.line_of_slot(k.slot()).to_string(),
                        k.generation().to_string(),
                    ];
                    for (j, v) in vals.iter().enumerate() {
                        let style = if j == 0 { t.value() } else { t.text() };
                        put_right(buf, x, (x + cols[j + 2].1).min(right), y, v, style);
                        x = x.saturating_add(cols[j + 2].1);
                    }
                }
                None => {
                    put(buf, x + 2, y, right, "RESERVED: skipped", t.reserved());
                }
            }
        }
    }

    fn render_full(&self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let w = Window::of(self.snapshot);
        let inner = Rect {
            x: area.x + 1,
            y: area.y + 1,
            width: area.width.saturating_sub(2),
            height: area.height.saturating_sub(2),
        };
        // The next-ids column: 44 wide, or as wide as its widest values need.
        let widths = self.next_columns(usize::from(inner.height).min(self.next_ids));
        let table_w: u16 = widths.iter().map(|c| c.1).sum::<u16>().saturating_add(1).max(44);
        let (ring_area, table_area) = if inner.width >= table_w + 30 {
            let ring = Rect { width: inner.width - table_w - 1, ..inner };
            (ring, Some(Rect { x: ring.right() + 1, width: table_w, ..inner }))
        } else {
            (inner, None)
        };
        // Rows: summary, gauge, blank, grid..., [magazines...,] legend. The magazines go under the
        // next ids when there is a table column, else between the grid and the legend.
        let mags = u16::try_from(self.snapshot.magazines().len()).unwrap_or(u16::MAX);
        let mag_rows =
            if self.snapshot.allocator().magazine().is_some() { mags.saturating_add(1).min(9) } else { 0 };
        let mut grid_area =
            Rect { y: ring_area.y + 3, height: ring_area.height.saturating_sub(4), ..ring_area };
        let mags_below_grid = table_area.is_none() && mag_rows > 0 && grid_area.height > mag_rows + 2;
        if mags_below_grid {
            grid_area.height -= mag_rows;
        }
        let grid = MapGrid::new(self.snapshot.capacity(), None, Zoom::Fit, 0, grid_area);
        let k = grid.lines_per_cell().unwrap_or(1);
        let scale = if k == 1 { "1 cell = 1 ticket".to_owned() } else { format!("1 cell = {k} tickets") };
        let block = panel(t, "Free list", format!("ring in ticket order {} {scale}", t.glyphs.dot));
        let note =
            format!("ring of {} cells {} {} lines", w.n, t.glyphs.dot, self.snapshot.geometry().ring_lines());
        with_footnote(block, t, note).render(area, buf);
        if inner.is_empty() {
            return;
        }
        let stuck = in_flight(self.snapshot, &w);
        self.summary(buf, inner.x + 1, inner.y, inner.right(), &w, Some(stuck));
        if inner.height > 1 {
            self.gauge(buf, ring_area.x + 1, inner.y + 1, ring_area.width.saturating_sub(2), &w);
        }
        if !grid_area.is_empty() {
            let painter = RingPainter {
                snapshot: self.snapshot,
                window: w,
                ring_writes: &self.heat.ring.writes,
                scale: HeatScale::new(u64::from(self.heat.ring.max_writes())),
                theme: t,
            };
            grid.draw(buf, t, None, &painter);
        }
        if ring_area.height >= 5 {
            let g = &t.glyphs;
            let items: Vec<LegendItem<'_>> = vec![
                vec![Span::styled(g.vbars[7], t.occupied(0)), Span::styled(" holds a free id", t.dim())],
                vec![Span::styled(g.free, t.free(0)), Span::styled(" taken", t.dim())],
                vec![
                    Span::styled(g.reserved, t.reserved()),
                    Span::styled(" RESERVED between the cursors (in flight)", t.dim()),
                ],
                vec![Span::styled(g.alloc_cursor, t.ring_cursor()), Span::styled(" next insert", t.dim())],
                vec![Span::styled(g.free_cursor, t.ring_cursor()), Span::styled(" next remove", t.dim())],
            ];
            draw_legend(buf, Rect { y: ring_area.bottom() - 1, height: 1, ..ring_area }, &items);
        }
        if let Some(ta) = table_area {
            let ta = Rect { y: ta.y + 2, height: ta.height.saturating_sub(2), ..ta };
            put(buf, ta.x, ta.y.saturating_sub(1), ta.right(), "next ids (ticket order)", t.title());
            let below = if mag_rows > 0 { mag_rows + 1 } else { 0 };
            let ids_area = Rect { height: ta.height.saturating_sub(below), ..ta };
            self.next_table(buf, ids_area, self.next_ids);
            let mag_area = Rect {
                y: ids_area.bottom() + 1,
                height: ta.height.saturating_sub(ids_area.height + 1),
                ..ta
            };
            self.magazines(buf, mag_area);
        } else if mags_below_grid {
            let mag_area = Rect { y: grid_area.bottom(), height: mag_rows, ..ring_area };
            self.magazines(
                buf,
                Rect { x: mag_area.x + 1, width: mag_area.width.saturating_sub(1), ..mag_area },
            );
        }
    }

    fn render_compact(&self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let g = &t.glyphs;
        let w = Window::of(self.snapshot);
        let block = panel(t, "Free list", format!("{} ids in a ring", w.n));
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.is_empty() {
            return;
        }
        let (x0, right) = (inner.x + 1, inner.right().saturating_sub(1));
        let width = right.saturating_sub(x0);
        let mut y = inner.y;
        // Gauge with the count.
        let label = format!(" {} free ({})", w.held, Percent::of(w.held, w.n));
        let lw = u16::try_from(label.chars().count()).unwrap_or(u16::MAX);
        self.gauge(buf, x0, y, width.saturating_sub(lw), &w);
        put(buf, x0 + width.saturating_sub(lw), y, right, &label, t.value());
        y += 1;
        if y >= inner.bottom() {
            return;
        }
        // Ring strip from the cursors, one cell per N/width tickets.
        let cells = u64::from(width.max(1));
        let (a, f) = (w.residue(w.alloc), w.residue(w.free));
        for c in 0..cells {
            let lo = c * w.n / cells;
            let hi = ((c + 1) * w.n / cells).max(lo + 1);
            let (sym, style) = if (lo..hi).contains(&a) {
                (g.alloc_cursor, t.ring_cursor())
            } else if (lo..hi).contains(&f) {
                (g.free_cursor, t.ring_cursor())
            } else {
                let held = w.overlap(lo, hi);
                if held == 0 {
                    (g.free, t.free(0))
                } else {
                    (g.vbar_for(held, hi - lo), t.occupied(0))
                }
            };
            if let Some(cell) = buf.cell_mut((x0 + u16::try_from(c).unwrap_or(0), y)) {
                cell.set_symbol(sym).set_style(style);
            }
        }
        y += 1;
        if y >= inner.bottom() {
            return;
        }
        let mut x = put(buf, x0, y, right, g.alloc_cursor, t.ring_cursor());
        x = put(buf, x, y, right, &format!(" {}  ", w.alloc), t.text());
        x = put(buf, x, y, right, g.free_cursor, t.ring_cursor());
        x = put(buf, x, y, right, &format!(" {}", w.free), t.text());
        // In flight: only the cells just behind the free cursor, where pushes are under way
        // (a bounded look, so the dashboard never scans a huge ring).
        let look = w.len.min(64);
        let mut stuck = 0;
        for i in 1..=look {
            #[allow(clippy::cast_possible_truncation)]
            if self.snapshot.ring_cell(w.residue(w.free.wrapping_sub(i)) as usize).is_none() {
                stuck += 1;
            }
        }
        if stuck > 0 {
            put(buf, x + 2, y, right, &format!("{} {stuck} in flight", g.reserved), t.reserved());
        }
        y += 1;
        if y >= inner.bottom() {
            return;
        }
        if inner.bottom() - y >= 4 {
            // Room for the table of next ids.
            // Room for the table of next ids: as many as fit (the map marks `next_ids`).
            let table = Rect { x: x0, y: y + 1, width, height: inner.bottom() - y - 1 };
            self.next_table(buf, table, MAX_NEXT_IDS);
            return;
        }
        let gm = self.snapshot.geometry();
        let mut x = put(buf, x0, y, right, "next ", t.dim());
        for (i, (_, key)) in self.snapshot.next_ids(self.next_ids.min(9)).enumerate() {
            let ord = u8::try_from(i).unwrap_or(u8::MAX);
            let text = match key.filter(|k| gm.owns(*k)) {
                Some(k) => format!(" L{}", gm.line_of_slot(k.slot())),
                None => " skip".to_owned(),
            };
            let need = u16::try_from(text.len() + 1).unwrap_or(u16::MAX);
            if x.saturating_add(need) > right {
                break;
            }
            x = put(buf, x, y, right, ordinal_glyph(ord, t), t.next_id());
            x = put(buf, x, y, right, &text, t.text());
            x = put(buf, x, y, right, " ", t.text());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slotscope_table::{Allocator, Geometry, Layout, MagazineInfo, SlotState};

    /// 16 slots, linear: 4 inserts then the first removed: alloc 4, free 17.
    fn ring() -> Snapshot {
        let g = Geometry::new(16, Layout::Linear, 64).unwrap();
        let mut s = Snapshot::fresh(g);
        for slot in 1..4 {
            s.set_slot(slot, SlotState::Occupied, Some(g.key(0, slot)));
        }
        for r in 0..4 {
            s.set_ring_cell(r, None);
        }
        s.set_ring_cell(0, Some(g.key(1, 0)));
        s.set_header(3, 4, 17);
        s
    }

    fn rows(buf: &Buffer) -> Vec<String> {
        (0..buf.area.height).map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect()).collect()
    }

    #[test]
    fn window_arithmetic_wraps() {
        let s = ring();
        let w = Window::of(&s);
        assert_eq!((w.len, w.residue(w.alloc), w.residue(w.free)), (13, 4, 1));
        assert!(w.contains(4) && w.contains(15) && w.contains(0));
        assert!(!w.contains(1) && !w.contains(3));
        assert_eq!(w.overlap(0, 16), 13);
        assert_eq!(w.overlap(0, 4), 1, "only residue 0 (after the wrap)");
        assert_eq!(in_flight(&s, &w), 0);
    }

    #[test]
    fn full_view_draws_the_ring_with_cursors_and_in_flight_cells() {
        let mut s = ring();
        s.set_ring_cell(9, None); // a push in flight inside the window
        let heat = LineHeat::default();
        let theme = Theme::default();
        let mut buf = Buffer::empty(Rect::new(0, 0, 80, 9));
        (&FreeList::new(&s, &heat, &theme)).render(buf.area, &mut buf);
        let r = rows(&buf);
        // 12 ids in the ring: the cell in flight holds none yet.
        assert!(r[1].contains("free 12 of 16 (75.0%)"), "{}", r[1]);
        assert!(r[1].contains("A alloc 4  F free 17   in flight 1"), "{}", r[1]);
        // Grid row: label "0 " then one cell per ticket residue 0..16.
        assert_eq!(&r[4][..r[4].char_indices().nth(20).unwrap().0], "│ 0 █F··A████▒██████");
        assert!(r[7].contains("holds a free id"), "{}", r[7]);
    }

    #[test]
    fn next_ids_table_names_slot_and_line_and_skips() {
        let mut s = ring();
        s.set_ring_cell(5, None);
        let heat = LineHeat::default();
        let theme = Theme::default();
        let mut buf = Buffer::empty(Rect::new(0, 0, 120, 10));
        (&FreeList::new(&s, &heat, &theme).next_ids(3)).render(buf.area, &mut buf);
        let r = rows(&buf);
        let table: Vec<&str> = r[3..7].iter().map(|l| l.trim_end_matches(['│', ' '])).collect();
        assert!(table[0].ends_with("#    ticket        id    slot   line  gen"), "{}", table[0]);
        assert!(table[1].ends_with("1          4         4       4      0    0"), "{}", table[1]);
        assert!(table[2].ends_with("2          5  RESERVED: skipped"), "{}", table[2]);
        assert!(table[3].ends_with("3          6         6       6      0    0"), "{}", table[3]);
    }

    #[test]
    fn next_ids_columns_widen_for_large_tickets_and_generations() {
        // A long run: tickets past 10^13, generations past 10^6.
        let g = Geometry::new(16, Layout::Linear, 64).unwrap();
        let mut s = Snapshot::fresh(g);
        let base: u64 = 10_000_000_000_000; // a multiple of 16: ticket residues are 0..16
        for r in 0..16 {
            s.set_ring_cell(r, Some(g.key(1_234_567, r)));
        }
        s.set_header(3, base + 4, base + 17);
        let heat = LineHeat::default();
        let theme = Theme::default();
        let mut buf = Buffer::empty(Rect::new(0, 0, 120, 10));
        (&FreeList::new(&s, &heat, &theme).next_ids(2)).render(buf.area, &mut buf);
        let r = rows(&buf);
        let at =
            r.iter().position(|l| l.contains("ticket") && l.contains(" gen")).expect("the table's heading");
        let words: Vec<&str> = r[at + 1].trim_end_matches(['│', ' ']).split_whitespace().collect();
        let n = words.len();
        // Every value stands apart: ticket, id, slot, line, generation.
        assert_eq!(
            &words[n - 5..],
            [&(base + 4).to_string(), &g.id_of(g.key(1_234_567, 4)).to_string(), "4", "0", "1234567"],
            "{}",
            r[at + 1]
        );
        // The headings sit right-aligned over their values.
        let end_of =
            |line: &str, word: &str| line.rfind(word).map(|i| line[..i].chars().count() + word.len());
        assert_eq!(end_of(&r[at], " gen"), end_of(&r[at + 1], "1234567"), "{}\n{}", r[at], r[at + 1]);
        assert_eq!(end_of(&r[at], "ticket"), end_of(&r[at + 1], &(base + 4).to_string()));
    }

    #[test]
    fn magazines_show_their_fill_and_the_ids_next_out() {
        let mut s = ring();
        let g = s.geometry();
        // Slot 1 freed into writer 0's magazine (newest last); writer 3 empty.
        s.set_slot(1, SlotState::Free, Some(g.key(1, 1)));
        s.set_magazines(
            Allocator::Magazine { size: 4 },
            vec![
                MagazineInfo { record: 0, ids: vec![g.key(2, 9), g.key(1, 1)] },
                MagazineInfo { record: 3, ids: Vec::new() },
            ],
        );
        let heat = LineHeat::default();
        let theme = Theme::default();
        let mut buf = Buffer::empty(Rect::new(0, 0, 120, 16));
        (&FreeList::new(&s, &heat, &theme)).render(buf.area, &mut buf);
        let r = rows(&buf);
        assert!(r[1].contains("in magazines 2"), "{}", r[1]);
        let at = |needle: &str| r.iter().position(|l| l.contains(needle));
        let title = at("magazines (2 writers, 4 ids each)").expect("the magazines' title");
        assert!(r[title + 1].contains("w0     2/4    ████────  next s1 L0 s9 L1"), "{}", r[title + 1]);
        assert!(r[title + 2].contains("w3     0/4    ────────  next"), "{}", r[title + 2]);
        // Too narrow for the table column: the magazines sit between the grid and the legend.
        let mut buf = Buffer::empty(Rect::new(0, 0, 60, 16));
        (&FreeList::new(&s, &heat, &theme)).render(buf.area, &mut buf);
        let r = rows(&buf);
        let at = |needle: &str| r.iter().position(|l| l.contains(needle));
        let title = at("magazines (2 writers, 4 ids each)").expect("the magazines' title, narrow");
        assert!(r[title + 1].contains("w0     2/4"), "{}", r[title + 1]);
        assert_eq!(at("holds a free id"), Some(title + 3), "the legend right under them: {r:#?}");
        assert!(at("│ 0 █").is_some_and(|g| g < title), "the grid above them: {r:#?}");
        // A ring table shows none.
        let mut buf = Buffer::empty(Rect::new(0, 0, 120, 16));
        (&FreeList::new(&ring(), &heat, &theme)).render(buf.area, &mut buf);
        assert!(rows(&buf).iter().all(|l| !l.contains("magazines")));
    }

    #[test]
    fn a_trailing_free_cursor_means_no_ids_between_not_all() {
        assert_eq!(ids_between(100, 90, 16), 0);
        assert_eq!(ids_between(100, 105, 16), 5);
        assert_eq!(ids_between(100, 200, 16), 16);
        // The 32-bit alloc cursor wrapped, the 64-bit free one did not.
        assert_eq!(ids_between(u64::from(u32::MAX) - 4, (1 << 32) + 5, 64), 10);
    }

    #[test]
    fn compact_panel_shows_gauge_strip_and_next_lines() {
        let s = ring();
        let heat = LineHeat::default();
        let theme = Theme::default();
        let mut buf = Buffer::empty(Rect::new(0, 0, 20, 6));
        (&FreeList::new(&s, &heat, &theme).compact(true).next_ids(2)).render(buf.area, &mut buf);
        let r = rows(&buf);
        assert!(r[1].ends_with(" 13 free (81.2%) │"), "{}", r[1]);
        // 16 cells of one ticket each: residue 0 holds an id, F at 1, A at 4.
        assert_eq!(r[2], "│ █F··A███████████ │");
        assert_eq!(r[3], "│ A 4  F 17        │");
        assert_eq!(r[4], "│ next 1 L0 2 L0   │");
    }
}
