//! Helpers shared by the integration tests: a value that counts its drops, a way to let
//! crossbeam-epoch run deferred drops, and the quiescent-state checks of `IMPLEMENTATION.md` ("Invariants").
#![allow(clippy::disallowed_types)] // drop counters of the tests, not table state
// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

pub mod churn;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Once};

use slotscope_table::{Key, SlotState, Snapshot, Table};

/// Bits 63..59 of a key: log2 of the capacity (written out here, not taken from the crate,
/// so that the tests check the documented key format).
pub const TAG_SHIFT: u32 = 59;

/// The key of `slot` at `generation` in a table of `2^log2` slots, composed by hand from the
/// documented layout: `log2 << 59 | generation << log2 | slot`, generation wrapping.
pub fn key_bits(log2: u32, generation: u64, slot: usize) -> u64 {
    let body = ((generation & max_generation(log2)) << log2) | slot as u64;
    (u64::from(log2) << TAG_SHIFT) | body
}

/// The largest generation a key of a `2^log2`-slot table can carry.
pub fn max_generation(log2: u32) -> u64 {
    (1u64 << (TAG_SHIFT - log2)) - 1
}

/// The key that the next reuse of `key`'s slot carries (generation + 1, wrapping).
pub fn next_key_bits(log2: u32, key: u64) -> u64 {
    let slot = usize::try_from(key & ((1 << log2) - 1)).unwrap();
    let generation = (key & ((1 << TAG_SHIFT) - 1)) >> log2;
    key_bits(log2, generation.wrapping_add(1), slot)
}

/// Per-value drop counts: `counts[id]` is how often the value with that id was dropped.
#[derive(Debug)]
pub struct DropLog {
    counts: Vec<AtomicU32>,
}

impl DropLog {
    pub fn new(ids: usize) -> Arc<DropLog> {
        Arc::new(DropLog { counts: (0..ids).map(|_| AtomicU32::new(0)).collect() })
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().map(|c| u64::from(c.load(Ordering::SeqCst))).sum()
    }

    pub fn count(&self, id: usize) -> u32 {
        self.counts[id].load(Ordering::SeqCst)
    }

    /// Ids dropped more than once.
    pub fn dropped_twice(&self) -> Vec<usize> {
        (0..self.counts.len()).filter(|&i| self.count(i) > 1).collect()
    }
}

/// A value that records its own drop in a [`DropLog`].
#[derive(Debug)]
pub struct Tracked {
    pub id: usize,
    log: Arc<DropLog>,
}

impl Tracked {
    pub fn new(id: usize, log: &Arc<DropLog>) -> Tracked {
        Tracked { id, log: Arc::clone(log) }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.log.counts[self.id].fetch_add(1, Ordering::SeqCst);
    }
}

/// Lets crossbeam-epoch run the drops it deferred: pin, flush and unpin, a bounded number of
/// times, until `log` shows `expected` drops (or the bound is reached). Returns the total seen.
///
/// Deferred drops wait in per-thread bags until the global epoch has advanced twice; each
/// flush pushes this thread's bag and tries to advance and collect. Other threads' bags were
/// pushed when those threads exited (their handles are unregistered).
pub fn settle_drops(log: &DropLog, expected: u64) -> u64 {
    // Far more rounds than crossbeam needs (a few): the bound only stops a genuine leak
    // from hanging the test.
    for _ in 0..20_000 {
        if log.total() >= expected {
            break;
        }
        let guard = crossbeam_epoch::pin();
        guard.flush();
        drop(guard);
        std::thread::yield_now();
    }
    // A few more rounds, so that a drop beyond `expected` would show up too.
    for _ in 0..64 {
        let guard = crossbeam_epoch::pin();
        guard.flush();
    }
    log.total()
}

/// A panic payload that [`quiet_panics`] keeps out of the test output.
#[derive(Debug)]
pub struct QuietPanic;

/// Installs (once per process) a panic hook that stays silent for [`QuietPanic`] payloads and
/// reports every other panic as the default hook does.
pub fn quiet_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<QuietPanic>().is_none() {
                default(info);
            }
        }));
    });
}

/// What a table at quiescence must look like, given the live elements it should hold:
/// - `len` and `is_empty` agree with `live`;
/// - every live key is found with its value, by `get`, `contains`, `with` and a reader;
/// - `keys()` yields exactly the live keys, each once;
/// - the snapshot accounts for every slot once: `occupied + free == N`, nothing reserved,
///   the header count equals the live count, each occupied slot shows its live key;
/// - the ring holds exactly one id for each slot that is not occupied and none for occupied
///   slots (it never loses or duplicates an id), and that id is the free slot's next key.
///
/// Returns the snapshot for further checks.
pub fn check_quiescent<V>(table: &Table<V>, live: &HashMap<Key, V>) -> Snapshot
where
    V: PartialEq + std::fmt::Debug,
{
    let n = table.capacity();
    assert_eq!(table.len(), live.len(), "len");
    assert_eq!(table.is_empty(), live.is_empty(), "is_empty");

    let reader = table.reader();
    for (&key, value) in live {
        assert_eq!(table.with(key, |v| v == value), Some(true), "with({key:?})");
        assert!(table.contains(key), "contains({key:?})");
        assert_eq!(reader.get(key), Some(value), "reader.get({key:?})");
    }
    drop(reader);

    let mut seen: HashMap<Key, usize> = HashMap::new();
    for key in table.keys() {
        *seen.entry(key).or_default() += 1;
    }
    for (key, times) in &seen {
        assert_eq!(*times, 1, "keys() yielded {key:?} {times} times");
        assert!(live.contains_key(key), "keys() yielded {key:?}, which is not live");
    }
    assert_eq!(seen.len(), live.len(), "keys() missed live keys");

    let snap = table.snapshot();
    check_snapshot_accounts(&snap, live.keys().copied());
    assert_eq!(snap.capacity(), n);
    snap
}

/// The snapshot half of [`check_quiescent`]: every slot is either occupied by one of `live`
/// or free with exactly one id in the ring, never both, never neither.
pub fn check_snapshot_accounts(snap: &Snapshot, live: impl IntoIterator<Item = Key>) {
    let n = snap.capacity();
    let g = snap.geometry();
    let live: Vec<Key> = live.into_iter().collect();
    assert_eq!(snap.occupied(), live.len(), "occupied slots");
    assert_eq!(snap.reserved(), 0, "reserved slots at quiescence");
    assert_eq!(snap.occupied() + snap.free(), n, "occupied + free");
    assert_eq!(snap.count(), (live.len() + snap.in_magazines()) as u64, "header count = live + in magazines");
    for &key in &live {
        let info = snap.slot(key.slot());
        assert_eq!(info.state, SlotState::Occupied, "slot of live {key:?}");
        assert_eq!(info.key, Some(key), "slot of live {key:?} shows another key");
    }

    // Ids in the ring, by the slot they name.
    let mut ring_ids: Vec<Vec<Key>> = vec![Vec::new(); n];
    for r in 0..n {
        if let Some(id) = snap.ring_cell(r) {
            assert!(g.owns(id), "ring cell {r} holds {id:?}, not a key of this table");
            ring_ids[id.slot()].push(id);
        }
    }
    for id in snap.magazines().iter().flat_map(|m| &m.ids) {
        assert!(g.owns(*id), "a magazine holds {id:?}, not a key of this table");
        ring_ids[id.slot()].push(*id);
    }
    for (s, ids) in ring_ids.iter().enumerate() {
        let info = snap.slot(s);
        match info.state {
            SlotState::Occupied => {
                assert!(ids.is_empty(), "slot {s} is occupied and its id {ids:?} is also free");
            }
            SlotState::Free => {
                assert_eq!(ids.len(), 1, "slot {s} is free with ids {ids:?} in the ring and magazines");
                assert_eq!(info.key, Some(ids[0]), "slot {s}: next key and ring id differ");
            }
            SlotState::Reserved => panic!("slot {s} reserved at quiescence"),
        }
    }
}
