//! What the recorder's handle, the workers' sinks and the writer thread share.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize};
use std::sync::{Arc, Mutex};

use slotscope_table::Snapshot;
use slotscope_trace::{EndReason, Record, RunSummary, TableEnd};

use super::ring::{EventRing, Gate};
use crate::engine::timer::Clock;
use slotscope_trace::ThreadStart;

/// What the control plane hands the writer, in order.
pub(crate) enum Pending {
    /// A worker's ring, and the record that announces it.
    Ring(Arc<EventRing>, ThreadStart),
    /// A record to write as it is.
    Record(Record),
    /// A table's end, and its snapshot at quiescence.
    TableEnd(TableEnd, Option<Box<Snapshot>>),
}

/// The table a recording is of, as the recorder needs it: what to write in its
/// [`slotscope_trace::TableBegin`], and how the writer thread takes a periodic snapshot of it.
#[derive(Clone)]
pub(crate) struct RecordedTable {
    /// The backend's name.
    pub backend: &'static str,
    /// The backend in words.
    pub description: String,
    /// Slots, for backends that have a capacity.
    pub capacity: Option<usize>,
    /// Our table's shape (`None` for other backends: no snapshots).
    pub geometry: Option<slotscope_table::Geometry>,
    /// Fills a snapshot of the table; false when it cannot.
    pub snapshot: Arc<dyn Fn(&mut Snapshot) -> bool + Send + Sync>,
}

/// No core chosen for the writer.
pub(crate) const NO_CORE: usize = usize::MAX;

/// Shared by the recorder, its sinks and its writer thread.
pub(crate) struct RecorderShared {
    /// What the sinks see: accepting, releasing, lossy, the clock.
    pub gate: Arc<Gate>,
    pub queue: Mutex<Vec<Pending>>,
    pub finish: Mutex<Option<(EndReason, Option<RunSummary>)>>,
    pub finishing: AtomicBool,
    /// The table being recorded, for periodic snapshots.
    pub table: Mutex<Option<(u32, RecordedTable)>>,
    pub segment: AtomicU32,
    pub clock: Clock,
    /// The core the writer should run on ([`NO_CORE`]: none free).
    pub writer_core: AtomicUsize,
}

impl RecorderShared {
    pub(crate) fn new(clock: Clock, lossy: bool) -> Self {
        RecorderShared {
            gate: Arc::new(Gate::new(clock, lossy)),
            queue: Mutex::new(Vec::new()),
            finish: Mutex::new(None),
            finishing: AtomicBool::new(false),
            table: Mutex::new(None),
            segment: AtomicU32::new(0),
            clock,
            writer_core: AtomicUsize::new(NO_CORE),
        }
    }
}
