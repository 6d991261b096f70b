//! The method table: every `supervisor.*` and `system.*` method supervisord 4.3 publishes, with the
//! signature `system.methodSignature` reports and a short help text of our own.

use crate::value::Value;

/// How a parameter is checked and coerced by [`parse_params`](super::parse_params).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// An XML-RPC `<string>` (a bare `<value>` text counts as one).
    String,
    /// Reported as `string`; an int is accepted too (supervisord takes `signalProcess(name, 1)`).
    Signal,
    /// An XML-RPC `<int>` / `<i4>`.
    Int,
    /// An XML-RPC `<boolean>` (`wait` parameters).
    Boolean,
    /// An XML-RPC `<array>` (`system.multicall`'s list of calls).
    Array,
    /// An XML-RPC `<struct>`.
    Struct,
}

impl ParamType {
    /// The name `system.methodSignature` uses.
    pub const fn wire_name(self) -> &'static str {
        match self {
            Self::String | Self::Signal => "string",
            Self::Int => "int",
            Self::Boolean => "boolean",
            Self::Array => "array",
            Self::Struct => "struct",
        }
    }
}

/// One parameter. Only booleans may be optional; `default` is the value used when it is left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    /// The parameter's name in supervisord's documentation (`name`, `wait`, `offset`, ...).
    pub name: &'static str,
    /// How it is checked and coerced.
    pub ty: ParamType,
    /// For an optional boolean, its value when left out (`wait` defaults to true); `None` when the
    /// parameter is required.
    pub default: Option<bool>,
}

/// One published method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodSpec {
    /// Full name, e.g. `supervisor.startProcess`.
    pub name: &'static str,
    /// For deprecated aliases, the full name of the method they stand for.
    pub alias_of: Option<&'static str>,
    /// The return type `system.methodSignature` reports (`boolean`, `struct`, `array`, ...).
    pub returns: &'static str,
    /// The positional parameters, in order.
    pub params: &'static [Param],
    /// What `system.methodHelp` answers.
    pub help: &'static str,
}

impl MethodSpec {
    /// The method that actually runs: `alias_of`, else the name itself.
    pub fn canonical(&self) -> &'static str {
        self.alias_of.unwrap_or(self.name)
    }

    /// `[return type, param types...]`, as `system.methodSignature` reports it.
    pub fn signature(&self) -> Vec<&'static str> {
        std::iter::once(self.returns)
            .chain(self.params.iter().map(|p| p.ty.wire_name()))
            .collect()
    }

    /// [`signature`](Self::signature) as the array value `system.methodSignature` returns.
    pub fn signature_value(&self) -> Value {
        Value::array(self.signature())
    }

    /// How many parameters must be given.
    pub fn required_params(&self) -> usize {
        self.params.iter().filter(|p| p.default.is_none()).count()
    }
}

/// Looks a method up by its full name (aliases included).
pub fn find_method(name: &str) -> Option<&'static MethodSpec> {
    METHODS.iter().find(|m| m.name == name)
}

const fn p(name: &'static str, ty: ParamType) -> Param {
    Param {
        name,
        ty,
        default: None,
    }
}

const NAME: Param = p("name", ParamType::String);
const OFFSET: Param = p("offset", ParamType::Int);
const LENGTH: Param = p("length", ParamType::Int);
const SIGNAL: Param = p("signal", ParamType::Signal);
const WAIT: Param = Param {
    name: "wait",
    ty: ParamType::Boolean,
    default: Some(true),
};

const fn m(
    name: &'static str,
    returns: &'static str,
    params: &'static [Param],
    help: &'static str,
) -> MethodSpec {
    MethodSpec {
        name,
        alias_of: None,
        returns,
        params,
        help,
    }
}

const fn alias(
    name: &'static str,
    of: &'static str,
    returns: &'static str,
    params: &'static [Param],
    help: &'static str,
) -> MethodSpec {
    MethodSpec {
        name,
        alias_of: Some(of),
        returns,
        params,
        help,
    }
}

/// Every method, sorted by name as `system.listMethods` returns them (41 entries).
pub const METHODS: &[MethodSpec] = &[
    m(
        "supervisor.addProcessGroup",
        "boolean",
        &[NAME],
        "Activate a group from the last-read configuration; its autostart processes start soon after.",
    ),
    m(
        "supervisor.clearAllProcessLogs",
        "array",
        &[],
        "Truncate the stdout and stderr logs of every process; returns one result struct per process.",
    ),
    m(
        "supervisor.clearLog",
        "boolean",
        &[],
        "Truncate the supervisor's own log file and reopen it.",
    ),
    alias(
        "supervisor.clearProcessLog",
        "supervisor.clearProcessLogs",
        "boolean",
        &[NAME],
        "Old name of clearProcessLogs.",
    ),
    m(
        "supervisor.clearProcessLogs",
        "boolean",
        &[NAME],
        "Truncate and reopen both log files of one process.",
    ),
    m(
        "supervisor.getAPIVersion",
        "string",
        &[],
        "Version of this XML-RPC interface (always \"3.0\").",
    ),
    m(
        "supervisor.getAllConfigInfo",
        "array",
        &[],
        "Configuration of every process from the last-read configuration, one struct per process.",
    ),
    m(
        "supervisor.getAllProcessInfo",
        "array",
        &[],
        "Runtime state of every process, ordered by group then process name.",
    ),
    m(
        "supervisor.getIdentification",
        "string",
        &[],
        "The identifier configured for this supervisor.",
    ),
    m(
        "supervisor.getPID",
        "int",
        &[],
        "Process id of the supervisor.",
    ),
    m(
        "supervisor.getProcessInfo",
        "struct",
        &[NAME],
        "Runtime state of one process, named as `name` or `group:name`.",
    ),
    m(
        "supervisor.getState",
        "struct",
        &[],
        "The supervisor's own state as {statecode, statename}.",
    ),
    m(
        "supervisor.getSupervisorVersion",
        "string",
        &[],
        "The supervisor release this daemon is compatible with.",
    ),
    alias(
        "supervisor.getVersion",
        "supervisor.getAPIVersion",
        "string",
        &[],
        "Old name of getAPIVersion.",
    ),
    m(
        "supervisor.readLog",
        "string",
        &[OFFSET, LENGTH],
        "Read part of the supervisor's log: `length` bytes from `offset`, or the last -offset bytes when \
         offset is negative and length is 0.",
    ),
    alias(
        "supervisor.readMainLog",
        "supervisor.readLog",
        "string",
        &[OFFSET, LENGTH],
        "Old name of readLog.",
    ),
    alias(
        "supervisor.readProcessLog",
        "supervisor.readProcessStdoutLog",
        "string",
        &[NAME, OFFSET, LENGTH],
        "Old name of readProcessStdoutLog.",
    ),
    m(
        "supervisor.readProcessStderrLog",
        "string",
        &[NAME, OFFSET, LENGTH],
        "Read part of a process's stderr log; offset and length work as in readLog.",
    ),
    m(
        "supervisor.readProcessStdoutLog",
        "string",
        &[NAME, OFFSET, LENGTH],
        "Read part of a process's stdout log; offset and length work as in readLog.",
    ),
    m(
        "supervisor.reloadConfig",
        "array",
        &[],
        "Re-read the configuration without applying it; returns [[added, changed, removed]] group names.",
    ),
    m(
        "supervisor.removeProcessGroup",
        "boolean",
        &[NAME],
        "Deactivate a group whose processes are all stopped.",
    ),
    m(
        "supervisor.restart",
        "boolean",
        &[],
        "Stop every process, reload the configuration and start again (same as SIGHUP).",
    ),
    m(
        "supervisor.sendProcessStdin",
        "boolean",
        &[NAME, p("chars", ParamType::String)],
        "Write text (UTF-8 encoded) to a running process's stdin.",
    ),
    m(
        "supervisor.sendRemoteCommEvent",
        "boolean",
        &[p("type", ParamType::String), p("data", ParamType::String)],
        "Emit a REMOTE_COMMUNICATION event with this type and payload to subscribed listeners.",
    ),
    m(
        "supervisor.shutdown",
        "boolean",
        &[],
        "Stop every process and exit the supervisor.",
    ),
    m(
        "supervisor.signalAllProcesses",
        "array",
        &[SIGNAL],
        "Send a signal (name or number) to every running process; one result struct per process.",
    ),
    m(
        "supervisor.signalProcess",
        "boolean",
        &[NAME, SIGNAL],
        "Send a signal (name such as HUP or SIGHUP, or a number) to one process.",
    ),
    m(
        "supervisor.signalProcessGroup",
        "array",
        &[NAME, SIGNAL],
        "Send a signal to every running process of a group; one result struct per process.",
    ),
    m(
        "supervisor.startAllProcesses",
        "array",
        &[WAIT],
        "Start every stopped process; with wait (default) reply once they are running.",
    ),
    m(
        "supervisor.startProcess",
        "boolean",
        &[NAME, WAIT],
        "Start one process; with wait (default) reply once it is RUNNING or has failed.",
    ),
    m(
        "supervisor.startProcessGroup",
        "array",
        &[NAME, WAIT],
        "Start every stopped process of a group; one result struct per process started.",
    ),
    m(
        "supervisor.stopAllProcesses",
        "array",
        &[WAIT],
        "Stop every running process; with wait (default) reply once they have stopped.",
    ),
    m(
        "supervisor.stopProcess",
        "boolean",
        &[NAME, WAIT],
        "Stop one process; with wait (default) reply once it has stopped.",
    ),
    m(
        "supervisor.stopProcessGroup",
        "array",
        &[NAME, WAIT],
        "Stop every running process of a group; one result struct per process stopped.",
    ),
    alias(
        "supervisor.tailProcessLog",
        "supervisor.tailProcessStdoutLog",
        "array",
        &[NAME, OFFSET, LENGTH],
        "Old name of tailProcessStdoutLog.",
    ),
    m(
        "supervisor.tailProcessStderrLog",
        "array",
        &[NAME, OFFSET, LENGTH],
        "Follow a process's stderr log: returns [text, new offset, overflow]; when more than length bytes \
         are new, only the last length bytes are returned and overflow is true.",
    ),
    m(
        "supervisor.tailProcessStdoutLog",
        "array",
        &[NAME, OFFSET, LENGTH],
        "Follow a process's stdout log: returns [text, new offset, overflow]; when more than length bytes \
         are new, only the last length bytes are returned and overflow is true.",
    ),
    m(
        "system.listMethods",
        "array",
        &[],
        "Names of every method this server offers, sorted.",
    ),
    m(
        "system.methodHelp",
        "string",
        &[p("name", ParamType::String)],
        "A short description of the named method.",
    ),
    m(
        "system.methodSignature",
        "array",
        &[p("name", ParamType::String)],
        "The named method's types as [return type, parameter types...].",
    ),
    m(
        "system.multicall",
        "array",
        &[p("calls", ParamType::Array)],
        "Run {methodName, params} structs one after another; returns each result as is, or a \
         {faultCode, faultString} struct for calls that failed.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// `system.methodSignature` for every method of `system.listMethods`, captured from supervisord 4.3.0.
    const CAPTURED: &str = include_str!("../../tests/fixtures/supervisord-4.3.0-signatures.txt");

    #[test]
    fn table_matches_captured_supervisord() {
        let ours: Vec<String> = METHODS
            .iter()
            .map(|m| {
                format!("{} {}", m.name, m.signature().join(" "))
                    .trim_end()
                    .to_owned()
            })
            .collect();
        let theirs: Vec<&str> = CAPTURED.lines().collect();
        assert_eq!(ours.len(), 41);
        assert_eq!(ours, theirs);
    }

    #[test]
    fn sorted_unique_and_aliases_resolve() {
        for pair in METHODS.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{} before {}",
                pair[0].name,
                pair[1].name
            );
        }
        let aliases: Vec<_> = METHODS.iter().filter(|m| m.alias_of.is_some()).collect();
        assert_eq!(aliases.len(), 5);
        for a in aliases {
            let target = find_method(a.canonical()).expect("alias target exists");
            assert_eq!(target.alias_of, None);
            assert_eq!(target.signature(), a.signature());
        }
        assert_eq!(
            find_method("supervisor.getVersion").map(MethodSpec::canonical),
            Some("supervisor.getAPIVersion")
        );
        assert!(find_method("supervisor.nope").is_none());
        assert!(find_method("supervisor._update").is_none());
    }

    #[test]
    fn optional_params_are_trailing_wait_booleans() {
        for m in METHODS {
            let first_optional = m.params.iter().position(|p| p.default.is_some());
            if let Some(i) = first_optional {
                assert!(m.params[i..].iter().all(|p| p.default == Some(true)));
                assert!(
                    m.params[i..]
                        .iter()
                        .all(|p| p.ty == ParamType::Boolean && p.name == "wait")
                );
            }
            assert!(!m.help.is_empty());
        }
        let start = find_method("supervisor.startProcess").unwrap();
        assert_eq!(start.required_params(), 1);
        assert_eq!(
            start.signature_value(),
            Value::array(["boolean", "string", "boolean"])
        );
    }
}
