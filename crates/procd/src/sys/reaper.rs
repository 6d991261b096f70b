//! Reaping children: the single place where procd collects exit statuses.
//!
//! Contract: **no other code in procd may wait on children** (no `std::process::Child::wait`, no
//! `tokio::process`, no `waitpid(pid)`): `waitpid(-1)` here would steal their statuses and vice versa.
//! The caller owns a SIGCHLD stream (`tokio::signal::unix::signal(SignalKind::child())`) and calls
//! [`reap_all`] on every notification (and once at start-up, since signals coalesce); statuses of pids
//! procd does not know are orphans re-parented to procd (PID 1 in a container, or a subreaper).

use std::io;

use nix::errno::Errno;
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitStatus {
    /// Normal exit with this code.
    Exited(i32),
    /// Killed by a signal.
    Signaled { signal: i32, core_dumped: bool },
}

/// Collects every exited child without blocking (`waitpid(-1, WNOHANG)` until none is left).
pub fn reap_all() -> Vec<(i32, WaitStatus)> {
    let mut reaped = Vec::new();
    loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(nix::sys::wait::WaitStatus::Exited(pid, code)) => {
                reaped.push((pid.as_raw(), WaitStatus::Exited(code)))
            }
            Ok(nix::sys::wait::WaitStatus::Signaled(pid, signal, core_dumped)) => {
                reaped.push((
                    pid.as_raw(),
                    WaitStatus::Signaled {
                        signal: signal as i32,
                        core_dumped,
                    },
                ));
            }
            Ok(nix::sys::wait::WaitStatus::StillAlive) | Err(Errno::ECHILD) => return reaped,
            // Stopped/continued are not requested (no WUNTRACED/WCONTINUED); keep looping.
            Ok(_) | Err(Errno::EINTR) => {}
            Err(_) => return reaped,
        }
    }
}

/// Makes this process a child subreaper (Linux `PR_SET_CHILD_SUBREAPER`): orphaned descendants are
/// re-parented to it instead of to PID 1, so [`reap_all`] collects them.
pub fn set_child_subreaper() -> io::Result<()> {
    // SAFETY: prctl(PR_SET_CHILD_SUBREAPER, 1) takes no pointers and only changes a process attribute.
    let rc = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0, 0, 0) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
