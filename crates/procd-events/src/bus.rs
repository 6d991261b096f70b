//! The event bus: every listener pool in subscription order, and the global serial counter.
//!
//! This is the one object the supervisor actor talks to. It mirrors supervisord's module-level
//! `events.notify`: a published event goes to each pool that subscribes to its type, in the order the
//! pools were added. The global serial is taken when the first pool accepts the event, so events that
//! nobody listens to do not use up serials; each pool numbers its own deliveries too.
//! Every method returns the [`Effect`]s to carry out, already including any dispatch it made possible.

use std::sync::Arc;

use procd_protocol::ListenerState;

use super::effect::Effect;
use super::pool::{Pool, PoolConfig};
use super::types::Event;

/// All listener pools of the running configuration.
#[derive(Debug)]
pub struct EventBus {
    identifier: String,
    serial: Option<u64>,
    pools: Vec<Pool>,
}

impl EventBus {
    /// `identifier` is `[supervisord] identifier=` (the envelope's `server:`).
    pub fn new(identifier: impl Into<String>) -> Self {
        Self {
            identifier: identifier.into(),
            serial: None,
            pools: Vec::new(),
        }
    }

    /// Changes the `server:` identifier (after a reload).
    pub fn set_identifier(&mut self, identifier: impl Into<String>) {
        self.identifier = identifier.into();
    }

    /// Adds a pool (group added); it starts receiving events published from now on. A pool with the
    /// same name is replaced.
    pub fn add_pool(&mut self, config: PoolConfig) {
        self.pools.retain(|p| p.name() != config.name);
        self.pools.push(Pool::new(config));
    }

    /// Removes a pool (group removed); its buffered and in-flight events are dropped.
    pub fn remove_pool(&mut self, name: &str) -> Option<Pool> {
        let i = self.pools.iter().position(|p| p.name() == name)?;
        Some(self.pools.remove(i))
    }

    pub fn pool(&self, name: &str) -> Option<&Pool> {
        self.pools.iter().find(|p| p.name() == name)
    }

    /// Whether any pool would accept an event of the concrete type `name` (e.g. `TICK_60`): lets the
    /// actor skip building events nobody wants and arm the tick timer only when needed.
    pub fn wants(&self, name: &str) -> bool {
        self.pools.iter().any(|p| p.subscribes(name))
    }

    /// The protocol state of a listener.
    pub fn listener_state(&self, pool: &str, process: &str) -> Option<ListenerState> {
        self.pool(pool)?.listener_state(process)
    }

    fn next_serial(&mut self) -> u64 {
        let next = match self.serial {
            Some(n) if n < i64::MAX as u64 => n + 1,
            _ => 0,
        };
        self.serial = Some(next);
        next
    }

    /// Publishes an event to every subscribed pool.
    pub fn publish(&mut self, event: Event) -> Vec<Effect> {
        let mut effects = Vec::new();
        let event = Arc::new(event);
        let mut serial = None;
        for i in 0..self.pools.len() {
            if !self.pools[i].subscribes(event.name()) {
                continue;
            }
            let s = match serial {
                Some(s) => s,
                None => {
                    let s = self.next_serial();
                    serial = Some(s);
                    s
                }
            };
            let pool = &mut self.pools[i];
            pool.accept_new(Arc::clone(&event), s, &mut effects);
            pool.dispatch(&self.identifier, &mut effects);
        }
        effects
    }

    fn with_pool(
        &mut self,
        pool: &str,
        f: impl FnOnce(&mut Pool, &mut Vec<Effect>),
    ) -> Vec<Effect> {
        let mut effects = Vec::new();
        if let Some(p) = self.pools.iter_mut().find(|p| p.name() == pool) {
            f(p, &mut effects);
            p.dispatch(&self.identifier, &mut effects);
        }
        effects
    }

    /// A listener process was spawned (new pipes): it starts in ACKNOWLEDGED, waiting for `READY`.
    pub fn listener_spawned(&mut self, pool: &str, process: &str) -> Vec<Effect> {
        self.with_pool(pool, |p, e| p.spawned(process, e))
    }

    /// The listener's process state changed; pass `running = (state == RUNNING)`.
    pub fn listener_running(&mut self, pool: &str, process: &str, running: bool) -> Vec<Effect> {
        self.with_pool(pool, |p, _| p.set_running(process, running))
    }

    /// The listener's process was reaped: an event it was working on goes back to the buffer.
    pub fn listener_exited(&mut self, pool: &str, process: &str) -> Vec<Effect> {
        self.with_pool(pool, |p, e| p.exited(process, e))
    }

    /// Bytes read from the listener's stdout (any split). The raw bytes also belong in its
    /// `stdout_logfile`; that is the caller's job. Includes supervisord's DEBG
    /// `'<name>' stdout output:\n<bytes repr>` line.
    pub fn listener_output(&mut self, pool: &str, process: &str, data: &[u8]) -> Vec<Effect> {
        if data.is_empty() {
            return Vec::new();
        }
        self.with_pool(pool, |p, e| {
            e.push(Effect::log(
                procd_protocol::Level::Debug,
                format!(
                    "{} stdout output:\n{}",
                    super::pyrepr::str_repr(process),
                    super::pyrepr::bytes_repr(data)
                ),
            ));
            p.output(process, data, e);
        })
    }

    /// Writing a [`Effect::WriteStdin`] failed: the event is re-queued and the listener skipped until
    /// it is spawned again.
    pub fn write_failed(&mut self, pool: &str, process: &str) -> Vec<Effect> {
        self.with_pool(pool, |p, e| p.write_failed(process, e))
    }
}
