//! A reader that holds its epoch pin too long, on purpose (the `epoch-stall` lesson).
//!
//! crossbeam-epoch frees a retired element only after every thread that was pinned when it was
//! retired has unpinned. The stress workers re-pin every batch, so garbage normally waits
//! microseconds. A [`PinHolder`] opens a session on the table (for our table: a `Reader`,
//! which pins), does one lookup, and then sits on that pin until it is released, its time is
//! up, or the garbage it holds back passes a cap; meanwhile every remove's element piles up.
//! Then it drops the session and the backlog drains.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::sync::lock;

/// The longest a pin may be held (a lesson that asks for more gets this).
pub const MAX_PIN_HOLD: Duration = Duration::from_secs(120);
/// The holder lets go early once this many retired elements wait for it (at 32 bytes an
/// element, about 256 MiB without allocator overhead), so that a fast churn cannot exhaust a
/// laptop's memory.
pub const PIN_HOLD_GARBAGE_CAP: u64 = 8 << 20;
/// How often the holder looks at the garbage gauge.
pub(crate) const HOLD_POLL: Duration = Duration::from_millis(20);

/// Why a held pin was let go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinRelease {
    /// Released on request.
    Asked,
    /// Its time was up.
    TimeUp,
    /// The garbage it held back reached [`PIN_HOLD_GARBAGE_CAP`].
    GarbageCap,
}

impl PinRelease {
    /// In words.
    pub const fn describe(self) -> &'static str {
        match self {
            PinRelease::Asked => "released",
            PinRelease::TimeUp => "released: its time was up",
            PinRelease::GarbageCap => "released early: the garbage reached its cap",
        }
    }
}

/// Shared between the holder thread and the engine.
#[derive(Debug)]
pub(crate) struct HoldState {
    pub(crate) released: Mutex<Option<PinRelease>>,
    pub(crate) wake: Condvar,
    pub(crate) since: Instant,
    pub(crate) max: Duration,
    /// When the holder dropped its pin.
    pub(crate) ended: Mutex<Option<Instant>>,
}

impl HoldState {
    pub(crate) fn new(max: Duration) -> Arc<HoldState> {
        Arc::new(HoldState {
            released: Mutex::new(None),
            wake: Condvar::new(),
            since: Instant::now(),
            max: max.min(MAX_PIN_HOLD),
            ended: Mutex::new(None),
        })
    }

    /// Lets go (first reason wins).
    pub(crate) fn release(&self, why: PinRelease) {
        let mut r = lock(&self.released);
        if r.is_none() {
            *r = Some(why);
        }
        self.wake.notify_all();
    }

    /// Waits up to `d` for a release; whether it was released.
    pub(crate) fn wait(&self, d: Duration) -> bool {
        let r = lock(&self.released);
        let (r, _) = self
            .wake
            .wait_timeout_while(r, d, |r| r.is_none())
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        r.is_some()
    }

    pub(crate) fn why(&self) -> Option<PinRelease> {
        *lock(&self.released)
    }
}

/// A running (or finished) pin holder.
pub(crate) struct PinHolder {
    pub(crate) state: Arc<HoldState>,
    pub(crate) handle: Option<JoinHandle<()>>,
}

/// What a sample says about a pin holder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinHoldSample {
    /// How long it held (or has held so far) its pin.
    pub held_for: Duration,
    /// The longest it will hold it.
    pub max: Duration,
    /// `None` while it still holds; why it let go otherwise.
    pub released: Option<PinRelease>,
}

impl PinHolder {
    pub(crate) fn sample(&self) -> PinHoldSample {
        let ended = *lock(&self.state.ended);
        let end = ended.unwrap_or_else(Instant::now);
        PinHoldSample {
            held_for: end.saturating_duration_since(self.state.since),
            max: self.state.max,
            // Released only once the pin is really dropped.
            released: ended.and(self.state.why()),
        }
    }
}
