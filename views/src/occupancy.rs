//! Occupancy by cache line: every line of the slot array in memory order, its slots as
//! glyphs (occupied / reserved / free, never hidden), coloured by how much the line was
//! *shared* in the last interval (its expected line transfers, [`crate::model::expected_transfers`],
//! on a scale of 2x bands below the most shared line), the [`TOP_SHARED`] most shared lines
//! marked, and optionally where the next ids will land.

use std::ops::Range;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Span;
use ratatui::widgets::Widget;
use slotscope_table::{Geometry, Layout, SlotState, Snapshot};

use crate::mapgrid::{MapGrid, MapPainter};
use crate::model::ShareScale;
use crate::model::{LineHeat, LineWrites};
use crate::panel::{draw_legend_rows, legend_layout, panel, share_legend, with_footnote, LegendItem};
use crate::state::{MapState, Zoom, MAX_NEXT_IDS};
use crate::theme::Theme;
use crate::units::Bytes;

/// How many of the most shared lines carry the sharing mark.
pub const TOP_SHARED: usize = 8;

/// The occupancy map widget. Borrows a snapshot and the interval's line heat.
///
/// ```
/// # use slotscope_table::{Geometry, Layout, Snapshot};
/// # use slotscope_views::{LineHeat, MapState, OccupancyMap, Theme};
/// # use ratatui::{buffer::Buffer, layout::Rect, widgets::Widget};
/// let snap = Snapshot::fresh(Geometry::new(64, Layout::Linear, 64).unwrap());
/// let heat = LineHeat::default();
/// let theme = Theme::default();
/// let map = OccupancyMap::new(&snap, &heat, &MapState::default(), &theme).next_ids(4);
/// let mut buf = Buffer::empty(Rect::new(0, 0, 60, 10));
/// (&map).render(buf.area, &mut buf);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct OccupancyMap<'a> {
    snapshot: &'a Snapshot,
    heat: &'a LineHeat,
    map: MapState,
    next_ids: usize,
    name: &'a str,
    wide: bool,
    theme: &'a Theme,
}

impl<'a> OccupancyMap<'a> {
    /// The map of `snapshot` with heat from `heat`, zoomed and scrolled as `map` says.
    pub fn new(snapshot: &'a Snapshot, heat: &'a LineHeat, map: &MapState, theme: &'a Theme) -> Self {
        OccupancyMap { snapshot, heat, map: *map, next_ids: 0, name: "Occupancy", wide: false, theme }
    }

    /// The panel's name (default "Occupancy"; the A/B split names its sides).
    #[must_use]
    pub fn name(mut self, name: &'a str) -> Self {
        self.name = name;
        self
    }

    /// Presenter mode: every slot two columns wide and bold.
    #[must_use]
    pub fn wide(mut self, wide: bool) -> Self {
        self.wide = wide;
        self
    }

    /// Marks where the next `n` ids will land (0 = off; at most [`MAX_NEXT_IDS`]).
    #[must_use]
    pub fn next_ids(mut self, n: usize) -> Self {
        self.next_ids = n.min(MAX_NEXT_IDS);
        self
    }

    /// The area inside the border, and the grid's share of it: the last `legend_rows` rows
    /// hold the legend when there are at least 4 rows.
    fn split(area: Rect, legend_rows: u16) -> (Rect, Option<Rect>) {
        let inner = Rect { x: area.x + 1, y: area.y + 1, ..area };
        let inner =
            Rect { width: area.width.saturating_sub(2), height: area.height.saturating_sub(2), ..inner };
        if inner.height >= 4 {
            let rows = if inner.height >= 8 { legend_rows.clamp(1, 2) } else { 1 };
            let grid = Rect { height: inner.height - rows, ..inner };
            let legend = Rect { y: inner.bottom() - rows, height: rows, ..inner };
            (grid, Some(legend))
        } else {
            (inner, None)
        }
    }

    fn grid_with(&self, area: Rect, legend_rows: u16) -> MapGrid {
        let g = self.snapshot.geometry();
        MapGrid::scaled(
            g.lines(),
            Some(g.slots_per_line()),
            self.map.zoom,
            self.map.cursor_line,
            Self::split(area, legend_rows).0,
            if self.wide { 2 } else { 1 },
        )
    }

    /// The legend of `grid`: a glyph and its meaning for everything the map draws; `compact`
    /// shortens the sharing scale to its colours.
    fn legend<'l>(&self, grid: &MapGrid, compact: bool) -> Vec<LegendItem<'l>> {
        let max = self.heat.slots.max_transfers();
        let marks = self.heat.slots.top_shared(TOP_SHARED).len();
        legend_items(self.theme, grid, self.next_ids, self.heat, max, marks, compact)
    }

    /// Legend rows and whether the scale is compact: one row if every item fits there; else
    /// two where the map keeps its zoom with one row less; else the compact scale. So no glyph
    /// on screen goes unexplained where the room allows.
    fn legend_rows(&self, area: Rect) -> (u16, bool) {
        let (_, Some(legend)) = Self::split(area, 1) else { return (1, false) };
        let fits = |items: &[LegendItem<'_>], rows| {
            legend_layout(items, rows, legend.width).iter().all(Option::is_some)
        };
        let one = self.grid_with(area, 1);
        if fits(&self.legend(&one, false), 1) {
            return (1, false);
        }
        let two = self.grid_with(area, 2);
        let room = Self::split(area, 2).0.height < Self::split(area, 1).0.height;
        if room && two.lines_per_cell() == one.lines_per_cell() && fits(&self.legend(&two, false), 2) {
            return (2, false);
        }
        if fits(&self.legend(&one, true), 1) || !room || two.lines_per_cell() != one.lines_per_cell() {
            return (1, true);
        }
        (2, true)
    }

    /// The grid this widget draws in `area` (its whole area, border included): the zoom
    /// `Fit` resolves to, the rows shown, cursor moves.
    pub fn grid(&self, area: Rect) -> MapGrid {
        self.grid_with(area, self.legend_rows(area).0)
    }
}

/// `(lines in the top class, lines shared)` when the top class holds more than a quarter of
/// the shared lines (so their rates are within 2x of each other: the sharing is even).
pub fn even_sharing(slots: &LineWrites, max: f32) -> Option<(usize, usize)> {
    // The top class is everything at or above half the most shared line (ShareScale).
    let (mut shared, mut top) = (0usize, 0usize);
    for &t in &slots.transfers {
        shared += usize::from(t > 0.0);
        top += usize::from(t > 0.0 && t >= max / 2.0);
    }
    (shared > 0 && top * 4 > shared).then_some((top, shared))
}

/// What one map cell means, for the panel title.
pub(crate) fn scale_text(g: Geometry, zoom: Zoom, theme: &Theme) -> String {
    let line = g.line_bytes() as u64;
    let eq = "=";
    match zoom.lines_per_cell() {
        None if g.layout() == Layout::Padded => {
            format!("1 cell {eq} 1 slot, alone in a {} line", Bytes(line))
        }
        None => format!(
            "1 cell {eq} 1 slot {eq} 8 B {} 1 group {eq} 1 line {eq} {}",
            theme.glyphs.dot,
            Bytes(line)
        ),
        Some(1) => format!("1 cell {eq} 1 line {eq} {}", Bytes(line)),
        Some(k) => format!("1 cell {eq} {k} lines {eq} {}", Bytes(k * line)),
    }
}

/// The lines a grid shows, as a footnote.
pub(crate) fn range_note(grid: &MapGrid, theme: &Theme) -> String {
    let v = grid.visible_lines();
    if v.start == 0 && v.end == grid.lines {
        format!("all {} lines", grid.lines)
    } else {
        format!("lines {}{}{} of {}", v.start, theme.glyphs.dash, v.end.saturating_sub(1), grid.lines)
    }
}

/// Up to [`MAX_NEXT_IDS`] upcoming ids as (slot, ordinal from 0), without allocating.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NextSlots {
    slots: [(usize, u8); MAX_NEXT_IDS],
    len: usize,
}

impl NextSlots {
    pub(crate) fn new(snapshot: &Snapshot, n: usize) -> NextSlots {
        let g = snapshot.geometry();
        let mut out = NextSlots { slots: [(0, 0); MAX_NEXT_IDS], len: 0 };
        for (i, (_, key)) in snapshot.next_ids(n.min(MAX_NEXT_IDS)).enumerate() {
            if let Some(k) = key.filter(|k| g.owns(*k)) {
                out.slots[out.len] = (k.slot(), u8::try_from(i).unwrap_or(u8::MAX));
                out.len += 1;
            }
        }
        out
    }

    /// The smallest ordinal whose slot lies in `slots`.
    #[inline]
    pub(crate) fn ordinal_in(&self, slots: &Range<usize>) -> Option<u8> {
        self.slots[..self.len].iter().filter(|(s, _)| slots.contains(s)).map(|&(_, o)| o).min()
    }
}

const DIGITS: [&str; 9] = ["1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// The glyph of the next id with ordinal `o` (from 0): its number up to 9.
pub(crate) fn ordinal_glyph(o: u8, theme: &Theme) -> &'static str {
    DIGITS.get(usize::from(o)).copied().unwrap_or(theme.glyphs.next_more)
}

struct Painter<'a> {
    states: &'a [SlotState],
    per_line: usize,
    writes: &'a LineWrites,
    scale: ShareScale,
    /// The most shared lines (at most [`TOP_SHARED`]).
    top: Vec<usize>,
    next: Option<NextSlots>,
    bold: bool,
    theme: &'a Theme,
}

impl Painter<'_> {
    fn loud(&self, (sym, style): (&'static str, Style)) -> (&'static str, Style) {
        (sym, if self.bold { style.add_modifier(Modifier::BOLD) } else { style })
    }

    /// The most shared line's transfers in `lines`.
    fn max_transfers(&self, lines: &Range<usize>) -> f32 {
        let t = &self.writes.transfers;
        let end = lines.end.min(t.len());
        t.get(lines.start..end).map_or(0.0, |s| s.iter().copied().fold(0.0, f32::max))
    }
}

impl MapPainter for Painter<'_> {
    fn slot(&self, line: usize, i: usize) -> (&'static str, Style) {
        self.loud(self.slot_plain(line, i))
    }

    fn line_mark(&self, line: usize) -> Option<(&'static str, Style)> {
        self.top.contains(&line).then_some((self.theme.glyphs.shared, self.theme.shared()))
    }

    fn cell(&self, lines: Range<usize>) -> (&'static str, Style) {
        self.loud(self.cell_plain(lines))
    }
}

impl Painter<'_> {
    fn slot_plain(&self, line: usize, i: usize) -> (&'static str, Style) {
        let s = line * self.per_line + i;
        let g = &self.theme.glyphs;
        if let Some(o) = self.next.as_ref().and_then(|n| n.ordinal_in(&(s..s + 1))) {
            return (ordinal_glyph(o, self.theme), self.theme.next_id());
        }
        let level = self.scale.level(self.writes.transfers(line));
        match self.states.get(s) {
            Some(SlotState::Occupied) => (g.occupied, self.theme.occupied(level)),
            Some(SlotState::Reserved) => (g.reserved, self.theme.reserved()),
            Some(SlotState::Free) | None => (g.free, self.theme.free(level)),
        }
    }

    fn cell_plain(&self, lines: Range<usize>) -> (&'static str, Style) {
        let g = &self.theme.glyphs;
        let slots = lines.start * self.per_line..(lines.end * self.per_line).min(self.states.len());
        if let Some(o) = self.next.as_ref().and_then(|n| n.ordinal_in(&slots)) {
            return (ordinal_glyph(o, self.theme), self.theme.next_id());
        }
        let level = self.scale.level(self.max_transfers(&lines));
        let states = self.states.get(slots.clone()).unwrap_or(&[]);
        let mut occupied = 0u64;
        let mut reserved = false;
        for &st in states {
            match st {
                SlotState::Occupied => occupied += 1,
                SlotState::Reserved => reserved = true,
                SlotState::Free => {}
            }
        }
        if occupied > 0 {
            (g.vbar_for(occupied, states.len() as u64), self.theme.occupied(level))
        } else if reserved {
            (g.reserved, self.theme.reserved())
        } else {
            (g.free, self.theme.free(level))
        }
    }
}

impl Widget for &OccupancyMap<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.is_empty() {
            return;
        }
        let theme = self.theme;
        let geometry = self.snapshot.geometry();
        let (rows, compact) = self.legend_rows(area);
        let grid = self.grid_with(area, rows);
        let (_, legend_area) = OccupancyMap::split(area, rows);
        let block = panel(theme, self.name, scale_text(geometry, grid.zoom, theme));
        let block = with_footnote(block, theme, range_note(&grid, theme));
        block.render(area, buf);

        let max = self.heat.slots.max_transfers();
        let top = self.heat.slots.top_shared(TOP_SHARED);
        let marks = top.len();
        let painter = Painter {
            states: self.snapshot.states(),
            per_line: geometry.slots_per_line(),
            writes: &self.heat.slots,
            scale: ShareScale::new(max),
            top,
            next: (self.next_ids > 0).then(|| NextSlots::new(self.snapshot, self.next_ids)),
            bold: self.wide,
            theme,
        };
        grid.draw(buf, theme, Some(self.map.cursor_line), &painter);

        if let Some(legend) = legend_area {
            // Only what the map drew: a glyph not on screen needs no room in the legend.
            let shown = drawn_symbols(buf, grid.area);
            let g = &theme.glyphs;
            let items: Vec<LegendItem<'_>> =
                legend_items(theme, &grid, self.next_ids, self.heat, max, marks, compact)
                    .into_iter()
                    .filter(|item| {
                        let glyph = item.first().map_or("", |s| s.content.as_ref());
                        let cursor = format!("{}{}", g.cursor_left, g.cursor_right);
                        let on_screen = |sym: &str| shown.contains(sym);
                        if glyph == g.reserved {
                            on_screen(g.reserved)
                        } else if glyph == g.free {
                            on_screen(g.free)
                        } else if glyph == g.shared {
                            on_screen(g.shared)
                        } else if glyph == cursor {
                            on_screen(g.cursor_left) || on_screen(g.cursor_right)
                        } else {
                            true
                        }
                    })
                    .collect();
            draw_legend_rows(buf, legend, &items);
        }
    }
}

/// The symbols drawn in `area` of `buf`.
fn drawn_symbols(buf: &Buffer, area: Rect) -> std::collections::HashSet<String> {
    let mut seen = std::collections::HashSet::new();
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            if let Some(c) = buf.cell((x, y)) {
                if !seen.contains(c.symbol()) {
                    seen.insert(c.symbol().to_owned());
                }
            }
        }
    }
    seen
}

fn legend_items<'a>(
    theme: &Theme,
    grid: &MapGrid,
    next: usize,
    heat: &LineHeat,
    max: f32,
    marks: usize,
    compact: bool,
) -> Vec<LegendItem<'a>> {
    let g = &theme.glyphs;
    let mut items: Vec<LegendItem<'a>> = Vec::with_capacity(8);
    let slot_level = grid.lines_per_cell().is_none();
    if slot_level {
        items.push(vec![Span::styled(g.occupied, theme.occupied(0)), Span::styled(" occupied", theme.dim())]);
    } else {
        items.push(vec![
            Span::styled(g.vbars[0], theme.occupied(0)),
            Span::styled(g.vbars[7], theme.occupied(0)),
            Span::styled(" share occupied", theme.dim()),
        ]);
    }
    // The colour scale second: a narrow legend drops items from the end.
    let per_s = heat.per_second(1).map(|unit| unit * f64::from(max));
    items.push(share_legend(theme, heat.measured, per_s, even_sharing(&heat.slots, max), compact));
    items.push(vec![Span::styled(g.reserved, theme.reserved()), Span::styled(" reserved", theme.dim())]);
    items.push(vec![Span::styled(g.free, theme.free(0)), Span::styled(" free", theme.dim())]);
    if slot_level && marks > 0 {
        items.push(vec![
            Span::styled(g.shared, theme.shared()),
            Span::styled(format!(" {marks} most shared"), theme.dim()),
        ]);
    }
    if next > 0 {
        items.push(vec![Span::styled("1", theme.next_id()), Span::styled(" next ids", theme.dim())]);
    }
    if slot_level {
        items.push(vec![
            Span::styled(format!("{}{}", g.cursor_left, g.cursor_right), theme.cursor()),
            Span::styled(" cursor", theme.dim()),
        ]);
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::theme::{Palette, HEAT_LEVELS};
    use ratatui::style::Color;
    use slotscope_table::Key;

    /// 16 slots, 8 per line, linear: 2 lines. Line 0: slots 0-2 occupied, 3 reserved.
    /// Line 1: slot 15 occupied.
    fn two_lines() -> Snapshot {
        let g = Geometry::new(16, Layout::Linear, 64).unwrap();
        let mut s = Snapshot::fresh(g);
        for slot in 0..3 {
            s.set_slot(slot, SlotState::Occupied, Some(g.key(0, slot)));
        }
        s.set_slot(3, SlotState::Reserved, None);
        s.set_slot(15, SlotState::Occupied, Some(g.key(2, 15)));
        s
    }

    fn render(map: &OccupancyMap<'_>, w: u16, h: u16) -> Buffer {
        let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
        map.render(buf.area, &mut buf);
        buf
    }

    fn row(buf: &Buffer, y: u16) -> String {
        (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect()
    }

    #[test]
    fn two_lines_render_known_glyphs() {
        let snap = two_lines();
        let heat = LineHeat::default();
        let map = MapState { zoom: Zoom::Slots, cursor_line: 1 };
        let theme = Theme::default();
        let buf = render(&OccupancyMap::new(&snap, &heat, &map, &theme), 26, 4);
        // Label "0 " then two groups: [mark][8 slots][gap]; the cursor is on line 1.
        assert_eq!(row(&buf, 1), "│0  ███▒···· ▶·······█◀  │");
        // Occupied slots use the cold heat colour, free ones the dim free style.
        assert_eq!(Some(buf[(4, 1)].fg), theme.occupied(0).fg);
        assert_eq!(Some(buf[(8, 1)].fg), theme.free(0).fg);
        assert_eq!(Some(buf[(7, 1)].fg), theme.reserved().fg);
    }

    #[test]
    fn sharing_colours_by_rate_and_marks_only_the_top_lines() {
        // 16 lines; expected transfers: line 3 hottest, 9 lines within 2x of each other...
        let g = Geometry::new(128, Layout::Linear, 64).unwrap();
        let mut snap = Snapshot::fresh(g);
        for line in 0..16 {
            snap.set_slot(line * 8, SlotState::Occupied, Some(g.key(0, line * 8)));
        }
        let transfers = vec![
            0.0, 10.0, 900.0, 1000.0, 0.0, 480.0, 600.0, 700.0, 800.0, 510.0, 520.0, 530.0, 540.0, 1.0, 0.0,
            0.0,
        ];
        let heat = LineHeat {
            measured: true,
            interval_ns: 100_000_000,
            slots: LineWrites { transfers, ..LineWrites::default() },
            ..LineHeat::default()
        };
        let map = MapState { zoom: Zoom::Slots, cursor_line: 15 };
        let theme = Theme::default();
        let buf = render(&OccupancyMap::new(&snap, &heat, &map, &theme), 46, 9);
        let (mut marked, mut levels) = (vec![], vec![]);
        // Rows of 4 groups of 10 after the 3-column label.
        for line in 0..16u16 {
            let (x, y) = (1 + 3 + (line % 4) * 10, 1 + line / 4);
            if buf[(x, y)].symbol() == "×" {
                marked.push(line);
                assert_eq!(Some(buf[(x, y)].fg), theme.shared().fg);
            }
            // The occupied slot keeps its glyph; its colour is the line's sharing class.
            assert_eq!(buf[(x + 1, y)].symbol(), "█", "occupancy is never hidden (line {line})");
            let level = (0..=HEAT_LEVELS).find(|&l| Some(buf[(x + 1, y)].fg) == theme.occupied(l).fg);
            levels.push(level.unwrap());
        }
        assert_eq!(marked, [2, 3, 6, 7, 8, 10, 11, 12], "the 8 most shared, not every shared line");
        // Top class: within 2x of the top (1000): 500 and up.
        assert_eq!(levels, [0, 1, 7, 7, 0, 6, 7, 7, 7, 7, 7, 7, 7, 1, 0, 0]);
        let wide = render(&OccupancyMap::new(&snap, &heat, &map, &theme), 140, 9);
        let legend = row(&wide, 7);
        assert!(legend.contains("× 8 most shared"), "{legend}");
        assert!(
            legend.contains("to 10.0k/s (est.)") && legend.contains("even: 9/12 top"),
            "1000 in 100 ms: {legend}"
        );
    }

    #[test]
    fn zoom_aggregates_by_max() {
        // 64 lines of 8; one occupied slot in line 37, and one hot shared line (40) among
        // lines shared a million times less.
        let g = Geometry::new(512, Layout::Linear, 64).unwrap();
        let mut snap = Snapshot::fresh(g);
        snap.set_slot(37 * 8 + 5, SlotState::Occupied, Some(g.key(0, 37 * 8 + 5)));
        let mut transfers = vec![1.0f32; 64];
        transfers[40] = 1_000_000.0;
        let heat = LineHeat {
            measured: true,
            slots: LineWrites { transfers, ..LineWrites::default() },
            ..LineHeat::default()
        };
        // 4 lines per cell: 16 cells; cells 9 (lines 36-39) and 10 (40-43) matter.
        let map = MapState { zoom: Zoom::Lines { log2: 2 }, cursor_line: 0 };
        let theme = Theme::default();
        let buf = render(&OccupancyMap::new(&snap, &heat, &map, &theme), 60, 5);
        let x0 = 1 + 3; // border + label "60 "
        let cells: String = (0..16).map(|i| buf[(x0 + i, 1)].symbol().to_owned()).collect();
        assert_eq!(cells, "·········▁······", "the one occupied slot of 32 survives as the lowest bar");
        let hot = Some(buf[(x0 + 10, 1)].fg);
        assert_eq!(hot, theme.heat(7).fg, "a single hot line keeps the cell in the top class");
        assert_eq!(Some(buf[(x0 + 11, 1)].fg), theme.heat(1).fg, "far below the top: the lowest class");
        assert!(buf[(x0, 1)].modifier.contains(Modifier::REVERSED), "cursor cell");
        // The title says what a cell is.
        assert!(row(&buf, 0).contains("1 cell = 4 lines = 256 B"), "{}", row(&buf, 0));
    }

    #[test]
    fn next_ids_toggle_highlights_the_right_cells() {
        // Interleaved, 32 slots, 4 lines: ids 0, 1, 2 land on slots 0, 8, 16 (lines 0, 1, 2).
        let g = Geometry::new(32, Layout::Interleaved, 64).unwrap();
        let mut snap = Snapshot::fresh(g);
        // Id 1's ring cell is RESERVED (a remover mid-push): that ticket is skipped.
        snap.set_ring_cell(1, None);
        let heat = LineHeat::default();
        let map = MapState { zoom: Zoom::Slots, cursor_line: 3 };
        let theme = Theme::default();
        let buf = render(&OccupancyMap::new(&snap, &heat, &map, &theme).next_ids(3), 44, 4);
        assert_eq!(row(&buf, 1), "│0  1·······  ········  3······· ▶········◀│");
        assert_eq!(buf[(4, 1)].bg, Color::Indexed(227));
        let off = render(&OccupancyMap::new(&snap, &heat, &map, &theme), 44, 4);
        assert_eq!(row(&off, 1), "│0  ········  ········  ········ ▶········◀│");
        let _: Key = g.key(0, 0);
    }

    #[test]
    fn ascii_and_mono() {
        let snap = two_lines();
        let heat = LineHeat::default();
        let map = MapState { zoom: Zoom::Slots, cursor_line: 1 };
        let theme = Theme::new(Palette::Mono, true);
        let buf = render(&OccupancyMap::new(&snap, &heat, &map, &theme), 26, 4);
        assert_eq!(row(&buf, 0), "+ Occupancy 1 cell = 1 sl+");
        assert_eq!(row(&buf, 1), "|0  ###+.... >.......#<  |");
        for x in 0..26 {
            for y in 0..4 {
                let c = &buf[(x, y)];
                assert_eq!((c.fg, c.bg), (Color::Reset, Color::Reset), "colour at {x},{y}");
                assert!(c.symbol().is_ascii());
            }
        }
    }

    #[test]
    fn fit_shows_a_million_slots_whole() {
        let g = Geometry::new(1 << 20, Layout::Interleaved, 64).unwrap();
        let snap = Snapshot::fresh(g);
        let heat = LineHeat::default();
        let theme = Theme::default();
        let map = OccupancyMap::new(&snap, &heat, &MapState::default(), &theme);
        let grid = map.grid(Rect::new(0, 0, 130, 56));
        assert_eq!(grid.visible_lines(), 0..g.lines());
        let buf = render(&map, 130, 56);
        assert!(row(&buf, 55).contains("all 131072 lines"));
    }
}
