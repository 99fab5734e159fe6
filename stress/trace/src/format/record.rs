//! The records of a trace and how each is encoded. The byte layout of every record is written
//! down in `docs/TRACE_FORMAT.md`; keep the two in step (and bump `FORMAT_VERSION` on any
//! incompatible change).

use std::fmt;

use slotscope_table::{Geometry, Layout, Snapshot, Variant};

use super::codec::{Dec, DecodeError, Enc};
use super::geometry::{decode_geometry, decode_layout, decode_variant, encode_geometry};
use super::snapshot::{decode_snapshot, encode_snapshot};
use crate::op::OpKind;
use crate::op::Value;
use crate::op::{OpEvent, OpOrigin, OpOutcome, OpProbes};

/// The type byte of each record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum RecordType {
    /// [`TraceHeader`]: always the first record.
    Header = 1,
    /// [`OpBatch`].
    Ops = 2,
    /// [`DropRecord`].
    Drop = 3,
    /// [`ControlRecord`].
    Control = 4,
    /// [`TableBegin`].
    TableBegin = 5,
    /// [`TableEnd`].
    TableEnd = 6,
    /// [`ThreadStart`].
    ThreadStart = 7,
    /// [`ThreadEnd`].
    ThreadEnd = 8,
    /// [`SnapshotRecord`].
    Snapshot = 9,
    /// [`EndRecord`]: the last record of a cleanly closed trace.
    End = 10,
    /// [`FrontierRecord`] (format version 2 on).
    Frontier = 11,
}

impl RecordType {
    /// The type of a type byte, if known.
    pub fn from_u8(b: u8) -> Option<RecordType> {
        Some(match b {
            1 => RecordType::Header,
            2 => RecordType::Ops,
            3 => RecordType::Drop,
            4 => RecordType::Control,
            5 => RecordType::TableBegin,
            6 => RecordType::TableEnd,
            7 => RecordType::ThreadStart,
            8 => RecordType::ThreadEnd,
            9 => RecordType::Snapshot,
            10 => RecordType::End,
            11 => RecordType::Frontier,
            _ => return None,
        })
    }

    /// The name messages use.
    pub const fn name(self) -> &'static str {
        match self {
            RecordType::Header => "header",
            RecordType::Ops => "ops",
            RecordType::Drop => "drop",
            RecordType::Control => "control",
            RecordType::TableBegin => "table-begin",
            RecordType::TableEnd => "table-end",
            RecordType::ThreadStart => "thread-start",
            RecordType::ThreadEnd => "thread-end",
            RecordType::Snapshot => "snapshot",
            RecordType::End => "end",
            RecordType::Frontier => "frontier",
        }
    }
}

/// The table a run was asked for (the resolved scenario's `[table]`).
#[derive(Clone, Debug, PartialEq)]
pub struct TableInfo {
    /// Backend name (`slotscope`, `dashmap`, ...).
    pub backend: String,
    /// Capacity asked for.
    pub capacity: u64,
    /// Layout of our table.
    pub layout: Layout,
    /// Line size of our table.
    pub line_bytes: u32,
    /// Variant of our table (anything but `correct` is broken on purpose).
    pub variant: Variant,
    /// Prefill fraction.
    pub prefill: f64,
}

/// The machine the run was recorded on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MachineLine {
    /// CPU model name.
    pub cpu_model: String,
    /// Logical cores the OS reports.
    pub logical_cores: u32,
    /// Cores the process could run on.
    pub available_cores: u32,
    /// `os-arch`.
    pub os: String,
}

/// The first record: what was run, where, and how it is recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceHeader {
    /// The slotscope version that wrote the trace.
    pub tool_version: String,
    /// Scenario name.
    pub scenario: String,
    /// Scenario description.
    pub description: String,
    /// The scenario's TOML text (`RunSpec::source`).
    pub source: String,
    /// The command line that repeats the run (flags resolved), if the caller gave one.
    pub command: String,
    /// The seed of every thread's op stream.
    pub seed: u64,
    /// When the run stops, in words (`duration 10s`, `ops 100000`, `forever`).
    pub stop: String,
    /// Threads at the start.
    pub threads: u32,
    /// The table asked for.
    pub table: TableInfo,
    /// The machine.
    pub machine: MachineLine,
    /// Clock source (`tsc` or `instant`) of every timestamp in the trace.
    pub clock: String,
    /// Measured cost of one clock read, ns.
    pub clock_ns_per_read: f64,
    /// Wall-clock time (Unix ms) when recording began.
    pub started_unix_ms: u64,
    /// The recording limit, as given (`1GiB`, `30s`).
    pub limit: String,
    /// Events each thread's buffer holds before it drops.
    pub ring_events: u32,
    /// Interval between periodic table snapshots, ns (0: none).
    pub snapshot_interval_ns: u64,
    /// Tables above this many slots get no periodic snapshots.
    pub snapshot_max_capacity: u64,
    /// How far apart two readings of the clock on different cores can be and still be in
    /// either order, measured at the start (format version 2 on; `None` in older traces).
    pub precision: Option<ClockPrecision>,
}

/// The precision of a recording's clock, measured when recording starts: how close in time two
/// ops on different cores may be before their recorded order stops meaning anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockPrecision {
    /// The smallest step seen between two consecutive fenced readings, ns (at least the
    /// clock's resolution).
    pub resolution_ns: u64,
    /// A bound on the offset between the clocks of any two of the measured cores, ns: for
    /// each pair, the larger of the two smallest one-way differences of a ping-pong (a reading
    /// on one core, then, after the other has seen it, a reading there: that difference is the
    /// transfer time plus the offset, so it bounds the offset from above), then the largest
    /// over the pairs. Includes the transfer time: an upper bound, not an estimate.
    pub cross_core_offset_ns: u64,
    /// How many cores were measured (every pair among them).
    pub cores: u32,
    /// Whether the measuring threads were pinned to those cores. When not, the pairs the
    /// threads ran on are unknown, and the checker uses at least [`UNMEASURED_EPSILON_NS`].
    pub pinned: bool,
}

/// The ε a checker uses when the trace does not say (format version 1) or measured without
/// pinning: 1 µs, far above the resolution and cross-core offsets of the invariant TSCs and
/// OS clocks this tool runs on.
pub const UNMEASURED_EPSILON_NS: u64 = 1_000;

impl ClockPrecision {
    /// ε: A surely precedes B when `A.end + ε < B.start`.
    pub fn epsilon_ns(&self) -> u64 {
        let measured = self.resolution_ns.saturating_add(self.cross_core_offset_ns);
        if self.pinned {
            measured
        } else {
            measured.max(UNMEASURED_EPSILON_NS)
        }
    }
}

impl TraceHeader {
    /// The ε the checker must use for this trace, and, when it is not the measured one, why.
    pub fn epsilon(&self) -> (u64, Option<&'static str>) {
        match self.precision {
            Some(p) if p.pinned => (p.epsilon_ns(), None),
            Some(p) => (
                p.epsilon_ns(),
                Some("the clock's cross-core offset was measured without pinning: ε is at least 1 µs"),
            ),
            None => (
                UNMEASURED_EPSILON_NS,
                Some("this trace (format version 1) does not store its clock's precision: ε is the worst case, 1 µs"),
            ),
        }
    }
}

/// Consecutive ops of one thread. Timestamps and indices are delta-encoded within the record,
/// so each record decodes on its own.
#[derive(Clone, Debug, PartialEq)]
pub struct OpBatch {
    /// Global thread index (every event's `thread`).
    pub thread: u32,
    /// The table segment (0, then +1 per restart) the ops ran on.
    pub segment: u32,
    /// The ops, in the thread's order.
    pub events: Vec<OpEvent>,
}

/// A thread's buffer was full: `count` events were dropped, op indices `first_op ..= last_op`
/// (of `origin`), between `first_ns` (start of the first) and `last_ns` (end of the last).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DropRecord {
    /// Global thread index.
    pub thread: u32,
    /// Table segment.
    pub segment: u32,
    /// Events dropped.
    pub count: u64,
    /// Op index of the first dropped event.
    pub first_op: u64,
    /// Op index of the last dropped event.
    pub last_op: u64,
    /// Start of the first dropped op, clock ns.
    pub first_ns: u64,
    /// End of the last dropped op, clock ns.
    pub last_ns: u64,
}

/// What kind of control event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ControlKind {
    /// Anything without a kind of its own (mix, rate, keys, pins, phases).
    Other = 0,
    /// The run clock started (after the prefill): `clock_ns` is the run's time zero.
    ClockStarted = 1,
    /// Workers paused.
    Pause = 2,
    /// Workers resumed.
    Resume = 3,
    /// Statistics reset.
    ResetStats = 4,
    /// A thread was added.
    AddThread = 5,
    /// A thread was removed.
    RemoveThread = 6,
    /// The table was replaced (layout switch): see the next [`TableBegin`].
    Restart = 7,
    /// Recording stopped early (limit reached); the run went on.
    RecordingStopped = 8,
}

impl ControlKind {
    fn from_u8(b: u8) -> ControlKind {
        match b {
            1 => ControlKind::ClockStarted,
            2 => ControlKind::Pause,
            3 => ControlKind::Resume,
            4 => ControlKind::ResetStats,
            5 => ControlKind::AddThread,
            6 => ControlKind::RemoveThread,
            7 => ControlKind::Restart,
            8 => ControlKind::RecordingStopped,
            _ => ControlKind::Other,
        }
    }

    /// The name timelines use.
    pub const fn name(self) -> &'static str {
        match self {
            ControlKind::Other => "control",
            ControlKind::ClockStarted => "clock started",
            ControlKind::Pause => "pause",
            ControlKind::Resume => "resume",
            ControlKind::ResetStats => "reset stats",
            ControlKind::AddThread => "add thread",
            ControlKind::RemoveThread => "remove thread",
            ControlKind::Restart => "restart",
            ControlKind::RecordingStopped => "recording stopped",
        }
    }
}

/// A live control event, a phase of the timeline, or a note of the recorder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlRecord {
    /// When, clock ns.
    pub clock_ns: u64,
    /// What kind.
    pub kind: ControlKind,
    /// Who: `live`, `phase 2`, `recorder`, ...
    pub source: String,
    /// In words.
    pub what: String,
}

/// A table (segment) begins: the first at the start, one more per restart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableBegin {
    /// Segment number (0 ..).
    pub segment: u32,
    /// When, clock ns.
    pub clock_ns: u64,
    /// Backend name.
    pub backend: String,
    /// The backend's one-line description.
    pub description: String,
    /// Fixed capacity, if it has one.
    pub capacity: Option<u64>,
    /// Our table's geometry (other backends: none).
    pub geometry: Option<Geometry>,
    /// Our table's variant.
    pub variant: Variant,
    /// Our table's magazine size, when it runs the magazine allocator (`None`: the ring, and
    /// every trace before format version 3). Each worker thread holds one writer, so the
    /// writer handles alive are the threads between their start and end records.
    pub magazine: Option<u32>,
}

/// A table (segment) ends, at quiescence: every worker on it has been joined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableEnd {
    /// Segment number.
    pub segment: u32,
    /// When, clock ns.
    pub clock_ns: u64,
    /// Elements the table held at quiescence (if the backend can tell).
    pub elements: Option<u64>,
    /// Successful inserts the workers counted on this table (prefill included).
    pub inserted: u64,
    /// Successful removes the workers counted on this table.
    pub removed: u64,
}

/// A worker started on a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadStart {
    /// Global thread index.
    pub thread: u32,
    /// Table segment.
    pub segment: u32,
    /// Its group's name.
    pub group: String,
    /// When, clock ns.
    pub clock_ns: u64,
}

/// A worker's event stream is complete: it exited and everything it pushed was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThreadEnd {
    /// Global thread index.
    pub thread: u32,
    /// Table segment.
    pub segment: u32,
    /// When the writer saw it, clock ns.
    pub clock_ns: u64,
    /// Events it pushed.
    pub events: u64,
    /// Events it dropped (buffer full, or recording stopped).
    pub dropped: u64,
}

/// A copy of the table's state, taken between `started_ns` and `ended_ns` (weakly consistent,
/// as every snapshot). `at_end` marks the one taken at quiescence when a table ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotRecord {
    /// Table segment.
    pub segment: u32,
    /// Scan start, clock ns.
    pub started_ns: u64,
    /// Scan end, clock ns.
    pub ended_ns: u64,
    /// Taken at quiescence when the table ended.
    pub at_end: bool,
    /// The state.
    pub snapshot: Snapshot,
}

/// How far the trace is complete: every op of the segment that starts before `clock_ns` is in
/// an earlier record, and so is every thread that runs an op from then on (its
/// [`ThreadStart`]). The writer writes one after a pass over every thread's buffer (at most one
/// per [`FRONTIER_INTERVAL_NS`] of clock time), from what that pass saw: for each running
/// thread, the end of the last op it wrote, or a later time the thread declared, before it
/// waited, as one before which it would start no op; for threads not yet started, the time it
/// took the list of threads. A checker reading the file in order can decide everything about
/// the ops before the frontier without waiting for the end of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrontierRecord {
    /// Table segment.
    pub segment: u32,
    /// The frontier, clock ns.
    pub clock_ns: u64,
}

/// The writer writes frontier records at most this often, clock ns (100 µs).
pub const FRONTIER_INTERVAL_NS: u64 = 100_000;

/// Why recording ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum EndReason {
    /// The run reached its end.
    Completed = 0,
    /// The run was stopped before its end (by the user, a signal, a UI).
    Stopped = 1,
    /// `--record-limit` (size) was reached; the run went on without recording.
    SizeLimit = 2,
    /// `--record-limit` (duration) was reached; the run went on without recording.
    DurationLimit = 3,
    /// The engine was dropped without being stopped.
    Abandoned = 4,
}

impl EndReason {
    fn from_u8(b: u8) -> Option<EndReason> {
        Some(match b {
            0 => EndReason::Completed,
            1 => EndReason::Stopped,
            2 => EndReason::SizeLimit,
            3 => EndReason::DurationLimit,
            4 => EndReason::Abandoned,
            _ => return None,
        })
    }

    /// In words.
    pub const fn describe(self) -> &'static str {
        match self {
            EndReason::Completed => "the run completed",
            EndReason::Stopped => "the run was stopped before its end",
            EndReason::SizeLimit => "the recording reached its size limit (the run went on unrecorded)",
            EndReason::DurationLimit => "the recording reached its time limit (the run went on unrecorded)",
            EndReason::Abandoned => "the engine was dropped without stopping",
        }
    }

    /// Whether the run went on after recording stopped (so the history is a prefix).
    pub const fn is_limit(self) -> bool {
        matches!(self, EndReason::SizeLimit | EndReason::DurationLimit)
    }
}

/// The run's results, as far as the trace needs them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Ops done by all threads (prefill not included).
    pub ops: u64,
    /// Self-check violations the engine found.
    pub violations: u64,
    /// Wall time from clock start to stop, ns.
    pub wall_ns: u64,
}

/// The last record of a cleanly closed trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EndRecord {
    /// When, clock ns.
    pub clock_ns: u64,
    /// Why.
    pub reason: EndReason,
    /// Op events written.
    pub events: u64,
    /// Op events dropped.
    pub dropped: u64,
    /// The run's results (absent when recording stopped at a limit before the run ended).
    pub summary: Option<RunSummary>,
}

/// One record of a trace.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    /// See [`TraceHeader`].
    Header(Box<TraceHeader>),
    /// See [`OpBatch`].
    Ops(OpBatch),
    /// See [`DropRecord`].
    Drop(DropRecord),
    /// See [`ControlRecord`].
    Control(ControlRecord),
    /// See [`TableBegin`].
    TableBegin(TableBegin),
    /// See [`TableEnd`].
    TableEnd(TableEnd),
    /// See [`ThreadStart`].
    ThreadStart(ThreadStart),
    /// See [`ThreadEnd`].
    ThreadEnd(ThreadEnd),
    /// See [`FrontierRecord`].
    Frontier(FrontierRecord),
    /// See [`SnapshotRecord`].
    Snapshot(Box<SnapshotRecord>),
    /// See [`EndRecord`].
    End(EndRecord),
}

impl Record {
    /// Its type byte.
    pub fn record_type(&self) -> RecordType {
        match self {
            Record::Header(_) => RecordType::Header,
            Record::Ops(_) => RecordType::Ops,
            Record::Drop(_) => RecordType::Drop,
            Record::Control(_) => RecordType::Control,
            Record::TableBegin(_) => RecordType::TableBegin,
            Record::TableEnd(_) => RecordType::TableEnd,
            Record::ThreadStart(_) => RecordType::ThreadStart,
            Record::ThreadEnd(_) => RecordType::ThreadEnd,
            Record::Snapshot(_) => RecordType::Snapshot,
            Record::End(_) => RecordType::End,
            Record::Frontier(_) => RecordType::Frontier,
        }
    }

    /// Appends the body (everything after the type byte) to `e`.
    pub(crate) fn encode_body(&self, e: &mut Enc) {
        match self {
            Record::Header(h) => encode_header(h, e),
            Record::Ops(b) => encode_ops(b, e),
            Record::Drop(d) => {
                e.varint(u64::from(d.thread));
                e.varint(u64::from(d.segment));
                e.varint(d.count);
                e.varint(d.first_op);
                e.varint(d.last_op);
                e.varint(d.first_ns);
                e.delta(d.last_ns, d.first_ns);
            }
            Record::Control(c) => {
                e.varint(c.clock_ns);
                e.u8(c.kind as u8);
                e.str(&c.source);
                e.str(&c.what);
            }
            Record::TableBegin(t) => {
                e.varint(u64::from(t.segment));
                e.varint(t.clock_ns);
                e.str(&t.backend);
                e.str(&t.description);
                e.opt_varint(t.capacity);
                encode_geometry(t.geometry, e);
                e.str(t.variant.name());
                // Version 3: at the end, so that an older record decodes without it.
                if let Some(m) = t.magazine {
                    e.varint(u64::from(m));
                }
            }
            Record::TableEnd(t) => {
                e.varint(u64::from(t.segment));
                e.varint(t.clock_ns);
                e.opt_varint(t.elements);
                e.varint(t.inserted);
                e.varint(t.removed);
            }
            Record::ThreadStart(t) => {
                e.varint(u64::from(t.thread));
                e.varint(u64::from(t.segment));
                e.str(&t.group);
                e.varint(t.clock_ns);
            }
            Record::ThreadEnd(t) => {
                e.varint(u64::from(t.thread));
                e.varint(u64::from(t.segment));
                e.varint(t.clock_ns);
                e.varint(t.events);
                e.varint(t.dropped);
            }
            Record::Snapshot(s) => {
                e.varint(u64::from(s.segment));
                e.varint(s.started_ns);
                e.delta(s.ended_ns, s.started_ns);
                e.bool(s.at_end);
                encode_snapshot(&s.snapshot, e);
            }
            Record::Frontier(f) => {
                e.varint(u64::from(f.segment));
                e.varint(f.clock_ns);
            }
            Record::End(r) => {
                e.varint(r.clock_ns);
                e.u8(r.reason as u8);
                e.varint(r.events);
                e.varint(r.dropped);
                match r.summary {
                    None => e.u8(0),
                    Some(s) => {
                        e.u8(1);
                        e.varint(s.ops);
                        e.varint(s.violations);
                        e.varint(s.wall_ns);
                    }
                }
            }
        }
    }

    /// Decodes a body of type `t`.
    pub(crate) fn decode_body(t: RecordType, body: &[u8]) -> Result<Record, DecodeError> {
        let mut d = Dec::new(body);
        let r = match t {
            RecordType::Header => Record::Header(Box::new(decode_header(&mut d)?)),
            RecordType::Ops => Record::Ops(decode_ops(&mut d)?),
            RecordType::Drop => {
                let thread = d.varint_u32()?;
                let segment = d.varint_u32()?;
                let count = d.varint()?;
                let first_op = d.varint()?;
                let last_op = d.varint()?;
                let first_ns = d.varint()?;
                let last_ns = d.delta(first_ns)?;
                Record::Drop(DropRecord { thread, segment, count, first_op, last_op, first_ns, last_ns })
            }
            RecordType::Control => Record::Control(ControlRecord {
                clock_ns: d.varint()?,
                kind: ControlKind::from_u8(d.u8()?),
                source: d.str()?,
                what: d.str()?,
            }),
            RecordType::TableBegin => Record::TableBegin(TableBegin {
                segment: d.varint_u32()?,
                clock_ns: d.varint()?,
                backend: d.str()?,
                description: d.str()?,
                capacity: d.opt_varint()?,
                geometry: decode_geometry(&mut d)?,
                variant: decode_variant(&mut d)?,
                magazine: if d.is_empty() { None } else { Some(d.varint_u32()?) },
            }),
            RecordType::TableEnd => Record::TableEnd(TableEnd {
                segment: d.varint_u32()?,
                clock_ns: d.varint()?,
                elements: d.opt_varint()?,
                inserted: d.varint()?,
                removed: d.varint()?,
            }),
            RecordType::ThreadStart => Record::ThreadStart(ThreadStart {
                thread: d.varint_u32()?,
                segment: d.varint_u32()?,
                group: d.str()?,
                clock_ns: d.varint()?,
            }),
            RecordType::ThreadEnd => Record::ThreadEnd(ThreadEnd {
                thread: d.varint_u32()?,
                segment: d.varint_u32()?,
                clock_ns: d.varint()?,
                events: d.varint()?,
                dropped: d.varint()?,
            }),
            RecordType::Snapshot => {
                let segment = d.varint_u32()?;
                let started_ns = d.varint()?;
                let ended_ns = d.delta(started_ns)?;
                let at_end = d.bool()?;
                let snapshot = decode_snapshot(&mut d)?;
                Record::Snapshot(Box::new(SnapshotRecord { segment, started_ns, ended_ns, at_end, snapshot }))
            }
            RecordType::Frontier => {
                Record::Frontier(FrontierRecord { segment: d.varint_u32()?, clock_ns: d.varint()? })
            }
            RecordType::End => {
                let clock_ns = d.varint()?;
                let code = d.u8()?;
                let reason =
                    EndReason::from_u8(code).ok_or_else(|| d.err(format!("unknown end reason {code}")))?;
                let events = d.varint()?;
                let dropped = d.varint()?;
                let summary = match d.u8()? {
                    0 => None,
                    1 => Some(RunSummary { ops: d.varint()?, violations: d.varint()?, wall_ns: d.varint()? }),
                    b => return Err(d.err(format!("byte {b} is not a summary marker"))),
                };
                Record::End(EndRecord { clock_ns, reason, events, dropped, summary })
            }
        };
        if !d.is_empty() {
            return Err(d.err(format!("{} unexpected bytes after the {} record", d.remaining(), t.name())));
        }
        Ok(r)
    }
}

fn encode_header(h: &TraceHeader, e: &mut Enc) {
    e.str(&h.tool_version);
    e.str(&h.scenario);
    e.str(&h.description);
    e.str(&h.source);
    e.str(&h.command);
    e.varint(h.seed);
    e.str(&h.stop);
    e.varint(u64::from(h.threads));
    e.str(&h.table.backend);
    e.varint(h.table.capacity);
    e.str(h.table.layout.name());
    e.varint(u64::from(h.table.line_bytes));
    e.str(h.table.variant.name());
    e.f64(h.table.prefill);
    e.str(&h.machine.cpu_model);
    e.varint(u64::from(h.machine.logical_cores));
    e.varint(u64::from(h.machine.available_cores));
    e.str(&h.machine.os);
    e.str(&h.clock);
    e.f64(h.clock_ns_per_read);
    e.varint(h.started_unix_ms);
    e.str(&h.limit);
    e.varint(u64::from(h.ring_events));
    e.varint(h.snapshot_interval_ns);
    e.varint(h.snapshot_max_capacity);
    // Version 2: the clock's precision, at the end so that a version 1 header decodes as the
    // same fields without it.
    if let Some(p) = h.precision {
        e.varint(p.resolution_ns);
        e.varint(p.cross_core_offset_ns);
        e.varint(u64::from(p.cores));
        e.bool(p.pinned);
    }
}

fn decode_header(d: &mut Dec<'_>) -> Result<TraceHeader, DecodeError> {
    Ok(TraceHeader {
        tool_version: d.str()?,
        scenario: d.str()?,
        description: d.str()?,
        source: d.str()?,
        command: d.str()?,
        seed: d.varint()?,
        stop: d.str()?,
        threads: d.varint_u32()?,
        table: TableInfo {
            backend: d.str()?,
            capacity: d.varint()?,
            layout: decode_layout(d)?,
            line_bytes: d.varint_u32()?,
            variant: decode_variant(d)?,
            prefill: d.f64()?,
        },
        machine: MachineLine {
            cpu_model: d.str()?,
            logical_cores: d.varint_u32()?,
            available_cores: d.varint_u32()?,
            os: d.str()?,
        },
        clock: d.str()?,
        clock_ns_per_read: d.f64()?,
        started_unix_ms: d.varint()?,
        limit: d.str()?,
        ring_events: d.varint_u32()?,
        snapshot_interval_ns: d.varint()?,
        snapshot_max_capacity: d.varint()?,
        precision: if d.is_empty() {
            None
        } else {
            Some(ClockPrecision {
                resolution_ns: d.varint()?,
                cross_core_offset_ns: d.varint()?,
                cores: d.varint_u32()?,
                pinned: d.bool()?,
            })
        },
    })
}

const KEY_TAG_SHIFT: u32 = 59;

/// Flag bits of an event's optional second byte.
const HAS_KEY: u8 = 1;
const HAS_VALUE: u8 = 2;
const HAS_PROBES: u8 = 4;

fn default_has_key(outcome: OpOutcome) -> bool {
    !matches!(outcome, OpOutcome::Skipped | OpOutcome::Refused)
}

fn default_has_value(kind: OpKind, outcome: OpOutcome) -> bool {
    matches!((kind, outcome), (OpKind::Insert, OpOutcome::Inserted) | (OpKind::Lookup, OpOutcome::Hit))
}

fn encode_ops(b: &OpBatch, e: &mut Enc) {
    e.varint(u64::from(b.thread));
    e.varint(u64::from(b.segment));
    // Keys of our table carry their capacity in the top five bits; XOR-ing that away makes
    // them short varints. Any tag works (it is stored); the first key's is the likely one.
    let tag = b.events.iter().find_map(|ev| ev.key).map_or(0, |k| k >> KEY_TAG_SHIFT);
    // The tag is five bits.
    #[allow(clippy::cast_possible_truncation)]
    e.u8(tag as u8);
    let xor = tag << KEY_TAG_SHIFT;
    e.varint(b.events.len() as u64);
    let mut next_op = 0u64;
    let mut prev_end = 0u64;
    for ev in &b.events {
        let has_key = ev.key.is_some();
        let has_value = ev.value.is_some();
        let has_probes = !ev.probes.is_zero();
        let extra = has_key != default_has_key(ev.outcome)
            || has_value != default_has_value(ev.kind, ev.outcome)
            || has_probes;
        // Positions in small enums: they fit the bit fields.
        #[allow(clippy::cast_possible_truncation)]
        let tag = ev.kind as u8
            | (outcome_code(ev.outcome) << 2)
            | ((ev.origin as u8) << 5)
            | (u8::from(extra) << 7);
        e.u8(tag);
        if extra {
            e.u8(if has_key { HAS_KEY } else { 0 }
                | if has_value { HAS_VALUE } else { 0 }
                | if has_probes { HAS_PROBES } else { 0 });
        }
        e.delta(ev.op_index, next_op);
        e.delta(ev.start_ns, prev_end);
        e.delta(ev.end_ns, ev.start_ns);
        if let Some(k) = ev.key {
            e.varint(k ^ xor);
        }
        if let Some(v) = ev.value {
            e.varint(v.thread);
            e.varint(v.seq);
        }
        if has_probes {
            e.varint(u64::from(ev.probes.ticket_skips));
            e.varint(u64::from(ev.probes.ring_retries));
            e.varint(u64::from(ev.probes.full_undos));
            e.varint(u64::from(ev.probes.stale_rejections));
        }
        next_op = ev.op_index.wrapping_add(1);
        prev_end = ev.end_ns;
    }
}

fn outcome_code(o: OpOutcome) -> u8 {
    // At most 7 outcomes.
    #[allow(clippy::cast_possible_truncation)]
    let code = OpOutcome::ALL.iter().position(|&x| x == o).unwrap_or(0) as u8;
    code
}

/// Smallest encoded event: tag, op delta, start delta, duration.
const MIN_EVENT_BYTES: usize = 4;

fn decode_ops(d: &mut Dec<'_>) -> Result<OpBatch, DecodeError> {
    let thread = d.varint_u32()?;
    let segment = d.varint_u32()?;
    let tag = d.u8()?;
    if tag > 31 {
        return Err(d.err(format!("key tag {tag} is not five bits")));
    }
    let xor = u64::from(tag) << KEY_TAG_SHIFT;
    let n = d.count(MIN_EVENT_BYTES)?;
    let mut events = Vec::with_capacity(n);
    let mut next_op = 0u64;
    let mut prev_end = 0u64;
    for _ in 0..n {
        let t = d.u8()?;
        let kind =
            OpKind::ALL.get(usize::from(t & 3)).copied().ok_or_else(|| d.err("op kind 3 is unknown"))?;
        let outcome = OpOutcome::ALL
            .get(usize::from((t >> 2) & 7))
            .copied()
            .ok_or_else(|| d.err("outcome code 7 is unknown"))?;
        let origin = OpOrigin::ALL
            .get(usize::from((t >> 5) & 3))
            .copied()
            .ok_or_else(|| d.err("origin code 3 is unknown"))?;
        let (has_key, has_value, has_probes) = if t & 0x80 != 0 {
            let f = d.u8()?;
            if f & !(HAS_KEY | HAS_VALUE | HAS_PROBES) != 0 {
                return Err(d.err(format!("unknown event flags {f:#x}")));
            }
            (f & HAS_KEY != 0, f & HAS_VALUE != 0, f & HAS_PROBES != 0)
        } else {
            (default_has_key(outcome), default_has_value(kind, outcome), false)
        };
        let op_index = d.delta(next_op)?;
        let start_ns = d.delta(prev_end)?;
        let end_ns = d.delta(start_ns)?;
        let key = if has_key { Some(d.varint()? ^ xor) } else { None };
        let value = if has_value { Some(Value { thread: d.varint()?, seq: d.varint()? }) } else { None };
        let probes = if has_probes {
            OpProbes {
                ticket_skips: d.varint_u32()?,
                ring_retries: d.varint_u32()?,
                full_undos: d.varint_u32()?,
                stale_rejections: d.varint_u32()?,
            }
        } else {
            OpProbes::default()
        };
        events.push(OpEvent {
            thread: thread as usize,
            op_index,
            kind,
            key,
            outcome,
            value,
            origin,
            probes,
            start_ns,
            end_ns,
        });
        next_op = op_index.wrapping_add(1);
        prev_end = end_ns;
    }
    Ok(OpBatch { thread, segment, events })
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
