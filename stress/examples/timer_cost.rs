//! What one clock reading costs: the engine's clock on the time-stamp counter (where the CPU
//! declares it invariant) against `Instant` (the OS clock, `clock_gettime` via the vDSO on
//! Linux). Each figure is the median of `rounds` measurements of 100k back-to-back reads.
//!
//! ```sh
//! cargo run --release -p slotscope-stress --example timer_cost [rounds]
//! ```

use slotscope_stress::{measure_read_cost, Clock, TimeSource};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(11);
    let best = Clock::best();
    let os = Clock::new();
    let tsc: Vec<f64> = (0..rounds).map(|_| measure_read_cost(&best, 100_000)).collect();
    let instant: Vec<f64> = (0..rounds).map(|_| measure_read_cost(&os, 100_000)).collect();
    match best.source() {
        TimeSource::Tsc => println!("tsc      {:.2} ns per read (median of {rounds})", median(tsc)),
        TimeSource::Instant => println!("tsc      not used here (not invariant or calibrations disagreed)"),
    }
    println!("instant  {:.2} ns per read (median of {rounds})", median(instant));
}
