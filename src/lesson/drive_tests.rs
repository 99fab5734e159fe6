//! Every built-in lesson, driven step by step against real engines without a UI: the changes
//! each step makes (restarts, splits, thread counts, rates, stalls, a held pin) must apply
//! without an error, and the engine must be in the state the lesson says. Each step runs for
//! a short while; nothing here depends on how fast the machine is.

use std::time::Duration;

use crate::lesson::{self, Change, Lesson};
use slotscope_stress::scenario::ValidationContext;
use slotscope_stress::{Engine, EngineOptions, Sample, SamplerOptions, StopSpec};

/// A stop that takes longer than this is a hang: the watchdog ends the test binary naming the
/// threads still running.
const STOP_LIMIT: Duration = Duration::from_secs(60);

/// How long each step runs.
const STEP: Duration = Duration::from_millis(300);

fn start(lesson: &Lesson, layout: Option<slotscope_table::Layout>) -> Engine {
    let mut spec = lesson.start_spec();
    spec.stop = StopSpec::Forever;
    if let Some(l) = layout {
        spec.table.layout = l;
    }
    Engine::start_with_options(spec, EngineOptions { garbage_gauge: true, ..EngineOptions::default() })
        .expect("the lesson's run starts")
}

/// Applies `changes` as the TUI does: to side A, and to side B while split (with B's layout).
fn apply_all(lesson: &Lesson, a: &Engine, b: &mut Option<Engine>, changes: &[Change], step: usize) {
    for change in changes {
        match change {
            Change::Split(Some(layout)) => {
                if let Some(old) = b.take() {
                    old.stop_watched(STOP_LIMIT);
                }
                *b = Some(start(lesson, Some(*layout)));
            }
            Change::Split(None) => {
                if let Some(old) = b.take() {
                    old.stop_watched(STOP_LIMIT);
                }
            }
            other => {
                lesson::apply(a, other, None)
                    .unwrap_or_else(|e| panic!("{} step {}: {other}: {e}", lesson.name, step + 1));
                if let Some(b) = b.as_ref() {
                    let keep = b.table_spec().layout;
                    lesson::apply(b, other, Some(keep)).unwrap_or_else(|e| {
                        panic!("{} step {} (side B): {other}: {e}", lesson.name, step + 1)
                    });
                }
            }
        }
    }
}

fn run_lesson(name: &str) {
    let ctx = ValidationContext::detect();
    let lesson = lesson::load_builtin(name, &ctx).unwrap();
    let a = start(&lesson, None);
    let mut b = lesson.initial_state().split.map(|l| start(&lesson, Some(l)));
    let mut sampler = a.sampler(SamplerOptions::default());
    let mut sample = Sample::new();
    let mut at = None;
    // Forward through every step, then back to the first.
    let order: Vec<usize> = (0..lesson.steps.len()).chain(std::iter::once(0)).collect();
    for to in order {
        let changes = lesson.transition(at, to);
        apply_all(&lesson, &a, &mut b, &changes, to);
        at = Some(to);
        std::thread::sleep(STEP);
        sampler.sample_into(&mut sample);
        let want = lesson.state_at(to);
        let table = a.table_spec();
        assert_eq!((table.layout, table.variant), (want.layout, want.variant), "{name} step {}", to + 1);
        assert_eq!(b.as_ref().map(|b| b.table_spec().layout), want.split, "{name} step {}", to + 1);
        assert_eq!(a.is_paused(), want.paused);
        assert!(!a.is_done(), "{name} step {}: the run must go on", to + 1);
        assert!(sample.garbage.is_some(), "lessons run with the garbage gauge");
        match (want.hold_pin, sample.pin_hold) {
            (Some(_), Some(h)) => assert!(h.held_for <= h.max + Duration::from_secs(1)),
            (Some(_), None) => panic!("{name} step {}: a pin should be held", to + 1),
            (None, Some(h)) => {
                assert!(h.released.is_some(), "{name} step {}: the pin must be let go", to + 1)
            }
            (None, None) => {}
        }
    }
    if let Some(b) = b {
        b.stop_watched(STOP_LIMIT);
    }
    let report = a.stop_watched(STOP_LIMIT);
    // Only a lesson that runs a broken variant may find violations.
    let broken = (0..lesson.steps.len()).any(|i| lesson.state_at(i).variant.is_broken());
    assert!(broken || report.passed(), "{name}: {:?}", report.checks.violations);
}

#[test]
fn false_sharing_runs() {
    run_lesson("false-sharing");
}

#[test]
fn hot_counter_runs() {
    run_lesson("hot-counter");
}

#[test]
fn aba_runs() {
    run_lesson("aba");
}

#[test]
fn coordinated_omission_runs() {
    run_lesson("coordinated-omission");
}

#[test]
fn epoch_stall_runs() {
    run_lesson("epoch-stall");
}

/// Not a test: figures for docs/LESSONS.md (`cargo test --release -p slotscope-stress --test
/// lessons_run -- --ignored --nocapture`). Prints what each lesson's key steps show here.
#[test]
#[ignore = "prints figures; run by hand"]
fn figures() {
    let ctx = ValidationContext::detect();
    for name in ["false-sharing", "hot-counter", "coordinated-omission", "epoch-stall"] {
        let lesson = lesson::load_builtin(name, &ctx).unwrap();
        let a = start(&lesson, None);
        let mut b = None;
        let mut sampler = a.sampler(SamplerOptions::default());
        let mut sample = Sample::new();
        let mut at = None;
        for to in 0..lesson.steps.len() {
            apply_all(&lesson, &a, &mut b, &lesson.transition(at, to), to);
            at = Some(to);
            sampler.sample_into(&mut sample);
            for _ in 0..6 {
                std::thread::sleep(Duration::from_millis(500));
                sampler.sample_into(&mut sample);
                let g = sample.garbage.map_or(0, |g| g.count.pending());
                let shared = sample.heat.slot_writers.iter().filter(|&&w| w >= 2).count();
                let ops = &sample.ops;
                println!(
                    "{name} step {} {:?}: {:.0} ops/s, p99 ins/rem {}/{} ns, corrected p99 lookup {} (uncorrected {}), sharing lines {shared}, header {} writes, garbage {g}",
                    to + 1,
                    a.table_spec().layout,
                    sample.ops_per_s,
                    ops[1].interval_summary.p99,
                    ops[2].interval_summary.p99,
                    ops[0].cumulative_corrected_summary.p99,
                    ops[0].cumulative_summary.p99,
                    sample.heat.header_writes,
                );
            }
        }
        if let Some(b) = b {
            b.stop_watched(STOP_LIMIT);
        }
        a.stop_watched(STOP_LIMIT);
    }
}

/// The A/B split stops a side that is paused (its turn is over): stopping must not hang, and
/// the paused time is not run time.
#[test]
fn an_engine_stopped_while_paused_stops() {
    let spec = slotscope_stress::RunSpec {
        stop: StopSpec::Forever,
        table: slotscope_stress::TableSpec { capacity: 1024, ..Default::default() },
        groups: vec![slotscope_stress::GroupSpec { threads: 1, rate: Some(1000.0), ..Default::default() }],
        ..Default::default()
    };
    let engine = Engine::start(spec).unwrap();
    engine.pause();
    let report = engine.stop_watched(STOP_LIMIT);
    assert!(report.paused_ns > 0, "the pause is counted, up to the stop");
    assert!(report.paused_ns <= report.wall_ns);
}
