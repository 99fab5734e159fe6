//! A threaded churn workload that checks itself: each thread inserts, removes and looks up
//! its *own* keys (values carry the thread and a sequence number), probes keys it removed
//! (they must miss, and must not remove anything), and reports every violation it sees.
//! The correct table must produce none (`stress.rs`); each broken variant must produce some
//! (`bug_zoo.rs`).
#![allow(clippy::disallowed_types)] // the stop flag of the test threads, not table state

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use slotscope_table::{Full, Key, SlotState, Table, Writer};

/// When a thread stops.
#[derive(Clone, Copy, Debug)]
pub enum Until {
    /// After this long (checked every 256 operations).
    Elapsed(Duration),
    /// After this many operations.
    Ops(u64),
}

#[derive(Clone, Copy, Debug)]
pub struct Churn {
    pub threads: usize,
    /// Most live keys a thread holds: below it the thread inserts, at it it removes.
    pub quota: usize,
    /// Fewest live keys a thread holds after its prefill: it fills to this before the start,
    /// and answers `Full` by removing one of its own only while above it. So the table stays
    /// at least `threads * floor` full, and a full table keeps churning.
    pub floor: usize,
    pub until: Until,
    /// Pin thread i to core i (mod the cores there are), where the OS lets us.
    pub pin: bool,
    /// Stop every thread at the first violation (for the bug zoo, where one is enough).
    pub stop_at_first_violation: bool,
    /// Thread 0 takes a snapshot every this many operations (0: never).
    pub snapshot_every: u64,
    /// Insert and remove through a `Writer` per thread (which holds a magazine on a magazine
    /// table) instead of the table's one-shot calls.
    pub writer: bool,
}

#[derive(Debug, Default)]
pub struct Report {
    pub violations: Vec<String>,
    /// Every thread's own live keys at the end, with their values.
    pub live: HashMap<Key, u64>,
    pub inserts: u64,
    pub removes: u64,
    pub fulls: u64,
    pub lookups: u64,
    pub stale_probes: u64,
    pub snapshots: u64,
}

/// Stale keys a thread keeps probing (the most recent ones).
const STALE_KEPT: usize = 64;
/// Violations a thread records before it stops.
const MAX_VIOLATIONS: usize = 8;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: plenty for choosing operations.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }
}

#[derive(Default)]
struct ThreadReport {
    violations: Vec<String>,
    live: Vec<(Key, u64)>,
    inserts: u64,
    removes: u64,
    fulls: u64,
    lookups: u64,
    stale_probes: u64,
    snapshots: u64,
}

/// Inserts and removes through the table's one-shot calls, or through a writer.
struct Mutator<'t> {
    table: &'t Table<u64>,
    writer: Option<Writer<'t, u64>>,
}

impl Mutator<'_> {
    fn insert(&mut self, value: u64) -> Result<Key, Full<u64>> {
        match &mut self.writer {
            Some(w) => w.insert(value),
            None => self.table.insert(value),
        }
    }

    fn remove(&mut self, key: Key) -> bool {
        match &mut self.writer {
            Some(w) => w.remove(key),
            None => self.table.remove(key),
        }
    }
}

/// Runs the workload on `table` and gathers what every thread saw.
pub fn run(table: &Table<u64>, cfg: Churn) -> Report {
    let stop = AtomicBool::new(false);
    let start = Barrier::new(cfg.threads);
    let cores =
        if cfg.pin && !cfg!(miri) { core_affinity::get_core_ids().unwrap_or_default() } else { Vec::new() };
    let reports: Vec<ThreadReport> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..cfg.threads)
            .map(|tid| {
                let (stop, start, core) = (&stop, &start, cores.get(tid % cores.len().max(1)).copied());
                s.spawn(move || {
                    if let Some(core) = core {
                        // Best effort: a refused pin only makes the run less even.
                        let _ = core_affinity::set_for_current(core);
                    }
                    worker(table, cfg, tid, stop, start)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a churn thread panicked")).collect()
    });
    let mut report = Report::default();
    for r in reports {
        report.violations.extend(r.violations);
        report.live.extend(r.live);
        report.inserts += r.inserts;
        report.removes += r.removes;
        report.fulls += r.fulls;
        report.lookups += r.lookups;
        report.stale_probes += r.stale_probes;
        report.snapshots += r.snapshots;
    }
    report
}

#[allow(clippy::too_many_lines)] // one loop, one match: clearer in one piece
fn worker(table: &Table<u64>, cfg: Churn, tid: usize, stop: &AtomicBool, start: &Barrier) -> ThreadReport {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (tid as u64 + 1).wrapping_mul(0x1234_5678_9abc_def1));
    let mut me = ThreadReport::default();
    let mut stale: Vec<Key> = Vec::with_capacity(STALE_KEPT);
    let mut stale_next = 0;
    let mut seq = 0u64;
    let mut ops = 0u64;
    // Dropped at the end of the worker: a magazine's ids go back to the ring then.
    let mut m = Mutator { table, writer: cfg.writer.then(|| table.writer()) };
    while me.live.len() < cfg.floor {
        let value = ((tid as u64) << 48) | seq;
        seq += 1;
        match m.insert(value) {
            Ok(k) => {
                me.inserts += 1;
                me.live.push((k, value));
            }
            // Only a broken variant (one that leaked room) gets here.
            Err(_) => break,
        }
    }
    start.wait();
    let started = Instant::now();
    macro_rules! violation {
        ($me:expr, $what:expr) => {{
            let what: String = $what;
            $me.violations.push(format!("thread {tid}, op {ops}: {what}"));
            if cfg.stop_at_first_violation {
                stop.store(true, Ordering::Relaxed);
            }
        }};
    }
    loop {
        let done = match cfg.until {
            Until::Ops(n) => ops >= n,
            Until::Elapsed(d) => ops.is_multiple_of(256) && started.elapsed() >= d,
        };
        if done || me.violations.len() >= MAX_VIOLATIONS || stop.load(Ordering::Relaxed) {
            break;
        }
        ops += 1;
        match rng.below(16) {
            0..=5 => {
                // Below quota: insert. At quota, or refused by a full table while above the
                // floor: remove one of ours (so a full table keeps churning instead of every
                // thread waiting for room).
                let mut inserted = false;
                if me.live.len() < cfg.quota {
                    let value = ((tid as u64) << 48) | seq;
                    seq += 1;
                    match m.insert(value) {
                        Ok(k) => {
                            me.inserts += 1;
                            inserted = true;
                            if table.get(k) != Some(value) {
                                violation!(
                                    me,
                                    format!("just inserted {k:?}={value:#x} reads {:?}", table.get(k))
                                );
                            }
                            me.live.push((k, value));
                        }
                        Err(full) => {
                            me.fulls += 1;
                            if full.into_inner() != value {
                                violation!(me, "Full handed back another value".to_owned());
                            }
                        }
                    }
                }
                let at_quota = me.live.len() >= cfg.quota;
                if !inserted && (at_quota || me.live.len() > cfg.floor) && !me.live.is_empty() {
                    let (k, value) = me.live.swap_remove(rng.below(me.live.len()));
                    if m.remove(k) {
                        me.removes += 1;
                    } else {
                        violation!(me, format!("own live {k:?}={value:#x} could not be removed (lost)"));
                    }
                    if let Some(v) = table.get(k) {
                        violation!(me, format!("own removed {k:?} still reads {v:#x}"));
                    }
                    if stale.len() < STALE_KEPT {
                        stale.push(k);
                    } else {
                        stale[stale_next] = k;
                        stale_next = (stale_next + 1) % STALE_KEPT;
                    }
                }
            }
            6..=11 => {
                if !me.live.is_empty() {
                    let (k, value) = me.live[rng.below(me.live.len())];
                    me.lookups += 1;
                    let got = table.get(k);
                    if got != Some(value) {
                        violation!(me, format!("own live {k:?}={value:#x} reads {got:?}"));
                    }
                }
            }
            12..=13 => {
                if !stale.is_empty() {
                    let k = stale[rng.below(stale.len())];
                    me.stale_probes += 1;
                    if let Some(v) = table.get(k) {
                        violation!(me, format!("stale {k:?} reads {v:#x}"));
                    }
                    if m.remove(k) {
                        violation!(me, format!("stale {k:?} removed an element"));
                    }
                }
            }
            14 => {
                let mut reader = table.reader();
                for i in 0..8 {
                    if i == 4 {
                        reader.repin();
                    }
                    if let Some(&(k, value)) = me.live.get(rng.below(me.live.len().max(1))) {
                        me.lookups += 1;
                        if reader.get(k) != Some(&value) {
                            violation!(me, format!("reader: own live {k:?} reads {:?}", reader.get(k)));
                        }
                    }
                }
            }
            _ => {
                if tid == 0 && cfg.snapshot_every > 0 && ops % cfg.snapshot_every < 16 {
                    me.snapshots += 1;
                    if let Err(e) = snapshot_sane(table, cfg.threads) {
                        violation!(me, e);
                    }
                }
            }
        }
    }
    me
}

/// What a snapshot taken under load must satisfy: every slot in exactly one state, occupied
/// slots showing keys of this table at their own slot, free slots backed by an id in the ring
/// or in a magazine, and between the cursors no more RESERVED cells than the pushes `threads`
/// removers can have in flight (one each, or half a magazine for a give-back).
fn snapshot_sane(table: &Table<u64>, threads: usize) -> Result<(), String> {
    let snap = table.snapshot();
    let g = snap.geometry();
    let n = snap.capacity();
    if snap.occupied() + snap.free() + snap.reserved() != n {
        return Err("snapshot states do not sum to N".to_owned());
    }
    // Tickets alloc..free, the alloc cursor being 32 bits wide (as the views read it).
    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap, clippy::cast_sign_loss)]
    let between = ((snap.free_cursor() as u32).wrapping_sub(snap.alloc_cursor() as u32) as i32)
        .clamp(0, n as i32) as u64;
    #[allow(clippy::cast_possible_truncation)] // a residue below N
    let in_flight = (0..between)
        .filter(|i| snap.ring_cell(((snap.alloc_cursor() + i) % n as u64) as usize).is_none())
        .count();
    let per_thread = table.allocator().magazine().map_or(1, |m| (m as usize / 2).max(1));
    if in_flight > threads * per_thread {
        return Err(format!(
            "{in_flight} RESERVED cells between the cursors (alloc {}, free {}): more than {threads} \
             threads can have in flight",
            snap.alloc_cursor(),
            snap.free_cursor()
        ));
    }
    let mut in_ring = vec![false; n];
    for r in 0..n {
        if let Some(id) = snap.ring_cell(r) {
            if !g.owns(id) {
                return Err(format!("ring cell {r} holds a foreign id {id:?}"));
            }
            in_ring[id.slot()] = true;
        }
    }
    for id in snap.magazines().iter().flat_map(|m| &m.ids) {
        in_ring[id.slot()] = true;
    }
    for (s, &ring) in in_ring.iter().enumerate() {
        let info = snap.slot(s);
        match info.state {
            SlotState::Occupied => {
                let k = info.key.ok_or("occupied slot without key")?;
                if k.slot() != s || !g.owns(k) {
                    return Err(format!("slot {s} shows key {k:?}"));
                }
            }
            SlotState::Free if !ring => return Err(format!("slot {s} free without a ring or magazine id")),
            SlotState::Free | SlotState::Reserved => {}
        }
    }
    Ok(())
}
