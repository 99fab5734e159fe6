//! The checks of `slotscope check`.
//!
//! 1. **Per key, in O(m log m) for a key with m ops** (so about linear overall), with
//!    real-time bounds: an op A surely precedes B when `A.end < B.start`. For an op x on key K
//!    the checker counts inserts of K that surely precede x (`end < x.start`) or possibly do
//!    (`start < x.end`), and the same for successful removes; a result that no placement of
//!    the possible ops can explain is a violation:
//!    - an insert that hands out K while K is surely live (duplicate live key);
//!    - a successful remove of K while K is surely not live (stale or double removal);
//!    - a lookup hit on K while K is surely not live (stale read);
//!    - a lookup miss or failed remove while K is surely live (lost insert).
//!
//!    Values carry the (thread, seq) of the insert that stored them, so a hit is also checked
//!    against the insert it names: another key's value, a value removed before the lookup
//!    began, or a value no insert stored.
//! 2. **Capacity** (our table): more than N keys surely live at once; `Full` when fewer than N
//!    claims can have been held at any instant of the refused insert's interval (the
//!    definition of `Full` in `table/IMPLEMENTATION.md`: live elements, inserts and removes in
//!    flight, other refusals in flight).
//! 3. **The end state**: the table's element count and its final snapshot (taken at
//!    quiescence) against the keys the history leaves live.
//! 4. **Linearizability per key** (`lin.rs`), for keys the named checks passed.
//!
//! Missing events never make a violation. A finding whose evidence overlaps a stretch of time
//! in which some thread's ops are unknown (dropped events, the unrecorded tail after a
//! recording limit) is reported as *incomplete* instead, except for findings that rest on the
//! value's identity alone (another key's value, a removed value): no missing op can explain
//! those.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use super::lin::{check_window, KeyState, SearchLimits, WindowResult};
use super::{value_text, Gap, History, Op, Segment};
use crate::op::OpKind;
use crate::op::OpOutcome;
use crate::op::Value;

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
    /// The illegal op (index into the segment's ops), if one op is to blame.
    pub op: Option<usize>,
    /// The ops that make it illegal (indices into the segment's ops).
    pub evidence: Vec<usize>,
    /// The key concerned.
    pub key: Option<u64>,
    /// One or two sentences.
    pub message: String,
    /// Time span of the evidence, clock ns.
    pub span: (u64, u64),
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
    /// Keys not searched because a named check already failed on them, or their history
    /// touches a gap.
    pub skipped_keys: u64,
    /// Ops in the largest window.
    pub largest_window: usize,
}

/// Everything `check` found.
#[derive(Clone, Debug, Default)]
pub struct CheckOutcome {
    /// Violations, earliest-ending illegal op first.
    pub violations: Vec<Finding>,
    /// Would-be violations that missing events could explain.
    pub incomplete: Vec<Finding>,
    /// Ops examined by the per-key checks.
    pub ops_checked: u64,
    /// Keys seen.
    pub keys: u64,
    /// Refused inserts checked against the definition of `Full`.
    pub fulls_checked: u64,
    /// Linearizability search.
    pub lin: LinStats,
    /// Things to say about coverage (gaps, missing end records, unchecked parts).
    pub notes: Vec<String>,
    /// Time spent in the per-key, capacity and end-state checks.
    pub named_checks_time: Duration,
    /// Time spent in the linearizability search.
    pub lin_time: Duration,
}

impl CheckOutcome {
    /// Whether a violation was found.
    pub fn failed(&self) -> bool {
        !self.violations.is_empty()
    }
}

/// Runs every check on `history`.
pub fn check(history: &History, options: &CheckOptions) -> CheckOutcome {
    let mut out = CheckOutcome::default();
    if !history.stop.is_clean() {
        out.notes.push(format!("the trace is cut short ({}); checks cover what was read", history.stop));
    }
    match history.end {
        None => out.notes.push("the trace has no end record (the run did not close it): the last ops of every thread may be missing".to_owned()),
        Some(e) if e.reason.is_limit() => out.notes.push(format!("{}: the history is a prefix of the run", e.reason.describe())),
        Some(_) => {}
    }
    for seg in &history.segments {
        check_segment(seg, options, &mut out);
    }
    let by_time = |f: &Finding| f.span.1;
    out.violations.sort_by_key(by_time);
    out.incomplete.sort_by_key(by_time);
    out
}

/// A finding's evidence span touches a gap.
fn touches_gap(gaps: &[Gap], lo: u64, hi: u64) -> bool {
    gaps.iter().any(|g| g.from <= hi && g.to >= lo)
}

struct Ctx<'a> {
    seg: &'a Segment,
    gaps: Vec<Gap>,
    out: &'a mut CheckOutcome,
    keys: super::KeyText,
}

impl<'a> Ctx<'a> {
    /// The segment's ops (borrowed from the segment, not from the context).
    fn ops(&self) -> &'a [Op] {
        &self.seg.ops
    }

    /// Files a finding as a violation, or as incomplete when `definite` is false and its span
    /// touches a gap.
    fn file(&mut self, mut f: Finding, definite: bool) {
        f.segment = self.seg.index;
        if !definite && touches_gap(&self.gaps, f.span.0, f.span.1) {
            f.message.push_str(" (events are missing around it: this may be explained by them)");
            self.out.incomplete.push(f);
        } else {
            self.out.violations.push(f);
        }
    }
}

fn count_lt(sorted: &[u64], x: u64) -> usize {
    sorted.partition_point(|&v| v < x)
}

fn check_segment(seg: &Segment, options: &CheckOptions, out: &mut CheckOutcome) {
    let started = std::time::Instant::now();
    let gaps = seg.gaps();
    for g in &gaps {
        if g.to != u64::MAX || seg.end.is_none() {
            out.notes.push(format!("segment {}: {g}", seg.index));
        }
    }
    let keys = seg.key_text();
    let mut ctx = Ctx { seg, gaps, out, keys };

    // Values -> the insert that stored them.
    let mut stored: HashMap<Value, usize> = HashMap::new();
    let mut by_key: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, op) in seg.ops.iter().enumerate() {
        if !op.acted() {
            continue;
        }
        if let (OpKind::Insert, OpOutcome::Inserted, Some(v)) = (op.kind, op.outcome, op.value) {
            stored.insert(v, i);
        }
        if let Some(k) = op.key {
            by_key.entry(k).or_default().push(i);
        }
    }
    ctx.out.keys += by_key.len() as u64;
    let mut failed_keys: HashMap<u64, ()> = HashMap::new();
    let mut live_at_end: HashMap<u64, usize> = HashMap::new();
    let mut key_list: Vec<u64> = by_key.keys().copied().collect();
    key_list.sort_unstable();
    for &k in &key_list {
        let idx = &by_key[&k];
        let before = ctx.out.violations.len() + ctx.out.incomplete.len();
        let live = check_key(&mut ctx, k, idx, &stored);
        if live > 0 {
            live_at_end.insert(k, live);
        }
        if ctx.out.violations.len() + ctx.out.incomplete.len() > before {
            failed_keys.insert(k, ());
        }
        ctx.out.ops_checked += idx.len() as u64;
    }

    if let Some(n) = seg.capacity() {
        check_capacity(&mut ctx, n);
        check_fulls(&mut ctx, n);
    }
    check_end_state(&mut ctx, &live_at_end, &by_key);
    check_periodic_snapshots(&mut ctx);
    let named_done = std::time::Instant::now();
    ctx.out.named_checks_time += named_done - started;

    if options.linearizability {
        let limits = SearchLimits { time: options.window_time_limit, max_ops: options.max_window_ops };
        for &k in &key_list {
            let idx = &by_key[&k];
            let lo = idx.iter().map(|&i| seg.ops[i].start).min().unwrap_or(0);
            let hi = idx.iter().map(|&i| seg.ops[i].end).max().unwrap_or(0);
            if failed_keys.contains_key(&k) || touches_gap(&ctx.gaps, lo, hi) {
                ctx.out.lin.skipped_keys += 1;
                continue;
            }
            check_key_linearizable(&mut ctx, k, idx, limits);
        }
    }
    ctx.out.lin_time += named_done.elapsed();
}

/// The per-key checks; returns how many incarnations of the key the history leaves live.
fn check_key(ctx: &mut Ctx<'_>, key: u64, idx: &[usize], stored: &HashMap<Value, usize>) -> usize {
    let ops = ctx.ops();
    let ins: Vec<usize> = idx
        .iter()
        .copied()
        .filter(|&i| ops[i].kind == OpKind::Insert && ops[i].outcome == OpOutcome::Inserted)
        .collect();
    let rem: Vec<usize> = idx
        .iter()
        .copied()
        .filter(|&i| ops[i].kind == OpKind::Remove && ops[i].outcome == OpOutcome::Removed)
        .collect();
    let sorted = |v: &[usize], f: fn(&Op) -> u64| {
        let mut t: Vec<u64> = v.iter().map(|&i| f(&ops[i])).collect();
        t.sort_unstable();
        t
    };
    let ins_s = sorted(&ins, |o| o.start);
    let ins_e = sorted(&ins, |o| o.end);
    let rem_s = sorted(&rem, |o| o.start);
    let rem_e = sorted(&rem, |o| o.end);
    // Removes by start, with the smallest end among those starting at or after each: "is
    // there a remove entirely inside (a, b)?" in O(log m).
    let mut rem_by_start: Vec<(u64, u64, usize)> =
        rem.iter().map(|&i| (ops[i].start, ops[i].end, i)).collect();
    rem_by_start.sort_unstable();
    let mut suffix_min: Vec<(u64, usize)> = vec![(u64::MAX, usize::MAX); rem_by_start.len() + 1];
    for j in (0..rem_by_start.len()).rev() {
        let (_, e, i) = rem_by_start[j];
        suffix_min[j] = if e < suffix_min[j + 1].0 { (e, i) } else { suffix_min[j + 1] };
    }
    let remove_inside = |a: u64, b: u64| -> Option<usize> {
        let j = rem_by_start.partition_point(|&(s, _, _)| s <= a);
        let (e, i) = suffix_min[j];
        (e < b).then_some(i)
    };
    let last_ending_before =
        |v: &[usize], t: u64| v.iter().copied().filter(|&i| ops[i].end < t).max_by_key(|&i| ops[i].end);
    let first_start = idx.iter().map(|&i| ops[i].start).min().unwrap_or(0);
    let kt = ctx.keys;
    let ks = kt.show(key);
    let mut findings: Vec<(Finding, bool)> = Vec::new();

    for &i in idx {
        let o = ops[i];
        let finding = |kind, evidence: Vec<usize>, message: String, definite| {
            (
                Finding {
                    kind,
                    segment: 0,
                    op: Some(i),
                    evidence,
                    key: Some(key),
                    message,
                    span: (first_start, o.end),
                },
                definite,
            )
        };
        match (o.kind, o.outcome) {
            (OpKind::Insert, OpOutcome::Inserted) => {
                let surely_before = count_lt(&ins_e, o.start);
                let removes_possible = count_lt(&rem_s, o.end);
                if surely_before > removes_possible {
                    let prev = last_ending_before(&ins, o.start);
                    let message = format!(
                        "{} handed out {ks}, which was live: {} returned it and no remove of it could have come between",
                        o.label(),
                        prev.map_or_else(|| "an earlier insert".to_owned(), |p| ops[p].label())
                    );
                    findings.push(finding(
                        super::FindingKind::DuplicateLiveKey,
                        prev.into_iter().collect(),
                        message,
                        false,
                    ));
                }
            }
            (OpKind::Remove, OpOutcome::Removed) => {
                let removed_before = count_lt(&rem_e, o.start);
                let inserts_possible = count_lt(&ins_s, o.end);
                if removed_before >= inserts_possible {
                    let prev = last_ending_before(&rem, o.start);
                    let message = match prev {
                        Some(p) => format!(
                            "{} removed {ks}, which {} had already removed (no insert could have made it live again)",
                            o.label(),
                            ops[p].label()
                        ),
                        None => format!("{} removed {ks}, which no insert had handed out", o.label()),
                    };
                    findings.push(finding(
                        super::FindingKind::StaleRemove,
                        prev.into_iter().collect(),
                        message,
                        false,
                    ));
                }
            }
            (OpKind::Lookup, OpOutcome::Hit) => {
                let mut by_value = None;
                if let Some(v) = o.value {
                    by_value = match stored.get(&v) {
                        Some(&j) if ops[j].key != Some(key) => Some(finding(
                            super::FindingKind::ForeignValue,
                            // The value's insert, and this key's own story: its last removal
                            // before the lookup and the insert before that.
                            {
                                let removal = last_ending_before(&rem, o.start);
                                let own = removal.and_then(|r| last_ending_before(&ins, ops[r].start));
                                [Some(j), removal, own].into_iter().flatten().collect()
                            },
                            format!(
                                "{} looked up {ks} and got value {}, which {} stored under {}",
                                o.label(),
                                value_text(v),
                                ops[j].label(),
                                ops[j].key.map_or_else(|| "no key".to_owned(), |k| kt.show(k))
                            ),
                            true,
                        )),
                        Some(&j) if ops[j].start > o.end => Some(finding(
                            super::FindingKind::PhantomValue,
                            vec![j],
                            format!("{} returned value {}, which {} stored only after it", o.label(), value_text(v), ops[j].label()),
                            true,
                        )),
                        Some(&j) => remove_inside(ops[j].end, o.start).map(|r| {
                            finding(
                                super::FindingKind::StaleRead,
                                vec![j, r],
                                format!(
                                    "{} found {ks} with value {}, but {} had removed it before the lookup began",
                                    o.label(),
                                    value_text(v),
                                    ops[r].label()
                                ),
                                true,
                            )
                        }),
                        None => Some(finding(
                            super::FindingKind::PhantomValue,
                            Vec::new(),
                            format!("{} returned value {}, which no recorded insert stored", o.label(), value_text(v)),
                            false,
                        )),
                    };
                }
                if by_value.is_none() {
                    let inserts_possible = count_lt(&ins_s, o.end);
                    let removed_before = count_lt(&rem_e, o.start);
                    if inserts_possible <= removed_before {
                        let prev = last_ending_before(&rem, o.start);
                        let message = format!(
                            "{} found {ks}, which was surely not live{}",
                            o.label(),
                            prev.map_or_else(
                                || " (never handed out)".to_owned(),
                                |p| format!(": {} had removed it", ops[p].label())
                            )
                        );
                        by_value = Some(finding(
                            super::FindingKind::StaleRead,
                            prev.into_iter().collect(),
                            message,
                            false,
                        ));
                    }
                }
                findings.extend(by_value);
            }
            (OpKind::Lookup, OpOutcome::Miss) | (OpKind::Remove, OpOutcome::RemoveMissed) => {
                let surely_before = count_lt(&ins_e, o.start);
                let removes_possible = count_lt(&rem_s, o.end);
                if surely_before > removes_possible {
                    let prev = last_ending_before(&ins, o.start);
                    // The last op that still saw the key: the element was lost after it began.
                    let last_seen = idx
                        .iter()
                        .copied()
                        .filter(|&j| ops[j].outcome == OpOutcome::Hit && ops[j].end < o.start)
                        .max_by_key(|&j| ops[j].end)
                        .filter(|&j| prev.is_none_or(|p| ops[j].start > ops[p].start));
                    let message = format!(
                        "{} did not find {ks}, which was surely live: {} had handed it out and no remove of it could have come first{}",
                        o.label(),
                        prev.map_or_else(|| "an insert".to_owned(), |p| ops[p].label()),
                        last_seen.map_or_else(String::new, |j| format!("; {} still found it", ops[j].label()))
                    );
                    findings.push(finding(
                        super::FindingKind::LostInsert,
                        prev.into_iter().chain(last_seen).collect(),
                        message,
                        false,
                    ));
                }
            }
            _ => {}
        }
    }
    for (f, definite) in findings {
        ctx.file(f, definite);
    }
    ins.len().saturating_sub(rem.len())
}

/// More than N keys surely live at once: +1 when an insert ends, -1 when a successful remove
/// starts (a key is surely live from its insert's end to its remove's start).
fn check_capacity(ctx: &mut Ctx<'_>, n: u64) {
    let ops = ctx.ops();
    let mut points: Vec<(u64, i8, usize)> = Vec::new();
    for (i, o) in ops.iter().enumerate() {
        match (o.kind, o.outcome) {
            (OpKind::Insert, OpOutcome::Inserted) => points.push((o.end, 1, i)),
            (OpKind::Remove, OpOutcome::Removed) => points.push((o.start, -1, i)),
            _ => {}
        }
    }
    // Removes first at equal times: the conservative order.
    points.sort_unstable_by_key(|&(t, d, _)| (t, d));
    let mut live: i64 = 0;
    for &(t, d, i) in &points {
        live += i64::from(d);
        if live > i64::try_from(n).unwrap_or(i64::MAX) {
            let f = Finding {
                kind: super::FindingKind::OverCapacity,
                segment: 0,
                op: Some(i),
                evidence: Vec::new(),
                key: ops[i].key,
                message: format!(
                    "{} made {live} keys surely live at once in a table of {n} slots",
                    ops[i].label()
                ),
                span: (0, t),
            };
            ctx.file(f, false);
            return;
        }
    }
}

/// For every refused insert (index into `ops`), the most claims other ops can have held at
/// one instant of its interval: the upper bound U(t) = inserts started by t - removes ended
/// before t + other refusals in flight at t, maximised over the interval. `Full` is legal by
/// the definition in `table/IMPLEMENTATION.md` when this reaches N.
pub(crate) fn full_claim_bounds(ops: &[Op]) -> Vec<(usize, i64)> {
    // (time, order, delta): +1 applies at `time`, -1 applies just after `time`.
    let mut events: Vec<(u64, u8, i32)> = Vec::new();
    let mut fulls = Vec::new();
    for (i, o) in ops.iter().enumerate() {
        match (o.kind, o.outcome) {
            (OpKind::Insert, OpOutcome::Inserted) => events.push((o.start, 0, 1)),
            (OpKind::Remove, OpOutcome::Removed) => events.push((o.end, 1, -1)),
            (OpKind::Insert, OpOutcome::Refused) => {
                events.push((o.start, 0, 1));
                events.push((o.end, 1, -1));
                fulls.push(i);
            }
            _ => {}
        }
    }
    if fulls.is_empty() {
        return Vec::new();
    }
    events.sort_unstable();
    let mut values = Vec::with_capacity(events.len());
    let mut v: i64 = 0;
    for &(_, _, d) in &events {
        v += i64::from(d);
        values.push(v);
    }
    let rmq = SparseMax::new(&values);
    fulls
        .into_iter()
        .map(|i| {
            let o = ops[i];
            // U at the start: every event at or before (start, +1 order).
            let i0 = events.partition_point(|&(t, k, _)| t < o.start || (t == o.start && k == 0));
            let i1 = events.partition_point(|&(t, k, _)| t < o.end || (t == o.end && k == 0));
            let at_start = if i0 == 0 { 0 } else { values[i0 - 1] };
            let best = rmq.max(i0, i1).map_or(at_start, |m| m.max(at_start));
            // This refusal's own claim is counted in `best`.
            (i, best - 1)
        })
        .collect()
}

/// `Full` when fewer than N claims can have been held at any instant of the refusal.
fn check_fulls(ctx: &mut Ctx<'_>, n: u64) {
    let ops = ctx.ops();
    for (i, others) in full_claim_bounds(ops) {
        ctx.out.fulls_checked += 1;
        if others < i64::try_from(n).unwrap_or(i64::MAX) {
            let f = Finding {
                kind: super::FindingKind::FalseFull,
                segment: 0,
                op: Some(i),
                evidence: Vec::new(),
                key: None,
                message: format!(
                    "{} was refused with Full, but at most {others} of the {n} claims could have been held during it \
                     (live elements + inserts, removes and refusals in flight)",
                    ops[i].label()
                ),
                span: (0, ops[i].end),
            };
            ctx.file(f, false);
        }
    }
}

/// Range maximum in O(1) after O(n log n) preparation.
struct SparseMax {
    levels: Vec<Vec<i64>>,
}

impl SparseMax {
    fn new(v: &[i64]) -> Self {
        let mut levels = vec![v.to_vec()];
        let mut width = 1;
        while 2 * width <= v.len() {
            let prev = levels.last().map_or(&[][..], Vec::as_slice);
            let next: Vec<i64> = (0..=v.len() - 2 * width).map(|i| prev[i].max(prev[i + width])).collect();
            levels.push(next);
            width *= 2;
        }
        SparseMax { levels }
    }

    /// Max of `v[a..b]`, `None` if empty.
    fn max(&self, a: usize, b: usize) -> Option<i64> {
        if a >= b {
            return None;
        }
        let len = b - a;
        let k = usize::BITS as usize - 1 - len.leading_zeros() as usize;
        let l = &self.levels[k];
        Some(l[a].max(l[b - (1 << k)]))
    }
}

/// The end of a segment, at quiescence: the element count and the final snapshot against the
/// keys the history leaves live.
fn check_end_state(ctx: &mut Ctx<'_>, live: &HashMap<u64, usize>, by_key: &HashMap<u64, Vec<usize>>) {
    let Some(end) = ctx.seg.end else { return };
    let history_live: u64 = live.values().map(|&c| c as u64).sum();
    let end_time = end.clock_ns;
    if let Some(elements) = end.elements {
        if elements != history_live {
            let f = Finding {
                kind: super::FindingKind::CountMismatch,
                segment: 0,
                op: None,
                evidence: Vec::new(),
                key: None,
                message: format!(
                    "at the end the table counted {elements} elements, but the history's inserts - removes leave {history_live} \
                     (the engine counted {} inserts and {} removes)",
                    end.inserted, end.removed
                ),
                span: (0, end_time),
            };
            ctx.file(f, false);
        }
    }
    let Some(snap) = ctx.seg.final_snapshot.as_ref().map(|s| &s.snapshot) else { return };
    let mut occupied: BTreeMap<u64, ()> = BTreeMap::new();
    for s in 0..snap.capacity() {
        let info = snap.slot(s);
        if info.state == slotscope_table::SlotState::Occupied {
            if let Some(k) = info.key {
                occupied.insert(k.bits(), ());
            }
        }
    }
    let mut missing: Vec<u64> = live.keys().copied().filter(|k| !occupied.contains_key(k)).collect();
    missing.sort_unstable();
    for k in missing.into_iter().take(16) {
        let ins = by_key[&k]
            .iter()
            .copied()
            .filter(|&i| ctx.seg.ops[i].outcome == OpOutcome::Inserted)
            .max_by_key(|&i| ctx.seg.ops[i].end);
        let f = Finding {
            kind: super::FindingKind::LostInsert,
            segment: 0,
            op: ins,
            evidence: Vec::new(),
            key: Some(k),
            message: format!(
                "{} is live by the history ({} handed it out, no remove of it succeeded) but the table's final snapshot does not hold it",
                ctx.keys.show(k),
                ins.map_or_else(|| "an insert".to_owned(), |i| ctx.seg.ops[i].label())
            ),
            span: (ins.map_or(0, |i| ctx.seg.ops[i].start), end_time),
        };
        ctx.file(f, false);
    }
    let mut extra: Vec<u64> = occupied.keys().copied().filter(|k| !live.contains_key(k)).collect();
    extra.sort_unstable();
    for k in extra.into_iter().take(16) {
        let last = by_key.get(&k).and_then(|v| v.iter().copied().max_by_key(|&i| ctx.seg.ops[i].end));
        let f = Finding {
            kind: super::FindingKind::FinalStateMismatch,
            segment: 0,
            op: last,
            evidence: Vec::new(),
            key: Some(k),
            message: format!(
                "the table's final snapshot holds {}, which the history {}",
                ctx.keys.show(k),
                last.map_or_else(
                    || "never handed out".to_owned(),
                    |i| format!("left removed ({})", ctx.seg.ops[i].label())
                )
            ),
            span: (last.map_or(0, |i| ctx.seg.ops[i].start), end_time),
        };
        ctx.file(f, false);
    }
}

/// Periodic snapshots are weakly consistent, but bounded: every element live for the whole
/// scan is seen, and nothing is seen that was not live at some instant of it. So the slots
/// seen occupied lie between the elements surely live throughout (inserts ended before the
/// scan began - successful removes begun before it ended) and those possibly live at some
/// point (inserts begun before it ended - removes ended before it began).
fn check_periodic_snapshots(ctx: &mut Ctx<'_>) {
    if ctx.seg.snapshots.is_empty() {
        return;
    }
    let ops = ctx.ops();
    let mut ins_s = Vec::new();
    let mut ins_e = Vec::new();
    let mut rem_s = Vec::new();
    let mut rem_e = Vec::new();
    for o in ops {
        match (o.kind, o.outcome) {
            (OpKind::Insert, OpOutcome::Inserted) => {
                ins_s.push(o.start);
                ins_e.push(o.end);
            }
            (OpKind::Remove, OpOutcome::Removed) => {
                rem_s.push(o.start);
                rem_e.push(o.end);
            }
            _ => {}
        }
    }
    for v in [&mut ins_s, &mut ins_e, &mut rem_s, &mut rem_e] {
        v.sort_unstable();
    }
    for &(from, to, occupied) in &ctx.seg.snapshots {
        let surely = count_lt(&ins_e, from).saturating_sub(count_lt(&rem_s, to.saturating_add(1)));
        let possibly = count_lt(&ins_s, to.saturating_add(1)).saturating_sub(count_lt(&rem_e, from));
        if occupied < surely || occupied > possibly {
            let f = Finding {
                kind: super::FindingKind::CountMismatch,
                segment: 0,
                op: None,
                evidence: Vec::new(),
                key: None,
                message: format!(
                    "a snapshot taken between {from} and {to} ns saw {occupied} slots occupied, but the history has \
                     {surely} elements surely live throughout it and at most {possibly} possibly live"
                ),
                span: (from, to),
            };
            // Reported once: later snapshots would repeat it.
            ctx.file(f, false);
            return;
        }
    }
}

fn check_key_linearizable(ctx: &mut Ctx<'_>, key: u64, idx: &[usize], limits: SearchLimits) {
    let ops = ctx.ops();
    let mut sorted: Vec<usize> = idx.to_vec();
    sorted.sort_by_key(|&i| (ops[i].start, ops[i].end));
    ctx.out.lin.keys += 1;
    let mut states: Vec<KeyState> = vec![None];
    let mut w = 0;
    while w < sorted.len() {
        // Grow the window until the next op starts after every op so far has returned.
        let mut reach = ops[sorted[w]].end;
        let mut e = w + 1;
        while e < sorted.len() && ops[sorted[e]].start <= reach {
            reach = reach.max(ops[sorted[e]].end);
            e += 1;
        }
        let window: Vec<&Op> = sorted[w..e].iter().map(|&i| &ops[i]).collect();
        ctx.out.lin.windows += 1;
        ctx.out.lin.largest_window = ctx.out.lin.largest_window.max(window.len());
        match check_window(&window, &states, limits) {
            WindowResult::Ok(next) => {
                ctx.out.lin.ok += 1;
                states = next;
            }
            WindowResult::Unknown => {
                ctx.out.lin.unknown += 1;
                return;
            }
            WindowResult::Violation { op, depth } => {
                ctx.out.lin.violated += 1;
                let bad = sorted[w + op];
                let evidence: Vec<usize> = sorted[w..e].iter().copied().filter(|&i| i != bad).collect();
                let f = Finding {
                    kind: super::FindingKind::NotLinearizable,
                    segment: 0,
                    op: Some(bad),
                    evidence,
                    key: Some(key),
                    message: format!(
                        "no order of the {} ops on {} in this window (within their intervals) explains their results; \
                         the search placed at most {depth} before {} could not take effect",
                        window.len(),
                        ctx.keys.show(key),
                        ops[bad].label()
                    ),
                    span: (ops[sorted[w]].start, reach),
                };
                ctx.file(f, true);
                return;
            }
        }
        w = e;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{DropRecord, ReadStop, SnapshotRecord, TableBegin, TableEnd};
    use crate::history::{History, Segment};
    use crate::op::OpOrigin;
    use slotscope_table::{Geometry, Key, Layout, SlotState, Snapshot, Variant};

    const N: usize = 16;

    fn geometry() -> Geometry {
        Geometry::new(N, Layout::Interleaved, 64).unwrap()
    }

    fn key(slot: usize, generation: u64) -> u64 {
        geometry().key(generation, slot).bits()
    }

    /// Builds ops from terse rows: (thread, kind, outcome, key, value seq, start, end). Values
    /// are `(thread, seq)` of the inserting thread for inserts; for hits the row names the
    /// value's (thread, seq) as `seq = thread * 1000 + seq`.
    struct Builder {
        ops: Vec<Op>,
    }

    impl Builder {
        fn new() -> Self {
            Builder { ops: Vec::new() }
        }
        #[allow(clippy::too_many_arguments)]
        fn push(
            &mut self,
            thread: u32,
            kind: OpKind,
            outcome: OpOutcome,
            key: Option<u64>,
            value: Option<(u64, u64)>,
            start: u64,
            end: u64,
        ) -> &mut Self {
            let event = self.ops.len() as u64;
            self.ops.push(Op {
                event,
                thread,
                op_index: event,
                kind,
                outcome,
                origin: OpOrigin::Run,
                key,
                value: value.map(|(thread, seq)| Value { thread, seq }),
                start,
                end,
            });
            self
        }
        fn insert(&mut self, thread: u32, k: u64, seq: u64, start: u64, end: u64) -> &mut Self {
            self.push(
                thread,
                OpKind::Insert,
                OpOutcome::Inserted,
                Some(k),
                Some((u64::from(thread), seq)),
                start,
                end,
            )
        }
        fn full(&mut self, thread: u32, start: u64, end: u64) -> &mut Self {
            self.push(thread, OpKind::Insert, OpOutcome::Refused, None, None, start, end)
        }
        fn remove(&mut self, thread: u32, k: u64, ok: bool, start: u64, end: u64) -> &mut Self {
            let outcome = if ok { OpOutcome::Removed } else { OpOutcome::RemoveMissed };
            self.push(thread, OpKind::Remove, outcome, Some(k), None, start, end)
        }
        fn hit(&mut self, thread: u32, k: u64, value: (u64, u64), start: u64, end: u64) -> &mut Self {
            self.push(thread, OpKind::Lookup, OpOutcome::Hit, Some(k), Some(value), start, end)
        }
        fn miss(&mut self, thread: u32, k: u64, start: u64, end: u64) -> &mut Self {
            self.push(thread, OpKind::Lookup, OpOutcome::Miss, Some(k), None, start, end)
        }
        fn history(&self) -> History {
            let mut seg = Segment {
                index: 0,
                begin: Some(TableBegin {
                    segment: 0,
                    clock_ns: 0,
                    backend: "slotscope".into(),
                    description: "test".into(),
                    capacity: Some(N as u64),
                    geometry: Some(geometry()),
                    variant: Variant::Correct,
                }),
                ops: self.ops.clone(),
                ..Segment::default()
            };
            let threads: Vec<u32> = self.ops.iter().map(|o| o.thread).collect();
            seg.threads.extend(threads.iter().copied());
            seg.threads_complete.extend(threads);
            History {
                header: crate::format::tests::sample_header(),
                segments: vec![seg],
                controls: Vec::new(),
                end: None,
                stop: ReadStop::End,
                events: self.ops.len() as u64,
            }
        }
    }

    fn run(h: &History) -> CheckOutcome {
        check(h, &CheckOptions::default())
    }

    fn kinds(found: &[Finding]) -> Vec<FindingKind> {
        found.iter().map(|f| f.kind).collect()
    }

    #[test]
    fn a_valid_history_passes_every_check() {
        let (a, a2, b) = (key(0, 0), key(0, 1), key(8, 0));
        let h = Builder::new()
            .insert(0, a, 0, 0, 10)
            .insert(1, b, 0, 5, 15) // concurrent with the first
            .hit(0, a, (0, 0), 20, 30)
            .hit(1, b, (1, 0), 22, 28)
            .remove(0, a, true, 40, 50)
            .hit(1, b, (1, 0), 45, 60) // overlaps the remove of another key
            .miss(0, a, 55, 65) // the stale key misses
            .remove(0, a, false, 66, 70) // and removes nothing
            .insert(0, a2, 1, 80, 90) // the slot is reused with the next generation
            .miss(0, a, 95, 99)
            .hit(0, a2, (0, 1), 100, 110)
            .history();
        let out = run(&h);
        assert!(out.violations.is_empty(), "{:#?}", out.violations);
        assert!(out.incomplete.is_empty());
        assert_eq!(out.lin.violated, 0);
        assert!(out.lin.ok >= 3, "{:?}", out.lin);
        assert_eq!(out.ops_checked, 11);
    }

    #[test]
    fn a_lookup_racing_the_remove_may_still_hit() {
        let a = key(3, 0);
        let h = Builder::new()
            .insert(0, a, 0, 0, 10)
            .remove(0, a, true, 20, 40)
            .hit(1, a, (0, 0), 30, 50) // overlaps the remove: may have read first
            .history();
        let out = run(&h);
        assert!(out.violations.is_empty(), "{:#?}", out.violations);
    }

    #[test]
    fn stale_reads_are_caught_by_interval_and_by_value() {
        let (a, a2) = (key(2, 0), key(2, 1));
        // The removed value read back after its removal.
        let h = Builder::new()
            .insert(0, a, 7, 0, 10)
            .remove(0, a, true, 20, 30)
            .hit(0, a, (0, 7), 40, 50)
            .history();
        let out = run(&h);
        assert_eq!(kinds(&out.violations), [FindingKind::StaleRead]);
        let f = &out.violations[0];
        assert_eq!(f.op, Some(2));
        assert_eq!(f.evidence, [0, 1]);
        assert!(f.message.contains("event 2 (thread 0, op 2)"), "{}", f.message);
        // The slot reused: the stale key reads the new occupant's value (ptab's bug).
        let h = Builder::new()
            .insert(0, a, 7, 0, 10)
            .remove(0, a, true, 20, 30)
            .insert(1, a2, 3, 40, 50)
            .hit(0, a, (1, 3), 60, 70)
            .history();
        let out = run(&h);
        assert_eq!(kinds(&out.violations), [FindingKind::ForeignValue]);
        // The value's insert, then the stale key's own removal and insert.
        assert_eq!(out.violations[0].evidence, [2, 1, 0]);
        assert!(out.violations[0].message.contains("stored under 2@1"), "{}", out.violations[0].message);
    }

    #[test]
    fn duplicate_live_keys_and_double_removals_are_caught() {
        let a = key(5, 0);
        let h = Builder::new().insert(0, a, 0, 0, 10).insert(1, a, 0, 20, 30).history();
        let out = run(&h);
        assert_eq!(kinds(&out.violations), [FindingKind::DuplicateLiveKey]);
        assert_eq!(out.violations[0].op, Some(1));
        // With a remove in between, handing the key out again is legal.
        let h = Builder::new()
            .insert(0, a, 0, 0, 10)
            .remove(0, a, true, 12, 18)
            .insert(1, a, 0, 20, 30)
            .history();
        assert!(run(&h).violations.is_empty());
        // Removed twice.
        let h = Builder::new()
            .insert(0, a, 0, 0, 10)
            .remove(0, a, true, 12, 18)
            .remove(1, a, true, 20, 30)
            .history();
        let out = run(&h);
        assert_eq!(kinds(&out.violations), [FindingKind::StaleRemove]);
        assert_eq!(out.violations[0].op, Some(2));
        // Two removers racing: exactly one may win. Both winning is a violation even when
        // they overlap.
        let h = Builder::new()
            .insert(0, a, 0, 0, 10)
            .remove(0, a, true, 12, 30)
            .remove(1, a, true, 14, 28)
            .history();
        let out = run(&h);
        assert_eq!(kinds(&out.violations), [FindingKind::NotLinearizable], "{:#?}", out.violations);
        let h = Builder::new()
            .insert(0, a, 0, 0, 10)
            .remove(0, a, true, 12, 30)
            .remove(1, a, false, 14, 28)
            .history();
        assert!(run(&h).violations.is_empty());
    }

    #[test]
    fn lost_inserts_are_caught_unless_events_are_missing() {
        let a = key(1, 0);
        let b =
            Builder::new().insert(0, a, 0, 0, 10).miss(0, a, 20, 30).remove(0, a, false, 40, 50).clone_ops();
        let h = b.history();
        let out = run(&h);
        assert_eq!(kinds(&out.violations), [FindingKind::LostInsert, FindingKind::LostInsert]);
        // The same, but thread 1 dropped events in the meantime: it might have removed the
        // key. Incomplete, not a violation.
        let mut h = b.history();
        h.segments[0].drops.push(DropRecord {
            thread: 1,
            segment: 0,
            count: 3,
            first_op: 0,
            last_op: 2,
            first_ns: 12,
            last_ns: 18,
        });
        let out = run(&h);
        assert!(out.violations.is_empty(), "{:#?}", out.violations);
        assert_eq!(kinds(&out.incomplete), [FindingKind::LostInsert, FindingKind::LostInsert]);
        assert!(out.incomplete[0].message.contains("events are missing"));
        // A thread whose stream never closed: everything after its last op is unknown.
        let mut h = b.history();
        h.segments[0].threads.insert(4);
        let out = run(&h);
        assert!(out.violations.is_empty());
        assert_eq!(out.incomplete.len(), 2);
    }

    #[test]
    fn values_prove_stale_reads_even_with_gaps() {
        let (a, a2) = (key(2, 0), key(2, 1));
        let mut h = Builder::new()
            .insert(0, a, 7, 0, 10)
            .remove(0, a, true, 20, 30)
            .insert(1, a2, 3, 40, 50)
            .hit(0, a, (1, 3), 60, 70)
            .history();
        h.segments[0].threads.insert(9); // an incomplete thread: a gap over everything
        let out = run(&h);
        assert_eq!(kinds(&out.violations), [FindingKind::ForeignValue]);
    }

    #[test]
    fn full_follows_the_definition_of_claims() {
        // 15 live of 16; a refusal with nothing in flight is false.
        let mut b = Builder::new();
        for s in 0..15 {
            b.insert(0, key(s, 0), s as u64, 10 * s as u64, 10 * s as u64 + 5);
        }
        let base = b.clone_ops();
        let mut h = base.clone_ops();
        h.full(1, 500, 510);
        let out = run(&h.history());
        assert_eq!(kinds(&out.violations), [FindingKind::FalseFull]);
        assert!(out.violations[0].message.contains("at most 15 of the 16"), "{}", out.violations[0].message);
        // An insert in flight holds the 16th claim: legal.
        let mut h = base.clone_ops();
        h.insert(2, key(15, 0), 0, 495, 520).full(1, 500, 510);
        assert!(run(&h.history()).violations.is_empty());
        // Another refusal in flight (its claim not yet retracted): legal.
        let mut h = base.clone_ops();
        h.full(2, 498, 505).full(1, 500, 510);
        let out = run(&h.history());
        assert!(out.violations.is_empty(), "{:#?}", out.violations);
        assert_eq!(out.fulls_checked, 2);
        // 16 live, one being removed (unlinked, claim not yet released): legal.
        let mut h = base.clone_ops();
        h.insert(2, key(15, 0), 0, 400, 410).remove(0, key(0, 0), true, 495, 515).full(1, 500, 510);
        assert!(run(&h.history()).violations.is_empty());
        // ... but a remove that ended before the refusal began released its claim.
        let mut h = base.clone_ops();
        h.insert(2, key(15, 0), 0, 400, 410).remove(0, key(0, 0), true, 480, 490).full(1, 500, 510);
        assert_eq!(kinds(&run(&h.history()).violations), [FindingKind::FalseFull]);
    }

    #[test]
    fn more_live_keys_than_slots_is_over_capacity() {
        let mut b = Builder::new();
        for s in 0..=N {
            b.insert(0, key(s % N, (s / N) as u64), s as u64, 10 * s as u64, 10 * s as u64 + 5);
        }
        let out = run(&b.history());
        assert!(kinds(&out.violations).contains(&FindingKind::OverCapacity), "{:#?}", out.violations);
    }

    #[test]
    fn the_end_state_must_match_the_history() {
        let (a, b) = (key(0, 0), key(8, 0));
        let mut h = Builder::new()
            .insert(0, a, 0, 0, 10)
            .insert(0, b, 1, 20, 30)
            .remove(0, b, true, 40, 50)
            .history();
        let mut snap = Snapshot::fresh(geometry());
        // The table lost `a` and still holds `b`.
        snap.set_slot(8, SlotState::Occupied, Some(Key::from_bits(b)));
        h.segments[0].end =
            Some(TableEnd { segment: 0, clock_ns: 100, elements: Some(1), inserted: 2, removed: 1 });
        h.segments[0].final_snapshot =
            Some(SnapshotRecord { segment: 0, started_ns: 100, ended_ns: 100, at_end: true, snapshot: snap });
        let out = run(&h);
        assert_eq!(kinds(&out.violations), [FindingKind::LostInsert, FindingKind::FinalStateMismatch]);
        // A count that does not balance.
        h.segments[0].final_snapshot = None;
        h.segments[0].end =
            Some(TableEnd { segment: 0, clock_ns: 100, elements: Some(3), inserted: 2, removed: 1 });
        assert_eq!(kinds(&run(&h).violations), [FindingKind::CountMismatch]);
    }

    #[test]
    fn periodic_snapshots_must_fall_within_the_bounds() {
        let (a, b) = (key(0, 0), key(8, 0));
        let mut h = Builder::new()
            .insert(0, a, 0, 0, 10)
            .insert(1, b, 0, 100, 110)
            .remove(0, a, true, 200, 210)
            .history();
        // During [50, 60] exactly `a` is live: 1 is right, 0 lost it, 2 saw something extra.
        h.segments[0].snapshots = vec![(50, 60, 1)];
        assert!(run(&h).violations.is_empty());
        // Scanning [105, 205], anything from 0 (`a` removed before the scan reached it, `b`
        // not yet in) to 2 is possible.
        h.segments[0].snapshots = vec![(105, 205, 0), (105, 205, 2)];
        assert!(run(&h).violations.is_empty());
        h.segments[0].snapshots = vec![(50, 60, 0)];
        assert_eq!(kinds(&run(&h).violations), [FindingKind::CountMismatch]);
        h.segments[0].snapshots = vec![(50, 60, 2)];
        assert_eq!(kinds(&run(&h).violations), [FindingKind::CountMismatch]);
    }

    impl Builder {
        fn clone_ops(&self) -> Builder {
            Builder { ops: self.ops.clone() }
        }
    }
}
