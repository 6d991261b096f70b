//! Reaping children: the single place where procd collects exit statuses.
//!
//! Contract: **no other code in procd may wait on children** (no `std::process::Child::wait`, no
//! `tokio::process`, no `waitpid(pid)`): `waitpid(-1)` here would steal their statuses and vice versa.
//! The supervisor actor owns a SIGCHLD stream (through its `Os` seam) and on every notification (and
//! once at start-up, since signals coalesce) calls [`reap_any`] until it returns `None`, handling each
//! exit as it is collected; right after starting or signalling one process it checks just that child
//! with [`reap_pid`]. Statuses of pids procd does not know are orphans re-parented to procd (PID 1 in a
//! container, or a subreaper). [`reap_all`] collects everything at once into a list; only the `sys`
//! integration tests use it (crates/procd/tests/sys.rs), procd itself reaps with the two above.

use std::io;

use nix::errno::Errno;

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitStatus {
    /// Normal exit with this code.
    Exited(i32),
    /// Killed by a signal.
    Signaled { signal: i32, core_dumped: bool },
}

/// Collects every exited child without blocking (`waitpid(-1, WNOHANG)` until none is left).
///
/// Uses the raw status word: nix's wrapper fails for children killed by a real-time signal (it has no
/// name for signals 32-64), which would lose their exit after the kernel has already collected it.
pub fn reap_all() -> Vec<(i32, WaitStatus)> {
    std::iter::from_fn(reap_any).collect()
}

/// Collects one exited child, if any (one `waitpid(-1, WNOHANG)`, repeated only on EINTR). Calling it
/// until `None` is [`reap_all`] without the list, so that each exit can be handled as soon as it is
/// collected.
pub fn reap_any() -> Option<(i32, WaitStatus)> {
    wait_exited(-1)
}

/// Collects `pid` if it has exited, without blocking, leaving every other child for [`reap_any`].
///
/// For the checks right after starting or signalling one process (supervisord calls its full `reap()`
/// there): the kernel looks at that one child, where `waitpid(-1)` walks all of them, which made a
/// mass start or stop of N programs cost O(N²).
pub fn reap_pid(pid: i32) -> Option<WaitStatus> {
    if pid <= 0 {
        return None;
    }
    wait_exited(pid).map(|(_, status)| status)
}

/// `waitpid(which, WNOHANG)`, asked again after EINTR or a status that is not an exit.
fn wait_exited(which: i32) -> Option<(i32, WaitStatus)> {
    loop {
        match wait_nohang(which) {
            Waited::Exited(pid, status) => return Some((pid, status)),
            Waited::Other => {}
            Waited::Nothing => return None,
        }
    }
}

enum Waited {
    Exited(i32, WaitStatus),
    /// A status that is not an exit (stopped/continued are not requested), or EINTR: ask again.
    Other,
    /// 0: the child(ren) exist but have not exited; -1 with ECHILD: no such child.
    Nothing,
}

fn wait_nohang(which: i32) -> Waited {
    let mut status: libc::c_int = 0;
    // SAFETY: waitpid writes the status word into a local; WNOHANG never blocks.
    let pid = unsafe { libc::waitpid(which, &mut status, libc::WNOHANG) };
    if pid > 0 {
        if libc::WIFEXITED(status) {
            Waited::Exited(pid, WaitStatus::Exited(libc::WEXITSTATUS(status)))
        } else if libc::WIFSIGNALED(status) {
            Waited::Exited(
                pid,
                WaitStatus::Signaled {
                    signal: libc::WTERMSIG(status),
                    core_dumped: libc::WCOREDUMP(status),
                },
            )
        } else {
            Waited::Other
        }
    } else if pid < 0 && Errno::last() == Errno::EINTR {
        Waited::Other
    } else {
        Waited::Nothing
    }
}

/// Makes this process a child subreaper (Linux `PR_SET_CHILD_SUBREAPER`): orphaned descendants are
/// re-parented to it instead of to PID 1, so [`reap_any`] collects them.
pub fn set_child_subreaper() -> io::Result<()> {
    // SAFETY: prctl(PR_SET_CHILD_SUBREAPER, 1) takes no pointers and only changes a process attribute.
    let rc = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0, 0, 0) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
