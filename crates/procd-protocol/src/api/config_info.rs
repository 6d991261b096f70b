//! `getAllConfigInfo`'s per-process struct, with supervisord 4.3's keys, types and member order.

use super::capped_int;
use super::fields::{Fields, FromValueError, none_string};
use crate::signal::Signal;
use crate::value::Value;

/// The six per-stream keys (`stdout_*` / `stderr_*`).
///
/// `logfile` is sent as supervisord does: a path, `'none'` (logging disabled) or `'auto'` (an automatic
/// log whose group has not been created yet). Byte counts are clamped to the int range on the wire
/// (supervisord itself fails with HTTP 500 for sizes of 2 GiB and more).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamConfigInfo {
    /// `*_capture_maxbytes` (bytes; 0 = capture mode off).
    pub capture_maxbytes: i64,
    /// `*_events_enabled`: PROCESS_LOG events are emitted for this stream.
    pub events_enabled: bool,
    /// `*_logfile`: a path, `none` or `auto` (see above).
    pub logfile: String,
    /// `*_logfile_backups`: rotated files kept.
    pub logfile_backups: i32,
    /// `*_logfile_maxbytes` (bytes; 0 = never rotate).
    pub logfile_maxbytes: i64,
    /// `*_syslog`: lines also go to syslog.
    pub syslog: bool,
}

/// One process of the last-read configuration.
///
/// `directory` and `serverurl` travel as `'none'` when unset; `uid` is the numeric uid or `'none'`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigInfo {
    /// `autostart=`.
    pub autostart: bool,
    /// `directory=`; `None` (sent as `'none'`) when the child inherits the daemon's.
    pub directory: Option<String>,
    /// The uid of `user=`; `None` (`'none'`) when the child runs as the daemon's user.
    pub uid: Option<u32>,
    /// `command=` after `%(name)s` expansion.
    pub command: String,
    /// `exitcodes=`: the expected exit statuses.
    pub exitcodes: Vec<i32>,
    /// The group's name.
    pub group: String,
    /// The group's `priority=`.
    pub group_prio: i32,
    /// Whether the group is active (added) in the running supervisor.
    pub inuse: bool,
    /// `killasgroup=`.
    pub killasgroup: bool,
    /// The process name (not the namespec).
    pub name: String,
    /// The process's `priority=`.
    pub process_prio: i32,
    /// `redirect_stderr=`.
    pub redirect_stderr: bool,
    /// `startretries=`.
    pub startretries: i32,
    /// `startsecs=` (seconds).
    pub startsecs: i32,
    /// The `stdout_*` keys.
    pub stdout: StreamConfigInfo,
    /// `stopsignal=`, sent as its number.
    pub stopsignal: Signal,
    /// `stopwaitsecs=` (seconds).
    pub stopwaitsecs: i32,
    /// The `stderr_*` keys.
    pub stderr: StreamConfigInfo,
    /// `serverurl=` as the child sees it in `SUPERVISOR_SERVER_URL`; `None` (`'none'`) when unset.
    pub serverurl: Option<String>,
}

impl ConfigInfo {
    /// The struct as supervisord 4.3 sends it: its 29 members in supervisord's order, `none` for unset
    /// optional values.
    pub fn to_value(&self) -> Value {
        let uid = match self.uid {
            Some(uid) => Value::Int(capped_int(uid.into())),
            None => Value::from("none"),
        };
        let mut members: Vec<(crate::value::Name, Value)> = Vec::with_capacity(29);
        let mut put = |k: &str, v: Value| members.push((k.to_owned().into(), v));
        put("autostart", Value::Bool(self.autostart));
        put("directory", none_string(self.directory.as_deref()));
        put("uid", uid);
        put("command", Value::from(&self.command));
        put("exitcodes", Value::array(self.exitcodes.iter().copied()));
        put("group", Value::from(&self.group));
        put("group_prio", Value::Int(self.group_prio));
        put("inuse", Value::Bool(self.inuse));
        put("killasgroup", Value::Bool(self.killasgroup));
        put("name", Value::from(&self.name));
        put("process_prio", Value::Int(self.process_prio));
        put("redirect_stderr", Value::Bool(self.redirect_stderr));
        put("startretries", Value::Int(self.startretries));
        put("startsecs", Value::Int(self.startsecs));
        put_stream(&mut put, "stdout", &self.stdout);
        put("stopsignal", Value::Int(self.stopsignal.number()));
        put("stopwaitsecs", Value::Int(self.stopwaitsecs));
        put_stream(&mut put, "stderr", &self.stderr);
        put("serverurl", none_string(self.serverurl.as_deref()));
        Value::Struct(members)
    }

    /// Reads a struct sent by supervisord or procd; a missing member or one of the wrong type is an
    /// error naming it.
    pub fn from_value(value: &Value) -> Result<Self, FromValueError> {
        let f = Fields::new(value)?;
        let uid = match f.get("uid")? {
            Value::Int(uid) => u32::try_from(*uid).ok(),
            _ => None,
        };
        let exitcodes = f
            .array("exitcodes")?
            .iter()
            .map(|v| {
                v.as_int().ok_or(FromValueError::WrongMemberType {
                    key: "exitcodes",
                    expected: "array of int",
                    found: v.type_name(),
                })
            })
            .collect::<Result<_, _>>()?;
        let signo = f.int("stopsignal")?;
        Ok(ConfigInfo {
            autostart: f.boolean("autostart")?,
            directory: f.string_or_none("directory")?,
            uid,
            command: f.string("command")?,
            exitcodes,
            group: f.string("group")?,
            group_prio: f.int("group_prio")?,
            inuse: f.boolean("inuse")?,
            killasgroup: f.boolean("killasgroup")?,
            name: f.string("name")?,
            process_prio: f.int("process_prio")?,
            redirect_stderr: f.boolean("redirect_stderr")?,
            startretries: f.int("startretries")?,
            startsecs: f.int("startsecs")?,
            stdout: read_stream(&f, STDOUT_KEYS)?,
            stopsignal: Signal::from_number(signo).ok_or(FromValueError::BadSignal(signo))?,
            stopwaitsecs: f.int("stopwaitsecs")?,
            stderr: read_stream(&f, STDERR_KEYS)?,
            serverurl: f.string_or_none("serverurl")?,
        })
    }
}

fn put_stream(put: &mut impl FnMut(&str, Value), prefix: &str, s: &StreamConfigInfo) {
    put(
        &format!("{prefix}_capture_maxbytes"),
        Value::Int(capped_int(s.capture_maxbytes)),
    );
    put(
        &format!("{prefix}_events_enabled"),
        Value::Bool(s.events_enabled),
    );
    put(&format!("{prefix}_logfile"), Value::from(&s.logfile));
    put(
        &format!("{prefix}_logfile_backups"),
        Value::Int(s.logfile_backups),
    );
    put(
        &format!("{prefix}_logfile_maxbytes"),
        Value::Int(capped_int(s.logfile_maxbytes)),
    );
    put(&format!("{prefix}_syslog"), Value::Bool(s.syslog));
}

type StreamKeys = [&'static str; 6];
const STDOUT_KEYS: StreamKeys = [
    "stdout_capture_maxbytes",
    "stdout_events_enabled",
    "stdout_logfile",
    "stdout_logfile_backups",
    "stdout_logfile_maxbytes",
    "stdout_syslog",
];
const STDERR_KEYS: StreamKeys = [
    "stderr_capture_maxbytes",
    "stderr_events_enabled",
    "stderr_logfile",
    "stderr_logfile_backups",
    "stderr_logfile_maxbytes",
    "stderr_syslog",
];

fn read_stream(f: &Fields<'_>, keys: StreamKeys) -> Result<StreamConfigInfo, FromValueError> {
    Ok(StreamConfigInfo {
        capture_maxbytes: f.int(keys[0])?.into(),
        events_enabled: f.boolean(keys[1])?,
        logfile: f.string(keys[2])?,
        logfile_backups: f.int(keys[3])?,
        logfile_maxbytes: f.int(keys[4])?.into(),
        syslog: f.boolean(keys[5])?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::encode_response;

    fn stream(logfile: &str) -> StreamConfigInfo {
        StreamConfigInfo {
            capture_maxbytes: 0,
            events_enabled: false,
            logfile: logfile.into(),
            logfile_backups: 10,
            logfile_maxbytes: 52_428_800,
            syslog: false,
        }
    }

    fn sample() -> ConfigInfo {
        ConfigInfo {
            autostart: true,
            directory: None,
            uid: None,
            command: "cat".into(),
            exitcodes: vec![0],
            group: "cat".into(),
            group_prio: 999,
            inuse: true,
            killasgroup: false,
            name: "cat".into(),
            process_prio: 999,
            redirect_stderr: false,
            startretries: 3,
            startsecs: 1,
            stdout: stream("/tmp/cat-stdout---supervisor-wbk0s5ca.log"),
            stopsignal: Signal::TERM,
            stopwaitsecs: 10,
            stderr: stream("/tmp/cat-stderr---supervisor-ug0jqxyk.log"),
            serverurl: None,
        }
    }

    /// A real supervisord 4.3.0 `getAllConfigInfo` reply (one `[program:cat] command=cat`), captured.
    const CAPTURED: &str = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><array><data>\n<value><struct>\n<member>\n<name>autostart</name>\n<value><boolean>1</boolean></value>\n</member>\n<member>\n<name>directory</name>\n<value><string>none</string></value>\n</member>\n<member>\n<name>uid</name>\n<value><string>none</string></value>\n</member>\n<member>\n<name>command</name>\n<value><string>cat</string></value>\n</member>\n<member>\n<name>exitcodes</name>\n<value><array><data>\n<value><int>0</int></value>\n</data></array></value>\n</member>\n<member>\n<name>group</name>\n<value><string>cat</string></value>\n</member>\n<member>\n<name>group_prio</name>\n<value><int>999</int></value>\n</member>\n<member>\n<name>inuse</name>\n<value><boolean>1</boolean></value>\n</member>\n<member>\n<name>killasgroup</name>\n<value><boolean>0</boolean></value>\n</member>\n<member>\n<name>name</name>\n<value><string>cat</string></value>\n</member>\n<member>\n<name>process_prio</name>\n<value><int>999</int></value>\n</member>\n<member>\n<name>redirect_stderr</name>\n<value><boolean>0</boolean></value>\n</member>\n<member>\n<name>startretries</name>\n<value><int>3</int></value>\n</member>\n<member>\n<name>startsecs</name>\n<value><int>1</int></value>\n</member>\n<member>\n<name>stdout_capture_maxbytes</name>\n<value><int>0</int></value>\n</member>\n<member>\n<name>stdout_events_enabled</name>\n<value><boolean>0</boolean></value>\n</member>\n<member>\n<name>stdout_logfile</name>\n<value><string>/tmp/cat-stdout---supervisor-wbk0s5ca.log</string></value>\n</member>\n<member>\n<name>stdout_logfile_backups</name>\n<value><int>10</int></value>\n</member>\n<member>\n<name>stdout_logfile_maxbytes</name>\n<value><int>52428800</int></value>\n</member>\n<member>\n<name>stdout_syslog</name>\n<value><boolean>0</boolean></value>\n</member>\n<member>\n<name>stopsignal</name>\n<value><int>15</int></value>\n</member>\n<member>\n<name>stopwaitsecs</name>\n<value><int>10</int></value>\n</member>\n<member>\n<name>stderr_capture_maxbytes</name>\n<value><int>0</int></value>\n</member>\n<member>\n<name>stderr_events_enabled</name>\n<value><boolean>0</boolean></value>\n</member>\n<member>\n<name>stderr_logfile</name>\n<value><string>/tmp/cat-stderr---supervisor-ug0jqxyk.log</string></value>\n</member>\n<member>\n<name>stderr_logfile_backups</name>\n<value><int>10</int></value>\n</member>\n<member>\n<name>stderr_logfile_maxbytes</name>\n<value><int>52428800</int></value>\n</member>\n<member>\n<name>stderr_syslog</name>\n<value><boolean>0</boolean></value>\n</member>\n<member>\n<name>serverurl</name>\n<value><string>none</string></value>\n</member>\n</struct></value>\n</data></array></value>\n</param>\n</params>\n</methodResponse>\n";

    #[test]
    fn bytes_match_supervisord() {
        let body = encode_response(&Value::array([sample().to_value()]));
        assert_eq!(String::from_utf8(body).unwrap(), CAPTURED);
    }

    #[test]
    fn round_trips_with_every_option_set() {
        let info = ConfigInfo {
            directory: Some("/srv".into()),
            uid: Some(65534),
            serverurl: Some("unix:///tmp/s.sock".into()),
            stopsignal: Signal::KILL,
            exitcodes: vec![0, 2],
            ..sample()
        };
        let v = info.to_value();
        assert_eq!(v.get("uid"), Some(&Value::Int(65534)));
        assert_eq!(v.get("stopsignal"), Some(&Value::Int(9)));
        assert_eq!(ConfigInfo::from_value(&v), Ok(info));
        assert_eq!(ConfigInfo::from_value(&sample().to_value()), Ok(sample()));
    }

    #[test]
    fn huge_sizes_are_clamped() {
        let mut info = sample();
        info.stdout.logfile_maxbytes = 4 << 30;
        assert_eq!(
            info.to_value().get("stdout_logfile_maxbytes"),
            Some(&Value::Int(i32::MAX))
        );
    }

    #[test]
    fn shape_errors() {
        let mut v = sample().to_value();
        if let Value::Struct(m) = &mut v {
            m.push(("exitcodes".into(), Value::array(["0"])));
        }
        assert!(matches!(
            ConfigInfo::from_value(&v),
            Err(FromValueError::WrongMemberType {
                key: "exitcodes",
                ..
            })
        ));
        let mut v = sample().to_value();
        if let Value::Struct(m) = &mut v {
            m.push(("stopsignal".into(), Value::Int(40)));
        }
        assert_eq!(
            ConfigInfo::from_value(&v),
            Err(FromValueError::BadSignal(40))
        );
    }
}
