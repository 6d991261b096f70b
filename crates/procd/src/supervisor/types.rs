//! Types the actor's modules share: a process's identity and the messages its own tasks send back.
//! They live here, below [`procs`](super::procs) and [`output`](super::output), so neither imports the
//! other for them.

use crate::events::Event;

/// Stable identity of a process for the actor's lifetime (survives group removal of others).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcId(pub u64);

/// Messages from the actor's own tasks (output pumps) back to the actor.
#[derive(Debug)]
pub enum Internal {
    /// Bytes an event listener wrote on its stdout (the protocol channel).
    ListenerOutput { id: ProcId, pid: i32, data: Vec<u8> },
    /// An event produced from child output (PROCESS_LOG_*, PROCESS_COMMUNICATION_*).
    Publish(Event),
    /// A ready check of child `pid` passed (0: the current child, for `notify`).
    Ready { id: ProcId, pid: i32 },
    /// The liveness check of child `pid` failed `liveness_failures` times in a row.
    LivenessFailed {
        id: ProcId,
        pid: i32,
        reason: String,
    },
}
