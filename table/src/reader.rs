//! Lookups that share one epoch pin, and the weakly consistent key iterator.

use crate::key::Key;
use crate::probe::{NoProbe, Probe};
use crate::sync::epoch::{self, Guard};
use crate::sync::Ordering;
use crate::table::{SlotView, Table};

/// Many lookups under one epoch pin (crossbeam-epoch's `pin()` costs a full fence; this pays it
/// once). Borrowed elements live as long as the borrow of the reader; [`Reader::repin`] (which
/// needs `&mut`, so no element is borrowed) lets reclamation advance.
///
/// Never keep one reader pinned for a whole run or frame: one long pin stops every thread's
/// garbage from being freed.
pub struct Reader<'t, T> {
    table: &'t Table<T>,
    view: SlotView<'t, T>,
    guard: Guard,
}

impl<'t, T> Reader<'t, T> {
    pub(crate) fn new(table: &'t Table<T>) -> Self {
        Reader { table, view: table.view(), guard: epoch::pin() }
    }

    /// The element of `key`, if live when looked at. Stays readable (not necessarily live)
    /// until the borrow of the reader ends.
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

    /// Unpins and pins again, letting the global epoch move on and this thread's share of
    /// reclamation run. A full pin (one fence): crossbeam's cheaper `Guard::repin` only moves
    /// the local epoch and never collects, so a thread that removes under a long-lived reader
    /// would never free anything (measured: hundreds of MB a second under churn).
    #[inline]
    pub fn repin(&mut self) {
        self.guard.repin_after(|| ());
    }

    /// The table this reader reads.
    pub fn table(&self) -> &'t Table<T> {
        self.table
    }
}

impl<T> std::fmt::Debug for Reader<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").finish_non_exhaustive()
    }
}

/// Slots examined per pin by [`Keys`].
const KEYS_CHUNK: usize = 64;

/// Weakly consistent iterator over live keys; see [`Table::keys`].
pub struct Keys<'t, T> {
    table: &'t Table<T>,
    next_slot: usize,
    buffer: Vec<Key>,
}

impl<'t, T> Keys<'t, T> {
    pub(crate) fn new(table: &'t Table<T>) -> Self {
        Keys { table, next_slot: 0, buffer: Vec::with_capacity(KEYS_CHUNK) }
    }

    fn refill(&mut self) {
        let end = (self.next_slot + KEYS_CHUNK).min(self.table.capacity());
        let guard = epoch::pin();
        // Pushed in reverse so that `pop` yields slot order.
        for s in (self.next_slot..end).rev() {
            // Acquire: pairs with the Release store in `publish` (we read the entry's key).
            let ptr = self.table.slot_cell(s).load(Ordering::Acquire, &guard);
            // SAFETY: non-null slot pointers are live entries, kept allocated while pinned.
            if let Some(entry) = unsafe { ptr.as_ref() } {
                self.buffer.push(Key::from_bits(entry.key));
            }
        }
        self.next_slot = end;
    }
}

impl<T> Iterator for Keys<'_, T> {
    type Item = Key;

    fn next(&mut self) -> Option<Key> {
        loop {
            if let Some(k) = self.buffer.pop() {
                return Some(k);
            }
            if self.next_slot >= self.table.capacity() {
                return None;
            }
            self.refill();
        }
    }
}

impl<T> std::fmt::Debug for Keys<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").field("next_slot", &self.next_slot).finish_non_exhaustive()
    }
}
