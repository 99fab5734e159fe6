//! The one-screen verdict: what a run did, in at most [`VERDICT_LINES`] lines of at most
//! [`VERDICT_WIDTH`] columns for up to two thread groups. It is the default text report
//! (headless, after the TUI, after a lesson); the full summary (`--detail`: the machine, the
//! timing method, every thread with its op-stream digest) and the percentile spectra
//! (`--spectrum`) are in [`crate::report::text`], and the json report carries everything.
//!
//! Per op it shows p50, p99, p99.9 and max, a bar of them on a log scale, and a sparkline of
//! how the timed ops spread over that scale. Rows are labelled by what they measure: `service
//! time` (start to end of the op) or `open loop, corrected from intended start` (the open-loop
//! groups' latency from when the op was due). With two thread groups the rows are per group,
//! under the group's name (its threads' histograms merged), so that an open-loop group's
//! corrected rows never mix with a closed-loop group's service times; with more, per op over
//! every thread (`--detail` has each thread). Lines that do not apply (no recording, no
//! probes, no warnings) are left out.
//!
//! Hand-written: a fixed text layout with column widths and two small glyph rows; no crate
//! formats a terminal summary of this shape.

use hdrhistogram::Histogram;

use crate::engine::stats::{LatencySet, LatencySummary};
use crate::report::text::{count_text, resolved_ns, spectrum_blocks};
use crate::report::{OpLatencyReport, Report};
use crate::scenario::values::{format_ns, format_rate};
use crate::OpKind;
use slotscope_trace::Counter;

/// The widest line the verdict prints.
pub const VERDICT_WIDTH: usize = 120;
/// The most lines it prints for up to two thread groups, three ops and three warnings.
pub const VERDICT_LINES: usize = 40;

/// Bar and sparkline scale: 10 ns to 1 s, in half decades.
const SCALE_LO_LOG10: f64 = 1.0;
const SCALE_DECADES: f64 = 8.0;
/// Cells of the bar and of the sparkline (two per decade).
const SCALE_CELLS: usize = 16;
/// Thread groups listed by name; more fold into `--detail`.
const GROUPS_SHOWN: usize = 2;
/// Warnings and violations quoted; more fold into `--detail`.
const QUOTED: usize = 3;

const SERVICE: &str = "service time";
const CORRECTED: &str = "open loop, corrected from intended start";

/// The narrowest verdict: below it lines are cut.
pub const VERDICT_MIN_WIDTH: usize = 70;

thread_local! {
    /// The width the verdict being rendered on this thread fits (set by [`render_verdict_at`]
    /// for the length of one call, so that every line helper reads it without a parameter).
    static WIDTH: std::cell::Cell<usize> = const { std::cell::Cell::new(VERDICT_WIDTH) };
}

fn width() -> usize {
    WIDTH.with(std::cell::Cell::get)
}

/// The verdict, ending in a newline; with `spectrum`, every timed op's percentile spectrum
/// after it.
pub fn render_verdict(r: &Report, spectrum: bool) -> String {
    render_verdict_at(r, spectrum, VERDICT_WIDTH)
}

/// The verdict fitted to `columns` (a terminal's width; [`VERDICT_MIN_WIDTH`] ..=
/// [`VERDICT_WIDTH`]): below 120 columns the latency rows lose their bar and sparkline first,
/// and the corrected rows say `corrected from intended start` under their group; prose wraps
/// at the width.
pub fn render_verdict_at(r: &Report, spectrum: bool, columns: usize) -> String {
    let before = WIDTH.with(|w| w.replace(columns.clamp(VERDICT_MIN_WIDTH, VERDICT_WIDTH)));
    let out = render(r, spectrum);
    WIDTH.with(|w| w.set(before));
    out
}

fn render(r: &Report, spectrum: bool) -> String {
    let mut out = String::new();
    head(&mut out, r);
    latency(&mut out, r);
    counts(&mut out, r);
    instrument(&mut out, r);
    checks(&mut out, r);
    tail(&mut out, r, spectrum);
    if spectrum {
        spectrum_blocks(&mut out, r);
    }
    out
}

/// `text` cut to `width` characters, with `...` where it was cut.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut s: String = text.chars().take(width.saturating_sub(3)).collect();
    s.push_str("...");
    s
}

/// `text` on one line, or word-wrapped where it is wider than the verdict (at ` · ` where
/// it can, else at a space), continuation lines indented under the text after its 12-column
/// lead (2 columns if it has none); only a single word wider than a line is cut.
fn line(out: &mut String, text: &str) {
    let w = width();
    if text.chars().count() <= w {
        out.push_str(text);
        out.push('\n');
        return;
    }
    let led = text.chars().count() > 12
        && text.chars().nth(11) == Some(' ')
        && !text.starts_with(' ')
        && text.chars().take(11).collect::<String>().trim_end().chars().all(|c| c != ' ');
    let indent = if led { 12 } else { 2 };
    let mut rest: &str = text;
    let mut first = true;
    loop {
        let room = if first { w } else { w - indent };
        if rest.chars().count() <= room {
            push_line(out, first, indent, rest);
            return;
        }
        let cut: usize = rest.char_indices().nth(room).map_or(rest.len(), |(i, _)| i);
        let head = &rest[..cut];
        let at = head.rfind(" · ").filter(|&i| i > 0).or_else(|| head.rfind(' ').filter(|&i| i > 0));
        match at {
            Some(i) => {
                push_line(out, first, indent, head[..i].trim_end());
                rest = rest[i..].trim_start_matches([' ', '·']).trim_start();
            }
            None => {
                push_line(out, first, indent, &fit(rest, room));
                return;
            }
        }
        first = false;
    }
}

fn push_line(out: &mut String, first: bool, indent: usize, text: &str) {
    if !first {
        out.push_str(&" ".repeat(indent));
    }
    out.push_str(text);
    out.push('\n');
}

/// `lead` (12 columns) and `text` word-wrapped under it: free text (a warning, a violation)
/// is never cut.
fn prose(out: &mut String, lead: &str, text: &str) {
    fill(out, lead, text.split(' '), " ");
}

/// `lead` (12 columns) and the parts joined by ` · `, onto as many lines as they need: a part
/// never splits, continuation lines are indented under the first part.
fn wrapped(out: &mut String, lead: &str, parts: &[String]) {
    fill(out, lead, parts.iter().map(String::as_str), " · ");
}

/// `lead` and the `items` joined by `sep`, a new line (indented 12) where the next item would
/// pass [`VERDICT_WIDTH`].
fn fill<'a>(out: &mut String, lead: &str, items: impl Iterator<Item = &'a str>, sep: &str) {
    let mut now = format!("{lead:<11} ");
    let mut empty = true;
    for item in items {
        let gap = if empty { "" } else { sep };
        if !empty && now.chars().count() + gap.chars().count() + item.chars().count() > width() {
            line(out, &now);
            now = format!("{:<12}{item}", "");
        } else {
            now.push_str(gap);
            now.push_str(item);
        }
        empty = false;
    }
    line(out, &now);
}

fn head(out: &mut String, r: &Report) {
    let threads = r.threads.len();
    let tables: Vec<&str> = r.backends.iter().map(|b| b.description.as_str()).collect();
    line(
        out,
        &format!(
            "slotscope {} · `{}` on {} · {threads} thread{} · {} · seed {}",
            r.tool_version,
            r.spec.name,
            if tables.is_empty() { r.spec.backend.to_owned() } else { tables.join("; then ") },
            if threads == 1 { "" } else { "s" },
            format_ns(r.active().as_secs_f64() * 1e9),
            r.seed
        ),
    );
    if !r.spec.description.is_empty() {
        line(out, &format!("  {}", r.spec.description));
    }
    if let Some(reason) = &r.stopped_by {
        line(
            out,
            &format!("!! STOPPED EARLY by {reason}: the figures cover the time it ran, not the whole run"),
        );
    }
    if r.backends.iter().any(|b| b.broken) {
        line(
            out,
            &format!(
                "!! BROKEN TABLE VARIANT `{}` (on purpose, for teaching): violations are expected",
                r.spec.variant
            ),
        );
    }
    out.push('\n');
    line(
        out,
        &format!(
            "throughput  {} ops in {} = {}/s · {} per op per thread (the mean over every op)",
            count_text(r.totals.ops()),
            format_ns(r.active().as_secs_f64() * 1e9),
            format_rate(r.throughput_ops_per_s),
            format_ns(r.batch_mean_ns_per_op)
        ),
    );
}

/// One latency row: the op, what the row measures, the op count, and the summary and
/// histogram of the timed ops.
type Row = (&'static str, &'static str, u64, LatencySummary, Histogram<u64>);

/// The service-time and corrected rows of one op's latency (those with timed ops).
fn op_rows(op: &'static str, count: u64, l: &OpLatencyReport) -> Vec<Row> {
    let service = (l.service.count > 0).then(|| (SERVICE, l.service, l.service_histogram.to_histogram()));
    let corrected = l
        .corrected
        .as_ref()
        .filter(|c| c.count > 0)
        .and_then(|c| l.corrected_histogram.as_ref().map(|h| (CORRECTED, *c, h.to_histogram())));
    [service, corrected].into_iter().flatten().map(|(label, s, h)| (op, label, count, s, h)).collect()
}

/// The latency rows, per thread group when there are two to [`GROUPS_SHOWN`] of them (each
/// group's name on a line above its rows, its threads' histograms merged), else per op over
/// every thread.
fn latency_rows(r: &Report) -> Vec<(Option<String>, Vec<Row>)> {
    let mut groups: Vec<&str> = Vec::new();
    for t in &r.threads {
        if !groups.contains(&t.group.as_str()) {
            groups.push(&t.group);
        }
    }
    if groups.len() < 2 || groups.len() > GROUPS_SHOWN {
        let rows =
            r.ops.iter().filter(|o| o.count > 0).flat_map(|o| op_rows(o.op.name(), o.count, &o.latency));
        return vec![(None, rows.collect())];
    }
    groups
        .iter()
        .map(|&g| {
            let members: Vec<_> = r.threads.iter().filter(|t| t.group == g).collect();
            let rows = OpKind::ALL
                .iter()
                .flat_map(|&k| {
                    let count: u64 = members.iter().map(|t| t.counts.ops_of(k)).sum();
                    let mut set = LatencySet::new();
                    for t in &members {
                        for l in t.latency.iter().filter(|l| l.op == k) {
                            let _ = set.service[k.index()].add(l.service_histogram.to_histogram());
                            if let Some(c) = &l.corrected_histogram {
                                let _ = set.corrected[k.index()].add(c.to_histogram());
                            }
                        }
                    }
                    if count == 0 {
                        Vec::new()
                    } else {
                        op_rows(k.name(), count, &OpLatencyReport::of(&set, k))
                    }
                })
                .collect();
            let n = members.len();
            (Some(format!("{g} ({n} thread{})", if n == 1 { "" } else { "s" })), rows)
        })
        .collect()
}

fn latency(out: &mut String, r: &Report) {
    let floor = r.timing.floor_ns;
    let groups = latency_rows(r);
    out.push('\n');
    if groups.iter().all(|(_, rows)| rows.is_empty()) {
        line(out, "latency     no op was timed");
        return;
    }
    // 120 columns: every column; narrower, the bars go first, then p99.9.
    let bars = width() >= VERDICT_WIDTH;
    let p999 = width() >= 75;
    let label_w = if bars { 40 } else { 29 };
    let cols = |op: &str, label: &str, ops: &str, p: [&str; 4], extra: [&str; 2]| {
        let mut l = format!("{op:<6} {label:<label_w$} {ops:>6} {:>7} {:>7}", p[0], p[1]);
        if p999 {
            l.push_str(&format!(" {:>7}", p[2]));
        }
        l.push_str(&format!(" {:>7}", p[3]));
        if bars {
            l.push_str(&format!(" {:<16} {:<16}", extra[0], extra[1]));
        }
        l
    };
    let head =
        cols("op", "latency", "ops", ["p50", "p99", "p99.9", "max"], ["p50-max, log", "spread of timed"]);
    line(out, head.trim_end());
    for (group, rows) in &groups {
        if let Some(g) = group {
            line(out, g);
        }
        let mut last = "";
        for (op, label, count, s, h) in rows {
            #[allow(clippy::cast_precision_loss)]
            let ns = |v: u64| resolved_ns(v as f64, floor);
            // Narrow: the corrected rows' words without the loop mode (their group, the scale
            // line and the service-time row above them say it).
            let label = if !bars && *label == CORRECTED { "corrected from intended start" } else { label };
            let p = [ns(s.p50), ns(s.p99), ns(s.p999), ns(s.max)];
            let row = cols(
                if *op == last { "" } else { op },
                label,
                &count_text(*count),
                [&p[0], &p[1], &p[2], &p[3]],
                [&bar(s), &sparkline(h)],
            );
            line(out, &row);
            last = op;
        }
    }
    let unresolved = format!("`<{}` is below the clock's resolution", format_ns(floor));
    if bars {
        line(
            out,
            &format!(
                "{:<6} scale 10ns to 1s, 2 cells a decade: █ p50 to p99, ▓ to p99.9, ░ to max; {unresolved}",
                ""
            ),
        );
    } else {
        line(out, &format!("{:<6} corrected: open loop, from when the op was due · {unresolved}", ""));
    }
}

/// The cell (0..SCALE_CELLS) of `ns` on the log scale.
fn cell(ns: u64) -> usize {
    #[allow(clippy::cast_precision_loss)]
    let x = ((ns.max(1) as f64).log10() - SCALE_LO_LOG10) / SCALE_DECADES * SCALE_CELLS as f64;
    // In 0..SCALE_CELLS by the clamp, so the cast is exact.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let c = x.clamp(0.0, (SCALE_CELLS - 1) as f64) as usize;
    c
}

/// p50..p99 solid, ..p99.9 dense, ..max light, on the 10 ns..1 s scale.
fn bar(s: &LatencySummary) -> String {
    let (a, b, c, d) = (cell(s.p50), cell(s.p99), cell(s.p999), cell(s.max));
    (0..SCALE_CELLS)
        .map(|i| match i {
            i if i < a => '·',
            i if i <= b => '█',
            i if i <= c => '▓',
            i if i <= d => '░',
            _ => '·',
        })
        .collect()
}

/// How the timed ops spread over the scale: one cell per half decade, its height the share of
/// ops there on a log scale (so that a tail of a few in a million still shows), blank for none.
fn sparkline(h: &Histogram<u64>) -> String {
    const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let mut bins = [0u64; SCALE_CELLS];
    for v in h.iter_recorded() {
        bins[cell(v.value_iterated_to())] += v.count_at_value();
    }
    let total = h.len().max(1);
    bins.iter()
        .map(|&n| {
            if n == 0 {
                return ' ';
            }
            // Share of the ops in this cell, 1e-6..1 mapped onto the 8 levels.
            #[allow(clippy::cast_precision_loss)]
            let share = (n as f64 / total as f64).log10();
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let level = ((share + 6.0) / 6.0 * 7.0).round().clamp(0.0, 7.0) as usize;
            LEVELS[level]
        })
        .collect()
}

fn counts(out: &mut String, r: &Report) {
    let t = &r.totals;
    out.push('\n');
    let mut parts = Vec::new();
    if t[Counter::LookupHits] + t[Counter::LookupMisses] > 0 {
        parts.push(format!(
            "lookups {} hit, {} missed ({} aimed at stale keys)",
            count_text(t[Counter::LookupHits]),
            count_text(t[Counter::LookupMisses]),
            count_text(t[Counter::StaleLookups])
        ));
    }
    parts.push(format!("inserts refused (full) {}", count_text(t[Counter::InsertsRefused])));
    parts.push(format!("removes that found nothing {}", count_text(t[Counter::RemovesMissed])));
    if t[Counter::Skipped] > 0 {
        parts.push(format!("skipped (no key held) {}", count_text(t[Counter::Skipped])));
    }
    wrapped(out, "outcomes", &parts);
    if r.spec.probes && r.backends.iter().any(|b| b.name == "slotscope") {
        let ops = t.ops().max(1);
        #[allow(clippy::cast_precision_loss)]
        let per_op = t[Counter::HeaderWrites] as f64 / ops as f64;
        wrapped(
            out,
            "contention",
            &[
                format!("header line {} writes ({per_op:.2} per op)", count_text(t[Counter::HeaderWrites])),
                format!("slot lines {} writes", count_text(t[Counter::SlotWrites])),
                format!("ticket skips {}", count_text(t[Counter::TicketSkips])),
                format!("ring retries {}", count_text(t[Counter::RingRetries])),
                format!("full-table undos {}", count_text(t[Counter::FullUndos])),
                format!("stale keys rejected {}", count_text(t[Counter::StaleRejections])),
            ],
        );
    }
    let mut groups: Vec<String> = r
        .spec
        .groups
        .iter()
        .take(GROUPS_SHOWN)
        .map(|g| {
            let rate: f64 =
                r.threads.iter().filter(|t| t.group == g.name).map(|t| t.throughput_ops_per_s).sum();
            let threads = r.threads.iter().filter(|t| t.group == g.name).count();
            let mode = g
                .rate
                .map_or_else(|| "closed loop".to_owned(), |x| format!("open loop at {}/s", format_rate(x)));
            format!(
                "{} x{threads} ({mode}, mix {}/{}/{}) {}/s",
                g.name,
                g.mix[0],
                g.mix[1],
                g.mix[2],
                format_rate(rate)
            )
        })
        .collect();
    if r.spec.groups.len() > GROUPS_SHOWN {
        groups.push(format!("{} more groups: --detail", r.spec.groups.len() - GROUPS_SHOWN));
    }
    wrapped(out, "threads", &groups);
}

fn instrument(out: &mut String, r: &Report) {
    let t = &r.timing;
    let mut parts = Vec::new();
    match &t.calibration {
        Some(c) => parts.push(format!("engine ~{:.1} ns/op", c.overhead_ns_per_op)),
        None => parts.push("engine overhead not measured".to_owned()),
    }
    parts.push(format!(
        "clock {:.1} ns a read, {}",
        t.ns_per_read,
        if t.time_every == 1 {
            "every op timed".to_owned()
        } else {
            format!("1 op in {} timed", t.time_every)
        }
    ));
    let mut alarm = false;
    if let Some(w) = &r.machine_watch {
        if w.noise_known {
            alarm |= w.noisy;
            parts.push(format!(
                "{} ({:.2} other cores on average)",
                if w.noisy { "NOISY" } else { "quiet" },
                w.noise_average_cores
            ));
        } else {
            parts.push("noise unknown".to_owned());
        }
        if let Some(ns) = w.transfer_last_ns {
            alarm |= w.transfer_changed;
            parts.push(format!(
                "line transfer ~{ns:.0} ns{}",
                if w.transfer_changed { " (CHANGED)" } else { "" }
            ));
        }
    }
    wrapped(out, if alarm { "!! instrument" } else { "instrument" }, &parts);
    if let Some(rec) = &r.recording {
        line(
            out,
            &format!(
                "{} `{}`: {} events, {} bytes, {} dropped, writers waited {} times ({}), {}",
                if rec.dropped > 0 || rec.error.is_some() { "!! recording" } else { "recording  " },
                rec.path,
                count_text(rec.events),
                count_text(rec.bytes),
                count_text(rec.dropped),
                count_text(rec.waits),
                format_ns(super::text::nanos_f(rec.waited_ns)),
                rec.error.as_deref().unwrap_or(rec.end)
            ),
        );
    }
}

fn checks(out: &mut String, r: &Report) {
    out.push('\n');
    let balanced = r.checks.segments.iter().all(|s| s.balance.ok != Some(false));
    let scanned = r.checks.segments.iter().all(|s| s.snapshot.as_ref().is_none_or(|x| x.ok));
    let v = &r.checks.violations;
    if r.checks.passed {
        line(
            out,
            &format!(
                "self-check  PASSED: no violations · inserts - removes = elements held: {} · final scan: {}",
                if balanced { "ok" } else { "MISMATCH" },
                if scanned { "ok" } else { "MISMATCH" }
            ),
        );
    } else {
        line(
            out,
            &format!("self-check  FAILED: {} violation{}", v.count, if v.count == 1 { "" } else { "s" }),
        );
        for violation in v.first.iter().take(QUOTED) {
            prose(out, "", &violation.to_string());
        }
        if v.count > QUOTED as u64 {
            line(
                out,
                &format!(
                    "            ... and {} more (--detail lists the first ones)",
                    v.count - QUOTED as u64
                ),
            );
        }
    }
    for w in r.warnings.iter().take(QUOTED) {
        prose(out, "warning", w);
    }
    if r.warnings.len() > QUOTED {
        line(out, &format!("warning     ... and {} more (--detail)", r.warnings.len() - QUOTED));
    }
}

fn tail(out: &mut String, r: &Report, spectrum: bool) {
    if let Some(cmd) = &r.repeat_command {
        // Wrapped with shell continuations, so that the lines still paste as one command.
        let mut rest = cmd.as_str();
        let mut lead = "repeat      ";
        while !rest.is_empty() {
            let room = width() - lead.len() - 2;
            // The byte index of the `room`-th character: a path in the command may not be ASCII.
            let end = rest.char_indices().nth(room).map_or(rest.len(), |(i, _)| i);
            let cut = if rest.chars().count() <= room + 2 {
                rest.len()
            } else {
                // Before a flag if one starts in the room, else at a space, else mid-word.
                rest[..end].rfind(" -").filter(|&i| i > 0).or_else(|| rest[..end].rfind(' ')).unwrap_or(end)
            };
            let (now, later) = rest.split_at(cut);
            let later = later.trim_start();
            if later.is_empty() {
                line(out, &format!("{lead}{now}"));
            } else {
                line(out, &format!("{lead}{now} \\"));
            }
            rest = later;
            lead = "              ";
        }
    }
    let mut more =
        vec!["--detail: the machine, the timing method, each thread and its op-stream digest".to_owned()];
    if !spectrum {
        more.push("--spectrum: the percentile spectra".to_owned());
    }
    more.push("--output-format json: all of it".to_owned());
    wrapped(out, "more", &more);
}
