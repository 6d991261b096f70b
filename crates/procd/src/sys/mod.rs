//! OS layer: the only module of procd that talks to the kernel directly and the only one allowed `unsafe`.
//!
//! It owns process creation ([`spawn`]), reaping ([`reaper`]), signalling pids and process groups
//! ([`signals`]), user lookup ([`users`]), resource limits ([`rlimits`]), daemonizing and the pidfile
//! ([`daemon`]) and the few socket and file operations std lacks ([`sockets`], [`files`]). Nothing here
//! spawns tasks, and the only state kept is [`spawn`]'s: three reserved fd slots and the reused child
//! stack, behind one lock, so that spawns are serialised. Callers (the supervisor actor through its `Os`
//! seam, the HTTP server, `main`) decide *when*; this module only knows *how*.
//!
//! Every `unsafe` block carries a `// SAFETY:` comment. Code that runs in a forked child before `exec`
//! uses only async-signal-safe calls and never allocates: everything it needs is prepared before forking.
#![allow(unsafe_code)]

pub mod cgroup;
pub mod childsyslog;
pub mod clock;
pub mod daemon;
pub mod fcgi;
pub mod files;
pub mod memory;
pub mod pipeio;
pub mod reaper;
pub mod rlimits;
pub mod signals;
pub mod sockets;
pub mod spawn;
pub mod syslog;
pub mod users;

mod errno;

pub use errno::{describe_os_error, errno_name};
pub use reaper::{WaitStatus, note_exits, reap_all, reap_any, reap_pid, take_exit_hints};
pub use signals::{KillError, kill, kill_group};
pub use spawn::{SpawnError, SpawnSpec, SpawnUser, Spawned, StdinMode, resolve_command, spawn};
