//! slotscope: a terminal app that hosts a lock-free table, stresses it and shows it live.
//!
//! `main` parses the command line, picks the TUI or the headless runner, and turns every
//! outcome into an exit code (DESIGN §8). Errors print to stderr; the terminal is restored by
//! whoever changed it before the error reaches here.

mod adapt;
mod app;
#[cfg(test)]
mod bench;
mod check;
mod cli;
mod compare;
mod exit;
mod headless;
mod output;
mod replay;
mod resolve;
mod save;
mod tui;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command, RunArgs};
use crate::exit::Failure;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        Err(failure) => {
            headless::note(&failure.to_string());
            failure.exit_code()
        }
    }
}

fn dispatch(cli: Cli) -> Result<ExitCode, Failure> {
    match cli.command {
        None => run(None, &cli.run),
        Some(Command::Run { scenario, run: args }) => run(scenario.as_deref(), &args),
        Some(Command::Scenarios) => {
            let mut text = String::new();
            for b in slotscope_stress::scenario::list() {
                text.push_str(&format!("{:<14} {}\n", b.0, b.1));
            }
            output::deliver(text.as_bytes(), None)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Compare { scenario, backends, run: args }) => {
            compare::run(scenario.as_deref(), &backends, &args)
        }
        Some(Command::Completions { shell }) => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "slotscope", &mut script);
            output::deliver(&script, None)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Check { file, emit_test, window_time_limit, table_path }) => {
            check::run_check(&file, emit_test.as_deref(), &window_time_limit, table_path.as_deref())
        }
        Some(Command::Replay { file, exec: true, .. }) => check::run_replay_exec(&file),
        Some(Command::Replay { file, exec: false, speed, at_violation, look }) => {
            replay::run(&file, &replay::ReplayArgs { speed, at_violation, look })
        }
        Some(other) => {
            Err(Failure::usage(format!("error: `{}` is not available in this build yet", name_of(&other))))
        }
    }
}

/// `slotscope [run] [SCENARIO] [flags]`: the TUI on a terminal, headless otherwise.
fn run(scenario: Option<&str>, args: &RunArgs) -> Result<ExitCode, Failure> {
    let headless = args.no_tui || !std::io::stdout().is_terminal();
    // Recorded runs are headless in this build: the TUI does not record yet.
    let headless = headless || args.record.is_some();
    let resolved = resolve::resolve_run(scenario, args, headless)?;
    for w in &resolved.warnings {
        headless::note(w);
    }
    if headless {
        headless::run(resolved, args)
    } else {
        tui::run(resolved, args)
    }
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
