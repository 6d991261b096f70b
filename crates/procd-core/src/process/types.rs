//! The vocabulary of the state machine: its policy, inputs and effects.

use std::time::Duration;

use procd_protocol::{ProcessState, Signal};

use super::WaitStatus;
use procd_protocol::Level;

/// `autorestart=` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoRestart {
    /// `false`
    Never,
    /// `unexpected`: restart when the exit status is not in `exitcodes`.
    Unexpected,
    /// `true`
    Always,
}

/// The program options the state machine needs (a subset of `[program:x]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `autostart=` (default true): start the process when the supervisor starts or adds its group.
    pub autostart: bool,
    /// `startsecs=` (seconds, default 1): how long a child must stay up after its spawn for STARTING to
    /// become RUNNING; an exit sooner is a failed start (BACKOFF). 0 means RUNNING at once.
    pub startsecs: u64,
    /// `startretries=` (default 3): failed starts in a row tolerated before BACKOFF gives up as FATAL.
    pub startretries: u32,
    /// `autorestart=` (default `unexpected`): whether an exit from RUNNING leads to a new start.
    pub autorestart: AutoRestart,
    /// `exitcodes=` (default `0`): the exit statuses that count as expected, for `autorestart=unexpected`
    /// and the `expected` flag of PROCESS_STATE_EXITED.
    pub exitcodes: Vec<i32>,
    /// `stopsignal=` (default TERM): the signal a stop sends first.
    pub stopsignal: Signal,
    /// `stopwaitsecs=` (seconds, default 10): how long a stop waits after `stopsignal` before SIGKILL.
    pub stopwaitsecs: u64,
    /// `stopasgroup=` (default false): send the stop signal to the child's whole process group; as in
    /// supervisord it implies `killasgroup`.
    pub stopasgroup: bool,
    /// `killasgroup=` (default false): send the final SIGKILL to the child's whole process group.
    pub killasgroup: bool,
    /// `ready_check=` (procd extension): STARTING lasts until the check passes instead of `startsecs`.
    pub ready: Option<Readiness>,
    /// `restart_*` (procd extension): waits before automatic restarts.
    pub backoff: crate::backoff::Backoff,
}

/// A ready check as the state machine sees it: its label for log lines and its deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// How the check is named in log lines and descriptions, e.g. `tcp://127.0.0.1:5432`.
    pub label: String,
    /// `ready_timeout=`: a check that has not passed this long after the spawn is a failed start.
    pub timeout: Duration,
}

/// Whether a process's `depends_on=` conditions hold (evaluated by [`crate::deps`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DepStatus {
    /// No dependencies, or all conditions hold.
    #[default]
    Met,
    /// Some condition does not hold yet; the text is the description, e.g. `waiting for db (ready)`.
    Waiting(String),
    /// Some condition can no longer hold (a dependency is FATAL, a one-shot failed); the text says why.
    Failed(String),
}

impl Default for Policy {
    /// supervisord's defaults.
    fn default() -> Self {
        Policy {
            autostart: true,
            startsecs: 1,
            startretries: 3,
            autorestart: AutoRestart::Unexpected,
            exitcodes: vec![0],
            stopsignal: Signal::TERM,
            stopwaitsecs: 10,
            stopasgroup: false,
            killasgroup: false,
            ready: None,
            backoff: crate::backoff::Backoff::default(),
        }
    }
}

/// Why sending a signal failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalError {
    /// `ESRCH`: the process is already gone (it will be reaped normally).
    pub no_such_process: bool,
    /// Error text, e.g. `[Errno 3] No such process`.
    pub detail: String,
}

/// Something that happened to this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Manual start (`startProcess`). The RPC layer checks [`crate::check_start`] first.
    Start,
    /// Administrative stop (`stopProcess`, `stop all`, shutdown for RUNNING/STARTING processes).
    Stop,
    /// Shutdown/reload of a BACKOFF process: BACKOFF -> FATAL, without a log line. Ignored in other states.
    GiveUp,
    /// `signalProcess`: send a signal without the intent to stop.
    Signal(Signal),
    /// Answer to [`Effect::Spawn`]: the child was forked.
    Spawned {
        /// The new child's pid.
        pid: i32,
    },
    /// Answer to [`Effect::Spawn`]: spawning failed before a child existed (command not found, EMFILE,
    /// fork EAGAIN).
    SpawnFailed {
        /// The text ProcessInfo reports as `spawnerr` and the main log as `spawnerr: <message>`.
        message: String,
    },
    /// The child with this pid was reaped. Ignored if it is not this process's current pid.
    Exited {
        /// The reaped child's pid.
        pid: i32,
        /// How it ended, as `waitpid` reported it.
        status: WaitStatus,
    },
    /// Carrying out [`Effect::Kill`] failed.
    KillFailed(SignalError),
    /// Carrying out [`Effect::Signal`] failed.
    SignalFailed(SignalError),
    /// A deadline from [`crate::Process::next_deadline`] passed (or just re-evaluate timers).
    Tick,
    /// A `stopProcess` caller is still waiting: log `waiting for <name> to stop` at most every 2 s.
    StopReport,
    /// The ready check passed (procd extension). Ignored unless STARTING with a child and a ready check.
    Ready,
    /// The `depends_on=` conditions were re-evaluated (procd extension).
    Dependencies(DepStatus),
}

/// A state change, with the values supervisord stashes in the PROCESS_STATE event at that moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// The state before the change (the event's `from_state`).
    pub from: ProcessState,
    /// The state after the change; it names the event (`PROCESS_STATE_<to>`).
    pub to: ProcessState,
    /// `expected` (EXITED events); true for every other change.
    pub expected: bool,
    /// The backoff counter (`tries` in STARTING/BACKOFF events).
    pub tries: u32,
    /// The pid at the time of the change (0 when none).
    pub pid: i32,
}

/// Something the daemon must do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Write a main-log line.
    Log {
        /// The line's level (`INFO`, `WARN`, ...); lines below the configured `loglevel` are dropped.
        level: Level,
        /// The message, without the timestamp and level prefix the logger adds.
        text: String,
    },
    /// Emit the PROCESS_STATE_* event for this change.
    StateChanged(Change),
    /// Spawn the program; answer with [`Input::Spawned`] or [`Input::SpawnFailed`].
    Spawn,
    /// Send a stop/kill signal, to the process group `-pid` when `to_group`.
    Kill {
        /// The child's pid (its process group has the same id: children lead their own group).
        pid: i32,
        /// `stopsignal` for the first stop signal, KILL after `stopwaitsecs`.
        signal: Signal,
        /// `stopasgroup` (for the stop signal) or `killasgroup` (for KILL): signal `-pid`.
        to_group: bool,
    },
    /// Send a signal to the pid only (`signalProcess`).
    Signal {
        /// The running child's pid.
        pid: i32,
        /// The signal the caller asked for.
        signal: Signal,
    },
    /// The request could not be carried out; the RPC layer reports this text as a `FAILED` fault.
    Failed(String),
}
