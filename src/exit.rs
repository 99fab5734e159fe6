//! Exit codes (the table in README.md, "Exit codes") and the error type that carries one to `main`.

use std::fmt;
use std::process::ExitCode;

/// 0: the run finished and every check passed.
pub const OK: u8 = 0;
/// A self-check, `check`, or a `--fail-if` condition failed.
pub const CHECK_FAILED: u8 = 1;
/// The command line was wrong (clap uses 2 as well).
pub const USAGE: u8 = 2;
/// A scenario or lesson file was unreadable or invalid.
pub const BAD_SCENARIO: u8 = 3;
/// A trace file was unreadable, truncated or of an unknown version.
pub const BAD_TRACE: u8 = 4;
/// An output file could not be written.
pub const OUTPUT_FAILED: u8 = 5;
/// `check`, `replay --exec`: nothing wrong was found, but the history is incomplete (the trace
/// was cut short or damaged, or events are missing), so the answer is not the whole run's.
pub const INCOMPLETE: u8 = 6;
/// Stopped by SIGHUP.
pub const SIGHUP: u8 = 129;
/// Stopped by SIGINT (Ctrl-C).
pub const SIGINT: u8 = 130;
/// Stopped by SIGTERM.
pub const SIGTERM: u8 = 143;

/// An error that ends the program: printed to stderr, exits with `code`.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure { code, message: message.into() }
    }

    pub fn usage(message: impl Into<String>) -> Failure {
        Failure::new(USAGE, message)
    }

    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

impl From<slotscope_stress::scenario::LoadError> for Failure {
    /// An unknown name is a usage error; an unreadable or invalid file is a bad file.
    fn from(e: slotscope_stress::scenario::LoadError) -> Self {
        use slotscope_stress::scenario::LoadError;
        let code = match e {
            LoadError::Unknown { .. } => USAGE,
            LoadError::Io { .. } | LoadError::Invalid(_) => BAD_SCENARIO,
        };
        Failure::new(code, e.to_string())
    }
}
