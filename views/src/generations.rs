//! Generations: how often each slot has been reused, as a heat map by line (glyph height
//! and colour both grow with the count, on a log scale) and as a histogram.

use std::ops::Range;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::Widget;
use slotscope_table::Snapshot;

use crate::mapgrid::{MapGrid, MapPainter};
use crate::occupancy::{range_note, scale_text};
use crate::panel::{draw_legend, panel, put, put_right, with_footnote, HeatScale, LegendItem};
use crate::state::MapState;
use crate::theme::{Theme, HEAT_LEVELS};
use crate::units::Si;

/// Buckets of the histogram: 0, 1, 2-3, 4-7, ... up to 2^63.
pub const BUCKETS: usize = 65;

/// Reuse counts of every slot, gathered in one pass over the snapshot (O(N)). Both generation
/// widgets need it: compute it once per frame and hand it to both with `with_stats`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GenerationStats {
    /// Slots per bucket: bucket 0 holds generation 0, bucket b >= 1 holds 2^(b-1) ..= 2^b - 1.
    pub buckets: [u64; BUCKETS],
    /// Slots whose generation is unknown (reserved: in flight).
    pub in_flight: u64,
    /// The largest generation.
    pub max: u64,
    /// Sum of generations (for the mean).
    pub sum: u128,
}

impl GenerationStats {
    /// The reuse counts of `snapshot`.
    pub fn of(snapshot: &Snapshot) -> GenerationStats {
        let mut st = GenerationStats { buckets: [0; BUCKETS], in_flight: 0, max: 0, sum: 0 };
        for s in 0..snapshot.capacity() {
            match snapshot.generation(s) {
                Some(g) => {
                    st.buckets[bucket(g)] += 1;
                    st.max = st.max.max(g);
                    st.sum += u128::from(g);
                }
                None => st.in_flight += 1,
            }
        }
        st
    }
}

fn bucket(g: u64) -> usize {
    g.checked_ilog2().map_or(0, |b| b as usize + 1)
}

/// The reuse-count map.
#[derive(Clone, Copy, Debug)]
pub struct GenerationMap<'a> {
    snapshot: &'a Snapshot,
    map: MapState,
    stats: Option<&'a GenerationStats>,
    theme: &'a Theme,
}

impl<'a> GenerationMap<'a> {
    /// The map of `snapshot`'s generations, zoomed and scrolled as `map` says.
    pub fn new(snapshot: &'a Snapshot, map: &MapState, theme: &'a Theme) -> Self {
        GenerationMap { snapshot, map: *map, stats: None, theme }
    }

    /// Uses `stats` (of this snapshot) instead of scanning the snapshot again.
    #[must_use]
    pub fn with_stats(mut self, stats: &'a GenerationStats) -> Self {
        self.stats = Some(stats);
        self
    }

    fn split(area: Rect) -> (Rect, Option<Rect>) {
        let inner = Rect {
            x: area.x + 1,
            y: area.y + 1,
            width: area.width.saturating_sub(2),
            height: area.height.saturating_sub(2),
        };
        if inner.height >= 4 {
            (
                Rect { height: inner.height - 1, ..inner },
                Some(Rect { y: inner.bottom() - 1, height: 1, ..inner }),
            )
        } else {
            (inner, None)
        }
    }

    /// The grid this widget draws in `area` (border included).
    pub fn grid(&self, area: Rect) -> MapGrid {
        let g = self.snapshot.geometry();
        MapGrid::new(
            g.lines(),
            Some(g.slots_per_line()),
            self.map.zoom,
            self.map.cursor_line,
            Self::split(area).0,
        )
    }
}

struct Painter<'a> {
    snapshot: &'a Snapshot,
    per_line: usize,
    scale: HeatScale,
    theme: &'a Theme,
}

impl Painter<'_> {
    fn glyph(&self, generation: Option<u64>) -> (&'static str, Style) {
        let g = &self.theme.glyphs;
        match generation {
            None => (g.reserved, self.theme.reserved()),
            Some(0) => (g.free, self.theme.free(0)),
            Some(n) => {
                // Level 1..=7 -> bar heights 2..=8 eighths, so that even one reuse is visible
                // next to "never reused".
                let l = self.scale.level(n).max(1);
                let l = l.min(HEAT_LEVELS);
                (g.vbars[usize::from(l)], self.theme.heat(l))
            }
        }
    }
}

impl MapPainter for Painter<'_> {
    fn slot(&self, line: usize, i: usize) -> (&'static str, Style) {
        self.glyph(self.snapshot.generation(line * self.per_line + i))
    }

    fn line_mark(&self, _line: usize) -> Option<(&'static str, Style)> {
        None
    }

    fn cell(&self, lines: Range<usize>) -> (&'static str, Style) {
        let slots = lines.start * self.per_line..(lines.end * self.per_line).min(self.snapshot.capacity());
        let mut max: Option<u64> = None;
        let mut any_in_flight = false;
        for s in slots {
            match self.snapshot.generation(s) {
                Some(g) => max = Some(max.map_or(g, |m| m.max(g))),
                None => any_in_flight = true,
            }
        }
        match max {
            None if any_in_flight => self.glyph(None),
            m => self.glyph(Some(m.unwrap_or(0))),
        }
    }
}

impl Widget for &GenerationMap<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.is_empty() {
            return;
        }
        let t = self.theme;
        let grid = self.grid(area);
        let block = panel(t, "Generations", scale_text(self.snapshot.geometry(), grid.zoom, t));
        with_footnote(block, t, range_note(&grid, t)).render(area, buf);
        let stats = self.stats.copied().unwrap_or_else(|| GenerationStats::of(self.snapshot));
        let painter = Painter {
            snapshot: self.snapshot,
            per_line: self.snapshot.geometry().slots_per_line(),
            scale: HeatScale::new(stats.max),
            theme: t,
        };
        grid.draw(buf, t, Some(self.map.cursor_line), &painter);
        if let Some(legend) = GenerationMap::split(area).1 {
            let g = &t.glyphs;
            let mut ramp: LegendItem<'_> = vec![Span::styled("reuses ", t.dim())];
            ramp.push(Span::styled(g.free, t.free(0)));
            ramp.push(Span::styled(" 0 ", t.dim()));
            for l in 1..=HEAT_LEVELS {
                ramp.push(Span::styled(g.vbars[usize::from(l)], t.heat(l)));
            }
            let scale = if stats.max > 16 { " (log)" } else { "" };
            ramp.push(Span::styled(format!(" {}{scale}", Si(max_f(stats.max))), t.dim()));
            let mode = if grid.lines_per_cell().is_some() { "max of the cell's slots" } else { "per slot" };
            let items = vec![
                ramp,
                vec![Span::styled(g.reserved, t.reserved()), Span::styled(" in flight", t.dim())],
                vec![Span::styled(mode, t.dim())],
            ];
            draw_legend(buf, legend, &items);
        }
    }
}

#[allow(clippy::cast_precision_loss)]
fn max_f(v: u64) -> f64 {
    v as f64
}

/// The histogram of reuse counts over all slots.
#[derive(Clone, Copy, Debug)]
pub struct GenerationHistogram<'a> {
    snapshot: &'a Snapshot,
    stats: Option<&'a GenerationStats>,
    theme: &'a Theme,
}

impl<'a> GenerationHistogram<'a> {
    /// The histogram of `snapshot`'s generations.
    pub fn new(snapshot: &'a Snapshot, theme: &'a Theme) -> Self {
        GenerationHistogram { snapshot, stats: None, theme }
    }

    /// Uses `stats` (of this snapshot) instead of scanning the snapshot again.
    #[must_use]
    pub fn with_stats(mut self, stats: &'a GenerationStats) -> Self {
        self.stats = Some(stats);
        self
    }
}

impl Widget for &GenerationHistogram<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.is_empty() {
            return;
        }
        let t = self.theme;
        let g = &t.glyphs;
        let block = panel(t, "Reuse counts", "slots per range".to_owned());
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.is_empty() {
            return;
        }
        let st = self.stats.copied().unwrap_or_else(|| GenerationStats::of(self.snapshot));
        let n = self.snapshot.capacity() as u64;
        let mut y = inner.y;
        let (x0, right) = (inner.x + 1, inner.right().saturating_sub(1));
        #[allow(clippy::cast_precision_loss)]
        let mean = if n > st.in_flight { st.sum as f64 / (n - st.in_flight) as f64 } else { 0.0 };
        let x = put(buf, x0, y, right, "mean ", t.dim());
        let x = put(buf, x, y, right, &format!("{mean:.1}"), t.value());
        let x = put(buf, x, y, right, "  max ", t.dim());
        let x = put(buf, x, y, right, &st.max.to_string(), t.value());
        let x = put(buf, x, y, right, "  slots ", t.dim());
        put(buf, x, y, right, &n.to_string(), t.value());
        y += 2;
        let last = st.buckets.iter().rposition(|&c| c > 0).unwrap_or(0);
        let peak = st.buckets.iter().copied().max().unwrap_or(0).max(st.in_flight).max(1);
        let label_w: u16 = 13;
        let count_w: u16 = 8;
        let bar_x = (x0 + label_w).min(right);
        let bar_w = right.saturating_sub(bar_x + count_w + 1);
        let mut rows: Vec<(String, u64, Style)> = (0..=last)
            .map(|b| {
                let label = match b {
                    0 => "0".to_owned(),
                    1 => "1".to_owned(),
                    b => format!("{}{}{}", 1u64 << (b - 1), g.dash, (1u128 << b) - 1),
                };
                #[allow(clippy::cast_possible_truncation)]
                let level = (b.min(usize::from(HEAT_LEVELS))) as u8;
                (label, st.buckets[b], t.heat(level))
            })
            .collect();
        if st.in_flight > 0 {
            rows.push(("in flight".to_owned(), st.in_flight, t.reserved()));
        }
        for (label, count, style) in rows {
            if y >= inner.bottom() {
                break;
            }
            put_right(buf, x0.min(right), bar_x.saturating_sub(1).max(x0.min(right)), y, &label, t.text());
            draw_hbar(buf, bar_x, y, bar_w, count, peak, style, t);
            put_right(buf, bar_x + bar_w, right, y, &count.to_string(), t.value());
            y += 1;
        }
    }
}

/// A horizontal bar of `count / peak` of `width` cells, in eighths.
#[allow(clippy::too_many_arguments)]
pub(crate) fn draw_hbar(
    buf: &mut Buffer,
    x: u16,
    y: u16,
    width: u16,
    count: u64,
    peak: u64,
    style: Style,
    t: &Theme,
) {
    if width == 0 || count == 0 || peak == 0 {
        return;
    }
    let eighths = (u128::from(count) * u128::from(width) * 8).div_ceil(u128::from(peak));
    let eighths = u64::try_from(eighths).unwrap_or(u64::MAX).max(1);
    let full = u16::try_from(eighths / 8).unwrap_or(u16::MAX).min(width);
    for i in 0..full {
        if let Some(c) = buf.cell_mut((x + i, y)) {
            c.set_symbol(t.glyphs.hbars[7]).set_style(style);
        }
    }
    let rest = usize::try_from(eighths % 8).unwrap_or(0);
    if rest > 0 && full < width {
        if let Some(c) = buf.cell_mut((x + full, y)) {
            c.set_symbol(t.glyphs.hbars[rest - 1]).set_style(style);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Zoom;
    use slotscope_table::{Geometry, Layout, SlotState};

    fn snap() -> Snapshot {
        // 32 slots, linear, 4 lines. Generations: slot 0 -> 1, slot 9 -> 6, slot 31 -> 100,
        // slot 20 in flight; the rest 0.
        let g = Geometry::new(32, Layout::Linear, 64).unwrap();
        let mut s = Snapshot::fresh(g);
        s.set_slot(0, SlotState::Occupied, Some(g.key(1, 0)));
        s.set_slot(9, SlotState::Free, Some(g.key(6, 9)));
        s.set_slot(31, SlotState::Occupied, Some(g.key(100, 31)));
        s.set_slot(20, SlotState::Reserved, None);
        s
    }

    #[test]
    fn stats_bucket_by_powers_of_two() {
        let st = GenerationStats::of(&snap());
        assert_eq!(st.buckets[0], 28);
        assert_eq!(st.buckets[1], 1, "generation 1");
        assert_eq!(st.buckets[3], 1, "generation 6 is in 4..=7");
        assert_eq!(st.buckets[7], 1, "generation 100 is in 64..=127");
        assert_eq!((st.in_flight, st.max, st.sum), (1, 100, 107));
    }

    #[test]
    fn map_glyph_height_grows_with_reuse_and_zoom_takes_the_max() {
        let s = snap();
        let theme = Theme::default();
        let map = MapState { zoom: Zoom::Slots, cursor_line: 3 };
        let mut buf = Buffer::empty(Rect::new(0, 0, 44, 6));
        (&GenerationMap::new(&s, &map, &theme)).render(buf.area, &mut buf);
        let row: String = (0..44).map(|x| buf[(x, 1)].symbol()).collect();
        // max 100: log2 buckets of 7 bits; gen 1 -> level 1 (2/8), gen 6 -> 3 bits -> level 3 (4/8).
        assert_eq!(row, "│0  ▂·······  ·▄······  ····▒··· ▶·······█◀│");
        let zoomed = MapState { zoom: Zoom::Lines { log2: 1 }, cursor_line: 0 };
        let mut buf = Buffer::empty(Rect::new(0, 0, 20, 6));
        (&GenerationMap::new(&s, &zoomed, &theme)).render(buf.area, &mut buf);
        // Lines 0-1 hold gens 1 and 6 -> the max, 6; lines 2-3 hold 100 -> full bar.
        assert_eq!(buf[(3, 1)].symbol(), "▄");
        assert_eq!(buf[(4, 1)].symbol(), "█");
    }

    #[test]
    fn histogram_lists_each_bucket_with_its_count() {
        let s = snap();
        let theme = Theme::default();
        let mut buf = Buffer::empty(Rect::new(0, 0, 40, 14));
        (&GenerationHistogram::new(&s, &theme)).render(buf.area, &mut buf);
        let rows: Vec<String> = (0..14).map(|y| (0..40).map(|x| buf[(x, y)].symbol()).collect()).collect();
        assert!(rows[1].contains("mean 3.5  max 100  slots 32"), "{}", rows[1]);
        assert!(
            rows[3].starts_with("│            0 ")
                && rows[3].trim_end_matches('│').trim_end().ends_with("28")
        );
        assert!(rows[6].contains("4–7"), "{}", rows[6]);
        assert!(rows[10].contains("64–127") && rows[10].contains(" 1"), "{}", rows[10]);
        assert!(rows[11].contains("in flight"), "{}", rows[11]);
        // The biggest bucket's bar is full width; a count of 1 still shows a sliver.
        assert_eq!(rows[3].matches('█').count(), 14);
        assert!(rows[4].contains(" ▌ "), "4 eighths of 14 cells for 1 of 28: {}", rows[4]);
    }
}
