//! Small socket tweaks std does not expose.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// Re-issues `listen(2)` with a new backlog (Linux updates the backlog of a listening socket);
/// supervisord listens with a backlog of 1024 while std uses a smaller default.
pub fn set_listen_backlog(fd: BorrowedFd<'_>, backlog: i32) -> io::Result<()> {
    // SAFETY: listen(2) on a borrowed, open socket fd; no pointers involved.
    let rc = unsafe { libc::listen(fd.as_raw_fd(), backlog) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
