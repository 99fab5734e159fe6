//! How the engine hosts a backend: behind a trait object for everything but the hot loop, and
//! with workers spawned monomorphised over it, each under `catch_unwind`. A panic hook keeps
//! worker panics off the terminal (they become violations, with their location).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Once};
use std::thread::JoinHandle;

use slotscope_table::{NoProbe, Snapshot};

use crate::backend::{
    open_backend, Backend, BackendError, BackendFacts, BackendVisitor, Session, SlotscopeBackend,
};
use crate::engine::event::NoEvents;
use crate::engine::stall::{HoldState, PinRelease, HOLD_POLL, PIN_HOLD_GARBAGE_CAP};
use crate::engine::stats::{NoHeat, ThreadProbe};
use crate::engine::worker::{ThreadResult, Worker, WorkerSetup};
use crate::recorder::{OpProbe, RecordedTable};
use crate::scenario::spec::{BackendKind, TableSpec};
use crate::sync::lock;

/// Worker threads are named this plus their global index (`slotscope-w3`).
pub const WORKER_THREAD_PREFIX: &str = "slotscope-w";
/// A backend behind a trait object, for everything but the hot loop (which `spawn`
/// monomorphises).
pub(crate) trait Hosted: Send + Sync {
    /// What the backend is (kind, size, geometry, snapshots, garbage).
    fn facts(&self) -> &dyn BackendFacts;
    fn spawn(&self, setup: WorkerSetup) -> std::io::Result<JoinHandle<ThreadResult>>;
    /// Spawns a thread that opens a session (pinning the epoch, on our table) and holds it
    /// until `state` is released, its time is up, or the garbage reaches its cap.
    fn hold_pin(&self, state: Arc<HoldState>) -> std::io::Result<JoinHandle<()>>;
}

pub(crate) struct HostedBackend<B> {
    pub(crate) backend: Arc<B>,
}

impl<B: Backend> Hosted for HostedBackend<B> {
    fn facts(&self) -> &dyn BackendFacts {
        self.backend.as_ref()
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

    fn spawn(&self, mut setup: WorkerSetup) -> std::io::Result<JoinHandle<ThreadResult>> {
        let index = setup.shared.index;
        let heat = setup.shared.heat.clone();
        let exits = Arc::clone(&setup.exits);
        let sink = setup.sink.take();
        let backend = Arc::clone(&self.backend);
        std::thread::Builder::new().name(format!("{WORKER_THREAD_PREFIX}{index}")).spawn(move || {
            let probes = setup.probes;
            let outcome = match (heat, sink) {
                (Some(heat), None) => {
                    run_worker(Worker::new(backend, setup, ThreadProbe::new(heat), NoEvents))
                }
                (None, None) if probes => {
                    run_worker(Worker::new(backend, setup, ThreadProbe::new(NoHeat), NoEvents))
                }
                (None, None) => run_worker(Worker::new(backend, setup, NoProbe, NoEvents)),
                (Some(heat), Some(sink)) => {
                    run_worker(Worker::new(backend, setup, OpProbe::new(ThreadProbe::new(heat)), sink))
                }
                (None, Some(sink)) if probes => {
                    run_worker(Worker::new(backend, setup, OpProbe::new(ThreadProbe::new(NoHeat)), sink))
                }
                (None, Some(sink)) => run_worker(Worker::new(backend, setup, OpProbe::new(NoProbe), sink)),
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

fn run_worker<B: Backend, P: crate::engine::stats::WorkerProbe, S: crate::engine::event::OpSink>(
    mut worker: Worker<B, P, S>,
) -> ThreadResult {
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

/// What a recording of `hosted` needs: its facts for the trace, and a snapshot callback for the
/// writer thread (which never sees the engine's types).
pub(crate) fn recorded_table(hosted: &Arc<dyn Hosted>) -> RecordedTable {
    let facts = hosted.facts();
    let source = Arc::clone(hosted);
    RecordedTable {
        backend: facts.kind().name(),
        description: facts.describe(),
        capacity: facts.capacity(),
        geometry: facts.geometry(),
        snapshot: Arc::new(move |snap: &mut Snapshot| source.facts().snapshot_into(snap)),
    }
}
