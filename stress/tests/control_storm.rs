//! Live controls in any order, at any speed, against a running engine and against its stop.
//!
//! A seeded generator draws thousands of [`Command`]s (every variant: [`kind`] matches them
//! without a wildcard, so a new variant does not compile until the generator knows it), fires
//! them from two threads at once at an engine whose own timeline adds and removes threads,
//! then stops the engine. A [`Watchdog`] fails the test, naming the stuck threads and their
//! states, unless each stop returns within 10 s (a hang detector on a debug build on a loaded
//! 2-core machine, not a speed test).
//!
//! `SLOTSCOPE_STORM_SEED=N` repeats a run; the seed is printed either way.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use slotscope_stress::watchdog::Watchdog;
use slotscope_stress::SplitMix64;
use slotscope_stress::{
    Command, Engine, GroupSpec, Hiccup, KeyChoice, Mix, PhaseSpec, PinPolicy, RemoveOrder, RunSpec, StopSpec,
    TableSpec,
};
use slotscope_table::{Allocator, Layout, Variant};

/// How many kinds of command there are (the arms of [`kind`]).
const KINDS: usize = 16;
/// The most threads the storm lets the run have (so that it stays a storm of controls, not of
/// threads, on two cores).
const MAX_THREADS: usize = 6;
const STOP_LIMIT: Duration = Duration::from_secs(10);

/// The kind of a command, 0..KINDS. No wildcard: a new variant breaks the build here.
fn kind(c: &Command) -> usize {
    match c {
        Command::AddThread { .. } => 0,
        Command::RemoveThread { .. } => 1,
        Command::Repin { .. } => 2,
        Command::SetPin { .. } => 3,
        Command::SetMix { .. } => 4,
        Command::SetRate { .. } => 5,
        Command::SetKeys { .. } => 6,
        Command::Pause => 7,
        Command::Resume => 8,
        Command::ResetStats => 9,
        Command::Restart { .. } => 10,
        Command::SetThreads { .. } => 11,
        Command::SetRemoveOrder { .. } => 12,
        Command::SetHiccup { .. } => 13,
        Command::SetKeep { .. } => 14,
        Command::HoldPin { .. } => 15,
    }
}

struct Gen {
    rng: SplitMix64,
}

impl Gen {
    fn below(&mut self, n: u64) -> u64 {
        self.rng.next_u64() % n.max(1)
    }

    fn group(&mut self) -> String {
        ["readers", "writers", "readers", "writers", "nobody"][self.below(5) as usize].to_owned()
    }

    fn mix(&mut self) -> Mix {
        [Mix::READ_HEAVY, Mix::EXCHANGE, Mix::CHURN, Mix { lookup: 0, insert: 1, remove: 0 }]
            [self.below(4) as usize]
    }

    /// One command of kind `k`, with arguments good and bad.
    fn command(&mut self, k: usize, threads_now: usize) -> Command {
        let group = self.group();
        match k {
            0 if threads_now >= MAX_THREADS => Command::RemoveThread { group },
            0 => Command::AddThread { group },
            1 => Command::RemoveThread { group },
            2 => Command::Repin {
                thread: self.below(12) as usize,
                core: [None, Some(0), Some(1), Some(9999)][self.below(4) as usize],
            },
            3 => Command::SetPin {
                group,
                pin: [PinPolicy::None, PinPolicy::Compact, PinPolicy::Scatter, PinPolicy::Cores(vec![0])]
                    [self.below(4) as usize]
                    .clone(),
            },
            4 => Command::SetMix { group, mix: self.mix() },
            5 => Command::SetRate {
                group,
                rate: [None, Some(20_000.0), Some(1.0e6), Some(-5.0), Some(f64::NAN)][self.below(5) as usize],
            },
            6 => Command::SetKeys {
                group,
                keys: [
                    KeyChoice::Uniform,
                    KeyChoice::Zipf { s: 1.1 },
                    KeyChoice::HotSet { keys: 4, share: 0.9 },
                ][self.below(3) as usize],
                stale_share: [0.0, 0.2, 1.0][self.below(3) as usize],
            },
            7 => Command::Pause,
            8 => Command::Resume,
            9 => Command::ResetStats,
            10 => Command::Restart {
                table: TableSpec {
                    capacity: 256,
                    prefill: [0.0, 0.5, 1.0][self.below(3) as usize],
                    layout: Layout::ALL[self.below(3) as usize],
                    // The allocator switch (`A` in the TUI): ring, or magazines of 4 or 64
                    // (64 is the largest a 256-slot table takes).
                    allocator: [
                        Allocator::Ring,
                        Allocator::Magazine { size: 4 },
                        Allocator::Magazine { size: 64 },
                    ][self.below(3) as usize],
                    ..TableSpec::default()
                },
            },
            11 => Command::SetThreads { group, threads: self.below(4) as usize },
            12 => Command::SetRemoveOrder {
                group,
                order: [RemoveOrder::Random, RemoveOrder::Oldest][self.below(2) as usize],
            },
            13 => Command::SetHiccup {
                group,
                hiccup: (self.below(2) == 0)
                    .then_some(Hiccup { every: Duration::from_millis(20), pause: Duration::from_millis(1) }),
            },
            14 => Command::SetKeep { group, keep: [None, Some(1), Some(16)][self.below(3) as usize] },
            _ => Command::HoldPin { hold: (self.below(2) == 0).then_some(Duration::from_millis(30)) },
        }
    }
}

/// Two groups, a timeline that grows and shrinks one of them (with a ramp, as the phases that
/// once hung the suite did), no end of its own.
fn spec(seed: u64) -> RunSpec {
    let group = |name: &str, threads, mix| GroupSpec {
        name: name.into(),
        threads,
        mix,
        pin: PinPolicy::None,
        ..GroupSpec::default()
    };
    RunSpec {
        name: "storm".into(),
        seed,
        table: TableSpec { capacity: 256, prefill: 0.5, variant: Variant::Correct, ..TableSpec::default() },
        groups: vec![group("readers", 1, Mix::READ_HEAVY), group("writers", 1, Mix::CHURN)],
        phases: vec![
            phase(5, "writers", 3, None),
            phase(15, "readers", 2, Some(Duration::from_millis(20))),
            phase(40, "writers", 1, None),
        ],
        cycle: Some(Duration::from_millis(60)),
        stop: StopSpec::Forever,
        ..RunSpec::default()
    }
}

fn phase(at_ms: u64, group: &str, threads: usize, ramp: Option<Duration>) -> PhaseSpec {
    PhaseSpec {
        at: Duration::from_millis(at_ms),
        group: group.into(),
        mix: None,
        rate: None,
        threads: Some(threads),
        ramp,
    }
}

fn seed() -> u64 {
    std::env::var("SLOTSCOPE_STORM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64))
}

/// Stops `engine` under a watchdog that names what is stuck.
fn stop_within_limit(engine: Engine, what: &str) -> slotscope_stress::Report {
    let monitor = engine.monitor();
    let _dog = Watchdog::arm(what, STOP_LIMIT, move || monitor.describe());
    engine.stop()
}

#[test]
fn any_storm_of_live_controls_then_stop_returns() {
    let seed = seed();
    eprintln!("control storm seed: {seed} (SLOTSCOPE_STORM_SEED={seed} repeats it)");
    let mut drawn = [0u32; KINDS];
    let rounds = 6;
    let per_thread = 300;
    for round in 0..rounds {
        let round_seed = seed ^ (round as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let engine = {
            let _dog = Watchdog::arm(format!("start (seed {seed}, round {round})"), STOP_LIMIT, String::new);
            Engine::start(spec(round_seed)).expect("the storm's run starts")
        };
        let monitor = engine.monitor();
        let _dog = Watchdog::arm(
            format!("controls (seed {seed}, round {round})"),
            Duration::from_secs(120),
            move || monitor.describe(),
        );
        let counts: Vec<[u32; KINDS]> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..2u64)
                .map(|t| {
                    let engine = &engine;
                    s.spawn(move || {
                        let mut g = Gen { rng: SplitMix64::new(round_seed ^ (t + 1)) };
                        let mut drawn = [0u32; KINDS];
                        for _ in 0..per_thread {
                            let k = g.below(KINDS as u64) as usize;
                            let c = g.command(k, engine.threads().len());
                            drawn[kind(&c)] += 1;
                            // Errors (unknown groups, bad rates, impossible pins) are answers,
                            // not hangs: only that it returns matters here.
                            let _ = engine.apply(c);
                            match g.below(8) {
                                0 => std::thread::sleep(Duration::from_millis(2)),
                                1 | 2 => std::thread::yield_now(),
                                _ => {}
                            }
                        }
                        drawn
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("a control thread panicked")).collect()
        });
        drop(_dog);
        for c in counts {
            for (d, n) in drawn.iter_mut().zip(c) {
                *d += n;
            }
        }
        // End in a random state: paused or not, mid-restart-storm or not.
        let report = stop_within_limit(engine, &format!("stop after the storm (seed {seed}, round {round})"));
        assert!(
            report.checks.violations.is_empty(),
            "seed {seed} round {round}: the correct table reported violations: {:?}",
            report.checks.violations.first
        );
    }
    for (k, n) in drawn.iter().enumerate() {
        assert!(*n > 0, "seed {seed}: command kind {k} was never drawn");
    }
}

/// The case that hung the suite: a phase spawns workers while the run is being stopped.
#[test]
fn stop_while_a_phase_adds_threads_returns() {
    let seed = seed();
    eprintln!("seed: {seed}");
    for round in 0..40u64 {
        let engine = Engine::start(spec(seed ^ round)).expect("starts");
        std::thread::sleep(Duration::from_millis(round % 7 * 3));
        stop_within_limit(engine, &format!("stop during phases (seed {seed}, round {round})"));
    }
}
