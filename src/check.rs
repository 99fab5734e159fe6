//! `slotscope check FILE` and `slotscope replay FILE --exec`: the text front ends of the
//! history checker and of re-execution (`slotscope_stress::history`, `::reexec`).
//!
//! Exit codes: 0 the history is whole and clean (no violation, nothing dropped, no finding
//! left undecided, no linearizability window unknown); 1 a violation (or a divergence) was
//! found; 4 the trace cannot be read at all; 6 incomplete: nothing wrong was found in what
//! could be read, but the trace was cut short or damaged (no end record), ops were dropped,
//! the recording stopped at its limit, or some finding or window could not be decided, so the
//! answer is not the whole history's (said on stderr too). Everything printed goes through
//! [`console`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use std::io::IsTerminal;
use std::time::Instant;

use slotscope_trace::history::check::DEFAULT_MAX_WINDOW_OPS;
use slotscope_trace::history::emit::{emit_test, ReproMode};
use slotscope_trace::history::{check_file, timeline, CheckOptions, CheckReport, History, KeyText, Progress};
use slotscope_trace::reexec::reexecute;
use slotscope_trace::{EndRecord, ReadStop, TraceError, TraceHeader};

use crate::console;
use crate::exit::{self, Failure};

/// `println!` through [`console::out`] (a closed or full stdout ends the command; see there).
macro_rules! say {
    () => {
        console::out("\n")?
    };
    ($($t:tt)*) => {
        console::out(&format!("{}\n", format_args!($($t)*)))?
    };
}

/// Rows of the timeline printed with the first violation.
const TIMELINE_ROWS: usize = 24;
/// Further violations listed after the first.
const MORE_LISTED: usize = 10;
/// The environment variable naming the `slotscope-table` crate for `--emit-test`.
pub const TABLE_PATH_ENV: &str = "SLOTSCOPE_TABLE_PATH";

fn read(file: &Path) -> Result<History, Failure> {
    History::read(file).map_err(|e| Failure::new(exit::BAD_TRACE, format!("error: {}: {e}", file.display())))
}

fn bad_trace(file: &Path, e: &TraceError) -> Failure {
    Failure::new(exit::BAD_TRACE, format!("error: {}: {e}", file.display()))
}

/// The lines that say what the trace is.
fn describe(
    header: &TraceHeader,
    events: u64,
    segments: usize,
    end: Option<EndRecord>,
    stop: &ReadStop,
) -> String {
    let mut s = String::new();
    let t = &header.table;
    let _ = writeln!(
        s,
        "trace: scenario `{}`, seed {}, {} ({} slots asked, {} layout, {} B lines), variant {}{}",
        header.scenario,
        header.seed,
        t.backend,
        t.capacity,
        t.layout,
        t.line_bytes,
        t.variant,
        if t.variant.is_broken() { " (BROKEN ON PURPOSE)" } else { "" }
    );
    let _ = writeln!(
        s,
        "       recorded by slotscope {} on {} ({} cores), {} op events in {} table segment(s)",
        header.tool_version, header.machine.cpu_model, header.machine.logical_cores, events, segments
    );
    match end {
        Some(e) => {
            let _ = writeln!(
                s,
                "       closed: {}{}",
                e.reason.describe(),
                if e.dropped > 0 {
                    format!("; {} events dropped while recording", e.dropped)
                } else {
                    String::new()
                }
            );
        }
        None => {
            let _ = writeln!(s, "       not closed: no end record (the recording was cut off)");
        }
    }
    if !stop.is_clean() {
        let _ = writeln!(s, "       read up to the last whole record: {stop}");
    }
    s
}

/// Why the trace does not hold the whole run, if it does not: it has no end record (the
/// recording was cut off: a kill, a full disk, a crash), or reading stopped at damage. The
/// same answer whatever byte the cut fell on.
fn cut_short(end: Option<EndRecord>, stop: &ReadStop) -> Option<String> {
    match (end.is_some(), stop.is_clean()) {
        (true, true) => None,
        (false, true) => Some("the trace was cut short: it ends after a whole record but has no end record (the recording did not close); only what was read was checked".to_owned()),
        (_, false) => Some(format!("the trace was cut short or damaged ({stop}); only what was read was checked")),
    }
}

/// Why the answer is not "clean": the reasons a check that found no violation is incomplete
/// (exit 6), empty when there are none.
fn incomplete_reasons(report: &CheckReport) -> Vec<String> {
    let out = &report.outcome;
    let mut why: Vec<String> = cut_short(report.end, &report.stop).into_iter().collect();
    if let Some(e) = report.end {
        if e.reason.is_limit() {
            why.push(format!("{}: the trace holds only the start of the run", e.reason.describe()));
        }
        if e.dropped > 0 {
            why.push(format!("{} op events were dropped while recording", e.dropped));
        }
    }
    let dropped: u64 = out.gaps.iter().filter_map(|(_, g)| g.ops).sum();
    if dropped > 0 && report.end.is_none_or(|e| e.dropped == 0) {
        why.push(format!("{dropped} op events are missing (dropped while recording)"));
    }
    if !out.incomplete.is_empty() {
        why.push(format!("{} finding(s) could be explained by missing events", out.incomplete.len()));
    }
    if out.lin.unknown > 0 {
        why.push(format!(
            "{} linearizability window(s) answered unknown (over the time or size limit)",
            out.lin.unknown
        ));
    }
    if out.late_ops > 0 {
        why.push(format!("{} ops arrived out of the trace's own order", out.late_ops));
    }
    why
}

/// A progress line on stderr while a check reads a large trace, when stderr is a terminal:
/// phase, events, rate, how far through the file, time left.
struct ProgressLine {
    shown: bool,
    started: Instant,
    on: bool,
}

impl ProgressLine {
    fn new() -> Self {
        ProgressLine { shown: false, started: Instant::now(), on: std::io::stderr().is_terminal() }
    }

    fn update(&mut self, p: Progress) {
        // Short checks finish before a line would help.
        let secs = self.started.elapsed().as_secs_f64();
        if !self.on || secs < 0.5 {
            return;
        }
        console::progress(&format!("\r{}\x1b[K", progress_text(p, secs)));
        self.shown = true;
    }

    fn clear(&mut self) {
        if self.shown {
            console::progress("\r\x1b[K");
            self.shown = false;
        }
    }
}

/// The progress line after `secs` seconds: a bar and how far through the file (when its size
/// is known), events read, the rate, and the time left at that rate.
fn progress_text(p: Progress, secs: f64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let rate = p.events as f64 / secs.max(1e-9);
    #[allow(clippy::cast_precision_loss)]
    let line = format!("checking: {} events, {}/s", si(p.events as f64), si(rate));
    if p.total == 0 {
        return line;
    }
    #[allow(clippy::cast_precision_loss)]
    let done = (p.bytes as f64 / p.total as f64).clamp(0.0, 1.0);
    let width = 24;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let filled = ((done * f64::from(width)) as u32).min(width);
    let eta = if done > 0.0 { secs * (1.0 - done) / done } else { 0.0 };
    format!(
        "[{}{}] {:>3.0}%  {line}, about {eta:.0} s left",
        "#".repeat(filled as usize),
        " ".repeat((width - filled) as usize),
        done * 100.0
    )
}

/// 1234567 -> "1.23M".
fn si(v: f64) -> String {
    if v >= 1e9 {
        format!("{:.2}G", v / 1e9)
    } else if v >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// Padding (ns) around a finding's evidence when its window is read back for the timeline.
const TIMELINE_PAD_NS: u64 = 20_000;

/// `slotscope check FILE [--emit-test DIR] [--window-time-limit D] [--table-path DIR]`.
pub fn run_check(
    file: &Path,
    emit_dir: Option<&Path>,
    window_time_limit: std::time::Duration,
    table_path: Option<&Path>,
) -> Result<ExitCode, Failure> {
    let limit = window_time_limit;
    let options = CheckOptions {
        window_time_limit: limit,
        max_window_ops: DEFAULT_MAX_WINDOW_OPS,
        linearizability: true,
    };
    let mut line = ProgressLine::new();
    let result = check_file(file, &options, &mut |p| line.update(p));
    line.clear();
    let report = result.map_err(|e| bad_trace(file, &e))?;
    let out = &report.outcome;
    console::out(&describe(&report.header, report.events, report.segments, report.end, &report.stop))?;
    say!(
        "checked {} ops on {} keys; {} refused inserts against the definition of Full; {} periodic snapshots",
        out.ops_checked,
        out.keys,
        out.fulls_checked,
        out.snapshots_checked
    );
    say!(
        "precedence: A surely precedes B when one thread ran both, A first, or when A.end + {} ns < B.start (ε: {})",
        out.epsilon_ns,
        epsilon_words(&report.header, out)
    );
    say!(
        "linearizability (per key, Wing-Gong-Lowe, {:?} per window): {} windows: {} linearizable, {} not, {} unknown (over the time or size limit); {} keys not searched further (a named check failed on them); largest window {} ops",
        limit, out.lin.windows, out.lin.ok, out.lin.violated, out.lin.unknown, out.lin.skipped_keys, out.lin.largest_window
    );
    say!(
        "time: {:.3} s reading and in the per-key, capacity and end-state checks, {:.3} s in the linearizability search; at most {} ops and {} keys held at once",
        out.named_checks_time.as_secs_f64(),
        out.lin_time.as_secs_f64(),
        out.peak_pending,
        out.peak_keys
    );
    for n in &out.notes {
        say!("note: {n}");
    }
    if !out.incomplete.is_empty() {
        say!(
            "incomplete: {} finding(s) could be explained by missing events, so they are not counted as violations; the first: {}: {}",
            out.incomplete.len(),
            out.incomplete[0].kind.name(),
            out.incomplete[0].message
        );
    }
    if out.violations.is_empty() {
        say!("no violation found");
        let why = incomplete_reasons(&report);
        if why.is_empty() {
            say!("clean: the history is whole and no check is left undecided");
            return Ok(ExitCode::from(exit::OK));
        }
        let why = why.join("; ");
        say!("incomplete: {why}");
        console::note(&format!("slotscope: {}: incomplete: {why}", file.display()));
        return Ok(ExitCode::from(exit::INCOMPLETE));
    }
    let first = &out.violations[0];
    say!();
    say!("VIOLATION ({} found): {}", out.violations.len(), first.kind.name());
    // The timeline and the emitted test need the ops around it: read back only those.
    let around = History::read_around(file, first, TIMELINE_PAD_NS).map_err(|e| bad_trace(file, &e))?;
    let seg = around.segments.iter().find(|s| s.index == first.segment);
    if let Some(o) = &first.op {
        let keys = seg.map_or(KeyText { capacity_log2: None }, |s| s.key_text());
        say!("first illegal operation: {}: {}", o.label(), o.describe(keys));
    }
    say!("  {}", first.message);
    let tl = seg.map(|s| timeline::render(s, first, around.clock_start(), TIMELINE_ROWS)).unwrap_or_default();
    if !tl.is_empty() {
        say!();
        say!("around it (times in µs since the run clock started; >> the illegal op, * its evidence):");
        console::out(&tl)?;
    }
    if out.violations.len() > 1 {
        say!();
        say!("more violations:");
        for f in out.violations.iter().skip(1).take(MORE_LISTED) {
            say!("  {}: {}", f.kind.name(), f.message);
        }
        if out.violations.len() > MORE_LISTED + 1 {
            say!("  ... and {} more", out.violations.len() - MORE_LISTED - 1);
        }
    }
    if let Some(dir) = emit_dir {
        let table = find_table_crate(table_path)?;
        let emitted = emit_test(&around, first, &tl, dir, &table).map_err(|e| {
            Failure::new(exit::OUTPUT_FAILED, format!("error: --emit-test {}: {e}", dir.display()))
        })?;
        say!();
        say!(
            "wrote a {} test into {} (depends on slotscope-table at {}); run it with:\n  {}",
            match emitted.mode {
                ReproMode::Sequential => "sequential",
                ReproMode::Race => "threaded (race)",
            },
            emitted.dir.display(),
            table.display(),
            emitted.command
        );
    }
    Ok(ExitCode::from(exit::CHECK_FAILED))
}

/// Where ε came from, in words.
fn epsilon_words(header: &TraceHeader, out: &slotscope_trace::history::CheckOutcome) -> String {
    match (header.precision, out.epsilon_note) {
        (Some(p), None) => format!(
            "the clock's resolution {} ns + the cross-core offset bound {} ns, measured over {} cores when recording began",
            p.resolution_ns, p.cross_core_offset_ns, p.cores
        ),
        (_, Some(note)) => note.to_owned(),
        (None, None) => "not measured".to_owned(),
    }
}

fn is_table_crate(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|t| t.contains("name = \"slotscope-table\""))
}

/// Where the `slotscope-table` crate is: `--table-path`, then `$SLOTSCOPE_TABLE_PATH`, then the
/// source tree this binary was built from, then `table/` above the binary's directory (a
/// binary under `target/debug/` of a checkout).
fn find_table_crate(given: Option<&Path>) -> Result<PathBuf, Failure> {
    let mut tried = Vec::new();
    let candidates =
        given
            .map(Path::to_path_buf)
            .into_iter()
            .chain(std::env::var_os(TABLE_PATH_ENV).map(PathBuf::from))
            .chain(std::iter::once(Path::new(env!("CARGO_MANIFEST_DIR")).join("table")))
            .chain(std::env::current_exe().ok().into_iter().flat_map(|exe| {
                exe.ancestors().skip(1).take(4).map(|a| a.join("table")).collect::<Vec<_>>()
            }));
    for c in candidates {
        if is_table_crate(&c) {
            return Ok(std::fs::canonicalize(&c).unwrap_or(c));
        }
        tried.push(c.display().to_string());
        if given.is_some() && tried.len() == 1 {
            return Err(Failure::usage(format!(
                "error: --table-path {}: no slotscope-table crate there (its Cargo.toml must name `slotscope-table`)",
                c.display()
            )));
        }
    }
    Err(Failure::usage(format!(
        "error: --emit-test needs the slotscope-table crate; looked in: {}\n  hint: pass --table-path DIR (the `table/` directory of a slotscope checkout) or set {TABLE_PATH_ENV}",
        tried.join(", ")
    )))
}

/// `slotscope replay FILE --exec`.
pub fn run_replay_exec(file: &Path) -> Result<ExitCode, Failure> {
    let history = read(file)?;
    let segments = history.segments.len();
    console::out(&describe(&history.header, history.events, segments, history.end, &history.stop))?;
    let out = reexecute(&history);
    for n in &out.notes {
        say!("note: {n}");
    }
    say!(
        "re-executed {} ops on one thread in recorded completion order ({} table segment(s)); {} removes pulled ahead to make room for an overlapping insert, {} Full refusals legal only under concurrency skipped, {} ops on keys whose insert is not in the trace skipped, {} snapshot checks",
        out.applied, out.segments, out.reordered, out.concurrent_fulls, out.unmapped, out.snapshot_checks
    );
    match &out.first {
        None => {
            say!("no divergence: every re-executed result matches the recording and the model of a correct table");
            let why = cut_short(history.end, &history.stop).or_else(|| {
                (out.too_large > 0)
                    .then(|| format!("{} table(s) too large to re-execute were left out", out.too_large))
            });
            match why {
                None => Ok(ExitCode::from(exit::OK)),
                Some(why) => {
                    say!("incomplete: {why}");
                    console::note(&format!("slotscope: {}: incomplete: {why}", file.display()));
                    Ok(ExitCode::from(exit::INCOMPLETE))
                }
            }
        }
        Some(p) => {
            say!("first divergence: {p}");
            Ok(ExitCode::from(exit::CHECK_FAILED))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_line_says_how_far_how_fast_and_how_long() {
        let p = Progress { bytes: 25, total: 100, events: 2_500_000 };
        let line = progress_text(p, 1.0);
        assert!(line.starts_with("[######                  ]  25%"), "{line}");
        assert!(line.contains("2.50M events, 2.50M/s"), "{line}");
        assert!(line.contains("about 3 s left"), "{line}");
        // From a pipe the size is unknown: no bar, no estimate.
        let line = progress_text(Progress { total: 0, ..p }, 2.0);
        assert_eq!(line, "checking: 2.50M events, 1.25M/s");
    }

    #[test]
    fn the_table_crate_is_found_from_the_source_tree() {
        let found = find_table_crate(None).unwrap();
        assert!(is_table_crate(&found));
        let e = find_table_crate(Some(Path::new("/nonexistent/table"))).unwrap_err();
        assert_eq!(e.code, exit::USAGE);
        assert!(e.message.contains("--table-path"), "{}", e.message);
    }
}
