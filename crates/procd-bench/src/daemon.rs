//! Starting, waiting for, and stopping one daemon under test, and cleaning up only what it started.
//!
//! The daemon runs in its own process group with `-n -c <conf>`; its stdout/stderr go to files in the
//! instance directory. Before stopping it, the benchmark snapshots the daemon's children, so that after
//! the daemon exits (or is killed at the deadline) any child it left behind is found and killed.

use std::fs::{self, File};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

use crate::config::DaemonConfig;
use crate::procfs;
use crate::rpc::{Client, Endpoint};

/// Which implementation a binary is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    Procd,
    Supervisord,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Procd => "procd",
            Kind::Supervisord => "supervisord",
        }
    }
}

/// A daemon binary to benchmark.
#[derive(Debug, Clone)]
pub(crate) struct DaemonBin {
    pub kind: Kind,
    pub path: PathBuf,
}

/// A running daemon instance.
#[derive(Debug)]
pub(crate) struct Daemon {
    child: Option<Child>,
    pub pid: i32,
    pub config: DaemonConfig,
}

/// How a stop went.
#[derive(Debug, Clone)]
pub(crate) struct Stopped {
    /// SIGTERM to observed exit (exit is polled every millisecond).
    pub elapsed: Duration,
    /// Whether the daemon had to be killed with SIGKILL at the deadline.
    pub killed: bool,
    /// Children of the daemon still alive after it exited (they were then killed).
    pub leftovers: usize,
}

impl Daemon {
    /// Writes the config, starts the daemon and waits until `getState` answers RUNNING.
    pub(crate) fn start(
        bin: &DaemonBin,
        config: DaemonConfig,
        deadline: Duration,
    ) -> Result<Daemon> {
        fs::create_dir_all(config.log_dir())?;
        let conf = config.dir.join("daemon.conf");
        fs::write(&conf, config.render())?;
        let out = File::create(config.dir.join("daemon.stdout"))?;
        let err = File::create(config.dir.join("daemon.stderr"))?;
        let child = Command::new(&bin.path)
            .arg("-n")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot run {}", bin.path.display()))?;
        let pid = child.id() as i32;
        let mut daemon = Daemon {
            child: Some(child),
            pid,
            config,
        };
        let started = Instant::now();
        let mut client = daemon.client();
        client.set_timeout(Duration::from_secs(2));
        loop {
            if let Some(status) = daemon
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                daemon.child = None;
                bail!(
                    "{} exited during start-up ({status}){}",
                    bin.kind.name(),
                    daemon.diagnostics()
                );
            }
            // RUNNING, and the daemon itself listens on its TCP port (read back from the kernel), so
            // the TCP scenarios never talk to another process.
            if let Ok(v) = client.call("supervisor.getState", vec![])
                && v.get("statename").and_then(|s| s.as_str()) == Some("RUNNING")
                && procd_testkit::procs::tcp_listen_ports(pid).contains(&daemon.config.port)
            {
                return Ok(daemon);
            }
            if started.elapsed() > deadline {
                bail!(
                    "{} was not RUNNING and listening on port {} within {deadline:?}{}",
                    bin.kind.name(),
                    daemon.config.port,
                    daemon.diagnostics()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn unix(&self) -> Endpoint {
        Endpoint::Unix(self.config.socket.clone())
    }

    pub(crate) fn tcp(&self) -> Endpoint {
        Endpoint::Tcp(([127, 0, 0, 1], self.config.port).into())
    }

    /// A fresh client on the unix socket.
    pub(crate) fn client(&self) -> Client {
        Client::new(self.unix())
    }

    pub(crate) fn alive(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Tail of the daemon's stderr and main log, for error messages.
    pub(crate) fn diagnostics(&self) -> String {
        let mut s = String::new();
        for path in [
            self.config.dir.join("daemon.stderr"),
            self.config.main_log(),
        ] {
            if let Some(t) = tail(&path, 600) {
                s.push_str(&format!("\n--- {} ---\n{t}", path.display()));
            }
        }
        s
    }

    /// SIGTERM, then wait for exit; SIGKILL (daemon and children) when `deadline` passes.
    pub(crate) fn stop(&mut self, deadline: Duration) -> Result<Stopped> {
        let Some(mut child) = self.child.take() else {
            return Err(anyhow!("daemon is not running"));
        };
        let children = procfs::children_of(self.pid);
        kill(Pid::from_raw(self.pid), Signal::SIGTERM)?;
        let sent = Instant::now();
        let mut killed = false;
        let elapsed = loop {
            if child.try_wait()?.is_some() {
                break sent.elapsed();
            }
            if sent.elapsed() > deadline {
                killed = true;
                kill_children(self.pid);
                let _ = child.kill();
                let _ = child.wait();
                break sent.elapsed();
            }
            thread::sleep(Duration::from_millis(1));
        };
        let leftovers = reap_leftovers(&children, self.pid);
        Ok(Stopped {
            elapsed,
            killed,
            leftovers,
        })
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let children = procfs::children_of(self.pid);
            kill_children(self.pid);
            let _ = child.kill();
            let _ = child.wait();
            reap_leftovers(&children, self.pid);
        }
    }
}

/// SIGKILLs the daemon's current children and their process groups. The daemon is stopped
/// (SIGSTOP) first, so it cannot fork a child after the list is read: supervisord in the middle of
/// `startAllProcesses` left children behind otherwise, orphaned once it was killed.
fn kill_children(daemon: i32) {
    let _ = kill(Pid::from_raw(daemon), Signal::SIGSTOP);
    let deadline = Instant::now() + Duration::from_millis(500);
    while procfs::stat(daemon).is_some_and(|s| s.state != 'T' && s.state != 'Z')
        && Instant::now() < deadline
    {
        thread::sleep(Duration::from_millis(1));
    }
    for pid in procfs::children_of(daemon) {
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
}

/// Kills snapshot children that outlived their (now gone) daemon; returns how many there were.
fn reap_leftovers(children: &[i32], daemon: i32) -> usize {
    let mut left = 0;
    for &pid in children {
        // Still there and no longer the daemon's child: orphaned by it (zombies of the daemon are gone
        // with it, so a match here is a live process it started).
        if procfs::stat(pid).is_some_and(|s| s.ppid != daemon) {
            left += 1;
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
    left
}

fn tail(path: &Path, max: usize) -> Option<String> {
    let data = fs::read(path).ok()?;
    if data.is_empty() {
        return None;
    }
    let start = data.len().saturating_sub(max);
    Some(String::from_utf8_lossy(&data[start..]).into_owned())
}

/// A TCP port on 127.0.0.1 for a daemon's `[inet_http_server]` (a config file must name its port:
/// supervisord rejects port 0). Reserved through `procd_testkit::port` (outside the kernel's ephemeral
/// range, under a file lock no other test or benchmark process takes) and held until the benchmark
/// exits, so no outgoing connection or parallel run can take it between the check and the daemon's bind.
pub(crate) fn reserve_port() -> u16 {
    static HELD: std::sync::Mutex<Vec<procd_testkit::port::Port>> =
        std::sync::Mutex::new(Vec::new());
    let port = procd_testkit::port::reserve();
    let n = port.get();
    HELD.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(port);
    n
}
