//! The checks that count over the whole table at one instant, as one sweep through time:
//! more keys surely live than slots, a `Full` refusal when fewer than N claims can have been
//! held, a periodic snapshot outside the bounds the history allows.
//!
//! Every op is widened by ⌈ε/2⌉ on each side (its effect lies within its interval on some
//! common time axis, whatever the cores' clock offsets) and turned into a few timed steps of
//! two counters:
//!
//! - *surely live* keys: +1 when an insert surely ended, -1 when a successful remove may have
//!   begun (removes first at equal times);
//! - *claims possibly held* (the definition of `Full` in `table/IMPLEMENTATION.md`): +1 when
//!   an insert or a refusal may have begun, -1 when a successful remove or a refusal surely
//!   ended (increments first at equal times).
//!
//! The steps are kept in a heap and applied in time order up to a time no op still unread
//! can reach back to, so memory follows the ops in flight, not the history.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use super::findings::{Finding, FindingKind};
use super::keys::Filed;
use super::Op;
use crate::op::{OpKind, OpOutcome};

/// Order of steps at the same time.
const PROBE: u8 = 0;
const LIVE_DOWN: u8 = 1;
const LIVE_UP: u8 = 2;
const CLAIM_UP: u8 = 3;
const CLAIM_DOWN: u8 = 4;

/// Which step (the second byte of a step's order).
const OF_KEYED: u8 = 0;
const OF_REFUSAL: u8 = 1;
const SCAN_START: u8 = 0;
const SCAN_END: u8 = 1;

/// One step: (time, order, which, id): id is the op's event or the snapshot's number.
type Step = (u64, u8, u8, u64);

#[derive(Clone, Copy, Debug)]
struct Scan {
    from: u64,
    to: u64,
    occupied: usize,
    /// Counters at the scan's start: surely-live increments, claim decrements of removes.
    at_start: Option<(u64, u64)>,
}

/// The sweep of one table segment.
pub(crate) struct Claims {
    capacity: u64,
    half: u64,
    steps: BinaryHeap<Reverse<Step>>,
    /// Time of the last step applied.
    pub swept: u64,
    live: i64,
    claims: i64,
    live_up: u64,
    live_down: u64,
    claim_inserts: u64,
    claim_releases: u64,
    refusals: HashMap<u64, Op>,
    /// Refusals in flight: (event, most claims seen).
    open: Vec<(u64, i64)>,
    scans: HashMap<u64, Scan>,
    next_scan: u64,
    over_reported: bool,
    scan_reported: bool,
    pub fulls_checked: u64,
    /// Refusals the checker could not judge: the free ids that other writers' magazines may
    /// hold reach the capacity.
    pub fulls_unchecked: u64,
    pub snapshots_checked: u64,
    /// Steps that arrived behind the sweep: (how many, the earliest time).
    pub late: (u64, u64),
    /// The magazine size, on a table with the magazine allocator.
    pub magazine: Option<u64>,
    /// Writer handles that may have been alive (the threads started on the table so far).
    pub writers: u64,
}

impl Claims {
    pub(crate) fn new(capacity: u64, half: u64) -> Self {
        Claims {
            capacity,
            half,
            steps: BinaryHeap::new(),
            swept: 0,
            live: 0,
            claims: 0,
            live_up: 0,
            live_down: 0,
            claim_inserts: 0,
            claim_releases: 0,
            refusals: HashMap::new(),
            open: Vec::new(),
            scans: HashMap::new(),
            next_scan: 0,
            over_reported: false,
            scan_reported: false,
            fulls_checked: 0,
            fulls_unchecked: 0,
            snapshots_checked: 0,
            late: (0, u64::MAX),
            magazine: None,
            writers: 0,
        }
    }

    /// Free ids a refused insert may have had elsewhere: with magazines, up to M in each other
    /// writer's magazine (the refused writer's own is empty when it is refused).
    pub(crate) fn slack(&self) -> i64 {
        let ids = self.magazine.map_or(0, |m| self.writers.saturating_sub(1).saturating_mul(m));
        i64::try_from(ids).unwrap_or(i64::MAX)
    }

    fn push(&mut self, step: Step) {
        if step.0 < self.swept {
            self.late.0 += 1;
            self.late.1 = self.late.1.min(step.0);
        }
        self.steps.push(Reverse(step));
    }

    /// Takes in an op as it is read.
    pub(crate) fn ingest(&mut self, o: &Op) {
        let (lo, hi) = (o.start.saturating_sub(self.half), o.end.saturating_add(self.half));
        match (o.kind, o.outcome) {
            (OpKind::Insert, OpOutcome::Inserted) => {
                self.push((lo, CLAIM_UP, OF_KEYED, o.event));
                self.push((hi, LIVE_UP, OF_KEYED, o.event));
            }
            (OpKind::Remove, OpOutcome::Removed) => {
                self.push((lo, LIVE_DOWN, OF_KEYED, o.event));
                self.push((hi, CLAIM_DOWN, OF_KEYED, o.event));
            }
            (OpKind::Insert, OpOutcome::Refused) => {
                self.refusals.insert(o.event, *o);
                self.push((lo, CLAIM_UP, OF_REFUSAL, o.event));
                self.push((hi, CLAIM_DOWN, OF_REFUSAL, o.event));
            }
            _ => {}
        }
    }

    /// Takes in a periodic snapshot scanned between `from` and `to` that saw `occupied`.
    pub(crate) fn scan(&mut self, from: u64, to: u64, occupied: usize) {
        let id = self.next_scan;
        self.next_scan += 1;
        self.scans.insert(id, Scan { from, to, occupied, at_start: None });
        self.push((from.saturating_sub(self.half), PROBE, SCAN_START, id));
        self.push((to.saturating_add(self.half), PROBE, SCAN_END, id));
    }

    /// Applies every step before `until`.
    pub(crate) fn sweep(&mut self, until: u64, filed: &mut Vec<Filed>) {
        while self.steps.peek().is_some_and(|s| s.0 .0 < until) {
            self.step(filed);
        }
    }

    /// Applies the next step, if any.
    fn step(&mut self, filed: &mut Vec<Filed>) {
        let n = i64::try_from(self.capacity).unwrap_or(i64::MAX);
        if let Some(Reverse((t, order, which, id))) = self.steps.pop() {
            self.swept = self.swept.max(t);
            match order {
                LIVE_DOWN => {
                    self.live -= 1;
                    self.live_down += 1;
                }
                LIVE_UP => {
                    self.live += 1;
                    self.live_up += 1;
                    if self.live > n && !self.over_reported {
                        self.over_reported = true;
                        let message = format!(
                            "{} keys were surely live at once in a table of {} slots at {t} ns (the insert of event {id} made them so)",
                            self.live, self.capacity
                        );
                        filed.push(Filed {
                            finding: Finding {
                                kind: FindingKind::OverCapacity,
                                segment: 0,
                                op: None,
                                evidence: Vec::new(),
                                key: None,
                                message,
                                span: (0, t),
                            },
                            definite: false,
                        });
                    }
                }
                CLAIM_UP => {
                    self.claims += 1;
                    if which == OF_REFUSAL {
                        self.open.push((id, self.claims));
                    } else {
                        self.claim_inserts += 1;
                    }
                    for r in &mut self.open {
                        r.1 = r.1.max(self.claims);
                    }
                }
                CLAIM_DOWN => {
                    self.claims -= 1;
                    if which == OF_REFUSAL {
                        self.close_refusal(id, n, filed);
                    } else {
                        self.claim_releases += 1;
                    }
                }
                _ => self.probe(which, id, filed),
            }
        }
    }

    fn close_refusal(&mut self, id: u64, n: i64, filed: &mut Vec<Filed>) {
        let Some(pos) = self.open.iter().position(|r| r.0 == id) else { return };
        let (_, most) = self.open.swap_remove(pos);
        let Some(o) = self.refusals.remove(&id) else { return };
        // With magazines, claims the trace does not see (ids in other writers' magazines) may
        // have filled the rest; where they could fill the whole table, nothing can be said.
        let slack = self.slack();
        if slack >= n {
            self.fulls_unchecked += 1;
            return;
        }
        self.fulls_checked += 1;
        // The refusal's own claim is among them.
        let others = most - 1;
        if others < n - slack {
            let magazines = if slack > 0 {
                format!(", and up to {slack} ids in other writers' magazines")
            } else {
                String::new()
            };
            let message = format!(
                "{} was refused with Full, but at most {others} of the {n} claims could have been held during it \
                 (live elements + inserts, removes and refusals in flight{magazines})",
                o.label()
            );
            filed.push(Filed {
                finding: Finding {
                    kind: FindingKind::FalseFull,
                    segment: 0,
                    op: Some(o),
                    evidence: Vec::new(),
                    key: None,
                    message,
                    span: (0, o.end),
                },
                definite: false,
            });
        }
    }

    fn probe(&mut self, which: u8, id: u64, filed: &mut Vec<Filed>) {
        if which == SCAN_START {
            if let Some(s) = self.scans.get_mut(&id) {
                s.at_start = Some((self.live_up, self.claim_releases));
            }
            return;
        }
        let Some(s) = self.scans.remove(&id) else { return };
        let (ins_ended, rem_ended) = s.at_start.unwrap_or((0, 0));
        self.snapshots_checked += 1;
        // Surely live throughout: inserts ended before the scan began, less removes that may
        // have begun before it ended. Possibly live at some point: inserts that may have begun
        // before it ended, less removes that surely ended before it began.
        let surely = usize::try_from(ins_ended.saturating_sub(self.live_down)).unwrap_or(usize::MAX);
        let possibly = usize::try_from(self.claim_inserts.saturating_sub(rem_ended)).unwrap_or(usize::MAX);
        if (s.occupied < surely || s.occupied > possibly) && !self.scan_reported {
            // Reported once: later snapshots would repeat it.
            self.scan_reported = true;
            let message = format!(
                "a snapshot taken between {} and {} ns saw {} slots occupied, but the history has \
                 {surely} elements surely live throughout it and at most {possibly} possibly live",
                s.from, s.to, s.occupied
            );
            filed.push(Filed {
                finding: Finding {
                    kind: FindingKind::CountMismatch,
                    segment: 0,
                    op: None,
                    evidence: Vec::new(),
                    key: None,
                    message,
                    span: (0, s.to),
                },
                definite: false,
            });
        }
    }
}

/// For every refused insert (index into `ops`), the most claims other ops can have held at
/// one instant of its interval: inserts started by then - removes ended before it + other
/// refusals in flight, maximised over the interval, on raw intervals (no ε). The one-thread
/// re-execution (`reexec`) uses it to tell refusals only concurrency explains from the rest.
pub(crate) fn full_claim_bounds(ops: &[Op]) -> Vec<(usize, i64)> {
    let mut claims = Claims::new(u64::MAX, 0);
    let mut filed = Vec::new();
    for o in ops {
        claims.ingest(o);
    }
    // The bound of each refusal, by event: read back from the sweep as it closes them.
    let mut bounds = Vec::new();
    let by_event: HashMap<u64, usize> = ops.iter().enumerate().map(|(i, o)| (o.event, i)).collect();
    while let Some(&Reverse((_, order, which, id))) = claims.steps.peek() {
        if order == CLAIM_DOWN && which == OF_REFUSAL {
            if let Some(&(_, most)) = claims.open.iter().find(|r| r.0 == id) {
                if let Some(&i) = by_event.get(&id) {
                    bounds.push((i, most - 1));
                }
            }
        }
        claims.step(&mut filed);
    }
    bounds.sort_unstable();
    bounds
}
