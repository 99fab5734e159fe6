//! Where a recording goes, and the claim on it.
//!
//! - A regular file (or a new path) is written as `FILE.<pid>-<n>.partial` beside it and renamed
//!   over `FILE` when the recording closes, so `FILE` is an old trace or a whole new one. The
//!   temporary name is this process's own, so two recordings never write into one file.
//! - Two recordings into the same `FILE` at once are refused: the first takes an exclusive
//!   `flock` on `.FILE.lock` beside it (the kernel drops it when the process ends, however it
//!   ends, so a killed recorder never blocks the next one), the second is told which process
//!   holds it. The lock file is removed when the recording closes.
//! - A character device or a FIFO (`/dev/null`, a pipe to a compressor) is written straight
//!   into: never renamed over, never locked.
//! - A directory, a socket, a block device, or a path in a missing directory is refused before
//!   the run starts ([`check`]).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use nix::fcntl::{Flock, FlockArg};

/// How a trace reaches its path.
#[derive(Debug)]
pub(crate) enum Target {
    /// Written as `partial`, renamed to `path` at the end; `lock` held meanwhile.
    Replace { path: PathBuf, partial: PathBuf, lock: Claim },
    /// Written straight into `path` (a device or a FIFO).
    Stream { path: PathBuf },
}

/// The exclusive claim on a trace path.
#[derive(Debug)]
pub(crate) struct Claim {
    file: Option<Flock<File>>,
    path: PathBuf,
}

impl Drop for Claim {
    fn drop(&mut self) {
        // Unlink first, then unlock: a recorder that opened the old lock file in between
        // would lock an unlinked file; it can only be one that started in that instant.
        if self.file.is_some() {
            let _ = fs::remove_file(&self.path);
        }
        self.file = None;
    }
}

/// What `path` is, for a recording: `true` for a device or FIFO (written straight).
fn kind(path: &Path) -> Result<bool, String> {
    match fs::metadata(path) {
        Ok(m) => {
            let t = m.file_type();
            if t.is_file() {
                Ok(false)
            } else if t.is_char_device() || t.is_fifo() {
                Ok(true)
            } else if t.is_dir() {
                Err("it is a directory".to_owned())
            } else {
                let what = if t.is_socket() { "a socket" } else { "a block device" };
                Err(format!("it is {what}: a trace goes to a regular file, a character device or a FIFO"))
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let dir = dir_of(path);
            match fs::metadata(&dir) {
                Ok(m) if m.is_dir() => Ok(false),
                Ok(_) => Err(format!("`{}` is not a directory", dir.display())),
                Err(e) => Err(format!("directory `{}`: {e}", dir.display())),
            }
        }
        Err(e) => Err(e.to_string()),
    }
}

fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn name_of(path: &Path) -> String {
    path.file_name().map_or_else(|| "trace".to_owned(), |n| n.to_string_lossy().into_owned())
}

fn lock_path(path: &Path) -> PathBuf {
    dir_of(path).join(format!(".{}.lock", name_of(path)))
}

/// Takes the exclusive claim on `path` (see the module's doc).
fn claim(path: &Path) -> Result<Claim, String> {
    let lock_path = lock_path(path);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(|e| format!("cannot create the lock file `{}`: {e}", lock_path.display()))?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(mut held) => {
            let _ = held.set_len(0);
            let _ = writeln!(held, "{}", std::process::id());
            Ok(Claim { file: Some(held), path: lock_path })
        }
        Err((_, errno)) => {
            let holder = fs::read_to_string(&lock_path).unwrap_or_default();
            let holder = holder.trim();
            let who = if holder.is_empty() { String::new() } else { format!(" (pid {holder})") };
            Err(format!(
                "another slotscope{who} is recording into `{}` now ({errno}); give this run another file",
                path.display()
            ))
        }
    }
}

/// Checks before a run that `path` can take a recording (and that no other recording holds it).
///
/// # Errors
/// Why not, in words.
pub fn check(path: &Path) -> Result<(), String> {
    if kind(path)? {
        return Ok(());
    }
    claim(path).map(drop)
}

impl Target {
    /// Claims `path` and opens the file to write: the partial file beside it, or the device.
    pub(crate) fn open(path: &Path) -> Result<(Target, File), String> {
        if kind(path)? {
            let file = OpenOptions::new().write(true).open(path).map_err(|e| e.to_string())?;
            return Ok((Target::Stream { path: path.to_owned() }, file));
        }
        let lock = claim(path)?;
        static SERIAL: AtomicU32 = AtomicU32::new(0);
        let n = SERIAL.fetch_add(1, Ordering::Relaxed);
        let partial = dir_of(path).join(format!("{}.{}-{n}.partial", name_of(path), std::process::id()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&partial)
            .map_err(|e| format!("cannot create `{}`: {e}", partial.display()))?;
        Ok((Target::Replace { path: path.to_owned(), partial, lock }, file))
    }

    /// The file being written now.
    pub(crate) fn writing(&self) -> &Path {
        match self {
            Target::Replace { partial, .. } => partial,
            Target::Stream { path } => path,
        }
    }

    /// Puts the finished trace in place (renames the partial file over the path) and lets the
    /// claim go. The path the trace is at, or why it stays at its partial name.
    pub(crate) fn commit(self) -> Result<PathBuf, (PathBuf, String)> {
        match self {
            Target::Stream { path } => Ok(path),
            Target::Replace { path, partial, lock } => {
                let done = fs::rename(&partial, &path);
                drop(lock);
                match done {
                    Ok(()) => Ok(path),
                    Err(e) => {
                        Err((partial.clone(), format!("could not rename `{}`: {e}", partial.display())))
                    }
                }
            }
        }
    }
}
