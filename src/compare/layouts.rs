//! `slotscope compare [SCENARIO] --layouts linear,interleaved,padded`: our table in each layout
//! under the same load and seed, in alternating turns (see
//! `slotscope_stress::turns`): per layout the median ops/s and p99 per op over its turns with
//! a 95% bootstrap interval, and each layout against the first, round by round, with the
//! verdict words `better`, `worse` or `within noise` (the ratio's interval contains 1.0).
//! Text, JSON or CSV (`--output-format`).

use std::fmt::Write as _;
use std::process::ExitCode;

use serde::Serialize;
use slotscope_stress::machine::topology::smt_sibling_pairs;
use slotscope_stress::report::interval::{Estimate, Verdict, BOOTSTRAP_RESAMPLES, CONFIDENCE};
use slotscope_stress::scenario::values::{format_duration, format_ns, format_rate};
use slotscope_stress::turns::{self, SideSummary, TurnFigures, TurnPlan, VsBaseline};
use slotscope_stress::{BackendKind, Engine, EngineOptions, OpKind, StopSpec};
use slotscope_table::Layout;

use crate::cli::{CompareArgs, OutputFormat, TurnArgs};
use crate::compare::{exit_code, json_bytes, COMPARE_SCHEMA_VERSION};
use crate::exit::Failure;
use crate::headless::{self, note, signal_exit, Signals};
use crate::output;
use crate::resolve::{self, ResolvedRun};

/// The scenario `compare --layouts` runs when none is named.
pub const DEFAULT_LAYOUTS_SCENARIO: &str = "false-sharing";

/// One layout's figures.
#[derive(Serialize)]
struct LayoutFigures {
    layout: &'static str,
    #[serde(flatten)]
    summary: SideSummary,
    /// Against the first layout, round by round.
    vs_baseline: VsBaseline,
    violations: u64,
    passed: bool,
    /// Every measured turn, in round order.
    turns: Vec<TurnFigures>,
}

#[derive(Serialize)]
struct LayoutsDocument {
    schema_version: u32,
    kind: &'static str,
    tool_version: &'static str,
    scenario: String,
    seed: u64,
    threads: usize,
    turn_ns: u64,
    turns_per_layout: usize,
    warmup_rounds: usize,
    confidence: f64,
    bootstrap_resamples: usize,
    repeat_command: String,
    baseline: &'static str,
    /// Set when a signal cut the rounds short.
    stopped_by: Option<String>,
    layouts: Vec<LayoutFigures>,
}

/// Checks `--layouts`: no repeats, at least two.
fn parse_layouts(layouts: &[Layout]) -> Result<Vec<Layout>, Failure> {
    let mut out = Vec::new();
    for &l in layouts {
        if out.contains(&l) {
            return Err(Failure::usage(format!("error: invalid value for --layouts: `{l}` is listed twice")));
        }
        out.push(l);
    }
    if out.len() < 2 {
        return Err(Failure::usage(
            "error: invalid value for --layouts: name at least two layouts, e.g. linear,interleaved",
        ));
    }
    Ok(out)
}

fn estimate_text(e: Option<&Estimate>, f: impl Fn(f64) -> String) -> String {
    e.map_or_else(|| "-".to_owned(), |e| format!("{} [{}, {}]", f(e.median), f(e.lo), f(e.hi)))
}

fn ratio_text(e: Option<&Estimate>, verdict: Verdict, higher_is_better: bool) -> String {
    match e {
        Some(e) => format!("{:.2}x [{:.2}, {:.2}] {}", e.median, e.lo, e.hi, verdict.words(higher_is_better)),
        None => verdict.words(higher_is_better).to_owned(),
    }
}

fn text_table(doc: &LayoutsDocument) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "compare layouts on `{}` · seed {} · {} thread{} · {} turns of {} per layout after {} warm-up round{}",
        doc.scenario,
        doc.seed,
        doc.threads,
        if doc.threads == 1 { "" } else { "s" },
        doc.turns_per_layout,
        format_duration(std::time::Duration::from_nanos(doc.turn_ns)),
        doc.warmup_rounds,
        if doc.warmup_rounds == 1 { "" } else { "s" },
    );
    let _ = writeln!(out, "repeat: {}\n", doc.repeat_command);
    let width = doc.layouts.iter().map(|l| l.layout.len()).max().unwrap_or(6).max(6);
    let base = doc.baseline;
    let _ = writeln!(out, "{:<width$}  {:<32}  vs {base}", "ops/s", "median [95% interval]");
    for l in &doc.layouts {
        let vs = if l.layout == base {
            "baseline".to_owned()
        } else {
            ratio_text(l.vs_baseline.ops_per_s.as_ref(), l.vs_baseline.verdict, true)
        };
        let own = estimate_text(l.summary.ops_per_s.as_ref(), |v| format!("{}/s", format_rate(v)));
        let _ = writeln!(out, "{:<width$}  {own:<32}  {vs}", l.layout);
    }
    for k in OpKind::ALL {
        let i = k.index();
        if doc.layouts.iter().all(|l| l.summary.p99_ns[i].is_none()) {
            continue;
        }
        let _ = writeln!(
            out,
            "\n{:<width$}  {:<32}  vs {base} (lower is better)",
            format!("p99 {}", k.name()),
            ""
        );
        for l in &doc.layouts {
            let vs = if l.layout == base {
                "baseline".to_owned()
            } else {
                ratio_text(l.vs_baseline.p99[i].as_ref(), l.vs_baseline.p99_verdict[i], false)
            };
            let own = estimate_text(l.summary.p99_ns[i].as_ref(), format_ns);
            let _ = writeln!(out, "{:<width$}  {own:<32}  {vs}", l.layout);
        }
    }
    let _ = writeln!(
        out,
        "\nmedians over each layout's turns, [{:.0}% interval] by bootstrap ({} resamples); the ratios are \
         medians of round-by-round ratios, bootstrapped over rounds. `within noise`: the interval contains \
         1.0x. p99 is service time of timed ops, one clock read included.",
        doc.confidence * 100.0,
        doc.bootstrap_resamples
    );
    for l in doc.layouts.iter().filter(|l| !l.passed) {
        let _ = writeln!(out, "!! {}: self-check FAILED: {} violations", l.layout, l.violations);
    }
    if let Some(sig) = &doc.stopped_by {
        let _ = writeln!(out, "!! cut short by {sig}: {} whole rounds measured", doc.turns_per_layout);
    }
    out.lines().map(str::trim_end).fold(String::new(), |mut acc, l| {
        acc.push_str(l);
        acc.push('\n');
        acc
    })
}

/// The columns of `compare --layouts --output-format csv`: one row per layout and measure.
const LAYOUTS_CSV_COLUMNS: [&str; 11] = [
    "layout", "measure", "turns", "median", "lo", "hi", "ratio", "ratio_lo", "ratio_hi", "verdict",
    "baseline",
];

fn csv_table(doc: &LayoutsDocument) -> String {
    let num = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v:.4}"));
    let mut rows = Vec::new();
    for l in &doc.layouts {
        let mut row = |measure: String, own: Option<&Estimate>, r: Option<&Estimate>, v: Verdict| {
            rows.push(vec![
                l.layout.to_owned(),
                measure,
                l.summary.turns.to_string(),
                num(own.map(|e| e.median)),
                num(own.map(|e| e.lo)),
                num(own.map(|e| e.hi)),
                num(r.map(|e| e.median)),
                num(r.map(|e| e.lo)),
                num(r.map(|e| e.hi)),
                serde_json::to_value(v).ok().and_then(|j| j.as_str().map(str::to_owned)).unwrap_or_default(),
                doc.baseline.to_owned(),
            ]);
        };
        row(
            "ops_per_s".to_owned(),
            l.summary.ops_per_s.as_ref(),
            l.vs_baseline.ops_per_s.as_ref(),
            l.vs_baseline.verdict,
        );
        for k in OpKind::ALL {
            let i = k.index();
            if l.summary.p99_ns[i].is_some() {
                row(
                    format!("p99_ns_{}", k.name()),
                    l.summary.p99_ns[i].as_ref(),
                    l.vs_baseline.p99[i].as_ref(),
                    l.vs_baseline.p99_verdict[i],
                );
            }
        }
    }
    output::csv::write_rows(&LAYOUTS_CSV_COLUMNS, rows)
}

/// `slotscope compare --layouts`.
pub fn run(
    scenario: Option<&str>,
    layouts: &[Layout],
    plan: &TurnArgs,
    args: &CompareArgs,
) -> Result<ExitCode, Failure> {
    let layouts = parse_layouts(layouts)?;
    if args.workload.backend.is_some_and(|b| b != BackendKind::Slotscope) || args.workload.layout.is_some() {
        return Err(Failure::usage(
            "error: `compare --layouts` runs our table in each layout: drop --backend and --layout",
        ));
    }
    if matches!(args.report.output_format, OutputFormat::Hlog | OutputFormat::Html) {
        return Err(Failure::usage(
            "error: `compare` writes text, json or csv; for hlog or html, `run` each layout",
        ));
    }
    if let Some(path) = &args.report.output {
        output::check_writable(path)?;
    }
    let plan = TurnPlan {
        turn: plan.turn,
        turns: usize::try_from(plan.turns).unwrap_or(usize::MAX),
        warmup_rounds: usize::try_from(plan.warmup_rounds).unwrap_or(usize::MAX),
    };
    let conditions = args.report.fail_if.clone();
    let scenario = scenario.unwrap_or(DEFAULT_LAYOUTS_SCENARIO);
    let resolved = resolve::resolve_run(Some(scenario), &args.workload, true)?;
    if resolved.spec.table.backend != BackendKind::Slotscope {
        return Err(Failure::usage(format!(
            "error: `compare --layouts` needs our table, and `{scenario}` runs {}",
            resolved.spec.table.backend.name()
        )));
    }
    for w in &resolved.warnings {
        note(w);
    }
    let list: Vec<&str> = layouts.iter().map(|l| l.name()).collect();
    let repeat = layouts_repeat(&resolved, &list.join(","), &plan);
    // The banner states the run's length: the turns', not the scenario's.
    let mut shown = resolved.clone();
    shown.spec.stop = StopSpec::Duration(plan.wall_time(layouts.len()));
    note(&format!(
        "{} · layouts {} in alternating turns of {}, about {} in all",
        headless::banner(&shown),
        list.join(", "),
        format_duration(plan.turn),
        format_duration(plan.wall_time(layouts.len()))
    ));
    note(&format!("  repeat: {repeat}"));

    let mut spec = resolved.spec.clone();
    spec.stop = StopSpec::Forever;
    let calibration = Engine::calibrate(&spec);
    let options = EngineOptions { headless: true, calibration, ..EngineOptions::default() };
    let mut engines = Vec::new();
    for &layout in &layouts {
        let mut s = spec.clone();
        s.table.layout = layout;
        let engine = Engine::start_with_options(s, options)
            .map_err(|e| Failure::usage(format!("error: cannot start the {layout} table: {e}")))?;
        engine.take_turn(false);
        engines.push(engine);
    }
    let signals = Signals::install()?;
    let mut stopped_by = None;
    let total = (plan.turns + plan.warmup_rounds) * layouts.len();
    let mut done = 0usize;
    let show = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let refs: Vec<&Engine> = engines.iter().collect();
    let measured = turns::alternate(&refs, &plan, |finished| {
        if let Some(sig) = signals.received() {
            stopped_by = Some(sig);
            return false;
        }
        if finished.is_some() {
            done += 1;
            if show {
                crate::console::progress(&format!("\r  turn {done}/{total}   "));
            }
        }
        true
    });
    if show {
        crate::console::progress(&format!("\r{:20}\r", ""));
    }
    let reports: Vec<_> = engines.into_iter().map(Engine::stop).collect();
    let cores: Vec<usize> = reports[0].threads.iter().filter_map(|t| t.core).collect();
    for (x, y) in smt_sibling_pairs(std::path::Path::new("/"), &cores) {
        note(&format!(
            "!! cores {x} and {y} are SMT siblings (one physical core): they share its caches, so false \
             sharing between their threads does not show; pin to distinct physical cores (--pin CORES)"
        ));
    }
    let (sides, vs) = turns::summarize(&measured);
    let doc = LayoutsDocument {
        schema_version: COMPARE_SCHEMA_VERSION,
        kind: "compare-layouts",
        tool_version: env!("CARGO_PKG_VERSION"),
        scenario: resolved.spec.name.clone(),
        seed: resolved.spec.seed,
        threads: resolved.spec.initial_threads(),
        turn_ns: u64::try_from(plan.turn.as_nanos()).unwrap_or(u64::MAX),
        turns_per_layout: measured.first().map_or(0, Vec::len),
        warmup_rounds: plan.warmup_rounds,
        confidence: CONFIDENCE,
        bootstrap_resamples: BOOTSTRAP_RESAMPLES,
        repeat_command: repeat,
        baseline: layouts[0].name(),
        stopped_by: stopped_by.map(|s| signal_exit(s).0.to_owned()),
        layouts: layouts
            .iter()
            .zip(sides)
            .zip(vs)
            .zip(measured)
            .zip(&reports)
            .map(|((((l, summary), vs_baseline), turns), r)| LayoutFigures {
                layout: l.name(),
                summary,
                vs_baseline,
                violations: r.checks.violations.count,
                passed: r.passed(),
                turns,
            })
            .collect(),
    };
    let bytes = match args.report.output_format {
        OutputFormat::Csv => csv_table(&doc).into_bytes(),
        OutputFormat::Json => json_bytes(&doc)?,
        OutputFormat::Text | OutputFormat::Hlog | OutputFormat::Html => text_table(&doc).into_bytes(),
    };
    output::deliver(&bytes, args.report.output.as_deref())?;
    let named = layouts.iter().map(|l| l.name()).zip(&reports);
    Ok(exit_code(named, &conditions, stopped_by))
}

/// `slotscope compare SCENARIO --layouts LIST --turn T --turns N --warmup-rounds W` with the
/// run's resolved flags (without its `--layout` and stop).
fn layouts_repeat(run: &ResolvedRun, list: &str, plan: &TurnPlan) -> String {
    let mut words = resolve::repeat_words("compare", run, false);
    for flag in ["--layout", "-d", "--ops", "--backend"] {
        if let Some(i) = words.iter().position(|w| w == flag) {
            words.drain(i..i + 2);
        }
    }
    let extra = [
        "--layouts".to_owned(),
        list.to_owned(),
        "--turn".to_owned(),
        format_duration(plan.turn),
        "--turns".to_owned(),
        plan.turns.to_string(),
        "--warmup-rounds".to_owned(),
        plan.warmup_rounds.to_string(),
    ];
    words.splice(3..3, extra);
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_are_checked() {
        assert!(parse_layouts(&[Layout::Linear]).is_err());
        let e = parse_layouts(&[Layout::Linear, Layout::Linear]).err().unwrap();
        assert!(e.to_string().contains("listed twice"), "{e}");
        assert_eq!(
            parse_layouts(&[Layout::Padded, Layout::Linear]).unwrap(),
            [Layout::Padded, Layout::Linear]
        );
    }

    #[test]
    fn ratio_words() {
        let e = Estimate { median: 1.2, lo: 1.1, hi: 1.3, n: 10 };
        assert_eq!(ratio_text(Some(&e), Verdict::Higher, true), "1.20x [1.10, 1.30] better");
        assert_eq!(ratio_text(Some(&e), Verdict::Higher, false), "1.20x [1.10, 1.30] worse");
        assert_eq!(ratio_text(None, Verdict::TooFewTurns, true), "too few turns");
    }
}
