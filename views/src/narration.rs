//! The narration panel of a lesson: where the lesson is (step k of n), what the teacher says,
//! the question for the room, and the live figures to watch. In presenter mode it is drawn
//! large: blank rows between paragraphs, the text bold.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::widgets::Widget;

use crate::model::{Figure, Narration};
use crate::panel::{panel, put, unicode_width, with_footnote, wrap_words};
use crate::theme::Theme;

/// The narration of the current step.
#[derive(Clone, Copy, Debug)]
pub struct NarrationPanel<'a> {
    narration: &'a Narration,
    large: bool,
    theme: &'a Theme,
}

impl<'a> NarrationPanel<'a> {
    /// The panel for `narration`.
    pub fn new(narration: &'a Narration, theme: &'a Theme) -> Self {
        NarrationPanel { narration, large: false, theme }
    }

    /// Presenter mode: bold text, paragraphs spaced, the question boxed off.
    #[must_use]
    pub fn large(mut self, large: bool) -> Self {
        self.large = large;
        self
    }

    /// Rows of text inside the border for a panel `width` columns wide: (title, say, ask,
    /// figures).
    fn rows(&self, width: u16) -> Rows<'a> {
        let w = usize::from(width.saturating_sub(4)).max(1);
        let n = self.narration;
        let title = wrap_words(&n.title, w);
        let mut say = wrap_words(&n.say, w);
        if self.large {
            // A blank row between paragraphs is already there; add one before the text.
            say.insert(0, String::new());
        }
        let ask = n.ask.as_deref().map_or_else(Vec::new, |a| wrap_words(&format!("? {a}"), w));
        (title, say, ask, figure_rows(&n.figures, w))
    }

    /// Rows the whole panel (border included) needs at `width` to show everything.
    pub fn height(&self, width: u16) -> u16 {
        let (t, s, a, f) = self.rows(width);
        let spacer = usize::from(!a.is_empty()) + usize::from(!f.is_empty());
        u16::try_from(t.len() + s.len() + a.len() + f.len() + spacer + 2).unwrap_or(u16::MAX)
    }
}

/// The panel's rows at one width: title, narration, question, figures.
type Rows<'a> = (Vec<String>, Vec<String>, Vec<String>, Vec<Vec<&'a Figure>>);

/// Figures laid out in rows of whole items, `width` columns wide.
fn figure_rows(figures: &[Figure], width: usize) -> Vec<Vec<&Figure>> {
    let mut rows: Vec<Vec<&Figure>> = Vec::new();
    let mut used = 0;
    for f in figures {
        let w = figure_width(f);
        match rows.last_mut() {
            Some(row) if used + 3 + w <= width => {
                row.push(f);
                used += 3 + w;
            }
            _ => {
                rows.push(vec![f]);
                used = w;
            }
        }
    }
    rows
}

fn figure_width(f: &Figure) -> usize {
    let note = if f.note.is_empty() { 0 } else { 1 + unicode_width(&f.note) };
    unicode_width(&f.label) + 1 + unicode_width(&f.value) + note
}

impl Widget for &NarrationPanel<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.is_empty() {
            return;
        }
        let t = self.theme;
        let n = self.narration;
        // The step first: a long title is cut, the step count never.
        let scale = format!("step {}/{} {} {}", n.step, n.steps, t.glyphs.dot, n.lesson);
        let block = with_footnote(panel(t, "Lesson", scale), t, "n next  p back".to_owned());
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.is_empty() {
            return;
        }
        let (title, mut say, ask, figures) = self.rows(area.width);
        let (x0, right) = (inner.x + 1, inner.right().saturating_sub(1));
        let bold = |s: ratatui::style::Style| if self.large { s.add_modifier(Modifier::BOLD) } else { s };
        // What must show: the title's first row, the question, the figures; the narration gets
        // what is left. When it does not fit, the blank rows around the question go first,
        // then the narration is cut with an ellipsis.
        let rows = usize::from(inner.height);
        let blanks = usize::from(!ask.is_empty()) + usize::from(!figures.is_empty());
        let need = title.len() + say.len() + ask.len() + figures.len() + blanks;
        let spaced = need <= rows;
        let fixed = 1 + ask.len() + figures.len() + if spaced { blanks } else { 0 };
        let title_rows = title.len().min(rows.saturating_sub(fixed - 1).max(1));
        let room = rows.saturating_sub(fixed - 1 + title_rows);
        if say.len() > room {
            say.truncate(room);
            while say.last().is_some_and(|r| r.trim().is_empty()) && say.len() > 1 {
                say.pop();
            }
            if let Some(last) = say.last_mut() {
                let max = usize::from(right.saturating_sub(x0)).saturating_sub(2);
                let keep: String = last.chars().take(max).collect();
                *last = format!("{keep} {}", t.glyphs.ellipsis);
            }
        }
        let mut y = inner.y;
        let bottom = inner.bottom();
        for row in title.iter().take(title_rows) {
            put(buf, x0, y, right, row, t.title().add_modifier(Modifier::BOLD));
            y += 1;
        }
        for row in &say {
            if y >= bottom {
                break;
            }
            put(buf, x0, y, right, row, bold(t.text()));
            y += 1;
        }
        // The question and the figures sit at the bottom.
        let figures_top = bottom.saturating_sub(u16::try_from(figures.len()).unwrap_or(0));
        let gap = u16::from(spaced && !figures.is_empty());
        let ask_top = figures_top.saturating_sub(gap).saturating_sub(u16::try_from(ask.len()).unwrap_or(0));
        for (y, row) in (ask_top.max(y)..figures_top).zip(&ask) {
            put(buf, x0, y, right, row, t.badge());
        }
        for (i, row) in figures.iter().enumerate() {
            let y = figures_top + u16::try_from(i).unwrap_or(0);
            if y >= bottom {
                break;
            }
            let mut x = x0;
            for (j, f) in row.iter().enumerate() {
                if j > 0 {
                    x = put(buf, x, y, right, &format!(" {} ", t.glyphs.separator), t.dim());
                }
                x = put(buf, x, y, right, &format!("{} ", f.label), t.dim());
                let style = if f.alarm { t.alarm() } else { bold(t.value()) };
                x = put(buf, x, y, right, &f.value, style);
                if !f.note.is_empty() {
                    x = put(buf, x, y, right, &format!(" {}", f.note), t.dim());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(buf: &Buffer) -> Vec<String> {
        (0..buf.area.height).map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect()).collect()
    }

    fn narration() -> Narration {
        Narration {
            lesson: "False sharing".into(),
            step: 2,
            steps: 6,
            title: "Interleaved".into(),
            say: "Consecutive ids land on different lines.\n\nWatch the digits.".into(),
            ask: Some("What did it cost?".into()),
            figures: vec![
                Figure { label: "ops/s".into(), value: "2.0k".into(), note: String::new(), alarm: false },
                Figure { label: "violations".into(), value: "3".into(), note: "so far".into(), alarm: true },
            ],
        }
    }

    #[test]
    fn shows_step_text_question_and_figures() {
        let n = narration();
        let t = Theme::default();
        let p = NarrationPanel::new(&n, &t);
        assert_eq!(p.height(60), 2 + 1 + 3 + 1 + 1 + 1 + 1);
        let mut buf = Buffer::empty(Rect::new(0, 0, 60, p.height(60)));
        (&p).render(buf.area, &mut buf);
        let r = rows(&buf);
        assert!(r[0].contains("Lesson step 2/6 · False sharing"), "{}", r[0]);
        assert!(r[1].contains("Interleaved"), "{}", r[1]);
        assert!(r[2].contains("Consecutive ids land on different lines."), "{}", r[2]);
        assert!(r[3].trim_matches(['│', ' ']).is_empty(), "paragraph break: {}", r[3]);
        assert!(r[4].contains("Watch the digits."));
        assert!(r[6].contains("? What did it cost?"), "{}", r[6]);
        assert!(r[8].contains("ops/s 2.0k │ violations 3 so far"), "{}", r[8]);
        assert!(r[9].contains("n next  p back"), "{}", r[9]);
        // The violations figure is loud.
        let x = u16::try_from(r[8].find("violations 3").unwrap()).unwrap();
        let x = u16::try_from(r[8][..usize::from(x)].chars().count()).unwrap() + 11;
        assert_eq!(buf[(x, 8)].symbol(), "3");
        assert_eq!(buf[(x, 8)].style().bg, t.alarm().bg);
    }

    #[test]
    fn a_short_panel_cuts_the_text_but_keeps_question_and_figures() {
        let mut n = narration();
        n.say = "word ".repeat(80);
        let t = Theme::default();
        let p = NarrationPanel::new(&n, &t);
        let mut buf = Buffer::empty(Rect::new(0, 0, 40, 8));
        (&p).render(buf.area, &mut buf);
        let r = rows(&buf);
        // No room for blank rows: they go first, the narration gets three rows.
        assert!(r[4].contains('…'), "cut with an ellipsis: {:?}", r);
        assert!(r[5].contains("? What did it cost?"), "{:?}", r);
        assert!(r[6].contains("ops/s 2.0k"), "{:?}", r);
    }

    #[test]
    fn never_panics_at_any_size() {
        let n = narration();
        let t = Theme::new(crate::theme::Palette::Mono, true);
        for w in 0..50 {
            for h in 0..14 {
                let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
                (&NarrationPanel::new(&n, &t).large(h % 2 == 0)).render(buf.area, &mut buf);
            }
        }
    }
}
