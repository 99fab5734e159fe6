//! The frame around the views: the header bar (what runs, how fast, and loudly anything
//! wrong), the always-visible controls footer, the help overlay, and the "terminal too small"
//! screen.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget, Wrap};

use crate::controls::{Control, Section, Shown, CONTROLS};
use crate::model::HeaderInfo;
use crate::panel::unicode_width;
use crate::replay::ReplayInfo;
use crate::state::{Screen, ViewState};
use crate::theme::Theme;
use crate::units::{Clock, Percent, Si};

/// The tab bar under the header: every view by its digit and name, the shown one marked (a
/// click on a name goes there while the mouse is on). Drawn on terminals of at least
/// [`TabBar::MIN_HEIGHT`] rows where every name fits; elsewhere the footer's `6/8 Latency`
/// says where you are.
#[derive(Clone, Copy, Debug)]
pub struct TabBar<'a> {
    screen: Screen,
    theme: &'a Theme,
}

impl<'a> TabBar<'a> {
    /// Rows a terminal needs for the tab bar.
    pub const MIN_HEIGHT: u16 = 30;

    /// The bar with `screen` marked.
    pub fn new(screen: Screen, theme: &'a Theme) -> Self {
        TabBar { screen, theme }
    }

    /// Each view's columns in a bar starting at `x`: (screen, first column, width).
    fn tabs(x: u16) -> impl Iterator<Item = (Screen, u16, u16)> {
        let mut at = x;
        Screen::ALL.into_iter().map(move |s| {
            let w = u16::try_from(s.name().len()).unwrap_or(0) + 4;
            let tab = (s, at, w);
            at += w + 1;
            tab
        })
    }

    /// Columns the whole bar takes.
    pub fn width() -> u16 {
        Self::tabs(0).last().map_or(0, |(_, x, w)| x + w)
    }

    /// Whether the bar is drawn in a terminal of `area`.
    pub fn fits(area: Rect) -> bool {
        area.height >= Self::MIN_HEIGHT && area.width >= Self::width()
    }

    /// The view whose name is under column `x` of a bar drawn at `area`.
    pub fn screen_at(area: Rect, x: u16) -> Option<Screen> {
        Self::tabs(area.x).find(|&(_, at, w)| (at..at + w).contains(&x)).map(|(s, _, _)| s)
    }
}

impl Widget for &TabBar<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.is_empty() {
            return;
        }
        let t = self.theme;
        let sep = t.glyphs.border.vertical_left;
        for (s, x, w) in TabBar::tabs(area.x) {
            if x + w > area.right() {
                break;
            }
            let style = if s == self.screen { t.badge() } else { t.dim() };
            buf.set_stringn(x, area.y, format!(" {} {} ", s.digit(), s.name()), usize::from(w), style);
            if x + w < area.right() {
                buf.set_string(x + w, area.y, sep, t.border());
            }
        }
    }
}

/// The header bar: one line, plus a loud banner line when the table runs a broken variant.
#[derive(Clone, Copy, Debug)]
pub struct HeaderBar<'a> {
    header: &'a HeaderInfo,
    theme: &'a Theme,
    replay: Option<&'a ReplayInfo>,
}

impl<'a> HeaderBar<'a> {
    /// The bar for `header`.
    pub fn new(header: &'a HeaderInfo, theme: &'a Theme) -> Self {
        HeaderBar { header, theme, replay: None }
    }

    /// A replay's badge (REPLAY, play state, speed), where its table comes from, and
    /// TRUNCATED for a trace that stops early.
    #[must_use]
    pub fn replay(mut self, replay: Option<&'a ReplayInfo>) -> Self {
        self.replay = replay;
        self
    }

    /// Rows it needs: 2 with a broken variant (the banner), else 1.
    pub fn height(header: &HeaderInfo) -> u16 {
        if header.variant.is_broken() {
            2
        } else {
            1
        }
    }

    /// Segments in display order with their priority (lower survives longer).
    fn segments(&self) -> Vec<(u8, Vec<Span<'static>>)> {
        let h = self.header;
        let t = self.theme;
        let bar = t.header_bar();
        let dim = bar.patch(t.dim()).bg(bar.bg.unwrap_or_default());
        let val = bar.patch(t.value()).bg(bar.bg.unwrap_or_default());
        let mut s: Vec<(u8, Vec<Span<'static>>)> = Vec::new();
        s.push((0, vec![Span::styled(" slotscope", t.brand())]));
        let ascii = t.glyphs.border.top_left == "+";
        if let Some(r) = self.replay {
            s.push((0, vec![Span::styled(r.badge(ascii), t.badge())]));
            if r.stopped.is_some() {
                s.push((0, vec![Span::styled(format!(" {} TRUNCATED ", t.glyphs.warn), t.alarm())]));
            }
        }
        if h.violations > 0 {
            s.push((
                0,
                vec![Span::styled(format!(" {} {} VIOLATIONS ", t.glyphs.warn, h.violations), t.alarm())],
            ));
        }
        if h.paused {
            s.push((0, vec![Span::styled(" PAUSED ", t.badge())]));
        }
        let m = &h.machine;
        if m.noisy == Some(true) {
            s.push((0, vec![Span::styled(format!(" NOISY {:.2} cores ", m.noise_cores), t.alarm())]));
        }
        if h.frozen {
            s.push((0, vec![Span::styled(" FROZEN ", t.badge())]));
        }
        if h.ended {
            s.push((0, vec![Span::styled(" ENDED ", t.badge())]));
        }
        let mut run = vec![Span::styled(h.scenario.clone(), val)];
        if !h.phase.is_empty() {
            run.push(Span::styled(format!(" {} {}", t.glyphs.arrow, h.phase), bar));
        }
        s.push((1, run));
        let time = match h.duration {
            // Once ended, the time it ran: workers stop at batch boundaries, a little past it.
            Some(d) if !h.ended => format!("{} / {}", Clock(h.elapsed), Clock(d)),
            _ => Clock(h.elapsed).to_string(),
        };
        // The time comes right after the scenario: narrow terminals keep it.
        s.push((1, vec![Span::styled(time, bar)]));
        s.push((1, vec![Span::styled(Si(h.ops_per_s).to_string(), val), Span::styled(" ops/s", dim)]));
        s.push((4, vec![Span::styled(h.threads.to_string(), val), Span::styled(" threads", dim)]));
        if h.capacity > 0 {
            s.push((
                3,
                vec![
                    Span::styled("fill ", dim),
                    Span::styled(Percent::of(h.len, h.capacity).to_string(), val),
                    Span::styled(format!(" of {}", h.capacity), dim),
                ],
            ));
        }
        let mut table = vec![Span::styled(h.backend.clone(), val)];
        if let Some(g) = h.geometry {
            table.push(Span::styled(format!(" {} {} B lines", g.layout(), g.line_bytes()), bar));
            if let Some(m) = h.allocator.magazine() {
                table.push(Span::styled(format!(" {} magazines of {m}", t.glyphs.dot), bar));
            }
        }
        if h.variant.is_broken() {
            table.push(Span::styled(format!(" {} BROKEN", t.glyphs.warn), t.alarm()));
        }
        s.push((2, table));
        if let Some(c) = h.sampler_cost_pct {
            s.push((5, vec![Span::styled("sampler ", dim), Span::styled(format!("{c:.1}%"), val)]));
        }
        if let Some(r) = self.replay {
            s.push((3, vec![Span::styled(r.table_text(ascii), bar)]));
        }
        if let Some(ns) = m.transfer_ns {
            let mut sp = vec![Span::styled("line transfer ~", dim), Span::styled(format!("{ns:.0} ns"), val)];
            if m.transfer_changed {
                sp.push(Span::styled(" CHANGED", t.alarm()));
            }
            s.push((if m.transfer_changed { 1 } else { 5 }, sp));
        }
        if let Some(o) = m.overhead_ns {
            s.push((5, vec![Span::styled("engine ~", dim), Span::styled(format!("{o:.0} ns/op"), val)]));
        }
        if m.noisy.is_none() && self.replay.is_none() && h.elapsed.as_secs() >= 2 {
            // Not before the first reading could have come (one a second).
            s.push((5, vec![Span::styled("noise: unknown", dim)]));
        }
        s
    }
}

impl Widget for &HeaderBar<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.is_empty() {
            return;
        }
        let t = self.theme;
        let bar = t.header_bar();
        buf.set_style(Rect { height: 1, ..area }, bar);
        let sep = format!(" {} ", t.glyphs.separator);
        let sep_w = unicode_width(&sep);
        let mut segs = self.segments();
        let width = |segs: &[(u8, Vec<Span<'_>>)]| -> usize {
            segs.iter().map(|(_, sp)| sp.iter().map(Span::width).sum::<usize>()).sum::<usize>()
                + sep_w * segs.len().saturating_sub(1)
        };
        while width(&segs) > usize::from(area.width) {
            let Some((i, _)) =
                segs.iter().enumerate().filter(|(_, s)| s.0 > 0).max_by_key(|(i, s)| (s.0, *i))
            else {
                break;
            };
            segs.remove(i);
        }
        let mut x = area.x;
        for (i, (_, spans)) in segs.iter().enumerate() {
            if i > 0 {
                let (nx, _) = buf.set_stringn(
                    x,
                    area.y,
                    &sep,
                    usize::from(area.right() - x),
                    bar.patch(t.dim()).bg(bar.bg.unwrap_or_default()),
                );
                x = nx;
            }
            for sp in spans {
                if x >= area.right() {
                    break;
                }
                let (nx, _) = buf.set_span(x, area.y, sp, area.right() - x);
                x = nx;
            }
        }
        if self.header.variant.is_broken() && area.height >= 2 {
            let y = area.y + 1;
            let row = Rect { y, height: 1, ..area };
            buf.set_style(row, t.alarm());
            let v = self.header.variant;
            let text = format!(
                " {w} BROKEN VARIANT: {} {w} {}. Broken on purpose, for teaching: do not trust its results. ",
                v.name(),
                v.description(),
                w = t.glyphs.warn
            );
            buf.set_stringn(area.x, y, text, usize::from(area.width), t.alarm());
        }
    }
}

/// The controls footer: a status message if there is one, then the keys that matter on this
/// screen (as many as fit), and where you are.
#[derive(Clone, Copy, Debug)]
pub struct ControlsFooter<'a> {
    state: &'a ViewState,
    frozen: bool,
    ended: bool,
    has_map: bool,
    lesson: bool,
    status: Option<Status<'a>>,
    theme: &'a Theme,
    controls: &'static [Control],
}

/// A short message the app shows in the footer for a while ("saved to ...", "thread added").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status<'a> {
    /// The message (one line; cut to the footer's width).
    pub text: &'a str,
    /// Something went wrong: drawn in the alarm style.
    pub alarm: bool,
}

impl<'a> ControlsFooter<'a> {
    /// The footer for `state`; `frozen` adds the frame-step keys.
    pub fn new(state: &'a ViewState, frozen: bool, theme: &'a Theme) -> Self {
        ControlsFooter {
            state,
            frozen,
            ended: false,
            has_map: true,
            lesson: false,
            status: None,
            theme,
            controls: CONTROLS,
        }
    }

    /// Whether a lesson runs (its step keys come first).
    #[must_use]
    pub fn lesson(mut self, lesson: bool) -> Self {
        self.lesson = lesson;
        self
    }

    /// Whether the run has ended (the keys that steer workers are left out).
    #[must_use]
    pub fn ended(mut self, ended: bool) -> Self {
        self.ended = ended;
        self
    }

    /// The key list to draw from ([`CONTROLS`] unless told; a replay gives its own).
    #[must_use]
    pub fn controls(mut self, controls: &'static [Control]) -> Self {
        self.controls = controls;
        self
    }

    /// A message to show first; the keys get what room is left.
    #[must_use]
    pub fn status(mut self, status: Option<Status<'a>>) -> Self {
        self.status = status;
        self
    }

    /// Whether the table's map can be shown (false for backends without snapshots: the map
    /// keys are left out).
    #[must_use]
    pub fn map_available(mut self, available: bool) -> Self {
        self.has_map = available;
        self
    }
}

impl Widget for &ControlsFooter<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.is_empty() {
            return;
        }
        let t = self.theme;
        let ascii = t.glyphs.border.top_left == "+";
        let has_map = self.has_map
            && matches!(self.state.screen, Screen::Dashboard | Screen::Occupancy | Screen::Generations);
        let shown = |s: Shown| match s {
            Shown::Always => true,
            Shown::WithMap => has_map,
            Shown::WhenFrozen => self.frozen,
            Shown::WithDetail => self.state.detail_open || self.state.help_open,
            Shown::HelpOnly => false,
            Shown::InLesson => self.lesson,
            Shown::WhileRunning => !self.ended,
            Shown::WhenEnded => self.ended,
            Shown::Zoomable => has_map || self.state.screen == Screen::Charts,
            Shown::OnContention => self.state.screen == Screen::Contention,
        };
        let where_ =
            format!(" {}/{} {} ", self.state.screen.digit(), Screen::ALL.len(), self.state.screen.name());
        let where_w = u16::try_from(unicode_width(&where_)).unwrap_or(u16::MAX);
        let mut x = area.x;
        if let Some(st) = self.status {
            let style = if st.alarm { t.alarm() } else { t.badge() };
            let room = usize::from(area.width.saturating_sub(where_w + 1));
            let (nx, _) = buf.set_stringn(x, area.y, format!(" {} ", st.text), room, style);
            x = nx.saturating_add(1).min(area.right());
        }
        let budget = usize::from(area.right().saturating_sub(x).saturating_sub(where_w + 1));
        let controls = self.controls;
        let item_w = |i: usize| {
            let c = &controls[i];
            unicode_width(c.footer_keys_for(ascii)) + 2 + unicode_width(c.short) + 3
        };
        let mut candidates: Vec<usize> = (0..controls.len()).filter(|&i| shown(controls[i].shown)).collect();
        candidates.sort_by_key(|&i| (controls[i].priority, i));
        let mut chosen = Vec::new();
        let mut used = 0;
        for i in candidates {
            if used + item_w(i) <= budget {
                used += item_w(i);
                chosen.push(i);
            }
        }
        chosen.sort_unstable();
        for i in chosen {
            let c = &controls[i];
            let (nx, _) = buf.set_stringn(
                x,
                area.y,
                format!(" {} ", c.footer_keys_for(ascii)),
                usize::from(area.right() - x),
                t.key(),
            );
            let (nx, _) = buf.set_stringn(
                nx,
                area.y,
                format!(" {}  ", c.short),
                usize::from(area.right() - nx),
                t.key_action(),
            );
            x = nx;
        }
        if area.width > where_w {
            buf.set_stringn(area.right() - where_w, area.y, &where_, usize::from(where_w), t.title());
        }
    }
}

/// The help overlay: every key, by section, and what the glyphs mean. Draw it last, over the
/// screen.
#[derive(Clone, Copy, Debug)]
pub struct HelpOverlay<'a> {
    theme: &'a Theme,
    scroll: u16,
    controls: &'static [Control],
    notes: &'a [String],
}

impl<'a> HelpOverlay<'a> {
    /// The overlay in `theme`.
    pub fn new(theme: &'a Theme) -> Self {
        HelpOverlay { theme, scroll: 0, controls: CONTROLS, notes: &[] }
    }

    /// The key list to show ([`CONTROLS`] unless told; a replay gives its own).
    #[must_use]
    pub fn controls(mut self, controls: &'static [Control]) -> Self {
        self.controls = controls;
        self
    }

    /// Lines of explanation shown first, under "About this screen" (a replay says where its
    /// figures come from).
    #[must_use]
    pub fn notes(mut self, notes: &'a [String]) -> Self {
        self.notes = notes;
        self
    }

    /// Skips the first `rows` rows of the text (a terminal too short for all of it); clamped
    /// to [`HelpOverlay::max_scroll`] when drawn.
    #[must_use]
    pub fn scroll(mut self, rows: u16) -> Self {
        self.scroll = rows;
        self
    }

    /// Rows of text that do not fit in `area` (0 when the help fits): the most it scrolls.
    pub fn max_scroll(&self, area: Rect) -> u16 {
        let rows = u16::try_from(self.lines().len()).unwrap_or(u16::MAX);
        rows.saturating_sub(area.height.saturating_sub(2))
    }

    fn lines(&self) -> Vec<Line<'static>> {
        let t = self.theme;
        let g = &t.glyphs;
        let ascii = g.border.top_left == "+";
        let mut lines = Vec::new();
        if !self.notes.is_empty() {
            lines.push(Line::from(Span::styled("About this screen", t.heading())));
            for n in self.notes {
                lines.push(Line::from(Span::styled(format!("  {n}"), t.text())));
            }
        }
        for s in Section::ALL {
            if !self.controls.iter().any(|c| c.section == s) {
                continue;
            }
            if !lines.is_empty() {
                lines.push(Line::raw(""));
            }
            lines.push(Line::from(Span::styled(s.title(), t.heading())));
            for c in self.controls.iter().filter(|c| c.section == s) {
                let keys = c.keys_for(ascii);
                let pad = 14usize.saturating_sub(unicode_width(keys));
                lines.push(Line::from(vec![
                    Span::styled(format!("  {keys}{}", " ".repeat(pad)), t.value()),
                    Span::styled(c.action, t.text()),
                ]));
            }
            if s == Section::Views {
                for pair in Screen::ALL.chunks(3) {
                    let mut spans = vec![Span::raw(" ".repeat(16))];
                    for sc in pair {
                        spans.push(Span::styled(format!("{} ", sc.digit()), t.value()));
                        spans.push(Span::styled(format!("{:<13}", sc.name()), t.text()));
                    }
                    lines.push(Line::from(spans));
                }
            }
        }
        lines.push(Line::raw(""));
        lines.push(Line::from(Span::styled("Glyphs (colour only adds heat)", t.heading())));
        let glyph = |sym: &str, style: Style, what: &'static str| {
            Line::from(vec![
                Span::raw("  "),
                Span::styled(sym.to_owned(), style),
                Span::raw(" ".repeat(13usize.saturating_sub(unicode_width(sym)))),
                Span::styled(what, t.text()),
            ])
        };
        lines.push(glyph(g.occupied, t.occupied(0), "occupied slot"));
        lines.push(glyph(g.reserved, t.reserved(), "reserved slot, RESERVED ring cell: in flight"));
        lines.push(glyph(g.free, t.free(0), "free slot (its next id waits in the ring)"));
        let bars = format!("{}{}{}", g.vbars[0], g.vbars[3], g.vbars[7]);
        lines.push(glyph(&bars, t.occupied(0), "zoomed out: share of the cell's slots occupied"));
        lines.push(glyph(g.shared, t.shared(), "line written by 2+ threads in the interval"));
        lines.push(glyph("1 2 3", t.next_id(), "where the next ids land (i)"));
        let cur = format!("{}{}", g.cursor_left, g.cursor_right);
        lines.push(glyph(&cur, t.cursor(), "the selected line"));
        lines.push(glyph(g.warn, t.warn(), "a warning: the note beside it says what"));
        lines.push(Line::raw(""));
        lines.push(Line::from(Span::styled("Terms", t.heading())));
        for (term, what) in crate::terms::TERMS {
            lines.push(Line::from(vec![
                Span::styled(format!("  {term:<14}"), t.value()),
                Span::styled(*what, t.text()),
            ]));
        }
        lines
    }
}

impl Widget for &HelpOverlay<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.is_empty() {
            return;
        }
        let t = self.theme;
        let lines = self.lines();
        let want_h = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
        let w = 72.min(area.width);
        let h = want_h.min(area.height);
        let r =
            Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h };
        Clear.render(r, buf);
        let block = Block::bordered()
            .border_set(t.glyphs.border)
            .border_style(t.title())
            .title(Line::from(Span::styled(" Help: every key ", t.title())))
            .title_bottom(Line::from(Span::styled(" Esc or ? closes ", t.dim())).alignment(Alignment::Right));
        let max = self.max_scroll(area);
        let block = if max > 0 {
            let scroll = self.scroll.min(max);
            let more = match (scroll > 0, scroll < max) {
                (true, true) => " more above and below: j/k scroll ",
                (true, false) => " more above: k scrolls ",
                _ => " more below: j scrolls ",
            };
            block.title_bottom(Line::from(Span::styled(more, t.warn())).alignment(Alignment::Left))
        } else {
            block
        };
        let inner = block.inner(r);
        block.render(r, buf);
        let inner = Rect { x: inner.x + 1, width: inner.width.saturating_sub(1), ..inner };
        Paragraph::new(lines).scroll((self.scroll.min(max), 0)).render(inner, buf);
    }
}

/// The screen shown instead of everything else when the terminal is below the minimum size.
#[derive(Clone, Copy, Debug)]
pub struct TooSmall<'a> {
    need: (u16, u16),
    theme: &'a Theme,
}

impl<'a> TooSmall<'a> {
    /// Says the terminal needs `need` = (width, height); the size it has is the drawn area's.
    pub fn new(need: (u16, u16), theme: &'a Theme) -> Self {
        TooSmall { need, theme }
    }
}

impl Widget for &TooSmall<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.is_empty() {
            return;
        }
        let t = self.theme;
        let x = t.glyphs.times;
        let lines = vec![
            Line::from(Span::styled("terminal too small", t.warn())),
            Line::from(vec![
                Span::styled("need ", t.dim()),
                Span::styled(format!("{}{x}{}", self.need.0, self.need.1), t.value()),
                Span::styled(", have ", t.dim()),
                Span::styled(format!("{}{x}{}", area.width, area.height), t.value()),
            ]),
            Line::from(Span::styled("enlarge the window or use a smaller font; q quits", t.dim())),
        ];
        // Rows after wrapping, about: each line over the width's share.
        let w = usize::from(area.width);
        let rows: usize = lines.iter().map(|l| l.width().div_ceil(w).max(1)).sum();
        let p = Paragraph::new(lines).alignment(Alignment::Center).wrap(Wrap { trim: true });
        let h = u16::try_from(rows).unwrap_or(u16::MAX).min(area.height);
        let r = Rect { y: area.y + (area.height - h) / 2, height: h, ..area };
        p.render(r, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MachineState;
    use slotscope_table::Variant;

    fn rows(buf: &Buffer) -> Vec<String> {
        (0..buf.area.height).map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect()).collect()
    }

    fn header() -> HeaderInfo {
        HeaderInfo {
            scenario: "demo".into(),
            phase: "warm".into(),
            elapsed: std::time::Duration::from_millis(1500),
            ops_per_s: 2.5e6,
            threads: 2,
            len: 5,
            capacity: 10,
            backend: "slotscope".into(),
            ..HeaderInfo::default()
        }
    }

    #[test]
    fn header_names_magazines_beside_the_layout() {
        let t = Theme::default();
        let mut h = header();
        h.geometry = Some(slotscope_table::Geometry::new(16, slotscope_table::Layout::Linear, 64).unwrap());
        let shown = |h: &HeaderInfo| {
            let mut buf = Buffer::empty(Rect::new(0, 0, 160, 1));
            (&HeaderBar::new(h, &t)).render(buf.area, &mut buf);
            rows(&buf)[0].trim_end().to_owned()
        };
        assert!(shown(&h).ends_with("slotscope linear 64 B lines"), "{}", shown(&h));
        h.allocator = slotscope_table::Allocator::Magazine { size: 64 };
        assert!(shown(&h).ends_with("slotscope linear 64 B lines · magazines of 64"), "{}", shown(&h));
    }

    #[test]
    fn header_drops_low_priority_segments_first() {
        let t = Theme::default();
        let h = header();
        let mut buf = Buffer::empty(Rect::new(0, 0, 100, 1));
        (&HeaderBar::new(&h, &t)).render(buf.area, &mut buf);
        assert_eq!(
            rows(&buf)[0].trim_end(),
            " slotscope │ demo → warm │ 1.5s │ 2.50M ops/s │ 2 threads │ fill 50.0% of 10 │ slotscope"
        );
        let mut narrow = Buffer::empty(Rect::new(0, 0, 40, 1));
        (&HeaderBar::new(&h, &t)).render(narrow.area, &mut narrow);
        // The time stays: it is what a narrow terminal most needs to see.
        assert_eq!(rows(&narrow)[0].trim_end(), " slotscope │ demo → warm │ 1.5s");
    }

    #[test]
    fn a_noisy_machine_gets_a_badge_and_an_unknown_one_says_so() {
        let t = Theme::new(crate::theme::Palette::Mono, true);
        let mut h = header();
        h.machine = MachineState {
            noisy: Some(true),
            noise_cores: 0.56,
            transfer_ns: Some(81.0),
            ..MachineState::default()
        };
        let mut buf = Buffer::empty(Rect::new(0, 0, 200, 1));
        (&HeaderBar::new(&h, &t)).render(buf.area, &mut buf);
        let r = rows(&buf);
        assert!(r[0].starts_with(" slotscope |  NOISY 0.56 cores  | demo"), "{}", r[0]);
        assert!(r[0].contains("line transfer ~81 ns"), "{}", r[0]);
        // Narrow: the badge stays, the transfer goes.
        let mut narrow = Buffer::empty(Rect::new(0, 0, 50, 1));
        (&HeaderBar::new(&h, &t)).render(narrow.area, &mut narrow);
        let n = rows(&narrow);
        assert!(n[0].contains("NOISY") && !n[0].contains("transfer"), "{}", n[0]);
        // Quiet: no badge. Unknown after the first readings could have come: said.
        h.machine.noisy = Some(false);
        (&HeaderBar::new(&h, &t)).render(buf.area, &mut buf);
        assert!(!rows(&buf)[0].contains("NOISY"));
        h.machine.noisy = None;
        h.elapsed = std::time::Duration::from_secs(3);
        let mut buf = Buffer::empty(Rect::new(0, 0, 200, 1));
        (&HeaderBar::new(&h, &t)).render(buf.area, &mut buf);
        assert!(rows(&buf)[0].contains("noise: unknown"), "{}", rows(&buf)[0]);
    }

    #[test]
    fn broken_variant_and_violations_are_loud() {
        let t = Theme::new(crate::theme::Palette::Mono, true);
        let mut h = header();
        h.variant = Variant::RelaxedRing;
        h.violations = 3;
        h.frozen = true;
        assert_eq!(HeaderBar::height(&h), 2);
        let mut buf = Buffer::empty(Rect::new(0, 0, 60, 2));
        (&HeaderBar::new(&h, &t)).render(buf.area, &mut buf);
        let r = rows(&buf);
        assert!(r[0].starts_with(" slotscope |  !! 3 VIOLATIONS  |  FROZEN "), "{}", r[0]);
        assert!(r[1].starts_with(" !! BROKEN VARIANT: relaxed-ring !! the free ring is Relaxed"), "{}", r[1]);
        assert!(buf[(5, 1)].modifier.contains(ratatui::style::Modifier::REVERSED));
    }

    #[test]
    fn footer_fits_keys_by_priority_and_names_the_screen() {
        let t = Theme::default();
        let state = ViewState { screen: Screen::Latency, ..ViewState::default() };
        let mut buf = Buffer::empty(Rect::new(0, 0, 60, 1));
        (&ControlsFooter::new(&state, false, &t)).render(buf.area, &mut buf);
        let r = rows(&buf);
        assert_eq!(r[0], " q  quit   ?  help   Tab  views   P  pause      6/8 Latency ");
        // Frozen adds the step keys; a map screen adds zoom.
        let map = ViewState::default();
        let mut wide = Buffer::empty(Rect::new(0, 0, 200, 1));
        (&ControlsFooter::new(&map, true, &t)).render(wide.area, &mut wide);
        let r = rows(&wide);
        assert!(r[0].contains(" ./,  step") && r[0].contains(" +/-  zoom"), "{}", r[0]);
        assert!(!r[0].contains("mouse"), "help-only keys stay in the help");
    }

    #[test]
    fn an_ended_run_has_a_badge_and_no_keys_that_steer_workers() {
        let t = Theme::default();
        let mut h = header();
        h.duration = Some(std::time::Duration::from_secs(1));
        h.ended = true;
        let mut buf = Buffer::empty(Rect::new(0, 0, 100, 1));
        (&HeaderBar::new(&h, &t)).render(buf.area, &mut buf);
        let r = rows(&buf);
        assert!(
            r[0].contains(" ENDED ") && r[0].contains("│ 1.5s │"),
            "the time it ran, no '/ 1.0s': {}",
            r[0]
        );
        let state = ViewState::default();
        let footer = |ended: bool| {
            let mut buf = Buffer::empty(Rect::new(0, 0, 200, 1));
            (&ControlsFooter::new(&state, false, &t).ended(ended)).render(buf.area, &mut buf);
            rows(&buf)[0].clone()
        };
        let (running, ended) = (footer(false), footer(true));
        for key in ["pause", "threads", "layout"] {
            assert!(running.contains(key) && !ended.contains(key), "{key}:\n{running}\n{ended}");
        }
        assert!(ended.contains("quit") && ended.contains("help"), "{ended}");
    }

    #[test]
    fn footer_status_comes_first_and_keys_take_the_rest() {
        let t = Theme::new(crate::theme::Palette::Mono, true);
        let state = ViewState { screen: Screen::Latency, ..ViewState::default() };
        let mut buf = Buffer::empty(Rect::new(0, 0, 60, 1));
        let st = Status { text: "saved a.txt", alarm: false };
        (&ControlsFooter::new(&state, false, &t).status(Some(st))).render(buf.area, &mut buf);
        assert_eq!(rows(&buf)[0], " saved a.txt   q  quit   ?  help   P  pause     6/8 Latency ");
        // A message longer than the room is cut, and the screen name stays.
        let long = Status { text: &"x".repeat(100), alarm: true };
        let mut buf = Buffer::empty(Rect::new(0, 0, 40, 1));
        (&ControlsFooter::new(&state, false, &t).status(Some(long))).render(buf.area, &mut buf);
        let r = &rows(&buf)[0];
        assert!(r.starts_with(" xxxx") && r.ends_with(" 6/8 Latency "), "{r}");
        assert!(!r.contains("quit"), "{r}");
    }

    #[test]
    fn help_lists_every_key() {
        let t = Theme::default();
        let mut buf = Buffer::empty(Rect::new(0, 0, 80, 50));
        (&HelpOverlay::new(&t)).render(buf.area, &mut buf);
        let all = rows(&buf).join("\n");
        for c in CONTROLS {
            assert!(all.contains(c.action), "{}", c.action);
        }
    }

    #[test]
    fn help_defines_every_term_on_one_line() {
        let t = Theme::default();
        let help = HelpOverlay::new(&t);
        let area = Rect::new(0, 0, 80, 200);
        let mut buf = Buffer::empty(area);
        (&help).render(area, &mut buf);
        let all = rows(&buf);
        for (term, what) in crate::terms::TERMS {
            assert!(what.chars().count() <= crate::terms::DEFINITION_WIDTH, "{term}: too long for one line");
            let row =
                all.iter().find(|r| r.contains(what)).unwrap_or_else(|| panic!("{term} is not in the help"));
            assert!(row.contains(&format!("  {term} ")), "{term} beside its definition: {row}");
        }
    }

    #[test]
    fn a_short_help_scrolls_and_says_so() {
        let t = Theme::default();
        let area = Rect::new(0, 0, 80, 24);
        let help = HelpOverlay::new(&t);
        let max = help.max_scroll(area);
        assert!(max > 0, "the help is taller than 22 rows");
        assert_eq!(help.max_scroll(Rect::new(0, 0, 80, 80)), 0);
        let mut top = Buffer::empty(area);
        (&help).render(area, &mut top);
        let top = rows(&top).join("\n");
        assert!(top.contains("General") && top.contains("more below: j scrolls"), "{top}");
        let mut end = Buffer::empty(area);
        (&help.scroll(u16::MAX)).render(area, &mut end);
        let end = rows(&end).join("\n");
        assert!(end.contains("ENDED") && end.contains("more above"), "the last term: {end}");
        assert!(!end.contains("General"), "{end}");
    }

    #[test]
    fn too_small_says_what_it_needs_and_has() {
        let t = Theme::default();
        let mut buf = Buffer::empty(Rect::new(0, 0, 30, 7));
        (&TooSmall::new((80, 24), &t)).render(buf.area, &mut buf);
        let all = rows(&buf).join("\n");
        assert!(all.contains("terminal too small"), "{all}");
        assert!(all.contains("need 80×24, have 30×7"), "{all}");
    }
}
