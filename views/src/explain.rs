//! "Explain this line": what slotscope measured on one cache line, and what it concludes, in
//! plain words: the verdict, one sentence, the facts it rests on, why, and the change to try.
//! The words are the app's (a pure function of the counters); this only lays them out.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::widgets::Widget;

use crate::model::{Explanation, Verdict};
use crate::panel::{panel, put, put_right, unicode_width, wrap_words};
use crate::theme::Theme;
use crate::units::Si;

/// The explain panel.
#[derive(Clone, Copy, Debug)]
pub struct ExplainPanel<'a> {
    explanation: &'a Explanation,
    theme: &'a Theme,
}

impl<'a> ExplainPanel<'a> {
    /// The panel for `explanation`.
    pub fn new(explanation: &'a Explanation, theme: &'a Theme) -> Self {
        ExplainPanel { explanation, theme }
    }

    fn verdict_style(&self) -> Style {
        let t = self.theme;
        match self.explanation.verdict {
            Verdict::FalseSharing => t.shared().add_modifier(Modifier::REVERSED),
            Verdict::TrueSharing | Verdict::HotCounter => t.alarm(),
            Verdict::Private => t.good().add_modifier(Modifier::BOLD),
            Verdict::Quiet | Verdict::Unmeasured => t.dim(),
        }
    }

    /// Rows the panel needs at `width` to show everything (border included).
    pub fn height(&self, width: u16) -> u16 {
        let w = usize::from(width.saturating_sub(4)).max(1);
        let e = self.explanation;
        let rows = wrap_words(&e.headline, w.saturating_sub(unicode_width(e.verdict.name()) + 3)).len()
            + e.facts.len()
            + usize::from(!e.writers.is_empty()) * (1 + e.writers.len().min(4))
            + 1
            + wrap_words(&e.because, w).len()
            + e.try_this.as_ref().map_or(0, |s| 1 + wrap_words(&format!("Try: {s}"), w).len());
        u16::try_from(rows + 2).unwrap_or(u16::MAX)
    }
}

impl Widget for &ExplainPanel<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.is_empty() {
            return;
        }
        let t = self.theme;
        let e = self.explanation;
        let block = panel(t, "Explain", e.subject.clone());
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.is_empty() {
            return;
        }
        let (x0, right) = (inner.x + 1, inner.right().saturating_sub(1));
        let w = usize::from(right.saturating_sub(x0)).max(1);
        let bottom = inner.bottom();
        let mut y = inner.y;
        // The verdict as a badge, then the headline wrapped beside it.
        let badge = format!(" {} ", e.verdict.name());
        let bx = put(buf, x0, y, right, &badge, self.verdict_style());
        let indent = bx.saturating_sub(x0) + 1;
        for (i, row) in wrap_words(&e.headline, w.saturating_sub(usize::from(indent))).iter().enumerate() {
            if y >= bottom {
                return;
            }
            if i > 0 {
                y += 1;
            }
            if y < bottom {
                put(buf, x0 + indent, y, right, row, t.value());
            }
        }
        y += 1;
        // Facts: label on the left, value after it.
        let label_w = e.facts.iter().map(|(l, _)| unicode_width(l)).max().unwrap_or(0);
        let label_w = u16::try_from(label_w).unwrap_or(0).min(right.saturating_sub(x0) / 2);
        for (label, value) in &e.facts {
            if y >= bottom {
                return;
            }
            put(buf, x0, y, x0 + label_w, label, t.dim());
            put(buf, x0 + label_w + 1, y, right, value, t.text());
            y += 1;
        }
        // Writers, heaviest first, as bars.
        if !e.writers.is_empty() && y < bottom {
            put(buf, x0, y, right, &format!("writers, {}", e.window), t.dim());
            y += 1;
            let max = e.writers.iter().map(|w| w.1).max().unwrap_or(1).max(1);
            let shown = e.writers.len().min(4);
            for (thread, writes) in e.writers.iter().take(shown) {
                if y >= bottom {
                    return;
                }
                let name = format!("T{thread}");
                put(buf, x0 + 1, y, right, &name, t.text());
                let bar_x = x0 + 6;
                let count = Si(f64::from(*writes)).to_string();
                let bar_end = right.saturating_sub(u16::try_from(count.len() + 1).unwrap_or(0));
                let room = bar_end.saturating_sub(bar_x);
                let len =
                    u16::try_from(u64::from(*writes) * u64::from(room) / u64::from(max)).unwrap_or(room);
                for i in 0..len.max(1).min(room) {
                    put(buf, bar_x + i, y, bar_end, t.glyphs.hbars[7], t.chart());
                }
                put_right(buf, bar_end, right, y, &count, t.value());
                y += 1;
            }
        }
        y += 1;
        for row in wrap_words(&e.because, w) {
            if y >= bottom {
                return;
            }
            put(buf, x0, y, right, &row, t.text());
            y += 1;
        }
        if let Some(try_this) = &e.try_this {
            y += 1;
            for (i, row) in wrap_words(&format!("Try: {try_this}"), w).iter().enumerate() {
                if y >= bottom {
                    return;
                }
                if i == 0 {
                    let x = put(buf, x0, y, right, "Try:", t.key());
                    put(buf, x, y, right, row.get(4..).unwrap_or(""), t.value());
                } else {
                    put(buf, x0, y, right, row, t.value());
                }
                y += 1;
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

    fn explanation() -> Explanation {
        Explanation {
            subject: "line 3 · slots 24–31".into(),
            verdict: Verdict::FalseSharing,
            headline: "written by 2 threads in the last second".into(),
            facts: vec![("writes".into(), "1.2k/s".into()), ("keys".into(), "5 live: 24 25 26".into())],
            because: "Different keys, one line.".into(),
            try_this: Some("press L".into()),
            writers: vec![(0, 800), (1, 400)],
            window: "last 1.0 s".into(),
        }
    }

    #[test]
    fn says_verdict_facts_writers_and_what_to_try() {
        let e = explanation();
        let t = Theme::default();
        let p = ExplainPanel::new(&e, &t);
        let h = p.height(50);
        let mut buf = Buffer::empty(Rect::new(0, 0, 50, h));
        (&p).render(buf.area, &mut buf);
        let r = rows(&buf);
        assert!(r[0].contains("Explain") && r[0].contains("line 3"), "{}", r[0]);
        assert!(r[1].contains(" false sharing  written by 2 threads in the"), "{}", r[1]);
        assert!(
            r[2].starts_with("│                 last second"),
            "the headline wraps beside the badge: {}",
            r[2]
        );
        assert!(r[3].contains("writes 1.2k/s"), "{}", r[3]);
        assert!(r[4].contains("keys   5 live"), "{}", r[4]);
        assert!(r[5].contains("writers, last 1.0 s"), "{}", r[5]);
        assert!(r[6].contains("T0 ") && r[6].trim_end_matches(['│', ' ']).ends_with("800"), "{}", r[6]);
        let bar = |row: &str| row.matches('█').count();
        assert_eq!(bar(&r[6]), 2 * bar(&r[7]), "bars in proportion: {}\n{}", r[6], r[7]);
        assert!(r[9].contains("Different keys, one line."), "{}", r[9]);
        assert!(r[11].contains("Try: press L"), "{}", r[11]);
        assert_eq!(usize::from(h), r.len());
    }

    #[test]
    fn never_panics_at_any_size() {
        let e = explanation();
        let t = Theme::new(crate::theme::Palette::Mono, true);
        for w in 0..40 {
            for h in 0..16 {
                let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
                (&ExplainPanel::new(&e, &t)).render(buf.area, &mut buf);
            }
        }
    }
}
