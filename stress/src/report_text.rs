//! PLACEHOLDER from the `tui` branch: the real text report (summary + wrk2-style spectrum) is
//! written on another branch, and the lead replaces this file with it at merge. Only the
//! signature is relied on: `render_text(&Report) -> String`.

use crate::report::Report;

/// The run's text summary (placeholder: one line per operation).
pub fn render_text(report: &Report) -> String {
    let mut out = format!(
        "{}: {:.0} ops/s over {:.1?}, {} violations\n",
        report.spec.name,
        report.throughput_ops_per_s,
        report.active(),
        report.checks.violations.count
    );
    for op in &report.ops {
        let l = &op.latency.service;
        out += &format!("  {:<7} {:>12} ops  p50 {} ns  p99 {} ns\n", op.op.name(), op.count, l.p50, l.p99);
    }
    out
}
