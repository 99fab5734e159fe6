//! The probe a recording worker runs with: it forwards to the worker's own probe and keeps
//! what the current op ran into, for the op's event.

use slotscope_table::{Probe, Region};
use slotscope_trace::{Counts, OpProbes};

use crate::engine::stats::WorkerProbe;

/// A worker's probe while recording: forwards to the worker's own probe and keeps what the
/// current op ran into, for its event.
#[derive(Debug)]
pub(crate) struct OpProbe<P> {
    inner: P,
    op: OpProbes,
}

impl<P> OpProbe<P> {
    pub(crate) fn new(inner: P) -> Self {
        OpProbe { inner, op: OpProbes::default() }
    }
}

impl<P: Probe> Probe for OpProbe<P> {
    #[inline]
    fn ticket_skip(&mut self) {
        self.op.ticket_skips += 1;
        self.inner.ticket_skip();
    }
    #[inline]
    fn ring_retry(&mut self) {
        self.op.ring_retries += 1;
        self.inner.ring_retry();
    }
    #[inline]
    fn full_undo(&mut self) {
        self.op.full_undos += 1;
        self.inner.full_undo();
    }
    #[inline]
    fn stale_rejected(&mut self) {
        self.op.stale_rejections += 1;
        self.inner.stale_rejected();
    }
    #[inline]
    fn lookup(&mut self, hit: bool) {
        self.inner.lookup(hit);
    }
    #[inline]
    fn line_write(&mut self, region: Region, line: usize) {
        self.inner.line_write(region, line);
    }
}

impl<P: WorkerProbe> WorkerProbe for OpProbe<P> {
    #[inline]
    fn drain_into(&mut self, counts: &mut Counts) {
        self.inner.drain_into(counts);
    }
    #[inline]
    fn take_op_probes(&mut self) -> OpProbes {
        std::mem::take(&mut self.op)
    }
}
