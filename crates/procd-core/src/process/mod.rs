//! The per-process state machine: supervisord 4.3.0's `Subprocess` (spawn, finish, transition, kill,
//! signal, give_up), as a pure function from inputs to effects.
//!
//! Contract with the daemon:
//! * Feed every event with [`Process::handle`], passing the current clocks and the supervisor's mood.
//!   After applying the input the machine re-evaluates its timers exactly like supervisord's per-tick
//!   `transition()` (promotion to RUNNING, backoff retries, give-up, SIGKILL after `stopwaitsecs`,
//!   autostart, autorestart), so no polling loop is needed.
//! * Arm one timer at [`Process::next_deadline`] and feed [`Input::Tick`] when it fires. A deadline at or
//!   before now means "tick right away" (e.g. a pending autostart after the process was created).
//! * Carry out the returned [`Effect`]s in order. [`Effect::Spawn`] must be answered with
//!   [`Input::Spawned`] or [`Input::SpawnFailed`] before any other input for this process.
//!   [`Effect::Kill`] / [`Effect::Signal`] failures come back as [`Input::KillFailed`] /
//!   [`Input::SignalFailed`].
//!
//! All main-log lines are worded exactly as supervisord writes them.

#[cfg(test)]
mod backoff_tests;
mod status;
mod table;
#[cfg(test)]
mod tests;
mod types;

use std::time::Duration;

use procd_protocol::{ProcessState, Signal, SupervisorState};

use crate::time::Now;
use procd_protocol::Level;

pub use status::{WaitStatus, signal_name};
pub use table::{TRANSITIONS, transition_allowed};
pub use types::{AutoRestart, Change, DepStatus, Effect, Input, Policy, Readiness, SignalError};

/// How long past a strict (`>`) threshold the core asks to be woken, so that the comparison holds when the
/// timer fires.
const JUST_PAST: Duration = Duration::from_millis(1);

/// Interval between `waiting for <name> to stop` lines.
const STOP_REPORT_EVERY: Duration = Duration::from_secs(2);

/// One supervised process.
#[derive(Debug, Clone)]
pub struct Process {
    name: String,
    policy: Policy,
    state: ProcessState,
    pid: i32,
    spawning: bool,
    laststart: Option<Duration>,
    laststart_wall: i64,
    laststop_wall: i64,
    laststopreport: Option<Duration>,
    delay: Option<Duration>,
    killing: bool,
    backoff: u32,
    exitstatus: Option<i32>,
    spawnerr: Option<String>,
    /// `depends_on=` conditions, as last evaluated by the daemon.
    deps: DepStatus,
    /// A start was requested while the dependencies did not hold; it happens when they do.
    start_pending: bool,
    /// The pending autostart was cancelled (by a stop request, or it failed on a dependency).
    autostart_held: bool,
    /// `ready_timeout` ran out: the stop signal was sent and the exit will count as a failed start.
    ready_failed: bool,
    /// Restart backoff (only with `restart_*` keys): the number of the last automatic restart of the
    /// current sequence, and when an autorestart from EXITED is due.
    attempt: u32,
    restart_at: Option<Duration>,
    /// A stop request cancelled the pending autorestart (until the next start).
    restart_cancelled: bool,
}

/// States a start request can spawn from.
const SPAWN_FROM: [ProcessState; 4] = [
    ProcessState::Exited,
    ProcessState::Fatal,
    ProcessState::Backoff,
    ProcessState::Stopped,
];

/// Effects collected while handling one input.
struct Out(Vec<Effect>);

impl Out {
    fn log(&mut self, level: Level, text: String) {
        self.0.push(Effect::Log { level, text });
    }
}

impl Process {
    /// A new, never started process in STOPPED. `name` is the process name used in log lines.
    pub fn new(name: impl Into<String>, policy: Policy) -> Self {
        Process {
            name: name.into(),
            policy,
            state: ProcessState::Stopped,
            pid: 0,
            spawning: false,
            laststart: None,
            laststart_wall: 0,
            laststop_wall: 0,
            laststopreport: None,
            delay: None,
            killing: false,
            backoff: 0,
            exitstatus: None,
            spawnerr: None,
            deps: DepStatus::Met,
            start_pending: false,
            autostart_held: false,
            ready_failed: false,
            attempt: 0,
            restart_at: None,
            restart_cancelled: false,
        }
    }

    /// The process name (`process_name=` expanded), as in its namespec and log lines.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The program options this state machine follows.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The current supervisord process state (STOPPED, STARTING, RUNNING, BACKOFF, STOPPING, EXITED,
    /// FATAL or UNKNOWN), as ProcessInfo reports it.
    pub fn state(&self) -> ProcessState {
        self.state
    }

    /// Current pid, 0 when no child is running.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Wall-clock second of the last start attempt (ProcessInfo `start`), 0 if never started.
    pub fn start_time(&self) -> i64 {
        self.laststart_wall
    }

    /// Wall-clock second of the last reaped exit (ProcessInfo `stop`), 0 if never.
    pub fn stop_time(&self) -> i64 {
        self.laststop_wall
    }

    /// ProcessInfo `exitstatus` (0 when none recorded, like supervisord's `exitstatus or 0`).
    pub fn exitstatus(&self) -> i32 {
        self.exitstatus.unwrap_or(0)
    }

    /// ProcessInfo `spawnerr` ('' when none).
    pub fn spawnerr(&self) -> &str {
        self.spawnerr.as_deref().unwrap_or("")
    }

    /// The backoff counter (start attempts that failed in a row).
    pub fn backoff(&self) -> u32 {
        self.backoff
    }

    /// Whether a stop signal has been sent and the child not yet reaped.
    pub fn is_killing(&self) -> bool {
        self.killing
    }

    /// With restart backoff keys: the wait left before the next automatic restart and its attempt number
    /// (the daemon shows `restarting in 8 s (attempt 4)`). `None` without the keys, so descriptions stay
    /// supervisord's.
    pub fn restart_in(&self, now: Duration) -> Option<(Duration, u32)> {
        if !self.policy.backoff.is_set() {
            return None;
        }
        let at = match self.state {
            ProcessState::Backoff if !self.out_of_retries() => self.delay?,
            ProcessState::Exited if self.wants_restart() => self.restart_at?,
            _ => return None,
        };
        Some((at.saturating_sub(now), self.attempt))
    }

    /// EXITED and waiting for a backoff autorestart: a stop request cancels it (supervisord, which has no
    /// such wait, refuses to stop an EXITED process).
    pub fn autorestart_pending(&self) -> bool {
        self.state == ProcessState::Exited && self.restart_at.is_some() && self.wants_restart()
    }

    /// Whether failed starts have used up `startretries` (never with `restart_forever`).
    fn out_of_retries(&self) -> bool {
        !self.policy.backoff.forever && self.backoff > self.policy.startretries
    }

    /// The wait of the current BACKOFF retry.
    fn backoff_wait(&self) -> Duration {
        if self.policy.backoff.is_set() {
            self.policy.backoff.delay_for(self.attempt)
        } else {
            secs(u64::from(self.backoff))
        }
    }

    /// An autorestart that waits for its backoff delay (EXITED with `restart_at` in the future).
    fn restart_waiting(&self, now: Duration) -> bool {
        self.state == ProcessState::Exited && self.restart_at.is_some_and(|t| now < t)
    }

    /// The dependency status last given with [`Input::Dependencies`].
    pub fn deps(&self) -> &DepStatus {
        &self.deps
    }

    /// Whether this process means to start (autostart, a start request, an autorestart) as soon as its
    /// dependencies hold.
    pub fn wants_start(&self) -> bool {
        if self.pid != 0 || self.spawning {
            return false;
        }
        match self.state {
            ProcessState::Stopped => self.start_pending || self.wants_autostart(),
            ProcessState::Exited => self.start_pending || self.wants_restart(),
            ProcessState::Fatal => self.start_pending,
            _ => false,
        }
    }

    /// While STOPPING: from when on an `Input::StopReport` logs `waiting for <name> to stop` again (at
    /// once if it has not yet). A caller waiting for many processes to stop re-checks only those whose
    /// report is due, not all of them after every event.
    pub fn stop_report_due(&self) -> Option<Duration> {
        (self.state == ProcessState::Stopping).then(|| {
            self.laststopreport
                .map_or(Duration::ZERO, |t| t + STOP_REPORT_EVERY)
        })
    }

    /// `waiting for db (ready)` while a start waits for a dependency; the daemon shows it as the
    /// ProcessInfo description.
    pub fn waiting_for(&self) -> Option<&str> {
        match &self.deps {
            DepStatus::Waiting(text) if self.wants_start() => Some(text),
            _ => None,
        }
    }

    /// What a dependent's `depends_on=` condition sees of this process.
    pub fn dep_view(&self) -> crate::deps::DepView {
        let expected = self
            .exitstatus
            .is_some_and(|es| self.policy.exitcodes.contains(&es));
        crate::deps::DepView {
            state: self.state,
            exited_for_good: self.state == ProcessState::Exited && !self.wants_restart(),
            exit_expected: expected,
            will_start: self.wants_start(),
        }
    }

    /// Applies one input, then re-evaluates timers, and returns what the daemon must do.
    ///
    /// `mood` is the supervisor's state: automatic starts (autostart, autorestart, backoff retries) only
    /// happen while it is [`SupervisorState::Running`].
    pub fn handle(&mut self, input: Input, now: Now, mood: SupervisorState) -> Vec<Effect> {
        let mut out = Out(Vec::new());
        match input {
            Input::Start => {
                // A manual start begins a new backoff sequence.
                self.attempt = 0;
                self.restart_at = None;
                if self.deps != DepStatus::Met
                    && self.pid == 0
                    && !self.spawning
                    && SPAWN_FROM.contains(&self.state)
                {
                    self.start_pending = true;
                } else {
                    self.spawn(now, &mut out);
                }
            }
            Input::Stop if self.restart_waiting(now.mono) => {
                // Cancels an autorestart that waits for its backoff delay; the process stays EXITED.
                self.restart_at = None;
                self.restart_cancelled = true;
            }
            Input::Stop if self.waiting_for().is_some() => {
                // Cancels a start that waits for a dependency.
                self.start_pending = false;
                self.autostart_held = true;
            }
            Input::Stop => {
                self.laststopreport = None;
                let stopsignal = self.policy.stopsignal;
                if let Some(msg) = self.kill(stopsignal, now, &mut out) {
                    out.0.push(Effect::Failed(msg));
                }
            }
            Input::GiveUp => self.give_up(now, &mut out),
            Input::Signal(sig) => self.signal(sig, &mut out),
            Input::Spawned { pid } => self.spawned(pid, now, &mut out),
            Input::SpawnFailed { message } => self.spawn_failed(message, now, &mut out),
            Input::Exited { pid, status } => self.finish(pid, status, now, &mut out),
            Input::KillFailed(err) => self.kill_failed(err, now, &mut out),
            Input::SignalFailed(err) => self.signal_failed(err, now, &mut out),
            Input::Tick => {}
            Input::StopReport => self.stop_report(now, &mut out),
            Input::Ready => self.ready(now, &mut out),
            Input::Dependencies(status) => self.deps = status,
        }
        self.transition(now, mood, &mut out);
        out.0
    }

    /// When the machine next needs an [`Input::Tick`] (monotonic time since the daemon's epoch).
    pub fn next_deadline(&self, mood: SupervisorState) -> Option<Duration> {
        let auto = mood == SupervisorState::Running;
        let gate_open = !matches!(self.deps, DepStatus::Waiting(_));
        match self.state {
            ProcessState::Starting if self.pid != 0 && self.ready_failed => self.delay,
            ProcessState::Starting if self.pid != 0 => {
                let wait = self
                    .policy
                    .ready
                    .as_ref()
                    .map_or(secs(self.policy.startsecs), |r| r.timeout);
                self.laststart.map(|t| t + wait + JUST_PAST)
            }
            ProcessState::Backoff if self.out_of_retries() => Some(Duration::ZERO),
            ProcessState::Backoff if auto => {
                Some(self.delay.map_or(Duration::ZERO, |d| d + JUST_PAST))
            }
            ProcessState::Stopping => Some(self.delay.unwrap_or(Duration::ZERO)),
            ProcessState::Exited
                if auto && gate_open && self.wants_start() && self.restart_at.is_some() =>
            {
                self.restart_at
            }
            ProcessState::Stopped | ProcessState::Exited | ProcessState::Fatal
                if auto && gate_open && self.wants_start() =>
            {
                Some(Duration::ZERO)
            }
            _ => None,
        }
    }

    fn wants_restart(&self) -> bool {
        if self.restart_cancelled {
            return false;
        }
        match self.policy.autorestart {
            AutoRestart::Never => false,
            AutoRestart::Always => true,
            AutoRestart::Unexpected => !self
                .exitstatus
                .is_some_and(|es| self.policy.exitcodes.contains(&es)),
        }
    }

    fn wants_autostart(&self) -> bool {
        self.policy.autostart && self.laststart.is_none() && !self.autostart_held
    }

    fn change_state(&mut self, to: ProcessState, expected: bool, now: Now, out: &mut Out) {
        let from = self.state;
        if from == to {
            return;
        }
        if !transition_allowed(from, to) {
            out.log(
                Level::Critical,
                format!(
                    "internal error: refused transition {from} -> {to} for {}",
                    self.name
                ),
            );
            return;
        }
        self.state = to;
        if to == ProcessState::Backoff {
            self.backoff = self.backoff.saturating_add(1);
            if self.policy.backoff.is_set() {
                self.attempt = self.attempt.saturating_add(1);
            }
            let wait = self.backoff_wait();
            self.delay = Some(now.mono + wait);
            if self.policy.backoff.is_set() && !self.out_of_retries() {
                out.log(
                    Level::Info,
                    format!(
                        "restarting {} in {} (attempt {})",
                        self.name,
                        show_duration(wait),
                        self.attempt
                    ),
                );
            }
        }
        out.0.push(Effect::StateChanged(Change {
            from,
            to,
            expected,
            tries: self.backoff,
            pid: self.pid,
        }));
    }

    fn assertion(&self, allowed: &[ProcessState]) -> String {
        let names: Vec<&str> = allowed.iter().map(|s| s.name()).collect();
        format!(
            "Assertion failed for {}: {} not in {}",
            self.name,
            self.state.name(),
            names.join(" ")
        )
    }

    fn spawn(&mut self, now: Now, out: &mut Out) {
        const FROM: [ProcessState; 4] = SPAWN_FROM;
        self.start_pending = false;
        if self.pid != 0 {
            out.log(
                Level::Warn,
                format!("process '{}' already running", self.name),
            );
            return;
        }
        if !FROM.contains(&self.state) {
            out.0.push(Effect::Failed(self.assertion(&FROM)));
            return;
        }
        self.killing = false;
        self.ready_failed = false;
        self.restart_at = None;
        self.restart_cancelled = false;
        self.spawnerr = None;
        self.exitstatus = None;
        self.laststart = Some(now.mono);
        self.laststart_wall = now.wall;
        self.change_state(ProcessState::Starting, true, now, out);
        self.spawning = true;
        out.0.push(Effect::Spawn);
    }

    fn spawned(&mut self, pid: i32, now: Now, out: &mut Out) {
        if !self.spawning || pid <= 0 {
            return;
        }
        self.spawning = false;
        self.pid = pid;
        out.log(
            Level::Info,
            format!("spawned: '{}' with pid {pid}", self.name),
        );
        self.spawnerr = None;
        self.delay = Some(now.mono + secs(self.policy.startsecs));
    }

    fn spawn_failed(&mut self, message: String, now: Now, out: &mut Out) {
        if !self.spawning {
            return;
        }
        self.spawning = false;
        out.log(Level::Info, format!("spawnerr: {message}"));
        self.spawnerr = Some(message);
        self.change_state(ProcessState::Backoff, true, now, out);
    }

    fn give_up(&mut self, now: Now, out: &mut Out) {
        if self.state != ProcessState::Backoff {
            return;
        }
        self.delay = None;
        self.backoff = 0;
        self.change_state(ProcessState::Fatal, true, now, out);
    }

    /// supervisord's `kill()`: returns the failure text the RPC layer reports, if any.
    fn kill(&mut self, sig: Signal, now: Now, out: &mut Out) -> Option<String> {
        const FROM: [ProcessState; 3] = [
            ProcessState::Running,
            ProcessState::Starting,
            ProcessState::Stopping,
        ];
        if self.state == ProcessState::Backoff {
            out.log(
                Level::Debug,
                format!(
                    "Attempted to kill {}, which is in BACKOFF state.",
                    self.name
                ),
            );
            self.change_state(ProcessState::Stopped, true, now, out);
            return None;
        }
        if self.pid == 0 {
            let msg = format!(
                "attempted to kill {} with sig {} but it wasn't running",
                self.name,
                sig.name()
            );
            out.log(Level::Debug, msg.clone());
            return Some(msg);
        }
        if !FROM.contains(&self.state) {
            return Some(self.assertion(&FROM));
        }
        let to_group = if self.state == ProcessState::Stopping {
            self.policy.killasgroup
        } else {
            self.policy.stopasgroup
        };
        let as_group = if to_group { "process group " } else { "" };
        out.log(
            Level::Debug,
            format!(
                "killing {} (pid {}) {as_group}with signal {}",
                self.name,
                self.pid,
                sig.name()
            ),
        );
        self.killing = true;
        self.delay = Some(now.mono + secs(self.policy.stopwaitsecs));
        self.change_state(ProcessState::Stopping, true, now, out);
        out.0.push(Effect::Kill {
            pid: self.pid,
            signal: sig,
            to_group,
        });
        None
    }

    fn kill_failed(&mut self, err: SignalError, now: Now, out: &mut Out) {
        if self.pid == 0 {
            return;
        }
        if err.no_such_process {
            out.log(
                Level::Debug,
                format!(
                    "unable to signal {} (pid {}), it probably just exited on its own: {}",
                    self.name, self.pid, err.detail
                ),
            );
            return;
        }
        let msg = format!(
            "unknown problem killing {} ({}):{}",
            self.name, self.pid, err.detail
        );
        out.log(Level::Critical, msg.clone());
        self.change_state(ProcessState::Unknown, true, now, out);
        self.killing = false;
        self.delay = None;
        out.0.push(Effect::Failed(msg));
    }

    fn signal(&mut self, sig: Signal, out: &mut Out) {
        const FROM: [ProcessState; 3] = [
            ProcessState::Running,
            ProcessState::Starting,
            ProcessState::Stopping,
        ];
        if self.pid == 0 {
            let msg = format!(
                "attempted to send {} sig {} but it wasn't running",
                self.name,
                sig.name()
            );
            out.log(Level::Debug, msg.clone());
            out.0.push(Effect::Failed(msg));
            return;
        }
        if !FROM.contains(&self.state) {
            out.0.push(Effect::Failed(self.assertion(&FROM)));
            return;
        }
        out.log(
            Level::Debug,
            format!(
                "sending {} (pid {}) sig {}",
                self.name,
                self.pid,
                sig.name()
            ),
        );
        out.0.push(Effect::Signal {
            pid: self.pid,
            signal: sig,
        });
    }

    fn signal_failed(&mut self, err: SignalError, now: Now, out: &mut Out) {
        if self.pid == 0 {
            return;
        }
        if err.no_such_process {
            out.log(
                Level::Debug,
                format!(
                    "unable to signal {} (pid {}), it probably just now exited on its own: {}",
                    self.name, self.pid, err.detail
                ),
            );
            return;
        }
        let msg = format!(
            "unknown problem sending sig {} ({}):{}",
            self.name, self.pid, err.detail
        );
        out.log(Level::Critical, msg.clone());
        self.change_state(ProcessState::Unknown, true, now, out);
        out.0.push(Effect::Failed(msg));
    }

    fn stop_report(&mut self, now: Now, out: &mut Out) {
        if self.state != ProcessState::Stopping {
            return;
        }
        self.adjust_for_clock_rollback(now.mono);
        if self
            .laststopreport
            .is_none_or(|t| now.mono > t + STOP_REPORT_EVERY)
        {
            out.log(Level::Info, format!("waiting for {} to stop", self.name));
            self.laststopreport = Some(now.mono);
        }
    }

    /// supervisord's `finish()`: the child was reaped.
    fn finish(&mut self, pid: i32, status: WaitStatus, now: Now, out: &mut Out) {
        if pid <= 0 || pid != self.pid {
            return;
        }
        let (es, msg) = status.decode();
        self.adjust_for_clock_rollback(now.mono);
        self.laststop_wall = now.wall;

        // With a ready check, any exit before the check passed is a failed start.
        let before_ready = self.policy.ready.is_some() && self.state == ProcessState::Starting;
        let too_quickly = match self.laststart {
            _ if before_ready => true,
            Some(start) if now.mono > start => now.mono - start < secs(self.policy.startsecs),
            _ => {
                out.log(
                    Level::Warn,
                    format!(
                        "process '{}' ({}) laststart time is in the future, don't know how long process \
                         was running so assuming it did not exit too quickly",
                        self.name, self.pid
                    ),
                );
                false
            }
        };
        let exit_expected = self.policy.exitcodes.contains(&es);

        if self.killing && self.state == ProcessState::Stopping {
            // The result of a stop request: STOPPING -> STOPPED.
            self.killing = false;
            self.delay = None;
            self.exitstatus = Some(es);
            self.change_state(ProcessState::Stopped, true, now, out);
            let level = if exit_expected {
                Level::Info
            } else {
                Level::Warn
            };
            out.log(level, format!("stopped: {} ({msg})", self.name));
        } else if too_quickly && self.state == ProcessState::Starting {
            // Did not stay up for startsecs (or exited before its ready check passed, or was stopped
            // because the check ran out of time): STARTING -> BACKOFF, whatever the exit code.
            self.exitstatus = None;
            self.spawnerr = Some(match (&self.policy.ready, self.ready_failed) {
                (Some(r), true) => format!(
                    "ready check {} did not pass within {} (ready_timeout)",
                    r.label,
                    show_duration(r.timeout)
                ),
                _ => "Exited too quickly (process log may have details)".to_string(),
            });
            self.ready_failed = false;
            self.delay = None;
            self.change_state(ProcessState::Backoff, true, now, out);
            out.log(
                Level::Warn,
                format!("exited: {} ({msg}; not expected)", self.name),
            );
        } else if matches!(self.state, ProcessState::Starting | ProcessState::Running) {
            // Exited on its own after startsecs: RUNNING -> EXITED (through RUNNING when the promotion
            // had not happened yet; no `success:` line in that case).
            self.delay = None;
            self.backoff = 0;
            self.exitstatus = Some(es);
            if self.state == ProcessState::Starting {
                self.change_state(ProcessState::Running, true, now, out);
            }
            if exit_expected {
                self.change_state(ProcessState::Exited, true, now, out);
                out.log(
                    Level::Info,
                    format!("exited: {} ({msg}; expected)", self.name),
                );
            } else {
                self.spawnerr = Some(format!("Bad exit code {es}"));
                self.change_state(ProcessState::Exited, false, now, out);
                out.log(
                    Level::Warn,
                    format!("exited: {} ({msg}; not expected)", self.name),
                );
            }
            self.schedule_restart(now, out);
        } else {
            // UNKNOWN (signalling failed earlier): supervisord has no transition for this; procd records
            // the exit and stays UNKNOWN.
            self.killing = false;
            self.delay = None;
            self.exitstatus = Some(es);
            out.log(
                Level::Warn,
                format!("exited: {} ({msg}; not expected)", self.name),
            );
        }
        self.pid = 0;
    }

    /// With restart backoff keys, an autorestart after RUNNING waits for the next delay of the sequence
    /// (a run of at least `restart_reset_after` starts the sequence again).
    fn schedule_restart(&mut self, now: Now, out: &mut Out) {
        let b = self.policy.backoff;
        if !b.is_set() || !self.wants_restart() {
            return;
        }
        let up = self
            .laststart
            .and_then(|t| now.mono.checked_sub(t))
            .unwrap_or_default();
        if up >= b.reset_after() {
            self.attempt = 0;
        }
        self.attempt = self.attempt.saturating_add(1);
        let wait = b.delay_for(self.attempt);
        self.restart_at = Some(now.mono + wait);
        out.log(
            Level::Info,
            format!(
                "restarting {} in {} (attempt {})",
                self.name,
                show_duration(wait),
                self.attempt
            ),
        );
    }

    /// supervisord's per-tick `transition()`.
    fn transition(&mut self, now: Now, mood: SupervisorState, out: &mut Out) {
        let state = self.state;
        self.adjust_for_clock_rollback(now.mono);

        if mood == SupervisorState::Running && self.restart_waiting(now.mono) {
            // An autorestart waits for its backoff delay (next_deadline wakes the machine then).
        } else if mood == SupervisorState::Running && self.wants_start() {
            match &self.deps {
                DepStatus::Met => self.spawn(now, out),
                DepStatus::Waiting(_) => {}
                DepStatus::Failed(reason) => {
                    let reason = reason.clone();
                    self.dependency_failed(reason, now, out);
                }
            }
        } else if mood == SupervisorState::Running {
            match state {
                ProcessState::Backoff
                    if !self.out_of_retries() && self.delay.is_none_or(|d| now.mono > d) =>
                {
                    self.spawn(now, out);
                }
                _ => {}
            }
        }

        match state {
            ProcessState::Starting
                if self.state == ProcessState::Starting
                    && self.pid != 0
                    && self.policy.ready.is_some() =>
            {
                self.ready_deadline(now, out);
            }
            ProcessState::Starting if self.state == ProcessState::Starting && self.pid != 0 => {
                let up = self.laststart.and_then(|t| now.mono.checked_sub(t));
                if up.is_some_and(|up| up > secs(self.policy.startsecs)) {
                    self.delay = None;
                    self.backoff = 0;
                    self.change_state(ProcessState::Running, true, now, out);
                    out.log(
                        Level::Info,
                        format!(
                            "success: {} entered RUNNING state, process has stayed up for > than {} \
                             seconds (startsecs)",
                            self.name, self.policy.startsecs
                        ),
                    );
                }
            }
            ProcessState::Backoff
                if self.state == ProcessState::Backoff && self.out_of_retries() =>
            {
                self.give_up(now, out);
                out.log(
                    Level::Info,
                    format!(
                        "gave up: {} entered FATAL state, too many start retries too quickly",
                        self.name
                    ),
                );
            }
            ProcessState::Stopping
                if self.state == ProcessState::Stopping
                    && self.delay.is_none_or(|d| d <= now.mono) =>
            {
                out.log(
                    Level::Warn,
                    format!("killing '{}' ({}) with SIGKILL", self.name, self.pid),
                );
                // A failure here has no caller to report to; the log line is enough.
                let _ = self.kill(Signal::KILL, now, out);
            }
            _ => {}
        }
    }

    /// The ready check passed: STARTING -> RUNNING.
    fn ready(&mut self, now: Now, out: &mut Out) {
        let Some(r) = &self.policy.ready else { return };
        if self.state != ProcessState::Starting || self.pid == 0 || self.ready_failed {
            return;
        }
        let label = r.label.clone();
        self.delay = None;
        self.backoff = 0;
        self.change_state(ProcessState::Running, true, now, out);
        out.log(
            Level::Info,
            format!(
                "success: {} entered RUNNING state, ready check {label} passed",
                self.name
            ),
        );
    }

    /// STARTING with a ready check: once `ready_timeout` has passed, send the stop signal (the exit then
    /// counts as a failed start); `stopwaitsecs` later, SIGKILL.
    fn ready_deadline(&mut self, now: Now, out: &mut Out) {
        let Some(r) = &self.policy.ready else { return };
        if self.ready_failed {
            if self.delay.is_some_and(|d| d <= now.mono) {
                out.log(
                    Level::Warn,
                    format!("killing '{}' ({}) with SIGKILL", self.name, self.pid),
                );
                self.delay = None;
                out.0.push(Effect::Kill {
                    pid: self.pid,
                    signal: Signal::KILL,
                    to_group: self.policy.killasgroup,
                });
            }
            return;
        }
        let up = self.laststart.and_then(|t| now.mono.checked_sub(t));
        if up.is_none_or(|up| up <= r.timeout) {
            return;
        }
        out.log(
            Level::Warn,
            format!(
                "ready check {} of {} did not pass within {} (ready_timeout), stopping it",
                r.label,
                self.name,
                show_duration(r.timeout)
            ),
        );
        self.ready_failed = true;
        self.delay = Some(now.mono + secs(self.policy.stopwaitsecs));
        out.0.push(Effect::Kill {
            pid: self.pid,
            signal: self.policy.stopsignal,
            to_group: self.policy.stopasgroup,
        });
    }

    /// A start waited for a dependency that can no longer be met: -> FATAL.
    fn dependency_failed(&mut self, reason: String, now: Now, out: &mut Out) {
        self.start_pending = false;
        self.autostart_held = true;
        self.spawnerr = Some(reason.clone());
        self.change_state(ProcessState::Fatal, true, now, out);
        out.log(
            Level::Info,
            format!("gave up: {} entered FATAL state, {reason}", self.name),
        );
    }

    /// supervisord's `_check_and_adjust_for_system_clock_rollback`, applied to the clock the core is given.
    fn adjust_for_clock_rollback(&mut self, t: Duration) {
        let startsecs = secs(self.policy.startsecs);
        match self.state {
            ProcessState::Starting => {
                if self.laststart.is_some_and(|s| t < s) {
                    self.laststart = Some(t);
                }
                if self
                    .delay
                    .is_some_and(|d| d.checked_sub(startsecs).is_some_and(|x| t < x))
                {
                    self.delay = Some(t + startsecs);
                }
            }
            ProcessState::Running if self.laststart.is_some_and(|s| t > s && t < s + startsecs) => {
                self.laststart = t.checked_sub(startsecs).or(Some(Duration::ZERO));
            }
            ProcessState::Stopping => {
                if self.laststopreport.is_some_and(|r| t < r) {
                    self.laststopreport = Some(t);
                }
                let wait = secs(self.policy.stopwaitsecs);
                if self
                    .delay
                    .is_some_and(|d| d.checked_sub(wait).is_some_and(|x| t < x))
                {
                    self.delay = Some(t + wait);
                }
            }
            ProcessState::Backoff => {
                let b = self.backoff_wait();
                if self
                    .delay
                    .is_some_and(|d| d.checked_sub(b).is_some_and(|x| t < x))
                {
                    self.delay = Some(t + b);
                }
            }
            _ => {}
        }
    }
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// `30 s`, `1.5 s`, `250 ms`.
pub fn show_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{} s", d.as_secs_f64())
    }
}
