//! The CSV report: the per-interval time series, long format, one row per interval x thread x
//! operation, plus one `all` row per interval x thread.
//!
//! Columns (`CSV_COLUMNS`; times in seconds since the clock started, latencies in ns):
//! - `interval_start_s`, `interval_end_s`, `thread`, `group`, `op` (`lookup`, `insert`,
//!   `remove`, or `all` for the thread's totals in that interval);
//! - `ops`, `ops_per_s`: operations done in the interval;
//! - `unsuccessful`: lookups that found nothing, inserts refused, removes that removed nothing
//!   (on `all` rows: their sum);
//! - `timed`, `mean_ns`, `p50_ns`, `p90_ns`, `p99_ns`, `p99_9_ns`, `max_ns`: the service time
//!   of the ops timed in the interval (empty when none was timed; `all` rows merge the ops);
//! - `corrected_p50_ns`, `corrected_p99_ns`, `corrected_max_ns`: open loop only, latency from
//!   the intended start (empty in closed loop);
//! - `skipped`, `ticket_skips`, `ring_retries`, `full_undos`, `stale_rejections`,
//!   `violations`: thread-wide counters, on `all` rows only (empty on per-op rows, so that a
//!   column sums to the run's total).
//!
//! Rows are sorted by interval start, then thread, then op. Group names are letters, digits,
//! `-` and `_`, so no field needs quoting.

use std::fmt::Write as _;

use hdrhistogram::Histogram;
use slotscope_stress::report::IntervalRecord;
use slotscope_stress::LatencySummary;
use slotscope_stress::{OpKind, Report};
use slotscope_trace::{latency_histogram, Counter};

/// The header row's fields.
pub const CSV_COLUMNS: [&str; 24] = [
    "interval_start_s",
    "interval_end_s",
    "thread",
    "group",
    "op",
    "ops",
    "ops_per_s",
    "unsuccessful",
    "timed",
    "mean_ns",
    "p50_ns",
    "p90_ns",
    "p99_ns",
    "p99_9_ns",
    "max_ns",
    "corrected_p50_ns",
    "corrected_p99_ns",
    "corrected_max_ns",
    "skipped",
    "ticket_skips",
    "ring_retries",
    "full_undos",
    "stale_rejections",
    "violations",
];

fn unsuccessful(r: &IntervalRecord, k: OpKind) -> u64 {
    match k {
        OpKind::Lookup => r.counts[Counter::LookupMisses],
        OpKind::Insert => r.counts[Counter::InsertsRefused],
        OpKind::Remove => r.counts[Counter::RemovesMissed],
    }
}

fn latency_fields(out: &mut String, service: &Histogram<u64>, corrected: &Histogram<u64>) {
    if service.is_empty() {
        out.push_str(",,,,,,,");
    } else {
        let s = LatencySummary::of(service);
        let _ = write!(out, ",{},{:.1},{},{},{},{},{}", s.count, s.mean, s.p50, s.p90, s.p99, s.p999, s.max);
    }
    if corrected.is_empty() {
        out.push_str(",,,");
    } else {
        let c = LatencySummary::of(corrected);
        let _ = write!(out, ",{},{},{}", c.p50, c.p99, c.max);
    }
}

/// The whole CSV, header first.
pub fn render(report: &Report) -> String {
    let mut out = CSV_COLUMNS.join(",");
    out.push('\n');
    let group_of = |t: usize| report.thread(t).map_or("", |th| th.group.as_str());
    for r in &report.series.records {
        #[allow(clippy::cast_precision_loss)]
        let (start, end) = (r.start_ns as f64 / 1e9, r.end_ns as f64 / 1e9);
        let secs = (end - start).max(1e-9);
        let mut all_service = latency_histogram();
        let mut all_corrected = latency_histogram();
        for k in OpKind::ALL {
            let ops = r.ops_of(k);
            let data = r.latency.iter().find(|l| l.op == k);
            let service = data.map_or_else(latency_histogram, |l| l.service.to_histogram());
            let corrected =
                data.and_then(|l| l.corrected.as_ref()).map_or_else(latency_histogram, |c| c.to_histogram());
            let _ = all_service.add(&service);
            let _ = all_corrected.add(&corrected);
            #[allow(clippy::cast_precision_loss)]
            let rate = ops as f64 / secs;
            let _ = write!(
                out,
                "{start:.6},{end:.6},{},{},{},{ops},{rate:.1},{}",
                r.thread,
                group_of(r.thread),
                k.name(),
                unsuccessful(r, k)
            );
            latency_fields(&mut out, &service, &corrected);
            out.push_str(",,,,,,\n");
        }
        let ops = r.counts.ops();
        #[allow(clippy::cast_precision_loss)]
        let rate = ops as f64 / secs;
        let failed: u64 = OpKind::ALL.iter().map(|&k| unsuccessful(r, k)).sum();
        let _ = write!(
            out,
            "{start:.6},{end:.6},{},{},all,{ops},{rate:.1},{failed}",
            r.thread,
            group_of(r.thread)
        );
        latency_fields(&mut out, &all_service, &all_corrected);
        let c = &r.counts;
        let _ = writeln!(
            out,
            ",{},{},{},{},{},{}",
            c[Counter::Skipped],
            c[Counter::TicketSkips],
            c[Counter::RingRetries],
            c[Counter::FullUndos],
            c[Counter::StaleRejections],
            c[Counter::Violations]
        );
    }
    out
}
