//! The engine's random numbers: a named, versioned generator, so that a seed means the same
//! op streams on every machine and in every later version that keeps the version number.
//!
//! - [`SplitMix64`] (Steele, Lea, Flood 2014) expands a 64-bit seed into generator state.
//! - [`Xoshiro256StarStar`] (Blackman, Vigna 2018) generates each thread's stream.
//! - [`thread_stream`] derives thread `i`'s generator from `(seed, i)`.
//! - [`ChoiceDigest`] folds the choices a thread made into one number for reports.
//!
//! Changing any output of these (the algorithms, the derivation, the digest) must bump
//! [`RNG_VERSION`]: reports carry it so that streams are only compared within one version.

use serde::Serialize;

/// Name of the generator, as reports print it.
pub const RNG_NAME: &str = "xoshiro256**";
/// Version of the whole derivation (seeding, generator, choice encoding, digest).
pub const RNG_VERSION: u32 = 2;
/// Name of the digest over a thread's choices.
pub const DIGEST_NAME: &str =
    "fnv1a-64 over the settings and each change of them (with its op index), the op count and the generator state after the last op";

/// Multiplier that separates thread indices before they meet the seed.
const THREAD_SPREAD: u64 = 0xD1B5_4A32_D192_ED03;

/// SplitMix64 (the workspace's one copy, in the table crate) turns seeds into generator state.
pub use slotscope_table::SplitMix64;

/// xoshiro256**: 256 bits of state, period 2^256 - 1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Xoshiro256StarStar {
    s: [u64; 4],
}

impl Xoshiro256StarStar {
    /// A generator with exactly this state (not all zero; an all-zero state is replaced by
    /// SplitMix64(0)'s, since xoshiro would emit zeros forever).
    pub fn from_state(s: [u64; 4]) -> Self {
        if s == [0; 4] {
            return Xoshiro256StarStar::from_seed(0);
        }
        Xoshiro256StarStar { s }
    }

    /// State from four outputs of SplitMix64 started at `seed` (the authors' recommendation).
    pub fn from_seed(seed: u64) -> Self {
        let mut sm = SplitMix64::new(seed);
        Xoshiro256StarStar { s: [sm.next_u64(), sm.next_u64(), sm.next_u64(), sm.next_u64()] }
    }

    /// The state (for digests).
    pub fn state(&self) -> [u64; 4] {
        self.s
    }

    /// The next output.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }
}

/// The generator of global thread `index` in a run with `seed`:
/// `Xoshiro256StarStar::from_seed(seed ^ (index + 1) * 0xD1B54A32D192ED03)`.
pub fn thread_stream(seed: u64, index: usize) -> Xoshiro256StarStar {
    let spread = (index as u64).wrapping_add(1).wrapping_mul(THREAD_SPREAD);
    Xoshiro256StarStar::from_seed(seed ^ spread)
}

/// FNV-1a (64-bit) applied to whole 64-bit words instead of bytes: one xor and one multiply
/// per op, cheap enough for the hot loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ChoiceDigest(u64);

impl ChoiceDigest {
    const OFFSET: u64 = 0xCBF2_9CE4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01B3;

    /// The digest of no choices.
    pub const fn new() -> Self {
        ChoiceDigest(Self::OFFSET)
    }

    /// Folds in one word.
    #[inline]
    pub fn feed(&mut self, word: u64) {
        self.0 = (self.0 ^ word).wrapping_mul(Self::PRIME);
    }

    /// The value.
    pub const fn value(self) -> u64 {
        self.0
    }
}

impl Default for ChoiceDigest {
    fn default() -> Self {
        ChoiceDigest::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xoshiro_matches_the_reference_outputs() {
        // The reference implementation's outputs for the state [1, 2, 3, 4].
        let mut rng = Xoshiro256StarStar::from_state([1, 2, 3, 4]);
        let got: Vec<u64> = (0..4).map(|_| rng.next_u64()).collect();
        assert_eq!(got, [11520, 0, 1_509_978_240, 1_215_971_899_390_074_240]);
    }

    #[test]
    fn all_zero_state_is_replaced() {
        let mut rng = Xoshiro256StarStar::from_state([0; 4]);
        assert!((0..4).any(|_| rng.next_u64() != 0));
    }

    #[test]
    fn thread_streams_differ_by_index_and_seed_and_repeat() {
        let first = |seed, i| thread_stream(seed, i).next_u64();
        assert_eq!(first(7, 0), first(7, 0));
        assert_ne!(first(7, 0), first(7, 1));
        assert_ne!(first(7, 0), first(8, 0));
    }

    #[test]
    fn digest_depends_on_order_and_content() {
        let digest = |words: &[u64]| {
            let mut d = ChoiceDigest::new();
            words.iter().for_each(|&w| d.feed(w));
            d.value()
        };
        assert_eq!(digest(&[1, 2, 3]), digest(&[1, 2, 3]));
        assert_ne!(digest(&[1, 2, 3]), digest(&[3, 2, 1]));
        assert_ne!(digest(&[1, 2, 3]), digest(&[1, 2, 4]));
        assert_ne!(digest(&[]), digest(&[0]));
    }
}
