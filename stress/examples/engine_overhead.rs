//! What the engine costs: lookups/s through the engine against lookups/s of a bare loop over
//! `table.reader()`, at the same thread count and keys; and what a sampler at 10 and 30 Hz
//! (snapshots on) costs the workers.
//!
//! ```sh
//! cargo run --release -p slotscope-stress --example engine_overhead [seconds per run] [repeats] [lookups|all] [log2 slots]
//! ```
//!
//! `lookups` stops after the lookup comparison (no sampler runs); `log2 slots` sizes the table
//! (default 16: 2^16 slots, L2-resident; 20 makes lookups miss the caches).
//!
//! Each figure is the median of the repeats. Both sides look up random keys the thread itself
//! inserted (half of a 2^16-slot table, each thread its share), check the value, and repin
//! every 256 lookups; both draw one random number per lookup, the engine also chooses the op,
//! folds its digest and counts.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use slotscope_stress::machine::pin::{available_cores, pin_current_thread};
use slotscope_stress::scale_draw as scale;
use slotscope_stress::thread_stream;
use slotscope_stress::{
    Engine, GroupSpec, KeyChoice, Mix, PinPolicy, RunSpec, Sample, SamplerOptions, StopSpec, TableSpec,
};
use slotscope_table::{Key, Table};
use slotscope_trace::Value;

const SEED: u64 = 42;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Lookups/s of `threads` bare reader loops over their own keys.
fn raw_lookups(threads: usize, run: Duration, capacity: usize) -> f64 {
    let table: Arc<Table<Value>> = Arc::new(Table::with_capacity(capacity).unwrap());
    let per_thread = capacity / 2 / threads;
    let cores = available_cores();
    let stop = Arc::new(AtomicBool::new(false));
    let total = Arc::new(AtomicU64::new(0));
    let start = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (table, stop, total, start) = (table.clone(), stop.clone(), total.clone(), start.clone());
            let core = cores[t % cores.len()];
            std::thread::spawn(move || {
                pin_current_thread(core);
                // Each thread inserts its own keys, as the engine's workers do.
                let keys: Vec<(Key, Value)> = (0..per_thread as u64)
                    .map(|seq| {
                        let v = Value { thread: t as u64, seq };
                        (table.insert(v).unwrap(), v)
                    })
                    .collect();
                let mut rng = thread_stream(SEED, t);
                let mut reader = table.reader();
                let (mut ops, mut bad) = (0u64, 0u64);
                start.wait();
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..256 {
                        let (k, v) = keys[scale(rng.next_u64(), keys.len())];
                        if reader.get(k) != Some(&v) {
                            bad += 1;
                        }
                    }
                    ops += 256;
                    reader.repin();
                }
                assert_eq!(bad, 0);
                total.fetch_add(ops, Ordering::Relaxed);
            })
        })
        .collect();
    start.wait();
    let began = Instant::now();
    std::thread::sleep(run);
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().unwrap();
    }
    total.load(Ordering::Relaxed) as f64 / began.elapsed().as_secs_f64()
}

fn spec(threads: usize, mix: Mix, run: Duration, time_every: u32, probes: bool, capacity: usize) -> RunSpec {
    RunSpec {
        name: "overhead".into(),
        table: TableSpec { capacity, prefill: 0.5, ..TableSpec::default() },
        groups: vec![GroupSpec {
            name: "main".into(),
            threads,
            mix,
            keys: KeyChoice::Uniform,
            pin: PinPolicy::Compact,
            ..GroupSpec::default()
        }],
        stop: StopSpec::Duration(run),
        seed: SEED,
        time_every,
        probes,
        ..RunSpec::default()
    }
}

/// Ops/s of an engine run, with a sampler at `hz` on this thread (pinned to `sampler_core` if
/// given) if asked; and the sampler's mean cost per sample.
fn engine_run(spec: RunSpec, hz: Option<u32>, sampler_core: Option<usize>) -> (f64, Duration) {
    let engine = Engine::start(spec).unwrap();
    let mut cost = Duration::ZERO;
    if let Some(hz) = hz {
        let mut sampler = engine.sampler(SamplerOptions::default());
        let done = Arc::new(AtomicBool::new(false));
        let sampling = {
            let done = Arc::clone(&done);
            std::thread::spawn(move || {
                if let Some(c) = sampler_core {
                    pin_current_thread(c);
                }
                let mut sample = Sample::new();
                let period = Duration::from_secs_f64(1.0 / f64::from(hz));
                let mut next = Instant::now();
                while !done.load(Ordering::Relaxed) {
                    sampler.sample_into(&mut sample);
                    next += period;
                    std::thread::sleep(next.saturating_duration_since(Instant::now()));
                }
                sample.sampler_cost_mean
            })
        };
        engine.wait(None);
        done.store(true, Ordering::Relaxed);
        cost = sampling.join().unwrap();
    } else {
        engine.wait(None);
    }
    let report = engine.stop();
    assert!(report.passed(), "{:?}", report.checks.violations);
    (report.throughput_ops_per_s, cost)
}

/// Throughput without a sampler, at 10 Hz and at 30 Hz (medians), and the cost per sample.
fn sampler_effect(repeats: usize, make: impl Fn() -> RunSpec, sampler_core: Option<usize>) {
    let (mut base, mut at10, mut at30) = (Vec::new(), Vec::new(), Vec::new());
    let (mut cost10, mut cost30) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..repeats {
        base.push(engine_run(make(), None, None).0);
        let (t, c) = engine_run(make(), Some(10), sampler_core);
        at10.push(t);
        cost10 = c;
        let (t, c) = engine_run(make(), Some(30), sampler_core);
        at30.push(t);
        cost30 = c;
    }
    let base = median(base);
    let (a, b) = (median(at10), median(at30));
    println!("      no sampler {:>6.2} M ops/s", base / 1e6);
    println!(
        "      10 Hz      {:>6.2} M ops/s ({:+.1}%), {:?} per sample",
        a / 1e6,
        100.0 * (a - base) / base,
        cost10
    );
    println!(
        "      30 Hz      {:>6.2} M ops/s ({:+.1}%), {:?} per sample",
        b / 1e6,
        100.0 * (b - base) / base,
        cost30
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let run = Duration::from_secs_f64(args.next().and_then(|a| a.parse().ok()).unwrap_or(1.0));
    let repeats: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let lookups = Mix { lookup: 1, insert: 0, remove: 0 };
    let only_lookups = args.next().is_some_and(|a| a == "lookups");
    let log2: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(16);
    let capacity = 1usize << log2;
    println!(
        "cores available: {:?}; {} s per run, median of {repeats}",
        available_cores(),
        run.as_secs_f64()
    );
    println!("table: 2^{log2} slots, half full, uniform random own keys; values checked");
    for threads in [1, 2] {
        let mut raw = Vec::new();
        let mut sparse = Vec::new();
        let mut unprobed = Vec::new();
        let mut every = Vec::new();
        for _ in 0..repeats {
            raw.push(raw_lookups(threads, run, capacity));
            sparse.push(engine_run(spec(threads, lookups, run, 1024, true, capacity), None, None).0);
            unprobed.push(engine_run(spec(threads, lookups, run, 1024, false, capacity), None, None).0);
            every.push(engine_run(spec(threads, lookups, run, 1, true, capacity), None, None).0);
        }
        let raw = median(raw);
        let show = |name: &str, v: Vec<f64>| {
            let m = median(v);
            println!(
                "  {threads} thr  {name:<34} {:>7.1} M lookups/s  ({:>5.1}% of raw)",
                m / 1e6,
                100.0 * m / raw
            );
        };
        println!("  {threads} thr  {:<34} {:>7.1} M lookups/s", "raw reader loop", raw / 1e6);
        show("engine, 1 in 1024 timed, probes", sparse);
        show("engine, 1 in 1024 timed, no probes", unprobed);
        show("engine, every op timed, probes", every);
    }
    if only_lookups {
        return;
    }
    println!("sampler cost (snapshots on, default options):");
    let cores = available_cores();
    for (name, mix) in [("read-heavy 98/1/1", Mix::READ_HEAVY), ("exchange 10/45/45", Mix::EXCHANGE)] {
        if cores.len() >= 2 {
            println!("  {name}, 1 worker on core {}, sampler pinned to core {}:", cores[0], cores[1]);
            let one = || {
                let mut s = spec(1, mix, run, 1024, true, capacity);
                s.groups[0].pin = PinPolicy::Cores(vec![cores[0]]);
                s
            };
            sampler_effect(repeats, one, Some(cores[1]));
        }
        println!("  {name}, {} workers (one per core), sampler unpinned (competes for a core):", cores.len());
        sampler_effect(repeats, || spec(cores.len(), mix, run, 1024, true, capacity), None);
    }
}
