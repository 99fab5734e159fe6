//! Per key: what the streaming checker remembers about a key, the named per-key checks, and
//! the key's linearizability windows.
//!
//! A key's successful inserts and removes are taken in when they are read ([`Keys::ingest`]),
//! and each op on the key is decided later ([`Keys::decide`]), once every op that could
//! precede it or overlap it has been read. Deciding an op compares it with the key's inserts
//! and removes by the precedence rule ([`Precedence`]). Inserts and removes that surely
//! precede everything still to be decided are folded into two counts (the latest of each is
//! kept, to name in messages); a key whose inserts and removes balance and have all been
//! folded is forgotten. A key met again after that starts afresh, as a key that is not live:
//! forgetting a dead key changes no count the checks compare. So memory follows the live keys
//! and the ops not yet decided, not the length of the history.

use std::collections::VecDeque;

use rustc_hash::FxHashMap as HashMap;

use super::findings::{CheckOptions, Finding, FindingKind, LinStats};
use super::lin::{check_window, step, KeyState, SearchLimits, WindowResult};
use super::{value_text, KeyText, Op};
use crate::op::{OpKind, OpOutcome, Value};

/// The precedence rule: A surely precedes B when both ran on the same thread and A came
/// first, or when `A.end + ε < B.start`. ε covers the clock's resolution and the offset
/// between cores' clocks (from the trace's header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Precedence {
    /// ε, ns.
    pub eps: u64,
    /// ⌈ε/2⌉: how far intervals are widened on each side where ops are compared with an
    /// instant (capacity, snapshots) or with each other in the linearizability search.
    pub half: u64,
}

impl Precedence {
    /// The rule for `eps`.
    pub fn new(eps: u64) -> Self {
        Precedence { eps, half: eps.div_ceil(2) }
    }

    /// Whether `a` surely precedes `b`.
    #[inline]
    pub fn surely_before(&self, a: &Op, b: &Op) -> bool {
        (a.thread == b.thread && a.event < b.event) || a.end.saturating_add(self.eps) < b.start
    }
}

/// A finding with how much it rests on: `definite` findings rest on value identities alone
/// (no missing op can explain them); the others are incomplete when their span touches a
/// gap.
#[derive(Clone, Debug)]
pub(crate) struct Filed {
    pub finding: Finding,
    pub definite: bool,
}

/// Files one finding of the op being decided: (kind, evidence, message, definite).
type FileFinding<'a> = dyn Fn(&mut Vec<Filed>, FindingKind, Vec<Op>, String, bool) + 'a;

fn is_insert(o: &Op) -> bool {
    o.kind == OpKind::Insert && o.outcome == OpOutcome::Inserted
}

fn is_remove(o: &Op) -> bool {
    o.kind == OpKind::Remove && o.outcome == OpOutcome::Removed
}

/// Where a key's linearizability search stands.
#[derive(Clone, Debug)]
struct LinKey {
    /// Decided ops not yet in a searched window.
    buf: Vec<Op>,
    /// The states the last window can end in (at first: free).
    states: Vec<KeyState>,
    /// No more searching for this key (a violation, an unknown window, a failed named check).
    off: bool,
    /// Counted in [`LinStats::keys`].
    counted: bool,
}

#[derive(Clone, Debug)]
struct KeyEntry {
    key: u64,
    /// Successful inserts and removes not folded, in the order read.
    hist: Vec<Op>,
    /// The latest-ending folded insert and remove (for messages and value lookups).
    rep_ins: Option<Op>,
    rep_rem: Option<Op>,
    folded_ins: u32,
    folded_rem: u32,
    /// Start of the earliest op read, and whether it is a successful insert: findings on a
    /// key whose history does not begin with its insert rest on the whole history before
    /// them.
    earliest_start: u64,
    earliest_is_insert: bool,
    /// The latest decided lookup hit.
    last_hit: Option<Op>,
    /// Ops read and not yet decided.
    pending: u32,
    /// A named check failed on it.
    failed: bool,
    /// In the retire queue.
    queued: bool,
    lin: LinKey,
}

impl KeyEntry {
    fn new(key: u64, first: &Op) -> Self {
        KeyEntry {
            key,
            hist: Vec::new(),
            rep_ins: None,
            rep_rem: None,
            folded_ins: 0,
            folded_rem: 0,
            earliest_start: first.start,
            earliest_is_insert: is_insert(first),
            last_hit: None,
            pending: 0,
            failed: false,
            queued: false,
            lin: LinKey { buf: Vec::new(), states: vec![None], off: false, counted: false },
        }
    }

    /// Empties the entry for `key`, keeping its vectors' room.
    fn reset(&mut self, key: u64, first: &Op) {
        let mut hist = std::mem::take(&mut self.hist);
        let mut buf = std::mem::take(&mut self.lin.buf);
        let mut states = std::mem::take(&mut self.lin.states);
        hist.clear();
        buf.clear();
        states.clear();
        states.push(None);
        *self = KeyEntry::new(key, first);
        self.hist = hist;
        self.lin.buf = buf;
        self.lin.states = states;
    }

    fn inserts(&self) -> u32 {
        self.folded_ins + self.hist.iter().filter(|o| is_insert(o)).count() as u32
    }

    fn removes(&self) -> u32 {
        self.folded_rem + self.hist.iter().filter(|o| is_remove(o)).count() as u32
    }

    /// The start of the stretch of history a finding about this key rests on: its insert's
    /// start when its recorded history begins with one, else the whole history (0).
    fn span_start(&self) -> u64 {
        if self.earliest_is_insert {
            self.earliest_start
        } else {
            0
        }
    }
}

/// Every key of one table segment.
pub(crate) struct Keys {
    prec: Precedence,
    text: KeyText,
    limits: SearchLimits,
    linearizability: bool,
    map: HashMap<u64, usize>,
    slab: Vec<KeyEntry>,
    free: Vec<usize>,
    /// Value -> the key whose tracked insert stored it.
    stored: HashMap<Value, u64>,
    /// Per inserting thread tag, the highest value sequence number an insert stored.
    max_seq: HashMap<u64, u64>,
    /// Keys that may be dead, with the time after which to look.
    retire: VecDeque<(u64, u64)>,
    /// Ops being folded (kept to save an allocation per fold).
    scratch: Vec<Op>,
    /// Keys seen (each time a key is met afresh).
    pub seen: u64,
    pub lin: LinStats,
    pub lin_time: std::time::Duration,
    pub peak: usize,
}

impl Keys {
    pub(crate) fn new(prec: Precedence, text: KeyText, options: &CheckOptions) -> Self {
        Keys {
            prec,
            text,
            limits: SearchLimits { time: options.window_time_limit, max_ops: options.max_window_ops },
            linearizability: options.linearizability,
            map: HashMap::default(),
            slab: Vec::new(),
            free: Vec::new(),
            stored: HashMap::default(),
            max_seq: HashMap::default(),
            scratch: Vec::new(),
            retire: VecDeque::new(),
            seen: 0,
            lin: LinStats::default(),
            lin_time: std::time::Duration::ZERO,
            peak: 0,
        }
    }

    /// Takes in an op as it is read (before it is decided).
    pub(crate) fn ingest(&mut self, op: &Op) {
        let Some(key) = op.key else { return };
        let idx = match self.map.get(&key) {
            Some(&i) => i,
            None => {
                let i = match self.free.pop() {
                    Some(i) => {
                        // Reuses the freed entry's vectors.
                        self.slab[i].reset(key, op);
                        i
                    }
                    None => {
                        self.slab.push(KeyEntry::new(key, op));
                        self.slab.len() - 1
                    }
                };
                self.map.insert(key, i);
                self.seen += 1;
                self.peak = self.peak.max(self.map.len());
                i
            }
        };
        let e = &mut self.slab[idx];
        e.pending += 1;
        if op.start < e.earliest_start {
            e.earliest_start = op.start;
            e.earliest_is_insert = is_insert(op);
        }
        if is_insert(op) || is_remove(op) {
            e.hist.push(*op);
        }
        if is_insert(op) {
            if let Some(v) = op.value {
                self.stored.insert(v, key);
                let m = self.max_seq.entry(v.thread).or_insert(0);
                *m = (*m).max(v.seq);
            }
        }
    }

    /// Folds the inserts and removes of `idx` that surely precede every op still to decide
    /// (all of which start at or after `horizon`).
    fn fold(&mut self, idx: usize, horizon: u64) {
        let eps = self.prec.eps;
        let foldable = |o: &Op| o.end.saturating_add(eps) < horizon;
        if !self.slab[idx].hist.iter().any(foldable) {
            return;
        }
        let mut folded = std::mem::take(&mut self.scratch);
        let e = &mut self.slab[idx];
        e.hist.retain(|o| {
            if foldable(o) {
                folded.push(*o);
                false
            } else {
                true
            }
        });
        let key = e.key;
        for o in folded.drain(..) {
            let (count, rep) = if is_insert(&o) {
                (&mut e.folded_ins, &mut e.rep_ins)
            } else {
                (&mut e.folded_rem, &mut e.rep_rem)
            };
            *count += 1;
            let replaced = match rep {
                Some(r) if r.end >= o.end => Some(o),
                _ => rep.replace(o),
            };
            // An insert no longer kept stops answering for its value.
            if let Some(gone) = replaced.filter(is_insert).and_then(|g| g.value) {
                if self.stored.get(&gone) == Some(&key) {
                    self.stored.remove(&gone);
                }
            }
        }
        self.scratch = folded;
    }

    /// Decides `x` (an op on a key, taken in before), filing what it finds; `horizon` bounds
    /// from below the start of every op not yet decided.
    pub(crate) fn decide(&mut self, x: &Op, horizon: u64, filed: &mut Vec<Filed>) {
        let Some(key) = x.key else { return };
        let Some(&idx) = self.map.get(&key) else { return };
        self.fold(idx, horizon);
        let before = filed.len();
        self.named_checks(idx, x, filed);
        let e = &mut self.slab[idx];
        e.pending = e.pending.saturating_sub(1);
        if x.kind == OpKind::Lookup
            && x.outcome == OpOutcome::Hit
            && e.last_hit.is_none_or(|h| h.end <= x.end)
        {
            e.last_hit = Some(*x);
        }
        if filed.len() > before && !e.failed {
            e.failed = true;
            if !e.lin.off {
                e.lin.off = true;
                e.lin.buf = Vec::new();
                self.lin.skipped_keys += 1;
            }
        }
        if self.linearizability && !e.lin.off {
            e.lin.buf.push(*x);
            self.close_windows(idx, horizon, filed);
        }
        let e = &mut self.slab[idx];
        if e.pending == 0 && !e.queued && e.inserts() <= e.removes() {
            e.queued = true;
            self.retire.push_back((x.end, key));
        }
    }

    /// The named checks of one op (see `docs/CHECKING.md`).
    fn named_checks(&self, idx: usize, x: &Op, filed: &mut Vec<Filed>) {
        let e = &self.slab[idx];
        let p = self.prec;
        let text = self.text;
        let ks = || text.show(e.key);
        let ins = || e.hist.iter().filter(|o| is_insert(o) && o.event != x.event);
        let rem = || e.hist.iter().filter(|o| is_remove(o) && o.event != x.event);
        // The latest-ending op of `it` that surely precedes x, else the folded one.
        let latest_before = |it: &mut dyn Iterator<Item = &Op>, rep: Option<Op>| {
            it.filter(|o| p.surely_before(o, x)).max_by_key(|o| o.end).copied().or(rep)
        };
        let span = (e.span_start(), x.end);
        let file = |filed: &mut Vec<Filed>, kind, evidence: Vec<Op>, message: String, definite| {
            filed.push(Filed {
                finding: Finding {
                    kind,
                    segment: 0,
                    op: Some(*x),
                    evidence,
                    key: Some(e.key),
                    message,
                    span,
                },
                definite,
            });
        };
        let surely_ins = || e.folded_ins as usize + ins().filter(|i| p.surely_before(i, x)).count();
        let possible_ins = || e.folded_ins as usize + ins().filter(|i| !p.surely_before(x, i)).count();
        let surely_rem = || e.folded_rem as usize + rem().filter(|r| p.surely_before(r, x)).count();
        let possible_rem = || e.folded_rem as usize + rem().filter(|r| !p.surely_before(x, r)).count();
        match (x.kind, x.outcome) {
            (OpKind::Insert, OpOutcome::Inserted) if surely_ins() > possible_rem() => {
                let prev = latest_before(&mut ins(), e.rep_ins);
                let message = format!(
                        "{} handed out {}, which was live: {} returned it and no remove of it could have come between",
                        x.label(),
                        ks(),
                        prev.map_or_else(|| "an earlier insert".to_owned(), |p| p.label())
                    );
                file(filed, FindingKind::DuplicateLiveKey, prev.into_iter().collect(), message, false);
            }
            (OpKind::Remove, OpOutcome::Removed) if surely_rem() >= possible_ins() => {
                let prev = latest_before(&mut rem(), e.rep_rem);
                let message = match prev {
                        Some(p) => format!(
                            "{} removed {}, which {} had already removed (no insert could have made it live again)",
                            x.label(),
                            ks(),
                            p.label()
                        ),
                        None => format!("{} removed {}, which no insert had handed out", x.label(), ks()),
                    };
                file(filed, FindingKind::StaleRemove, prev.into_iter().collect(), message, false);
            }
            (OpKind::Lookup, OpOutcome::Hit) => {
                if let Some(v) = x.value {
                    if self.value_checks(e, x, v, filed, &file) {
                        return;
                    }
                }
                if possible_ins() <= surely_rem() {
                    let prev = latest_before(&mut rem(), e.rep_rem);
                    let message = format!(
                        "{} found {}, which was surely not live{}",
                        x.label(),
                        ks(),
                        prev.map_or_else(
                            || " (never handed out, or removed before the checker's memory of it: dead keys are forgotten)".to_owned(),
                            |p| format!(": {} had removed it", p.label())
                        )
                    );
                    file(filed, FindingKind::StaleRead, prev.into_iter().collect(), message, false);
                }
            }
            (OpKind::Lookup, OpOutcome::Miss) | (OpKind::Remove, OpOutcome::RemoveMissed)
                if surely_ins() > possible_rem() =>
            {
                let prev = latest_before(&mut ins(), e.rep_ins);
                // The last op that still saw the key: the element was lost after it began.
                let last_seen = e
                    .last_hit
                    .filter(|h| p.surely_before(h, x))
                    .filter(|h| prev.is_none_or(|p| h.start > p.start));
                let message = format!(
                    "{} did not find {}, which was surely live: {} had handed it out and no remove of it could have come first{}",
                    x.label(),
                    ks(),
                    prev.map_or_else(|| "an insert".to_owned(), |p| p.label()),
                    last_seen.map_or_else(String::new, |h| format!("; {} still found it", h.label()))
                );
                file(
                    filed,
                    FindingKind::LostInsert,
                    prev.into_iter().chain(last_seen).collect(),
                    message,
                    false,
                );
            }
            _ => {}
        }
    }

    /// The checks a hit's value allows; true when one of them filed a finding.
    fn value_checks(
        &self,
        e: &KeyEntry,
        x: &Op,
        v: Value,
        filed: &mut Vec<Filed>,
        file: &FileFinding<'_>,
    ) -> bool {
        let p = self.prec;
        let ks = || self.text.show(e.key);
        let own = e.hist.iter().copied().chain(e.rep_ins).find(|o| is_insert(o) && o.value == Some(v));
        if let Some(j) = own {
            if p.surely_before(x, &j) {
                let message = format!(
                    "{} returned value {}, which {} stored only after it",
                    x.label(),
                    value_text(v),
                    j.label()
                );
                file(filed, FindingKind::PhantomValue, vec![j], message, true);
                return true;
            }
            let between = e
                .hist
                .iter()
                .copied()
                .chain(e.rep_rem)
                .filter(is_remove)
                .find(|r| p.surely_before(&j, r) && p.surely_before(r, x));
            if let Some(r) = between {
                let message = format!(
                    "{} found {} with value {}, but {} had removed it before the lookup began",
                    x.label(),
                    ks(),
                    value_text(v),
                    r.label()
                );
                file(filed, FindingKind::StaleRead, vec![j, r], message, true);
                return true;
            }
            return false;
        }
        if let Some(&other) = self.stored.get(&v).filter(|&&k| k != e.key) {
            let j = self.map.get(&other).and_then(|&i| {
                let o = &self.slab[i];
                o.hist.iter().copied().chain(o.rep_ins).find(|o| is_insert(o) && o.value == Some(v))
            });
            // The value's insert, and this key's own story: its last removal and insert.
            let removal = e.hist.iter().copied().chain(e.rep_rem).filter(is_remove).max_by_key(|r| r.end);
            let own_insert = e.hist.iter().copied().chain(e.rep_ins).filter(is_insert).max_by_key(|i| i.end);
            let message = format!(
                "{} looked up {} and got value {}, which {} stored under {}",
                x.label(),
                ks(),
                value_text(v),
                j.map_or_else(|| "an insert".to_owned(), |j| j.label()),
                self.text.show(other)
            );
            file(
                filed,
                FindingKind::ForeignValue,
                [j, removal, own_insert].into_iter().flatten().collect(),
                message,
                true,
            );
            return true;
        }
        if self.max_seq.get(&v.thread).is_none_or(|&m| v.seq > m) {
            let message =
                format!("{} returned value {}, which no recorded insert stored", x.label(), value_text(v));
            file(filed, FindingKind::PhantomValue, Vec::new(), message, false);
            return true;
        }
        let own_values = e.hist.iter().copied().chain(e.rep_ins).any(|o| is_insert(&o) && o.value.is_some());
        if own_values {
            let k = ks();
            let message = format!(
                "{} found {k} with value {}, which none of the inserts of {k} the checker holds stored (an insert it no longer tracks did, or none)",
                x.label(),
                value_text(v)
            );
            file(filed, FindingKind::PhantomValue, Vec::new(), message, false);
            return true;
        }
        false
    }

    /// Searches the windows of `idx` that no op still to decide can join.
    fn close_windows(&mut self, idx: usize, horizon: u64, filed: &mut Vec<Filed>) {
        let half = self.prec.half;
        let limits = self.limits;
        let e = &mut self.slab[idx];
        if e.lin.off || e.lin.buf.is_empty() {
            return;
        }
        let edge = horizon.saturating_sub(half);
        // Widened intervals: ops on other threads closer than ε may have run in either order.
        let lo = |o: &Op| o.start.saturating_sub(half);
        let hi = |o: &Op| o.end.saturating_add(half);
        if e.lin.buf.len() > 1 {
            e.lin.buf.sort_by_key(|o| (o.start, o.end, o.event));
        }
        loop {
            let buf = &e.lin.buf;
            if buf.is_empty() {
                return;
            }
            let mut reach = hi(&buf[0]);
            let mut n = 1;
            while n < buf.len() && lo(&buf[n]) <= reach {
                reach = reach.max(hi(&buf[n]));
                n += 1;
            }
            if reach >= edge {
                // A later op may still overlap this window.
                if buf.len() > limits.max_ops {
                    e.lin.off = true;
                    e.lin.buf = Vec::new();
                    self.lin.unknown += 1;
                    self.lin.windows += 1;
                }
                return;
            }
            if !e.lin.counted {
                e.lin.counted = true;
                self.lin.keys += 1;
            }
            self.lin.windows += 1;
            self.lin.largest_window = self.lin.largest_window.max(n);
            let result = if n == 1 {
                // One op alone: its effect on each state in place, no search (and no clock
                // reading).
                let op = buf[0];
                let states = &mut e.lin.states;
                let mut kept = 0;
                for i in 0..states.len() {
                    if let Some(next) = step(states[i], &op) {
                        if !states[..kept].contains(&next) {
                            states[kept] = next;
                            kept += 1;
                        }
                    }
                }
                if kept == 0 {
                    WindowResult::Violation { op: 0, depth: 0 }
                } else {
                    states.truncate(kept);
                    WindowResult::Ok(Vec::new())
                }
            } else {
                let started = std::time::Instant::now();
                let widened: Vec<Op> =
                    buf[..n].iter().map(|o| Op { start: lo(o), end: hi(o).max(lo(o)), ..*o }).collect();
                let refs: Vec<&Op> = widened.iter().collect();
                let r = check_window(&refs, &e.lin.states, limits);
                self.lin_time += started.elapsed();
                if let WindowResult::Ok(next) = &r {
                    e.lin.states.clone_from(next);
                }
                r
            };
            match result {
                WindowResult::Ok(_) => {
                    self.lin.ok += 1;
                    e.lin.buf.drain(..n);
                }
                WindowResult::Unknown => {
                    self.lin.unknown += 1;
                    e.lin.off = true;
                    e.lin.buf = Vec::new();
                    return;
                }
                WindowResult::Violation { op, depth } => {
                    self.lin.violated += 1;
                    let bad = buf[op];
                    let evidence: Vec<Op> =
                        buf[..n].iter().copied().filter(|o| o.event != bad.event).collect();
                    let message = format!(
                        "no order of the {n} ops on {} in this window (within their intervals, widened by ε/2 = {half} ns) explains their results; \
                         the search placed at most {depth} before {} could not take effect",
                        self.text.show(e.key),
                        bad.label()
                    );
                    let span = (e.span_start(), reach);
                    filed.push(Filed {
                        finding: Finding {
                            kind: FindingKind::NotLinearizable,
                            segment: 0,
                            op: Some(bad),
                            evidence,
                            key: Some(e.key),
                            message,
                            span,
                        },
                        definite: false,
                    });
                    e.lin.off = true;
                    e.lin.buf = Vec::new();
                    return;
                }
            }
        }
    }

    /// Forgets dead keys whose ops are all decided and surely precede everything still to
    /// decide.
    pub(crate) fn retire_ready(&mut self, horizon: u64, filed: &mut Vec<Filed>) {
        let margin = self.prec.eps.saturating_mul(2);
        while let Some(&(t, key)) = self.retire.front() {
            if t.saturating_add(margin) >= horizon {
                return;
            }
            self.retire.pop_front();
            let Some(&idx) = self.map.get(&key) else { continue };
            self.slab[idx].queued = false;
            if self.slab[idx].pending > 0 {
                continue;
            }
            self.fold(idx, horizon);
            let e = &self.slab[idx];
            if let Some(last) = e.hist.iter().map(|o| o.end).max() {
                self.slab[idx].queued = true;
                self.retire.push_back((last, key));
                continue;
            }
            if e.folded_ins > e.folded_rem {
                continue;
            }
            self.close_windows(idx, u64::MAX, filed);
            self.forget(idx);
        }
    }

    fn forget(&mut self, idx: usize) {
        let e = &self.slab[idx];
        let key = e.key;
        for v in e.rep_ins.iter().chain(e.hist.iter()).filter(|o| is_insert(o)).filter_map(|o| o.value) {
            if self.stored.get(&v) == Some(&key) {
                self.stored.remove(&v);
            }
        }
        self.map.remove(&key);
        // The vectors keep their room for the next key in this entry.
        self.slab[idx].reset(0, &EMPTY);
        self.free.push(idx);
    }

    /// The end of the segment: every window searched.
    pub(crate) fn flush(&mut self, filed: &mut Vec<Filed>) {
        let live: Vec<usize> = self.map.values().copied().collect();
        for idx in live {
            self.close_windows(idx, u64::MAX, filed);
        }
    }

    /// Keys the history leaves live (inserts minus removes, when positive), with the latest
    /// insert of each.
    pub(crate) fn live(&self) -> Vec<(u64, u32, Option<Op>)> {
        self.map
            .values()
            .map(|&i| &self.slab[i])
            .filter_map(|e| {
                let n = e.inserts().saturating_sub(e.removes());
                let last = e.hist.iter().copied().chain(e.rep_ins).filter(is_insert).max_by_key(|o| o.end);
                (n > 0).then_some((e.key, n, last))
            })
            .collect()
    }

    /// The latest op of `key` the checker still holds.
    pub(crate) fn last_op(&self, key: u64) -> Option<Op> {
        let e = &self.slab[*self.map.get(&key)?];
        e.hist.iter().copied().chain(e.rep_ins).chain(e.rep_rem).chain(e.last_hit).max_by_key(|o| o.end)
    }
}

/// A placeholder for freed slab entries.
const EMPTY: Op = Op {
    event: 0,
    thread: 0,
    op_index: 0,
    kind: OpKind::Lookup,
    outcome: OpOutcome::Miss,
    origin: crate::op::OpOrigin::Run,
    key: None,
    value: None,
    start: 0,
    end: 0,
};
