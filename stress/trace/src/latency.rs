//! The one shape of latency histogram everything shares, so that histograms of workers,
//! reports and replays add up without conversion.

use hdrhistogram::Histogram;

/// Significant digits of every latency histogram: 2 keeps values within 1% at about 30 KB per
/// histogram (3 digits would be about 200 KB, and a worker holds a few dozen).
pub const LATENCY_SIGFIG: u8 = 2;
/// The largest latency recorded exactly (60 s, in ns); longer ones are recorded as this.
pub const LATENCY_MAX_NS: u64 = 60_000_000_000;

/// A histogram for latencies in ns: 1 ns .. [`LATENCY_MAX_NS`], [`LATENCY_SIGFIG`] digits.
pub fn latency_histogram() -> Histogram<u64> {
    // The bounds are constants that hdrhistogram accepts.
    Histogram::new_with_bounds(1, LATENCY_MAX_NS, LATENCY_SIGFIG).expect("valid histogram bounds")
}
