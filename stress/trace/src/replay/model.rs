//! The table as the recorded ops left it: a [`Snapshot`] kept up to date by applying op events,
//! for replays that show the table between (or without) recorded scans.
//!
//! What is exact and what is modelled:
//! - **Slots** follow from the recorded results alone. A successful insert of `slot@g` makes the
//!   slot occupied at generation `g`; a successful remove of `slot@g` makes it free with next
//!   generation `g + 1`. Each slot moves forward only (free at g, then occupied at g, then free
//!   at g + 1), and an op never moves it back, so the state does not depend on the order in
//!   which overlapping ops are applied: it is the state every op up to the cursor implies.
//! - **Header counters**: `count` is inserts minus removes; the alloc cursor advances by the
//!   tickets each insert took (one, plus its recorded ticket skips), the free cursor by the
//!   pushes each remove made (one, plus its recorded ring retries). Sums: exact, in any order.
//! - **Ring cells** are modelled: the trace does not say which ticket an op used, so the model
//!   hands tickets out in the order ops are applied (completion order). Concurrent ops may have
//!   used each other's tickets; the ids in the ring and the cursors' positions are right, the
//!   cell a given id sits in may not be.
//! - A slot seen only through a broken variant's results (a stale remove that removed the new
//!   occupant) keeps the generation order above, so the model shows what a correct table would
//!   hold; the recorded scans show what the broken one held.

use slotscope_table::{Geometry, Key, SlotState, Snapshot, Variant};

use crate::op::OpKind;
use crate::op::{OpEvent, OpOutcome};

/// Ring tickets an applied op used in the model: `first .. first + count`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tickets {
    /// The first ticket (alloc cursor for an insert, free cursor for a remove).
    pub first: u64,
    /// Tickets taken (0 for ops that touch no ring cell).
    pub count: u32,
}

/// The largest table a replay models: 2^22 slots (a model is a snapshot, 17 bytes a slot; the
/// engine's end-of-run check stops at the same size).
pub const MODEL_MAX_CAPACITY: usize = 1 << 22;

/// A table segment's state, modelled from its ops (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableModel {
    segment: u32,
    snapshot: Option<Snapshot>,
}

impl TableModel {
    /// The table of `segment` as built: `geometry` (none for backends without one: then only
    /// the segment is tracked), every slot free at generation 0, the ring full.
    pub fn fresh(segment: u32, geometry: Option<Geometry>, variant: Variant) -> TableModel {
        // Larger tables are not modelled (memory and time grow with the slots, not with the
        // trace): the replay shows them as it shows other backends, without a table.
        let snapshot = geometry.filter(|g| g.capacity() <= MODEL_MAX_CAPACITY).map(|g| {
            let mut s = Snapshot::fresh(g);
            s.set_variant(variant);
            s
        });
        TableModel { segment, snapshot }
    }

    /// A model that continues from `snapshot` (a checkpoint of an earlier model).
    pub fn from_snapshot(segment: u32, snapshot: Option<Snapshot>) -> TableModel {
        TableModel { segment, snapshot }
    }

    /// The segment it models.
    pub fn segment(&self) -> u32 {
        self.segment
    }

    /// The modelled table (none for backends without our geometry).
    pub fn snapshot(&self) -> Option<&Snapshot> {
        self.snapshot.as_ref()
    }

    /// Applies one op of this segment; the ring tickets it used in the model.
    pub fn apply(&mut self, op: &OpEvent) -> Tickets {
        let Some(snap) = self.snapshot.as_mut() else { return Tickets::default() };
        let g = snap.geometry();
        let n = g.capacity() as u64;
        let own = |bits: u64| {
            let k = Key::from_bits(bits);
            (k.capacity_log2() == g.capacity_log2()).then_some(k)
        };
        let (count, alloc, free) = (snap.count(), snap.alloc_cursor(), snap.free_cursor());
        match (op.kind, op.outcome) {
            (OpKind::Insert, OpOutcome::Inserted) => {
                if let Some(k) = op.key.and_then(own) {
                    let s = k.slot();
                    if rank_of(snap, s) < (k.generation(), 1) {
                        snap.set_slot(s, SlotState::Occupied, Some(k));
                    }
                }
                let skips = u64::from(op.probes.ticket_skips);
                let popped = alloc.wrapping_add(skips);
                // Truncation is the point: a residue below N.
                #[allow(clippy::cast_possible_truncation)]
                snap.set_ring_cell((popped % n) as usize, None);
                snap.set_header(count.saturating_add(1), popped.wrapping_add(1), free);
                Tickets { first: alloc, count: op.probes.ticket_skips.saturating_add(1) }
            }
            (OpKind::Remove, OpOutcome::Removed) => {
                let next = op.key.and_then(own).map(|k| g.next_key(k));
                if let Some(next) = next {
                    let s = next.slot();
                    if rank_of(snap, s) < (next.generation(), 0) {
                        snap.set_slot(s, SlotState::Free, Some(next));
                    }
                }
                let retries = u64::from(op.probes.ring_retries);
                let pushed = free.wrapping_add(retries);
                if let Some(next) = next {
                    #[allow(clippy::cast_possible_truncation)]
                    snap.set_ring_cell((pushed % n) as usize, Some(next));
                }
                snap.set_header(count.saturating_sub(1), alloc, pushed.wrapping_add(1));
                Tickets { first: free, count: op.probes.ring_retries.saturating_add(1) }
            }
            _ => Tickets::default(),
        }
    }
}

/// Where slot `s` stands in its life: (generation, 0 free / 1 occupied). A reserved slot (only
/// in a recorded scan) ranks lowest.
fn rank_of(snap: &Snapshot, s: usize) -> (u64, u8) {
    let info = snap.slot(s);
    match (info.state, info.key) {
        (SlotState::Occupied, Some(k)) => (k.generation(), 1),
        (SlotState::Free, Some(k)) => (k.generation(), 0),
        _ => (0, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::Value;
    use crate::op::{OpOrigin, OpProbes};
    use slotscope_table::{Layout, Table};

    fn op(kind: OpKind, outcome: OpOutcome, key: Key) -> OpEvent {
        OpEvent {
            thread: 0,
            op_index: 0,
            kind,
            key: Some(key.bits()),
            outcome,
            value: Some(Value { thread: 0, seq: 0 }),
            origin: OpOrigin::Run,
            probes: OpProbes::default(),
            start_ns: 0,
            end_ns: 1,
        }
    }

    #[test]
    fn the_model_of_a_sequential_history_is_the_table_itself() {
        // One thread, no concurrency: the model must equal a real table's snapshot exactly,
        // ring and cursors included.
        let table: Table<u32> = Table::builder().capacity(128).layout(Layout::Interleaved).build().unwrap();
        let mut model = TableModel::fresh(0, Some(table.geometry()), Variant::Correct);
        let mut live = Vec::new();
        for i in 0..200u32 {
            if i % 3 == 2 && !live.is_empty() {
                let k: Key = live.remove((i as usize * 7) % live.len());
                assert!(table.remove(k));
                model.apply(&op(OpKind::Remove, OpOutcome::Removed, k));
            } else {
                let k = table.insert(i).unwrap();
                live.push(k);
                model.apply(&op(OpKind::Insert, OpOutcome::Inserted, k));
            }
            model.apply(&op(OpKind::Lookup, OpOutcome::Hit, live[0]));
        }
        assert_eq!(model.snapshot().unwrap(), &table.snapshot());
    }

    #[test]
    fn overlapping_ops_applied_out_of_order_leave_the_same_slots() {
        let g = Geometry::new(16, Layout::Linear, 64).unwrap();
        let k0 = g.key(0, 3);
        let k1 = g.next_key(k0);
        let ops = [
            op(OpKind::Insert, OpOutcome::Inserted, k0),
            op(OpKind::Remove, OpOutcome::Removed, k0),
            op(OpKind::Insert, OpOutcome::Inserted, k1),
        ];
        let mut in_order = TableModel::fresh(0, Some(g), Variant::Correct);
        ops.iter().for_each(|o| {
            in_order.apply(o);
        });
        // The remove finishing after the insert that reused its id: the slot stays occupied.
        let mut swapped = TableModel::fresh(0, Some(g), Variant::Correct);
        for i in [0, 2, 1] {
            swapped.apply(&ops[i]);
        }
        let (a, b) = (in_order.snapshot().unwrap(), swapped.snapshot().unwrap());
        assert_eq!(a.slot(3), b.slot(3));
        assert_eq!(a.slot(3).state, SlotState::Occupied);
        assert_eq!(a.slot(3).key, Some(k1));
        assert_eq!(
            (a.count(), a.alloc_cursor(), a.free_cursor()),
            (b.count(), b.alloc_cursor(), b.free_cursor())
        );
    }

    #[test]
    fn probes_move_the_cursors_and_other_backends_track_nothing() {
        let g = Geometry::new(16, Layout::Interleaved, 64).unwrap();
        let mut m = TableModel::fresh(2, Some(g), Variant::Correct);
        let mut ins = op(OpKind::Insert, OpOutcome::Inserted, g.key(0, g.slot_of_index(0)));
        ins.probes.ticket_skips = 2;
        assert_eq!(m.apply(&ins), Tickets { first: 0, count: 3 });
        let mut rem = op(OpKind::Remove, OpOutcome::Removed, g.key(0, g.slot_of_index(0)));
        rem.probes.ring_retries = 1;
        assert_eq!(m.apply(&rem), Tickets { first: 16, count: 2 });
        let s = m.snapshot().unwrap();
        assert_eq!((s.count(), s.alloc_cursor(), s.free_cursor()), (0, 3, 18));
        assert_eq!(s.ring_cell(17 % 16), Some(g.next_key(g.key(0, g.slot_of_index(0)))));
        assert_eq!(m.segment(), 2);
        let mut none = TableModel::fresh(0, None, Variant::Correct);
        assert_eq!(none.apply(&ins), Tickets::default());
        assert!(none.snapshot().is_none());
    }
}
