//! `SplitMix64` (Steele, Lea and Flood, 2014): a tiny seedable generator. The table itself never
//! draws a random number; this is here, at the bottom of the workspace, so that every crate's
//! fixtures, examples and benchmarks (and the engine, to expand seeds into generator state)
//! share one copy.

/// Odd constant of the golden ratio (2^64 / phi), the generator's increment.
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// A `SplitMix64` generator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator starting at `seed`.
    pub const fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The next output.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` for `n < 2^32` (multiply-shift of the output's top 32 bits: bias
    /// below `n / 2^32`).
    #[inline]
    pub fn below(&mut self, n: usize) -> usize {
        // The product of two values below 2^32, shifted down by 32, is below n.
        #[allow(clippy::cast_possible_truncation)]
        let r = (((self.next_u64() >> 32) * n as u64) >> 32) as usize;
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_output_and_stays_below() {
        // The first output of SplitMix64 seeded with 0, as published with the algorithm.
        assert_eq!(SplitMix64::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
        let mut r = SplitMix64::new(7);
        assert!((0..1000).all(|_| r.below(10) < 10));
        assert_eq!(r.below(1), 0);
    }
}
