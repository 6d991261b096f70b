//! Starting a child process the way supervisord's `Subprocess._spawn_as_child` does.
//!
//! The parent prepares everything (pipes, C strings, messages, the privilege plan) and starts the child
//! with `clone(CLONE_VM | CLONE_VFORK | CLONE_FILES)` (see [`clone_and_exec`]). The child takes a private
//! copy of only the lowest few fds, puts itself in its own process group (like `setpgrp`), moves the
//! pipes onto fds 0-2, closes every other fd (supervisord closes 3 up to `minfds`), drops privileges,
//! changes directory, sets the umask, re-creates the signal dispositions a supervisord child inherits
//! (SIGPIPE and SIGXFSZ ignored, as Python leaves them), clears the signal mask and calls `execve`. Any
//! failure in the child is written to its stderr (the log pipe) as `supervisor: couldn't ...` plus
//! `supervisor: child process was not spawned`, and the child exits 127: exactly the observable
//! behaviour of supervisord. The spawn "succeeds", the message lands in the stderr log and the process
//! exits 127 shortly after.
//!
//! The pid belongs to the one reaper ([`crate::sys::reaper`]); nothing here waits on it.
//!
//! ## Why the fd table is shared with the child
//!
//! With hundreds of programs running, procd holds two or three fds per program (pipes, log files). A
//! plain `clone` copies that whole table into every new child, and `execve` then closes each copied
//! fd again: both grow with the number of programs already running, so starting N programs cost O(N²)
//! and was the largest part of the time the parent waits for each child to exec. Instead the child
//! shares the parent's table at first and calls `close_range(FIRST_UNUSED, ~0, CLOSE_RANGE_UNSHARE)`,
//! which gives it a private copy of only the fds below that number. For that to keep the pipes, the
//! parent moves the child's three pipe ends onto three *slots*: low fds reserved for this at the first
//! spawn, holding `/dev/null` between spawns. Kernels without `CLOSE_RANGE_UNSHARE` (before 5.9) get
//! `unshare(CLONE_FILES)`, the full copy, in the child instead.

use std::ffi::{CString, OsString};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::unistd::{AccessFlags, access, pipe2};

use procd_config::pyrepr::repr;

use super::errno::{StackBuf, write_errno_name};

/// Default search path when neither the program nor the daemon has a usable `PATH`.
const DEFAULT_PATH: &[&str] = &["/bin", "/usr/bin", "/usr/local/bin"];

/// Credentials a child switches to before `exec` (already resolved from `user=` before forking).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpawnUser {
    pub uid: u32,
    /// Primary group.
    pub gid: u32,
    /// Full `setgroups` list: the primary gid first, then every group listing the user.
    pub groups: Vec<u32>,
}

/// What the child gets as fd 0.
#[derive(Debug)]
pub enum StdinMode {
    /// A fresh pipe; the parent keeps the write end (`sendProcessStdin`, event listeners).
    Pipe,
    /// This fd (e.g. a FastCGI listening socket) becomes the child's fd 0; no stdin pipe is made.
    Fd(OwnedFd),
}

/// Everything needed to start one process. Paths and users are resolved by the caller.
#[derive(Debug)]
pub struct SpawnSpec {
    /// The file to execute, as found by [`resolve_command`].
    pub program: PathBuf,
    /// The argument vector; `argv[0]` stays as written in `command=` (supervisord passes it unchanged).
    pub argv: Vec<String>,
    /// The complete environment of the child (nothing is inherited implicitly).
    pub env: Vec<(OsString, OsString)>,
    /// `directory=`: chdir in the child; failure is reported in the child's stderr and exit 127.
    pub directory: Option<PathBuf>,
    /// `umask=` (octal value already parsed).
    pub umask: Option<u32>,
    /// `user=`; `None` keeps the daemon's credentials.
    pub user: Option<SpawnUser>,
    /// `redirect_stderr=`: fd 2 is the same as fd 1 (the stdout pipe, or `/dev/null`) and no stderr
    /// pipe is made.
    pub redirect_stderr: bool,
    /// Whether anything reads the child's stdout (a log file, capture mode, events, the main log at
    /// debug level, ...). When nothing does, no pipe is made: the child writes to `/dev/null` directly
    /// and procd holds no descriptor for it.
    pub stdout_pipe: bool,
    /// The same for stderr (ignored with `redirect_stderr`).
    pub stderr_pipe: bool,
    pub stdin: StdinMode,
    /// Under a descriptor limit too low for two pipes per program (`crate::fdbudget::Plan`): with a
    /// stdin pipe and a stdout pipe asked for, the child gets one Unix stream socket pair instead, its
    /// end as fds 0 and 1 (and 2 with `redirect_stderr`), procd's end in [`Spawned::stdout`] for both
    /// reading and writing.
    pub shared_stdio: bool,
    /// `[supervisord] minfds`; bounds the fallback fd-closing loop on kernels without `close_range`.
    pub minfds: u64,
    /// `kill_mode = cgroup`: the `cgroup.procs` file of the process's cgroup, which the child writes
    /// itself into before `execve` (see [`crate::sys::cgroup`]).
    pub cgroup_procs: Option<OwnedFd>,
}

/// A started child. Parent pipe ends are non-blocking and close-on-exec.
#[derive(Debug)]
pub struct Spawned {
    pub pid: i32,
    /// Write end of the child's stdin (`None` with [`StdinMode::Fd`]).
    pub stdin: Option<OwnedFd>,
    /// Read end of the child's stdout (and stderr when redirected); `None` without `stdout_pipe`.
    pub stdout: Option<OwnedFd>,
    /// Read end of the child's stderr (`None` when `redirect_stderr` or without `stderr_pipe`).
    pub stderr: Option<OwnedFd>,
    /// `stdout` is a socket that is also the child's stdin (see [`SpawnSpec::shared_stdio`]); `stdin`
    /// is `None` then.
    pub duplex: bool,
}

/// Why a child could not be created at all (nothing was forked, or forking itself failed).
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// Creating the stdio pipes failed (EMFILE/ENFILE: supervisord's "too many open files").
    #[error("could not make pipes: {0}")]
    Pipes(#[source] io::Error),
    /// `fork` failed (EAGAIN: supervisord's "Too many processes in process table").
    #[error("could not fork: {0}")]
    Fork(#[source] io::Error),
    /// An argument, variable or path contains a NUL byte, or argv is empty.
    #[error("invalid spawn argument: {0}")]
    Invalid(String),
}

impl SpawnError {
    /// The errno behind the failure, for mapping onto supervisord's spawn error texts.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            SpawnError::Pipes(e) | SpawnError::Fork(e) => e.raw_os_error(),
            SpawnError::Invalid(_) => None,
        }
    }
}

/// Finds the file for `command=`'s first word like supervisord's `get_execv_args` + `check_execv_args`.
///
/// A word containing `/` is checked as is (relative to the daemon's cwd); a bare name is searched in
/// `program_path` (the program's own `PATH` from `environment=`, used even when empty), else in
/// `daemon_path` when non-empty, else in `/bin:/usr/bin:/usr/local/bin`. The error is the exact
/// supervisord `spawnerr` text.
pub fn resolve_command(
    program: &str,
    program_path: Option<&str>,
    daemon_path: Option<&str>,
) -> Result<PathBuf, String> {
    let (filename, meta) = if program.contains('/') {
        (PathBuf::from(program), std::fs::metadata(program).ok())
    } else {
        let dirs: Vec<&str> = match (program_path, daemon_path) {
            (Some(p), _) => p.split(':').collect(),
            (None, Some(p)) if !p.is_empty() => p.split(':').collect(),
            _ => DEFAULT_PATH.to_vec(),
        };
        dirs.iter()
            .find_map(|dir| {
                let candidate = Path::new(dir).join(program);
                std::fs::metadata(&candidate)
                    .ok()
                    .map(|m| (candidate, Some(m)))
            })
            .unwrap_or_else(|| (PathBuf::from(program), None))
    };
    let shown = repr(&filename.to_string_lossy());
    let Some(meta) = meta else {
        return Err(format!("can't find command {shown}"));
    };
    if meta.is_dir() {
        return Err(format!("command at {shown} is a directory"));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(format!("command at {shown} is not executable"));
    }
    if access(filename.as_path(), AccessFlags::X_OK).is_err() {
        return Err(format!("no permission to run command {shown}"));
    }
    Ok(filename)
}

/// Starts a child as described by `spec`. See the module docs for the failure semantics.
pub fn spawn(spec: SpawnSpec) -> Result<Spawned, SpawnError> {
    let plan = ChildPlan::new(&spec)?;

    let duplex = spec.shared_stdio && spec.stdout_pipe && matches!(spec.stdin, StdinMode::Pipe);
    let (stdin_child, stdin_parent, stdout_parent, stdout_child) = if duplex {
        let (parent, child) = make_socketpair()?;
        (child, None, Some(parent), None)
    } else {
        let (stdin_child, stdin_parent) = match spec.stdin {
            StdinMode::Pipe => {
                let (r, w) = make_pipe()?;
                (r, Some(w))
            }
            StdinMode::Fd(fd) => (fd, None),
        };
        let (stdout_parent, stdout_child) = if spec.stdout_pipe {
            let (r, w) = make_pipe()?;
            (Some(r), Some(w))
        } else {
            (None, None)
        };
        (stdin_child, stdin_parent, stdout_parent, stdout_child)
    };
    // With `redirect_stderr` whatever fd 1 gets (pipe or /dev/null) goes into the stderr slot as well.
    let (stderr_parent, stderr_child) = if spec.redirect_stderr || !spec.stderr_pipe {
        (None, None)
    } else {
        let (r, w) = make_pipe()?;
        (Some(r), Some(w))
    };
    for fd in [
        stdin_parent.as_ref(),
        stdout_parent.as_ref(),
        stderr_parent.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        set_nonblocking(fd).map_err(SpawnError::Pipes)?;
    }

    let mut guard = SLOTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let slots = match &mut *guard {
        Some(slots) => slots,
        empty => empty.insert(Slots::reserve().map_err(SpawnError::Pipes)?),
    };
    // A channel without a pipe gets the slots' own /dev/null (or fd 1's pipe with redirect_stderr).
    let stdout_fd = if duplex {
        Some(stdin_child.as_raw_fd())
    } else {
        stdout_child.as_ref().map(AsRawFd::as_raw_fd)
    };
    let stderr_fd = if spec.redirect_stderr {
        stdout_fd
    } else {
        stderr_child.as_ref().map(AsRawFd::as_raw_fd)
    };
    let result = slots
        .load([Some(stdin_child.as_raw_fd()), stdout_fd, stderr_fd])
        .map_err(SpawnError::Pipes)
        .and_then(|()| {
            let ctx = ChildContext {
                plan,
                fds: ChildFds {
                    slots: slots.fds,
                    first_unused: slots.first_unused,
                },
            };
            clone_and_exec(&ctx, &mut slots.stack)
        });
    // The slots go back to /dev/null so that the parent holds no reference to the child's pipe ends
    // (the pumps see end-of-file when the child's last copy closes).
    slots.clear();
    let pid = result?;
    // Also set the group from the parent so a signal to -pid can never race the child's own setpgid.
    // SAFETY: plain system call without pointers; EACCES after the child's exec is harmless.
    unsafe { libc::setpgid(pid, pid) };
    // The child's ends are closed here when they go out of scope.
    drop((stdin_child, stdout_child, stderr_child));
    Ok(Spawned {
        pid,
        stdin: stdin_parent,
        stdout: stdout_parent,
        stderr: stderr_parent,
        duplex,
    })
}

/// The fd slots through which a child receives its stdin, stdout and stderr (see the module docs).
/// `None` until the first spawn.
static SLOTS: std::sync::Mutex<Option<Slots>> = std::sync::Mutex::new(None);

/// Three low fds (all at least 3, close-on-exec) reserved for the lifetime of the daemon. Between
/// spawns they hold `/dev/null`; during a spawn, the child's stdin, stdout and stderr pipe ends.
struct Slots {
    null: OwnedFd,
    fds: [libc::c_int; 3],
    /// One above the highest slot: a child copies only the fds below this from the parent's table.
    first_unused: libc::c_uint,
    /// The stack children run on until `execve`, reused: spawns are serialised by `SLOTS`, and
    /// mapping and unmapping a fresh one each time cost a TLB shootdown on every other CPU.
    stack: Vec<u8>,
}

impl Slots {
    fn reserve() -> io::Result<Slots> {
        let null = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")
            .map(OwnedFd::from)?;
        let mut fds = [-1; 3];
        for slot in &mut fds {
            // F_DUPFD_CLOEXEC takes the lowest free fd from 3 up: the slots stay low (and clear of
            // 0-2 even when the daemon was started with one of those closed).
            let fd = fcntl(null.as_raw_fd(), FcntlArg::F_DUPFD_CLOEXEC(3))?;
            *slot = fd;
        }
        let highest = fds.iter().copied().max().unwrap_or(2);
        Ok(Slots {
            stack: vec![0u8; CHILD_STACK],
            null,
            fds,
            first_unused: libc::c_uint::try_from(highest + 1).unwrap_or(libc::c_uint::MAX),
        })
    }

    /// Points the slots at `ends` (stdin, stdout, stderr; `None`: `/dev/null`).
    fn load(&self, ends: [Option<libc::c_int>; 3]) -> io::Result<()> {
        for (end, slot) in ends.into_iter().zip(self.fds) {
            let end = end.unwrap_or_else(|| self.null.as_raw_fd());
            // SAFETY: dup3 of an fd the caller keeps open onto a slot this struct owns; it atomically
            // replaces what the slot held.
            if unsafe { libc::dup3(end, slot, libc::O_CLOEXEC) } < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(())
    }

    /// Points every slot back at `/dev/null`.
    fn clear(&self) {
        for slot in self.fds {
            // SAFETY: as in `load`; dup3 of a valid fd onto an open fd can only fail with EINTR/EBUSY,
            // after which the slot keeps a pipe end open until the next spawn replaces it.
            unsafe { libc::dup3(self.null.as_raw_fd(), slot, libc::O_CLOEXEC) };
        }
    }
}

/// What the child function receives.
struct ChildContext {
    plan: ChildPlan,
    fds: ChildFds,
}

/// Size of the stack the child runs on until `execve` (it only needs a few KiB).
const CHILD_STACK: usize = 128 * 1024;

extern "C" fn child_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` points to the `ChildContext` borrowed by `clone_and_exec`, which stays alive because
    // the parent thread is suspended (CLONE_VFORK) until this child execs or exits.
    let ctx = unsafe { &*arg.cast::<ChildContext>() };
    reset_signal_handlers();
    ctx.plan.exec(&ctx.fds)
}

/// Starts the child like glibc's `posix_spawn`: `clone(CLONE_VM | CLONE_VFORK)` on a small stack of its
/// own. The child shares the parent's memory until `execve`, so no page tables are copied (with `fork`,
/// copying and then tearing down the parent's address space was most of the cost of a spawn); the
/// calling thread resumes once the child has exec'd or exited. All signals are blocked around the
/// call so no handler of procd runs in the child; the child resets handled signals to their defaults
/// before unblocking them.
fn clone_and_exec(ctx: &ChildContext, stack: &mut [u8]) -> Result<i32, SpawnError> {
    // SAFETY: pointer arithmetic within the allocation (one past the end is allowed); the stack grows
    // down from its 16-byte aligned top.
    let top = unsafe { stack.as_mut_ptr().add(stack.len()) };
    let top = (top as usize & !15) as *mut libc::c_void;
    // SAFETY: sigset_t is plain data; sigfillset/pthread_sigmask only read and write the given sets.
    let old = unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        old
    };
    // SAFETY: `child_main` only reads `ctx` and performs async-signal-safe system calls (close_range,
    // unshare, setpgid, dup2, fcntl, sigaction, sigprocmask, setgroups, setgid, setuid, chdir, umask,
    // getrlimit, setrlimit,
    // execve, write, _exit) without allocating or taking locks, which is what sharing the parent's
    // memory (CLONE_VM) requires; CLONE_VFORK keeps `ctx` and `stack` alive and unused by anyone else
    // until it has exec'd or exited. Sharing the fd table (CLONE_FILES) is safe because the child's
    // first act is to unshare it, before it changes any fd (`unshare_fds`).
    let pid = unsafe {
        libc::clone(
            child_main,
            top,
            libc::CLONE_VM | libc::CLONE_VFORK | libc::CLONE_FILES | libc::SIGCHLD,
            std::ptr::from_ref(ctx).cast_mut().cast(),
        )
    };
    let err = io::Error::last_os_error();
    // SAFETY: restores the mask saved above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
    if pid < 0 {
        return Err(SpawnError::Fork(err));
    }
    Ok(pid)
}

/// In the child: every signal with a handler of procd's goes back to its default action (ignored
/// signals stay ignored, as `execve` would keep them).
fn reset_signal_handlers() {
    for sig in 1..libc::SIGRTMAX() {
        // SAFETY: sigaction with a zeroed struct only reads/writes these locals; invalid or
        // uncatchable signal numbers fail with EINVAL and are skipped.
        unsafe {
            let mut current: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, std::ptr::null(), &mut current) != 0 {
                continue;
            }
            if current.sa_sigaction != libc::SIG_IGN && current.sa_sigaction != libc::SIG_DFL {
                let mut dfl: libc::sigaction = std::mem::zeroed();
                dfl.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(sig, &dfl, std::ptr::null_mut());
            }
        }
    }
}

/// Where the child finds its stdio: the slots it moves onto 0, 1 and 2.
struct ChildFds {
    slots: [libc::c_int; 3],
    first_unused: libc::c_uint,
}

/// In the child, first thing: stop sharing the parent's fd table (`CLONE_FILES`), keeping only what
/// the child needs. Returns whether the cheap path was taken (only fds below `first_unused` copied);
/// otherwise the whole table was copied and every fd from 3 up is close-on-exec.
fn unshare_fds(fds: &ChildFds, minfds: libc::c_int) -> bool {
    // SAFETY: close_range only changes this task's fd table; no pointers involved.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            fds.first_unused,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_UNSHARE,
        )
    };
    if rc == 0 {
        return true;
    }
    // Before Linux 5.9: a full private copy, whose fds are then left to execve to close.
    // SAFETY: unshare(CLONE_FILES) only affects this task.
    if unsafe { libc::unshare(libc::CLONE_FILES) } != 0 {
        fail_errno(
            b"supervisor: couldn't unshare file descriptors: ",
            Errno::last_raw(),
        );
    }
    close_fds_on_exec(minfds);
    false
}

/// Returns (read end, write end), both close-on-exec.
fn make_pipe() -> Result<(OwnedFd, OwnedFd), SpawnError> {
    pipe2(OFlag::O_CLOEXEC).map_err(|e| SpawnError::Pipes(io::Error::from(e)))
}

/// A connected pair of Unix stream sockets, both close-on-exec: (procd's end, the child's end).
fn make_socketpair() -> Result<(OwnedFd, OwnedFd), SpawnError> {
    use std::os::fd::FromRawFd;
    let mut fds = [-1 as libc::c_int; 2];
    // SAFETY: socketpair writes two new descriptors into the two-element array on success.
    let rc = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if rc < 0 {
        return Err(SpawnError::Pipes(io::Error::last_os_error()));
    }
    // SAFETY: both descriptors were just created by socketpair and are owned by nothing else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Makes a fresh pipe end non-blocking. A new pipe end has no other status flag to keep, so this is
/// one `F_SETFL` without reading the flags first (`F_SETFL` leaves the access mode alone).
fn set_nonblocking(fd: &OwnedFd) -> io::Result<()> {
    fcntl(fd.as_raw_fd(), FcntlArg::F_SETFL(OFlag::O_NONBLOCK))?;
    Ok(())
}

fn cstring(bytes: &[u8], what: &str) -> Result<CString, SpawnError> {
    CString::new(bytes).map_err(|_| SpawnError::Invalid(format!("{what} contains a NUL byte")))
}

/// Privilege step decided in the parent (supervisord's `drop_privileges`, minus the lookups).
enum UserStep {
    Keep,
    Fail(Vec<u8>),
    Switch {
        uid: libc::uid_t,
        gid: libc::gid_t,
        groups: Vec<libc::gid_t>,
        prefix: Vec<u8>,
    },
}

/// Everything the child needs, prepared before forking so the child never allocates.
struct ChildPlan {
    program: CString,
    _argv: Vec<CString>,
    argv_ptrs: Vec<*const libc::c_char>,
    _envp: Vec<CString>,
    envp_ptrs: Vec<*const libc::c_char>,
    user: UserStep,
    chdir: Option<(CString, Vec<u8>)>,
    umask: Option<libc::mode_t>,
    exec_prefix: Vec<u8>,
    minfds: libc::c_int,
    /// The parent's fd of the cgroup's `cgroup.procs` (-1: none); kept open by `spawn` until the child
    /// has exec'd.
    cgroup_fd: libc::c_int,
    /// The soft RLIMIT_NOFILE to set before exec when procd raised its own for its fd budget (see
    /// [`super::rlimits::child_nofile`]).
    nofile: Option<u64>,
}

// SAFETY: the raw pointers point into the heap buffers of the CStrings owned by the same struct, which
// never change while the plan exists; the plan is only read (in the child) after being moved once.
unsafe impl Send for ChildPlan {}
// SAFETY: as above; nothing mutates the plan through a shared reference.
unsafe impl Sync for ChildPlan {}

const NOT_SPAWNED: &[u8] = b"supervisor: child process was not spawned\n";

impl ChildPlan {
    fn new(spec: &SpawnSpec) -> Result<Self, SpawnError> {
        let argv0 = spec
            .argv
            .first()
            .ok_or_else(|| SpawnError::Invalid("empty argv".into()))?;
        let program = cstring(spec.program.as_os_str().as_bytes(), "program path")?;
        let argv = spec
            .argv
            .iter()
            .map(|a| cstring(a.as_bytes(), "argument"))
            .collect::<Result<Vec<_>, _>>()?;
        let envp = spec
            .env
            .iter()
            .map(|(k, v)| {
                let mut kv = k.as_bytes().to_vec();
                kv.push(b'=');
                kv.extend_from_slice(v.as_bytes());
                cstring(&kv, "environment variable")
            })
            .collect::<Result<Vec<_>, _>>()?;
        let argv_ptrs = argv
            .iter()
            .map(|c| c.as_ptr())
            .chain([std::ptr::null()])
            .collect();
        let envp_ptrs = envp
            .iter()
            .map(|c| c.as_ptr())
            .chain([std::ptr::null()])
            .collect();
        let chdir = match &spec.directory {
            Some(dir) => Some((
                cstring(dir.as_os_str().as_bytes(), "directory")?,
                format!("supervisor: couldn't chdir to {}: ", dir.display()).into_bytes(),
            )),
            None => None,
        };
        Ok(ChildPlan {
            program,
            _argv: argv,
            argv_ptrs,
            _envp: envp,
            envp_ptrs,
            user: user_step(spec.user.as_ref()),
            chdir,
            umask: spec.umask.map(|m| m as libc::mode_t),
            exec_prefix: format!("supervisor: couldn't exec {argv0}: ").into_bytes(),
            minfds: libc::c_int::try_from(spec.minfds).unwrap_or(libc::c_int::MAX),
            cgroup_fd: spec.cgroup_procs.as_ref().map_or(-1, AsRawFd::as_raw_fd),
            nofile: super::rlimits::child_nofile(),
        })
    }

    /// Runs in the child: never returns (execs, or reports and `_exit(127)`s).
    fn exec(&self, fds: &ChildFds) -> ! {
        // kill_mode=cgroup: join the cgroup first, while the parent's fd table (which holds the
        // cgroup.procs fd) is still shared; writing changes no fd. "0" means the writing process.
        let mut cgroup_errno = 0;
        if self.cgroup_fd >= 0 {
            // SAFETY: write of a 1-byte static buffer to an fd the parent keeps open; async-signal-safe.
            if unsafe { libc::write(self.cgroup_fd, b"0".as_ptr().cast(), 1) } != 1 {
                cgroup_errno = Errno::last_raw();
            }
        }
        let private_copy = unshare_fds(fds, self.minfds);
        // SAFETY: plain system calls on fds of the child's own (now unshared) table; async-signal-safe.
        // The slots are all >= 3, so `dup2` always moves (and clears close-on-exec on the target).
        unsafe {
            libc::setpgid(0, 0);
            for (slot, target) in fds.slots.into_iter().zip(0..) {
                libc::dup2(slot, target);
            }
            if private_copy {
                // The copy holds only fds below the slots' end: close all of 3 and up, as supervisord
                // closes 3..minfds (cheap: a handful of fds).
                libc::syscall(libc::SYS_close_range, 3u32, libc::c_uint::MAX, 0u32);
            }
            let mut empty: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut empty);
            libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
        }
        if cgroup_errno != 0 {
            // Reported on the child's stderr like every other failure before exec.
            fail_errno(b"supervisor: couldn't join cgroup: ", cgroup_errno);
        }
        match &self.user {
            UserStep::Keep => {}
            UserStep::Fail(msg) => fail(&[msg]),
            UserStep::Switch {
                uid,
                gid,
                groups,
                prefix,
            } => {
                // Raw system calls, not the libc wrappers: glibc's wrappers broadcast credential
                // changes to every thread of the process, and this child still shares the parent's
                // memory (and so its thread list) until execve.
                // SAFETY: setgroups reads `groups.len()` gids from a live slice; async-signal-safe.
                if unsafe { libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) } != 0
                {
                    fail(&[prefix, b"Could not set groups of effective user\n"]);
                }
                // SAFETY: plain system call without pointers.
                if unsafe { libc::syscall(libc::SYS_setgid, *gid) } != 0 {
                    fail(&[prefix, b"Could not set group id of effective user\n"]);
                }
                // SAFETY: plain system call without pointers.
                if unsafe { libc::syscall(libc::SYS_setuid, *uid) } != 0 {
                    fail(&[]);
                }
            }
        }
        if let Some((dir, prefix)) = &self.chdir {
            // SAFETY: `dir` is a valid NUL-terminated string owned by the plan.
            if unsafe { libc::chdir(dir.as_ptr()) } != 0 {
                fail_errno(prefix, Errno::last_raw());
            }
        }
        if let Some(mask) = self.umask {
            // SAFETY: plain system call without pointers.
            unsafe { libc::umask(mask) };
        }
        if let Some(soft) = self.nofile {
            // The soft limit a supervisord child would have; procd only raised its own (the hard limit
            // stays). Best effort: a failure leaves the raised one.
            // SAFETY: getrlimit/setrlimit on a local struct; raw system calls, async-signal-safe.
            unsafe {
                let mut lim: libc::rlimit = std::mem::zeroed();
                if libc::syscall(libc::SYS_getrlimit, libc::RLIMIT_NOFILE, &mut lim) == 0 {
                    lim.rlim_cur = soft;
                    libc::syscall(libc::SYS_setrlimit, libc::RLIMIT_NOFILE, &lim);
                }
            }
        }
        ignore_like_python(libc::SIGPIPE);
        ignore_like_python(libc::SIGXFSZ);
        // SAFETY: program, argv and envp are NUL-terminated strings / NULL-terminated pointer arrays
        // that live in the plan for the duration of the call.
        unsafe {
            libc::execve(
                self.program.as_ptr(),
                self.argv_ptrs.as_ptr(),
                self.envp_ptrs.as_ptr(),
            )
        };
        fail_errno(&self.exec_prefix, Errno::last_raw())
    }
}

fn user_step(user: Option<&SpawnUser>) -> UserStep {
    let Some(user) = user else {
        return UserStep::Keep;
    };
    let current = nix::unistd::getuid().as_raw();
    if current == user.uid {
        return UserStep::Keep;
    }
    let prefix = format!("supervisor: couldn't setuid to {}: ", user.uid).into_bytes();
    if current != 0 {
        let mut msg = prefix;
        msg.extend_from_slice(b"Can't drop privilege as nonroot user\n");
        return UserStep::Fail(msg);
    }
    UserStep::Switch {
        uid: user.uid,
        gid: user.gid,
        groups: user.groups.clone(),
        prefix,
    }
}

/// Python ignores SIGPIPE and SIGXFSZ at startup and the ignored dispositions survive `exec`, so every
/// supervisord child starts with both ignored; procd's children get the same.
fn ignore_like_python(signal: libc::c_int) {
    // SAFETY: installing SIG_IGN via signal(2) is async-signal-safe and touches no memory of ours.
    unsafe { libc::signal(signal, libc::SIG_IGN) };
}

/// Marks every fd from 3 up close-on-exec (the fallback when the fd table had to be copied whole).
fn close_fds_on_exec(minfds: libc::c_int) {
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only changes fd flags; no pointers involved.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    if rc != 0 {
        for fd in 3..minfds {
            // SAFETY: F_SETFD on a possibly closed fd just fails with EBADF.
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        }
    }
}

fn write_stderr(bytes: &[u8]) {
    let mut rest = bytes;
    while !rest.is_empty() {
        // SAFETY: writes from a live slice to fd 2; async-signal-safe.
        let n = unsafe { libc::write(2, rest.as_ptr().cast(), rest.len()) };
        if n < 0 && Errno::last() == Errno::EINTR {
            continue;
        }
        let Ok(n) = usize::try_from(n) else { return };
        if n == 0 {
            return;
        }
        rest = &rest[n..];
    }
}

fn fail(parts: &[&[u8]]) -> ! {
    for p in parts {
        write_stderr(p);
    }
    write_stderr(NOT_SPAWNED);
    // SAFETY: _exit is async-signal-safe and skips atexit handlers and stdio flushing of the parent copy.
    unsafe { libc::_exit(127) }
}

fn fail_errno(prefix: &[u8], errno: i32) -> ! {
    let mut name = StackBuf::new();
    write_errno_name(&mut name, errno);
    fail(&[prefix, name.as_bytes(), b"\n"])
}
