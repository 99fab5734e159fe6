//! Writing a [`RunSpec`] back as a scenario file, so that a run changed by overrides can be
//! recorded, shown and re-run exactly. [`super::parse`] reads it back to an equal spec.

use std::fmt::Write as _;

use crate::scenario::spec::{KeyChoice, Mix, PinPolicy, RunSpec, StopSpec};
use crate::scenario::values::format_duration;

/// The scenario file of `spec`, every key written out.
pub fn to_toml(spec: &RunSpec) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "name = {}", string(&spec.name));
    if !spec.description.is_empty() {
        let _ = writeln!(w, "description = {}", string(&spec.description));
    }
    let _ = writeln!(w, "seed = {}", spec.seed);
    match spec.stop {
        StopSpec::Duration(d) => {
            let _ = writeln!(w, "duration = \"{}\"", format_duration(d));
        }
        StopSpec::Ops(n) => {
            let _ = writeln!(w, "ops = {n}");
        }
        StopSpec::Forever => {
            let _ = writeln!(w, "# no duration or ops: runs until stopped");
        }
    }
    if let Some(c) = spec.cycle {
        let _ = writeln!(w, "cycle = \"{}\"", format_duration(c));
    }
    let _ = writeln!(w, "time_every = {}", spec.time_every);
    let _ = writeln!(w, "spare_core = {}", spec.spare_core);

    let t = &spec.table;
    let _ = writeln!(w, "\n[table]");
    let _ = writeln!(w, "backend = \"{}\"", t.backend.name());
    let _ = writeln!(w, "capacity = {}", t.capacity);
    let _ = writeln!(w, "layout = \"{}\"", t.layout.name());
    let _ = writeln!(w, "line_bytes = {}", t.line_bytes);
    let _ = writeln!(w, "variant = \"{}\"", t.variant.name());
    let _ = writeln!(w, "prefill = {}", float(t.prefill));

    for g in &spec.groups {
        let _ = writeln!(w, "\n[[group]]");
        let _ = writeln!(w, "name = {}", string(&g.name));
        let _ = writeln!(w, "threads = {}", g.threads);
        let _ = writeln!(w, "mix = {}", mix(g.mix));
        let keys = match g.keys {
            KeyChoice::Uniform => "\"uniform\"".to_owned(),
            KeyChoice::Zipf { s } => format!("{{ zipf = {} }}", float(s)),
            KeyChoice::HotSet { keys, share } => format!("{{ hot = {keys}, share = {} }}", float(share)),
        };
        let _ = writeln!(w, "keys = {keys}");
        let _ = writeln!(w, "stale = {}", float(g.stale_share));
        if let Some(r) = g.rate {
            let _ = writeln!(w, "rate = {}", float(r));
        }
        let pin = match &g.pin {
            PinPolicy::None => "\"none\"".to_owned(),
            PinPolicy::Compact => "\"compact\"".to_owned(),
            PinPolicy::Scatter => "\"scatter\"".to_owned(),
            PinPolicy::Cores(c) => {
                format!("[{}]", c.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
            }
        };
        let _ = writeln!(w, "pin = {pin}");
    }

    for p in &spec.phases {
        let _ = writeln!(w, "\n[[phase]]");
        let _ = writeln!(w, "at = \"{}\"", format_duration(p.at));
        let _ = writeln!(w, "group = {}", string(&p.group));
        if let Some(m) = p.mix {
            let _ = writeln!(w, "mix = {}", mix(m));
        }
        match p.rate {
            Some(Some(r)) => {
                let _ = writeln!(w, "rate = {}", float(r));
            }
            Some(None) => {
                let _ = writeln!(w, "rate = \"closed\"");
            }
            None => {}
        }
        if let Some(n) = p.threads {
            let _ = writeln!(w, "threads = {n}");
        }
        if let Some(r) = p.ramp {
            let _ = writeln!(w, "ramp = \"{}\"", format_duration(r));
        }
    }
    out
}

fn mix(m: Mix) -> String {
    format!("{{ lookup = {}, insert = {}, remove = {} }}", m.lookup, m.insert, m.remove)
}

/// A TOML float that reads back to exactly `v` (Rust's shortest round-trip form).
fn float(v: f64) -> String {
    if v.is_nan() {
        "nan".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.to_owned()
    } else {
        format!("{v:?}")
    }
}

/// A TOML basic string.
fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
