//! `print_config_json`: the effective configuration as pretty JSON. Per-process keys use
//! the names of supervisord's `getAllConfigInfo` where one exists (`uid`, `process_prio`,
//! `group_prio`, `stdout_logfile`, ...); AUTO/NONE log files print as `"auto"`/`"none"`.

use serde_json::{Value, json};

use crate::model::*;

fn logfile(t: &LogTarget) -> Value {
    match t {
        LogTarget::None => json!("none"),
        LogTarget::Auto => json!("auto"),
        LogTarget::Syslog => json!("syslog"),
        LogTarget::Path(p) => json!(p.display().to_string()),
    }
}

fn process(g: &GroupConfig, p: &ProcessConfig) -> Value {
    let mut m = serde_json::Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    put("name", json!(p.name));
    put("group", json!(g.name));
    put("group_prio", json!(g.priority));
    put("process_prio", json!(p.priority));
    put("command", json!(p.command));
    put("argv", json!(p.argv));
    put("autostart", json!(p.autostart));
    put("autorestart", json!(p.autorestart));
    put("startsecs", json!(p.startsecs));
    put("startretries", json!(p.startretries));
    put("exitcodes", json!(p.exitcodes));
    put("stopsignal", json!(p.stopsignal.number()));
    put("stopwaitsecs", json!(p.stopwaitsecs));
    put("stopasgroup", json!(p.stopasgroup));
    put("killasgroup", json!(p.killasgroup));
    put(
        "uid",
        p.user.as_ref().map_or(json!("none"), |u| json!(u.uid)),
    );
    put(
        "directory",
        p.directory
            .as_ref()
            .map_or(json!("none"), |d| json!(d.display().to_string())),
    );
    put(
        "umask",
        p.umask.map_or(json!("none"), |u| json!(format!("{u:03o}"))),
    );
    put(
        "environment",
        Value::Object(
            p.environment
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect(),
        ),
    );
    put("redirect_stderr", json!(p.redirect_stderr));
    for (chan, l) in [("stdout", &p.stdout), ("stderr", &p.stderr)] {
        put(&format!("{chan}_logfile"), logfile(&l.file));
        put(&format!("{chan}_logfile_maxbytes"), json!(l.maxbytes));
        put(&format!("{chan}_logfile_backups"), json!(l.backups));
        put(
            &format!("{chan}_capture_maxbytes"),
            json!(l.capture_maxbytes),
        );
        put(&format!("{chan}_events_enabled"), json!(l.events_enabled));
        put(&format!("{chan}_syslog"), json!(l.syslog));
        // procd extensions: shown only when set, so a supervisord config prints as before.
        if let Some(t) = l.timestamp {
            put(&format!("{chan}_log_timestamp"), json!(t));
        }
        if l.format != LogFormat::Text {
            put(&format!("{chan}_log_format"), json!(l.format));
        }
    }
    if !p.environment_files.is_empty() {
        put("environment_file", json!(p.environment_files));
    }
    if p.restart != RestartBackoff::default() {
        put("restart", json!(p.restart));
    }
    if let Some(k) = p.kill_mode {
        put("kill_mode", json!(k));
    }
    put(
        "serverurl",
        p.serverurl.as_ref().map_or(json!("none"), |s| json!(s)),
    );
    if !p.extra.is_empty() {
        put("extra", json!(p.extra));
    }
    // procd extensions, shown only when used.
    if !p.depends_on.is_empty() {
        put("depends_on", json!(p.depends_on));
    }
    if let Some(check) = &p.ready_check {
        put("ready_check", json!(check.label()));
        put("ready_timeout", json!(p.ready_timeout.as_secs_f64()));
        put("ready_interval", json!(p.ready_interval.as_secs_f64()));
    }
    if let Some(l) = &p.liveness {
        put("liveness_check", json!(l.check.label()));
        put("liveness_interval", json!(l.interval.as_secs_f64()));
        put("liveness_timeout", json!(l.timeout.as_secs_f64()));
        put("liveness_failures", json!(l.failures));
        put("liveness_action", json!(l.action.name()));
    }
    Value::Object(m)
}

/// The effective configuration as pretty-printed JSON.
pub fn print_config_json(config: &Config) -> String {
    let groups: Vec<Value> = config
        .groups
        .iter()
        .map(|g| {
            json!({
                "name": g.name,
                "priority": g.priority,
                "kind": g.kind,
                "processes": g.processes.iter().map(|p| process(g, p)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let v = json!({
        "path": config.path,
        "supervisord": config.supervisord,
        "unix_servers": config.unix_servers,
        "inet_servers": config.inet_servers,
        "supervisorctl": config.supervisorctl,
        "rpcinterfaces": config.rpcinterfaces,
        "groups": groups,
    });
    serde_json::to_string_pretty(&v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
