//! Configuration methods: `reloadConfig` (the reload diff), `addProcessGroup`, `removeProcessGroup`,
//! `getAllConfigInfo`.

use std::sync::Arc;

use procd_config::{GroupConfig, LogTarget};
use procd_core::order;
use procd_protocol::api::{ConfigInfo, StreamConfigInfo};
use procd_protocol::{FaultCode, Value};

use super::super::Supervisor;
use super::super::faults::{bad_name, fault};
use super::R;

impl Supervisor {
    /// `reloadConfig`: re-reads the configuration and answers `[[added, changed, removed]]` group names
    /// (the core's reload diff of the running groups against the new ones); nothing is applied.
    pub(super) fn reload_config(&mut self) -> R {
        let loaded = (self.loader)().map_err(|e| fault(FaultCode::CantReread, e))?;
        self.last_read = Arc::new(loaded);
        self.read_generation += 1;
        let current: Vec<&GroupConfig> = self.groups.iter().map(|g| &g.config).collect();
        let new: Vec<&GroupConfig> = self.last_read.groups.iter().collect();
        let diff = procd_core::diff(&current, &new);
        let names = |list: Vec<&&GroupConfig>| {
            Value::Array(
                list.into_iter()
                    .map(|g| Value::from(g.name.as_str()))
                    .collect(),
            )
        };
        Ok(Value::Array(vec![Value::Array(vec![
            names(diff.added),
            names(diff.changed),
            names(diff.removed),
        ])]))
    }

    /// `addProcessGroup`: activates a group of the last-read configuration.
    pub(super) fn add_process_group(&mut self, name: &str) -> R {
        let config = Arc::clone(&self.last_read);
        let Some(g) = config.groups.iter().find(|g| g.name == name) else {
            return Err(bad_name(name));
        };
        if !self.add_group(g) {
            return Err(fault(FaultCode::AlreadyAdded, name));
        }
        self.ensure_fds();
        Ok(Value::Bool(true))
    }

    /// `removeProcessGroup`: deactivates a group whose processes are all stopped.
    pub(super) fn remove_process_group(&mut self, name: &str) -> R {
        if self.group_pos(name).is_none() {
            return Err(bad_name(name));
        }
        if !self.remove_group(name) {
            return Err(fault(FaultCode::StillRunning, name));
        }
        Ok(Value::Bool(true))
    }

    /// `getAllConfigInfo`: every process of the last-read configuration, by process name.
    pub(super) fn all_config_info(&self) -> Value {
        // The loader fills every program's `serverurl` with the daemon's own URL when the option is
        // absent; supervisord reports the option itself, which is then unset ('none').
        let default_url = self.last_read.unix_servers.first().map_or_else(
            || {
                self.last_read.inet_servers.first().map(|i| {
                    let host = if i.host.is_empty() {
                        "localhost"
                    } else {
                        i.host.as_str()
                    };
                    format!("http://{host}:{}", i.port)
                })
            },
            |u| Some(format!("unix://{}", u.file.display())),
        );
        let groups = &self.last_read.groups;
        let mut infos: Vec<Value> =
            Vec::with_capacity(groups.iter().map(|g| g.processes.len()).sum());
        for (gi, pi) in order::config_info_order(groups) {
            let (g, p) = (&groups[gi], &groups[gi].processes[pi]);
            let active = self.group_pos(&g.name).map(|i| &self.groups[i]);
            // Like supervisord, an AUTO log shows its real path only in the config the group was
            // created from; after reloadConfig it reads 'auto' until the group is added again.
            let live = active
                .filter(|a| a.generation == self.read_generation)
                .and_then(|_| self.find(&g.name, &p.name))
                .and_then(|id| self.procs.get(&id));
            let stream = |log: &procd_config::LogConfig, live_path: Option<&std::path::PathBuf>| {
                let logfile = match (&log.file, live_path) {
                    (LogTarget::Auto, Some(path)) => path.to_string_lossy().into_owned(),
                    (LogTarget::Auto, None) => "auto".to_owned(),
                    (LogTarget::None | LogTarget::Syslog, _) => "none".to_owned(),
                    (LogTarget::Path(path), _) => path.to_string_lossy().into_owned(),
                };
                StreamConfigInfo {
                    capture_maxbytes: i64::try_from(log.capture_maxbytes).unwrap_or(i64::MAX),
                    events_enabled: log.events_enabled,
                    logfile,
                    logfile_backups: i32::try_from(log.backups).unwrap_or(i32::MAX),
                    logfile_maxbytes: i64::try_from(log.maxbytes).unwrap_or(i64::MAX),
                    syslog: log.syslog,
                }
            };
            let stderr = if p.redirect_stderr {
                procd_config::LogConfig {
                    file: LogTarget::None,
                    ..p.stderr.clone()
                }
            } else {
                p.stderr.clone()
            };
            // procd's extension keys, appended to a process's struct only when it uses them (so the reply
            // for a supervisord config is byte for byte supervisord's).
            let mut ext = Vec::new();
            if !p.depends_on.is_empty() {
                let deps = p
                    .depends_on
                    .iter()
                    .map(|d| Value::String(format!("{}:{}", d.name, d.condition)));
                ext.push(("depends_on".to_owned(), Value::Array(deps.collect())));
            }
            if let Some(check) = &p.ready_check {
                ext.push(("ready_check".to_owned(), Value::String(check.label())));
                ext.push((
                    "ready_timeout".to_owned(),
                    Value::Double(p.ready_timeout.as_secs_f64()),
                ));
                ext.push((
                    "ready_interval".to_owned(),
                    Value::Double(p.ready_interval.as_secs_f64()),
                ));
            }
            let info = ConfigInfo {
                autostart: p.autostart,
                directory: p
                    .directory
                    .as_ref()
                    .map(|d| d.to_string_lossy().into_owned()),
                uid: p.user.as_ref().map(|u| u.uid),
                command: p.command.clone(),
                exitcodes: p.exitcodes.clone(),
                group: g.name.clone(),
                group_prio: g.priority,
                inuse: active.is_some(),
                killasgroup: p.killasgroup,
                name: p.name.clone(),
                process_prio: p.priority,
                redirect_stderr: p.redirect_stderr,
                startretries: i32::try_from(p.startretries).unwrap_or(i32::MAX),
                startsecs: i32::try_from(p.startsecs).unwrap_or(i32::MAX),
                stdout: stream(&p.stdout, live.and_then(|l| l.stdout_path.as_ref())),
                stopsignal: p.stopsignal,
                stopwaitsecs: i32::try_from(p.stopwaitsecs).unwrap_or(i32::MAX),
                stderr: stream(&stderr, live.and_then(|l| l.stderr_path.as_ref())),
                serverurl: p
                    .serverurl
                    .clone()
                    .filter(|u| Some(u) != default_url.as_ref()),
            };
            let mut value = info.to_value();
            if let Value::Struct(members) = &mut value {
                members.extend(ext.into_iter().map(|(k, x)| (k.into(), x)));
            }
            infos.push(value);
        }
        Value::Array(infos)
    }
}
