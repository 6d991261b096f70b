//! `/RPC2`: decodes each XML-RPC call once into a typed [`Call`] (method table lookup and parameter
//! checks included), answers the `system.*` namespace here and hands `supervisor.*` calls to the actor.
//! Implements the HTTP layer's [`Backend`].

use std::path::PathBuf;

use bytes::Bytes;
use procd_core::Level;
use procd_protocol::api::{METHODS, find_method};
use procd_protocol::{
    Call, Fault, FaultCode, MethodCall, SupervisorCall, SupervisorState, Value, decode_call,
    encode_fault, encode_response,
};

use crate::http::{Backend, BoxFuture, LogChannel, LogLevel, Probe, Refused, RpcFailure};
use crate::logger::Logger;
use crate::supervisor::Handle;
use crate::telemetry::{Refusal, Telemetry};

/// The daemon's side of the HTTP layer.
#[derive(Clone)]
pub struct RpcBackend {
    handle: Handle,
    logger: Logger,
    /// Whether `[rpcinterface:supervisor]` is configured; without it only `system.*` exists, as in
    /// supervisord.
    supervisor_ns: bool,
    /// The web UI's form token, one per daemon (see [`crate::web::csrf`]).
    ui_secret: crate::web::csrf::Secret,
}

impl RpcBackend {
    pub fn new(handle: Handle, logger: Logger, supervisor_ns: bool) -> Self {
        RpcBackend {
            handle,
            logger,
            supervisor_ns,
            ui_secret: crate::web::csrf::Secret::generate(),
        }
    }
}

impl Backend for RpcBackend {
    fn rpc(&self, body: Bytes) -> BoxFuture<Result<Bytes, RpcFailure>> {
        let call = match decode_call(&body) {
            Ok(call) => call,
            Err(e) => {
                let shown = String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned();
                self.logger.log(
                    Level::Error,
                    &format!("XML-RPC request data {shown:?} is invalid: {e}"),
                );
                return Box::pin(async { Err(RpcFailure::BadRequest) });
            }
        };
        let handle = self.handle.clone();
        let supervisor_ns = self.supervisor_ns;
        Box::pin(async move {
            let result = if !supervisor_ns && call.method.starts_with("supervisor.") {
                Err(Fault::new(FaultCode::UnknownMethod, None))
            } else {
                call_method(&handle, call).await
            };
            let body = match result {
                Ok(value) => encode_response(&value),
                Err(fault) => encode_fault(&fault),
            };
            Ok(Bytes::from(body))
        })
    }

    fn logtail_path(&self, namespec: &str, channel: LogChannel) -> Option<PathBuf> {
        self.handle
            .log_path(namespec, channel == LogChannel::Stderr)
    }

    fn mainlog_path(&self) -> Option<PathBuf> {
        self.logger.path()
    }

    fn child_logs_replaced(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        Some(self.handle.reloads())
    }

    fn web_ui(
        &self,
        request: crate::http::UiRequest,
    ) -> BoxFuture<Option<crate::http::UiResponse>> {
        let handle = self.handle.clone();
        let secret = self.ui_secret.clone();
        Box::pin(async move { crate::web::handle(&handle, &secret, request).await })
    }

    fn probe(&self, probe: Probe, json: bool) -> BoxFuture<Option<crate::http::ProbeReply>> {
        let handle = self.handle.clone();
        Box::pin(async move { Some(crate::health::answer(&handle, probe, json).await) })
    }

    fn refused(&self, why: Refused) {
        self.handle.telemetry().refused(match why {
            Refused::Connections => Refusal::Connections,
            Refused::BodyTooLarge => Refusal::BodyTooLarge,
            Refused::HeaderTimeout => Refusal::HeaderTimeout,
        });
    }

    fn log(&self, level: LogLevel, text: String) {
        let level = match level {
            LogLevel::Critical => Level::Critical,
            LogLevel::Error => Level::Error,
            LogLevel::Warn => Level::Warn,
            LogLevel::Info => Level::Info,
            LogLevel::Debug => Level::Debug,
            LogLevel::Trace => Level::Trace,
        };
        self.logger.log(level, &text);
    }
}

/// Runs one call and counts it for `/metrics` (`procd_rpc_calls_total`, `procd_rpc_faults_total`).
async fn call_method(handle: &Handle, call: MethodCall) -> Result<Value, Fault> {
    let slot = Telemetry::rpc_slot(&call.method);
    let result = run_method(handle, call).await;
    handle
        .telemetry()
        .rpc_call(slot, result.as_ref().err().map(|f| f.code));
    result
}

/// Runs one call: decoded (method and parameters checked), then `system.*` here or `supervisor.*` in
/// the actor.
async fn run_method(handle: &Handle, call: MethodCall) -> Result<Value, Fault> {
    match Call::decode(call)? {
        Call::Multicall { calls } => multicall(handle, calls).await,
        Call::ListMethods => Ok(Value::Array(
            METHODS.iter().map(|m| Value::from(m.name)).collect(),
        )),
        Call::MethodHelp { name } => find_method(&name)
            .map(|m| Value::from(m.help))
            .ok_or_else(|| Fault::new(FaultCode::SignatureUnsupported, None)),
        Call::MethodSignature { name } => find_method(&name)
            .map(procd_protocol::MethodSpec::signature_value)
            .ok_or_else(|| Fault::new(FaultCode::SignatureUnsupported, None)),
        // The busiest read-only call (dashboards and health checks poll it) is answered from the
        // shared state, without a round trip to the actor; same reply and fault as the actor's.
        Call::Supervisor(SupervisorCall::GetState) => match handle.state() {
            SupervisorState::Running => Ok(Value::structure([
                ("statecode", Value::Int(SupervisorState::Running.code())),
                ("statename", Value::from(SupervisorState::Running.name())),
            ])),
            _ => Err(Fault::new(FaultCode::ShutdownState, None)),
        },
        Call::Supervisor(call) => handle.call(call).await,
    }
}

/// `system.multicall`: calls run one after another (a deferred call holds up the next, so
/// `[stopProcess x, startProcess x]` restarts x); each result is the raw value or a fault struct.
async fn multicall(handle: &Handle, calls: Vec<Value>) -> Result<Value, Fault> {
    let mut results = Vec::with_capacity(calls.len());
    for call in calls {
        let outcome = match call.get("methodName").and_then(Value::as_str) {
            None => Err(Fault::new(
                FaultCode::IncorrectParameters,
                Some("No methodName"),
            )),
            Some("system.multicall") => Err(Fault::new(
                FaultCode::IncorrectParameters,
                Some("Recursive system.multicall forbidden"),
            )),
            Some(name) => {
                let params = match call.get("params") {
                    Some(Value::Array(p)) => p.clone(),
                    None => Vec::new(),
                    Some(_) => {
                        results.push(Fault::new(FaultCode::IncorrectParameters, None).to_value());
                        continue;
                    }
                };
                Box::pin(call_method(
                    handle,
                    MethodCall {
                        method: name.to_owned(),
                        params,
                    },
                ))
                .await
            }
        };
        results.push(match outcome {
            Ok(v) => v,
            Err(f) => f.to_value(),
        });
    }
    Ok(Value::Array(results))
}
