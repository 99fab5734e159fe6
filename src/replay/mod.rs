//! `slotscope replay FILE`: the live app's views, driven offline by a recorded trace
//! (docs/CHECKING.md, level 2).
//!
//! The file is indexed once ([`Player::open`]: record positions, activity per time slice, and
//! checkpoints of the whole cursor state every [`CHECKPOINT_EVERY`] ops within
//! [`CHECKPOINT_BUDGET_BYTES`]); then the cursor moves by reading the file from the nearest
//! checkpoint, so memory does not grow with the trace. The loop is the live TUI's: the same
//! terminal guard, panic hook, signal flags and watchdog (`tui.rs`), an Elm-style model
//! ([`model`]) and one owned frame per seek ([`frame`]).
//!
//! When stdout is not a terminal, a plain-text summary of the trace is printed instead.

pub mod facts;
pub mod frame;
pub mod model;

use std::fmt::Write as _;
use std::io::{self, IsTerminal};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use ratatui::crossterm::execute;
use ratatui::layout::Rect;
use ratatui::Terminal;
use slotscope_trace::history::{check, CheckOptions, History};
use slotscope_trace::replay::{
    IndexOptions, Player, Target, CHECKPOINT_BUDGET_BYTES, CHECKPOINT_EVERY, WINDOW_MAX_OPS,
};
use slotscope_trace::Counter;
use slotscope_views::theme::no_color_requested;

use self::frame::{load, stop_text, TraceParts};
use self::model::{
    nearest_125, update, Message, Model, Request, FRAME_MAX_NS, FRAME_MIN_NS, SPEED_MAX, SPEED_MIN,
};
use crate::app::Exit;
use crate::cli::LookArgs;
use crate::exit::{self, Failure};
use crate::save;
use crate::tui::{self, TerminalGuard, SIGNAL_POLL};

/// Without `--speed`, the whole trace plays in about this long.
pub const PLAY_WHOLE_IN: Duration = Duration::from_secs(20);
/// The first frame step (and window) is the trace's span over this (then rounded to 1, 2, 5).
pub const FRAMES_PER_TRACE: u64 = 100;

/// What `slotscope replay FILE` was asked.
#[derive(Clone, Debug, Default)]
pub struct ReplayArgs {
    /// Playback speed; `None`: the whole trace in [`PLAY_WHOLE_IN`].
    pub speed: Option<f64>,
    /// Run the checker first and mark its first violation (`v` goes there).
    pub at_violation: bool,
    /// Theme, glyphs, frame rate.
    pub look: LookArgs,
}

/// A copy of a trace that cannot be read twice (a FIFO, a device), in a temporary file that
/// goes when this does; nothing for a regular file.
struct Spool(Option<std::path::PathBuf>);

impl Spool {
    fn of(file: &Path) -> io::Result<Spool> {
        let meta = std::fs::metadata(file)?;
        if meta.is_file() {
            return Ok(Spool(None));
        }
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let tmp = std::env::temp_dir().join(format!("slotscope-replay-{}-{nanos}.trace", std::process::id()));
        let copy = std::fs::File::open(file)
            .and_then(|mut from| std::fs::File::create(&tmp).and_then(|mut to| io::copy(&mut from, &mut to)));
        match copy {
            Ok(_) => Ok(Spool(Some(tmp))),
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(e)
            }
        }
    }

    fn path(&self) -> Option<&Path> {
        self.0.as_deref()
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        if let Some(p) = &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// `slotscope replay FILE`: the TUI on a terminal, a summary otherwise.
///
/// # Errors
/// An unreadable trace (exit 4, before the terminal is touched), a bad flag (exit 2), or a
/// terminal that fails (exit 1).
pub fn run(file: &Path, args: &ReplayArgs) -> Result<ExitCode, Failure> {
    if let Some(s) = args.speed {
        if !(SPEED_MIN..=SPEED_MAX).contains(&s) {
            return Err(Failure::usage(format!(
                "error: invalid value for --speed: {s} (expected {SPEED_MIN:e} to {SPEED_MAX})"
            )));
        }
    }
    tui::check_rate("--fps", args.look.fps)?;
    // A replay reads its file more than once (an index, then seeks): a FIFO or a device is
    // first copied into a temporary file, removed again when the replay ends.
    let spooled = Spool::of(file).map_err(|e| {
        Failure::new(
            exit::BAD_TRACE,
            format!("error: {}: {}", file.display(), slotscope_trace::TraceError::Io(e)),
        )
    })?;
    let readable = spooled.path().unwrap_or(file);
    let mut player = Player::open(readable, IndexOptions::default())
        .map_err(|e| Failure::new(exit::BAD_TRACE, format!("error: {}: {e}", file.display())))?;
    if !io::stdout().is_terminal() {
        let text = summary(file, &mut player)
            .map_err(|e| Failure::new(exit::BAD_TRACE, format!("error: {}: {e}", file.display())))?;
        crate::console::out(&text)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut parts = TraceParts::of(player.index());
    if args.at_violation {
        mark_violation(file, &player, &mut parts)?;
    }
    let (first, last) = parts.facts.span_ns;
    let span = last.saturating_sub(first).max(1);
    #[allow(clippy::cast_precision_loss)]
    let speed = args.speed.unwrap_or_else(|| nearest_125(span as f64 / PLAY_WHOLE_IN.as_nanos() as f64));
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let frame_ns =
        (nearest_125((span / FRAMES_PER_TRACE).max(1) as f64) as u64).clamp(FRAME_MIN_NS, FRAME_MAX_NS);
    player.set_window(frame_ns);
    player
        .seek(Target::Time(parts.facts.zero_ns))
        .map_err(|e| Failure::new(exit::BAD_TRACE, format!("error: {}: {e}", file.display())))?;
    let shown = load(&player, &parts, false, None)
        .map_err(|e| Failure::new(exit::BAD_TRACE, format!("error: {}: {e}", file.display())))?;
    let theme = tui::theme_of(&args.look, no_color_requested(std::env::var_os("NO_COLOR").as_deref()));

    let signals = tui::register_signals()?;
    tui::start_watchdog(Arc::clone(&signals));
    tui::install_panic_hook();
    let guard = TerminalGuard::enter().map_err(|e| Failure::new(1, format!("error: terminal: {e}")))?;
    let result = Terminal::new(CrosstermBackend::new(io::stdout())).and_then(|mut terminal| {
        let size = terminal.size()?;
        let area = Rect::new(0, 0, size.width, size.height);
        let mut m = Model::new(parts.facts.clone(), shown, theme, area, speed, frame_ns);
        m.notes = notes(&player, &parts);
        if !args.look.no_mouse {
            crate::nav::Navigable::set_mouse(&mut m, true);
        }
        match &parts.stopped {
            Some(s) => m.alarm(s.clone()),
            None => m.say("paused at the run's time zero: Space plays, ? lists the keys"),
        }
        let mut lp = Loop { player: &mut player, parts: &parts };
        lp.run(&mut terminal, &mut m, &signals, &args.look)
    });
    drop(guard);
    let exit = result.map_err(|e| Failure::new(1, format!("error: terminal: {e}")))?;
    Ok(match exit {
        Exit::Signal(sig) => ExitCode::from(u8::try_from(128 + sig).unwrap_or(exit::CHECK_FAILED)),
        // (The replay has no `R`: its keys do not include it.)
        Exit::Quit | Exit::Again => ExitCode::SUCCESS,
    })
}

/// Runs the history checker and marks its first violation.
fn mark_violation(file: &Path, player: &Player, parts: &mut TraceParts) -> Result<(), Failure> {
    let history = History::read(file)
        .map_err(|e| Failure::new(exit::BAD_TRACE, format!("error: {}: {e}", file.display())))?;
    let out = check(&history, &CheckOptions::default());
    let found = out.violations.iter().find_map(|f| f.op.map(|o| (o.event, f.key)));
    match found {
        Some((event, key)) => {
            let at = player.event_key(event).ok().flatten().map_or(parts.facts.span_ns.0, |k| k.0);
            parts.mark_violation(event, at, key);
        }
        None => crate::console::note("note: the checker found no violation with an op to go to"),
    }
    Ok(())
}

/// The help's "About this screen": where the figures come from, what seeking costs.
fn notes(player: &Player, parts: &TraceParts) -> Vec<String> {
    let index = player.index();
    let (cps, every) = index.checkpoints();
    let mut text = vec![
        "A recorded trace, replayed: nothing runs. The table is modelled from every op up to the \
         cursor (r: the recorded scan at or before it instead). Rates, interval latency and heat \
         are over the last frame of trace time (at most 65,536 ops)."
            .to_owned(),
        format!(
            "A seek restores one of {cps} checkpoints (one every {every} ops, {} KiB in all) and reads \
             on from there.",
            index.checkpoint_bytes() / 1024
        ),
        "[ ] P L steer a live run: here they only say so.".to_owned(),
    ];
    if let Some(s) = &parts.stopped {
        text.push(format!("{s}: it replays up to its last whole record."));
    }
    if index.late > 0 {
        text.push(format!("{} ops were recorded after later ones; they are shown late.", index.late));
    }
    text.iter().flat_map(|p| wrap(p, NOTE_WIDTH)).collect()
}

/// Columns of a help note (the overlay is 70 wide, less its border and indent).
const NOTE_WIDTH: usize = 64;

/// `text` in lines of at most `width` characters, broken at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

struct Loop<'a> {
    player: &'a mut Player,
    parts: &'a TraceParts,
}

impl Loop<'_> {
    fn run<B: ratatui::backend::Backend>(
        &mut self,
        terminal: &mut Terminal<B>,
        m: &mut Model,
        signals: &AtomicUsize,
        look: &LookArgs,
    ) -> io::Result<Exit> {
        let frame_period = Duration::from_secs(1) / look.fps.max(1);
        let mut last_draw: Option<Instant> = None;
        loop {
            let now = Instant::now();
            update(m, Message::Tick(now));
            let sig = signals.load(Ordering::Relaxed);
            if sig != 0 {
                update(m, Message::Signal(i32::try_from(sig).unwrap_or(15)));
            }
            if let Some(exit) = m.exit {
                return Ok(exit);
            }
            self.perform(m);
            if m.dirty && last_draw.is_none_or(|t| now.duration_since(t) >= frame_period) {
                terminal.draw(|f| model::draw(m, f))?;
                update(m, Message::Drawn);
                last_draw = Some(now);
            }
            let wait = if m.playing || m.dirty { frame_period } else { SIGNAL_POLL };
            let mut timeout = wait.min(SIGNAL_POLL);
            while event::poll(timeout)? {
                let message = match event::read()? {
                    Event::Key(k) => Message::Key(k),
                    Event::Mouse(e) => Message::Mouse(e),
                    Event::Resize(w, h) => Message::Resize(w, h),
                    _ => continue,
                };
                update(m, message);
                self.perform(m);
                if m.exit.is_some() {
                    break;
                }
                timeout = Duration::ZERO;
            }
        }
    }

    /// Carries out what `update` asked for and feeds the outcome back; keeps the selected
    /// line's writers in step with the map cursor while the detail is open.
    fn perform(&mut self, m: &mut Model) {
        let requests = std::mem::take(&mut m.requests);
        let mut reload = false;
        for r in requests {
            match r {
                Request::Seek(target) => match self.player.seek(target) {
                    Ok(()) => reload = true,
                    Err(e) => update(m, Message::Failed(e.to_string())),
                },
                Request::Window(ns) => {
                    self.player.set_window(ns);
                    let rank = self.player.cursor().rank;
                    match self.player.seek(Target::Rank(rank)) {
                        Ok(()) => reload = true,
                        Err(e) => update(m, Message::Failed(e.to_string())),
                    }
                }
                Request::Refresh => reload = true,
                Request::Save => {
                    let dir = std::env::current_dir().unwrap_or_else(|_| ".".into());
                    update(m, Message::Saved(save(m, &dir, SystemTime::now())));
                }
                Request::Mouse(on) => {
                    let r = if on {
                        execute!(io::stdout(), EnableMouseCapture)
                    } else {
                        execute!(io::stdout(), DisableMouseCapture)
                    };
                    if let Err(e) = r {
                        update(m, Message::MouseFailed(e.to_string()));
                    }
                }
            }
        }
        let line = m.view.detail_open.then_some(m.view.map.cursor_line);
        let stale = line.is_some() && m.shown.line_activity.as_ref().map(|a| a.line) != line;
        if reload || stale {
            match load(self.player, self.parts, m.scan, line) {
                Ok(f) => update(m, Message::Loaded(Box::new(f))),
                Err(e) => update(m, Message::Failed(e.to_string())),
            }
        }
    }
}

/// `s`: the shown screen as text and its data as JSON (the live app's document, plus where
/// the cursor stands in the trace), into `dir`; the paths written.
///
/// # Errors
/// A file could not be written.
pub fn save(m: &Model, dir: &Path, now: SystemTime) -> Result<Vec<std::path::PathBuf>, String> {
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let f = &m.shown;
    let h = &f.header;
    let r = &f.replay;
    let doc = serde_json::json!({
        "schema": "slotscope-screen",
        "schema_version": save::SCREEN_SCHEMA_VERSION,
        "tool_version": env!("CARGO_PKG_VERSION"),
        "saved_unix_s": secs,
        "screen": m.view.screen.name(),
        "replay": {
            "op": f.position, "ops": r.events, "time_from_zero_ns": r.cursor_ns,
            "frame_ns": m.frame_ns, "op_at_cursor": r.event_text, "table": r.table_text(true),
            "stopped": r.stopped,
        },
        "run": {
            "scenario": h.scenario, "elapsed_ns": u64::try_from(h.elapsed.as_nanos()).unwrap_or(u64::MAX),
            "ops_per_s": h.ops_per_s, "threads": h.threads, "len": h.len, "capacity": h.capacity,
            "backend": h.backend, "variant": h.variant.name(),
        },
        "threads": save::threads(&f.threads),
        "latency": save::latency(&f.latency),
        "heat": save::heat(&f.heat),
        "table": f.snapshot.as_ref().map(save::table),
    });
    save::save_files(dir, &h.scenario, secs, &save::dashboard_text(&m.dashboard(), m.area), &doc)
}

/// The plain-text summary printed when stdout is not a terminal: the header's facts, the
/// ops by thread, where reading stopped.
///
/// # Errors
/// The file could not be read again.
pub fn summary(file: &Path, player: &mut Player) -> io::Result<String> {
    player.seek(Target::End)?;
    let index = player.index();
    let h = &index.header;
    let t = &h.table;
    let mut s = String::new();
    let _ = writeln!(s, "trace {}", file.display());
    let _ = writeln!(
        s,
        "  scenario `{}`, seed {}, stop {}; recorded by slotscope {} on {} ({} cores), clock {}",
        h.scenario, h.seed, h.stop, h.tool_version, h.machine.cpu_model, h.machine.logical_cores, h.clock
    );
    if !h.command.is_empty() {
        let _ = writeln!(s, "  command: {}", h.command);
    }
    let _ = writeln!(
        s,
        "  table: {}, {} slots, {} layout, {} B lines, variant {}{}",
        t.backend,
        t.capacity,
        t.layout,
        t.line_bytes,
        t.variant,
        if t.variant.is_broken() { " (BROKEN ON PURPOSE)" } else { "" }
    );
    let (first, last) = index.span_ns;
    #[allow(clippy::cast_precision_loss)]
    let ms = |ns: u64| ns as f64 / 1e6;
    let _ = writeln!(
        s,
        "  {} op events from {} thread(s) over {:.3} ms ({:.3} ms of prefill before time zero); {} table segment(s), {} records",
        index.events,
        index.threads.len(),
        ms(last.saturating_sub(first)),
        ms(index.zero_ns.saturating_sub(first)),
        index.segments.len(),
        index.records.entries.len() + 1,
    );
    let c = player.cursor();
    let total = |k: Counter| c.counts.values().map(|c| c[k]).sum::<u64>();
    let _ = writeln!(
        s,
        "  run ops: {} lookups ({} hits, {} misses), {} inserts ({} refused: full), {} removes ({} found nothing)",
        total(Counter::Lookups),
        total(Counter::LookupHits),
        total(Counter::LookupMisses),
        total(Counter::Inserts),
        total(Counter::InsertsRefused),
        total(Counter::Removes),
        total(Counter::RemovesMissed),
    );
    for (thread, k) in &c.counts {
        let group = index.threads.iter().find(|i| i.thread == *thread).map_or("?", |i| i.group.as_str());
        let _ = writeln!(
            s,
            "    t{thread} ({group}): {} ops, {} ticket skips, {} ring retries, {} stale rejections",
            k.ops(),
            k[Counter::TicketSkips],
            k[Counter::RingRetries],
            k[Counter::StaleRejections]
        );
    }
    let dropped: u64 = index.drops.iter().map(|d| d.count).sum();
    let _ = writeln!(
        s,
        "  {} table scans, {} control events, {} events dropped while recording",
        index.scans.len(),
        index.controls.len(),
        dropped
    );
    match &index.end {
        Some(e) => {
            let _ = writeln!(s, "  closed: {}", e.reason.describe());
        }
        None => {
            let _ = writeln!(s, "  not closed: no end record (the recording was cut off)");
        }
    }
    let (cps, every) = index.checkpoints();
    let _ = writeln!(
        s,
        "  replay index: {cps} checkpoints, one every {every} ops, {} KiB (limits: {CHECKPOINT_EVERY} ops, {} MiB; window at most {WINDOW_MAX_OPS} ops)",
        index.checkpoint_bytes() / 1024,
        CHECKPOINT_BUDGET_BYTES >> 20
    );
    match stop_text(index.stop()) {
        Some(stop) => {
            let _ = writeln!(s, "  {stop}; it replays up to its last whole record");
        }
        None => {
            let _ = writeln!(s, "  read to the end: every record whole");
        }
    }
    let _ = writeln!(s, "(stdout is not a terminal: this summary instead of the replay screen)");
    Ok(s)
}

#[cfg(test)]
mod tests;
