//! The HTTP layer: supervisord's HTTP surface on unix sockets and TCP, served by hyper.
//!
//! Owns binding (supervisord's hard-link dance for unix sockets, stale-socket detection), Basic auth on
//! every path, request limits (body size, header read time, connection count), routing (`/RPC2…`,
//! `/logtail/…`, `/mainlogtail`, `/ok.html`, the web-UI hook), log tailing, the web UI's event streams,
//! refusing XML-RPC posts a browser sends for another site (rules shared with the web UI's
//! [`crate::web::csrf`]), and graceful shutdown.
//! It knows nothing about processes or XML-RPC: everything behind a route goes through [`Backend`],
//! which the daemon implements on top of the supervisor actor.
//!
//! Binding ([`bind`]) uses std sockets and needs no runtime, so it can happen before daemonizing (errors
//! reach the terminal) and before any thread exists; [`serve`] later converts the listeners to tokio.

mod auth;
mod bind;
mod config;
mod probe;
mod response;
mod serve;
mod service;
mod sse;
mod tail;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use bytes::Bytes;

pub use bind::{BindError, BoundServer, bind};
pub use config::{Credentials, Limits, ListenerKind, ServerConfig};
pub use probe::Probe;
pub use serve::{ServerHandle, serve};

/// A boxed, sendable future (what [`Backend`] methods return).
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Severity of the lines this layer asks the backend to log (mapped onto the main log's levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Critical,
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

/// Which log of a process `/logtail/<namespec>/<channel>` follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogChannel {
    Stdout,
    Stderr,
}

/// Why an XML-RPC request got no XML answer (supervisord answers these with an HTTP error page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RpcFailure {
    /// Unparsable XML or a missing method name: HTTP 400.
    BadRequest,
    /// A result that cannot be marshalled, or an internal error: HTTP 500.
    Internal,
}

/// A web-UI request handed to [`Backend::web_ui`] (everything not routed by this layer).
#[derive(Debug, Clone)]
pub struct UiRequest {
    pub method: String,
    /// Decoded path, e.g. `/index.html`.
    pub path: String,
    /// Raw query string without `?`.
    pub query: Option<String>,
    /// `Host` header, needed for supervisord's absolute redirects.
    pub host: Option<String>,
    /// `Origin` header (cross-site request checks).
    pub origin: Option<String>,
    /// `Sec-Fetch-Site` header (cross-site request checks).
    pub fetch_site: Option<String>,
    /// Request body (form posts), already size-limited.
    pub body: Bytes,
}

/// A web-UI response.
#[derive(Debug, Clone)]
pub struct UiResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: UiBody,
}

/// The body of a [`UiResponse`].
#[derive(Debug, Clone)]
pub enum UiBody {
    Full(Bytes),
    /// A `text/event-stream` that sends the counter's value as an event (`data: <n>`) at once and
    /// each time it changes, until the client leaves, the counter's sender is gone or the server
    /// stops. Nothing runs between changes.
    Changes(tokio::sync::watch::Receiver<u64>),
}

/// A limit that refused a connection or request (counted by [`Backend::refused`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The connection cap was reached (503).
    Connections,
    /// A request body over the size limit (413).
    BodyTooLarge,
    /// A connection that sent no complete request headers in time.
    HeaderTimeout,
}

/// The answer to a probe endpoint (see [`Backend::probe`]).
#[derive(Debug, Clone)]
pub struct ProbeReply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Bytes,
}

/// What the HTTP layer needs from the daemon. Implementations must be cheap to call concurrently.
pub trait Backend: Send + Sync + 'static {
    /// Handles one XML-RPC request body; Ok is the complete `<methodResponse>` document.
    fn rpc(&self, body: Bytes) -> BoxFuture<Result<Bytes, RpcFailure>>;

    /// The log file behind `/logtail/<namespec>[/<channel>]`; `None` (unknown process, no log file)
    /// answers 404. A path that does not exist also answers 404.
    fn logtail_path(&self, namespec: &str, channel: LogChannel) -> Option<PathBuf>;

    /// The main log file behind `/mainlogtail`; `None` answers 404.
    fn mainlog_path(&self) -> Option<PathBuf>;

    /// Changes when the child logs behind `/logtail` are replaced (a reload); followers then end. The
    /// default never changes.
    fn child_logs_replaced(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        None
    }

    /// Writes a line to the main log (access lines at Trace, refused/limited connections at Warn).
    fn log(&self, level: LogLevel, text: String);

    /// Answers a probe endpoint (`/healthz`, `/readyz`, `/metrics`); `json` when the client accepts
    /// `application/json`. `None` answers 404. The default has no probes.
    fn probe(&self, probe: Probe, json: bool) -> BoxFuture<Option<ProbeReply>> {
        let _ = (probe, json);
        Box::pin(async { None })
    }

    /// Counts a connection or request refused by the limits (also logged). The default ignores it.
    fn refused(&self, why: Refused) {
        let _ = why;
    }

    /// Hook for the status web UI (`/`, `/index.html`, `/tail.html`, static files). `None` answers 404.
    /// The default has no UI.
    fn web_ui(&self, request: UiRequest) -> BoxFuture<Option<UiResponse>> {
        drop(request);
        Box::pin(async { None })
    }
}
