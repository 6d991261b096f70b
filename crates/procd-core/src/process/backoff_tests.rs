//! Table tests of restart backoff in the state machine (`restart_*` keys): the deadline of every
//! automatic restart, retrying forever, the reset after a long run, and cancelling a pending restart.

use std::time::Duration;

use procd_protocol::{ProcessState::*, SupervisorState};

use super::*;
use crate::backoff::Backoff;

const RUN: SupervisorState = SupervisorState::Running;

fn t0() -> Now {
    Now::new(Duration::from_secs(1000), 1_700_000_000)
}

fn at(ms: u64) -> Now {
    t0().after(Duration::from_millis(ms))
}

fn mono(ms: u64) -> Duration {
    t0().mono + Duration::from_millis(ms)
}

fn spawned(fx: &[Effect]) -> bool {
    fx.contains(&Effect::Spawn)
}

fn exited(code: i32) -> WaitStatus {
    WaitStatus::Exited(code)
}

fn policy(backoff: Backoff) -> Policy {
    Policy {
        backoff,
        ..Policy::default()
    }
}

fn log_lines(fx: &[Effect]) -> Vec<String> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Log { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

/// Drives a process whose every start fails (exit 1, 10 ms after the spawn) and returns the times (ms
/// after t0) of each spawn, following `next_deadline` like the daemon does.
fn failing_spawns(p: &mut Process, count: usize) -> Vec<u64> {
    let mut times = Vec::new();
    let mut now = 0u64;
    let mut pid = 100;
    let fx = p.handle(Input::Start, at(now), RUN);
    assert!(spawned(&fx));
    loop {
        times.push(now);
        pid += 1;
        p.handle(Input::Spawned { pid }, at(now), RUN);
        now += 10;
        p.handle(
            Input::Exited {
                pid,
                status: exited(1),
            },
            at(now),
            RUN,
        );
        if times.len() == count || p.state() == Fatal {
            return times;
        }
        assert_eq!(p.state(), Backoff);
        let due = p.next_deadline(RUN).expect("a retry deadline");
        let due_ms = u64::try_from((due - t0().mono).as_millis()).unwrap();
        // One millisecond early: nothing happens.
        let fx = p.handle(Input::Tick, at(due_ms - 1), RUN);
        assert!(!spawned(&fx), "spawned early at {due_ms}");
        now = due_ms;
        let fx = p.handle(Input::Tick, at(now), RUN);
        if p.state() == Fatal {
            return times;
        }
        assert!(spawned(&fx), "no spawn at the deadline {now}");
    }
}

#[test]
fn without_keys_failed_starts_wait_1_2_3_seconds_then_fatal() {
    let mut p = Process::new("web", Policy::default());
    let times = failing_spawns(&mut p, 10);
    // supervisord: waits of 1, 2, 3 s (plus the 1 ms past the strict comparison), then FATAL.
    assert_eq!(times, [0, 1011, 3022, 6033]);
    assert_eq!(p.state(), Fatal);
    assert_eq!(
        p.restart_in(mono(0)),
        None,
        "no backoff description without keys"
    );
}

#[test]
fn failed_starts_follow_the_configured_sequence() {
    let b = Backoff {
        delay: Some(Duration::from_millis(500)),
        max_delay: Some(Duration::from_secs(2)),
        ..Backoff::default()
    };
    let mut p = Process::new("web", policy(b));
    let times = failing_spawns(&mut p, 10);
    // 500 ms, 1 s, 2 s (doubling to the cap), then FATAL after startretries=3.
    assert_eq!(times, [0, 511, 1522, 3533]);
    assert_eq!(p.state(), Fatal);
}

#[test]
fn restart_forever_never_gives_up() {
    let b = Backoff {
        delay: Some(Duration::from_millis(100)),
        max_delay: Some(Duration::from_millis(400)),
        forever: true,
        ..Backoff::default()
    };
    let mut p = Process::new(
        "web",
        Policy {
            startretries: 0,
            ..policy(b)
        },
    );
    let times = failing_spawns(&mut p, 8);
    assert_eq!(times, [0, 111, 322, 733, 1144, 1555, 1966, 2377]);
    assert_eq!(p.state(), Backoff);
    // The description's numbers: the wait left and the attempt.
    let (left, attempt) = p.restart_in(mono(2387)).expect("waiting");
    assert_eq!((left, attempt), (Duration::from_millis(400), 8));
}

#[test]
fn autorestart_after_running_waits_and_grows_then_resets_after_a_long_run() {
    let b = Backoff {
        delay: Some(Duration::from_secs(1)),
        max_delay: Some(Duration::from_secs(8)),
        steps: 3,
        reset: Some(Duration::from_secs(60)),
        forever: false,
    };
    let mut p = Process::new(
        "web",
        Policy {
            autorestart: AutoRestart::Always,
            ..policy(b)
        },
    );
    let mut now = 0u64;
    let mut pid = 10;
    p.handle(Input::Start, at(now), RUN);
    let mut waits = Vec::new();
    // Runs of 2 s (RUNNING after startsecs=1), each crash restarts after the next delay.
    for run in 0..5 {
        pid += 1;
        p.handle(Input::Spawned { pid }, at(now), RUN);
        now += 2000;
        p.handle(Input::Tick, at(now - 500), RUN);
        assert_eq!(p.state(), Running, "run {run}");
        let fx = p.handle(
            Input::Exited {
                pid,
                status: exited(1),
            },
            at(now),
            RUN,
        );
        assert_eq!(p.state(), Exited);
        assert!(!spawned(&fx), "no immediate restart");
        let due = p.next_deadline(RUN).expect("restart deadline");
        let wait = u64::try_from((due - mono(now)).as_millis()).unwrap();
        waits.push(wait);
        assert_eq!(
            log_lines(&fx).last().map(String::as_str),
            Some(
                format!(
                    "restarting web in {} (attempt {})",
                    show_duration(Duration::from_millis(wait)),
                    run + 1
                )
                .as_str()
            )
        );
        let (left, attempt) = p.restart_in(mono(now)).expect("pending restart");
        assert_eq!((left.as_millis(), attempt), (u128::from(wait), run + 1));
        assert!(!spawned(&p.handle(Input::Tick, at(now + wait - 1), RUN)));
        now += wait;
        assert!(spawned(&p.handle(Input::Tick, at(now), RUN)));
    }
    // systemd-style steps from 1 s to 8 s in 3 steps.
    assert_eq!(waits, [1000, 2000, 4000, 8000, 8000]);
    // A run of 60 s resets the sequence.
    pid += 1;
    p.handle(Input::Spawned { pid }, at(now), RUN);
    now += 60_000;
    p.handle(Input::Tick, at(now - 1), RUN);
    p.handle(
        Input::Exited {
            pid,
            status: exited(1),
        },
        at(now),
        RUN,
    );
    assert_eq!(p.restart_in(mono(now)).map(|r| r.1), Some(1));
    assert_eq!(p.next_deadline(RUN), Some(mono(now + 1000)));
}

#[test]
fn without_keys_autorestart_is_immediate() {
    let mut p = Process::new(
        "web",
        Policy {
            autorestart: AutoRestart::Always,
            ..Policy::default()
        },
    );
    p.handle(Input::Start, at(0), RUN);
    p.handle(Input::Spawned { pid: 5 }, at(0), RUN);
    p.handle(Input::Tick, at(1001), RUN);
    let fx = p.handle(
        Input::Exited {
            pid: 5,
            status: exited(1),
        },
        at(3000),
        RUN,
    );
    assert!(spawned(&fx), "supervisord restarts at once");
    assert_eq!(p.state(), Starting);
}

#[test]
fn a_stop_cancels_a_pending_restart_and_a_start_begins_a_new_sequence() {
    let b = Backoff {
        delay: Some(Duration::from_secs(5)),
        ..Backoff::default()
    };
    let mut p = Process::new(
        "web",
        Policy {
            autorestart: AutoRestart::Always,
            ..policy(b)
        },
    );
    p.handle(Input::Start, at(0), RUN);
    p.handle(Input::Spawned { pid: 5 }, at(0), RUN);
    p.handle(Input::Tick, at(1001), RUN);
    p.handle(
        Input::Exited {
            pid: 5,
            status: exited(1),
        },
        at(2000),
        RUN,
    );
    assert!(p.restart_in(mono(2000)).is_some());
    let fx = p.handle(Input::Stop, at(2500), RUN);
    assert!(!fx.iter().any(|e| matches!(e, Effect::Failed(_))), "{fx:?}");
    assert_eq!(p.state(), Exited);
    assert_eq!(p.restart_in(mono(2500)), None);
    assert_eq!(p.next_deadline(RUN), None, "nothing pending after the stop");
    assert!(!spawned(&p.handle(Input::Tick, at(9000), RUN)));
    // A manual start works at once and counts from attempt 1 again.
    assert!(spawned(&p.handle(Input::Start, at(10_000), RUN)));
    p.handle(Input::Spawned { pid: 6 }, at(10_000), RUN);
    p.handle(Input::Tick, at(11_001), RUN);
    p.handle(
        Input::Exited {
            pid: 6,
            status: exited(1),
        },
        at(12_000),
        RUN,
    );
    assert_eq!(
        p.restart_in(mono(12_000)),
        Some((Duration::from_secs(5), 1))
    );
}

#[test]
fn states_without_a_pending_restart_have_no_restart_description() {
    let b = Backoff {
        delay: Some(Duration::from_secs(1)),
        ..Backoff::default()
    };
    let mut p = Process::new("web", policy(b));
    assert_eq!(p.state(), Stopped);
    assert_eq!(p.restart_in(mono(0)), None);
    p.handle(Input::Start, at(0), RUN);
    p.handle(Input::Spawned { pid: 5 }, at(0), RUN);
    assert_eq!(p.restart_in(mono(0)), None, "STARTING");
    p.handle(Input::Tick, at(1001), RUN);
    assert_eq!(p.state(), Running);
    assert_eq!(p.restart_in(mono(1001)), None);
}
