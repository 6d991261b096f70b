//! HTTP/1.1 transport to supervisord over a unix socket or TCP: XML-RPC POSTs on one kept-alive connection,
//! and streaming GETs (`/logtail/...`, `/mainlogtail`) on connections of their own.

use std::io;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpStream, UnixStream};
use tokio::sync::Mutex;

use crate::error::ClientError;
use crate::url::ServerUrl;

/// Path every XML-RPC request is posted to.
pub const RPC_PATH: &str = "/RPC2";

/// One server endpoint plus credentials; keeps one idle connection for reuse.
#[derive(Debug)]
pub struct Transport {
    url: ServerUrl,
    url_text: String,
    authorization: Option<String>,
    idle: Mutex<Option<SendRequest<Full<Bytes>>>>,
}

/// Builds the `Authorization: Basic` value for a user and password.
pub fn basic_auth(username: &str, password: &str) -> String {
    let raw = format!("{username}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

impl Transport {
    /// `url_text` is kept verbatim for error messages (`<url> refused connection`).
    pub fn new(
        url: ServerUrl,
        url_text: impl Into<String>,
        credentials: Option<(&str, &str)>,
    ) -> Self {
        Transport {
            url,
            url_text: url_text.into(),
            authorization: credentials.map(|(u, p)| basic_auth(u, p)),
            idle: Mutex::new(None),
        }
    }

    /// The parsed server URL.
    pub fn url(&self) -> &ServerUrl {
        &self.url
    }

    /// The server URL as given (used in messages such as `... refused connection`).
    pub fn url_text(&self) -> &str {
        &self.url_text
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, ClientError> {
        let map = |e: io::Error| ClientError::from_connect(&self.url_text, e);
        let sender = match &self.url {
            ServerUrl::Unix(path) => {
                let stream = UnixStream::connect(path).await.map_err(map)?;
                handshake(stream).await?
            }
            ServerUrl::Http { host, port, .. } => {
                let stream = TcpStream::connect((host.as_str(), *port))
                    .await
                    .map_err(map)?;
                let _ = stream.set_nodelay(true);
                handshake(stream).await?
            }
        };
        Ok(sender)
    }

    fn request(
        &self,
        method: &str,
        path: &str,
        body: Bytes,
    ) -> Result<Request<Full<Bytes>>, ClientError> {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, self.url.host_header())
            .header(
                header::USER_AGENT,
                concat!("procctl/", env!("CARGO_PKG_VERSION")),
            );
        if method == "POST" {
            builder = builder
                .header(header::CONTENT_TYPE, "text/xml")
                .header(header::ACCEPT, "text/xml")
                .header(header::CONTENT_LENGTH, body.len());
        } else {
            builder = builder.header(header::ACCEPT, "*/*");
        }
        if let Some(auth) = &self.authorization {
            builder = builder.header(header::AUTHORIZATION, auth);
        }
        builder
            .body(Full::new(body))
            .map_err(|e| ClientError::Protocol(e.to_string()))
    }

    /// POSTs an XML-RPC request body to `/RPC2` and returns the response body of a 200 answer.
    pub async fn post(&self, body: Vec<u8>) -> Result<Bytes, ClientError> {
        let body = Bytes::from(body);
        // A connection the server has visibly closed meanwhile is not worth trying.
        let reused = self.idle.lock().await.take().filter(|s| !s.is_closed());
        let was_reused = reused.is_some();
        let mut sender = match reused {
            Some(s) => s,
            None => self.connect().await?,
        };
        let response = match send(&mut sender, self.request("POST", RPC_PATH, body.clone())?).await
        {
            Ok(r) => r,
            // A kept-alive connection the server closed while it was idle: resend once on a fresh one.
            Err(e) if was_reused && is_stale(&e) => {
                sender = self.connect().await?;
                send(&mut sender, self.request("POST", RPC_PATH, body)?)
                    .await
                    .map_err(ClientError::Http)?
            }
            Err(e) => return Err(ClientError::Http(e)),
        };
        let status = response.status();
        let keep = keep_alive(&response);
        let data = response
            .into_body()
            .collect()
            .await
            .map_err(ClientError::Http)?
            .to_bytes();
        if status != StatusCode::OK {
            return Err(ClientError::Status {
                status: status.as_u16(),
                reason: status.canonical_reason().unwrap_or("").to_string(),
            });
        }
        if keep && !sender.is_closed() {
            *self.idle.lock().await = Some(sender);
        }
        Ok(data)
    }

    /// Opens a streaming GET (e.g. `/logtail/foo/stdout`) on a dedicated connection.
    pub async fn get_stream(&self, path: &str) -> Result<ByteStream, ClientError> {
        let mut sender = self.connect().await?;
        let response = send(&mut sender, self.request("GET", path, Bytes::new())?)
            .await
            .map_err(ClientError::Http)?;
        let status = response.status();
        if status != StatusCode::OK {
            return Err(ClientError::Status {
                status: status.as_u16(),
                reason: status.canonical_reason().unwrap_or("").to_string(),
            });
        }
        Ok(ByteStream {
            body: response.into_body(),
            _sender: sender,
        })
    }
}

async fn handshake<S>(stream: S) -> Result<SendRequest<Full<Bytes>>, ClientError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(ClientError::Http)?;
    tokio::spawn(async move {
        // Errors surface through the request future; the driver just ends.
        let _ = conn.await;
    });
    Ok(sender)
}

async fn send(
    sender: &mut SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> Result<Response<Incoming>, hyper::Error> {
    sender.ready().await?;
    sender.send_request(request).await
}

/// Whether a request on a reused connection failed because the server had already closed that
/// connection, so it never received the request and resending it on a fresh connection is safe.
///
/// procd (10 s) and many proxies close idle kept-alive connections. When the client's runtime was busy
/// elsewhere (the shell waiting for the next line), the connection's driver has not yet seen the close:
/// over a unix socket the next write then fails with `EPIPE`, over TCP the reply is missing
/// (`ECONNRESET` or end of stream before any response byte). Python's `xmlrpc.client` (which
/// supervisorctl uses) resends exactly in these cases, once.
fn is_stale(e: &hyper::Error) -> bool {
    if e.is_closed() || e.is_canceled() || e.is_incomplete_message() {
        return true;
    }
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<io::Error>() {
            return matches!(
                io.kind(),
                io::ErrorKind::BrokenPipe
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::NotConnected
            );
        }
        source = err.source();
    }
    false
}

fn keep_alive<B>(response: &Response<B>) -> bool {
    let close = response
        .headers()
        .get(header::CONNECTION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("close"));
    !close && response.version() == hyper::Version::HTTP_11
}

/// A response body read chunk by chunk as it arrives (chunked or sized).
#[derive(Debug)]
pub struct ByteStream {
    body: Incoming,
    _sender: SendRequest<Full<Bytes>>,
}

impl ByteStream {
    /// The next data chunk; `None` when the server ended the body.
    pub async fn next_chunk(&mut self) -> Option<Result<Bytes, ClientError>> {
        loop {
            match self.body.frame().await? {
                Ok(frame) => {
                    if let Ok(data) = frame.into_data()
                        && !data.is_empty()
                    {
                        return Some(Ok(data));
                    }
                }
                Err(e) => return Some(Err(ClientError::Http(e))),
            }
        }
    }
}
