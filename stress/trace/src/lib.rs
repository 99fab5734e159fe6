//! The offline half of slotscope: what a recorded run is and what can be learned from it
//! without running anything.
//!
//! | module | what it is |
//! |---|---|
//! | [`op`], [`counts`], [`latency`] | the vocabulary of one operation, shared with the engine: kinds, outcomes, values, events, counters, the latency histogram |
//! | [`format`](mod@format) | the trace file: records, writer, reader, index, the time-ordered merge of threads |
//! | [`replay`] | a cursor through a trace for the interactive replay, and the table model it keeps |
//! | [`history`] | checking a recorded run: per-key checks, capacity, linearizability, test emission |
//! | [`reexec`] | re-executing a trace on one thread against a fresh table and a model |
//!
//! It depends on the table (re-execution runs one) and not on the engine: `slotscope check`
//! and `slotscope replay` link no worker threads, pinning or backends.
// A library prints nothing: it returns what the caller shows.
#![cfg_attr(not(test), deny(clippy::print_stdout, clippy::print_stderr))]

pub mod counts;
pub mod format;
pub mod history;
pub mod latency;
pub mod op;
pub mod reexec;
pub mod replay;

pub use counts::{Counter, Counts};
pub use format::{
    ClockPrecision, ControlKind, ControlRecord, DecodeError, DropRecord, EndReason, EndRecord,
    FrontierRecord, IndexEntry, MachineLine, OpBatch, ReadStop, Record, RecordPos, RecordType, RunSummary,
    SnapshotRecord, TableBegin, TableEnd, TableInfo, ThreadEnd, ThreadStart, Trace, TraceError, TraceHeader,
    TraceIndex, TraceReader, TraceWriter, FORMAT_VERSION, FRONTIER_INTERVAL_NS, MAGIC, UNMEASURED_EPSILON_NS,
};
pub use latency::latency_histogram;
pub use op::{OpEvent, OpKind, OpOrigin, OpOutcome, OpProbes, Value};
