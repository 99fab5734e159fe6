//! The replay against real traces recorded here (a small run on one or two threads): seeking
//! by op, by time and by event, the frame at the cursor, the text summary. The model's keys
//! are tested in `model_tests.rs` without any file.

use std::path::{Path, PathBuf};

use slotscope_stress::recorder::RecordOptions;
use slotscope_stress::{run_headless_recorded, GroupSpec, Mix, PinPolicy, RunSpec, StopSpec, TableSpec};
use slotscope_trace::replay::{IndexOptions, Player, Target};

use super::frame::{load, TraceParts};
use super::summary;

/// Records `ops` ops per thread on a 256-slot table into `dir`.
pub(crate) fn record(dir: &Path, threads: usize, ops: u64) -> PathBuf {
    let spec = RunSpec {
        name: "replayed".into(),
        source: "name = \"replayed\"\n".into(),
        table: TableSpec { capacity: 256, prefill: 0.5, ..TableSpec::default() },
        groups: vec![GroupSpec {
            name: "main".into(),
            threads,
            mix: Mix { lookup: 50, insert: 25, remove: 25 },
            pin: PinPolicy::None,
            ..GroupSpec::default()
        }],
        stop: StopSpec::Ops(ops),
        ..RunSpec::default()
    };
    let path = dir.join("run.trace");
    run_headless_recorded(spec, &RecordOptions::new(&path)).unwrap();
    path
}

fn open(path: &Path) -> (Player, TraceParts) {
    let p = Player::open(path, IndexOptions { checkpoint_every: 500, ..IndexOptions::default() }).unwrap();
    let parts = TraceParts::of(p.index());
    (p, parts)
}

#[test]
fn the_frame_follows_the_cursor_and_steps_back_to_the_same_table() {
    let dir = tempfile::tempdir().unwrap();
    let path = record(dir.path(), 2, 1500);
    let (mut p, parts) = open(&path);
    assert!(parts.facts.events > 3000, "prefill and two threads' ops: {}", parts.facts.events);
    assert!(parts.stopped.is_none());
    p.seek(Target::Time(parts.facts.zero_ns)).unwrap();
    let at_zero = load(&p, &parts, false, None).unwrap();
    let snap = at_zero.snapshot.as_ref().expect("the slotscope table is modelled");
    assert_eq!(snap.capacity(), 256);
    assert_eq!(at_zero.header.len, snap.occupied() as u64);
    assert!(at_zero.header.len > 0, "the prefill is applied at time zero");
    assert_eq!(at_zero.replay.cursor_ns, 0);
    assert!(at_zero.replay.event_text.contains("prefill op"), "{}", at_zero.replay.event_text);

    // Forward a few hundred ops one by one, then back: the same table and counters.
    let start = at_zero.position;
    for r in start + 1..=start + 300 {
        p.seek(Target::Rank(r)).unwrap();
    }
    let ahead = load(&p, &parts, false, None).unwrap();
    assert_eq!(ahead.position, start + 300);
    assert_ne!(ahead.snapshot, at_zero.snapshot, "300 ops of churn change the table");
    let run_ops = |f: &super::frame::ReplayFrame| -> u64 {
        f.threads.rows.iter().map(|r| r.lookups + r.inserts + r.removes).sum()
    };
    assert_eq!(run_ops(&ahead) - run_ops(&at_zero), 300, "every op after time zero is a run op");
    for r in (start..start + 300).rev() {
        p.seek(Target::Rank(r)).unwrap();
    }
    let back = load(&p, &parts, false, None).unwrap();
    assert_eq!(back.position, start);
    assert_eq!(back.snapshot, at_zero.snapshot, "one op forward and back 300 times: the same table");
    assert_eq!(run_ops(&back), run_ops(&at_zero));

    // By time: halfway through the run, then the end, then back to halfway.
    let (first, last) = parts.facts.span_ns;
    let mid = parts.facts.zero_ns + (last - parts.facts.zero_ns) / 2;
    p.seek(Target::Time(mid)).unwrap();
    let half = load(&p, &parts, false, None).unwrap();
    assert_eq!(half.time_ns, mid);
    assert!(half.position > start && half.position < parts.facts.events);
    p.seek(Target::End).unwrap();
    let end = load(&p, &parts, false, None).unwrap();
    assert_eq!(end.position, parts.facts.events);
    assert_eq!(run_ops(&end), 3000);
    p.seek(Target::Time(mid)).unwrap();
    let half_again = load(&p, &parts, false, None).unwrap();
    assert_eq!((half_again.position, &half_again.snapshot), (half.position, &half.snapshot));
    assert!(first < mid);

    // By event number: the op at the cursor is that event.
    p.seek(Target::Event(1234)).unwrap();
    let ev = load(&p, &parts, false, None).unwrap();
    assert!(ev.replay.event_text.starts_with("event #1234 · "), "{}", ev.replay.event_text);
}

#[test]
fn the_recorded_scan_and_the_line_writers_are_shown_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let path = record(dir.path(), 1, 2000);
    let (mut p, parts) = open(&path);
    p.seek(Target::End).unwrap();
    let f = load(&p, &parts, true, Some(0)).unwrap();
    // The recorder scans the table when it ends: at the end, the scan is the table.
    assert!(matches!(f.replay.table, slotscope_views::TableSource::Scan { .. }), "{:?}", f.replay.table);
    let modelled = load(&p, &parts, false, None).unwrap();
    let states = |f: &super::frame::ReplayFrame| f.snapshot.as_ref().map(|s| s.states().to_vec());
    assert!(states(&f).is_some());
    assert_eq!(states(&f), states(&modelled), "the scan at the end and the model agree slot by slot");
    let activity = f.line_activity.expect("the writers of line 0");
    assert_eq!(activity.line, 0);
    assert!(modelled.line_activity.is_none());
}

#[test]
fn a_truncated_trace_replays_to_its_last_whole_record_and_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let path = record(dir.path(), 1, 2000);
    let bytes = std::fs::read(&path).unwrap();
    // Cut 5 bytes into the record that holds the two-thirds point (never on a boundary).
    let (_, mut reader) = slotscope_trace::TraceReader::open(&path).unwrap();
    let two_thirds = bytes.len() as u64 * 2 / 3;
    let mut at = 0;
    while let Some((pos, _)) = reader.next_record() {
        at = pos.offset;
        if pos.offset + pos.bytes > two_thirds {
            break;
        }
    }
    let cut = dir.path().join("cut.trace");
    std::fs::write(&cut, &bytes[..usize::try_from(at).unwrap() + 5]).unwrap();
    let (mut p, parts) = open(&cut);
    let stopped = parts.stopped.clone().expect("a stop reason");
    assert!(stopped.starts_with("reading stopped: "), "{stopped}");
    assert!(stopped.contains("truncated in record"), "{stopped}");
    p.seek(Target::End).unwrap();
    let f = load(&p, &parts, false, None).unwrap();
    assert_eq!(f.position, parts.facts.events);
    let (text, alarm) = f.replay.notice.expect("the end of a cut trace says so");
    assert!(alarm && text.contains(&stopped), "{text}");
    let text = summary(&cut, &mut p).unwrap();
    assert!(text.contains(&stopped), "{text}");
    assert!(text.contains("not closed: no end record"), "{text}");
}

#[test]
fn the_summary_names_the_run_and_its_ops() {
    let dir = tempfile::tempdir().unwrap();
    let path = record(dir.path(), 2, 500);
    let mut p = Player::open(&path, IndexOptions::default()).unwrap();
    let text = summary(&path, &mut p).unwrap();
    assert!(text.contains("scenario `replayed`"), "{text}");
    assert!(text.contains("table: slotscope, 256 slots"), "{text}");
    assert!(text.contains("t0 (main): 500 ops") && text.contains("t1 (main): 500 ops"), "{text}");
    assert!(text.contains("closed: ") && text.contains("read to the end"), "{text}");
}

#[test]
fn at_violation_marks_the_checkers_first_find_and_v_can_go_there() {
    let dir = tempfile::tempdir().unwrap();
    // One thread on a broken table that skips the generation check, with stale keys: a stale
    // lookup finds the slot's new occupant, deterministically (one thread, a fixed seed).
    let spec = RunSpec {
        name: "broken".into(),
        source: "name = \"broken\"\n".into(),
        table: TableSpec {
            capacity: 64,
            prefill: 0.5,
            variant: slotscope_table::Variant::NoGenerationCheck,
            ..TableSpec::default()
        },
        groups: vec![GroupSpec {
            name: "main".into(),
            threads: 1,
            mix: Mix { lookup: 50, insert: 25, remove: 25 },
            pin: PinPolicy::None,
            stale_share: 0.5,
            ..GroupSpec::default()
        }],
        stop: StopSpec::Ops(2000),
        ..RunSpec::default()
    };
    let path = dir.path().join("broken.trace");
    run_headless_recorded(spec, &RecordOptions::new(&path)).unwrap();
    let (mut p, mut parts) = open(&path);
    super::mark_violation(&path, &p, &mut parts).unwrap();
    let event = parts.facts.violation.expect("the checker finds the stale hit");
    assert!(parts.facts.violation_key.is_some(), "the finding names the stale key: `v` goes to its slot");
    assert!(parts.marks.iter().any(|m| m.kind == slotscope_views::MarkKind::Violation));
    p.seek(Target::Event(event)).unwrap();
    let f = load(&p, &parts, false, None).unwrap();
    assert!(f.replay.event_text.starts_with(&format!("event #{event} · ")), "{}", f.replay.event_text);
    assert!(f.replay.event_text.contains("-> hit"), "a stale key that hit: {}", f.replay.event_text);
}

#[test]
fn s_saves_the_replay_screen_and_where_the_cursor_stands() {
    let dir = tempfile::tempdir().unwrap();
    let path = record(dir.path(), 1, 500);
    let (mut p, parts) = open(&path);
    p.seek(Target::Rank(300)).unwrap();
    let shown = load(&p, &parts, false, None).unwrap();
    let area = ratatui::layout::Rect::new(0, 0, 120, 40);
    let theme = slotscope_views::Theme::default();
    let m = super::model::Model::new(parts.facts.clone(), shown, theme, area, 1.0, 1_000_000);
    let out = dir.path().join("saved");
    std::fs::create_dir(&out).unwrap();
    let paths = super::save(&m, &out, std::time::UNIX_EPOCH).unwrap();
    assert_eq!(paths.len(), 2);
    let text = std::fs::read_to_string(&paths[0]).unwrap();
    assert!(text.contains("REPLAY") && text.contains(" 300 of "), "{text}");
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&paths[1]).unwrap()).unwrap();
    assert_eq!(doc["replay"]["op"], 300);
    assert_eq!(doc["table"]["capacity"], 256, "{doc}");
    assert!(paths[0].file_name().unwrap().to_string_lossy().starts_with("slotscope-replayed-19700101"));
}
