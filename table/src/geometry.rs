//! Where things live in memory: capacity, line size, layout, and the index arithmetic.
//!
//! Three numbers describe a slot: its *index* `n` (the order in which fresh ids are handed
//! out: 0, 1, 2, ...), its *slot* `s` (its position among the N slots, which the key carries),
//! and its *word* (its position in the slot array, in 8-byte words). The layout maps n -> s;
//! the stride maps s -> word.

use std::fmt;
use std::str::FromStr;

use crate::key::Key;
use crate::BuildError;

/// Smallest capacity (Erlang's minimum too).
pub const MIN_CAPACITY: usize = 16;
/// Largest capacity: 2^27 slots, Erlang's maximum process table size.
pub const MAX_CAPACITY: usize = 1 << 27;
/// Bytes per slot word (one pointer).
pub const WORD_BYTES: usize = 8;

/// How slots are laid out over cache lines. Switchable at run time (a new table).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Layout {
    /// Erlang's `data2pix`: consecutive ids land on consecutive *different* lines, so
    /// concurrent inserts never fight over one line. The default.
    #[default]
    Interleaved,
    /// `slot = index`: consecutive ids share a line. The false-sharing baseline.
    Linear,
    /// One slot per line: no false sharing, at `line_bytes / 8` times the memory.
    Padded,
}

impl Layout {
    /// Every layout, in the order the app cycles through them.
    pub const ALL: [Layout; 3] = [Layout::Interleaved, Layout::Linear, Layout::Padded];

    /// The name used on the command line and in files.
    pub const fn name(self) -> &'static str {
        match self {
            Layout::Interleaved => "interleaved",
            Layout::Linear => "linear",
            Layout::Padded => "padded",
        }
    }

    /// The next layout in [`Layout::ALL`], wrapping around.
    #[must_use]
    pub fn next(self) -> Layout {
        let i = Layout::ALL.iter().position(|&l| l == self).unwrap_or(0);
        Layout::ALL[(i + 1) % Layout::ALL.len()]
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing an unknown layout or variant name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownName {
    /// What was asked for.
    pub given: String,
    /// What would have been accepted.
    pub expected: &'static [&'static str],
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown name `{}` (expected one of: {})", self.given, self.expected.join(", "))
    }
}

impl std::error::Error for UnknownName {}

impl FromStr for Layout {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Layout::ALL.into_iter().find(|l| l.name() == s).ok_or_else(|| UnknownName {
            given: s.to_owned(),
            expected: &["interleaved", "linear", "padded"],
        })
    }
}

/// The shape of a table: capacity N, line size L, layout. Plain data; `Copy`.
///
/// All index arithmetic of the table lives here so that views, snapshots and replays compute
/// lines exactly as the table does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Geometry {
    capacity_log2: u32,
    line_bytes: usize,
    layout: Layout,
    /// log2 S (words per line), precomputed: the index arithmetic runs on every operation.
    words_log2: u32,
    /// log2 (N / S): lines of the (unpadded) slot array and of the ring.
    lines_log2: u32,
}

impl Geometry {
    /// Validates and builds a geometry. `capacity` rounds up to a power of two (at least
    /// [`MIN_CAPACITY`]); 0 or more than [`MAX_CAPACITY`] is an error, as is a line size other
    /// than 64 or 128.
    ///
    /// # Errors
    /// [`BuildError::Capacity`] or [`BuildError::LineBytes`].
    pub fn new(capacity: usize, layout: Layout, line_bytes: usize) -> Result<Geometry, BuildError> {
        if capacity == 0 || capacity > MAX_CAPACITY {
            return Err(BuildError::Capacity { asked: capacity });
        }
        if line_bytes != 64 && line_bytes != 128 {
            return Err(BuildError::LineBytes { asked: line_bytes });
        }
        let n = capacity.next_power_of_two().max(MIN_CAPACITY);
        let words_log2 = (line_bytes / WORD_BYTES).trailing_zeros();
        let capacity_log2 = n.trailing_zeros();
        Ok(Geometry { capacity_log2, line_bytes, layout, words_log2, lines_log2: capacity_log2 - words_log2 })
    }

    /// N: the number of slots.
    #[inline]
    pub const fn capacity(&self) -> usize {
        1 << self.capacity_log2
    }

    /// log2(N).
    #[inline]
    pub const fn capacity_log2(&self) -> u32 {
        self.capacity_log2
    }

    /// L: the cache line size the layout is built for (64 or 128).
    #[inline]
    pub const fn line_bytes(&self) -> usize {
        self.line_bytes
    }

    /// The layout.
    #[inline]
    pub const fn layout(&self) -> Layout {
        self.layout
    }

    /// S = L / 8: how many slot words fit in one line.
    #[inline]
    pub const fn words_per_line(&self) -> usize {
        self.line_bytes / WORD_BYTES
    }

    /// How many slots share one line: S, or 1 for [`Layout::Padded`].
    #[inline]
    pub const fn slots_per_line(&self) -> usize {
        match self.layout {
            Layout::Padded => 1,
            _ => self.words_per_line(),
        }
    }

    /// Lines of the slot array.
    #[inline]
    pub const fn lines(&self) -> usize {
        self.capacity() / self.slots_per_line()
    }

    /// Lines of the free-id ring (always S cells per line).
    #[inline]
    pub const fn ring_lines(&self) -> usize {
        self.capacity() / self.words_per_line()
    }

    /// Words between consecutive slots: 1, or S for [`Layout::Padded`].
    #[inline]
    pub const fn stride(&self) -> usize {
        match self.layout {
            Layout::Padded => self.words_per_line(),
            _ => 1,
        }
    }

    /// Bytes of the slot array.
    pub const fn slot_bytes(&self) -> usize {
        self.capacity() * self.stride() * WORD_BYTES
    }

    /// Bytes of the whole table's fixed part: slots, ring and the header line.
    pub const fn table_bytes(&self) -> usize {
        self.slot_bytes() + self.capacity() * WORD_BYTES + 128
    }

    /// The largest generation a key of this table can carry; the next reuse wraps to 0.
    pub const fn max_generation(&self) -> u64 {
        (1u64 << (crate::key::TAG_SHIFT - self.capacity_log2)) - 1
    }

    /// `interleave(i)` over the N cells of the slots or the ring, S per line: consecutive i go
    /// to consecutive lines. Erlang's `data2pix`.
    #[inline]
    fn interleave(&self, i: usize) -> usize {
        let lines = 1 << self.lines_log2;
        ((i & (lines - 1)) << self.words_log2) + ((i >> self.lines_log2) & (self.words_per_line() - 1))
    }

    /// The inverse of [`Self::interleave`].
    #[inline]
    fn deinterleave(&self, s: usize) -> usize {
        ((s & (self.words_per_line() - 1)) << self.lines_log2) + (s >> self.words_log2)
    }

    /// The slot that fresh index `n` (< N) maps to.
    #[inline]
    pub fn slot_of_index(&self, n: usize) -> usize {
        let n = n & (self.capacity() - 1);
        match self.layout {
            Layout::Interleaved => self.interleave(n),
            Layout::Linear | Layout::Padded => n,
        }
    }

    /// The fresh index whose slot is `s` (the inverse of [`Self::slot_of_index`]).
    #[inline]
    pub fn index_of_slot(&self, s: usize) -> usize {
        let s = s & (self.capacity() - 1);
        match self.layout {
            Layout::Interleaved => self.deinterleave(s),
            Layout::Linear | Layout::Padded => s,
        }
    }

    /// The word of the slot array that holds slot `s`.
    #[inline]
    pub const fn word_of_slot(&self, s: usize) -> usize {
        s * self.stride()
    }

    /// The line of the slot array that holds slot `s`.
    #[inline]
    pub const fn line_of_slot(&self, s: usize) -> usize {
        // A shift, not a division: the probes' arguments are computed even when the probe
        // ignores them, and a division keeps its divide-by-zero check alive in the plain build.
        s >> self.slots_per_line().trailing_zeros()
    }

    /// The slots held by line `line`, in memory order.
    pub fn slots_of_line(&self, line: usize) -> std::ops::Range<usize> {
        let per = self.slots_per_line();
        line * per..(line + 1) * per
    }

    /// The ring cell (position in memory) that ticket `t` uses. The ring is interleaved like the
    /// slots, except under [`Layout::Linear`], where it is linear too (the baseline).
    #[inline]
    pub fn ring_cell_of_ticket(&self, t: u64) -> usize {
        // Truncation is intended: only the residue modulo N matters.
        #[allow(clippy::cast_possible_truncation)]
        let i = (t as usize) & (self.capacity() - 1);
        match self.layout {
            Layout::Linear => i,
            Layout::Interleaved | Layout::Padded => self.interleave(i),
        }
    }

    /// The line of the ring that holds cell `c`.
    #[inline]
    pub const fn ring_line_of_cell(&self, c: usize) -> usize {
        c >> self.words_log2
    }

    /// The key of slot `slot` at `generation` (generation wraps at [`Self::max_generation`]).
    pub fn key(&self, generation: u64, slot: usize) -> Key {
        Key::compose(self.capacity_log2, generation & self.max_generation(), slot & (self.capacity() - 1))
    }

    /// The key that the next reuse of `key`'s slot will carry (generation + 1, wrapping).
    #[inline]
    pub fn next_key(&self, key: Key) -> Key {
        // Generation + 1 is + N on the bits. If that carried into the capacity tag, the
        // generation was the largest: wrap to 0 (keep the tag and the slot).
        let next = key.bits().wrapping_add(1 << self.capacity_log2);
        if next >> crate::key::TAG_SHIFT == key.bits() >> crate::key::TAG_SHIFT {
            Key::from_bits(next)
        } else {
            self.key(0, key.slot())
        }
    }

    /// Whether `key` could have been issued by a table of this geometry (right capacity tag).
    #[inline]
    pub const fn owns(&self, key: Key) -> bool {
        key.capacity_log2() == self.capacity_log2
    }

    /// The id of a key in Erlang's numbering: `generation * N + index`.
    pub fn id_of(&self, key: Key) -> u64 {
        (key.generation() << self.capacity_log2) | self.index_of_slot(key.slot()) as u64
    }
}

impl fmt::Display for Geometry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} slots, {} layout, {}-byte lines ({} slots/line, {} lines)",
            self.capacity(),
            self.layout,
            self.line_bytes,
            self.slots_per_line(),
            self.lines()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_geometries() -> impl Iterator<Item = Geometry> {
        // Miri interprets every instruction: the small sizes cover the same arithmetic.
        let caps: &[usize] = if cfg!(miri) { &[16, 32, 64] } else { &[16, 32, 64, 256, 1 << 12] };
        let caps = caps.iter().copied();
        caps.into_iter().flat_map(|c| {
            Layout::ALL
                .into_iter()
                .flat_map(move |l| [64, 128].into_iter().map(move |b| Geometry::new(c, l, b).unwrap()))
        })
    }

    #[test]
    fn capacity_rounds_up_and_rejects_out_of_range() {
        let g = |c| Geometry::new(c, Layout::Interleaved, 64).map(|g| g.capacity());
        assert_eq!(g(1), Ok(16));
        assert_eq!(g(16), Ok(16));
        assert_eq!(g(17), Ok(32));
        assert_eq!(g(1000), Ok(1024));
        assert_eq!(g(MAX_CAPACITY), Ok(MAX_CAPACITY));
        assert_eq!(g(0), Err(BuildError::Capacity { asked: 0 }));
        assert_eq!(g(MAX_CAPACITY + 1), Err(BuildError::Capacity { asked: MAX_CAPACITY + 1 }));
        assert_eq!(Geometry::new(16, Layout::Linear, 32), Err(BuildError::LineBytes { asked: 32 }));
    }

    #[test]
    fn every_index_maps_to_a_distinct_slot_and_back() {
        for g in all_geometries() {
            let n = g.capacity();
            let mut seen = vec![false; n];
            for i in 0..n {
                let s = g.slot_of_index(i);
                assert!(s < n, "{g}: index {i} -> slot {s}");
                assert!(!seen[s], "{g}: slot {s} used twice");
                seen[s] = true;
                assert_eq!(g.index_of_slot(s), i, "{g}: inverse of {i}");
            }
            let mut cells = vec![false; n];
            for t in 0..n as u64 {
                let c = g.ring_cell_of_ticket(t);
                assert!(!cells[c], "{g}: ring cell {c} used twice");
                cells[c] = true;
                assert_eq!(g.ring_cell_of_ticket(t + n as u64), c, "ring wraps every N tickets");
            }
        }
    }

    #[test]
    fn interleaved_puts_consecutive_ids_on_distinct_lines() {
        for g in all_geometries().filter(|g| g.layout() == Layout::Interleaved) {
            let lines = g.lines();
            // Consecutive ids visit every line before any line is revisited.
            for start in [0, 1, lines / 2] {
                let mut seen = std::collections::HashSet::new();
                for i in start..start + lines {
                    assert!(seen.insert(g.line_of_slot(g.slot_of_index(i))), "{g}: id {i}");
                }
            }
            if lines > 1 {
                for i in 0..g.capacity() - 1 {
                    assert_ne!(
                        g.line_of_slot(g.slot_of_index(i)),
                        g.line_of_slot(g.slot_of_index(i + 1)),
                        "{g}: ids {i} and {} share a line",
                        i + 1
                    );
                }
            }
        }
    }

    #[test]
    fn linear_puts_consecutive_ids_on_the_same_line() {
        for g in all_geometries().filter(|g| g.layout() == Layout::Linear) {
            let s = g.slots_per_line();
            for i in 0..g.capacity() {
                assert_eq!(g.line_of_slot(g.slot_of_index(i)), i / s, "{g}");
            }
        }
    }

    #[test]
    fn padded_gives_every_slot_its_own_line() {
        for g in all_geometries().filter(|g| g.layout() == Layout::Padded) {
            assert_eq!(g.lines(), g.capacity());
            for s in 0..g.capacity() {
                assert_eq!(g.line_of_slot(s), s);
                assert_eq!(g.word_of_slot(s) * WORD_BYTES % g.line_bytes(), 0);
            }
            assert_eq!(g.slot_bytes(), g.capacity() * g.line_bytes());
        }
    }

    #[test]
    fn erlang_data2pix_example() {
        // 16 slots, 8 per line, 2 lines: ids alternate between the two lines.
        let g = Geometry::new(16, Layout::Interleaved, 64).unwrap();
        let slots: Vec<_> = (0..6).map(|i| g.slot_of_index(i)).collect();
        assert_eq!(slots, [0, 8, 1, 9, 2, 10]);
    }

    #[test]
    fn next_key_wraps_the_generation() {
        let g = Geometry::new(1 << 20, Layout::Interleaved, 64).unwrap();
        let top = g.key(g.max_generation(), 5);
        assert_eq!(top.generation(), g.max_generation());
        let next = g.next_key(top);
        assert_eq!((next.slot(), next.generation()), (5, 0));
        assert!(g.owns(next));
        assert_eq!(g.next_key(g.key(3, 5)).generation(), 4);
    }

    #[test]
    fn layout_names_round_trip() {
        for l in Layout::ALL {
            assert_eq!(l.name().parse::<Layout>(), Ok(l));
        }
        assert!("zigzag".parse::<Layout>().is_err());
        assert_eq!(Layout::Padded.next(), Layout::Interleaved);
    }
}
