//! The `slotscope` binary as a user runs it: headless runs, every output format, exit codes,
//! signals, `compare`. Runs are short and stop after `--ops N` (exact, deterministic op
//! streams), so nothing here depends on speed; stdout is a pipe, so every run is headless.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value as Json;

const BIN: &str = env!("CARGO_BIN_EXE_slotscope");

fn slotscope(args: &[&str]) -> Output {
    Command::new(BIN).args(args).stdin(Stdio::null()).output().expect("the binary runs")
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or_else(|| panic!("killed by a signal: {o:?}"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf-8 stderr")
}

/// Runs and expects `want` as the exit code, showing stderr if not.
fn expect_code(args: &[&str], want: i32) -> Output {
    let o = slotscope(args);
    assert_eq!(code(&o), want, "slotscope {}\nstderr:\n{}", args.join(" "), stderr(&o));
    o
}

fn json_of(o: &Output) -> Json {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", stdout(o)))
}

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slotscope-cli-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

fn digests(doc: &Json) -> Vec<String> {
    doc["threads"].as_array().unwrap().iter().map(|t| t["digest"].as_str().unwrap().to_owned()).collect()
}

fn schema_validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report.schema.json");
    let schema: Json = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema")
}

fn assert_valid(doc: &Json) {
    let v = schema_validator();
    let errors: Vec<String> = v.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "JSON report does not match docs/report.schema.json:\n{}", errors.join("\n"));
}

#[test]
fn every_builtin_scenario_runs_headless_without_violations() {
    let listed = stdout(&expect_code(&["scenarios"], 0));
    let names: Vec<&str> = listed.lines().filter_map(|l| l.split_whitespace().next()).collect();
    let builtins: Vec<&str> = slotscope_stress::scenario::BUILTINS.iter().map(|b| b.name).collect();
    assert_eq!(names, builtins, "`slotscope scenarios` lists every built-in");
    for name in names {
        let o = expect_code(&["run", name, "--ops", "1500", "--output-format", "json"], 0);
        let doc = json_of(&o);
        assert_valid(&doc);
        assert_eq!(doc["checks"]["violations"]["count"], 0, "{name}");
        assert_eq!(doc["checks"]["passed"], true, "{name}");
        assert_eq!(doc["spec"]["name"], name);
        let err = stderr(&o);
        assert!(err.contains(&format!("repeat: slotscope run {name} --seed ")), "{name}: {err}");
    }
}

#[test]
fn broken_variant_is_caught_and_fails_the_run() {
    // One thread: the run is sequential, so its violations are certain, not a race.
    let o = expect_code(
        &["run", "stale-keys", "--variant", "no-generation-check", "-t", "1", "--ops", "20000"],
        1,
    );
    let text = stdout(&o);
    assert!(text.contains("BROKEN TABLE VARIANT `no-generation-check`"), "{text}");
    assert!(text.contains("self-check  FAILED"), "{text}");
    assert!(stderr(&o).contains("self-check FAILED"), "{}", stderr(&o));
    // The same run on the correct table passes.
    expect_code(&["run", "stale-keys", "-t", "1", "--ops", "20000"], 0);
}

#[test]
fn fail_if_sets_the_exit_code_and_shows_the_measured_value() {
    let base = ["run", "read-heavy", "--ops", "2000", "-t", "1"];
    let with =
        |extra: &[&str]| -> Vec<String> { base.iter().chain(extra).map(|s| (*s).to_owned()).collect() };
    let run = |extra: &[&str], want: i32| {
        let args = with(extra);
        expect_code(&args.iter().map(String::as_str).collect::<Vec<_>>(), want)
    };
    run(&["--fail-if", "violations>0"], 0);
    run(&["--fail-if", "throughput<1"], 0);
    // A latency includes a clock read, so it is at least 1 ns; no op takes an hour.
    run(&["--fail-if", "p99(lookup)>1h", "--fail-if", "violations>0"], 0);
    let o = run(&["--fail-if", "max(lookup)>=1ns"], 1);
    let err = stderr(&o);
    assert!(err.contains("--fail-if failed: max(lookup) = "), "{err}");
    assert!(err.contains(">= 1ns"), "{err}");
    let o = run(&["--fail-if", "throughput>1", "--fail-if", "violations>0"], 1);
    let err = stderr(&o);
    assert!(err.contains("failed: throughput = ") && err.contains("/s > 1"), "{err}");
    assert!(!err.contains("violations ="), "only failed conditions are printed: {err}");
    // A metric the run did not measure cannot pass.
    let o = expect_code(&["run", "churn", "--ops", "500", "--fail-if", "p99(lookup)>1us"], 1);
    assert!(stderr(&o).contains("was not measured in this run"), "{}", stderr(&o));
    // Verdicts are in the JSON report too.
    let o = run(&["--fail-if", "ops(lookup)<1", "--output-format", "json"], 0);
    let doc = json_of(&o);
    assert_eq!(doc["fail_if"][0]["condition"], "ops(lookup) < 1");
    assert_eq!(doc["fail_if"][0]["failed"], false);
    assert!(doc["fail_if"][0]["measured"].as_f64().unwrap() > 0.0);
}

#[test]
fn bad_values_exit_2_naming_the_flag() {
    let o = expect_code(&["run", "churn", "--fail-if", "p99(lookp)>2us"], 2);
    let err = stderr(&o);
    assert!(err.contains("--fail-if") && err.contains("unknown operation `lookp`"), "{err}");
    assert!(err.contains("did you mean `lookup`?"), "{err}");
    let o = expect_code(&["run", "churn", "-d", "5 parsecs"], 2);
    assert!(stderr(&o).contains("--duration"), "{}", stderr(&o));
    let o = expect_code(&["run", "churn", "--threads", "many"], 2);
    assert!(stderr(&o).contains("--threads"), "{}", stderr(&o));
    let o = expect_code(&["run", "churn", "--time-every", "0"], 2);
    assert!(stderr(&o).contains("--time-every"), "{}", stderr(&o));
    let o = expect_code(&["run", "chrun"], 2);
    assert!(stderr(&o).contains("did you mean `churn`?"), "{}", stderr(&o));
    let o = expect_code(&["compare", "churn", "--backends", "slotscope,dashmapp"], 2);
    assert!(stderr(&o).contains("--backends") && stderr(&o).contains("did you mean `dashmap`?"));
    // Every flag whose value is parsed: exit 2, the flag named, the bad part pointed at.
    for (flag, value, says) in [
        ("--layout", "interleave", "did you mean `interleaved`?"),
        ("--variant", "relaxed", "unknown variant `relaxed`"),
        ("--backend", "dashmapp", "did you mean `dashmap`?"),
        ("--cores", "0-x", "expected a core number"),
        ("--pin", "sideways", "sideways"),
        ("--rate", "fast", "fast"),
        ("--mix", "1/2", "1/2"),
        ("--keys", "zipf:", "zipf"),
        ("--record-limit", "bogus", "not a size or a duration"),
        ("--compare-layout", "linear", "two layouts"),
        ("--threads", "0", "a run needs at least 1 thread"),
        ("--rate", "-5", "a rate cannot be negative"),
        ("--ops", "0", "at least 1 operation"),
    ] {
        let o = expect_code(&["run", "churn", "--no-tui", flag, value], 2);
        let err = stderr(&o);
        assert!(err.contains(flag) && err.contains(says), "{flag} {value}:\n{err}");
        assert!(err.contains('^'), "{flag} {value}: a caret under the bad part:\n{err}");
    }
    // Headless runs check the TUI's rates too; negative numbers are values, not flags.
    for args in [&["--fps", "0"][..], &["--sample-hz", "61"], &["--time-every", "0"], &["--seed", "-1"]] {
        let o = expect_code(&[&["run", "churn", "--no-tui"][..], args].concat(), 2);
        assert!(stderr(&o).contains(args[0]) && !stderr(&o).contains("-- "), "{args:?}: {}", stderr(&o));
    }
    let o = expect_code(&["check", "x.trace", "--window-time-limit", "forever"], 2);
    assert!(stderr(&o).contains("--window-time-limit"), "{}", stderr(&o));
}

#[test]
fn bad_scenario_file_exits_3_with_its_position() {
    let dir = scratch("bad-scenario");
    let file = dir.join("broken.toml");
    fs::write(&file, "name = \"broken\"\n[table]\ncapacity = 1024\nlayuot = \"linear\"\n").unwrap();
    let o = expect_code(&["run", file.to_str().unwrap(), "--ops", "10"], 3);
    let err = stderr(&o);
    assert!(err.contains("broken.toml:4:1"), "{err}");
    assert!(err.contains("did you mean `layout`?"), "{err}");
    assert!(o.stdout.is_empty(), "no report for a run that never started");
    let missing = dir.join("missing.toml");
    expect_code(&["run", missing.to_str().unwrap()], 3);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn json_report_matches_the_schema_and_the_run() {
    let o = expect_code(
        &["run", "read-heavy", "--mix", "exchange", "-t", "2", "--ops", "3000", "--output-format", "json"],
        0,
    );
    let doc = json_of(&o);
    assert_valid(&doc);
    assert_eq!(doc["schema_version"], 3);
    // Latency summaries say `timed` (the ops timed), not `count`: the op count is the op's.
    let lookup = &doc["ops"][0];
    assert!(lookup["latency"]["service"]["timed"].as_u64().unwrap() <= lookup["count"].as_u64().unwrap());
    assert!(lookup["latency"]["service"].get("count").is_none());
    assert_eq!(doc["spec"]["groups"][0]["mix"], serde_json::json!([10, 45, 45]));
    assert_eq!(doc["threads"].as_array().unwrap().len(), 2);
    assert_eq!(
        doc["totals"]["lookups"].as_u64().unwrap()
            + doc["totals"]["inserts"].as_u64().unwrap()
            + doc["totals"]["removes"].as_u64().unwrap(),
        6000
    );
    assert!(doc["machine"]["cpu_model"].is_string());
    assert!(!doc["machine"]["groups"].as_array().unwrap().is_empty());
    assert!(doc["repeat_command"].as_str().unwrap().starts_with("slotscope run read-heavy --seed "));
    assert_eq!(doc["stopped_by"], Json::Null);
    // The series sums to the totals.
    let intervals = doc["series"]["intervals"].as_array().unwrap();
    let summed: u64 = intervals.iter().map(|i| i["counts"]["inserts"].as_u64().unwrap()).sum();
    assert_eq!(summed, doc["totals"]["inserts"].as_u64().unwrap());
    // The schema rejects what it should: a wrong version, a missing field.
    let v = schema_validator();
    let mut bad = doc.clone();
    bad["schema_version"] = serde_json::json!(2);
    assert!(!v.is_valid(&bad));
    // A summary in the old words (`count`, before schema_version 3) is not this schema's.
    let mut bad = doc.clone();
    let service = bad["ops"][0]["latency"]["service"].as_object_mut().unwrap();
    let timed = service.remove("timed").unwrap();
    service.insert("count".into(), timed);
    assert!(!v.is_valid(&bad));
    let mut bad = doc;
    bad.as_object_mut().unwrap().remove("threads");
    assert!(!v.is_valid(&bad));
}

#[test]
fn same_seed_same_digests_other_seed_other_digests() {
    let run = |seed: &str| {
        json_of(&expect_code(
            &[
                "run",
                "churn",
                "--mix",
                "exchange",
                "-t",
                "2",
                "--ops",
                "4000",
                "--seed",
                seed,
                "--output-format",
                "json",
            ],
            0,
        ))
    };
    let (a, b, c) = (run("42"), run("42"), run("43"));
    assert_eq!(a["determinism"]["reproducible"], true);
    assert_eq!(digests(&a), digests(&b));
    assert_ne!(digests(&a), digests(&c));
    assert_ne!(digests(&a)[0], digests(&a)[1], "threads draw different streams");
    assert_eq!(a["totals"]["inserts"], b["totals"]["inserts"], "the op mix drawn is the same");
}

/// CSV rows by header name, read back with the `csv` crate (and, since no field needs quoting,
/// the same as splitting at commas).
fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().expect("a header").iter().map(str::to_owned).collect();
    let rows: Vec<Vec<String>> =
        reader.records().map(|r| r.expect("a CSV row").iter().map(str::to_owned).collect()).collect();
    let naive: Vec<Vec<String>> =
        text.lines().skip(1).map(|l| l.split(',').map(str::to_owned).collect()).collect();
    assert_eq!(rows, naive, "plain rows, nothing quoted");
    for r in &rows {
        assert_eq!(r.len(), header.len(), "row {r:?}");
    }
    (header, rows)
}

#[test]
fn the_report_says_what_the_instrument_costs_and_what_the_machine_did() {
    let args = ["run", "churn", "-t", "2", "--ops", "200000", "--seed", "3", "--no-tui", "--detail"];
    let out = expect_code(&args, 0);
    let (text, err) = (stdout(&out), String::from_utf8_lossy(&out.stderr).into_owned());
    // Automatic timing: k chosen at start, a power of two, in the banner and the repeat line.
    let k: u32 = err
        .split("1 op in ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no timing line in the banner:\n{err}"));
    assert!(k.is_power_of_two() && k <= 4096, "{k}");
    assert!(err.contains(&format!("--time-every {k} ")), "the repeat line fixes k:\n{err}");
    assert!(text.contains(&format!("1 op in {k} timed (chosen at start")), "{text}");
    assert!(text.contains("engine      overhead ~"), "{text}");
    assert!(text.contains("are not resolved and show as `<"), "{text}");
    assert!(text.contains("mean ") && text.contains("timed by batch"), "{text}");
    // Noise: measured or unknown, never silent; the transfer between the two worker cores
    // where there are two.
    assert!(
        text.contains("noise")
            && (text.contains("quiet:") || text.contains("NOISY:") || text.contains("noise       unknown (")),
        "{text}"
    );
    let doc = json_of(&expect_code(&[&args[..], &["--output-format", "json"]].concat(), 0));
    assert_eq!(doc["schema_version"], 3);
    assert_eq!(doc["timing"]["time_every_auto"], true);
    let c = &doc["timing"]["calibration"];
    assert!(
        c["bare_ns_per_op"].as_f64().unwrap() > 0.0 && c["engine_ns_per_op"].as_f64().unwrap() > 0.0,
        "{c}"
    );
    assert!(doc["timing"]["floor_ns"].as_f64().unwrap() >= 1.0);
    assert!(doc["batch_mean_ns_per_op"].as_f64().unwrap() > 0.0);
    assert!(doc["ops"][1]["latency"]["service_unresolved"].is_array());
    let w = &doc["machine_watch"];
    assert!(w["noise_known"].is_boolean() && w["noisy_average_threshold"] == 0.1, "{w}");
    // With `--time-every 1` the report states what timing every op adds.
    let every = stdout(&expect_code(
        &["run", "churn", "-t", "1", "--ops", "100000", "--time-every", "1", "--no-tui", "--detail"],
        0,
    ));
    assert!(every.contains("every op timed"), "{every}");
    assert!(
        every.contains("timing 1 op in 1 adds ~") || every.contains("engine      overhead not measured"),
        "{every}"
    );
}

#[test]
fn csv_series_parses_and_adds_up() {
    let args = [
        "run",
        "read-heavy",
        "--mix",
        "exchange",
        "-t",
        "2",
        "--ops",
        "3000",
        "--seed",
        "7",
        "--time-every",
        "1",
    ];
    let csv = stdout(&expect_code(&[&args[..], &["--output-format", "csv"]].concat(), 0));
    let doc = json_of(&expect_code(&[&args[..], &["--output-format", "json"]].concat(), 0));
    let (header, rows) = parse_csv(&csv);
    assert_eq!(&header[..6], ["interval_start_s", "interval_end_s", "thread", "group", "op", "ops"]);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert!(!rows.is_empty() && rows.len() % 4 == 0, "4 rows per interval x thread");
    for (op, counter) in [("lookup", "lookups"), ("insert", "inserts"), ("remove", "removes")] {
        let sum: u64 =
            rows.iter().filter(|r| r[col("op")] == op).map(|r| r[col("ops")].parse::<u64>().unwrap()).sum();
        // Same seed and op count: the same ops were drawn in both runs.
        assert_eq!(sum, doc["totals"][counter].as_u64().unwrap(), "{op}");
    }
    let all: u64 =
        rows.iter().filter(|r| r[col("op")] == "all").map(|r| r[col("ops")].parse::<u64>().unwrap()).sum();
    assert_eq!(all, 6000);
    // Every op timed (time_every 1): timed == ops on per-op rows that did any.
    for r in rows.iter().filter(|r| r[col("op")] != "all" && r[col("ops")] != "0") {
        assert_eq!(r[col("timed")], r[col("ops")], "{r:?}");
        let (p50, p99): (u64, u64) =
            (r[col("service_p50_ns")].parse().unwrap(), r[col("service_p99_ns")].parse().unwrap());
        assert!(p50 <= p99, "{r:?}");
    }
    assert!(rows.iter().all(|r| r[col("group")] == "main"));
}

#[test]
fn hlog_reads_back_with_the_hdrhistogram_reader() {
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    use hdrhistogram::serialization::Deserializer;

    let args = [
        "run",
        "read-heavy",
        "--mix",
        "exchange",
        "-t",
        "2",
        "--ops",
        "3000",
        "--seed",
        "9",
        "--time-every",
        "4",
    ];
    let log = expect_code(&[&args[..], &["--output-format", "hlog"]].concat(), 0).stdout;
    let doc = json_of(&expect_code(&[&args[..], &["--output-format", "json"]].concat(), 0));
    let mut deserializer = Deserializer::new();
    let mut per_tag: std::collections::BTreeMap<String, u64> = Default::default();
    let mut base_time = None;
    for entry in IntervalLogIterator::new(&log) {
        match entry.expect("a well-formed log entry") {
            LogEntry::BaseTime(t) => base_time = Some(t),
            LogEntry::Interval(h) => {
                let tag = h.tag().expect("every histogram is tagged").as_str().to_owned();
                let bytes = base64_decode(h.encoded_histogram());
                let hist: hdrhistogram::Histogram<u64> =
                    deserializer.deserialize(&mut bytes.as_slice()).expect("a decodable histogram");
                *per_tag.entry(tag).or_default() += hist.len();
            }
            LogEntry::StartTime(_) => {}
        }
    }
    assert!(base_time.is_some());
    // One tag per thread x op, counting every timed op of that thread.
    for t in doc["threads"].as_array().unwrap() {
        let i = t["index"].as_u64().unwrap();
        for l in t["latency"].as_array().unwrap() {
            let op = l["op"].as_str().unwrap();
            let timed = l["service"]["timed"].as_u64().unwrap();
            let tag = format!("thread{i}-{op}");
            assert_eq!(per_tag.get(&tag).copied().unwrap_or(0), timed, "{tag}: {per_tag:?}");
        }
    }
    assert_eq!(per_tag.len(), 6, "{per_tag:?}");
}

/// Standard base64 (the hlog's histogram encoding), without a dependency for it.
fn base64_decode(s: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let bytes: Vec<u8> = s.bytes().filter(|&c| c != b'=').map(value).collect();
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &v)| acc | u32::from(v) << (18 - 6 * i));
        let got = chunk.len() * 6 / 8;
        out.extend_from_slice(&n.to_be_bytes()[1..1 + got]);
    }
    out
}

#[test]
fn the_default_report_is_one_screen() {
    // Two groups (one open loop), three ops: the verdict stays within 40 lines of 120 columns,
    // labels what each latency row measures, and ends with the repeat line.
    let o = expect_code(&["run", "demo", "-t", "2", "-d", "1s", "--seed", "4", "--no-tui"], 0);
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() <= 40, "{} lines:\n{text}", lines.len());
    for l in &lines {
        assert!(
            l.chars().count() <= 120 && !l.ends_with("..."),
            "{} columns, or cut: {l}",
            l.chars().count()
        );
    }
    // (`!! instrument` when the machine was noisy.)
    let text = text.replace("!! instrument engine ~", "instrument  engine ~");
    for needle in [
        "`demo` on slotscope",
        "service time",
        "open loop, corrected from intended start",
        "is below the clock's resolution",
        "self-check  PASSED",
        "repeat      slotscope run demo --seed 4",
        "instrument  engine ~",
        "--detail: ",
    ] {
        assert!(text.contains(needle), "missing {needle:?}:\n{text}");
    }
    // The full summary's long lines are not in it.
    assert!(!text.contains("thread  group") && !text.contains("interleavings"), "{text}");
    // The repeat line, joined back across its shell continuations, is the command of the banner.
    let repeat: String = text
        .lines()
        .skip_while(|l| !l.starts_with("repeat "))
        .take_while(|l| !l.starts_with("more "))
        .map(|l| l.trim_start_matches("repeat").trim().trim_end_matches('\\').trim_end())
        .collect::<Vec<_>>()
        .join(" ");
    let banner = stderr(&o);
    let banner_repeat =
        banner.lines().find_map(|l| l.trim().strip_prefix("repeat: ")).expect("a repeat line");
    assert_eq!(repeat, banner_repeat);
}

#[test]
fn text_report_has_summary_and_spectrum() {
    // Without --spectrum, one line says how to get it (in the verdict and in the detail).
    let short = stdout(&expect_code(&["run", "read-heavy", "-t", "1", "--ops", "3000", "--seed", "5"], 0));
    assert!(
        !short.contains("# spectrum:") && short.contains("--spectrum: the percentile spectra"),
        "{short}"
    );
    let detail = stdout(&expect_code(
        &["run", "read-heavy", "-t", "1", "--ops", "3000", "--seed", "5", "--detail"],
        0,
    ));
    assert!(!detail.contains("# spectrum:") && detail.contains("add --spectrum"), "{detail}");
    let o = expect_code(
        &["run", "read-heavy", "-t", "1", "--ops", "3000", "--seed", "5", "--spectrum", "--detail"],
        0,
    );
    let text = stdout(&o);
    for needle in [
        "scenario `read-heavy`",
        "seed        5",
        "repeat      slotscope run read-heavy --seed 5 -t 1 --ops 3000",
        "interleavings",
        "self-check  PASSED",
        "clock ",
        "ns per read",
        "# spectrum: lookup service time",
    ] {
        assert!(text.contains(needle), "missing {needle:?}:\n{text}");
    }
    // The spectrum block: header, then rows of four numbers, the last of three.
    let block: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("# spectrum: lookup"))
        .skip(1)
        .take_while(|l| !l.starts_with("#["))
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(
        block[0].split_whitespace().collect::<Vec<_>>(),
        ["Value", "Percentile", "TotalCount", "1/(1-Percentile)"]
    );
    let rows: Vec<Vec<f64>> =
        block[1..].iter().map(|l| l.split_whitespace().map(|x| x.parse().unwrap()).collect()).collect();
    assert!(rows[..rows.len() - 1].iter().all(|r| r.len() == 4));
    assert_eq!(rows.last().unwrap()[1], 1.0);
}

#[test]
fn repeat_command_repeats_the_run() {
    let first = json_of(&expect_code(
        &["run", "hot-keys", "-t", "2", "--ops", "2000", "--capacity", "2048", "--output-format", "json"],
        0,
    ));
    let cmd = first["repeat_command"].as_str().unwrap().to_owned();
    let mut words: Vec<&str> = cmd.split(' ').collect();
    assert_eq!(words.remove(0), "slotscope");
    words.extend(["--output-format", "json"]);
    let again = json_of(&expect_code(&words, 0));
    assert_eq!(digests(&first), digests(&again));
    assert_eq!(first["spec"]["source"], again["spec"]["source"], "the same resolved scenario");
}

/// The `repeat:` line each run prints runs itself, as printed (through a shell, for its
/// quoting), and repeats to the same line: every built-in, and the pin flags in every form.
#[test]
fn every_printed_repeat_line_runs() {
    let repeat_of = |o: &Output| -> String {
        stderr(o)
            .lines()
            .find_map(|l| l.trim().strip_prefix("repeat: "))
            .unwrap_or_else(|| panic!("no repeat line:\n{}", stderr(o)))
            .to_owned()
    };
    let scenarios = stdout(&expect_code(&["scenarios"], 0));
    let mut cases: Vec<Vec<String>> = scenarios
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(|name| vec!["run".to_owned(), name.to_owned()])
        .collect();
    assert!(cases.len() >= 9, "{scenarios}");
    for pin in
        [&["--pin", "0"][..], &["--cores", "0"], &["--pin", "none"], &["-c", "0-1"], &["--pin", "scatter"]]
    {
        let mut c = vec!["run".to_owned(), "churn".to_owned()];
        c.extend(pin.iter().map(|s| (*s).to_owned()));
        cases.push(c);
    }
    for mut case in cases {
        case.extend(["--no-tui", "--ops", "200", "-t", "1"].map(String::from));
        let args: Vec<&str> = case.iter().map(String::as_str).collect();
        let first = expect_code(&args, 0);
        let line = repeat_of(&first);
        let again = Command::new("sh")
            .arg("-c")
            .arg(format!("{BIN}{}", line.strip_prefix("slotscope").expect("starts with slotscope")))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(code(&again), 0, "{args:?}: the repeat line failed: {line}\n{}", stderr(&again));
        assert_eq!(repeat_of(&again), line, "{args:?}: the repeat repeats itself");
    }
}

#[test]
fn output_file_is_written_atomically() {
    let dir = scratch("atomic");
    let path = dir.join("report.json");
    fs::write(&path, "old").unwrap();
    let o = expect_code(
        &["run", "churn", "--ops", "500", "--output-format", "json", "-o", path.to_str().unwrap()],
        0,
    );
    assert!(o.stdout.is_empty(), "with -o nothing goes to stdout");
    let doc: Json = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    assert_valid(&doc);
    assert_eq!(files_in(&dir), ["report.json"], "no temp file left behind");

    // A directory that does not exist: exit 5 before running, nothing created.
    let missing = dir.join("no-such-dir").join("r.json");
    let o = expect_code(&["run", "churn", "--ops", "500", "-o", missing.to_str().unwrap()], 5);
    assert!(stderr(&o).contains("no-such-dir"), "{}", stderr(&o));
    assert_eq!(files_in(&dir), ["report.json"]);
    // A directory where the file should go: exit 5, the directory untouched.
    let o = expect_code(&["run", "churn", "--ops", "500", "-o", dir.to_str().unwrap()], 5);
    assert!(stderr(&o).contains("cannot write the report"), "{}", stderr(&o));
    assert_eq!(files_in(&dir), ["report.json"]);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_closed_stdout_is_not_a_crash() {
    let mut child = Command::new(BIN)
        .args(["run", "churn", "--ops", "500"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // like `| head` that has already exited
    let o = child.wait_with_output().unwrap();
    assert_eq!(code(&o), 141, "a closed stdout ends the command as SIGPIPE would: {}", stderr(&o));
    assert!(!stderr(&o).contains("error") && !stderr(&o).contains("panicked"), "quietly: {}", stderr(&o));
}

/// A trace of the committed fixtures (stress/trace/tests/data/traces).
fn fixture(name: &str) -> String {
    format!("{}/stress/trace/tests/data/traces/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Every subcommand that prints, against a closed pipe and a full disk: never a panic; a closed
/// pipe ends quietly with 141, a full disk is exit 5 with a message.
#[test]
fn closed_and_full_stdout_in_every_subcommand() {
    let broken = fixture("broken-1t.trace");
    let commands: [&[&str]; 6] = [
        &["check", &broken],
        &["replay", &broken, "--exec"],
        &["replay", &broken],
        &["lessons"],
        &["scenarios"],
        &["run", "churn", "--ops", "300", "-t", "1"],
    ];
    for args in commands {
        let mut child =
            Command::new(BIN).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        let err = stderr(&o);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!([0, 141].contains(&code(&o)), "{args:?} closed pipe: exit {}: {err}", code(&o));
        let full = fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let o = Command::new(BIN).args(args).stdout(full).output().unwrap();
        let err = stderr(&o);
        assert_eq!(code(&o), 5, "{args:?} > /dev/full: {err}");
        assert!(err.contains("No space left"), "{args:?}: {err}");
    }
}

/// `-o` into a character device writes into it and never replaces it; a write that fails is
/// exit 5.
#[test]
fn output_to_devices_writes_into_them() {
    use std::os::unix::fs::FileTypeExt;
    let run = ["run", "churn", "--ops", "300", "-t", "1", "--output-format", "json", "-o"];
    expect_code(&[&run[..], &["/dev/null"]].concat(), 0);
    assert!(fs::metadata("/dev/null").unwrap().file_type().is_char_device());
    let o = expect_code(&[&run[..], &["/dev/full"]].concat(), 5);
    assert!(stderr(&o).contains("/dev/full"), "{}", stderr(&o));
    let dir = scratch("sock");
    let sock = dir.join("s");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let o = expect_code(&[&run[..], &[sock.to_str().unwrap()]].concat(), 5);
    assert!(stderr(&o).contains("a socket"), "{}", stderr(&o));
    fs::remove_dir_all(&dir).unwrap();
}

/// Starts a long run, waits until it is under way, sends `signal`, and returns its output.
fn interrupted(signal: nix::sys::signal::Signal, format: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(["run", "churn", "-d", "10m", "--output-format", format])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    // The handlers are installed before the banner: once it is out, the signal is caught.
    while !seen.contains("repeat: ") {
        let mut line = String::new();
        assert!(err.read_line(&mut line).unwrap() > 0, "stderr ended early: {seen}");
        seen.push_str(&line);
    }
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, signal).unwrap();
    // Drain stderr on the side: reading it to the end here while the child blocks writing a
    // large report to a full stdout pipe would deadlock.
    let rest = std::thread::spawn(move || {
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
        rest
    });
    let mut o = child.wait_with_output().unwrap();
    o.stderr = (seen + &rest.join().unwrap()).into_bytes();
    o
}

#[test]
fn signals_stop_the_run_with_a_partial_report() {
    use nix::sys::signal::Signal;
    let o = interrupted(Signal::SIGTERM, "json");
    assert_eq!(code(&o), 143, "{}", stderr(&o));
    let doc = json_of(&o);
    assert_valid(&doc);
    assert_eq!(doc["stopped_by"], "SIGTERM");
    assert!(doc["wall_ns"].as_u64().unwrap() < 600_000_000_000, "cut short, not the full 10 minutes");
    assert_eq!(doc["checks"]["passed"], true, "stopping early is not a violation");
    assert!(stderr(&o).contains("SIGTERM received"), "{}", stderr(&o));

    let o = interrupted(Signal::SIGINT, "text");
    assert_eq!(code(&o), 130, "{}", stderr(&o));
    assert!(stdout(&o).contains("STOPPED EARLY by SIGINT"), "{}", stdout(&o));

    let o = interrupted(Signal::SIGHUP, "csv");
    assert_eq!(code(&o), 129, "{}", stderr(&o));
    assert!(stdout(&o).starts_with("interval_start_s,"));
}

#[test]
fn compare_prints_backends_side_by_side() {
    let args = ["compare", "churn", "--backends", "slotscope,dashmap", "-t", "1", "--ops", "2000"];
    let o = expect_code(&args, 0);
    let text = stdout(&o);
    let header =
        text.lines().find(|l| l.contains("slotscope") && l.contains("dashmap") && !l.contains("repeat"));
    assert!(header.is_some(), "a header with both backends:\n{text}");
    assert!(text.contains("throughput") && text.contains("insert p99") && text.contains('x'), "{text}");
    assert!(!text.contains("lookup p99"), "churn has no lookups:\n{text}");
    assert!(text.contains("repeat: slotscope compare churn --backends slotscope,dashmap --seed 1"), "{text}");

    let doc = json_of(&expect_code(&[&args[..], &["--output-format", "json"]].concat(), 0));
    assert_compare_schema(&doc);
    assert_eq!(doc["kind"], "compare");
    let backends = doc["backends"].as_array().unwrap();
    assert_eq!(backends.len(), 2);
    assert_eq!(
        (backends[0]["backend"].as_str(), backends[1]["backend"].as_str()),
        (Some("slotscope"), Some("dashmap"))
    );
    assert_eq!(backends[0]["throughput_ratio"], 1.0);
    // Same seed: each thread drew the same op stream on both backends.
    assert_eq!(backends[0]["digests"], backends[1]["digests"]);

    let csv = stdout(&expect_code(&[&args[..], &["--output-format", "csv"]].concat(), 0));
    let (header, rows) = parse_csv(&csv);
    assert_eq!(header[..2], ["backend", "op"]);
    assert_eq!(rows.len(), 8, "2 backends x (all + 3 ops)");
}

#[test]
fn compare_puts_the_two_allocators_side_by_side() {
    let args = ["compare", "churn", "--backends", "slotscope,slotscope-magazine", "-t", "1", "--ops", "2000"];
    let doc =
        json_of(&expect_code(&[&args[..], &["--magazine", "16", "--output-format", "json"]].concat(), 0));
    assert_compare_schema(&doc);
    let backends = doc["backends"].as_array().unwrap();
    assert_eq!(
        (backends[0]["backend"].as_str(), backends[1]["backend"].as_str()),
        (Some("slotscope"), Some("slotscope-magazine"))
    );
    let described = |i: usize| backends[i]["description"].as_str().unwrap_or("").to_owned();
    assert!(!described(0).contains("magazines"), "the plain side is the ring: {}", described(0));
    assert!(described(1).contains("magazines of 16"), "--magazine sizes the magazine side: {}", described(1));
    let repeat = doc["repeat_command"].as_str().unwrap();
    assert!(
        repeat.contains("--backends slotscope,slotscope-magazine") && repeat.ends_with("--magazine 16"),
        "{repeat}"
    );
    // Same seed, same op streams on both.
    assert_eq!(backends[0]["digests"], backends[1]["digests"]);
    // Magazines belong to our table: on another backend they are refused, saying why.
    let o = expect_code(
        &["run", "churn", "--no-tui", "--ops", "100", "--backend", "dashmap", "--allocator", "magazine"],
        2,
    );
    assert!(stderr(&o).contains("exists only in the slotscope backend"), "{}", stderr(&o));
}

fn compare_validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/compare.schema.json");
    let schema: Json = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema")
}

fn assert_compare_schema(doc: &Json) {
    let errors: Vec<String> = compare_validator().iter_errors(doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "does not match docs/compare.schema.json:\n{}", errors.join("\n"));
}

#[test]
fn compare_layouts_takes_turns_and_reports_intervals() {
    // Short turns: the structure is checked, not the effect (docs/LESSONS.md has those).
    let args = [
        "compare",
        "churn",
        "--layouts",
        "linear,padded",
        "-t",
        "1",
        "--capacity",
        "1024",
        "--turn",
        "20ms",
        "--turns",
        "5",
        "--warmup-rounds",
        "1",
    ];
    let o = expect_code(&args, 0);
    let text = stdout(&o);
    assert!(text.starts_with("compare layouts on `churn`"), "{text}");
    assert!(text.contains("5 turns of 20ms per layout after 1 warm-up round"), "{text}");
    assert!(
        text.contains("repeat: slotscope compare churn --layouts linear,padded --turn 20ms --turns 5"),
        "{text}"
    );
    let padded = text.lines().find(|l| l.starts_with("padded ")).expect("a padded row");
    assert!(padded.contains("/s [") && padded.contains("x ["), "median [interval] and the ratio: {padded}");
    assert!(
        ["better", "worse", "within noise"].iter().any(|w| padded.ends_with(w)),
        "a verdict word: {padded}"
    );
    assert!(text.lines().any(|l| l.starts_with("linear ") && l.ends_with("baseline")), "{text}");
    assert!(!text.contains("p99 lookup"), "churn has no lookups:\n{text}");

    let doc = json_of(&expect_code(&[&args[..], &["--output-format", "json"]].concat(), 0));
    assert_compare_schema(&doc);
    assert_eq!((doc["kind"].as_str(), doc["schema_version"].as_u64()), (Some("compare-layouts"), Some(2)));
    let layouts = doc["layouts"].as_array().unwrap();
    for l in layouts {
        assert_eq!(l["turns"].as_array().unwrap().len(), 5, "{l}");
        let e = &l["ops_per_s"];
        assert!(e["lo"].as_f64() <= e["median"].as_f64() && e["median"].as_f64() <= e["hi"].as_f64(), "{e}");
    }
    let base = &layouts[0]["vs_baseline"]["ops_per_s"];
    assert_eq!(
        (base["lo"].as_f64(), base["hi"].as_f64()),
        (Some(1.0), Some(1.0)),
        "the baseline against itself"
    );
    let mut bad = doc.clone();
    bad["layouts"][1]["vs_baseline"]["verdict"] = Json::from("maybe");
    assert!(!compare_validator().is_valid(&bad), "the schema rejects an unknown verdict");

    let csv = stdout(&expect_code(&[&args[..], &["--output-format", "csv"]].concat(), 0));
    let (header, rows) = parse_csv(&csv);
    assert_eq!(header[..4], ["layout", "measure", "turns", "median"]);
    assert_eq!(rows.len(), 6, "2 layouts x (ops/s + p99 insert + p99 remove):\n{csv}");

    // Refusals: one layout, a repeat, another backend, a turn out of range.
    expect_code(&["compare", "--layouts", "linear"], 2);
    expect_code(&["compare", "--layouts", "linear,linear"], 2);
    expect_code(&["compare", "--layouts", "linear,padded", "--backend", "ptab"], 2);
    let o = expect_code(&["compare", "--layouts", "linear,padded", "--turn", "1ms"], 2);
    assert!(stderr(&o).contains("a turn lasts from 10ms to 60s"), "{}", stderr(&o));
}

#[test]
fn completions_are_printed() {
    let o = expect_code(&["completions", "bash"], 0);
    assert!(stdout(&o).contains("slotscope") && stdout(&o).contains("--fail-if"));
    expect_code(&["completions", "tcsh"], 2);
}

/// Messages that say where and what: each file below is wrong in one way, and the report
/// names the place and the mistake in the file's own terms.
#[test]
fn bad_files_are_answered_at_their_place_in_their_terms() {
    let dir = scratch("messages");
    let cases: [(&str, &[u8], &str); 6] = [
        ("phase.toml", b"name = \"p\"\nduration = \"1s\"\n[[group]]\nname = \"g\"\nthreads = 1\n[[phase]]\nat = \"5s\"\ngroup = \"g\"\nthreads = 2\n", "phase.toml:7:6: error: phase at 5s never runs"),
        ("utf8.toml", b"name = \"u\"\ndescription = \"caf\xe9\"\n", "utf8.toml:2:19: error: byte 0xE9 is not UTF-8"),
        ("inf.toml", b"name = \"i\"\n[[group]]\nname = \"g\"\nthreads = 1\nrate = inf\n", "a rate must be a finite number of ops/s, not inf"),
        ("dup.toml", b"name = \"d\"\n[table]\ncapacity = 64\n[table]\nprefill = 0.5\n", "`[table]` appears twice (first on line 2)"),
        ("nul.toml", b"name = \"n\"\nbad\0key = 1\n", "a control character where a key should be"),
        ("deep/./x.toml", b"name = \"x\"\n[tabel]\n", "deep/x.toml:2:2"),
    ];
    fs::create_dir_all(dir.join("deep")).unwrap();
    for (name, text, says) in cases {
        let path = dir.join(name);
        fs::write(&path, text).unwrap();
        let o = expect_code(&["run", path.to_str().unwrap(), "--no-tui"], 3);
        let err = stderr(&o);
        assert!(err.contains(says), "{name}: {err}");
        assert!(!err.contains('\0'), "{name}: no raw control bytes echoed");
    }
    let o = expect_code(&["run", "churn", "--fail-if", "p99(insert)>1e400us"], 2);
    assert!(stderr(&o).contains("too large to be a number"), "{}", stderr(&o));
    // A lesson that gives its scenario twice is told so once.
    fs::write(
        dir.join("l.toml"),
        "name = \"l\"\ntitle = \"t\"\nsummary = \"s\"\nscenario = \"churn\"\n[scenario.table]\ncapacity = 64\n[[step]]\ntitle = \"a\"\nsay = \"b\"\n",
    )
    .unwrap();
    let o = expect_code(&["lesson", dir.join("l.toml").to_str().unwrap()], 3);
    let err = stderr(&o);
    assert_eq!(err.matches("error:").count(), 1, "{err}");
    assert!(err.contains("`scenario` is given twice"), "{err}");
    // A recording into a full disk says what failed and claims no bytes it did not write.
    let o = expect_code(&["run", "churn", "--ops", "300", "-t", "1", "--record", "/dev/full"], 5);
    let err = stderr(&o);
    assert!(err.contains("recording into /dev/full failed: No space left"), "{err}");
    assert!(!err.contains("the run was stopped"), "{err}");
    fs::remove_dir_all(&dir).unwrap();
}
