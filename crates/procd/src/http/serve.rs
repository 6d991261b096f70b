//! Accept loops, per-connection limits and graceful shutdown.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
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
    /// Notified whenever a connection ends (a descriptor was released).
    released: Notify,
    /// Age order of connections across all servers.
    next_id: AtomicU64,
    listeners: Vec<Arc<ListenerState>>,
    limits: Limits,
    backend: Arc<dyn Backend>,
    /// `true` = stop accepting and finish in-flight requests.
    stop: watch::Receiver<bool>,
    /// `true` = drop every remaining connection now.
    force: watch::Receiver<bool>,
}

/// One server's connections and its log limiters.
struct ListenerState {
    name: String,
    auth: Option<Credentials>,
    /// Open connections by age (id), each with its "not yet logged in" flag and its eviction signal.
    conns: Mutex<BTreeMap<u64, Slot>>,
    /// Descriptor exhaustion: set while `accept` fails with EMFILE/ENFILE.
    exhausted: Mutex<Option<Episode>>,
    timed_out_log: RateLimited,
    evicted_log: RateLimited,
    refused_log: RateLimited,
}

/// One period of descriptor exhaustion: it ends at the first accept that works a second or more after
/// the last EMFILE, so a server that keeps hitting the limit logs one line, not one per connection.
struct Episode {
    last_failure: Instant,
}

impl Episode {
    const QUIET: Duration = Duration::from_secs(1);
}

struct Slot {
    pending: Arc<AtomicBool>,
    evict: Arc<Notify>,
    opened: Instant,
}

/// A connection younger than this that has not sent its request yet is most likely a real client
/// whose request has not been read yet: when a server's budget is full it is not closed to make room
/// while the server may still go over its budget (up to twice) instead.
const GRACE: Duration = Duration::from_secs(1);

impl ListenerState {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Slot>> {
        self.conns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Closes the oldest connection of this server that has not completed a request and is at least
    /// `min_age` old; whether there was one.
    fn evict_oldest_pending(&self, conns: &mut BTreeMap<u64, Slot>, min_age: Duration) -> bool {
        let now = Instant::now();
        let Some(id) = conns
            .iter()
            .find(|(_, slot)| {
                slot.pending.load(Ordering::SeqCst) && now.duration_since(slot.opened) >= min_age
            })
            .map(|(id, _)| *id)
        else {
            return false;
        };
        if let Some(slot) = conns.remove(&id) {
            // notify_one keeps a permit, so the signal is not lost if the task is not waiting yet.
            slot.evict.notify_one();
        }
        true
    }
}

/// At most one main-log line per [`RateLimited::PERIOD`] for one kind of event; the lines in between
/// are counted and the count is added to the next line.
struct RateLimited {
    state: Mutex<(Option<Instant>, u64)>,
}

impl RateLimited {
    const PERIOD: Duration = Duration::from_secs(10);

    fn new() -> Self {
        RateLimited {
            state: Mutex::new((None, 0)),
        }
    }

    fn log(&self, backend: &dyn Backend, level: LogLevel, text: impl FnOnce() -> String) {
        let mut st = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        if st
            .0
            .is_some_and(|last| now.duration_since(last) < Self::PERIOD)
        {
            st.1 += 1;
            return;
        }
        let suppressed = std::mem::take(&mut st.1);
        st.0 = Some(now);
        drop(st);
        let mut line = text();
        if suppressed > 0 {
            line.push_str(&format!(
                " ({suppressed} more like this in the last {} s)",
                Self::PERIOD.as_secs()
            ));
        }
        backend.log(level, line);
    }
}

impl Shared {
    /// Closes the oldest connection that has not completed a request, on any server (sparing the
    /// young ones, see [`GRACE`]).
    fn evict_oldest_pending_anywhere(&self) -> bool {
        let oldest = self
            .listeners
            .iter()
            .filter_map(|l| {
                let conns = l.lock();
                conns
                    .iter()
                    .find(|(_, slot)| {
                        slot.pending.load(Ordering::SeqCst) && slot.opened.elapsed() >= GRACE
                    })
                    .map(|(id, _)| (*id, l.clone()))
            })
            .min_by_key(|(id, _)| *id);
        match oldest {
            Some((_, listener)) => {
                let evicted = listener.evict_oldest_pending(&mut listener.lock(), GRACE);
                if evicted {
                    listener.evicted_log.log(&*self.backend, LogLevel::Warn, || {
                        format!(
                            "{}: closed a connection that had not sent a request, to free a file \
                             descriptor",
                            listener.name
                        )
                    });
                }
                evicted
            }
            None => false,
        }
    }
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

/// A listening socket of either kind.
enum AnyListener {
    Unix(UnixListener),
    Tcp(TcpListener),
}

/// An accepted connection and its peer's name for log lines.
enum Accepted {
    Unix(UnixStream),
    Tcp(TcpStream, String),
}

impl AnyListener {
    async fn accept(&self) -> std::io::Result<Accepted> {
        match self {
            AnyListener::Unix(l) => l.accept().await.map(|(s, _)| Accepted::Unix(s)),
            AnyListener::Tcp(l) => l.accept().await.map(|(s, peer)| {
                let _ = s.set_nodelay(true);
                Accepted::Tcp(s, peer.to_string())
            }),
        }
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
    let mut listeners = Vec::new();
    let mut socket_files = Vec::new();
    let mut states = Vec::new();
    for server in servers {
        let listener = match server.listener {
            StdListener::Unix(listener, path) => {
                listener.set_nonblocking(true)?;
                socket_files.push(path);
                AnyListener::Unix(UnixListener::from_std(listener)?)
            }
            StdListener::Tcp(listener) => {
                listener.set_nonblocking(true)?;
                AnyListener::Tcp(TcpListener::from_std(listener)?)
            }
        };
        listeners.push(listener);
        states.push(Arc::new(ListenerState {
            name: server.config.name.clone(),
            auth: server.config.auth.clone(),
            conns: Mutex::new(BTreeMap::new()),
            exhausted: Mutex::new(None),
            timed_out_log: RateLimited::new(),
            evicted_log: RateLimited::new(),
            refused_log: RateLimited::new(),
        }));
    }
    let shared = Arc::new(Shared {
        active: AtomicUsize::new(0),
        drained: Notify::new(),
        released: Notify::new(),
        next_id: AtomicU64::new(0),
        listeners: states.clone(),
        limits,
        backend,
        stop: stop_rx,
        force: force_rx,
    });
    let accept_tasks = listeners
        .into_iter()
        .zip(states)
        .map(|(listener, state)| tokio::spawn(accept_loop(listener, state, shared.clone())))
        .collect();
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

/// A spare descriptor kept open so that, when the process runs out, one can be freed to accept a
/// queued connection and close it at once (instead of leaving it queued, or spinning on EMFILE).
fn reserve_fd() -> Option<std::fs::File> {
    std::fs::File::open("/dev/null").ok()
}

fn is_fd_exhaustion(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

async fn accept_loop(listener: AnyListener, state: Arc<ListenerState>, shared: Arc<Shared>) {
    let mut stop = shared.stop.clone();
    let mut reserve = reserve_fd();
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = stop.changed() => return,
        };
        match accepted {
            Ok(conn) => {
                exhaustion_over(&state, &shared);
                if reserve.is_none() {
                    reserve = reserve_fd();
                }
                admit_any(conn, &state, &shared);
            }
            Err(e) if is_fd_exhaustion(&e) => {
                if let Some(conn) =
                    out_of_descriptors(&listener, &state, &shared, &mut reserve, &e).await
                {
                    admit_any(conn, &state, &shared);
                }
            }
            // The peer went away before it was accepted, and the like: nothing to do.
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ECONNABORTED | libc::EINTR | libc::EPROTO | libc::EPERM)
                ) => {}
            Err(e) => {
                state
                    .refused_log
                    .log(&*shared.backend, LogLevel::Error, || {
                        format!("{}: accept failed: {e}", state.name)
                    });
                // Unknown errors: do not spin, but do not wait long either.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// EMFILE/ENFILE, logged once per episode. First, a connection that has not sent a request is
/// closed to free a descriptor (an idle attacker must not lock the operator out). If there is none,
/// the spare descriptor is given up to accept the queued connection, which is served as usual;
/// without a spare, accepting pauses until one of our connections ends (or for 20 ms, for
/// descriptors released elsewhere in the process). Either way the first connection after
/// descriptors are freed is served at once, and the loop never spins or sleeps per connection.
async fn out_of_descriptors(
    listener: &AnyListener,
    state: &ListenerState,
    shared: &Shared,
    reserve: &mut Option<std::fs::File>,
    e: &std::io::Error,
) -> Option<Accepted> {
    {
        let mut exhausted = state
            .exhausted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match exhausted.as_mut() {
            Some(episode) => episode.last_failure = Instant::now(),
            None => {
                *exhausted = Some(Episode {
                    last_failure: Instant::now(),
                });
                shared.backend.log(
                    LogLevel::Error,
                    format!(
                        "{}: accept failed: {e}; serving one connection at a time and closing \
                         connections that have not sent a request until file descriptors are free",
                        state.name
                    ),
                );
            }
        }
    }
    let released = shared.released.notified();
    tokio::pin!(released);
    released.as_mut().enable();
    if shared.evict_oldest_pending_anywhere() {
        // Wait for that connection to end; then accept again.
        let _ = tokio::time::timeout(Duration::from_millis(100), released).await;
        return None;
    }
    if let Some(spare) = reserve.take() {
        drop(spare);
        // Polls once: the listener is readable, so the queued connection is there.
        if let Ok(Ok(conn)) = tokio::time::timeout(Duration::ZERO, listener.accept()).await {
            return Some(conn);
        }
        *reserve = reserve_fd();
        return None;
    }
    let _ = tokio::time::timeout(Duration::from_millis(20), released).await;
    None
}

/// A successful accept: ends an EMFILE episode once the failures have stopped for a while.
fn exhaustion_over(state: &ListenerState, shared: &Shared) {
    let mut exhausted = state
        .exhausted
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some(episode) = exhausted.as_ref() else {
        return;
    };
    if episode.last_failure.elapsed() < Episode::QUIET {
        return;
    }
    *exhausted = None;
    drop(exhausted);
    shared.backend.log(
        LogLevel::Warn,
        format!("{}: file descriptors are available again", state.name),
    );
}

fn admit_any(conn: Accepted, state: &Arc<ListenerState>, shared: &Arc<Shared>) {
    match conn {
        Accepted::Unix(stream) => admit(stream, "unix socket client".to_string(), state, shared),
        Accepted::Tcp(stream, peer) => admit(stream, peer, state, shared),
    }
}

/// Counts a connection in, making room by closing the server's oldest connection that has not
/// completed a request when its budget is full; refuses it with 503 only when every connection of
/// the server has.
fn admit<S>(stream: S, peer: String, state: &Arc<ListenerState>, shared: &Arc<Shared>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    shared.active.fetch_add(1, Ordering::SeqCst);
    let id = shared.next_id.fetch_add(1, Ordering::SeqCst);
    let pending = Arc::new(AtomicBool::new(true));
    let evict = Arc::new(Notify::new());
    let admitted = {
        let mut conns = state.lock();
        let max = shared.limits.max_connections;
        let mut admitted = conns.len() < max;
        let mut make_room = false;
        if !admitted {
            if state.evict_oldest_pending(&mut conns, GRACE) {
                make_room = true;
            } else if conns.values().any(|s| s.pending.load(Ordering::SeqCst)) {
                // Over budget only by connections opened in the last moments: most likely a burst
                // of real clients, let it through up to twice the budget.
                admitted = conns.len() < max.saturating_mul(2);
                make_room = !admitted && state.evict_oldest_pending(&mut conns, Duration::ZERO);
            }
        }
        if make_room {
            state.evicted_log.log(&*shared.backend, LogLevel::Warn, || {
                format!(
                    "{}: {} connections open; closed the oldest one that had not sent a request \
                     to admit {peer}",
                    state.name, shared.limits.max_connections
                )
            });
            admitted = true;
        }
        if admitted {
            conns.insert(
                id,
                Slot {
                    pending: pending.clone(),
                    evict: evict.clone(),
                    opened: Instant::now(),
                },
            );
        }
        admitted
    };
    let guard = ConnGuard {
        shared: shared.clone(),
        state: state.clone(),
        id,
    };
    if !admitted {
        shared.backend.refused(super::Refused::Connections);
        state.refused_log.log(&*shared.backend, LogLevel::Warn, || {
            format!(
                "{}: refused connection from {peer}: {} connections already open",
                state.name, shared.limits.max_connections
            )
        });
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
        server: state.name.clone(),
        auth: state.auth.clone(),
        peer,
        limits: shared.limits,
        backend: shared.backend.clone(),
        stop: shared.stop.clone(),
        requests: AtomicU64::new(0),
        pending: pending.clone(),
    });
    let mut stop = shared.stop.clone();
    let mut force = shared.force.clone();
    let limits = shared.limits;
    let state = state.clone();
    let backend = shared.backend.clone();
    tokio::spawn(async move {
        let _guard = guard;
        let service_ctx = ctx.clone();
        let service = service_fn(move |req| handle(service_ctx.clone(), req));
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .keep_alive(true);
        let conn = builder.serve_connection(TokioIo::new(stream), service);
        tokio::pin!(conn);
        let first_request = tokio::time::sleep(limits.first_request_timeout);
        tokio::pin!(first_request);
        let mut waiting_first = true;
        let mut stopping = false;
        let result = loop {
            tokio::select! {
                r = conn.as_mut() => break r,
                () = first_request.as_mut(), if waiting_first => {
                    waiting_first = false;
                    if pending.load(Ordering::SeqCst) {
                        state.timed_out_log.log(&*backend, LogLevel::Warn, || {
                            format!(
                                "{}: closed connection from {}: request headers not received in time",
                                ctx.server, ctx.peer
                            )
                        });
                        break Ok(());
                    }
                }
                // A request may have completed its headers since it was picked: then it stays.
                () = evict.notified() => if pending.load(Ordering::SeqCst) { break Ok(()) },
                _ = stop.changed(), if !stopping => {
                    // A connection still waiting for its first request has nothing to finish.
                    if pending.load(Ordering::SeqCst) {
                        break Ok(());
                    }
                    stopping = true;
                    conn.as_mut().graceful_shutdown();
                }
                _ = force.changed(), if stopping => break Ok(()),
            }
        };
        if let Err(e) = result {
            log_connection_error(&ctx, &state, &e);
        }
    });
}

fn log_connection_error(ctx: &ConnCtx, state: &ListenerState, e: &hyper::Error) {
    if e.is_timeout() {
        if ctx.requests.load(Ordering::Relaxed) == 0 {
            ctx.backend.refused(super::Refused::HeaderTimeout);
            state.timed_out_log.log(&*ctx.backend, LogLevel::Warn, || {
                format!(
                    "{}: closed connection from {}: request headers not received in time",
                    ctx.server, ctx.peer
                )
            });
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

/// Takes a connection out of its server's budget and the open-connection count when its task ends.
struct ConnGuard {
    shared: Arc<Shared>,
    state: Arc<ListenerState>,
    id: u64,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.state.lock().remove(&self.id);
        self.shared.released.notify_waiters();
        if self.shared.active.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.shared.drained.notify_waiters();
        }
    }
}
