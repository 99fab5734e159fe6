//! What `check` finds and how it says so: the kinds of violation, one finding, the
//! linearizability statistics and the whole outcome.

use std::time::Duration;

use super::Op;

/// How hard to look.
#[derive(Clone, Copy, Debug)]
pub struct CheckOptions {
    /// Time limit of each linearizability window ("unknown" past it).
    pub window_time_limit: Duration,
    /// Largest linearizability window (ops); bigger ones answer "unknown".
    pub max_window_ops: usize,
    /// Whether to run the linearizability search at all.
    pub linearizability: bool,
}

/// Default time limit per window.
pub const DEFAULT_WINDOW_TIME_LIMIT: Duration = Duration::from_secs(5);
/// Default largest window.
pub const DEFAULT_MAX_WINDOW_OPS: usize = 4096;

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            window_time_limit: DEFAULT_WINDOW_TIME_LIMIT,
            max_window_ops: DEFAULT_MAX_WINDOW_OPS,
            linearizability: true,
        }
    }
}

/// What kind of violation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingKind {
    /// An insert handed out a key that was live.
    DuplicateLiveKey,
    /// A lookup found a key after its removal.
    StaleRead,
    /// A lookup of one key returned the value stored under another.
    ForeignValue,
    /// A lookup returned a value no recorded insert had stored by then.
    PhantomValue,
    /// A remove succeeded on a key that was not live.
    StaleRemove,
    /// A live key was not found (lookup miss, failed remove, or absent at the end).
    LostInsert,
    /// `Full` when fewer than N claims could have been held.
    FalseFull,
    /// More than N keys live at once.
    OverCapacity,
    /// The table's element count disagrees with the history.
    CountMismatch,
    /// The final table holds a key the history says is gone (or never handed out).
    FinalStateMismatch,
    /// No order of a key's ops within their intervals explains their results.
    NotLinearizable,
}

impl FindingKind {
    /// The name reports use.
    pub const fn name(self) -> &'static str {
        match self {
            FindingKind::DuplicateLiveKey => "duplicate live key",
            FindingKind::StaleRead => "stale key read",
            FindingKind::ForeignValue => "another key's value",
            FindingKind::PhantomValue => "value never stored",
            FindingKind::StaleRemove => "stale key removed",
            FindingKind::LostInsert => "lost insert",
            FindingKind::FalseFull => "false Full",
            FindingKind::OverCapacity => "over capacity",
            FindingKind::CountMismatch => "counts do not balance",
            FindingKind::FinalStateMismatch => "final table disagrees",
            FindingKind::NotLinearizable => "not linearizable",
        }
    }

    /// Whether a single thread, one op at a time, can show it on a broken table (so an
    /// emitted test can replay it sequentially); otherwise it needs a race.
    pub const fn is_sequential(self) -> bool {
        matches!(
            self,
            FindingKind::StaleRead
                | FindingKind::ForeignValue
                | FindingKind::StaleRemove
                | FindingKind::PhantomValue
        )
    }
}

/// One violation (or, among `incomplete`, what would be one if no events were missing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// What kind.
    pub kind: FindingKind,
    /// Table segment.
    pub segment: u32,
    /// The illegal op, if one op is to blame.
    pub op: Option<Op>,
    /// The ops that make it illegal.
    pub evidence: Vec<Op>,
    /// The key concerned.
    pub key: Option<u64>,
    /// One or two sentences.
    pub message: String,
    /// The stretch of history the finding rests on, clock ns: from its first evidence (0: the
    /// segment's whole history up to it) to its last.
    pub span: (u64, u64),
}

impl Finding {
    /// The event numbers of the illegal op and its evidence, the illegal op first.
    pub fn events(&self) -> Vec<u64> {
        self.op.iter().chain(self.evidence.iter()).map(|o| o.event).collect()
    }
}

/// Linearizability statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinStats {
    /// Keys searched.
    pub keys: u64,
    /// Windows searched.
    pub windows: u64,
    /// Windows found linearizable.
    pub ok: u64,
    /// Windows found not linearizable.
    pub violated: u64,
    /// Windows that ran out of time or were too large.
    pub unknown: u64,
    /// Keys not searched further because a named check already failed on them.
    pub skipped_keys: u64,
    /// Ops in the largest window.
    pub largest_window: usize,
}

/// A stretch of time in which some thread's ops are unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gap {
    /// The thread.
    pub thread: u32,
    /// From, clock ns.
    pub from: u64,
    /// To, clock ns (`u64::MAX`: to the end).
    pub to: u64,
    /// Ops lost, if known.
    pub ops: Option<u64>,
}

impl std::fmt::Display for Gap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.to, self.ops) {
            (u64::MAX, _) => write!(f, "thread {}: nothing recorded after {} ns", self.thread, self.from),
            (to, Some(n)) => {
                write!(f, "thread {}: {n} ops dropped between {} and {to} ns", self.thread, self.from)
            }
            (to, None) => write!(f, "thread {}: ops unknown between {} and {to} ns", self.thread, self.from),
        }
    }
}

/// Everything `check` found.
#[derive(Clone, Debug, Default)]
pub struct CheckOutcome {
    /// Violations, earliest-ending first.
    pub violations: Vec<Finding>,
    /// Would-be violations that missing events (or ops that arrived out of order) could
    /// explain: the answer is "incomplete", not "violation".
    pub incomplete: Vec<Finding>,
    /// Ops examined by the per-key checks.
    pub ops_checked: u64,
    /// Keys seen (a key that comes back after the checker forgot it counts again).
    pub keys: u64,
    /// Refused inserts checked against the definition of `Full`.
    pub fulls_checked: u64,
    /// Periodic snapshots checked against the history's bounds.
    pub snapshots_checked: u64,
    /// Linearizability search.
    pub lin: LinStats,
    /// The precedence margin used: A surely precedes B (on other threads) when
    /// `A.end + epsilon_ns < B.start`.
    pub epsilon_ns: u64,
    /// Why ε is not the trace's measured one, if it is not.
    pub epsilon_note: Option<&'static str>,
    /// Stretches of time with ops missing (drops, unrecorded tails).
    pub gaps: Vec<(u32, Gap)>,
    /// Ops read after the checker had decided about their time (the trace's order broke its
    /// own frontier): findings after the earliest of them are incomplete.
    pub late_ops: u64,
    /// Things to say about coverage (gaps, missing end records, unchecked parts).
    pub notes: Vec<String>,
    /// Time spent in the per-key, capacity and end-state checks (with reading the trace).
    pub named_checks_time: Duration,
    /// Time spent in the linearizability search.
    pub lin_time: Duration,
    /// Most op events held in memory at once (read, not yet decided).
    pub peak_pending: usize,
    /// Most keys tracked at once.
    pub peak_keys: usize,
}

impl CheckOutcome {
    /// Whether a violation was found.
    pub fn failed(&self) -> bool {
        !self.violations.is_empty()
    }

    /// Whether anything the checker could not decide: findings missing events could explain,
    /// linearizability windows whose answer is unknown, gaps, ops out of order.
    pub fn has_unknowns(&self) -> bool {
        !self.incomplete.is_empty() || self.lin.unknown > 0 || !self.gaps.is_empty() || self.late_ops > 0
    }
}
