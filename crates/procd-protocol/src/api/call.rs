//! A request decoded once: an XML-RPC `<methodCall>` becomes one typed [`Call`] at the edge (as
//! mini-redis's `Command::from_frame`), so nothing after it reads method names or positional values.
//!
//! Decoding looks the method up in [`METHODS`](super::METHODS) (aliases resolve there, once), checks the
//! parameters against its signature with [`check_call`] and moves the checked values into the variant's
//! typed fields. Every decoding fault is built here: `UNKNOWN_METHOD`, `INCORRECT_PARAMETERS`.

use super::params::check_call;
use crate::codec::MethodCall;
use crate::fault::{Fault, FaultCode};
use crate::value::Value;

/// Which output stream of a process a log method reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// The child's stdout (`stdout_logfile`): the `*ProcessStdoutLog` methods.
    Stdout,
    /// The child's stderr (`stderr_logfile`): the `*ProcessStderrLog` methods.
    Stderr,
}

/// A decoded call: the `system.*` namespace, answered by the XML-RPC layer, or a `supervisor.*` method.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// `system.listMethods()`: every published method name, sorted.
    ListMethods,
    /// `system.methodHelp(name)`: the method's documentation.
    MethodHelp {
        /// The full method name, e.g. `supervisor.startProcess`.
        name: String,
    },
    /// `system.methodSignature(name)`: `[[return type, parameter types...]]`.
    MethodSignature {
        /// The full method name.
        name: String,
    },
    /// `system.multicall`: the `{methodName, params}` structs, each decoded when its turn comes (a
    /// malformed entry fails alone).
    Multicall {
        /// The entries, undecoded.
        calls: Vec<Value>,
    },
    /// A method of the `supervisor.*` namespace, answered by the supervisor.
    Supervisor(SupervisorCall),
}

/// A `supervisor.*` method with its typed arguments. Deprecated aliases (`getVersion`, `readMainLog`,
/// `readProcessLog`, `tailProcessLog`, `clearProcessLog`) decode to the method they stand for.
#[derive(Debug, Clone, PartialEq)]
pub enum SupervisorCall {
    /// `getAPIVersion()` (alias `getVersion`): the RPC API version, `3.0`.
    GetApiVersion,
    /// `getSupervisorVersion()`: the package version (`4.3.0`, the supervisord procd stands in for).
    GetSupervisorVersion,
    /// `getIdentification()`: the `[supervisord] identifier=` value.
    GetIdentification,
    /// `getState()`: `{statecode, statename}` of the supervisor itself.
    GetState,
    /// `getPID()`: the daemon's pid.
    GetPid,
    /// `readLog(offset, length)` (alias `readMainLog`): bytes of the main log.
    ReadLog {
        /// Byte offset from the start; negative counts from the end (then `length` must be 0).
        offset: i32,
        /// Bytes to read; 0 reads to the end.
        length: i32,
    },
    /// `clearLog()`: removes the main log file and reopens it.
    ClearLog,
    /// `shutdown()`: stop every process, then exit.
    Shutdown,
    /// `restart()`: stop every process, reread the config and start again in the same process.
    Restart,
    /// `reloadConfig()`: reread the config and report `[[added, changed, removed]]` group names.
    ReloadConfig,
    /// `addProcessGroup(name)`: start managing a group of the last reread config.
    AddProcessGroup {
        /// The group's name.
        name: String,
    },
    /// `removeProcessGroup(name)`: forget a group whose processes are all stopped.
    RemoveProcessGroup {
        /// The group's name.
        name: String,
    },
    /// `getProcessInfo(name)`: one ProcessInfo struct.
    GetProcessInfo {
        /// The process's namespec (`group:name`, or `name` when group and process share the name).
        name: String,
    },
    /// `getAllProcessInfo()`: every process's ProcessInfo, in supervisord's order.
    GetAllProcessInfo,
    /// `getAllConfigInfo()`: every process's configuration as a struct.
    GetAllConfigInfo,
    /// `startProcess(name, wait=True)`: start one process (`group:*` starts the group).
    StartProcess {
        /// The namespec: `group:name`, `name` when group and process share the name (or `group:*` for
        /// the group methods).
        name: String,
        /// Answer only when the processes reached their target state (RUNNING or stopped), not at once.
        wait: bool,
    },
    /// `startProcessGroup(name, wait=True)`: start a group's processes in priority order.
    StartProcessGroup {
        /// The group's name (a `group:*` or `group:name` namespec names its group).
        name: String,
        /// Answer only when the processes reached their target state (RUNNING or stopped), not at once.
        wait: bool,
    },
    /// `startAllProcesses(wait=True)`: start every process, groups in priority order.
    StartAllProcesses {
        /// Answer only when the processes reached their target state (RUNNING or stopped), not at once.
        wait: bool,
    },
    /// `stopProcess(name, wait=True)`: stop one process (`group:*` stops the group).
    StopProcess {
        /// The namespec: `group:name`, `name` when group and process share the name (or `group:*` for
        /// the group methods).
        name: String,
        /// Answer only when the processes reached their target state (RUNNING or stopped), not at once.
        wait: bool,
    },
    /// `stopProcessGroup(name, wait=True)`: stop a group's processes in reverse priority order.
    StopProcessGroup {
        /// The group's name (a `group:*` or `group:name` namespec names its group).
        name: String,
        /// Answer only when the processes reached their target state (RUNNING or stopped), not at once.
        wait: bool,
    },
    /// `stopAllProcesses(wait=True)`: stop every process, groups in reverse priority order.
    StopAllProcesses {
        /// Answer only when the processes reached their target state (RUNNING or stopped), not at once.
        wait: bool,
    },
    /// `signalProcess(name, signal)`: send a signal to one running process.
    /// `signal` as given (a name, or a number turned into its text); it is parsed when the call runs,
    /// because a bad name is reported only after the process name has been found.
    SignalProcess {
        /// The namespec: `group:name`, `name` when group and process share the name (or `group:*` for
        /// the group methods).
        name: String,
        /// `HUP`, `SIGHUP` or a number, as text.
        signal: String,
    },
    /// `signalProcessGroup(name, signal)`: signal a group's running processes.
    SignalProcessGroup {
        /// The group's name (a `group:*` or `group:name` namespec names its group).
        name: String,
        /// As for [`SupervisorCall::SignalProcess`].
        signal: String,
    },
    /// `signalAllProcesses(signal)`: signal every running process.
    SignalAllProcesses {
        /// As for [`SupervisorCall::SignalProcess`].
        signal: String,
    },
    /// `sendProcessStdin(name, chars)`: write to a running process's stdin.
    SendProcessStdin {
        /// The process's namespec (`group:name`, or `name` when group and process share the name).
        name: String,
        /// The text to write, as sent (no newline is added).
        chars: String,
    },
    /// `sendRemoteCommEvent(type, data)`: emit a REMOTE_COMMUNICATION event.
    SendRemoteCommEvent {
        /// The event's `type` header.
        kind: String,
        /// The event's payload.
        data: String,
    },
    /// `readProcessStdoutLog` / `readProcessStderrLog(name, offset, length)` (alias `readProcessLog`
    /// for stdout): bytes of a process's log, `offset` and `length` as for [`SupervisorCall::ReadLog`].
    ReadProcessLog {
        /// The process's namespec (`group:name`, or `name` when group and process share the name).
        name: String,
        /// Which log (the method name chooses it).
        stream: Stream,
        /// As for [`SupervisorCall::ReadLog`].
        offset: i32,
        /// As for [`SupervisorCall::ReadLog`].
        length: i32,
    },
    /// `tailProcessStdoutLog` / `tailProcessStderrLog(name, offset, length)` (alias `tailProcessLog`):
    /// `[bytes, offset, overflow]`, the last `length` bytes up to the end, for polling from `offset`.
    TailProcessLog {
        /// The process's namespec (`group:name`, or `name` when group and process share the name).
        name: String,
        /// Which log (the method name chooses it).
        stream: Stream,
        /// Where the caller's last read ended (bytes).
        offset: i32,
        /// How many bytes at most to return.
        length: i32,
    },
    /// `clearProcessLogs(name)` (alias `clearProcessLog`): remove and reopen both log files.
    ClearProcessLogs {
        /// The process's namespec (`group:name`, or `name` when group and process share the name).
        name: String,
    },
    /// `clearAllProcessLogs()`: clear every process's logs.
    ClearAllProcessLogs,
}

impl SupervisorCall {
    /// Whether the call is served while the supervisor is shutting down or restarting (supervisord
    /// refuses every other method then with `SHUTDOWN_STATE`).
    pub fn allowed_while_stopping(&self) -> bool {
        matches!(self, SupervisorCall::SendRemoteCommEvent { .. })
    }
}

impl Call {
    /// Decodes one call: the method must be published (`UNKNOWN_METHOD`) and its parameters must match
    /// its signature (`INCORRECT_PARAMETERS`).
    pub fn decode(call: MethodCall) -> Result<Call, Fault> {
        if let Some(fault) = stdin_type_fault(&call.method, &call.params) {
            return Err(fault);
        }
        let (spec, params) = check_call(&call)?;
        build(spec.canonical(), Args(params.into_values().into_iter()))
            .ok_or(FaultCode::UnknownMethod.into())
    }

    /// The `supervisor.*` method, if this is one.
    pub fn into_supervisor(self) -> Option<SupervisorCall> {
        match self {
            Call::Supervisor(call) => Some(call),
            _ => None,
        }
    }
}

/// `sendProcessStdin` with non-text `chars`: supervisord names the offending value in the fault
/// (`INCORRECT_PARAMETERS: 5`), where the generic type check would give the bare fault.
fn stdin_type_fault(method: &str, params: &[Value]) -> Option<Fault> {
    if method != "supervisor.sendProcessStdin" || params.len() != 2 {
        return None;
    }
    let shown = match &params[1] {
        Value::String(_) | Value::Base64(_) => return None,
        Value::Int(n) => n.to_string(),
        Value::Bool(b) => if *b { "True" } else { "False" }.to_owned(),
        Value::Double(d) => format!("{d:?}"),
        other => other.type_name().to_owned(),
    };
    Some(Fault::new(FaultCode::IncorrectParameters, Some(&shown)))
}

/// The checked parameters, taken in order. [`check_call`] has filled defaults and coerced every value
/// to its declared type, so each getter finds the type it expects.
struct Args(std::vec::IntoIter<Value>);

impl Args {
    fn string(&mut self) -> String {
        match self.0.next() {
            Some(Value::String(s)) => s,
            _ => String::new(),
        }
    }

    fn int(&mut self) -> i32 {
        self.0.next().and_then(|v| v.as_int()).unwrap_or_default()
    }

    fn boolean(&mut self) -> bool {
        self.0.next().and_then(|v| v.as_bool()).unwrap_or_default()
    }

    fn array(&mut self) -> Vec<Value> {
        match self.0.next() {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        }
    }
}

/// The one place a method name picks the code that runs. `None` only for a name missing here but
/// present in the method table (a test keeps the two in step).
fn build(canonical: &str, mut a: Args) -> Option<Call> {
    use SupervisorCall as S;
    let s = |call: SupervisorCall| Some(Call::Supervisor(call));
    match canonical {
        "system.listMethods" => Some(Call::ListMethods),
        "system.methodHelp" => Some(Call::MethodHelp { name: a.string() }),
        "system.methodSignature" => Some(Call::MethodSignature { name: a.string() }),
        "system.multicall" => Some(Call::Multicall { calls: a.array() }),
        "supervisor.getAPIVersion" => s(S::GetApiVersion),
        "supervisor.getSupervisorVersion" => s(S::GetSupervisorVersion),
        "supervisor.getIdentification" => s(S::GetIdentification),
        "supervisor.getState" => s(S::GetState),
        "supervisor.getPID" => s(S::GetPid),
        "supervisor.readLog" => s(S::ReadLog {
            offset: a.int(),
            length: a.int(),
        }),
        "supervisor.clearLog" => s(S::ClearLog),
        "supervisor.shutdown" => s(S::Shutdown),
        "supervisor.restart" => s(S::Restart),
        "supervisor.reloadConfig" => s(S::ReloadConfig),
        "supervisor.addProcessGroup" => s(S::AddProcessGroup { name: a.string() }),
        "supervisor.removeProcessGroup" => s(S::RemoveProcessGroup { name: a.string() }),
        "supervisor.getProcessInfo" => s(S::GetProcessInfo { name: a.string() }),
        "supervisor.getAllProcessInfo" => s(S::GetAllProcessInfo),
        "supervisor.getAllConfigInfo" => s(S::GetAllConfigInfo),
        "supervisor.startProcess" => s(S::StartProcess {
            name: a.string(),
            wait: a.boolean(),
        }),
        "supervisor.startProcessGroup" => s(S::StartProcessGroup {
            name: a.string(),
            wait: a.boolean(),
        }),
        "supervisor.startAllProcesses" => s(S::StartAllProcesses { wait: a.boolean() }),
        "supervisor.stopProcess" => s(S::StopProcess {
            name: a.string(),
            wait: a.boolean(),
        }),
        "supervisor.stopProcessGroup" => s(S::StopProcessGroup {
            name: a.string(),
            wait: a.boolean(),
        }),
        "supervisor.stopAllProcesses" => s(S::StopAllProcesses { wait: a.boolean() }),
        "supervisor.signalProcess" => s(S::SignalProcess {
            name: a.string(),
            signal: a.string(),
        }),
        "supervisor.signalProcessGroup" => s(S::SignalProcessGroup {
            name: a.string(),
            signal: a.string(),
        }),
        "supervisor.signalAllProcesses" => s(S::SignalAllProcesses { signal: a.string() }),
        "supervisor.sendProcessStdin" => s(S::SendProcessStdin {
            name: a.string(),
            chars: a.string(),
        }),
        "supervisor.sendRemoteCommEvent" => s(S::SendRemoteCommEvent {
            kind: a.string(),
            data: a.string(),
        }),
        "supervisor.readProcessStdoutLog" => s(log_read(&mut a, Stream::Stdout)),
        "supervisor.readProcessStderrLog" => s(log_read(&mut a, Stream::Stderr)),
        "supervisor.tailProcessStdoutLog" => s(log_tail(&mut a, Stream::Stdout)),
        "supervisor.tailProcessStderrLog" => s(log_tail(&mut a, Stream::Stderr)),
        "supervisor.clearProcessLogs" => s(S::ClearProcessLogs { name: a.string() }),
        "supervisor.clearAllProcessLogs" => s(S::ClearAllProcessLogs),
        _ => None,
    }
}

fn log_read(a: &mut Args, stream: Stream) -> SupervisorCall {
    SupervisorCall::ReadProcessLog {
        name: a.string(),
        stream,
        offset: a.int(),
        length: a.int(),
    }
}

fn log_tail(a: &mut Args, stream: Stream) -> SupervisorCall {
    SupervisorCall::TailProcessLog {
        name: a.string(),
        stream,
        offset: a.int(),
        length: a.int(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{METHODS, find_method};

    fn decode(method: &str, params: Vec<Value>) -> Result<Call, Fault> {
        Call::decode(MethodCall::new(method, params))
    }

    fn incorrect(extra: Option<&str>) -> Fault {
        Fault::new(FaultCode::IncorrectParameters, extra)
    }

    /// Every published method decodes (with the simplest arguments its signature allows), so the
    /// method table and [`build`] cannot drift apart.
    #[test]
    fn every_published_method_decodes() {
        for spec in METHODS {
            let params = spec
                .params
                .iter()
                .filter(|p| p.default.is_none())
                .map(|p| match p.ty {
                    crate::api::ParamType::Int => Value::Int(0),
                    crate::api::ParamType::Array => Value::Array(Vec::new()),
                    crate::api::ParamType::Struct => Value::Struct(Vec::new()),
                    crate::api::ParamType::Boolean => Value::Bool(true),
                    _ => Value::from("x"),
                })
                .collect();
            let call = decode(spec.name, params);
            assert!(call.is_ok(), "{}: {call:?}", spec.name);
            assert_eq!(
                matches!(call, Ok(Call::Supervisor(_))),
                spec.name.starts_with("supervisor."),
                "{}",
                spec.name
            );
        }
    }

    #[test]
    fn aliases_decode_to_their_method() {
        let cases = [
            ("supervisor.getVersion", "supervisor.getAPIVersion"),
            ("supervisor.readMainLog", "supervisor.readLog"),
            (
                "supervisor.readProcessLog",
                "supervisor.readProcessStdoutLog",
            ),
            (
                "supervisor.tailProcessLog",
                "supervisor.tailProcessStdoutLog",
            ),
            ("supervisor.clearProcessLog", "supervisor.clearProcessLogs"),
        ];
        for (alias, canonical) in cases {
            let params: Vec<Value> = find_method(alias)
                .unwrap()
                .params
                .iter()
                .map(|p| match p.ty {
                    crate::api::ParamType::Int => Value::Int(3),
                    _ => Value::from("cat"),
                })
                .collect();
            assert_eq!(
                decode(alias, params.clone()),
                decode(canonical, params),
                "{alias}"
            );
        }
    }

    #[test]
    fn typed_fields_with_defaults_and_coercions() {
        assert_eq!(
            decode("supervisor.stopProcess", vec!["g:cat".into()]),
            Ok(Call::Supervisor(SupervisorCall::StopProcess {
                name: "g:cat".into(),
                wait: true
            }))
        );
        assert_eq!(
            decode("supervisor.startProcess", vec!["cat".into(), Value::Int(0)]),
            Ok(Call::Supervisor(SupervisorCall::StartProcess {
                name: "cat".into(),
                wait: false
            }))
        );
        assert_eq!(
            decode(
                "supervisor.signalProcess",
                vec!["cat".into(), Value::Int(9)]
            ),
            Ok(Call::Supervisor(SupervisorCall::SignalProcess {
                name: "cat".into(),
                signal: "9".into()
            }))
        );
        assert_eq!(
            decode(
                "supervisor.tailProcessStderrLog",
                vec!["cat".into(), " -5 ".into(), Value::Bool(true)]
            ),
            Ok(Call::Supervisor(SupervisorCall::TailProcessLog {
                name: "cat".into(),
                stream: Stream::Stderr,
                offset: -5,
                length: 1
            }))
        );
        assert_eq!(
            decode("system.multicall", vec![Value::Array(vec![Value::Nil])]),
            Ok(Call::Multicall {
                calls: vec![Value::Nil]
            })
        );
    }

    #[test]
    fn faults() {
        let unknown = Err(Fault::from(FaultCode::UnknownMethod));
        assert_eq!(decode("supervisor.nope", vec![]), unknown);
        assert_eq!(decode("getState", vec![]), unknown);
        assert_eq!(
            decode("supervisor.getPID", vec![Value::Int(1)]),
            Err(incorrect(None))
        );
        assert_eq!(
            decode("supervisor.getProcessInfo", vec![]),
            Err(incorrect(None))
        );
        // sendProcessStdin names a non-text value; other wrong shapes give the bare fault.
        let stdin = |chars: Value| decode("supervisor.sendProcessStdin", vec!["cat".into(), chars]);
        assert_eq!(stdin(Value::Int(5)), Err(incorrect(Some("5"))));
        assert_eq!(stdin(Value::Bool(false)), Err(incorrect(Some("False"))));
        assert_eq!(stdin(Value::Double(1.5)), Err(incorrect(Some("1.5"))));
        assert_eq!(stdin(Value::Nil), Err(incorrect(Some("nil"))));
        assert_eq!(stdin(Value::Base64(b"x".to_vec())), Err(incorrect(None)));
        assert_eq!(
            decode("supervisor.sendProcessStdin", vec![Value::Int(1)]),
            Err(incorrect(None))
        );
    }
}
