//! Diagnostics with positions in a scenario file, and how they are shown:
//!
//! ```text
//! my.toml:9:1: error: unknown key `thread` in `[[group]]`
//!    |
//!  9 | thread = 4
//!    | ^^^^^^
//!    = hint: did you mean `threads`?
//! ```

use std::fmt;
use std::ops::Range;

pub use super::check::Severity;

/// Errors shown of one file; past it the report ends with "... and N more errors".
pub const MAX_ERRORS_SHOWN: usize = 20;
/// Columns of the source line shown around a diagnostic's span (a line of a megabyte is shown
/// as this much of it, with `…` where it is cut).
pub const MAX_LINE_SHOWN: usize = 200;

/// Where each line of a text starts, to locate many diagnostics in one text in `O(log n)`
/// each (a scan from the start for every one made a file of many errors quadratic).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// The index of `source` (one pass).
    pub fn of(source: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(source.bytes().enumerate().filter(|&(_, b)| b == b'\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// The 1-based line of byte `at`, and where that line starts.
    pub fn locate(&self, at: usize) -> (usize, usize) {
        let i = self.starts.partition_point(|&s| s <= at).max(1) - 1;
        (i + 1, self.starts[i])
    }
}

/// One error or warning at a place in a scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// 1-based line of the start of the span.
    pub line: usize,
    /// 1-based column, in characters, of the start of the span.
    pub col: usize,
    /// Byte range in the file (may be empty: "something is missing here").
    pub span: Range<usize>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at `span` of `source`; computes line and column.
    pub fn new(
        source: &str,
        severity: Severity,
        span: Range<usize>,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Diagnostic {
        Diagnostic::located(&LineIndex::of(source), source, severity, span, message, hint)
    }

    /// [`Diagnostic::new`] with the lines of `source` indexed already (many diagnostics of
    /// one file).
    pub fn located(
        lines: &LineIndex,
        source: &str,
        severity: Severity,
        span: Range<usize>,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Diagnostic {
        let start = floor_char_boundary(source, span.start.min(source.len()));
        let end = floor_char_boundary(source, span.end.clamp(start, source.len()));
        let (line, line_start) = lines.locate(start);
        let col = source[line_start..start].chars().count() + 1;
        Diagnostic { severity, line, col, span: start..end, message: message.into(), hint }
    }

    /// Renders this diagnostic with the source line and a caret under the span.
    pub fn render(&self, origin: &str, source: &str) -> String {
        let mut out = String::new();
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        out.push_str(&format!("{origin}:{}:{}: {kind}: {}\n", self.line, self.col, self.message));
        let line_start = source[..self.span.start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[line_start..].find('\n').map_or(source.len(), |i| line_start + i);
        let text = source[line_start..line_end].trim_end_matches('\r');
        let number = self.line.to_string();
        let gutter = " ".repeat(number.len());
        let span_end = self.span.end.min(line_start + text.len()).max(self.span.start);
        let width = source[self.span.start..span_end].chars().count().max(1);
        // Control characters (a NUL, an escape) are shown as `?`, never sent to the terminal.
        let chars: Vec<char> = text
            .chars()
            .map(|c| {
                if c == '\t' {
                    ' '
                } else if c.is_control() {
                    '?'
                } else {
                    c
                }
            })
            .collect();
        // A window of the line around the span: from a little before it, at most
        // MAX_LINE_SHOWN columns, `…` where it is cut.
        let col0 = self.col - 1;
        let first = col0.saturating_sub(MAX_LINE_SHOWN / 4);
        let last = (first + MAX_LINE_SHOWN).min(chars.len());
        let mut shown: String = chars[first.min(last)..last].iter().collect();
        let mut pad = col0 - first;
        if first > 0 {
            shown.insert(0, '…');
            pad += 1;
        }
        if last < chars.len() {
            shown.push('…');
        }
        let width = width.min(MAX_LINE_SHOWN.saturating_sub(col0 - first)).max(1);
        out.push_str(&format!(" {gutter} |\n"));
        out.push_str(&format!(" {number} | {shown}\n"));
        out.push_str(&format!(" {gutter} | {}{}\n", " ".repeat(pad), "^".repeat(width)));
        if let Some(hint) = &self.hint {
            out.push_str(&format!(" {gutter} = hint: {hint}\n"));
        }
        out
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A scenario that cannot run: every error found in one pass (sorted by position), and the
/// warnings found along the way. `Display` renders the full report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// Where the text came from: the path as given, or `scenarios/NAME.toml` for a built-in.
    pub origin: String,
    /// The scenario text.
    pub source: String,
    /// The errors, in file order. Never empty.
    pub errors: Vec<Diagnostic>,
    /// The warnings, in file order.
    pub warnings: Vec<Diagnostic>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.errors.iter().take(MAX_ERRORS_SHOWN).enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            f.write_str(&d.render(&self.origin, &self.source))?;
        }
        if self.errors.len() > MAX_ERRORS_SHOWN {
            write!(
                f,
                "\n... and {} more errors (the first {MAX_ERRORS_SHOWN} are shown)\n",
                self.errors.len() - MAX_ERRORS_SHOWN
            )?;
        }
        if self.errors.len() > 1 {
            write!(f, "\n{} errors in {}\n", self.errors.len(), self.origin)?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// Renders several diagnostics of one file, separated by blank lines (at most
/// [`MAX_ERRORS_SHOWN`], then how many more).
pub fn render_all(origin: &str, source: &str, diagnostics: &[Diagnostic]) -> String {
    let mut text = diagnostics
        .iter()
        .take(MAX_ERRORS_SHOWN)
        .map(|d| d.render(origin, source))
        .collect::<Vec<_>>()
        .join("\n");
    if diagnostics.len() > MAX_ERRORS_SHOWN {
        text.push_str(&format!("\n... and {} more\n", diagnostics.len() - MAX_ERRORS_SHOWN));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let src = "a = 1\nbé = \"x\"\n\tc = 2\n";
        let d = Diagnostic::new(src, Severity::Error, 13..16, "m", None);
        assert_eq!((d.line, d.col), (2, 7)); // `x`: b é space = space quote x
        let d = Diagnostic::new(src, Severity::Error, 17..18, "m", None);
        assert_eq!((d.line, d.col), (3, 2));
        let d = Diagnostic::new(src, Severity::Error, 0..0, "m", None);
        assert_eq!((d.line, d.col), (1, 1));
        // Past the end: clamped to the end.
        let d = Diagnostic::new(src, Severity::Error, 99..100, "m", None);
        assert_eq!((d.line, d.col, d.span.clone()), (4, 1, src.len()..src.len()));
    }

    #[test]
    fn renders_source_caret_and_hint() {
        let src = "[[group]]\nthread = 4\n";
        let d = Diagnostic::new(
            src,
            Severity::Error,
            10..16,
            "unknown key `thread`",
            Some("did you mean `threads`?".into()),
        );
        assert_eq!(
            d.render("my.toml", src),
            "my.toml:2:1: error: unknown key `thread`\n   |\n 2 | thread = 4\n   | ^^^^^^\n   = hint: did you \
             mean `threads`?\n"
        );
    }

    #[test]
    fn multi_line_spans_underline_the_first_line_and_tabs_align() {
        let src = "x =\t{ a = 1,\n b = 2 }\n";
        let d = Diagnostic::new(src, Severity::Warning, 4..src.len() - 1, "w", None);
        assert_eq!(d.render("f", src), "f:1:5: warning: w\n   |\n 1 | x = { a = 1,\n   |     ^^^^^^^^\n");
    }

    #[test]
    fn error_report_counts_errors() {
        let src = "a\nb\n";
        let e = ScenarioError {
            origin: "s.toml".into(),
            source: src.into(),
            errors: vec![
                Diagnostic::new(src, Severity::Error, 0..1, "first", None),
                Diagnostic::new(src, Severity::Error, 2..3, "second", None),
            ],
            warnings: vec![],
        };
        let text = e.to_string();
        assert!(text.starts_with("s.toml:1:1: error: first\n"), "{text}");
        assert!(text.contains("\ns.toml:2:1: error: second\n"), "{text}");
        assert!(text.ends_with("\n2 errors in s.toml\n"), "{text}");
    }
}
