//! What checking costs: the linearizability search on windows of k overlapping ops on one key
//! (the worst case: every op overlaps every other), time per window, median of repeats. The
//! per-key checks on real traces are measured with `slotscope check` (docs/PERFORMANCE.md).
//!
//! ```sh
//! cargo run --release -p slotscope-stress --example check_cost
//! ```

use std::time::{Duration, Instant};

use slotscope_stress::OpKind;
use slotscope_trace::history::lin::{check_window, SearchLimits, WindowResult};
use slotscope_trace::history::Op;
use slotscope_trace::Value;
use slotscope_trace::{OpOrigin, OpOutcome};

/// k ops that all overlap: one insert of value 1, then lookups that hit it, misses, and a
/// remove, in a shape whose only linearizations put the misses first.
fn window(k: usize, broken: bool) -> Vec<Op> {
    let mut ops = Vec::new();
    let op = |kind, outcome, value: Option<u64>, i: usize| Op {
        event: i as u64,
        thread: i as u32,
        op_index: 0,
        kind,
        outcome,
        origin: OpOrigin::Run,
        key: Some(1),
        value: value.map(|seq| Value { thread: 0, seq }),
        start: i as u64,
        end: 1_000 + i as u64,
    };
    ops.push(op(OpKind::Insert, OpOutcome::Inserted, Some(1), 0));
    for i in 1..k {
        let o = match i % 3 {
            0 => op(OpKind::Lookup, OpOutcome::Miss, None, i),
            _ => op(OpKind::Lookup, OpOutcome::Hit, Some(1), i),
        };
        ops.push(o);
    }
    if broken {
        // A hit of a value never stored: no order explains it, so the search is exhaustive.
        ops.push(op(OpKind::Lookup, OpOutcome::Hit, Some(2), k));
    }
    ops
}

/// k ops that all overlap and all change the state: k/2 inserts of distinct values and k/2
/// successful removes (some alternation of them explains it). The search's hard case.
fn writers(k: usize) -> Vec<Op> {
    (0..k)
        .map(|i| Op {
            event: i as u64,
            thread: i as u32,
            op_index: 0,
            kind: if i % 2 == 0 { OpKind::Insert } else { OpKind::Remove },
            outcome: if i % 2 == 0 { OpOutcome::Inserted } else { OpOutcome::Removed },
            origin: OpOrigin::Run,
            key: Some(1),
            value: (i % 2 == 0).then_some(Value { thread: 0, seq: i as u64 }),
            start: i as u64,
            end: 1_000 + i as u64,
        })
        .collect()
}

fn main() {
    let limits = SearchLimits { time: Duration::from_secs(5), max_ops: 4096 };
    println!(
        "{:>4} {:>12} {:>14} {:>22} {:>22}",
        "k", "reads: result", "median time", "broken reads: time", "writers: time"
    );
    for k in [2usize, 4, 8, 12, 16, 20, 24] {
        let mut times = Vec::new();
        let mut bad_times = Vec::new();
        let mut result = String::new();
        let mut bad_result = String::new();
        for _ in 0..5 {
            let w = window(k, false);
            let refs: Vec<&Op> = w.iter().collect();
            let t = Instant::now();
            let r = check_window(&refs, &[None], limits);
            times.push(t.elapsed());
            result = match r {
                WindowResult::Ok(_) => "ok".into(),
                WindowResult::Violation { .. } => "violation".into(),
                WindowResult::Unknown => "unknown".into(),
            };
            let w = window(k, true);
            let refs: Vec<&Op> = w.iter().collect();
            let t = Instant::now();
            let r = check_window(&refs, &[None], limits);
            bad_times.push(t.elapsed());
            bad_result = match r {
                WindowResult::Ok(_) => "ok".into(),
                WindowResult::Violation { .. } => "violation".into(),
                WindowResult::Unknown => "unknown".into(),
            };
        }
        let mut writer_times = Vec::new();
        let mut writer_result = String::new();
        for _ in 0..5 {
            let w = writers(k);
            let refs: Vec<&Op> = w.iter().collect();
            let t = Instant::now();
            let r = check_window(&refs, &[None], limits);
            writer_times.push(t.elapsed());
            writer_result = match r {
                WindowResult::Ok(_) => "ok".into(),
                WindowResult::Violation { .. } => "violation".into(),
                WindowResult::Unknown => "unknown".into(),
            };
        }
        times.sort();
        bad_times.sort();
        writer_times.sort();
        println!(
            "{k:>4} {result:>12} {:>14?} {:>12?} ({bad_result}) {:>12?} ({writer_result})",
            times[2], bad_times[2], writer_times[2]
        );
    }
}
