//! A per-thread handle for many inserts and removes: one epoch pin per batch, retirement in
//! batches, and allocations recycled.
//!
//! The plain `Table::insert`/`remove` pay, per call, an epoch pin (a full fence) for a
//! remove, one `defer_destroy` per removed element, and a heap allocation per insert plus the
//! matching free later. A [`Writer`] keeps a pin for a batch of operations, collects the
//! elements its removes unlink, hands the whole batch to crossbeam-epoch in one deferred call
//! when it re-pins, and when that call runs (after the grace period, on whichever thread
//! collects) the elements are dropped and their allocations come back to the writer for its
//! next inserts. Under churn that removes the allocator and most of the epoch bookkeeping from
//! the hot path.
//!
//! On a table with the magazine allocator a writer also holds a magazine of free ids (see
//! `crate::magazine`): its removes keep their ids there and its inserts take them back, so
//! most of its operations never write the table's header line. Dropping the writer (a thread
//! that ends, a panic that unwinds it) gives the magazine's ids back to the ring.

use std::mem::MaybeUninit;
use std::sync::{Arc, Mutex, PoisonError};

use crate::key::Key;
use crate::magazine::Magazine;
use crate::probe::{NoProbe, Probe};
use crate::sync::epoch::{self, Guard, Owned};
use crate::table::{Entry, Full, SlotView, Table};

/// Mutating operations between two automatic re-pins: the batch size.
pub const WRITER_BATCH: u32 = 256;
/// Most recycled allocations a writer keeps waiting (beyond this they are freed).
pub const WRITER_SPARE_LIMIT: usize = 4096;

/// An allocation for one element, its contents already dropped.
type SpareBox<T> = Box<MaybeUninit<Entry<T>>>;

/// Elements this writer unlinked and has not yet handed to the epoch.
struct Retired<T>(Vec<*const Entry<T>>);

// SAFETY: the pointers are elements unlinked from the table by this writer's own removes, so
// nobody else will free them; sending them to the thread that runs the deferred call is like
// sending the `Box<Entry<T>>` they came from, which is `Send` when `T: Send`.
unsafe impl<T: Send> Send for Retired<T> {}

/// Many inserts, removes and lookups from one thread, batched; see the [module docs](self).
///
/// The writer re-pins by itself every [`WRITER_BATCH`] inserts and removes (they take
/// `&mut self`, so no element borrowed from [`Writer::get`] can outlive a re-pin). Elements it
/// removes are dropped after the grace period, as with `Table::remove`.
pub struct Writer<'t, T: Send + 'static> {
    table: &'t Table<T>,
    view: SlotView<'t, T>,
    guard: Guard,
    /// Mutating ops since the last re-pin.
    ops: u32,
    retired: Vec<*const Entry<T>>,
    /// Allocations ready for reuse.
    spare: Vec<SpareBox<T>>,
    /// Where deferred calls put allocations once their grace period is over.
    returns: Arc<Mutex<Vec<SpareBox<T>>>>,
    /// This writer's free ids (the magazine allocator, while a record was left to take).
    magazine: Option<Magazine<'t>>,
    /// Ids on their way back to the ring (reused buffer).
    spill: Vec<Key>,
}

impl<'t, T: Send + 'static> Writer<'t, T> {
    pub(crate) fn new(table: &'t Table<T>) -> Self {
        Writer {
            table,
            view: table.view(),
            guard: epoch::pin(),
            ops: 0,
            retired: Vec::with_capacity(WRITER_BATCH as usize),
            spare: Vec::new(),
            returns: Arc::new(Mutex::new(Vec::new())),
            magazine: table.magazines().and_then(crate::magazine::Magazines::take),
            spill: Vec::new(),
        }
    }

    /// This writer's magazine, as `(fill, size)`: `None` on a ring table, or when all
    /// [`crate::MAGAZINE_WRITERS`] records were taken when the writer was made.
    pub fn magazine(&self) -> Option<(usize, usize)> {
        self.magazine.as_ref().map(|m| (m.fill(), m.size()))
    }

    /// A free id for an insert: the magazine's newest, else a refill, else the ring's.
    #[allow(clippy::inline_always)] // part of `insert_probed`'s hot path
    #[inline(always)]
    fn take_id<P: Probe>(&mut self, probe: &mut P) -> Option<Key> {
        match &mut self.magazine {
            None => self.table.reserve(probe),
            Some(m) => match m.pop() {
                Some(id) => Some(id),
                None => self.refill(probe),
            },
        }
    }

    /// Refills the empty magazine with up to half its size in one claim and takes one id.
    #[cold]
    #[inline(never)]
    fn refill<P: Probe>(&mut self, probe: &mut P) -> Option<Key> {
        let m = self.magazine.as_mut()?;
        let want = m.batch(self.table.geometry().slots_per_line()) as u64;
        if !self.table.refill(want, probe, |id| m.push(id)) {
            return None;
        }
        m.pop()
    }

    /// The table this writer writes.
    pub fn table(&self) -> &'t Table<T> {
        self.table
    }

    /// Inserts `value`; see `Table::insert`.
    ///
    /// # Errors
    /// [`Full`] with the value when all slots are taken.
    #[inline]
    pub fn insert(&mut self, value: T) -> Result<Key, Full<T>> {
        self.insert_probed(value, &mut NoProbe)
    }

    /// [`Self::insert`], reporting contention to `probe`.
    ///
    /// # Errors
    /// [`Full`] with the value when all slots are taken.
    // Always inlined, as `insert` is into a small loop: a caller with a big loop body (the
    // stress engine's) otherwise pays a call and its register saves on every insert.
    #[allow(clippy::inline_always)] // measured: see the comment above
    #[inline(always)]
    pub fn insert_probed<P: Probe>(&mut self, value: T, probe: &mut P) -> Result<Key, Full<T>> {
        let Some(key) = self.take_id(probe) else {
            return Err(Full(value));
        };
        let entry = self.allocate(Entry { key: key.bits(), value });
        self.table.publish(key, entry, probe);
        self.tick();
        Ok(key)
    }

    /// Inserts the value `make(key)` builds; see `Table::insert_with`.
    ///
    /// # Errors
    /// [`Full`] with the closure when all slots are taken.
    #[inline]
    pub fn insert_with<F: FnOnce(Key) -> T>(&mut self, make: F) -> Result<Key, Full<F>> {
        let Some(key) = self.take_id(&mut NoProbe) else {
            return Err(Full(make));
        };
        let value = self.table.build_value(key, make);
        let entry = self.allocate(Entry { key: key.bits(), value });
        self.table.publish(key, entry, &mut NoProbe);
        self.tick();
        Ok(key)
    }

    /// Removes the element of `key`; see `Table::remove`.
    #[inline]
    pub fn remove(&mut self, key: Key) -> bool {
        self.remove_probed(key, &mut NoProbe)
    }

    /// [`Self::remove`], reporting contention to `probe`.
    #[inline]
    pub fn remove_probed<P: Probe>(&mut self, key: Key, probe: &mut P) -> bool {
        let unlinked = match &mut self.magazine {
            None => self.table.unlink(key, &self.guard, probe),
            Some(m) => {
                let spill = &mut self.spill;
                self.table.unlink_with(key, &self.guard, probe, |table, next, probe| {
                    if m.fill() == m.size() {
                        let k = m.batch(table.geometry().slots_per_line());
                        give_back_lines(table, m, k, spill, probe);
                    }
                    m.push(next);
                })
            }
        };
        let Some(unlinked) = unlinked else {
            return false;
        };
        if !unlinked.is_null() {
            self.retired.push(unlinked.as_raw());
        }
        self.tick();
        true
    }

    /// The element of `key`, if live (valid until the next insert or remove on this writer).
    #[inline]
    pub fn get(&self, key: Key) -> Option<&T> {
        self.view.find(key, &self.guard, &mut NoProbe)
    }

    /// [`Self::get`], reporting the hit, miss or stale rejection to `probe`.
    #[inline]
    pub fn get_probed<P: Probe>(&self, key: Key, probe: &mut P) -> Option<&T> {
        self.view.find(key, &self.guard, probe)
    }

    /// Whether `key` names a live element.
    #[inline]
    pub fn contains(&self, key: Key) -> bool {
        self.get(key).is_some()
    }

    /// Hands the removed elements to the epoch and re-pins now (it also happens by itself every
    /// [`WRITER_BATCH`] inserts and removes). Call it before the thread idles, so that its pin
    /// does not hold back reclamation for everyone.
    pub fn repin(&mut self) {
        if self.retire_batch() {
            // Send the batch to the global queue now rather than after 64 batches in the local
            // bag: it comes back for reuse two epochs later instead of tens of thousands of ops.
            self.guard.flush();
        }
        self.guard.repin_after(|| ());
        self.ops = 0;
    }

    #[inline]
    fn tick(&mut self) {
        self.ops += 1;
        if self.ops >= WRITER_BATCH {
            self.repin();
        }
    }

    /// An allocation for `entry`: a recycled one if any is ready, else a new one.
    #[allow(clippy::inline_always)] // part of `insert_probed`'s hot path
    #[inline(always)]
    fn allocate(&mut self, entry: Entry<T>) -> Owned<Entry<T>> {
        if self.spare.is_empty() {
            // Never wait: if a deferred call is putting allocations back right now, allocate.
            if let Ok(mut returned) = self.returns.try_lock() {
                std::mem::swap(&mut *returned, &mut self.spare);
            }
        }
        match self.spare.pop() {
            Some(spare) => Owned::from(Box::write(spare, entry)),
            None => Owned::new(entry),
        }
    }

    /// Defers the drop of every element removed since the last call, in one deferred call.
    /// False if there was nothing to retire.
    fn retire_batch(&mut self) -> bool {
        if self.retired.is_empty() {
            return false;
        }
        let batch = Retired(std::mem::replace(&mut self.retired, Vec::with_capacity(WRITER_BATCH as usize)));
        let returns = Arc::clone(&self.returns);
        self.guard.defer(move || recycle(batch, &returns));
        true
    }
}

/// Gives `k` ids of a magazine back to the ring, whole lines first (one claim release for
/// all): a batch of a full magazine, or all of a dropped writer's.
#[cold]
#[inline(never)]
fn give_back_lines<T, P: Probe>(
    table: &Table<T>,
    m: &mut Magazine<'_>,
    k: usize,
    spill: &mut Vec<Key>,
    probe: &mut P,
) {
    spill.clear();
    let g = table.geometry();
    m.take_by_line(k, |id| g.line_of_slot(id.slot()), spill);
    table.give_back(spill, probe);
    spill.clear();
}

/// Runs after the grace period of a batch: drops each element and keeps its allocation for the
/// writer (up to [`WRITER_SPARE_LIMIT`]; the rest is freed).
fn recycle<T>(batch: Retired<T>, returns: &Mutex<Vec<SpareBox<T>>>) {
    let mut returned = returns.lock().unwrap_or_else(PoisonError::into_inner);
    for ptr in batch.0 {
        // SAFETY: `ptr` came from `Owned::new`/`Owned::from(Box)` (a `Box<Entry<T>>`), was
        // unlinked from its slot by exactly one remove (ours), and the epoch's grace period has
        // passed, so no thread can still hold a reference: we own it.
        let raw = Box::into_raw(unsafe { Owned::from_raw(ptr.cast_mut()) }.into_box());
        // SAFETY: `raw` is a valid, owned `Entry<T>`, dropped exactly once here.
        unsafe { std::ptr::drop_in_place(raw) };
        if returned.len() < WRITER_SPARE_LIMIT {
            // SAFETY: the allocation is a `Box<Entry<T>>`'s, whose contents were just dropped;
            // `MaybeUninit<Entry<T>>` has the same layout, so the box may own it as such.
            returned.push(unsafe { Box::from_raw(raw.cast::<MaybeUninit<Entry<T>>>()) });
        } else {
            // SAFETY: as above; freeing the allocation without dropping the contents again.
            drop(unsafe { Box::from_raw(raw.cast::<MaybeUninit<Entry<T>>>()) });
        }
    }
}

impl<T: Send + 'static> Drop for Writer<'_, T> {
    fn drop(&mut self) {
        if let Some(mut m) = self.magazine.take() {
            let fill = m.fill();
            give_back_lines(self.table, &mut m, fill, &mut self.spill, &mut NoProbe);
            m.release();
        }
        if self.retire_batch() {
            self.guard.flush();
        }
    }
}

impl<T: Send + 'static> std::fmt::Debug for Writer<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("ops", &self.ops)
            .field("retired", &self.retired.len())
            .field("magazine", &self.magazine())
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static> Table<T> {
    /// A handle for many inserts, removes and lookups from one thread: one epoch pin per
    /// batch, batched retirement, recycled allocations. See [`Writer`].
    pub fn writer(&self) -> Writer<'_, T> {
        Writer::new(self)
    }
}

#[cfg(test)]
#[allow(clippy::cast_possible_truncation)] // test counters are far below 2^32
#[allow(clippy::disallowed_types)] // drop counters of the tests, not table state
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    /// Operations per test: Miri interprets every instruction, so it gets a small run.
    const OPS: u64 = if cfg!(miri) { 600 } else { 20_000 };

    /// Counts its drops in a shared counter.
    struct Counted(Arc<AtomicUsize>);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Pins and flushes until `done` holds (deferred drops run when the epoch advances, which
    /// waits for every pinned thread, including other tests' threads: hence a generous deadline
    /// rather than a count of tries).
    fn settle(done: impl Fn() -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !done() && std::time::Instant::now() < deadline {
            epoch::pin().flush();
            std::thread::yield_now();
        }
        assert!(done(), "deferred drops never ran");
    }

    #[test]
    fn writer_ops_match_the_table_ops() {
        let t: Table<u64> = Table::with_capacity(16).unwrap();
        let mut w = t.writer();
        let a = w.insert(1).unwrap();
        let b = w.insert_with(Key::bits).unwrap();
        assert_eq!(w.get(a), Some(&1));
        assert_eq!(w.get(b), Some(&b.bits()));
        assert!(w.contains(a));
        assert!(w.remove(a));
        assert!(!w.remove(a), "removed once only");
        assert_eq!(w.get(a), None);
        assert_eq!(t.get(b), Some(b.bits()), "visible through the table");
        assert!(t.remove(b), "and removable through it");
        assert!(w.get(b).is_none());
        for i in 0..16 {
            w.insert(i).unwrap();
        }
        assert_eq!(w.insert(99).unwrap_err().into_inner(), 99, "full hands the value back");
        assert_eq!(t.len(), 16);
    }

    #[test]
    fn stale_keys_miss_through_a_writer() {
        let t: Table<u64> = Table::with_capacity(16).unwrap();
        let mut w = t.writer();
        let old = w.insert(1).unwrap();
        assert!(w.remove(old));
        // Reuse every slot, so `old`'s slot is occupied by a newer generation.
        let fresh: Vec<Key> = (0..16).map(|i| w.insert(i).unwrap()).collect();
        assert!(fresh.iter().any(|k| k.slot() == old.slot()));
        assert_eq!(w.get(old), None);
        assert!(!w.remove(old));
        assert_eq!(t.len(), 16);
    }

    #[test]
    fn every_removed_element_is_dropped_exactly_once() {
        let drops = Arc::new(AtomicUsize::new(0));
        let t: Table<Counted> = Table::with_capacity(64).unwrap();
        let mut live = Vec::new();
        let mut removed = 0;
        {
            let mut w = t.writer();
            for i in 0..OPS {
                if live.len() < 48 && (i % 3 != 0 || live.is_empty()) {
                    live.push(w.insert(Counted(Arc::clone(&drops))).unwrap());
                } else {
                    let k = live.swap_remove((i as usize * 7) % live.len());
                    assert!(w.get(k).is_some(), "a live key is found before its remove");
                    assert!(w.remove(k));
                    removed += 1;
                }
            }
        }
        settle(|| drops.load(Ordering::Relaxed) >= removed);
        assert_eq!(drops.load(Ordering::Relaxed), removed, "each removed element dropped once");
        assert_eq!(t.len(), live.len());
        drop(t);
        assert_eq!(drops.load(Ordering::Relaxed), removed + live.len(), "and the live ones on drop");
    }

    #[test]
    fn recycle_drops_contents_and_keeps_allocations() {
        let drops = Arc::new(AtomicUsize::new(0));
        let ptrs: Vec<*const Entry<Counted>> = (0..10)
            .map(|i| {
                Box::into_raw(Box::new(Entry { key: i, value: Counted(Arc::clone(&drops)) })).cast_const()
            })
            .collect();
        let returns = Mutex::new(Vec::new());
        recycle(Retired(ptrs), &returns);
        assert_eq!(drops.load(Ordering::Relaxed), 10, "every element dropped once");
        assert_eq!(returns.lock().unwrap().len(), 10, "every allocation kept");
    }

    #[test]
    fn recycle_frees_beyond_the_limit() {
        let drops = Arc::new(AtomicUsize::new(0));
        let returns =
            Mutex::new((0..WRITER_SPARE_LIMIT - 2).map(|_| Box::new(MaybeUninit::uninit())).collect());
        let ptrs: Vec<*const Entry<Counted>> = (0..5)
            .map(|i| {
                Box::into_raw(Box::new(Entry { key: i, value: Counted(Arc::clone(&drops)) })).cast_const()
            })
            .collect();
        recycle(Retired(ptrs), &returns);
        assert_eq!(drops.load(Ordering::Relaxed), 5);
        assert_eq!(returns.lock().unwrap().len(), WRITER_SPARE_LIMIT);
    }

    #[test]
    fn inserts_take_returned_allocations_first() {
        let t: Table<[u64; 2]> = Table::with_capacity(16).unwrap();
        let mut w = t.writer();
        let spare: SpareBox<[u64; 2]> = Box::new(MaybeUninit::uninit());
        let addr = std::ptr::from_ref(&*spare) as usize;
        w.returns.lock().unwrap().push(spare);
        let k = w.insert([1, 2]).unwrap();
        let entry_addr =
            std::ptr::from_ref(w.get(k).unwrap()) as usize - std::mem::offset_of!(Entry<[u64; 2]>, value);
        assert_eq!(entry_addr, addr, "the insert used the returned allocation");
        assert_eq!(w.get(k), Some(&[1, 2]));
    }

    #[test]
    fn removed_allocations_come_back() {
        let t: Table<u64> = Table::with_capacity(128).unwrap();
        let mut w = t.writer();
        let keys: Vec<Key> = (0..64).map(|i| w.insert(i).unwrap()).collect();
        for k in keys {
            assert!(w.remove(k));
        }
        w.repin();
        // The batch comes back once its grace period passes: every pinned thread (other
        // tests' threads too) must move on, so wait with a generous deadline.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let back = |w: &Writer<'_, u64>| w.returns.lock().unwrap().len() + w.spare.len();
        while back(&w) < 64 && std::time::Instant::now() < deadline {
            w.repin();
            epoch::pin().flush();
            std::thread::yield_now();
        }
        assert_eq!(back(&w), 64, "all 64 allocations returned to the writer");
    }

    #[test]
    fn writers_on_several_threads_keep_their_own_keys() {
        let t: Table<(usize, u64)> = Table::with_capacity(256).unwrap();
        std::thread::scope(|s| {
            for id in 0..3 {
                let t = &t;
                s.spawn(move || {
                    let mut w = t.writer();
                    let mut mine: Vec<(Key, u64)> = Vec::new();
                    for i in 0..OPS {
                        if i % 2 == 0 || mine.is_empty() {
                            if let Ok(k) = w.insert((id, i)) {
                                mine.push((k, i));
                            }
                        } else {
                            let (k, v) = mine.swap_remove((i as usize) % mine.len());
                            assert_eq!(w.get(k), Some(&(id, v)));
                            assert!(w.remove(k));
                            assert_eq!(w.get(k), None);
                        }
                    }
                    for (k, v) in &mine {
                        assert_eq!(w.get(*k), Some(&(id, *v)));
                    }
                });
            }
        });
        let snap = t.snapshot();
        assert_eq!(snap.occupied(), t.len());
        assert_eq!(snap.occupied() + snap.free(), 256);
    }
}
