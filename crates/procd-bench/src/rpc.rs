//! A small blocking XML-RPC client over HTTP/1.1 with keep-alive, on plain std sockets.
//!
//! One [`Client`] holds one connection (unix socket or TCP) and reuses it across calls; a connection the
//! server closed while idle is replaced transparently. Bodies are encoded and decoded by
//! `procd-protocol`. Responses may use `Content-Length`, chunked transfer coding, or close-delimited
//! bodies (supervisord's HTTP server can send any of them).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use procd_protocol::{Fault, MethodCall, Value, decode_response, encode_call};

/// Where the daemon listens.
#[derive(Debug, Clone)]
pub(crate) enum Endpoint {
    Unix(PathBuf),
    Tcp(SocketAddr),
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum RpcError {
    #[error("fault {}: {}", .0.code, .0.string)]
    Fault(Fault),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The read or write timeout passed: a blocking socket then reports EAGAIN ("Resource temporarily
    /// unavailable"), which is the daemon being slow, not a client or socket problem.
    #[error("no reply within {0:?}")]
    Timeout(Duration),
    #[error("bad HTTP response: {0}")]
    Http(String),
    #[error("bad XML-RPC response: {0}")]
    Decode(#[from] procd_protocol::DecodeError),
}

trait Stream: Read + Write + Send {
    fn set_timeout(&self, t: Duration) -> std::io::Result<()>;
}

impl Stream for UnixStream {
    fn set_timeout(&self, t: Duration) -> std::io::Result<()> {
        self.set_read_timeout(Some(t))?;
        self.set_write_timeout(Some(t))
    }
}

impl Stream for TcpStream {
    fn set_timeout(&self, t: Duration) -> std::io::Result<()> {
        self.set_read_timeout(Some(t))?;
        self.set_write_timeout(Some(t))
    }
}

/// A keep-alive XML-RPC client.
pub(crate) struct Client {
    endpoint: Endpoint,
    conn: Option<BufReader<Box<dyn Stream>>>,
    timeout: Duration,
    timeout_applied: bool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

impl Client {
    pub(crate) fn new(endpoint: Endpoint) -> Self {
        Client {
            endpoint,
            conn: None,
            timeout: Duration::from_secs(30),
            timeout_applied: false,
        }
    }

    /// Read/write timeout for each later call (a call blocked longer fails with an i/o error).
    pub(crate) fn set_timeout(&mut self, timeout: Duration) {
        if timeout != self.timeout {
            self.timeout = timeout.max(Duration::from_millis(1));
            self.timeout_applied = false;
        }
    }

    fn connect(&self) -> std::io::Result<Box<dyn Stream>> {
        Ok(match &self.endpoint {
            Endpoint::Unix(path) => Box::new(UnixStream::connect(path)?),
            Endpoint::Tcp(addr) => {
                let s = TcpStream::connect_timeout(addr, self.timeout)?;
                s.set_nodelay(true)?;
                Box::new(s)
            }
        })
    }

    /// Calls `method` and returns its value, or the fault the daemon answered with.
    pub(crate) fn call(&mut self, method: &str, params: Vec<Value>) -> Result<Value, RpcError> {
        let body = self.call_raw(method, params)?;
        decode_response(&body)?.map_err(RpcError::Fault)
    }

    /// Calls `method` and returns the raw response body after a cheap check that it is a complete,
    /// non-fault `methodResponse`; for throughput loops where full decoding would make the client the
    /// bottleneck.
    pub(crate) fn call_unchecked(
        &mut self,
        method: &str,
        params: Vec<Value>,
    ) -> Result<usize, RpcError> {
        let body = self.call_raw(method, params)?;
        let head = String::from_utf8_lossy(&body[..body.len().min(256)]).into_owned();
        let tail = &body[body.len().saturating_sub(64)..];
        if head.contains("<fault>") {
            // Decode it to report the fault itself.
            decode_response(&body)?.map_err(RpcError::Fault)?;
        }
        if !head.contains("<methodResponse>")
            || !String::from_utf8_lossy(tail).contains("</methodResponse>")
        {
            return Err(RpcError::Http(
                "body is not a complete methodResponse".into(),
            ));
        }
        Ok(body.len())
    }

    /// `GET path` on the same connection; the body of a 200 answer (any other status is an error).
    pub(crate) fn get(&mut self, path: &str) -> Result<Vec<u8>, RpcError> {
        let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").into_bytes();
        self.send(&request)
    }

    fn call_raw(&mut self, method: &str, params: Vec<Value>) -> Result<Vec<u8>, RpcError> {
        let body = encode_call(&MethodCall::new(method, params));
        let mut request = format!(
            "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(&body);
        self.send(&request)
    }

    fn send(&mut self, request: &[u8]) -> Result<Vec<u8>, RpcError> {
        let reused = self.conn.is_some();
        match self.exchange(request) {
            Ok(body) => Ok(body),
            // An idle keep-alive connection the server has closed: nothing was answered, retry once.
            Err(Exchange::BeforeResponse(_)) if reused => {
                self.conn = None;
                match self.exchange(request) {
                    Ok(body) => Ok(body),
                    Err(Exchange::BeforeResponse(e) | Exchange::During(e)) => Err(e),
                }
            }
            Err(Exchange::BeforeResponse(e) | Exchange::During(e)) => Err(e),
        }
    }

    fn exchange(&mut self, request: &[u8]) -> Result<Vec<u8>, Exchange> {
        if self.conn.is_none() {
            let stream = self
                .connect()
                .map_err(|e| Exchange::BeforeResponse(e.into()))?;
            self.conn = Some(BufReader::with_capacity(64 * 1024, stream));
            self.timeout_applied = false;
        }
        let Some(conn) = self.conn.as_mut() else {
            return Err(Exchange::BeforeResponse(RpcError::Http(
                "no connection".into(),
            )));
        };
        if !self.timeout_applied {
            conn.get_ref()
                .set_timeout(self.timeout)
                .map_err(|e| Exchange::BeforeResponse(e.into()))?;
            self.timeout_applied = true;
        }
        let sent = conn
            .get_mut()
            .write_all(request)
            .and_then(|()| conn.get_mut().flush());
        if let Err(e) = sent {
            self.conn = None;
            return Err(Exchange::BeforeResponse(e.into()));
        }
        let mut status = String::new();
        match conn.read_line(&mut status) {
            Ok(0) => {
                self.conn = None;
                return Err(Exchange::BeforeResponse(RpcError::Http(
                    "connection closed".into(),
                )));
            }
            Ok(_) => {}
            Err(e) => {
                self.conn = None;
                // A timeout means the server may still be working on the call: never resend it.
                return Err(if is_timeout(&e) {
                    Exchange::During(RpcError::Timeout(self.timeout))
                } else {
                    Exchange::BeforeResponse(e.into())
                });
            }
        }
        match read_response(conn, &status) {
            Ok((body, keep)) => {
                if !keep {
                    self.conn = None;
                }
                Ok(body)
            }
            Err(RpcError::Io(e)) if is_timeout(&e) => {
                self.conn = None;
                Err(Exchange::During(RpcError::Timeout(self.timeout)))
            }
            Err(e) => {
                self.conn = None;
                Err(Exchange::During(e))
            }
        }
    }
}

/// A socket timeout (`SO_RCVTIMEO`/`SO_SNDTIMEO`): Linux reports it as EAGAIN on a blocking socket.
fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

enum Exchange {
    BeforeResponse(RpcError),
    During(RpcError),
}

/// Reads headers and body after the status line; returns the body and whether the connection stays open.
fn read_response(conn: &mut impl BufRead, status: &str) -> Result<(Vec<u8>, bool), RpcError> {
    let mut parts = status.split_whitespace();
    let version = parts.next().unwrap_or("");
    let code = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/") {
        return Err(RpcError::Http(format!("status line {status:?}")));
    }
    let mut keep = version == "HTTP/1.1";
    let mut length: Option<usize> = None;
    let mut chunked = false;
    loop {
        let mut line = String::new();
        if conn.read_line(&mut line)? == 0 {
            return Err(RpcError::Http("headers cut short".into()));
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => {
                length = Some(
                    value
                        .parse()
                        .map_err(|_| RpcError::Http(format!("length {value:?}")))?,
                );
            }
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            "connection" => keep = value.eq_ignore_ascii_case("keep-alive"),
            _ => {}
        }
    }
    let body = if chunked {
        read_chunked(conn)?
    } else if let Some(n) = length {
        let mut body = vec![0; n];
        conn.read_exact(&mut body)?;
        body
    } else {
        keep = false;
        let mut body = Vec::new();
        conn.read_to_end(&mut body)?;
        body
    };
    if code != "200" {
        let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        return Err(RpcError::Http(format!("status {code}: {text}")));
    }
    Ok((body, keep))
}

fn read_chunked(conn: &mut impl BufRead) -> Result<Vec<u8>, RpcError> {
    let mut body = Vec::new();
    loop {
        let mut line = String::new();
        if conn.read_line(&mut line)? == 0 {
            return Err(RpcError::Http("chunk cut short".into()));
        }
        let size_text = line.trim().split(';').next().unwrap_or("");
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| RpcError::Http(format!("chunk size {size_text:?}")))?;
        if size == 0 {
            // Trailers, up to the blank line.
            loop {
                let mut t = String::new();
                if conn.read_line(&mut t)? == 0 || t.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        let start = body.len();
        body.resize(start + size, 0);
        conn.read_exact(&mut body[start..])?;
        let mut crlf = [0u8; 2];
        conn.read_exact(&mut crlf)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<(Vec<u8>, bool), RpcError> {
        let mut r = BufReader::new(raw.as_bytes());
        let mut status = String::new();
        r.read_line(&mut status).expect("status");
        read_response(&mut r, &status)
    }

    /// A one-connection-at-a-time server: answers `n_per_conn` requests per connection, then closes it.
    fn serve(listener: std::os::unix::net::UnixListener, n_per_conn: usize, total: usize) {
        std::thread::spawn(move || {
            let mut served = 0;
            while served < total {
                let Ok((stream, _)) = listener.accept() else {
                    return;
                };
                let mut r = BufReader::new(stream);
                for _ in 0..n_per_conn {
                    let mut len = 0;
                    loop {
                        let mut line = String::new();
                        if r.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let mut body = vec![0; len];
                    if r.read_exact(&mut body).is_err() {
                        return;
                    }
                    let reply = procd_protocol::encode_response(&Value::Int(served as i32));
                    let head =
                        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", reply.len());
                    let s = r.get_mut();
                    if s.write_all(head.as_bytes())
                        .and_then(|()| s.write_all(&reply))
                        .is_err()
                    {
                        return;
                    }
                    served += 1;
                }
            }
        });
    }

    #[test]
    fn keeps_connection_and_reconnects_after_server_close() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s");
        let listener = std::os::unix::net::UnixListener::bind(&path).expect("bind");
        // Two requests per connection: the third call finds its kept connection closed and retries.
        serve(listener, 2, 5);
        let mut c = Client::new(Endpoint::Unix(path));
        c.set_timeout(Duration::from_secs(5));
        let got: Vec<i32> = (0..5)
            .map(|_| {
                c.call("supervisor.getState", vec![])
                    .expect("call")
                    .as_int()
                    .expect("int")
            })
            .collect();
        assert_eq!(got, [0, 1, 2, 3, 4]);
    }

    /// A server that accepts and never answers: the call ends with `Timeout`, not a bare EAGAIN.
    #[test]
    fn a_slow_server_is_a_timeout() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s");
        let listener = std::os::unix::net::UnixListener::bind(&path).expect("bind");
        let mut c = Client::new(Endpoint::Unix(path));
        c.set_timeout(Duration::from_millis(50));
        let err = c.call("supervisor.getState", vec![]).expect_err("no reply");
        assert!(
            matches!(err, RpcError::Timeout(t) if t == Duration::from_millis(50)),
            "{err:?}"
        );
        assert_eq!(err.to_string(), "no reply within 50ms");
        drop(listener);
    }

    #[test]
    fn get_returns_the_body() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s");
        let listener = std::os::unix::net::UnixListener::bind(&path).expect("bind");
        std::thread::spawn(move || {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let mut r = BufReader::new(stream);
            let mut first = String::new();
            let _ = r.read_line(&mut first);
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let body = if first.starts_with("GET /readyz ") {
                "ready"
            } else {
                "?"
            };
            let _ = write!(
                r.get_mut(),
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
        });
        let mut c = Client::new(Endpoint::Unix(path));
        c.set_timeout(Duration::from_secs(5));
        assert_eq!(c.get("/readyz").expect("get"), b"ready");
    }

    #[test]
    fn response_framings() {
        let (b, keep) =
            parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA").expect("len");
        assert_eq!((b.as_slice(), keep), (&b"hello"[..], true));
        let (b, keep) = parse(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
        )
        .expect("chunked");
        assert_eq!((b.as_slice(), keep), (&b"abcde"[..], true));
        let (b, keep) = parse("HTTP/1.0 200 OK\r\n\r\nuntil eof").expect("eof");
        assert_eq!((b.as_slice(), keep), (&b"until eof"[..], false));
        let (_, keep) = parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
            .expect("close");
        assert!(!keep);
        assert!(parse("HTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\n\r\nno").is_err());
        assert!(parse("garbage\r\n\r\n").is_err());
        assert!(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err());
    }
}
