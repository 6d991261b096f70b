//! supervisord's fault codes and the `Fault` carried in XML-RPC fault responses.

use std::fmt;

use crate::value::Value;

/// Every fault code supervisord 4.3 defines, with its wire number and name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultCode {
    /// 1: the method is not published (an unknown name, or a namespace procd does not serve).
    UnknownMethod,
    /// 2: wrong number or types of parameters for the method's signature.
    IncorrectParameters,
    /// 3: parameters of the right type with unusable values (e.g. a negative log offset with a
    /// non-zero length).
    BadArguments,
    /// 4: `system.methodHelp` / `methodSignature` of a method that does not exist.
    SignatureUnsupported,
    /// 6: the supervisor is shutting down or restarting and refuses the method.
    ShutdownState,
    /// 10: no process or group has this name.
    BadName,
    /// 11: the signal name or number is not a signal.
    BadSignal,
    /// 20: a file is missing: the program's command, a log file, or a closed stdin.
    NoFile,
    /// 21: the program's command exists but is not executable (or is a directory).
    NotExecutable,
    /// 30: the operation failed; the text says why (e.g. `<name> is in an unknown process state`).
    Failed,
    /// 40: a waited-for start ended with the process exiting instead of reaching RUNNING.
    AbnormalTermination,
    /// 50: the process could not be spawned (its `spawnerr` is set), or, with procd's `depends_on`, a
    /// dependency can no longer be met.
    SpawnError,
    /// 60: `startProcess` of a process that is already running or starting.
    AlreadyStarted,
    /// 70: stop, signal or stdin for a process that is not running.
    NotRunning,
    /// 80: not a fault: the `status` of a successful entry in a group operation's result list.
    Success,
    /// 90: `addProcessGroup` of a group that is already active.
    AlreadyAdded,
    /// 91: `removeProcessGroup` of a group that still has running processes.
    StillRunning,
    /// 92: `reloadConfig` could not read the config; the text carries the error.
    CantReread,
}

impl FaultCode {
    /// Every fault, in code order.
    pub const ALL: [FaultCode; 18] = [
        Self::UnknownMethod,
        Self::IncorrectParameters,
        Self::BadArguments,
        Self::SignatureUnsupported,
        Self::ShutdownState,
        Self::BadName,
        Self::BadSignal,
        Self::NoFile,
        Self::NotExecutable,
        Self::Failed,
        Self::AbnormalTermination,
        Self::SpawnError,
        Self::AlreadyStarted,
        Self::NotRunning,
        Self::Success,
        Self::AlreadyAdded,
        Self::StillRunning,
        Self::CantReread,
    ];

    /// The numeric `faultCode`.
    pub const fn code(self) -> i32 {
        match self {
            Self::UnknownMethod => 1,
            Self::IncorrectParameters => 2,
            Self::BadArguments => 3,
            Self::SignatureUnsupported => 4,
            Self::ShutdownState => 6,
            Self::BadName => 10,
            Self::BadSignal => 11,
            Self::NoFile => 20,
            Self::NotExecutable => 21,
            Self::Failed => 30,
            Self::AbnormalTermination => 40,
            Self::SpawnError => 50,
            Self::AlreadyStarted => 60,
            Self::NotRunning => 70,
            Self::Success => 80,
            Self::AlreadyAdded => 90,
            Self::StillRunning => 91,
            Self::CantReread => 92,
        }
    }

    /// The upper-case name that starts every `faultString`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::UnknownMethod => "UNKNOWN_METHOD",
            Self::IncorrectParameters => "INCORRECT_PARAMETERS",
            Self::BadArguments => "BAD_ARGUMENTS",
            Self::SignatureUnsupported => "SIGNATURE_UNSUPPORTED",
            Self::ShutdownState => "SHUTDOWN_STATE",
            Self::BadName => "BAD_NAME",
            Self::BadSignal => "BAD_SIGNAL",
            Self::NoFile => "NO_FILE",
            Self::NotExecutable => "NOT_EXECUTABLE",
            Self::Failed => "FAILED",
            Self::AbnormalTermination => "ABNORMAL_TERMINATION",
            Self::SpawnError => "SPAWN_ERROR",
            Self::AlreadyStarted => "ALREADY_STARTED",
            Self::NotRunning => "NOT_RUNNING",
            Self::Success => "SUCCESS",
            Self::AlreadyAdded => "ALREADY_ADDED",
            Self::StillRunning => "STILL_RUNNING",
            Self::CantReread => "CANT_REREAD",
        }
    }

    /// The fault with this numeric `faultCode`; `None` for codes supervisord does not define.
    pub fn from_code(code: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.code() == code)
    }

    /// The fault with this upper-case name (`BAD_NAME`).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl fmt::Display for FaultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An XML-RPC fault: `faultCode` and `faultString`.
///
/// Faults built by [`Fault::new`] follow supervisord's text rule: `"NAME: extra"`, or `"NAME"` alone.
/// Display shows the fault string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fault {
    /// `faultCode`: normally one of [`FaultCode`]'s numbers; any int is kept as received.
    pub code: i32,
    /// `faultString`: `NAME` or `NAME: extra` (e.g. `BAD_NAME: foo`).
    pub string: String,
}

impl Fault {
    /// The fault `code` with supervisord's text: `NAME: extra`, or `NAME` when there is no extra.
    pub fn new(code: FaultCode, extra: Option<&str>) -> Self {
        let string = match extra {
            Some(extra) => format!("{}: {extra}", code.name()),
            None => code.name().to_owned(),
        };
        Fault {
            code: code.code(),
            string,
        }
    }

    /// `Fault::new(code, Some(extra))` for any displayable extra.
    pub fn with_extra(code: FaultCode, extra: impl fmt::Display) -> Self {
        Fault::new(code, Some(&extra.to_string()))
    }

    /// The known fault this is, if its code is one of supervisord's.
    pub fn code_enum(&self) -> Option<FaultCode> {
        FaultCode::from_code(self.code)
    }

    /// The `{faultCode, faultString}` struct, as used in fault responses and inside multicall results.
    pub fn to_value(&self) -> Value {
        Value::structure([
            ("faultCode", Value::Int(self.code)),
            ("faultString", Value::String(self.string.clone())),
        ])
    }

    /// Reads a `{faultCode, faultString}` struct; `None` when the value does not have that shape.
    pub fn from_value(value: &Value) -> Option<Fault> {
        let code = value.get("faultCode")?.as_int()?;
        let string = value.get("faultString")?.as_str()?.to_owned();
        Some(Fault { code, string })
    }
}

impl From<FaultCode> for Fault {
    fn from(code: FaultCode) -> Self {
        Fault::new(code, None)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.string)
    }
}

impl std::error::Error for Fault {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_match_supervisord() {
        let expected = [
            (1, "UNKNOWN_METHOD"),
            (2, "INCORRECT_PARAMETERS"),
            (3, "BAD_ARGUMENTS"),
            (4, "SIGNATURE_UNSUPPORTED"),
            (6, "SHUTDOWN_STATE"),
            (10, "BAD_NAME"),
            (11, "BAD_SIGNAL"),
            (20, "NO_FILE"),
            (21, "NOT_EXECUTABLE"),
            (30, "FAILED"),
            (40, "ABNORMAL_TERMINATION"),
            (50, "SPAWN_ERROR"),
            (60, "ALREADY_STARTED"),
            (70, "NOT_RUNNING"),
            (80, "SUCCESS"),
            (90, "ALREADY_ADDED"),
            (91, "STILL_RUNNING"),
            (92, "CANT_REREAD"),
        ];
        let actual: Vec<_> = FaultCode::ALL
            .iter()
            .map(|f| (f.code(), f.name()))
            .collect();
        assert_eq!(actual, expected);
        for f in FaultCode::ALL {
            assert_eq!(FaultCode::from_code(f.code()), Some(f));
            assert_eq!(FaultCode::from_name(f.name()), Some(f));
        }
        assert_eq!(FaultCode::from_code(5), None);
        assert_eq!(FaultCode::from_name("BAD"), None);
    }

    #[test]
    fn fault_strings_follow_supervisord() {
        let f = Fault::new(FaultCode::BadName, Some("foo"));
        assert_eq!((f.code, f.string.as_str()), (10, "BAD_NAME: foo"));
        assert_eq!(f.to_string(), "BAD_NAME: foo");
        assert_eq!(f.code_enum(), Some(FaultCode::BadName));
        let f = Fault::from(FaultCode::UnknownMethod);
        assert_eq!((f.code, f.string.as_str()), (1, "UNKNOWN_METHOD"));
        let f = Fault::with_extra(FaultCode::SpawnError, 42);
        assert_eq!(f.string, "SPAWN_ERROR: 42");
        let odd = Fault {
            code: 99,
            string: "x".into(),
        };
        assert_eq!(odd.code_enum(), None);
    }

    #[test]
    fn fault_struct_round_trips() {
        let f = Fault::new(FaultCode::Failed, Some("boom"));
        let v = f.to_value();
        assert_eq!(v.get("faultCode"), Some(&Value::Int(30)));
        assert_eq!(Fault::from_value(&v), Some(f));
        assert_eq!(Fault::from_value(&Value::Int(1)), None);
        assert_eq!(
            Fault::from_value(&Value::structure([("faultCode", "1")])),
            None
        );
    }
}
