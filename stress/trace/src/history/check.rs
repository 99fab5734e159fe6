//! The checks of `slotscope check`: the front end of the streaming checker ([`Checker`]).
//!
//! 1. **Per key**, with the precedence rule (`keys.rs`): A surely precedes B when both ran on
//!    one thread and A came first, or when `A.end + ε < B.start` (ε from the trace's header:
//!    the clock's resolution plus the measured offset between cores). For an op x on key K the
//!    checker counts inserts of K that surely precede x or possibly do (do not surely follow
//!    it), and the same for successful removes; a result that no placement of the possible ops
//!    can explain is a violation:
//!    - an insert that hands out K while K is surely live (duplicate live key);
//!    - a successful remove of K while K is surely not live (stale or double removal);
//!    - a lookup hit on K while K is surely not live (stale read);
//!    - a lookup miss or failed remove while K is surely live (lost insert).
//!
//!    Values carry the (thread, seq) of the insert that stored them, so a hit is also checked
//!    against the insert it names: another key's value, a value removed before the lookup
//!    began, or a value no insert stored.
//! 2. **Capacity** (our table; `claims.rs`): more than N keys surely live at once; `Full` when
//!    fewer than N claims can have been held at any instant of the refused insert's interval
//!    (the definition of `Full` in `table/IMPLEMENTATION.md`: live elements, inserts and
//!    removes in flight, other refusals in flight); periodic snapshots within the bounds.
//! 3. **The end state**: the table's element count and its final snapshot (taken at
//!    quiescence) against the keys the history leaves live.
//! 4. **Linearizability per key** (`lin.rs`), for keys the named checks passed.
//!
//! Missing events never make a violation. A finding whose evidence stretch touches a gap
//! (dropped events, the unrecorded tail after a recording limit) is reported as *incomplete*
//! instead, except for findings that rest on the value's identity alone (another key's value,
//! a removed value): no missing op can explain those. A finding on a key whose recorded
//! history does not begin with its insert, and every finding that counts over the whole table
//! (capacity, `Full`, snapshots, the end state), rests on the whole history before it.

use std::io::Read;
use std::path::Path;

pub use super::findings::{
    CheckOptions, CheckOutcome, Finding, FindingKind, Gap, LinStats, DEFAULT_MAX_WINDOW_OPS,
    DEFAULT_WINDOW_TIME_LIMIT,
};
use super::stream::Checker;
use super::History;
use crate::format::{EndRecord, ReadStop, TraceError, TraceHeader, TraceReader};

/// Runs every check on a history held in memory.
pub fn check(history: &History, options: &CheckOptions) -> CheckOutcome {
    let mut c = Checker::in_memory(&history.header, *options);
    for seg in &history.segments {
        if let Some(b) = &seg.begin {
            c.table_begin(b);
        }
        for &t in &seg.threads {
            c.thread_start(seg.index, t, 0);
        }
        for op in &seg.ops {
            c.op(seg.index, *op);
        }
        for d in &seg.drops {
            c.drop_record(*d);
        }
        for &(from, to, occupied) in &seg.snapshots {
            c.periodic_snapshot(seg.index, from, to, occupied);
        }
        for &t in &seg.threads_complete {
            c.thread_end(seg.index, t);
        }
        if let Some(e) = seg.end {
            c.table_end(e);
        }
        if let Some(s) = &seg.final_snapshot {
            c.final_snapshot(seg.index, &s.snapshot);
        }
    }
    if let Some(e) = history.end {
        c.record(&crate::format::Record::End(e));
    }
    // A history in memory was checked for consistency when it was read.
    c.finish(&history.stop).unwrap_or_else(|why| CheckOutcome { notes: vec![why], ..CheckOutcome::default() })
}

/// How far a check of a file has come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of the file read.
    pub bytes: u64,
    /// Bytes in the file (0 when unknown: a pipe).
    pub total: u64,
    /// Op events read.
    pub events: u64,
}

/// How often [`check_file`] reports progress (records between two looks at the clock).
const PROGRESS_EVERY: u64 = 256;

/// What `check` needs to say about a trace besides its findings.
#[derive(Clone, Debug)]
pub struct CheckReport {
    /// The trace's header.
    pub header: TraceHeader,
    /// Its end record, if it has one.
    pub end: Option<EndRecord>,
    /// Why reading stopped.
    pub stop: ReadStop,
    /// Op events read.
    pub events: u64,
    /// Table segments.
    pub segments: usize,
    /// The findings.
    pub outcome: CheckOutcome,
}

impl CheckReport {
    /// Whether the trace holds the whole run: closed cleanly, nothing cut off.
    pub fn is_whole(&self) -> bool {
        self.end.is_some() && self.stop.is_clean()
    }
}

/// Checks the trace at `path` as it reads it, calling `progress` now and then (about every
/// 100 ms).
///
/// # Errors
/// [`TraceError`] when the file is not a readable trace, or its records contradict each
/// other ([`TraceError::Inconsistent`]).
pub fn check_file(
    path: &Path,
    options: &CheckOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<CheckReport, TraceError> {
    let total = std::fs::metadata(path).map_or(0, |m| if m.is_file() { m.len() } else { 0 });
    let (header, reader) = TraceReader::open(path)?;
    check_reader(header, reader, total, options, progress)
}

/// [`check_file`] on any reader positioned after the header.
///
/// # Errors
/// As [`check_file`].
pub fn check_reader<R: Read>(
    header: TraceHeader,
    mut reader: TraceReader<R>,
    total: u64,
    options: &CheckOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<CheckReport, TraceError> {
    let mut c = Checker::new(&header, *options);
    let mut records = 0u64;
    let mut last = std::time::Instant::now();
    while let Some((_, r)) = reader.next_record() {
        c.record(&r);
        records += 1;
        if records.is_multiple_of(PROGRESS_EVERY) && last.elapsed() >= std::time::Duration::from_millis(100) {
            last = std::time::Instant::now();
            progress(Progress { bytes: reader.offset(), total, events: c.events() });
        }
    }
    progress(Progress { bytes: reader.offset(), total, events: c.events() });
    let stop = reader.stop().cloned().unwrap_or(ReadStop::End);
    let (end, events, segments) = (c.end_record(), c.events(), c.segments());
    let outcome = c.finish(&stop).map_err(TraceError::Inconsistent)?;
    Ok(CheckReport { header, end, stop, events, segments, outcome })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{DropRecord, ReadStop, SnapshotRecord, TableBegin, TableEnd, TraceReader};
    use crate::history::{History, Op, Segment};
    use crate::op::OpOrigin;
    use crate::op::{OpKind, OpOutcome, Value};
    use slotscope_table::{Geometry, Key, Layout, SlotState, Snapshot, Variant};

    const N: usize = 16;

    fn geometry() -> Geometry {
        Geometry::new(N, Layout::Interleaved, 64).unwrap()
    }

    fn key(slot: usize, generation: u64) -> u64 {
        geometry().key(generation, slot).bits()
    }

    /// Builds ops from terse rows: (thread, kind, outcome, key, value seq, start, end). Values
    /// are `(thread, seq)` of the inserting thread for inserts; for hits the row names the
    /// value's (thread, seq) as `seq = thread * 1000 + seq`.
    struct Builder {
        ops: Vec<Op>,
        magazine: Option<u32>,
    }

    impl Builder {
        fn new() -> Self {
            Builder { ops: Vec::new(), magazine: None }
        }
        #[allow(clippy::too_many_arguments)]
        fn push(
            &mut self,
            thread: u32,
            kind: OpKind,
            outcome: OpOutcome,
            key: Option<u64>,
            value: Option<(u64, u64)>,
            start: u64,
            end: u64,
        ) -> &mut Self {
            let event = self.ops.len() as u64;
            self.ops.push(Op {
                event,
                thread,
                op_index: event,
                kind,
                outcome,
                origin: OpOrigin::Run,
                key,
                value: value.map(|(thread, seq)| Value { thread, seq }),
                start,
                end,
            });
            self
        }
        fn insert(&mut self, thread: u32, k: u64, seq: u64, start: u64, end: u64) -> &mut Self {
            self.push(
                thread,
                OpKind::Insert,
                OpOutcome::Inserted,
                Some(k),
                Some((u64::from(thread), seq)),
                start,
                end,
            )
        }
        fn full(&mut self, thread: u32, start: u64, end: u64) -> &mut Self {
            self.push(thread, OpKind::Insert, OpOutcome::Refused, None, None, start, end)
        }
        fn remove(&mut self, thread: u32, k: u64, ok: bool, start: u64, end: u64) -> &mut Self {
            let outcome = if ok { OpOutcome::Removed } else { OpOutcome::RemoveMissed };
            self.push(thread, OpKind::Remove, outcome, Some(k), None, start, end)
        }
        fn hit(&mut self, thread: u32, k: u64, value: (u64, u64), start: u64, end: u64) -> &mut Self {
            self.push(thread, OpKind::Lookup, OpOutcome::Hit, Some(k), Some(value), start, end)
        }
        fn miss(&mut self, thread: u32, k: u64, start: u64, end: u64) -> &mut Self {
            self.push(thread, OpKind::Lookup, OpOutcome::Miss, Some(k), None, start, end)
        }
        fn history(&self) -> History {
            let mut seg = Segment {
                index: 0,
                begin: Some(TableBegin {
                    segment: 0,
                    clock_ns: 0,
                    backend: "slotscope".into(),
                    description: "test".into(),
                    capacity: Some(N as u64),
                    geometry: Some(geometry()),
                    variant: Variant::Correct,
                    magazine: self.magazine,
                }),
                ops: self.ops.clone(),
                ..Segment::default()
            };
            let threads: Vec<u32> = self.ops.iter().map(|o| o.thread).collect();
            seg.threads.extend(threads.iter().copied());
            seg.threads_complete.extend(threads);
            History {
                header: exact_header(),
                segments: vec![seg],
                controls: Vec::new(),
                end: None,
                stop: ReadStop::End,
                events: self.ops.len() as u64,
            }
        }
    }

    /// A header whose clock is exact (ε = 0), so that the intervals below mean what they say.
    fn exact_header() -> crate::format::TraceHeader {
        let mut h = crate::format::tests::sample_header();
        h.table.capacity = N as u64;
        h.precision = Some(crate::format::ClockPrecision {
            resolution_ns: 0,
            cross_core_offset_ns: 0,
            cores: 2,
            pinned: true,
        });
        h
    }

    fn events(ops: &[Op]) -> Vec<u64> {
        ops.iter().map(|o| o.event).collect()
    }

    fn run(h: &History) -> CheckOutcome {
        check(h, &CheckOptions::default())
    }

    fn kinds(found: &[Finding]) -> Vec<FindingKind> {
        found.iter().map(|f| f.kind).collect()
    }

    #[test]
    fn a_valid_history_passes_every_check() {
        let (a, a2, b) = (key(0, 0), key(0, 1), key(8, 0));
        let h = Builder::new()
            .insert(0, a, 0, 0, 10)
            .insert(1, b, 0, 5, 15) // concurrent with the first
            .hit(0, a, (0, 0), 20, 30)
            .hit(1, b, (1, 0), 22, 28)
            .remove(0, a, true, 40, 50)
            .hit(1, b, (1, 0), 45, 60) // overlaps the remove of another key
            .miss(0, a, 55, 65) // the stale key misses
            .remove(0, a, false, 66, 70) // and removes nothing
            .insert(0, a2, 1, 80, 90) // the slot is reused with the next generation
            .miss(0, a, 95, 99)
            .hit(0, a2, (0, 1), 100, 110)
            .history();
        let out = run(&h);
        assert!(out.violations.is_empty(), "{:#?}", out.violations);
        assert!(out.incomplete.is_empty());
        assert_eq!(out.lin.violated, 0);
        assert!(out.lin.ok >= 3, "{:?}", out.lin);
        assert_eq!(out.ops_checked, 11);
    }

    #[test]
    fn a_lookup_racing_the_remove_may_still_hit() {
        let a = key(3, 0);
        let h = Builder::new()
            .insert(0, a, 0, 0, 10)
            .remove(0, a, true, 20, 40)
            .hit(1, a, (0, 0), 30, 50) // overlaps the remove: may have read first
            .history();
        let out = run(&h);
        assert!(out.violations.is_empty(), "{:#?}", out.violations);
    }

    #[test]
    fn stale_reads_are_caught_by_interval_and_by_value() {
        let (a, a2) = (key(2, 0), key(2, 1));
        // The removed value read back after its removal.
        let h = Builder::new()
            .insert(0, a, 7, 0, 10)
            .remove(0, a, true, 20, 30)
            .hit(0, a, (0, 7), 40, 50)
            .history();
        let out = run(&h);
        assert_eq!(kinds(&out.violations), [FindingKind::StaleRead]);
        let f = &out.violations[0];
        assert_eq!(f.op.map(|o| o.event), Some(2));
        assert_eq!(events(&f.evidence), [0, 1]);
        assert!(f.message.contains("event 2 (thread 0, op 2)"), "{}", f.message);
        // The slot reused: the stale key reads the new occupant's value (ptab's bug).
        let h = Builder::new()
            .insert(0, a, 7, 0, 10)
            .remove(0, a, true, 20, 30)
            .insert(1, a2, 3, 40, 50)
            .hit(0, a, (1, 3), 60, 70)
            .history();
        let out = run(&h);
        assert_eq!(kinds(&out.violations), [FindingKind::ForeignValue]);
        // The value's insert, then the stale key's own removal and insert.
        assert_eq!(events(&out.violations[0].evidence), [2, 1, 0]);
        assert!(out.violations[0].message.contains("stored under 2@1"), "{}", out.violations[0].message);
    }

    #[test]
    fn duplicate_live_keys_and_double_removals_are_caught() {
        let a = key(5, 0);
        let h = Builder::new().insert(0, a, 0, 0, 10).insert(1, a, 0, 20, 30).history();
        let out = run(&h);
        assert_eq!(kinds(&out.violations), [FindingKind::DuplicateLiveKey]);
        assert_eq!(out.violations[0].op.map(|o| o.event), Some(1));
        // With a remove in between, handing the key out again is legal.
        let h = Builder::new()
            .insert(0, a, 0, 0, 10)
            .remove(0, a, true, 12, 18)
            .insert(1, a, 0, 20, 30)
            .history();
        assert!(run(&h).violations.is_empty());
        // Removed twice.
        let h = Builder::new()
            .insert(0, a, 0, 0, 10)
            .remove(0, a, true, 12, 18)
            .remove(1, a, true, 20, 30)
            .history();
        let out = run(&h);
        assert_eq!(kinds(&out.violations), [FindingKind::StaleRemove]);
        assert_eq!(out.violations[0].op.map(|o| o.event), Some(2));
        // Two removers racing: exactly one may win. Both winning is a violation even when
        // they overlap.
        let h = Builder::new()
            .insert(0, a, 0, 0, 10)
            .remove(0, a, true, 12, 30)
            .remove(1, a, true, 14, 28)
            .history();
        let out = run(&h);
        assert_eq!(kinds(&out.violations), [FindingKind::NotLinearizable], "{:#?}", out.violations);
        let h = Builder::new()
            .insert(0, a, 0, 0, 10)
            .remove(0, a, true, 12, 30)
            .remove(1, a, false, 14, 28)
            .history();
        assert!(run(&h).violations.is_empty());
    }

    #[test]
    fn lost_inserts_are_caught_unless_events_are_missing() {
        let a = key(1, 0);
        let b =
            Builder::new().insert(0, a, 0, 0, 10).miss(0, a, 20, 30).remove(0, a, false, 40, 50).clone_ops();
        let h = b.history();
        let out = run(&h);
        assert_eq!(kinds(&out.violations), [FindingKind::LostInsert, FindingKind::LostInsert]);
        // The same, but thread 1 dropped events in the meantime: it might have removed the
        // key. Incomplete, not a violation.
        let mut h = b.history();
        h.segments[0].drops.push(DropRecord {
            thread: 1,
            segment: 0,
            count: 3,
            first_op: 0,
            last_op: 2,
            first_ns: 12,
            last_ns: 18,
        });
        let out = run(&h);
        assert!(out.violations.is_empty(), "{:#?}", out.violations);
        assert_eq!(kinds(&out.incomplete), [FindingKind::LostInsert, FindingKind::LostInsert]);
        assert!(out.incomplete[0].message.contains("events are missing"));
        // A thread whose stream never closed: everything after its last op is unknown.
        let mut h = b.history();
        h.segments[0].threads.insert(4);
        let out = run(&h);
        assert!(out.violations.is_empty());
        assert_eq!(out.incomplete.len(), 2);
    }

    #[test]
    fn values_prove_stale_reads_even_with_gaps() {
        let (a, a2) = (key(2, 0), key(2, 1));
        let mut h = Builder::new()
            .insert(0, a, 7, 0, 10)
            .remove(0, a, true, 20, 30)
            .insert(1, a2, 3, 40, 50)
            .hit(0, a, (1, 3), 60, 70)
            .history();
        h.segments[0].threads.insert(9); // an incomplete thread: a gap over everything
        let out = run(&h);
        assert_eq!(kinds(&out.violations), [FindingKind::ForeignValue]);
    }

    #[test]
    fn full_allows_the_slack_of_other_writers_magazines() {
        // `live` keys inserted by thread 0, then a refusal on thread 1 with nothing in flight,
        // on a table with magazines of 2.
        let refused_at = |live: usize| {
            let mut b = Builder::new();
            for s in 0..live {
                b.insert(0, key(s, 0), s as u64, 10 * s as u64, 10 * s as u64 + 5);
            }
            b.full(1, 500, 510);
            b.magazine = Some(2);
            b
        };
        // 15 live of 16: false on the ring (below), but the other writer (thread 0) may hold
        // 2 free ids: legal.
        let out = run(&refused_at(15).history());
        assert!(out.violations.is_empty(), "{:#?}", out.violations);
        assert_eq!(out.fulls_checked, 1);
        assert!(out.notes.iter().any(|n| n.contains("allowing up to 2 free ids")), "{:?}", out.notes);
        // 13 live: 3 free, more than the slack of 2: false Full again, and the message says
        // what it allowed for.
        let mut b = refused_at(13);
        let out = run(&b.history());
        assert_eq!(kinds(&out.violations), [FindingKind::FalseFull]);
        assert!(out.violations[0].message.contains("up to 2 ids in other writers' magazines"));
        // Magazines as large as the table: nothing can be said, and the checker says so.
        b.magazine = Some(16);
        let out = run(&b.history());
        assert!(out.violations.is_empty() && out.incomplete.is_empty());
        assert_eq!(out.fulls_checked, 0);
        assert!(out.notes.iter().any(|n| n.contains("not checkable")), "{:?}", out.notes);
    }

    #[test]
    fn full_follows_the_definition_of_claims() {
        // 15 live of 16; a refusal with nothing in flight is false.
        let mut b = Builder::new();
        for s in 0..15 {
            b.insert(0, key(s, 0), s as u64, 10 * s as u64, 10 * s as u64 + 5);
        }
        let base = b.clone_ops();
        let mut h = base.clone_ops();
        h.full(1, 500, 510);
        let out = run(&h.history());
        assert_eq!(kinds(&out.violations), [FindingKind::FalseFull]);
        assert!(out.violations[0].message.contains("at most 15 of the 16"), "{}", out.violations[0].message);
        // An insert in flight holds the 16th claim: legal.
        let mut h = base.clone_ops();
        h.insert(2, key(15, 0), 0, 495, 520).full(1, 500, 510);
        assert!(run(&h.history()).violations.is_empty());
        // Another refusal in flight (its claim not yet retracted): legal.
        let mut h = base.clone_ops();
        h.full(2, 498, 505).full(1, 500, 510);
        let out = run(&h.history());
        assert!(out.violations.is_empty(), "{:#?}", out.violations);
        assert_eq!(out.fulls_checked, 2);
        // 16 live, one being removed (unlinked, claim not yet released): legal.
        let mut h = base.clone_ops();
        h.insert(2, key(15, 0), 0, 400, 410).remove(0, key(0, 0), true, 495, 515).full(1, 500, 510);
        assert!(run(&h.history()).violations.is_empty());
        // ... but a remove that ended before the refusal began released its claim.
        let mut h = base.clone_ops();
        h.insert(2, key(15, 0), 0, 400, 410).remove(0, key(0, 0), true, 480, 490).full(1, 500, 510);
        assert_eq!(kinds(&run(&h.history()).violations), [FindingKind::FalseFull]);
    }

    #[test]
    fn more_live_keys_than_slots_is_over_capacity() {
        let mut b = Builder::new();
        for s in 0..=N {
            b.insert(0, key(s % N, (s / N) as u64), s as u64, 10 * s as u64, 10 * s as u64 + 5);
        }
        let out = run(&b.history());
        assert!(kinds(&out.violations).contains(&FindingKind::OverCapacity), "{:#?}", out.violations);
    }

    #[test]
    fn the_end_state_must_match_the_history() {
        let (a, b) = (key(0, 0), key(8, 0));
        let mut h = Builder::new()
            .insert(0, a, 0, 0, 10)
            .insert(0, b, 1, 20, 30)
            .remove(0, b, true, 40, 50)
            .history();
        let mut snap = Snapshot::fresh(geometry());
        // The table lost `a` and still holds `b`.
        snap.set_slot(8, SlotState::Occupied, Some(Key::from_bits(b)));
        h.segments[0].end =
            Some(TableEnd { segment: 0, clock_ns: 100, elements: Some(1), inserted: 2, removed: 1 });
        h.segments[0].final_snapshot =
            Some(SnapshotRecord { segment: 0, started_ns: 100, ended_ns: 100, at_end: true, snapshot: snap });
        let out = run(&h);
        assert_eq!(kinds(&out.violations), [FindingKind::LostInsert, FindingKind::FinalStateMismatch]);
        // A count that does not balance.
        h.segments[0].final_snapshot = None;
        h.segments[0].end =
            Some(TableEnd { segment: 0, clock_ns: 100, elements: Some(3), inserted: 2, removed: 1 });
        assert_eq!(kinds(&run(&h).violations), [FindingKind::CountMismatch]);
    }

    #[test]
    fn periodic_snapshots_must_fall_within_the_bounds() {
        let (a, b) = (key(0, 0), key(8, 0));
        let mut h = Builder::new()
            .insert(0, a, 0, 0, 10)
            .insert(1, b, 0, 100, 110)
            .remove(0, a, true, 200, 210)
            .history();
        // During [50, 60] exactly `a` is live: 1 is right, 0 lost it, 2 saw something extra.
        h.segments[0].snapshots = vec![(50, 60, 1)];
        assert!(run(&h).violations.is_empty());
        // Scanning [105, 205], anything from 0 (`a` removed before the scan reached it, `b`
        // not yet in) to 2 is possible.
        h.segments[0].snapshots = vec![(105, 205, 0), (105, 205, 2)];
        assert!(run(&h).violations.is_empty());
        h.segments[0].snapshots = vec![(50, 60, 0)];
        assert_eq!(kinds(&run(&h).violations), [FindingKind::CountMismatch]);
        h.segments[0].snapshots = vec![(50, 60, 2)];
        assert_eq!(kinds(&run(&h).violations), [FindingKind::CountMismatch]);
    }

    impl Builder {
        fn clone_ops(&self) -> Builder {
            Builder { ops: self.ops.clone(), magazine: self.magazine }
        }
    }

    /// The history of `b` with ε = `eps` (resolution 0, the rest offset).
    fn with_eps(b: &Builder, eps: u64) -> History {
        let mut h = b.history();
        h.header.precision = Some(crate::format::ClockPrecision {
            resolution_ns: 0,
            cross_core_offset_ns: eps,
            cores: 2,
            pinned: true,
        });
        h
    }

    #[test]
    fn other_threads_closer_than_epsilon_are_not_ordered_but_one_thread_always_is() {
        let a = key(4, 0);
        // Thread 1 misses 5 ns after thread 0's insert returned: with an exact clock a lost
        // insert; with ε = 100 ns the miss may have come first.
        let mut b = Builder::new();
        b.insert(0, a, 0, 0, 10).miss(1, a, 15, 20);
        assert_eq!(kinds(&run(&b.history()).violations), [FindingKind::LostInsert]);
        let out = run(&with_eps(&b, 100));
        assert!(out.violations.is_empty() && out.incomplete.is_empty(), "{:#?}", out.violations);
        assert_eq!(out.epsilon_ns, 100);
        // Far enough apart, it is one again.
        let mut b = Builder::new();
        b.insert(0, a, 0, 0, 10).miss(1, a, 115, 120);
        assert_eq!(kinds(&run(&with_eps(&b, 100)).violations), [FindingKind::LostInsert]);
        // The same thread: program order, whatever ε.
        let mut b = Builder::new();
        b.insert(0, a, 0, 0, 10).miss(0, a, 11, 20);
        assert_eq!(kinds(&run(&with_eps(&b, 1000)).violations), [FindingKind::LostInsert]);
        // A Full refused 5 ns after another thread's remove ended: the remove may still have
        // held its claim (ε/2 on each side).
        let mut b = Builder::new();
        for s in 0..N {
            b.insert(0, key(s, 0), s as u64, 10 * s as u64, 10 * s as u64 + 5);
        }
        b.remove(0, key(0, 0), true, 480, 490).full(1, 495, 510);
        assert_eq!(kinds(&run(&b.history()).violations), [FindingKind::FalseFull]);
        assert!(run(&with_eps(&b, 100)).violations.is_empty());
    }

    #[test]
    fn a_trace_without_its_precision_is_checked_with_the_worst_case_epsilon() {
        let mut h = Builder::new().insert(0, key(1, 0), 0, 0, 10).miss(1, key(1, 0), 500, 600).history();
        h.header.precision = None;
        let out = run(&h);
        assert_eq!(out.epsilon_ns, crate::format::UNMEASURED_EPSILON_NS);
        assert!(out.epsilon_note.is_some_and(|n| n.contains("version 1")), "{:?}", out.epsilon_note);
        // 490 ns apart is within the worst case: no verdict.
        assert!(out.violations.is_empty());
    }

    #[test]
    fn findings_that_rest_on_a_gap_are_incomplete() {
        let (a, b2) = (key(2, 0), key(3, 0));
        // Thread 1 dropped ops early on; later thread 0 finds a key whose insert is not in the
        // trace: it may have been among the dropped ones.
        let mut h = Builder::new().insert(0, b2, 0, 0, 10).hit(0, a, (1, 5), 1000, 1010).history();
        h.segments[0].threads.insert(1);
        h.segments[0].threads_complete.insert(1);
        let drop = DropRecord {
            thread: 1,
            segment: 0,
            count: 4,
            first_op: 0,
            last_op: 3,
            first_ns: 20,
            last_ns: 60,
        };
        h.segments[0].drops.push(drop);
        let out = run(&h);
        assert!(out.violations.is_empty(), "{:#?}", out.violations);
        assert_eq!(kinds(&out.incomplete), [FindingKind::PhantomValue]);
        assert!(out.incomplete[0].message.contains("4 ops dropped"), "{}", out.incomplete[0].message);
        // Without the drop the same history is a violation.
        h.segments[0].drops.clear();
        assert_eq!(kinds(&run(&h).violations), [FindingKind::PhantomValue]);
        // A key whose history begins with its insert after the drop is judged on its own.
        let mut h = Builder::new().insert(0, a, 0, 100, 110).miss(0, a, 200, 210).history();
        h.segments[0].threads.insert(1);
        h.segments[0].threads_complete.insert(1);
        h.segments[0].drops.push(DropRecord { first_ns: 20, last_ns: 60, ..drop });
        assert_eq!(kinds(&run(&h).violations), [FindingKind::LostInsert]);
        // Counts over the whole table (the end state) rest on all of it.
        let mut h = Builder::new().insert(0, a, 0, 100, 110).history();
        h.segments[0].threads.insert(1);
        h.segments[0].threads_complete.insert(1);
        h.segments[0].drops.push(drop);
        h.segments[0].end =
            Some(TableEnd { segment: 0, clock_ns: 500, elements: Some(0), inserted: 1, removed: 0 });
        let out = run(&h);
        assert!(out.violations.is_empty());
        assert_eq!(kinds(&out.incomplete), [FindingKind::CountMismatch]);
    }

    /// A trace file with frontier records, written the way the recorder writes one: ops of two
    /// threads interleaved in records, a frontier after each round.
    fn streamed(ops: &[Op], frontier_every: usize) -> Vec<u8> {
        streamed_with(ops, frontier_every, None)
    }

    fn streamed_with(ops: &[Op], frontier_every: usize, magazine: Option<u32>) -> Vec<u8> {
        use crate::format::{FrontierRecord, OpBatch, Record, ThreadStart, TraceWriter};
        let mut w = TraceWriter::new(Vec::new()).unwrap();
        w.write(&Record::Header(Box::new(exact_header()))).unwrap();
        w.write(&Record::TableBegin(TableBegin {
            segment: 0,
            clock_ns: 0,
            backend: "slotscope".into(),
            description: "test".into(),
            capacity: Some(N as u64),
            geometry: Some(geometry()),
            variant: Variant::Correct,
            magazine,
        }))
        .unwrap();
        for t in 0..2 {
            w.write(&Record::ThreadStart(ThreadStart {
                thread: t,
                segment: 0,
                group: "g".into(),
                clock_ns: 0,
            }))
            .unwrap();
        }
        for (n, chunk) in ops.chunks(frontier_every).enumerate() {
            for t in 0..2u32 {
                let events: Vec<crate::op::OpEvent> = chunk
                    .iter()
                    .filter(|o| o.thread == t)
                    .map(|o| crate::op::OpEvent {
                        thread: o.thread as usize,
                        op_index: o.op_index,
                        kind: o.kind,
                        key: o.key,
                        outcome: o.outcome,
                        value: o.value,
                        origin: o.origin,
                        probes: crate::op::OpProbes::default(),
                        start_ns: o.start,
                        end_ns: o.end,
                    })
                    .collect();
                if !events.is_empty() {
                    w.write(&Record::Ops(OpBatch { thread: t, segment: 0, events })).unwrap();
                }
            }
            let last = chunk.iter().map(|o| o.end).max().unwrap_or(0);
            let _ = n;
            w.write(&Record::Frontier(FrontierRecord { segment: 0, clock_ns: last + 1 })).unwrap();
        }
        w.into_inner()
    }

    /// Many keys, each inserted, looked up and removed, on two threads, with every `k`-th
    /// lookup after the removal going wrong when `broken`.
    fn churn(keys: usize, broken: bool) -> Builder {
        let mut b = Builder::new();
        let mut t = 0u64;
        for i in 0..keys {
            let thread = (i % 2) as u32;
            let k = key(i % N, (i / N) as u64);
            b.insert(thread, k, i as u64, t, t + 10);
            b.hit(thread, k, (u64::from(thread), i as u64), t + 20, t + 30);
            b.remove(thread, k, true, t + 40, t + 50);
            if broken && i == keys / 2 {
                b.hit(thread, k, (u64::from(thread), i as u64), t + 60, t + 70);
            } else {
                b.miss(thread, k, t + 60, t + 70);
            }
            t += 100;
        }
        b
    }

    fn check_bytes(bytes: Vec<u8>) -> CheckOutcome {
        let (header, reader) = TraceReader::with_header(std::io::Cursor::new(bytes)).unwrap();
        check_reader(header, reader, 0, &CheckOptions::default(), &mut |_| {}).unwrap().outcome
    }

    #[test]
    fn streaming_finds_what_the_whole_history_shows_and_forgets_dead_keys() {
        for broken in [false, true] {
            let b = churn(20_000, broken);
            let whole = run(&b.history());
            let streamed = check_bytes(streamed(&b.ops, 64));
            assert_eq!(kinds(&streamed.violations), kinds(&whole.violations), "broken: {broken}");
            assert_eq!(streamed.violations.len(), usize::from(broken));
            assert_eq!(streamed.ops_checked, whole.ops_checked);
            assert_eq!(streamed.lin.ok + streamed.lin.violated, whole.lin.ok + whole.lin.violated);
            // Dead keys are forgotten and ops decided as the frontier passes: memory follows
            // the frontier's lag, not the 80000 ops.
            assert!(streamed.peak_keys < 200, "{} keys held", streamed.peak_keys);
            assert!(streamed.peak_pending < 1000, "{} ops held", streamed.peak_pending);
            assert_eq!(whole.peak_pending, b.ops.len(), "in memory, everything waits for the end");
        }
        // The stale hit is found long after its key was forgotten.
        let b = churn(20_000, true);
        let out = check_bytes(streamed(&b.ops, 64));
        assert_eq!(kinds(&out.violations), [FindingKind::StaleRead]);
    }

    #[test]
    fn ops_behind_the_frontier_make_later_findings_incomplete() {
        // Thread 1's insert arrives after a frontier that promised every op before it: a miss
        // decided without it would accuse the table.
        let a = key(6, 0);
        let b = Builder::new().clone_ops();
        let mut b = b;
        b.insert(1, a, 0, 100, 110).miss(0, a, 5000, 5010);
        let mut ops = b.ops.clone();
        ops.swap(0, 1);
        use crate::format::{FrontierRecord, Record};
        let mut bytes = streamed(&ops[..1], 64);
        let mut w = crate::format::TraceWriter::new(Vec::new()).unwrap();
        w.write(&Record::Frontier(FrontierRecord { segment: 0, clock_ns: 100_000 })).unwrap();
        // Appends the frontier and then the late insert (written by hand: same framing).
        let frame = w.into_inner();
        bytes.extend_from_slice(&frame[crate::format::PROLOGUE_BYTES..]);
        let rest = streamed(&ops[1..], 64);
        // Skip the second file's prologue, header, table begin and thread starts: take its
        // records from the first ops record on.
        let (_, mut r) = TraceReader::with_header(std::io::Cursor::new(rest)).unwrap();
        let mut w = crate::format::TraceWriter::new(Vec::new()).unwrap();
        while let Some((_, rec)) = r.next_record() {
            if matches!(rec, Record::Ops(_)) {
                w.write(&rec).unwrap();
            }
        }
        bytes.extend_from_slice(&w.into_inner()[crate::format::PROLOGUE_BYTES..]);
        let out = check_bytes(bytes);
        assert!(out.late_ops > 0);
        assert!(out.violations.is_empty(), "{:#?}", out.violations);
        assert!(out.notes.iter().any(|n| n.contains("out of its own order")), "{:?}", out.notes);
    }
}
