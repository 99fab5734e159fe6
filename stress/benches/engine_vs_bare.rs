//! The engine against the bare loop (`slotscope_stress::bare`): the same table, mix, keys,
//! seed and threads, pinned the same way, one after the other in one process, alternating,
//! medians of repeats. Prints ns per op of each and their ratio (engine / bare: 1.00 means the
//! tool shows the table's own cost).
//!
//! ```sh
//! cargo bench -p slotscope-stress --bench engine_vs_bare -- [--repeats N] [--ops N] [--threads 1,2] [--log2 16,20] [--mix read-heavy,churn,exchange] [--time-every K] [--no-probes] [--only bare|engine]
//! ```
//!
//! The engine runs headless with its default settings (timing, probes, self-check), as
//! `slotscope run read-heavy --mix M --capacity N -t T --ops O` does (`--time-every K`
//! overrides its timing); both sides' throughput is all ops over the span from the first
//! thread's first op to the last thread's last (after the prefill).

use std::time::Duration;

use slotscope_stress::bare::{self, BareSpec};
use slotscope_stress::machine::pin::available_cores;
use slotscope_stress::scenario::{load_builtin, ValidationContext};
use slotscope_stress::{run_headless, Mix, PinPolicy, StopSpec};
use slotscope_table::Layout;

/// The engine's ops per second measured as the bare loop's are: all ops over the span from
/// the first thread's first op to the last thread's last.
fn engine_ops_per_s(report: &slotscope_stress::Report) -> f64 {
    let first = report.threads.iter().map(|t| t.started_ns).min().unwrap_or(0);
    let last = report.threads.iter().map(|t| t.stopped_ns).max().unwrap_or(0);
    #[allow(clippy::cast_precision_loss)]
    let (ops, span) = (report.totals.ops() as f64, last.saturating_sub(first).max(1) as f64);
    ops * 1e9 / span
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn list<T: std::str::FromStr + Clone>(args: &[String], flag: &str, default: &[T]) -> Vec<T> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

fn mix_of(name: &str) -> Mix {
    match name {
        "read-heavy" => Mix::READ_HEAVY,
        "churn" => Mix::CHURN,
        "exchange" => Mix { lookup: 10, insert: 45, remove: 45 },
        other => panic!("unknown mix {other} (read-heavy, churn, exchange)"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let repeats = list(&args, "--repeats", &[5usize])[0];
    let threads_list = list(&args, "--threads", &[1usize, 2]);
    let log2_list = list(&args, "--log2", &[16u32, 20]);
    let mixes = list(&args, "--mix", &["read-heavy".to_owned(), "churn".to_owned(), "exchange".to_owned()]);
    let ops_arg = list(&args, "--ops", &[0u64])[0];
    let time_every = list(&args, "--time-every", &[0u32]).first().copied().filter(|&k| k > 0);
    let no_probes = args.iter().any(|a| a == "--no-probes");
    // `--only bare` or `--only engine`: one side alone (for `perf stat` and the like).
    let only: Option<String> =
        list(&args, "--only", &[String::new()]).into_iter().next().filter(|s| !s.is_empty());
    let cores = available_cores();
    println!(
        "engine (headless defaults) against the bare loop; {repeats} repeats alternating, medians; cores {cores:?}"
    );
    println!(
        "{:<11} {:>7} {:>6} {:>12} {:>12} {:>8} {:>8}",
        "mix", "threads", "slots", "bare ns/op", "engine ns/op", "ratio", "spread"
    );
    for mix_name in &mixes {
        for &threads in &threads_list {
            for &log2 in &log2_list {
                let capacity = 1usize << log2;
                let mix = mix_of(mix_name);
                // About half a second of work per run at a few ns per op.
                let ops = if ops_arg > 0 {
                    ops_arg
                } else if log2 >= 20 {
                    4_000_000
                } else {
                    20_000_000
                };
                // What `slotscope run read-heavy --mix .. --capacity .. -t .. --ops ..` runs.
                let mut spec =
                    load_builtin("read-heavy", &ValidationContext::detect()).expect("built-in").spec;
                spec.seed = 1;
                spec.table.capacity = capacity;
                spec.table.prefill = 0.5;
                spec.stop = StopSpec::Ops(ops);
                for g in &mut spec.groups {
                    g.threads = threads;
                    g.mix = mix;
                    g.pin = PinPolicy::Compact;
                }
                if let Some(k) = time_every {
                    spec.time_every = k;
                }
                if no_probes {
                    spec.probes = false;
                }
                let bare_spec = BareSpec {
                    capacity,
                    layout: Layout::Interleaved,
                    line_bytes: 64,
                    prefill: 0.5,
                    mix,
                    threads,
                    ops,
                    seed: 1,
                    cores: cores.clone(),
                };
                let (mut b, mut e, mut ratios) = (vec![], vec![], vec![]);
                for _ in 0..repeats {
                    if only.as_deref() == Some("bare") {
                        let br = bare::run(&bare_spec);
                        b.push(br.elapsed.as_secs_f64());
                        continue;
                    }
                    if only.as_deref() == Some("engine") {
                        let report = run_headless(spec.clone()).expect("the engine runs");
                        e.push(report.wall_ns as f64);
                        continue;
                    }
                    let br = bare::run(&bare_spec);
                    assert_eq!(br.mismatches, 0);
                    let report = run_headless(spec.clone()).expect("the engine runs");
                    assert_eq!(report.checks.violations.count, 0);
                    // ns per op per thread: the time one thread spends on one op.
                    #[allow(clippy::cast_precision_loss)]
                    let per = |ops_per_s: f64| 1e9 * threads as f64 / ops_per_s;
                    let (bn, en) = (per(br.ops_per_s()), per(engine_ops_per_s(&report)));
                    b.push(bn);
                    e.push(en);
                    ratios.push(en / bn);
                    std::thread::sleep(Duration::from_millis(50));
                }
                if only.is_some() {
                    continue;
                }
                let spread = {
                    let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
                    let hi = ratios.iter().copied().fold(0.0, f64::max);
                    format!("{lo:.2}-{hi:.2}")
                };
                println!(
                    "{:<11} {:>7} {:>6} {:>12.2} {:>12.2} {:>8.2} {:>8}",
                    mix_name,
                    threads,
                    format!("2^{log2}"),
                    median(b),
                    median(e),
                    median(ratios),
                    spread
                );
            }
        }
    }
}
