//! What the event system asks of its owner ([`Effect`]) and an event as a pool queues it ([`Queued`]):
//! the types [`pool`](super::pool) and [`listener`](super::listener) share, kept below both so that
//! neither imports the other for them.

use std::sync::Arc;

use procd_protocol::Level;

use super::envelope::Serials;
use super::types::Event;

/// Something the actor must do on behalf of the event system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Write these bytes to the stdin of listener `process` of pool `pool`. If the write fails
    /// (EPIPE), report it with [`crate::EventBus::write_failed`].
    WriteStdin {
        pool: String,
        process: String,
        bytes: Vec<u8>,
    },
    /// A main-log line.
    Log { level: Level, text: String },
    /// Listener `process` rejected (or died holding) event `serial`; the pool has already put it back
    /// at the head of its buffer. Informational.
    Rejected {
        pool: String,
        process: String,
        serial: u64,
    },
    /// Print these bytes on procd's own stdout (the `supervisor_stdout:event_handler` result handler),
    /// as Python 2's `print text,` does: see [`crate::SoftSpace`].
    Print(Vec<u8>),
}

impl Effect {
    pub(crate) fn log(level: Level, text: String) -> Self {
        Self::Log { level, text }
    }
}

/// An event waiting in (or taken from) a pool's buffer.
#[derive(Debug, Clone)]
pub(crate) struct Queued {
    pub(crate) event: Arc<Event>,
    pub(crate) serials: Serials,
}
