//! Pieces every view uses: the bordered panel with its two-part title, legends that drop what
//! does not fit, the heat scale, and the "needs our table" message.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};

use crate::theme::{Theme, HEAT_LEVELS};
use crate::units::Si;

/// A bordered panel titled `name · scale`: the name says what the view is, the scale what
/// one cell (or one row) means.
pub(crate) fn panel<'a>(theme: &Theme, name: &'a str, scale: String) -> Block<'a> {
    let mut title = vec![Span::styled(format!(" {name} "), theme.title())];
    if !scale.is_empty() {
        title.push(Span::styled(format!("{} ", scale), theme.title_scale()));
    }
    Block::bordered().border_set(theme.glyphs.border).border_style(theme.border()).title(Line::from(title))
}

/// Adds a right-aligned bottom title (ranges, totals).
pub(crate) fn with_footnote<'a>(block: Block<'a>, theme: &Theme, note: String) -> Block<'a> {
    if note.is_empty() {
        return block;
    }
    block.title_bottom(Line::from(Span::styled(format!(" {note} "), theme.dim())).alignment(Alignment::Right))
}

/// `area` cut in two: side by side (halves of the width) when `side_by_side`, else stacked
/// (halves of the height); the second part takes the odd column or row.
pub(crate) fn halves(area: Rect, side_by_side: bool) -> (Rect, Rect) {
    if side_by_side {
        let w = area.width / 2;
        (Rect { width: w, ..area }, Rect { x: area.x + w, width: area.width - w, ..area })
    } else {
        let h = area.height / 2;
        (Rect { height: h, ..area }, Rect { y: area.y + h, height: area.height - h, ..area })
    }
}

/// One legend entry: spans drawn together, never split.
pub(crate) type LegendItem<'a> = Vec<Span<'a>>;

/// Draws `items` on the first row of `area`, two spaces apart, in order, skipping any that do
/// not fit in what is left (so earlier items have priority).
pub(crate) fn draw_legend(buf: &mut Buffer, area: Rect, items: &[LegendItem<'_>]) {
    if area.is_empty() {
        return;
    }
    let mut x = area.x;
    let right = area.right();
    for item in items {
        let w: usize = item.iter().map(Span::width).sum();
        let gap: u16 = if x == area.x { 0 } else { 2 };
        let Ok(w) = u16::try_from(w) else { continue };
        let w = w.saturating_add(gap);
        if x.saturating_add(w) > right {
            continue;
        }
        x += gap;
        for span in item {
            let (nx, _) = buf.set_span(x, area.y, span, right - x);
            x = nx;
        }
    }
}

/// Where `items` go on `rows` rows of `width` columns, first fit: each item on the first row
/// with room for it (never split), two spaces apart; `None` for an item no row has room for.
pub(crate) fn legend_layout(items: &[LegendItem<'_>], rows: u16, width: u16) -> Vec<Option<(u16, u16)>> {
    let mut used = vec![0u16; usize::from(rows)];
    items
        .iter()
        .map(|item| {
            let w = u16::try_from(item.iter().map(Span::width).sum::<usize>()).unwrap_or(u16::MAX);
            used.iter_mut().enumerate().find_map(|(r, x)| {
                let gap = if *x == 0 { 0 } else { 2 };
                let at = x.saturating_add(gap);
                (at.saturating_add(w) <= width).then(|| {
                    *x = at + w;
                    (u16::try_from(r).unwrap_or(0), at)
                })
            })
        })
        .collect()
}

/// Draws `items` over the rows of `area` where [`legend_layout`] puts them.
pub(crate) fn draw_legend_rows(buf: &mut Buffer, area: Rect, items: &[LegendItem<'_>]) {
    for (item, at) in items.iter().zip(legend_layout(items, area.height, area.width)) {
        let Some((row, dx)) = at else { continue };
        let mut x = area.x + dx;
        for span in item {
            let (nx, _) = buf.set_span(x, area.y + row, span, area.right() - x);
            x = nx;
        }
    }
}

/// Maps write counts to heat levels on a log scale relative to the hottest line, so that one
/// line with a single write still shows next to one with millions.
/// Up to a largest count of 16 the scale is linear (a log scale would leave levels unused).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HeatScale {
    max: u64,
    max_bits: u32,
}

impl HeatScale {
    /// The scale for a largest count of `max`.
    pub(crate) fn new(max: u64) -> HeatScale {
        HeatScale { max, max_bits: max.checked_ilog2().map_or(0, |b| b + 1) }
    }

    /// 0 for no writes, else 1 ..= [`HEAT_LEVELS`] by log2 of `writes`.
    #[inline]
    pub(crate) fn level(&self, writes: u64) -> u8 {
        if writes == 0 || self.max_bits == 0 {
            return 0;
        }
        if self.max <= 16 {
            let l = (writes.min(self.max) * u64::from(HEAT_LEVELS)).div_ceil(self.max);
            return u8::try_from(l).unwrap_or(HEAT_LEVELS).clamp(1, HEAT_LEVELS);
        }
        let bits = writes.ilog2() + 1;
        let l = (bits * u32::from(HEAT_LEVELS)).div_ceil(self.max_bits);
        // Clamped to HEAT_LEVELS, so it fits.
        #[allow(clippy::cast_possible_truncation)]
        let l = l.clamp(1, u32::from(HEAT_LEVELS)) as u8;
        l
    }
}

/// The legend entry of the sharing ramp: `shared ■■■■■■■ top 1.2M transfers/s (est.)`.
///
/// `even`: `(lines in the top class, lines shared)` when the top class holds more than a
/// quarter of the shared lines: their rates are within 2x of each other, and the legend says
/// the sharing is even rather than leave a one-colour map unexplained.
pub(crate) fn share_legend<'a>(
    theme: &Theme,
    measured: bool,
    top_per_s: Option<f64>,
    even: Option<(usize, usize)>,
    compact: bool,
) -> LegendItem<'a> {
    if !measured {
        let text = if compact { "sharing: off" } else { "sharing: off (probes disabled)" };
        return vec![Span::styled(text, theme.dim())];
    }
    let mut item = vec![Span::styled("shared", theme.dim())];
    if theme.has_color() {
        item.push(Span::styled(" ", theme.dim()));
        for l in 0..=HEAT_LEVELS {
            item.push(Span::styled(theme.glyphs.occupied, theme.heat(l)));
        }
    }
    // Compact: the scale alone (the rates are in the contention view and the detail).
    if compact && theme.has_color() {
        return item;
    }
    item.push(Span::styled(" ", theme.dim()));
    let note = match top_per_s {
        Some(r) if r > 0.0 => format!("to {}/s (est.)", Si(r)),
        Some(_) => "no line shared".to_owned(),
        None => "line transfers (est.)".to_owned(),
    };
    item.push(Span::styled(note, theme.dim()));
    if let Some((top, shared)) = even {
        item.push(Span::styled(format!(" even: {top}/{shared} top"), theme.dim()));
    }
    item
}

/// The message a snapshot view shows for a backend without snapshots.
pub(crate) struct NeedsTable<'a> {
    pub(crate) what: &'a str,
    pub(crate) backend: &'a str,
    /// Our table's capacity when it is our table after all (one too big to scan live).
    pub(crate) unscanned: Option<usize>,
    pub(crate) theme: &'a Theme,
}

impl Widget for &NeedsTable<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.is_empty() {
            return;
        }
        let t = self.theme;
        let first = match self.unscanned {
            Some(n) => Line::from(vec![
                Span::styled(format!("{} needs a snapshot of the table; ", self.what), t.text()),
                Span::styled(format!("this one ({n} slots) is too big to scan live."), t.value()),
            ]),
            None => Line::from(vec![
                Span::styled(format!("{} needs the slotscope table; ", self.what), t.text()),
                Span::styled(format!("this backend is {}.", self.backend), t.value()),
            ]),
        };
        let lines = vec![
            first,
            Line::from(Span::styled(
                "Throughput, latency, contention and threads work for every backend.",
                t.dim(),
            )),
        ];
        let top = area.height.saturating_sub(2) / 2;
        let inner = Rect { y: area.y + top, height: area.height - top, ..area };
        Paragraph::new(lines).alignment(Alignment::Center).wrap(Wrap { trim: true }).render(inner, buf);
    }
}

/// Writes `text` at (`x`, `y`) clipped to `right`; returns the x after it.
pub(crate) fn put(buf: &mut Buffer, x: u16, y: u16, right: u16, text: &str, style: Style) -> u16 {
    if x >= right {
        return x;
    }
    let (nx, _) = buf.set_stringn(x, y, text, usize::from(right - x), style);
    nx
}

/// Writes `text` right-aligned so that it ends at `end` (exclusive), not left of `left`.
pub(crate) fn put_right(buf: &mut Buffer, left: u16, end: u16, y: u16, text: &str, style: Style) {
    let w = u16::try_from(unicode_width(text)).unwrap_or(u16::MAX);
    let x = end.saturating_sub(w).max(left);
    put(buf, x, y, end, text, style);
}

/// Display width of `s` (every glyph we use is one column wide).
pub(crate) fn unicode_width(s: &str) -> usize {
    Span::raw(s).width()
}

/// Word-wraps `text` to `width` columns: blank lines separate paragraphs (kept as one empty
/// row), single newlines are spaces; a word longer than the width is cut into pieces.
pub(crate) fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut rows = Vec::new();
    for (i, para) in text.trim().split("\n\n").enumerate() {
        if i > 0 {
            rows.push(String::new());
        }
        let mut row = String::new();
        let mut row_w = 0;
        for word in para.split_whitespace() {
            let mut word = word.to_owned();
            let mut w = unicode_width(&word);
            while w > width {
                // A word wider than a row: whatever fits, then the rest.
                if row_w > 0 {
                    rows.push(std::mem::take(&mut row));
                    row_w = 0;
                }
                let cut: String = word.chars().take(width).collect();
                word = word.chars().skip(width).collect();
                rows.push(cut);
                w = unicode_width(&word);
            }
            if w == 0 {
                continue;
            }
            if row_w > 0 && row_w + 1 + w > width {
                rows.push(std::mem::take(&mut row));
                row_w = 0;
            }
            if row_w > 0 {
                row.push(' ');
                row_w += 1;
            }
            row.push_str(&word);
            row_w += w;
        }
        if row_w > 0 || rows.is_empty() {
            rows.push(row);
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heat_is_log_scaled_and_keeps_single_writes_visible() {
        let s = HeatScale::new(1_000_000);
        assert_eq!(s.level(0), 0);
        assert_eq!(s.level(1), 1, "a single write still shows");
        assert_eq!(s.level(1_000_000), HEAT_LEVELS);
        assert!(s.level(1000) > s.level(10));
        assert!(s.level(1000) < s.level(1_000_000));
        assert_eq!(HeatScale::new(0).level(5), 0);
        // Sharing: bands of 2x below the top.
        let s = crate::model::ShareScale::new(1000.0);
        assert_eq!(
            [1000.0, 500.0, 499.0, 250.0, 125.0, 20.0, 15.0, 1.0, 0.0].map(|t| s.level(t)),
            [7, 7, 6, 6, 5, 2, 1, 1, 0]
        );
        assert_eq!(crate::model::ShareScale::new(0.0).level(3.0), 0);
        assert_eq!(HeatScale::new(1).level(1), HEAT_LEVELS);
        assert_eq!(HeatScale::new(3).level(99), HEAT_LEVELS, "above max clamps");
        // Small maxima are linear: 1..=7 of 7 use every level.
        let small = HeatScale::new(7);
        assert_eq!((1..=7).map(|w| small.level(w)).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6, 7]);
    }

    #[test]
    fn words_wrap_by_paragraph() {
        let text = "one two three\nfour\n\nfive sixseveneight";
        assert_eq!(wrap_words(text, 9), ["one two", "three", "four", "", "five", "sixsevene", "ight"]);
        assert_eq!(wrap_words("", 5), [""]);
        assert_eq!(wrap_words("a b", 80), ["a b"]);
    }

    #[test]
    fn legend_drops_what_does_not_fit_but_keeps_order() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 12, 1));
        let items = vec![vec![Span::raw("aaaa")], vec![Span::raw("bbbbbbbb")], vec![Span::raw("cc")]];
        let area = buf.area;
        draw_legend(&mut buf, area, &items);
        assert_eq!(buf, Buffer::with_lines(["aaaa  cc    "]));
    }
}
