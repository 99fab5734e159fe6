//! One stress thread: draws choices, runs them against the backend, checks what comes back,
//! counts and times it, and looks at its inbox between batches.
//!
//! The hot loop (`Worker::run_batch`) touches only the worker's own memory (its counters,
//! histograms, held keys) and the backend. Everything shared happens at batch boundaries
//! (`Worker::end_batch`): publishing counters, renewing the epoch pin, depositing histograms
//! for the sampler, closing series intervals, reading the inbox. Nothing in the loop
//! allocates: held keys and the stale-key ring are reserved up front (the held list may grow
//! past its reservation, the prefill share plus an eighth of the fair share, if the thread
//! ends up holding more; that is amortised and rare). In open loop a worker that must wait
//! for its next op sleeps outside its session, holding no epoch pin.

use crate::engine::held::{HeldKey, HeldKeys, StaleKeys};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crate::backend::{Backend, Session};
use crate::engine::check::{Violation, ViolationKind, ViolationLog};
use crate::engine::control::{
    worker_violation_log, ExitSignal, StartGate, ThreadShared, ThreadState, WorkerSettings,
};
use crate::engine::event::OpSink;
use crate::engine::mix::{scale, Choice, ChoiceStream, KeyPicker};
use crate::engine::pacing::{open_loop_latency, pace, OpenLoopSchedule, Pace};
use crate::engine::stats::{IntervalRecord, OpLatencyData};
use crate::engine::stats::{LatencySet, WorkerProbe};
use crate::engine::timer::Clock;
use crate::machine::pin::pin_current_thread;
use crate::recorder::ThreadSink;
use crate::scenario::spec::RemoveOrder;
use crate::sync::{lock, try_lock};
use slotscope_trace::OpKind;
use slotscope_trace::Value;
use slotscope_trace::{Counter, Counts};
use slotscope_trace::{OpEvent, OpOrigin, OpOutcome};

/// Ops per batch in closed loop: the unit between looks at the inbox and epoch repins.
pub const BATCH_OPS: u64 = 256;
/// In open loop a batch lasts at most about this long (batches shrink at low rates so that
/// control stays responsive).
pub const OPEN_LOOP_BATCH_SPAN: Duration = Duration::from_millis(10);
/// Longest single sleep of a paused or pacing worker before it looks at its inbox again.
pub const IDLE_POLL: Duration = Duration::from_millis(10);
/// Most held keys a worker reserves room for up front (4 Mi keys, 64 MiB).
pub const HELD_RESERVE_MAX: usize = 1 << 22;
/// Most series intervals a worker keeps (an hour at the default 1 s); later ones are counted
/// as dropped.
pub const MAX_SERIES_INTERVALS: usize = 3600;

/// What an op did: its outcome, the key it used or got, and the value it stored or found.
type OpResult = (OpOutcome, Option<u64>, Option<Value>);

/// What [`Worker::run_lean`] counts per batch.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    inserts: u64,
    removes: u64,
    lookup_skips: u64,
    remove_skips: u64,
    misses: u64,
    refused: u64,
    remove_failed: u64,
}

/// What a worker carries over a table restart (its stream continues where it was).
#[derive(Clone, Debug)]
pub(crate) struct WorkerCarry {
    pub(crate) stream: ChoiceStream,
    pub(crate) next_seq: u64,
}

/// Everything a worker needs to start (the backend aside: the spawner monomorphises on it).
pub(crate) struct WorkerSetup {
    pub(crate) shared: Arc<ThreadShared>,
    pub(crate) clock: Clock,
    /// Held by initial workers until the clock starts; later workers get the start directly.
    pub(crate) gate: Option<Arc<StartGate>>,
    pub(crate) run_start_ns: u64,
    pub(crate) stream: ChoiceStream,
    pub(crate) next_seq: u64,
    pub(crate) prefill: u64,
    pub(crate) budget: Option<usize>,
    pub(crate) stop_after: Option<u64>,
    pub(crate) time_every: u32,
    pub(crate) series_interval_ns: u64,
    /// Keys to reserve room for.
    pub(crate) expected_keys: usize,
    /// Told when the worker exits.
    pub(crate) exits: Arc<ExitSignal>,
    /// Where the worker's events go when the run is recorded (taken by the spawner).
    pub(crate) sink: Option<ThreadSink>,
    /// Contention probes wanted (with heat where `shared.heat` is kept, counts only without).
    pub(crate) probes: bool,
}

/// A thread's results: what a worker hands back when it exits, and (merged with
/// [`ThreadResult::merge`]) what the engine keeps of a thread over table restarts.
#[derive(Debug)]
pub(crate) struct ThreadResult {
    pub(crate) index: usize,
    pub(crate) group: String,
    pub(crate) counts: Counts,
    pub(crate) latency: LatencySet,
    pub(crate) series: Vec<IntervalRecord>,
    pub(crate) series_dropped: u64,
    pub(crate) violations: ViolationLog,
    pub(crate) inserted: u64,
    pub(crate) removed: u64,
    pub(crate) prefilled: u64,
    pub(crate) held_at_end: usize,
    /// The first start (a restarted thread keeps its first).
    pub(crate) started_ns: u64,
    /// The last stop.
    pub(crate) stopped_ns: u64,
    pub(crate) paused_ns: u64,
    pub(crate) core: Option<usize>,
    pub(crate) wanted_core: Option<usize>,
    pub(crate) state: ThreadState,
    /// Where its op stream stands (for the digest, and to go on after a restart).
    pub(crate) carry: WorkerCarry,
}

impl ThreadResult {
    /// Adds a later life of the same thread (after a table restart): counters, histograms,
    /// series and violations add up; the end, the core, the state and the carry are the
    /// later one's.
    pub(crate) fn merge(&mut self, later: ThreadResult) {
        self.counts.add(&later.counts);
        self.latency.add(&later.latency);
        self.series.extend(later.series);
        self.series_dropped += later.series_dropped;
        self.violations.merge(&later.violations);
        self.inserted += later.inserted;
        self.removed += later.removed;
        self.prefilled += later.prefilled;
        self.held_at_end = later.held_at_end;
        self.stopped_ns = later.stopped_ns;
        self.paused_ns += later.paused_ns;
        self.core = later.core;
        self.wanted_core = later.wanted_core;
        self.state = later.state;
        self.carry = later.carry;
    }
}

pub(crate) struct Worker<B: Backend, P: WorkerProbe, S: OpSink> {
    backend: Arc<B>,
    shared: Arc<ThreadShared>,
    index: usize,
    thread_tag: u64,
    clock: Clock,
    probe: P,
    sink: S,

    stream: ChoiceStream,
    picker: KeyPicker,
    /// Oldest first (a deque, so that removes may take the oldest key in O(1)).
    held: HeldKeys,
    stale: StaleKeys,
    next_seq: u64,
    budget: Option<usize>,
    stop_after: Option<u64>,

    counts: Counts,
    inserted: u64,
    removed: u64,
    prefill: u64,
    prefilled: u64,
    violations: ViolationLog,
    violations_published: usize,

    time_every: u64,
    until_timed: u64,
    schedule: Option<OpenLoopSchedule>,
    rate: Option<f64>,
    /// Clock reading at which the next injected stall is due (`u64::MAX`: none).
    hiccup_at: u64,
    /// Hold at most this many keys: an insert beyond it first removes the oldest
    /// (`usize::MAX`: no limit).
    keep: usize,

    fresh: LatencySet,
    total: LatencySet,
    series_acc: LatencySet,
    pending: LatencySet,
    pending_full: bool,

    series: Vec<IntervalRecord>,
    series_dropped: u64,
    series_interval_ns: u64,
    series_start_ns: u64,
    next_series_ns: u64,
    series_counts_at: Counts,

    gate: Option<Arc<StartGate>>,
    run_start_ns: u64,
    started_ns: u64,
    paused_ns: u64,
    seen_generation: u64,
    settings: WorkerSettings,
    reset_epoch: u64,
    state: ThreadState,
}

impl<B: Backend, P: WorkerProbe, S: OpSink> Worker<B, P, S> {
    pub(crate) fn new(backend: Arc<B>, setup: WorkerSetup, probe: P, sink: S) -> Self {
        // The generation first, then the settings: a change that lands in between bumps the
        // generation past the one seen, so the first poll picks it up. (Read the other way
        // round, a stop sent while the worker was being built was lost and the worker ran on
        // forever, its joiner waiting.)
        let seen_generation = setup.shared.inbox.generation.load(Ordering::Acquire);
        let settings = setup.shared.settings();
        let index = setup.shared.index;
        let time_every = u64::from(setup.time_every.max(1));
        // Room for the prefill plus a margin; a thread that ends up holding more grows the list
        // (amortised, rare). Capped so that a huge table does not reserve gigabytes per thread.
        let prefill = usize::try_from(setup.prefill).unwrap_or(usize::MAX);
        let reserve =
            prefill.saturating_add(setup.expected_keys / 8).saturating_add(1024).min(HELD_RESERVE_MAX);
        Worker {
            index,
            thread_tag: index as u64,
            clock: setup.clock,
            probe,
            sink,
            picker: settings.keys.clone(),
            stream: setup.stream,
            held: HeldKeys::with_capacity(setup.budget.map_or(reserve, |b| b.min(reserve))),
            stale: StaleKeys::new(),
            next_seq: setup.next_seq,
            budget: setup.budget,
            stop_after: setup.stop_after,
            counts: Counts::ZERO,
            inserted: 0,
            removed: 0,
            prefill: setup.prefill,
            prefilled: 0,
            violations: worker_violation_log(),
            violations_published: 0,
            time_every,
            until_timed: time_every,
            schedule: None,
            rate: None,
            hiccup_at: u64::MAX,
            keep: usize::MAX,
            fresh: LatencySet::new(),
            total: LatencySet::new(),
            series_acc: LatencySet::new(),
            pending: LatencySet::new(),
            pending_full: false,
            series: Vec::new(),
            series_dropped: 0,
            series_interval_ns: setup.series_interval_ns.max(1),
            series_start_ns: 0,
            next_series_ns: u64::MAX,
            series_counts_at: Counts::ZERO,
            gate: setup.gate,
            run_start_ns: setup.run_start_ns,
            started_ns: 0,
            paused_ns: 0,
            seen_generation,
            reset_epoch: settings.reset_epoch,
            settings,
            state: ThreadState::Starting,
            backend,
            shared: setup.shared,
        }
    }

    fn set_state(&mut self, s: ThreadState) {
        self.state = s;
        self.shared.set_state(s);
    }

    /// The whole life of the worker. Run under `catch_unwind` by the engine; if it unwinds,
    /// [`Worker::into_outcome`] still reports what was counted.
    pub(crate) fn run(&mut self) {
        self.shared.register_thread();
        self.apply_core(self.settings.core);
        self.set_state(ThreadState::Prefilling);
        self.prefill_share();
        if let Some(gate) = self.gate.take() {
            gate.arrive();
            self.run_start_ns = gate.wait_open();
        }
        let now = self.clock.now_ns();
        self.started_ns = now;
        self.series_start_ns = now.max(self.run_start_ns);
        self.next_series_ns = self.next_boundary_after(now);
        self.apply_rate(self.settings.rate, now);
        self.apply_hiccup(now);
        self.keep = self.settings.keep.unwrap_or(usize::MAX);
        self.stream.set_mix(self.settings.mix);
        self.stream.set_stale_share(self.settings.stale_share);
        self.stream.set_picker(&self.picker);
        self.publish();

        loop {
            self.poll_inbox();
            if self.settings.stop || self.is_done() {
                break;
            }
            if self.settings.paused {
                self.pause();
                continue;
            }
            self.set_state(ThreadState::Running);
            if !self.sleep_until_due() {
                continue;
            }
            let backend = Arc::clone(&self.backend);
            let mut session = backend.session();
            loop {
                let n = self.batch_len();
                let idle = self.run_batch(&mut session, n);
                session.repin();
                self.end_batch();
                if self.poll_inbox() && (self.settings.stop || self.settings.paused) || self.is_done() || idle
                {
                    break;
                }
            }
        }
        let backend = Arc::clone(&self.backend);
        let mut session = backend.session();
        self.final_sweep(&mut session);
        drop(session);
        self.close_series(self.clock.now_ns(), true);
        self.publish();
        let end =
            if self.is_done() && !self.settings.stop { ThreadState::Finished } else { ThreadState::Stopped };
        self.set_state(end);
    }

    /// Inserts this thread's share of the prefill (stops early if the table is full).
    fn prefill_share(&mut self) {
        let backend = Arc::clone(&self.backend);
        let mut session = backend.session();
        for i in 0..self.prefill {
            let seq = self.next_seq;
            self.next_seq += 1;
            let value = Value { thread: self.thread_tag, seq };
            let start = if S::ENABLED { self.clock.op_start_ns() } else { 0 };
            let got = session.insert(value, &mut self.probe);
            if S::ENABLED {
                let end = self.clock.op_end_ns();
                let result = match got {
                    Some(id) => (OpOutcome::Inserted, Some(id), Some(value)),
                    None => (OpOutcome::Refused, None, None),
                };
                self.emit_event(OpOrigin::Prefill, i, OpKind::Insert, result, start, end);
            }
            match got {
                Some(id) => {
                    self.held.push_back(HeldKey { id, seq });
                    self.inserted += 1;
                    self.prefilled += 1;
                }
                None => break,
            }
            if i % BATCH_OPS == BATCH_OPS - 1 {
                session.repin();
            }
        }
        // Prefill writes are not part of the measured run.
        let mut discard = Counts::ZERO;
        self.probe.drain_into(&mut discard);
    }

    fn is_done(&self) -> bool {
        self.stop_after.is_some_and(|n| self.stream.chosen() >= n)
    }

    fn batch_len(&self) -> u64 {
        let span = match self.rate {
            // At least one op, at most a batch, about OPEN_LOOP_BATCH_SPAN worth.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Some(rate) => ((rate * OPEN_LOOP_BATCH_SPAN.as_secs_f64()) as u64).clamp(1, BATCH_OPS),
            None => BATCH_OPS,
        };
        match self.stop_after {
            Some(n) => span.min(n.saturating_sub(self.stream.chosen())),
            None => span,
        }
    }

    fn next_boundary_after(&self, now: u64) -> u64 {
        let since = now.saturating_sub(self.run_start_ns);
        let k = since / self.series_interval_ns + 1;
        self.run_start_ns.saturating_add(k.saturating_mul(self.series_interval_ns))
    }

    /// Open loop: sleeps (holding no epoch pin) until the next op is nearly due. False if a
    /// command arrived meanwhile.
    fn sleep_until_due(&mut self) -> bool {
        let Some(schedule) = self.schedule else { return true };
        let intended = schedule.intended(schedule.issued());
        loop {
            match pace(intended, self.clock.now_ns()) {
                Pace::Go | Pace::Spin => return true,
                Pace::Sleep(d) => {
                    self.sink.quiet();
                    std::thread::sleep(d.min(IDLE_POLL));
                    if self.shared.inbox.generation.load(Ordering::Relaxed) != self.seen_generation {
                        return false;
                    }
                }
            }
        }
    }

    /// `n` ops. In open loop it returns early, true, when the next op is far enough ahead to
    /// sleep for: the caller drops its epoch pin before sleeping.
    ///
    /// The choice stream is worked on as a local copy (so that its state stays in registers)
    /// and stored back at the end; a panic mid-batch loses at most that batch's digest.
    #[inline]
    fn run_batch<T: Session>(&mut self, session: &mut T, n: u64) -> bool {
        let mut stream = self.stream.clone();
        let idle = if self.schedule.is_some() {
            self.run_open_loop(session, &mut stream, n)
        } else if S::ENABLED {
            self.run_recorded(session, &mut stream, n);
            false
        } else if stream.is_plain() && matches!(self.picker, KeyPicker::Uniform) {
            // The common case: the lean loop (see `run_lean`).
            self.run_lean(session, &mut stream, n);
            false
        } else {
            self.run_closed_loop(session, &mut stream, n);
            false
        };
        self.stream = stream;
        idle
    }

    /// Closed loop: stretches of untimed ops, each followed by one timed op. `until_timed`
    /// counts the ops up to and including the next timed one.
    #[inline]
    fn run_closed_loop<T: Session>(&mut self, session: &mut T, stream: &mut ChoiceStream, n: u64) {
        let mut left = n;
        while left > 0 {
            let stretch = (self.until_timed - 1).min(left);
            for _ in 0..stretch {
                let choice = stream.next_choice();
                self.do_op(session, choice);
            }
            self.until_timed -= stretch;
            left -= stretch;
            if left == 0 {
                break;
            }
            let start = self.clock.now_ns();
            if start >= self.hiccup_at {
                self.hiccup(start);
            }
            let choice = stream.next_choice();
            self.do_op(session, choice);
            let end = self.clock.now_ns();
            self.fresh.record_service(choice.kind, end.saturating_sub(start));
            self.counts[Counter::TimedOps] += 1;
            self.until_timed = self.time_every;
            left -= 1;
        }
    }

    /// The closed loop of a plain stream (uniform keys, no stale lookups) without recording:
    /// each op does what the bare loop (`crate::bare`) does (one draw, the op on one of the
    /// thread's keys, the value compared) and counts only what a result makes rare: a miss,
    /// a refusal, a skip, a failed remove, a violation. Op kinds, hits, and keys inserted and
    /// removed are derived from those and the number of ops when the batch ends; the digest
    /// needs nothing per op (see [`ChoiceStream`]). Every op is still checked: a lookup's value
    /// against the one stored, a remove's success.
    #[inline]
    fn run_lean<T: Session>(&mut self, session: &mut T, stream: &mut ChoiceStream, n: u64) {
        let mut t = Tally::default();
        let first = stream.chosen();
        let chooser = stream.chooser();
        let cuts = chooser.cuts();
        let mut left = n;
        while left > 0 {
            let stretch = (self.until_timed - 1).min(left);
            stream.plain_draws(stretch, |r, index| self.lean_op(session, cuts, r, index, &mut t));
            self.until_timed -= stretch;
            left -= stretch;
            if left == 0 {
                break;
            }
            let start = self.clock.now_ns();
            if start >= self.hiccup_at {
                self.hiccup(start);
            }
            let mut kind = OpKind::Lookup;
            stream.plain_draws(1, |r, index| {
                kind = chooser.choose(r);
                self.lean_op(session, cuts, r, index, &mut t);
            });
            let end = self.clock.now_ns();
            self.fresh.record_service(kind, end.saturating_sub(start));
            self.counts[Counter::TimedOps] += 1;
            self.until_timed = self.time_every;
            left -= 1;
        }
        let ops = stream.chosen() - first;
        let lookups = ops - t.inserts - t.removes;
        let c = &mut self.counts;
        c[Counter::Lookups] += lookups;
        c[Counter::Inserts] += t.inserts;
        c[Counter::Removes] += t.removes;
        c[Counter::LookupHits] += lookups - t.misses - t.lookup_skips;
        c[Counter::LookupMisses] += t.misses;
        c[Counter::Skipped] += t.lookup_skips + t.remove_skips;
        c[Counter::InsertsRefused] += t.refused;
        c[Counter::RemovesMissed] += t.remove_failed;
        self.inserted += t.inserts - t.refused;
        self.removed += t.removes - t.remove_skips - t.remove_failed;
    }

    /// One op of [`Worker::run_lean`].
    #[inline(always)]
    fn lean_op<T: Session>(&mut self, session: &mut T, cuts: (u64, u64), r: u64, index: u64, t: &mut Tally) {
        // Branches on the cut points themselves (see `ChoiceStream::plain_draws`).
        let h = r >> 48;
        if h < cuts.0 {
            {
                if self.held.is_empty() {
                    t.lookup_skips += 1;
                    return;
                }
                let held = self.held.get(scale(r << 32, self.held.len()));
                let expected = Value { thread: self.thread_tag, seq: held.seq };
                // Compared field by field and handed on as plain words, so that the found
                // value stays in registers on the hot path.
                let found = session.lookup(held.id, &mut self.probe);
                let (some, thread, seq) = found.map_or((false, 0, 0), |v| (true, v.thread, v.seq));
                if !(some && thread == expected.thread && seq == expected.seq) {
                    t.misses += u64::from(!some);
                    self.lookup_failed(index, held.id, expected, some.then_some(Value { thread, seq }));
                }
            }
        } else if h < cuts.1 {
            {
                t.inserts += 1;
                if self.held.len() >= self.keep {
                    self.retire_oldest(session, index);
                }
                if self.budget.is_some_and(|b| self.held.len() >= b) {
                    t.refused += 1;
                    return;
                }
                let seq = self.next_seq;
                self.next_seq += 1;
                match session.insert(Value { thread: self.thread_tag, seq }, &mut self.probe) {
                    Some(id) => self.held.push_back(HeldKey { id, seq }),
                    None => t.refused += 1,
                }
            }
        } else {
            {
                t.removes += 1;
                if self.held.is_empty() {
                    t.remove_skips += 1;
                    return;
                }
                let held = match self.settings.remove_order {
                    RemoveOrder::Random => self.held.swap_remove(scale(r << 32, self.held.len())),
                    RemoveOrder::Oldest => self.held.pop_front().unwrap_or(HeldKey { id: 0, seq: 0 }),
                };
                if session.remove(held.id, &mut self.probe) {
                    self.stale.push(held.id);
                } else {
                    t.remove_failed += 1;
                    let expected = Value { thread: self.thread_tag, seq: held.seq };
                    self.violation(ViolationKind::RemoveFailed, index, held.id, Some(expected), None);
                }
            }
        }
    }

    /// A lookup that did not find its own value: a lost key or a wrong value.
    #[cold]
    #[inline(never)]
    fn lookup_failed(&mut self, index: u64, id: u64, expected: Value, found: Option<Value>) {
        let kind = if found.is_some() { ViolationKind::WrongValue } else { ViolationKind::LostKey };
        self.violation(kind, index, id, Some(expected), found);
    }

    /// With an event sink: both timestamps of every op (latency still recorded 1 in k).
    fn run_recorded<T: Session>(&mut self, session: &mut T, stream: &mut ChoiceStream, n: u64) {
        for _ in 0..n {
            self.until_timed -= 1;
            let choice = stream.next_choice();
            if choice.kind == OpKind::Insert && self.held.len() >= self.keep {
                // Recorded as removes of their own, before the insert's clock starts, so that
                // one thread's ops never overlap in the trace.
                self.retire_oldest(session, choice.index);
            }
            // Fenced readings: the interval holds the op's effects as other cores see them
            // (see `Clock::op_start_ns`), which the checker's precedence rule relies on.
            let start = self.clock.op_start_ns();
            if start >= self.hiccup_at {
                self.hiccup(start);
            }
            let (outcome, key, value) = self.do_op(session, choice);
            let end = self.clock.op_end_ns();
            if self.until_timed == 0 {
                self.until_timed = self.time_every;
                self.fresh.record_service(choice.kind, end.saturating_sub(start));
                self.counts[Counter::TimedOps] += 1;
            }
            self.emit(choice, key, outcome, value, start, end);
        }
    }

    /// Open loop: every op waits for its intended start and is timed both ways.
    fn run_open_loop<T: Session>(&mut self, session: &mut T, stream: &mut ChoiceStream, n: u64) -> bool {
        for _ in 0..n {
            let Some(schedule) = self.schedule else { return false };
            let intended = schedule.intended(schedule.issued());
            let Some(mut start) = self.spin_until(intended) else { return true };
            if let Some(s) = self.schedule.as_mut() {
                s.next_intended();
            }
            let choice = stream.next_choice();
            if S::ENABLED && choice.kind == OpKind::Insert && self.held.len() >= self.keep {
                // As in `run_recorded`; the wait it adds counts in the corrected latency.
                self.retire_oldest(session, choice.index);
            }
            if S::ENABLED {
                // Recorded: the fenced reading, as in `run_recorded`.
                start = self.clock.op_start_ns();
            }
            if start >= self.hiccup_at {
                self.hiccup(start);
            }
            let (outcome, key, value) = self.do_op(session, choice);
            let end = if S::ENABLED { self.clock.op_end_ns() } else { self.clock.now_ns() };
            let lat = open_loop_latency(intended, start, end);
            self.fresh.record_service(choice.kind, lat.uncorrected);
            self.fresh.record_corrected(choice.kind, lat.corrected);
            self.counts[Counter::TimedOps] += 1;
            self.emit(choice, key, outcome, value, start, end);
        }
        false
    }

    // Inlined into the batch loop; compiled away when the sink is disabled.
    #[inline(always)]
    fn emit(
        &mut self,
        choice: Choice,
        key: Option<u64>,
        outcome: OpOutcome,
        value: Option<Value>,
        start: u64,
        end: u64,
    ) {
        if S::ENABLED {
            self.emit_event(OpOrigin::Run, choice.index, choice.kind, (outcome, key, value), start, end);
        }
    }

    /// Hands one op to the sink, with what the probe saw during it.
    #[inline(always)]
    fn emit_event(
        &mut self,
        origin: OpOrigin,
        op_index: u64,
        kind: OpKind,
        result: OpResult,
        start: u64,
        end: u64,
    ) {
        let (outcome, key, value) = result;
        let event = OpEvent {
            thread: self.index,
            op_index,
            kind,
            key,
            outcome,
            value,
            origin,
            probes: self.probe.take_op_probes(),
            start_ns: start,
            end_ns: end,
        };
        self.sink.op(&event);
    }

    /// The injected stall (see [`crate::scenario::spec::Hiccup`]): sleeps inside the op about to be
    /// timed, whose start was read at `start`, and schedules the next one.
    #[cold]
    #[inline(never)]
    fn hiccup(&mut self, start: u64) {
        if let Some(h) = self.settings.hiccup {
            std::thread::sleep(h.pause);
            let every = u64::try_from(h.every.as_nanos()).unwrap_or(u64::MAX).max(1);
            // The next one a period after this one was due; never a burst of overdue ones.
            let next = self.hiccup_at.saturating_add(every);
            self.hiccup_at = if next > start { next } else { start.saturating_add(every) };
        } else {
            self.hiccup_at = u64::MAX;
        }
    }

    /// Starts (or stops) the stall schedule of the current settings, from `now`.
    fn apply_hiccup(&mut self, now: u64) {
        self.hiccup_at = match self.settings.hiccup {
            Some(h) => now.saturating_add(u64::try_from(h.every.as_nanos()).unwrap_or(u64::MAX)),
            None => u64::MAX,
        };
    }

    /// Spins until `intended`; the clock reading at which it went, or `None` if the wait is
    /// long enough to sleep (see [`crate::engine::pacing::SLEEP_ABOVE`]).
    #[inline]
    fn spin_until(&self, intended: u64) -> Option<u64> {
        loop {
            let now = self.clock.now_ns();
            match pace(intended, now) {
                Pace::Go => return Some(now),
                Pace::Spin => std::hint::spin_loop(),
                Pace::Sleep(_) => return None,
            }
        }
    }

    // Inlined into the batch loop so that the table's fields stay in registers.
    #[inline(always)]
    fn do_op<T: Session>(&mut self, session: &mut T, choice: Choice) -> OpResult {
        self.counts[Counter::ops_of(choice.kind)] += 1;
        match choice.kind {
            OpKind::Lookup => self.lookup(session, choice),
            OpKind::Insert => self.insert(session, choice),
            OpKind::Remove => self.remove(session, choice),
        }
    }

    // Inlined into the batch loop so that the table's fields stay in registers.
    #[inline(always)]
    fn lookup<T: Session>(&mut self, session: &mut T, choice: Choice) -> OpResult {
        if choice.stale {
            if let Some(id) = self.stale.pick(choice.key_draw) {
                self.counts[Counter::StaleLookups] += 1;
                return match session.lookup(id, &mut self.probe) {
                    None => {
                        self.counts[Counter::LookupMisses] += 1;
                        (OpOutcome::Miss, Some(id), None)
                    }
                    Some(found) => {
                        self.counts[Counter::LookupHits] += 1;
                        self.violation(ViolationKind::StaleHit, choice.index, id, None, Some(found));
                        (OpOutcome::Hit, Some(id), Some(found))
                    }
                };
            }
        }
        if self.held.is_empty() {
            self.counts[Counter::Skipped] += 1;
            return (OpOutcome::Skipped, None, None);
        }
        let at = self.picker.pick(choice.key_draw, self.held.len());
        let held = self.held.get(at);
        let expected = Value { thread: self.thread_tag, seq: held.seq };
        match session.lookup(held.id, &mut self.probe) {
            Some(found) if found == expected => {
                self.counts[Counter::LookupHits] += 1;
                (OpOutcome::Hit, Some(held.id), Some(found))
            }
            Some(found) => {
                self.counts[Counter::LookupHits] += 1;
                self.violation(ViolationKind::WrongValue, choice.index, held.id, Some(expected), Some(found));
                (OpOutcome::Hit, Some(held.id), Some(found))
            }
            None => {
                self.counts[Counter::LookupMisses] += 1;
                self.violation(ViolationKind::LostKey, choice.index, held.id, Some(expected), None);
                (OpOutcome::Miss, Some(held.id), None)
            }
        }
    }

    // Inlined into the batch loop so that the table's fields stay in registers.
    #[inline(always)]
    fn insert<T: Session>(&mut self, session: &mut T, choice: Choice) -> OpResult {
        if self.held.len() >= self.keep {
            self.retire_oldest(session, choice.index);
        }
        if self.budget.is_some_and(|b| self.held.len() >= b) {
            self.counts[Counter::InsertsRefused] += 1;
            return (OpOutcome::Refused, None, None);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let value = Value { thread: self.thread_tag, seq };
        match session.insert(value, &mut self.probe) {
            Some(id) => {
                self.held.push_back(HeldKey { id, seq });
                self.inserted += 1;
                (OpOutcome::Inserted, Some(id), Some(value))
            }
            None => {
                self.counts[Counter::InsertsRefused] += 1;
                (OpOutcome::Refused, None, None)
            }
        }
    }

    // Inlined into the batch loop so that the table's fields stay in registers.
    #[inline(always)]
    fn remove<T: Session>(&mut self, session: &mut T, choice: Choice) -> OpResult {
        if self.held.is_empty() {
            self.counts[Counter::Skipped] += 1;
            return (OpOutcome::Skipped, None, None);
        }
        let taken = match self.settings.remove_order {
            RemoveOrder::Random => Some(self.held.swap_remove(scale(choice.key_draw, self.held.len()))),
            RemoveOrder::Oldest => self.held.pop_front(),
        };
        let Some(held) = taken else { unreachable!("held is not empty") };
        if session.remove(held.id, &mut self.probe) {
            self.removed += 1;
            self.stale.push(held.id);
            (OpOutcome::Removed, Some(held.id), None)
        } else {
            self.counts[Counter::RemovesMissed] += 1;
            let expected = Value { thread: self.thread_tag, seq: held.seq };
            self.violation(ViolationKind::RemoveFailed, choice.index, held.id, Some(expected), None);
            (OpOutcome::RemoveMissed, Some(held.id), None)
        }
    }

    /// A window of `keep` keys is full: removes the oldest (part of the insert, timed with it).
    #[inline(never)]
    fn retire_oldest<T: Session>(&mut self, session: &mut T, op_index: u64) {
        while self.held.len() >= self.keep {
            let Some(held) = self.held.pop_front() else { return };
            self.counts[Counter::Removes] += 1;
            let start = if S::ENABLED { self.clock.op_start_ns() } else { 0 };
            let outcome = if session.remove(held.id, &mut self.probe) {
                self.removed += 1;
                self.stale.push(held.id);
                OpOutcome::Removed
            } else {
                self.counts[Counter::RemovesMissed] += 1;
                let expected = Value { thread: self.thread_tag, seq: held.seq };
                self.violation(ViolationKind::RemoveFailed, op_index, held.id, Some(expected), None);
                OpOutcome::RemoveMissed
            };
            if S::ENABLED {
                let end = self.clock.op_end_ns();
                let result = (outcome, Some(held.id), None);
                self.emit_event(OpOrigin::Run, op_index, OpKind::Remove, result, start, end);
            }
        }
    }

    #[cold]
    fn violation(
        &mut self,
        kind: ViolationKind,
        op_index: u64,
        key: u64,
        expected: Option<Value>,
        found: Option<Value>,
    ) {
        let mut v = Violation::in_op(kind, self.index, op_index, key);
        v.expected = expected;
        v.found = found;
        v.at_ns = Some(self.clock.now_ns().saturating_sub(self.run_start_ns));
        self.violations.record(v);
        self.counts[Counter::Violations] += 1;
    }

    /// At the end: every held key must still be there with its value.
    fn final_sweep<T: Session>(&mut self, session: &mut T) {
        for i in 0..self.held.len() {
            let held = self.held.get(i);
            let expected = Value { thread: self.thread_tag, seq: held.seq };
            let start = if S::ENABLED { self.clock.op_start_ns() } else { 0 };
            let got = session.lookup(held.id, &mut self.probe);
            if S::ENABLED {
                let end = self.clock.op_end_ns();
                let outcome = if got.is_some() { OpOutcome::Hit } else { OpOutcome::Miss };
                self.emit_event(
                    OpOrigin::Sweep,
                    i as u64,
                    OpKind::Lookup,
                    (outcome, Some(held.id), got),
                    start,
                    end,
                );
            }
            match got {
                Some(found) if found == expected => {}
                found => {
                    let kind =
                        if found.is_some() { ViolationKind::WrongValue } else { ViolationKind::LostKey };
                    let op_index = self.stream.chosen();
                    self.violation(kind, op_index, held.id, Some(expected), found);
                }
            }
            if i % (BATCH_OPS as usize) == 0 {
                session.repin();
            }
        }
        let mut discard = Counts::ZERO;
        self.probe.drain_into(&mut discard);
    }

    /// Everything shared, once per batch.
    fn end_batch(&mut self) {
        self.publish();
        let now = self.clock.now_ns();
        if now >= self.next_series_ns {
            self.close_series(now, false);
        }
        if self.shared.inbox.flush_wanted.load(Ordering::Relaxed) {
            self.flush_fresh();
            self.try_deposit();
        } else if self.pending_full {
            self.try_deposit();
        }
    }

    /// Publishes counters and any new violation descriptions.
    fn publish(&mut self) {
        self.probe.drain_into(&mut self.counts);
        self.shared.counts.publish(&self.counts);
        if self.violations.first.len() > self.violations_published {
            if let Some(mut shared) = try_lock(&self.shared.violations) {
                shared.extend(self.violations.first[self.violations_published..].iter().cloned());
                self.violations_published = self.violations.first.len();
            }
        }
    }

    /// Moves fresh histograms into the run total, the series interval and (with a sampler)
    /// the pending deposit.
    fn flush_fresh(&mut self) {
        if self.fresh.is_empty() {
            return;
        }
        self.total.add(&self.fresh);
        self.series_acc.add(&self.fresh);
        if self.shared.inbox.sampler_attached.load(Ordering::Relaxed) {
            self.pending.add(&self.fresh);
            self.pending_full = true;
        }
        self.fresh.reset();
    }

    /// Hands pending histograms to the sampler if its slot is free right now.
    fn try_deposit(&mut self) {
        let Some(mut deposit) = try_lock(&self.shared.deposit) else { return };
        if self.pending_full {
            if deposit.taken {
                std::mem::swap(&mut deposit.latency, &mut self.pending);
            } else {
                deposit.latency.add(&self.pending);
                self.pending.reset();
            }
            deposit.taken = false;
        }
        deposit.reset_epoch = self.reset_epoch;
        self.pending_full = false;
        drop(deposit);
        self.shared.inbox.flush_wanted.store(false, Ordering::Relaxed);
    }

    /// Closes the series interval(s) that ended by `now` (or the last, partial one).
    fn close_series(&mut self, now: u64, last: bool) {
        self.flush_fresh();
        let end = if last { now } else { self.next_series_ns.min(now) };
        if end > self.series_start_ns || !self.series_acc.is_empty() {
            if self.series.len() < MAX_SERIES_INTERVALS {
                if self.series.capacity() == self.series.len() {
                    self.series.reserve(64);
                }
                let record = IntervalRecord {
                    thread: self.index,
                    start_ns: self.series_start_ns.saturating_sub(self.run_start_ns),
                    end_ns: end.saturating_sub(self.run_start_ns),
                    counts: self.counts.since(&self.series_counts_at),
                    latency: OpLatencyData::of_set(&self.series_acc),
                };
                self.series.push(record);
            } else {
                self.series_dropped += 1;
            }
        }
        self.series_acc.reset();
        self.series_counts_at = self.counts;
        self.series_start_ns = end;
        self.next_series_ns = self.next_boundary_after(now);
    }

    /// Looks at the inbox; applies new settings. True if settings changed.
    fn poll_inbox(&mut self) -> bool {
        // Acquire: pairs with the Release bump in `ThreadShared::update`.
        let generation = self.shared.inbox.generation.load(Ordering::Acquire);
        if generation == self.seen_generation {
            return false;
        }
        let Some(new) = try_lock(&self.shared.settings).map(|s| s.clone()) else { return false };
        self.seen_generation = generation;
        let now = self.clock.now_ns();
        if new.mix != self.settings.mix {
            self.stream.set_mix(new.mix);
        }
        if new.stale_share.to_bits() != self.settings.stale_share.to_bits() {
            self.stream.set_stale_share(new.stale_share);
        }
        if new.keys != self.settings.keys {
            self.picker = new.keys.clone();
            self.stream.set_picker(&self.picker);
        }
        if new.rate != self.settings.rate {
            self.apply_rate(new.rate, now);
        }
        if new.core != self.settings.core {
            self.apply_core(new.core);
        }
        if new.reset_epoch != self.reset_epoch {
            self.reset_stats(new.reset_epoch);
        }
        let hiccup_changed = new.hiccup != self.settings.hiccup;
        self.keep = new.keep.unwrap_or(usize::MAX);
        self.settings = new;
        if hiccup_changed {
            self.apply_hiccup(now);
        }
        true
    }

    fn apply_rate(&mut self, rate: Option<f64>, now: u64) {
        self.rate = rate.filter(|r| r.is_finite() && *r > 0.0);
        // A new rate starts a new schedule from now: no backlog from the old one.
        self.schedule = self.rate.map(|r| OpenLoopSchedule::new(now, r));
    }

    fn apply_core(&mut self, core: Option<usize>) {
        match core {
            Some(c) => {
                let ok = pin_current_thread(c);
                self.shared.set_core(Some(c), ok);
            }
            None => self.shared.set_core(None, false),
        }
    }

    fn reset_stats(&mut self, epoch: u64) {
        self.reset_epoch = epoch;
        let violations = self.counts[Counter::Violations];
        self.counts = Counts::ZERO;
        self.counts[Counter::Violations] = violations;
        let mut discard = Counts::ZERO;
        self.probe.drain_into(&mut discard);
        self.fresh.reset();
        self.total.reset();
        self.series_acc.reset();
        self.pending.reset();
        self.pending_full = false;
        self.series_counts_at = Counts::ZERO;
        self.publish();
        // The sampler's deposit holds pre-reset data: mark it so the sampler drops it.
        if let Some(mut d) = try_lock(&self.shared.deposit) {
            d.latency.reset();
            d.taken = true;
            d.reset_epoch = epoch;
        }
    }

    /// Parks until resumed or stopped; no epoch pin is held meanwhile.
    fn pause(&mut self) {
        self.set_state(ThreadState::Paused);
        self.publish();
        let from = self.clock.now_ns();
        while self.settings.paused && !self.settings.stop {
            self.sink.quiet();
            std::thread::park_timeout(IDLE_POLL);
            self.poll_inbox();
        }
        let now = self.clock.now_ns();
        self.paused_ns += now.saturating_sub(from);
        // Open loop restarts its schedule: the pause is not a backlog.
        self.apply_rate(self.rate, now);
    }

    /// Everything the worker counted, after `run` returned or unwound.
    pub(crate) fn into_outcome(mut self, panic: Option<String>) -> ThreadResult {
        let stopped_ns = self.clock.now_ns();
        if let Some(message) = panic {
            let mut v = Violation::in_op(ViolationKind::WorkerPanic, self.index, self.stream.chosen(), 0);
            v.key = None;
            v.at_ns = Some(stopped_ns.saturating_sub(self.run_start_ns));
            v.detail = message;
            self.violations.record(v);
            self.counts[Counter::Violations] += 1;
            self.total.add(&self.fresh);
            self.shared.counts.publish(&self.counts);
            lock(&self.shared.violations)
                .extend(self.violations.first[self.violations_published..].iter().cloned());
            self.state = ThreadState::Panicked;
            self.shared.set_state(ThreadState::Panicked);
            // A panic before the gate must not hold the other workers back.
            if let Some(gate) = self.gate.take() {
                gate.arrive();
            }
        }
        ThreadResult {
            index: self.index,
            group: self.shared.group_name.clone(),
            core: self.shared.core(),
            wanted_core: self.shared.wanted_core(),
            counts: self.counts,
            latency: self.total,
            series: self.series,
            series_dropped: self.series_dropped,
            violations: self.violations,
            inserted: self.inserted,
            removed: self.removed,
            prefilled: self.prefilled,
            held_at_end: self.held.len(),
            started_ns: self.started_ns.saturating_sub(self.run_start_ns),
            stopped_ns: stopped_ns.saturating_sub(self.run_start_ns),
            paused_ns: self.paused_ns,
            carry: WorkerCarry { stream: self.stream, next_seq: self.next_seq },
            state: self.state,
        }
    }
}
