//! procd-protocol: the wire vocabulary shared by the daemon, the client and the tests.
//!
//! Sans-IO: XML-RPC values and their quick-xml codec, supervisord's fault codes, process and supervisor
//! states, signals, and the typed structures of supervisord's API.

pub mod signal;
pub mod states;

pub use signal::Signal;
pub use states::{ListenerState, ProcessState, SupervisorState};
