//! Writing a [`RunSpec`] back as a scenario file, so that a run changed by overrides can be
//! recorded, shown and re-run exactly. [`super::parse`] reads it back to an equal spec.
//!
//! The file is the `toml` crate's serialization of a mirror of the format (every key written
//! out, in the order `docs/SCENARIOS.md` lists them), so that quoting and escaping are the
//! crate's, not ours.

use serde::Serialize;

use crate::scenario::spec::{KeyChoice, Mix, PinPolicy, RunSpec, StopSpec, TIME_EVERY_AUTO};
use crate::scenario::values::format_duration;

#[derive(Serialize)]
struct File<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    seed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ops: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cycle: Option<String>,
    /// `None`: "auto", the default, left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    time_every: Option<u32>,
    spare_core: bool,
    table: Table<'a>,
    group: Vec<Group<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    phase: Vec<Phase<'a>>,
}

#[derive(Serialize)]
struct Table<'a> {
    backend: &'a str,
    capacity: usize,
    layout: &'a str,
    line_bytes: usize,
    variant: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    allocator: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    magazine: Option<u32>,
    prefill: f64,
}

#[derive(Serialize)]
struct Weights {
    lookup: u32,
    insert: u32,
    remove: u32,
}

impl From<Mix> for Weights {
    fn from(m: Mix) -> Self {
        Weights { lookup: m.lookup, insert: m.insert, remove: m.remove }
    }
}

#[derive(Serialize)]
#[serde(untagged)]
enum Keys {
    Name(&'static str),
    Zipf { zipf: f64 },
    Hot { hot: usize, share: f64 },
}

#[derive(Serialize)]
#[serde(untagged)]
enum Pin<'a> {
    Name(&'static str),
    Cores(&'a [usize]),
}

#[derive(Serialize)]
#[serde(untagged)]
enum Rate {
    PerSecond(f64),
    Closed(&'static str),
}

#[derive(Serialize)]
struct Group<'a> {
    name: &'a str,
    threads: usize,
    mix: Weights,
    keys: Keys,
    stale: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    rate: Option<f64>,
    pin: Pin<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keep: Option<usize>,
}

#[derive(Serialize)]
struct Phase<'a> {
    at: String,
    group: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    mix: Option<Weights>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rate: Option<Rate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    threads: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ramp: Option<String>,
}

/// The scenario file of `spec`, every key written out.
pub fn to_toml(spec: &RunSpec) -> String {
    let t = &spec.table;
    let file = File {
        name: &spec.name,
        description: &spec.description,
        seed: spec.seed,
        duration: match spec.stop {
            StopSpec::Duration(d) => Some(format_duration(d)),
            StopSpec::Ops(_) | StopSpec::Forever => None,
        },
        ops: match spec.stop {
            StopSpec::Ops(n) => Some(n),
            StopSpec::Duration(_) | StopSpec::Forever => None,
        },
        cycle: spec.cycle.map(format_duration),
        time_every: (spec.time_every != TIME_EVERY_AUTO).then_some(spec.time_every),
        spare_core: spec.spare_core,
        table: Table {
            backend: t.backend.name(),
            capacity: t.capacity,
            layout: t.layout.name(),
            line_bytes: t.line_bytes,
            variant: t.variant.name(),
            // The ring is the default: written only when it is not.
            allocator: t.allocator.magazine().map(|_| t.allocator.name()),
            magazine: t.allocator.magazine(),
            prefill: t.prefill,
        },
        group: spec
            .groups
            .iter()
            .map(|g| Group {
                name: &g.name,
                threads: g.threads,
                mix: g.mix.into(),
                keys: match g.keys {
                    KeyChoice::Uniform => Keys::Name("uniform"),
                    KeyChoice::Zipf { s } => Keys::Zipf { zipf: s },
                    KeyChoice::HotSet { keys, share } => Keys::Hot { hot: keys, share },
                },
                stale: g.stale_share,
                rate: g.rate,
                pin: match &g.pin {
                    PinPolicy::None => Pin::Name("none"),
                    PinPolicy::Compact => Pin::Name("compact"),
                    PinPolicy::Scatter => Pin::Name("scatter"),
                    PinPolicy::Cores(c) => Pin::Cores(c),
                },
                keep: g.keep,
            })
            .collect(),
        phase: spec
            .phases
            .iter()
            .map(|p| Phase {
                at: format_duration(p.at),
                group: &p.group,
                mix: p.mix.map(Weights::from),
                rate: p.rate.map(|r| r.map_or(Rate::Closed("closed"), Rate::PerSecond)),
                threads: p.threads,
                ramp: p.ramp.map(format_duration),
            })
            .collect(),
    };
    let body = toml::to_string(&file).unwrap_or_else(|e| format!("# could not write the scenario: {e}\n"));
    if spec.stop == StopSpec::Forever {
        format!("# no duration or ops: runs until stopped\n{body}")
    } else {
        body
    }
}
