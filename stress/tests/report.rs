//! The finished report as `--fail-if` and the text printer read it: real short runs with
//! `StopSpec::Ops`, so every count below is exact and nothing depends on speed.

use slotscope_stress::report::fail_if::{
    evaluate_all, parse_fail_if, LatencyStat, Metric, MetricSource, OpSet,
};
use slotscope_stress::report::text::render_text;
use slotscope_stress::{
    run_headless, BackendKind, GroupSpec, Mix, OpKind, PinPolicy, RunSpec, StopSpec, TableSpec,
};
use slotscope_table::Variant;
use slotscope_trace::Counter;

fn spec(mix: Mix, ops: u64) -> RunSpec {
    RunSpec {
        name: "report-test".into(),
        description: "a short run for the report tests".into(),
        table: TableSpec { capacity: 1024, prefill: 0.5, ..TableSpec::default() },
        groups: vec![GroupSpec {
            name: "main".into(),
            threads: 2,
            mix,
            pin: PinPolicy::None,
            ..GroupSpec::default()
        }],
        stop: StopSpec::Ops(ops),
        ..RunSpec::default()
    }
}

#[test]
fn metrics_answer_from_the_report() {
    let r = run_headless(spec(Mix::EXCHANGE, 3000)).unwrap();
    assert!(r.passed());
    let m = |s: &str| r.metric(&parse_fail_if(s).unwrap().metric);
    assert_eq!(m("ops>0"), Some(6000.0));
    assert_eq!(m("ops(insert)>0"), Some(r.op(OpKind::Insert).count as f64));
    assert_eq!(m("violations>0"), Some(0.0));
    assert_eq!(m("full_refusals>0"), Some(r.totals[Counter::InsertsRefused] as f64));
    assert_eq!(m("ring_retries>0"), Some(r.totals[Counter::RingRetries] as f64));
    assert_eq!(m("throughput>0"), Some(r.throughput_ops_per_s));
    // Percentiles come from the same histograms as the report's summaries.
    let lookup = &r.op(OpKind::Lookup).latency.service;
    assert_eq!(m("p99(lookup)>1ns"), Some(lookup.p99 as f64));
    assert_eq!(m("max(lookup)>1ns"), Some(lookup.max as f64));
    // `all` merges the three operations: its max is the largest of theirs.
    let max_all = r.ops.iter().map(|o| o.latency.service.max).max().unwrap();
    assert_eq!(m("max(all)>1ns"), Some(max_all as f64));
    let p50 = m("p50(all)>1ns").unwrap();
    let lo = r.ops.iter().map(|o| o.latency.service.p50).min().unwrap() as f64;
    let hi = r.ops.iter().map(|o| o.latency.service.p50).max().unwrap() as f64;
    assert!((lo..=hi).contains(&p50), "{lo} <= {p50} <= {hi}");
    // Closed loop: there is no uncorrected latency to speak of.
    assert_eq!(m("p99(lookup,uncorrected)>1us"), None);
    let mean = r.metric(&Metric::Latency { stat: LatencyStat::Mean, op: OpSet::Insert, uncorrected: false });
    assert!(mean.unwrap() > 0.0);
}

#[test]
fn unmeasured_metrics_are_none() {
    // Churn never looks up; a map backend has no probes.
    let mut s = spec(Mix::CHURN, 500);
    s.table.backend = BackendKind::DashMap;
    let r = run_headless(s).unwrap();
    let m = |s: &str| r.metric(&parse_fail_if(s).unwrap().metric);
    assert_eq!(m("p99(lookup)>1us"), None);
    assert_eq!(m("ticket_skips>0"), None);
    assert!(m("p99(insert)>1us").is_some());
    let conds = [parse_fail_if("p99(lookup)>1us").unwrap()];
    assert!(evaluate_all(&conds, &r)[0].failed());
}

#[test]
fn open_loop_reads_corrected_and_uncorrected() {
    let mut s = spec(Mix::READ_HEAVY, 200);
    s.groups[0].rate = Some(100_000.0);
    let r = run_headless(s).unwrap();
    let m = |s: &str| r.metric(&parse_fail_if(s).unwrap().metric);
    let op = &r.op(OpKind::Lookup).latency;
    assert_eq!(m("max(lookup)>1ns"), Some(op.corrected.unwrap().max as f64));
    assert_eq!(m("max(lookup,uncorrected)>1ns"), Some(op.service.max as f64));
}

#[test]
fn text_report_says_what_ran() {
    let mut r = run_headless(spec(Mix::EXCHANGE, 2000)).unwrap();
    r.repeat_command = Some("slotscope run report-test --seed 7".into());
    let text = render_text(&r);
    for needle in [
        "scenario `report-test`",
        "a short run for the report tests",
        &format!("seed        {}", r.seed),
        "repeat      slotscope run report-test --seed 7",
        "interleavings",
        "self-check  PASSED",
        "Value     Percentile TotalCount 1/(1-Percentile)",
        "# spectrum: lookup service time",
        "# spectrum: insert service time",
        &format!("{:#018x}", r.threads[0].digest),
        &r.machine.cpu_model,
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    assert!(!text.contains("BROKEN"));
    assert!(!text.contains("STOPPED EARLY"));
    r.stopped_by = Some("SIGTERM".into());
    assert!(render_text(&r).contains("STOPPED EARLY by SIGTERM"));
}

#[test]
fn text_report_labels_broken_variants_and_lists_violations() {
    let mut s = spec(Mix { lookup: 60, insert: 20, remove: 20 }, 20_000);
    s.table.capacity = 64;
    s.table.variant = Variant::NoGenerationCheck;
    s.groups[0].stale_share = 0.5;
    s.groups[0].threads = 1;
    let r = run_headless(s).unwrap();
    assert!(!r.passed(), "the broken variant should have been caught");
    let text = render_text(&r);
    assert!(text.contains("BROKEN TABLE VARIANT `no-generation-check`"), "{text}");
    assert!(text.contains("self-check  FAILED"), "{text}");
    assert!(text.contains("stale-hit"), "{text}");
}

#[test]
fn mixed_open_and_closed_loop_groups_are_both_counted() {
    let mut s = spec(Mix::READ_HEAVY, 300);
    s.groups[0].threads = 1;
    s.groups[0].rate = Some(50_000.0);
    s.groups.push(GroupSpec {
        name: "closed".into(),
        threads: 1,
        pin: PinPolicy::None,
        ..GroupSpec::default()
    });
    let r = run_headless(s).unwrap();
    let m = |s: &str| r.metric(&parse_fail_if(s).unwrap().metric);
    // Both threads' lookups are in the merged histogram; the open-loop thread counts with its
    // corrected latency, the closed-loop thread with its service time.
    let open = r.threads[0].latency[0].corrected.expect("open loop has corrected latencies");
    let closed = r.threads[1].latency[0].service;
    assert!(open.count > 0 && closed.count > 0);
    let max = m("max(lookup)>1ns").expect("measured");
    assert_eq!(max, open.max.max(closed.max) as f64);
    assert!(m("p99(lookup,uncorrected)>1ns").is_some());
}

#[test]
fn the_verdict_fits_one_screen_and_labels_its_rows() {
    use slotscope_stress::report::verdict::{render_verdict, VERDICT_LINES, VERDICT_WIDTH};
    // Two groups, three ops, one group in open loop: every kind of latency row.
    let mut s = spec(Mix::READ_HEAVY, 3000);
    s.groups[0].threads = 1;
    s.groups[0].rate = Some(200_000.0);
    s.groups.push(GroupSpec {
        name: "closed".into(),
        threads: 1,
        pin: PinPolicy::None,
        ..GroupSpec::default()
    });
    let mut r = run_headless(s).unwrap();
    r.repeat_command = Some(format!("slotscope run report-test --seed 7{}", " --flag value".repeat(20)));
    r.warnings =
        vec!["a warning long enough to need two lines: ".repeat(4), "another".into(), "a third".into()];
    let text = render_verdict(&r, false);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() <= VERDICT_LINES, "{} lines:\n{text}", lines.len());
    for l in &lines {
        assert!(l.chars().count() <= VERDICT_WIDTH && !l.ends_with("..."), "too wide or cut: {l}");
    }
    // Rows per group, each under its name: every op a service-time row in both groups, and a
    // corrected one in the open-loop group only.
    let rows = |label: &str| lines.iter().filter(|l| l.contains(label)).count();
    // (A short run: the closed group may not have done all three ops.)
    let service = rows("service time");
    assert!((4..=6).contains(&service), "{text}");
    assert_eq!(rows("open loop, corrected from intended start"), 3, "{text}");
    let main = lines.iter().position(|l| *l == "main (1 thread)").expect("the open-loop group's heading");
    let closed = lines.iter().position(|l| *l == "closed (1 thread)").expect("the closed group's heading");
    assert!(main < closed, "{text}");
    assert!(
        lines[closed + 1..closed + 1 + service - 3].iter().all(|l| l.contains("service time")),
        "the closed group has service time only:\n{text}"
    );
    assert!(lines[main + 2].contains("open loop, corrected"), "{text}");
    // The long warning is wrapped, not cut: all of its words are there.
    assert_eq!(text.matches("two lines:").count(), 4, "{text}");
    // The repeat line wraps with shell continuations and loses nothing.
    let joined: String = lines
        .iter()
        .skip_while(|l| !l.starts_with("repeat "))
        .take_while(|l| !l.starts_with("more "))
        .map(|l| l.trim_start_matches("repeat").trim().trim_end_matches('\\').trim_end())
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(Some(joined.as_str()), r.repeat_command.as_deref());
    // At 80 columns: nothing wider, the bars gone first, every row and figure still there.
    let narrow = slotscope_stress::report::verdict::render_verdict_at(&r, false, 80);
    let nl: Vec<&str> = narrow.lines().collect();
    for l in &nl {
        assert!(l.chars().count() <= 80 && !l.ends_with("..."), "too wide or cut at 80: {l}\n{narrow}");
    }
    assert!(!narrow.contains('█') && !narrow.contains('▁'), "no bars at 80:\n{narrow}");
    let rows80 = |label: &str| nl.iter().filter(|l| l.contains(label)).count();
    assert_eq!((rows80("service time"), rows80("corrected from intended start")), (service, 3), "{narrow}");
    assert!(narrow.contains("p99.9") && narrow.contains("max"), "{narrow}");
    assert_eq!(narrow.matches("two lines:").count(), 4, "the warning wraps, whole:\n{narrow}");
    // A closed-loop-only run has no corrected rows, and an op that never ran has none at all.
    let mut s = spec(Mix::CHURN, 500);
    s.groups[0].threads = 1;
    let mut r = run_headless(s).unwrap();
    let text = render_verdict(&r, false);
    assert!(!text.contains("open loop, corrected") && !text.contains("\nlookup "), "{text}");
    // Percentiles below the clock's resolution show as `<floor`.
    r.timing.floor_ns = 1e9;
    let text = render_verdict(&r, false);
    let insert = text.lines().find(|l| l.starts_with("insert ")).expect("an insert row");
    assert!(insert.contains("<1s"), "{insert}");
    assert!(
        !text.contains("# spectrum:") && render_verdict(&r, true).contains("# spectrum: insert service time")
    );
}
