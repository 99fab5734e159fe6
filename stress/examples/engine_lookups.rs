//! One engine run of lookups only, for profiling: `engine_lookups [threads] [seconds]`.
use slotscope_stress::*;
use std::time::Duration;
fn main() {
    let mut a = std::env::args().skip(1);
    let threads = a.next().and_then(|x| x.parse().ok()).unwrap_or(1);
    let secs: f64 = a.next().and_then(|x| x.parse().ok()).unwrap_or(2.0);
    let time_every: u32 = a.next().and_then(|x| x.parse().ok()).unwrap_or(1024);
    let repeats: usize = a.next().and_then(|x| x.parse().ok()).unwrap_or(1);
    for _ in 0..repeats {
        let spec = RunSpec {
            table: TableSpec { capacity: 1 << 16, prefill: 0.5, ..TableSpec::default() },
            groups: vec![GroupSpec {
                threads,
                mix: Mix { lookup: 1, insert: 0, remove: 0 },
                ..GroupSpec::default()
            }],
            stop: StopSpec::Duration(Duration::from_secs_f64(secs)),
            time_every,
            seed: 42,
            name: "overhead".into(),
            ..RunSpec::default()
        };
        let r = run_headless(spec).unwrap();
        println!(
            "{:.1} M lookups/s, timer {:.1} ns/read",
            r.throughput_ops_per_s / 1e6,
            r.timing.ns_per_read
        );
    }
}
