//! The algorithm: three arrays and four atomic counters.
//!
//! ```text
//!  header (one line)        slots (N words, aligned)           ring (N cells, aligned)
//! +--------------------+   +----+----+----+----+----+----+   +----+----+----+----+----+
//! | count | alloc free |   | E* | -- | E* | -- | E* | .. |   | id | id | RS | id | .. |
//! +--------------------+   +----+----+----+----+----+----+   +----+----+----+----+----+
//!   claim    tickets          null = free or in flight          RS = RESERVED (taken)
//! ```
//!
//! Every ordering stronger than `Relaxed` says next to it what it pairs with. The essay is
//! `table/IMPLEMENTATION.md`.

use std::fmt;
use std::marker::PhantomData;

use crate::geometry::Geometry;
use crate::key::{Key, RESERVED};
use crate::magazine::Magazines;
use crate::probe::{NoProbe, Probe, Region};
use crate::sync::epoch::{self, Atomic, Guard, Owned, Shared};
use crate::sync::{spin_hint, AtomicU64, Ordering};
use crate::{Allocator, Builder, Variant};

/// Words per aligned block: 16 words = 128 bytes, the larger supported line, so a block
/// boundary is a line boundary for both line sizes.
pub(crate) const BLOCK_WORDS: usize = 16;

/// 128 bytes of cells, aligned to 128: the unit in which the slot and ring arrays are allocated.
#[repr(C, align(128))]
pub(crate) struct Block<A>(pub(crate) [A; BLOCK_WORDS]);

/// The hot counters, alone on their (128-byte, so also 64-byte) line.
///
/// `claim` packs two counters so that an insert claims room and takes its ring ticket with one
/// read-modify-write: bits 0..32 are `count` (claimed slots: live elements, inserts in flight,
/// removes not yet finished; at most N + the number of threads, so it never carries into the
/// ticket), bits 32..64 the alloc cursor (the next ticket; only its value modulo N matters,
/// and N divides 2^32, so it may wrap off the top). An insert + remove pair costs three RMWs
/// on this line (ptab's costs four).
#[repr(C, align(128))]
struct Header {
    claim: AtomicU64,
    /// Next ticket a remove puts an id back at.
    free: AtomicU64,
}

/// One claimed slot in `Header::claim`.
const COUNT_ONE: u64 = 1;
/// One ticket in `Header::claim`.
const TICKET_ONE: u64 = 1 << 32;
/// The `count` half of `Header::claim`.
const COUNT_MASK: u64 = TICKET_ONE - 1;

/// What a slot points at: the element with its own key, so lookups can reject stale keys.
pub(crate) struct Entry<T> {
    pub(crate) key: u64,
    pub(crate) value: T,
}

/// The read-only part of the table a lookup needs, copied out so that a [`crate::Reader`] holds
/// it by value: with the fields in the reader rather than behind `&Table` (which has interior
/// mutability), the compiler may keep them in registers across a loop of lookups instead of
/// reloading them after every Acquire load.
pub(crate) struct SlotView<'t, T> {
    slots: &'t [Block<Atomic<Entry<T>>>],
    /// N - 1: key -> slot is one AND.
    mask: u64,
    /// log2 of the stride (0, or log2 S for the padded layout): slot -> word is one shift.
    stride_log2: u32,
    /// Bits of the stored key that a lookup compares: all of them, or only the slot bits in
    /// the broken `no-generation-check` variant.
    check_mask: u64,
}

impl<T> Clone for SlotView<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for SlotView<'_, T> {}

impl<'t, T> SlotView<'t, T> {
    /// The cell of slot `s` (any `s`: it is masked to the table).
    #[inline]
    pub(crate) fn cell(self, s: usize) -> &'t Atomic<Entry<T>> {
        // Truncation cannot happen: the mask is below 2^27.
        #[allow(clippy::cast_possible_truncation)]
        let word = ((s as u64 & self.mask) as usize) << self.stride_log2;
        debug_assert!(word < self.slots.len() * BLOCK_WORDS);
        // The blocks hold their cells back to back (checked at compile time), so cell `word` is
        // `word` cells past the first: one scaled load, where indexing block then cell costs
        // three more instructions on the lookup's dependency chain (the compiler does not see
        // that the two are the same address).
        const { assert!(size_of::<Block<Atomic<Entry<T>>>>() == BLOCK_WORDS * size_of::<Atomic<Entry<T>>>()) };
        // SAFETY: `s & mask < N`, so `word < N * stride`, and `slots` holds
        // `N * stride / BLOCK_WORDS` blocks of BLOCK_WORDS cells each (N * stride is a multiple
        // of 16 since N >= 16). `Block` is `repr(C)` over `[A; BLOCK_WORDS]` and, as asserted
        // above, has no padding, so the slice is one array of `slots.len() * BLOCK_WORDS`
        // cells: the offset stays inside the slice's allocation, whose provenance it carries.
        let cell = unsafe { self.slots.as_ptr().cast::<Atomic<Entry<T>>>().add(word) };
        // SAFETY: `cell` points at an initialised cell of `slots` (above), aligned for it, and
        // the reference borrows from `slots` for `'t`, as indexing would.
        unsafe { &*cell }
    }

    /// Whether a stored key answers to `key` (all bits, or the slot bits only when broken).
    #[inline]
    fn key_matches(self, stored: u64, key: Key) -> bool {
        (stored ^ key.bits()) & self.check_mask == 0
    }

    /// The element of `key` under `guard`, if it is live.
    #[inline]
    pub(crate) fn find<'g, P: Probe>(self, key: Key, guard: &'g Guard, probe: &mut P) -> Option<&'g T>
    where
        't: 'g,
    {
        // Truncation is the point: the key's low bits are the slot.
        #[allow(clippy::cast_possible_truncation)]
        let s = (key.bits() & self.mask) as usize;
        // Acquire: pairs with the Release store in `publish`.
        let ptr = self.cell(s).load(Ordering::Acquire, guard);
        // SAFETY: a non-null slot pointer came from `Owned::new` in an insert and is only freed
        // through `defer_destroy` after it is unlinked; `guard` pins the epoch, so even if it
        // is unlinked right now it stays allocated until the guard is dropped.
        let found = match unsafe { ptr.as_ref() } {
            None => None,
            Some(entry) if self.key_matches(entry.key, key) => Some(&entry.value),
            Some(_) => {
                probe.stale_rejected();
                None
            }
        };
        probe.lookup(found.is_some());
        found
    }
}

/// The table was full; the value (or the closure that would have built it) comes back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Full<T>(pub(crate) T);

impl<T> Full<T> {
    /// The value that could not be inserted.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Full<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Full(..)")
    }
}

impl<T> fmt::Display for Full<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the table is full")
    }
}

impl<T> std::error::Error for Full<T> {}

/// A lock-free, fixed-capacity table with generational keys (the design of Erlang/OTP's
/// process table). See the [crate documentation](crate).
pub struct Table<T> {
    header: Header,
    slots: Box<[Block<Atomic<Entry<T>>>]>,
    ring: Box<[Block<AtomicU64>]>,
    geometry: Geometry,
    /// N - 1: key -> slot is one AND.
    mask: u64,
    /// log2 of the stride (0, or log2 S for the padded layout): slot -> word is one shift.
    stride_log2: u32,
    /// Bits of the stored key that a lookup compares: all of them, or only the slot bits in
    /// the broken `no-generation-check` variant.
    check_mask: u64,
    variant: Variant,
    allocator: Allocator,
    /// The writers' id caches (the magazine allocator only).
    magazines: Option<Magazines>,
    _owns: PhantomData<T>,
}

impl<T> fmt::Debug for Table<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Table")
            .field("geometry", &self.geometry)
            .field("variant", &self.variant)
            .field("allocator", &self.allocator)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

/// Undoes a claimed-and-popped insert if building the value panics, so the slot goes back to
/// the ring and the claim is released: a panicking closure must not leak a slot forever.
/// The closure has seen the key (and may have stored it), so the slot goes back under its
/// *next* key, as after a remove: the key that was handed out must never name a later element.
struct InsertGuard<'t, T> {
    table: &'t Table<T>,
    key: Key,
}

impl<T> Drop for InsertGuard<'_, T> {
    fn drop(&mut self) {
        self.table.push(self.table.geometry.next_key(self.key), &mut NoProbe);
        self.table.release_claim(&mut NoProbe);
    }
}

impl<T> Table<T> {
    /// A builder: capacity, layout, line size, variant.
    pub fn builder() -> Builder<T> {
        Builder::new()
    }

    /// A table of at least `capacity` slots (rounded up to a power of two, at least 16), the
    /// interleaved layout and 64-byte lines.
    ///
    /// # Errors
    /// [`crate::BuildError`] if `capacity` is 0 or above 2^27, or memory cannot be had.
    pub fn with_capacity(capacity: usize) -> Result<Table<T>, crate::BuildError> {
        Table::builder().capacity(capacity).build()
    }

    pub(crate) fn from_parts(
        geometry: Geometry,
        variant: Variant,
        allocator: Allocator,
        first_generation: u64,
    ) -> Result<Table<T>, crate::BuildError> {
        let n = geometry.capacity();
        let slot_blocks = (n * geometry.stride()).div_ceil(BLOCK_WORDS);
        let ring_blocks = n.div_ceil(BLOCK_WORDS);
        let oom = || crate::BuildError::OutOfMemory { bytes: geometry.table_bytes() };

        let mut slots = Vec::new();
        slots.try_reserve_exact(slot_blocks).map_err(|_| oom())?;
        slots.extend((0..slot_blocks).map(|_| Block(std::array::from_fn(|_| Atomic::null()))));

        // The ring starts full. On the ring allocator it is in id order (ticket t holds the id
        // with index t, so consecutive inserts land on different lines). With magazines it is
        // in memory order (ticket t holds slot t), so that a refill of whole lines takes
        // whole lines: each writer's slots start on lines of its own.
        let line_major = allocator.magazine().is_some();
        let mut ring_cells = vec![RESERVED; ring_blocks * BLOCK_WORDS];
        for t in 0..n {
            let slot = if line_major { t } else { geometry.slot_of_index(t) };
            let key = geometry.key(first_generation, slot);
            ring_cells[geometry.ring_cell_of_ticket(t as u64)] = key.bits();
        }
        let mut ring = Vec::new();
        ring.try_reserve_exact(ring_blocks).map_err(|_| oom())?;
        ring.extend(
            ring_cells
                .chunks_exact(BLOCK_WORDS)
                .map(|c| Block(std::array::from_fn(|i| AtomicU64::new(c[i])))),
        );

        let check_mask = match variant {
            Variant::NoGenerationCheck => (n - 1) as u64,
            Variant::Correct | Variant::RelaxedRing => u64::MAX,
        };
        Ok(Table {
            header: Header { claim: AtomicU64::new(0), free: AtomicU64::new(n as u64) },
            slots: slots.into_boxed_slice(),
            ring: ring.into_boxed_slice(),
            geometry,
            mask: (n - 1) as u64,
            stride_log2: geometry.stride().trailing_zeros(),
            check_mask,
            variant,
            allocator,
            magazines: allocator.magazine().map(Magazines::new),
            _owns: PhantomData,
        })
    }

    /// N: the number of slots.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.geometry.capacity()
    }

    /// The layout of slots over cache lines.
    #[inline]
    pub fn layout(&self) -> crate::Layout {
        self.geometry.layout()
    }

    /// The line size the layout was built for (64 or 128 bytes).
    #[inline]
    pub fn line_bytes(&self) -> usize {
        self.geometry.line_bytes()
    }

    /// Capacity, layout and line size together, with the index arithmetic.
    #[inline]
    pub fn geometry(&self) -> Geometry {
        self.geometry
    }

    /// Which (possibly broken on purpose) variant of the algorithm this table runs.
    #[inline]
    pub fn variant(&self) -> Variant {
        self.variant
    }

    /// How free ids are handed out: the ring alone, or per-writer magazines in front of it.
    #[inline]
    pub fn allocator(&self) -> Allocator {
        self.allocator
    }

    /// How many elements are in the table (or being inserted or removed right now). Relaxed:
    /// a hint under concurrency, exact at quiescence; never more than the capacity. With
    /// magazines it is the ids out of the ring less the ids the magazines hold, read one
    /// after the other (so under concurrency it may be off by the ids moved meanwhile).
    #[inline]
    pub fn len(&self) -> usize {
        let mut claimed = self.header.claim.load(Ordering::Relaxed) & COUNT_MASK;
        if let Some(m) = &self.magazines {
            claimed = claimed.saturating_sub(m.held());
        }
        // Clamped: a refused insert's claim may push it above N for an instant.
        usize::try_from(claimed).map_or(self.capacity(), |c| c.min(self.capacity()))
    }

    /// Bytes the magazine allocator adds to the table: [`crate::MAGAZINE_WRITERS`] records of
    /// one 128-byte line each plus their id cells, `ceil(M / 16)` 128-byte blocks each (0 for
    /// the ring allocator). Allocated with the table, whether writers use them or not.
    pub fn magazine_bytes(&self) -> usize {
        self.magazines.as_ref().map_or(0, Magazines::bytes)
    }

    /// The writers' magazines, if this table has the magazine allocator.
    #[inline]
    pub(crate) fn magazines(&self) -> Option<&Magazines> {
        self.magazines.as_ref()
    }

    /// Whether [`Self::len`] is 0.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The read-only fields a lookup needs, by value.
    #[inline]
    pub(crate) fn view(&self) -> SlotView<'_, T> {
        SlotView {
            slots: &self.slots,
            mask: self.mask,
            stride_log2: self.stride_log2,
            check_mask: self.check_mask,
        }
    }

    /// The cell of slot `s` (any `s`: it is masked to the table).
    #[inline]
    pub(crate) fn slot_cell(&self, s: usize) -> &Atomic<Entry<T>> {
        self.view().cell(s)
    }

    /// Ring cell `c` (memory position, < N).
    #[inline]
    pub(crate) fn ring_cell(&self, c: usize) -> &AtomicU64 {
        let c = c & (self.capacity() - 1);
        debug_assert!(c / BLOCK_WORDS < self.ring.len());
        // SAFETY: `c < N` and `ring` holds `N / BLOCK_WORDS` blocks (N >= 16).
        let block = unsafe { self.ring.get_unchecked(c / BLOCK_WORDS) };
        &block.0[c % BLOCK_WORDS]
    }

    /// `(count, alloc cursor, free cursor)`; the alloc cursor is 32 bits wide (it wraps).
    pub(crate) fn header_counters(&self) -> (u64, u64, u64) {
        let claim = self.header.claim.load(Ordering::Relaxed);
        (claim & COUNT_MASK, claim >> 32, self.header.free.load(Ordering::Relaxed))
    }

    #[inline]
    fn ring_pop_ordering(&self) -> Ordering {
        match self.variant {
            Variant::RelaxedRing => Ordering::Relaxed,
            // Acquire: pairs with the Release CAS in `push`. The remover cleared the slot
            // before it pushed the id, so the inserter that takes the id sees the slot empty.
            Variant::Correct | Variant::NoGenerationCheck => Ordering::Acquire,
        }
    }

    #[inline]
    fn ring_push_ordering(&self) -> Ordering {
        match self.variant {
            Variant::RelaxedRing => Ordering::Relaxed,
            // Release: pairs with the Acquire swap in `pop` (see there).
            Variant::Correct | Variant::NoGenerationCheck => Ordering::Release,
        }
    }

    /// Claims room for one element and takes its first ring ticket, in one RMW; or answers
    /// "full" after retracting both.
    ///
    /// Erlang's undo loop: a claim that overshot N is retracted with a CAS, but if the CAS
    /// fails because the word changed and the count (ours included) is now N or less, room
    /// appeared (a remove finished, or another refused insert retracted first) and we keep
    /// the claim. So an insert is refused only if, at the instant of its retraction, the other
    /// claims filled the table; two inserts racing for one freed slot never both fail. A quiet
    /// full table answers after two RMWs; each further round means another thread changed the
    /// word (lock-free).
    ///
    /// The ticket is retracted with the claim: a ticket taken and never used would leave the
    /// alloc cursor ahead of the free ids, and every later pop would skip its way round the
    /// ring to find them. If retracting makes another insert draw a ticket that was already
    /// used, that insert just finds the cell RESERVED and takes the next one.
    #[inline]
    fn claim<P: Probe>(&self, probe: &mut P) -> Option<u64> {
        let n = self.capacity() as u64;
        // Acquire: pairs with the Release decrement in `release_claim`, so the id that remover
        // pushed is visible to our `pop`.
        let before = self.header.claim.fetch_add(TICKET_ONE | COUNT_ONE, Ordering::Acquire);
        probe.line_write(Region::Header, 0);
        if before & COUNT_MASK < n {
            return Some(before >> 32);
        }
        let ticket = before >> 32;
        let mut current = before.wrapping_add(TICKET_ONE | COUNT_ONE);
        loop {
            probe.full_undo();
            // Success: Relaxed, retracting publishes nothing. Failure: Acquire, as the claim,
            // since we may keep the claim and go on to pop.
            let retracted = self.header.claim.compare_exchange(
                current,
                current.wrapping_sub(TICKET_ONE | COUNT_ONE),
                Ordering::Relaxed,
                Ordering::Acquire,
            );
            probe.line_write(Region::Header, 0);
            match retracted {
                Ok(_) => return None,
                Err(now) if now & COUNT_MASK <= n => return Some(ticket),
                Err(now) => current = now,
            }
        }
    }

    /// Gives back a claim (after a finished remove, or an insert whose closure panicked).
    #[inline]
    fn release_claim<P: Probe>(&self, probe: &mut P) {
        let order = match self.variant {
            Variant::RelaxedRing => Ordering::Relaxed,
            // Release: pairs with the Acquire increment in `claim` (see there).
            Variant::Correct | Variant::NoGenerationCheck => Ordering::Release,
        };
        self.header.claim.fetch_sub(COUNT_ONE, order);
        probe.line_write(Region::Header, 0);
    }

    /// Takes a free id from the ring, starting at the ticket `claim` gave. Only called with a
    /// claim held, so an id is there (or about to be: a cell whose push is still in flight
    /// reads RESERVED, and we take the next ticket).
    #[inline]
    fn pop<P: Probe>(&self, first_ticket: u64, probe: &mut P) -> Key {
        let mut ticket = first_ticket;
        loop {
            let c = self.geometry.ring_cell_of_ticket(ticket);
            let id = self.ring_cell(c).swap(RESERVED, self.ring_pop_ordering());
            probe.line_write(Region::Ring, self.geometry.ring_line_of_cell(c));
            if id != RESERVED {
                return Key::from_bits(id);
            }
            probe.ticket_skip();
            spin_hint();
            // Relaxed: a ticket only picks a cell; the cell's swap carries the ordering.
            ticket = self.header.claim.fetch_add(TICKET_ONE, Ordering::Relaxed) >> 32;
            probe.line_write(Region::Header, 0);
        }
    }

    /// Puts a free id back into the ring at the next ticket whose cell is empty.
    #[inline]
    fn push<P: Probe>(&self, id: Key, probe: &mut P) {
        let mut retries = 0usize;
        loop {
            // Relaxed: as in `pop`, the cell's CAS carries the ordering.
            let ticket = self.header.free.fetch_add(1, Ordering::Relaxed);
            probe.line_write(Region::Header, 0);
            let c = self.geometry.ring_cell_of_ticket(ticket);
            let pushed = self
                .ring_cell(c)
                .compare_exchange(RESERVED, id.bits(), self.ring_push_ordering(), Ordering::Relaxed)
                .is_ok();
            probe.line_write(Region::Ring, self.geometry.ring_line_of_cell(c));
            if pushed {
                return;
            }
            // The cell still holds an id whose pop ticket was skipped: it is not ours to wait
            // for (its popper may never come), so take the next ticket.
            probe.ring_retry();
            spin_hint();
            retries += 1;
            if self.variant == Variant::RelaxedRing && retries > 2 * self.capacity() {
                // Broken on purpose: racing removers can push one id twice, and then the ring
                // may have no empty cell left for this one. Drop it rather than spin forever
                // (the correct table always has an empty cell: see IMPLEMENTATION.md).
                return;
            }
        }
    }

    /// Claims room and takes a free id: the key the insert will publish under, or `None` when
    /// the table is full (the claim already retracted).
    #[inline]
    pub(crate) fn reserve<P: Probe>(&self, probe: &mut P) -> Option<Key> {
        let ticket = self.claim(probe)?;
        Some(self.pop(ticket, probe))
    }

    /// Claims room for up to `want` ids and their tickets in one RMW (a CAS, retried only when
    /// another thread changed the word): `(first ticket, ids claimed)`, at least 1, or `None`
    /// when the table is full. When the count is already at N (or a refused insert's claim
    /// has pushed it above for an instant) it falls back to one ring claim with its undo loop,
    /// so a refill is refused exactly when a single insert would be.
    fn claim_batch<P: Probe>(&self, want: u64, probe: &mut P) -> Option<(u64, u64)> {
        let n = self.capacity() as u64;
        let mut current = self.header.claim.load(Ordering::Relaxed);
        loop {
            let count = current & COUNT_MASK;
            if count >= n {
                return self.claim(probe).map(|ticket| (ticket, 1));
            }
            let got = want.min(n - count);
            // Success: Acquire, as in `claim` (pairs with the Release decrement of a finished
            // remove or give-back, so the ids they pushed are visible to our pops). Failure:
            // Relaxed, we only read the word again.
            let claimed = self.header.claim.compare_exchange(
                current,
                current.wrapping_add(got * (TICKET_ONE | COUNT_ONE)),
                Ordering::Acquire,
                Ordering::Relaxed,
            );
            probe.line_write(Region::Header, 0);
            match claimed {
                Ok(before) => return Some((before >> 32, got)),
                Err(now) => {
                    spin_hint();
                    current = now;
                }
            }
        }
    }

    /// A magazine refill: claims up to `want` ids in one RMW and takes them from the ring,
    /// calling `each` with every id, in ring order. False if the table is full.
    pub(crate) fn refill<P: Probe>(&self, want: u64, probe: &mut P, mut each: impl FnMut(Key)) -> bool {
        let Some((first, got)) = self.claim_batch(want, probe) else {
            return false;
        };
        for t in 0..got {
            each(self.pop(first.wrapping_add(t), probe));
        }
        true
    }

    /// Gives ids back to the ring (a magazine's overflow, or a dropped writer's magazine): one
    /// RMW takes a ticket for each, the ids are pushed, and one Release RMW gives back their
    /// claims, as that many removes would.
    pub(crate) fn give_back<P: Probe>(&self, ids: &[Key], probe: &mut P) {
        if ids.is_empty() {
            return;
        }
        let k = ids.len() as u64;
        // Relaxed: as in `push`, each cell's CAS carries the ordering.
        let first = self.header.free.fetch_add(k, Ordering::Relaxed);
        probe.line_write(Region::Header, 0);
        for (t, &id) in (0..k).zip(ids) {
            let c = self.geometry.ring_cell_of_ticket(first.wrapping_add(t));
            let pushed = self
                .ring_cell(c)
                .compare_exchange(RESERVED, id.bits(), self.ring_push_ordering(), Ordering::Relaxed)
                .is_ok();
            probe.line_write(Region::Ring, self.geometry.ring_line_of_cell(c));
            if !pushed {
                // The cell still holds an id whose pop ticket was skipped: this id takes the
                // next free ticket, as in `push`.
                probe.ring_retry();
                self.push(id, probe);
            }
        }
        // Release: pairs with the Acquire claim of an insert or refill (see `claim`).
        self.header.claim.fetch_sub(k * COUNT_ONE, Ordering::Release);
        probe.line_write(Region::Header, 0);
    }

    /// Runs the caller's closure for a reserved key; if it panics, the reservation is undone
    /// (see [`InsertGuard`]).
    #[inline]
    pub(crate) fn build_value<R>(&self, key: Key, make: impl FnOnce(Key) -> R) -> R {
        let undo = InsertGuard { table: self, key };
        let value = make(key);
        std::mem::forget(undo);
        value
    }

    /// Stores a freshly built element into its (empty) slot.
    #[inline]
    pub(crate) fn publish<P: Probe>(&self, key: Key, entry: Owned<Entry<T>>, probe: &mut P) {
        let cell = self.slot_cell(key.slot());
        if self.variant == Variant::RelaxedRing {
            // Broken on purpose: the remover may not have cleared the slot yet. Swap so that
            // whatever we overwrite is retired rather than leaked (memory stays safe; the
            // table's contents do not).
            let guard = epoch::pin();
            let old = cell.swap(entry, Ordering::Release, &guard);
            if !old.is_null() {
                // SAFETY: `old` was unlinked by our swap, so no new reader can reach it, and
                // only the thread whose swap unlinked a pointer retires it: exactly once.
                unsafe { guard.defer_destroy(old) };
            }
        } else {
            // Release: pairs with the Acquire load in lookups, so a reader that sees the
            // pointer sees the fully built element (key and value).
            cell.store(entry, Ordering::Release);
        }
        probe.line_write(Region::Slot, self.geometry.line_of_slot(key.slot()));
    }

    /// The element of `key` under `guard`, if it is live.
    #[inline]
    pub(crate) fn find<'g, P: Probe>(&'g self, key: Key, guard: &'g Guard, probe: &mut P) -> Option<&'g T> {
        self.view().find(key, guard, probe)
    }
}

impl<T: Send + 'static> Table<T> {
    /// Inserts `value`, returning its key, or gives the value back if the table is full.
    ///
    /// # Errors
    /// [`Full`] with the value when all slots are taken.
    #[inline]
    pub fn insert(&self, value: T) -> Result<Key, Full<T>> {
        self.insert_probed(value, &mut NoProbe)
    }

    /// [`Self::insert`], reporting contention to `probe`.
    ///
    /// # Errors
    /// [`Full`] with the value when all slots are taken.
    #[inline]
    pub fn insert_probed<P: Probe>(&self, value: T, probe: &mut P) -> Result<Key, Full<T>> {
        let Some(key) = self.reserve(probe) else {
            return Err(Full(value));
        };
        self.publish(key, Owned::new(Entry { key: key.bits(), value }), probe);
        Ok(key)
    }

    /// Inserts the value `make(key)` builds: the value may know its own key before anyone
    /// else can see it (as in Erlang). `make` is not called when the table is full.
    ///
    /// # Errors
    /// [`Full`] with the closure when all slots are taken.
    #[inline]
    pub fn insert_with<F: FnOnce(Key) -> T>(&self, make: F) -> Result<Key, Full<F>> {
        self.insert_with_probed(make, &mut NoProbe)
    }

    /// [`Self::insert_with`], reporting contention to `probe`.
    ///
    /// # Errors
    /// [`Full`] with the closure when all slots are taken.
    pub fn insert_with_probed<F, P>(&self, make: F, probe: &mut P) -> Result<Key, Full<F>>
    where
        F: FnOnce(Key) -> T,
        P: Probe,
    {
        let Some(key) = self.reserve(probe) else {
            return Err(Full(make));
        };
        let value = self.build_value(key, make);
        self.publish(key, Owned::new(Entry { key: key.bits(), value }), probe);
        Ok(key)
    }

    /// Removes the element of `key`. False if the key is stale, forged, or already removed.
    /// Of several threads racing to remove one key, exactly one gets `true`.
    #[inline]
    pub fn remove(&self, key: Key) -> bool {
        self.remove_probed(key, &mut NoProbe)
    }

    /// [`Self::remove`], reporting contention to `probe`.
    pub fn remove_probed<P: Probe>(&self, key: Key, probe: &mut P) -> bool {
        let guard = epoch::pin();
        let Some(unlinked) = self.unlink(key, &guard, probe) else {
            return false;
        };
        if !unlinked.is_null() {
            // SAFETY: `unlink` unlinked this pointer (see there), so no new reader can reach
            // it; readers that already hold it are pinned, and crossbeam-epoch frees it only
            // after they unpin. Only the unlinker retires a pointer: exactly once.
            unsafe { guard.defer_destroy(unlinked) };
        }
        true
    }

    /// Removes the element of `key` from its slot and returns its ring id and claim, leaving
    /// the element itself to the caller to retire: `None` if the key is stale, forged or
    /// already removed; else the unlinked pointer (null only in the broken `relaxed-ring`
    /// variant, when its late clear found the slot already empty).
    #[inline]
    pub(crate) fn unlink<'g, P: Probe>(
        &self,
        key: Key,
        guard: &'g Guard,
        probe: &mut P,
    ) -> Option<Shared<'g, Entry<T>>> {
        self.unlink_with(key, guard, probe, |table, next, probe| {
            table.push(next, probe);
            table.release_claim(probe);
        })
    }

    /// Clears the slot of `key` and hands the slot's next key to `free`: the ring's push and
    /// claim release ([`Self::unlink`]), or a writer's magazine, which keeps the claim (its ids
    /// stay out of the ring). Returns what [`Self::unlink`] returns.
    #[inline]
    pub(crate) fn unlink_with<'g, P: Probe>(
        &self,
        key: Key,
        guard: &'g Guard,
        probe: &mut P,
        free: impl FnOnce(&Self, Key, &mut P),
    ) -> Option<Shared<'g, Entry<T>>> {
        // Truncation is the point: the key's low bits are the slot.
        #[allow(clippy::cast_possible_truncation)]
        let s = (key.bits() & self.mask) as usize;
        let cell = self.slot_cell(s);
        // Acquire: pairs with the Release store in `publish` (we read the element's key).
        let current = cell.load(Ordering::Acquire, guard);
        // SAFETY: as in `find`: non-null slot pointers are live entries, kept allocated by
        // `guard` even if another thread unlinks them now.
        let entry = unsafe { current.as_ref() }?;
        if !self.view().key_matches(entry.key, key) {
            probe.stale_rejected();
            return None;
        }
        let next = self.geometry.next_key(Key::from_bits(entry.key));
        if self.variant == Variant::RelaxedRing {
            // (The magazine allocator refuses this variant at build, so `free` is the ring's.)
            return Some(self.remove_reordered(s, next, guard, probe));
        }
        // AcqRel on success: Release so the inserter that later reuses the slot (ordered after
        // us through the ring, or this very thread through its magazine) is ordered after this
        // null; Acquire to order our reads of the entry before we hand it to reclamation.
        // Failure: another remover won.
        cell.compare_exchange(current, Shared::null(), Ordering::AcqRel, Ordering::Relaxed, guard).ok()?;
        probe.line_write(Region::Slot, self.geometry.line_of_slot(s));
        free(self, next, probe);
        Some(current)
    }

    /// The `relaxed-ring` variant's remove: the reordering that Relaxed ring orderings allow
    /// (the push becoming visible before the slot is cleared), performed outright so that it
    /// shows on every CPU, x86 included. Returns what the late clear swapped out (to retire).
    #[cold]
    fn remove_reordered<'g, P: Probe>(
        &self,
        s: usize,
        next: Key,
        guard: &'g Guard,
        probe: &mut P,
    ) -> Shared<'g, Entry<T>> {
        self.push(next, probe);
        // Widen the window in which an inserter can take the id and publish into the slot.
        for _ in 0..64 {
            spin_hint();
        }
        let old = self.slot_cell(s).swap(Shared::null(), Ordering::Relaxed, guard);
        probe.line_write(Region::Slot, self.geometry.line_of_slot(s));
        self.release_claim(probe);
        old
    }
}

impl<T> Table<T> {
    /// Calls `f` with the element of `key`, if it is live. Pins the epoch for this one call;
    /// see [`Self::reader`] for many lookups.
    #[inline]
    pub fn with<R>(&self, key: Key, f: impl FnOnce(&T) -> R) -> Option<R> {
        self.with_probed(key, f, &mut NoProbe)
    }

    /// [`Self::with`], reporting the hit or miss to `probe`.
    #[inline]
    pub fn with_probed<R, P: Probe>(&self, key: Key, f: impl FnOnce(&T) -> R, probe: &mut P) -> Option<R> {
        let guard = epoch::pin();
        self.find(key, &guard, probe).map(f)
    }

    /// A clone of the element of `key`, if it is live.
    #[inline]
    pub fn get(&self, key: Key) -> Option<T>
    where
        T: Clone,
    {
        self.with(key, T::clone)
    }

    /// Whether `key` names a live element.
    #[inline]
    pub fn contains(&self, key: Key) -> bool {
        self.with(key, |_| ()).is_some()
    }

    /// A handle that pins the epoch once and serves many lookups. Call [`Reader::repin`] every
    /// few hundred lookups: a pin held for long stalls reclamation for every thread.
    #[inline]
    pub fn reader(&self) -> crate::Reader<'_, T> {
        crate::Reader::new(self)
    }

    /// A weakly consistent iterator over the keys of live elements, in slot order. It pins per
    /// chunk of slots; an element inserted or removed during the walk may or may not appear,
    /// but every element live for the whole walk appears exactly once.
    pub fn keys(&self) -> crate::Keys<'_, T> {
        crate::Keys::new(self)
    }
}

impl<T> Drop for Table<T> {
    fn drop(&mut self) {
        // SAFETY: `&mut self` means no other thread can touch the table, so no guard is needed.
        let guard = unsafe { epoch::unprotected() };
        for block in &*self.slots {
            for cell in &block.0 {
                let ptr = cell.swap(Shared::null(), Ordering::Relaxed, guard);
                if !ptr.is_null() {
                    // SAFETY: every non-null slot pointer came from `Owned::new` and is owned by
                    // the slot (retired pointers were unlinked first), and we have exclusive
                    // access: each is freed here exactly once.
                    drop(unsafe { ptr.into_owned() });
                }
            }
        }
    }
}
