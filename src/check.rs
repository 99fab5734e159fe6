//! `slotscope check FILE` and `slotscope replay FILE --exec`: the text front ends of the
//! history checker and of re-execution (`slotscope_stress::history`, `::reexec`).
//!
//! Exit codes: 0 the history is whole and clean; 1 a violation (or a divergence) was found; 4
//! the trace cannot be read at all; 6 incomplete: nothing wrong was found in what could be
//! read, but the trace was cut short or damaged (no end record), so the answer is not the
//! whole history's (said on stderr too). Everything printed goes through [`console`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use slotscope_trace::history::check::DEFAULT_MAX_WINDOW_OPS;
use slotscope_trace::history::emit::{emit_test, ReproMode};
use slotscope_trace::history::{check, timeline, CheckOptions, History};
use slotscope_trace::reexec::reexecute;

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

fn describe(h: &History) -> String {
    let mut s = String::new();
    let t = &h.header.table;
    let _ = writeln!(
        s,
        "trace: scenario `{}`, seed {}, {} ({} slots asked, {} layout, {} B lines), variant {}{}",
        h.header.scenario,
        h.header.seed,
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
        h.header.tool_version,
        h.header.machine.cpu_model,
        h.header.machine.logical_cores,
        h.events,
        h.segments.len()
    );
    match h.end {
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
    if !h.stop.is_clean() {
        let _ = writeln!(s, "       read up to the last whole record: {}", h.stop);
    }
    s
}

/// Why the trace does not hold the whole run, if it does not: it has no end record (the
/// recording was cut off: a kill, a full disk, a crash), or reading stopped at damage. The
/// same answer whatever byte the cut fell on.
fn cut_short(h: &History) -> Option<String> {
    match (h.end.is_some(), h.stop.is_clean()) {
        (true, true) => None,
        (false, true) => Some("the trace was cut short: it ends after a whole record but has no end record (the recording did not close); only what was read was checked".to_owned()),
        (_, false) => Some(format!("the trace was cut short or damaged ({}); only what was read was checked", h.stop)),
    }
}

/// `slotscope check FILE [--emit-test DIR] [--window-time-limit D] [--table-path DIR]`.
pub fn run_check(
    file: &Path,
    emit_dir: Option<&Path>,
    window_time_limit: std::time::Duration,
    table_path: Option<&Path>,
) -> Result<ExitCode, Failure> {
    let limit = window_time_limit;
    let history = read(file)?;
    console::out(&describe(&history))?;
    let options = CheckOptions {
        window_time_limit: limit,
        max_window_ops: DEFAULT_MAX_WINDOW_OPS,
        linearizability: true,
    };
    let out = check(&history, &options);
    say!(
        "checked {} ops on {} keys; {} refused inserts against the definition of Full",
        out.ops_checked,
        out.keys,
        out.fulls_checked
    );
    say!(
        "linearizability (per key, Wing-Gong-Lowe, {:?} per window): {} windows: {} linearizable, {} not, {} unknown (over the time or size limit); {} keys not searched (a named check failed on them, or events are missing around them); largest window {} ops",
        limit, out.lin.windows, out.lin.ok, out.lin.violated, out.lin.unknown, out.lin.skipped_keys, out.lin.largest_window
    );
    say!(
        "time: {:.3} s in the per-key, capacity and end-state checks, {:.3} s in the linearizability search",
        out.named_checks_time.as_secs_f64(),
        out.lin_time.as_secs_f64()
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
        if let Some(why) = cut_short(&history) {
            say!("incomplete: {why}");
            console::note(&format!("slotscope: {}: incomplete: {why}", file.display()));
            return Ok(ExitCode::from(exit::INCOMPLETE));
        }
        return Ok(ExitCode::from(exit::OK));
    }
    let first = &out.violations[0];
    say!();
    say!("VIOLATION ({} found): {}", out.violations.len(), first.kind.name());
    if let Some(i) = first.op {
        let seg = history.segments.iter().find(|s| s.index == first.segment);
        if let Some(seg) = seg {
            say!("first illegal operation: {}: {}", seg.ops[i].label(), seg.ops[i].describe(seg.key_text()));
        }
    }
    say!("  {}", first.message);
    let seg = history.segments.iter().find(|s| s.index == first.segment);
    let tl =
        seg.map(|s| timeline::render(s, first, history.clock_start(), TIMELINE_ROWS)).unwrap_or_default();
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
        let emitted = emit_test(&history, first, &tl, dir, &table).map_err(|e| {
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
    console::out(&describe(&history))?;
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
            let why = cut_short(&history).or_else(|| {
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
    fn the_table_crate_is_found_from_the_source_tree() {
        let found = find_table_crate(None).unwrap();
        assert!(is_table_crate(&found));
        let e = find_table_crate(Some(Path::new("/nonexistent/table"))).unwrap_err();
        assert_eq!(e.code, exit::USAGE);
        assert!(e.message.contains("--table-path"), "{}", e.message);
    }
}
