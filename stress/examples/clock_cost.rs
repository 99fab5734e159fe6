//! What a recorded op's fenced clock readings cost against the plain reading every timed
//! unrecorded op takes: `Clock::now_ns` (a bare `rdtsc` on an invariant TSC), `op_start_ns`
//! (`lfence; rdtsc; lfence`) and `op_end_ns` (`mfence; lfence; rdtsc`), back to back on one
//! pinned thread, rounds alternating, medians (the figures in docs/PERFORMANCE.md,
//! "Recording").
//!
//! ```sh
//! cargo run --release -p slotscope-stress --example clock_cost -- [ROUNDS] [READS]
//! ```
//! Defaults: 9 rounds of 10^7 readings each. Back-to-back readings measure the reading alone;
//! inside an op the `mfence` also waits for the op's stores to drain, which this does not
//! show (the recorded-run figures do).

use std::hint::black_box;
use std::time::Instant;

use slotscope_stress::machine::pin::{available_cores, pin_current_thread};
use slotscope_stress::Clock;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn per_read(reads: u64, f: impl Fn() -> u64) -> f64 {
    let t = Instant::now();
    let mut sink = 0u64;
    for _ in 0..reads {
        sink = sink.wrapping_add(f());
    }
    black_box(sink);
    #[allow(clippy::cast_precision_loss)]
    let ns = t.elapsed().as_secs_f64() * 1e9 / reads as f64;
    ns
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rounds: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(9);
    let reads: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10_000_000);
    let pinned = available_cores().first().is_some_and(|&c| pin_current_thread(c));
    let clock = Clock::best();
    let (mut plain, mut start, mut end) = (vec![], vec![], vec![]);
    for _ in 0..rounds {
        plain.push(per_read(reads, || clock.now_ns()));
        start.push(per_read(reads, || clock.op_start_ns()));
        end.push(per_read(reads, || clock.op_end_ns()));
    }
    let (p, s, e) = (median(plain), median(start), median(end));
    println!(
        "clock source: {}, pinned: {pinned}, {rounds} rounds of {reads} readings, medians",
        clock.source().name()
    );
    println!("{:<28} {:>8} {:>8}", "reading", "ns", "x plain");
    println!("{:<28} {:>8.1} {:>8.2}", "now_ns (plain)", p, 1.0);
    println!("{:<28} {:>8.1} {:>8.2}", "op_start_ns (lfence x2)", s, s / p);
    println!("{:<28} {:>8.1} {:>8.2}", "op_end_ns (mfence; lfence)", e, e / p);
    println!("{:<28} {:>8.1} {:>8.2}", "a recorded op's pair", s + e, (s + e) / (2.0 * p));
}
