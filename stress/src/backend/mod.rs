//! The tables the workers drive, behind one trait.
//!
//! A [`Backend`] is shared by all workers (`&self` everywhere); each worker opens its own
//! [`Session`] on it, which may hold per-thread state across ops (our table's epoch pin, which
//! the worker renews with [`Session::repin`] every batch). Workers are generic over the
//! backend, so every call is static and inlined: no virtual call per op.
//!
//! | backend | ids | capacity | snapshots | probes |
//! |---|---|---|---|---|
//! | `slotscope` | the table's generational keys | fixed, run-time | yes | yes |
//! | `ptab` | ptab's indices (no generation check) | fixed, compile-time sizes | no | no |
//! | `rwlock-hashmap`, `dashmap`, `rcu-hashmap` | `thread << 40 \| seq` | none | no | no |
//! | `sharded-slab` | the slab's generational keys | none | no | no |
//!
//! For backends without a capacity the worker enforces a per-thread budget of keys (capacity /
//! threads at start), so that every backend runs at a comparable fill.

pub mod gauge;
mod maps;
mod ptab;
mod slab;
mod slotscope;

use slotscope_table::{BuildError, Geometry, Probe, Snapshot};

use crate::scenario::spec::{BackendKind, TableSpec};

pub use self::maps::{DashMapBackend, RcuHashMapBackend, RwLockHashMapBackend};
pub use self::ptab::{PtabBackend, PTAB_CAPACITIES};
pub use self::slab::ShardedSlabBackend;
pub use self::slotscope::{Counted, SlotscopeBackend, Stored};
/// What the engine stores (defined with the rest of an op's vocabulary).
pub use slotscope_trace::Value;

/// One worker's handle on a backend.
pub trait Session {
    /// Inserts `value`; its id, or `None` when the backend refused (full).
    fn insert<P: Probe>(&mut self, value: Value, probe: &mut P) -> Option<u64>;
    /// The value filed under `id`, if any.
    fn lookup<P: Probe>(&mut self, id: u64, probe: &mut P) -> Option<Value>;
    /// Removes `id`; whether this call removed it.
    fn remove<P: Probe>(&mut self, id: u64, probe: &mut P) -> bool;
    /// Lets reclamation move on (drops and retakes any epoch pin). Called every batch.
    #[inline]
    fn repin(&mut self) {}
}

/// What the engine and its recorder ask of a table besides its ops: object safe, so that a
/// running engine holds any backend as `dyn BackendFacts` (see [`Backend`] for the ops).
pub trait BackendFacts: Send + Sync {
    /// Which backend this is.
    fn kind(&self) -> BackendKind;

    /// One line: the backend and its configuration (e.g. "slotscope interleaved 64 B lines,
    /// 65536 slots").
    fn describe(&self) -> String;

    /// The most elements it holds, if it has a fixed capacity.
    fn capacity(&self) -> Option<usize>;

    /// Elements held (exact at quiescence), if it can tell.
    fn elements(&self) -> Option<usize>;

    /// Slot and ring line geometry, for per-line write heat (our table only).
    fn geometry(&self) -> Option<Geometry> {
        None
    }

    /// Copies the table's state into `snap`; false if this backend has no snapshots.
    fn snapshot_into(&self, _snap: &mut Snapshot) -> bool {
        false
    }

    /// Whether this backend reports contention to a probe (our table only).
    fn has_probes(&self) -> bool {
        false
    }

    /// Elements retired and freed so far, if this backend counts them (our table built with a
    /// garbage gauge, see [`crate::backend::gauge`]).
    fn garbage(&self) -> Option<crate::backend::gauge::GarbageCount> {
        None
    }

    /// Bytes of one element as the table allocates it, without allocator overhead (0 if
    /// unknown).
    fn element_bytes(&self) -> usize {
        0
    }
}

/// A table the engine can drive: its facts, and a session per worker thread.
pub trait Backend: BackendFacts + 'static {
    /// A worker's handle.
    type Session<'a>: Session
    where
        Self: 'a;

    /// Opens a handle for the calling thread.
    fn session(&self) -> Self::Session<'_>;
}

/// Why a backend could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// Our table refused the configuration.
    #[error("table: {0}")]
    Table(#[from] BuildError),
    /// `ptab` only exists at a few compile-time capacities.
    #[error(
        "the ptab backend has compile-time capacities only: {asked} rounds to none of {} (ask for one of them)",
        PTAB_CAPACITIES.map(|c| c.to_string()).join(", ")
    )]
    PtabCapacity {
        /// The capacity asked for.
        asked: usize,
    },
}

/// Receives the concrete backend that [`open_backend`] built (so that the caller stays
/// generic over it: the workers it spawns are monomorphised).
pub trait BackendVisitor {
    /// What the visit returns.
    type Output;
    /// Called once with the new backend.
    fn visit<B: Backend>(self, backend: B) -> Self::Output;
}

/// Builds the backend `table` describes and hands it to `visitor`.
///
/// # Errors
/// [`BackendError`] for a configuration the backend cannot have.
pub fn open_backend<V: BackendVisitor>(table: &TableSpec, visitor: V) -> Result<V::Output, BackendError> {
    Ok(match table.backend {
        BackendKind::Slotscope => visitor.visit(SlotscopeBackend::new(table)?),
        BackendKind::Ptab => return ptab::open(table.capacity, visitor),
        BackendKind::RwLockHashMap => visitor.visit(RwLockHashMapBackend::new(table.capacity)),
        BackendKind::DashMap => visitor.visit(DashMapBackend::new(table.capacity)),
        BackendKind::RcuHashMap => visitor.visit(RcuHashMapBackend::new(table.capacity)),
        BackendKind::ShardedSlab => visitor.visit(ShardedSlabBackend::new()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use slotscope_table::NoProbe;

    /// Runs the same insert / lookup / remove script through the trait.
    struct Exercise;

    impl BackendVisitor for Exercise {
        type Output = ();
        fn visit<B: Backend>(self, backend: B) {
            let name = backend.kind().name();
            let mut s = backend.session();
            let p = &mut NoProbe;
            let values: Vec<Value> = (0..20).map(|seq| Value { thread: 3, seq }).collect();
            let ids: Vec<u64> = values.iter().map(|&v| s.insert(v, p).expect(name)).collect();
            let mut distinct = ids.clone();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(distinct.len(), ids.len(), "{name}: ids are distinct");
            for (id, v) in ids.iter().zip(&values) {
                assert_eq!(s.lookup(*id, p), Some(*v), "{name}");
            }
            if let Some(len) = backend.elements() {
                assert_eq!(len, 20, "{name}");
            }
            assert!(s.remove(ids[4], p), "{name}");
            assert!(!s.remove(ids[4], p), "{name}: a second remove finds nothing");
            assert_eq!(s.lookup(ids[4], p), None, "{name}");
            assert_eq!(s.lookup(ids[5], p), Some(values[5]), "{name}");
            s.repin();
            assert_eq!(s.lookup(ids[6], p), Some(values[6]), "{name}");
            if let Some(len) = backend.elements() {
                assert_eq!(len, 19, "{name}");
            }
            assert!(!backend.describe().is_empty());
            let mut snap = Snapshot::fresh(Geometry::new(16, slotscope_table::Layout::Linear, 64).unwrap());
            let has = backend.snapshot_into(&mut snap);
            assert_eq!(has, backend.kind() == BackendKind::Slotscope, "{name}");
            if has {
                assert_eq!(snap.occupied(), 19);
            }
        }
    }

    #[test]
    fn every_backend_inserts_looks_up_and_removes() {
        for kind in BackendKind::ALL {
            let spec = TableSpec { backend: kind, capacity: 1024, ..TableSpec::default() };
            open_backend(&spec, Exercise).unwrap();
        }
    }

    #[test]
    fn ptab_refuses_unsupported_capacities() {
        let spec = TableSpec { backend: BackendKind::Ptab, capacity: 1 << 26, ..TableSpec::default() };
        let err = open_backend(&spec, Exercise).unwrap_err();
        assert_eq!(err, BackendError::PtabCapacity { asked: 1 << 26 });
        assert!(err.to_string().contains("1024"));
        // Sizes round up like ptab's own: 1000 is 1024.
        let spec = TableSpec { backend: BackendKind::Ptab, capacity: 1000, ..TableSpec::default() };
        open_backend(&spec, Exercise).unwrap();
    }

    #[test]
    fn map_ids_pack_thread_and_seq() {
        assert_eq!(Value { thread: 2, seq: 5 }.map_id(), (2 << 40) | 5);
        // Sequence numbers past 2^40 wrap into the low bits rather than spill into the thread.
        assert_eq!(Value { thread: 0, seq: (1 << 40) + 7 }.map_id(), 7);
    }
}
