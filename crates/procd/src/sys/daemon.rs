//! Becoming a daemon, the pidfile, and `[supervisord] user=`.
//!
//! [`daemonize`] forks, so it must run before any thread exists (before the tokio runtime is built).

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::path::Path;

use nix::unistd::{ForkResult, Gid, Uid, fork, setgid, setgroups, setsid, setuid};

use super::users::lookup_uid;
use procd_config::pyrepr::repr as python_repr;

/// A line the caller should write to the main log (the logger exists before daemonizing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaemonNote {
    Info(String),
    Critical(String),
}

/// Forks into the background like supervisord's `_daemonize`: the parent `_exit(0)`s; the child
/// chdirs to `directory` (reported, not fatal), points fds 0-2 at /dev/null, calls `setsid` and sets
/// `umask`. Returns the main-log lines supervisord writes at this point.
///
/// Must be called while the process is single-threaded.
pub fn daemonize(directory: Option<&Path>, umask: u32) -> io::Result<Vec<DaemonNote>> {
    // SAFETY: the caller guarantees no other thread exists, so the child is a complete copy and may
    // keep running arbitrary code; the parent only calls `_exit`.
    match unsafe { fork() }? {
        ForkResult::Parent { .. } => {
            // SAFETY: _exit skips destructors and stdio flushing that belong to the child now.
            unsafe { libc::_exit(0) }
        }
        ForkResult::Child => {}
    }
    let mut notes = vec![DaemonNote::Info(
        "daemonizing the supervisord process".into(),
    )];
    if let Some(dir) = directory {
        match std::env::set_current_dir(dir) {
            Ok(()) => notes.push(DaemonNote::Info(format!(
                "set current directory: {}",
                python_repr(&dir.to_string_lossy())
            ))),
            Err(e) => notes.push(DaemonNote::Critical(format!(
                "can't chdir into {}: {}",
                python_repr(&dir.to_string_lossy()),
                python_oserror(&e, dir)
            ))),
        }
    }
    let null = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    for target in 0..=2 {
        // SAFETY: dup2 onto the standard fds with a valid open fd; no pointers.
        if unsafe { libc::dup2(null.as_raw_fd(), target) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    setsid()?;
    // SAFETY: umask takes no pointers and cannot fail.
    unsafe { libc::umask(umask as libc::mode_t) };
    Ok(notes)
}

/// Python's `str(OSError)` for a path error: `[Errno 2] No such file or directory: '/x'`.
fn python_oserror(e: &io::Error, path: &Path) -> String {
    match e.raw_os_error() {
        Some(code) => format!(
            "[Errno {code}] {}: {}",
            nix::errno::Errno::from_raw(code).desc(),
            python_repr(&path.to_string_lossy())
        ),
        None => e.to_string(),
    }
}

/// Writes `<pid>\n` to the pidfile. Ok: the INFO line `supervisord started with pid N`;
/// Err: the CRIT line `could not write pidfile <path>` (not fatal in supervisord).
pub fn write_pidfile(path: &Path) -> Result<String, String> {
    let pid = std::process::id();
    let write = || -> io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        writeln!(f, "{pid}")
    };
    match write() {
        Ok(()) => Ok(format!("supervisord started with pid {pid}")),
        Err(_) => Err(format!("could not write pidfile {}", path.display())),
    }
}

/// Removes the pidfile, ignoring a missing file.
pub fn remove_pidfile(path: &Path) {
    let _ = std::fs::remove_file(path);
}

/// `[supervisord] user=` (already resolved to a uid), as `set_uid_or_exit`: Ok(Some(note)) is the line
/// to log (`Set uid to user N succeeded`, or the CRIT "running as root" warning when no user is set);
/// Err is the usage error text (print `Error: <text>` and exit 2).
pub fn setuid_daemon(uid: Option<u32>) -> Result<Option<DaemonNote>, String> {
    let Some(uid) = uid else {
        if Uid::current().is_root() {
            return Ok(Some(DaemonNote::Critical(
                "Supervisor is running as root.  Privileges were not dropped because no user is specified \
                 in the config file.  If you intend to run as root, you can set user=root in the config \
                 file to avoid this message."
                    .into(),
            )));
        }
        return Ok(None);
    };
    drop_privileges(uid)?;
    Ok(Some(DaemonNote::Info(format!(
        "Set uid to user {uid} succeeded"
    ))))
}

/// supervisord's `drop_privileges` for the daemon itself, with its error texts.
pub fn drop_privileges(uid: u32) -> Result<(), String> {
    let user = lookup_uid(uid).ok_or_else(|| format!("Can't find uid {uid}"))?;
    let current = Uid::current().as_raw();
    if current == uid {
        return Ok(());
    }
    if current != 0 {
        return Err("Can't drop privilege as nonroot user".into());
    }
    let groups: Vec<Gid> = user.groups.iter().map(|g| Gid::from_raw(*g)).collect();
    setgroups(&groups).map_err(|_| "Could not set groups of effective user".to_string())?;
    setgid(Gid::from_raw(user.gid))
        .map_err(|_| "Could not set group id of effective user".to_string())?;
    setuid(Uid::from_raw(uid)).map_err(|e| format!("[Errno {}] {}", e as i32, e.desc()))
}
