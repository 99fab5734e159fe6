//! The result of a run as plain, serialisable data: everything the text, JSON, CSV and hlog
//! writers need, and nothing they have to compute from live state.
//!
//! Times are nanoseconds since the run's clock started (after prefill), pauses included
//! unless a field says otherwise. Histograms are [`HistogramData`] (lossless; rebuild with
//! [`HistogramData::to_histogram`] for hlog or percentile spectra).

pub mod fail_if;
pub mod interval;
pub mod text;
pub mod verdict;

use std::time::Duration;

use serde::Serialize;

use crate::engine::check::{Balance, SnapshotCheck, ViolationLog};
use crate::engine::control::ThreadState;
pub use crate::engine::stats::{HistogramData, IntervalRecord, LatencySet, LatencySummary, OpLatencyData};
use crate::engine::timer::{nanos, TimingInfo};
use crate::machine::MachineInfo;
use crate::scenario::spec::{KeyChoice, Mix, PhaseSpec, PinPolicy, RunSpec, StopSpec};
use slotscope_trace::OpKind;
use slotscope_trace::{Counter, Counts};

/// Version of the report's shape; bumped on any incompatible change.
pub const REPORT_SCHEMA_VERSION: u32 = 3;

/// One run's results.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// [`REPORT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The slotscope-stress version that ran it.
    pub tool_version: String,
    /// The run as specified.
    pub spec: SpecEcho,
    /// The seed (also in `spec`; here for the eye).
    pub seed: u64,
    /// Generator and digest, with their versions.
    pub determinism: DeterminismInfo,
    /// The machine.
    pub machine: MachineInfo,
    /// The backend(s) driven, one per table (more than one after restarts).
    pub backends: Vec<BackendInfo>,
    /// How ops were timed.
    pub timing: TimingInfo,
    /// Wall-clock start (Unix ms) of the clock.
    pub started_unix_ms: u64,
    /// From clock start to stop, ns.
    pub wall_ns: u64,
    /// Time spent paused (and in restart prefills), ns.
    pub paused_ns: u64,
    /// Prefill asked for and reached, for the first table.
    pub prefill: PrefillReport,
    /// Per thread, by global index.
    pub threads: Vec<ThreadReport>,
    /// Per operation, over all threads.
    pub ops: Vec<OpReport>,
    /// All threads' counters summed.
    pub totals: Counts,
    /// Ops per second over the run (all threads, pauses excluded).
    pub throughput_ops_per_s: f64,
    /// Every op's mean time on its thread, timed by batch (threads' running time over their
    /// ops, ns): counts every op, not the timed sample, and includes no per-op clock read.
    pub batch_mean_ns_per_op: f64,
    /// Noise and line transfer on the worker cores while it ran (`None`: not watched).
    pub machine_watch: Option<crate::machine::watch::WatchReport>,
    /// Self-checks.
    pub checks: CheckReport,
    /// Per-interval series (per thread).
    pub series: SeriesReport,
    /// Phases and live commands applied, in order.
    pub control: Vec<ControlEvent>,
    /// Things worth knowing (e.g. more threads than cores, failed pins).
    pub warnings: Vec<String>,
    /// The command line that repeats this run with every flag resolved, set by the caller
    /// that knows the command line (the engine does not).
    pub repeat_command: Option<String>,
    /// Set when the run was cut short from outside (e.g. `SIGTERM`): the figures cover the
    /// time until then.
    pub stopped_by: Option<String>,
    /// The trace written, when the run was recorded (`run --record`).
    pub recording: Option<RecordingReport>,
}

impl Report {
    /// Whether every self-check passed (no violations).
    pub fn passed(&self) -> bool {
        self.checks.passed
    }

    /// The run's duration without pauses.
    pub fn active(&self) -> Duration {
        Duration::from_nanos(self.wall_ns.saturating_sub(self.paused_ns))
    }

    /// The thread with global index `index`.
    pub fn thread(&self, index: usize) -> Option<&ThreadReport> {
        self.threads.iter().find(|t| t.index == index)
    }

    /// The per-op summary of `kind`.
    pub fn op(&self, kind: OpKind) -> &OpReport {
        &self.ops[kind.index()]
    }
}

/// The run's spec as plain data (what the scenario resolved to).
#[derive(Clone, Debug, Serialize)]
pub struct SpecEcho {
    /// Scenario name.
    pub name: String,
    /// Its one-line description.
    pub description: String,
    /// Backend name.
    pub backend: &'static str,
    /// Capacity asked for.
    pub capacity: usize,
    /// Layout of our table.
    pub layout: &'static str,
    /// Line size of our table.
    pub line_bytes: usize,
    /// Variant of our table.
    pub variant: &'static str,
    /// Prefill fraction.
    pub prefill: f64,
    /// Thread groups.
    pub groups: Vec<GroupEcho>,
    /// Timeline.
    pub phases: Vec<PhaseEcho>,
    /// The timeline repeats every this many ns, if set.
    pub cycle_ns: Option<u64>,
    /// When it stops, e.g. `duration 10s`, `ops 100000`, `forever`.
    pub stop: String,
    /// The duration it was asked to run, ns (`None` unless it stops after a duration).
    pub duration_ns: Option<u64>,
    /// The ops each thread was asked to do (`None` unless it stops after an op count).
    pub ops_per_thread: Option<u64>,
    /// Seed.
    pub seed: u64,
    /// 1 in k ops timed.
    pub time_every: u32,
    /// Whether a core was kept free.
    pub spare_core: bool,
    /// Whether contention probes were on.
    pub probes: bool,
    /// Series interval, ns.
    pub series_interval_ns: u64,
    /// The scenario text.
    pub source: String,
}

/// A group as specified.
#[derive(Clone, Debug, Serialize)]
pub struct GroupEcho {
    /// Name.
    pub name: String,
    /// Threads at start.
    pub threads: usize,
    /// Mix as `lookup/insert/remove` weights.
    pub mix: [u32; 3],
    /// Key choice, e.g. `uniform`, `zipf s=1.1`, `hot 16 keys 90%`.
    pub keys: String,
    /// Stale share.
    pub stale_share: f64,
    /// Open-loop rate per thread, if any.
    pub rate: Option<f64>,
    /// Pin policy, e.g. `compact`, `cores 0,2`.
    pub pin: String,
}

/// A phase as specified.
#[derive(Clone, Debug, Serialize)]
pub struct PhaseEcho {
    /// When, ns since start.
    pub at_ns: u64,
    /// Group changed.
    pub group: String,
    /// New mix, if any.
    pub mix: Option<[u32; 3]>,
    /// New rate, if any (`Some(None)`: closed loop).
    pub rate: Option<Option<f64>>,
    /// New thread count, if any.
    pub threads: Option<usize>,
    /// Ramp length, ns.
    pub ramp_ns: Option<u64>,
}

/// Serialises a 64-bit value as `0x` and 16 hex digits.
pub fn hex_u64<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{v:#018x}"))
}

/// Mix weights as an array `[lookup, insert, remove]`.
pub fn mix_array(m: Mix) -> [u32; 3] {
    [m.lookup, m.insert, m.remove]
}

/// A key choice in words.
pub fn key_choice_text(k: KeyChoice) -> String {
    match k {
        KeyChoice::Uniform => "uniform".to_owned(),
        KeyChoice::Zipf { s } => format!("zipf s={s}"),
        KeyChoice::HotSet { keys, share } => format!("hot {keys} keys {}%", share * 100.0),
    }
}

/// A pin policy in words.
pub fn pin_text(p: &PinPolicy) -> String {
    match p {
        PinPolicy::None => "none".to_owned(),
        PinPolicy::Compact => "compact".to_owned(),
        PinPolicy::Scatter => "scatter".to_owned(),
        PinPolicy::Cores(list) => {
            let l: Vec<String> = list.iter().map(ToString::to_string).collect();
            format!("cores {}", l.join(","))
        }
    }
}

impl SpecEcho {
    /// The echo of `spec`.
    pub fn of(spec: &RunSpec) -> Self {
        SpecEcho {
            name: spec.name.clone(),
            description: spec.description.clone(),
            backend: spec.table.backend.name(),
            capacity: spec.table.capacity,
            layout: spec.table.layout.name(),
            line_bytes: spec.table.line_bytes,
            variant: spec.table.variant.name(),
            prefill: spec.table.prefill,
            groups: spec
                .groups
                .iter()
                .map(|g| GroupEcho {
                    name: g.name.clone(),
                    threads: g.threads,
                    mix: mix_array(g.mix),
                    keys: key_choice_text(g.keys),
                    stale_share: g.stale_share,
                    rate: g.rate,
                    pin: pin_text(&g.pin),
                })
                .collect(),
            phases: spec.phases.iter().map(PhaseEcho::of).collect(),
            cycle_ns: spec.cycle.map(nanos),
            stop: match spec.stop {
                StopSpec::Duration(d) => format!("duration {}s", d.as_secs_f64()),
                StopSpec::Ops(n) => format!("ops {n}"),
                StopSpec::Forever => "forever".to_owned(),
            },
            duration_ns: match spec.stop {
                StopSpec::Duration(d) => Some(nanos(d)),
                _ => None,
            },
            ops_per_thread: match spec.stop {
                StopSpec::Ops(n) => Some(n),
                _ => None,
            },
            seed: spec.seed,
            time_every: spec.time_every,
            spare_core: spec.spare_core,
            probes: spec.probes,
            series_interval_ns: nanos(spec.series_interval),
            source: spec.source.clone(),
        }
    }
}

impl PhaseEcho {
    fn of(p: &PhaseSpec) -> Self {
        PhaseEcho {
            at_ns: nanos(p.at),
            group: p.group.clone(),
            mix: p.mix.map(mix_array),
            rate: p.rate,
            threads: p.threads,
            ramp_ns: p.ramp.map(nanos),
        }
    }
}

/// The generator, the digest, and whether this run's streams are reproducible.
#[derive(Clone, Debug, Serialize)]
pub struct DeterminismInfo {
    /// Generator name (xoshiro256**).
    pub rng: &'static str,
    /// Version of seeding + generator + choice encoding + digest.
    pub rng_version: u32,
    /// How thread streams derive from the seed.
    pub seeding: &'static str,
    /// Digest algorithm (FNV-1a over one word per op).
    pub digest: &'static str,
    /// What the digest covers.
    pub digest_covers: &'static str,
    /// True when the per-thread digests are a function of spec + seed alone: the run stops
    /// after a fixed op count and no mix or stale share changed on a timer or by hand.
    pub reproducible: bool,
}

/// One table the run drove.
#[derive(Clone, Debug, Serialize)]
pub struct BackendInfo {
    /// Backend name.
    pub name: &'static str,
    /// Its configuration in words.
    pub description: String,
    /// Fixed capacity, if any.
    pub capacity: Option<usize>,
    /// A deliberately broken variant of our table.
    pub broken: bool,
    /// When it came into use, ns since start (0 for the first).
    pub from_ns: u64,
}

/// Prefill asked and reached.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PrefillReport {
    /// Elements asked for (fraction x capacity).
    pub asked: u64,
    /// Elements inserted.
    pub inserted: u64,
}

/// Latency of one operation kind.
#[derive(Clone, Debug, Serialize)]
pub struct OpLatencyReport {
    /// The operation.
    pub op: OpKind,
    /// Service time (start to end) of timed ops.
    pub service: LatencySummary,
    /// Its histogram.
    pub service_histogram: HistogramData,
    /// Open loop: from intended start to end.
    pub corrected: Option<LatencySummary>,
    /// Its histogram.
    pub corrected_histogram: Option<HistogramData>,
}

impl OpLatencyReport {
    /// The report of `kind` in `set`.
    pub fn of(set: &LatencySet, kind: OpKind) -> Self {
        let service = &set.service[kind.index()];
        let corrected = &set.corrected[kind.index()];
        let has_corrected = !corrected.is_empty();
        OpLatencyReport {
            op: kind,
            service: LatencySummary::of(service),
            service_histogram: HistogramData::from_histogram(service),
            corrected: has_corrected.then(|| LatencySummary::of(corrected)),
            corrected_histogram: has_corrected.then(|| HistogramData::from_histogram(corrected)),
        }
    }
}

/// One thread's results (summed over table restarts).
#[derive(Clone, Debug, Serialize)]
pub struct ThreadReport {
    /// Global index.
    pub index: usize,
    /// Group name.
    pub group: String,
    /// Core it was pinned to last (`None`: unpinned or the pin failed).
    pub core: Option<usize>,
    /// Core asked for, when pinning was asked.
    pub wanted_core: Option<usize>,
    /// How it ended.
    pub state: ThreadState,
    /// When it started running ops (ns since start).
    pub started_ns: u64,
    /// When it stopped.
    pub stopped_ns: u64,
    /// Time paused.
    pub paused_ns: u64,
    /// Counters.
    pub counts: Counts,
    /// Ops per second while running.
    pub throughput_ops_per_s: f64,
    /// Latency per operation.
    pub latency: Vec<OpLatencyReport>,
    /// Digest of the thread's choice stream (serialised as a `0x`-prefixed hex string: JSON
    /// readers that hold numbers as doubles would round a 64-bit value).
    #[serde(serialize_with = "hex_u64")]
    pub digest: u64,
    /// Choices made (ops of every kind, skipped ones included).
    pub ops_chosen: u64,
    /// Violations this thread saw.
    pub violations: u64,
    /// Successful inserts (prefill included).
    pub inserted: u64,
    /// Successful removes.
    pub removed: u64,
    /// Prefill inserts.
    pub prefilled: u64,
    /// Keys it held at the end.
    pub held_at_end: usize,
}

/// One operation over all threads.
#[derive(Clone, Debug, Serialize)]
pub struct OpReport {
    /// The operation.
    pub op: OpKind,
    /// Ops done.
    pub count: u64,
    /// Ops per second (pauses excluded).
    pub throughput_ops_per_s: f64,
    /// Latency over all threads.
    pub latency: OpLatencyReport,
}

/// One table's end-of-run checks (at quiescence).
#[derive(Clone, Debug, Serialize)]
pub struct SegmentCheck {
    /// The table, in words.
    pub backend: String,
    /// Inserts - removes against len.
    pub balance: Balance,
    /// Our table's final snapshot.
    pub snapshot: Option<SnapshotCheck>,
}

/// Self-check results.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    /// No violation anywhere.
    pub passed: bool,
    /// All violations: counted, the first few described.
    pub violations: ViolationLog,
    /// Per table.
    pub segments: Vec<SegmentCheck>,
}

/// What a recording wrote, for reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecordingReport {
    /// The trace file.
    pub path: String,
    /// Its size.
    pub bytes: u64,
    /// Op events written.
    pub events: u64,
    /// Op events dropped because a thread's buffer was full.
    pub dropped: u64,
    /// Why it ended, in words.
    pub end: &'static str,
    /// Whether `--record-limit` stopped it before the run ended.
    pub limit_reached: bool,
    /// A write error, if one stopped it.
    pub error: Option<String>,
    /// Times a worker waited for the writer because its buffer was full (lossless recording),
    /// and the time all workers waited, ns. Waits come between ops: not in any service time.
    pub waits: u64,
    pub waited_ns: u64,
    /// When a size limit stopped the recording: the limit the whole run would need.
    pub advice: Option<String>,
}

/// The per-interval series.
#[derive(Clone, Debug, Serialize)]
pub struct SeriesReport {
    /// Interval length, ns.
    pub interval_ns: u64,
    /// Records, sorted by start then thread.
    pub records: Vec<IntervalRecord>,
    /// Intervals dropped because a thread hit its cap.
    pub dropped: u64,
}

/// Something the timeline or the user changed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ControlEvent {
    /// When, ns since start (timeline time, pauses excluded).
    pub at_ns: u64,
    /// Where it came from: "phase N" or "live".
    pub source: String,
    /// What, in words (e.g. `group main mix 50/25/25`).
    pub what: String,
}

/// The latency histogram of the ops in `set` over every thread, or `None` when none of them
/// was timed. `corrected`: a thread that ran in open loop contributes its corrected latency
/// (from the intended start), a closed-loop thread its service time (the two are the same
/// thing there); otherwise every thread contributes its service time.
fn merged_latency(
    threads: &[ThreadReport],
    set: crate::report::fail_if::OpSet,
    corrected: bool,
) -> Option<hdrhistogram::Histogram<u64>> {
    use crate::report::fail_if::OpSet;
    let kinds: &[OpKind] = match set {
        OpSet::Lookup => &[OpKind::Lookup],
        OpSet::Insert => &[OpKind::Insert],
        OpSet::Remove => &[OpKind::Remove],
        OpSet::All => &OpKind::ALL,
    };
    let mut merged: Option<hdrhistogram::Histogram<u64>> = None;
    for t in threads {
        for lat in t.latency.iter().filter(|l| kinds.contains(&l.op)) {
            let data = match (&lat.corrected_histogram, corrected) {
                (Some(c), true) => c,
                _ => &lat.service_histogram,
            };
            if data.is_empty() {
                continue;
            }
            let h = data.to_histogram();
            match &mut merged {
                None => merged = Some(h),
                Some(m) => {
                    // Same bounds (both rebuilt from the engine's histograms): cannot fail.
                    let _ = m.add(&h);
                }
            }
        }
    }
    merged
}

/// Answers `--fail-if` questions from a finished run.
///
/// Latencies: a plain latency metric reads, per thread, the corrected latency (from the
/// intended start) where the thread ran in open loop and the service time where it ran in
/// closed loop; `uncorrected` reads every thread's service time, and is "not measured" when
/// no thread ran in open loop (in a closed loop there is nothing to correct). A latency of an
/// operation that was never timed is "not measured" too. The contention probes (`ticket_skips`, `ring_retries`,
/// `stale_rejections`) exist only on our table with probes on.
impl crate::report::fail_if::MetricSource for Report {
    fn resolution_floor_ns(&self) -> Option<f64> {
        Some(self.timing.floor_ns)
    }

    fn metric(&self, metric: &crate::report::fail_if::Metric) -> Option<f64> {
        use crate::report::fail_if::{LatencyStat, Metric, OpSet};
        let op_kind = |set: OpSet| match set {
            OpSet::Lookup => Some(OpKind::Lookup),
            OpSet::Insert => Some(OpKind::Insert),
            OpSet::Remove => Some(OpKind::Remove),
            OpSet::All => None,
        };
        let probed = self.spec.probes && self.backends.iter().all(|b| b.name == "slotscope");
        #[allow(clippy::cast_precision_loss)]
        let count = |c: Counter| Some(self.totals[c] as f64);
        match *metric {
            Metric::Latency { stat, op, uncorrected } => {
                let open_loop = self.ops.iter().any(|o| o.latency.corrected_histogram.is_some());
                if uncorrected && !open_loop {
                    return None;
                }
                let h = merged_latency(&self.threads, op, !uncorrected)?;
                #[allow(clippy::cast_precision_loss)]
                Some(match stat {
                    LatencyStat::Percentile(p) => h.value_at_quantile(p / 100.0) as f64,
                    LatencyStat::Mean => h.mean(),
                    LatencyStat::Min => h.min() as f64,
                    LatencyStat::Max => h.max() as f64,
                })
            }
            Metric::Throughput(set) => Some(match op_kind(set) {
                Some(k) => self.op(k).throughput_ops_per_s,
                None => self.throughput_ops_per_s,
            }),
            #[allow(clippy::cast_precision_loss)]
            Metric::Ops(set) => Some(match op_kind(set) {
                Some(k) => self.op(k).count as f64,
                None => self.totals.ops() as f64,
            }),
            #[allow(clippy::cast_precision_loss)]
            Metric::Violations => Some(self.checks.violations.count as f64),
            Metric::FullRefusals => count(Counter::InsertsRefused),
            Metric::TicketSkips if probed => count(Counter::TicketSkips),
            Metric::RingRetries if probed => count(Counter::RingRetries),
            Metric::StaleRejections if probed => count(Counter::StaleRejections),
            Metric::TicketSkips | Metric::RingRetries | Metric::StaleRejections => None,
        }
    }
}
