//! Probes compiled off, against a build without probe calls at all (`table/IMPLEMENTATION.md`, "Contention probes"; figures in docs/PERFORMANCE.md).
//!
//! `table/benches/probes_off.sh` builds this file twice: against this crate, whose plain
//! operations are the `*_probed` ones monomorphised with `NoProbe`, and against a copy of
//! `table/src` with every probe call deleted. It then compares the machine code of the two
//! builds' hot loops, counts their instructions per operation under callgrind, and times them in
//! alternating runs. Run alone, this prints its own figures:
//!
//! ```text
//! cargo bench -p slotscope-table --bench probes_off [-- --only lookup|floor|churn|writer_churn --repeats N --callgrind --magazine]
//! ```
//!
//! `--magazine` builds the table with the magazine allocator (magazines of 64) instead of the
//! ring: the script counts the lookup's instructions per op under both, from the same binary.
//!
//! Both loops run on one thread pinned to the first core, on the same state as the `table`
//! bench: 2^16 slots filled, then the same random half removed, 16-byte values. Output is one
//! `name value` line per figure, for the script to read.

// Figures are printed as floats from u64 counts far below 2^52; benchmarks run on 64-bit targets.
#![allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]

use std::collections::VecDeque;
use std::hint::black_box;
use std::time::Instant;

use slotscope_table::{Allocator, Key, Table};

const CAPACITY: usize = 1 << 16;
const PRESENT: usize = CAPACITY / 2;
/// Length of the precomputed lookup sequence, replayed in a loop (2^16 entries).
const SEQ_LEN: usize = 1 << 16;
/// Lookups per repin, as in the `table` bench.
const BATCH: u64 = 256;
/// Lookups per timed run: about 0.1 s at the lookup's speed here.
const LOOKUP_OPS: u64 = 16 << 20;
/// Churn operations (half inserts, half removes) per timed run: about 0.1 s here.
const CHURN_OPS: u64 = 2 << 20;
/// Operations per loop under callgrind, where every instruction is counted (and slow).
const CALLGRIND_OPS: u64 = 1 << 18;
/// Timed runs per invocation; the median is printed.
const DEFAULT_REPEATS: usize = 3;
const SEED: u64 = 0x5107_5c09_e000_0002;

type Value = [u64; 2];

use slotscope_table::SplitMix64 as Rng;

/// A table with 2^16 slots and `allocator`, filled, then a random half removed; the live keys,
/// shuffled.
fn half_full_table(allocator: Allocator) -> (Table<Value>, Vec<Key>) {
    let (table, live, _) = half_full_table_and_fill(allocator);
    (table, live)
}

/// [`half_full_table`], and every key the fill inserted, in insertion order.
fn half_full_table_and_fill(allocator: Allocator) -> (Table<Value>, Vec<Key>, Vec<Key>) {
    let table = Table::builder()
        .capacity(CAPACITY)
        .allocator(allocator)
        .build()
        .expect("2^16 slots is a valid capacity");
    let filled: Vec<Key> =
        (0..CAPACITY as u64).map(|i| table.insert([i + 1, !i]).expect("the table has room")).collect();
    let mut keys = filled.clone();
    let mut rng = Rng::new(SEED);
    for i in (1..keys.len()).rev() {
        keys.swap(i, rng.below(i + 1));
    }
    for k in keys.drain(..PRESENT) {
        assert!(table.remove(k), "removing a freshly inserted key failed");
    }
    (table, keys, filled)
}

/// An element of the floor: the key and the value, as the table's entries hold them.
struct FloorEntry {
    key: u64,
    value: Value,
}

/// The lookup's floor, as in the `table` bench: a plain array of boxed entries at the table's
/// slots, with no atomics and no reclamation. A lookup is a load, a deref and a key compare.
struct Floor(Vec<Option<Box<FloorEntry>>>);

impl Floor {
    /// Allocates an entry for every key of the fill in its insertion order (as the table's
    /// inserts did), then frees the removed half (as its removes did), so the entries lie in
    /// memory as the table's do.
    fn new(filled: &[Key], live: &[Key]) -> Floor {
        let mut slots: Vec<Option<Box<FloorEntry>>> = (0..CAPACITY).map(|_| None).collect();
        for (i, k) in filled.iter().enumerate() {
            slots[k.slot()] =
                Some(Box::new(FloorEntry { key: k.bits(), value: [i as u64 + 1, !(i as u64)] }));
        }
        let mut keep = vec![false; CAPACITY];
        for k in live {
            keep[k.slot()] = true;
        }
        for (slot, kept) in slots.iter_mut().zip(keep) {
            if !kept {
                *slot = None;
            }
        }
        Floor(slots)
    }

    #[inline]
    fn get(&self, k: Key) -> Option<&Value> {
        let e = self.0[k.bits() as usize & (CAPACITY - 1)].as_deref()?;
        (e.key == k.bits()).then_some(&e.value)
    }
}

/// [`lookup_loop`] on the floor.
#[inline(never)]
fn floor_loop(floor: &Floor, keys: &[Key], seq: &[u32], ops: u64) -> u64 {
    let (keys, seq) = (black_box(keys), black_box(seq));
    let mut hits = 0u64;
    let mut sum = 0u64;
    for i in 0..ops as usize {
        let k = keys[seq[i % SEQ_LEN] as usize % PRESENT];
        if let Some(v) = floor.get(k) {
            hits += 1;
            sum = sum.wrapping_add(v[0]);
        }
    }
    black_box(sum);
    hits
}

/// `ops` lookups through a reader repinned every [`BATCH`]; returns the hits.
#[inline(never)]
fn lookup_loop(table: &Table<Value>, keys: &[Key], seq: &[u32], ops: u64) -> u64 {
    let (keys, seq) = (black_box(keys), black_box(seq));
    let mut reader = table.reader();
    let mut hits = 0u64;
    let mut sum = 0u64;
    let mut i = 0usize;
    for _ in 0..ops / BATCH {
        for _ in 0..BATCH {
            let k = keys[seq[i % SEQ_LEN] as usize % PRESENT];
            i += 1;
            if let Some(v) = reader.get(k) {
                hits += 1;
                sum = sum.wrapping_add(v[0]);
            }
        }
        reader.repin();
    }
    black_box(sum);
    hits
}

/// `ops / 2` times: remove the oldest live key, insert a new element. Returns the removes that
/// succeeded (all must).
#[inline(never)]
fn churn_loop(table: &Table<Value>, pool: &mut VecDeque<Key>, ops: u64) -> u64 {
    let mut removed = 0u64;
    for n in 0..ops / 2 {
        if let Some(old) = pool.pop_front() {
            removed += u64::from(table.remove(old));
        }
        pool.push_back(table.insert([n, 0]).expect("the table has room"));
    }
    removed
}

/// [`churn_loop`] through a `Writer` (the API for churn): on a magazine table its ids stay in
/// its magazine.
#[inline(never)]
fn writer_churn_loop(table: &Table<Value>, pool: &mut VecDeque<Key>, ops: u64) -> u64 {
    let mut w = table.writer();
    let mut removed = 0u64;
    for n in 0..ops / 2 {
        if let Some(old) = pool.pop_front() {
            removed += u64::from(w.remove(old));
        }
        pool.push_back(w.insert([n, 0]).expect("the table has room"));
    }
    removed
}

/// The lookups' precomputed sequence of indices into the live keys.
fn lookup_sequence() -> Vec<u32> {
    let mut rng = Rng::new(SEED ^ 1);
    (0..SEQ_LEN).map(|_| rng.below(PRESENT) as u32).collect()
}

/// Runs `run` (which returns how many of its `ops` succeeded; all `want` must), under the clock
/// if `timed`: ns per op, or 0 untimed.
fn ns_per_op(ops: u64, timed: bool, want: u64, what: &str, run: impl FnOnce() -> u64) -> f64 {
    let start = Instant::now();
    let done = run();
    let elapsed = start.elapsed();
    assert_eq!(done, want, "{what}");
    if timed {
        elapsed.as_nanos() as f64 / ops as f64
    } else {
        0.0
    }
}

fn lookup_ns(allocator: Allocator, ops: u64, timed: bool) -> f64 {
    let (table, keys) = half_full_table(allocator);
    let seq = lookup_sequence();
    ns_per_op(ops, timed, ops, "a present key was not found", || lookup_loop(&table, &keys, &seq, ops))
}

fn floor_ns(ops: u64, timed: bool) -> f64 {
    let (table, keys, filled) = half_full_table_and_fill(Allocator::Ring);
    let floor = Floor::new(&filled, &keys);
    drop(table);
    let seq = lookup_sequence();
    ns_per_op(ops, timed, ops, "a present key was not found", || floor_loop(&floor, &keys, &seq, ops))
}

fn churn_ns(allocator: Allocator, ops: u64, timed: bool, writer: bool) -> f64 {
    let (table, keys) = half_full_table(allocator);
    let mut pool: VecDeque<Key> = keys.into_iter().collect();
    pool.reserve(PRESENT);
    ns_per_op(ops, timed, ops / 2, "a remove of a live key failed", || {
        if writer {
            writer_churn_loop(&table, &mut pool, ops)
        } else {
            churn_loop(&table, &mut pool, ops)
        }
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut only: Option<String> = None;
    let mut repeats = DEFAULT_REPEATS;
    let mut callgrind = false;
    let mut allocator = Allocator::Ring;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // cargo passes `--bench` to every benchmark without the libtest harness.
            "--bench" => {}
            "--callgrind" => callgrind = true,
            "--magazine" => allocator = Allocator::Magazine { size: 64 },
            "--only" => match args.next().as_deref() {
                Some(w @ ("lookup" | "floor" | "churn" | "writer_churn")) => only = Some(w.to_owned()),
                other => {
                    fail(&format!("--only takes `lookup`, `floor`, `churn` or `writer_churn`, not {other:?}"))
                }
            },
            "--repeats" => match args.next().and_then(|r| r.parse().ok()) {
                Some(r) if r >= 1 => repeats = r,
                _ => fail("--repeats takes a number of at least 1"),
            },
            other => fail(&format!(
                "unknown argument `{other}` (options: --only lookup|floor|churn|writer_churn, --repeats N \
                 [default {DEFAULT_REPEATS}], --callgrind, --magazine)"
            )),
        }
    }
    if let Some(&core) = core_affinity::get_core_ids().unwrap_or_default().first() {
        core_affinity::set_for_current(core);
    }
    let wants = |w: &str| only.as_deref().is_none_or(|o| o == w);
    if callgrind {
        // One untimed pass each; the script counts the instructions inside the loop functions.
        if wants("lookup") {
            lookup_ns(allocator, CALLGRIND_OPS, false);
            println!("lookup_ops {CALLGRIND_OPS}");
        }
        if wants("floor") {
            floor_ns(CALLGRIND_OPS, false);
            println!("floor_ops {CALLGRIND_OPS}");
        }
        if wants("churn") {
            churn_ns(allocator, CALLGRIND_OPS, false, false);
            println!("churn_ops {CALLGRIND_OPS}");
        }
        if wants("writer_churn") {
            churn_ns(allocator, CALLGRIND_OPS, false, true);
            println!("writer_churn_ops {CALLGRIND_OPS}");
        }
        return;
    }
    if wants("lookup") {
        let ns = median((0..repeats).map(|_| lookup_ns(allocator, LOOKUP_OPS, true)).collect());
        println!("lookup_ns_per_op {ns:.3}");
    }
    if wants("floor") {
        let ns = median((0..repeats).map(|_| floor_ns(LOOKUP_OPS, true)).collect());
        println!("floor_ns_per_op {ns:.3}");
    }
    if wants("churn") {
        let ns = median((0..repeats).map(|_| churn_ns(allocator, CHURN_OPS, true, false)).collect());
        println!("churn_ns_per_op {ns:.3}");
    }
    if wants("writer_churn") {
        let ns = median((0..repeats).map(|_| churn_ns(allocator, CHURN_OPS, true, true)).collect());
        println!("writer_churn_ns_per_op {ns:.3}");
    }
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2);
}
