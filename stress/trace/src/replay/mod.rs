//! What an interactive replay needs from a trace: an index built in one pass, and a
//! [`Player`] that moves a cursor through the ops in time order and says what the run looked
//! like there, reading the file around the cursor instead of holding the events in memory.
//!
//! The cursor stands between two ops of the merged order ([`crate::format::merge`]): its *rank* is the
//! number of ops applied. At the cursor:
//! - **the table** is modelled from every op up to it ([`model::TableModel`]: slots and
//!   counters exact, ring cells modelled); the recorded scans are there too
//!   ([`Player::scan_before`]), taken every 250 ms for tables up to 2^20 slots;
//! - **per-thread counters** and **whole-run latency** count the run's ops up to it (prefill
//!   and end-of-run sweep ops are not counted, as in the run's report);
//! - **the window** holds the ops of the last `window` ns of trace time before it (at most
//!   [`WINDOW_MAX_OPS`]): rates, interval latency, and per-line writes come from it.
//!
//! The index ([`ReplayIndex`]) keeps, besides the record positions, *checkpoints*: the
//! cursor's whole state every [`CHECKPOINT_EVERY`] ops or more (the model encoded as a trace
//! snapshot, the counters, the latency histograms serialised), within
//! [`CHECKPOINT_BUDGET_BYTES`]. A seek restores the checkpoint before its target and reads on
//! from there; moving forward by less than a checkpoint's distance reads on from the cursor.
//! Memory is the index, the checkpoints, the window and the merge's lag, whatever the trace's
//! length; time per seek is at most two checkpoints' worth of ops.

pub mod model;

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};

use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use hdrhistogram::Histogram;
use slotscope_table::Snapshot;

use crate::counts::Counts;
use crate::format::codec::{Dec, Enc};
use crate::format::merge::{ops_of_record, MergeResume, TimeOrdered, TracedOp};
use crate::format::reader::{ReadStop, RecordPos, TraceError, TraceIndex, TraceReader};
use crate::format::record::{
    ControlKind, ControlRecord, DropRecord, EndRecord, Record, TableBegin, TableEnd, TraceHeader,
};
use crate::format::snapshot::{decode_snapshot, encode_snapshot};
use crate::latency::latency_histogram;
use crate::op::OpKind;
use crate::op::{OpEvent, OpOrigin, OpOutcome};
use model::{TableModel, Tickets};

/// Fewest ops between two checkpoints (more when the budget would be exceeded).
pub const CHECKPOINT_EVERY: u64 = 1 << 16;
/// Memory for checkpoints; past it every other one is dropped and the distance doubles.
pub const CHECKPOINT_BUDGET_BYTES: usize = 64 << 20;
/// The most ops the window keeps (the newest, if its time span holds more).
pub const WINDOW_MAX_OPS: usize = 1 << 16;
/// Most rows of [`Buckets`]: past it, every ten rows become one.
pub const MAX_BUCKETS: usize = 4096;
/// Width of a bucket before any merge: 1 µs.
const FIRST_BUCKET_NS: u64 = 1_000;

type Reader = BufReader<File>;

/// Header-line writes an op made (as the table's probes count them): the claim, each full
/// undo and ticket skip for an insert; each push attempt and the release for a remove.
pub fn header_writes(e: &OpEvent) -> u64 {
    let p = &e.probes;
    match (e.kind, e.outcome) {
        (OpKind::Insert, OpOutcome::Inserted | OpOutcome::Refused) => {
            1 + u64::from(p.full_undos) + u64::from(p.ticket_skips)
        }
        (OpKind::Remove, OpOutcome::Removed) => 2 + u64::from(p.ring_retries),
        _ => 0,
    }
}

/// A worker as the trace names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadInfo {
    /// Global thread index.
    pub thread: u32,
    /// Segment it started on.
    pub segment: u32,
    /// Its group.
    pub group: String,
    /// When it started, clock ns.
    pub started_ns: u64,
    /// When its stream was complete, if the trace says.
    pub ended_ns: Option<u64>,
}

/// A recorded table scan (snapshot record).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScanMark {
    /// Where its record is.
    pub pos: RecordPos,
    /// Table segment.
    pub segment: u32,
    /// Scan start, clock ns.
    pub started_ns: u64,
    /// Scan end, clock ns.
    pub ended_ns: u64,
    /// The exact one taken at quiescence when the table ended.
    pub at_end: bool,
}

/// Activity over the whole trace in fixed time slices, for timelines and sparklines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Buckets {
    /// Start of row 0, clock ns.
    pub origin_ns: u64,
    /// Width of a row, ns: 1 µs times a power of ten (rows merge ten to one to stay within
    /// [`MAX_BUCKETS`]).
    pub width_ns: u64,
    /// The rows, in time order.
    pub rows: Vec<BucketRow>,
    open: Option<usize>,
    open_latency: [Vec<u64>; 3],
}

/// One time slice of [`Buckets`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BucketRow {
    /// Ops of any origin that ended in it.
    pub ops: u64,
    /// Ticket skips.
    pub ticket_skips: u64,
    /// Ring retries.
    pub ring_retries: u64,
    /// Header-line writes.
    pub header_writes: u64,
    /// p99 latency of the run's ops by operation (lookup, insert, remove), ns; 0 without
    /// ops. After rows merged, the largest of the merged rows' p99s.
    pub p99_ns: [u64; 3],
}

impl Buckets {
    /// The row time `t` falls in.
    pub fn row_of(&self, t: u64) -> Option<usize> {
        if self.width_ns == 0 || t < self.origin_ns {
            return None;
        }
        usize::try_from((t - self.origin_ns) / self.width_ns).ok()
    }

    /// Start of row `i`, clock ns.
    pub fn start_of(&self, i: usize) -> u64 {
        self.origin_ns + i as u64 * self.width_ns
    }

    fn add(&mut self, op: &TracedOp) {
        if self.width_ns == 0 {
            self.origin_ns = op.at;
            self.width_ns = FIRST_BUCKET_NS;
        }
        let Some(mut i) = self.row_of(op.at) else { return };
        while i >= MAX_BUCKETS {
            self.merge_tenfold();
            i = self.row_of(op.at).unwrap_or(0);
        }
        if self.open.is_none_or(|o| i > o) {
            self.close_open();
            self.open = Some(i);
        }
        if self.rows.len() <= i {
            self.rows.resize(i + 1, BucketRow::default());
        }
        let e = &op.op;
        let row = &mut self.rows[i];
        row.ops += 1;
        row.ticket_skips += u64::from(e.probes.ticket_skips);
        row.ring_retries += u64::from(e.probes.ring_retries);
        row.header_writes += header_writes(e);
        if Some(i) == self.open && e.origin == OpOrigin::Run {
            self.open_latency[op_index(e.kind)].push(e.end_ns.saturating_sub(e.start_ns));
        }
    }

    fn close_open(&mut self) {
        let Some(o) = self.open.take() else { return };
        for (k, lat) in self.open_latency.iter_mut().enumerate() {
            if lat.is_empty() {
                continue;
            }
            let at = (lat.len() * 99).div_ceil(100).saturating_sub(1);
            let (_, &mut p99, _) = lat.select_nth_unstable(at);
            if let Some(row) = self.rows.get_mut(o) {
                row.p99_ns[k] = row.p99_ns[k].max(p99);
            }
            lat.clear();
        }
    }

    fn merge_tenfold(&mut self) {
        let mut merged: Vec<BucketRow> = Vec::with_capacity(self.rows.len() / 10 + 1);
        for chunk in self.rows.chunks(10) {
            let mut r = BucketRow::default();
            for c in chunk {
                r.ops += c.ops;
                r.ticket_skips += c.ticket_skips;
                r.ring_retries += c.ring_retries;
                r.header_writes += c.header_writes;
                for k in 0..3 {
                    r.p99_ns[k] = r.p99_ns[k].max(c.p99_ns[k]);
                }
            }
            merged.push(r);
        }
        self.rows = merged;
        self.width_ns *= 10;
        self.open = self.open.map(|o| o / 10);
    }
}

fn op_index(k: OpKind) -> usize {
    match k {
        OpKind::Lookup => 0,
        OpKind::Insert => 1,
        OpKind::Remove => 2,
    }
}

/// The cursor's whole state, saved in the index.
#[derive(Clone, Debug)]
struct Checkpoint {
    rank: u64,
    last: Option<TracedOp>,
    resume: MergeResume,
    segment: u32,
    table: Option<Vec<u8>>,
    counts: Vec<(u32, Counts)>,
    latency: [Vec<u8>; 3],
}

impl Checkpoint {
    fn bytes(&self) -> usize {
        self.table.as_ref().map_or(0, Vec::len)
            + self.counts.len() * std::mem::size_of::<(u32, Counts)>()
            + self.latency.iter().map(Vec::len).sum::<usize>()
            + self.resume.open.len() * 4
            + 256
    }

    fn time(&self) -> u64 {
        self.last.map_or(0, |o| o.at)
    }
}

/// Everything known about a trace after one pass, and where to restart reading at any point.
#[derive(Debug)]
pub struct ReplayIndex {
    /// The trace's header.
    pub header: TraceHeader,
    /// Every record's position and times.
    pub records: TraceIndex,
    /// Tables (segments), in order.
    pub segments: Vec<TableBegin>,
    /// Tables that ended.
    pub table_ends: Vec<TableEnd>,
    /// Workers, in start order.
    pub threads: Vec<ThreadInfo>,
    /// Dropped-event records.
    pub drops: Vec<DropRecord>,
    /// Control events.
    pub controls: Vec<ControlRecord>,
    /// Recorded table scans.
    pub scans: Vec<ScanMark>,
    /// The end record, if the recording was closed.
    pub end: Option<EndRecord>,
    /// Op events.
    pub events: u64,
    /// The run's time zero (clock started), clock ns; the first op's time if not recorded.
    pub zero_ns: u64,
    /// Time of the first and last op in merged order, clock ns.
    pub span_ns: (u64, u64),
    /// Activity in time slices.
    pub buckets: Buckets,
    /// Ops the merge handed out after a later one (see [`TimeOrdered::late`]).
    pub late: u64,
    checkpoints: Vec<Checkpoint>,
    checkpoint_every: u64,
}

impl ReplayIndex {
    /// Why reading stopped.
    pub fn stop(&self) -> &ReadStop {
        &self.records.stop
    }

    /// Checkpoints held and the ops between two.
    pub fn checkpoints(&self) -> (usize, u64) {
        (self.checkpoints.len(), self.checkpoint_every)
    }

    /// Bytes the checkpoints take.
    pub fn checkpoint_bytes(&self) -> usize {
        self.checkpoints.iter().map(Checkpoint::bytes).sum()
    }

    /// The table segment `s` began as.
    pub fn segment(&self, s: u32) -> Option<&TableBegin> {
        self.segments.iter().find(|b| b.segment == s)
    }

    /// The drop records whose span holds `t` (clock ns).
    pub fn drops_at(&self, t: u64) -> impl Iterator<Item = &DropRecord> {
        self.drops.iter().filter(move |d| d.first_ns <= t && t <= d.last_ns.max(d.first_ns))
    }

    /// The first run op of the trace after the clock started: where a replay is most
    /// interesting to begin.
    pub fn first_run_time(&self) -> u64 {
        self.zero_ns
    }
}

/// Where the cursor is and what the run looked like there.
#[derive(Clone, Debug)]
pub struct Cursor {
    /// Ops applied (in merged order).
    pub rank: u64,
    /// The cursor's time, clock ns: the target time of a time seek, else the last op's.
    pub time_ns: u64,
    /// The last op applied.
    pub last: Option<TracedOp>,
    /// The table as modelled (`None` before the first op of a trace without a table-begin).
    pub model: Option<TableModel>,
    /// Per-thread counters of run ops.
    pub counts: BTreeMap<u32, Counts>,
    /// Latency of every run op so far, by operation (lookup, insert, remove).
    pub latency: [Histogram<u64>; 3],
    window: VecDeque<(TracedOp, Tickets)>,
    /// The window holds every op since this time (or is full).
    window_from: u64,
}

impl Cursor {
    fn start(index_segments: &[TableBegin]) -> Cursor {
        Cursor {
            rank: 0,
            time_ns: 0,
            last: None,
            model: index_segments.first().map(|b| TableModel::fresh(b.segment, b.geometry, b.variant)),
            counts: BTreeMap::new(),
            latency: [latency_histogram(), latency_histogram(), latency_histogram()],
            window: VecDeque::new(),
            window_from: 0,
        }
    }

    fn apply(&mut self, op: TracedOp, segments: &[TableBegin], keep_window: bool) -> Tickets {
        if self.model.as_ref().is_none_or(|m| m.segment() != op.segment) {
            let begin = segments.iter().find(|b| b.segment == op.segment);
            self.model = Some(TableModel::fresh(
                op.segment,
                begin.and_then(|b| b.geometry),
                begin.map_or_else(Default::default, |b| b.variant),
            ));
        }
        let tickets = self.model.as_mut().map_or_else(Tickets::default, |m| m.apply(&op.op));
        let e = &op.op;
        if e.origin == OpOrigin::Run {
            self.counts.entry(op.thread()).or_default().count_event(e);
            let _ = self.latency[op_index(e.kind)].record(e.end_ns.saturating_sub(e.start_ns).max(1));
        }
        self.rank += 1;
        self.time_ns = op.at;
        self.last = Some(op);
        if keep_window {
            self.window.push_back((op, tickets));
            if self.window.len() > WINDOW_MAX_OPS {
                self.window.pop_front();
            }
        }
        tickets
    }

    /// The ops of the window: those after `time - window_ns` up to the cursor (at most
    /// [`WINDOW_MAX_OPS`], the newest), oldest first.
    pub fn window_ops(&self, window_ns: u64) -> impl Iterator<Item = &(TracedOp, Tickets)> {
        let from = self.time_ns.saturating_sub(window_ns);
        self.window.iter().filter(move |(o, _)| o.at > from || window_ns == 0 && o.at == self.time_ns)
    }

    /// Whether the window holds every op of its span (else it starts later than asked).
    fn window_complete(&self, window_ns: u64) -> bool {
        self.window.len() >= WINDOW_MAX_OPS || self.window_from <= self.time_ns.saturating_sub(window_ns)
    }

    fn checkpoint(&self, resume: MergeResume) -> Checkpoint {
        let table = self.model.as_ref().and_then(TableModel::snapshot).map(|s| {
            let mut e = Enc::new();
            encode_snapshot(s, &mut e);
            e.buf
        });
        let latency = self.latency.each_ref().map(|h| {
            let mut out = Vec::new();
            // Serialising into memory cannot fail for a valid histogram.
            let _ = V2Serializer::new().serialize(h, &mut out);
            out
        });
        Checkpoint {
            rank: self.rank,
            last: self.last,
            resume,
            segment: self.model.as_ref().map_or(0, TableModel::segment),
            table,
            counts: self.counts.iter().map(|(&t, &c)| (t, c)).collect(),
            latency,
        }
    }

    fn restore(c: &Checkpoint, segments: &[TableBegin]) -> Cursor {
        let mut cur = Cursor::start(segments);
        cur.rank = c.rank;
        cur.last = c.last;
        cur.time_ns = c.time();
        cur.window_from = c.time();
        if c.last.is_some() {
            let snap: Option<Snapshot> =
                c.table.as_ref().and_then(|b| decode_snapshot(&mut Dec::new(b)).ok());
            cur.model = Some(TableModel::from_snapshot(c.segment, snap));
        }
        cur.counts = c.counts.iter().copied().collect();
        for (h, bytes) in cur.latency.iter_mut().zip(&c.latency) {
            if let Ok(restored) = Deserializer::new().deserialize::<u64, _>(&mut bytes.as_slice()) {
                *h = restored;
            }
        }
        cur
    }
}

/// Where a seek goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Before the first op.
    Start,
    /// After the last op.
    End,
    /// After this many ops of the merged order.
    Rank(u64),
    /// To this time, clock ns: every op up to it applied.
    Time(u64),
    /// To this event number (file order): every op up to it in the merged order applied.
    Event(u64),
}

/// The cursor over a trace file (see the module docs).
#[derive(Debug)]
pub struct Player {
    path: PathBuf,
    index: ReplayIndex,
    stream: Option<TimeOrdered<Reader>>,
    cursor: Cursor,
    window_ns: u64,
}

/// How densely [`build_index`] keeps checkpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexOptions {
    /// Fewest ops between checkpoints ([`CHECKPOINT_EVERY`]).
    pub checkpoint_every: u64,
    /// Memory for checkpoints ([`CHECKPOINT_BUDGET_BYTES`]).
    pub budget_bytes: usize,
}

impl Default for IndexOptions {
    fn default() -> Self {
        IndexOptions { checkpoint_every: CHECKPOINT_EVERY, budget_bytes: CHECKPOINT_BUDGET_BYTES }
    }
}

/// Reads `path` once and builds its [`ReplayIndex`].
///
/// # Errors
/// [`TraceError`] when the file is not a readable trace (unknown version, not a trace, no
/// whole header). A truncated or damaged file indexes up to its last whole record.
pub fn build_index(path: &Path, options: IndexOptions) -> Result<ReplayIndex, TraceError> {
    let (header, reader) = TraceReader::open(path)?;
    let start_pos = RecordPos { number: reader.records_read() + 1, offset: reader.offset(), bytes: 0 };
    let mut merge = TimeOrdered::new(reader);
    let mut idx = ReplayIndex {
        header,
        records: TraceIndex { entries: Vec::new(), events: 0, stop: ReadStop::End },
        segments: Vec::new(),
        table_ends: Vec::new(),
        threads: Vec::new(),
        drops: Vec::new(),
        controls: Vec::new(),
        scans: Vec::new(),
        end: None,
        events: 0,
        zero_ns: 0,
        span_ns: (0, 0),
        buckets: Buckets::default(),
        late: 0,
        checkpoints: Vec::new(),
        checkpoint_every: options.checkpoint_every.max(1),
    };
    let start_resume = MergeResume { pos: start_pos, first_event: 0, after: None, open: Vec::new() };
    let mut cursor = Cursor::start(&[]);
    let mut first_cp = true;
    let mut budget_used = 0usize;
    let observe = |pos: RecordPos, r: &Record, idx: &mut ReplayIndex| {
        idx.records.push(pos, r);
        match r {
            Record::TableBegin(b) => idx.segments.push(b.clone()),
            Record::TableEnd(e) => idx.table_ends.push(*e),
            Record::ThreadStart(t) => idx.threads.push(ThreadInfo {
                thread: t.thread,
                segment: t.segment,
                group: t.group.clone(),
                started_ns: t.clock_ns,
                ended_ns: None,
            }),
            Record::ThreadEnd(t) => {
                if let Some(info) =
                    idx.threads.iter_mut().rev().find(|i| i.thread == t.thread && i.segment == t.segment)
                {
                    info.ended_ns = Some(t.clock_ns);
                }
            }
            Record::Drop(d) => idx.drops.push(*d),
            Record::Control(c) => idx.controls.push(c.clone()),
            Record::Snapshot(s) => idx.scans.push(ScanMark {
                pos,
                segment: s.segment,
                started_ns: s.started_ns,
                ended_ns: s.ended_ns,
                at_end: s.at_end,
            }),
            Record::End(e) => idx.end = Some(*e),
            Record::Ops(_) | Record::Header(_) | Record::Frontier(_) => {}
        }
    };
    loop {
        if first_cp {
            // The start, with the first segment's fresh table once its begin is read.
            first_cp = false;
            let mut cp = cursor.checkpoint(start_resume.clone());
            cp.table = None;
            idx.checkpoints.push(cp);
        }
        let Some(op) = merge.next(&mut |pos, r| observe(pos, r, &mut idx)) else { break };
        if cursor.rank == 0 {
            idx.span_ns.0 = op.at;
        }
        idx.buckets.add(&op);
        cursor.apply(op, &idx.segments, false);
        if cursor.rank.is_multiple_of(idx.checkpoint_every) {
            let cp = cursor.checkpoint(merge.resume_point());
            budget_used += cp.bytes();
            idx.checkpoints.push(cp);
            while budget_used > options.budget_bytes && idx.checkpoints.len() > 2 {
                // Keep the start and every other one after it.
                let mut i = 0;
                idx.checkpoints.retain(|_| {
                    i += 1;
                    i % 2 == 1
                });
                idx.checkpoint_every *= 2;
                budget_used = idx.checkpoints.iter().map(Checkpoint::bytes).sum();
            }
        }
    }
    idx.buckets.close_open();
    idx.records.stop = merge.stop().cloned().unwrap_or(ReadStop::End);
    idx.events = idx.records.events;
    idx.span_ns.1 = cursor.time_ns.max(idx.span_ns.0);
    idx.late = merge.late();
    idx.zero_ns = idx
        .controls
        .iter()
        .find(|c| c.kind == ControlKind::ClockStarted)
        .map_or(idx.span_ns.0, |c| c.clock_ns);
    Ok(idx)
}

impl Player {
    /// Indexes the trace at `path` and puts the cursor at its start.
    ///
    /// # Errors
    /// As [`build_index`].
    pub fn open(path: &Path, options: IndexOptions) -> Result<Player, TraceError> {
        let index = build_index(path, options)?;
        let cursor = Cursor::start(&index.segments);
        let mut p = Player { path: path.to_owned(), index, stream: None, cursor, window_ns: 100_000_000 };
        p.cursor.time_ns = p.index.span_ns.0;
        Ok(p)
    }

    /// The index.
    pub fn index(&self) -> &ReplayIndex {
        &self.index
    }

    /// The cursor.
    pub fn cursor(&self) -> &Cursor {
        &self.cursor
    }

    /// The window's length, ns of trace time.
    pub fn window_ns(&self) -> u64 {
        self.window_ns
    }

    /// Sets the window's length (ns of trace time, at least 1). The next seek fills it.
    pub fn set_window(&mut self, ns: u64) {
        self.window_ns = ns.max(1);
    }

    fn reader(&self) -> Result<TraceReader<Reader>, TraceError> {
        TraceReader::open(&self.path).map(|(_, r)| r)
    }

    /// Moves the cursor to `target` (clamped to the trace) and fills the window behind it.
    ///
    /// # Errors
    /// The file could not be read again (moved, deleted, or changed since it was indexed).
    pub fn seek(&mut self, target: Target) -> io::Result<()> {
        let goal = match target {
            Target::Start => Goal::Rank(0),
            Target::End => Goal::Rank(self.index.events),
            Target::Rank(r) => Goal::Rank(r.min(self.index.events)),
            Target::Time(t) => Goal::Time(t),
            Target::Event(e) => match self.event_key(e)? {
                Some(k) => Goal::Key(k),
                None => Goal::Rank(self.index.events),
            },
        };
        let ahead = goal.after(&self.cursor);
        // Reading on from the cursor is worth it up to the next checkpoint; past it, restore.
        let next_cp = self.index.checkpoints.iter().find(|c| c.rank > self.cursor.rank);
        let near = next_cp.is_none_or(|c| !goal.reached_by(c));
        if !(ahead && near && self.stream.is_some()) {
            let window_start = goal.time_hint().map(|t| t.saturating_sub(self.window_ns));
            self.restore(&goal, window_start)?;
        }
        self.advance(&goal);
        if !self.cursor.window_complete(self.window_ns) {
            // The window reaches back before the checkpoint used: start from an earlier one.
            let from = self.cursor.time_ns.saturating_sub(self.window_ns);
            let earlier = self.index.checkpoints.iter().rev().find(|c| c.time() <= from);
            if earlier.is_some_and(|c| c.time() < self.cursor.window_from) {
                let exact = self.cursor.last.map_or(Goal::Rank(0), |o| Goal::Key(o.key()));
                let time = self.cursor.time_ns;
                self.restore(&exact, Some(from))?;
                self.advance(&exact);
                self.cursor.time_ns = time.max(self.cursor.time_ns);
            }
        }
        Ok(())
    }

    /// Restores the last checkpoint that `goal` does not precede (and, if given, that is not
    /// after `window_start`).
    fn restore(&mut self, goal: &Goal, window_start: Option<u64>) -> io::Result<()> {
        let cps = &self.index.checkpoints;
        let by_goal = cps.iter().rposition(|c| !goal.before(c)).unwrap_or(0);
        let by_window =
            window_start.and_then(|w| cps[..=by_goal].iter().rposition(|c| c.time() <= w)).unwrap_or(by_goal);
        let cp = &cps[by_window.min(by_goal)];
        self.cursor = Cursor::restore(cp, &self.index.segments);
        if cp.rank == 0 {
            self.cursor.time_ns = self.index.span_ns.0;
            self.cursor.window_from = 0;
        }
        let reader = self.reader().map_err(io::Error::other)?;
        self.stream = Some(TimeOrdered::resume(reader, &cp.resume)?);
        Ok(())
    }

    fn advance(&mut self, goal: &Goal) {
        let Some(stream) = self.stream.as_mut() else { return };
        while let Some(key) = stream.peek(&mut |_, _| {}) {
            if !goal.admits(key, self.cursor.rank) {
                break;
            }
            let Some(op) = stream.next(&mut |_, _| {}) else { break };
            self.cursor.apply(op, &self.index.segments, true);
        }
        if let Goal::Time(t) = *goal {
            self.cursor.time_ns = t.max(self.cursor.last.map_or(0, |o| o.at));
        }
        if self.cursor.rank == 0 {
            self.cursor.time_ns = self.cursor.time_ns.max(self.index.span_ns.0);
        }
    }

    /// The merge key of event `e` (file order), read from its record; `None` past the end.
    ///
    /// # Errors
    /// The file could not be read again.
    pub fn event_key(&self, e: u64) -> io::Result<Option<(u64, u64)>> {
        let Some(entry) = self.index.records.record_of_event(e) else { return Ok(None) };
        let mut reader = self.reader().map_err(io::Error::other)?;
        reader.seek_to(entry.pos)?;
        match reader.next_record() {
            Some((_, Record::Ops(b))) => Ok(ops_of_record(entry.first_event, b.segment, &b.events)
                .find(|o| o.event == e)
                .map(|o| o.key())),
            _ => Err(io::Error::other(format!("the trace changed since it was indexed (event {e})"))),
        }
    }

    /// The recorded scan of the cursor's segment that started last at or before the cursor
    /// (past the last op: the one taken when the table ended), with its table.
    ///
    /// # Errors
    /// The file could not be read again.
    pub fn scan_before(&self) -> io::Result<Option<(ScanMark, Snapshot)>> {
        let segment = self.cursor.model.as_ref().map(TableModel::segment);
        let t = self.cursor.time_ns;
        // The scan taken when a table ended starts after its last op: past every op, it is
        // the one to show.
        let past_all = self.cursor.rank >= self.index.events;
        let Some(mark) = self
            .index
            .scans
            .iter()
            .rev()
            .find(|s| {
                (s.started_ns <= t || past_all && s.at_end) && segment.is_none_or(|seg| seg == s.segment)
            })
            .copied()
        else {
            return Ok(None);
        };
        let mut reader = self.reader().map_err(io::Error::other)?;
        reader.seek_to(mark.pos)?;
        match reader.next_record() {
            Some((_, Record::Snapshot(s))) => Ok(Some((mark, s.snapshot))),
            _ => Err(io::Error::other("the trace changed since it was indexed (a snapshot record)")),
        }
    }

    /// What the window says (see [`WindowStats`]).
    pub fn window(&self) -> WindowStats {
        let mut w = WindowStats::of(&self.cursor, self.window_ns);
        // Before the first op there was nothing to see: the window starts there at the earliest.
        w.span.0 = w.span.0.max(self.index.span_ns.0.saturating_sub(1)).min(w.span.1);
        w
    }

    /// Per thread, writes to slot-array line `line` in the window: `(thread, writes)`.
    pub fn line_writers(&self, line: usize) -> Vec<(u32, u32)> {
        let Some(g) = self.cursor.model.as_ref().and_then(TableModel::snapshot).map(Snapshot::geometry)
        else {
            return Vec::new();
        };
        let mut by: BTreeMap<u32, u32> = BTreeMap::new();
        for (o, _) in self.cursor.window_ops(self.window_ns) {
            if let Some(slot) = slot_written(o, g) {
                if g.line_of_slot(slot) == line {
                    *by.entry(o.thread()).or_default() += 1;
                }
            }
        }
        by.into_iter().collect()
    }
}

/// The slot an op wrote (a successful insert or remove of one of our keys).
fn slot_written(o: &TracedOp, g: slotscope_table::Geometry) -> Option<usize> {
    let e = &o.op;
    let writes = matches!(
        (e.kind, e.outcome),
        (OpKind::Insert, OpOutcome::Inserted) | (OpKind::Remove, OpOutcome::Removed)
    );
    let key = slotscope_table::Key::from_bits(e.key?);
    (writes && key.capacity_log2() == g.capacity_log2()).then_some(key.slot())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Goal {
    Rank(u64),
    Time(u64),
    Key((u64, u64)),
}

impl Goal {
    /// Whether the op with `key` (the next, with `rank` ops applied before it) is to be applied.
    fn admits(&self, key: (u64, u64), rank: u64) -> bool {
        match *self {
            Goal::Rank(r) => rank < r,
            Goal::Time(t) => key.0 <= t,
            Goal::Key(k) => key <= k,
        }
    }

    /// Whether the goal lies at or after the cursor (reading on gets there).
    fn after(&self, c: &Cursor) -> bool {
        let last = c.last.map(|o| o.key());
        match *self {
            Goal::Rank(r) => r >= c.rank,
            Goal::Time(t) => last.is_none_or(|k| t >= k.0),
            Goal::Key(k) => last.is_none_or(|l| k >= l),
        }
    }

    /// Whether checkpoint `c` is past the goal (restoring it would overshoot).
    fn before(&self, c: &Checkpoint) -> bool {
        let key = c.last.map(|o| o.key());
        match *self {
            Goal::Rank(r) => c.rank > r,
            Goal::Time(t) => key.is_some_and(|k| k.0 > t),
            Goal::Key(k) => key.is_some_and(|ck| ck > k),
        }
    }

    /// Whether restoring `c` gets at least as far as reading on would.
    fn reached_by(&self, c: &Checkpoint) -> bool {
        !self.before(c)
    }

    /// The goal's time, where known without reading.
    fn time_hint(&self) -> Option<u64> {
        match *self {
            Goal::Time(t) => Some(t),
            Goal::Key(k) => Some(k.0),
            Goal::Rank(_) => None,
        }
    }
}

/// Rates, latency and line writes over the window behind the cursor.
#[derive(Clone, Debug)]
pub struct WindowStats {
    /// The window's span, clock ns: `(from, to]`. `from` is later than asked when the window
    /// holds [`WINDOW_MAX_OPS`] ops (the newest), or when the trace starts later.
    pub span: (u64, u64),
    /// Ops in it (any origin).
    pub ops: u64,
    /// Whether it was cut to [`WINDOW_MAX_OPS`].
    pub capped: bool,
    /// Ops per thread in it.
    pub per_thread: BTreeMap<u32, u64>,
    /// Latency of its run ops by operation.
    pub latency: [Histogram<u64>; 3],
    /// Writes per slot-array line (empty without our table).
    pub slot_writes: Vec<u32>,
    /// Distinct writing threads per slot-array line (threads told apart modulo 64).
    pub slot_writers: Vec<u8>,
    /// Writes per ring line, at the tickets the model gave the ops.
    pub ring_writes: Vec<u32>,
    /// Distinct writers per ring line.
    pub ring_writers: Vec<u8>,
    /// Header-line writes.
    pub header_writes: u64,
    /// Distinct threads that wrote the header line.
    pub header_writers: u8,
    /// Ticket skips and ring retries in it.
    pub ticket_skips: u64,
    /// See [`WindowStats::ticket_skips`].
    pub ring_retries: u64,
}

impl WindowStats {
    fn of(c: &Cursor, window_ns: u64) -> WindowStats {
        let geometry = c.model.as_ref().and_then(TableModel::snapshot).map(Snapshot::geometry);
        let (lines, ring_lines) = geometry.map_or((0, 0), |g| (g.lines(), g.ring_lines()));
        let mut w = WindowStats {
            span: (c.time_ns.saturating_sub(window_ns), c.time_ns),
            ops: 0,
            capped: false,
            per_thread: BTreeMap::new(),
            latency: [latency_histogram(), latency_histogram(), latency_histogram()],
            slot_writes: vec![0; lines],
            slot_writers: vec![0; lines],
            ring_writes: vec![0; ring_lines],
            ring_writers: vec![0; ring_lines],
            header_writes: 0,
            header_writers: 0,
            ticket_skips: 0,
            ring_retries: 0,
        };
        let mut slot_mask = vec![0u64; lines];
        let mut ring_mask = vec![0u64; ring_lines];
        let mut header_mask = 0u64;
        let mut first = None;
        for (o, tickets) in c.window_ops(window_ns) {
            first.get_or_insert(o.at);
            let e = &o.op;
            w.ops += 1;
            *w.per_thread.entry(o.thread()).or_default() += 1;
            if e.origin == OpOrigin::Run {
                let _ = w.latency[op_index(e.kind)].record(e.end_ns.saturating_sub(e.start_ns).max(1));
            }
            w.ticket_skips += u64::from(e.probes.ticket_skips);
            w.ring_retries += u64::from(e.probes.ring_retries);
            let bit = 1u64 << (o.thread() % 64);
            let hw = header_writes(e);
            if hw > 0 {
                w.header_writes += hw;
                header_mask |= bit;
            }
            let Some(g) = geometry else { continue };
            if c.model.as_ref().is_some_and(|m| m.segment() != o.segment) {
                continue;
            }
            if let Some(slot) = slot_written(o, g) {
                let line = g.line_of_slot(slot);
                w.slot_writes[line] = w.slot_writes[line].saturating_add(1);
                slot_mask[line] |= bit;
            }
            for i in 0..u64::from(tickets.count) {
                let line = g.ring_line_of_cell(g.ring_cell_of_ticket(tickets.first.wrapping_add(i)));
                if let Some(r) = w.ring_writes.get_mut(line) {
                    *r = r.saturating_add(1);
                    ring_mask[line] |= bit;
                }
            }
        }
        if let Some(f) = first.filter(|&f| c.window.len() >= WINDOW_MAX_OPS && f > w.span.0) {
            w.capped = true;
            w.span.0 = f.saturating_sub(1);
        }
        // Distinct writers are popcounts (at most 64).
        #[allow(clippy::cast_possible_truncation)]
        let count = |m: u64| m.count_ones() as u8;
        for (out, m) in w.slot_writers.iter_mut().zip(&slot_mask) {
            *out = count(*m);
        }
        for (out, m) in w.ring_writers.iter_mut().zip(&ring_mask) {
            *out = count(*m);
        }
        w.header_writers = count(header_mask);
        w
    }

    /// The window's length, ns.
    pub fn span_ns(&self) -> u64 {
        self.span.1.saturating_sub(self.span.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counts::Counter;
    use crate::format::{OpBatch, ThreadEnd, ThreadStart, Trace, TraceWriter};

    /// A committed trace (`tests/data/traces/`): `mixed-2t` is 2 threads of a 60/20/20 mix
    /// with a fifth of lookups stale, 3000 ops each, on a 256-slot table half prefilled;
    /// `churn-2t` is 2 threads of 0/50/50, 2000 ops each, on the same table.
    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/traces").join(name)
    }

    /// Every op of the file in merged order, computed the slow way: all in memory, sorted.
    fn sorted_ops(path: &Path) -> Vec<TracedOp> {
        let trace = Trace::load(path).unwrap();
        let mut all = Vec::new();
        let mut first = 0u64;
        for r in &trace.records {
            if let Record::Ops(b) = r {
                all.extend(ops_of_record(first, b.segment, &b.events));
                first += b.events.len() as u64;
            }
        }
        all.sort_by_key(TracedOp::key);
        all
    }

    /// The cursor after the first `r` ops, applied one by one from the start.
    fn brute(path: &Path, idx: &ReplayIndex, r: usize) -> Cursor {
        let mut c = Cursor::start(&idx.segments);
        for op in sorted_ops(path).into_iter().take(r) {
            c.apply(op, &idx.segments, true);
        }
        c
    }

    fn same(a: &Cursor, b: &Cursor, what: &str) {
        assert_eq!(a.rank, b.rank, "{what}: rank");
        assert_eq!(a.last, b.last, "{what}: last op");
        assert_eq!(a.counts, b.counts, "{what}: counters");
        assert_eq!(
            a.model.as_ref().and_then(TableModel::snapshot),
            b.model.as_ref().and_then(TableModel::snapshot),
            "{what}: table"
        );
        for k in 0..3 {
            assert_eq!(a.latency[k].len(), b.latency[k].len(), "{what}: latency count");
            assert_eq!(a.latency[k].max(), b.latency[k].max(), "{what}: latency max");
        }
    }

    #[test]
    fn the_merge_hands_out_every_op_once_in_time_order() {
        let path = fixture("mixed-2t.trace");
        let (_, reader) = TraceReader::open(&path).unwrap();
        let mut m = TimeOrdered::new(reader);
        let mut out = Vec::new();
        while let Some(op) = m.next(&mut |_, _| {}) {
            out.push(op);
        }
        assert_eq!(m.late(), 0);
        assert_eq!(out, sorted_ops(&path), "the same ops, in the same order");
        assert!(out.len() > 6000, "prefill and run ops of two threads");
    }

    /// A hand-made trace whose second thread's ops are written after later ops of the first.
    fn out_of_order_trace(dir: &Path) -> PathBuf {
        let mut h = crate::format::tests::sample_header();
        h.threads = 2;
        let ev = |thread: usize, i: u64, t: u64| OpEvent {
            thread,
            op_index: i,
            kind: OpKind::Lookup,
            key: Some(7),
            outcome: OpOutcome::Miss,
            value: None,
            origin: OpOrigin::Run,
            probes: crate::op::OpProbes::default(),
            start_ns: t,
            end_ns: t + 5,
        };
        let batch = |thread: u32, ts: &[u64]| {
            Record::Ops(OpBatch {
                thread,
                segment: 0,
                events: ts.iter().enumerate().map(|(i, &t)| ev(thread as usize, i as u64, t)).collect(),
            })
        };
        let path = dir.join("ooo.trace");
        let mut w = TraceWriter::new(File::create(&path).unwrap()).unwrap();
        w.write(&Record::Header(Box::new(h))).unwrap();
        for t in 0..2 {
            w.write(&Record::ThreadStart(ThreadStart {
                thread: t,
                segment: 0,
                group: "g".into(),
                clock_ns: 0,
            }))
            .unwrap();
        }
        w.write(&batch(0, &[10, 20, 30, 40])).unwrap();
        w.write(&batch(0, &[50, 60])).unwrap();
        w.write(&batch(1, &[15, 25, 55])).unwrap();
        w.write(&Record::ThreadEnd(ThreadEnd { thread: 0, segment: 0, clock_ns: 70, events: 6, dropped: 0 }))
            .unwrap();
        w.write(&batch(1, &[65])).unwrap();
        drop(w);
        path
    }

    #[test]
    fn ops_written_late_by_the_drain_are_still_merged_in_time_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = out_of_order_trace(dir.path());
        let (_, reader) = TraceReader::open(&path).unwrap();
        let mut m = TimeOrdered::new(reader);
        let mut times = Vec::new();
        while let Some(op) = m.next(&mut |_, _| {}) {
            times.push((op.thread(), op.op.start_ns));
        }
        assert_eq!(
            times,
            [(0, 10), (1, 15), (0, 20), (1, 25), (0, 30), (0, 40), (0, 50), (1, 55), (0, 60), (1, 65)]
        );
        // Seeking by event number finds thread 1's first op (event 6) at its time.
        let mut p = Player::open(&path, IndexOptions::default()).unwrap();
        p.seek(Target::Event(6)).unwrap();
        assert_eq!(p.cursor().rank, 2);
        assert_eq!(p.cursor().last.unwrap().event, 6);
        p.seek(Target::Time(44)).unwrap();
        // Ops end 5 ns after they start: those ending by 44 started by 39.
        assert_eq!((p.cursor().rank, p.cursor().time_ns), (5, 44));
        assert_eq!(p.cursor().counts[&1][Counter::Lookups], 2);
    }

    #[test]
    fn seeks_anywhere_equal_a_replay_from_the_start() {
        let path = fixture("mixed-2t.trace");
        // Small checkpoints, so that seeks restore and read on.
        let options = IndexOptions { checkpoint_every: 500, ..IndexOptions::default() };
        let mut p = Player::open(&path, options).unwrap();
        let n = p.index().events;
        assert!(p.index().checkpoints().0 > 10);
        assert_eq!(p.index().late, 0);
        let idx = build_index(&path, options).unwrap();
        for r in [0, 1, 499, 500, 501, 4000, n - 1, n, 2, 1500, 1499, 1501, 7, n / 2] {
            p.seek(Target::Rank(r)).unwrap();
            same(p.cursor(), &brute(&path, &idx, r as usize), &format!("rank {r}"));
        }
        p.seek(Target::End).unwrap();
        assert_eq!(p.cursor().rank, n);
        p.seek(Target::Start).unwrap();
        assert_eq!(p.cursor().rank, 0);
        // Stepping one op at a time forward and back.
        p.seek(Target::Rank(998)).unwrap();
        for r in [999, 1000, 1001, 1000, 999, 998] {
            p.seek(Target::Rank(r)).unwrap();
            same(p.cursor(), &brute(&path, &idx, r as usize), &format!("step to {r}"));
        }
        // A time seek applies exactly the ops up to that time.
        let ops = sorted_ops(&path);
        let t = ops[2500].at;
        p.seek(Target::Time(t)).unwrap();
        let upto = ops.iter().filter(|o| o.at <= t).count();
        assert_eq!(p.cursor().rank, upto as u64);
        assert_eq!(p.cursor().time_ns, t);
        // An event seek puts that event at the cursor.
        let e = ops[1234].event;
        p.seek(Target::Event(e)).unwrap();
        assert_eq!(p.cursor().last.unwrap().event, e);
        assert_eq!(p.cursor().rank, 1235);
    }

    #[test]
    fn the_window_holds_the_ops_of_its_span() {
        let path = fixture("churn-2t.trace");
        let options = IndexOptions { checkpoint_every: 300, ..IndexOptions::default() };
        let mut p = Player::open(&path, options).unwrap();
        let ops = sorted_ops(&path);
        let at = ops[3000].at;
        let width = (ops[3000].at - ops[2000].at).max(1);
        p.set_window(width);
        // Reached from far back (a restore) and from just before (reading on): the same.
        for start in [Target::Start, Target::Rank(2990)] {
            p.seek(start).unwrap();
            p.seek(Target::Time(at)).unwrap();
            let w = p.window();
            let expected: Vec<&TracedOp> = ops.iter().filter(|o| o.at > at - width && o.at <= at).collect();
            assert_eq!(w.ops, expected.len() as u64, "from {start:?}");
            assert_eq!(w.span, (at - width, at));
            let inserts = expected.iter().filter(|o| o.op.outcome == OpOutcome::Inserted).count();
            let removes = expected.iter().filter(|o| o.op.outcome == OpOutcome::Removed).count();
            assert_eq!(w.slot_writes.iter().map(|&x| u64::from(x)).sum::<u64>(), (inserts + removes) as u64);
            assert!(w.header_writes >= 2 * (inserts + removes) as u64 - inserts as u64);
            let writers: usize = p.line_writers(0).iter().map(|&(_, n)| n as usize).sum();
            assert_eq!(writers, w.slot_writes[0] as usize);
        }
    }

    #[test]
    fn a_truncated_trace_replays_up_to_its_last_whole_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = fixture("churn-2t.trace");
        let bytes = std::fs::read(&path).unwrap();
        let cut = dir.path().join("cut.trace");
        std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
        let mut p =
            Player::open(&cut, IndexOptions { checkpoint_every: 400, ..IndexOptions::default() }).unwrap();
        assert!(matches!(p.index().stop(), ReadStop::Truncated { .. }), "{}", p.index().stop());
        assert!(p.index().end.is_none());
        let whole = Trace::load(&cut).unwrap();
        let n = whole.events().count() as u64;
        assert_eq!(p.index().events, n);
        p.seek(Target::End).unwrap();
        assert_eq!(p.cursor().rank, n);
        p.seek(Target::Rank(n / 3)).unwrap();
        assert_eq!(p.cursor().rank, n / 3);
    }

    #[test]
    fn a_small_budget_thins_the_checkpoints_and_seeks_stay_exact() {
        let path = fixture("mixed-2t.trace");
        let options = IndexOptions { checkpoint_every: 100, budget_bytes: 8 << 10 };
        let mut p = Player::open(&path, options).unwrap();
        let (count, every) = p.index().checkpoints();
        assert!(every > 100, "the distance doubled: {every}");
        assert!(p.index().checkpoint_bytes() <= 8 << 10 || count <= 2, "{count} checkpoints");
        let idx = build_index(&path, options).unwrap();
        for r in [3333, 17, 5000] {
            p.seek(Target::Rank(r)).unwrap();
            same(p.cursor(), &brute(&path, &idx, r as usize), &format!("rank {r}"));
        }
    }

    #[test]
    fn buckets_count_every_op_and_counters_match_the_run() {
        let path = fixture("mixed-2t.trace");
        let mut p = Player::open(&path, IndexOptions::default()).unwrap();
        let b = &p.index().buckets;
        assert_eq!(b.rows.iter().map(|r| r.ops).sum::<u64>(), p.index().events);
        assert!(b.rows.len() <= MAX_BUCKETS);
        assert!(b.rows.iter().any(|r| r.p99_ns[0] > 0), "lookup p99s");
        p.seek(Target::End).unwrap();
        for t in [0u32, 1] {
            assert_eq!(p.cursor().counts[&t].ops(), 3000, "thread {t}: every run op, no prefill or sweep");
        }
        assert_eq!(p.cursor().latency.iter().map(Histogram::len).sum::<u64>(), 6000);
        assert!(p.index().zero_ns > p.index().span_ns.0, "the prefill ran before the clock started");
    }
}
