//! The stale-key test (`IMPLEMENTATION.md`, "Keys"), side by side with the `ptab` crate 0.1.7.
//!
//! Steps, on a 16-slot table: fill it, remove `a`, insert `b` (the only free slot is `a`'s, so
//! `b` reuses it), then use the stale `a` to read, test and remove; then insert `c`.
//! - slotscope: `a` reads nothing and removes nothing; `b` stays; `c` gets a fresh key.
//! - ptab 0.1.7 (no generation compare): `a` reads `b`'s value, and removing `a` removes `b`.
//!   That remove puts back the id *after `a`'s*, which is `b`'s own id, so the next insert `c`
//!   is handed `b`'s key again: `b`'s owner, who never removed anything, now reads `c`.
#![cfg(not(loom))]

use ptab::{ConstParams, Detached, PTab};
use slotscope_table::{Key, Table, Variant};

/// The steps on our table; `variant` picks the correct table or the bug-zoo one.
struct OurRun {
    a: Key,
    b: Key,
    c: Key,
    stale_read: Option<u32>,
    stale_contains: bool,
    stale_removed: bool,
    b_after: Option<u32>,
    b_key_reads_after_c: Option<u32>,
}

fn run_ours(variant: Variant) -> OurRun {
    let t: Table<u32> = Table::builder().capacity(16).variant(variant).build().unwrap();
    let keys: Vec<Key> = (0..16).map(|i| t.insert(i).unwrap()).collect();
    let a = keys[0];
    assert!(t.remove(a));
    let b = t.insert(100).unwrap();
    assert_eq!(b.slot(), a.slot(), "b reuses a's slot");
    let stale_read = t.get(a);
    let stale_contains = t.contains(a);
    let stale_removed = t.remove(a);
    let b_after = t.get(b);
    // Make room if the stale remove did not (it must not), then insert c.
    if t.len() == 16 {
        assert!(t.remove(keys[1]));
    }
    let c = t.insert(200).unwrap();
    OurRun { a, b, c, stale_read, stale_contains, stale_removed, b_after, b_key_reads_after_c: t.get(b) }
}

#[test]
fn stale_key_reads_and_removes_nothing_in_slotscope() {
    let r = run_ours(Variant::Correct);
    assert_ne!(r.a, r.b);
    assert_eq!(r.b.generation(), r.a.generation() + 1);
    assert_eq!(r.stale_read, None, "the stale key read the new occupant");
    assert!(!r.stale_contains);
    assert!(!r.stale_removed, "the stale key removed the new occupant");
    assert_eq!(r.b_after, Some(100), "b must survive the stale remove");
    assert_ne!(r.c, r.b, "no key is issued twice");
    assert_eq!(r.b_key_reads_after_c, Some(100), "b's key still reads b");
}

#[test]
fn stale_key_aliases_in_the_no_generation_check_variant() {
    // The bug zoo's copy of ptab's bug: the same steps show the same aliasing.
    let r = run_ours(Variant::NoGenerationCheck);
    assert_eq!(r.stale_read, Some(100), "the stale key reads b");
    assert!(r.stale_contains);
    assert!(r.stale_removed, "the stale key removes b");
    assert_eq!(r.b_after, None, "b is gone, though its owner never removed it");
    // Unlike ptab, the variant pushes the next key of what it removed, so c gets a new key;
    // but b's key only compares the slot, so it reads c.
    assert_eq!(r.c.slot(), r.b.slot());
    assert_ne!(r.c, r.b);
    assert_eq!(r.b_key_reads_after_c, Some(200));
}

/// ptab's index as our key type would print it: (slot number, serial).
fn parts(k: Detached) -> (u32, u32) {
    k.decompose::<ConstParams<16>>()
}

#[test]
fn stale_index_aliases_in_ptab_0_1_7() {
    let t: PTab<u32, ConstParams<16>> = PTab::new();
    assert_eq!(t.capacity(), 16);
    let keys: Vec<Detached> = (0..16).map(|i| t.insert(i).unwrap()).collect();
    assert!(t.insert(16).is_none(), "full");
    let a = keys[0];
    assert!(t.remove(a));
    assert!(!t.remove(a), "a second remove right away finds the slot empty");
    let b = t.insert(100).unwrap();
    assert_ne!(a, b, "ptab does give b a new serial");
    assert_eq!(parts(b).0, parts(a).0, "b reuses a's slot");
    assert_eq!(parts(b).1, parts(a).1 + 1, "with the next serial");

    // The stale index aliases b: it reads it, sees it, and removes it.
    assert_eq!(t.read(a), Some(100), "ptab: the stale index reads the new occupant");
    assert_eq!(t.with(a, |v| *v + 1), Some(101));
    assert!(t.exists(a));
    assert!(t.remove(a), "ptab: the stale index removes the new occupant");
    assert_eq!(t.read(b), None, "b is gone though its owner never removed it");
    assert_eq!(t.len(), 15);

    // The stale remove pushed a's id + N back: that is b's id. The next insert gets b's key.
    let c = t.insert(200).unwrap();
    assert_eq!(c, b, "ptab: the next insert is handed b's key again");
    assert_eq!(t.read(b), Some(200), "b's owner now reads c's value");
    // And the original stale `a` still aliases whatever lives in the slot.
    assert_eq!(t.read(a), Some(200));
}

#[test]
fn the_difference_on_record() {
    // One table, the same steps: what each answers to the stale key after reuse.
    let ours = run_ours(Variant::Correct);
    let t: PTab<u32, ConstParams<16>> = PTab::new();
    let keys: Vec<Detached> = (0..16).map(|i| t.insert(i).unwrap()).collect();
    assert!(t.remove(keys[0]));
    let _b = t.insert(100).unwrap();
    let theirs = (t.read(keys[0]), t.remove(keys[0]));
    assert_eq!((ours.stale_read, ours.stale_removed), (None, false));
    assert_eq!(theirs, (Some(100), true));
}
