//! Unit tests of the public API, one behaviour each: the builder and its errors, every
//! operation of `Table`, the reader, the key iterator, snapshots, probes, keys and variants.
#![cfg(not(loom))]

mod common;

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use common::{check_quiescent, key_bits, max_generation, quiet_panics, QuietPanic};
use slotscope_table::{
    BuildError, Builder, Full, Geometry, Key, Layout, ProbeCounts, SlotState, Snapshot, Table, Variant,
    MAX_CAPACITY, MIN_CAPACITY, WORD_BYTES,
};

fn table16() -> Table<u64> {
    Table::with_capacity(16).unwrap()
}

// ---------------------------------------------------------------------------------------
// Builder

#[test]
fn builder_defaults() {
    let t: Table<u8> = Builder::new().build().unwrap();
    assert_eq!(t.capacity(), 1024);
    assert_eq!(t.layout(), Layout::Interleaved);
    assert_eq!(t.line_bytes(), 64);
    assert_eq!(t.variant(), Variant::Correct);
    let d: Table<u8> = Builder::default().build().unwrap();
    assert_eq!(d.geometry(), t.geometry());
    let b: Table<u8> = Table::builder().build().unwrap();
    assert_eq!(b.geometry(), t.geometry());
}

#[test]
fn builder_rounds_capacity_up_to_a_power_of_two_at_least_16() {
    for (asked, got) in [(1, 16), (2, 16), (15, 16), (16, 16), (17, 32), (33, 64), (1000, 1024), (1025, 2048)]
    {
        let t: Table<u8> = Table::builder().capacity(asked).build().unwrap();
        assert_eq!(t.capacity(), got, "asked {asked}");
        assert_eq!(Table::<u8>::with_capacity(asked).unwrap().capacity(), got, "with_capacity({asked})");
    }
    assert_eq!(MIN_CAPACITY, 16);
    assert_eq!(MAX_CAPACITY, 1 << 27);
}

#[test]
fn builder_rejects_capacity_out_of_range() {
    let zero = Table::<u8>::builder().capacity(0).build().unwrap_err();
    assert_eq!(zero, BuildError::Capacity { asked: 0 });
    let msg = zero.to_string();
    assert!(msg.contains("capacity 0"), "{msg}");
    assert!(msg.contains(&MAX_CAPACITY.to_string()), "{msg}");

    let big = Table::<u8>::builder().capacity(MAX_CAPACITY + 1).build().unwrap_err();
    assert_eq!(big, BuildError::Capacity { asked: MAX_CAPACITY + 1 });
    assert!(big.to_string().contains(&(MAX_CAPACITY + 1).to_string()));
    assert!(matches!(Table::<u8>::with_capacity(usize::MAX), Err(BuildError::Capacity { .. })));
}

#[test]
fn builder_rejects_line_sizes_other_than_64_and_128() {
    for asked in [0, 1, 32, 63, 65, 96, 127, 129, 256, 4096] {
        let err = Table::<u8>::builder().line_bytes(asked).build().unwrap_err();
        assert_eq!(err, BuildError::LineBytes { asked });
        let msg = err.to_string();
        assert!(msg.contains(&format!("line size {asked} bytes")), "{msg}");
        assert!(msg.contains("64 or 128"), "{msg}");
    }
    // Capacity is checked first: one error, the first problem.
    let err = Table::<u8>::builder().capacity(0).line_bytes(7).build().unwrap_err();
    assert_eq!(err, BuildError::Capacity { asked: 0 });
}

#[test]
fn build_error_is_an_error_with_a_message() {
    let err: Box<dyn std::error::Error> = Box::new(BuildError::OutOfMemory { bytes: 1234 });
    assert_eq!(err.to_string(), "could not allocate 1234 bytes for the table");
}

#[test]
fn builder_sets_layout_line_bytes_and_variant() {
    for layout in Layout::ALL {
        for line in [64, 128] {
            for variant in Variant::ALL {
                let t: Table<u8> = Table::builder()
                    .capacity(64)
                    .layout(layout)
                    .line_bytes(line)
                    .variant(variant)
                    .build()
                    .unwrap();
                assert_eq!(t.layout(), layout);
                assert_eq!(t.line_bytes(), line);
                assert_eq!(t.variant(), variant);
                assert_eq!(t.capacity(), 64);
                assert_eq!(t.geometry(), Geometry::new(64, layout, line).unwrap());
                assert_eq!(t.snapshot().variant(), variant);
            }
        }
    }
}

#[test]
fn builder_debug_names_every_setting() {
    let b = Table::<u8>::builder().capacity(100).layout(Layout::Padded).line_bytes(128).first_generation(9);
    let s = format!("{b:?}");
    for part in ["capacity: 100", "Padded", "line_bytes: 128", "Correct", "first_generation: 9"] {
        assert!(s.contains(part), "{s}");
    }
}

#[test]
fn first_generation_is_where_keys_start_and_is_masked() {
    let t: Table<u8> = Table::builder().capacity(16).first_generation(7).build().unwrap();
    let k = t.insert(1).unwrap();
    assert_eq!(k.generation(), 7);
    assert_eq!(k.bits(), key_bits(4, 7, k.slot()));

    // Beyond the key's room: masked to what fits.
    let max = max_generation(4);
    assert_eq!(t.geometry().max_generation(), max);
    let t: Table<u8> = Table::builder().capacity(16).first_generation(max + 1 + 5).build().unwrap();
    assert_eq!(t.insert(1).unwrap().generation(), 5);
}

#[test]
fn generation_wraps_to_zero_after_the_top() {
    let max = max_generation(4);
    let t: Table<u32> = Table::builder().capacity(16).first_generation(max).build().unwrap();
    let keys: Vec<Key> = (0..16).map(|i| t.insert(i).unwrap()).collect();
    assert!(keys.iter().all(|k| k.generation() == max));
    assert!(t.remove(keys[3]));
    let again = t.insert(99).unwrap();
    assert_eq!(again.slot(), keys[3].slot());
    assert_eq!(again.generation(), 0, "the generation after the top wraps to 0");
    assert_ne!(again, keys[3]);
    assert_eq!(t.get(keys[3]), None);
    assert_eq!(t.get(again), Some(99));
    assert!(!t.remove(keys[3]));
    assert!(t.remove(again));
    let third = t.insert(100).unwrap();
    assert_eq!((third.slot(), third.generation()), (keys[3].slot(), 1));
}

// ---------------------------------------------------------------------------------------
// Insert, lookups, remove

#[test]
fn insert_get_remove_round_trip() {
    let t: Table<String> = Table::with_capacity(16).unwrap();
    assert!(t.is_empty());
    assert_eq!(t.len(), 0);
    let a = t.insert("a".to_owned()).unwrap();
    let b = t.insert("b".to_owned()).unwrap();
    assert_ne!(a, b);
    assert_ne!(a.slot(), b.slot());
    assert_eq!(t.len(), 2);
    assert!(!t.is_empty());
    assert_eq!(t.get(a).as_deref(), Some("a"));
    assert_eq!(t.get(b).as_deref(), Some("b"));
    assert_eq!(t.with(a, String::len), Some(1));
    assert!(t.contains(a));
    assert!(t.remove(a));
    assert!(!t.remove(a), "a second remove of one key fails");
    assert!(!t.contains(a));
    assert_eq!(t.get(a), None);
    assert_eq!(t.with(a, |_| unreachable!("no element for a removed key")), None::<()>);
    assert_eq!(t.len(), 1);
    assert_eq!(t.get(b).as_deref(), Some("b"));
}

#[test]
fn keys_carry_the_capacity_tag_slot_and_generation() {
    for log2 in [4u32, 5, 10] {
        let t: Table<u8> = Table::with_capacity(1 << log2).unwrap();
        let k = t.insert(0).unwrap();
        assert_eq!(k.capacity_log2(), log2);
        assert_eq!(k.bits() >> 59, u64::from(log2));
        assert!(k.slot() < t.capacity());
        assert_eq!(k.generation(), 0);
        assert_eq!(k.bits(), key_bits(log2, 0, k.slot()));
        assert_eq!(Key::from_bits(k.bits()), k);
        assert!(t.geometry().owns(k));
    }
}

#[test]
fn fresh_ids_follow_the_layout() {
    // The first inserts take indices 0, 1, 2, ... in order; the layout maps them to slots.
    for layout in Layout::ALL {
        let t: Table<u8> = Table::builder().capacity(64).layout(layout).build().unwrap();
        let g = t.geometry();
        for i in 0..64 {
            let k = t.insert(0).unwrap();
            assert_eq!(k.slot(), g.slot_of_index(i), "{layout}: insert {i}");
            assert_eq!(g.id_of(k), i as u64, "{layout}: id of insert {i}");
        }
    }
}

#[test]
fn insert_with_lets_the_value_know_its_key() {
    let t: Table<(Key, u32)> = Table::with_capacity(16).unwrap();
    let mut keys = Vec::new();
    for i in 0..16 {
        let k = t.insert_with(|k| (k, i)).unwrap();
        assert_eq!(t.get(k), Some((k, i)));
        keys.push(k);
    }
    // A full table hands the closure back without calling it.
    let called = std::cell::Cell::new(false);
    let full = t
        .insert_with(|k| {
            called.set(true);
            (k, 99)
        })
        .unwrap_err();
    assert!(!called.get(), "insert_with must not call the closure on a full table");
    let make = full.into_inner();
    let probe = Key::from_bits(0);
    assert_eq!(make(probe), (probe, 99), "the closure handed back is the one given");
    assert!(called.get());
}

#[test]
fn full_hands_the_value_back() {
    let t = table16();
    for i in 0..16 {
        t.insert(i).unwrap();
    }
    assert_eq!(t.len(), 16);
    let err = t.insert(1234).unwrap_err();
    assert_eq!(err.into_inner(), 1234);
    assert_eq!(t.len(), 16, "a refused insert leaves the count alone");
    assert_eq!(format!("{:?}", t.insert(5).unwrap_err()), "Full(..)");
    assert_eq!(t.insert(5).unwrap_err().to_string(), "the table is full");
    let boxed: Box<dyn std::error::Error> = Box::new(t.insert(6).unwrap_err());
    assert_eq!(boxed.to_string(), "the table is full");
    let copied: Full<u64> = t.insert(7).unwrap_err();
    assert_eq!(copied, copied.clone());
    // Room again after a remove, and the refused tries did not use up any id.
    let k = t.keys().next().unwrap();
    assert!(t.remove(k));
    let again = t.insert(77).unwrap();
    assert_eq!(again.slot(), k.slot());
    assert_eq!(again.generation(), k.generation() + 1);
    assert!(t.insert(0).is_err());
    check_quiescent(&t, &t.keys().map(|k| (k, t.get(k).unwrap())).collect());
}

#[test]
fn panicking_insert_with_does_not_leak_the_slot() {
    quiet_panics();
    let t: Table<u32> = Table::with_capacity(16).unwrap();
    for i in 0..15 {
        t.insert(i).unwrap();
    }
    let seen = std::cell::Cell::new(None);
    for _ in 0..40 {
        let r = catch_unwind(AssertUnwindSafe(|| {
            t.insert_with(|k| -> u32 {
                seen.set(Some(k));
                std::panic::panic_any(QuietPanic)
            })
        }));
        assert!(r.is_err(), "the closure's panic propagates");
        assert_eq!(t.len(), 15, "the claim is given back");
    }
    // The last free slot is still usable, as is the whole table.
    let k = t.insert(15).unwrap();
    assert_eq!(t.len(), 16);
    assert!(t.insert(16).is_err());
    let live: HashMap<Key, u32> = t.keys().map(|k| (k, t.get(k).unwrap())).collect();
    assert_eq!(live.len(), 16);
    check_quiescent(&t, &live);
    // The key a panicking closure saw names nothing: it must not alias the new element.
    let seen = seen.get().unwrap();
    assert_eq!(seen.slot(), k.slot());
    assert_ne!(seen, k, "the key seen by a panicking closure was issued again");
    assert_eq!(t.get(seen), None);
    assert!(!t.remove(seen));
    assert_eq!(t.get(k), Some(15));
}

#[test]
fn stale_key_finds_and_removes_nothing() {
    let t = table16();
    let keys: Vec<Key> = (0..16).map(|i| t.insert(i).unwrap()).collect();
    let old = keys[5];
    assert!(t.remove(old));
    let new = t.insert(500).unwrap();
    assert_eq!(new.slot(), old.slot(), "the only free slot is reused");
    assert_eq!(new.generation(), old.generation() + 1);
    assert_eq!(t.get(old), None);
    assert!(!t.contains(old));
    assert_eq!(t.with(old, |v| *v), None);
    assert_eq!(t.reader().get(old), None);
    assert!(!t.reader().contains(old));
    assert!(!t.remove(old));
    assert_eq!(t.get(new), Some(500), "the stale remove left the new element alone");
    assert_eq!(t.len(), 16);
}

#[test]
fn keys_of_another_table_size_find_nothing() {
    let small = table16();
    let big: Table<u64> = Table::with_capacity(32).unwrap();
    let ks = small.insert(1).unwrap();
    let kb = big.insert(2).unwrap();
    // Same slot bits, other capacity tag.
    assert_eq!(ks.slot(), kb.slot());
    assert_eq!(small.get(kb), None);
    assert_eq!(big.get(ks), None);
    assert!(!small.remove(kb));
    assert!(!big.remove(ks));
    assert!(!small.geometry().owns(kb));
    assert_eq!((small.len(), big.len()), (1, 1));
}

#[test]
fn forged_keys_never_panic_and_find_nothing() {
    let t = table16();
    let live: Vec<Key> = (0..8).map(|i| t.insert(i).unwrap()).collect();
    let forged =
        [0, 1, u64::MAX, u64::MAX - 1, 1 << 63, 31 << 59, (4 << 59) | (1 << 58), 0x0123_4567_89ab_cdef];
    for bits in forged {
        let k = Key::from_bits(bits);
        if live.contains(&k) {
            continue;
        }
        assert_eq!(t.get(k), None, "{bits:#x}");
        assert!(!t.contains(k));
        assert!(!t.remove(k));
        assert!(t.reader().get(k).is_none());
    }
    assert_eq!(t.len(), 8);
}

// ---------------------------------------------------------------------------------------
// Reader and keys()

#[test]
fn reader_serves_many_lookups_and_repins() {
    let t: Table<String> = Table::with_capacity(64).unwrap();
    let keys: Vec<Key> = (0..40).map(|i| t.insert(format!("v{i}")).unwrap()).collect();
    let mut reader = t.reader();
    assert!(std::ptr::eq(reader.table(), &raw const t));
    for (i, &k) in keys.iter().enumerate() {
        assert_eq!(reader.get(k).map(String::as_str), Some(format!("v{i}").as_str()));
        assert!(reader.contains(k));
    }
    reader.repin();
    let mut probe = ProbeCounts::default();
    assert!(reader.get_probed(keys[0], &mut probe).is_some());
    assert!(reader.get_probed(Key::from_bits(3), &mut probe).is_none());
    assert_eq!((probe.lookup_hits, probe.lookup_misses), (1, 1));
    assert!(format!("{reader:?}").starts_with("Reader"));
}

#[test]
fn reader_keeps_a_removed_element_readable_while_borrowed() {
    let t: Table<String> = Table::with_capacity(16).unwrap();
    let k = t.insert("kept".to_owned()).unwrap();
    let reader = t.reader();
    let seen = reader.get(k).unwrap();
    assert!(t.remove(k));
    // Still pinned: the element cannot have been freed.
    assert_eq!(seen, "kept");
    assert_eq!(reader.get(k), None, "a new lookup sees the removal");
}

#[test]
fn keys_yields_exactly_the_live_keys_in_slot_order() {
    // More slots than one chunk of the iterator, so refills are exercised.
    let t: Table<u32> = Table::with_capacity(256).unwrap();
    assert_eq!(t.keys().count(), 0);
    let keys: Vec<Key> = (0..200).map(|i| t.insert(i).unwrap()).collect();
    for k in keys.iter().step_by(3) {
        assert!(t.remove(*k));
    }
    let mut expected: Vec<Key> = keys.iter().copied().filter(|k| t.contains(*k)).collect();
    expected.sort_by_key(|k| k.slot());
    let got: Vec<Key> = t.keys().collect();
    assert_eq!(got, expected);
    assert!(format!("{:?}", t.keys()).contains("next_slot"));
}

// ---------------------------------------------------------------------------------------
// Snapshots

#[test]
fn snapshot_of_a_fresh_table_with_a_first_generation() {
    let t: Table<u8> = Table::builder().capacity(16).first_generation(3).build().unwrap();
    let snap = t.snapshot();
    assert_eq!(snap.free(), 16);
    for s in 0..16 {
        assert_eq!(snap.generation(s), Some(3), "slot {s}");
        assert_eq!(snap.slot(s).state, SlotState::Free);
    }
    assert_ne!(snap, Snapshot::fresh(t.geometry()), "fresh() is the generation-0 table");
    check_quiescent(&t, &HashMap::new());
}

#[test]
fn snapshot_into_reuses_the_buffer_and_matches_snapshot() {
    for layout in Layout::ALL {
        for line in [64, 128] {
            let t: Table<u32> =
                Table::builder().capacity(64).layout(layout).line_bytes(line).build().unwrap();
            let mut snap = Snapshot::fresh(Geometry::new(16, Layout::Linear, 64).unwrap());
            let mut live = HashMap::new();
            for i in 0..50 {
                live.insert(t.insert(i).unwrap(), i);
            }
            let gone: Vec<Key> = live.keys().copied().take(20).collect();
            for k in gone {
                assert!(t.remove(k));
                live.remove(&k);
            }
            t.snapshot_into(&mut snap);
            assert_eq!(snap, t.snapshot(), "{layout}/{line}");
            assert_eq!(snap.geometry(), t.geometry());
            assert_eq!(snap.states().len(), 64);
            assert_eq!(snap.states().iter().filter(|s| **s == SlotState::Occupied).count(), 30);
            assert_eq!((snap.alloc_cursor(), snap.free_cursor()), (50, 64 + 20));
            // The next ids: the 14 never-used ones, then the 20 just freed, then nothing.
            let next: Vec<(u64, Option<Key>)> = snap.next_ids(40).collect();
            assert_eq!(next[0].0, 50);
            assert!(next[..34].iter().all(|(_, id)| id.is_some()));
            assert!(next[34..].iter().all(|(_, id)| id.is_none()));
            let first = t.insert(0).unwrap();
            assert_eq!(Some(first), next[0].1, "the next id the snapshot showed is the one handed out");
            assert!(t.remove(first));
            check_quiescent(&t, &live);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Probes

#[test]
fn probes_count_what_operations_run_into() {
    let t = table16();
    let mut p = ProbeCounts::default();
    let a = t.insert_probed(1, &mut p).unwrap();
    // One header RMW (claim and ticket are one word), one ring cell, one slot.
    assert_eq!((p.header_writes, p.ring_writes, p.slot_writes), (1, 1, 1));
    let b = t.insert_with_probed(|_| 2, &mut p).unwrap();
    assert_eq!(t.with_probed(a, |v| *v, &mut p), Some(1));
    assert_eq!(t.with_probed(Key::from_bits(0xdead), |v| *v, &mut p), None);
    assert_eq!((p.lookup_hits, p.lookup_misses), (1, 1));

    assert!(t.remove_probed(a, &mut p));
    let reuse: Vec<Key> = (0..15).map(|i| t.insert(i).unwrap()).collect();
    assert!(reuse.iter().any(|k| k.slot() == a.slot()));
    // `a` is stale now: rejected by lookup and remove.
    let before = p.stale_rejections;
    assert_eq!(t.with_probed(a, |v| *v, &mut p), None);
    assert!(!t.remove_probed(a, &mut p));
    assert_eq!(p.stale_rejections, before + 2);

    // Full: one increment and one undo.
    assert_eq!(t.len(), 16);
    let mut full = ProbeCounts::default();
    assert!(t.insert_probed(0, &mut full).is_err());
    assert_eq!(full.full_undos, 1);
    assert_eq!(full.header_writes, 2);
    assert!(t.insert_with_probed(|_| 0, &mut full).is_err());
    assert_eq!(full.full_undos, 2);
    assert_eq!((full.ticket_skips, full.ring_retries), (0, 0), "no contention on one thread");
    assert!(t.contains(b));
}

// ---------------------------------------------------------------------------------------
// Names, variants, geometry

#[test]
fn variant_names_and_labels() {
    assert_eq!(Variant::default(), Variant::Correct);
    for v in Variant::ALL {
        assert_eq!(v.name().parse::<Variant>(), Ok(v));
        assert_eq!(v.to_string(), v.name());
        assert_eq!(v.is_broken(), v != Variant::Correct);
        assert_eq!(v.description().is_empty(), !v.is_broken());
    }
    let err = "relaxed".parse::<Variant>().unwrap_err();
    assert_eq!(err.given, "relaxed");
    let msg = err.to_string();
    assert!(msg.contains("`relaxed`") && msg.contains("relaxed-ring"), "{msg}");
    let err = "diagonal".parse::<Layout>().unwrap_err();
    assert!(err.to_string().contains("interleaved, linear, padded"), "{err}");
    assert_eq!(Layout::Interleaved.next(), Layout::Linear);
    assert_eq!(Layout::Linear.next(), Layout::Padded);
    assert_eq!(Layout::default(), Layout::Interleaved);
    assert_eq!(Layout::Padded.to_string(), "padded");
}

#[test]
fn geometry_sizes_per_layout_and_line() {
    for line in [64usize, 128] {
        let s = line / WORD_BYTES;
        for layout in Layout::ALL {
            let g = Geometry::new(256, layout, line).unwrap();
            assert_eq!(g.capacity(), 256);
            assert_eq!(g.capacity_log2(), 8);
            assert_eq!(g.words_per_line(), s);
            assert_eq!(g.ring_lines(), 256 / s);
            let per = if layout == Layout::Padded { 1 } else { s };
            assert_eq!(g.slots_per_line(), per);
            assert_eq!(g.lines(), 256 / per);
            assert_eq!(g.stride(), if layout == Layout::Padded { s } else { 1 });
            assert_eq!(g.slot_bytes(), 256 * g.stride() * WORD_BYTES);
            assert_eq!(g.table_bytes(), g.slot_bytes() + 256 * WORD_BYTES + 128);
            for line_ix in [0, g.lines() - 1] {
                let slots = g.slots_of_line(line_ix);
                assert_eq!(slots.len(), per);
                assert!(slots.clone().all(|sl| g.line_of_slot(sl) == line_ix));
                assert!(slots.clone().all(|sl| g.word_of_slot(sl) == sl * g.stride()));
            }
            for c in 0..256 {
                assert_eq!(g.ring_line_of_cell(c), c / s);
            }
            let text = g.to_string();
            assert!(text.contains("256 slots") && text.contains(layout.name()), "{text}");
        }
    }
}

#[test]
fn geometry_keys_and_ids() {
    let g = Geometry::new(16, Layout::Interleaved, 64).unwrap();
    let k = g.key(5, 9);
    assert_eq!(k.bits(), key_bits(4, 5, 9));
    assert_eq!((k.slot(), k.generation(), k.capacity_log2()), (9, 5, 4));
    assert_eq!(g.id_of(k), 5 * 16 + g.index_of_slot(9) as u64);
    assert_eq!(g.next_key(k), g.key(6, 9));
    // Out-of-range parts are masked, not a panic.
    assert_eq!(g.key(max_generation(4) + 2, 16 + 9), g.key(1, 9));
    assert!(g.owns(k));
    assert!(!g.owns(Key::from_bits(u64::MAX)));
}

#[test]
fn table_debug_shows_geometry_variant_and_len() {
    let t = table16();
    t.insert(1).unwrap();
    let s = format!("{t:?}");
    assert!(s.contains("Table") && s.contains("len: 1") && s.contains("Correct"), "{s}");
}

#[test]
fn table_is_send_and_sync_for_send_sync_values() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Table<String>>();
    assert_send_sync::<Key>();
    assert_send_sync::<Snapshot>();
}
