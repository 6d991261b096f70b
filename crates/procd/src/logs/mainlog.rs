//! The main log: `YYYY-MM-DD HH:MM:SS,mmm LEVL message` lines in local time, filtered by `loglevel`,
//! written to a rotating file or syslog, and mirrored to stdout when running in the foreground.
//!
//! Writing never fails for the caller: like supervisord's handlers, a target that cannot be written to
//! reports the problem on stderr and logging goes on with the other targets.

use std::fmt::Display;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Local, TimeZone};
use procd_core::Level;

use super::rotating::RotatingFile;

/// Where syslog lines go. The daemon's `sys` module implements it (the libc call needs `unsafe`).
pub trait SyslogSink: Send {
    /// Sends one formatted line (supervisord sends the full main-log line, at its default priority).
    fn send(&mut self, level: Level, line: &str);
}

/// The main log's destination (`logfile=`).
pub enum MainTarget {
    /// A file, rotated at `maxbytes` (0 = never) keeping `backups` old files.
    File {
        path: PathBuf,
        maxbytes: u64,
        backups: u32,
    },
    /// `logfile=syslog`.
    Syslog(Box<dyn SyslogSink>),
}

impl std::fmt::Debug for MainTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MainTarget::File {
                path,
                maxbytes,
                backups,
            } => f
                .debug_struct("File")
                .field("path", path)
                .field("maxbytes", maxbytes)
                .field("backups", backups)
                .finish(),
            MainTarget::Syslog(_) => f.write_str("Syslog"),
        }
    }
}

/// One main-log line, with its trailing newline, for a given time.
pub fn format_line<Tz: TimeZone>(at: &DateTime<Tz>, level: Level, message: &str) -> String
where
    Tz::Offset: Display,
{
    let millis = at.timestamp_subsec_millis().min(999);
    format!(
        "{},{millis:03} {} {message}\n",
        at.format("%Y-%m-%d %H:%M:%S"),
        level.tag()
    )
}

/// The supervisord main logger.
pub struct MainLog {
    level: Level,
    stdout: bool,
    file: Option<RotatingFile>,
    syslog: Option<Box<dyn SyslogSink>>,
}

impl std::fmt::Debug for MainLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MainLog")
            .field("level", &self.level)
            .field("stdout", &self.stdout)
            .field("file", &self.file)
            .field("syslog", &self.syslog.is_some())
            .finish()
    }
}

impl MainLog {
    /// Opens the target (if any). `mirror_stdout` is supervisord's `nodaemon and not silent`.
    pub fn new(level: Level, target: Option<MainTarget>, mirror_stdout: bool) -> io::Result<Self> {
        let mut log = MainLog {
            level,
            stdout: mirror_stdout,
            file: None,
            syslog: None,
        };
        match target {
            Some(MainTarget::File {
                path,
                maxbytes,
                backups,
            }) => {
                log.file = Some(RotatingFile::open(path, maxbytes, backups)?);
            }
            Some(MainTarget::Syslog(sink)) => log.syslog = Some(sink),
            None => {}
        }
        Ok(log)
    }

    pub fn level(&self) -> Level {
        self.level
    }

    pub fn set_level(&mut self, level: Level) {
        self.level = level;
    }

    /// Whether a line at `level` would be written (use it to skip building expensive messages).
    pub fn enabled(&self, level: Level) -> bool {
        level >= self.level
    }

    /// The log file path, when logging to a file.
    pub fn path(&self) -> Option<&Path> {
        self.file.as_ref().map(RotatingFile::path)
    }

    /// Logs `message` now (local time).
    pub fn log(&mut self, level: Level, message: &str) {
        self.log_at(&Local::now(), level, message);
    }

    /// Logs `message` with the given timestamp.
    pub fn log_at<Tz: TimeZone>(&mut self, at: &DateTime<Tz>, level: Level, message: &str)
    where
        Tz::Offset: Display,
    {
        if !self.enabled(level) {
            return;
        }
        let line = format_line(at, level, message);
        if self.stdout {
            let mut out = io::stdout().lock();
            // A closed stdout (EPIPE) must not stop the daemon.
            let _ = out.write_all(line.as_bytes()).and_then(|()| out.flush());
        }
        let failure = self.file.as_mut().and_then(|file| {
            let err = file.write_all(line.as_bytes()).err()?;
            Some((file.path().display().to_string(), err))
        });
        if let Some((path, e)) = failure {
            let _ = writeln!(io::stderr(), "procd: cannot write {path}: {e}");
        }
        if let Some(sink) = self.syslog.as_mut() {
            let stamp = format_line(at, level, "");
            let prefix = stamp.trim_end_matches('\n');
            for part in message.trim_end_matches('\n').split('\n') {
                sink.send(level, &format!("{prefix}{part}\n"));
            }
        }
    }

    fn targets(&self) -> usize {
        usize::from(self.stdout)
            + usize::from(self.file.is_some())
            + usize::from(self.syslog.is_some())
    }

    fn reopen_file(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(file) => file.reopen(),
            None => Ok(()),
        }
    }

    /// SIGUSR2: logs `supervisord logreopen`, then reopens the file.
    pub fn reopen(&mut self) -> io::Result<()> {
        self.log(Level::Info, "supervisord logreopen");
        self.reopen_file()
    }

    /// `clearLog`: removes the log file, then reopens every target, logging `reopening log file` once per
    /// target as supervisord does. Errors when there is no log file (`NO_FILE`) or it cannot be removed.
    pub fn clear(&mut self) -> io::Result<()> {
        let Some(path) = self.path().map(Path::to_path_buf) else {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no main log file"));
        };
        std::fs::remove_file(&path)?;
        for _ in 0..self.targets() {
            self.log(Level::Info, "reopening log file");
        }
        self.reopen_file()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, Utc};
    use std::sync::{Arc, Mutex};

    fn at() -> DateTime<FixedOffset> {
        let tz = FixedOffset::east_opt(2 * 3600).expect("offset");
        tz.with_ymd_and_hms(2024, 3, 7, 9, 5, 2)
            .single()
            .expect("time")
            + chrono::Duration::milliseconds(45)
    }

    #[test]
    fn line_format() {
        assert_eq!(
            format_line(&at(), Level::Info, "spawned: 'web' with pid 42"),
            "2024-03-07 09:05:02,045 INFO spawned: 'web' with pid 42\n"
        );
        let utc = Utc
            .with_ymd_and_hms(1999, 12, 31, 23, 59, 59)
            .single()
            .expect("time")
            + chrono::Duration::microseconds(999_999);
        assert_eq!(
            format_line(&utc, Level::Blather, "x"),
            "1999-12-31 23:59:59,999 BLAT x\n"
        );
        let local = format_line(&Local::now(), Level::Critical, "m");
        assert_eq!(local.len(), "YYYY-MM-DD HH:MM:SS,mmm CRIT m\n".len());
    }

    #[test]
    fn file_target_filters_by_level() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("supervisord.log");
        let target = MainTarget::File {
            path: path.clone(),
            maxbytes: 0,
            backups: 0,
        };
        let mut log = MainLog::new(Level::Info, Some(target), false).expect("open");
        log.log_at(&at(), Level::Debug, "hidden");
        log.log_at(&at(), Level::Info, "shown");
        log.log_at(&at(), Level::Critical, "also shown");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(
            text,
            "2024-03-07 09:05:02,045 INFO shown\n2024-03-07 09:05:02,045 CRIT also shown\n"
        );
        assert!(log.enabled(Level::Warn) && !log.enabled(Level::Trace));
        log.set_level(Level::Blather);
        assert!(log.enabled(Level::Blather));
    }

    #[test]
    fn rotates_main_log() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m.log");
        let target = MainTarget::File {
            path: path.clone(),
            maxbytes: 100,
            backups: 2,
        };
        let mut log = MainLog::new(Level::Info, Some(target), false).expect("open");
        for i in 0..20 {
            log.log_at(&at(), Level::Info, &format!("line {i}"));
        }
        let b1 = std::fs::read_to_string(dir.path().join("m.log.1")).expect("backup 1");
        assert!(b1.len() >= 100);
        assert!(dir.path().join("m.log.2").exists());
        assert!(!dir.path().join("m.log.3").exists());
    }

    #[test]
    fn reopen_and_clear() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m.log");
        let target = MainTarget::File {
            path: path.clone(),
            maxbytes: 0,
            backups: 0,
        };
        let mut log = MainLog::new(Level::Info, Some(target), false).expect("open");
        log.log(Level::Info, "first");
        std::fs::rename(&path, dir.path().join("old.log")).expect("rename");
        log.reopen().expect("reopen");
        log.log(Level::Warn, "second");
        let old = std::fs::read_to_string(dir.path().join("old.log")).expect("old");
        assert!(old.ends_with(" INFO supervisord logreopen\n"), "{old}");
        let new = std::fs::read_to_string(&path).expect("new");
        assert!(
            new.ends_with(" WARN second\n") && new.lines().count() == 1,
            "{new}"
        );

        log.clear().expect("clear");
        log.log(Level::Info, "third");
        let cleared = std::fs::read_to_string(&path).expect("cleared");
        assert!(
            cleared.ends_with(" INFO third\n") && cleared.lines().count() == 1,
            "{cleared}"
        );

        let mut none = MainLog::new(Level::Info, None, false).expect("no target");
        assert_eq!(
            none.clear().map_err(|e| e.kind()),
            Err(io::ErrorKind::NotFound)
        );
        assert_eq!(none.path(), None);
    }

    struct Capture(Arc<Mutex<Vec<(Level, String)>>>);
    impl SyslogSink for Capture {
        fn send(&mut self, level: Level, line: &str) {
            if let Ok(mut v) = self.0.lock() {
                v.push((level, line.to_string()));
            }
        }
    }

    #[test]
    fn syslog_gets_one_formatted_line_per_message_line() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let target = MainTarget::Syslog(Box::new(Capture(Arc::clone(&seen))));
        let mut log = MainLog::new(Level::Debug, Some(target), false).expect("syslog");
        log.log_at(&at(), Level::Debug, "'web' stdout output:\nhello\nworld\n");
        log.log_at(&at(), Level::Trace, "filtered");
        let seen = seen.lock().expect("lock").clone();
        let prefix = "2024-03-07 09:05:02,045 DEBG ";
        assert_eq!(
            seen,
            [
                (Level::Debug, format!("{prefix}'web' stdout output:\n")),
                (Level::Debug, format!("{prefix}hello\n")),
                (Level::Debug, format!("{prefix}world\n")),
            ]
        );
    }

    #[test]
    fn unwritable_file_does_not_panic() {
        if !Path::new("/dev/full").exists() {
            return;
        }
        let target = MainTarget::File {
            path: "/dev/full".into(),
            maxbytes: 0,
            backups: 0,
        };
        let mut log = MainLog::new(Level::Info, Some(target), false).expect("open");
        log.log(Level::Info, "disk full");
    }
}
