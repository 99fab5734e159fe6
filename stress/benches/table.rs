//! The table benchmark: the table beside its peers, measured side by side in one run.
//!
//! ```text
//! cargo bench -p slotscope-stress --bench table
//! cargo bench -p slotscope-stress --bench table -- --threads 1,2,4 --repeats 9 --ms 150
//! ```
//!
//! The table's own API paths (reader, writer, plain calls, probes) are measured directly; the
//! peers (ptab, sharded-slab, `RwLock<HashMap>`, dashmap) run through the engine's backend
//! adapters (`slotscope_stress::backend`), the code the stress workers run, so that the two
//! never disagree about how a peer is driven. ptab with an outer guard has no adapter (the
//! engine does not drive it that way) and is driven here.
//!
//! What every measurement shares: 2^16 slots filled completely and then emptied to half (the
//! same random half for every contender, so the live entries lie spread over memory as after
//! real churn), 16-byte values, one thread pinned per core, keys precomputed outside the timed
//! loop (random indices into an array of present keys). Contenders alternate within each repeat
//! (in a fresh random order each time), so drift on a shared machine hits them all alike;
//! figures are medians over repeats with the min and max beside them, and ratios are taken
//! repeat by repeat between contenders measured moments apart, then their median. Each thread's
//! CPU time is read too: a measurement in which a thread lost its core to another process is
//! taken again, and the share it got is printed.
//!
//! Markdown goes to stdout (ready for `docs/PERFORMANCE.md`), progress to stderr. Settings come
//! from flags or environment variables (a flag wins), through clap; `--help` lists them with
//! their defaults.

// Figures are printed as floats from u64 counts far below 2^52; benchmarks run on 64-bit targets.
#![allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]

use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use clap::Parser;
use core_affinity::CoreId;
use ptab::config::{Params, ParamsExt};
use ptab::memory::CollectorWeak;
use ptab::{ConstParams, Detached, PTab};
use slotscope_stress::backend::{
    Backend, DashMapBackend, PtabBackend, RwLockHashMapBackend, Session, ShardedSlabBackend,
};
use slotscope_stress::Value;
use slotscope_table::{Allocator, Key, Layout, NoProbe, Probe, ProbeCounts, Reader, Region, Table, Writer};

/// Slots of every contender with a fixed capacity (2^16).
const CAPACITY: usize = 1 << 16;
const CAPACITY_MASK: usize = CAPACITY - 1;
/// Elements live while measuring: half the slots.
const PRESENT: usize = CAPACITY / 2;
const PRESENT_MASK: usize = PRESENT - 1;
/// Length of each thread's precomputed random sequence, replayed in a loop (2^16 entries).
const SEQ_LEN: usize = 1 << 16;
const SEQ_MASK: usize = SEQ_LEN - 1;
/// Operations between two repins of a reader (or two fresh outer guards for ptab): 256.
const BATCH: u64 = 256;
/// Room in a thread's pool of its own live keys (churn, read-heavy): 2^16 (at most PRESENT live).
const POOL_CAP: usize = 1 << 16;
/// Read-heavy mix: 98% lookups, 1% inserts, 1% removes (thresholds on a uniform u32).
const LOOKUP_BELOW: u32 = (u32::MAX / 100) * 98;
const INSERT_BELOW: u32 = (u32::MAX / 100) * 99;
/// Operations per thread of a calibration run, from which the measured op counts follow.
const CALIBRATION_OPS: u64 = 1 << 16;
/// Epoch flushes after each churn or read-heavy measurement: each frees up to 8 bags of 64
/// deferred frees, so 2^14 of them free up to 8M elements (a measurement removes at most ~4M).
const DRAIN_FLUSHES: usize = 1 << 14;
/// A measurement is taken again when some thread had less than this share of its core...
const MIN_CPU_SHARE: f64 = 0.9;
/// ...at most this many times.
const RETRIES: usize = 3;
/// Seed of every random choice (the removed half, the key sequences): runs are comparable.
const SEED: u64 = 0x5107_5c09_e000_0002;

/// Default thread counts (`--threads`, `SLOTSCOPE_BENCH_THREADS`).
const DEFAULT_THREADS: &str = "1,2";
/// Default repeats per contender (`--repeats`, `SLOTSCOPE_BENCH_REPEATS`).
const DEFAULT_REPEATS: u64 = 7;
/// Default length of one measurement in milliseconds (`--ms`, `SLOTSCOPE_BENCH_MS`).
const DEFAULT_MS: u64 = 100;
/// The contenders' ids, as `--only` takes them.
const CONTENDER_IDS: [&str; 17] = [
    "reader",
    "reader-counts",
    "get",
    "with",
    "raw",
    "floor",
    "ptab",
    "ptab-guarded",
    "slab",
    "rwlock",
    "dashmap",
    "table",
    "table-pinned",
    "table-writer",
    "table-magazine",
    "table-counts",
    "table-lines",
];
/// Most threads a run may ask for.
const MAX_THREADS: usize = 64;
/// Longest measurement a run may ask for, in milliseconds.
const MAX_MS: u64 = 10_000;

type PtabParams = ConstParams<CAPACITY>;
type Ptab = PTab<Value, PtabParams>;
type PtabGuard = <<PtabParams as Params>::Collector as CollectorWeak>::Guard;

// ---------------------------------------------------------------------------------------------
// Settings

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Workload {
    Lookup,
    ReadHeavy,
    Churn,
}

impl Workload {
    const ALL: [Workload; 3] = [Workload::Lookup, Workload::ReadHeavy, Workload::Churn];

    fn name(self) -> &'static str {
        match self {
            Workload::Lookup => "lookup",
            Workload::ReadHeavy => "read-heavy",
            Workload::Churn => "churn",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Workload::Lookup => "Lookup: random present keys",
            Workload::ReadHeavy => "Read-heavy 98/1/1: lookups, inserts, removes",
            Workload::Churn => "Churn 50/50: remove an own key, insert a new one",
        }
    }
}

/// Where the mutating threads' live keys come from (`--pools`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Pools {
    Shared,
    Own,
}

/// Values a thread inserts to build its own pool are numbered from here (its churn counts from
/// 1), so that every value keeps its own id.
const OWN_POOL_SEQ: u64 = 1 << 39;

/// The table beside its peers, side by side in one run (markdown on stdout, progress on
/// stderr).
#[derive(Parser, Debug)]
#[command(name = "table bench")]
struct Settings {
    /// Thread counts, e.g. `1,2,4` or `1-4` (each 1..=64).
    #[arg(long, env = "SLOTSCOPE_BENCH_THREADS", default_value = DEFAULT_THREADS, value_parser = parse_threads)]
    threads: ThreadCounts,
    /// Repeats per contender; figures are medians over them.
    #[arg(long, env = "SLOTSCOPE_BENCH_REPEATS", default_value_t = DEFAULT_REPEATS,
          value_parser = clap::value_parser!(u64).range(1..=1000))]
    repeats: u64,
    /// Milliseconds per measurement.
    #[arg(long = "ms", env = "SLOTSCOPE_BENCH_MS", default_value_t = DEFAULT_MS,
          value_parser = clap::value_parser!(u64).range(1..=MAX_MS))]
    measure_ms: u64,
    /// Workloads to run (default: all).
    #[arg(long, env = "SLOTSCOPE_BENCH_WORKLOADS", value_enum, value_delimiter = ',')]
    workloads: Vec<Workload>,
    /// Run only these contenders (default: all), for profiling one at a time.
    #[arg(long, env = "SLOTSCOPE_BENCH_ONLY", value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(CONTENDER_IDS))]
    only: Vec<String>,
    /// Whose keys the churn and read-heavy threads work on: `shared` (a random share of the
    /// half that one thread filled and left) or `own` (the structure filled and emptied again,
    /// then each thread inserts its share itself, untimed, all threads at once).
    #[arg(long, env = "SLOTSCOPE_BENCH_POOLS", value_enum, default_value = "shared")]
    pools: Pools,
    /// The layout of our table's contenders (the peers have none).
    #[arg(long, env = "SLOTSCOPE_BENCH_LAYOUT", default_value = "interleaved",
          value_parser = parse_layout())]
    layout: Layout,
    /// Passed by `cargo bench` to every benchmark without the libtest harness.
    #[arg(long, hide = true)]
    bench: bool,
}

/// `--layout`: one of the table's layout names, listed in `--help`.
fn parse_layout() -> impl clap::builder::TypedValueParser<Value = Layout> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(Layout::ALL.map(Layout::name))
        .map(|name| name.parse::<Layout>().expect("each possible value is a layout's name"))
}

/// Thread counts; an alias, so that clap takes the list as one value.
type ThreadCounts = Vec<usize>;

/// `--threads`: the engine's core-list parser (numbers and ranges), each count 1..=64.
fn parse_threads(text: &str) -> Result<ThreadCounts, String> {
    let counts = slotscope_stress::scenario::values::parse_cores(text).map_err(|e| e.to_string())?;
    match counts.iter().find(|&&n| !(1..=MAX_THREADS).contains(&n)) {
        Some(n) => Err(format!("`{n}` is not a thread count between 1 and {MAX_THREADS}")),
        None => Ok(counts),
    }
}

impl Settings {
    fn read() -> Settings {
        let mut s = Settings::parse();
        if s.workloads.is_empty() {
            s.workloads = Workload::ALL.to_vec();
        }
        s
    }
}

// ---------------------------------------------------------------------------------------------
// Randomness and the shared plan

use slotscope_table::SplitMix64 as Rng;

/// Which insertion indices (0..CAPACITY) are removed after the fill and which stay, shuffled.
struct Plan {
    removed: Vec<usize>,
    present: Vec<usize>,
    /// Our table's layout.
    layout: Layout,
}

impl Plan {
    fn new(layout: Layout) -> Plan {
        let mut rng = Rng::new(SEED);
        let mut order: Vec<usize> = (0..CAPACITY).collect();
        for i in (1..CAPACITY).rev() {
            order.swap(i, rng.below(i + 1));
        }
        let present = order.split_off(PRESENT);
        Plan { removed: order, present, layout }
    }

    /// `--pools own`: every insertion removed again, in insertion order, so that each
    /// structure's free ids are back in the order it started with. The present keys are the
    /// first half of the (dead) fill keys: placeholders, never looked up.
    fn emptied(layout: Layout) -> Plan {
        Plan { removed: (0..CAPACITY).collect(), present: (0..PRESENT).collect(), layout }
    }
}

/// Precomputed per-thread random sequences, replayed in a loop.
struct Sequences {
    /// Indices into the present-keys array (lookup).
    lookup: Vec<Box<[u32; SEQ_LEN]>>,
    /// Low half: the operation (read-heavy thresholds); high half: which pool key.
    mixed: Vec<Box<[u64; SEQ_LEN]>>,
}

impl Sequences {
    fn new(threads: usize) -> Sequences {
        let mut lookup = Vec::new();
        let mut mixed = Vec::new();
        for t in 0..threads {
            let mut rng = Rng::new(SEED ^ ((t as u64 + 1) << 32));
            lookup.push(boxed_array((0..SEQ_LEN).map(|_| rng.below(PRESENT) as u32)));
            mixed.push(boxed_array((0..SEQ_LEN).map(|_| rng.next_u64())));
        }
        Sequences { lookup, mixed }
    }
}

fn boxed_array<T, const N: usize>(items: impl Iterator<Item = T>) -> Box<[T; N]> {
    let v: Vec<T> = items.collect();
    assert_eq!(v.len(), N, "an array of {N} items was built from {} items", v.len());
    v.into_boxed_slice().try_into().ok().expect("the length was just checked")
}

/// The value of insertion index `i` of the fill (thread 0; workers are threads 1, 2, ...: the
/// maps file values under `thread << 40 | seq`, so every value has its own id).
fn value_of(i: usize) -> Value {
    Value { thread: 0, seq: i as u64 + 1 }
}

/// A worker's `n`-th new value (thread `t` counts from 0).
fn fresh(t: u64, n: u64) -> Value {
    Value { thread: t + 1, seq: n }
}

/// Inserts CAPACITY values (`value_of(i)` for insertion index i), then removes the plan's half.
/// Returns the keys of all insertions, by insertion index.
fn fill<K: Copy>(
    plan: &Plan,
    mut insert: impl FnMut(usize) -> K,
    mut remove: impl FnMut(K) -> bool,
) -> Vec<K> {
    let keys: Vec<K> = (0..CAPACITY).map(&mut insert).collect();
    for &i in &plan.removed {
        assert!(remove(keys[i]), "removing a freshly inserted key failed (insertion {i})");
    }
    keys
}

/// The keys that stay after `fill`, in the plan's shuffled order.
#[allow(clippy::unnecessary_box_returns)] // up to 256 KiB: not for the stack
fn present<K: Copy>(plan: &Plan, keys: &[K]) -> Box<[K; PRESENT]> {
    boxed_array(plan.present.iter().map(|&i| keys[i]))
}

// ---------------------------------------------------------------------------------------------
// The contenders' shared state

/// Magazine size of the magazine contenders: 64 ids.
const MAGAZINE: u32 = 64;

fn build_table(plan: &Plan) -> (Table<Value>, Vec<Key>) {
    build_table_with(plan, Allocator::Ring)
}

fn build_table_with(plan: &Plan, allocator: Allocator) -> (Table<Value>, Vec<Key>) {
    let table = Table::builder()
        .capacity(CAPACITY)
        .layout(plan.layout)
        .allocator(allocator)
        .build()
        .expect("2^16 slots is a valid capacity");
    let keys = fill(plan, |i| table.insert(value_of(i)).expect("the table has room"), |k| table.remove(k));
    (table, keys)
}

fn build_ptab(plan: &Plan) -> (Ptab, Vec<Detached>) {
    let tab = Ptab::new();
    let keys = fill(plan, |i| tab.insert(value_of(i)).expect("ptab has room"), |k| tab.remove(k));
    (tab, keys)
}

/// A peer through the engine's adapter, filled as every contender is.
fn build_backend<B: Backend>(backend: B, plan: &Plan) -> (B, Vec<u64>) {
    let keys = {
        let mut s = backend.session();
        let mut s2 = backend.session();
        fill(
            plan,
            |i| s.insert(value_of(i), &mut NoProbe).expect("the backend has room"),
            |k| s2.remove(k, &mut NoProbe),
        )
    };
    (backend, keys)
}

/// The "boxed floor": a plain array of pointers to entries allocated up front, at
/// the table's slots and for the table's keys. A lookup is load + deref + key compare, with no
/// reclamation at all: what the table's lookup cannot beat.
struct FloorEntry {
    key: u64,
    value: Value,
}

/// Built up front and only read while measured, so it needs no atomics and no `unsafe`: an
/// `Option<Box<_>>` is one nullable pointer, and a lookup is the same load, deref and compare as
/// through an atomic pointer (a relaxed or acquire load is a plain load on x86-64 and arm64
/// alike for reads that never race with a write).
struct BoxedFloor {
    slots: Box<[Option<Box<FloorEntry>>; CAPACITY]>,
}

impl BoxedFloor {
    /// Allocates an entry for every key in insertion order (as the table's inserts did), then
    /// frees the plan's removed half (as its removes did), so the allocations interleave alike.
    fn new(plan: &Plan, table_keys: &[Key]) -> BoxedFloor {
        let mut floor = BoxedFloor { slots: boxed_array((0..CAPACITY).map(|_| None)) };
        for (i, key) in table_keys.iter().enumerate() {
            let entry = Box::new(FloorEntry { key: key.bits(), value: value_of(i) });
            floor.slots[key.bits() as usize & CAPACITY_MASK] = Some(entry);
        }
        for &i in &plan.removed {
            floor.slots[table_keys[i].bits() as usize & CAPACITY_MASK] = None;
        }
        floor
    }

    #[inline]
    fn get(&self, key: Key) -> Option<u64> {
        let entry = self.slots[key.bits() as usize & CAPACITY_MASK].as_deref()?;
        (entry.key == key.bits()).then_some(entry.value.seq)
    }
}

/// Everything the lookup workload reads; built once and shared by every thread count.
struct LookupWorld {
    table: Table<Value>,
    table_keys: Box<[Key; PRESENT]>,
    raw: Box<[AtomicU64; CAPACITY]>,
    floor: BoxedFloor,
    ptab: Ptab,
    ptab_keys: Box<[Detached; PRESENT]>,
    ptab_adapted: PtabBackend<CAPACITY>,
    ptab_adapted_keys: Box<[u64; PRESENT]>,
    slab: ShardedSlabBackend,
    slab_keys: Box<[u64; PRESENT]>,
    locked: RwLockHashMapBackend,
    dash: DashMapBackend,
    map_keys: Box<[u64; PRESENT]>,
}

impl LookupWorld {
    fn new(plan: &Plan) -> LookupWorld {
        let (table, all_table_keys) = build_table(plan);
        let floor = BoxedFloor::new(plan, &all_table_keys);
        let raw = boxed_array((0..CAPACITY).map(|s| AtomicU64::new(s as u64 + 1)));
        let (ptab, ptab_keys) = build_ptab(plan);
        let (ptab_adapted, ptab_adapted_keys) = build_backend(PtabBackend::<CAPACITY>::new(), plan);
        let (slab, slab_keys) = build_backend(ShardedSlabBackend::new(), plan);
        let (locked, map_keys) = build_backend(RwLockHashMapBackend::new(CAPACITY), plan);
        let (dash, _) = build_backend(DashMapBackend::new(CAPACITY), plan);
        LookupWorld {
            table_keys: present(plan, &all_table_keys),
            table,
            raw,
            floor,
            ptab_keys: present(plan, &ptab_keys),
            ptab,
            ptab_adapted_keys: present(plan, &ptab_adapted_keys),
            ptab_adapted,
            slab_keys: present(plan, &slab_keys),
            slab,
            map_keys: present(plan, &map_keys),
            locked,
            dash,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// One thread's view of a contender

/// Lookups as one thread sees a contender.
trait Lookup {
    type K: Copy;
    /// The first word of the value of `k`, if present.
    fn get(&mut self, k: Self::K) -> Option<u64>;
    /// Called after every [`BATCH`] operations: repin a reader, renew an outer guard.
    #[inline]
    fn batch_end(&mut self) {}
}

/// Inserts and removes as one thread sees a contender (lookups through [`Lookup`]).
trait Mutate: Lookup {
    fn insert(&mut self, v: Value) -> Self::K;
    fn remove(&mut self, k: Self::K) -> bool;
}

struct TableReader<'t>(Reader<'t, Value>);

impl Lookup for TableReader<'_> {
    type K = Key;
    #[inline]
    fn get(&mut self, k: Key) -> Option<u64> {
        self.0.get(k).map(|v| v.seq)
    }
    #[inline]
    fn batch_end(&mut self) {
        self.0.repin();
    }
}

struct TableReaderProbed<'t, P> {
    reader: Reader<'t, Value>,
    probe: P,
}

impl<P: Probe> Lookup for TableReaderProbed<'_, P> {
    type K = Key;
    #[inline]
    fn get(&mut self, k: Key) -> Option<u64> {
        self.reader.get_probed(k, &mut self.probe).map(|v| v.seq)
    }
    #[inline]
    fn batch_end(&mut self) {
        self.reader.repin();
    }
}

struct TableGet<'t>(&'t Table<Value>);

impl Lookup for TableGet<'_> {
    type K = Key;
    #[inline]
    fn get(&mut self, k: Key) -> Option<u64> {
        self.0.get(k).map(|v| v.seq)
    }
}

struct TableWith<'t>(&'t Table<Value>);

impl Lookup for TableWith<'_> {
    type K = Key;
    #[inline]
    fn get(&mut self, k: Key) -> Option<u64> {
        self.0.with(k, |v| v.seq)
    }
}

/// The table's plain operations; lookups pin per call (`with`). Churn uses this.
struct TablePlain<'t>(&'t Table<Value>);

impl Lookup for TablePlain<'_> {
    type K = Key;
    #[inline]
    fn get(&mut self, k: Key) -> Option<u64> {
        self.0.with(k, |v| v.seq)
    }
}

impl Mutate for TablePlain<'_> {
    #[inline]
    fn insert(&mut self, v: Value) -> Key {
        self.0.insert(v).expect("the table has room")
    }
    #[inline]
    fn remove(&mut self, k: Key) -> bool {
        self.0.remove(k)
    }
}

/// The table's operations reporting to a probe.
struct TableProbed<'t, P> {
    table: &'t Table<Value>,
    probe: P,
}

impl<P: Probe> Lookup for TableProbed<'_, P> {
    type K = Key;
    #[inline]
    fn get(&mut self, k: Key) -> Option<u64> {
        self.table.with_probed(k, |v| v.seq, &mut self.probe)
    }
}

impl<P: Probe> Mutate for TableProbed<'_, P> {
    #[inline]
    fn insert(&mut self, v: Value) -> Key {
        self.table.insert_probed(v, &mut self.probe).expect("the table has room")
    }
    #[inline]
    fn remove(&mut self, k: Key) -> bool {
        self.table.remove_probed(k, &mut self.probe)
    }
}

/// Lookups through a reader (repinned every batch), inserts and removes plain. Read-heavy uses
/// this: the reader's pin also covers the removes' pins (nested pins are cheap).
struct TableMixed<'t> {
    table: &'t Table<Value>,
    reader: Reader<'t, Value>,
}

impl Lookup for TableMixed<'_> {
    type K = Key;
    #[inline]
    fn get(&mut self, k: Key) -> Option<u64> {
        self.reader.get(k).map(|v| v.seq)
    }
    #[inline]
    fn batch_end(&mut self) {
        self.reader.repin();
    }
}

impl Mutate for TableMixed<'_> {
    #[inline]
    fn insert(&mut self, v: Value) -> Key {
        self.table.insert(v).expect("the table has room")
    }
    #[inline]
    fn remove(&mut self, k: Key) -> bool {
        self.table.remove(k)
    }
}

/// Everything through a [`Writer`]: one pin per batch, batched retirement, recycled allocations.
struct TableWriter<'t>(Writer<'t, Value>);

impl Lookup for TableWriter<'_> {
    type K = Key;
    #[inline]
    fn get(&mut self, k: Key) -> Option<u64> {
        self.0.get(k).map(|v| v.seq)
    }
}

impl Mutate for TableWriter<'_> {
    #[inline]
    fn insert(&mut self, v: Value) -> Key {
        self.0.insert(v).expect("the table has room")
    }
    #[inline]
    fn remove(&mut self, k: Key) -> bool {
        self.0.remove(k)
    }
}

/// A per-line counting sink: what the app's heat map keeps.
struct LineHeat {
    slot_lines: Vec<u32>,
    ring_lines: Vec<u32>,
    header: u64,
    other: u64,
}

impl LineHeat {
    fn new(table: &Table<Value>) -> LineHeat {
        let g = table.geometry();
        LineHeat { slot_lines: vec![0; g.lines()], ring_lines: vec![0; g.ring_lines()], header: 0, other: 0 }
    }

    fn total(&self) -> u64 {
        let sum = |v: &[u32]| v.iter().map(|&c| u64::from(c)).sum::<u64>();
        sum(&self.slot_lines) + sum(&self.ring_lines) + self.header
    }
}

impl Probe for LineHeat {
    #[inline]
    fn ticket_skip(&mut self) {
        self.other += 1;
    }
    #[inline]
    fn ring_retry(&mut self) {
        self.other += 1;
    }
    #[inline]
    fn line_write(&mut self, region: Region, line: usize) {
        let cell = match region {
            Region::Slot => self.slot_lines.get_mut(line),
            Region::Ring => self.ring_lines.get_mut(line),
            Region::Header => {
                self.header += 1;
                return;
            }
        };
        if let Some(c) = cell {
            *c = c.wrapping_add(1);
        }
    }
}

/// A [`Writer`] reporting every line it writes to a [`LineHeat`] (the probe figures).
struct TableWriterLines<'t> {
    writer: Writer<'t, Value>,
    heat: LineHeat,
}

impl Lookup for TableWriterLines<'_> {
    type K = Key;
    #[inline]
    fn get(&mut self, k: Key) -> Option<u64> {
        self.writer.get(k).map(|v| v.seq)
    }
}

impl Mutate for TableWriterLines<'_> {
    #[inline]
    fn insert(&mut self, v: Value) -> Key {
        self.writer.insert_probed(v, &mut self.heat).expect("the table has room")
    }
    #[inline]
    fn remove(&mut self, k: Key) -> bool {
        self.writer.remove_probed(k, &mut self.heat)
    }
}

/// What the probes see of one churn run (untimed): header-line writes per insert + remove pair,
/// and the slot-line transfers per op that the threads' interleaved writes would cause: per
/// line `n - sum(n_i^2) / n` for the threads' write counts `n_i` (the app's sharing estimate;
/// an upper bound, since a thread writing a line twice in a row keeps it).
fn line_figures(ctx: &Ctx, allocator: Allocator, threads: usize, ops: u64) -> (f64, f64) {
    let (table, all) = build_table_with(&ctx.mutating, allocator);
    let keys = present(&ctx.mutating, &all);
    let share = PRESENT / threads;
    let heats: Vec<LineHeat> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (table, keys, cores, pools) = (&table, &keys, &ctx.cores, ctx.pools);
                s.spawn(move || {
                    if !cores.is_empty() {
                        core_affinity::set_for_current(cores[t % cores.len()]);
                    }
                    let mut m = TableWriterLines { writer: table.writer(), heat: LineHeat::new(table) };
                    let mut pool = pool_for(pools, &mut m, &keys[t * share..(t + 1) * share], t as u64);
                    m.heat = LineHeat::new(table);
                    let removed = churn_loop(&mut m, &mut pool, ops, t as u64);
                    assert_eq!(removed, ops / 2, "a remove of an own live key failed");
                    m.heat
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a probe thread panicked")).collect()
    });
    drain_garbage();
    let pairs = (ops / 2) as f64 * threads as f64;
    let header: u64 = heats.iter().map(|h| h.header).sum();
    let mut transfers = 0.0;
    for line in 0..heats[0].slot_lines.len() {
        let counts: Vec<f64> = heats.iter().map(|h| f64::from(h.slot_lines[line])).collect();
        let n: f64 = counts.iter().sum();
        if n > 0.0 {
            transfers += n - counts.iter().map(|c| c * c).sum::<f64>() / n;
        }
    }
    (header as f64 / pairs, transfers / (2.0 * pairs))
}

/// The probe figures of the churn workload, ring against magazines, per thread count.
fn print_line_figures(ctx: &Ctx, settings: &Settings) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "#### Churn, what the probes see (untimed, 2^20 ops per thread)
"
    );
    let _ = writeln!(out, "| threads | allocator | header-line writes per insert+remove pair | est. slot-line transfers per op |");
    let _ = writeln!(out, "|---:|---|---:|---:|");
    for &threads in &settings.threads {
        for (name, allocator) in
            [("ring", Allocator::Ring), ("magazines of 64", Allocator::Magazine { size: MAGAZINE })]
        {
            let (header, transfers) = line_figures(ctx, allocator, threads, 1 << 20);
            let _ = writeln!(out, "| {threads} | {name} | {header:.3} | {transfers:.3} |");
        }
    }
    out.push('\n');
    out
}

struct RawLoad<'a>(&'a [AtomicU64; CAPACITY]);

impl Lookup for RawLoad<'_> {
    type K = Key;
    #[inline]
    fn get(&mut self, k: Key) -> Option<u64> {
        Some(self.0[k.bits() as usize & CAPACITY_MASK].load(Ordering::Relaxed))
    }
}

struct FloorGet<'a>(&'a BoxedFloor);

impl Lookup for FloorGet<'_> {
    type K = Key;
    #[inline]
    fn get(&mut self, k: Key) -> Option<u64> {
        self.0.get(k)
    }
}

/// ptab with one outer guard held per batch: ptab's own guards then nest (cheaply) inside it.
/// ptab has no guard-taking `read`, but `ParamsExt::guard()` hands out its collector's guard.
struct PtabGuarded<'a> {
    tab: &'a Ptab,
    guard: Option<PtabGuard>,
}

impl<'a> PtabGuarded<'a> {
    fn new(tab: &'a Ptab) -> Self {
        PtabGuarded { tab, guard: Some(PtabParams::guard()) }
    }
}

impl Lookup for PtabGuarded<'_> {
    type K = Detached;
    #[inline]
    fn get(&mut self, k: Detached) -> Option<u64> {
        self.tab.read(k).map(|v| v.seq)
    }
    #[inline]
    fn batch_end(&mut self) {
        // Drop the old guard before taking the next one, or the new one would nest in it and
        // the thread would never unpin.
        self.guard = None;
        self.guard = Some(PtabParams::guard());
    }
}

impl Mutate for PtabGuarded<'_> {
    #[inline]
    fn insert(&mut self, v: Value) -> Detached {
        self.tab.insert(v).expect("ptab has room")
    }
    #[inline]
    fn remove(&mut self, k: Detached) -> bool {
        self.tab.remove(k)
    }
}

/// A peer through the engine's adapter: the session a stress worker uses.
struct Adapted<S>(S);

impl<S: Session> Lookup for Adapted<S> {
    type K = u64;
    #[inline]
    fn get(&mut self, k: u64) -> Option<u64> {
        self.0.lookup(k, &mut NoProbe).map(|v| v.seq)
    }
    #[inline]
    fn batch_end(&mut self) {
        self.0.repin();
    }
}

impl<S: Session> Mutate for Adapted<S> {
    #[inline]
    fn insert(&mut self, v: Value) -> u64 {
        self.0.insert(v, &mut NoProbe).expect("the backend has room")
    }
    #[inline]
    fn remove(&mut self, k: u64) -> bool {
        self.0.remove(k, &mut NoProbe)
    }
}

/// Probes that can say how many events they saw, so a run proves its probe fired.
trait Events {
    fn events(&self) -> u64;
}

impl Events for ProbeCounts {
    fn events(&self) -> u64 {
        self.ticket_skips
            + self.ring_retries
            + self.full_undos
            + self.stale_rejections
            + self.lookup_hits
            + self.lookup_misses
            + self.slot_writes
            + self.ring_writes
            + self.header_writes
    }
}

impl Events for LineHeat {
    fn events(&self) -> u64 {
        self.total() + self.other
    }
}

// ---------------------------------------------------------------------------------------------
// The timed loops

/// `ops` lookups (a multiple of [`BATCH`]) at the keys the sequence picks. Returns the hits.
#[inline(never)] // one function per contender, so its hot loop can be read in a disassembly
fn lookup_loop<L: Lookup>(l: &mut L, keys: &[L::K; PRESENT], seq: &[u32; SEQ_LEN], ops: u64) -> u64 {
    let (keys, seq) = (black_box(keys), black_box(seq));
    let mut i = 0usize;
    let mut hits = 0u64;
    let mut sum = 0u64;
    for _ in 0..ops / BATCH {
        for _ in 0..BATCH {
            let k = keys[seq[i & SEQ_MASK] as usize & PRESENT_MASK];
            i += 1;
            if let Some(v) = l.get(k) {
                hits += 1;
                sum = sum.wrapping_add(v);
            }
        }
        l.batch_end();
    }
    black_box(sum);
    hits
}

/// A thread's own live keys, oldest first (a ring buffer).
struct Pool<K> {
    cells: Box<[K; POOL_CAP]>,
    head: usize,
    len: usize,
}

impl<K: Copy> Pool<K> {
    fn new(share: &[K]) -> Pool<K> {
        let filler = share[0];
        let cells = boxed_array(share.iter().copied().chain(std::iter::repeat(filler)).take(POOL_CAP));
        Pool { cells, head: 0, len: share.len() }
    }

    #[inline]
    fn pop_front(&mut self) -> Option<K> {
        if self.len == 0 {
            return None;
        }
        let k = self.cells[self.head & (POOL_CAP - 1)];
        self.head = self.head.wrapping_add(1);
        self.len -= 1;
        Some(k)
    }

    #[inline]
    fn push_back(&mut self, k: K) -> bool {
        if self.len == POOL_CAP {
            return false;
        }
        self.cells[self.head.wrapping_add(self.len) & (POOL_CAP - 1)] = k;
        self.len += 1;
        true
    }

    /// The live key at `fraction` (of 2^32) of the way from oldest to newest.
    #[inline]
    fn pick(&self, fraction: u32) -> Option<K> {
        if self.len == 0 {
            return None;
        }
        let offset = ((u64::from(fraction) * self.len as u64) >> 32) as usize;
        Some(self.cells[self.head.wrapping_add(offset) & (POOL_CAP - 1)])
    }
}

/// Churn: `ops / 2` times, remove the oldest own key and insert a new element. Returns how
/// many removes succeeded (all of them must).
#[inline(never)]
fn churn_loop<M: Mutate>(m: &mut M, pool: &mut Pool<M::K>, ops: u64, thread: u64) -> u64 {
    let mut removed = 0u64;
    let mut n = 0u64;
    for _ in 0..ops / BATCH {
        for _ in 0..BATCH / 2 {
            if let Some(old) = pool.pop_front() {
                removed += u64::from(m.remove(old));
            }
            n += 1;
            let new = m.insert(fresh(thread, n));
            pool.push_back(new);
        }
        m.batch_end();
    }
    removed
}

#[derive(Default)]
struct MixedCounts {
    lookups: u64,
    hits: u64,
    removes: u64,
    removed: u64,
}

/// Read-heavy: each op is a lookup of a random own key (98%), an insert (1%) or a remove of the
/// oldest own key (1%), as the sequence says.
#[inline(never)]
fn mixed_loop<M: Mutate>(
    target: &mut M,
    pool: &mut Pool<M::K>,
    seq: &[u64; SEQ_LEN],
    ops: u64,
    thread: u64,
) -> MixedCounts {
    let seq = black_box(seq);
    let mut counts = MixedCounts::default();
    let mut sum = 0u64;
    let mut inserted = 0u64;
    let mut at = 0usize;
    for _ in 0..ops / BATCH {
        for _ in 0..BATCH {
            let r = seq[at & SEQ_MASK];
            at += 1;
            let (op, pick) = (r as u32, (r >> 32) as u32);
            if op < LOOKUP_BELOW {
                counts.lookups += 1;
                if let Some(v) = pool.pick(pick).and_then(|k| target.get(k)) {
                    counts.hits += 1;
                    sum = sum.wrapping_add(v);
                }
            } else if op < INSERT_BELOW {
                inserted += 1;
                if pool.len < POOL_CAP {
                    let k = target.insert(fresh(thread, inserted));
                    pool.push_back(k);
                }
            } else if let Some(k) = pool.pop_front() {
                counts.removes += 1;
                counts.removed += u64::from(target.remove(k));
            }
        }
        target.batch_end();
    }
    black_box(sum);
    counts
}

// ---------------------------------------------------------------------------------------------
// Threads and measurements

/// One measurement: ns per op per thread (mean over threads), the total throughput, and the
/// smallest share of its core that any thread got while the clock ran (CPU time / wall time).
#[derive(Clone, Copy, Debug)]
struct Sample {
    ns_per_op: f64,
    mops: f64,
    cpu_share: f64,
}

/// The CPU time this thread has used (`CLOCK_THREAD_CPUTIME_ID`, through nix).
fn thread_cpu_time() -> Duration {
    let ts = nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID)
        .expect("clock_gettime(CLOCK_THREAD_CPUTIME_ID) works on Linux");
    Duration::new(ts.tv_sec() as u64, ts.tv_nsec() as u32)
}

/// Runs `threads` pinned threads. Each prepares its job (untimed), waits for the others, runs
/// the job under the clock; what the job hands back is dropped after the clock stops.
fn run_threads<P, J, R>(threads: usize, cores: &[CoreId], prepare: P) -> Sample
where
    P: Fn(usize) -> J + Sync,
    J: FnOnce() -> (u64, R),
{
    let barrier = Barrier::new(threads);
    let per_thread: Vec<(u64, Duration, Duration)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (barrier, prepare) = (&barrier, &prepare);
                s.spawn(move || {
                    if !cores.is_empty() {
                        core_affinity::set_for_current(cores[t % cores.len()]);
                    }
                    let job = prepare(t);
                    barrier.wait();
                    let cpu_start = thread_cpu_time();
                    let start = Instant::now();
                    let (ops, leftovers) = job();
                    let elapsed = start.elapsed();
                    let cpu = thread_cpu_time().saturating_sub(cpu_start);
                    drop(leftovers);
                    (ops, elapsed, cpu)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a benchmark thread panicked")).collect()
    });
    let ns_per_op =
        per_thread.iter().map(|(ops, d, _)| d.as_nanos() as f64 / *ops as f64).sum::<f64>() / threads as f64;
    let mops = per_thread.iter().map(|(ops, d, _)| *ops as f64 / d.as_secs_f64() / 1e6).sum();
    let cpu_share = per_thread
        .iter()
        .map(|(_, d, cpu)| cpu.as_secs_f64() / d.as_secs_f64().max(1e-9))
        .fold(f64::INFINITY, f64::min);
    Sample { ns_per_op, mops, cpu_share }
}

/// What every measurement shares.
struct Ctx {
    /// The lookup workload's world.
    plan: Plan,
    /// The mutating workloads' start: `plan` (shared pools), or everything removed again in
    /// insertion order (own pools, which the threads then insert themselves).
    mutating: Plan,
    pools: Pools,
    seqs: Sequences,
    cores: Vec<CoreId>,
}

type Measure<'w> = Box<dyn Fn(usize, u64) -> Sample + 'w>;

struct Contender<'w> {
    /// Short name the ratios and targets refer to.
    id: &'static str,
    label: &'static str,
    measure: Measure<'w>,
}

fn contender<'w>(id: &'static str, label: &'static str, measure: Measure<'w>) -> Contender<'w> {
    Contender { id, label, measure }
}

/// A lookup measurement over the shared world: `session` makes a thread's view of the contender.
fn lookup_measure<'w, L, S>(ctx: &'w Ctx, keys: &'w [L::K; PRESENT], session: S) -> Measure<'w>
where
    L: Lookup + ProbeCheck,
    L::K: Sync,
    S: Fn() -> L + Sync + 'w,
{
    Box::new(move |threads, ops| {
        run_threads(threads, &ctx.cores, |t| {
            let mut l = session();
            let seq = &*ctx.seqs.lookup[t];
            move || {
                let hits = lookup_loop(&mut l, keys, seq, ops);
                assert_eq!(hits, ops, "a present key was not found");
                l.check_probe(ops);
                (ops, l)
            }
        })
    })
}

/// Checks, after a run, that a probed contender's probe saw at least `ops` events (so it was
/// really called); others have nothing to check.
trait ProbeCheck {
    #[inline]
    fn check_probe(&self, _ops: u64) {}
}

macro_rules! no_probe_check {
    ($($t:ty),*) => { $(impl ProbeCheck for $t {})* };
}

no_probe_check!(
    TableReader<'_>,
    TableWriter<'_>,
    TableGet<'_>,
    TableWith<'_>,
    TablePlain<'_>,
    TableMixed<'_>,
    RawLoad<'_>,
    FloorGet<'_>,
    PtabGuarded<'_>
);

impl<S> ProbeCheck for Adapted<S> {}

impl<P: Events> ProbeCheck for TableReaderProbed<'_, P> {
    fn check_probe(&self, ops: u64) {
        assert!(self.probe.events() >= ops, "the probe saw {} events in {ops} lookups", self.probe.events());
    }
}

impl<P: Events> ProbeCheck for TableProbed<'_, P> {
    fn check_probe(&self, ops: u64) {
        assert!(self.probe.events() >= ops, "the probe saw {} events in {ops} ops", self.probe.events());
    }
}

fn lookup_contenders<'w>(ctx: &'w Ctx, w: &'w LookupWorld) -> Vec<Contender<'w>> {
    let table = &w.table;
    vec![
        contender(
            "reader",
            "table: `reader()`, repin/256",
            lookup_measure(ctx, &w.table_keys, || TableReader(table.reader())),
        ),
        contender(
            "reader-counts",
            "table: `reader()` + `ProbeCounts`",
            lookup_measure(ctx, &w.table_keys, || TableReaderProbed {
                reader: table.reader(),
                probe: ProbeCounts::default(),
            }),
        ),
        contender(
            "get",
            "table: `get` (pin per call)",
            lookup_measure(ctx, &w.table_keys, || TableGet(table)),
        ),
        contender(
            "with",
            "table: `with` (pin per call)",
            lookup_measure(ctx, &w.table_keys, || TableWith(table)),
        ),
        contender(
            "raw",
            "raw relaxed `AtomicU64` load",
            lookup_measure(ctx, &w.table_keys, || RawLoad(&w.raw)),
        ),
        contender("floor", "boxed floor", lookup_measure(ctx, &w.table_keys, || FloorGet(&w.floor))),
        contender(
            "ptab",
            "ptab `read`",
            lookup_measure(ctx, &w.ptab_adapted_keys, || Adapted(w.ptab_adapted.session())),
        ),
        contender(
            "ptab-guarded",
            "ptab `read`, outer guard/256",
            lookup_measure(ctx, &w.ptab_keys, || PtabGuarded::new(&w.ptab)),
        ),
        contender(
            "slab",
            "sharded-slab `get`",
            lookup_measure(ctx, &w.slab_keys, || Adapted(w.slab.session())),
        ),
        contender(
            "rwlock",
            "`RwLock<HashMap>` get",
            lookup_measure(ctx, &w.map_keys, || Adapted(w.locked.session())),
        ),
        contender("dashmap", "dashmap `get`", lookup_measure(ctx, &w.map_keys, || Adapted(w.dash.session()))),
    ]
}

/// A churn or read-heavy measurement on freshly built state: each thread takes its share of
/// the present keys as its pool.
fn run_mutating<M, F>(
    ctx: &Ctx,
    workload: Workload,
    threads: usize,
    ops: u64,
    keys: &[M::K; PRESENT],
    session: F,
) -> Sample
where
    M: Mutate + ProbeCheck,
    M::K: Sync,
    F: Fn(usize) -> M + Sync,
{
    let share = PRESENT / threads;
    drain_garbage();
    let sample = run_threads(threads, &ctx.cores, |t| {
        let mut m = session(t);
        let mut pool = pool_for(ctx.pools, &mut m, &keys[t * share..(t + 1) * share], t as u64);
        let seq = &*ctx.seqs.mixed[t];
        move || {
            match workload {
                Workload::Churn => {
                    let removed = churn_loop(&mut m, &mut pool, ops, t as u64);
                    assert_eq!(removed, ops / 2, "a remove of an own live key failed");
                }
                Workload::ReadHeavy => {
                    let c = mixed_loop(&mut m, &mut pool, seq, ops, t as u64);
                    assert_eq!(c.hits, c.lookups, "a lookup of an own live key failed");
                    assert_eq!(c.removed, c.removes, "a remove of an own live key failed");
                }
                Workload::Lookup => unreachable!("lookups run on the shared world"),
            }
            m.check_probe(ops);
            (ops, (m, pool))
        }
    });
    drain_garbage();
    sample
}

/// A thread's pool: its share of the present keys, or (own pools) `share.len()` keys it
/// inserts itself through its own session.
fn pool_for<M: Mutate>(pools: Pools, m: &mut M, share: &[M::K], t: u64) -> Pool<M::K> {
    match pools {
        Pools::Shared => Pool::new(share),
        Pools::Own => {
            let mut pool = Pool::new(&share[..1]);
            pool.pop_front();
            for i in 0..share.len() as u64 {
                pool.push_back(m.insert(fresh(t, OWN_POOL_SEQ + i)));
                if i % BATCH == BATCH - 1 {
                    m.batch_end();
                }
            }
            m.batch_end();
            pool
        }
    }
}

/// Frees, outside the clock, what a measurement left for reclamation, so that no contender pays
/// for another's garbage: crossbeam-epoch keeps deferred frees in a global queue after their
/// thread exits (and a thread whose pins all nest inside a held reader never collects), and
/// sdd (ptab's collector) can leave some behind too.
fn drain_garbage() {
    for _ in 0..DRAIN_FLUSHES {
        crossbeam_epoch::pin().flush();
    }
    PtabParams::flush();
}

/// How the table's churn runs: plain, plain under a held reader, or with a probe.
#[derive(Clone, Copy)]
enum TableProbe {
    Off,
    Pinned,
    Writer,
    /// Through `writer()` on a table with the magazine allocator.
    Magazine,
    Counts,
    Lines,
}

fn measure_table(ctx: &Ctx, workload: Workload, probe: TableProbe, threads: usize, ops: u64) -> Sample {
    let allocator = if matches!(probe, TableProbe::Magazine) {
        Allocator::Magazine { size: MAGAZINE }
    } else {
        Allocator::Ring
    };
    let (table, all) = build_table_with(&ctx.mutating, allocator);
    let keys = present(&ctx.mutating, &all);
    let t = &table;
    match (workload, probe) {
        (_, TableProbe::Writer | TableProbe::Magazine) => {
            run_mutating(ctx, workload, threads, ops, &keys, |_| TableWriter(t.writer()))
        }
        (Workload::ReadHeavy, _) => {
            run_mutating(ctx, workload, threads, ops, &keys, |_| TableMixed { table: t, reader: t.reader() })
        }
        (_, TableProbe::Off) => run_mutating(ctx, workload, threads, ops, &keys, |_| TablePlain(t)),
        (_, TableProbe::Pinned) => {
            run_mutating(ctx, workload, threads, ops, &keys, |_| TableMixed { table: t, reader: t.reader() })
        }
        (_, TableProbe::Counts) => run_mutating(ctx, workload, threads, ops, &keys, |_| TableProbed {
            table: t,
            probe: ProbeCounts::default(),
        }),
        (_, TableProbe::Lines) => run_mutating(ctx, workload, threads, ops, &keys, |_| TableProbed {
            table: t,
            probe: LineHeat::new(t),
        }),
    }
}

fn measure_ptab(ctx: &Ctx, workload: Workload, guarded: bool, threads: usize, ops: u64) -> Sample {
    if guarded {
        let (tab, all) = build_ptab(&ctx.mutating);
        let keys = present(&ctx.mutating, &all);
        run_mutating(ctx, workload, threads, ops, &keys, |_| PtabGuarded::new(&tab))
    } else {
        measure_backend(ctx, workload, threads, ops, PtabBackend::<CAPACITY>::new())
    }
}

/// A peer through the engine's adapter, on fresh state.
fn measure_backend<B: Backend>(
    ctx: &Ctx,
    workload: Workload,
    threads: usize,
    ops: u64,
    backend: B,
) -> Sample {
    let (backend, all) = build_backend(backend, &ctx.mutating);
    let keys = present(&ctx.mutating, &all);
    run_mutating(ctx, workload, threads, ops, &keys, |_| Adapted(backend.session()))
}

fn mutating_contenders(ctx: &Ctx, workload: Workload) -> Vec<Contender<'_>> {
    let table =
        move |probe| -> Measure<'_> { Box::new(move |th, ops| measure_table(ctx, workload, probe, th, ops)) };
    let ptab = move |guarded| -> Measure<'_> {
        Box::new(move |th, ops| measure_ptab(ctx, workload, guarded, th, ops))
    };
    let mut out = Vec::new();
    if workload == Workload::ReadHeavy {
        out.push(contender(
            "table",
            "table: `reader()` lookups, plain insert/remove",
            table(TableProbe::Off),
        ));
        out.push(contender("table-writer", "table: all through `writer()`", table(TableProbe::Writer)));
        out.push(contender(
            "table-magazine",
            "table: all through `writer()`, magazines of 64",
            table(TableProbe::Magazine),
        ));
        out.push(contender("ptab-guarded", "ptab, outer guard/256", ptab(true)));
    } else {
        out.push(contender("table", "table: `insert`/`remove`", table(TableProbe::Off)));
        out.push(contender(
            "table-pinned",
            "table: `insert`/`remove` under a held reader, repinned per batch",
            table(TableProbe::Pinned),
        ));
        out.push(contender(
            "table-writer",
            "table: `writer()` (batched retirement, recycled memory)",
            table(TableProbe::Writer),
        ));
        out.push(contender(
            "table-magazine",
            "table: `writer()` with magazines of 64",
            table(TableProbe::Magazine),
        ));
        out.push(contender("table-counts", "table: `*_probed` + `ProbeCounts`", table(TableProbe::Counts)));
        out.push(contender("table-lines", "table: `*_probed` + per-line sink", table(TableProbe::Lines)));
        out.push(contender("ptab", "ptab (no guard: reclaims nothing while churning)", ptab(false)));
        out.push(contender("ptab-guarded", "ptab, outer guard/256 (frees as it goes)", ptab(true)));
    }
    out.push(contender(
        "slab",
        "sharded-slab",
        Box::new(move |th, ops| measure_backend(ctx, workload, th, ops, ShardedSlabBackend::new())),
    ));
    out.push(contender(
        "rwlock",
        "`RwLock<HashMap>`",
        Box::new(move |th, ops| measure_backend(ctx, workload, th, ops, RwLockHashMapBackend::new(CAPACITY))),
    ));
    out.push(contender(
        "dashmap",
        "dashmap",
        Box::new(move |th, ops| measure_backend(ctx, workload, th, ops, DashMapBackend::new(CAPACITY))),
    ));
    out
}

// ---------------------------------------------------------------------------------------------
// Running, statistics, output

/// All repeats of every contender of one workload at one thread count: `samples[c][r]`.
struct Results {
    workload: Workload,
    threads: usize,
    ids: Vec<&'static str>,
    labels: Vec<&'static str>,
    samples: Vec<Vec<Sample>>,
}

impl Results {
    fn index(&self, id: &str) -> Option<usize> {
        self.ids.iter().position(|&i| i == id)
    }

    /// Median over repeats of `time(a) / time(b)`, each pair measured in the same repeat.
    fn time_ratio(&self, a: &str, b: &str) -> Option<f64> {
        let (a, b) = (self.index(a)?, self.index(b)?);
        let mut ratios: Vec<f64> =
            self.samples[a].iter().zip(&self.samples[b]).map(|(x, y)| x.ns_per_op / y.ns_per_op).collect();
        Some(median(&mut ratios))
    }

    /// The least share of its core that a thread of `id` had in any repeat.
    fn least_share(&self, id: &str) -> Option<f64> {
        Some(self.samples[self.index(id)?].iter().map(|s| s.cpu_share.min(1.0)).fold(f64::INFINITY, f64::min))
    }

    fn mops(&self, id: &str) -> Option<f64> {
        let mut v: Vec<f64> = self.samples[self.index(id)?].iter().map(|s| s.mops).collect();
        Some(median(&mut v))
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        f64::midpoint(v[n / 2 - 1], v[n / 2])
    }
}

/// Ops per thread for about `ms` milliseconds, from a calibration run (the second of two: the
/// first warms caches and allocators).
fn calibrate(c: &Contender<'_>, threads: usize, ms: u64) -> u64 {
    (c.measure)(threads, CALIBRATION_OPS);
    let s = (c.measure)(threads, CALIBRATION_OPS);
    let ops = (ms as f64 * 1e6 / s.ns_per_op.max(0.01)) as u64;
    ops.clamp(CALIBRATION_OPS, 1 << 34).div_ceil(BATCH) * BATCH
}

/// One measurement; taken again (up to [`RETRIES`] times, keeping the attempt whose threads had
/// the most of their cores) while some thread got less than [`MIN_CPU_SHARE`] of its core, as
/// happens when other processes share the machine: threads that take turns on one core measure
/// neither their speed nor their contention.
fn measure_fairly(c: &Contender<'_>, threads: usize, ops: u64) -> Sample {
    let mut best = (c.measure)(threads, ops);
    for _ in 0..RETRIES {
        if best.cpu_share >= MIN_CPU_SHARE {
            break;
        }
        let again = (c.measure)(threads, ops);
        if again.cpu_share > best.cpu_share {
            best = again;
        }
    }
    best
}

fn run(all: &[Contender<'_>], workload: Workload, threads: usize, settings: &Settings) -> Option<Results> {
    let contenders: Vec<&Contender<'_>> =
        all.iter().filter(|c| settings.only.is_empty() || settings.only.iter().any(|o| o == c.id)).collect();
    if contenders.is_empty() {
        return None;
    }
    eprint!("{} at {threads} thread(s): calibrating", workload.name());
    let ops: Vec<u64> = contenders.iter().map(|c| calibrate(c, threads, settings.measure_ms)).collect();
    let mut samples = vec![Vec::with_capacity(settings.repeats as usize); contenders.len()];
    for r in 0..settings.repeats {
        eprint!(", {}", r + 1);
        // A fresh random order every repeat, so that no contender always runs right after the
        // same neighbour (whatever one leaves in caches or the allocator, the next one meets).
        let mut order: Vec<usize> = (0..contenders.len()).collect();
        let mut rng = Rng::new(SEED ^ (r + 1).wrapping_mul(0x9e37_79b9));
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        for c in order {
            samples[c].push(measure_fairly(contenders[c], threads, ops[c]));
        }
    }
    eprintln!();
    Some(Results {
        workload,
        threads,
        ids: contenders.iter().map(|c| c.id).collect(),
        labels: contenders.iter().map(|c| c.label).collect(),
        samples,
    })
}

fn fmt_ns(x: f64) -> String {
    if x < 10.0 {
        format!("{x:.2}")
    } else if x < 100.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.0}")
    }
}

fn fmt_ratio(x: Option<f64>) -> String {
    x.map_or_else(String::new, |x| format!("{x:.2}x"))
}

/// The ptab contender a workload's "vs ptab" column compares with: plain ptab, except in the
/// read-heavy mix, where ptab runs only with its outer guard (its best form for lookups).
fn ptab_reference(workload: Workload) -> &'static str {
    match workload {
        Workload::ReadHeavy => "ptab-guarded",
        Workload::Lookup | Workload::Churn => "ptab",
    }
}

/// One markdown table per workload, all thread counts in it.
fn print_workload(all: &[Results], workload: Workload) -> String {
    let mut out = String::new();
    let rows: Vec<&Results> = all.iter().filter(|r| r.workload == workload).collect();
    if rows.is_empty() {
        return out;
    }
    let lookup = workload == Workload::Lookup;
    let _ = writeln!(out, "#### {}\n", workload.title());
    let _ = write!(out, "| threads | contender | ns/op/thread (median) | min..max | Mops/s total |");
    if lookup {
        let _ = write!(out, " time vs boxed floor |");
    }
    let _ = writeln!(
        out,
        " throughput vs {} | least core share |",
        if workload == Workload::ReadHeavy { "ptab+guard" } else { "ptab" }
    );
    let _ = write!(out, "|---:|---|---:|---:|---:|");
    if lookup {
        let _ = write!(out, "---:|");
    }
    let _ = writeln!(out, "---:|---:|");
    for r in rows {
        for (c, samples) in r.samples.iter().enumerate() {
            let mut ns: Vec<f64> = samples.iter().map(|s| s.ns_per_op).collect();
            let med = median(&mut ns);
            let (lo, hi) = (ns[0], ns[ns.len() - 1]);
            let id = r.ids[c];
            let _ = write!(
                out,
                "| {} | {} | {} | {}..{} | {:.1} |",
                r.threads,
                r.labels[c],
                fmt_ns(med),
                fmt_ns(lo),
                fmt_ns(hi),
                r.mops(id).unwrap_or(0.0)
            );
            if lookup {
                let _ = write!(out, " {} |", fmt_ratio(r.time_ratio(id, "floor")));
            }
            let share = samples.iter().map(|s| s.cpu_share).fold(f64::INFINITY, f64::min);
            let _ = writeln!(
                out,
                " {} | {:.0}% |",
                fmt_ratio(r.time_ratio(ptab_reference(workload), id)),
                100.0 * share.min(1.0)
            );
        }
    }
    out.push('\n');
    out
}

/// A performance target (docs/PERFORMANCE.md) judged from one ratio of paired times, `time(num) / time(den)`: a
/// speed-up of `den` over `num` when `at_least`, else a slowdown of `num` against `den`.
struct Target {
    name: &'static str,
    workload: Workload,
    /// The target is stated for this many threads and more ...
    min_threads: usize,
    /// ... up to this many.
    max_threads: usize,
    num: &'static str,
    den: &'static str,
    bound: f64,
    at_least: bool,
}

const TARGETS: [Target; 14] = [
    Target {
        name: "lookup via reader: time <= 1.3x boxed floor",
        workload: Workload::Lookup,
        min_threads: 1,
        max_threads: usize::MAX,
        num: "reader",
        den: "floor",
        bound: 1.3,
        at_least: false,
    },
    Target {
        name: "lookup via reader: throughput >= 1.5x ptab `read`",
        workload: Workload::Lookup,
        min_threads: 1,
        max_threads: usize::MAX,
        num: "ptab",
        den: "reader",
        bound: 1.5,
        at_least: true,
    },
    Target {
        name: "probes on (`ProbeCounts`), lookup: time <= 1.10x",
        workload: Workload::Lookup,
        min_threads: 1,
        max_threads: usize::MAX,
        num: "reader-counts",
        den: "reader",
        bound: 1.10,
        at_least: false,
    },
    Target {
        name: "read-heavy: throughput >= 5x `RwLock<HashMap>` (stated at 2 threads)",
        workload: Workload::ReadHeavy,
        min_threads: 2,
        max_threads: usize::MAX,
        num: "rwlock",
        den: "table",
        bound: 5.0,
        at_least: true,
    },
    Target {
        name: "read-heavy: throughput >= 2x dashmap (stated at 2 threads)",
        workload: Workload::ReadHeavy,
        min_threads: 2,
        max_threads: usize::MAX,
        num: "dashmap",
        den: "table",
        bound: 2.0,
        at_least: true,
    },
    Target {
        name: "churn: throughput >= 1.5x ptab (plain `insert`/`remove`)",
        workload: Workload::Churn,
        min_threads: 1,
        max_threads: usize::MAX,
        num: "ptab",
        den: "table",
        bound: 1.5,
        at_least: true,
    },
    Target {
        name: "churn: throughput >= 1.5x ptab (`writer()`, the API for churn)",
        workload: Workload::Churn,
        min_threads: 1,
        max_threads: usize::MAX,
        num: "ptab",
        den: "table-writer",
        bound: 1.5,
        at_least: true,
    },
    Target {
        name: "churn: magazines throughput >= 1.3x the ring `writer()` (stated at 1 thread)",
        workload: Workload::Churn,
        min_threads: 1,
        max_threads: 1,
        num: "table-writer",
        den: "table-magazine",
        bound: 1.3,
        at_least: true,
    },
    Target {
        name: "churn: magazines throughput >= 4x the ring `writer()` (stated at 2 threads)",
        workload: Workload::Churn,
        min_threads: 2,
        max_threads: usize::MAX,
        num: "table-writer",
        den: "table-magazine",
        bound: 4.0,
        at_least: true,
    },
    Target {
        name: "churn: magazines reach sharded-slab (throughput >= 1.0x, stated at 2 threads)",
        workload: Workload::Churn,
        min_threads: 2,
        max_threads: usize::MAX,
        num: "slab",
        den: "table-magazine",
        bound: 1.0,
        at_least: true,
    },
    Target {
        name: "read-heavy: magazines time within 5% of the ring `writer()`",
        workload: Workload::ReadHeavy,
        min_threads: 1,
        max_threads: usize::MAX,
        num: "table-magazine",
        den: "table-writer",
        bound: 1.05,
        at_least: false,
    },
    Target {
        name: "churn: `writer()` throughput >= 1.5x ptab with its outer guard",
        workload: Workload::Churn,
        min_threads: 1,
        max_threads: usize::MAX,
        num: "ptab-guarded",
        den: "table-writer",
        bound: 1.5,
        at_least: true,
    },
    Target {
        name: "probes on (`ProbeCounts`), churn: time <= 1.10x",
        workload: Workload::Churn,
        min_threads: 1,
        max_threads: usize::MAX,
        num: "table-counts",
        den: "table",
        bound: 1.10,
        at_least: false,
    },
    Target {
        name: "probes on (per-line sink), churn: time <= 1.10x",
        workload: Workload::Churn,
        min_threads: 1,
        max_threads: usize::MAX,
        num: "table-lines",
        den: "table",
        bound: 1.10,
        at_least: false,
    },
];

fn verdict(ok: bool, share: f64) -> String {
    let word = if ok { "met" } else { "**missed**" };
    if share < MIN_CPU_SHARE {
        format!("{word} (noisy: a thread had {:.0}% of its core)", 100.0 * share)
    } else {
        word.to_owned()
    }
}

/// The performance targets that this run can judge, with the measured value and a verdict.
fn print_targets(all: &[Results]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "#### Targets\n");
    let _ = writeln!(out, "| target | threads | measured | verdict |");
    let _ = writeln!(out, "|---|---:|---:|---|");
    for r in all {
        for target in TARGETS
            .iter()
            .filter(|g| g.workload == r.workload && (g.min_threads..=g.max_threads).contains(&r.threads))
        {
            let (Some(v), Some(a), Some(b)) =
                (r.time_ratio(target.num, target.den), r.least_share(target.num), r.least_share(target.den))
            else {
                continue;
            };
            let ok = if target.at_least { v >= target.bound } else { v <= target.bound };
            let _ =
                writeln!(out, "| {} | {} | {v:.2}x | {} |", target.name, r.threads, verdict(ok, a.min(b)));
        }
        if r.workload == Workload::Lookup && r.threads > 1 {
            let one = all.iter().find(|o| o.workload == Workload::Lookup && o.threads == 1);
            if let (Some(one), Some(share)) = (one, r.least_share("reader")) {
                if let (Some(m1), Some(mt), Some(s1)) =
                    (one.mops("reader"), r.mops("reader"), one.least_share("reader"))
                {
                    let v = mt / m1;
                    let _ = writeln!(
                        out,
                        "| lookup via reader: reads scale (total Mops/s over 1 thread's; >= 0.8 x threads) | {} | \
                         {v:.2}x | {} |",
                        r.threads,
                        verdict(v >= 0.8 * r.threads as f64, share.min(s1))
                    );
                }
            }
        }
    }
    out.push('\n');
    out
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

/// Whether pinning works here (tried on a throwaway thread, so this one stays unpinned).
fn pinning_works(cores: &[CoreId]) -> bool {
    let Some(&first) = cores.first() else { return false };
    std::thread::spawn(move || core_affinity::set_for_current(first)).join().unwrap_or(false)
}

fn main() {
    let settings = Settings::read();
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    let pinned = pinning_works(&cores);
    let max_threads = settings.threads.iter().copied().max().unwrap_or(1);
    if max_threads > cores.len() {
        eprintln!("warning: {max_threads} threads on {} cores: threads will share cores", cores.len());
    }
    let started = Instant::now();
    let ctx = Ctx {
        plan: Plan::new(settings.layout),
        mutating: match settings.pools {
            Pools::Shared => Plan::new(settings.layout),
            Pools::Own => Plan::emptied(settings.layout),
        },
        pools: settings.pools,
        seqs: Sequences::new(max_threads),
        cores: if pinned { cores.clone() } else { Vec::new() },
    };

    let mut all = Vec::new();
    for &workload in &settings.workloads {
        match workload {
            Workload::Lookup => {
                let world = LookupWorld::new(&ctx.plan);
                let contenders = lookup_contenders(&ctx, &world);
                for &t in &settings.threads {
                    all.extend(run(&contenders, workload, t, &settings));
                }
            }
            Workload::ReadHeavy | Workload::Churn => {
                let contenders = mutating_contenders(&ctx, workload);
                for &t in &settings.threads {
                    all.extend(run(&contenders, workload, t, &settings));
                }
            }
        }
    }

    let mut out = String::new();
    let _ = writeln!(
        out,
        "Machine: {}, {} logical CPUs{}. Threads pinned: {}. Settings: threads {:?}, {} repeats, our table's layout {}, \
         churn and read-heavy on {} pools, ~{} ms per measurement; run took {:.0} s. A measurement in which some thread had less than \
         {:.0}% of its core was taken again (at most {} times, keeping the best); \"least core share\" \
         is the smallest share any thread had in the kept repeats.\n",
        cpu_model(),
        std::thread::available_parallelism().map_or(0, std::num::NonZeroUsize::get),
        if cores.is_empty() { String::new() } else { format!(" ({} usable for pinning)", cores.len()) },
        if pinned { "yes" } else { "no (pinning failed)" },
        settings.threads,
        settings.repeats,
        settings.layout,
        match settings.pools {
            Pools::Shared => "shared",
            Pools::Own => "own",
        },
        settings.measure_ms,
        started.elapsed().as_secs_f64(),
        100.0 * MIN_CPU_SHARE,
        RETRIES,
    );
    for w in Workload::ALL {
        out.push_str(&print_workload(&all, w));
    }
    if settings.workloads.contains(&Workload::Churn) {
        out.push_str(&print_line_figures(&ctx, &settings));
    }
    out.push_str(&print_targets(&all));
    print!("{out}");
}
