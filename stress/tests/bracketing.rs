//! The recorder's timestamps bracket what they time: two threads, pinned to two cores where
//! pinning works, hand a token back and forth through an atomic, each handoff timed exactly as
//! the recorder times an op (`Clock::op_start_ns` before, `Clock::op_end_ns` after). The
//! receiver's op (the load that saw the token) cannot have ended before the sender's op (the
//! store of it) began: no handoff may show `receive.end + ε < send.start`, with ε what a
//! recording's header would store (`measure_clock_precision`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use slotscope_stress::machine::pin::{available_cores, pin_current_thread};
use slotscope_stress::{measure_clock_precision, Clock};

/// Most handoffs, and the longest the test runs.
const HANDOFFS: u64 = 1_000_000;
const BUDGET: Duration = Duration::from_secs(5);
/// Fewest handoffs that make the test mean something.
const AT_LEAST: u64 = 100_000;
/// Spins before a waiting side yields its core.
const SPINS: u32 = 1000;

/// One side: sends odd (or even) tokens, receives the others. Returns, per token it sent,
/// (token, start, end) of the send, and per token it received, (token, start, end) of the
/// successful load.
#[allow(clippy::type_complexity)]
fn side(
    clock: Clock,
    token: &AtomicU64,
    core: Option<usize>,
    first: u64,
    deadline: Instant,
) -> (Vec<(u64, u64, u64)>, Vec<(u64, u64, u64)>, bool) {
    let pinned = core.is_some_and(pin_current_thread);
    let mut sent = Vec::with_capacity(HANDOFFS as usize / 2 + 1);
    let mut got = Vec::with_capacity(HANDOFFS as usize / 2 + 1);
    let mut next = first;
    'run: while next < HANDOFFS {
        // Receive `next` (the other side's store of it), timing each attempt as an op.
        if next != 0 {
            let mut spins = 0u32;
            loop {
                let start = clock.op_start_ns();
                let seen = token.load(Ordering::Acquire);
                let end = clock.op_end_ns();
                if seen == u64::MAX {
                    break 'run;
                }
                if seen == next {
                    got.push((next, start, end));
                    break;
                }
                spins += 1;
                if spins >= SPINS {
                    spins = 0;
                    if Instant::now() > deadline {
                        token.store(u64::MAX, Ordering::Release);
                        break 'run;
                    }
                    std::thread::yield_now();
                }
                std::hint::spin_loop();
            }
        }
        // Send next + 1.
        let start = clock.op_start_ns();
        token.store(next + 1, Ordering::Release);
        let end = clock.op_end_ns();
        sent.push((next + 1, start, end));
        next += 2;
    }
    (sent, got, pinned)
}

#[test]
fn a_handoff_is_never_recorded_as_received_before_it_was_sent() {
    let clock = Clock::best();
    let cores = available_cores();
    let precision = measure_clock_precision(&clock, &cores[..cores.len().min(2)]);
    let eps = precision.epsilon_ns();
    let token = AtomicU64::new(0);
    let deadline = Instant::now() + BUDGET;
    let (a, b) = (cores.first().copied(), cores.get(1).copied());
    let ((sent_a, got_a, pin_a), (sent_b, got_b, pin_b)) = std::thread::scope(|s| {
        let ha = s.spawn(|| side(clock, &token, a, 0, deadline));
        let hb = s.spawn(|| side(clock, &token, b, 1, deadline));
        (ha.join().unwrap(), hb.join().unwrap())
    });
    let sends: std::collections::HashMap<u64, (u64, u64)> =
        sent_a.iter().chain(sent_b.iter()).map(|&(t, s, e)| (t, (s, e))).collect();
    let mut handoffs = 0u64;
    let mut inverted = Vec::new();
    for &(t, start, end) in got_a.iter().chain(got_b.iter()) {
        let Some(&(send_start, _)) = sends.get(&t) else { continue };
        handoffs += 1;
        if end.saturating_add(eps) < send_start {
            inverted.push((t, send_start, start, end));
        }
    }
    eprintln!(
        "{handoffs} handoffs in at most {BUDGET:?}, ε = {eps} ns ({precision:?}), pinned: {}",
        pin_a && pin_b
    );
    assert!(handoffs >= AT_LEAST, "only {handoffs} handoffs");
    assert!(
        inverted.is_empty(),
        "{} handoffs recorded as received before they were sent (token, send start, receive start, receive end): {:?}",
        inverted.len(),
        &inverted[..inverted.len().min(5)]
    );
}
