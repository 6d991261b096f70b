//! Shutdown and restart: decide (the supervisor's state), tell (stop the groups in supervisord's order),
//! wait (each group down, event-listener pools drained, `waiting for ... to die` every 3 s). The actor's
//! loop ends when the last group has stopped.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::Duration;

use procd_core::{Level, order};
use procd_protocol::{ListenerState, ProcessState, SupervisorState};
use tokio::time::Instant;

use super::Supervisor;
use super::procs::{Group, Proc};
use super::types::ProcId;
use crate::events::Event;

/// How long shutdown waits for an event-listener pool to deliver its buffered events.
const LISTENER_DRAIN: Duration = Duration::from_secs(5);

/// How often the shutdown reports the processes it is still waiting for.
const DIE_REPORT_EVERY: Duration = Duration::from_secs(3);

impl Supervisor {
    /// Records the supervisor's state, for the actor and for every [`Handle`](super::Handle).
    pub(super) fn set_mood(&mut self, mood: SupervisorState) {
        let changed = self.mood != mood;
        self.mood = mood;
        self.shared_mood.store(mood.code(), Ordering::Release);
        self.telemetry.mood_changed(mood);
        if changed {
            // Deadlines depend on the supervisor's state (no autostart or restart outside RUNNING).
            let ids: Vec<ProcId> = self.procs.keys().copied().collect();
            for id in ids {
                self.refresh_deadline(id);
            }
        }
    }

    /// Enters SHUTDOWN or RESTARTING; the ordered stop then runs from the loop (see
    /// [`Supervisor::shutdown_step`]). A shutdown request during a restart turns it into a shutdown.
    pub(super) fn request_mood(&mut self, mood: SupervisorState) {
        if self.mood != SupervisorState::Running {
            if mood == SupervisorState::Shutdown {
                self.set_mood(mood);
            }
            return;
        }
        self.set_mood(mood);
        self.publish(Event::SupervisorStateChangeStopping);
        let stop: VecDeque<String> = order::shutdown_order(&self.groups)
            .into_iter()
            .map(|i| self.groups[i].name.clone())
            .collect();
        self.stop_groups = Some(stop);
    }

    /// Whether an event-listener group still has events to deliver before it may be stopped. supervisord
    /// stops one group per 1-second tick, which in practice gives listeners time to receive
    /// SUPERVISOR_STATE_CHANGE_STOPPING and the last state changes; procd stops groups as soon as the
    /// previous one is down, so it waits for the pool to drain instead, for at most `LISTENER_DRAIN`.
    fn listener_pool_busy(&mut self, group: &str) -> bool {
        let Some(pool) = self.bus.pool(group) else {
            return false;
        };
        let running: Vec<&Proc> = self
            .groups
            .iter()
            .filter(|g| g.name == group)
            .flat_map(Group::ids)
            .filter_map(|id| self.procs.get(&id))
            .filter(|p| p.sm.state() == ProcessState::Running)
            .collect();
        let busy = running
            .iter()
            .any(|p| pool.listener_state(&p.config.name) == Some(ListenerState::Busy));
        let pending = !running.is_empty() && (pool.buffered() > 0 || busy);
        if !pending {
            return false;
        }
        let now = Instant::now();
        let deadline = *self.drain_deadline.get_or_insert(now + LISTENER_DRAIN);
        now < deadline
    }

    /// Stops the next group of the shutdown order (highest priority number first; inside it, processes in
    /// descending priority). Returns true when it made progress (a group finished stopping), so the
    /// caller runs again at once.
    pub(super) fn shutdown_step(&mut self) -> bool {
        let Some(name) = self.stop_groups.as_ref().and_then(|g| g.front().cloned()) else {
            return false;
        };
        if self.listener_pool_busy(&name) {
            return false;
        }
        let ids: Vec<ProcId> = match self.group_pos(&name).map(|i| &self.groups[i]) {
            Some(g) => order::descending(&g.members)
                .into_iter()
                .map(|i| g.members[i].id)
                .collect(),
            None => Vec::new(),
        };
        // Dependents (in any group) go down before what they depend on (procd extension; without
        // `depends_on=` this stops exactly the group's processes, in this order).
        let mut seen = std::collections::HashSet::new();
        for &id in &ids {
            self.stop_after_dependents(id, &mut seen);
        }
        let stopped = |id: &ProcId| self.procs.get(id).is_none_or(|p| p.sm.state().is_stopped());
        if ids.iter().all(stopped) {
            if let Some(g) = self.stop_groups.as_mut() {
                g.pop_front();
            }
            return true;
        }
        let now = Instant::now();
        if self
            .last_die_report
            .is_none_or(|t| now.duration_since(t) >= DIE_REPORT_EVERY)
        {
            // Like supervisord, the report names every unstopped process, not just this group's
            // (listed only when the report is due: a shutdown of N groups must not walk all N
            // processes for each of them).
            let unstopped: Vec<&str> = self
                .groups
                .iter()
                .flat_map(Group::ids)
                .filter_map(|id| self.procs.get(&id))
                .filter(|p| !p.sm.state().is_stopped())
                .map(|p| p.config.name.as_str())
                .collect();
            let text = format!("waiting for {} to die", unstopped.join(", "));
            self.log(Level::Info, text);
            self.last_die_report = Some(now);
        }
        false
    }
}
