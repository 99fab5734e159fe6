//! The engine's own cost per lookup in CPU time rather than wall time, so that a machine
//! shared with other work (preemption) does not decide the figure: lookups through the engine
//! against a bare `table.reader()` loop, each thread doing a fixed number of lookups.
//!
//! ```sh
//! cargo run --release -p slotscope-stress --example engine_cpu [threads] [log2 slots] [repeats] [million lookups per thread]
//! ```
//!
//! The process's CPU time (user + system, from `/proc/self/stat`, 10 ms ticks) is read around
//! two runs of different lengths; the difference over the difference in lookups is the CPU
//! time per lookup, with table building, prefill and thread start cancelling out. Both sides
//! look up random keys the thread inserted itself (half of the table, each thread its share),
//! check the value and repin every 256 lookups; the engine times 1 op in 1024 with probes on.
//! Cache pollution by other processes still shows: compare the two columns, not the
//! absolute figures, and take the median of repeats (printed with the spread).

use std::sync::{Arc, Barrier};

use slotscope_stress::machine::pin::{available_cores, pin_current_thread};
use slotscope_stress::scale_draw as scale;
use slotscope_stress::thread_stream;
use slotscope_stress::{run_headless, GroupSpec, Mix, PinPolicy, RunSpec, StopSpec, TableSpec};
use slotscope_table::{Key, Table};
use slotscope_trace::Value;

/// CPU seconds this process has used (all threads), from `/proc/self/stat`.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat (Linux only)");
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0 // USER_HZ
}

fn raw(threads: usize, capacity: usize, lookups: u64) {
    let table: Arc<Table<Value>> = Arc::new(Table::with_capacity(capacity).unwrap());
    let per_thread = capacity / 2 / threads;
    let cores = available_cores();
    let start = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (table, start) = (Arc::clone(&table), Arc::clone(&start));
            let core = cores[t % cores.len()];
            std::thread::spawn(move || {
                pin_current_thread(core);
                let keys: Vec<(Key, Value)> = (0..per_thread as u64)
                    .map(|seq| {
                        let v = Value { thread: t as u64, seq };
                        (table.insert(v).unwrap(), v)
                    })
                    .collect();
                let mut rng = thread_stream(42, t);
                let mut reader = table.reader();
                let mut bad = 0u64;
                start.wait();
                for _ in 0..lookups / 256 {
                    for _ in 0..256 {
                        let (k, v) = keys[scale(rng.next_u64(), keys.len())];
                        if reader.get(k) != Some(&v) {
                            bad += 1;
                        }
                    }
                    reader.repin();
                }
                assert_eq!(bad, 0);
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

fn engine(threads: usize, capacity: usize, lookups: u64) {
    let spec = RunSpec {
        table: TableSpec { capacity, prefill: 0.5, ..TableSpec::default() },
        groups: vec![GroupSpec {
            threads,
            mix: Mix { lookup: 1, insert: 0, remove: 0 },
            pin: PinPolicy::Compact,
            ..GroupSpec::default()
        }],
        stop: StopSpec::Ops(lookups),
        time_every: 1024,
        seed: 42,
        ..RunSpec::default()
    };
    let r = run_headless(spec).expect("the run starts");
    assert!(r.passed());
}

/// CPU ns per lookup of `run`, by difference of a short and a long run.
fn per_lookup(run: &dyn Fn(u64), threads: usize, million: u64) -> f64 {
    let (short, long) = (million * 100_000, million * 1_100_000);
    let a = cpu_seconds();
    run(short);
    let b = cpu_seconds();
    run(long);
    let c = cpu_seconds();
    ((c - b) - (b - a)) * 1e9 / ((long - short) as f64 * threads as f64)
}

fn median(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn main() {
    let mut args = std::env::args().skip(1);
    let threads: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let log2: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(16);
    let repeats: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let million: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let capacity = 1usize << log2;
    let (mut raws, mut engines) = (Vec::new(), Vec::new());
    for _ in 0..repeats {
        raws.push(per_lookup(&|n| raw(threads, capacity, n), threads, million));
        engines.push(per_lookup(&|n| engine(threads, capacity, n), threads, million));
    }
    let ratios: Vec<f64> = raws.iter().zip(&engines).map(|(r, e)| r / e).collect();
    let (r, rlo, rhi) = median(raws);
    let (e, elo, ehi) = median(engines);
    let (q, qlo, qhi) = median(ratios);
    println!(
        "2^{log2} slots, {threads} thread(s), {million}M lookups per thread, median of {repeats}: raw {r:.1} ns \
         ({rlo:.1}..{rhi:.1}), engine {e:.1} ns ({elo:.1}..{ehi:.1}) CPU per lookup; engine throughput per \
         CPU = {:.0}% of raw ({:.0}..{:.0}%)",
        q * 100.0,
        qlo * 100.0,
        qhi * 100.0
    );
}
