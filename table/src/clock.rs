//! The CPU's cycle counter, for instrumentation.
//!
//! Not part of the table's algorithm: it lives here because this is the one crate allowed
//! `unsafe`, and reading the x86 time-stamp counter is an `unsafe` intrinsic. The stress engine
//! calibrates it against the OS clock and uses it where it is invariant (a timestamp for about a
//! third of the cost of `Instant::now()`).

/// Whether [`read_tsc`] reads a real counter on this build (x86-64, not under Miri).
pub const TSC_AVAILABLE: bool = cfg!(all(target_arch = "x86_64", not(miri)));

/// The time-stamp counter, or 0 where [`TSC_AVAILABLE`] is false. Not serialising (`rdtsc`,
/// not `rdtscp`): it may be read a few instructions early or late, which is below the
/// resolution the engine reports. Whether the counter ticks at a constant rate across cores
/// and sleep states is for the caller to check (`constant_tsc` and `nonstop_tsc` in
/// `/proc/cpuinfo`).
#[inline]
pub fn read_tsc() -> u64 {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    {
        // SAFETY: `rdtsc` has no preconditions: it reads a counter register, touches no
        // memory, and is available on every x86-64 CPU.
        unsafe { core::arch::x86_64::_rdtsc() }
    }
    #[cfg(not(all(target_arch = "x86_64", not(miri))))]
    {
        0
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tsc_advances_where_available() {
        if super::TSC_AVAILABLE {
            let a = super::read_tsc();
            let mut b = super::read_tsc();
            for _ in 0..1000 {
                b = super::read_tsc();
            }
            assert!(b > a, "the counter must advance: {a} then {b}");
        } else {
            assert_eq!(super::read_tsc(), 0);
        }
    }
}
