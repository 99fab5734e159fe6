//! The machine, watched while the run runs: how much CPU other processes take on the worker
//! cores, steal time, and what moving a cache line between two worker cores costs.
//!
//! **Noise** (once a second, from a thread of its own that sleeps in between): `/proc/stat`
//! gives each core's busy time (user, nice, system, irq, softirq) and steal time in clock
//! ticks; `/proc/self/task/*/stat` gives each of this process's threads' time and the core it
//! last ran on. Other processes' share of a worker core is its busy time minus ours there (as
//! benchmark harnesses subtract their own threads), plus its steal time, in core-equivalents.
//! A run is **noisy** when that averages over [`NOISY_AVERAGE_CORES`] over the run, or
//! exceeds [`NOISY_SECOND_CORES`] in any one second. Where `/proc/stat` is missing, lacks a
//! worker core, or counts less busy time on the cores than our own threads took there (it is
//! not this machine's view: a container's or a sandbox's), the answer is **unknown**, never
//! "quiet". Attribution is by the core a thread last ran on, so an unpinned thread of ours that
//! moved within a second can be counted on the wrong core; pinned workers do not move.
//!
//! **Line transfer** (at start, then every [`TRANSFER_EVERY`]): two threads pinned to the first
//! two distinct worker cores bounce one cache line ([`ROUND_TRIPS`] round trips, best of
//! [`TRANSFER_BATCHES`] batches); half a round trip is one transfer. It takes about 0.2 ms of
//! both cores each time (under 0.01% of a 5 s period), off the workers' hot path: the workers
//! are only descheduled for it (a measurement not done within [`TRANSFER_TIMEOUT`], because
//! the two threads did not get their cores together, is dropped). A later figure more than [`TRANSFER_CHANGE`] away from the
//! first (and 20 ns at least) is flagged: figures that depend on line transfers move with it.
//!
//! Hand-written: no crate reads per-core `/proc/stat` and per-thread CPU together.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;
use serde::Serialize;

use crate::machine::pin::pin_current_thread;
use crate::sync::lock;

/// Noisy when other processes and steal average more than this over the run (cores).
pub const NOISY_AVERAGE_CORES: f64 = 0.1;
/// Noisy when they take more than this in any one second (cores).
pub const NOISY_SECOND_CORES: f64 = 0.25;
/// How often noise is read.
pub const NOISE_EVERY: Duration = Duration::from_secs(1);
/// The shortest reading counted (the run's last one may be shorter than a second).
pub const MIN_READING: Duration = Duration::from_millis(500);
/// How often the line transfer is measured again.
pub const TRANSFER_EVERY: Duration = Duration::from_secs(5);
/// Round trips per batch.
pub const ROUND_TRIPS: u32 = 500;
/// Batches per measurement (the best is kept).
pub const TRANSFER_BATCHES: u32 = 3;
/// A line-transfer measurement that takes longer than this is dropped (not counted).
pub const TRANSFER_TIMEOUT: Duration = Duration::from_millis(200);
/// Relative change of the line transfer that is flagged.
pub const TRANSFER_CHANGE: f64 = 0.5;

/// One core's times from `/proc/stat`, in clock ticks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CoreTimes {
    /// user + nice + system + irq + softirq.
    pub busy: u64,
    /// Time the hypervisor ran something else while this virtual core wanted to run.
    pub steal: u64,
}

/// Per-core times of a `/proc/stat` text (`cpuN` lines only).
pub fn parse_proc_stat(text: &str) -> HashMap<usize, CoreTimes> {
    let mut out = HashMap::new();
    for line in text.lines() {
        // `cpuN` lines; the first, `cpu `, sums them.
        let Some(rest) = line.strip_prefix("cpu").filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
        else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let Some(Ok(core)) = fields.next().map(str::parse::<usize>) else { continue };
        let v: Vec<u64> = fields.filter_map(|f| f.parse().ok()).collect();
        let at = |i: usize| v.get(i).copied().unwrap_or(0);
        // user nice system idle iowait irq softirq steal ...
        out.insert(core, CoreTimes { busy: at(0) + at(1) + at(2) + at(5) + at(6), steal: at(7) });
    }
    out
}

/// `(core last run on, utime + stime)` of a `/proc/<pid>/task/<tid>/stat` line.
pub fn parse_task_stat(text: &str) -> Option<(usize, u64)> {
    // The command name is in parentheses and may hold spaces: fields count from the last ')'.
    let after = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = after.split_whitespace().collect();
    // After the name: field 3 (state) is f[0]; utime is field 14, stime 15, processor 39.
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    let core: usize = f.get(36)?.parse().ok()?;
    Some((core, utime + stime))
}

/// Ticks of this process's threads, by the core each last ran on (and each thread's total,
/// to take differences per thread).
fn own_threads() -> HashMap<u64, (usize, u64)> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else { return out };
    for entry in dir.flatten() {
        let Ok(tid) = entry.file_name().to_string_lossy().parse::<u64>() else { continue };
        if let Some(parsed) =
            std::fs::read_to_string(entry.path().join("stat")).ok().as_deref().and_then(parse_task_stat)
        {
            out.insert(tid, parsed);
        }
    }
    out
}

/// Clock ticks per second of `/proc` times: `USER_HZ`, which Linux fixes at 100 for what it
/// shows user space whatever the kernel's own tick.
const TICKS_PER_S: f64 = 100.0;

/// Other processes' and steal time on `cores` between two readings, in core-seconds: `None`
/// when the readings do not cover the cores or do not count our own threads (not this
/// machine's view).
pub fn others_between(
    before: &HashMap<usize, CoreTimes>,
    after: &HashMap<usize, CoreTimes>,
    own_ticks_on: &HashMap<usize, u64>,
    cores: &[usize],
    ticks_per_s: f64,
) -> Option<(f64, f64)> {
    let (mut others, mut steal) = (0.0, 0.0);
    for c in cores {
        let (b, a) = (before.get(c)?, after.get(c)?);
        let busy = a.busy.saturating_sub(b.busy);
        let own = own_ticks_on.get(c).copied().unwrap_or(0);
        // Our threads ran there, but the core counts less than that: not our view of it.
        if own > busy + busy / 5 + 2 {
            return None;
        }
        #[allow(clippy::cast_precision_loss)]
        {
            others += busy.saturating_sub(own) as f64 / ticks_per_s;
            steal += a.steal.saturating_sub(b.steal) as f64 / ticks_per_s;
        }
    }
    Some((others, steal))
}

/// What the watch has seen so far (the report's and the samples' `machine_watch`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct WatchReport {
    /// Whether noise could be measured; when false, `noise_unknown_reason` says why.
    pub noise_known: bool,
    /// Why noise is unknown.
    pub noise_unknown_reason: Option<String>,
    /// The worker cores watched.
    pub cores: Vec<usize>,
    /// Seconds of noise readings.
    pub noise_seconds: f64,
    /// Other processes' CPU plus steal on the worker cores, averaged over the run (cores).
    pub noise_average_cores: f64,
    /// The most in one reading (about a second), cores.
    pub noise_max_cores: f64,
    /// The last reading, cores.
    pub noise_last_cores: f64,
    /// Steal alone, averaged (cores).
    pub steal_average_cores: f64,
    /// Over [`NOISY_AVERAGE_CORES`] on average or [`NOISY_SECOND_CORES`] in one reading.
    pub noisy: bool,
    /// The thresholds, for the reader.
    pub noisy_average_threshold: f64,
    /// See `noisy_average_threshold`.
    pub noisy_second_threshold: f64,
    /// The two cores the line transfer was measured between (`None`: fewer than two worker
    /// cores, or not measured).
    pub transfer_cores: Option<(usize, usize)>,
    /// One line transfer at start, ns.
    pub transfer_first_ns: Option<f64>,
    /// The latest, ns.
    pub transfer_last_ns: Option<f64>,
    /// The smallest and largest seen, ns.
    pub transfer_min_ns: Option<f64>,
    /// See `transfer_min_ns`.
    pub transfer_max_ns: Option<f64>,
    /// Measurements taken.
    pub transfer_samples: u32,
    /// Whether one moved more than [`TRANSFER_CHANGE`] from the first.
    pub transfer_changed: bool,
    /// What one measurement costs the workers.
    pub transfer_cost: String,
}

impl WatchReport {
    /// `noise ...` as the report and the TUI say it.
    pub fn noise_text(&self) -> String {
        if !self.noise_known {
            return format!("unknown ({})", self.noise_unknown_reason.as_deref().unwrap_or("not measured"));
        }
        format!(
            "{}: other processes + steal on worker cores {:?}: {:.2} cores on average, {:.2} at most in 1 s \
             (steal {:.2}; noisy above {NOISY_AVERAGE_CORES} on average or {NOISY_SECOND_CORES} in 1 s)",
            if self.noisy { "NOISY" } else { "quiet" },
            self.cores,
            self.noise_average_cores,
            self.noise_max_cores,
            self.steal_average_cores
        )
    }

    /// `line transfer ~N ns` as the report and the TUI say it; `None` when not measured.
    pub fn transfer_text(&self) -> Option<String> {
        let (a, b) = self.transfer_cores?;
        let last = self.transfer_last_ns?;
        let first = self.transfer_first_ns.unwrap_or(last);
        let mut s = format!("line transfer ~{last:.0} ns between cores {a} and {b}");
        if self.transfer_samples > 1 {
            s.push_str(&format!(
                " ({:.0} at start, {:.0} to {:.0} over {} measurements)",
                first,
                self.transfer_min_ns.unwrap_or(last),
                self.transfer_max_ns.unwrap_or(last),
                self.transfer_samples
            ));
        }
        if self.transfer_changed {
            s.push_str(": CHANGED during the run, figures that depend on line transfers moved with it");
        }
        Some(s)
    }
}

/// One line transfer between cores `a` and `b`, ns: the best of [`TRANSFER_BATCHES`] batches of
/// [`ROUND_TRIPS`] round trips, halved. `None` when a pin failed.
pub fn line_transfer_ns(a: usize, b: usize) -> Option<f64> {
    let line = Arc::new(CachePadded::new(AtomicU64::new(0)));
    let ok = Arc::new(AtomicBool::new(true));
    let (l2, ok2) = (Arc::clone(&line), Arc::clone(&ok));
    let total = u64::from(ROUND_TRIPS * TRANSFER_BATCHES);
    // Both threads must run at once; on a busy machine they may not: give up after this.
    let deadline = Instant::now() + TRANSFER_TIMEOUT;
    let echo = std::thread::Builder::new()
        .name("slotscope-transfer".to_owned())
        .spawn(move || {
            if !pin_current_thread(b) {
                ok2.store(false, Ordering::Relaxed);
            }
            // Answers odd values with the next even one.
            let mut expect = 1u64;
            while expect < 2 * total {
                let mut spins = 0u32;
                while l2.load(Ordering::Acquire) != expect {
                    spins = spins.wrapping_add(1);
                    if spins.is_multiple_of(1024)
                        && (!ok2.load(Ordering::Relaxed) || Instant::now() > deadline)
                    {
                        return;
                    }
                    std::hint::spin_loop();
                }
                l2.store(expect + 1, Ordering::Release);
                expect += 2;
            }
        })
        .ok()?;
    let measurer = std::thread::Builder::new()
        .name("slotscope-transfer".to_owned())
        .spawn(move || {
            if !pin_current_thread(a) {
                ok.store(false, Ordering::Relaxed);
                return None;
            }
            let mut best = f64::INFINITY;
            let mut v = 0u64;
            for _ in 0..TRANSFER_BATCHES {
                let start = Instant::now();
                for _ in 0..ROUND_TRIPS {
                    v += 1;
                    line.store(v, Ordering::Release);
                    let mut spins = 0u32;
                    while line.load(Ordering::Acquire) != v + 1 {
                        spins = spins.wrapping_add(1);
                        if spins.is_multiple_of(1024) && Instant::now() > deadline {
                            ok.store(false, Ordering::Relaxed);
                            return None;
                        }
                        std::hint::spin_loop();
                    }
                    v += 1;
                }
                best = best.min(start.elapsed().as_secs_f64() * 1e9 / f64::from(ROUND_TRIPS) / 2.0);
            }
            ok.load(Ordering::Relaxed).then_some(best)
        })
        .ok()?;
    let got = measurer.join().ok().flatten();
    let _ = echo.join();
    got
}

/// The watch's thread and what it has seen.
#[derive(Debug)]
pub struct MachineWatch {
    state: Arc<(Mutex<(WatchReport, bool)>, Condvar)>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// Running totals of the watch thread.
#[derive(Default)]
struct Totals {
    seconds: f64,
    others: f64,
    steal: f64,
}

impl MachineWatch {
    /// Starts watching the cores `cores()` returns (called at each reading: the worker cores
    /// of the moment).
    pub fn start(cores: impl Fn() -> Vec<usize> + Send + 'static) -> MachineWatch {
        let state = Arc::new((Mutex::new((WatchReport::default(), false)), Condvar::new()));
        let shared = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name("slotscope-watch".to_owned())
            .spawn(move || watch_loop(&shared, &cores))
            .ok();
        MachineWatch { state, thread: Mutex::new(thread) }
    }

    /// What has been seen so far.
    pub fn report(&self) -> WatchReport {
        lock(&self.state.0).0.clone()
    }

    /// Stops the thread (at once: it waits on a condition variable; a line-transfer
    /// measurement in progress finishes first, well under a millisecond) and returns the
    /// final report.
    pub fn stop(&self) -> WatchReport {
        lock(&self.state.0).1 = true;
        self.state.1.notify_all();
        let thread = lock(&self.thread).take();
        if let Some(t) = thread {
            let _ = t.join();
        }
        self.report()
    }
}

impl Drop for MachineWatch {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Sleeps `d` unless told to stop; true when told.
fn sleep_or_stop(state: &(Mutex<(WatchReport, bool)>, Condvar), d: Duration) -> bool {
    let g = lock(&state.0);
    if g.1 {
        return true;
    }
    let Ok((g, _)) = state.1.wait_timeout_while(g, d, |g| !g.1) else { return true };
    g.1
}

fn update(state: &(Mutex<(WatchReport, bool)>, Condvar), f: impl FnOnce(&mut WatchReport)) {
    f(&mut lock(&state.0).0);
}

fn transfer_pair(cores: &[usize]) -> Option<(usize, usize)> {
    let a = *cores.first()?;
    let b = *cores.iter().find(|&&c| c != a)?;
    Some((a, b))
}

fn measure_transfer(state: &(Mutex<(WatchReport, bool)>, Condvar), cores: &[usize]) {
    let Some((a, b)) = transfer_pair(cores) else { return };
    let Some(ns) = line_transfer_ns(a, b) else { return };
    update(state, |r| {
        r.transfer_cores = Some((a, b));
        let first = *r.transfer_first_ns.get_or_insert(ns);
        r.transfer_last_ns = Some(ns);
        r.transfer_min_ns = Some(r.transfer_min_ns.map_or(ns, |m| m.min(ns)));
        r.transfer_max_ns = Some(r.transfer_max_ns.map_or(ns, |m| m.max(ns)));
        r.transfer_samples += 1;
        if (ns - first).abs() > (TRANSFER_CHANGE * first).max(20.0) {
            r.transfer_changed = true;
        }
    });
}

fn watch_loop(state: &(Mutex<(WatchReport, bool)>, Condvar), cores: &dyn Fn() -> Vec<usize>) {
    let hz = TICKS_PER_S;
    update(state, |r| {
        r.noisy_average_threshold = NOISY_AVERAGE_CORES;
        r.noisy_second_threshold = NOISY_SECOND_CORES;
        r.transfer_cost = format!(
            "{} x {ROUND_TRIPS} round trips on two worker cores, every {} s (about 0.2 ms; the workers there are descheduled meanwhile)",
            TRANSFER_BATCHES,
            TRANSFER_EVERY.as_secs()
        );
        r.noise_unknown_reason =
            Some(format!("no reading: the run was shorter than {} ms", MIN_READING.as_millis()));
    });
    let mut watched = cores();
    watched.sort_unstable();
    watched.dedup();
    measure_transfer(state, &watched);
    let mut last_transfer = Instant::now();
    let read_stat = || std::fs::read_to_string("/proc/stat").ok().map(|t| parse_proc_stat(&t));
    let mut before = read_stat();
    let mut own_before = own_threads();
    let mut at = Instant::now();
    let mut totals = Totals::default();
    loop {
        let stopping = sleep_or_stop(state, NOISE_EVERY);
        // The last stretch of a run counts when it is long enough for /proc's 10 ms ticks
        // (at least half a second); a shorter one is left out.
        if stopping && at.elapsed() < MIN_READING {
            break;
        }
        let now_cores = {
            let mut c = cores();
            c.sort_unstable();
            c.dedup();
            c
        };
        let after = read_stat();
        let own_after = own_threads();
        let secs = at.elapsed().as_secs_f64();
        at = Instant::now();
        let mut own_on: HashMap<usize, u64> = HashMap::new();
        for (tid, (core, ticks)) in &own_after {
            let was = own_before.get(tid).map_or(0, |p| p.1);
            *own_on.entry(*core).or_default() += ticks.saturating_sub(was);
        }
        let reading = match (&before, &after) {
            (Some(b), Some(a)) => others_between(b, a, &own_on, &now_cores, hz).ok_or(
                "/proc/stat does not count this process's threads on the worker cores (not this machine's view, e.g. a container)",
            ),
            _ => Err("/proc/stat cannot be read"),
        };
        let gave_up = totals.seconds.is_nan();
        update(state, |r| {
            r.cores.clone_from(&now_cores);
            if gave_up {
                return;
            }
            match reading {
                Ok((others, steal)) if secs > 0.0 => {
                    totals.seconds += secs;
                    totals.others += others;
                    totals.steal += steal;
                    let now = (others + steal) / secs;
                    r.noise_known = true;
                    r.noise_unknown_reason = None;
                    r.noise_seconds = totals.seconds;
                    r.noise_average_cores = (totals.others + totals.steal) / totals.seconds;
                    r.steal_average_cores = totals.steal / totals.seconds;
                    r.noise_last_cores = now;
                    r.noise_max_cores = r.noise_max_cores.max(now);
                    r.noisy =
                        r.noise_average_cores > NOISY_AVERAGE_CORES || r.noise_max_cores > NOISY_SECOND_CORES;
                }
                Ok(_) => {}
                Err(why) => {
                    // Once unknown, the run's figure is unknown: never "quiet" by omission.
                    r.noise_known = false;
                    r.noisy = false;
                    r.noise_unknown_reason = Some(why.to_owned());
                    totals.seconds = f64::NAN;
                }
            }
        });
        if totals.seconds.is_nan() {
            // Stop reading noise; keep measuring the line transfer.
            before = None;
        } else {
            before = after;
        }
        own_before = own_after;
        if stopping {
            break;
        }
        if last_transfer.elapsed() >= TRANSFER_EVERY {
            measure_transfer(state, &now_cores);
            last_transfer = Instant::now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_stat_and_task_stat_parse() {
        let stat =
            "cpu  10 0 10 100 0 0 0 0 0 0\ncpu0 5 1 2 50 9 3 4 7 0 0\ncpu1 1 0 1 50 0 0 0 0 0 0\nintr 1 2\n";
        let m = parse_proc_stat(stat);
        assert_eq!(m.len(), 2);
        assert_eq!(m[&0], CoreTimes { busy: 5 + 1 + 2 + 3 + 4, steal: 7 });
        let task = "4242 (slotscope w 0) R 1 2 3 4 5 6 7 8 9 10 77 23 0 0 20 0 1 0 100 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 0 0";
        assert_eq!(parse_task_stat(task), Some((1, 100)));
        assert_eq!(parse_task_stat("garbage"), None);
    }

    #[test]
    fn others_are_the_cores_busy_time_minus_ours_and_unknown_when_we_are_not_counted() {
        let t = |busy, steal| CoreTimes { busy, steal };
        let before: HashMap<usize, CoreTimes> = [(0, t(0, 0)), (1, t(0, 0))].into();
        let after: HashMap<usize, CoreTimes> = [(0, t(100, 5)), (1, t(60, 0))].into();
        let own: HashMap<usize, u64> = [(0, 90), (1, 60)].into();
        let (others, steal) = others_between(&before, &after, &own, &[0, 1], 100.0).unwrap();
        assert!((others - 0.10).abs() < 1e-9 && (steal - 0.05).abs() < 1e-9, "{others} {steal}");
        // A core missing, or our own 100 ticks on a core that counts 10: unknown.
        assert_eq!(others_between(&before, &after, &own, &[0, 2], 100.0), None);
        let own_more: HashMap<usize, u64> = [(1, 100)].into();
        let quiet: HashMap<usize, CoreTimes> = [(0, t(0, 0)), (1, t(10, 0))].into();
        assert_eq!(others_between(&before, &quiet, &own_more, &[1], 100.0), None);
    }

    #[test]
    fn texts_say_unknown_noisy_and_changed() {
        let mut r = WatchReport { noise_unknown_reason: Some("no /proc".into()), ..WatchReport::default() };
        assert_eq!(r.noise_text(), "unknown (no /proc)");
        r.noise_known = true;
        r.noisy = true;
        r.noise_average_cores = 0.4;
        assert!(r.noise_text().starts_with("NOISY: "), "{}", r.noise_text());
        assert_eq!(r.transfer_text(), None);
        r.transfer_cores = Some((0, 1));
        r.transfer_first_ns = Some(80.0);
        r.transfer_last_ns = Some(150.0);
        r.transfer_samples = 2;
        r.transfer_changed = true;
        let t = r.transfer_text().unwrap();
        assert!(t.starts_with("line transfer ~150 ns between cores 0 and 1 (80 at start"), "{t}");
        assert!(t.contains("CHANGED"), "{t}");
    }

    #[test]
    fn a_line_transfer_is_measured_between_two_cores() {
        let cores = crate::machine::pin::available_cores();
        let Some((a, b)) = transfer_pair(&cores) else {
            return; // one core: nothing to bounce between
        };
        // On a machine busy with other tests a measurement can time out (both threads must run
        // at once); one of three must come back, and what comes back is a plausible figure.
        let got: Vec<f64> = (0..3).filter_map(|_| line_transfer_ns(a, b)).collect();
        assert!(!got.is_empty(), "no measurement between cores {a} and {b}");
        assert!(got.iter().all(|&ns| ns > 0.0 && ns < 1e6), "{got:?}");
    }
}
