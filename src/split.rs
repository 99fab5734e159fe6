//! The A/B split (`--compare-layout A,B`, or a lesson step's `split`): two engines run the
//! same scenario (same seed, so the same per-thread op streams; same threads and pinning) on
//! tables of two layouts, and *take turns* on the machine, one sample period each: while one
//! runs, the other is paused. So neither table competes with the other for cores (on a
//! 2-core laptop, two engines running at once would leave each one core, where false sharing
//! cannot happen), and each side's rates are measured over its own running time.
//!
//! This module is the model's side: side B's frames, and the deltas the view shows between
//! the two. The loop (`tui.rs`) owns the engines and does the turns.

use slotscope_table::Layout;
use slotscope_views::units::{Nanos, Si};
use slotscope_views::{Delta, Op};

use crate::adapt::{Adapter, Frame};
use crate::frames::{FrameRing, MAX_FRAMES};
use crate::lesson::sharing;

/// Which table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The main table (the one a plain run has).
    A,
    /// The second table of the split.
    B,
}

impl Side {
    /// The other one.
    pub fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }
}

/// Side B in the model.
#[derive(Debug)]
pub struct SplitState {
    /// Side B's frames.
    pub frames: FrameRing,
    pub(crate) adapter: Adapter,
    /// "A · linear", "B · interleaved" (the map titles).
    pub names: [String; 2],
}

impl SplitState {
    /// A split with side B on `layout_b` (side A's layout names its own title).
    pub fn new(layout_a: Layout, layout_b: Layout, sample_hz: u32, max_snapshots: usize) -> SplitState {
        SplitState {
            frames: FrameRing::new(MAX_FRAMES, max_snapshots),
            adapter: Adapter::new(sample_hz),
            names: names(layout_a, layout_b),
        }
    }
}

/// The map titles of a split.
pub fn names(a: Layout, b: Layout) -> [String; 2] {
    [format!("A · {a}"), format!("B · {b}")]
}

/// `b` against `a` as "+58%", "-42%", "=" (empty when either is missing).
fn change(a: f64, b: f64) -> String {
    if a <= 0.0 || !a.is_finite() || !b.is_finite() {
        return String::new();
    }
    let pct = (b / a - 1.0) * 100.0;
    if pct.abs() < 0.5 {
        "=".into()
    } else if b / a >= 3.0 || a / b >= 3.0 {
        format!("{:.1}x", b / a)
    } else {
        format!("{pct:+.0}%")
    }
}

/// Whether B is better, for a measure where `higher` is better; `None` within 5%.
fn better(a: f64, b: f64, higher: bool) -> Option<bool> {
    if a <= 0.0 && b <= 0.0 {
        return None;
    }
    let r = if a > 0.0 { b / a } else { f64::INFINITY };
    if (0.95..=1.05).contains(&r) {
        None
    } else {
        Some((r > 1.0) == higher)
    }
}

fn delta(label: &str, a: f64, b: f64, fmt: impl Fn(f64) -> String, higher: bool) -> Delta {
    Delta {
        label: label.to_owned(),
        a: fmt(a),
        b: fmt(b),
        change: change(a, b),
        b_better: better(a, b, higher),
    }
}

/// The deltas between side A's frame and side B's: throughput, p99 of each operation that ran,
/// lines written by two or more threads, ticket skips and ring retries, header writes.
pub fn deltas(a: &Frame, b: &Frame, ascii: bool) -> Vec<Delta> {
    let si = |x: f64| Si(x).to_string();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let ns = |x: f64| Nanos::new(x as u64, ascii).to_string();
    let mut out = vec![delta("ops/s", a.header.ops_per_s, b.header.ops_per_s, si, true)];
    for op in Op::ALL {
        let (pa, pb) = (a.latency.op(op).interval, b.latency.op(op).interval);
        if pa.count > 0 || pb.count > 0 {
            out.push(delta(&format!("p99 {}", op.name()), pa.p99 as f64, pb.p99 as f64, ns, false));
        }
    }
    // As a share of each table's lines: padded has 8 times the lines of the others.
    let share = |f: &Frame| {
        let lines = f.snapshot.as_ref().map_or(f.heat.slots.writers.len(), |s| s.geometry().lines()).max(1);
        sharing(f).0 as f64 * 100.0 / lines as f64
    };
    out.push(delta("shared lines", share(a), share(b), |x| format!("{x:.0}%"), false));
    let last = |f: &Frame, s: fn(&Frame) -> &slotscope_views::Series| s(f).last().unwrap_or(0) as f64;
    out.push(delta(
        "ticket skips/s",
        last(a, |f| &f.timeline.ticket_skips_per_s),
        last(b, |f| &f.timeline.ticket_skips_per_s),
        si,
        false,
    ));
    out.push(delta(
        "ring retries/s",
        last(a, |f| &f.timeline.ring_retries_per_s),
        last(b, |f| &f.timeline.ring_retries_per_s),
        si,
        false,
    ));
    let hw = |f: &Frame| f.heat.per_second(f.heat.header_writes).unwrap_or(0.0);
    out.push(Delta { b_better: None, ..delta("header writes/s", hw(a), hw(b), si, false) });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_compare_b_with_a() {
        let mut a = Frame::default();
        let mut b = Frame::default();
        a.header.ops_per_s = 1.0e6;
        b.header.ops_per_s = 1.58e6;
        a.latency.ops[1].interval.count = 10;
        a.latency.ops[1].interval.p99 = 300;
        b.latency.ops[1].interval.count = 10;
        b.latency.ops[1].interval.p99 = 1000;
        a.heat.slots.writers = vec![2, 2, 1];
        b.heat.slots.writers = vec![2, 2, 1];
        let d = deltas(&a, &b, false);
        let row = |l: &str| d.iter().find(|x| x.label == l).unwrap().clone();
        let ops = row("ops/s");
        assert_eq!(
            (ops.a.as_str(), ops.b.as_str(), ops.change.as_str(), ops.b_better),
            ("1.00M", "1.58M", "+58%", Some(true))
        );
        let p = row("p99 insert");
        assert_eq!((p.a.as_str(), p.change.as_str(), p.b_better), ("300ns", "3.3x", Some(false)));
        assert!(!d.iter().any(|x| x.label == "p99 lookup"), "no lookups ran");
        let s = row("shared lines");
        assert_eq!((s.a.as_str(), s.change.as_str(), s.b_better), ("67%", "=", None));
        assert_eq!(row("ticket skips/s").change, "", "nothing to compare against");
    }
}
