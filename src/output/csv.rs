//! The CSV report: the per-interval time series, long format, one row per interval x thread x
//! operation, plus one `all` row per interval x thread.
//!
//! Columns (`CSV_COLUMNS`; times in seconds since the clock started, latencies in ns):
//! - `interval_start_s`, `interval_end_s`, `thread`, `group`, `op` (`lookup`, `insert`,
//!   `remove`, or `all` for the thread's totals in that interval);
//! - `ops`, `ops_per_s`: operations done in the interval;
//! - `unsuccessful`: lookups that found nothing, inserts refused, removes that removed nothing
//!   (on `all` rows: their sum);
//! - `timed`, `service_mean_ns`, `service_p50_ns`, `service_p90_ns`, `service_p99_ns`,
//!   `service_p99_9_ns`, `service_max_ns`: the service time (start to end) of the ops timed in
//!   the interval (empty when none was timed; `all` rows merge the ops). Before the names said
//!   what they measure these were `mean_ns` .. `max_ns`;
//! - `corrected_p50_ns`, `corrected_p99_ns`, `corrected_max_ns`: open loop only, latency
//!   corrected from the intended start (empty in closed loop);
//! - `skipped`, `ticket_skips`, `ring_retries`, `full_undos`, `stale_rejections`,
//!   `violations`: thread-wide counters, on `all` rows only (empty on per-op rows, so that a
//!   column sums to the run's total).
//!
//! Rows are sorted by interval start, then thread, then op. The `csv` crate writes them (and
//! quotes a field if one ever needs it).

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
    "service_mean_ns",
    "service_p50_ns",
    "service_p90_ns",
    "service_p99_ns",
    "service_p99_9_ns",
    "service_max_ns",
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

/// The latency columns: service time (7 fields), then corrected (3), empty where nothing was
/// timed.
fn latency_fields(row: &mut Vec<String>, service: &Histogram<u64>, corrected: &Histogram<u64>) {
    if service.is_empty() {
        row.extend(std::iter::repeat_n(String::new(), 7));
    } else {
        let s = LatencySummary::of(service);
        row.extend([
            s.count.to_string(),
            format!("{:.1}", s.mean),
            s.p50.to_string(),
            s.p90.to_string(),
            s.p99.to_string(),
            s.p999.to_string(),
            s.max.to_string(),
        ]);
    }
    if corrected.is_empty() {
        row.extend(std::iter::repeat_n(String::new(), 3));
    } else {
        let c = LatencySummary::of(corrected);
        row.extend([c.p50.to_string(), c.p99.to_string(), c.max.to_string()]);
    }
}

/// Rows as CSV text, through the `csv` crate.
pub fn write_rows(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    // Writing into memory cannot fail.
    let _ = w.write_record(header);
    for row in rows {
        let _ = w.write_record(&row);
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// The whole CSV, header first.
pub fn render(report: &Report) -> String {
    let mut rows = Vec::new();
    let group_of = |t: usize| report.thread(t).map_or("", |th| th.group.as_str());
    for r in &report.series.records {
        #[allow(clippy::cast_precision_loss)]
        let (start, end) = (r.start_ns as f64 / 1e9, r.end_ns as f64 / 1e9);
        let secs = (end - start).max(1e-9);
        let lead = |op: &str, ops: u64, failed: u64| {
            #[allow(clippy::cast_precision_loss)]
            let rate = ops as f64 / secs;
            vec![
                format!("{start:.6}"),
                format!("{end:.6}"),
                r.thread.to_string(),
                group_of(r.thread).to_owned(),
                op.to_owned(),
                ops.to_string(),
                format!("{rate:.1}"),
                failed.to_string(),
            ]
        };
        let mut all_service = latency_histogram();
        let mut all_corrected = latency_histogram();
        for k in OpKind::ALL {
            let data = r.latency.iter().find(|l| l.op == k);
            let service = data.map_or_else(latency_histogram, |l| l.service.to_histogram());
            let corrected =
                data.and_then(|l| l.corrected.as_ref()).map_or_else(latency_histogram, |c| c.to_histogram());
            let _ = all_service.add(&service);
            let _ = all_corrected.add(&corrected);
            let mut row = lead(k.name(), r.ops_of(k), unsuccessful(r, k));
            latency_fields(&mut row, &service, &corrected);
            row.extend(std::iter::repeat_n(String::new(), 6));
            rows.push(row);
        }
        let failed: u64 = OpKind::ALL.iter().map(|&k| unsuccessful(r, k)).sum();
        let mut row = lead("all", r.counts.ops(), failed);
        latency_fields(&mut row, &all_service, &all_corrected);
        let c = &r.counts;
        row.extend(
            [
                Counter::Skipped,
                Counter::TicketSkips,
                Counter::RingRetries,
                Counter::FullUndos,
                Counter::StaleRejections,
                Counter::Violations,
            ]
            .map(|k| c[k].to_string()),
        );
        rows.push(row);
    }
    write_rows(&CSV_COLUMNS, rows)
}
