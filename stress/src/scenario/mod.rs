//! Scenarios: what to run, written as TOML (a built-in or a file), validated before anything
//! starts, and adjusted by command-line overrides. The format is documented, key by key, in
//! `docs/SCENARIOS.md`.
//!
//! ```no_run
//! use slotscope_stress::scenario::{self, Overrides, ValidationContext};
//!
//! let ctx = ValidationContext::detect();
//! let mut loaded = match scenario::resolve("demo", &ctx) {
//!     Ok(s) => s,
//!     Err(e) => { eprintln!("{e}"); std::process::exit(2) }
//! };
//! eprint!("{}", loaded.render_warnings());
//! let overrides = Overrides { threads: Some(4), ..Overrides::default() };
//! match overrides.apply(&mut loaded.spec, &ctx) {
//!     Ok(warnings) => warnings.iter().for_each(|w| eprintln!("{w}")),
//!     Err(e) => { eprintln!("{e}"); std::process::exit(2) }
//! }
//! // loaded.spec is the RunSpec to run.
//! ```
//!
//! Errors say where (`path:line:col`), show the line with a caret under the value, and give a
//! hint; near-miss keys and names get a "did you mean". Every error of a file is reported in
//! one pass.

mod builtin;
mod check;
mod diag;
mod file;
mod overrides;
pub mod spec;
pub mod values;
mod write;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use builtin::{builtin, list, Builtin, BUILTINS, DEFAULT_SCENARIO};
pub use check::{
    validate, Field, GroupField, PhaseField, Problem, Severity, ValidationContext, MAX_DESCRIPTION_CHARS,
    MAX_GROUPS, MAX_GROUP_NAME_CHARS, MAX_GROUP_THREADS, MAX_NAME_CHARS, MAX_PHASES, MAX_TIME_EVERY,
    MAX_TOTAL_THREADS,
};
pub use diag::{render_all, Diagnostic, LineIndex, ScenarioError, MAX_ERRORS_SHOWN, MAX_LINE_SHOWN};
pub use file::{parse, GROUP_KEYS, PHASE_KEYS, TABLE_KEYS, TOP_KEYS};
pub use file::{syntax_errors, Key, Loader, Val};
pub use overrides::{distribute_threads, FlagProblem, OverrideError, Overrides};
pub use write::to_toml;

use crate::scenario::spec::RunSpec;

/// How long a headless run lasts when neither the scenario nor the command line says: a
/// scenario without `duration` or `ops` runs until stopped, which in the TUI is what one wants
/// and in CI is a hang.
pub const HEADLESS_DEFAULT_DURATION: Duration = Duration::from_secs(10);

/// A scenario that passed validation: the run it describes, and what was worth a warning.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// The run.
    pub spec: RunSpec,
    /// Where it came from (a path, or `scenarios/NAME.toml` for a built-in).
    pub origin: String,
    /// Warnings, in file order. Render them with [`Scenario::render_warnings`].
    pub warnings: Vec<Diagnostic>,
}

impl Scenario {
    /// The warnings with their source lines, ready to print (empty if there are none).
    pub fn render_warnings(&self) -> String {
        render_all(&self.origin, &self.spec.source, &self.warnings)
    }
}

/// What a name or path on the command line was meant to load: the two file formats share a
/// loader, its errors and its way of telling a built-in's name from a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A scenario (`slotscope run NAME`).
    Scenario,
    /// A workshop lesson (`slotscope lesson NAME`).
    Lesson,
}

impl FileKind {
    /// The word in messages.
    pub const fn noun(self) -> &'static str {
        match self {
            FileKind::Scenario => "scenario",
            FileKind::Lesson => "lesson",
        }
    }
}

/// Why a scenario or a lesson could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Not a built-in name, and not a file either.
    #[error("{}", unknown_text(*.kind, name, *suggestion, known))]
    Unknown {
        /// A scenario or a lesson.
        kind: FileKind,
        /// What was asked for.
        name: String,
        /// The closest built-in name, if one is close.
        suggestion: Option<&'static str>,
        /// The built-in names.
        known: Vec<&'static str>,
    },
    /// The file could not be read.
    #[error("error: cannot read {} file `{}`: {error}", .kind.noun(), .path.display())]
    Io {
        /// A scenario or a lesson.
        kind: FileKind,
        /// The path as given.
        path: PathBuf,
        /// What went wrong.
        error: std::io::Error,
    },
    /// The text has errors.
    #[error("{0}")]
    Invalid(#[from] ScenarioError),
}

fn unknown_text(kind: FileKind, name: &str, suggestion: Option<&str>, known: &[&str]) -> String {
    let noun = kind.noun();
    let mut s = format!("error: no built-in {noun} or file named `{name}`");
    if let Some(hint) = suggestion {
        s.push_str(&format!("\n  hint: did you mean `{hint}`?"));
    }
    s.push_str(&format!(
        "\n  built-in {noun}s: {}\n  (`slotscope {noun}s` describes them; a path to a .toml file works too)",
        known.join(", ")
    ));
    s
}

impl LoadError {
    /// `name` is neither one of `known` nor a file.
    pub fn unknown(kind: FileKind, name: &str, known: Vec<&'static str>) -> LoadError {
        let suggestion = crate::scenario::values::did_you_mean(name, known.iter().copied());
        LoadError::Unknown { kind, name: name.to_owned(), suggestion, known }
    }
}

/// Reads a file of `kind`: its text, and its stem (or `default_stem`).
///
/// # Errors
/// [`LoadError::Io`]; [`LoadError::Invalid`] at the first byte that is not UTF-8.
pub fn read_file(kind: FileKind, path: &Path, default_stem: &str) -> Result<(String, String), LoadError> {
    let bytes = std::fs::read(path).map_err(|error| LoadError::Io { kind, path: path.to_owned(), error })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let byte = e.as_bytes()[at];
        // The text up to the bad byte, and the bad byte shown as a replacement character.
        let shown = String::from_utf8_lossy(e.as_bytes()).into_owned();
        let d = Diagnostic::new(
            &shown,
            Severity::Error,
            at..at + 1,
            format!("byte 0x{byte:02X} is not UTF-8"),
            Some(format!("{} files are UTF-8 text", kind.noun())),
        );
        LoadError::Invalid(ScenarioError {
            origin: shown_path(path),
            source: shown,
            errors: vec![d],
            warnings: Vec::new(),
        })
    })?;
    let stem = path.file_stem().map_or_else(|| default_stem.to_owned(), |s| s.to_string_lossy().into_owned());
    Ok((text, stem))
}

/// `path` as messages show it: `.` components dropped (`./les/./x.toml` is `./les/x.toml`).
pub fn shown_path(path: &Path) -> String {
    use std::path::Component;
    let mut out = PathBuf::new();
    for (i, c) in path.components().enumerate() {
        if c != Component::CurDir || i == 0 {
            out.push(c);
        }
    }
    out.display().to_string()
}

/// Whether a command-line word that is not a built-in's name is meant as a path: it has a
/// slash or an extension, or a file of that name exists (write `./demo` for a file that shares
/// a built-in's name).
pub fn looks_like_path(arg: &str) -> bool {
    let path = Path::new(arg);
    arg.contains(['/', '\\']) || path.extension().is_some() || path.exists()
}

/// The names of the built-in scenarios.
fn builtin_names() -> Vec<&'static str> {
    BUILTINS.iter().map(|b| b.name).collect()
}

/// Loads a built-in scenario by name.
pub fn load_builtin(name: &str, ctx: &ValidationContext) -> Result<Scenario, LoadError> {
    let Some(b) = builtin(name) else {
        return Err(LoadError::unknown(FileKind::Scenario, name, builtin_names()));
    };
    Ok(parse(b.source, &b.origin(), b.name, ctx)?)
}

/// Loads a scenario file. Its name defaults to the file stem.
pub fn load_file(path: &Path, ctx: &ValidationContext) -> Result<Scenario, LoadError> {
    let (text, stem) = read_file(FileKind::Scenario, path, "custom")?;
    Ok(parse(&text, &shown_path(path), &stem, ctx)?)
}

/// Loads what the command line named: a built-in scenario if `arg` is one's name, else a file
/// ([`looks_like_path`]). A bare word that is neither is answered with the list of built-ins
/// and the closest name.
pub fn resolve(arg: &str, ctx: &ValidationContext) -> Result<Scenario, LoadError> {
    if builtin(arg).is_some() {
        return load_builtin(arg, ctx);
    }
    if looks_like_path(arg) {
        return load_file(Path::new(arg), ctx);
    }
    Err(LoadError::unknown(FileKind::Scenario, arg, builtin_names()))
}
