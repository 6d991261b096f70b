//! The `supervisor.*` namespace: every method of supervisord 4.3.0's `SupervisorNamespaceRPCInterface`,
//! run inside the actor with direct access to the state. A call arrives decoded
//! ([`SupervisorCall`]); [`Supervisor::dispatch`] matches on it once and hands it to its family:
//!
//! * [`control`]: start, stop, signal, stdin, remote communication events, shutdown and restart.
//! * [`info`]: versions, identification, ProcessInfo.
//! * [`logs`]: the main log and the processes' logs.
//! * [`config`]: `reloadConfig`, adding and removing groups, `getAllConfigInfo`.
//!
//! Faults come from [`faults`](super::faults).

mod config;
mod control;
mod info;
mod logs;

use procd_core::order;
use procd_protocol::api::{ProcessInfo, ResultStruct, split_namespec};
use procd_protocol::{Fault, SupervisorCall, SupervisorState, Value};

use super::Supervisor;
use super::deferred::Reply;
use super::faults::{bad_name, shutting_down};
use super::procs::Group;
use super::types::ProcId;

type R = Result<Value, Fault>;

impl Supervisor {
    /// Runs one `supervisor.*` method.
    pub(super) fn dispatch(&mut self, call: SupervisorCall) -> Reply {
        use SupervisorCall as C;
        if !call.allowed_while_stopping() && self.mood != SupervisorState::Running {
            return Reply::Now(Err(shutting_down()));
        }
        let r: R = match call {
            C::GetApiVersion => Ok(info::api_version()),
            C::GetSupervisorVersion => Ok(info::supervisor_version()),
            C::GetIdentification => Ok(self.identification()),
            C::GetState => Ok(self.state_value()),
            C::GetPid => Ok(info::pid()),
            C::GetProcessInfo { name } => self
                .process_info_by_name(&name)
                .map(ProcessInfo::into_value),
            C::GetAllProcessInfo => Ok(self.all_process_info()),
            C::ReadLog { offset, length } => self.read_main_log(offset, length),
            C::ClearLog => self.clear_main_log(),
            C::ReadProcessLog {
                name,
                stream,
                offset,
                length,
            } => self.read_process_log(&name, stream, offset, length),
            C::TailProcessLog {
                name,
                stream,
                offset,
                length,
            } => self.tail_process_log(&name, stream, offset, length),
            C::ClearProcessLogs { name } => {
                self.clear_process_logs(&name).map(|()| Value::Bool(true))
            }
            C::ClearAllProcessLogs => Ok(self.clear_all_process_logs()),
            C::ReloadConfig => self.reload_config(),
            C::AddProcessGroup { name } => self.add_process_group(&name),
            C::RemoveProcessGroup { name } => self.remove_process_group(&name),
            C::GetAllConfigInfo => Ok(self.all_config_info()),
            C::Shutdown => Ok(self.shutdown_call(SupervisorState::Shutdown)),
            C::Restart => Ok(self.shutdown_call(SupervisorState::Restarting)),
            C::StartProcess { name, wait } => {
                return self.process_call(&name, control::Op::Start, wait);
            }
            C::StartProcessGroup { name, wait } => {
                return self.group_call(&name, control::Op::Start, wait);
            }
            C::StartAllProcesses { wait } => {
                let ids = self.ascending();
                return self.start_many(ids, wait).into_reply();
            }
            C::StopProcess { name, wait } => {
                return self.process_call(&name, control::Op::Stop, wait);
            }
            C::StopProcessGroup { name, wait } => {
                return self.group_call(&name, control::Op::Stop, wait);
            }
            C::StopAllProcesses { wait } => {
                let ids = self.ascending();
                return self.stop_many(ids, wait).into_reply();
            }
            C::SignalProcess { name, signal } => self.signal_process(&name, &signal),
            C::SignalProcessGroup { name, signal } => self.signal_group(&name, &signal),
            C::SignalAllProcesses { signal } => {
                Ok(results_value(&self.signal_many(self.ascending(), &signal)))
            }
            C::SendProcessStdin { name, chars } => self.send_stdin(&name, chars.into_bytes()),
            C::SendRemoteCommEvent { kind, data } => Ok(self.remote_comm_event(kind, data)),
        };
        Reply::Now(r)
    }

    // ----- lookup and ordering -------------------------------------------------------------------

    /// Resolves a namespec: `Ok((group, Some(id)))` for a process, `Ok((group, None))` for `group:*`.
    fn resolve(&self, namespec: &str) -> Result<(String, Option<ProcId>), Fault> {
        let (group, process) = split_namespec(namespec);
        if self.group_pos(&group).is_none() {
            return Err(bad_name(namespec));
        }
        match process {
            None => Ok((group, None)),
            Some(p) => match self.find(&group, &p) {
                Some(id) => Ok((group, Some(id))),
                None => Err(bad_name(namespec)),
            },
        }
    }

    /// Resolves a namespec that must name one process (not `group:*`).
    fn resolve_process(&self, namespec: &str) -> Result<ProcId, Fault> {
        match self.resolve(namespec)? {
            (_, Some(id)) => Ok(id),
            (_, None) => Err(bad_name(namespec)),
        }
    }

    fn group(&self, name: &str) -> Result<&Group, Fault> {
        self.group_pos(name)
            .map(|i| &self.groups[i])
            .ok_or_else(|| bad_name(name))
    }

    /// All processes, groups by ascending priority then processes by ascending priority (stable):
    /// `startAllProcesses`, `stopAllProcesses`, `signalAllProcesses`, `clearAllProcessLogs`.
    pub(super) fn ascending(&self) -> Vec<ProcId> {
        order::priority_order(&self.groups)
            .into_iter()
            .map(|(g, p)| self.groups[g].members[p].id)
            .collect()
    }

    /// One group's processes by ascending priority (stable).
    fn group_ascending(group: &Group) -> Vec<ProcId> {
        order::ascending(&group.members)
            .into_iter()
            .map(|i| group.members[i].id)
            .collect()
    }

    /// All processes sorted by group name, then process name (`getAllProcessInfo`, `status`).
    fn lexical(&self) -> Vec<ProcId> {
        order::lexical_order(&self.groups)
            .into_iter()
            .map(|(g, p)| self.groups[g].members[p].id)
            .collect()
    }
}

fn results_value(results: &[ResultStruct]) -> Value {
    Value::Array(results.iter().map(ResultStruct::to_value).collect())
}
