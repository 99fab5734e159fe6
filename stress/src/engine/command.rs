//! What the engine is told (a live [`Command`], [`EngineOptions`]) and how it answers when it
//! cannot obey ([`EngineError`]). Below the control plane: the run, the timeline and the API
//! all speak it.

use std::time::Duration;

use crate::backend::BackendError;
use crate::engine::calibration::Calibration;
use crate::machine::pin::PinError;
use crate::scenario::spec::{Hiccup, KeyChoice, Mix, PinPolicy, RemoveOrder, TableSpec};

/// Why the engine could not start or obey.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum EngineError {
    /// The backend could not be built.
    #[error("{0}")]
    Backend(#[from] BackendError),
    /// A group's pin policy cannot be met.
    #[error("group `{group}`: {error}")]
    Pin {
        /// The group.
        group: String,
        /// Why.
        error: PinError,
    },
    /// No group by that name.
    #[error("no thread group named `{name}` (groups: {})", .known.join(", "))]
    UnknownGroup {
        /// The name given.
        name: String,
        /// The groups there are.
        known: Vec<String>,
    },
    /// No live thread with that index.
    #[error("no running thread with index {0}")]
    UnknownThread(usize),
    /// The group has no thread left to remove.
    #[error("group `{0}` has no thread left to remove")]
    NoThreadToRemove(String),
    /// An open-loop rate must be finite and above zero.
    #[error("rate {0} ops/s is not a positive number")]
    BadRate(f64),
    /// The run has no thread at all.
    #[error("the run has no threads: give some group at least one")]
    NoThreads,
    /// A headless run must end by itself (`StopSpec::Forever` never does).
    #[error("a headless run needs an end: a duration or an op count, not `forever`")]
    NeverEnds,
    /// Restarting needs a backend the engine built itself (not one passed to `start_with`).
    #[error("this engine was given its backend ready-made, so it cannot build another")]
    RestartUnsupported,
    /// A thread could not be spawned.
    #[error("could not start a worker thread: {0}")]
    Spawn(String),
    /// The trace file could not be created.
    #[error("could not start recording: {0}")]
    Record(String),
}

/// A live command, as the UI sends them (each also has its own method on [`crate::Engine`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Add a thread to a group.
    AddThread {
        /// The group.
        group: String,
    },
    /// Remove a group's most recently added thread.
    RemoveThread {
        /// The group.
        group: String,
    },
    /// Pin a thread to a core (`None`: leave it where it is; a pinned thread stays pinned).
    Repin {
        /// Global thread index.
        thread: usize,
        /// The core.
        core: Option<usize>,
    },
    /// Re-place a group's threads with another pin policy.
    SetPin {
        /// The group.
        group: String,
        /// The policy.
        pin: PinPolicy,
    },
    /// Change a group's mix.
    SetMix {
        /// The group.
        group: String,
        /// The mix.
        mix: Mix,
    },
    /// Change a group's rate (`None`: closed loop).
    SetRate {
        /// The group.
        group: String,
        /// Ops/s per thread.
        rate: Option<f64>,
    },
    /// Change how a group's lookups choose keys, and their stale share.
    SetKeys {
        /// The group.
        group: String,
        /// The key choice.
        keys: KeyChoice,
        /// Share of lookups aimed at own removed keys.
        stale_share: f64,
    },
    /// Pause every worker.
    Pause,
    /// Resume every worker.
    Resume,
    /// Zero every counter and histogram (violations are kept).
    ResetStats,
    /// Replace the table with a new one (same load, same threads, fresh prefill).
    Restart {
        /// The new table.
        table: TableSpec,
    },
    /// Set a group's thread count (adding threads, or removing the newest ones).
    SetThreads {
        /// The group.
        group: String,
        /// Threads wanted.
        threads: usize,
    },
    /// Change which held key a group's removes take.
    SetRemoveOrder {
        /// The group.
        group: String,
        /// The order.
        order: RemoveOrder,
    },
    /// Start or stop a periodic stall inside a group's timed ops (see [`Hiccup`]).
    SetHiccup {
        /// The group.
        group: String,
        /// The stall; `None` stops it.
        hiccup: Option<Hiccup>,
    },
    /// Let each thread of a group hold at most `keep` keys (`None`: no limit): an insert beyond
    /// it first removes the thread's oldest key, as part of the insert. Keys then live about
    /// equally long and ids come back to the free ring in the order they went out.
    SetKeep {
        /// The group.
        group: String,
        /// The most keys a thread holds.
        keep: Option<usize>,
    },
    /// Start a reader that holds its epoch pin for at most this long (replacing any that
    /// holds one), or (`None`) release the one that holds it. It holds its pin on a thread of its own.
    HoldPin {
        /// How long at most; `None` releases.
        hold: Option<Duration>,
    },
}

/// How the engine is built, beyond the run it runs.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct EngineOptions {
    /// Count the elements retired and freed by our table ([`crate::backend::gauge`]): values grow from
    /// 16 to 24 bytes and every free is counted, so it is off unless a lesson needs it.
    pub garbage_gauge: bool,
    /// No viewer: the workers keep their contention counts but not the per-line write heat
    /// that only the views draw (a store per line write, and a per-thread array of a counter
    /// per line, saved). Headless runs set it.
    pub headless: bool,
    /// A calibration already made for this run (the CLI makes it before its banner, so that
    /// the banner can print the time sampling it chose); `None`: the engine makes one.
    pub calibration: Option<Calibration>,
    /// Start without calibrating (the calibration's own scratch runs): no overhead figure,
    /// and automatic timing falls back to [`crate::engine::calibration::FALLBACK_TIME_EVERY`].
    pub skip_calibration: bool,
}
