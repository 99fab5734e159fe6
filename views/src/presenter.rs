//! Presenter mode (`--present`): for a projector at the back of a room. The dashboard screen
//! shows only the map, with every slot two columns wide and bold, the lesson's narration in
//! large type, and one panel of big numbers.

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

/// Lays out a presenter body of `area`: the map on the left, narration and numbers on the
/// right. `map_width` is the width the map needs to show every slot (wide): the map gets it
/// when that leaves the words [`MIN_WORDS_WIDTH`] columns.
pub fn presenter_regions(
    area: Rect,
    has_narration: bool,
    figures: usize,
    map_width: Option<u16>,
) -> PresenterRegions {
    let default = (area.width * 9 / 20).clamp(30.min(area.width), 80);
    let rw = match map_width {
        Some(m) if area.width >= m + MIN_WORDS_WIDTH => area.width - m,
        _ => default,
    };
    let map = Rect { width: area.width - rw, ..area };
    let right = Rect { x: map.right(), width: rw, ..area };
    // Two rows a figure (label, then the number), in two columns when there are many.
    let per_col = if figures > 4 { figures.div_ceil(2) } else { figures };
    let fh = u16::try_from(per_col * 2 + 2).unwrap_or(u16::MAX).min(right.height);
    if has_narration {
        let fig = Rect { y: right.bottom() - fh, height: fh, ..right };
        let narration = Rect { height: right.height - fh, ..right };
        PresenterRegions { map, narration: Some(narration), figures: fig }
    } else {
        PresenterRegions { map, narration: None, figures: right }
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
        let cols: u16 = if n > 4 { 2 } else { 1 };
        let per_col = n.div_ceil(usize::from(cols)).max(1);
        let cw = inner.width / cols;
        for (i, f) in self.figures.iter().enumerate() {
            let c = u16::try_from(i / per_col).unwrap_or(0);
            let r = u16::try_from(i % per_col).unwrap_or(0);
            let x = inner.x + 1 + c * cw;
            let right = (x + cw).min(inner.right()).saturating_sub(1);
            let y = inner.y + r * 2;
            if y >= inner.bottom() {
                continue;
            }
            put(buf, x, y, right, &f.label, t.dim());
            if y + 1 < inner.bottom() {
                let style = if f.alarm { t.alarm() } else { t.value().add_modifier(Modifier::BOLD) };
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
        let r = presenter_regions(Rect::new(0, 1, 120, 38), true, 3, None);
        assert_eq!((r.map.width, r.figures.width, r.figures.height), (66, 54, 8));
        assert_eq!(r.narration, Some(Rect::new(66, 1, 54, 30)));
        let r = presenter_regions(Rect::new(0, 1, 120, 38), false, 6, None);
        assert_eq!(r.figures.height, 38, "without a lesson the numbers take the column");
        let r = presenter_regions(Rect::new(0, 1, 120, 38), true, 3, Some(78));
        assert_eq!((r.map.width, r.figures.width), (78, 42), "the map gets what shows every slot");
        let r = presenter_regions(Rect::new(0, 1, 100, 38), true, 3, Some(78));
        assert_eq!(r.map.width, 55, "unless the words would get too little");
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
