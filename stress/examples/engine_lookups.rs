//! One lookup-only engine run, for profiling (`perf record`):
//!
//! ```sh
//! cargo run --release -p slotscope-stress --example engine_lookups [threads] [seconds] [time_every] [repeats]
//! ```

use std::time::Duration;

use slotscope_stress::{run_headless, GroupSpec, Mix, RunSpec, StopSpec, TableSpec};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut next = |default: f64| args.next().and_then(|a| a.parse().ok()).unwrap_or(default);
    let (threads, secs, time_every, repeats) = (next(1.0), next(2.0), next(1024.0), next(1.0));
    for _ in 0..repeats as usize {
        let spec = RunSpec {
            table: TableSpec { capacity: 1 << 16, prefill: 0.5, ..TableSpec::default() },
            groups: vec![GroupSpec {
                threads: threads as usize,
                mix: Mix { lookup: 1, insert: 0, remove: 0 },
                ..GroupSpec::default()
            }],
            stop: StopSpec::Duration(Duration::from_secs_f64(secs)),
            time_every: time_every as u32,
            ..RunSpec::default()
        };
        let r = run_headless(spec).expect("the run starts");
        println!(
            "{:.1} M lookups/s, timer {:.1} ns/read",
            r.throughput_ops_per_s / 1e6,
            r.timing.ns_per_read
        );
    }
}
