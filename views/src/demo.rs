//! Deterministic example inputs: a real table driven through a seeded sequence of inserts and
//! removes on one thread, plus made-up but plausible counters, latencies and histories.
//!
//! For tests, benchmarks, screenshots and the gallery example: the same [`DemoSpec`] always
//! gives the same inputs, with no clock and no threads.

use std::time::Duration;

use slotscope_table::{Geometry, Key, Layout, SlotState, Snapshot, SplitMix64, Table, Variant};

use crate::model::{
    ChartPoint, CoreDomain, GroupLatency, HeaderInfo, History, Inputs, LatencyStats, LineActivity, LineHeat,
    MachineState, OpLatency, Percentiles, SpectrumPoint, ThreadRow, ThreadTable, Timeline, Topology,
};

/// What to build.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoSpec {
    /// Slots (a power of two, 16 ..= 2^27).
    pub capacity: usize,
    /// Layout of the table.
    pub layout: Layout,
    /// 64 or 128.
    pub line_bytes: usize,
    /// Share of slots occupied after the prefill, 0.0 ..= 1.0.
    pub fill: f64,
    /// Remove-then-insert pairs after the prefill (spreads the generations).
    pub churn: usize,
    /// Worker threads.
    pub threads: u32,
    /// Open loop (adds uncorrected latencies).
    pub open_loop: bool,
    /// The table's variant.
    pub variant: Variant,
    /// Backend name; anything but `slotscope` has no snapshot.
    pub backend: String,
    /// Seed of every pseudo-random choice.
    pub seed: u64,
}

impl Default for DemoSpec {
    fn default() -> Self {
        DemoSpec {
            capacity: 1024,
            layout: Layout::Interleaved,
            line_bytes: 64,
            fill: 0.5,
            churn: 3000,
            threads: 4,
            open_loop: false,
            variant: Variant::Correct,
            backend: "slotscope".to_owned(),
            seed: 7,
        }
    }
}

/// Owned inputs for every view; [`Demo::inputs`] lends them.
#[derive(Clone, Debug)]
pub struct Demo {
    /// See [`Inputs::header`].
    pub header: HeaderInfo,
    /// See [`Inputs::snapshot`].
    pub snapshot: Option<Snapshot>,
    /// See [`Inputs::heat`].
    pub heat: LineHeat,
    /// See [`Inputs::line_activity`].
    pub activity: LineActivity,
    /// See [`Inputs::threads`].
    pub threads: ThreadTable,
    /// See [`Inputs::latency`].
    pub latency: LatencyStats,
    /// See [`Inputs::timeline`].
    pub timeline: Timeline,
    /// See [`Inputs::topology`].
    pub topology: Topology,
    /// See [`Inputs::history`].
    pub history: History,
}

/// The demo's draws: SplitMix64, reduced by `%` (the reduction the demo data was made with).
#[derive(Clone, Debug)]
struct Rng(SplitMix64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

impl Demo {
    /// Builds the inputs of `spec`. Cost is about one table operation per slot plus `churn`
    /// pairs (milliseconds at 2^20 slots).
    ///
    /// # Panics
    /// If `spec.capacity` or `spec.line_bytes` is out of range.
    pub fn build(spec: &DemoSpec) -> Demo {
        let mut rng = Rng(SplitMix64::new(spec.seed));
        let geometry = Geometry::new(spec.capacity, spec.layout, spec.line_bytes).expect("demo geometry");
        let has_table = spec.backend == "slotscope";
        let threads = spec.threads.max(1);

        let (snapshot, len) = if has_table {
            let (s, len) = table_snapshot(spec, geometry, &mut rng);
            (Some(s), len)
        } else {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
            let len = (spec.fill * geometry.capacity() as f64) as u64;
            (None, len)
        };
        let heat = snapshot.as_ref().map_or_else(LineHeat::default, |s| heat_of(s, threads, &mut rng));
        let activity = snapshot.as_ref().map_or_else(LineActivity::default, |_| activity_of(&heat, threads));
        let thread_table = thread_table(threads, &mut rng);
        let latency = latency(spec.open_loop);
        let timeline = timeline(&mut rng);
        let history = history(&timeline, &thread_table.groups);
        let topology = Topology {
            domains: vec![
                CoreDomain { name: "L3 #0".to_owned(), cores: (0..4).collect() },
                CoreDomain { name: "L3 #1".to_owned(), cores: (4..8).collect() },
            ],
            ui_core: Some(7),
        };
        let header = HeaderInfo {
            scenario: "demo".to_owned(),
            phase: "steady".to_owned(),
            elapsed: Duration::from_millis(42_500),
            duration: Some(Duration::from_secs(60)),
            ops_per_s: thread_table.total_ops_per_s(),
            threads,
            len,
            capacity: geometry.capacity() as u64,
            backend: spec.backend.clone(),
            geometry: has_table.then_some(geometry),
            variant: spec.variant,
            allocator: slotscope_table::Allocator::Ring,
            sampler_cost_pct: Some(0.8),
            frozen: false,
            ended: false,
            paused: false,
            violations: thread_table.violations(),
            machine: MachineState { noisy: Some(false), ..MachineState::default() },
        };
        Demo { header, snapshot, heat, activity, threads: thread_table, latency, timeline, topology, history }
    }

    /// Borrows everything for one frame.
    pub fn inputs(&self) -> Inputs<'_> {
        Inputs {
            header: &self.header,
            snapshot: self.snapshot.as_ref(),
            heat: &self.heat,
            line_activity: Some(&self.activity),
            threads: &self.threads,
            latency: &self.latency,
            timeline: &self.timeline,
            history: &self.history,
            topology: &self.topology,
        }
    }
}

fn table_snapshot(spec: &DemoSpec, geometry: Geometry, rng: &mut Rng) -> (Snapshot, u64) {
    let table: Table<u32> = Table::builder()
        .capacity(geometry.capacity())
        .layout(geometry.layout())
        .line_bytes(geometry.line_bytes())
        .variant(spec.variant)
        .build()
        .expect("demo table");
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let target = ((spec.fill.clamp(0.0, 1.0) * geometry.capacity() as f64) as usize).min(geometry.capacity());
    let mut live: Vec<Key> = Vec::with_capacity(target + 1);
    for v in 0..target {
        if let Ok(k) = table.insert(u32::try_from(v).unwrap_or(u32::MAX)) {
            live.push(k);
        }
    }
    // Churn: remove a random live key, insert a new one. Removed slots go to the back of the
    // FIFO ring, so the generations spread out.
    for v in 0..spec.churn {
        if live.is_empty() {
            break;
        }
        // Half the removes take the newest key: a hot set that churns, so some slots are
        // reused far more often than others.
        let key = if rng.below(2) == 0 {
            live.pop().expect("not empty")
        } else {
            #[allow(clippy::cast_possible_truncation)]
            let i = rng.below(live.len() as u64) as usize;
            live.swap_remove(i)
        };
        table.remove(key);
        if let Ok(k) = table.insert(u32::try_from(v).unwrap_or(u32::MAX)) {
            live.push(k);
        }
    }
    let mut snap = table.snapshot();
    // Two operations caught in flight by the scan: an insert that took its id and has not
    // published yet (its slot reads as reserved), and a remove mid-push (a RESERVED cell
    // inside the free window, which the next insert will skip).
    let n = geometry.capacity();
    let first = snap.next_ids(1).next();
    if let Some((ticket, Some(k))) = first {
        snap.set_slot(k.slot(), SlotState::Reserved, None);
        #[allow(clippy::cast_possible_truncation)]
        snap.set_ring_cell((ticket % n as u64) as usize, None);
        snap.set_header(snap.count() + 1, ticket + 1, snap.free_cursor());
    }
    if snap.free_cursor() > snap.alloc_cursor() + 4 {
        #[allow(clippy::cast_possible_truncation)]
        let r = ((snap.free_cursor() - 2) % n as u64) as usize;
        snap.set_ring_cell(r, None);
    }
    (snap, live.len() as u64)
}

/// Heat where a churning workload puts it: on the lines of the ids handed out and returned
/// recently, written by the thread that took each ticket, plus a little background.
fn heat_of(snap: &Snapshot, threads: u32, rng: &mut Rng) -> LineHeat {
    let g = snap.geometry();
    let mut heat = LineHeat {
        measured: true,
        interval_ns: 250_000_000,
        header_writes: 0,
        header_writers: 0,
        ..Default::default()
    };
    heat.slots.reset(g.lines());
    heat.ring.reset(g.ring_lines());
    let mut masks = vec![0u64; g.lines()];
    let band = (g.capacity() / 32).clamp(8, 4096) as u64;
    let alloc = snap.alloc_cursor();
    for i in 0..band {
        let ticket = alloc.wrapping_sub(band / 2).wrapping_add(i);
        let thread = ticket % u64::from(threads);
        #[allow(clippy::cast_possible_truncation)]
        let index = (ticket as usize) & (g.capacity() - 1);
        let line = g.line_of_slot(g.slot_of_index(index));
        #[allow(clippy::cast_possible_truncation)]
        let w = 40 + rng.below(400) as u32;
        heat.slots.writes[line] = heat.slots.writes[line].saturating_add(w);
        masks[line] |= 1 << (thread % 64);
        let ring_line = g.ring_line_of_cell(g.ring_cell_of_ticket(ticket));
        heat.ring.writes[ring_line] = heat.ring.writes[ring_line].saturating_add(w / 2 + 1);
    }
    // Background: removes scattered over the whole table.
    for (writes, mask) in heat.slots.writes.iter_mut().zip(masks.iter_mut()) {
        if rng.below(6) == 0 {
            #[allow(clippy::cast_possible_truncation)]
            let w = 1 + rng.below(12) as u32;
            *writes = writes.saturating_add(w);
            *mask |= 1 << (rng.below(u64::from(threads)) % 64);
        }
    }
    // Line 0 (where the cursor starts) written by two threads.
    heat.slots.writes[0] = heat.slots.writes[0].saturating_add(800);
    masks[0] |= 0b11;
    // One very hot line: a slot that a hot-set workload keeps reusing.
    let hot = g.lines() * 3 / 5;
    heat.slots.writes[hot] = heat.slots.writes[hot].saturating_add(25_000);
    masks[hot] |= 0b11;
    for (line, m) in masks.iter().enumerate() {
        let k = m.count_ones();
        heat.slots.writers[line] = u8::try_from(k).unwrap_or(u8::MAX);
        // As if the writers shared the line's writes equally: n (1 - 1/k) transfers.
        let n = u64::from(heat.slots.writes[line]);
        let sq = if k == 0 { 0 } else { n * n / u64::from(k) };
        #[allow(clippy::cast_possible_truncation)]
        let t = crate::model::expected_transfers(n, sq) as f32;
        heat.slots.transfers[line] = t;
    }
    heat.header_writes = band * 3;
    heat.header_writers = u8::try_from(threads.min(255)).unwrap_or(u8::MAX);
    heat
}

fn activity_of(heat: &LineHeat, threads: u32) -> LineActivity {
    let line = 0;
    let w = heat.slots.writes(line);
    let writers = u32::from(heat.slots.writers(line)).max(1).min(threads);
    let share = w / writers;
    LineActivity {
        line,
        writers: (0..writers).map(|t| (t, share + t)).collect(),
        cas_failures: Some(u64::from(w / 50)),
    }
}

fn thread_table(threads: u32, rng: &mut Rng) -> ThreadTable {
    let rows = (0..threads)
        .map(|i| {
            let churn = i % 2 == 1;
            let ops = if churn { 3_100_000.0 } else { 9_400_000.0 };
            #[allow(clippy::cast_precision_loss)]
            let ops_per_s = ops * (0.9 + (rng.below(200) as f64) / 1000.0);
            let total = 400_000_000 + rng.below(20_000_000);
            let (lookups, inserts, removes) = if churn {
                (total / 10, total * 45 / 100, total * 45 / 100)
            } else {
                (total * 98 / 100, total / 100, total / 100)
            };
            let misses = lookups / 200;
            ThreadRow {
                index: i,
                group: u16::from(churn),
                core: if i < 6 { Some(i) } else { None },
                ops_per_s,
                lookups,
                inserts,
                removes,
                hits: lookups - misses,
                misses,
                ticket_skips: if churn { 1200 + rng.below(300) } else { rng.below(20) },
                ring_retries: if churn { 300 + rng.below(100) } else { rng.below(5) },
                full_refusals: 0,
                stale_rejections: misses / 2,
                violations: 0,
            }
        })
        .collect();
    ThreadTable { groups: vec!["readers".to_owned(), "churn".to_owned()], rows }
}

fn percentiles(base: u64, count: u64) -> Percentiles {
    Percentiles {
        count,
        p50: base,
        p90: base * 14 / 10,
        p99: base * 3,
        p999: base * 24,
        p9999: base * 110,
        max: base * 1000,
    }
}

fn spectrum(p: &Percentiles) -> Vec<SpectrumPoint> {
    let pts = [
        (0.0, p.p50 / 2),
        (25.0, p.p50 * 8 / 10),
        (50.0, p.p50),
        (75.0, p.p50 * 12 / 10),
        (90.0, p.p90),
        (95.0, p.p90 * 15 / 10),
        (99.0, p.p99),
        (99.5, p.p99 * 3),
        (99.9, p.p999),
        (99.95, p.p999 * 2),
        (99.99, p.p9999),
        (99.999, p.max / 3),
        (100.0, p.max),
    ];
    pts.iter().map(|&(percentile, value_ns)| SpectrumPoint { percentile, value_ns }).collect()
}

fn latency(open_loop: bool) -> LatencyStats {
    let op = |base: u64, count: u64| {
        let interval = percentiles(base, count / 170);
        let run = percentiles(base * 11 / 10, count);
        let (iu, ru) = if open_loop {
            (percentiles(base * 8 / 10, count / 170), percentiles(base * 9 / 10, count))
        } else {
            (Percentiles::default(), Percentiles::default())
        };
        let spectrum_uncorrected = if open_loop { spectrum(&ru) } else { Vec::new() };
        OpLatency {
            interval,
            run,
            interval_uncorrected: iu,
            run_uncorrected: ru,
            spectrum: spectrum(&run),
            spectrum_uncorrected,
        }
    };
    // Two groups: `readers` look up only, in closed loop; `churn` inserts and removes (open
    // loop in the open-loop demo) and looks up a little.
    let closed = |o: OpLatency| OpLatency {
        interval_uncorrected: Percentiles::default(),
        run_uncorrected: Percentiles::default(),
        spectrum_uncorrected: Vec::new(),
        ..o
    };
    let groups = vec![
        GroupLatency {
            name: "readers".into(),
            ops: [closed(op(36, 790_000_000)), OpLatency::default(), OpLatency::default()],
        },
        GroupLatency {
            name: "churn".into(),
            ops: [op(61, 22_000_000), op(112, 410_000_000), op(96, 409_000_000)],
        },
    ];
    LatencyStats {
        open_loop,
        ops: [op(38, 812_000_000), op(112, 410_000_000), op(96, 409_000_000)],
        groups,
        timed_every: 16,
        timer_cost_ns: 7.2,
        ..LatencyStats::default()
    }
}

/// The charts' points: one per timeline sample, ending at the header's 42.5 s, the ops split
/// over the groups (the first group twice the others), p50 a third of p99, max ten times it.
fn history(t: &Timeline, groups: &[String]) -> History {
    let mut h = History::new();
    h.groups = groups.to_vec();
    let n = t.ops_per_s.len();
    let ops: Vec<u64> = t.ops_per_s.tail(n).collect();
    let p99: Vec<Vec<u64>> = t.p99_ns.iter().map(|s| s.tail(n).collect()).collect();
    let shares: Vec<f64> = (0..groups.len()).map(|g| if g == 0 { 2.0 } else { 1.0 }).collect();
    let total: f64 = shares.iter().sum();
    for i in 0..n {
        let at = Duration::from_millis(42_500) - t.sample_period * u32::try_from(n - 1 - i).unwrap_or(0);
        #[allow(clippy::cast_precision_loss)]
        let group_ops_per_s = shares.iter().map(|s| ops[i] as f64 * s / total).collect();
        let mut latency = [None; 3];
        for (l, p) in latency.iter_mut().zip(&p99) {
            *l = Some([p[i] / 3, p[i], p[i] * 10]);
        }
        h.push(ChartPoint { at, group_ops_per_s, latency });
    }
    h
}

fn timeline(rng: &mut Rng) -> Timeline {
    let n = 160u64;
    let wave = |i: u64, base: u64, amp: u64| base + amp * ((i * 37) % 17) / 17;
    let mut t = Timeline { sample_period: Duration::from_millis(250), ..Timeline::default() };
    for i in 0..n {
        // A dip when a phase switched (sample 100), then recovery.
        let dip = if (100..108).contains(&i) { 6_000_000 } else { 0 };
        t.ops_per_s.push(wave(i, 24_000_000, 2_000_000) - dip);
        t.ticket_skips_per_s.push(wave(i, 4_000, 3_000) + if i >= 100 { 9_000 } else { 0 });
        t.ring_retries_per_s.push(wave(i, 900, 800) + rng.below(200));
        t.header_writes_per_s.push(wave(i, 6_000_000, 900_000));
        let spike = |i: u64| if i % 53 == 17 { 6 } else { 1 };
        t.p99_ns[0].push((110 + rng.below(20)) * spike(i));
        t.p99_ns[1].push((330 + rng.below(60)) * spike(i + 5));
        t.p99_ns[2].push((290 + rng.below(50)) * spike(i + 11));
    }
    t
}
