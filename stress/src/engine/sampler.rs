//! The UI's view of a running engine: [`Sampler::sample_into`] fills a reusable [`Sample`] at
//! whatever rate the caller chooses (10 to 30 Hz for a TUI).
//!
//! What a sample costs the workers: relaxed loads of their padded counters and heat arrays, a
//! short lock of each worker's histogram deposit (the worker uses `try_lock` on its side and
//! never waits), and, rate-limited, a read-only scan of the table (which pulls lines into the
//! Shared state; the next writer of each pays a miss). The sampler's own time per sample is
//! measured and shown.
//!
//! Latency intervals: at each sample the sampler asks every worker for its histograms; a
//! worker deposits them at its next batch end, so an interval's histograms are what workers
//! deposited between two samples (lagging by up to one batch). Cumulative histograms count
//! from the moment the sampler was created (or the last stats reset).

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use slotscope_table::{Geometry, Snapshot};

use crate::backend::gauge::GarbageCount;
use crate::engine::check::Violation;
use crate::engine::control::{ThreadShared, ThreadState};
use crate::engine::run::RunCore;
use crate::engine::stall::PinHoldSample;
use crate::engine::stats::{LatencySet, LatencySummary};
use crate::engine::timer::TimingInfo;
use crate::scenario::spec::BackendKind;
use crate::sync::lock;
use slotscope_trace::OpKind;
use slotscope_trace::{latency_histogram, Counter, Counts};

/// How the sampler behaves.
#[derive(Clone, Debug, PartialEq)]
pub struct SamplerOptions {
    /// Scan the table into the sample (our backend only). Default on.
    pub snapshots: bool,
    /// No scans of tables with more slots than this (a snapshot costs 17 bytes per slot;
    /// default 2^21 slots, 34 MiB).
    pub snapshot_max_capacity: usize,
    /// Scans may take at most this fraction of wall time (default 0.02): a scan that took
    /// 2 ms waits at least 100 ms for the next.
    pub snapshot_max_duty: f64,
    /// Samples kept in the history (default 600: a minute at 10 Hz).
    pub history_len: usize,
    /// Violations described in a sample (default 8).
    pub violation_details: usize,
}

impl Default for SamplerOptions {
    fn default() -> Self {
        SamplerOptions {
            snapshots: true,
            snapshot_max_capacity: 1 << 21,
            snapshot_max_duty: 0.02,
            history_len: 600,
            violation_details: 8,
        }
    }
}

/// One thread in a sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ThreadSample {
    /// Global index.
    pub index: usize,
    /// Group (index into [`Sample::groups`]).
    pub group: usize,
    /// Core it is pinned to.
    pub core: Option<usize>,
    /// Where it is in its life.
    pub state: ThreadState,
    /// Counters since the start (or the last reset).
    pub counts: Counts,
    /// Counters during the last interval.
    pub interval: Counts,
    /// Ops per second during the last interval.
    pub ops_per_s: f64,
}

/// One operation's latency in a sample (all threads together).
#[derive(Clone, Debug)]
pub struct OpSample {
    /// The operation.
    pub op: OpKind,
    /// Ops per second in the interval (all threads).
    pub ops_per_s: f64,
    /// Service times deposited during the interval.
    pub interval: Histogram<u64>,
    /// Service times since the sampler started (or the last reset).
    pub cumulative: Histogram<u64>,
    /// Open loop: corrected times in the interval (empty in closed loop).
    pub interval_corrected: Histogram<u64>,
    /// Open loop: corrected times since the start.
    pub cumulative_corrected: Histogram<u64>,
    /// Percentiles of `interval`.
    pub interval_summary: LatencySummary,
    /// Percentiles of `cumulative`.
    pub cumulative_summary: LatencySummary,
    /// Percentiles of `interval_corrected`.
    pub interval_corrected_summary: LatencySummary,
    /// Percentiles of `cumulative_corrected`.
    pub cumulative_corrected_summary: LatencySummary,
}

/// One thread group's latency of one op kind, as percentiles (the histograms stay in the
/// sampler): the interval's and the run's, service time and, in open loop, corrected.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GroupOpLatency {
    /// Service times deposited during the interval.
    pub interval: LatencySummary,
    /// Service times since the start (or the last reset).
    pub cumulative: LatencySummary,
    /// Open loop: corrected times in the interval.
    pub interval_corrected: LatencySummary,
    /// Open loop: corrected times since the start.
    pub cumulative_corrected: LatencySummary,
}

impl OpSample {
    fn new(op: OpKind) -> Self {
        OpSample {
            op,
            ops_per_s: 0.0,
            interval: latency_histogram(),
            cumulative: latency_histogram(),
            interval_corrected: latency_histogram(),
            cumulative_corrected: latency_histogram(),
            interval_summary: LatencySummary::default(),
            cumulative_summary: LatencySummary::default(),
            interval_corrected_summary: LatencySummary::default(),
            cumulative_corrected_summary: LatencySummary::default(),
        }
    }
}

/// Writes per cache line during the last interval, all threads together, and how many
/// distinct threads wrote each line (two or more: the line is shared, a contention mark).
/// Lines are aggregated `lines_per_cell` per cell for big tables (see
/// [`crate::engine::stats::HEAT_MAX_CELLS`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineHeat {
    /// Lines per cell (1 for tables up to 2^16 lines).
    pub lines_per_cell: usize,
    /// Writes per slot-array cell.
    pub slot_writes: Vec<u32>,
    /// Distinct writer threads per slot-array cell (saturating at 255).
    pub slot_writers: Vec<u8>,
    /// Per slot-array cell, the sum over threads of the square of each thread's writes: with
    /// `slot_writes` it gives the line transfers expected under independent interleaving
    /// (`n - sum / n`, see `slotscope_views::model::expected_transfers`).
    pub slot_sq: Vec<u64>,
    /// Writes per ring cell.
    pub ring_writes: Vec<u32>,
    /// Distinct writer threads per ring cell.
    pub ring_writers: Vec<u8>,
    /// Per ring cell, the sum of squares of each thread's writes.
    pub ring_sq: Vec<u64>,
    /// Writes to the header line.
    pub header_writes: u64,
    /// Distinct threads that wrote the header line.
    pub header_writers: u8,
    /// The sum of squares of each thread's header writes.
    pub header_sq: u64,
}

/// Who wrote one slot line (the UI's selected line) in the last interval, thread by thread:
/// cheap, because the sampler reads every thread's heat anyway.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FocusSample {
    /// The slot line asked for with [`Sampler::set_focus_line`], if any.
    pub line: Option<usize>,
    /// Lines per heat cell: for big tables the counts cover the cell holding the line.
    pub lines_per_cell: usize,
    /// `(global thread index, writes)` for each thread that wrote it in the interval.
    pub writers: Vec<(usize, u32)>,
}

/// Removed elements waiting for reclamation (our table with a garbage gauge).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GarbageSample {
    /// Retired and freed so far.
    pub count: GarbageCount,
    /// Bytes of one element, without allocator overhead.
    pub element_bytes: usize,
}

/// The backend in a sample.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BackendSample {
    /// Which backend (`None` before the first sample).
    pub kind: Option<BackendKind>,
    /// Its configuration in words.
    pub description: String,
    /// Fixed capacity.
    pub capacity: Option<usize>,
    /// Elements now (relaxed; exact at quiescence).
    pub elements: Option<usize>,
    /// Our table's geometry.
    pub geometry: Option<Geometry>,
}

/// The phase of the timeline in force.
#[derive(Clone, Debug, PartialEq)]
pub struct PhaseInfo {
    /// Index in the spec's phases.
    pub index: usize,
    /// Its time on the timeline (within the cycle, when the timeline repeats).
    pub at: Duration,
    /// The group it changed.
    pub group: String,
}

/// One point of the recent history (for sparklines).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HistoryPoint {
    /// Timeline time.
    pub elapsed: Duration,
    /// Ops per second by [`OpKind::index`].
    pub ops_per_s: [f64; 3],
    /// Interval p99 service time by op, ns.
    pub p99_ns: [u64; 3],
    /// Header-line writes per second (our table with probes).
    pub header_writes_per_s: f64,
    /// Violations so far.
    pub violations: u64,
}

/// Everything a UI frame needs, as plain owned data. Create once ([`Sample::new`]) and pass to
/// [`Sampler::sample_into`] every frame: buffers are reused.
#[derive(Clone, Debug)]
pub struct Sample {
    /// Samples taken so far (1 after the first).
    pub seq: u64,
    /// Active time since the clock started (pauses excluded).
    pub elapsed: Duration,
    /// Wall time since the previous sample.
    pub interval: Duration,
    /// Paused.
    pub paused: bool,
    /// The run reached its end.
    pub done: bool,
    /// The last phase applied, if any.
    pub phase: Option<PhaseInfo>,
    /// Group names, by group index.
    pub groups: Vec<String>,
    /// The backend.
    pub backend: BackendSample,
    /// Threads of the current table, by index (exited ones included, with their state).
    pub threads: Vec<ThreadSample>,
    /// All threads' counters since the start (or reset).
    pub totals: Counts,
    /// All threads' counters during the interval.
    pub interval_totals: Counts,
    /// Ops per second in the interval, all threads.
    pub ops_per_s: f64,
    /// By [`OpKind::index`].
    pub ops: [OpSample; 3],
    /// With two or more thread groups: each group's latency ([`Sample::groups`] order), by
    /// [`OpKind::index`]; empty with one group (`ops` is that group's).
    pub group_latency: Vec<[GroupOpLatency; 3]>,
    /// Write heat of the interval (empty unless our table with probes).
    pub heat: LineHeat,
    /// Per-thread writes of the focused line (empty unless one is set and probes are on).
    pub focus: FocusSample,
    /// Garbage waiting for reclamation (engines started with a garbage gauge).
    pub garbage: Option<GarbageSample>,
    /// The reader holding its pin on purpose, if one was started.
    pub pin_hold: Option<PinHoldSample>,
    /// The latest table scan (our backend, snapshots on, table small enough).
    pub snapshot: Option<Snapshot>,
    /// Whether `snapshot` was taken during this sample.
    pub snapshot_fresh: bool,
    /// Timeline time of the snapshot.
    pub snapshot_at: Duration,
    /// How long the last scan took.
    pub snapshot_cost: Duration,
    /// Violations so far.
    pub violations: u64,
    /// The first few described.
    pub first_violations: Vec<Violation>,
    /// How ops are timed.
    pub timing: Option<TimingInfo>,
    /// Noise and line transfer on the worker cores so far (`None`: not watched).
    pub machine_watch: Option<crate::machine::watch::WatchReport>,
    /// What this `sample_into` call cost.
    pub sampler_cost: Duration,
    /// Mean cost per sample so far.
    pub sampler_cost_mean: Duration,
    /// Recent history, oldest first.
    pub history: VecDeque<HistoryPoint>,
}

impl Sample {
    /// An empty sample (allocates its histograms).
    pub fn new() -> Self {
        Sample {
            seq: 0,
            elapsed: Duration::ZERO,
            interval: Duration::ZERO,
            paused: false,
            done: false,
            phase: None,
            groups: Vec::new(),
            backend: BackendSample::default(),
            threads: Vec::new(),
            totals: Counts::ZERO,
            interval_totals: Counts::ZERO,
            ops_per_s: 0.0,
            ops: OpKind::ALL.map(OpSample::new),
            group_latency: Vec::new(),
            heat: LineHeat::default(),
            focus: FocusSample::default(),
            garbage: None,
            pin_hold: None,
            snapshot: None,
            snapshot_fresh: false,
            snapshot_at: Duration::ZERO,
            snapshot_cost: Duration::ZERO,
            violations: 0,
            first_violations: Vec::new(),
            timing: None,
            machine_watch: None,
            sampler_cost: Duration::ZERO,
            sampler_cost_mean: Duration::ZERO,
            history: VecDeque::new(),
        }
    }
}

impl Default for Sample {
    fn default() -> Self {
        Sample::new()
    }
}

/// What the sampler remembers about one thread between samples.
struct ThreadMemory {
    shared: Arc<ThreadShared>,
    counts: Counts,
    slot_heat: Vec<u32>,
    ring_heat: Vec<u32>,
    header: u64,
}

/// Reads a running engine for a UI. Made by [`crate::Engine::sampler`].
pub struct Sampler {
    core: Arc<RunCore>,
    options: SamplerOptions,
    threads: Vec<ThreadMemory>,
    registry_generation: u64,
    reset_epoch: u64,
    interval: LatencySet,
    cumulative: LatencySet,
    /// Per thread group, with two or more groups: the interval's and the run's latency.
    group_interval: Vec<LatencySet>,
    group_cumulative: Vec<LatencySet>,
    last_wall: Option<Instant>,
    last_scan: Option<Instant>,
    last_scan_cost: Duration,
    history: VecDeque<HistoryPoint>,
    samples: u64,
    cost_total: Duration,
    violations_seen: u64,
    scratch: Vec<u32>,
    focus_line: Option<usize>,
}

impl std::fmt::Debug for Sampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sampler").field("options", &self.options).field("samples", &self.samples).finish()
    }
}

impl Sampler {
    pub(crate) fn new(core: Arc<RunCore>, options: SamplerOptions) -> Self {
        let reset_epoch = core.reset_epoch.load(Ordering::Relaxed);
        let mut sampler = Sampler {
            core,
            options,
            threads: Vec::new(),
            registry_generation: u64::MAX,
            reset_epoch,
            interval: LatencySet::new(),
            cumulative: LatencySet::new(),
            group_interval: Vec::new(),
            group_cumulative: Vec::new(),
            last_wall: None,
            last_scan: None,
            last_scan_cost: Duration::ZERO,
            history: VecDeque::new(),
            samples: 0,
            cost_total: Duration::ZERO,
            violations_seen: u64::MAX,
            scratch: Vec::new(),
            focus_line: None,
        };
        sampler.refresh_threads();
        sampler
    }

    /// The options in force.
    pub fn options(&self) -> &SamplerOptions {
        &self.options
    }

    /// Which slot line to break down by thread in [`Sample::focus`] (the UI's selected
    /// line); `None` for none.
    pub fn set_focus_line(&mut self, line: Option<usize>) {
        self.focus_line = line;
    }

    /// Picks up threads added, removed, or replaced by a restart.
    fn refresh_threads(&mut self) {
        let generation = self.core.registry_generation.load(Ordering::Relaxed);
        if generation == self.registry_generation {
            return;
        }
        self.registry_generation = generation;
        let registry: Vec<Arc<ThreadShared>> = lock(&self.core.registry).clone();
        let mut old = std::mem::take(&mut self.threads);
        for shared in registry {
            let kept = old.iter().position(|m| Arc::ptr_eq(&m.shared, &shared)).map(|i| old.swap_remove(i));
            let memory = kept.unwrap_or_else(|| {
                shared.inbox.sampler_attached.store(true, Ordering::Relaxed);
                shared.inbox.flush_wanted.store(true, Ordering::Relaxed);
                ThreadMemory {
                    shared,
                    counts: Counts::ZERO,
                    slot_heat: Vec::new(),
                    ring_heat: Vec::new(),
                    header: 0,
                }
            });
            self.threads.push(memory);
        }
        self.threads.sort_by_key(|m| m.shared.index);
        for gone in old {
            gone.shared.inbox.sampler_attached.store(false, Ordering::Relaxed);
        }
    }

    /// Fills `out` with the engine's state now. Never blocks a worker.
    pub fn sample_into(&mut self, out: &mut Sample) {
        let began = Instant::now();
        self.refresh_threads();
        let core = Arc::clone(&self.core);
        let reset_epoch = core.reset_epoch.load(Ordering::Relaxed);
        let reset = reset_epoch != self.reset_epoch;
        if reset {
            self.reset_epoch = reset_epoch;
            self.cumulative.reset();
            self.group_cumulative.iter_mut().for_each(LatencySet::reset);
        }
        let groups = core.spec.groups.len();
        let per_group = if groups >= 2 { groups } else { 0 };
        self.group_interval.resize_with(per_group, LatencySet::new);
        self.group_cumulative.resize_with(per_group, LatencySet::new);
        self.group_interval.iter_mut().for_each(LatencySet::reset);
        let interval = self.last_wall.map_or(Duration::ZERO, |w| began.duration_since(w));
        self.last_wall = Some(began);
        let secs = interval.as_secs_f64();
        let rate = |n: u64| {
            #[allow(clippy::cast_precision_loss)]
            let r = if secs > 0.0 { n as f64 / secs } else { 0.0 };
            r
        };

        out.seq = self.samples + 1;
        out.elapsed = Duration::from_nanos(core.timeline_ns());
        out.interval = interval;
        out.paused = core.is_paused();
        out.done = core.is_done();
        let applied = core.phase_in_force.load(Ordering::Relaxed);
        out.phase = applied.checked_sub(1).and_then(|i| {
            core.spec.phases.get(i).map(|p| PhaseInfo { index: i, at: p.at, group: p.group.clone() })
        });
        if out.groups.len() != core.spec.groups.len() {
            out.groups = core.spec.groups.iter().map(|g| g.name.clone()).collect();
        }
        out.machine_watch = core.watch.get().map(crate::machine::watch::MachineWatch::report);
        if out.timing.is_none() {
            out.timing = Some(core.timing.clone());
        }

        // Counters and latency deposits.
        out.threads.clear();
        out.totals = Counts::ZERO;
        out.interval_totals = Counts::ZERO;
        self.interval.reset();
        for m in &mut self.threads {
            let counts = m.shared.counts.read();
            // A thread that reset (or a fresh sampler) restarts its deltas from here.
            let delta =
                if reset || counts.ops() < m.counts.ops() { Counts::ZERO } else { counts.since(&m.counts) };
            m.counts = counts;
            {
                let mut deposit = lock(&m.shared.deposit);
                if !deposit.taken {
                    if deposit.reset_epoch == reset_epoch {
                        self.interval.add(&deposit.latency);
                        if let Some(g) = self.group_interval.get_mut(m.shared.group) {
                            g.add(&deposit.latency);
                        }
                    }
                    deposit.latency.reset();
                    deposit.taken = true;
                }
            }
            m.shared.inbox.flush_wanted.store(true, Ordering::Relaxed);
            out.totals.add(&counts);
            out.interval_totals.add(&delta);
            out.threads.push(ThreadSample {
                index: m.shared.index,
                group: m.shared.group,
                core: m.shared.core(),
                state: m.shared.state(),
                counts,
                interval: delta,
                ops_per_s: rate(delta.ops()),
            });
        }
        self.cumulative.add(&self.interval);
        for (c, i) in self.group_cumulative.iter_mut().zip(&self.group_interval) {
            c.add(i);
        }
        out.group_latency.clear();
        for (i, c) in self.group_interval.iter().zip(&self.group_cumulative) {
            out.group_latency.push(OpKind::ALL.map(|k| {
                let x = k.index();
                GroupOpLatency {
                    interval: LatencySummary::of(&i.service[x]),
                    cumulative: LatencySummary::of(&c.service[x]),
                    interval_corrected: LatencySummary::of(&i.corrected[x]),
                    cumulative_corrected: LatencySummary::of(&c.corrected[x]),
                }
            }));
        }
        out.ops_per_s = rate(out.interval_totals.ops());
        for (k, op) in OpKind::ALL.into_iter().zip(out.ops.iter_mut()) {
            let i = k.index();
            op.ops_per_s = rate(out.interval_totals.ops_of(k));
            copy_histogram(&mut op.interval, &self.interval.service[i]);
            copy_histogram(&mut op.cumulative, &self.cumulative.service[i]);
            copy_histogram(&mut op.interval_corrected, &self.interval.corrected[i]);
            copy_histogram(&mut op.cumulative_corrected, &self.cumulative.corrected[i]);
            op.interval_summary = LatencySummary::of(&op.interval);
            op.cumulative_summary = LatencySummary::of(&op.cumulative);
            op.interval_corrected_summary = LatencySummary::of(&op.interval_corrected);
            op.cumulative_corrected_summary = LatencySummary::of(&op.cumulative_corrected);
        }

        let hosted = Arc::clone(&lock(&core.hosted));
        let geometry = hosted.facts().geometry();
        if out.backend.kind != Some(hosted.facts().kind()) || out.backend.geometry != geometry {
            out.backend.kind = Some(hosted.facts().kind());
            out.backend.description = hosted.facts().describe();
            out.backend.capacity = hosted.facts().capacity();
            out.backend.geometry = geometry;
        }
        out.backend.elements = hosted.facts().elements();

        self.sample_heat(&mut out.heat, &mut out.focus, reset);
        out.garbage = hosted
            .facts()
            .garbage()
            .map(|count| GarbageSample { count, element_bytes: hosted.facts().element_bytes() });
        out.pin_hold = lock(&core.pin_holder).as_ref().map(crate::engine::stall::PinHolder::sample);

        // Violations: described ones are fetched only when the count moved.
        out.violations = out.totals[Counter::Violations];
        if out.violations != self.violations_seen {
            self.violations_seen = out.violations;
            out.first_violations.clear();
            for m in &self.threads {
                let room = self.options.violation_details.saturating_sub(out.first_violations.len());
                out.first_violations.extend(lock(&m.shared.violations).iter().take(room).cloned());
            }
        }

        // The table scan, rate-limited by its own cost.
        out.snapshot_fresh = false;
        let scan_allowed = self.options.snapshots
            && geometry.is_some_and(|g| g.capacity() <= self.options.snapshot_max_capacity)
            && self.last_scan.is_none_or(|t| {
                let wait = self.last_scan_cost.as_secs_f64() / self.options.snapshot_max_duty.max(1e-6);
                began.duration_since(t).as_secs_f64() >= wait
            });
        if scan_allowed {
            if let Some(g) = geometry {
                let snap = out.snapshot.get_or_insert_with(|| Snapshot::fresh(g));
                let scan_began = Instant::now();
                if hosted.facts().snapshot_into(snap) {
                    self.last_scan_cost = scan_began.elapsed();
                    self.last_scan = Some(scan_began);
                    out.snapshot_fresh = true;
                    out.snapshot_at = out.elapsed;
                    out.snapshot_cost = self.last_scan_cost;
                }
            }
        } else if geometry.is_none() {
            out.snapshot = None;
        }

        let point = HistoryPoint {
            elapsed: out.elapsed,
            ops_per_s: [out.ops[0].ops_per_s, out.ops[1].ops_per_s, out.ops[2].ops_per_s],
            p99_ns: [
                out.ops[0].interval_summary.p99,
                out.ops[1].interval_summary.p99,
                out.ops[2].interval_summary.p99,
            ],
            header_writes_per_s: rate(out.heat.header_writes),
            violations: out.violations,
        };
        if self.options.history_len > 0 {
            if self.history.len() == self.options.history_len {
                self.history.pop_front();
            }
            self.history.push_back(point);
        }
        out.history.clear();
        out.history.extend(self.history.iter().copied());

        self.samples += 1;
        out.sampler_cost = began.elapsed();
        self.cost_total += out.sampler_cost;
        out.sampler_cost_mean = self.cost_total / u32::try_from(self.samples).unwrap_or(u32::MAX).max(1);
    }

    /// Per-line write deltas of every thread since the previous sample.
    fn sample_heat(&mut self, heat: &mut LineHeat, focus: &mut FocusSample, reset: bool) {
        focus.line = self.focus_line;
        focus.writers.clear();
        let Some(first) = self.threads.iter().find_map(|m| m.shared.heat.as_ref()) else {
            *heat = LineHeat::default();
            return;
        };
        focus.lines_per_cell = first.lines_per_cell();
        let focus_cell = self.focus_line.map(|l| l / first.lines_per_cell().max(1));
        let (slot_cells, ring_cells) = (first.slot_cells(), first.ring_cells());
        heat.lines_per_cell = first.lines_per_cell();
        heat.slot_writes.clear();
        heat.slot_writes.resize(slot_cells, 0);
        heat.slot_writers.clear();
        heat.slot_writers.resize(slot_cells, 0);
        heat.slot_sq.clear();
        heat.slot_sq.resize(slot_cells, 0);
        heat.ring_sq.clear();
        heat.ring_sq.resize(ring_cells, 0);
        heat.header_sq = 0;
        heat.ring_writes.clear();
        heat.ring_writes.resize(ring_cells, 0);
        heat.ring_writers.clear();
        heat.ring_writers.resize(ring_cells, 0);
        heat.header_writes = 0;
        heat.header_writers = 0;
        for m in &mut self.threads {
            let Some(h) = m.shared.heat.as_ref() else { continue };
            if h.slot_cells() != slot_cells || h.ring_cells() != ring_cells {
                continue;
            }
            let fresh = m.slot_heat.len() != slot_cells;
            h.read_slot(&mut self.scratch);
            if !fresh && !reset {
                accumulate(
                    &self.scratch,
                    &m.slot_heat,
                    &mut heat.slot_writes,
                    &mut heat.slot_writers,
                    &mut heat.slot_sq,
                );
                if let Some(c) = focus_cell {
                    let d = match (self.scratch.get(c), m.slot_heat.get(c)) {
                        (Some(&n), Some(&b)) => n.wrapping_sub(b),
                        _ => 0,
                    };
                    if d > 0 {
                        focus.writers.push((m.shared.index, d));
                    }
                }
            }
            std::mem::swap(&mut self.scratch, &mut m.slot_heat);
            h.read_ring(&mut self.scratch);
            if !fresh && !reset {
                accumulate(
                    &self.scratch,
                    &m.ring_heat,
                    &mut heat.ring_writes,
                    &mut heat.ring_writers,
                    &mut heat.ring_sq,
                );
            }
            std::mem::swap(&mut self.scratch, &mut m.ring_heat);
            let header = h.header();
            let d = header.wrapping_sub(m.header);
            if !fresh && !reset && d > 0 {
                heat.header_writes += d;
                heat.header_writers = heat.header_writers.saturating_add(1);
                heat.header_sq = heat.header_sq.saturating_add(d.saturating_mul(d));
            }
            m.header = header;
        }
    }
}

fn accumulate(now: &[u32], before: &[u32], writes: &mut [u32], writers: &mut [u8], sq: &mut [u64]) {
    for (i, (&n, &b)) in now.iter().zip(before).enumerate() {
        let d = n.wrapping_sub(b);
        if d > 0 {
            writes[i] = writes[i].saturating_add(d);
            writers[i] = writers[i].saturating_add(1);
            sq[i] = sq[i].saturating_add(u64::from(d) * u64::from(d));
        }
    }
}

fn copy_histogram(dst: &mut Histogram<u64>, src: &Histogram<u64>) {
    if !dst.is_empty() {
        dst.reset();
    }
    if !src.is_empty() {
        // Same bounds (both from `latency_histogram`): a plain copy, it cannot fail.
        let _ = dst.add(src);
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        for m in &self.threads {
            m.shared.inbox.sampler_attached.store(false, Ordering::Relaxed);
        }
    }
}
