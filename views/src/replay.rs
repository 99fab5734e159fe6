//! The replay's own chrome: where the cursor stands in the recorded run (a timeline strip of
//! the run's activity with its marks), how fast it plays, and the op at the cursor. Drawn by
//! the [`crate::Dashboard`] above the footer when the app replays a trace
//! ([`crate::Dashboard::replay`]); the header then carries a REPLAY badge.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::Widget;

use crate::panel::unicode_width;
use crate::theme::Theme;

/// Rows the [`ReplayBar`] takes.
pub const REPLAY_ROWS: u16 = 3;

/// Where the table the views show comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TableSource {
    /// Modelled from every recorded op up to the cursor.
    #[default]
    Model,
    /// A recorded scan, taken this long before the cursor (ns).
    Scan {
        /// How long before the cursor the scan started.
        age_ns: u64,
    },
    /// Recorded scans were asked for and there is none at or before the cursor.
    NoScan,
}

/// What a mark on the timeline stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MarkKind {
    /// A thread dropped events here (its buffer was full): what is shown misses them.
    Drop,
    /// A recorded table scan.
    Scan,
    /// A live control, a phase, a restart.
    Control,
    /// The first illegal op `slotscope check` found.
    Violation,
}

/// A mark on the timeline at a time (ns from the run's time zero).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    /// When.
    pub at_ns: i64,
    /// What.
    pub kind: MarkKind,
}

/// Everything the replay bar and the header's badge draw from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReplayInfo {
    /// Playing (else paused).
    pub playing: bool,
    /// Trace time per real time.
    pub speed: f64,
    /// One frame step of trace time, ns (also the window rates and latency are taken over).
    pub frame_ns: u64,
    /// The cursor, ns from the run's time zero (negative: the prefill, before the clock).
    pub cursor_ns: i64,
    /// The first op, ns from time zero.
    pub start_ns: i64,
    /// The last op, ns from time zero.
    pub end_ns: i64,
    /// Ops applied so far (the cursor's position in time order).
    pub position: u64,
    /// Ops in the trace.
    pub events: u64,
    /// The op at the cursor in one line (its event number, thread, what it did), or what
    /// stands there instead.
    pub event_text: String,
    /// Where the shown table comes from.
    pub table: TableSource,
    /// Ops per slice of the trace, slices evenly spread from `start_ns` to `end_ns`.
    pub activity: Vec<u64>,
    /// Marks.
    pub marks: Vec<Mark>,
    /// A line that replaces the event text: something the user must know here (events
    /// dropped, where the trace stops), in the alarm style when `alarm`.
    pub notice: Option<(String, bool)>,
    /// The go-to prompt, while it is open: what has been typed.
    pub prompt: Option<String>,
    /// Why the trace ends early (truncated, damaged): the header says TRUNCATED.
    pub stopped: Option<String>,
}

impl ReplayInfo {
    /// The header's badge: `REPLAY ▶ 0.5×` (or `⏸` paused).
    pub fn badge(&self, ascii: bool) -> String {
        format!(" REPLAY {} ", self.state_text(ascii))
    }

    /// Play state and speed: `▶ 0.5×`, `⏸ 2×`.
    pub fn state_text(&self, ascii: bool) -> String {
        let state = match (self.playing, ascii) {
            (true, false) => "▶",
            (false, false) => "⏸",
            (true, true) => ">",
            (false, true) => "||",
        };
        format!("{state} {}{}", speed_text(self.speed), if ascii { "x" } else { "×" })
    }

    /// The header's note on the table: `table: model at cursor` or `scan 120ms earlier`.
    pub fn table_text(&self, ascii: bool) -> String {
        match self.table {
            TableSource::Model => "table: modelled at cursor".to_owned(),
            TableSource::Scan { age_ns } => format!("table: scan {} before cursor", time_text(age_ns, ascii)),
            TableSource::NoScan => "table: no scan before cursor".to_owned(),
        }
    }
}

/// A speed factor as the replay shows it: `1`, `0.05`, `1/5000` (slower than a thousandth
/// reads as a fraction, not as `2e-4`).
pub fn speed_text(speed: f64) -> String {
    if speed >= 1.0 {
        format!("{speed:.0}")
    } else if speed >= 1e-3 {
        let s = format!("{speed:.3}");
        s.trim_end_matches('0').to_owned()
    } else {
        // 1 over the slowdown, to two significant digits: 1/5000, 1/12000.
        let n = 1.0 / speed.max(f64::MIN_POSITIVE);
        let scale = 10f64.powi(n.log10().floor() as i32 - 1);
        format!("1/{:.0}", (n / scale).round() * scale)
    }
}

/// A duration in ns with three digits: `850ns`, `12.3µs`, `1.50ms`, `2.00s`.
pub fn time_text(ns: u64, ascii: bool) -> String {
    crate::units::Nanos::new(ns, ascii).to_string()
}

/// A signed time from the run's time zero: `+12.3µs`, `-90.0µs`.
pub fn signed_time_text(ns: i64, ascii: bool) -> String {
    let sign = if ns < 0 { "-" } else { "+" };
    format!("{sign}{}", time_text(ns.unsigned_abs(), ascii))
}

/// The replay bar: marks, the timeline strip with the cursor, the op at the cursor.
#[derive(Clone, Copy, Debug)]
pub struct ReplayBar<'a> {
    info: &'a ReplayInfo,
    theme: &'a Theme,
}

impl<'a> ReplayBar<'a> {
    /// The bar for `info`.
    pub fn new(info: &'a ReplayInfo, theme: &'a Theme) -> Self {
        ReplayBar { info, theme }
    }

    /// The strip's columns in `area` (the middle of the second row).
    fn strip(area: Rect) -> (u16, u16) {
        let left = area.x + 10;
        let right = area.right().saturating_sub(21).max(left + 1);
        (left, right)
    }

    /// The column of time `ns` on a strip from `x0` to `x1` (exclusive).
    fn column(&self, ns: i64, x0: u16, x1: u16) -> u16 {
        let (a, b) = (self.info.start_ns, self.info.end_ns.max(self.info.start_ns + 1));
        let w = i128::from(x1 - x0);
        let off = (i128::from(ns.clamp(a, b) - a) * (w - 1)) / i128::from(b - a);
        x0 + u16::try_from(off).unwrap_or(0).min(x1 - x0 - 1)
    }
}

impl Widget for &ReplayBar<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.is_empty() || area.width < 40 {
            return;
        }
        let t = self.theme;
        let i = self.info;
        let g = &t.glyphs;
        let ascii = g.border.top_left == "+";
        let (x0, x1) = ReplayBar::strip(area);
        let cursor_x = self.column(i.cursor_ns, x0, x1);
        // Row 1: marks over the strip, the cursor's marker, the position at the right.
        let y = area.y;
        for m in &i.marks {
            let (sym, style) = match (m.kind, ascii) {
                (MarkKind::Drop, false) => ("✗", t.alarm()),
                (MarkKind::Drop, true) => ("X", t.alarm()),
                (MarkKind::Violation, _) => ("!", t.alarm()),
                (MarkKind::Scan, false) => ("▾", t.dim()),
                (MarkKind::Scan, true) => ("v", t.dim()),
                (MarkKind::Control, false) => ("◆", t.value()),
                (MarkKind::Control, true) => ("*", t.value()),
            };
            let x = self.column(m.at_ns, x0, x1);
            // A drop or a violation wins over a scan or a control at the same column.
            let taken = buf[(x, y)].symbol();
            if taken == " " || matches!(m.kind, MarkKind::Drop | MarkKind::Violation) {
                buf.set_string(x, y, sym, style);
            }
        }
        buf.set_string(area.x + 1, y, "timeline", t.dim());
        // Ops applied (the cursor's rank in time order), right of the strip: never over it,
        // so the cursor's marker and the text do not overwrite each other.
        let room = usize::from(area.right().saturating_sub(x1 + 1));
        let (done, all) = (group(i.position), group(i.events));
        let pos =
            [format!("{done} of {all} ops"), format!("{done}/{all} ops"), format!("{done}/{all}"), done]
                .into_iter()
                .find(|p| unicode_width(p) <= room);
        if let Some(pos) = pos {
            let w = u16::try_from(unicode_width(&pos)).unwrap_or(0);
            buf.set_stringn(area.right().saturating_sub(w + 1), y, &pos, usize::from(w), t.dim());
        }
        // Row 2: play state and speed, the strip, the cursor's time.
        let y = area.y + 1;
        if y >= area.bottom() {
            return;
        }
        let state = format!(" {} ", i.state_text(ascii));
        buf.set_stringn(area.x, y, state, 10, if i.playing { t.badge() } else { t.value() });
        let cols = usize::from(x1 - x0);
        let max = i.activity.iter().copied().max().unwrap_or(0);
        for c in 0..cols {
            // The slices under this column; the busiest one sets its height.
            let n = i.activity.len();
            let (lo, hi) = (c * n / cols, ((c + 1) * n / cols).max(c * n / cols + 1).min(n));
            let v = i.activity.get(lo..hi).and_then(|s| s.iter().copied().max()).unwrap_or(0);
            let x = x0 + u16::try_from(c).unwrap_or(0);
            let sym = if v == 0 { " " } else { g.vbar_for(v, max) };
            let style = if x <= cursor_x { t.value() } else { t.dim() };
            buf.set_string(x, y, sym, style);
        }
        let at = &mut buf[(cursor_x, y)];
        if at.symbol() == " " {
            at.set_symbol(if ascii { "|" } else { "│" });
        }
        at.set_style(t.cursor());
        let marker = if ascii { "v" } else { "▼" };
        buf.set_string(cursor_x, area.y, marker, t.cursor());
        let when = format!(
            " {} / {}",
            signed_time_text(i.cursor_ns, ascii),
            time_text(u64::try_from(i.end_ns.max(0)).unwrap_or(0), ascii)
        );
        buf.set_stringn(x1, y, &when, usize::from(area.right() - x1), t.value());
        // Row 3: the prompt, a notice, or the op at the cursor.
        let y = area.y + 2;
        if y >= area.bottom() {
            return;
        }
        let room = usize::from(area.width.saturating_sub(1));
        if let Some(p) = &i.prompt {
            let line = vec![
                Span::styled(" go to: ", t.badge()),
                Span::styled(format!(" {p}_ "), t.value()),
                Span::styled(
                    "  a time (12.5ms, -3us, 2s) or #event (#18342); Enter goes, Esc cancels",
                    t.dim(),
                ),
            ];
            buf.set_line(area.x, y, &ratatui::text::Line::from(line), area.width);
        } else if let Some((text, alarm)) = &i.notice {
            let style = if *alarm { t.alarm() } else { t.warn() };
            buf.set_stringn(area.x + 1, y, format!("{} {text}", g.warn), room, style);
        } else {
            let frame = format!("frame {}", time_text(i.frame_ns, ascii));
            let fw = unicode_width(&frame);
            let text_room = room.saturating_sub(fw + 2);
            buf.set_stringn(area.x + 1, y, &i.event_text, text_room, t.text());
            let x = area.right().saturating_sub(u16::try_from(fw + 1).unwrap_or(0));
            buf.set_stringn(x, y, &frame, fw, t.dim());
        }
    }
}

/// `464406` as `464,406`.
pub fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(buf: &Buffer) -> Vec<String> {
        (0..buf.area.height).map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect()).collect()
    }

    fn info() -> ReplayInfo {
        ReplayInfo {
            playing: false,
            speed: 0.05,
            frame_ns: 500_000,
            cursor_ns: 50_000_000,
            start_ns: -10_000_000,
            end_ns: 90_000_000,
            position: 5001,
            events: 464_406,
            event_text: "#6218 t1 op 1610 lookup 307@0 -> hit (value t0#479)".into(),
            table: TableSource::Model,
            activity: (0..100).map(|i| i % 10).collect(),
            marks: vec![
                Mark { at_ns: 0, kind: MarkKind::Control },
                Mark { at_ns: 20_000_000, kind: MarkKind::Drop },
                Mark { at_ns: 40_000_000, kind: MarkKind::Scan },
            ],
            notice: None,
            prompt: None,
            stopped: None,
        }
    }

    #[test]
    fn the_bar_shows_marks_strip_cursor_and_the_op() {
        let t = Theme::new(crate::theme::Palette::Mono, false);
        let mut buf = Buffer::empty(Rect::new(0, 0, 100, 3));
        (&ReplayBar::new(&info(), &t)).render(buf.area, &mut buf);
        let r = rows(&buf);
        assert!(r[0].contains('◆') && r[0].contains('✗') && r[0].contains('▾'), "{}", r[0]);
        assert!(r[0].ends_with(" 5,001 of 464,406 ops "), "{}", r[0]);
        // At the trace's end, with long counts: the marker and the count keep apart.
        let mut end = info();
        end.cursor_ns = end.end_ns;
        end.position = 12_345_678;
        end.events = 12_345_678;
        let mut buf = Buffer::empty(Rect::new(0, 0, 100, 3));
        (&ReplayBar::new(&end, &t)).render(buf.area, &mut buf);
        let top = rows(&buf)[0].clone();
        assert!(top.ends_with(" 12,345,678 ") && top.contains('▼'), "{top}");
        let marker = top.chars().position(|c| c == '▼').unwrap();
        assert!(marker < top.chars().count() - " 12,345,678 ".len(), "{top}");
        assert!(r[1].starts_with(" ⏸ 0.05× "), "{}", r[1]);
        assert!(r[1].contains("+50.0ms / 90.0ms"), "{}", r[1]);
        assert!(r[2].contains("#6218 t1 op 1610 lookup") && r[2].ends_with("frame 500µs "), "{}", r[2]);
        // The cursor: 60% of the way along the strip, marked above and drawn in the cursor style.
        let (x0, x1) = ReplayBar::strip(buf.area);
        let cx = usize::from(x0) + (usize::from(x1 - x0) - 1) * 60 / 100;
        assert_eq!(r[0].chars().nth(cx), Some('▼'), "{}", r[0]);
        let cell = &buf[(u16::try_from(cx).unwrap(), 1)];
        assert!(cell.modifier.contains(t.cursor().add_modifier), "{cell:?}");
    }

    #[test]
    fn the_prompt_and_notices_take_the_last_row() {
        let t = Theme::new(crate::theme::Palette::Mono, true);
        let mut i = info();
        i.prompt = Some("#18".into());
        let mut buf = Buffer::empty(Rect::new(0, 0, 100, 3));
        (&ReplayBar::new(&i, &t)).render(buf.area, &mut buf);
        assert!(rows(&buf)[2].starts_with(" go to:  #18_ "), "{}", rows(&buf)[2]);
        i.prompt = None;
        i.notice = Some(("thread 1 dropped 512 events here".into(), true));
        let mut buf = Buffer::empty(Rect::new(0, 0, 100, 3));
        (&ReplayBar::new(&i, &t)).render(buf.area, &mut buf);
        assert!(rows(&buf)[2].starts_with(" !! thread 1 dropped 512 events here"), "{}", rows(&buf)[2]);
        assert!(rows(&buf)[1].starts_with(" || 0.05x "), "{}", rows(&buf)[1]);
    }

    #[test]
    fn speeds_and_times_read_well() {
        assert_eq!(speed_text(1.0), "1");
        assert_eq!(speed_text(200.0), "200");
        assert_eq!(speed_text(0.5), "0.5");
        assert_eq!(speed_text(0.005), "0.005");
        assert_eq!(speed_text(0.0002), "1/5000");
        assert_eq!(speed_text(1.0 / 12_345.0), "1/12000");
        assert_eq!(signed_time_text(-90_000, false), "-90.0µs");
        assert_eq!(signed_time_text(1_500_000, true), "+1.50ms");
        assert_eq!(group(464_406), "464,406");
        assert_eq!(group(12), "12");
        assert_eq!(info().table_text(false), "table: modelled at cursor");
        let scan = ReplayInfo { table: TableSource::Scan { age_ns: 120_000_000 }, ..info() };
        assert_eq!(scan.table_text(false), "table: scan 120ms before cursor");
    }
}
