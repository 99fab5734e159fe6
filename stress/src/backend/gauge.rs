//! The garbage gauge: how many removed elements are waiting for reclamation (retired to
//! crossbeam-epoch but not yet freed), measured, for the `epoch-stall` lesson.
//!
//! A remove retires its element; the element is freed later, on whichever thread collects
//! after every pinned thread has moved on. Counting both without a shared counter (which would
//! become the hottest line in the program): each thread that retires or frees elements of a
//! gauged table gets its own cache-padded pair of counters, registered once per thread and
//! table, and bumps only its own (a relaxed load and store, no read-modify-write). Frees run
//! in element destructors, so the element carries its gauge's id (4 bytes) to find the cells;
//! the reader ([`GarbageGauge::read`]) sums all cells.
//!
//! Off by default: a gauged table stores 24-byte values instead of 16 (the engine turns it on
//! for lessons, [`crate::EngineOptions::garbage_gauge`]).

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use crossbeam_utils::CachePadded;

use crate::sync::lock;

/// Most gauges a thread keeps cells for; older ones (of tables replaced by restarts) go.
const CELLS_PER_THREAD: usize = 8;

/// One thread's counts for one gauge: elements it retired, elements it freed.
#[derive(Debug, Default)]
struct GaugeCell(CachePadded<[AtomicU64; 2]>);

impl GaugeCell {
    #[inline]
    fn bump(&self, which: usize) {
        let c = &self.0[which];
        // Single writer (the owning thread): a load and a store.
        c.store(c.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
    }
}

#[derive(Debug, Default)]
struct GaugeCells {
    cells: Mutex<Vec<Arc<GaugeCell>>>,
}

/// Every gauge by id (index + 1); entries are never reused, so a thread's cached cell can
/// never count into another table's gauge.
static REGISTRY: Mutex<Vec<Weak<GaugeCells>>> = Mutex::new(Vec::new());

std::thread_local! {
    /// This thread's cells, by gauge id.
    static MINE: RefCell<Vec<(u32, Arc<GaugeCell>)>> = const { RefCell::new(Vec::new()) };
}

const RETIRED: usize = 0;
const FREED: usize = 1;

/// Counts an event of gauge `id` in this thread's cell (registering one the first time).
#[inline]
fn bump(id: u32, which: usize) {
    if id == 0 {
        return;
    }
    // `try_with`: elements may be freed while this thread's locals are being destroyed.
    let _ = MINE.try_with(|mine| {
        let Ok(mut mine) = mine.try_borrow_mut() else { return };
        if let Some((_, cell)) = mine.iter().find(|(g, _)| *g == id) {
            cell.bump(which);
            return;
        }
        let gauge = lock(&REGISTRY).get(id as usize - 1).and_then(Weak::upgrade);
        let Some(gauge) = gauge else { return };
        let cell = Arc::new(GaugeCell::default());
        lock(&gauge.cells).push(Arc::clone(&cell));
        cell.bump(which);
        if mine.len() >= CELLS_PER_THREAD {
            mine.remove(0);
        }
        mine.push((id, cell));
    });
}

/// Counts one element of gauge `id` retired by this thread (a remove unlinked it).
#[inline]
pub fn retired(id: u32) {
    bump(id, RETIRED);
}

/// Counts one element of gauge `id` freed on this thread (its destructor ran).
#[inline]
pub fn freed(id: u32) {
    bump(id, FREED);
}

/// What a gauge read: elements retired and freed so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GarbageCount {
    /// Elements removed from the table and handed to the epoch.
    pub retired: u64,
    /// Elements whose destructor ran (after their grace period).
    pub freed: u64,
}

impl GarbageCount {
    /// Retired and not yet freed: the garbage waiting for every pinned thread to move on.
    /// (The two sums are read one cell at a time while threads work, so a free may be seen
    /// before its retirement: never below zero.)
    pub fn pending(&self) -> u64 {
        self.retired.saturating_sub(self.freed)
    }
}

/// The gauge of one table. Cloning shares it.
#[derive(Clone, Debug)]
pub struct GarbageGauge {
    id: u32,
    cells: Arc<GaugeCells>,
}

impl GarbageGauge {
    /// A new gauge with its own id.
    pub fn new() -> GarbageGauge {
        let cells = Arc::new(GaugeCells::default());
        let mut registry = lock(&REGISTRY);
        registry.push(Arc::downgrade(&cells));
        let id = u32::try_from(registry.len()).unwrap_or(0);
        GarbageGauge { id, cells }
    }

    /// The id elements carry (never 0).
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The sums over every thread's cell.
    pub fn read(&self) -> GarbageCount {
        let mut c = GarbageCount::default();
        for cell in lock(&self.cells.cells).iter() {
            c.retired += cell.0[RETIRED].load(Ordering::Relaxed);
            c.freed += cell.0[FREED].load(Ordering::Relaxed);
        }
        c
    }
}

impl Default for GarbageGauge {
    fn default() -> Self {
        GarbageGauge::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_gauge_across_threads() {
        let a = GarbageGauge::new();
        let b = GarbageGauge::new();
        assert_ne!(a.id(), b.id());
        for _ in 0..3 {
            retired(a.id());
        }
        freed(a.id());
        retired(b.id());
        let id = a.id();
        std::thread::spawn(move || {
            freed(id);
            retired(0); // no gauge: ignored
        })
        .join()
        .unwrap();
        assert_eq!(a.read(), GarbageCount { retired: 3, freed: 2 });
        assert_eq!(a.read().pending(), 1);
        assert_eq!(b.read(), GarbageCount { retired: 1, freed: 0 });
        assert_eq!(GarbageCount { retired: 1, freed: 4 }.pending(), 0);
    }

    #[test]
    fn a_dropped_gauge_is_ignored() {
        let id = {
            let g = GarbageGauge::new();
            g.id()
        };
        freed(id);
        retired(u32::MAX);
    }
}
