//! `slotscope compare [SCENARIO] --backends a,b,c`: the same scenario against each backend in
//! turn (same seed, so every thread draws the same op stream on each), then one table side by
//! side with ratios to the first backend. Text, JSON or CSV (`--output-format`). Besides the
//! backends, `slotscope-magazine` is our table with the magazine allocator (`--magazine N`
//! sizes it, default 64), so the two allocators compare side by side.

use std::fmt::Write as _;
use std::process::ExitCode;

use serde::Serialize;
use slotscope_stress::report::fail_if::evaluate_all;
use slotscope_stress::scenario::values::{format_duration, format_ns, format_rate};
use slotscope_stress::BackendKind;
use slotscope_stress::{OpKind, Report, StopSpec};

use crate::cli::{CompareArgs, OutputFormat, WorkloadArgs};
use crate::exit::{self, Failure};
use crate::headless::{self, note, signal_exit, Signals};
use crate::output;
use crate::resolve::{self, ResolvedRun};

pub mod layouts;

/// The scenario `compare` runs when none is named.
pub const DEFAULT_COMPARE_SCENARIO: &str = "read-heavy";

/// Version of the compare JSON document.
/// 2: `compare --layouts` documents (kind `compare-layouts`) join kind `compare`.
pub const COMPARE_SCHEMA_VERSION: u32 = 2;

/// One entry of `--backends`: a backend, or our table with the magazine allocator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompareBackend {
    /// The backend.
    pub kind: BackendKind,
    /// Our table with magazines (`slotscope-magazine`).
    pub magazines: bool,
}

impl CompareBackend {
    /// The name on the command line and in the table's header.
    pub fn name(self) -> &'static str {
        if self.magazines {
            "slotscope-magazine"
        } else {
            self.kind.name()
        }
    }
}

/// A `--backends` entry: a backend name, or `slotscope-magazine`.
///
/// # Errors
/// Neither.
pub fn parse_compare_backend(
    input: &str,
) -> Result<CompareBackend, slotscope_stress::scenario::values::ValueError> {
    let plain = BackendKind::ALL.map(|b| (b.name(), CompareBackend { kind: b, magazines: false }));
    let magazine = ("slotscope-magazine", CompareBackend { kind: BackendKind::Slotscope, magazines: true });
    let mut choices = plain.to_vec();
    choices.insert(1, magazine);
    slotscope_stress::scenario::values::parse_choice(input, "backend", &choices)
}

/// Checks `--backends` (clap parsed the names): no repeats, at least one.
pub fn parse_backends(kinds: &[CompareBackend]) -> Result<Vec<CompareBackend>, Failure> {
    let mut out = Vec::new();
    for &kind in kinds {
        if out.contains(&kind) {
            return Err(Failure::usage(format!(
                "error: invalid value for --backends: `{}` is listed twice",
                kind.name()
            )));
        }
        out.push(kind);
    }
    if out.is_empty() {
        return Err(Failure::usage("error: invalid value for --backends: name at least one backend"));
    }
    Ok(out)
}

/// One backend's figures for one op.
#[derive(Serialize)]
struct OpFigures {
    op: OpKind,
    count: u64,
    ops_per_s: f64,
    p50_ns: u64,
    p99_ns: u64,
    p99_9_ns: u64,
    max_ns: u64,
    /// This backend's value / the first backend's (`null` where the first has none).
    ratios: Ratios,
}

#[derive(Serialize, Default)]
struct Ratios {
    ops_per_s: Option<f64>,
    p50: Option<f64>,
    p99: Option<f64>,
    p99_9: Option<f64>,
    max: Option<f64>,
}

#[derive(Serialize)]
struct BackendFigures {
    backend: &'static str,
    description: String,
    throughput_ops_per_s: f64,
    throughput_ratio: Option<f64>,
    active_ns: u64,
    violations: u64,
    passed: bool,
    stopped_by: Option<String>,
    digests: Vec<u64>,
    ops: Vec<OpFigures>,
}

#[derive(Serialize)]
struct CompareDocument {
    schema_version: u32,
    kind: &'static str,
    tool_version: &'static str,
    scenario: String,
    seed: u64,
    threads: usize,
    stop: String,
    repeat_command: String,
    baseline: &'static str,
    backends: Vec<BackendFigures>,
}

fn ratio(a: f64, base: f64) -> Option<f64> {
    (base > 0.0 && a.is_finite()).then(|| a / base)
}

#[allow(clippy::cast_precision_loss)]
fn figures(reports: &[Report], names: &[CompareBackend]) -> Vec<BackendFigures> {
    let base = &reports[0];
    reports
        .iter()
        .zip(names)
        .map(|(r, name)| BackendFigures {
            backend: name.name(),
            description: r.backends.first().map_or_else(String::new, |b| b.description.clone()),
            throughput_ops_per_s: r.throughput_ops_per_s,
            throughput_ratio: ratio(r.throughput_ops_per_s, base.throughput_ops_per_s),
            active_ns: u64::try_from(r.active().as_nanos()).unwrap_or(u64::MAX),
            violations: r.checks.violations.count,
            passed: r.passed(),
            stopped_by: r.stopped_by.clone(),
            digests: r.threads.iter().map(|t| t.digest).collect(),
            ops: OpKind::ALL
                .iter()
                .map(|&k| {
                    let (o, b) = (r.op(k), base.op(k));
                    let (s, bs) = (&o.latency.service, &b.latency.service);
                    OpFigures {
                        op: k,
                        count: o.count,
                        ops_per_s: o.throughput_ops_per_s,
                        p50_ns: s.p50,
                        p99_ns: s.p99,
                        p99_9_ns: s.p999,
                        max_ns: s.max,
                        ratios: Ratios {
                            ops_per_s: ratio(o.throughput_ops_per_s, b.throughput_ops_per_s),
                            p50: ratio(s.p50 as f64, bs.p50 as f64),
                            p99: ratio(s.p99 as f64, bs.p99 as f64),
                            p99_9: ratio(s.p999 as f64, bs.p999 as f64),
                            max: ratio(s.max as f64, bs.max as f64),
                        },
                    }
                })
                .collect(),
        })
        .collect()
}

const LABEL_WIDTH: usize = 16;
const VALUE_WIDTH: usize = 9;
const RATIO_WIDTH: usize = 8;

fn ratio_text(r: Option<f64>, first: bool) -> String {
    match r {
        _ if first => String::new(),
        Some(r) => format!("{r:.2}x"),
        None => "-".to_owned(),
    }
}

fn text_table(doc: &CompareDocument) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "compare `{}` · seed {} · {} thread{} · {} per backend · same seed, so each thread draws the same op \
         stream on every backend",
        doc.scenario,
        doc.seed,
        doc.threads,
        if doc.threads == 1 { "" } else { "s" },
        doc.stop
    );
    let _ = writeln!(out, "repeat: {}\n", doc.repeat_command);
    let _ = write!(out, "{:<LABEL_WIDTH$}", "");
    for b in &doc.backends {
        let _ = write!(out, " {:>VALUE_WIDTH$} {:<RATIO_WIDTH$}", b.backend, "");
    }
    out.push('\n');
    let mut row = |label: &str, cells: Vec<(String, Option<f64>)>| {
        let _ = write!(out, "{label:<LABEL_WIDTH$}");
        for (i, (value, r)) in cells.into_iter().enumerate() {
            let _ = write!(out, " {value:>VALUE_WIDTH$} {:<RATIO_WIDTH$}", ratio_text(r, i == 0));
        }
        let _ = out.write_char('\n');
    };
    row(
        "throughput",
        doc.backends
            .iter()
            .map(|b| (format!("{}/s", format_rate(b.throughput_ops_per_s)), b.throughput_ratio))
            .collect(),
    );
    #[allow(clippy::cast_precision_loss)]
    let ns = |v: u64| format_ns(v as f64);
    for (i, k) in OpKind::ALL.iter().enumerate() {
        if doc.backends.iter().all(|b| b.ops[i].count == 0) {
            continue;
        }
        let cells = |f: &dyn Fn(&OpFigures) -> (String, Option<f64>)| {
            doc.backends.iter().map(|b| f(&b.ops[i])).collect()
        };
        let name = k.name();
        row(
            &format!("{name} ops/s"),
            cells(&|o| (format!("{}/s", format_rate(o.ops_per_s)), o.ratios.ops_per_s)),
        );
        row(&format!("{name} p50"), cells(&|o| (ns(o.p50_ns), o.ratios.p50)));
        row(&format!("{name} p99"), cells(&|o| (ns(o.p99_ns), o.ratios.p99)));
        row(&format!("{name} p99.9"), cells(&|o| (ns(o.p99_9_ns), o.ratios.p99_9)));
        row(&format!("{name} max"), cells(&|o| (ns(o.max_ns), o.ratios.max)));
    }
    let _ = write!(out, "{:<LABEL_WIDTH$}", "violations");
    for b in &doc.backends {
        let _ = write!(out, " {:>VALUE_WIDTH$} {:<RATIO_WIDTH$}", b.violations, "");
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "\nratios: each backend's figure / {}'s (throughput: higher is better; latency: lower is better). \
         Latency is service time of timed ops, including one clock read.",
        doc.baseline
    );
    for b in doc.backends.iter().filter(|b| b.stopped_by.is_some()) {
        let _ = writeln!(out, "!! {} was cut short by {}", b.backend, b.stopped_by.as_deref().unwrap_or("?"));
    }
    // Padding for the ratio column leaves trailing blanks on the first backend's column.
    out.lines().map(str::trim_end).fold(String::new(), |mut acc, l| {
        acc.push_str(l);
        acc.push('\n');
        acc
    })
}

/// The columns of `compare --output-format csv`.
const COMPARE_CSV_COLUMNS: [&str; 13] = [
    "backend",
    "op",
    "count",
    "ops_per_s",
    "p50_ns",
    "p99_ns",
    "p99_9_ns",
    "max_ns",
    "ops_per_s_ratio",
    "p50_ratio",
    "p99_ratio",
    "p99_9_ratio",
    "max_ratio",
];

fn csv_table(doc: &CompareDocument) -> String {
    let opt = |r: Option<f64>| r.map_or_else(String::new, |r| format!("{r:.4}"));
    let mut rows = Vec::new();
    for b in &doc.backends {
        let mut all = vec![
            b.backend.to_owned(),
            "all".to_owned(),
            b.ops.iter().map(|o| o.count).sum::<u64>().to_string(),
            format!("{:.1}", b.throughput_ops_per_s),
        ];
        all.extend(std::iter::repeat_n(String::new(), 4));
        all.push(opt(b.throughput_ratio));
        all.extend(std::iter::repeat_n(String::new(), 4));
        rows.push(all);
        for o in &b.ops {
            rows.push(vec![
                b.backend.to_owned(),
                o.op.name().to_owned(),
                o.count.to_string(),
                format!("{:.1}", o.ops_per_s),
                o.p50_ns.to_string(),
                o.p99_ns.to_string(),
                o.p99_9_ns.to_string(),
                o.max_ns.to_string(),
                opt(o.ratios.ops_per_s),
                opt(o.ratios.p50),
                opt(o.ratios.p99),
                opt(o.ratios.p99_9),
                opt(o.ratios.max),
            ]);
        }
    }
    crate::output::csv::write_rows(&COMPARE_CSV_COLUMNS, rows)
}

/// `slotscope compare`.
pub fn run(
    scenario: Option<&str>,
    backend_names: &[CompareBackend],
    args: &CompareArgs,
) -> Result<ExitCode, Failure> {
    if args.workload.backend.is_some() {
        return Err(Failure::usage("error: `compare` takes --backends a,b,... rather than --backend"));
    }
    let backends = parse_backends(backend_names)?;
    // Refused before anything runs, so that nothing measured is lost to a format it lacks.
    if matches!(args.report.output_format, OutputFormat::Hlog | OutputFormat::Html) {
        return Err(Failure::usage(
            "error: `compare` writes text, json or csv; for hlog or html, `run` each backend",
        ));
    }
    let conditions = args.report.fail_if.clone();
    if let Some(path) = &args.report.output {
        output::check_writable(path)?;
    }
    let scenario = scenario.unwrap_or(DEFAULT_COMPARE_SCENARIO);
    // Resolve once per backend: the flags are validated against each.
    let mut runs: Vec<ResolvedRun> = Vec::new();
    let with_magazines = backends.iter().any(|b| b.magazines);
    for b in &backends {
        // The allocator flags apply to our table; `slotscope-magazine` turns magazines on, and
        // beside it `slotscope` is the ring (so `--magazine N` sizes only the magazine side).
        let (allocator, magazine) = match (b.kind, b.magazines) {
            (BackendKind::Slotscope, false) if with_magazines => {
                (Some(slotscope_table::Allocator::Ring), None)
            }
            (BackendKind::Slotscope, false) => (args.workload.allocator, args.workload.magazine),
            (BackendKind::Slotscope, true) => (
                Some(slotscope_table::Allocator::Magazine { size: slotscope_table::DEFAULT_MAGAZINE }),
                args.workload.magazine,
            ),
            _ => (None, None),
        };
        let with = WorkloadArgs { backend: Some(b.kind), allocator, magazine, ..args.workload.clone() };
        runs.push(resolve::resolve_run(Some(scenario), &with, true)?);
    }
    for w in &runs[0].warnings {
        note(w);
    }
    let signals = Signals::install()?;
    let list: Vec<&str> = backends.iter().map(|k| k.name()).collect();
    let magazine = runs.iter().find_map(|r| r.spec.table.allocator.magazine());
    let repeat = compare_repeat(&runs[0], &list.join(","), magazine);
    note(&format!("{} · compare on {}", headless::banner(&runs[0]), list.join(", ")));
    note(&format!("  repeat: {repeat}"));
    if let Some(caveat) = resolve::repeat_caveat(&runs[0]) {
        note(&caveat);
    }

    let (stop, threads) = (runs[0].spec.stop, runs[0].spec.initial_threads());
    let mut reports = Vec::new();
    let mut stopped_by = None;
    let total = runs.len();
    for (i, run) in runs.into_iter().enumerate() {
        let name = backends[i].name();
        let (mut report, sig) =
            headless::execute(run.spec, &signals, &format!("  [{}/{total} {name}] ", i + 1), None, None)?;
        report.repeat_command = Some(repeat.clone());
        reports.push(report);
        if sig.is_some() {
            stopped_by = sig;
            break;
        }
    }
    let first = &reports[0];
    let doc = CompareDocument {
        schema_version: COMPARE_SCHEMA_VERSION,
        kind: "compare",
        tool_version: env!("CARGO_PKG_VERSION"),
        scenario: first.spec.name.clone(),
        seed: first.seed,
        threads,
        stop: match stop {
            StopSpec::Duration(d) => format_duration(d),
            StopSpec::Ops(n) => format!("{n} ops per thread"),
            StopSpec::Forever => "until stopped".to_owned(),
        },
        repeat_command: repeat,
        baseline: backends[0].name(),
        backends: figures(&reports, &backends),
    };
    let bytes = match args.report.output_format {
        OutputFormat::Text => text_table(&doc).into_bytes(),
        OutputFormat::Csv => csv_table(&doc).into_bytes(),
        OutputFormat::Json => json_bytes(&doc)?,
        // Refused before the runs (above); answered the same here.
        OutputFormat::Hlog | OutputFormat::Html => {
            return Err(Failure::usage(
                "error: `compare` writes text, json or csv; for hlog or html, `run` each backend",
            ))
        }
    };
    output::deliver(&bytes, args.report.output.as_deref())?;

    let named = backends.iter().map(|b| b.name()).zip(&reports);
    Ok(exit_code(named, &conditions, stopped_by))
}

/// A compare document as pretty JSON with a final newline.
pub(crate) fn json_bytes(doc: &impl Serialize) -> Result<Vec<u8>, Failure> {
    let mut b = serde_json::to_vec_pretty(doc)
        .map_err(|e| Failure::new(exit::OUTPUT_FAILED, format!("error: cannot encode the JSON: {e}")))?;
    b.push(b'\n');
    Ok(b)
}

/// The exit code of a comparison of the `named` reports: each one's `--fail-if` failures and
/// self-check failures said on stderr (exit 1), or the signal that cut it short.
pub(crate) fn exit_code<'a>(
    named: impl Iterator<Item = (&'a str, &'a Report)>,
    conditions: &[slotscope_stress::report::fail_if::FailIf],
    stopped_by: Option<i32>,
) -> ExitCode {
    let mut failed = false;
    for (name, r) in named {
        for v in evaluate_all(conditions, r).iter().filter(|v| v.failed()) {
            note(&format!("slotscope: {name}: --fail-if {v}"));
            failed = true;
        }
        if !r.passed() {
            note(&format!("slotscope: {name}: self-check FAILED: {} violations", r.checks.violations.count));
            failed = true;
        }
    }
    if let Some(sig) = stopped_by {
        return ExitCode::from(signal_exit(sig).1);
    }
    ExitCode::from(if failed { exit::CHECK_FAILED } else { exit::OK })
}

/// `slotscope compare SCENARIO --backends LIST` with the run's resolved flags (without its
/// `--backend`).
fn compare_repeat(run: &ResolvedRun, list: &str, magazine: Option<u32>) -> String {
    let mut words = resolve::repeat_words("compare", run, false);
    if let Some(i) = words.iter().position(|w| w == "--backend") {
        words.drain(i..i + 2);
    }
    // The magazine size is a flag of the run, named once for the magazine side.
    if let Some(i) = words.iter().position(|w| w == "--magazine") {
        words.drain(i..i + 2);
    }
    if let Some(m) = magazine {
        words.extend(["--magazine".to_owned(), m.to_string()]);
    }
    words.splice(3..3, ["--backends".to_owned(), list.to_owned()]);
    words.join(" ")
}
