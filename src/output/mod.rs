//! Report formats (text, JSON, CSV, hlog) and how a report reaches its destination: stdout,
//! or a file written atomically (a temp file in the same directory, then a rename).

pub mod csv;
pub mod hlog;
pub mod html;
pub mod json;

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use slotscope_stress::report::fail_if::Verdict;
use slotscope_stress::report::text::render_text_with;
use slotscope_stress::report::verdict::render_verdict_at;
use slotscope_stress::Report;

use crate::cli::OutputFormat;
use crate::exit::{self, Failure};

/// What a report carries besides the engine's `Report`: the verdicts of `--fail-if`.
pub struct Extras<'a> {
    /// Each condition with its outcome, in the order given.
    pub verdicts: &'a [Verdict<'a>],
    /// Text only: end with every op's percentile spectrum (`--spectrum`).
    pub spectrum: bool,
    /// Text only: the full summary instead of the one-screen verdict (`--detail`).
    pub detail: bool,
}

/// The text report: the one-screen verdict, or with `detail` the full summary; with
/// `spectrum`, every timed op's percentile spectrum after it.
pub fn text_report(report: &Report, detail: bool, spectrum: bool) -> String {
    if detail {
        render_text_with(report, spectrum)
    } else {
        render_verdict_at(report, spectrum, columns())
    }
}

/// Columns the verdict may use: the terminal's width where stdout is one (after the TUI, a
/// headless run on a terminal), else 120 (a pipe, a file, CI).
fn columns() -> usize {
    use std::io::IsTerminal as _;
    if std::io::stdout().is_terminal() {
        if let Ok((w, _)) = ratatui::crossterm::terminal::size() {
            return usize::from(w);
        }
    }
    slotscope_stress::report::verdict::VERDICT_WIDTH
}

/// The report in `format`, as bytes.
pub fn render(report: &Report, format: OutputFormat, extras: &Extras<'_>) -> Result<Vec<u8>, Failure> {
    match format {
        OutputFormat::Text => {
            let mut text = text_report(report, extras.detail, extras.spectrum);
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
        OutputFormat::Html => html::render(report),
    }
}

/// Writes `bytes` to `path` or to stdout (see [`crate::console`] for a closed or full stdout).
/// A path is written as [`destination`] says: a regular file (or a new one) atomically, a
/// character device or FIFO straight.
pub fn deliver(bytes: &[u8], path: Option<&Path>) -> Result<(), Failure> {
    let Some(path) = path else { return crate::console::out_bytes(bytes) };
    let fail = |e: String| {
        Failure::new(
            exit::OUTPUT_FAILED,
            format!("error: cannot write the report to `{}`: {e}", path.display()),
        )
    };
    match destination(path).map_err(fail)? {
        Destination::Replace(target) => write_atomically(&target, bytes).map_err(|e| fail(e.to_string())),
        Destination::Stream => write_stream(path, bytes).map_err(|e| fail(e.to_string())),
    }
}

/// How a path given for output is written.
#[derive(Debug, PartialEq, Eq)]
pub enum Destination {
    /// A regular file, or a new one: written to a temp file beside it and renamed over it, so
    /// that it is the old file or the whole new one. The path is the file itself (a symbolic
    /// link is followed, so the link stays a link).
    Replace(PathBuf),
    /// A character device (`/dev/null`, a terminal) or a FIFO: written straight into it; never
    /// replaced (renaming over `/dev/null` would replace the system's node).
    Stream,
}

/// What `path` is, for writing output to it: [`Destination`], or why it cannot be written
/// (a directory, a socket, a block device, a missing directory).
///
/// # Errors
/// The reason, in words.
pub fn destination(path: &Path) -> Result<Destination, String> {
    use std::os::unix::fs::FileTypeExt;
    match fs::metadata(path) {
        Ok(m) => {
            let t = m.file_type();
            if t.is_file() {
                Ok(Destination::Replace(fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())))
            } else if t.is_char_device() || t.is_fifo() {
                Ok(Destination::Stream)
            } else if t.is_dir() {
                Err("it is a directory".to_owned())
            } else {
                let what = if t.is_socket() {
                    "a socket"
                } else if t.is_block_device() {
                    "a block device"
                } else {
                    "not a regular file"
                };
                Err(format!("it is {what}: output goes to regular files, character devices and FIFOs"))
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let dir = directory_of(path);
            match fs::metadata(&dir) {
                Ok(m) if m.is_dir() => Ok(Destination::Replace(path.to_owned())),
                Ok(_) => Err(format!("`{}` is not a directory", dir.display())),
                Err(e) => Err(format!("directory `{}`: {e}", dir.display())),
            }
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Checks before a run that `path` can be written (see [`destination`]; the write itself can
/// still fail, atomically).
pub fn check_writable(path: &Path) -> Result<(), Failure> {
    destination(path).map(|_| ()).map_err(|why| {
        Failure::new(
            exit::OUTPUT_FAILED,
            format!("error: cannot write the report to `{}`: {why}", path.display()),
        )
    })
}

fn write_stream(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = fs::OpenOptions::new().write(true).open(path)?;
    f.write_all(bytes)?;
    f.flush()
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

    #[test]
    fn devices_and_fifos_are_written_into_never_replaced() {
        assert_eq!(destination(Path::new("/dev/null")), Ok(Destination::Stream));
        deliver(b"gone", Some(Path::new("/dev/null"))).unwrap();
        use std::os::unix::fs::FileTypeExt;
        assert!(fs::metadata("/dev/null").unwrap().file_type().is_char_device(), "still a device");
        let e = deliver(b"x", Some(Path::new("/dev/full"))).unwrap_err();
        assert_eq!(e.code, exit::OUTPUT_FAILED);
        assert!(e.message.contains("/dev/full"), "{}", e.message);
        let dir = scratch("fifo");
        let fifo = dir.join("f");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        assert_eq!(destination(&fifo), Ok(Destination::Stream));
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read(&fifo).unwrap())
        };
        deliver(b"through the fifo", Some(&fifo)).unwrap();
        assert_eq!(reader.join().unwrap(), b"through the fifo");
        assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo(), "still a FIFO");
        // A symbolic link to a file: the file is replaced, the link stays.
        let file = dir.join("real.txt");
        fs::write(&file, "old").unwrap();
        let link = dir.join("link.txt");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        deliver(b"new", Some(&link)).unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(&file).unwrap(), "new");
        fs::remove_dir_all(&dir).unwrap();
    }
}
