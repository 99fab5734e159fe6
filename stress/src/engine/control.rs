//! What the engine and the sampler share with each worker, and how commands reach it.
//!
//! Each worker has one `ThreadShared`. The control plane (UI, timeline) changes the worker's
//! `WorkerSettings` under a mutex and bumps the inbox generation; the worker looks at the
//! generation once per batch (one relaxed load of a line nobody writes meanwhile) and, when it
//! moved, copies the settings with `try_lock` (if the lock is busy it looks again next batch:
//! a worker never waits for the control plane). Pauses park the thread; the engine unparks it.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use crate::sync::lock;
use std::thread::Thread;

use crossbeam_utils::CachePadded;
use serde::Serialize;

use crate::engine::check::{Violation, ViolationLog, VIOLATION_DETAILS_PER_THREAD};
use crate::engine::mix::KeyPicker;
use crate::engine::stats::{HeatCounters, LatencySet, SharedCounts};
use crate::scenario::spec::{Hiccup, Mix, RemoveOrder};

/// Where a worker is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[repr(u8)]
pub enum ThreadState {
    /// Spawned, not yet inserting.
    Starting = 0,
    /// Inserting its share of the prefill.
    Prefilling = 1,
    /// Running ops.
    Running = 2,
    /// Paused by the control plane.
    Paused = 3,
    /// Did its `StopSpec::Ops` count and exited.
    Finished = 4,
    /// Stopped by the control plane (run end, thread removed, restart).
    Stopped = 5,
    /// Panicked (recorded as a violation) and exited.
    Panicked = 6,
}

impl ThreadState {
    fn from_u8(v: u8) -> ThreadState {
        match v {
            0 => ThreadState::Starting,
            1 => ThreadState::Prefilling,
            2 => ThreadState::Running,
            3 => ThreadState::Paused,
            4 => ThreadState::Finished,
            5 => ThreadState::Stopped,
            _ => ThreadState::Panicked,
        }
    }

    /// The name the UI shows.
    pub const fn name(self) -> &'static str {
        match self {
            ThreadState::Starting => "starting",
            ThreadState::Prefilling => "prefilling",
            ThreadState::Running => "running",
            ThreadState::Paused => "paused",
            ThreadState::Finished => "finished",
            ThreadState::Stopped => "stopped",
            ThreadState::Panicked => "panicked",
        }
    }

    /// Whether the thread has exited.
    pub const fn is_over(self) -> bool {
        matches!(self, ThreadState::Finished | ThreadState::Stopped | ThreadState::Panicked)
    }
}

/// What a worker should be doing; changed by the control plane, copied by the worker.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct WorkerSettings {
    /// Operation weights.
    pub mix: Mix,
    /// How lookups pick held keys.
    pub keys: KeyPicker,
    /// Share of lookups aimed at own removed keys.
    pub stale_share: f64,
    /// Open loop at this many ops/s; `None` = closed loop.
    pub rate: Option<f64>,
    /// The core to run on (`None`: unpinned; a worker cannot unpin once pinned, it stays).
    pub core: Option<usize>,
    /// Hold still (no ops, no epoch pin) until resumed.
    pub paused: bool,
    /// Exit at the next batch boundary.
    pub stop: bool,
    /// Bumped to make the worker zero its statistics.
    pub reset_epoch: u64,
    /// Which held key a remove takes.
    pub remove_order: RemoveOrder,
    /// A periodic stall inside a timed op (lessons on coordinated omission); `None`: none.
    pub hiccup: Option<Hiccup>,
    /// Hold at most this many keys: an insert beyond it first removes the oldest.
    pub keep: Option<usize>,
}

/// The lines the control plane and the sampler write and the worker reads once per batch.
#[derive(Debug, Default)]
pub(crate) struct Inbox {
    /// Bumped after every settings change.
    pub(crate) generation: AtomicU64,
    /// The sampler wants the worker's latest histograms deposited.
    pub(crate) flush_wanted: AtomicBool,
    /// A sampler is attached: keep a pending copy of histograms for it.
    pub(crate) sampler_attached: AtomicBool,
}

/// Histograms a worker deposited for the sampler.
#[derive(Debug)]
pub(crate) struct LatencyDeposit {
    /// Everything deposited since the sampler last took it.
    pub(crate) latency: LatencySet,
    /// The sampler took (and emptied) it: the next deposit may swap instead of add.
    pub(crate) taken: bool,
    /// The worker's reset epoch when it last deposited.
    pub(crate) reset_epoch: u64,
}

/// Sentinel of "no core" in [`ThreadShared`]'s core cell.
const NO_CORE: usize = usize::MAX;

/// Everything one worker shares. Built by the engine before the worker starts.
#[derive(Debug)]
pub(crate) struct ThreadShared {
    /// Global thread index.
    pub index: usize,
    /// Index of the thread's group in the spec.
    pub group: usize,
    /// The group's name.
    pub group_name: String,
    /// Published counters.
    pub counts: SharedCounts,
    /// Per-line write heat (our table with probes on).
    pub heat: Option<std::sync::Arc<HeatCounters>>,
    pub(crate) inbox: CachePadded<Inbox>,
    pub(crate) settings: Mutex<WorkerSettings>,
    pub(crate) deposit: Mutex<LatencyDeposit>,
    /// Violations described so far (published by the worker at batch ends).
    pub(crate) violations: Mutex<Vec<Violation>>,
    state: AtomicU8,
    core: AtomicUsize,
    pinned: AtomicBool,
    thread: OnceLock<Thread>,
}

impl ThreadShared {
    pub(crate) fn new(
        index: usize,
        group: usize,
        group_name: String,
        settings: WorkerSettings,
        heat: Option<std::sync::Arc<HeatCounters>>,
    ) -> Self {
        ThreadShared {
            index,
            group,
            group_name,
            counts: SharedCounts::default(),
            heat,
            inbox: CachePadded::new(Inbox::default()),
            settings: Mutex::new(settings),
            deposit: Mutex::new(LatencyDeposit { latency: LatencySet::new(), taken: true, reset_epoch: 0 }),
            violations: Mutex::new(Vec::with_capacity(VIOLATION_DETAILS_PER_THREAD)),
            state: AtomicU8::new(ThreadState::Starting as u8),
            core: AtomicUsize::new(NO_CORE),
            pinned: AtomicBool::new(false),
            thread: OnceLock::new(),
        }
    }

    /// Where the worker is in its life.
    pub fn state(&self) -> ThreadState {
        ThreadState::from_u8(self.state.load(Ordering::Relaxed))
    }

    pub(crate) fn set_state(&self, s: ThreadState) {
        self.state.store(s as u8, Ordering::Relaxed);
    }

    /// The core the worker is pinned to, if it is.
    pub fn core(&self) -> Option<usize> {
        self.pinned.load(Ordering::Relaxed).then(|| self.core.load(Ordering::Relaxed))
    }

    /// The core the worker was asked to run on (it may have failed to pin).
    pub fn wanted_core(&self) -> Option<usize> {
        let c = self.core.load(Ordering::Relaxed);
        (c != NO_CORE).then_some(c)
    }

    pub(crate) fn set_core(&self, core: Option<usize>, pinned: bool) {
        self.core.store(core.unwrap_or(NO_CORE), Ordering::Relaxed);
        self.pinned.store(pinned, Ordering::Relaxed);
    }

    pub(crate) fn register_thread(&self) {
        let _ = self.thread.set(std::thread::current());
    }

    /// Changes the worker's settings and tells it so (wakes it if paused).
    pub(crate) fn update(&self, change: impl FnOnce(&mut WorkerSettings)) {
        change(&mut lock(&self.settings));
        // Release: pairs with the worker's Acquire load, so that a worker that sees the new
        // generation and then fails to lock still finds the change on its next look.
        self.inbox.generation.fetch_add(1, Ordering::Release);
        if let Some(t) = self.thread.get() {
            t.unpark();
        }
    }

    /// A copy of the current settings.
    pub fn settings(&self) -> WorkerSettings {
        lock(&self.settings).clone()
    }
}

/// Wakes whoever waits for workers to exit.
#[derive(Debug, Default)]
pub(crate) struct ExitSignal {
    exits: Mutex<u64>,
    changed: Condvar,
}

impl ExitSignal {
    pub(crate) fn notify(&self) {
        *lock(&self.exits) += 1;
        self.changed.notify_all();
    }

    pub(crate) fn wait(&self, timeout: Duration) {
        let guard = lock(&self.exits);
        let seen = *guard;
        let _ = self.changed.wait_timeout_while(guard, timeout, |n| *n == seen);
    }
}

/// Holds the initial workers after their prefill until the engine starts the clock.
#[derive(Debug)]
pub(crate) struct StartGate {
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Debug)]
struct GateState {
    arrived: usize,
    start_ns: Option<u64>,
}

impl StartGate {
    pub(crate) fn new() -> Self {
        StartGate { state: Mutex::new(GateState { arrived: 0, start_ns: None }), changed: Condvar::new() }
    }

    /// A worker is ready (or failed and will not come): counted, and returns at once.
    pub(crate) fn arrive(&self) {
        lock(&self.state).arrived += 1;
        self.changed.notify_all();
    }

    /// Waits until the engine opens the gate; the run clock's start.
    pub(crate) fn wait_open(&self) -> u64 {
        let mut s = lock(&self.state);
        loop {
            if let Some(t) = s.start_ns {
                return t;
            }
            s = self.changed.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Waits until `n` workers arrived.
    pub(crate) fn wait_arrived(&self, n: usize) {
        let mut s = lock(&self.state);
        while s.arrived < n {
            s = self.changed.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Lets everyone go, with the clock starting at `start_ns`.
    pub(crate) fn open(&self, start_ns: u64) {
        lock(&self.state).start_ns = Some(start_ns);
        self.changed.notify_all();
    }
}

/// A violation log for a worker, with room for [`VIOLATION_DETAILS_PER_THREAD`] descriptions.
pub(crate) fn worker_violation_log() -> ViolationLog {
    ViolationLog::new(VIOLATION_DETAILS_PER_THREAD)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn settings() -> WorkerSettings {
        WorkerSettings {
            mix: Mix::READ_HEAVY,
            keys: KeyPicker::Uniform,
            stale_share: 0.0,
            rate: None,
            core: None,
            paused: false,
            stop: false,
            reset_epoch: 0,
            remove_order: RemoveOrder::Random,
            hiccup: None,
            keep: None,
        }
    }

    #[test]
    fn update_bumps_the_generation() {
        let t = ThreadShared::new(0, 0, "g".into(), settings(), None);
        let g0 = t.inbox.generation.load(Ordering::Relaxed);
        t.update(|s| s.paused = true);
        assert_eq!(t.inbox.generation.load(Ordering::Relaxed), g0 + 1);
        assert!(t.settings().paused);
    }

    #[test]
    fn states_round_trip() {
        let t = ThreadShared::new(0, 0, "g".into(), settings(), None);
        for s in [ThreadState::Prefilling, ThreadState::Paused, ThreadState::Panicked] {
            t.set_state(s);
            assert_eq!(t.state(), s);
        }
        assert!(ThreadState::Finished.is_over() && !ThreadState::Running.is_over());
        t.set_core(Some(3), false);
        assert_eq!((t.core(), t.wanted_core()), (None, Some(3)));
        t.set_core(Some(3), true);
        assert_eq!(t.core(), Some(3));
    }

    #[test]
    fn gate_waits_for_arrivals_and_hands_out_the_start() {
        let gate = Arc::new(StartGate::new());
        let workers: Vec<_> = (0..3)
            .map(|_| {
                let g = Arc::clone(&gate);
                std::thread::spawn(move || {
                    g.arrive();
                    g.wait_open()
                })
            })
            .collect();
        gate.wait_arrived(3);
        gate.open(42);
        for w in workers {
            assert_eq!(w.join().unwrap(), 42);
        }
    }
}
