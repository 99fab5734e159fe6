//! UI state the app keeps in its model and changes in `update` (keys): which screen, the map's
//! zoom and cursor, toggles. Drawing only reads it; nothing here is touched by a widget.

use std::time::Duration;

/// A full-screen view, or the dashboard that composes several.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Screen {
    /// Occupancy map large, with free list, contention and latency panels.
    #[default]
    Dashboard,
    /// Occupancy by cache line.
    Occupancy,
    /// Reuse count per slot.
    Generations,
    /// The free-id ring.
    FreeList,
    /// Per-thread counters and hot lines.
    Contention,
    /// Latency percentiles.
    Latency,
    /// Threads and cores.
    Threads,
    /// Throughput and latency over time, and the percentile spectrum, as charts.
    Charts,
}

impl Screen {
    /// Every screen, in `Tab` order; the digit key of a screen is its position + 1.
    pub const ALL: [Screen; 8] = [
        Screen::Dashboard,
        Screen::Occupancy,
        Screen::Generations,
        Screen::FreeList,
        Screen::Contention,
        Screen::Latency,
        Screen::Threads,
        Screen::Charts,
    ];

    /// The name in tabs and help.
    pub const fn name(self) -> &'static str {
        match self {
            Screen::Dashboard => "Dashboard",
            Screen::Occupancy => "Occupancy",
            Screen::Generations => "Generations",
            Screen::FreeList => "Free list",
            Screen::Contention => "Contention",
            Screen::Latency => "Latency",
            Screen::Threads => "Threads",
            Screen::Charts => "Charts",
        }
    }

    /// The name in files (a lesson step's `view = "free-list"`).
    pub const fn key(self) -> &'static str {
        match self {
            Screen::Dashboard => "dashboard",
            Screen::Occupancy => "occupancy",
            Screen::Generations => "generations",
            Screen::FreeList => "free-list",
            Screen::Contention => "contention",
            Screen::Latency => "latency",
            Screen::Threads => "threads",
            Screen::Charts => "charts",
        }
    }

    /// Parses a name of [`Screen::key`].
    pub fn from_key(key: &str) -> Option<Screen> {
        Screen::ALL.into_iter().find(|s| s.key() == key)
    }

    /// The digit key that selects it (`1` ..= `8`).
    pub const fn digit(self) -> char {
        match self {
            Screen::Dashboard => '1',
            Screen::Occupancy => '2',
            Screen::Generations => '3',
            Screen::FreeList => '4',
            Screen::Contention => '5',
            Screen::Latency => '6',
            Screen::Threads => '7',
            Screen::Charts => '8',
        }
    }

    /// The screen of digit key `c`, if any.
    pub fn from_digit(c: char) -> Option<Screen> {
        Screen::ALL.into_iter().find(|s| s.digit() == c)
    }

    /// The next screen (`Tab`), wrapping.
    #[must_use]
    pub fn next(self) -> Screen {
        let i = Screen::ALL.iter().position(|&s| s == self).unwrap_or(0);
        Screen::ALL[(i + 1) % Screen::ALL.len()]
    }

    /// The previous screen (`Shift-Tab`), wrapping.
    #[must_use]
    pub fn prev(self) -> Screen {
        let i = Screen::ALL.iter().position(|&s| s == self).unwrap_or(0);
        Screen::ALL[(i + Screen::ALL.len() - 1) % Screen::ALL.len()]
    }

    /// Whether this screen needs our table's snapshot.
    pub const fn needs_snapshot(self) -> bool {
        matches!(self, Screen::Occupancy | Screen::Generations | Screen::FreeList)
    }
}

/// How much of the table one map cell shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Zoom {
    /// The smallest level that shows the whole table in the space there is (`=`).
    #[default]
    Fit,
    /// One cell per slot: each line drawn as its S slots.
    Slots,
    /// One cell per `2^log2` lines, aggregated by max (a single hot line survives, an occupied
    /// slot wins over a free one).
    Lines {
        /// log2 of lines per cell, 0 ..= [`MAX_ZOOM_LOG2`].
        log2: u8,
    },
}

/// The coarsest zoom: 2^24 lines per cell (far beyond any table: 2^27 slots are 2^24 lines).
pub const MAX_ZOOM_LOG2: u8 = 24;

impl Zoom {
    /// Lines aggregated per cell, or `None` at slot level. `Fit` must be resolved first
    /// (see `MapGrid`); it reads as `None` here.
    pub const fn lines_per_cell(self) -> Option<u64> {
        match self {
            Zoom::Lines { log2 } => Some(1u64 << log2),
            Zoom::Fit | Zoom::Slots => None,
        }
    }

    /// One step closer (`+`): fewer lines per cell, then slots. `current` is the level on
    /// screen (what `Fit` resolved to), so zooming from `Fit` continues from what is seen.
    #[must_use]
    pub fn zoom_in(current: Zoom) -> Zoom {
        match current {
            Zoom::Lines { log2: 0 } | Zoom::Slots | Zoom::Fit => Zoom::Slots,
            Zoom::Lines { log2 } => Zoom::Lines { log2: log2 - 1 },
        }
    }

    /// One step out (`-`): more lines per cell.
    #[must_use]
    pub fn zoom_out(current: Zoom) -> Zoom {
        match current {
            Zoom::Slots | Zoom::Fit => Zoom::Lines { log2: 0 },
            Zoom::Lines { log2 } => Zoom::Lines { log2: (log2 + 1).min(MAX_ZOOM_LOG2) },
        }
    }
}

/// The map's zoom and cursor (shared by the occupancy and generations views).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MapState {
    /// Zoom level.
    pub zoom: Zoom,
    /// The selected slot-array line (clamped to the table when drawn).
    pub cursor_line: usize,
}

/// How many upcoming ids the next-ids toggle shows by default.
pub const DEFAULT_NEXT_IDS: usize = 8;
/// The most upcoming ids any view shows (the first nine are numbered on the map).
pub const MAX_NEXT_IDS: usize = 64;

/// All UI state a frame needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ViewState {
    /// What fills the body.
    pub screen: Screen,
    /// Map zoom and cursor.
    pub map: MapState,
    /// Mark where the next ids will land (`n`).
    pub show_next_ids: bool,
    /// How many next ids to mark and list, 1 ..= [`MAX_NEXT_IDS`].
    pub next_ids: usize,
    /// The selected line's detail panel is open (Enter; Esc closes).
    pub detail_open: bool,
    /// The help overlay is open (`?`, F1).
    pub help_open: bool,
    /// Rows the help is scrolled by (on terminals too short for all of it).
    pub help_scroll: u16,
    /// The charts' time window, an index into [`CHART_WINDOWS`] (`+`/`-` on view 8).
    pub chart_window: usize,
    /// The column the threads table is sorted by, an index into [`SORT_KEYS`] (`<`/`>`).
    pub sort: usize,
    /// The hottest line selected on the contention view, by rank (`j`/`k`); `None`: the
    /// header line, which Enter explains.
    pub hot_selected: Option<usize>,
}

/// The columns the threads table sorts by (`<`/`>`, as in htop): the first is the threads' own
/// order, the others sort largest first (ties in thread order).
pub const SORT_KEYS: [&str; 11] =
    ["thread", "ops/s", "lookups", "inserts", "removes", "hit%", "skips", "retries", "full", "stale", "viol"];

/// Hottest lines the contention view ranks (and `j`/`k` select from).
pub const HOT_LINES: usize = 32;

/// The charts' time windows, narrowest first (`+` narrows, `-` widens).
pub const CHART_WINDOWS: [Duration; 5] = [
    Duration::from_secs(30),
    Duration::from_secs(60),
    Duration::from_secs(120),
    Duration::from_secs(300),
    Duration::from_secs(600),
];

/// The charts' window at start: one minute.
pub const DEFAULT_CHART_WINDOW: usize = 1;

impl ViewState {
    /// The column the threads table is sorted by.
    pub fn sort_key(&self) -> &'static str {
        SORT_KEYS[self.sort % SORT_KEYS.len()]
    }

    /// The charts' time window.
    pub fn chart_window(&self) -> Duration {
        CHART_WINDOWS[self.chart_window.min(CHART_WINDOWS.len() - 1)]
    }
}

impl Default for ViewState {
    fn default() -> Self {
        ViewState {
            screen: Screen::Dashboard,
            map: MapState::default(),
            show_next_ids: false,
            next_ids: DEFAULT_NEXT_IDS,
            detail_open: false,
            help_open: false,
            help_scroll: 0,
            chart_window: DEFAULT_CHART_WINDOW,
            sort: 0,
            hot_selected: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screens_cycle_and_have_digits() {
        assert_eq!(Screen::Charts.next(), Screen::Dashboard);
        assert_eq!(Screen::Dashboard.prev(), Screen::Charts);
        for s in Screen::ALL {
            assert_eq!(Screen::from_digit(s.digit()), Some(s));
            assert_eq!(s.next().prev(), s);
        }
        assert_eq!(Screen::from_digit('9'), None);
    }

    #[test]
    fn zoom_steps() {
        assert_eq!(Zoom::zoom_in(Zoom::Lines { log2: 3 }), Zoom::Lines { log2: 2 });
        assert_eq!(Zoom::zoom_in(Zoom::Lines { log2: 0 }), Zoom::Slots);
        assert_eq!(Zoom::zoom_in(Zoom::Slots), Zoom::Slots);
        assert_eq!(Zoom::zoom_out(Zoom::Slots), Zoom::Lines { log2: 0 });
        assert_eq!(Zoom::zoom_out(Zoom::Lines { log2: MAX_ZOOM_LOG2 }), Zoom::Lines { log2: MAX_ZOOM_LOG2 });
        assert_eq!(Zoom::Lines { log2: 5 }.lines_per_cell(), Some(32));
        assert_eq!(Zoom::Slots.lines_per_cell(), None);
    }
}
