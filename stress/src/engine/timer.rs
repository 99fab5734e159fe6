//! The engine's clock, what one reading costs, and how timing was done.
//!
//! Workers take timestamps as nanoseconds since the run's [`Clock`] epoch (a `u64`: 584
//! years). The source is the x86 time-stamp counter where it is invariant (the CPU says
//! `constant_tsc` and `nonstop_tsc`, and two calibrations against the OS clock agree), read
//! through `slotscope_table::clock` and converted with a [`Calibration`]; elsewhere the OS
//! monotonic clock (`Instant`). [`Clock::best`] chooses; the report says which was used.

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde::Serialize;

/// A duration in whole nanoseconds (saturating after 584 years).
pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Monotonic nanoseconds since an epoch taken at construction. `Copy`: every worker holds one.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    epoch: Instant,
    /// Set when readings come from the time-stamp counter.
    tsc: Option<Calibration>,
}

/// How long each of the two TSC calibrations spins.
const TSC_CALIBRATION_WINDOW: Duration = Duration::from_millis(10);
/// How far the two calibrations may disagree before the TSC is not trusted (relative).
const TSC_AGREEMENT: f64 = 0.002;

impl Clock {
    /// A clock on the OS monotonic clock whose epoch is now.
    pub fn new() -> Self {
        Clock { epoch: Instant::now(), tsc: None }
    }

    /// The cheapest trustworthy clock: the time-stamp counter if the CPU declares it invariant
    /// and two calibrations of about 10 ms each agree within 0.2%, else [`Clock::new`] (the
    /// calibrations are the cost of trying the counter).
    pub fn best() -> Self {
        let os = Clock::new();
        if !slotscope_table::clock::TSC_AVAILABLE || !cpu_declares_invariant_tsc() {
            return os;
        }
        let counter = slotscope_table::clock::read_tsc;
        let (Some(first), Some(second)) = (
            calibrate(counter, &os, TSC_CALIBRATION_WINDOW),
            calibrate(counter, &os, TSC_CALIBRATION_WINDOW),
        ) else {
            return os;
        };
        let (a, b) = (first.ticks_per_ns(), second.ticks_per_ns());
        if (a - b).abs() > TSC_AGREEMENT * a.max(b) {
            return os;
        }
        Clock { epoch: os.epoch, tsc: Some(second) }
    }

    /// Nanoseconds since the epoch.
    #[inline]
    pub fn now_ns(&self) -> u64 {
        match self.tsc {
            Some(cal) => cal.to_ns(slotscope_table::clock::read_tsc()),
            // Saturates after 584 years.
            None => u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX),
        }
    }

    /// Nanoseconds since the epoch, read so that the op after it cannot start before the
    /// reading: its first memory access is later in real time. The start of a recorded op
    /// (see [`slotscope_table::clock::read_tsc_before`]; on the OS clock a `SeqCst` fence after
    /// the reading does the same for memory accesses).
    #[inline]
    pub fn op_start_ns(&self) -> u64 {
        match self.tsc {
            Some(cal) => cal.to_ns(slotscope_table::clock::read_tsc_before()),
            None => {
                let t = u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
                std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
                t
            }
        }
    }

    /// Nanoseconds since the epoch, read only after the op before it is done and its stores
    /// are visible to other cores. The end of a recorded op (see
    /// [`slotscope_table::clock::read_tsc_after`]; on the OS clock a `SeqCst` fence first).
    #[inline]
    pub fn op_end_ns(&self) -> u64 {
        match self.tsc {
            Some(cal) => cal.to_ns(slotscope_table::clock::read_tsc_after()),
            None => {
                std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
                u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
            }
        }
    }

    /// The instant `ns` nanoseconds after the epoch.
    pub fn instant_at(&self, ns: u64) -> Instant {
        self.epoch + Duration::from_nanos(ns)
    }

    /// Where the clock's readings come from.
    pub const fn source(&self) -> TimeSource {
        if self.tsc.is_some() {
            TimeSource::Tsc
        } else {
            TimeSource::Instant
        }
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

/// Where timestamps come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeSource {
    /// The OS monotonic clock (`std::time::Instant`; on Linux `clock_gettime` via the vDSO).
    Instant,
    /// The CPU's time-stamp counter, calibrated against the OS clock at start.
    Tsc,
}

impl TimeSource {
    /// The name reports print.
    pub const fn name(self) -> &'static str {
        match self {
            TimeSource::Instant => "instant",
            TimeSource::Tsc => "tsc",
        }
    }
}

/// How a run was timed, for reports and the UI.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimingInfo {
    /// Where timestamps came from.
    pub source: TimeSource,
    /// Measured cost of one clock reading, in nanoseconds (median of several rounds).
    pub ns_per_read: f64,
    /// Closed-loop ops were timed 1 in this many (1 = every op).
    pub time_every: u32,
    /// Whether k was chosen at start by automatic timing (`time_every = "auto"`).
    pub time_every_auto: bool,
    /// Smallest step between consecutive readings, ns.
    pub clock_tick_ns: u64,
    /// Percentiles below this are not resolved and print as `< X` (three times the larger of
    /// the tick and the read cost).
    pub floor_ns: f64,
    /// Share of the loop that timing adds at `time_every` (`None` uncalibrated).
    pub clock_share: Option<f64>,
    /// What the start's calibration measured (`None`: not calibrated).
    pub calibration: Option<crate::engine::calibration::Calibration>,
    /// Open-loop ops are always timed (pacing reads the clock before each op anyway).
    pub open_loop_times_every_op: bool,
    /// What a timed op's latency includes.
    pub note: &'static str,
}

/// The smallest positive step between `reads` consecutive values of `read`, ns (at least 1).
pub fn smallest_step(reads: usize, mut read: impl FnMut() -> u64) -> u64 {
    let mut best = u64::MAX;
    let mut prev = read();
    for _ in 0..reads {
        let t = read();
        if t > prev {
            best = best.min(t - prev);
        }
        prev = t;
    }
    if best == u64::MAX {
        1
    } else {
        best
    }
}

/// The clock's tick as the closed loop sees it: the smallest positive step between
/// consecutive `now_ns` readings, ns (at least 1).
pub fn measure_tick(clock: &Clock) -> u64 {
    smallest_step(2000, || clock.now_ns())
}

/// Rounds of [`measure_read_cost`].
const COST_ROUNDS: usize = 5;

/// The cost of one `clock.now_ns()` in nanoseconds: the median over a few rounds of `reads`
/// back-to-back readings.
pub fn measure_read_cost(clock: &Clock, reads: u32) -> f64 {
    let reads = reads.max(1);
    let mut rounds = [0.0f64; COST_ROUNDS];
    for round in &mut rounds {
        let start = Instant::now();
        let mut sink = 0u64;
        for _ in 0..reads {
            sink = sink.wrapping_add(clock.now_ns());
        }
        black_box(sink);
        *round = start.elapsed().as_secs_f64() * 1e9 / f64::from(reads);
    }
    rounds.sort_by(f64::total_cmp);
    rounds[COST_ROUNDS / 2]
}

/// Whether `/proc/cpuinfo` lists both `constant_tsc` (fixed rate whatever the frequency) and
/// `nonstop_tsc` (keeps ticking in deep sleep states). False where the file is missing.
fn cpu_declares_invariant_tsc() -> bool {
    std::fs::read_to_string("/proc/cpuinfo").is_ok_and(|info| {
        info.lines().find(|l| l.starts_with("flags")).is_some_and(|flags| {
            let has = |w: &str| flags.split_whitespace().any(|f| f == w);
            has("constant_tsc") && has("nonstop_tsc")
        })
    })
}

/// Converts a counter's ticks to nanoseconds: `ns = base_ns + (ticks - base_ticks) * mult >>
/// 32`, from two (ticks, ns) readings taken far enough apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Calibration {
    base_ticks: u64,
    base_ns: u64,
    /// Nanoseconds per tick in 32.32 fixed point.
    mult: u64,
}

impl Calibration {
    /// The calibration through two readings of (counter ticks, OS nanoseconds). `None` if the
    /// counter did not advance or went backwards.
    pub fn from_readings(first: (u64, u64), second: (u64, u64)) -> Option<Calibration> {
        let ticks = second.0.checked_sub(first.0).filter(|&t| t > 0)?;
        let ns = second.1.checked_sub(first.1)?;
        let ticks = u128::from(ticks);
        let mult = u64::try_from(((u128::from(ns) << 32) + ticks / 2) / ticks).ok()?;
        Some(Calibration { base_ticks: first.0, base_ns: first.1, mult })
    }

    /// Ticks per nanosecond (e.g. 3.0 for a 3 GHz counter).
    #[allow(clippy::cast_precision_loss)]
    pub fn ticks_per_ns(&self) -> f64 {
        4_294_967_296.0 / self.mult as f64
    }

    /// Nanoseconds at `ticks` (saturating below the base).
    #[inline]
    pub fn to_ns(self, ticks: u64) -> u64 {
        let dt = u128::from(ticks.saturating_sub(self.base_ticks));
        let ns = (dt * u128::from(self.mult) + (1 << 31)) >> 32;
        self.base_ns.saturating_add(u64::try_from(ns).unwrap_or(u64::MAX))
    }

    /// A tick count converted to nanoseconds (a duration, no base).
    #[cfg(test)]
    pub fn span_ns(&self, ticks: u64) -> u64 {
        u64::try_from((u128::from(ticks) * u128::from(self.mult) + (1 << 31)) >> 32).unwrap_or(u64::MAX)
    }
}

/// Calibrates `counter` against `clock` over `window`: two paired readings, spinning between.
pub fn calibrate(counter: impl Fn() -> u64, clock: &Clock, window: Duration) -> Option<Calibration> {
    let first = (counter(), clock.now_ns());
    let until = Instant::now() + window;
    while Instant::now() < until {
        std::hint::spin_loop();
    }
    Calibration::from_readings(first, (counter(), clock.now_ns()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_is_monotonic_and_maps_back() {
        let clock = Clock::new();
        let a = clock.now_ns();
        let b = clock.now_ns();
        assert!(b >= a);
        assert_eq!(clock.instant_at(5) - clock.instant_at(2), Duration::from_nanos(3));
    }

    #[test]
    fn best_clock_agrees_with_the_os_clock() {
        let clock = Clock::best();
        // Whichever source was chosen, 50 ms must read as 50 ms. The two reads of each pair
        // are not simultaneous and a loaded machine may preempt between them, so the best of
        // three tries must be within 5%.
        let errors: Vec<f64> = (0..3)
            .map(|_| {
                let (os_start, start) = (Instant::now(), clock.now_ns());
                std::thread::sleep(Duration::from_millis(50));
                let (measured, reference) = (clock.now_ns() - start, nanos(os_start.elapsed()));
                measured.abs_diff(reference) as f64 / reference as f64
            })
            .collect();
        let best = errors.iter().copied().fold(f64::INFINITY, f64::min);
        assert!(best < 0.05, "{:?}: relative errors {errors:?}", clock.source());
    }

    #[test]
    fn calibration_converts_a_fake_3ghz_counter() {
        // 3 ticks per ns: 3e9 ticks over one second.
        let cal = Calibration::from_readings((1_000, 50), (3_000_001_000, 1_000_000_050)).unwrap();
        assert!((cal.ticks_per_ns() - 3.0).abs() < 1e-6);
        assert_eq!(cal.to_ns(1_000), 50);
        assert_eq!(cal.to_ns(3_000 + 1_000), 50 + 1_000);
        assert_eq!(cal.span_ns(300), 100);
        // Below the base saturates rather than wrapping.
        assert_eq!(cal.to_ns(0), 50);
    }

    #[test]
    fn calibration_rejects_a_stuck_or_backwards_counter() {
        assert_eq!(Calibration::from_readings((5, 0), (5, 100)), None);
        assert_eq!(Calibration::from_readings((5, 0), (4, 100)), None);
    }

    #[test]
    fn calibrate_with_the_os_clock_as_counter_is_identity() {
        let clock = Clock::new();
        let cal = calibrate(|| clock.now_ns(), &clock, Duration::from_millis(2)).unwrap();
        // Counter and clock are the same source: about one tick per ns (reads are not
        // simultaneous, so allow a wide margin; the point is the plumbing, not the rate).
        assert!((0.5..2.0).contains(&cal.ticks_per_ns()), "{}", cal.ticks_per_ns());
    }

    #[test]
    fn read_cost_is_positive() {
        assert!(measure_read_cost(&Clock::new(), 1000) > 0.0);
    }
}
