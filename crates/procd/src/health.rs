//! What the probe endpoints answer (the HTTP layer routes them, see `http::probe`):
//!
//! * `/healthz`: 200 `ok` when the supervisor actor answers a call within [`ACTOR_TIMEOUT`], else 503.
//! * `/readyz`: 200 `ready` when the supervisor is RUNNING and every autostart program is RUNNING; else 503
//!   with the programs that are not (`name STATE` lines, or JSON on `Accept: application/json`).
//! * `/metrics`: the Prometheus text format (`telemetry::metrics`).

use std::fmt::Write;
use std::time::Duration;

use bytes::Bytes;
use procd_protocol::SupervisorState;

use crate::http::{Probe, ProbeReply};
use crate::supervisor::Handle;
use crate::telemetry::metrics;

/// How long `/healthz` waits for the actor (Kubernetes' default probe timeout is 1 s).
pub const ACTOR_TIMEOUT: Duration = Duration::from_millis(900);

/// Whether the supervisor actor answers a trivial call.
pub async fn actor_answers(handle: &Handle) -> bool {
    handle
        .call(procd_protocol::SupervisorCall::GetPid)
        .await
        .is_ok()
}

fn response(status: u16, content_type: &'static str, body: impl Into<Bytes>) -> ProbeReply {
    ProbeReply {
        status,
        content_type,
        body: body.into(),
    }
}

/// Answers one probe.
pub async fn answer(handle: &Handle, probe: Probe, json: bool) -> ProbeReply {
    match probe {
        Probe::Health => {
            let alive = tokio::time::timeout(ACTOR_TIMEOUT, actor_answers(handle))
                .await
                .unwrap_or(false);
            let (status, text) = if alive {
                (200, "ok")
            } else {
                (503, "supervisor not answering")
            };
            if json {
                let body = serde_json::json!({ "status": text });
                response(status, "application/json", body.to_string())
            } else {
                response(status, "text/plain; charset=utf-8", format!("{text}\n"))
            }
        }
        Probe::Ready => ready(handle, json),
        Probe::Metrics => response(
            200,
            metrics::CONTENT_TYPE,
            metrics::render(handle.telemetry()),
        ),
    }
}

fn ready(handle: &Handle, json: bool) -> ProbeReply {
    let telemetry = handle.telemetry();
    let mood = handle.state();
    let waiting = telemetry.not_ready();
    let ready = mood == SupervisorState::Running && waiting.is_empty();
    let status = if ready { 200 } else { 503 };
    if json {
        let list: Vec<serde_json::Value> = waiting
            .iter()
            .map(|(name, state)| serde_json::json!({ "name": name, "state": state.name() }))
            .collect();
        let body = serde_json::json!({
            "ready": ready,
            "supervisor": mood.name(),
            "not_ready": list,
        });
        return response(status, "application/json", body.to_string());
    }
    let mut text = String::new();
    if ready {
        text.push_str("ready\n");
    } else {
        text.push_str("not ready\n");
        if mood != SupervisorState::Running {
            let _ = writeln!(text, "supervisor {}", mood.name());
        }
        for (name, state) in &waiting {
            let _ = writeln!(text, "{name} {}", state.name());
        }
    }
    response(status, "text/plain; charset=utf-8", text)
}
