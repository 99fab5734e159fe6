//! What the views draw from: plain data the app owns, fills once per sample, and lends to the
//! widgets for a frame.
//!
//! Nothing here is atomic, timed or shared: the app (`src/`) turns the stress engine's samples
//! into these types, and widgets only read them. Every owned type is meant to be kept and
//! refilled, not rebuilt: `Vec`s are cleared and refilled (keeping their capacity), [`Series`]
//! is a bounded ring that never grows past its capacity.
//!
//! Missing data is allowed everywhere and drawn as such: a per-line slice shorter than the
//! table reads as zeros beyond its end, a backend without a [`Snapshot`] gets a plain message
//! instead of the table views.

use std::collections::VecDeque;
use std::time::Duration;

use slotscope_table::{Allocator, Geometry, Snapshot, Variant};

/// The three table operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// A lookup by key.
    Lookup,
    /// An insert (takes an id from the ring).
    Insert,
    /// A remove (returns the next id to the ring).
    Remove,
}

impl Op {
    /// All operations, in the order tables list them.
    pub const ALL: [Op; 3] = [Op::Lookup, Op::Insert, Op::Remove];

    /// Lower-case name.
    pub const fn name(self) -> &'static str {
        match self {
            Op::Lookup => "lookup",
            Op::Insert => "insert",
            Op::Remove => "remove",
        }
    }

    /// Position in [`Op::ALL`] (and in every `[_; 3]` indexed by operation).
    pub const fn index(self) -> usize {
        match self {
            Op::Lookup => 0,
            Op::Insert => 1,
            Op::Remove => 2,
        }
    }
}

/// Writes per cache line of one array (slots or ring) during the last sample interval.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LineWrites {
    /// Writes (stores, CAS, read-modify-writes) per line, by line index. May be shorter than
    /// the array (or empty): missing lines read as 0.
    pub writes: Vec<u32>,
    /// How many distinct threads wrote each line in the interval (saturating at 255), by line
    /// index. Missing lines read as 0.
    pub writers: Vec<u8>,
    /// How much each line was shared in the interval: the line transfers expected if the
    /// threads' writes had interleaved independently ([`expected_transfers`]), by line index.
    /// Missing lines read as 0.
    pub transfers: Vec<f32>,
}

/// The line transfers expected from `n` writes to one line by threads with write counts
/// `n_i` (`sum_sq` = the sum of `n_i^2`), if the writes interleaved independently: each write
/// after the first moves the line when its writer differs from the previous one, which
/// happens with probability `1 - sum p_i^2` (`p_i = n_i / n`), so about `n (1 - sum p_i^2)`
/// = `n - sum_sq / n` transfers. 0 for a line written by one thread; `n/2` for two threads
/// writing equally.
///
/// Its bias: real threads write in runs (a thread's next op often lands on the line it just
/// wrote, and a core keeps the line across a run), so the true count is lower, down to one
/// transfer per run; and reads that miss are not counted at all. It is an upper bound on the
/// write-caused transfers, and a fair one to rank lines by, which is what the map does.
// Display only: f64 keeps the digits shown.
#[allow(clippy::cast_precision_loss)]
pub fn expected_transfers(n: u64, sum_sq: u64) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let n = n as f64;
    (n - sum_sq as f64 / n).max(0.0)
}

/// Maps a line's expected transfers (how much it is shared, see
/// [`crate::model::expected_transfers`]) to a level in bands of a factor of two below the most
/// shared line: level [`crate::theme::HEAT_LEVELS`] holds the lines within 2x of the top, the next level
/// those within 4x, and so on; level 1 everything shared but more than 2^6 times below the
/// top; 0 lines not shared at all. Auto-ranged to each interval, so the classes separate the
/// lines at 1 k ops/s and at 100 M: the top class only ever holds lines whose rates are within
/// 2x of each other.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ShareScale {
    max: f32,
}

impl ShareScale {
    /// The scale for a most shared line of `max` expected transfers.
    pub fn new(max: f32) -> ShareScale {
        ShareScale { max }
    }

    /// 0 for an unshared line, else 1 ..= [`crate::theme::HEAT_LEVELS`].
    #[inline]
    pub fn level(&self, transfers: f32) -> u8 {
        if transfers <= 0.0 || self.max <= 0.0 {
            return 0;
        }
        let mut bound = self.max / 2.0;
        let mut level = crate::theme::HEAT_LEVELS;
        while level > 1 && transfers < bound {
            bound /= 2.0;
            level -= 1;
        }
        level
    }
}

impl LineWrites {
    /// Zeroes both vectors at length `lines`, keeping their memory (call before refilling).
    pub fn reset(&mut self, lines: usize) {
        self.writes.clear();
        self.writes.resize(lines, 0);
        self.writers.clear();
        self.writers.resize(lines, 0);
        self.transfers.clear();
        self.transfers.resize(lines, 0.0);
    }

    /// The expected transfers of `line` in the interval (0 when not given).
    #[inline]
    pub fn transfers(&self, line: usize) -> f32 {
        self.transfers.get(line).copied().unwrap_or(0.0)
    }

    /// The largest expected transfers of any line.
    pub fn max_transfers(&self) -> f32 {
        self.transfers.iter().copied().fold(0.0, f32::max)
    }

    /// The sum of every line's expected transfers.
    pub fn total_transfers(&self) -> f64 {
        self.transfers.iter().map(|&t| f64::from(t)).sum()
    }

    /// The `k` lines with the most expected transfers (above 0), most first (ties: lower
    /// line first). One pass keeping the best `k` so far: a frame at 2^20 slots has 131072
    /// lines, and sorting them all would cost more than drawing the screen.
    pub fn top_shared(&self, k: usize) -> Vec<usize> {
        let mut top: Vec<(f32, usize)> = Vec::with_capacity(k + 1);
        for (line, &t) in self.transfers.iter().enumerate() {
            if k == 0 || t <= 0.0 || (top.len() == k && t <= top[k - 1].0) {
                continue;
            }
            let at = top.partition_point(|&(u, _)| u >= t);
            top.insert(at, (t, line));
            top.truncate(k);
        }
        top.into_iter().map(|(_, l)| l).collect()
    }

    /// Writes to `line` (0 when not given).
    #[inline]
    pub fn writes(&self, line: usize) -> u32 {
        self.writes.get(line).copied().unwrap_or(0)
    }

    /// Distinct writers of `line` (0 when not given).
    #[inline]
    pub fn writers(&self, line: usize) -> u8 {
        self.writers.get(line).copied().unwrap_or(0)
    }

    /// The largest write count of any line.
    pub fn max_writes(&self) -> u32 {
        self.writes.iter().copied().max().unwrap_or(0)
    }
}

/// Where the threads wrote during the last sample interval: the heat and the sharing marks
/// of the maps, the hottest lines, the header line's update rate.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LineHeat {
    /// False when the workers run without contention probes: the maps then show states
    /// without heat and say so.
    pub measured: bool,
    /// Length of the interval in ns (turns counts into rates); 0 if unknown.
    pub interval_ns: u64,
    /// Slot-array lines (index as `Geometry::line_of_slot`).
    pub slots: LineWrites,
    /// Ring lines (index as `Geometry::ring_line_of_cell`).
    pub ring: LineWrites,
    /// Writes to the header line (`count` and both cursors) in the interval.
    pub header_writes: u64,
    /// Distinct threads that wrote the header line in the interval.
    pub header_writers: u8,
    /// The header line's expected transfers in the interval ([`expected_transfers`]).
    pub header_transfers: f64,
}

impl LineHeat {
    /// `count` events in the interval as a rate per second, if the interval is known.
    // Display only: f64 keeps the three digits shown.
    #[allow(clippy::cast_precision_loss)]
    pub fn per_second(&self, count: u64) -> Option<f64> {
        (self.interval_ns > 0).then(|| count as f64 * 1e9 / self.interval_ns as f64)
    }
}

/// Who wrote one line in the last interval: the detail panel of the selected line. The app
/// fills it only for the line under the cursor (its model knows which one).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineActivity {
    /// The slot-array line this describes; the detail panel ignores it for another line.
    pub line: usize,
    /// `(thread index, writes)` for each thread that wrote the line, any order.
    pub writers: Vec<(u32, u32)>,
    /// Failed compare-and-swaps on this line in the interval, if the probes count them.
    pub cas_failures: Option<u64>,
}

/// One worker thread's counters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ThreadRow {
    /// The thread's index (as in `T3`).
    pub index: u32,
    /// Its group, an index into [`ThreadTable::groups`].
    pub group: u16,
    /// The core it is pinned to; `None` when unpinned.
    pub core: Option<u32>,
    /// Operations per second over the last interval.
    pub ops_per_s: f64,
    /// Lookups since the start (or the last stats reset).
    pub lookups: u64,
    /// Inserts since the start.
    pub inserts: u64,
    /// Removes since the start.
    pub removes: u64,
    /// Lookups that found their element.
    pub hits: u64,
    /// Lookups that found nothing.
    pub misses: u64,
    /// Inserts that met a RESERVED ring cell and took another ticket.
    pub ticket_skips: u64,
    /// Removes that found their ring cell busy and retried.
    pub ring_retries: u64,
    /// Inserts refused because the table was full.
    pub full_refusals: u64,
    /// Lookups and removes whose key was stale (its slot reused) and was rejected.
    pub stale_rejections: u64,
    /// Self-check violations (a live key not found, a removed key found, ...).
    pub violations: u64,
}

/// Every worker thread and the group names they refer to.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ThreadTable {
    /// Group names, indexed by [`ThreadRow::group`].
    pub groups: Vec<String>,
    /// One row per thread, in index order.
    pub rows: Vec<ThreadRow>,
}

impl ThreadTable {
    /// The name of group `g` (`?` if out of range).
    pub fn group_name(&self, g: u16) -> &str {
        self.groups.get(usize::from(g)).map_or("?", String::as_str)
    }

    /// Sum of all threads' ops/s.
    pub fn total_ops_per_s(&self) -> f64 {
        self.rows.iter().map(|r| r.ops_per_s).sum()
    }

    /// Sum of all threads' violations.
    pub fn violations(&self) -> u64 {
        self.rows.iter().map(|r| r.violations).sum()
    }
}

/// Latency percentiles of one operation over one span, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Percentiles {
    /// Operations timed (0: no data; the row shows dashes).
    pub count: u64,
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
    /// Largest value seen.
    pub max: u64,
}

impl Percentiles {
    /// The six values in column order: p50, p90, p99, p99.9, p99.99, max.
    pub fn values(&self) -> [u64; 6] {
        [self.p50, self.p90, self.p99, self.p999, self.p9999, self.max]
    }

    /// Column headings matching [`Percentiles::values`].
    pub const LABELS: [&'static str; 6] = ["p50", "p90", "p99", "p99.9", "p99.99", "max"];
}

/// One point of a percentile spectrum: `value_ns` is the latency at `percentile`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SpectrumPoint {
    /// 0.0 ..= 100.0.
    pub percentile: f64,
    /// Latency at that percentile, ns.
    pub value_ns: u64,
}

/// Latency of one operation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OpLatency {
    /// The last interval (coordinated-omission corrected in open loop).
    pub interval: Percentiles,
    /// The whole run (corrected in open loop).
    pub run: Percentiles,
    /// Open loop only: the last interval measured from the actual start (service time).
    pub interval_uncorrected: Percentiles,
    /// Open loop only: the whole run, uncorrected.
    pub run_uncorrected: Percentiles,
    /// Whole-run spectrum, ascending percentiles (as HdrHistogram's iterator gives them).
    pub spectrum: Vec<SpectrumPoint>,
    /// Open loop: the whole run's service-time spectrum, under the corrected one (empty in
    /// closed loop, where `spectrum` is the service time).
    pub spectrum_uncorrected: Vec<SpectrumPoint>,
}

/// One thread group's latency (with two or more groups): its ops as [`LatencyStats::ops`] has
/// them, without spectra; `interval_uncorrected` and `run_uncorrected` are its service times
/// where the group runs open loop.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupLatency {
    /// The group's name.
    pub name: String,
    /// By [`Op::index`].
    pub ops: [OpLatency; 3],
}

/// Latency of every operation, and how it was measured.
#[derive(Clone, Debug, PartialEq)]
pub struct LatencyStats {
    /// Open loop (a target rate): the main figures are corrected for coordinated omission and
    /// the uncorrected ones are shown too.
    pub open_loop: bool,
    /// By operation, indexed by [`Op::index`].
    pub ops: [OpLatency; 3],
    /// Per thread group, with two or more groups (empty with one: `ops` is its).
    pub groups: Vec<GroupLatency>,
    /// One operation in this many is timed (1 = every one).
    pub timed_every: u32,
    /// What one clock read costs, ns (shown so that sub-10 ns figures are read with care).
    pub timer_cost_ns: f64,
    /// Below this a percentile is not resolved and shows as `<X` (0: no floor).
    pub floor_ns: f64,
    /// The engine's own cost per op, ns, measured at start (`None`: not measured).
    pub overhead_ns: Option<f64>,
}

impl Default for LatencyStats {
    fn default() -> Self {
        LatencyStats {
            open_loop: false,
            ops: Default::default(),
            groups: Vec::new(),
            timed_every: 1,
            timer_cost_ns: 0.0,
            floor_ns: 0.0,
            overhead_ns: None,
        }
    }
}

impl LatencyStats {
    /// The latency of `op`.
    pub fn op(&self, op: Op) -> &OpLatency {
        &self.ops[op.index()]
    }
}

/// A bounded history of one value per sample, oldest first. Pushing past the capacity drops
/// the oldest value; no allocation after the first fill.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Series {
    values: VecDeque<u64>,
    capacity: usize,
}

/// Samples kept by [`Series::default`]: enough for the widest sparkline of a 300-column
/// terminal.
pub const SERIES_CAPACITY: usize = 300;

impl Default for Series {
    fn default() -> Self {
        Series::with_capacity(SERIES_CAPACITY)
    }
}

impl Series {
    /// An empty series keeping at most `capacity` (at least 1) values.
    pub fn with_capacity(capacity: usize) -> Series {
        let capacity = capacity.max(1);
        Series { values: VecDeque::with_capacity(capacity), capacity }
    }

    /// A series holding `values` (oldest first); keeps the newest if there are too many.
    pub fn from_values(capacity: usize, values: impl IntoIterator<Item = u64>) -> Series {
        let mut s = Series::with_capacity(capacity);
        for v in values {
            s.push(v);
        }
        s
    }

    /// Appends the newest value.
    pub fn push(&mut self, value: u64) {
        if self.values.len() == self.capacity {
            self.values.pop_front();
        }
        self.values.push_back(value);
    }

    /// Forgets every value (after a stats reset).
    pub fn clear(&mut self) {
        self.values.clear();
    }

    /// Values held.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether no value is held.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The newest value.
    pub fn last(&self) -> Option<u64> {
        self.values.back().copied()
    }

    /// The newest `n` values (or fewer), oldest first.
    pub fn tail(&self, n: usize) -> impl ExactSizeIterator<Item = u64> + DoubleEndedIterator + '_ {
        self.values.iter().skip(self.values.len().saturating_sub(n)).copied()
    }

    /// The largest of the newest `n` values (0 if none).
    pub fn max_of_tail(&self, n: usize) -> u64 {
        self.tail(n).max().unwrap_or(0)
    }
}

/// Per-sample histories for the sparklines and the p99-over-time chart. Every series gets one
/// value per sample, so they line up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeline {
    /// Time between samples (labels the time axis); zero if unknown.
    pub sample_period: Duration,
    /// All threads' operations per second.
    pub ops_per_s: Series,
    /// Ticket skips per second.
    pub ticket_skips_per_s: Series,
    /// Ring-push retries per second.
    pub ring_retries_per_s: Series,
    /// Header-line writes per second.
    pub header_writes_per_s: Series,
    /// Interval p99 per operation (ns), indexed by [`Op::index`].
    pub p99_ns: [Series; 3],
}

/// One sample's point on the charts (view 8).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChartPoint {
    /// Run time at the end of the sample's interval.
    pub at: Duration,
    /// Operations per second of each thread group in the interval, in [`ThreadTable::groups`]
    /// order.
    pub group_ops_per_s: Vec<f64>,
    /// Per operation ([`Op::index`]): the interval's p50, p99 and max in ns, corrected from
    /// intended start in open loop; `None` when nothing of the kind was timed.
    pub latency: [Option<[u64; 3]>; 3],
}

/// The charts' history: one [`ChartPoint`] per sample over the last [`HISTORY_SPAN`], oldest
/// first. Frames do not copy it: a frozen frame shows the points up to its own time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    points: VecDeque<ChartPoint>,
    /// The thread groups' names, for the throughput chart's legend.
    pub groups: Vec<String>,
}

/// How far back the charts' history goes: the widest time window (10 min).
pub const HISTORY_SPAN: Duration = Duration::from_secs(600);

impl History {
    /// An empty history (for a replay, which has no samples to chart).
    pub const fn new() -> History {
        History { points: VecDeque::new(), groups: Vec::new() }
    }

    /// Appends the newest point and drops those older than [`HISTORY_SPAN`] before it. A
    /// point earlier than the newest (a new run's clock) starts the history over.
    pub fn push(&mut self, point: ChartPoint) {
        if self.points.back().is_some_and(|b| point.at < b.at) {
            self.points.clear();
        }
        while self.points.front().is_some_and(|f| point.at.saturating_sub(f.at) > HISTORY_SPAN) {
            self.points.pop_front();
        }
        self.points.push_back(point);
    }

    /// Points held.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether no point is held.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The points with `from <= at <= to`, oldest first.
    pub fn between(&self, from: Duration, to: Duration) -> impl Iterator<Item = &ChartPoint> + '_ {
        let start = self.points.partition_point(|p| p.at < from);
        self.points.range(start..).take_while(move |p| p.at <= to)
    }
}

/// A set of cores that share a cache (or a NUMA node): what `--pin scatter` spreads over.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CoreDomain {
    /// How the app names it, e.g. `L3 #0` or `node 1 · L3 #2`.
    pub name: String,
    /// Its cores (OS ids), ascending.
    pub cores: Vec<u32>,
}

/// The machine's cores as the pinning sees them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Topology {
    /// Cache domains, in OS order; one domain holding every core where none are known.
    pub domains: Vec<CoreDomain>,
    /// The core left for the UI and sampler, if one was.
    pub ui_core: Option<u32>,
}

impl Topology {
    /// The domain that holds `core`, if any.
    pub fn domain_of(&self, core: u32) -> Option<&CoreDomain> {
        self.domains.iter().find(|d| d.cores.contains(&core))
    }
}

/// The run as a whole: what the header bar shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HeaderInfo {
    /// Scenario name (or file name).
    pub scenario: String,
    /// Current phase of the timeline; empty when the scenario has none.
    pub phase: String,
    /// Time since the start.
    pub elapsed: Duration,
    /// Planned length of the run; `None` = until quit.
    pub duration: Option<Duration>,
    /// All threads' operations per second over the last interval.
    pub ops_per_s: f64,
    /// Worker threads running.
    pub threads: u32,
    /// Elements held (any backend).
    pub len: u64,
    /// Capacity (any backend; 0 if unbounded).
    pub capacity: u64,
    /// The backend's name (`slotscope`, `ptab`, `dashmap`, ...).
    pub backend: String,
    /// Our table's shape; `None` for other backends.
    pub geometry: Option<Geometry>,
    /// Our table's variant: a broken one is labelled loudly.
    pub variant: Variant,
    /// Our table's allocator: magazines are named beside the layout.
    pub allocator: Allocator,
    /// What sampling costs the workers, as a share of their time in percent (estimated by the
    /// engine); `None` if unknown.
    pub sampler_cost_pct: Option<f64>,
    /// The view is frozen (workers run on).
    pub frozen: bool,
    /// The run has ended: its last frames stay on screen, the keys that steer workers are
    /// gone from the footer, and an ENDED badge says so.
    pub ended: bool,
    /// The workers are paused.
    pub paused: bool,
    /// Self-check violations so far (any non-zero count is shown loudly).
    pub violations: u64,
    /// The machine under the run, as the engine watches it.
    pub machine: MachineState,
}

/// Noise on the worker cores and the line-transfer cost between them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MachineState {
    /// `Some(true)`: other processes or steal took more than the threshold (a NOISY badge);
    /// `Some(false)`: below it; `None`: unknown (no reading yet, or no `/proc/stat` view).
    pub noisy: Option<bool>,
    /// Other processes + steal on the worker cores, run average, cores.
    pub noise_cores: f64,
    /// One line transfer between two worker cores, ns (latest measurement).
    pub transfer_ns: Option<f64>,
    /// The transfer cost moved more than the engine's threshold since the start.
    pub transfer_changed: bool,
    /// The engine's overhead per op, measured at start, ns.
    pub overhead_ns: Option<f64>,
}

/// Everything a frame draws from, borrowed from the app for one draw.
#[derive(Clone, Copy, Debug)]
pub struct Inputs<'a> {
    /// The run.
    pub header: &'a HeaderInfo,
    /// The table's last snapshot; `None` for backends that have none.
    pub snapshot: Option<&'a Snapshot>,
    /// Per-line writes in the last interval.
    pub heat: &'a LineHeat,
    /// Writers of the selected line, if the app has them.
    pub line_activity: Option<&'a LineActivity>,
    /// Per-thread counters.
    pub threads: &'a ThreadTable,
    /// Latency percentiles.
    pub latency: &'a LatencyStats,
    /// Histories.
    pub timeline: &'a Timeline,
    /// The charts' history (points past [`HeaderInfo::elapsed`] are not drawn: a frozen
    /// frame shows its own past).
    pub history: &'a History,
    /// Cores and cache domains.
    pub topology: &'a Topology,
}

/// A live number with its name: under a lesson step's narration, in the presenter's panel.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Figure {
    /// What it is ("ops/s", "p99 insert").
    pub label: String,
    /// The number, formatted.
    pub value: String,
    /// A few words after it ("A: linear", "of 128 lines"); may be empty.
    pub note: String,
    /// Draw it loudly (violations, a held pin).
    pub alarm: bool,
}

/// What a lesson step says, and where the lesson is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Narration {
    /// The lesson's title.
    pub lesson: String,
    /// The step shown, from 1.
    pub step: usize,
    /// Steps in the lesson.
    pub steps: usize,
    /// The step's title.
    pub title: String,
    /// The narration; blank lines separate paragraphs, single newlines are spaces.
    pub say: String,
    /// A question for the room.
    pub ask: Option<String>,
    /// Live figures to watch.
    pub figures: Vec<Figure>,
}

/// What slotscope concludes about a line from its counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Several threads write different slots of one line.
    FalseSharing,
    /// Several threads write the same slot (or counter) of one line.
    TrueSharing,
    /// The header line: counters every insert and remove updates.
    HotCounter,
    /// Written by one thread only.
    Private,
    /// Hardly written.
    #[default]
    Quiet,
    /// No per-line counts (probes off, another backend).
    Unmeasured,
}

impl Verdict {
    /// The name as the panel shows it.
    pub const fn name(self) -> &'static str {
        match self {
            Verdict::FalseSharing => "false sharing",
            Verdict::TrueSharing => "true sharing",
            Verdict::HotCounter => "hot counter",
            Verdict::Private => "private",
            Verdict::Quiet => "quiet",
            Verdict::Unmeasured => "not measured",
        }
    }
}

/// The "explain this line" panel's content, in plain words (made by the app from the
/// measured counters).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Explanation {
    /// What is explained: "line 12 · slots 96–103" or "header line".
    pub subject: String,
    /// The diagnosis.
    pub verdict: Verdict,
    /// One sentence that says it ("written by 2 threads in the last second: false sharing").
    pub headline: String,
    /// Measured facts, one per row: (label, value).
    pub facts: Vec<(String, String)>,
    /// Why, in a few sentences.
    pub because: String,
    /// The change to try, if any ("press L: the interleaved layout ...").
    pub try_this: Option<String>,
    /// `(thread index, writes)` in the window, heaviest first.
    pub writers: Vec<(u32, u32)>,
    /// The window the writes cover, in words ("last 1.0 s").
    pub window: String,
}

/// One row of the A/B split's delta: a measure on each side and how B compares.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delta {
    /// What is compared.
    pub label: String,
    /// Side A's value, formatted.
    pub a: String,
    /// Side B's value, formatted.
    pub b: String,
    /// B against A ("+58%", "2.1x", "="); empty when either is missing.
    pub change: String,
    /// Whether B is better (`Some(true)`), worse, or neither/unknown.
    pub b_better: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_is_bounded_and_ordered() {
        let mut s = Series::with_capacity(3);
        assert!(s.is_empty());
        for v in 1..=5 {
            s.push(v);
        }
        assert_eq!(s.len(), 3);
        assert_eq!(s.tail(10).collect::<Vec<_>>(), [3, 4, 5]);
        assert_eq!(s.tail(2).collect::<Vec<_>>(), [4, 5]);
        assert_eq!(s.last(), Some(5));
        assert_eq!(s.max_of_tail(2), 5);
        s.clear();
        assert_eq!(s.max_of_tail(2), 0);
        assert_eq!(Series::from_values(2, [7, 8, 9]).tail(5).collect::<Vec<_>>(), [8, 9]);
    }

    #[test]
    fn top_shared_keeps_the_largest_in_order() {
        let w = LineWrites { transfers: vec![0.0, 5.0, 9.0, 5.0, 1.0, 9.0, 0.5], ..LineWrites::default() };
        assert_eq!(w.top_shared(3), [2, 5, 1], "ties: the lower line first");
        assert_eq!(w.top_shared(10), [2, 5, 1, 3, 4, 6], "only lines shared at all");
        assert!(w.top_shared(0).is_empty());
        assert!((expected_transfers(9, 45) - 4.0).abs() < 1e-9, "6 and 3 writes: 9 - 45/9");
        assert!((expected_transfers(10, 50) - 5.0).abs() < 1e-9, "two equal writers: n/2");
        assert!(expected_transfers(7, 49).abs() < 1e-9, "one writer: no transfer");
        assert!(expected_transfers(0, 0).abs() < 1e-9);
    }

    #[test]
    fn short_line_vectors_read_as_zero() {
        let mut w = LineWrites { writes: vec![5], writers: vec![2], ..LineWrites::default() };
        assert_eq!((w.writes(0), w.writers(0)), (5, 2));
        assert_eq!((w.writes(9), w.writers(9)), (0, 0));
        w.reset(4);
        assert_eq!(w.writes, [0; 4]);
        assert_eq!(w.max_writes(), 0);
    }

    #[test]
    fn rates_need_an_interval() {
        let mut h = LineHeat::default();
        assert_eq!(h.per_second(10), None);
        h.interval_ns = 500_000_000;
        assert_eq!(h.per_second(10), Some(20.0));
    }
}
