//! The events around a finding as a small text timeline: one row per op, ordered by start,
//! with its interval drawn on a common time axis so that overlaps show.
//!
//! ```text
//!    event  thread  op     start µs    end µs  |interval                        | operation
//!    1203   t0      77      +0.105    +0.161  |##                              | insert t0#77 -> 5@3
//! >> 1302   t0      95     +12.300   +12.344  |                              ##| lookup 5@3 -> hit (value t1#12)
//! ```

use std::collections::BTreeSet;
use std::fmt::Write;

use super::check::Finding;
use super::Segment;

/// Width of the interval column.
const BAR: usize = 32;

/// Draws the ops of `finding` (the illegal one marked `>>`, its evidence `*`), with other ops
/// on the same keys and ops of any thread overlapping them, at most `max_rows` rows. Times are
/// relative to `origin` (the run clock's start, if known).
pub fn render(seg: &Segment, finding: &Finding, origin: Option<u64>, max_rows: usize) -> String {
    let ops = &seg.ops;
    let (bad, evidence) = seg.positions(finding);
    let mut involved: Vec<usize> = bad.into_iter().chain(evidence.iter().copied()).collect();
    involved.sort_unstable();
    involved.dedup();
    if involved.is_empty() {
        return String::new();
    }
    let lo = involved.iter().map(|&i| ops[i].start).min().unwrap_or(0);
    let hi = involved.iter().map(|&i| ops[i].end).max().unwrap_or(0);
    let pad = ((hi - lo) / 10).max(200);
    let (wlo, whi) = (lo.saturating_sub(pad), hi.saturating_add(pad));
    let keys: BTreeSet<u64> = involved.iter().filter_map(|&i| ops[i].key).chain(finding.key).collect();
    // Our table's keys name their slot: ops on the same slots (another generation) show who
    // else wrote there.
    let slot_mask = seg.capacity().map(|n| n - 1);
    let slots: BTreeSet<u64> = slot_mask.map_or_else(BTreeSet::new, |m| keys.iter().map(|k| k & m).collect());
    let same_slot = |k: u64| slot_mask.is_some_and(|m| slots.contains(&(k & m)));

    let mut chosen: Vec<usize> = involved.clone();
    let mut same_key: Vec<usize> = Vec::new();
    let mut nearby: Vec<usize> = Vec::new();
    for (i, o) in ops.iter().enumerate() {
        if involved.contains(&i) || o.end < wlo || o.start > whi {
            continue;
        }
        if o.key.is_some_and(|k| keys.contains(&k) || same_slot(k)) {
            same_key.push(i);
        } else {
            nearby.push(i);
        }
    }
    // Same key or slot first: those after the evidence (where whatever went wrong happened)
    // before those leading up to it, each closest to the illegal op first; then a few ops of
    // any thread closest to it in time.
    let centre = bad.map_or(lo, |i| ops[i].start);
    let evidence_end = evidence.iter().map(|&i| ops[i].end).max().unwrap_or(lo);
    same_key.sort_by_key(|&i| (ops[i].end < evidence_end, ops[i].start.abs_diff(centre)));
    nearby.sort_by_key(|&i| ops[i].start.abs_diff(centre));
    let nearby_rows = (max_rows / 3).max(2);
    for i in same_key.into_iter().chain(nearby.into_iter().take(nearby_rows)) {
        if chosen.len() >= max_rows {
            break;
        }
        chosen.push(i);
    }
    chosen.sort_by_key(|&i| (ops[i].start, ops[i].event));
    let tlo = chosen.iter().map(|&i| ops[i].start).min().unwrap_or(wlo);
    let thi = chosen.iter().map(|&i| ops[i].end).max().unwrap_or(whi).max(tlo + 1);
    let origin = origin.unwrap_or(tlo);
    let us = |t: u64| {
        // Display only.
        #[allow(clippy::cast_precision_loss)]
        let v = (t as f64 - origin as f64) / 1000.0;
        format!("{v:+.3}")
    };
    let keys_text = seg.key_text();
    let mut s = String::new();
    #[allow(clippy::cast_precision_loss)]
    let span_us = (thi - tlo) as f64 / 1000.0;
    let _ = writeln!(
        s,
        "   {:<8} {:<6} {:<8} {:>11} {:>11}  |{:<BAR$}| operation",
        "event",
        "thread",
        "op",
        "start µs",
        "end µs",
        format!("interval ({span_us:.3} µs across)")
    );
    for &i in &chosen {
        let o = ops[i];
        let mark = if bad == Some(i) {
            ">> "
        } else if evidence.contains(&i) {
            " * "
        } else {
            "   "
        };
        let col = |t: u64| {
            let x = u128::from(t - tlo) * (BAR as u128 - 1) / u128::from(thi - tlo);
            usize::try_from(x).unwrap_or(BAR - 1).min(BAR - 1)
        };
        let (a, b) = (col(o.start), col(o.end.max(o.start)));
        let bar: String = (0..BAR).map(|c| if c >= a && c <= b { '#' } else { ' ' }).collect();
        let origin_tag = match o.origin {
            crate::op::OpOrigin::Run => "",
            crate::op::OpOrigin::Prefill => " [prefill]",
            crate::op::OpOrigin::Sweep => " [end sweep]",
        };
        let _ = writeln!(
            s,
            "{mark}{:<8} t{:<5} {:<8} {:>11} {:>11}  |{bar}| {}{origin_tag}",
            o.event,
            o.thread,
            o.op_index,
            us(o.start),
            us(o.end),
            o.describe(keys_text)
        );
    }
    if chosen.len() >= max_rows {
        let _ = writeln!(s, "   (at most {max_rows} rows shown)");
    }
    s
}
