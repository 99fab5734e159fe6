//! The one place that names atomics and the epoch crate.
//!
//! Normally these are std's atomics; under `--cfg loom` (with `--cfg crossbeam_loom`, so that
//! crossbeam-epoch switches too) they are loom's, and the very same table code is
//! model-checked. Nothing else in the crate may name `std::sync::atomic`'s types: clippy's
//! `disallowed-types` (`table/clippy.toml`) refuses them everywhere but here, which is why the
//! std atomic is wrapped in a newtype instead of re-exported (a re-export would be the same
//! type, and refused wherever it is used).

pub(crate) use std::sync::atomic::Ordering;

/// `std::sync::atomic::AtomicU64` with the methods the table uses (each an inlined call).
#[cfg(not(loom))]
#[derive(Debug, Default)]
#[repr(transparent)]
pub(crate) struct AtomicU64(#[allow(clippy::disallowed_types)] std::sync::atomic::AtomicU64);

#[cfg(not(loom))]
#[allow(clippy::disallowed_types)]
impl AtomicU64 {
    #[inline]
    pub(crate) const fn new(v: u64) -> Self {
        AtomicU64(std::sync::atomic::AtomicU64::new(v))
    }
    #[inline]
    pub(crate) fn load(&self, order: Ordering) -> u64 {
        self.0.load(order)
    }
    #[inline]
    pub(crate) fn store(&self, v: u64, order: Ordering) {
        self.0.store(v, order);
    }
    #[inline]
    pub(crate) fn swap(&self, v: u64, order: Ordering) -> u64 {
        self.0.swap(v, order)
    }
    #[inline]
    pub(crate) fn fetch_add(&self, v: u64, order: Ordering) -> u64 {
        self.0.fetch_add(v, order)
    }
    #[inline]
    pub(crate) fn fetch_sub(&self, v: u64, order: Ordering) -> u64 {
        self.0.fetch_sub(v, order)
    }
    #[inline]
    pub(crate) fn compare_exchange(
        &self,
        current: u64,
        new: u64,
        success: Ordering,
        failure: Ordering,
    ) -> Result<u64, u64> {
        self.0.compare_exchange(current, new, success, failure)
    }
}

#[cfg(loom)]
pub(crate) use loom::sync::atomic::AtomicU64;

pub(crate) use crossbeam_epoch as epoch;

/// A hint inside a retry loop. Under loom it yields so that the model can schedule the thread
/// whose progress the loop waits for.
#[inline]
pub(crate) fn spin_hint() {
    #[cfg(not(loom))]
    std::hint::spin_loop();
    #[cfg(loom)]
    loom::thread::yield_now();
}
