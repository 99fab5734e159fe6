//! The bare loop: what a caller of the table would write to drive it with a mix, and the
//! reference the engine's figures are measured against (docs/PERFORMANCE.md, "Engine").
//!
//! Each thread inserts its share of the prefill and keeps its keys in a vector; then, per op,
//! one draw of the same generator the engine's workers use (seeded the same way) picks the op
//! (the engine's integer thresholds on its top 16 bits) and one of the thread's own keys (the
//! same multiply-shift on its low 32 bits), through the same batching handle the engine's
//! workers hold (`Table::writer`), repinning every 256 ops. A lookup compares the value it
//! finds with the one stored (a mismatch is counted); an insert keeps the key it gets (a
//! `Full` is counted); a remove takes a random held key. Nothing else runs per op: no
//! counters, no digest, no clock; each thread reads the time once when it leaves the barrier
//! all threads leave together and once at its end, and the run lasts from the first start to
//! the last end.
//!
//! The engine may do nothing a caller would not (no engine-only prefetching or reordering), so
//! this loop is also the floor its numbers cannot go under without the tool flattering the
//! table.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use slotscope_table::{Key, Layout, Table};
use slotscope_trace::{OpKind, Value};

use crate::engine::mix::{scale, OpChooser};
use crate::engine::rng::thread_stream;
use crate::machine::pin::pin_current_thread;
use crate::scenario::spec::Mix;

/// Ops between two repins, as in the engine's batches.
pub const BARE_BATCH: u64 = 256;

/// What to run.
#[derive(Clone, Debug, PartialEq)]
pub struct BareSpec {
    /// Slots asked for (rounded up as the table rounds them).
    pub capacity: usize,
    /// The table's layout and line size.
    pub layout: Layout,
    pub line_bytes: usize,
    /// Share of the table filled before the run, split evenly between the threads.
    pub prefill: f64,
    /// The mix.
    pub mix: Mix,
    /// Threads.
    pub threads: usize,
    /// Ops per thread.
    pub ops: u64,
    /// The run's seed (thread `t` draws from `thread_stream(seed, t)`, as the engine's workers).
    pub seed: u64,
    /// Thread `t` is pinned to `cores[t % len]` (empty: not pinned).
    pub cores: Vec<usize>,
}

/// What a bare run did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BareRun {
    /// Ops done, all threads.
    pub ops: u64,
    /// From the common start to the last thread's end.
    pub elapsed: Duration,
    /// Lookups that found another value than the one stored (0 on a correct table).
    pub mismatches: u64,
    /// Inserts refused with `Full`.
    pub refused: u64,
}

impl BareRun {
    /// Ops per second over the run.
    pub fn ops_per_s(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let ops = self.ops as f64;
        ops / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// One thread's loop; its counts.
fn thread_loop(
    table: &Table<Value>,
    spec: &BareSpec,
    t: usize,
    start: &Barrier,
    share: usize,
) -> (u64, u64, Instant, Instant) {
    if let Some(&core) = spec.cores.get(t % spec.cores.len().max(1)) {
        pin_current_thread(core);
    }
    let tag = t as u64;
    let mut next_seq = 0u64;
    let mut held: Vec<(Key, u64)> = Vec::with_capacity(share * 2 + 16);
    for _ in 0..share {
        match table.insert(Value { thread: tag, seq: next_seq }) {
            Ok(k) => held.push((k, next_seq)),
            Err(_) => break,
        }
        next_seq += 1;
    }
    let chooser = OpChooser::new(spec.mix);
    let mut rng = thread_stream(spec.seed, t);
    let mut writer = table.writer();
    let (mut mismatches, mut refused) = (0u64, 0u64);
    start.wait();
    let began = Instant::now();
    let mut left = spec.ops;
    while left > 0 {
        let n = left.min(BARE_BATCH);
        for _ in 0..n {
            let r = rng.next_u64();
            match chooser.choose(r) {
                OpKind::Lookup => {
                    if held.is_empty() {
                        continue;
                    }
                    let (k, seq) = held[scale(r << 32, held.len())];
                    if writer.get(k).is_none_or(|v| *v != Value { thread: tag, seq }) {
                        mismatches += 1;
                    }
                }
                OpKind::Insert => {
                    let seq = next_seq;
                    next_seq += 1;
                    match writer.insert(Value { thread: tag, seq }) {
                        Ok(k) => held.push((k, seq)),
                        Err(_) => refused += 1,
                    }
                }
                OpKind::Remove => {
                    if held.is_empty() {
                        continue;
                    }
                    let (k, _) = held.swap_remove(scale(r << 32, held.len()));
                    if !writer.remove(k) {
                        mismatches += 1;
                    }
                }
            }
        }
        writer.repin();
        left -= n;
    }
    (mismatches, refused, began, Instant::now())
}

/// Runs `spec` on a fresh table.
///
/// # Panics
/// When the table cannot be built (a capacity or line size the table refuses).
pub fn run(spec: &BareSpec) -> BareRun {
    let table: Table<Value> = Table::builder()
        .capacity(spec.capacity)
        .layout(spec.layout)
        .line_bytes(spec.line_bytes)
        .build()
        .expect("a table of this shape");
    let table = Arc::new(table);
    let threads = spec.threads.max(1);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let share = ((spec.prefill.clamp(0.0, 1.0) * table.capacity() as f64) as usize) / threads;
    let start = Arc::new(Barrier::new(threads + 1));
    let spec = Arc::new(spec.clone());
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (table, start, spec) = (Arc::clone(&table), Arc::clone(&start), Arc::clone(&spec));
            std::thread::spawn(move || thread_loop(&table, &spec, t, &start, share))
        })
        .collect();
    start.wait();
    // Each thread reads the clock itself after the barrier: the spawner may not run again
    // until a pinned thread on its core has finished.
    let mut run =
        BareRun { ops: spec.ops * threads as u64, elapsed: Duration::ZERO, mismatches: 0, refused: 0 };
    let (mut first, mut last) = (None::<Instant>, None::<Instant>);
    for h in handles {
        let (m, r, began, ended) = h.join().expect("a bare thread panicked");
        run.mismatches += m;
        run.refused += r;
        first = Some(first.map_or(began, |f| f.min(began)));
        last = Some(last.map_or(ended, |l| l.max(ended)));
    }
    if let (Some(f), Some(l)) = (first, last) {
        run.elapsed = l.duration_since(f);
    }
    run
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bare_loop_runs_every_mix_without_mismatches() {
        for mix in [Mix::READ_HEAVY, Mix::CHURN, Mix { lookup: 10, insert: 45, remove: 45 }] {
            let spec = BareSpec {
                capacity: 1024,
                layout: Layout::Interleaved,
                line_bytes: 64,
                prefill: 0.5,
                mix,
                threads: 2,
                ops: 20_000,
                seed: 1,
                cores: Vec::new(),
            };
            let r = run(&spec);
            assert_eq!(r.ops, 40_000);
            assert_eq!(r.mismatches, 0, "{mix:?}");
            assert!(r.ops_per_s() > 0.0);
        }
    }
}
