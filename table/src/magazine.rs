//! The magazine allocator: a cache of free ids per writer, in front of the ring.
//!
//! ```text
//!  record 0 (own line)     ids 0 (own lines)            record 1 ...
//! +------------------+    +----+----+----+----+----+    +------------------+
//! | taken | fill     |    | id | id | id | .. | -- |    | taken | fill     |
//! +------------------+    +----+----+----+----+----+    +------------------+
//!   owner: a Writer         [0, fill) hold free ids
//! ```
//!
//! A table built with [`crate::Allocator::Magazine`] owns [`MAGAZINE_WRITERS`] records, each
//! on lines of its own. A [`crate::Writer`] takes a free record when it is made and gives it
//! back when dropped; a writer that finds none taken runs on the ring alone. Only the owner
//! writes its record (plain Relaxed stores: other threads only read them, for [`Table::len`]
//! and snapshots), so the magazine's own traffic never leaves the owner's cache.
//!
//! The ids in a magazine are *out of the ring*: the header's `count` counts them as claimed.
//! So at any quiescent moment `live + ids in the ring + ids in magazines == N`, and a writer's
//! refill or give-back moves ids between the ring and its magazine with one claim RMW (and, to
//! give back, one free-cursor RMW), whatever the number of ids moved. Ids move between a
//! magazine and its owner's inserts and removes without any shared write at all.
//!
//! The synchronisation is the ring's, unchanged: a remove clears its slot (`AcqRel`) before its
//! id enters the magazine; an id reused from the magazine is reused on the same thread, after
//! the clear in program order; an id given back to the ring is pushed with the ring's Release
//! CAS and released from the count with its Release decrement, as a single remove would.
//!
//! Hand-written, not a crate: the cache is a fixed array of the table's own atomics that
//! snapshots must be able to read without locking, which no pool crate offers.

use crate::key::Key;
use crate::sync::{AtomicU64, Ordering};
use crate::table::{Block, BLOCK_WORDS};
use crate::BuildError;

/// Writers that can hold a magazine at once on one table (64; 4 under loom, whose models use
/// two); further writers run on the ring alone until one of those is dropped.
pub const MAGAZINE_WRITERS: usize = if cfg!(loom) { 4 } else { 64 };
/// Smallest magazine: 2 ids (a refill then takes 1).
pub const MIN_MAGAZINE: u32 = 2;
/// Largest magazine: 4096 ids.
pub const MAX_MAGAZINE: u32 = 4096;
/// The magazine size used when none is given: 64 ids.
pub const DEFAULT_MAGAZINE: u32 = 64;

/// Checks a magazine size against the limits and the (rounded-up) capacity.
pub(crate) fn validate(size: u32, capacity: usize) -> Result<(), BuildError> {
    let fits = (MIN_MAGAZINE..=MAX_MAGAZINE).contains(&size) && size as usize <= capacity / 4;
    if fits {
        Ok(())
    } else {
        Err(BuildError::Magazine { size, capacity })
    }
}

/// One writer's magazine bookkeeping, alone on its line: whether a writer owns it, and how
/// many ids it holds.
#[repr(C, align(128))]
pub(crate) struct Record {
    /// 1 while a writer owns the record, else 0.
    taken: AtomicU64,
    /// Ids held: cells `[0, fill)` of the record's ids.
    fill: AtomicU64,
}

/// The records and their id cells, allocated once with the table.
pub(crate) struct Magazines {
    size: usize,
    records: Box<[Record]>,
    /// Per record, `ceil(size / 16)` blocks: a record's cells never share a line with another's.
    cells: Box<[Block<AtomicU64>]>,
    blocks_per_record: usize,
}

impl Magazines {
    pub(crate) fn new(size: u32) -> Magazines {
        let size = size as usize;
        let blocks_per_record = size.div_ceil(BLOCK_WORDS);
        let records =
            (0..MAGAZINE_WRITERS).map(|_| Record { taken: AtomicU64::new(0), fill: AtomicU64::new(0) });
        let cells = (0..MAGAZINE_WRITERS * blocks_per_record)
            .map(|_| Block(std::array::from_fn(|_| AtomicU64::new(0))));
        Magazines { size, records: records.collect(), cells: cells.collect(), blocks_per_record }
    }

    /// Bytes of the records and their cells.
    pub(crate) fn bytes(&self) -> usize {
        std::mem::size_of_val(&*self.records) + std::mem::size_of_val(&*self.cells)
    }

    /// Takes a free record for a new writer, if any is left.
    pub(crate) fn take(&self) -> Option<Magazine<'_>> {
        self.records.iter().enumerate().find_map(|(index, record)| {
            // Acquire: pairs with the Release store in `Magazine::release`, so the previous
            // owner's last writes to the record (fill 0) are seen before we write it.
            let won = record.taken.load(Ordering::Relaxed) == 0
                && record.taken.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_ok();
            won.then(|| Magazine { magazines: self, index, fill: 0, order: Vec::with_capacity(self.size) })
        })
    }

    /// Ids held in all magazines right now (Relaxed reads: a hint under concurrency, exact at
    /// quiescence).
    pub(crate) fn held(&self) -> u64 {
        self.records.iter().map(|r| r.fill.load(Ordering::Relaxed)).sum()
    }

    /// Each taken record's ids, as a snapshot sees them: `(record, ids)`, weakly consistent
    /// (an owner working meanwhile may have moved on).
    pub(crate) fn read(&self, mut each: impl FnMut(usize, &mut dyn Iterator<Item = u64>)) {
        for (index, record) in self.records.iter().enumerate() {
            if record.taken.load(Ordering::Relaxed) == 0 {
                continue;
            }
            let fill = usize::try_from(record.fill.load(Ordering::Relaxed)).unwrap_or(0).min(self.size);
            // Relaxed: the ids are only reported, never acted on.
            let mut ids = (0..fill).map(|i| self.cell(index, i).load(Ordering::Relaxed));
            each(index, &mut ids);
        }
    }

    #[inline]
    fn cell(&self, record: usize, i: usize) -> &AtomicU64 {
        let word = record * self.blocks_per_record * BLOCK_WORDS + i;
        &self.cells[word / BLOCK_WORDS].0[word % BLOCK_WORDS]
    }
}

/// A writer's hold on one record: the ids it keeps, with their count mirrored in the record.
pub(crate) struct Magazine<'t> {
    magazines: &'t Magazines,
    index: usize,
    /// The authoritative fill (the record's is a copy for readers).
    fill: usize,
    /// Sort words of [`Magazine::take_by_line`] (M of them at most), kept to reuse.
    order: Vec<u64>,
}

/// Bits of a position in a magazine's sort word (positions < [`MAX_MAGAZINE`] = 2^12).
const POS_BITS: u32 = 12;
const POS_MASK: u64 = (1 << POS_BITS) - 1;
/// Where a line's count sits in a sort word: above the line (< 2^27 lines) and the position.
const LINE_TOP: u32 = 40;

impl Magazine<'_> {
    /// The magazine size M.
    #[inline]
    pub(crate) fn size(&self) -> usize {
        self.magazines.size
    }

    /// Ids held.
    #[inline]
    pub(crate) fn fill(&self) -> usize {
        self.fill
    }

    #[inline]
    fn publish_fill(&self) {
        // Relaxed: the count is only read as a hint (len, snapshots); the owner keeps its own.
        self.magazines.records[self.index].fill.store(self.fill as u64, Ordering::Relaxed);
    }

    /// The most recently stored id, if any.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<Key> {
        if self.fill == 0 {
            return None;
        }
        self.fill -= 1;
        // Relaxed: our own store, read back on the same thread.
        let id = self.magazines.cell(self.index, self.fill).load(Ordering::Relaxed);
        self.publish_fill();
        Some(Key::from_bits(id))
    }

    /// Stores an id; the caller makes room first (`fill < size`).
    #[inline]
    pub(crate) fn push(&mut self, id: Key) {
        debug_assert!(self.fill < self.size());
        // Relaxed: only this thread acts on the cell; readers merely report it.
        self.magazines.cell(self.index, self.fill).store(id.bits(), Ordering::Relaxed);
        self.fill += 1;
        self.publish_fill();
    }

    /// Ids moved by one refill or one overflow: half the magazine, rounded down to whole lines
    /// of `slots_per_line` slots when it holds at least one line (so 32 = 4 lines of 8 for
    /// M = 64 and 64-byte lines); at least 1.
    #[inline]
    pub(crate) fn batch(&self, slots_per_line: usize) -> usize {
        let half = (self.size() / 2).max(1);
        if half >= slots_per_line {
            half / slots_per_line * slots_per_line
        } else {
            half
        }
    }

    /// Takes `k` ids out to give back to the ring, whole lines first, and moves the rest down
    /// (in their order). `line_of` names an id's slot line. The ids leave grouped by line:
    /// first the lines of which the magazine holds the most ids (a line held whole is one
    /// this writer has no live key left on), ties by line number, each line's ids oldest
    /// first; `out` receives them in that order, so the ring keeps a line's ids next to each
    /// other for the next refill.
    ///
    /// Runs once per [`Self::batch`] removes at most (an overflow) and on drop: two sorts of
    /// at most M words, in a buffer kept with the magazine.
    pub(crate) fn take_by_line(&mut self, k: usize, line_of: impl Fn(Key) -> usize, out: &mut Vec<Key>) {
        let k = k.min(self.fill);
        let fill = self.fill;
        let (magazines, index) = (self.magazines, self.index);
        let id_at = |i: usize| magazines.cell(index, i).load(Ordering::Relaxed);
        // Sort words: line << POS_BITS | position, then the line's count above LINE_TOP.
        let order = &mut self.order;
        order.clear();
        order.extend((0..fill).map(|i| (line_of(Key::from_bits(id_at(i))) as u64) << POS_BITS | i as u64));
        order.sort_unstable();
        let mut start = 0;
        while start < order.len() {
            let line = order[start] >> POS_BITS;
            let end = start + order[start..].iter().take_while(|&&w| w >> POS_BITS == line).count();
            let fewer = (u64::from(MAX_MAGAZINE) - (end - start) as u64) << LINE_TOP;
            order[start..end].iter_mut().for_each(|w| *w |= fewer);
            start = end;
        }
        order.sort_unstable();
        // Truncation cannot happen: a position is below MAX_MAGAZINE (2^12).
        #[allow(clippy::cast_possible_truncation)]
        let position = |w: u64| (w & POS_MASK) as usize;
        out.extend(order[..k].iter().map(|&w| Key::from_bits(id_at(position(w)))));
        // The rest move down in their own order; ascending positions read each cell before
        // any write can reach it (the write index never passes the read index).
        let kept = &mut order[k..];
        for w in kept.iter_mut() {
            *w &= POS_MASK;
        }
        kept.sort_unstable();
        for (to, &from) in kept.iter().enumerate() {
            let id = id_at(position(from));
            self.magazines.cell(self.index, to).store(id, Ordering::Relaxed);
        }
        self.fill -= k;
        self.publish_fill();
    }

    /// Gives the record back (empty: the caller has returned its ids).
    pub(crate) fn release(self) {
        debug_assert_eq!(self.fill, 0);
        let record = &self.magazines.records[self.index];
        record.fill.store(0, Ordering::Relaxed);
        // Release: pairs with the Acquire CAS in `Magazines::take`.
        record.taken.store(0, Ordering::Release);
    }
}
