//! The case that once made the checker accuse the correct table: a full table (capacity 16,
//! prefill 1.0) hammered by two threads, where most inserts are refused with `Full` and the
//! checker must tell a legal refusal from a false one across cores. Every seed is recorded
//! and checked; each must come out clean: no violation, nothing incomplete, no window
//! unknown. Runs are op-counted; nothing depends on speed. The suite runs under both
//! allocators: with magazines, a refusal may also leave ids in the other writers' magazines,
//! and the checker must allow exactly that slack, no more.

use slotscope_stress::recorder::RecordOptions;
use slotscope_stress::scenario::{load_builtin, ValidationContext};
use slotscope_stress::{run_headless_recorded, StopSpec};
use slotscope_table::Allocator;
use slotscope_trace::history::{check_file, CheckOptions};

const SEEDS: u64 = 20;
const OPS: u64 = 60_000;

#[test]
fn a_full_table_checks_clean_on_every_seed() {
    full_table_checks_clean(Allocator::Ring);
}

#[test]
fn a_full_table_with_magazines_checks_clean_on_every_seed() {
    // Magazines of 2 (the smallest): with 4 writers, up to 6 of the 16 ids may sit in other
    // magazines at a refusal, so refusals stay checkable.
    full_table_checks_clean(Allocator::Magazine { size: 2 });
}

fn full_table_checks_clean(allocator: Allocator) {
    let dir = tempfile::tempdir().unwrap();
    let mut fulls = 0;
    for seed in 1..=SEEDS {
        let mut spec = load_builtin("stale-keys", &ValidationContext::detect()).unwrap().spec;
        spec.seed = seed;
        spec.table.capacity = 16;
        spec.table.prefill = 1.0;
        spec.table.allocator = allocator;
        spec.stop = StopSpec::Ops(OPS);
        for g in &mut spec.groups {
            g.threads = 2;
        }
        let path = dir.path().join(format!("full-{seed}.trace"));
        let report = run_headless_recorded(spec, &RecordOptions::new(&path)).unwrap();
        let rec = report.recording.unwrap();
        assert_eq!(rec.dropped, 0, "{allocator}, seed {seed}: {rec:?}");
        let checked = check_file(&path, &CheckOptions::default(), &mut |_| {}).unwrap();
        let whole = checked.is_whole();
        let out = checked.outcome;
        let first = out
            .violations
            .first()
            .or(out.incomplete.first())
            .map(|f| format!("{}: {}", f.kind.name(), f.message));
        assert!(
            out.violations.is_empty() && !out.has_unknowns() && whole,
            "{allocator}, seed {seed}: {} violations, {} incomplete, {} unknown windows; first: {first:?}; notes: {:?}",
            out.violations.len(),
            out.incomplete.len(),
            out.lin.unknown,
            out.notes
        );
        if allocator != Allocator::Ring {
            // The checker read the magazine size off the trace and said what slack it allowed.
            assert!(
                out.notes.iter().any(|n| n.contains("allowing up to") && n.contains("magazines")),
                "{allocator}, seed {seed}: no note on the magazines' slack: {:?}",
                out.notes
            );
        }
        fulls += out.fulls_checked;
    }
    assert!(
        fulls > SEEDS * 100,
        "{allocator}: the table was full often enough to matter: {fulls} refusals checked"
    );
}
