//! slotscope: a terminal app that hosts a lock-free table, stresses it and shows it live.
//!
//! `main` parses the command line, picks the TUI or the headless runner, and turns every
//! outcome into an exit code (README.md, "Exit codes"). Errors print to stderr; the terminal is restored by
//! whoever changed it before the error reaches here.
// Everything is written through `console` (a write that fails must not panic or pass unseen).
#![cfg_attr(not(test), deny(clippy::print_stdout, clippy::print_stderr))]

mod adapt;
mod app;
#[cfg(test)]
mod bench;
mod check;
mod cli;
mod compare;
mod console;
mod engines;
mod exit;
mod explain;
mod frames;
mod headless;
mod lesson;
mod nav;
mod output;
mod replay;
mod resolve;
mod save;
mod split;
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
            if !failure.message.is_empty() {
                console::note(&failure.message);
            }
            failure.exit_code()
        }
    }
}

fn dispatch(cli: Cli) -> Result<ExitCode, Failure> {
    match cli.command {
        None => run(None, &cli.run),
        Some(Command::Run { scenario, run: args }) => run(scenario.as_deref(), &args),
        Some(Command::Lessons) => {
            let ctx = slotscope_stress::scenario::ValidationContext::detect();
            let mut text = String::new();
            for (name, summary, minutes) in crate::lesson::list(&ctx) {
                text.push_str(&format!("{name:<22} {minutes:>3} min  {summary}\n"));
            }
            text.push_str(
                "\nslotscope lesson NAME opens one (n / p step through it); a path to a lesson file works too.\n",
            );
            console::out(&text)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Lesson { name, run: args }) => lesson(&name, &args),
        Some(Command::Scenarios) => {
            let mut text = String::new();
            for b in slotscope_stress::scenario::list() {
                text.push_str(&format!("{:<14} {}\n", b.0, b.1));
            }
            output::deliver(text.as_bytes(), None)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Compare { scenario, layouts, turns, run: args, .. }) if !layouts.is_empty() => {
            compare::layouts::run(scenario.as_deref(), &layouts, &turns, &args)
        }
        Some(Command::Compare { scenario, backends, run: args, .. }) => {
            compare::run(scenario.as_deref(), &backends, &args)
        }
        Some(Command::Completions { shell }) => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "slotscope", &mut script);
            output::deliver(&script, None)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Check { file, emit_test, window_time_limit, table_path }) => {
            check::run_check(&file, emit_test.as_deref(), window_time_limit, table_path.as_deref())
        }
        Some(Command::Replay { file, exec: true, .. }) => check::run_replay_exec(&file),
        Some(Command::Replay { file, exec: false, speed, at_violation, look }) => {
            replay::run(&file, &replay::ReplayArgs { speed, at_violation, look })
        }
    }
}

/// `slotscope [run] [SCENARIO] [flags]`: the TUI on a terminal, headless otherwise.
fn run(scenario: Option<&str>, args: &RunArgs) -> Result<ExitCode, Failure> {
    let headless = args.no_tui || !std::io::stdout().is_terminal();
    // Recorded runs are headless in this build: the TUI does not record yet.
    let headless = headless || args.record.is_some();
    let resolved = resolve::resolve_run(scenario, &args.workload, headless)?;
    for w in &resolved.warnings {
        headless::note(w);
    }
    let split = args.compare_layout;
    if headless {
        if split.is_some() {
            return Err(Failure::usage(
                "error: --compare-layout is a TUI view (two tables side by side); headless, use \
                 `slotscope compare --layouts A,B` (alternating turns, with intervals)",
            ));
        }
        headless::run(resolved, args)
    } else {
        tui::run(resolved, args, tui::Workshop { lesson: None, split })
    }
}

/// `slotscope lesson NAME`: the lesson's scenario (with the flags applied) in the TUI, with
/// its narration.
fn lesson(name: &str, args: &RunArgs) -> Result<ExitCode, Failure> {
    use crate::lesson;
    let ctx = slotscope_stress::scenario::ValidationContext::detect();
    let lesson = lesson::resolve(name, &ctx)?;
    let mut warnings = Vec::new();
    let rendered = lesson.render_warnings();
    if !rendered.is_empty() {
        warnings.push(rendered);
    }
    // Compact pinning takes cores in order: the lesson's threads land on the first ones.
    let threads = lesson.spec.groups.iter().map(|g| g.threads).max().unwrap_or(0).max(2);
    let mut cores = ctx.cores.clone();
    cores.sort_unstable();
    cores.truncate(threads);
    for (x, y) in slotscope_stress::machine::topology::smt_sibling_pairs(std::path::Path::new("/"), &cores) {
        warnings.push(format!(
            "warning: cores {x} and {y} are SMT siblings (one physical core): threads on them share its \
             caches, and false sharing does not show between them"
        ));
    }
    if args.no_tui || !std::io::stdout().is_terminal() {
        return Err(Failure::usage(format!(
            "error: a lesson is taught in the TUI: run `slotscope lesson {name}` on a terminal \
             (`slotscope lessons` lists them)"
        )));
    }
    let mut spec = lesson.start_spec();
    let overrides = resolve::overrides_from(&args.workload);
    if !overrides.is_empty() {
        let problems = overrides.apply(&mut spec, &ctx).map_err(|e| Failure::usage(e.to_string()))?;
        warnings.extend(problems.iter().map(ToString::to_string));
    }
    for w in &warnings {
        console::note(w);
    }
    let split = args.compare_layout;
    let origin = lesson.origin.clone();
    let resolved = resolve::ResolvedRun { spec, origin, warnings, scenario_arg: name.to_owned(), overrides };
    tui::run(resolved, args, tui::Workshop { lesson: Some(lesson), split })
}
