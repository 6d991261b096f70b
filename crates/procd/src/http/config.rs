//! What one HTTP server listens on and how requests are limited.

use std::path::PathBuf;
use std::time::Duration;

/// One `[unix_http_server*]` or `[inet_http_server*]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    pub kind: ListenerKind,
    /// Section name (e.g. `unix_http_server`), used in log lines.
    pub name: String,
    /// Basic-auth credentials; `None` leaves every path open.
    pub auth: Option<Credentials>,
}

/// Where a server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenerKind {
    Unix {
        path: PathBuf,
        /// Mode of the socket file (`chmod=`, default 0o700).
        chmod: u32,
        /// `chown=` as (uid, gid); `None` parts are left unchanged.
        chown: Option<(Option<u32>, Option<u32>)>,
    },
    Tcp {
        /// Host or address; empty means every interface (IPv4, as supervisord).
        host: String,
        port: u16,
    },
}

/// `username=` / `password=` of a server section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    /// Plain text, or `{SHA}` followed by the lower-case hex SHA-1 of the password.
    pub password: String,
    /// `health_auth=` (procd extension, default true): whether `/healthz`, `/readyz` and `/metrics`
    /// need these credentials too. `false` lets probes and scrapers in without them.
    pub health_auth: bool,
}

/// Resource limits applied to every connection (supervisord has none; these only stop abuse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted request body; larger requests get 413 and the connection is closed.
    /// Default 4 MiB: far above any real XML-RPC request (even a big `sendProcessStdin`).
    pub max_body_bytes: u64,
    /// Time a new connection has to complete its first request's headers (and, on a server with
    /// `username=`, to log in with them). Default 3 s: a real client sends them at once.
    pub first_request_timeout: Duration,
    /// Time allowed to receive the headers of a later request on a kept-alive connection, also its
    /// idle time. Default 10 s.
    pub header_read_timeout: Duration,
    /// Simultaneous connections per server (each unix socket and TCP port has its own budget, so
    /// clients of one can never crowd out the other). When a server's budget is full, its oldest
    /// connection that has not yet completed a request (or logged in) is closed to make room; only
    /// when every connection has logged in is the new one answered 503. Default 256.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 4 * 1024 * 1024,
            first_request_timeout: Duration::from_secs(3),
            header_read_timeout: Duration::from_secs(10),
            max_connections: 256,
        }
    }
}
