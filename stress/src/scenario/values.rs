//! The small languages of flag values and scenario strings: durations (`1m30s`), rates
//! (`100k`), core lists (`0-3,8`), mixes (`98/1/1`, `churn`), key choices (`zipf:1.1`) and pin
//! policies (`compact`, `0-3`).
//!
//! The same parsers serve `clap` (as value parsers) and scenario files (for string values), so
//! a value means the same thing wherever it is written. Every error carries the byte span of
//! the offending part of the input, so that callers can point a caret at it; a scenario file
//! maps that span into the file.

use std::fmt;
use std::ops::Range;
use std::time::Duration;

use slotscope_table::{Layout, Variant};

use crate::scenario::spec::{BackendKind, KeyChoice, Mix, PinPolicy};

/// The longest duration anything accepts: 366 days. Longer is a typo, and keeps nanosecond
/// arithmetic far from overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 60 * 60);

/// The highest rate a thread can be asked for: 1G ops/s, one operation per nanosecond.
pub const MAX_RATE: f64 = 1e9;

/// The highest core id accepted in a core list (Linux's largest `NR_CPUS` is 8192).
pub const MAX_CORE_ID: usize = 8191;

/// The largest weight of one operation in a mix.
pub const MAX_WEIGHT: u32 = 1_000_000;

/// Named mixes, as `--mix NAME` and `mix = "NAME"` accept them.
pub const MIX_NAMES: [(&str, Mix); 4] = [
    ("read-heavy", Mix::READ_HEAVY),
    ("exchange", Mix::EXCHANGE),
    ("churn", Mix::CHURN),
    ("read-only", Mix { lookup: 1, insert: 0, remove: 0 }),
];

/// Named pin policies; anything starting with a digit is a core list.
pub const PIN_NAMES: [&str; 3] = ["none", "compact", "scatter"];

/// The kinds of key choice: `uniform`, `zipf:S`, `hot:KEYS:SHARE`.
pub const KEY_CHOICE_NAMES: [&str; 3] = ["uniform", "zipf", "hot"];

/// Time units of durations and latencies, with their length in nanoseconds. Longer spellings
/// first so that `ms` is not read as `m` followed by garbage.
pub(crate) const TIME_UNITS: [(&str, f64); 9] = [
    ("ns", 1.0),
    ("us", 1e3),
    ("µs", 1e3), // U+00B5 MICRO SIGN
    ("μs", 1e3), // U+03BC GREEK SMALL LETTER MU
    ("ms", 1e6),
    ("s", 1e9),
    ("m", 60e9),
    ("h", 3600e9),
    ("d", 86400e9),
];

/// A value that did not parse: what was wrong, where in the input, and how to fix it.
///
/// `Display` renders the message, the input with a caret under the span, and the hint, so
/// that `clap` shows something useful as is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueError {
    /// The whole input that was being parsed.
    pub input: String,
    /// Byte range of the offending part of `input` (may be empty: "something is missing here").
    pub span: Range<usize>,
    /// What is wrong, one line, lower case.
    pub message: String,
    /// How to fix it, if there is something useful to say.
    pub hint: Option<String>,
}

impl ValueError {
    /// An error about `input[span]`.
    pub fn new(input: &str, span: Range<usize>, message: impl Into<String>) -> ValueError {
        ValueError { input: input.to_owned(), span, message: message.into(), hint: None }
    }

    /// The same error with a hint.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> ValueError {
        self.hint = Some(hint.into());
        self
    }

    /// 1-based column (in characters) where the span starts.
    pub fn column(&self) -> usize {
        self.input[..self.span.start.min(self.input.len())].chars().count() + 1
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if !self.input.is_empty() && !self.input.contains('\n') {
            let shown: String = self.input.chars().map(|c| if c == '\t' { ' ' } else { c }).collect();
            let start = self.span.start.min(self.input.len());
            let end = self.span.end.clamp(start, self.input.len());
            let pad = self.input[..start].chars().count();
            let width = self.input[start..end].chars().count().max(1);
            write!(f, "\n    {shown}\n    {}{}", " ".repeat(pad), "^".repeat(width))?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValueError {}

// ---------------------------------------------------------------------------------------------
// Suggestions

/// The candidate closest to `given` by edit distance (with transpositions), if it is close
/// enough to be a plausible typo: 1 edit for words up to 3 characters, 2 up to 7, 3 beyond.
/// Case and `-`/`_` differences count as nothing. Failing that, a word of 3 or more characters
/// that starts exactly one candidate suggests it.
pub fn did_you_mean<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let norm = |s: &str| -> Vec<char> {
        s.chars().map(|c| if c == '_' { '-' } else { c.to_ascii_lowercase() }).collect()
    };
    let g = norm(given);
    let limit = match g.len() {
        0 => return None,
        1..=3 => 1,
        4..=7 => 2,
        _ => 3,
    };
    let mut best: Option<(usize, &str)> = None;
    let mut prefixed: Vec<&str> = Vec::new();
    for cand in candidates {
        let c = norm(cand);
        if g.len() >= 3 && c.starts_with(&g) {
            prefixed.push(cand);
        }
        let d = edit_distance(&g, &c);
        // A distance as long as the candidate means "replace everything": no suggestion.
        if d <= limit && d < c.len() && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    match (best, prefixed.as_slice()) {
        (Some((_, c)), _) => Some(c),
        // An abbreviation of exactly one candidate (`relaxed` for `relaxed-ring`).
        (None, [only]) => Some(only),
        _ => None,
    }
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
/// neighbours each cost 1.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=m).collect();
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[n][m]
}

/// "did you mean `x`?" or a list of what is accepted.
pub(crate) fn suggestion_hint(given: &str, candidates: &[&str]) -> String {
    match did_you_mean(given, candidates.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("expected one of: {}", candidates.join(", ")),
    }
}

// ---------------------------------------------------------------------------------------------
// Lexing helpers

/// Byte range of `s` without leading and trailing whitespace.
pub(crate) fn trimmed_range(s: &str) -> Range<usize> {
    let start = s.len() - s.trim_start().len();
    let end = s.trim_end().len().max(start);
    start..end
}

/// `r` without leading and trailing whitespace (an empty range if it is all whitespace).
pub(crate) fn trimmed_within(s: &str, r: Range<usize>) -> Range<usize> {
    let inner = trimmed_range(&s[r.clone()]);
    r.start + inner.start..r.start + inner.end
}

/// A decimal number at `at`: digits with `_` separators, an optional fraction and an optional
/// exponent. Returns the value and the end of the number.
pub(crate) fn lex_number(s: &str, at: usize) -> Option<(f64, usize)> {
    let b = s.as_bytes();
    let digits = |mut i: usize| {
        let start = i;
        while i < b.len()
            && (b[i].is_ascii_digit() || (b[i] == b'_' && i > start && b[i - 1].is_ascii_digit()))
        {
            i += 1;
        }
        i
    };
    let mut i = digits(at);
    if i == at {
        return None;
    }
    if i < b.len() && b[i] == b'.' && i + 1 < b.len() && b[i + 1].is_ascii_digit() {
        i = digits(i + 1);
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            i = digits(j);
        }
    }
    let text: String = s[at..i].chars().filter(|&c| c != '_').collect();
    text.parse().ok().map(|v| (v, i))
}

/// End of a run of characters at `at` that satisfy `f`.
pub(crate) fn run_end(s: &str, at: usize, f: impl Fn(char) -> bool) -> usize {
    s[at..].char_indices().find(|&(_, c)| !f(c)).map_or(s.len(), |(i, _)| at + i)
}

/// The span of the character at `at` (empty at the end of the input).
pub(crate) fn char_span(s: &str, at: usize) -> Range<usize> {
    at..s[at..].chars().next().map_or(at, |c| at + c.len_utf8())
}

pub(crate) fn skip_spaces(s: &str, at: usize) -> usize {
    run_end(s, at, |c| c == ' ' || c == '\t')
}

// ---------------------------------------------------------------------------------------------
// Durations

const DURATION_HINT: &str = "write a number and a unit, e.g. `10s`, `250ms`, `1.5m`, `2h`, `1m30s` \
                             (units: ns, us, ms, s, m, h, d)";

/// Parses an amount of time in nanoseconds: one or more `NUMBER UNIT` terms (`1m30s`), units
/// `ns us µs ms s m h d`. Fractions are allowed (`1.5m`); a bare number is not (is `10`
/// seconds or milliseconds?). Zero is allowed here; callers that need more say so.
pub fn parse_time_ns(input: &str) -> Result<f64, ValueError> {
    let r = trimmed_range(input);
    if r.is_empty() {
        return Err(ValueError::new(input, r, "empty duration").with_hint(DURATION_HINT));
    }
    let mut at = r.start;
    let mut total = 0.0;
    while at < r.end {
        at = skip_spaces(input, at);
        if input[at..].starts_with('-') {
            return Err(ValueError::new(input, char_span(input, at), "a duration cannot be negative"));
        }
        let (ns, term_end) = time_term(input, at, r.end, "a number", DURATION_HINT)?;
        total += ns;
        at = skip_spaces(input, term_end);
    }
    Ok(total)
}

/// One `NUMBER UNIT` term of a time at byte `at` of `input` (spaces allowed between the two;
/// the unit ends at `end` at the latest): its length in ns and where it ends. The one lexer of
/// times: durations, `--fail-if` latency thresholds and the replay's go-to all read times
/// with it. `what` names the expected number in messages, `hint` says what the caller
/// accepts.
///
/// # Errors
/// No number, no unit, or an unknown unit (with a "did you mean" for near misses).
pub fn time_term(
    input: &str,
    at: usize,
    end: usize,
    what: &str,
    hint: &str,
) -> Result<(f64, usize), ValueError> {
    let Some((n, num_end)) = lex_number(input, at) else {
        let bad = run_end(&input[..end], at, |c| !c.is_ascii_digit() && c != ' ');
        let span = if bad > at { at..bad } else { char_span(input, at) };
        let found =
            if span.is_empty() { "nothing".to_owned() } else { format!("`{}`", &input[span.clone()]) };
        return Err(ValueError::new(input, span, format!("expected {what}, found {found}")).with_hint(hint));
    };
    let unit_at = skip_spaces(input, num_end).min(end);
    let unit_end = run_end(&input[..end], unit_at, |c| c.is_alphabetic());
    let unit = &input[unit_at..unit_end];
    if unit.is_empty() {
        return Err(ValueError::new(input, at..num_end, format!("`{}` has no unit", &input[at..num_end]))
            .with_hint(hint));
    }
    let Some(&(_, scale)) = TIME_UNITS.iter().find(|(u, _)| *u == unit) else {
        let known: Vec<&str> = TIME_UNITS.iter().map(|(u, _)| *u).collect();
        let hint = match unit {
            "sec" | "secs" | "second" | "seconds" => "write `s`".to_owned(),
            "min" | "mins" | "minute" | "minutes" => "write `m`".to_owned(),
            "hr" | "hrs" | "hour" | "hours" => "write `h`".to_owned(),
            "msec" | "millis" => "write `ms`".to_owned(),
            "usec" | "micros" => "write `us`".to_owned(),
            "nsec" | "nanos" => "write `ns`".to_owned(),
            _ => suggestion_hint(unit, &known),
        };
        return Err(
            ValueError::new(input, unit_at..unit_end, format!("unknown time unit `{unit}`")).with_hint(hint)
        );
    };
    let ns = n * scale;
    if !ns.is_finite() {
        return Err(ValueError::new(input, at..unit_end, "this time is too large to be a number")
            .with_hint("write a finite time, e.g. `2us` or `1.5ms`"));
    }
    Ok((ns, unit_end))
}

/// Parses a duration (see [`parse_time_ns`]) of at most [`MAX_DURATION`], rounded to whole
/// nanoseconds. Zero is allowed (a phase `at = "0s"`); a run's duration is checked later.
pub fn parse_duration(input: &str) -> Result<Duration, ValueError> {
    let ns = parse_time_ns(input)?;
    let max = MAX_DURATION.as_nanos() as f64;
    if ns > max {
        return Err(ValueError::new(input, trimmed_range(input), "duration too long")
            .with_hint(format!("at most {}", format_duration(MAX_DURATION))));
    }
    Ok(Duration::from_nanos(ns.round() as u64))
}

/// Writes a duration exactly, in the largest unit that divides it: `2h`, `90s`, `250ms`,
/// `1500ns`. [`parse_duration`] reads it back to the same value.
pub fn format_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".to_owned();
    }
    for (unit, len) in [("d", 86_400_000_000_000u128), ("h", 3_600_000_000_000), ("m", 60_000_000_000)] {
        if ns.is_multiple_of(len) {
            return format!("{}{unit}", ns / len);
        }
    }
    for (unit, len) in [("s", 1_000_000_000u128), ("ms", 1_000_000), ("us", 1_000)] {
        if ns.is_multiple_of(len) {
            return format!("{}{unit}", ns / len);
        }
    }
    format!("{ns}ns")
}

/// Writes a latency in nanoseconds with three significant digits and a fitting unit:
/// `512ns`, `2.31us`, `1.20ms`, `3.00s`.
pub fn format_ns(ns: f64) -> String {
    if !ns.is_finite() {
        return format!("{ns}");
    }
    let (v, unit) = if ns.abs() < 1e3 {
        (ns, "ns")
    } else if ns.abs() < 1e6 {
        (ns / 1e3, "us")
    } else if ns.abs() < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    format!("{}{unit}", three_digits(v))
}

/// Three significant digits, without a pointless fraction (`512`, `2.31`, `12.5`).
pub(crate) fn three_digits(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        return format!("{v:.0}");
    }
    let decimals = if v.abs() >= 100.0 {
        0
    } else if v.abs() >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.decimals$}")
}

// ---------------------------------------------------------------------------------------------
// Rates

const RATE_HINT: &str = "write ops per second per thread, e.g. `2500`, `100k`, `1.5M` (suffixes k, M, G; \
                         `/s` optional)";

/// Parses a number with an optional `k`/`K`, `M` or `G` multiplier at `at`; returns the value
/// and the end. `m` is refused (milli or mega?).
pub(crate) fn number_with_multiplier(input: &str, at: usize, what: &str) -> Result<(f64, usize), ValueError> {
    let Some((n, end)) = lex_number(input, at) else {
        let span = char_span(input, at);
        let found =
            if span.is_empty() { "nothing".to_owned() } else { format!("`{}`", &input[span.clone()]) };
        return Err(ValueError::new(input, span, format!("expected {what}, found {found}")));
    };
    let (scale, end) = match input[end..].chars().next() {
        Some('k' | 'K') => (1e3, end + 1),
        Some('M') => (1e6, end + 1),
        Some('G') => (1e9, end + 1),
        Some('m') => {
            return Err(ValueError::new(input, end..end + 1, "`m` is ambiguous in a count")
                .with_hint("write `M` for millions, `k` for thousands"));
        }
        _ => (1.0, end),
    };
    Ok((n * scale, end))
}

/// Parses a rate in operations per second: `2500`, `100k`, `1.5M`, `1G`, optionally followed
/// by `/s`. Must be more than 0 and at most [`MAX_RATE`].
pub fn parse_rate(input: &str) -> Result<f64, ValueError> {
    let r = trimmed_range(input);
    if r.is_empty() {
        return Err(ValueError::new(input, r, "empty rate").with_hint(RATE_HINT));
    }
    if input[r.start..].starts_with('-') {
        return Err(ValueError::new(input, char_span(input, r.start), "a rate cannot be negative")
            .with_hint("leave the rate out for a closed loop (as fast as possible)"));
    }
    let (v, mut end) = number_with_multiplier(input, r.start, "a number").map_err(|e| match e.hint {
        Some(_) => e,
        None => e.with_hint(RATE_HINT),
    })?;
    if input[end..r.end].starts_with("/s") {
        end += 2;
    }
    if end < r.end {
        return Err(ValueError::new(
            input,
            end..r.end,
            format!("unexpected `{}` after the rate", &input[end..r.end]),
        )
        .with_hint(RATE_HINT));
    }
    check_rate(v).map_err(|(msg, hint)| ValueError::new(input, r, msg).with_hint(hint))?;
    Ok(v)
}

/// The range rule for rates, shared with scenario validation: (message, hint) on failure.
pub(crate) fn check_rate(v: f64) -> Result<(), (String, String)> {
    if v.is_infinite() || v.is_nan() {
        return Err((
            format!(
                "a rate must be a finite number of ops/s, not {}",
                if v.is_nan() { "nan" } else { "inf" }
            ),
            "leave the rate out for a closed loop (as fast as possible)".to_owned(),
        ));
    }
    if v <= 0.0 {
        return Err((
            format!("a rate must be more than 0 ops/s, not {}", format_rate(v)),
            "leave the rate out for a closed loop (as fast as possible)".to_owned(),
        ));
    }
    if v > MAX_RATE {
        return Err((
            format!("rate {}/s is more than one op per nanosecond per thread", format_rate(v)),
            format!("at most {}/s per thread", format_rate(MAX_RATE)),
        ));
    }
    Ok(())
}

/// Writes a rate with a multiplier and three significant digits: `2.5k`, `100k`, `1.5M`.
pub fn format_rate(v: f64) -> String {
    let (x, suffix) = if v.abs() >= 1e9 {
        (v / 1e9, "G")
    } else if v.abs() >= 1e6 {
        (v / 1e6, "M")
    } else if v.abs() >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let s = three_digits(x);
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_owned() } else { s };
    format!("{s}{suffix}")
}

// ---------------------------------------------------------------------------------------------
// Core lists

const CORES_HINT: &str = "write core numbers and ranges separated by commas, e.g. `0-3,8`";

/// Parses a core list: numbers and ascending ranges separated by commas (`0-3,8`, spaces
/// allowed around items). Rejects empty lists and items, ranges that go down, duplicates and
/// ids above [`MAX_CORE_ID`]. Keeps the written order (thread i runs on the i-th core).
pub fn parse_cores(input: &str) -> Result<Vec<usize>, ValueError> {
    Ok(parse_cores_spanned(input)?.into_iter().map(|(c, _)| c).collect())
}

/// [`parse_cores`], with the span of the item each core came from.
pub fn parse_cores_spanned(input: &str) -> Result<Vec<(usize, Range<usize>)>, ValueError> {
    let all = trimmed_range(input);
    if all.is_empty() {
        return Err(ValueError::new(input, all, "empty core list").with_hint(CORES_HINT));
    }
    let mut out: Vec<(usize, Range<usize>)> = Vec::new();
    let mut at = all.start;
    loop {
        let item_end = input[at..all.end].find(',').map_or(all.end, |i| at + i);
        let item = trimmed_within(input, at..item_end);
        if item.is_empty() {
            return Err(ValueError::new(input, at..at, "empty item in the core list").with_hint(CORES_HINT));
        }
        let (lo, lo_end) = core_number(input, item.start, item.end)?;
        let hi = if lo_end < item.end {
            if input.as_bytes()[lo_end] != b'-' {
                return Err(bad_core_token(input, lo_end, item.end));
            }
            let (hi, hi_end) = core_number(input, lo_end + 1, item.end)?;
            if hi_end < item.end {
                return Err(bad_core_token(input, hi_end, item.end));
            }
            if hi < lo {
                return Err(ValueError::new(
                    input,
                    item.clone(),
                    format!("the range `{}` goes down", &input[item.clone()]),
                )
                .with_hint(format!("write `{hi}-{lo}`")));
            }
            hi
        } else {
            lo
        };
        for core in lo..=hi {
            if let Some((_, first)) = out.iter().find(|(c, _)| *c == core) {
                let col = input[..first.start].chars().count() + 1;
                return Err(ValueError::new(input, item.clone(), format!("core {core} is listed twice"))
                    .with_hint(format!("it is already in `{}` at column {col}", &input[first.clone()])));
            }
            out.push((core, item.clone()));
        }
        if item_end >= all.end {
            return Ok(out);
        }
        at = item_end + 1;
    }
}

/// A core number in `input[at..end]`: digits only, at most [`MAX_CORE_ID`].
fn core_number(input: &str, at: usize, end: usize) -> Result<(usize, usize), ValueError> {
    let d_end = run_end(&input[..end], at, |c| c.is_ascii_digit());
    if d_end == at {
        return Err(bad_core_token(input, at, end));
    }
    match input[at..d_end].parse::<usize>() {
        Ok(n) if n <= MAX_CORE_ID => Ok((n, d_end)),
        _ => Err(ValueError::new(input, at..d_end, format!("core {} is out of range", &input[at..d_end]))
            .with_hint(format!("core ids go up to {MAX_CORE_ID}"))),
    }
}

fn bad_core_token(input: &str, at: usize, end: usize) -> ValueError {
    let tok_end =
        run_end(&input[..end], at, |c| !c.is_ascii_digit() && c != '-').max(char_span(input, at).end);
    let tok = &input[at..tok_end.min(end)];
    ValueError::new(input, at..tok_end.min(end), format!("expected a core number, found `{tok}`"))
        .with_hint(CORES_HINT)
}

/// Writes cores compactly, keeping their order: runs of consecutive ascending ids become
/// ranges (`0-3,8`).
pub fn format_cores(cores: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < cores.len() {
        let mut j = i;
        while j + 1 < cores.len() && cores[j + 1] == cores[j] + 1 {
            j += 1;
        }
        parts.push(if j > i { format!("{}-{}", cores[i], cores[j]) } else { cores[i].to_string() });
        i = j + 1;
    }
    parts.join(",")
}

// ---------------------------------------------------------------------------------------------
// Mixes

fn mix_hint() -> String {
    let names: Vec<&str> = MIX_NAMES.iter().map(|(n, _)| *n).collect();
    format!("write `LOOKUP/INSERT/REMOVE` weights like `98/1/1`, or a name: {}", names.join(", "))
}

/// Parses a mix: three weights `lookup/insert/remove` (`98/1/1`), or a name of
/// [`MIX_NAMES`]. Weights are integers up to [`MAX_WEIGHT`], not all zero.
pub fn parse_mix(input: &str) -> Result<Mix, ValueError> {
    let r = trimmed_range(input);
    let text = &input[r.clone()];
    if text.is_empty() {
        return Err(ValueError::new(input, r, "empty mix").with_hint(mix_hint()));
    }
    if !text.contains('/') {
        if let Some((_, mix)) = MIX_NAMES.iter().find(|(n, _)| *n == text) {
            return Ok(*mix);
        }
        if text.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(ValueError::new(input, r, format!("`{text}` is one weight; a mix has three"))
                .with_hint(mix_hint()));
        }
        let names: Vec<&str> = MIX_NAMES.iter().map(|(n, _)| *n).collect();
        let hint = match did_you_mean(text, names.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => mix_hint(),
        };
        return Err(ValueError::new(input, r, format!("unknown mix `{text}`")).with_hint(hint));
    }
    let mut weights = [0u32; 3];
    let mut at = r.start;
    let mut n = 0;
    loop {
        let end = input[at..r.end].find('/').map_or(r.end, |i| at + i);
        if n == 3 {
            return Err(ValueError::new(input, at - 1..r.end, "a mix has three weights, found more")
                .with_hint(mix_hint()));
        }
        let part = trimmed_within(input, at..end);
        let word = &input[part.clone()];
        if word.is_empty() || !word.chars().all(|c| c.is_ascii_digit()) {
            let span = if word.is_empty() { at..at } else { part };
            let found = if word.is_empty() { "nothing".to_owned() } else { format!("`{word}`") };
            return Err(ValueError::new(
                input,
                span,
                format!("expected a weight (a whole number), found {found}"),
            )
            .with_hint(mix_hint()));
        }
        match word.parse::<u32>() {
            Ok(w) if w <= MAX_WEIGHT => weights[n] = w,
            _ => {
                return Err(ValueError::new(input, part, format!("weight {word} is too large"))
                    .with_hint(format!("weights go up to {MAX_WEIGHT}; only their ratio matters")))
            }
        }
        n += 1;
        if end >= r.end {
            break;
        }
        at = end + 1;
    }
    if n < 3 {
        return Err(
            ValueError::new(input, r, format!("a mix has three weights, found {n}")).with_hint(mix_hint())
        );
    }
    let mix = Mix { lookup: weights[0], insert: weights[1], remove: weights[2] };
    if mix.total() == 0 {
        return Err(ValueError::new(input, r, "the weights are all zero")
            .with_hint("at least one must be more than 0"));
    }
    Ok(mix)
}

/// The name of a mix if it has one (`churn`), else its weights (`98/1/1`).
pub fn format_mix(mix: Mix) -> String {
    match MIX_NAMES.iter().find(|(_, m)| *m == mix) {
        Some((name, _)) => (*name).to_owned(),
        None => format!("{}/{}/{}", mix.lookup, mix.insert, mix.remove),
    }
}

// ---------------------------------------------------------------------------------------------
// Key choices

const KEYS_HINT: &str =
    "write `uniform`, `zipf:S` (S > 0, e.g. `zipf:1.1`) or `hot:KEYS:SHARE` (e.g. `hot:16:0.9`)";

/// Parses a key choice: `uniform`, `zipf:S` with S > 0, or `hot:KEYS:SHARE` with KEYS >= 1
/// and SHARE in 0..=1.
pub fn parse_keys(input: &str) -> Result<KeyChoice, ValueError> {
    let r = trimmed_range(input);
    if r.is_empty() {
        return Err(ValueError::new(input, r, "empty key choice").with_hint(KEYS_HINT));
    }
    // Split on ':' keeping spans.
    let mut parts: Vec<Range<usize>> = Vec::new();
    let mut at = r.start;
    loop {
        let end = input[at..r.end].find(':').map_or(r.end, |i| at + i);
        parts.push(at..end);
        if end >= r.end {
            break;
        }
        at = end + 1;
    }
    let kind = &input[parts[0].clone()];
    let want = match kind {
        "uniform" => 0,
        "zipf" => 1,
        "hot" => 2,
        _ => {
            return Err(ValueError::new(input, parts[0].clone(), format!("unknown key choice `{kind}`"))
                .with_hint(match did_you_mean(kind, KEY_CHOICE_NAMES) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => KEYS_HINT.to_owned(),
                }));
        }
    };
    if parts.len() - 1 != want {
        let span = if parts.len() - 1 > want { parts[want + 1].start - 1..r.end } else { r.end..r.end };
        let msg = match kind {
            "uniform" => "`uniform` takes no parameters".to_owned(),
            "zipf" => "`zipf` takes one parameter, the exponent: `zipf:1.1`".to_owned(),
            _ => "`hot` takes two parameters, keys and share: `hot:16:0.9`".to_owned(),
        };
        return Err(ValueError::new(input, span, msg).with_hint(KEYS_HINT));
    }
    let num = |p: &Range<usize>, what: &str| -> Result<f64, ValueError> {
        let t = &input[p.clone()];
        // A sign is read so that `zipf:-1` is told the range, not the syntax.
        let (sign, start) = if t.starts_with('-') { (-1.0, p.start + 1) } else { (1.0, p.start) };
        match lex_number(input, start) {
            Some((v, end)) if end == p.end => Ok(sign * v),
            _ => Err(ValueError::new(input, p.clone(), format!("expected {what}, found `{t}`"))
                .with_hint(KEYS_HINT)),
        }
    };
    match want {
        0 => Ok(KeyChoice::Uniform),
        1 => {
            let s = num(&parts[1], "an exponent")?;
            check_zipf(s).map_err(|m| ValueError::new(input, parts[1].clone(), m))?;
            Ok(KeyChoice::Zipf { s })
        }
        _ => {
            let k = num(&parts[1], "a number of keys")?;
            if k.fract() != 0.0 || k < 1.0 || k > usize::MAX as f64 {
                return Err(ValueError::new(
                    input,
                    parts[1].clone(),
                    "the hot set needs a whole number of keys, at least 1",
                ));
            }
            let share = num(&parts[2], "a share")?;
            check_share(share, "the hot share").map_err(|m| ValueError::new(input, parts[2].clone(), m))?;
            Ok(KeyChoice::HotSet { keys: k as usize, share })
        }
    }
}

/// The range rule for zipf exponents, shared with scenario validation.
pub(crate) fn check_zipf(s: f64) -> Result<(), String> {
    if s > 0.0 && s.is_finite() {
        Ok(())
    } else {
        Err(format!("the zipf exponent must be more than 0, not {s}"))
    }
}

/// The range rule for shares and fractions (0..=1), shared with scenario validation.
pub(crate) fn check_share(v: f64, what: &str) -> Result<(), String> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(format!("{what} must be between 0 and 1, not {v}"))
    }
}

/// Writes a key choice the way [`parse_keys`] reads it.
pub fn format_keys(keys: KeyChoice) -> String {
    match keys {
        KeyChoice::Uniform => "uniform".to_owned(),
        KeyChoice::Zipf { s } => format!("zipf:{s}"),
        KeyChoice::HotSet { keys, share } => format!("hot:{keys}:{share}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Pin policies

/// Parses a pin policy: `none`, `compact`, `scatter`, or a core list (see [`parse_cores`]).
pub fn parse_pin(input: &str) -> Result<PinPolicy, ValueError> {
    let r = trimmed_range(input);
    let text = &input[r.clone()];
    match text {
        "none" => Ok(PinPolicy::None),
        "compact" => Ok(PinPolicy::Compact),
        "scatter" => Ok(PinPolicy::Scatter),
        _ if text.starts_with(|c: char| c.is_ascii_digit()) => parse_cores(input).map(PinPolicy::Cores),
        _ => {
            let hint = match did_you_mean(text, PIN_NAMES) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "write `none`, `compact`, `scatter` or a core list like `0-3,8`".to_owned(),
            };
            Err(ValueError::new(input, r, format!("unknown pin policy `{text}`")).with_hint(hint))
        }
    }
}

/// Writes a pin policy the way [`parse_pin`] reads it.
pub fn format_pin(pin: &PinPolicy) -> String {
    match pin {
        PinPolicy::None => "none".to_owned(),
        PinPolicy::Compact => "compact".to_owned(),
        PinPolicy::Scatter => "scatter".to_owned(),
        PinPolicy::Cores(c) => format_cores(c),
    }
}

// ---------------------------------------------------------------------------------------------
// Counts

/// A whole number in `range`, as `what` (`"a thread count"`); `unit` names one (`"thread"`).
///
/// # Errors
/// Not a whole number, negative, or out of the range.
pub fn parse_count(
    input: &str,
    what: &str,
    unit: &str,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ValueError> {
    let t = input.trim();
    let span = trimmed_range(input);
    let bounds = format!("{} ..= {}", range.start(), range.end());
    if t.starts_with('-') {
        return Err(ValueError::new(input, span, format!("{what} cannot be negative")).with_hint(bounds));
    }
    let n: u64 = t.replace('_', "").parse().map_err(|_| {
        ValueError::new(input, span.clone(), format!("expected {what}, found `{t}`"))
            .with_hint(bounds.clone())
    })?;
    if n < *range.start() {
        let msg = if n == 0 {
            format!("a run needs at least {} {unit}", range.start())
        } else {
            format!("{n} is too few")
        };
        return Err(ValueError::new(input, span, msg).with_hint(bounds));
    }
    if n > *range.end() {
        return Err(ValueError::new(input, span, format!("{n} is too many")).with_hint(bounds));
    }
    Ok(n)
}

/// `--threads`: 1 ..= [`crate::scenario::MAX_GROUP_THREADS`].
///
/// # Errors
/// As [`parse_count`].
pub fn parse_threads(input: &str) -> Result<usize, ValueError> {
    let max = crate::scenario::MAX_GROUP_THREADS as u64;
    parse_count(input, "a thread count", "thread", 1..=max).map(|n| usize::try_from(n).unwrap_or(usize::MAX))
}

/// `--time-every`: `auto` ([`crate::scenario::spec::TIME_EVERY_AUTO`]) or 1 ..=
/// [`crate::scenario::check::MAX_TIME_EVERY`].
///
/// # Errors
/// As [`parse_count`].
pub fn parse_time_every(input: &str) -> Result<u32, ValueError> {
    if input.trim() == "auto" {
        return Ok(crate::scenario::spec::TIME_EVERY_AUTO);
    }
    if input.trim() == "0" {
        let r = trimmed_range(input);
        return Err(ValueError::new(input, r, "0 times nothing")
            .with_hint("`auto` (the default) chooses at start; 1 times every op"));
    }
    let max = u64::from(crate::scenario::check::MAX_TIME_EVERY);
    parse_count(input, "`auto` or a number of operations", "operation", 1..=max)
        .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
}

/// `--ops`: operations per thread, 1 or more.
///
/// # Errors
/// As [`parse_count`].
pub fn parse_ops(input: &str) -> Result<u64, ValueError> {
    parse_count(input, "an operation count", "operation", 1..=u64::MAX)
}

// ---------------------------------------------------------------------------------------------
// Names: layouts, variants, backends

/// One of `choices` by its name, as `what` (`"layout"`); an unknown name gets the list and the
/// closest one.
///
/// # Errors
/// The name is not one of the choices.
pub fn parse_choice<T: Copy>(
    input: &str,
    what: &str,
    choices: &[(&'static str, T)],
) -> Result<T, ValueError> {
    let name = input.trim();
    if let Some(&(_, v)) = choices.iter().find(|(n, _)| *n == name) {
        return Ok(v);
    }
    let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
    let message = if name.is_empty() { format!("empty {what}") } else { format!("unknown {what} `{name}`") };
    Err(ValueError::new(input, trimmed_range(input), message).with_hint(suggestion_hint(name, &names)))
}

/// A table layout: `interleaved`, `linear`, `padded`.
///
/// # Errors
/// Not one of them.
pub fn parse_layout(input: &str) -> Result<Layout, ValueError> {
    parse_choice(input, "layout", &Layout::ALL.map(|l| (l.name(), l)))
}

/// A variant of our table: `correct`, `no-generation-check`, `relaxed-ring`.
///
/// # Errors
/// Not one of them.
pub fn parse_variant(input: &str) -> Result<Variant, ValueError> {
    parse_choice(input, "variant", &Variant::ALL.map(|v| (v.name(), v)))
}

/// A backend by name (`slotscope`, `ptab`, ...).
///
/// # Errors
/// Not one of them.
pub fn parse_backend(input: &str) -> Result<BackendKind, ValueError> {
    parse_choice(input, "backend", &BackendKind::ALL.map(|b| (b.name(), b)))
}

/// Two layouts, `A,B` (the A/B split).
///
/// # Errors
/// Not two, or an unknown layout (pointed at).
pub fn parse_layout_pair(input: &str) -> Result<(Layout, Layout), ValueError> {
    let Some(comma) = input.find(',') else {
        let names = Layout::ALL.map(Layout::name).join(", ");
        return Err(ValueError::new(input, trimmed_range(input), "expected two layouts, `A,B`")
            .with_hint(format!("e.g. `linear,interleaved` (layouts: {names})")));
    };
    let one = |range: Range<usize>| {
        parse_layout(&input[range.clone()]).map_err(|e| {
            let span = trimmed_within(input, range.clone());
            ValueError { input: input.to_owned(), span, message: e.message, hint: e.hint }
        })
    };
    if input[comma + 1..].contains(',') {
        return Err(ValueError::new(input, comma + 1..input.len(), "expected two layouts, found more")
            .with_hint("e.g. `linear,interleaved`"));
    }
    Ok((one(0..comma)?, one(comma + 1..input.len())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_layout_pairs_parse_with_a_did_you_mean() {
        assert_eq!(parse_layout("linear"), Ok(Layout::Linear));
        let e = parse_layout("interleave").unwrap_err();
        assert_eq!(e.message, "unknown layout `interleave`");
        assert_eq!(e.hint.as_deref(), Some("did you mean `interleaved`?"));
        assert_eq!(parse_variant("relaxed-ring"), Ok(Variant::RelaxedRing));
        assert_eq!(parse_backend("dashmapp").unwrap_err().hint.as_deref(), Some("did you mean `dashmap`?"));
        assert_eq!(parse_layout_pair("linear, interleaved"), Ok((Layout::Linear, Layout::Interleaved)));
        assert!(parse_layout_pair("linear").unwrap_err().message.contains("two layouts"));
        let e = parse_layout_pair("linear,diagonal").unwrap_err();
        assert_eq!(e.message, "unknown layout `diagonal`");
        assert_eq!(e.column(), 8, "the caret is under the bad layout");
        assert!(parse_layout_pair("a,b,c").unwrap_err().message.contains("more"));
    }

    /// Asserts an error's column, width and message (exact), and optionally part of its hint.
    fn err_at<T: fmt::Debug>(r: Result<T, ValueError>, col: usize, width: usize, msg: &str) -> ValueError {
        let e = r.expect_err("expected an error");
        assert_eq!(e.message, msg, "message of {e:?}");
        assert_eq!(e.column(), col, "column of {e:?}");
        assert_eq!(e.input[e.span.clone()].chars().count(), width, "width of {e:?}");
        e
    }

    fn hint(e: &ValueError) -> &str {
        e.hint.as_deref().unwrap_or("")
    }

    #[test]
    fn durations_parse() {
        let d = |s| parse_duration(s).unwrap();
        assert_eq!(d("10s"), Duration::from_secs(10));
        assert_eq!(d("1.5m"), Duration::from_secs(90));
        assert_eq!(d("250ms"), Duration::from_millis(250));
        assert_eq!(d("2h"), Duration::from_secs(7200));
        assert_eq!(d("1m30s"), Duration::from_secs(90));
        assert_eq!(d(" 1m 30s "), Duration::from_secs(90));
        assert_eq!(d("500us"), Duration::from_micros(500));
        assert_eq!(d("500µs"), Duration::from_micros(500));
        assert_eq!(d("500μs"), Duration::from_micros(500));
        assert_eq!(d("7ns"), Duration::from_nanos(7));
        assert_eq!(d("1d"), Duration::from_secs(86400));
        assert_eq!(d("0s"), Duration::ZERO);
        assert_eq!(d("1_000ms"), Duration::from_secs(1));
        assert_eq!(d("1e3ms"), Duration::from_secs(1));
    }

    #[test]
    fn durations_reject() {
        let e = err_at(parse_duration("10"), 1, 2, "`10` has no unit");
        assert!(hint(&e).contains("`10s`"));
        let e = err_at(parse_duration("10sec"), 3, 3, "unknown time unit `sec`");
        assert_eq!(hint(&e), "write `s`");
        let e = err_at(parse_duration("5x"), 2, 1, "unknown time unit `x`");
        assert!(hint(&e).starts_with("expected one of: ns"));
        let e = err_at(parse_duration("3mn"), 2, 2, "unknown time unit `mn`");
        assert_eq!(hint(&e), "did you mean `ms`?");
        err_at(parse_duration(""), 1, 0, "empty duration");
        err_at(parse_duration("   "), 4, 0, "empty duration");
        err_at(parse_duration("-5s"), 1, 1, "a duration cannot be negative");
        err_at(parse_duration("1m x"), 4, 1, "expected a number, found `x`");
        err_at(parse_duration("abc"), 1, 3, "expected a number, found `abc`");
        err_at(parse_duration("400d"), 1, 4, "duration too long");
        err_at(parse_duration("1.s"), 1, 1, "`1` has no unit");
    }

    #[test]
    fn durations_format_round_trip() {
        for s in ["2h", "90s", "250ms", "1500ns", "1d", "3m", "7us", "0s"] {
            let d = parse_duration(s).unwrap();
            assert_eq!(format_duration(d), s);
        }
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(format_duration(Duration::from_secs(120)), "2m");
    }

    #[test]
    fn latencies_format() {
        assert_eq!(format_ns(512.0), "512ns");
        assert_eq!(format_ns(2310.0), "2.31us");
        assert_eq!(format_ns(1_200_000.0), "1.20ms");
        assert_eq!(format_ns(12_500.0), "12.5us");
        assert_eq!(format_ns(3e9), "3s");
        assert_eq!(format_ns(1.5), "1.50ns");
    }

    #[test]
    fn rates_parse() {
        assert_eq!(parse_rate("100k").unwrap(), 100_000.0);
        assert_eq!(parse_rate("1.5M").unwrap(), 1_500_000.0);
        assert_eq!(parse_rate("2500").unwrap(), 2500.0);
        assert_eq!(parse_rate("2500/s").unwrap(), 2500.0);
        assert_eq!(parse_rate("1G").unwrap(), 1e9);
        assert_eq!(parse_rate("1e6").unwrap(), 1e6);
        assert_eq!(parse_rate("0.5").unwrap(), 0.5);
        assert_eq!(parse_rate(" 10K ").unwrap(), 10_000.0);
    }

    #[test]
    fn rates_reject() {
        let e = err_at(parse_rate("1.5m"), 4, 1, "`m` is ambiguous in a count");
        assert!(hint(&e).contains("`M`"));
        err_at(parse_rate("0"), 1, 1, "a rate must be more than 0 ops/s, not 0");
        err_at(parse_rate("-3"), 1, 1, "a rate cannot be negative");
        err_at(parse_rate("2G"), 1, 2, "rate 2G/s is more than one op per nanosecond per thread");
        err_at(parse_rate("100kops"), 5, 3, "unexpected `ops` after the rate");
        err_at(parse_rate("fast"), 1, 1, "expected a number, found `f`");
        err_at(parse_rate(""), 1, 0, "empty rate");
    }

    #[test]
    fn rates_format() {
        assert_eq!(format_rate(100_000.0), "100k");
        assert_eq!(format_rate(1_500_000.0), "1.5M");
        assert_eq!(format_rate(2500.0), "2.5k");
        assert_eq!(format_rate(999.0), "999");
        assert_eq!(format_rate(1e9), "1G");
    }

    #[test]
    fn cores_parse() {
        assert_eq!(parse_cores("0-3,8").unwrap(), vec![0, 1, 2, 3, 8]);
        assert_eq!(parse_cores("5").unwrap(), vec![5]);
        assert_eq!(parse_cores("8, 0-1").unwrap(), vec![8, 0, 1]);
        assert_eq!(parse_cores("2-2").unwrap(), vec![2]);
        let spanned = parse_cores_spanned("0-1,7").unwrap();
        assert_eq!(spanned, vec![(0, 0..3), (1, 0..3), (7, 4..5)]);
    }

    #[test]
    fn time_every_is_auto_or_a_count() {
        assert_eq!(parse_time_every("auto").unwrap(), crate::scenario::spec::TIME_EVERY_AUTO);
        assert_eq!(parse_time_every("64").unwrap(), 64);
        let e = err_at(parse_time_every("0"), 1, 1, "0 times nothing");
        assert!(hint(&e).contains("`auto`"), "{e:?}");
        err_at(parse_time_every("banana"), 1, 6, "expected `auto` or a number of operations, found `banana`");
        assert!(parse_time_every("1048577").is_err());
    }

    #[test]
    fn cores_reject() {
        let e = err_at(parse_cores("3-1"), 1, 3, "the range `3-1` goes down");
        assert_eq!(hint(&e), "write `1-3`");
        err_at(parse_cores("a"), 1, 1, "expected a core number, found `a`");
        err_at(parse_cores("0-3,x"), 5, 1, "expected a core number, found `x`");
        err_at(parse_cores("0-"), 3, 0, "expected a core number, found ``");
        err_at(parse_cores(""), 1, 0, "empty core list");
        err_at(parse_cores("1,,2"), 3, 0, "empty item in the core list");
        err_at(parse_cores("1,"), 3, 0, "empty item in the core list");
        let e = err_at(parse_cores("0-3,2"), 5, 1, "core 2 is listed twice");
        assert_eq!(hint(&e), "it is already in `0-3` at column 1");
        err_at(parse_cores("1,0-3"), 3, 3, "core 1 is listed twice");
        err_at(parse_cores("9999"), 1, 4, "core 9999 is out of range");
        err_at(parse_cores("1.5"), 2, 1, "expected a core number, found `.`");
    }

    #[test]
    fn cores_format() {
        assert_eq!(format_cores(&[0, 1, 2, 3, 8]), "0-3,8");
        assert_eq!(format_cores(&[8, 0, 1]), "8,0-1");
        assert_eq!(format_cores(&[]), "");
    }

    #[test]
    fn mixes_parse() {
        assert_eq!(parse_mix("98/1/1").unwrap(), Mix::READ_HEAVY);
        assert_eq!(parse_mix(" 0 / 50 / 50 ").unwrap(), Mix::CHURN);
        assert_eq!(parse_mix("churn").unwrap(), Mix::CHURN);
        assert_eq!(parse_mix("exchange").unwrap(), Mix::EXCHANGE);
        assert_eq!(parse_mix("read-heavy").unwrap(), Mix::READ_HEAVY);
        assert_eq!(parse_mix("read-only").unwrap(), Mix { lookup: 1, insert: 0, remove: 0 });
        assert_eq!(format_mix(Mix::CHURN), "churn");
        assert_eq!(format_mix(Mix { lookup: 3, insert: 2, remove: 1 }), "3/2/1");
    }

    #[test]
    fn mixes_reject() {
        let e = err_at(parse_mix("readheavy"), 1, 9, "unknown mix `readheavy`");
        assert_eq!(hint(&e), "did you mean `read-heavy`?");
        let e = err_at(parse_mix("banana"), 1, 6, "unknown mix `banana`");
        assert!(hint(&e).contains("98/1/1"));
        err_at(parse_mix("98/1"), 1, 4, "a mix has three weights, found 2");
        err_at(parse_mix("1/2/3/4"), 6, 2, "a mix has three weights, found more");
        err_at(parse_mix("98/x/1"), 4, 1, "expected a weight (a whole number), found `x`");
        err_at(parse_mix("98//1"), 4, 0, "expected a weight (a whole number), found nothing");
        err_at(parse_mix("0/0/0"), 1, 5, "the weights are all zero");
        err_at(parse_mix("1/2000000/3"), 3, 7, "weight 2000000 is too large");
        err_at(parse_mix("98"), 1, 2, "`98` is one weight; a mix has three");
        err_at(parse_mix("-1/1/1"), 1, 2, "expected a weight (a whole number), found `-1`");
        // A part of only whitespace is empty (found by fuzzing: it used to slice backwards).
        err_at(parse_mix("1/\t/1"), 3, 0, "expected a weight (a whole number), found nothing");
    }

    #[test]
    fn keys_parse() {
        assert_eq!(parse_keys("uniform").unwrap(), KeyChoice::Uniform);
        assert_eq!(parse_keys("zipf:1.1").unwrap(), KeyChoice::Zipf { s: 1.1 });
        assert_eq!(parse_keys("hot:16:0.9").unwrap(), KeyChoice::HotSet { keys: 16, share: 0.9 });
        for k in [KeyChoice::Uniform, KeyChoice::Zipf { s: 0.8 }, KeyChoice::HotSet { keys: 4, share: 1.0 }] {
            assert_eq!(parse_keys(&format_keys(k)).unwrap(), k);
        }
    }

    #[test]
    fn keys_reject() {
        let e = err_at(parse_keys("zipff:1"), 1, 5, "unknown key choice `zipff`");
        assert_eq!(hint(&e), "did you mean `zipf`?");
        err_at(parse_keys("zipf"), 5, 0, "`zipf` takes one parameter, the exponent: `zipf:1.1`");
        err_at(parse_keys("zipf:0"), 6, 1, "the zipf exponent must be more than 0, not 0");
        err_at(parse_keys("zipf:a"), 6, 1, "expected an exponent, found `a`");
        err_at(parse_keys("uniform:3"), 8, 2, "`uniform` takes no parameters");
        err_at(parse_keys("hot:16"), 7, 0, "`hot` takes two parameters, keys and share: `hot:16:0.9`");
        err_at(parse_keys("hot:0:0.5"), 5, 1, "the hot set needs a whole number of keys, at least 1");
        err_at(parse_keys("hot:1.5:0.5"), 5, 3, "the hot set needs a whole number of keys, at least 1");
        err_at(parse_keys("hot:16:1.5"), 8, 3, "the hot share must be between 0 and 1, not 1.5");
        err_at(parse_keys(""), 1, 0, "empty key choice");
    }

    #[test]
    fn pins_parse() {
        assert_eq!(parse_pin("none").unwrap(), PinPolicy::None);
        assert_eq!(parse_pin("compact").unwrap(), PinPolicy::Compact);
        assert_eq!(parse_pin("scatter").unwrap(), PinPolicy::Scatter);
        assert_eq!(parse_pin("0-1,4").unwrap(), PinPolicy::Cores(vec![0, 1, 4]));
        let e = err_at(parse_pin("compat"), 1, 6, "unknown pin policy `compat`");
        assert_eq!(hint(&e), "did you mean `compact`?");
        err_at(parse_pin("0-x"), 3, 1, "expected a core number, found `x`");
        for p in [PinPolicy::None, PinPolicy::Scatter, PinPolicy::Cores(vec![3, 1, 2])] {
            assert_eq!(parse_pin(&format_pin(&p)).unwrap(), p);
        }
    }

    #[test]
    fn suggestions() {
        assert_eq!(did_you_mean("thread", ["name", "threads", "mix"]), Some("threads"));
        assert_eq!(did_you_mean("thraeds", ["name", "threads", "mix"]), Some("threads"));
        assert_eq!(did_you_mean("line-bytes", ["line_bytes"]), Some("line_bytes"));
        assert_eq!(did_you_mean("Layout", ["layout"]), Some("layout"));
        assert_eq!(did_you_mean("xyz", ["name", "threads"]), None);
        assert_eq!(did_you_mean("a", ["b"]), None);
        assert_eq!(did_you_mean("", ["b"]), None);
        assert_eq!(
            did_you_mean("relaxed", ["correct", "no-generation-check", "relaxed-ring"]),
            Some("relaxed-ring")
        );
        assert_eq!(
            did_you_mean("no-gen", ["correct", "no-generation-check", "relaxed-ring"]),
            Some("no-generation-check")
        );
        // Two candidates start with it: no guess.
        assert_eq!(did_you_mean("read", ["read-heavy", "read-only"]), None);
        // The closest wins.
        assert_eq!(did_you_mean("mixx", ["mix", "max"]), Some("mix"));
    }

    #[test]
    fn error_display_has_caret_and_hint() {
        let e = parse_cores("0-3,x").unwrap_err();
        assert_eq!(
            e.to_string(),
            "expected a core number, found `x`\n    0-3,x\n        ^\n  hint: write core numbers and ranges \
             separated by commas, e.g. `0-3,8`"
        );
    }
}
