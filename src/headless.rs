//! `slotscope run --no-tui` (and `run` whenever stdout is not a terminal): run the engine to
//! its end, show progress on stderr, stop cleanly on SIGINT/SIGTERM/SIGHUP, write the report,
//! check `--fail-if`, and pick the exit code.
//!
//! Exit code when several apply: 5 (the report could not be written) before 129/130/143 (a
//! signal cut the run short; the partial report is still written) before 1 (a self-check or a
//! `--fail-if` failed).

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use slotscope_stress::engine_calibration::ROUNDS;
use slotscope_stress::recorder::RecordOptions;
use slotscope_stress::report::fail_if::{evaluate_all, FailIf};
use slotscope_stress::scenario::spec::TIME_EVERY_AUTO;
use slotscope_stress::scenario::values::{format_duration, format_ns, format_rate};
use slotscope_stress::{Calibration, FALLBACK_TIME_EVERY};
use slotscope_stress::{
    Engine, EngineError, EngineOptions, Report, RunSpec, Sample, SamplerOptions, StopSpec,
};

use crate::cli::RunArgs;
use crate::exit::{self, Failure};
use crate::output::{self, Extras};
use crate::resolve::{self, ResolvedRun};

/// How often the progress line is redrawn (and signals are looked at).
pub const PROGRESS_PERIOD: Duration = Duration::from_millis(250);

/// Signals that stop a run: the first asks the workers to stop and the report to be written;
/// a second of the same kinds exits at once (with the same code, and no report), saying on
/// stderr what it leaves behind ([`Signals::set_last_words`]). A thread of its own receives
/// them (signal-hook's iterator), so the second one is handled whatever the run is doing.
pub struct Signals {
    received: Arc<AtomicUsize>,
    last_words: Arc<std::sync::Mutex<String>>,
}

impl Signals {
    /// Installs the handlers for SIGINT, SIGTERM and SIGHUP.
    pub fn install() -> Result<Signals, Failure> {
        let received = Arc::new(AtomicUsize::new(0));
        let last_words = Arc::new(std::sync::Mutex::new(String::new()));
        let mut iter = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
            .map_err(|e| Failure::new(exit::USAGE, format!("error: cannot install a signal handler: {e}")))?;
        let (got, words) = (Arc::clone(&received), Arc::clone(&last_words));
        std::thread::Builder::new()
            .name("slotscope-signals".to_owned())
            .spawn(move || {
                for sig in iter.forever() {
                    if got.load(Ordering::Relaxed) == 0 {
                        got.store(usize::try_from(sig).unwrap_or(1), Ordering::Relaxed);
                        continue;
                    }
                    let (name, code) = signal_exit(sig);
                    let words = words.lock().map(|w| w.clone()).unwrap_or_default();
                    note(&format!(
                        "slotscope: a second signal ({name}): exiting at once, without a report{words}"
                    ));
                    std::process::exit(i32::from(code));
                }
            })
            .map_err(|e| Failure::new(exit::USAGE, format!("error: cannot start the signal thread: {e}")))?;
        Ok(Signals { received, last_words })
    }

    /// The signal received, if any.
    pub fn received(&self) -> Option<i32> {
        match self.received.load(Ordering::Relaxed) {
            0 => None,
            s => i32::try_from(s).ok(),
        }
    }

    /// What a second signal says it leaves behind (appended to its message, e.g. `; the
    /// recording stays unfinished in ...`).
    pub fn set_last_words(&self, words: String) {
        if let Ok(mut w) = self.last_words.lock() {
            *w = words;
        }
    }
}

/// The name and exit code of a stopping signal.
pub fn signal_exit(sig: i32) -> (&'static str, u8) {
    match sig {
        SIGINT => ("SIGINT", exit::SIGINT),
        SIGTERM => ("SIGTERM", exit::SIGTERM),
        _ => ("SIGHUP", exit::SIGHUP),
    }
}

/// Prints to stderr, ignoring failures (after SIGHUP the terminal may be gone).
pub fn note(text: &str) {
    crate::console::note(text);
}

/// Parses every `--fail-if` (exit 2 naming the flag and the position on a bad one).
pub fn parse_conditions(args: &RunArgs) -> Result<Vec<FailIf>, Failure> {
    Ok(args.report.fail_if.clone())
}

/// Refuses flags that belong to features a headless run does not have (yet), rather than
/// ignoring them silently.
pub fn refuse_unsupported(args: &RunArgs) -> Result<(), Failure> {
    if args.compare_layout.is_some() {
        return Err(Failure::usage("error: --compare-layout is not available in this build yet"));
    }
    Ok(())
}

/// The progress line: redrawn in place on a terminal's stderr, cleared at the end.
struct Progress {
    sampler: slotscope_stress::Sampler,
    sample: Sample,
    label: String,
    shown: bool,
}

impl Progress {
    fn new(engine: &Engine, label: String) -> Progress {
        let options =
            SamplerOptions { snapshots: false, history_len: 1, violation_details: 0, ..Default::default() };
        Progress { sampler: engine.sampler(options), sample: Sample::new(), label, shown: false }
    }

    fn draw(&mut self, spec: &RunSpec) {
        self.sampler.sample_into(&mut self.sample);
        let s = &self.sample;
        let so_far = match spec.stop {
            StopSpec::Duration(d) => format!("{:.1}s / {}", s.elapsed.as_secs_f64(), format_duration(d)),
            StopSpec::Ops(n) => {
                let threads = s.threads.len().max(1) as u64;
                format!(
                    "{} / {} ops per thread",
                    format_rate((s.totals.ops() / threads) as f64),
                    format_rate(n as f64)
                )
            }
            StopSpec::Forever => format!("{:.1}s", s.elapsed.as_secs_f64()),
        };
        let phase = s.phase.as_ref().map_or_else(String::new, |p| {
            format!(" · phase {} (at {}, group {})", p.index + 1, format_duration(p.at), p.group)
        });
        let line = format!(
            "{}{so_far} · {}/s · {} violation{}{phase}",
            self.label,
            format_rate(s.ops_per_s),
            s.violations,
            if s.violations == 1 { "" } else { "s" }
        );
        // \r, the line, then clear to the end of the line.
        crate::console::progress(&format!("\r{line}\x1b[K"));
        self.shown = true;
    }

    fn clear(&mut self) {
        if self.shown {
            crate::console::progress("\r\x1b[K");
        }
    }
}

/// Starts `spec`, waits for its end or a signal, and returns the report and the signal that
/// stopped it, if any. `label` prefixes the progress line.
pub fn execute(
    spec: RunSpec,
    signals: &Signals,
    label: &str,
    record: Option<&RecordOptions>,
    calibration: Option<Calibration>,
) -> Result<(Report, Option<i32>), Failure> {
    let show_progress = std::io::stderr().is_terminal();
    let started = match record {
        Some(options) => Engine::start_recorded(spec.clone(), options),
        None => Engine::start_with_options(
            spec.clone(),
            EngineOptions { headless: true, calibration, ..EngineOptions::default() },
        ),
    };
    let engine = started.map_err(|e| match e {
        EngineError::Record(m) => Failure::new(exit::OUTPUT_FAILED, format!("error: cannot record: {m}")),
        other => Failure::usage(format!("error: cannot start the run: {other}")),
    })?;
    if let Some(file) = engine.recording_file() {
        signals.set_last_words(format!(
            "; the recording stays unfinished in `{}` (it reads up to its last whole record: `slotscope check` it, or remove it)",
            file.display()
        ));
    }
    let mut progress = show_progress.then(|| Progress::new(&engine, label.to_owned()));
    let mut stopped_by = None;
    let mut next_draw = Instant::now();
    loop {
        if let Some(sig) = signals.received() {
            stopped_by = Some(sig);
            break;
        }
        if let Some(p) = &mut progress {
            if Instant::now() >= next_draw {
                p.draw(&spec);
                next_draw += PROGRESS_PERIOD;
            }
        }
        // Short waits: signals are noticed within this much.
        if engine.wait(Some(Duration::from_millis(50))) {
            break;
        }
    }
    if let Some(p) = &mut progress {
        p.clear();
    }
    drop(progress);
    if let Some(sig) = stopped_by {
        note(&format!(
            "slotscope: {} received: stopping the workers and writing the report (again to quit at once)",
            signal_exit(sig).0
        ));
    }
    let mut report = engine.stop();
    report.stopped_by = stopped_by.map(|s| signal_exit(s).0.to_owned());
    Ok((report, stopped_by))
}

/// The `time_every` the engine will use for `spec` after `calibration` (see
/// `slotscope_stress::engine::calibration`).
pub fn chosen_time_every(spec: &RunSpec, calibration: Option<&Calibration>) -> u32 {
    match (spec.time_every, calibration) {
        (TIME_EVERY_AUTO, Some(c)) => c.auto_time_every(),
        (TIME_EVERY_AUTO, None) => FALLBACK_TIME_EVERY,
        (k, _) => k,
    }
}

/// The banner's timing line: the sampling, the clock, and the engine's own cost.
pub fn timing_line(time_every: u32, auto: bool, calibration: Option<&Calibration>) -> String {
    let sampling = match (time_every, auto) {
        (1, _) => "every op timed".to_owned(),
        (k, true) => format!("1 op in {k} timed (auto)"),
        (k, false) => format!("1 op in {k} timed"),
    };
    match calibration {
        Some(c) => format!(
            "timing: {sampling}, clock {:.1} ns per read ({:.1}% of the loop) · engine overhead ~{:.1} ns/op \
             ({:.0} to {:.0} over {ROUNDS} rounds; bare loop {:.1}, engine {:.1} ns/op, 1 thread, {} slots)",
            c.clock_read_ns,
            100.0 * c.clock_share(time_every),
            c.overhead_ns_per_op,
            c.overhead_range_ns.0,
            c.overhead_range_ns.1,
            c.bare_ns_per_op,
            c.engine_ns_per_op,
            c.slots
        ),
        None => format!("timing: {sampling} · engine overhead not measured"),
    }
}

/// One line about what is about to run.
pub fn banner(resolved: &ResolvedRun) -> String {
    let spec = &resolved.spec;
    let stop = match spec.stop {
        StopSpec::Duration(d) => format!("for {}", format_duration(d)),
        StopSpec::Ops(n) => format!("for {n} ops per thread"),
        StopSpec::Forever => "until stopped".to_owned(),
    };
    let variant = if spec.table.variant.is_broken() {
        format!(" · BROKEN variant `{}` (on purpose)", spec.table.variant.name())
    } else {
        String::new()
    };
    format!(
        "slotscope: `{}` ({}) on {}, {} thread{} {stop}, seed {}{variant}",
        spec.name,
        resolved.origin,
        spec.table.backend.name(),
        spec.initial_threads(),
        if spec.initial_threads() == 1 { "" } else { "s" },
        spec.seed
    )
}

/// `slotscope run ... --no-tui`.
pub fn run(resolved: ResolvedRun, args: &RunArgs) -> Result<ExitCode, Failure> {
    refuse_unsupported(args)?;
    let conditions = parse_conditions(args)?;
    if let Some(path) = &args.report.output {
        output::check_writable(path)?;
    }
    // Before anything is printed: whoever waits for the banner may signal right away.
    let signals = Signals::install()?;
    // Before the banner, so that it and the repeat line can say what automatic timing chose.
    let calibration = if resolved.spec.groups.iter().any(|g| g.threads > 0) {
        Engine::calibrate(&resolved.spec)
    } else {
        None
    };
    let time_every = chosen_time_every(&resolved.spec, calibration.as_ref());
    let mut resolved = resolved;
    let asked_every = resolved.spec.time_every;
    resolved.spec.time_every = time_every;
    let repeat = resolve::repeat_command("run", &resolved, true);
    resolved.spec.time_every = asked_every;
    let record = record_options(args, &repeat)?;
    note(&banner(&resolved));
    note(&format!("  {}", timing_line(time_every, asked_every == TIME_EVERY_AUTO, calibration.as_ref())));
    note(&format!("  repeat: {repeat}"));
    if let Some(caveat) = resolve::repeat_caveat(&resolved) {
        note(&caveat);
    }
    if let Some(r) = &record {
        note(&format!("  recording into {} (limit {})", r.path.display(), args.record_limit));
    }
    let (mut report, stopped_by) = execute(resolved.spec, &signals, "  ", record.as_ref(), calibration)?;
    report.repeat_command = Some(repeat);
    let trace_failed = report_recording(&report);

    let verdicts = evaluate_all(&conditions, &report);
    let extras = Extras { verdicts: &verdicts, spectrum: args.report.spectrum, detail: args.report.detail };
    let bytes = output::render(&report, args.report.output_format, &extras)?;
    output::deliver(&bytes, args.report.output.as_deref())?;
    if let Some(path) = &args.report.output {
        note(&format!("slotscope: report written to {}", path.display()));
    }

    let mut failed = false;
    for v in verdicts.iter().filter(|v| v.failed()) {
        note(&format!("slotscope: --fail-if {v}"));
        failed = true;
    }
    if !report.passed() {
        let v = &report.checks.violations;
        note(&format!(
            "slotscope: self-check FAILED: {} violation{}{}",
            v.count,
            if v.count == 1 { "" } else { "s" },
            v.first.first().map_or_else(String::new, |first| format!(" (first: {first})"))
        ));
        failed = true;
    }
    if trace_failed {
        return Ok(ExitCode::from(exit::OUTPUT_FAILED));
    }
    if let Some(sig) = stopped_by {
        let (name, code) = signal_exit(sig);
        note(&format!(
            "slotscope: stopped by {name} after {}; the report covers that part",
            format_ns(report.active().as_secs_f64() * 1e9)
        ));
        return Ok(ExitCode::from(code));
    }
    Ok(if failed { ExitCode::from(exit::CHECK_FAILED) } else { ExitCode::from(exit::OK) })
}

/// `--record FILE` and `--record-limit` as the recorder takes them (`None` without `--record`).
fn record_options(args: &RunArgs, repeat: &str) -> Result<Option<RecordOptions>, Failure> {
    let Some(path) = &args.record else { return Ok(None) };
    slotscope_stress::recorder::target::check(path).map_err(|why| {
        Failure::new(exit::OUTPUT_FAILED, format!("error: cannot record into `{}`: {why}", path.display()))
    })?;
    let mut options = RecordOptions::new(path);
    options.limit = args.record_limit;
    options.limit_text = args.record_limit.to_string();
    options.lossy = args.record_lossy;
    options.command = repeat.to_owned();
    Ok(Some(options))
}

/// Says what was recorded; true if writing the trace failed.
fn report_recording(report: &Report) -> bool {
    let Some(r) = &report.recording else { return false };
    if let Some(e) = &r.error {
        note(&format!(
            "error: recording into {} failed: {e}; at most {} bytes reached it (it reads up to its last whole record)",
            r.path, r.bytes
        ));
        return true;
    }
    note(&format!(
        "slotscope: recorded {}: {} bytes, {} op events, {} dropped; {}",
        r.path, r.bytes, r.events, r.dropped, r.end
    ));
    for line in recording_notes(r) {
        note(&format!("  {line}"));
    }
    note(&format!("  check it with: slotscope check {}", r.path));
    false
}

/// What a recording's report adds: drops, the time workers waited for the writer (and what
/// that does to the figures), the limit a stopped recording would have needed.
pub fn recording_notes(r: &slotscope_stress::report::RecordingReport) -> Vec<String> {
    let mut lines = Vec::new();
    if r.dropped > 0 {
        lines.push("the writer fell behind (--record-lossy): checks over the dropped stretches will say \"incomplete\"".to_owned());
    }
    if r.waits > 0 {
        #[allow(clippy::cast_precision_loss)]
        let ms = r.waited_ns as f64 / 1e6;
        lines.push(format!(
            "workers waited {ms:.1} ms in all ({} waits) for the writer to make room; the waits come between ops (not in any service time; in open loop they count in the corrected latency), but the run was throttled: its throughput and contention figures are not comparable with an unrecorded run",
            r.waits
        ));
    }
    if let Some(a) = &r.advice {
        lines.push(a.clone());
    }
    lines
}
