//! Workshop lessons: a scenario plus numbered steps of narration, each of which may change the
//! running run (layout, variant, threads, mix, rate, pinning, an injected stall, a reader that
//! holds its epoch pin, an A/B split) and point the viewer somewhere (a view, a line, a
//! question). Lessons are TOML files, validated like scenarios (`path:line:col`, a caret, a
//! did-you-mean, every error in one pass); the format is documented in `docs/LESSONS.md`.
//!
//! The state of the run at step k is a pure function of the lesson: the scenario's settings
//! with the changes of steps 1..=k applied in order ([`Lesson::state_at`]). Moving from one
//! step to another (forward or back) applies the difference ([`Lesson::transition`]), so
//! stepping back undoes what the later step did, and a setting the viewer changed by hand
//! stays unless a step sets it.
//!
//! A consumer of the engine (the engine knows nothing of lessons): [`apply`] turns a step's
//! [`Change`] into engine commands; [`run`] is the TUI's side (the step shown, the narration).

#[cfg(test)]
mod claims;
#[cfg(test)]
mod drive_tests;
mod file;
mod run;

use std::fmt;
use std::path::Path;
use std::time::Duration;

use slotscope_table::{Layout, Variant};

use slotscope_stress::scenario::{
    looks_like_path, read_file, Diagnostic, FileKind, LoadError, ValidationContext,
};
use slotscope_stress::{
    Command, Engine, EngineError, Hiccup, KeyChoice, Mix, PinPolicy, RemoveOrder, RunSpec, TableSpec,
};
use slotscope_views::Screen;

pub use file::parse;
pub use run::{figures, hottest_line, transfers_per_s, LessonRun, PRESENTER_FIGURES};

/// Most steps in one lesson.
pub const MAX_STEPS: usize = 64;
/// Longest `summary`, in characters (one line of `slotscope lessons`).
pub const MAX_SUMMARY_CHARS: usize = 100;
/// Longest `minutes` a lesson may say it takes.
pub const MAX_MINUTES: u32 = 180;
/// Longest stall a `hiccup` may inject.
pub const MAX_HICCUP: Duration = Duration::from_secs(10);

/// Where a step puts the map's cursor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    /// This slot line.
    Line(usize),
    /// The line with the most writes in the latest interval.
    Hottest,
    /// The header line (the counters every insert and remove updates).
    Header,
}

/// A live figure the narration panel shows under a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Figure {
    /// All threads' ops/s.
    Throughput,
    /// p99 of each operation that runs, this interval.
    P99,
    /// Corrected and uncorrected p99 and the max (open loop).
    Omission,
    /// Lines written by two or more threads in the interval.
    Sharing,
    /// Header-line writes per second and writers.
    Header,
    /// Ticket skips and ring retries per second.
    Retries,
    /// Stale lookups rejected per second, and the violations so far.
    Stale,
    /// Self-check violations so far.
    Violations,
    /// Removed elements waiting for reclamation; the pin holder.
    Garbage,
}

impl Figure {
    /// Every figure.
    pub const ALL: [Figure; 9] = [
        Figure::Throughput,
        Figure::P99,
        Figure::Omission,
        Figure::Sharing,
        Figure::Header,
        Figure::Retries,
        Figure::Stale,
        Figure::Violations,
        Figure::Garbage,
    ];

    /// The name in lesson files.
    pub const fn name(self) -> &'static str {
        match self {
            Figure::Throughput => "throughput",
            Figure::P99 => "p99",
            Figure::Omission => "omission",
            Figure::Sharing => "sharing",
            Figure::Header => "header",
            Figure::Retries => "retries",
            Figure::Stale => "stale",
            Figure::Violations => "violations",
            Figure::Garbage => "garbage",
        }
    }

    /// Parses a name of [`Figure::name`].
    pub fn from_name(name: &str) -> Option<Figure> {
        Figure::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// What one step changes in one thread group (every group when `group` is `None`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupChange {
    /// The group; `None`: every group.
    pub group: Option<String>,
    /// Thread count.
    pub threads: Option<usize>,
    /// Operation mix.
    pub mix: Option<Mix>,
    /// Rate (`Some(None)`: closed loop).
    pub rate: Option<Option<f64>>,
    /// Pinning.
    pub pin: Option<PinPolicy>,
    /// Lookup key choice.
    pub keys: Option<KeyChoice>,
    /// Stale-lookup share.
    pub stale: Option<f64>,
    /// Which key removes take.
    pub remove: Option<RemoveOrder>,
    /// A periodic stall (`Some(None)`: none).
    pub hiccup: Option<Option<Hiccup>>,
    /// The most keys a thread holds (`Some(None)`: no limit).
    pub keep: Option<Option<usize>>,
}

impl GroupChange {
    fn is_empty(&self) -> bool {
        *self == GroupChange { group: self.group.clone(), ..GroupChange::default() }
    }
}

/// One step of a lesson.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// A few words (the panel's title).
    pub title: String,
    /// The narration (may span lines; blank lines separate paragraphs).
    pub say: String,
    /// A question for the room, shown highlighted.
    pub ask: Option<String>,
    /// The screen to show.
    pub view: Option<Screen>,
    /// Where to put the map's cursor.
    pub focus: Option<Focus>,
    /// Open (true) or close (false) the explain panel of the focused line.
    pub explain: Option<bool>,
    /// Show (true) or hide (false) where the next ids land.
    pub next_ids: Option<bool>,
    /// Figures to show under the narration (default: the lesson's).
    pub watch: Option<Vec<Figure>>,
    /// Zero the counters and histograms on entering the step (violations are kept).
    pub reset: bool,
    /// Restart the table with this layout (side A in a split).
    pub layout: Option<Layout>,
    /// Restart the table with this variant.
    pub variant: Option<Variant>,
    /// Restart the table with this allocator.
    pub allocator: Option<slotscope_table::Allocator>,
    /// Start an A/B split (side A, side B layouts), or end it (`Some(None)`).
    pub split: Option<Option<(Layout, Layout)>>,
    /// Start a reader holding its epoch pin at most this long, or release it (`Some(None)`).
    pub hold_pin: Option<Option<Duration>>,
    /// Pause (true) or resume (false) the workers.
    pub pause: Option<bool>,
    /// Changes to thread groups.
    pub group: GroupChange,
    /// 1-based line of the step's `[[step]]` header in the file.
    pub line: usize,
}

/// A thread group's live settings, as a lesson tracks them.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupSettings {
    /// Its name.
    pub name: String,
    /// Threads.
    pub threads: usize,
    /// Mix.
    pub mix: Mix,
    /// Rate (`None`: closed loop).
    pub rate: Option<f64>,
    /// Pinning.
    pub pin: PinPolicy,
    /// Key choice.
    pub keys: KeyChoice,
    /// Stale share.
    pub stale: f64,
    /// Remove order.
    pub remove: RemoveOrder,
    /// Stall.
    pub hiccup: Option<Hiccup>,
    /// Most keys a thread holds.
    pub keep: Option<usize>,
}

/// Everything a lesson sets, at one step.
#[derive(Clone, Debug, PartialEq)]
pub struct LessonState {
    /// Layout of the table (side A in a split).
    pub layout: Layout,
    /// Variant.
    pub variant: Variant,
    /// Allocator of the table (both sides of a split).
    pub allocator: slotscope_table::Allocator,
    /// Side B's layout while split.
    pub split: Option<Layout>,
    /// A reader holds its pin, at most this long.
    pub hold_pin: Option<Duration>,
    /// Workers paused.
    pub paused: bool,
    /// Groups, in the scenario's order.
    pub groups: Vec<GroupSettings>,
}

/// One thing to do to a running engine when the step changes.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// Restart the table (side A) with this layout, variant and allocator; side B keeps its
    /// layout.
    Table {
        /// Layout.
        layout: Layout,
        /// Variant.
        variant: Variant,
        /// Allocator.
        allocator: slotscope_table::Allocator,
    },
    /// Start (or restart with another layout) side B of a split, or stop it (`None`).
    Split(Option<Layout>),
    /// A group's thread count.
    Threads {
        /// Group.
        group: String,
        /// Threads.
        threads: usize,
    },
    /// A group's mix.
    Mix {
        /// Group.
        group: String,
        /// Mix.
        mix: Mix,
    },
    /// A group's rate.
    Rate {
        /// Group.
        group: String,
        /// Ops/s per thread; `None` closed loop.
        rate: Option<f64>,
    },
    /// A group's pinning.
    Pin {
        /// Group.
        group: String,
        /// Policy.
        pin: PinPolicy,
    },
    /// A group's key choice and stale share.
    Keys {
        /// Group.
        group: String,
        /// Key choice.
        keys: KeyChoice,
        /// Stale share.
        stale: f64,
    },
    /// A group's remove order.
    RemoveOrder {
        /// Group.
        group: String,
        /// Order.
        order: RemoveOrder,
    },
    /// The most keys a group's threads hold.
    Keep {
        /// Group.
        group: String,
        /// Keys; `None`: no limit.
        keep: Option<usize>,
    },
    /// A group's stall.
    Hiccup {
        /// Group.
        group: String,
        /// Stall; `None` stops it.
        hiccup: Option<Hiccup>,
    },
    /// Start a pin holder (at most this long), or release it.
    HoldPin(Option<Duration>),
    /// Pause or resume.
    Pause(bool),
    /// Zero the statistics.
    ResetStats,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use slotscope_stress::scenario::values::{format_duration, format_mix, format_pin, format_rate};
        match self {
            Change::Table { layout, variant, allocator } => {
                write!(f, "table: {layout}, {variant}")?;
                if allocator.magazine().is_some() {
                    write!(f, ", {allocator}")?;
                }
                Ok(())
            }
            Change::Split(Some(b)) => write!(f, "split: side B {b}"),
            Change::Split(None) => f.write_str("split off"),
            Change::Threads { group, threads } => write!(f, "{group}: {threads} threads"),
            Change::Mix { group, mix } => write!(f, "{group}: mix {}", format_mix(*mix)),
            Change::Rate { group, rate: Some(r) } => write!(f, "{group}: {}/s per thread", format_rate(*r)),
            Change::Rate { group, rate: None } => write!(f, "{group}: closed loop"),
            Change::Pin { group, pin } => write!(f, "{group}: pin {}", format_pin(pin)),
            Change::Keys { group, keys, stale } => {
                write!(
                    f,
                    "{group}: keys {}, stale {stale}",
                    slotscope_stress::scenario::values::format_keys(*keys)
                )
            }
            Change::RemoveOrder { group, order } => write!(f, "{group}: remove {}", order.name()),
            Change::Hiccup { group, hiccup: Some(h) } => {
                write!(f, "{group}: stall {} every {}", format_duration(h.pause), format_duration(h.every))
            }
            Change::Hiccup { group, hiccup: None } => write!(f, "{group}: no stall"),
            Change::Keep { group, keep: Some(k) } => write!(f, "{group}: keep {k} keys a thread"),
            Change::Keep { group, keep: None } => write!(f, "{group}: no key limit"),
            Change::HoldPin(Some(d)) => write!(f, "a reader holds its pin (up to {})", format_duration(*d)),
            Change::HoldPin(None) => f.write_str("the reader lets go of its pin"),
            Change::Pause(true) => f.write_str("pause"),
            Change::Pause(false) => f.write_str("resume"),
            Change::ResetStats => f.write_str("reset statistics"),
        }
    }
}

/// A lesson that passed validation.
#[derive(Clone, Debug, PartialEq)]
pub struct Lesson {
    /// Its name (file stem unless the file says).
    pub name: String,
    /// A title.
    pub title: String,
    /// One line for `slotscope lessons`.
    pub summary: String,
    /// About how long it takes in a workshop, minutes.
    pub minutes: u32,
    /// The run it starts.
    pub spec: RunSpec,
    /// Start in an A/B split: side A's and side B's layouts.
    pub split: Option<(Layout, Layout)>,
    /// Figures shown under every step that names none.
    pub watch: Vec<Figure>,
    /// The steps, at least one.
    pub steps: Vec<Step>,
    /// Where it came from.
    pub origin: String,
    /// The file's text.
    pub source: String,
    /// Warnings found while reading it.
    pub warnings: Vec<Diagnostic>,
}

impl Lesson {
    /// The warnings, rendered (empty if none).
    pub fn render_warnings(&self) -> String {
        slotscope_stress::scenario::render_all(&self.origin, &self.source, &self.warnings)
    }

    /// The run's settings before any step.
    pub fn initial_state(&self) -> LessonState {
        LessonState {
            layout: self.split.map_or(self.spec.table.layout, |(a, _)| a),
            variant: self.spec.table.variant,
            allocator: self.spec.table.allocator,
            split: self.split.map(|(_, b)| b),
            hold_pin: None,
            paused: false,
            groups: self
                .spec
                .groups
                .iter()
                .map(|g| GroupSettings {
                    name: g.name.clone(),
                    threads: g.threads,
                    mix: g.mix,
                    rate: g.rate,
                    pin: g.pin.clone(),
                    keys: g.keys,
                    stale: g.stale_share,
                    remove: RemoveOrder::Random,
                    hiccup: None,
                    keep: None,
                })
                .collect(),
        }
    }

    /// The settings once steps `0..=step` (0-based) have been applied.
    pub fn state_at(&self, step: usize) -> LessonState {
        let mut s = self.initial_state();
        for st in self.steps.iter().take(step + 1) {
            apply_step(&mut s, st);
        }
        s
    }

    /// The spec to start the engine with: the scenario with the initial state's layout
    /// (side A's in a split).
    pub fn start_spec(&self) -> RunSpec {
        let mut spec = self.spec.clone();
        spec.table.layout = self.initial_state().layout;
        spec.table.allocator = self.initial_state().allocator;
        spec
    }

    /// What to do to go from step `from` (`None`: the lesson's start) to step `to`: the
    /// settings that differ, then the step's reset. Views and focus are the caller's.
    pub fn transition(&self, from: Option<usize>, to: usize) -> Vec<Change> {
        let a = from.map_or_else(|| self.initial_state(), |f| self.state_at(f));
        let b = self.state_at(to);
        let mut out = diff(&a, &b);
        if self.steps.get(to).is_some_and(|s| s.reset) {
            out.push(Change::ResetStats);
        }
        out
    }
}

fn apply_step(s: &mut LessonState, step: &Step) {
    if let Some(l) = step.layout {
        s.layout = l;
    }
    if let Some(v) = step.variant {
        s.variant = v;
    }
    if let Some(a) = step.allocator {
        s.allocator = a;
    }
    if let Some(split) = step.split {
        match split {
            Some((a, b)) => {
                s.layout = a;
                s.split = Some(b);
            }
            None => s.split = None,
        }
    }
    if let Some(h) = step.hold_pin {
        s.hold_pin = h;
    }
    if let Some(p) = step.pause {
        s.paused = p;
    }
    let c = &step.group;
    for g in &mut s.groups {
        if c.group.as_ref().is_some_and(|n| *n != g.name) {
            continue;
        }
        if let Some(n) = c.threads {
            g.threads = n;
        }
        if let Some(m) = c.mix {
            g.mix = m;
        }
        if let Some(r) = c.rate {
            g.rate = r;
        }
        if let Some(p) = &c.pin {
            g.pin = p.clone();
        }
        if let Some(k) = c.keys {
            g.keys = k;
        }
        if let Some(x) = c.stale {
            g.stale = x;
        }
        if let Some(o) = c.remove {
            g.remove = o;
        }
        if let Some(h) = c.hiccup {
            g.hiccup = h;
        }
        if let Some(k) = c.keep {
            g.keep = k;
        }
    }
}

/// The changes that turn state `a` into state `b`, in the order they are applied: the table,
/// the split, the groups, the pin holder, pause.
pub fn diff(a: &LessonState, b: &LessonState) -> Vec<Change> {
    let mut out = Vec::new();
    // The groups change first, the table restarts after them: a restart gives every live
    // thread its prefill share, so a thread a step adds gets keys when the step also restarts.
    for (x, y) in a.groups.iter().zip(&b.groups) {
        let group = || y.name.clone();
        if x.threads != y.threads {
            out.push(Change::Threads { group: group(), threads: y.threads });
        }
        if x.mix != y.mix {
            out.push(Change::Mix { group: group(), mix: y.mix });
        }
        if x.rate != y.rate {
            out.push(Change::Rate { group: group(), rate: y.rate });
        }
        if x.pin != y.pin {
            out.push(Change::Pin { group: group(), pin: y.pin.clone() });
        }
        if x.keys != y.keys || x.stale.to_bits() != y.stale.to_bits() {
            out.push(Change::Keys { group: group(), keys: y.keys, stale: y.stale });
        }
        if x.remove != y.remove {
            out.push(Change::RemoveOrder { group: group(), order: y.remove });
        }
        if x.keep != y.keep {
            out.push(Change::Keep { group: group(), keep: y.keep });
        }
        if x.hiccup != y.hiccup {
            out.push(Change::Hiccup { group: group(), hiccup: y.hiccup });
        }
    }
    if a.layout != b.layout || a.variant != b.variant || a.allocator != b.allocator {
        out.push(Change::Table { layout: b.layout, variant: b.variant, allocator: b.allocator });
    }
    if a.split != b.split {
        out.push(Change::Split(b.split));
    }
    if a.hold_pin != b.hold_pin {
        out.push(Change::HoldPin(b.hold_pin));
    }
    if a.paused != b.paused {
        out.push(Change::Pause(b.paused));
    }
    out
}

/// Sets `spec`'s group thread counts to `state`'s: an engine started in a step's state (side B
/// of a split) starts with its threads, each prefilling its share.
pub fn start_threads(spec: &mut RunSpec, state: &LessonState) {
    for (g, s) in spec.groups.iter_mut().zip(&state.groups) {
        g.threads = s.threads;
    }
}

/// Applies `change` to `engine`. [`Change::Split`] is the caller's (it starts or stops a
/// second engine) and does nothing here. `layout` overrides a table change's layout (side B
/// of a split keeps its own).
///
/// # Errors
/// As [`Engine::apply`].
pub fn apply(engine: &Engine, change: &Change, layout: Option<Layout>) -> Result<(), EngineError> {
    let command = match change.clone() {
        Change::Table { layout: l, variant, allocator } => {
            let table = TableSpec { layout: layout.unwrap_or(l), variant, allocator, ..engine.table_spec() };
            Command::Restart { table }
        }
        Change::Split(_) => return Ok(()),
        Change::Threads { group, threads } => Command::SetThreads { group, threads },
        Change::Mix { group, mix } => Command::SetMix { group, mix },
        Change::Rate { group, rate } => Command::SetRate { group, rate },
        Change::Pin { group, pin } => Command::SetPin { group, pin },
        Change::Keys { group, keys, stale } => Command::SetKeys { group, keys, stale_share: stale },
        Change::RemoveOrder { group, order } => Command::SetRemoveOrder { group, order },
        Change::Hiccup { group, hiccup } => Command::SetHiccup { group, hiccup },
        Change::Keep { group, keep } => Command::SetKeep { group, keep },
        Change::HoldPin(hold) => Command::HoldPin { hold },
        Change::Pause(true) => Command::Pause,
        Change::Pause(false) => Command::Resume,
        Change::ResetStats => Command::ResetStats,
    };
    engine.apply(command)
}

/// A built-in lesson.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuiltinLesson {
    /// Its name (its file stem).
    pub name: &'static str,
    /// The TOML text.
    pub source: &'static str,
}

impl BuiltinLesson {
    /// The path of its file in the repository, used as the origin in messages.
    pub fn origin(&self) -> String {
        format!("lessons/{}.toml", self.name)
    }
}

macro_rules! lessons {
    ($($name:literal),* $(,)?) => {
        /// Every built-in lesson, in the order `slotscope lessons` lists them.
        pub const BUILTIN_LESSONS: &[BuiltinLesson] = &[
            $(BuiltinLesson { name: $name, source: include_str!(concat!("../../lessons/", $name, ".toml")) },)*
        ];
    };
}

lessons!["false-sharing", "hot-counter", "aba", "coordinated-omission", "epoch-stall"];

/// The built-in lesson of that name.
pub fn builtin(name: &str) -> Option<&'static BuiltinLesson> {
    BUILTIN_LESSONS.iter().find(|b| b.name == name)
}

/// The names of the built-in lessons.
fn builtin_names() -> Vec<&'static str> {
    BUILTIN_LESSONS.iter().map(|b| b.name).collect()
}

/// Loads a built-in lesson.
///
/// # Errors
/// [`LoadError::Unknown`], or [`LoadError::Invalid`] if the embedded file is broken.
pub fn load_builtin(name: &str, ctx: &ValidationContext) -> Result<Lesson, LoadError> {
    let Some(b) = builtin(name) else {
        return Err(LoadError::unknown(FileKind::Lesson, name, builtin_names()));
    };
    Ok(parse(b.source, &b.origin(), b.name, None, ctx)?)
}

/// Loads a lesson file. A `scenario = "file.toml"` in it is read relative to its directory.
///
/// # Errors
/// [`LoadError::Io`] or [`LoadError::Invalid`].
pub fn load_file(path: &Path, ctx: &ValidationContext) -> Result<Lesson, LoadError> {
    let (text, stem) = read_file(FileKind::Lesson, path, "lesson")?;
    Ok(parse(&text, &slotscope_stress::scenario::shown_path(path), &stem, path.parent(), ctx)?)
}

/// A built-in lesson if `arg` names one, else a file.
///
/// # Errors
/// As [`load_builtin`] and [`load_file`].
pub fn resolve(arg: &str, ctx: &ValidationContext) -> Result<Lesson, LoadError> {
    if builtin(arg).is_some() {
        return load_builtin(arg, ctx);
    }
    if looks_like_path(arg) {
        return load_file(Path::new(arg), ctx);
    }
    Err(LoadError::unknown(FileKind::Lesson, arg, builtin_names()))
}

/// (name, summary, minutes) of every built-in lesson, for `slotscope lessons`.
pub fn list(ctx: &ValidationContext) -> Vec<(&'static str, String, u32)> {
    BUILTIN_LESSONS
        .iter()
        .map(|b| match load_builtin(b.name, ctx) {
            Ok(l) => (b.name, l.summary, l.minutes),
            Err(_) => (b.name, "(this build's copy does not validate)".to_owned(), 0),
        })
        .collect()
}

#[cfg(test)]
mod tests;
