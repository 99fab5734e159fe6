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

/// The time-stamp counter read so that it *precedes* everything after it: `lfence; rdtsc;
/// lfence` (Intel SDM, RDTSC: an `lfence` after it keeps later instructions, memory accesses
/// included, from starting before it has read the counter; the one before keeps it from
/// reading early). A recorded op's start: its first load or RMW cannot pass this reading.
/// 0 where [`TSC_AVAILABLE`] is false.
#[inline]
pub fn read_tsc_before() -> u64 {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    {
        use core::arch::x86_64::{_mm_lfence, _rdtsc};
        // SAFETY: `lfence` has no preconditions: it orders instructions, touches no memory, and
        // is available on every x86-64 CPU (SSE2 is part of the x86-64 baseline).
        unsafe { _mm_lfence() };
        // SAFETY: `rdtsc` reads a counter register, touches no memory, always available.
        let t = unsafe { _rdtsc() };
        // SAFETY: as the first `lfence`.
        unsafe { _mm_lfence() };
        t
    }
    #[cfg(not(all(target_arch = "x86_64", not(miri))))]
    {
        0
    }
}

/// The time-stamp counter read so that it *follows* everything before it, stores included:
/// `mfence; lfence; rdtsc` (Intel SDM, RDTSC: "MFENCE;LFENCE immediately before RDTSC" makes it
/// execute only after all previous instructions have executed and all previous loads and
/// stores are globally visible). A recorded op's end: its last store or RMW is visible to
/// other cores before this reading. 0 where [`TSC_AVAILABLE`] is false.
#[inline]
pub fn read_tsc_after() -> u64 {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    {
        use core::arch::x86_64::{_mm_lfence, _mm_mfence, _rdtsc};
        // SAFETY: `mfence` has no preconditions: it orders memory accesses, touches no memory
        // itself, and is available on every x86-64 CPU (SSE2 baseline).
        unsafe { _mm_mfence() };
        // SAFETY: as `mfence`: an instruction-ordering fence, always available.
        unsafe { _mm_lfence() };
        // SAFETY: `rdtsc` reads a counter register, touches no memory, always available.
        unsafe { _rdtsc() }
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
            let (c, d) = (super::read_tsc_before(), super::read_tsc_after());
            assert!(c > b && d >= c, "fenced reads advance too: {b}, {c}, {d}");
        } else {
            assert_eq!(super::read_tsc(), 0);
            assert_eq!(super::read_tsc_before() + super::read_tsc_after(), 0);
        }
    }
}
