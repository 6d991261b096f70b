//! Table tests of the state machine: every transition, timing rule and log line.

use std::collections::BTreeSet;
use std::time::Duration;

use procd_protocol::{ProcessState, ProcessState::*, Signal, SupervisorState};

use super::*;

const RUN: SupervisorState = SupervisorState::Running;
const DOWN: SupervisorState = SupervisorState::Shutdown;
const PID: i32 = 4242;

fn t0() -> Now {
    Now::new(Duration::from_secs(1000), 1_700_000_000)
}

fn at(ms: u64) -> Now {
    t0().after(Duration::from_millis(ms))
}

fn ms(n: u64) -> Duration {
    t0().mono + Duration::from_millis(n)
}

fn policy() -> Policy {
    Policy::default()
}

fn lines(effects: &[Effect]) -> Vec<(Level, String)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Log { level, text } => Some((*level, text.clone())),
            _ => None,
        })
        .collect()
}

fn changes(effects: &[Effect]) -> Vec<(ProcessState, ProcessState)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::StateChanged(c) => Some((c.from, c.to)),
            _ => None,
        })
        .collect()
}

fn change_of(effects: &[Effect], to: ProcessState) -> Change {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::StateChanged(c) if c.to == to => Some(*c),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no change to {to} in {effects:?}"))
}

fn spawns(effects: &[Effect]) -> usize {
    effects.iter().filter(|e| **e == Effect::Spawn).count()
}

fn line(level: Level, text: &str) -> (Level, String) {
    (level, text.to_string())
}

/// A process named `web` that has been started at t0 with pid [`PID`] (STARTING).
fn starting(policy: Policy) -> Process {
    let mut p = Process::new("web", policy);
    let fx = p.handle(Input::Start, t0(), RUN);
    assert_eq!(fx.last(), Some(&Effect::Spawn));
    p.handle(Input::Spawned { pid: PID }, t0(), RUN);
    assert_eq!(p.state(), Starting);
    p
}

/// A RUNNING process (promoted at t0 + startsecs + 1 ms).
fn running(policy: Policy) -> Process {
    let startsecs = policy.startsecs;
    let mut p = starting(policy);
    p.handle(Input::Tick, at(startsecs * 1000 + 1), RUN);
    assert_eq!(p.state(), Running);
    p
}

#[test]
fn transition_table_matrix() {
    let allowed: BTreeSet<(ProcessState, ProcessState)> = [
        (Stopped, Starting),
        (Exited, Starting),
        (Fatal, Starting),
        (Backoff, Starting),
        (Starting, Backoff),
        (Starting, Running),
        (Starting, Stopping),
        (Running, Stopping),
        (Stopping, Stopped),
        (Backoff, Stopped),
        (Backoff, Fatal),
        (Running, Exited),
        (Starting, Unknown),
        (Running, Unknown),
        (Stopping, Unknown),
        (Stopped, Fatal),
        (Exited, Fatal),
    ]
    .into_iter()
    .collect();
    for from in ProcessState::ALL {
        for to in ProcessState::ALL {
            assert_eq!(
                transition_allowed(from, to),
                allowed.contains(&(from, to)),
                "{from} -> {to}"
            );
        }
    }
    assert_eq!(
        TRANSITIONS.len(),
        allowed.len(),
        "no duplicates in the table"
    );
}

#[test]
fn autostart_spawns_once_then_promotes_strictly_after_startsecs() {
    let mut p = Process::new("web", policy());
    assert_eq!(
        p.next_deadline(RUN),
        Some(Duration::ZERO),
        "pending autostart wants a tick now"
    );
    assert_eq!(p.next_deadline(DOWN), None);

    let fx = p.handle(Input::Tick, t0(), RUN);
    assert_eq!(changes(&fx), [(Stopped, Starting)]);
    assert_eq!(change_of(&fx, Starting).tries, 0);
    assert_eq!(fx.last(), Some(&Effect::Spawn));
    assert!(
        lines(&fx).is_empty(),
        "no spawned: line before the pid is known"
    );

    let fx = p.handle(Input::Spawned { pid: PID }, at(5), RUN);
    assert_eq!(
        lines(&fx),
        [line(Level::Info, "spawned: 'web' with pid 4242")]
    );
    assert_eq!(p.start_time(), t0().wall);
    assert_eq!(p.next_deadline(RUN), Some(ms(1001)));

    // Exactly startsecs is not enough.
    let fx = p.handle(Input::Tick, at(1000), RUN);
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(p.state(), Starting);

    let fx = p.handle(Input::Tick, at(1001), RUN);
    assert_eq!(changes(&fx), [(Starting, Running)]);
    assert_eq!(change_of(&fx, Running).pid, PID);
    assert_eq!(
        lines(&fx),
        [line(
            Level::Info,
            "success: web entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)"
        )]
    );
    assert_eq!(p.next_deadline(RUN), None);
}

#[test]
fn autostart_respects_setting_and_mood() {
    let mut p = Process::new(
        "web",
        Policy {
            autostart: false,
            ..policy()
        },
    );
    assert_eq!(p.next_deadline(RUN), None);
    assert!(p.handle(Input::Tick, t0(), RUN).is_empty());

    let mut p = Process::new("web", policy());
    assert!(
        p.handle(Input::Tick, t0(), SupervisorState::Restarting)
            .is_empty()
    );
    assert!(p.handle(Input::Tick, t0(), DOWN).is_empty());
    assert_eq!(p.state(), Stopped);
}

#[test]
fn autostart_only_if_never_started() {
    let mut p = running(policy());
    p.handle(Input::Stop, at(2000), RUN);
    let fx = p.handle(
        Input::Exited {
            pid: PID,
            status: WaitStatus::Signaled {
                signal: 15,
                core_dumped: false,
            },
        },
        at(2100),
        RUN,
    );
    assert_eq!(changes(&fx), [(Stopping, Stopped)]);
    assert_eq!(p.next_deadline(RUN), None);
    assert!(p.handle(Input::Tick, at(9000), RUN).is_empty());
    assert_eq!(p.state(), Stopped);
}

#[test]
fn startsecs_zero_promotes_on_first_tick() {
    let mut p = Process::new(
        "web",
        Policy {
            startsecs: 0,
            ..policy()
        },
    );
    p.handle(Input::Start, t0(), RUN);
    let fx = p.handle(Input::Spawned { pid: PID }, at(1), RUN);
    assert_eq!(changes(&fx), [(Starting, Running)]);
    assert!(
        lines(&fx)[1]
            .1
            .ends_with("process has stayed up for > than 0 seconds (startsecs)")
    );
}

/// startretries=N gives N+1 attempts at +0, +1, +3, +6 s (waits 1, 2, 3 s), then FATAL.
#[test]
fn backoff_timing_and_give_up() {
    for retries in [0u32, 1, 3, 5] {
        let mut p = Process::new(
            "web",
            Policy {
                startretries: retries,
                ..policy()
            },
        );
        let mut now = t0();
        let mut attempts = Vec::new();
        let mut fx = p.handle(Input::Tick, now, RUN);
        loop {
            assert_eq!(spawns(&fx), 1);
            attempts.push(now.mono - t0().mono);
            let tries_before = p.backoff();
            assert_eq!(change_of(&fx, Starting).tries, tries_before);
            let fail = p.handle(
                Input::SpawnFailed {
                    message: "can't find command 'nope'".into(),
                },
                now,
                RUN,
            );
            assert_eq!(
                lines(&fail)[0],
                line(Level::Info, "spawnerr: can't find command 'nope'")
            );
            assert_eq!(change_of(&fail, Backoff).tries, tries_before + 1);
            assert_eq!(p.spawnerr(), "can't find command 'nope'");
            if p.state() == Fatal {
                assert_eq!(changes(&fail), [(Starting, Backoff), (Backoff, Fatal)]);
                assert_eq!(
                    lines(&fail)[1],
                    line(
                        Level::Info,
                        "gave up: web entered FATAL state, too many start retries too quickly"
                    )
                );
                break;
            }
            let wait = Duration::from_secs(u64::from(p.backoff()));
            let due = now.mono + wait + JUST_PAST;
            assert_eq!(p.next_deadline(RUN), Some(due));
            assert_eq!(
                p.next_deadline(DOWN),
                None,
                "no retries while shutting down"
            );
            // Exactly at the delay nothing happens (supervisord needs now > delay).
            let early = p.handle(Input::Tick, Now::new(now.mono + wait, now.wall), RUN);
            assert!(early.is_empty(), "{early:?}");
            now = Now::new(due, now.wall);
            fx = p.handle(Input::Tick, now, RUN);
            assert_eq!(changes(&fx), [(Backoff, Starting)]);
        }
        assert_eq!(
            attempts.len(),
            retries as usize + 1,
            "startretries={retries}"
        );
        let expected: Vec<Duration> = (0..=u64::from(retries))
            .map(|k| {
                Duration::from_secs(k * (k + 1) / 2) + JUST_PAST * u32::try_from(k).unwrap_or(0)
            })
            .collect();
        assert_eq!(attempts, expected);
        assert_eq!(p.backoff(), 0, "give_up resets the counter");
        assert_eq!(p.next_deadline(RUN), None);
        // FATAL can be started again by hand.
        let fx = p.handle(Input::Start, now, RUN);
        assert_eq!(changes(&fx), [(Fatal, Starting)]);
        assert_eq!(p.spawnerr(), "");
    }
}

#[test]
fn early_exit_is_unexpected_whatever_the_code() {
    for (status, text) in [
        (
            WaitStatus::Exited(0),
            "exited: web (exit status 0; not expected)",
        ),
        (
            WaitStatus::Exited(1),
            "exited: web (exit status 1; not expected)",
        ),
        (
            WaitStatus::Exited(127),
            "exited: web (exit status 127; not expected)",
        ),
        (
            WaitStatus::Signaled {
                signal: 9,
                core_dumped: false,
            },
            "exited: web (terminated by SIGKILL; not expected)",
        ),
    ] {
        let mut p = starting(Policy {
            startsecs: 5,
            ..policy()
        });
        let fx = p.handle(Input::Exited { pid: PID, status }, at(4999), RUN);
        assert_eq!(changes(&fx), [(Starting, Backoff)]);
        assert_eq!(change_of(&fx, Backoff).tries, 1);
        assert_eq!(lines(&fx), [line(Level::Warn, text)]);
        assert_eq!(
            p.spawnerr(),
            "Exited too quickly (process log may have details)"
        );
        assert_eq!(p.exitstatus(), 0);
        assert_eq!(p.pid(), 0);
        assert_eq!(p.stop_time(), at(4999).wall);
        assert_eq!(
            p.next_deadline(RUN),
            Some(at(4999).mono + Duration::from_secs(1) + JUST_PAST)
        );
    }
}

#[test]
fn exit_after_startsecs_before_promotion_goes_through_running() {
    let mut p = starting(Policy {
        startsecs: 3,
        ..policy()
    });
    // Exactly startsecs: not "too quickly" (strict <), yet not promoted either (strict >).
    let fx = p.handle(
        Input::Exited {
            pid: PID,
            status: WaitStatus::Exited(0),
        },
        at(3000),
        RUN,
    );
    assert_eq!(changes(&fx)[..2], [(Starting, Running), (Running, Exited)]);
    assert_eq!(
        lines(&fx),
        [line(Level::Info, "exited: web (exit status 0; expected)")]
    );
    assert!(change_of(&fx, Exited).expected);
    assert_eq!(change_of(&fx, Exited).pid, PID);
}

#[test]
fn exit_wording_and_autorestart_matrix() {
    use AutoRestart::*;
    let sig = |signal, core_dumped| WaitStatus::Signaled {
        signal,
        core_dumped,
    };
    // (autorestart, exitcodes, status, expected?, log level, text, restarts?)
    let table = [
        (
            Unexpected,
            vec![0],
            WaitStatus::Exited(0),
            true,
            Level::Info,
            "exited: web (exit status 0; expected)",
            false,
        ),
        (
            Unexpected,
            vec![0],
            WaitStatus::Exited(1),
            false,
            Level::Warn,
            "exited: web (exit status 1; not expected)",
            true,
        ),
        (
            Unexpected,
            vec![0, 2],
            WaitStatus::Exited(2),
            true,
            Level::Info,
            "exited: web (exit status 2; expected)",
            false,
        ),
        (
            Unexpected,
            vec![0],
            sig(1, false),
            false,
            Level::Warn,
            "exited: web (terminated by SIGHUP; not expected)",
            true,
        ),
        (
            Unexpected,
            vec![0],
            sig(11, true),
            false,
            Level::Warn,
            "exited: web (terminated by SIGSEGV (core dumped); not expected)",
            true,
        ),
        (
            Always,
            vec![0],
            WaitStatus::Exited(0),
            true,
            Level::Info,
            "exited: web (exit status 0; expected)",
            true,
        ),
        (
            Always,
            vec![0],
            WaitStatus::Exited(3),
            false,
            Level::Warn,
            "exited: web (exit status 3; not expected)",
            true,
        ),
        (
            Never,
            vec![0],
            WaitStatus::Exited(0),
            true,
            Level::Info,
            "exited: web (exit status 0; expected)",
            false,
        ),
        (
            Never,
            vec![0],
            WaitStatus::Exited(3),
            false,
            Level::Warn,
            "exited: web (exit status 3; not expected)",
            false,
        ),
        (
            Never,
            vec![0],
            sig(9, false),
            false,
            Level::Warn,
            "exited: web (terminated by SIGKILL; not expected)",
            false,
        ),
    ];
    for (autorestart, exitcodes, status, expected, level, text, restarts) in table {
        let ctx = format!("{autorestart:?} {exitcodes:?} {status:?}");
        let mut p = running(Policy {
            autorestart,
            exitcodes: exitcodes.clone(),
            ..policy()
        });
        let fx = p.handle(Input::Exited { pid: PID, status }, at(60_000), RUN);
        assert_eq!(lines(&fx)[0], line(level, text), "{ctx}");
        assert_eq!(change_of(&fx, Exited).expected, expected, "{ctx}");
        let spawnerr = if expected {
            String::new()
        } else {
            format!("Bad exit code {}", status.decode().0)
        };
        if restarts {
            assert_eq!(
                changes(&fx),
                [(Running, Exited), (Exited, Starting)],
                "{ctx}"
            );
            assert_eq!(spawns(&fx), 1, "{ctx}");
            assert_eq!(change_of(&fx, Starting).tries, 0, "{ctx}");
            assert_eq!(p.exitstatus(), 0, "spawn clears exitstatus: {ctx}");
        } else {
            assert_eq!(changes(&fx), [(Running, Exited)], "{ctx}");
            assert_eq!(p.spawnerr(), spawnerr, "{ctx}");
            assert_eq!(p.exitstatus(), status.decode().0, "{ctx}");
            assert_eq!(p.next_deadline(RUN), None, "{ctx}");
        }

        // While shutting down nothing restarts.
        let mut p = running(Policy {
            autorestart,
            exitcodes,
            ..policy()
        });
        let fx = p.handle(Input::Exited { pid: PID, status }, at(60_000), DOWN);
        assert_eq!(changes(&fx), [(Running, Exited)], "{ctx}");
        assert_eq!(p.next_deadline(DOWN), None, "{ctx}");
    }
}

#[test]
fn stop_then_sigkill_after_stopwaitsecs() {
    for (stopasgroup, killasgroup) in [(false, false), (true, false), (false, true), (true, true)] {
        let pol = Policy {
            stopwaitsecs: 10,
            stopasgroup,
            killasgroup,
            ..policy()
        };
        let mut p = running(pol);
        let fx = p.handle(Input::Stop, at(5000), RUN);
        let group = if stopasgroup { "process group " } else { "" };
        assert_eq!(
            lines(&fx),
            [line(
                Level::Debug,
                &format!("killing web (pid 4242) {group}with signal SIGTERM")
            )]
        );
        assert_eq!(changes(&fx), [(Running, Stopping)]);
        assert_eq!(change_of(&fx, Stopping).pid, PID);
        assert_eq!(
            fx.last(),
            Some(&Effect::Kill {
                pid: PID,
                signal: Signal::TERM,
                to_group: stopasgroup
            })
        );
        assert!(p.is_killing());
        assert_eq!(p.next_deadline(RUN), Some(ms(15_000)));

        assert!(p.handle(Input::Tick, at(14_999), RUN).is_empty());
        let fx = p.handle(Input::Tick, at(15_000), RUN);
        let group = if killasgroup { "process group " } else { "" };
        assert_eq!(
            lines(&fx),
            [
                line(Level::Warn, "killing 'web' (4242) with SIGKILL"),
                line(
                    Level::Debug,
                    &format!("killing web (pid 4242) {group}with signal SIGKILL")
                ),
            ]
        );
        assert!(
            changes(&fx).is_empty(),
            "STOPPING -> STOPPING emits no event"
        );
        assert_eq!(
            fx.last(),
            Some(&Effect::Kill {
                pid: PID,
                signal: Signal::KILL,
                to_group: killasgroup
            })
        );
        // Still alive: SIGKILL again every stopwaitsecs.
        assert_eq!(p.next_deadline(RUN), Some(ms(25_000)));

        let fx = p.handle(
            Input::Exited {
                pid: PID,
                status: WaitStatus::Signaled {
                    signal: 9,
                    core_dumped: false,
                },
            },
            at(15_010),
            RUN,
        );
        assert_eq!(changes(&fx), [(Stopping, Stopped)]);
        assert_eq!(
            change_of(&fx, Stopped).pid,
            PID,
            "STOPPED event carries the old pid"
        );
        assert_eq!(
            lines(&fx),
            [line(Level::Warn, "stopped: web (terminated by SIGKILL)")]
        );
        assert_eq!((p.pid(), p.is_killing(), p.exitstatus()), (0, false, -1));
        assert_eq!(p.next_deadline(RUN), None);
    }
}

#[test]
fn stopped_wording() {
    let table = [
        (
            vec![0],
            WaitStatus::Exited(0),
            Level::Info,
            "stopped: web (exit status 0)",
        ),
        (
            vec![0],
            WaitStatus::Exited(1),
            Level::Warn,
            "stopped: web (exit status 1)",
        ),
        (
            vec![1],
            WaitStatus::Exited(1),
            Level::Info,
            "stopped: web (exit status 1)",
        ),
        (
            vec![0],
            WaitStatus::Signaled {
                signal: 15,
                core_dumped: false,
            },
            Level::Warn,
            "stopped: web (terminated by SIGTERM)",
        ),
        (
            vec![0],
            WaitStatus::Signaled {
                signal: 6,
                core_dumped: true,
            },
            Level::Warn,
            "stopped: web (terminated by SIGABRT (core dumped))",
        ),
    ];
    for (exitcodes, status, level, text) in table {
        let mut p = running(Policy {
            exitcodes,
            ..policy()
        });
        p.handle(Input::Stop, at(3000), RUN);
        let fx = p.handle(Input::Exited { pid: PID, status }, at(3001), RUN);
        assert_eq!(lines(&fx), [line(level, text)]);
        assert_eq!(p.state(), Stopped);
    }
}

#[test]
fn stop_while_starting_and_too_quick_exit_during_stop() {
    let mut p = starting(Policy {
        startsecs: 10,
        ..policy()
    });
    let fx = p.handle(Input::Stop, at(100), RUN);
    assert_eq!(changes(&fx), [(Starting, Stopping)]);
    // Killing wins over "too quickly".
    let fx = p.handle(
        Input::Exited {
            pid: PID,
            status: WaitStatus::Exited(0),
        },
        at(200),
        RUN,
    );
    assert_eq!(changes(&fx), [(Stopping, Stopped)]);
    assert_eq!(
        lines(&fx),
        [line(Level::Info, "stopped: web (exit status 0)")]
    );
}

#[test]
fn stop_in_backoff_and_not_running() {
    let mut p = Process::new("web", policy());
    p.handle(Input::Start, t0(), RUN);
    p.handle(
        Input::SpawnFailed {
            message: "x".into(),
        },
        t0(),
        RUN,
    );
    assert_eq!(p.state(), Backoff);
    let fx = p.handle(Input::Stop, at(10), RUN);
    assert_eq!(
        lines(&fx),
        [line(
            Level::Debug,
            "Attempted to kill web, which is in BACKOFF state."
        )]
    );
    assert_eq!(changes(&fx), [(Backoff, Stopped)]);
    assert_eq!(change_of(&fx, Stopped).pid, 0);
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Failed(_) | Effect::Kill { .. }))
    );
    assert_eq!(
        p.next_deadline(RUN),
        None,
        "no retry, no autostart after a stop"
    );

    let fx = p.handle(Input::Stop, at(20), RUN);
    let msg = "attempted to kill web with sig SIGTERM but it wasn't running";
    assert_eq!(lines(&fx), [line(Level::Debug, msg)]);
    assert_eq!(fx.last(), Some(&Effect::Failed(msg.into())));
    assert_eq!(p.state(), Stopped);
}

#[test]
fn shutdown_gives_up_backoff_without_log() {
    let mut p = Process::new(
        "web",
        Policy {
            startretries: 10,
            ..policy()
        },
    );
    p.handle(Input::Start, t0(), RUN);
    p.handle(
        Input::SpawnFailed {
            message: "x".into(),
        },
        t0(),
        RUN,
    );
    let fx = p.handle(Input::GiveUp, at(10), DOWN);
    assert_eq!(changes(&fx), [(Backoff, Fatal)]);
    assert!(lines(&fx).is_empty());
    assert_eq!(p.backoff(), 0);
    assert_eq!(p.spawnerr(), "x");

    // GiveUp only affects BACKOFF.
    let mut p = running(policy());
    assert!(p.handle(Input::GiveUp, at(5000), DOWN).is_empty());
    assert_eq!(p.state(), Running);
}

#[test]
fn shutdown_mood_blocks_retries_but_not_promotion_or_sigkill() {
    let mut p = Process::new("web", policy());
    p.handle(Input::Start, t0(), RUN);
    p.handle(
        Input::SpawnFailed {
            message: "x".into(),
        },
        t0(),
        RUN,
    );
    assert!(p.handle(Input::Tick, at(60_000), DOWN).is_empty());
    assert_eq!(p.state(), Backoff);

    let mut p = starting(policy());
    let fx = p.handle(Input::Tick, at(1001), DOWN);
    assert_eq!(changes(&fx), [(Starting, Running)]);
    assert_eq!(p.next_deadline(DOWN), None);
    p.handle(Input::Stop, at(2000), DOWN);
    let fx = p.handle(Input::Tick, at(12_000), DOWN);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Kill { signal, .. } if *signal == Signal::KILL))
    );
}

#[test]
fn signal_requests() {
    let mut p = running(policy());
    let fx = p.handle(Input::Signal(Signal::HUP), at(5000), RUN);
    assert_eq!(
        lines(&fx),
        [line(Level::Debug, "sending web (pid 4242) sig SIGHUP")]
    );
    assert_eq!(
        fx.last(),
        Some(&Effect::Signal {
            pid: PID,
            signal: Signal::HUP
        })
    );
    assert_eq!(p.state(), Running);

    let fx = p.handle(
        Input::SignalFailed(SignalError {
            no_such_process: true,
            detail: "[Errno 3] No such process".into(),
        }),
        at(5001),
        RUN,
    );
    assert_eq!(
        lines(&fx),
        [line(
            Level::Debug,
            "unable to signal web (pid 4242), it probably just now exited on its own: [Errno 3] No such process"
        )]
    );
    assert_eq!(p.state(), Running);

    let fx = p.handle(
        Input::SignalFailed(SignalError {
            no_such_process: false,
            detail: "EPERM".into(),
        }),
        at(5002),
        RUN,
    );
    assert_eq!(
        lines(&fx),
        [line(
            Level::Critical,
            "unknown problem sending sig web (4242):EPERM"
        )]
    );
    assert_eq!(changes(&fx), [(Running, Unknown)]);
    assert_eq!(
        fx.last(),
        Some(&Effect::Failed(
            "unknown problem sending sig web (4242):EPERM".into()
        ))
    );

    let mut p = Process::new("web", policy());
    let fx = p.handle(Input::Signal(Signal::USR1), t0(), DOWN);
    let msg = "attempted to send web sig SIGUSR1 but it wasn't running";
    assert_eq!(lines(&fx), [line(Level::Debug, msg)]);
    assert_eq!(fx.last(), Some(&Effect::Failed(msg.into())));
}

#[test]
fn kill_failures() {
    let mut p = running(policy());
    p.handle(Input::Stop, at(5000), RUN);
    let fx = p.handle(
        Input::KillFailed(SignalError {
            no_such_process: true,
            detail: "[Errno 3] No such process".into(),
        }),
        at(5000),
        RUN,
    );
    assert_eq!(
        lines(&fx),
        [line(
            Level::Debug,
            "unable to signal web (pid 4242), it probably just exited on its own: [Errno 3] No such process"
        )]
    );
    assert_eq!(p.state(), Stopping);

    let fx = p.handle(
        Input::KillFailed(SignalError {
            no_such_process: false,
            detail: "boom".into(),
        }),
        at(5001),
        RUN,
    );
    assert_eq!(
        lines(&fx),
        [line(
            Level::Critical,
            "unknown problem killing web (4242):boom"
        )]
    );
    assert_eq!(changes(&fx), [(Stopping, Unknown)]);
    assert!(!p.is_killing());
    assert_eq!(p.next_deadline(RUN), None);

    // UNKNOWN: start refused, a later exit is recorded without a state change.
    let fx = p.handle(Input::Start, at(6000), RUN);
    assert!(
        lines(&fx)
            .iter()
            .any(|(_, t)| t == "process 'web' already running")
    );
    let fx = p.handle(
        Input::Exited {
            pid: PID,
            status: WaitStatus::Exited(0),
        },
        at(7000),
        RUN,
    );
    assert!(changes(&fx).is_empty());
    assert_eq!((p.state(), p.pid()), (Unknown, 0));
    let fx = p.handle(Input::Start, at(8000), RUN);
    assert_eq!(
        fx,
        [Effect::Failed(
            "Assertion failed for web: UNKNOWN not in EXITED FATAL BACKOFF STOPPED".into()
        )]
    );
}

#[test]
fn child_that_fails_after_fork_exits_127() {
    let mut p = starting(policy());
    let fx = p.handle(
        Input::Exited {
            pid: PID,
            status: WaitStatus::Exited(127),
        },
        at(3),
        RUN,
    );
    assert_eq!(changes(&fx), [(Starting, Backoff)]);
    assert_eq!(
        lines(&fx),
        [line(
            Level::Warn,
            "exited: web (exit status 127; not expected)"
        )]
    );
}

#[test]
fn ignores_foreign_or_stale_inputs() {
    let mut p = running(policy());
    assert!(
        p.handle(
            Input::Exited {
                pid: 99,
                status: WaitStatus::Exited(0)
            },
            at(5000),
            RUN
        )
        .is_empty()
    );
    assert!(
        p.handle(Input::Spawned { pid: 77 }, at(5000), RUN)
            .is_empty()
    );
    assert!(
        p.handle(
            Input::SpawnFailed {
                message: "late".into()
            },
            at(5000),
            RUN
        )
        .is_empty()
    );
    assert_eq!((p.state(), p.pid()), (Running, PID));
    let fx = p.handle(Input::Start, at(5000), RUN);
    assert_eq!(
        lines(&fx),
        [line(Level::Warn, "process 'web' already running")]
    );
    assert_eq!(p.state(), Running);
}

#[test]
fn stop_report_throttled_every_two_seconds() {
    let mut p = running(policy());
    assert_eq!(p.stop_report_due(), None);
    assert!(
        p.handle(Input::StopReport, at(4000), RUN).is_empty(),
        "only while STOPPING"
    );
    p.handle(Input::Stop, at(5000), RUN);
    assert_eq!(p.stop_report_due(), Some(Duration::ZERO), "due at once");
    let report = |p: &mut Process, t| lines(&p.handle(Input::StopReport, at(t), RUN));
    assert_eq!(
        report(&mut p, 5000),
        [line(Level::Info, "waiting for web to stop")]
    );
    // Reports come only strictly after the due time.
    assert_eq!(p.stop_report_due(), Some(at(7000).mono));
    assert!(report(&mut p, 6000).is_empty());
    assert!(
        report(&mut p, 7000).is_empty(),
        "needs strictly more than 2 s"
    );
    assert_eq!(report(&mut p, 7001).len(), 1);
    assert_eq!(p.stop_report_due(), Some(at(9001).mono));
}

#[test]
fn clock_rollback_laststart_in_future() {
    let mut p = Process::new(
        "web",
        Policy {
            startsecs: 5,
            ..policy()
        },
    );
    p.handle(Input::Start, at(10_000), RUN);
    p.handle(Input::Spawned { pid: PID }, at(10_000), RUN);
    // The clock the daemon passes went backwards (before laststart).
    let fx = p.handle(
        Input::Exited {
            pid: PID,
            status: WaitStatus::Exited(0),
        },
        at(9_000),
        RUN,
    );
    assert_eq!(
        lines(&fx)[0],
        line(
            Level::Warn,
            "process 'web' (4242) laststart time is in the future, don't know how long process was running \
             so assuming it did not exit too quickly"
        )
    );
    assert_eq!(changes(&fx)[..2], [(Starting, Running), (Running, Exited)]);
    assert_eq!(
        lines(&fx)[1],
        line(Level::Info, "exited: web (exit status 0; expected)")
    );
}

#[test]
fn clock_rollback_adjusts_backoff_delay() {
    let mut p = Process::new("web", policy());
    p.handle(Input::Start, at(10_000), RUN);
    p.handle(
        Input::SpawnFailed {
            message: "x".into(),
        },
        at(10_000),
        RUN,
    );
    assert_eq!(p.next_deadline(RUN), Some(ms(11_001)));
    // Time went back 5 s: the delay is re-based on the new now instead of waiting 6 s.
    p.handle(Input::Tick, at(5_000), RUN);
    assert_eq!(p.next_deadline(RUN), Some(ms(6_001)));
}

#[test]
fn manual_start_tries_and_exit_resets_backoff() {
    let mut p = Process::new(
        "web",
        Policy {
            autostart: false,
            ..policy()
        },
    );
    p.handle(Input::Start, t0(), RUN);
    p.handle(
        Input::SpawnFailed {
            message: "x".into(),
        },
        t0(),
        RUN,
    );
    let fx = p.handle(Input::Tick, at(1001), RUN);
    assert_eq!(change_of(&fx, Starting).tries, 1);
    p.handle(Input::Spawned { pid: PID }, at(1001), RUN);
    p.handle(Input::Tick, at(2002), RUN);
    assert_eq!((p.state(), p.backoff()), (Running, 0));
}

/// Deterministic pseudo-random walk over inputs: every emitted change is in the table, every allowed
/// transition is reached, no internal-error line appears, and pids only exist in live states.
#[test]
fn random_walk_stays_within_table() {
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut seen = BTreeSet::new();
    for round in 0..300 {
        let pol = Policy {
            autostart: next(2) == 0,
            startsecs: next(3),
            startretries: u32::try_from(next(3)).unwrap_or(0),
            autorestart: [
                AutoRestart::Never,
                AutoRestart::Unexpected,
                AutoRestart::Always,
            ][usize::try_from(next(3)).unwrap_or(0)],
            stopwaitsecs: next(3),
            ready: (next(3) == 0).then(|| Readiness {
                label: "tcp://127.0.0.1:1".into(),
                timeout: Duration::from_millis(next(3000)),
            }),
            ..policy()
        };
        let mut p = Process::new(format!("p{round}"), pol);
        let mut now = t0();
        let mut next_pid = 100;
        for _ in 0..60 {
            now = now.after(Duration::from_millis(next(2500)));
            let mood = if next(8) == 0 { DOWN } else { RUN };
            let input = match next(12) {
                0 => Input::Start,
                1 => Input::Stop,
                2 => Input::GiveUp,
                3 => Input::Signal(Signal::HUP),
                4 => Input::Exited {
                    pid: p.pid(),
                    status: WaitStatus::Exited(i32::try_from(next(3)).unwrap_or(0)),
                },
                5 => Input::KillFailed(SignalError {
                    no_such_process: next(2) == 0,
                    detail: "e".into(),
                }),
                6 => Input::SignalFailed(SignalError {
                    no_such_process: next(3) != 0,
                    detail: "e".into(),
                }),
                7 => Input::StopReport,
                8 => Input::Ready,
                9 => Input::Dependencies(match next(3) {
                    0 => DepStatus::Met,
                    1 => DepStatus::Waiting("waiting for db (started)".into()),
                    _ => DepStatus::Failed("dependency db is FATAL".into()),
                }),
                _ => Input::Tick,
            };
            let mut fx = p.handle(input, now, mood);
            // Answer spawns like the daemon does.
            while fx.contains(&Effect::Spawn) {
                let answer = if next(3) == 0 {
                    Input::SpawnFailed {
                        message: "nope".into(),
                    }
                } else {
                    next_pid += 1;
                    Input::Spawned { pid: next_pid }
                };
                for e in &fx {
                    if let Effect::StateChanged(c) = e {
                        seen.insert((c.from, c.to));
                    }
                }
                fx = p.handle(answer, now, mood);
            }
            for e in &fx {
                match e {
                    Effect::StateChanged(c) => {
                        assert!(transition_allowed(c.from, c.to), "{c:?}");
                        seen.insert((c.from, c.to));
                    }
                    Effect::Log { text, .. } => {
                        assert!(!text.starts_with("internal error"), "{text}");
                    }
                    _ => {}
                }
            }
            if p.pid() != 0 {
                assert!(
                    matches!(p.state(), Starting | Running | Stopping | Unknown),
                    "{:?}",
                    p.state()
                );
            }
            if let Some(d) = p.next_deadline(mood) {
                assert!(d <= now.mono + Duration::from_secs(20), "deadline sane");
            }
        }
    }
    let all: BTreeSet<_> = TRANSITIONS.iter().copied().collect();
    let missing: Vec<_> = all.difference(&seen).collect();
    assert!(missing.is_empty(), "never reached: {missing:?}");
}

fn ready_policy(timeout_ms: u64) -> Policy {
    Policy {
        ready: Some(Readiness {
            label: "tcp://127.0.0.1:5432".into(),
            timeout: Duration::from_millis(timeout_ms),
        }),
        ..policy()
    }
}

#[test]
fn ready_check_holds_starting_past_startsecs_until_it_passes() {
    let mut p = starting(ready_policy(30_000));
    assert_eq!(p.next_deadline(RUN), Some(ms(30_001)));
    p.handle(Input::Tick, at(5_000), RUN);
    assert_eq!(p.state(), Starting, "startsecs does not promote");
    let fx = p.handle(Input::Ready, at(5_100), RUN);
    assert_eq!(changes(&fx), vec![(Starting, Running)]);
    assert_eq!(
        lines(&fx),
        vec![line(
            Level::Info,
            "success: web entered RUNNING state, ready check tcp://127.0.0.1:5432 passed"
        )]
    );
    assert_eq!(p.next_deadline(RUN), None, "no timer once ready");
    // A late or repeated pass changes nothing.
    assert!(p.handle(Input::Ready, at(5_200), RUN).is_empty());
}

#[test]
fn ready_is_ignored_without_a_check_or_a_child() {
    let mut p = starting(policy());
    assert!(p.handle(Input::Ready, at(10), RUN).is_empty());
    assert_eq!(p.state(), Starting);
    let mut q = Process::new("web", ready_policy(1000));
    assert!(q.handle(Input::Ready, t0(), DOWN).is_empty());
    assert_eq!(q.state(), Stopped);
}

#[test]
fn exit_before_ready_is_a_failed_start_even_after_startsecs() {
    let mut p = starting(ready_policy(30_000));
    let fx = p.handle(
        Input::Exited {
            pid: PID,
            status: WaitStatus::Exited(0),
        },
        at(10_000),
        RUN,
    );
    assert_eq!(changes(&fx), vec![(Starting, Backoff)]);
    assert_eq!(
        p.spawnerr(),
        "Exited too quickly (process log may have details)"
    );
}

#[test]
fn ready_timeout_stops_the_child_then_counts_as_failed_start() {
    let pol = Policy {
        stopwaitsecs: 2,
        startretries: 0,
        ..ready_policy(1_500)
    };
    let mut p = starting(pol);
    let fx = p.handle(Input::Tick, at(1_501), RUN);
    assert_eq!(
        fx,
        vec![
            Effect::Log {
                level: Level::Warn,
                text: "ready check tcp://127.0.0.1:5432 of web did not pass within 1.5 s (ready_timeout), stopping it".into()
            },
            Effect::Kill {
                pid: PID,
                signal: Signal::TERM,
                to_group: false
            }
        ]
    );
    assert_eq!(p.state(), Starting);
    assert_eq!(p.next_deadline(RUN), Some(ms(3_501)));
    // A pass after the timeout is too late.
    assert!(p.handle(Input::Ready, at(1_600), RUN).is_empty());
    // Ignores SIGTERM: SIGKILL after stopwaitsecs.
    let fx = p.handle(Input::Tick, at(3_501), RUN);
    assert_eq!(
        fx.last(),
        Some(&Effect::Kill {
            pid: PID,
            signal: Signal::KILL,
            to_group: false
        })
    );
    let fx = p.handle(
        Input::Exited {
            pid: PID,
            status: WaitStatus::Signaled {
                signal: 9,
                core_dumped: false,
            },
        },
        at(3_600),
        RUN,
    );
    // BACKOFF, then (startretries = 0) FATAL.
    assert_eq!(changes(&fx), vec![(Starting, Backoff), (Backoff, Fatal)]);
    assert_eq!(
        p.spawnerr(),
        "ready check tcp://127.0.0.1:5432 did not pass within 1.5 s (ready_timeout)"
    );
}

#[test]
fn a_stop_during_the_ready_wait_is_an_ordinary_stop() {
    let mut p = starting(ready_policy(1_000));
    let fx = p.handle(Input::Stop, at(100), RUN);
    assert_eq!(changes(&fx), vec![(Starting, Stopping)]);
    let fx = p.handle(
        Input::Exited {
            pid: PID,
            status: WaitStatus::Signaled {
                signal: 15,
                core_dumped: false,
            },
        },
        at(200),
        RUN,
    );
    assert_eq!(changes(&fx), vec![(Stopping, Stopped)]);
}

fn waiting() -> DepStatus {
    DepStatus::Waiting("waiting for db (ready)".into())
}

#[test]
fn autostart_waits_for_dependencies_without_a_timer() {
    let mut p = Process::new("app", policy());
    p.handle(Input::Dependencies(waiting()), t0(), DOWN);
    assert_eq!(p.next_deadline(RUN), None, "no wake-up while waiting");
    assert!(p.handle(Input::Tick, t0(), RUN).is_empty());
    assert_eq!(p.state(), Stopped);
    assert_eq!(p.waiting_for(), Some("waiting for db (ready)"));
    let fx = p.handle(Input::Dependencies(DepStatus::Met), at(5), RUN);
    assert_eq!(spawns(&fx), 1);
    assert_eq!(p.waiting_for(), None);
}

#[test]
fn a_start_request_waits_and_a_stop_cancels_it() {
    let mut p = Process::new(
        "app",
        Policy {
            autostart: false,
            ..policy()
        },
    );
    p.handle(Input::Dependencies(waiting()), t0(), RUN);
    assert_eq!(p.waiting_for(), None, "no start wanted yet");
    assert!(p.handle(Input::Start, t0(), RUN).is_empty());
    assert_eq!(p.waiting_for(), Some("waiting for db (ready)"));
    assert!(p.wants_start());
    // A stop cancels the pending start without a fault.
    assert!(p.handle(Input::Stop, at(1), RUN).is_empty());
    assert!(!p.wants_start());
    assert!(
        p.handle(Input::Dependencies(DepStatus::Met), at(2), RUN)
            .is_empty()
    );
    assert_eq!(p.state(), Stopped);
    // A new request with the dependency met spawns at once.
    assert_eq!(spawns(&p.handle(Input::Start, at(3), RUN)), 1);
}

#[test]
fn a_failed_dependency_makes_a_waiting_start_fatal() {
    for from_state in [Stopped, Exited] {
        let mut p = if from_state == Stopped {
            Process::new("app", policy())
        } else {
            let mut r = running(Policy {
                autorestart: AutoRestart::Always,
                ..policy()
            });
            r.handle(Input::Dependencies(waiting()), at(2000), RUN);
            r.handle(
                Input::Exited {
                    pid: PID,
                    status: WaitStatus::Exited(0),
                },
                at(2100),
                RUN,
            );
            r
        };
        p.handle(Input::Dependencies(waiting()), at(2200), RUN);
        assert_eq!(p.state(), from_state);
        let fx = p.handle(
            Input::Dependencies(DepStatus::Failed("dependency db is FATAL".into())),
            at(2300),
            RUN,
        );
        assert_eq!(changes(&fx), vec![(from_state, Fatal)]);
        assert_eq!(
            lines(&fx),
            vec![line(
                Level::Info,
                &format!(
                    "gave up: {} entered FATAL state, dependency db is FATAL",
                    p.name()
                )
            )]
        );
        assert_eq!(p.spawnerr(), "dependency db is FATAL");
        assert!(!p.wants_start());
        assert_eq!(p.next_deadline(RUN), None);
    }
}

#[test]
fn dependencies_do_not_touch_a_running_process() {
    let mut p = running(policy());
    let fx = p.handle(
        Input::Dependencies(DepStatus::Failed("dependency db is FATAL".into())),
        at(3000),
        RUN,
    );
    assert!(fx.is_empty());
    assert_eq!(p.state(), Running);
}

#[test]
fn dep_view_reports_completion() {
    let mut p = running(Policy {
        autorestart: AutoRestart::Never,
        ..policy()
    });
    p.handle(
        Input::Exited {
            pid: PID,
            status: WaitStatus::Exited(0),
        },
        at(5000),
        RUN,
    );
    let v = p.dep_view();
    assert_eq!(
        (v.state, v.exited_for_good, v.exit_expected, v.will_start),
        (Exited, true, true, false)
    );
    let mut q = running(Policy {
        autorestart: AutoRestart::Unexpected,
        ..policy()
    });
    q.handle(
        Input::Exited {
            pid: PID,
            status: WaitStatus::Exited(3),
        },
        at(5000),
        DOWN,
    );
    let v = q.dep_view();
    assert_eq!(
        (v.state, v.exited_for_good, v.exit_expected, v.will_start),
        (Exited, false, false, true)
    );
}
