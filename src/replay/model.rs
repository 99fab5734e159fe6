//! The replay's model and its `update` (Elm style, as the live app's): keys, ticks and what
//! the loop loaded are [`Message`]s; [`update`] is the only thing that changes the [`Model`]
//! and never reads the trace. Where it wants the cursor moved it queues a [`Request`]; the
//! loop seeks the player and answers with [`Message::Loaded`]. So every key is tested without
//! a file, a clock or a terminal.

use std::time::Instant;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent};
use ratatui::layout::Rect;
use slotscope_stress::scenario::values::parse_time_ns;
use slotscope_trace::replay::Target;
use slotscope_views::{Dashboard, MapGrid, Status, Theme, ViewState};

use super::facts::TraceFacts;
use super::frame::ReplayFrame;
use crate::app::{help_key, Exit, StatusLine, STATUS_FOR};
use crate::nav;
use slotscope_views::controls::{action_of, Action, REPLAY_CONTROLS};

/// Slowest playback: a microsecond of trace time per real second.
pub const SPEED_MIN: f64 = 1e-6;
/// Fastest playback: a thousand times the recorded speed.
pub const SPEED_MAX: f64 = 1e3;
/// Shortest frame step (and window): 1 µs of trace time.
pub const FRAME_MIN_NS: u64 = 1_000;
/// Longest frame step (and window): 10 s of trace time.
pub const FRAME_MAX_NS: u64 = 10_000_000_000;
/// Longest go-to prompt.
const PROMPT_MAX: usize = 32;
/// What the live app's steering keys say in a replay.
pub const OFFLINE_THREADS: &str =
    "a replay runs no threads: [ and ] add or remove them only live; < and > step frames";
/// See [`OFFLINE_THREADS`].
pub const OFFLINE_PAUSE: &str = "a replay has no workers to pause: Space pauses the playback";
/// See [`OFFLINE_THREADS`].
pub const OFFLINE_LAYOUT: &str = "the layout is the recorded one: L restarts a table only live";

/// Everything that can happen to the replay.
#[derive(Debug)]
pub enum Message {
    /// A key was pressed.
    Key(KeyEvent),
    /// A mouse event (while mouse capture is on).
    Mouse(MouseEvent),
    /// The terminal is now this size.
    Resize(u16, u16),
    /// Real time passes: playback advances, status messages expire.
    Tick(Instant),
    /// The loop moved the cursor: what is there now.
    Loaded(Box<ReplayFrame>),
    /// The loop could not read the trace again.
    Failed(String),
    /// Mouse capture could not be switched.
    MouseFailed(String),
    /// The shown screen was saved to these files, or could not be.
    Saved(Result<Vec<std::path::PathBuf>, String>),
    /// SIGINT, SIGTERM or SIGHUP.
    Signal(i32),
    /// The loop drew the model: nothing is left to draw until the next change.
    Drawn,
}

/// What `update` wants the loop to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Move the cursor and load what is there.
    Seek(Target),
    /// Set the window (rates, latency, heat) to this many ns of trace time, then reload.
    Window(u64),
    /// Reload at the cursor (the table's source changed).
    Refresh,
    /// Turn mouse capture on or off.
    Mouse(bool),
    /// Save the shown screen (text + JSON) into the working directory.
    Save,
}

/// The whole state of the replay UI.
#[derive(Debug)]
pub struct Model {
    /// Screen, map zoom and cursor, toggles.
    pub view: ViewState,
    /// Colours and glyphs.
    pub theme: Theme,
    /// The terminal's area.
    pub area: Rect,
    /// Playing (else paused).
    pub playing: bool,
    /// Trace time per real time.
    pub speed: f64,
    /// One frame step of trace time, ns; also the window.
    pub frame_ns: u64,
    /// The go-to prompt, while open.
    pub prompt: Option<String>,
    /// Show the recorded scan before the cursor instead of the modelled table.
    pub scan: bool,
    /// The footer's message.
    pub status: Option<StatusLine>,
    /// The latest tick.
    pub now: Instant,
    /// Mouse capture is on.
    pub mouse: bool,
    /// Set when the replay should stop.
    pub exit: Option<Exit>,
    /// Something changed since the last draw.
    pub dirty: bool,
    /// Work for the loop, in order.
    pub requests: Vec<Request>,
    /// What the cursor shows (from the loop).
    pub shown: ReplayFrame,
    /// The trace.
    pub facts: TraceFacts,
    /// Explanations for the help overlay.
    pub notes: Vec<String>,
    last_tick: Option<Instant>,
}

impl Model {
    /// A paused replay of `facts`, showing `shown`.
    pub fn new(
        facts: TraceFacts,
        shown: ReplayFrame,
        theme: Theme,
        area: Rect,
        speed: f64,
        frame_ns: u64,
    ) -> Model {
        let mut m = Model {
            view: ViewState::default(),
            theme,
            area,
            playing: false,
            speed: speed.clamp(SPEED_MIN, SPEED_MAX),
            frame_ns: frame_ns.clamp(FRAME_MIN_NS, FRAME_MAX_NS),
            prompt: None,
            scan: false,
            status: None,
            now: Instant::now(),
            mouse: false,
            exit: None,
            dirty: true,
            requests: Vec::new(),
            shown,
            facts,
            notes: Vec::new(),
            last_tick: None,
        };
        sync_bar(&mut m);
        m
    }

    /// The screen as the views draw it.
    pub fn dashboard(&self) -> Dashboard<'_> {
        let status = self.status.as_ref().map(|s| Status { text: &s.text, alarm: s.alarm });
        Dashboard::new(self.shown.inputs(), &self.view, &self.theme)
            .status(status)
            .replay(Some(&self.shown.replay))
            .help_notes(&self.notes)
    }

    fn grid(&self) -> Option<MapGrid> {
        self.dashboard().map_grid(self.area)
    }

    /// Shows `text` in the footer for a while.
    pub fn say(&mut self, text: impl Into<String>) {
        self.status = Some(StatusLine { text: text.into(), alarm: false, since: self.now });
    }

    /// Shows `text` in the footer, in the alarm style.
    pub fn alarm(&mut self, text: impl Into<String>) {
        self.status = Some(StatusLine { text: text.into(), alarm: true, since: self.now });
    }

    fn at_end(&self) -> bool {
        self.shown.position >= self.facts.events && self.shown.time_ns >= self.facts.span_ns.1
    }

    fn seek(&mut self, target: Target) {
        self.requests.push(Request::Seek(target));
    }

    /// Starts playing (from the start if at the end).
    pub fn play(&mut self) {
        if self.at_end() {
            self.seek(Target::Start);
        }
        self.playing = true;
        self.last_tick = None;
    }

    fn pause(&mut self) {
        self.playing = false;
        self.last_tick = None;
    }
}

/// Applies one message to the model.
pub fn update(model: &mut Model, message: Message) {
    match message {
        Message::Drawn => {
            model.dirty = false;
            return;
        }
        Message::Tick(now) => {
            on_tick(model, now);
            return;
        }
        Message::Key(key) => on_key(model, key),
        Message::Mouse(m) => nav::on_mouse(model, m),
        Message::Resize(w, h) => model.area = Rect::new(0, 0, w, h),
        Message::Loaded(frame) => {
            model.shown = *frame;
            model.shown.replay.playing = model.playing;
            model.shown.replay.speed = model.speed;
            model.shown.replay.frame_ns = model.frame_ns;
            model.shown.replay.prompt.clone_from(&model.prompt);
        }
        Message::Failed(e) => {
            model.pause();
            model.alarm(format!("cannot read the trace: {e}"));
        }
        Message::MouseFailed(e) => {
            model.mouse = false;
            model.alarm(format!("mouse: {e}"));
        }
        Message::Saved(Ok(paths)) => model.say(crate::app::saved_text(&paths)),
        Message::Saved(Err(e)) => model.alarm(format!("could not save: {e}")),
        Message::Signal(sig) => model.exit = Some(Exit::Signal(sig)),
    }
    sync_bar(model);
    model.dirty = true;
}

/// The bar shows the model's own state at once, before the next load.
fn sync_bar(model: &mut Model) {
    let r = &mut model.shown.replay;
    r.playing = model.playing;
    r.speed = model.speed;
    r.frame_ns = model.frame_ns;
    r.prompt.clone_from(&model.prompt);
}

fn on_tick(model: &mut Model, now: Instant) {
    model.now = now;
    if model.status.as_ref().is_some_and(|s| now.saturating_duration_since(s.since) >= STATUS_FOR) {
        model.status = None;
        model.dirty = true;
    }
    if !model.playing {
        return;
    }
    let Some(last) = model.last_tick.replace(now) else { return };
    if model.at_end() {
        model.pause();
        model.say("the end of the trace: Space plays it again, Home goes to the start");
        sync_bar(model);
        model.dirty = true;
        return;
    }
    let real = now.saturating_duration_since(last);
    // Trace time to add: real time times the speed, in whole ns (at least 1 while playing).
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let dt = ((real.as_nanos() as f64) * model.speed).round().max(1.0) as u64;
    let to = model.shown.time_ns.saturating_add(dt).min(model.facts.span_ns.1);
    model.seek(Target::Time(to));
}

fn is_press(key: &KeyEvent) -> bool {
    matches!(key.kind, KeyEventKind::Press | KeyEventKind::Repeat)
}

fn on_key(model: &mut Model, key: KeyEvent) {
    if !is_press(&key) {
        return;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && matches!(key.code, KeyCode::Char('c' | 'C')) {
        model.exit = Some(Exit::Quit);
        return;
    }
    if model.prompt.is_some() {
        on_prompt_key(model, key);
        return;
    }
    if model.view.help_open {
        on_help_key(model, key);
        return;
    }
    let Some(action) = action_of(REPLAY_CONTROLS, key.code) else {
        // Keys that steer a live run say why they do nothing here.
        match key.code {
            KeyCode::Char(']' | '[') => model.say(OFFLINE_THREADS),
            KeyCode::Char('P') => model.say(OFFLINE_PAUSE),
            KeyCode::Char('L') => model.say(OFFLINE_LAYOUT),
            _ => {}
        }
        return;
    };
    if nav::navigate(model, action) {
        return;
    }
    match action {
        Action::Quit => model.exit = Some(Exit::Quit),
        Action::PlayPause => {
            if model.playing {
                model.pause();
                model.say("paused: . and , step one op, < and > one frame");
            } else {
                model.play();
            }
        }
        Action::StepForward => step(model, true),
        Action::StepBack => step(model, false),
        Action::FrameForward => frame_step(model, true),
        Action::FrameBack => frame_step(model, false),
        Action::Save => model.requests.push(Request::Save),
        Action::Faster => set_speed(model, step_125(model.speed, true)),
        Action::Slower => set_speed(model, step_125(model.speed, false)),
        Action::LongerFrames => set_frame(model, true),
        Action::ShorterFrames => set_frame(model, false),
        Action::GoTo => model.prompt = Some(String::new()),
        Action::Start => {
            model.pause();
            model.seek(Target::Start);
        }
        Action::End => {
            model.pause();
            model.seek(Target::End);
        }
        Action::TableSource => {
            model.scan = !model.scan;
            model.requests.push(Request::Refresh);
            model.say(if model.scan {
                "table: the recorded scan at or before the cursor (r: the model)"
            } else {
                "table: modelled from every op up to the cursor (r: the recorded scan)"
            });
        }
        Action::Violation => match model.facts.violation {
            Some(e) => {
                model.pause();
                model.seek(Target::Event(e));
                // The map goes to the slot of the key the op was about.
                let at = model.facts.violation_key.zip(model.shown.header.geometry).map(|(k, g)| {
                    let slot = slotscope_table::Key::from_bits(k).slot() % g.capacity();
                    (slot, g.line_of_slot(slot))
                });
                match at {
                    Some((slot, line)) => {
                        model.view.map.cursor_line = line;
                        model.say(format!(
                            "the first illegal op `slotscope check` found: event {e}, on slot {slot} (line {line}, selected)"
                        ));
                    }
                    None => model.say(format!("the first illegal op `slotscope check` found: event {e}")),
                }
            }
            None => model.say("no violation marked: replay with --at-violation to run the checker first"),
        },
        _ => {}
    }
}

impl nav::Navigable for Model {
    fn view_mut(&mut self) -> &mut ViewState {
        &mut self.view
    }
    fn theme_mut(&mut self) -> &mut Theme {
        &mut self.theme
    }
    fn grid(&self) -> Option<MapGrid> {
        Model::grid(self)
    }
    fn tab_bar(&self) -> Option<ratatui::layout::Rect> {
        self.dashboard().regions(self.area).tabs
    }
    fn hot_lines(&self) -> Vec<usize> {
        slotscope_views::hottest_lines(&self.shown.heat)
    }
    fn has_table(&self) -> bool {
        self.shown.snapshot.is_some()
    }
    fn backend_phrase(&self) -> String {
        format!("this trace's backend is {}", self.shown.header.backend)
    }
    fn mouse(&self) -> bool {
        self.mouse
    }
    fn set_mouse(&mut self, on: bool) {
        self.mouse = on;
        self.requests.push(Request::Mouse(on));
    }
    fn say(&mut self, text: String) {
        Model::say(self, text);
    }
}

fn on_help_key(model: &mut Model, key: KeyEvent) {
    let max = model.dashboard().help().max_scroll(model.area);
    if help_key(&mut model.view, key.code, max, model.area) {
        model.exit = Some(Exit::Quit);
    }
}

fn on_prompt_key(model: &mut Model, key: KeyEvent) {
    let Some(text) = model.prompt.as_mut() else { return };
    match key.code {
        KeyCode::Esc => model.prompt = None,
        KeyCode::Backspace => {
            text.pop();
        }
        KeyCode::Char(c) if !c.is_control() && text.chars().count() < PROMPT_MAX => text.push(c),
        KeyCode::Enter => {
            let typed = std::mem::take(text);
            model.prompt = None;
            match parse_goto(&typed, model.facts.zero_ns) {
                Ok(target) => {
                    model.pause();
                    model.seek(target);
                }
                Err(e) => model.alarm(e),
            }
        }
        _ => {}
    }
}

/// One op forward or back (pausing first).
fn step(model: &mut Model, forward: bool) {
    if model.playing {
        model.pause();
    }
    let at = model.shown.position;
    let to = if forward { (at + 1).min(model.facts.events) } else { at.saturating_sub(1) };
    if to == at {
        model.say(if forward { "the last op of the trace" } else { "before the first op of the trace" });
        return;
    }
    model.seek(Target::Rank(to));
}

/// One frame of trace time forward or back (while playing too: it jumps and plays on).
fn frame_step(model: &mut Model, forward: bool) {
    let t = model.shown.time_ns;
    let (first, last) = model.facts.span_ns;
    let to = if forward {
        t.saturating_add(model.frame_ns).min(last)
    } else {
        t.saturating_sub(model.frame_ns).max(first.saturating_sub(1))
    };
    model.seek(Target::Time(to));
}

fn set_speed(model: &mut Model, speed: f64) {
    let clamped = speed.clamp(SPEED_MIN, SPEED_MAX);
    if (clamped - model.speed).abs() < f64::EPSILON * model.speed {
        model.say(format!(
            "speed {}× is the {} (limits {SPEED_MIN:e}× to {SPEED_MAX}×)",
            slotscope_views::replay::speed_text(clamped),
            if speed > model.speed { "fastest" } else { "slowest" },
        ));
    } else {
        model.say(format!("speed {}× the recorded run", slotscope_views::replay::speed_text(clamped)));
    }
    model.speed = clamped;
}

fn set_frame(model: &mut Model, longer: bool) {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let next = step_125(model.frame_ns as f64, longer).round() as u64;
    let next = next.clamp(FRAME_MIN_NS, FRAME_MAX_NS);
    if next == model.frame_ns {
        model.say("that is the frame's limit (1µs to 10s)");
        return;
    }
    model.frame_ns = next;
    model.requests.push(Request::Window(next));
    let ascii = model.theme.glyphs.border.top_left == "+";
    model.say(format!(
        "frame {}: < and > step by it; rates, latency and heat are over it",
        slotscope_views::replay::time_text(next, ascii)
    ));
}

/// The next value up or down the 1, 2, 5, 10 ... series from `v` (> 0; first rounded to the
/// series).
pub fn step_125(v: f64, up: bool) -> f64 {
    let n = nearest_125(v);
    // A little above the exact decade, so that 1e-6 is not read as 10e-7.
    let base = 10f64.powf((n.log10() + 1e-9).floor());
    let m = n / base;
    match (m < 1.5, m < 3.5, up) {
        (true, _, true) => 2.0 * base,
        (false, true, true) => 5.0 * base,
        (false, false, true) => 10.0 * base,
        (true, _, false) => 0.5 * base,
        (false, true, false) => base,
        (false, false, false) => 2.0 * base,
    }
}

/// The 1, 2, 5 value nearest to `v` (> 0) in log scale.
pub fn nearest_125(v: f64) -> f64 {
    let base = 10f64.powf((v.log10() + 1e-9).floor());
    [base, 2.0 * base, 5.0 * base, 10.0 * base]
        .into_iter()
        .min_by(|a, b| (a.ln() - v.ln()).abs().total_cmp(&(b.ln() - v.ln()).abs()))
        .unwrap_or(base)
}

const GOTO_HINT: &str = "go to: type a time (12.5ms) or an event number (#18342)";
/// What the go-to prompt accepts, said after an error.
const GOTO_ACCEPTS: &str = "type a time with a unit (12.5ms, -3us, 2s) or # and an event number";

/// A go-to target: `#18342` (an event number), or a time from the run's time zero with a unit
/// (`12.5ms`, `-3us`, `2s`, `850ns`; `µs` or `us`). `zero_ns` is the run's time zero.
///
/// # Errors
/// What is wrong with the text, and what would be accepted.
pub fn parse_goto(text: &str, zero_ns: u64) -> Result<Target, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err(GOTO_HINT.to_owned());
    }
    if let Some(n) = s.strip_prefix('#') {
        let digits: String = n.chars().filter(|c| *c != ',' && *c != '_').collect();
        return digits
            .parse::<u64>()
            .map(Target::Event)
            .map_err(|_| format!("go to `{s}`: an event number is # and digits, e.g. #18342"));
    }
    let (neg, body) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let ns = parse_time_ns(body).map_err(|e| format!("go to `{s}`: {}; {GOTO_ACCEPTS}", e.message))?;
    if !ns.is_finite() || ns > 1e18 {
        return Err(format!("go to `{s}`: too far"));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let ns = ns.round() as u64;
    Ok(Target::Time(if neg { zero_ns.saturating_sub(ns) } else { zero_ns.saturating_add(ns) }))
}

/// Draws the model: the views' dashboard in replay mode. Reads, never writes.
pub fn draw(model: &Model, frame: &mut ratatui::Frame<'_>) {
    frame.render_widget(&model.dashboard(), frame.area());
}

#[cfg(test)]
mod tests;
