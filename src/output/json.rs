//! The JSON report: one document, versioned by `schema_version`, described by
//! `docs/report.schema.json`.
//!
//! It is the engine's `Report` as is, except for the per-interval series: the engine keeps one
//! record per thread and interval, each with its histograms, which grows as threads x
//! duration. The JSON carries one record per interval instead, summed over threads, with
//! percentile summaries rather than histograms (an hour at the default 1 s interval is 3600
//! small records whatever the thread count). Per-thread intervals are in the CSV and hlog
//! formats. Whole-run histograms (per op, and per thread and op) are included, lossless.
//! It also carries the `--fail-if` verdicts.

use std::collections::BTreeMap;

use serde::Serialize;
use slotscope_stress::report::fail_if::{Outcome, Verdict};
use slotscope_stress::report::IntervalRecord;
use slotscope_stress::LatencySummary;
use slotscope_stress::{OpKind, Report};
use slotscope_trace::{latency_histogram, Counts};

use super::Extras;
use crate::exit::{self, Failure};

/// One series interval over all threads.
#[derive(Serialize)]
struct Interval {
    start_ns: u64,
    end_ns: u64,
    threads: usize,
    counts: Counts,
    ops_per_s: f64,
    latency: Vec<IntervalLatency>,
}

#[derive(Serialize)]
struct IntervalLatency {
    op: OpKind,
    service: LatencySummary,
    corrected: Option<LatencySummary>,
}

#[derive(Serialize)]
struct FailIfJson {
    condition: String,
    measured: Option<f64>,
    failed: bool,
    message: String,
}

/// Intervals summed over threads (records grouped by the interval their start falls in).
fn intervals(records: &[IntervalRecord], interval_ns: u64) -> Vec<Interval> {
    let mut groups: BTreeMap<u64, Vec<&IntervalRecord>> = BTreeMap::new();
    for r in records {
        groups.entry(r.start_ns / interval_ns.max(1)).or_default().push(r);
    }
    groups
        .into_values()
        .map(|rs| {
            let start_ns = rs.iter().map(|r| r.start_ns).min().unwrap_or(0);
            let end_ns = rs.iter().map(|r| r.end_ns).max().unwrap_or(0);
            let mut counts = Counts::ZERO;
            let mut service = [latency_histogram(), latency_histogram(), latency_histogram()];
            let mut corrected = [latency_histogram(), latency_histogram(), latency_histogram()];
            for r in &rs {
                counts.add(&r.counts);
                for l in &r.latency {
                    let _ = service[l.op.index()].add(l.service.to_histogram());
                    if let Some(c) = &l.corrected {
                        let _ = corrected[l.op.index()].add(c.to_histogram());
                    }
                }
            }
            #[allow(clippy::cast_precision_loss)]
            let secs = (end_ns.saturating_sub(start_ns) as f64 / 1e9).max(1e-9);
            #[allow(clippy::cast_precision_loss)]
            let ops_per_s = counts.ops() as f64 / secs;
            let latency = OpKind::ALL
                .iter()
                .filter(|k| !service[k.index()].is_empty() || !corrected[k.index()].is_empty())
                .map(|&k| IntervalLatency {
                    op: k,
                    service: LatencySummary::of(&service[k.index()]),
                    corrected: (!corrected[k.index()].is_empty())
                        .then(|| LatencySummary::of(&corrected[k.index()])),
                })
                .collect();
            Interval { start_ns, end_ns, threads: rs.len(), counts, ops_per_s, latency }
        })
        .collect()
}

fn verdict_json(v: &Verdict<'_>) -> FailIfJson {
    FailIfJson {
        condition: v.condition.to_string(),
        measured: match v.outcome {
            Outcome::Clear(x) | Outcome::Triggered(x) | Outcome::Unresolved(x, _) => Some(x),
            Outcome::Unavailable => None,
        },
        failed: v.failed(),
        message: v.to_string(),
    }
}

/// The statistics of a latency summary that are percentiles (min and max included).
const PERCENTILES: [&str; 7] = ["min", "p50", "p90", "p99", "p999", "p9999", "max"];

/// Beside each latency summary (`service`, `corrected`) of the per-op and per-thread reports,
/// `service_unresolved` / `corrected_unresolved`: the percentiles below `timing.floor_ns`,
/// which the text and the TUI print as `<X`. The values themselves stay as measured.
fn flag_unresolved(doc: &mut serde_json::Value, floor_ns: f64) {
    let flag = |lat: &mut serde_json::Value| {
        for which in ["service", "corrected"] {
            let Some(summary) = lat.get(which).filter(|v| v.is_object()) else {
                lat[format!("{which}_unresolved")] = serde_json::json!([]);
                continue;
            };
            let under: Vec<&str> = PERCENTILES
                .iter()
                .copied()
                .filter(|p| summary.get(*p).and_then(serde_json::Value::as_f64).is_some_and(|v| v < floor_ns))
                .filter(|_| summary.get("timed").and_then(serde_json::Value::as_u64).unwrap_or(0) > 0)
                .collect();
            lat[format!("{which}_unresolved")] = serde_json::json!(under);
        }
    };
    if let Some(ops) = doc.get_mut("ops").and_then(serde_json::Value::as_array_mut) {
        for op in ops {
            if let Some(lat) = op.get_mut("latency") {
                flag(lat);
            }
        }
    }
    if let Some(threads) = doc.get_mut("threads").and_then(serde_json::Value::as_array_mut) {
        for t in threads {
            if let Some(lats) = t.get_mut("latency").and_then(serde_json::Value::as_array_mut) {
                lats.iter_mut().for_each(flag);
            }
        }
    }
}

/// The document as a JSON value.
pub fn document(report: &Report, extras: &Extras<'_>) -> Result<serde_json::Value, serde_json::Error> {
    let mut doc = serde_json::to_value(report)?;
    let series = serde_json::json!({
        "interval_ns": report.series.interval_ns,
        "dropped": report.series.dropped,
        "thread_records": report.series.records.len(),
        "intervals": serde_json::to_value(intervals(&report.series.records, report.series.interval_ns))?,
    });
    doc["series"] = series;
    flag_unresolved(&mut doc, report.timing.floor_ns);
    doc["fail_if"] = serde_json::to_value(extras.verdicts.iter().map(verdict_json).collect::<Vec<_>>())?;
    Ok(doc)
}

/// The document, pretty-printed, with a final newline.
pub fn render(report: &Report, extras: &Extras<'_>) -> Result<Vec<u8>, Failure> {
    let doc = document(report, extras).map_err(|e| {
        Failure::new(exit::OUTPUT_FAILED, format!("error: cannot encode the JSON report: {e}"))
    })?;
    let mut bytes = serde_json::to_vec_pretty(&doc).map_err(|e| {
        Failure::new(exit::OUTPUT_FAILED, format!("error: cannot encode the JSON report: {e}"))
    })?;
    bytes.push(b'\n');
    Ok(bytes)
}
