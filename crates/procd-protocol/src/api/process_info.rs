//! Runtime structures: `ProcessInfo`, the per-process result struct of group operations, `getState`'s
//! struct, a log tail chunk and `reloadConfig`'s result. Member order matches supervisord's replies.

use super::capped_int;
use super::fields::{Fields, FromValueError};
use crate::fault::{Fault, FaultCode};
use crate::states::{ProcessState, SupervisorState};
use crate::value::Value;

/// One process as `getProcessInfo` / `getAllProcessInfo` describe it.
///
/// `statename` and the legacy `logfile` key are derived (from `state` and `stdout_logfile`) when encoding.
/// Times are epoch seconds, clamped to the int range on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    /// The process name (not the namespec).
    pub name: String,
    /// The name of its group.
    pub group: String,
    /// When the process was last started (Unix seconds); 0 if never.
    pub start: i64,
    /// When it last stopped or exited (Unix seconds); 0 if never.
    pub stop: i64,
    /// The server's clock when the reply was made (Unix seconds), so clients can compute the uptime.
    pub now: i64,
    /// The process state; `statename` is derived from it.
    pub state: ProcessState,
    /// The text of the last spawn error (`can't find command ...`); empty when there was none.
    pub spawnerr: String,
    /// The exit code of the last exit, -1 when the child was killed by a signal; 0 when none is
    /// recorded (never run, or cleared by a new spawn).
    pub exitstatus: i32,
    /// The stdout log file's path; empty when there is none.
    pub stdout_logfile: String,
    /// The stderr log file's path; empty when there is none.
    pub stderr_logfile: String,
    /// The child's pid; 0 when none is running.
    pub pid: i32,
    /// The one-line summary `status` prints: `pid 42, uptime 0:01:05`, `Exited too quickly (process
    /// log may have details)`, the stop time, ...
    pub description: String,
}

impl ProcessInfo {
    /// A process that has not run: no start/stop times, pid, exit status or log files.
    pub fn new(group: &str, name: &str, state: ProcessState, description: &str) -> Self {
        ProcessInfo {
            name: name.into(),
            group: group.into(),
            start: 0,
            stop: 0,
            now: 0,
            state,
            spawnerr: String::new(),
            exitstatus: 0,
            stdout_logfile: String::new(),
            stderr_logfile: String::new(),
            pid: 0,
            description: description.into(),
        }
    }

    /// The struct as supervisord sends it, members in supervisord's order.
    pub fn to_value(&self) -> Value {
        Value::structure([
            ("name", Value::from(&self.name)),
            ("group", Value::from(&self.group)),
            ("start", Value::Int(capped_int(self.start))),
            ("stop", Value::Int(capped_int(self.stop))),
            ("now", Value::Int(capped_int(self.now))),
            ("state", Value::Int(self.state.code())),
            ("statename", Value::from(self.state.name())),
            ("spawnerr", Value::from(&self.spawnerr)),
            ("exitstatus", Value::Int(self.exitstatus)),
            ("logfile", Value::from(&self.stdout_logfile)),
            ("stdout_logfile", Value::from(&self.stdout_logfile)),
            ("stderr_logfile", Value::from(&self.stderr_logfile)),
            ("pid", Value::Int(self.pid)),
            ("description", Value::from(&self.description)),
        ])
    }

    /// [`ProcessInfo::to_value`], moving the strings instead of copying them (`getAllProcessInfo`
    /// builds one per process).
    pub fn into_value(self) -> Value {
        let state = self.state;
        Value::structure([
            ("name", Value::String(self.name)),
            ("group", Value::String(self.group)),
            ("start", Value::Int(capped_int(self.start))),
            ("stop", Value::Int(capped_int(self.stop))),
            ("now", Value::Int(capped_int(self.now))),
            ("state", Value::Int(state.code())),
            ("statename", Value::from(state.name())),
            ("spawnerr", Value::String(self.spawnerr)),
            ("exitstatus", Value::Int(self.exitstatus)),
            ("logfile", Value::from(&self.stdout_logfile)),
            ("stdout_logfile", Value::String(self.stdout_logfile)),
            ("stderr_logfile", Value::String(self.stderr_logfile)),
            ("pid", Value::Int(self.pid)),
            ("description", Value::String(self.description)),
        ])
    }

    /// Reads the value a server sent; a wrong shape is an error naming the member at fault.
    pub fn from_value(value: &Value) -> Result<Self, FromValueError> {
        let f = Fields::new(value)?;
        let code = f.int("state")?;
        Ok(ProcessInfo {
            name: f.string("name")?,
            group: f.string("group")?,
            start: f.int("start")?.into(),
            stop: f.int("stop")?.into(),
            now: f.int("now")?.into(),
            state: ProcessState::from_code(code).ok_or(FromValueError::UnknownState(code))?,
            spawnerr: f.string("spawnerr")?,
            exitstatus: f.int("exitstatus")?,
            stdout_logfile: f.string("stdout_logfile")?,
            stderr_logfile: f.string("stderr_logfile")?,
            pid: f.int("pid")?,
            description: f.string("description")?,
        })
    }
}

/// Outcome for one process of a group or "all" operation (`startProcessGroup`, `stopAllProcesses`, ...).
/// `status` is a fault code, or 80 (`SUCCESS`) with description `OK`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultStruct {
    /// The process name.
    pub name: String,
    /// Its group's name.
    pub group: String,
    /// A fault code (`SPAWN_ERROR`, `NOT_RUNNING`, ...), or 80 (`SUCCESS`).
    pub status: i32,
    /// `OK`, or the fault's text.
    pub description: String,
}

impl ResultStruct {
    /// A success entry: status 80, description `OK`.
    pub fn success(name: impl Into<String>, group: impl Into<String>) -> Self {
        ResultStruct {
            name: name.into(),
            group: group.into(),
            status: FaultCode::Success.code(),
            description: "OK".to_owned(),
        }
    }

    /// The entry for a process whose operation failed with `fault`.
    pub fn from_fault(name: impl Into<String>, group: impl Into<String>, fault: &Fault) -> Self {
        ResultStruct {
            name: name.into(),
            group: group.into(),
            status: fault.code,
            description: fault.string.clone(),
        }
    }

    /// Whether `status` is `SUCCESS`.
    pub fn is_success(&self) -> bool {
        self.status == FaultCode::Success.code()
    }

    /// The struct as supervisord sends it, members in supervisord's order.
    pub fn to_value(&self) -> Value {
        Value::structure([
            ("name", Value::from(&self.name)),
            ("group", Value::from(&self.group)),
            ("status", Value::Int(self.status)),
            ("description", Value::from(&self.description)),
        ])
    }

    /// Reads the value a server sent; a wrong shape is an error naming the member at fault.
    pub fn from_value(value: &Value) -> Result<Self, FromValueError> {
        let f = Fields::new(value)?;
        Ok(ResultStruct {
            name: f.string("name")?,
            group: f.string("group")?,
            status: f.int("status")?,
            description: f.string("description")?,
        })
    }
}

/// `getState`'s `{statecode, statename}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateInfo(pub SupervisorState);

impl StateInfo {
    /// `{statecode, statename}`, as supervisord sends it.
    pub fn to_value(&self) -> Value {
        Value::structure([
            ("statecode", Value::Int(self.0.code())),
            ("statename", Value::from(self.0.name())),
        ])
    }

    /// Reads the value a server sent; a wrong shape is an error naming the member at fault.
    pub fn from_value(value: &Value) -> Result<Self, FromValueError> {
        let code = Fields::new(value)?.int("statecode")?;
        SupervisorState::from_code(code)
            .map(StateInfo)
            .ok_or(FromValueError::UnknownState(code))
    }
}

/// `tailProcess*Log`'s `[bytes, offset, overflow]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailChunk {
    /// The log text read (at most the `length` asked for).
    pub bytes: String,
    /// The log's size at the time: pass it as the next call's `offset` to get only what follows.
    pub offset: i64,
    /// More than `length` bytes were available since `offset`: the ones before `bytes` were skipped.
    pub overflow: bool,
}

impl TailChunk {
    /// `[bytes, offset, overflow]`, as supervisord sends it.
    pub fn to_value(&self) -> Value {
        Value::array([
            Value::from(&self.bytes),
            Value::Int(capped_int(self.offset)),
            Value::Bool(self.overflow),
        ])
    }

    /// Reads the value a server sent; a wrong shape is an error naming the member at fault.
    pub fn from_value(value: &Value) -> Result<Self, FromValueError> {
        let wrong = || FromValueError::WrongType {
            expected: "array [string, int, boolean]",
            found: value.type_name(),
        };
        match value.as_array().ok_or_else(wrong)? {
            [
                Value::String(bytes),
                Value::Int(offset),
                Value::Bool(overflow),
            ] => Ok(TailChunk {
                bytes: bytes.clone(),
                offset: (*offset).into(),
                overflow: *overflow,
            }),
            _ => Err(wrong()),
        }
    }
}

/// `reloadConfig`'s group-name lists, sent nested once more: `[[added, changed, removed]]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadResult {
    /// Groups only in the reread config.
    pub added: Vec<String>,
    /// Groups in both whose config differs.
    pub changed: Vec<String>,
    /// Groups only in the running config.
    pub removed: Vec<String>,
}

impl ReloadResult {
    /// `[[added, changed, removed]]`, as supervisord sends it.
    pub fn to_value(&self) -> Value {
        let list = |names: &[String]| Value::array(names.iter());
        Value::array([Value::array([
            list(&self.added),
            list(&self.changed),
            list(&self.removed),
        ])])
    }

    /// Reads the value a server sent; a wrong shape is an error naming the member at fault.
    pub fn from_value(value: &Value) -> Result<Self, FromValueError> {
        let wrong = || FromValueError::WrongType {
            expected: "array [[added, changed, removed]]",
            found: value.type_name(),
        };
        let names = |v: &Value| -> Result<Vec<String>, FromValueError> {
            v.as_array()
                .ok_or_else(wrong)?
                .iter()
                .map(|n| n.as_str().map(str::to_owned).ok_or_else(wrong))
                .collect()
        };
        match value.as_array().ok_or_else(wrong)? {
            [inner] => match inner.as_array().ok_or_else(wrong)? {
                [added, changed, removed] => Ok(ReloadResult {
                    added: names(added)?,
                    changed: names(changed)?,
                    removed: names(removed)?,
                }),
                _ => Err(wrong()),
            },
            _ => Err(wrong()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::encode_response;

    fn sample() -> ProcessInfo {
        ProcessInfo {
            name: "cat".into(),
            group: "cat".into(),
            start: 1_795_693_340,
            stop: 0,
            now: 1_795_693_347,
            state: ProcessState::Running,
            spawnerr: String::new(),
            exitstatus: 0,
            stdout_logfile: "/tmp/cat-stdout---supervisor-wbk0s5ca.log".into(),
            stderr_logfile: "/tmp/cat-stderr---supervisor-ug0jqxyk.log".into(),
            pid: 6571,
            description: "pid 6571, uptime 0:00:07".into(),
        }
    }

    /// Body of a real supervisord 4.3.0 `getAllProcessInfo` reply, captured from the wire.
    const CAPTURED: &str = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><array><data>\n<value><struct>\n<member>\n<name>name</name>\n<value><string>cat</string></value>\n</member>\n<member>\n<name>group</name>\n<value><string>cat</string></value>\n</member>\n<member>\n<name>start</name>\n<value><int>1795693340</int></value>\n</member>\n<member>\n<name>stop</name>\n<value><int>0</int></value>\n</member>\n<member>\n<name>now</name>\n<value><int>1795693347</int></value>\n</member>\n<member>\n<name>state</name>\n<value><int>20</int></value>\n</member>\n<member>\n<name>statename</name>\n<value><string>RUNNING</string></value>\n</member>\n<member>\n<name>spawnerr</name>\n<value><string></string></value>\n</member>\n<member>\n<name>exitstatus</name>\n<value><int>0</int></value>\n</member>\n<member>\n<name>logfile</name>\n<value><string>/tmp/cat-stdout---supervisor-wbk0s5ca.log</string></value>\n</member>\n<member>\n<name>stdout_logfile</name>\n<value><string>/tmp/cat-stdout---supervisor-wbk0s5ca.log</string></value>\n</member>\n<member>\n<name>stderr_logfile</name>\n<value><string>/tmp/cat-stderr---supervisor-ug0jqxyk.log</string></value>\n</member>\n<member>\n<name>pid</name>\n<value><int>6571</int></value>\n</member>\n<member>\n<name>description</name>\n<value><string>pid 6571, uptime 0:00:07</string></value>\n</member>\n</struct></value>\n</data></array></value>\n</param>\n</params>\n</methodResponse>\n";

    #[test]
    fn process_info_bytes_match_supervisord() {
        let body = encode_response(&Value::array([sample().to_value()]));
        assert_eq!(String::from_utf8(body).unwrap(), CAPTURED);
    }

    #[test]
    fn process_info_round_trips_and_clamps() {
        let info = sample();
        assert_eq!(ProcessInfo::from_value(&info.to_value()), Ok(info.clone()));
        let far = ProcessInfo {
            now: i64::from(i32::MAX) + 10,
            ..info
        };
        assert_eq!(far.to_value().get("now"), Some(&Value::Int(i32::MAX)));
    }

    #[test]
    fn process_info_shape_errors() {
        assert!(matches!(
            ProcessInfo::from_value(&Value::Int(1)),
            Err(FromValueError::WrongType { .. })
        ));
        let mut v = sample().to_value();
        if let Value::Struct(members) = &mut v {
            members.retain(|(k, _)| k != "pid");
        }
        assert_eq!(
            ProcessInfo::from_value(&v),
            Err(FromValueError::MissingKey("pid"))
        );
        let mut v = sample().to_value();
        if let Value::Struct(members) = &mut v {
            members.push(("state".into(), Value::Int(7)));
        }
        assert_eq!(
            ProcessInfo::from_value(&v),
            Err(FromValueError::UnknownState(7))
        );
        let mut v = sample().to_value();
        if let Value::Struct(members) = &mut v {
            members.push(("name".into(), Value::Int(7)));
        }
        assert!(matches!(
            ProcessInfo::from_value(&v),
            Err(FromValueError::WrongMemberType { key: "name", .. })
        ));
    }

    #[test]
    fn result_structs() {
        let ok = ResultStruct::success("a", "g");
        assert!(ok.is_success());
        assert_eq!(ok.to_value().get("status"), Some(&Value::Int(80)));
        assert_eq!(ok.to_value().get("description"), Some(&Value::from("OK")));
        let failed =
            ResultStruct::from_fault("a", "g", &Fault::new(FaultCode::SpawnError, Some("quick")));
        assert!(!failed.is_success());
        assert_eq!(failed.description, "SPAWN_ERROR: quick");
        assert_eq!(ResultStruct::from_value(&failed.to_value()), Ok(failed));
        let keys: Vec<_> = ok
            .to_value()
            .as_struct()
            .unwrap()
            .iter()
            .map(|(k, _)| k.clone())
            .collect();
        assert_eq!(keys, ["name", "group", "status", "description"]);
    }

    #[test]
    fn state_tail_and_reload_shapes() {
        let s = StateInfo(SupervisorState::Running);
        assert_eq!(
            s.to_value(),
            Value::structure([
                ("statecode", Value::Int(1)),
                ("statename", "RUNNING".into())
            ])
        );
        assert_eq!(StateInfo::from_value(&s.to_value()), Ok(s));
        assert_eq!(
            StateInfo::from_value(&Value::structure([("statecode", 9)])),
            Err(FromValueError::UnknownState(9))
        );

        let t = TailChunk {
            bytes: "rr\n".into(),
            offset: 4,
            overflow: true,
        };
        assert_eq!(
            t.to_value(),
            Value::array([Value::from("rr\n"), Value::Int(4), Value::Bool(true)])
        );
        assert_eq!(TailChunk::from_value(&t.to_value()), Ok(t));
        assert!(TailChunk::from_value(&Value::array([1, 2, 3])).is_err());

        let r = ReloadResult {
            added: vec!["new".into()],
            changed: vec![],
            removed: vec!["old".into(), "older".into()],
        };
        let v = r.to_value();
        assert_eq!(
            v,
            Value::array([Value::array([
                Value::array(["new"]),
                Value::Array(vec![]),
                Value::array(["old", "older"]),
            ])])
        );
        assert_eq!(ReloadResult::from_value(&v), Ok(r));
        assert!(ReloadResult::from_value(&Value::array([Value::Array(vec![])])).is_err());
    }
}
