//! Every colour, modifier and glyph the views use.
//!
//! A [`Theme`] is a [`Palette`] (dark, light, colour-blind safe, or no colour at all) plus a
//! [`Glyphs`] set (Unicode or plain ASCII). Widgets never name a colour: they ask the theme
//! for the style of a *meaning* (`occupied`, `shared`, `heat(level)`, ...). Meaning is always
//! carried by a glyph as well, so the mono palette and a colour-blind viewer lose only the
//! heat shading, never a state.
//!
//! Colours are xterm-256 indices rather than 24-bit RGB: a projector laptop's terminal may not
//! do true colour, while 256 colours work nearly everywhere.

use std::ffi::OsStr;
use std::fmt;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;

use crate::model::Op;

/// Heat levels above "cold": a line's write count maps to 0 (no writes) ..= `HEAT_LEVELS`.
pub const HEAT_LEVELS: u8 = 7;

/// The colour scheme.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Palette {
    /// For dark terminal backgrounds (the default). Heat runs blue -> red.
    #[default]
    Dark,
    /// For light terminal backgrounds.
    Light,
    /// Colour-blind safe: viridis-like heat, Okabe-Ito categories. For dark backgrounds.
    Cvd,
    /// No colour at all (`NO_COLOR`, `--no-color`): bold, dim and reverse only.
    Mono,
}

impl Palette {
    /// Every palette, in the order the `c` key cycles through them.
    pub const ALL: [Palette; 4] = [Palette::Dark, Palette::Light, Palette::Cvd, Palette::Mono];

    /// The name used by `--theme`.
    pub const fn name(self) -> &'static str {
        match self {
            Palette::Dark => "dark",
            Palette::Light => "light",
            Palette::Cvd => "cvd",
            Palette::Mono => "mono",
        }
    }

    /// The next palette in [`Palette::ALL`], wrapping around.
    #[must_use]
    pub fn next(self) -> Palette {
        let i = Palette::ALL.iter().position(|&p| p == self).unwrap_or(0);
        Palette::ALL[(i + 1) % Palette::ALL.len()]
    }

    /// What to use given what was asked for and whether colour is forbidden: `--no-color` or
    /// `NO_COLOR` (see [`no_color_requested`]) win over any `--theme`.
    pub const fn resolve(requested: Palette, no_color: bool) -> Palette {
        if no_color {
            Palette::Mono
        } else {
            requested
        }
    }
}

/// Whether the value of the `NO_COLOR` environment variable asks for no colour: per
/// no-color.org, it does when present and not empty. The app passes
/// `std::env::var_os("NO_COLOR").as_deref()`; views never read the environment themselves.
pub fn no_color_requested(value: Option<&OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

impl fmt::Display for Palette {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing an unknown palette name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownPalette(pub String);

impl fmt::Display for UnknownPalette {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown theme `{}` (expected one of: dark, light, cvd, mono)", self.0)
    }
}

impl std::error::Error for UnknownPalette {}

impl FromStr for Palette {
    type Err = UnknownPalette;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Palette::ALL.into_iter().find(|p| p.name() == s).ok_or_else(|| UnknownPalette(s.to_owned()))
    }
}

/// The characters the views draw with. Two sets: [`Glyphs::UNICODE`] (default) and
/// [`Glyphs::ASCII`] (`--ascii`, for plain terminals and fonts without block elements).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Glyphs {
    /// A slot holding a live element.
    pub occupied: &'static str,
    /// A slot whose id is in flight (being inserted or returned).
    pub reserved: &'static str,
    /// A free slot (its next id waits in the ring).
    pub free: &'static str,
    /// A line written by two or more threads in the last interval.
    pub shared: &'static str,
    /// Left and right of the selected line.
    pub cursor_left: &'static str,
    /// See `cursor_left`.
    pub cursor_right: &'static str,
    /// A next id beyond the ninth (the first nine show their ordinal digit).
    pub next_more: &'static str,
    /// Vertical bars from 1/8 to 8/8 of a cell (fill levels, sparklines, column plots).
    pub vbars: [&'static str; 8],
    /// Horizontal bars from 1/8 to 8/8 of a cell (histograms, gauges).
    pub hbars: [&'static str; 8],
    /// The empty part of a gauge.
    pub gauge_empty: &'static str,
    /// Panel borders.
    pub border: border::Set,
    /// Separator between header fields.
    pub separator: &'static str,
    /// "to", in ranges and flows.
    pub arrow: &'static str,
    /// Warning sign in front of loud labels.
    pub warn: &'static str,
    /// Multiplication sign (in "4 × 64 B").
    pub times: &'static str,
    /// The micro sign of µs.
    pub micro: &'static str,
    /// En dash of ranges ("3–7").
    pub dash: &'static str,
    /// Truncation mark.
    pub ellipsis: &'static str,
    /// A middle dot between items.
    pub dot: &'static str,
    /// Arrow keys, as the footer names them.
    pub arrows: &'static str,
    /// The ring's alloc cursor.
    pub alloc_cursor: &'static str,
    /// The ring's free cursor.
    pub free_cursor: &'static str,
}

const ASCII_BORDER: border::Set = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

impl Glyphs {
    /// Block elements and box drawing (the default).
    pub const UNICODE: Glyphs = Glyphs {
        occupied: "█",
        reserved: "▒",
        free: "·",
        shared: "×",
        cursor_left: "▶",
        cursor_right: "◀",
        next_more: "+",
        vbars: ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"],
        hbars: ["▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"],
        gauge_empty: "─",
        border: border::ROUNDED,
        separator: "│",
        arrow: "→",
        warn: "⚠",
        times: "×",
        micro: "µ",
        dash: "–",
        ellipsis: "…",
        dot: "·",
        arrows: "←↓↑→",
        alloc_cursor: "A",
        free_cursor: "F",
    };

    /// Seven-bit ASCII only (`--ascii`).
    pub const ASCII: Glyphs = Glyphs {
        occupied: "#",
        reserved: "+",
        free: ".",
        shared: "x",
        cursor_left: ">",
        cursor_right: "<",
        next_more: "*",
        // A fill level cannot be drawn in ASCII: every non-empty level is a full mark.
        vbars: ["_", "_", "-", "-", "=", "=", "#", "#"],
        hbars: ["#", "#", "#", "#", "#", "#", "#", "#"],
        gauge_empty: "-",
        border: ASCII_BORDER,
        separator: "|",
        arrow: "->",
        warn: "!!",
        times: "x",
        micro: "u",
        dash: "-",
        ellipsis: "~",
        dot: ".",
        arrows: "arrows",
        alloc_cursor: "A",
        free_cursor: "F",
    };

    /// The fill glyph for a share `num / den` (> 0) of a cell, rounded up so that any
    /// non-zero share shows at least the lowest bar.
    pub fn vbar_for(&self, num: u64, den: u64) -> &'static str {
        self.vbars[eighths_ceil(num, den).saturating_sub(1)]
    }
}

/// `ceil(8 * num / den)` clamped to 1..=8 for `num > 0`, 0 for `num == 0`.
pub(crate) fn eighths_ceil(num: u64, den: u64) -> usize {
    if num == 0 || den == 0 {
        return 0;
    }
    let e = (u128::from(num) * 8).div_ceil(u128::from(den));
    // At most 8 after the clamp, so the cast is exact.
    #[allow(clippy::cast_possible_truncation)]
    let e = e.clamp(1, 8) as usize;
    e
}

/// A palette and a glyph set: everything needed to style a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    /// The colours.
    pub palette: Palette,
    /// The characters.
    pub glyphs: Glyphs,
}

impl Default for Theme {
    fn default() -> Self {
        Theme::new(Palette::Dark, false)
    }
}

/// xterm-256 colour `n`.
const fn ix(n: u8) -> Color {
    Color::Indexed(n)
}

const fn fg(n: u8) -> Style {
    Style::new().fg(ix(n))
}

impl Theme {
    /// A theme of `palette`, with ASCII glyphs if `ascii`.
    pub const fn new(palette: Palette, ascii: bool) -> Theme {
        Theme { palette, glyphs: if ascii { Glyphs::ASCII } else { Glyphs::UNICODE } }
    }

    /// Whether this theme uses colour at all.
    pub const fn has_color(&self) -> bool {
        !matches!(self.palette, Palette::Mono)
    }

    const fn mono(&self) -> bool {
        matches!(self.palette, Palette::Mono)
    }

    // ---- chrome ----------------------------------------------------------------------

    /// Panel borders.
    pub fn border(&self) -> Style {
        match self.palette {
            Palette::Dark | Palette::Cvd => fg(240),
            Palette::Light => fg(247),
            Palette::Mono => Style::new(),
        }
    }

    /// Panel titles.
    pub fn title(&self) -> Style {
        match self.palette {
            Palette::Dark | Palette::Cvd => fg(255).add_modifier(Modifier::BOLD),
            Palette::Light => fg(16).add_modifier(Modifier::BOLD),
            Palette::Mono => Style::new().add_modifier(Modifier::BOLD),
        }
    }

    /// The part of a title that explains the scale ("1 cell = 4 lines = 256 B").
    pub fn title_scale(&self) -> Style {
        match self.palette {
            Palette::Dark | Palette::Cvd => fg(110),
            Palette::Light => fg(25),
            Palette::Mono => Style::new(),
        }
    }

    /// Ordinary text.
    pub fn text(&self) -> Style {
        match self.palette {
            Palette::Dark | Palette::Cvd => fg(252),
            Palette::Light => fg(235),
            Palette::Mono => Style::new(),
        }
    }

    /// Labels, units, secondary text.
    pub fn dim(&self) -> Style {
        match self.palette {
            Palette::Dark | Palette::Cvd => fg(245),
            Palette::Light => fg(243),
            Palette::Mono => Style::new().add_modifier(Modifier::DIM),
        }
    }

    /// A number that matters (throughput, a percentile).
    pub fn value(&self) -> Style {
        match self.palette {
            Palette::Dark | Palette::Cvd => fg(255).add_modifier(Modifier::BOLD),
            Palette::Light => fg(16).add_modifier(Modifier::BOLD),
            Palette::Mono => Style::new().add_modifier(Modifier::BOLD),
        }
    }

    /// Column headings of tables.
    pub fn heading(&self) -> Style {
        match self.palette {
            Palette::Dark | Palette::Cvd => fg(110).add_modifier(Modifier::BOLD),
            Palette::Light => fg(25).add_modifier(Modifier::BOLD),
            Palette::Mono => Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
        }
    }

    /// The header bar's background strip.
    pub fn header_bar(&self) -> Style {
        match self.palette {
            Palette::Dark | Palette::Cvd => Style::new().fg(ix(255)).bg(ix(236)),
            Palette::Light => Style::new().fg(ix(16)).bg(ix(253)),
            Palette::Mono => Style::new().add_modifier(Modifier::REVERSED),
        }
    }

    /// The product name in the header bar.
    pub fn brand(&self) -> Style {
        match self.palette {
            Palette::Dark => self.header_bar().fg(ix(81)).add_modifier(Modifier::BOLD),
            Palette::Cvd => self.header_bar().fg(ix(74)).add_modifier(Modifier::BOLD),
            Palette::Light => self.header_bar().fg(ix(25)).add_modifier(Modifier::BOLD),
            Palette::Mono => self.header_bar().add_modifier(Modifier::BOLD),
        }
    }

    /// A key name in the footer and the help.
    pub fn key(&self) -> Style {
        match self.palette {
            Palette::Dark | Palette::Cvd => Style::new().fg(ix(16)).bg(ix(110)).add_modifier(Modifier::BOLD),
            Palette::Light => Style::new().fg(ix(231)).bg(ix(25)).add_modifier(Modifier::BOLD),
            Palette::Mono => Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
        }
    }

    /// What a key does, next to it.
    pub fn key_action(&self) -> Style {
        self.dim()
    }

    /// Loud: a broken variant, violations. Never missed, even without colour.
    pub fn alarm(&self) -> Style {
        match self.palette {
            Palette::Dark | Palette::Light => {
                Style::new().fg(ix(231)).bg(ix(160)).add_modifier(Modifier::BOLD)
            }
            Palette::Cvd => Style::new().fg(ix(16)).bg(ix(214)).add_modifier(Modifier::BOLD),
            Palette::Mono => Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
        }
    }

    /// Worth attention (skips, retries, an oversubscribed core).
    pub fn warn(&self) -> Style {
        match self.palette {
            Palette::Dark => fg(214),
            Palette::Light => fg(130),
            Palette::Cvd => fg(214),
            Palette::Mono => Style::new().add_modifier(Modifier::BOLD),
        }
    }

    /// All is well (no violations, correct variant).
    pub fn good(&self) -> Style {
        match self.palette {
            Palette::Dark => fg(114),
            Palette::Light => fg(28),
            Palette::Cvd => fg(74),
            Palette::Mono => Style::new(),
        }
    }

    /// FROZEN / PAUSED badges.
    pub fn badge(&self) -> Style {
        match self.palette {
            Palette::Dark | Palette::Cvd => Style::new().fg(ix(16)).bg(ix(220)).add_modifier(Modifier::BOLD),
            Palette::Light => Style::new().fg(ix(231)).bg(ix(130)).add_modifier(Modifier::BOLD),
            Palette::Mono => Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
        }
    }

    // ---- the maps --------------------------------------------------------------------

    /// The colour of heat `level` (0 = no writes in the interval ..= [`HEAT_LEVELS`]).
    pub fn heat(&self, level: u8) -> Style {
        let level = level.min(HEAT_LEVELS);
        match self.palette {
            Palette::Dark => fg([245, 25, 32, 37, 71, 178, 208, 196][usize::from(level)]),
            Palette::Light => fg([240, 25, 31, 30, 28, 136, 166, 160][usize::from(level)]),
            Palette::Cvd => fg([245, 61, 67, 30, 36, 77, 148, 226][usize::from(level)]),
            Palette::Mono => match level {
                0 => Style::new(),
                1..=4 => Style::new(),
                _ => Style::new().add_modifier(Modifier::BOLD),
            },
        }
    }

    /// An occupied slot on a line of heat `level`.
    pub fn occupied(&self, level: u8) -> Style {
        self.heat(level)
    }

    /// A free slot on a line of heat `level`: dim when cold, tinted by heat otherwise (a line
    /// that churns shows heat even when the scan caught its slots free).
    pub fn free(&self, level: u8) -> Style {
        if level == 0 {
            match self.palette {
                Palette::Dark | Palette::Cvd => fg(239),
                Palette::Light => fg(250),
                Palette::Mono => Style::new().add_modifier(Modifier::DIM),
            }
        } else {
            self.heat(level)
        }
    }

    /// A reserved (in-flight) slot or ring cell.
    pub fn reserved(&self) -> Style {
        match self.palette {
            Palette::Dark => fg(201).add_modifier(Modifier::BOLD),
            Palette::Light => fg(127).add_modifier(Modifier::BOLD),
            Palette::Cvd => fg(175).add_modifier(Modifier::BOLD),
            Palette::Mono => Style::new().add_modifier(Modifier::BOLD),
        }
    }

    /// The sharing mark of a line written by two or more threads.
    pub fn shared(&self) -> Style {
        match self.palette {
            Palette::Dark => fg(203).add_modifier(Modifier::BOLD),
            Palette::Light => fg(160).add_modifier(Modifier::BOLD),
            Palette::Cvd => fg(166).add_modifier(Modifier::BOLD),
            Palette::Mono => Style::new().add_modifier(Modifier::BOLD),
        }
    }

    /// Where the next ids will land.
    pub fn next_id(&self) -> Style {
        match self.palette {
            Palette::Dark | Palette::Cvd => Style::new().fg(ix(16)).bg(ix(227)).add_modifier(Modifier::BOLD),
            Palette::Light => Style::new().fg(ix(231)).bg(ix(90)).add_modifier(Modifier::BOLD),
            Palette::Mono => Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
        }
    }

    /// The marks left and right of the selected line, and its row label.
    pub fn cursor(&self) -> Style {
        match self.palette {
            Palette::Dark | Palette::Cvd => fg(231).add_modifier(Modifier::BOLD),
            Palette::Light => fg(16).add_modifier(Modifier::BOLD),
            Palette::Mono => Style::new().add_modifier(Modifier::BOLD),
        }
    }

    /// Added to a map cell under the cursor (zoomed out, where there is no room for marks).
    pub fn cursor_cell(&self) -> Modifier {
        Modifier::REVERSED
    }

    /// Row labels of the maps (first line of the row).
    pub fn row_label(&self) -> Style {
        match self.palette {
            Palette::Dark | Palette::Cvd => fg(242),
            Palette::Light => fg(245),
            Palette::Mono => Style::new().add_modifier(Modifier::DIM),
        }
    }

    /// The ring's alloc and free cursors.
    pub fn ring_cursor(&self) -> Style {
        match self.palette {
            Palette::Dark | Palette::Cvd => Style::new().fg(ix(16)).bg(ix(255)).add_modifier(Modifier::BOLD),
            Palette::Light => Style::new().fg(ix(231)).bg(ix(16)).add_modifier(Modifier::BOLD),
            Palette::Mono => Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
        }
    }

    // ---- charts ----------------------------------------------------------------------

    /// The series colour of an operation (always paired with the operation's name).
    pub fn op(&self, op: Op) -> Style {
        let n = match (self.palette, op) {
            (Palette::Mono, _) => return Style::new(),
            (Palette::Dark, Op::Lookup) => 81,
            (Palette::Dark, Op::Insert) => 114,
            (Palette::Dark, Op::Remove) => 211,
            (Palette::Light, Op::Lookup) => 25,
            (Palette::Light, Op::Insert) => 28,
            (Palette::Light, Op::Remove) => 125,
            // Okabe-Ito: sky blue, orange, reddish purple.
            (Palette::Cvd, Op::Lookup) => 74,
            (Palette::Cvd, Op::Insert) => 172,
            (Palette::Cvd, Op::Remove) => 175,
        };
        fg(n)
    }

    /// A single-series chart or gauge (sparklines, histograms).
    pub fn chart(&self) -> Style {
        match self.palette {
            Palette::Dark => fg(81),
            Palette::Light => fg(25),
            Palette::Cvd => fg(74),
            Palette::Mono => Style::new(),
        }
    }

    /// The empty part of a gauge, axis lines and ticks.
    pub fn axis(&self) -> Style {
        match self.palette {
            Palette::Dark | Palette::Cvd => fg(240),
            Palette::Light => fg(248),
            Palette::Mono => Style::new().add_modifier(Modifier::DIM),
        }
    }

    /// A selected row in a table.
    pub fn selected_row(&self) -> Style {
        if self.mono() {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            match self.palette {
                Palette::Light => Style::new().bg(ix(253)),
                _ => Style::new().bg(ix(237)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palette_names_round_trip_and_cycle() {
        for p in Palette::ALL {
            assert_eq!(p.name().parse::<Palette>(), Ok(p));
        }
        assert_eq!("neon".parse::<Palette>(), Err(UnknownPalette("neon".into())));
        assert_eq!(Palette::Mono.next(), Palette::Dark);
        assert_eq!(Palette::Dark.next(), Palette::Light);
    }

    #[test]
    fn no_color_wins_and_follows_no_color_org() {
        assert_eq!(Palette::resolve(Palette::Cvd, true), Palette::Mono);
        assert_eq!(Palette::resolve(Palette::Cvd, false), Palette::Cvd);
        assert!(no_color_requested(Some(OsStr::new("1"))));
        assert!(!no_color_requested(Some(OsStr::new(""))));
        assert!(!no_color_requested(None));
    }

    #[test]
    fn mono_uses_no_colour_anywhere() {
        let t = Theme::new(Palette::Mono, false);
        let styles = [
            t.border(),
            t.title(),
            t.text(),
            t.dim(),
            t.value(),
            t.key(),
            t.alarm(),
            t.warn(),
            t.reserved(),
            t.shared(),
            t.next_id(),
            t.cursor(),
            t.ring_cursor(),
            t.chart(),
            t.header_bar(),
            t.badge(),
            t.selected_row(),
            t.op(Op::Insert),
        ];
        for (i, s) in
            styles.iter().chain((0..=HEAT_LEVELS).map(|l| t.heat(l)).collect::<Vec<_>>().iter()).enumerate()
        {
            assert_eq!((s.fg, s.bg), (None, None), "style {i} has a colour");
        }
        assert!(!t.has_color());
    }

    #[test]
    fn heat_ramps_are_distinct_per_level() {
        for p in [Palette::Dark, Palette::Light, Palette::Cvd] {
            let t = Theme::new(p, false);
            let colours: std::collections::HashSet<_> = (0..=HEAT_LEVELS).map(|l| t.heat(l).fg).collect();
            assert_eq!(colours.len(), usize::from(HEAT_LEVELS) + 1, "{p}");
        }
    }

    #[test]
    fn ascii_glyphs_are_ascii() {
        let g = Glyphs::ASCII;
        let b = g.border;
        let all = [
            g.occupied,
            g.reserved,
            g.free,
            g.shared,
            g.cursor_left,
            g.cursor_right,
            g.next_more,
            g.gauge_empty,
            g.separator,
            g.arrow,
            g.warn,
            g.times,
            g.micro,
            g.dash,
            g.ellipsis,
            g.dot,
            g.arrows,
            g.alloc_cursor,
            g.free_cursor,
            b.top_left,
            b.top_right,
            b.bottom_left,
            b.bottom_right,
            b.vertical_left,
            b.vertical_right,
            b.horizontal_top,
            b.horizontal_bottom,
        ];
        for s in all.iter().chain(g.vbars.iter()).chain(g.hbars.iter()) {
            assert!(s.is_ascii(), "{s:?}");
        }
    }

    #[test]
    fn state_glyphs_differ_in_both_sets() {
        for g in [Glyphs::UNICODE, Glyphs::ASCII] {
            let states = [g.occupied, g.reserved, g.free, g.shared];
            let set: std::collections::HashSet<_> = states.iter().collect();
            assert_eq!(set.len(), states.len());
            // No fill bar may look like "free" or "reserved".
            assert!(!g.vbars.contains(&g.free) && !g.vbars.contains(&g.reserved));
        }
    }

    #[test]
    fn eighths_round_up() {
        assert_eq!(eighths_ceil(0, 64), 0);
        assert_eq!(eighths_ceil(1, 64), 1, "one slot of 64 still shows");
        assert_eq!(eighths_ceil(8, 64), 1);
        assert_eq!(eighths_ceil(9, 64), 2);
        assert_eq!(eighths_ceil(64, 64), 8);
        assert_eq!(eighths_ceil(99, 64), 8, "clamped");
        assert_eq!(Glyphs::UNICODE.vbar_for(1, 1000), "▁");
        assert_eq!(Glyphs::UNICODE.vbar_for(5, 8), "▅");
    }
}
