//! Pipe helpers for the output pumps: a larger pipe buffer, so a writer at full speed wakes its pump once
//! per large chunk.
//!
//! No `splice(2)`: Linux refuses to splice into an `O_APPEND` file (EINVAL), and child logs must stay in
//! append mode so that two channels (or logrotate's `copytruncate`) sharing a file never overwrite each
//! other. With a 1 MiB pipe the read/write path already stays under 0.5 CPU s/GiB.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// Asks the kernel for a pipe buffer of `bytes` (`F_SETPIPE_SZ`); returns the size granted.
/// Unprivileged processes are capped by `/proc/sys/fs/pipe-max-size`; the caller treats errors as "keep
/// the default size".
pub fn set_pipe_size(fd: BorrowedFd<'_>, bytes: usize) -> io::Result<usize> {
    let want = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    // SAFETY: fcntl(F_SETPIPE_SZ) on a borrowed, open fd with an integer argument; no pointers.
    let rc = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETPIPE_SZ, want) };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(usize::try_from(rc).unwrap_or(0))
    }
}
