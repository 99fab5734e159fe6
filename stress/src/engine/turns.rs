//! Alternating turns: how two (or more) tables are compared fairly on one machine.
//!
//! Every side runs the same load with the same seed, on the same cores, but never at the same
//! time: all are started and paused, and each *round* gives every side one turn of length T
//! while the others stay paused. On a VM the cost of a cache-line transfer moves between runs
//! (the hypervisor places vCPUs), and a tenant's load comes and goes, so two runs taken one
//! after the other compare the machine's moods as much as the tables; turns that alternate
//! many times put both sides under the same moods. The first rounds are a warm-up (caches,
//! the table's fill, the clock's frequency) and are dropped. Round `r` starts with side
//! `r mod n`, so no side always runs first.
//!
//! A turn's figure is its own: ops done during the turn over the active time of the turn
//! (pauses excluded by the engine's clock), and each op's p50/p99 from the turn's interval
//! histogram. [`summarize`] turns the rounds into medians with intervals
//! ([`crate::report::interval`]), per side and against the first side.

use std::time::{Duration, Instant};

use serde::Serialize;
use slotscope_trace::{Counts, OpKind};

use crate::engine::sampler::{Sample, SamplerOptions};
use crate::engine::Engine;
use crate::report::interval::{median_estimate, ratio_estimate, Estimate, Verdict};

/// Default length of one turn.
pub const DEFAULT_TURN: Duration = Duration::from_millis(500);
/// Default number of measured turns per side.
pub const DEFAULT_TURNS: usize = 10;
/// Default number of warm-up rounds (dropped).
pub const DEFAULT_WARMUP_ROUNDS: usize = 1;

/// How the turns go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TurnPlan {
    /// Length of one turn.
    pub turn: Duration,
    /// Measured turns per side.
    pub turns: usize,
    /// Rounds run first and dropped.
    pub warmup_rounds: usize,
}

impl Default for TurnPlan {
    fn default() -> Self {
        TurnPlan { turn: DEFAULT_TURN, turns: DEFAULT_TURNS, warmup_rounds: DEFAULT_WARMUP_ROUNDS }
    }
}

impl TurnPlan {
    /// Wall time the plan takes for `sides` sides (turns only, no start-up).
    pub fn wall_time(&self, sides: usize) -> Duration {
        let turns = u32::try_from((self.turns + self.warmup_rounds) * sides).unwrap_or(u32::MAX);
        self.turn.saturating_mul(turns)
    }
}

/// What one turn measured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct TurnFigures {
    /// Ops per second of active time, all threads.
    pub ops_per_s: f64,
    /// Active time of the turn, ns.
    pub active_ns: u64,
    /// Ops done in the turn.
    pub ops: u64,
    /// Each op's median service time in the turn (by [`OpKind::index`]; `None`: none timed).
    pub p50_ns: [Option<u64>; 3],
    /// Each op's 99th percentile in the turn.
    pub p99_ns: [Option<u64>; 3],
}

/// Measures one side's turns from its samples: [`TurnMeter::begin`] with the sample taken as
/// the turn starts, [`TurnMeter::end`] with the one taken as it ends (the sampler's interval
/// is then the turn).
#[derive(Clone, Copy, Debug, Default)]
pub struct TurnMeter {
    start: Option<(Counts, Duration)>,
}

impl TurnMeter {
    /// The turn starts: `s` was just sampled.
    pub fn begin(&mut self, s: &Sample) {
        self.start = Some((s.totals, s.elapsed));
    }

    /// The turn ends: `s` was just sampled. `None` without a [`TurnMeter::begin`], or when no
    /// active time passed.
    #[allow(clippy::cast_precision_loss)]
    pub fn end(&mut self, s: &Sample) -> Option<TurnFigures> {
        let (counts, elapsed) = self.start.take()?;
        let active = s.elapsed.checked_sub(elapsed).filter(|d| !d.is_zero())?;
        let ops = s.totals.since(&counts).ops();
        let mut f = TurnFigures {
            ops_per_s: ops as f64 / active.as_secs_f64(),
            active_ns: u64::try_from(active.as_nanos()).unwrap_or(u64::MAX),
            ops,
            ..TurnFigures::default()
        };
        for k in OpKind::ALL {
            let sum = &s.ops[k.index()].interval_summary;
            if sum.count > 0 {
                f.p50_ns[k.index()] = Some(sum.p50);
                f.p99_ns[k.index()] = Some(sum.p99);
            }
        }
        Some(f)
    }
}

/// Runs `engines` in alternating turns as `plan` says; the measured turns of each side, in
/// round order (`out[side][round]`). Every engine should be started with the same spec but
/// its table; each is paused here, and left paused. `keep_going` is asked about every 50 ms
/// (and after each turn, with the side and round just done); `false` ends the rounds early
/// (the turns so far are returned).
pub fn alternate(
    engines: &[&Engine],
    plan: &TurnPlan,
    mut keep_going: impl FnMut(Option<(usize, usize)>) -> bool,
) -> Vec<Vec<TurnFigures>> {
    let n = engines.len();
    let options = SamplerOptions { snapshots: false, history_len: 0, ..SamplerOptions::default() };
    let mut samplers: Vec<_> = engines.iter().map(|e| e.sampler(options.clone())).collect();
    let mut samples: Vec<Sample> = (0..n).map(|_| Sample::new()).collect();
    let mut out: Vec<Vec<TurnFigures>> = vec![Vec::with_capacity(plan.turns); n];
    for e in engines {
        e.take_turn(false);
    }
    'rounds: for round in 0..plan.warmup_rounds + plan.turns {
        for k in 0..n {
            let side = (round + k) % n;
            let (engine, sampler, sample) = (engines[side], &mut samplers[side], &mut samples[side]);
            let mut meter = TurnMeter::default();
            engine.take_turn(true);
            sampler.sample_into(sample);
            meter.begin(sample);
            let until = Instant::now() + plan.turn;
            let mut stopped = false;
            loop {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                std::thread::sleep(left.min(Duration::from_millis(50)));
                if !keep_going(None) {
                    stopped = true;
                    break;
                }
            }
            sampler.sample_into(sample);
            engine.take_turn(false);
            if stopped {
                break 'rounds;
            }
            if round >= plan.warmup_rounds {
                if let Some(f) = meter.end(sample) {
                    out[side].push(f);
                }
            }
            if !keep_going(Some((side, round))) {
                break 'rounds;
            }
        }
    }
    // A round cut short leaves sides with one turn more than others: pair only whole rounds.
    let whole = out.iter().map(Vec::len).min().unwrap_or(0);
    for side in &mut out {
        side.truncate(whole);
    }
    out
}

/// One side's figures over its turns.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SideSummary {
    /// Measured turns.
    pub turns: usize,
    /// Median ops/s over turns, with its interval.
    pub ops_per_s: Option<Estimate>,
    /// Each op's median p50 over turns (by [`OpKind::index`]).
    pub p50_ns: [Option<Estimate>; 3],
    /// Each op's median p99 over turns.
    pub p99_ns: [Option<Estimate>; 3],
}

/// One side against the first (the baseline), round by round.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VsBaseline {
    /// Median of the per-round ops/s ratios (this side / baseline), with its interval.
    pub ops_per_s: Option<Estimate>,
    /// What that interval says.
    pub verdict: Verdict,
    /// Each op's p99 ratio (lower is better).
    pub p99: [Option<Estimate>; 3],
    /// What each p99 interval says.
    pub p99_verdict: [Verdict; 3],
}

#[allow(clippy::cast_precision_loss)]
fn column(turns: &[TurnFigures], f: impl Fn(&TurnFigures) -> Option<f64>) -> Vec<f64> {
    turns.iter().map(|t| f(t).unwrap_or(f64::NAN)).collect()
}

/// Medians and intervals per side, and every side against side 0 (the baseline's own entry
/// compares it with itself: ratio 1).
#[allow(clippy::cast_precision_loss)]
pub fn summarize(turns: &[Vec<TurnFigures>]) -> (Vec<SideSummary>, Vec<VsBaseline>) {
    let p = |k: usize, which: fn(&TurnFigures) -> [Option<u64>; 3]| {
        move |t: &TurnFigures| which(t)[k].map(|v| v as f64)
    };
    let sides = turns
        .iter()
        .map(|t| SideSummary {
            turns: t.len(),
            ops_per_s: median_estimate(&column(t, |f| Some(f.ops_per_s))),
            p50_ns: [0, 1, 2].map(|k| median_estimate(&column(t, p(k, |f| f.p50_ns)))),
            p99_ns: [0, 1, 2].map(|k| median_estimate(&column(t, p(k, |f| f.p99_ns)))),
        })
        .collect();
    let base = turns.first().map_or(&[][..], Vec::as_slice);
    let vs = turns
        .iter()
        .map(|t| {
            let ops = ratio_estimate(&column(base, |f| Some(f.ops_per_s)), &column(t, |f| Some(f.ops_per_s)));
            let p99 = [0, 1, 2]
                .map(|k| ratio_estimate(&column(base, p(k, |f| f.p99_ns)), &column(t, p(k, |f| f.p99_ns))));
            VsBaseline {
                verdict: Verdict::of(ops.as_ref()),
                ops_per_s: ops,
                p99_verdict: [0, 1, 2].map(|k| Verdict::of(p99[k].as_ref())),
                p99,
            }
        })
        .collect();
    (sides, vs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(ops_per_s: f64, p99: u64) -> TurnFigures {
        TurnFigures { ops_per_s, p99_ns: [None, Some(p99), None], ..TurnFigures::default() }
    }

    #[test]
    fn summaries_pair_rounds_and_name_the_verdict() {
        // Drift shared by both sides; B is 1.5x A in every round, its p99 the same.
        let a: Vec<_> = (0..10).map(|r| turn(1e6 * (1.0 + f64::from(r % 3)), 100)).collect();
        let b: Vec<_> = a.iter().map(|t| turn(t.ops_per_s * 1.5, 100)).collect();
        let (sides, vs) = summarize(&[a, b]);
        assert_eq!(sides[0].turns, 10);
        assert!(sides[0].p99_ns[0].is_none(), "no lookups timed");
        let r = vs[1].ops_per_s.unwrap();
        assert!((r.median - 1.5).abs() < 1e-9 && r.lo > 1.4, "{r:?}");
        assert_eq!(vs[1].verdict, Verdict::Higher);
        assert_eq!(vs[1].p99_verdict[1], Verdict::WithinNoise);
        assert_eq!(vs[0].verdict, Verdict::WithinNoise, "the baseline against itself");
        // The side's own interval reflects the drift, the paired ratio does not.
        let own = sides[1].ops_per_s.unwrap();
        assert!(own.hi / own.lo > 1.5, "{own:?}");
    }

    #[test]
    fn too_few_turns_say_so() {
        let a = vec![turn(1.0, 1); 3];
        let (_, vs) = summarize(&[a.clone(), a]);
        assert_eq!(vs[1].verdict, Verdict::TooFewTurns);
    }

    #[test]
    fn plan_wall_time() {
        let p = TurnPlan::default();
        assert_eq!(p.wall_time(3), Duration::from_millis(500 * 11 * 3));
    }
}
