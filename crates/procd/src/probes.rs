//! Ready checks (`ready_check=`, procd extension): the probes that tell the actor a STARTING program is up.
//!
//! * tcp, http and exec checks are polled by a task that exists only while the check is pending: one
//!   attempt every `ready_interval`, each with its own timeout, until one passes or the actor aborts the
//!   task (the child exited, was stopped, or `ready_timeout` ran out).
//! * `log:REGEX` is a [`LogWatch`] the output pumps of that one program feed while it is armed; other
//!   programs' pumps do not look at their lines.
//! * `notify` is a [`NotifySocket`]: a datagram socket per program, passed as `NOTIFY_SOCKET`, on which
//!   `READY=1` (systemd's sd_notify protocol) passes the check. The socket's task sleeps in `recv`.
//!
//! Nothing here touches process state: a passed check is reported through the callback the actor gives,
//! and the actor feeds it to the state machine as `Input::Ready`.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use procd_config::ReadyCheck;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;
use tokio::task::AbortHandle;

use crate::sys;

/// Called once when a check passes.
pub type OnPass = Arc<dyn Fn() + Send + Sync>;

/// The longest line prefix a [`LogWatch`] keeps while waiting for the rest of a line.
const MAX_PARTIAL_LINE: usize = 64 * 1024;

/// How long one tcp/http/exec attempt may take: the interval, but at least this long.
const MIN_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);

/// The timeout of one attempt for a given `ready_interval`.
pub fn attempt_timeout(interval: Duration) -> Duration {
    interval.max(MIN_ATTEMPT_TIMEOUT)
}

/// Children of exec checks, by pid. The actor's reaper collects every child; an exit whose pid is here
/// goes to the waiting check instead of the process table.
#[derive(Debug, Clone, Default)]
pub struct ExecChildren(Arc<Mutex<HashMap<i32, oneshot::Sender<sys::WaitStatus>>>>);

impl ExecChildren {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i32, oneshot::Sender<sys::WaitStatus>>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Hands a reaped exit to its check. False if `pid` is not an exec check's child.
    pub fn reaped(&self, pid: i32, status: sys::WaitStatus) -> bool {
        match self.lock().remove(&pid) {
            Some(tx) => {
                let _ = tx.send(status);
                true
            }
            None => false,
        }
    }
}

/// How to start one attempt of an exec check (a fresh spec each time: a spec holds no reusable fds).
pub type ExecSpec = Arc<dyn Fn() -> Result<sys::SpawnSpec, String> + Send + Sync>;

/// What an exec check asks of the operating system: starting its command and killing it when an
/// attempt is abandoned. Checks run in their own tasks beside the actor, so they hold this shared handle
/// (from the actor's seam, `supervisor::Os::checks`) instead of the actor's `&mut` seam; their exits
/// are still collected by the actor's reaper and handed over through [`ExecChildren`]. The daemon's
/// handle is [`SysChecks`]; the actor tests script check results through a fake one.
pub trait CheckOs: Send + Sync {
    /// Starts one attempt's child (see [`sys::spawn`]).
    fn spawn(&self, spec: sys::SpawnSpec) -> Result<sys::Spawned, sys::SpawnError>;
    /// Signals the child's process group (it leads one).
    fn kill_group(&self, pgid: i32, signal: procd_protocol::Signal) -> Result<(), sys::KillError>;
}

/// The daemon's [`CheckOs`]: the kernel, through [`crate::sys`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SysChecks;

impl CheckOs for SysChecks {
    fn spawn(&self, spec: sys::SpawnSpec) -> Result<sys::Spawned, sys::SpawnError> {
        sys::spawn(spec)
    }

    fn kill_group(&self, pgid: i32, signal: procd_protocol::Signal) -> Result<(), sys::KillError> {
        sys::kill_group(pgid, signal)
    }
}

/// Everything an exec check needs: how to build its command, where its exits arrive, and the OS.
#[derive(Clone)]
pub struct ExecCheck {
    pub spec: ExecSpec,
    pub children: ExecChildren,
    pub os: Arc<dyn CheckOs>,
}

/// Starts polling a tcp, http or exec check; returns the handle that cancels it. `log` and `notify`
/// checks are not polled (see [`LogWatch`], [`NotifySocket`]).
pub fn poll(
    check: &ReadyCheck,
    interval: Duration,
    exec: Option<ExecCheck>,
    on_pass: OnPass,
) -> Option<AbortHandle> {
    let attempt = Attempt::new(check, exec)?;
    let timeout = attempt_timeout(interval);
    let task = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if attempt.run(timeout).await.is_ok() {
                on_pass();
                return;
            }
        }
    });
    Some(task.abort_handle())
}

/// Called with the last error when a liveness check failed `failures` times in a row.
pub type OnFail = Arc<dyn Fn(String) + Send + Sync>;

/// How a liveness check runs.
#[derive(Debug, Clone, Copy)]
pub struct LivenessPlan {
    /// Between the starts of two attempts; the first attempt is one interval after the start.
    pub interval: Duration,
    /// The limit of one attempt.
    pub timeout: Duration,
    /// Consecutive failures that count as a failed check.
    pub failures: u32,
}

/// Runs a tcp/http/exec liveness check on a RUNNING program until the actor aborts it; after
/// `failures` consecutive failed attempts calls `on_fail` (and starts counting again).
pub fn watch_liveness(
    check: &ReadyCheck,
    plan: LivenessPlan,
    exec: Option<ExecCheck>,
    on_fail: OnFail,
) -> Option<AbortHandle> {
    let attempt = Attempt::new(check, exec)?;
    let task = tokio::spawn(async move {
        let start = tokio::time::Instant::now() + plan.interval;
        let mut ticks = tokio::time::interval_at(start, plan.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failed = 0;
        loop {
            ticks.tick().await;
            match attempt.run(plan.timeout).await {
                Ok(()) => failed = 0,
                Err(e) => {
                    failed += 1;
                    if failed >= plan.failures {
                        failed = 0;
                        on_fail(e);
                    }
                }
            }
        }
    });
    Some(task.abort_handle())
}

impl Attempt {
    fn new(check: &ReadyCheck, exec: Option<ExecCheck>) -> Option<Attempt> {
        Some(match (check, exec) {
            (ReadyCheck::Tcp { host, port }, _) => Attempt::Tcp {
                host: host.clone(),
                port: *port,
            },
            (ReadyCheck::Http { host, port, path }, _) => Attempt::Http {
                host: host.clone(),
                port: *port,
                path: path.clone(),
            },
            (ReadyCheck::Exec { .. }, Some(exec)) => Attempt::Exec(exec),
            _ => return None,
        })
    }
}

enum Attempt {
    Tcp {
        host: String,
        port: u16,
    },
    Http {
        host: String,
        port: u16,
        path: String,
    },
    Exec(ExecCheck),
}

impl Attempt {
    async fn run(&self, timeout: Duration) -> Result<(), String> {
        match self {
            Attempt::Tcp { host, port } => tcp(host, *port, timeout).await,
            Attempt::Http { host, port, path } => http(host, *port, path, timeout).await,
            Attempt::Exec(check) => exec(check, timeout).await,
        }
    }
}

/// One tcp attempt: a connection is accepted within `timeout`.
pub async fn tcp(host: &str, port: u16, timeout: Duration) -> Result<(), String> {
    match tokio::time::timeout(timeout, tokio::net::TcpStream::connect((host, port))).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out".into()),
    }
}

/// One http attempt: `GET path` answers with a 2xx status line within `timeout`.
pub async fn http(host: &str, port: u16, path: &str, timeout: Duration) -> Result<(), String> {
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|e| e.to_string())?;
        let authority = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: procd-ready-check\r\n\
             Accept: */*\r\nConnection: close\r\n\r\n"
        );
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut head = Vec::with_capacity(64);
        let mut buf = [0u8; 256];
        while !head.contains(&b'\n') && head.len() < 4096 {
            let n = stream.read(&mut buf).await.map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        let status = status_code(&head).ok_or("no HTTP status line")?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(format!("status {status}"))
        }
    };
    tokio::time::timeout(timeout, attempt)
        .await
        .unwrap_or_else(|_| Err("timed out".into()))
}

/// The status code of an HTTP/1.x status line.
fn status_code(head: &[u8]) -> Option<u16> {
    let line = head.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split_ascii_whitespace();
    if !parts.next()?.starts_with("HTTP/") {
        return None;
    }
    let code = parts.next()?;
    (code.len() == 3).then(|| code.parse().ok()).flatten()
}

/// Kills an exec check's child when its attempt is abandoned (timeout or cancelled check).
struct KillOnDrop<'a> {
    os: &'a dyn CheckOs,
    pid: Option<i32>,
}

impl Drop for KillOnDrop<'_> {
    fn drop(&mut self) {
        if let Some(pid) = self.pid {
            let _ = self.os.kill_group(pid, procd_protocol::Signal::KILL);
        }
    }
}

/// One exec attempt: the command exits 0 within `timeout`.
async fn exec(check: &ExecCheck, timeout: Duration) -> Result<(), String> {
    let (tx, rx) = oneshot::channel();
    let spawned = {
        // Held across the spawn so the reaper cannot look the pid up before it is registered.
        let mut map = check.children.lock();
        let spawned = check.os.spawn((check.spec)()?).map_err(|e| e.to_string())?;
        map.insert(spawned.pid, tx);
        spawned
    };
    let mut guard = KillOnDrop {
        os: check.os.as_ref(),
        pid: Some(spawned.pid),
    };
    // Output of the check goes to /dev/null (no pipe: see `readiness::exec_spec`).
    drop(spawned.stdin);
    let result = tokio::time::timeout(timeout, rx).await;
    match result {
        Ok(Ok(status)) => {
            guard.pid = None;
            match status {
                sys::WaitStatus::Exited(0) => Ok(()),
                sys::WaitStatus::Exited(code) => Err(format!("exit status {code}")),
                sys::WaitStatus::Signaled { signal, .. } => {
                    Err(format!("killed by signal {signal}"))
                }
            }
        }
        Ok(Err(_)) => Err("lost the check's exit status".into()),
        Err(_) => Err("timed out".into()),
    }
}

/// A `log:REGEX` check, fed by a program's output pumps (stdout and stderr share one [`LogWatch`] state).
#[derive(Clone)]
pub struct LogWatch {
    regex: Arc<regex_lite::Regex>,
    fired: Arc<AtomicBool>,
    on_pass: OnPass,
    partial: Vec<u8>,
}

impl std::fmt::Debug for LogWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogWatch")
            .field("regex", &self.regex.as_str())
            .finish_non_exhaustive()
    }
}

impl LogWatch {
    pub fn new(pattern: &str, on_pass: OnPass) -> Result<Self, String> {
        let regex = regex_lite::Regex::new(pattern).map_err(|e| e.to_string())?;
        Ok(LogWatch {
            regex: Arc::new(regex),
            fired: Arc::new(AtomicBool::new(false)),
            on_pass,
            partial: Vec::new(),
        })
    }

    /// The flag that ends matching (set when the check passed, or by the actor when it is no longer
    /// pending).
    pub fn done_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.fired)
    }

    /// Looks at one chunk of output. Returns true once the check has passed (on this or the other
    /// stream): the pump then drops the watch and stops looking at lines.
    pub fn feed(&mut self, data: &[u8]) -> bool {
        if self.fired.load(Ordering::Relaxed) {
            return true;
        }
        let mut rest = data;
        while let Some(i) = rest.iter().position(|&b| b == b'\n') {
            let matched = if self.partial.is_empty() {
                self.matches(&rest[..i])
            } else {
                self.partial.extend_from_slice(&rest[..i]);
                let line = std::mem::take(&mut self.partial);
                self.matches(&line)
            };
            if matched {
                return self.fire();
            }
            rest = &rest[i + 1..];
        }
        if !rest.is_empty() {
            let room = MAX_PARTIAL_LINE.saturating_sub(self.partial.len());
            self.partial
                .extend_from_slice(&rest[..rest.len().min(room)]);
            // A prompt without a newline (`ready> `) counts too.
            let tail = std::mem::take(&mut self.partial);
            let matched = self.matches(&tail);
            self.partial = tail;
            if matched {
                return self.fire();
            }
        }
        false
    }

    fn matches(&self, line: &[u8]) -> bool {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        self.regex.is_match(&String::from_utf8_lossy(line))
    }

    fn fire(&mut self) -> bool {
        self.partial = Vec::new();
        if !self.fired.swap(true, Ordering::AcqRel) {
            (self.on_pass)();
        }
        true
    }
}

/// A program's `NOTIFY_SOCKET`: a unix datagram socket read by a task that reports `READY=1`.
/// Removed (and its task ended) when dropped.
#[derive(Debug)]
pub struct NotifySocket {
    path: PathBuf,
    task: AbortHandle,
}

impl NotifySocket {
    /// Binds `path` (replacing a stale file), mode 0600, owned by `owner` when given.
    pub fn bind(path: &Path, owner: Option<(u32, u32)>, on_ready: OnPass) -> io::Result<Self> {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::remove_file(path);
        let socket = tokio::net::UnixDatagram::bind(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(path, Some(uid), Some(gid))?;
        }
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            while let Ok(n) = socket.recv(&mut buf).await {
                if says_ready(&buf[..n]) {
                    on_ready();
                }
            }
        });
        Ok(NotifySocket {
            path: path.to_path_buf(),
            task: task.abort_handle(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for NotifySocket {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether an sd_notify datagram (newline-separated `KEY=VALUE` assignments) contains `READY=1`.
pub fn says_ready(datagram: &[u8]) -> bool {
    datagram
        .split(|&b| b == b'\n')
        .any(|line| line == b"READY=1")
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    fn counter() -> (Arc<AtomicUsize>, OnPass) {
        let n = Arc::new(AtomicUsize::new(0));
        let m = Arc::clone(&n);
        (
            n,
            Arc::new(move || {
                m.fetch_add(1, Ordering::SeqCst);
            }),
        )
    }

    #[test]
    fn sd_notify_datagrams() {
        assert!(says_ready(b"READY=1"));
        assert!(says_ready(b"STATUS=up\nREADY=1\n"));
        assert!(!says_ready(b"READY=0"));
        assert!(!says_ready(b"STATUS=READY=1"));
        assert!(!says_ready(b""));
    }

    #[test]
    fn status_lines() {
        assert_eq!(status_code(b"HTTP/1.1 204 No Content\r\n"), Some(204));
        assert_eq!(status_code(b"HTTP/1.0 503 Busy\r\n"), Some(503));
        assert_eq!(status_code(b"SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(status_code(b"HTTP/1.1 20"), None);
    }

    #[test]
    fn log_watch_matches_whole_lines_across_chunks_and_fires_once() {
        let (n, on_pass) = counter();
        let mut w = LogWatch::new(r"^listening on port \d+$", on_pass).unwrap();
        let mut other = w.clone();
        assert!(!w.feed(b"starting\nlisten"));
        assert!(!w.feed(b"ing on port "));
        assert!(w.feed(b"8080\r\nmore\n"));
        assert_eq!(n.load(Ordering::SeqCst), 1);
        // The other stream's watch sees that it already passed.
        assert!(other.feed(b"listening on port 1\n"));
        assert_eq!(n.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn log_watch_tail_without_newline_and_invalid_utf8() {
        let (n, on_pass) = counter();
        let mut w = LogWatch::new("ready>", on_pass).unwrap();
        assert!(!w.feed(b"\xff\xfe junk\n"));
        assert!(w.feed(b"ready> "));
        assert_eq!(n.load(Ordering::SeqCst), 1);
        let (_, on_pass) = counter();
        let mut long = LogWatch::new("^x$", on_pass).unwrap();
        assert!(!long.feed(&vec![b'a'; MAX_PARTIAL_LINE * 2]));
        assert!(long.partial.len() <= MAX_PARTIAL_LINE);
    }

    #[tokio::test]
    async fn tcp_and_http_attempts_against_real_listeners() {
        let t = Duration::from_secs(2);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(tcp("127.0.0.1", port, t).await.is_ok());
        drop(listener);

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            for status in ["200 OK", "500 Oops", ""] {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut req = vec![0u8; 1024];
                let n = s.read(&mut req).await.unwrap();
                let req = String::from_utf8_lossy(&req[..n]).to_string();
                assert!(req.starts_with("GET /health?x=1 HTTP/1.1\r\n"), "{req}");
                assert!(
                    req.contains(&format!("Host: 127.0.0.1:{port}\r\n")),
                    "{req}"
                );
                if status.is_empty() {
                    // Never answers: the attempt times out.
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    return;
                }
                let answer = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
                s.write_all(answer.as_bytes()).await.unwrap();
            }
        });
        assert_eq!(http("127.0.0.1", port, "/health?x=1", t).await, Ok(()));
        assert_eq!(
            http("127.0.0.1", port, "/health?x=1", t).await,
            Err("status 500".into())
        );
        assert_eq!(
            http("127.0.0.1", port, "/health?x=1", Duration::from_millis(200)).await,
            Err("timed out".into())
        );
        server.abort();
        // A closed port fails.
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        assert!(tcp("127.0.0.1", closed, t).await.is_err());
        assert!(http("127.0.0.1", closed, "/", t).await.is_err());
    }

    #[tokio::test]
    async fn notify_socket_reports_ready_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.sock");
        let (n, on_pass) = counter();
        let sock = NotifySocket::bind(&path, None, on_pass).unwrap();
        let client = std::os::unix::net::UnixDatagram::unbound().unwrap();
        client.send_to(b"STATUS=warming up", &path).unwrap();
        client.send_to(b"STATUS=done\nREADY=1\n", &path).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while n.load(Ordering::SeqCst) == 0 && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(n.load(Ordering::SeqCst), 1);
        drop(sock);
        assert!(!path.exists());
    }
}
