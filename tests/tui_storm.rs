//! A storm of random keys into the live TUI (among them `]`, `[`, `L`, `P`, which steer the
//! engine while it runs), then `q`, or SIGTERM: the process must return to the shell within
//! 2 s with the terminal restored. Its own binary, so that no other pty test shares the
//! cores while it is timed. `SLOTSCOPE_STORM_SEED=N` repeats a storm; the seed is printed.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::Session;
use slotscope_stress::SplitMix64;

/// How long quitting may take once the storm has been handled (a debug build on 2 busy
/// cores; the release build takes a fraction of this).
const QUIT_LIMIT: Duration = Duration::from_secs(2);
const STORM_KEYS: usize = 500;

/// Every key of the live TUI but the ones that quit (`q`, Ctrl-C) or open a file dialog.
const KEYS: &[&[u8]] = &[
    b"?",
    b"\x1bOP",
    b"\t",
    b"\x1b[Z",
    b"1",
    b"2",
    b"3",
    b"4",
    b"5",
    b"6",
    b"7",
    b" ",
    b",",
    b".",
    b"P",
    b"]",
    b"[",
    b"+",
    b"-",
    b"=",
    b"\x1b[A",
    b"\x1b[B",
    b"\x1b[C",
    b"\x1b[D",
    b"h",
    b"j",
    b"k",
    b"l",
    b"\x1b[5~",
    b"\x1b[6~",
    b"\x1b[H",
    b"\x1b[F",
    b"\r",
    b"\x1b",
    b"i",
    b"n",
    b"p",
    b"L",
    b"s",
    b"m",
    b"c",
    b"x",
    b"\x1b[<0;20;10M",
    b"\x1b[<64;30;12M",
    b"\x1b[<65;30;12M",
];

fn seed() -> u64 {
    std::env::var("SLOTSCOPE_STORM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64))
}

/// Starts `churn`, waits for its first frame, sends the storm in small bursts, closes what it
/// may have opened (`Esc Esc Esc`) and waits until the app has caught up with it (`?` opens
/// the help, `Esc` closes it).
fn storm(seed: u64, dir: &std::path::Path) -> Session {
    let mut s = Session::start(&["run", "churn", "-d", "60s"], dir);
    s.wait_for("slotscope │ churn", true);
    let mut rng = SplitMix64::new(seed);
    for i in 0..STORM_KEYS {
        let key = KEYS[(rng.next_u64() % KEYS.len() as u64) as usize];
        s.send(key);
        if i % 25 == 24 {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    s.send(b"\x1b\x1b\x1b");
    std::thread::sleep(Duration::from_millis(300));
    s.send(b"?");
    s.wait_for("Help: every key", true);
    s.send(b"\x1b");
    s.wait_for("Help: every key", false);
    s
}

#[test]
fn after_a_key_storm_q_returns_to_the_shell_within_2s() {
    let seed = seed();
    eprintln!("key storm seed: {seed} (SLOTSCOPE_STORM_SEED={seed} repeats it)");
    let dir = tempfile::tempdir().unwrap();
    let mut s = storm(seed, dir.path());
    s.send(b"q");
    let (code, took) = s.wait_exit_within(Duration::from_secs(60));
    eprintln!("q returned in {took:?}");
    assert!(took <= QUIT_LIMIT, "seed {seed}: q took {took:?} to return to the shell");
    assert!(code == 0, "seed {seed}: exit code {code}; after the TUI:\n{}", s.after_tui());
    s.assert_restored();
}

#[test]
fn after_a_key_storm_sigterm_returns_to_the_shell_within_2s_with_143() {
    let seed = seed() ^ 0x5bd1_e995;
    eprintln!("key storm seed: {seed} (SLOTSCOPE_STORM_SEED={seed} repeats it)");
    let dir = tempfile::tempdir().unwrap();
    let mut s = storm(seed, dir.path());
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(s.pid()), nix::sys::signal::Signal::SIGTERM).unwrap();
    let (code, took) = s.wait_exit_within(Duration::from_secs(60));
    eprintln!("SIGTERM returned in {took:?}");
    assert!(took <= QUIT_LIMIT, "seed {seed}: SIGTERM took {took:?} to return to the shell");
    assert_eq!(code, 143, "seed {seed}: after the TUI:\n{}", s.after_tui());
    s.assert_restored();
}
