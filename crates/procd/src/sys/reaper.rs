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
//!
//! [`note_exits`] records the pid each SIGCHLD names (`si_pid`), so the actor can ask that child first
//! ([`take_exit_hints`]) instead of walking all of them: with 10,000 children, one `waitpid(-1)` walk
//! costs about a millisecond, and finding the one that exited and then finding none left takes two.
//! Signals coalesce (two exits while SIGCHLD is pending name one pid), so a hint never replaces the full
//! walk; it only lets the actor do it a little later, once for a batch of exits.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};

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

/// How many SIGCHLD pids are kept between two reaps; more and the hints are incomplete (full walk).
const HINT_SLOTS: usize = 64;
static HINTS: [AtomicI32; HINT_SLOTS] = [const { AtomicI32::new(0) }; HINT_SLOTS];
/// Slots claimed by the signal handler (it only ever grows).
static HINT_HEAD: AtomicUsize = AtomicUsize::new(0);
/// Slots read by [`take_exit_hints`].
static HINT_TAIL: AtomicUsize = AtomicUsize::new(0);
static HINTS_ON: AtomicBool = AtomicBool::new(false);

/// Records the pid of every SIGCHLD from now on, for [`take_exit_hints`]. Call it before the SIGCHLD
/// stream is set up, so that a signal's pid is recorded before the stream wakes its reader (handlers run
/// in the order they were registered). Idempotent.
pub fn note_exits() -> io::Result<()> {
    if HINTS_ON.swap(true, Ordering::AcqRel) {
        return Ok(());
    }
    // SAFETY: `on_sigchld` runs inside a signal handler and does only atomic loads and stores on
    // statics (async-signal-safe: no allocation, no lock). SIGCHLD is not one of the signals the
    // registry refuses.
    let registered = unsafe { signal_hook_registry::register_sigaction(libc::SIGCHLD, on_sigchld) };
    registered
        .map(|_| ())
        .inspect_err(|_| HINTS_ON.store(false, Ordering::Release))
}

/// The SIGCHLD action: records the pid the signal names.
fn on_sigchld(info: &libc::siginfo_t) {
    // SAFETY: for SIGCHLD the kernel fills `si_pid` with the child's pid (sigaction(2)); reading it
    // for another signal would only give a wrong hint, which the reaper tolerates.
    record_hint(unsafe { info.si_pid() });
}

/// The signal handler's half: claims a slot and writes the pid into it.
fn record_hint(pid: i32) {
    let slot = HINT_HEAD.fetch_add(1, Ordering::AcqRel);
    HINTS[slot % HINT_SLOTS].store(pid, Ordering::Release);
}

/// The pids SIGCHLD named since the last call, or `None` when they may not stand for every signal
/// received (hints are off, none was recorded, more arrived than there are slots, or one is still being
/// written): reap with the full walk then. A pid may be stale (already reaped, even reused by a running
/// child); `waitpid(pid, WNOHANG)` then finds nothing, so asking it is harmless. One reader (the actor).
pub fn take_exit_hints() -> Option<Vec<i32>> {
    if !HINTS_ON.load(Ordering::Acquire) {
        return None;
    }
    let head = HINT_HEAD.load(Ordering::Acquire);
    let tail = HINT_TAIL.swap(head, Ordering::AcqRel);
    let count = head.wrapping_sub(tail);
    if count == 0 || count > HINT_SLOTS {
        return None;
    }
    let mut pids = Vec::with_capacity(count);
    let mut complete = true;
    for slot in tail..head {
        match HINTS[slot % HINT_SLOTS].swap(0, Ordering::AcqRel) {
            pid if pid > 0 => pids.push(pid),
            _ => complete = false,
        }
    }
    complete.then_some(pids)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The handler's half and the reader's, without a signal (the statics are this test's alone: no
    /// other unit test in this crate records hints).
    #[test]
    fn hints_are_taken_once_and_overflow_or_a_gap_means_a_full_walk() {
        HINTS_ON.store(true, Ordering::Release);
        assert_eq!(take_exit_hints(), None, "nothing recorded");
        record_hint(101);
        record_hint(102);
        assert_eq!(take_exit_hints(), Some(vec![101, 102]));
        assert_eq!(take_exit_hints(), None, "taken once");
        for pid in 1..=(HINT_SLOTS as i32 + 1) {
            record_hint(pid);
        }
        assert_eq!(take_exit_hints(), None, "more than the slots");
        // A slot claimed whose pid is not written yet (or a signal without a pid).
        record_hint(0);
        record_hint(7);
        assert_eq!(take_exit_hints(), None, "incomplete");
        record_hint(8);
        assert_eq!(take_exit_hints(), Some(vec![8]));
        HINTS_ON.store(false, Ordering::Release);
        record_hint(9);
        assert_eq!(take_exit_hints(), None, "off");
    }
}
