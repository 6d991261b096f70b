use procd_core::Change;
use procd_protocol::ProcessState::{self, *};
use procd_protocol::SupervisorState;

use super::{ExitReason, Snapshot, Telemetry};

fn change(from: ProcessState, to: ProcessState, expected: bool, pid: i32) -> Change {
    Change {
        from,
        to,
        expected,
        tries: 0,
        pid,
    }
}

const AT: Snapshot = Snapshot {
    start_time: 1_700_000_000,
    exit_status: 3,
};

#[test]
fn counts_states_for_the_summary() {
    let t = Telemetry::default();
    assert_eq!(t.summary(), "no programs");
    let a = t.add("web", "web", true);
    let b = t.add("workers", "w0", true);
    let _c = t.add("workers", "w1", false);
    assert_eq!(t.summary(), "3 stopped");
    t.state_changed(&a, &change(Stopped, Starting, true, 0), AT);
    t.state_changed(&a, &change(Starting, Running, true, 10), AT);
    t.state_changed(&b, &change(Stopped, Starting, true, 0), AT);
    t.state_changed(&b, &change(Starting, Backoff, true, 11), AT);
    t.state_changed(&b, &change(Backoff, Fatal, true, 0), AT);
    assert_eq!(t.summary(), "1 stopped, 1 running, 1 fatal");
    t.remove("web", "web");
    assert_eq!(t.summary(), "1 stopped, 1 fatal");
    t.clear();
    assert_eq!(t.summary(), "no programs");
}

#[test]
fn exits_are_counted_by_reason() {
    let t = Telemetry::default();
    let p = t.add("g", "p", true);
    let table = [
        (change(Stopped, Starting, true, 0), None),
        // Spawn error: STARTING -> BACKOFF without a child.
        (change(Starting, Backoff, true, 0), None),
        (change(Backoff, Starting, true, 0), None),
        (
            change(Starting, Backoff, true, 12),
            Some(ExitReason::TooQuickly),
        ),
        (change(Backoff, Starting, true, 0), None),
        (change(Starting, Running, true, 13), None),
        (
            change(Running, Exited, false, 13),
            Some(ExitReason::Unexpected),
        ),
        (change(Exited, Starting, true, 0), None),
        (change(Starting, Running, true, 14), None),
        (
            change(Running, Exited, true, 14),
            Some(ExitReason::Expected),
        ),
        (change(Exited, Starting, true, 0), None),
        (change(Starting, Running, true, 15), None),
        (change(Running, Stopping, true, 15), None),
        (
            change(Stopping, Stopped, true, 15),
            Some(ExitReason::Stopped),
        ),
    ];
    let mut want = [0u64; 4];
    for (c, reason) in table {
        t.state_changed(&p, &c, AT);
        if let Some(r) = reason {
            want[r as usize] += 1;
        }
        for r in ExitReason::ALL {
            assert_eq!(p.exits(r), want[r as usize], "{r:?} after {c:?}");
        }
    }
    assert_eq!(p.spawn_errors(), 1);
    // Four spawns (the first is not a restart).
    assert_eq!(p.restarts(), 4);
    assert_eq!(p.exit_status(), 3);
    assert_eq!(p.start_time(), AT.start_time);
    assert_eq!(p.state(), Stopped);
}

#[test]
fn not_ready_lists_autostart_programs_not_running() {
    let t = Telemetry::default();
    let a = t.add("web", "web", true);
    let _manual = t.add("tools", "shell", false);
    let b = t.add("workers", "w0", true);
    assert_eq!(
        t.not_ready(),
        vec![
            ("web".to_owned(), Stopped),
            ("workers:w0".to_owned(), Stopped)
        ]
    );
    t.state_changed(&a, &change(Stopped, Starting, true, 0), AT);
    t.state_changed(&a, &change(Starting, Running, true, 5), AT);
    t.state_changed(&b, &change(Stopped, Starting, true, 0), AT);
    assert_eq!(t.not_ready(), vec![("workers:w0".to_owned(), Starting)]);
    t.state_changed(&b, &change(Starting, Running, true, 6), AT);
    assert!(t.not_ready().is_empty());
    // Leaving RUNNING, being replaced or removed keeps the count of autostart programs down exact.
    t.state_changed(&a, &change(Running, Stopping, true, 5), AT);
    assert_eq!(t.not_ready(), vec![("web".to_owned(), Stopping)]);
    t.state_changed(&a, &change(Stopping, Stopped, true, 5), AT);
    t.remove("web", "web");
    assert!(t.not_ready().is_empty());
    let c = t.add("workers", "w0", true);
    assert_eq!(t.not_ready(), vec![("workers:w0".to_owned(), Stopped)]);
    t.state_changed(&c, &change(Stopped, Starting, true, 0), AT);
    t.state_changed(&c, &change(Starting, Running, true, 7), AT);
    assert!(t.not_ready().is_empty());
    t.state_changed(&c, &change(Running, Exited, false, 7), AT);
    t.clear();
    assert!(t.not_ready().is_empty());
    assert_eq!(
        t.autostart_down.load(std::sync::atomic::Ordering::Relaxed),
        0
    );
}

#[test]
fn readiness_waits_for_every_autostart_program_to_settle() {
    let t = Telemetry::default();
    let a = t.add("a", "a", true);
    let b = t.add("b", "b", true);
    t.started();
    assert_eq!(t.unsettled.load(std::sync::atomic::Ordering::Relaxed), 2);
    t.state_changed(&a, &change(Stopped, Starting, true, 0), AT);
    t.state_changed(&a, &change(Starting, Backoff, true, 3), AT);
    t.state_changed(&a, &change(Backoff, Fatal, true, 0), AT);
    assert_eq!(t.unsettled.load(std::sync::atomic::Ordering::Relaxed), 1);
    t.state_changed(&b, &change(Stopped, Starting, true, 0), AT);
    t.state_changed(&b, &change(Starting, Running, true, 4), AT);
    assert_eq!(t.unsettled.load(std::sync::atomic::Ordering::Relaxed), 0);
    // Settling happens once: a later restart does not count again.
    t.state_changed(&b, &change(Running, Exited, true, 4), AT);
    t.state_changed(&b, &change(Exited, Starting, true, 0), AT);
    assert_eq!(t.unsettled.load(std::sync::atomic::Ordering::Relaxed), 0);
    t.mood_changed(SupervisorState::Shutdown);
    assert_eq!(t.mood(), SupervisorState::Shutdown);
}

#[test]
fn rpc_calls_and_faults_are_counted_by_method() {
    let t = Telemetry::default();
    let start = Telemetry::rpc_slot("supervisor.startProcess");
    let unknown = Telemetry::rpc_slot("supervisor.noSuchThing");
    t.rpc_call(start, None);
    t.rpc_call(start, Some(10));
    t.rpc_call(unknown, Some(1));
    let text = super::metrics::render(&t);
    assert!(text.contains("procd_rpc_calls_total{method=\"supervisor.startProcess\"} 2\n"));
    assert!(text.contains("procd_rpc_calls_total{method=\"unknown\"} 1\n"));
    assert!(text.contains(
        "procd_rpc_faults_total{method=\"supervisor.startProcess\",fault=\"BAD_NAME\"} 1\n"
    ));
    assert!(
        text.contains("procd_rpc_faults_total{method=\"unknown\",fault=\"UNKNOWN_METHOD\"} 1\n")
    );
}
