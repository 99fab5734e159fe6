//! `check --emit-test DIR`: a finding as a self-contained Rust test on the `slotscope-table`
//! API.
//!
//! The output is a tiny crate: `DIR/Cargo.toml` (package `slotscope-repro`, depending on
//! `slotscope-table` by path, with an empty `[workspace]` so that it builds on its own) and
//! `DIR/tests/repro.rs`. Run it with `cargo test --manifest-path DIR/Cargo.toml`.
//!
//! - A finding one thread can show on a broken table (a stale read, another key's value, a
//!   stale remove) becomes a **sequential** test: the window's ops on the keys involved, in
//!   completion order, on a fresh table of the recorded shape, layout and variant. Each insert
//!   is steered into the slot the recorded key had (fillers are inserted and removed until the
//!   table hands out that slot), and each result is asserted against the sequential model of a
//!   correct table. The first failing assertion is the recorded violation.
//! - Anything else needs a race (lost inserts, duplicate keys, false `Full`, counts): the test
//!   runs the recorded number of threads in a loop of insert / look up / remove on a table of
//!   the recorded shape kept nearly full (so freed ids are reused at once), checking every
//!   result and the counts at quiescence, for a bounded number of rounds. It fails when the
//!   race shows, which on a correct table it never does.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use super::check::Finding;
use super::{History, Segment};
use crate::op::OpKind;
use crate::op::OpOutcome;

/// Rounds per thread of an emitted race test.
pub const RACE_ROUNDS: u64 = 1_000_000;
/// Most ops replayed by an emitted sequential test.
pub const MAX_SEQUENTIAL_OPS: usize = 200;

/// How the emitted test reproduces the finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReproMode {
    /// One thread, the recorded ops in order.
    Sequential,
    /// Threads racing in a loop.
    Race,
}

/// What was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmittedTest {
    /// The crate's directory.
    pub dir: PathBuf,
    /// Sequential or race.
    pub mode: ReproMode,
    /// The command that runs it.
    pub command: String,
}

/// Writes `finding` of `history` as a test crate into `dir` (created if needed), depending on
/// the `slotscope-table` crate at `table_path`.
///
/// # Errors
/// When the finding is not on our table (no geometry), or a file cannot be written.
pub fn emit_test(
    history: &History,
    finding: &Finding,
    timeline: &str,
    dir: &Path,
    table_path: &Path,
) -> io::Result<EmittedTest> {
    let seg = history.segments.iter().find(|s| s.index == finding.segment).ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "the finding's table segment is not in the history")
    })?;
    let begin = seg
        .begin
        .as_ref()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the segment has no table description"))?;
    let g = begin.geometry.ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "tests can only be emitted for the slotscope backend (this segment ran {})",
                begin.backend
            ),
        )
    })?;
    let mode = if finding.kind.is_sequential() && finding.op.is_some() {
        ReproMode::Sequential
    } else {
        ReproMode::Race
    };
    let mut src = String::new();
    let _ = writeln!(src, "//! Reproduces a violation that `slotscope check` found in a recorded run.");
    let _ = writeln!(src, "//!");
    let _ = writeln!(
        src,
        "//! Scenario `{}`, seed {}, table {} ({} slots, {} layout, {} B lines), variant `{}`.",
        history.header.scenario,
        history.header.seed,
        begin.description,
        g.capacity(),
        g.layout(),
        g.line_bytes(),
        begin.variant
    );
    if !history.header.command.is_empty() {
        let _ = writeln!(src, "//! Recorded with: {}", history.header.command);
    }
    let _ = writeln!(src, "//!");
    let _ = writeln!(src, "//! Finding: {} — {}", finding.kind.name(), finding.message);
    let _ = writeln!(src, "//!");
    let _ = writeln!(src, "//! The recorded window:");
    let _ = writeln!(src, "//!");
    let _ = writeln!(src, "//! ```text");
    for line in timeline.lines() {
        let _ = writeln!(src, "//! {line}");
    }
    let _ = writeln!(src, "//! ```");
    let _ = writeln!(src, "//!");
    match mode {
        ReproMode::Sequential => {
            let _ = writeln!(
                src,
                "//! Replayed on one thread, in completion order; every result is asserted against a"
            );
            let _ = writeln!(
                src,
                "//! correct table. It fails on the variant above and passes on `Variant::Correct`."
            );
        }
        ReproMode::Race => {
            let _ = writeln!(
                src,
                "//! A race: threads insert, look up and remove on a nearly full table for a bounded"
            );
            let _ = writeln!(
                src,
                "//! number of rounds, checking every result. It fails when the race shows (on the"
            );
            let _ = writeln!(
                src,
                "//! variant above, usually within the first rounds) and passes on `Variant::Correct`."
            );
        }
    }
    let _ = writeln!(src);
    let _ = writeln!(src, "// Generated code: some keys are bound for the record's sake only.");
    let _ = writeln!(src, "#![allow(unused_variables)]");
    let _ = writeln!(src);
    let imports = match mode {
        ReproMode::Sequential => "Key, Layout, Table, Variant",
        ReproMode::Race => "Layout, Table, Variant",
    };
    let _ = writeln!(src, "use slotscope_table::{{{imports}}};");
    let _ = writeln!(src);
    let _ = writeln!(src, "const CAPACITY: usize = {};", g.capacity());
    let _ = writeln!(src, "const LAYOUT: Layout = Layout::{};", layout_ident(g.layout()));
    let _ = writeln!(src, "const LINE_BYTES: usize = {};", g.line_bytes());
    let _ = writeln!(src, "/// The recorded variant. Change it to `Variant::Correct` to see the test pass.");
    let _ = writeln!(src, "const VARIANT: Variant = Variant::{};", variant_ident(begin.variant));
    let _ = writeln!(src);
    let _ = writeln!(src, "/// (thread, seq) of the insert that stored a value, as in the recording.");
    let _ = writeln!(src, "type Value = (u64, u64);");
    let _ = writeln!(src);
    let _ = writeln!(src, "fn table() -> Table<Value> {{");
    let _ = writeln!(src, "    Table::builder().capacity(CAPACITY).layout(LAYOUT).line_bytes(LINE_BYTES).variant(VARIANT).build().unwrap()");
    let _ = writeln!(src, "}}");
    let _ = writeln!(src);
    match mode {
        ReproMode::Sequential => sequential_body(&mut src, seg, finding),
        ReproMode::Race => race_body(&mut src, seg, finding),
    }
    std::fs::create_dir_all(dir.join("tests"))?;
    let manifest = format!(
        "[package]\nname = \"slotscope-repro\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         # Written by `slotscope check --emit-test`.\n[dependencies]\nslotscope-table = {{ path = {} }}\n\n\
         # Not part of any enclosing workspace.\n[workspace]\n",
        toml_string(&table_path.display().to_string())
    );
    write_atomically(&dir.join("Cargo.toml"), &manifest)?;
    // The lock file of the table's workspace, if there is one, pins the same dependency
    // versions (cargo drops the entries the test does not need).
    if let Some(lock) = table_path.parent().map(|p| p.join("Cargo.lock")).filter(|p| p.is_file()) {
        std::fs::copy(&lock, dir.join("Cargo.lock"))?;
    }
    write_atomically(&dir.join("tests").join("repro.rs"), &src)?;
    Ok(EmittedTest {
        dir: dir.to_path_buf(),
        mode,
        command: format!("cargo test --manifest-path {}", dir.join("Cargo.toml").display()),
    })
}

fn layout_ident(l: slotscope_table::Layout) -> &'static str {
    match l {
        slotscope_table::Layout::Interleaved => "Interleaved",
        slotscope_table::Layout::Linear => "Linear",
        slotscope_table::Layout::Padded => "Padded",
    }
}

fn variant_ident(v: slotscope_table::Variant) -> &'static str {
    match v {
        slotscope_table::Variant::Correct => "Correct",
        slotscope_table::Variant::NoGenerationCheck => "NoGenerationCheck",
        slotscope_table::Variant::RelaxedRing => "RelaxedRing",
    }
}

fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

/// The ops a sequential replay needs: on every key involved, from the insert that made the
/// involved incarnation live to the illegal op, in completion order.
fn sequential_ops(seg: &Segment, finding: &Finding) -> Vec<usize> {
    let ops = &seg.ops;
    let (bad, evidence) = seg.positions(finding);
    let Some(bad) = bad else { return Vec::new() };
    let mut keys: Vec<u64> = evidence.iter().chain([&bad]).filter_map(|&i| ops[i].key).collect();
    keys.extend(finding.key);
    keys.sort_unstable();
    keys.dedup();
    let horizon = ops[bad].end;
    let mut chosen = Vec::new();
    for &k in &keys {
        let on_key: Vec<usize> = (0..ops.len())
            .filter(|&i| ops[i].key == Some(k) && ops[i].acted() && ops[i].end <= horizon)
            .collect();
        // From the last insert of this key that is involved, or else the last one before the
        // illegal op started.
        let from = on_key
            .iter()
            .copied()
            .filter(|&i| {
                ops[i].outcome == OpOutcome::Inserted
                    && (evidence.contains(&i) || ops[i].end < ops[bad].start)
            })
            .max_by_key(|&i| (evidence.contains(&i), ops[i].end))
            .map_or(0, |i| ops[i].end);
        chosen.extend(on_key.into_iter().filter(|&i| ops[i].end >= from || i == bad));
    }
    chosen.extend(evidence.iter().copied());
    chosen.push(bad);
    chosen.sort_by_key(|&i| (ops[i].end, ops[i].event));
    chosen.dedup();
    if chosen.len() > MAX_SEQUENTIAL_OPS {
        // Keep the inserts, which the rest depend on, and the latest others.
        let keep_from = chosen.len() - MAX_SEQUENTIAL_OPS;
        chosen = chosen
            .iter()
            .enumerate()
            .filter(|&(n, &i)| n >= keep_from || ops[i].outcome == OpOutcome::Inserted)
            .map(|(_, &i)| i)
            .collect();
    }
    chosen
}

fn sequential_body(src: &mut String, seg: &Segment, finding: &Finding) {
    let ops = &seg.ops;
    let keys = seg.key_text();
    let _ = writeln!(
        src,
        "/// Inserts `value` so that it lands in `slot`, as the recorded key did: inserts fillers"
    );
    let _ = writeln!(src, "/// until the table hands out that slot, then removes them again.");
    let _ = writeln!(src, "fn insert_into_slot(t: &Table<Value>, slot: usize, value: Value) -> Key {{");
    let _ = writeln!(src, "    let mut fillers = Vec::new();");
    let _ = writeln!(src, "    for _ in 0..=CAPACITY {{");
    let _ = writeln!(src, "        let key = t.insert(value).expect(\"the table is full\");");
    let _ = writeln!(src, "        if key.slot() == slot {{");
    let _ = writeln!(src, "            for f in fillers {{");
    let _ = writeln!(src, "                assert!(t.remove(f), \"removing a filler\");");
    let _ = writeln!(src, "            }}");
    let _ = writeln!(src, "            return key;");
    let _ = writeln!(src, "        }}");
    let _ = writeln!(src, "        fillers.push(key);");
    let _ = writeln!(src, "    }}");
    let _ = writeln!(src, "    panic!(\"slot {{slot}} never came free\");");
    let _ = writeln!(src, "}}");
    let _ = writeln!(src);
    let _ = writeln!(src, "#[test]");
    let _ = writeln!(src, "fn recorded_window_replays_on_one_thread() {{");
    let _ = writeln!(src, "    let t = table();");
    let mut var_of: HashMap<u64, usize> = HashMap::new();
    let mut live: HashMap<usize, Option<(u64, u64)>> = HashMap::new();
    let mut next_var = 0;
    let bad = seg.positions(finding).0;
    for i in sequential_ops(seg, finding) {
        let o = &ops[i];
        let marker = if bad == Some(i) { "  <- the violation" } else { "" };
        let _ = writeln!(src, "    // {}: recorded {}{marker}", o.label(), o.describe(keys));
        let key_expr = |var_of: &HashMap<u64, usize>, k: u64| match var_of.get(&k) {
            Some(v) => format!("k{v}"),
            None => format!("Key::from_bits({k:#x})"),
        };
        match (o.kind, o.outcome) {
            (OpKind::Insert, OpOutcome::Inserted) => {
                let Some(k) = o.key else { continue };
                let v = o.value.map_or((u64::MAX, o.event), |v| (v.thread, v.seq));
                let slot = slotscope_table::Key::from_bits(k).slot();
                let _ =
                    writeln!(src, "    let k{next_var} = insert_into_slot(&t, {slot}, ({}, {}));", v.0, v.1);
                var_of.insert(k, next_var);
                live.insert(next_var, Some(v));
                next_var += 1;
            }
            (OpKind::Insert, _) => {
                let _ = writeln!(src, "    // (a refused insert changes nothing sequentially)");
            }
            (OpKind::Lookup, _) => {
                let Some(k) = o.key else { continue };
                let expected = var_of.get(&k).and_then(|v| live.get(v).copied().flatten());
                let expr = key_expr(&var_of, k);
                let exp = expected.map_or_else(|| "None".to_owned(), |(a, b)| format!("Some(({a}, {b}))"));
                let why = if expected.is_some() {
                    "a live key finds its own value"
                } else {
                    "a removed (stale) key must find nothing"
                };
                let _ = writeln!(src, "    assert_eq!(t.get({expr}), {exp}, \"{}: {why}\");", o.label());
            }
            (OpKind::Remove, _) => {
                let Some(k) = o.key else { continue };
                let var = var_of.get(&k).copied();
                let expected = var.and_then(|v| live.get(&v).copied().flatten()).is_some();
                let expr = key_expr(&var_of, k);
                let why =
                    if expected { "a live key is removed" } else { "a removed (stale) key removes nothing" };
                let not = if expected { "" } else { "!" };
                let _ = writeln!(src, "    assert!({not}t.remove({expr}), \"{}: {why}\");", o.label());
                if let Some(v) = var {
                    live.insert(v, None);
                }
            }
        }
    }
    let _ = writeln!(src, "}}");
}

fn race_body(src: &mut String, seg: &Segment, finding: &Finding) {
    let threads =
        seg.threads.len().max(seg.ops.iter().map(|o| o.thread as usize + 1).max().unwrap_or(0)).clamp(2, 8);
    let _ = writeln!(src, "const THREADS: u64 = {threads};");
    let _ =
        writeln!(src, "/// Rounds of insert / look up / remove per thread (bounded: the test always ends).");
    let _ = writeln!(src, "const ROUNDS: u64 = {RACE_ROUNDS};");
    let _ = writeln!(
        src,
        "/// Free slots left while racing: few, so that a freed id is handed out again at once."
    );
    let _ = writeln!(src, "const KEEP_FREE: usize = 2 * THREADS as usize;");
    let _ = writeln!(src);
    let _ = writeln!(src, "#[test]");
    let _ = writeln!(src, "fn recorded_race_reproduces() {{");
    let _ = writeln!(src, "    // Recorded: {}", finding.kind.name());
    let _ = writeln!(src, "    let t = table();");
    let _ = writeln!(src, "    let mut fillers = Vec::new();");
    let _ = writeln!(src, "    while fillers.len() < CAPACITY - KEEP_FREE {{");
    let _ = writeln!(src, "        fillers.push(t.insert((u64::MAX, fillers.len() as u64)).unwrap());");
    let _ = writeln!(src, "    }}");
    let _ = writeln!(src, "    // Set by the first thread that sees a problem: the others stop too.");
    let _ = writeln!(src, "    let seen = std::sync::atomic::AtomicBool::new(false);");
    let _ = writeln!(src, "    let problems: Vec<String> = std::thread::scope(|s| {{");
    let _ = writeln!(src, "        let handles: Vec<_> = (0..THREADS)");
    let _ = writeln!(src, "            .map(|me| {{");
    let _ = writeln!(src, "                let (t, seen) = (&t, &seen);");
    let _ = writeln!(src, "                s.spawn(move || {{");
    let _ = writeln!(src, "                    let problem = |p: String| {{");
    let _ = writeln!(src, "                        seen.store(true, std::sync::atomic::Ordering::Relaxed);");
    let _ = writeln!(src, "                        Some(p)");
    let _ = writeln!(src, "                    }};");
    let _ = writeln!(src, "                    for round in 0..ROUNDS {{");
    let _ = writeln!(src, "                        if seen.load(std::sync::atomic::Ordering::Relaxed) {{");
    let _ = writeln!(src, "                            return None;");
    let _ = writeln!(src, "                        }}");
    let _ = writeln!(src, "                        let value = (me, round);");
    let _ = writeln!(src, "                        // Full is legal here: other threads hold claims.");
    let _ = writeln!(src, "                        let Ok(key) = t.insert(value) else {{ continue }};");
    let _ = writeln!(src, "                        if t.get(key) != Some(value) {{");
    let _ = writeln!(src, "                            return problem(format!(\"thread {{me}} round {{round}}: lost insert: {{key}} -> {{:?}}\", t.get(key)));");
    let _ = writeln!(src, "                        }}");
    let _ = writeln!(src, "                        if !t.remove(key) {{");
    let _ = writeln!(src, "                            return problem(format!(\"thread {{me}} round {{round}}: removing live key {{key}} failed\"));");
    let _ = writeln!(src, "                        }}");
    let _ = writeln!(src, "                        if let Some(v) = t.get(key) {{");
    let _ = writeln!(src, "                            return problem(format!(\"thread {{me}} round {{round}}: removed key {{key}} still finds {{v:?}}\"));");
    let _ = writeln!(src, "                        }}");
    let _ = writeln!(src, "                    }}");
    let _ = writeln!(src, "                    None");
    let _ = writeln!(src, "                }})");
    let _ = writeln!(src, "            }})");
    let _ = writeln!(src, "            .collect();");
    let _ = writeln!(src, "        handles.into_iter().filter_map(|h| h.join().unwrap()).collect()");
    let _ = writeln!(src, "    }});");
    let _ = writeln!(src, "    assert!(problems.is_empty(), \"{{}}\", problems.join(\"\\n\"));");
    let _ = writeln!(src, "    // At quiescence: the count balances and every filler is still there.");
    let _ = writeln!(src, "    assert_eq!(t.len(), fillers.len(), \"len() at quiescence\");");
    let _ = writeln!(src, "    for (i, k) in fillers.iter().enumerate() {{");
    let _ =
        writeln!(src, "        assert_eq!(t.get(*k), Some((u64::MAX, i as u64)), \"filler {{i}} ({{k}})\");");
    let _ = writeln!(src, "    }}");
    let _ = writeln!(src, "}}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_quoted_for_toml() {
        assert_eq!(toml_string(r#"C:\a "b""#), r#""C:\\a \"b\"""#);
    }
}
