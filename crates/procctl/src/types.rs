//! Typed results of supervisord's API as the client sees them, decoded from XML-RPC values.

use procd_protocol::Value;
use serde::Serialize;

use crate::error::ClientError;

fn shape(what: &str, v: &Value) -> ClientError {
    ClientError::Protocol(format!("expected {what}, got {}", v.type_name()))
}

fn field<'a>(v: &'a Value, key: &str) -> Result<&'a Value, ClientError> {
    v.get(key)
        .ok_or_else(|| ClientError::Protocol(format!("missing struct member {key:?}")))
}

pub(crate) fn str_field(v: &Value, key: &str) -> Result<String, ClientError> {
    let f = field(v, key)?;
    f.as_str()
        .map(str::to_owned)
        .ok_or_else(|| shape("string", f))
}

pub(crate) fn int_field(v: &Value, key: &str) -> Result<i32, ClientError> {
    let f = field(v, key)?;
    f.as_int().ok_or_else(|| shape("int", f))
}

/// Python truthiness of a member that may be a boolean or an int.
fn bool_field(v: &Value, key: &str) -> Result<bool, ClientError> {
    let f = field(v, key)?;
    match f {
        Value::Bool(b) => Ok(*b),
        Value::Int(i) => Ok(*i != 0),
        other => Err(shape("boolean", other)),
    }
}

fn opt_str(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn opt_int(v: &Value, key: &str) -> i32 {
    v.get(key).and_then(Value::as_int).unwrap_or_default()
}

/// `getProcessInfo` / `getAllProcessInfo` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProcessInfo {
    pub name: String,
    pub group: String,
    pub start: i32,
    pub stop: i32,
    pub now: i32,
    pub state: i32,
    pub statename: String,
    pub spawnerr: String,
    pub exitstatus: i32,
    pub logfile: String,
    pub stdout_logfile: String,
    pub stderr_logfile: String,
    pub pid: i32,
    pub description: String,
}

impl ProcessInfo {
    pub fn from_value(v: &Value) -> Result<Self, ClientError> {
        Ok(ProcessInfo {
            name: str_field(v, "name")?,
            group: str_field(v, "group")?,
            start: opt_int(v, "start"),
            stop: opt_int(v, "stop"),
            now: opt_int(v, "now"),
            state: int_field(v, "state")?,
            statename: str_field(v, "statename")?,
            spawnerr: opt_str(v, "spawnerr"),
            exitstatus: opt_int(v, "exitstatus"),
            logfile: opt_str(v, "logfile"),
            stdout_logfile: opt_str(v, "stdout_logfile"),
            stderr_logfile: opt_str(v, "stderr_logfile"),
            pid: opt_int(v, "pid"),
            description: opt_str(v, "description"),
        })
    }

    /// The typed state, if the code is one supervisord defines.
    pub fn process_state(&self) -> Option<procd_protocol::ProcessState> {
        procd_protocol::ProcessState::from_code(self.state)
    }
}

/// The parts of a `getAllConfigInfo` entry supervisorctl uses (the raw value is kept in `raw`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigInfo {
    pub name: String,
    pub group: String,
    pub inuse: bool,
    pub autostart: bool,
    pub group_prio: i32,
    pub process_prio: i32,
}

impl ConfigInfo {
    pub fn from_value(v: &Value) -> Result<Self, ClientError> {
        Ok(ConfigInfo {
            name: str_field(v, "name")?,
            group: str_field(v, "group")?,
            inuse: bool_field(v, "inuse")?,
            autostart: bool_field(v, "autostart")?,
            group_prio: int_field(v, "group_prio")?,
            process_prio: int_field(v, "process_prio")?,
        })
    }
}

/// Per-process outcome of a group or "all" operation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CallResult {
    pub name: String,
    pub group: String,
    /// A fault code, or 80 (SUCCESS).
    pub status: i32,
    pub description: String,
}

impl CallResult {
    pub fn from_value(v: &Value) -> Result<Self, ClientError> {
        Ok(CallResult {
            name: str_field(v, "name")?,
            group: str_field(v, "group")?,
            status: int_field(v, "status")?,
            description: opt_str(v, "description"),
        })
    }
}

/// `reloadConfig` result: group names added, changed and removed in the re-read configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReloadDiff {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

impl ReloadDiff {
    /// Decodes `[[added, changed, removed]]`.
    pub fn from_value(v: &Value) -> Result<Self, ClientError> {
        let outer = v.as_array().ok_or_else(|| shape("array", v))?;
        let inner = outer
            .first()
            .ok_or_else(|| ClientError::Protocol("empty reloadConfig result".into()))?;
        let parts = inner.as_array().ok_or_else(|| shape("array", inner))?;
        let list = |i: usize| -> Result<Vec<String>, ClientError> {
            let Some(p) = parts.get(i) else {
                return Ok(Vec::new());
            };
            string_list(p)
        };
        Ok(ReloadDiff {
            added: list(0)?,
            changed: list(1)?,
            removed: list(2)?,
        })
    }
}

/// `tailProcess*Log` result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TailChunk {
    pub bytes: String,
    pub offset: i32,
    pub overflow: bool,
}

impl TailChunk {
    pub fn from_value(v: &Value) -> Result<Self, ClientError> {
        let items = v.as_array().ok_or_else(|| shape("array", v))?;
        match items {
            [b, o, f] => Ok(TailChunk {
                bytes: b.as_str().ok_or_else(|| shape("string", b))?.to_owned(),
                offset: o.as_int().ok_or_else(|| shape("int", o))?,
                overflow: match f {
                    Value::Bool(x) => *x,
                    Value::Int(x) => *x != 0,
                    other => return Err(shape("boolean", other)),
                },
            }),
            _ => Err(ClientError::Protocol(
                "tail result is not [string, int, boolean]".into(),
            )),
        }
    }
}

/// `getState` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateInfo {
    pub statecode: i32,
    pub statename: String,
}

impl StateInfo {
    pub fn from_value(v: &Value) -> Result<Self, ClientError> {
        Ok(StateInfo {
            statecode: int_field(v, "statecode")?,
            statename: str_field(v, "statename")?,
        })
    }
}

pub(crate) fn string_list(v: &Value) -> Result<Vec<String>, ClientError> {
    let items = v.as_array().ok_or_else(|| shape("array", v))?;
    items
        .iter()
        .map(|i| {
            i.as_str()
                .map(str::to_owned)
                .ok_or_else(|| shape("string", i))
        })
        .collect()
}

pub(crate) fn list_of<T>(
    v: &Value,
    f: fn(&Value) -> Result<T, ClientError>,
) -> Result<Vec<T>, ClientError> {
    v.as_array()
        .ok_or_else(|| shape("array", v))?
        .iter()
        .map(f)
        .collect()
}

pub(crate) fn as_bool(v: &Value) -> Result<bool, ClientError> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Int(i) => Ok(*i != 0),
        other => Err(shape("boolean", other)),
    }
}

pub(crate) fn as_int(v: &Value) -> Result<i32, ClientError> {
    v.as_int().ok_or_else(|| shape("int", v))
}

pub(crate) fn as_string(v: Value) -> Result<String, ClientError> {
    v.into_string().map_err(|o| shape("string", &o))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_reload_diff_and_tail() {
        let v = Value::array([Value::array([
            Value::array(["new"]),
            Value::array(Vec::<Value>::new()),
            Value::array(["old", "gone"]),
        ])]);
        let d = ReloadDiff::from_value(&v).unwrap();
        assert_eq!(d.added, ["new"]);
        assert!(d.changed.is_empty());
        assert_eq!(d.removed, ["old", "gone"]);
        let t = TailChunk::from_value(&Value::array([
            Value::from("rr\n"),
            Value::Int(4),
            Value::Bool(true),
        ]))
        .unwrap();
        assert_eq!(
            t,
            TailChunk {
                bytes: "rr\n".into(),
                offset: 4,
                overflow: true
            }
        );
        assert!(TailChunk::from_value(&Value::Int(1)).is_err());
    }

    #[test]
    fn process_info_requires_core_fields() {
        let v = Value::structure([
            ("name", Value::from("a")),
            ("group", Value::from("g")),
            ("state", Value::Int(20)),
            ("statename", Value::from("RUNNING")),
            ("pid", Value::Int(42)),
            ("description", Value::from("pid 42, uptime 0:00:01")),
        ]);
        let info = ProcessInfo::from_value(&v).unwrap();
        assert_eq!(
            (info.pid, info.process_state()),
            (42, Some(procd_protocol::ProcessState::Running))
        );
        assert!(ProcessInfo::from_value(&Value::structure([("name", "a")])).is_err());
    }
}
