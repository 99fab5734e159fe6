//! Per-op events, for recording: the worker hands each op to an [`OpSink`].
//!
//! The worker is generic over the sink; [`NoEvents`] has `ENABLED = false`, so the calls and
//! the extra clock reads they need compile away. The recording sink (`crate::recorder`) pushes
//! events into a per-thread bounded ring drained by a writer thread; when the ring is full it
//! waits for the writer (or, lossy, drops and counts).

use slotscope_trace::OpEvent;

/// Receives every op of one worker.
pub trait OpSink: Send + 'static {
    /// Whether the worker should build events at all (and time every op for them).
    const ENABLED: bool;
    /// One op finished.
    fn op(&mut self, event: &OpEvent);
    /// The worker is about to go quiet (a pause, a paced sleep) and starts no op before now.
    fn quiet(&mut self) {}
}

/// The sink that records nothing (the default): compiled away.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoEvents;

impl OpSink for NoEvents {
    const ENABLED: bool = false;
    #[inline]
    fn op(&mut self, _event: &OpEvent) {}
}
