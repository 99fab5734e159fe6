//! What each built-in lesson claims, measured: every step that says an effect happens is run
//! headless, from the lesson's own settings at that step, [`RUNS`] times, and each run either
//! holds the claim or not. Deterministic effects (a stale key aliases, a held pin grows the
//! garbage, closed loop hides a stall) must hold in every run; contention effects are A/B
//! comparisons in alternating turns (`slotscope_stress::turns`) whose 95% interval must exclude
//! "no effect" in the claimed direction.
//!
//! It takes minutes and its figures depend on the machine, so it is an ignored test that
//! prints docs/LESSONS.md's claim table:
//!
//! ```text
//! cargo test --release --bin slotscope lesson::claims -- --ignored --nocapture
//! ```

use std::time::Duration;

use slotscope_stress::report::interval::{median, median_estimate, Estimate, Verdict};
use slotscope_stress::scenario::ValidationContext;
use slotscope_stress::turns::{self, TurnPlan};
use slotscope_stress::{Engine, EngineOptions, OpKind, Report, Sample, SamplerOptions, StopSpec};
use slotscope_table::Layout;

use crate::lesson::{self, Change, Lesson};

/// Runs per claim.
const RUNS: usize = 10;

/// The A/B claims' turns: shorter than `compare --layouts`' default, 10 of them.
const PLAN: TurnPlan = TurnPlan { turn: Duration::from_millis(300), turns: 10, warmup_rounds: 1 };

fn load(name: &str) -> Lesson {
    lesson::load_builtin(name, &ValidationContext::detect()).expect("a built-in lesson loads")
}

/// An engine in the state the lesson is in at `step` (0-based), side A's layout or `layout`.
fn engine_at(l: &Lesson, step: usize, layout: Option<Layout>) -> Engine {
    let mut spec = l.start_spec();
    spec.stop = StopSpec::Forever;
    let state = l.state_at(step);
    spec.table.layout = layout.unwrap_or(state.layout);
    spec.table.variant = state.variant;
    spec.table.allocator = state.allocator;
    lesson::start_threads(&mut spec, &state);
    let options = EngineOptions { garbage_gauge: true, ..EngineOptions::default() };
    let engine = Engine::start_with_options(spec, options).expect("the lesson's run starts");
    for change in lesson::diff(&l.initial_state(), &l.state_at(step)) {
        if !matches!(
            change,
            Change::Split(_) | Change::Pause(_) | Change::Threads { .. } | Change::Table { .. }
        ) {
            lesson::apply(&engine, &change, None).expect("the step's change applies");
        }
    }
    engine
}

/// Runs `engine` for `d` and stops it.
fn run_for(engine: Engine, d: Duration) -> Report {
    std::thread::sleep(d);
    engine.stop()
}

/// Samples `engine` ten times, 100 ms apart (after 300 ms of warm-up), maps each sample to a
/// value, and stops the engine.
fn every_100ms(engine: Engine, value: impl Fn(&Sample) -> f64) -> Vec<f64> {
    let mut s = engine.sampler(SamplerOptions { snapshots: false, ..SamplerOptions::default() });
    let mut sample = Sample::new();
    std::thread::sleep(Duration::from_millis(300));
    s.sample_into(&mut sample);
    let mut values = Vec::new();
    for _ in 0..10 {
        std::thread::sleep(Duration::from_millis(100));
        s.sample_into(&mut sample);
        values.push(value(&sample));
    }
    drop(s);
    let _ = engine.stop();
    values
}

/// One measured run of a claim: its effect (in the claim's unit), an interval when the
/// effect is a comparison, and whether it held.
struct Outcome {
    effect: f64,
    interval: Option<Estimate>,
    held: bool,
}

/// What an A/B claim says of B against A.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// The interval lies wholly on this side of 1.0.
    Is(Verdict),
    /// The interval does not lie wholly above 1.0 (B is not faster).
    NotHigher,
}

/// B against A in alternating turns: the ops/s ratio's interval, and whether it says `want`.
fn ab(a: &Engine, b: &Engine, want: Expect) -> Outcome {
    let t = turns::alternate(&[a, b], &PLAN, |_| true);
    let (_, vs) = turns::summarize(&t);
    let r = vs[1].ops_per_s;
    let held = match want {
        Expect::Is(v) => vs[1].verdict == v,
        Expect::NotHigher => !matches!(vs[1].verdict, Verdict::Higher | Verdict::TooFewTurns),
    };
    Outcome { effect: r.map_or(f64::NAN, |e| e.median), held, interval: r }
}

struct Claim {
    lesson: &'static str,
    step: &'static str,
    claim: &'static str,
    unit: &'static str,
    run: fn() -> Outcome,
}

fn step_of(l: &Lesson, title: &str) -> usize {
    l.steps.iter().position(|s| s.title == title).unwrap_or_else(|| panic!("{}: no step `{title}`", l.name))
}

fn claims() -> Vec<Claim> {
    vec![
        Claim {
            lesson: "aba",
            step: "The bug, caught in the act",
            claim: "without the generation check, stale keys alias: violations",
            unit: "violations/s",
            run: || {
                let l = load("aba");
                let r = run_for(
                    engine_at(&l, step_of(&l, "The bug, caught in the act"), None),
                    Duration::from_secs(1),
                );
                let v = r.checks.violations.count;
                #[allow(clippy::cast_precision_loss)]
                let per_s = v as f64 / r.active().as_secs_f64();
                Outcome { effect: per_s, interval: None, held: v > 0 }
            },
        },
        Claim {
            lesson: "aba",
            step: "Stale keys, correct table",
            claim: "the correct table rejects every stale key: no violation",
            unit: "stale rejections/s",
            run: || {
                let l = load("aba");
                let r = run_for(engine_at(&l, 0, None), Duration::from_secs(1));
                let stale = r.totals[slotscope_trace::Counter::StaleRejections];
                #[allow(clippy::cast_precision_loss)]
                let per_s = stale as f64 / r.active().as_secs_f64();
                Outcome { effect: per_s, interval: None, held: stale > 0 && r.checks.violations.count == 0 }
            },
        },
        Claim {
            lesson: "epoch-stall",
            step: "A reader sits on its pin",
            claim: "a held pin grows the garbage (retained after 1 s, held / not held)",
            unit: "x",
            run: || {
                let l = load("epoch-stall");
                let retained = |step: usize| {
                    let e = engine_at(&l, step, None);
                    let mut s = e.sampler(SamplerOptions { snapshots: false, ..SamplerOptions::default() });
                    let mut sample = Sample::new();
                    std::thread::sleep(Duration::from_millis(1200));
                    s.sample_into(&mut sample);
                    drop(s);
                    let _ = e.stop();
                    sample.garbage.map_or(0, |g| g.count.pending())
                };
                let (free, held) = (retained(0), retained(step_of(&l, "A reader sits on its pin")));
                #[allow(clippy::cast_precision_loss)]
                let x = held as f64 / (free.max(1)) as f64;
                Outcome { effect: x, interval: None, held: held > 10 * free.max(1) }
            },
        },
        Claim {
            lesson: "coordinated-omission",
            step: "A stall every second",
            claim: "open loop sees the stall: corrected p99 / service p99 of lookups",
            unit: "x",
            run: || {
                let l = load("coordinated-omission");
                let r = run_for(
                    engine_at(&l, step_of(&l, "A stall every second"), None),
                    Duration::from_millis(3200),
                );
                let lat = &r.op(OpKind::Lookup).latency;
                let service = lat.service.p99.max(1);
                let corrected = lat.corrected.as_ref().map_or(0, |c| c.p99);
                #[allow(clippy::cast_precision_loss)]
                let x = corrected as f64 / service as f64;
                Outcome { effect: x, interval: None, held: x >= 10.0 }
            },
        },
        Claim {
            lesson: "coordinated-omission",
            step: "The closed-loop benchmark",
            claim: "closed loop hides the stall: max / p99.9 of lookups (p99.9 under 1 ms)",
            unit: "x",
            run: || {
                let l = load("coordinated-omission");
                let r = run_for(
                    engine_at(&l, step_of(&l, "The closed-loop benchmark"), None),
                    Duration::from_millis(3200),
                );
                let s = &r.op(OpKind::Lookup).latency.service;
                #[allow(clippy::cast_precision_loss)]
                let x = s.max as f64 / s.p999.max(1) as f64;
                Outcome { effect: x, interval: None, held: s.p999 < 1_000_000 && s.max >= 40_000_000 }
            },
        },
        Claim {
            lesson: "hot-counter",
            step: "The hottest line",
            claim: "the header line is the hottest: its writes / the hottest slot line's, per 100 ms",
            unit: "x",
            run: || {
                let l = load("hot-counter");
                let ratios = every_100ms(engine_at(&l, 0, None), |sample| {
                    let top = sample.heat.slot_writes.iter().copied().max().unwrap_or(0).max(1);
                    #[allow(clippy::cast_precision_loss)]
                    let x = sample.heat.header_writes as f64 / f64::from(top);
                    x
                });
                let est = median_estimate(&ratios);
                Outcome { effect: median(&ratios), held: est.is_some_and(|e| e.lo > 1.0), interval: est }
            },
        },
        Claim {
            lesson: "hot-counter",
            step: "Fewer writes",
            claim: "fewer header writes, more throughput: read-heavy / exchange ops/s",
            unit: "x",
            run: || {
                let l = load("hot-counter");
                let (a, b) = (engine_at(&l, 0, None), engine_at(&l, step_of(&l, "Fewer writes"), None));
                let o = ab(&a, &b, Expect::Is(Verdict::Higher));
                let _ = (a.stop(), b.stop());
                o
            },
        },
        Claim {
            lesson: "hot-counter",
            step: "Magazines",
            claim: "magazines / ring ops/s, exchange mix, 2 threads: higher",
            unit: "x",
            run: || {
                let l = load("hot-counter");
                let (a, b) = (engine_at(&l, 0, None), engine_at(&l, step_of(&l, "Magazines"), None));
                let o = ab(&a, &b, Expect::Is(Verdict::Higher));
                let _ = (a.stop(), b.stop());
                o
            },
        },
        Claim {
            lesson: "hot-counter",
            step: "Magazines",
            claim: "header writes per op, ring / magazines (per 100 ms): at least 10x fewer",
            unit: "x",
            run: || {
                let l = load("hot-counter");
                // Header writes per op over ten 100 ms samples of each table, one after the other.
                let per_op = |step: usize| {
                    median(&every_100ms(engine_at(&l, step, None), |sample| {
                        let ops = sample.interval_totals.ops().max(1);
                        #[allow(clippy::cast_precision_loss)]
                        let x = sample.heat.header_writes as f64 / ops as f64;
                        x
                    }))
                };
                let (ring, magazines) = (per_op(0), per_op(step_of(&l, "Magazines")));
                let x = ring / magazines.max(1e-6);
                Outcome { effect: x, interval: None, held: ring >= 10.0 * magazines }
            },
        },
        Claim {
            lesson: "false-sharing",
            step: "Flat out, side by side",
            claim: "flat out, interleaved / linear ops/s: within noise (the header line dominates)",
            unit: "x",
            run: || fs_split("Flat out, side by side", Layout::Linear, Layout::Interleaved),
        },
        Claim {
            lesson: "false-sharing",
            step: "Linear against padded",
            claim: "flat out, padded / linear ops/s: padded not faster",
            unit: "x",
            run: || fs_split("Linear against padded", Layout::Linear, Layout::Padded),
        },
        Claim {
            lesson: "false-sharing",
            step: "A reader beside a writer",
            claim: "a reader beside a writer: interleaved / padded ops/s, lower",
            unit: "x",
            run: || fs_split("A reader beside a writer", Layout::Padded, Layout::Interleaved),
        },
    ]
}

/// The false-sharing lesson's split step `title`: B's ops/s against A's; the claim is the
/// direction the lesson's narration states for it.
fn fs_split(title: &str, a: Layout, b: Layout) -> Outcome {
    let l = load("false-sharing");
    let step = step_of(&l, title);
    let want =
        FS_DIRECTION.iter().find(|(t, _)| *t == title).map_or(Expect::Is(Verdict::WithinNoise), |(_, v)| *v);
    let (ea, eb) = (engine_at(&l, step, Some(a)), engine_at(&l, step, Some(b)));
    let o = ab(&ea, &eb, want);
    let _ = (ea.stop(), eb.stop());
    o
}

/// What the false-sharing lesson's narration says of each split step (docs/LESSONS.md).
const FS_DIRECTION: [(&str, Expect); 3] = [
    ("Flat out, side by side", Expect::Is(Verdict::WithinNoise)),
    ("Linear against padded", Expect::NotHigher),
    ("A reader beside a writer", Expect::Is(Verdict::Lower)),
];

#[test]
#[ignore = "takes minutes and measures the machine: run by hand for docs/LESSONS.md"]
fn lesson_claims() {
    println!("| lesson | step | claim | effect (median of runs) | interval of the median run | runs held |");
    println!("|---|---|---|---|---|---:|");
    // CLAIMS=LESSON measures one lesson's claims only.
    let only = std::env::var("CLAIMS").ok();
    for c in claims().into_iter().filter(|c| only.as_deref().is_none_or(|o| o == c.lesson)) {
        let outcomes: Vec<Outcome> = (0..RUNS).map(|_| (c.run)()).collect();
        let held = outcomes.iter().filter(|o| o.held).count();
        let effects: Vec<f64> = outcomes.iter().map(|o| o.effect).collect();
        let mid = median(&effects);
        let interval = outcomes
            .iter()
            .filter_map(|o| o.interval.map(|i| (i, (o.effect - mid).abs())))
            .min_by(|x, y| x.1.total_cmp(&y.1))
            .map_or_else(|| "-".to_owned(), |(i, _)| format!("[{:.2}, {:.2}]", i.lo, i.hi));
        println!(
            "| {} | {} | {} | {mid:.2} {} | {interval} | {held} of {RUNS} |",
            c.lesson, c.step, c.claim, c.unit
        );
    }
}
