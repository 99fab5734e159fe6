//! How the engine hosts a backend: behind a trait object for everything but the hot loop, and
//! with workers spawned monomorphised over it, each under `catch_unwind`. A panic hook keeps
//! worker panics off the terminal (they become violations, with their location).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, Once};
use std::thread::JoinHandle;
use std::time::Duration;

use slotscope_table::{Geometry, NoProbe, Snapshot};

use crate::backend::{open_backend, Backend, BackendError, BackendVisitor, Session, SlotscopeBackend};
use crate::control::{lock, StartGate, ThreadShared};
use crate::event::NoEvents;
use crate::gauge::GarbageCount;
use crate::mix::ChoiceStream;
use crate::recorder::{OpProbe, ThreadSink};
use crate::spec::{BackendKind, TableSpec};
use crate::stall::{HoldState, PinRelease, HOLD_POLL, PIN_HOLD_GARBAGE_CAP};
use crate::stats::ThreadProbe;
use crate::timer::Clock;
use crate::worker::{Worker, WorkerOutcome, WorkerSetup};

/// Worker threads are named this plus their global index (`slotscope-w3`).
pub const WORKER_THREAD_PREFIX: &str = "slotscope-w";
/// Wakes whoever waits for workers to exit.
#[derive(Debug, Default)]
pub(crate) struct ExitSignal {
    exits: Mutex<u64>,
    changed: Condvar,
}

impl ExitSignal {
    pub(crate) fn notify(&self) {
        *lock(&self.exits) += 1;
        self.changed.notify_all();
    }

    pub(crate) fn wait(&self, timeout: Duration) {
        let guard = lock(&self.exits);
        let seen = *guard;
        let _ = self.changed.wait_timeout_while(guard, timeout, |n| *n == seen);
    }
}

/// What a worker needs, apart from the (generic) backend.
pub(crate) struct SpawnSetup {
    pub(crate) shared: Arc<ThreadShared>,
    pub(crate) clock: Clock,
    pub(crate) gate: Option<Arc<StartGate>>,
    pub(crate) run_start_ns: u64,
    pub(crate) stream: ChoiceStream,
    pub(crate) next_seq: u64,
    pub(crate) prefill: u64,
    pub(crate) budget: Option<usize>,
    pub(crate) stop_after: Option<u64>,
    pub(crate) time_every: u32,
    pub(crate) series_interval_ns: u64,
    pub(crate) expected_keys: usize,
    pub(crate) exits: Arc<ExitSignal>,
    /// Where the worker's events go when the run is recorded.
    pub(crate) sink: Option<ThreadSink>,
}

/// A backend behind a trait object, for everything but the hot loop (which `spawn`
/// monomorphises).
pub(crate) trait Hosted: Send + Sync {
    fn kind(&self) -> BackendKind;
    fn describe(&self) -> String;
    fn capacity(&self) -> Option<usize>;
    fn elements(&self) -> Option<usize>;
    fn geometry(&self) -> Option<Geometry>;
    fn snapshot_into(&self, snap: &mut Snapshot) -> bool;
    fn has_probes(&self) -> bool;
    fn garbage(&self) -> Option<GarbageCount>;
    fn element_bytes(&self) -> usize;
    fn spawn(&self, setup: SpawnSetup) -> std::io::Result<JoinHandle<WorkerOutcome>>;
    /// Spawns a thread that opens a session (pinning the epoch, on our table) and holds it
    /// until `state` is released, its time is up, or the garbage reaches its cap.
    fn hold_pin(&self, state: Arc<HoldState>) -> std::io::Result<JoinHandle<()>>;
}

pub(crate) struct HostedBackend<B> {
    pub(crate) backend: Arc<B>,
}

impl<B: Backend> Hosted for HostedBackend<B> {
    fn kind(&self) -> BackendKind {
        self.backend.kind()
    }
    fn describe(&self) -> String {
        self.backend.describe()
    }
    fn capacity(&self) -> Option<usize> {
        self.backend.capacity()
    }
    fn elements(&self) -> Option<usize> {
        self.backend.elements()
    }
    fn geometry(&self) -> Option<Geometry> {
        self.backend.geometry()
    }
    fn snapshot_into(&self, snap: &mut Snapshot) -> bool {
        self.backend.snapshot_into(snap)
    }
    fn has_probes(&self) -> bool {
        self.backend.has_probes()
    }
    fn garbage(&self) -> Option<GarbageCount> {
        self.backend.garbage()
    }
    fn element_bytes(&self) -> usize {
        self.backend.element_bytes()
    }

    fn hold_pin(&self, state: Arc<HoldState>) -> std::io::Result<JoinHandle<()>> {
        let backend = Arc::clone(&self.backend);
        std::thread::Builder::new().name("slotscope-pin-holder".to_owned()).spawn(move || {
            let mut session = backend.session();
            // One lookup, as a reader would, then it sits on its pin.
            let _ = session.lookup(0, &mut NoProbe);
            while !state.wait(HOLD_POLL) {
                if state.since.elapsed() >= state.max {
                    state.release(PinRelease::TimeUp);
                } else if backend.garbage().is_some_and(|g| g.pending() >= PIN_HOLD_GARBAGE_CAP) {
                    state.release(PinRelease::GarbageCap);
                }
            }
            drop(session);
            *lock(&state.ended) = Some(std::time::Instant::now());
        })
    }

    fn spawn(&self, s: SpawnSetup) -> std::io::Result<JoinHandle<WorkerOutcome>> {
        let index = s.shared.index;
        let heat = s.shared.heat.clone();
        let exits = s.exits;
        let setup = WorkerSetup {
            backend: Arc::clone(&self.backend),
            shared: s.shared,
            clock: s.clock,
            gate: s.gate,
            run_start_ns: s.run_start_ns,
            stream: s.stream,
            next_seq: s.next_seq,
            prefill: s.prefill,
            budget: s.budget,
            stop_after: s.stop_after,
            time_every: s.time_every,
            series_interval_ns: s.series_interval_ns,
            expected_keys: s.expected_keys,
        };
        let sink = s.sink;
        std::thread::Builder::new().name(format!("{WORKER_THREAD_PREFIX}{index}")).spawn(move || {
            let outcome = match (heat, sink) {
                (Some(heat), None) => run_worker(Worker::new(setup, ThreadProbe::new(heat), NoEvents)),
                (None, None) => run_worker(Worker::new(setup, NoProbe, NoEvents)),
                (Some(heat), Some(sink)) => {
                    run_worker(Worker::new(setup, OpProbe::new(ThreadProbe::new(heat)), sink))
                }
                (None, Some(sink)) => run_worker(Worker::new(setup, OpProbe::new(NoProbe), sink)),
            };
            exits.notify();
            outcome
        })
    }
}

std::thread_local! {
    /// Where the current worker thread panicked (set by the engine's panic hook).
    static PANIC_LOCATION: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Installs (once) a panic hook that keeps worker panics off the terminal (the engine records
/// them as violations, with the location this hook notes) and passes every other panic to the
/// hook that was there before. An app that sets its own hook should do so before starting the
/// engine.
pub(crate) fn install_worker_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let is_worker =
                std::thread::current().name().is_some_and(|n| n.starts_with(WORKER_THREAD_PREFIX));
            if is_worker {
                let at = info.location().map(|l| format!("{}:{}", l.file(), l.line()));
                PANIC_LOCATION.with(|p| *p.borrow_mut() = at);
            } else {
                previous(info);
            }
        }));
    });
}

pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(ToString::to_string)
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with a non-text payload".to_owned());
    match PANIC_LOCATION.with(|p| p.borrow_mut().take()) {
        Some(at) => format!("{text} (at {at})"),
        None => text,
    }
}

fn run_worker<B: Backend, P: crate::stats::WorkerProbe, S: crate::event::OpSink>(
    mut worker: Worker<B, P, S>,
) -> WorkerOutcome {
    let result = catch_unwind(AssertUnwindSafe(|| worker.run()));
    worker.into_outcome(result.err().map(|p| panic_message(p.as_ref())))
}

/// Builds a hosted backend from a table spec (for start and restarts).
pub(crate) struct HostVisitor;

impl BackendVisitor for HostVisitor {
    type Output = Arc<dyn Hosted>;
    fn visit<B: Backend>(self, backend: B) -> Arc<dyn Hosted> {
        Arc::new(HostedBackend { backend: Arc::new(backend) })
    }
}

/// Builds the backend of `table`; our table with a garbage gauge when `gauged`.
pub(crate) fn open_hosted(table: &TableSpec, gauged: bool) -> Result<Arc<dyn Hosted>, BackendError> {
    if gauged && table.backend == BackendKind::Slotscope {
        Ok(HostVisitor.visit(SlotscopeBackend::gauged(table)?))
    } else {
        open_backend(table, HostVisitor)
    }
}
