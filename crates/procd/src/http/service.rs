//! Per-request handling: auth, limits, routing to RPC / log tails / health / web-UI hook.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{
    AUTHORIZATION, CONTENT_LENGTH, HOST, HeaderName, HeaderValue, LAST_MODIFIED, ORIGIN,
    WWW_AUTHENTICATE,
};
use hyper::{Method, Request, Response, StatusCode};
use tokio::sync::watch;

use super::auth::{AuthResult, check};
use super::config::{Credentials, Limits};
use super::response::{RespBody, error_page, error_page_close, finish, full, http_date};
use super::{Backend, LogChannel, LogLevel, RpcFailure, UiBody, UiRequest, sse, tail};

/// What every request of one connection shares.
pub(crate) struct ConnCtx {
    pub(crate) server: String,
    pub(crate) auth: Option<Credentials>,
    pub(crate) peer: String,
    pub(crate) limits: Limits,
    pub(crate) backend: Arc<dyn Backend>,
    pub(crate) stop: watch::Receiver<bool>,
    /// Requests answered on this connection (to tell idle keep-alive expiry from slow headers).
    pub(crate) requests: AtomicU64,
    /// No request has yet completed its headers (and passed auth, where the server has some): such
    /// a connection is closed first when the server's connection budget is full.
    pub(crate) pending: Arc<AtomicBool>,
}

/// Handles one request; never fails (errors become HTTP error pages).
pub(crate) async fn handle(
    ctx: Arc<ConnCtx>,
    req: Request<Incoming>,
) -> Result<Response<RespBody>, std::convert::Infallible> {
    let line = format!("\"{} {} {:?}\"", req.method(), req.uri(), req.version());
    let resp = finish(route(&ctx, req).await);
    ctx.requests.fetch_add(1, Ordering::Relaxed);
    ctx.backend.log(
        LogLevel::Trace,
        format!(
            "{}: {} {} {}",
            ctx.server,
            ctx.peer,
            line,
            resp.status().as_u16()
        ),
    );
    Ok(resp)
}

async fn route(ctx: &ConnCtx, req: Request<Incoming>) -> Response<RespBody> {
    let probe = super::probe::Probe::from_path(req.uri().path());
    let exempt = probe.is_some() && ctx.auth.as_ref().is_some_and(|a| !a.health_auth);
    if let Some(expected) = ctx.auth.as_ref().filter(|_| !exempt) {
        match check(
            expected,
            req.headers().get(AUTHORIZATION).map(HeaderValue::as_bytes),
        ) {
            AuthResult::Allowed => ctx.pending.store(false, Ordering::SeqCst),
            AuthResult::Malformed => return error_page(StatusCode::BAD_REQUEST),
            AuthResult::Denied => {
                let mut resp = error_page_close(StatusCode::UNAUTHORIZED);
                resp.headers_mut().insert(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"default\""),
                );
                return resp;
            }
        }
    }
    if ctx.auth.is_none() {
        ctx.pending.store(false, Ordering::SeqCst);
    }
    if let Some(probe) = probe {
        return super::probe::answer(ctx, &req, probe).await;
    }
    let raw_path = req.uri().path().split(';').next().unwrap_or("").to_string();
    if raw_path.starts_with("/RPC2") {
        return rpc(ctx, req).await;
    }
    if raw_path.starts_with("/logtail") {
        if req.method() != Method::GET {
            return error_page(StatusCode::BAD_REQUEST);
        }
        return match logtail_target(ctx, &unquote(&raw_path)) {
            Some(path) => tail_response(ctx, path, true, ctx.backend.child_logs_replaced()),
            None => error_page(StatusCode::NOT_FOUND),
        };
    }
    if raw_path.starts_with("/mainlogtail") {
        if req.method() != Method::GET {
            return error_page(StatusCode::BAD_REQUEST);
        }
        return match ctx.backend.mainlog_path() {
            Some(path) => tail_response(ctx, path, false, None),
            None => error_page(StatusCode::NOT_FOUND),
        };
    }
    let is_get_or_post = req.method() == Method::GET || req.method() == Method::POST;
    if raw_path == "/ok.html" && is_get_or_post {
        return full(StatusCode::OK, "text/plain", "OK");
    }
    web_ui(ctx, req, unquote(&raw_path)).await
}

async fn rpc(ctx: &ConnCtx, req: Request<Incoming>) -> Response<RespBody> {
    if req.method() != Method::POST {
        return error_page(StatusCode::BAD_REQUEST);
    }
    if let Err(refusal) = rpc_cross_site(&req) {
        ctx.backend.log(
            LogLevel::Warn,
            format!(
                "{}: refused XML-RPC request from {}: {}",
                ctx.server,
                ctx.peer,
                refusal.reason()
            ),
        );
        return error_page(StatusCode::FORBIDDEN);
    }
    let Some(length) = req.headers().get(CONTENT_LENGTH) else {
        return error_page(StatusCode::LENGTH_REQUIRED);
    };
    let Some(length) = length
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
    else {
        return error_page_close(StatusCode::BAD_REQUEST);
    };
    if length > ctx.limits.max_body_bytes {
        return too_large(ctx, length);
    }
    let body = match read_body(ctx, req.into_body()).await {
        Ok(body) => body,
        Err(resp) => return resp,
    };
    match ctx.backend.rpc(body).await {
        Ok(xml) => full(StatusCode::OK, "text/xml", xml),
        Err(RpcFailure::BadRequest) => error_page(StatusCode::BAD_REQUEST),
        Err(RpcFailure::Internal) => error_page(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

/// What a web page on another site makes a browser send (XML-RPC clients send neither header).
fn rpc_cross_site(req: &Request<Incoming>) -> Result<(), crate::web::csrf::Refusal> {
    let header = |name: &str| req.headers().get(name).and_then(|h| h.to_str().ok());
    crate::web::csrf::cross_site(&crate::web::csrf::Provenance {
        method: "POST",
        host: header(HOST.as_str()),
        origin: header(ORIGIN.as_str()),
        fetch_site: header("sec-fetch-site"),
        token: None,
    })
}

async fn read_body(ctx: &ConnCtx, body: Incoming) -> Result<Bytes, Response<RespBody>> {
    let limit = usize::try_from(ctx.limits.max_body_bytes).unwrap_or(usize::MAX);
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(too_large(ctx, ctx.limits.max_body_bytes + 1))
        }
        Err(_) => Err(error_page_close(StatusCode::BAD_REQUEST)),
    }
}

fn too_large(ctx: &ConnCtx, length: u64) -> Response<RespBody> {
    ctx.backend.refused(super::Refused::BodyTooLarge);
    ctx.backend.log(
        LogLevel::Warn,
        format!(
            "{}: refused request from {}: body of {} bytes exceeds the limit of {} bytes",
            ctx.server, ctx.peer, length, ctx.limits.max_body_bytes
        ),
    );
    error_page_close(StatusCode::PAYLOAD_TOO_LARGE)
}

/// `/logtail/<namespec>[/<channel>]` -> the file to follow.
fn logtail_target(ctx: &ConnCtx, path: &str) -> Option<PathBuf> {
    let (_, rest) = path.trim_start_matches('/').split_once('/')?;
    let (name, channel) = match rest.split_once('/') {
        Some((name, "stdout")) => (name, LogChannel::Stdout),
        Some((name, "stderr")) => (name, LogChannel::Stderr),
        Some(_) => return None,
        None => (rest, LogChannel::Stdout),
    };
    if name.is_empty() {
        return None;
    }
    ctx.backend.logtail_path(name, channel)
}

fn tail_response(
    ctx: &ConnCtx,
    path: PathBuf,
    accel_header: bool,
    replaced: Option<tokio::sync::watch::Receiver<u64>>,
) -> Response<RespBody> {
    let Ok(meta) = std::fs::metadata(&path) else {
        return error_page(StatusCode::NOT_FOUND);
    };
    let Some(body) = tail::start(path, ctx.stop.clone(), replaced) else {
        return error_page(StatusCode::NOT_FOUND);
    };
    let mut resp = Response::new(BodyExt::boxed(body));
    let headers = resp.headers_mut();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain;charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&http_date(meta.mtime())) {
        headers.insert(LAST_MODIFIED, v);
    }
    if accel_header {
        headers.insert(
            HeaderName::from_static("x-accel-buffering"),
            HeaderValue::from_static("no"),
        );
    }
    resp
}

async fn web_ui(ctx: &ConnCtx, req: Request<Incoming>, path: String) -> Response<RespBody> {
    let method = req.method().to_string();
    let query = req.uri().query().map(str::to_string);
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|h| h.to_str().ok())
            .map(str::to_string)
    };
    let (host, origin) = (header(HOST.as_str()), header(ORIGIN.as_str()));
    let fetch_site = header("sec-fetch-site");
    let body = if req.method() == Method::POST {
        match read_body(ctx, req.into_body()).await {
            Ok(body) => body,
            Err(resp) => return resp,
        }
    } else {
        Bytes::new()
    };
    let Some(ui) = ctx
        .backend
        .web_ui(UiRequest {
            method,
            path,
            query,
            host,
            origin,
            fetch_site,
            body,
        })
        .await
    else {
        return error_page(StatusCode::NOT_FOUND);
    };
    let status = StatusCode::from_u16(ui.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = match ui.body {
        UiBody::Full(body) => full(status, "text/html;charset=utf-8", body),
        UiBody::Changes(changes) => sse::changes(changes, ctx.stop.clone()),
    };
    for (name, value) in ui.headers {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            resp.headers_mut().insert(n, v);
        }
    }
    resp
}

/// URL-unquotes a path like Python's `urllib.parse.unquote` (invalid escapes kept, UTF-8 lossily).
pub(crate) fn unquote(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::unquote;

    #[test]
    fn unquote_like_python() {
        assert_eq!(
            unquote("/logtail/foo%3Abar/stderr"),
            "/logtail/foo:bar/stderr"
        );
        assert_eq!(unquote("/a%20b"), "/a b");
        assert_eq!(unquote("/bad%zz%4"), "/bad%zz%4");
        assert_eq!(unquote("/%C3%A9"), "/é");
        assert_eq!(unquote("%41"), "A");
    }
}
