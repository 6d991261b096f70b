//! The API's typed results are procd-protocol's (`procd_protocol::api`); this module holds the client's
//! decoding of plain values (booleans, ints, strings, lists) and the JSON form `status --json` prints.

use procd_protocol::Value;
use procd_protocol::api::FromValueError;
pub use procd_protocol::api::{
    ConfigInfo, ProcessInfo, ReloadResult, ResultStruct, StateInfo, TailChunk,
};

use crate::error::ClientError;

fn shape(what: &'static str, v: &Value) -> ClientError {
    ClientError::Decode(FromValueError::WrongType {
        expected: what,
        found: v.type_name(),
    })
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
    f: fn(&Value) -> Result<T, FromValueError>,
) -> Result<Vec<T>, ClientError> {
    v.as_array()
        .ok_or_else(|| shape("array", v))?
        .iter()
        .map(|item| f(item).map_err(ClientError::from))
        .collect()
}

/// A boolean result; Python servers may send `1`/`0` for True/False.
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

/// A process as `status --json` prints it: the members of supervisord's `getProcessInfo` struct.
pub fn process_json(info: &ProcessInfo) -> serde_json::Value {
    serde_json::json!({
        "name": info.name,
        "group": info.group,
        "start": info.start,
        "stop": info.stop,
        "now": info.now,
        "state": info.state.code(),
        "statename": info.state.name(),
        "spawnerr": info.spawnerr,
        "exitstatus": info.exitstatus,
        "logfile": info.stdout_logfile,
        "stdout_logfile": info.stdout_logfile,
        "stderr_logfile": info.stderr_logfile,
        "pid": info.pid,
        "description": info.description,
    })
}

/// procd's extension keys for `status --json`, when the server reports them in `getAllConfigInfo`:
/// `depends_on` (`["db:ready"]`), `ready_check`, `ready` (the check passed: RUNNING) and `waiting_for`
/// (what a start waits for). Nothing is added for a process without them.
pub fn add_readiness_json(v: &mut serde_json::Value, info: &ProcessInfo, config: &[Value]) {
    let Some(cfg) = config.iter().find(|c| {
        c.get("name").and_then(Value::as_str) == Some(info.name.as_str())
            && c.get("group").and_then(Value::as_str) == Some(info.group.as_str())
    }) else {
        return;
    };
    let deps: Vec<String> = cfg
        .get("depends_on")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|d| d.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let check = cfg.get("ready_check").and_then(Value::as_str);
    if deps.is_empty() && check.is_none() {
        return;
    }
    let Some(obj) = v.as_object_mut() else {
        return;
    };
    obj.insert("depends_on".into(), serde_json::json!(deps));
    obj.insert("ready_check".into(), serde_json::json!(check));
    obj.insert(
        "ready".into(),
        serde_json::json!(info.state == procd_protocol::ProcessState::Running),
    );
    let waiting = (info.state.is_stopped() && info.description.starts_with("waiting for "))
        .then_some(info.description.as_str());
    obj.insert("waiting_for".into(), serde_json::json!(waiting));
}

/// A process info for unit tests: `state` and `description` set, everything else empty.
#[cfg(test)]
pub(crate) fn test_info(
    group: &str,
    name: &str,
    state: procd_protocol::ProcessState,
    description: &str,
) -> ProcessInfo {
    ProcessInfo::new(group, name, state, description)
}

#[cfg(test)]
mod tests {
    use super::*;
    use procd_protocol::ProcessState;

    #[test]
    fn plain_values() {
        assert!(as_bool(&Value::Int(1)).unwrap());
        assert!(!as_bool(&Value::Bool(false)).unwrap());
        assert!(as_bool(&Value::from("x")).is_err());
        assert_eq!(as_int(&Value::Int(7)).unwrap(), 7);
        assert!(as_string(Value::Int(7)).is_err());
        assert_eq!(string_list(&Value::array(["a", "b"])).unwrap(), ["a", "b"]);
        assert!(string_list(&Value::array([1])).is_err());
        assert!(list_of(&Value::array([1]), ResultStruct::from_value).is_err());
    }

    #[test]
    fn json_has_supervisord_members() {
        let info = ProcessInfo {
            start: 10,
            now: 12,
            stdout_logfile: "/l/out".into(),
            stderr_logfile: "/l/err".into(),
            pid: 42,
            ..test_info("g", "a", ProcessState::Running, "pid 42, uptime 0:00:02")
        };
        let v = process_json(&info);
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let wire: Vec<String> = info
            .to_value()
            .as_struct()
            .unwrap()
            .iter()
            .map(|(k, _)| k.to_string())
            .collect();
        let mut wire: Vec<&str> = wire.iter().map(String::as_str).collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        wire.sort_unstable();
        assert_eq!(sorted, wire);
        assert_eq!(v["statename"], "RUNNING");
        assert_eq!(v["state"], 20);
        assert_eq!(v["pid"], 42);
        assert_eq!(v["logfile"], "/l/out");
    }
}
