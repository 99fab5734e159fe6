//! Open loop: ops start on a fixed schedule, and latency counts from when an op *should* have
//! started (coordinated-omission correction, as wrk2 does), as well as from when it did.
//!
//! Op `i` of a schedule at `rate` ops/s is intended to start at `start + i / rate`. A thread
//! that falls behind (a slow op, a descheduled core) does not skip ops: it runs the backlog as
//! fast as it can, and each late op's corrected latency includes the time it waited for its
//! turn. That is the latency a client arriving on schedule would have seen.

use std::time::Duration;

/// Gaps longer than this are slept rather than spun (sleep overshoots by tens of µs).
pub const SLEEP_ABOVE: Duration = Duration::from_micros(200);
/// How much earlier than the intended start a sleep ends; the rest is spun.
pub const SLEEP_SLACK: Duration = Duration::from_micros(100);

/// The intended start times of one thread's ops at a fixed rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OpenLoopSchedule {
    start_ns: u64,
    rate: f64,
    issued: u64,
}

impl OpenLoopSchedule {
    /// A schedule at `rate` ops/s (> 0; smaller rates are taken as one op per 10^6 s) whose
    /// first op is intended at `start_ns`.
    pub fn new(start_ns: u64, rate: f64) -> Self {
        OpenLoopSchedule { start_ns, rate: if rate > 1e-6 { rate } else { 1e-6 }, issued: 0 }
    }

    /// Intended start of op `i`: `start + i * 10^9 / rate`, computed from `i` each time (one
    /// multiplication and one division, both correctly rounded), so it never drifts.
    #[inline]
    pub fn intended(&self, i: u64) -> u64 {
        // Precision: exact below 2^53 ns of offset (104 days); truncation to whole ns.
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let offset = (i as f64 * 1e9 / self.rate) as u64;
        self.start_ns.saturating_add(offset)
    }

    /// The intended start of the next op, advancing the schedule.
    #[inline]
    pub fn next_intended(&mut self) -> u64 {
        let t = self.intended(self.issued);
        self.issued += 1;
        t
    }

    /// Ops issued so far.
    pub fn issued(&self) -> u64 {
        self.issued
    }

    /// Nanoseconds between intended starts.
    #[cfg(test)]
    pub fn period_ns(&self) -> f64 {
        1e9 / self.rate
    }
}

/// What to do before an op intended at `intended` when the clock reads `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pace {
    /// It is time (or late): start now.
    Go,
    /// Close: spin and look again.
    Spin,
    /// Far: sleep this long, then look again.
    Sleep(Duration),
}

/// The pacing decision (see [`SLEEP_ABOVE`], [`SLEEP_SLACK`]).
#[inline]
pub fn pace(intended: u64, now: u64) -> Pace {
    if now >= intended {
        return Pace::Go;
    }
    let gap = Duration::from_nanos(intended - now);
    if gap > SLEEP_ABOVE {
        Pace::Sleep(gap - SLEEP_SLACK)
    } else {
        Pace::Spin
    }
}

/// The two latencies of one open-loop op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenLoopLatency {
    /// From the intended start to the end: what a client on schedule waited.
    pub corrected: u64,
    /// From the actual start to the end: the service time alone.
    pub uncorrected: u64,
}

/// Latencies of an op intended at `intended`, started at `start`, ended at `end` (ns).
#[inline]
pub fn open_loop_latency(intended: u64, start: u64, end: u64) -> OpenLoopLatency {
    OpenLoopLatency {
        corrected: end.saturating_sub(intended.min(start)),
        uncorrected: end.saturating_sub(start),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a schedule against a fake clock: op i takes `service[i]` ns; an op starts at its
    /// intended time or when the previous one ends, whichever is later (as the worker does).
    fn simulate(rate: f64, service: &[u64]) -> Vec<OpenLoopLatency> {
        let mut schedule = OpenLoopSchedule::new(1_000, rate);
        let mut now = 0u64;
        service
            .iter()
            .map(|&s| {
                let intended = schedule.next_intended();
                loop {
                    match pace(intended, now) {
                        Pace::Go => break,
                        Pace::Spin => now += 1,
                        Pace::Sleep(d) => now += u64::try_from(d.as_nanos()).unwrap(),
                    }
                }
                let start = now;
                now += s;
                open_loop_latency(intended, start, now)
            })
            .collect()
    }

    #[test]
    fn schedule_spaces_ops_by_the_period() {
        let mut s = OpenLoopSchedule::new(500, 1000.0);
        assert!((s.period_ns() - 1e6).abs() < 1e-9);
        assert_eq!(s.next_intended(), 500);
        assert_eq!(s.next_intended(), 1_000_500);
        assert_eq!(s.intended(10), 10_000_500);
        assert_eq!(s.issued(), 2);
        // Fractional periods do not drift: 3 ops/s over 3 ops is exactly 1 s.
        assert_eq!(OpenLoopSchedule::new(0, 3.0).intended(3), 1_000_000_000);
    }

    #[test]
    fn on_schedule_corrected_equals_uncorrected() {
        let lat = simulate(1000.0, &[5_000; 5]);
        for l in lat {
            assert_eq!(l, OpenLoopLatency { corrected: 5_000, uncorrected: 5_000 });
        }
    }

    #[test]
    fn a_stall_shows_in_corrected_latency_of_the_backlog() {
        // 1000 ops/s: 1 ms period. Op 1 stalls for 3.5 ms; ops 2..4 queue behind it.
        let ms = 1_000_000;
        let lat = simulate(1000.0, &[10_000, 3 * ms + ms / 2, 10_000, 10_000, 10_000, 10_000]);
        let uncorrected: Vec<u64> = lat.iter().map(|l| l.uncorrected).collect();
        assert_eq!(uncorrected, [10_000, 3_500_000, 10_000, 10_000, 10_000, 10_000]);
        // Op 2 was due at 2 ms and started at 4.5 ms: corrected 2.5 ms + its service.
        assert_eq!(lat[2].corrected, 2_500_000 + 10_000);
        // Op 3 due at 3 ms started at 4.51 ms; op 4 due at 4 ms at 4.52 ms.
        assert_eq!(lat[3].corrected, 1_510_000 + 10_000);
        assert_eq!(lat[4].corrected, 520_000 + 10_000);
        // Op 5 (due at 5 ms) is back on schedule.
        assert_eq!(lat[5].corrected, 10_000);
    }

    #[test]
    fn pacing_sleeps_far_and_spins_near() {
        assert_eq!(pace(100, 100), Pace::Go);
        assert_eq!(pace(100, 200), Pace::Go);
        assert_eq!(pace(100_000, 0), Pace::Spin);
        assert_eq!(pace(1_000_000, 0), Pace::Sleep(Duration::from_nanos(900_000)));
    }

    #[test]
    fn latency_never_negative() {
        let l = open_loop_latency(50, 40, 45);
        assert_eq!(l, OpenLoopLatency { corrected: 5, uncorrected: 5 });
        assert_eq!(open_loop_latency(0, 10, 5).uncorrected, 0);
    }
}
