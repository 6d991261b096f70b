//! Differential test: the same config and the same actions under supervisord 4.3.0 and under procd,
//! with a listener recording every envelope. Compared: per process, the ordered event names with
//! their payload keys and the values that do not depend on pids or timing; the ordered non-process
//! events; header keys; serials counting from 0 without gaps. Ticks are not subscribed (their timing
//! differs) and events after SUPERVISOR_STATE_CHANGE_STOPPING are dropped (the listener is being
//! stopped, so what it still records is a race). `doomed` has a long startsecs: supervisord promotes a
//! process before reaping it in the same loop iteration, so on a loaded machine a 0.1 s crash could
//! otherwise show up as RUNNING/EXITED there.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use procd_protocol::Value;

use crate::common::{Fixture, PROCD, supervisord};
use crate::support::{Rec, python, read_recs, wait_rec, write_recorder};

const LONG: Duration = Duration::from_secs(30);

struct Seen {
    per_process: BTreeMap<String, Vec<String>>,
    others: Vec<String>,
    logged: BTreeMap<String, String>,
    header_keys: Vec<String>,
    serials: Vec<u64>,
}

/// An event with pids masked: name, then `key:value` tokens (pid values replaced by `N`).
fn masked(r: &Rec) -> String {
    let mut out = r.name().to_owned();
    for (k, v) in r.tokens() {
        let v = if k == "pid" { "N".to_owned() } else { v };
        out.push_str(&format!(" {k}:{v}"));
    }
    out
}

fn run(bin: &Path, py: &str) -> Seen {
    let f = Fixture::new();
    let rec = write_recorder(&f);
    let out = f.path("events.jsonl");
    f.write_conf(
        "",
        &format!(
            "[eventlistener:rec]\ncommand={py} -u {} {}\nbuffer_size=100\n\
             events=PROCESS_STATE,PROCESS_GROUP,SUPERVISOR_STATE_CHANGE,REMOTE_COMMUNICATION,PROCESS_LOG,PROCESS_COMMUNICATION\n\n\
             [program:steady]\ncommand=sleep 1000\nstartsecs=1\n\n\
             [program:quick]\ncommand=sh -c 'sleep 1.5; exit 0'\nstartsecs=1\nautorestart=false\n\n\
             [program:doomed]\ncommand=sh -c 'sleep 0.1; exit 3'\nstartsecs=3\nstartretries=1\n\n\
             [program:talk]\ncommand=sh -c 'echo héllo; echo oops >&2; exec sleep 1000'\nstartsecs=0\n\
             stdout_events_enabled=true\nstderr_events_enabled=true\n",
            rec.display(),
            out.display()
        ),
    );
    let mut d = f.start_with(bin, &["-n"]);
    let has = |name: &'static str, process: &'static str| {
        move |r: &Rec| r.name() == name && r.token("processname").as_deref() == Some(process)
    };
    wait_rec(
        &out,
        LONG,
        "doomed FATAL",
        has("PROCESS_STATE_FATAL", "doomed"),
    );
    wait_rec(
        &out,
        LONG,
        "quick EXITED",
        has("PROCESS_STATE_EXITED", "quick"),
    );
    wait_rec(
        &out,
        LONG,
        "steady RUNNING",
        has("PROCESS_STATE_RUNNING", "steady"),
    );
    wait_rec(&out, LONG, "talk stderr", |r| {
        r.name() == "PROCESS_LOG_STDERR"
    });
    f.rpc(
        "supervisor.sendRemoteCommEvent",
        vec![Value::String("kind".into()), Value::String("dätä".into())],
    )
    .expect("sendRemoteCommEvent");
    f.rpc(
        "supervisor.stopProcess",
        vec![Value::String("steady".into())],
    )
    .expect("stopProcess");
    wait_rec(
        &out,
        LONG,
        "steady STOPPED",
        has("PROCESS_STATE_STOPPED", "steady"),
    );
    d.signal(nix::sys::signal::Signal::SIGTERM);
    d.wait_exit(LONG);

    let recs = read_recs(&out);
    let end = recs
        .iter()
        .position(|r| r.name() == "SUPERVISOR_STATE_CHANGE_STOPPING")
        .map_or(recs.len(), |i| i + 1);
    let recs = &recs[..end];
    let mut seen = Seen {
        per_process: BTreeMap::new(),
        others: Vec::new(),
        logged: BTreeMap::new(),
        header_keys: Vec::new(),
        serials: recs
            .iter()
            .map(|r| r.header("serial").parse().unwrap_or(u64::MAX))
            .collect(),
    };
    if let Some(obj) = recs.first().and_then(|r| r.headers.as_object()) {
        seen.header_keys = obj.keys().cloned().collect();
    }
    for r in recs {
        if r.name().starts_with("PROCESS_LOG") {
            let key = format!(
                "{} {}",
                masked(r),
                r.token("processname").unwrap_or_default()
            );
            seen.logged.entry(key).or_default().push_str(r.data());
        } else if let Some(p) = r.token("processname") {
            seen.per_process.entry(p).or_default().push(masked(r));
        } else {
            seen.others.push(format!("{} {:?}", r.name(), r.payload));
        }
    }
    seen
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn recorded_events_match_supervisord() {
    let py = python();
    let reference = supervisord();
    let ours = run(Path::new(PROCD), &py);
    let theirs = run(&reference, &py);
    assert_eq!(ours.per_process, theirs.per_process, "per-process events");
    assert_eq!(ours.others, theirs.others, "other events");
    assert_eq!(ours.logged, theirs.logged, "PROCESS_LOG data");
    assert_eq!(ours.header_keys, theirs.header_keys, "header keys");
    for s in [&ours.serials, &theirs.serials] {
        assert!(
            s.iter().enumerate().all(|(i, n)| *n == i as u64),
            "serials {s:?}"
        );
    }
    // The comparison covers something: every kind of event was seen.
    assert!(
        ours.per_process["doomed"]
            .iter()
            .any(|e| e.starts_with("PROCESS_STATE_FATAL"))
    );
    assert!(
        ours.others
            .iter()
            .any(|e| e.starts_with("REMOTE_COMMUNICATION"))
    );
    assert_eq!(ours.logged.len(), 2);
}
