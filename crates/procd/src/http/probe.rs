//! The probe endpoints: `/healthz`, `/readyz` (container and load-balancer probes) and `/metrics`
//! (Prometheus). This layer only routes them (GET or HEAD; anything else is 405) and lets them past Basic
//! auth when the server says `health_auth=false`; what they answer comes from [`Backend::probe`].
//!
//! [`Backend::probe`]: super::Backend::probe

use hyper::header::{ACCEPT, ALLOW, CACHE_CONTROL, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use super::response::{RespBody, error_page, full};
use super::service::ConnCtx;

/// Which probe endpoint a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// `/healthz`: the supervisor answers.
    Health,
    /// `/readyz`: every autostart program is RUNNING.
    Ready,
    /// `/metrics`: the Prometheus text format.
    Metrics,
}

impl Probe {
    /// The probe `path` names (exact paths only: `/healthz/x` is the web UI's 404).
    pub fn from_path(path: &str) -> Option<Self> {
        match path {
            "/healthz" => Some(Self::Health),
            "/readyz" => Some(Self::Ready),
            "/metrics" => Some(Self::Metrics),
            _ => None,
        }
    }
}

/// Whether the `Accept` header asks for JSON.
fn wants_json<B>(req: &Request<B>) -> bool {
    req.headers()
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let media = t.split(';').next().unwrap_or("").trim();
            media.eq_ignore_ascii_case("application/json")
        })
}

pub(crate) async fn answer<B>(ctx: &ConnCtx, req: &Request<B>, probe: Probe) -> Response<RespBody> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut resp = full(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "method not allowed\n",
        );
        resp.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return resp;
    }
    let Some(reply) = ctx.backend.probe(probe, wants_json(req)).await else {
        return error_page(StatusCode::NOT_FOUND);
    };
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = full(status, reply.content_type, reply.body);
    resp.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_accept_headers() {
        assert_eq!(Probe::from_path("/healthz"), Some(Probe::Health));
        assert_eq!(Probe::from_path("/readyz"), Some(Probe::Ready));
        assert_eq!(Probe::from_path("/metrics"), Some(Probe::Metrics));
        assert_eq!(Probe::from_path("/metrics/x"), None);
        assert_eq!(Probe::from_path("/ok.html"), None);
        let req = |accept: &str| Request::builder().header(ACCEPT, accept).body(()).unwrap();
        assert!(wants_json(&req("application/json")));
        assert!(wants_json(&req("text/html, Application/JSON; q=0.9")));
        assert!(!wants_json(&req("text/plain")));
        assert!(!wants_json(&Request::builder().body(()).unwrap()));
    }
}
