//! The bug zoo (`table/IMPLEMENTATION.md`, "Broken on purpose") against the checker: each
//! broken variant, run on the built-in scenario that suits it, recorded (fenced timestamps,
//! lossless) and checked with the ε its header measured, must be caught; the correct table
//! must give no violation on any built-in scenario, and its recordings must re-execute without
//! divergence. Runs are op-counted and short; nothing depends on speed.

use std::path::Path;

use slotscope_stress::recorder::RecordOptions;
use slotscope_stress::scenario::{load_builtin, ValidationContext, BUILTINS};
use slotscope_stress::{run_headless_recorded, PinPolicy, RunSpec, StopSpec};
use slotscope_table::Variant;
use slotscope_trace::history::{check, check_file, CheckOptions, CheckOutcome, FindingKind, History};
use slotscope_trace::reexec::reexecute;

fn builtin(name: &str, variant: Variant, ops: u64) -> RunSpec {
    let mut spec = load_builtin(name, &ValidationContext::detect()).unwrap().spec;
    spec.table.variant = variant;
    spec.stop = StopSpec::Ops(ops);
    for g in &mut spec.groups {
        // Slow open-loop rates would make op-counted runs long; the op streams stay the same.
        if g.rate.is_some_and(|r| r < 50_000.0) {
            g.rate = None;
        }
        g.pin = PinPolicy::None;
    }
    spec
}

/// Records `spec` and checks the trace as `slotscope check` does (streaming, with the
/// header's ε); the whole history, checked in memory, must come to the same verdict.
fn record_and_check(spec: RunSpec, dir: &Path) -> (History, CheckOutcome) {
    let path = dir.join(format!("{}-{}.trace", spec.name, spec.table.variant));
    let report = run_headless_recorded(spec, &RecordOptions::new(&path)).unwrap();
    let rec = report.recording.unwrap();
    assert!(rec.error.is_none(), "{rec:?}");
    assert_eq!(rec.dropped, 0, "recording is lossless");
    let history = History::read(&path).unwrap();
    let streamed = check_file(&path, &CheckOptions::default(), &mut |_| {}).unwrap().outcome;
    let whole = check(&history, &CheckOptions::default());
    let kinds = |o: &CheckOutcome| {
        let mut k: Vec<FindingKind> = o.violations.iter().map(|f| f.kind).collect();
        k.sort();
        k.dedup();
        k
    };
    assert_eq!(
        streamed.failed(),
        whole.failed(),
        "streamed:\n{}whole:\n{}",
        summary(&streamed),
        summary(&whole)
    );
    assert_eq!(kinds(&streamed), kinds(&whole));
    assert!(streamed.epsilon_ns > 0 && streamed.epsilon_note.is_none(), "the header's measured ε is used");
    (history, streamed)
}

fn summary(out: &CheckOutcome) -> String {
    let mut s = String::new();
    for f in out.violations.iter().take(5) {
        s.push_str(&format!("  {}: {}\n", f.kind.name(), f.message));
    }
    for f in out.incomplete.iter().take(5) {
        s.push_str(&format!("  (incomplete) {}: {}\n", f.kind.name(), f.message));
    }
    s.push_str(&format!("  notes: {:?}\n", out.notes));
    s
}

#[test]
fn no_generation_check_is_caught_on_stale_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (_, out) = record_and_check(builtin("stale-keys", Variant::NoGenerationCheck, 20_000), dir.path());
    assert!(out.failed(), "not caught:\n{}", summary(&out));
    let first = &out.violations[0];
    assert!(
        matches!(first.kind, FindingKind::ForeignValue | FindingKind::StaleRead),
        "first finding: {}\n{}",
        first.kind.name(),
        summary(&out)
    );
}

/// A race shows with some probability per op (a few in 10^5 ops on a 2-core machine, more
/// when threads are preempted mid-remove): up to five recordings, each long enough to expect
/// several occurrences, and the first that shows it must be caught.
#[test]
fn relaxed_ring_is_caught_on_ring_race() {
    let dir = tempfile::tempdir().unwrap();
    let mut last = String::new();
    for attempt in 0..5 {
        let mut spec = builtin("ring-race", Variant::RelaxedRing, 100_000);
        spec.seed += attempt;
        let (_, out) = record_and_check(spec, dir.path());
        if out.failed() {
            assert!(
                out.violations.iter().all(|f| f.kind != FindingKind::ForeignValue),
                "relaxed-ring loses inserts, it does not alias keys:\n{}",
                summary(&out)
            );
            return;
        }
        last = summary(&out);
    }
    panic!("five recordings of relaxed-ring on ring-race, none caught:\n{last}");
}

#[test]
fn the_correct_table_passes_every_builtin_scenario_and_reexecutes() {
    let dir = tempfile::tempdir().unwrap();
    for b in BUILTINS {
        let (history, out) = record_and_check(builtin(b.name, Variant::Correct, 3_000), dir.path());
        assert!(!out.failed(), "scenario {}:\n{}", b.name, summary(&out));
        assert!(
            !out.has_unknowns(),
            "scenario {}: nothing was dropped or left undecided:\n{}",
            b.name,
            summary(&out)
        );
        assert!(out.ops_checked > 0);
        let re = reexecute(&history);
        assert!(re.first.is_none(), "scenario {}: {}", b.name, re.first.unwrap());
        assert!(re.applied > 0 && re.unmapped == 0, "scenario {}: {re:?}", b.name);
    }
}
