//! Exactly-once drop (`IMPLEMENTATION.md`, "Invariants"): every value that went into the table is dropped exactly
//! once, whether it was removed (crossbeam-epoch drops it later), left in the table when the
//! table was dropped, or refused by a full table (handed back to the caller). Kept in its own
//! test binary so that no other test holds an epoch pin while these wait for deferred drops.
#![cfg(not(loom))]

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use common::{quiet_panics, settle_drops, DropLog, QuietPanic, Tracked};
use slotscope_table::{Key, Table, Variant};

#[cfg(not(miri))]
const ROUNDS: usize = 500;
#[cfg(miri)]
const ROUNDS: usize = 20;

#[test]
fn removed_and_remaining_values_drop_exactly_once() {
    let log = DropLog::new(ROUNDS + 16);
    let table: Table<Tracked> = Table::with_capacity(16).unwrap();
    let mut live: Vec<Key> = Vec::new();
    let mut next = 0;
    // Churn: keep ~12 live, so slots are reused many times while old values wait for the
    // epoch.
    for round in 0..ROUNDS {
        live.push(table.insert(Tracked::new(next, &log)).unwrap());
        next += 1;
        if live.len() > 12 {
            let k = live.remove(round % live.len());
            assert!(table.remove(k));
            assert!(!table.remove(k), "a key removes once");
        }
    }
    let removed = next - live.len();
    let settled = settle_drops(&log, removed as u64);
    assert_eq!(settled, removed as u64, "removed values dropped once each (after the epoch moved on)");
    for &k in &live {
        assert!(table.with(k, |v| log.count(v.id) == 0).unwrap(), "a live value was dropped");
    }
    drop(table);
    assert_eq!(log.total(), next as u64, "dropping the table drops what it held, at once");
    assert_eq!(log.dropped_twice(), Vec::<usize>::new());
    // Already settled: this only flushes a while longer, so a late second drop would show.
    assert_eq!(settle_drops(&log, next as u64), next as u64, "and nothing is dropped again later");
}

#[test]
fn refused_values_come_back_undropped() {
    let log = DropLog::new(17);
    let table: Table<Tracked> = Table::with_capacity(16).unwrap();
    for id in 0..16 {
        table.insert(Tracked::new(id, &log)).unwrap();
    }
    let back = table.insert(Tracked::new(16, &log)).unwrap_err().into_inner();
    assert_eq!(back.id, 16);
    assert_eq!(log.total(), 0, "a refused insert drops nothing");
    drop(back);
    assert_eq!(log.count(16), 1);
    drop(table);
    assert_eq!(log.total(), 17);
    assert_eq!(log.dropped_twice(), Vec::<usize>::new());
}

#[test]
fn a_panicking_insert_with_drops_nothing_it_does_not_own() {
    quiet_panics();
    let log = DropLog::new(20);
    let table: Table<Tracked> = Table::with_capacity(16).unwrap();
    let first = table.insert(Tracked::new(0, &log)).unwrap();
    // The closure owns a value and panics: the value drops once, in the unwinding closure.
    let owned = Tracked::new(1, &log);
    let r = catch_unwind(AssertUnwindSafe(|| {
        table.insert_with(move |_| -> Tracked {
            let _held = owned;
            std::panic::panic_any(QuietPanic)
        })
    }));
    assert!(r.is_err());
    assert_eq!(log.count(1), 1);
    assert_eq!(log.count(0), 0);
    assert_eq!(table.len(), 1);
    assert!(table.remove(first));
    assert_eq!(settle_drops(&log, 2), 2);
    drop(table);
    assert_eq!(log.dropped_twice(), Vec::<usize>::new());
}

#[test]
fn values_removed_on_other_threads_drop_exactly_once() {
    #[cfg(not(miri))]
    const PER_THREAD: usize = 2_000;
    #[cfg(miri)]
    const PER_THREAD: usize = 20;
    let log = DropLog::new(2 * PER_THREAD);
    let table: Arc<Table<Tracked>> = Arc::new(Table::with_capacity(64).unwrap());
    std::thread::scope(|s| {
        for t in 0..2 {
            let (table, log) = (&table, &log);
            s.spawn(move || {
                for i in 0..PER_THREAD {
                    let id = t * PER_THREAD + i;
                    let k = table.insert(Tracked::new(id, log)).unwrap();
                    assert!(table.with(k, |v| v.id == id).unwrap());
                    assert!(table.remove(k));
                }
            });
        }
    });
    let total = (2 * PER_THREAD) as u64;
    assert_eq!(settle_drops(&log, total), total);
    assert_eq!(log.dropped_twice(), Vec::<usize>::new());
}

#[test]
fn broken_variants_still_drop_exactly_once_sequentially() {
    // The bug zoo breaks the table's answers, never memory safety.
    for variant in [Variant::NoGenerationCheck, Variant::RelaxedRing] {
        let log = DropLog::new(40);
        let table: Table<Tracked> = Table::builder().capacity(16).variant(variant).build().unwrap();
        let keys: Vec<Key> = (0..16).map(|id| table.insert(Tracked::new(id, &log)).unwrap()).collect();
        for (i, &k) in keys.iter().enumerate().take(8) {
            assert!(table.remove(k));
            table.insert(Tracked::new(16 + i, &log)).unwrap();
        }
        assert_eq!(settle_drops(&log, 8), 8, "{variant}");
        drop(table);
        assert_eq!(log.total(), 24, "{variant}");
        assert_eq!(log.dropped_twice(), Vec::<usize>::new(), "{variant}");
    }
}
