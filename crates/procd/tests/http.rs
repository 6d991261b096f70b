//! Real-socket tests of `procd::http`: a fake backend served on a unix socket and a TCP port.

use std::io::Write as _;
use std::net::SocketAddr;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use procd::http::{
    Backend, BindError, BoxFuture, Credentials, Limits, ListenerKind, LogChannel, LogLevel,
    RpcFailure, ServerConfig, ServerHandle, bind, serve,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const DEADLINE: Duration = Duration::from_secs(10);

/// Echoes RPC bodies; serves `foo` / `grp:bar` log files from a directory; records log lines.
struct FakeBackend {
    dir: PathBuf,
    lines: Mutex<Vec<(LogLevel, String)>>,
    rpc_delay: Duration,
}

impl Backend for FakeBackend {
    fn rpc(&self, body: Bytes) -> BoxFuture<Result<Bytes, RpcFailure>> {
        let delay = self.rpc_delay;
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            match &body[..] {
                b"bad" => Err(RpcFailure::BadRequest),
                _ => Ok(Bytes::from([&b"echo:"[..], &body].concat())),
            }
        })
    }

    fn logtail_path(&self, namespec: &str, channel: LogChannel) -> Option<PathBuf> {
        let suffix = match channel {
            LogChannel::Stdout => "out",
            LogChannel::Stderr => "err",
        };
        match namespec {
            "foo" | "grp:bar" => Some(
                self.dir
                    .join(format!("{}.{suffix}", namespec.replace(':', "_"))),
            ),
            _ => None,
        }
    }

    fn mainlog_path(&self) -> Option<PathBuf> {
        Some(self.dir.join("main.log"))
    }

    fn log(&self, level: LogLevel, text: String) {
        self.lines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((level, text));
    }
}

impl FakeBackend {
    fn logged(&self, needle: &str) -> bool {
        self.lines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .any(|(_, l)| l.contains(needle))
    }
}

#[derive(Clone, Debug)]
enum Addr {
    Unix(PathBuf),
    Tcp(SocketAddr),
}

struct Fixture {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    backend: Arc<FakeBackend>,
    unix: Addr,
    tcp: Addr,
    socket: PathBuf,
    handle: Option<ServerHandle>,
}

impl Fixture {
    fn new(auth: Option<Credentials>, limits: Limits) -> Self {
        Self::with_delay(auth, limits, Duration::ZERO)
    }

    fn with_delay(auth: Option<Credentials>, limits: Limits, rpc_delay: Duration) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let backend = Arc::new(FakeBackend {
            dir: path.clone(),
            lines: Mutex::new(Vec::new()),
            rpc_delay,
        });
        let socket = path.join("procd.sock");
        let unix = bind(ServerConfig {
            kind: ListenerKind::Unix {
                path: socket.clone(),
                chmod: 0o700,
                chown: None,
            },
            name: "unix_http_server".into(),
            auth: auth.clone(),
        })
        .expect("bind unix");
        let tcp = bind(ServerConfig {
            kind: ListenerKind::Tcp {
                host: "127.0.0.1".into(),
                port: 0,
            },
            name: "inet_http_server".into(),
            auth,
        })
        .expect("bind tcp");
        let tcp_addr = tcp.tcp_addr().expect("tcp addr");
        let handle = serve(vec![unix, tcp], backend.clone(), limits).expect("serve");
        Fixture {
            _dir: dir,
            dir: path,
            backend,
            unix: Addr::Unix(socket.clone()),
            tcp: Addr::Tcp(tcp_addr),
            socket,
            handle: Some(handle),
        }
    }

    fn both(&self) -> [Addr; 2] {
        [self.unix.clone(), self.tcp.clone()]
    }
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

async fn connect(addr: &Addr) -> Box<dyn Stream> {
    match addr {
        Addr::Unix(p) => Box::new(
            tokio::net::UnixStream::connect(p)
                .await
                .expect("connect unix"),
        ),
        Addr::Tcp(a) => Box::new(
            tokio::net::TcpStream::connect(a)
                .await
                .expect("connect tcp"),
        ),
    }
}

#[derive(Debug)]
struct RawResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn parse_head(raw: &[u8]) -> Option<(RawResponse, usize)> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        })
        .collect();
    Some((
        RawResponse {
            status,
            headers,
            body: Vec::new(),
        },
        end,
    ))
}

/// Decodes a complete chunked body (enough for the assertions here).
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = raw.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&raw[..pos]).trim(), 16).unwrap_or(0);
        if size == 0 || raw.len() < pos + 2 + size {
            break;
        }
        out.extend_from_slice(&raw[pos + 2..pos + 2 + size]);
        raw = &raw[(pos + 4 + size).min(raw.len())..];
    }
    out
}

/// Sends `request` and reads until the server closes the connection.
async fn exchange(addr: &Addr, request: &[u8]) -> RawResponse {
    let mut stream = connect(addr).await;
    stream.write_all(request).await.expect("write");
    let mut raw = Vec::new();
    tokio::time::timeout(DEADLINE, stream.read_to_end(&mut raw))
        .await
        .expect("server closed in time")
        .ok();
    let (mut resp, end) = parse_head(&raw).unwrap_or_else(|| panic!("no response head in {raw:?}"));
    resp.body = if resp.header("transfer-encoding") == Some("chunked") {
        dechunk(&raw[end..])
    } else {
        raw[end..].to_vec()
    };
    resp
}

/// Sends `request` and returns the response head plus whatever body arrived with it (stream stays open).
async fn open_stream(addr: &Addr, request: &[u8]) -> (RawResponse, Vec<u8>, Box<dyn Stream>) {
    let mut stream = connect(addr).await;
    stream.write_all(request).await.expect("write");
    let mut raw = Vec::new();
    let start = Instant::now();
    loop {
        if let Some((resp, end)) = parse_head(&raw) {
            return (resp, raw[end..].to_vec(), stream);
        }
        let mut buf = [0u8; 4096];
        let n = tokio::time::timeout(DEADLINE, stream.read(&mut buf))
            .await
            .expect("head in time")
            .expect("read");
        assert!(
            n > 0 && start.elapsed() < DEADLINE,
            "connection closed before a response head: {raw:?}"
        );
        raw.extend_from_slice(&buf[..n]);
    }
}

/// Reads from a streaming response until the de-chunked text contains `needle`.
async fn read_until(stream: &mut Box<dyn Stream>, raw: &mut Vec<u8>, needle: &str) -> String {
    let start = Instant::now();
    loop {
        let text = String::from_utf8_lossy(&dechunk(raw)).into_owned();
        if text.contains(needle) {
            return text;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "never saw {needle:?}; got {text:?}"
        );
        let mut buf = [0u8; 4096];
        if let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await
        {
            assert!(n > 0, "stream ended before {needle:?}; got {text:?}");
            raw.extend_from_slice(&buf[..n]);
        }
    }
}

fn creds(password: &str) -> Option<Credentials> {
    Some(Credentials {
        health_auth: true,
        username: "user".into(),
        password: password.into(),
    })
}

fn basic(user_pass: &str) -> String {
    format!(
        "Authorization: Basic {}\r\n",
        base64::engine::general_purpose::STANDARD.encode(user_pass)
    )
}

fn rpc_request(body: &str, extra: &str) -> Vec<u8> {
    format!("POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n{body}", body.len())
        .into_bytes()
}

fn get(path: &str, extra: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{extra}Connection: close\r\n\r\n")
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_is_answered_on_unix_and_tcp() {
    let fx = Fixture::new(None, Limits::default());
    for addr in fx.both() {
        let resp = exchange(&addr, &rpc_request("<x/>", "")).await;
        assert_eq!(resp.status, 200, "{addr:?}");
        assert_eq!(resp.body, b"echo:<x/>");
        assert_eq!(resp.header("content-type"), Some("text/xml"));
        assert_eq!(resp.header("content-length"), Some("9"));
        assert!(
            resp.header("server")
                .is_some_and(|s| s.starts_with("procd/"))
        );
        let bad = exchange(&addr, &rpc_request("bad", "")).await;
        assert_eq!(bad.status, 400);
        let ok = exchange(&addr, &get("/ok.html", "")).await;
        assert_eq!((ok.status, ok.body.as_slice()), (200, &b"OK"[..]));
        let missing = exchange(&addr, &get("/index.html", "")).await;
        assert_eq!(missing.status, 404);
        assert!(
            String::from_utf8_lossy(&missing.body)
                .contains("<p>Error code 404.\r\n<p>Message: Not Found.")
        );
    }
    fx.handle.unwrap().shutdown(DEADLINE).await;
}

/// A web page can make a browser post XML to `/RPC2` as `text/plain` without asking first; what only a
/// browser sends for another site is refused, XML-RPC clients (no such headers) are not affected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_rpc_posts_are_refused() {
    let fx = Fixture::new(None, Limits::default());
    let refused = [
        "Origin: http://127.0.0.1:8000\r\n",
        "Origin: null\r\n",
        "Sec-Fetch-Site: cross-site\r\n",
        "Sec-Fetch-Site: same-site\r\n",
        "Origin: http://localhost\r\nSec-Fetch-Site: same-site\r\n",
    ];
    for extra in refused {
        let resp = exchange(&fx.tcp, &rpc_request("<x/>", extra)).await;
        assert_eq!(resp.status, 403, "{extra}");
        assert!(String::from_utf8_lossy(&resp.body).contains("Error code 403."));
    }
    assert!(fx.backend.logged("refused XML-RPC request from 127.0.0.1:"));
    let allowed = [
        "",
        "Origin: http://localhost\r\n",
        "Origin: http://localhost\r\nSec-Fetch-Site: same-origin\r\n",
        "Sec-Fetch-Site: none\r\n",
    ];
    for extra in allowed {
        let resp = exchange(&fx.tcp, &rpc_request("<x/>", extra)).await;
        assert_eq!(
            (resp.status, resp.body.as_slice()),
            (200, &b"echo:<x/>"[..]),
            "{extra}"
        );
    }
    fx.handle.unwrap().shutdown(DEADLINE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_is_required_on_every_path_of_both_servers() {
    let fx = Fixture::new(creds("secret"), Limits::default());
    std::fs::write(fx.dir.join("foo.out"), "log\n").unwrap();
    std::fs::write(fx.dir.join("main.log"), "main\n").unwrap();
    for addr in fx.both() {
        for (path, post) in [
            ("/RPC2", true),
            ("/logtail/foo", false),
            ("/mainlogtail", false),
            ("/ok.html", false),
            ("/", false),
        ] {
            let req = |extra: &str| {
                if post {
                    rpc_request("<x/>", extra)
                } else {
                    get(path, extra)
                }
            };
            for bad in [
                String::new(),
                basic("user:wrong"),
                basic("other:secret"),
                "Authorization: Digest x\r\n".into(),
            ] {
                let resp = exchange(&addr, &req(&bad)).await;
                assert_eq!(resp.status, 401, "{addr:?} {path} {bad:?}");
                assert_eq!(
                    resp.header("www-authenticate"),
                    Some("Basic realm=\"default\"")
                );
                assert_eq!(resp.header("connection"), Some("close"));
            }
            let malformed = exchange(&addr, &req("Authorization: Basic abc\r\n")).await;
            assert_eq!(malformed.status, 400, "{path}");
            let (resp, _, _) = open_stream(&addr, &req(&basic("user:secret"))).await;
            let expected = if path == "/" { 404 } else { 200 };
            assert_eq!(resp.status, expected, "{addr:?} {path}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sha_passwords_are_checked_against_the_hex_digest() {
    // sha1("thepassword")
    let digest = "82ab876d1387bfafe46cc1c8a2ef074eae50cb1d";
    let fx = Fixture::new(creds(&format!("{{SHA}}{digest}")), Limits::default());
    for addr in fx.both() {
        assert_eq!(
            exchange(&addr, &rpc_request("1", &basic("user:thepassword")))
                .await
                .status,
            200
        );
        assert_eq!(
            exchange(
                &addr,
                &rpc_request("1", &basic(&format!("user:{{SHA}}{digest}")))
            )
            .await
            .status,
            401
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_requires_post_and_content_length_and_limits_the_body() {
    let limits = Limits {
        max_body_bytes: 100,
        ..Limits::default()
    };
    let fx = Fixture::new(None, limits);
    for addr in fx.both() {
        assert_eq!(exchange(&addr, &get("/RPC2", "")).await.status, 400);
        let chunked = b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        assert_eq!(exchange(&addr, chunked).await.status, 411);
        let no_length = b"POST /RPC2/foo HTTP/1.0\r\n\r\n";
        assert_eq!(exchange(&addr, no_length).await.status, 411);

        // Over the limit: 413 and the connection is closed even though keep-alive was possible.
        let big = "x".repeat(101);
        let req = format!("POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n{big}");
        let resp = exchange(&addr, req.as_bytes()).await;
        assert_eq!(resp.status, 413);
        assert_eq!(resp.header("connection"), Some("close"));
        let fits = "y".repeat(100);
        assert_eq!(exchange(&addr, &rpc_request(&fits, "")).await.status, 200);
    }
    assert!(
        fx.backend
            .logged("body of 101 bytes exceeds the limit of 100 bytes")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_serves_several_requests_and_http10_closes() {
    let fx = Fixture::new(None, Limits::default());
    let mut stream = connect(&fx.tcp).await;
    for i in 0..2 {
        let body = format!("n{i}");
        let req = format!(
            "POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(req.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        let expected = format!("echo:{body}");
        while !String::from_utf8_lossy(&raw).ends_with(&expected) {
            let mut buf = [0u8; 1024];
            let n = tokio::time::timeout(DEADLINE, stream.read(&mut buf))
                .await
                .unwrap()
                .unwrap();
            assert!(n > 0, "closed after request {i}");
            raw.extend_from_slice(&buf[..n]);
        }
    }
    // HTTP/1.0 without keep-alive: exchange() only returns once the server closed.
    let resp = exchange(
        &fx.unix,
        b"POST /RPC2 HTTP/1.0\r\nContent-Length: 1\r\n\r\nz",
    )
    .await;
    assert_eq!(resp.body, b"echo:z");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_are_cut_off_and_logged() {
    let limits = Limits {
        header_read_timeout: Duration::from_millis(300),
        first_request_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let fx = Fixture::new(None, limits);
    for addr in fx.both() {
        let mut stream = connect(&addr).await;
        stream
            .write_all(b"GET /ok.html HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        let started = Instant::now();
        let mut raw = Vec::new();
        tokio::time::timeout(DEADLINE, stream.read_to_end(&mut raw))
            .await
            .expect("closed in time")
            .ok();
        assert!(started.elapsed() >= Duration::from_millis(250));
        assert!(!String::from_utf8_lossy(&raw).contains("200 OK"));
    }
    let start = Instant::now();
    while !fx.backend.logged("request headers not received in time") {
        assert!(start.elapsed() < DEADLINE, "no timeout log line");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the server has closed `stream` (EOF or reset).
async fn closed_by_server(stream: &mut Box<dyn Stream>) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(DEADLINE, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
            Err(_) => return false,
        }
    }
}

/// Opens a connection that sends half a request head and stalls (a slowloris client).
async fn half_sent(addr: &Addr) -> Box<dyn Stream> {
    let mut s = connect(addr).await;
    s.write_all(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Ty")
        .await
        .unwrap();
    s
}

fn count_logged(fx: &Fixture, needle: &str) -> usize {
    fx.backend
        .lines
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .filter(|(_, l)| l.contains(needle))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_budget_closes_the_oldest_connection_that_has_not_logged_in() {
    let limits = Limits {
        max_connections: 3,
        ..Limits::default()
    };
    let fx = Fixture::new(creds("secret"), limits);
    // The TCP budget is filled by stalled clients.
    let mut stalled = Vec::new();
    for _ in 0..3 {
        stalled.push(half_sent(&fx.tcp).await);
    }
    let handle = fx.handle.as_ref().unwrap();
    let start = Instant::now();
    while handle.active_connections() < 3 {
        assert!(start.elapsed() < DEADLINE);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The unix socket has its own budget.
    let resp = exchange(&fx.unix, &rpc_request("x", &basic("user:secret"))).await;
    assert_eq!(resp.status, 200);
    // A new TCP client is admitted; the oldest stalled one is closed to make room (connections
    // younger than 1 s are spared: they may be real clients whose request is not read yet).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let resp = exchange(&fx.tcp, &rpc_request("y", &basic("user:secret"))).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, b"echo:y");
    assert!(closed_by_server(&mut stalled[0]).await, "oldest closed");
    // Again, once another stalled client has filled the budget.
    stalled.push(half_sent(&fx.tcp).await);
    let start = Instant::now();
    while handle.active_connections() < 3 {
        assert!(start.elapsed() < DEADLINE);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let resp = exchange(&fx.tcp, &rpc_request("z", &basic("user:secret"))).await;
    assert_eq!(resp.status, 200);
    let start = Instant::now();
    assert!(
        closed_by_server(&mut stalled[1]).await,
        "next oldest closed"
    );
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "closed to make room, not by the first-request deadline"
    );
    // Rate-limited: one line for the two evictions.
    assert_eq!(
        count_logged(&fx, "closed the oldest one that had not sent a request"),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_every_connection_has_logged_in_a_new_one_gets_503() {
    let limits = Limits {
        max_connections: 2,
        ..Limits::default()
    };
    let fx = Fixture::new(creds("secret"), limits);
    // Two kept-alive connections that have logged in hold the TCP budget.
    let mut kept = Vec::new();
    for _ in 0..2 {
        let mut s = connect(&fx.tcp).await;
        let body = "k";
        let req = format!(
            "POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n{}\r\n{body}",
            body.len(),
            basic("user:secret")
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut buf = [0u8; 1024];
        let n = tokio::time::timeout(DEADLINE, s.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200 OK"));
        kept.push(s);
    }
    let resp = exchange(&fx.tcp, &get("/ok.html", &basic("user:secret"))).await;
    assert_eq!(resp.status, 503);
    assert!(fx.backend.logged("refused connection from"));
    // The unix socket is not affected.
    let resp = exchange(&fx.unix, &get("/ok.html", &basic("user:secret"))).await;
    assert_eq!(resp.status, 200);
    // A failed login does not count as logged in: a wrong password is answered 401 and closed.
    drop(kept.pop());
    let start = Instant::now();
    loop {
        let resp = exchange(&fx.tcp, &get("/ok.html", &basic("user:secret"))).await;
        if resp.status == 200 {
            break;
        }
        assert!(start.elapsed() < DEADLINE, "slot never freed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_connections_are_closed_at_the_first_request_deadline_with_one_log_line() {
    let limits = Limits {
        first_request_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let fx = Fixture::new(None, limits);
    let mut stalled = Vec::new();
    for _ in 0..10 {
        stalled.push(half_sent(&fx.tcp).await);
    }
    let started = Instant::now();
    for s in &mut stalled {
        assert!(closed_by_server(s).await);
    }
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(250), "{took:?}");
    // The hyper header timeout (10 s) was not what closed them.
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(
        count_logged(&fx, "request headers not received in time"),
        1,
        "rate-limited"
    );
    // A kept-alive connection that completed a request is not cut at that deadline.
    let mut s = connect(&fx.tcp).await;
    s.write_all(b"GET /ok.html HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = s.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200 OK"));
    tokio::time::sleep(Duration::from_millis(600)).await;
    s.write_all(b"GET /ok.html HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let n = s.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200 OK"));
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logtail_streams_the_tail_then_follows_truncation_and_rotation() {
    let fx = Fixture::new(None, Limits::default());
    let log = fx.dir.join("foo.out");
    let head: String = (0..200).map(|i| format!("{i:09}\n")).collect(); // 2000 bytes
    std::fs::write(&log, &head).unwrap();
    let (resp, mut raw, mut stream) = open_stream(&fx.unix, &get("/logtail/foo", "")).await;
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.header("content-type"),
        Some("text/plain;charset=utf-8")
    );
    assert_eq!(resp.header("x-accel-buffering"), Some("no"));
    assert_eq!(resp.header("transfer-encoding"), Some("chunked"));
    assert!(
        resp.header("last-modified")
            .is_some_and(|v| v.ends_with(" GMT"))
    );
    let text = read_until(&mut stream, &mut raw, "000000199\n").await;
    assert_eq!(text, &head[head.len() - 1024..]);

    append(&log, "appended line\n");
    read_until(&mut stream, &mut raw, "appended line\n").await;

    std::fs::write(&log, "").unwrap();
    read_until(&mut stream, &mut raw, "==> File truncated <==\n").await;
    append(&log, "after truncate\n");
    read_until(&mut stream, &mut raw, "after truncate\n").await;

    std::fs::rename(&log, fx.dir.join("foo.out.1")).unwrap();
    std::fs::write(&log, "fresh file\n").unwrap();
    let text = read_until(&mut stream, &mut raw, "fresh file\n").await;
    assert!(text.ends_with("after truncate\nfresh file\n"), "{text:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logtail_routes_channels_names_and_errors() {
    let fx = Fixture::new(None, Limits::default());
    std::fs::write(fx.dir.join("grp_bar.err"), "err text\n").unwrap();
    std::fs::write(fx.dir.join("main.log"), "main text\n").unwrap();
    // supervisorctl's exact request: empty Host and an extra blank line after the headers.
    let quirky = b"GET /logtail/grp%3Abar/stderr HTTP/1.1\r\nHost: \r\nAccept-Encoding: chunked\r\nAccept: */*\r\nUser-agent: Supervisor HTTP Client\r\n\r\n\r\n";
    let (resp, mut raw, mut stream) = open_stream(&fx.unix, quirky).await;
    assert_eq!(resp.status, 200);
    read_until(&mut stream, &mut raw, "err text\n").await;

    let (resp, mut raw, mut stream) = open_stream(&fx.tcp, &get("/mainlogtail", "")).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("x-accel-buffering"), None);
    read_until(&mut stream, &mut raw, "main text\n").await;

    for path in [
        "/logtail/foo",
        "/logtail/grp:bar/stdout",
        "/logtail/grp:bar/other",
        "/logtail/nope",
        "/logtail",
    ] {
        assert_eq!(
            exchange(&fx.tcp, &get(path, "")).await.status,
            404,
            "{path}"
        );
    }
    let post = b"POST /logtail/grp:bar/stderr HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    assert_eq!(exchange(&fx.tcp, post).await.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_in_flight_requests_and_removes_the_socket() {
    let mut fx = Fixture::with_delay(None, Limits::default(), Duration::from_millis(300));
    std::fs::write(fx.dir.join("foo.out"), "x\n").unwrap();
    let (_, mut raw, mut tail) = open_stream(&fx.unix, &get("/logtail/foo", "")).await;
    read_until(&mut tail, &mut raw, "x\n").await;
    let unix = fx.unix.clone();
    let in_flight =
        tokio::spawn(async move { exchange(&unix, &rpc_request("last words", "")).await });
    let start = Instant::now();
    while fx.handle.as_ref().unwrap().active_connections() < 2 {
        assert!(start.elapsed() < DEADLINE);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    fx.handle.take().unwrap().shutdown(DEADLINE).await;
    let resp = in_flight.await.unwrap();
    assert_eq!(resp.body, b"echo:last words");
    assert!(!fx.socket.exists());
    // The tail stream ended instead of holding shutdown up.
    let mut rest = Vec::new();
    tokio::time::timeout(DEADLINE, tail.read_to_end(&mut rest))
        .await
        .expect("tail closed")
        .ok();
    assert!(
        tokio::net::TcpStream::connect(match &fx.tcp {
            Addr::Tcp(a) => *a,
            Addr::Unix(_) => unreachable!(),
        })
        .await
        .is_err()
    );
}

fn unix_config(path: &Path, chmod: u32) -> ServerConfig {
    ServerConfig {
        kind: ListenerKind::Unix {
            path: path.to_path_buf(),
            chmod,
            chown: None,
        },
        name: "unix_http_server".into(),
        auth: None,
    }
}

#[test]
fn socket_file_gets_the_configured_mode_and_no_temp_file_remains() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sock");
    let bound = bind(unix_config(&path, 0o660)).expect("bind");
    let meta = std::fs::metadata(&path).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o660);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "temp socket left behind"
    );
    drop(bound);
}

#[test]
fn stale_socket_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sock");
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap()); // leaves a dead socket file
    let bound = bind(unix_config(&path, 0o700)).expect("stale socket replaced");
    // The new socket is live: a client can connect.
    std::os::unix::net::UnixStream::connect(&path).expect("connect to new socket");
    drop(bound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_socket_and_busy_port_are_refused() {
    let fx = Fixture::new(None, Limits::default());
    let err = bind(unix_config(&fx.socket, 0o700)).expect_err("live socket must be refused");
    assert!(matches!(err, BindError::AddrInUse { .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "Another program is already listening on a port that one of our HTTP servers is configured \
             to use: [unix_http_server] socket {} is in use (a server answers on it). Shut this program \
             down first before starting procd.",
            fx.socket.display()
        )
    );
    // The live server is untouched.
    assert_eq!(exchange(&fx.unix, &get("/ok.html", "")).await.status, 200);
    let Addr::Tcp(addr) = fx.tcp else {
        unreachable!()
    };
    let err = bind(ServerConfig {
        kind: ListenerKind::Tcp {
            host: "127.0.0.1".into(),
            port: addr.port(),
        },
        name: "inet_http_server".into(),
        auth: None,
    })
    .expect_err("busy port");
    assert_eq!(
        err.to_string(),
        format!(
            "Another program is already listening on a port that one of our HTTP servers is configured \
             to use: [inet_http_server] port 127.0.0.1:{} is in use (EADDRINUSE). Shut this program \
             down first before starting procd.",
            addr.port()
        )
    );
}

#[test]
fn bind_errors_name_the_errno() {
    let err = bind(unix_config(Path::new("/nonexistent-dir/s.sock"), 0o700)).expect_err("no dir");
    assert_eq!(
        err.to_string(),
        "Cannot open an HTTP server: [unix_http_server] socket /nonexistent-dir/s.sock: \
         No such file or directory (ENOENT): the directory /nonexistent-dir does not exist"
    );
}

/// Backend answering every RPC with `"3.0"` (what `supervisor.getVersion` returns), enough for
/// supervisorctl's `upcheck` before `tail -f`.
struct VersionBackend(PathBuf);

impl Backend for VersionBackend {
    fn rpc(&self, _body: Bytes) -> BoxFuture<Result<Bytes, RpcFailure>> {
        Box::pin(async {
            Ok(Bytes::from_static(
                b"<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><string>3.0</string></value>\n</param>\n</params>\n</methodResponse>\n",
            ))
        })
    }
    fn logtail_path(&self, namespec: &str, _channel: LogChannel) -> Option<PathBuf> {
        (namespec == "foo").then(|| self.0.join("foo.log"))
    }
    fn mainlog_path(&self) -> Option<PathBuf> {
        None
    }
    fn log(&self, _level: LogLevel, _text: String) {}
}

/// The real supervisorctl 4.3.0 (`tail -f` uses its own raw HTTP client) against our server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
async fn real_supervisorctl_tail_f_works_over_unix_and_tcp_with_auth() {
    let ctl = procd_testkit::bins::supervisorctl();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("foo.log"), "first line\n").unwrap();
    let socket = dir.path().join("s.sock");
    let auth = creds("secret");
    let unix = bind(ServerConfig {
        kind: ListenerKind::Unix {
            path: socket.clone(),
            chmod: 0o700,
            chown: None,
        },
        name: "unix_http_server".into(),
        auth: auth.clone(),
    })
    .unwrap();
    let tcp = bind(ServerConfig {
        kind: ListenerKind::Tcp {
            host: "127.0.0.1".into(),
            port: 0,
        },
        name: "inet_http_server".into(),
        auth,
    })
    .unwrap();
    let port = tcp.tcp_addr().unwrap().port();
    let handle = serve(
        vec![unix, tcp],
        Arc::new(VersionBackend(dir.path().to_path_buf())),
        Limits::default(),
    )
    .unwrap();
    for url in [
        format!("unix://{}", socket.display()),
        format!("http://127.0.0.1:{port}"),
    ] {
        let mut child = std::process::Command::new(&ctl)
            .args([
                "-s", &url, "-u", "user", "-p", "secret", "tail", "-f", "foo",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("run supervisorctl");
        let mut out = child.stdout.take().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 1024];
            while let Ok(n @ 1..) = std::io::Read::read(&mut out, &mut buf) {
                sink.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .extend_from_slice(&buf[..n]);
            }
        });
        let wait_for = async |needle: &str| {
            let start = Instant::now();
            loop {
                let text = String::from_utf8_lossy(
                    &seen
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner),
                )
                .into_owned();
                if text.contains(needle) {
                    return;
                }
                assert!(
                    start.elapsed() < DEADLINE,
                    "supervisorctl never printed {needle:?}: {text:?}"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        wait_for("first line\n").await;
        append(&dir.path().join("foo.log"), "second line\n");
        wait_for("second line\n").await;
        child.kill().unwrap();
        child.wait().unwrap();
        reader.join().unwrap();
    }
    handle.shutdown(DEADLINE).await;
}
