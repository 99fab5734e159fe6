//! The one place the binary writes to stdout and stderr (clippy's `print_stdout` and
//! `print_stderr` are denied everywhere else, so that no write can panic or fail unseen).
//!
//! - [`out`]: stdout. A closed pipe (`slotscope check T | head -1`) ends the command at once
//!   and quietly with exit 141, as a program killed by SIGPIPE does (`cat`, `grep`): the
//!   reader wanted no more. Any other failure (a full disk: `> /dev/full`) is exit 5 with a
//!   message on stderr.
//! - [`note`]: stderr, for what the user should know; a failed write there is ignored (after
//!   a hang-up there may be no terminal left to tell).

use std::io::{self, Write};

use crate::exit::{self, Failure};

/// The exit code after stdout was closed: 128 + SIGPIPE, what a shell reports for a program
/// the signal ended.
pub const CLOSED_STDOUT: u8 = 141;

/// Writes `text` to stdout and flushes it.
///
/// # Errors
/// A closed stdout: [`CLOSED_STDOUT`], with no message. Anything else: exit 5 with the error.
pub fn out(text: &str) -> Result<(), Failure> {
    out_bytes(text.as_bytes())
}

/// [`out`] for bytes.
///
/// # Errors
/// As [`out`].
pub fn out_bytes(bytes: &[u8]) -> Result<(), Failure> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(bytes).and_then(|()| stdout.flush()).map_err(stdout_failure)
}

/// What a failed write to stdout becomes.
pub fn stdout_failure(e: io::Error) -> Failure {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Failure::new(CLOSED_STDOUT, String::new())
    } else {
        Failure::new(exit::OUTPUT_FAILED, format!("error: cannot write to stdout: {e}"))
    }
}

/// Writes `text` and a line feed to stderr, ignoring failures.
pub fn note(text: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{text}");
    let _ = err.flush();
}

/// Writes `text` to stderr as it is (no line feed), ignoring failures: a progress line that
/// redraws itself in place.
pub fn progress(text: &str) {
    let mut err = io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}
