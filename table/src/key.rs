//! Keys: what an insert hands out and every other operation takes.

use std::fmt;

/// Bits 63..59 of a key hold log2 of the table's capacity.
pub(crate) const TAG_SHIFT: u32 = 59;
/// Mask of everything below the capacity tag (generation and slot).
pub(crate) const BODY_MASK: u64 = (1 << TAG_SHIFT) - 1;
/// The ring's marker for "no id here". Its tag (31) is never a valid log2 capacity (at most
/// 27), so no real key can equal it.
pub(crate) const RESERVED: u64 = u64::MAX;

/// A handle to one inserted element: its slot and the generation of that slot.
///
/// Bit layout (N = capacity, a power of two):
///
/// ```text
///  63     59 58                     log2(N) log2(N)-1        0
/// +---------+----------------------------+--------------------+
/// | log2(N) |         generation         |   slot index       |
/// +---------+----------------------------+--------------------+
/// ```
///
/// The low bits are the slot (Erlang's "pixdata"), so key -> slot is one AND. The generation
/// counts how often that slot has been reused; a key whose generation is not the slot's
/// current one is *stale* and finds nothing. The top five bits name the capacity, which makes a
/// key self-describing ([`Key::slot`] and [`Key::generation`] need no table) and lets the table
/// reject keys minted for a table of another size.
///
/// Any `u64` is accepted by [`Key::from_bits`]: a forged key never panics, it just finds
/// nothing (or, by astronomically small chance, a live element whose key it equals exactly).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct Key(u64);

impl Key {
    /// Rebuilds a key from [`Key::bits`]. Every value is allowed.
    #[inline]
    pub const fn from_bits(bits: u64) -> Key {
        Key(bits)
    }

    /// The raw bits, for storage or transport.
    #[inline]
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// log2 of the capacity of the table that issued this key (as the key claims it).
    #[inline]
    pub const fn capacity_log2(self) -> u32 {
        // Five bits: 0..=31.
        (self.0 >> TAG_SHIFT) as u32
    }

    /// The slot index (0 .. capacity) the key points at.
    #[inline]
    #[allow(clippy::cast_possible_truncation)] // at most 31 bits survive the mask
    pub const fn slot(self) -> usize {
        // The shift is at most 31, so the mask fits; a forged tag gives a forged slot, no panic.
        (self.0 & ((1u64 << self.capacity_log2()) - 1)) as usize
    }

    /// How many times the slot had been reused before this key was issued.
    #[inline]
    pub const fn generation(self) -> u64 {
        (self.0 & BODY_MASK) >> self.capacity_log2()
    }

    /// Builds the key of `slot` at `generation` in a table of `2^capacity_log2` slots.
    /// Bits that do not fit are dropped (generations wrap; see [`crate::Geometry::max_generation`]).
    #[inline]
    pub(crate) const fn compose(capacity_log2: u32, generation: u64, slot: usize) -> Key {
        let body = (generation << capacity_log2) | slot as u64;
        Key(((capacity_log2 as u64) << TAG_SHIFT) | (body & BODY_MASK))
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key(slot {}, gen {})", self.slot(), self.generation())
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.slot(), self.generation())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_round_trips() {
        for log2 in 4..=27 {
            let n = 1usize << log2;
            for slot in [0, 1, n / 2, n - 1] {
                for generation in [0u64, 1, 12345, (1 << (TAG_SHIFT - log2)) - 1] {
                    let k = Key::compose(log2, generation, slot);
                    assert_eq!(k.slot(), slot);
                    assert_eq!(k.generation(), generation);
                    assert_eq!(k.capacity_log2(), log2);
                    assert_eq!(Key::from_bits(k.bits()), k);
                    assert_ne!(k.bits(), RESERVED);
                }
            }
        }
    }

    #[test]
    fn any_bits_decode_without_panic() {
        for bits in [0, 1, u64::MAX, u64::MAX - 1, 1 << 63, 0x0123_4567_89ab_cdef] {
            let k = Key::from_bits(bits);
            let _ = (k.slot(), k.generation(), k.capacity_log2(), format!("{k:?} {k}"));
        }
        assert_eq!(Key::from_bits(u64::MAX).capacity_log2(), 31);
    }

    #[test]
    fn display_shows_slot_and_generation() {
        let k = Key::compose(4, 7, 3);
        assert_eq!(k.to_string(), "3@7");
        assert_eq!(format!("{k:?}"), "Key(slot 3, gen 7)");
    }
}
