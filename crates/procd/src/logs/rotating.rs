//! A log file that rotates by size, as supervisord's `RotatingFileHandler` does.
//!
//! After each write, when the file has reached `maxbytes`, the backups are shifted (`.N-1` -> `.N`, ...,
//! `.1` -> `.2`), the current file becomes `.1` and a fresh empty file takes its place (the path never
//! goes missing, see `swap_in_fresh_file`); with `backups = 0` the file is only truncated;
//! `maxbytes = 0` never rotates. A file may exceed `maxbytes` by one write.
//!
//! Unlike supervisord, targets that are not regular files (`/dev/stdout`, pipes, ttys, anything under
//! `/dev` or `/proc`) never rotate and are never seeked, so `maxbytes` can be left at its default there.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, Write};
use std::path::{Path, PathBuf};

/// What [`RotatingFile::write_counted`] did: the bytes that reached the file, and the error that
/// stopped it, if any.
#[derive(Debug)]
pub struct WriteOutcome {
    pub written: usize,
    pub error: Option<io::Error>,
}

/// An append-mode log file with size-based rotation.
#[derive(Debug)]
pub struct RotatingFile {
    path: PathBuf,
    maxbytes: u64,
    backups: u32,
    /// `None` after a failed reopen; the next write retries opening.
    file: Option<File>,
    rotatable: bool,
    written: u64,
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().append(true).create(true).open(path)
}

fn is_special_path(path: &Path) -> bool {
    path.starts_with("/dev") || path.starts_with("/proc")
}

impl RotatingFile {
    /// Opens (creating if needed) `path` for appending.
    pub fn open(path: impl Into<PathBuf>, maxbytes: u64, backups: u32) -> io::Result<Self> {
        let path = path.into();
        let mut rf = RotatingFile {
            path,
            maxbytes,
            backups,
            file: None,
            rotatable: false,
            written: 0,
        };
        rf.open_current()?;
        Ok(rf)
    }

    fn open_current(&mut self) -> io::Result<()> {
        let file = open_append(&self.path)?;
        self.rotatable = self.maxbytes > 0
            && !is_special_path(&self.path)
            && file.metadata().is_ok_and(|m| m.file_type().is_file());
        self.file = Some(file);
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Total bytes written through this handle since it was created (across rotations and reopens).
    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    /// Whether this target rotates at all (`maxbytes > 0` and a regular file).
    pub fn rotates(&self) -> bool {
        self.rotatable
    }

    /// Writes all of `data`, then rotates if the file has reached `maxbytes`. Empty writes do nothing.
    pub fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        let outcome = self.write_counted(data);
        match outcome.error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Writes as much of `data` as the file takes, then rotates if the file has reached `maxbytes`.
    /// Unlike [`RotatingFile::write_all`] it says exactly how many bytes reached the file, also when
    /// the disk fills in the middle of the chunk (a short write followed by `ENOSPC`). A rotation
    /// error comes back with every byte counted as written.
    pub fn write_counted(&mut self, data: &[u8]) -> WriteOutcome {
        let mut outcome = WriteOutcome {
            written: 0,
            error: None,
        };
        if data.is_empty() {
            return outcome;
        }
        if self.file.is_none()
            && let Err(e) = self.open_current()
        {
            outcome.error = Some(e);
            return outcome;
        }
        let Some(file) = self.file.as_mut() else {
            outcome.error = Some(io::Error::other("log file is not open"));
            return outcome;
        };
        while outcome.written < data.len() {
            match file.write(&data[outcome.written..]) {
                Ok(0) => {
                    outcome.error = Some(io::Error::from(io::ErrorKind::WriteZero));
                    break;
                }
                Ok(n) => outcome.written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    outcome.error = Some(e);
                    break;
                }
            }
        }
        self.written = self.written.saturating_add(outcome.written as u64);
        if outcome.written > 0 && self.rotatable {
            // With O_APPEND the position after a write is the end of the file, whoever else wrote to it.
            let rotated = file.stream_position().and_then(|size| {
                if size >= self.maxbytes {
                    self.rotate()
                } else {
                    Ok(())
                }
            });
            if let (Err(e), None) = (rotated, &outcome.error) {
                outcome.error = Some(e);
            }
        }
        outcome
    }

    fn backup_path(&self, n: u32) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    /// Shifts the backups and starts a fresh file now, whatever the current size.
    pub fn rotate(&mut self) -> io::Result<()> {
        if self.backups > 0 {
            // One rename per slot; a missing source is simply skipped, so no stat is needed (this
            // matters with hundreds of backups).
            for i in (1..self.backups).rev() {
                shift(&self.backup_path(i), &self.backup_path(i + 1))?;
            }
            if let Some(fresh) = self.swap_in_fresh_file() {
                self.file = Some(fresh);
                return Ok(());
            }
            rename_if_exists(&self.path, &self.backup_path(1))?;
        }
        self.file = None;
        let file = open_append(&self.path)?;
        // With no backups the current file is still in place: start it over.
        file.set_len(0)?;
        self.file = Some(file);
        Ok(())
    }

    /// Turns the current file into `.1` without the log's path ever being missing: readers such as
    /// `/logtail` and `tailProcessStdoutLog`, which run beside the writer, would otherwise answer "no
    /// file" in the moment between the rename and the new file's creation. The current file is
    /// hard-linked as `.1`, and a fresh file created beside it is renamed over the path (an atomic
    /// replace). `None` when that is not possible (no hard links on this filesystem, a race with
    /// another writer): the caller then rotates by rename.
    fn swap_in_fresh_file(&self) -> Option<File> {
        let first = self.backup_path(1);
        // With one backup nothing was shifted, and the old `.1` is being discarded anyway.
        remove_if_exists(&first).ok()?;
        fs::hard_link(&self.path, &first).ok()?;
        let mut fresh_name = self.path.clone().into_os_string();
        fresh_name.push(format!(".rotating-{}", std::process::id()));
        let fresh_path = PathBuf::from(fresh_name);
        let undo = |fresh: Option<&Path>| {
            if let Some(f) = fresh {
                let _ = fs::remove_file(f);
            }
            // Leave the current file in place for the rename fallback.
            let _ = fs::remove_file(&first);
        };
        let Ok(fresh) = OpenOptions::new()
            .append(true)
            .create_new(true)
            .open(&fresh_path)
        else {
            undo(None);
            return None;
        };
        if fs::rename(&fresh_path, &self.path).is_err() {
            undo(Some(&fresh_path));
            return None;
        }
        Some(fresh)
    }

    /// Closes the file; the next write reopens the path in append mode (a bounded set of open log
    /// files, see [`super::OpenFiles`]).
    pub fn close(&mut self) {
        self.file = None;
    }

    /// Whether the file is open.
    pub fn is_open(&self) -> bool {
        self.file.is_some()
    }

    /// Closes and reopens the same path in append mode (SIGUSR2, after external rotation).
    pub fn reopen(&mut self) -> io::Result<()> {
        self.file = None;
        self.open_current()
    }

    /// Reopens the path when it no longer names the open file (deleted, or renamed away and maybe
    /// replaced, since it was opened). supervisord opens its log files anew for every spawn, so a user who
    /// removes a program's log and restarts the program gets a fresh file; procd keeps its files open
    /// across restarts and calls this at each spawn instead. Returns whether it reopened.
    pub fn reopen_if_replaced(&mut self) -> io::Result<bool> {
        use std::os::unix::fs::MetadataExt;
        if is_special_path(&self.path) {
            return Ok(false);
        }
        let same = match (&self.file, fs::metadata(&self.path)) {
            (Some(file), Ok(at_path)) => file
                .metadata()
                .is_ok_and(|open| open.dev() == at_path.dev() && open.ino() == at_path.ino()),
            _ => false,
        };
        if same {
            return Ok(false);
        }
        self.reopen()?;
        Ok(true)
    }

    /// Removes the file (backups stay) and reopens a fresh one (supervisord's `clearProcessLogs`).
    pub fn clear(&mut self) -> io::Result<()> {
        self.file = None;
        match fs::remove_file(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                // Keep logging into the old file rather than losing output.
                let _ = self.open_current();
                return Err(e);
            }
        }
        self.open_current()
    }
}

/// Moves backup `src` to the next slot `dst` like supervisord (nothing happens when `src` does not
/// exist), without renaming over an existing file: from the top slot down, every destination has
/// just been vacated, and only the oldest backup is ever removed. Renaming over an existing file
/// would make ext4 (`auto_da_alloc`) start writeback of the renamed file inside the rename: with 10
/// backups of 1 MB, every megabyte went to disk in procd's time, although it is deleted a few
/// rotations later.
fn shift(src: &Path, dst: &Path) -> io::Result<()> {
    match crate::sys::files::rename_noreplace(src, dst) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            remove_if_exists(dst)?;
            rename_if_exists(src, dst)
        }
        Err(e) if e.kind() == io::ErrorKind::Unsupported => rename_if_exists(src, dst),
        Err(e) => Err(e),
    }
}

/// Removes `path`; a file that is already gone is not an error.
fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Replaces `dst` with `src`; either one vanishing meanwhile is not an error.
fn rename_if_exists(src: &Path, dst: &Path) -> io::Result<()> {
    match fs::rename(src, dst) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(path: &Path) -> Vec<u8> {
        fs::read(path).unwrap_or_default()
    }

    #[test]
    fn the_path_never_goes_missing_while_rotating() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.log");
        for backups in [1, 3] {
            let mut rf = RotatingFile::open(&path, 10, backups).expect("open");
            let done = std::sync::atomic::AtomicBool::new(false);
            let missing = std::thread::scope(|s| {
                let watcher = s.spawn(|| {
                    let mut missing = 0;
                    while !done.load(std::sync::atomic::Ordering::Relaxed) {
                        if fs::metadata(&path).is_err() {
                            missing += 1;
                        }
                    }
                    missing
                });
                for i in 0..2000 {
                    rf.write_all(format!("line {i:04}\n").as_bytes())
                        .expect("write");
                }
                done.store(true, std::sync::atomic::Ordering::Relaxed);
                watcher.join().expect("watcher")
            });
            assert_eq!(missing, 0, "backups={backups}: the log path was missing");
            assert_eq!(
                read(&path),
                b"",
                "the last write filled a file and rotated it"
            );
            assert_eq!(read(&dir.path().join("x.log.1")), b"line 1999\n");
            assert!(!dir.path().join(format!("x.log.{}", backups + 1)).exists());
            let leftovers: Vec<_> = fs::read_dir(dir.path())
                .expect("dir")
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().contains("rotating"))
                .collect();
            assert!(leftovers.is_empty(), "{leftovers:?}");
        }
    }

    fn backup(path: &Path, n: u32) -> PathBuf {
        PathBuf::from(format!("{}.{n}", path.display()))
    }

    #[test]
    fn appends_to_existing_file_and_counts_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("out.log");
        fs::write(&path, b"old\n").expect("seed");
        let mut f = RotatingFile::open(&path, 0, 0).expect("open");
        f.write_all(b"new\n").expect("write");
        f.write_all(b"").expect("empty write");
        assert_eq!(read(&path), b"old\nnew\n");
        assert_eq!(f.bytes_written(), 4);
        assert!(!f.rotates(), "maxbytes=0 never rotates");
    }

    #[test]
    fn rotation_shifts_backups_and_keeps_every_byte_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("app.log");
        let backups = 4u32;
        let mut f = RotatingFile::open(&path, 10, backups).expect("open");
        assert!(f.rotates());
        let mut all = Vec::new();
        for i in 0..30u8 {
            let chunk = vec![b'a' + i % 26; 3 + usize::from(i % 4)];
            all.extend_from_slice(&chunk);
            f.write_all(&chunk).expect("write");
        }
        // Rebuild the kept tail: .4, .3, .2, .1, current.
        let mut kept = Vec::new();
        for n in (1..=backups).rev() {
            let b = read(&backup(&path, n));
            assert!(!b.is_empty(), "backup .{n} exists");
            assert!(
                b.len() >= 10,
                "a backup is only made once maxbytes is reached"
            );
            kept.extend_from_slice(&b);
        }
        kept.extend_from_slice(&read(&path));
        assert!(
            all.ends_with(&kept),
            "backups + current are the last bytes written, in order"
        );
        assert!(
            !backup(&path, backups + 1).exists(),
            "no more than `backups` backups"
        );
        assert_eq!(f.bytes_written(), all.len() as u64);
    }

    #[test]
    fn rotation_with_a_missing_backup_moves_only_what_exists() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("app.log");
        fs::write(backup(&path, 3), b"oldest").unwrap();
        fs::write(backup(&path, 1), b"newer").unwrap();
        let mut f = RotatingFile::open(&path, 100, 3).expect("open");
        f.write_all(b"current").expect("write");
        f.rotate().expect("rotate");
        // As in supervisord: `.3` stays, since no `.2` was there to replace it.
        assert_eq!(read(&path), b"");
        assert_eq!(read(&backup(&path, 1)), b"current");
        assert_eq!(read(&backup(&path, 2)), b"newer");
        assert_eq!(read(&backup(&path, 3)), b"oldest");
        f.write_all(b"next").expect("write");
        f.rotate().expect("rotate");
        assert_eq!(read(&backup(&path, 1)), b"next");
        assert_eq!(read(&backup(&path, 2)), b"current");
        assert_eq!(
            read(&backup(&path, 3)),
            b"newer",
            "the oldest backup was replaced"
        );
        assert!(!backup(&path, 4).exists());
    }

    #[test]
    fn many_backups_hold_everything_when_enough() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.log");
        let mut f = RotatingFile::open(&path, 64, 50).expect("open");
        let mut all = Vec::new();
        for i in 0..200u32 {
            let line = format!("line {i}\n");
            all.extend_from_slice(line.as_bytes());
            f.write_all(line.as_bytes()).expect("write");
        }
        let mut kept = Vec::new();
        let mut n = 50;
        while n > 0 {
            kept.extend_from_slice(&read(&backup(&path, n)));
            n -= 1;
        }
        kept.extend_from_slice(&read(&path));
        assert_eq!(kept.len(), all.len(), "nothing dropped with enough backups");
        assert_eq!(kept, all);
        assert!(backup(&path, 20).exists(), "many rotations happened");
    }

    #[test]
    fn zero_backups_truncates_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.log");
        let mut f = RotatingFile::open(&path, 5, 0).expect("open");
        f.write_all(b"1234").expect("write");
        assert_eq!(read(&path), b"1234");
        f.write_all(b"56").expect("write");
        assert_eq!(read(&path), b"", "reached maxbytes: truncated");
        f.write_all(b"ab").expect("write");
        assert_eq!(read(&path), b"ab");
        assert!(!backup(&path, 1).exists());
    }

    #[test]
    fn size_counts_existing_content_and_other_writers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.log");
        fs::write(&path, b"12345678").expect("seed");
        let mut f = RotatingFile::open(&path, 10, 1).expect("open");
        let mut other = open_append(&path).expect("second writer");
        other.write_all(b"x").expect("other write");
        f.write_all(b"y").expect("write");
        assert_eq!(read(&backup(&path, 1)), b"12345678xy");
        assert_eq!(read(&path), b"");
    }

    #[test]
    fn reopen_follows_external_rename() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("r.log");
        let moved = dir.path().join("r.log.old");
        let mut f = RotatingFile::open(&path, 0, 0).expect("open");
        f.write_all(b"before\n").expect("write");
        fs::rename(&path, &moved).expect("logrotate");
        f.write_all(b"still old\n").expect("write");
        f.reopen().expect("reopen");
        f.write_all(b"after\n").expect("write");
        assert_eq!(read(&moved), b"before\nstill old\n");
        assert_eq!(read(&path), b"after\n");
    }

    #[test]
    fn reopens_only_when_the_path_names_another_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.log");
        let mut f = RotatingFile::open(&path, 0, 0).unwrap();
        f.write_all(b"one\n").unwrap();
        assert!(!f.reopen_if_replaced().unwrap(), "unchanged file kept");
        fs::remove_file(&path).unwrap();
        assert!(f.reopen_if_replaced().unwrap(), "deleted file reopened");
        f.write_all(b"two\n").unwrap();
        assert_eq!(read(&path), b"two\n");
        fs::rename(&path, dir.path().join("moved")).unwrap();
        fs::write(&path, b"other\n").unwrap();
        assert!(f.reopen_if_replaced().unwrap(), "replaced file reopened");
        f.write_all(b"three\n").unwrap();
        assert_eq!(read(&path), b"other\nthree\n");
    }

    #[test]
    fn clear_removes_and_reopens() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.log");
        let mut f = RotatingFile::open(&path, 4, 2).expect("open");
        f.write_all(b"aaaa").expect("write");
        f.write_all(b"bb").expect("write");
        f.clear().expect("clear");
        assert_eq!(read(&path), b"");
        assert_eq!(read(&backup(&path, 1)), b"aaaa", "backups are kept");
        f.write_all(b"cc").expect("write");
        assert_eq!(read(&path), b"cc");
        // Clearing a file someone already deleted is fine.
        fs::remove_file(&path).expect("rm");
        f.clear().expect("clear again");
        assert!(path.exists());
    }

    #[test]
    fn non_regular_targets_never_rotate() {
        let mut f = RotatingFile::open("/dev/null", 1, 3).expect("open /dev/null");
        assert!(!f.rotates());
        f.write_all(b"hello").expect("write");
        f.write_all(b"again").expect("write");
        assert!(Path::new("/dev/null").exists());
        assert!(!Path::new("/dev/null.1").exists());
    }

    #[test]
    fn errors_are_returned() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("no/such/dir/x.log");
        assert!(RotatingFile::open(&missing, 10, 1).is_err());
        // Disk full.
        if Path::new("/dev/full").exists() {
            let mut f = RotatingFile::open("/dev/full", 0, 0).expect("open /dev/full");
            assert!(f.write_all(b"data").is_err());
        }
    }

    #[test]
    fn write_reopens_after_failed_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sub = dir.path().join("sub");
        fs::create_dir(&sub).expect("mkdir");
        let path = sub.join("w.log");
        let mut f = RotatingFile::open(&path, 0, 0).expect("open");
        fs::remove_file(&path).expect("rm");
        fs::remove_dir(&sub).expect("rmdir");
        assert!(f.reopen().is_err());
        assert!(f.write_all(b"x").is_err());
        fs::create_dir(&sub).expect("mkdir again");
        f.write_all(b"y")
            .expect("write after the directory is back");
        assert_eq!(read(&path), b"y");
    }
}
