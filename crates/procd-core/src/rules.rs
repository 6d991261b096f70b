//! RPC-facing rules that depend only on a process's state: which requests a state allows, and the
//! human-readable `description` of ProcessInfo.
//!
//! Local time needs the timezone, which is an OS matter: [`describe`] takes a closure that breaks a Unix
//! second down into local [`LocalTime`] fields, so this module stays pure.

use procd_protocol::ProcessState;

/// Why the RPC layer must refuse a request. Fault texts: `ALREADY_STARTED: <name>`,
/// `FAILED: <name> is in an unknown process state`, `NOT_RUNNING: <name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `ALREADY_STARTED` fault.
    AlreadyStarted,
    /// `FAILED` fault with the text of [`Refusal::text`] (`<name> is in an unknown process state`).
    UnknownState,
    /// `NOT_RUNNING` fault.
    NotRunning,
}

impl Refusal {
    /// supervisord's fault name.
    pub const fn fault_name(self) -> &'static str {
        match self {
            Refusal::AlreadyStarted => "ALREADY_STARTED",
            Refusal::UnknownState => "FAILED",
            Refusal::NotRunning => "NOT_RUNNING",
        }
    }

    /// The fault's extra text for the namespec the caller used.
    pub fn text(self, namespec: &str) -> String {
        match self {
            Refusal::UnknownState => format!("{namespec} is in an unknown process state"),
            Refusal::AlreadyStarted | Refusal::NotRunning => namespec.to_string(),
        }
    }
}

/// `startProcess`: refused in STARTING/RUNNING/BACKOFF (already started) and UNKNOWN.
pub fn check_start(state: ProcessState) -> Result<(), Refusal> {
    if state.is_running() {
        Err(Refusal::AlreadyStarted)
    } else if state == ProcessState::Unknown {
        Err(Refusal::UnknownState)
    } else {
        Ok(())
    }
}

/// `stopProcess`: allowed only in STARTING/RUNNING/BACKOFF.
pub fn check_stop(state: ProcessState) -> Result<(), Refusal> {
    if state.is_running() {
        Ok(())
    } else {
        Err(Refusal::NotRunning)
    }
}

/// `signalProcess`: allowed only in STARTING/RUNNING/STOPPING.
pub fn check_signal(state: ProcessState) -> Result<(), Refusal> {
    if state.is_signallable() {
        Ok(())
    } else {
        Err(Refusal::NotRunning)
    }
}

/// Local broken-down time, as the daemon's timezone sees a Unix second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
    /// 0..=23
    pub hour: u32,
    /// 0..=59
    pub minute: u32,
}

impl LocalTime {
    /// `%b %d %I:%M %p` in the C locale, e.g. `Jan 05 03:04 PM`.
    pub fn format(self) -> String {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let month = usize::try_from(self.month.clamp(1, 12) - 1).unwrap_or(0);
        let hour12 = match self.hour % 12 {
            0 => 12,
            h => h,
        };
        let ampm = if self.hour % 24 < 12 { "AM" } else { "PM" };
        format!(
            "{} {:02} {:02}:{:02} {}",
            MONTHS[month], self.day, hour12, self.minute, ampm
        )
    }
}

/// The fields `description` is computed from (all as ProcessInfo reports them).
#[derive(Debug, Clone, Copy)]
pub struct InfoView<'a> {
    /// ProcessInfo `name` (the process name, not the namespec).
    pub name: &'a str,
    /// ProcessInfo `state`.
    pub state: ProcessState,
    /// ProcessInfo `pid` (0 when no child is running).
    pub pid: i32,
    /// ProcessInfo `start` (Unix seconds, 0 if never started).
    pub start: i64,
    /// ProcessInfo `stop`.
    pub stop: i64,
    /// ProcessInfo `now`.
    pub now: i64,
    /// ProcessInfo `spawnerr` ('' when none).
    pub spawnerr: &'a str,
}

/// ProcessInfo `description`:
/// RUNNING `pid 9111, uptime 0:00:11`; BACKOFF/FATAL the spawn error or `unknown error (try "tail <name>")`;
/// STOPPED/EXITED the local stop time (`%b %d %I:%M %p`) or `Not started`; other states ''.
pub fn describe(info: &InfoView<'_>, local: impl FnOnce(i64) -> LocalTime) -> String {
    match info.state {
        ProcessState::Running => {
            format!(
                "pid {}, uptime {}",
                info.pid,
                format_uptime(info.now - info.start)
            )
        }
        ProcessState::Backoff | ProcessState::Fatal => {
            if info.spawnerr.is_empty() {
                format!("unknown error (try \"tail {}\")", info.name)
            } else {
                info.spawnerr.to_string()
            }
        }
        ProcessState::Stopped | ProcessState::Exited => {
            if info.start != 0 {
                local(info.stop).format()
            } else {
                "Not started".to_string()
            }
        }
        ProcessState::Starting | ProcessState::Stopping | ProcessState::Unknown => String::new(),
    }
}

/// The description of a process that waits for a backoff restart (procd's `restart_*` keys):
/// `restarting in 8 s (attempt 4)`, followed by the usual description when there is one (a BACKOFF
/// process's spawn error). The wait is rounded up to whole seconds.
pub fn describe_restart(left: std::time::Duration, attempt: u32, usual: &str) -> String {
    let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
    let head = format!("restarting in {secs} s (attempt {attempt})");
    if usual.is_empty() {
        head
    } else {
        format!("{head}: {usual}")
    }
}

/// A duration in seconds formatted like Python's `str(timedelta)`: `0:00:11`, `1 day, 2:03:04`,
/// `3 days, 0:00:00`. Negative durations (clock set back) show as `0:00:00`.
pub fn format_uptime(seconds: i64) -> String {
    let s = seconds.max(0);
    let days = s / 86_400;
    let rest = s % 86_400;
    let hms = format!("{}:{:02}:{:02}", rest / 3600, (rest % 3600) / 60, rest % 60);
    match days {
        0 => hms,
        1 => format!("1 day, {hms}"),
        d => format!("{d} days, {hms}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProcessState::*;

    #[test]
    fn restart_descriptions() {
        use std::time::Duration;
        assert_eq!(
            describe_restart(Duration::from_millis(7200), 4, ""),
            "restarting in 8 s (attempt 4)"
        );
        assert_eq!(
            describe_restart(
                Duration::from_secs(3),
                1,
                "Exited too quickly (process log may have details)"
            ),
            "restarting in 3 s (attempt 1): Exited too quickly (process log may have details)"
        );
        assert_eq!(
            describe_restart(Duration::ZERO, 2, ""),
            "restarting in 0 s (attempt 2)"
        );
    }

    #[test]
    fn request_rules_per_state() {
        use Refusal::*;
        let table = [
            (Stopped, Ok(()), Err(NotRunning), Err(NotRunning)),
            (Starting, Err(AlreadyStarted), Ok(()), Ok(())),
            (Running, Err(AlreadyStarted), Ok(()), Ok(())),
            (Backoff, Err(AlreadyStarted), Ok(()), Err(NotRunning)),
            (Stopping, Ok(()), Err(NotRunning), Ok(())),
            (Exited, Ok(()), Err(NotRunning), Err(NotRunning)),
            (Fatal, Ok(()), Err(NotRunning), Err(NotRunning)),
            (Unknown, Err(UnknownState), Err(NotRunning), Err(NotRunning)),
        ];
        for (state, start, stop, signal) in table {
            assert_eq!(check_start(state), start, "start {state}");
            assert_eq!(check_stop(state), stop, "stop {state}");
            assert_eq!(check_signal(state), signal, "signal {state}");
        }
    }

    #[test]
    fn refusal_texts() {
        assert_eq!(
            Refusal::UnknownState.text("g:x"),
            "g:x is in an unknown process state"
        );
        assert_eq!(Refusal::UnknownState.fault_name(), "FAILED");
        assert_eq!(Refusal::AlreadyStarted.text("x"), "x");
        assert_eq!(Refusal::NotRunning.fault_name(), "NOT_RUNNING");
    }

    #[test]
    fn uptime_like_python_timedelta() {
        let table = [
            (0, "0:00:00"),
            (11, "0:00:11"),
            (59, "0:00:59"),
            (60, "0:01:00"),
            (3600, "1:00:00"),
            (36_000 + 61, "10:01:01"),
            (86_399, "23:59:59"),
            (86_400, "1 day, 0:00:00"),
            (86_400 + 2 * 3600 + 3 * 60 + 4, "1 day, 2:03:04"),
            (3 * 86_400 + 5, "3 days, 0:00:05"),
            (-5, "0:00:00"),
        ];
        for (secs, text) in table {
            assert_eq!(format_uptime(secs), text, "{secs}");
        }
    }

    #[test]
    fn local_time_format() {
        let t = |month, day, hour, minute| {
            LocalTime {
                month,
                day,
                hour,
                minute,
            }
            .format()
        };
        assert_eq!(t(1, 5, 15, 4), "Jan 05 03:04 PM");
        assert_eq!(t(12, 31, 0, 0), "Dec 31 12:00 AM");
        assert_eq!(t(6, 10, 12, 30), "Jun 10 12:30 PM");
        assert_eq!(t(9, 1, 11, 59), "Sep 01 11:59 AM");
    }

    fn view(state: ProcessState, start: i64, spawnerr: &str) -> InfoView<'_> {
        InfoView {
            name: "web",
            state,
            pid: 9111,
            start,
            stop: 1_000_100,
            now: 1_000_011,
            spawnerr,
        }
    }

    #[test]
    fn descriptions() {
        let local = |secs: i64| {
            assert_eq!(secs, 1_000_100, "the stop time is formatted");
            LocalTime {
                month: 3,
                day: 7,
                hour: 9,
                minute: 5,
            }
        };
        let table = [
            (view(Running, 1_000_000, ""), "pid 9111, uptime 0:00:11"),
            (view(Running, 1_000_020, ""), "pid 9111, uptime 0:00:00"),
            (
                view(
                    Backoff,
                    1,
                    "Exited too quickly (process log may have details)",
                ),
                "Exited too quickly (process log may have details)",
            ),
            (view(Fatal, 1, ""), "unknown error (try \"tail web\")"),
            (view(Stopped, 1, ""), "Mar 07 09:05 AM"),
            (view(Exited, 1, "Bad exit code 1"), "Mar 07 09:05 AM"),
            (view(Stopped, 0, ""), "Not started"),
            (view(Starting, 1, ""), ""),
            (view(Stopping, 1, ""), ""),
            (view(Unknown, 1, ""), ""),
        ];
        for (v, text) in table {
            assert_eq!(describe(&v, local), text, "{:?}", v.state);
        }
    }
}
