//! Recording real runs: what the trace holds must match what the engine counted. Runs are
//! short and op-counted; no assertion depends on speed.

use std::time::Duration;

use slotscope_stress::recorder::{RecordLimit, RecordOptions};
use slotscope_stress::{
    run_headless_recorded, Engine, GroupSpec, Mix, OpKind, PinPolicy, RunSpec, StopSpec, TableSpec,
};
use slotscope_table::{Layout, Variant};
use slotscope_trace::{ControlKind, EndReason, ReadStop, Record, Trace};
use slotscope_trace::{OpOrigin, OpOutcome};

/// A stop that takes longer than this is a hang: the watchdog ends the test binary naming the
/// threads still running.
const STOP_LIMIT: Duration = Duration::from_secs(60);

fn spec(threads: usize, mix: Mix, ops: u64) -> RunSpec {
    RunSpec {
        name: "recorded".into(),
        source: "name = \"recorded\"\n".into(),
        table: TableSpec { capacity: 256, prefill: 0.5, ..TableSpec::default() },
        groups: vec![GroupSpec {
            name: "main".into(),
            threads,
            mix,
            pin: PinPolicy::None,
            stale_share: 0.2,
            ..GroupSpec::default()
        }],
        stop: StopSpec::Ops(ops),
        ..RunSpec::default()
    }
}

#[test]
fn a_recorded_run_holds_every_op_the_engine_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.trace");
    let mut options = RecordOptions::new(&path);
    options.command = "slotscope run recorded --ops 3000".into();
    let report =
        run_headless_recorded(spec(2, Mix { lookup: 60, insert: 20, remove: 20 }, 3000), &options).unwrap();
    let rec = report.recording.clone().expect("a recording report");
    assert_eq!(rec.path, path.display().to_string());
    let left: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial") || n.ends_with(".lock"))
        .collect();
    assert!(left.is_empty(), "the partial file was renamed, the lock file removed: {left:?}");
    assert_eq!(rec.dropped, 0, "64 Ki events per thread hold a 3000-op run");
    assert!(rec.error.is_none(), "{rec:?}");

    let trace = Trace::load(&path).unwrap();
    assert_eq!(trace.stop, ReadStop::End);
    assert_eq!(trace.header.scenario, "recorded");
    assert_eq!(trace.header.command, "slotscope run recorded --ops 3000");
    assert_eq!(trace.header.table.capacity, 256);
    assert_eq!(trace.events().count() as u64, rec.events);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), rec.bytes);

    for t in &report.threads {
        let mine: Vec<_> = trace.events().filter(|e| e.thread == t.index).collect();
        let run: Vec<_> = mine.iter().filter(|e| e.origin == OpOrigin::Run).collect();
        assert_eq!(run.len() as u64, 3000, "every chosen op of thread {}", t.index);
        assert!(run.iter().enumerate().all(|(i, e)| e.op_index == i as u64), "in order");
        let inserted = mine.iter().filter(|e| e.outcome == OpOutcome::Inserted).count() as u64;
        assert_eq!(inserted, t.inserted, "thread {}: inserts, prefill included", t.index);
        let removed = mine.iter().filter(|e| e.outcome == OpOutcome::Removed).count() as u64;
        assert_eq!(removed, t.removed);
        let prefill = mine.iter().filter(|e| e.origin == OpOrigin::Prefill).count() as u64;
        assert_eq!(prefill, t.prefilled);
        let sweep = mine.iter().filter(|e| e.origin == OpOrigin::Sweep).count();
        assert_eq!(sweep, t.held_at_end, "the end-of-run sweep looks up every held key");
        for e in &mine {
            assert!(e.end_ns >= e.start_ns);
            if e.kind == OpKind::Insert && e.outcome == OpOutcome::Inserted {
                assert_eq!(e.value.unwrap().thread, t.index as u64);
            }
        }
    }

    let kinds: Vec<_> = trace.records.iter().map(Record::record_type).collect();
    use slotscope_trace::RecordType as T;
    assert_eq!(kinds.first(), Some(&T::TableBegin));
    assert_eq!(kinds.last(), Some(&T::End));
    assert_eq!(kinds.iter().filter(|&&k| k == T::ThreadStart).count(), 2);
    assert_eq!(kinds.iter().filter(|&&k| k == T::ThreadEnd).count(), 2);
    assert!(trace
        .records
        .iter()
        .any(|r| matches!(r, Record::Control(c) if c.kind == ControlKind::ClockStarted)));
    let end_snapshot = trace.records.iter().find_map(|r| match r {
        Record::Snapshot(s) if s.at_end => Some(s),
        _ => None,
    });
    let end_snapshot = end_snapshot.expect("the quiescent snapshot of the table's end");
    let live: u64 = report.threads.iter().map(|t| t.held_at_end as u64).sum();
    assert_eq!(end_snapshot.snapshot.occupied() as u64, live);
    match trace.records.last() {
        Some(Record::End(e)) => {
            assert_eq!(e.reason, EndReason::Completed);
            assert_eq!(e.events, rec.events);
            assert_eq!(e.summary.unwrap().ops, report.totals.ops());
        }
        other => panic!("last record: {other:?}"),
    }
}

#[test]
fn a_size_limit_stops_recording_but_not_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.trace");
    let mut options = RecordOptions::new(&path);
    options.limit = RecordLimit::Bytes(16 * 1024);
    options.limit_text = "16KiB".into();
    let report = run_headless_recorded(spec(2, Mix::CHURN, 20_000), &options).unwrap();
    let rec = report.recording.unwrap();
    assert!(rec.limit_reached, "{rec:?}");
    assert!(rec.bytes <= 16 * 1024, "{} bytes", rec.bytes);
    assert_eq!(report.totals.ops(), 40_000, "the run went on");
    let trace = Trace::load(&path).unwrap();
    assert_eq!(trace.stop, ReadStop::End);
    match trace.records.last() {
        Some(Record::End(e)) => assert_eq!(e.reason, EndReason::SizeLimit),
        other => panic!("last record: {other:?}"),
    }
    assert!(trace
        .records
        .iter()
        .any(|r| matches!(r, Record::Control(c) if c.kind == ControlKind::RecordingStopped)));
}

#[test]
fn restarts_and_live_control_are_recorded_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("restart.trace");
    let mut s = spec(1, Mix::READ_HEAVY, 0);
    s.stop = StopSpec::Forever;
    let engine = Engine::start_recorded(s, &RecordOptions::new(&path)).unwrap();
    engine.pause();
    engine.resume();
    engine.restart_with_layout(Layout::Linear).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let report = engine.stop_watched(STOP_LIMIT);
    assert!(report.recording.is_some());
    let trace = Trace::load(&path).unwrap();
    let begins: Vec<_> = trace
        .records
        .iter()
        .filter_map(|r| match r {
            Record::TableBegin(t) => Some((t.segment, t.geometry.map(|g| g.layout()), t.variant)),
            _ => None,
        })
        .collect();
    assert_eq!(
        begins,
        [(0, Some(Layout::Interleaved), Variant::Correct), (1, Some(Layout::Linear), Variant::Correct)]
    );
    let ends = trace.records.iter().filter(|r| matches!(r, Record::TableEnd(_))).count();
    assert_eq!(ends, 2);
    let controls: Vec<_> = trace
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Control(c) => Some(c.kind),
            _ => None,
        })
        .collect();
    let pos = |k| controls.iter().position(|&c| c == k).unwrap();
    assert!(pos(ControlKind::Pause) < pos(ControlKind::Resume));
    assert!(pos(ControlKind::Resume) < pos(ControlKind::Restart));
    // Every op of segment 1 comes after segment 1 began.
    let begin1 =
        trace.records.iter().position(|r| matches!(r, Record::TableBegin(t) if t.segment == 1)).unwrap();
    for (i, r) in trace.records.iter().enumerate() {
        if let Record::Ops(b) = r {
            assert_eq!(b.segment == 1, i > begin1, "record {i}");
        }
    }
    match trace.records.last() {
        Some(Record::End(e)) => assert_eq!(e.reason, EndReason::Stopped),
        other => panic!("last record: {other:?}"),
    }
}

/// Every op in the file after a frontier record starts at or after the frontier (less the
/// clock's cross-core ε): what the streaming checker relies on. Exercised with pauses and a
/// paced thread, whose quiet stretches the writer must not wait for forever.
#[test]
fn frontier_records_promise_only_what_the_file_keeps() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("frontier.trace");
    let mut s = spec(2, Mix::CHURN, 0);
    s.stop = StopSpec::Forever;
    s.groups.push(GroupSpec {
        name: "paced".into(),
        threads: 1,
        mix: Mix::READ_HEAVY,
        pin: PinPolicy::None,
        rate: Some(2000.0),
        ..GroupSpec::default()
    });
    let engine = Engine::start_recorded(s, &RecordOptions::new(&path)).unwrap();
    std::thread::sleep(Duration::from_millis(30));
    engine.pause();
    std::thread::sleep(Duration::from_millis(30));
    engine.resume();
    std::thread::sleep(Duration::from_millis(30));
    let report = engine.stop_watched(STOP_LIMIT);
    assert_eq!(report.recording.unwrap().dropped, 0);
    let trace = Trace::load(&path).unwrap();
    let eps = trace.header.epsilon().0;
    let mut frontier = 0u64;
    let mut frontiers = 0;
    let mut during_pause = 0;
    let paused_at = trace.records.iter().find_map(|r| match r {
        Record::Control(c) if c.kind == ControlKind::Pause => Some(c.clock_ns),
        _ => None,
    });
    for r in &trace.records {
        match r {
            Record::Frontier(f) => {
                assert!(f.clock_ns >= frontier, "frontiers only advance");
                frontier = f.clock_ns;
                frontiers += 1;
                if paused_at.is_some_and(|p| f.clock_ns > p + 5_000_000) {
                    during_pause += 1;
                }
            }
            Record::Ops(b) => {
                for e in &b.events {
                    assert!(
                        e.start_ns.saturating_add(eps) >= frontier,
                        "thread {} op {} starts at {} ns, before the frontier {frontier} ns already written",
                        e.thread,
                        e.op_index,
                        e.start_ns
                    );
                }
            }
            _ => {}
        }
    }
    assert!(frontiers > 10, "{frontiers} frontier records in ~90 ms");
    assert!(during_pause > 0, "a paused run's frontier moves on (the workers declared themselves quiet)");
}

/// The default: a worker whose buffer is full waits for the writer. A 64-event buffer
/// against 2 x 20000 ops must wait, and lose nothing; the trace checks clean.
#[test]
fn a_lossless_recording_waits_instead_of_dropping() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lossless.trace");
    let mut options = RecordOptions::new(&path);
    options.ring_events = 64;
    let report = run_headless_recorded(spec(2, Mix::CHURN, 20_000), &options).unwrap();
    let rec = report.recording.unwrap();
    assert_eq!(rec.dropped, 0, "{rec:?}");
    assert!(rec.waits > 0, "a 64-event buffer must have waited: {rec:?}");
    let checked = slotscope_trace::history::check_file(&path, &Default::default(), &mut |_| {}).unwrap();
    let out = checked.outcome;
    assert!(out.violations.is_empty() && !out.has_unknowns(), "{:?} {:?}", out.violations, out.notes);
}

/// `--record-lossy` keeps the old behaviour: drops are counted, marked in the trace, and what
/// rests on them is incomplete, never a violation.
#[test]
fn a_lossy_recording_drops_and_its_check_is_incomplete_not_failed() {
    let dir = tempfile::tempdir().unwrap();
    for attempt in 0..5u64 {
        let path = dir.path().join(format!("lossy-{attempt}.trace"));
        let mut options = RecordOptions::new(&path);
        options.ring_events = 2;
        options.lossy = true;
        let mut s = spec(2, Mix::CHURN, 20_000);
        s.seed += attempt;
        let report = run_headless_recorded(s, &options).unwrap();
        let rec = report.recording.unwrap();
        assert_eq!(rec.waits, 0, "lossy never waits");
        if rec.dropped == 0 {
            continue;
        }
        let checked = slotscope_trace::history::check_file(&path, &Default::default(), &mut |_| {}).unwrap();
        let out = checked.outcome;
        assert!(out.violations.is_empty(), "drops are never violations: {:?}", out.violations);
        assert!(out.has_unknowns() && !out.gaps.is_empty(), "the gaps are said: {:?}", out.notes);
        return;
    }
    panic!("five lossy recordings through a 2-event buffer dropped nothing");
}
