//! Op events of every thread in one time order, read straight from the file.
//!
//! A trace holds each thread's ops in the thread's own order, but records of different threads
//! interleave as the writer drained their buffers, so timestamps are not monotonic across
//! records. [`TimeOrdered`] reads records in file order and hands out ops ordered by
//! [`TracedOp::key`] (completion time, then event number), keeping only the ops that some
//! thread's stream has not yet caught up with: a k-way merge whose inputs are discovered as the
//! file is read. An op is handed out once every thread that may still produce an earlier one
//! has been read past its time (the *watermark*).
//!
//! Memory is the drain lag: the ops read but not yet safe to hand out. Two valves keep it
//! bounded when a thread goes quiet without ending (a slow open-loop thread, a thread stopped
//! at a limit): an op is also handed out once [`MERGE_LAG_LIMIT`] ops are waiting or once the
//! newest time read is [`MERGE_LAG_NS`] past it. An op that arrives after a later one was
//! handed out is still handed out (and counted in [`TimeOrdered::late`]); nothing is lost.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::io::{self, Read, Seek};

use super::reader::{ReadStop, RecordPos, TraceReader};
use super::record::Record;
use crate::op::OpEvent;

/// Ops waiting in the merge beyond which the oldest is handed out without waiting for quiet
/// threads (about 30 MiB).
pub const MERGE_LAG_LIMIT: usize = 1 << 18;
/// How far behind the newest time read an op may wait for quiet threads: 1 s of trace time.
pub const MERGE_LAG_NS: u64 = 1_000_000_000;

/// One op event with its place in the trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TracedOp {
    /// Its event number (position among all op events of the file, from 0).
    pub event: u64,
    /// The table segment it ran on.
    pub segment: u32,
    /// Its time in the merged order, clock ns: its end (its start if the clock went backwards
    /// within the op), and never before the previous op of the same record.
    pub at: u64,
    /// The op as recorded.
    pub op: OpEvent,
}

impl TracedOp {
    /// The merge order: time, then event number (unique, so the order is total).
    pub fn key(&self) -> (u64, u64) {
        (self.at, self.event)
    }

    /// Its thread, as the trace's ops records name it.
    pub fn thread(&self) -> u32 {
        u32::try_from(self.op.thread).unwrap_or(u32::MAX)
    }
}

/// The ops of one ops record, in the order each record assigns times to them: what
/// [`TimeOrdered`] and an index use for an op's [`TracedOp::at`].
pub fn ops_of_record(
    first_event: u64,
    segment: u32,
    events: &[OpEvent],
) -> impl Iterator<Item = TracedOp> + '_ {
    let mut prev = 0u64;
    events.iter().enumerate().map(move |(i, e)| {
        let at = e.end_ns.max(e.start_ns).max(prev);
        prev = at;
        TracedOp { event: first_event + i as u64, segment, at, op: *e }
    })
}

#[derive(Debug, Default)]
struct ThreadQueue {
    /// Ops read and not handed out, by the record they came from (its position and first
    /// event number: where a merge resumes).
    records: VecDeque<(RecordPos, u64, VecDeque<TracedOp>)>,
    /// The latest time read for this thread: none of its unread ops is earlier.
    frontier: u64,
    /// Started and not yet ended: its unread ops hold the watermark back.
    open: bool,
}

impl ThreadQueue {
    fn head(&self) -> Option<&TracedOp> {
        self.records.front().and_then(|(_, _, ops)| ops.front())
    }

    fn pop(&mut self) -> Option<TracedOp> {
        let (_, _, ops) = self.records.front_mut()?;
        let op = ops.pop_front();
        if ops.is_empty() {
            self.records.pop_front();
        }
        op
    }
}

/// Where a merge can start again: the record to read from, the ops already handed out (every
/// op with a key up to `after`), and the threads open there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergeResume {
    /// The first record that may hold an op not handed out yet.
    pub pos: RecordPos,
    /// Event number of the first op in that record (or of the next op to come).
    pub first_event: u64,
    /// Every op with a key up to this one was handed out (`None`: none was).
    pub after: Option<(u64, u64)>,
    /// Threads started and not ended at that point.
    pub open: Vec<u32>,
}

/// The merged, time-ordered op stream of a trace (see the module docs).
#[derive(Debug)]
pub struct TimeOrdered<R> {
    reader: TraceReader<R>,
    threads: BTreeMap<u32, ThreadQueue>,
    /// One entry per thread with queued ops: its head's key.
    heads: BinaryHeap<Reverse<(u64, u64, u32)>>,
    waiting: usize,
    next_event: u64,
    after: Option<(u64, u64)>,
    newest: u64,
    eof: bool,
    late: u64,
    last_out: Option<(u64, u64)>,
}

impl<R: Read> TimeOrdered<R> {
    /// A merge over `reader`, positioned after the header (as [`TraceReader::open`] leaves it).
    pub fn new(reader: TraceReader<R>) -> Self {
        TimeOrdered {
            reader,
            threads: BTreeMap::new(),
            heads: BinaryHeap::new(),
            waiting: 0,
            next_event: 0,
            after: None,
            newest: 0,
            eof: false,
            late: 0,
            last_out: None,
        }
    }

    /// The key of the next op, reading records as needed; `observe` sees every record read, in
    /// file order. `None` at the end of the readable file.
    pub fn peek(&mut self, observe: &mut dyn FnMut(RecordPos, &Record)) -> Option<(u64, u64)> {
        loop {
            if let Some(&Reverse((at, event, _))) = self.heads.peek() {
                if self.eof
                    || self.waiting > MERGE_LAG_LIMIT
                    || self.newest.saturating_sub(at) >= MERGE_LAG_NS
                    || self.watermark() >= at
                {
                    return Some((at, event));
                }
            } else if self.eof {
                return None;
            }
            self.read_record(observe);
        }
    }

    /// The next op in time order (see [`TimeOrdered::peek`]).
    pub fn next(&mut self, observe: &mut dyn FnMut(RecordPos, &Record)) -> Option<TracedOp> {
        self.peek(observe)?;
        let Reverse((_, _, thread)) = self.heads.pop()?;
        let q = self.threads.get_mut(&thread)?;
        let op = q.pop()?;
        if let Some(h) = q.head() {
            self.heads.push(Reverse((h.at, h.event, thread)));
        }
        self.waiting -= 1;
        if self.last_out.is_some_and(|k| k > op.key()) {
            self.late += 1;
        }
        self.last_out = Some(op.key());
        Some(op)
    }

    /// Ops handed out after a later one (a thread's records arrived more than the lag limits
    /// behind the others). Zero in a trace whose writer kept up.
    pub fn late(&self) -> u64 {
        self.late
    }

    /// Why reading stopped, once it has (`None` while records remain).
    pub fn stop(&self) -> Option<&ReadStop> {
        self.reader.stop()
    }

    /// Where a new merge could start to hand out exactly the ops this one has not yet.
    pub fn resume_point(&self) -> MergeResume {
        let front = self
            .threads
            .values()
            .filter_map(|q| q.records.front())
            .min_by_key(|(pos, _, _)| pos.offset)
            .map(|&(pos, first, _)| (pos, first));
        let (pos, first_event) = front.unwrap_or_else(|| {
            let offset = self.reader.offset();
            (RecordPos { number: self.reader.records_read() + 1, offset, bytes: 0 }, self.next_event)
        });
        MergeResume {
            pos,
            first_event,
            after: self.last_out,
            open: self.threads.iter().filter(|(_, q)| q.open).map(|(&t, _)| t).collect(),
        }
    }

    /// The lowest time any open thread without queued ops may still produce an op at.
    fn watermark(&self) -> u64 {
        self.threads
            .values()
            .filter(|q| q.open && q.records.is_empty())
            .map(|q| q.frontier)
            .min()
            .unwrap_or(u64::MAX)
    }

    fn read_record(&mut self, observe: &mut dyn FnMut(RecordPos, &Record)) {
        let Some((pos, record)) = self.reader.next_record() else {
            self.eof = true;
            return;
        };
        observe(pos, &record);
        match &record {
            Record::Ops(b) => {
                let first = self.next_event;
                self.next_event += b.events.len() as u64;
                let q = self.threads.entry(b.thread).or_default();
                q.open = true;
                let was_empty = q.records.is_empty();
                let mut ops = VecDeque::new();
                for op in ops_of_record(first, b.segment, &b.events) {
                    q.frontier = q.frontier.max(op.at);
                    self.newest = self.newest.max(op.at);
                    if self.after.is_none_or(|a| op.key() > a) {
                        ops.push_back(op);
                    }
                }
                if !ops.is_empty() {
                    self.waiting += ops.len();
                    q.records.push_back((pos, first, ops));
                    if was_empty {
                        if let Some(h) = q.head() {
                            self.heads.push(Reverse((h.at, h.event, b.thread)));
                        }
                    }
                }
            }
            Record::ThreadStart(t) => {
                let q = self.threads.entry(t.thread).or_default();
                q.open = true;
                q.frontier = q.frontier.max(t.clock_ns);
            }
            Record::ThreadEnd(t) => {
                if let Some(q) = self.threads.get_mut(&t.thread) {
                    q.open = false;
                }
            }
            _ => {}
        }
    }
}

impl<R: Read + Seek> TimeOrdered<R> {
    /// A merge that starts at `resume` (from [`TimeOrdered::resume_point`] of a merge over the
    /// same file): it hands out the ops after `resume.after`, in the same order.
    ///
    /// # Errors
    /// A seek error.
    pub fn resume(mut reader: TraceReader<R>, resume: &MergeResume) -> io::Result<Self> {
        reader.seek_to(resume.pos)?;
        let mut m = TimeOrdered::new(reader);
        m.next_event = resume.first_event;
        m.after = resume.after;
        m.last_out = resume.after;
        let floor = resume.after.map_or(0, |(at, _)| at);
        for &t in &resume.open {
            m.threads.insert(t, ThreadQueue { records: VecDeque::new(), frontier: floor, open: true });
        }
        Ok(m)
    }

    /// Gives the reader back (to read other records at random).
    pub fn into_reader(self) -> TraceReader<R> {
        self.reader
    }
}
