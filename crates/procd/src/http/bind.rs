//! Binding listeners as supervisord does, with std sockets (no runtime needed).
//!
//! Unix: bind `<file>.<pid>`, chmod it, hard-link it to `<file>`; when the link fails, probe the
//! existing socket with `GET / HTTP/1.0`: an answer means another server owns it (error), silence means
//! it is stale (`Unlinking stale socket <file>` on stderr, unlink, retry). Then chown. TCP: bind with
//! SO_REUSEADDR. Both listen with a backlog of 1024.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::config::{ListenerKind, ServerConfig};
use crate::sys::sockets::set_listen_backlog;
use crate::sys::{describe_os_error as describe, errno_name};

const BACKLOG: i32 = 1024;
const STALE_RETRIES: usize = 5;

/// Why a server could not be opened (print `Error: <text>`). The texts start with supervisord's
/// phrases, which scripts may match, and go on to name the server, its address and the OS error.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error(
        "Another program is already listening on a port that one of our HTTP servers is configured to use: \
         {at} is in use ({why}). Shut this program down first before starting procd."
    )]
    AddrInUse {
        /// `[section] port host:port` or `[section] socket /path`.
        at: String,
        why: String,
    },
    #[error(
        "Not permitted to chown {path} to uid/gid {ids}; adjust \"sockchown\" value in config file or on \
         command line to values that the current user ({user}) can successfully chown"
    )]
    Chown {
        path: String,
        ids: String,
        user: String,
    },
    #[error("Cannot open an HTTP server: {at}: {}{hint}", describe(.source))]
    Os {
        at: String,
        #[source]
        source: io::Error,
        /// More help, e.g. `: the directory /run/x does not exist`.
        hint: String,
    },
}

fn os_error(at: &str, e: io::Error) -> BindError {
    if e.kind() == io::ErrorKind::AddrInUse {
        BindError::AddrInUse {
            at: at.to_owned(),
            why: e.raw_os_error().map_or_else(|| e.to_string(), errno_name),
        }
    } else {
        BindError::Os {
            at: at.to_owned(),
            source: e,
            hint: String::new(),
        }
    }
}

/// A bound, listening server that is not served yet.
#[derive(Debug)]
pub struct BoundServer {
    pub(crate) config: ServerConfig,
    pub(crate) listener: StdListener,
}

#[derive(Debug)]
pub(crate) enum StdListener {
    Unix(UnixListener, PathBuf),
    Tcp(TcpListener),
}

impl BoundServer {
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The bound TCP address (useful with port 0); `None` for unix sockets.
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        match &self.listener {
            StdListener::Tcp(l) => l.local_addr().ok(),
            StdListener::Unix(..) => None,
        }
    }

    /// The socket file (unix servers).
    pub fn socket_file(&self) -> Option<&Path> {
        match &self.listener {
            StdListener::Unix(_, path) => Some(path),
            StdListener::Tcp(_) => None,
        }
    }
}

/// Opens the listener of one server section.
pub fn bind(config: ServerConfig) -> Result<BoundServer, BindError> {
    let listener = match &config.kind {
        ListenerKind::Unix { path, chmod, chown } => {
            let at = format!("[{}] socket {}", config.name, path.display());
            StdListener::Unix(bind_unix(&at, path, *chmod, *chown)?, path.clone())
        }
        ListenerKind::Tcp { host, port } => {
            let shown = if host.is_empty() { "*" } else { host };
            let at = format!("[{}] port {shown}:{port}", config.name);
            StdListener::Tcp(bind_tcp(&at, host, *port)?)
        }
    };
    Ok(BoundServer { config, listener })
}

fn bind_tcp(at: &str, host: &str, port: u16) -> Result<TcpListener, BindError> {
    let host = if host.is_empty() || host == "*" {
        "0.0.0.0"
    } else {
        host
    };
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| os_error(at, e))?
        .collect();
    let addr = addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.first())
        .copied()
        .ok_or_else(|| os_error(at, io::Error::from(io::ErrorKind::NotFound)))?;
    // std sets SO_REUSEADDR on Unix before binding.
    let listener = TcpListener::bind(addr).map_err(|e| os_error(at, e))?;
    set_listen_backlog(listener.as_fd(), BACKLOG).map_err(|e| os_error(at, e))?;
    Ok(listener)
}

fn bind_unix(
    at: &str,
    path: &Path,
    chmod: u32,
    chown: Option<(Option<u32>, Option<u32>)>,
) -> Result<UnixListener, BindError> {
    let mut temp = path.as_os_str().to_owned();
    temp.push(format!(".{}", std::process::id()));
    let temp = PathBuf::from(temp);
    let _ = std::fs::remove_file(&temp);
    let mut attempts = 0;
    loop {
        let result = link_into_place(&temp, path, chmod);
        let _ = std::fs::remove_file(&temp);
        match result {
            Ok(listener) => {
                if let Some((uid, gid)) = chown {
                    do_chown(at, path, uid, gid)?;
                }
                return Ok(listener);
            }
            Err(LinkError::Bind(e)) => {
                let mut err = os_error(at, e);
                if let BindError::Os { source, hint, .. } = &mut err
                    && source.kind() == io::ErrorKind::NotFound
                    && let Some(dir) = path.parent()
                    && !dir.is_dir()
                {
                    *hint = format!(": the directory {} does not exist", dir.display());
                }
                return Err(err);
            }
            Err(LinkError::Link(e)) => {
                if socket_in_use(path) {
                    return Err(BindError::AddrInUse {
                        at: at.to_owned(),
                        why: "a server answers on it".to_owned(),
                    });
                }
                attempts += 1;
                if attempts > STALE_RETRIES {
                    return Err(os_error(at, e));
                }
                eprintln!("Unlinking stale socket {}", path.display());
                let _ = std::fs::remove_file(path);
                std::thread::sleep(Duration::from_millis(300));
            }
        }
    }
}

enum LinkError {
    Bind(io::Error),
    Link(io::Error),
}

fn link_into_place(temp: &Path, path: &Path, chmod: u32) -> Result<UnixListener, LinkError> {
    let listener = UnixListener::bind(temp).map_err(LinkError::Bind)?;
    std::fs::set_permissions(temp, std::fs::Permissions::from_mode(chmod))
        .map_err(LinkError::Bind)?;
    set_listen_backlog(listener.as_fd(), BACKLOG).map_err(LinkError::Bind)?;
    std::fs::hard_link(temp, path).map_err(LinkError::Link)?;
    Ok(listener)
}

fn do_chown(at: &str, path: &Path, uid: Option<u32>, gid: Option<u32>) -> Result<(), BindError> {
    match std::os::unix::fs::chown(path, uid, gid) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(path);
            if e.raw_os_error() == Some(libc::EPERM) {
                let id = |v: Option<u32>| v.map_or_else(|| "-1".to_string(), |v| v.to_string());
                let euid = nix::unistd::geteuid();
                let user = nix::unistd::User::from_uid(euid)
                    .ok()
                    .flatten()
                    .map_or_else(|| euid.to_string(), |u| u.name);
                Err(BindError::Chown {
                    path: path.display().to_string(),
                    ids: format!("({}, {})", id(uid), id(gid)),
                    user,
                })
            } else {
                Err(os_error(at, e))
            }
        }
    }
}

/// supervisord's `checkused`: connect, send a request, read one byte. Anything but an error means the
/// socket is alive (a silent peer that accepted counts as alive too).
fn socket_in_use(path: &Path) -> bool {
    let Ok(mut stream) = UnixStream::connect(path) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(b"GET / HTTP/1.0\r\n\r\n").is_err() {
        return false;
    }
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        // Even EOF (0 bytes) counts: something accepted the connection.
        Ok(n) => n <= byte.len(),
        Err(e) => matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_keep_supervisords_phrase_and_name_the_address() {
        let e = os_error(
            "[inet_http_server] port *:80",
            io::Error::from_raw_os_error(libc::EACCES),
        );
        assert_eq!(
            e.to_string(),
            "Cannot open an HTTP server: [inet_http_server] port *:80: Permission denied (EACCES)"
        );
        let e = os_error(
            "[inet_http_server] port *:80",
            io::Error::from_raw_os_error(libc::EADDRINUSE),
        );
        assert_eq!(
            e.to_string(),
            "Another program is already listening on a port that one of our HTTP servers is configured \
             to use: [inet_http_server] port *:80 is in use (EADDRINUSE). \
             Shut this program down first before starting procd."
        );
    }
}
