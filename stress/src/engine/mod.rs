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

pub mod calibration;
pub mod check;
pub mod command;
pub mod control;
pub mod event;
pub(crate) mod held;
pub(crate) mod hosted;
pub mod mix;
pub mod pacing;
pub mod precision;
pub mod rng;
pub(crate) mod run;
pub mod sampler;
pub mod stall;
pub mod stats;
pub(crate) mod timeline;
pub mod timer;
pub mod turns;
pub mod worker;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use slotscope_table::Layout;

use crate::backend::Backend;
use crate::engine::calibration::Calibration;
use crate::engine::check::{ViolationLog, VIOLATION_DETAILS_IN_REPORT};
use crate::engine::command::{Command, EngineError, EngineOptions};
use crate::engine::control::{ExitSignal, ThreadState};
use crate::engine::hosted::{install_worker_panic_hook, open_hosted, recorded_table, Hosted, HostedBackend};
use crate::engine::mix::KeyPicker;
use crate::engine::rng::{DIGEST_NAME, RNG_NAME, RNG_VERSION};
use crate::engine::run::{ControlState, GroupState, PauseClock, RunCore, SegmentTotals};
use crate::engine::stats::LatencySet;
use crate::engine::timeline::conduct;
use crate::engine::timer::{measure_read_cost, measure_tick, nanos, Clock, TimingInfo};
use crate::machine::pin::CorePlan;
use crate::machine::topology::Topology;
use crate::machine::watch::MachineWatch;
use crate::machine::MachineInfo;
use crate::recorder::{header_for, RecordOptions, Recorder};
use crate::report::{
    BackendInfo, CheckReport, ControlEvent, DeterminismInfo, OpLatencyReport, OpReport, Report, SeriesReport,
    SpecEcho, ThreadReport, REPORT_SCHEMA_VERSION,
};
use crate::scenario::spec::{BackendKind, PinPolicy, RunSpec, StopSpec, TableSpec};
use crate::sync::lock;
use slotscope_trace::Counts;
use slotscope_trace::OpKind;
use slotscope_trace::{EndReason, RunSummary};

pub use crate::engine::hosted::WORKER_THREAD_PREFIX;

/// The source of the pauses and resumes of [`Engine::take_turn`].
pub const TURN_SOURCE: &str = "turn";
pub use crate::engine::run::FINAL_SNAPSHOT_MAX_CAPACITY;
pub use crate::engine::timeline::RAMP_STEP;

/// Clock reads used to measure the timer's cost at start.
const TIMER_COST_READS: u32 = 20_000;

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
        Engine::start_with_options(spec, EngineOptions::default())
    }

    /// Measures the engine's overhead per op against the bare loop for `spec` and the time
    /// sampling automatic timing would choose (see [`calibration`]); about 20 ms, before any
    /// worker starts. `None` if the scratch runs could not start.
    pub fn calibrate(spec: &RunSpec) -> Option<Calibration> {
        let clock = Clock::best();
        let (read_ns, tick_ns) = (measure_read_cost(&clock, TIMER_COST_READS), measure_tick(&clock));
        calibration::calibrate(spec, read_ns, tick_ns, |scratch| {
            let options =
                EngineOptions { headless: true, skip_calibration: true, ..EngineOptions::default() };
            let engine = Engine::start_with_options(scratch.clone(), options).ok()?;
            engine.wait(None);
            // The worker's own rate (from its first op to its last), not the run's span,
            // which includes starting the thread and noticing its end.
            let rate = engine.stop().threads.first().map_or(0.0, |t| t.throughput_ops_per_s);
            (rate > 0.0).then(|| 1e9 / rate)
        })
    }

    /// [`Engine::start`] with `options` (kept for table restarts).
    ///
    /// # Errors
    /// As [`Engine::start`].
    pub fn start_with_options(spec: RunSpec, options: EngineOptions) -> Result<Engine, EngineError> {
        let hosted = open_hosted(&spec.table, options.garbage_gauge)?;
        Engine::start_hosted(spec, hosted, true, options, None)
    }

    /// [`Engine::start`], recording the run into a trace (see [`crate::recorder`]). The
    /// recording closes in [`Engine::stop`] (the report says what was written), or when the
    /// engine is dropped.
    ///
    /// # Errors
    /// As [`Engine::start`], and [`EngineError::Record`] if the trace file cannot be created.
    pub fn start_recorded(spec: RunSpec, record: &RecordOptions) -> Result<Engine, EngineError> {
        let options = EngineOptions::default();
        let hosted = open_hosted(&spec.table, options.garbage_gauge)?;
        Engine::start_hosted(spec, hosted, true, options, Some(record))
    }

    /// [`Engine::start`] with a ready-made backend (any [`Backend`], e.g. a test double).
    /// `spec.table` is then only used for the capacity and prefill; restarts are not possible.
    ///
    /// # Errors
    /// As [`Engine::start`].
    pub fn start_with<B: Backend>(spec: RunSpec, backend: B) -> Result<Engine, EngineError> {
        Engine::start_hosted(
            spec,
            Arc::new(HostedBackend { backend: Arc::new(backend) }),
            false,
            EngineOptions::default(),
            None,
        )
    }

    fn start_hosted(
        spec: RunSpec,
        hosted: Arc<dyn Hosted>,
        factory: bool,
        options: EngineOptions,
        record: Option<&RecordOptions>,
    ) -> Result<Engine, EngineError> {
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
        let calibration = match options.calibration {
            Some(c) => Some(c),
            None if options.skip_calibration => None,
            None => Engine::calibrate(&spec),
        };
        let clock = Clock::best();
        // Calibration measured the reading already (the same clock source): one figure for both.
        let ns_per_read =
            calibration.map_or_else(|| measure_read_cost(&clock, TIMER_COST_READS), |c| c.clock_read_ns);
        let (time_every, time_every_auto) = match (spec.time_every, calibration) {
            (0, Some(c)) => (c.auto_time_every(), true),
            (0, None) => (calibration::FALLBACK_TIME_EVERY, true),
            (k, _) => (k, false),
        };
        // Fixed from here on: workers, restarts and the report's echo use the chosen k.
        let mut spec = spec;
        spec.time_every = time_every;
        let clock_tick_ns = calibration.map_or_else(|| measure_tick(&clock), |c| c.clock_tick_ns);
        let timing = TimingInfo {
            source: clock.source(),
            ns_per_read,
            time_every,
            time_every_auto,
            clock_tick_ns,
            floor_ns: calibration::floor_ns(clock_tick_ns, ns_per_read),
            clock_share: calibration.map(|c| c.clock_share(time_every)),
            calibration,
            open_loop_times_every_op: true,
            note: "latency of a timed op = clock read after it - clock read before it (includes one \
                   clock read's cost)",
        };
        let started_unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0));
        let keys_per_thread =
            hosted.facts().capacity().unwrap_or(spec.table.capacity).max(1) / spec.initial_threads().max(1);
        let groups: Vec<GroupState> = spec
            .groups
            .iter()
            .map(|g| GroupState {
                spec: g.clone(),
                picker: KeyPicker::new(g.keys, keys_per_thread),
                remove_order: crate::scenario::spec::RemoveOrder::Random,
                hiccup: None,
                keep: g.keep,
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
            name: hosted.facts().kind().name(),
            description: hosted.facts().describe(),
            capacity: hosted.facts().capacity(),
            broken: spec.table.variant.is_broken() && hosted.facts().kind() == BackendKind::Slotscope,
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
        let recorder = match record {
            Some(options) => {
                let precision = precision::measure(&clock, plan.available());
                let header = header_for(&spec, &machine, &timing, options, started_unix_ms, precision);
                let expected = match spec.stop {
                    StopSpec::Duration(d) => Some(d),
                    StopSpec::Ops(_) | StopSpec::Forever => None,
                };
                let r = Recorder::create(options, &header, clock, plan.available().to_vec(), expected)
                    .map_err(|e| EngineError::Record(e.to_string()))?;
                r.begin_table(0, recorded_table(&hosted), spec.table.variant, spec.table.allocator);
                Some(Arc::new(r))
            }
            None => None,
        };
        let core = Arc::new(RunCore {
            recorder,
            spec,
            clock,
            machine,
            timing,
            plan,
            factory,
            options,
            pin_holder: Mutex::new(None),
            started_unix_ms,
            start_ns: AtomicU64::new(0),
            hosted: Mutex::new(hosted),
            registry: Mutex::new(Vec::new()),
            registry_generation: AtomicU64::new(0),
            reset_epoch: AtomicU64::new(0),
            paused: AtomicBool::new(false),
            pause: Mutex::new(PauseClock::default()),
            phase_in_force: AtomicUsize::new(0),
            deadline_reached: AtomicBool::new(false),
            restarting: AtomicBool::new(false),
            exits: Arc::new(ExitSignal::default()),
            state: Mutex::new(state),
            conductor_stop: Mutex::new(false),
            conductor_wake: Condvar::new(),
            watch: std::sync::OnceLock::new(),
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
        if !core.options.skip_calibration {
            let weak = Arc::downgrade(&core);
            let watch = MachineWatch::start(move || {
                weak.upgrade().map_or_else(Vec::new, |core| {
                    lock(&core.registry)
                        .iter()
                        .filter(|t| !t.state().is_over())
                        .filter_map(|t| t.core())
                        .collect()
                })
            });
            let _ = core.watch.set(watch);
        }
        let conductor_core = Arc::clone(&core);
        let conductor = std::thread::Builder::new()
            .name("slotscope-conductor".to_owned())
            .spawn(move || conduct(&conductor_core))
            .map_err(|e| EngineError::Spawn(e.to_string()))?;
        Ok(Engine { core, conductor: Some(conductor) })
    }

    /// The file a recorded run is being written into now (a temporary name beside the trace's
    /// path, or the device it goes to), if the run is recorded.
    pub fn recording_file(&self) -> Option<std::path::PathBuf> {
        self.core.recorder.as_ref().map(|r| r.writing().to_owned())
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

    /// A sampler for a UI (see [`crate::engine::sampler::Sampler`]).
    pub fn sampler(
        &self,
        options: crate::engine::sampler::SamplerOptions,
    ) -> crate::engine::sampler::Sampler {
        crate::engine::sampler::Sampler::new(Arc::clone(&self.core), options)
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

    /// Pauses (`false`) or resumes (`true`) every worker for an A/B comparison's turn-taking:
    /// as [`Engine::pause`] and [`Engine::resume`], but not listed among the run's changes
    /// (the trace still records it, with source `turn`).
    pub fn take_turn(&self, running: bool) {
        let _ = self.core.apply(if running { Command::Resume } else { Command::Pause }, TURN_SOURCE);
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

    /// Restarts the table with `allocator` (the same load, layout and size), as
    /// [`Self::restart_with_layout`] does with a layout.
    ///
    /// # Errors
    /// As [`Self::restart_with_layout`]; a magazine size the table cannot take is refused.
    pub fn restart_with_allocator(&self, allocator: slotscope_table::Allocator) -> Result<(), EngineError> {
        let table = TableSpec { allocator, ..lock(&self.core.state).table.clone() };
        self.apply(Command::Restart { table })
    }

    /// The table as it is now (after any restart).
    pub fn table_spec(&self) -> TableSpec {
        lock(&self.core.state).table.clone()
    }

    /// The options the engine was started with.
    pub fn options(&self) -> EngineOptions {
        self.core.options
    }

    /// Phases and live commands applied so far, in order.
    pub fn control_log(&self) -> Vec<ControlEvent> {
        lock(&self.core.state).control_log.clone()
    }

    /// A handle that describes the engine's threads from any thread, without taking the
    /// control lock (for [`crate::watchdog::Watchdog`]s: it still answers while a stop or a
    /// restart is stuck holding that lock).
    pub fn monitor(&self) -> EngineMonitor {
        EngineMonitor { core: Arc::clone(&self.core) }
    }

    /// Threads of the current table: (global index, group name, state), in index order.
    pub fn threads(&self) -> Vec<(usize, String, ThreadState)> {
        let mut v: Vec<_> =
            lock(&self.core.registry).iter().map(|t| (t.index, t.group_name.clone(), t.state())).collect();
        v.sort_by_key(|t| t.0);
        v
    }

    /// Stops every worker, joins them, checks the table at quiescence and returns the report
    /// (closing the recording, if any: `Report::recording` says what was written).
    pub fn stop(mut self) -> Report {
        let completed = self.core.is_done();
        self.shutdown();
        let mut report = self.report();
        if let Some(r) = &self.core.recorder {
            let reason = if completed { EndReason::Completed } else { EndReason::Stopped };
            let summary = RunSummary {
                ops: report.totals.ops(),
                violations: report.checks.violations.count,
                wall_ns: report.wall_ns,
            };
            report.recording = Some(r.finish(reason, Some(summary)));
        }
        report
    }

    /// [`Engine::stop`] under a [`crate::watchdog::Watchdog`]: if stopping takes longer than
    /// `limit`, the process ends with [`crate::watchdog::WATCHDOG_EXIT`], naming the threads
    /// still running and their states (tests use it to turn a hang into a named failure).
    pub fn stop_watched(self, limit: Duration) -> Report {
        let monitor = self.monitor();
        let _dog = crate::watchdog::Watchdog::arm("Engine::stop", limit, move || monitor.describe());
        self.stop()
    }

    fn shutdown(&mut self) {
        if let Some(r) = &self.core.recorder {
            r.release();
        }
        *lock(&self.core.conductor_stop) = true;
        self.core.conductor_wake.notify_all();
        if let Some(c) = self.conductor.take() {
            let _ = c.join();
        }
        self.core.release_pin_holder();
        if let Some(w) = self.core.watch.get() {
            w.stop();
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
        // One guard: an `if let` on the lock would hold it through its block and deadlock on
        // the second lock (a run stopped while paused hung here).
        {
            let mut pause = lock(&core.pause);
            if let Some(since) = pause.since.take() {
                pause.total += now.saturating_sub(since);
            }
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
            let (digest, chosen) = (r.carry.stream.digest().value(), r.carry.stream.chosen());
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
        let batch_mean_ns_per_op = batch_mean_ns_per_op(&threads);
        let machine_watch = core.watch.get().map(MachineWatch::report);
        let mut warnings = st.warnings.clone();
        if let Some(w) = machine_watch.as_ref().filter(|w| w.noisy) {
            warnings.push(format!("{}: the figures include their time", w.noise_text()));
        }
        if let Some(t) = machine_watch.as_ref().filter(|w| w.transfer_changed).and_then(|w| w.transfer_text())
        {
            warnings.push(t);
        }
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
            batch_mean_ns_per_op,
            machine_watch,
            checks: CheckReport { passed: violations.is_empty(), violations, segments: st.segments.clone() },
            series: SeriesReport { interval_ns: nanos(core.spec.series_interval), records, dropped },
            control: st.control_log.clone(),
            warnings,
            repeat_command: None,
            stopped_by: None,
            recording: None,
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if self.conductor.is_some() {
            self.shutdown();
        }
        if let Some(r) = &self.core.recorder {
            r.finish(EndReason::Abandoned, None);
        }
    }
}

/// See [`Engine::monitor`].
#[derive(Clone)]
pub struct EngineMonitor {
    core: Arc<RunCore>,
}

impl fmt::Debug for EngineMonitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineMonitor").finish_non_exhaustive()
    }
}

impl EngineMonitor {
    /// One line per worker of the current table (thread name, group, state, whether it was
    /// asked to stop or pause) and what the control plane is doing.
    pub fn describe(&self) -> String {
        use std::fmt::Write as _;
        let core = &self.core;
        let mut out = String::new();
        let control = if crate::sync::try_lock(&core.state).is_some() {
            "idle"
        } else {
            "busy (a control, restart or stop holds its lock)"
        };
        let _ = writeln!(
            out,
            "engine: control plane {control}; restarting {}; paused {}; deadline reached {}",
            core.restarting.load(std::sync::atomic::Ordering::Relaxed),
            core.is_paused(),
            core.deadline_reached.load(std::sync::atomic::Ordering::Relaxed),
        );
        let threads: Vec<_> = lock(&core.registry).iter().map(Arc::clone).collect();
        for t in threads {
            let asked = crate::sync::try_lock(&t.settings).map_or_else(
                || "settings locked".to_owned(),
                |s| format!("stop {} pause {}", s.stop, s.paused),
            );
            let _ = writeln!(
                out,
                "  {WORKER_THREAD_PREFIX}{} (group {}): {}; asked: {asked}; inbox generation {}",
                t.index,
                t.group_name,
                t.state().name(),
                t.inbox.generation.load(std::sync::atomic::Ordering::Relaxed),
            );
        }
        out
    }
}

/// Every op's mean time on its thread, timed by batch: the threads' running time (paused time
/// out) over their ops, ns (0 without ops). No clock read per op goes into it.
fn batch_mean_ns_per_op(threads: &[ThreadReport]) -> f64 {
    let running: u64 =
        threads.iter().map(|t| t.stopped_ns.saturating_sub(t.started_ns).saturating_sub(t.paused_ns)).sum();
    let ops: u64 = threads.iter().map(|t| t.counts.ops()).sum();
    #[allow(clippy::cast_precision_loss)]
    if ops == 0 {
        0.0
    } else {
        running as f64 / ops as f64
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
    let engine =
        Engine::start_with_options(spec, EngineOptions { headless: true, ..EngineOptions::default() })?;
    engine.wait(None);
    Ok(engine.stop())
}

/// [`run_headless`], recording the run into a trace.
///
/// # Errors
/// As [`run_headless`], and [`EngineError::Record`] if the trace file cannot be created.
pub fn run_headless_recorded(spec: RunSpec, record: &RecordOptions) -> Result<Report, EngineError> {
    if spec.stop == StopSpec::Forever {
        return Err(EngineError::NeverEnds);
    }
    let engine = Engine::start_recorded(spec, record)?;
    engine.wait(None);
    Ok(engine.stop())
}
