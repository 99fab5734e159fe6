//! Instructions per lookup, engine against a bare reader loop, counted by valgrind rather than
//! timed (so that a loaded machine does not blur the comparison):
//!
//! ```sh
//! cargo build --release -p slotscope-stress --example op_instructions
//! for n in 200000 1200000; do
//!   valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
//!     target/release/examples/op_instructions engine $n [log2 slots] 2>&1 | grep 'I *refs'
//! done   # (difference) / 1000000 = instructions per engine lookup; same with `raw`
//! ```
//!
//! One thread, 2^16 slots half full, uniform random own keys, values checked, a repin every
//! 256 lookups on both sides; the engine times 1 op in 1024, with probes on (`engine`) or off
//! (`engine-noprobe`).

use slotscope_stress::scale_draw as scale;
use slotscope_stress::thread_stream;
use slotscope_stress::{run_headless, GroupSpec, Mix, PinPolicy, RunSpec, StopSpec, TableSpec};
use slotscope_table::{Key, Table};
use slotscope_trace::Value;

fn raw(n: u64, capacity: usize) -> u64 {
    let table: Table<Value> = Table::with_capacity(capacity).unwrap();
    let keys: Vec<(Key, Value)> = (0..(capacity / 2) as u64)
        .map(|seq| {
            let v = Value { thread: 0, seq };
            (table.insert(v).unwrap(), v)
        })
        .collect();
    let mut rng = thread_stream(42, 0);
    let mut reader = table.reader();
    let mut bad = 0;
    for _ in 0..n / 256 {
        for _ in 0..256 {
            let (k, v) = keys[scale(rng.next_u64(), keys.len())];
            if reader.get(k) != Some(&v) {
                bad += 1;
            }
        }
        reader.repin();
    }
    bad
}

fn engine(n: u64, probes: bool, capacity: usize) -> u64 {
    let spec = RunSpec {
        table: TableSpec { capacity, prefill: 0.5, ..TableSpec::default() },
        groups: vec![GroupSpec {
            threads: 1,
            mix: Mix { lookup: 1, insert: 0, remove: 0 },
            pin: PinPolicy::None,
            ..GroupSpec::default()
        }],
        stop: StopSpec::Ops(n),
        time_every: 1024,
        probes,
        seed: 42,
        ..RunSpec::default()
    };
    run_headless(spec).expect("the run starts").checks.violations.count
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "engine".into());
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let capacity = 1usize << args.next().and_then(|a| a.parse::<u32>().ok()).unwrap_or(16);
    let bad = match mode.as_str() {
        "raw" => raw(n, capacity),
        "engine" => engine(n, true, capacity),
        "engine-noprobe" => engine(n, false, capacity),
        other => panic!("mode `{other}`: raw, engine or engine-noprobe"),
    };
    assert_eq!(bad, 0);
}
