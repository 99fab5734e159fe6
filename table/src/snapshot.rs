//! Introspection: a read-only, weakly consistent copy of the table's state as plain data.
//!
//! # What a snapshot promises
//! The scan reads the header, then the slots (pinning once per chunk), then the ring, then the
//! alloc cursor again, each with plain loads: it never writes table memory and never blocks a
//! writer. Threads keep
//! working while it runs, so it is *weakly consistent*, like Erlang's process iterator:
//! - a slot seen occupied shows the element's own key, which was live at the moment its
//!   pointer was read;
//! - every slot has exactly one state: a slot seen occupied stays occupied in the snapshot even
//!   if its next id shows up in the ring by the time the ring is read (so a snapshot never
//!   shows a slot both free and live);
//! - a slot seen empty is *free* if its id was found in the ring, else *reserved* (an insert
//!   has taken its id and not yet published, or a remove has cleared it and not yet pushed);
//! - counts derived from different arrays (occupied slots, ids in the ring, the header's
//!   count) can disagree by the operations in flight during the scan. At quiescence they agree
//!   exactly: `occupied + free == N` and `count == occupied + ids in magazines`;
//! - the free cursor is the one read before the scan and the alloc cursor the one read after
//!   it, so that between them a RESERVED cell is a push in flight (at most one per remover,
//!   M/2 per magazine give-back), never an id that an insert took while the scan ran.
//!
//! With the magazine allocator the scan also reads each writer's magazine after the ring (fill,
//! then ids, Relaxed): a slot seen empty whose next id is in a magazine is *free* too, and
//! [`Snapshot::magazines`] lists each magazine's ids (oldest first). A magazine read while its
//! owner works may show an id twice or miss one; at quiescence it is exact.

use crate::geometry::Geometry;
use crate::key::{Key, RESERVED};
use crate::sync::epoch;
use crate::sync::Ordering;
use crate::table::Table;
use crate::{Allocator, Variant};

/// One writer's magazine as a snapshot saw it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MagazineInfo {
    /// The magazine's record in the table (0 to [`crate::MAGAZINE_WRITERS`] - 1): stable for
    /// the life of the writer that holds it.
    pub record: usize,
    /// The ids it held, oldest first: the next insert of its writer takes the last.
    pub ids: Vec<Key>,
}

/// The state of one slot in a [`Snapshot`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
#[repr(u8)]
pub enum SlotState {
    /// Empty, its next id waiting in the ring.
    #[default]
    Free,
    /// Empty, its id in flight (being inserted or being returned to the ring).
    Reserved,
    /// Holds a live element.
    Occupied,
}

/// One slot as a snapshot saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SlotInfo {
    /// Free, reserved or occupied.
    pub state: SlotState,
    /// The occupant's key (occupied), the key the slot's next insert will get (free), or
    /// `None` (reserved: in flight).
    pub key: Option<Key>,
}

impl SlotInfo {
    /// The slot's current (occupied) or next (free) generation.
    pub fn generation(&self) -> Option<u64> {
        self.key.map(Key::generation)
    }
}

/// Slots scanned per epoch pin.
const SCAN_CHUNK: usize = 4096;

/// A plain, owned copy of a table's state: no atomics, no borrow of the table. `Clone`,
/// comparable, and buildable by hand (for tests and for replays) with [`Snapshot::fresh`] and
/// the `set_*` methods.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Snapshot {
    geometry: Geometry,
    variant: Variant,
    /// By slot.
    states: Vec<SlotState>,
    /// By slot: the occupant's key, the next key, or 0 when reserved.
    keys: Vec<u64>,
    /// By ticket residue (ticket mod N): the id in that ticket's cell, or `RESERVED`.
    ring: Vec<u64>,
    count: u64,
    alloc: u64,
    free: u64,
    #[cfg_attr(feature = "serde", serde(default))]
    allocator: Allocator,
    /// The magazines of live writers (the magazine allocator only).
    #[cfg_attr(feature = "serde", serde(default))]
    magazines: Vec<MagazineInfo>,
}

impl Snapshot {
    /// The snapshot of a table of `geometry` that was just built: all slots free at
    /// generation 0, the ring full in id order, cursors at 0 and N.
    pub fn fresh(geometry: Geometry) -> Snapshot {
        let mut snap = Snapshot {
            geometry,
            variant: Variant::Correct,
            states: Vec::new(),
            keys: Vec::new(),
            ring: Vec::new(),
            count: 0,
            alloc: 0,
            free: 0,
            allocator: Allocator::Ring,
            magazines: Vec::new(),
        };
        snap.reset_fresh(geometry);
        snap
    }

    fn reset_fresh(&mut self, geometry: Geometry) {
        let n = geometry.capacity();
        self.geometry = geometry;
        self.states.clear();
        self.states.resize(n, SlotState::Free);
        self.keys.clear();
        self.keys.extend((0..n).map(|s| geometry.key(0, s).bits()));
        self.ring.clear();
        self.ring.extend((0..n).map(|t| geometry.key(0, geometry.slot_of_index(t)).bits()));
        self.count = 0;
        self.alloc = 0;
        self.free = n as u64;
        self.magazines.clear();
    }

    /// Capacity, layout, line size, and the index arithmetic.
    pub fn geometry(&self) -> Geometry {
        self.geometry
    }

    /// N.
    pub fn capacity(&self) -> usize {
        self.geometry.capacity()
    }

    /// The variant of the table scanned (a broken one must be labelled as such).
    pub fn variant(&self) -> Variant {
        self.variant
    }

    /// The allocator of the table scanned.
    pub fn allocator(&self) -> Allocator {
        self.allocator
    }

    /// The live writers' magazines, by record (empty for the ring allocator).
    pub fn magazines(&self) -> &[MagazineInfo] {
        &self.magazines
    }

    /// Ids held in magazines.
    pub fn in_magazines(&self) -> usize {
        self.magazines.iter().map(|m| m.ids.len()).sum()
    }

    /// Slot `s` (panics if `s >= N`).
    pub fn slot(&self, s: usize) -> SlotInfo {
        let state = self.states[s];
        let key = match state {
            SlotState::Reserved => None,
            SlotState::Free | SlotState::Occupied => Some(Key::from_bits(self.keys[s])),
        };
        SlotInfo { state, key }
    }

    /// All slot states, in slot (memory) order.
    pub fn states(&self) -> &[SlotState] {
        &self.states
    }

    /// The generation of slot `s`, if known (see [`SlotInfo::generation`]).
    pub fn generation(&self, s: usize) -> Option<u64> {
        self.slot(s).generation()
    }

    /// The id waiting in the cell of ticket residue `r` (`r < N`), or `None` if RESERVED.
    pub fn ring_cell(&self, r: usize) -> Option<Key> {
        let v = self.ring[r];
        (v != RESERVED).then_some(Key::from_bits(v))
    }

    /// Claimed slots (the header's `count`; may exceed N for an instant).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The alloc cursor: the ticket the next insert takes (32 bits wide; it wraps, and only
    /// its value modulo N matters).
    pub fn alloc_cursor(&self) -> u64 {
        self.alloc
    }

    /// The free cursor: the ticket the next remove pushes at.
    pub fn free_cursor(&self) -> u64 {
        self.free
    }

    /// Slots seen occupied.
    pub fn occupied(&self) -> usize {
        self.states.iter().filter(|&&s| s == SlotState::Occupied).count()
    }

    /// Slots seen free (their id in the ring or in a magazine).
    pub fn free(&self) -> usize {
        self.states.iter().filter(|&&s| s == SlotState::Free).count()
    }

    /// Slots seen reserved (in flight).
    pub fn reserved(&self) -> usize {
        self.states.iter().filter(|&&s| s == SlotState::Reserved).count()
    }

    /// The next `k` tickets from the alloc cursor with what their cells held: where the next
    /// ids will land (ticket, id or `None` for a cell that will be skipped).
    pub fn next_ids(&self, k: usize) -> impl Iterator<Item = (u64, Option<Key>)> + '_ {
        let n = self.capacity() as u64;
        (0..k as u64).map(move |i| {
            let t = self.alloc.wrapping_add(i);
            // Truncation is the point: a residue below N.
            #[allow(clippy::cast_possible_truncation)]
            (t, self.ring_cell((t % n) as usize))
        })
    }

    /// Sets slot `s` (for hand-built snapshots and replays). `key` is ignored when reserved.
    pub fn set_slot(&mut self, s: usize, state: SlotState, key: Option<Key>) {
        self.states[s] = state;
        self.keys[s] = key.map_or(0, Key::bits);
    }

    /// Sets the cell of ticket residue `r` (for hand-built snapshots and replays).
    pub fn set_ring_cell(&mut self, r: usize, id: Option<Key>) {
        self.ring[r] = id.map_or(RESERVED, Key::bits);
    }

    /// Sets the header counters (for hand-built snapshots and replays).
    pub fn set_header(&mut self, count: u64, alloc: u64, free: u64) {
        self.count = count;
        self.alloc = alloc;
        self.free = free;
    }

    /// Sets the allocator and the magazines (for hand-built snapshots and replays).
    pub fn set_magazines(&mut self, allocator: Allocator, magazines: Vec<MagazineInfo>) {
        self.allocator = allocator;
        self.magazines = magazines;
    }

    /// Sets the variant label (for hand-built snapshots and replays).
    pub fn set_variant(&mut self, variant: Variant) {
        self.variant = variant;
    }
}

impl<T> Table<T> {
    /// A fresh [`Snapshot`] of this table; see [`Self::snapshot_into`].
    pub fn snapshot(&self) -> Snapshot {
        let mut snap = Snapshot::fresh(self.geometry());
        self.snapshot_into(&mut snap);
        snap
    }

    /// Scans the table into `snap`, reusing its memory. Read-only and weakly consistent (see
    /// the [module docs](crate::snapshot)); pins once per 4096 slots. Cost is O(N) loads and,
    /// for occupied slots, one dereference each: every line it reads is pulled into the
    /// Shared state, which the next writer of that line pays for.
    pub fn snapshot_into(&self, snap: &mut Snapshot) {
        let g = self.geometry();
        let n = g.capacity();
        if snap.geometry != g {
            snap.reset_fresh(g);
        }
        snap.variant = self.variant();
        snap.allocator = self.allocator();
        let (count, alloc, free) = self.header_counters();
        snap.count = count;
        snap.alloc = alloc;
        snap.free = free;

        let mut start = 0;
        while start < n {
            let end = (start + SCAN_CHUNK).min(n);
            let guard = epoch::pin();
            for s in start..end {
                // Acquire: pairs with the Release store in `publish` (we read the entry's key).
                let ptr = self.slot_cell(s).load(Ordering::Acquire, &guard);
                // SAFETY: non-null slot pointers are live entries, kept allocated while pinned.
                if let Some(entry) = unsafe { ptr.as_ref() } {
                    snap.states[s] = SlotState::Occupied;
                    snap.keys[s] = entry.key;
                } else {
                    snap.states[s] = SlotState::Reserved;
                    snap.keys[s] = 0;
                }
            }
            drop(guard);
            start = end;
        }

        for r in 0..n {
            // Relaxed: the value is only reported, never dereferenced or acted on.
            let id = self.ring_cell(g.ring_cell_of_ticket(r as u64)).load(Ordering::Relaxed);
            snap.ring[r] = id;
            let key = Key::from_bits(id);
            if id != RESERVED && g.owns(key) && snap.states[key.slot()] != SlotState::Occupied {
                snap.states[key.slot()] = SlotState::Free;
                snap.keys[key.slot()] = id;
            }
        }

        snap.magazines.clear();
        if let Some(magazines) = self.magazines() {
            magazines.read(|record, ids| {
                let ids: Vec<Key> = ids.map(Key::from_bits).filter(|&k| g.owns(k)).collect();
                for &key in &ids {
                    if snap.states[key.slot()] != SlotState::Occupied {
                        snap.states[key.slot()] = SlotState::Free;
                        snap.keys[key.slot()] = key.bits();
                    }
                }
                snap.magazines.push(MagazineInfo { record, ids });
            });
        }
        // The alloc cursor as it stands after the scan: every ticket from it on was still
        // unclaimed when its cell was read, so those cells show what the next inserts will
        // find. The reading from before the scan would count the cells that inserts emptied
        // *during* the scan as RESERVED (skips that never happened: under magazine refills,
        // a whole next-ids table of them). The free cursor keeps its reading from before: every
        // ticket below it had been claimed by a remove when its cell was read.
        snap.alloc = self.header_counters().1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Layout;

    #[test]
    fn fresh_snapshot_matches_a_fresh_table() {
        for layout in Layout::ALL {
            let t: Table<u32> = Table::builder().capacity(32).layout(layout).build().unwrap();
            assert_eq!(t.snapshot(), Snapshot::fresh(t.geometry()), "{layout}");
        }
    }

    #[test]
    fn snapshot_tracks_inserts_and_removes() {
        let t: Table<u32> = Table::with_capacity(16).unwrap();
        let a = t.insert(1).unwrap();
        let b = t.insert(2).unwrap();
        assert!(t.remove(a));
        let snap = t.snapshot();
        assert_eq!(snap.occupied(), 1);
        assert_eq!(snap.free(), 15);
        assert_eq!(snap.reserved(), 0);
        assert_eq!(snap.count(), 1);
        assert_eq!(snap.slot(b.slot()), SlotInfo { state: SlotState::Occupied, key: Some(b) });
        let freed = snap.slot(a.slot());
        assert_eq!(freed.state, SlotState::Free);
        assert_eq!(freed.generation(), Some(1), "the next key of a removed slot");
        assert_eq!((snap.alloc_cursor(), snap.free_cursor()), (2, 17));
        // The next id handed out is index 2's (the ring is FIFO).
        let (ticket, id) = snap.next_ids(1).next().unwrap();
        assert_eq!(ticket, 2);
        assert_eq!(id, Some(t.geometry().key(0, t.geometry().slot_of_index(2))));
    }

    #[test]
    fn hand_built_snapshot() {
        let g = Geometry::new(16, Layout::Linear, 64).unwrap();
        let mut s = Snapshot::fresh(g);
        s.set_slot(3, SlotState::Reserved, None);
        s.set_slot(4, SlotState::Occupied, Some(g.key(2, 4)));
        s.set_ring_cell(0, None);
        s.set_header(1, 1, 16);
        assert_eq!(s.slot(3).key, None);
        assert_eq!(s.generation(4), Some(2));
        assert_eq!(s.ring_cell(0), None);
        assert_eq!((s.occupied(), s.reserved(), s.free()), (1, 1, 14));
        let mut t = s.clone();
        assert_eq!(s, t);
        t.set_variant(Variant::RelaxedRing);
        assert_ne!(s, t);
    }

    #[test]
    fn snapshot_into_reuses_and_resizes() {
        let small: Table<u8> = Table::with_capacity(16).unwrap();
        let big: Table<u8> = Table::with_capacity(64).unwrap();
        big.insert(7).unwrap();
        let mut snap = small.snapshot();
        big.snapshot_into(&mut snap);
        assert_eq!(snap.capacity(), 64);
        assert_eq!(snap.occupied(), 1);
        small.snapshot_into(&mut snap);
        assert_eq!(snap, Snapshot::fresh(small.geometry()));
    }
}
