//! The listening socket of an `[fcgi-program:x]` group (`socket=tcp://host:port` or `unix:///path`).
//!
//! supervisord binds and listens itself and hands the socket to every process of the group as fd 0.
//! [`create`] does the same: TCP sockets are IPv4 with `SO_REUSEADDR`; a Unix socket replaces any
//! stale file at its path and is chowned/chmodded as configured. The returned fd is blocking, which
//! FastCGI applications expect; give each child `StdinMode::Fd(fd.try_clone()?)` (the dup is
//! close-on-exec in procd, and `dup2` onto fd 0 in the child clears that flag). Reference counting
//! (`Creating socket` / `Closing socket` lines) is the caller's job.

use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::Path;

use procd_config::model::{FcgiSocketConfig, FcgiSocketKind};

/// Creating the socket failed; displays as supervisord's
/// `Could not create FastCGI socket <url>: <reason>`.
#[derive(Debug, thiserror::Error)]
#[error("Could not create FastCGI socket {url}: {reason}")]
pub struct FcgiError {
    pub url: String,
    /// The reason as Python words it (`[Errno 98] Address already in use`).
    pub reason: String,
}

/// Binds and listens on the socket described by `config`.
pub fn create(config: &FcgiSocketConfig) -> Result<OwnedFd, FcgiError> {
    let fail = |reason: String| FcgiError {
        url: config.url.clone(),
        reason,
    };
    let backlog = match i32::try_from(config.backlog) {
        Ok(0) | Err(_) => libc::SOMAXCONN,
        Ok(n) => n,
    };
    let fd: OwnedFd = match &config.kind {
        FcgiSocketKind::Tcp { host, port } => {
            let addr = ipv4_addr(host, *port).map_err(|e| fail(py_error(&e)))?;
            TcpListener::bind(addr)
                .map_err(|e| fail(py_error(&e)))?
                .into()
        }
        FcgiSocketKind::Unix { path } => bind_unix(path, config).map_err(fail)?,
    };
    super::sockets::set_listen_backlog(fd.as_fd(), backlog).map_err(|e| fail(py_error(&e)))?;
    Ok(fd)
}

/// Resolves like Python's `bind((host, port))` on an `AF_INET` socket.
fn ipv4_addr(host: &str, port: u16) -> io::Result<SocketAddr> {
    (host, port)
        .to_socket_addrs()?
        .find(SocketAddr::is_ipv4)
        .ok_or_else(|| io::Error::other("Address family for hostname not supported"))
}

fn bind_unix(path: &Path, config: &FcgiSocketConfig) -> Result<OwnedFd, String> {
    if path.symlink_metadata().is_ok() {
        std::fs::remove_file(path).map_err(|e| py_path_error(&e, path))?;
    }
    let listener = UnixListener::bind(path).map_err(|e| py_error(&e))?;
    let finish = || -> Result<(), String> {
        if let Some((uid, gid)) = config.owner {
            std::os::unix::fs::chown(path, Some(uid), gid).map_err(|e| {
                format!(
                    "Could not change ownership of socket file: {}",
                    py_path_error(&e, path)
                )
            })?;
        }
        if let Some(mode) = config.mode {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|e| {
                format!(
                    "Could not change permissions of socket file: {}",
                    py_path_error(&e, path)
                )
            })?;
        }
        Ok(())
    };
    if let Err(e) = finish() {
        drop(listener);
        let _ = std::fs::remove_file(path);
        return Err(e);
    }
    Ok(listener.into())
}

/// `str(OSError)` in Python: `[Errno N] <strerror>`.
fn py_error(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => format!(
            "[Errno {code}] {}",
            nix::errno::Errno::from_raw(code).desc()
        ),
        None => e.to_string(),
    }
}

/// `str(OSError)` for a call that names a file: `[Errno N] <strerror>: '<path>'`.
fn py_path_error(e: &io::Error, path: &Path) -> String {
    match e.raw_os_error() {
        Some(_) => format!("{}: '{}'", py_error(e), path.display()),
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::os::unix::fs::FileTypeExt;
    use std::os::unix::net::UnixStream;

    fn tcp(port: u16) -> FcgiSocketConfig {
        FcgiSocketConfig {
            url: format!("tcp://127.0.0.1:{port}"),
            kind: FcgiSocketKind::Tcp {
                host: "127.0.0.1".into(),
                port,
            },
            backlog: 0,
            owner: None,
            mode: None,
        }
    }

    fn unix(path: &Path, mode: u32) -> FcgiSocketConfig {
        FcgiSocketConfig {
            url: format!("unix://{}", path.display()),
            kind: FcgiSocketKind::Unix {
                path: path.to_path_buf(),
            },
            backlog: 16,
            owner: None,
            mode: Some(mode),
        }
    }

    #[test]
    fn tcp_socket_accepts_connections() {
        // Port 0: the kernel picks a free port, read back from the bound socket.
        let fd = create(&tcp(0)).expect("create");
        let listener = TcpListener::from(fd);
        let port = listener.local_addr().expect("local addr").port();
        assert_ne!(port, 0);
        let mut client = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let (mut server, _) = listener.accept().expect("accept");
        client.write_all(b"ping").expect("write");
        let mut buf = [0; 4];
        server.read_exact(&mut buf).expect("read");
        assert_eq!(&buf, b"ping");
        // blocking, as FastCGI children expect
        let flags = nix::fcntl::fcntl(
            std::os::fd::AsRawFd::as_raw_fd(&listener),
            nix::fcntl::FcntlArg::F_GETFL,
        )
        .expect("flags");
        assert_eq!(flags & libc::O_NONBLOCK, 0);
    }

    #[test]
    fn tcp_port_in_use_reports_like_supervisord() {
        let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = taken.local_addr().expect("addr").port();
        let err = create(&tcp(port)).expect_err("port is taken");
        assert_eq!(
            err.to_string(),
            format!(
                "Could not create FastCGI socket tcp://127.0.0.1:{port}: [Errno 98] Address already in use"
            )
        );
    }

    #[test]
    fn unix_socket_replaces_stale_file_and_sets_mode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("app.sock");
        std::fs::write(&path, b"stale").expect("stale file");
        let fd = create(&unix(&path, 0o640)).expect("create");
        let meta = std::fs::metadata(&path).expect("stat");
        assert!(meta.file_type().is_socket());
        assert_eq!(meta.permissions().mode() & 0o777, 0o640);
        let listener = UnixListener::from(fd);
        let mut client = UnixStream::connect(&path).expect("connect");
        let (mut server, _) = listener.accept().expect("accept");
        client.write_all(b"hi").expect("write");
        let mut buf = [0; 2];
        server.read_exact(&mut buf).expect("read");
        assert_eq!(&buf, b"hi");
    }

    #[test]
    fn unix_socket_in_missing_directory_fails() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nope/app.sock");
        let err = create(&unix(&path, 0o700)).expect_err("no directory");
        assert_eq!(
            err.to_string(),
            format!(
                "Could not create FastCGI socket unix://{}: [Errno 2] No such file or directory",
                path.display()
            )
        );
    }
}
