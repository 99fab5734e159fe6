//! A recorded run as a history to check.
//!
//! - [`check::check_file`] checks a trace as it reads it ([`stream::Checker`]): memory follows
//!   the live keys and the ops not yet decided, not the length of the run. [`check()`] runs
//!   the same checks on a [`History`] held in memory.
//! - [`History::read`] loads a whole trace (the replay and re-execution need it);
//!   [`History::read_around`] loads only what a finding's timeline and test need.
//! - [`timeline`] draws the events around a finding; [`emit`] writes a finding as a Rust
//!   test.
//!
//! | file | what lives there |
//! |---|---|
//! | `findings.rs` | finding kinds, findings, options, the outcome |
//! | `stream.rs` | the streaming checker: frontier, deciding ops, gaps, the end state |
//! | `keys.rs` | per-key state, the precedence rule, the named per-key checks, windows |
//! | `claims.rs` | the sweep through time: capacity, `Full`, periodic snapshots |
//! | `lin.rs` | the linearizability search of one window |
//!
//! The checks and what each one can and cannot conclude are written down in
//! `docs/CHECKING.md`.

pub mod check;
pub(crate) mod claims;
pub mod emit;
pub mod findings;
pub(crate) mod keys;
pub mod lin;
pub mod stream;
pub mod timeline;

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use crate::format::{
    ControlRecord, DropRecord, EndRecord, ReadStop, Record, SnapshotRecord, TableBegin, TableEnd, TraceError,
    TraceHeader, TraceReader,
};
use crate::op::OpKind;
use crate::op::Value;
use crate::op::{OpEvent, OpOrigin, OpOutcome};

pub use check::{check, check_file, CheckReport, Progress};
pub use findings::{CheckOptions, CheckOutcome, Finding, FindingKind, Gap};
pub use keys::Precedence;

/// One op of the history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Op {
    /// Its event number in the trace (position among all op events, from 0).
    pub event: u64,
    /// Global thread index.
    pub thread: u32,
    /// The thread's op index (see [`OpOrigin`]).
    pub op_index: u64,
    /// Lookup, insert or remove.
    pub kind: OpKind,
    /// What happened.
    pub outcome: OpOutcome,
    /// Run, prefill or sweep.
    pub origin: OpOrigin,
    /// The key used or handed out.
    pub key: Option<u64>,
    /// The value stored or found.
    pub value: Option<Value>,
    /// Start, clock ns.
    pub start: u64,
    /// End, clock ns.
    pub end: u64,
}

impl Op {
    pub(crate) fn of(event: u64, e: &OpEvent) -> Op {
        Op {
            event,
            thread: u32::try_from(e.thread).unwrap_or(u32::MAX),
            op_index: e.op_index,
            kind: e.kind,
            outcome: e.outcome,
            origin: e.origin,
            key: e.key,
            value: e.value,
            start: e.start_ns,
            end: e.end_ns.max(e.start_ns),
        }
    }

    /// Whether the op changed or depends on the table (skipped ops did nothing).
    pub fn acted(&self) -> bool {
        self.outcome != OpOutcome::Skipped
    }
}

/// How a key is shown: `slot@generation` for our table's keys, hex otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyText {
    /// log2 of the capacity, if keys are our table's.
    pub capacity_log2: Option<u32>,
}

impl KeyText {
    /// The text of `key`.
    pub fn show(&self, key: u64) -> String {
        match self.capacity_log2 {
            Some(log2) if key >> 59 == u64::from(log2) => {
                let k = slotscope_table::Key::from_bits(key);
                format!("{}@{}", k.slot(), k.generation())
            }
            _ => format!("{key:#x}"),
        }
    }
}

/// A value as timelines show it: `t0#77` (thread 0's insert number 77).
pub fn value_text(v: Value) -> String {
    format!("t{}#{}", v.thread, v.seq)
}

impl Op {
    /// One line: `lookup 5@3 -> hit (value t0#77)`.
    pub fn describe(&self, keys: KeyText) -> String {
        let key = self.key.map(|k| keys.show(k));
        let value = self.value.map(value_text);
        match (self.kind, self.outcome) {
            (OpKind::Insert, OpOutcome::Inserted) => format!(
                "insert {} -> {}",
                value.unwrap_or_else(|| "?".into()),
                key.unwrap_or_else(|| "?".into())
            ),
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

    /// `event 18342 (thread 1, op 9021)`, naming prefill and sweep ops as such.
    pub fn label(&self) -> String {
        let origin = match self.origin {
            OpOrigin::Run => "op",
            OpOrigin::Prefill => "prefill op",
            OpOrigin::Sweep => "end sweep op",
        };
        format!("event {} (thread {}, {origin} {})", self.event, self.thread, self.op_index)
    }
}

/// One table of the run, with its ops.
#[derive(Clone, Debug, Default)]
pub struct Segment {
    /// Segment number.
    pub index: u32,
    /// How it began.
    pub begin: Option<TableBegin>,
    /// How it ended (absent if the trace stops first).
    pub end: Option<TableEnd>,
    /// Its ops, in event order.
    pub ops: Vec<Op>,
    /// Drops.
    pub drops: Vec<DropRecord>,
    /// The snapshot at its end, at quiescence.
    pub final_snapshot: Option<SnapshotRecord>,
    /// Periodic snapshots: (scan start, scan end, occupied slots).
    pub snapshots: Vec<(u64, u64, usize)>,
    /// Threads that started on it.
    pub threads: BTreeSet<u32>,
    /// Threads whose every event is in the trace (their ThreadEnd was written).
    pub threads_complete: BTreeSet<u32>,
}

impl Segment {
    /// Our table's capacity, if it is our table.
    pub fn capacity(&self) -> Option<u64> {
        self.begin.as_ref().and_then(|b| b.geometry).map(|g| g.capacity() as u64)
    }

    /// Where the finding's illegal op and its evidence are among this segment's ops (ops
    /// that are not held, e.g. outside a window read with [`History::read_around`], are left
    /// out).
    pub fn positions(&self, finding: &Finding) -> (Option<usize>, Vec<usize>) {
        let at = |o: &Op| self.ops.binary_search_by_key(&o.event, |x| x.event).ok();
        (finding.op.as_ref().and_then(at), finding.evidence.iter().filter_map(at).collect())
    }

    /// How keys are shown.
    pub fn key_text(&self) -> KeyText {
        KeyText { capacity_log2: self.begin.as_ref().and_then(|b| b.geometry).map(|g| g.capacity_log2()) }
    }
}

/// A whole recorded run, ready to check.
#[derive(Clone, Debug)]
pub struct History {
    /// The trace's header.
    pub header: TraceHeader,
    /// Its tables, in order.
    pub segments: Vec<Segment>,
    /// Control events.
    pub controls: Vec<ControlRecord>,
    /// The end record, if the trace was closed cleanly.
    pub end: Option<EndRecord>,
    /// Why reading stopped.
    pub stop: ReadStop,
    /// Op events read.
    pub events: u64,
}

impl History {
    /// Reads the trace at `path`.
    ///
    /// # Errors
    /// [`TraceError`] when the file is not a readable trace.
    pub fn read(path: &Path) -> Result<History, TraceError> {
        let (header, reader) = TraceReader::open(path)?;
        let history = History::from_records(header, reader);
        history.consistency().map_err(TraceError::Inconsistent)?;
        Ok(history)
    }

    /// Whether the trace's records agree with one another, as a recording's always do: a
    /// table's size and shape agree with its header, every op comes from a thread that started
    /// on its table, and a whole recording holds the prefill its header promises. A trace that
    /// does not is damaged or made by hand; checking it would answer about a run that never
    /// happened.
    ///
    /// # Errors
    /// The first disagreement, in words.
    pub fn consistency(&self) -> Result<(), String> {
        for s in &self.segments {
            if let Some(b) = &s.begin {
                if let (Some(g), Some(c)) = (b.geometry, b.capacity) {
                    if g.capacity() as u64 != c {
                        return Err(format!(
                            "table {} is described as {c} slots and as a geometry of {} slots",
                            s.index,
                            g.capacity()
                        ));
                    }
                }
                if let Some(g) = b.geometry {
                    if (g.capacity() as u64) < self.header.table.capacity {
                        return Err(format!(
                            "table {} has {} slots, fewer than the {} the header asked for",
                            s.index,
                            g.capacity(),
                            self.header.table.capacity
                        ));
                    }
                }
            } else if !s.ops.is_empty() {
                return Err(format!("table {} has ops but no description of the table", s.index));
            }
            if let Some(op) = s.ops.iter().find(|o| !s.threads.contains(&o.thread)) {
                return Err(format!(
                    "{} comes from thread {}, which never started on table {}",
                    op.label(),
                    op.thread,
                    s.index
                ));
            }
        }
        // A whole recording of the first table holds every prefill insert.
        let whole =
            self.end.is_some() && self.stop.is_clean() && self.segments.iter().all(|s| s.drops.is_empty());
        if let (true, Some(first)) = (whole, self.segments.first()) {
            if let Some(cap) = first.capacity() {
                #[allow(
                    clippy::cast_precision_loss,
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss
                )]
                let asked = (self.header.table.prefill.clamp(0.0, 1.0) * cap as f64).round() as u64;
                let recorded = first.ops.iter().filter(|o| o.origin == OpOrigin::Prefill).count() as u64;
                // A refused prefill insert (a full table) ends the prefill early, legally.
                let cut_by_full = first
                    .ops
                    .iter()
                    .any(|o| o.origin == OpOrigin::Prefill && o.outcome == OpOutcome::Refused);
                if recorded < asked.min(cap) && !cut_by_full {
                    return Err(format!(
                        "the header promises a table of {cap} slots prefilled to {}, i.e. {asked} prefill inserts, but the whole trace holds {recorded}",
                        self.header.table.prefill
                    ));
                }
            }
        }
        Ok(())
    }

    /// Reads from the trace at `path` only what `finding`'s timeline and emitted test need:
    /// its segment's ops within `pad` ns of its evidence, the ops on its keys up to its
    /// illegal op, and its evidence itself; everything but ops whole. Memory follows the
    /// window, not the trace.
    ///
    /// # Errors
    /// As [`History::read`].
    pub fn read_around(path: &Path, finding: &Finding, pad: u64) -> Result<History, TraceError> {
        let (header, reader) = TraceReader::open(path)?;
        let involved: Vec<&Op> = finding.op.iter().chain(finding.evidence.iter()).collect();
        let lo = involved.iter().map(|o| o.start).min().unwrap_or(finding.span.0).saturating_sub(pad);
        let hi = involved.iter().map(|o| o.end).max().unwrap_or(finding.span.1).saturating_add(pad);
        let horizon = finding.op.map_or(hi, |o| o.end.saturating_add(pad));
        let keys: BTreeSet<u64> = involved.iter().filter_map(|o| o.key).chain(finding.key).collect();
        let events: BTreeSet<u64> = finding.events().into_iter().collect();
        let segment = finding.segment;
        let mut keep = |seg: u32, o: &Op| {
            seg == segment
                && ((o.end >= lo && o.start <= hi)
                    || events.contains(&o.event)
                    || o.key.is_some_and(|k| keys.contains(&k)) && o.end <= horizon)
        };
        Ok(History::from_records_kept(header, reader, &mut keep))
    }

    /// Builds the history from a reader positioned after the header.
    pub fn from_records<R: Read>(header: TraceHeader, reader: TraceReader<R>) -> History {
        History::from_records_kept(header, reader, &mut |_, _| true)
    }

    /// [`History::from_records`], keeping only the ops `keep` (segment, op) accepts.
    fn from_records_kept<R: Read>(
        header: TraceHeader,
        mut reader: TraceReader<R>,
        keep: &mut dyn FnMut(u32, &Op) -> bool,
    ) -> History {
        let mut segments: Vec<Segment> = Vec::new();
        let mut controls = Vec::new();
        let mut end = None;
        let mut events = 0u64;
        fn seg(segments: &mut Vec<Segment>, i: u32) -> &mut Segment {
            let pos = segments.iter().position(|s| s.index == i).unwrap_or_else(|| {
                segments.push(Segment { index: i, ..Segment::default() });
                segments.len() - 1
            });
            &mut segments[pos]
        }
        while let Some((_, r)) = reader.next_record() {
            match r {
                Record::Ops(b) => {
                    let s = seg(&mut segments, b.segment);
                    for e in &b.events {
                        let op = Op::of(events, e);
                        if keep(b.segment, &op) {
                            s.ops.push(op);
                        }
                        events += 1;
                    }
                }
                Record::Drop(d) => seg(&mut segments, d.segment).drops.push(d),
                Record::TableBegin(t) => {
                    let i = t.segment;
                    seg(&mut segments, i).begin = Some(t);
                }
                Record::TableEnd(t) => seg(&mut segments, t.segment).end = Some(t),
                Record::ThreadStart(t) => {
                    seg(&mut segments, t.segment).threads.insert(t.thread);
                }
                Record::ThreadEnd(t) => {
                    seg(&mut segments, t.segment).threads_complete.insert(t.thread);
                }
                Record::Snapshot(s) => {
                    let target = seg(&mut segments, s.segment);
                    if s.at_end {
                        target.final_snapshot = Some(*s);
                    } else {
                        target.snapshots.push((s.started_ns, s.ended_ns, s.snapshot.occupied()));
                    }
                }
                Record::Control(c) => controls.push(c),
                Record::End(e) => end = Some(e),
                Record::Header(_) | Record::Frontier(_) => {}
            }
        }
        segments.sort_by_key(|s| s.index);
        History {
            header,
            segments,
            controls,
            end,
            stop: reader.stop().cloned().unwrap_or(ReadStop::End),
            events,
        }
    }

    /// When the run clock started (after the prefill), if recorded.
    pub fn clock_start(&self) -> Option<u64> {
        self.controls.iter().find(|c| c.kind == crate::format::ControlKind::ClockStarted).map(|c| c.clock_ns)
    }

    /// Whether the trace holds every op of the run: closed cleanly after the run ended, with
    /// nothing dropped.
    pub fn is_complete(&self) -> bool {
        self.stop.is_clean()
            && self.end.is_some_and(|e| !e.reason.is_limit() && e.dropped == 0)
            && self.segments.iter().all(|s| s.drops.is_empty())
    }
}
