//! procd daemon library: everything with side effects lives here, in modules that own one concern each.
//!
//! * [`daemon`]: start-up, daemonizing, reload and shutdown (what `main` calls).
//! * [`supervisor`]: the actor that owns every process's state and runs the `supervisor.*` methods.
//! * [`rpc`]: XML-RPC decoding, `system.*`, and the bridge from HTTP to the actor.
//! * [`http`]: the HTTP servers (unix socket and TCP), auth, limits, log tailing.
//! * [`probes`]: ready checks (tcp, http, exec, log line, sd_notify) for `ready_check=`.
//! * [`logs`], [`logger`]: child log files, log reads, the main log.
//! * [`sys`]: the OS layer, the only place with `unsafe`.

pub mod cli;
pub mod daemon;
pub mod fdbudget;
pub mod health;
pub mod http;
pub mod listeners;
pub mod logger;
pub mod logs;
pub mod notify;
pub mod probes;
pub mod rpc;
pub mod supervisor;
pub mod sys;
pub mod telemetry;
pub mod web;

pub use daemon::run;
/// supervisord's event system as pure state machines (the `procd-events` crate).
pub use procd_events as events;
