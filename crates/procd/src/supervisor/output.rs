//! Child output: one task per pipe reads large chunks and appends them to the log file, off the actor.
//!
//! A write error (disk full, EIO) never stops the child or the pump: the bytes that could not be written are
//! counted, the problem is reported once in the main log (and again with the total when writing works
//! again), and the next chunk is tried as usual, so logging resumes by itself when space returns.

use std::io;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::SystemTime;

use procd_config::LogConfig;
use procd_core::Level;
use tokio::sync::mpsc;

use super::types::{Internal, ProcId};
use crate::events::pyrepr::{decode_output, str_repr};
use crate::events::{OutputRouter, Routed};

use crate::logger::Logger;
use crate::logs::lines::{LineFormat, LineState};
use crate::logs::{Closable, OpenFiles, RotatingFile};
use crate::telemetry::LogCounters;

/// The most one read takes from a pipe.
const READ_CHUNK: usize = 256 * 1024;

/// The first read buffer of a pipe. Buffers are allocated on the first output and grow (up to
/// `READ_CHUNK`) only while reads fill them, so the many programs that print little cost a few KiB each
/// and a quiet program costs nothing.
const FIRST_CHUNK: usize = 16 * 1024;

/// The pipe buffer asked for (the kernel default is 64 KiB): a writer at full speed then wakes the pump
/// once per large chunk instead of once per 64 KiB.
const PIPE_SIZE: usize = 1024 * 1024;

/// One log channel (stdout or stderr) of one process.
#[derive(Debug)]
pub(super) struct Channel {
    name: String,
    channel: &'static str,
    strip_ansi: bool,
    /// `*_syslog=true`: every line also goes to syslog as `<name> <line>`.
    syslog: bool,
    /// `*_log_timestamp` / `*_log_format=json`; `None` writes the bytes as they come.
    lines: Option<LineFormat>,
    logger: Logger,
    state: Mutex<ChannelState>,
    /// Bytes written and lost, for `/metrics` (one atomic add per write).
    counters: Arc<LogCounters>,
    /// The bounded set of open log files this channel's file belongs to, if log files are bounded.
    bounded: Option<Bounded>,
}

/// A channel's place in a bounded set of open log files.
struct Bounded {
    files: Arc<OpenFiles>,
    key: u64,
    me: Weak<dyn Closable>,
}

impl std::fmt::Debug for Bounded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bounded").field("key", &self.key).finish()
    }
}

#[derive(Debug)]
struct ChannelState {
    file: Option<RotatingFile>,
    /// Bytes not written since the last successful write.
    lost: u64,
    /// Bytes not written over the channel's lifetime.
    lost_total: u64,
    /// The last rotation failed (reported once until a write succeeds with its rotation).
    rotate_failing: bool,
}

impl Closable for Channel {
    fn try_close(&self) -> bool {
        let mut st = match self.state.try_lock() {
            Ok(st) => st,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return false,
        };
        if let Some(file) = st.file.as_mut() {
            file.close();
        }
        true
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        if let Some(b) = &self.bounded {
            b.files.forget(b.key);
        }
    }
}

impl Channel {
    /// Opens a channel (and its log file, if any). With `bounded`, the file is one of a bounded set of
    /// open log files: it may be closed while others are written and is reopened at its next write.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn open(
        name: &str,
        channel: &'static str,
        path: Option<&Path>,
        log: &LogConfig,
        strip_ansi: bool,
        logger: Logger,
        counters: Arc<LogCounters>,
        bounded: Option<&Arc<OpenFiles>>,
    ) -> io::Result<Arc<Self>> {
        let file = match path {
            Some(p) => Some(RotatingFile::open(p, log.maxbytes, log.backups)?),
            None => None,
        };
        let has_file = file.is_some();
        let ch = Arc::new_cyclic(|me: &Weak<Channel>| Channel {
            name: name.to_owned(),
            channel,
            strip_ansi,
            syslog: log.syslog,
            lines: LineFormat::new(log.timestamp, log.format, name, channel),
            logger,
            state: Mutex::new(ChannelState {
                file,
                lost: 0,
                lost_total: 0,
                rotate_failing: false,
            }),
            counters,
            bounded: bounded.filter(|_| has_file).map(|files| {
                let me: Weak<dyn Closable> = me.clone();
                Bounded {
                    files: Arc::clone(files),
                    key: files.key(),
                    me,
                }
            }),
        });
        let st = ch.lock();
        ch.note_use(&st);
        drop(st);
        Ok(ch)
    }

    /// Tells the bounded set of open files (if any) that this channel's file was just used.
    fn note_use(&self, st: &ChannelState) {
        if let Some(b) = &self.bounded {
            let open = st.file.as_ref().is_some_and(RotatingFile::is_open);
            b.files.note(b.key, &b.me, open);
        }
    }

    fn lock(&self) -> MutexGuard<'_, ChannelState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn describe(&self) -> String {
        format!("{} log of '{}'", self.channel, self.name)
    }

    pub(super) fn path(&self) -> Option<std::path::PathBuf> {
        self.lock().file.as_ref().map(|f| f.path().to_path_buf())
    }

    /// Appends output read from one pipe (whose line state is `lines`); never fails (errors are counted
    /// and reported).
    pub(super) fn write(&self, data: &[u8], lines: &mut LineState) {
        if self.strip_ansi {
            self.write_filtered(&strip_ansi(data), lines);
        } else {
            self.write_filtered(data, lines);
        }
    }

    /// Appends output that has already been through `strip_ansi` where configured. Syslog gets the lines
    /// as the child wrote them; the file gets them with their timestamps or as JSON where configured.
    pub(super) fn write_filtered(&self, data: &[u8], lines: &mut LineState) {
        if data.is_empty() {
            return;
        }
        if self.syslog {
            for line in syslog_lines(data) {
                crate::sys::childsyslog::send_info(&syslog_message(&self.name, line));
            }
        }
        match &self.lines {
            Some(format) => self.store(format.format(lines, data, SystemTime::now())),
            None => self.store(data),
        }
    }

    /// The pipe this channel was reading has ended: completes a line it left unfinished.
    pub(super) fn end_of_pipe(&self, lines: &mut LineState) {
        if let Some(format) = &self.lines {
            self.store(format.finish(lines, SystemTime::now()));
        }
    }

    fn store(&self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let mut st = self.lock();
        let Some(file) = st.file.as_mut() else { return };
        let outcome = file.write_counted(data);
        self.note_use(&st);
        // Only what did not reach the file is lost: a chunk cut short by a full disk is partly stored.
        let unwritten = (data.len() - outcome.written) as u64;
        self.counters.wrote(outcome.written);
        if unwritten > 0 {
            self.counters.lost(data.len() - outcome.written);
        }
        if outcome.error.is_none() {
            st.rotate_failing = false;
        }
        match outcome.error {
            None if st.lost > 0 => {
                let lost = std::mem::take(&mut st.lost);
                let total = st.lost_total;
                drop(st);
                self.logger.log(
                    Level::Warn,
                    &format!(
                        "{} is writable again; {lost} bytes of output were lost ({total} in all)",
                        self.describe()
                    ),
                );
            }
            None => {}
            Some(e) if unwritten == 0 => {
                // Every byte was stored; only the rotation after the write failed.
                let first = !st.rotate_failing;
                st.rotate_failing = true;
                drop(st);
                if first {
                    self.logger.log(
                        Level::Error,
                        &format!("could not rotate {}: {e}", self.describe()),
                    );
                }
            }
            Some(e) => {
                let first = st.lost == 0;
                st.lost += unwritten;
                st.lost_total += unwritten;
                drop(st);
                if first {
                    let msg = format!(
                        "could not write to {}: {e}; output is being lost",
                        self.describe()
                    );
                    self.logger.log(Level::Error, &msg);
                    eprintln!("procd: {msg}");
                }
            }
        }
    }

    pub(super) fn reopen(&self) -> io::Result<()> {
        let mut st = self.lock();
        let done = match st.file.as_mut() {
            Some(f) => f.reopen(),
            None => Ok(()),
        };
        self.note_use(&st);
        done
    }

    /// See [`RotatingFile::reopen_if_replaced`].
    pub(super) fn reopen_if_replaced(&self) -> io::Result<bool> {
        let mut st = self.lock();
        let done = match st.file.as_mut() {
            Some(f) => f.reopen_if_replaced(),
            None => Ok(false),
        };
        self.note_use(&st);
        done
    }

    pub(super) fn clear(&self) -> io::Result<()> {
        let mut st = self.lock();
        let done = match st.file.as_mut() {
            Some(f) => f.clear(),
            None => Ok(()),
        };
        self.note_use(&st);
        done
    }
}

/// How supervisord splits one chunk of output for syslog: trailing newlines dropped, then one message
/// per `\n`-separated piece (a chunk is not joined with the next, so a line cut by a read stays cut).
pub(super) fn syslog_lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let end = data.iter().rposition(|&b| b != b'\n').map_or(0, |i| i + 1);
    data[..end].split(|&b| b == b'\n')
}

/// One syslog message: the program name, a space, the line (invalid UTF-8 replaced).
pub(super) fn syslog_message(name: &str, line: &[u8]) -> String {
    format!("{name} {}", String::from_utf8_lossy(line))
}

/// Removes ANSI escape sequences (`ESC [` ... final byte) as supervisord's `strip_ansi` does.
pub(super) fn strip_ansi(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i] == 0x1b && data.get(i + 1) == Some(&b'[') {
            let mut j = i + 2;
            while j < data.len() && !b"HfABCDRsuJKhlpm".contains(&data[j]) {
                j += 1;
            }
            i = j + 1;
        } else {
            out.push(data[i]);
            i += 1;
        }
    }
    out
}

/// Where the bytes read from one pipe go besides the log file.
pub(super) enum Route {
    /// Only the log file (and the main log when it is at debug level).
    Plain { debug: bool },
    /// Capture mode and/or PROCESS_LOG events: the router splits log bytes from events.
    Routed(Box<OutputRouter>),
    /// An event listener's stdout: the protocol channel, also kept in its log file.
    Listener { id: ProcId },
}

/// What a pump reads.
pub(super) enum Source {
    /// A pipe's read end, registered with the reactor by the pump.
    Pipe(OwnedFd),
    /// A socket already registered (one that is also the child's stdin).
    Reader(crate::sys::pipeio::PipeReader),
}

/// One pipe of one child and everything its bytes may feed.
pub(super) struct Pump {
    pub fd: Source,
    pub channel: Option<Arc<Channel>>,
    pub name: String,
    pub stream: &'static str,
    pub pid: i32,
    pub route: Route,
    pub logger: Logger,
    pub internal: mpsc::UnboundedSender<Internal>,
    /// A `log:` ready check still pending: only then are this pipe's lines matched.
    pub watch: Option<crate::probes::LogWatch>,
}

/// Starts the task that pumps one pipe into its channel until EOF.
pub(super) fn pump(p: Pump) {
    let Pump {
        fd,
        channel,
        name,
        stream,
        pid,
        mut route,
        logger,
        internal,
        mut watch,
    } = p;
    if let Source::Pipe(fd) = &fd {
        // Best effort: a smaller pipe only means more wakeups.
        let _ = crate::sys::pipeio::set_pipe_size(std::os::fd::AsFd::as_fd(fd), PIPE_SIZE);
    }
    tokio::spawn(async move {
        let registered = match fd {
            Source::Pipe(fd) => crate::sys::pipeio::PipeReader::new(fd),
            Source::Reader(reader) => Ok(reader),
        };
        let pipe = match registered {
            Ok(p) => p,
            Err(e) => {
                logger.log(
                    Level::Error,
                    &format!("cannot read {stream} of '{name}' (pid {pid}): {e}"),
                );
                return;
            }
        };
        let mut buf: Vec<u8> = Vec::new();
        let mut lines = LineState::default();
        loop {
            if buf.is_empty() {
                // Nothing is allocated until the first output arrives.
                if pipe.wait_readable().await.is_err() {
                    break;
                }
                buf = vec![0u8; FIRST_CHUNK];
            }
            let n = match pipe.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let full = n == buf.len();
            let data = &buf[..n];
            if let Some(w) = &mut watch
                && w.feed(data)
            {
                watch = None;
            }
            match &mut route {
                Route::Plain { debug } => {
                    if let Some(ch) = &channel {
                        ch.write(data, &mut lines);
                    }
                    if *debug {
                        // supervisord: `%(name)r %(channel)s output:\n%(data)s`, where undecodable
                        // bytes become `Undecodable: b'...'`.
                        logger.log(
                            Level::Debug,
                            &format!(
                                "{} {stream} output:\n{}",
                                str_repr(&name),
                                decode_output(data)
                            ),
                        );
                    }
                }
                Route::Routed(router) => {
                    let routed = router.feed(data);
                    deliver(routed, channel.as_deref(), &mut lines, &logger, &internal);
                }
                Route::Listener { id } => {
                    if let Some(ch) = &channel {
                        ch.write(data, &mut lines);
                    }
                    let _ = internal.send(Internal::ListenerOutput {
                        id: *id,
                        pid,
                        data: data.to_vec(),
                    });
                }
            }
            if full && buf.len() < READ_CHUNK {
                buf = vec![0u8; (buf.len() * 4).min(READ_CHUNK)];
            }
        }
        if let Route::Routed(router) = &mut route {
            let routed = router.finish();
            deliver(routed, channel.as_deref(), &mut lines, &logger, &internal);
        }
        if let Some(ch) = &channel {
            ch.end_of_pipe(&mut lines);
        }
    });
}

fn deliver(
    routed: Routed,
    channel: Option<&Channel>,
    lines: &mut LineState,
    logger: &Logger,
    internal: &mpsc::UnboundedSender<Internal>,
) {
    if let Some(ch) = channel {
        ch.write_filtered(&routed.log_file, lines);
    }
    for (level, text) in routed.main_log {
        logger.log(level, &text);
    }
    for event in routed.events {
        let _ = internal.send(Internal::Publish(event));
    }
}

#[cfg(test)]
mod tests {
    use super::{Channel, LineState, strip_ansi, syslog_lines, syslog_message};
    use crate::logs::OpenFiles;
    use procd_config::{LogConfig, LogFormat, LogTarget};
    use std::sync::Arc;

    fn open_fds_to(dir: &std::path::Path) -> usize {
        std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .flatten()
            .filter_map(|e| std::fs::read_link(e.path()).ok())
            .filter(|t| t.starts_with(dir))
            .count()
    }

    #[test]
    fn bounded_channels_reopen_in_order_and_rotate_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let logger = crate::logger::Logger::new(
            crate::logs::MainLog::new(procd_core::Level::Info, None, false).unwrap(),
        );
        let files = Arc::new(OpenFiles::new(2));
        let log = |maxbytes| LogConfig {
            file: LogTarget::Auto,
            maxbytes,
            backups: 2,
            capture_maxbytes: 0,
            events_enabled: false,
            syslog: false,
            timestamp: None,
            format: LogFormat::Text,
        };
        let channels: Vec<Arc<Channel>> = (0..5)
            .map(|i| {
                let path = dir.path().join(format!("c{i}.log"));
                let maxbytes = if i == 0 { 50 } else { 0 };
                Channel::open(
                    &format!("c{i}"),
                    "stdout",
                    Some(&path),
                    &log(maxbytes),
                    false,
                    logger.clone(),
                    Arc::default(),
                    Some(&files),
                )
                .unwrap()
            })
            .collect();
        let mut lines: Vec<LineState> = (0..5).map(|_| LineState::default()).collect();
        let mut written = vec![String::new(); 5];
        // Round robin: every write finds its file closed by the others' writes.
        for round in 0..40 {
            for (i, ch) in channels.iter().enumerate() {
                let line = format!("c{i} line {round}\n");
                ch.write(line.as_bytes(), &mut lines[i]);
                written[i] += &line;
                assert!(files.open() <= 2);
                assert!(open_fds_to(dir.path()) <= 2);
            }
        }
        for (i, want) in written.iter().enumerate().skip(1) {
            let got = std::fs::read_to_string(dir.path().join(format!("c{i}.log"))).unwrap();
            assert_eq!(&got, want, "c{i}");
        }
        // c0 rotated every 50 bytes across reopens: the backups and the file are the exact tail, and
        // each backup was rotated once it reached 50 bytes.
        let path = dir.path().join("c0.log");
        let mut kept = String::new();
        for suffix in [".2", ".1", ""] {
            let part = std::fs::read_to_string(format!("{}{suffix}", path.display())).unwrap();
            if !suffix.is_empty() {
                assert!(part.len() >= 50, "{suffix}: {part:?}");
            }
            kept += &part;
        }
        assert!(written[0].ends_with(&kept) && kept.len() > 100, "{kept:?}");
        // A dropped channel leaves the set.
        drop(channels);
        assert_eq!(files.open(), 0);
        assert_eq!(open_fds_to(dir.path()), 0);
    }

    #[test]
    fn syslog_splits_like_supervisord() {
        // Python: data.rstrip('\n').split('\n')
        let table: [(&[u8], &[&[u8]]); 6] = [
            (b"one\n", &[b"one"]),
            (b"a\nb\n", &[b"a", b"b"]),
            (b"a\n\nb\n\n\n", &[b"a", b"", b"b"]),
            (b"partial", &[b"partial"]),
            (b"\n", &[b""]),
            (b"x\ny", &[b"x", b"y"]),
        ];
        for (data, want) in table {
            let got: Vec<&[u8]> = syslog_lines(data).collect();
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(data));
        }
        assert_eq!(syslog_message("web", b"hi \xff"), "web hi \u{fffd}");
    }

    #[test]
    fn strips_colour_codes() {
        assert_eq!(strip_ansi(b"\x1b[31mred\x1b[0m plain"), b"red plain");
        assert_eq!(strip_ansi(b"no codes"), b"no codes");
        assert_eq!(strip_ansi(b"\x1b[2Jclear"), b"clear");
    }
}
