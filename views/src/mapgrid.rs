//! The grid shared by the map views: where each line (or group of lines) of an array goes on
//! screen, row labels, scrolling and the cursor.
//!
//! Lines run in memory order left to right, top to bottom, like a hex dump; each row starts
//! with the number of its first line. Two modes:
//! - **slot level**: each line is a group `[mark][S slot cells][gap]`; the mark cell carries
//!   the sharing mark (or the cursor's `▶`), the gap the cursor's `◀`;
//! - **cell level**: each cell aggregates `k = 2^z` lines.
//!
//! Scrolling is a pure function of the cursor: the cursor's row is kept in the middle of the
//! view (clamped at both ends), so drawing needs no state of its own.

use std::ops::Range;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use crate::state::{Zoom, MAX_ZOOM_LOG2};
use crate::theme::Theme;
use crate::units::digits;

/// A cursor movement on the map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Move {
    /// One cell (or line) back in memory order.
    Left,
    /// One cell (or line) forward.
    Right,
    /// One row up.
    Up,
    /// One row down.
    Down,
    /// One screen up.
    PageUp,
    /// One screen down.
    PageDown,
    /// The first line.
    Home,
    /// The last line.
    End,
}

/// How one map is laid out in one area. Computed from plain inputs, so the app can compute
/// the same grid the widget drew (to step the zoom from `Fit` or move the cursor by rows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapGrid {
    /// The area the grid fills.
    pub area: Rect,
    /// Lines in the array.
    pub lines: usize,
    /// Slots per line at slot level; `None` if the map has no slot level.
    pub slots_per_line: Option<usize>,
    /// The zoom drawn: `Slots` or `Lines` (never `Fit`).
    pub zoom: Zoom,
    /// Width of the row labels, including their trailing space (0 when too narrow).
    pub label_width: u16,
    /// Line groups per row (slot level) or cells per row (cell level).
    pub units_per_row: usize,
    /// Lines per row.
    pub lines_per_row: usize,
    /// Rows of the whole array.
    pub total_rows: usize,
    /// The first row drawn.
    pub first_row: usize,
    /// Columns per slot (slot level) or per cell (cell level): 1, or 2 for presenter mode.
    pub slot_width: u16,
}

/// Smallest area in which a grid draws anything.
const MIN_GRID_WIDTH: u16 = 1;

impl MapGrid {
    /// Lays out an array of `lines` lines in `area` at `zoom`, scrolled to show `cursor_line`.
    pub fn new(
        lines: usize,
        slots_per_line: Option<usize>,
        zoom: Zoom,
        cursor_line: usize,
        area: Rect,
    ) -> MapGrid {
        MapGrid::scaled(lines, slots_per_line, zoom, cursor_line, area, 1)
    }

    /// [`MapGrid::new`] with each slot (or cell) `slot_width` columns wide (at least 1): large
    /// glyphs for a projector.
    pub fn scaled(
        lines: usize,
        slots_per_line: Option<usize>,
        zoom: Zoom,
        cursor_line: usize,
        area: Rect,
        slot_width: u16,
    ) -> MapGrid {
        let sw = usize::from(slot_width.max(1));
        let lines = lines.max(1);
        let full_label = u16::try_from(digits(lines - 1) + 1).unwrap_or(u16::MAX);
        // Labels only when they leave room for at least 8 cells.
        let label_width = if area.width >= full_label.saturating_add(8) { full_label } else { 0 };
        let avail = usize::from(area.width.saturating_sub(label_width));
        let rows_avail = usize::from(area.height).max(1);

        let slot_units = |s: usize| avail / (s * sw + 2);
        let cells_avail = avail / sw;
        let zoom = match (zoom, slots_per_line) {
            (Zoom::Fit, Some(s)) if slot_units(s) >= 1 && lines.div_ceil(slot_units(s)) <= rows_avail => {
                Zoom::Slots
            }
            (Zoom::Fit, _) => {
                let cells = Self::cells_per_row(cells_avail).max(1);
                let mut log2 = 0u8;
                while log2 < MAX_ZOOM_LOG2 && lines.div_ceil(1usize << log2).div_ceil(cells) > rows_avail {
                    log2 += 1;
                }
                Zoom::Lines { log2 }
            }
            (Zoom::Slots, Some(s)) if slot_units(s) >= 1 => Zoom::Slots,
            (Zoom::Slots, _) => Zoom::Lines { log2: 0 },
            (z @ Zoom::Lines { .. }, _) => z,
        };

        let (units_per_row, lines_per_row) = match zoom {
            Zoom::Slots => {
                let u = slot_units(slots_per_line.unwrap_or(1)).max(1);
                (u, u)
            }
            Zoom::Lines { log2 } => {
                let u = Self::cells_per_row(cells_avail).max(1);
                (u, u.saturating_mul(1usize << log2))
            }
            Zoom::Fit => unreachable!("resolved above"),
        };
        let total_rows = lines.div_ceil(lines_per_row);
        let cursor_row = cursor_line.min(lines - 1) / lines_per_row;
        let visible = usize::from(area.height);
        let first_row = if total_rows <= visible {
            0
        } else {
            cursor_row.saturating_sub(visible / 2).min(total_rows - visible)
        };
        MapGrid {
            area,
            lines,
            slots_per_line,
            zoom,
            label_width,
            units_per_row,
            lines_per_row,
            total_rows,
            first_row,
            slot_width: slot_width.max(1),
        }
    }

    /// Cells per row at cell level: aligned to 8 when there is room, so rows start at round
    /// line numbers.
    fn cells_per_row(avail: usize) -> usize {
        if avail >= 16 {
            avail / 8 * 8
        } else {
            avail
        }
    }

    /// Lines aggregated per cell, `None` at slot level.
    pub fn lines_per_cell(&self) -> Option<usize> {
        match self.zoom {
            Zoom::Lines { log2 } => Some(1usize << log2),
            Zoom::Slots | Zoom::Fit => None,
        }
    }

    /// Rows drawn.
    pub fn visible_rows(&self) -> usize {
        usize::from(self.area.height).min(self.total_rows - self.first_row)
    }

    /// The lines shown, first to last (exclusive).
    pub fn visible_lines(&self) -> Range<usize> {
        let start = self.first_row * self.lines_per_row;
        let end = ((self.first_row + self.visible_rows()) * self.lines_per_row).min(self.lines);
        start..end
    }

    /// Where the cursor goes after `m`, from `cursor_line`.
    pub fn moved(&self, cursor_line: usize, m: Move) -> usize {
        let last = self.lines - 1;
        let cur = cursor_line.min(last);
        let step = self.lines_per_cell().unwrap_or(1);
        let row = self.lines_per_row;
        let page = row * usize::from(self.area.height.max(1));
        let snapped = cur - cur % step;
        match m {
            Move::Left if cur == snapped => cur.saturating_sub(step),
            Move::Left => snapped,
            Move::Right => (snapped + step).min(last),
            Move::Up => cur.saturating_sub(row),
            Move::Down => cur.checked_add(row).filter(|&c| c <= last).unwrap_or(cur),
            Move::PageUp => cur.saturating_sub(page),
            Move::PageDown => cur.saturating_add(page).min(last),
            Move::Home => 0,
            Move::End => last,
        }
    }

    /// The line under the terminal cell (`x`, `y`) (the first line of a zoomed-out cell), for a
    /// mouse click; `None` off the grid, on a row label, or past the last line.
    pub fn line_at(&self, x: u16, y: u16) -> Option<usize> {
        if !self.area.contains((x, y).into()) || x < self.area.x + self.label_width {
            return None;
        }
        let row = self.first_row + usize::from(y - self.area.y);
        if row >= self.total_rows {
            return None;
        }
        let col = usize::from(x - self.area.x - self.label_width);
        let sw = usize::from(self.slot_width.max(1));
        let offset = match self.zoom {
            Zoom::Slots => {
                let unit = self.slots_per_line.unwrap_or(1) * sw + 2;
                // The gap after a group (where the cursor's right mark goes) belongs to no line.
                (col % unit != unit - 1).then_some(col / unit)?
            }
            Zoom::Lines { log2 } => (col / sw).checked_mul(1usize << log2)?,
            Zoom::Fit => return None,
        };
        if offset >= self.lines_per_row {
            return None;
        }
        let line = row * self.lines_per_row + offset;
        (line < self.lines).then_some(line)
    }

    /// Draws the grid: row labels, then for every visible line group (slot level) or cell
    /// (cell level) what `paint` says.
    pub(crate) fn draw(
        &self,
        buf: &mut Buffer,
        theme: &Theme,
        cursor: Option<usize>,
        paint: &impl MapPainter,
    ) {
        if self.area.is_empty() || self.area.width < MIN_GRID_WIDTH {
            return;
        }
        // No cursor: a line past the end, which no row contains.
        let cursor_line = cursor.map_or(usize::MAX, |c| c.min(self.lines - 1));
        let g = &theme.glyphs;
        let x0 = self.area.x + self.label_width;
        let right = self.area.right();
        for r in 0..self.visible_rows() {
            let row = self.first_row + r;
            let y = self.area.y + u16::try_from(r).unwrap_or(u16::MAX);
            let first = row * self.lines_per_row;
            let row_lines = first..(first + self.lines_per_row).min(self.lines);
            if self.label_width > 0 {
                let style = if row_lines.contains(&cursor_line) { theme.cursor() } else { theme.row_label() };
                let w = usize::from(self.label_width - 1);
                buf.set_stringn(self.area.x, y, format!("{first:>w$}"), w, style);
            }
            match self.zoom {
                Zoom::Slots => {
                    let s = self.slots_per_line.unwrap_or(1);
                    let sw = self.slot_width.max(1);
                    let unit = u16::try_from(s * usize::from(sw) + 2).unwrap_or(u16::MAX);
                    let mut x = x0;
                    for line in row_lines {
                        if x + unit > right {
                            break;
                        }
                        let is_cursor = line == cursor_line;
                        let (mark, mark_style) = match paint.line_mark(line) {
                            Some(m) => m,
                            None if is_cursor => (g.cursor_left, theme.cursor()),
                            None => (" ", Style::new()),
                        };
                        set(buf, x, y, mark, mark_style);
                        for i in 0..s {
                            let (sym, style) = paint.slot(line, i);
                            let sx = x + 1 + u16::try_from(i).unwrap_or(0) * sw;
                            for k in 0..sw {
                                set(buf, sx + k, y, sym, style);
                            }
                        }
                        if is_cursor {
                            set(buf, x + unit - 1, y, g.cursor_right, theme.cursor());
                        }
                        x += unit;
                    }
                }
                Zoom::Lines { log2 } => {
                    let k = 1usize << log2;
                    let mut x = x0;
                    let mut a = row_lines.start;
                    while a < row_lines.end && x < right {
                        let b = (a + k).min(self.lines);
                        let (sym, mut style) = paint.cell(a..b);
                        if (a..b).contains(&cursor_line) {
                            style = style.add_modifier(theme.cursor_cell());
                        }
                        for k in 0..self.slot_width.max(1) {
                            if x + k < right {
                                set(buf, x + k, y, sym, style);
                            }
                        }
                        x += self.slot_width.max(1);
                        a = b;
                    }
                }
                Zoom::Fit => {}
            }
        }
    }
}

fn set(buf: &mut Buffer, x: u16, y: u16, symbol: &str, style: Style) {
    if let Some(cell) = buf.cell_mut((x, y)) {
        cell.set_symbol(symbol).set_style(style);
    }
}

/// What a map view puts in each place of a [`MapGrid`].
pub(crate) trait MapPainter {
    /// Slot `i` (0-based within the line) of `line`, at slot level.
    fn slot(&self, line: usize, i: usize) -> (&'static str, Style);
    /// The mark left of `line` at slot level (e.g. sharing), if any.
    fn line_mark(&self, line: usize) -> Option<(&'static str, Style)>;
    /// The cell aggregating `lines`, at cell level.
    fn cell(&self, lines: Range<usize>) -> (&'static str, Style);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(w: u16, h: u16) -> Rect {
        Rect::new(0, 0, w, h)
    }

    #[test]
    fn fit_prefers_slots_when_everything_fits() {
        // 4 lines of 8 slots: label "3 " (2) + 4 groups of 10 = 42 columns, one row.
        let g = MapGrid::new(4, Some(8), Zoom::Fit, 0, area(42, 3));
        assert_eq!(g.zoom, Zoom::Slots);
        assert_eq!((g.label_width, g.units_per_row, g.total_rows), (2, 4, 1));
    }

    #[test]
    fn fit_picks_the_smallest_cell_level_that_shows_everything() {
        // 2^17 lines in 200x60: labels 7 wide, 193 -> 192 cells per row.
        let g = MapGrid::new(1 << 17, Some(8), Zoom::Fit, 0, area(200, 60));
        assert_eq!(g.units_per_row, 192);
        // k lines per cell needs ceil(2^17 / k / 192) <= 60: k = 16 gives 43 rows, k = 8 gives 86.
        assert_eq!(g.zoom, Zoom::Lines { log2: 4 });
        assert_eq!(g.total_rows, 43);
        assert_eq!(g.visible_lines(), 0..1 << 17);
    }

    #[test]
    fn scrolling_keeps_the_cursor_row_in_the_middle() {
        let g = MapGrid::new(1000, Some(8), Zoom::Slots, 500, area(52, 10));
        // label 4, 48 / 10 = 4 lines per row, 250 rows; cursor row 125, first row 120.
        assert_eq!((g.lines_per_row, g.total_rows, g.first_row), (4, 250, 120));
        let top = MapGrid::new(1000, Some(8), Zoom::Slots, 3, area(52, 10));
        assert_eq!(top.first_row, 0);
        let bottom = MapGrid::new(1000, Some(8), Zoom::Slots, 999, area(52, 10));
        assert_eq!(bottom.first_row, 240);
        assert_eq!(bottom.visible_lines(), 960..1000);
    }

    #[test]
    fn moves_respect_cells_and_bounds() {
        let g = MapGrid::new(1000, Some(8), Zoom::Slots, 0, area(52, 10));
        assert_eq!(g.moved(5, Move::Right), 6);
        assert_eq!(g.moved(0, Move::Left), 0);
        assert_eq!(g.moved(5, Move::Down), 9);
        assert_eq!(g.moved(998, Move::Down), 998, "no partial row jump past the end");
        assert_eq!(g.moved(5, Move::End), 999);
        let z = MapGrid::new(1000, Some(8), Zoom::Lines { log2: 2 }, 0, area(52, 10));
        assert_eq!(z.moved(5, Move::Right), 8, "snaps to the next cell of 4 lines");
        assert_eq!(z.moved(5, Move::Left), 4, "first back to the start of its own cell");
        assert_eq!(z.moved(4, Move::Left), 0);
        assert_eq!(z.moved(999, Move::Right), 999);
    }

    #[test]
    fn clicks_find_their_line() {
        // Label 4 wide, groups of 10: [mark][8 slots][gap]; 4 lines per row.
        let g = MapGrid::new(1000, Some(8), Zoom::Slots, 0, Rect::new(10, 5, 52, 10));
        assert_eq!(g.line_at(10 + 4, 5), Some(0), "the mark cell belongs to its line");
        assert_eq!(g.line_at(10 + 4 + 8, 5), Some(0));
        assert_eq!(g.line_at(10 + 4 + 9, 5), None, "the gap belongs to no line");
        assert_eq!(g.line_at(10 + 4 + 10, 6), Some(5));
        assert_eq!(g.line_at(12, 6), None, "a row label");
        assert_eq!(g.line_at(9, 6), None, "left of the grid");
        assert_eq!(g.line_at(10 + 4 + 45, 5), None, "right of the last group");
        assert_eq!(g.line_at(20, 15), None, "below the grid");
        // Zoomed out: 4 lines a cell, 48 cells (label 4 + 48) -> 192 lines a row.
        let z = MapGrid::new(1000, Some(8), Zoom::Lines { log2: 2 }, 0, Rect::new(0, 0, 52, 10));
        assert_eq!(z.line_at(4 + 3, 1), Some(192 + 12));
        assert_eq!(z.line_at(4 + 47, 5), None, "past the last line (1000)");
    }

    #[test]
    fn wide_slots_take_two_columns_and_clicks_follow() {
        // Label 4, groups of 8 * 2 + 2 = 18: 2 lines per row in 40 columns.
        let g = MapGrid::scaled(1000, Some(8), Zoom::Slots, 0, Rect::new(0, 0, 40, 10), 2);
        assert_eq!((g.zoom, g.units_per_row, g.slot_width), (Zoom::Slots, 2, 2));
        assert_eq!(g.line_at(4 + 17, 0), None, "the gap after the first group");
        assert_eq!(g.line_at(4 + 18, 0), Some(1));
        // Fit at cell level: 36 columns of 2 = 18 cells, aligned to 16.
        let f = MapGrid::scaled(1 << 12, Some(8), Zoom::Fit, 0, Rect::new(0, 0, 41, 10), 2);
        assert_eq!(f.units_per_row, 16);
        assert_eq!(f.line_at(5 + 3, 0), Some(f.lines_per_cell().unwrap()), "column 3 is the second cell");
    }

    #[test]
    fn slots_fall_back_to_cells_without_a_slot_level() {
        let g = MapGrid::new(64, None, Zoom::Slots, 0, area(30, 5));
        assert_eq!(g.zoom, Zoom::Lines { log2: 0 });
        let tiny = MapGrid::new(64, Some(8), Zoom::Slots, 0, area(5, 5));
        assert_eq!(tiny.zoom, Zoom::Lines { log2: 0 }, "a group of 10 does not fit in 5 columns");
    }
}
