//! The `supervisor.*` namespace: every method of supervisord 4.3.0's `SupervisorNamespaceRPCInterface`,
//! run inside the actor with direct access to the state. Faults are built here and only here.

use std::time::Duration;

use chrono::{Datelike, Local, TimeZone, Timelike};
use procd_config::{GroupConfig, LogTarget};
use procd_core::{Input, Refusal};
use procd_protocol::api::{
    API_VERSION, ConfigInfo, ProcessInfo, ResultStruct, SUPERVISOR_VERSION, StreamConfigInfo,
    split_namespec,
};
use procd_protocol::{Fault, FaultCode, ProcessState, Signal, SupervisorState, Value};

use super::Supervisor;
use super::deferred::{Deferred, Poll, Reply};
use super::procs::ProcId;
use crate::logs::read::{ReadError, read_file, tail_file};

type R = Result<Value, Fault>;

fn fault(code: FaultCode, extra: impl AsRef<str>) -> Fault {
    Fault::new(code, Some(extra.as_ref()))
}

fn bare(code: FaultCode) -> Fault {
    Fault::new(code, None)
}

fn refusal(r: Refusal, name: &str) -> Fault {
    let code = match r {
        Refusal::AlreadyStarted => FaultCode::AlreadyStarted,
        Refusal::UnknownState => FaultCode::Failed,
        Refusal::NotRunning => FaultCode::NotRunning,
    };
    fault(code, r.text(name))
}

/// Positional parameter accessors. The XML-RPC layer has already checked counts and types against the
/// method table; these only guard against misuse and give INCORRECT_PARAMETERS.
struct P<'a>(&'a [Value]);

impl P<'_> {
    fn str(&self, i: usize) -> Result<&str, Fault> {
        self.0
            .get(i)
            .and_then(Value::as_str)
            .ok_or_else(|| bare(FaultCode::IncorrectParameters))
    }
    fn int(&self, i: usize) -> Result<i64, Fault> {
        match self.0.get(i) {
            Some(Value::Int(n)) => Ok(i64::from(*n)),
            Some(Value::Bool(b)) => Ok(i64::from(*b)),
            _ => Err(bare(FaultCode::IncorrectParameters)),
        }
    }
    /// Optional trailing `wait` flag, true by default.
    fn wait(&self, i: usize) -> bool {
        match self.0.get(i) {
            Some(Value::Bool(b)) => *b,
            Some(Value::Int(n)) => *n != 0,
            _ => true,
        }
    }
}

/// The start and stop families share their namespec handling and group fan-out.
#[derive(Debug, Clone, Copy)]
enum Op {
    Start,
    Stop,
}

impl Op {
    fn one(
        self,
        sup: &mut Supervisor,
        id: ProcId,
        name: &str,
        wait: bool,
    ) -> Result<Option<Poll>, Fault> {
        match self {
            Op::Start => sup.start_one(id, name, wait),
            Op::Stop => sup.stop_one(id, name, wait),
        }
    }

    fn many(self, sup: &mut Supervisor, ids: Vec<ProcId>, wait: bool) -> AllOp {
        match self {
            Op::Start => sup.start_many(ids, wait),
            Op::Stop => sup.stop_many(ids, wait),
        }
    }

    /// `stopProcess` callers get `waiting for <name> to stop` lines every 2 s while they wait.
    fn wake_every(self) -> Option<Duration> {
        match self {
            Op::Start => None,
            Op::Stop => Some(Duration::from_secs(2)),
        }
    }
}

/// Result structs from a group or "all" operation, some of which may still be waiting.
struct AllOp {
    results: Vec<ResultStruct>,
    waiting: Vec<(String, String, Poll)>,
}

impl AllOp {
    fn into_reply(self) -> Reply {
        let AllOp {
            mut results,
            mut waiting,
        } = self;
        if waiting.is_empty() {
            return Reply::Now(Ok(results_value(&results)));
        }
        let poll: Poll = Box::new(move |sup| {
            waiting.retain_mut(|(name, group, poll)| match poll(sup) {
                None => true,
                Some(Ok(_)) => {
                    results.push(ResultStruct::success(name.clone(), group.clone()));
                    false
                }
                Some(Err(f)) => {
                    results.push(ResultStruct::from_fault(name.clone(), group.clone(), &f));
                    false
                }
            });
            waiting.is_empty().then(|| Ok(results_value(&results)))
        });
        Reply::Later(Deferred::new(poll))
    }
}

fn results_value(results: &[ResultStruct]) -> Value {
    Value::Array(results.iter().map(ResultStruct::to_value).collect())
}

impl Supervisor {
    /// Runs one `supervisor.*` method.
    pub(super) fn dispatch(&mut self, method: &str, params: &[Value]) -> Reply {
        let p = P(params);
        let name = method.strip_prefix("supervisor.").unwrap_or(method);
        if name != "sendRemoteCommEvent" && self.mood != SupervisorState::Running {
            return Reply::Now(Err(bare(FaultCode::ShutdownState)));
        }
        let r: R = match name {
            "getAPIVersion" | "getVersion" => Ok(API_VERSION.into()),
            "getSupervisorVersion" => Ok(SUPERVISOR_VERSION.into()),
            "getIdentification" => Ok(self.config.supervisord.identifier.clone().into()),
            "getState" => Ok(Value::structure([
                ("statecode", Value::Int(self.mood.code())),
                ("statename", Value::from(self.mood.name())),
            ])),
            "getPID" => Ok(Value::Int(
                i32::try_from(std::process::id()).unwrap_or(i32::MAX),
            )),
            "readLog" | "readMainLog" => self.read_main_log(&p),
            "clearLog" => self.clear_main_log(),
            "shutdown" => {
                self.request_mood(SupervisorState::Shutdown);
                Ok(Value::Bool(true))
            }
            "restart" => {
                self.request_mood(SupervisorState::Restarting);
                Ok(Value::Bool(true))
            }
            "reloadConfig" => self.reload_config(),
            "addProcessGroup" => self.add_process_group(&p),
            "removeProcessGroup" => self.remove_process_group(&p),
            "getProcessInfo" => p
                .str(0)
                .and_then(|n| self.process_info_by_name(n))
                .map(|i| i.to_value()),
            "getAllProcessInfo" => Ok(Value::Array(
                self.lexical()
                    .into_iter()
                    .map(|id| self.process_info(id).to_value())
                    .collect(),
            )),
            "getAllConfigInfo" => Ok(self.all_config_info()),
            "startProcess" => return self.process_call(&p, Op::Start),
            "startProcessGroup" => return self.group_call(&p, Op::Start),
            "startAllProcesses" => {
                let ids = self.ascending();
                return self.start_many(ids, p.wait(0)).into_reply();
            }
            "stopProcess" => return self.process_call(&p, Op::Stop),
            "stopProcessGroup" => return self.group_call(&p, Op::Stop),
            "stopAllProcesses" => {
                let ids = self.ascending();
                return self.stop_many(ids, p.wait(0)).into_reply();
            }
            "signalProcess" => self.signal_process(&p),
            "signalProcessGroup" => self.signal_group(&p),
            "signalAllProcesses" => p
                .str(0)
                .map(|sig| results_value(&self.signal_many(self.ascending(), sig))),
            "sendProcessStdin" => self.send_stdin(&p),
            "sendRemoteCommEvent" => p
                .str(0)
                .and_then(|k| Ok((k.to_owned(), p.str(1)?.to_owned())))
                .map(|(kind, data)| {
                    self.publish(crate::events::Event::RemoteCommunication { kind, data });
                    Value::Bool(true)
                }),
            "readProcessStdoutLog" | "readProcessLog" => self.read_process_log(&p, "stdout"),
            "readProcessStderrLog" => self.read_process_log(&p, "stderr"),
            "tailProcessStdoutLog" | "tailProcessLog" => self.tail_process_log(&p, "stdout"),
            "tailProcessStderrLog" => self.tail_process_log(&p, "stderr"),
            "clearProcessLogs" | "clearProcessLog" => p
                .str(0)
                .and_then(|n| self.clear_process_logs(n))
                .map(|()| Value::Bool(true)),
            "clearAllProcessLogs" => Ok(self.clear_all_process_logs()),
            _ => Err(bare(FaultCode::UnknownMethod)),
        };
        Reply::Now(r)
    }

    // ----- lookup and ordering -------------------------------------------------------------------

    /// Resolves a namespec: `Ok((group, Some(id)))` for a process, `Ok((group, None))` for `group:*`.
    fn resolve(&self, namespec: &str) -> Result<(String, Option<ProcId>), Fault> {
        let (group, process) = split_namespec(namespec);
        if !self.groups.iter().any(|g| g.name == group) {
            return Err(fault(FaultCode::BadName, namespec));
        }
        match process {
            None => Ok((group, None)),
            Some(p) => match self.find(&group, &p) {
                Some(id) => Ok((group, Some(id))),
                None => Err(fault(FaultCode::BadName, namespec)),
            },
        }
    }

    /// All processes, groups by ascending priority then processes by ascending priority (stable).
    pub(super) fn ascending(&self) -> Vec<ProcId> {
        let mut groups: Vec<usize> = (0..self.groups.len()).collect();
        groups.sort_by_key(|&i| self.groups[i].priority);
        groups
            .into_iter()
            .flat_map(|gi| self.group_ascending(gi))
            .collect()
    }

    fn group_ascending(&self, gi: usize) -> Vec<ProcId> {
        let mut ids = self.groups[gi].ids.clone();
        ids.sort_by_key(|id| self.procs[id].config.priority);
        ids
    }

    /// All processes sorted by group name, then process name (`getAllProcessInfo`, `status`).
    fn lexical(&self) -> Vec<ProcId> {
        let mut groups: Vec<usize> = (0..self.groups.len()).collect();
        groups.sort_by(|&a, &b| self.groups[a].name.cmp(&self.groups[b].name));
        groups
            .into_iter()
            .flat_map(|gi| {
                let mut ids = self.groups[gi].ids.clone();
                ids.sort_by(|a, b| self.procs[a].config.name.cmp(&self.procs[b].config.name));
                ids
            })
            .collect()
    }

    fn group_index(&self, name: &str) -> Result<usize, Fault> {
        self.groups
            .iter()
            .position(|g| g.name == name)
            .ok_or_else(|| fault(FaultCode::BadName, name))
    }

    // ----- process info ---------------------------------------------------------------------------

    fn process_info_by_name(&self, namespec: &str) -> Result<ProcessInfo, Fault> {
        match self.resolve(namespec)? {
            (_, Some(id)) => Ok(self.process_info(id)),
            (_, None) => Err(fault(FaultCode::BadName, namespec)),
        }
    }

    pub(super) fn process_info(&self, id: ProcId) -> ProcessInfo {
        let proc = &self.procs[&id];
        let sm = &proc.sm;
        let now = self.now().wall;
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
        if let Some((left, attempt)) = sm.restart_in(self.now().mono) {
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
        ProcessInfo {
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
        }
    }

    fn all_config_info(&self) -> Value {
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
        let mut infos: Vec<ConfigInfo> = Vec::new();
        // procd's extension keys, appended to a process's struct only when it uses them (so the reply
        // for a supervisord config is byte for byte supervisord's).
        let mut extensions: std::collections::HashMap<(String, String), Vec<(String, Value)>> =
            std::collections::HashMap::new();
        for g in &self.last_read.groups {
            let active = self.groups.iter().find(|a| a.name == g.name);
            for p in &g.processes {
                // Like supervisord, an AUTO log shows its real path only in the config the group was
                // created from; after reloadConfig it reads 'auto' until the group is added again.
                let live = active
                    .filter(|a| a.generation == self.read_generation)
                    .and_then(|_| self.find(&g.name, &p.name))
                    .map(|id| &self.procs[&id]);
                let stream = |log: &procd_config::LogConfig,
                              live_path: Option<&std::path::PathBuf>| {
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
                if !ext.is_empty() {
                    extensions.insert((g.name.clone(), p.name.clone()), ext);
                }
                infos.push(ConfigInfo {
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
                });
            }
        }
        infos.sort_by(|a, b| a.name.cmp(&b.name));
        let with_extensions = |info: &ConfigInfo| {
            let mut v = info.to_value();
            if let (Value::Struct(members), Some(ext)) = (
                &mut v,
                extensions.get(&(info.group.clone(), info.name.clone())),
            ) {
                members.extend(ext.iter().map(|(k, x)| (k.clone().into(), x.clone())));
            }
            v
        };
        Value::Array(infos.iter().map(with_extensions).collect())
    }

    // ----- start and stop ----------------------------------------------------------------------------

    /// `startProcess` / `stopProcess`: one process, or its group for `group:*` names.
    fn process_call(&mut self, p: &P<'_>, op: Op) -> Reply {
        let (name, wait) = match p.str(0) {
            Ok(n) => (n.to_owned(), p.wait(1)),
            Err(f) => return Reply::Now(Err(f)),
        };
        match self.resolve(&name) {
            Err(f) => Reply::Now(Err(f)),
            Ok((group, None)) => match self.group_index(&group) {
                Ok(gi) => op.many(self, self.group_ascending(gi), wait).into_reply(),
                Err(f) => Reply::Now(Err(f)),
            },
            Ok((_, Some(id))) => match op.one(self, id, &name, wait) {
                Ok(Some(poll)) => Reply::Later(Deferred {
                    poll,
                    wake_every: op.wake_every(),
                }),
                Ok(None) => Reply::Now(Ok(Value::Bool(true))),
                Err(f) => Reply::Now(Err(f)),
            },
        }
    }

    /// `startProcessGroup` / `stopProcessGroup`.
    fn group_call(&mut self, p: &P<'_>, op: Op) -> Reply {
        let name = match p.str(0) {
            Ok(n) => n.to_owned(),
            Err(f) => return Reply::Now(Err(f)),
        };
        match self.group_index(&name) {
            Ok(gi) => op
                .many(self, self.group_ascending(gi), p.wait(1))
                .into_reply(),
            Err(f) => Reply::Now(Err(f)),
        }
    }

    /// `startProcess` for one process: `Ok(None)` done, `Ok(Some(poll))` wait for RUNNING.
    fn start_one(&mut self, id: ProcId, name: &str, wait: bool) -> Result<Option<Poll>, Fault> {
        let program = self.check_command(id)?;
        let state = self.procs[&id].sm.state();
        procd_core::check_start(state).map_err(|r| refusal(r, name))?;
        // The spawn right below needs the same search; it takes this result instead of repeating it.
        self.prechecked = Some((id, program));
        // With `depends_on=`, the start waits (STOPPED, `waiting for ...`) until the conditions hold,
        // and the dependencies nothing is starting are started first.
        self.refresh_dependencies_of(id);
        self.input(id, Input::Start);
        self.prechecked = None;
        self.reap_process(id);
        let waits = self.procs[&id].sm.waiting_for().is_some();
        if waits {
            self.readiness.dirty = true;
            self.update_dependencies();
        }
        if let Some(reason) = self.dependency_failure(id) {
            return Err(fault(FaultCode::SpawnError, format!("{name}: {reason}")));
        }
        if !waits && !self.procs[&id].sm.spawnerr().is_empty() {
            return Err(fault(FaultCode::SpawnError, name));
        }
        self.input(id, Input::Tick);
        if !wait || self.procs[&id].sm.state() == ProcessState::Running {
            return Ok(None);
        }
        let name = name.to_owned();
        Ok(Some(Box::new(move |sup: &mut Supervisor| {
            let proc = sup.procs.get(&id)?;
            if proc.sm.waiting_for().is_some() {
                return None;
            }
            if let Some(reason) = sup.dependency_failure(id) {
                return Some(Err(fault(
                    FaultCode::SpawnError,
                    format!("{name}: {reason}"),
                )));
            }
            if !proc.sm.spawnerr().is_empty() {
                return Some(Err(fault(FaultCode::SpawnError, &name)));
            }
            match proc.sm.state() {
                ProcessState::Running => Some(Ok(Value::Bool(true))),
                ProcessState::Starting => None,
                _ => Some(Err(fault(FaultCode::AbnormalTermination, &name))),
            }
        })))
    }

    /// The checks `startProcess` makes before spawning (NO_FILE / NOT_EXECUTABLE); returns the file
    /// the spawn will execute.
    fn check_command(&self, id: ProcId) -> Result<std::path::PathBuf, Fault> {
        // An unparsable or empty command ("can't parse command ...") is NOT_EXECUTABLE too.
        match self.resolve_program(id) {
            Ok(program) => Ok(program),
            Err(msg) if msg.starts_with("can't find command") => Err(fault(FaultCode::NoFile, msg)),
            Err(msg) => Err(fault(FaultCode::NotExecutable, msg)),
        }
    }

    fn start_many(&mut self, ids: Vec<ProcId>, wait: bool) -> AllOp {
        self.many(
            ids,
            |state| !state.is_running(),
            |sup, id, spec| sup.start_one(id, spec, wait),
        )
    }

    /// supervisord's `make_allfunc`: runs `one` for every process whose state passes `wanted`, in the
    /// given order; immediate results first, deferred ones as they complete.
    fn many(
        &mut self,
        ids: Vec<ProcId>,
        wanted: impl Fn(ProcessState) -> bool,
        mut one: impl FnMut(&mut Self, ProcId, &str) -> Result<Option<Poll>, Fault>,
    ) -> AllOp {
        let mut op = AllOp {
            results: Vec::new(),
            waiting: Vec::new(),
        };
        for id in ids {
            let Some(proc) = self.procs.get(&id) else {
                continue;
            };
            if !wanted(proc.sm.state()) {
                continue;
            }
            let (name, group, spec) = (
                proc.config.name.clone(),
                proc.config.group.clone(),
                proc.namespec(),
            );
            match one(self, id, &spec) {
                Ok(None) => op.results.push(ResultStruct::success(name, group)),
                Ok(Some(poll)) => op.waiting.push((name, group, poll)),
                Err(f) => op.results.push(ResultStruct::from_fault(name, group, &f)),
            }
        }
        op
    }

    fn stop_one(&mut self, id: ProcId, name: &str, wait: bool) -> Result<Option<Poll>, Fault> {
        if self.procs[&id].sm.autorestart_pending() || self.procs[&id].sm.waiting_for().is_some() {
            // procd's restart backoff: stopping cancels the pending restart; the same for a start that
            // waits for a dependency.
            self.input(id, Input::Stop);
            return Ok(None);
        }
        let state = self.procs[&id].sm.state();
        procd_core::check_stop(state).map_err(|r| refusal(r, name))?;
        if let Some(msg) = self.input(id, Input::Stop) {
            return Err(fault(FaultCode::Failed, msg));
        }
        self.reap_process(id);
        if !wait || self.procs[&id].sm.state().is_stopped() {
            return Ok(None);
        }
        Ok(Some(Box::new(move |sup: &mut Supervisor| {
            sup.procs.get(&id)?;
            sup.input(id, Input::StopReport);
            sup.procs[&id]
                .sm
                .state()
                .is_stopped()
                .then_some(Ok(Value::Bool(true)))
        })))
    }

    fn stop_many(&mut self, ids: Vec<ProcId>, wait: bool) -> AllOp {
        // With `depends_on=`, what others in `ids` depend on is stopped once they are down.
        let now: std::collections::HashSet<ProcId> =
            self.queue_dependency_stops(&ids).into_iter().collect();
        // Starts still waiting for a dependency are cancelled (they are STOPPED, so not in the results).
        for &id in &ids {
            if self.procs[&id].sm.waiting_for().is_some() {
                self.input(id, Input::Stop);
            }
        }
        self.many(
            ids,
            |state| state.is_running(),
            |sup, id, spec| {
                if now.contains(&id) {
                    return sup.stop_one(id, spec, wait);
                }
                Ok(wait.then(|| -> Poll {
                    Box::new(move |sup: &mut Supervisor| {
                        let proc = sup.procs.get(&id)?;
                        (!sup.stop_queued(id) && proc.sm.state().is_stopped())
                            .then_some(Ok(Value::Bool(true)))
                    })
                }))
            },
        )
    }

    // ----- signals ---------------------------------------------------------------------------------

    fn signal_process(&mut self, p: &P<'_>) -> R {
        let name = p.str(0)?.to_owned();
        let sig = p.str(1)?.to_owned();
        match self.resolve(&name)? {
            (group, None) => {
                let gi = self.group_index(&group)?;
                Ok(results_value(
                    &self.signal_many(self.group_ascending(gi), &sig),
                ))
            }
            (_, Some(id)) => self.signal_one(id, &name, &sig).map(|()| Value::Bool(true)),
        }
    }

    fn signal_group(&mut self, p: &P<'_>) -> R {
        let name = p.str(0)?.to_owned();
        let sig = p.str(1)?.to_owned();
        let gi = self.group_index(&name)?;
        Ok(results_value(
            &self.signal_many(self.group_ascending(gi), &sig),
        ))
    }

    fn signal_one(&mut self, id: ProcId, name: &str, sig: &str) -> Result<(), Fault> {
        let signal = Signal::parse(sig).ok_or_else(|| fault(FaultCode::BadSignal, sig))?;
        procd_core::check_signal(self.procs[&id].sm.state()).map_err(|r| refusal(r, name))?;
        match self.input(id, Input::Signal(signal)) {
            Some(msg) => Err(fault(FaultCode::Failed, msg)),
            None => Ok(()),
        }
    }

    fn signal_many(&mut self, ids: Vec<ProcId>, sig: &str) -> Vec<ResultStruct> {
        // Signals never wait, so every result is immediate.
        self.many(ids, ProcessState::is_signallable, |sup, id, spec| {
            sup.signal_one(id, spec, sig).map(|()| None)
        })
        .results
    }

    // ----- stdin -----------------------------------------------------------------------------------

    fn send_stdin(&mut self, p: &P<'_>) -> R {
        let name = p.str(0)?;
        let chars = match p.0.get(1) {
            Some(Value::String(s)) => s.as_bytes().to_vec(),
            Some(Value::Base64(b)) => b.clone(),
            Some(other) => return Err(fault(FaultCode::IncorrectParameters, other.type_name())),
            None => return Err(bare(FaultCode::IncorrectParameters)),
        };
        let id = match self.resolve(name)? {
            (_, Some(id)) => id,
            (_, None) => return Err(fault(FaultCode::BadName, name)),
        };
        let proc = &self.procs[&id];
        if proc.sm.pid() == 0 || proc.sm.is_killing() {
            return Err(fault(FaultCode::NotRunning, name));
        }
        match &proc.stdin {
            Some(w) if w.send(chars) => Ok(Value::Bool(true)),
            _ => Err(fault(FaultCode::NoFile, name)),
        }
    }

    // ----- logs ------------------------------------------------------------------------------------

    fn main_log_path(&self) -> Option<std::path::PathBuf> {
        match &self.config.supervisord.logfile {
            LogTarget::Path(p) => Some(p.clone()),
            _ => None,
        }
    }

    fn read_main_log(&self, p: &P<'_>) -> R {
        let (offset, length) = (p.int(0)?, p.int(1)?);
        let path = self.main_log_path();
        let Some(path) = path.filter(|p| p.exists()) else {
            return Err(no_file(self.main_log_path().as_deref()));
        };
        read_result(read_file(&path, offset, length))
    }

    fn clear_main_log(&self) -> R {
        if !self.main_log_path().is_some_and(|p| p.exists()) {
            return Err(bare(FaultCode::NoFile));
        }
        self.logger.clear().map_err(|_| bare(FaultCode::Failed))?;
        Ok(Value::Bool(true))
    }

    fn channel_path(
        &self,
        namespec: &str,
        channel: &str,
    ) -> Result<Option<std::path::PathBuf>, Fault> {
        let id = match self.resolve(namespec)? {
            (_, Some(id)) => id,
            (_, None) => return Err(fault(FaultCode::BadName, namespec)),
        };
        let proc = &self.procs[&id];
        Ok(if channel == "stderr" {
            proc.stderr_path.clone()
        } else {
            proc.stdout_path.clone()
        })
    }

    fn read_process_log(&self, p: &P<'_>, channel: &str) -> R {
        let name = p.str(0)?;
        let (offset, length) = (p.int(1)?, p.int(2)?);
        let path = self.channel_path(name, channel)?;
        let Some(path) = path.filter(|p| p.exists()) else {
            return Err(no_file(self.channel_path(name, channel)?.as_deref()));
        };
        read_result(read_file(&path, offset, length))
    }

    fn tail_process_log(&self, p: &P<'_>, channel: &str) -> R {
        let name = p.str(0)?;
        let (offset, length) = (p.int(1)?, p.int(2)?);
        let path = self.channel_path(name, channel)?;
        let empty = || Value::Array(vec![Value::from(""), Value::Int(0), Value::Bool(false)]);
        let Some(path) = path.filter(|p| p.exists()) else {
            return Ok(empty());
        };
        let tail = tail_file(&path, offset, length);
        Ok(Value::Array(vec![
            Value::String(String::from_utf8_lossy(&tail.data).into_owned()),
            Value::Int(procd_protocol::api::capped_int(tail.offset)),
            Value::Bool(tail.overflow),
        ]))
    }

    fn clear_process_logs(&self, namespec: &str) -> Result<(), Fault> {
        let id = match self.resolve(namespec)? {
            (_, Some(id)) => id,
            (_, None) => return Err(fault(FaultCode::BadName, namespec)),
        };
        self.procs[&id]
            .clear_logs()
            .map_err(|_| fault(FaultCode::Failed, namespec))
    }

    fn clear_all_process_logs(&self) -> Value {
        let results: Vec<ResultStruct> = self
            .ascending()
            .into_iter()
            .map(|id| {
                let proc = &self.procs[&id];
                let (name, group) = (proc.config.name.clone(), proc.config.group.clone());
                match self.clear_process_logs(&proc.namespec()) {
                    Ok(()) => ResultStruct::success(name, group),
                    Err(f) => ResultStruct::from_fault(name, group, &f),
                }
            })
            .collect();
        results_value(&results)
    }

    // ----- configuration ---------------------------------------------------------------------------

    fn reload_config(&mut self) -> R {
        let loaded = (self.loader)().map_err(|e| fault(FaultCode::CantReread, e))?;
        self.last_read = std::sync::Arc::new(loaded);
        self.read_generation += 1;
        let current: Vec<GroupConfig> = self.groups.iter().map(|g| g.config.clone()).collect();
        let new = &self.last_read.groups;
        let has = |list: &[GroupConfig], name: &str| list.iter().any(|g| g.name == name);
        let names = |it: Vec<&GroupConfig>| {
            Value::Array(
                it.into_iter()
                    .map(|g| Value::from(g.name.as_str()))
                    .collect(),
            )
        };
        let added: Vec<&GroupConfig> = new.iter().filter(|g| !has(&current, &g.name)).collect();
        let changed: Vec<&GroupConfig> = new
            .iter()
            .filter(|g| {
                current
                    .iter()
                    .rev()
                    .find(|c| c.name == g.name)
                    .is_some_and(|c| c != *g)
            })
            .collect();
        let removed: Vec<&GroupConfig> = current.iter().filter(|g| !has(new, &g.name)).collect();
        Ok(Value::Array(vec![Value::Array(vec![
            names(added),
            names(changed),
            names(removed),
        ])]))
    }

    fn add_process_group(&mut self, p: &P<'_>) -> R {
        let name = p.str(0)?;
        let config = std::sync::Arc::clone(&self.last_read);
        let Some(g) = config.groups.iter().find(|g| g.name == name) else {
            return Err(fault(FaultCode::BadName, name));
        };
        if !self.add_group(g) {
            return Err(fault(FaultCode::AlreadyAdded, name));
        }
        Ok(Value::Bool(true))
    }

    fn remove_process_group(&mut self, p: &P<'_>) -> R {
        let name = p.str(0)?;
        if !self.groups.iter().any(|g| g.name == name) {
            return Err(fault(FaultCode::BadName, name));
        }
        if !self.remove_group(name) {
            return Err(fault(FaultCode::StillRunning, name));
        }
        Ok(Value::Bool(true))
    }
}

/// NO_FILE for a log read: the path when one is configured but missing, bare when none is configured
/// (supervisord passes `None` as the fault's extra, which leaves the bare name).
fn no_file(path: Option<&std::path::Path>) -> Fault {
    match path {
        Some(p) => fault(FaultCode::NoFile, p.display().to_string()),
        None => bare(FaultCode::NoFile),
    }
}

fn read_result(r: Result<Vec<u8>, ReadError>) -> R {
    match r {
        Ok(bytes) => Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned())),
        Err(ReadError::BadArguments) => Err(bare(FaultCode::BadArguments)),
        Err(ReadError::NoFile) => Err(bare(FaultCode::NoFile)),
        Err(ReadError::Failed(_)) => Err(bare(FaultCode::Failed)),
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
