//! Sending signals to one process or to a whole process group.

use procd_protocol::Signal;

/// Why a signal could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum KillError {
    /// ESRCH: the process (group) does not exist (any more).
    #[error("no such process")]
    NoSuchProcess,
    /// A pid of 0 or less would address far more than one process; refused.
    #[error("refusing to signal pid {0}")]
    InvalidPid(i32),
    /// Any other failure (EPERM, EINVAL).
    #[error("{0}")]
    Os(#[source] std::io::Error),
}

/// `kill(pid, signal)`.
pub fn kill(pid: i32, signal: Signal) -> Result<(), KillError> {
    if pid <= 0 {
        return Err(KillError::InvalidPid(pid));
    }
    raw_kill(pid, signal)
}

/// `kill(-pgid, signal)`: the signal reaches every process of the group (grandchildren included).
pub fn kill_group(pgid: i32, signal: Signal) -> Result<(), KillError> {
    if pgid <= 1 {
        return Err(KillError::InvalidPid(pgid));
    }
    raw_kill(-pgid, signal)
}

fn raw_kill(target: i32, signal: Signal) -> Result<(), KillError> {
    // SAFETY: kill(2) takes no pointers; `target` was checked not to be 0, -1 or any broadcast value.
    let rc = unsafe { libc::kill(target, signal.number()) };
    if rc == 0 {
        return Ok(());
    }
    let err = std::io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::ESRCH) {
        Err(KillError::NoSuchProcess)
    } else {
        Err(KillError::Os(err))
    }
}
