//! A hang detector for tests and tools: [`Watchdog::arm`] starts a timer thread; if the guard
//! is not dropped within the limit, it writes what is stuck (the test's thread name and a
//! description the caller supplies, e.g. [`crate::EngineMonitor::describe`]) to stderr and
//! ends the process with [`WATCHDOG_EXIT`], so a test binary fails fast with a name instead of
//! hanging until some outer timeout kills it without one.
//!
//! It is a detector, not a speed check: limits are meant to be generous (10 s and more on a
//! loaded 2-core machine with debug builds).

use std::io::Write;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

/// The exit status of a process a watchdog ended.
pub const WATCHDOG_EXIT: i32 = 86;

/// A running timer; dropping it disarms it.
#[derive(Debug)]
pub struct Watchdog {
    disarm: Option<mpsc::Sender<()>>,
    timer: Option<JoinHandle<()>>,
}

impl Watchdog {
    /// Arms a watchdog for `what` (printed with the current thread's name, which is the test's
    /// name under the test harness). When `limit` passes before the guard is dropped, it writes
    /// `what`, the thread and `describe()` to stderr and exits the process.
    ///
    /// `describe` runs on the watchdog's thread while the guarded code is stuck: it must not
    /// take locks the stuck code may hold.
    pub fn arm(
        what: impl Into<String>,
        limit: Duration,
        describe: impl FnOnce() -> String + Send + 'static,
    ) -> Watchdog {
        let what = what.into();
        let thread = std::thread::current().name().unwrap_or("an unnamed thread").to_owned();
        let (tx, rx) = mpsc::channel::<()>();
        let timer = std::thread::Builder::new()
            .name("slotscope-watchdog".to_owned())
            .spawn(move || match rx.recv_timeout(limit) {
                Ok(()) | Err(RecvTimeoutError::Disconnected) => {}
                Err(RecvTimeoutError::Timeout) => {
                    let state = describe();
                    let mut err = std::io::stderr().lock();
                    let _ = writeln!(
                        err,
                        "\nWATCHDOG: `{what}` (in {thread}) did not finish within {limit:?}: a hang.\n{state}"
                    );
                    let _ = err.flush();
                    std::process::exit(WATCHDOG_EXIT);
                }
            })
            .ok();
        Watchdog { disarm: Some(tx), timer }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(tx) = self.disarm.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.timer.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watchdog_dropped_in_time_does_nothing() {
        let w = Watchdog::arm("quick", Duration::from_secs(30), || unreachable!("not stuck"));
        drop(w);
    }
}
