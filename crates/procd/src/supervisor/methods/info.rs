//! Information methods: versions, identification, the supervisor's state and pid, ProcessInfo.

use chrono::{Datelike, Local, TimeZone, Timelike};
use procd_protocol::api::{API_VERSION, ProcessInfo, SUPERVISOR_VERSION};
use procd_protocol::{Fault, ProcessState, Value};

use super::super::Supervisor;
use super::super::types::ProcId;

/// `getAPIVersion` (and its alias `getVersion`).
pub(super) fn api_version() -> Value {
    API_VERSION.into()
}

/// `getSupervisorVersion`.
pub(super) fn supervisor_version() -> Value {
    SUPERVISOR_VERSION.into()
}

/// `getPID`.
pub(super) fn pid() -> Value {
    Value::Int(i32::try_from(std::process::id()).unwrap_or(i32::MAX))
}

impl Supervisor {
    /// `getIdentification`.
    pub(super) fn identification(&self) -> Value {
        self.config.supervisord.identifier.clone().into()
    }

    /// `getState` (the XML-RPC layer answers it from the shared copy; this is the same answer).
    pub(super) fn state_value(&self) -> Value {
        Value::structure([
            ("statecode", Value::Int(self.mood.code())),
            ("statename", Value::from(self.mood.name())),
        ])
    }

    /// `getProcessInfo`.
    pub(super) fn process_info_by_name(&self, namespec: &str) -> Result<ProcessInfo, Fault> {
        let id = self.resolve_process(namespec)?;
        self.process_info(id, self.now())
            .ok_or_else(|| super::super::faults::bad_name(namespec))
    }

    /// `getAllProcessInfo`: every process, by group name then process name. The clock is read once for
    /// all of them (not twice per process).
    pub(super) fn all_process_info(&self) -> Value {
        let now = self.now();
        Value::Array(
            self.lexical()
                .into_iter()
                .filter_map(|id| self.process_info(id, now))
                .map(ProcessInfo::into_value)
                .collect(),
        )
    }

    /// The ProcessInfo of one process at `now` (`None` if it is not in the process table).
    pub(super) fn process_info(&self, id: ProcId, clock: procd_core::Now) -> Option<ProcessInfo> {
        let proc = self.procs.get(&id)?;
        let sm = &proc.sm;
        let now = clock.wall;
        let path_str = |p: &Option<std::path::PathBuf>| {
            p.as_ref()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        let view = procd_core::InfoView {
            name: &proc.config.name,
            state: sm.state(),
            pid: sm.pid(),
            start: sm.start_time(),
            stop: sm.stop_time(),
            now,
            spawnerr: sm.spawnerr(),
        };
        let mut description = procd_core::describe(&view, local_time);
        if let Some((left, attempt)) = sm.restart_in(clock.mono) {
            // A BACKOFF process keeps its spawn error after the wait; EXITED drops its stop time.
            let reason = if sm.state() == ProcessState::Backoff {
                description.as_str()
            } else {
                ""
            };
            description = procd_core::describe_restart(left, attempt, reason);
        }
        // A start waiting for a dependency says so (procd extension).
        if let Some(waiting) = self.waiting_description(id) {
            description = waiting;
        }
        Some(ProcessInfo {
            name: proc.config.name.clone(),
            group: proc.config.group.clone(),
            start: sm.start_time(),
            stop: sm.stop_time(),
            now,
            state: sm.state(),
            spawnerr: sm.spawnerr().to_owned(),
            exitstatus: sm.exitstatus(),
            stdout_logfile: path_str(&proc.stdout_path),
            stderr_logfile: path_str(&proc.stderr_path),
            pid: sm.pid(),
            description,
        })
    }
}

/// Breaks a Unix second down in the daemon's local timezone for ProcessInfo descriptions.
fn local_time(secs: i64) -> procd_core::LocalTime {
    match Local.timestamp_opt(secs, 0).earliest() {
        Some(t) => procd_core::LocalTime {
            month: t.month(),
            day: t.day(),
            hour: t.hour(),
            minute: t.minute(),
        },
        None => procd_core::LocalTime {
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
        },
    }
}
