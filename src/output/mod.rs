//! Report formats (text, JSON, CSV, hlog) and how a report reaches its destination: stdout,
//! or a file written atomically (a temp file in the same directory, then a rename).

pub mod csv;
pub mod hlog;
pub mod json;

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use slotscope_stress::report::fail_if::Verdict;
use slotscope_stress::report::text::render_text;
use slotscope_stress::Report;

use crate::cli::OutputFormat;
use crate::exit::{self, Failure};

/// What a report carries besides the engine's `Report`: the verdicts of `--fail-if`.
pub struct Extras<'a> {
    /// Each condition with its outcome, in the order given.
    pub verdicts: &'a [Verdict<'a>],
}

/// The report in `format`, as bytes.
pub fn render(report: &Report, format: OutputFormat, extras: &Extras<'_>) -> Result<Vec<u8>, Failure> {
    match format {
        OutputFormat::Text => {
            let mut text = render_text(report);
            if !extras.verdicts.is_empty() {
                text.push_str("\n--fail-if\n");
                for v in extras.verdicts {
                    text.push_str(&format!("  {v}\n"));
                }
            }
            Ok(text.into_bytes())
        }
        OutputFormat::Json => json::render(report, extras),
        OutputFormat::Csv => Ok(csv::render(report).into_bytes()),
        OutputFormat::Hlog => hlog::render(report),
    }
}

/// Writes `bytes` to `path` (atomically) or to stdout. A closed stdout (`| head`) is not an
/// error: the reader wanted no more.
pub fn deliver(bytes: &[u8], path: Option<&Path>) -> Result<(), Failure> {
    match path {
        Some(p) => write_atomically(p, bytes).map_err(|e| {
            Failure::new(
                exit::OUTPUT_FAILED,
                format!("error: cannot write the report to `{}`: {e}", p.display()),
            )
        }),
        None => {
            let mut out = io::stdout().lock();
            match out.write_all(bytes).and_then(|()| out.flush()) {
                Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(Failure::new(
                    exit::OUTPUT_FAILED,
                    format!("error: cannot write the report to stdout: {e}"),
                )),
                _ => Ok(()),
            }
        }
    }
}

/// Checks before a run that `path` can be written: its directory exists and is a directory,
/// and `path` itself is not a directory. (The write itself can still fail; it is atomic.)
pub fn check_writable(path: &Path) -> Result<(), Failure> {
    let fail = |why: String| {
        Failure::new(
            exit::OUTPUT_FAILED,
            format!("error: cannot write the report to `{}`: {why}", path.display()),
        )
    };
    let dir = directory_of(path);
    match fs::metadata(&dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(fail(format!("`{}` is not a directory", dir.display()))),
        Err(e) => return Err(fail(format!("directory `{}`: {e}", dir.display()))),
    }
    if path.is_dir() {
        return Err(fail("it is a directory".to_owned()));
    }
    Ok(())
}

fn directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Writes `bytes` into a new temp file next to `path`, syncs it, and renames it over `path`:
/// readers see the old file or the whole new one, never a part. On failure the temp file is
/// removed and `path` is untouched.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = directory_of(path);
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    let tmp = dir.join(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut f = fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("slotscope-output-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = scratch("atomic");
        let path = dir.join("r.json");
        fs::write(&path, "old").unwrap();
        write_atomically(&path, b"new contents").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new contents");
        let names: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["r.json"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn failed_write_leaves_nothing() {
        let dir = scratch("fail");
        // The target is a directory: the rename fails, the temp file must go.
        let target = dir.join("taken");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("inside"), "x").unwrap();
        assert!(write_atomically(&target, b"data").is_err());
        let names: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["taken"]);
        assert!(check_writable(&target).is_err());
        let missing = dir.join("no/such/dir/r.txt");
        assert_eq!(check_writable(&missing).unwrap_err().code, exit::OUTPUT_FAILED);
        assert!(write_atomically(&missing, b"data").is_err());
        assert!(check_writable(&dir.join("fine.txt")).is_ok());
        fs::remove_dir_all(&dir).unwrap();
    }
}
