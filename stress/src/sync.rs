//! Locks that ignore poison: a panicked worker is reported as a violation, and what it left
//! behind (counters, histograms) is still worth reading. Every lock of the engine goes
//! through these two (clippy's `disallowed-methods` in `stress/clippy.toml` refuses
//! `Mutex::lock` and `Mutex::try_lock` elsewhere).

use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};

/// Locks, ignoring poison: a panicked worker is reported as a violation, and what it left
/// behind (counters, histograms) is still worth reading.
#[allow(clippy::disallowed_methods)] // the one place that locks directly
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Tries to lock without waiting, ignoring poison.
#[allow(clippy::disallowed_methods)] // the one place that locks directly
pub fn try_lock<T>(m: &Mutex<T>) -> Option<MutexGuard<'_, T>> {
    match m.try_lock() {
        Ok(g) => Some(g),
        Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    }
}
