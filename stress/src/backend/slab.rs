//! `sharded_slab::Slab<Value>`: per-thread shards with their own free lists and generational
//! keys. It has no `len`, and no fixed capacity (the worker's per-thread budget bounds it).

use sharded_slab::Slab;
use slotscope_table::Probe;

use super::{Backend, BackendFacts, Session, Value};
use crate::scenario::spec::BackendKind;

/// `sharded_slab::Slab<Value>` with the default configuration.
pub struct ShardedSlabBackend {
    slab: Slab<Value>,
}

impl ShardedSlabBackend {
    /// An empty slab.
    pub fn new() -> Self {
        ShardedSlabBackend { slab: Slab::new() }
    }
}

impl Default for ShardedSlabBackend {
    fn default() -> Self {
        ShardedSlabBackend::new()
    }
}

impl std::fmt::Debug for ShardedSlabBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardedSlabBackend").finish_non_exhaustive()
    }
}

// Keys are `usize` in the slab and `u64` here: the same width on our 64-bit targets.
#[allow(clippy::cast_possible_truncation)]
fn slab_key(id: u64) -> usize {
    id as usize
}

impl Session for &ShardedSlabBackend {
    #[inline]
    fn insert<P: Probe>(&mut self, value: Value, _probe: &mut P) -> Option<u64> {
        self.slab.insert(value).map(|k| k as u64)
    }

    #[inline]
    fn lookup<P: Probe>(&mut self, id: u64, _probe: &mut P) -> Option<Value> {
        self.slab.get(slab_key(id)).map(|entry| *entry)
    }

    #[inline]
    fn remove<P: Probe>(&mut self, id: u64, _probe: &mut P) -> bool {
        self.slab.remove(slab_key(id))
    }
}

impl BackendFacts for ShardedSlabBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::ShardedSlab
    }
    fn describe(&self) -> String {
        "sharded-slab 0.1.7, default config (no len; per-thread key budget)".to_owned()
    }
    fn capacity(&self) -> Option<usize> {
        None
    }
    fn elements(&self) -> Option<usize> {
        None
    }
}

impl Backend for ShardedSlabBackend {
    type Session<'a> = &'a ShardedSlabBackend;
    fn session(&self) -> &ShardedSlabBackend {
        self
    }
}
