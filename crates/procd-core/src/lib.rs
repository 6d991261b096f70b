//! procd-core: the pure supervision logic of procd.
//!
//! Nothing here touches the operating system or an async runtime: time is passed in ([`Now`]), and every
//! decision comes back as data ([`Effect`]) for the daemon to carry out.
//!
//! * [`process`]: the per-process state machine, reproducing supervisord 4.3.0's `Subprocess`.
//! * [`rules`]: which RPC requests a state allows, and ProcessInfo `description` text.
//! * [`order`]: who goes first (startup, start/stop all, shutdown, listings).
//! * [`backoff`]: the restart backoff sequence (`restart_delay` and friends).
//! * [`deps`]: `depends_on=` conditions, cycles, dependency-aware start and stop orders.
//! * [`mod@diff`]: the reload diff (added, changed, removed groups).
//!
//! Both are written against small traits ([`Named`], [`Ranked`], [`GroupLike`]) that the configuration's
//! groups and programs (in procd-config) and the daemon's running groups implement.

#![warn(missing_docs)]

pub mod backoff;
pub mod deps;
pub mod diff;
pub mod order;
pub mod process;
pub mod rules;
pub mod time;

pub use backoff::Backoff;
pub use diff::{Diff, Named, diff};
pub use order::{GroupLike, Ranked};
pub use procd_protocol::Level;
pub use process::{
    AutoRestart, Change, DepStatus, Effect, Input, Policy, Process, Readiness, SignalError,
    TRANSITIONS, WaitStatus, show_duration, transition_allowed,
};
pub use rules::{
    InfoView, LocalTime, Refusal, check_signal, check_start, check_stop, describe, describe_restart,
};
pub use time::Now;
