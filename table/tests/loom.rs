//! loom models of the table: every interleaving (up to a preemption bound) of 2-3 threads
//! doing one or two operations each on a 16-slot table, with the table's own atomics and
//! crossbeam-epoch's swapped for loom's.
//!
//! Run (own target dir, release, a few minutes at most):
//! `RUSTFLAGS="--cfg loom --cfg crossbeam_loom" CARGO_TARGET_DIR=target/loom \
//!  cargo test -p slotscope-table --release --test loom`
//! The preemption bound is 2 unless `LOOM_MAX_PREEMPTIONS` says otherwise.
//!
//! Instrumentation that is not part of what is checked (outcome flags, drop flags) uses std
//! atomics: loom runs its threads one at a time on one OS thread, so they are exact.
#![allow(clippy::disallowed_types)] // the models' own std bookkeeping, outside the table
#![cfg(loom)]

mod common;

use std::sync::atomic::{AtomicBool as StdBool, AtomicUsize as StdUsize, Ordering::SeqCst};
use std::sync::Arc as StdArc;

use common::{check_snapshot_accounts, next_key_bits};
use loom::cell::UnsafeCell;
use loom::sync::atomic::{AtomicU64, Ordering};
use loom::sync::Arc;
use loom::thread;
use slotscope_table::{Allocator, Key, SlotState, Table, Variant};

const N: usize = 16;

/// Runs `f` under loom with preemption bound 2 (or `LOOM_MAX_PREEMPTIONS`), and returns how
/// many executions loom explored.
fn model<F>(f: F) -> usize
where
    F: Fn() + Sync + Send + 'static,
{
    model_with_branches(loom::model::Builder::new().max_branches, f)
}

/// [`model`] allowing more scheduling points per execution: the `relaxed-ring` variant's
/// remove yields 64 times under loom to widen its window.
fn model_with_branches<F>(max_branches: usize, f: F) -> usize
where
    F: Fn() + Sync + Send + 'static,
{
    let runs = StdArc::new(StdUsize::new(0));
    let counter = StdArc::clone(&runs);
    let mut builder = loom::model::Builder::new();
    builder.max_branches = max_branches;
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(2);
    }
    builder.check(move || {
        counter.fetch_add(1, SeqCst);
        f();
    });
    let runs = runs.load(SeqCst);
    println!("explored {runs} executions");
    runs
}

fn table<T>(variant: Variant) -> Table<T> {
    Table::builder().capacity(N).variant(variant).build().unwrap()
}

/// A 16-slot table holding `live` elements with values 0, 1, ...
fn filled(live: usize, variant: Variant) -> (Arc<Table<u64>>, Vec<Key>) {
    let t = table(variant);
    let keys = (0..live as u64).map(|v| t.insert(v).unwrap()).collect();
    (Arc::new(t), keys)
}

fn next_key(k: Key) -> Key {
    Key::from_bits(next_key_bits(k.capacity_log2(), k.bits()))
}

/// The quiescent checks, after every thread joined: each live key reads its value, `keys()`
/// and the snapshot account for every slot exactly once.
fn quiescent(t: &Table<u64>, live: &[(Key, u64)]) {
    assert_eq!(t.len(), live.len(), "len");
    for &(k, v) in live {
        assert_eq!(t.get(k), Some(v), "{k:?}");
    }
    let mut keys: Vec<Key> = t.keys().collect();
    keys.sort();
    let mut want: Vec<Key> = live.iter().map(|&(k, _)| k).collect();
    want.sort();
    assert_eq!(keys, want, "keys()");
    check_snapshot_accounts(&t.snapshot(), want);
}

// ---------------------------------------------------------------------------------------
// The correct table

/// Two inserts race for the last free slot: exactly one gets it, the other gets `Full` with
/// its value back.
#[test]
fn racing_inserts_for_the_last_slot() {
    model(|| {
        let (t, keys) = filled(N - 1, Variant::Correct);
        let t2 = t.clone();
        let h = thread::spawn(move || t2.insert(100));
        let mine = t.insert(200);
        let theirs = h.join().unwrap();
        let (won, lost) = match (mine, theirs) {
            (Ok(k), Err(full)) => ((k, 200), full.into_inner()),
            (Err(full), Ok(k)) => ((k, 100), full.into_inner()),
            other => panic!("not exactly one winner: {other:?}"),
        };
        assert_eq!(lost, if won.1 == 100 { 200 } else { 100 }, "Full hands back the loser's value");
        let mut live: Vec<(Key, u64)> = keys.iter().map(|&k| (k, t.get(k).unwrap())).collect();
        live.push(won);
        quiescent(&t, &live);
    });
}

/// Two threads remove one key: exactly one wins, and its id goes back to the ring once.
#[test]
fn racing_removes_of_one_key() {
    model(|| {
        let (t, keys) = filled(2, Variant::Correct);
        let k = keys[0];
        let t2 = t.clone();
        let h = thread::spawn(move || t2.remove(k));
        let mine = t.remove(k);
        let theirs = h.join().unwrap();
        assert!(mine ^ theirs, "exactly one remover wins: {mine} {theirs}");
        quiescent(&t, &[(keys[1], 1)]);
        assert_eq!(t.snapshot().slot(k.slot()).key, Some(next_key(k)));
    });
}

/// A value read while another thread removes it: the lookup sees the whole value or nothing,
/// and the value is not freed while the reader holds it (the remover flushes its garbage to
/// push crossbeam-epoch to free it as early as it may).
#[test]
fn lookup_races_remove() {
    struct Payload {
        value: u64,
        check: u64,
        freed: StdArc<StdBool>,
    }
    impl Drop for Payload {
        fn drop(&mut self) {
            self.freed.store(true, SeqCst);
        }
    }
    let freed_during_model = StdArc::new(StdBool::new(false));
    let seen = StdArc::clone(&freed_during_model);
    model(move || {
        let freed = StdArc::new(StdBool::new(false));
        let t: Arc<Table<Payload>> = Arc::new(table(Variant::Correct));
        let k = t.insert(Payload { value: 7, check: !7, freed: StdArc::clone(&freed) }).unwrap();
        let t2 = t.clone();
        let h = thread::spawn(move || {
            assert!(t2.remove(k));
            for _ in 0..2 {
                crossbeam_epoch::pin().flush();
            }
        });
        let got = t.with(k, |p| {
            let whole = (p.value, p.check);
            assert!(!freed.load(SeqCst), "the element was freed while a reader held it");
            whole
        });
        assert!(got.is_none() || got == Some((7, !7)), "torn read {got:?}");
        h.join().unwrap();
        assert!(t.with(k, |p| p.value).is_none());
        if freed.load(SeqCst) {
            seen.store(true, SeqCst);
        }
    });
    assert!(freed_during_model.load(SeqCst), "no execution freed the element: the check above was idle");
}

/// A writer removes (and, re-pinning, retires its batch and recycles it) while a reader holds
/// the element: the element is never freed or reused under the reader, and the writer's next
/// insert, which may reuse the allocation once the grace period has passed, is seen whole.
#[test]
fn writer_retirement_waits_for_readers() {
    struct Payload {
        value: u64,
        check: u64,
        freed: StdArc<StdBool>,
    }
    impl Drop for Payload {
        fn drop(&mut self) {
            self.freed.store(true, SeqCst);
        }
    }
    let freed_during_model = StdArc::new(StdBool::new(false));
    let seen = StdArc::clone(&freed_during_model);
    model(move || {
        let freed = StdArc::new(StdBool::new(false));
        let t: Arc<Table<Payload>> = Arc::new(table(Variant::Correct));
        let k = t.insert(Payload { value: 7, check: !7, freed: StdArc::clone(&freed) }).unwrap();
        let t2 = t.clone();
        let h = thread::spawn(move || {
            let mut w = t2.writer();
            assert!(w.remove(k));
            w.repin();
            crossbeam_epoch::pin().flush();
            let fresh = w.insert(Payload { value: 8, check: !8, freed: StdArc::new(StdBool::new(false)) });
            let fresh = fresh.unwrap();
            assert_eq!(w.get(fresh).map(|p| (p.value, p.check)), Some((8, !8)));
        });
        let reader = t.reader();
        let got = reader.get(k).map(|p| {
            let whole = (p.value, p.check);
            assert!(!freed.load(SeqCst), "the element was freed while a reader held it");
            whole
        });
        assert!(got.is_none() || got == Some((7, !7)), "torn or reused read {got:?}");
        drop(reader);
        h.join().unwrap();
        assert!(t.with(k, |p| p.value).is_none());
        if freed.load(SeqCst) {
            seen.store(true, SeqCst);
        }
    });
    assert!(freed_during_model.load(SeqCst), "no execution freed the element: the check above was idle");
}

/// Two writers churn one slot's neighbourhood: a remove through one and an insert through the
/// other, on a table with one free slot, end in a consistent table.
#[test]
fn writers_remove_and_insert() {
    model(|| {
        let (t, keys) = filled(N - 1, Variant::Correct);
        let k = keys[3];
        let t2 = t.clone();
        let h = thread::spawn(move || {
            let mut w = t2.writer();
            w.insert(100).unwrap()
        });
        let mut w = t.writer();
        assert!(w.remove(k));
        drop(w);
        let new = h.join().unwrap();
        let mut live: Vec<(Key, u64)> =
            keys.iter().zip(0..).filter(|(&x, _)| x != k).map(|(&x, v)| (x, v)).collect();
        live.push((new, 100));
        quiescent(&t, &live);
    });
}

/// A value built by `insert_with` and published while another thread looks its key up: if
/// the reader finds the element, it sees every field as built, including a loom-tracked cell
/// written after construction (loom flags the read if it is not ordered after the write).
#[test]
fn insert_publication() {
    struct Payload {
        key: u64,
        check: u64,
        late: UnsafeCell<u64>,
    }
    // SAFETY: `late` is written only inside the `insert_with` closure, before the element is
    // published, and only read after a lookup found it; loom checks that ordering.
    unsafe impl Sync for Payload {}

    model(|| {
        let t: Arc<Table<Payload>> = Arc::new(table(Variant::Correct));
        // Relaxed on purpose: only the table's own Release/Acquire may order the element.
        let shared = Arc::new(AtomicU64::new(0));
        let (t2, s2) = (t.clone(), shared.clone());
        let h = thread::spawn(move || {
            let k = t2
                .insert_with(|k| {
                    let p = Payload { key: k.bits(), check: !k.bits(), late: UnsafeCell::new(0) };
                    // SAFETY: the element is not published yet; nothing else can see `late`.
                    p.late.with_mut(|v| unsafe { *v = k.bits() ^ 0x5a5a });
                    p
                })
                .unwrap();
            s2.store(k.bits(), Ordering::Relaxed);
        });
        let bits = shared.load(Ordering::Relaxed);
        if bits != 0 {
            let got = t.with(Key::from_bits(bits), |p| {
                // SAFETY: the element was found, so it was published after `late` was written.
                let late = p.late.with(|v| unsafe { *v });
                (p.key, p.check, late)
            });
            if let Some((key, check, late)) = got {
                assert_eq!((key, check, late), (bits, !bits, bits ^ 0x5a5a), "half-built value");
            }
        }
        h.join().unwrap();
        assert_eq!(t.len(), 1);
    });
}

/// A key removed before the threads start, its slot reused by one thread while another uses
/// the stale key: the stale key reads nothing and removes nothing in every interleaving.
#[test]
fn stale_key_after_reuse() {
    model(|| {
        let (t, keys) = filled(N, Variant::Correct);
        let stale = keys[0];
        assert!(t.remove(stale));
        let t2 = t.clone();
        let h = thread::spawn(move || t2.insert(99).unwrap());
        assert_eq!(t.get(stale), None);
        assert!(!t.remove(stale));
        let fresh = h.join().unwrap();
        assert_eq!(fresh, next_key(stale), "the only free id");
        assert_eq!(t.get(fresh), Some(99));
        assert!(!t.remove(stale));
        assert_eq!(t.len(), N);
    });
}

/// The stale key races the reuse itself: one thread removes `k` and inserts (reusing `k`'s
/// slot), the other removes `k` and looks it up. Exactly one remove of `k` wins, and neither
/// the other remove nor the lookup ever touches the new element.
#[test]
fn stale_remove_races_reuse() {
    model(|| {
        let (t, keys) = filled(N, Variant::Correct);
        let k = keys[0];
        let t2 = t.clone();
        let h = thread::spawn(move || {
            let removed = t2.remove(k);
            (removed, t2.get(k))
        });
        let mine = t.remove(k);
        let new = t.insert(99);
        let (theirs, their_read) = h.join().unwrap();
        assert!(mine ^ theirs, "exactly one remove of {k:?} wins: {mine} {theirs}");
        // After either remove of `k` finished, `k` reads nothing, whatever lives in its slot.
        assert_eq!(their_read, None);
        let mut live: Vec<(Key, u64)> = keys.iter().zip(0..).skip(1).map(|(&x, v)| (x, v)).collect();
        if let Ok(new) = new {
            assert_eq!(new, next_key(k));
            live.push((new, 99));
        }
        quiescent(&t, &live);
    });
}

/// A full table answers `Full` to racing inserts, in bounded steps (loom fails a model whose
/// loops do not end).
#[test]
fn full_table_answers_full() {
    model(|| {
        let (t, keys) = filled(N, Variant::Correct);
        let t2 = t.clone();
        let h = thread::spawn(move || t2.insert(100).is_err());
        assert!(t.insert(200).is_err());
        assert!(h.join().unwrap());
        let live: Vec<(Key, u64)> = keys.iter().zip(0..).map(|(&k, v)| (k, v)).collect();
        quiescent(&t, &live);
    });
}

/// An insert into a full table races a remove: it answers `Full` or gets exactly the freed
/// id; both outcomes happen.
#[test]
fn full_insert_races_remove() {
    let outcomes = StdArc::new([StdBool::new(false), StdBool::new(false)]);
    let seen = StdArc::clone(&outcomes);
    model(move || {
        let (t, keys) = filled(N, Variant::Correct);
        let t2 = t.clone();
        let k = keys[3];
        let h = thread::spawn(move || assert!(t2.remove(k)));
        let r = t.insert(100);
        h.join().unwrap();
        let mut live: Vec<(Key, u64)> =
            keys.iter().zip(0..).filter(|(&x, _)| x != k).map(|(&x, v)| (x, v)).collect();
        match r {
            Ok(new) => {
                assert_eq!(new, next_key(k));
                live.push((new, 100));
                seen[0].store(true, SeqCst);
            }
            Err(full) => {
                assert_eq!(full.into_inner(), 100);
                seen[1].store(true, SeqCst);
            }
        }
        quiescent(&t, &live);
    });
    assert!(outcomes.iter().all(|o| o.load(SeqCst)), "loom did not explore both outcomes");
}

/// Ring handover: two removes push ids while one of the removers then inserts. The insert
/// takes one of the two freed ids (skipping a ticket whose push is still in flight if need
/// be); nothing is lost or duplicated.
#[test]
fn ring_push_pop_handover() {
    model(|| {
        let (t, keys) = filled(N, Variant::Correct);
        let (a, b) = (keys[0], keys[1]);
        let t2 = t.clone();
        let h = thread::spawn(move || assert!(t2.remove(a)));
        assert!(t.remove(b));
        let new = t.insert(100).unwrap();
        h.join().unwrap();
        assert!(new == next_key(a) || new == next_key(b), "{new:?} is neither freed id");
        let mut live: Vec<(Key, u64)> = keys.iter().zip(0..).skip(2).map(|(&k, v)| (k, v)).collect();
        live.push((new, 100));
        quiescent(&t, &live);
    });
}

/// Remove then insert on one thread, insert on another, one freed slot: exactly one insert
/// gets it (the next key of the removed one), the other gets `Full`.
#[test]
fn remove_and_insert_reuse_one_slot() {
    model(|| {
        let (t, keys) = filled(N, Variant::Correct);
        let k = keys[5];
        let t2 = t.clone();
        let h = thread::spawn(move || t2.insert(100));
        assert!(t.remove(k));
        let mine = t.insert(200);
        let theirs = h.join().unwrap();
        let won = match (mine, theirs) {
            (Ok(x), Err(_)) => (x, 200),
            (Err(_), Ok(x)) => (x, 100),
            other => panic!("one freed slot, not exactly one insert: {other:?}"),
        };
        assert_eq!(won.0, next_key(k));
        let mut live: Vec<(Key, u64)> =
            keys.iter().zip(0..).filter(|(&x, _)| x != k).map(|(&x, v)| (x, v)).collect();
        live.push(won);
        quiescent(&t, &live);
    });
}

/// A snapshot taken during a remove and an insert: each slot has one state; a slot shown
/// occupied shows a key that was live, a slot shown free shows the id the ring holds for it;
/// an element live throughout is shown occupied.
#[test]
fn snapshot_during_remove_and_insert() {
    model(|| {
        let (t, keys) = filled(2, Variant::Correct);
        let (gone, kept) = (keys[0], keys[1]);
        let t2 = t.clone();
        let h = thread::spawn(move || {
            assert!(t2.remove(gone));
            t2.insert(100).unwrap()
        });
        let snap = t.snapshot();
        let new = h.join().unwrap();
        assert_eq!(snap.slot(kept.slot()).key, Some(kept), "a key live throughout");
        assert_eq!(snap.slot(kept.slot()).state, SlotState::Occupied);
        let g = t.geometry();
        let mut ring_slots = [0; N];
        for r in 0..N {
            if let Some(id) = snap.ring_cell(r) {
                ring_slots[id.slot()] += 1;
            }
        }
        for (s, &in_ring) in ring_slots.iter().enumerate() {
            let info = snap.slot(s);
            match info.state {
                SlotState::Occupied => {
                    let k = info.key.unwrap();
                    assert!(k == gone || k == kept || k == new, "slot {s} shows {k:?}, never live");
                }
                SlotState::Free => {
                    let k = info.key.unwrap();
                    assert!(in_ring >= 1, "slot {s} free without an id in the ring");
                    assert!(k == next_key(gone) || k == g.key(0, s), "slot {s} free with {k:?}");
                }
                // Only the two slots the other thread works on can be in flight. (Both at once:
                // the ring is read after the slots, so a push can be missed by the ring scan
                // while the pop that follows is seen.)
                SlotState::Reserved => {
                    assert!(info.key.is_none());
                    assert!(s == gone.slot() || s == new.slot(), "slot {s} reserved, untouched");
                }
            }
        }
        assert_eq!(snap.occupied() + snap.free() + snap.reserved(), N);
        quiescent(&t, &[(kept, 1), (new, 100)]);
    });
}

/// `keys()` while another thread removes: keys live throughout appear exactly once, the
/// removed key at most once, nothing else.
#[test]
fn keys_during_remove() {
    model(|| {
        let (t, keys) = filled(3, Variant::Correct);
        let gone = keys[1];
        let t2 = t.clone();
        let h = thread::spawn(move || assert!(t2.remove(gone)));
        let seen: Vec<Key> = t.keys().collect();
        h.join().unwrap();
        for k in [keys[0], keys[2]] {
            assert_eq!(seen.iter().filter(|&&x| x == k).count(), 1, "{k:?} live throughout");
        }
        assert!(seen.iter().filter(|&&x| x == gone).count() <= 1);
        assert!(seen.iter().all(|k| keys.contains(k)), "{seen:?}");
    });
}

// ---------------------------------------------------------------------------------------
// The magazine allocator: refills and give-backs racing with other threads

/// Magazine size in the models: 4 (a refill takes 2, a give-back returns 2).
const M: u32 = 4;

/// A 16-slot magazine table holding `live` elements (inserted by the one-shot calls, so no
/// magazine holds anything yet).
fn filled_magazine(live: usize) -> (Arc<Table<u64>>, Vec<Key>) {
    let t = Table::builder().capacity(N).allocator(Allocator::Magazine { size: M }).build().unwrap();
    let keys = (0..live as u64).map(|v| t.insert(v).unwrap()).collect();
    (Arc::new(t), keys)
}

fn live_but(keys: &[Key], gone: &[Key]) -> Vec<(Key, u64)> {
    keys.iter().zip(0..).filter(|(k, _)| !gone.contains(k)).map(|(&k, v)| (k, v)).collect()
}

/// A writer's refill (one claim for 2 ids, then two pops) races with a one-shot remove pushing
/// an id into the ring it pops from: the refill gets ids (skipping a cell whose push is still
/// in flight), nothing is lost or handed out twice.
#[test]
fn magazine_refill_races_a_remove() {
    model(|| {
        let (t, keys) = filled_magazine(N - 1);
        let snap = t.snapshot();
        let free =
            (0..N).find_map(|s| (snap.slot(s).state == SlotState::Free).then(|| snap.slot(s).key.unwrap()));
        let k = keys[2];
        let t2 = t.clone();
        let h = thread::spawn(move || assert!(t2.remove(k)));
        let mut w = t.writer();
        let new = w.insert(100).unwrap();
        drop(w);
        h.join().unwrap();
        assert!(new == next_key(k) || Some(new) == free, "{new:?} was neither free id");
        let mut live = live_but(&keys, &[k]);
        live.push((new, 100));
        quiescent(&t, &live);
    });
}

/// Two writers with magazines race for the last two free ids. A refill claims what is left,
/// so the first to refill may take both: the other is then refused while the slack sits in
/// the winner's magazine (the magazine allocator's documented `Full`). Never both refused,
/// never one id to both, and once both writers are dropped every id is back. loom explores
/// both outcomes.
#[test]
fn magazine_refills_race_for_the_last_ids() {
    let outcomes = StdArc::new([StdBool::new(false), StdBool::new(false)]);
    let seen = StdArc::clone(&outcomes);
    model(move || {
        let (t, keys) = filled_magazine(N - 2);
        let t2 = t.clone();
        let other = thread::spawn(move || {
            let mut writer = t2.writer();
            writer.insert(100).map_err(|_| ())
        });
        let mut writer = t.writer();
        let mine = writer.insert(200).map_err(|_| ());
        drop(writer);
        let theirs = other.join().unwrap();
        let mut live = live_but(&keys, &[]);
        match (mine, theirs) {
            (Ok(a), Ok(b)) => {
                assert_ne!(a, b, "one id to two writers");
                live.push((a, 200));
                live.push((b, 100));
                seen[0].store(true, SeqCst);
            }
            (Ok(a), Err(())) => {
                live.push((a, 200));
                seen[1].store(true, SeqCst);
            }
            (Err(()), Ok(b)) => {
                live.push((b, 100));
                seen[1].store(true, SeqCst);
            }
            (Err(()), Err(())) => panic!("two free ids and both writers refused"),
        }
        quiescent(&t, &live);
    });
    assert!(outcomes.iter().all(|o| o.load(SeqCst)), "loom did not explore both outcomes");
}

/// A full magazine gives its older half back to the ring (one free-cursor RMW, two pushes,
/// one Release claim decrement) while a one-shot insert on the otherwise full table waits for
/// room: the insert gets one of the given-back ids or `Full`, both outcomes happen, and the
/// ids are accounted for either way.
#[test]
fn magazine_give_back_races_an_insert() {
    let outcomes = StdArc::new([StdBool::new(false), StdBool::new(false)]);
    let seen = StdArc::clone(&outcomes);
    model(move || {
        let (t, keys) = filled_magazine(N);
        let mut w = t.writer();
        // Fill the magazine: four removes (their ids stay out of the ring).
        for &k in &keys[..4] {
            assert!(w.remove(k));
        }
        let t2 = t.clone();
        let h = thread::spawn(move || t2.insert(100));
        // The fifth remove finds the magazine full and gives back the two oldest ids.
        assert!(w.remove(keys[4]));
        drop(w);
        let r = h.join().unwrap();
        let mut live = live_but(&keys, &keys[..5]);
        match r {
            Ok(new) => {
                assert!(keys[..2].iter().any(|&k| new == next_key(k)), "{new:?} was not given back");
                live.push((new, 100));
                seen[0].store(true, SeqCst);
            }
            Err(full) => {
                assert_eq!(full.into_inner(), 100);
                seen[1].store(true, SeqCst);
            }
        }
        quiescent(&t, &live);
    });
    assert!(outcomes.iter().all(|o| o.load(SeqCst)), "loom did not explore both outcomes");
}

/// A writer dropped as its thread ends gives its magazine back while another writer, its
/// magazine empty and the ring empty, inserts: that writer gets the given-back id or `Full`,
/// and after both the table is whole again.
#[test]
fn magazine_returned_on_drop_races_a_refill() {
    model(|| {
        let (t, keys) = filled_magazine(N);
        let k = keys[0];
        let t2 = t.clone();
        let other = thread::spawn(move || {
            let mut writer = t2.writer();
            assert!(writer.remove(k));
            // Dropped here: the id goes back to the ring.
        });
        let mut writer = t.writer();
        let inserted = writer.insert(100);
        drop(writer);
        other.join().unwrap();
        let mut live = live_but(&keys, &[k]);
        if let Ok(new) = inserted {
            assert_eq!(new, next_key(k));
            live.push((new, 100));
        }
        quiescent(&t, &live);
    });
}

/// A writer removes a key and reuses its slot from its magazine while another thread looks
/// the old key up: the lookup sees the old element or nothing, never the new one (the
/// generation rule holds under magazines).
#[test]
fn magazine_reuse_never_aliases_a_stale_key() {
    model(|| {
        let (t, keys) = filled_magazine(N - 4);
        let k = keys[1];
        let t2 = t.clone();
        let h = thread::spawn(move || t2.get(k));
        let mut w = t.writer();
        assert!(w.remove(k));
        let new = w.insert(100).unwrap();
        drop(w);
        assert_eq!(new, next_key(k), "the magazine hands back the id just freed");
        let seen = h.join().unwrap();
        assert!(seen.is_none() || seen == Some(1), "stale {k:?} read {seen:?}");
        let mut live = live_but(&keys, &[k]);
        live.push((new, 100));
        quiescent(&t, &live);
    });
}

// ---------------------------------------------------------------------------------------
// The bug zoo: loom finds what is broken

/// Scheduling points allowed per execution in the bug-zoo models (loom's default is 1000).
const ZOO_BRANCHES: usize = 20_000;

/// The scenario in which `RelaxedRing` loses an insert, on the correct table: a remover
/// (thread 2) and a remover-then-inserter (main) on a full table. Passes in every
/// interleaving; the next test runs the same steps on the broken variant.
fn remove_remove_insert(variant: Variant, lost: &StdBool) {
    let (t, keys) = filled(N, variant);
    let (a, b) = (keys[0], keys[1]);
    let t2 = t.clone();
    let h = thread::spawn(move || t2.remove(a));
    let removed_b = t.remove(b);
    let new = t.insert(100);
    let removed_a = h.join().unwrap();
    if variant == Variant::Correct {
        assert!(removed_a && removed_b);
    }
    if let Ok(new) = new {
        if t.get(new) != Some(100) || t.keys().count() != t.len() {
            lost.store(true, SeqCst);
        }
    }
}

#[test]
fn remove_remove_insert_loses_nothing() {
    model(|| {
        let lost = StdBool::new(false);
        remove_remove_insert(Variant::Correct, &lost);
        assert!(!lost.load(SeqCst), "the correct table lost an insert");
    });
}

/// `RelaxedRing` pushes a removed id before clearing the slot: an inserter takes the id and
/// publishes, then the remover's late clear wipes the new element. loom finds an execution
/// where the insert is lost.
#[test]
fn relaxed_ring_loses_an_insert() {
    let found = StdArc::new(StdBool::new(false));
    let seen = StdArc::clone(&found);
    model_with_branches(ZOO_BRANCHES, move || {
        let lost = StdBool::new(false);
        remove_remove_insert(Variant::RelaxedRing, &lost);
        if lost.load(SeqCst) {
            seen.store(true, SeqCst);
        }
    });
    assert!(found.load(SeqCst), "loom found no execution of relaxed-ring that loses an insert");
}

/// `RelaxedRing` removes without a CAS: two racing removes of one key can both win, and the
/// id goes into the ring twice. loom finds it; the correct table never lets both win
/// (`racing_removes_of_one_key`).
#[test]
fn relaxed_ring_lets_two_removers_win() {
    let found = StdArc::new(StdBool::new(false));
    let seen = StdArc::clone(&found);
    model_with_branches(ZOO_BRANCHES, move || {
        // Half full, so that the ring has room for the duplicate push (with a nearly empty
        // table, the second push finds every cell taken and spins for ever: another way this
        // variant breaks).
        let (t, keys) = filled(N / 2, Variant::RelaxedRing);
        let k = keys[0];
        let t2 = t.clone();
        let h = thread::spawn(move || t2.remove(k));
        let mine = t.remove(k);
        let theirs = h.join().unwrap();
        if mine && theirs {
            let snap = t.snapshot();
            let copies = (0..N).filter(|&r| snap.ring_cell(r) == Some(next_key(k))).count();
            assert_eq!(copies, 2, "both removers pushed the id");
            seen.store(true, SeqCst);
        }
    });
    assert!(found.load(SeqCst), "loom found no execution where both removers win");
}
