//! Reading a lesson file: TOML to a [`Lesson`], every problem located, with the scenario's
//! readers (so a `rate` or a `mix` in a step is read, and its errors shown, exactly as in a
//! scenario) and the scenario's semantic checks run on the settings each step leads to.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use slotscope_table::{Geometry, Layout, Variant};
use toml::de::{DeTable, DeValue};

use super::{
    apply_step, Figure, Focus, GroupChange, Lesson, Step, MAX_HICCUP, MAX_MINUTES, MAX_STEPS,
    MAX_SUMMARY_CHARS,
};
use slotscope_stress::scenario::values::{did_you_mean, format_duration, ValueError};
use slotscope_stress::scenario::{
    self, syntax_errors, validate, Diagnostic, Field, GroupField, Key, Loader, ScenarioError, Severity, Val,
    ValidationContext,
};
use slotscope_stress::{BackendKind, Hiccup, RemoveOrder, RunSpec, MAX_PIN_HOLD};
use slotscope_views::Screen;

/// Keys of the top level of a lesson.
pub const TOP_KEYS: &[&str] = &["name", "title", "summary", "minutes", "scenario", "split", "watch", "step"];
/// Keys of a `[[step]]`.
pub const STEP_KEYS: &[&str] = &[
    "title",
    "say",
    "ask",
    "view",
    "focus",
    "explain",
    "next_ids",
    "watch",
    "reset",
    "layout",
    "variant",
    "allocator",
    "split",
    "group",
    "threads",
    "mix",
    "rate",
    "pin",
    "keys",
    "stale",
    "remove",
    "keep",
    "hiccup",
    "hold_pin",
    "pause",
];
/// Keys of a `hiccup` table.
pub const HICCUP_KEYS: &[&str] = &["every", "for"];

/// The scenario readers record their findings against a [`Field`]; once the scenario itself
/// has been checked, lesson values use this one (its only effect is on those checks).
const LESSON_FIELD: Field = Field::Seed;

struct Reader<'s> {
    l: Loader<'s>,
}

/// Parses and checks a lesson. `origin` names the text in messages; `default_name` is its name
/// without a `name` key; `dir` is where a `scenario = "file.toml"` is looked for.
///
/// # Errors
/// Every error found, with the warnings found along the way.
pub fn parse(
    text: &str,
    origin: &str,
    default_name: &str,
    dir: Option<&Path>,
    ctx: &ValidationContext,
) -> Result<Lesson, ScenarioError> {
    let fail = |errors: Vec<Diagnostic>, warnings: Vec<Diagnostic>| ScenarioError {
        origin: origin.to_owned(),
        source: text.to_owned(),
        errors,
        warnings,
    };
    let (doc, syntax) = DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        return Err(fail(syntax_errors(text, &syntax), Vec::new()));
    }
    let mut r = Reader { l: Loader::new(text) };
    let lesson = r.lesson(doc.get_ref(), default_name, dir, ctx);
    let (mut errors, mut warnings): (Vec<_>, Vec<_>) =
        r.l.found.into_iter().partition(|d| d.severity == Severity::Error);
    errors.sort_by_key(|d| (d.span.start, d.span.end));
    errors.dedup();
    warnings.sort_by_key(|d| (d.span.start, d.span.end));
    warnings.dedup();
    match lesson {
        Some(mut lesson) if errors.is_empty() => {
            lesson.origin = origin.to_owned();
            lesson.source = text.to_owned();
            lesson.warnings = warnings;
            Ok(lesson)
        }
        _ => {
            if errors.is_empty() {
                errors.push(Diagnostic::new(text, Severity::Error, 0..0, "this lesson cannot be read", None));
            }
            Err(fail(errors, warnings))
        }
    }
}

/// A step key's spans: the key and its value.
type KeySpans = HashMap<&'static str, (Range<usize>, Range<usize>)>;

impl Reader<'_> {
    fn error(&mut self, span: Range<usize>, message: impl Into<String>, hint: Option<String>) {
        self.l.error(span, message, hint);
    }

    fn warning(&mut self, span: Range<usize>, message: impl Into<String>, hint: Option<String>) {
        self.l.found.push(Diagnostic::located(
            &self.l.lines,
            self.l.src,
            Severity::Warning,
            span,
            message,
            hint,
        ));
    }

    /// The entries of `table` whose key is known; the others are reported.
    fn entries<'t, 'i>(
        &mut self,
        table: &'t DeTable<'i>,
        known: &'static [&'static str],
        place: &str,
    ) -> Vec<(&'static str, &'t Key<'i>, &'t Val<'i>)> {
        let mut out = Vec::new();
        for (k, v) in table.iter() {
            let name = k.get_ref().as_ref();
            if let Some(known_name) = known.iter().find(|n| **n == name) {
                out.push((*known_name, k, v));
                continue;
            }
            let hint = if place != "in a `[[step]]`" && STEP_KEYS.contains(&name) {
                format!("`{name}` belongs in a `[[step]]`")
            } else if place == "at the top level"
                && (scenario::TOP_KEYS.contains(&name)
                    || scenario::TABLE_KEYS.contains(&name)
                    || scenario::GROUP_KEYS.contains(&name))
            {
                format!("the run's settings go in `[scenario]` (or `scenario = \"NAME\"`); a step changes `{name}` live")
            } else if place == "in a `[[step]]`" && name == "at" {
                "steps have no time: the teacher moves on with `n`".to_owned()
            } else {
                match did_you_mean(name, known.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("expected one of: {}", known.join(", ")),
                }
            };
            self.error(k.span(), format!("unknown key `{name}` {place}"), Some(hint));
        }
        out
    }

    fn text(&mut self, key: &str, v: &Val<'_>, example: &str) -> Option<String> {
        self.l.string(LESSON_FIELD, key, v, example).map(str::to_owned)
    }

    fn layout(&mut self, key: &str, v: &Val<'_>) -> Option<Layout> {
        let names = Layout::ALL.map(Layout::name);
        self.l.name_of(LESSON_FIELD, key, v, &names, |s| Layout::from_str(s).ok())
    }

    /// `"a,b"` (two layouts) or `"off"`.
    fn split(&mut self, v: &Val<'_>) -> Option<Option<(Layout, Layout)>> {
        let s = self.text("split", v, "\"linear,interleaved\"")?;
        if s == "off" {
            return Some(None);
        }
        let parts: Vec<&str> = s.split(',').collect();
        let hint = "two layouts, side A then side B: split = \"linear,interleaved\" (or \"off\")";
        if parts.len() != 2 {
            let e = ValueError::new(&s, 0..s.len(), format!("`{s}` is not two layouts")).with_hint(hint);
            self.l.value_error(LESSON_FIELD, v, &s, e);
            return None;
        }
        let mut out = [Layout::Interleaved; 2];
        let mut at = 0;
        let mut ok = true;
        for (i, p) in parts.iter().enumerate() {
            let lead = p.len() - p.trim_start().len();
            let name = p.trim();
            let span = at + lead..at + lead + name.len();
            match Layout::from_str(name) {
                Ok(l) => out[i] = l,
                Err(_) => {
                    let names = Layout::ALL.map(Layout::name);
                    let h = did_you_mean(name, names.iter().copied()).map_or_else(
                        || format!("expected one of: {}", names.join(", ")),
                        |n| format!("did you mean `{n}`?"),
                    );
                    let e = ValueError::new(&s, span, format!("unknown layout `{name}`")).with_hint(h);
                    self.l.value_error(LESSON_FIELD, v, &s, e);
                    ok = false;
                }
            }
            at += p.len() + 1;
        }
        ok.then_some(Some((out[0], out[1])))
    }

    fn watch(&mut self, v: &Val<'_>) -> Option<Vec<Figure>> {
        let DeValue::Array(items) = v.get_ref() else {
            let found = self.l.found(v);
            self.error(
                v.span(),
                format!("`watch` must be a list of figures, found {found}"),
                Some("e.g. watch = [\"throughput\", \"p99\"]".into()),
            );
            return None;
        };
        let mut out = Vec::new();
        for item in items.iter() {
            let names = Figure::ALL.map(Figure::name);
            if let Some(f) = self.l.name_of(LESSON_FIELD, "figure", item, &names, Figure::from_name) {
                if !out.contains(&f) {
                    out.push(f);
                }
            }
        }
        Some(out)
    }

    /// A duration, or `"off"` (`Some(None)`).
    fn duration_or_off(&mut self, key: &str, v: &Val<'_>) -> Option<Option<Duration>> {
        if let DeValue::String(s) = v.get_ref() {
            if s.as_ref() == "off" {
                return Some(None);
            }
        }
        self.l.duration(LESSON_FIELD, key, v).map(Some)
    }

    fn hiccup(&mut self, v: &Val<'_>) -> Option<Option<Hiccup>> {
        let example = "hiccup = { every = \"1s\", for = \"50ms\" } (or \"off\")";
        let t = match v.get_ref() {
            DeValue::String(s) if s.as_ref() == "off" => return Some(None),
            DeValue::Table(t) => t,
            _ => {
                let found = self.l.found(v);
                self.error(
                    v.span(),
                    format!("`hiccup` must be a table or \"off\", found {found}"),
                    Some(example.into()),
                );
                return None;
            }
        };
        let mut every = None;
        let mut pause = None;
        let errors_before = self.count_errors();
        for (name, _, val) in self.entries(t, HICCUP_KEYS, "in `hiccup`") {
            let d = self.l.duration(LESSON_FIELD, name, val).map(|d| (d, val.span()));
            if name == "every" {
                every = d;
            } else {
                pause = d;
            }
        }
        let (Some((every, es)), Some((pause, ps))) = (every, pause) else {
            if self.count_errors() == errors_before {
                self.error(v.span(), "a hiccup needs `every` and `for`", Some(example.into()));
            }
            return None;
        };
        if every.is_zero() {
            self.error(es, "`every` must be more than 0", None);
            return None;
        }
        if pause.is_zero() || pause > MAX_HICCUP {
            self.error(
                ps,
                format!("`for` must be more than 0 and at most {}", format_duration(MAX_HICCUP)),
                None,
            );
            return None;
        }
        if pause >= every {
            self.error(
                ps,
                format!("a stall of {} every {} never ends", format_duration(pause), format_duration(every)),
                Some("`for` must be shorter than `every`".into()),
            );
            return None;
        }
        Some(Some(Hiccup { every, pause }))
    }

    fn lesson(
        &mut self,
        root: &DeTable<'_>,
        default_name: &str,
        dir: Option<&Path>,
        ctx: &ValidationContext,
    ) -> Option<Lesson> {
        let entries = self.entries(root, TOP_KEYS, "at the top level");
        // The scenario first: steps are checked against its groups and table.
        let mut spec: Option<RunSpec> = None;
        let mut scenario_seen = false;
        for (name, _, v) in &entries {
            if *name == "scenario" {
                scenario_seen = true;
                spec = self.scenario(v, default_name, dir, ctx);
            }
        }
        if !scenario_seen {
            self.error(
                0..0,
                "a lesson needs a `scenario`",
                Some("write scenario = \"churn\" (a built-in or a file), or a `[scenario]` table".into()),
            );
        }
        let mut lesson = Lesson {
            name: default_name.to_owned(),
            title: String::new(),
            summary: String::new(),
            minutes: 10,
            spec: spec.clone().unwrap_or_default(),
            split: None,
            watch: vec![Figure::Throughput, Figure::P99],
            steps: Vec::new(),
            origin: String::new(),
            source: String::new(),
            warnings: Vec::new(),
        };
        let mut summary_seen = false;
        let mut steps = None;
        for (name, key, v) in entries {
            match name {
                "name" => {
                    if let Some(s) = self.text(name, v, "\"my-lesson\"") {
                        if s.trim().is_empty() || s.chars().any(char::is_control) {
                            self.error(v.span(), "the lesson name must be a non-empty word", None);
                        }
                        lesson.name = s;
                    }
                }
                "title" => lesson.title = self.text(name, v, "\"False sharing\"").unwrap_or_default(),
                "summary" => {
                    summary_seen = true;
                    if let Some(s) = self.text(name, v, "\"what the room will see\"") {
                        if s.contains(['\n', '\r']) {
                            self.error(
                                v.span(),
                                "the summary must be one line",
                                Some("it is the line `slotscope lessons` shows".into()),
                            );
                        } else if s.chars().count() > MAX_SUMMARY_CHARS {
                            self.error(
                                v.span(),
                                format!("the summary is longer than {MAX_SUMMARY_CHARS} characters"),
                                Some("it is the line `slotscope lessons` shows".into()),
                            );
                        }
                        lesson.summary = s;
                    }
                }
                "minutes" => {
                    if let Some(n) = self.l.uint(LESSON_FIELD, name, v, u128::from(MAX_MINUTES), "10") {
                        if n == 0 {
                            self.error(v.span(), "`minutes` must be at least 1", None);
                        }
                        lesson.minutes = u32::try_from(n).unwrap_or(MAX_MINUTES);
                    }
                }
                "split" => {
                    if let Some(s) = self.split(v) {
                        lesson.split = s;
                    }
                }
                "watch" => {
                    if let Some(w) = self.watch(v) {
                        lesson.watch = w;
                    }
                }
                "step" => steps = Some((key, v)),
                _ => {}
            }
        }
        if !summary_seen {
            self.error(0..0, "a lesson needs a `summary`", Some("one line for `slotscope lessons`".into()));
        }
        if lesson.title.is_empty() {
            lesson.title.clone_from(&lesson.name);
        }
        match steps {
            Some((_, v)) => lesson.steps = self.steps(v, &lesson, spec.as_ref(), ctx),
            None => self.error(
                0..0,
                "a lesson needs at least one `[[step]]`",
                Some("each step has `say` (what the teacher says)".into()),
            ),
        }
        spec.map(|_| lesson)
    }

    fn scenario(
        &mut self,
        v: &Val<'_>,
        default_name: &str,
        dir: Option<&Path>,
        ctx: &ValidationContext,
    ) -> Option<RunSpec> {
        match v.get_ref() {
            DeValue::String(s) => {
                let name = s.as_ref();
                let loaded = if scenario::builtin(name).is_some() {
                    scenario::load_builtin(name, ctx)
                } else {
                    let path = dir.map_or_else(|| Path::new(name).to_owned(), |d| d.join(name));
                    if name.contains(['/', '\\']) || Path::new(name).extension().is_some() {
                        scenario::load_file(&path, ctx)
                    } else {
                        Err(scenario::LoadError::unknown(
                            scenario::FileKind::Scenario,
                            name,
                            scenario::BUILTINS.iter().map(|b| b.name).collect(),
                        ))
                    }
                };
                match loaded {
                    Ok(sc) => Some(sc.spec),
                    Err(scenario::LoadError::Unknown { suggestion, .. }) => {
                        let hint = suggestion.map_or_else(
                            || "a built-in scenario (`slotscope scenarios`), a path ending in .toml, or a `[scenario]` table".to_owned(),
                            |n| format!("did you mean `{n}`?"),
                        );
                        self.error(v.span(), format!("no built-in scenario named `{name}`"), Some(hint));
                        None
                    }
                    Err(scenario::LoadError::Io { path, error, .. }) => {
                        self.error(
                            v.span(),
                            format!("cannot read scenario file `{}`: {error}", path.display()),
                            Some("paths are relative to the lesson file".into()),
                        );
                        None
                    }
                    Err(scenario::LoadError::Invalid(e)) => {
                        let first = e
                            .errors
                            .first()
                            .map_or(String::new(), |d| format!(": {}:{}: {}", e.origin, d.line, d.message));
                        self.error(
                            v.span(),
                            format!(
                                "scenario `{name}` has {} error{}{first}",
                                e.errors.len(),
                                if e.errors.len() == 1 { "" } else { "s" }
                            ),
                            Some(format!("`slotscope run {name}` shows them all")),
                        );
                        None
                    }
                }
            }
            DeValue::Table(t) => {
                self.l.top = "in `[scenario]`";
                let errors_before = self.count_errors();
                let mut spec = self.l.run_spec(t, default_name);
                self.l.check_spec(&spec, ctx);
                self.l.top = "at the top level";
                spec.source = scenario::to_toml(&spec);
                (self.count_errors() == errors_before).then_some(spec)
            }
            _ => {
                let found = self.l.found(v);
                self.error(
                    v.span(),
                    format!("`scenario` must be a name or a table, found {found}"),
                    Some(
                        "scenario = \"churn\", or a `[scenario]` table with the keys of a scenario file"
                            .into(),
                    ),
                );
                None
            }
        }
    }

    fn count_errors(&self) -> usize {
        self.l.found.iter().filter(|d| d.severity == Severity::Error).count()
    }

    fn steps(
        &mut self,
        v: &Val<'_>,
        lesson: &Lesson,
        spec: Option<&RunSpec>,
        ctx: &ValidationContext,
    ) -> Vec<Step> {
        let items: Vec<(Range<usize>, &DeTable<'_>)> = match v.get_ref() {
            DeValue::Array(items) => items
                .iter()
                .filter_map(|item| match item.get_ref() {
                    DeValue::Table(t) => Some((item.span(), t)),
                    _ => {
                        let found = self.l.found(item);
                        self.error(item.span(), format!("each `step` must be a table, found {found}"), None);
                        None
                    }
                })
                .collect(),
            _ => {
                self.error(
                    v.span(),
                    "`step` is a list: write `[[step]]` (double brackets) for each step",
                    Some("`[step]` makes one table; `[[step]]` adds one more to a list".into()),
                );
                return Vec::new();
            }
        };
        if items.len() > MAX_STEPS {
            self.error(items[MAX_STEPS].0.clone(), format!("more than {MAX_STEPS} steps"), None);
        }
        let mut out: Vec<Step> = Vec::new();
        let mut state = lesson.initial_state();
        for (header, t) in items {
            let (step, spans) = self.step(header.clone(), t, spec);
            apply_step(&mut state, &step);
            if let Some(spec) = spec {
                self.check_state(spec, &state, &step, &spans, header, ctx);
            }
            out.push(step);
        }
        out
    }

    fn step(&mut self, header: Range<usize>, t: &DeTable<'_>, spec: Option<&RunSpec>) -> (Step, KeySpans) {
        let line = self.l.src[..header.start.min(self.l.src.len())].matches('\n').count() + 1;
        let mut step = Step {
            title: String::new(),
            say: String::new(),
            ask: None,
            view: None,
            focus: None,
            explain: None,
            next_ids: None,
            watch: None,
            reset: false,
            layout: None,
            variant: None,
            allocator: None,
            split: None,
            hold_pin: None,
            pause: None,
            group: GroupChange::default(),
            line,
        };
        let mut spans = KeySpans::new();
        let mut focus_value = None;
        for (name, key, v) in self.entries(t, STEP_KEYS, "in a `[[step]]`") {
            spans.insert(name, (key.span(), v.span()));
            let g = &mut step.group;
            match name {
                "title" => step.title = self.text(name, v, "\"Watch the lines\"").unwrap_or_default(),
                "say" => step.say = self.text(name, v, "\"what the teacher says\"").unwrap_or_default(),
                "ask" => step.ask = self.text(name, v, "\"what happened to p99?\""),
                "view" => {
                    let names = Screen::ALL.map(Screen::key);
                    step.view = self.l.name_of(LESSON_FIELD, name, v, &names, Screen::from_key);
                }
                "focus" => focus_value = Some(v),
                "explain" => step.explain = self.l.boolean(LESSON_FIELD, name, v),
                "next_ids" => step.next_ids = self.l.boolean(LESSON_FIELD, name, v),
                "watch" => step.watch = self.watch(v),
                "reset" => step.reset = self.l.boolean(LESSON_FIELD, name, v).unwrap_or(false),
                "layout" => step.layout = self.layout(name, v),
                "variant" => {
                    let names = Variant::ALL.map(Variant::name);
                    step.variant =
                        self.l.name_of(LESSON_FIELD, name, v, &names, |s| Variant::from_str(s).ok());
                }
                "allocator" => {
                    // `ring`, or `magazine` of the default size (at most a quarter of the table:
                    // the scenario check says so where it does not fit).
                    let names = ["ring", "magazine"];
                    step.allocator = self.l.name_of(LESSON_FIELD, name, v, &names, |s| match s {
                        "ring" => Some(slotscope_table::Allocator::Ring),
                        "magazine" => Some(slotscope_table::Allocator::Magazine {
                            size: slotscope_table::DEFAULT_MAGAZINE,
                        }),
                        _ => None,
                    });
                }
                "split" => step.split = self.split(v),
                "group" => g.group = self.text(name, v, "\"main\""),
                "threads" => {
                    g.threads =
                        self.l.uint(LESSON_FIELD, name, v, u128::from(u32::MAX), "2").map(|n| n as usize);
                }
                "mix" => g.mix = self.l.mix(LESSON_FIELD, v),
                "rate" => g.rate = self.l.rate(LESSON_FIELD, v),
                "pin" => g.pin = self.l.pin(LESSON_FIELD, v),
                "keys" => g.keys = self.l.keys(LESSON_FIELD, v),
                "stale" => g.stale = self.l.number(LESSON_FIELD, name, v, "0.2"),
                "remove" => {
                    g.remove =
                        self.l.name_of(LESSON_FIELD, name, v, &["random", "oldest"], RemoveOrder::from_name);
                }
                "hiccup" => g.hiccup = self.hiccup(v),
                "keep" => {
                    g.keep = match v.get_ref() {
                        DeValue::String(s) if s.as_ref() == "off" => Some(None),
                        _ => match self.l.uint(LESSON_FIELD, name, v, u128::from(u32::MAX), "64") {
                            Some(0) => {
                                self.error(v.span(), "`keep` must be at least 1 (or \"off\")", None);
                                None
                            }
                            n => n.map(|n| Some(n as usize)),
                        },
                    };
                }
                "hold_pin" => {
                    step.hold_pin = self.duration_or_off(name, v);
                    if let Some(Some(d)) = step.hold_pin {
                        if d > MAX_PIN_HOLD || d.is_zero() {
                            self.error(
                                v.span(),
                                format!(
                                    "`hold_pin` must be more than 0 and at most {}",
                                    format_duration(MAX_PIN_HOLD)
                                ),
                                Some("a held pin stops every thread's garbage from being freed".into()),
                            );
                            step.hold_pin = None;
                        }
                    }
                }
                "pause" => step.pause = self.l.boolean(LESSON_FIELD, name, v),
                _ => {}
            }
        }
        if step.say.trim().is_empty() && !spans.contains_key("say") {
            self.error(
                header.clone(),
                "this step has no `say`",
                Some("say = \"what the teacher says at this step\"".into()),
            );
        }
        if let Some(v) = focus_value {
            step.focus = self.focus(v, spec, &step);
        }
        if let Some(spec) = spec {
            self.check_group_target(&mut step, &spans, spec, header);
        }
        (step, spans)
    }

    fn focus(&mut self, v: &Val<'_>, spec: Option<&RunSpec>, step: &Step) -> Option<Focus> {
        match v.get_ref() {
            DeValue::String(s) if s.as_ref() == "hottest" => Some(Focus::Hottest),
            DeValue::String(s) if s.as_ref() == "header" => Some(Focus::Header),
            DeValue::Integer(_) => {
                let n = self.l.uint(LESSON_FIELD, "focus", v, u128::from(u32::MAX), "3")? as usize;
                let spec = spec?;
                let layout =
                    step.layout.or(step.split.flatten().map(|(a, _)| a)).unwrap_or(spec.table.layout);
                if let Ok(g) = Geometry::new(spec.table.capacity, layout, spec.table.line_bytes) {
                    if n >= g.lines() {
                        self.error(
                            v.span(),
                            format!(
                                "line {n} is past the table's end: it has {} lines ({layout})",
                                g.lines()
                            ),
                            Some(format!("lines are 0 ..= {}", g.lines() - 1)),
                        );
                        return None;
                    }
                }
                Some(Focus::Line(n))
            }
            _ => {
                let found = self.l.found(v);
                self.error(
                    v.span(),
                    format!("`focus` must be a line number, \"hottest\" or \"header\", found {found}"),
                    Some("e.g. focus = 3".into()),
                );
                None
            }
        }
    }

    /// `group` must name a group; `threads` needs one when there are several.
    fn check_group_target(
        &mut self,
        step: &mut Step,
        spans: &KeySpans,
        spec: &RunSpec,
        header: Range<usize>,
    ) {
        let names: Vec<&str> = spec.groups.iter().map(|g| g.name.as_str()).collect();
        if let Some(g) = step.group.group.clone() {
            if !names.contains(&g.as_str()) {
                let span = spans.get("group").map_or(header.clone(), |s| s.1.clone());
                let hint = did_you_mean(&g, names.iter().copied()).map_or_else(
                    || format!("the scenario's groups: {}", names.join(", ")),
                    |n| format!("did you mean `{n}`?"),
                );
                self.error(span, format!("no thread group named `{g}`"), Some(hint));
                step.group = GroupChange::default();
                return;
            }
        } else if names.len() > 1 && step.group.threads.is_some() {
            let span = spans.get("threads").map_or(header, |s| s.0.clone());
            self.error(
                span,
                "`threads` needs a `group` when the scenario has several",
                Some(format!("add group = \"{}\" (groups: {})", names[0], names.join(", "))),
            );
        }
        if step.group.is_empty() {
            if let Some((k, _)) = spans.get("group") {
                self.warning(
                    k.clone(),
                    "`group` names the group the step's changes apply to, but it changes none",
                    None,
                );
            }
        }
    }

    /// Runs the scenario checks on the settings this step leads to, reporting what this step
    /// set at its own keys.
    fn check_state(
        &mut self,
        spec: &RunSpec,
        state: &super::LessonState,
        step: &Step,
        spans: &KeySpans,
        header: Range<usize>,
        ctx: &ValidationContext,
    ) {
        let mut s = spec.clone();
        s.table.layout = state.layout;
        s.table.variant = state.variant;
        s.table.allocator = state.allocator;
        s.phases.clear();
        s.cycle = None;
        for (g, st) in s.groups.iter_mut().zip(&state.groups) {
            g.threads = st.threads;
            g.mix = st.mix;
            g.rate = st.rate;
            g.pin = st.pin.clone();
            g.keys = st.keys;
            g.stale_share = st.stale;
        }
        let mine = |gi: usize| step.group.group.as_ref().is_none_or(|n| *n == s.groups[gi].name);
        for p in validate(&s, ctx) {
            let key = match p.field {
                Field::Layout => "layout",
                Field::Variant => "variant",
                Field::Allocator | Field::Magazine => "allocator",
                Field::Groups => "threads",
                Field::Group(i, part) if i < s.groups.len() && mine(i) => match part {
                    GroupField::Threads => "threads",
                    GroupField::Mix => "mix",
                    GroupField::Keys => "keys",
                    GroupField::Stale => "stale",
                    GroupField::Rate => "rate",
                    GroupField::Pin => "pin",
                    _ => continue,
                },
                _ => continue,
            };
            if let Some((_, value)) = spans.get(key) {
                self.l.found.push(Diagnostic::located(
                    &self.l.lines,
                    self.l.src,
                    p.severity,
                    value.clone(),
                    p.message,
                    p.hint,
                ));
            }
        }
        if step.hold_pin.flatten().is_some() && spec.table.backend != BackendKind::Slotscope {
            let span = spans.get("hold_pin").map_or(header, |s| s.1.clone());
            self.warning(
                span,
                format!(
                    "a held pin matters only for the slotscope table; this scenario runs {}",
                    spec.table.backend.name()
                ),
                None,
            );
        }
    }
}
