//! Scenario files: built-ins, broken files with exact positions, resolution, the writer.
//! The machine is injected (8 cores, 0..=7) so that nothing depends on where tests run.

use std::time::Duration;

use slotscope_stress::scenario::{
    self, builtin, parse, resolve, to_toml, Diagnostic, LoadError, Scenario, ScenarioError, Severity,
    ValidationContext, BUILTINS, DEFAULT_SCENARIO,
};
use slotscope_stress::{BackendKind, KeyChoice, Mix, PinPolicy, StopSpec};
use slotscope_table::{Layout, Variant};

fn ctx() -> ValidationContext {
    ValidationContext::with_cores(0..8)
}

fn ok(text: &str) -> Scenario {
    parse(text, "test.toml", "test", &ctx()).unwrap_or_else(|e| panic!("expected no errors, got:\n{e}"))
}

fn err(text: &str) -> ScenarioError {
    match parse(text, "test.toml", "test", &ctx()) {
        Ok(s) => panic!("expected errors, got a scenario: {:?}", s.spec),
        Err(e) => e,
    }
}

/// (line, col, message) of each diagnostic.
fn positions(ds: &[Diagnostic]) -> Vec<(usize, usize, &str)> {
    ds.iter().map(|d| (d.line, d.col, d.message.as_str())).collect()
}

fn hint_of<'a>(ds: &'a [Diagnostic], message: &str) -> &'a str {
    let d = ds.iter().find(|d| d.message == message).unwrap_or_else(|| panic!("no diagnostic `{message}`"));
    d.hint.as_deref().unwrap_or("")
}

fn bad_file(name: &str) -> ScenarioError {
    let path = format!("{}/tests/data/bad/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    match parse(&text, &format!("bad/{name}"), "bad", &ctx()) {
        Ok(_) => panic!("{name} should not validate"),
        Err(e) => e,
    }
}

// ---------------------------------------------------------------------------------------------
// Built-ins

#[test]
fn every_builtin_parses_and_validates_cleanly() {
    assert!(BUILTINS.len() >= 6);
    for b in BUILTINS {
        let s = scenario::load_builtin(b.name, &ctx()).unwrap_or_else(|e| panic!("{}:\n{e}", b.name));
        assert_eq!(s.spec.name, b.name, "the `name` key matches the file name");
        assert!(s.warnings.is_empty(), "{}: {}", b.name, s.render_warnings());
        let d = b.description();
        assert!(!d.is_empty() && !d.contains('\n') && d.len() <= 200, "{}: description `{d}`", b.name);
        assert_eq!(s.spec.description, d);
        assert_eq!(s.origin, format!("scenarios/{}.toml", b.name));
        assert_eq!(s.spec.source, b.source);
    }
}

#[test]
fn builtins_are_listed_with_descriptions() {
    let list = scenario::list();
    let names: Vec<&str> = list.iter().map(|(n, _)| *n).collect();
    for must in ["demo", "read-heavy", "churn", "false-sharing", "near-full", "stale-keys"] {
        assert!(names.contains(&must), "{must} missing from {names:?}");
    }
    assert!(list.iter().all(|(_, d)| !d.is_empty()));
    assert_eq!(DEFAULT_SCENARIO, "demo");
}

#[test]
fn builtins_have_the_promised_shapes() {
    let load = |n: &str| scenario::load_builtin(n, &ctx()).unwrap().spec;

    let demo = load("demo");
    assert_eq!(demo.stop, StopSpec::Forever);
    assert_eq!(demo.table.capacity, 1024, "every slot visible on a 120x40 screen");
    assert_eq!(demo.initial_threads(), 2);
    assert_eq!(demo.cycle, Some(Duration::from_secs(60)));
    let ats: Vec<u64> = demo.phases.iter().map(|p| p.at.as_secs()).collect();
    assert_eq!(ats, [0, 10, 20, 30, 40, 50], "something changes every 10 s");

    let rh = load("read-heavy");
    assert!(rh.groups.iter().all(|g| g.mix == Mix::READ_HEAVY));
    let churn = load("churn");
    assert!(churn.groups.iter().all(|g| g.mix == Mix::CHURN));

    let fs = load("false-sharing");
    assert_eq!(fs.table.layout, Layout::Linear);
    // Two inserters on a 2-core machine, keeping their newest keys so the ids stay consecutive.
    assert_eq!(fs.groups.iter().map(|g| g.threads).sum::<usize>(), 2);
    assert!(fs.groups.iter().all(|g| g.mix.insert > 0 && g.keep.is_some()));
    // No built-in runs more worker threads than a 2-core laptop has cores.
    for name in slotscope_stress::scenario::list().iter().map(|b| b.0) {
        assert!(load(name).initial_threads() <= 2, "{name}");
    }

    assert!(load("near-full").table.prefill >= 0.95);

    let stale = load("stale-keys");
    assert!(stale.groups.iter().all(|g| g.stale_share > 0.0 && g.mix.lookup > 0 && g.mix.remove > 0));
    assert_eq!(stale.table.variant, Variant::Correct, "the bug is opted into with --variant");

    assert!(load("open-loop").groups.iter().all(|g| g.rate.is_some()));
}

#[test]
fn every_builtin_survives_a_round_trip_through_the_writer() {
    for b in BUILTINS {
        let s = scenario::load_builtin(b.name, &ctx()).unwrap();
        let text = to_toml(&s.spec);
        let again =
            parse(&text, "written.toml", "x", &ctx()).unwrap_or_else(|e| panic!("{}:\n{e}\n{text}", b.name));
        let mut expected = s.spec.clone();
        expected.source = text.clone();
        assert_eq!(again.spec, expected, "{}", b.name);
    }
}

#[test]
fn the_writer_keeps_every_kind_of_value() {
    let s = ok(r#"
        name = "all \"kinds\""
        description = "tab\there, a \\ backslash, a \u0007 belland ünïcödé"
        seed = 18446744073709551615
        ops = 1000
        time_every = 16
        spare_core = true
        [table]
        backend = "slotscope"
        capacity = 100
        layout = "padded"
        line_bytes = 128
        variant = "relaxed-ring"
        prefill = 0.1
        [[group]]
        name = "a"
        threads = 3
        mix = "3/2/1"
        keys = "hot:4:0.75"
        stale = 0.3
        rate = 12345.5
        pin = [2, 0, 1]
        [[group]]
        name = "b"
        threads = 0
        keys = { zipf = 0.7 }
        pin = "scatter"
        [[phase]]
        at = "1500ms"
        group = "b"
        threads = 2
        rate = "closed"
        ramp = "250ms"
    "#);
    let text = to_toml(&s.spec);
    let again = ok(&text);
    let mut expected = s.spec.clone();
    expected.source = text;
    assert_eq!(again.spec, expected);
    assert_eq!(s.spec.seed, u64::MAX);
    assert_eq!(s.spec.stop, StopSpec::Ops(1000));
    assert_eq!(s.spec.groups[0].pin, PinPolicy::Cores(vec![2, 0, 1]));
    assert_eq!(s.spec.groups[0].keys, KeyChoice::HotSet { keys: 4, share: 0.75 });
    assert_eq!(s.spec.phases[0].rate, Some(None));
}

// ---------------------------------------------------------------------------------------------
// Defaults and the format

#[test]
fn an_empty_file_is_the_default_run_until_stopped() {
    let s = ok("");
    assert_eq!(s.spec.name, "test", "named after the file stem");
    assert_eq!(s.spec.stop, StopSpec::Forever);
    assert_eq!(s.spec.groups.len(), 1);
    assert_eq!(s.spec.groups[0].name, "main");
    assert_eq!(s.spec.groups[0].threads, 2);
    assert_eq!(s.spec.table.backend, BackendKind::Slotscope);
    assert_eq!(s.spec.table.capacity, 1 << 16);
}

#[test]
fn every_spelling_of_values_is_read() {
    let s = ok(r#"
        duration = "1m30s"
        [table]
        capacity = 0x1000
        [[group]]
        threads = 1
        mix = { lookup = 90, remove = 10 }
        keys = "zipf:1.1"
        rate = "1.5M"
        pin = "0-1,4"
        [[group]]
        threads = 1
        mix = "exchange"
        keys = { hot = 8, share = 0.5 }
        rate = 2500
        [[phase]]
        at = "30s"
        group = "group2"
        mix = "churn"
    "#);
    let sp = &s.spec;
    assert_eq!(sp.stop, StopSpec::Duration(Duration::from_secs(90)));
    assert_eq!(sp.table.capacity, 4096);
    let g = &sp.groups;
    assert_eq!((g[0].name.as_str(), g[1].name.as_str()), ("group1", "group2"));
    assert_eq!(g[0].mix, Mix { lookup: 90, insert: 0, remove: 10 });
    assert_eq!(g[0].keys, KeyChoice::Zipf { s: 1.1 });
    assert_eq!(g[0].rate, Some(1.5e6));
    assert_eq!(g[0].pin, PinPolicy::Cores(vec![0, 1, 4]));
    assert_eq!(g[1].mix, Mix::EXCHANGE);
    assert_eq!(g[1].keys, KeyChoice::HotSet { keys: 8, share: 0.5 });
    assert_eq!(g[1].rate, Some(2500.0));
    assert_eq!(sp.phases[0].mix, Some(Mix::CHURN));
}

#[test]
fn phases_are_sorted_and_a_single_group_may_be_omitted() {
    let s = ok(r#"
        [[phase]]
        at = "20s"
        threads = 4
        [[phase]]
        at = "5s"
        mix = "churn"
    "#);
    let ats: Vec<u64> = s.spec.phases.iter().map(|p| p.at.as_secs()).collect();
    assert_eq!(ats, [5, 20]);
    assert!(s.spec.phases.iter().all(|p| p.group == "main"));
}

#[test]
fn warnings_do_not_stop_a_run() {
    let s = parse(
        "[[group]]\nthreads = 6\nstale = 0.5\nmix = \"read-only\"\n",
        "w.toml",
        "w",
        &ValidationContext::with_cores(0..2),
    )
    .unwrap();
    assert_eq!(
        positions(&s.warnings),
        [
            (2, 11, "6 worker threads on 2 cores"),
            (3, 9, "group `main` never removes, so it has no stale keys to look up")
        ]
    );
    assert!(s.warnings.iter().all(|w| w.severity == Severity::Warning));
    assert!(s.render_warnings().starts_with("w.toml:2:11: warning: 6 worker threads on 2 cores\n"));
}

// ---------------------------------------------------------------------------------------------
// Broken files

#[test]
fn a_near_miss_key_is_pointed_at_with_a_suggestion() {
    let e = bad_file("near_miss_key.toml");
    assert_eq!(positions(&e.errors), [(6, 1, "unknown key `thread` in `[[group]]`")]);
    assert_eq!(e.errors[0].hint.as_deref(), Some("did you mean `threads`?"));
    assert_eq!(
        e.to_string(),
        "bad/near_miss_key.toml:6:1: error: unknown key `thread` in `[[group]]`\n   |\n 6 | thread = 4\n   | \
         ^^^^^^\n   = hint: did you mean `threads`?\n"
    );
}

#[test]
fn syntax_errors_are_all_reported_with_positions() {
    let e = bad_file("syntax.toml");
    assert_eq!(
        positions(&e.errors),
        [
            (1, 21, "invalid basic string, expected `\"`"),
            (3, 10, "missing value after `=`"),
            (4, 7, "unclosed table, expected `]`"),
        ]
    );
    assert!(e.to_string().ends_with("\n3 errors in bad/syntax.toml\n"));
}

#[test]
fn semantic_errors_are_reported_together_at_their_values() {
    let e = bad_file("semantic.toml");
    assert_eq!(
        positions(&e.errors),
        [
            (6, 12, "capacity 0 is out of range"),
            (7, 14, "`line_bytes` must be 64 or 128, not 96"),
            (8, 11, "`prefill` must be between 0 and 1, not 1.5"),
            (12, 11, "group `readers` has 2000 threads; at most 1024"),
            (13, 7, "the mix weights are all zero"),
            (14, 14, "the zipf exponent must be more than 0, not -1"),
            (15, 9, "`stale` must be between 0 and 1, not 2"),
            (16, 9, "a rate must be more than 0 ops/s, not 0"),
            (17, 12, "core 9 does not exist on this machine"),
            (20, 8, "two groups are named `readers`"),
            (24, 6, "phase at 40s never runs: the run ends at 30s"),
            (25, 9, "no group named `reader`"),
        ]
    );
    assert_eq!(hint_of(&e.errors, "core 9 does not exist on this machine"), "cores here: 0-7");
    assert_eq!(hint_of(&e.errors, "no group named `reader`"), "did you mean `readers`?");
    // The caret is as wide as the value.
    let text = e.to_string();
    assert!(text.contains(" 13 | mix = { lookup = 0, insert = 0, remove = 0 }\n    |       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"), "{text}");
    assert!(text.contains(" 17 | pin = \"0-3,9\"\n    |            ^\n"), "{text}");
}

#[test]
fn misplaced_keys_say_where_they_belong() {
    let e = bad_file("misplaced.toml");
    assert_eq!(
        positions(&e.errors),
        [
            (2, 1, "unknown key `threads` at the top level"),
            (6, 1, "unknown key `duration` in `[table]`"),
            (8, 1, "`group` is a list: write `[[group]]` (double brackets) for each group"),
            (13, 1, "unknown key `keys` in `[[phase]]`"),
        ]
    );
    assert_eq!(
        hint_of(&e.errors, "unknown key `threads` at the top level"),
        "`threads` belongs in a `[[group]]`"
    );
    assert!(hint_of(&e.errors, "unknown key `duration` in `[table]`")
        .starts_with("`duration` is a top-level key"));
    assert!(hint_of(&e.errors, "unknown key `keys` in `[[phase]]`").contains("cannot change in a phase"));
}

#[test]
fn wrong_types_and_unknown_names_are_explained() {
    let e = bad_file("types.toml");
    assert_eq!(
        positions(&e.errors),
        [
            (1, 8, "`name` must be a string, found integer `7`"),
            (2, 12, "`duration` needs a unit, found number `30`"),
            (3, 8, "`seed` cannot be negative, found -1"),
            (4, 14, "`spare_core` must be true or false, found string \"yes\""),
            (7, 12, "`capacity` must be a whole number, found string \"4096\""),
            (8, 10, "unknown layout `linaer`"),
            (9, 11, "unknown backend `dash-map`"),
            (10, 11, "`prefill` must be a number, found string \"50%\""),
            (13, 11, "`threads` must be a whole number, found float `2.5`"),
            (14, 8, "a mix has three weights, found 2"),
            (15, 8, "a hot set needs `share`: the fraction of lookups that go to it"),
            (16, 12, "`m` is ambiguous in a count"),
            (17, 8, "unknown pin policy `compat`"),
        ]
    );
    let h = |m| hint_of(&e.errors, m);
    assert_eq!(
        h("`duration` needs a unit, found number `30`"),
        "write a string with a unit: duration = \"30s\" (or ms, m, h)"
    );
    assert_eq!(
        h("`capacity` must be a whole number, found string \"4096\""),
        "write it without quotes: capacity = 4096"
    );
    assert_eq!(h("unknown layout `linaer`"), "did you mean `linear`?");
    assert_eq!(h("unknown backend `dash-map`"), "did you mean `dashmap`?");
    assert_eq!(h("`prefill` must be a number, found string \"50%\""), "write a fraction: prefill = 0.5");
    assert_eq!(h("unknown pin policy `compat`"), "did you mean `compact`?");
}

#[test]
fn phase_errors_and_warnings() {
    let e = bad_file("phases.toml");
    assert_eq!(
        positions(&e.errors),
        [
            (17, 1, "phases 1 and 2 both set the mix of `writers` at 10s"),
            (26, 8, "`ramp` spreads a change of `rate` or `threads`; this phase changes neither"),
            (28, 1, "this phase has no `group`, and there are several"),
        ]
    );
    assert_eq!(
        hint_of(&e.errors, "this phase has no `group`, and there are several"),
        "add group = \"writers\" (groups: writers, readers)"
    );
    assert_eq!(positions(&e.warnings), [(36, 8, "the ramp ends at 70s, after the run ends (1m)")]);
}

#[test]
fn cycle_rules() {
    let e = err(r#"
cycle = "30s"
[[phase]]
at = "40s"
mix = "churn"
[[phase]]
at = "20s"
threads = 3
ramp = "15s"
"#);
    assert_eq!(
        positions(&e.errors),
        [
            (4, 6, "phase at 40s is outside the cycle of 30s"),
            (9, 8, "the ramp ends at 35s, after the cycle of 30s")
        ]
    );
    let s = ok("cycle = \"1m\"\n");
    assert_eq!(positions(&s.warnings), [(1, 9, "`cycle` repeats the phases, but there are none")]);
}

#[test]
fn stop_rules() {
    let e = err("ops = 10\nduration = \"5s\"\n");
    assert_eq!(positions(&e.errors), [(2, 12, "`duration` and `ops` are both set")]);
    let e = err("duration = \"0s\"\n");
    assert_eq!(positions(&e.errors), [(1, 12, "the duration must be more than 0")]);
    let e = err("ops = 0\n");
    assert_eq!(positions(&e.errors), [(1, 7, "`ops` must be at least 1 (operations per thread)")]);
    let e = err("duration = \"10x\"\n");
    assert_eq!(positions(&e.errors), [(1, 15, "unknown time unit `x`")]);
}

#[test]
fn table_rules() {
    let e = err("[table]\nbackend = \"dashmap\"\nvariant = \"no-generation-check\"\n");
    assert_eq!(
        positions(&e.errors),
        [(3, 11, "variant `no-generation-check` exists only in the slotscope backend, not `dashmap`")]
    );
    let s = ok("[table]\nbackend = \"dashmap\"\nlayout = \"linear\"\n");
    assert_eq!(
        positions(&s.warnings),
        [(3, 10, "`layout` applies to the slotscope backend only; `dashmap` ignores it")]
    );
    let e = err("[table]\ncapacity = 134217729\n");
    assert_eq!(positions(&e.errors), [(2, 12, "capacity 134217729 is out of range")]);
    ok("[table]\ncapacity = 134217728\n");
    ok("[table]\ncapacity = 1\n");
    let e = err("[table]\nvariant = \"relaxed\"\n");
    assert_eq!(hint_of(&e.errors, "unknown variant `relaxed`"), "did you mean `relaxed-ring`?");
    let e = err("[[table]]\ncapacity = 4\n");
    assert_eq!(positions(&e.errors), [(1, 1, "there is one table: write `[table]`, not `[[table]]`")]);
}

#[test]
fn group_rules() {
    let e = err("[[group]]\nthreads = 0\n");
    assert_eq!(positions(&e.errors), [(2, 11, "the run has no threads: every group starts with 0")]);
    let e = err("[table]\ncapacity = 64\n[[group]]\nkeys = { hot = 100, share = 0.5 }\n");
    assert_eq!(positions(&e.errors), [(4, 16, "a hot set of 100 keys is larger than the table (64 slots)")]);
    let e = err("[[group]]\nkeys = { hot = 4, share = 2 }\n");
    assert_eq!(positions(&e.errors), [(2, 27, "the hot share must be between 0 and 1, not 2")]);
    let e = err("[[group]]\nkeys = \"hot:4:2\"\n");
    assert_eq!(positions(&e.errors), [(2, 15, "the hot share must be between 0 and 1, not 2")]);
    let e = err("[[group]]\npin = [0, 1, 1, 12]\n");
    assert_eq!(
        positions(&e.errors),
        [(2, 14, "core 1 is listed twice"), (2, 17, "core 12 does not exist on this machine")]
    );
    let e = err("[[group]]\nname = \"a b\"\n");
    assert_eq!(positions(&e.errors), [(2, 8, "group name `a b` contains ' '")]);
    let e = err("[[group]]\nmix = { lookup = 1, insrt = 2 }\n");
    assert_eq!(positions(&e.errors), [(2, 21, "unknown key `insrt` in a mix")]);
    assert_eq!(e.errors[0].hint.as_deref(), Some("did you mean `insert`?"));
    let e = err("[[group]]\nrate = \"fast\"\n");
    assert_eq!(positions(&e.errors), [(2, 9, "`fast` is not a rate")]);
    assert_eq!(e.errors[0].span.len(), 4);
    let e = err("[group]\nthreads = 1\n");
    assert_eq!(
        positions(&e.errors),
        [(1, 1, "`group` is a list: write `[[group]]` (double brackets) for each group")]
    );
    let e = err("group = []\n");
    assert_eq!(positions(&e.errors), [(1, 9, "there are no thread groups")]);
}

#[test]
fn unknown_top_level_keys_suggest_or_list() {
    let e = err("durtion = \"10s\"\nfoo = 1\n");
    assert_eq!(
        positions(&e.errors),
        [(1, 1, "unknown key `durtion` at the top level"), (2, 1, "unknown key `foo` at the top level")]
    );
    assert_eq!(e.errors[0].hint.as_deref(), Some("did you mean `duration`?"));
    assert!(e.errors[1].hint.as_deref().unwrap().starts_with("expected one of: name, description, seed"));
}

// ---------------------------------------------------------------------------------------------
// Resolution

#[test]
fn resolve_finds_builtins_files_and_explains_unknown_names() {
    assert_eq!(resolve("churn", &ctx()).unwrap().spec.name, "churn");

    match resolve("dem", &ctx()) {
        Err(e @ LoadError::Unknown { suggestion: Some("demo"), .. }) => {
            let text = e.to_string();
            assert!(text.starts_with(
                "error: no built-in scenario or file named `dem`\n  hint: did you mean `demo`?"
            ));
            assert!(text.contains("built-in scenarios: demo, read-heavy, churn"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(resolve("zzzzzz", &ctx()), Err(LoadError::Unknown { suggestion: None, .. })));

    let dir = std::env::temp_dir().join(format!("slotscope-scenario-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("mine.toml");
    std::fs::write(&file, "duration = \"3s\"\n").unwrap();
    let s = resolve(file.to_str().unwrap(), &ctx()).unwrap();
    assert_eq!(s.spec.name, "mine");
    assert_eq!(s.spec.stop, StopSpec::Duration(Duration::from_secs(3)));
    std::fs::write(&file, "duration = 3\n").unwrap();
    match resolve(file.to_str().unwrap(), &ctx()) {
        Err(LoadError::Invalid(e)) => {
            assert_eq!(e.origin, file.display().to_string());
            assert_eq!(positions(&e.errors), [(1, 12, "`duration` needs a unit, found number `3`")]);
        }
        other => panic!("{other:?}"),
    }
    let missing = dir.join("missing.toml");
    assert!(matches!(resolve(missing.to_str().unwrap(), &ctx()), Err(LoadError::Io { .. })));
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(builtin("demo").is_some() && builtin("nope").is_none());
}

#[test]
fn the_documented_example_is_valid() {
    let doc =
        std::fs::read_to_string(format!("{}/../docs/SCENARIOS.md", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let start = doc.find("```toml\n").expect("an example") + "```toml\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let s = ok(&doc[start..end]);
    assert!(s.warnings.is_empty(), "{}", s.render_warnings());
    assert_eq!(s.spec.name, "example");
    assert_eq!(s.spec.groups.len(), 2);
    assert_eq!(s.spec.phases.len(), 2);
    assert_eq!(s.spec.seed, 42);
}

/// Untrusted sizes: a file of many errors reports the first few and how many more; a line of a
/// megabyte is shown as a window around the error; control bytes never reach the terminal.
#[test]
fn huge_and_hostile_files_give_bounded_reports() {
    let mut text = String::from("name = \"many\"\n");
    for i in 0..2000 {
        text.push_str(&format!("unknown_key_{i} = {i}\n"));
    }
    let e = parse(&text, "many.toml", "many", &ctx()).unwrap_err();
    assert_eq!(e.errors.len(), 2000, "every error is counted");
    let shown = e.to_string();
    assert_eq!(shown.matches("error: unknown key").count(), scenario::MAX_ERRORS_SHOWN, "{shown}");
    assert!(shown.contains("... and 1980 more errors"), "{shown}");

    let line = format!("{}\n", "[".repeat(1 << 20));
    let e = parse(&line, "brackets.toml", "b", &ctx()).unwrap_err();
    let shown = e.to_string();
    assert!(shown.lines().all(|l| l.chars().count() <= scenario::MAX_LINE_SHOWN + 16), "{}", &shown[..400]);
    assert!(shown.len() < 10_000, "{} bytes of report for one line", shown.len());

    let e = parse("name = \"x\"\nbad\u{0}key = 1\n", "nul.toml", "n", &ctx()).unwrap_err();
    let shown = e.to_string();
    assert!(!shown.contains('\u{0}'), "no NUL echoed: {shown:?}");
}
