//! Command-line overrides applied to scenarios: what each changes, and errors that name the
//! flag. The machine is injected (4 cores, 0..=3).

use std::time::Duration;

use slotscope_stress::scenario::{
    self, distribute_threads, parse, validate, Overrides, Severity, ValidationContext,
};
use slotscope_stress::{BackendKind, KeyChoice, Mix, PinPolicy, RunSpec, StopSpec};
use slotscope_table::{Layout, Variant};

fn ctx() -> ValidationContext {
    ValidationContext::with_cores(0..4)
}

fn spec(text: &str) -> RunSpec {
    parse(text, "t.toml", "t", &ctx()).unwrap_or_else(|e| panic!("{e}")).spec
}

fn two_groups() -> RunSpec {
    spec(
        r#"
duration = "30s"
[[group]]
name = "readers"
threads = 3
[[group]]
name = "writers"
threads = 1
[[phase]]
at = "20s"
group = "writers"
mix = "churn"
"#,
    )
}

#[test]
fn threads_go_to_the_only_group() {
    let mut s = spec("[[group]]\nthreads = 1\n");
    let o = Overrides { threads: Some(3), ..Overrides::default() };
    assert_eq!(o.apply(&mut s, &ctx()).unwrap(), []);
    assert_eq!(s.groups[0].threads, 3);
}

#[test]
fn threads_are_shared_in_proportion() {
    assert_eq!(distribute_threads(8, &[3, 1]), [6, 2]);
    assert_eq!(distribute_threads(5, &[1, 1, 1]), [2, 2, 1], "remainders to the earlier groups");
    assert_eq!(distribute_threads(4, &[0, 0]), [2, 2], "all empty: equal shares");
    assert_eq!(distribute_threads(3, &[2, 0, 1]), [2, 0, 1], "an empty group stays empty");
    assert_eq!(distribute_threads(1, &[1, 3]), [0, 1], "the largest remainder wins");
    assert_eq!(distribute_threads(0, &[2, 2]), [0, 0]);
    assert_eq!(distribute_threads(7, &[]), Vec::<usize>::new());
    for (n, cur) in [(13usize, vec![5usize, 3, 2]), (1000, vec![1, 1, 1]), (2, vec![7, 7, 7])] {
        assert_eq!(distribute_threads(n, &cur).iter().sum::<usize>(), n, "{n} {cur:?}");
    }

    let mut s = two_groups();
    Overrides { threads: Some(2), ..Overrides::default() }.apply(&mut s, &ctx()).unwrap();
    assert_eq!((s.groups[0].threads, s.groups[1].threads), (2, 0));
}

#[test]
fn every_override_lands_where_documented() {
    let mut s = two_groups();
    let o = Overrides {
        cores: Some(vec![1, 2]),
        duration: Some(Duration::from_secs(25)),
        rate: Some(5000.0),
        seed: Some(7),
        capacity: Some(1000),
        layout: Some(Layout::Padded),
        mix: Some(Mix::EXCHANGE),
        keys: Some(KeyChoice::Zipf { s: 1.3 }),
        variant: Some(Variant::NoGenerationCheck),
        line_bytes: Some(128),
        prefill: Some(0.25),
        ..Overrides::default()
    };
    assert_eq!(o.apply(&mut s, &ctx()).unwrap(), []);
    for g in &s.groups {
        assert_eq!(g.pin, PinPolicy::Cores(vec![1, 2]));
        assert_eq!(g.rate, Some(5000.0));
        assert_eq!(g.mix, Mix::EXCHANGE);
        assert_eq!(g.keys, KeyChoice::Zipf { s: 1.3 });
    }
    assert_eq!(s.phases[0].mix, Some(Mix::CHURN), "phases keep their own changes");
    assert_eq!(s.stop, StopSpec::Duration(Duration::from_secs(25)));
    assert_eq!(s.seed, 7);
    assert_eq!(
        (s.table.capacity, s.table.layout, s.table.variant, s.table.line_bytes, s.table.prefill),
        (1000, Layout::Padded, Variant::NoGenerationCheck, 128, 0.25)
    );

    let mut s = two_groups();
    let o = Overrides {
        ops: Some(500),
        pin: Some(PinPolicy::Scatter),
        backend: Some(BackendKind::DashMap),
        ..Overrides::default()
    };
    o.apply(&mut s, &ctx()).unwrap();
    assert_eq!(s.stop, StopSpec::Ops(500));
    assert!(s.groups.iter().all(|g| g.pin == PinPolicy::Scatter));
    assert_eq!(s.table.backend, BackendKind::DashMap);
}

#[test]
fn the_source_becomes_the_resolved_scenario() {
    let mut s = scenario::load_builtin("churn", &ctx()).unwrap().spec;
    let original = s.source.clone();
    Overrides::default().apply(&mut s, &ctx()).unwrap();
    assert_eq!(s.source, original, "no override: the text stays as written");

    Overrides { threads: Some(3), capacity: Some(2048), ..Overrides::default() }
        .apply(&mut s, &ctx())
        .unwrap();
    assert_ne!(s.source, original);
    let again = parse(&s.source, "resolved.toml", "x", &ctx()).unwrap().spec;
    assert_eq!(again.groups[0].threads, 3);
    assert_eq!(again.table.capacity, 2048);
    let mut expected = s.clone();
    expected.source = again.source.clone();
    assert_eq!(again, expected);
}

#[test]
fn errors_name_the_flag_and_leave_the_spec_alone() {
    let mut s = two_groups();
    let before = s.clone();
    let o = Overrides {
        threads: Some(0),
        capacity: Some(0),
        duration: Some(Duration::from_secs(10)),
        cores: Some(vec![0, 9]),
        ..Overrides::default()
    };
    let e = o.apply(&mut s, &ctx()).unwrap_err();
    assert_eq!(s, before);
    let got: Vec<(&str, &str, &str)> =
        e.problems.iter().map(|p| (p.flag, p.value.as_str(), p.message.as_str())).collect();
    assert_eq!(
        got,
        [
            ("--capacity", "0", "capacity 0 is out of range"),
            ("--cores", "0,9", "core 9 does not exist on this machine"),
            ("--threads", "0", "the run has no threads: every group starts with 0"),
        ]
    );
    let text = e.to_string();
    assert!(
        text.starts_with("error: --capacity 0: capacity 0 is out of range\n  hint: from 1 to 134217728"),
        "{text}"
    );
    // A duration that cuts the timeline short is allowed: the cut phases are a warning.
    let mut s = two_groups();
    let warnings = Overrides { duration: Some(Duration::from_secs(10)), ..Overrides::default() }
        .apply(&mut s, &ctx())
        .unwrap();
    let text: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    assert_eq!(text, ["warning: --duration 10s: phase at 20s never runs: the run ends at 10s"]);
}

#[test]
fn a_problem_in_many_groups_is_told_once() {
    let mut s = two_groups();
    let e = Overrides { rate: Some(0.0), ..Overrides::default() }.apply(&mut s, &ctx()).unwrap_err();
    assert_eq!(e.problems.len(), 1);
    assert_eq!(e.to_string(), "error: --rate 0: a rate must be more than 0 ops/s, not 0\n  hint: leave the rate out for a closed loop (as fast as possible)");
}

#[test]
fn conflicting_flags() {
    let mut s = two_groups();
    let o = Overrides {
        cores: Some(vec![0]),
        pin: Some(PinPolicy::Compact),
        duration: Some(Duration::from_secs(1)),
        ops: Some(1),
        ..Overrides::default()
    };
    let e = o.apply(&mut s, &ctx()).unwrap_err();
    let got: Vec<(&str, &str)> = e.problems.iter().map(|p| (p.flag, p.message.as_str())).collect();
    assert_eq!(
        got,
        [
            ("--cores", "`--cores` and `--pin` cannot both be given"),
            ("--duration", "`--duration` and `--ops` cannot both be given")
        ]
    );
}

#[test]
fn interactions_blame_the_flag_that_changed() {
    // The variant was in the file; --backend made it impossible.
    let mut s = spec("[table]\nvariant = \"relaxed-ring\"\n");
    let e = Overrides { backend: Some(BackendKind::Ptab), ..Overrides::default() }
        .apply(&mut s, &ctx())
        .unwrap_err();
    assert_eq!(e.problems[0].flag, "--backend");
    assert_eq!(
        e.problems[0].message,
        "variant `relaxed-ring` exists only in the slotscope backend, not `ptab`"
    );
    // And the other way round.
    let mut s = spec("[table]\nbackend = \"ptab\"\n");
    let e = Overrides { variant: Some(Variant::RelaxedRing), ..Overrides::default() }
        .apply(&mut s, &ctx())
        .unwrap_err();
    assert_eq!(e.problems[0].flag, "--variant");
    // A hot set that no longer fits.
    let mut s = spec("[[group]]\nkeys = \"hot:64:0.5\"\n");
    let e = Overrides { capacity: Some(32), ..Overrides::default() }.apply(&mut s, &ctx()).unwrap_err();
    assert_eq!((e.problems[0].flag, e.problems[0].value.as_str()), ("--capacity", "32"));
}

#[test]
fn warnings_caused_by_flags_are_returned() {
    let mut s = two_groups();
    let w = Overrides { threads: Some(6), ..Overrides::default() }.apply(&mut s, &ctx()).unwrap();
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].severity, Severity::Warning);
    assert_eq!(w[0].to_string(), "warning: --threads 6: 6 worker threads on 4 cores\n  hint: allowed, but threads will take turns on cores and measurements get noisier");
    assert_eq!(s.initial_threads(), 6);

    // A warning the scenario had already is not repeated.
    let mut s = spec("[[group]]\nthreads = 8\n");
    assert_eq!(validate(&s, &ctx()).len(), 1);
    let w = Overrides { seed: Some(1), ..Overrides::default() }.apply(&mut s, &ctx()).unwrap();
    assert_eq!(w, []);
}

#[test]
fn a_spec_built_by_hand_is_checked_too() {
    let mut s = RunSpec::default();
    s.groups[0].threads = 0;
    let e = Overrides { seed: Some(3), ..Overrides::default() }.apply(&mut s, &ctx()).unwrap_err();
    assert_eq!(e.to_string(), "error: scenario: the run has no threads: every group starts with 0\n  hint: give at least one group 1 thread or more");
}
