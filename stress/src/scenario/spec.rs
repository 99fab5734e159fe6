//! What a run is, fully resolved: the plain data that a scenario file (or a built-in
//! scenario, plus command-line overrides) turns into, and that the engine runs.
//!
//! Everything here is validated before it gets here (see `scenario`); the engine may rely on
//! the documented ranges.

use std::time::Duration;

use slotscope_table::{Allocator, Layout, Variant};

/// Which table implementation the workers drive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// Our table (`slotscope-table`), in any layout and variant. The only one with snapshots.
    #[default]
    Slotscope,
    /// The `ptab` crate 0.1.7 (compile-time capacity; we build a few fixed sizes).
    Ptab,
    /// `RwLock<HashMap<u64, Arc<V>>>`.
    RwLockHashMap,
    /// `dashmap::DashMap<u64, V>`.
    DashMap,
    /// Copy-on-write `HashMap` behind `arc_swap::ArcSwap` (RCU).
    RcuHashMap,
    /// `sharded_slab::Slab<V>`.
    ShardedSlab,
}

impl BackendKind {
    /// Every backend, ours first.
    pub const ALL: [BackendKind; 6] = [
        BackendKind::Slotscope,
        BackendKind::Ptab,
        BackendKind::RwLockHashMap,
        BackendKind::DashMap,
        BackendKind::RcuHashMap,
        BackendKind::ShardedSlab,
    ];

    /// The name used on the command line and in files.
    pub const fn name(self) -> &'static str {
        match self {
            BackendKind::Slotscope => "slotscope",
            BackendKind::Ptab => "ptab",
            BackendKind::RwLockHashMap => "rwlock-hashmap",
            BackendKind::DashMap => "dashmap",
            BackendKind::RcuHashMap => "rcu-hashmap",
            BackendKind::ShardedSlab => "sharded-slab",
        }
    }

    /// Parses a name of [`BackendKind::name`].
    pub fn from_name(name: &str) -> Option<BackendKind> {
        BackendKind::ALL.into_iter().find(|b| b.name() == name)
    }
}

/// The table under test.
#[derive(Clone, Debug, PartialEq)]
pub struct TableSpec {
    /// Which implementation.
    pub backend: BackendKind,
    /// Slots asked for (our table rounds up to a power of two, 16 ..= 2^27).
    pub capacity: usize,
    /// Layout of our table (ignored by other backends).
    pub layout: Layout,
    /// Line size our table lays out for: 64 or 128 (ignored by other backends).
    pub line_bytes: usize,
    /// Variant of our table; anything but `Correct` is broken on purpose.
    pub variant: Variant,
    /// How our table hands out free ids: the ring (default) or per-writer magazines.
    pub allocator: Allocator,
    /// Fraction of the capacity inserted before the clock starts, 0.0 ..= 1.0.
    pub prefill: f64,
}

impl Default for TableSpec {
    fn default() -> Self {
        TableSpec {
            backend: BackendKind::Slotscope,
            capacity: 1 << 16,
            layout: Layout::Interleaved,
            line_bytes: 64,
            variant: Variant::Correct,
            allocator: Allocator::Ring,
            prefill: 0.5,
        }
    }
}

/// Relative weights of the three operations (not all zero).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Mix {
    /// Weight of lookups.
    pub lookup: u32,
    /// Weight of inserts.
    pub insert: u32,
    /// Weight of removes.
    pub remove: u32,
}

impl Mix {
    /// conc-map-bench's ReadHeavy: 98 / 1 / 1.
    pub const READ_HEAVY: Mix = Mix { lookup: 98, insert: 1, remove: 1 };
    /// Exchange-like: 10 / 45 / 45.
    pub const EXCHANGE: Mix = Mix { lookup: 10, insert: 45, remove: 45 };
    /// Churn: 0 / 50 / 50.
    pub const CHURN: Mix = Mix { lookup: 0, insert: 50, remove: 50 };

    /// Sum of the weights.
    pub const fn total(self) -> u32 {
        self.lookup + self.insert + self.remove
    }
}

/// How lookups choose among the keys a thread holds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KeyChoice {
    /// Every held key equally likely.
    Uniform,
    /// Zipf over the held keys, exponent `s > 0`. Ranks are positions in the thread's list of
    /// held keys (rank 1 = position 0, the oldest key until it is removed; a remove moves the
    /// newest key into the gap).
    Zipf {
        /// The exponent.
        s: f64,
    },
    /// A share of lookups goes to a small hot set of held keys.
    HotSet {
        /// Keys in the hot set (per thread).
        keys: usize,
        /// Fraction of lookups that target the hot set, 0.0 ..= 1.0.
        share: f64,
    },
}

/// Which held key a remove takes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RemoveOrder {
    /// Any held key, uniformly (the default): over time the free ring holds ids in random
    /// order.
    #[default]
    Random,
    /// The key held longest (keys live about equally long, like processes that exit in the
    /// order they started): freed ids go back to the ring in about the order they were handed
    /// out, so the ids handed out next stay consecutive and the layout shows.
    Oldest,
}

impl RemoveOrder {
    /// The name used in lesson files.
    pub const fn name(self) -> &'static str {
        match self {
            RemoveOrder::Random => "random",
            RemoveOrder::Oldest => "oldest",
        }
    }

    /// Parses a name of [`RemoveOrder::name`].
    pub fn from_name(name: &str) -> Option<RemoveOrder> {
        [RemoveOrder::Random, RemoveOrder::Oldest].into_iter().find(|o| o.name() == name)
    }
}

/// A periodic stall injected into a worker, for teaching coordinated omission: every `every`
/// the worker sleeps for `pause` *inside* its next timed operation, as if the thread had been
/// descheduled or the process stopped (a GC, a page fault storm) in the middle of serving it.
/// That op's service time includes the stall; in open loop, the ops that were due during the
/// stall start late and their corrected latency counts the wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Hiccup {
    /// Time between the starts of two stalls (more than zero).
    pub every: Duration,
    /// How long each stall lasts (less than `every`).
    pub pause: Duration,
}

/// Where a group's threads run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum PinPolicy {
    /// Not pinned: the OS schedules.
    None,
    /// Thread i on the i-th allowed core, filling one cache domain before the next.
    #[default]
    Compact,
    /// Round-robin over cache (L3) / NUMA domains read from `/sys` where present.
    Scatter,
    /// Exactly these cores, thread i on `cores[i % len]`.
    Cores(Vec<usize>),
}

/// A group of threads that share a mix, key choice and rate.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupSpec {
    /// Unique within the run; phases refer to groups by name.
    pub name: String,
    /// Threads at the start, >= 0 (a group may start empty and be grown by a phase); the run
    /// as a whole has at least one thread.
    pub threads: usize,
    /// Operation weights.
    pub mix: Mix,
    /// How lookups choose keys.
    pub keys: KeyChoice,
    /// Fraction of lookups aimed at keys this thread removed earlier (they must miss),
    /// 0.0 ..= 1.0.
    pub stale_share: f64,
    /// Open loop at this many ops/s per thread; `None` = closed loop (as fast as possible).
    pub rate: Option<f64>,
    /// Where the group's threads run.
    pub pin: PinPolicy,
    /// Each thread keeps at most this many keys: an insert beyond it also removes the
    /// thread's oldest key (a FIFO: ids come back to the ring in the order they went out, so
    /// the ids handed out next stay consecutive). `None`: no limit.
    pub keep: Option<usize>,
}

impl Default for GroupSpec {
    fn default() -> Self {
        GroupSpec {
            name: "main".to_owned(),
            threads: 2,
            mix: Mix::READ_HEAVY,
            keys: KeyChoice::Uniform,
            stale_share: 0.0,
            rate: None,
            pin: PinPolicy::Compact,
            keep: None,
        }
    }
}

/// A change on the timeline: at `at`, group `group` takes the given values. With `ramp`, the
/// rate (and thread count) move linearly from the old to the new value over that long.
#[derive(Clone, Debug, PartialEq)]
pub struct PhaseSpec {
    /// Time since the start of the run.
    pub at: Duration,
    /// The group it changes (must exist).
    pub group: String,
    /// New mix, if any.
    pub mix: Option<Mix>,
    /// New rate, if any: `Some(None)` switches to closed loop.
    pub rate: Option<Option<f64>>,
    /// New thread count, if any.
    pub threads: Option<usize>,
    /// Spread the change over this long instead of applying it at once.
    pub ramp: Option<Duration>,
}

/// When a run ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopSpec {
    /// After this long (the TUI default is to run until quit: `Forever`).
    Duration(Duration),
    /// After every thread did exactly this many operations (deterministic op streams).
    Ops(u64),
    /// Until stopped from outside (the TUI).
    Forever,
}

/// A whole run, resolved and validated.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    /// Scenario name (built-in name, or the file stem).
    pub name: String,
    /// One line saying what the scenario shows.
    pub description: String,
    /// The table under test.
    pub table: TableSpec,
    /// Thread groups, in order; global thread indices are assigned group by group.
    pub groups: Vec<GroupSpec>,
    /// Timeline changes, sorted by `at`.
    pub phases: Vec<PhaseSpec>,
    /// If set, the timeline repeats: the phases happen at `at`, `at + cycle`, `at + 2 * cycle`,
    /// ... (every phase has `at < cycle`, and a ramp ends within its cycle). `None`: once.
    pub cycle: Option<Duration>,
    /// When to stop.
    pub stop: StopSpec,
    /// The seed every thread's op stream derives from.
    pub seed: u64,
    /// Time 1 op in this many (1 = every op); [`TIME_EVERY_AUTO`] (the default): chosen at
    /// start so that the clock costs at most 2% of the loop (`crate::engine::calibration`).
    pub time_every: u32,
    /// Keep one core free of workers for the UI/sampler.
    pub spare_core: bool,
    /// Contention probes on our table (ticket skips, ring retries, per-line write heat).
    /// Default on; off measures the table without instrumentation. Other backends have none.
    pub probes: bool,
    /// Length of one interval of the per-thread time series in reports (CSV, hlog).
    /// Default 1 s; more than zero.
    pub series_interval: Duration,
    /// The scenario text this came from (TOML), kept for reports and recordings.
    pub source: String,
}

/// `time_every` chosen at start (`time_every = "auto"`).
pub const TIME_EVERY_AUTO: u32 = 0;

impl Default for RunSpec {
    fn default() -> Self {
        RunSpec {
            name: "custom".to_owned(),
            description: String::new(),
            table: TableSpec::default(),
            groups: vec![GroupSpec::default()],
            phases: Vec::new(),
            cycle: None,
            stop: StopSpec::Duration(Duration::from_secs(10)),
            seed: 0x5107_5c09e,
            time_every: TIME_EVERY_AUTO,
            spare_core: false,
            probes: true,
            series_interval: Duration::from_secs(1),
            source: String::new(),
        }
    }
}

impl RunSpec {
    /// Threads at the start, over all groups.
    pub fn initial_threads(&self) -> usize {
        self.groups.iter().map(|g| g.threads).sum()
    }
}
