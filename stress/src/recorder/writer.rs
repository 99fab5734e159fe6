//! The writer thread: drains every worker's ring into records, writes control records in
//! order, snapshots the table, stops at the recording limit, and says how far the file is
//! complete (frontier records).
//!
//! After each pass over the rings it writes a [`FrontierRecord`] (at most one per
//! [`FRONTIER_INTERVAL_NS`]): the smallest, over running threads, of the end of the last op it
//! wrote for the thread, or of the thread's declared quiet time when the pass emptied its
//! ring; and the time it took the list of threads (a thread registered later reads the clock
//! under the same lock, after that time, and starts its ops after its registration). Every op
//! starting before the frontier is then in the file, so a checker can decide about it.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use slotscope_table::Snapshot;
use slotscope_trace::{
    ControlKind, ControlRecord, DropRecord, EndReason, EndRecord, FrontierRecord, OpBatch, OpEvent, Record,
    SnapshotRecord, ThreadEnd, TraceWriter, FRONTIER_INTERVAL_NS,
};

use super::ring::{unpack, DropSpan, EventRing, Unpacked};
use super::shared::{Pending, RecorderShared, NO_CORE};
use super::{target, RecordLimit, DRAIN_IDLE, END_RESERVE, OPS_PER_RECORD, SNAPSHOT_MAX_CAPACITY};
use crate::report::RecordingReport;
use crate::sync::lock;

struct RingEntry {
    ring: Arc<EventRing>,
    thread: u32,
    segment: u32,
    head: u64,
    /// The end of the last op (or drop span) written, or the thread's registration time: its
    /// next op starts after it.
    last_end: u64,
}

/// Sets `accepting` to false when dropped: a writer that is gone makes room for nobody.
struct ReleaseOnExit(Arc<RecorderShared>);

impl Drop for ReleaseOnExit {
    fn drop(&mut self) {
        self.0.gate.accepting.store(false, Ordering::Relaxed);
    }
}

pub(crate) struct WriterState {
    out: TraceWriter<BufWriter<File>>,
    /// Where the trace goes; taken when it is put in place.
    target: Option<target::Target>,
    rings: Vec<RingEntry>,
    segment: Option<u32>,
    events: u64,
    dropped: u64,
    /// Set when recording stopped early (limit or error): nothing more is written.
    stopped: Option<EndReason>,
    /// Bytes that had reached the file when a write failed (at most; the failed write may have
    /// put part of a record there).
    written_at_failure: Option<u64>,
    error: Option<String>,
    limit: RecordLimit,
    started_ns: u64,
    snapshot_interval_ns: u64,
    next_snapshot_ns: u64,
    snap: Option<Snapshot>,
    batch: OpBatch,
    shared: Arc<RecorderShared>,
    /// The last frontier written for the current segment.
    frontier: u64,
    /// Waits and wait time of the rings retired so far.
    waits: u64,
    waited_ns: u64,
    /// The core the writer is pinned to, if any.
    pinned: usize,
    /// How long the run is meant to last, for the size-limit message.
    expected_ns: Option<u64>,
    /// What limit the whole run would have needed, when a size limit stopped it.
    advice: Option<String>,
}

impl WriterState {
    /// The writer's state for `out`, before any ring is registered.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        out: TraceWriter<BufWriter<File>>,
        target: target::Target,
        limit: RecordLimit,
        snapshot_interval_ns: u64,
        expected_ns: Option<u64>,
        shared: Arc<RecorderShared>,
    ) -> Self {
        WriterState {
            out,
            target: Some(target),
            rings: Vec::new(),
            segment: None,
            events: 0,
            dropped: 0,
            stopped: None,
            written_at_failure: None,
            error: None,
            limit,
            started_ns: shared.clock.now_ns(),
            snapshot_interval_ns,
            next_snapshot_ns: 0,
            snap: None,
            batch: OpBatch { thread: 0, segment: 0, events: Vec::with_capacity(OPS_PER_RECORD) },
            shared,
            frontier: 0,
            waits: 0,
            waited_ns: 0,
            pinned: NO_CORE,
            expected_ns,
            advice: None,
        }
    }

    pub(crate) fn run(mut self) -> RecordingReport {
        // However the writer ends (a panic included), workers waiting for room are released.
        let _release = ReleaseOnExit(Arc::clone(&self.shared));
        loop {
            let finishing = self.shared.finishing.load(Ordering::Acquire);
            self.follow_core();
            let listed_at = self.take_queue();
            let mut busy = false;
            let mut frontier = listed_at;
            for i in 0..self.rings.len() {
                // Acquire, before the drain reads the tail: pairs with the worker's Release
                // store after its last push, so the drain sees every event before it.
                let quiet = self.rings[i].ring.quiet_since.load(Ordering::Acquire);
                let taken = self.drain_ring(i, OPS_PER_RECORD);
                busy |= taken > 0;
                let e = &self.rings[i];
                let emptied = taken < OPS_PER_RECORD;
                frontier = frontier.min(if emptied { e.last_end.max(quiet) } else { e.last_end });
            }
            self.retire_closed_rings();
            self.write_frontier(frontier);
            self.maybe_snapshot();
            self.check_duration();
            if finishing {
                // One more pass after seeing the flag: everything queued before it is in.
                self.take_queue();
                self.drain_all();
                self.retire_closed_rings();
                break;
            }
            if !busy {
                std::thread::sleep(DRAIN_IDLE);
            }
        }
        let (reason, summary) = lock(&self.shared.finish).take().unwrap_or((EndReason::Abandoned, None));
        if self.stopped.is_none() {
            let end = EndRecord {
                clock_ns: self.shared.clock.now_ns(),
                reason,
                events: self.events,
                dropped: self.dropped,
                summary,
            };
            self.emit_forced(&Record::End(end));
        }
        if let Err(e) = self.out.flush() {
            self.error.get_or_insert(e.to_string());
        }
        let file = self.out.get_ref().get_ref();
        if let Err(e) = file.sync_all() {
            self.error.get_or_insert(e.to_string());
        }
        let path = match self.target.take().map(target::Target::commit) {
            Some(Ok(path)) => path,
            Some(Err((left, e))) => {
                self.error.get_or_insert(e);
                left
            }
            None => PathBuf::new(),
        };
        let final_reason = self.stopped.unwrap_or(reason);
        RecordingReport {
            path: path.display().to_string(),
            // After a failed write only what reached the file before it counts.
            bytes: self.written_at_failure.unwrap_or_else(|| self.out.bytes()),
            events: self.events,
            dropped: self.dropped,
            end: if self.error.is_some() { "writing the trace failed" } else { final_reason.describe() },
            limit_reached: final_reason.is_limit(),
            error: self.error.clone(),
            waits: self.waits,
            waited_ns: self.waited_ns,
            advice: self.advice.take(),
        }
    }

    /// Pins the writer to the core the recorder chose, when that changes.
    fn follow_core(&mut self) {
        let core = self.shared.writer_core.load(Ordering::Relaxed);
        if core != self.pinned && core != NO_CORE && crate::machine::pin::pin_current_thread(core) {
            self.pinned = core;
        }
    }

    /// Writes what the control plane queued; the clock reading taken under the queue's lock
    /// (every thread registered later registered after it).
    fn take_queue(&mut self) -> u64 {
        let (items, listed_at) = {
            let mut q = lock(&self.shared.queue);
            (std::mem::take(&mut *q), self.shared.clock.now_ns())
        };
        for item in items {
            match item {
                Pending::Ring(ring, start) => {
                    let thread = start.thread;
                    let segment = start.segment;
                    let last_end = start.clock_ns;
                    self.emit(&Record::ThreadStart(start));
                    self.rings.push(RingEntry { ring, thread, segment, head: 0, last_end });
                }
                Pending::Record(Record::TableBegin(t)) => {
                    // Whatever the old table's threads left is written first.
                    self.drain_all();
                    self.retire_closed_rings();
                    self.segment = Some(t.segment);
                    self.next_snapshot_ns = 0;
                    self.frontier = 0;
                    self.emit(&Record::TableBegin(t));
                }
                Pending::Record(r) => {
                    self.emit(&r);
                }
                Pending::TableEnd(end, snapshot) => {
                    self.drain_all();
                    self.retire_closed_rings();
                    let segment = end.segment;
                    let at = end.clock_ns;
                    self.emit(&Record::TableEnd(end));
                    if let Some(s) = snapshot {
                        let r = SnapshotRecord {
                            segment,
                            started_ns: at,
                            ended_ns: at,
                            at_end: true,
                            snapshot: *s,
                        };
                        self.emit(&Record::Snapshot(Box::new(r)));
                    }
                }
            }
        }
        listed_at
    }

    /// A frontier record, when the frontier moved far enough.
    fn write_frontier(&mut self, frontier: u64) {
        let Some(segment) = self.segment else { return };
        if frontier > self.frontier.saturating_add(FRONTIER_INTERVAL_NS)
            || (self.frontier == 0 && frontier > 0)
        {
            self.frontier = frontier;
            self.emit(&Record::Frontier(FrontierRecord { segment, clock_ns: frontier }));
        }
    }

    /// Writes up to `max` events of ring `i`; how many it took.
    fn drain_ring(&mut self, i: usize, max: usize) -> usize {
        let (thread, segment, head) = (self.rings[i].thread, self.rings[i].segment, self.rings[i].head);
        let ring = Arc::clone(&self.rings[i].ring);
        let mut spans = Vec::new();
        self.batch.thread = thread;
        self.batch.segment = segment;
        self.batch.events.clear();
        let mut last_end = self.rings[i].last_end;
        let new_head = ring.drain(head, max, |w| match unpack(w, thread as usize) {
            Unpacked::Op(e) => {
                last_end = last_end.max(e.end_ns);
                self.batch.events.push(e);
            }
            Unpacked::Drop(s) => {
                last_end = last_end.max(s.last_ns);
                spans.push((self.batch.events.len(), s));
            }
        });
        self.rings[i].head = new_head;
        self.rings[i].last_end = last_end;
        let taken = usize::try_from(new_head - head).unwrap_or(usize::MAX);
        if taken == 0 {
            return 0;
        }
        ring.wake_waiter();
        // Drop markers split the batch so that records stay in the thread's order.
        let events = std::mem::take(&mut self.batch.events);
        let mut from = 0;
        for (at, span) in spans {
            self.write_ops(thread, segment, &events[from..at]);
            from = at;
            self.write_drop(thread, segment, &span);
        }
        self.write_ops(thread, segment, &events[from..]);
        self.batch.events = events;
        taken
    }

    fn write_ops(&mut self, thread: u32, segment: u32, events: &[OpEvent]) {
        if events.is_empty() {
            return;
        }
        let batch = OpBatch { thread, segment, events: events.to_vec() };
        if self.emit(&Record::Ops(batch)) {
            self.events += events.len() as u64;
        }
    }

    fn write_drop(&mut self, thread: u32, segment: u32, s: &DropSpan) {
        let r = DropRecord {
            thread,
            segment,
            count: s.count,
            first_op: s.first_op,
            last_op: s.last_op,
            first_ns: s.first_ns,
            last_ns: s.last_ns,
        };
        if self.emit(&Record::Drop(r)) {
            self.dropped += s.count;
        }
    }

    fn drain_all(&mut self) {
        for i in 0..self.rings.len() {
            while self.drain_ring(i, OPS_PER_RECORD) > 0 {}
        }
    }

    /// Rings whose worker is gone and which are empty: their ThreadEnd record.
    fn retire_closed_rings(&mut self) {
        let mut i = 0;
        while i < self.rings.len() {
            let e = &self.rings[i];
            // Acquire: pairs with the sink's Release store in its Drop.
            if e.ring.closed.load(Ordering::Acquire) && e.ring.is_drained(e.head) {
                // One last drain in case the close raced with our previous one.
                while self.drain_ring(i, OPS_PER_RECORD) > 0 {}
                let e = self.rings.swap_remove(i);
                if let Some(span) = lock(&e.ring.leftover).take() {
                    self.write_drop(e.thread, e.segment, &span);
                }
                self.waits += e.ring.waits.load(Ordering::Relaxed);
                self.waited_ns += e.ring.waited_ns.load(Ordering::Relaxed);
                let end = ThreadEnd {
                    thread: e.thread,
                    segment: e.segment,
                    clock_ns: self.shared.clock.now_ns(),
                    events: e.ring.pushed.load(Ordering::Relaxed),
                    dropped: e.ring.dropped.load(Ordering::Relaxed),
                };
                self.emit(&Record::ThreadEnd(end));
            } else {
                i += 1;
            }
        }
    }

    fn maybe_snapshot(&mut self) {
        if self.snapshot_interval_ns == 0 || self.stopped.is_some() {
            return;
        }
        let now = self.shared.clock.now_ns();
        if now < self.next_snapshot_ns {
            return;
        }
        self.next_snapshot_ns = now.saturating_add(self.snapshot_interval_ns);
        let Some((segment, table)) = lock(&self.shared.table).clone() else { return };
        if self.segment != Some(segment) {
            return;
        }
        let Some(g) = table.geometry.filter(|g| g.capacity() <= SNAPSHOT_MAX_CAPACITY) else { return };
        let snap = self.snap.get_or_insert_with(|| Snapshot::fresh(g));
        let started_ns = self.shared.clock.now_ns();
        if !(table.snapshot)(snap) {
            return;
        }
        let ended_ns = self.shared.clock.now_ns();
        let r = SnapshotRecord { segment, started_ns, ended_ns, at_end: false, snapshot: snap.clone() };
        self.emit(&Record::Snapshot(Box::new(r)));
    }

    fn check_duration(&mut self) {
        if let RecordLimit::Duration(d) = self.limit {
            let limit_ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
            if self.stopped.is_none()
                && self.shared.clock.now_ns().saturating_sub(self.started_ns) >= limit_ns
            {
                self.stop_recording(
                    EndReason::DurationLimit,
                    format!("recording stopped: its time limit of {d:?} was reached; the run goes on"),
                );
            }
        }
    }

    /// Writes `r` unless recording stopped; stops at the size limit instead of passing it.
    /// Whether it was written.
    fn emit(&mut self, r: &Record) -> bool {
        if self.stopped.is_some() {
            return false;
        }
        let len = match self.out.prepare(r) {
            Ok(n) => n,
            Err(e) => {
                self.fail(e.to_string());
                return false;
            }
        };
        if let RecordLimit::Bytes(max) = self.limit {
            if self.out.bytes() + len + END_RESERVE > max {
                let what = format!(
                    "recording stopped: the next record would pass its size limit of {max} bytes; the run goes on"
                );
                self.advice = self.needed_limit(max);
                self.stop_recording(EndReason::SizeLimit, what);
                return false;
            }
        }
        match self.out.commit() {
            Ok(()) => true,
            Err(e) => {
                self.fail(e.to_string());
                false
            }
        }
    }

    /// At the rate the file grew, the limit the whole run would need (when its length is
    /// known), as advice to print.
    fn needed_limit(&self, max: u64) -> Option<String> {
        let elapsed = self.shared.clock.now_ns().saturating_sub(self.started_ns).max(1);
        let total = self.expected_ns?;
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let need = (max as f64 * total as f64 / elapsed as f64 * 1.2).ceil() as u64;
        // Rounded up to a whole GiB, or to 64 MiB below that.
        let limit = if need >= 1 << 30 {
            RecordLimit::Bytes(need.div_ceil(1 << 30) << 30)
        } else {
            RecordLimit::Bytes(need.div_ceil(64 << 20).max(1) * (64 << 20))
        };
        #[allow(clippy::cast_precision_loss)]
        let (secs, run) = (elapsed as f64 / 1e9, total as f64 / 1e9);
        Some(format!(
            "the limit of {} was reached after {secs:.1} s of a {run:.1} s run: recording all of it needs about {limit} at this rate (--record-limit {limit})",
            RecordLimit::Bytes(max)
        ))
    }

    /// Writes `r` whatever the limit (closing records, within the reserve).
    fn emit_forced(&mut self, r: &Record) {
        if self.error.is_some() {
            return;
        }
        if let Err(e) = self.out.write(r) {
            self.fail(e.to_string());
        }
    }

    fn stop_recording(&mut self, reason: EndReason, what: String) {
        self.shared.gate.accepting.store(false, Ordering::Relaxed);
        let note = ControlRecord {
            clock_ns: self.shared.clock.now_ns(),
            kind: ControlKind::RecordingStopped,
            source: "recorder".to_owned(),
            what,
        };
        self.emit_forced(&Record::Control(note));
        let end = EndRecord {
            clock_ns: self.shared.clock.now_ns(),
            reason,
            events: self.events,
            dropped: self.dropped,
            summary: None,
        };
        self.emit_forced(&Record::End(end));
        if let Err(e) = self.out.flush() {
            self.error.get_or_insert(e.to_string());
        }
        self.stopped = Some(reason);
    }

    fn fail(&mut self, error: String) {
        self.shared.gate.accepting.store(false, Ordering::Relaxed);
        if self.error.is_none() {
            // What reached the file: everything encoded, less what still sat in the buffer.
            let buffered = self.out.get_ref().buffer().len() as u64;
            self.written_at_failure = Some(self.out.bytes().saturating_sub(buffered));
        }
        self.error.get_or_insert(error);
        self.stopped.get_or_insert(EndReason::Stopped);
    }
}
