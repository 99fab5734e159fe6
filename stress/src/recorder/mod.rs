//! Recording a run into a trace (`run --record FILE`).
//!
//! ```text
//!  worker ──op──> ThreadSink ──7 words──> EventRing (SPSC, per thread, bounded)
//!                     │ full? park until the writer makes room (lossy: drop, count, mark)
//!                     v
//!  writer thread: drains every ring ──> OpBatch records ──> BufWriter ──> FILE.<pid>-<n>.partial
//!                 control queue (thread start/end, tables, pause, ...) ──> records, in order
//!                 after each pass: a frontier record (how far the file is complete)
//!                 every 250 ms: a table snapshot
//!  finish(): drain, End record, flush, rename the partial file -> FILE
//! ```
//!
//! | file | what lives there |
//! |---|---|
//! | `ring.rs` | the per-thread ring and the worker's sink (waiting or dropping when full) |
//! | `writer.rs` | the writer thread: records, frontier, snapshots, limits |
//! | `shared.rs` | what the handle, the sinks and the writer share |
//! | `probe.rs` | the probe that keeps what one op ran into, for its event |
//! | `target.rs` | where the file goes: the partial name, the claim, the rename |
//!
//! By default a recording loses nothing: a worker whose ring is full waits (parked) for the
//! writer, and the wait is counted and reported; it still stops when the engine stops, the
//! recording reaches its limit or the writer fails. With `--record-lossy` a full ring drops
//! the event instead and the trace says which ops were lost ([`slotscope_trace::DropRecord`]).
//! No locks on a worker's path, no allocation per op, no `unsafe`.
//!
//! The file is written under a name of this process's own beside `FILE` and renamed to `FILE`
//! when the recording closes (run end, `Engine::stop`, a signal handled by the caller); a
//! second recording into the same `FILE` at once is refused; a device or FIFO is written
//! straight ([`target`]). A process killed outright leaves its `FILE.<pid>-<n>.partial`, which
//! reads up to its last whole record.

mod probe;
mod ring;
mod shared;
pub mod target;
mod writer;

use std::collections::BTreeSet;
use std::io::{self, BufWriter};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use slotscope_table::Snapshot;

use crate::engine::timer::Clock;
use crate::report::RecordingReport;
use crate::scenario::values::{parse_duration, ValueError};
use crate::sync::lock;
use slotscope_trace::{
    ClockPrecision, ControlKind, ControlRecord, EndReason, Record, RunSummary, TableBegin, TableEnd,
    ThreadStart, TraceHeader, TraceWriter,
};

pub(crate) use probe::OpProbe;
use ring::EventRing;
pub(crate) use ring::ThreadSink;
pub(crate) use shared::RecordedTable;
use shared::{Pending, RecorderShared, NO_CORE};
use writer::WriterState;

/// Events each thread's ring holds (64 Ki events of 56 bytes: 3.5 MiB per thread). When the
/// writer falls this far behind, the thread waits for it (or, lossy, drops events: counted,
/// and said in the trace).
pub const RECORD_RING_EVENTS: usize = 1 << 16;
/// How often the writer snapshots the table into the trace (for the replay views).
pub const SNAPSHOT_INTERVAL: Duration = Duration::from_millis(250);
/// Tables above this many slots get no periodic snapshots (one would take several MiB).
pub const SNAPSHOT_MAX_CAPACITY: usize = 1 << 20;
/// The default `--record-limit`: 4 GiB (a 10 s closed-loop recording of two threads takes
/// about 0.9 GiB on a 2-core EPYC; the rate grows with cores).
pub const DEFAULT_RECORD_LIMIT: &str = "4GiB";
/// [`DEFAULT_RECORD_LIMIT`] in bytes.
pub const DEFAULT_RECORD_LIMIT_BYTES: u64 = 4 << 30;
/// Most ops in one record.
pub const OPS_PER_RECORD: usize = 4096;
/// How long the writer sleeps when every ring was empty.
pub(crate) const DRAIN_IDLE: Duration = Duration::from_millis(1);
/// Bytes kept free under a size limit for the closing records.
pub(crate) const END_RESERVE: u64 = 1024;

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
        RecordLimit::Bytes(DEFAULT_RECORD_LIMIT_BYTES)
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
    /// Drop events when a thread's ring is full instead of waiting for the writer
    /// (`--record-lossy`).
    pub lossy: bool,
}

impl RecordOptions {
    /// Recording into `path` with the defaults: 4 GiB, 64 Ki events per thread, a snapshot
    /// every 250 ms, lossless.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        RecordOptions {
            path: path.into(),
            limit: RecordLimit::default(),
            limit_text: DEFAULT_RECORD_LIMIT.to_owned(),
            command: String::new(),
            ring_events: RECORD_RING_EVENTS,
            snapshot_interval: SNAPSHOT_INTERVAL,
            lossy: false,
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
    precision: ClockPrecision,
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
        precision: Some(precision),
    }
}

// ---------------------------------------------------------------------------------------------
// The recorder's handle.

/// Records one run: hands out thread sinks, takes control events, and closes the file.
pub(crate) struct Recorder {
    /// The file being written (the partial file, or a device).
    writing: PathBuf,
    shared: Arc<RecorderShared>,
    writer: Mutex<Option<JoinHandle<RecordingReport>>>,
    report: Mutex<Option<RecordingReport>>,
    ring_events: usize,
    /// Cores the writer may take, and those pinned workers hold (`None`: an unpinned worker
    /// may run anywhere, so no core is free).
    cores: Vec<usize>,
    held: Mutex<Option<BTreeSet<usize>>>,
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
        cores: Vec<usize>,
        expected: Option<Duration>,
    ) -> io::Result<Recorder> {
        let (target, file) = target::Target::open(&options.path)
            .map_err(|e| io::Error::other(format!("cannot record into `{}`: {e}", options.path.display())))?;
        let writing = target.writing().to_owned();
        let mut out = TraceWriter::new(BufWriter::with_capacity(1 << 20, file))?;
        out.write(&Record::Header(Box::new(header.clone())))?;
        let shared = Arc::new(RecorderShared::new(clock, options.lossy));
        let state = WriterState::new(
            out,
            target,
            options.limit,
            u64::try_from(options.snapshot_interval.as_nanos()).unwrap_or(u64::MAX),
            expected.map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)),
            Arc::clone(&shared),
        );
        let writer =
            std::thread::Builder::new().name("slotscope-recorder".to_owned()).spawn(move || state.run())?;
        Ok(Recorder {
            writing,
            shared,
            writer: Mutex::new(Some(writer)),
            report: Mutex::new(None),
            ring_events: options.ring_events,
            cores,
            held: Mutex::new(Some(BTreeSet::new())),
        })
    }

    /// A worker is placed on `core` (`None`: unpinned). The writer takes a core no pinned
    /// worker holds, the last such in the list it was given, while every worker is pinned.
    pub(crate) fn worker_placed(&self, core: Option<usize>) {
        let mut held = lock(&self.held);
        let free = match (core, held.as_mut()) {
            (Some(c), Some(set)) => {
                set.insert(c);
                self.cores.iter().rev().copied().find(|c| !set.contains(c))
            }
            _ => {
                *held = None;
                None
            }
        };
        self.shared.writer_core.store(free.unwrap_or(NO_CORE), Ordering::Relaxed);
    }

    /// The engine is stopping: workers waiting for room wait at most [`ring::STOP_WAIT`]
    /// longer.
    pub(crate) fn release(&self) {
        self.shared.gate.releasing.store(true, Ordering::Relaxed);
    }

    /// A sink for worker `thread` on the current table.
    /// The file being written while recording (renamed to the trace's path when it closes).
    pub(crate) fn writing(&self) -> &std::path::Path {
        &self.writing
    }

    pub(crate) fn thread_sink(&self, thread: usize, group: &str) -> ThreadSink {
        let ring = Arc::new(EventRing::new(self.ring_events));
        let segment = self.shared.segment.load(Ordering::Relaxed);
        {
            // The clock is read under the queue's lock, so that a writer pass that took the
            // queue before saw an earlier time (its frontier relies on it).
            let mut q = lock(&self.shared.queue);
            let start = ThreadStart {
                thread: u32::try_from(thread).unwrap_or(u32::MAX),
                segment,
                group: group.to_owned(),
                clock_ns: self.shared.clock.now_ns(),
            };
            q.push(Pending::Ring(Arc::clone(&ring), start));
        }
        ThreadSink::new(ring, Arc::clone(&self.shared.gate))
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
    pub(crate) fn begin_table(
        &self,
        segment: u32,
        table: RecordedTable,
        variant: slotscope_table::Variant,
        allocator: slotscope_table::Allocator,
    ) {
        self.shared.segment.store(segment, Ordering::Relaxed);
        let r = TableBegin {
            segment,
            clock_ns: self.shared.clock.now_ns(),
            backend: table.backend.to_owned(),
            description: table.description.clone(),
            capacity: table.capacity.map(|c| c as u64),
            geometry: table.geometry,
            variant,
            // Only our table has allocators (the scenario check refuses magazines elsewhere).
            magazine: table.geometry.and(allocator.magazine()),
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
                waits: 0,
                waited_ns: 0,
                advice: None,
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
