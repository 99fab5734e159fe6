//! `check --emit-test` end to end: record a bug-zoo run, check it, write the test crate, build
//! and run it with cargo. SLOW by design (it builds a small crate, about 20-40 s the first time
//! on a 2-core machine; later runs reuse the build directory under this target directory).
//! It needs `cargo` on the PATH and the registry's crates already downloaded (it builds
//! offline, with the workspace's lock file).

use std::path::{Path, PathBuf};
use std::process::Command;

use slotscope_stress::recorder::RecordOptions;
use slotscope_stress::scenario::{load_builtin, ValidationContext};
use slotscope_stress::{run_headless_recorded, PinPolicy, StopSpec};
use slotscope_table::Variant;
use slotscope_trace::history::emit::{emit_test, ReproMode};
use slotscope_trace::history::{check, timeline, CheckOptions, History};

fn table_crate() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../table").canonicalize().unwrap()
}

/// Records `scenario` on `variant`, checks it, emits the first violation's test into `dir`.
fn emit(scenario: &str, variant: Variant, ops: u64, dir: &Path) -> ReproMode {
    let mut spec = load_builtin(scenario, &ValidationContext::detect()).unwrap().spec;
    spec.table.variant = variant;
    spec.stop = StopSpec::Ops(ops);
    for g in &mut spec.groups {
        g.pin = PinPolicy::None;
    }
    let trace = dir.with_extension("trace");
    run_headless_recorded(spec, &RecordOptions::new(&trace)).unwrap();
    let history = History::read(&trace).unwrap();
    let out = check(&history, &CheckOptions::default());
    let first = out.violations.first().expect("the broken variant is caught");
    let seg = &history.segments[0];
    let tl = timeline::render(seg, first, history.clock_start(), 24);
    emit_test(&history, first, &tl, dir, &table_crate()).unwrap().mode
}

/// Runs the emitted crate's tests; (passed, output).
fn cargo_test(dir: &Path) -> (bool, String) {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("emitted");
    let out = Command::new(env!("CARGO"))
        .args(["test", "--offline", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("cargo runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn set_variant(dir: &Path, from: &str, to: &str) {
    let path = dir.join("tests/repro.rs");
    let src = std::fs::read_to_string(&path).unwrap();
    let line = format!("const VARIANT: Variant = Variant::{from};");
    assert!(src.contains(&line), "the emitted test names its variant");
    std::fs::write(&path, src.replace(&line, &format!("const VARIANT: Variant = Variant::{to};"))).unwrap();
}

#[test]
fn emitted_tests_compile_fail_on_the_broken_variant_and_pass_on_the_correct_one() {
    let tmp = tempfile::tempdir().unwrap();

    let stale = tmp.path().join("stale");
    assert_eq!(emit("stale-keys", Variant::NoGenerationCheck, 20_000, &stale), ReproMode::Sequential);
    let (passed, output) = cargo_test(&stale);
    assert!(!passed, "the sequential repro must fail on no-generation-check:\n{output}");
    assert!(output.contains("a removed (stale) key must find nothing"), "{output}");
    assert!(!output.contains("warning:"), "the emitted code compiles without warnings:\n{output}");
    set_variant(&stale, "NoGenerationCheck", "Correct");
    let (passed, output) = cargo_test(&stale);
    assert!(passed, "and pass on the correct table:\n{output}");

    let race = tmp.path().join("race");
    assert_eq!(emit("ring-race", Variant::RelaxedRing, 50_000, &race), ReproMode::Race);
    let (passed, output) = cargo_test(&race);
    assert!(!passed, "the race repro must fail on relaxed-ring:\n{output}");
    assert!(!output.contains("warning:"), "the emitted code compiles without warnings:\n{output}");
    set_variant(&race, "RelaxedRing", "Correct");
    let (passed, output) = cargo_test(&race);
    assert!(passed, "and pass on the correct table:\n{output}");
}
