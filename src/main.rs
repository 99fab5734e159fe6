//! slotscope: a terminal app that hosts a lock-free table, stresses it and shows it live.
//!
//! `main` parses the command line, picks the TUI or the headless runner, and turns every
//! outcome into an exit code (DESIGN §8). Errors print to stderr; the terminal is restored by
//! whoever changed it before the error reaches here.

mod check;
mod cli;
mod exit;
mod record;
mod resolve;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, RunArgs};
use crate::exit::Failure;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("{failure}");
            failure.exit_code()
        }
    }
}

fn dispatch(cli: Cli) -> Result<ExitCode, Failure> {
    match cli.command {
        None => run(None, &cli.run),
        Some(Command::Run { scenario, run: args }) => run(scenario.as_deref(), &args),
        Some(Command::Scenarios) => {
            for b in slotscope_stress::scenario::list() {
                println!("{:<14} {}", b.0, b.1);
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Check { file, emit_test, window_time_limit, table_path }) => {
            check::run_check(&file, emit_test.as_deref(), &window_time_limit, table_path.as_deref())
        }
        Some(Command::Replay { file, exec: true, .. }) => check::run_replay_exec(&file),
        Some(Command::Replay { .. }) => Err(Failure::usage(
            "error: the interactive replay is not available in this build yet; `slotscope replay FILE --exec` \
             re-executes a trace, `slotscope check FILE` checks it",
        )),
        Some(other) => {
            Err(Failure::usage(format!("error: `{}` is not available in this build yet", name_of(&other))))
        }
    }
}

/// `slotscope [run] [SCENARIO] [flags]`: the TUI on a terminal, headless otherwise.
fn run(scenario: Option<&str>, args: &RunArgs) -> Result<ExitCode, Failure> {
    let headless = args.no_tui || !std::io::stdout().is_terminal();
    let resolved = resolve::resolve_run(scenario, args, headless || args.record.is_some())?;
    for w in &resolved.warnings {
        eprintln!("{w}");
    }
    if args.record.is_some() {
        // Recorded runs are headless in this build (the TUI will record through the same API).
        return record::run_recorded(resolved, args);
    }
    Err(Failure::usage(format!(
        "error: running scenarios is not available in this build yet (resolved `{}` from {})",
        resolved.spec.name, resolved.origin
    )))
}

fn name_of(command: &Command) -> &'static str {
    match command {
        Command::Run { .. } => "run",
        Command::Scenarios => "scenarios",
        Command::Compare { .. } => "compare",
        Command::Replay { .. } => "replay",
        Command::Check { .. } => "check",
        Command::Lessons => "lessons",
        Command::Lesson { .. } => "lesson",
        Command::Completions { .. } => "completions",
    }
}
