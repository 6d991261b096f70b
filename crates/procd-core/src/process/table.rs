//! The transition table: every state change supervisord's `Subprocess` can make, and nothing else.

use procd_protocol::ProcessState::{self, *};

/// Allowed `(from, to)` pairs. A change to the current state is a no-op (supervisord emits no event for it).
pub const TRANSITIONS: &[(ProcessState, ProcessState)] = &[
    // spawn()
    (Stopped, Starting),
    (Exited, Starting),
    (Fatal, Starting),
    (Backoff, Starting),
    // spawn error before fork, or exit before startsecs
    (Starting, Backoff),
    // stayed up longer than startsecs (or exited after startsecs before the promotion)
    (Starting, Running),
    // kill()
    (Starting, Stopping),
    (Running, Stopping),
    // reaped while stopping
    (Stopping, Stopped),
    // stop request during backoff
    (Backoff, Stopped),
    // give_up(): retries exhausted or shutdown
    (Backoff, Fatal),
    // exited on its own after RUNNING
    (Running, Exited),
    // signalling failed in an unexpected way
    (Starting, Unknown),
    (Running, Unknown),
    (Stopping, Unknown),
    // procd extension: a process waiting for a dependency that can no longer be met gives up
    (Stopped, Fatal),
    (Exited, Fatal),
];

/// Whether the table allows `from -> to`.
pub fn transition_allowed(from: ProcessState, to: ProcessState) -> bool {
    TRANSITIONS.contains(&(from, to))
}
