//! Accept loops, per-connection limits and graceful shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::bind::{BoundServer, StdListener};
use super::config::{Credentials, Limits};
use super::response::SERVER_NAME;
use super::service::{ConnCtx, handle};
use super::{Backend, LogLevel};

/// The raw 503 answer for connections over the cap (written before hyper is involved).
fn refusal() -> Vec<u8> {
    let body = "<head>\r\n<title>Error response</title>\r\n</head>\r\n<body>\r\n<h1>Error response</h1>\r\n\
                <p>Error code 503.\r\n<p>Message: Service Unavailable.\r\n</body>\r\n";
    format!(
        "HTTP/1.1 503 Service Unavailable\r\nServer: {SERVER_NAME}\r\nContent-Type: text/html\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// State shared by every server of one [`serve`] call.
struct Shared {
    active: AtomicUsize,
    drained: Notify,
    limits: Limits,
    backend: Arc<dyn Backend>,
    /// `true` = stop accepting and finish in-flight requests.
    stop: watch::Receiver<bool>,
    /// `true` = drop every remaining connection now.
    force: watch::Receiver<bool>,
}

/// Running servers. Dropping it without [`ServerHandle::shutdown`] leaves them running until the
/// runtime stops (and leaves socket files behind).
pub struct ServerHandle {
    stop: watch::Sender<bool>,
    force: watch::Sender<bool>,
    shared: Arc<Shared>,
    accept_tasks: Vec<JoinHandle<()>>,
    socket_files: Vec<std::path::PathBuf>,
}

impl std::fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandle")
            .field("socket_files", &self.socket_files)
            .finish_non_exhaustive()
    }
}

/// Starts serving every bound server with `backend`. Must be called within a tokio runtime.
pub fn serve(
    servers: Vec<BoundServer>,
    backend: Arc<dyn Backend>,
    limits: Limits,
) -> std::io::Result<ServerHandle> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let (force_tx, force_rx) = watch::channel(false);
    let shared = Arc::new(Shared {
        active: AtomicUsize::new(0),
        drained: Notify::new(),
        limits,
        backend,
        stop: stop_rx,
        force: force_rx,
    });
    let mut accept_tasks = Vec::new();
    let mut socket_files = Vec::new();
    for server in servers {
        let name = server.config.name.clone();
        let auth = server.config.auth.clone();
        let task = match server.listener {
            StdListener::Unix(listener, path) => {
                listener.set_nonblocking(true)?;
                let listener = UnixListener::from_std(listener)?;
                socket_files.push(path);
                tokio::spawn(accept_unix(listener, name, auth, shared.clone()))
            }
            StdListener::Tcp(listener) => {
                listener.set_nonblocking(true)?;
                let listener = TcpListener::from_std(listener)?;
                tokio::spawn(accept_tcp(listener, name, auth, shared.clone()))
            }
        };
        accept_tasks.push(task);
    }
    Ok(ServerHandle {
        stop: stop_tx,
        force: force_tx,
        shared,
        accept_tasks,
        socket_files,
    })
}

impl ServerHandle {
    /// Stops accepting, lets in-flight requests finish (log tails end at once), waits up to `deadline`
    /// for connections to close, then drops the rest and removes the unix socket files.
    pub async fn shutdown(self, deadline: Duration) {
        let _ = self.stop.send(true);
        for task in &self.accept_tasks {
            task.abort();
        }
        let drained = async {
            loop {
                let notified = self.shared.drained.notified();
                if self.shared.active.load(Ordering::SeqCst) == 0 {
                    return;
                }
                notified.await;
            }
        };
        if tokio::time::timeout(deadline, drained).await.is_err() {
            let _ = self.force.send(true);
        }
        self.remove_socket_files();
    }

    /// Removes the unix socket files (also done by [`ServerHandle::shutdown`]).
    pub fn remove_socket_files(&self) {
        for path in &self.socket_files {
            let _ = std::fs::remove_file(path);
        }
    }

    /// Connections currently open.
    pub fn active_connections(&self) -> usize {
        self.shared.active.load(Ordering::SeqCst)
    }
}

async fn accept_unix(
    listener: UnixListener,
    name: String,
    auth: Option<Credentials>,
    shared: Arc<Shared>,
) {
    let mut stop = shared.stop.clone();
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = stop.changed() => return,
        };
        match accepted {
            Ok((stream, _)) => admit(
                stream,
                "unix socket client".to_string(),
                &name,
                auth.clone(),
                &shared,
            ),
            Err(e) => accept_failed(&shared, &name, &e).await,
        }
    }
}

async fn accept_tcp(
    listener: TcpListener,
    name: String,
    auth: Option<Credentials>,
    shared: Arc<Shared>,
) {
    let mut stop = shared.stop.clone();
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = stop.changed() => return,
        };
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                admit(stream, peer.to_string(), &name, auth.clone(), &shared);
            }
            Err(e) => accept_failed(&shared, &name, &e).await,
        }
    }
}

/// EMFILE and friends: log, and back off briefly instead of spinning.
async fn accept_failed(shared: &Shared, name: &str, e: &std::io::Error) {
    shared
        .backend
        .log(LogLevel::Error, format!("{name}: accept failed: {e}"));
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Counts a connection in, or refuses it with 503 when the cap is reached.
fn admit<S>(stream: S, peer: String, name: &str, auth: Option<Credentials>, shared: &Arc<Shared>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let before = shared.active.fetch_add(1, Ordering::SeqCst);
    let guard = ConnGuard(shared.clone());
    if before >= shared.limits.max_connections {
        shared.backend.log(
            LogLevel::Warn,
            format!(
                "{name}: refused connection from {peer}: {} connections already open",
                shared.limits.max_connections
            ),
        );
        tokio::spawn(async move {
            let _guard = guard;
            let mut stream = stream;
            let refuse = async {
                stream.write_all(&refusal()).await?;
                stream.shutdown().await?;
                // Drain what the client sends so closing does not turn into a reset that could
                // destroy the 503 before the client reads it.
                let mut sink = [0u8; 1024];
                while stream.read(&mut sink).await? > 0 {}
                Ok::<(), std::io::Error>(())
            };
            let _ = tokio::time::timeout(Duration::from_secs(1), refuse).await;
        });
        return;
    }
    let ctx = Arc::new(ConnCtx {
        server: name.to_string(),
        auth,
        peer,
        limits: shared.limits,
        backend: shared.backend.clone(),
        stop: shared.stop.clone(),
        requests: AtomicU64::new(0),
    });
    let mut stop = shared.stop.clone();
    let mut force = shared.force.clone();
    let header_timeout = shared.limits.header_read_timeout;
    tokio::spawn(async move {
        let _guard = guard;
        let service_ctx = ctx.clone();
        let service = service_fn(move |req| handle(service_ctx.clone(), req));
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .keep_alive(true);
        let conn = builder.serve_connection(TokioIo::new(stream), service);
        tokio::pin!(conn);
        let result = tokio::select! {
            r = conn.as_mut() => r,
            _ = stop.changed() => {
                conn.as_mut().graceful_shutdown();
                tokio::select! {
                    r = conn.as_mut() => r,
                    _ = force.changed() => Ok(()),
                }
            }
        };
        if let Err(e) = result {
            log_connection_error(&ctx, &e);
        }
    });
}

fn log_connection_error(ctx: &ConnCtx, e: &hyper::Error) {
    if e.is_timeout() {
        if ctx.requests.load(Ordering::Relaxed) == 0 {
            ctx.backend.log(
                LogLevel::Warn,
                format!(
                    "{}: closed connection from {}: request headers not received in time",
                    ctx.server, ctx.peer
                ),
            );
        } else {
            ctx.backend.log(
                LogLevel::Debug,
                format!("{}: closed idle connection from {}", ctx.server, ctx.peer),
            );
        }
    } else if !e.is_incomplete_message() {
        ctx.backend.log(
            LogLevel::Debug,
            format!("{}: connection from {} ended: {e}", ctx.server, ctx.peer),
        );
    }
}

/// Decrements the open-connection count when a connection task ends.
struct ConnGuard(Arc<Shared>);

impl Drop for ConnGuard {
    fn drop(&mut self) {
        if self.0.active.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.drained.notify_waiters();
        }
    }
}
