//! Building responses: body type, medusa-style error pages, common headers.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::header::{CONNECTION, CONTENT_TYPE, HeaderValue, SERVER};
use hyper::{Response, StatusCode};

/// Body of every response: a full buffer or a log-tail stream.
pub(crate) type RespBody = BoxBody<Bytes, Infallible>;

/// Value of the `Server:` header.
pub(crate) const SERVER_NAME: &str = concat!("procd/", env!("CARGO_PKG_VERSION"));

pub(crate) fn full(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<RespBody> {
    let mut resp = Response::new(Full::new(body.into()).boxed());
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// supervisord's (medusa's) HTML error page for `status`.
pub(crate) fn error_page(status: StatusCode) -> Response<RespBody> {
    let body = format!(
        "<head>\r\n<title>Error response</title>\r\n</head>\r\n<body>\r\n<h1>Error response</h1>\r\n\
         <p>Error code {}.\r\n<p>Message: {}.\r\n</body>\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Unknown")
    );
    full(status, "text/html", body)
}

/// Same as [`error_page`], and the connection is closed after the response.
pub(crate) fn error_page_close(status: StatusCode) -> Response<RespBody> {
    let mut resp = error_page(status);
    resp.headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// Adds the headers every response carries.
pub(crate) fn finish(mut resp: Response<RespBody>) -> Response<RespBody> {
    resp.headers_mut()
        .insert(SERVER, HeaderValue::from_static(SERVER_NAME));
    resp
}

/// An HTTP date (`Wed, 26 Nov 2025 11:42:00 GMT`) for `Last-Modified`.
pub(crate) fn http_date(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .unwrap_or_default()
}

/// Keeps `Infallible` in scope for callers building custom bodies.
pub(crate) type Never = Infallible;

/// A streaming body fed by a task through a channel (log tails, server-sent events); it ends when the
/// task drops its sender.
pub(crate) struct ChannelBody {
    pub(crate) rx: tokio::sync::mpsc::Receiver<Bytes>,
}

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = Never;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Never>>> {
        self.rx
            .poll_recv(cx)
            .map(|chunk| chunk.map(|b| Ok(hyper::body::Frame::data(b))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_are_rfc1123_gmt() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(1_764_157_320), "Wed, 26 Nov 2025 11:42:00 GMT");
    }
}
