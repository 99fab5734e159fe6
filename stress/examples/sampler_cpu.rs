//! What a sampler (snapshots on, default options) costs the workers, in the workers' own CPU
//! time per op, so that a machine shared with other work does not decide the figure:
//!
//! ```sh
//! cargo run --release -p slotscope-stress --example sampler_cpu [seconds] [repeats]
//! ```
//!
//! Each run: start the engine (1 worker on the first core, read-heavy or exchange mix, 2^16
//! slots half full), read the worker thread's CPU time from `/proc/self/task/*/stat` (10 ms
//! ticks), let it run, read it again, stop; CPU ns per op = CPU time / ops in between. With a
//! sampler, it runs on its own thread pinned to the second core at 10 or 30 Hz; its own time
//! per sample is printed too. What this leaves out: a sampler without a core of its own also
//! takes CPU time away from a worker (preemption), which wall-clock throughput shows and this
//! does not.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use slotscope_stress::machine::pin::{available_cores, pin_current_thread};
use slotscope_stress::WORKER_THREAD_PREFIX;
use slotscope_stress::{
    Engine, GroupSpec, Mix, PinPolicy, RunSpec, Sample, SamplerOptions, StopSpec, TableSpec,
};

/// CPU seconds of every worker thread of this process, summed.
fn worker_cpu_seconds() -> f64 {
    let mut total = 0.0;
    for task in std::fs::read_dir("/proc/self/task").expect("/proc (Linux only)") {
        let dir = task.unwrap().path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if !comm.starts_with(WORKER_THREAD_PREFIX) {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("stat")).unwrap_or_default();
        let Some(close) = stat.rfind(')') else { continue };
        let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        total += (fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap()) / 100.0;
    }
    total
}

/// Worker CPU ns per op, and the sampler's mean time per sample.
fn run(mix: Mix, secs: f64, hz: Option<u32>) -> (f64, Duration) {
    let cores = available_cores();
    let spec = RunSpec {
        table: TableSpec { capacity: 1 << 16, prefill: 0.5, ..TableSpec::default() },
        groups: vec![GroupSpec {
            threads: 1,
            mix,
            pin: PinPolicy::Cores(vec![cores[0]]),
            ..GroupSpec::default()
        }],
        stop: StopSpec::Forever,
        time_every: 1024,
        seed: 42,
        ..RunSpec::default()
    };
    let engine = Engine::start(spec).expect("the run starts");
    let done = Arc::new(AtomicBool::new(false));
    let sampling = hz.map(|hz| {
        let mut sampler = engine.sampler(SamplerOptions::default());
        let done = Arc::clone(&done);
        let core = cores.get(1).copied();
        std::thread::spawn(move || {
            if let Some(c) = core {
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
    });
    let cpu0 = worker_cpu_seconds();
    std::thread::sleep(Duration::from_secs_f64(secs));
    let cpu1 = worker_cpu_seconds();
    done.store(true, Ordering::Relaxed);
    let cost = sampling.map_or(Duration::ZERO, |h| h.join().unwrap());
    let report = engine.stop();
    assert!(report.passed());
    (((cpu1 - cpu0) * 1e9) / report.totals.ops() as f64, cost)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let secs: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(3.0);
    let repeats: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    for (name, mix) in [("read-heavy 98/1/1", Mix::READ_HEAVY), ("exchange 10/45/45", Mix::EXCHANGE)] {
        let (mut base, mut at10, mut at30) = (Vec::new(), Vec::new(), Vec::new());
        let (mut c10, mut c30) = (Duration::ZERO, Duration::ZERO);
        for _ in 0..repeats {
            base.push(run(mix, secs, None).0);
            let (v, c) = run(mix, secs, Some(10));
            at10.push(v);
            c10 = c;
            let (v, c) = run(mix, secs, Some(30));
            at30.push(v);
            c30 = c;
        }
        let (b, a, t) = (median(base), median(at10), median(at30));
        println!(
            "{name}: worker CPU per op {b:.1} ns without a sampler; 10 Hz {a:.1} ns ({:+.1}% ops per CPU \
             second), {c10:?} per sample; 30 Hz {t:.1} ns ({:+.1}%), {c30:?} per sample (median of {repeats})",
            100.0 * (b / a - 1.0),
            100.0 * (b / t - 1.0)
        );
    }
}
