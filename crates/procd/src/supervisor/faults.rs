//! The faults the actor answers with: the `CODE: text` constructors every method uses ([`fault`],
//! [`bare`]) and the faults several methods share (bad names, the core's refusals, command and log-file
//! errors). A fault only one method raises (`SPAWN_ERROR` in `methods/control.rs`, `CANT_REREAD` in
//! `methods/config.rs`, ...) is built in that method with [`fault`]. Decoding faults (`UNKNOWN_METHOD`,
//! `INCORRECT_PARAMETERS`) come from `procd_protocol::Call::decode`, `system.*` faults from `rpc.rs`.
//! The texts follow supervisord 4.3.0: the fault name, then `: ` and the name or text it concerns.

use std::path::Path;

use procd_core::Refusal;
use procd_protocol::{Fault, FaultCode};

use crate::logs::read::ReadError;

/// `CODE: extra`.
pub(super) fn fault(code: FaultCode, extra: impl AsRef<str>) -> Fault {
    Fault::new(code, Some(extra.as_ref()))
}

/// `CODE` alone.
pub(super) fn bare(code: FaultCode) -> Fault {
    Fault::new(code, None)
}

/// A method called while the supervisor is shutting down or restarting, or after its loop ended.
pub(super) fn shutting_down() -> Fault {
    bare(FaultCode::ShutdownState)
}

/// A namespec or group name that names nothing.
pub(super) fn bad_name(name: &str) -> Fault {
    fault(FaultCode::BadName, name)
}

/// A request the process's state does not allow (ALREADY_STARTED, NOT_RUNNING, FAILED).
pub(super) fn refusal(r: Refusal, name: &str) -> Fault {
    let code = match r {
        Refusal::AlreadyStarted => FaultCode::AlreadyStarted,
        Refusal::UnknownState => FaultCode::Failed,
        Refusal::NotRunning => FaultCode::NotRunning,
    };
    fault(code, r.text(name))
}

/// `startProcess`'s command check: a command not found is NO_FILE; an unparsable, empty or
/// non-executable one is NOT_EXECUTABLE.
pub(super) fn command(msg: String) -> Fault {
    if msg.starts_with("can't find command") {
        fault(FaultCode::NoFile, msg)
    } else {
        fault(FaultCode::NotExecutable, msg)
    }
}

/// NO_FILE for a log read: the path when one is configured but missing, bare when none is configured
/// (supervisord passes `None` as the fault's extra, which leaves the bare name).
pub(super) fn no_file(path: Option<&Path>) -> Fault {
    match path {
        Some(p) => fault(FaultCode::NoFile, p.display().to_string()),
        None => bare(FaultCode::NoFile),
    }
}

/// A failed log read.
pub(super) fn read_error(e: &ReadError) -> Fault {
    match e {
        ReadError::BadArguments => bare(FaultCode::BadArguments),
        ReadError::NoFile => bare(FaultCode::NoFile),
        ReadError::Failed(_) => bare(FaultCode::Failed),
    }
}
