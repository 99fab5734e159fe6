//! The map backends: ids are minted by the worker (`thread << 40 | seq`), so removed ids are
//! never reused and a stale id simply misses. None has a fixed capacity; the worker's
//! per-thread budget bounds them. All use std's default hasher (SipHash), as the code they
//! stand for does.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use arc_swap::ArcSwap;
use dashmap::DashMap;
use slotscope_table::Probe;

use super::{Backend, BackendFacts, Session, Value};
use crate::scenario::spec::BackendKind;

/// `RwLock<HashMap<u64, Arc<Value>>>`: the seeds' "current implementation". Lookups clone the
/// `Arc` out of the read lock, as code that hands the value on must.
#[derive(Debug)]
pub struct RwLockHashMapBackend {
    map: RwLock<HashMap<u64, Arc<Value>>>,
}

impl RwLockHashMapBackend {
    /// An empty map with room for `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        RwLockHashMapBackend { map: RwLock::new(HashMap::with_capacity(capacity)) }
    }
}

impl Session for &RwLockHashMapBackend {
    #[inline]
    fn insert<P: Probe>(&mut self, value: Value, _probe: &mut P) -> Option<u64> {
        let id = value.map_id();
        // A poisoned lock only means another worker panicked mid-op; the map is still a map.
        self.map.write().unwrap_or_else(PoisonError::into_inner).insert(id, Arc::new(value));
        Some(id)
    }

    #[inline]
    fn lookup<P: Probe>(&mut self, id: u64, _probe: &mut P) -> Option<Value> {
        let found = self.map.read().unwrap_or_else(PoisonError::into_inner).get(&id).cloned();
        found.map(|v| *v)
    }

    #[inline]
    fn remove<P: Probe>(&mut self, id: u64, _probe: &mut P) -> bool {
        self.map.write().unwrap_or_else(PoisonError::into_inner).remove(&id).is_some()
    }
}

impl BackendFacts for RwLockHashMapBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::RwLockHashMap
    }
    fn describe(&self) -> String {
        "RwLock<HashMap<u64, Arc<V>>> (std, SipHash; per-thread key budget)".to_owned()
    }
    fn capacity(&self) -> Option<usize> {
        None
    }
    fn elements(&self) -> Option<usize> {
        Some(self.map.read().unwrap_or_else(PoisonError::into_inner).len())
    }
}

impl Backend for RwLockHashMapBackend {
    type Session<'a> = &'a RwLockHashMapBackend;
    fn session(&self) -> &RwLockHashMapBackend {
        self
    }
}

/// `dashmap::DashMap<u64, Value>` (6.x): sharded `RwLock`s.
#[derive(Debug)]
pub struct DashMapBackend {
    map: DashMap<u64, Value>,
}

impl DashMapBackend {
    /// An empty map with room for `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        DashMapBackend { map: DashMap::with_capacity(capacity) }
    }
}

impl Session for &DashMapBackend {
    #[inline]
    fn insert<P: Probe>(&mut self, value: Value, _probe: &mut P) -> Option<u64> {
        let id = value.map_id();
        self.map.insert(id, value);
        Some(id)
    }

    #[inline]
    fn lookup<P: Probe>(&mut self, id: u64, _probe: &mut P) -> Option<Value> {
        self.map.get(&id).map(|r| *r)
    }

    #[inline]
    fn remove<P: Probe>(&mut self, id: u64, _probe: &mut P) -> bool {
        self.map.remove(&id).is_some()
    }
}

impl BackendFacts for DashMapBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::DashMap
    }
    fn describe(&self) -> String {
        "dashmap 6 (SipHash; per-thread key budget)".to_owned()
    }
    fn capacity(&self) -> Option<usize> {
        None
    }
    fn elements(&self) -> Option<usize> {
        Some(self.map.len())
    }
}

impl Backend for DashMapBackend {
    type Session<'a> = &'a DashMapBackend;
    fn session(&self) -> &DashMapBackend {
        self
    }
}

/// A copy-on-write `HashMap` behind `arc_swap::ArcSwap` (read-copy-update): lookups are one
/// atomic load, every write copies the whole map. Slow on writes by nature; that is the point
/// of having it.
#[derive(Debug)]
pub struct RcuHashMapBackend {
    map: ArcSwap<HashMap<u64, Value>>,
}

impl RcuHashMapBackend {
    /// An empty map (copies start with room for `capacity` entries).
    pub fn new(capacity: usize) -> Self {
        RcuHashMapBackend { map: ArcSwap::from_pointee(HashMap::with_capacity(capacity)) }
    }
}

impl Session for &RcuHashMapBackend {
    #[inline]
    fn insert<P: Probe>(&mut self, value: Value, _probe: &mut P) -> Option<u64> {
        let id = value.map_id();
        self.map.rcu(|current| {
            let mut next = HashMap::clone(current);
            next.insert(id, value);
            next
        });
        Some(id)
    }

    #[inline]
    fn lookup<P: Probe>(&mut self, id: u64, _probe: &mut P) -> Option<Value> {
        self.map.load().get(&id).copied()
    }

    #[inline]
    fn remove<P: Probe>(&mut self, id: u64, _probe: &mut P) -> bool {
        if !self.map.load().contains_key(&id) {
            return false;
        }
        let mut removed = false;
        self.map.rcu(|current| {
            let mut next = HashMap::clone(current);
            // Only the attempt that gets swapped in counts: rcu reruns the closure on a race.
            removed = next.remove(&id).is_some();
            next
        });
        removed
    }
}

impl BackendFacts for RcuHashMapBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::RcuHashMap
    }
    fn describe(&self) -> String {
        "arc-swap copy-on-write HashMap (RCU; every write copies the map; per-thread key budget)".to_owned()
    }
    fn capacity(&self) -> Option<usize> {
        None
    }
    fn elements(&self) -> Option<usize> {
        Some(self.map.load().len())
    }
}

impl Backend for RcuHashMapBackend {
    type Session<'a> = &'a RcuHashMapBackend;
    fn session(&self) -> &RcuHashMapBackend {
        self
    }
}
