//! Self-checks: what a worker can verify about its own keys, and what must balance at the end.
//!
//! Per op (each thread knows what it inserted and removed, and only it removes its keys):
//! - a lookup of an own live key must find the value it inserted (`(thread, seq)`);
//! - a lookup of an own removed key must find nothing;
//! - a remove of an own live key must succeed.
//!
//! At quiescence (all workers stopped): inserts - removes == len, and for our table a snapshot
//! must show `occupied + free == N`, nothing reserved, and `count == occupied`.
//!
//! A violation is counted, and the first few are described (kind, thread, op index, key, what
//! was expected and found). Any violation fails a headless run.

use std::fmt;

use serde::Serialize;

use slotscope_trace::Value;

/// How many violations each worker describes (the rest are only counted).
pub const VIOLATION_DETAILS_PER_THREAD: usize = 8;
/// How many violations a report describes, over all threads.
pub const VIOLATION_DETAILS_IN_REPORT: usize = 32;

/// What went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ViolationKind {
    /// An own live key was not found.
    LostKey,
    /// An own live key found another value.
    WrongValue,
    /// An own removed (stale) key found a value.
    StaleHit,
    /// An own live key could not be removed.
    RemoveFailed,
    /// A worker panicked (the message is in `detail`).
    WorkerPanic,
    /// At the end, inserts - removes != len.
    Imbalance,
    /// At the end, the table's snapshot did not add up.
    SnapshotMismatch,
}

impl ViolationKind {
    /// The name reports print.
    pub const fn name(self) -> &'static str {
        match self {
            ViolationKind::LostKey => "lost-key",
            ViolationKind::WrongValue => "wrong-value",
            ViolationKind::StaleHit => "stale-hit",
            ViolationKind::RemoveFailed => "remove-failed",
            ViolationKind::WorkerPanic => "worker-panic",
            ViolationKind::Imbalance => "imbalance",
            ViolationKind::SnapshotMismatch => "snapshot-mismatch",
        }
    }
}

/// A key as `0x` and 16 hex digits (JSON readers that hold numbers as doubles would round
/// it), or null.
fn hex_key<S: serde::Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(k) => s.serialize_str(&format!("{k:#018x}")),
        None => s.serialize_none(),
    }
}

/// One described violation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// What went wrong.
    pub kind: ViolationKind,
    /// The thread that saw it (`None` for end-of-run checks).
    pub thread: Option<usize>,
    /// The thread's op index (0-based, counting every choice) when it happened.
    pub op_index: Option<u64>,
    /// The key (id) involved.
    #[serde(serialize_with = "hex_key")]
    pub key: Option<u64>,
    /// The value that should have been found.
    pub expected: Option<Value>,
    /// The value that was found.
    pub found: Option<Value>,
    /// When, in ns since the run's clock started.
    pub at_ns: Option<u64>,
    /// Anything else (a panic message, the numbers that did not balance).
    pub detail: String,
}

impl Violation {
    /// A violation seen by a worker during an op.
    pub fn in_op(kind: ViolationKind, thread: usize, op_index: u64, key: u64) -> Self {
        Violation {
            kind,
            thread: Some(thread),
            op_index: Some(op_index),
            key: Some(key),
            expected: None,
            found: None,
            at_ns: None,
            detail: String::new(),
        }
    }

    /// A violation found by an end-of-run check.
    pub fn at_end(kind: ViolationKind, detail: String) -> Self {
        Violation {
            kind,
            thread: None,
            op_index: None,
            key: None,
            expected: None,
            found: None,
            at_ns: None,
            detail,
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.name())?;
        if let Some(t) = self.thread {
            write!(f, " thread {t}")?;
        }
        if let Some(i) = self.op_index {
            write!(f, " op {i}")?;
        }
        if let Some(k) = self.key {
            write!(f, " key {k:#x}")?;
        }
        if let Some(v) = self.expected {
            write!(f, " expected ({}, {})", v.thread, v.seq)?;
        }
        match (self.found, self.kind) {
            (Some(v), _) => write!(f, " found ({}, {})", v.thread, v.seq)?,
            (None, ViolationKind::LostKey) => f.write_str(" found nothing")?,
            (None, _) => {}
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

/// A count of violations and the first few described. Room for the descriptions is reserved
/// up front, so recording one does not allocate (except the rare `detail` string).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ViolationLog {
    /// All violations seen.
    pub count: u64,
    /// The first ones, in the order seen.
    pub first: Vec<Violation>,
    #[serde(skip)]
    keep: usize,
}

impl ViolationLog {
    /// A log describing at most `keep` violations.
    pub fn new(keep: usize) -> Self {
        ViolationLog { count: 0, first: Vec::with_capacity(keep), keep }
    }

    /// Counts `v`, keeping its description if there is room.
    pub fn record(&mut self, v: Violation) {
        self.count += 1;
        if self.first.len() < self.keep {
            self.first.push(v);
        }
    }

    /// Counts `n` violations seen elsewhere without descriptions.
    pub fn add_count(&mut self, n: u64) {
        self.count += n;
    }

    /// Whether none were seen.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Merges another log (its descriptions after ours, while there is room).
    pub fn merge(&mut self, other: &ViolationLog) {
        self.count += other.count;
        let room = self.keep.saturating_sub(self.first.len());
        self.first.extend(other.first.iter().take(room).cloned());
    }
}

/// Inserts and removes against what the table holds at quiescence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Balance {
    /// Successful inserts (prefill included) into this table.
    pub inserted: u64,
    /// Successful removes from this table.
    pub removed: u64,
    /// What the backend says it holds (`None`: it cannot tell).
    pub len: Option<usize>,
    /// Whether `inserted - removed == len` (`None` when `len` is unknown).
    pub ok: Option<bool>,
}

impl Balance {
    /// Compares the totals with `len`.
    pub fn new(inserted: u64, removed: u64, len: Option<usize>) -> Self {
        let expected = i128::from(inserted) - i128::from(removed);
        let ok = len.map(|l| i128::try_from(l).is_ok_and(|l| l == expected));
        Balance { inserted, removed, len, ok }
    }

    /// The violation, if it does not balance.
    pub fn violation(&self) -> Option<Violation> {
        (self.ok == Some(false)).then(|| {
            Violation::at_end(
                ViolationKind::Imbalance,
                format!(
                    "inserted {} - removed {} = {}, but the table holds {}",
                    self.inserted,
                    self.removed,
                    i128::from(self.inserted) - i128::from(self.removed),
                    self.len.unwrap_or(0)
                ),
            )
        })
    }
}

/// What a final snapshot of our table showed at quiescence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SnapshotCheck {
    /// N.
    pub capacity: usize,
    /// Slots seen occupied.
    pub occupied: usize,
    /// Slots seen free (their id in the ring).
    pub free: usize,
    /// Slots seen reserved (must be 0 at quiescence).
    pub reserved: usize,
    /// The header's count.
    pub count: u64,
    /// Whether `occupied + free == N`, `reserved == 0` and `count == occupied`.
    pub ok: bool,
}

impl SnapshotCheck {
    /// The check of `snap`, taken at quiescence.
    pub fn of(snap: &slotscope_table::Snapshot) -> Self {
        let (occupied, free, reserved) = (snap.occupied(), snap.free(), snap.reserved());
        let ok = occupied + free == snap.capacity() && reserved == 0 && snap.count() == occupied as u64;
        SnapshotCheck { capacity: snap.capacity(), occupied, free, reserved, count: snap.count(), ok }
    }

    /// The violation, if it does not add up.
    pub fn violation(&self) -> Option<Violation> {
        (!self.ok).then(|| {
            Violation::at_end(
                ViolationKind::SnapshotMismatch,
                format!(
                    "at quiescence: occupied {} + free {} of {} slots, {} reserved, header count {}",
                    self.occupied, self.free, self.capacity, self.reserved, self.count
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slotscope_table::{Geometry, Key, Layout, SlotState, Snapshot};

    #[test]
    fn log_counts_all_and_keeps_the_first() {
        let mut log = ViolationLog::new(2);
        for i in 0..5 {
            log.record(Violation::in_op(ViolationKind::LostKey, 1, i, 9));
        }
        assert_eq!(log.count, 5);
        assert_eq!(log.first.len(), 2);
        assert_eq!(log.first[1].op_index, Some(1));
        let mut total = ViolationLog::new(3);
        total.merge(&log);
        total.merge(&log);
        assert_eq!(total.count, 10);
        assert_eq!(total.first.len(), 3);
        total.add_count(1);
        assert_eq!(total.count, 11);
    }

    #[test]
    fn violations_describe_themselves() {
        let mut v = Violation::in_op(ViolationKind::WrongValue, 2, 17, 0xab);
        v.expected = Some(Value { thread: 2, seq: 5 });
        v.found = Some(Value { thread: 3, seq: 1 });
        assert_eq!(v.to_string(), "wrong-value thread 2 op 17 key 0xab expected (2, 5) found (3, 1)");
        let lost = Violation::in_op(ViolationKind::LostKey, 0, 1, 2);
        assert_eq!(lost.to_string(), "lost-key thread 0 op 1 key 0x2 found nothing");
    }

    #[test]
    fn balance() {
        assert_eq!(Balance::new(10, 4, Some(6)).ok, Some(true));
        assert_eq!(Balance::new(10, 4, None).ok, None);
        let bad = Balance::new(10, 4, Some(7));
        assert_eq!(bad.ok, Some(false));
        let v = bad.violation().unwrap();
        assert_eq!(v.kind, ViolationKind::Imbalance);
        assert!(v.detail.contains("= 6, but the table holds 7"), "{}", v.detail);
        assert!(Balance::new(1, 1, Some(0)).violation().is_none());
    }

    #[test]
    fn snapshot_check() {
        let g = Geometry::new(16, Layout::Linear, 64).unwrap();
        let mut snap = Snapshot::fresh(g);
        assert!(SnapshotCheck::of(&snap).ok);
        snap.set_slot(0, SlotState::Occupied, Some(g.key(0, 0)));
        snap.set_header(1, 1, 16);
        assert!(SnapshotCheck::of(&snap).ok);
        snap.set_slot(1, SlotState::Reserved, None::<Key>);
        let check = SnapshotCheck::of(&snap);
        assert!(!check.ok);
        assert_eq!(check.violation().unwrap().kind, ViolationKind::SnapshotMismatch);
    }
}
