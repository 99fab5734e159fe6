//! Semantic checks of a [`RunSpec`], shared by scenario files and command-line overrides.
//!
//! A check names the [`Field`] it is about, not a position: a scenario file turns the field
//! into a line and column, an override into the flag that set it. So a rule is written once
//! and reads the same wherever the value came from.

use std::collections::HashSet;

use slotscope_table::{Layout, MAX_CAPACITY, MIN_CAPACITY};

use crate::scenario::spec::{BackendKind, KeyChoice, Mix, PinPolicy, RunSpec, StopSpec};
use crate::scenario::values::{
    check_rate, check_share, check_zipf, did_you_mean, format_cores, format_duration, MAX_DURATION,
    MAX_WEIGHT,
};

/// Most threads one group may start with (or be set to by a phase).
pub const MAX_GROUP_THREADS: usize = 1024;
/// Most threads a whole run may start with.
pub const MAX_TOTAL_THREADS: usize = 4096;
/// Most thread groups in one scenario.
pub const MAX_GROUPS: usize = 64;
/// Most phases in one scenario.
pub const MAX_PHASES: usize = 1024;
/// Largest `time_every` (time one operation in this many).
pub const MAX_TIME_EVERY: u32 = 1 << 20;
/// Longest scenario name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest description, in characters (it is one line in `slotscope scenarios`).
pub const MAX_DESCRIPTION_CHARS: usize = 200;
/// Longest group name, in characters.
pub const MAX_GROUP_NAME_CHARS: usize = 32;

/// What the checks need to know about the machine; injected so that tests do not depend on
/// the machine they run on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationContext {
    /// Ids of the cores this process may run on.
    pub cores: Vec<usize>,
}

impl ValidationContext {
    /// A context with exactly these cores.
    pub fn with_cores(cores: impl IntoIterator<Item = usize>) -> ValidationContext {
        ValidationContext { cores: cores.into_iter().collect() }
    }

    /// The cores of this process: on Linux the `Cpus_allowed_list` of `/proc/self/status`
    /// (which honours cpusets and `taskset`), elsewhere `0..available_parallelism`. The engine
    /// may build its own from its affinity library instead.
    pub fn detect() -> ValidationContext {
        if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
            if let Some(list) = status.lines().find_map(|l| l.strip_prefix("Cpus_allowed_list:")) {
                if let Ok(cores) = crate::scenario::values::parse_cores(list.trim()) {
                    return ValidationContext { cores };
                }
            }
        }
        let n = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        ValidationContext::with_cores(0..n)
    }
}

/// Which part of a run a problem is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// `name`
    Name,
    /// `description`
    Description,
    /// `seed`
    Seed,
    /// `duration` or `ops`
    Stop,
    /// `cycle`
    Cycle,
    /// `time_every`
    TimeEvery,
    /// `spare_core`
    SpareCore,
    /// `[table] backend`
    Backend,
    /// `[table] capacity`
    Capacity,
    /// `[table] layout`
    Layout,
    /// `[table] line_bytes`
    LineBytes,
    /// `[table] variant`
    Variant,
    /// `[table] allocator`
    Allocator,
    /// `[table] magazine`
    Magazine,
    /// `[table] prefill`
    Prefill,
    /// The groups as a whole (total thread count).
    Groups,
    /// Something in group i (0-based).
    Group(usize, GroupField),
    /// Something in phase i (0-based, in the order written).
    Phase(usize, PhaseField),
}

/// A key of a `[[group]]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GroupField {
    /// The group as a whole (its `[[group]]` header).
    Header,
    /// `name`
    Name,
    /// `threads`
    Threads,
    /// `mix` (items: lookup, insert, remove)
    Mix,
    /// `keys` (items: the first and second parameter)
    Keys,
    /// `stale`
    Stale,
    /// `keep`
    Keep,
    /// `rate`
    Rate,
    /// `pin` (items: one per core)
    Pin,
}

/// A key of a `[[phase]]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PhaseField {
    /// The phase as a whole (its `[[phase]]` header).
    Header,
    /// `at`
    At,
    /// `group`
    Group,
    /// `mix` (items: lookup, insert, remove)
    Mix,
    /// `rate`
    Rate,
    /// `threads`
    Threads,
    /// `ramp`
    Ramp,
}

/// How bad a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// The run cannot start.
    Error,
    /// The run can start, but probably not as meant.
    Warning,
}

/// One finding of [`validate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// What it is about.
    pub field: Field,
    /// Which item of the field, for lists (a core of a core list, a weight of a mix).
    pub item: Option<usize>,
    /// Another field involved (a phase beyond the end involves the duration too), so that an
    /// override that changed that one can be blamed.
    pub also: Option<Field>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

struct Checker<'a> {
    ctx: &'a ValidationContext,
    out: Vec<Problem>,
}

impl Checker<'_> {
    fn push(
        &mut self,
        severity: Severity,
        field: Field,
        message: String,
        hint: Option<String>,
    ) -> &mut Problem {
        self.out.push(Problem { severity, field, item: None, also: None, message, hint });
        self.out.last_mut().expect("just pushed")
    }

    fn error(&mut self, field: Field, message: String) -> &mut Problem {
        self.push(Severity::Error, field, message, None)
    }

    fn warning(&mut self, field: Field, message: String) -> &mut Problem {
        self.push(Severity::Warning, field, message, None)
    }
}

trait ProblemExt {
    fn hint(&mut self, hint: impl Into<String>) -> &mut Self;
    fn item(&mut self, item: usize) -> &mut Self;
    fn also(&mut self, field: Field) -> &mut Self;
}

impl ProblemExt for Problem {
    fn hint(&mut self, hint: impl Into<String>) -> &mut Self {
        self.hint = Some(hint.into());
        self
    }
    fn item(&mut self, item: usize) -> &mut Self {
        self.item = Some(item);
        self
    }
    fn also(&mut self, field: Field) -> &mut Self {
        self.also = Some(field);
        self
    }
}

/// Checks everything about a run that can be checked before it starts. Returns errors and
/// warnings in the order of the spec; the run may start only if there is no error.
///
/// Does not assume phases are sorted (a file's phases are checked in the order written).
pub fn validate(spec: &RunSpec, ctx: &ValidationContext) -> Vec<Problem> {
    let mut c = Checker { ctx, out: Vec::new() };
    check_top(&mut c, spec);
    check_table(&mut c, spec);
    check_groups(&mut c, spec);
    check_phases(&mut c, spec);
    c.out
}

fn check_top(c: &mut Checker<'_>, spec: &RunSpec) {
    let name = &spec.name;
    if name.trim().is_empty() {
        c.error(Field::Name, "the scenario name is empty".into());
    } else if name.chars().count() > MAX_NAME_CHARS {
        c.error(Field::Name, format!("the scenario name is longer than {MAX_NAME_CHARS} characters"));
    } else if name.chars().any(char::is_control) {
        c.error(Field::Name, "the scenario name contains control characters".into());
    }
    if spec.description.contains(['\n', '\r']) {
        c.error(Field::Description, "the description must be one line".into())
            .hint("it is the line `slotscope scenarios` shows; put details in comments");
    } else if spec.description.chars().count() > MAX_DESCRIPTION_CHARS {
        c.error(
            Field::Description,
            format!("the description is longer than {MAX_DESCRIPTION_CHARS} characters"),
        )
        .hint("it is the line `slotscope scenarios` shows; put details in comments");
    }
    match spec.stop {
        StopSpec::Duration(d) if d.is_zero() => {
            c.error(Field::Stop, "the duration must be more than 0".into())
                .hint("leave out `duration` and `ops` to run until stopped");
        }
        StopSpec::Duration(d) if d > MAX_DURATION => {
            c.error(Field::Stop, format!("duration {} is too long", format_duration(d)))
                .hint(format!("at most {}", format_duration(MAX_DURATION)));
        }
        StopSpec::Ops(0) => {
            c.error(Field::Stop, "`ops` must be at least 1 (operations per thread)".into());
        }
        _ => {}
    }
    if let Some(cycle) = spec.cycle {
        if cycle.is_zero() {
            c.error(Field::Cycle, "the cycle must be more than 0".into());
        } else if spec.phases.is_empty() {
            c.warning(Field::Cycle, "`cycle` repeats the phases, but there are none".into());
        }
    }
    if spec.time_every > MAX_TIME_EVERY {
        c.error(
            Field::TimeEvery,
            format!("`time_every` must be \"auto\" or 1 ..= {MAX_TIME_EVERY}, not {}", spec.time_every),
        )
        .hint("1 times every operation; 64 times one in 64");
    }
    if spec.spare_core && c.ctx.cores.len() < 2 {
        let n = c.ctx.cores.len();
        c.warning(Field::SpareCore, format!("no core to spare: this machine has {n} core{}", plural(n)));
    }
}

fn check_table(c: &mut Checker<'_>, spec: &RunSpec) {
    let t = &spec.table;
    if t.capacity == 0 || t.capacity > MAX_CAPACITY {
        c.error(Field::Capacity, format!("capacity {} is out of range", t.capacity)).hint(format!(
            "from 1 to {MAX_CAPACITY} (2^27); sizes round up to a power of two, at least {MIN_CAPACITY}"
        ));
    }
    if t.line_bytes != 64 && t.line_bytes != 128 {
        c.error(Field::LineBytes, format!("`line_bytes` must be 64 or 128, not {}", t.line_bytes))
            .hint("64 is the cache line of x86-64 and most ARM; 128 is the pair x86 prefetches together");
    }
    if t.backend != BackendKind::Slotscope {
        let b = t.backend.name();
        if t.variant.is_broken() {
            c.error(
                Field::Variant,
                format!("variant `{}` exists only in the slotscope backend, not `{b}`", t.variant.name()),
            )
            .also(Field::Backend)
            .hint("use the slotscope backend, or the `correct` variant");
        }
        if t.layout != Layout::Interleaved {
            c.warning(
                Field::Layout,
                format!("`layout` applies to the slotscope backend only; `{b}` ignores it"),
            );
        }
        if t.line_bytes != 64 {
            c.warning(
                Field::LineBytes,
                format!("`line_bytes` applies to the slotscope backend only; `{b}` ignores it"),
            );
        }
    }
    check_allocator(c, t);
    if let Err(m) = check_share(t.prefill, "`prefill`") {
        c.error(Field::Prefill, m)
            .hint("a fraction of the capacity: 0.5 fills half the table before the start");
    }
}

fn check_allocator(c: &mut Checker<'_>, t: &crate::scenario::spec::TableSpec) {
    let Some(size) = t.allocator.magazine() else {
        return;
    };
    if t.backend != BackendKind::Slotscope {
        c.error(
            Field::Allocator,
            format!(
                "`allocator = \"magazine\"` exists only in the slotscope backend, not `{}`",
                t.backend.name()
            ),
        )
        .also(Field::Backend)
        .hint("use the slotscope backend, or `allocator = \"ring\"`");
    }
    if t.variant == slotscope_table::Variant::RelaxedRing {
        c.error(Field::Allocator, "the `relaxed-ring` variant runs with the ring allocator only".to_owned())
            .also(Field::Variant)
            .hint("its bug is in the ring's orderings; use `allocator = \"ring\"` with it");
    }
    let n = t.capacity.clamp(1, MAX_CAPACITY).next_power_of_two().max(MIN_CAPACITY);
    let most = (n / 4).min(slotscope_table::MAX_MAGAZINE as usize);
    if size < slotscope_table::MIN_MAGAZINE || size as usize > most {
        c.error(Field::Magazine, format!("`magazine` {size} is out of range for {n} slots")).hint(format!(
            "from {} to {most} here: at most a quarter of the capacity and at most {}",
            slotscope_table::MIN_MAGAZINE,
            slotscope_table::MAX_MAGAZINE
        ));
    }
}

fn check_mix(c: &mut Checker<'_>, field: Field, mix: Mix) {
    for (i, w) in [mix.lookup, mix.insert, mix.remove].into_iter().enumerate() {
        if w > MAX_WEIGHT {
            c.error(field, format!("weight {w} is too large"))
                .item(i)
                .hint(format!("weights go up to {MAX_WEIGHT}; only their ratio matters"));
        }
    }
    if mix.total() == 0 {
        c.error(field, "the mix weights are all zero".into()).hint("at least one must be more than 0");
    }
}

fn check_rate_of(c: &mut Checker<'_>, field: Field, rate: f64) {
    if let Err((m, h)) = check_rate(rate) {
        c.error(field, m).hint(h);
    }
}

fn check_groups(c: &mut Checker<'_>, spec: &RunSpec) {
    if spec.groups.is_empty() {
        c.error(Field::Groups, "there are no thread groups".into());
        return;
    }
    if spec.groups.len() > MAX_GROUPS {
        c.error(Field::Group(MAX_GROUPS, GroupField::Header), format!("more than {MAX_GROUPS} groups"));
    }
    for (i, g) in spec.groups.iter().enumerate() {
        let f = |part| Field::Group(i, part);
        let name = &g.name;
        if name.is_empty() {
            c.error(f(GroupField::Name), "a group name cannot be empty".into());
        } else if name.chars().count() > MAX_GROUP_NAME_CHARS {
            c.error(
                f(GroupField::Name),
                format!("group name is longer than {MAX_GROUP_NAME_CHARS} characters"),
            );
        } else if let Some(bad) = name.chars().find(|ch| !(ch.is_alphanumeric() || *ch == '-' || *ch == '_'))
        {
            c.error(f(GroupField::Name), format!("group name `{name}` contains {bad:?}"))
                .hint("use letters, digits, `-` and `_`");
        } else if let Some(j) = spec.groups[..i].iter().position(|o| o.name == *name) {
            c.error(f(GroupField::Name), format!("two groups are named `{name}`"))
                .also(Field::Group(j, GroupField::Name))
                .hint(format!("group {} has this name already; phases find groups by name", j + 1));
        }
        if g.threads > MAX_GROUP_THREADS {
            c.error(
                f(GroupField::Threads),
                format!("group `{name}` has {} threads; at most {MAX_GROUP_THREADS}", g.threads),
            );
        }
        check_mix(c, f(GroupField::Mix), g.mix);
        match g.keys {
            KeyChoice::Uniform => {}
            KeyChoice::Zipf { s } => {
                if let Err(m) = check_zipf(s) {
                    c.error(f(GroupField::Keys), m)
                        .item(0)
                        .hint("1.0 is classic zipf; larger is more skewed");
                }
            }
            KeyChoice::HotSet { keys, share } => {
                if keys == 0 {
                    c.error(f(GroupField::Keys), "the hot set needs at least 1 key".into()).item(0);
                } else if keys > spec.table.capacity && spec.table.capacity > 0 {
                    c.error(
                        f(GroupField::Keys),
                        format!(
                            "a hot set of {keys} keys is larger than the table ({} slots)",
                            spec.table.capacity
                        ),
                    )
                    .item(0)
                    .also(Field::Capacity);
                }
                if let Err(m) = check_share(share, "the hot share") {
                    c.error(f(GroupField::Keys), m)
                        .item(1)
                        .hint("the fraction of lookups that go to the hot set");
                }
            }
        }
        if let Err(m) = check_share(g.stale_share, "`stale`") {
            c.error(f(GroupField::Stale), m).hint("the fraction of lookups aimed at removed keys");
        }
        if let Some(r) = g.rate {
            check_rate_of(c, f(GroupField::Rate), r);
        }
        match g.keep {
            Some(0) => {
                c.error(f(GroupField::Keep), "`keep` must be at least 1".to_owned())
                    .hint("each thread keeps at most this many keys; leave it out for no limit");
            }
            Some(k) if k.saturating_mul(g.threads) > spec.table.capacity => {
                c.warning(
                    f(GroupField::Keep),
                    format!(
                        "{} threads keeping {k} keys each want more than the {} slots",
                        g.threads, spec.table.capacity
                    ),
                )
                .also(Field::Capacity);
            }
            _ => {}
        }
        if let PinPolicy::Cores(cores) = &g.pin {
            check_cores(c, f(GroupField::Pin), cores);
        }
        if g.stale_share > 0.0 && g.stale_share <= 1.0 {
            let mixes: Vec<Mix> = std::iter::once(g.mix)
                .chain(spec.phases.iter().filter(|p| p.group == *name).filter_map(|p| p.mix))
                .collect();
            if mixes.iter().all(|m| m.lookup == 0) {
                c.warning(
                    f(GroupField::Stale),
                    format!("group `{name}` never looks keys up, so `stale` has no effect"),
                )
                .also(f(GroupField::Mix));
            } else if mixes.iter().all(|m| m.remove == 0) {
                c.warning(
                    f(GroupField::Stale),
                    format!("group `{name}` never removes, so it has no stale keys to look up"),
                )
                .also(f(GroupField::Mix));
            }
        }
    }
    let total = spec.initial_threads();
    if total == 0 {
        c.error(Field::Groups, "the run has no threads: every group starts with 0".into())
            .hint("give at least one group 1 thread or more");
    } else if total > MAX_TOTAL_THREADS {
        c.error(Field::Groups, format!("{total} threads in all; at most {MAX_TOTAL_THREADS}"));
    } else {
        let usable = c.ctx.cores.len().saturating_sub(usize::from(spec.spare_core)).max(1);
        if total > usable {
            let spare = if spec.spare_core { ", one kept for the UI" } else { "" };
            c.warning(
                Field::Groups,
                format!("{total} worker threads on {usable} core{}{spare}", plural(usable)),
            )
            .hint("allowed, but threads will take turns on cores and measurements get noisier");
        }
    }
}

fn check_cores(c: &mut Checker<'_>, field: Field, cores: &[usize]) {
    if cores.is_empty() {
        c.error(field, "the core list is empty".into());
        return;
    }
    let mut seen = HashSet::new();
    for (k, &core) in cores.iter().enumerate() {
        if !seen.insert(core) {
            c.error(field, format!("core {core} is listed twice")).item(k);
        } else if !c.ctx.cores.contains(&core) {
            let here = if c.ctx.cores.is_empty() { "none".to_owned() } else { format_cores(&c.ctx.cores) };
            c.error(field, format!("core {core} does not exist on this machine"))
                .item(k)
                .hint(format!("cores here: {here}"));
        }
    }
}

fn check_phases(c: &mut Checker<'_>, spec: &RunSpec) {
    if spec.phases.len() > MAX_PHASES {
        c.error(Field::Phase(MAX_PHASES, PhaseField::Header), format!("more than {MAX_PHASES} phases"));
    }
    let names: Vec<&str> = spec.groups.iter().map(|g| g.name.as_str()).collect();
    let end = match spec.stop {
        StopSpec::Duration(d) => Some(d),
        _ => None,
    };
    for (i, p) in spec.phases.iter().enumerate() {
        let f = |part| Field::Phase(i, part);
        let at = format_duration(p.at);
        if !names.contains(&p.group.as_str()) {
            let hint = match did_you_mean(&p.group, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("groups: {}", names.join(", ")),
            };
            c.error(f(PhaseField::Group), format!("no group named `{}`", p.group)).hint(hint);
        }
        if let Some(d) = end {
            if p.at >= d && !d.is_zero() {
                // A warning, not an error: a short run of a long scenario (`run demo -d 3s`)
                // is a normal thing to ask for.
                c.warning(
                    f(PhaseField::At),
                    format!("phase at {at} never runs: the run ends at {}", format_duration(d)),
                )
                .also(Field::Stop);
            }
        }
        if let Some(cycle) = spec.cycle.filter(|c| !c.is_zero()) {
            if p.at >= cycle {
                c.error(
                    f(PhaseField::At),
                    format!("phase at {at} is outside the cycle of {}", format_duration(cycle)),
                )
                .also(Field::Cycle)
                .hint("phases of a cycle happen at 0 <= at < cycle");
            }
        }
        if p.mix.is_none() && p.rate.is_none() && p.threads.is_none() {
            c.error(f(PhaseField::Header), "this phase changes nothing".to_owned())
                .hint("set `mix`, `rate` or `threads`");
        }
        if let Some(ramp) = p.ramp {
            if ramp.is_zero() {
                c.error(f(PhaseField::Ramp), "a ramp must be longer than 0".into())
                    .hint("leave `ramp` out to change at once");
            } else if p.rate.is_none() && p.threads.is_none() {
                c.error(
                    f(PhaseField::Ramp),
                    "`ramp` spreads a change of `rate` or `threads`; this phase changes neither".into(),
                );
            } else {
                let ramp_end = p.at.saturating_add(ramp);
                if let Some(cycle) = spec.cycle.filter(|c| !c.is_zero() && p.at < *c) {
                    if ramp_end > cycle {
                        c.error(
                            f(PhaseField::Ramp),
                            format!(
                                "the ramp ends at {}, after the cycle of {}",
                                format_duration(ramp_end),
                                format_duration(cycle)
                            ),
                        )
                        .also(Field::Cycle);
                    }
                } else if let Some(d) = end.filter(|d| p.at < *d) {
                    if ramp_end > d {
                        c.warning(
                            f(PhaseField::Ramp),
                            format!(
                                "the ramp ends at {}, after the run ends ({})",
                                format_duration(ramp_end),
                                format_duration(d)
                            ),
                        )
                        .also(Field::Stop);
                    }
                }
            }
        }
        if let Some(n) = p.threads {
            if n > MAX_GROUP_THREADS {
                c.error(
                    f(PhaseField::Threads),
                    format!("{n} threads; a group has at most {MAX_GROUP_THREADS}"),
                );
            }
        }
        if let Some(m) = p.mix {
            check_mix(c, f(PhaseField::Mix), m);
        }
        if let Some(Some(r)) = p.rate {
            check_rate_of(c, f(PhaseField::Rate), r);
        }
        for (j, q) in spec.phases[..i].iter().enumerate() {
            if q.group != p.group || q.at != p.at {
                continue;
            }
            let clash = [
                ("mix", q.mix.is_some() && p.mix.is_some()),
                ("rate", q.rate.is_some() && p.rate.is_some()),
                ("threads", q.threads.is_some() && p.threads.is_some()),
            ]
            .into_iter()
            .find(|(_, both)| *both);
            if let Some((what, _)) = clash {
                c.error(
                    f(PhaseField::Header),
                    format!("phases {} and {} both set the {what} of `{}` at {at}", j + 1, i + 1, p.group),
                )
                .also(Field::Phase(j, PhaseField::Header))
                .hint("merge them into one phase, or move one in time");
                break;
            }
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
