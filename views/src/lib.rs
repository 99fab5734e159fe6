//! slotscope-views: the ratatui widgets of slotscope (DESIGN §6).
//!
//! Widgets are pure functions of plain data: the app fills the input types of [`model`] from
//! the engine's samples, keeps the UI state of [`state`], picks a [`Theme`], and draws a
//! [`Dashboard`] (or any single widget) into a frame. Nothing here reads a clock, an atomic, a
//! thread or a channel, so every screen is tested cell by cell and as whole-screen snapshots.

mod chrome;
mod contention;
pub mod controls;
mod dashboard;
pub mod demo;
mod free_list;
mod generations;
mod latency;
mod line_detail;
mod mapgrid;
pub mod model;
mod occupancy;
mod panel;
mod plot;
pub mod state;
pub mod theme;
mod threads;
pub mod units;

pub use chrome::{ControlsFooter, HeaderBar, HelpOverlay, TooSmall};
pub use contention::ContentionView;
pub use dashboard::{Dashboard, Panel, Regions, MIN_HEIGHT, MIN_WIDTH};
pub use free_list::FreeList;
pub use generations::{GenerationHistogram, GenerationMap, GenerationStats};
pub use latency::LatencyView;
pub use line_detail::LineDetail;
pub use mapgrid::{MapGrid, Move};
pub use model::{
    CoreDomain, HeaderInfo, Inputs, LatencyStats, LineActivity, LineHeat, LineWrites, Op, OpLatency,
    Percentiles, Series, SpectrumPoint, ThreadRow, ThreadTable, Timeline, Topology,
};
pub use occupancy::OccupancyMap;
pub use state::{MapState, Screen, ViewState, Zoom};
pub use theme::{Glyphs, Palette, Theme};
pub use threads::ThreadsView;
