//! The live TUI: terminal set-up and tear-down, and the loop that turns input, samples and
//! signals into messages for [`crate::app::update`] and draws the model.
//!
//! The terminal is put back (raw mode off, alternate screen left, cursor shown, mouse capture
//! off) on every way out: a normal quit, an error (the guard's `Drop`), a panic (a hook that
//! restores before the panic message prints), and SIGINT/SIGTERM/SIGHUP (flags the loop
//! checks at least every [`SIGNAL_POLL`]; it then returns like a quit, with 128 + the signal).
//! In raw mode Ctrl-C is a key, not a signal: it quits like `q`.

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant, SystemTime};

use crate::lesson::Lesson;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use ratatui::crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::crossterm::{cursor, execute};
use ratatui::Terminal;
use slotscope_stress::machine::pin::CorePlan;
use slotscope_stress::machine::topology::Topology as MachineTopology;
use slotscope_stress::WORKER_THREAD_PREFIX;
use slotscope_stress::{Engine, EngineOptions};
use slotscope_table::Layout;
use slotscope_views::theme::no_color_requested;
use slotscope_views::{Palette, Theme};

use crate::adapt::{self, RunFacts};
use crate::app::{self, Exit, Message, Model, Request};
use crate::cli::{LookArgs, RunArgs, ThemeName};
use crate::engines::Engines;
use crate::exit::{self, Failure};
use crate::frames::FrameRing;
use crate::lesson::LessonRun;
use crate::resolve::ResolvedRun;
use crate::save;

/// The longest the loop waits before looking at the signal flags again.
pub const SIGNAL_POLL: Duration = Duration::from_millis(50);
/// Input events handled before the loop samples, draws and looks at signals again.
pub const MAX_EVENTS_PER_WAKE: usize = 256;
/// Allowed `--fps` and `--sample-hz`.
pub const RATE_RANGE: std::ops::RangeInclusive<u32> = 1..=60;

/// Set while the terminal is in raw mode on the alternate screen: whoever restores first
/// (the guard, the panic hook) clears it, so the restore runs once.
static TERMINAL_TAKEN: AtomicBool = AtomicBool::new(false);

/// Puts the terminal back; safe to call any number of times, from any thread.
pub fn restore_terminal() {
    if TERMINAL_TAKEN.swap(false, Ordering::SeqCst) {
        let mut out = io::stdout();
        // Errors are ignored: after SIGHUP there may be no terminal left to restore.
        let _ = execute!(out, DisableMouseCapture, LeaveAlternateScreen, cursor::Show);
        let _ = disable_raw_mode();
        let _ = out.flush();
    }
}

/// Owns the terminal's raw, alternate-screen state; restores it when dropped.
pub(crate) struct TerminalGuard;

impl TerminalGuard {
    pub(crate) fn enter() -> io::Result<TerminalGuard> {
        enable_raw_mode()?;
        TERMINAL_TAKEN.store(true, Ordering::SeqCst);
        let guard = TerminalGuard;
        execute!(io::stdout(), EnterAlternateScreen, cursor::Hide)?;
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// A panic on the UI thread restores the terminal, then the previous hook prints. Worker
/// panics go straight to the engine's hook (it records them as violations; the TUI stays).
pub(crate) fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let worker = std::thread::current().name().is_some_and(|n| n.starts_with(WORKER_THREAD_PREFIX));
            if !worker {
                restore_terminal();
            }
            previous(info);
        }));
    });
}

/// How long the loop has to end by itself after a signal or a hang-up before the watchdog
/// ends the process.
pub const WATCHDOG_GRACE: Duration = Duration::from_secs(3);
/// How often the watchdog looks.
const WATCHDOG_PERIOD: Duration = Duration::from_millis(250);

/// A last resort that does not depend on the UI thread: crossterm 0.28's terminal reader
/// spins forever once reads of a hung-up terminal return EOF or EIO (it only stops on
/// `WouldBlock`), so after the terminal goes away (a closed window, a killed tmux) the loop
/// never looks at the signal flags again. This thread notices the hang-up itself (`POLLHUP` on
/// stdin) or a pending signal; if the loop has not ended `WATCHDOG_GRACE` later, it restores
/// what can be restored and exits with 128 + the signal (129 for a hang-up). The workers die
/// with the process; there is no terminal left to print a summary on anyway.
pub(crate) fn start_watchdog(signals: Arc<AtomicUsize>) {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    let spawned = std::thread::Builder::new().name("slotscope-watchdog".into()).spawn(move || {
        let mut since: Option<Instant> = None;
        loop {
            std::thread::sleep(WATCHDOG_PERIOD);
            let stdin = io::stdin();
            let mut fds = [PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
            let hung_up = poll(&mut fds, PollTimeout::ZERO).is_ok()
                && fds[0].revents().is_some_and(|r| r.intersects(PollFlags::POLLHUP | PollFlags::POLLERR));
            if hung_up {
                // Tell the loop, in case it is still listening.
                let _ = signals.compare_exchange(0, 1, Ordering::Relaxed, Ordering::Relaxed);
            }
            let pending = signals.load(Ordering::Relaxed);
            if pending == 0 {
                continue;
            }
            let first = *since.get_or_insert_with(Instant::now);
            if first.elapsed() >= WATCHDOG_GRACE {
                restore_terminal();
                std::process::exit(128 + i32::try_from(pending).unwrap_or(1));
            }
        }
    });
    // Without a watchdog the TUI still works; only a hung-up terminal could leave it spinning.
    drop(spawned);
}

/// SIGINT, SIGTERM and SIGHUP set this to their number.
pub(crate) fn register_signals() -> Result<Arc<AtomicUsize>, Failure> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let flag = Arc::new(AtomicUsize::new(0));
    for sig in [SIGINT, SIGTERM, SIGHUP] {
        let value = usize::try_from(sig).unwrap_or(0);
        signal_hook::flag::register_usize(sig, Arc::clone(&flag), value)
            .map_err(|e| Failure::new(1, format!("error: cannot handle signal {sig}: {e}")))?;
    }
    Ok(flag)
}

/// The theme `look` and the environment ask for.
pub fn theme_of(look: &LookArgs, no_color_env: bool) -> Theme {
    let requested = match look.theme {
        ThemeName::Dark => Palette::Dark,
        ThemeName::Light => Palette::Light,
        ThemeName::Cvd => Palette::Cvd,
        ThemeName::Mono => Palette::Mono,
    };
    Theme::new(Palette::resolve(requested, look.no_color || no_color_env), look.ascii)
}

pub(crate) fn check_rate(flag: &str, v: u32) -> Result<(), Failure> {
    if RATE_RANGE.contains(&v) {
        Ok(())
    } else {
        Err(Failure::usage(format!(
            "error: invalid value for {flag}: {v} (expected {}..={})",
            RATE_RANGE.start(),
            RATE_RANGE.end()
        )))
    }
}

/// What a workshop adds to a run: a lesson, an A/B split.
#[derive(Debug, Default)]
pub struct Workshop {
    /// The lesson to teach.
    pub lesson: Option<Lesson>,
    /// Side A's and side B's layouts of an A/B split to start with.
    pub split: Option<(Layout, Layout)>,
}

/// Runs `resolved` in the TUI until quit (or a signal); then stops the engine, restores the
/// terminal and prints the run's text summary to stdout.
pub fn run(resolved: ResolvedRun, args: &RunArgs, workshop: Workshop) -> Result<ExitCode, Failure> {
    let look = &args.look;
    let is_lesson = workshop.lesson.is_some();
    // The summary after the TUI names the command that runs the same again.
    let repeat = crate::resolve::repeat_command(if is_lesson { "lesson" } else { "run" }, &resolved, false);
    if args.report.output.is_some() || !args.report.fail_if.is_empty() || args.record.is_some() {
        crate::console::note(
            "note: the TUI does not write -o/--output, check --fail-if or --record yet; \
             run with --no-tui for those",
        );
    }
    check_rate("--fps", look.fps)?;
    check_rate("--sample-hz", look.sample_hz)?;
    let theme = theme_of(look, no_color_requested(std::env::var_os("NO_COLOR").as_deref()));
    let signals = register_signals()?;
    start_watchdog(Arc::clone(&signals));
    let mut spec = resolved.spec;
    if let Some((a, _)) = workshop.split {
        spec.table.layout = a;
    }
    let facts = RunFacts::of(&spec, look.sample_hz);
    let snapshots = FrameRing::snapshots_for(spec.table.capacity);
    let spare_core = spec.spare_core;
    // Lessons count garbage (the epoch-stall lesson shows it; values grow to 24 bytes).
    let options = EngineOptions { garbage_gauge: workshop.lesson.is_some(), ..EngineOptions::default() };
    let base = spec.clone();
    let engine =
        Engine::start_with_options(spec, options).map_err(|e| Failure::usage(format!("error: {e}")))?;
    let machine = MachineTopology::detect(&engine.machine().available_cores);
    let topology = adapt::topology(&machine, CorePlan::new(&machine, spare_core).spare());
    let mut run = Engines::new(engine, base, options);
    let split_at_start = workshop.split.or_else(|| workshop.lesson.as_ref().and_then(|l| l.split));
    let split_started = match split_at_start {
        Some((_, b)) => Some(
            run.start_b(b, None).map_err(|e| Failure::usage(format!("error: side B of the split: {e}")))?,
        ),
        None => None,
    };
    install_panic_hook();

    let guard = TerminalGuard::enter().map_err(|e| Failure::new(1, format!("error: terminal: {e}")))?;
    let result = Terminal::new(CrosstermBackend::new(io::stdout())).and_then(|mut terminal| {
        let size = terminal.size()?;
        let area = ratatui::layout::Rect::new(0, 0, size.width, size.height);
        let mut model = Model::new(facts, theme, area, topology, snapshots);
        app::update(&mut model, Message::Present(look.present));
        if !look.no_mouse {
            crate::nav::Navigable::set_mouse(&mut model, true);
        }
        if let Some(m) = split_started {
            app::update(&mut model, m);
        }
        if let Some(l) = workshop.lesson {
            app::update(&mut model, Message::StartLesson(Box::new(LessonRun::new(l))));
        }
        event_loop(&mut terminal, &mut model, &mut run, &signals, look)
    });
    // Stop and join the workers while the last screen is still up, then restore the terminal.
    let (mut report, split_end) = run.finish();
    report.repeat_command = Some(repeat);
    drop(guard);
    let exit = result.map_err(|e| Failure::new(1, format!("error: terminal: {e}")))?;
    // After a signal (a hang-up: the terminal may be gone) the summary is best effort; after
    // a quit, a stdout that cannot take it is an error like any other (exit 5, or 141 closed).
    let mut text = String::new();
    if let Some(end) = &split_end {
        text.push_str(&crate::split::summary_text(&report, &end.report, end.layouts, &end.turns));
        text.push_str(&format!("side A ({}) in full:\n", end.layouts.0));
    }
    text.push_str(&crate::output::text_report(&report, args.report.detail, args.report.spectrum));
    let printed = crate::console::out(&text);
    if let (Err(f), Exit::Quit | Exit::Again) = (printed, exit) {
        return Err(f);
    }
    if exit == Exit::Again {
        return Err(run_again());
    }
    let broken = report.backends.iter().any(|b| b.broken);
    let violations =
        report.checks.violations.count + split_end.as_ref().map_or(0, |e| e.report.checks.violations.count);
    Ok(match exit {
        Exit::Signal(sig) => ExitCode::from(u8::try_from(128 + sig).unwrap_or(exit::CHECK_FAILED)),
        // A lesson shows something: it succeeded when what it set out to show happened. A
        // broken variant ran on purpose, so violations were expected; without one, none were.
        Exit::Quit if is_lesson => {
            let (ok, said) = match (broken, violations > 0) {
                (true, true) => (true, format!("the lesson's broken variant showed {violations} violations, as it set out to")),
                (true, false) => (false, "the lesson ran a broken variant but no violation showed: the demonstration did not happen".to_owned()),
                (false, false) => (true, String::new()),
                (false, true) => (false, format!("self-checks failed: {violations} violations on the correct table")),
            };
            if !said.is_empty() {
                crate::console::note(&said);
            }
            ExitCode::from(if ok { exit::OK } else { exit::CHECK_FAILED })
        }
        Exit::Quit if violations > 0 || !report.passed() => {
            let why = if broken { " (a broken variant ran, on purpose)" } else { "" };
            crate::console::note(&format!("self-checks failed: {violations} violations{why}"));
            ExitCode::from(exit::CHECK_FAILED)
        }
        // `Again` returned above, in place of this process.
        Exit::Quit | Exit::Again => ExitCode::SUCCESS,
    })
}

/// `R` after the run ended: the same command line again, in place of this process (the
/// summary of the run that ended is printed above it). Returns only if that fails.
fn run_again() -> Failure {
    use std::os::unix::process::CommandExt as _;
    let err = match std::env::current_exe() {
        Ok(exe) => std::process::Command::new(exe).args(std::env::args_os().skip(1)).exec(),
        Err(e) => e,
    };
    Failure::new(1, format!("error: cannot run the command again: {err}"))
}

fn event_loop<B: ratatui::backend::Backend>(
    terminal: &mut Terminal<B>,
    model: &mut Model,
    run: &mut Engines,
    signals: &AtomicUsize,
    look: &LookArgs,
) -> io::Result<Exit> {
    let frame_period = Duration::from_secs(1) / look.fps;
    let sample_period = Duration::from_secs(1) / look.sample_hz;
    let mut next_sample = Instant::now();
    let mut last_draw: Option<Instant> = None;
    loop {
        let now = Instant::now();
        app::update(model, Message::Tick(now));
        let sig = signals.load(Ordering::Relaxed);
        if sig != 0 {
            app::update(model, Message::Signal(i32::try_from(sig).unwrap_or(15)));
        }
        if let Some(exit) = model.exit {
            return Ok(exit);
        }
        if now >= next_sample {
            if model.wants_samples() {
                let (focus, switch) = (model.focus_line(), !model.paused);
                run.sample(focus, switch, |message| app::update(model, message));
                if model.done {
                    run.stop();
                }
            }
            next_sample += sample_period;
            if next_sample <= now {
                // Fell behind (a slow scan, a suspended terminal): no burst of catch-up samples.
                next_sample = now + sample_period;
            }
        }
        perform_requests(model, run);
        if model.dirty && last_draw.is_none_or(|t| now.duration_since(t) >= frame_period) {
            terminal.draw(|f| app::draw(model, f))?;
            app::update(model, Message::Drawn);
            last_draw = Some(now);
        }
        // Wait for input until the next sample, the next allowed frame, or the signal check.
        let mut wake = next_sample.min(now + SIGNAL_POLL);
        if model.dirty {
            if let Some(t) = last_draw {
                wake = wake.min(t + frame_period);
            }
        }
        let mut timeout = wake.saturating_duration_since(Instant::now());
        // Bounded, and the signal flags looked at between events: a terminal that went away
        // (SIGHUP) can report events without end, and the loop must still see the signal.
        let mut events = 0;
        while events < MAX_EVENTS_PER_WAKE && signals.load(Ordering::Relaxed) == 0 && event::poll(timeout)? {
            events += 1;
            let message = match event::read()? {
                Event::Key(k) => Message::Key(k),
                Event::Mouse(m) => Message::Mouse(m),
                Event::Resize(w, h) => Message::Resize(w, h),
                _ => {
                    timeout = Duration::ZERO;
                    continue;
                }
            };
            app::update(model, message);
            perform_requests(model, run);
            if model.exit.is_some() {
                break;
            }
            timeout = Duration::ZERO;
        }
    }
}

/// Carries out what `update` asked for, feeding each outcome back to it: saving and the mouse
/// here, the rest by the engines.
fn perform_requests(model: &mut Model, run: &mut Engines) {
    for request in std::mem::take(&mut model.requests) {
        let answers = match request {
            Request::Save => {
                let dir = std::env::current_dir().unwrap_or_else(|_| ".".into());
                vec![Message::Saved(save::save_screen(model, &dir, SystemTime::now()))]
            }
            Request::Mouse(on) => {
                let r = if on {
                    execute!(io::stdout(), EnableMouseCapture)
                } else {
                    execute!(io::stdout(), DisableMouseCapture)
                };
                r.err().map(|e| Message::MouseFailed(e.to_string())).into_iter().collect()
            }
            engine_request => run.perform(engine_request, model.lesson.as_ref(), model.paused),
        };
        for m in answers {
            app::update(model, m);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_wins_over_any_theme_and_ascii_is_kept() {
        let look = |theme, no_color, ascii| LookArgs { theme, no_color, ascii, ..LookArgs::default() };
        assert_eq!(theme_of(&look(ThemeName::Light, false, false), false).palette, Palette::Light);
        assert_eq!(theme_of(&look(ThemeName::Cvd, false, false), true).palette, Palette::Mono, "NO_COLOR");
        assert_eq!(
            theme_of(&look(ThemeName::Light, true, false), false).palette,
            Palette::Mono,
            "--no-color"
        );
        let ascii = theme_of(&look(ThemeName::Dark, false, true), false);
        assert_eq!((ascii.palette, ascii.glyphs), (Palette::Dark, slotscope_views::Glyphs::ASCII));
    }

    #[test]
    fn frame_and_sample_rates_are_bounded() {
        assert!(check_rate("--fps", 30).is_ok());
        let e = check_rate("--fps", 0).unwrap_err();
        assert_eq!(e.code, exit::USAGE);
        assert!(e.message.contains("--fps: 0 (expected 1..=60)"), "{}", e.message);
        assert!(check_rate("--sample-hz", 61).is_err());
    }
}
