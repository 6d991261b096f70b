//! The actor's seam to the operating system: spawning, signalling, reaping and the notices (SIGCHLD and
//! the control signals) that wake the actor up. [`RealOs`] forwards to [`crate::sys`]; the actor tests
//! use a scripted fake, so startsecs, stopwaitsecs, deferred replies, shutdown order and reload are
//! checked in milliseconds of real time under `tokio::time::pause()`.
//!
//! The clock needs no trait: the actor reads monotonic time from `tokio::time::Instant`, which is the
//! system clock in the daemon and the paused test clock in the tests.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::task::{Context, Poll};

use procd_protocol::Signal;
use tokio::signal::unix::{SignalKind, signal};

use crate::probes::{CheckOs, SysChecks};
use crate::sys::{self, KillError, SpawnError, SpawnSpec, Spawned, WaitStatus};

/// What the operating system tells the actor between requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// SIGCHLD: a child has exited; reap.
    ChildExited,
    /// A control signal: TERM, INT, QUIT (shutdown), HUP (restart), USR2 (reopen the logs).
    Signal(Signal),
}

/// Everything the actor asks of the operating system. One call per spawn, signal or reap: the seam
/// adds an indirect call and nothing else to the hot path.
pub trait Os: Send {
    /// Starts listening for [`Notice`]s; called when the actor's loop starts, before anything is spawned.
    fn listen(&mut self) -> io::Result<()>;
    /// The next notice, if one has arrived (registers `cx` for a wake-up otherwise).
    fn poll_notice(&mut self, cx: &mut Context<'_>) -> Poll<Notice>;
    /// Finds the file a command's `argv[0]` names (see [`sys::resolve_command`]).
    fn resolve_command(
        &self,
        argv0: &str,
        program_path: Option<&str>,
        daemon_path: Option<&str>,
    ) -> Result<PathBuf, String>;
    /// Starts a child (see [`sys::spawn`]).
    fn spawn(&mut self, spec: SpawnSpec) -> Result<Spawned, SpawnError>;
    /// Signals one process.
    fn kill(&mut self, pid: i32, signal: Signal) -> Result<(), KillError>;
    /// Signals a whole process group.
    fn kill_group(&mut self, pgid: i32, signal: Signal) -> Result<(), KillError>;
    /// Collects any one exited child.
    fn reap_any(&mut self) -> Option<(i32, WaitStatus)>;
    /// Collects `pid` if it has exited.
    fn reap_pid(&mut self, pid: i32) -> Option<WaitStatus>;
    /// The pids the SIGCHLDs since the last call named, when they stand for every one of them (see
    /// [`sys::take_exit_hints`]); `None`: reap everything.
    fn exit_hints(&mut self) -> Option<Vec<i32>> {
        None
    }
    /// The handle exec checks (ready and liveness) start and kill their commands through; they run in
    /// their own tasks, and the actor collects their exits with [`Os::reap_any`] like any child's.
    fn checks(&self) -> Arc<dyn CheckOs>;
    /// A live child's start time and process group (`/proc/<pid>/stat`), recorded in the children file
    /// for a restart after a crash (see `leftovers`); `None` where there is no such process.
    fn identity(&self, pid: i32) -> Option<(u64, i32)> {
        let _ = pid;
        None
    }
}

/// The daemon's [`Os`]: the kernel, through [`crate::sys`].
#[derive(Default)]
pub struct RealOs {
    signals: Option<Signals>,
}

struct Signals {
    child: tokio::signal::unix::Signal,
    /// TERM, INT, QUIT, HUP, USR2.
    control: [(tokio::signal::unix::Signal, Signal); 5],
}

impl Os for RealOs {
    fn listen(&mut self) -> io::Result<()> {
        // Before the SIGCHLD stream: the pid is recorded before the stream wakes the actor.
        sys::note_exits()?;
        self.signals = Some(Signals {
            child: signal(SignalKind::child())?,
            control: [
                (signal(SignalKind::terminate())?, Signal::TERM),
                (signal(SignalKind::interrupt())?, Signal::INT),
                (signal(SignalKind::quit())?, Signal::QUIT),
                (signal(SignalKind::hangup())?, Signal::HUP),
                (signal(SignalKind::user_defined2())?, Signal::USR2),
            ],
        });
        Ok(())
    }

    fn poll_notice(&mut self, cx: &mut Context<'_>) -> Poll<Notice> {
        let Some(signals) = self.signals.as_mut() else {
            return Poll::Pending;
        };
        if signals.child.poll_recv(cx).is_ready() {
            return Poll::Ready(Notice::ChildExited);
        }
        for (stream, sig) in &mut signals.control {
            if stream.poll_recv(cx).is_ready() {
                return Poll::Ready(Notice::Signal(*sig));
            }
        }
        Poll::Pending
    }

    fn resolve_command(
        &self,
        argv0: &str,
        program_path: Option<&str>,
        daemon_path: Option<&str>,
    ) -> Result<PathBuf, String> {
        sys::resolve_command(argv0, program_path, daemon_path)
    }

    fn spawn(&mut self, spec: SpawnSpec) -> Result<Spawned, SpawnError> {
        sys::spawn(spec)
    }

    fn kill(&mut self, pid: i32, signal: Signal) -> Result<(), KillError> {
        sys::kill(pid, signal)
    }

    fn kill_group(&mut self, pgid: i32, signal: Signal) -> Result<(), KillError> {
        sys::kill_group(pgid, signal)
    }

    fn reap_any(&mut self) -> Option<(i32, WaitStatus)> {
        sys::reap_any()
    }

    fn reap_pid(&mut self, pid: i32) -> Option<WaitStatus> {
        sys::reap_pid(pid)
    }

    fn exit_hints(&mut self) -> Option<Vec<i32>> {
        sys::take_exit_hints()
    }

    fn checks(&self) -> Arc<dyn CheckOs> {
        Arc::new(SysChecks)
    }

    fn identity(&self, pid: i32) -> Option<(u64, i32)> {
        super::leftovers::stat(pid)
    }
}
