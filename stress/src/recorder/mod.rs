//! Recording a run into a trace (`run --record FILE`).
//!
//! ```text
//!  worker ──op──> ThreadSink ──7 words──> EventRing (SPSC, per thread, bounded)
//!                     │ full? drop, count, and push a drop marker once there is room
//!                     v
//!  writer thread: drains every ring ──> OpBatch records ──> BufWriter ──> FILE.<pid>-<n>.partial
//!                 control queue (thread start/end, tables, pause, ...) ──> records, in order
//!                 every 250 ms: a table snapshot
//!  finish(): drain, End record, flush, rename the partial file -> FILE
//! ```
//!
//! A worker never waits for the writer: when its ring is full the event is dropped and
//! counted, and the trace says which ops were lost ([`slotscope_trace::DropRecord`]). The ring is
//! written by exactly one thread (its worker) and read by exactly one (the writer): plain
//! atomic words, a `Release` store of the tail after the words, an `Acquire` load of it before
//! reading them, and the same for the head in the other direction. No locks, no allocation per
//! op, no `unsafe`.
//!
//! The file is written under a name of this process's own beside `FILE` and renamed to `FILE`
//! when the recording closes (run end, `Engine::stop`, a signal handled by the caller); a
//! second recording into the same `FILE` at once is refused; a device or FIFO is written
//! straight ([`target`]). A process killed outright leaves its `FILE.<pid>-<n>.partial`, which
//! reads up to its last whole record.

pub mod target;

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_utils::CachePadded;
use slotscope_table::{Probe, Region, Snapshot};

use crate::engine::event::OpSink;
use crate::engine::stats::WorkerProbe;
use crate::engine::timer::Clock;
use crate::report::RecordingReport;
use crate::scenario::values::{parse_duration, ValueError};
use crate::sync::lock;
use slotscope_trace::Counts;
use slotscope_trace::OpKind;
use slotscope_trace::Value;
use slotscope_trace::{
    ControlKind, ControlRecord, DropRecord, EndReason, EndRecord, OpBatch, Record, RunSummary,
    SnapshotRecord, TableBegin, TableEnd, ThreadEnd, ThreadStart, TraceHeader, TraceWriter,
};
use slotscope_trace::{OpEvent, OpOrigin, OpOutcome, OpProbes};

/// Events each thread's ring holds (64 Ki events of 56 bytes: 3.5 MiB per thread). When the
/// writer falls this far behind, the thread drops events (counted, and said in the trace).
pub const RECORD_RING_EVENTS: usize = 1 << 16;
/// How often the writer snapshots the table into the trace (for the replay views).
pub const SNAPSHOT_INTERVAL: Duration = Duration::from_millis(250);
/// Tables above this many slots get no periodic snapshots (one would take several MiB).
pub const SNAPSHOT_MAX_CAPACITY: usize = 1 << 20;
/// The default `--record-limit`.
pub const DEFAULT_RECORD_LIMIT: &str = "1GiB";
/// Most ops in one record.
pub const OPS_PER_RECORD: usize = 4096;
/// How long the writer sleeps when every ring was empty.
const DRAIN_IDLE: Duration = Duration::from_millis(1);
/// Bytes kept free under a size limit for the closing records.
const END_RESERVE: u64 = 1024;

/// When recording stops (the run goes on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordLimit {
    /// After the file reaches this many bytes.
    Bytes(u64),
    /// After recording for this long.
    Duration(Duration),
}

impl Default for RecordLimit {
    /// [`DEFAULT_RECORD_LIMIT`].
    fn default() -> Self {
        RecordLimit::Bytes(1 << 30)
    }
}

impl std::fmt::Display for RecordLimit {
    /// As [`parse_record_limit`] reads it back: the largest binary unit that divides a size, or
    /// a duration.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            RecordLimit::Bytes(b) => {
                let unit = [("TiB", 1u64 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
                    .into_iter()
                    .find(|(_, n)| b % n == 0);
                match unit {
                    Some((u, n)) => write!(f, "{}{u}", b / n),
                    None => write!(f, "{b}B"),
                }
            }
            RecordLimit::Duration(d) => f.write_str(&crate::scenario::values::format_duration(d)),
        }
    }
}

/// Parses `--record-limit`: a size (`256MiB`, `1GiB`, `500MB`, `4096B`; binary units KiB, MiB,
/// GiB, TiB and decimal kB, MB, GB, TB) or a duration (`30s`, `2m`).
///
/// # Errors
/// A [`ValueError`] pointing at what is wrong.
pub fn parse_record_limit(input: &str) -> Result<RecordLimit, ValueError> {
    let t = input.trim();
    let units: [(&str, u64); 10] = [
        ("KiB", 1 << 10),
        ("MiB", 1 << 20),
        ("GiB", 1 << 30),
        ("TiB", 1 << 40),
        ("kB", 1000),
        ("KB", 1000),
        ("MB", 1_000_000),
        ("GB", 1_000_000_000),
        ("TB", 1_000_000_000_000),
        ("B", 1),
    ];
    for (unit, factor) in units {
        if let Some(number) = t.strip_suffix(unit) {
            let number = number.trim();
            let v: f64 = number.parse().map_err(|_| {
                ValueError::new(input, 0..input.len(), format!("`{number}` is not a number of {unit}"))
                    .with_hint("a size like 256MiB or 1GiB, or a duration like 30s")
            })?;
            // Rounded to whole bytes; bounded below.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
            let bytes = (v * factor as f64).round() as u64;
            if !v.is_finite() || v <= 0.0 || bytes < 4096 {
                return Err(ValueError::new(
                    input,
                    0..input.len(),
                    "a recording limit must be at least 4096 B",
                ));
            }
            return Ok(RecordLimit::Bytes(bytes));
        }
    }
    match parse_duration(t) {
        Ok(d) if !d.is_zero() => Ok(RecordLimit::Duration(d)),
        Ok(_) => Err(ValueError::new(input, 0..input.len(), "a recording limit must be more than zero")),
        Err(_) => Err(ValueError::new(input, 0..input.len(), "not a size or a duration")
            .with_hint("a size like 256MiB or 1GiB, or a duration like 30s")),
    }
}

/// How to record a run.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordOptions {
    /// The trace file (written under a temporary name beside it, renamed when closed; see
    /// [`target`]).
    pub path: PathBuf,
    /// When recording stops.
    pub limit: RecordLimit,
    /// The limit as the user wrote it (kept in the header).
    pub limit_text: String,
    /// The command line that repeats the run, kept in the header (may be empty).
    pub command: String,
    /// Events per thread ring ([`RECORD_RING_EVENTS`]); rounded up to a power of two.
    pub ring_events: usize,
    /// Snapshot interval ([`SNAPSHOT_INTERVAL`]); zero: no periodic snapshots.
    pub snapshot_interval: Duration,
}

impl RecordOptions {
    /// Recording into `path` with the defaults: 1 GiB, 64 Ki events per thread, a snapshot
    /// every 250 ms.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        RecordOptions {
            path: path.into(),
            limit: RecordLimit::Bytes(1 << 30),
            limit_text: DEFAULT_RECORD_LIMIT.to_owned(),
            command: String::new(),
            ring_events: RECORD_RING_EVENTS,
            snapshot_interval: SNAPSHOT_INTERVAL,
        }
    }
}

/// The header of a recording of `spec`.
pub(crate) fn header_for(
    spec: &crate::scenario::spec::RunSpec,
    machine: &crate::machine::MachineInfo,
    timing: &crate::engine::timer::TimingInfo,
    options: &RecordOptions,
    started_unix_ms: u64,
) -> TraceHeader {
    let echo = crate::report::SpecEcho::of(spec);
    TraceHeader {
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        scenario: spec.name.clone(),
        description: spec.description.clone(),
        source: spec.source.clone(),
        command: options.command.clone(),
        seed: spec.seed,
        stop: echo.stop,
        threads: u32::try_from(spec.initial_threads()).unwrap_or(u32::MAX),
        table: slotscope_trace::TableInfo {
            backend: spec.table.backend.name().to_owned(),
            capacity: spec.table.capacity as u64,
            layout: spec.table.layout,
            line_bytes: u32::try_from(spec.table.line_bytes).unwrap_or(u32::MAX),
            variant: spec.table.variant,
            prefill: spec.table.prefill,
        },
        machine: slotscope_trace::MachineLine {
            cpu_model: machine.cpu_model.clone(),
            logical_cores: u32::try_from(machine.logical_cores).unwrap_or(u32::MAX),
            available_cores: u32::try_from(machine.available_cores.len()).unwrap_or(u32::MAX),
            os: machine.os.clone(),
        },
        clock: timing.source.name().to_owned(),
        clock_ns_per_read: timing.ns_per_read,
        started_unix_ms,
        limit: options.limit_text.clone(),
        ring_events: u32::try_from(options.ring_events.max(2).next_power_of_two()).unwrap_or(u32::MAX),
        snapshot_interval_ns: u64::try_from(options.snapshot_interval.as_nanos()).unwrap_or(u64::MAX),
        snapshot_max_capacity: SNAPSHOT_MAX_CAPACITY as u64,
    }
}

// ---------------------------------------------------------------------------------------------
// The per-thread ring.

/// Words per event in the ring.
const WORDS: usize = 7;
/// Word 0 flags.
const W_HAS_KEY: u64 = 1 << 7;
const W_HAS_VALUE: u64 = 1 << 8;
const W_DROP: u64 = 1 << 9;

/// A bounded single-producer single-consumer ring of fixed-size events.
#[derive(Debug)]
pub(crate) struct EventRing {
    words: Box<[AtomicU64]>,
    mask: u64,
    /// Events the consumer has taken (written by the writer thread only).
    head: CachePadded<AtomicU64>,
    /// Events the producer has published (written by its worker only).
    tail: CachePadded<AtomicU64>,
    /// Set by the producer when it will push no more.
    closed: AtomicBool,
    pushed: AtomicU64,
    dropped: AtomicU64,
    /// A drop span the producer could not push before it closed.
    leftover: Mutex<Option<DropSpan>>,
}

impl EventRing {
    fn new(events: usize) -> Self {
        let cap = events.max(2).next_power_of_two();
        EventRing {
            words: (0..cap * WORDS).map(|_| AtomicU64::new(0)).collect(),
            mask: cap as u64 - 1,
            head: CachePadded::new(AtomicU64::new(0)),
            tail: CachePadded::new(AtomicU64::new(0)),
            closed: AtomicBool::new(false),
            pushed: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            leftover: Mutex::new(None),
        }
    }

    fn capacity(&self) -> u64 {
        self.mask + 1
    }

    /// Consumer: calls `f` on up to `max` events from position `head`; the new head.
    fn drain(&self, head: u64, max: usize, mut f: impl FnMut(&[u64; WORDS])) -> u64 {
        // Acquire: pairs with the producer's Release store of the tail, so the words of every
        // published event are visible.
        let tail = self.tail.load(Ordering::Acquire);
        let end = tail.min(head + max as u64);
        let mut w = [0u64; WORDS];
        for pos in head..end {
            // The mask keeps the index below the capacity.
            #[allow(clippy::cast_possible_truncation)]
            let base = (pos & self.mask) as usize * WORDS;
            for (i, x) in w.iter_mut().enumerate() {
                *x = self.words[base + i].load(Ordering::Relaxed);
            }
            f(&w);
        }
        if end != head {
            // Release: pairs with the producer's Acquire load of the head, so our reads of the
            // words happen before it overwrites them.
            self.head.store(end, Ordering::Release);
        }
        end
    }

    fn is_drained(&self, head: u64) -> bool {
        self.tail.load(Ordering::Acquire) == head
    }
}

/// Events a producer dropped in a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct DropSpan {
    count: u64,
    origin: OpOrigin,
    first_op: u64,
    last_op: u64,
    first_ns: u64,
    last_ns: u64,
}

/// A worker's sink: packs each event into its ring, or drops and counts it.
pub(crate) struct ThreadSink {
    ring: Arc<EventRing>,
    shared: Arc<RecorderShared>,
    tail: u64,
    head_seen: u64,
    pushed: u64,
    dropped: u64,
    span: Option<DropSpan>,
}

impl std::fmt::Debug for ThreadSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadSink").field("pushed", &self.pushed).field("dropped", &self.dropped).finish()
    }
}

impl ThreadSink {
    /// Room for `n` more events (refreshing the consumer's head only when it seems full).
    #[inline]
    fn has_room(&mut self, n: u64) -> bool {
        let cap = self.ring.capacity();
        if self.tail - self.head_seen + n <= cap {
            return true;
        }
        // Acquire: pairs with the consumer's Release store of the head.
        self.head_seen = self.ring.head.load(Ordering::Acquire);
        self.tail - self.head_seen + n <= cap
    }

    #[inline]
    fn put(&mut self, w: &[u64; WORDS]) {
        // The mask keeps the index below the capacity.
        #[allow(clippy::cast_possible_truncation)]
        let base = (self.tail & self.ring.mask) as usize * WORDS;
        for (i, &x) in w.iter().enumerate() {
            self.ring.words[base + i].store(x, Ordering::Relaxed);
        }
        self.tail += 1;
        // Release: pairs with the consumer's Acquire load; the words above are published.
        self.ring.tail.store(self.tail, Ordering::Release);
    }

    fn note_drop(&mut self, e: &OpEvent) {
        self.dropped += 1;
        match &mut self.span {
            Some(s) => {
                s.count += 1;
                s.last_op = e.op_index;
                s.last_ns = e.end_ns;
            }
            None => {
                self.span = Some(DropSpan {
                    count: 1,
                    origin: e.origin,
                    first_op: e.op_index,
                    last_op: e.op_index,
                    first_ns: e.start_ns,
                    last_ns: e.end_ns,
                });
            }
        }
    }
}

fn pack(e: &OpEvent) -> [u64; WORDS] {
    let sat16 = |v: u32| u64::from(v.min(0xffff));
    let sat8 = |v: u32| u64::from(v.min(0xff));
    let outcome = OpOutcome::ALL.iter().position(|&o| o == e.outcome).unwrap_or(0) as u64;
    let w0 = e.kind as u64
        | (outcome << 2)
        | ((e.origin as u64) << 5)
        | if e.key.is_some() { W_HAS_KEY } else { 0 }
        | if e.value.is_some() { W_HAS_VALUE } else { 0 }
        | (sat16(e.probes.ticket_skips) << 16)
        | (sat16(e.probes.ring_retries) << 32)
        | (sat8(e.probes.full_undos) << 48)
        | (sat8(e.probes.stale_rejections) << 56);
    let v = e.value.unwrap_or_default();
    [w0, e.op_index, e.key.unwrap_or(0), v.thread, v.seq, e.start_ns, e.end_ns]
}

fn pack_span(s: &DropSpan) -> [u64; WORDS] {
    [W_DROP | ((s.origin as u64) << 5), s.first_op, s.last_op, s.count, 0, s.first_ns, s.last_ns]
}

/// What a ring entry unpacks to.
enum Unpacked {
    Op(OpEvent),
    Drop(DropSpan),
}

fn unpack(w: &[u64; WORDS], thread: usize) -> Unpacked {
    let origin = OpOrigin::ALL[((w[0] >> 5) & 3) as usize % OpOrigin::ALL.len()];
    if w[0] & W_DROP != 0 {
        return Unpacked::Drop(DropSpan {
            count: w[3],
            origin,
            first_op: w[1],
            last_op: w[2],
            first_ns: w[5],
            last_ns: w[6],
        });
    }
    // Fields were packed from valid enums and u32 counts: the narrowing is lossless.
    #[allow(clippy::cast_possible_truncation)]
    let probes = OpProbes {
        ticket_skips: ((w[0] >> 16) & 0xffff) as u32,
        ring_retries: ((w[0] >> 32) & 0xffff) as u32,
        full_undos: ((w[0] >> 48) & 0xff) as u32,
        stale_rejections: (w[0] >> 56) as u32,
    };
    Unpacked::Op(OpEvent {
        thread,
        op_index: w[1],
        kind: OpKind::ALL[(w[0] & 3) as usize % OpKind::COUNT],
        key: (w[0] & W_HAS_KEY != 0).then_some(w[2]),
        outcome: OpOutcome::ALL[((w[0] >> 2) & 7) as usize % OpOutcome::ALL.len()],
        value: (w[0] & W_HAS_VALUE != 0).then_some(Value { thread: w[3], seq: w[4] }),
        origin,
        probes,
        start_ns: w[5],
        end_ns: w[6],
    })
}

impl OpSink for ThreadSink {
    const ENABLED: bool = true;

    #[inline]
    fn op(&mut self, e: &OpEvent) {
        // Relaxed: a flag written once, when a limit stops the recording; events after it may
        // or may not be pushed (the writer discards them).
        if !self.shared.accepting.load(Ordering::Relaxed) {
            return;
        }
        if let Some(span) = self.span {
            if !self.has_room(2) {
                self.note_drop(e);
                return;
            }
            self.put(&pack_span(&span));
            self.span = None;
        } else if !self.has_room(1) {
            self.note_drop(e);
            return;
        }
        self.put(&pack(e));
        self.pushed += 1;
    }
}

impl Drop for ThreadSink {
    fn drop(&mut self) {
        if let Some(span) = self.span.take() {
            if self.has_room(1) {
                self.put(&pack_span(&span));
            } else {
                *lock(&self.ring.leftover) = Some(span);
            }
        }
        self.ring.pushed.store(self.pushed, Ordering::Relaxed);
        self.ring.dropped.store(self.dropped, Ordering::Relaxed);
        // Release: pairs with the writer's Acquire load; the counts and leftover are final.
        self.ring.closed.store(true, Ordering::Release);
    }
}

/// A worker's probe while recording: forwards to the worker's own probe and keeps what the
/// current op ran into, for its event.
#[derive(Debug)]
pub(crate) struct OpProbe<P> {
    inner: P,
    op: OpProbes,
}

impl<P> OpProbe<P> {
    pub(crate) fn new(inner: P) -> Self {
        OpProbe { inner, op: OpProbes::default() }
    }
}

impl<P: Probe> Probe for OpProbe<P> {
    #[inline]
    fn ticket_skip(&mut self) {
        self.op.ticket_skips += 1;
        self.inner.ticket_skip();
    }
    #[inline]
    fn ring_retry(&mut self) {
        self.op.ring_retries += 1;
        self.inner.ring_retry();
    }
    #[inline]
    fn full_undo(&mut self) {
        self.op.full_undos += 1;
        self.inner.full_undo();
    }
    #[inline]
    fn stale_rejected(&mut self) {
        self.op.stale_rejections += 1;
        self.inner.stale_rejected();
    }
    #[inline]
    fn lookup(&mut self, hit: bool) {
        self.inner.lookup(hit);
    }
    #[inline]
    fn line_write(&mut self, region: Region, line: usize) {
        self.inner.line_write(region, line);
    }
}

impl<P: WorkerProbe> WorkerProbe for OpProbe<P> {
    #[inline]
    fn drain_into(&mut self, counts: &mut Counts) {
        self.inner.drain_into(counts);
    }
    #[inline]
    fn take_op_probes(&mut self) -> OpProbes {
        std::mem::take(&mut self.op)
    }
}

// ---------------------------------------------------------------------------------------------
// The recorder and its writer thread.

/// What the control plane hands the writer, in order.
enum Pending {
    Ring(Arc<EventRing>, ThreadStart),
    Record(Record),
    TableEnd(TableEnd, Option<Box<Snapshot>>),
}

/// Shared by the recorder, its sinks and its writer thread.
pub(crate) struct RecorderShared {
    /// False once recording stopped at a limit or an error: sinks push nothing more.
    accepting: CachePadded<AtomicBool>,
    queue: Mutex<Vec<Pending>>,
    finish: Mutex<Option<(EndReason, Option<RunSummary>)>>,
    finishing: AtomicBool,
    /// The table being recorded, for periodic snapshots.
    table: Mutex<Option<(u32, RecordedTable)>>,
    segment: AtomicU32,
    clock: Clock,
}

/// The table a recording is of, as the recorder needs it: what to write in its
/// [`TableBegin`], and how the writer thread takes a periodic snapshot of it.
#[derive(Clone)]
pub(crate) struct RecordedTable {
    /// The backend's name.
    pub backend: &'static str,
    /// The backend in words.
    pub description: String,
    /// Slots, for backends that have a capacity.
    pub capacity: Option<usize>,
    /// Our table's shape (`None` for other backends: no snapshots).
    pub geometry: Option<slotscope_table::Geometry>,
    /// Fills a snapshot of the table; false when it cannot.
    pub snapshot: Arc<dyn Fn(&mut Snapshot) -> bool + Send + Sync>,
}

/// Records one run: hands out thread sinks, takes control events, and closes the file.
pub(crate) struct Recorder {
    /// The file being written (the partial file, or a device).
    writing: PathBuf,
    shared: Arc<RecorderShared>,
    writer: Mutex<Option<JoinHandle<RecordingReport>>>,
    report: Mutex<Option<RecordingReport>>,
    ring_events: usize,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").finish_non_exhaustive()
    }
}

impl Recorder {
    /// Claims the path and creates the file ([`target`]), writes the prologue and `header`,
    /// and starts the writer thread.
    pub(crate) fn create(
        options: &RecordOptions,
        header: &TraceHeader,
        clock: Clock,
    ) -> io::Result<Recorder> {
        let (target, file) = target::Target::open(&options.path)
            .map_err(|e| io::Error::other(format!("cannot record into `{}`: {e}", options.path.display())))?;
        let writing = target.writing().to_owned();
        let mut out = TraceWriter::new(BufWriter::with_capacity(1 << 20, file))?;
        out.write(&Record::Header(Box::new(header.clone())))?;
        let shared = Arc::new(RecorderShared {
            accepting: CachePadded::new(AtomicBool::new(true)),
            queue: Mutex::new(Vec::new()),
            finish: Mutex::new(None),
            finishing: AtomicBool::new(false),
            table: Mutex::new(None),
            segment: AtomicU32::new(0),
            clock,
        });
        let state = WriterState {
            out,
            target: Some(target),
            rings: Vec::new(),
            segment: None,
            events: 0,
            dropped: 0,
            stopped: None,
            written_at_failure: None,
            error: None,
            limit: options.limit,
            started_ns: clock.now_ns(),
            snapshot_interval_ns: u64::try_from(options.snapshot_interval.as_nanos()).unwrap_or(u64::MAX),
            next_snapshot_ns: 0,
            snap: None,
            batch: OpBatch { thread: 0, segment: 0, events: Vec::with_capacity(OPS_PER_RECORD) },
            shared: Arc::clone(&shared),
        };
        let writer =
            std::thread::Builder::new().name("slotscope-recorder".to_owned()).spawn(move || state.run())?;
        Ok(Recorder {
            writing,
            shared,
            writer: Mutex::new(Some(writer)),
            report: Mutex::new(None),
            ring_events: options.ring_events,
        })
    }

    /// A sink for worker `thread` on the current table.
    /// The file being written while recording (renamed to the trace's path when it closes).
    pub(crate) fn writing(&self) -> &std::path::Path {
        &self.writing
    }

    pub(crate) fn thread_sink(&self, thread: usize, group: &str) -> ThreadSink {
        let ring = Arc::new(EventRing::new(self.ring_events));
        let segment = self.shared.segment.load(Ordering::Relaxed);
        let start = ThreadStart {
            thread: u32::try_from(thread).unwrap_or(u32::MAX),
            segment,
            group: group.to_owned(),
            clock_ns: self.shared.clock.now_ns(),
        };
        lock(&self.shared.queue).push(Pending::Ring(Arc::clone(&ring), start));
        ThreadSink {
            ring,
            shared: Arc::clone(&self.shared),
            tail: 0,
            head_seen: 0,
            pushed: 0,
            dropped: 0,
            span: None,
        }
    }

    /// A control event.
    pub(crate) fn control(&self, kind: ControlKind, source: &str, what: &str) {
        let r = ControlRecord {
            clock_ns: self.shared.clock.now_ns(),
            kind,
            source: source.to_owned(),
            what: what.to_owned(),
        };
        lock(&self.shared.queue).push(Pending::Record(Record::Control(r)));
    }

    /// The run clock started at `clock_ns`.
    pub(crate) fn clock_started(&self, clock_ns: u64) {
        let r = ControlRecord {
            clock_ns,
            kind: ControlKind::ClockStarted,
            source: "engine".to_owned(),
            what: "clock started (prefill done)".to_owned(),
        };
        lock(&self.shared.queue).push(Pending::Record(Record::Control(r)));
    }

    /// A table begins (at the start, and after each restart). Sinks made from now on belong to
    /// it.
    pub(crate) fn begin_table(&self, segment: u32, table: RecordedTable, variant: slotscope_table::Variant) {
        self.shared.segment.store(segment, Ordering::Relaxed);
        let r = TableBegin {
            segment,
            clock_ns: self.shared.clock.now_ns(),
            backend: table.backend.to_owned(),
            description: table.description.clone(),
            capacity: table.capacity.map(|c| c as u64),
            geometry: table.geometry,
            variant,
        };
        *lock(&self.shared.table) = Some((segment, table));
        lock(&self.shared.queue).push(Pending::Record(Record::TableBegin(r)));
    }

    /// The current table ended at quiescence, with what the engine counted and its final
    /// snapshot.
    pub(crate) fn end_table(
        &self,
        elements: Option<usize>,
        inserted: u64,
        removed: u64,
        snapshot: Option<Snapshot>,
    ) {
        let segment = self.shared.segment.load(Ordering::Relaxed);
        *lock(&self.shared.table) = None;
        let end = TableEnd {
            segment,
            clock_ns: self.shared.clock.now_ns(),
            elements: elements.map(|e| e as u64),
            inserted,
            removed,
        };
        lock(&self.shared.queue).push(Pending::TableEnd(end, snapshot.map(Box::new)));
    }

    /// Drains everything, writes the end record, closes and renames the file. Later calls
    /// return the same report.
    pub(crate) fn finish(&self, reason: EndReason, summary: Option<RunSummary>) -> RecordingReport {
        if let Some(r) = lock(&self.report).as_ref() {
            return r.clone();
        }
        *lock(&self.shared.finish) = Some((reason, summary));
        self.shared.finishing.store(true, Ordering::Release);
        let handle = lock(&self.writer).take();
        let report = match handle.map(JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) | None => RecordingReport {
                path: String::new(),
                bytes: 0,
                events: 0,
                dropped: 0,
                end: "the recorder's writer thread failed",
                limit_reached: false,
                error: Some("the writer thread panicked".to_owned()),
            },
        };
        *lock(&self.report) = Some(report.clone());
        report
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if lock(&self.report).is_none() {
            let _ = self.finish(EndReason::Abandoned, None);
        }
    }
}

struct RingEntry {
    ring: Arc<EventRing>,
    thread: u32,
    segment: u32,
    head: u64,
}

struct WriterState {
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
}

impl WriterState {
    fn run(mut self) -> RecordingReport {
        loop {
            let finishing = self.shared.finishing.load(Ordering::Acquire);
            self.take_queue();
            let mut busy = false;
            for i in 0..self.rings.len() {
                busy |= self.drain_ring(i, OPS_PER_RECORD) > 0;
            }
            self.retire_closed_rings();
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
        }
    }

    fn take_queue(&mut self) {
        let items = std::mem::take(&mut *lock(&self.shared.queue));
        for item in items {
            match item {
                Pending::Ring(ring, start) => {
                    let thread = start.thread;
                    let segment = start.segment;
                    self.emit(&Record::ThreadStart(start));
                    self.rings.push(RingEntry { ring, thread, segment, head: 0 });
                }
                Pending::Record(Record::TableBegin(t)) => {
                    // Whatever the old table's threads left is written first.
                    self.drain_all();
                    self.retire_closed_rings();
                    self.segment = Some(t.segment);
                    self.next_snapshot_ns = 0;
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
    }

    /// Writes up to `max` events of ring `i`; how many it took.
    fn drain_ring(&mut self, i: usize, max: usize) -> usize {
        let (thread, segment, head) = (self.rings[i].thread, self.rings[i].segment, self.rings[i].head);
        let ring = Arc::clone(&self.rings[i].ring);
        let mut spans = Vec::new();
        self.batch.thread = thread;
        self.batch.segment = segment;
        self.batch.events.clear();
        let new_head = ring.drain(head, max, |w| match unpack(w, thread as usize) {
            Unpacked::Op(e) => self.batch.events.push(e),
            Unpacked::Drop(s) => spans.push((self.batch.events.len(), s)),
        });
        self.rings[i].head = new_head;
        let taken = usize::try_from(new_head - head).unwrap_or(usize::MAX);
        if taken == 0 {
            return 0;
        }
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
        self.shared.accepting.store(false, Ordering::Relaxed);
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
        self.shared.accepting.store(false, Ordering::Relaxed);
        if self.error.is_none() {
            // What reached the file: everything encoded, less what still sat in the buffer.
            let buffered = self.out.get_ref().buffer().len() as u64;
            self.written_at_failure = Some(self.out.bytes().saturating_sub(buffered));
        }
        self.error.get_or_insert(error);
        self.stopped.get_or_insert(EndReason::Stopped);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(i: u64) -> OpEvent {
        OpEvent {
            thread: 3,
            op_index: i,
            kind: OpKind::Insert,
            key: Some(i * 16 + 1),
            outcome: OpOutcome::Inserted,
            value: Some(Value { thread: 3, seq: i }),
            origin: OpOrigin::Run,
            probes: OpProbes { ticket_skips: 1, ring_retries: 70_000, full_undos: 0, stale_rejections: 3 },
            start_ns: 100 * i,
            end_ns: 100 * i + 7,
        }
    }

    #[test]
    fn packing_round_trips_and_saturates_probe_counts() {
        let e = event(5);
        let Unpacked::Op(back) = unpack(&pack(&e), 3) else { panic!("not an op") };
        assert_eq!(back.probes.ring_retries, 0xffff, "saturated");
        assert_eq!(OpEvent { probes: OpProbes { ring_retries: 70_000, ..back.probes }, ..back }, e);
        let mut miss = e;
        miss.kind = OpKind::Lookup;
        miss.outcome = OpOutcome::Miss;
        miss.value = None;
        miss.origin = OpOrigin::Sweep;
        miss.probes = OpProbes::default();
        let Unpacked::Op(back) = unpack(&pack(&miss), 3) else { panic!("not an op") };
        assert_eq!(back, miss);
    }

    #[test]
    fn limits_parse_sizes_and_durations() {
        assert_eq!(parse_record_limit("256MiB").unwrap(), RecordLimit::Bytes(256 << 20));
        assert_eq!(parse_record_limit("1GiB").unwrap(), RecordLimit::Bytes(1 << 30));
        assert_eq!(parse_record_limit(" 1.5 GB ").unwrap(), RecordLimit::Bytes(1_500_000_000));
        assert_eq!(parse_record_limit("30s").unwrap(), RecordLimit::Duration(Duration::from_secs(30)));
        assert!(parse_record_limit("12B").is_err(), "too small");
        assert!(parse_record_limit("lots").unwrap_err().to_string().contains("not a size or a duration"));
        assert!(parse_record_limit("xMiB").is_err());
        assert!(parse_record_limit("0s").is_err());
    }

    /// A sink and a consumer on a tiny ring: whatever the interleaving, every event is either
    /// delivered in order or accounted for by a drop marker, and nothing is delivered twice.
    #[test]
    fn ring_delivers_in_order_or_counts_drops() {
        let shared = Arc::new(RecorderShared {
            accepting: CachePadded::new(AtomicBool::new(true)),
            queue: Mutex::new(Vec::new()),
            finish: Mutex::new(None),
            finishing: AtomicBool::new(false),
            table: Mutex::new(None),
            segment: AtomicU32::new(0),
            clock: Clock::new(),
        });
        let ring = Arc::new(EventRing::new(8));
        let mut sink = ThreadSink {
            ring: Arc::clone(&ring),
            shared,
            tail: 0,
            head_seen: 0,
            pushed: 0,
            dropped: 0,
            span: None,
        };
        const N: u64 = 20_000;
        let consumer = {
            let ring = Arc::clone(&ring);
            std::thread::spawn(move || {
                let mut head = 0;
                let mut seen = Vec::new();
                let mut dropped = 0;
                loop {
                    let closed = ring.closed.load(Ordering::Acquire);
                    head = ring.drain(head, 3, |w| match unpack(w, 3) {
                        Unpacked::Op(e) => seen.push(e.op_index),
                        Unpacked::Drop(s) => {
                            dropped += s.count;
                            seen.push(u64::MAX - s.first_op);
                        }
                    });
                    if closed && ring.is_drained(head) {
                        if let Some(s) = lock(&ring.leftover).take() {
                            dropped += s.count;
                        }
                        return (seen, dropped);
                    }
                    std::thread::yield_now();
                }
            })
        };
        for i in 0..N {
            sink.op(&event(i));
        }
        let (pushed, sink_dropped) = (sink.pushed, sink.dropped);
        drop(sink);
        let (seen, dropped) = consumer.join().unwrap();
        let ops: Vec<u64> = seen.iter().copied().filter(|&x| x < N).collect();
        assert_eq!(ops.len() as u64, pushed);
        assert_eq!(dropped, sink_dropped);
        assert_eq!(pushed + dropped, N);
        assert!(ops.windows(2).all(|w| w[0] < w[1]), "in order, no duplicates");
    }
}
