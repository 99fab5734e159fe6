//! A pseudo-terminal session with the binary, for the TUI tests: the screen is rebuilt from
//! the pty's output with a terminal emulator (`vt100`), so the tests wait for what a person
//! would see. Waits end as soon as the text appears; the time limit only turns a hang into a
//! failure, and [`Session::watchdog`] ends a test binary that hangs anyway, naming the test
//! and showing the last screen.
#![allow(dead_code)] // each test binary uses its own part

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};

/// The longest any wait may take before the test fails (a slow, shared CI machine).
pub const LIMIT: Duration = Duration::from_secs(90);
pub const ROWS: u16 = 40;
pub const COLS: u16 = 120;

pub const ENTER_ALT: &[u8] = b"\x1b[?1049h";
pub const LEAVE_ALT: &[u8] = b"\x1b[?1049l";
pub const HIDE_CURSOR: &[u8] = b"\x1b[?25l";
pub const SHOW_CURSOR: &[u8] = b"\x1b[?25h";

pub struct Session {
    pub master: Box<dyn MasterPty + Send>,
    pub child: Box<dyn Child + Send + Sync>,
    pub writer: Box<dyn Write + Send>,
    pub output: Arc<Mutex<Vec<u8>>>,
    /// Ends the test binary if the session outlives [`SESSION_LIMIT`] (a hang).
    dog: Option<slotscope_stress::watchdog::Watchdog>,
}

/// The longest a whole session may last.
pub const SESSION_LIMIT: Duration = Duration::from_secs(300);

impl Session {
    pub fn start(args: &[&str], cwd: &Path) -> Session {
        let pty = native_pty_system()
            .openpty(PtySize { rows: ROWS, cols: COLS, pixel_width: 0, pixel_height: 0 })
            .expect("open a pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_slotscope"));
        cmd.args(args);
        cmd.cwd(cwd);
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("NO_COLOR");
        let child = pty.slave.spawn_command(cmd).expect("spawn slotscope");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("pty reader");
        let writer = pty.master.take_writer().expect("pty writer");
        let output = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&output);
        // The child must never block on a full pty: read everything, always.
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let mut s = Session { master: pty.master, child, writer, output, dog: None };
        s.dog = Some(s.watchdog(&format!("slotscope {}", args.join(" ")), SESSION_LIMIT));
        s
    }

    /// A watchdog for `what`: if it is not dropped within `limit`, the test binary exits
    /// with the test's name and the screen as it was.
    pub fn watchdog(&self, what: &str, limit: Duration) -> slotscope_stress::watchdog::Watchdog {
        let output = Arc::clone(&self.output);
        slotscope_stress::watchdog::Watchdog::arm(what, limit, move || {
            let mut p = vt100::Parser::new(ROWS, COLS, 0);
            p.process(&output.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
            format!("the screen:\n{}", p.screen().contents())
        })
    }

    pub fn bytes(&self) -> Vec<u8> {
        self.output.lock().unwrap().clone()
    }

    pub fn screen(&self) -> vt100::Parser {
        let mut p = vt100::Parser::new(ROWS, COLS, 0);
        p.process(&self.bytes());
        p
    }

    /// Waits until the screen shows `text` (or, with `present == false`, no longer does).
    pub fn wait_for(&self, text: &str, present: bool) {
        let start = Instant::now();
        loop {
            let contents = self.screen().screen().contents();
            if contents.contains(text) == present {
                return;
            }
            assert!(
                start.elapsed() < LIMIT,
                "waited {LIMIT:?} for {text:?} to {}; the screen:\n{contents}",
                if present { "appear" } else { "go" }
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
        self.writer.flush().unwrap();
    }

    pub fn wait_exit(&mut self) -> u32 {
        self.wait_exit_within(LIMIT).0
    }

    /// Waits for the exit, at most `limit`; the exit code and how long it took.
    pub fn wait_exit_within(&mut self, limit: Duration) -> (u32, Duration) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader drain what was written just before the exit.
                let took = start.elapsed();
                std::thread::sleep(Duration::from_millis(200));
                return (status.exit_code(), took);
            }
            if start.elapsed() > limit {
                let _ = self.child.kill();
                panic!(
                    "slotscope did not exit within {limit:?}; output:\n{}",
                    String::from_utf8_lossy(&self.bytes())
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.process_id().expect("a pid")).unwrap()
    }

    /// The terminal after the run: the last alternate screen and hidden cursor were undone,
    /// and the line discipline is cooked again (raw mode off).
    pub fn assert_restored(&self) {
        let out = self.bytes();
        let last = |pat: &[u8]| out.windows(pat.len()).rposition(|w| w == pat);
        let entered = last(ENTER_ALT).expect("the TUI entered the alternate screen");
        let left = last(LEAVE_ALT).expect("the alternate screen was left");
        assert!(left > entered, "left the alternate screen after entering it");
        let hidden = last(HIDE_CURSOR).expect("the cursor was hidden");
        let shown = last(SHOW_CURSOR).expect("the cursor was shown again");
        assert!(shown > hidden, "the cursor is shown at the end");
        let screen = self.screen();
        assert!(!screen.screen().alternate_screen(), "back on the main screen");
        assert!(!screen.screen().hide_cursor(), "cursor visible");
        let termios = self.master.get_termios().expect("pty termios");
        use nix::sys::termios::LocalFlags;
        assert!(
            termios.local_flags.contains(LocalFlags::ICANON | LocalFlags::ECHO),
            "raw mode is off: {:?}",
            termios.local_flags
        );
    }

    /// What was printed after the TUI left the alternate screen (the summary).
    pub fn after_tui(&self) -> String {
        let out = self.bytes();
        let at = out.windows(LEAVE_ALT.len()).rposition(|w| w == LEAVE_ALT).unwrap_or(0);
        String::from_utf8_lossy(&out[at..]).into_owned()
    }
}
