//! The status web UI (supervisord's `http://host:9001/`): `/` and `/index.html` (process table and
//! its actions), `/tail.html` (last bytes of a process's stdout), `/events` (server-sent events that
//! tell an open page its table changed). The HTTP layer hands every path it does not route itself to
//! [`handle`]; paths that are not a page answer `None` (404).
//!
//! * [`form`]: decoding query strings and form bodies, URL quoting, the redirect base URL.
//! * [`action`]: what a request asks for and the message texts supervisord answers with.
//! * [`csrf`]: which requests may run an action (cross-site checks, the form token).
//! * [`page`]: the HTML, as pure functions.
//!
//! Actions run `supervisor.*` methods through [`Rpc`] and wait for their result (like supervisord's
//! deferred views), then answer `301` to `/?message=…`, which shows the message above the table.
//! Actions a browser sends on behalf of another site are refused with `403` (see [`csrf`]).

pub mod action;
pub mod csrf;
pub mod form;
pub mod page;

use std::future::Future;

use bytes::Bytes;
use procd_protocol::api::ProcessInfo;
use procd_protocol::{Call, Fault, FaultCode, MethodCall, Value};

use crate::http::{UiBody, UiRequest, UiResponse};
use crate::supervisor::Handle;
use action::{Action, ProcessOp};
use csrf::{Provenance, Secret};
use form::Form;

/// Smallest number of log bytes the tail page shows.
pub const MIN_TAIL_BYTES: u64 = 1024;

/// Runs `supervisor.*` methods for the UI (the actor's [`Handle`]; a fake in tests).
pub trait Rpc: Sync {
    fn call(
        &self,
        method: &str,
        params: Vec<Value>,
    ) -> impl Future<Output = Result<Value, Fault>> + Send;

    /// A counter that changes with the process table (for `/events`); `None` serves no `/events`.
    fn changes(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        None
    }
}

impl Rpc for Handle {
    fn call(
        &self,
        method: &str,
        params: Vec<Value>,
    ) -> impl Future<Output = Result<Value, Fault>> + Send {
        let call = Call::decode(MethodCall::new(method, params)).and_then(|call| {
            call.into_supervisor()
                .ok_or_else(|| Fault::new(FaultCode::UnknownMethod, None))
        });
        async move { Handle::call(self, call?).await }
    }

    fn changes(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        Some(Handle::changes(self))
    }
}

/// Answers one web-UI request; `None` for paths and methods that are not the UI's (404). `secret` is
/// the daemon's form token.
pub async fn handle(handle: &Handle, secret: &Secret, req: UiRequest) -> Option<UiResponse> {
    respond(handle, secret, req).await
}

/// [`handle`] over any [`Rpc`].
pub async fn respond<R: Rpc>(rpc: &R, secret: &Secret, req: UiRequest) -> Option<UiResponse> {
    if req.method != "GET" && req.method != "POST" {
        return None;
    }
    let view = req.path.trim_start_matches('/');
    let view = if view.is_empty() { "index.html" } else { view };
    let form = Form::parse(req.query.as_deref(), &req.body);
    match view {
        "index.html" => Some(status(rpc, secret, &req, &form).await),
        "tail.html" => Some(tail(rpc, &form).await),
        "events" if req.method == "GET" => rpc.changes().map(|changes| UiResponse {
            status: 200,
            headers: vec![],
            body: UiBody::Changes(changes),
        }),
        "ok.html" => Some(UiResponse {
            status: 200,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: UiBody::Full(Bytes::from_static(b"OK")),
        }),
        _ => None,
    }
}

fn now() -> chrono::NaiveDateTime {
    chrono::Local::now().naive_local()
}

/// The headers of every UI page (supervisord's: never cached).
fn page_headers(content_type: &str) -> Vec<(String, String)> {
    vec![
        ("Content-Type".into(), content_type.into()),
        ("Pragma".into(), "no-cache".into()),
        ("Cache-Control".into(), "no-cache".into()),
        ("Expires".into(), "Thu, 01 Jan 1970 00:00:00 GMT".into()),
    ]
}

fn html(body: String) -> UiResponse {
    UiResponse {
        status: 200,
        headers: page_headers("text/html;charset=utf-8"),
        body: UiBody::Full(Bytes::from(body)),
    }
}

/// supervisord's answer when a view fails (an unknown action, a daemon shutting down).
fn internal_error() -> UiResponse {
    UiResponse {
        status: 500,
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: UiBody::Full(Bytes::from(page::error_body(500, "Internal Server Error"))),
    }
}

/// `403` for an action refused by [`csrf::check`], with what the request said (escaped).
fn forbidden(refusal: csrf::Refusal, provenance: &Provenance<'_>) -> UiResponse {
    let reason = format!("Forbidden: {}", page::escape(&refusal.explain(provenance)));
    UiResponse {
        status: 403,
        headers: page_headers("text/html"),
        body: UiBody::Full(Bytes::from(page::error_body(403, &reason))),
    }
}

/// `301` to the status page showing `message`.
fn redirect(host: Option<&str>, message: &str) -> UiResponse {
    let location = format!(
        "{}/?message={}",
        form::server_url(host),
        form::quote(message)
    );
    let mut headers = page_headers("text/html");
    headers.push(("Location".into(), location));
    UiResponse {
        status: 301,
        headers,
        body: UiBody::Full(Bytes::from(page::error_body(301, "Moved Permanently"))),
    }
}

async fn all_infos<R: Rpc>(rpc: &R) -> Result<Vec<ProcessInfo>, Fault> {
    let value = rpc.call("supervisor.getAllProcessInfo", vec![]).await?;
    let items = value.as_array().unwrap_or_default();
    Ok(items
        .iter()
        .filter_map(|v| ProcessInfo::from_value(v).ok())
        .collect())
}

async fn status<R: Rpc>(rpc: &R, secret: &Secret, req: &UiRequest, form: &Form) -> UiResponse {
    let action = action::parse_action(form);
    if action.changes_processes() {
        let provenance = Provenance {
            method: &req.method,
            host: req.host.as_deref(),
            origin: req.origin.as_deref(),
            fetch_site: req.fetch_site.as_deref(),
            token: form.get(csrf::TOKEN_FIELD),
        };
        if let Err(refusal) = csrf::check(&provenance, secret) {
            return forbidden(refusal, &provenance);
        }
    }
    // The change counter is read before the table, so a change in between shows up as a newer count
    // on `/events` and the live page fetches the table again.
    let serial = rpc.changes().map(|c| *c.borrow());
    let Ok(message) = run_action(rpc, action).await else {
        return internal_error();
    };
    if let Some(message) = message {
        return redirect(req.host.as_deref(), &message);
    }
    match all_infos(rpc).await {
        Ok(infos) => html(page::render_status(&page::StatusPage {
            infos: &infos,
            message: form.get("message"),
            now: now(),
            token: secret.token(),
            serial,
        })),
        Err(_) => internal_error(),
    }
}

/// Runs the request's action; `Ok(Some(message))` asks for a redirect, `Ok(None)` shows the page.
async fn run_action<R: Rpc>(rpc: &R, action: Action) -> Result<Option<String>, ()> {
    let message = match action {
        Action::Show => return Ok(None),
        Action::Invalid => return Err(()),
        Action::Refresh => action::refreshed(now()),
        Action::StopAll => {
            rpc.call("supervisor.stopAllProcesses", vec![true.into()])
                .await
                .map_err(drop)?;
            action::all_stopped(now())
        }
        Action::RestartAll => {
            // Like supervisord's multicall: a failing half does not change the answer.
            let _ = rpc
                .call("supervisor.stopAllProcesses", vec![true.into()])
                .await;
            let _ = rpc
                .call("supervisor.startAllProcesses", vec![true.into()])
                .await;
            action::all_restarted(now())
        }
        Action::Process { namespec, op } => {
            let infos = all_infos(rpc).await.map_err(drop)?;
            if action::names_a_process(&infos, &namespec) {
                run_op(rpc, op.ok_or(())?, &namespec).await
            } else {
                action::no_such_process(&namespec)
            }
        }
    };
    Ok(Some(message))
}

async fn run_op<R: Rpc>(rpc: &R, op: ProcessOp, namespec: &str) -> String {
    let name = || vec![Value::from(namespec), Value::from(true)];
    let result = match op {
        ProcessOp::Start => rpc
            .call("supervisor.startProcess", name())
            .await
            .map_err(|f| action::start_failed(namespec, &f)),
        ProcessOp::Stop => rpc
            .call("supervisor.stopProcess", name())
            .await
            .map_err(|f| action::unexpected_fault(&f)),
        ProcessOp::Restart => {
            let _ = rpc.call("supervisor.stopProcess", name()).await;
            let _ = rpc.call("supervisor.startProcess", name()).await;
            Ok(Value::from(true))
        }
        ProcessOp::ClearLog => rpc
            .call("supervisor.clearProcessLogs", vec![namespec.into()])
            .await
            .map_err(|f| action::unexpected_fault(&f)),
    };
    match result {
        Ok(_) => action::op_done(op, namespec),
        Err(message) => message,
    }
}

/// The byte count the tail page shows for a `limit` field: at least [`MIN_TAIL_BYTES`]; anything but
/// a plain number means the minimum.
pub fn tail_limit(limit: Option<&str>) -> u64 {
    match limit {
        Some(l) if l.bytes().all(|b| b.is_ascii_digit()) => {
            l.parse::<u64>().unwrap_or(u64::MAX).max(MIN_TAIL_BYTES)
        }
        _ => MIN_TAIL_BYTES,
    }
}

async fn tail<R: Rpc>(rpc: &R, form: &Form) -> UiResponse {
    let limit = tail_limit(form.get("limit"));
    let Some(name) = form.get("processname") else {
        return html(page::render_tail(None, "No process name found", limit));
    };
    let back = i32::try_from(limit).unwrap_or(i32::MAX);
    let params = vec![name.into(), Value::Int(-back), Value::Int(0)];
    let text = match rpc.call("supervisor.readProcessStdoutLog", params).await {
        Ok(value) => value.into_string().unwrap_or_default(),
        Err(f) if f.code == FaultCode::NoFile.code() => format!("No file for {name}"),
        Err(f) => format!("ERROR: {}", action::unexpected_fault(&f)),
    };
    html(page::render_tail(Some(name), &text, limit))
}

#[cfg(test)]
mod tests;
