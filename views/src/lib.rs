//! slotscope-views: the ratatui widgets of slotscope.
//!
//! Widgets are pure functions of plain data. The app (`src/`) keeps, and refills once per
//! sample, the owned input types of [`model`]; keeps the UI state of [`state`] in its model
//! (changed only by `update`); picks a [`Theme`]; and draws:
//!
//! ```
//! use ratatui::{backend::TestBackend, Terminal};
//! use slotscope_views::demo::{Demo, DemoSpec};
//! use slotscope_views::{Dashboard, Theme, ViewState};
//!
//! let demo = Demo::build(&DemoSpec::default()); // the app fills these from its samples
//! let (state, theme) = (ViewState::default(), Theme::default());
//! let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
//! terminal.draw(|f| f.render_widget(&Dashboard::new(demo.inputs(), &state, &theme), f.area())).unwrap();
//! ```
//!
//! Nothing here reads a clock, an atomic, a thread, a channel or the environment, so every
//! screen is tested cell by cell and as whole-screen snapshots.
//!
//! # Inputs ([`model`])
//! - [`HeaderInfo`]: scenario, phase, elapsed, ops/s, fill, backend, geometry, variant (a
//!   broken one is labelled loudly), sampler cost, frozen/paused, violations.
//! - [`slotscope_table::Snapshot`]: the table (our backend only; `None` elsewhere).
//! - [`LineHeat`]: per slot line and per ring line, writes and distinct writers in the last
//!   interval ([`LineWrites`]), header-line writes and writers, interval length.
//! - [`LineActivity`]: who wrote the selected line, CAS failures (for the detail panel).
//! - [`ThreadTable`]: group names and one [`ThreadRow`] per worker.
//! - [`LatencyStats`]: per [`Op`], [`Percentiles`] for the interval and the run, corrected and
//!   uncorrected, and a spectrum of [`SpectrumPoint`]s; timing mode.
//! - [`Timeline`]: bounded [`Series`] of ops/s, ticket skips/s, ring retries/s, header
//!   writes/s and p99 per operation.
//! - [`Topology`]: cache domains ([`CoreDomain`]) and the UI core.
//!
//! All of them are borrowed together as [`Inputs`].
//!
//! # Widgets
//! [`Dashboard`] composes everything (header, body, footer, help, too-small). Each view is
//! also a widget of its own: [`OccupancyMap`], [`LineDetail`], [`GenerationMap`],
//! [`GenerationHistogram`], [`FreeList`], [`ContentionView`], [`LatencyView`],
//! [`ThreadsView`], [`HeaderBar`], [`ControlsFooter`], [`HelpOverlay`], [`TooSmall`]; for
//! workshops [`NarrationPanel`], [`ExplainPanel`], [`SplitView`] and [`FiguresPanel`]
//! (presenter mode).
//! [`MapGrid`] tells the app how the map is laid out (to step the zoom and move the cursor).
//!
//! # Replays
//! `slotscope replay` draws the same screens from a trace: [`Dashboard::replay`] adds a REPLAY
//! badge, the [`ReplayBar`] (timeline, cursor, speed, the op at the cursor; inputs in
//! [`ReplayInfo`]) and the replay's keys ([`controls::REPLAY_CONTROLS`]).
// A library prints nothing: it returns what the caller shows.
#![cfg_attr(not(test), deny(clippy::print_stdout, clippy::print_stderr))]

mod charts;
mod chrome;
mod contention;
pub mod controls;
mod dashboard;
#[cfg(any(test, feature = "demo"))]
pub mod demo;
mod explain;
mod free_list;
mod generations;
mod latency;
mod line_detail;
mod mapgrid;
pub mod model;
mod narration;
mod occupancy;
mod panel;
mod plot;
mod presenter;
pub mod replay;
mod split;
pub mod state;
pub mod terms;
pub mod theme;
mod threads;
pub mod units;

pub use charts::ChartsView;
pub use chrome::{ControlsFooter, HeaderBar, HelpOverlay, Status, TabBar, TooSmall};
pub use contention::{hottest_lines, ContentionView};
pub use dashboard::{Dashboard, Panel, Regions, MIN_HEIGHT, MIN_WIDTH};
pub use explain::ExplainPanel;
pub use free_list::FreeList;
pub use generations::{GenerationHistogram, GenerationMap, GenerationStats};
pub use latency::LatencyView;
pub use line_detail::LineDetail;
pub use mapgrid::{MapGrid, Move};
pub use model::{
    expected_transfers, ChartPoint, CoreDomain, Delta, Explanation, Figure, GroupLatency, HeaderInfo,
    History, Inputs, LatencyStats, LineActivity, LineHeat, LineWrites, Narration, Op, OpLatency, Percentiles,
    Series, ShareScale, SpectrumPoint, ThreadRow, ThreadTable, Timeline, Topology, Verdict,
};
pub use narration::NarrationPanel;
pub use occupancy::{even_sharing, OccupancyMap, TOP_SHARED};
pub use presenter::{presenter_regions, FiguresPanel, PresenterRegions};
pub use replay::{Mark, MarkKind, ReplayBar, ReplayInfo, TableSource};
pub use split::{SplitRegions, SplitSide, SplitView};
pub use state::{MapState, Screen, ViewState, Zoom};
pub use theme::{Glyphs, Palette, Theme};
pub use threads::ThreadsView;
