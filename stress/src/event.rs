//! Per-op events, for recording: the worker hands each op to an [`OpSink`].
//!
//! The worker is generic over the sink; [`NoEvents`] has `ENABLED = false`, so the calls and
//! the extra clock reads they need compile away. The recording sink (`crate::recorder`) pushes
//! events into a per-thread bounded ring drained by a writer thread, dropping (and counting)
//! when full, so that a slow disk never stalls a worker.

use serde::Serialize;

use crate::backend::Value;
use crate::mix::OpKind;

/// What an op did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
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

impl OpOutcome {
    /// Every outcome, in code order (the trace format stores the position).
    pub const ALL: [OpOutcome; 7] = [
        OpOutcome::Hit,
        OpOutcome::Miss,
        OpOutcome::Inserted,
        OpOutcome::Refused,
        OpOutcome::Removed,
        OpOutcome::RemoveMissed,
        OpOutcome::Skipped,
    ];

    /// The word timelines and messages use.
    pub const fn name(self) -> &'static str {
        match self {
            OpOutcome::Hit => "hit",
            OpOutcome::Miss => "miss",
            OpOutcome::Inserted => "inserted",
            OpOutcome::Refused => "full",
            OpOutcome::Removed => "removed",
            OpOutcome::RemoveMissed => "not found",
            OpOutcome::Skipped => "skipped",
        }
    }
}

/// Where in a worker's life an op happened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpOrigin {
    /// A chosen op of the run (its `op_index` is the choice's index).
    #[default]
    Run,
    /// An insert of the worker's prefill share, before the clock starts (`op_index` counts
    /// prefill inserts).
    Prefill,
    /// A lookup of the end-of-run sweep over held keys (`op_index` counts sweep lookups).
    Sweep,
}

impl OpOrigin {
    /// Every origin, in code order (the trace format stores the position).
    pub const ALL: [OpOrigin; 3] = [OpOrigin::Run, OpOrigin::Prefill, OpOrigin::Sweep];
}

/// What one op ran into inside the table (from its contention probe), attributed to the op.
/// All zero when probes were off or the backend has none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct OpProbes {
    /// Ring tickets the insert skipped (cell RESERVED: a remover mid-push).
    pub ticket_skips: u32,
    /// Ring pushes the remove retried (cell still held an id).
    pub ring_retries: u32,
    /// Full-table retractions.
    pub full_undos: u32,
    /// Stale keys rejected by the generation check.
    pub stale_rejections: u32,
}

impl OpProbes {
    /// Whether nothing was counted.
    pub const fn is_zero(&self) -> bool {
        self.ticket_skips == 0 && self.ring_retries == 0 && self.full_undos == 0 && self.stale_rejections == 0
    }
}

/// One op as a recorder sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct OpEvent {
    /// Global thread index.
    pub thread: usize,
    /// The thread's op index (every choice counts); see [`OpOrigin`] for prefill and sweep.
    pub op_index: u64,
    /// The operation.
    pub kind: OpKind,
    /// The id acted on (or handed out by an insert).
    pub key: Option<u64>,
    /// What happened.
    pub outcome: OpOutcome,
    /// The value stored (insert) or found (lookup hit): its (thread, seq) names the insert
    /// that wrote it, so a read of another key's value is visible.
    pub value: Option<Value>,
    /// Run, prefill or end-of-run sweep.
    pub origin: OpOrigin,
    /// What the op ran into (zero without probes).
    pub probes: OpProbes,
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
