//! The human-readable report: one printer for the headless runner and for the summary the TUI
//! prints after it closes.
//!
//! [`render_text`] writes a summary (scenario, table, machine, threads, timing, per-op
//! throughput and percentiles, contention, self-checks, digests) followed by the percentile
//! spectrum of every operation that was timed, in the layout of HdrHistogram's
//! `outputPercentileDistribution` (`Value Percentile TotalCount 1/(1-Percentile)`, values in
//! microseconds), which HdrHistogram's plotter reads. To plot one operation, cut its block out
//! (from its `# spectrum` line to its `#[Buckets` line).

use std::fmt::Write as _;

use hdrhistogram::Histogram;

use crate::engine::stats::LatencySummary;
use crate::report::{OpLatencyReport, Report};
use crate::scenario::values::{format_cores, format_ns, format_rate};
use slotscope_trace::Counter;

/// Quantile steps per halving of the distance to 100% in the spectrum (HdrHistogram's default
/// for its percentile output).
pub const SPECTRUM_TICKS_PER_HALF_DISTANCE: u32 = 5;

/// Spectrum values are printed in microseconds: latencies are recorded in nanoseconds.
const SPECTRUM_SCALE: f64 = 1000.0;

/// The whole text report with every spectrum, ending in a newline.
pub fn render_text(report: &Report) -> String {
    render_text_with(report, true)
}

/// The text report, ending in a newline: the summary, and with `spectrum` the percentile
/// spectrum of every timed operation (without it, one line saying how to get them).
pub fn render_text_with(report: &Report, spectrum: bool) -> String {
    let mut out = String::new();
    summary(&mut out, report);
    if spectrum {
        spectrum_blocks(&mut out, report);
    } else if report.ops.iter().any(|o| o.latency.service.count > 0) {
        out.push_str(
            "\nspectrum    the full percentile spectrum of each op: add --spectrum (json and hlog always carry it)\n",
        );
    }
    out
}

/// A count with a multiplier: `812`, `12.3k`, `4.56M`.
pub(crate) fn count_text(v: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let f = v as f64;
    if v < 10_000 {
        v.to_string()
    } else {
        format_rate(f)
    }
}

fn summary(out: &mut String, r: &Report) {
    let spec = &r.spec;
    let _ = writeln!(out, "slotscope {} · scenario `{}`", r.tool_version, spec.name);
    if !spec.description.is_empty() {
        let _ = writeln!(out, "  {}", spec.description);
    }
    if let Some(reason) = &r.stopped_by {
        let _ = writeln!(
            out,
            "\n!! STOPPED EARLY by {reason}: the figures cover the {} it ran, not the whole run ({})",
            format_ns(r.active().as_secs_f64() * 1e9),
            spec.stop
        );
    }
    for b in r.backends.iter().filter(|b| b.broken) {
        let _ = writeln!(
            out,
            "\n!! BROKEN TABLE VARIANT `{}` (on purpose, for teaching): violations are expected",
            spec.variant
        );
        let _ = writeln!(out, "!! {}", b.description);
    }
    out.push('\n');

    let _ = writeln!(out, "seed        {}", r.seed);
    if let Some(cmd) = &r.repeat_command {
        let _ = writeln!(out, "repeat      {cmd}");
    }
    let _ = writeln!(
        out,
        "            same scenario + seed = same per-thread op streams ({} v{}); thread interleavings \
         and timings are not reproduced",
        r.determinism.rng, r.determinism.rng_version
    );
    if !r.determinism.reproducible {
        let _ = writeln!(
            out,
            "            (digests below depend on how far each thread got: the run stopped on time, \
             not after --ops N, or its mix changed during the run)"
        );
    }

    // Table and machine.
    let tables: Vec<String> = r.backends.iter().map(|b| format!("{} ({})", b.name, b.description)).collect();
    let _ = writeln!(out, "table       {}", tables.join("; then "));
    let _ = writeln!(
        out,
        "            layout {}, {}-byte lines, variant {}, prefill {:.0}% ({} of {} asked inserted)",
        spec.layout,
        spec.line_bytes,
        spec.variant,
        spec.prefill * 100.0,
        r.prefill.inserted,
        r.prefill.asked
    );
    let m = &r.machine;
    let groups: Vec<String> = m.groups.iter().map(|g| format_cores(g)).collect();
    let _ = writeln!(
        out,
        "machine     {} · {} logical cores, {} available ({}) · grouped by {}: [{}] · {}",
        m.cpu_model,
        m.logical_cores,
        m.available_cores.len(),
        format_cores(&m.available_cores),
        m.grouping.name(),
        groups.join("] ["),
        m.os
    );

    // Threads.
    for g in &spec.groups {
        let loop_text =
            g.rate.map_or_else(|| "closed loop".to_owned(), |r| format!("open loop {}/s", format_rate(r)));
        let stale = if g.stale_share > 0.0 {
            format!(", {:.0}% stale lookups", g.stale_share * 100.0)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "group       {} × {} · mix {}/{}/{} (lookup/insert/remove) · keys {}{stale} · {loop_text} · pin {}",
            g.name, g.threads, g.mix[0], g.mix[1], g.mix[2], g.keys, g.pin
        );
    }
    for p in &r.control {
        let _ = writeln!(out, "change      at {}: {} ({})", format_ns(nanos_f(p.at_ns)), p.what, p.source);
    }
    let _ = writeln!(
        out,
        "run         {} active{} · stop: {}",
        format_ns(r.active().as_secs_f64() * 1e9),
        if r.paused_ns > 0 {
            format!(" ({} paused)", format_ns(nanos_f(r.paused_ns)))
        } else {
            String::new()
        },
        spec.stop
    );
    if let Some(asked) = spec.duration_ns.filter(|_| r.stopped_by.is_none()) {
        let active = u64::try_from(r.active().as_nanos()).unwrap_or(u64::MAX);
        // Workers stop at batch boundaries (microseconds apart); much later means one was held
        // up: descheduled on a busy machine, or stuck in an operation.
        if active > asked + asked / 10 + 100_000_000 {
            let longest = r.ops.iter().map(|o| o.latency.service.max).max().unwrap_or(0);
            let _ = writeln!(
                out,
                "!!          ran {} past its duration: a worker was held up before its next batch \
                 boundary (longest timed op: {}); rates are over the whole {}",
                format_ns(nanos_f(active - asked)),
                format_ns(nanos_f(longest)),
                format_ns(nanos_f(active))
            );
        }
    }
    let t = &r.timing;
    let every = match (t.time_every, t.time_every_auto) {
        (1, _) => "every op timed".to_owned(),
        (k, true) => format!("1 op in {k} timed (chosen at start: the clock at most 2% of the loop)"),
        (k, false) => format!("1 op in {k} timed"),
    };
    let _ = writeln!(
        out,
        "timing      clock {} ({:.1} ns per read, tick {} ns) · {every}{} · a latency includes one clock read",
        t.source.name(),
        t.ns_per_read,
        t.clock_tick_ns,
        if r.ops.iter().any(|o| o.latency.corrected.is_some()) {
            " · open loop: every op timed, corrected from the intended start"
        } else {
            ""
        }
    );
    let _ = writeln!(
        out,
        "            percentiles under {} are not resolved and show as `<{}` (3 x the larger of tick and read)",
        format_ns(t.floor_ns),
        format_ns(t.floor_ns)
    );
    if let Some(c) = &t.calibration {
        let _ = writeln!(
            out,
            "engine      overhead ~{:.1} ns/op ({:.0} to {:.0} over {} rounds) (clock {:.1} ns): measured at start against \
             the bare loop ({:.1} vs {:.1} ns/op, 1 thread, {} slots)",
            c.overhead_ns_per_op,
            c.overhead_range_ns.0,
            c.overhead_range_ns.1,
            crate::engine::calibration::ROUNDS,
            t.ns_per_read,
            c.engine_ns_per_op,
            c.bare_ns_per_op,
            c.slots
        );
        let share = c.clock_share(t.time_every);
        if share > 0.05 || t.time_every == 1 {
            let _ = writeln!(
                out,
                "{}timing 1 op in {} adds ~{:.1} ns per op ({:.0}% of the loop): the rates and the \
                 batch-timed mean include it; the default (auto) keeps it under 2%",
                if share > 0.05 { "!!          " } else { "            " },
                t.time_every,
                2.0 * c.clock_read_ns / f64::from(t.time_every.max(1)),
                100.0 * share
            );
        }
    } else {
        let _ = writeln!(out, "engine      overhead not measured (no calibration at start)");
    }
    if let Some(w) = &r.machine_watch {
        let lead = if w.noisy { "!! noise   " } else { "noise      " };
        let _ = writeln!(out, "{lead} {}", w.noise_text());
        if let Some(t) = w.transfer_text() {
            let lead = if w.transfer_changed { "!! transfer" } else { "transfer   " };
            let _ = writeln!(out, "{lead} {t}; measuring costs {}", w.transfer_cost);
        }
    }

    // Throughput and latency.
    let _ = writeln!(
        out,
        "\nthroughput  {} ops in {} = {}/s · mean {} per op per thread (every op, timed by batch)",
        count_text(r.totals.ops()),
        format_ns(r.active().as_secs_f64() * 1e9),
        format_rate(r.throughput_ops_per_s),
        format_ns(r.batch_mean_ns_per_op)
    );
    let _ = writeln!(
        out,
        "\n{:<20} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "op", "count", "ops/s", "timed", "mean", "p50", "p90", "p99", "p99.9", "p99.99", "max"
    );
    for op in &r.ops {
        let name = op.op.name();
        latency_row(out, name, op.count, op.throughput_ops_per_s, &op.latency.service, t.floor_ns);
        if let Some(c) = &op.latency.corrected {
            latency_row(
                out,
                &format!("{name} (corrected)"),
                op.count,
                op.throughput_ops_per_s,
                c,
                t.floor_ns,
            );
        }
    }
    let hits = r.totals[Counter::LookupHits];
    let misses = r.totals[Counter::LookupMisses];
    let _ = writeln!(
        out,
        "outcomes    lookups: {} hits, {} misses ({} aimed at stale keys) · inserts refused: {} · removes \
         that found nothing: {} · ops skipped (no key held): {}",
        count_text(hits),
        count_text(misses),
        count_text(r.totals[Counter::StaleLookups]),
        count_text(r.totals[Counter::InsertsRefused]),
        count_text(r.totals[Counter::RemovesMissed]),
        count_text(r.totals[Counter::Skipped])
    );

    // Contention.
    if r.spec.probes && r.backends.iter().any(|b| b.name == "slotscope") {
        let _ = writeln!(
            out,
            "contention  ticket skips {} · ring retries {} · full-table undos {} · stale rejections {}",
            count_text(r.totals[Counter::TicketSkips]),
            count_text(r.totals[Counter::RingRetries]),
            count_text(r.totals[Counter::FullUndos]),
            count_text(r.totals[Counter::StaleRejections])
        );
        let _ = writeln!(
            out,
            "            line writes: slot lines {}, ring lines {}, header line {}",
            count_text(r.totals[Counter::SlotWrites]),
            count_text(r.totals[Counter::RingWrites]),
            count_text(r.totals[Counter::HeaderWrites])
        );
    } else {
        let _ = writeln!(
            out,
            "contention  not probed (probes exist on the slotscope backend only, and were {})",
            if r.spec.probes { "on" } else { "off" }
        );
    }

    // Per thread.
    let _ = writeln!(
        out,
        "\n{:<7} {:<12} {:<10} {:<10} {:>9} {:>9} {:>10} op-stream digest",
        "thread", "group", "core", "state", "ops", "ops/s", "violations"
    );
    for th in &r.threads {
        let core = match (th.core, th.wanted_core) {
            (Some(c), _) => c.to_string(),
            (None, Some(w)) => format!("{w}: failed"),
            (None, None) => "unpinned".to_owned(),
        };
        let _ = writeln!(
            out,
            "{:<7} {:<12} {:<10} {:<10} {:>9} {:>9} {:>10} {:#018x}",
            th.index,
            th.group,
            core,
            th.state.name(),
            count_text(th.counts.ops()),
            format_rate(th.throughput_ops_per_s),
            th.violations,
            th.digest
        );
    }
    let _ =
        writeln!(out, "            digest: {}; covers {}", r.determinism.digest, r.determinism.digest_covers);

    // Self-checks.
    let v = &r.checks.violations;
    if r.checks.passed {
        let _ = writeln!(out, "\nself-check  PASSED: no violations");
    } else {
        let _ = writeln!(
            out,
            "\nself-check  FAILED: {} violation{}",
            v.count,
            if v.count == 1 { "" } else { "s" }
        );
        for violation in &v.first {
            let _ = writeln!(out, "            {violation}");
        }
        if v.count > v.first.len() as u64 {
            let _ = writeln!(
                out,
                "            ... and {} more (only the first are described)",
                v.count - v.first.len() as u64
            );
        }
    }
    for s in &r.checks.segments {
        let b = &s.balance;
        let balance = match (b.len, b.ok) {
            (Some(len), Some(ok)) => format!(
                "inserted {} - removed {} = {}, table holds {len}: {}",
                b.inserted,
                b.removed,
                i128::from(b.inserted) - i128::from(b.removed),
                if ok { "ok" } else { "MISMATCH" }
            ),
            _ => format!(
                "inserted {}, removed {} (this backend cannot count its elements)",
                b.inserted, b.removed
            ),
        };
        let _ = writeln!(out, "            {}: {balance}", s.backend);
        if let Some(snap) = &s.snapshot {
            let _ = writeln!(
                out,
                "            final scan: {} occupied + {} free of {} slots, {} reserved, header count {}: {}",
                snap.occupied,
                snap.free,
                snap.capacity,
                snap.reserved,
                snap.count,
                if snap.ok { "ok" } else { "MISMATCH" }
            );
        }
    }
    if r.series.dropped > 0 {
        let _ = writeln!(
            out,
            "note        {} series intervals were dropped (per-thread cap reached)",
            r.series.dropped
        );
    }
    for w in &r.warnings {
        let _ = writeln!(out, "warning     {w}");
    }
}

pub(crate) fn nanos_f(ns: u64) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let f = ns as f64;
    f
}

fn latency_row(out: &mut String, name: &str, count: u64, rate: f64, s: &LatencySummary, floor_ns: f64) {
    if s.count == 0 {
        let _ = writeln!(out, "{name:<20} {:>9} {:>9} {:>9}", count_text(count), format_rate(rate), 0);
        return;
    }
    #[allow(clippy::cast_precision_loss)]
    let ns = |v: u64| resolved_ns(v as f64, floor_ns);
    let _ = writeln!(
        out,
        "{name:<20} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        count_text(count),
        format_rate(rate),
        count_text(s.count),
        format_ns(s.mean),
        ns(s.p50),
        ns(s.p90),
        ns(s.p99),
        ns(s.p999),
        ns(s.p9999),
        ns(s.max)
    );
}

/// `v` ns, or `<floor` when the clock does not resolve it.
pub fn resolved_ns(v: f64, floor_ns: f64) -> String {
    if v < floor_ns {
        format!("<{}", format_ns(floor_ns))
    } else {
        format_ns(v)
    }
}

/// Every timed op's spectra: service time, then the corrected latency where there is one.
pub(crate) fn spectrum_blocks(out: &mut String, report: &Report) {
    for op in &report.ops {
        spectrum_block(out, &op.latency, false);
        spectrum_block(out, &op.latency, true);
    }
}

fn spectrum_block(out: &mut String, lat: &OpLatencyReport, corrected: bool) {
    let data = if corrected { lat.corrected_histogram.as_ref() } else { Some(&lat.service_histogram) };
    let Some(data) = data.filter(|d| !d.is_empty()) else { return };
    let what = if corrected { "corrected latency (from the intended start)" } else { "service time" };
    let _ = writeln!(
        out,
        "\n# spectrum: {}{} {what}, Value in microseconds",
        lat.op.name(),
        if corrected { " corrected" } else { "" }
    );
    write_spectrum(out, &data.to_histogram());
}

/// Writes `h` (values in ns) as HdrHistogram's percentile distribution, values in µs.
pub fn write_spectrum(out: &mut String, h: &Histogram<u64>) {
    let _ = writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    let mut total = 0u64;
    #[allow(clippy::cast_precision_loss)]
    for v in h.iter_quantiles(SPECTRUM_TICKS_PER_HALF_DISTANCE) {
        total += v.count_since_last_iteration();
        let value = v.value_iterated_to() as f64 / SPECTRUM_SCALE;
        let q = v.quantile_iterated_to();
        if q < 1.0 {
            let _ = writeln!(out, "{value:12.3} {q:2.12} {total:10} {:14.2}", 1.0 / (1.0 - q));
        } else {
            let _ = writeln!(out, "{value:12.3} {q:2.12} {total:10}");
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let (mean, stdev, max) =
        (h.mean() / SPECTRUM_SCALE, h.stdev() / SPECTRUM_SCALE, h.max() as f64 / SPECTRUM_SCALE);
    let sub_buckets = (2 * 10u64.pow(u32::from(h.sigfig()))).next_power_of_two();
    let _ = writeln!(out, "#[Mean    = {mean:12.3}, StdDeviation   = {stdev:12.3}]");
    let _ = writeln!(out, "#[Max     = {max:12.3}, Total count    = {:12}]", h.len());
    let _ = writeln!(out, "#[Buckets = {:12}, SubBuckets     = {sub_buckets:12}]", h.buckets());
}

#[cfg(test)]
mod tests {
    use super::*;
    use slotscope_trace::latency_histogram;

    #[test]
    fn spectrum_has_the_hdrhistogram_layout() {
        let mut h = latency_histogram();
        for v in 1..=1000u64 {
            h.record(v * 10).unwrap();
        }
        let mut out = String::new();
        write_spectrum(&mut out, &h);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0].split_whitespace().collect::<Vec<_>>(),
            ["Value", "Percentile", "TotalCount", "1/(1-Percentile)"]
        );
        assert_eq!(lines[1], "");
        let rows: Vec<Vec<f64>> = lines[2..]
            .iter()
            .take_while(|l| !l.starts_with('#'))
            .map(|l| l.split_whitespace().map(|x| x.parse().unwrap()).collect())
            .collect();
        // First row: the smallest value (10 ns = 0.010 us) at quantile 0 with count 1.
        assert_eq!(rows[0][..3], [0.01, 0.0, 1.0]);
        // Quantiles and counts only go up, the last row is 100% of all values, without the
        // fourth column.
        for w in rows.windows(2) {
            assert!(w[1][1] >= w[0][1] && w[1][2] >= w[0][2], "{w:?}");
        }
        let last = rows.last().unwrap();
        assert_eq!(last.len(), 3);
        assert_eq!((last[1], last[2]), (1.0, 1000.0));
        // 1/(1-q) matches q on a middle row.
        let mid = &rows[rows.len() / 2];
        assert!((mid[3] - 1.0 / (1.0 - mid[1])).abs() < 0.01 * mid[3], "{mid:?}");
        assert!(out.contains("Total count    =         1000]"), "{out}");
    }

    #[test]
    fn core_lists_compress_runs() {
        assert_eq!(format_cores(&[0, 1, 2, 3, 8]), "0-3,8");
        assert_eq!(format_cores(&[5]), "5");
        assert_eq!(format_cores(&[]), "");
    }

    #[test]
    fn counts_use_multipliers_past_ten_thousand() {
        assert_eq!(count_text(812), "812");
        assert_eq!(count_text(12_345), "12.3k");
        assert_eq!(count_text(4_560_000), "4.56M");
    }
}
