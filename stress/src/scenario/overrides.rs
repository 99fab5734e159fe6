//! Command-line overrides of a scenario (`-t 4 -d 30s --layout linear ...`), applied to a
//! [`RunSpec`] with the same checks as a file, and errors that name the flag.
//!
//! What each override changes:
//! - `--threads N`: one group gets N threads. Several groups share N in proportion to the
//!   threads they start with (largest remainders first, ties to the earlier group; if all start
//!   with 0, equally). Phases keep the thread counts they set.
//! - `--cores LIST` / `--pin POLICY`: every group's pin policy (`--cores L` is `--pin L`; give
//!   one of them).
//! - `--duration D` / `--ops N`: when the run stops (give one of them).
//! - `--rate R`, `--mix M`, `--keys K`: every group's starting value; phases still change them
//!   later.
//! - `--seed`, `--capacity`, `--layout`, `--backend`, `--variant`, `--line-bytes`,
//!   `--prefill`, `--allocator` (with `--magazine`): the one value each.
//!
//! After a successful apply, the spec's `source` is the resolved scenario ([`to_toml`]), so
//! that reports and recordings describe the run that actually happened.

use std::fmt;
use std::time::Duration;

use slotscope_table::{Allocator, Layout, Variant};

use super::check::{validate, Field, GroupField, Severity, ValidationContext};
use super::write::to_toml;
use crate::scenario::spec::{BackendKind, KeyChoice, Mix, PinPolicy, RunSpec, StopSpec};
use crate::scenario::values::{
    format_cores, format_duration, format_keys, format_mix, format_pin, format_rate,
};

/// Values given on the command line; `None` leaves the scenario's value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides {
    /// `-t/--threads`: total threads at the start.
    pub threads: Option<usize>,
    /// `-c/--cores`: pin every group to these cores.
    pub cores: Option<Vec<usize>>,
    /// `--pin`: every group's pin policy.
    pub pin: Option<PinPolicy>,
    /// `-d/--duration`: run this long.
    pub duration: Option<Duration>,
    /// `--ops`: run this many operations per thread.
    pub ops: Option<u64>,
    /// `-R/--rate`: open loop at this many ops/s per thread, every group.
    pub rate: Option<f64>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--capacity`.
    pub capacity: Option<usize>,
    /// `--layout`.
    pub layout: Option<Layout>,
    /// `--backend`.
    pub backend: Option<BackendKind>,
    /// `--mix`: every group's starting mix.
    pub mix: Option<Mix>,
    /// `--keys`: every group's key choice.
    pub keys: Option<KeyChoice>,
    /// `--variant`.
    pub variant: Option<Variant>,
    /// `--line-bytes`.
    pub line_bytes: Option<usize>,
    /// `--prefill`.
    pub prefill: Option<f64>,
    /// `--allocator`: `Ring`, or `Magazine` (its size from `--magazine`, else the scenario's,
    /// else [`slotscope_table::DEFAULT_MAGAZINE`]).
    pub allocator: Option<Allocator>,
    /// `--magazine`: the magazine size (implies the magazine allocator).
    pub magazine: Option<u32>,
}

/// A problem caused by a flag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlagProblem {
    /// Error or warning.
    pub severity: Severity,
    /// The flag, e.g. `--threads`; empty if the problem was in the scenario already.
    pub flag: &'static str,
    /// The flag's value as understood, e.g. `4`, `30s`.
    pub value: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl fmt::Display for FlagProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        if self.flag.is_empty() {
            write!(f, "{kind}: scenario: {}", self.message)?;
        } else {
            write!(f, "{kind}: {} {}: {}", self.flag, self.value, self.message)?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

/// Overrides that cannot be applied; the spec is left as it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverrideError {
    /// The errors, never empty.
    pub problems: Vec<FlagProblem>,
}

impl fmt::Display for OverrideError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            p.fmt(f)?;
        }
        Ok(())
    }
}

impl std::error::Error for OverrideError {}

/// Splits `total` threads over groups in proportion to `current` (largest remainders first,
/// ties to the earlier group; equally if all are 0).
pub fn distribute_threads(total: usize, current: &[usize]) -> Vec<usize> {
    if current.is_empty() {
        return Vec::new();
    }
    let weights: Vec<u128> = if current.iter().all(|&c| c == 0) {
        vec![1; current.len()]
    } else {
        current.iter().map(|&c| c as u128).collect()
    };
    let sum: u128 = weights.iter().sum();
    let n = total as u128;
    let mut out: Vec<usize> = weights.iter().map(|w| (n * w / sum) as usize).collect();
    let mut left = total - out.iter().sum::<usize>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(n * weights[i] % sum), i));
    for &i in order.iter().cycle() {
        if left == 0 {
            break;
        }
        out[i] += 1;
        left -= 1;
    }
    out
}

impl Overrides {
    /// Whether no override is set.
    pub fn is_empty(&self) -> bool {
        *self == Overrides::default()
    }

    /// The flag that set `field`, with its value, if an override did.
    fn flag_of(&self, field: Field) -> Option<(&'static str, String)> {
        let set = |name: &'static str, v: Option<String>| v.map(|v| (name, v));
        match field {
            Field::Stop => set("--duration", self.duration.map(format_duration))
                .or_else(|| set("--ops", self.ops.map(|n| n.to_string()))),
            Field::Seed => set("--seed", self.seed.map(|n| n.to_string())),
            Field::Capacity => set("--capacity", self.capacity.map(|n| n.to_string())),
            Field::Layout => set("--layout", self.layout.map(|l| l.name().to_owned())),
            Field::Backend => set("--backend", self.backend.map(|b| b.name().to_owned())),
            Field::Variant => set("--variant", self.variant.map(|v| v.name().to_owned())),
            Field::LineBytes => set("--line-bytes", self.line_bytes.map(|n| n.to_string())),
            Field::Prefill => set("--prefill", self.prefill.map(|p| p.to_string())),
            Field::Allocator => set("--allocator", self.allocator.map(|a| a.name().to_owned())),
            Field::Magazine => set("--magazine", self.magazine.map(|m| m.to_string()))
                .or_else(|| set("--allocator", self.allocator.map(|a| a.name().to_owned()))),
            Field::Groups | Field::Group(_, GroupField::Threads) => {
                set("--threads", self.threads.map(|n| n.to_string()))
            }
            Field::Group(_, GroupField::Pin) => set("--cores", self.cores.as_deref().map(format_cores))
                .or_else(|| set("--pin", self.pin.as_ref().map(format_pin))),
            Field::Group(_, GroupField::Rate) => set("--rate", self.rate.map(format_rate)),
            Field::Group(_, GroupField::Mix) => set("--mix", self.mix.map(format_mix)),
            Field::Group(_, GroupField::Keys) => set("--keys", self.keys.map(format_keys)),
            _ => None,
        }
    }

    /// Applies the overrides to `spec` and checks the result. On success returns the warnings
    /// the overrides caused; on error leaves `spec` unchanged.
    pub fn apply(
        &self,
        spec: &mut RunSpec,
        ctx: &ValidationContext,
    ) -> Result<Vec<FlagProblem>, OverrideError> {
        let mut errors = Vec::new();
        let conflict = |a: &'static str, va: String, b: &str| FlagProblem {
            severity: Severity::Error,
            flag: a,
            value: va,
            message: format!("`{a}` and `{b}` cannot both be given"),
            hint: None,
        };
        if let (Some(c), Some(_)) = (&self.cores, &self.pin) {
            let mut p = conflict("--cores", format_cores(c), "--pin");
            p.hint = Some("`--cores LIST` is `--pin LIST`; give one of them".into());
            errors.push(p);
        }
        if let (Some(d), Some(_)) = (self.duration, self.ops) {
            let mut p = conflict("--duration", format_duration(d), "--ops");
            p.hint = Some("a run stops after a duration or after a number of operations per thread".into());
            errors.push(p);
        }
        if let (Some(Allocator::Ring), Some(m)) = (self.allocator, self.magazine) {
            let mut p = conflict("--magazine", m.to_string(), "--allocator ring");
            p.hint = Some("`--magazine N` sizes the magazine allocator; the ring has no magazines".into());
            errors.push(p);
        }
        if !errors.is_empty() {
            return Err(OverrideError { problems: errors });
        }

        let mut s = spec.clone();
        if let Some(n) = self.threads {
            let current: Vec<usize> = s.groups.iter().map(|g| g.threads).collect();
            for (g, n) in s.groups.iter_mut().zip(distribute_threads(n, &current)) {
                g.threads = n;
            }
        }
        let pin = self.cores.clone().map(PinPolicy::Cores).or_else(|| self.pin.clone());
        for g in &mut s.groups {
            if let Some(p) = &pin {
                g.pin = p.clone();
            }
            if let Some(r) = self.rate {
                g.rate = Some(r);
            }
            if let Some(m) = self.mix {
                g.mix = m;
            }
            if let Some(k) = self.keys {
                g.keys = k;
            }
        }
        if let Some(d) = self.duration {
            s.stop = StopSpec::Duration(d);
        }
        if let Some(n) = self.ops {
            s.stop = StopSpec::Ops(n);
        }
        if let Some(x) = self.seed {
            s.seed = x;
        }
        if let Some(x) = self.capacity {
            s.table.capacity = x;
        }
        if let Some(x) = self.layout {
            s.table.layout = x;
        }
        if let Some(x) = self.backend {
            s.table.backend = x;
        }
        if let Some(x) = self.variant {
            s.table.variant = x;
        }
        if let Some(x) = self.line_bytes {
            s.table.line_bytes = x;
        }
        if let Some(x) = self.prefill {
            s.table.prefill = x;
        }
        match (self.allocator, self.magazine) {
            (Some(Allocator::Ring), _) => s.table.allocator = Allocator::Ring,
            (Some(Allocator::Magazine { .. }) | None, Some(size)) => {
                s.table.allocator = Allocator::Magazine { size };
            }
            (Some(Allocator::Magazine { .. }), None) => {
                let size = s.table.allocator.magazine().unwrap_or(slotscope_table::DEFAULT_MAGAZINE);
                s.table.allocator = Allocator::Magazine { size };
            }
            (None, None) => {}
        }

        let before = validate(spec, ctx);
        let mut warnings = Vec::new();
        for p in validate(&s, ctx) {
            let blamed = self.flag_of(p.field).or_else(|| p.also.and_then(|a| self.flag_of(a)));
            let (flag, value) = match blamed {
                Some(b) => b,
                // Not caused by a flag: an error the scenario had already (a spec not from
                // `parse`), or a warning it had already, which was shown with the scenario.
                None if p.severity == Severity::Error => ("", String::new()),
                None => continue,
            };
            if p.severity == Severity::Warning && before.contains(&p) {
                continue;
            }
            let fp = FlagProblem { severity: p.severity, flag, value, message: p.message, hint: p.hint };
            match p.severity {
                Severity::Error => errors.push(fp),
                Severity::Warning => warnings.push(fp),
            }
        }
        // The same problem in several groups reads once per flag.
        dedup(&mut errors);
        dedup(&mut warnings);
        if !errors.is_empty() {
            return Err(OverrideError { problems: errors });
        }
        if !self.is_empty() {
            s.source = to_toml(&s);
        }
        *spec = s;
        Ok(warnings)
    }
}

/// Removes repeated problems, keeping the first of each.
fn dedup(problems: &mut Vec<FlagProblem>) {
    let mut seen: Vec<FlagProblem> = Vec::new();
    problems.retain(|p| {
        let new = !seen.contains(p);
        if new {
            seen.push(p.clone());
        }
        new
    });
}
