//! The per-thread ring a worker's sink fills and the writer drains, and the sink itself.
//!
//! The ring is written by exactly one thread (its worker) and read by exactly one (the
//! writer): plain atomic words, a `Release` store of the tail after the words, an `Acquire`
//! load of it before reading them, and the same for the head in the other direction. No
//! locks and no allocation per op.
//!
//! When the ring is full the sink waits for the writer (the default: a recording loses
//! nothing) or, with `--record-lossy`, drops the event and counts it. A waiting worker parks:
//! on a machine with as many spinning workers as cores the writer only runs when a worker
//! gives up its core. It waits until there is room, until recording stops (a limit, a write
//! error), or, once the engine is stopping, at most [`STOP_WAIT`]; the wait is counted.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::Thread;
use std::time::Duration;

use crossbeam_utils::CachePadded;

use crate::engine::event::OpSink;
use crate::engine::timer::Clock;
use crate::sync::lock;
use slotscope_trace::{OpEvent, OpKind, OpOrigin, OpOutcome, OpProbes, Value};

/// What every sink of a recording shares with the writer: whether to push at all, whether to
/// wait for room, and the clock.
pub(crate) struct Gate {
    /// False once recording stopped at a limit or an error: sinks push nothing more and wait
    /// for nothing.
    pub accepting: CachePadded<AtomicBool>,
    /// Set when the engine stops: a sink waiting for room gives up after [`STOP_WAIT`].
    pub releasing: AtomicBool,
    /// Drop events when a ring is full instead of waiting (`--record-lossy`).
    pub lossy: bool,
    pub clock: Clock,
}

impl Gate {
    pub(crate) fn new(clock: Clock, lossy: bool) -> Self {
        Gate {
            accepting: CachePadded::new(AtomicBool::new(true)),
            releasing: AtomicBool::new(false),
            lossy,
            clock,
        }
    }
}

/// How long a waiting worker parks before it looks again (the writer wakes it sooner).
const WAIT_PARK: Duration = Duration::from_micros(200);
/// Once the engine is stopping, how long a worker still waits for room before it drops.
pub(crate) const STOP_WAIT: Duration = Duration::from_millis(500);

/// Words per event in the ring.
pub(crate) const WORDS: usize = 7;
/// Word 0 flags.
const W_HAS_KEY: u64 = 1 << 7;
const W_HAS_VALUE: u64 = 1 << 8;
const W_DROP: u64 = 1 << 9;

/// A bounded single-producer single-consumer ring of fixed-size events.
#[derive(Debug)]
pub(crate) struct EventRing {
    words: Box<[AtomicU64]>,
    mask: u64,
    /// Events the consumer has taken (written by the writer thread only).
    head: CachePadded<AtomicU64>,
    /// Events the producer has published (written by its worker only).
    tail: CachePadded<AtomicU64>,
    /// Set by the producer when it will push no more.
    pub(crate) closed: AtomicBool,
    pub(crate) pushed: AtomicU64,
    pub(crate) dropped: AtomicU64,
    /// A drop span the producer could not push before it closed.
    pub(crate) leftover: Mutex<Option<DropSpan>>,
    /// A clock reading the producer took after its last push and before it went quiet (a
    /// pause, a paced sleep): it starts no op before it. 0: none declared.
    pub(crate) quiet_since: CachePadded<AtomicU64>,
    /// Set by a producer parked for room; the writer wakes it after draining.
    pub(crate) waiting: AtomicBool,
    /// The producer's thread, once it has waited.
    pub(crate) waiter: Mutex<Option<Thread>>,
    /// Times the producer waited for room, and for how long in all (ns); final once closed.
    pub(crate) waits: AtomicU64,
    pub(crate) waited_ns: AtomicU64,
}

impl EventRing {
    pub(crate) fn new(events: usize) -> Self {
        let cap = events.max(2).next_power_of_two();
        EventRing {
            words: (0..cap * WORDS).map(|_| AtomicU64::new(0)).collect(),
            mask: cap as u64 - 1,
            head: CachePadded::new(AtomicU64::new(0)),
            tail: CachePadded::new(AtomicU64::new(0)),
            closed: AtomicBool::new(false),
            pushed: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            leftover: Mutex::new(None),
            quiet_since: CachePadded::new(AtomicU64::new(0)),
            waiting: AtomicBool::new(false),
            waiter: Mutex::new(None),
            waits: AtomicU64::new(0),
            waited_ns: AtomicU64::new(0),
        }
    }

    /// Wakes the producer if it waits for room.
    pub(crate) fn wake_waiter(&self) {
        if self.waiting.swap(false, Ordering::SeqCst) {
            if let Some(t) = lock(&self.waiter).as_ref() {
                t.unpark();
            }
        }
    }

    fn capacity(&self) -> u64 {
        self.mask + 1
    }

    /// Consumer: calls `f` on up to `max` events from position `head`; the new head.
    pub(crate) fn drain(&self, head: u64, max: usize, mut f: impl FnMut(&[u64; WORDS])) -> u64 {
        // Acquire: pairs with the producer's Release store of the tail, so the words of every
        // published event are visible.
        let tail = self.tail.load(Ordering::Acquire);
        let end = tail.min(head + max as u64);
        let mut w = [0u64; WORDS];
        for pos in head..end {
            // The mask keeps the index below the capacity.
            #[allow(clippy::cast_possible_truncation)]
            let base = (pos & self.mask) as usize * WORDS;
            for (i, x) in w.iter_mut().enumerate() {
                *x = self.words[base + i].load(Ordering::Relaxed);
            }
            f(&w);
        }
        if end != head {
            // Release: pairs with the producer's Acquire load of the head, so our reads of the
            // words happen before it overwrites them.
            self.head.store(end, Ordering::Release);
        }
        end
    }

    pub(crate) fn is_drained(&self, head: u64) -> bool {
        self.tail.load(Ordering::Acquire) == head
    }
}

/// Events a producer dropped in a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DropSpan {
    pub count: u64,
    pub origin: OpOrigin,
    pub first_op: u64,
    pub last_op: u64,
    pub first_ns: u64,
    pub last_ns: u64,
}

/// A worker's sink: packs each event into its ring, or drops and counts it.
pub(crate) struct ThreadSink {
    ring: Arc<EventRing>,
    shared: Arc<Gate>,
    tail: u64,
    head_seen: u64,
    pushed: u64,
    dropped: u64,
    span: Option<DropSpan>,
    waits: u64,
    waited_ns: u64,
    /// The thread is registered as the ring's waiter.
    registered: bool,
}

impl std::fmt::Debug for ThreadSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadSink").field("pushed", &self.pushed).field("dropped", &self.dropped).finish()
    }
}

impl ThreadSink {
    pub(crate) fn new(ring: Arc<EventRing>, shared: Arc<Gate>) -> Self {
        ThreadSink {
            ring,
            shared,
            tail: 0,
            head_seen: 0,
            pushed: 0,
            dropped: 0,
            span: None,
            waits: 0,
            waited_ns: 0,
            registered: false,
        }
    }

    /// Events pushed and dropped so far.
    #[cfg(test)]
    pub(crate) fn counts(&self) -> (u64, u64) {
        (self.pushed, self.dropped)
    }

    /// Waits until the ring has room for `n` events; false when it gives up (recording
    /// stopped, or the engine is stopping and [`STOP_WAIT`] passed): then the event is dropped.
    #[cold]
    #[inline(never)]
    fn wait_for_room(&mut self, n: u64) -> bool {
        let clock = self.shared.clock;
        let began = clock.now_ns();
        let mut release_seen: Option<u64> = None;
        let room = loop {
            if self.has_room(n) {
                break true;
            }
            // Relaxed: flags set once; a late look only costs one more park.
            if !self.shared.accepting.load(Ordering::Relaxed) {
                break false;
            }
            if self.shared.releasing.load(Ordering::Relaxed) {
                let now = clock.now_ns();
                let since = *release_seen.get_or_insert(now);
                if now.saturating_sub(since) >= u64::try_from(STOP_WAIT.as_nanos()).unwrap_or(u64::MAX) {
                    break false;
                }
            }
            if !self.registered {
                *lock(&self.ring.waiter) = Some(std::thread::current());
                self.registered = true;
            }
            // SeqCst, with the writer's swap: either it sees the flag and wakes us, or we see
            // the room it made when we look again.
            self.ring.waiting.store(true, Ordering::SeqCst);
            if self.has_room(n) {
                self.ring.waiting.store(false, Ordering::Relaxed);
                break true;
            }
            std::thread::park_timeout(WAIT_PARK);
        };
        self.waits += 1;
        self.waited_ns += clock.now_ns().saturating_sub(began);
        room
    }

    /// Room for `n` events, waiting for it unless recording is lossy.
    #[inline]
    fn room_for(&mut self, n: u64) -> bool {
        self.has_room(n) || (!self.shared.lossy && self.wait_for_room(n))
    }

    /// The worker is about to go quiet (pause, a paced sleep): it declares that it will start
    /// no op before now, so the writer's frontier need not wait for it.
    fn declare_quiet(&mut self) {
        let now = self.shared.clock.now_ns();
        // Release: after every push above (their tail stores), so a writer that sees this
        // reading sees those events too.
        self.ring.quiet_since.store(now, Ordering::Release);
    }

    /// Room for `n` more events (refreshing the consumer's head only when it seems full).
    #[inline]
    fn has_room(&mut self, n: u64) -> bool {
        let cap = self.ring.capacity();
        if self.tail - self.head_seen + n <= cap {
            return true;
        }
        // Acquire: pairs with the consumer's Release store of the head.
        self.head_seen = self.ring.head.load(Ordering::Acquire);
        self.tail - self.head_seen + n <= cap
    }

    #[inline]
    fn put(&mut self, w: &[u64; WORDS]) {
        // The mask keeps the index below the capacity.
        #[allow(clippy::cast_possible_truncation)]
        let base = (self.tail & self.ring.mask) as usize * WORDS;
        for (i, &x) in w.iter().enumerate() {
            self.ring.words[base + i].store(x, Ordering::Relaxed);
        }
        self.tail += 1;
        // Release: pairs with the consumer's Acquire load; the words above are published.
        self.ring.tail.store(self.tail, Ordering::Release);
    }

    fn note_drop(&mut self, e: &OpEvent) {
        self.dropped += 1;
        match &mut self.span {
            Some(s) => {
                s.count += 1;
                s.last_op = e.op_index;
                s.last_ns = e.end_ns;
            }
            None => {
                self.span = Some(DropSpan {
                    count: 1,
                    origin: e.origin,
                    first_op: e.op_index,
                    last_op: e.op_index,
                    first_ns: e.start_ns,
                    last_ns: e.end_ns,
                });
            }
        }
    }
}

pub(crate) fn pack(e: &OpEvent) -> [u64; WORDS] {
    let sat16 = |v: u32| u64::from(v.min(0xffff));
    let sat8 = |v: u32| u64::from(v.min(0xff));
    let outcome = OpOutcome::ALL.iter().position(|&o| o == e.outcome).unwrap_or(0) as u64;
    let w0 = e.kind as u64
        | (outcome << 2)
        | ((e.origin as u64) << 5)
        | if e.key.is_some() { W_HAS_KEY } else { 0 }
        | if e.value.is_some() { W_HAS_VALUE } else { 0 }
        | (sat16(e.probes.ticket_skips) << 16)
        | (sat16(e.probes.ring_retries) << 32)
        | (sat8(e.probes.full_undos) << 48)
        | (sat8(e.probes.stale_rejections) << 56);
    let v = e.value.unwrap_or_default();
    [w0, e.op_index, e.key.unwrap_or(0), v.thread, v.seq, e.start_ns, e.end_ns]
}

fn pack_span(s: &DropSpan) -> [u64; WORDS] {
    [W_DROP | ((s.origin as u64) << 5), s.first_op, s.last_op, s.count, 0, s.first_ns, s.last_ns]
}

/// What a ring entry unpacks to.
pub(crate) enum Unpacked {
    Op(OpEvent),
    Drop(DropSpan),
}

pub(crate) fn unpack(w: &[u64; WORDS], thread: usize) -> Unpacked {
    let origin = OpOrigin::ALL[((w[0] >> 5) & 3) as usize % OpOrigin::ALL.len()];
    if w[0] & W_DROP != 0 {
        return Unpacked::Drop(DropSpan {
            count: w[3],
            origin,
            first_op: w[1],
            last_op: w[2],
            first_ns: w[5],
            last_ns: w[6],
        });
    }
    // Fields were packed from valid enums and u32 counts: the narrowing is lossless.
    #[allow(clippy::cast_possible_truncation)]
    let probes = OpProbes {
        ticket_skips: ((w[0] >> 16) & 0xffff) as u32,
        ring_retries: ((w[0] >> 32) & 0xffff) as u32,
        full_undos: ((w[0] >> 48) & 0xff) as u32,
        stale_rejections: (w[0] >> 56) as u32,
    };
    Unpacked::Op(OpEvent {
        thread,
        op_index: w[1],
        kind: OpKind::ALL[(w[0] & 3) as usize % OpKind::COUNT],
        key: (w[0] & W_HAS_KEY != 0).then_some(w[2]),
        outcome: OpOutcome::ALL[((w[0] >> 2) & 7) as usize % OpOutcome::ALL.len()],
        value: (w[0] & W_HAS_VALUE != 0).then_some(Value { thread: w[3], seq: w[4] }),
        origin,
        probes,
        start_ns: w[5],
        end_ns: w[6],
    })
}

impl OpSink for ThreadSink {
    const ENABLED: bool = true;

    fn quiet(&mut self) {
        self.declare_quiet();
    }

    #[inline]
    fn op(&mut self, e: &OpEvent) {
        // Relaxed: a flag written once, when a limit stops the recording; events after it may
        // or may not be pushed (the writer discards them).
        if !self.shared.accepting.load(Ordering::Relaxed) {
            return;
        }
        if let Some(span) = self.span {
            if !self.room_for(2) {
                self.note_drop(e);
                return;
            }
            self.put(&pack_span(&span));
            self.span = None;
        } else if !self.room_for(1) {
            self.note_drop(e);
            return;
        }
        self.put(&pack(e));
        self.pushed += 1;
    }
}

impl Drop for ThreadSink {
    fn drop(&mut self) {
        if let Some(span) = self.span.take() {
            if self.has_room(1) {
                self.put(&pack_span(&span));
            } else {
                *lock(&self.ring.leftover) = Some(span);
            }
        }
        self.ring.pushed.store(self.pushed, Ordering::Relaxed);
        self.ring.dropped.store(self.dropped, Ordering::Relaxed);
        self.ring.waits.store(self.waits, Ordering::Relaxed);
        self.ring.waited_ns.store(self.waited_ns, Ordering::Relaxed);
        // Release: pairs with the writer's Acquire load; the counts and leftover are final.
        self.ring.closed.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    fn event(i: u64) -> OpEvent {
        OpEvent {
            thread: 3,
            op_index: i,
            kind: OpKind::Insert,
            key: Some(i * 16 + 1),
            outcome: OpOutcome::Inserted,
            value: Some(Value { thread: 3, seq: i }),
            origin: OpOrigin::Run,
            probes: OpProbes { ticket_skips: 1, ring_retries: 70_000, full_undos: 0, stale_rejections: 3 },
            start_ns: 100 * i,
            end_ns: 100 * i + 7,
        }
    }

    #[test]
    fn packing_round_trips_and_saturates_probe_counts() {
        let e = event(5);
        let Unpacked::Op(back) = unpack(&pack(&e), 3) else { panic!("not an op") };
        assert_eq!(back.probes.ring_retries, 0xffff, "saturated");
        assert_eq!(OpEvent { probes: OpProbes { ring_retries: 70_000, ..back.probes }, ..back }, e);
        let mut miss = e;
        miss.kind = OpKind::Lookup;
        miss.outcome = OpOutcome::Miss;
        miss.value = None;
        miss.origin = OpOrigin::Sweep;
        miss.probes = OpProbes::default();
        let Unpacked::Op(back) = unpack(&pack(&miss), 3) else { panic!("not an op") };
        assert_eq!(back, miss);
    }

    /// A consumer that drains `ring` slowly (3 events at a time, yielding between) until the
    /// producer closes it: the op indices it saw (drop markers as `u64::MAX - first_op`) and
    /// the events drop markers account for.
    fn slow_consumer(ring: Arc<EventRing>) -> std::thread::JoinHandle<(Vec<u64>, u64)> {
        std::thread::spawn(move || {
            let mut head = 0;
            let mut seen = Vec::new();
            let mut dropped = 0;
            loop {
                let closed = ring.closed.load(Ordering::Acquire);
                let before = head;
                head = ring.drain(head, 3, |w| match unpack(w, 3) {
                    Unpacked::Op(e) => seen.push(e.op_index),
                    Unpacked::Drop(s) => {
                        dropped += s.count;
                        seen.push(u64::MAX - s.first_op);
                    }
                });
                if head != before {
                    ring.wake_waiter();
                }
                if closed && ring.is_drained(head) {
                    if let Some(s) = lock(&ring.leftover).take() {
                        dropped += s.count;
                    }
                    return (seen, dropped);
                }
                std::thread::yield_now();
            }
        })
    }

    /// Lossy: whatever the interleaving, every event is either delivered in order or
    /// accounted for by a drop marker, and nothing is delivered twice.
    #[test]
    fn a_lossy_ring_delivers_in_order_or_counts_drops() {
        let shared = Arc::new(Gate::new(Clock::new(), true));
        let ring = Arc::new(EventRing::new(8));
        let mut sink = ThreadSink::new(Arc::clone(&ring), shared);
        const N: u64 = 20_000;
        let consumer = slow_consumer(Arc::clone(&ring));
        for i in 0..N {
            sink.op(&event(i));
        }
        let (pushed, sink_dropped) = sink.counts();
        drop(sink);
        let (seen, dropped) = consumer.join().unwrap();
        let ops: Vec<u64> = seen.iter().copied().filter(|&x| x < N).collect();
        assert_eq!(ops.len() as u64, pushed);
        assert_eq!(dropped, sink_dropped);
        assert_eq!(pushed + dropped, N);
        assert!(ops.windows(2).all(|w| w[0] < w[1]), "in order, no duplicates");
    }

    /// Lossless (the default): the producer waits for the slow consumer and nothing is
    /// lost; the waits are counted.
    #[test]
    fn a_lossless_ring_waits_and_loses_nothing() {
        let shared = Arc::new(Gate::new(Clock::new(), false));
        let ring = Arc::new(EventRing::new(8));
        let mut sink = ThreadSink::new(Arc::clone(&ring), shared);
        const N: u64 = 20_000;
        let consumer = slow_consumer(Arc::clone(&ring));
        for i in 0..N {
            sink.op(&event(i));
        }
        assert_eq!(sink.counts(), (N, 0));
        drop(sink);
        let (seen, dropped) = consumer.join().unwrap();
        assert_eq!(dropped, 0);
        assert_eq!(seen, (0..N).collect::<Vec<_>>());
        assert!(ring.waits.load(Ordering::Relaxed) > 0, "an 8-event ring against 20000 events must wait");
    }

    /// A waiting producer is released when recording stops (no consumer at all here), and
    /// once the engine is stopping it waits at most STOP_WAIT.
    #[test]
    fn a_waiting_producer_is_released() {
        let shared = Arc::new(Gate::new(Clock::new(), false));
        let ring = Arc::new(EventRing::new(4));
        let mut sink = ThreadSink::new(Arc::clone(&ring), Arc::clone(&shared));
        for i in 0..4 {
            sink.op(&event(i));
        }
        let stopper = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                shared.accepting.store(false, Ordering::Relaxed);
            })
        };
        sink.op(&event(4));
        stopper.join().unwrap();
        assert_eq!(sink.counts(), (4, 1), "released by the stop, the event is dropped and counted");

        let shared = Arc::new(Gate::new(Clock::new(), false));
        let ring = Arc::new(EventRing::new(4));
        let mut sink = ThreadSink::new(ring, Arc::clone(&shared));
        for i in 0..4 {
            sink.op(&event(i));
        }
        shared.releasing.store(true, Ordering::Relaxed);
        let began = std::time::Instant::now();
        sink.op(&event(4));
        let waited = began.elapsed();
        assert_eq!(sink.counts(), (4, 1));
        assert!(waited >= STOP_WAIT && waited < STOP_WAIT * 20, "{waited:?}");
    }
}
