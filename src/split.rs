//! The A/B split (`--compare-layout A,B`, or a lesson step's `split`): two engines run the
//! same scenario (same seed, so the same per-thread op streams; same threads and pinning) on
//! tables of two layouts, and *take turns* on the machine, 500 ms each: while one runs, the
//! other is paused. So neither table competes with the other for cores (on a 2-core laptop,
//! two engines running at once would leave each one core, where false sharing cannot
//! happen), and each side's rates are measured over its own running time.
//!
//! This module is the model's side: side B's frames, the turns measured so far, the deltas
//! the view shows between the two (medians and intervals over the turns), and the summary a
//! run that ends split prints. `engines.rs` owns the engines and does the turns.

use slotscope_stress::report::interval::{Estimate, Verdict, MIN_ROUNDS};
use slotscope_stress::scenario::values::{format_duration, format_ns, format_rate};
use slotscope_stress::turns;
use slotscope_stress::{OpKind, Report, TurnFigures};
use slotscope_table::Layout;
use slotscope_views::units::{Nanos, Si};
use slotscope_views::{Delta, Op};

use crate::adapt::{Adapter, Frame};
use crate::frames::{FrameRing, MAX_FRAMES};
use crate::lesson::transfers_per_s;

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

/// Turns kept per side for the intervals (the latest; a minute at the split's turn length).
pub const SPLIT_TURNS_KEPT: usize = 60;

/// The turns of a split so far: side A's and side B's, paired by round (the latest
/// [`SPLIT_TURNS_KEPT`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SplitTurns {
    /// By side: A, B.
    pub sides: [Vec<TurnFigures>; 2],
}

impl SplitTurns {
    pub(crate) fn push(&mut self, side: Side, f: TurnFigures) {
        self.sides[usize::from(side == Side::B)].push(f);
        // Rounds are dropped whole, oldest first: A's turn i pairs with B's turn i.
        if self.sides.iter().all(|v| v.len() > SPLIT_TURNS_KEPT) {
            for v in &mut self.sides {
                v.remove(0);
            }
        }
    }

    /// Whole rounds only: each round's A turn with its B turn (a turn whose partner has not
    /// run yet is left out).
    pub fn rounds(&self) -> [&[TurnFigures]; 2] {
        let n = self.sides[0].len().min(self.sides[1].len());
        [&self.sides[0][..n], &self.sides[1][..n]]
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
    /// The turns measured so far (the deltas' intervals).
    pub turns: SplitTurns,
}

impl SplitState {
    /// A split with side B on `layout_b` (side A's layout names its own title).
    pub fn new(layout_a: Layout, layout_b: Layout, sample_hz: u32, max_snapshots: usize) -> SplitState {
        SplitState {
            frames: FrameRing::new(MAX_FRAMES, max_snapshots),
            adapter: Adapter::new(sample_hz),
            names: names(layout_a, layout_b),
            turns: SplitTurns::default(),
        }
    }
}

/// The map titles of a split.
pub fn names(a: Layout, b: Layout) -> [String; 2] {
    [format!("A · {a}"), format!("B · {b}")]
}

/// `b` against `a` as "+58%", "-42%", "=", "3.3x" (B at least 3 times A), "0 -> 31" (A was
/// zero); empty when either is missing. B below A is always a percentage (down to "-100%"):
/// a factor would read "0.0x".
fn change(a: f64, b: f64) -> String {
    if !a.is_finite() || !b.is_finite() || a < 0.0 || b < 0.0 {
        return String::new();
    }
    if a == 0.0 {
        return if b == 0.0 { "=".into() } else { format!("0 -> {}", Si(b)) };
    }
    let pct = (b / a - 1.0) * 100.0;
    if pct.abs() < 0.5 {
        "=".into()
    } else if b / a >= 3.0 {
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

/// A median with its interval, short: "8.21M [7.90M-8.40M]".
fn with_interval(e: &Estimate, fmt: &impl Fn(f64) -> String) -> String {
    format!("{} [{}-{}]", fmt(e.median), fmt(e.lo), fmt(e.hi))
}

/// A ratio's interval as a change: "+13% [+8, +18]", with the verdict deciding the mark
/// (`within noise` written out, since the view marks only better and worse).
fn ratio_delta(
    label: &str,
    a: &Estimate,
    b: &Estimate,
    r: &Estimate,
    fmt: impl Fn(f64) -> String,
    higher: bool,
) -> Delta {
    let pct = |x: f64| (x - 1.0) * 100.0;
    let verdict = Verdict::of(Some(r));
    let mut change = format!("{:+.0}% [{:+.0}, {:+.0}]", pct(r.median), pct(r.lo), pct(r.hi));
    if verdict == Verdict::WithinNoise {
        change.push_str(" within noise");
    }
    Delta {
        label: label.to_owned(),
        a: with_interval(a, &fmt),
        b: with_interval(b, &fmt),
        change,
        b_better: match verdict {
            Verdict::Higher => Some(higher),
            Verdict::Lower => Some(!higher),
            Verdict::WithinNoise | Verdict::TooFewTurns => None,
        },
    }
}

/// The deltas between side A's frame and side B's: throughput, p99 of each operation that ran,
/// lines written by two or more threads, ticket skips and ring retries, header writes. With
/// at least [`MIN_ROUNDS`] rounds of turns, throughput and p99 are medians over the turns with
/// 95% intervals, and B against A the round-paired ratio with its interval; before that, the
/// latest figures and how many turns are still to come.
pub fn deltas(a: &Frame, b: &Frame, turns: &SplitTurns, ascii: bool) -> Vec<Delta> {
    let si = |x: f64| Si(x).to_string();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let ns = move |x: f64| Nanos::new(x as u64, ascii).to_string();
    let [ta, tb] = turns.rounds();
    let (sa, vs) = turns::summarize(&[ta.to_vec(), tb.to_vec()]);
    let measured = |e: &Option<Estimate>| e.is_some();
    let mut out = Vec::new();
    match (&sa[0].ops_per_s, &sa[1].ops_per_s, &vs[1].ops_per_s) {
        (Some(ea), Some(eb), Some(r)) => out.push(ratio_delta("ops/s", ea, eb, r, si, true)),
        _ => {
            let mut d = delta("ops/s", a.header.ops_per_s, b.header.ops_per_s, si, true);
            d.change = format!("measuring {}/{MIN_ROUNDS} turns", ta.len());
            d.b_better = None;
            out.push(d);
        }
    }
    for op in Op::ALL {
        let (pa, pb) = (a.latency.op(op).interval, b.latency.op(op).interval);
        if pa.count == 0 && pb.count == 0 {
            continue;
        }
        let label = format!("p99 {}", op.name());
        let i = op.index();
        match (&sa[0].p99_ns[i], &sa[1].p99_ns[i], &vs[1].p99[i]) {
            (Some(ea), Some(eb), Some(r)) => out.push(ratio_delta(&label, ea, eb, r, ns, false)),
            _ => {
                let mut d = delta(&label, pa.p99 as f64, pb.p99 as f64, ns, false);
                if !measured(&vs[1].ops_per_s) {
                    d.b_better = None;
                }
                out.push(d);
            }
        }
    }
    // How much the slot lines were shared, all lines together (padded has 8 times the lines
    // of the others, so a count of shared lines would not compare).
    out.push(delta("line transfers/s", transfers_per_s(a), transfers_per_s(b), si, false));
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

/// The summary a split run prints when it ends split: side A, side B and B against A, one
/// row per figure (throughput and p99 from the turns, with intervals; p50 and max from each
/// side's report), then the verdict's meaning. Side A's full report follows it.
#[allow(clippy::cast_precision_loss)]
pub fn summary_text(a: &Report, b: &Report, layouts: (Layout, Layout), turns: &SplitTurns) -> String {
    let [ta, tb] = turns.rounds();
    let (sides, vs) = turns::summarize(&[ta.to_vec(), tb.to_vec()]);
    let names = [format!("A · {}", layouts.0), format!("B · {}", layouts.1)];
    let est = |e: &Option<Estimate>, f: &dyn Fn(f64) -> String| {
        e.as_ref().map_or_else(|| "-".to_owned(), |e| format!("{} [{}, {}]", f(e.median), f(e.lo), f(e.hi)))
    };
    let vs_text = |r: &Option<Estimate>, higher: bool| match r {
        Some(r) => {
            format!("{:.2}x [{:.2}, {:.2}] {}", r.median, r.lo, r.hi, Verdict::of(Some(r)).words(higher))
        }
        None => format!("too few turns ({} of {MIN_ROUNDS})", ta.len()),
    };
    let mut rows: Vec<[String; 4]> =
        vec![[String::new(), names[0].clone(), names[1].clone(), "B vs A".to_owned()]];
    let rate = |v: f64| format!("{}/s", format_rate(v));
    rows.push([
        "ops/s".into(),
        est(&sides[0].ops_per_s, &rate),
        est(&sides[1].ops_per_s, &rate),
        vs_text(&vs[1].ops_per_s, true),
    ]);
    for k in OpKind::ALL {
        let (oa, ob) = (a.op(k), b.op(k));
        if oa.count == 0 && ob.count == 0 {
            continue;
        }
        let i = k.index();
        let name = k.name();
        let plain = |x: u64, y: u64| {
            if x == 0 {
                String::new()
            } else {
                format!("{:.2}x", y as f64 / x as f64)
            }
        };
        rows.push([
            format!("{name} p50"),
            format_ns(oa.latency.service.p50 as f64),
            format_ns(ob.latency.service.p50 as f64),
            plain(oa.latency.service.p50, ob.latency.service.p50),
        ]);
        rows.push([
            format!("{name} p99"),
            est(&sides[0].p99_ns[i], &format_ns),
            est(&sides[1].p99_ns[i], &format_ns),
            vs_text(&vs[1].p99[i], false),
        ]);
        rows.push([
            format!("{name} max"),
            format_ns(oa.latency.service.max as f64),
            format_ns(ob.latency.service.max as f64),
            plain(oa.latency.service.max, ob.latency.service.max),
        ]);
    }
    rows.push([
        "violations".into(),
        a.checks.violations.count.to_string(),
        b.checks.violations.count.to_string(),
        String::new(),
    ]);
    let widths: Vec<usize> =
        (0..4).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = format!(
        "A/B split: {} against {}, the same load in alternating turns of {} ({} rounds measured)\n",
        layouts.0,
        layouts.1,
        format_duration(crate::engines::SPLIT_TURN),
        ta.len()
    );
    for r in &rows {
        let line = format!(
            "{:<w0$}  {:>w1$}  {:>w2$}  {}",
            r[0],
            r[1],
            r[2],
            r[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.push_str(
        "ops/s and p99: medians over each side's turns [95% interval]; B vs A: the median of round-by-round\n\
         ratios [95% interval]; `within noise`: the interval contains 1.0x. p50 and max: each side's whole run.\n\n",
    );
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
        // 100 ms intervals; A's lines: 50 + 10 expected transfers, B's: 15.
        a.heat.interval_ns = 100_000_000;
        b.heat.interval_ns = 100_000_000;
        a.heat.slots.transfers = vec![50.0, 10.0, 0.0];
        b.heat.slots.transfers = vec![15.0, 0.0, 0.0];
        let d = deltas(&a, &b, &SplitTurns::default(), false);
        let row = |l: &str| d.iter().find(|x| x.label == l).unwrap().clone();
        let ops = row("ops/s");
        assert_eq!(
            (ops.a.as_str(), ops.b.as_str(), ops.change.as_str(), ops.b_better),
            ("1.00M", "1.58M", "measuring 0/5 turns", None),
            "no verdict before the turns"
        );
        let p = row("p99 insert");
        assert_eq!((p.a.as_str(), p.change.as_str(), p.b_better), ("300ns", "3.3x", None));
        assert!(!d.iter().any(|x| x.label == "p99 lookup"), "no lookups ran");
        let s = row("line transfers/s");
        assert_eq!(
            (s.a.as_str(), s.b.as_str(), s.change.as_str(), s.b_better),
            ("600", "150", "-75%", Some(true))
        );
        assert_eq!(row("ticket skips/s").change, "=", "0 against 0");
    }

    #[test]
    fn changes_never_read_zero_x() {
        assert_eq!(change(31.0, 0.0), "-100%");
        assert_eq!(change(100.0, 10.0), "-90%");
        assert_eq!(change(0.0, 31.0), "0 -> 31");
        assert_eq!(change(10.0, 35.0), "3.5x");
        assert_eq!(change(10.0, 10.01), "=");
    }

    fn turns_of(a: &[f64], b: &[f64]) -> SplitTurns {
        let t = |v: &[f64]| {
            v.iter()
                .map(|&x| TurnFigures {
                    ops_per_s: x,
                    p99_ns: [None, Some(500), None],
                    ..TurnFigures::default()
                })
                .collect()
        };
        SplitTurns { sides: [t(a), t(b)] }
    }

    #[test]
    fn turns_give_intervals_and_verdict_words() {
        let mut a = Frame::default();
        let mut b = Frame::default();
        a.latency.ops[1].interval.count = 10;
        b.latency.ops[1].interval.count = 10;
        let base = [1e6, 1.1e6, 0.9e6, 1e6, 1.05e6, 0.95e6];
        let faster: Vec<f64> = base.iter().map(|x| x * 1.3).collect();
        let d = deltas(&a, &b, &turns_of(&base, &faster), false);
        assert_eq!(d[0].label, "ops/s");
        assert!(d[0].a.starts_with("1.00M [") && d[0].b.starts_with("1.30M ["), "{:?}", d[0]);
        assert_eq!((d[0].change.as_str(), d[0].b_better), ("+30% [+30, +30]", Some(true)));
        // Same p99 every turn: within noise, said in words, no mark.
        assert_eq!((d[1].change.as_str(), d[1].b_better), ("+0% [+0, +0] within noise", None));
        let even: Vec<f64> =
            base.iter().enumerate().map(|(i, x)| x * if i % 2 == 0 { 1.1 } else { 0.9 }).collect();
        let d = deltas(&a, &b, &turns_of(&base, &even), false);
        assert!(d[0].change.ends_with("within noise") && d[0].b_better.is_none(), "{:?}", d[0]);
        // Whole rounds only: a turn of A without B's is left out.
        let mut t = turns_of(&base, &faster);
        t.sides[0].push(TurnFigures { ops_per_s: 1.0, ..TurnFigures::default() });
        assert_eq!(t.rounds()[0].len(), 6);
        assert!((t.rounds()[0][5].ops_per_s - 0.95e6).abs() < 1e-6, "A's unpaired newest turn waits for B's");
        for i in 0..2 * SPLIT_TURNS_KEPT {
            t.push(if i % 2 == 0 { Side::A } else { Side::B }, TurnFigures::default());
        }
        // A's newest turn waits for B's: one more on A's side.
        assert_eq!((t.sides[0].len(), t.sides[1].len()), (SPLIT_TURNS_KEPT + 1, SPLIT_TURNS_KEPT));
    }
}
