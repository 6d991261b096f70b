//! Process and supervisor state vocabulary with supervisord's numeric codes.

use std::fmt;

/// State of one supervised process (supervisord's `ProcessStates`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProcessState {
    /// 0: stopped on request, or never started.
    Stopped,
    /// 10: spawned, waiting for `startsecs` (or procd's ready check) to pass.
    Starting,
    /// 20: up: it stayed up through STARTING.
    Running,
    /// 30: a start failed (exited during STARTING or could not spawn); waiting to retry.
    Backoff,
    /// 40: the stop signal was sent; waiting for the exit (SIGKILL after `stopwaitsecs`).
    Stopping,
    /// 100: exited from RUNNING (expectedly or not); `autorestart` decides what follows.
    Exited,
    /// 200: `startretries` failed starts in a row; not retried until started by hand.
    Fatal,
    /// 1000: the state machine lost track (e.g. a kill failed); supervisord logs it as a bug.
    Unknown,
}

impl ProcessState {
    /// Every state, in code order.
    pub const ALL: [ProcessState; 8] = [
        Self::Stopped,
        Self::Starting,
        Self::Running,
        Self::Backoff,
        Self::Stopping,
        Self::Exited,
        Self::Fatal,
        Self::Unknown,
    ];

    /// The numeric code used on the wire (`state` in ProcessInfo).
    pub const fn code(self) -> i32 {
        match self {
            Self::Stopped => 0,
            Self::Starting => 10,
            Self::Running => 20,
            Self::Backoff => 30,
            Self::Stopping => 40,
            Self::Exited => 100,
            Self::Fatal => 200,
            Self::Unknown => 1000,
        }
    }

    /// The upper-case name used on the wire (`statename`) and in event names.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Stopped => "STOPPED",
            Self::Starting => "STARTING",
            Self::Running => "RUNNING",
            Self::Backoff => "BACKOFF",
            Self::Stopping => "STOPPING",
            Self::Exited => "EXITED",
            Self::Fatal => "FATAL",
            Self::Unknown => "UNKNOWN",
        }
    }

    /// The state with this numeric code (`state` in ProcessInfo); `None` for any other number.
    pub fn from_code(code: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The state with this upper-case name (`statename`).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// STOPPED, EXITED, FATAL, UNKNOWN.
    pub const fn is_stopped(self) -> bool {
        matches!(
            self,
            Self::Stopped | Self::Exited | Self::Fatal | Self::Unknown
        )
    }

    /// RUNNING, BACKOFF, STARTING.
    pub const fn is_running(self) -> bool {
        matches!(self, Self::Running | Self::Backoff | Self::Starting)
    }

    /// RUNNING, STARTING, STOPPING: states in which a signal may be sent.
    pub const fn is_signallable(self) -> bool {
        matches!(self, Self::Running | Self::Starting | Self::Stopping)
    }
}

impl fmt::Display for ProcessState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// State of the supervisor itself (`getState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SupervisorState {
    /// 2: the supervisor hit an error it cannot recover from.
    Fatal,
    /// 1: the normal state: serving requests and supervising.
    Running,
    /// 0: stopping its processes to reread the config and start again (`restart`, SIGHUP).
    Restarting,
    /// -1: stopping its processes to exit (`shutdown`, SIGTERM/SIGINT/SIGQUIT).
    Shutdown,
}

impl SupervisorState {
    /// Every state, from best to worst mood.
    pub const ALL: [SupervisorState; 4] =
        [Self::Fatal, Self::Running, Self::Restarting, Self::Shutdown];

    /// The state with this `statecode`; `None` for any other number.
    pub fn from_code(code: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The `statecode` `getState` reports.
    pub const fn code(self) -> i32 {
        match self {
            Self::Fatal => 2,
            Self::Running => 1,
            Self::Restarting => 0,
            Self::Shutdown => -1,
        }
    }

    /// The `statename` `getState` reports.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Fatal => "FATAL",
            Self::Running => "RUNNING",
            Self::Restarting => "RESTARTING",
            Self::Shutdown => "SHUTDOWN",
        }
    }
}

/// Sub-state of an event-listener process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListenerState {
    /// 10: waiting for an event (it wrote `READY\n`).
    Ready,
    /// 20: an event was sent; waiting for its `RESULT`.
    Busy,
    /// 30: the starting state, and again after a `RESULT`, until the next `READY`.
    Acknowledged,
    /// 40: the listener broke the protocol; it gets no more events.
    Unknown,
}

impl ListenerState {
    /// The numeric code, as in supervisord's `EventListenerStates`.
    pub const fn code(self) -> i32 {
        match self {
            Self::Ready => 10,
            Self::Busy => 20,
            Self::Acknowledged => 30,
            Self::Unknown => 40,
        }
    }

    /// The upper-case name used in log lines (`READY`, `BUSY`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Ready => "READY",
            Self::Busy => "BUSY",
            Self::Acknowledged => "ACKNOWLEDGED",
            Self::Unknown => "UNKNOWN",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_round_trip() {
        let expected = [
            (0, "STOPPED"),
            (10, "STARTING"),
            (20, "RUNNING"),
            (30, "BACKOFF"),
            (40, "STOPPING"),
            (100, "EXITED"),
            (200, "FATAL"),
            (1000, "UNKNOWN"),
        ];
        for (state, (code, name)) in ProcessState::ALL.into_iter().zip(expected) {
            assert_eq!(state.code(), code);
            assert_eq!(state.name(), name);
            assert_eq!(ProcessState::from_code(code), Some(state));
            assert_eq!(ProcessState::from_name(name), Some(state));
        }
        assert_eq!(ProcessState::from_code(5), None);
    }

    #[test]
    fn state_classes() {
        let stopped: Vec<_> = ProcessState::ALL
            .into_iter()
            .filter(|s| s.is_stopped())
            .collect();
        assert_eq!(
            stopped,
            [
                ProcessState::Stopped,
                ProcessState::Exited,
                ProcessState::Fatal,
                ProcessState::Unknown
            ]
        );
        let running: Vec<_> = ProcessState::ALL
            .into_iter()
            .filter(|s| s.is_running())
            .collect();
        assert_eq!(
            running,
            [
                ProcessState::Starting,
                ProcessState::Running,
                ProcessState::Backoff
            ]
        );
        let sig: Vec<_> = ProcessState::ALL
            .into_iter()
            .filter(|s| s.is_signallable())
            .collect();
        assert_eq!(
            sig,
            [
                ProcessState::Starting,
                ProcessState::Running,
                ProcessState::Stopping
            ]
        );
    }
}
