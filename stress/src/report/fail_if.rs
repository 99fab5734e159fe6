//! `--fail-if` conditions: a tiny language for "this run failed if ...", checked against the
//! run's report so that CI can gate on latency and correctness.
//!
//! ```text
//! condition  = metric cmp value                    spaces allowed between the parts
//! metric     = stat "(" op [ "," "uncorrected" ] ")"     latency, nanoseconds
//!            | "throughput" [ "(" op ")" ]              operations per second, all threads
//!            | "ops" [ "(" op ")" ]                     operations completed
//!            | "violations" | "full_refusals" | "ticket_skips"
//!            | "ring_retries" | "stale_rejections"     counts over the run
//! stat       = "p" NUMBER  (0 < NUMBER <= 100: p50, p99, p99.9, p99.99)
//!            | "median" (= p50) | "mean" | "min" | "max"
//! op         = "lookup" | "insert" | "remove" | "all"
//! cmp        = "<" | "<=" | ">" | ">=" | "==" | "!="
//! value      = NUMBER unit     for latencies; unit = ns | us | µs | ms | s (required)
//!            | NUMBER [k|K|M|G] ["/s"]   for throughput
//!            | NUMBER [k|K|M|G]          for counts
//! NUMBER     = digits [ "." digits ] [ ("e"|"E") ["+"|"-"] digits ]   (`_` between digits ok)
//! ```
//!
//! Examples: `p99(lookup)>2us`, `p99.9(insert) >= 500ns`, `max(remove)>1ms`,
//! `mean(all)>100ns`, `violations>0`, `throughput<1e6`, `full_refusals>10`,
//! `p99(lookup,uncorrected)>5us`. Metric names also accept `-` for `_`.
//!
//! A condition that holds is a failure. A condition whose metric the run did not measure (an
//! uncorrected latency in a closed loop, ring retries of a backend without a ring) fails too:
//! a gate that cannot be checked must not pass silently.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use crate::scenario::values::{
    char_span, did_you_mean, format_ns, format_rate, lex_number, number_with_multiplier, run_end,
    skip_spaces, three_digits, time_term, trimmed_range, trimmed_within, ValueError, TIME_UNITS,
};

/// Which operations a metric covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpSet {
    /// Lookups only.
    Lookup,
    /// Inserts only.
    Insert,
    /// Removes only.
    Remove,
    /// All operations together.
    All,
}

impl OpSet {
    /// Every set, in the order the grammar lists them.
    pub const ALL: [OpSet; 4] = [OpSet::Lookup, OpSet::Insert, OpSet::Remove, OpSet::All];

    /// The name in conditions.
    pub const fn name(self) -> &'static str {
        match self {
            OpSet::Lookup => "lookup",
            OpSet::Insert => "insert",
            OpSet::Remove => "remove",
            OpSet::All => "all",
        }
    }
}

/// A latency statistic.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LatencyStat {
    /// The given percentile, in (0, 100].
    Percentile(f64),
    /// Arithmetic mean.
    Mean,
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
}

/// What a condition measures. The engine's report answers for each through [`MetricSource`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Metric {
    /// A latency statistic in nanoseconds. In open loop, latency counts from the intended
    /// start (coordinated omission corrected) unless `uncorrected`.
    Latency {
        /// Which statistic.
        stat: LatencyStat,
        /// Of which operations.
        op: OpSet,
        /// Measured from the actual start instead of the intended one (open loop only).
        uncorrected: bool,
    },
    /// Operations per second over the whole run, all threads.
    Throughput(OpSet),
    /// Operations completed over the run, all threads.
    Ops(OpSet),
    /// Self-check violations (a live key not found, a removed key found, unbalanced totals).
    Violations,
    /// Inserts refused because the table was full.
    FullRefusals,
    /// Free-ring tickets skipped because a cell was mid-update.
    TicketSkips,
    /// Free-ring push retries.
    RingRetries,
    /// Lookups and removes rejected because their key was stale.
    StaleRejections,
}

/// What kind of number a metric is, which decides the units its value takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Nanoseconds,
    PerSecond,
    Count,
}

/// Metrics that are a plain name with no operation.
const COUNTERS: [(&str, Metric); 5] = [
    ("violations", Metric::Violations),
    ("full_refusals", Metric::FullRefusals),
    ("ticket_skips", Metric::TicketSkips),
    ("ring_retries", Metric::RingRetries),
    ("stale_rejections", Metric::StaleRejections),
];

/// Every metric name, for suggestions.
const METRIC_NAMES: [&str; 12] = [
    "p50",
    "p99",
    "median",
    "mean",
    "min",
    "max",
    "throughput",
    "ops",
    "violations",
    "full_refusals",
    "ticket_skips",
    "ring_retries",
];

impl Metric {
    fn unit(&self) -> Unit {
        match self {
            Metric::Latency { .. } => Unit::Nanoseconds,
            Metric::Throughput(_) => Unit::PerSecond,
            _ => Unit::Count,
        }
    }

    /// Writes a measured value of this metric: `2.31us`, `812k/s`, `3`.
    pub fn format_value(&self, v: f64) -> String {
        match self.unit() {
            Unit::Nanoseconds => format_ns(v),
            Unit::PerSecond => format!("{}/s", format_rate(v)),
            Unit::Count => three_digits(v),
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Metric::Latency { stat, op, uncorrected } => {
                match stat {
                    LatencyStat::Percentile(p) => write!(f, "p{p}")?,
                    LatencyStat::Mean => f.write_str("mean")?,
                    LatencyStat::Min => f.write_str("min")?,
                    LatencyStat::Max => f.write_str("max")?,
                }
                write!(f, "({}{})", op.name(), if *uncorrected { ",uncorrected" } else { "" })
            }
            Metric::Throughput(OpSet::All) => f.write_str("throughput"),
            Metric::Throughput(op) => write!(f, "throughput({})", op.name()),
            Metric::Ops(OpSet::All) => f.write_str("ops"),
            Metric::Ops(op) => write!(f, "ops({})", op.name()),
            other => {
                let name = COUNTERS.iter().find(|(_, m)| m == other).map_or("?", |(n, _)| *n);
                f.write_str(name)
            }
        }
    }
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Comparison {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==` (exact: meant for counts)
    Eq,
    /// `!=`
    Ne,
}

impl Comparison {
    /// The operator as written.
    pub const fn symbol(self) -> &'static str {
        match self {
            Comparison::Lt => "<",
            Comparison::Le => "<=",
            Comparison::Gt => ">",
            Comparison::Ge => ">=",
            Comparison::Eq => "==",
            Comparison::Ne => "!=",
        }
    }

    /// Whether `a OP b` holds.
    pub fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Comparison::Lt => a < b,
            Comparison::Le => a <= b,
            Comparison::Gt => a > b,
            Comparison::Ge => a >= b,
            Comparison::Eq => a == b,
            Comparison::Ne => a != b,
        }
    }
}

/// Where the engine's report answers metric questions. Latencies in nanoseconds, throughput
/// in operations per second, counts as counts; `None` when the run did not measure it.
pub trait MetricSource {
    /// The measured value of `metric`, if the run has one.
    fn metric(&self, metric: &Metric) -> Option<f64>;

    /// Below this (ns) a latency percentile is not resolved by the run's clock (see
    /// `crate::engine::calibration::floor_ns`); `None`: no floor known.
    fn resolution_floor_ns(&self) -> Option<f64> {
        None
    }
}

/// One parsed `--fail-if` condition.
#[derive(Clone, Debug, PartialEq)]
pub struct FailIf {
    /// What is measured.
    pub metric: Metric,
    /// How it is compared.
    pub comparison: Comparison,
    /// The threshold in the metric's base unit (ns, ops/s, count).
    pub threshold: f64,
    /// The threshold as written (`2us`), for messages.
    pub threshold_text: String,
}

impl FailIf {
    /// Checks the condition against a run.
    pub fn evaluate(&self, source: &(impl MetricSource + ?Sized)) -> Outcome {
        let percentile = matches!(
            self.metric,
            Metric::Latency { stat: LatencyStat::Percentile(_) | LatencyStat::Min | LatencyStat::Max, .. }
        );
        match source.metric(&self.metric) {
            Some(v) if !v.is_nan() && percentile && source.resolution_floor_ns().is_some_and(|f| v < f) => {
                Outcome::Unresolved(v, source.resolution_floor_ns().unwrap_or(0.0))
            }
            Some(v) if !v.is_nan() => {
                if self.comparison.holds(v, self.threshold) {
                    Outcome::Triggered(v)
                } else {
                    Outcome::Clear(v)
                }
            }
            _ => Outcome::Unavailable,
        }
    }
}

impl fmt::Display for FailIf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.metric, self.comparison.symbol(), self.threshold_text)
    }
}

impl FromStr for FailIf {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_fail_if(s)
    }
}

/// The result of checking one condition.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Outcome {
    /// The condition does not hold: fine. Carries the measured value.
    Clear(f64),
    /// The condition holds: the run failed. Carries the measured value.
    Triggered(f64),
    /// The run has no such measurement: counts as a failure.
    Unavailable,
    /// The value (first) is below the clock's resolution floor (second): the condition is
    /// refused, since the figure cannot be compared; counts as a failure.
    Unresolved(f64, f64),
}

/// A condition with its outcome; `Display` writes the line the CLI prints.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict<'a> {
    /// The condition.
    pub condition: &'a FailIf,
    /// What came of it.
    pub outcome: Outcome,
}

impl Verdict<'_> {
    /// Whether this verdict fails the run.
    pub fn failed(&self) -> bool {
        !matches!(self.outcome, Outcome::Clear(_))
    }
}

impl fmt::Display for Verdict<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.condition;
        match self.outcome {
            Outcome::Triggered(v) => write!(
                f,
                "failed: {} = {} {} {}",
                c.metric,
                c.metric.format_value(v),
                c.comparison.symbol(),
                c.threshold_text
            ),
            Outcome::Clear(v) => write!(
                f,
                "ok: {} = {} (fails if {} {})",
                c.metric,
                c.metric.format_value(v),
                c.comparison.symbol(),
                c.threshold_text
            ),
            Outcome::Unavailable => {
                write!(f, "failed: {} was not measured in this run, so `{c}` cannot be checked", c.metric)
            }
            Outcome::Unresolved(_, floor) => write!(
                f,
                "refused: {} is below what the clock resolves (< {}: three times the larger of its tick \
                 and its read cost), so `{c}` cannot be checked; time a slower op, or use mean({}) or throughput",
                c.metric,
                c.metric.format_value(floor),
                match c.metric {
                    Metric::Latency { op, .. } => op.name(),
                    _ => "all",
                }
            ),
        }
    }
}

/// Checks every condition; the run failed if any verdict [`Verdict::failed`].
pub fn evaluate_all<'a>(conditions: &'a [FailIf], source: &(impl MetricSource + ?Sized)) -> Vec<Verdict<'a>> {
    conditions.iter().map(|c| Verdict { condition: c, outcome: c.evaluate(source) }).collect()
}

const METRIC_HINT: &str = "metrics: p50(OP) p99(OP) p99.9(OP) mean(OP) min(OP) max(OP) throughput ops \
                           violations full_refusals ticket_skips ring_retries stale_rejections; \
                           OP: lookup insert remove all";

/// Parses a condition (see the module documentation for the grammar).
pub fn parse_fail_if(input: &str) -> Result<FailIf, ValueError> {
    let r = trimmed_range(input);
    if r.is_empty() {
        return Err(ValueError::new(input, r, "empty condition")
            .with_hint("e.g. `p99(lookup)>2us` or `violations>0`"));
    }
    let (metric, at) = parse_metric(input, r.start)?;
    let at = skip_spaces(input, at);
    let (comparison, at) = parse_comparison(input, at, &metric)?;
    let at = skip_spaces(input, at);
    let (threshold, end) = parse_threshold(input, at, r.end, &metric)?;
    let rest = skip_spaces(input, end);
    if rest < r.end {
        return Err(ValueError::new(input, rest..r.end, format!("unexpected `{}`", &input[rest..r.end]))
            .with_hint("one condition per `--fail-if`; repeat the flag for more"));
    }
    Ok(FailIf { metric, comparison, threshold, threshold_text: input[at..end].to_owned() })
}

fn parse_metric(input: &str, at: usize) -> Result<(Metric, usize), ValueError> {
    let end = run_end(input, at, |c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    if end == at {
        let span = char_span(input, at);
        return Err(ValueError::new(
            input,
            span.clone(),
            format!("expected a metric, found `{}`", &input[span]),
        )
        .with_hint(METRIC_HINT));
    }
    let name_span = at..end;
    let name = input[name_span.clone()].replace('-', "_");
    let stat = match name.as_str() {
        "mean" => Some(LatencyStat::Mean),
        "min" => Some(LatencyStat::Min),
        "max" => Some(LatencyStat::Max),
        "median" => Some(LatencyStat::Percentile(50.0)),
        n if n.starts_with('p') && n.len() > 1 && n[1..].starts_with(|c: char| c.is_ascii_digit()) => {
            let q = match lex_number(n, 1) {
                Some((q, e)) if e == n.len() => q,
                _ => {
                    return Err(ValueError::new(input, name_span, format!("`{n}` is not a percentile"))
                        .with_hint("write `p` and a number: `p50`, `p99`, `p99.9`"))
                }
            };
            if !(q > 0.0 && q <= 100.0) {
                return Err(ValueError::new(input, name_span, format!("percentile {q} is out of range"))
                    .with_hint("percentiles go from just above 0 to 100 (`p100` is the max)"));
            }
            Some(LatencyStat::Percentile(q))
        }
        _ => None,
    };
    let (args, after) = parse_args(input, end)?;
    let arg_hint = |m: &str| format!("`{m}` takes one of: lookup, insert, remove, all");
    let op_of = |arg: &(String, std::ops::Range<usize>)| -> Result<OpSet, ValueError> {
        OpSet::ALL.into_iter().find(|o| o.name() == arg.0).ok_or_else(|| {
            let names: Vec<&str> = OpSet::ALL.iter().map(|o| o.name()).collect();
            let hint = match did_you_mean(&arg.0, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "operations: lookup, insert, remove, all".to_owned(),
            };
            ValueError::new(input, arg.1.clone(), format!("unknown operation `{}`", arg.0)).with_hint(hint)
        })
    };
    if let Some(stat) = stat {
        let Some(args) = args else {
            return Err(ValueError::new(input, end..end, format!("`{name}` needs an operation"))
                .with_hint(format!("e.g. `{name}(lookup)` or `{name}(all)`")));
        };
        let op = match args.first() {
            Some(a) => op_of(a)?,
            None => {
                return Err(ValueError::new(input, end..after, "missing operation").with_hint(arg_hint(&name)))
            }
        };
        let uncorrected = match args.get(1) {
            None => false,
            Some((w, _)) if w == "uncorrected" => true,
            Some((w, span)) => {
                return Err(ValueError::new(input, span.clone(), format!("unexpected `{w}`"))
                    .with_hint("the only second argument is `uncorrected`"))
            }
        };
        if let Some((_, span)) = args.get(2) {
            return Err(ValueError::new(input, span.clone(), "too many arguments"));
        }
        return Ok((Metric::Latency { stat, op, uncorrected }, after));
    }
    let with_op = |make: fn(OpSet) -> Metric| -> Result<(Metric, usize), ValueError> {
        match &args {
            None => Ok((make(OpSet::All), after)),
            Some(a) if a.len() == 1 => Ok((make(op_of(&a[0])?), after)),
            Some(_) => Err(ValueError::new(input, end..after, format!("`{name}` takes one operation"))
                .with_hint(arg_hint(&name))),
        }
    };
    match name.as_str() {
        "throughput" => return with_op(Metric::Throughput),
        "ops" => return with_op(Metric::Ops),
        _ => {}
    }
    if let Some((_, m)) = COUNTERS.iter().find(|(n, _)| *n == name) {
        if args.is_some() {
            return Err(ValueError::new(
                input,
                end..after,
                format!("`{name}` counts all operations; it takes no argument"),
            ));
        }
        return Ok((*m, after));
    }
    let hint = match did_you_mean(&name, METRIC_NAMES.iter().copied().chain(["stale_rejections"])) {
        Some(s) => format!("did you mean `{s}`?"),
        None => METRIC_HINT.to_owned(),
    };
    Err(ValueError::new(input, name_span, format!("unknown metric `{name}`")).with_hint(hint))
}

/// Optional `( word [, word]* )` at `at`: the words with their spans, and the end.
#[allow(clippy::type_complexity)]
fn parse_args(
    input: &str,
    at: usize,
) -> Result<(Option<Vec<(String, std::ops::Range<usize>)>>, usize), ValueError> {
    let open = skip_spaces(input, at);
    if !input[open..].starts_with('(') {
        return Ok((None, at));
    }
    let Some(close_rel) = input[open..].find(')') else {
        return Err(ValueError::new(input, open..open + 1, "unclosed `(`").with_hint("e.g. `p99(lookup)`"));
    };
    let close = open + close_rel;
    let mut words = Vec::new();
    let mut start = open + 1;
    loop {
        let end = input[start..close].find(',').map_or(close, |i| start + i);
        let Range { start: s, end: e } = trimmed_within(input, start..end);
        if s >= e {
            if end == close && words.is_empty() {
                break;
            }
            return Err(ValueError::new(input, start..start, "missing argument"));
        }
        words.push((input[s..e].to_owned(), s..e));
        if end == close {
            break;
        }
        start = end + 1;
    }
    Ok((Some(words), close + 1))
}

fn parse_comparison(input: &str, at: usize, metric: &Metric) -> Result<(Comparison, usize), ValueError> {
    let rest = &input[at..];
    for (sym, cmp) in [
        ("<=", Comparison::Le),
        (">=", Comparison::Ge),
        ("==", Comparison::Eq),
        ("!=", Comparison::Ne),
        ("<", Comparison::Lt),
        (">", Comparison::Gt),
    ] {
        if rest.starts_with(sym) {
            return Ok((cmp, at + sym.len()));
        }
    }
    let hint = "compare with <, <=, >, >=, == or !=";
    if rest.starts_with("=>") || rest.starts_with("=<") {
        let fixed = if rest.starts_with("=>") { ">=" } else { "<=" };
        return Err(ValueError::new(input, at..at + 2, format!("`{}` is not a comparison", &rest[..2]))
            .with_hint(format!("write `{fixed}`")));
    }
    if rest.starts_with('=') {
        return Err(ValueError::new(input, at..at + 1, "`=` is not a comparison").with_hint("write `==`"));
    }
    let span = char_span(input, at);
    let found = if span.is_empty() { "the end".to_owned() } else { format!("`{}`", &input[span.clone()]) };
    Err(ValueError::new(input, span, format!("expected a comparison after `{metric}`, found {found}"))
        .with_hint(hint))
}

fn parse_threshold(input: &str, at: usize, end: usize, metric: &Metric) -> Result<(f64, usize), ValueError> {
    if input[at..].starts_with('-') {
        return Err(ValueError::new(input, char_span(input, at), "a threshold cannot be negative"));
    }
    match metric.unit() {
        Unit::Nanoseconds => {
            let hint = "a latency needs a time unit: e.g. `500ns`, `2us`, `1.5ms`";
            time_term(input, at, end, "a latency", hint)
        }
        Unit::PerSecond | Unit::Count => {
            let what = if metric.unit() == Unit::PerSecond { "a rate" } else { "a count" };
            let (v, mut e) = number_with_multiplier(input, at, what)?;
            if !v.is_finite() {
                return Err(ValueError::new(input, at..e, format!("{what} too large to be a number"))
                    .with_hint("write a finite threshold, e.g. `1e6` or `10M`"));
            }
            if metric.unit() == Unit::PerSecond && input[e..end].starts_with("/s") {
                e += 2;
            }
            let unit_end = run_end(&input[..end], e, |c| c.is_alphabetic());
            if unit_end > e {
                let word = &input[e..unit_end];
                let hint = if TIME_UNITS.iter().any(|(u, _)| *u == word) {
                    format!("`{metric}` is not a time; only latencies take time units")
                } else {
                    "multipliers: k (thousand), M (million), G (billion)".to_owned()
                };
                return Err(ValueError::new(
                    input,
                    e..unit_end,
                    format!("unexpected `{word}` after the number"),
                )
                .with_hint(hint));
            }
            Ok((v, e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> FailIf {
        parse_fail_if(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn err(s: &str, col: usize, width: usize, msg: &str) -> ValueError {
        let e = parse_fail_if(s).expect_err(s);
        assert_eq!(e.message, msg, "message for {s}");
        assert_eq!(e.column(), col, "column for {s}");
        assert_eq!(e.input[e.span.clone()].chars().count(), width, "width for {s}");
        e
    }

    fn lat(stat: LatencyStat, op: OpSet) -> Metric {
        Metric::Latency { stat, op, uncorrected: false }
    }

    #[test]
    fn parses_the_examples() {
        let c = p("p99(lookup)>2us");
        assert_eq!(c.metric, lat(LatencyStat::Percentile(99.0), OpSet::Lookup));
        assert_eq!(c.comparison, Comparison::Gt);
        assert_eq!(c.threshold, 2000.0);
        assert_eq!(c.threshold_text, "2us");

        let c = p("p99.9(insert)>=500ns");
        assert_eq!(c.metric, lat(LatencyStat::Percentile(99.9), OpSet::Insert));
        assert_eq!(c.comparison, Comparison::Ge);
        assert_eq!(c.threshold, 500.0);

        let c = p("max(remove)>1ms");
        assert_eq!(c.metric, lat(LatencyStat::Max, OpSet::Remove));
        assert_eq!(c.threshold, 1e6);

        let c = p("mean(all)>100ns");
        assert_eq!(c.metric, lat(LatencyStat::Mean, OpSet::All));

        let c = p("violations>0");
        assert_eq!((c.metric, c.comparison, c.threshold), (Metric::Violations, Comparison::Gt, 0.0));

        let c = p("throughput<1e6");
        assert_eq!(
            (c.metric, c.comparison, c.threshold),
            (Metric::Throughput(OpSet::All), Comparison::Lt, 1e6)
        );

        let c = p("full_refusals>10");
        assert_eq!((c.metric, c.threshold), (Metric::FullRefusals, 10.0));
    }

    #[test]
    fn parses_the_rest_of_the_grammar() {
        assert_eq!(p(" p50 ( lookup ) <= 1.5 us ").threshold, 1500.0);
        assert_eq!(p("median(all)<1us").metric, lat(LatencyStat::Percentile(50.0), OpSet::All));
        assert_eq!(p("min(insert)!=0ns").comparison, Comparison::Ne);
        assert_eq!(p("ops==1000").comparison, Comparison::Eq);
        assert_eq!(p("ops(insert)<1k").metric, Metric::Ops(OpSet::Insert));
        assert_eq!(p("throughput(lookup)<1.5M/s").threshold, 1.5e6);
        assert_eq!(p("full-refusals>0").metric, Metric::FullRefusals);
        assert_eq!(p("ticket_skips>0").metric, Metric::TicketSkips);
        assert_eq!(p("ring_retries>0").metric, Metric::RingRetries);
        assert_eq!(p("stale_rejections>0").metric, Metric::StaleRejections);
        assert_eq!(
            p("p99(lookup, uncorrected)>5us").metric,
            Metric::Latency { stat: LatencyStat::Percentile(99.0), op: OpSet::Lookup, uncorrected: true }
        );
        assert_eq!(p("p100(all)>1s").threshold, 1e9);
        assert_eq!(p("p99.99(all)>1µs").threshold, 1000.0);
        assert_eq!("violations > 0".parse::<FailIf>().unwrap().metric, Metric::Violations);
    }

    #[test]
    fn display_is_canonical_and_parses_back() {
        for s in [
            "p99(lookup) > 2us",
            "p99.9(insert) >= 500ns",
            "mean(all) > 100ns",
            "p50(remove,uncorrected) < 1ms",
            "throughput < 1e6",
            "throughput(insert) < 2k",
            "ops(lookup) == 5",
            "violations > 0",
            "stale_rejections != 0",
        ] {
            let c = p(s);
            assert_eq!(c.to_string(), s);
            assert_eq!(p(&c.to_string()), c);
        }
    }

    #[test]
    fn rejects_with_positions() {
        let e = err("p99(lookp)>2us", 5, 5, "unknown operation `lookp`");
        assert_eq!(e.hint.as_deref(), Some("did you mean `lookup`?"));
        let e = err("p99(lookup)>2", 13, 1, "`2` has no unit");
        assert!(e.hint.as_deref().unwrap().contains("`2us`"));
        let e = err("p99(lookup)=2us", 12, 1, "`=` is not a comparison");
        assert_eq!(e.hint.as_deref(), Some("write `==`"));
        let e = err("p99(lookup)=>2us", 12, 2, "`=>` is not a comparison");
        assert_eq!(e.hint.as_deref(), Some("write `>=`"));
        err("p99(lookup)", 12, 0, "expected a comparison after `p99(lookup)`, found the end");
        let e = err("violatons>0", 1, 9, "unknown metric `violatons`");
        assert_eq!(e.hint.as_deref(), Some("did you mean `violations`?"));
        let e = err("p99>2us", 4, 0, "`p99` needs an operation");
        assert_eq!(e.hint.as_deref(), Some("e.g. `p99(lookup)` or `p99(all)`"));
        err("p0(all)>1us", 1, 2, "percentile 0 is out of range");
        err("p101(all)>1us", 1, 4, "percentile 101 is out of range");
        err("p9x(all)>1us", 1, 3, "`p9x` is not a percentile");
        err("p99(lookup>2us", 4, 1, "unclosed `(`");
        err("p99(lookup,fast)>2us", 12, 4, "unexpected `fast`");
        err("p99()>2us", 4, 2, "missing operation");
        let e = err("violations>2us", 13, 2, "unexpected `us` after the number");
        assert!(e.hint.as_deref().unwrap().contains("only latencies take time units"));
        err("violations(all)>0", 11, 5, "`violations` counts all operations; it takes no argument");
        err("throughput<1.5m", 15, 1, "`m` is ambiguous in a count");
        err("p99(lookup)>2us junk", 17, 4, "unexpected `junk`");
        err("p99(lookup)>-1us", 13, 1, "a threshold cannot be negative");
        err("p99(lookup)>2sec", 14, 3, "unknown time unit `sec`");
        err("", 1, 0, "empty condition");
        err(">3", 1, 1, "expected a metric, found `>`");
        err("throughput(lookup,insert)<1", 11, 15, "`throughput` takes one operation");
    }

    /// A report stand-in with fixed numbers: lookup p99 2.31us, 812k ops/s, 3 violations,
    /// no uncorrected latencies (closed loop).
    struct FakeReport;

    impl MetricSource for FakeReport {
        fn metric(&self, m: &Metric) -> Option<f64> {
            match m {
                Metric::Latency { uncorrected: true, .. } => None,
                Metric::Latency { stat: LatencyStat::Percentile(p), op: OpSet::Lookup, .. } if *p == 99.0 => {
                    Some(2310.0)
                }
                Metric::Latency { stat: LatencyStat::Max, .. } => Some(40_000.0),
                Metric::Latency { .. } => Some(150.0),
                Metric::Throughput(_) => Some(812_000.0),
                Metric::Violations => Some(3.0),
                Metric::FullRefusals => Some(0.0),
                Metric::RingRetries => Some(f64::NAN),
                _ => None,
            }
        }
    }

    #[test]
    fn evaluates_against_a_source() {
        let conds: Vec<FailIf> = [
            "p99(lookup)>2us",
            "p99(lookup)>3us",
            "violations>0",
            "full_refusals>0",
            "throughput<1M",
            "p99(lookup,uncorrected)>1us",
            "ring_retries>0",
            "max(all)<=40us",
            "mean(insert)==150ns",
        ]
        .iter()
        .map(|s| p(s))
        .collect();
        let verdicts = evaluate_all(&conds, &FakeReport);
        let lines: Vec<String> = verdicts.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "failed: p99(lookup) = 2.31us > 2us",
                "ok: p99(lookup) = 2.31us (fails if > 3us)",
                "failed: violations = 3 > 0",
                "ok: full_refusals = 0 (fails if > 0)",
                "failed: throughput = 812k/s < 1M",
                "failed: p99(lookup,uncorrected) was not measured in this run, so \
                 `p99(lookup,uncorrected) > 1us` cannot be checked",
                "failed: ring_retries was not measured in this run, so `ring_retries > 0` cannot be checked",
                "failed: max(all) = 40us <= 40us",
                "failed: mean(insert) = 150ns == 150ns",
            ]
        );
        let failed: Vec<bool> = verdicts.iter().map(Verdict::failed).collect();
        assert_eq!(failed, [true, false, true, false, true, true, true, true, true]);
        assert_eq!(verdicts[0].outcome, Outcome::Triggered(2310.0));
        assert_eq!(verdicts[1].outcome, Outcome::Clear(2310.0));
        assert_eq!(verdicts[5].outcome, Outcome::Unavailable);
    }

    /// [`FakeReport`] on a clock that resolves nothing under 200 ns.
    struct CoarseClock;

    impl MetricSource for CoarseClock {
        fn metric(&self, m: &Metric) -> Option<f64> {
            FakeReport.metric(m)
        }
        fn resolution_floor_ns(&self) -> Option<f64> {
            Some(200.0)
        }
    }

    #[test]
    fn a_percentile_below_the_clock_floor_is_refused() {
        let conds: Vec<FailIf> =
            ["p50(insert)>100ns", "p99(lookup)>2us", "mean(insert)>100ns", "min(all)<1us"]
                .iter()
                .map(|s| p(s))
                .collect();
        let verdicts = evaluate_all(&conds, &CoarseClock);
        // 150 ns is under the 200 ns floor: refused (and failed), whichever way it compares.
        assert_eq!(verdicts[0].outcome, Outcome::Unresolved(150.0, 200.0));
        assert!(verdicts[0].failed());
        let line = verdicts[0].to_string();
        assert!(line.starts_with("refused: p50(insert) is below what the clock resolves (< 200ns"), "{line}");
        assert!(line.contains("mean(insert)"), "{line}");
        // Above the floor: compared as usual; a mean is not a percentile and is compared.
        assert_eq!(verdicts[1].outcome, Outcome::Triggered(2310.0));
        assert_eq!(verdicts[2].outcome, Outcome::Triggered(150.0));
        assert_eq!(verdicts[3].outcome, Outcome::Unresolved(150.0, 200.0));
    }
}
