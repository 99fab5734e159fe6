//! Our table, in any layout, line size and variant; optionally with a garbage gauge.

use slotscope_table::{Geometry, Key, Probe, Snapshot, Table, Writer};

use super::{Backend, BackendFacts, Session, Value};
use crate::backend::gauge::{self, GarbageCount, GarbageGauge};
use crate::scenario::spec::{BackendKind, TableSpec};

/// What the table stores for a [`Value`]: the value itself, or the value with the id of a
/// garbage gauge whose destructor counts the free.
pub trait Stored: Send + Sync + 'static {
    /// Whether removes and frees are counted.
    const GAUGED: bool;
    /// The element for `value` in a table of gauge `gauge`.
    fn store(value: Value, gauge: u32) -> Self;
    /// The value back.
    fn value(&self) -> Value;
}

impl Stored for Value {
    const GAUGED: bool = false;
    #[inline]
    fn store(value: Value, _gauge: u32) -> Self {
        value
    }
    #[inline]
    fn value(&self) -> Value {
        *self
    }
}

/// A value that counts its own free in its table's [`GarbageGauge`] (24 bytes).
#[derive(Debug)]
pub struct Counted {
    value: Value,
    gauge: u32,
}

impl Stored for Counted {
    const GAUGED: bool = true;
    #[inline]
    fn store(value: Value, gauge: u32) -> Self {
        Counted { value, gauge }
    }
    #[inline]
    fn value(&self) -> Value {
        self.value
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        gauge::freed(self.gauge);
    }
}

/// `slotscope_table::Table<Value>` (or of [`Counted`] values, with a garbage gauge).
#[derive(Debug)]
pub struct SlotscopeBackend<E: Stored = Value> {
    table: Table<E>,
    gauge: Option<GarbageGauge>,
}

fn build<E: Stored>(spec: &TableSpec) -> Result<Table<E>, slotscope_table::BuildError> {
    Table::builder()
        .capacity(spec.capacity)
        .layout(spec.layout)
        .line_bytes(spec.line_bytes)
        .variant(spec.variant)
        .allocator(spec.allocator)
        .build()
}

impl SlotscopeBackend<Value> {
    /// The table `spec` describes (capacity, layout, line size, variant).
    ///
    /// # Errors
    /// The table's [`slotscope_table::BuildError`] for an out-of-range capacity or line size.
    pub fn new(spec: &TableSpec) -> Result<Self, slotscope_table::BuildError> {
        Ok(SlotscopeBackend { table: build(spec)?, gauge: None })
    }
}

impl SlotscopeBackend<Counted> {
    /// The table `spec` describes, counting retired and freed elements in a garbage gauge.
    ///
    /// # Errors
    /// As [`SlotscopeBackend::new`].
    pub fn gauged(spec: &TableSpec) -> Result<Self, slotscope_table::BuildError> {
        Ok(SlotscopeBackend { table: build(spec)?, gauge: Some(GarbageGauge::new()) })
    }
}

impl<E: Stored> SlotscopeBackend<E> {
    /// The table itself.
    pub fn table(&self) -> &Table<E> {
        &self.table
    }
}

/// A worker's reader (one epoch pin per batch; inserts and removes nest inside it, which makes
/// their own pin nearly free).
pub struct SlotscopeSession<'a, E: Stored = Value> {
    /// The table's batching handle: one epoch pin per batch of ops, removed elements retired
    /// in one deferred call per batch and their allocations reused by later inserts (see
    /// `slotscope_table::Writer`). Plain `Table::insert`/`remove` would pin and retire per op,
    /// which costs a churning thread much of its throughput (measured in docs/PERFORMANCE.md).
    writer: Writer<'a, E>,
    gauge: u32,
}

impl<E: Stored> Session for SlotscopeSession<'_, E> {
    // Insert and remove always inlined (with the table's `insert_probed`): as calls, the
    // worker's loop pays for saving and restoring the registers it keeps its state in.
    #[allow(clippy::inline_always)] // measured: 203 -> 186 instructions per churn op
    #[inline(always)]
    fn insert<P: Probe>(&mut self, value: Value, probe: &mut P) -> Option<u64> {
        self.writer.insert_probed(E::store(value, self.gauge), probe).ok().map(Key::bits)
    }

    #[inline]
    fn lookup<P: Probe>(&mut self, id: u64, probe: &mut P) -> Option<Value> {
        self.writer.get_probed(Key::from_bits(id), probe).map(E::value)
    }

    #[allow(clippy::inline_always)] // as insert
    #[inline(always)]
    fn remove<P: Probe>(&mut self, id: u64, probe: &mut P) -> bool {
        let removed = self.writer.remove_probed(Key::from_bits(id), probe);
        if E::GAUGED && removed {
            gauge::retired(self.gauge);
        }
        removed
    }

    #[inline]
    fn repin(&mut self) {
        // Hands this batch's removed elements to crossbeam-epoch's global queue (flushed, so
        // they are collected two epochs on rather than after 64 batches) and re-pins.
        self.writer.repin();
    }
}

impl<E: Stored> BackendFacts for SlotscopeBackend<E> {
    fn kind(&self) -> BackendKind {
        BackendKind::Slotscope
    }
    fn describe(&self) -> String {
        let g = self.table.geometry();
        let variant = self.table.variant();
        let broken = if variant.is_broken() {
            format!(", BROKEN variant {variant}: {}", variant.description())
        } else {
            String::new()
        };
        let allocator = match self.table.allocator().magazine() {
            Some(m) => format!(", magazines of {m}"),
            None => String::new(),
        };
        format!(
            "slotscope {} {} B lines, {} slots{allocator}{broken}",
            g.layout(),
            g.line_bytes(),
            g.capacity()
        )
    }
    fn capacity(&self) -> Option<usize> {
        Some(self.table.capacity())
    }
    fn elements(&self) -> Option<usize> {
        Some(self.table.len())
    }
    fn geometry(&self) -> Option<Geometry> {
        Some(self.table.geometry())
    }
    fn snapshot_into(&self, snap: &mut Snapshot) -> bool {
        self.table.snapshot_into(snap);
        true
    }
    fn has_probes(&self) -> bool {
        true
    }
    fn garbage(&self) -> Option<GarbageCount> {
        self.gauge.as_ref().map(GarbageGauge::read)
    }
    fn element_bytes(&self) -> usize {
        // The element is the key (8 bytes) and the stored value, without allocator overhead.
        8 + std::mem::size_of::<E>()
    }
}

impl<E: Stored> Backend for SlotscopeBackend<E> {
    type Session<'a> = SlotscopeSession<'a, E>;
    fn session(&self) -> SlotscopeSession<'_, E> {
        let gauge = self.gauge.as_ref().map_or(0, GarbageGauge::id);
        SlotscopeSession { writer: self.table.writer(), gauge }
    }
}
