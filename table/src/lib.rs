//! A lock-free, fixed-capacity table with generational keys and cache-line-aware layouts:
//! the design of Erlang/OTP's process table (`erl_ptab.c`), in Rust.
//!
//! ```
//! use slotscope_table::{Layout, Table};
//!
//! let table: Table<String> = Table::builder()
//!     .capacity(1024)
//!     .layout(Layout::Interleaved)
//!     .line_bytes(64)
//!     .build()
//!     .unwrap();
//! let key = table.insert("hello".to_owned()).unwrap();
//! assert_eq!(table.get(key).as_deref(), Some("hello"));
//! assert!(table.remove(key));
//! assert_eq!(table.get(key), None); // and it stays None, even after the slot is reused
//!
//! let other = table.insert("world".to_owned()).unwrap();
//! let reader = table.reader(); // one epoch pin for many lookups
//! assert_eq!(reader.get(other).map(String::as_str), Some("world"));
//! ```
//!
//! # Shape
//! - Capacity N is a power of two from 16 to 2^27, chosen at run time; asked-for sizes round
//!   up, sizes out of range are a [`BuildError`].
//! - Three arrays allocated once: the slots (one atomic pointer each, null = free), the ring
//!   of free ids, and a header line with the `count` and the two ring cursors.
//! - A [`Key`] carries its slot and that slot's generation. A lookup compares the whole key
//!   with the one stored in the element: a stale key (its slot since reused) finds nothing and
//!   removes nothing.
//! - Elements are freed through crossbeam-epoch; lookups write no shared memory.
//!
//! # Probes and introspection
//! Every operation has a `*_probed` form that reports what it ran into to a [`Probe`] the
//! caller owns ([`NoProbe`] compiles to nothing). [`Table::snapshot_into`] copies the table's
//! state into a plain [`Snapshot`] without writing to it.
//!
//! # Broken on purpose
//! [`Variant::NoGenerationCheck`] and [`Variant::RelaxedRing`] are deliberately incorrect
//! versions of the algorithm, for teaching and for testing checkers. Never the default.
//!
//! The design essay, with the memory orderings and why each invariant holds, is
//! `IMPLEMENTATION.md` next to this crate's `Cargo.toml`.

pub mod clock;
mod geometry;
mod key;
mod magazine;
mod probe;
mod reader;
pub mod snapshot;
mod splitmix;
mod sync;
mod table;
mod writer;

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

pub use geometry::{Geometry, Layout, UnknownName, MAX_CAPACITY, MIN_CAPACITY, WORD_BYTES};
pub use key::Key;
pub use magazine::{DEFAULT_MAGAZINE, MAGAZINE_WRITERS, MAX_MAGAZINE, MIN_MAGAZINE};
pub use probe::{NoProbe, Probe, ProbeCounts, Region};
pub use reader::{Keys, Reader};
pub use snapshot::{MagazineInfo, SlotInfo, SlotState, Snapshot};
pub use splitmix::SplitMix64;
pub use table::{Full, Table};
pub use writer::{Writer, WRITER_BATCH, WRITER_SPARE_LIMIT};

/// Which version of the algorithm a table runs. Only [`Variant::Correct`] is correct; the
/// others are broken on purpose for the bug zoo and must be labelled loudly wherever shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Variant {
    /// The algorithm as designed. The default.
    #[default]
    Correct,
    /// BROKEN: lookups and removes compare only the slot, not the generation (the bug of the
    /// `ptab` crate 0.1.7): a stale key reads, and removes, whatever now lives in its slot.
    NoGenerationCheck,
    /// BROKEN: the free ring uses Relaxed instead of Release/Acquire, and the reordering this
    /// allows (a removed id handed out again before its slot is cleared) is performed outright,
    /// so that it shows on every CPU: inserts get lost, ids get handed out twice.
    RelaxedRing,
}

impl Variant {
    /// Every variant, correct first.
    pub const ALL: [Variant; 3] = [Variant::Correct, Variant::NoGenerationCheck, Variant::RelaxedRing];

    /// The name used on the command line and in files.
    pub const fn name(self) -> &'static str {
        match self {
            Variant::Correct => "correct",
            Variant::NoGenerationCheck => "no-generation-check",
            Variant::RelaxedRing => "relaxed-ring",
        }
    }

    /// Whether this is one of the broken-on-purpose variants.
    pub const fn is_broken(self) -> bool {
        !matches!(self, Variant::Correct)
    }

    /// One sentence on what is broken (empty for the correct variant).
    pub const fn description(self) -> &'static str {
        match self {
            Variant::Correct => "",
            Variant::NoGenerationCheck => "lookups skip the generation check: stale keys alias new elements",
            Variant::RelaxedRing => "the free ring is Relaxed: ids reused before their slot is cleared",
        }
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Variant {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Variant::ALL.into_iter().find(|v| v.name() == s).ok_or_else(|| UnknownName {
            given: s.to_owned(),
            expected: &["correct", "no-generation-check", "relaxed-ring"],
        })
    }
}

/// How free ids are handed out: the global ring alone (Erlang's design, the default), or with
/// a per-writer cache of ids in front of it. See `IMPLEMENTATION.md`, "Allocators".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Allocator {
    /// Every insert claims room and takes its id from the shared ring, every remove puts its id
    /// back: ids come out in global order, `Full` means the table is full, and each insert +
    /// remove pair writes the header line three times. The default.
    #[default]
    Ring,
    /// Each [`Writer`] keeps up to `size` free ids of its own: its removes put ids there, its
    /// inserts take them back, and it goes to the ring only to refill (a batch of `size / 2`
    /// ids, rounded down to whole cache lines, in one claim) or to give a batch of a full
    /// magazine back, whole lines first. The ring starts in slot order, so each writer's
    /// refills take lines of their own. The header line is written about once per batch;
    /// in exchange ids are no longer handed out in global order, and `Full` may be answered
    /// while other writers' magazines hold free ids.
    Magazine {
        /// Ids a writer may hold: [`MIN_MAGAZINE`] to [`MAX_MAGAZINE`], at most a quarter of
        /// the capacity.
        size: u32,
    },
}

impl Allocator {
    /// The name used on the command line and in files: `ring` or `magazine`.
    pub const fn name(self) -> &'static str {
        match self {
            Allocator::Ring => "ring",
            Allocator::Magazine { .. } => "magazine",
        }
    }

    /// The magazine size, if this is the magazine allocator.
    pub const fn magazine(self) -> Option<u32> {
        match self {
            Allocator::Ring => None,
            Allocator::Magazine { size } => Some(size),
        }
    }
}

impl fmt::Display for Allocator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Allocator::Ring => f.write_str("ring"),
            Allocator::Magazine { size } => write!(f, "magazine of {size}"),
        }
    }
}

/// Why a table could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuildError {
    /// The capacity was 0 or above [`MAX_CAPACITY`] (2^27).
    Capacity {
        /// What was asked for.
        asked: usize,
    },
    /// The line size was not 64 or 128.
    LineBytes {
        /// What was asked for.
        asked: usize,
    },
    /// The magazine size was out of range for the allocator or for the capacity.
    Magazine {
        /// What was asked for.
        size: u32,
        /// The table's capacity (after rounding up).
        capacity: usize,
    },
    /// The broken `relaxed-ring` variant runs with the ring allocator only.
    VariantAllocator {
        /// The variant asked for.
        variant: Variant,
    },
    /// The arrays could not be allocated.
    OutOfMemory {
        /// Bytes the table needed.
        bytes: usize,
    },
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Capacity { asked } => write!(
                f,
                "capacity {asked} is out of range: it must be between 1 and {MAX_CAPACITY} (2^27); \
                 it is rounded up to a power of two, at least {MIN_CAPACITY}"
            ),
            BuildError::LineBytes { asked } => {
                write!(f, "line size {asked} bytes is not supported: use 64 or 128")
            }
            BuildError::Magazine { size, capacity } => write!(
                f,
                "magazine size {size} is out of range: it must be between {MIN_MAGAZINE} and \
                 {MAX_MAGAZINE}, and at most a quarter of the capacity ({capacity} slots allow {})",
                (capacity / 4).min(MAX_MAGAZINE as usize)
            ),
            BuildError::VariantAllocator { variant } => write!(
                f,
                "the `{variant}` variant breaks the ring's orderings and runs with the ring \
                 allocator only"
            ),
            BuildError::OutOfMemory { bytes } => {
                write!(f, "could not allocate {bytes} bytes for the table")
            }
        }
    }
}

impl std::error::Error for BuildError {}

/// Builds a [`Table`]: `Table::builder().capacity(n).layout(..).line_bytes(..).build()`.
#[must_use]
pub struct Builder<T> {
    capacity: usize,
    layout: Layout,
    line_bytes: usize,
    variant: Variant,
    allocator: Allocator,
    first_generation: u64,
    _for: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Builder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("capacity", &self.capacity)
            .field("layout", &self.layout)
            .field("line_bytes", &self.line_bytes)
            .field("variant", &self.variant)
            .field("allocator", &self.allocator)
            .field("first_generation", &self.first_generation)
            .finish()
    }
}

impl<T> Builder<T> {
    /// Defaults: 1024 slots, interleaved, 64-byte lines, the correct variant, the ring
    /// allocator.
    pub fn new() -> Self {
        Builder {
            capacity: 1024,
            layout: Layout::Interleaved,
            line_bytes: 64,
            variant: Variant::Correct,
            allocator: Allocator::Ring,
            first_generation: 0,
            _for: PhantomData,
        }
    }

    /// At least this many slots (rounded up to a power of two, at least 16; at most 2^27).
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// How slots are laid out over cache lines (default [`Layout::Interleaved`]).
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// The cache line size to lay out for: 64 (default) or 128 (x86's adjacent-line pair).
    pub fn line_bytes(mut self, line_bytes: usize) -> Self {
        self.line_bytes = line_bytes;
        self
    }

    /// Which version of the algorithm to run. Anything but [`Variant::Correct`] is broken on
    /// purpose.
    pub fn variant(mut self, variant: Variant) -> Self {
        self.variant = variant;
        self
    }

    /// How free ids are handed out (default [`Allocator::Ring`]).
    pub fn allocator(mut self, allocator: Allocator) -> Self {
        self.allocator = allocator;
        self
    }

    /// Test hook (Erlang's `next_pid` hook): the generation every slot starts at, so tests can
    /// reach the wrap-around of generations. Masked to what the key format can hold.
    pub fn first_generation(mut self, generation: u64) -> Self {
        self.first_generation = generation;
        self
    }

    /// Allocates the table.
    ///
    /// # Errors
    /// [`BuildError`] for a capacity, line size or magazine size out of range, the
    /// `relaxed-ring` variant with magazines, or an allocation failure.
    pub fn build(self) -> Result<Table<T>, BuildError> {
        let geometry = Geometry::new(self.capacity, self.layout, self.line_bytes)?;
        if let Allocator::Magazine { size } = self.allocator {
            magazine::validate(size, geometry.capacity())?;
            if self.variant == Variant::RelaxedRing {
                return Err(BuildError::VariantAllocator { variant: self.variant });
            }
        }
        Table::from_parts(
            geometry,
            self.variant,
            self.allocator,
            self.first_generation & geometry.max_generation(),
        )
    }
}

impl<T> Default for Builder<T> {
    fn default() -> Self {
        Builder::new()
    }
}
