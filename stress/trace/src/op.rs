//! The vocabulary of one operation, shared by the engine that runs ops, the recorder that
//! writes them and everything that reads them back: what was asked ([`OpKind`]), what it did
//! ([`OpOutcome`]), where in a worker's life it ran ([`OpOrigin`]), what it ran into inside the
//! table ([`OpProbes`]), the value it stored or found ([`Value`]), and the whole event
//! ([`OpEvent`]).

use serde::Serialize;

/// The three operations the engine drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpKind {
    /// Look a key up (and check what comes back).
    Lookup,
    /// Insert a new value.
    Insert,
    /// Remove a held key.
    Remove,
}

impl OpKind {
    /// All kinds, in index order.
    pub const ALL: [OpKind; 3] = [OpKind::Lookup, OpKind::Insert, OpKind::Remove];
    /// How many kinds there are.
    pub const COUNT: usize = 3;

    /// Position in [`OpKind::ALL`] (for per-op arrays).
    #[inline]
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The name used in reports.
    pub const fn name(self) -> &'static str {
        match self {
            OpKind::Lookup => "lookup",
            OpKind::Insert => "insert",
            OpKind::Remove => "remove",
        }
    }
}

/// What the engine stores: who inserted it and their sequence number, so that a lookup can
/// check it got the right value. 16 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Value {
    /// Global index of the inserting thread.
    pub thread: u64,
    /// That thread's insert counter when it inserted this value.
    pub seq: u64,
}

impl Value {
    /// The id a map backend files this value under: `thread << 40 | seq` (2^40 inserts per
    /// thread before it would collide; a run does not get near).
    #[inline]
    pub const fn map_id(&self) -> u64 {
        (self.thread << 40) | (self.seq & ((1 << 40) - 1))
    }
}

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
