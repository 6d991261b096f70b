//! A tiny blocking HTTP client and XML-RPC over it, on a unix socket or a TCP port.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use procd_protocol::{Fault, MethodCall, Value, decode_response, encode_call};

/// Where a daemon listens.
#[derive(Debug, Clone)]
pub enum Endpoint {
    /// A unix socket path.
    Unix(PathBuf),
    /// A TCP port on 127.0.0.1.
    Tcp(u16),
}

/// An HTTP reply read by [`http_request`].
#[derive(Debug)]
pub struct HttpReply {
    /// The status code.
    pub status: u16,
    /// The status line and headers, as sent.
    pub headers: String,
    /// The body (de-chunked when the reply was chunked).
    pub body: Vec<u8>,
}

/// Sends one raw HTTP request (the caller asks for `Connection: close`) and reads the whole reply.
/// `None` on an I/O error or a reply without a header end.
pub fn http_request(ep: &Endpoint, request: &[u8], timeout: Duration) -> Option<HttpReply> {
    fn go<S: Read + Write>(mut s: S, request: &[u8]) -> Option<Vec<u8>> {
        s.write_all(request).ok()?;
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        Some(out)
    }
    let raw = match ep {
        Endpoint::Unix(p) => {
            let s = UnixStream::connect(p).ok()?;
            s.set_read_timeout(Some(timeout)).ok()?;
            s.set_write_timeout(Some(timeout)).ok()?;
            go(s, request)?
        }
        Endpoint::Tcp(port) => {
            let s = TcpStream::connect(("127.0.0.1", *port)).ok()?;
            s.set_read_timeout(Some(timeout)).ok()?;
            s.set_write_timeout(Some(timeout)).ok()?;
            go(s, request)?
        }
    };
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Some(HttpReply {
        status,
        headers: head,
        body,
    })
}

/// Builds an HTTP/1.0 request (`Connection: close`) with an optional basic-auth header; a POST gets
/// `Content-Type: text/xml` and its length.
pub fn build_request(method: &str, path: &str, auth: Option<(&str, &str)>, body: &[u8]) -> Vec<u8> {
    let mut req = format!("{method} {path} HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n");
    if let Some((u, p)) = auth {
        let _ = write!(
            req,
            "Authorization: Basic {}\r\n",
            STANDARD.encode(format!("{u}:{p}"))
        );
    }
    if method == "POST" {
        let _ = write!(
            req,
            "Content-Type: text/xml\r\nContent-Length: {}\r\n",
            body.len()
        );
    }
    req.push_str("\r\n");
    let mut out = req.into_bytes();
    out.extend_from_slice(body);
    out
}

/// One XML-RPC call over `ep`. `Err(status)` when the HTTP status is not 200, `Err(0)` when there is
/// no readable reply.
pub fn xmlrpc(
    ep: &Endpoint,
    auth: Option<(&str, &str)>,
    method: &str,
    params: Vec<Value>,
) -> Result<Result<Value, Fault>, u16> {
    let body = encode_call(&MethodCall::new(method, params));
    let req = build_request("POST", "/RPC2", auth, &body);
    let reply = http_request(ep, &req, Duration::from_secs(60)).ok_or(0u16)?;
    if reply.status != 200 {
        return Err(reply.status);
    }
    decode_response(&reply.body).map_err(|_| 0u16)
}

/// One XML-RPC call over a unix socket without credentials; an I/O error when the daemon does not
/// answer or the reply cannot be read.
pub fn rpc(sock: &Path, method: &str, params: Vec<Value>) -> std::io::Result<Result<Value, Fault>> {
    match xmlrpc(&Endpoint::Unix(sock.to_path_buf()), None, method, params) {
        Ok(r) => Ok(r),
        Err(0) => Err(std::io::Error::other(format!(
            "no XML-RPC reply on {}",
            sock.display()
        ))),
        Err(status) => Err(std::io::Error::other(format!("HTTP status {status}"))),
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..pos]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = pos + 2;
        let end = (start + size).min(data.len());
        out.extend_from_slice(&data[start..end]);
        data = data.get(end + 2..).unwrap_or(&[]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_header_and_chunked_bodies() {
        let req = build_request("GET", "/", Some(("user", "123")), b"");
        assert!(String::from_utf8_lossy(&req).contains("Authorization: Basic dXNlcjoxMjM=\r\n"));
        assert_eq!(dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), b"abcde");
    }
}
