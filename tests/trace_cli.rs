//! `run --record`, `check` and `replay --exec` through the binary: exit codes and the words
//! users see. Short op-counted runs.

use std::path::Path;
use std::process::{Command, Output};

fn slotscope(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_slotscope"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// The partial files of recordings in `dir` (`NAME.<pid>-<n>.partial`).
fn partials(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial"))
        .collect()
}

#[test]
fn record_check_and_reexecute_a_clean_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = slotscope(&["run", "churn", "--capacity", "1024", "--ops", "3000", "--record", "ok.trace"], d);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("recorded ok.trace"), "{}", text(&o));
    assert!(d.join("ok.trace").exists() && partials(d).is_empty(), "{:?}", partials(d));

    let o = slotscope(&["check", "ok.trace"], d);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("no violation found"), "{}", text(&o));

    let o = slotscope(&["replay", "ok.trace", "--exec"], d);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("no divergence"), "{}", text(&o));

    // Cut inside the last record, or exactly before it (what a killed recorder leaves): what
    // is there is checked, and either way the answer is "incomplete" (exit 6), said on stderr.
    let bytes = std::fs::read(d.join("ok.trace")).unwrap();
    let mut last = 10; // after the prologue: records are len (u32 LE) | type | body | crc (u32)
    let mut at = 10;
    while at < bytes.len() {
        last = at;
        at += 4 + u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize + 4;
    }
    for (name, cut) in [("cut.trace", bytes.len() - 3), ("boundary.trace", last)] {
        std::fs::write(d.join(name), &bytes[..cut]).unwrap();
        let o = slotscope(&["check", name], d);
        assert_eq!(o.status.code(), Some(6), "{name}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("incomplete"),
            "{name}: said on stderr: {}",
            text(&o)
        );
        let o = slotscope(&["replay", name, "--exec"], d);
        assert_eq!(o.status.code(), Some(6), "{name}: {}", text(&o));
    }
    let o = slotscope(&["check", "cut.trace"], d);
    assert!(text(&o).contains("truncated in record"), "{}", text(&o));
    let o = slotscope(&["check", "boundary.trace"], d);
    assert!(text(&o).contains("no end record"), "{}", text(&o));

    // A newer format version is refused with a clear message.
    let mut newer = bytes.clone();
    newer[8] = 7;
    newer[9] = 0;
    std::fs::write(d.join("newer.trace"), &newer).unwrap();
    let o = slotscope(&["check", "newer.trace"], d);
    assert_eq!(o.status.code(), Some(4));
    assert!(
        text(&o).contains("trace format version 7 is newer than this slotscope understands (3)"),
        "{}",
        text(&o)
    );
    std::fs::write(d.join("notes.txt"), "hello").unwrap();
    let o = slotscope(&["check", "notes.txt"], d);
    assert_eq!(o.status.code(), Some(4));
    assert!(text(&o).contains("not a slotscope trace"), "{}", text(&o));
    let o = slotscope(&["check", "missing.trace"], d);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
}

#[test]
fn a_bug_zoo_recording_fails_the_check_and_emits_a_test() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = slotscope(
        &["run", "stale-keys", "--variant", "no-generation-check", "--ops", "20000", "--record", "bug.trace"],
        d,
    );
    assert_eq!(o.status.code(), Some(1), "the run's own self-checks fail too: {}", text(&o));
    let o = slotscope(&["check", "bug.trace", "--emit-test", "repro"], d);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("BROKEN ON PURPOSE"), "{t}");
    assert!(t.contains("first illegal operation: event "), "{t}");
    assert!(t.contains(">> "), "the timeline marks the illegal op: {t}");
    assert!(t.contains("wrote a sequential test into repro"), "{t}");
    let src = std::fs::read_to_string(d.join("repro/tests/repro.rs")).unwrap();
    assert!(src.contains("const VARIANT: Variant = Variant::NoGenerationCheck;"));
    assert!(src.contains("<- the violation"));
    let manifest = std::fs::read_to_string(d.join("repro/Cargo.toml")).unwrap();
    assert!(manifest.contains("slotscope-table = { path = "), "{manifest}");

    // Re-execution stops at the first stale hit: either the re-executed table (broken the
    // same way) repeats it and breaks the invariant, or its own key order left the slot
    // unused and the result diverges from the recording. Both name the event.
    let o = slotscope(&["replay", "bug.trace", "--exec"], d);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("first divergence: event "), "{t}");
    assert!(t.contains("a stale key must miss") || t.contains("; re-executed -> "), "{t}");
}

#[test]
fn bad_record_flags_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let o = slotscope(
        &["run", "churn", "--ops", "10", "--record", "x.trace", "--record-limit", "lots"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("--record-limit"), "{}", text(&o));
    // The refused run wrote nothing: replaying it names the file (exit 4, an unreadable trace).
    let o = slotscope(&["replay", "x.trace"], dir.path());
    assert_eq!(o.status.code(), Some(4));
    assert!(text(&o).contains("x.trace: cannot read the trace"), "{}", text(&o));
    let o = slotscope(&["replay", "x.trace", "--exec", "--at-violation"], dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[cfg(unix)]
#[test]
fn sigterm_stops_the_run_and_leaves_a_closed_trace() {
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut child = Command::new(env!("CARGO_BIN_EXE_slotscope"))
        .args(["run", "read-heavy", "-d", "60s", "--record", "sig.trace"])
        .current_dir(d)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait (generously) until recording has begun, then signal.
    let deadline = Instant::now() + Duration::from_secs(60);
    while partials(d).is_empty() {
        assert!(Instant::now() < deadline, "recording never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let kill = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143));
    let o = slotscope(&["check", "sig.trace"], d);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("closed: the run was stopped before its end"), "{t}");
}

#[test]
fn replay_without_a_terminal_prints_a_summary_and_refuses_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = slotscope(&["run", "churn", "--capacity", "1024", "--ops", "2000", "--record", "ok.trace"], d);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // stdout is a pipe here: the summary, not the TUI.
    let o = slotscope(&["replay", "ok.trace"], d);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("scenario `churn`") && out.contains("table: slotscope, 1024 slots"), "{out}");
    assert!(out.contains("read to the end") && out.contains("run ops: "), "{out}");
    assert!(!out.contains("\x1b["), "no escape codes");

    // A truncated trace opens: up to its last whole record, saying where it stopped.
    let bytes = std::fs::read(d.join("ok.trace")).unwrap();
    std::fs::write(d.join("cut.trace"), &bytes[..bytes.len() / 2]).unwrap();
    let o = slotscope(&["replay", "cut.trace"], d);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("reading stopped: ") && out.contains("truncated in record"), "{out}");
    assert!(out.contains("not closed"), "{out}");

    // Unknown version: exit 4 with a clear message; a missing file too.
    let mut newer = bytes.clone();
    newer[8] = 4;
    newer[9] = 0;
    std::fs::write(d.join("newer.trace"), &newer).unwrap();
    let o = slotscope(&["replay", "newer.trace"], d);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("newer.trace: trace format version 4 is newer"), "{}", text(&o));
    let o = slotscope(&["replay", "nothing-here.trace"], d);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("nothing-here.trace: cannot read the trace"), "{}", text(&o));
    let o = slotscope(&["replay", "ok.trace", "--speed", "0"], d);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// Two recordings into one file at once: the second is refused before it runs, naming the
/// first; once the first has closed, the file takes a new recording. A directory as the
/// target is refused before the run too, and leaves nothing behind.
#[test]
fn a_trace_file_takes_one_recording_at_a_time() {
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut first = Command::new(env!("CARGO_BIN_EXE_slotscope"))
        .args(["run", "read-heavy", "-d", "60s", "-t", "1", "--record", "x.trace"])
        .current_dir(d)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while partials(d).is_empty() {
        assert!(Instant::now() < deadline, "the first recording never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let started = Instant::now();
    let second = slotscope(&["run", "churn", "--ops", "100", "-t", "1", "--record", "x.trace"], d);
    let t = text(&second);
    assert_eq!(second.status.code(), Some(5), "{t}");
    assert!(t.contains(&format!("pid {}", first.id())) && t.contains("is recording into"), "{t}");
    assert!(started.elapsed() < Duration::from_secs(30), "refused before running");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(first.id() as i32), nix::sys::signal::Signal::SIGTERM)
        .unwrap();
    assert_eq!(first.wait().unwrap().code(), Some(143));
    let o = slotscope(&["check", "x.trace"], d);
    assert_eq!(o.status.code(), Some(0), "the first run's trace is whole: {}", text(&o));
    let third = slotscope(&["run", "churn", "--ops", "100", "-t", "1", "--record", "x.trace"], d);
    assert_eq!(third.status.code(), Some(0), "{}", text(&third));
    let o = slotscope(&["check", "x.trace"], d);
    assert!(text(&o).contains("scenario `churn`"), "the third run's trace replaced it: {}", text(&o));
    let names: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["x.trace"], "no partial or lock file left");

    std::fs::create_dir(d.join("adir")).unwrap();
    let o = slotscope(&["run", "churn", "--ops", "100", "-t", "1", "--record", "adir"], d);
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    assert!(text(&o).contains("it is a directory"), "{}", text(&o));
    assert!(!text(&o).contains("throughput"), "refused before the run: {}", text(&o));
    assert!(partials(d).is_empty());
}

/// A trace rewritten to claim a table of `capacity` slots prefilled to `prefill` (the
/// committed 1-thread fixture's records otherwise), as a forged or damaged file might.
fn forged(dir: &Path, name: &str, capacity: usize, prefill: f64) -> std::path::PathBuf {
    use slotscope_trace::{Record, Trace, TraceWriter};
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("stress/trace/tests/data/traces/correct-1t.trace");
    let mut trace = Trace::load(&fixture).unwrap();
    trace.header.table.capacity = capacity as u64;
    trace.header.table.prefill = prefill;
    let path = dir.join(name);
    let mut w = TraceWriter::new(std::fs::File::create(&path).unwrap()).unwrap();
    w.write(&Record::Header(Box::new(trace.header.clone()))).unwrap();
    for mut r in trace.records {
        if let Record::TableBegin(b) = &mut r {
            b.capacity = Some(capacity as u64);
            let g = b.geometry.unwrap();
            b.geometry = Some(slotscope_table::Geometry::new(capacity, g.layout(), g.line_bytes()).unwrap());
        }
        w.write(&r).unwrap();
    }
    path
}

/// Sizes a trace claims are checked against what it holds before anything is allocated for
/// them: a header that promises a prefill the file does not hold is refused as damaged (4), a
/// table too large to re-execute is left out and said so (6), never allocated.
#[test]
fn claimed_sizes_are_checked_before_they_are_allocated() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    forged(d, "promise.trace", 1 << 27, 0.5);
    let o = slotscope(&["check", "promise.trace"], d);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("contradicts itself") && text(&o).contains("prefill"), "{}", text(&o));
    let o = slotscope(&["replay", "promise.trace", "--exec"], d);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));

    forged(d, "huge.trace", 1 << 27, 0.0);
    let o = slotscope(&["replay", "huge.trace", "--exec"], d);
    assert_eq!(o.status.code(), Some(6), "{}", text(&o));
    assert!(text(&o).contains("too large to re-execute"), "{}", text(&o));
    assert!(text(&o).contains("more than the 1024 MiB allowed"), "{}", text(&o));
    // The replay does not model a table that large (it would allocate for every slot): it
    // opens the trace as it would another backend's.
    let o = slotscope(&["replay", "huge.trace"], d);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

/// A trace that arrives through a FIFO replays (it is read once into a temporary file) and
/// checks, like a file.
#[test]
fn traces_read_from_a_fifo() {
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("stress/trace/tests/data/traces/correct-1t.trace");
    let bytes = std::fs::read(&fixture).unwrap();
    for args in [&["replay", "fifo"][..], &["check", "fifo"], &["replay", "fifo", "--exec"]] {
        let fifo = d.join("fifo");
        let _ = std::fs::remove_file(&fifo);
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let feeder = {
            let (fifo, bytes) = (fifo.clone(), bytes.clone());
            std::thread::spawn(move || std::fs::write(fifo, bytes).unwrap())
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_slotscope"))
            .args(args)
            .current_dir(d)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "{args:?} hangs on a FIFO");
            std::thread::sleep(Duration::from_millis(20));
        }
        let o = child.wait_with_output().unwrap();
        feeder.join().unwrap();
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", text(&o));
        assert!(text(&o).contains("stale-keys"), "{args:?}: {}", text(&o));
    }
}

/// A recording with a stretch of ops missing (one ops record swapped for the drop record a
/// lossy recorder writes in its place): nothing may be called a violation, what rests on the
/// gap is "incomplete", and the exit code says so (6), on stderr too.
#[test]
fn a_gap_makes_findings_incomplete_never_violations() {
    use slotscope_trace::{DropRecord, Record, Trace, TraceWriter};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let args = ["run", "stale-keys", "--ops", "20000", "-t", "2", "--capacity", "16", "--prefill", "1.0"];
    let o = slotscope(&[&args[..], &["--record", "whole.trace"]].concat(), d);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = slotscope(&["check", "whole.trace"], d);
    assert_eq!(o.status.code(), Some(0), "the whole trace is clean: {}", text(&o));
    assert!(text(&o).contains("clean: the history is whole"), "{}", text(&o));

    let trace = Trace::load(&d.join("whole.trace")).unwrap();
    let batches: Vec<usize> =
        (0..trace.records.len()).filter(|&i| matches!(trace.records[i], Record::Ops(_))).collect();
    // The biggest batch (how ops are batched depends on the writer's timing; a batch of 2 ops
    // may leave nothing that rests on it).
    let cut = *batches
        .iter()
        .max_by_key(|&&i| match &trace.records[i] {
            Record::Ops(b) => b.events.len(),
            _ => 0,
        })
        .unwrap();
    let mut w = TraceWriter::new(std::fs::File::create(d.join("gap.trace")).unwrap()).unwrap();
    w.write(&Record::Header(Box::new(trace.header.clone()))).unwrap();
    for (i, r) in trace.records.iter().enumerate() {
        match r {
            Record::Ops(b) if i == cut => {
                let (first, last) = (b.events.first().unwrap(), b.events.last().unwrap());
                w.write(&Record::Drop(DropRecord {
                    thread: b.thread,
                    segment: b.segment,
                    count: b.events.len() as u64,
                    first_op: first.op_index,
                    last_op: last.op_index,
                    first_ns: first.start_ns,
                    last_ns: last.end_ns,
                }))
                .unwrap();
            }
            r => {
                w.write(r).unwrap();
            }
        }
    }
    w.flush().unwrap();
    drop(w);
    let o = slotscope(&["check", "gap.trace"], d);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(6), "{out}");
    assert!(!out.contains("VIOLATION"), "{out}");
    assert!(out.contains("ops dropped between"), "the gap is named: {out}");
    assert!(
        out.contains("could be explained by missing events"),
        "findings resting on it are incomplete: {out}"
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("incomplete"), "{out}");
}
