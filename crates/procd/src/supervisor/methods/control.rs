//! Control methods: start, stop and signal (one process, a group, all), `sendProcessStdin`,
//! `sendRemoteCommEvent`, `shutdown` and `restart`.

use std::collections::HashMap;
use std::time::Duration;

use procd_core::Input;
use procd_protocol::api::ResultStruct;
use procd_protocol::{Fault, FaultCode, ProcessState, Signal, SupervisorState, Value};

use super::super::Supervisor;
use super::super::deferred::{Deferred, Poll, Reply};
use super::super::faults::{self, bad_name, fault, refusal};
use super::super::types::ProcId;
use super::{R, results_value};
use crate::events::Event;

/// The start and stop families share their namespec handling and group fan-out.
#[derive(Debug, Clone, Copy)]
pub(super) enum Op {
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
pub(super) struct AllOp {
    results: Vec<ResultStruct>,
    waiting: Vec<Waiter>,
}

/// A process of a group or "all" operation whose result is not known yet.
struct Waiter {
    id: ProcId,
    name: String,
    group: String,
    poll: Poll,
}

impl AllOp {
    /// The reply: at once, or when the last waiter is done. A waiter's result can change only when its
    /// process took an input (see `Supervisor::touched`) or its `waiting for <name> to stop` report is
    /// due, so after the first round only those waiters are polled again, in the order the operation
    /// listed them: an operation over N processes costs O(N) in all, not O(N) per event.
    pub(super) fn into_reply(self) -> Reply {
        let AllOp {
            mut results,
            waiting,
        } = self;
        if waiting.is_empty() {
            return Reply::Now(Ok(results_value(&results)));
        }
        let index: HashMap<ProcId, usize> =
            waiting.iter().enumerate().map(|(i, w)| (w.id, i)).collect();
        let mut left = waiting.len();
        let mut slots: Vec<Option<Waiter>> = waiting.into_iter().map(Some).collect();
        // When every waiter must be polled again (at once for the first round).
        let mut full_round_at = Duration::ZERO;
        let poll: Poll = Box::new(move |sup| {
            let now = sup.epoch.elapsed();
            let full = now >= full_round_at;
            let candidates: Vec<usize> = if full {
                (0..slots.len()).collect()
            } else {
                let mut c: Vec<usize> = sup
                    .polled
                    .iter()
                    .filter_map(|id| index.get(id).copied())
                    .collect();
                c.sort_unstable();
                c.dedup();
                c
            };
            if full {
                full_round_at = Duration::MAX;
            }
            for i in candidates {
                let Some(w) = slots[i].as_mut() else {
                    continue;
                };
                let done = (w.poll)(sup);
                let Some(result) = done else {
                    let due = sup.procs.get(&w.id).and_then(|p| p.sm.stop_report_due());
                    if let Some(due) = due {
                        full_round_at = full_round_at.min(due);
                    }
                    continue;
                };
                let (name, group) = (w.name.clone(), w.group.clone());
                results.push(match result {
                    Ok(_) => ResultStruct::success(name, group),
                    Err(f) => ResultStruct::from_fault(name, group, &f),
                });
                slots[i] = None;
                left -= 1;
            }
            (left == 0).then(|| Ok(results_value(&results)))
        });
        Reply::Later(Deferred::new(poll))
    }
}

impl Supervisor {
    /// `shutdown` / `restart`.
    pub(super) fn shutdown_call(&mut self, mood: SupervisorState) -> Value {
        self.request_mood(mood);
        Value::Bool(true)
    }

    /// `startProcess` / `stopProcess`: one process, or its group for `group:*` names.
    pub(super) fn process_call(&mut self, name: &str, op: Op, wait: bool) -> Reply {
        match self.resolve(name) {
            Err(f) => Reply::Now(Err(f)),
            Ok((group, None)) => match self.group(&group).map(Self::group_ascending) {
                Ok(ids) => op.many(self, ids, wait).into_reply(),
                Err(f) => Reply::Now(Err(f)),
            },
            Ok((_, Some(id))) => match op.one(self, id, name, wait) {
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
    pub(super) fn group_call(&mut self, name: &str, op: Op, wait: bool) -> Reply {
        match self.group(name).map(Self::group_ascending) {
            Ok(ids) => op.many(self, ids, wait).into_reply(),
            Err(f) => Reply::Now(Err(f)),
        }
    }

    fn state_of(&self, id: ProcId) -> Option<ProcessState> {
        self.procs.get(&id).map(|p| p.sm.state())
    }

    /// `startProcess` for one process: `Ok(None)` done, `Ok(Some(poll))` wait for RUNNING.
    fn start_one(&mut self, id: ProcId, name: &str, wait: bool) -> Result<Option<Poll>, Fault> {
        // The checks supervisord makes before spawning (NO_FILE / NOT_EXECUTABLE); the spawn below
        // executes the file found here rather than searching again.
        let program = self.resolve_program(id).map_err(faults::command)?;
        let state = self.state_of(id).ok_or_else(|| bad_name(name))?;
        procd_core::check_start(state).map_err(|r| refusal(r, name))?;
        // With `depends_on=`, the start waits (STOPPED, `waiting for ...`) until the conditions hold,
        // and the dependencies nothing is starting are started first.
        self.refresh_dependencies_of(id);
        self.apply(id, Input::Start, Some(program));
        self.reap_process(id);
        let waits = self
            .procs
            .get(&id)
            .is_some_and(|p| p.sm.waiting_for().is_some());
        if waits {
            self.readiness.dirty = true;
            self.update_dependencies();
        }
        if let Some(reason) = self.dependency_failure(id) {
            return Err(fault(FaultCode::SpawnError, format!("{name}: {reason}")));
        }
        if !waits
            && self
                .procs
                .get(&id)
                .is_some_and(|p| !p.sm.spawnerr().is_empty())
        {
            return Err(fault(FaultCode::SpawnError, name));
        }
        self.input(id, Input::Tick);
        if !wait || self.state_of(id) == Some(ProcessState::Running) {
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

    pub(super) fn start_many(&mut self, ids: Vec<ProcId>, wait: bool) -> AllOp {
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
                Ok(Some(poll)) => op.waiting.push(Waiter {
                    id,
                    name,
                    group,
                    poll,
                }),
                Err(f) => op.results.push(ResultStruct::from_fault(name, group, &f)),
            }
        }
        op
    }

    fn stop_one(&mut self, id: ProcId, name: &str, wait: bool) -> Result<Option<Poll>, Fault> {
        if self
            .procs
            .get(&id)
            .is_some_and(|p| p.sm.autorestart_pending() || p.sm.waiting_for().is_some())
        {
            // procd's restart backoff: stopping cancels the pending restart; the same for a start that
            // waits for a dependency.
            self.input(id, Input::Stop);
            return Ok(None);
        }
        let state = self.state_of(id).ok_or_else(|| bad_name(name))?;
        procd_core::check_stop(state).map_err(|r| refusal(r, name))?;
        if let Some(msg) = self.input(id, Input::Stop) {
            return Err(fault(FaultCode::Failed, msg));
        }
        self.reap_process(id);
        if !wait || self.state_of(id).is_none_or(ProcessState::is_stopped) {
            return Ok(None);
        }
        Ok(Some(Box::new(move |sup: &mut Supervisor| {
            sup.procs.get(&id)?;
            sup.input(id, Input::StopReport);
            sup.state_of(id)
                .is_some_and(ProcessState::is_stopped)
                .then_some(Ok(Value::Bool(true)))
        })))
    }

    pub(super) fn stop_many(&mut self, ids: Vec<ProcId>, wait: bool) -> AllOp {
        // With `depends_on=`, what others in `ids` depend on is stopped once they are down.
        let now: std::collections::HashSet<ProcId> =
            self.queue_dependency_stops(&ids).into_iter().collect();
        // Starts still waiting for a dependency are cancelled (they are STOPPED, so not in the results),
        // and so are autorestarts waiting for their backoff delay (EXITED, not in the results either:
        // supervisord's stopAllProcesses reports only processes it stopped).
        for &id in &ids {
            if self
                .procs
                .get(&id)
                .is_some_and(|p| p.sm.waiting_for().is_some() || p.sm.autorestart_pending())
            {
                self.input(id, Input::Stop);
            }
        }
        self.many(
            ids,
            procd_protocol::ProcessState::is_running,
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

    /// `signalProcess`: one process, or its group for `group:*` names.
    pub(super) fn signal_process(&mut self, name: &str, sig: &str) -> R {
        match self.resolve(name)? {
            (group, None) => {
                let ids = Self::group_ascending(self.group(&group)?);
                Ok(results_value(&self.signal_many(ids, sig)))
            }
            (_, Some(id)) => self.signal_one(id, name, sig).map(|()| Value::Bool(true)),
        }
    }

    /// `signalProcessGroup`.
    pub(super) fn signal_group(&mut self, name: &str, sig: &str) -> R {
        let ids = Self::group_ascending(self.group(name)?);
        Ok(results_value(&self.signal_many(ids, sig)))
    }

    fn signal_one(&mut self, id: ProcId, name: &str, sig: &str) -> Result<(), Fault> {
        let signal = Signal::parse(sig).ok_or_else(|| fault(FaultCode::BadSignal, sig))?;
        let state = self.state_of(id).ok_or_else(|| bad_name(name))?;
        procd_core::check_signal(state).map_err(|r| refusal(r, name))?;
        match self.input(id, Input::Signal(signal)) {
            Some(msg) => Err(fault(FaultCode::Failed, msg)),
            None => Ok(()),
        }
    }

    pub(super) fn signal_many(&mut self, ids: Vec<ProcId>, sig: &str) -> Vec<ResultStruct> {
        // Signals never wait, so every result is immediate.
        self.many(ids, ProcessState::is_signallable, |sup, id, spec| {
            sup.signal_one(id, spec, sig).map(|()| None)
        })
        .results
    }

    // ----- stdin and remote communication ------------------------------------------------------------

    /// `sendProcessStdin`.
    pub(super) fn send_stdin(&mut self, name: &str, chars: Vec<u8>) -> R {
        let id = self.resolve_process(name)?;
        let Some(proc) = self.procs.get(&id) else {
            return Err(bad_name(name));
        };
        if proc.sm.pid() == 0 || proc.sm.is_killing() {
            return Err(fault(FaultCode::NotRunning, name));
        }
        match &proc.stdin {
            Some(w) if w.send(chars) => Ok(Value::Bool(true)),
            _ => Err(fault(FaultCode::NoFile, name)),
        }
    }

    /// `sendRemoteCommEvent`: a REMOTE_COMMUNICATION event for the listeners subscribed to it.
    pub(super) fn remote_comm_event(&mut self, kind: String, data: String) -> Value {
        self.publish(Event::RemoteCommunication { kind, data });
        Value::Bool(true)
    }
}
