use std::time::Duration;

use super::*;

fn ctx() -> ValidationContext {
    ValidationContext::with_cores(0..2)
}

/// The first line of each error, as `slotscope` prints them.
fn errors(text: &str) -> Vec<String> {
    match parse(text, "my.toml", "my", None, &ctx()) {
        Ok(_) => Vec::new(),
        Err(e) => e.errors.iter().map(|d| format!("{}:{}: {}", d.line, d.col, d.message)).collect(),
    }
}

const MINIMAL: &str = r#"summary = "s"
scenario = "churn"

[[step]]
say = "hello"
"#;

#[test]
fn every_builtin_lesson_validates_on_a_two_core_machine() {
    assert_eq!(BUILTIN_LESSONS.len(), 5);
    for b in BUILTIN_LESSONS {
        let l = load_builtin(b.name, &ctx()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(l.name, b.name, "the file's name matches its stem");
        assert!(l.warnings.is_empty(), "{}: {}", b.name, l.render_warnings());
        assert!(!l.summary.is_empty() && l.summary.chars().count() <= MAX_SUMMARY_CHARS);
        assert!(l.steps.len() >= 3, "{}", b.name);
        assert!(l.steps.iter().all(|s| !s.say.trim().is_empty() && !s.title.is_empty()));
        // Made for a 2-core laptop: no step asks for more than 4 threads.
        for i in 0..l.steps.len() {
            let threads: usize = l.state_at(i).groups.iter().map(|g| g.threads).sum();
            assert!(threads <= 4, "{} step {}: {threads} threads", b.name, i + 1);
        }
    }
    let names: Vec<_> = list(&ctx()).into_iter().map(|(n, _, m)| (n, m > 0)).collect();
    assert_eq!(
        names,
        [
            ("false-sharing", true),
            ("hot-counter", true),
            ("aba", true),
            ("coordinated-omission", true),
            ("epoch-stall", true)
        ]
    );
}

#[test]
fn builtin_lessons_show_what_they_promise() {
    let fs = load_builtin("false-sharing", &ctx()).unwrap();
    assert_eq!(fs.spec.table.layout, Layout::Linear);
    let layouts: Vec<Layout> = (0..fs.steps.len()).map(|i| fs.state_at(i).layout).collect();
    assert!(layouts.contains(&Layout::Interleaved) && layouts.contains(&Layout::Padded));
    assert!((0..fs.steps.len()).any(|i| fs.state_at(i).split.is_some()), "it uses the A/B split");
    let aba = load_builtin("aba", &ctx()).unwrap();
    let variants: Vec<Variant> = (0..aba.steps.len()).map(|i| aba.state_at(i).variant).collect();
    assert!(variants.contains(&Variant::NoGenerationCheck));
    assert_eq!(variants.last(), Some(&Variant::Correct), "it ends on the correct table");
    let co = load_builtin("coordinated-omission", &ctx()).unwrap();
    assert!((0..co.steps.len()).any(|i| co.state_at(i).groups[0].hiccup.is_some()));
    assert!(co.spec.groups[0].rate.is_some(), "starts open loop");
    let es = load_builtin("epoch-stall", &ctx()).unwrap();
    assert!((0..es.steps.len()).any(|i| es.state_at(i).hold_pin.is_some()));
    assert_eq!(es.state_at(es.steps.len() - 1).hold_pin, None, "the pin is let go by the end");
}

#[test]
fn a_minimal_lesson_and_its_defaults() {
    let l = parse(MINIMAL, "dir/my.toml", "my", None, &ctx()).unwrap();
    assert_eq!((l.name.as_str(), l.title.as_str(), l.minutes), ("my", "my", 10));
    assert_eq!(l.spec.name, "churn");
    assert_eq!(l.steps[0].line, 4);
    assert_eq!(l.watch, [Figure::Throughput, Figure::P99]);
    assert_eq!(l.transition(None, 0), []);
}

#[test]
fn steps_fold_into_states_and_transitions_undo_going_back() {
    let text = r#"summary = "s"
[scenario]
[[scenario.group]]
name = "w"
threads = 2
mix = "churn"
[[scenario.group]]
name = "r"
threads = 1
mix = "read-heavy"

[[step]]
say = "one"
layout = "linear"
group = "w"
threads = 3
remove = "oldest"

[[step]]
say = "two"
rate = "5k"
hiccup = { every = "1s", for = "50ms" }
reset = true

[[step]]
say = "three"
split = "linear,padded"
hold_pin = "5s"
pause = true
"#;
    let l = parse(text, "t.toml", "t", None, &ctx()).unwrap();
    let s1 = l.state_at(0);
    assert_eq!((s1.layout, s1.groups[0].threads, s1.groups[1].threads), (Layout::Linear, 3, 1));
    assert_eq!((s1.groups[0].remove, s1.groups[1].remove), (RemoveOrder::Oldest, RemoveOrder::Random));
    let start = l.transition(None, 0);
    assert_eq!(
        start,
        [
            // The groups first: the restart after them prefills every thread the step has.
            Change::Threads { group: "w".into(), threads: 3 },
            Change::RemoveOrder { group: "w".into(), order: RemoveOrder::Oldest },
            Change::Table {
                layout: Layout::Linear,
                variant: Variant::Correct,
                allocator: slotscope_table::Allocator::Ring
            },
        ]
    );
    let h = Hiccup { every: Duration::from_secs(1), pause: Duration::from_millis(50) };
    // No group: every group changes.
    assert_eq!(
        l.transition(Some(0), 1),
        [
            Change::Rate { group: "w".into(), rate: Some(5000.0) },
            Change::Hiccup { group: "w".into(), hiccup: Some(h) },
            Change::Rate { group: "r".into(), rate: Some(5000.0) },
            Change::Hiccup { group: "r".into(), hiccup: Some(h) },
            Change::ResetStats,
        ]
    );
    assert_eq!(
        l.transition(Some(1), 2),
        [
            Change::Split(Some(Layout::Padded)),
            Change::HoldPin(Some(Duration::from_secs(5))),
            Change::Pause(true)
        ]
    );
    // Back from the end to the first step undoes steps 3 and 2 (the first step's reset is not
    // set, so no reset).
    assert_eq!(
        l.transition(Some(2), 0),
        [
            Change::Rate { group: "w".into(), rate: None },
            Change::Hiccup { group: "w".into(), hiccup: None },
            Change::Rate { group: "r".into(), rate: None },
            Change::Hiccup { group: "r".into(), hiccup: None },
            Change::Split(None),
            Change::HoldPin(None),
            Change::Pause(false),
        ]
    );
    assert_eq!(l.transition(Some(1), 1), [Change::ResetStats], "re-entering a step only resets");
    assert_eq!(
        Change::HoldPin(Some(Duration::from_secs(5))).to_string(),
        "a reader holds its pin (up to 5s)"
    );
}

#[test]
fn a_lesson_may_start_split() {
    let text = "summary = \"s\"\nscenario = \"churn\"\nsplit = \"padded, linear\"\n[[step]]\nsay = \"x\"\n";
    let l = parse(text, "t.toml", "t", None, &ctx()).unwrap();
    assert_eq!(l.split, Some((Layout::Padded, Layout::Linear)));
    assert_eq!(l.start_spec().table.layout, Layout::Padded);
    assert_eq!(l.initial_state().split, Some(Layout::Linear));
}

#[test]
fn broken_lessons_report_every_error_at_its_place() {
    let cases: &[(&str, &[&str])] = &[
        // Missing pieces.
        ("[[step]]\nsay = \"x\"\n", &["1:1: a lesson needs a `scenario`", "1:1: a lesson needs a `summary`"]),
        ("summary = \"s\"\nscenario = \"churn\"\n", &["1:1: a lesson needs at least one `[[step]]`"]),
        ("summary = \"s\"\nscenario = \"churn\"\n[[step]]\ntitle = \"t\"\n", &["3:1: this step has no `say`"]),
        // Unknown keys, with did-you-mean.
        (
            "summary = \"s\"\nscenario = \"churn\"\nsteps = 1\n[[step]]\nsay = \"x\"\nlayuot = \"linear\"\n",
            &["3:1: unknown key `steps` at the top level", "6:1: unknown key `layuot` in a `[[step]]`"],
        ),
        // Bad values, located inside the string where they can be.
        (
            "summary = \"s\"\nscenario = \"churn\"\n[[step]]\nsay = \"x\"\nsplit = \"linear,diagonal\"\nrate = \"5q\"\n",
            &["5:17: unknown layout `diagonal`", "6:10: unexpected `q` after the rate"],
        ),
        (
            "summary = \"s\"\nscenario = \"chrun\"\n[[step]]\nsay = \"x\"\n",
            &["2:12: no built-in scenario named `chrun`"],
        ),
        (
            "summary = \"s\"\nscenario = \"churn\"\n[[step]]\nsay = \"x\"\ngroup = \"writers\"\nthreads = 2\n",
            &["5:9: no thread group named `writers`"],
        ),
        (
            "summary = \"s\"\nscenario = \"demo\"\n[[step]]\nsay = \"x\"\nthreads = 2\n",
            &["5:1: `threads` needs a `group` when the scenario has several"],
        ),
        (
            "summary = \"s\"\nscenario = \"churn\"\n[[step]]\nsay = \"x\"\nhiccup = { every = \"1s\", for = \"2s\" }\nhold_pin = \"10m\"\n",
            &["5:32: a stall of 2s every 1s never ends", "6:12: `hold_pin` must be more than 0 and at most 2m"],
        ),
        (
            "summary = \"s\"\nscenario = \"churn\"\n[[step]]\nsay = \"x\"\nfocus = 99999\nview = \"contension\"\n",
            &["5:9: line 99999 is past the table's end: it has 8192 lines (interleaved)", "6:8: unknown view `contension`"],
        ),
        // The scenario checks, at the step key that caused them.
        (
            "summary = \"s\"\nscenario = \"churn\"\n[[step]]\nsay = \"x\"\nthreads = 2000\nmix = \"0/0/0\"\n",
            &["5:11: group `main` has 2000 threads; at most 1024", "6:8: the weights are all zero"],
        ),
        // An embedded scenario is checked as a scenario, at its own lines.
        (
            "summary = \"s\"\n[scenario]\nthread = 2\n[scenario.table]\ncapacity = 0\n[[step]]\nsay = \"x\"\n",
            &["3:1: unknown key `thread` in `[scenario]`", "5:12: capacity 0 is out of range"],
        ),
        (
            "summary = \"\"\"two\nlines\"\"\"\nscenario = \"churn\"\n[[step]]\nsay = \"x\"\n",
            &["1:11: the summary must be one line"],
        ),
        (
            "summary = \"s\"\nscenario = \"churn\"\n[[step]]\nsay = \"x\"\n[[step]\nsay = \"y\"\n",
            &["5:8: unclosed array table, expected `]`"],
        ),
        (
            "summary = \"s\"\nscenario = \"churn\"\nwatch = [\"thruput\"]\n[[step]]\nsay = \"x\"\n",
            &["3:10: unknown figure `thruput`"],
        ),
    ];
    for (text, want) in cases {
        assert_eq!(errors(text), *want, "for:\n{text}");
    }
}

#[test]
fn errors_render_with_caret_and_hint() {
    let text = "summary = \"s\"\nscenario = \"churn\"\n[[step]]\nsay = \"x\"\nlayuot = \"linear\"\n";
    let e = parse(text, "my.toml", "my", None, &ctx()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "my.toml:5:1: error: unknown key `layuot` in a `[[step]]`\n   |\n 5 | layuot = \"linear\"\n   | ^^^^^^\n   = hint: did you mean `layout`?\n"
    );
    let text = "summary = \"s\"\nscenario = \"churn\"\nduration = \"5s\"\n[[step]]\nsay = \"x\"\n";
    let e = parse(text, "my.toml", "my", None, &ctx()).unwrap_err();
    assert!(e.to_string().contains("the run's settings go in `[scenario]`"), "{e}");
    let text = "summary = \"s\"\nscenario = \"churn\"\nlayout = \"linear\"\n[[step]]\nsay = \"x\"\n";
    let e = parse(text, "my.toml", "my", None, &ctx()).unwrap_err();
    assert!(e.to_string().contains("`layout` belongs in a `[[step]]`"), "{e}");
}

#[test]
fn a_scenario_file_is_found_next_to_the_lesson() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mine.toml"), "[[group]]\nname = \"a\"\nthreads = 1\n").unwrap();
    let lesson = dir.path().join("l.toml");
    std::fs::write(
        &lesson,
        "summary = \"s\"\nscenario = \"mine.toml\"\n[[step]]\nsay = \"x\"\ngroup = \"a\"\nthreads = 2\n",
    )
    .unwrap();
    let l = resolve(lesson.to_str().unwrap(), &ctx()).unwrap();
    assert_eq!(l.name, "l");
    assert_eq!(l.spec.groups[0].name, "a");
    std::fs::write(dir.path().join("mine.toml"), "[[group]]\nthreads = \"x\"\n").unwrap();
    let e = resolve(lesson.to_str().unwrap(), &ctx()).unwrap_err();
    assert!(e.to_string().contains("scenario `mine.toml` has 1 error"), "{e}");
    match resolve("false-sharng", &ctx()) {
        Err(LoadError::Unknown { suggestion, .. }) => assert_eq!(suggestion, Some("false-sharing")),
        other => panic!("{other:?}"),
    }
}
