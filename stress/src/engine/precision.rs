//! How far apart two readings of the run's clock on different cores can be, measured when a
//! recording starts and kept in the trace's header ([`ClockPrecision`]): the history checker
//! takes "A surely precedes B" only when `A.end + ε < B.start`, with ε = resolution + offset.
//!
//! - **Resolution**: the smallest positive step between consecutive fenced readings (at least
//!   the clock's tick; on the 2-core EPYC of our figures, 10 ns).
//! - **Cross-core offset**: for each pair of cores, two threads pinned there pass a token back
//!   and forth through an atomic. The sender reads the clock (a reading that follows
//!   everything before it) and publishes it with the token; the receiver, once it sees the
//!   token, reads its own clock (a reading that precedes everything after it). Their difference
//!   is the transfer time plus the offset of the receiver's clock over the sender's; the
//!   transfer time is never negative, so the smallest difference seen in one direction bounds
//!   the offset that way from above. The larger of the two directions bounds the pair's
//!   offset; the largest over the pairs is the trace's bound. It includes one transfer (tens
//!   of ns): a bound, not an estimate.
//!
//! Up to [`ALL_PAIRS_UP_TO`] cores every pair is measured; above that, every core against the
//! first, and the bound doubled (`|a - b| <= |a - first| + |first - b|`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use slotscope_trace::ClockPrecision;

use crate::engine::timer::{smallest_step, Clock};
use crate::machine::pin::pin_current_thread;

/// Every pair is measured up to this many cores (120 pairs at 16).
pub const ALL_PAIRS_UP_TO: usize = 16;
/// Round trips per pair.
const ROUNDS: u64 = 1000;
/// Longest a pair is measured, whatever the rounds done. One round trip each way is enough
/// for a bound, and an idle pair finishes its rounds in well under a millisecond; the budget is
/// for a loaded machine, where one of the two pinned threads may wait tens of milliseconds for
/// its core. With 20 ms, a trace recorded while the test suite loaded both cores once fell
/// back to the 1 µs worst case (its pair unmeasured or unpinned; which was not recorded).
const PAIR_BUDGET: Duration = Duration::from_millis(250);
/// Consecutive readings for the resolution.
const RESOLUTION_READS: usize = 2000;
/// Spins before a waiting side yields its core.
const SPINS_BEFORE_YIELD: u32 = 2000;

/// The smallest positive step between consecutive fenced readings, ns.
pub fn resolution(clock: &Clock) -> u64 {
    smallest_step(RESOLUTION_READS, || clock.op_start_ns())
}

/// The smallest one-way differences (a to b, b to a) of a ping-pong between two threads
/// pinned to `a` and `b`; `None` for a direction never measured. Whether both pins held.
fn ping_pong(clock: &Clock, a: usize, b: usize) -> (Option<i64>, Option<i64>, bool) {
    let seq = AtomicU64::new(0);
    let stamp = AtomicU64::new(0);
    let deadline = Instant::now() + PAIR_BUDGET;
    let wait_for = |want: u64| -> bool {
        let mut spins = 0u32;
        // Acquire: pairs with the sender's Release store; its stamp is visible.
        while seq.load(Ordering::Acquire) != want {
            if seq.load(Ordering::Relaxed) == u64::MAX {
                return false;
            }
            spins += 1;
            if spins >= SPINS_BEFORE_YIELD {
                spins = 0;
                if Instant::now() > deadline {
                    seq.store(u64::MAX, Ordering::Relaxed);
                    return false;
                }
                std::thread::yield_now();
            }
            std::hint::spin_loop();
        }
        true
    };
    std::thread::scope(|s| {
        let responder = s.spawn(|| {
            let pinned = pin_current_thread(b);
            let mut best: Option<i64> = None;
            for r in 0..ROUNDS {
                if !wait_for(2 * r + 1) {
                    break;
                }
                let now = clock.op_start_ns();
                let sent = stamp.load(Ordering::Relaxed);
                let d = now.wrapping_sub(sent).cast_signed();
                best = Some(best.map_or(d, |b| b.min(d)));
                let t = clock.op_end_ns();
                stamp.store(t, Ordering::Relaxed);
                // Release: the stamp above is visible with the token.
                seq.store(2 * r + 2, Ordering::Release);
            }
            (best, pinned)
        });
        let initiator = s.spawn(|| {
            let pinned = pin_current_thread(a);
            let mut best: Option<i64> = None;
            for r in 0..ROUNDS {
                let t = clock.op_end_ns();
                stamp.store(t, Ordering::Relaxed);
                // Release: the stamp above is visible with the token.
                seq.store(2 * r + 1, Ordering::Release);
                if !wait_for(2 * r + 2) {
                    break;
                }
                let now = clock.op_start_ns();
                let sent = stamp.load(Ordering::Relaxed);
                let d = now.wrapping_sub(sent).cast_signed();
                best = Some(best.map_or(d, |b| b.min(d)));
            }
            seq.store(u64::MAX, Ordering::Relaxed);
            (best, pinned)
        });
        let (ba, pinned_a) = initiator.join().unwrap_or((None, false));
        let (ab, pinned_b) = responder.join().unwrap_or((None, false));
        (ab, ba, pinned_a && pinned_b)
    })
}

/// The bound of one pair: the larger of its two smallest one-way differences (`None` when a
/// direction was never measured).
fn pair_bound(ab: Option<i64>, ba: Option<i64>) -> Option<u64> {
    let (ab, ba) = (ab?, ba?);
    Some(u64::try_from(ab.max(ba).max(0)).unwrap_or(0))
}

/// Measures the clock's precision over `cores` (the cores the run may use), on threads of
/// its own (the caller's affinity is left as it is).
pub fn measure(clock: &Clock, cores: &[usize]) -> ClockPrecision {
    let resolution_ns = resolution(clock);
    let n = cores.len();
    let pairs: Vec<(usize, usize)> = if n <= ALL_PAIRS_UP_TO {
        (0..n).flat_map(|i| (i + 1..n).map(move |j| (cores[i], cores[j]))).collect()
    } else {
        cores[1..].iter().map(|&c| (cores[0], c)).collect()
    };
    let mut worst = 0u64;
    let mut pinned = true;
    let mut measured_all = true;
    for &(a, b) in &pairs {
        let (ab, ba, held) = ping_pong(clock, a, b);
        pinned &= held;
        match pair_bound(ab, ba) {
            Some(bound) => worst = worst.max(bound),
            None => measured_all = false,
        }
    }
    if n > ALL_PAIRS_UP_TO {
        worst = worst.saturating_mul(2);
    }
    ClockPrecision {
        resolution_ns,
        cross_core_offset_ns: worst,
        cores: u32::try_from(n).unwrap_or(u32::MAX),
        // A pair never measured, or threads not where they were asked to be: the bound does not
        // cover the cores the run uses, and the checker takes its worst case.
        pinned: pinned && measured_all,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_bound_is_the_larger_direction_and_needs_both() {
        assert_eq!(pair_bound(Some(80), Some(60)), Some(80));
        // A clock ahead by 100 over a transfer of 30: +130 one way, -70 the other.
        assert_eq!(pair_bound(Some(130), Some(-70)), Some(130));
        assert_eq!(pair_bound(Some(-5), Some(-3)), Some(0));
        assert_eq!(pair_bound(None, Some(3)), None);
    }

    #[test]
    fn the_measurement_covers_the_cores_and_is_positive() {
        let clock = Clock::best();
        let cores = crate::machine::pin::available_cores();
        let p = measure(&clock, &cores[..cores.len().min(4)]);
        assert!(p.resolution_ns >= 1, "{p:?}");
        assert_eq!(p.cores as usize, cores.len().min(4));
        // A ping-pong takes at least one transfer each way; a bound beyond 1 ms would mean
        // the measurement broke, not the clock.
        if p.pinned && cores.len() >= 2 {
            assert!(p.cross_core_offset_ns < 1_000_000, "{p:?}");
        }
    }
}
