//! Reading a scenario file: TOML text to a [`RunSpec`], with every problem located.
//!
//! The text is parsed into toml's spanned document tree (so every key and value knows its byte
//! range), walked by hand (so that one pass reports every unknown key, wrong type and bad
//! value instead of stopping at the first), and the result goes through the shared semantic
//! checks of [`validate`], whose findings are mapped back to the spans recorded on the way.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::str::FromStr;
use std::time::Duration;

use slotscope_table::{Layout, Variant};
use toml::de::{DeString, DeTable, DeValue};
use toml::Spanned;

use super::check::{validate, Field, GroupField, PhaseField, Severity, ValidationContext};
use super::diag::{Diagnostic, LineIndex, ScenarioError};
use super::Scenario;
use crate::scenario::spec::{
    BackendKind, GroupSpec, KeyChoice, Mix, PhaseSpec, PinPolicy, RunSpec, StopSpec, TIME_EVERY_AUTO,
};
use crate::scenario::values::{
    did_you_mean, parse_cores_spanned, parse_duration, parse_keys, parse_mix, parse_pin, parse_rate,
    ValueError,
};

pub type Key<'i> = Spanned<DeString<'i>>;
pub type Val<'i> = Spanned<DeValue<'i>>;

/// Keys of the top level.
pub const TOP_KEYS: &[&str] = &[
    "name",
    "description",
    "seed",
    "duration",
    "ops",
    "cycle",
    "time_every",
    "spare_core",
    "table",
    "group",
    "phase",
];
/// Keys of `[table]`.
pub const TABLE_KEYS: &[&str] =
    &["backend", "capacity", "layout", "line_bytes", "variant", "allocator", "magazine", "prefill"];
/// Keys of a `[[group]]`.
pub const GROUP_KEYS: &[&str] = &["name", "threads", "mix", "keys", "stale", "rate", "pin", "keep"];
/// Keys of a `[[phase]]`.
pub const PHASE_KEYS: &[&str] = &["at", "group", "mix", "rate", "threads", "ramp"];
/// Keys of a mix written as a table.
const MIX_KEYS: &[&str] = &["lookup", "insert", "remove"];
/// Keys of a key choice written as a table.
const KEYS_KEYS: &[&str] = &["zipf", "hot", "share"];

/// The name of a group that has none: `main` when it is the only one, else `groupN`.
pub fn default_group_name(index: usize, count: usize) -> String {
    if count == 1 {
        "main".to_owned()
    } else {
        format!("group{}", index + 1)
    }
}

/// Where in the document a key was found.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Top,
    Table,
    Group,
    Phase,
    Mix,
    Keys,
}

impl Place {
    fn describe(self) -> &'static str {
        match self {
            Place::Top => "at the top level",
            Place::Table => "in `[table]`",
            Place::Group => "in `[[group]]`",
            Place::Phase => "in `[[phase]]`",
            Place::Mix => "in a mix",
            Place::Keys => "in `keys`",
        }
    }
}

/// Spans recorded while reading, to locate the findings of [`validate`].
#[derive(Default)]
struct Spans {
    fields: HashMap<Field, Range<usize>>,
    items: HashMap<Field, Vec<Range<usize>>>,
    /// Fields whose value could not be read: semantic findings about them would be noise.
    failed: HashSet<Field>,
    table_header: Option<Range<usize>>,
}

impl Spans {
    fn locate(&self, field: Field, item: Option<usize>) -> Range<usize> {
        if let Some(r) = item.and_then(|i| self.items.get(&field).and_then(|v| v.get(i))) {
            return r.clone();
        }
        if let Some(r) = self.fields.get(&field) {
            return r.clone();
        }
        match field {
            Field::Group(_, GroupField::Header) | Field::Phase(_, PhaseField::Header) => 0..0,
            Field::Group(i, _) => self.locate(Field::Group(i, GroupField::Header), None),
            Field::Phase(i, _) => self.locate(Field::Phase(i, PhaseField::Header), None),
            Field::Groups => self.locate(Field::Group(0, GroupField::Threads), None),
            Field::Backend
            | Field::Capacity
            | Field::Layout
            | Field::LineBytes
            | Field::Variant
            | Field::Allocator
            | Field::Magazine
            | Field::Prefill => self.table_header.clone().unwrap_or(0..0),
            _ => 0..0,
        }
    }
}

/// Reads a TOML document (a scenario, or a lesson that embeds one) and collects every
/// problem with its span. Lessons (`crate::lesson`) use its value readers, so that their
/// messages, hints and positions are the same as a scenario's.
pub struct Loader<'s> {
    pub src: &'s str,
    /// Where the lines of `src` start (diagnostics are located with it).
    pub lines: LineIndex,
    pub found: Vec<Diagnostic>,
    spans: Spans,
    /// How the top level of the scenario is named in messages ("at the top level", or "in
    /// `[scenario]`" for a scenario inside a lesson).
    pub top: &'static str,
}

/// Parses and checks a scenario. `origin` names the text in messages (a path); `default_name`
/// is the scenario's name when it has no `name` key (the file stem).
pub fn parse(
    text: &str,
    origin: &str,
    default_name: &str,
    ctx: &ValidationContext,
) -> Result<Scenario, ScenarioError> {
    let fail = |errors: Vec<Diagnostic>, warnings: Vec<Diagnostic>| ScenarioError {
        origin: origin.to_owned(),
        source: text.to_owned(),
        errors,
        warnings,
    };
    let (doc, syntax) = DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        // The meaning of a broken document is a guess: report the syntax only.
        let errors = syntax_errors(text, &syntax);
        return Err(fail(errors, Vec::new()));
    }
    let mut loader = Loader::new(text);
    let mut spec = loader.run_spec(doc.get_ref(), default_name);
    spec.source = text.to_owned();
    loader.check_spec(&spec, ctx);
    let (mut errors, mut warnings): (Vec<_>, Vec<_>) =
        loader.found.into_iter().partition(|d| d.severity == Severity::Error);
    errors.sort_by_key(|d| (d.span.start, d.span.end));
    warnings.sort_by_key(|d| (d.span.start, d.span.end));
    if !errors.is_empty() {
        return Err(fail(errors, warnings));
    }
    spec.phases.sort_by_key(|p| p.at);
    Ok(Scenario { spec, origin: origin.to_owned(), warnings })
}

/// The parser's message about `text[span]`, said in the file's terms where the parser's are
/// unclear, and a hint.
fn explain_syntax(text: &str, span: &Range<usize>, message: &str) -> (String, Option<String>) {
    let at = text.get(span.clone()).unwrap_or("");
    let line_start = text[..span.start.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("").trim();
    if message.starts_with("duplicate key") && line.starts_with('[') {
        let header = line.split(']').next().unwrap_or(line).trim_start_matches('[');
        let first = text[..line_start]
            .lines()
            .position(|l| {
                l.trim().trim_start_matches('[').split(']').next() == Some(header)
                    && l.trim().starts_with('[')
            })
            .map(|i| i + 1);
        let message = match first {
            Some(n) => format!("`[{header}]` appears twice (first on line {n})"),
            None => format!("`[{header}]` appears twice"),
        };
        return (
            message,
            Some("give each table once, with all its keys; `[[group]]` and `[[phase]]` repeat".to_owned()),
        );
    }
    if message.contains("cannot extend value of type") && message.contains("dotted key") {
        let key = at.split('.').next().unwrap_or(at).trim_start_matches('[').trim();
        let written = if line.starts_with('[') { line.to_owned() } else { format!("{key}.…") };
        return (
            format!("`{key}` is given twice: once as a value, once as a table (`{written}`)"),
            Some(format!(
                "give `{key}` one way: a name (`{key} = \"churn\"`) or a table (`[{key}]`), not both"
            )),
        );
    }
    if message.contains("invalid unquoted key") && at.chars().any(char::is_control) {
        return (
            "a control character where a key should be".to_owned(),
            Some("scenario and lesson files are text: remove the control character (shown as ?)".to_owned()),
        );
    }
    (message.to_owned(), syntax_hint(message))
}

fn syntax_hint(message: &str) -> Option<String> {
    let hint = if message.contains("must be quoted") {
        "text values need quotes, e.g. layout = \"linear\""
    } else if message.starts_with("duplicate key") {
        "a key is set once per table, and `[table]` appears once; use `[[group]]`/`[[phase]]` for lists"
    } else if message.starts_with("unclosed table") {
        "a table header is `[name]` or `[[name]]` on its own line"
    } else if message.starts_with("invalid basic string") || message.starts_with("invalid literal string") {
        "a string ends with its opening quote on the same line (`\"\"\"` strings may span lines)"
    } else if message.contains("leading zero") {
        "write numbers without leading zeros"
    } else {
        return None;
    };
    Some(hint.to_owned())
}

/// The syntax errors of a document that did not parse, located (shared with lessons).
pub fn syntax_errors(text: &str, syntax: &[toml::de::Error]) -> Vec<Diagnostic> {
    let lines = LineIndex::of(text);
    let mut errors: Vec<Diagnostic> = syntax
        .iter()
        .map(|e| {
            let span = e.span().unwrap_or(0..0);
            let rest_of_line = text.get(span.start..).unwrap_or("").lines().next().unwrap_or("");
            let after_equals =
                text.get(..span.start).unwrap_or("").trim_end_matches([' ', '\t']).ends_with('=');
            if span.is_empty()
                && after_equals
                && (rest_of_line.trim().is_empty() || rest_of_line.trim_start().starts_with('#'))
            {
                return Diagnostic::located(
                    &lines,
                    text,
                    Severity::Error,
                    span,
                    "missing value after `=`",
                    None,
                );
            }
            let (message, hint) = explain_syntax(text, &span, e.message());
            Diagnostic::located(&lines, text, Severity::Error, span, message, hint)
        })
        .collect();
    errors.sort_by_key(|d| (d.span.start, d.span.end));
    // The parser can report one mistake twice at one place.
    errors.dedup_by(|a, b| a.span == b.span && a.message == b.message);
    errors
}

impl<'s> Loader<'s> {
    pub fn new(src: &'s str) -> Self {
        Loader {
            src,
            lines: LineIndex::of(src),
            found: Vec::new(),
            spans: Spans::default(),
            top: "at the top level",
        }
    }

    /// Runs the semantic checks of [`validate`] on `spec` and records their findings at the
    /// spans recorded while reading it.
    pub fn check_spec(&mut self, spec: &RunSpec, ctx: &ValidationContext) {
        for mut p in validate(spec, ctx) {
            if self.spans.failed.contains(&p.field) {
                continue;
            }
            // A phase past the end is only a warning when the command line shortened the run
            // (`run demo -d 3s`); a file whose own phase never runs is wrong.
            if p.severity == Severity::Warning
                && matches!(p.field, Field::Phase(_, PhaseField::At))
                && p.also == Some(Field::Stop)
            {
                p.severity = Severity::Error;
                p.hint = Some(
                    "a phase starts before the run ends: move it earlier, or make the run longer".to_owned(),
                );
            }
            let span = self.spans.locate(p.field, p.item);
            self.found.push(Diagnostic::located(&self.lines, self.src, p.severity, span, p.message, p.hint));
        }
    }
}

impl Loader<'_> {
    // -----------------------------------------------------------------------------------------
    // Recording

    pub fn error(&mut self, span: Range<usize>, message: impl Into<String>, hint: Option<String>) {
        self.found.push(Diagnostic::located(&self.lines, self.src, Severity::Error, span, message, hint));
    }

    pub fn fail(
        &mut self,
        field: Field,
        span: Range<usize>,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.spans.failed.insert(field);
        self.error(span, message, hint);
    }

    fn record(&mut self, field: Field, span: Range<usize>) {
        self.spans.fields.insert(field, span);
    }

    /// Byte offset in the file of the first character of a string value's content, when the
    /// content is written as is (no escapes), so that offsets inside it map to the file.
    fn string_content_start(&self, span: &Range<usize>, decoded: &str) -> Option<usize> {
        let raw = self.src.get(span.clone())?;
        for q in ["\"\"\"", "'''", "\"", "'"] {
            if raw.len() >= 2 * q.len() && raw.starts_with(q) && raw.ends_with(q) {
                return (&raw[q.len()..raw.len() - q.len()] == decoded).then_some(span.start + q.len());
            }
        }
        None
    }

    /// Maps a span inside a string value to the file (the whole value if it cannot).
    pub fn inner_span(&self, v: &Val<'_>, decoded: &str, inner: Range<usize>) -> Range<usize> {
        match self.string_content_start(&v.span(), decoded) {
            Some(s) => s + inner.start..s + inner.end,
            None => v.span(),
        }
    }

    pub fn value_error(&mut self, field: Field, v: &Val<'_>, decoded: &str, e: ValueError) {
        let span = self.inner_span(v, decoded, e.span.clone());
        self.fail(field, span, e.message, e.hint);
    }

    /// "string \"4\"", "integer `30`", "a table".
    pub fn found(&self, v: &Val<'_>) -> String {
        let raw = self.src.get(v.span()).unwrap_or("");
        match v.get_ref() {
            DeValue::String(_) => format!("string {raw}"),
            DeValue::Array(_) => "an array".to_owned(),
            DeValue::Table(_) => "a table".to_owned(),
            other => format!("{} `{raw}`", other.type_str()),
        }
    }

    fn wrong_type(&mut self, field: Field, key: &str, v: &Val<'_>, expected: &str, example: &str) {
        let hint = match v.get_ref() {
            DeValue::String(s) if example.trim_matches('"') == s.as_ref() || s.parse::<f64>().is_ok() => {
                format!("write it without quotes: {key} = {}", s.as_ref())
            }
            _ => format!("e.g. {key} = {example}"),
        };
        let message = format!("`{key}` must be {expected}, found {}", self.found(v));
        self.fail(field, v.span(), message, Some(hint));
    }

    // -----------------------------------------------------------------------------------------
    // Tables and keys

    /// The entries of `table` whose key is in `known`; the others are reported.
    fn entries<'t, 'i>(
        &mut self,
        table: &'t DeTable<'i>,
        known: &[&str],
        place: Place,
    ) -> Vec<(&'t Key<'i>, &'t Val<'i>)> {
        let mut out = Vec::new();
        for (k, v) in table.iter() {
            if known.contains(&k.get_ref().as_ref()) {
                out.push((k, v));
            } else {
                self.unknown_key(k, known, place);
            }
        }
        out
    }

    fn unknown_key(&mut self, key: &Key<'_>, known: &[&str], place: Place) {
        let k = key.get_ref().as_ref();
        let at = if place == Place::Top { self.top } else { place.describe() };
        let message = format!("unknown key `{k}` {at}");
        let elsewhere = |keys: &[&str]| keys.contains(&k);
        let hint = if place == Place::Phase && elsewhere(GROUP_KEYS) {
            format!("`{k}` cannot change in a phase; phases change `mix`, `rate` and `threads`")
        } else if place != Place::Top
            && matches!(place, Place::Table | Place::Group | Place::Phase)
            && elsewhere(TOP_KEYS)
        {
            format!(
                "`{k}` is a top-level key; after a `[...]` header every key belongs to that table, so move it above \
                 the first header"
            )
        } else if place != Place::Group && elsewhere(GROUP_KEYS) {
            format!("`{k}` belongs in a `[[group]]`")
        } else if place != Place::Table && elsewhere(TABLE_KEYS) {
            format!("`{k}` belongs in `[table]`")
        } else if place != Place::Phase && elsewhere(PHASE_KEYS) {
            format!("`{k}` belongs in a `[[phase]]`")
        } else {
            match did_you_mean(k, known.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("expected one of: {}", known.join(", ")),
            }
        };
        self.error(key.span(), message, Some(hint));
    }

    // -----------------------------------------------------------------------------------------
    // Values

    pub fn string<'v>(&mut self, field: Field, key: &str, v: &'v Val<'_>, example: &str) -> Option<&'v str> {
        match v.get_ref() {
            DeValue::String(s) => Some(s.as_ref()),
            _ => {
                self.wrong_type(field, key, v, "a string", example);
                None
            }
        }
    }

    /// A whole number in `0 ..= max`.
    pub fn uint(&mut self, field: Field, key: &str, v: &Val<'_>, max: u128, example: &str) -> Option<u128> {
        let raw = self.src.get(v.span()).unwrap_or("").to_owned();
        match v.get_ref() {
            DeValue::Integer(i) => match i128::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) if n < 0 => {
                    self.fail(field, v.span(), format!("`{key}` cannot be negative, found {raw}"), None);
                    None
                }
                Ok(n) if (n as u128) <= max => Some(n as u128),
                _ => {
                    self.fail(
                        field,
                        v.span(),
                        format!("`{key}` = {raw} is too large"),
                        Some(format!("at most {max}")),
                    );
                    None
                }
            },
            DeValue::Float(_) => {
                self.fail(
                    field,
                    v.span(),
                    format!("`{key}` must be a whole number, found float `{raw}`"),
                    Some(format!("e.g. {key} = {example}")),
                );
                None
            }
            _ => {
                self.wrong_type(field, key, v, "a whole number", example);
                None
            }
        }
    }

    /// Any number (integer or float).
    pub fn number(&mut self, field: Field, key: &str, v: &Val<'_>, example: &str) -> Option<f64> {
        match v.get_ref() {
            DeValue::Integer(_) | DeValue::Float(_) => {
                let parsed = match v.get_ref() {
                    DeValue::Integer(i) => i128::from_str_radix(i.as_str(), i.radix()).ok().map(|n| n as f64),
                    DeValue::Float(x) => x.as_str().parse::<f64>().ok(),
                    _ => None,
                };
                if parsed.is_none() {
                    let raw = self.src.get(v.span()).unwrap_or("").to_owned();
                    self.fail(field, v.span(), format!("`{key}` = {raw} is out of range"), None);
                }
                parsed
            }
            DeValue::String(s) if s.ends_with('%') => {
                let hint = match s.trim_end_matches('%').trim().parse::<f64>() {
                    Ok(p) => format!("write a fraction: {key} = {}", p / 100.0),
                    Err(_) => format!("e.g. {key} = {example}"),
                };
                let message = format!("`{key}` must be a number, found {}", self.found(v));
                self.fail(field, v.span(), message, Some(hint));
                None
            }
            _ => {
                self.wrong_type(field, key, v, "a number", example);
                None
            }
        }
    }

    pub fn boolean(&mut self, field: Field, key: &str, v: &Val<'_>) -> Option<bool> {
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(field, key, v, "true or false", "true");
                None
            }
        }
    }

    pub fn duration(&mut self, field: Field, key: &str, v: &Val<'_>) -> Option<Duration> {
        match v.get_ref() {
            DeValue::String(s) => match parse_duration(s) {
                Ok(d) => Some(d),
                Err(e) => {
                    self.value_error(field, v, s, e);
                    None
                }
            },
            DeValue::Integer(_) | DeValue::Float(_) => {
                let raw = self.src.get(v.span()).unwrap_or("").to_owned();
                self.fail(
                    field,
                    v.span(),
                    format!("`{key}` needs a unit, found number `{raw}`"),
                    Some(format!("write a string with a unit: {key} = \"{raw}s\" (or ms, m, h)")),
                );
                None
            }
            _ => {
                self.wrong_type(field, key, v, "a duration", "\"30s\"");
                None
            }
        }
    }

    /// `rate`: a number, a string with a multiplier, or `"closed"` (= `Some(None)`).
    pub fn rate(&mut self, field: Field, v: &Val<'_>) -> Option<Option<f64>> {
        match v.get_ref() {
            DeValue::String(s) if s.as_ref() == "closed" => Some(None),
            DeValue::String(s) => match parse_rate(s) {
                Ok(r) => Some(Some(r)),
                Err(e) => {
                    let e = if s.starts_with(|c: char| c.is_ascii_alphabetic()) {
                        ValueError::new(s, 0..s.len(), format!("`{s}` is not a rate"))
                            .with_hint("write ops per second per thread (`100k`, `2500`), or \"closed\" for a closed loop")
                    } else {
                        e
                    };
                    self.value_error(field, v, s, e);
                    None
                }
            },
            DeValue::Integer(_) | DeValue::Float(_) => {
                // Range checks are the validator's, shared with `--rate`.
                self.number(field, "rate", v, "\"100k\"").map(Some)
            }
            _ => {
                self.wrong_type(field, "rate", v, "a rate", "\"100k\"");
                None
            }
        }
    }

    pub fn mix(&mut self, field: Field, v: &Val<'_>) -> Option<Mix> {
        match v.get_ref() {
            DeValue::String(s) => match parse_mix(s) {
                Ok(m) => Some(m),
                Err(e) => {
                    self.value_error(field, v, s, e);
                    None
                }
            },
            DeValue::Table(t) => {
                let mut w = [0u32; 3];
                let mut spans = vec![v.span(); 3];
                let mut ok = true;
                for (k, val) in self.entries(t, MIX_KEYS, Place::Mix) {
                    let i = MIX_KEYS.iter().position(|m| *m == k.get_ref().as_ref()).expect("known key");
                    spans[i] = val.span();
                    match self.uint(field, MIX_KEYS[i], val, u128::from(u32::MAX), "98") {
                        Some(n) => w[i] = n as u32,
                        None => ok = false,
                    }
                }
                self.spans.items.insert(field, spans);
                ok.then_some(Mix { lookup: w[0], insert: w[1], remove: w[2] })
            }
            _ => {
                self.wrong_type(
                    field,
                    "mix",
                    v,
                    "weights or a mix name",
                    "{ lookup = 98, insert = 1, remove = 1 }",
                );
                None
            }
        }
    }

    pub fn keys(&mut self, field: Field, v: &Val<'_>) -> Option<KeyChoice> {
        match v.get_ref() {
            DeValue::String(s) => match parse_keys(s) {
                Ok(k) => {
                    // Items: the parameters after the first and second ':'.
                    let mut items = Vec::new();
                    let mut at = 0;
                    while let Some(i) = s[at..].find(':') {
                        let start = at + i + 1;
                        let end = s[start..].find(':').map_or(s.len(), |j| start + j);
                        items.push(self.inner_span(v, s, start..end));
                        at = start;
                    }
                    self.spans.items.insert(field, items);
                    Some(k)
                }
                Err(e) => {
                    self.value_error(field, v, s, e);
                    None
                }
            },
            DeValue::Table(t) => {
                let entries = self.entries(t, KEYS_KEYS, Place::Keys);
                let get =
                    |name: &str| entries.iter().find(|(k, _)| k.get_ref().as_ref() == name).map(|(_, v)| *v);
                let (zipf, hot, share) = (get("zipf"), get("hot"), get("share"));
                let example = "{ zipf = 1.1 } or { hot = 16, share = 0.9 }";
                match (zipf, hot, share) {
                    (Some(z), None, None) => {
                        self.spans.items.insert(field, vec![z.span()]);
                        let s = self.number(field, "zipf", z, "1.1")?;
                        Some(KeyChoice::Zipf { s })
                    }
                    (None, Some(h), Some(sh)) => {
                        self.spans.items.insert(field, vec![h.span(), sh.span()]);
                        let keys = self.uint(field, "hot", h, usize::MAX as u128, "16");
                        let share = self.number(field, "share", sh, "0.9");
                        Some(KeyChoice::HotSet { keys: keys? as usize, share: share? })
                    }
                    (None, Some(_), None) => {
                        self.fail(
                            field,
                            v.span(),
                            "a hot set needs `share`: the fraction of lookups that go to it",
                            Some("e.g. keys = { hot = 16, share = 0.9 }".into()),
                        );
                        None
                    }
                    (Some(_), Some(_), _) => {
                        self.fail(
                            field,
                            v.span(),
                            "`zipf` and `hot` cannot be combined",
                            Some(format!("write {example}")),
                        );
                        None
                    }
                    (Some(_), None, Some(sh)) | (None, None, Some(sh)) => {
                        let span = entries
                            .iter()
                            .find(|(k, _)| k.get_ref().as_ref() == "share")
                            .map(|(k, _)| k.span());
                        self.fail(
                            field,
                            span.unwrap_or(sh.span()),
                            "`share` belongs to a hot set",
                            Some("e.g. keys = { hot = 16, share = 0.9 }".into()),
                        );
                        None
                    }
                    (None, None, None) => {
                        if t.is_empty() {
                            self.fail(
                                field,
                                v.span(),
                                "empty key choice",
                                Some(format!("write \"uniform\", {example}")),
                            );
                        }
                        None
                    }
                }
            }
            _ => {
                self.wrong_type(field, "keys", v, "a key choice", "\"uniform\"");
                None
            }
        }
    }

    pub fn pin(&mut self, field: Field, v: &Val<'_>) -> Option<PinPolicy> {
        match v.get_ref() {
            DeValue::String(s) => match parse_pin(s) {
                Ok(PinPolicy::Cores(cores)) => {
                    // Spans of each core's item, for "core 9 does not exist" at the right place.
                    let spanned = parse_cores_spanned(s).unwrap_or_default();
                    let items = spanned.iter().map(|(_, r)| self.inner_span(v, s, r.clone())).collect();
                    self.spans.items.insert(field, items);
                    Some(PinPolicy::Cores(cores))
                }
                Ok(p) => Some(p),
                Err(e) => {
                    self.value_error(field, v, s, e);
                    None
                }
            },
            DeValue::Array(items) => {
                let mut cores = Vec::new();
                let mut spans = Vec::new();
                let mut ok = true;
                for item in items.iter() {
                    spans.push(item.span());
                    match self.uint(
                        field,
                        "pin",
                        item,
                        crate::scenario::values::MAX_CORE_ID as u128,
                        "[0, 1]",
                    ) {
                        Some(c) => cores.push(c as usize),
                        None => ok = false,
                    }
                }
                self.spans.items.insert(field, spans);
                ok.then_some(PinPolicy::Cores(cores))
            }
            _ => {
                self.wrong_type(field, "pin", v, "a pin policy", "\"compact\"");
                None
            }
        }
    }

    /// A name of a fixed set (layout, backend, variant).
    pub fn name_of<T>(
        &mut self,
        field: Field,
        key: &str,
        v: &Val<'_>,
        names: &[&'static str],
        find: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let s = self.string(field, key, v, &format!("\"{}\"", names[0]))?;
        if let Some(t) = find(s) {
            return Some(t);
        }
        let hint = match did_you_mean(s, names.iter().copied()) {
            Some(n) => format!("did you mean `{n}`?"),
            None => format!("expected one of: {}", names.join(", ")),
        };
        let s = s.to_owned();
        self.fail(field, v.span(), format!("unknown {key} `{s}`"), Some(hint));
        None
    }

    // -----------------------------------------------------------------------------------------
    // The document

    pub fn run_spec(&mut self, root: &DeTable<'_>, default_name: &str) -> RunSpec {
        let mut spec = RunSpec {
            name: default_name.to_owned(),
            stop: StopSpec::Forever,
            phases: Vec::new(),
            ..RunSpec::default()
        };
        let mut stops: Vec<(&str, &Val<'_>)> = Vec::new();
        let (mut table, mut groups, mut phases) = (None, None, None);
        for (k, v) in self.entries(root, TOP_KEYS, Place::Top) {
            let key = k.get_ref().as_ref();
            match key {
                "name" => {
                    self.record(Field::Name, v.span());
                    if let Some(s) = self.string(Field::Name, key, v, "\"my-scenario\"") {
                        spec.name = s.to_owned();
                    }
                }
                "description" => {
                    self.record(Field::Description, v.span());
                    if let Some(s) = self.string(Field::Description, key, v, "\"what this shows\"") {
                        spec.description = s.to_owned();
                    }
                }
                "seed" => {
                    self.record(Field::Seed, v.span());
                    if let Some(n) = self.uint(Field::Seed, key, v, u128::from(u64::MAX), "42") {
                        spec.seed = n as u64;
                    }
                }
                "duration" | "ops" => stops.push((key, v)),
                "cycle" => {
                    self.record(Field::Cycle, v.span());
                    spec.cycle = self.duration(Field::Cycle, key, v);
                }
                "time_every" => {
                    self.record(Field::TimeEvery, v.span());
                    if matches!(v.get_ref(), DeValue::String(s) if s.as_ref() == "auto") {
                        spec.time_every = TIME_EVERY_AUTO;
                    } else if let Some(n) = self.uint(Field::TimeEvery, key, v, u128::from(u32::MAX), "64") {
                        if n == 0 {
                            self.fail(
                                Field::TimeEvery,
                                v.span(),
                                "`time_every` = 0 times nothing".to_owned(),
                                Some("\"auto\" (the default) chooses at start; 1 times every op".to_owned()),
                            );
                        } else {
                            spec.time_every = n as u32;
                        }
                    }
                }
                "spare_core" => {
                    self.record(Field::SpareCore, v.span());
                    if let Some(b) = self.boolean(Field::SpareCore, key, v) {
                        spec.spare_core = b;
                    }
                }
                "table" => table = Some(v),
                "group" => groups = Some(v),
                "phase" => phases = Some(v),
                _ => unreachable!("entries() returns known keys only"),
            }
        }
        stops.sort_by_key(|(_, v)| v.span().start);
        if let [(first, _), (later, v), ..] = stops[..] {
            self.fail(
                Field::Stop,
                v.span(),
                format!("`{later}` and `{first}` are both set"),
                Some("a run stops after a duration or after a number of operations per thread".into()),
            );
        }
        if let Some(&(key, v)) = stops.first() {
            self.record(Field::Stop, v.span());
            let stop = if key == "duration" {
                self.duration(Field::Stop, key, v).map(StopSpec::Duration)
            } else {
                self.uint(Field::Stop, key, v, u128::from(u64::MAX), "1_000_000")
                    .map(|n| StopSpec::Ops(n as u64))
            };
            if let Some(s) = stop {
                spec.stop = s;
            }
        }
        if let Some(v) = table {
            self.table(&mut spec, v);
        }
        spec.groups = match groups {
            Some(v) => self.groups(v),
            None => vec![GroupSpec::default()],
        };
        if let Some(v) = phases {
            spec.phases = self.phases(v, &spec.groups);
        }
        spec
    }

    /// The items of an array of tables (`[[name]]`), or an error if it is written otherwise.
    fn array_of_tables<'v, 'i>(
        &mut self,
        key: &str,
        v: &'v Val<'i>,
    ) -> Vec<(Range<usize>, Option<&'v DeTable<'i>>)> {
        match v.get_ref() {
            DeValue::Array(items) => items
                .iter()
                .map(|item| match item.get_ref() {
                    DeValue::Table(t) => (item.span(), Some(t)),
                    _ => {
                        let found = self.found(item);
                        self.error(item.span(), format!("each `{key}` must be a table, found {found}"), None);
                        (item.span(), None)
                    }
                })
                .collect(),
            DeValue::Table(_) => {
                self.error(
                    v.span(),
                    format!("`{key}` is a list: write `[[{key}]]` (double brackets) for each {key}"),
                    Some(format!("`[{key}]` makes one table; `[[{key}]]` adds one more to a list")),
                );
                Vec::new()
            }
            _ => {
                let found = self.found(v);
                self.error(
                    v.span(),
                    format!("`{key}` must be a list of tables, found {found}"),
                    Some(format!("write a `[[{key}]]` header for each {key}")),
                );
                Vec::new()
            }
        }
    }

    fn table(&mut self, spec: &mut RunSpec, v: &Val<'_>) {
        let t = match v.get_ref() {
            DeValue::Table(t) => t,
            DeValue::Array(_) => {
                self.error(v.span(), "there is one table: write `[table]`, not `[[table]]`", None);
                return;
            }
            _ => {
                let found = self.found(v);
                self.error(
                    v.span(),
                    format!("`table` must be a table, found {found}"),
                    Some("write a `[table]` header".into()),
                );
                return;
            }
        };
        self.spans.table_header = Some(v.span());
        let ts = &mut spec.table;
        // `allocator` and `magazine` combine: read both, then build the allocator.
        let mut magazines = false;
        let mut size = None;
        let mut size_span = None;
        for (k, v) in self.entries(t, TABLE_KEYS, Place::Table) {
            let key = k.get_ref().as_ref();
            match key {
                "backend" => {
                    self.record(Field::Backend, v.span());
                    let names = BackendKind::ALL.map(BackendKind::name);
                    if let Some(b) = self.name_of(Field::Backend, key, v, &names, BackendKind::from_name) {
                        ts.backend = b;
                    }
                }
                "capacity" => {
                    self.record(Field::Capacity, v.span());
                    if let Some(n) = self.uint(Field::Capacity, key, v, usize::MAX as u128, "65536") {
                        ts.capacity = n as usize;
                    }
                }
                "layout" => {
                    self.record(Field::Layout, v.span());
                    let names = Layout::ALL.map(Layout::name);
                    if let Some(l) = self.name_of(Field::Layout, key, v, &names, |s| Layout::from_str(s).ok())
                    {
                        ts.layout = l;
                    }
                }
                "line_bytes" => {
                    self.record(Field::LineBytes, v.span());
                    if let Some(n) = self.uint(Field::LineBytes, key, v, usize::MAX as u128, "64") {
                        ts.line_bytes = n as usize;
                    }
                }
                "variant" => {
                    self.record(Field::Variant, v.span());
                    let names = Variant::ALL.map(Variant::name);
                    if let Some(x) =
                        self.name_of(Field::Variant, key, v, &names, |s| Variant::from_str(s).ok())
                    {
                        ts.variant = x;
                    }
                }
                "allocator" => {
                    self.record(Field::Allocator, v.span());
                    let names = ["ring", "magazine"];
                    if let Some(m) = self.name_of(Field::Allocator, key, v, &names, |s| match s {
                        "ring" => Some(false),
                        "magazine" => Some(true),
                        _ => None,
                    }) {
                        magazines = m;
                    }
                }
                "magazine" => {
                    self.record(Field::Magazine, v.span());
                    size_span = Some(v.span());
                    let default = slotscope_table::DEFAULT_MAGAZINE.to_string();
                    if let Some(n) = self.uint(Field::Magazine, key, v, u128::from(u32::MAX), &default) {
                        size = Some(n as u32);
                    }
                }
                "prefill" => {
                    self.record(Field::Prefill, v.span());
                    if let Some(x) = self.number(Field::Prefill, key, v, "0.5") {
                        ts.prefill = x;
                    }
                }
                _ => unreachable!("entries() returns known keys only"),
            }
        }
        ts.allocator = if magazines {
            slotscope_table::Allocator::Magazine { size: size.unwrap_or(slotscope_table::DEFAULT_MAGAZINE) }
        } else {
            if let Some(span) = size_span {
                self.error(
                    span,
                    "`magazine` sets the size of the magazine allocator, but `allocator` is not \"magazine\"",
                    Some("add `allocator = \"magazine\"`, or remove `magazine` to keep the ring".into()),
                );
            }
            slotscope_table::Allocator::Ring
        };
    }

    fn groups(&mut self, v: &Val<'_>) -> Vec<GroupSpec> {
        if !matches!(v.get_ref(), DeValue::Array(_)) {
            // Reported by array_of_tables; go on with the default group to spare the reader
            // errors that follow from this one.
            self.array_of_tables("group", v);
            self.spans.failed.insert(Field::Groups);
            return vec![GroupSpec::default()];
        }
        let items = self.array_of_tables("group", v);
        if items.is_empty() {
            self.record(Field::Groups, v.span());
        }
        let count = items.len();
        let mut out = Vec::new();
        for (header, table) in items {
            let Some(t) = table else { continue };
            let i = out.len();
            self.record(Field::Group(i, GroupField::Header), header);
            out.push(self.group(i, count, t));
        }
        out
    }

    fn group(&mut self, i: usize, count: usize, t: &DeTable<'_>) -> GroupSpec {
        let mut g = GroupSpec { name: default_group_name(i, count), ..GroupSpec::default() };
        for (k, v) in self.entries(t, GROUP_KEYS, Place::Group) {
            let key = k.get_ref().as_ref();
            let part = match key {
                "name" => GroupField::Name,
                "threads" => GroupField::Threads,
                "mix" => GroupField::Mix,
                "keys" => GroupField::Keys,
                "stale" => GroupField::Stale,
                "rate" => GroupField::Rate,
                "keep" => GroupField::Keep,
                _ => GroupField::Pin,
            };
            let field = Field::Group(i, part);
            self.record(field, v.span());
            match part {
                GroupField::Name => {
                    if let Some(s) = self.string(field, key, v, "\"readers\"") {
                        g.name = s.to_owned();
                    }
                }
                GroupField::Threads => {
                    if let Some(n) = self.uint(field, key, v, usize::MAX as u128, "2") {
                        g.threads = n as usize;
                    }
                }
                GroupField::Mix => {
                    if let Some(m) = self.mix(field, v) {
                        g.mix = m;
                    }
                }
                GroupField::Keys => {
                    if let Some(kc) = self.keys(field, v) {
                        g.keys = kc;
                    }
                }
                GroupField::Stale => {
                    if let Some(x) = self.number(field, key, v, "0.1") {
                        g.stale_share = x;
                    }
                }
                GroupField::Rate => {
                    if let Some(r) = self.rate(field, v) {
                        g.rate = r;
                    }
                }
                GroupField::Keep => {
                    if let Some(n) = self.uint(field, key, v, usize::MAX as u128, "96") {
                        g.keep = Some(n as usize);
                    }
                }
                GroupField::Pin | GroupField::Header => {
                    if let Some(p) = self.pin(field, v) {
                        g.pin = p;
                    }
                }
            }
        }
        g
    }

    fn phases(&mut self, v: &Val<'_>, groups: &[GroupSpec]) -> Vec<PhaseSpec> {
        let items = self.array_of_tables("phase", v);
        let mut out = Vec::new();
        for (header, table) in items {
            let Some(t) = table else { continue };
            let i = out.len();
            self.record(Field::Phase(i, PhaseField::Header), header.clone());
            out.push(self.phase(i, header, t, groups));
        }
        out
    }

    fn phase(&mut self, i: usize, header: Range<usize>, t: &DeTable<'_>, groups: &[GroupSpec]) -> PhaseSpec {
        let mut p = PhaseSpec {
            at: Duration::ZERO,
            group: String::new(),
            mix: None,
            rate: None,
            threads: None,
            ramp: None,
        };
        let (mut has_at, mut has_group) = (false, false);
        for (k, v) in self.entries(t, PHASE_KEYS, Place::Phase) {
            let key = k.get_ref().as_ref();
            let part = match key {
                "at" => PhaseField::At,
                "group" => PhaseField::Group,
                "mix" => PhaseField::Mix,
                "rate" => PhaseField::Rate,
                "threads" => PhaseField::Threads,
                _ => PhaseField::Ramp,
            };
            let field = Field::Phase(i, part);
            self.record(field, v.span());
            match part {
                PhaseField::At => {
                    has_at = true;
                    if let Some(d) = self.duration(field, key, v) {
                        p.at = d;
                    }
                }
                PhaseField::Group => {
                    has_group = true;
                    if let Some(s) = self.string(field, key, v, "\"main\"") {
                        p.group = s.to_owned();
                    }
                }
                PhaseField::Mix => p.mix = Some(self.mix(field, v).unwrap_or(Mix::READ_HEAVY)),
                PhaseField::Rate => p.rate = Some(self.rate(field, v).unwrap_or(None)),
                PhaseField::Threads => {
                    p.threads =
                        Some(self.uint(field, key, v, usize::MAX as u128, "4").map_or(0, |n| n as usize));
                }
                PhaseField::Ramp | PhaseField::Header => p.ramp = self.duration(field, key, v),
            }
        }
        if !has_at {
            self.fail(
                Field::Phase(i, PhaseField::At),
                header.clone(),
                "this phase has no `at`",
                Some("say when it happens, e.g. at = \"10s\"".into()),
            );
        }
        if !has_group {
            if groups.len() == 1 {
                p.group = groups[0].name.clone();
            } else {
                let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
                let hint = names
                    .first()
                    .map(|first| format!("add group = \"{first}\" (groups: {})", names.join(", ")));
                self.fail(
                    Field::Phase(i, PhaseField::Group),
                    header,
                    "this phase has no `group`, and there are several",
                    hint,
                );
            }
        }
        p
    }
}
