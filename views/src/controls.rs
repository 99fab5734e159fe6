//! The keys of the TUI as data: the footer and the help overlay draw from this one list, so
//! they cannot disagree, and both TUIs dispatch through it ([`action_of`]).

use ratatui::crossterm::event::KeyCode;

use crate::mapgrid::Move;
use crate::state::Screen;

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
    /// While the run goes on (keys that steer the workers: nothing to steer once it ended).
    WhileRunning,
    /// Once the run has ended.
    WhenEnded,
    /// Where `+`/`-` zoom: on screens with a map, and on the charts (their time window).
    Zoomable,
    /// On the contention view (its threads table and hottest lines).
    OnContention,
}

/// What a key does. Both TUIs dispatch on this, found with [`action_of`] in their table
/// ([`CONTROLS`], [`REPLAY_CONTROLS`]): a key exists in one place, and the help, the footer and
/// the README's key tables list the same keys (a test holds the README to it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Quit.
    Quit,
    /// Open the help.
    Help,
    /// Cycle the colours.
    Colours,
    /// Mouse capture on or off.
    Mouse,
    /// Save the screen (text + JSON).
    Save,
    /// The next view.
    NextView,
    /// The previous view.
    PrevView,
    /// A view by its digit.
    View(Screen),
    /// The selected line's detail (explained, live).
    Detail,
    /// Close the detail, or go back to the dashboard.
    Back,
    /// Move the map's cursor.
    Move(Move),
    /// Zoom the map in.
    ZoomIn,
    /// Zoom the map out.
    ZoomOut,
    /// Fit the whole table.
    Fit,
    /// Show where the next ids land.
    NextIds,
    /// Live: the go-to prompt for a line, a slot or a key (`/`).
    Find,
    /// Freeze the view (live).
    Freeze,
    /// A frame (live, frozen) or an op (replay) forward.
    StepForward,
    /// A frame (live, frozen) or an op (replay) back.
    StepBack,
    /// Pause or resume the workers.
    Pause,
    /// Add a worker thread.
    AddThread,
    /// Remove a worker thread.
    RemoveThread,
    /// Restart the table with the next layout.
    CycleLayout,
    /// Restart the table with the other allocator (ring, magazines).
    CycleAllocator,
    /// Once the run has ended: run the same command again.
    RunAgain,
    /// The lesson's next step.
    NextStep,
    /// The lesson's previous step.
    PrevStep,
    /// Sort the threads table by the next column.
    SortNext,
    /// Sort the threads table by the previous column.
    SortPrev,
    /// Replay: play or pause.
    PlayPause,
    /// Replay: one frame of trace time forward.
    FrameForward,
    /// Replay: one frame of trace time back.
    FrameBack,
    /// Replay: faster.
    Faster,
    /// Replay: slower.
    Slower,
    /// Replay: longer frames.
    LongerFrames,
    /// Replay: shorter frames.
    ShorterFrames,
    /// Replay: the go-to prompt.
    GoTo,
    /// Replay: the trace's start.
    Start,
    /// Replay: the trace's end.
    End,
    /// Replay: the table from the model or from the recorded scan.
    TableSource,
    /// Replay: the first violation.
    Violation,
}

/// The digits that select views.
const DIGITS: &[(KeyCode, Action)] = &[
    (KeyCode::Char('1'), Action::View(Screen::Dashboard)),
    (KeyCode::Char('2'), Action::View(Screen::Occupancy)),
    (KeyCode::Char('3'), Action::View(Screen::Generations)),
    (KeyCode::Char('4'), Action::View(Screen::FreeList)),
    (KeyCode::Char('5'), Action::View(Screen::Contention)),
    (KeyCode::Char('6'), Action::View(Screen::Latency)),
    (KeyCode::Char('7'), Action::View(Screen::Threads)),
    (KeyCode::Char('8'), Action::View(Screen::Charts)),
];

/// Arrows and `hjkl`.
const MOVES: &[(KeyCode, Action)] = &[
    (KeyCode::Left, Action::Move(Move::Left)),
    (KeyCode::Down, Action::Move(Move::Down)),
    (KeyCode::Up, Action::Move(Move::Up)),
    (KeyCode::Right, Action::Move(Move::Right)),
    (KeyCode::Char('h'), Action::Move(Move::Left)),
    (KeyCode::Char('j'), Action::Move(Move::Down)),
    (KeyCode::Char('k'), Action::Move(Move::Up)),
    (KeyCode::Char('l'), Action::Move(Move::Right)),
];

/// Pages, and the first and last line (live; the replay's Home and End move in time).
const PAGES: &[(KeyCode, Action)] = &[
    (KeyCode::PageUp, Action::Move(Move::PageUp)),
    (KeyCode::PageDown, Action::Move(Move::PageDown)),
    (KeyCode::Home, Action::Move(Move::Home)),
    (KeyCode::End, Action::Move(Move::End)),
];

/// One row of the key tables: keys and what they do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Control {
    /// The keys and their actions (Ctrl-C, which always quits, is not in any table).
    pub binds: &'static [(KeyCode, Action)],
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
    binds: &'static [(KeyCode, Action)],
    keys: &'static str,
    keys_ascii: &'static str,
    footer_keys: &'static str,
    action: &'static str,
    short: &'static str,
    section: Section,
    shown: Shown,
    priority: u8,
) -> Control {
    Control { binds, keys, keys_ascii, action, short, footer_keys, section, shown, priority }
}

/// Every key, in help order within each section.
pub const CONTROLS: &[Control] = &[
    c(
        &[(KeyCode::Char('q'), Action::Quit)],
        "q  Ctrl-C",
        "q  Ctrl-C",
        "q",
        "quit, then print the summary",
        "quit",
        Section::General,
        Shown::Always,
        0,
    ),
    c(
        &[(KeyCode::Char('?'), Action::Help), (KeyCode::F(1), Action::Help)],
        "?  F1",
        "?  F1",
        "?",
        "this help",
        "help",
        Section::General,
        Shown::Always,
        1,
    ),
    c(
        &[(KeyCode::Char('c'), Action::Colours)],
        "c",
        "c",
        "c",
        "cycle colours: dark, light, colour-blind safe, mono",
        "colours",
        Section::General,
        Shown::Always,
        12,
    ),
    c(
        &[(KeyCode::Char('m'), Action::Mouse)],
        "m",
        "m",
        "m",
        "mouse on/off",
        "mouse",
        Section::General,
        Shown::HelpOnly,
        20,
    ),
    c(
        &[(KeyCode::Char('s'), Action::Save)],
        "s",
        "s",
        "s",
        "save a snapshot (text + JSON)",
        "save",
        Section::General,
        Shown::Always,
        13,
    ),
    c(
        &[(KeyCode::Tab, Action::NextView), (KeyCode::BackTab, Action::PrevView)],
        "Tab  S-Tab",
        "Tab  S-Tab",
        "Tab",
        "next / previous view",
        "views",
        Section::Views,
        Shown::Always,
        3,
    ),
    c(
        DIGITS,
        "1-8",
        "1-8",
        "1-8",
        "go to a view by number (listed below)",
        "view",
        Section::Views,
        Shown::HelpOnly,
        20,
    ),
    c(
        &[(KeyCode::Enter, Action::Detail)],
        "Enter",
        "Enter",
        "Enter",
        "explain the selected line; view 5: a hot line's map",
        "explain",
        Section::Views,
        Shown::WithMap,
        8,
    ),
    // As in htop; the replay keeps `<`/`>` for its frames.
    c(
        &[(KeyCode::Char('<'), Action::SortPrev), (KeyCode::Char('>'), Action::SortNext)],
        "<  >",
        "<  >",
        "</>",
        "sort the threads table by the previous / next column",
        "sort",
        Section::Views,
        Shown::OnContention,
        5,
    ),
    c(
        &[(KeyCode::Esc, Action::Back)],
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
        MOVES,
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
        &[(KeyCode::Char('+'), Action::ZoomIn), (KeyCode::Char('-'), Action::ZoomOut)],
        "+  -",
        "+  -",
        "+/-",
        "zoom: map slots, 1, 2, 4 ... lines; charts 30s..10m",
        "zoom",
        Section::Map,
        Shown::Zoomable,
        6,
    ),
    c(
        PAGES,
        "PgUp  PgDn",
        "PgUp  PgDn",
        "PgUp",
        "a screen up / down (Home, End: first, last line)",
        "page",
        Section::Map,
        Shown::HelpOnly,
        20,
    ),
    c(
        &[(KeyCode::Char('='), Action::Fit)],
        "=",
        "=",
        "=",
        "fit the whole table",
        "fit",
        Section::Map,
        Shown::WithMap,
        10,
    ),
    c(
        &[(KeyCode::Char('/'), Action::Find)],
        "/",
        "/",
        "/",
        "go to a line (L12), a slot (s300) or a key (300@7)",
        "go to",
        Section::Map,
        Shown::WithMap,
        9,
    ),
    // `i`, not `n`: in a lesson `n` and `p` step the narration, and a key should mean
    // the same thing everywhere.
    c(
        &[(KeyCode::Char('i'), Action::NextIds)],
        "i",
        "i",
        "i",
        "show where the next ids will land",
        "next ids",
        Section::Map,
        Shown::WithMap,
        9,
    ),
    c(
        &[(KeyCode::Char(' '), Action::Freeze)],
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
        &[(KeyCode::Char('.'), Action::StepForward), (KeyCode::Char(','), Action::StepBack)],
        ".  ,",
        ".  ,",
        "./,",
        "step forward / back a frame while frozen",
        "step",
        Section::Run,
        Shown::WhenFrozen,
        3,
    ),
    c(
        &[(KeyCode::Char('P'), Action::Pause)],
        "P",
        "P",
        "P",
        "pause / resume the workers",
        "pause",
        Section::Run,
        Shown::WhileRunning,
        5,
    ),
    c(
        &[(KeyCode::Char('['), Action::RemoveThread), (KeyCode::Char(']'), Action::AddThread)],
        "[  ]",
        "[  ]",
        "[/]",
        "remove / add a worker thread",
        "threads",
        Section::Run,
        Shown::WhileRunning,
        11,
    ),
    // `L`, not `l`: `l` is the hjkl move right, and a stray `l` while moving must not
    // restart the table.
    c(
        &[(KeyCode::Char('L'), Action::CycleLayout)],
        "L",
        "L",
        "L",
        "cycle the layout (restarts the table)",
        "layout",
        Section::Run,
        Shown::WhileRunning,
        11,
    ),
    // `A`, capital like `L`: it restarts the table.
    c(
        &[(KeyCode::Char('A'), Action::CycleAllocator)],
        "A",
        "A",
        "A",
        "switch the allocator: ring / magazines (restarts)",
        "allocator",
        Section::Run,
        Shown::WhileRunning,
        12,
    ),
    // With Ctrl, as in tokio-console's and bottom's habits; the app reads the modifier itself
    // (like Ctrl-C's), so the row binds no plain key.
    c(
        &[],
        "Ctrl-r",
        "Ctrl-r",
        "^r",
        "reset counters and latency (violations are kept)",
        "reset",
        Section::Run,
        Shown::HelpOnly,
        20,
    ),
    // `R`, capital: a stray `r` must not start a run over.
    c(
        &[(KeyCode::Char('R'), Action::RunAgain)],
        "R",
        "R",
        "R",
        "after the end: print the summary, run the same again",
        "run again",
        Section::Run,
        Shown::WhenEnded,
        2,
    ),
    c(
        &[(KeyCode::Char('n'), Action::NextStep), (KeyCode::Char('p'), Action::PrevStep)],
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
    c(
        &[(KeyCode::Char('q'), Action::Quit)],
        "q  Ctrl-C",
        "q  Ctrl-C",
        "q",
        "quit",
        "quit",
        Section::General,
        Shown::Always,
        0,
    ),
    c(
        &[(KeyCode::Char('?'), Action::Help), (KeyCode::F(1), Action::Help)],
        "?  F1",
        "?  F1",
        "?",
        "this help",
        "help",
        Section::General,
        Shown::Always,
        1,
    ),
    c(
        &[(KeyCode::Char('c'), Action::Colours)],
        "c",
        "c",
        "c",
        "cycle colours: dark, light, colour-blind safe, mono",
        "colours",
        Section::General,
        Shown::HelpOnly,
        20,
    ),
    c(
        &[(KeyCode::Char('m'), Action::Mouse)],
        "m",
        "m",
        "m",
        "mouse on/off",
        "mouse",
        Section::General,
        Shown::HelpOnly,
        20,
    ),
    c(
        &[(KeyCode::Tab, Action::NextView), (KeyCode::BackTab, Action::PrevView)],
        "Tab  S-Tab",
        "Tab  S-Tab",
        "Tab",
        "next / previous view",
        "views",
        Section::Views,
        Shown::Always,
        6,
    ),
    c(
        DIGITS,
        "1-8",
        "1-8",
        "1-8",
        "go to a view by number (listed below)",
        "view",
        Section::Views,
        Shown::HelpOnly,
        20,
    ),
    c(
        &[(KeyCode::Enter, Action::Detail)],
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
        &[(KeyCode::Esc, Action::Back)],
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
        MOVES,
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
        &[(KeyCode::Char('z'), Action::ZoomIn), (KeyCode::Char('Z'), Action::ZoomOut)],
        "z  Z",
        "z  Z",
        "z/Z",
        "zoom in / out: slots, then 1, 2, 4 ... lines a cell",
        "zoom",
        Section::Map,
        Shown::WithMap,
        12,
    ),
    c(
        &[(KeyCode::PageUp, Action::Move(Move::PageUp)), (KeyCode::PageDown, Action::Move(Move::PageDown))],
        "PgUp  PgDn",
        "PgUp  PgDn",
        "PgUp",
        "a screen up / down",
        "page",
        Section::Map,
        Shown::HelpOnly,
        20,
    ),
    c(
        &[(KeyCode::Char('='), Action::Fit)],
        "=",
        "=",
        "=",
        "fit the whole table",
        "fit",
        Section::Map,
        Shown::HelpOnly,
        20,
    ),
    c(
        &[(KeyCode::Char('i'), Action::NextIds)],
        "i",
        "i",
        "i",
        "show where the next ids will land",
        "next ids",
        Section::Map,
        Shown::HelpOnly,
        20,
    ),
    c(
        &[(KeyCode::Char('s'), Action::Save)],
        "s",
        "s",
        "s",
        "save a snapshot (text + JSON)",
        "save",
        Section::General,
        Shown::HelpOnly,
        20,
    ),
    c(
        &[(KeyCode::Char(' '), Action::PlayPause)],
        "Space",
        "Space",
        "Space",
        "play / pause",
        "play",
        Section::Replay,
        Shown::Always,
        3,
    ),
    c(
        &[(KeyCode::Char('.'), Action::StepForward), (KeyCode::Char(','), Action::StepBack)],
        ".  ,",
        ".  ,",
        "./,",
        "one op forward / back (paused)",
        "step",
        Section::Replay,
        Shown::WhenFrozen,
        4,
    ),
    c(
        &[(KeyCode::Char('>'), Action::FrameForward), (KeyCode::Char('<'), Action::FrameBack)],
        ">  <",
        ">  <",
        "</>",
        "one frame of trace time forward / back",
        "frame",
        Section::Replay,
        Shown::Always,
        5,
    ),
    c(
        &[(KeyCode::Char('+'), Action::Faster), (KeyCode::Char('-'), Action::Slower)],
        "+  -",
        "+  -",
        "+/-",
        "faster / slower (1, 2, 5 steps)",
        "speed",
        Section::Replay,
        Shown::Always,
        7,
    ),
    c(
        &[(KeyCode::Char('{'), Action::ShorterFrames), (KeyCode::Char('}'), Action::LongerFrames)],
        "{  }",
        "{  }",
        "{/}",
        "shorter / longer frames",
        "frame len",
        Section::Replay,
        Shown::HelpOnly,
        20,
    ),
    c(
        &[(KeyCode::Char('g'), Action::GoTo)],
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
        &[(KeyCode::Home, Action::Start), (KeyCode::End, Action::End)],
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
        &[(KeyCode::Char('r'), Action::TableSource)],
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
        &[(KeyCode::Char('v'), Action::Violation)],
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

/// What `code` does in `table`, if anything.
pub fn action_of(table: &[Control], code: KeyCode) -> Option<Action> {
    table.iter().flat_map(|c| c.binds).find(|(k, _)| *k == code).map(|&(_, a)| a)
}

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
            "Esc", "L", "s", "m", "c", "Tab", "1-8", "i", "n", "p",
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
            "q", "?", "Space", ".", ",", ">", "<", "+", "-", "g", "Home", "End", "z", "Z", "r", "Tab", "1-8",
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
    fn no_key_does_two_things_and_every_row_binds_a_key() {
        for table in [CONTROLS, REPLAY_CONTROLS] {
            let mut seen = std::collections::HashSet::new();
            for c in table {
                assert!(!c.binds.is_empty() || c.keys.starts_with("Ctrl-"), "{:?} binds nothing", c.keys);
                for (k, _) in c.binds {
                    assert!(seen.insert(*k), "{k:?} is bound twice");
                }
            }
        }
        assert_eq!(action_of(CONTROLS, KeyCode::Char('L')), Some(Action::CycleLayout));
        assert_eq!(action_of(REPLAY_CONTROLS, KeyCode::Char('+')), Some(Action::Faster));
        assert_eq!(action_of(REPLAY_CONTROLS, KeyCode::Char('L')), None);
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
