//! Pipe helpers for the output pumps: a larger pipe buffer, so a writer at full speed wakes its pump once
//! per large chunk.
//!
//! No `splice(2)`: Linux refuses to splice into an `O_APPEND` file (EINVAL), and child logs must stay in
//! append mode so that two channels (or logrotate's `copytruncate`) sharing a file never overwrite each
//! other. With a 1 MiB pipe the read/write path already stays under 0.5 CPU s/GiB.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::sync::Arc;

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

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

/// The read end of a child's output pipe (already non-blocking), read without the extra `EAGAIN` round
/// trip: a read that returns less than the buffer has emptied the pipe, so readiness is cleared right
/// away and the next write wakes the reader. A writer at full speed then costs one `epoll_wait` and one
/// `read` per chunk instead of one `epoll_wait` and two `read`s.
///
/// The same reader serves a socket that is both the child's stdin and its stdout
/// ([`PipeReader::duplex`]); its [`DuplexWriter`] then writes the child's stdin through the same
/// registration (a descriptor can be registered with the reactor only once).
pub struct PipeReader {
    fd: Arc<AsyncFd<File>>,
}

/// Writes a child's stdin into the socket a [`PipeReader::duplex`] reads its stdout from.
pub struct DuplexWriter {
    fd: Arc<AsyncFd<File>>,
}

impl PipeReader {
    /// Must be called inside the tokio runtime.
    pub fn new(fd: OwnedFd) -> io::Result<Self> {
        Self::register(fd, Interest::READABLE)
    }

    /// A reader for a non-blocking socket that is also written to, and its writer. Must be called
    /// inside the tokio runtime.
    pub fn duplex(fd: OwnedFd) -> io::Result<(Self, DuplexWriter)> {
        let reader = Self::register(fd, Interest::READABLE | Interest::WRITABLE)?;
        let writer = DuplexWriter {
            fd: Arc::clone(&reader.fd),
        };
        Ok((reader, writer))
    }

    fn register(fd: OwnedFd, interest: Interest) -> io::Result<Self> {
        // SAFETY: the `File` owns the descriptor and lives inside the `AsyncFd` until it is dropped;
        // `PipeReader` and `DuplexWriter` never hand out `&mut File`, so the descriptor stays open
        // and unchanged while registered.
        let fd = unsafe { AsyncFd::register_with_interest(File::from(fd), interest) }
            .map_err(io::Error::from)?;
        Ok(PipeReader { fd: Arc::new(fd) })
    }

    /// Waits until the pipe has data or is closed, without reading.
    pub async fn wait_readable(&self) -> io::Result<()> {
        self.fd.readable().await.map(drop)
    }

    /// Reads what the pipe holds, up to `buf.len()`; 0 at end of file (every writer closed).
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut guard = self.fd.readable().await?;
            match guard.get_inner().read(buf) {
                Ok(n) => {
                    if n > 0 && n < buf.len() {
                        // A short pipe read means the pipe is empty now. The guard only clears the
                        // readiness it saw, so a write that raced with this read still wakes us.
                        guard.clear_ready();
                    }
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => guard.clear_ready(),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl DuplexWriter {
    /// Writes all of `buf`, waiting while the socket is full.
    pub async fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let mut guard = self.fd.writable().await?;
            match guard.try_io(|f| f.get_ref().write(buf)) {
                Ok(Ok(0)) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
                Ok(Ok(n)) => buf = &buf[n..],
                Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Ok(Err(e)) => return Err(e),
                // Would block: readiness was cleared, wait again.
                Err(_) => {}
            }
        }
        Ok(())
    }
}
