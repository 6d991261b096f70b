//! A childutils listener under procd: every event type with its payload keys, capture mode, non-ASCII
//! lengths, XML-RPC callbacks, and the protocol's failure paths (overflow, FAIL, garbage, death while
//! BUSY).

use std::time::Duration;

use procd_protocol::Value;

use crate::common::{Fixture, wait_until};
use crate::support::{Rec, python, read_recs, wait_rec, write_recorder};

const LONG: Duration = Duration::from_secs(20);

const EMIT: &str = r#"
import sys, time
from supervisor import childutils
sys.stdout.write('héllo wörld\n'); sys.stdout.flush()
sys.stderr.write('ërr ✓\n'); sys.stderr.flush()
# pcomm.stdout() writes bytes tokens to a text stream on Python 3; send() to the binary stream works.
childutils.pcomm.send('captüred\nline2'.encode(), sys.stdout.buffer)
sys.stdout.flush()
time.sleep(1000)
"#;

fn keys(r: &Rec) -> Vec<String> {
    r.tokens().into_iter().map(|(k, _)| k).collect()
}

fn find<'a>(recs: &'a [Rec], name: &str, process: &str) -> Vec<&'a Rec> {
    recs.iter()
        .filter(|r| r.name() == name && r.token("processname").as_deref() == Some(process))
        .collect()
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn childutils_listener_sees_every_event_type() {
    let py = python();
    let f = Fixture::new();
    let rec = write_recorder(&f);
    let out = f.path("events.jsonl");
    std::fs::write(f.path("emit.py"), EMIT).expect("emit.py");
    let programs = format!(
        "[eventlistener:rec]\ncommand={py} -u {rec} {out} rpc\nevents=EVENT\nbuffer_size=200\n\n\
         [program:emit]\ncommand={py} -u {emit}\nstartsecs=0\nstdout_events_enabled=true\n\
         stderr_events_enabled=true\nstdout_capture_maxbytes=1MB\n\n\
         [program:quick]\ncommand=sh -c 'sleep 1.2; exit 0'\nstartsecs=1\nautorestart=false\n\n\
         [program:bad]\ncommand=sh -c 'exit 3'\nstartsecs=1\nstartretries=1\n",
        rec = rec.display(),
        out = out.display(),
        emit = f.path("emit.py").display()
    );
    f.write_conf("", &programs);
    let mut d = f.start();

    let recs = wait_rec(&out, LONG, "FATAL of bad and EXITED of quick", |r| {
        r.name() == "PROCESS_STATE_FATAL"
    });
    let _ = recs;
    let recs = wait_rec(&out, LONG, "EXITED of quick", |r| {
        r.name() == "PROCESS_STATE_EXITED" && r.token("processname").as_deref() == Some("quick")
    });

    // Startup: the supervisor and every group, received although the listener was not running yet.
    assert!(
        recs.iter()
            .any(|r| r.name() == "SUPERVISOR_STATE_CHANGE_RUNNING" && r.payload.is_empty())
    );
    for g in ["rec", "emit", "quick", "bad"] {
        assert!(
            recs.iter()
                .any(|r| r.name() == "PROCESS_GROUP_ADDED"
                    && r.payload == format!("groupname:{g}\n")),
            "PROCESS_GROUP_ADDED {g}"
        );
    }
    // STARTING (from_state, tries), RUNNING (pid), BACKOFF (tries), FATAL.
    let starting = find(&recs, "PROCESS_STATE_STARTING", "bad");
    assert_eq!(starting.len(), 2, "bad starts twice");
    assert_eq!(
        keys(starting[0]),
        ["processname", "groupname", "from_state", "tries"]
    );
    assert_eq!(starting[0].token("from_state").as_deref(), Some("STOPPED"));
    assert_eq!(starting[0].token("tries").as_deref(), Some("0"));
    assert_eq!(starting[1].token("from_state").as_deref(), Some("BACKOFF"));
    assert_eq!(starting[1].token("tries").as_deref(), Some("1"));
    let backoff = find(&recs, "PROCESS_STATE_BACKOFF", "bad");
    assert_eq!(backoff.len(), 2);
    assert_eq!(
        keys(backoff[1]),
        ["processname", "groupname", "from_state", "tries"]
    );
    assert_eq!(backoff[1].token("tries").as_deref(), Some("2"));
    let fatal = find(&recs, "PROCESS_STATE_FATAL", "bad");
    assert_eq!(
        fatal[0].payload,
        "processname:bad groupname:bad from_state:BACKOFF"
    );
    let running = find(&recs, "PROCESS_STATE_RUNNING", "quick");
    assert_eq!(
        keys(running[0]),
        ["processname", "groupname", "from_state", "pid"]
    );
    let quick_pid = running[0].token("pid").expect("pid");
    assert!(quick_pid.parse::<i32>().is_ok_and(|p| p > 0));
    let exited = find(&recs, "PROCESS_STATE_EXITED", "quick");
    assert_eq!(
        exited[0].payload,
        format!("processname:quick groupname:quick from_state:RUNNING expected:1 pid:{quick_pid}")
    );

    // PROCESS_LOG with non-ASCII data (len counts characters: childutils reads exactly len chars,
    // so a byte count would make the next envelope unreadable).
    let recs = wait_rec(&out, LONG, "PROCESS_LOG_STDERR", |r| {
        r.name() == "PROCESS_LOG_STDERR"
    });
    let emit_pid = f.pid_of("emit").to_string();
    let stdout_log = recs
        .iter()
        .find(|r| r.name() == "PROCESS_LOG_STDOUT")
        .expect("stdout log");
    assert_eq!(
        stdout_log.payload,
        format!("processname:emit groupname:emit pid:{emit_pid} channel:stdout\nhéllo wörld\n")
    );
    assert_eq!(
        stdout_log.header("len"),
        stdout_log.payload.chars().count().to_string()
    );
    let stderr_log = recs
        .iter()
        .find(|r| r.name() == "PROCESS_LOG_STDERR")
        .expect("stderr log");
    assert_eq!(
        stderr_log.payload,
        format!("processname:emit groupname:emit pid:{emit_pid} channel:stderr\nërr ✓\n")
    );
    // Capture mode: the captured block becomes one PROCESS_COMMUNICATION_STDOUT event.
    let recs = wait_rec(&out, LONG, "PROCESS_COMMUNICATION_STDOUT", |r| {
        r.name() == "PROCESS_COMMUNICATION_STDOUT"
    });
    let comm = recs
        .iter()
        .find(|r| r.name() == "PROCESS_COMMUNICATION_STDOUT")
        .expect("comm");
    assert_eq!(
        comm.payload,
        format!("processname:emit groupname:emit pid:{emit_pid}\ncaptüred\nline2")
    );
    // As in supervisord, the captured text is also a PROCESS_LOG_STDOUT event (tokens removed).
    let logged: String = recs
        .iter()
        .filter(|r| r.name() == "PROCESS_LOG_STDOUT")
        .map(Rec::data)
        .collect();
    assert_eq!(logged, "héllo wörld\ncaptüred\nline2");

    // TICK_5 with an aligned `when`.
    let recs = wait_rec(&out, LONG, "TICK_5", |r| r.name() == "TICK_5");
    let tick = recs.iter().find(|r| r.name() == "TICK_5").expect("tick");
    let when: u64 = tick
        .token("when")
        .and_then(|w| w.parse().ok())
        .expect("when");
    assert_eq!(when % 5, 0);

    // REMOTE_COMMUNICATION, and the listener calls back over XML-RPC with SUPERVISOR_SERVER_URL.
    f.rpc(
        "supervisor.sendRemoteCommEvent",
        vec![
            Value::String("mytype".into()),
            Value::String("dätä\nmore".into()),
        ],
    )
    .expect("sendRemoteCommEvent");
    let recs = wait_rec(&out, LONG, "REMOTE_COMMUNICATION", |r| {
        r.name() == "REMOTE_COMMUNICATION"
    });
    let remote = recs
        .iter()
        .find(|r| r.name() == "REMOTE_COMMUNICATION")
        .expect("remote");
    assert_eq!(remote.payload, "type:mytype\ndätä\nmore");
    assert_eq!(
        remote.raw["env"].as_str(),
        Some(format!("unix://{}", f.sock().display()).as_str())
    );
    assert_eq!(remote.raw["rpc"]["state"].as_str(), Some("RUNNING"));
    assert_eq!(remote.raw["rpc"]["pid"].as_i64(), Some(i64::from(d.pid())));

    // STOPPING / STOPPED with the pid.
    f.rpc("supervisor.stopProcess", vec![Value::String("emit".into())])
        .expect("stop");
    let recs = wait_rec(&out, LONG, "STOPPED emit", |r| {
        r.name() == "PROCESS_STATE_STOPPED" && r.token("processname").as_deref() == Some("emit")
    });
    assert_eq!(
        find(&recs, "PROCESS_STATE_STOPPING", "emit")[0].payload,
        format!("processname:emit groupname:emit from_state:RUNNING pid:{emit_pid}")
    );
    assert_eq!(
        find(&recs, "PROCESS_STATE_STOPPED", "emit")[0].payload,
        format!("processname:emit groupname:emit from_state:STOPPING pid:{emit_pid}")
    );

    // PROCESS_GROUP_ADDED / REMOVED through the RPC.
    let conf = std::fs::read_to_string(f.path("supervisord.conf")).expect("conf");
    std::fs::write(
        f.path("supervisord.conf"),
        format!("{conf}\n[program:late]\ncommand=sleep 100\nautostart=false\n"),
    )
    .expect("conf");
    f.rpc("supervisor.reloadConfig", vec![])
        .expect("reloadConfig");
    f.rpc(
        "supervisor.addProcessGroup",
        vec![Value::String("late".into())],
    )
    .expect("add");
    f.rpc(
        "supervisor.removeProcessGroup",
        vec![Value::String("late".into())],
    )
    .expect("remove");
    let recs = wait_rec(&out, LONG, "PROCESS_GROUP_REMOVED", |r| {
        r.name() == "PROCESS_GROUP_REMOVED"
    });
    let added = recs
        .iter()
        .position(|r| r.payload == "groupname:late\n" && r.name() == "PROCESS_GROUP_ADDED");
    let removed = recs
        .iter()
        .position(|r| r.payload == "groupname:late\n" && r.name() == "PROCESS_GROUP_REMOVED");
    assert!(
        added.is_some() && added < removed,
        "added then removed: {added:?} {removed:?}"
    );

    // Serials: global serial strictly increasing, pool serial too, both from 0 for the first event.
    let serials: Vec<u64> = recs
        .iter()
        .map(|r| r.header("serial").parse().unwrap_or(u64::MAX))
        .collect();
    assert!(
        serials.windows(2).all(|w| w[0] < w[1]),
        "serials increase: {serials:?}"
    );
    assert_eq!(recs[0].header("serial"), "0");
    assert_eq!(recs[0].header("poolserial"), "0");
    assert_eq!(recs[0].header("pool"), "rec");
    assert_eq!(recs[0].header("ver"), "3.0");
    assert_eq!(recs[0].header("server"), "supervisor");

    // Shutdown: SUPERVISOR_STATE_CHANGE_STOPPING reaches the listener before it is stopped.
    d.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(d.wait_exit(LONG), Some(0));
    let recs = read_recs(&out);
    let tail: Vec<&str> = recs.iter().rev().take(3).map(Rec::name).collect();
    assert!(
        tail.contains(&"SUPERVISOR_STATE_CHANGE_STOPPING"),
        "STOPPING among the last events: {tail:?}"
    );
}

fn remote(f: &Fixture, data: &str) {
    f.rpc(
        "supervisor.sendRemoteCommEvent",
        vec![Value::String("t".into()), Value::String(data.into())],
    )
    .expect("sendRemoteCommEvent");
}

fn listener_conf(f: &Fixture, py: &str, modes: &str, extra: &str) -> std::path::PathBuf {
    let rec = write_recorder(f);
    let out = f.path("events.jsonl");
    f.write_conf(
        "",
        &format!(
            "[eventlistener:rec]\ncommand={py} -u {} {} {modes}\nevents=REMOTE_COMMUNICATION\n{extra}\n",
            rec.display(),
            out.display()
        ),
    );
    out
}

fn datas(recs: &[Rec]) -> Vec<String> {
    recs.iter().map(|r| r.data().to_owned()).collect()
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn full_buffer_discards_the_oldest_event() {
    let py = python();
    let f = Fixture::new();
    let out = listener_conf(&f, &py, "gate", "buffer_size=3");
    let _d = f.start();
    f.wait_state("rec", "RUNNING", LONG);
    for i in 0..6 {
        remote(&f, &format!("m{i}"));
    }
    for serial in 0..3 {
        f.wait_log(LONG, "overflow line", |m| {
            m == format!("pool rec event buffer overflowed, discarding event {serial}")
        });
    }
    std::fs::write(format!("{}.go", out.display()), "").expect("go");
    let recs = wait_until(LONG, "three events", || {
        let r = read_recs(&out);
        (r.len() >= 3).then_some(r)
    });
    assert_eq!(datas(&recs), ["m3", "m4", "m5"]);
    assert_eq!(recs[0].header("serial"), "3");
    let level = f
        .log()
        .into_iter()
        .find(|(_, m)| m.contains("event buffer overflowed"))
        .map(|(l, _)| l);
    assert_eq!(level.as_deref(), Some("ERRO"));
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn rejected_events_are_sent_again() {
    let py = python();
    let f = Fixture::new();
    let out = listener_conf(&f, &py, "fail1", "");
    let _d = f.start();
    f.wait_state("rec", "RUNNING", LONG);
    remote(&f, "a");
    remote(&f, "b");
    let recs = wait_until(LONG, "four deliveries", || {
        let r = read_recs(&out);
        (r.len() >= 4).then_some(r)
    });
    // Each event is re-queued at the head, so it comes again before the next one.
    assert_eq!(datas(&recs), ["a", "a", "b", "b"]);
    assert_eq!(recs[0].header("serial"), recs[1].header("serial"));
    f.wait_log(LONG, "rejected line", |m| m == "rec: event was rejected");
    assert_eq!(
        f.log()
            .iter()
            .filter(|(l, m)| l == "WARN" && m == "rec: event was rejected")
            .count(),
        2
    );
}

#[test]
fn listener_breaking_the_protocol_goes_unknown() {
    let f = Fixture::new();
    f.write_conf(
        "",
        "[eventlistener:bad]\ncommand=sh -c 'echo garbage; exec sleep 1000'\nevents=REMOTE_COMMUNICATION\n",
    );
    let _d = f.start();
    f.wait_log(LONG, "UNKNOWN warning", |m| {
        m == "bad: has entered the UNKNOWN state and will no longer receive events, this usually \
              indicates the process violated the eventlistener protocol"
    });
    assert!(
        f.log()
            .iter()
            .any(|(l, m)| l == "DEBG" && m == "bad: ACKNOWLEDGED -> UNKNOWN")
    );
    // It gets no events, and the daemon keeps working.
    f.wait_state("bad", "RUNNING", LONG);
    remote(&f, "x");
    assert!(f.log().iter().all(|(_, m)| !m.contains("sent to listener")));
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn event_of_a_listener_that_dies_while_busy_is_redelivered() {
    let py = python();
    let f = Fixture::new();
    let out = listener_conf(&f, &py, "die1", "startsecs=0");
    let _d = f.start();
    f.wait_state("rec", "RUNNING", LONG);
    remote(&f, "precious");
    let recs = wait_until(LONG, "redelivery after restart", || {
        let r = read_recs(&out);
        (r.len() >= 2).then_some(r)
    });
    assert_eq!(datas(&recs), ["precious", "precious"]);
    assert_eq!(recs[0].header("serial"), recs[1].header("serial"));
    assert!(
        f.log()
            .iter()
            .any(|(l, m)| l == "WARN" && m.starts_with("exited: rec (exit status 1"))
    );
}
