//! Event publishing: the actor's side of the event bus. State changes become PROCESS_STATE_* events,
//! the bus's effects (envelopes to listeners' stdin, main-log lines) are carried out here, and listener
//! protocol bytes from the output pumps are fed back to their pool.

use procd_protocol::ProcessState;

use super::Supervisor;
use super::types::{Internal, ProcId};
use crate::events::{Event, ProcessRef};

impl Supervisor {
    /// A message from one of the actor's own tasks.
    pub(super) fn on_internal(&mut self, msg: Internal) {
        match msg {
            Internal::Publish(event) => self.publish(event),
            Internal::Ready { id, pid } => self.check_passed(id, pid),
            Internal::LivenessFailed { id, pid, reason } => self.liveness_failed(id, pid, &reason),
            Internal::ListenerOutput { id, pid, data } => {
                // Output of an earlier child of this listener that arrives after its restart belongs
                // to no protocol conversation any more.
                let Some(proc) = self.procs.get(&id).filter(|p| p.sm.pid() == pid) else {
                    return;
                };
                let (pool, name) = (proc.config.group.clone(), proc.config.name.clone());
                let effects = self.bus.listener_output(&pool, &name, &data);
                self.bus_effects(effects);
            }
        }
    }

    /// Sends an event to the listener pools that subscribe to it.
    pub(super) fn publish(&mut self, event: Event) {
        let effects = self.bus.publish(event);
        self.bus_effects(effects);
    }

    /// Carries out what the event bus asks for: envelopes to listeners' stdin and main-log lines.
    pub(super) fn bus_effects(&mut self, effects: Vec<crate::events::Effect>) {
        let mut queue = std::collections::VecDeque::from(effects);
        while let Some(effect) = queue.pop_front() {
            match effect {
                crate::events::Effect::WriteStdin {
                    pool,
                    process,
                    bytes,
                } => {
                    let sent = self
                        .find(&pool, &process)
                        .and_then(|id| self.procs.get(&id))
                        .and_then(|p| p.stdin.as_ref())
                        .is_some_and(|w| w.send(bytes));
                    if !sent {
                        queue.extend(self.bus.write_failed(&pool, &process));
                    }
                }
                crate::events::Effect::Log { level, text } => self.log(level, text),
                crate::events::Effect::Rejected { .. } => {}
                crate::events::Effect::Print(text) => self.print_stdout(&text),
            }
        }
    }

    /// Writes a `supervisor_stdout:event_handler` line on procd's stdout, as supervisord's `print` does
    /// (blocking, like the main log's copy to stdout in the foreground). A closed stdout loses the line
    /// without stopping anything, as it does for supervisord.
    fn print_stdout(&mut self, text: &[u8]) {
        use std::io::Write as _;
        let bytes = self.print_state.print(text);
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(&bytes).and_then(|()| out.flush());
    }

    /// Publishes the PROCESS_STATE_* event of a state change and keeps listener pools informed.
    pub(super) fn publish_state(&mut self, id: ProcId, change: procd_core::Change) {
        let Some(proc) = self.procs.get(&id) else {
            return;
        };
        let process = ProcessRef::new(proc.config.name.clone(), proc.config.group.clone());
        let listener = proc.is_listener;
        let from = change.from;
        let event = match change.to {
            ProcessState::Stopped => Event::ProcessStateStopped {
                process,
                from,
                pid: change.pid,
            },
            ProcessState::Starting => Event::ProcessStateStarting {
                process,
                from,
                tries: change.tries,
            },
            ProcessState::Running => Event::ProcessStateRunning {
                process,
                from,
                pid: change.pid,
            },
            ProcessState::Backoff => Event::ProcessStateBackoff {
                process,
                from,
                tries: change.tries,
            },
            ProcessState::Stopping => Event::ProcessStateStopping {
                process,
                from,
                pid: change.pid,
            },
            ProcessState::Exited => Event::ProcessStateExited {
                process,
                from,
                expected: change.expected,
                pid: change.pid,
            },
            ProcessState::Fatal => Event::ProcessStateFatal { process, from },
            ProcessState::Unknown => Event::ProcessStateUnknown { process, from },
        };
        self.publish(event);
        if listener && let Some(proc) = self.procs.get(&id) {
            let (pool, name) = (proc.config.group.clone(), proc.config.name.clone());
            let effects =
                self.bus
                    .listener_running(&pool, &name, change.to == ProcessState::Running);
            self.bus_effects(effects);
        }
    }
}
