//! Linearizability: the Wing & Gong search with Lowe's memoisation (a cache of
//! (linearized set, state) pairs already explored), run per key.
//!
//! Per-key decomposition is sound and complete for everything that touches one key: by
//! Herlihy and Wing's locality, a history of independent objects is linearizable iff each
//! object's sub-history is. An op on key K (an insert that returned K, a lookup or remove of
//! K) only reads and writes K's register. What couples keys is the capacity (an insert needs
//! a free slot; `Full` depends on all keys): that is checked separately (`check.rs`, by
//! interval bounds), not by this search.
//!
//! A key's sub-history is cut into windows at quiescent points (every op before the cut
//! returned before any op after it was called). The search runs window by window, carrying
//! the set of states the previous window can end in. Each window has a time limit; a window
//! that runs out answers "unknown", never "linearizable".

use std::collections::HashSet;
use std::time::{Duration, Instant};

use super::Op;
use crate::op::OpKind;
use crate::op::OpOutcome;
use crate::op::Value;

/// The state of one key: free, or live holding a value (`None` inside: a value not recorded).
pub type KeyState = Option<Option<Value>>;

/// Applies `op` to one key's register: the state after it, or `None` if its result is
/// impossible in `state`.
pub fn step(state: KeyState, op: &Op) -> Option<KeyState> {
    match (op.kind, op.outcome) {
        (OpKind::Insert, OpOutcome::Inserted) => state.is_none().then_some(Some(op.value)),
        (OpKind::Remove, OpOutcome::Removed) => state.is_some().then_some(None),
        (OpKind::Remove, OpOutcome::RemoveMissed) | (OpKind::Lookup, OpOutcome::Miss) => {
            state.is_none().then_some(None)
        }
        (OpKind::Lookup, OpOutcome::Hit) => match (state, op.value) {
            (Some(Some(live)), Some(found)) => (live == found).then_some(state),
            (Some(_), _) => Some(state),
            (None, _) => None,
        },
        // Refused inserts and skipped ops do not touch any key.
        _ => Some(state),
    }
}

/// Whether `op` can change a key's state (a successful insert or remove); everything else
/// only reads it.
fn changes_state(op: &Op) -> bool {
    matches!(
        (op.kind, op.outcome),
        (OpKind::Insert, OpOutcome::Inserted) | (OpKind::Remove, OpOutcome::Removed)
    )
}

/// What one window's search found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WindowResult {
    /// Linearizable; the states it can end in.
    Ok(Vec<KeyState>),
    /// Not linearizable from any of the given states; the op the search could not place
    /// (index into the window's ops) and how many ops it had placed at best.
    Violation {
        /// The op that could not take effect (window-local index).
        op: usize,
        /// Most ops linearized before it got stuck.
        depth: usize,
    },
    /// The search ran out of time or the window was too large.
    Unknown,
}

/// Limits of the search.
#[derive(Clone, Copy, Debug)]
pub struct SearchLimits {
    /// Time per window.
    pub time: Duration,
    /// Ops per window (bigger windows answer unknown).
    pub max_ops: usize,
}

struct Entry {
    /// Window-local op index.
    op: usize,
    call: bool,
    /// The matching return (for a call) in the entry list.
    partner: usize,
    prev: usize,
    next: usize,
}

const NIL: usize = usize::MAX;

/// Searches one window of ops from each state in `starts`.
pub fn check_window(ops: &[&Op], starts: &[KeyState], limits: SearchLimits) -> WindowResult {
    if ops.len() > limits.max_ops {
        return WindowResult::Unknown;
    }
    if ops.len() == 1 {
        let finals: Vec<KeyState> = starts.iter().filter_map(|&s| step(s, ops[0])).collect();
        return if finals.is_empty() {
            WindowResult::Violation { op: 0, depth: 0 }
        } else {
            WindowResult::Ok(dedup(finals))
        };
    }
    let deadline = Instant::now() + limits.time;
    let mut finals = Vec::new();
    let mut worst: Option<(usize, usize)> = None;
    for &start in starts {
        match search(ops, start, deadline) {
            Search::Done { finals: f, stuck } => {
                finals.extend(f);
                if let Some((op, depth)) = stuck {
                    if worst.is_none_or(|(_, d)| depth > d) {
                        worst = Some((op, depth));
                    }
                }
            }
            Search::OutOfTime => return WindowResult::Unknown,
        }
    }
    if finals.is_empty() {
        let (op, depth) = worst.unwrap_or((0, 0));
        WindowResult::Violation { op, depth }
    } else {
        WindowResult::Ok(dedup(finals))
    }
}

fn dedup(mut v: Vec<KeyState>) -> Vec<KeyState> {
    let mut out = Vec::with_capacity(v.len());
    for s in v.drain(..) {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

enum Search {
    /// Every final state reachable, and (if it got stuck anywhere) the op and depth of the
    /// deepest dead end.
    Done {
        finals: Vec<KeyState>,
        stuck: Option<(usize, usize)>,
    },
    OutOfTime,
}

fn search(ops: &[&Op], start: KeyState, deadline: Instant) -> Search {
    let n = ops.len();
    // Entries sorted by time, calls before returns at the same instant (touching intervals
    // count as concurrent).
    let mut points: Vec<(u64, bool, usize)> = Vec::with_capacity(2 * n);
    for (i, op) in ops.iter().enumerate() {
        points.push((op.start, true, i));
        points.push((op.end, false, i));
    }
    points.sort_by_key(|&(t, call, i)| (t, !call, i));
    // Entry 0 is the head sentinel.
    let mut entries: Vec<Entry> = Vec::with_capacity(2 * n + 1);
    entries.push(Entry { op: NIL, call: false, partner: NIL, prev: NIL, next: 1 });
    let mut call_at = vec![NIL; n];
    for (k, &(_, call, i)) in points.iter().enumerate() {
        let idx = k + 1;
        entries.push(Entry {
            op: i,
            call,
            partner: NIL,
            prev: idx - 1,
            next: if k + 1 < points.len() { idx + 1 } else { NIL },
        });
        if call {
            call_at[i] = idx;
        } else {
            let c = call_at[i];
            entries[c].partner = idx;
            entries[idx].partner = c;
        }
    }
    let words = n.div_ceil(64);
    let mut linearized = vec![0u64; words];
    let mut cache: HashSet<(Vec<u64>, KeyState)> = HashSet::new();
    let mut stack: Vec<(usize, KeyState, bool)> = Vec::new();
    let mut state = start;
    let mut finals = Vec::new();
    let mut stuck: Option<(usize, usize)> = None;
    let mut cursor = entries[0].next;
    let mut steps = 0u64;
    loop {
        steps += 1;
        if steps.is_multiple_of(4096) && Instant::now() > deadline {
            return Search::OutOfTime;
        }
        if cursor == NIL {
            // Everything linearized: a final state. Keep searching for others.
            if !finals.contains(&state) {
                finals.push(state);
            }
            let mut back = None;
            while let Some((b, s, forced)) = stack.pop() {
                state = s;
                let op = entries[b].op;
                linearized[op / 64] &= !(1 << (op % 64));
                unlift(&mut entries, b);
                if !forced {
                    back = Some(b);
                    break;
                }
            }
            let Some(back) = back else { break };
            cursor = entries[back].next;
            continue;
        }
        let e = &entries[cursor];
        if e.call {
            let op = e.op;
            if let Some(next) = step(state, ops[op]) {
                let mut lin = linearized.clone();
                lin[op / 64] |= 1 << (op % 64);
                // An op that leaves the state as it is (a read) and fits now is placed now
                // without a choice point: any order placing it later can move it here (its
                // call is reachable, so everything that returned before it began is placed,
                // and moving a read changes no state).
                let forced = next == state && !changes_state(ops[op]);
                if cache.insert((lin.clone(), next)) {
                    stack.push((cursor, state, forced));
                    state = next;
                    linearized = lin;
                    lift(&mut entries, cursor);
                    cursor = entries[0].next;
                    continue;
                }
            }
            cursor = entries[cursor].next;
        } else {
            // An op returned before it could be linearized: this path is dead.
            let depth = stack.len();
            if stuck.is_none_or(|(_, d)| depth > d) {
                stuck = Some((e.op, depth));
            }
            // Back to the last real choice (reads placed without one are undone on the way).
            let mut back = None;
            while let Some((b, s, forced)) = stack.pop() {
                state = s;
                let op = entries[b].op;
                linearized[op / 64] &= !(1 << (op % 64));
                unlift(&mut entries, b);
                if !forced {
                    back = Some(b);
                    break;
                }
            }
            let Some(back) = back else { break };
            cursor = entries[back].next;
        }
    }
    Search::Done { finals, stuck }
}

/// Takes a call entry and its return out of the list.
fn lift(entries: &mut [Entry], call: usize) {
    for e in [call, entries[call].partner] {
        let (p, n) = (entries[e].prev, entries[e].next);
        entries[p].next = n;
        if n != NIL {
            entries[n].prev = p;
        }
    }
}

/// Puts them back (in reverse order of `lift`).
fn unlift(entries: &mut [Entry], call: usize) {
    for e in [entries[call].partner, call] {
        let (p, n) = (entries[e].prev, entries[e].next);
        entries[p].next = e;
        if n != NIL {
            entries[n].prev = e;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::OpOrigin;

    fn op(kind: OpKind, outcome: OpOutcome, value: Option<u64>, start: u64, end: u64) -> Op {
        Op {
            event: 0,
            thread: 0,
            op_index: 0,
            kind,
            outcome,
            origin: OpOrigin::Run,
            key: Some(1),
            value: value.map(|seq| Value { thread: 0, seq }),
            start,
            end,
        }
    }

    const LIMITS: SearchLimits = SearchLimits { time: Duration::from_secs(10), max_ops: 64 };

    #[test]
    fn concurrent_ops_may_take_effect_in_either_order() {
        // insert v1 overlaps a lookup that hit v1 and a remove; a later lookup misses.
        let ops = [
            op(OpKind::Insert, OpOutcome::Inserted, Some(1), 0, 10),
            op(OpKind::Lookup, OpOutcome::Hit, Some(1), 5, 20),
            op(OpKind::Remove, OpOutcome::Removed, None, 8, 30),
            op(OpKind::Lookup, OpOutcome::Miss, None, 9, 12),
        ];
        let refs: Vec<&Op> = ops.iter().collect();
        // The miss must come before the insert, or after the remove: both fit the intervals.
        assert_eq!(check_window(&refs, &[None], LIMITS), WindowResult::Ok(vec![None]));
    }

    #[test]
    fn a_read_of_a_removed_value_is_found_with_the_op_that_cannot_fit() {
        let ops = [
            op(OpKind::Insert, OpOutcome::Inserted, Some(1), 0, 10),
            op(OpKind::Remove, OpOutcome::Removed, None, 11, 20),
            op(OpKind::Lookup, OpOutcome::Hit, Some(1), 15, 40),
            op(OpKind::Lookup, OpOutcome::Hit, Some(1), 30, 35),
        ];
        let refs: Vec<&Op> = ops.iter().collect();
        // The third op overlaps the remove and may read before it; the fourth starts after the
        // remove returned: it is the one that cannot be placed.
        match check_window(&refs, &[None], LIMITS) {
            WindowResult::Violation { op, .. } => assert_eq!(op, 3),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_final_state_is_carried_and_limits_answer_unknown() {
        // Two overlapping inserts of the same key: impossible from free (one would have to
        // remove first), fine from nowhere.
        let ops = [
            op(OpKind::Insert, OpOutcome::Inserted, Some(1), 0, 10),
            op(OpKind::Insert, OpOutcome::Inserted, Some(2), 5, 15),
        ];
        let refs: Vec<&Op> = ops.iter().collect();
        assert!(matches!(check_window(&refs, &[None], LIMITS), WindowResult::Violation { .. }));
        // A remove overlapping an insert: free or live at the end, depending on the order.
        let ops = [
            op(OpKind::Insert, OpOutcome::Inserted, Some(1), 0, 10),
            op(OpKind::Remove, OpOutcome::RemoveMissed, None, 5, 15),
        ];
        let refs: Vec<&Op> = ops.iter().collect();
        assert_eq!(
            check_window(&refs, &[None], LIMITS),
            WindowResult::Ok(vec![Some(Some(Value { thread: 0, seq: 1 }))])
        );
        let tight = SearchLimits { time: Duration::from_secs(1), max_ops: 1 };
        assert_eq!(check_window(&refs, &[None], tight), WindowResult::Unknown);
    }
}
