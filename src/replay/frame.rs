//! From the replay's cursor ([`Player`]) to what the views draw: one owned [`ReplayFrame`] per
//! seek. What stays the same for the whole trace (marks, the activity strip, thread groups,
//! the stop reason) is worked out once, in [`TraceParts`].

use std::collections::BTreeMap;
use std::io;
use std::time::Duration;

use hdrhistogram::Histogram;
use slotscope_stress::LatencySummary;
use slotscope_stress::OpKind;
use slotscope_table::Snapshot;
use slotscope_trace::history::{value_text, KeyText};
use slotscope_trace::replay::{Player, ReplayIndex, WindowStats};
use slotscope_trace::{ControlKind, ReadStop};
use slotscope_trace::{Counter, Counts};
use slotscope_trace::{OpOrigin, OpOutcome};
use slotscope_views::model::{History, SERIES_CAPACITY};
use slotscope_views::{
    HeaderInfo, Inputs, LatencyStats, LineActivity, LineHeat, Mark, MarkKind, OpLatency, ReplayInfo,
    SpectrumPoint, TableSource, ThreadRow, ThreadTable, Timeline, Topology,
};

use super::facts::TraceFacts;
use crate::adapt::{percentiles, SPECTRUM_PERCENTILES};

/// Everything one replay screen draws from, owned.
#[derive(Clone, Debug, Default)]
pub struct ReplayFrame {
    /// The header bar.
    pub header: HeaderInfo,
    /// The table shown (modelled, or a recorded scan); `None` for other backends.
    pub snapshot: Option<Snapshot>,
    /// Per-line writes in the window.
    pub heat: LineHeat,
    /// Writers of the selected line in the window (filled while the detail is open).
    pub line_activity: Option<LineActivity>,
    /// Per-thread counters up to the cursor.
    pub threads: ThreadTable,
    /// Latency: the window (interval) and every op up to the cursor (run).
    pub latency: LatencyStats,
    /// Histories up to the cursor, one value per time slice of the trace.
    pub timeline: Timeline,
    /// Cores are not recorded: empty.
    pub topology: Topology,
    /// The replay bar and badge.
    pub replay: ReplayInfo,
    /// Ops applied (the cursor's rank in time order).
    pub position: u64,
    /// The cursor's time, clock ns.
    pub time_ns: u64,
}

/// A replay has no samples to chart: its charts view says so.
static NO_HISTORY: History = History::new();

impl ReplayFrame {
    /// The views' inputs for this frame.
    pub fn inputs(&self) -> Inputs<'_> {
        Inputs {
            header: &self.header,
            snapshot: self.snapshot.as_ref(),
            heat: &self.heat,
            line_activity: self.line_activity.as_ref(),
            threads: &self.threads,
            latency: &self.latency,
            timeline: &self.timeline,
            history: &NO_HISTORY,
            topology: &self.topology,
        }
    }
}

/// What the replay shows the same way at every cursor position.
#[derive(Clone, Debug, Default)]
pub struct TraceParts {
    /// Counts and times of the trace.
    pub facts: TraceFacts,
    /// Scenario name, for the header.
    pub scenario: String,
    /// Ops per time slice over the whole trace.
    pub activity: Vec<u64>,
    /// Drops, scans, controls, the violation.
    pub marks: Vec<Mark>,
    /// Where and why reading stopped before the end of a clean trace.
    pub stopped: Option<String>,
    /// Thread group names, by index.
    pub groups: Vec<String>,
    /// Each thread's group index.
    pub group_of: BTreeMap<u32, u16>,
    /// One clock read, ns.
    pub timer_cost_ns: f64,
}

impl TraceParts {
    /// The parts of the trace `index` describes.
    pub fn of(index: &ReplayIndex) -> TraceParts {
        let zero = index.zero_ns;
        let rel = |t: u64| rel_ns(t, zero);
        let mut marks = Vec::new();
        marks.extend(index.scans.iter().map(|s| Mark { at_ns: rel(s.started_ns), kind: MarkKind::Scan }));
        marks.extend(
            index
                .controls
                .iter()
                .filter(|c| c.kind != ControlKind::ClockStarted)
                .map(|c| Mark { at_ns: rel(c.clock_ns), kind: MarkKind::Control }),
        );
        marks.extend(index.drops.iter().map(|d| Mark { at_ns: rel(d.first_ns), kind: MarkKind::Drop }));
        let mut groups: Vec<String> = Vec::new();
        let mut group_of = BTreeMap::new();
        for t in &index.threads {
            let g = groups.iter().position(|g| *g == t.group).unwrap_or_else(|| {
                groups.push(t.group.clone());
                groups.len() - 1
            });
            group_of.insert(t.thread, u16::try_from(g).unwrap_or(u16::MAX));
        }
        TraceParts {
            facts: TraceFacts {
                events: index.events,
                zero_ns: zero,
                span_ns: index.span_ns,
                violation: None,
                violation_key: None,
            },
            scenario: index.header.scenario.clone(),
            activity: index.buckets.rows.iter().map(|r| r.ops).collect(),
            marks,
            stopped: stop_text(index.stop()),
            groups,
            group_of,
            timer_cost_ns: index.header.clock_ns_per_read,
        }
    }

    /// Marks the first illegal op `slotscope check` found (its event number and time).
    pub fn mark_violation(&mut self, event: u64, at_ns: u64, key: Option<u64>) {
        self.facts.violation = Some(event);
        self.facts.violation_key = key;
        self.marks.push(Mark { at_ns: rel_ns(at_ns, self.facts.zero_ns), kind: MarkKind::Violation });
    }
}

/// `reading stopped: truncated in record 12 at byte 5000: ...`, or `None` for a whole trace.
pub fn stop_text(stop: &ReadStop) -> Option<String> {
    stop.at_byte().map(|_| format!("reading stopped: {stop}"))
}

/// `t` as ns from the run's time zero (negative: the prefill).
fn rel_ns(t: u64, zero: u64) -> i64 {
    let d = i128::from(t) - i128::from(zero);
    i64::try_from(d).unwrap_or(if d < 0 { i64::MIN } else { i64::MAX })
}

/// `count` over `ns` as a rate per second (display only).
#[allow(clippy::cast_precision_loss)]
fn per_second(count: u64, ns: u64) -> f64 {
    if ns == 0 {
        0.0
    } else {
        count as f64 * 1e9 / ns as f64
    }
}

/// What the cursor of `player` shows. `scan`: the recorded scan at or before the cursor
/// instead of the modelled table; `line`: the slot-array line whose writers to list.
///
/// # Errors
/// The trace could not be read again (for the scan).
pub fn load(player: &Player, parts: &TraceParts, scan: bool, line: Option<usize>) -> io::Result<ReplayFrame> {
    let index = player.index();
    let cursor = player.cursor();
    let window = player.window();
    let t = cursor.time_ns;
    let zero = parts.facts.zero_ns;
    let modelled = cursor.model.as_ref().and_then(|m| m.snapshot());
    let (snapshot, table) = if scan {
        match player.scan_before()? {
            Some((mark, snap)) => {
                (Some(snap), TableSource::Scan { age_ns: t.saturating_sub(mark.started_ns) })
            }
            None => (modelled.cloned(), TableSource::NoScan),
        }
    } else {
        (modelled.cloned(), TableSource::Model)
    };
    let segment = cursor.model.as_ref().map_or(0, |m| m.segment());
    let begin = index.segment(segment);
    let mut f = ReplayFrame { position: cursor.rank, time_ns: t, ..ReplayFrame::default() };

    let h = &mut f.header;
    h.scenario.clone_from(&parts.scenario);
    h.elapsed = Duration::from_nanos(t.saturating_sub(zero));
    h.duration = Some(Duration::from_nanos(parts.facts.span_ns.1.saturating_sub(zero)));
    h.ops_per_s = per_second(window.ops, window.span_ns());
    let running = index
        .threads
        .iter()
        .filter(|i| i.segment == segment && i.started_ns <= t && i.ended_ns.is_none_or(|e| e >= t))
        .count();
    h.threads = u32::try_from(running).unwrap_or(u32::MAX);
    h.len = snapshot.as_ref().map_or(0, |s| s.occupied() as u64);
    h.capacity = snapshot
        .as_ref()
        .map(|s| s.capacity() as u64)
        .or_else(|| begin.and_then(|b| b.capacity))
        .unwrap_or(0);
    h.backend = begin.map_or_else(|| index.header.table.backend.clone(), |b| b.backend.clone());
    h.geometry = snapshot.as_ref().map(Snapshot::geometry);
    h.variant = snapshot.as_ref().map_or(index.header.table.variant, Snapshot::variant);

    fill_heat(&window, h.geometry.is_some(), &mut f.heat);
    f.snapshot = snapshot;
    if let Some(line) = line {
        f.line_activity = Some(LineActivity { line, writers: player.line_writers(line), cas_failures: None });
    }
    f.threads.groups.clone_from(&parts.groups);
    // Threads running at the cursor are listed before their first run op, too.
    let zeros = Counts::ZERO;
    let mut listed: BTreeMap<u32, &Counts> = cursor.counts.iter().map(|(t, c)| (*t, c)).collect();
    for i in index.threads.iter().filter(|i| i.segment == segment && i.started_ns <= t) {
        listed.entry(i.thread).or_insert(&zeros);
    }
    for (&thread, c) in &listed {
        f.threads.rows.push(ThreadRow {
            index: thread,
            group: parts.group_of.get(&thread).copied().unwrap_or(0),
            core: None,
            ops_per_s: per_second(window.per_thread.get(&thread).copied().unwrap_or(0), window.span_ns()),
            lookups: c[Counter::Lookups],
            inserts: c[Counter::Inserts],
            removes: c[Counter::Removes],
            hits: c[Counter::LookupHits],
            misses: c[Counter::LookupMisses],
            ticket_skips: c[Counter::TicketSkips],
            ring_retries: c[Counter::RingRetries],
            full_refusals: c[Counter::InsertsRefused],
            stale_rejections: c[Counter::StaleRejections],
            violations: 0,
        });
    }
    f.latency.timer_cost_ns = parts.timer_cost_ns;
    for (k, out) in f.latency.ops.iter_mut().enumerate() {
        *out = op_latency(&window.latency[k], &cursor.latency[k]);
    }
    fill_timeline(index, t, &mut f.timeline);

    let keys = KeyText { capacity_log2: f.header.geometry.map(|g| g.capacity().trailing_zeros()) };
    let r = &mut f.replay;
    r.cursor_ns = rel_ns(t, zero);
    r.start_ns = rel_ns(parts.facts.span_ns.0, zero);
    r.end_ns = rel_ns(parts.facts.span_ns.1, zero);
    r.position = cursor.rank;
    r.events = parts.facts.events;
    r.event_text = match &cursor.last {
        Some(o) => {
            let e = &o.op;
            let origin = match e.origin {
                OpOrigin::Run => "op",
                OpOrigin::Prefill => "prefill op",
                OpOrigin::Sweep => "end sweep op",
            };
            format!(
                "event #{} · t{}'s {origin} {}: {}  ({} µs after zero, took {} ns)",
                o.event,
                o.thread(),
                e.op_index,
                describe(e.kind, e.outcome, e.key, e.value.map(value_text), keys),
                rel_ns(o.at, zero) / 1000,
                e.end_ns.saturating_sub(e.start_ns)
            )
        }
        None => "before the first op: Space plays, . steps one op".to_owned(),
    };
    r.table = table;
    r.activity.clone_from(&parts.activity);
    r.marks.clone_from(&parts.marks);
    r.stopped.clone_from(&parts.stopped);
    let dropped: Vec<String> =
        index.drops_at(t).map(|d| format!("thread {} dropped {} events here", d.thread, d.count)).collect();
    r.notice = if !dropped.is_empty() {
        Some((format!("{}: what is shown misses them", dropped.join(", ")), true))
    } else if cursor.rank >= parts.facts.events {
        parts.stopped.as_ref().map(|s| (format!("{s}; nothing after it was read"), true))
    } else {
        None
    };
    Ok(f)
}

/// `insert t0#12 -> 5@3`, `lookup 307@0 -> hit (value t0#479)`, `remove 9@1 -> removed`.
fn describe(
    kind: OpKind,
    outcome: OpOutcome,
    key: Option<u64>,
    value: Option<String>,
    keys: KeyText,
) -> String {
    let key = key.map(|k| keys.show(k));
    match (kind, outcome) {
        (OpKind::Insert, OpOutcome::Inserted) => {
            format!("insert {} -> {}", value.unwrap_or_else(|| "?".into()), key.unwrap_or_else(|| "?".into()))
        }
        (OpKind::Insert, OpOutcome::Refused) => "insert -> Full".to_owned(),
        (kind, OpOutcome::Hit) => format!(
            "{} {} -> hit (value {})",
            kind.name(),
            key.unwrap_or_else(|| "?".into()),
            value.unwrap_or_else(|| "unknown".into())
        ),
        (kind, outcome) => {
            format!("{} {} -> {}", kind.name(), key.unwrap_or_else(|| "(no key)".into()), outcome.name())
        }
    }
}

fn fill_heat(w: &WindowStats, has_table: bool, heat: &mut LineHeat) {
    heat.measured = has_table;
    heat.interval_ns = w.span_ns();
    heat.header_writes = w.header_writes;
    heat.header_writers = w.header_writers;
    heat.slots.writes.clone_from(&w.slot_writes);
    heat.slots.writers.clone_from(&w.slot_writers);
    heat.ring.writes.clone_from(&w.ring_writes);
    heat.ring.writers.clone_from(&w.ring_writers);
}

fn op_latency(window: &Histogram<u64>, run: &Histogram<u64>) -> OpLatency {
    let spectrum = if run.is_empty() {
        Vec::new()
    } else {
        SPECTRUM_PERCENTILES
            .iter()
            .map(|&p| SpectrumPoint {
                percentile: p,
                value_ns: if p >= 100.0 { run.max() } else { run.value_at_quantile(p / 100.0) },
            })
            .collect()
    };
    OpLatency {
        interval: percentiles(&LatencySummary::of(window)),
        run: percentiles(&LatencySummary::of(run)),
        spectrum,
        ..OpLatency::default()
    }
}

/// The histories up to the cursor: one value per time slice of the index's buckets, the last
/// [`SERIES_CAPACITY`] of them.
fn fill_timeline(index: &ReplayIndex, t: u64, tl: &mut Timeline) {
    let b = &index.buckets;
    tl.sample_period = Duration::from_nanos(b.width_ns);
    let Some(last) = b.row_of(t).map(|r| r.min(b.rows.len().saturating_sub(1))) else { return };
    if b.rows.is_empty() {
        return;
    }
    let from = (last + 1).saturating_sub(SERIES_CAPACITY);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let rate = |n: u64| per_second(n, b.width_ns) as u64;
    for row in &b.rows[from..=last] {
        tl.ops_per_s.push(rate(row.ops));
        tl.ticket_skips_per_s.push(rate(row.ticket_skips));
        tl.ring_retries_per_s.push(rate(row.ring_retries));
        tl.header_writes_per_s.push(rate(row.header_writes));
        for (s, v) in tl.p99_ns.iter_mut().zip(row.p99_ns) {
            s.push(v);
        }
    }
}
