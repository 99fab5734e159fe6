//! The `ptab` crate 0.1.7 (the seeds' table). Its capacity is a compile-time constant, so a
//! few sizes are compiled in; others are an error. Its ids carry no generation check: a stale
//! id reads (and would remove) whatever lives in its slot now, which the engine's stale-key
//! lookups catch as violations.

use ptab::{ConstParams, Detached, PTab};
use slotscope_table::Probe;

use super::{Backend, BackendError, BackendFacts, BackendVisitor, Session, Value};
use crate::scenario::spec::BackendKind;

/// The capacities compiled in (asked-for capacities round up to a power of two first).
pub const PTAB_CAPACITIES: [usize; 6] = [1 << 10, 1 << 12, 1 << 14, 1 << 16, 1 << 18, 1 << 20];

/// `ptab::PTab<Value, ConstParams<N>>`.
pub struct PtabBackend<const N: usize> {
    table: PTab<Value, ConstParams<N>>,
}

impl<const N: usize> PtabBackend<N> {
    /// An empty table of N slots.
    pub fn new() -> Self {
        PtabBackend { table: PTab::new() }
    }
}

impl<const N: usize> Default for PtabBackend<N> {
    fn default() -> Self {
        PtabBackend::new()
    }
}

impl<const N: usize> std::fmt::Debug for PtabBackend<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PtabBackend").field("capacity", &N).finish_non_exhaustive()
    }
}

/// Builds the compiled-in size that `capacity` rounds up to.
pub(super) fn open<V: BackendVisitor>(capacity: usize, visitor: V) -> Result<V::Output, BackendError> {
    let n = capacity.checked_next_power_of_two().unwrap_or(0);
    Ok(match n {
        0x400 => visitor.visit(PtabBackend::<0x400>::new()),
        0x1000 => visitor.visit(PtabBackend::<0x1000>::new()),
        0x4000 => visitor.visit(PtabBackend::<0x4000>::new()),
        0x1_0000 => visitor.visit(PtabBackend::<0x1_0000>::new()),
        0x4_0000 => visitor.visit(PtabBackend::<0x4_0000>::new()),
        0x10_0000 => visitor.visit(PtabBackend::<0x10_0000>::new()),
        _ => return Err(BackendError::PtabCapacity { asked: capacity }),
    })
}

// Ids are `usize` in ptab and `u64` here: the same width on the 64-bit targets we build for.
#[allow(clippy::cast_possible_truncation)]
fn detached(id: u64) -> Detached {
    Detached::from_bits(id as usize)
}

impl<const N: usize> Session for &PtabBackend<N> {
    #[inline]
    fn insert<P: Probe>(&mut self, value: Value, _probe: &mut P) -> Option<u64> {
        self.table.insert(value).map(|d| d.into_bits() as u64)
    }

    #[inline]
    fn lookup<P: Probe>(&mut self, id: u64, _probe: &mut P) -> Option<Value> {
        self.table.read(detached(id))
    }

    #[inline]
    fn remove<P: Probe>(&mut self, id: u64, _probe: &mut P) -> bool {
        self.table.remove(detached(id))
    }
}

impl<const N: usize> BackendFacts for PtabBackend<N> {
    fn kind(&self) -> BackendKind {
        BackendKind::Ptab
    }
    fn describe(&self) -> String {
        format!("ptab 0.1.7, {} slots (no generation check: stale ids alias)", self.table.capacity())
    }
    fn capacity(&self) -> Option<usize> {
        Some(self.table.capacity())
    }
    fn elements(&self) -> Option<usize> {
        Some(self.table.len())
    }
}

impl<const N: usize> Backend for PtabBackend<N> {
    type Session<'a> = &'a PtabBackend<N>;
    fn session(&self) -> &PtabBackend<N> {
        self
    }
}
