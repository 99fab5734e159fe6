//! `slotscope run --record FILE`: a headless run recorded into a trace.
//!
//! The headless runner and the TUI will call `Engine::start_recorded` themselves; until they
//! do, a run with `--record` goes through here: it starts the engine recorded, waits for the
//! end (or SIGINT / SIGTERM, after which it still closes the trace), prints a short summary
//! and what was recorded.

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use slotscope_stress::recorder::{parse_record_limit, RecordOptions};
use slotscope_stress::{Engine, EngineError};

use crate::cli::RunArgs;
use crate::exit::{self, Failure};
use crate::resolve::ResolvedRun;

/// How often the waiting loop looks at the signal flag.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// Runs `resolved` recorded into `args.record`.
pub fn run_recorded(resolved: ResolvedRun, args: &RunArgs) -> Result<ExitCode, Failure> {
    let Some(path) = args.record.clone() else {
        return Err(Failure::usage("error: --record needs a file"));
    };
    let limit = parse_record_limit(&args.record_limit)
        .map_err(|e| Failure::usage(format!("error: invalid value for --record-limit: {e}")))?;
    let mut options = RecordOptions::new(&path);
    options.limit = limit;
    options.limit_text = args.record_limit.clone();
    options.command = std::env::args().collect::<Vec<_>>().join(" ");

    let signal = Arc::new(AtomicUsize::new(0));
    for (sig, code) in
        [(signal_hook::consts::SIGINT, exit::SIGINT), (signal_hook::consts::SIGTERM, exit::SIGTERM)]
    {
        signal_hook::flag::register_usize(sig, Arc::clone(&signal), usize::from(code))
            .map_err(|e| Failure::new(exit::OUTPUT_FAILED, format!("error: cannot handle signals: {e}")))?;
    }
    let spec = resolved.spec;
    eprintln!(
        "recording `{}` (seed {}) into {} (limit {}); Ctrl-C stops the run and closes the trace",
        spec.name,
        spec.seed,
        path.display(),
        args.record_limit
    );
    let engine = Engine::start_recorded(spec, &options).map_err(|e| match e {
        EngineError::Record(m) => Failure::new(exit::OUTPUT_FAILED, format!("error: {m}")),
        other => Failure::usage(format!("error: {other}")),
    })?;
    while !engine.is_done() && signal.load(Ordering::Relaxed) == 0 {
        engine.wait(Some(SIGNAL_POLL));
    }
    let report = engine.stop();
    println!(
        "{}: {} ops in {:.2} s, {} violations found by the run's self-checks",
        report.spec.name,
        report.totals.ops(),
        report.active().as_secs_f64(),
        report.checks.violations.count
    );
    if let Some(r) = &report.recording {
        println!(
            "recorded {}: {} bytes, {} op events, {} dropped; {}",
            r.path, r.bytes, r.events, r.dropped, r.end
        );
        if r.dropped > 0 {
            println!("  the writer fell behind: checks over the dropped stretches will say \"incomplete\"");
        }
        if let Some(e) = &r.error {
            eprintln!("error: writing the trace failed: {e} (it reads up to its last whole record)");
            return Ok(ExitCode::from(exit::OUTPUT_FAILED));
        }
        println!("check it with: slotscope check {}", r.path);
    }
    let code = match signal.load(Ordering::Relaxed) {
        0 if report.passed() => exit::OK,
        0 => exit::CHECK_FAILED,
        s => u8::try_from(s).unwrap_or(exit::SIGINT),
    };
    Ok(ExitCode::from(code))
}
