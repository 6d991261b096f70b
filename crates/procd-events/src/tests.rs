//! Scenario tests for the bus and pools, and byte-for-byte checks against the real supervisor 4.3.0
//! (imported from the project's `.venv`).

use std::process::Command;

use procd_protocol::Level;
use procd_protocol::ListenerState;

use super::*;

fn pool(name: &str, size: usize, events: &[&str], procs: &[&str]) -> PoolConfig {
    PoolConfig {
        name: name.into(),
        buffer_size: size,
        events: events
            .iter()
            .map(std::string::ToString::to_string)
            .collect(),
        processes: procs.iter().map(std::string::ToString::to_string).collect(),
        handler: procd_config::ResultHandler::Default,
    }
}

fn group_added(g: &str) -> Event {
    Event::ProcessGroupAdded { group: g.into() }
}

fn writes(effects: &[Effect]) -> Vec<(String, String)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::WriteStdin { process, bytes, .. } => {
                Some((process.clone(), String::from_utf8_lossy(bytes).into_owned()))
            }
            _ => None,
        })
        .collect()
}

fn logs(effects: &[Effect]) -> Vec<(Level, String)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Log { level, text } => Some((*level, text.clone())),
            _ => None,
        })
        .collect()
}

fn has_log(effects: &[Effect], level: Level, text: &str) -> bool {
    logs(effects).iter().any(|(l, t)| *l == level && t == text)
}

/// A bus with one pool `l` (one process `l`) subscribed to PROCESS_GROUP, listener RUNNING.
fn running_bus(size: usize) -> EventBus {
    let mut bus = EventBus::new("supervisor");
    bus.add_pool(pool("l", size, &["PROCESS_GROUP"], &["l"]));
    assert!(bus.listener_spawned("l", "l").is_empty());
    assert!(bus.listener_running("l", "l", true).is_empty());
    bus
}

#[test]
fn events_wait_for_ready_and_running() {
    let mut bus = EventBus::new("supervisor");
    bus.add_pool(pool("l", 10, &["PROCESS_GROUP"], &["l"]));
    assert!(writes(&bus.publish(group_added("a"))).is_empty());
    bus.listener_spawned("l", "l");
    // READY before RUNNING (startsecs not over): nothing is sent yet.
    let fx = bus.listener_output("l", "l", b"READY\n");
    assert!(has_log(
        &fx,
        Level::Debug,
        "'l' stdout output:\nb'READY\\n'"
    ));
    assert!(has_log(&fx, Level::Debug, "l: ACKNOWLEDGED -> READY"));
    assert!(writes(&fx).is_empty());
    let fx = bus.listener_running("l", "l", true);
    assert_eq!(
        writes(&fx),
        [(
            "l".to_string(),
            "ver:3.0 server:supervisor serial:0 pool:l poolserial:0 eventname:PROCESS_GROUP_ADDED \
             len:12\ngroupname:a\n"
                .to_string()
        )]
    );
    assert!(has_log(&fx, Level::Debug, "event 0 sent to listener l"));
    assert_eq!(bus.listener_state("l", "l"), Some(ListenerState::Busy));
}

#[test]
fn result_ok_split_across_reads_then_next_event() {
    let mut bus = running_bus(10);
    bus.publish(group_added("a"));
    bus.publish(group_added("b"));
    let fx = bus.listener_output("l", "l", b"REA");
    assert!(writes(&fx).is_empty());
    let fx = bus.listener_output("l", "l", b"DY\n");
    assert_eq!(writes(&fx).len(), 1);
    // the second event could not go anywhere and was put back
    assert!(has_log(
        &fx,
        Level::Debug,
        "rebuffering event 1 for pool l (buf size=0, max=10)"
    ));
    for chunk in [&b"RESULT"[..], b" 2", b"\nO"] {
        assert!(writes(&bus.listener_output("l", "l", chunk)).is_empty());
    }
    assert_eq!(bus.listener_state("l", "l"), Some(ListenerState::Busy));
    let fx = bus.listener_output("l", "l", b"KREADY\n");
    let got = logs(&fx);
    let i = got
        .iter()
        .position(|(_, t)| t == "l: event was processed")
        .unwrap();
    assert_eq!(got[i + 1].1, "l: BUSY -> ACKNOWLEDGED");
    assert_eq!(got[i + 2].1, "l: ACKNOWLEDGED -> READY");
    let w = writes(&fx);
    assert_eq!(w.len(), 1);
    assert!(
        w[0].1
            .starts_with("ver:3.0 server:supervisor serial:1 pool:l poolserial:1 ")
    );
    assert!(w[0].1.ends_with("\ngroupname:b\n"));
    assert_eq!(bus.pool("l").unwrap().buffered(), 0);
}

#[test]
fn rejected_event_goes_back_to_the_head() {
    let mut bus = running_bus(10);
    bus.publish(group_added("a"));
    let first = writes(&bus.listener_output("l", "l", b"READY\n"));
    bus.publish(group_added("b"));
    let fx = bus.listener_output("l", "l", b"RESULT 4\nFAIL");
    assert!(has_log(&fx, Level::Warn, "l: event was rejected"));
    assert!(fx.contains(&Effect::Rejected {
        pool: "l".into(),
        process: "l".into(),
        serial: 0
    }));
    assert_eq!(
        bus.listener_state("l", "l"),
        Some(ListenerState::Acknowledged)
    );
    assert_eq!(bus.pool("l").unwrap().buffered(), 2);
    // same envelope again, before event b
    let again = writes(&bus.listener_output("l", "l", b"READY\n"));
    assert_eq!(again, first);
}

#[test]
fn overflow_discards_the_oldest() {
    let mut bus = EventBus::new("s");
    bus.add_pool(pool("l", 2, &["EVENT"], &["l"]));
    bus.publish(group_added("a"));
    bus.publish(group_added("b"));
    let fx = bus.publish(group_added("c"));
    assert_eq!(
        logs(&fx),
        [(
            Level::Error,
            "pool l event buffer overflowed, discarding event 0".to_string()
        )]
    );
    assert_eq!(bus.pool("l").unwrap().buffered(), 2);
}

#[test]
fn serials_are_global_and_pool_serials_per_pool() {
    let mut bus = EventBus::new("s");
    bus.add_pool(pool("a", 10, &["TICK_5"], &["a"]));
    bus.add_pool(pool("b", 10, &["TICK", "PROCESS_GROUP"], &["b"]));
    assert!(bus.publish(Event::SupervisorStateChangeRunning).is_empty()); // nobody: no serial
    bus.publish(group_added("g")); // serial 0, b:0
    bus.publish(Event::Tick5 { when: 5 }); // serial 1, a:0, b:1
    for (p, want) in [
        ("a", "serial:1 pool:a poolserial:0 eventname:TICK_5"),
        (
            "b",
            "serial:0 pool:b poolserial:0 eventname:PROCESS_GROUP_ADDED",
        ),
    ] {
        bus.listener_spawned(p, p);
        bus.listener_running(p, p, true);
        let w = writes(&bus.listener_output(p, p, b"READY\n"));
        assert!(w[0].1.contains(want), "{p}: {}", w[0].1);
    }
    let w = writes(&bus.listener_output("b", "b", b"RESULT 2\nOKREADY\n"));
    assert!(
        w[0].1
            .contains("serial:1 pool:b poolserial:1 eventname:TICK_5"),
        "{}",
        w[0].1
    );
    assert!(bus.wants("TICK_60"));
    assert!(!bus.wants("PROCESS_LOG_STDOUT"));
}

#[test]
fn listener_dying_while_busy_requeues_its_event() {
    let mut bus = running_bus(10);
    bus.publish(group_added("a"));
    let first = writes(&bus.listener_output("l", "l", b"READY\n"));
    bus.listener_running("l", "l", false);
    let fx = bus.listener_exited("l", "l");
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Rejected { serial: 0, .. }))
    );
    assert!(!has_log(&fx, Level::Warn, "l: event was rejected"));
    assert_eq!(bus.pool("l").unwrap().buffered(), 1);
    bus.listener_spawned("l", "l");
    assert_eq!(
        bus.listener_state("l", "l"),
        Some(ListenerState::Acknowledged)
    );
    bus.listener_running("l", "l", true);
    assert_eq!(writes(&bus.listener_output("l", "l", b"READY\n")), first);
}

#[test]
fn first_ready_running_listener_in_pool_order_wins() {
    let mut bus = EventBus::new("s");
    bus.add_pool(pool("p", 10, &["EVENT"], &["p_0", "p_1", "p_2"]));
    for n in ["p_0", "p_1", "p_2"] {
        bus.listener_spawned("p", n);
        bus.listener_output("p", n, b"READY\n");
    }
    bus.listener_running("p", "p_2", true);
    bus.listener_running("p", "p_1", true);
    let fx = bus.publish(group_added("x"));
    assert_eq!(writes(&fx)[0].0, "p_1");
    let fx = bus.publish(group_added("y"));
    assert_eq!(writes(&fx)[0].0, "p_2");
    let fx = bus.publish(group_added("z"));
    assert!(writes(&fx).is_empty());
}

#[test]
fn protocol_violations_lead_to_unknown() {
    // (setup output, violating output, extra expected log)
    type Case<'a> = (&'a [u8], &'a [u8], Option<(Level, &'a str)>);
    let unknown_warn = "l: has entered the UNKNOWN state and will no longer receive events, this \
                        usually indicates the process violated the eventlistener protocol";
    let cases: &[Case] = &[
        (b"", b"HELLO!\n", None),
        (b"", b"READY\nREADY\n", None),
        (b"READY\n", b"junk", None),
        (
            b"READY\n",
            b"RESULT x\nOK",
            Some((Level::Warn, "l: bad result line: 'RESULT x'")),
        ),
    ];
    for (setup, bad, extra) in cases {
        let mut bus = EventBus::new("s");
        bus.add_pool(pool("l", 10, &["EVENT"], &["l"]));
        bus.listener_spawned("l", "l");
        bus.listener_output("l", "l", setup);
        if extra.is_some() {
            bus.publish(group_added("a"));
            let sent = bus.listener_running("l", "l", true);
            assert_eq!(writes(&sent).len(), 1);
        }
        let fx = bus.listener_output("l", "l", bad);
        assert_eq!(
            bus.listener_state("l", "l"),
            Some(ListenerState::Unknown),
            "{bad:?}"
        );
        assert!(has_log(&fx, Level::Warn, unknown_warn), "{bad:?}");
        if let Some((level, text)) = extra {
            assert!(has_log(&fx, *level, text), "{:?}", logs(&fx));
            assert_eq!(bus.pool("l").unwrap().buffered(), 1, "event re-queued");
        }
        // no more events, even READY is ignored
        bus.listener_running("l", "l", true);
        assert!(writes(&bus.listener_output("l", "l", b"READY\n")).is_empty());
        assert!(writes(&bus.publish(group_added("b"))).is_empty());
    }
}

#[test]
fn write_failure_requeues_and_skips_the_listener() {
    let mut bus = EventBus::new("s");
    bus.add_pool(pool("p", 10, &["EVENT"], &["a", "b"]));
    for n in ["a", "b"] {
        bus.listener_spawned("p", n);
        bus.listener_running("p", n, true);
    }
    bus.listener_output("p", "a", b"READY\n");
    let fx = bus.publish(group_added("x"));
    assert_eq!(writes(&fx)[0].0, "a");
    let fx = bus.write_failed("p", "a");
    assert!(has_log(
        &fx,
        Level::Debug,
        "epipe occurred while sending event 0 to listener a, listener state unchanged"
    ));
    assert!(writes(&fx).is_empty());
    let fx = bus.listener_output("p", "b", b"READY\n");
    assert_eq!(writes(&fx)[0].0, "b");
}

#[test]
fn removed_pool_stops_receiving() {
    let mut bus = running_bus(10);
    assert!(bus.remove_pool("l").is_some());
    assert!(bus.publish(group_added("a")).is_empty());
    assert!(bus.listener_output("l", "l", b"READY\n").is_empty());
}

// ---- reference checks against supervisor 4.3.0 -----------------------------------------------------

const PY_SCRIPT: &str = r#"
import json, sys
from supervisor import events
from supervisor.process import EventListenerPool
from supervisor.states import ProcessStates as S

class Cfg:
    def __init__(self, name): self.name = name
class Grp:
    def __init__(self, name): self.config = Cfg(name)
class Proc:
    def __init__(self, pid, backoff=0):
        self.config = Cfg('cat'); self.group = Grp('grp'); self.pid = pid; self.backoff = backoff
class Opts: identifier = 'supervisor'
class PoolSelf:
    class config:
        name = 'listener'
        options = Opts()

ev = [
    events.ProcessStateStoppedEvent(Proc(7), S.STOPPING),
    events.ProcessStateStartingEvent(Proc(0, 2), S.BACKOFF),
    events.ProcessStateRunningEvent(Proc(123), S.STARTING),
    events.ProcessStateBackoffEvent(Proc(0, 1), S.STARTING),
    events.ProcessStateStoppingEvent(Proc(9), S.RUNNING),
    events.ProcessStateExitedEvent(Proc(10), S.RUNNING, expected=False),
    events.ProcessStateExitedEvent(Proc(11), S.RUNNING, expected=True),
    events.ProcessStateFatalEvent(Proc(0), S.BACKOFF),
    events.ProcessStateUnknownEvent(Proc(0), S.RUNNING),
    events.ProcessLogStdoutEvent(Proc(42), 42, b'hello\n'),
    events.ProcessLogStderrEvent(Proc(42), 42, 'héllo wörld'.encode()),
    events.ProcessLogStdoutEvent(Proc(42), 42, b"bad \xff\xfe 'q'\n"),
    events.ProcessCommunicationStdoutEvent(Proc(42), 42, b'<x>data</x>'),
    events.ProcessCommunicationStderrEvent(Proc(42), 42, b'\x80'),
    events.RemoteCommunicationEvent('mytype', 'some data\nmore'),
    events.SupervisorRunningEvent(),
    events.SupervisorStoppingEvent(),
    events.ProcessGroupAddedEvent('grp'),
    events.ProcessGroupRemovedEvent('grp'),
    events.Tick5Event(1795688980, None),
    events.Tick60Event(1795688940, None),
    events.Tick3600Event(1795687200, None),
]
out = []
for i, e in enumerate(ev):
    out.append(EventListenerPool._eventEnvelope(PoolSelf, type(e), i + 100, i, e.payload()))
json.dump(out, sys.stdout)
"#;

fn python() -> std::path::PathBuf {
    procd_testkit::bins::reference_python()
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn envelopes_match_supervisor_byte_for_byte() {
    let py = python();
    let out = Command::new(&py)
        .arg("-c")
        .arg(PY_SCRIPT)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "reference check needs supervisor's python at {}: {e}",
                py.display()
            )
        });
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want: Vec<String> = serde_json::from_slice(&out.stdout).expect("python printed JSON");
    let samples = super::types::tests::samples();
    assert_eq!(want.len(), samples.len());
    for (i, (event, want)) in samples.iter().zip(want).enumerate() {
        let serials = Serials {
            serial: i as u64 + 100,
            pool_serial: i as u64,
        };
        assert_eq!(
            envelope("supervisor", "listener", serials, event),
            want,
            "{}",
            event.name()
        );
    }
}
