//! What recording costs the workers: throughput of the same run with and without `--record`,
//! trace bytes per op, events dropped (lossy only) and the share of the run workers spent
//! waiting for the writer (lossless, the default). Alternates plain and recorded runs and
//! prints medians (the figures in docs/PERFORMANCE.md, "Recording"). `LOSSY=1` records with
//! `--record-lossy`.
//!
//! ```sh
//! cargo run --release -p slotscope-stress --example record_cost -- [SECONDS] [REPEATS] [SCENARIO...]
//! ```
//! Defaults: 2 s runs, 5 repeats, `read-heavy` and `churn`.

use std::time::Duration;

use slotscope_stress::recorder::RecordOptions;
use slotscope_stress::scenario::{load_builtin, ValidationContext};
use slotscope_stress::{run_headless, run_headless_recorded, StopSpec};

/// CPU seconds this process has used (user + system, all threads), from `/proc/self/stat`
/// (clock ticks of 10 ms). On a shared machine throughput depends on what else runs; CPU time
/// per op does much less.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let secs: f64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(2.0);
    let repeats: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let scenarios: Vec<String> =
        if args.len() > 2 { args[2..].to_vec() } else { vec!["read-heavy".into(), "churn".into()] };
    let dir = std::env::temp_dir().join(format!("slotscope-record-cost-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    println!("{secs} s runs, {repeats} repeats each, medians; threads as the scenario says");
    println!(
        "{:<12} {:>14} {:>14} {:>8} {:>10} {:>10} {:>10} {:>10} {:>12} {:>10}",
        "scenario",
        "plain ops/s",
        "recorded ops/s",
        "ratio",
        "plain CPU",
        "rec. CPU",
        "bytes/op",
        "dropped %",
        "trace MB/s",
        "waited %"
    );
    println!("{:<12} {:>14} {:>14} {:>8} {:>10} {:>10}", "", "", "", "", "ns/op", "ns/op");
    for name in &scenarios {
        let mut spec = load_builtin(name, &ValidationContext::detect()).unwrap().spec;
        spec.stop = StopSpec::Duration(Duration::from_secs_f64(secs));
        let (mut plain, mut recorded, mut bytes_per_op, mut dropped, mut mbps, mut waited) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        let lossy = std::env::var_os("LOSSY").is_some();
        let (mut plain_cpu, mut rec_cpu) = (vec![], vec![]);
        for i in 0..repeats {
            let c0 = cpu_seconds();
            let r = run_headless(spec.clone()).unwrap();
            #[allow(clippy::cast_precision_loss)]
            plain_cpu.push((cpu_seconds() - c0) * 1e9 / r.totals.ops().max(1) as f64);
            plain.push(r.throughput_ops_per_s);
            let path = dir.join(format!("{name}-{i}.trace"));
            let c0 = cpu_seconds();
            let mut options = RecordOptions::new(&path);
            options.lossy = lossy;
            let r = run_headless_recorded(spec.clone(), &options).unwrap();
            #[allow(clippy::cast_precision_loss)]
            rec_cpu.push((cpu_seconds() - c0) * 1e9 / r.totals.ops().max(1) as f64);
            recorded.push(r.throughput_ops_per_s);
            let rec = r.recording.clone().unwrap();
            let total = rec.events + rec.dropped;
            #[allow(clippy::cast_precision_loss)]
            {
                bytes_per_op.push(rec.bytes as f64 / rec.events.max(1) as f64);
                dropped.push(100.0 * rec.dropped as f64 / total.max(1) as f64);
                mbps.push(rec.bytes as f64 / 1e6 / r.active().as_secs_f64());
                // Waits summed over threads, against the threads' run time.
                let threads = r.threads.len().max(1) as f64;
                waited.push(100.0 * rec.waited_ns as f64 / 1e9 / (r.active().as_secs_f64() * threads));
            }
            std::fs::remove_file(&path).ok();
        }
        let (p, q) = (median(plain), median(recorded));
        println!(
            "{:<12} {:>14.0} {:>14.0} {:>8.2} {:>10.1} {:>10.1} {:>10.1} {:>10.2} {:>12.1} {:>10.2}",
            name,
            p,
            q,
            q / p,
            median(plain_cpu),
            median(rec_cpu),
            median(bytes_per_op),
            median(dropped),
            median(mbps),
            median(waited)
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}
