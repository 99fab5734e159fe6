//! Counters of a thread's ops: [`Counts`], a plain array indexed by [`Counter`]. The engine's
//! workers keep one on their stack and publish it; a replay counts the recorded events into
//! one with [`Counts::count_event`]; reports serialise it as a map by counter name.

use std::ops::{Index, IndexMut};

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::op::{OpEvent, OpKind, OpOutcome};

/// One counter of a worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(usize)]
pub enum Counter {
    /// Lookups done (including stale-key lookups).
    Lookups,
    /// Inserts attempted (including refused ones).
    Inserts,
    /// Removes attempted (including ones that found nothing).
    Removes,
    /// Lookups that found a value.
    LookupHits,
    /// Lookups that found nothing.
    LookupMisses,
    /// Lookups aimed at a key this thread removed earlier.
    StaleLookups,
    /// Inserts refused: the table was full (or, for backends without a capacity, the thread's
    /// key budget was used up).
    InsertsRefused,
    /// Removes that removed nothing.
    RemovesMissed,
    /// Ops with no key to act on (a lookup or remove while holding no keys).
    Skipped,
    /// Probe: ring tickets skipped (a cell still RESERVED).
    TicketSkips,
    /// Probe: ring pushes retried.
    RingRetries,
    /// Probe: rounds of the full-table undo loop.
    FullUndos,
    /// Probe: stale keys rejected by the generation check.
    StaleRejections,
    /// Probe: writes to slot lines.
    SlotWrites,
    /// Probe: writes to ring lines.
    RingWrites,
    /// Probe: writes to the header line.
    HeaderWrites,
    /// Self-check violations.
    Violations,
    /// Ops whose latency was recorded.
    TimedOps,
}

impl Counter {
    /// Every counter, in index order.
    pub const ALL: [Counter; 18] = [
        Counter::Lookups,
        Counter::Inserts,
        Counter::Removes,
        Counter::LookupHits,
        Counter::LookupMisses,
        Counter::StaleLookups,
        Counter::InsertsRefused,
        Counter::RemovesMissed,
        Counter::Skipped,
        Counter::TicketSkips,
        Counter::RingRetries,
        Counter::FullUndos,
        Counter::StaleRejections,
        Counter::SlotWrites,
        Counter::RingWrites,
        Counter::HeaderWrites,
        Counter::Violations,
        Counter::TimedOps,
    ];
    /// How many counters there are.
    pub const COUNT: usize = Counter::ALL.len();

    /// The name reports use (snake_case).
    pub const fn name(self) -> &'static str {
        match self {
            Counter::Lookups => "lookups",
            Counter::Inserts => "inserts",
            Counter::Removes => "removes",
            Counter::LookupHits => "lookup_hits",
            Counter::LookupMisses => "lookup_misses",
            Counter::StaleLookups => "stale_lookups",
            Counter::InsertsRefused => "inserts_refused",
            Counter::RemovesMissed => "removes_missed",
            Counter::Skipped => "skipped",
            Counter::TicketSkips => "ticket_skips",
            Counter::RingRetries => "ring_retries",
            Counter::FullUndos => "full_undos",
            Counter::StaleRejections => "stale_rejections",
            Counter::SlotWrites => "slot_writes",
            Counter::RingWrites => "ring_writes",
            Counter::HeaderWrites => "header_writes",
            Counter::Violations => "violations",
            Counter::TimedOps => "timed_ops",
        }
    }

    /// The counter of ops of `kind`.
    pub const fn ops_of(kind: OpKind) -> Counter {
        match kind {
            OpKind::Lookup => Counter::Lookups,
            OpKind::Insert => Counter::Inserts,
            OpKind::Remove => Counter::Removes,
        }
    }
}

/// A worker's counters: plain numbers, indexed by [`Counter`]. Serialises as a map by name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts(pub [u64; Counter::COUNT]);

impl Counts {
    /// All zero.
    pub const ZERO: Counts = Counts([0; Counter::COUNT]);

    /// Ops of all kinds.
    pub fn ops(&self) -> u64 {
        self[Counter::Lookups] + self[Counter::Inserts] + self[Counter::Removes]
    }

    /// Ops of `kind`.
    pub fn ops_of(&self, kind: OpKind) -> u64 {
        self[Counter::ops_of(kind)]
    }

    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Counts) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a = a.wrapping_add(b);
        }
    }

    /// `self - earlier`, counter by counter (wrapping, so a reset in between gives nonsense
    /// rather than a panic; callers check reset epochs).
    #[must_use]
    pub fn since(&self, earlier: &Counts) -> Counts {
        let mut d = *self;
        for (a, b) in d.0.iter_mut().zip(earlier.0) {
            *a = a.wrapping_sub(b);
        }
        d
    }
}

impl Index<Counter> for Counts {
    type Output = u64;
    #[inline]
    fn index(&self, c: Counter) -> &u64 {
        &self.0[c as usize]
    }
}

impl IndexMut<Counter> for Counts {
    #[inline]
    fn index_mut(&mut self, c: Counter) -> &mut u64 {
        &mut self.0[c as usize]
    }
}

impl Serialize for Counts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(Counter::COUNT))?;
        for c in Counter::ALL {
            map.serialize_entry(c.name(), &self[c])?;
        }
        map.end()
    }
}

impl Counts {
    /// Counts one recorded event: its kind, its outcome, and what its probe saw. (The probe's
    /// per-line writes and the timing counters are not in a trace and stay zero.)
    pub fn count_event(&mut self, e: &OpEvent) {
        self[Counter::ops_of(e.kind)] += 1;
        let by_outcome = match e.outcome {
            OpOutcome::Hit => Some(Counter::LookupHits),
            OpOutcome::Miss => Some(Counter::LookupMisses),
            OpOutcome::Refused => Some(Counter::InsertsRefused),
            OpOutcome::RemoveMissed => Some(Counter::RemovesMissed),
            OpOutcome::Skipped => Some(Counter::Skipped),
            OpOutcome::Inserted | OpOutcome::Removed => None,
        };
        if let Some(c) = by_outcome {
            self[c] += 1;
        }
        self[Counter::TicketSkips] += u64::from(e.probes.ticket_skips);
        self[Counter::RingRetries] += u64::from(e.probes.ring_retries);
        self[Counter::FullUndos] += u64::from(e.probes.full_undos);
        self[Counter::StaleRejections] += u64::from(e.probes.stale_rejections);
    }
}
