//! From the engine's [`Sample`] to what the views draw ([`slotscope_views::model`]).
//!
//! One [`Frame`] per sample, refilled in place: every `Vec` is cleared and refilled (keeping
//! its memory), so a frame of a 2^20-slot table costs no allocation once the ring of frames is
//! full. The table snapshot is not copied at all: a fresh scan is *moved* out of the sample
//! into an `Rc` that every frame up to the next scan shares, and the buffer of a snapshot that
//! left the ring goes back to the sampler for its next scan.

use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

use slotscope_stress::LatencySummary;
use slotscope_stress::PinHoldSample;
use slotscope_stress::StopSpec;
use slotscope_stress::{GarbageSample, LineHeat as EngineHeat, OpSample};
use slotscope_stress::{RunSpec, Sample, ThreadState};
use slotscope_table::{Snapshot, Variant};
use slotscope_trace::Counter;
use slotscope_views::model::{ChartPoint, History, SERIES_CAPACITY};
use slotscope_views::{
    expected_transfers, CoreDomain, GroupLatency, HeaderInfo, Inputs, LatencyStats, LineActivity, LineHeat,
    LineWrites, OpLatency, Percentiles, Series, SpectrumPoint, ThreadRow, ThreadTable, Timeline, Topology,
};

/// Percentiles of the whole-run spectrum, ascending (100 is the maximum): the wrk2 ladder's
/// useful rungs, enough for the spectrum chart without walking every histogram bucket.
pub const SPECTRUM_PERCENTILES: [f64; 14] =
    [0.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 99.995, 99.999, 100.0];

/// What the adapter needs to know about the run besides the samples.
#[derive(Clone, Debug, PartialEq)]
pub struct RunFacts {
    /// Scenario name.
    pub scenario: String,
    /// Planned length (`None`: until quit or an op count).
    pub duration: Option<Duration>,
    /// Phases on the timeline (to say "phase 2/6").
    pub phases: usize,
    /// The table variant asked for (the snapshot says which one runs, when there is one).
    pub variant: Variant,
    /// The backend asked for, until the first sample names the one running.
    pub backend: &'static str,
    /// Our table's allocator (updated when `A` switches it).
    pub allocator: slotscope_table::Allocator,
    /// Samples per second asked for (`--sample-hz`): the time axis of the sparklines.
    pub sample_hz: u32,
}

impl RunFacts {
    /// The facts of `spec` sampled at `sample_hz`.
    pub fn of(spec: &RunSpec, sample_hz: u32) -> RunFacts {
        RunFacts {
            scenario: spec.name.clone(),
            duration: match spec.stop {
                StopSpec::Duration(d) => Some(d),
                _ => None,
            },
            phases: spec.phases.len(),
            variant: spec.table.variant,
            backend: spec.table.backend.name(),
            allocator: spec.table.allocator,
            sample_hz: sample_hz.max(1),
        }
    }
}

/// Everything one frame draws from, owned. [`Frame::inputs`] lends it to the views.
#[derive(Clone, Debug, Default)]
pub struct Frame {
    /// The sample it came from (1 = the first).
    pub seq: u64,
    /// The header bar.
    pub header: HeaderInfo,
    /// The table as last scanned; shared by the frames until the next scan. `None` for
    /// backends without a snapshot.
    pub snapshot: Option<Rc<Snapshot>>,
    /// Per-line writes in the interval.
    pub heat: LineHeat,
    /// Per-thread counters.
    pub threads: ThreadTable,
    /// Latency.
    pub latency: LatencyStats,
    /// Histories up to this frame.
    pub timeline: Timeline,
    /// Who wrote the selected line, thread by thread, over [`Frame::activity_window`].
    pub activity: LineActivity,
    /// The time `activity` covers (up to the last second).
    pub activity_window: Duration,
    /// Reuses of the selected line's slots between the last two scans.
    pub churn: Option<Churn>,
    /// Removed elements waiting for reclamation (engines with a garbage gauge).
    pub garbage: Option<GarbageSample>,
    /// The reader holding its pin on purpose, if one was started.
    pub pin_hold: Option<PinHoldSample>,
    /// Wall time between this sample and the previous one.
    pub interval: Duration,
}

/// How often each slot of one line was handed out again between two table scans.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Churn {
    /// The slot line.
    pub line: usize,
    /// New generations per slot of the line, in slot order.
    pub reuses: Vec<u64>,
    /// Time between the two scans.
    pub over: Duration,
}

impl Frame {
    /// An empty frame that names the run (drawn before the first sample).
    pub fn blank(facts: &RunFacts) -> Frame {
        let mut f = Frame::default();
        f.header.scenario.clone_from(&facts.scenario);
        f.header.duration = facts.duration;
        f.header.variant = facts.variant;
        facts.backend.clone_into(&mut f.header.backend);
        f
    }

    /// The views' inputs for this frame.
    pub fn inputs<'a>(&'a self, topology: &'a Topology, history: &'a History) -> Inputs<'a> {
        Inputs {
            header: &self.header,
            snapshot: self.snapshot.as_deref(),
            heat: &self.heat,
            line_activity: (self.activity_window > Duration::ZERO).then_some(&self.activity),
            threads: &self.threads,
            latency: &self.latency,
            timeline: &self.timeline,
            history,
            topology,
        }
    }
}

/// Turns samples into frames; keeps what outlives one frame (the histories, a spare snapshot
/// buffer).
#[derive(Debug, Default)]
pub struct Adapter {
    /// Histories, one value per sample; each frame gets a copy (a few KiB).
    timeline: Timeline,
    /// A snapshot buffer no frame uses any more, handed to the sampler for its next scan.
    spare: Option<Snapshot>,
    /// Per op, whether it ran open loop in the latest interval that had any.
    open_loop: [bool; 3],
    /// The selected line's per-thread writes of the last samples (a second's worth).
    focus: VecDeque<(Duration, Vec<(usize, u32)>)>,
    focus_line: Option<usize>,
    /// The latest churn of the selected line, and the time of the scan it was measured at.
    churn: Option<Churn>,
    last_scan_at: Duration,
    sample_hz: u32,
    /// The charts' points (view 8), shared by every frame: a frame draws those up to its time.
    history: History,
}

impl Adapter {
    /// An adapter with empty histories.
    pub fn new(sample_hz: u32) -> Adapter {
        let timeline =
            Timeline { sample_period: Duration::from_secs(1) / sample_hz.max(1), ..Timeline::default() };
        Adapter {
            timeline,
            spare: None,
            open_loop: [false; 3],
            focus: VecDeque::new(),
            focus_line: None,
            churn: None,
            last_scan_at: Duration::ZERO,
            sample_hz: sample_hz.max(1),
            history: History::default(),
        }
    }

    /// The charts' history up to the newest sample.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Takes back the snapshot of a frame leaving the ring: if no other frame shares it, its
    /// memory serves the next scan.
    pub fn recycle(&mut self, frame: &mut Frame) {
        if let Some(rc) = frame.snapshot.take() {
            if let Ok(snap) = Rc::try_unwrap(rc) {
                self.spare = Some(snap);
            }
        }
    }

    /// Fills `frame` from `sample`. `previous` is the snapshot of the newest frame so far,
    /// shared when this sample did not scan the table. The sample's fresh snapshot is moved
    /// into the frame (the sample gets the spare buffer back for its next scan).
    pub fn fill(
        &mut self,
        sample: &mut Sample,
        facts: &RunFacts,
        previous: Option<&Rc<Snapshot>>,
        frame: &mut Frame,
    ) {
        frame.seq = sample.seq;
        let fresh_scan = sample.snapshot_fresh && sample.snapshot.is_some();
        frame.snapshot = if sample.backend.geometry.is_none() {
            None
        } else if fresh_scan {
            let fresh = std::mem::replace(&mut sample.snapshot, self.spare.take());
            fresh.map(Rc::new)
        } else {
            previous.cloned()
        };
        if fresh_scan {
            self.measure_churn(sample, previous.map(Rc::as_ref), frame.snapshot.as_deref());
        }
        self.fill_focus(sample, frame);
        frame.churn.clone_from(&self.churn);
        frame.garbage = sample.garbage;
        frame.pin_hold = sample.pin_hold;
        frame.interval = sample.interval;
        fill_header(sample, facts, frame.snapshot.as_deref(), &mut frame.header);
        fill_heat(sample, &mut frame.heat);
        fill_threads(sample, &mut frame.threads);
        for (open, op) in self.open_loop.iter_mut().zip(&sample.ops) {
            *open = open_loop_now(op, *open);
        }
        fill_latency(sample, self.open_loop, &mut frame.latency);
        self.push_history(sample);
        copy_timeline(&self.timeline, &mut frame.timeline);
    }

    /// The selected line's writers over the last second of samples.
    fn fill_focus(&mut self, sample: &Sample, frame: &mut Frame) {
        let f = &sample.focus;
        if f.line != self.focus_line {
            self.focus.clear();
            self.focus_line = f.line;
        }
        let a = &mut frame.activity;
        a.writers.clear();
        a.cas_failures = None;
        frame.activity_window = Duration::ZERO;
        let Some(line) = f.line else { return };
        if self.focus.len() >= self.sample_hz as usize {
            self.focus.pop_front();
        }
        self.focus.push_back((sample.interval, f.writers.clone()));
        a.line = line;
        for (interval, writers) in &self.focus {
            frame.activity_window += *interval;
            for &(t, w) in writers {
                let t = u32::try_from(t).unwrap_or(u32::MAX);
                match a.writers.iter_mut().find(|(x, _)| *x == t) {
                    Some(e) => e.1 = e.1.saturating_add(w),
                    None => a.writers.push((t, w)),
                }
            }
        }
        a.writers.sort_unstable_by(|p, q| q.1.cmp(&p.1).then(p.0.cmp(&q.0)));
    }

    /// Generations gained by the selected line's slots between the previous scan and this one.
    fn measure_churn(&mut self, sample: &Sample, before: Option<&Snapshot>, now: Option<&Snapshot>) {
        let at = sample.snapshot_at;
        let over = at.saturating_sub(self.last_scan_at);
        self.last_scan_at = at;
        let (Some(line), Some(before), Some(now)) = (sample.focus.line, before, now) else {
            self.churn = None;
            return;
        };
        let g = now.geometry();
        if before.geometry() != g || line >= g.lines() {
            self.churn = None;
            return;
        }
        let reuses = g
            .slots_of_line(line)
            .map(|s| match (before.generation(s), now.generation(s)) {
                (Some(b), Some(n)) => n.saturating_sub(b),
                _ => 0,
            })
            .collect();
        self.churn = Some(Churn { line, reuses, over });
    }

    fn push_history(&mut self, sample: &Sample) {
        let secs = sample.interval.as_secs_f64();
        let per_s = |n: u64| {
            // Rates for display: f64 is exact enough.
            #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let r = if secs > 0.0 { (n as f64 / secs) as u64 } else { 0 };
            r
        };
        let t = &mut self.timeline;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        t.ops_per_s.push(sample.ops_per_s.max(0.0) as u64);
        t.ticket_skips_per_s.push(per_s(sample.interval_totals[Counter::TicketSkips]));
        t.ring_retries_per_s.push(per_s(sample.interval_totals[Counter::RingRetries]));
        t.header_writes_per_s.push(per_s(sample.heat.header_writes));
        for ((series, op), open) in t.p99_ns.iter_mut().zip(&sample.ops).zip(self.open_loop) {
            series.push(main_summaries(op, open).0.p99);
        }
        let h = &mut self.history;
        if h.groups != sample.groups {
            h.groups.clone_from(&sample.groups);
        }
        let mut point = ChartPoint { at: sample.elapsed, ..ChartPoint::default() };
        point.group_ops_per_s.resize(sample.groups.len(), 0.0);
        for t in &sample.threads {
            if let Some(g) = point.group_ops_per_s.get_mut(t.group) {
                *g += t.ops_per_s;
            }
        }
        for ((out, op), open) in point.latency.iter_mut().zip(&sample.ops).zip(self.open_loop) {
            let s = main_summaries(op, open).0;
            *out = (s.count > 0).then_some([s.p50, s.p99, s.max]);
        }
        h.push(point);
    }
}

fn copy_series(from: &Series, to: &mut Series) {
    to.clear();
    for v in from.tail(SERIES_CAPACITY) {
        to.push(v);
    }
}

fn copy_timeline(from: &Timeline, to: &mut Timeline) {
    to.sample_period = from.sample_period;
    copy_series(&from.ops_per_s, &mut to.ops_per_s);
    copy_series(&from.ticket_skips_per_s, &mut to.ticket_skips_per_s);
    copy_series(&from.ring_retries_per_s, &mut to.ring_retries_per_s);
    copy_series(&from.header_writes_per_s, &mut to.header_writes_per_s);
    for (f, t) in from.p99_ns.iter().zip(to.p99_ns.iter_mut()) {
        copy_series(f, t);
    }
}

fn fill_header(sample: &Sample, facts: &RunFacts, snapshot: Option<&Snapshot>, h: &mut HeaderInfo) {
    if h.scenario != facts.scenario {
        h.scenario.clone_from(&facts.scenario);
    }
    h.phase.clear();
    if let Some(p) = &sample.phase {
        use std::fmt::Write;
        let _ = write!(h.phase, "phase {}/{} ({})", p.index + 1, facts.phases, p.group);
    }
    h.elapsed = sample.elapsed;
    h.duration = facts.duration;
    h.ops_per_s = sample.ops_per_s;
    // The threads working; once the run is done (all of them stopped), the threads it ran.
    let working = if sample.done {
        sample.threads.len()
    } else {
        sample.threads.iter().filter(|t| !t.state.is_over()).count()
    };
    h.threads = u32::try_from(working).unwrap_or(u32::MAX);
    h.len = sample.backend.elements.map_or(0, |n| n as u64);
    h.capacity = sample.backend.capacity.map_or(0, |n| n as u64);
    let name = sample.backend.kind.map_or(facts.backend, |k| k.name());
    if h.backend != name {
        name.clone_into(&mut h.backend);
    }
    h.geometry = sample.backend.geometry;
    h.variant = snapshot.map_or(facts.variant, Snapshot::variant);
    h.allocator = snapshot.map_or(facts.allocator, Snapshot::allocator);
    // The sampler's own time as a share of one core: what watching costs, at this rate.
    h.sampler_cost_pct =
        (sample.seq > 0).then(|| sample.sampler_cost_mean.as_secs_f64() * f64::from(facts.sample_hz) * 100.0);
    h.frozen = false;
    h.paused = sample.paused;
    h.violations = sample.violations;
    let m = &mut h.machine;
    match &sample.machine_watch {
        Some(w) => {
            m.noisy = w.noise_known.then_some(w.noisy);
            m.noise_cores = w.noise_average_cores;
            m.transfer_ns = w.transfer_last_ns;
            m.transfer_changed = w.transfer_changed;
        }
        None => *m = slotscope_views::model::MachineState::default(),
    }
    m.overhead_ns = sample.timing.as_ref().and_then(|t| t.calibration).map(|c| c.overhead_ns_per_op);
}

/// The engine's heat of one array, by cell.
struct CellHeat<'a> {
    writes: &'a [u32],
    writers: &'a [u8],
    sq: &'a [u64],
    per_cell: usize,
}

/// Spreads the engine's heat (cells of `lines_per_cell` lines for big tables) over lines: each
/// line of a cell reads the cell's write count, so a hot cell stays hot at any zoom, and a
/// share of the cell's expected transfers (the cell's own over its lines: the engine cannot
/// tell which of them moved).
fn spread(cells: &CellHeat<'_>, lines: usize, out: &mut LineWrites) {
    out.reset(lines);
    let per_cell = cells.per_cell.max(1);
    let mut transfers = 0.0f32;
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
    for line in 0..lines {
        let c = line / per_cell;
        let n = cells.writes.get(c).copied().unwrap_or(0);
        if line % per_cell == 0 {
            let sq = cells.sq.get(c).copied().unwrap_or(0);
            transfers = (expected_transfers(u64::from(n), sq) / per_cell as f64) as f32;
        }
        out.writes[line] = n;
        out.writers[line] = cells.writers.get(c).copied().unwrap_or(0);
        out.transfers[line] = transfers;
    }
}

fn fill_heat(sample: &Sample, heat: &mut LineHeat) {
    let e: &EngineHeat = &sample.heat;
    heat.measured = !e.slot_writes.is_empty();
    heat.interval_ns = u64::try_from(sample.interval.as_nanos()).unwrap_or(u64::MAX);
    heat.header_writes = e.header_writes;
    heat.header_writers = e.header_writers;
    heat.header_transfers = expected_transfers(e.header_writes, e.header_sq);
    let per_cell = e.lines_per_cell;
    match sample.backend.geometry {
        Some(g) if heat.measured => {
            let slots =
                CellHeat { writes: &e.slot_writes, writers: &e.slot_writers, sq: &e.slot_sq, per_cell };
            spread(&slots, g.lines(), &mut heat.slots);
            let ring =
                CellHeat { writes: &e.ring_writes, writers: &e.ring_writers, sq: &e.ring_sq, per_cell };
            spread(&ring, g.ring_lines(), &mut heat.ring);
        }
        _ => {
            heat.slots.reset(0);
            heat.ring.reset(0);
        }
    }
}

fn fill_threads(sample: &Sample, table: &mut ThreadTable) {
    if table.groups != sample.groups {
        table.groups.clone_from(&sample.groups);
    }
    table.rows.clear();
    // Threads removed live (stopped) leave the table; at the run's end every thread is
    // stopped, and then they all stay, with their final counts.
    let keep = |s: ThreadState| s != ThreadState::Stopped || sample.done;
    for t in sample.threads.iter().filter(|t| keep(t.state)) {
        let c = &t.counts;
        table.rows.push(ThreadRow {
            index: u32::try_from(t.index).unwrap_or(u32::MAX),
            group: u16::try_from(t.group).unwrap_or(u16::MAX),
            core: t.core.and_then(|c| u32::try_from(c).ok()),
            ops_per_s: t.ops_per_s,
            lookups: c[Counter::Lookups],
            inserts: c[Counter::Inserts],
            removes: c[Counter::Removes],
            hits: c[Counter::LookupHits],
            misses: c[Counter::LookupMisses],
            ticket_skips: c[Counter::TicketSkips],
            ring_retries: c[Counter::RingRetries],
            full_refusals: c[Counter::InsertsRefused],
            stale_rejections: c[Counter::StaleRejections],
            violations: c[Counter::Violations],
        });
    }
}

pub(crate) fn percentiles(s: &LatencySummary) -> Percentiles {
    Percentiles {
        count: s.count,
        p50: s.p50,
        p90: s.p90,
        p99: s.p99,
        p999: s.p999,
        p9999: s.p9999,
        max: s.max,
    }
}

/// (interval, run) as the main figures: corrected for coordinated omission while the op runs
/// open loop, service time otherwise. In a run that mixes open- and closed-loop groups the
/// corrected figures cover the open-loop threads only.
fn main_summaries(op: &OpSample, open_loop: bool) -> (&LatencySummary, &LatencySummary) {
    if open_loop {
        (&op.interval_corrected_summary, &op.cumulative_corrected_summary)
    } else {
        (&op.interval_summary, &op.cumulative_summary)
    }
}

/// Whether `op` runs open loop now: its interval has corrected times. An interval without
/// any op of the kind keeps what the last one said (a slow open loop may skip an interval).
fn open_loop_now(op: &OpSample, before: bool) -> bool {
    if op.interval_corrected_summary.count > 0 {
        true
    } else if op.interval_summary.count > 0 {
        false
    } else {
        before
    }
}

fn fill_latency(sample: &Sample, open: [bool; 3], lat: &mut LatencyStats) {
    lat.open_loop = open.iter().any(|&o| o);
    lat.groups.resize_with(sample.group_latency.len(), GroupLatency::default);
    for ((g, ops), name) in lat.groups.iter_mut().zip(&sample.group_latency).zip(&sample.groups) {
        if &g.name != name {
            g.name.clone_from(name);
        }
        for (out, o) in g.ops.iter_mut().zip(ops) {
            // The group's op ran open loop if it has corrected times (this interval or before).
            let corrected = o.interval_corrected.count > 0 || o.cumulative_corrected.count > 0;
            let service = [&o.interval, &o.cumulative];
            *out = op_latency(corrected, service, [&o.interval_corrected, &o.cumulative_corrected]);
        }
    }
    if let Some(t) = &sample.timing {
        lat.timed_every = t.time_every;
        lat.timer_cost_ns = t.ns_per_read;
        lat.floor_ns = t.floor_ns;
        lat.overhead_ns = t.calibration.map(|c| c.overhead_ns_per_op);
    }
    for ((out, op), corrected) in lat.ops.iter_mut().zip(&sample.ops).zip(open) {
        let service = [&op.interval_summary, &op.cumulative_summary];
        let with_corrected = [&op.interval_corrected_summary, &op.cumulative_corrected_summary];
        *out = OpLatency {
            spectrum: std::mem::take(&mut out.spectrum),
            spectrum_uncorrected: std::mem::take(&mut out.spectrum_uncorrected),
            ..op_latency(corrected, service, with_corrected)
        };
        let main = if corrected { &op.cumulative_corrected } else { &op.cumulative };
        fill_spectrum(main, &mut out.spectrum);
        out.spectrum_uncorrected.clear();
        if corrected {
            fill_spectrum(&op.cumulative, &mut out.spectrum_uncorrected);
        }
    }
}

/// One op's rows from its interval and run summaries (`[interval, run]`), without spectra:
/// in open loop (`corrected`) the corrected ones, with the service times beside them; else
/// the service times alone.
fn op_latency(
    corrected: bool,
    service: [&LatencySummary; 2],
    with_corrected: [&LatencySummary; 2],
) -> OpLatency {
    let main = if corrected { with_corrected } else { service };
    let beside = |s: &LatencySummary| if corrected { percentiles(s) } else { Percentiles::default() };
    OpLatency {
        interval: percentiles(main[0]),
        run: percentiles(main[1]),
        interval_uncorrected: beside(service[0]),
        run_uncorrected: beside(service[1]),
        ..OpLatency::default()
    }
}

/// `h`'s value at each of [`SPECTRUM_PERCENTILES`] into `out` (nothing if `h` is empty).
fn fill_spectrum(h: &hdrhistogram::Histogram<u64>, out: &mut Vec<SpectrumPoint>) {
    out.clear();
    if !h.is_empty() {
        out.extend(SPECTRUM_PERCENTILES.iter().map(|&p| SpectrumPoint {
            percentile: p,
            value_ns: if p >= 100.0 { h.max() } else { h.value_at_quantile(p / 100.0) },
        }));
    }
}

/// The machine's cache domains as the threads view shows them; `ui_core` is the core left
/// for the UI, if one was.
pub fn topology(t: &slotscope_stress::machine::topology::Topology, ui_core: Option<usize>) -> Topology {
    use slotscope_stress::machine::topology::Grouping;
    let to_u32 = |c: &usize| u32::try_from(*c).unwrap_or(u32::MAX);
    let domains = t
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let l3 = g.l3.map_or_else(|| format!("L3 #{i}"), |c| format!("L3 of core {c}"));
            let name = match (t.grouping, g.node) {
                (Grouping::Single, _) => "all cores".to_owned(),
                (Grouping::Numa, Some(n)) => format!("node {n}"),
                (Grouping::NumaL3, Some(n)) => format!("node {n} · {l3}"),
                _ => l3,
            };
            CoreDomain { name, cores: g.cores.iter().map(to_u32).collect() }
        })
        .collect();
    Topology { domains, ui_core: ui_core.as_ref().map(to_u32) }
}

/// Records the write heat of busy built-in runs into `views/tests/data/` for the map's sharing
/// test (`views/tests/sharing.rs`): `cargo test --release --bin slotscope -- --ignored
/// record_busy_heat`. The files are committed: the test reads what a real run wrote.
#[cfg(test)]
mod record {
    use std::fmt::Write as _;
    use std::time::Duration;

    use slotscope_stress::scenario::{load_builtin, ValidationContext};
    use slotscope_stress::{Engine, EngineOptions, Sample, SamplerOptions, StopSpec};

    #[test]
    #[ignore = "writes fixtures; run by hand"]
    fn record_busy_heat() {
        let ctx = ValidationContext::detect();
        for name in ["churn", "demo", "false-sharing", "read-heavy"] {
            let mut spec = load_builtin(name, &ctx).unwrap().spec;
            spec.stop = StopSpec::Forever;
            let engine = Engine::start_with_options(spec, EngineOptions::default()).unwrap();
            let mut sampler =
                engine.sampler(SamplerOptions { snapshots: false, ..SamplerOptions::default() });
            let mut sample = Sample::new();
            std::thread::sleep(Duration::from_millis(1500));
            sampler.sample_into(&mut sample);
            std::thread::sleep(Duration::from_millis(100));
            sampler.sample_into(&mut sample);
            drop(sampler);
            let _ = engine.stop();
            let h = &sample.heat;
            let mut out = format!(
                "# {name}: one 100 ms sample of slot-line heat; lines_per_cell interval_ns, then per cell: writes writers sum_sq\n{} {}\n",
                h.lines_per_cell,
                sample.interval.as_nanos()
            );
            for i in 0..h.slot_writes.len() {
                let _ = writeln!(out, "{} {} {}", h.slot_writes[i], h.slot_writers[i], h.slot_sq[i]);
            }
            let path = format!("{}/views/tests/data/heat_{name}.txt", env!("CARGO_MANIFEST_DIR"));
            std::fs::write(&path, out).unwrap();
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use slotscope_stress::BackendKind;
    use slotscope_stress::{BackendSample, PhaseInfo, ThreadSample};
    use slotscope_table::{Geometry, Layout, Table};
    use slotscope_trace::Counts;

    /// A sample of a real (single-threaded, seeded) table of `capacity` slots with two
    /// threads: deterministic, no engine, no clock.
    pub(crate) fn sample(capacity: usize, seq: u64) -> Sample {
        let table: Table<u64> =
            Table::builder().capacity(capacity).layout(Layout::Interleaved).build().unwrap();
        let mut keys = Vec::new();
        for i in 0..(capacity as u64 / 2) {
            keys.push(table.insert(i).unwrap());
        }
        for k in keys.iter().step_by(3) {
            table.remove(*k);
        }
        let g = table.geometry();
        let mut s = Sample::new();
        s.seq = seq;
        s.elapsed = Duration::from_millis(100 * seq);
        s.interval = Duration::from_millis(100);
        s.groups = vec!["writers".into(), "readers".into()];
        s.backend = BackendSample {
            kind: Some(BackendKind::Slotscope),
            description: "slotscope".into(),
            capacity: Some(capacity),
            elements: Some(table.len()),
            geometry: Some(g),
        };
        let counts = |base: u64| {
            let mut c = Counts::ZERO;
            c.0[Counter::Lookups as usize] = base * 10;
            c.0[Counter::Inserts as usize] = base;
            c.0[Counter::Removes as usize] = base / 2;
            c.0[Counter::TicketSkips as usize] = base / 100;
            c
        };
        s.threads = vec![
            ThreadSample {
                index: 0,
                group: 0,
                core: Some(0),
                state: ThreadState::Running,
                counts: counts(1000 * seq),
                interval: counts(1000),
                ops_per_s: 1.15e5,
            },
            ThreadSample {
                index: 1,
                group: 1,
                core: Some(1),
                state: ThreadState::Running,
                counts: counts(5000 * seq),
                interval: counts(5000),
                ops_per_s: 5.75e5,
            },
        ];
        s.interval_totals = counts(6000);
        s.totals = counts(6000 * seq);
        s.ops_per_s = 6.9e5;
        s.phase = Some(PhaseInfo { index: 1, at: Duration::from_secs(10), group: "writers".into() });
        for (i, op) in s.ops.iter_mut().enumerate() {
            for v in 0..1000u64 {
                op.interval.record(40 + v * (i as u64 + 1)).unwrap();
                op.cumulative.record(40 + v * (i as u64 + 1)).unwrap();
            }
            op.interval_summary = LatencySummary::of(&op.interval);
            op.cumulative_summary = LatencySummary::of(&op.cumulative);
        }
        let lines = g.lines();
        s.heat = EngineHeat {
            lines_per_cell: 1,
            slot_writes: (0..lines).map(|l| (l as u32 * 7) % 50).collect(),
            slot_writers: (0..lines).map(|l| (l % 3) as u8).collect(),
            // Two writers share a line equally (n^2 / 2), one writes it alone (n^2).
            slot_sq: (0..lines)
                .map(|l| {
                    let n = ((l as u64) * 7) % 50;
                    if l % 3 == 2 {
                        n * n / 2
                    } else {
                        n * n
                    }
                })
                .collect(),
            ring_writes: vec![3; g.ring_lines()],
            ring_writers: vec![1; g.ring_lines()],
            ring_sq: vec![9; g.ring_lines()],
            header_writes: 1200,
            header_writers: 2,
            header_sq: 600 * 600 * 2,
        };
        s.snapshot = Some(table.snapshot());
        s.snapshot_fresh = true;
        s.sampler_cost_mean = Duration::from_micros(150);
        s.timing = Some(slotscope_stress::TimingInfo {
            source: slotscope_stress::TimeSource::Tsc,
            ns_per_read: 7.5,
            time_every: 4,
            time_every_auto: false,
            clock_tick_ns: 1,
            floor_ns: 22.5,
            clock_share: None,
            calibration: None,
            open_loop_times_every_op: true,
            note: "",
        });
        s
    }

    fn facts() -> RunFacts {
        RunFacts {
            scenario: "demo".into(),
            duration: None,
            phases: 6,
            variant: Variant::Correct,
            backend: "slotscope",
            allocator: slotscope_table::Allocator::Ring,
            sample_hz: 10,
        }
    }

    #[test]
    fn a_sample_becomes_a_frame() {
        let mut s = sample(1024, 3);
        let mut a = Adapter::new(10);
        let mut f = Frame::default();
        a.fill(&mut s, &facts(), None, &mut f);
        assert_eq!(f.header.scenario, "demo");
        assert_eq!(f.header.phase, "phase 2/6 (writers)");
        assert_eq!(f.header.threads, 2);
        assert_eq!(f.header.capacity, 1024);
        assert_eq!(f.header.backend, "slotscope");
        let cost = f.header.sampler_cost_pct.unwrap();
        assert!((cost - 0.15).abs() < 1e-9, "150 µs at 10 Hz is 0.15% of a core, got {cost}");
        assert_eq!(f.threads.rows.len(), 2);
        assert_eq!(f.threads.rows[1].lookups, 5000 * 3 * 10);
        assert_eq!(f.threads.rows[1].ticket_skips, 150);
        assert!(f.heat.measured);
        assert_eq!(f.heat.slots.writes.len(), 128);
        assert_eq!(f.heat.slots.writes(3), 21);
        assert_eq!(f.heat.interval_ns, 100_000_000);
        assert!(!f.latency.open_loop);
        let lookup = &f.latency.ops[0];
        assert_eq!(lookup.run.count, 1000);
        assert_eq!(lookup.run_uncorrected.count, 0, "closed loop has no uncorrected column");
        assert_eq!(lookup.spectrum.len(), SPECTRUM_PERCENTILES.len());
        assert_eq!(lookup.spectrum.last().unwrap().value_ns, s.ops[0].cumulative.max());
        assert_eq!(f.timeline.ops_per_s.last(), Some(690_000));
        assert_eq!(f.timeline.ticket_skips_per_s.last(), Some(600), "60 skips in 100 ms");
        // The snapshot moved into the frame: the sample holds no stale copy of it.
        assert!(f.snapshot.is_some());
        assert!(s.snapshot.is_none());
    }

    #[test]
    fn frames_share_a_snapshot_until_the_next_scan_and_buffers_come_back() {
        let mut a = Adapter::new(10);
        let mut s = sample(256, 1);
        let mut first = Frame::default();
        a.fill(&mut s, &facts(), None, &mut first);
        s.snapshot_fresh = false;
        let mut second = Frame::default();
        a.fill(&mut s, &facts(), first.snapshot.as_ref(), &mut second);
        assert!(Rc::ptr_eq(first.snapshot.as_ref().unwrap(), second.snapshot.as_ref().unwrap()));
        // Leaving the ring: shared, so not recycled yet; then alone, so it is.
        a.recycle(&mut first);
        assert!(a.spare.is_none());
        a.recycle(&mut second);
        assert!(a.spare.is_some());
        // The next fresh scan hands the spare back to the sample.
        s.snapshot = Some(Snapshot::fresh(Geometry::new(256, Layout::Linear, 64).unwrap()));
        s.snapshot_fresh = true;
        let mut third = Frame::default();
        a.fill(&mut s, &facts(), None, &mut third);
        assert!(s.snapshot.is_some() && a.spare.is_none());
        assert_eq!(third.snapshot.unwrap().geometry().layout(), Layout::Linear);
    }

    #[test]
    fn two_groups_get_latency_rows_of_their_own_each_with_its_loop_mode() {
        use slotscope_stress::GroupOpLatency;
        let sum = |count, p50| LatencySummary { count, p50, ..LatencySummary::default() };
        let mut s = sample(256, 1);
        s.groups = vec!["readers".into(), "writers".into()];
        let closed =
            GroupOpLatency { interval: sum(10, 40), cumulative: sum(90, 41), ..GroupOpLatency::default() };
        let open = GroupOpLatency {
            interval: sum(5, 100),
            cumulative: sum(50, 101),
            interval_corrected: sum(5, 9000),
            cumulative_corrected: sum(50, 9001),
        };
        s.group_latency = vec![[closed, GroupOpLatency::default(), GroupOpLatency::default()], [open; 3]];
        let mut f = Frame::default();
        Adapter::new(10).fill(&mut s, &facts(), None, &mut f);
        let g = &f.latency.groups;
        assert_eq!((g[0].name.as_str(), g[1].name.as_str()), ("readers", "writers"));
        // Closed loop: the service time is the row, nothing beside it.
        assert_eq!((g[0].ops[0].interval.p50, g[0].ops[0].run.p50), (40, 41));
        assert_eq!(g[0].ops[0].interval_uncorrected.count, 0);
        assert_eq!(g[0].ops[1].interval.count, 0, "readers insert nothing");
        // Open loop: corrected is the row, the service time beside it.
        assert_eq!((g[1].ops[1].interval.p50, g[1].ops[1].run.p50), (9000, 9001));
        assert_eq!(g[1].ops[1].interval_uncorrected.p50, 100);
        // One group: no group rows.
        s.group_latency.clear();
        Adapter::new(10).fill(&mut s, &facts(), None, &mut f);
        assert!(f.latency.groups.is_empty());
    }

    #[test]
    fn other_backends_get_no_snapshot_and_no_heat() {
        let mut s = sample(256, 1);
        s.backend.kind = Some(BackendKind::DashMap);
        s.backend.geometry = None;
        s.heat = EngineHeat::default();
        let mut f = Frame::default();
        Adapter::new(10).fill(&mut s, &facts(), None, &mut f);
        assert!(f.snapshot.is_none());
        assert!(!f.heat.measured);
        assert_eq!(f.header.backend, "dashmap");
        assert!(f.inputs(&Topology::default(), &History::default()).snapshot.is_none());
    }

    #[test]
    fn coarse_heat_spreads_over_its_lines() {
        let mut out = LineWrites::default();
        // Cell 1: 9 writes by two threads, 6 and 3: 9 - 45/9 = 4 expected transfers.
        spread(&CellHeat { writes: &[5, 9], writers: &[1, 2], sq: &[25, 45], per_cell: 4 }, 7, &mut out);
        assert_eq!(out.writes, [5, 5, 5, 5, 9, 9, 9]);
        assert_eq!(out.writers, [1, 1, 1, 1, 2, 2, 2]);
        assert_eq!(out.transfers, [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0], "the cell's 4 over its 4 lines");
    }

    #[test]
    fn open_loop_ops_show_corrected_and_uncorrected() {
        let mut s = sample(256, 1);
        let op = &mut s.ops[1];
        for v in 0..100u64 {
            op.cumulative_corrected.record(5000 + v).unwrap();
            op.interval_corrected.record(5000 + v).unwrap();
        }
        op.cumulative_corrected_summary = LatencySummary::of(&op.cumulative_corrected);
        op.interval_corrected_summary = LatencySummary::of(&op.interval_corrected);
        let mut f = Frame::default();
        Adapter::new(10).fill(&mut s, &facts(), None, &mut f);
        assert!(f.latency.open_loop);
        let insert = &f.latency.ops[1];
        assert_eq!(insert.run.count, 100, "main figures are the corrected ones");
        assert_eq!(insert.run_uncorrected.count, 1000);
        // 2 significant digits: 5000 falls in a bucket starting at 4992.
        assert!(insert.spectrum[0].value_ns >= 4900, "{:?}", insert.spectrum);
        assert_eq!(f.latency.ops[0].run_uncorrected.count, 0, "lookups ran closed loop");
    }

    #[test]
    fn a_phase_that_goes_closed_loop_shows_service_times_again() {
        let mut s = sample(256, 1);
        let mut a = Adapter::new(10);
        let mut f = Frame::default();
        // Earlier phases were open loop: cumulative corrected times exist, but this
        // interval's inserts ran closed loop.
        let op = &mut s.ops[1];
        op.cumulative_corrected.record(9000).unwrap();
        op.cumulative_corrected_summary = LatencySummary::of(&op.cumulative_corrected);
        a.fill(&mut s, &facts(), None, &mut f);
        assert!(!f.latency.open_loop);
        assert_eq!(f.latency.ops[1].interval.count, 1000, "service times of this interval, not dashes");
        // An open-loop interval, then one without any insert: still open loop.
        let op = &mut s.ops[1];
        op.interval_corrected.record(9000).unwrap();
        op.interval_corrected_summary = LatencySummary::of(&op.interval_corrected);
        a.fill(&mut s, &facts(), None, &mut f);
        assert!(f.latency.open_loop);
        let op = &mut s.ops[1];
        op.interval_corrected_summary = LatencySummary::default();
        op.interval_summary = LatencySummary::default();
        a.fill(&mut s, &facts(), None, &mut f);
        assert!(f.latency.open_loop, "an interval without inserts keeps the mode");
    }

    #[test]
    fn stopped_threads_leave_the_table_until_the_end() {
        let mut s = sample(256, 1);
        s.threads[0].state = ThreadState::Stopped;
        let mut f = Frame::default();
        let mut a = Adapter::new(10);
        a.fill(&mut s, &facts(), None, &mut f);
        assert_eq!(f.threads.rows.len(), 1);
        assert_eq!(f.header.threads, 1);
        s.done = true;
        a.fill(&mut s, &facts(), None, &mut f);
        assert_eq!(f.threads.rows.len(), 2);
    }
}
