//! The control plane of a run: the state that control commands, the timeline and the engine
//! change (groups, workers, results, table segments), behind one lock, and what samplers read
//! without taking it (the registry of threads, the current backend, flags).
//!
//! Workers never take these locks; they only see their own settings (see [`crate::engine::control`]).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use slotscope_table::Snapshot;

use crate::engine::check::{Balance, SnapshotCheck, ViolationLog};
use crate::engine::command::{Command, EngineError, EngineOptions};
use crate::engine::control::ExitSignal;
use crate::engine::control::{StartGate, ThreadShared, WorkerSettings};
use crate::engine::hosted::{open_hosted, panic_message, recorded_table, Hosted};
use crate::engine::mix::{ChoiceStream, KeyPicker};
use crate::engine::rng::thread_stream;
use crate::engine::stall::{HoldState, PinHolder};
use crate::engine::stats::HeatCounters;
use crate::engine::timer::{nanos, Clock, TimingInfo};
use crate::engine::worker::ThreadResult;
use crate::engine::worker::WorkerSetup;
use crate::machine::pin::CorePlan;
use crate::machine::MachineInfo;
use crate::recorder::Recorder;
use crate::report::{mix_array, BackendInfo, ControlEvent, PrefillReport, SegmentCheck};
use crate::scenario::spec::{
    BackendKind, GroupSpec, Hiccup, PinPolicy, RemoveOrder, RunSpec, StopSpec, TableSpec,
};
use crate::sync::lock;
use slotscope_trace::ControlKind;

/// Tables larger than this get no end-of-run snapshot check (a snapshot costs 17 bytes per
/// slot; 2^22 slots is 68 MiB).
pub const FINAL_SNAPSHOT_MAX_CAPACITY: usize = 1 << 22;

/// A group as it is now.
#[derive(Debug)]
pub(crate) struct GroupState {
    pub(crate) spec: GroupSpec,
    pub(crate) picker: KeyPicker,
    /// Which held key removes take (a live setting, not part of the scenario format).
    pub(crate) remove_order: RemoveOrder,
    /// A periodic stall, if one was asked for (a live setting).
    pub(crate) hiccup: Option<Hiccup>,
    /// The most keys a thread holds (a live setting).
    pub(crate) keep: Option<usize>,
    /// Global indices of its live (not retiring) threads, oldest first.
    pub(crate) members: Vec<usize>,
}

/// A worker of the current table.
pub(crate) struct LiveWorker {
    pub(crate) index: usize,
    pub(crate) shared: Arc<ThreadShared>,
    pub(crate) handle: Option<JoinHandle<ThreadResult>>,
    pub(crate) retiring: bool,
}

/// Per-table totals, for the checks at quiescence.
#[derive(Default)]
pub(crate) struct SegmentTotals {
    pub(crate) inserted: u64,
    pub(crate) removed: u64,
    pub(crate) prefilled: u64,
    pub(crate) prefill_asked: u64,
}

/// Everything the control plane changes; one lock.
pub(crate) struct ControlState {
    pub(crate) table: TableSpec,
    pub(crate) hosted: Arc<dyn Hosted>,
    pub(crate) groups: Vec<GroupState>,
    pub(crate) live: Vec<LiveWorker>,
    pub(crate) results: BTreeMap<usize, ThreadResult>,
    pub(crate) next_index: usize,
    pub(crate) segment: SegmentTotals,
    pub(crate) segments: Vec<SegmentCheck>,
    pub(crate) end_violations: ViolationLog,
    pub(crate) backends: Vec<BackendInfo>,
    pub(crate) control_log: Vec<ControlEvent>,
    pub(crate) warnings: Vec<String>,
    pub(crate) streams_changed: bool,
    pub(crate) first_prefill: Option<PrefillReport>,
    pub(crate) reset_epoch: u64,
}

#[derive(Debug, Default)]
pub(crate) struct PauseClock {
    pub(crate) since: Option<u64>,
    pub(crate) total: u64,
}

/// What the engine, its conductor and its samplers share.
pub(crate) struct RunCore {
    /// The recording of this run, if it is recorded.
    pub(crate) recorder: Option<Arc<Recorder>>,
    pub(crate) spec: RunSpec,
    pub(crate) clock: Clock,
    pub(crate) machine: MachineInfo,
    pub(crate) timing: TimingInfo,
    pub(crate) plan: CorePlan,
    pub(crate) factory: bool,
    pub(crate) options: EngineOptions,
    /// The reader holding its pin on purpose, if one was started (kept after it let go, for
    /// the samples to say so).
    pub(crate) pin_holder: Mutex<Option<PinHolder>>,
    pub(crate) started_unix_ms: u64,
    pub(crate) start_ns: AtomicU64,
    pub(crate) hosted: Mutex<Arc<dyn Hosted>>,
    pub(crate) registry: Mutex<Vec<Arc<ThreadShared>>>,
    pub(crate) registry_generation: AtomicU64,
    pub(crate) reset_epoch: AtomicU64,
    pub(crate) paused: AtomicBool,
    pub(crate) pause: Mutex<PauseClock>,
    /// 1 + the index of the phase applied last, i.e. in force (0: none yet).
    pub(crate) phase_in_force: AtomicUsize,
    pub(crate) deadline_reached: AtomicBool,
    pub(crate) restarting: AtomicBool,
    pub(crate) exits: Arc<ExitSignal>,
    pub(crate) state: Mutex<ControlState>,
    pub(crate) conductor_stop: Mutex<bool>,
    pub(crate) conductor_wake: Condvar,
    /// Noise and line transfer on the worker cores (not for calibration runs).
    pub(crate) watch: std::sync::OnceLock<crate::machine::watch::MachineWatch>,
}

impl RunCore {
    pub(crate) fn start_ns(&self) -> u64 {
        self.start_ns.load(Ordering::Relaxed)
    }

    pub(crate) fn pause_total(&self, now: u64) -> u64 {
        let p = lock(&self.pause);
        p.total + p.since.map_or(0, |s| now.saturating_sub(s))
    }

    /// Active time since the clock started (pauses and restart prefills excluded).
    pub(crate) fn timeline_ns(&self) -> u64 {
        let now = self.clock.now_ns();
        now.saturating_sub(self.start_ns()).saturating_sub(self.pause_total(now))
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }

    pub(crate) fn log(&self, st: &mut ControlState, source: &str, what: String) {
        self.log_kind(st, source, ControlKind::Other, what);
    }

    /// [`RunCore::log`], telling a recording what kind of event it was.
    pub(crate) fn log_kind(&self, st: &mut ControlState, source: &str, kind: ControlKind, what: String) {
        if let Some(r) = &self.recorder {
            r.control(kind, source, &what);
        }
        if source == crate::engine::TURN_SOURCE {
            // An A/B comparison's turn-taking: the trace has it, the list of changes does not.
            return;
        }
        st.control_log.push(ControlEvent { at_ns: self.timeline_ns(), source: source.to_owned(), what });
    }

    pub(crate) fn group_index(&self, st: &ControlState, name: &str) -> Result<usize, EngineError> {
        st.groups.iter().position(|g| g.spec.name == name).ok_or_else(|| EngineError::UnknownGroup {
            name: name.to_owned(),
            known: st.groups.iter().map(|g| g.spec.name.clone()).collect(),
        })
    }

    pub(crate) fn capacity_for_keys(&self, hosted: &dyn Hosted) -> usize {
        hosted.facts().capacity().unwrap_or(self.spec.table.capacity).max(1)
    }

    pub(crate) fn initial_threads(&self) -> usize {
        self.spec.initial_threads().max(1)
    }

    /// Spawns a worker for `group` with global `index`.
    pub(crate) fn spawn_worker(
        &self,
        st: &mut ControlState,
        group: usize,
        index: usize,
        prefill: u64,
        gate: Option<Arc<StartGate>>,
    ) -> Result<(), EngineError> {
        let hosted = Arc::clone(&st.hosted);
        let g = &st.groups[group];
        let in_group = g.members.len();
        let core = self
            .plan
            .core_for(&g.spec.pin, index, in_group)
            .map_err(|error| EngineError::Pin { group: g.spec.name.clone(), error })?;
        if let Some(r) = &self.recorder {
            r.worker_placed(core);
        }
        let settings = WorkerSettings {
            mix: g.spec.mix,
            keys: g.picker.clone(),
            stale_share: g.spec.stale_share,
            rate: g.spec.rate,
            core,
            paused: self.is_paused(),
            stop: false,
            reset_epoch: st.reset_epoch,
            remove_order: g.remove_order,
            hiccup: g.hiccup,
            keep: g.keep,
        };
        let probes = self.spec.probes && hosted.facts().has_probes();
        let heat = if probes && !self.options.headless {
            hosted.facts().geometry().map(|geo| Arc::new(HeatCounters::new(geo)))
        } else {
            None
        };
        let shared = Arc::new(ThreadShared::new(index, group, g.spec.name.clone(), settings, heat));
        let carry = st.results.get(&index).map(|r| r.carry.clone());
        let (stream, next_seq) = match carry {
            Some(c) => (c.stream, c.next_seq),
            None => {
                let rng = thread_stream(self.spec.seed, index);
                (ChoiceStream::new(rng, g.spec.mix, g.spec.stale_share, &g.picker), 0)
            }
        };
        let keys = self.capacity_for_keys(hosted.as_ref());
        let fair_share = keys / self.initial_threads();
        let setup = WorkerSetup {
            shared: Arc::clone(&shared),
            clock: self.clock,
            gate,
            run_start_ns: self.start_ns(),
            stream,
            next_seq,
            prefill,
            budget: hosted.facts().capacity().is_none().then_some(fair_share.max(1)),
            stop_after: match self.spec.stop {
                StopSpec::Ops(n) => Some(n),
                StopSpec::Duration(_) | StopSpec::Forever => None,
            },
            time_every: self.spec.time_every,
            series_interval_ns: nanos(self.spec.series_interval).max(1),
            expected_keys: fair_share,
            exits: Arc::clone(&self.exits),
            sink: self.recorder.as_ref().map(|r| r.thread_sink(index, &g.spec.name)),
            probes,
        };
        let handle = hosted.spawn(setup).map_err(|e| EngineError::Spawn(e.to_string()))?;
        st.groups[group].members.push(index);
        st.live.push(LiveWorker {
            index,
            shared: Arc::clone(&shared),
            handle: Some(handle),
            retiring: false,
        });
        lock(&self.registry).push(shared);
        self.registry_generation.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Merges a finished worker's outcome into the results.
    pub(crate) fn absorb(
        &self,
        st: &mut ControlState,
        shared: &ThreadShared,
        joined: std::thread::Result<ThreadResult>,
    ) {
        let outcome = match joined {
            Ok(o) => o,
            Err(payload) => {
                // The worker's own catch_unwind failed (a panic while building it): count it.
                let mut log = ViolationLog::new(1);
                let mut v = crate::engine::check::Violation::at_end(
                    crate::engine::check::ViolationKind::WorkerPanic,
                    panic_message(payload.as_ref()),
                );
                v.thread = Some(shared.index);
                log.record(v);
                st.end_violations.merge(&log);
                return;
            }
        };
        st.segment.inserted += outcome.inserted;
        st.segment.removed += outcome.removed;
        st.segment.prefilled += outcome.prefilled;
        match st.results.entry(outcome.index) {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(outcome);
            }
            std::collections::btree_map::Entry::Occupied(mut o) => o.get_mut().merge(outcome),
        }
    }

    /// Joins retiring workers that have exited.
    pub(crate) fn reap(&self, st: &mut ControlState) {
        let mut i = 0;
        while i < st.live.len() {
            let w = &st.live[i];
            if w.retiring && w.shared.state().is_over() {
                let mut w = st.live.swap_remove(i);
                if let Some(h) = w.handle.take() {
                    let joined = h.join();
                    self.absorb(st, &w.shared, joined);
                }
            } else {
                i += 1;
            }
        }
    }

    /// Stops every worker of the current table and joins them.
    pub(crate) fn stop_all(&self, st: &mut ControlState) {
        for w in &st.live {
            w.shared.update(|s| s.stop = true);
        }
        for mut w in std::mem::take(&mut st.live) {
            if let Some(h) = w.handle.take() {
                let joined = h.join();
                self.absorb(st, &w.shared, joined);
            }
        }
        for g in &mut st.groups {
            g.members.clear();
        }
    }

    /// Checks the current table at quiescence (all its workers joined).
    pub(crate) fn close_segment(&self, st: &mut ControlState) {
        let hosted = Arc::clone(&st.hosted);
        let balance = Balance::new(st.segment.inserted, st.segment.removed, hosted.facts().elements());
        let final_snap =
            hosted.facts().geometry().filter(|g| g.capacity() <= FINAL_SNAPSHOT_MAX_CAPACITY).and_then(|g| {
                let mut snap = Snapshot::fresh(g);
                hosted.facts().snapshot_into(&mut snap).then_some(snap)
            });
        let snapshot = final_snap.as_ref().map(SnapshotCheck::of);
        if let Some(r) = &self.recorder {
            r.end_table(hosted.facts().elements(), st.segment.inserted, st.segment.removed, final_snap);
        }
        if hosted.facts().geometry().is_some_and(|g| g.capacity() > FINAL_SNAPSHOT_MAX_CAPACITY) {
            st.warnings.push(format!(
                "no end-of-run snapshot check: the table has more than {FINAL_SNAPSHOT_MAX_CAPACITY} slots"
            ));
        }
        for v in balance.violation().into_iter().chain(snapshot.as_ref().and_then(SnapshotCheck::violation)) {
            st.end_violations.record(v);
        }
        if st.first_prefill.is_none() {
            st.first_prefill =
                Some(PrefillReport { asked: st.segment.prefill_asked, inserted: st.segment.prefilled });
        }
        st.segments.push(SegmentCheck { backend: hosted.facts().describe(), balance, snapshot });
        st.segment = SegmentTotals::default();
    }

    /// Spawns the initial (or restarted) workers, each with its prefill share, and waits until
    /// all have prefilled. Returns the clock reading after the prefill.
    pub(crate) fn populate(
        &self,
        st: &mut ControlState,
        threads: &[(usize, usize)],
    ) -> Result<u64, EngineError> {
        let capacity = self.capacity_for_keys(st.hosted.as_ref());
        // Rounded; the prefill fraction is validated to 0.0 ..= 1.0.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
        let asked =
            ((self.spec.table.prefill.clamp(0.0, 1.0) * capacity as f64).round() as u64).min(capacity as u64);
        st.segment.prefill_asked = asked;
        let n = threads.len().max(1) as u64;
        let gate = Arc::new(StartGate::new());
        for (i, &(group, index)) in threads.iter().enumerate() {
            let share = asked / n + u64::from((i as u64) < asked % n);
            if let Err(e) = self.spawn_worker(st, group, index, share, Some(Arc::clone(&gate))) {
                // Release the ones already waiting, then stop them.
                gate.open(self.clock.now_ns());
                self.stop_all(st);
                return Err(e);
            }
        }
        gate.wait_arrived(threads.len());
        let now = self.clock.now_ns();
        if self.start_ns() == 0 {
            self.start_ns.store(now.max(1), Ordering::Relaxed);
            if let Some(r) = &self.recorder {
                r.clock_started(now.max(1));
            }
        }
        gate.open(self.start_ns());
        Ok(now)
    }

    pub(crate) fn set_group_settings(
        &self,
        st: &ControlState,
        group: usize,
        change: impl Fn(&mut WorkerSettings),
    ) {
        for w in st.live.iter().filter(|w| !w.retiring && w.shared.group == group) {
            w.shared.update(&change);
        }
    }

    pub(crate) fn apply(&self, command: Command, source: &str) -> Result<(), EngineError> {
        let mut st = lock(&self.state);
        self.reap(&mut st);
        match command {
            Command::AddThread { group } => {
                let g = self.group_index(&st, &group)?;
                self.add_threads(&mut st, g, 1)?;
                self.log_kind(
                    &mut st,
                    source,
                    ControlKind::AddThread,
                    format!("group {group}: add a thread"),
                );
            }
            Command::RemoveThread { group } => {
                let g = self.group_index(&st, &group)?;
                if st.groups[g].members.is_empty() {
                    return Err(EngineError::NoThreadToRemove(group));
                }
                self.remove_threads(&mut st, g, 1);
                self.log_kind(
                    &mut st,
                    source,
                    ControlKind::RemoveThread,
                    format!("group {group}: remove a thread"),
                );
            }
            Command::Repin { thread, core } => {
                let w = st
                    .live
                    .iter()
                    .find(|w| w.index == thread && !w.retiring)
                    .ok_or(EngineError::UnknownThread(thread))?;
                if let Some(c) = core {
                    self.plan
                        .check(&PinPolicy::Cores(vec![c]))
                        .map_err(|error| EngineError::Pin { group: w.shared.group_name.clone(), error })?;
                }
                w.shared.update(|s| s.core = core);
                let core_text = core.map_or_else(|| "none".to_owned(), |c| c.to_string());
                self.log(&mut st, source, format!("thread {thread}: pin to core {core_text}"));
            }
            Command::SetPin { group, pin } => {
                let g = self.group_index(&st, &group)?;
                self.plan.check(&pin).map_err(|error| EngineError::Pin { group: group.clone(), error })?;
                let members = st.groups[g].members.clone();
                for (in_group, &index) in members.iter().enumerate() {
                    let core = self.plan.core_for(&pin, index, in_group).ok().flatten();
                    if let Some(w) = st.live.iter().find(|w| w.index == index) {
                        w.shared.update(|s| s.core = core);
                    }
                }
                st.groups[g].spec.pin = pin.clone();
                self.log(&mut st, source, format!("group {group}: pin {}", crate::report::pin_text(&pin)));
            }
            Command::SetMix { group, mix } => {
                let g = self.group_index(&st, &group)?;
                if st.groups[g].spec.mix != mix {
                    st.streams_changed = true;
                }
                st.groups[g].spec.mix = mix;
                self.set_group_settings(&st, g, |s| s.mix = mix);
                let [l, i, r] = mix_array(mix);
                self.log(&mut st, source, format!("group {group}: mix {l}/{i}/{r}"));
            }
            Command::SetRate { group, rate } => {
                let g = self.group_index(&st, &group)?;
                if let Some(r) = rate.filter(|r| !(r.is_finite() && *r > 0.0)) {
                    return Err(EngineError::BadRate(r));
                }
                st.groups[g].spec.rate = rate;
                self.set_group_settings(&st, g, |s| s.rate = rate);
                let text = rate.map_or_else(|| "closed loop".to_owned(), |r| format!("{r} ops/s per thread"));
                self.log(&mut st, source, format!("group {group}: rate {text}"));
            }
            Command::SetKeys { group, keys, stale_share } => {
                let g = self.group_index(&st, &group)?;
                let ranks = self.capacity_for_keys(st.hosted.as_ref()) / self.initial_threads();
                let picker = KeyPicker::new(keys, ranks);
                if st.groups[g].spec.stale_share.to_bits() != stale_share.to_bits() {
                    st.streams_changed = true;
                }
                st.groups[g].spec.keys = keys;
                st.groups[g].spec.stale_share = stale_share;
                st.groups[g].picker = picker.clone();
                self.set_group_settings(&st, g, |s| {
                    s.keys = picker.clone();
                    s.stale_share = stale_share;
                });
                let text = crate::report::key_choice_text(keys);
                self.log(&mut st, source, format!("group {group}: keys {text}, stale share {stale_share}"));
            }
            Command::Pause => {
                if !self.paused.swap(true, Ordering::Relaxed) {
                    lock(&self.pause).since = Some(self.clock.now_ns());
                    for w in &st.live {
                        w.shared.update(|s| s.paused = true);
                    }
                    self.log_kind(&mut st, source, ControlKind::Pause, "pause".to_owned());
                }
            }
            Command::Resume => {
                if self.paused.swap(false, Ordering::Relaxed) {
                    let now = self.clock.now_ns();
                    {
                        let mut p = lock(&self.pause);
                        if let Some(s) = p.since.take() {
                            p.total += now.saturating_sub(s);
                        }
                    }
                    for w in &st.live {
                        w.shared.update(|s| s.paused = false);
                    }
                    self.log_kind(&mut st, source, ControlKind::Resume, "resume".to_owned());
                }
            }
            Command::ResetStats => {
                st.reset_epoch += 1;
                let epoch = st.reset_epoch;
                self.reset_epoch.store(epoch, Ordering::Relaxed);
                for w in &st.live {
                    w.shared.update(|s| s.reset_epoch = epoch);
                }
                self.log_kind(&mut st, source, ControlKind::ResetStats, "reset statistics".to_owned());
            }
            Command::Restart { table } => {
                self.release_pin_holder();
                self.restart(&mut st, table, source)?;
            }
            Command::SetThreads { group, threads } => {
                let g = self.group_index(&st, &group)?;
                self.set_threads(&mut st, g, threads)?;
                self.log(&mut st, source, format!("group {group}: {threads} threads"));
            }
            Command::SetRemoveOrder { group, order } => {
                let g = self.group_index(&st, &group)?;
                if st.groups[g].remove_order != order {
                    st.streams_changed = true;
                }
                st.groups[g].remove_order = order;
                self.set_group_settings(&st, g, |s| s.remove_order = order);
                self.log(&mut st, source, format!("group {group}: removes take the {} key", order.name()));
            }
            Command::SetHiccup { group, hiccup } => {
                let g = self.group_index(&st, &group)?;
                st.groups[g].hiccup = hiccup;
                self.set_group_settings(&st, g, |s| s.hiccup = hiccup);
                let text = hiccup.map_or_else(
                    || "no stall".to_owned(),
                    |h| format!("a stall of {:?} every {:?}", h.pause, h.every),
                );
                self.log(&mut st, source, format!("group {group}: {text}"));
            }
            Command::SetKeep { group, keep } => {
                let g = self.group_index(&st, &group)?;
                if st.groups[g].keep != keep {
                    st.streams_changed = true;
                }
                st.groups[g].keep = keep;
                self.set_group_settings(&st, g, |s| s.keep = keep);
                let text =
                    keep.map_or_else(|| "no limit".to_owned(), |k| format!("at most {k} keys a thread"));
                self.log(&mut st, source, format!("group {group}: {text}"));
            }
            Command::HoldPin { hold } => {
                self.release_pin_holder();
                if let Some(max) = hold {
                    let state = HoldState::new(max);
                    let handle = st
                        .hosted
                        .hold_pin(Arc::clone(&state))
                        .map_err(|e| EngineError::Spawn(e.to_string()))?;
                    *lock(&self.pin_holder) = Some(PinHolder { state, handle: Some(handle) });
                    self.log(&mut st, source, format!("a reader holds its epoch pin (at most {max:?})"));
                } else {
                    self.log(&mut st, source, "the pin holder lets go".to_owned());
                }
            }
        }
        drop(st);
        self.conductor_wake.notify_all();
        Ok(())
    }

    pub(crate) fn add_threads(
        &self,
        st: &mut ControlState,
        group: usize,
        n: usize,
    ) -> Result<(), EngineError> {
        for _ in 0..n {
            let index = st.next_index;
            self.spawn_worker(st, group, index, 0, None)?;
            st.next_index += 1;
        }
        Ok(())
    }

    pub(crate) fn remove_threads(&self, st: &mut ControlState, group: usize, n: usize) {
        for _ in 0..n {
            let Some(index) = st.groups[group].members.pop() else { return };
            if let Some(w) = st.live.iter_mut().find(|w| w.index == index) {
                w.retiring = true;
                w.shared.update(|s| s.stop = true);
            }
        }
    }

    pub(crate) fn set_threads(
        &self,
        st: &mut ControlState,
        group: usize,
        target: usize,
    ) -> Result<(), EngineError> {
        let have = st.groups[group].members.len();
        if target > have {
            self.add_threads(st, group, target - have)?;
        } else {
            self.remove_threads(st, group, have - target);
        }
        Ok(())
    }

    pub(crate) fn restart(
        &self,
        st: &mut ControlState,
        table: TableSpec,
        source: &str,
    ) -> Result<(), EngineError> {
        if !self.factory {
            return Err(EngineError::RestartUnsupported);
        }
        let hosted = open_hosted(&table, self.options.garbage_gauge)?;
        self.restarting.store(true, Ordering::Relaxed);
        let done = self.replace_table(st, table, &hosted);
        self.restarting.store(false, Ordering::Relaxed);
        let what = done?;
        self.log(st, source, what);
        Ok(())
    }

    pub(crate) fn replace_table(
        &self,
        st: &mut ControlState,
        table: TableSpec,
        hosted: &Arc<dyn Hosted>,
    ) -> Result<String, EngineError> {
        let from_pause = self.clock.now_ns();
        // Who runs now, to run again on the new table with the same indices.
        let threads: Vec<(usize, usize)> = st
            .groups
            .iter()
            .enumerate()
            .flat_map(|(g, gs)| gs.members.iter().map(move |&i| (g, i)))
            .collect();
        self.stop_all(st);
        self.close_segment(st);
        lock(&self.registry).clear();
        self.registry_generation.fetch_add(1, Ordering::Relaxed);
        st.hosted = Arc::clone(hosted);
        *lock(&self.hosted) = Arc::clone(hosted);
        st.backends.push(BackendInfo {
            name: hosted.facts().kind().name(),
            description: hosted.facts().describe(),
            capacity: hosted.facts().capacity(),
            broken: table.variant.is_broken() && hosted.facts().kind() == BackendKind::Slotscope,
            from_ns: self.timeline_ns(),
        });
        let what = format!("restart on {}", hosted.facts().describe());
        if let Some(r) = &self.recorder {
            r.control(ControlKind::Restart, "engine", &what);
            r.begin_table(
                u32::try_from(st.segments.len()).unwrap_or(u32::MAX),
                recorded_table(hosted),
                table.variant,
                table.allocator,
            );
        }
        st.table = table;
        let done = self.populate(st, &threads);
        // The restart's prefill does not count as run time.
        let now = self.clock.now_ns();
        lock(&self.pause).total += now.saturating_sub(from_pause);
        done?;
        Ok(what)
    }

    /// Releases the pin holder, if one holds, and waits until it has let go (the entry stays,
    /// released, for samples to report).
    pub(crate) fn release_pin_holder(&self) {
        let mut holder = lock(&self.pin_holder);
        if let Some(h) = holder.as_mut() {
            h.state.release(crate::engine::stall::PinRelease::Asked);
            if let Some(handle) = h.handle.take() {
                let _ = handle.join();
            }
        }
    }

    /// Whether the run reached its end: the deadline passed, or every thread of the current
    /// table has exited (did its op count, was removed, or panicked). Never locks the control
    /// state, so a sampler can ask while a restart is prefilling.
    pub(crate) fn is_done(&self) -> bool {
        if self.deadline_reached.load(Ordering::Relaxed) {
            return true;
        }
        if self.restarting.load(Ordering::Relaxed) {
            return false;
        }
        let registry = lock(&self.registry);
        !registry.is_empty() && registry.iter().all(|t| t.state().is_over())
    }
}
