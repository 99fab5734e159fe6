//! The magazine allocator's promises, one by one (`IMPLEMENTATION.md`, "Allocators"): sizes
//! validated against the capacity, ids reused by their own writer without a header write,
//! `len` and the snapshot counting magazine ids as free, the ids given back when a writer is
//! dropped (also by a panic), `Full` only while the slack is in other writers' magazines, and
//! stale keys that never alias.
#![cfg(not(loom))]

mod common;

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use common::{check_quiescent, quiet_panics, QuietPanic};
use slotscope_table::{
    Allocator, BuildError, Key, Layout, ProbeCounts, SlotState, Table, Variant, MAGAZINE_WRITERS,
};

fn magazine_table(capacity: usize, size: u32) -> Table<u64> {
    Table::builder().capacity(capacity).allocator(Allocator::Magazine { size }).build().unwrap()
}

#[test]
fn sizes_are_checked_against_the_limits_and_the_capacity() {
    let err = Table::<u64>::builder().capacity(16).allocator(Allocator::Magazine { size: 64 }).build();
    let err = err.unwrap_err();
    assert_eq!(err, BuildError::Magazine { size: 64, capacity: 16 });
    assert!(err.to_string().contains("16 slots allow 4"), "{err}");
    for size in [0, 1, 4097] {
        let built = Table::<u64>::builder().capacity(1 << 20).allocator(Allocator::Magazine { size }).build();
        assert!(matches!(built, Err(BuildError::Magazine { .. })), "size {size}");
    }
    assert!(magazine_table(16, 4).allocator() == Allocator::Magazine { size: 4 });
    let broken = Table::<u64>::builder()
        .allocator(Allocator::Magazine { size: 8 })
        .variant(Variant::RelaxedRing)
        .build()
        .unwrap_err();
    assert_eq!(broken, BuildError::VariantAllocator { variant: Variant::RelaxedRing });
    let ring: Table<u64> = Table::with_capacity(16).unwrap();
    assert_eq!(ring.allocator(), Allocator::Ring);
    assert_eq!(ring.magazine_bytes(), 0);
    assert!(magazine_table(1024, 64).magazine_bytes() >= MAGAZINE_WRITERS * 64 * 8);
}

#[test]
fn a_writer_reuses_its_own_ids_without_writing_the_header() {
    let t = magazine_table(1 << 12, 64);
    let mut w = t.writer();
    assert_eq!(w.magazine(), Some((0, 64)));
    let mut probe = ProbeCounts::default();
    let first = w.insert_probed(0, &mut probe).unwrap();
    assert_eq!(w.magazine(), Some((31, 64)), "the first insert refilled half the magazine");
    assert_eq!(probe.header_writes, 1, "one claim for 32 ids");
    let mut key = first;
    let pairs: u64 = if cfg!(miri) { 100 } else { 10_000 };
    let mut probe = ProbeCounts::default();
    for i in 0..pairs {
        assert!(w.remove_probed(key, &mut probe));
        key = w.insert_probed(i, &mut probe).unwrap();
        assert_eq!(key.slot(), first.slot(), "the id just freed comes back first");
    }
    assert_eq!(probe.header_writes, 0, "steady churn never writes the header");
    assert_eq!(key.generation(), first.generation() + pairs, "each reuse is a new generation");
    assert_eq!(t.len(), 1);
}

#[test]
fn header_writes_per_pair_stay_under_a_tenth_with_64() {
    // A thread that holds between 0 and 200 keys, going up and down in runs, so that the
    // magazine empties and fills: the worst case for refills and give-backs.
    let t = magazine_table(1 << 12, 64);
    let mut w = t.writer();
    let mut live = Vec::new();
    let mut probe = ProbeCounts::default();
    let mut pairs = 0u64;
    let rounds = if cfg!(miri) { 20 } else { 200 };
    for round in 0..rounds {
        let run = 50 + (round * 37) % 150;
        for i in 0..run {
            live.push(w.insert_probed(i, &mut probe).unwrap());
        }
        for _ in 0..run {
            assert!(w.remove_probed(live.pop().unwrap(), &mut probe));
        }
        pairs += run;
    }
    // At most 0.1 per pair, in integers: 10 header writes per 100 pairs.
    assert!(
        probe.header_writes * 10 <= pairs,
        "{} header writes in {pairs} pairs: more than 0.1 per pair",
        probe.header_writes
    );
    // The ring writer on the same program writes the header 3 times per pair.
    let ring: Table<u64> = Table::with_capacity(1 << 12).unwrap();
    let mut rw = ring.writer();
    let mut ring_probe = ProbeCounts::default();
    for _ in 0..100 {
        let k = rw.insert_probed(1, &mut ring_probe).unwrap();
        assert!(rw.remove_probed(k, &mut ring_probe));
    }
    assert_eq!(ring_probe.header_writes, 300);
}

#[test]
fn len_and_the_snapshot_count_magazine_ids_as_free() {
    let t = magazine_table(256, 16);
    let mut w = t.writer();
    let keys: Vec<Key> = (0..20).map(|i| w.insert(i).unwrap()).collect();
    for &k in &keys[..5] {
        assert!(w.remove(k));
    }
    let (fill, size) = w.magazine().unwrap();
    assert!(fill > 0 && fill <= size);
    assert_eq!(t.len(), 15, "len leaves out the magazine's ids");
    let snap = t.snapshot();
    assert_eq!(snap.allocator(), Allocator::Magazine { size: 16 });
    assert_eq!(snap.magazines().len(), 1);
    assert_eq!(snap.in_magazines(), fill);
    assert_eq!(snap.occupied(), 15);
    assert_eq!(snap.occupied() + snap.free(), 256, "magazine ids are free slots");
    assert_eq!(snap.count(), (15 + fill) as u64, "the header counts them as out of the ring");
    // The newest id is the one the next insert gets.
    let next = *snap.magazines()[0].ids.last().unwrap();
    assert_eq!(snap.slot(next.slot()).state, SlotState::Free);
    assert_eq!(snap.slot(next.slot()).key, Some(next));
    assert_eq!(w.insert(99).unwrap(), next);
    let live: HashMap<Key, u64> =
        keys[5..].iter().map(|&k| (k, t.get(k).unwrap())).chain([(next, 99)]).collect();
    common::check_snapshot_accounts(&t.snapshot(), live.keys().copied());
    drop(w);
    check_quiescent(&t, &live);
    assert!(t.snapshot().magazines().is_empty(), "a dropped writer's magazine is gone");
}

#[test]
fn dropping_a_writer_gives_its_ids_back_even_in_a_panic() {
    quiet_panics();
    let t = magazine_table(64, 16);
    let kept = t.insert(7).unwrap();
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut w = t.writer();
        let mine: Vec<Key> = (0..10).map(|i| w.insert(i).unwrap()).collect();
        for k in mine {
            assert!(w.remove(k));
        }
        assert!(w.magazine().unwrap().0 > 0);
        std::panic::panic_any(QuietPanic);
    }));
    assert!(result.is_err());
    check_quiescent(&t, &HashMap::from([(kept, 7)]));
    // Every other slot can be had again, by the one-shot calls too.
    let all: Vec<Key> = (0..63).map(|i| t.insert(i).unwrap()).collect();
    assert!(t.insert(0).is_err(), "full after 63 more");
    assert_eq!(t.len(), 64);
    drop(all);
}

#[test]
fn full_comes_only_while_other_magazines_hold_the_slack() {
    let (n, size) = (256usize, 16u32);
    let table = magazine_table(n, size);
    let mut a = table.writer();
    let mut b = table.writer();
    // `a` takes ids, then frees them into its magazine and keeps them there.
    let a_keys: Vec<Key> = (0..40).map(|i| a.insert(i).unwrap()).collect();
    for &k in &a_keys {
        assert!(a.remove(k));
    }
    let (held, _) = a.magazine().unwrap();
    assert!(held > 0 && held <= size as usize);
    // `b` fills the table: it is refused once the ring is empty, with `held` ids free in a's
    // magazine and none lost.
    let mut b_keys = Vec::new();
    while let Ok(k) = b.insert(1) {
        b_keys.push(k);
    }
    let b_fill = b.magazine().unwrap().0;
    assert_eq!(b_fill, 0, "b was refused with an empty magazine");
    assert_eq!(b_keys.len(), n - held, "b got every id but those in a's magazine");
    assert!(n - b_keys.len() <= size as usize, "the slack is at most one magazine");
    // `a` can still insert from its own magazine; once it gives its ids back, b gets them.
    let from_a = a.insert(2).unwrap();
    drop(a);
    assert_eq!(table.len(), b_keys.len() + 1);
    let mut got = 0;
    while b.insert(3).is_ok() {
        got += 1;
    }
    assert_eq!(got, held - 1, "the dropped writer's ids reached b through the ring");
    assert!(table.contains(from_a));
}

#[test]
fn writers_beyond_the_records_run_on_the_ring() {
    let t = magazine_table(1 << 10, 4);
    let writers: Vec<_> = (0..MAGAZINE_WRITERS).map(|_| t.writer()).collect();
    assert!(writers.iter().all(|w| w.magazine().is_some()));
    let mut extra = t.writer();
    assert_eq!(extra.magazine(), None, "no record left");
    let mut probe = ProbeCounts::default();
    let k = extra.insert_probed(1, &mut probe).unwrap();
    assert!(extra.remove_probed(k, &mut probe));
    assert_eq!(probe.header_writes, 3, "the ring's three header writes per pair");
    drop(writers);
    assert_eq!(t.writer().magazine(), Some((0, 4)), "a record comes free when its writer drops");
}

#[test]
fn stale_keys_never_alias_under_magazines() {
    for layout in Layout::ALL {
        let t: Table<u64> = Table::builder()
            .capacity(16)
            .layout(layout)
            .allocator(Allocator::Magazine { size: 4 })
            .build()
            .unwrap();
        let mut w = t.writer();
        let mut stale = Vec::new();
        let mut key = w.insert(0).unwrap();
        let reuses = if cfg!(miri) { 30 } else { 500 };
        for i in 1..reuses {
            assert!(w.remove(key));
            stale.push(key);
            key = w.insert(i).unwrap();
            for &old in &stale[stale.len().saturating_sub(8)..] {
                assert_eq!(w.get(old), None, "{layout}: stale {old:?} reads");
                assert_eq!(t.get(old), None);
                assert!(!w.remove(old), "{layout}: stale {old:?} removed something");
            }
        }
        assert_eq!(t.get(key), Some(reuses - 1));
    }
}

/// Which lines a key set touches, as a sorted list.
fn lines_of(table: &Table<u64>, keys: &[Key]) -> Vec<usize> {
    let g = table.geometry();
    let mut lines: Vec<usize> = keys.iter().map(|k| g.line_of_slot(k.slot())).collect();
    lines.sort_unstable();
    lines.dedup();
    lines
}

#[test]
fn refills_take_whole_lines_and_two_writers_share_none() {
    for layout in Layout::ALL {
        let table: Table<u64> = Table::builder()
            .capacity(1 << 10)
            .layout(layout)
            .allocator(Allocator::Magazine { size: 64 })
            .build()
            .unwrap();
        let per_line = table.geometry().slots_per_line();
        let (mut a, mut b) = (table.writer(), table.writer());
        // Alternate the two writers, so that their refills interleave in the ring.
        let mut keys = (Vec::new(), Vec::new());
        for i in 0..256 {
            keys.0.push(a.insert(i).unwrap());
            keys.1.push(b.insert(i).unwrap());
        }
        let (la, lb) = (lines_of(&table, &keys.0), lines_of(&table, &keys.1));
        assert!(la.iter().all(|l| !lb.contains(l)), "{layout}: the writers share a line");
        // 256 keys on 256 / S lines: every line a writer touched, it filled.
        assert_eq!(la.len(), 256 / per_line, "{layout}: lines of writer a");
        assert_eq!(lb.len(), 256 / per_line, "{layout}: lines of writer b");
    }
}

#[test]
fn a_full_magazine_gives_back_whole_lines_first() {
    // 64-byte lines, interleaved: 8 slots a line. Magazines of 16: batches of 8, one line.
    let table: Table<u64> = Table::builder()
        .capacity(1 << 8)
        .layout(Layout::Interleaved)
        .allocator(Allocator::Magazine { size: 16 })
        .build()
        .unwrap();
    let g = table.geometry();
    let mut w = table.writer();
    let keys: Vec<Key> = (0..72).map(|i| w.insert(i).unwrap()).collect();
    assert_eq!(w.magazine(), Some((0, 16)));
    // Fill the magazine with 16 ids from 9 lines: one whole line (8 ids) and one id from
    // each of 8 other lines, the scattered ones removed first (the oldest).
    let whole = g.line_of_slot(keys[8].slot());
    let scattered: Vec<Key> =
        keys.iter().copied().filter(|k| g.line_of_slot(k.slot()) != whole).step_by(8).collect();
    assert_eq!(lines_of(&table, &scattered).len(), 8);
    let full: Vec<Key> = keys.iter().copied().filter(|k| g.line_of_slot(k.slot()) == whole).collect();
    for &k in scattered.iter().chain(&full) {
        assert!(w.remove(k));
    }
    assert_eq!(w.magazine(), Some((16, 16)));
    // The next remove gives a batch back: the whole line, although its ids are the newest.
    assert!(w.remove(keys[63]));
    let snap = table.snapshot();
    let kept: Vec<Key> = snap.magazines()[0].ids.clone();
    assert!(kept.iter().all(|k| g.line_of_slot(k.slot()) != whole), "the whole line stayed: {kept:?}");
    let ring_lines: Vec<usize> = (0..8u64)
        .map(|t| snap.ring_cell(((snap.free_cursor() - 8 + t) % 256) as usize))
        .map(|k| g.line_of_slot(k.unwrap().slot()))
        .collect();
    assert_eq!(ring_lines, vec![whole; 8], "the ring's newest cells hold the given-back line");
}
