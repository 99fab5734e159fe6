//! What workers count and time, and how others read it without disturbing them.
//!
//! - [`Counts`]: a worker's plain counters, kept on its own stack and published every batch into
//!   its [`SharedCounts`] (cache-padded, single writer, read by the sampler with relaxed
//!   loads). The hot loop touches no shared line.
//! - [`LatencySet`]: per-op HdrHistograms (service time, and corrected time in open loop).
//! - [`HeatCounters`]: per-line write counts of one worker, bumped by its [`ThreadProbe`].
//! - [`HistogramData`] and [`LatencySummary`]: plain, serialisable forms for reports.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam_utils::CachePadded;
use hdrhistogram::Histogram;
use serde::Serialize;
use slotscope_table::{Geometry, NoProbe, Probe, Region};

use slotscope_trace::{latency_histogram, Counter, Counts, OpKind};

/// A worker's published counters: written only by that worker (plain relaxed stores, once per
/// batch), read by anyone with relaxed loads. Padded so no other data shares its lines.
#[derive(Debug, Default)]
pub struct SharedCounts(CachePadded<[AtomicU64; Counter::COUNT]>);

impl SharedCounts {
    /// Stores `counts` (single writer: the owning worker).
    #[inline]
    pub fn publish(&self, counts: &Counts) {
        for (cell, &v) in self.0.iter().zip(&counts.0) {
            cell.store(v, Ordering::Relaxed);
        }
    }

    /// The last published counts (each counter as of some batch boundary).
    pub fn read(&self) -> Counts {
        let mut c = Counts::ZERO;
        for (v, cell) in c.0.iter_mut().zip(self.0.iter()) {
            *v = cell.load(Ordering::Relaxed);
        }
        c
    }
}

/// Adds `src` into `dst`, which have the same bounds (saturating on overflow, never failing).
fn add_histogram(dst: &mut Histogram<u64>, src: &Histogram<u64>) {
    if src.is_empty() {
        return;
    }
    if dst.add(src).is_err() {
        // Unreachable with equal bounds; keep the counts anyway rather than lose them.
        for v in src.iter_recorded() {
            dst.saturating_record_n(v.value_iterated_to(), v.count_at_value());
        }
    }
}

/// Per-op latency histograms: service time (start to end) for every timed op, and in open
/// loop the corrected time (intended start to end).
#[derive(Clone, Debug)]
pub struct LatencySet {
    /// By [`OpKind::index`].
    pub service: [Histogram<u64>; OpKind::COUNT],
    /// By [`OpKind::index`]; empty in closed loop.
    pub corrected: [Histogram<u64>; OpKind::COUNT],
}

impl LatencySet {
    /// Empty histograms (allocates; call outside the hot loop).
    pub fn new() -> Self {
        LatencySet {
            service: std::array::from_fn(|_| latency_histogram()),
            corrected: std::array::from_fn(|_| latency_histogram()),
        }
    }

    /// Records a service time.
    #[inline]
    pub fn record_service(&mut self, kind: OpKind, ns: u64) {
        self.service[kind.index()].saturating_record(ns.max(1));
    }

    /// Records a corrected (from the intended start) time.
    #[inline]
    pub fn record_corrected(&mut self, kind: OpKind, ns: u64) {
        self.corrected[kind.index()].saturating_record(ns.max(1));
    }

    /// Adds every histogram of `other`.
    pub fn add(&mut self, other: &LatencySet) {
        for (d, s) in self.service.iter_mut().zip(&other.service) {
            add_histogram(d, s);
        }
        for (d, s) in self.corrected.iter_mut().zip(&other.corrected) {
            add_histogram(d, s);
        }
    }

    /// Empties every histogram (cheap for those already empty).
    pub fn reset(&mut self) {
        for h in self.service.iter_mut().chain(self.corrected.iter_mut()) {
            if !h.is_empty() {
                h.reset();
            }
        }
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.service.iter().chain(&self.corrected).all(Histogram::is_empty)
    }
}

impl Default for LatencySet {
    fn default() -> Self {
        LatencySet::new()
    }
}

/// A histogram as plain data: its configuration and its non-empty buckets, each as (the
/// highest value equivalent to the bucket, count). Lossless: [`HistogramData::to_histogram`]
/// rebuilds the same histogram.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HistogramData {
    /// Significant digits.
    pub sigfig: u8,
    /// Highest trackable value (ns).
    pub highest: u64,
    /// Values recorded.
    pub count: u64,
    /// `(value, count)` of each non-empty bucket, ascending.
    pub buckets: Vec<(u64, u64)>,
}

impl HistogramData {
    /// The plain form of `h`.
    pub fn from_histogram(h: &Histogram<u64>) -> Self {
        HistogramData {
            sigfig: h.sigfig(),
            highest: h.high(),
            count: h.len(),
            buckets: h.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect(),
        }
    }

    /// The histogram again (same bounds as [`latency_histogram`] when built from one).
    pub fn to_histogram(&self) -> Histogram<u64> {
        let mut h = Histogram::new_with_bounds(1, self.highest.max(2), self.sigfig.clamp(1, 5))
            .unwrap_or_else(|_| latency_histogram());
        for &(value, count) in &self.buckets {
            h.saturating_record_n(value, count);
        }
        h
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// The usual percentiles of a latency histogram, in ns (all 0 when empty).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    /// Values recorded: the ops timed (1 in k of all), not the op count. Serialised as
    /// `timed`, the word the TUI and the text use.
    #[serde(rename = "timed")]
    pub count: u64,
    /// Smallest.
    pub min: u64,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// 99.99th percentile.
    pub p9999: u64,
    /// Largest.
    pub max: u64,
}

impl LatencySummary {
    /// The summary of `h`.
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return LatencySummary::default();
        }
        LatencySummary {
            count: h.len(),
            min: h.min(),
            mean: h.mean(),
            p50: h.value_at_quantile(0.5),
            p90: h.value_at_quantile(0.9),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            p9999: h.value_at_quantile(0.9999),
            max: h.max(),
        }
    }
}

/// Most heat cells per region: lines are aggregated `2^k` per cell so that a thread's heat
/// arrays stay small (2 x 64 Ki x 4 B) for any table size.
pub const HEAT_MAX_CELLS: usize = 1 << 16;

/// One worker's writes per cache line (or per group of lines, see [`HeatCounters::lines_per_cell`]),
/// for slot and ring lines, and its header-line writes. Written only by the worker (relaxed
/// load + store: no read-modify-write), read by the sampler; counts wrap at 2^32 and the
/// sampler takes wrapping differences.
#[derive(Debug)]
pub struct HeatCounters {
    shift: u32,
    slot: Box<[AtomicU32]>,
    ring: Box<[AtomicU32]>,
    header: AtomicU64,
}

impl HeatCounters {
    /// Counters for a table of `geometry`.
    pub fn new(geometry: Geometry) -> Self {
        let lines = geometry.lines().max(geometry.ring_lines());
        let mut shift = 0;
        while (lines >> shift) > HEAT_MAX_CELLS {
            shift += 1;
        }
        let cells = |n: usize| (0..n.div_ceil(1 << shift)).map(|_| AtomicU32::new(0)).collect();
        HeatCounters {
            shift,
            slot: cells(geometry.lines()),
            ring: cells(geometry.ring_lines()),
            header: AtomicU64::new(0),
        }
    }

    /// Lines per cell (a power of two).
    pub fn lines_per_cell(&self) -> usize {
        1 << self.shift
    }

    /// Cells of the slot array.
    pub fn slot_cells(&self) -> usize {
        self.slot.len()
    }

    /// Cells of the ring.
    pub fn ring_cells(&self) -> usize {
        self.ring.len()
    }

    #[inline]
    fn bump(cell: Option<&AtomicU32>) {
        if let Some(c) = cell {
            // Single writer: a load and a store, never a locked read-modify-write.
            c.store(c.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
        }
    }

    /// Counts a write to `line` of `region`.
    #[inline]
    pub fn record(&self, region: Region, line: usize) {
        match region {
            Region::Slot => Self::bump(self.slot.get(line >> self.shift)),
            Region::Ring => Self::bump(self.ring.get(line >> self.shift)),
            Region::Header => {
                self.header.store(self.header.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
            }
        }
    }

    /// Copies the slot-line counts into `out` (resized to [`HeatCounters::slot_cells`]).
    pub fn read_slot(&self, out: &mut Vec<u32>) {
        out.clear();
        out.extend(self.slot.iter().map(|c| c.load(Ordering::Relaxed)));
    }

    /// Copies the ring-line counts into `out`.
    pub fn read_ring(&self, out: &mut Vec<u32>) {
        out.clear();
        out.extend(self.ring.iter().map(|c| c.load(Ordering::Relaxed)));
    }

    /// Header-line writes so far.
    pub fn header(&self) -> u64 {
        self.header.load(Ordering::Relaxed)
    }
}

/// What a worker's probe must do besides receiving events: hand its counts over at batch ends.
pub trait WorkerProbe: Probe {
    /// Adds the contention counts gathered since the last call into `counts`, and zeroes them.
    fn drain_into(&mut self, counts: &mut Counts);

    /// What the last op ran into, for its recorded event, and zeroes it. Only called when
    /// recording; probes that do not attribute events to ops report nothing.
    #[inline]
    fn take_op_probes(&mut self) -> slotscope_trace::OpProbes {
        slotscope_trace::OpProbes::default()
    }
}

impl WorkerProbe for NoProbe {
    #[inline]
    fn drain_into(&mut self, _counts: &mut Counts) {}
}

/// Where a [`ThreadProbe`] puts per-line write heat: a worker's [`HeatCounters`] when a viewer
/// draws it, or nowhere ([`NoHeat`]) in a headless run, whose report uses only the counts.
pub trait HeatSink {
    /// Counts a write to `line` of `region`.
    fn record(&self, region: Region, line: usize);
}

impl HeatSink for Arc<HeatCounters> {
    #[inline]
    fn record(&self, region: Region, line: usize) {
        HeatCounters::record(self, region, line);
    }
}

/// Heat that is not kept (headless runs: it saves a worker a store per line write and, at
/// 2^20 slots, a 512 KiB array that competes with the table for the cache).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoHeat;

impl HeatSink for NoHeat {
    #[inline]
    fn record(&self, _region: Region, _line: usize) {}
}

/// The probe of a worker on our table: contention counts, and per-line write heat where `H`
/// keeps it.
#[derive(Debug)]
pub struct ThreadProbe<H: HeatSink = Arc<HeatCounters>> {
    counts: Counts,
    heat: H,
}

impl<H: HeatSink> ThreadProbe<H> {
    /// A probe writing heat into `heat`.
    pub fn new(heat: H) -> Self {
        ThreadProbe { counts: Counts::ZERO, heat }
    }
}

impl<H: HeatSink> Probe for ThreadProbe<H> {
    #[inline]
    fn ticket_skip(&mut self) {
        self.counts[Counter::TicketSkips] += 1;
    }
    #[inline]
    fn ring_retry(&mut self) {
        self.counts[Counter::RingRetries] += 1;
    }
    #[inline]
    fn full_undo(&mut self) {
        self.counts[Counter::FullUndos] += 1;
    }
    #[inline]
    fn stale_rejected(&mut self) {
        self.counts[Counter::StaleRejections] += 1;
    }
    #[inline]
    fn line_write(&mut self, region: Region, line: usize) {
        let c = match region {
            Region::Slot => Counter::SlotWrites,
            Region::Ring => Counter::RingWrites,
            Region::Header => Counter::HeaderWrites,
        };
        self.counts[c] += 1;
        self.heat.record(region, line);
    }
}

impl<H: HeatSink> WorkerProbe for ThreadProbe<H> {
    #[inline]
    fn drain_into(&mut self, counts: &mut Counts) {
        counts.add(&self.counts);
        self.counts = Counts::ZERO;
    }
}

/// Latency of one op kind within one interval.
#[derive(Clone, Debug, Serialize)]
pub struct OpLatencyData {
    /// The operation.
    pub op: OpKind,
    /// Service times.
    pub service: HistogramData,
    /// Open loop: corrected times.
    pub corrected: Option<HistogramData>,
}

impl OpLatencyData {
    /// The non-empty kinds of `set`.
    pub fn of_set(set: &LatencySet) -> Vec<OpLatencyData> {
        OpKind::ALL
            .into_iter()
            .filter(|k| !set.service[k.index()].is_empty() || !set.corrected[k.index()].is_empty())
            .map(|k| {
                let corrected = &set.corrected[k.index()];
                OpLatencyData {
                    op: k,
                    service: HistogramData::from_histogram(&set.service[k.index()]),
                    corrected: (!corrected.is_empty()).then(|| HistogramData::from_histogram(corrected)),
                }
            })
            .collect()
    }
}

/// One thread's counts and latencies over one series interval.
#[derive(Clone, Debug, Serialize)]
pub struct IntervalRecord {
    /// Global thread index.
    pub thread: usize,
    /// Interval start, ns since start (boundaries are exact to one batch of ops).
    pub start_ns: u64,
    /// Interval end.
    pub end_ns: u64,
    /// Counters during the interval.
    pub counts: Counts,
    /// Latencies during the interval (kinds with no timed op are left out).
    pub latency: Vec<OpLatencyData>,
}

impl IntervalRecord {
    /// Ops of `kind` in the interval.
    pub fn ops_of(&self, kind: OpKind) -> u64 {
        self.counts[Counter::ops_of(kind)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slotscope_table::Layout;

    #[test]
    fn counts_index_add_and_diff() {
        let mut a = Counts::ZERO;
        a[Counter::Lookups] = 5;
        a[Counter::Inserts] = 2;
        a[Counter::Removes] = 1;
        assert_eq!(a.ops(), 8);
        assert_eq!(a.ops_of(OpKind::Insert), 2);
        let mut b = a;
        b.add(&a);
        assert_eq!(b[Counter::Lookups], 10);
        assert_eq!(b.since(&a), a);
    }

    #[test]
    fn counts_serialise_by_name() {
        let mut a = Counts::ZERO;
        a[Counter::TicketSkips] = 7;
        let json = serde_json::to_value(a).unwrap();
        assert_eq!(json["ticket_skips"], 7);
        assert_eq!(json.as_object().unwrap().len(), Counter::COUNT);
    }

    #[test]
    fn shared_counts_round_trip() {
        let shared = SharedCounts::default();
        let mut c = Counts::ZERO;
        c[Counter::Violations] = 3;
        shared.publish(&c);
        assert_eq!(shared.read(), c);
    }

    #[test]
    fn histogram_data_is_lossless() {
        let mut h = latency_histogram();
        for v in [1, 5, 5, 100, 12_345, 9_999_999, slotscope_trace::latency::LATENCY_MAX_NS * 2] {
            h.saturating_record(v);
        }
        let data = HistogramData::from_histogram(&h);
        assert_eq!(data.count, 7);
        let back = data.to_histogram();
        assert_eq!(back, h);
        assert_eq!(HistogramData::from_histogram(&back), data);
    }

    #[test]
    fn latency_set_adds_and_resets() {
        let mut a = LatencySet::new();
        a.record_service(OpKind::Lookup, 10);
        a.record_corrected(OpKind::Remove, 0);
        let mut b = LatencySet::new();
        b.add(&a);
        b.add(&a);
        assert_eq!(b.service[0].len(), 2);
        assert_eq!(b.corrected[2].len(), 2);
        assert_eq!(b.corrected[2].min(), 1, "0 ns is recorded as 1 ns");
        b.reset();
        assert!(b.is_empty());
        assert!(!a.is_empty());
    }

    #[test]
    fn summary_of_empty_and_full() {
        assert_eq!(LatencySummary::of(&latency_histogram()), LatencySummary::default());
        let mut h = latency_histogram();
        (1..=100).for_each(|v| h.record(v * 1000).unwrap());
        let s = LatencySummary::of(&h);
        assert_eq!(s.count, 100);
        assert!(h.equivalent(s.p50, 50_000));
        assert!(h.equivalent(s.p99, 99_000));
        assert!(h.equivalent(s.max, 100_000));
    }

    #[test]
    fn heat_aggregates_lines_for_big_tables() {
        let small = HeatCounters::new(Geometry::new(1 << 10, Layout::Interleaved, 64).unwrap());
        assert_eq!(small.lines_per_cell(), 1);
        assert_eq!(small.slot_cells(), 128);
        let big = HeatCounters::new(Geometry::new(1 << 22, Layout::Padded, 64).unwrap());
        assert_eq!(big.lines_per_cell(), 64);
        assert_eq!(big.slot_cells(), HEAT_MAX_CELLS);
        assert_eq!(big.ring_cells(), (1 << 22) / 8 / 64);
        big.record(Region::Slot, 130);
        big.record(Region::Slot, 129);
        big.record(Region::Header, 0);
        big.record(Region::Ring, usize::MAX); // out of range: ignored, no panic
        let mut out = Vec::new();
        big.read_slot(&mut out);
        assert_eq!(out[2], 2);
        assert_eq!(big.header(), 1);
    }

    #[test]
    fn thread_probe_counts_and_drains() {
        let heat = Arc::new(HeatCounters::new(Geometry::new(64, Layout::Linear, 64).unwrap()));
        let mut p = ThreadProbe::new(Arc::clone(&heat));
        p.ticket_skip();
        p.line_write(Region::Slot, 3);
        p.line_write(Region::Ring, 1);
        let mut c = Counts::ZERO;
        p.drain_into(&mut c);
        assert_eq!((c[Counter::TicketSkips], c[Counter::SlotWrites], c[Counter::RingWrites]), (1, 1, 1));
        let mut again = Counts::ZERO;
        p.drain_into(&mut again);
        assert_eq!(again, Counts::ZERO);
        let mut out = Vec::new();
        heat.read_slot(&mut out);
        assert_eq!(out[3], 1);
    }
}
