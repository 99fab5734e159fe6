//! Our table, in any layout, line size and variant.

use slotscope_table::{Geometry, Key, Probe, Reader, Snapshot, Table};

use super::{Backend, Session, Value};
use crate::spec::{BackendKind, TableSpec};

/// `slotscope_table::Table<Value>`.
#[derive(Debug)]
pub struct SlotscopeBackend {
    table: Table<Value>,
}

impl SlotscopeBackend {
    /// The table `spec` describes (capacity, layout, line size, variant).
    ///
    /// # Errors
    /// The table's [`slotscope_table::BuildError`] for an out-of-range capacity or line size.
    pub fn new(spec: &TableSpec) -> Result<Self, slotscope_table::BuildError> {
        let table = Table::builder()
            .capacity(spec.capacity)
            .layout(spec.layout)
            .line_bytes(spec.line_bytes)
            .variant(spec.variant)
            .build()?;
        Ok(SlotscopeBackend { table })
    }

    /// The table itself.
    pub fn table(&self) -> &Table<Value> {
        &self.table
    }
}

/// A worker's reader (one epoch pin per batch; inserts and removes nest inside it, which makes
/// their own pin nearly free).
pub struct SlotscopeSession<'a> {
    table: &'a Table<Value>,
    reader: Reader<'a, Value>,
}

impl Session for SlotscopeSession<'_> {
    #[inline]
    fn insert<P: Probe>(&mut self, value: Value, probe: &mut P) -> Option<u64> {
        self.table.insert_probed(value, probe).ok().map(Key::bits)
    }

    #[inline]
    fn lookup<P: Probe>(&mut self, id: u64, probe: &mut P) -> Option<Value> {
        self.reader.get_probed(Key::from_bits(id), probe).copied()
    }

    #[inline]
    fn remove<P: Probe>(&mut self, id: u64, probe: &mut P) -> bool {
        self.table.remove_probed(Key::from_bits(id), probe)
    }

    #[inline]
    fn repin(&mut self) {
        self.reader.repin();
    }
}

impl Backend for SlotscopeBackend {
    type Session<'a> = SlotscopeSession<'a>;

    fn session(&self) -> SlotscopeSession<'_> {
        SlotscopeSession { table: &self.table, reader: self.table.reader() }
    }

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
        format!("slotscope {} {} B lines, {} slots{broken}", g.layout(), g.line_bytes(), g.capacity())
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
}
