//! The TUI's model and its `update` (Elm style): every key, mouse event, resize, clock tick,
//! sample and engine answer is a [`Message`]; [`update`] is the only thing that changes the
//! [`Model`]; [`draw`] only reads it.
//!
//! `update` never touches the engine, the terminal or the file system. What it wants done it
//! queues as [`Request`]s; the loop (`tui.rs`) carries them out ([`steer`] for the engine, the
//! terminal for mouse capture, `save.rs` for snapshots) and feeds each outcome back as a
//! message. So every key is tested here without threads, clocks or a terminal.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent};
use ratatui::layout::Rect;
use slotscope_stress::Sample;
use slotscope_table::Layout;
use slotscope_views::{Dashboard, HelpOverlay, MapGrid, Screen, Status, Theme, Topology, ViewState};

use crate::lesson::Change;
use slotscope_views::{Delta, Explanation, Figure, Narration, SplitSide};

use crate::adapt::{Adapter, Frame, RunFacts};
use crate::explain;
use crate::frames::{FrameRing, MAX_FRAMES};
use crate::lesson::{self, LessonRun};
use crate::nav;
use crate::split::{self, SplitState, SplitTurns};
use slotscope_views::controls::{action_of, Action, CONTROLS};

/// How long a status message stays in the footer.
pub const STATUS_FOR: Duration = Duration::from_secs(4);
/// The footer after the run reached its own end.
const RUN_ENDED: &str = "the run has ended: q prints the summary";

/// Everything that can happen to the app.
#[derive(Debug)]
pub enum Message<'a> {
    /// A key was pressed.
    Key(KeyEvent),
    /// A mouse event (only while mouse capture is on).
    Mouse(MouseEvent),
    /// The terminal is now this size.
    Resize(u16, u16),
    /// Time passes (status messages expire).
    Tick(Instant),
    /// The sampler filled this sample: make a frame of it (its fresh snapshot is moved out).
    Sampled(&'a mut Sample),
    /// The same for side B of an A/B split.
    SampledB(&'a mut Sample),
    /// The engine's answer to a request: `Ok(Some(i))` names a thread added.
    Steered(Request, Result<Option<usize>, String>),
    /// A snapshot was saved to these files, or could not be.
    Saved(Result<Vec<PathBuf>, String>),
    /// Mouse capture could not be switched.
    MouseFailed(String),
    /// A signal arrived (SIGINT, SIGTERM, SIGHUP): stop.
    Signal(i32),
    /// The loop drew the model: nothing is left to draw until the next change.
    Drawn,
    /// Presenter mode on or off (`--present`).
    Present(bool),
    /// A lesson begins: its first step is entered (its changes become a request).
    StartLesson(Box<LessonRun>),
    /// Side B of an A/B split started: tables of layouts `a` and `b`, side B's frames keeping
    /// at most `snapshots` table snapshots.
    SplitStarted {
        /// Side A's layout.
        a: Layout,
        /// Side B's layout.
        b: Layout,
        /// Snapshots side B's frames may hold.
        snapshots: usize,
    },
    /// The split ended; side A runs alone.
    SplitEnded,
    /// The layouts the two sides run now (after a restart).
    SideLayouts(Layout, Layout),
    /// A split's turns so far (after each turn that counts).
    SplitTurns(&'a SplitTurns),
}

/// Something `update` wants done outside the model.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// Pause every worker.
    Pause,
    /// Resume every worker.
    Resume,
    /// Add a thread to this group.
    AddThread(String),
    /// Remove this group's newest thread.
    RemoveThread(String),
    /// Restart the table with this layout, same load.
    Restart(Layout),
    /// Restart the table with this allocator, same load.
    Allocator(slotscope_table::Allocator),
    /// Zero every counter and histogram, both sides while split (Ctrl-r).
    ResetStats,
    /// Save the shown frame (text + JSON) into the working directory.
    Save,
    /// Turn mouse capture on or off.
    Mouse(bool),
    /// A lesson step's changes to the run (both tables while split), for step `step` (0-based).
    Lesson {
        /// The step entered.
        step: usize,
        /// What to change.
        changes: Vec<Change>,
    },
}

/// Why the app stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// `q` or Ctrl-C.
    Quit,
    /// A signal (its number).
    Signal(i32),
    /// `R` after the run ended: quit as `q` does, then run the same command again.
    Again,
}

/// A message in the footer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusLine {
    /// What it says.
    pub text: String,
    /// Something failed.
    pub alarm: bool,
    /// When it was set (it goes [`STATUS_FOR`] later).
    pub since: Instant,
}

/// The whole state of the app.
#[derive(Debug)]
pub struct Model {
    /// Screen, map zoom and cursor, toggles.
    pub view: ViewState,
    /// Colours and glyphs.
    pub theme: Theme,
    /// The terminal's area.
    pub area: Rect,
    /// The run as started.
    pub facts: RunFacts,
    /// Frames kept (freeze and step).
    pub frames: FrameRing,
    /// While frozen: how many frames before the newest the view shows.
    pub frozen: Option<usize>,
    /// Cores and cache domains (fixed for the run).
    pub topology: Topology,
    /// Work for the loop, in order.
    pub requests: Vec<Request>,
    /// The footer's message.
    pub status: Option<StatusLine>,
    /// The latest tick's time.
    pub now: Instant,
    /// Mouse capture is on.
    pub mouse: bool,
    /// The `/` prompt, while open: what has been typed.
    pub find: Option<String>,
    /// The workers are paused (as the latest sample, or the latest request, says).
    pub paused: bool,
    /// The run reached its own end (its duration or op count).
    pub done: bool,
    /// Set when the app should stop.
    pub exit: Option<Exit>,
    /// Something changed since the last draw.
    pub dirty: bool,
    /// The lesson being taught, if any.
    pub lesson: Option<LessonRun>,
    /// Side B of an A/B split, while one runs.
    pub split: Option<SplitState>,
    /// Presenter mode (`--present`).
    pub present: bool,
    /// Group names, by index.
    groups: Vec<String>,
    /// Running threads of the latest sample: (global index, group index).
    live: Vec<(usize, usize)>,
    adapter: Adapter,
    blank: Frame,
}

impl Model {
    /// A model for the run of `facts`, drawn in `area` with `theme`.
    pub fn new(facts: RunFacts, theme: Theme, area: Rect, topology: Topology, max_snapshots: usize) -> Model {
        Model {
            view: ViewState::default(),
            theme,
            area,
            frames: FrameRing::new(MAX_FRAMES, max_snapshots),
            frozen: None,
            topology,
            requests: Vec::new(),
            status: None,
            now: Instant::now(),
            mouse: false,
            find: None,
            paused: false,
            done: false,
            exit: None,
            dirty: true,
            lesson: None,
            split: None,
            present: false,
            groups: Vec::new(),
            live: Vec::new(),
            adapter: Adapter::new(facts.sample_hz),
            blank: Frame::blank(&facts),
            facts,
        }
    }

    /// The frame on screen: the newest, or the one stepped to while frozen.
    pub fn shown(&self) -> &Frame {
        self.frames.back(self.frozen.unwrap_or(0)).unwrap_or(&self.blank)
    }

    /// Whether the loop should take samples (not while frozen: the kept frames must stay, and
    /// not after the run's end).
    pub fn wants_samples(&self) -> bool {
        self.frozen.is_none() && !self.done
    }

    /// Side B's frame on screen, while split.
    pub fn shown_b(&self) -> Option<&Frame> {
        let s = self.split.as_ref()?;
        let back = self.frozen.unwrap_or(0).min(s.frames.len().saturating_sub(1));
        s.frames.back(back)
    }

    /// The selected line the sampler should break down by thread: the cursor's line on screens
    /// with a map (the explain panel reads it).
    pub fn focus_line(&self) -> Option<usize> {
        self.has_table().then_some(self.view.map.cursor_line)
    }

    /// What the screen shows beyond the frame: the narration, the explanations, the deltas and
    /// the presenter's figures, computed from the shown frames.
    pub fn extras(&self) -> Extras {
        let a = self.shown();
        let b = self.shown_b();
        let ascii = self.theme.glyphs.border.top_left == "+";
        let mut narration = self.lesson.as_ref().map(|l| l.narration(a, b, ascii));
        if self.present {
            // The presenter's numbers panel shows them, large.
            if let Some(n) = narration.as_mut() {
                n.figures.clear();
            }
        }
        let explain_line = |f: &Frame| {
            let line = (self.view.screen != Screen::Contention).then_some(self.view.map.cursor_line);
            explain::diagnose(&explain::counters_of(f, line))
        };
        let open = self.view.detail_open;
        let explanation = open.then(|| explain_line(a));
        let explanation_b = open.then(|| b.map(explain_line)).flatten();
        let deltas = match (b, self.split.as_ref()) {
            (Some(b), Some(s)) => split::deltas(a, b, &s.turns, ascii),
            _ => Vec::new(),
        };
        let figures = if self.present {
            match &self.lesson {
                Some(l) => lesson::figures(l.watched(), a, b, ascii),
                None => lesson::figures(&lesson::PRESENTER_FIGURES, a, b, ascii),
            }
        } else {
            Vec::new()
        };
        Extras { narration, explanation, explanation_b, deltas, figures }
    }

    /// The screen as the views draw it, with `extras` (from [`Model::extras`]).
    pub fn dashboard<'a>(&'a self, extras: &'a Extras) -> Dashboard<'a> {
        let status = self.status.as_ref().map(|s| Status { text: &s.text, alarm: s.alarm });
        let a = self.shown();
        let split = self.split.as_ref().map(|s| {
            let b = self.shown_b();
            (
                SplitSide {
                    name: &s.names[0],
                    snapshot: a.snapshot.as_deref(),
                    heat: &a.heat,
                    explanation: extras.explanation.as_ref(),
                },
                SplitSide {
                    name: &s.names[1],
                    snapshot: b.and_then(|b| b.snapshot.as_deref()),
                    heat: b.map_or(&a.heat, |b| &b.heat),
                    explanation: extras.explanation_b.as_ref(),
                },
                extras.deltas.as_slice(),
            )
        });
        let explanation = if split.is_some() && self.view.screen == Screen::Dashboard {
            None
        } else {
            extras.explanation.as_ref()
        };
        Dashboard::new(a.inputs(&self.topology, self.adapter.history()), &self.view, &self.theme)
            .status(status)
            .narration(extras.narration.as_ref())
            .explanation(explanation)
            .split(split)
            .present(self.present, &extras.figures)
    }

    fn grid(&self) -> Option<MapGrid> {
        let extras = self.extras();
        self.dashboard(&extras).map_grid(self.area)
    }

    fn say(&mut self, text: impl Into<String>) {
        self.status = Some(StatusLine { text: text.into(), alarm: false, since: self.now });
    }

    fn alarm(&mut self, text: impl Into<String>) {
        self.status = Some(StatusLine { text: text.into(), alarm: true, since: self.now });
    }

    fn has_table(&self) -> bool {
        self.shown().snapshot.is_some()
    }
}

/// What a frame shows besides the frame itself (see [`Model::extras`]).
#[derive(Debug, Default)]
pub struct Extras {
    /// The lesson's narration.
    pub narration: Option<Narration>,
    /// The selected line explained (side A).
    pub explanation: Option<Explanation>,
    /// The same line explained on side B.
    pub explanation_b: Option<Explanation>,
    /// Side B against side A.
    pub deltas: Vec<Delta>,
    /// Presenter mode's numbers.
    pub figures: Vec<Figure>,
}

/// Applies one message to the model.
pub fn update(model: &mut Model, message: Message<'_>) {
    match message {
        Message::Drawn => {
            model.dirty = false;
            return;
        }
        Message::Tick(now) => {
            model.now = now;
            // Once the run has ended, the footer keeps saying so (after any other message).
            let expired =
                |s: &StatusLine| s.text != RUN_ENDED && now.saturating_duration_since(s.since) >= STATUS_FOR;
            if model.status.as_ref().is_some_and(expired) && model.find.is_none() {
                model.status = None;
                if model.done {
                    model.say(RUN_ENDED);
                }
                model.dirty = true;
            }
            return;
        }
        Message::Key(key) => on_key(model, key),
        Message::Mouse(m) => nav::on_mouse(model, m),
        Message::Resize(w, h) => model.area = Rect::new(0, 0, w, h),
        Message::Sampled(sample) => on_sample(model, sample),
        Message::SampledB(sample) => {
            if model.frozen.is_none() {
                if let Some(s) = model.split.as_mut() {
                    s.frames.push(&mut s.adapter, sample, &model.facts);
                }
            }
        }
        Message::Steered(request, outcome) => on_steered(model, request, outcome),
        Message::Saved(Ok(paths)) => model.say(saved_text(&paths)),
        Message::Saved(Err(e)) => model.alarm(format!("could not save: {e}")),
        Message::MouseFailed(e) => {
            model.mouse = false;
            model.alarm(format!("mouse: {e}"));
        }
        Message::Signal(sig) => model.exit = Some(Exit::Signal(sig)),
        Message::Present(on) => model.present = on,
        Message::StartLesson(l) => {
            model.lesson = Some(*l);
            go_to_step(model, None, 0);
        }
        Message::SplitStarted { a, b, snapshots } => {
            model.split = Some(SplitState::new(a, b, model.facts.sample_hz, snapshots));
        }
        Message::SplitEnded => model.split = None,
        Message::SplitTurns(turns) => {
            if let Some(s) = model.split.as_mut() {
                s.turns.clone_from(turns);
            }
        }
        Message::SideLayouts(a, b) => {
            if let Some(s) = model.split.as_mut() {
                s.names = split::names(a, b);
            }
        }
    }
    model.dirty = true;
}

/// "saved a.txt + .json in the working directory": the footer is short.
pub(crate) fn saved_text(paths: &[PathBuf]) -> String {
    let mut text = String::from("saved ");
    let mut stem: Option<&std::ffi::OsStr> = None;
    for p in paths {
        if stem.is_some() {
            text.push_str(" + ");
        }
        match (stem, p.file_stem(), p.extension()) {
            (Some(s), Some(this), Some(ext)) if s == this => {
                text.push('.');
                text.push_str(&ext.to_string_lossy());
            }
            _ => {
                text.push_str(&p.file_name().unwrap_or_default().to_string_lossy());
                stem = p.file_stem();
            }
        }
    }
    text + " in the working directory"
}

fn on_sample(model: &mut Model, sample: &mut Sample) {
    if model.frozen.is_some() {
        // The loop stops sampling while frozen; a sample that raced the freeze is dropped.
        return;
    }
    model.frames.push(&mut model.adapter, sample, &model.facts);
    model.paused = sample.paused;
    if model.groups != sample.groups {
        model.groups.clone_from(&sample.groups);
    }
    model.live.clear();
    model.live.extend(sample.threads.iter().filter(|t| !t.state.is_over()).map(|t| (t.index, t.group)));
    if sample.done && !model.done {
        model.done = true;
        model.frames.set_ended();
        model.say(RUN_ENDED);
    }
}

fn on_steered(model: &mut Model, request: Request, outcome: Result<Option<usize>, String>) {
    match (request, outcome) {
        (_, Err(e)) => model.alarm(e),
        (Request::AddThread(g), Ok(i)) => {
            let who = i.map_or_else(|| "a thread".to_owned(), |i| format!("thread T{i}"));
            model.say(format!("added {who} to `{g}`"));
        }
        (Request::RemoveThread(g), Ok(_)) => model.say(format!("removed the newest thread of `{g}`")),
        (Request::Pause, Ok(_)) => model.say("workers paused: P resumes"),
        (Request::Resume, Ok(_)) => model.say("workers resumed"),
        (Request::ResetStats, Ok(_)) => {
            model.say("statistics reset: counters and latency start over (violations kept)");
        }
        (Request::Restart(l), Ok(_)) => model.say(format!("restarted on a {l} table, same load")),
        (Request::Allocator(a), Ok(_)) => {
            model.facts.allocator = a;
            model.say(format!("restarted with the {a} allocator, same load"));
        }
        (Request::Lesson { step, changes }, Ok(_)) => {
            if let Some(l) = &model.lesson {
                let title = &l.lesson.steps.get(step).map_or("", |s| s.title.as_str());
                let what: Vec<String> = changes.iter().map(ToString::to_string).collect();
                let did = if what.is_empty() { String::new() } else { format!(": {}", what.join("; ")) };
                model.say(format!("step {}/{} {title}{did}", step + 1, l.lesson.steps.len()));
            }
        }
        (Request::Save | Request::Mouse(_), Ok(_)) => {}
    }
}

fn is_press(key: &KeyEvent) -> bool {
    matches!(key.kind, KeyEventKind::Press | KeyEventKind::Repeat)
}

/// A key while the help overlay is open (shared by the live app and the replay): it scrolls
/// the help (`max` is its last scroll position in `area`) or closes it. True for `q` (quit).
pub(crate) fn help_key(view: &mut ViewState, code: KeyCode, max: u16, area: Rect) -> bool {
    let page = area.height.saturating_sub(4).max(1);
    let scroll = view.help_scroll.min(max);
    let mut quit = false;
    view.help_scroll = match code {
        KeyCode::Esc | KeyCode::Char('?') | KeyCode::F(1) => {
            view.help_open = false;
            0
        }
        KeyCode::Char('q') => {
            quit = true;
            scroll
        }
        KeyCode::Down | KeyCode::Char('j') => (scroll + 1).min(max),
        KeyCode::Up | KeyCode::Char('k') => scroll.saturating_sub(1),
        KeyCode::PageDown | KeyCode::Char(' ') => scroll.saturating_add(page).min(max),
        KeyCode::PageUp => scroll.saturating_sub(page),
        KeyCode::Home => 0,
        KeyCode::End => max,
        _ => scroll,
    };
    quit
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
    if ctrl && matches!(key.code, KeyCode::Char('r' | 'R')) && !model.view.help_open {
        reset_stats(model);
        return;
    }
    if model.find.is_some() {
        find_key(model, key.code);
        return;
    }
    if model.view.help_open {
        // The help covers the screen: it scrolls, closes, or the app quits; other keys wait.
        let max = HelpOverlay::new(&model.theme).max_scroll(model.area);
        if help_key(&mut model.view, key.code, max, model.area) {
            model.exit = Some(Exit::Quit);
        }
        return;
    }
    let Some(action) = action_of(CONTROLS, key.code) else { return };
    if nav::navigate(model, action) {
        return;
    }
    match action {
        Action::Quit => model.exit = Some(Exit::Quit),
        Action::Freeze => toggle_freeze(model),
        Action::StepForward => step(model, false),
        Action::StepBack => step(model, true),
        Action::Pause => pause(model),
        Action::AddThread => add_thread(model),
        Action::RemoveThread => remove_thread(model),
        Action::CycleLayout => cycle_layout(model),
        Action::CycleAllocator => cycle_allocator(model),
        Action::RunAgain if model.done => model.exit = Some(Exit::Again),
        Action::RunAgain => model.say("R runs the same command again once this run has ended (q quits now)"),
        Action::NextStep => step_lesson(model, true),
        Action::PrevStep => step_lesson(model, false),
        Action::Save => model.requests.push(Request::Save),
        Action::Find if model.has_table() => {
            model.find = Some(String::new());
            show_find(model);
        }
        Action::Find => nav::no_map(model),
        _ => {}
    }
}

/// Longest text the `/` prompt takes.
const FIND_MAX: usize = 32;

fn show_find(model: &mut Model) {
    let typed = model.find.as_deref().unwrap_or("");
    model.say(format!("go to: {typed}_   (L12 a line, s300 a slot, 300@7 a key; Enter goes, Esc cancels)"));
}

/// A key while the `/` prompt is open.
fn find_key(model: &mut Model, code: KeyCode) {
    let Some(text) = model.find.as_mut() else { return };
    match code {
        KeyCode::Esc => {
            model.find = None;
            model.say("go to: cancelled");
            return;
        }
        KeyCode::Backspace => {
            text.pop();
        }
        KeyCode::Char(c) if !c.is_control() && text.chars().count() < FIND_MAX => text.push(c),
        KeyCode::Enter => {
            let typed = model.find.take().unwrap_or_default();
            go_to(model, &typed);
            return;
        }
        _ => {}
    }
    show_find(model);
}

/// What the `/` prompt can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// A slot line.
    Line(usize),
    /// A slot.
    Slot(usize),
    /// A key: slot and generation, as the views print it (`300@7`).
    Key(usize, u64),
}

/// Parses what the `/` prompt was given: `12` or `L12` (a line), `s300` (a slot), `300@7` (a
/// key, as printed).
pub(crate) fn parse_place(text: &str) -> Result<Place, String> {
    let t = text.trim();
    let number = |s: &str, what: &str| {
        s.trim()
            .replace('_', "")
            .parse::<usize>()
            .map_err(|_| format!("go to: `{t}`: {what} is not a whole number"))
    };
    if let Some((slot, gen)) = t.split_once('@') {
        let slot = number(slot, "the slot")?;
        let gen = gen
            .trim()
            .parse::<u64>()
            .map_err(|_| format!("go to: `{t}`: the generation is not a whole number"))?;
        return Ok(Place::Key(slot, gen));
    }
    if let Some(rest) = t.strip_prefix(['s', 'S']) {
        return Ok(Place::Slot(number(rest, "the slot")?));
    }
    let line = t.strip_prefix(['L', 'l']).unwrap_or(t);
    if line.is_empty() {
        return Err("go to: nothing typed (L12 a line, s300 a slot, 300@7 a key)".to_owned());
    }
    Ok(Place::Line(number(line, "the line")?))
}

/// Moves the map's selection to what `typed` names, on a screen with a map.
fn go_to(model: &mut Model, typed: &str) {
    let place = match parse_place(typed) {
        Ok(p) => p,
        Err(e) => return model.alarm(e),
    };
    let Some(snap) = model.shown().snapshot.clone() else { return nav::no_map(model) };
    let g = snap.geometry();
    let (line, said) = match place {
        Place::Line(l) if l < g.lines() => (l, format!("slot line {l}")),
        Place::Slot(s) if s < g.capacity() => {
            let l = g.line_of_slot(s);
            (l, format!("slot {s}, on line {l}"))
        }
        Place::Key(s, gen) if s < g.capacity() => {
            let l = g.line_of_slot(s);
            let now = match snap.generation(s) {
                Some(n) if n == gen => "the key is current".to_owned(),
                Some(n) => format!("the slot is at generation {n} now: the key is stale"),
                None => "its generation was not scanned".to_owned(),
            };
            (l, format!("key {s}@{gen}: slot {s}, on line {l}; {now}"))
        }
        Place::Line(l) => {
            return model.alarm(format!("go to: no line {l}: the table has lines 0 to {}", g.lines() - 1));
        }
        Place::Slot(s) | Place::Key(s, _) => {
            return model.alarm(format!("go to: no slot {s}: the table has slots 0 to {}", g.capacity() - 1));
        }
    };
    if !matches!(model.view.screen, Screen::Dashboard | Screen::Occupancy | Screen::Generations) {
        model.view.screen = Screen::Occupancy;
    }
    model.view.map.cursor_line = line;
    model.say(said);
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
    fn tab_bar(&self) -> Option<Rect> {
        let extras = self.extras();
        self.dashboard(&extras).regions(self.area).tabs
    }
    fn hot_lines(&self) -> Vec<usize> {
        slotscope_views::hottest_lines(&self.shown().heat)
    }
    fn has_table(&self) -> bool {
        Model::has_table(self)
    }
    fn backend_phrase(&self) -> String {
        format!("this backend is {}", self.shown().header.backend)
    }
    fn can_detail(&self) -> bool {
        // The contention view explains the header line.
        self.view.screen == Screen::Contention || Model::grid(self).is_some()
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

/// `n` and `p`: the next or previous step of the lesson.
fn step_lesson(model: &mut Model, forward: bool) {
    let Some(l) = &model.lesson else {
        model.say("n and p step through a lesson: `slotscope lessons` lists them; i shows the next ids");
        return;
    };
    if model.done {
        model.say(RUN_ENDED);
        return;
    }
    let (at, last) = (l.step, l.lesson.steps.len() - 1);
    let to = match (forward, at) {
        (true, a) if a >= last => {
            model.say("that was the last step: p goes back, q ends the lesson");
            return;
        }
        (false, 0) => {
            model.say("this is the first step: n goes on");
            return;
        }
        (true, a) => a + 1,
        (false, a) => a - 1,
    };
    go_to_step(model, Some(at), to);
}

/// Moves the lesson to step `to`: its view changes now, its run changes as a request.
fn go_to_step(model: &mut Model, from: Option<usize>, to: usize) {
    let hottest = lesson::hottest_line(model.shown());
    let Some(l) = model.lesson.as_mut() else { return };
    let Some((changes, view)) = l.go(from, to) else { return };
    LessonRun::apply_view(&view, &mut model.view, hottest);
    let title = l.lesson.steps[to].title.clone();
    let steps = l.lesson.steps.len();
    model.say(format!("step {}/{steps} {title}", to + 1));
    if !changes.is_empty() {
        model.requests.push(Request::Lesson { step: to, changes });
    }
}

fn toggle_freeze(model: &mut Model) {
    if model.frozen.take().is_some() {
        model.frames.set_frozen(false);
        model.say("live again");
    } else if model.frames.is_empty() {
        model.say("nothing to freeze yet");
    } else {
        model.frozen = Some(0);
        model.frames.set_frozen(true);
        let n = model.frames.len();
        model.say(format!("frozen (workers run on): , and . step through the last {n} frames"));
    }
}

/// One frame back (`,`) or forward (`.`); from live, `,` freezes first.
fn step(model: &mut Model, back: bool) {
    let Some(at) = model.frozen else {
        if back && !model.frames.is_empty() {
            model.frozen = Some(0);
            model.frames.set_frozen(true);
        } else {
            model.say("live: Space freezes the view, then , and . step through the last frames");
            return;
        }
        return step(model, back);
    };
    let last = model.frames.len().saturating_sub(1);
    let to = if back { (at + 1).min(last) } else { at.saturating_sub(1) };
    model.frozen = Some(to);
    let newest = model.frames.back(0).map(|f| f.header.elapsed).unwrap_or_default();
    let shown = model.shown().header.elapsed;
    let ago = newest.saturating_sub(shown).as_secs_f64();
    let edge = if back && to == at {
        " (the oldest kept)"
    } else if !back && to == at {
        " (the newest)"
    } else {
        ""
    };
    let n = last + 1;
    model.say(format!("frame {} of {n}{edge}, {ago:.1} s before the newest; Space: live", n - to));
}

/// Ctrl-r: counters and histograms start over (violations are kept); the charts' history
/// stays, so the reset shows on them as a fresh spectrum, not a gap.
fn reset_stats(model: &mut Model) {
    if model.done {
        model.say(RUN_ENDED);
        return;
    }
    model.requests.push(Request::ResetStats);
}

fn pause(model: &mut Model) {
    if model.done {
        model.say(RUN_ENDED);
        return;
    }
    model.paused = !model.paused;
    model.requests.push(if model.paused { Request::Pause } else { Request::Resume });
}

/// The group of the newest running thread (where `]` adds and `[` removes), else the first.
fn newest_group(model: &Model) -> Option<String> {
    let g = model.live.iter().max_by_key(|(i, _)| *i).map_or(0, |&(_, g)| g);
    model.groups.get(g).cloned()
}

fn add_thread(model: &mut Model) {
    if model.done {
        model.say(RUN_ENDED);
        return;
    }
    match newest_group(model) {
        Some(g) => model.requests.push(Request::AddThread(g)),
        None => model.say("no thread group yet: wait for the first sample"),
    }
}

fn remove_thread(model: &mut Model) {
    if model.done {
        model.say(RUN_ENDED);
        return;
    }
    if model.live.len() <= 1 {
        model.say("the last thread stays (P pauses the run)");
        return;
    }
    if let Some(g) = newest_group(model) {
        model.requests.push(Request::RemoveThread(g));
    }
}

fn cycle_layout(model: &mut Model) {
    if model.done {
        model.say(RUN_ENDED);
        return;
    }
    match model.shown().header.geometry {
        Some(g) => {
            let next = g.layout().next();
            model.requests.push(Request::Restart(next));
            model.say(format!("restarting the table as {next} ..."));
        }
        None => {
            let backend = model.shown().header.backend.clone();
            model.say(format!("layouts belong to the slotscope table; this backend is {backend}"));
        }
    }
}

fn cycle_allocator(model: &mut Model) {
    use slotscope_table::{Allocator, DEFAULT_MAGAZINE, MIN_MAGAZINE};
    if model.done {
        model.say(RUN_ENDED);
        return;
    }
    let Some(g) = model.shown().header.geometry else {
        let backend = model.shown().header.backend.clone();
        model.say(format!("allocators belong to the slotscope table; this backend is {backend}"));
        return;
    };
    if model.shown().header.variant == slotscope_table::Variant::RelaxedRing {
        model.say("the relaxed-ring variant runs with the ring allocator only");
        return;
    }
    let next = match model.facts.allocator {
        Allocator::Magazine { .. } => Allocator::Ring,
        // The default size, or the largest this table takes (a quarter of it).
        Allocator::Ring => {
            let most = u32::try_from(g.capacity() / 4).unwrap_or(u32::MAX);
            Allocator::Magazine { size: DEFAULT_MAGAZINE.min(most).max(MIN_MAGAZINE) }
        }
    };
    model.requests.push(Request::Allocator(next));
    model.say(format!("restarting the table with the {next} allocator ..."));
}

/// Draws the model: the views' dashboard for the shown frame. Reads, never writes.
pub fn draw(model: &Model, frame: &mut ratatui::Frame<'_>) {
    let extras = model.extras();
    frame.render_widget(&model.dashboard(&extras), frame.area());
}

#[cfg(test)]
mod tests;
