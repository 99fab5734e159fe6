//! Presenter mode (`--present`): for a projector at the back of a room. Every screen keeps a
//! right-hand column of at most [`MAX_WORDS_WIDTH`] columns for the lesson's narration (short
//! lines, bold) and a panel of the key figures drawn in a 3x5 block font ([`BigText`]); the
//! dashboard shows only the map beside it, every slot two columns wide and bold.
//!
//! The block font is hand-written: 3x5 glyphs for the characters figures use (digits, the
//! decimal point, signs, SI prefixes and units); a figure holding anything else is drawn in
//! plain bold text. No crate draws block digits into a ratatui buffer without bringing a
//! figlet renderer along.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::widgets::Widget;

use crate::model::Figure;
use crate::panel::{panel, put};
use crate::theme::Theme;

/// Where the parts of the presenter's screen go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PresenterRegions {
    /// The map (or the A/B split).
    pub map: Rect,
    /// The narration, when a lesson runs.
    pub narration: Option<Rect>,
    /// The numbers.
    pub figures: Rect,
}

/// The narrowest right column presenter mode gives the narration and numbers.
pub const MIN_WORDS_WIDTH: u16 = 36;

/// The widest: narration lines stay short enough to read from the back of a room.
pub const MAX_WORDS_WIDTH: u16 = 62;

/// Rows a figure takes in the block font: its label and five rows of glyphs (the next label
/// is the gap).
pub const BIG_FIGURE_ROWS: u16 = 6;

/// The 3x5 glyphs, five rows of three cells (`#` set) per character.
const GLYPHS: &[(char, [&str; 5])] = &[
    ('0', ["###", "#.#", "#.#", "#.#", "###"]),
    ('1', [".#.", "##.", ".#.", ".#.", "###"]),
    ('2', ["###", "..#", "###", "#..", "###"]),
    ('3', ["###", "..#", "###", "..#", "###"]),
    ('4', ["#.#", "#.#", "###", "..#", "..#"]),
    ('5', ["###", "#..", "###", "..#", "###"]),
    ('6', ["###", "#..", "###", "#.#", "###"]),
    ('7', ["###", "..#", "..#", "..#", "..#"]),
    ('8', ["###", "#.#", "###", "#.#", "###"]),
    ('9', ["###", "#.#", "###", "..#", "###"]),
    ('.', ["...", "...", "...", "...", ".#."]),
    (',', ["...", "...", "...", ".#.", "#.."]),
    ('-', ["...", "...", "###", "...", "..."]),
    ('+', ["...", ".#.", "###", ".#.", "..."]),
    ('%', ["#.#", "..#", ".#.", "#..", "#.#"]),
    ('/', ["..#", "..#", ".#.", "#..", "#.."]),
    ('k', ["#..", "#.#", "##.", "#.#", "#.#"]),
    ('M', ["#.#", "###", "#.#", "#.#", "#.#"]),
    ('G', ["###", "#..", "#.#", "#.#", "###"]),
    ('µ', ["...", "#.#", "#.#", "###", "#.."]),
    ('u', ["...", "#.#", "#.#", "#.#", "###"]),
    ('n', ["...", "##.", "#.#", "#.#", "#.#"]),
    ('m', ["...", "###", "###", "#.#", "#.#"]),
    ('s', ["...", ".##", ".#.", "..#", "##."]),
    ('x', ["...", "#.#", ".#.", ".#.", "#.#"]),
    (' ', ["...", "...", "...", "...", "..."]),
];

fn glyph(c: char) -> Option<&'static [&'static str; 5]> {
    GLYPHS.iter().find(|(g, _)| *g == c).map(|(_, s)| s)
}

/// Text in the 3x5 block font: 4 columns a character (3 and a gap), 5 rows.
#[derive(Clone, Copy, Debug)]
pub struct BigText<'a> {
    text: &'a str,
}

impl<'a> BigText<'a> {
    /// `text` in block glyphs.
    pub fn new(text: &'a str) -> Self {
        BigText { text }
    }

    /// Whether every character has a glyph.
    pub fn drawable(&self) -> bool {
        self.text.chars().all(|c| glyph(c).is_some())
    }

    /// Columns it takes (no trailing gap).
    pub fn width(&self) -> u16 {
        u16::try_from(self.text.chars().count() * 4).unwrap_or(u16::MAX).saturating_sub(1)
    }

    /// Draws at `(x, y)` with `style`, cut at `right`; the glyph cell is `block`.
    pub fn draw(
        &self,
        buf: &mut Buffer,
        x: u16,
        y: u16,
        right: u16,
        block: &str,
        style: ratatui::style::Style,
    ) {
        for (i, c) in self.text.chars().enumerate() {
            let Some(g) = glyph(c) else { continue };
            let gx = x + u16::try_from(i * 4).unwrap_or(u16::MAX);
            for (dy, row) in (0u16..).zip(g.iter()) {
                for (dx, cell) in (0u16..).zip(row.chars()) {
                    let (cx, cy) = (gx + dx, y + dy);
                    if cell == '#' && cx < right && buf.area.contains((cx, cy).into()) {
                        buf[(cx, cy)].set_symbol(block).set_style(style);
                    }
                }
            }
        }
    }
}

/// The width of the presenter's right-hand column in `area`: `map_width` is the width the
/// map needs to show every slot (wide): the map gets it when that leaves the words
/// [`MIN_WORDS_WIDTH`] columns; the words never get more than [`MAX_WORDS_WIDTH`].
pub fn words_width(area: Rect, map_width: Option<u16>) -> u16 {
    let default = (area.width * 9 / 20).clamp(30.min(area.width), MAX_WORDS_WIDTH);
    match map_width {
        Some(m) if area.width >= m + MIN_WORDS_WIDTH => (area.width - m).min(MAX_WORDS_WIDTH),
        _ => default,
    }
}

/// Lays out a presenter body of `area`: the map (or the screen) on the left, narration and
/// numbers on the right ([`words_width`]). `narration`: the rows the lesson's narration wants
/// at that width, if a lesson runs; the numbers get the rows their block type needs while the
/// narration keeps at least two fifths of the column, and the narration any rows left over.
pub fn presenter_regions(
    area: Rect,
    narration: Option<u16>,
    figures: usize,
    map_width: Option<u16>,
) -> PresenterRegions {
    let rw = words_width(area, map_width);
    let map = Rect { width: area.width - rw, ..area };
    let right = Rect { x: map.right(), width: rw, ..area };
    match narration {
        Some(want) => {
            let per_col = if figures > 3 { figures.div_ceil(2) } else { figures };
            let big =
                u16::try_from(per_col).unwrap_or(u16::MAX).saturating_mul(BIG_FIGURE_ROWS).saturating_add(2);
            // The numbers get their block type when the narration can keep two fifths.
            let keep = want.min(right.height * 2 / 5);
            let nh = if right.height.saturating_sub(big) >= keep {
                right.height - big
            } else {
                // No room for block type: the figures in two rows each, the words the rest.
                let text = u16::try_from(per_col * 2 + 2).unwrap_or(u16::MAX);
                right.height.saturating_sub(text).max(keep)
            };
            let fig = Rect { y: right.y + nh, height: right.height - nh, ..right };
            let narration = Rect { height: nh, ..right };
            PresenterRegions { map, narration: Some(narration), figures: fig }
        }
        None => PresenterRegions { map, narration: None, figures: right },
    }
}

/// The panel of big numbers.
#[derive(Clone, Copy, Debug)]
pub struct FiguresPanel<'a> {
    figures: &'a [Figure],
    theme: &'a Theme,
}

impl<'a> FiguresPanel<'a> {
    /// The panel for `figures`.
    pub fn new(figures: &'a [Figure], theme: &'a Theme) -> Self {
        FiguresPanel { figures, theme }
    }
}

impl Widget for &FiguresPanel<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.is_empty() {
            return;
        }
        let t = self.theme;
        let block = panel(t, "Numbers", String::new());
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.is_empty() {
            return;
        }
        let n = self.figures.len();
        let cols: u16 = if n > 3 { 2 } else { 1 };
        let per_col = n.div_ceil(usize::from(cols)).max(1);
        let cw = inner.width / cols;
        // Block type where every figure's rows fit, else two rows a figure.
        let rows =
            if u16::try_from(per_col).unwrap_or(u16::MAX).saturating_mul(BIG_FIGURE_ROWS) <= inner.height {
                BIG_FIGURE_ROWS
            } else {
                2
            };
        let block = if t.glyphs.border.top_left == "+" { "#" } else { "█" };
        for (i, f) in self.figures.iter().enumerate() {
            let c = u16::try_from(i / per_col).unwrap_or(0);
            let r = u16::try_from(i % per_col).unwrap_or(0);
            let x = inner.x + 1 + c * cw;
            let right = (x + cw).min(inner.right()).saturating_sub(1);
            let y = inner.y + r * rows;
            if y >= inner.bottom() {
                continue;
            }
            let style = if f.alarm { t.alarm() } else { t.value().add_modifier(Modifier::BOLD) };
            let big = BigText::new(&f.value);
            if rows == BIG_FIGURE_ROWS && big.drawable() && x + big.width() <= right {
                let nx = put(buf, x, y, right, &f.label, t.dim());
                if !f.note.is_empty() {
                    put(buf, nx + 1, y, right, &f.note, t.text());
                }
                big.draw(buf, x, y + 1, right, block, style);
                continue;
            }
            put(buf, x, y, right, &f.label, t.dim());
            if y + 1 < inner.bottom() {
                let nx = put(buf, x, y + 1, right, &f.value, style);
                if !f.note.is_empty() {
                    put(buf, nx + 1, y + 1, right, &f.note, t.text());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_put_the_map_left_and_the_words_right() {
        let r = presenter_regions(Rect::new(0, 1, 120, 38), Some(10), 3, None);
        assert_eq!((r.map.width, r.figures.width, r.figures.height), (66, 54, 20), "3 figures in block type");
        assert_eq!(r.narration, Some(Rect::new(66, 1, 54, 18)), "the narration gets the rest");
        let r = presenter_regions(Rect::new(0, 1, 120, 38), Some(30), 3, None);
        assert_eq!(r.narration.map(|n| n.height), Some(18), "the block type's 20 rows come first");
        let r = presenter_regions(Rect::new(0, 1, 120, 38), Some(30), 8, None);
        assert_eq!(r.narration.map(|n| n.height), Some(28), "no block type: two rows a figure");
        let r = presenter_regions(Rect::new(0, 1, 80, 21), Some(30), 3, None);
        assert_eq!((r.narration.map(|n| n.height), r.figures.height), (Some(13), 8), "80x24: text figures");
        let r = presenter_regions(Rect::new(0, 1, 120, 38), None, 6, None);
        assert_eq!(r.figures.height, 38, "without a lesson the numbers take the column");
        let r = presenter_regions(Rect::new(0, 1, 120, 38), Some(10), 3, Some(78));
        assert_eq!((r.map.width, r.figures.width), (78, 42), "the map gets what shows every slot");
        let r = presenter_regions(Rect::new(0, 1, 200, 58), Some(10), 3, None);
        assert_eq!(r.figures.width, MAX_WORDS_WIDTH, "narration lines stay short on a wide screen");
        let r = presenter_regions(Rect::new(0, 1, 100, 38), Some(10), 3, Some(78));
        assert_eq!(r.map.width, 55, "unless the words would get too little");
    }

    #[test]
    fn block_digits_draw_five_rows() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 20, 5));
        let b = BigText::new("1.5k");
        assert!(b.drawable() && !BigText::new("1.5Q").drawable());
        assert_eq!(b.width(), 15);
        b.draw(&mut buf, 0, 0, 20, "#", ratatui::style::Style::default());
        let rows: Vec<String> = (0..5).map(|y| (0..15).map(|x| buf[(x, y)].symbol()).collect()).collect();
        assert_eq!(
            rows,
            [" #      ### #  ", "##      #   # #", " #      ### ## ", " #        # # #", "###  #  ### # #"]
                .map(|r| r.chars().take(15).collect::<String>())
        );
    }

    #[test]
    fn figures_are_label_over_value() {
        let f = vec![
            Figure { label: "ops/s".into(), value: "1.20M".into(), note: String::new(), alarm: false },
            Figure { label: "violations".into(), value: "3".into(), note: "so far".into(), alarm: true },
        ];
        let t = Theme::default();
        let mut buf = Buffer::empty(Rect::new(0, 0, 30, 6));
        (&FiguresPanel::new(&f, &t)).render(buf.area, &mut buf);
        let row = |y: u16| (0..30).map(|x| buf[(x, y)].symbol()).collect::<String>();
        assert!(row(1).contains("ops/s") && row(2).contains("1.20M"), "{}\n{}", row(1), row(2));
        assert!(row(4).contains("3 so far"), "{}", row(4));
        assert!(buf[(2, 2)].modifier.contains(Modifier::BOLD));
    }
}
