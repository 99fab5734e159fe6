//! Small charts drawn cell by cell: column plots in eighths of a cell (sparklines, the p99 and
//! spectrum bands), and tables whose columns give way by priority on narrow terminals.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use crate::panel::{put, put_right};
use crate::theme::Theme;

/// Draws one column per value, bottom-up, each `fraction` (0.0 ..= 1.0) of `area`'s height in
/// eighths of a cell; `None` leaves the column empty. Values fill the columns from the left;
/// extra values are ignored. Any positive fraction shows at least one eighth.
pub(crate) fn columns(
    buf: &mut Buffer,
    area: Rect,
    values: impl Iterator<Item = Option<f64>>,
    style: Style,
    theme: &Theme,
) {
    if area.is_empty() {
        return;
    }
    let levels = u32::from(area.height) * 8;
    for (i, v) in values.take(usize::from(area.width)).enumerate() {
        // Skips no data, zero, negatives and NaN.
        let Some(f) = v.filter(|f| *f > 0.0) else { continue };
        // In 1..=levels by the clamp, so the cast is exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let e = ((f.min(1.0) * f64::from(levels)).ceil() as u32).clamp(1, levels);
        let x = area.x + u16::try_from(i).unwrap_or(u16::MAX);
        let (full, rest) = (e / 8, e % 8);
        for r in 0..full {
            let y = area.bottom() - 1 - u16::try_from(r).unwrap_or(0);
            if let Some(c) = buf.cell_mut((x, y)) {
                c.set_symbol(theme.glyphs.vbars[7]).set_style(style);
            }
        }
        if rest > 0 {
            let y = area.bottom() - 1 - u16::try_from(full).unwrap_or(0);
            if let Some(c) = buf.cell_mut((x, y)) {
                c.set_symbol(theme.glyphs.vbars[rest as usize - 1]).set_style(style);
            }
        }
    }
}

/// Maps a value to its share of a linear axis from 0 to `max`.
pub(crate) fn linear(v: u64, max: u64) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    (max > 0).then(|| v as f64 / max as f64)
}

/// A log axis from `lo` to `hi` (both > 0), for latencies that span decades.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct LogAxis {
    lo: f64,
    hi: f64,
}

impl LogAxis {
    /// An axis that shows `min` as a sliver and `max` as full height.
    pub(crate) fn new(min: u64, max: u64) -> LogAxis {
        #[allow(clippy::cast_precision_loss)]
        let (min, max) = (min.max(1) as f64, max.max(1) as f64);
        // Start half a decade below the smallest value so it still shows.
        let lo = (min.log10() - 0.5).max(0.0);
        let hi = max.log10().max(lo + 0.5);
        LogAxis { lo, hi }
    }

    /// The share of the axis at value `v` (`None` for 0: no data).
    pub(crate) fn fraction(&self, v: u64) -> Option<f64> {
        #[allow(clippy::cast_precision_loss)]
        (v > 0).then(|| (((v as f64).log10() - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0))
    }
}

/// How a table column is aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
}

/// A table column: heading, width, alignment, and priority (lower stays longer).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Column {
    pub(crate) title: &'static str,
    pub(crate) width: u16,
    pub(crate) align: Align,
    pub(crate) priority: u8,
}

pub(crate) const fn col(title: &'static str, width: u16, align: Align, priority: u8) -> Column {
    Column { title, width, align, priority }
}

/// Which columns fit in `width` (one space between columns), keeping the lowest priorities;
/// bit i set = column i shown.
pub(crate) fn fit_columns(cols: &[Column], width: u16) -> u64 {
    let mut order: Vec<usize> = (0..cols.len()).collect();
    order.sort_by_key(|&i| (cols[i].priority, i));
    let mut used: u32 = 0;
    let mut mask = 0u64;
    for i in order {
        let need = u32::from(cols[i].width) + u32::from(mask != 0);
        if used + need <= u32::from(width) {
            used += need;
            mask |= 1 << i;
        }
    }
    mask
}

/// Draws the cells of one table row: `text(i)` for each shown column `i`.
pub(crate) fn table_row(
    buf: &mut Buffer,
    x: u16,
    y: u16,
    right: u16,
    cols: &[Column],
    mask: u64,
    mut text: impl FnMut(usize) -> (String, Style),
) {
    let mut x = x;
    for (i, c) in cols.iter().enumerate() {
        if mask & (1 << i) == 0 {
            continue;
        }
        let end = x.saturating_add(c.width).min(right);
        let (s, style) = text(i);
        match c.align {
            Align::Left => {
                put(buf, x, y, end, &s, style);
            }
            Align::Right => put_right(buf, x, end, y, &s, style),
        }
        x = end.saturating_add(1);
        if x >= right {
            break;
        }
    }
}

/// Draws the headings of a table.
pub(crate) fn table_head(
    buf: &mut Buffer,
    x: u16,
    y: u16,
    right: u16,
    cols: &[Column],
    mask: u64,
    style: Style,
) {
    table_row(buf, x, y, right, cols, mask, |i| (cols[i].title.to_owned(), style));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_draw_in_eighths_from_the_bottom() {
        let t = Theme::default();
        let mut buf = Buffer::empty(Rect::new(0, 0, 4, 2));
        let vals = [Some(1.0), Some(0.5), Some(0.01), None];
        let area = buf.area;
        columns(&mut buf, area, vals.into_iter(), Style::new(), &t);
        assert_eq!(buf, Buffer::with_lines(["█   ", "██▁ "]));
    }

    #[test]
    fn log_axis_spreads_decades() {
        let a = LogAxis::new(10, 10_000);
        assert_eq!(a.fraction(0), None);
        assert_eq!(a.fraction(10_000), Some(1.0));
        let f10 = a.fraction(10).unwrap();
        assert!(f10 > 0.0 && f10 < 0.2, "{f10}");
        let f100 = a.fraction(100).unwrap();
        let f1000 = a.fraction(1000).unwrap();
        assert!((f1000 - f100 - (f100 - f10)).abs() < 1e-9, "equal steps per decade");
    }

    #[test]
    fn columns_give_way_by_priority() {
        let cols = [col("a", 4, Align::Left, 0), col("b", 6, Align::Right, 2), col("c", 3, Align::Right, 1)];
        assert_eq!(fit_columns(&cols, 100), 0b111);
        assert_eq!(fit_columns(&cols, 8), 0b101, "a + c = 4 + 1 + 3");
        assert_eq!(fit_columns(&cols, 4), 0b001);
        let mut buf = Buffer::empty(Rect::new(0, 0, 8, 1));
        table_row(&mut buf, 0, 0, 8, &cols, 0b101, |i| (["ab", "x", "7"][i].to_owned(), Style::new()));
        assert_eq!(buf, Buffer::with_lines(["ab     7"]));
    }
}
