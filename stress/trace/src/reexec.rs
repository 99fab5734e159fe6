//! Re-execution (`slotscope replay FILE --exec`): the recorded ops, one at a time on one
//! thread, against a fresh table of the recorded shape, layout and variant, with a model of a
//! correct table beside it.
//!
//! **Order.** Ops are applied in order of their recorded *completion* time. For ops that do
//! not overlap in time this is their real order. For overlapping ops it is one order among
//! those the intervals allow, not necessarily the one the hardware took; results that depend
//! on which of two overlapping ops went first may then differ without any bug. Two such cases
//! are handled:
//! - an insert that the recording saw succeed but that finds the re-executed table full is
//!   retried after applying (early) a later successful remove that overlapped it (a legal
//!   reordering of overlapping ops), up to [`REORDER_LOOKAHEAD`] ops ahead;
//! - a recorded `Full` that is legal by the definition of claims (`table/IMPLEMENTATION.md`)
//!   but finds room in the sequential table is skipped (counted), not reported.
//!
//! **Keys.** The re-executed table hands out its own keys. The n-th recorded insert (in
//! completion order) maps the key it got to the key the n-th re-executed insert gets; lookups
//! and removes use the mapped key (a stale key maps to the removed key, so it stays stale).
//! The mapping breaks down when events are missing: an op on a key whose insert was dropped
//! cannot be mapped (it is skipped and counted), and the table's fill then differs from the
//! recording, which changes which inserts are refused.
//!
//! **Checks.** After each op the result is compared with the recorded one (a *divergence*)
//! and with the model (an invariant of `table/IMPLEMENTATION.md` ("Invariants") broken: a stale key read, an id handed out while
//! live, `len()` off the model); every [`SNAPSHOT_EVERY`] ops and at the end the table's
//! snapshot must show exactly the model's keys occupied and every other slot free. The first
//! divergence or broken invariant stops the re-execution.

use std::collections::{HashMap, HashSet};
use std::fmt;

use slotscope_table::{Key, SlotState, Table};

use crate::history::claims::full_claim_bounds;
use crate::history::{value_text, History, KeyText, Op};
use crate::op::OpKind;
use crate::op::OpOutcome;
use crate::op::Value;

/// Memory re-execution may take for one table: the table (a slot word, a ring cell), the
/// snapshot it is checked against (17 bytes a slot) and the model (per live key). A trace that
/// claims a larger table is not re-executed (`check` needs no table): 1 GiB, about 2^25
/// slots' worth.
pub const REEXEC_MEMORY_BUDGET: u64 = 1 << 30;
/// Bytes a slot costs re-execution: 8 (slot) + 8 (ring cell) + 17 (snapshot).
const REEXEC_BYTES_PER_SLOT: u64 = 33;

/// How far ahead a remove may be pulled to make room for an insert.
pub const REORDER_LOOKAHEAD: usize = 256;
/// Ops between full snapshot checks.
pub const SNAPSHOT_EVERY: u64 = 4096;

/// What went wrong first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The re-executed result differs from the recorded one.
    Divergence {
        /// The recorded result, in words.
        recorded: String,
        /// The re-executed result, in words.
        reexecuted: String,
    },
    /// The re-executed table broke an invariant (its result differs from a correct table's,
    /// or its state from the model's).
    Invariant {
        /// What broke.
        what: String,
    },
}

/// The first problem, with the op it happened at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirstProblem {
    /// Table segment.
    pub segment: u32,
    /// The op (`None`: found by an end-of-segment check).
    pub op: Option<Op>,
    /// Ops applied before it in this segment.
    pub applied: u64,
    /// What.
    pub problem: Problem,
    /// How keys are shown.
    pub keys: KeyText,
}

impl fmt::Display for FirstProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.op.map_or_else(|| format!("end of table segment {}", self.segment), |o| o.label());
        match &self.problem {
            Problem::Divergence { recorded, reexecuted } => {
                write!(f, "{at}: recorded {recorded}; re-executed -> {reexecuted}")
            }
            Problem::Invariant { what } => write!(f, "{at}: invariant broken in re-execution: {what}"),
        }
    }
}

/// What re-execution did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReexecOutcome {
    /// Segments re-executed.
    pub segments: u32,
    /// Ops applied.
    pub applied: u64,
    /// Ops on keys whose insert is not in the trace (not applied).
    pub unmapped: u64,
    /// Recorded `Full`s that were legal under concurrency but found room sequentially.
    pub concurrent_fulls: u64,
    /// Removes applied early to make room for an insert.
    pub reordered: u64,
    /// Snapshot checks done.
    pub snapshot_checks: u64,
    /// The first divergence or broken invariant.
    pub first: Option<FirstProblem>,
    /// Segments that could not be re-executed, and why.
    pub notes: Vec<String>,
    /// Segments of our table left out because they would not fit [`REEXEC_MEMORY_BUDGET`]:
    /// the answer is then not the whole trace's.
    pub too_large: u32,
}

/// The outcome of one step: the first problem, boxed (it is rare and large).
type Step = Result<(), Box<FirstProblem>>;

struct Run<'a> {
    table: Table<Value>,
    model: HashMap<Key, Value>,
    map: HashMap<u64, Key>,
    keys: KeyText,
    ops: &'a [Op],
    segment: u32,
    applied: u64,
}

impl Run<'_> {
    fn problem(&self, op: Option<&Op>, problem: Problem) -> Box<FirstProblem> {
        Box::new(FirstProblem {
            segment: self.segment,
            op: op.copied(),
            applied: self.applied,
            problem,
            keys: self.keys,
        })
    }

    fn found(v: Option<Value>) -> String {
        v.map_or_else(|| "miss".to_owned(), |v| format!("hit (value {})", value_text(v)))
    }

    /// Applies a lookup or remove; `Err` at the first problem.
    fn apply_keyed(&mut self, o: &Op, out: &mut ReexecOutcome) -> Step {
        let Some(recorded_key) = o.key else { return Ok(()) };
        let Some(&k) = self.map.get(&recorded_key) else {
            out.unmapped += 1;
            return Ok(());
        };
        let shown = self.keys.show(recorded_key);
        match o.kind {
            OpKind::Lookup => {
                let got = self.table.get(k);
                let recorded = if o.outcome == OpOutcome::Hit { Some(o.value) } else { None };
                let same = match (recorded, got) {
                    (None, None) => true,
                    (Some(Some(rv)), Some(v)) => rv == v,
                    (Some(None), Some(_)) => true,
                    _ => false,
                };
                if !same {
                    return Err(self.problem(
                        Some(o),
                        Problem::Divergence {
                            recorded: format!("lookup of {shown} -> {}", o.outcome_text()),
                            reexecuted: Self::found(got),
                        },
                    ));
                }
                let expected = self.model.get(&k).copied();
                if got != expected {
                    return Err(self.problem(
                        Some(o),
                        Problem::Invariant {
                            what: format!(
                                "lookup of {shown} found {} where a correct table finds {}{}",
                                Self::found(got),
                                Self::found(expected),
                                if expected.is_none() { " (a stale key must miss)" } else { "" }
                            ),
                        },
                    ));
                }
            }
            OpKind::Remove => {
                let removed = self.table.remove(k);
                let recorded = o.outcome == OpOutcome::Removed;
                if removed != recorded {
                    return Err(self.problem(
                        Some(o),
                        Problem::Divergence {
                            recorded: format!("remove of {shown} -> {}", o.outcome.name()),
                            reexecuted: if removed { "removed".to_owned() } else { "not found".to_owned() },
                        },
                    ));
                }
                let expected = self.model.remove(&k).is_some();
                if removed != expected {
                    return Err(self.problem(
                        Some(o),
                        Problem::Invariant {
                            what: format!(
                                "remove of {shown} returned {removed} where a correct table returns {expected}{}",
                                if expected { "" } else { " (a stale key removes nothing)" }
                            ),
                        },
                    ));
                }
            }
            OpKind::Insert => {}
        }
        Ok(())
    }

    fn check_len(&self, o: Option<&Op>) -> Step {
        if self.table.len() != self.model.len() {
            return Err(self.problem(
                o,
                Problem::Invariant {
                    what: format!("len() is {} but {} elements are live", self.table.len(), self.model.len()),
                },
            ));
        }
        Ok(())
    }

    fn check_snapshot(&self, o: Option<&Op>) -> Step {
        let snap = self.table.snapshot();
        let n = snap.capacity();
        let occupied: HashSet<Key> = (0..n)
            .filter_map(|s| {
                let info = snap.slot(s);
                (info.state == SlotState::Occupied).then_some(info.key).flatten()
            })
            .collect();
        let model: HashSet<Key> = self.model.keys().copied().collect();
        let what = if snap.occupied() + snap.free() != n {
            Some(format!("at quiescence {} occupied + {} free != {n} slots", snap.occupied(), snap.free()))
        } else if occupied != model {
            let lost = model.difference(&occupied).count();
            let extra = occupied.difference(&model).count();
            Some(format!("the table holds {extra} keys the model does not and lacks {lost} it has"))
        } else {
            None
        };
        match what {
            Some(what) => Err(self.problem(o, Problem::Invariant { what })),
            None => Ok(()),
        }
    }
}

impl Op {
    fn outcome_text(&self) -> String {
        match (self.outcome, self.value) {
            (OpOutcome::Hit, Some(v)) => format!("hit (value {})", value_text(v)),
            (o, _) => o.name().to_owned(),
        }
    }
}

/// Re-executes every segment of `history` that ran on our table.
pub fn reexecute(history: &History) -> ReexecOutcome {
    let mut out = ReexecOutcome::default();
    for seg in &history.segments {
        let Some(begin) = &seg.begin else {
            out.notes.push(format!("segment {}: no table description in the trace; skipped", seg.index));
            continue;
        };
        let Some(g) = begin.geometry else {
            out.notes.push(format!(
                "segment {}: the {} backend cannot be re-executed (only our table)",
                seg.index, begin.backend
            ));
            continue;
        };
        let need = g.capacity() as u64 * REEXEC_BYTES_PER_SLOT;
        if need > REEXEC_MEMORY_BUDGET {
            out.too_large += 1;
            out.notes.push(format!(
                "segment {}: a table of {} slots would need about {} MiB to re-execute, more than the {} MiB allowed; not re-executed (`slotscope check` checks it without a table)",
                seg.index,
                g.capacity(),
                need >> 20,
                REEXEC_MEMORY_BUDGET >> 20
            ));
            continue;
        }
        let table = match Table::builder()
            .capacity(g.capacity())
            .layout(g.layout())
            .line_bytes(g.line_bytes())
            .variant(begin.variant)
            .build()
        {
            Ok(t) => t,
            Err(e) => {
                out.notes.push(format!("segment {}: {e}", seg.index));
                continue;
            }
        };
        if !seg.drops.is_empty() {
            out.notes.push(format!(
                "segment {}: {} events were dropped while recording; ops on keys whose insert was dropped are skipped, and fills may differ",
                seg.index,
                seg.drops.iter().map(|d| d.count).sum::<u64>()
            ));
        }
        out.segments += 1;
        let capacity = i64::try_from(g.capacity()).unwrap_or(i64::MAX);
        let legal_fulls: HashSet<usize> = full_claim_bounds(&seg.ops)
            .into_iter()
            .filter(|&(_, others)| others >= capacity)
            .map(|(i, _)| i)
            .collect();
        let mut order: Vec<usize> = (0..seg.ops.len()).filter(|&i| seg.ops[i].acted()).collect();
        order.sort_by_key(|&i| (seg.ops[i].end, seg.ops[i].event));
        let mut run = Run {
            table,
            model: HashMap::new(),
            map: HashMap::new(),
            keys: seg.key_text(),
            ops: &seg.ops,
            segment: seg.index,
            applied: 0,
        };
        if let Err(p) = run_segment(&mut run, &order, &legal_fulls, &mut out) {
            out.first = Some(*p);
            return out;
        }
        if let Some(end) = seg.final_snapshot.as_ref() {
            let recorded = end.snapshot.occupied();
            if recorded != run.model.len() && seg.drops.is_empty() {
                out.first = Some(*run.problem(
                    None,
                    Problem::Divergence {
                        recorded: format!("{recorded} elements in the final table"),
                        reexecuted: format!("{} elements", run.model.len()),
                    },
                ));
                return out;
            }
        }
    }
    out
}

fn run_segment(
    run: &mut Run<'_>,
    order: &[usize],
    legal_fulls: &HashSet<usize>,
    out: &mut ReexecOutcome,
) -> Step {
    let ops = run.ops;
    let mut early: HashSet<usize> = HashSet::new();
    for (p, &i) in order.iter().enumerate() {
        if early.remove(&i) {
            continue;
        }
        let o = &ops[i];
        match (o.kind, o.outcome) {
            (OpKind::Insert, OpOutcome::Inserted) => {
                let value = o.value.unwrap_or(Value { thread: u64::from(o.thread), seq: o.op_index });
                let mut got = run.table.insert(value);
                let mut ahead = p + 1;
                while got.is_err() && ahead < order.len().min(p + 1 + REORDER_LOOKAHEAD) {
                    let j = order[ahead];
                    ahead += 1;
                    let r = &ops[j];
                    if r.kind == OpKind::Remove
                        && r.outcome == OpOutcome::Removed
                        && r.start < o.end
                        && !early.contains(&j)
                    {
                        run.apply_keyed(r, out)?;
                        early.insert(j);
                        out.reordered += 1;
                        run.applied += 1;
                        out.applied += 1;
                        got = run.table.insert(value);
                    }
                }
                match got {
                    Ok(k) => {
                        if run.model.contains_key(&k) {
                            return Err(run.problem(
                                Some(o),
                                Problem::Invariant {
                                    what: format!(
                                        "insert handed out {k}, which is live (no id twice while live)"
                                    ),
                                },
                            ));
                        }
                        run.model.insert(k, value);
                        if let Some(rk) = o.key {
                            run.map.insert(rk, k);
                        }
                    }
                    Err(_) => {
                        return Err(run.problem(
                            Some(o),
                            Problem::Divergence {
                                recorded: format!(
                                    "insert -> {}",
                                    o.key.map_or_else(|| "a key".to_owned(), |k| run.keys.show(k))
                                ),
                                reexecuted: "Full".to_owned(),
                            },
                        ));
                    }
                }
            }
            (OpKind::Insert, OpOutcome::Refused) => {
                if run.table.len() < run.table.capacity() {
                    if legal_fulls.contains(&i) {
                        out.concurrent_fulls += 1;
                        continue;
                    }
                    let got = run.table.insert(Value { thread: u64::from(o.thread), seq: u64::MAX });
                    let text = match got {
                        Ok(k) => format!("{k}"),
                        Err(_) => "Full".to_owned(),
                    };
                    return Err(run.problem(
                        Some(o),
                        Problem::Divergence { recorded: "insert -> Full".to_owned(), reexecuted: text },
                    ));
                }
                if run.table.insert(Value::default()).is_ok() {
                    return Err(run.problem(
                        Some(o),
                        Problem::Invariant { what: "a full table accepted an insert".to_owned() },
                    ));
                }
            }
            _ => run.apply_keyed(o, out)?,
        }
        run.applied += 1;
        out.applied += 1;
        run.check_len(Some(o))?;
        // A scan costs a pass over every slot: on a large table, fewer of them.
        let every = SNAPSHOT_EVERY.max(run.table.capacity() as u64 / 64);
        if run.applied.is_multiple_of(every) {
            out.snapshot_checks += 1;
            run.check_snapshot(Some(o))?;
        }
    }
    out.snapshot_checks += 1;
    run.check_snapshot(None)
}
