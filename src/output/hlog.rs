//! The hlog report: an HdrHistogram interval log (the format of Java's `HistogramLogWriter`,
//! read by `HistogramLogProcessor` and HistogramLogAnalyzer), written with the hdrhistogram
//! crate's interval log writer.
//!
//! One tag per thread x operation, `thread<i>-<op>` (e.g. `thread0-lookup`), and in open loop
//! `thread<i>-<op>-corrected` for the latency from the intended start. One histogram per tag
//! and series interval in which that thread timed that op, sorted by interval start. Values
//! are nanoseconds (the `Interval_Max` column is divided by 10^6: milliseconds, as jHiccup
//! does); BaseTime and StartTime are the Unix time the run's clock started, so interval
//! timestamps are seconds since then. Histograms use the V2 compressed encoding.

use std::cell::RefCell;
use std::io::{self, Write};
use std::time::{Duration, UNIX_EPOCH};

use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::V2DeflateSerializer;
use slotscope_stress::Report;

use crate::exit::{self, Failure};

/// `Interval_Max` is written in milliseconds (values are ns).
pub const MAX_VALUE_DIVISOR: f64 = 1e6;

/// The tag of one thread's op (`corrected`: the open-loop corrected histogram).
pub fn tag_name(thread: usize, op: &str, corrected: bool) -> String {
    format!("thread{thread}-{op}{}", if corrected { "-corrected" } else { "" })
}

/// A writer that the log writer and this module share, so that the legend line can go in
/// after the headers the builder writes.
struct Shared<'a>(&'a RefCell<Vec<u8>>);

impl Write for Shared<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The whole log.
pub fn render(report: &Report) -> Result<Vec<u8>, Failure> {
    let fail =
        |e: String| Failure::new(exit::OUTPUT_FAILED, format!("error: cannot encode the hlog report: {e}"));
    let buf = RefCell::new(Vec::new());
    let start = UNIX_EPOCH + Duration::from_millis(report.started_unix_ms);
    let mut serializer = V2DeflateSerializer::new();
    let mut sink = Shared(&buf);
    let mut builder = IntervalLogWriterBuilder::new();
    builder
        .add_comment(&format!(
            "slotscope {}: scenario {}, seed {}, values in nanoseconds",
            report.tool_version, report.spec.name, report.seed
        ))
        .add_comment("tags: thread<i>-<op> (service time), thread<i>-<op>-corrected (open loop, from the intended start)")
        .with_start_time(start)
        .with_base_time(start)
        .with_max_value_divisor(MAX_VALUE_DIVISOR);
    if let Some(cmd) = &report.repeat_command {
        builder.add_comment(&format!("repeat: {cmd}"));
    }
    let mut log = builder.begin_log_with(&mut sink, &mut serializer).map_err(|e| fail(e.to_string()))?;
    buf.borrow_mut().extend_from_slice(
        b"\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n",
    );
    for r in &report.series.records {
        let start_ts = Duration::from_nanos(r.start_ns);
        let length = Duration::from_nanos(r.end_ns.saturating_sub(r.start_ns));
        for l in &r.latency {
            let mut write = |h: &hdrhistogram::Histogram<u64>, corrected: bool| {
                let name = tag_name(r.thread, l.op.name(), corrected);
                log.write_histogram(h, start_ts, length, Tag::new(&name)).map_err(|e| fail(format!("{e:?}")))
            };
            if !l.service.is_empty() {
                write(&l.service.to_histogram(), false)?;
            }
            if let Some(c) = l.corrected.as_ref().filter(|c| !c.is_empty()) {
                write(&c.to_histogram(), true)?;
            }
        }
    }
    drop(log);
    Ok(buf.into_inner())
}
