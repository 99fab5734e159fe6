//! The one place that names atomics and the epoch crate.
//!
//! Normally these are std's atomics; under `--cfg loom` (with `--cfg crossbeam_loom`, so that
//! crossbeam-epoch switches too) they are loom's, and the very same table code is
//! model-checked. Nothing else in the crate may import `std::sync::atomic` directly.

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU64, Ordering};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU64, Ordering};

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
