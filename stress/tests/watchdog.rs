//! The watchdog ends a stuck test binary with the test's name and what the caller says is
//! stuck: this binary runs itself on a test that hangs on purpose.

use std::time::Duration;

use slotscope_stress::watchdog::{Watchdog, WATCHDOG_EXIT};

#[test]
fn a_stuck_test_ends_the_binary_naming_the_test_and_its_state() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "hangs_on_purpose", "--ignored", "--nocapture", "--test-threads", "1"])
        .output()
        .expect("run this test binary again");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(WATCHDOG_EXIT), "stderr:\n{stderr}");
    assert!(stderr.contains("WATCHDOG: `sleeping` (in hangs_on_purpose)"), "{stderr}");
    assert!(stderr.contains("worker 7 spins"), "{stderr}");
}

#[test]
#[ignore = "run by a_stuck_test_ends_the_binary_naming_the_test_and_its_state"]
fn hangs_on_purpose() {
    let _dog = Watchdog::arm("sleeping", Duration::from_millis(200), || "worker 7 spins".to_owned());
    std::thread::sleep(Duration::from_secs(60));
}
