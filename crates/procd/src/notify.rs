//! systemd's notification protocol (`sd_notify(3)`): when procd runs as a `Type=notify` service,
//! `NOTIFY_SOCKET` names a datagram socket (a path, or `@name` in the abstract namespace) that gets
//! newline-separated `KEY=value` messages:
//!
//! * `MAINPID=<pid>` right after daemonizing (the forked daemon is not the process systemd started);
//! * `READY=1` (with a first `STATUS=`) once the servers are bound and no autostart program is STARTING
//!   or BACKOFF any more;
//! * `STATUS=12 running, 1 fatal` after state changes, coalesced ([`STATUS_COALESCE`]): a burst of changes
//!   sends one line, and an idle procd sends nothing and arms no timer;
//! * `RELOADING=1` + `MONOTONIC_USEC=` on SIGHUP or `supervisor.restart`, then `READY=1` again;
//! * `STOPPING=1` when shutdown starts;
//! * `WATCHDOG=1` every `WATCHDOG_USEC`/2, only when systemd asked for it (and `WATCHDOG_PID`, if set, is
//!   procd's pid), and only while the supervisor actor answers: a hung actor lets the watchdog fire.
//!
//! Without `NOTIFY_SOCKET` nothing here runs. Sending never blocks: a full or missing socket drops the
//! message, as `sd_notify` does. The variables are read once at start and removed from the environment
//! programs get ([`HIDDEN_FROM_CHILDREN`]).

use std::ffi::OsString;
use std::io;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use crate::supervisor::Handle;
use crate::telemetry::Telemetry;

/// Variables meant for procd alone: supervisord passes them on, and a program that speaks sd_notify
/// would then report to systemd as if it were procd.
pub const HIDDEN_FROM_CHILDREN: [&str; 3] = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"];

/// How long `STATUS=` waits after a change for the next ones (a mass start sends one line, not 1,000).
pub const STATUS_COALESCE: Duration = Duration::from_millis(100);

/// What systemd asked for, read from the environment at start-up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifyEnv {
    /// `NOTIFY_SOCKET`: a filesystem path, or `@name` for the abstract namespace.
    pub socket: Option<OsString>,
    /// `WATCHDOG_USEC`, when set, positive, and meant for this process (`WATCHDOG_PID`).
    pub watchdog: Option<Duration>,
}

impl NotifyEnv {
    /// Reads the variables of this process (call before daemonizing: `WATCHDOG_PID` names the process
    /// systemd started).
    pub fn from_process() -> Self {
        Self::parse(|k| std::env::var_os(k), std::process::id())
    }

    /// Reads the variables through `get`, for a process whose pid is `pid`.
    pub fn parse(get: impl Fn(&str) -> Option<OsString>, pid: u32) -> Self {
        let socket = get("NOTIFY_SOCKET").filter(|s| !s.is_empty());
        let for_us = get("WATCHDOG_PID")
            .and_then(|p| p.to_str().and_then(|p| p.trim().parse::<u32>().ok()))
            .is_none_or(|p| p == pid);
        let watchdog = get("WATCHDOG_USEC")
            .and_then(|v| v.to_str().and_then(|v| v.trim().parse::<u64>().ok()))
            .filter(|us| *us > 0 && for_us)
            .map(Duration::from_micros);
        NotifyEnv { socket, watchdog }
    }
}

/// The connection to systemd's notification socket.
#[derive(Debug)]
pub struct Notifier {
    socket: UnixDatagram,
    addr: SocketAddr,
    watchdog: Option<Duration>,
    ready_sent: AtomicBool,
    dirty: Notify,
    last_status: Mutex<String>,
}

/// The socket address `NOTIFY_SOCKET` names.
fn address(name: &OsString) -> io::Result<SocketAddr> {
    use std::os::unix::ffi::OsStrExt;
    let bytes = name.as_bytes();
    if let Some(abstract_name) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt;
        SocketAddr::from_abstract_name(abstract_name)
    } else {
        SocketAddr::from_pathname(std::path::Path::new(name))
    }
}

impl Notifier {
    /// Opens the socket `env` names; `Ok(None)` when systemd is not listening.
    pub fn open(env: &NotifyEnv) -> io::Result<Option<Self>> {
        let Some(name) = &env.socket else {
            return Ok(None);
        };
        let addr = address(name)?;
        let socket = UnixDatagram::unbound()?;
        socket.set_nonblocking(true)?;
        Ok(Some(Notifier {
            socket,
            addr,
            watchdog: env.watchdog,
            ready_sent: AtomicBool::new(false),
            dirty: Notify::new(),
            last_status: Mutex::new(String::new()),
        }))
    }

    /// Sends one message; a message that cannot be sent is dropped (systemd may be gone).
    fn send(&self, message: &str) {
        let _ = self.socket.send_to_addr(message.as_bytes(), &self.addr);
    }

    /// `MAINPID=`: the daemonized process is the one systemd should watch.
    pub fn main_pid(&self, pid: u32) {
        self.send(&format!("MAINPID={pid}"));
    }

    /// `READY=1` with the current summary, once per start or reload.
    pub fn ready(&self, status: &str) {
        if self.ready_sent.swap(true, Ordering::AcqRel) {
            return;
        }
        let mut last = self
            .last_status
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        status.clone_into(&mut last);
        self.send(&format!("READY=1\nSTATUS={}", one_line(status)));
    }

    /// `RELOADING=1`: the next `READY=1` ends the reload.
    pub fn reloading(&self) {
        self.ready_sent.store(false, Ordering::Release);
        self.send(&format!(
            "RELOADING=1\nMONOTONIC_USEC={}\nSTATUS=reloading",
            crate::sys::clock::monotonic_usec()
        ));
    }

    /// `STOPPING=1`.
    pub fn stopping(&self) {
        self.send("STOPPING=1\nSTATUS=stopping");
    }

    /// Something changed: the status task sends a new `STATUS=` shortly.
    pub fn status_changed(&self) {
        self.dirty.notify_one();
    }

    /// Starts the status task and, when systemd asked for it, the watchdog task.
    pub fn spawn_tasks(self: &Arc<Self>, telemetry: Arc<Telemetry>, handle: Handle) {
        tokio::spawn(Arc::clone(self).status_task(telemetry));
        if let Some(every) = self.watchdog {
            tokio::spawn(Arc::clone(self).watchdog_task(every / 2, handle));
        }
    }

    /// Sends `STATUS=` after changes, at most once per [`STATUS_COALESCE`]; sleeps while nothing changes.
    async fn status_task(self: Arc<Self>, telemetry: Arc<Telemetry>) {
        loop {
            self.dirty.notified().await;
            tokio::time::sleep(STATUS_COALESCE).await;
            let status = telemetry.summary();
            let changed = {
                let mut last = self
                    .last_status
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if *last == status {
                    false
                } else {
                    status.clone_into(&mut last);
                    true
                }
            };
            if changed && telemetry.mood() == procd_protocol::SupervisorState::Running {
                self.send(&format!("STATUS={}", one_line(&status)));
            }
        }
    }

    /// `WATCHDOG=1` every `interval` while the actor answers within it.
    async fn watchdog_task(self: Arc<Self>, interval: Duration, handle: Handle) {
        let mut ticks = tokio::time::interval(interval.max(Duration::from_millis(1)));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if tokio::time::timeout(interval, crate::health::actor_answers(&handle)).await
                == Ok(true)
            {
                self.send("WATCHDOG=1");
            }
        }
    }
}

fn one_line(s: &str) -> String {
    s.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)], pid: u32) -> NotifyEnv {
        NotifyEnv::parse(
            |k| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| OsString::from(v))
            },
            pid,
        )
    }

    #[test]
    fn reads_systemd_variables() {
        assert_eq!(env(&[], 7), NotifyEnv::default());
        let e = env(&[("NOTIFY_SOCKET", "@x"), ("WATCHDOG_USEC", "30000000")], 7);
        assert_eq!(e.socket, Some(OsString::from("@x")));
        assert_eq!(e.watchdog, Some(Duration::from_secs(30)));
        // WATCHDOG_PID names another process: the watchdog is not ours.
        let e = env(&[("WATCHDOG_USEC", "100"), ("WATCHDOG_PID", "8")], 7);
        assert_eq!(e.watchdog, None);
        let e = env(&[("WATCHDOG_USEC", "100"), ("WATCHDOG_PID", "7")], 7);
        assert_eq!(e.watchdog, Some(Duration::from_micros(100)));
        assert_eq!(env(&[("WATCHDOG_USEC", "0")], 7).watchdog, None);
        assert_eq!(env(&[("WATCHDOG_USEC", "x")], 7).watchdog, None);
        assert_eq!(env(&[("NOTIFY_SOCKET", "")], 7).socket, None);
    }

    #[test]
    fn sends_to_abstract_and_path_sockets() {
        use std::os::linux::net::SocketAddrExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let listener = UnixDatagram::bind(&path).unwrap();
        let n = Notifier::open(&NotifyEnv {
            socket: Some(path.into_os_string()),
            watchdog: None,
        })
        .unwrap()
        .unwrap();
        n.ready("1 running");
        n.ready("ignored: already ready");
        n.stopping();
        let mut buf = [0u8; 256];
        let len = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"READY=1\nSTATUS=1 running");
        let len = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"STOPPING=1\nSTATUS=stopping");

        let name = format!("procd-notify-test-{}", std::process::id());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let listener = UnixDatagram::bind_addr(&addr).unwrap();
        let n = Notifier::open(&NotifyEnv {
            socket: Some(OsString::from(format!("@{name}"))),
            watchdog: None,
        })
        .unwrap()
        .unwrap();
        n.main_pid(42);
        let len = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"MAINPID=42");
    }
}
