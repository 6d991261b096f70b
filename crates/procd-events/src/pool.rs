//! One `[eventlistener:x]` pool as a pure state machine: its buffer, its listeners and dispatch.
//!
//! The pool never touches a pipe. It is told what happened (an event was published, a listener wrote
//! to its stdout, started, became RUNNING or exited) and answers with [`Effect`]s: bytes to write to a
//! listener's stdin and main-log lines. Behaviour follows supervisord's `EventListenerPool`:
//! a bounded buffer that drops the oldest event when full, delivery only to a RUNNING listener that
//! said `READY`, the first such listener in pool order winning, and rejected or orphaned events going
//! back to the head of the buffer.

use std::collections::VecDeque;
use std::sync::Arc;

use procd_config::ResultHandler;
use procd_protocol::Level;
use procd_protocol::ListenerState;

use super::effect::{Effect, Queued};
use super::envelope::{Serials, envelope};
use super::listener::Listener;
use super::types::Event;

/// How a pool is set up: `[eventlistener:x]` name, `buffer_size`, `events` and its process names in
/// pool order (supervisord's dict order, i.e. config order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolConfig {
    pub name: String,
    pub buffer_size: usize,
    pub events: Vec<String>,
    pub processes: Vec<String>,
    /// What a listener's `RESULT` body means.
    pub handler: ResultHandler,
}

/// The state of one pool.
#[derive(Debug)]
pub struct Pool {
    name: String,
    buffer_size: usize,
    events: Vec<String>,
    listeners: Vec<Listener>,
    buffer: VecDeque<Queued>,
    pool_serial: Option<u64>,
}

impl Pool {
    pub fn new(config: PoolConfig) -> Self {
        Self {
            name: config.name,
            buffer_size: config.buffer_size,
            events: config.events,
            listeners: config
                .processes
                .into_iter()
                .map(|name| Listener::new(name, config.handler))
                .collect(),
            buffer: VecDeque::new(),
            pool_serial: None,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether this pool subscribes to events of the concrete type `name`.
    pub fn subscribes(&self, name: &str) -> bool {
        self.events
            .iter()
            .any(|s| super::types::name_matches(name, s))
    }

    /// Number of events waiting in the buffer.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// The protocol state of one listener (`None` if the pool has no such process).
    pub fn listener_state(&self, process: &str) -> Option<ListenerState> {
        self.listener(process).map(|l| l.state)
    }

    fn listener(&self, process: &str) -> Option<&Listener> {
        self.listeners.iter().find(|l| l.name == process)
    }

    fn index(&self, process: &str) -> Option<usize> {
        self.listeners.iter().position(|l| l.name == process)
    }

    fn next_pool_serial(&mut self) -> u64 {
        let next = match self.pool_serial {
            Some(n) if n < i64::MAX as u64 => n + 1,
            _ => 0,
        };
        self.pool_serial = Some(next);
        next
    }

    /// Accepts a newly published event carrying global serial `serial` (at the tail of the buffer).
    pub(crate) fn accept_new(&mut self, event: Arc<Event>, serial: u64, effects: &mut Vec<Effect>) {
        let pool_serial = self.next_pool_serial();
        let queued = Queued {
            event,
            serials: Serials {
                serial,
                pool_serial,
            },
        };
        self.make_room(effects);
        self.buffer.push_back(queued);
    }

    /// Puts an event that already went through this pool back at the head of the buffer.
    fn rebuffer(&mut self, queued: Queued, effects: &mut Vec<Effect>) {
        effects.push(Effect::log(
            Level::Debug,
            format!(
                "rebuffering event {} for pool {} (buf size={}, max={})",
                queued.serials.serial,
                self.name,
                self.buffer.len(),
                self.buffer_size
            ),
        ));
        self.make_room(effects);
        self.buffer.push_front(queued);
    }

    fn make_room(&mut self, effects: &mut Vec<Effect>) {
        if self.buffer.len() >= self.buffer_size
            && let Some(old) = self.buffer.pop_front()
        {
            effects.push(Effect::log(
                Level::Error,
                format!(
                    "pool {} event buffer overflowed, discarding event {}",
                    self.name, old.serials.serial
                ),
            ));
        }
    }

    fn reject(&mut self, process: usize, queued: Queued, effects: &mut Vec<Effect>) {
        effects.push(Effect::Rejected {
            pool: self.name.clone(),
            process: self.listeners[process].name.clone(),
            serial: queued.serials.serial,
        });
        self.rebuffer(queued, effects);
    }

    /// Sends buffered events, oldest first, to listeners that can take one.
    pub(crate) fn dispatch(&mut self, identifier: &str, effects: &mut Vec<Effect>) {
        if !self.listeners.iter().any(Listener::can_take) {
            return;
        }
        while let Some(queued) = self.buffer.pop_front() {
            let Some(l) = self.listeners.iter_mut().find(|l| l.can_take()) else {
                self.rebuffer(queued, effects);
                break;
            };
            let bytes =
                envelope(identifier, &self.name, queued.serials, &queued.event).into_bytes();
            l.state = ListenerState::Busy;
            effects.push(Effect::WriteStdin {
                pool: self.name.clone(),
                process: l.name.clone(),
                bytes,
            });
            effects.push(Effect::log(
                Level::Debug,
                format!(
                    "event {} sent to listener {}",
                    queued.serials.serial, l.name
                ),
            ));
            l.in_flight = Some(queued);
        }
    }

    /// A listener process was spawned: its protocol starts over in ACKNOWLEDGED.
    pub(crate) fn spawned(&mut self, process: &str, effects: &mut Vec<Effect>) {
        let Some(i) = self.index(process) else { return };
        if let Some(q) = self.listeners[i].in_flight.take() {
            self.reject(i, q, effects);
        }
        self.listeners[i].reset();
    }

    /// The listener's process state changed; only RUNNING listeners receive events.
    pub(crate) fn set_running(&mut self, process: &str, running: bool) {
        if let Some(i) = self.index(process) {
            self.listeners[i].running = running;
        }
    }

    /// The listener's process ended: an event it was working on goes back to the buffer.
    pub(crate) fn exited(&mut self, process: &str, effects: &mut Vec<Effect>) {
        let Some(i) = self.index(process) else { return };
        self.listeners[i].running = false;
        if let Some(q) = self.listeners[i].in_flight.take() {
            self.reject(i, q, effects);
        }
    }

    /// Bytes the listener wrote to its stdout.
    pub(crate) fn output(&mut self, process: &str, data: &[u8], effects: &mut Vec<Effect>) {
        let Some(i) = self.index(process) else { return };
        if let Some(q) = self.listeners[i].feed(data, effects) {
            self.reject(i, q, effects);
        }
    }

    /// Writing the envelope to the listener's stdin failed: the event goes back and the listener is
    /// skipped until it is started again.
    pub(crate) fn write_failed(&mut self, process: &str, effects: &mut Vec<Effect>) {
        let Some(i) = self.index(process) else { return };
        let l = &mut self.listeners[i];
        l.stdin_closed = true;
        if l.state == ListenerState::Busy {
            l.state = ListenerState::Ready;
        }
        if let Some(q) = l.in_flight.take() {
            effects.push(Effect::log(
                Level::Debug,
                format!(
                    "epipe occurred while sending event {} to listener {}, listener state unchanged",
                    q.serials.serial, l.name
                ),
            ));
            self.rebuffer(q, effects);
        }
    }
}
