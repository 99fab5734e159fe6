//! The checker as a stream: records go in in file order, findings come out at the end, and
//! what is held in between is the ops not yet decided, the live keys and the steps of the
//! sweep, not the history.
//!
//! Each thread's ops arrive in the thread's order. An op is *decided* (its per-key checks
//! run) once every op that could precede it or overlap it has been read: once the trace's
//! frontier (every op starting before it has been read) has passed its end by 2ε. The
//! frontier comes from the trace's own frontier records (format version 2); for an older
//! trace it is derived from what each thread has written, less a margin, and an op that
//! arrives behind it anyway is counted: findings after it are reported incomplete.
//!
//! A finding whose evidence stretch touches a gap (dropped ops, a thread's unrecorded tail)
//! is sorted into "incomplete" at the end, when every gap is known.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};
use std::time::Instant;

use slotscope_table::{SlotState, Snapshot};

use super::claims::Claims;
use super::findings::{CheckOptions, CheckOutcome, Finding, FindingKind, Gap};
use super::keys::{Filed, Keys, Precedence};
use super::{KeyText, Op};
use crate::format::{DropRecord, EndRecord, ReadStop, Record, TableBegin, TableEnd, TraceHeader};
use crate::op::{OpOrigin, OpOutcome};

/// How far behind the slowest thread's latest op a derived frontier (a trace without frontier
/// records) stays: 50 ms of clock time, far more than a writer pass takes.
pub const DERIVED_FRONTIER_MARGIN_NS: u64 = 50_000_000;

/// Ops read between two updates of a derived frontier.
const DERIVE_EVERY: u64 = 4096;

#[derive(Debug)]
struct ThreadQ {
    thread: u32,
    queue: VecDeque<Op>,
    /// The thread's ops read so far end no later than this (and its next starts after it).
    last_end: u64,
    ended: bool,
}

/// Where the frontier comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FrontierSource {
    /// The trace's frontier records.
    Records,
    /// The threads' latest ops, less [`DERIVED_FRONTIER_MARGIN_NS`].
    Derived,
    /// None: everything is decided when the segment ends (a history held in memory).
    AtEnd,
}

/// One table segment being checked.
struct Seg {
    index: u32,
    begin: TableBegin,
    threads: Vec<ThreadQ>,
    by_thread: HashMap<u32, usize>,
    heads: BinaryHeap<Reverse<(u64, usize)>>,
    pending: usize,
    frontier: u64,
    /// Every op not yet decided (read or not) starts at or after this.
    horizon: u64,
    keys: Keys,
    claims: Option<Claims>,
    drops: Vec<DropRecord>,
    end: Option<TableEnd>,
    /// Counts the end state was checked against (taken at the table's end).
    ended_checked: bool,
    /// Ops that arrived behind the horizon: (how many, earliest start).
    late: (u64, u64),
    since_derive: u64,
    prefill_inserts: u64,
    prefill_refused: bool,
}

impl Seg {
    fn capacity(&self) -> Option<u64> {
        self.begin.geometry.map(|g| g.capacity() as u64)
    }
}

/// The streaming checker. Feed it a trace's records with [`Checker::record`] (or the parts of
/// a history with the other methods), then [`Checker::finish`].
pub struct Checker {
    options: CheckOptions,
    prec: Precedence,
    source: FrontierSource,
    header_capacity: u64,
    header_prefill: f64,
    seg: Option<Seg>,
    /// Findings so far, with their segment's gaps decided at the end.
    filed: Vec<(Filed, u32)>,
    /// Per segment: its gaps and the earliest late op.
    closed: BTreeMap<u32, (Vec<Gap>, u64)>,
    out: CheckOutcome,
    events: u64,
    end: Option<EndRecord>,
    inconsistent: Option<String>,
    first_segment: Option<(Option<u64>, u64, bool)>,
    any_drops: bool,
    started: Instant,
}

impl Checker {
    /// A checker for a trace with `header`.
    pub fn new(header: &TraceHeader, options: CheckOptions) -> Self {
        let (eps, note) = header.epsilon();
        let source =
            if header.precision.is_some() { FrontierSource::Records } else { FrontierSource::Derived };
        Checker {
            options,
            prec: Precedence::new(eps),
            source,
            header_capacity: header.table.capacity,
            header_prefill: header.table.prefill,
            seg: None,
            filed: Vec::new(),
            closed: BTreeMap::new(),
            out: CheckOutcome { epsilon_ns: eps, epsilon_note: note, ..CheckOutcome::default() },
            events: 0,
            end: None,
            inconsistent: None,
            first_segment: None,
            any_drops: false,
            started: Instant::now(),
        }
    }

    /// A checker for a history held whole in memory: nothing is decided before its segment
    /// ends, and the history's consistency is taken as checked when it was read
    /// ([`super::History::read`]).
    pub fn in_memory(header: &TraceHeader, options: CheckOptions) -> Self {
        let mut c = Checker::new(header, options);
        c.source = FrontierSource::AtEnd;
        c
    }

    /// Op events taken in.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Table segments begun.
    pub fn segments(&self) -> usize {
        self.closed.len() + usize::from(self.seg.is_some())
    }

    /// The end record, if read.
    pub fn end_record(&self) -> Option<EndRecord> {
        self.end
    }

    fn inconsistent(&mut self, why: String) {
        if self.source != FrontierSource::AtEnd {
            self.inconsistent.get_or_insert(why);
        }
    }

    /// Takes the next record of the trace, in file order.
    pub fn record(&mut self, r: &Record) {
        match r {
            Record::Ops(b) => {
                for e in &b.events {
                    let op = Op::of(self.events, e);
                    self.events += 1;
                    self.op(b.segment, op);
                }
            }
            Record::Drop(d) => self.drop_record(*d),
            Record::TableBegin(t) => self.table_begin(t),
            Record::TableEnd(t) => self.table_end(*t),
            Record::ThreadStart(t) => self.thread_start(t.segment, t.thread, t.clock_ns),
            Record::ThreadEnd(t) => self.thread_end(t.segment, t.thread),
            Record::Snapshot(s) if s.at_end => self.final_snapshot(s.segment, &s.snapshot),
            Record::Snapshot(s) => {
                self.periodic_snapshot(s.segment, s.started_ns, s.ended_ns, s.snapshot.occupied())
            }
            Record::Frontier(f) => self.frontier(f.segment, f.clock_ns),
            Record::End(e) => self.end = Some(*e),
            Record::Control(_) | Record::Header(_) => {}
        }
    }

    /// A table begins: the previous one (if any) is closed.
    pub fn table_begin(&mut self, t: &TableBegin) {
        self.close_segment();
        if let (Some(g), Some(c)) = (t.geometry, t.capacity) {
            if g.capacity() as u64 != c {
                self.inconsistent(format!(
                    "table {} is described as {c} slots and as a geometry of {} slots",
                    t.segment,
                    g.capacity()
                ));
            }
        }
        if let Some(g) = t.geometry {
            if (g.capacity() as u64) < self.header_capacity {
                self.inconsistent(format!(
                    "table {} has {} slots, fewer than the {} the header asked for",
                    t.segment,
                    g.capacity(),
                    self.header_capacity
                ));
            }
        }
        let text = KeyText { capacity_log2: t.geometry.map(|g| g.capacity_log2()) };
        let claims = t.geometry.map(|g| {
            let mut c = Claims::new(g.capacity() as u64, self.prec.half);
            c.magazine = t.magazine.map(u64::from);
            c
        });
        self.seg = Some(Seg {
            index: t.segment,
            begin: t.clone(),
            threads: Vec::new(),
            by_thread: HashMap::new(),
            heads: BinaryHeap::new(),
            pending: 0,
            frontier: 0,
            horizon: 0,
            keys: Keys::new(self.prec, text, &self.options),
            claims,
            drops: Vec::new(),
            end: None,
            ended_checked: false,
            late: (0, u64::MAX),
            since_derive: 0,
            prefill_inserts: 0,
            prefill_refused: false,
        });
    }

    fn seg_mut(&mut self, segment: u32, what: &str) -> Option<&mut Seg> {
        match &self.seg {
            Some(s) if s.index == segment => self.seg.as_mut(),
            _ => {
                self.inconsistent(format!("table {segment} has {what} but no description of the table"));
                None
            }
        }
    }

    /// A worker started on a table.
    pub fn thread_start(&mut self, segment: u32, thread: u32, clock_ns: u64) {
        let Some(s) = self.seg_mut(segment, "a thread") else { return };
        if s.by_thread.contains_key(&thread) {
            return;
        }
        s.by_thread.insert(thread, s.threads.len());
        s.threads.push(ThreadQ { thread, queue: VecDeque::new(), last_end: clock_ns, ended: false });
        if let Some(c) = s.claims.as_mut() {
            c.writers += 1;
        }
    }

    /// A worker's stream is complete.
    pub fn thread_end(&mut self, segment: u32, thread: u32) {
        let Some(s) = self.seg_mut(segment, "a thread end") else { return };
        if let Some(&i) = s.by_thread.get(&thread) {
            s.threads[i].ended = true;
        }
    }

    /// One op event (its event number already given).
    pub fn op(&mut self, segment: u32, op: Op) {
        let source = self.source;
        let Some(s) = self.seg_mut(segment, "ops") else { return };
        let Some(&t) = s.by_thread.get(&op.thread) else {
            let why = format!(
                "{} comes from thread {}, which never started on table {segment}",
                op.label(),
                op.thread
            );
            self.inconsistent(why);
            return;
        };
        if op.start < s.horizon {
            s.late.0 += 1;
            s.late.1 = s.late.1.min(op.start);
        }
        if op.origin == OpOrigin::Prefill && op.kind == crate::op::OpKind::Insert {
            s.prefill_inserts += 1;
            s.prefill_refused |= op.outcome == OpOutcome::Refused;
        }
        if op.acted() {
            s.keys.ingest(&op);
            if let Some(c) = s.claims.as_mut() {
                c.ingest(&op);
            }
        }
        let q = &mut s.threads[t];
        q.last_end = q.last_end.max(op.end);
        if q.queue.is_empty() {
            s.heads.push(Reverse((op.end, t)));
        }
        q.queue.push_back(op);
        s.pending += 1;
        let pending = s.pending;
        let derive = source == FrontierSource::Derived && {
            s.since_derive += 1;
            s.since_derive >= DERIVE_EVERY
        };
        if derive {
            s.since_derive = 0;
        }
        self.out.peak_pending = self.out.peak_pending.max(pending);
        if derive {
            self.derive_frontier();
        }
    }

    fn derive_frontier(&mut self) {
        let Some(s) = self.seg.as_mut() else { return };
        let slowest = s.threads.iter().filter(|q| !q.ended).map(|q| q.last_end).min();
        let newest = s.threads.iter().map(|q| q.last_end).max().unwrap_or(0);
        let f = slowest.unwrap_or(newest).saturating_sub(DERIVED_FRONTIER_MARGIN_NS);
        if f > s.frontier {
            s.frontier = f;
            self.advance();
        }
    }

    /// Ops dropped.
    pub fn drop_record(&mut self, d: DropRecord) {
        self.any_drops = true;
        let Some(s) = self.seg_mut(d.segment, "drops") else { return };
        if let Some(&t) = s.by_thread.get(&d.thread) {
            let q = &mut s.threads[t];
            q.last_end = q.last_end.max(d.last_ns);
        }
        s.drops.push(d);
    }

    /// A periodic snapshot's scan and what it saw.
    pub fn periodic_snapshot(&mut self, segment: u32, from: u64, to: u64, occupied: usize) {
        let Some(s) = self.seg_mut(segment, "a snapshot") else { return };
        if let Some(c) = s.claims.as_mut() {
            c.scan(from, to, occupied);
        }
    }

    /// The trace's frontier moved.
    pub fn frontier(&mut self, segment: u32, clock_ns: u64) {
        if self.source != FrontierSource::Records {
            return;
        }
        let Some(s) = self.seg_mut(segment, "a frontier") else { return };
        if clock_ns > s.frontier {
            s.frontier = clock_ns;
            self.advance();
        }
    }

    /// Decides everything the frontier allows.
    fn advance(&mut self) {
        let prec = self.prec;
        let Some(s) = self.seg.as_mut() else { return };
        let until = s.frontier.saturating_sub(prec.eps.saturating_mul(2));
        let mut found: Vec<Filed> = Vec::new();
        while let Some(&Reverse((end, t))) = s.heads.peek() {
            if end >= until {
                break;
            }
            s.heads.pop();
            let q = &mut s.threads[t];
            let Some(op) = q.queue.pop_front() else { continue };
            if let Some(next) = q.queue.front() {
                s.heads.push(Reverse((next.end, t)));
            }
            s.pending -= 1;
            if op.acted() && op.key.is_some() {
                self.out.ops_checked += 1;
                s.keys.decide(&op, s.horizon, &mut found);
            }
        }
        if let Some(c) = s.claims.as_mut() {
            c.sweep(until, &mut found);
        }
        let pending_start = s.threads.iter().filter_map(|q| q.queue.front()).map(|o| o.start).min();
        let unread = s.frontier.saturating_sub(prec.eps);
        let h = pending_start.map_or(unread, |p| p.min(unread));
        s.horizon = s.horizon.max(h);
        s.keys.retire_ready(s.horizon, &mut found);
        let index = s.index;
        self.filed.extend(found.into_iter().map(|f| (f, index)));
    }

    /// The table ended at quiescence: everything of it is decided, and its counts checked.
    pub fn table_end(&mut self, t: TableEnd) {
        let Some(s) = self.seg_mut(t.segment, "an end") else { return };
        s.end = Some(t);
        self.decide_all();
        let Some(s) = self.seg.as_mut() else { return };
        let live: u64 = s.keys.live().iter().map(|&(_, n, _)| u64::from(n)).sum();
        if let Some(elements) = t.elements {
            if elements != live {
                let message = format!(
                    "at the end the table counted {elements} elements, but the history's inserts - removes leave {live} \
                     (the engine counted {} inserts and {} removes)",
                    t.inserted, t.removed
                );
                let f = Filed {
                    finding: Finding {
                        kind: FindingKind::CountMismatch,
                        segment: t.segment,
                        op: None,
                        evidence: Vec::new(),
                        key: None,
                        message,
                        span: (0, t.clock_ns),
                    },
                    definite: false,
                };
                self.filed.push((f, t.segment));
            }
        }
        if let Some(s) = self.seg.as_mut() {
            s.ended_checked = true;
        }
    }

    fn decide_all(&mut self) {
        if let Some(s) = self.seg.as_mut() {
            s.frontier = u64::MAX;
        }
        self.advance();
        if let Some(s) = self.seg.as_mut() {
            let mut found = Vec::new();
            s.keys.flush(&mut found);
            let index = s.index;
            self.filed.extend(found.into_iter().map(|f| (f, index)));
        }
    }

    /// The table's snapshot at its end, against the keys the history leaves live.
    pub fn final_snapshot(&mut self, segment: u32, snap: &Snapshot) {
        let Some(s) = self.seg_mut(segment, "a final snapshot") else { return };
        let end_time = s.end.map_or(0, |e| e.clock_ns);
        let text = KeyText { capacity_log2: s.begin.geometry.map(|g| g.capacity_log2()) };
        let mut occupied: HashMap<u64, ()> = HashMap::new();
        for slot in 0..snap.capacity() {
            let info = snap.slot(slot);
            if info.state == SlotState::Occupied {
                if let Some(k) = info.key {
                    occupied.insert(k.bits(), ());
                }
            }
        }
        let live = s.keys.live();
        let live_keys: HashMap<u64, ()> = live.iter().map(|&(k, _, _)| (k, ())).collect();
        let mut missing: Vec<(u64, Option<Op>)> =
            live.iter().filter(|(k, _, _)| !occupied.contains_key(k)).map(|&(k, _, i)| (k, i)).collect();
        missing.sort_unstable_by_key(|m| m.0);
        let mut found = Vec::new();
        for (k, ins) in missing.into_iter().take(16) {
            let message = format!(
                "{} is live by the history ({} handed it out, no remove of it succeeded) but the table's final snapshot does not hold it",
                text.show(k),
                ins.map_or_else(|| "an insert".to_owned(), |i| i.label())
            );
            found.push(Filed {
                finding: Finding {
                    kind: FindingKind::LostInsert,
                    segment,
                    op: ins,
                    evidence: Vec::new(),
                    key: Some(k),
                    message,
                    span: (0, end_time),
                },
                definite: false,
            });
        }
        let mut extra: Vec<u64> = occupied.keys().copied().filter(|k| !live_keys.contains_key(k)).collect();
        extra.sort_unstable();
        for k in extra.into_iter().take(16) {
            let last = s.keys.last_op(k);
            let message = format!(
                "the table's final snapshot holds {}, which the history {}",
                text.show(k),
                last.map_or_else(
                    || "does not leave live (never handed out, or removed)".to_owned(),
                    |o| format!("left removed ({})", o.label())
                )
            );
            found.push(Filed {
                finding: Finding {
                    kind: FindingKind::FinalStateMismatch,
                    segment,
                    op: last,
                    evidence: Vec::new(),
                    key: Some(k),
                    message,
                    span: (0, end_time),
                },
                definite: false,
            });
        }
        self.filed.extend(found.into_iter().map(|f| (f, segment)));
    }

    /// Closes the current segment: decides what is left and records its gaps.
    fn close_segment(&mut self) {
        if self.seg.is_none() {
            return;
        }
        self.decide_all();
        let Some(s) = self.seg.take() else { return };
        let mut gaps: Vec<Gap> = s
            .drops
            .iter()
            .map(|d| Gap {
                thread: d.thread,
                from: d.first_ns,
                to: d.last_ns.max(d.first_ns),
                ops: Some(d.count),
            })
            .collect();
        for q in s.threads.iter().filter(|q| !q.ended) {
            gaps.push(Gap { thread: q.thread, from: q.last_end, to: u64::MAX, ops: None });
        }
        gaps.sort_by_key(|g| (g.from, g.thread));
        let claims_late = s.claims.as_ref().map_or((0, u64::MAX), |c| c.late);
        let late = s.late.1.min(claims_late.1);
        self.out.late_ops += s.late.0 + claims_late.0;
        if self.first_segment.is_none() {
            self.first_segment = Some((s.capacity(), s.prefill_inserts, s.prefill_refused));
        }
        self.out.keys += s.keys.seen;
        self.out.peak_keys = self.out.peak_keys.max(s.keys.peak);
        let lin = s.keys.lin;
        let l = &mut self.out.lin;
        l.keys += lin.keys;
        l.windows += lin.windows;
        l.ok += lin.ok;
        l.violated += lin.violated;
        l.unknown += lin.unknown;
        l.skipped_keys += lin.skipped_keys;
        l.largest_window = l.largest_window.max(lin.largest_window);
        self.out.lin_time += s.keys.lin_time;
        if let Some(c) = &s.claims {
            self.out.fulls_checked += c.fulls_checked;
            self.out.snapshots_checked += c.snapshots_checked;
            if c.fulls_unchecked > 0 {
                self.out.notes.push(format!(
                    "segment {}: {} Full refusals not checkable: with magazines of {} and {} writers, up to {} free ids \
                     may sit in other writers' magazines, as many as the table holds",
                    s.index,
                    c.fulls_unchecked,
                    c.magazine.unwrap_or(0),
                    c.writers,
                    c.slack()
                ));
            } else if c.slack() > 0 && c.fulls_checked > 0 {
                self.out.notes.push(format!(
                    "segment {}: Full refusals checked allowing up to {} free ids in other writers' magazines \
                     (magazines of {}, {} writers)",
                    s.index,
                    c.slack(),
                    c.magazine.unwrap_or(0),
                    c.writers
                ));
            }
        }
        for g in &gaps {
            if g.to != u64::MAX || s.end.is_none() {
                self.out.notes.push(format!("segment {}: {g}", s.index));
            }
            self.out.gaps.push((s.index, *g));
        }
        self.closed.insert(s.index, (gaps, late));
    }

    /// Whether the history this checker saw is whole: closed cleanly after the run, nothing
    /// dropped.
    fn whole(&self, stop: &ReadStop) -> bool {
        self.end.is_some_and(|e| !e.reason.is_limit() && e.dropped == 0) && stop.is_clean() && !self.any_drops
    }

    /// Sorts the findings and says what the checks covered.
    ///
    /// # Errors
    /// When the records contradict each other (a damaged or hand-made trace): in words.
    pub fn finish(mut self, stop: &ReadStop) -> Result<CheckOutcome, String> {
        self.close_segment();
        if let Some(why) = self.inconsistent.take() {
            return Err(why);
        }
        // A whole recording of the first table holds every prefill insert.
        let whole = self.whole(stop) && self.source != FrontierSource::AtEnd;
        if let (true, Some((Some(cap), recorded, cut_by_full))) = (whole, self.first_segment) {
            #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let asked = (self.header_prefill.clamp(0.0, 1.0) * cap as f64).round() as u64;
            // A refused prefill insert (a full table) ends the prefill early, legally.
            if recorded < asked.min(cap) && !cut_by_full {
                return Err(format!(
                    "the header promises a table of {cap} slots prefilled to {}, i.e. {asked} prefill inserts, but the whole trace holds {recorded}",
                    self.header_prefill
                ));
            }
        }
        let mut out = self.out;
        if !stop.is_clean() {
            out.notes.insert(0, format!("the trace is cut short ({stop}); checks cover what was read"));
        }
        match self.end {
            None => out.notes.insert(0, "the trace has no end record (the run did not close it): the last ops of every thread may be missing".to_owned()),
            Some(e) if e.reason.is_limit() => out.notes.insert(0, format!("{}: the history is a prefix of the run", e.reason.describe())),
            Some(_) => {}
        }
        if out.late_ops > 0 {
            out.notes.push(format!(
                "{} ops were read after the checker had decided about their time (the trace is out of its own order): findings from then on are incomplete",
                out.late_ops
            ));
        }
        let eps = self.prec.eps;
        for (f, segment) in self.filed {
            let Filed { mut finding, definite } = f;
            finding.segment = segment;
            let (gaps, late) = self.closed.get(&segment).map_or((&[][..], u64::MAX), |(g, l)| (&g[..], *l));
            let (lo, hi) = (finding.span.0.saturating_sub(eps), finding.span.1.saturating_add(eps));
            let gap = gaps.iter().find(|g| g.from <= hi && g.to >= lo);
            let is_late = hi.saturating_add(eps) >= late;
            if definite {
                out.violations.push(finding);
            } else if let Some(g) = gap {
                finding.message.push_str(&format!(
                    " (events are missing in the stretch it rests on: {g}; they may explain it)"
                ));
                out.incomplete.push(finding);
            } else if is_late {
                finding.message.push_str(" (ops arrived out of order around it; they may explain it)");
                out.incomplete.push(finding);
            } else {
                out.violations.push(finding);
            }
        }
        let by_time = |f: &Finding| f.span.1;
        out.violations.sort_by_key(by_time);
        out.incomplete.sort_by_key(by_time);
        out.named_checks_time = self.started.elapsed().saturating_sub(out.lin_time);
        Ok(out)
    }
}
