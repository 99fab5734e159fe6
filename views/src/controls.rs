//! The keys of the TUI as data: the footer and the help overlay draw from this one list, so
//! they cannot disagree. The app's key handling should follow it too.

/// Where a key belongs in the help overlay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Section {
    /// Quit, help, colours, mouse, save.
    General,
    /// Switching screens, drilling in and out.
    Views,
    /// The maps: cursor, zoom, next ids.
    Map,
    /// Steering the workers and the view's clock.
    Run,
    /// Workshop lessons (`slotscope lesson NAME`).
    Lesson,
    /// Moving through a recorded trace (`slotscope replay`).
    Replay,
}

impl Section {
    /// Every section, in help order (a list without keys in a section leaves it out).
    pub const ALL: [Section; 6] =
        [Section::General, Section::Views, Section::Map, Section::Run, Section::Lesson, Section::Replay];

    /// The section's heading.
    pub const fn title(self) -> &'static str {
        match self {
            Section::General => "General",
            Section::Views => "Views",
            Section::Map => "Map (occupancy, generations)",
            Section::Run => "Run",
            Section::Lesson => "Lesson (slotscope lesson NAME)",
            Section::Replay => "Replay (trace time)",
        }
    }
}

/// When the footer shows a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shown {
    /// On every screen.
    Always,
    /// On screens with a map (dashboard, occupancy, generations).
    WithMap,
    /// While the view is frozen.
    WhenFrozen,
    /// While a detail panel is open.
    WithDetail,
    /// Only in the help overlay.
    HelpOnly,
    /// While a lesson runs.
    InLesson,
}

/// One key binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Control {
    /// The keys as the help spells them.
    pub keys: &'static str,
    /// The same in ASCII (`--ascii`).
    pub keys_ascii: &'static str,
    /// What it does, in the help.
    pub action: &'static str,
    /// What it does, in one or two words for the footer.
    pub short: &'static str,
    /// The keys as the footer shows them (shorter).
    pub footer_keys: &'static str,
    /// Help section.
    pub section: Section,
    /// When the footer shows it.
    pub shown: Shown,
    /// Footer priority: lower survives a narrow terminal longer.
    pub priority: u8,
}

#[allow(clippy::too_many_arguments)]
const fn c(
    keys: &'static str,
    keys_ascii: &'static str,
    footer_keys: &'static str,
    action: &'static str,
    short: &'static str,
    section: Section,
    shown: Shown,
    priority: u8,
) -> Control {
    Control { keys, keys_ascii, action, short, footer_keys, section, shown, priority }
}

/// Every key, in help order within each section.
pub const CONTROLS: &[Control] = &[
    c(
        "q  Ctrl-C",
        "q  Ctrl-C",
        "q",
        "quit, then print the summary",
        "quit",
        Section::General,
        Shown::Always,
        0,
    ),
    c("?  F1", "?  F1", "?", "this help", "help", Section::General, Shown::Always, 1),
    c(
        "c",
        "c",
        "c",
        "cycle colours: dark, light, colour-blind safe, mono",
        "colours",
        Section::General,
        Shown::Always,
        12,
    ),
    c("m", "m", "m", "mouse on/off", "mouse", Section::General, Shown::HelpOnly, 20),
    c("s", "s", "s", "save a snapshot (text + JSON)", "save", Section::General, Shown::Always, 13),
    c("Tab  S-Tab", "Tab  S-Tab", "Tab", "next / previous view", "views", Section::Views, Shown::Always, 3),
    c(
        "1-7",
        "1-7",
        "1-7",
        "go to a view by number (listed below)",
        "view",
        Section::Views,
        Shown::HelpOnly,
        20,
    ),
    c(
        "Enter",
        "Enter",
        "Enter",
        "explain the selected line (header line on view 5)",
        "explain",
        Section::Views,
        Shown::WithMap,
        8,
    ),
    c(
        "Esc",
        "Esc",
        "Esc",
        "back: close the detail or this help",
        "back",
        Section::Views,
        Shown::WithDetail,
        2,
    ),
    c(
        "←↓↑→  hjkl",
        "arrows  hjkl",
        "←↓↑→",
        "move the cursor (a line, or a cell zoomed out)",
        "move",
        Section::Map,
        Shown::WithMap,
        7,
    ),
    c(
        "+  -",
        "+  -",
        "+/-",
        "zoom in / out: slots, then 1, 2, 4 ... lines a cell",
        "zoom",
        Section::Map,
        Shown::WithMap,
        6,
    ),
    c(
        "PgUp  PgDn",
        "PgUp  PgDn",
        "PgUp",
        "a screen up / down (Home, End: first, last line)",
        "page",
        Section::Map,
        Shown::HelpOnly,
        20,
    ),
    c("=", "=", "=", "fit the whole table", "fit", Section::Map, Shown::WithMap, 10),
    // `i`, not `n`: in a lesson `n` and `p` step the narration, and a key should mean
    // the same thing everywhere.
    c("i", "i", "i", "show where the next ids will land", "next ids", Section::Map, Shown::WithMap, 9),
    c(
        "Space",
        "Space",
        "Space",
        "freeze the view (the workers run on)",
        "freeze",
        Section::Run,
        Shown::Always,
        4,
    ),
    c(
        ".  ,",
        ".  ,",
        "./,",
        "step forward / back a frame while frozen",
        "step",
        Section::Run,
        Shown::WhenFrozen,
        3,
    ),
    c("P", "P", "P", "pause / resume the workers", "pause", Section::Run, Shown::Always, 5),
    c("[  ]", "[  ]", "[/]", "remove / add a worker thread", "threads", Section::Run, Shown::Always, 11),
    // `L`, not `l`: `l` is the hjkl move right, and a stray `l` while moving must not
    // restart the table.
    c("L", "L", "L", "cycle the layout (restarts the table)", "layout", Section::Run, Shown::Always, 11),
    c(
        "n  p",
        "n  p",
        "n/p",
        "next / previous step (each may change the run)",
        "step",
        Section::Lesson,
        Shown::InLesson,
        0,
    ),
];

/// The keys of `slotscope replay`: the views' keys as live, less the ones that steer workers,
/// plus moving through the trace. `+`/`-` set the speed here, so zoom is on `z`/`Z`; Home and
/// End go to the trace's start and end.
pub const REPLAY_CONTROLS: &[Control] = &[
    c("q  Ctrl-C", "q  Ctrl-C", "q", "quit", "quit", Section::General, Shown::Always, 0),
    c("?  F1", "?  F1", "?", "this help", "help", Section::General, Shown::Always, 1),
    c(
        "c",
        "c",
        "c",
        "cycle colours: dark, light, colour-blind safe, mono",
        "colours",
        Section::General,
        Shown::HelpOnly,
        20,
    ),
    c("m", "m", "m", "mouse on/off", "mouse", Section::General, Shown::HelpOnly, 20),
    c("Tab  S-Tab", "Tab  S-Tab", "Tab", "next / previous view", "views", Section::Views, Shown::Always, 6),
    c(
        "1-7",
        "1-7",
        "1-7",
        "go to a view by number (listed below)",
        "view",
        Section::Views,
        Shown::HelpOnly,
        20,
    ),
    c(
        "Enter",
        "Enter",
        "Enter",
        "drill in: detail of the selected line",
        "detail",
        Section::Views,
        Shown::WithMap,
        11,
    ),
    c(
        "Esc",
        "Esc",
        "Esc",
        "back: close the detail, the prompt or this help",
        "back",
        Section::Views,
        Shown::WithDetail,
        2,
    ),
    c(
        "←↓↑→  hjkl",
        "arrows  hjkl",
        "←↓↑→",
        "move the cursor (a line, or a cell zoomed out)",
        "move",
        Section::Map,
        Shown::HelpOnly,
        20,
    ),
    c(
        "z  Z",
        "z  Z",
        "z/Z",
        "zoom in / out: slots, then 1, 2, 4 ... lines a cell",
        "zoom",
        Section::Map,
        Shown::WithMap,
        12,
    ),
    c("PgUp  PgDn", "PgUp  PgDn", "PgUp", "a screen up / down", "page", Section::Map, Shown::HelpOnly, 20),
    c("=", "=", "=", "fit the whole table", "fit", Section::Map, Shown::HelpOnly, 20),
    c("i", "i", "i", "show where the next ids will land", "next ids", Section::Map, Shown::HelpOnly, 20),
    c("s", "s", "s", "save a snapshot (text + JSON)", "save", Section::General, Shown::HelpOnly, 20),
    c("Space", "Space", "Space", "play / pause", "play", Section::Replay, Shown::Always, 3),
    c(".  ,", ".  ,", "./,", "one op forward / back (paused)", "step", Section::Replay, Shown::WhenFrozen, 4),
    c(
        ">  <",
        ">  <",
        "</>",
        "one frame of trace time forward / back",
        "frame",
        Section::Replay,
        Shown::Always,
        5,
    ),
    c("+  -", "+  -", "+/-", "faster / slower (1, 2, 5 steps)", "speed", Section::Replay, Shown::Always, 7),
    c("{  }", "{  }", "{/}", "shorter / longer frames", "frame len", Section::Replay, Shown::HelpOnly, 20),
    c(
        "g",
        "g",
        "g",
        "go to a time (12.5ms) or an event (#18342)",
        "go to",
        Section::Replay,
        Shown::Always,
        8,
    ),
    c(
        "Home  End",
        "Home  End",
        "Home",
        "the trace's start / end",
        "start/end",
        Section::Replay,
        Shown::HelpOnly,
        20,
    ),
    c(
        "r",
        "r",
        "r",
        "table: the model at the cursor / the recorded scan",
        "scan",
        Section::Replay,
        Shown::Always,
        9,
    ),
    c(
        "v",
        "v",
        "v",
        "go to the first violation (with --at-violation)",
        "violation",
        Section::Replay,
        Shown::HelpOnly,
        20,
    ),
];

impl Control {
    /// The keys in the glyph set's spelling.
    pub const fn keys_for(&self, ascii: bool) -> &'static str {
        if ascii {
            self.keys_ascii
        } else {
            self.keys
        }
    }

    /// The footer's spelling of the keys (arrows become `hjkl` in ASCII).
    pub fn footer_keys_for(&self, ascii: bool) -> &'static str {
        if ascii && !self.footer_keys.is_ascii() {
            "hjkl"
        } else {
            self.footer_keys
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_design_key_is_listed() {
        // The README's key list, each key as it appears in some binding; the layout key is `L`
        // because `l` is part of hjkl, the next-ids key `i` because `n`/`p` step lessons.
        let wanted = [
            "q", "Ctrl-C", "?", "F1", "Space", ".", ",", "P", "[", "]", "+", "-", "=", "hjkl", "Enter",
            "Esc", "L", "s", "m", "c", "Tab", "1-7", "i", "n", "p",
        ];
        for key in wanted {
            assert!(
                CONTROLS.iter().any(|c| c.keys.split_whitespace().any(|k| k == key)),
                "key {key} is missing from CONTROLS"
            );
        }
    }

    #[test]
    fn replay_keys_are_listed_and_do_not_clash() {
        let wanted = [
            "q", "?", "Space", ".", ",", ">", "<", "+", "-", "g", "Home", "End", "z", "Z", "r", "Tab", "1-7",
            "Enter", "Esc", "hjkl",
        ];
        for key in wanted {
            assert!(
                REPLAY_CONTROLS.iter().any(|c| c.keys.split_whitespace().any(|k| k == key)),
                "key {key} is missing from REPLAY_CONTROLS"
            );
        }
        let mut seen = std::collections::HashSet::new();
        for c in REPLAY_CONTROLS {
            for k in c.keys.split_whitespace() {
                assert!(seen.insert(k), "{k} is bound twice");
            }
        }
    }

    #[test]
    fn actions_fit_the_help_overlay() {
        for c in CONTROLS.iter().chain(REPLAY_CONTROLS) {
            assert!(c.action.chars().count() <= 52, "{:?} is too long for the help", c.action);
        }
    }

    #[test]
    fn ascii_spellings_are_ascii_and_sections_are_used() {
        for c in CONTROLS.iter().chain(REPLAY_CONTROLS) {
            assert!(c.keys_ascii.is_ascii(), "{c:?}");
        }
        for s in Section::ALL {
            assert!(CONTROLS.iter().chain(REPLAY_CONTROLS).any(|c| c.section == s), "{s:?} is empty");
        }
    }
}
