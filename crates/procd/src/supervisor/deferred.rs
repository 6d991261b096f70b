//! Deferred replies: RPC calls such as `startProcess(wait=True)` answer only when their target state is
//! reached. supervisord re-polls such calls from its main loop every 50 ms; procd re-checks them after each
//! event the actor handles (child exit, timer, request), so a reply goes out as soon as its condition holds
//! and nothing wakes up while nothing happens.

use std::time::Duration;

use procd_protocol::{Fault, Value};
use tokio::sync::oneshot;

use super::Supervisor;

/// A condition checked after every event: `None` while not done yet.
pub(super) type Poll = Box<dyn FnMut(&mut Supervisor) -> Option<Result<Value, Fault>> + Send>;

/// What a method call returns to the actor.
pub(super) enum Reply {
    Now(Result<Value, Fault>),
    /// Answer later, when the poll function says so.
    Later(Deferred),
}

/// A poll function plus how often it wants to be re-checked while nothing happens (for the
/// `waiting for <name> to stop` report of `stopProcess`).
pub(super) struct Deferred {
    pub poll: Poll,
    pub wake_every: Option<Duration>,
}

impl Deferred {
    pub(super) fn new(poll: Poll) -> Self {
        Deferred {
            poll,
            wake_every: None,
        }
    }
}

impl From<Result<Value, Fault>> for Reply {
    fn from(r: Result<Value, Fault>) -> Self {
        Reply::Now(r)
    }
}

/// A client waiting for a deferred reply.
pub(super) struct Pending {
    deferred: Deferred,
    reply: Option<oneshot::Sender<Result<Value, Fault>>>,
    last_polled: Option<Duration>,
}

impl Pending {
    pub(super) fn new(deferred: Deferred, reply: oneshot::Sender<Result<Value, Fault>>) -> Self {
        Pending {
            deferred,
            reply: Some(reply),
            last_polled: None,
        }
    }

    /// Polls once; returns true when the reply has been sent (or the client has gone away).
    pub(super) fn poll(&mut self, sup: &mut Supervisor) -> bool {
        if self.reply.as_ref().is_none_or(oneshot::Sender::is_closed) {
            return true;
        }
        self.last_polled = Some(sup.epoch.elapsed());
        match (self.deferred.poll)(sup) {
            Some(result) => {
                if let Some(tx) = self.reply.take() {
                    let _ = tx.send(result);
                }
                true
            }
            None => false,
        }
    }

    /// When this waiter wants to be polled again even if nothing happens.
    pub(super) fn next_report(&self) -> Option<Duration> {
        let every = self.deferred.wake_every?;
        Some(self.last_polled.map_or(Duration::ZERO, |t| t + every))
    }

    pub(super) fn fail(mut self, fault: Fault) {
        if let Some(tx) = self.reply.take() {
            let _ = tx.send(Err(fault));
        }
    }
}
