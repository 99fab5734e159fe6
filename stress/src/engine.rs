//! The engine: builds the table, spawns pinned workers, runs the timeline, takes live commands,
//! and joins everything into a [`Report`].
//!
//! ```text
//!  Engine::start(spec) ──> backend built ──> workers spawned ──> each prefills its share
//!        │                                                      │ (start gate)
//!        │            clock starts when all have prefilled <────┘
//!        ├── conductor thread: phases and ramps on the timeline, the duration's end
//!        ├── control (any thread, `&self`): add/remove threads, re-pin, mix, rate,
//!        │   pause/resume, reset stats, restart on another table
//!        ├── Sampler (the UI's thread): counters, histograms, heat, snapshots
//!        └── stop(): stop and join everyone, end-of-run checks ──> Report
//! ```
//!
//! Control takes effect at each worker's next batch boundary (a few µs in closed loop, at
//! most about 10 ms in open loop). The timeline (phases, the duration) runs on "active" time:
//! it stands still while the run is paused or a restarted table is being prefilled.

use std::collections::BTreeMap;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, Once};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use slotscope_table::{Geometry, Layout, NoProbe, Snapshot};

use crate::backend::{open_backend, Backend, BackendError, BackendVisitor};
use crate::check::{Balance, SnapshotCheck, ViolationLog, VIOLATION_DETAILS_IN_REPORT};
use crate::control::{lock, StartGate, ThreadShared, ThreadState, WorkerSettings};
use crate::event::NoEvents;
use crate::machine::MachineInfo;
use crate::mix::{ChoiceStream, KeyPicker, OpKind};
use crate::pin::{CorePlan, PinError};
use crate::report::{
    mix_array, BackendInfo, CheckReport, ControlEvent, DeterminismInfo, IntervalRecord, OpLatencyReport,
    OpReport, PrefillReport, Report, SegmentCheck, SeriesReport, SpecEcho, ThreadReport,
    REPORT_SCHEMA_VERSION,
};
use crate::rng::{thread_stream, DIGEST_NAME, RNG_NAME, RNG_VERSION};
use crate::spec::{
    BackendKind, GroupSpec, KeyChoice, Mix, PhaseSpec, PinPolicy, RunSpec, StopSpec, TableSpec,
};
use crate::stats::{Counts, HeatCounters, LatencySet, ThreadProbe};
use crate::timer::{measure_read_cost, Clock, TimingInfo};
use crate::topology::Topology;
use crate::worker::{Worker, WorkerCarry, WorkerOutcome, WorkerSetup};

/// Worker threads are named this plus their global index (`slotscope-w3`).
pub const WORKER_THREAD_PREFIX: &str = "slotscope-w";
/// Ramps move their values in steps this far apart.
pub const RAMP_STEP: Duration = Duration::from_millis(100);
/// The conductor looks at the timeline at least this often.
const CONDUCTOR_TICK: Duration = Duration::from_millis(100);
/// Clock reads used to measure the timer's cost at start.
const TIMER_COST_READS: u32 = 20_000;
/// Tables larger than this get no end-of-run snapshot check (a snapshot costs 17 bytes per
/// slot; 2^22 slots is 68 MiB).
pub const FINAL_SNAPSHOT_MAX_CAPACITY: usize = 1 << 22;

/// Why the engine could not start or obey.
#[derive(Clone, Debug, PartialEq)]
pub enum EngineError {
    /// The backend could not be built.
    Backend(BackendError),
    /// A group's pin policy cannot be met.
    Pin {
        /// The group.
        group: String,
        /// Why.
        error: PinError,
    },
    /// No group by that name.
    UnknownGroup {
        /// The name given.
        name: String,
        /// The groups there are.
        known: Vec<String>,
    },
    /// No live thread with that index.
    UnknownThread(usize),
    /// The group has no thread left to remove.
    NoThreadToRemove(String),
    /// An open-loop rate must be finite and above zero.
    BadRate(f64),
    /// The run has no thread at all.
    NoThreads,
    /// A headless run must end by itself (`StopSpec::Forever` never does).
    NeverEnds,
    /// Restarting needs a backend the engine built itself (not one passed to `start_with`).
    RestartUnsupported,
    /// A thread could not be spawned.
    Spawn(String),
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::Backend(e) => write!(f, "{e}"),
            EngineError::Pin { group, error } => write!(f, "group `{group}`: {error}"),
            EngineError::UnknownGroup { name, known } => {
                write!(f, "no thread group named `{name}` (groups: {})", known.join(", "))
            }
            EngineError::UnknownThread(i) => write!(f, "no running thread with index {i}"),
            EngineError::NoThreadToRemove(g) => write!(f, "group `{g}` has no thread left to remove"),
            EngineError::BadRate(r) => write!(f, "rate {r} ops/s is not a positive number"),
            EngineError::NoThreads => f.write_str("the run has no threads: give some group at least one"),
            EngineError::NeverEnds => {
                f.write_str("a headless run needs an end: a duration or an op count, not `forever`")
            }
            EngineError::RestartUnsupported => {
                f.write_str("this engine was given its backend ready-made, so it cannot build another")
            }
            EngineError::Spawn(e) => write!(f, "could not start a worker thread: {e}"),
        }
    }
}

impl std::error::Error for EngineError {}

impl From<BackendError> for EngineError {
    fn from(e: BackendError) -> Self {
        EngineError::Backend(e)
    }
}

/// A live command, as the UI sends them (each also has its own method on [`Engine`]).
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
}

/// Wakes whoever waits for workers to exit.
#[derive(Debug, Default)]
pub(crate) struct ExitSignal {
    exits: Mutex<u64>,
    changed: Condvar,
}

impl ExitSignal {
    fn notify(&self) {
        *lock(&self.exits) += 1;
        self.changed.notify_all();
    }

    fn wait(&self, timeout: Duration) {
        let guard = lock(&self.exits);
        let seen = *guard;
        let _ = self.changed.wait_timeout_while(guard, timeout, |n| *n == seen);
    }
}

/// What a worker needs, apart from the (generic) backend.
pub(crate) struct SpawnSetup {
    shared: Arc<ThreadShared>,
    clock: Clock,
    gate: Option<Arc<StartGate>>,
    run_start_ns: u64,
    stream: ChoiceStream,
    next_seq: u64,
    prefill: u64,
    budget: Option<usize>,
    stop_after: Option<u64>,
    time_every: u32,
    series_interval_ns: u64,
    expected_keys: usize,
    exits: Arc<ExitSignal>,
}

/// A backend behind a trait object, for everything but the hot loop (which `spawn`
/// monomorphises).
pub(crate) trait Hosted: Send + Sync {
    fn kind(&self) -> BackendKind;
    fn describe(&self) -> String;
    fn capacity(&self) -> Option<usize>;
    fn elements(&self) -> Option<usize>;
    fn geometry(&self) -> Option<Geometry>;
    fn snapshot_into(&self, snap: &mut Snapshot) -> bool;
    fn has_probes(&self) -> bool;
    fn spawn(&self, setup: SpawnSetup) -> std::io::Result<JoinHandle<WorkerOutcome>>;
}

struct HostedBackend<B> {
    backend: Arc<B>,
}

impl<B: Backend> Hosted for HostedBackend<B> {
    fn kind(&self) -> BackendKind {
        self.backend.kind()
    }
    fn describe(&self) -> String {
        self.backend.describe()
    }
    fn capacity(&self) -> Option<usize> {
        self.backend.capacity()
    }
    fn elements(&self) -> Option<usize> {
        self.backend.elements()
    }
    fn geometry(&self) -> Option<Geometry> {
        self.backend.geometry()
    }
    fn snapshot_into(&self, snap: &mut Snapshot) -> bool {
        self.backend.snapshot_into(snap)
    }
    fn has_probes(&self) -> bool {
        self.backend.has_probes()
    }

    fn spawn(&self, s: SpawnSetup) -> std::io::Result<JoinHandle<WorkerOutcome>> {
        let index = s.shared.index;
        let heat = s.shared.heat.clone();
        let exits = s.exits;
        let setup = WorkerSetup {
            backend: Arc::clone(&self.backend),
            shared: s.shared,
            clock: s.clock,
            gate: s.gate,
            run_start_ns: s.run_start_ns,
            stream: s.stream,
            next_seq: s.next_seq,
            prefill: s.prefill,
            budget: s.budget,
            stop_after: s.stop_after,
            time_every: s.time_every,
            series_interval_ns: s.series_interval_ns,
            expected_keys: s.expected_keys,
        };
        std::thread::Builder::new().name(format!("{WORKER_THREAD_PREFIX}{index}")).spawn(move || {
            let outcome = match heat {
                Some(heat) => run_worker(Worker::new(setup, ThreadProbe::new(heat), NoEvents)),
                None => run_worker(Worker::new(setup, NoProbe, NoEvents)),
            };
            exits.notify();
            outcome
        })
    }
}

std::thread_local! {
    /// Where the current worker thread panicked (set by the engine's panic hook).
    static PANIC_LOCATION: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Installs (once) a panic hook that keeps worker panics off the terminal (the engine records
/// them as violations, with the location this hook notes) and passes every other panic to the
/// hook that was there before. An app that sets its own hook should do so before starting the
/// engine.
fn install_worker_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let is_worker =
                std::thread::current().name().is_some_and(|n| n.starts_with(WORKER_THREAD_PREFIX));
            if is_worker {
                let at = info.location().map(|l| format!("{}:{}", l.file(), l.line()));
                PANIC_LOCATION.with(|p| *p.borrow_mut() = at);
            } else {
                previous(info);
            }
        }));
    });
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(ToString::to_string)
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with a non-text payload".to_owned());
    match PANIC_LOCATION.with(|p| p.borrow_mut().take()) {
        Some(at) => format!("{text} (at {at})"),
        None => text,
    }
}

fn run_worker<B: Backend, P: crate::stats::WorkerProbe, S: crate::event::OpSink>(
    mut worker: Worker<B, P, S>,
) -> WorkerOutcome {
    let result = catch_unwind(AssertUnwindSafe(|| worker.run()));
    worker.into_outcome(result.err().map(|p| panic_message(p.as_ref())))
}

/// Builds a hosted backend from a table spec (for start and restarts).
struct HostVisitor;

impl BackendVisitor for HostVisitor {
    type Output = Arc<dyn Hosted>;
    fn visit<B: Backend>(self, backend: B) -> Arc<dyn Hosted> {
        Arc::new(HostedBackend { backend: Arc::new(backend) })
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A group as it is now.
#[derive(Debug)]
struct GroupState {
    spec: GroupSpec,
    picker: KeyPicker,
    /// Global indices of its live (not retiring) threads, oldest first.
    members: Vec<usize>,
}

/// A worker of the current table.
struct LiveWorker {
    index: usize,
    shared: Arc<ThreadShared>,
    handle: Option<JoinHandle<WorkerOutcome>>,
    retiring: bool,
}

/// A thread's results, merged over table restarts.
struct ThreadResult {
    group: String,
    counts: Counts,
    latency: LatencySet,
    series: Vec<IntervalRecord>,
    series_dropped: u64,
    violations: ViolationLog,
    inserted: u64,
    removed: u64,
    prefilled: u64,
    held_at_end: usize,
    started_ns: u64,
    stopped_ns: u64,
    paused_ns: u64,
    core: Option<usize>,
    wanted_core: Option<usize>,
    state: ThreadState,
    carry: Option<WorkerCarry>,
}

/// Per-table totals, for the checks at quiescence.
#[derive(Default)]
struct SegmentTotals {
    inserted: u64,
    removed: u64,
    prefilled: u64,
    prefill_asked: u64,
}

/// A ramp in progress.
#[derive(Clone, Debug)]
struct Ramp {
    group: String,
    rate: Option<(f64, f64)>,
    threads: Option<(usize, usize)>,
    start_ns: u64,
    len_ns: u64,
}

/// Everything the control plane changes; one lock.
struct ControlState {
    table: TableSpec,
    hosted: Arc<dyn Hosted>,
    groups: Vec<GroupState>,
    live: Vec<LiveWorker>,
    results: BTreeMap<usize, ThreadResult>,
    next_index: usize,
    segment: SegmentTotals,
    segments: Vec<SegmentCheck>,
    end_violations: ViolationLog,
    backends: Vec<BackendInfo>,
    control_log: Vec<ControlEvent>,
    warnings: Vec<String>,
    streams_changed: bool,
    first_prefill: Option<PrefillReport>,
    reset_epoch: u64,
}

#[derive(Debug, Default)]
struct PauseClock {
    since: Option<u64>,
    total: u64,
}

/// What the engine, its conductor and its samplers share.
pub(crate) struct RunCore {
    pub(crate) spec: RunSpec,
    pub(crate) clock: Clock,
    pub(crate) machine: MachineInfo,
    pub(crate) timing: TimingInfo,
    plan: CorePlan,
    factory: bool,
    started_unix_ms: u64,
    start_ns: AtomicU64,
    pub(crate) hosted: Mutex<Arc<dyn Hosted>>,
    pub(crate) registry: Mutex<Vec<Arc<ThreadShared>>>,
    pub(crate) registry_generation: AtomicU64,
    pub(crate) reset_epoch: AtomicU64,
    paused: AtomicBool,
    pause: Mutex<PauseClock>,
    /// Phases applied so far.
    pub(crate) phases_applied: AtomicUsize,
    deadline_reached: AtomicBool,
    restarting: AtomicBool,
    exits: Arc<ExitSignal>,
    state: Mutex<ControlState>,
    conductor_stop: Mutex<bool>,
    conductor_wake: Condvar,
}

impl RunCore {
    pub(crate) fn start_ns(&self) -> u64 {
        self.start_ns.load(Ordering::Relaxed)
    }

    fn pause_total(&self, now: u64) -> u64 {
        let p = lock(&self.pause);
        p.total + p.since.map_or(0, |s| now.saturating_sub(s))
    }

    /// Active time since the clock started (pauses and restart prefills excluded).
    pub(crate) fn timeline_ns(&self) -> u64 {
        let now = self.clock.now_ns();
        now.saturating_sub(self.start_ns()).saturating_sub(self.pause_total(now))
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }

    fn log(&self, st: &mut ControlState, source: &str, what: String) {
        st.control_log.push(ControlEvent { at_ns: self.timeline_ns(), source: source.to_owned(), what });
    }

    fn group_index(&self, st: &ControlState, name: &str) -> Result<usize, EngineError> {
        st.groups.iter().position(|g| g.spec.name == name).ok_or_else(|| EngineError::UnknownGroup {
            name: name.to_owned(),
            known: st.groups.iter().map(|g| g.spec.name.clone()).collect(),
        })
    }

    fn capacity_for_keys(&self, hosted: &dyn Hosted) -> usize {
        hosted.capacity().unwrap_or(self.spec.table.capacity).max(1)
    }

    fn initial_threads(&self) -> usize {
        self.spec.initial_threads().max(1)
    }

    /// Spawns a worker for `group` with global `index`.
    fn spawn_worker(
        &self,
        st: &mut ControlState,
        group: usize,
        index: usize,
        prefill: u64,
        gate: Option<Arc<StartGate>>,
    ) -> Result<(), EngineError> {
        let hosted = Arc::clone(&st.hosted);
        let g = &st.groups[group];
        let in_group = g.members.len();
        let core = self
            .plan
            .core_for(&g.spec.pin, index, in_group)
            .map_err(|error| EngineError::Pin { group: g.spec.name.clone(), error })?;
        let settings = WorkerSettings {
            mix: g.spec.mix,
            keys: g.picker.clone(),
            stale_share: g.spec.stale_share,
            rate: g.spec.rate,
            core,
            paused: self.is_paused(),
            stop: false,
            reset_epoch: st.reset_epoch,
        };
        let heat = if self.spec.probes && hosted.has_probes() {
            hosted.geometry().map(|geo| Arc::new(HeatCounters::new(geo)))
        } else {
            None
        };
        let shared = Arc::new(ThreadShared::new(index, group, g.spec.name.clone(), settings, heat));
        let carry = st.results.get_mut(&index).and_then(|r| r.carry.take());
        let (stream, next_seq) = match carry {
            Some(c) => (c.stream, c.next_seq),
            None => {
                let rng = thread_stream(self.spec.seed, index);
                (ChoiceStream::new(rng, g.spec.mix, g.spec.stale_share, &g.picker), 0)
            }
        };
        let keys = self.capacity_for_keys(hosted.as_ref());
        let fair_share = keys / self.initial_threads();
        let setup = SpawnSetup {
            shared: Arc::clone(&shared),
            clock: self.clock,
            gate,
            run_start_ns: self.start_ns(),
            stream,
            next_seq,
            prefill,
            budget: hosted.capacity().is_none().then_some(fair_share.max(1)),
            stop_after: match self.spec.stop {
                StopSpec::Ops(n) => Some(n),
                StopSpec::Duration(_) | StopSpec::Forever => None,
            },
            time_every: self.spec.time_every,
            series_interval_ns: nanos(self.spec.series_interval).max(1),
            expected_keys: fair_share,
            exits: Arc::clone(&self.exits),
        };
        let handle = hosted.spawn(setup).map_err(|e| EngineError::Spawn(e.to_string()))?;
        st.groups[group].members.push(index);
        st.live.push(LiveWorker {
            index,
            shared: Arc::clone(&shared),
            handle: Some(handle),
            retiring: false,
        });
        lock(&self.registry).push(shared);
        self.registry_generation.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Merges a finished worker's outcome into the results.
    fn absorb(
        &self,
        st: &mut ControlState,
        shared: &ThreadShared,
        joined: std::thread::Result<WorkerOutcome>,
    ) {
        let outcome = match joined {
            Ok(o) => o,
            Err(payload) => {
                // The worker's own catch_unwind failed (a panic while building it): count it.
                let mut log = ViolationLog::new(1);
                let mut v = crate::check::Violation::at_end(
                    crate::check::ViolationKind::WorkerPanic,
                    panic_message(payload.as_ref()),
                );
                v.thread = Some(shared.index);
                log.record(v);
                st.end_violations.merge(&log);
                return;
            }
        };
        st.segment.inserted += outcome.inserted;
        st.segment.removed += outcome.removed;
        st.segment.prefilled += outcome.prefilled;
        let r = st.results.entry(outcome.index).or_insert_with(|| ThreadResult {
            group: shared.group_name.clone(),
            counts: Counts::ZERO,
            latency: LatencySet::new(),
            series: Vec::new(),
            series_dropped: 0,
            violations: ViolationLog::new(crate::check::VIOLATION_DETAILS_PER_THREAD),
            inserted: 0,
            removed: 0,
            prefilled: 0,
            held_at_end: 0,
            started_ns: outcome.started_ns,
            stopped_ns: 0,
            paused_ns: 0,
            core: None,
            wanted_core: None,
            state: ThreadState::Starting,
            carry: None,
        });
        r.counts.add(&outcome.counts);
        r.latency.add(&outcome.latency);
        r.series.extend(outcome.series);
        r.series_dropped += outcome.series_dropped;
        r.violations.merge(&outcome.violations);
        r.inserted += outcome.inserted;
        r.removed += outcome.removed;
        r.prefilled += outcome.prefilled;
        r.held_at_end = outcome.held_at_end;
        r.stopped_ns = outcome.stopped_ns;
        r.paused_ns += outcome.paused_ns;
        r.core = shared.core();
        r.wanted_core = shared.wanted_core();
        r.state = outcome.state;
        r.carry = Some(outcome.carry);
    }

    /// Joins retiring workers that have exited.
    fn reap(&self, st: &mut ControlState) {
        let mut i = 0;
        while i < st.live.len() {
            let w = &st.live[i];
            if w.retiring && w.shared.state().is_over() {
                let mut w = st.live.swap_remove(i);
                if let Some(h) = w.handle.take() {
                    let joined = h.join();
                    self.absorb(st, &w.shared, joined);
                }
            } else {
                i += 1;
            }
        }
    }

    /// Stops every worker of the current table and joins them.
    fn stop_all(&self, st: &mut ControlState) {
        for w in &st.live {
            w.shared.update(|s| s.stop = true);
        }
        for mut w in std::mem::take(&mut st.live) {
            if let Some(h) = w.handle.take() {
                let joined = h.join();
                self.absorb(st, &w.shared, joined);
            }
        }
        for g in &mut st.groups {
            g.members.clear();
        }
    }

    /// Checks the current table at quiescence (all its workers joined).
    fn close_segment(&self, st: &mut ControlState) {
        let hosted = Arc::clone(&st.hosted);
        let balance = Balance::new(st.segment.inserted, st.segment.removed, hosted.elements());
        let snapshot =
            hosted.geometry().filter(|g| g.capacity() <= FINAL_SNAPSHOT_MAX_CAPACITY).and_then(|g| {
                let mut snap = Snapshot::fresh(g);
                hosted.snapshot_into(&mut snap).then(|| SnapshotCheck::of(&snap))
            });
        if hosted.geometry().is_some_and(|g| g.capacity() > FINAL_SNAPSHOT_MAX_CAPACITY) {
            st.warnings.push(format!(
                "no end-of-run snapshot check: the table has more than {FINAL_SNAPSHOT_MAX_CAPACITY} slots"
            ));
        }
        for v in balance.violation().into_iter().chain(snapshot.as_ref().and_then(SnapshotCheck::violation)) {
            st.end_violations.record(v);
        }
        if st.first_prefill.is_none() {
            st.first_prefill =
                Some(PrefillReport { asked: st.segment.prefill_asked, inserted: st.segment.prefilled });
        }
        st.segments.push(SegmentCheck { backend: hosted.describe(), balance, snapshot });
        st.segment = SegmentTotals::default();
    }

    /// Spawns the initial (or restarted) workers, each with its prefill share, and waits until
    /// all have prefilled. Returns the clock reading after the prefill.
    fn populate(&self, st: &mut ControlState, threads: &[(usize, usize)]) -> Result<u64, EngineError> {
        let capacity = self.capacity_for_keys(st.hosted.as_ref());
        // Rounded; the prefill fraction is validated to 0.0 ..= 1.0.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
        let asked =
            ((self.spec.table.prefill.clamp(0.0, 1.0) * capacity as f64).round() as u64).min(capacity as u64);
        st.segment.prefill_asked = asked;
        let n = threads.len().max(1) as u64;
        let gate = Arc::new(StartGate::new());
        for (i, &(group, index)) in threads.iter().enumerate() {
            let share = asked / n + u64::from((i as u64) < asked % n);
            if let Err(e) = self.spawn_worker(st, group, index, share, Some(Arc::clone(&gate))) {
                // Release the ones already waiting, then stop them.
                gate.open(self.clock.now_ns());
                self.stop_all(st);
                return Err(e);
            }
        }
        gate.wait_arrived(threads.len());
        let now = self.clock.now_ns();
        if self.start_ns() == 0 {
            self.start_ns.store(now.max(1), Ordering::Relaxed);
        }
        gate.open(self.start_ns());
        Ok(now)
    }

    fn set_group_settings(&self, st: &ControlState, group: usize, change: impl Fn(&mut WorkerSettings)) {
        for w in st.live.iter().filter(|w| !w.retiring && w.shared.group == group) {
            w.shared.update(&change);
        }
    }

    fn apply(&self, command: Command, source: &str) -> Result<(), EngineError> {
        let mut st = lock(&self.state);
        self.reap(&mut st);
        match command {
            Command::AddThread { group } => {
                let g = self.group_index(&st, &group)?;
                self.add_threads(&mut st, g, 1)?;
                self.log(&mut st, source, format!("group {group}: add a thread"));
            }
            Command::RemoveThread { group } => {
                let g = self.group_index(&st, &group)?;
                if st.groups[g].members.is_empty() {
                    return Err(EngineError::NoThreadToRemove(group));
                }
                self.remove_threads(&mut st, g, 1);
                self.log(&mut st, source, format!("group {group}: remove a thread"));
            }
            Command::Repin { thread, core } => {
                let w = st
                    .live
                    .iter()
                    .find(|w| w.index == thread && !w.retiring)
                    .ok_or(EngineError::UnknownThread(thread))?;
                if let Some(c) = core {
                    self.plan
                        .check(&PinPolicy::Cores(vec![c]))
                        .map_err(|error| EngineError::Pin { group: w.shared.group_name.clone(), error })?;
                }
                w.shared.update(|s| s.core = core);
                let core_text = core.map_or_else(|| "none".to_owned(), |c| c.to_string());
                self.log(&mut st, source, format!("thread {thread}: pin to core {core_text}"));
            }
            Command::SetPin { group, pin } => {
                let g = self.group_index(&st, &group)?;
                self.plan.check(&pin).map_err(|error| EngineError::Pin { group: group.clone(), error })?;
                let members = st.groups[g].members.clone();
                for (in_group, &index) in members.iter().enumerate() {
                    let core = self.plan.core_for(&pin, index, in_group).ok().flatten();
                    if let Some(w) = st.live.iter().find(|w| w.index == index) {
                        w.shared.update(|s| s.core = core);
                    }
                }
                st.groups[g].spec.pin = pin.clone();
                self.log(&mut st, source, format!("group {group}: pin {}", crate::report::pin_text(&pin)));
            }
            Command::SetMix { group, mix } => {
                let g = self.group_index(&st, &group)?;
                if st.groups[g].spec.mix != mix {
                    st.streams_changed = true;
                }
                st.groups[g].spec.mix = mix;
                self.set_group_settings(&st, g, |s| s.mix = mix);
                let [l, i, r] = mix_array(mix);
                self.log(&mut st, source, format!("group {group}: mix {l}/{i}/{r}"));
            }
            Command::SetRate { group, rate } => {
                let g = self.group_index(&st, &group)?;
                if let Some(r) = rate.filter(|r| !(r.is_finite() && *r > 0.0)) {
                    return Err(EngineError::BadRate(r));
                }
                st.groups[g].spec.rate = rate;
                self.set_group_settings(&st, g, |s| s.rate = rate);
                let text = rate.map_or_else(|| "closed loop".to_owned(), |r| format!("{r} ops/s per thread"));
                self.log(&mut st, source, format!("group {group}: rate {text}"));
            }
            Command::SetKeys { group, keys, stale_share } => {
                let g = self.group_index(&st, &group)?;
                let ranks = self.capacity_for_keys(st.hosted.as_ref()) / self.initial_threads();
                let picker = KeyPicker::new(keys, ranks);
                if st.groups[g].spec.stale_share.to_bits() != stale_share.to_bits() {
                    st.streams_changed = true;
                }
                st.groups[g].spec.keys = keys;
                st.groups[g].spec.stale_share = stale_share;
                st.groups[g].picker = picker.clone();
                self.set_group_settings(&st, g, |s| {
                    s.keys = picker.clone();
                    s.stale_share = stale_share;
                });
                let text = crate::report::key_choice_text(keys);
                self.log(&mut st, source, format!("group {group}: keys {text}, stale share {stale_share}"));
            }
            Command::Pause => {
                if !self.paused.swap(true, Ordering::Relaxed) {
                    lock(&self.pause).since = Some(self.clock.now_ns());
                    for w in &st.live {
                        w.shared.update(|s| s.paused = true);
                    }
                    self.log(&mut st, source, "pause".to_owned());
                }
            }
            Command::Resume => {
                if self.paused.swap(false, Ordering::Relaxed) {
                    let now = self.clock.now_ns();
                    {
                        let mut p = lock(&self.pause);
                        if let Some(s) = p.since.take() {
                            p.total += now.saturating_sub(s);
                        }
                    }
                    for w in &st.live {
                        w.shared.update(|s| s.paused = false);
                    }
                    self.log(&mut st, source, "resume".to_owned());
                }
            }
            Command::ResetStats => {
                st.reset_epoch += 1;
                let epoch = st.reset_epoch;
                self.reset_epoch.store(epoch, Ordering::Relaxed);
                for w in &st.live {
                    w.shared.update(|s| s.reset_epoch = epoch);
                }
                self.log(&mut st, source, "reset statistics".to_owned());
            }
            Command::Restart { table } => self.restart(&mut st, table, source)?,
        }
        drop(st);
        self.conductor_wake.notify_all();
        Ok(())
    }

    fn add_threads(&self, st: &mut ControlState, group: usize, n: usize) -> Result<(), EngineError> {
        for _ in 0..n {
            let index = st.next_index;
            self.spawn_worker(st, group, index, 0, None)?;
            st.next_index += 1;
        }
        Ok(())
    }

    fn remove_threads(&self, st: &mut ControlState, group: usize, n: usize) {
        for _ in 0..n {
            let Some(index) = st.groups[group].members.pop() else { return };
            if let Some(w) = st.live.iter_mut().find(|w| w.index == index) {
                w.retiring = true;
                w.shared.update(|s| s.stop = true);
            }
        }
    }

    fn set_threads(&self, st: &mut ControlState, group: usize, target: usize) -> Result<(), EngineError> {
        let have = st.groups[group].members.len();
        if target > have {
            self.add_threads(st, group, target - have)?;
        } else {
            self.remove_threads(st, group, have - target);
        }
        Ok(())
    }

    fn restart(&self, st: &mut ControlState, table: TableSpec, source: &str) -> Result<(), EngineError> {
        if !self.factory {
            return Err(EngineError::RestartUnsupported);
        }
        let hosted = open_backend(&table, HostVisitor)?;
        self.restarting.store(true, Ordering::Relaxed);
        let done = self.replace_table(st, table, &hosted);
        self.restarting.store(false, Ordering::Relaxed);
        let what = done?;
        self.log(st, source, what);
        Ok(())
    }

    fn replace_table(
        &self,
        st: &mut ControlState,
        table: TableSpec,
        hosted: &Arc<dyn Hosted>,
    ) -> Result<String, EngineError> {
        let from_pause = self.clock.now_ns();
        // Who runs now, to run again on the new table with the same indices.
        let threads: Vec<(usize, usize)> = st
            .groups
            .iter()
            .enumerate()
            .flat_map(|(g, gs)| gs.members.iter().map(move |&i| (g, i)))
            .collect();
        self.stop_all(st);
        self.close_segment(st);
        lock(&self.registry).clear();
        self.registry_generation.fetch_add(1, Ordering::Relaxed);
        st.hosted = Arc::clone(hosted);
        *lock(&self.hosted) = Arc::clone(hosted);
        st.backends.push(BackendInfo {
            name: hosted.kind().name(),
            description: hosted.describe(),
            capacity: hosted.capacity(),
            broken: table.variant.is_broken() && hosted.kind() == BackendKind::Slotscope,
            from_ns: self.timeline_ns(),
        });
        let what = format!("restart on {}", hosted.describe());
        st.table = table;
        let done = self.populate(st, &threads);
        // The restart's prefill does not count as run time.
        let now = self.clock.now_ns();
        lock(&self.pause).total += now.saturating_sub(from_pause);
        done?;
        Ok(what)
    }

    /// Applies phase `i` of the spec at timeline time `t`; ramps go to `ramps`.
    fn apply_phase(&self, i: usize, phase: &PhaseSpec, t: u64, ramps: &mut Vec<Ramp>) {
        let source = format!("phase {i}");
        if let Some(mix) = phase.mix {
            let _ = self.apply(Command::SetMix { group: phase.group.clone(), mix }, &source);
        }
        let ramp_len = phase.ramp.map_or(0, nanos);
        let (old_rate, old_threads) = {
            let st = lock(&self.state);
            match self.group_index(&st, &phase.group) {
                Ok(g) => (st.groups[g].spec.rate, st.groups[g].members.len()),
                Err(_) => (None, 0),
            }
        };
        let mut ramp =
            Ramp { group: phase.group.clone(), rate: None, threads: None, start_ns: t, len_ns: ramp_len };
        if let Some(rate) = phase.rate {
            match (old_rate, rate) {
                (Some(from), Some(to)) if ramp_len > 0 => ramp.rate = Some((from, to)),
                _ => {
                    let _ = self.apply(Command::SetRate { group: phase.group.clone(), rate }, &source);
                }
            }
        }
        if let Some(threads) = phase.threads {
            if ramp_len > 0 {
                ramp.threads = Some((old_threads, threads));
            } else {
                let mut st = lock(&self.state);
                if let Ok(g) = self.group_index(&st, &phase.group) {
                    let _ = self.set_threads(&mut st, g, threads);
                    self.log(&mut st, &source, format!("group {}: {threads} threads", phase.group));
                }
            }
        }
        if ramp.rate.is_some() || ramp.threads.is_some() {
            let mut st = lock(&self.state);
            self.log(
                &mut st,
                &source,
                format!("group {}: ramp over {} ms", phase.group, ramp_len / 1_000_000),
            );
            ramps.push(ramp);
        }
        self.phases_applied.fetch_max(i + 1, Ordering::Relaxed);
    }

    /// Moves a ramp to time `t`; false once it has reached its end.
    fn step_ramp(&self, ramp: &Ramp, t: u64) -> bool {
        #[allow(clippy::cast_precision_loss)]
        let frac = ((t.saturating_sub(ramp.start_ns)) as f64 / ramp.len_ns.max(1) as f64).min(1.0);
        let mut st = lock(&self.state);
        let Ok(g) = self.group_index(&st, &ramp.group) else { return false };
        if let Some((from, to)) = ramp.rate {
            let rate = from + (to - from) * frac;
            st.groups[g].spec.rate = Some(rate);
            self.set_group_settings(&st, g, |s| s.rate = Some(rate));
        }
        if let Some((from, to)) = ramp.threads {
            #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let n = (from as f64 + (to as f64 - from as f64) * frac).round() as usize;
            let _ = self.set_threads(&mut st, g, n);
        }
        frac < 1.0
    }

    /// The duration is over: stop every worker (joined later by `Engine::stop`).
    fn reach_deadline(&self) {
        let st = lock(&self.state);
        for w in &st.live {
            w.shared.update(|s| s.stop = true);
        }
        drop(st);
        self.deadline_reached.store(true, Ordering::Relaxed);
        self.exits.notify();
    }

    /// Whether the run reached its end: the deadline passed, or every thread of the current
    /// table has exited (did its op count, was removed, or panicked). Never locks the control
    /// state, so a sampler can ask while a restart is prefilling.
    pub(crate) fn is_done(&self) -> bool {
        if self.deadline_reached.load(Ordering::Relaxed) {
            return true;
        }
        if self.restarting.load(Ordering::Relaxed) {
            return false;
        }
        let registry = lock(&self.registry);
        !registry.is_empty() && registry.iter().all(|t| t.state().is_over())
    }

    fn conductor_should_stop(&self, wait: Duration) -> bool {
        let stop = lock(&self.conductor_stop);
        if *stop {
            return true;
        }
        let (stop, _) =
            self.conductor_wake.wait_timeout(stop, wait).unwrap_or_else(std::sync::PoisonError::into_inner);
        *stop
    }
}

/// Runs the timeline: phases at their times, ramps, the end of a timed run.
fn conduct(core: &RunCore) {
    let phases = core.spec.phases.clone();
    let mut next = 0;
    let mut ramps: Vec<Ramp> = Vec::new();
    let deadline = match core.spec.stop {
        StopSpec::Duration(d) => Some(nanos(d)),
        StopSpec::Ops(_) | StopSpec::Forever => None,
    };
    let mut wait = Duration::ZERO;
    while !core.conductor_should_stop(wait) {
        let t = core.timeline_ns();
        while next < phases.len() && nanos(phases[next].at) <= t {
            core.apply_phase(next, &phases[next], t, &mut ramps);
            next += 1;
        }
        ramps.retain(|r| core.step_ramp(r, t));
        if deadline.is_some_and(|d| t >= d) {
            core.reach_deadline();
            return;
        }
        let mut wake = u64::MAX;
        if let Some(p) = phases.get(next) {
            wake = wake.min(nanos(p.at));
        }
        if !ramps.is_empty() {
            wake = wake.min(t + nanos(RAMP_STEP));
        }
        if let Some(d) = deadline {
            wake = wake.min(d);
        }
        wait = Duration::from_nanos(wake.saturating_sub(t)).min(CONDUCTOR_TICK);
    }
}

/// A running (or finished) stress run. Control methods take `&self` and may be called from any
/// thread; [`Engine::stop`] joins everything and returns the [`Report`]. Dropping an engine
/// without `stop` stops and joins its threads and discards the results.
pub struct Engine {
    core: Arc<RunCore>,
    conductor: Option<JoinHandle<()>>,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine").field("spec", &self.core.spec.name).finish_non_exhaustive()
    }
}

impl Engine {
    /// Builds the table `spec` describes, spawns and pins the workers, waits for the prefill,
    /// starts the clock and the timeline.
    ///
    /// # Errors
    /// [`EngineError`] for a backend that cannot be built, a pin policy that cannot be met, a
    /// run without threads, or a thread that cannot be spawned.
    pub fn start(spec: RunSpec) -> Result<Engine, EngineError> {
        let hosted = open_backend(&spec.table, HostVisitor)?;
        Engine::start_hosted(spec, hosted, true)
    }

    /// [`Engine::start`] with a ready-made backend (any [`Backend`], e.g. a test double).
    /// `spec.table` is then only used for the capacity and prefill; restarts are not possible.
    ///
    /// # Errors
    /// As [`Engine::start`].
    pub fn start_with<B: Backend>(spec: RunSpec, backend: B) -> Result<Engine, EngineError> {
        Engine::start_hosted(spec, Arc::new(HostedBackend { backend: Arc::new(backend) }), false)
    }

    fn start_hosted(spec: RunSpec, hosted: Arc<dyn Hosted>, factory: bool) -> Result<Engine, EngineError> {
        install_worker_panic_hook();
        if spec.initial_threads() == 0 && spec.phases.iter().all(|p| p.threads.unwrap_or(0) == 0) {
            return Err(EngineError::NoThreads);
        }
        let machine = MachineInfo::detect();
        let topology = Topology::detect(&machine.available_cores);
        let plan = CorePlan::new(&topology, spec.spare_core);
        for g in &spec.groups {
            plan.check(&g.pin).map_err(|error| EngineError::Pin { group: g.name.clone(), error })?;
        }
        let clock = Clock::new();
        let timing = TimingInfo {
            source: clock.source(),
            ns_per_read: measure_read_cost(&clock, TIMER_COST_READS),
            time_every: spec.time_every.max(1),
            open_loop_times_every_op: true,
            note: "latency of a timed op = clock read after it - clock read before it (includes one \
                   clock read's cost)",
        };
        let started_unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0));
        let keys_per_thread =
            hosted.capacity().unwrap_or(spec.table.capacity).max(1) / spec.initial_threads().max(1);
        let groups: Vec<GroupState> = spec
            .groups
            .iter()
            .map(|g| GroupState {
                spec: g.clone(),
                picker: KeyPicker::new(g.keys, keys_per_thread),
                members: Vec::new(),
            })
            .collect();

        let mut warnings = Vec::new();
        let pinned_threads: usize =
            spec.groups.iter().filter(|g| g.pin != PinPolicy::None).map(|g| g.threads).sum();
        if pinned_threads > plan.worker_cores() {
            warnings.push(format!(
                "{pinned_threads} pinned threads on {} cores: some cores run more than one worker",
                plan.worker_cores()
            ));
        }
        if spec.table.variant.is_broken() && spec.table.backend == BackendKind::Slotscope {
            warnings.push(format!(
                "BROKEN table variant `{}`: {}",
                spec.table.variant,
                spec.table.variant.description()
            ));
        }
        let backends = vec![BackendInfo {
            name: hosted.kind().name(),
            description: hosted.describe(),
            capacity: hosted.capacity(),
            broken: spec.table.variant.is_broken() && hosted.kind() == BackendKind::Slotscope,
            from_ns: 0,
        }];
        let state = ControlState {
            table: spec.table.clone(),
            hosted: Arc::clone(&hosted),
            groups,
            live: Vec::new(),
            results: BTreeMap::new(),
            next_index: 0,
            segment: SegmentTotals::default(),
            segments: Vec::new(),
            end_violations: ViolationLog::new(VIOLATION_DETAILS_IN_REPORT),
            backends,
            control_log: Vec::new(),
            warnings,
            streams_changed: false,
            first_prefill: None,
            reset_epoch: 0,
        };
        let core = Arc::new(RunCore {
            spec,
            clock,
            machine,
            timing,
            plan,
            factory,
            started_unix_ms,
            start_ns: AtomicU64::new(0),
            hosted: Mutex::new(hosted),
            registry: Mutex::new(Vec::new()),
            registry_generation: AtomicU64::new(0),
            reset_epoch: AtomicU64::new(0),
            paused: AtomicBool::new(false),
            pause: Mutex::new(PauseClock::default()),
            phases_applied: AtomicUsize::new(0),
            deadline_reached: AtomicBool::new(false),
            restarting: AtomicBool::new(false),
            exits: Arc::new(ExitSignal::default()),
            state: Mutex::new(state),
            conductor_stop: Mutex::new(false),
            conductor_wake: Condvar::new(),
        });
        {
            let mut st = lock(&core.state);
            let mut threads = Vec::new();
            for (g, group) in core.spec.groups.iter().enumerate() {
                for _ in 0..group.threads {
                    threads.push((g, st.next_index));
                    st.next_index += 1;
                }
            }
            core.populate(&mut st, &threads)?;
            let unpinned: Vec<String> = st
                .live
                .iter()
                .filter_map(|w| {
                    let wanted = w.shared.wanted_core()?;
                    (w.shared.core().is_none() && !w.shared.state().is_over())
                        .then(|| format!("thread {} could not be pinned to core {wanted}", w.index))
                })
                .collect();
            st.warnings.extend(unpinned);
        }
        let conductor_core = Arc::clone(&core);
        let conductor = std::thread::Builder::new()
            .name("slotscope-conductor".to_owned())
            .spawn(move || conduct(&conductor_core))
            .map_err(|e| EngineError::Spawn(e.to_string()))?;
        Ok(Engine { core, conductor: Some(conductor) })
    }

    /// The spec the run started from.
    pub fn spec(&self) -> &RunSpec {
        &self.core.spec
    }

    /// The machine it runs on.
    pub fn machine(&self) -> &MachineInfo {
        &self.core.machine
    }

    /// How ops are timed (and the measured cost of a clock read).
    pub fn timing(&self) -> &TimingInfo {
        &self.core.timing
    }

    /// Active time since the clock started (pauses excluded).
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.core.timeline_ns())
    }

    /// A sampler for a UI (see [`crate::sampler::Sampler`]).
    pub fn sampler(&self, options: crate::sampler::SamplerOptions) -> crate::sampler::Sampler {
        crate::sampler::Sampler::new(Arc::clone(&self.core), options)
    }

    /// Whether the run reached its own end (its duration, or every thread did its op count),
    /// or every thread has exited.
    pub fn is_done(&self) -> bool {
        self.core.is_done()
    }

    /// Waits until [`Engine::is_done`] or `timeout` passed; whether it is done.
    pub fn wait(&self, timeout: Option<Duration>) -> bool {
        let until = timeout.map(|t| std::time::Instant::now() + t);
        loop {
            if self.core.is_done() {
                return true;
            }
            let left = until.map_or(Duration::from_millis(50), |u| {
                u.saturating_duration_since(std::time::Instant::now())
            });
            if left.is_zero() {
                return false;
            }
            self.core.exits.wait(left.min(Duration::from_millis(50)));
        }
    }

    /// Applies a live command (at each worker's next batch boundary).
    ///
    /// # Errors
    /// [`EngineError`] for an unknown group or thread, an impossible pin, a bad rate, a group
    /// with nothing to remove, or a restart that cannot build its table.
    pub fn apply(&self, command: Command) -> Result<(), EngineError> {
        self.core.apply(command, "live")
    }

    /// Adds a thread to `group`; its global index.
    ///
    /// # Errors
    /// As [`Engine::apply`].
    pub fn add_thread(&self, group: &str) -> Result<usize, EngineError> {
        self.apply(Command::AddThread { group: group.to_owned() })?;
        let st = lock(&self.core.state);
        let g = self.core.group_index(&st, group)?;
        Ok(*st.groups[g].members.last().unwrap_or(&0))
    }

    /// Removes `group`'s most recently added thread (it exits at its next batch boundary).
    ///
    /// # Errors
    /// As [`Engine::apply`].
    pub fn remove_thread(&self, group: &str) -> Result<(), EngineError> {
        self.apply(Command::RemoveThread { group: group.to_owned() })
    }

    /// Pauses every worker (no ops, no epoch pins held).
    pub fn pause(&self) {
        let _ = self.apply(Command::Pause);
    }

    /// Resumes every worker.
    pub fn resume(&self) {
        let _ = self.apply(Command::Resume);
    }

    /// Whether the run is paused.
    pub fn is_paused(&self) -> bool {
        self.core.is_paused()
    }

    /// Zeroes every counter and histogram (violations are kept).
    pub fn reset_stats(&self) {
        let _ = self.apply(Command::ResetStats);
    }

    /// Replaces the table with a new one of `layout` (the same load restarts on it).
    ///
    /// # Errors
    /// As [`Engine::apply`].
    pub fn restart_with_layout(&self, layout: Layout) -> Result<(), EngineError> {
        let table = TableSpec { layout, ..lock(&self.core.state).table.clone() };
        self.apply(Command::Restart { table })
    }

    /// Threads of the current table: (global index, group name, state), in index order.
    pub fn threads(&self) -> Vec<(usize, String, ThreadState)> {
        let mut v: Vec<_> =
            lock(&self.core.registry).iter().map(|t| (t.index, t.group_name.clone(), t.state())).collect();
        v.sort_by_key(|t| t.0);
        v
    }

    /// Stops every worker, joins them, checks the table at quiescence and returns the report.
    pub fn stop(mut self) -> Report {
        self.shutdown();
        self.report()
    }

    fn shutdown(&mut self) {
        *lock(&self.core.conductor_stop) = true;
        self.core.conductor_wake.notify_all();
        if let Some(c) = self.conductor.take() {
            let _ = c.join();
        }
        let mut st = lock(&self.core.state);
        self.core.reap(&mut st);
        self.core.stop_all(&mut st);
        self.core.close_segment(&mut st);
    }

    fn report(&self) -> Report {
        let core = &self.core;
        let mut st = lock(&core.state);
        let now = core.clock.now_ns();
        if let Some(since) = lock(&core.pause).since.take() {
            lock(&core.pause).total += now.saturating_sub(since);
        }
        let wall_ns = now.saturating_sub(core.start_ns());
        let paused_ns = lock(&core.pause).total;
        #[allow(clippy::cast_precision_loss)]
        let active_s = (wall_ns.saturating_sub(paused_ns) as f64 / 1e9).max(1e-9);

        let mut totals = Counts::ZERO;
        let mut all_latency = LatencySet::new();
        let mut violations = ViolationLog::new(VIOLATION_DETAILS_IN_REPORT);
        let mut records = Vec::new();
        let mut dropped = 0;
        let mut threads = Vec::new();
        for (&index, r) in &mut st.results {
            totals.add(&r.counts);
            all_latency.add(&r.latency);
            violations.merge(&r.violations);
            records.append(&mut r.series);
            dropped += r.series_dropped;
            #[allow(clippy::cast_precision_loss)]
            let running_s = (r.stopped_ns.saturating_sub(r.started_ns).saturating_sub(r.paused_ns) as f64
                / 1e9)
                .max(1e-9);
            let (digest, chosen) =
                r.carry.as_ref().map_or((0, 0), |c| (c.stream.digest().value(), c.stream.chosen()));
            #[allow(clippy::cast_precision_loss)]
            threads.push(ThreadReport {
                index,
                group: r.group.clone(),
                core: r.core,
                wanted_core: r.wanted_core,
                state: r.state,
                started_ns: r.started_ns,
                stopped_ns: r.stopped_ns,
                paused_ns: r.paused_ns,
                counts: r.counts,
                throughput_ops_per_s: r.counts.ops() as f64 / running_s,
                latency: OpKind::ALL.iter().map(|&k| OpLatencyReport::of(&r.latency, k)).collect(),
                digest,
                ops_chosen: chosen,
                violations: r.violations.count,
                inserted: r.inserted,
                removed: r.removed,
                prefilled: r.prefilled,
                held_at_end: r.held_at_end,
            });
        }
        violations.merge(&st.end_violations);
        records.sort_by_key(|r| (r.start_ns, r.thread));
        #[allow(clippy::cast_precision_loss)]
        let ops = OpKind::ALL
            .iter()
            .map(|&k| OpReport {
                op: k,
                count: totals.ops_of(k),
                throughput_ops_per_s: totals.ops_of(k) as f64 / active_s,
                latency: OpLatencyReport::of(&all_latency, k),
            })
            .collect();
        let reproducible = matches!(core.spec.stop, StopSpec::Ops(_)) && !st.streams_changed;
        #[allow(clippy::cast_precision_loss)]
        Report {
            schema_version: REPORT_SCHEMA_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            spec: SpecEcho::of(&core.spec),
            seed: core.spec.seed,
            determinism: DeterminismInfo {
                rng: RNG_NAME,
                rng_version: RNG_VERSION,
                seeding: "thread i: xoshiro256** seeded by 4 outputs of splitmix64(seed ^ (i + 1) * \
                          0xD1B54A32D192ED03)",
                digest: DIGEST_NAME,
                digest_covers: "per op: the op kind, the stale flag and the raw key draw (not the key it \
                                lands on, which depends on results)",
                reproducible,
            },
            machine: core.machine.clone(),
            backends: st.backends.clone(),
            timing: core.timing.clone(),
            started_unix_ms: core.started_unix_ms,
            wall_ns,
            paused_ns,
            prefill: st.first_prefill.unwrap_or_default(),
            threads,
            ops,
            totals,
            throughput_ops_per_s: totals.ops() as f64 / active_s,
            checks: CheckReport { passed: violations.is_empty(), violations, segments: st.segments.clone() },
            series: SeriesReport { interval_ns: nanos(core.spec.series_interval), records, dropped },
            control: st.control_log.clone(),
            warnings: st.warnings.clone(),
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if self.conductor.is_some() {
            self.shutdown();
        }
    }
}

/// Runs `spec` to its end without a UI and returns the report (what `--no-tui` does).
///
/// # Errors
/// [`EngineError::NeverEnds`] for `StopSpec::Forever`; otherwise as [`Engine::start`].
pub fn run_headless(spec: RunSpec) -> Result<Report, EngineError> {
    if spec.stop == StopSpec::Forever {
        return Err(EngineError::NeverEnds);
    }
    let engine = Engine::start(spec)?;
    engine.wait(None);
    Ok(engine.stop())
}
