//! Per-op events, for recording (a later issue): the worker hands each op to an [`OpSink`].
//!
//! The worker is generic over the sink; [`NoEvents`] has `ENABLED = false`, so the calls and
//! the extra clock reads they need compile away. A recording sink will push events into a
//! per-thread bounded buffer drained by a writer thread, dropping (and counting) when full, so
//! that a slow disk never stalls a worker.

use serde::Serialize;

use crate::mix::OpKind;

/// What an op did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpOutcome {
    /// A lookup found a value.
    Hit,
    /// A lookup found nothing.
    Miss,
    /// An insert got an id.
    Inserted,
    /// An insert was refused (full).
    Refused,
    /// A remove removed.
    Removed,
    /// A remove found nothing.
    RemoveMissed,
    /// No key to act on; nothing was done.
    Skipped,
}

/// One op as a recorder sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct OpEvent {
    /// Global thread index.
    pub thread: usize,
    /// The thread's op index (every choice counts).
    pub op_index: u64,
    /// The operation.
    pub kind: OpKind,
    /// The id acted on (or handed out by an insert).
    pub key: Option<u64>,
    /// What happened.
    pub outcome: OpOutcome,
    /// Start, ns since the run clock's epoch.
    pub start_ns: u64,
    /// End, ns since the run clock's epoch.
    pub end_ns: u64,
}

/// Receives every op of one worker.
pub trait OpSink: Send + 'static {
    /// Whether the worker should build events at all (and time every op for them).
    const ENABLED: bool;
    /// One op finished.
    fn op(&mut self, event: &OpEvent);
}

/// The sink that records nothing (the default): compiled away.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoEvents;

impl OpSink for NoEvents {
    const ENABLED: bool = false;
    #[inline]
    fn op(&mut self, _event: &OpEvent) {}
}
