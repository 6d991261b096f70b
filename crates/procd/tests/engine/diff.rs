//! Differential tests: the same config under the reference supervisord 4.3.0 and under procd, comparing
//! the ordered lifecycle lines of the main log per process (timestamps dropped, pids masked), the state
//! sequences seen by polling `getAllProcessInfo`, and the spawn and shutdown order.
//!
//! Known deliberate differences do not matter here: procd spawns at once (supervisord waits ~1 s) and
//! promotes/respawns without waiting for a 1 s tick, so only orders are compared, never timing.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal as Sig;
use procd_protocol::Value;

use crate::common::{Fixture, PROCD, str_field, supervisord, wait_until};

const LONG: Duration = Duration::from_secs(30);

/// Replaces every number that follows `pid ` or `(` (pids in lifecycle lines) with `N`.
fn mask_pids(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(pos) = rest.find(|c: char| c.is_ascii_digit()) {
        let (head, tail) = rest.split_at(pos);
        out.push_str(head);
        let len = tail
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(tail.len());
        let masked =
            head.ends_with("pid ") || (head.ends_with('(') && tail[len..].starts_with(')'));
        out.push_str(if masked { "N" } else { &tail[..len] });
        rest = &tail[len..];
    }
    out.push_str(rest);
    out
}

/// The process a lifecycle line is about, if it is one.
fn subject(msg: &str) -> Option<String> {
    let after = |prefix: &str, end: &str| {
        msg.strip_prefix(prefix)
            .and_then(|r| r.split_once(end))
            .map(|(n, _)| n.to_owned())
    };
    after("spawned: '", "'")
        .or_else(|| after("success: ", " "))
        .or_else(|| after("exited: ", " "))
        .or_else(|| after("gave up: ", " "))
        .or_else(|| after("stopped: ", " "))
        .or_else(|| after("killing '", "'"))
        .or_else(|| after("killing ", " "))
}

/// Lifecycle lines per process, in order, as `LEVL message` with pids masked.
fn lifecycle(f: &Fixture) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (level, msg) in f.log() {
        if let Some(name) = subject(&msg) {
            map.entry(name)
                .or_default()
                .push(format!("{level} {}", mask_pids(&msg)));
        }
    }
    map
}

/// Polls `getAllProcessInfo` every 10 ms until `done` says stop; returns the collapsed state sequence
/// per namespec.
fn poll_states(
    f: &Fixture,
    until: Duration,
    done: impl Fn(&[Value]) -> bool,
) -> BTreeMap<String, Vec<String>> {
    let mut seqs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let start = Instant::now();
    loop {
        let all = f
            .rpc("supervisor.getAllProcessInfo", vec![])
            .expect("getAllProcessInfo");
        let all = all.as_array().unwrap_or_default().to_vec();
        for info in &all {
            let key = format!("{}:{}", str_field(info, "group"), str_field(info, "name"));
            let seq = seqs.entry(key).or_default();
            let state = str_field(info, "statename");
            if seq.last() != Some(&state) {
                seq.push(state);
            }
        }
        if done(&all) {
            return seqs;
        }
        assert!(start.elapsed() < until, "states did not settle: {seqs:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

const MIX: &str = "\
[program:steady]
command=sleep 1000
startsecs=1

[program:oneshot]
command=sh -c 'sleep 1.5; exit 0'
startsecs=1
autorestart=false

[program:doomed]
command=sh -c 'sleep 0.2; exit 1'
startsecs=1
startretries=1

[program:pool]
command=sleep 1000
numprocs=2
process_name=%(program_name)s_%(process_num)d
startsecs=0

; flaky sleeps before crashing: a child that dies within supervisord's first loop iteration is reaped
; before the iteration that would promote it (no `success:` line), a timing accident not worth copying.
[program:flaky]
command=sh -c 'n=$(cat COUNTER 2>/dev/null || echo 0); echo $((n+1)) > COUNTER; test $n -ge 2 && exec sleep 1000; sleep 0.3; exit 7'
startsecs=0
";

struct Run {
    lines: BTreeMap<String, Vec<String>>,
    states: BTreeMap<String, Vec<String>>,
}

fn run_mix(f: &Fixture, bin: &Path) -> Run {
    let counter = f.path("counter");
    let _ = std::fs::remove_file(&counter);
    let _ = std::fs::remove_file(f.main_log());
    f.write_conf("", &MIX.replace("COUNTER", &counter.display().to_string()));
    let mut d = f.start_with(bin, &["-n"]);
    let settled = |all: &[Value]| {
        let st = |name: &str| {
            all.iter()
                .find(|i| str_field(i, "name") == name)
                .map(|i| str_field(i, "statename"))
                .unwrap_or_default()
        };
        st("steady") == "RUNNING"
            && st("oneshot") == "EXITED"
            && st("doomed") == "FATAL"
            && st("pool_0") == "RUNNING"
            && st("pool_1") == "RUNNING"
            && st("flaky") == "RUNNING"
    };
    let states = poll_states(f, LONG, settled);
    d.signal(Sig::SIGTERM);
    d.wait_exit(LONG);
    Run {
        lines: lifecycle(f),
        states,
    }
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn lifecycle_matches_supervisord() {
    let reference = supervisord();
    let f = Fixture::new();
    let theirs = run_mix(&f, &reference);
    let ours = run_mix(&f, Path::new(PROCD));
    assert_eq!(
        ours.lines, theirs.lines,
        "main-log lifecycle lines per process"
    );
    // Only states that last long enough to be seen by any poller are compared.
    for key in [
        "steady:steady",
        "oneshot:oneshot",
        "pool:pool_0",
        "pool:pool_1",
    ] {
        assert_eq!(
            ours.states.get(key),
            theirs.states.get(key),
            "states of {key}"
        );
    }
    assert_eq!(
        ours.states.get("steady:steady").map(Vec::len),
        Some(2),
        "STARTING, RUNNING"
    );
}

const ORDER: &str = "\
[program:late]
command=sleep 1000
startsecs=0
priority=900

[program:early]
command=sleep 1000
startsecs=0
priority=10

[program:w]
command=sleep 1000
startsecs=0
numprocs=3
numprocs_start=5
process_name=w_%(process_num)02d
priority=500

[program:a]
command=sleep 1000
startsecs=0
priority=2

[program:b]
command=sleep 1000
startsecs=0
priority=1

[group:g]
programs=a,b
priority=300
";

/// Spawn order and shutdown order (`killing` lines, and every group stopped before the next one is
/// signalled), plus the process listing.
fn run_order(f: &Fixture, bin: &Path) -> (Vec<String>, Vec<String>, Vec<String>) {
    let _ = std::fs::remove_file(f.main_log());
    f.write_conf("", ORDER);
    let mut d = f.start_with(bin, &["-n"]);
    let names = ["late", "early", "w:w_05", "w:w_06", "w:w_07", "g:a", "g:b"];
    wait_until(LONG, "all running", || {
        names.iter().all(|n| f.state(n) == "RUNNING").then_some(())
    });
    let listing = f.rpc("supervisor.getAllProcessInfo", vec![]).expect("list");
    let listing = listing
        .as_array()
        .unwrap_or_default()
        .iter()
        .map(|i| format!("{}:{}", str_field(i, "group"), str_field(i, "name")))
        .collect();
    d.signal(Sig::SIGTERM);
    d.wait_exit(LONG);
    let log = f.log();
    let spawned = log
        .iter()
        .filter(|(_, m)| m.starts_with("spawned:"))
        .filter_map(|(_, m)| subject(m))
        .collect();
    // Shutdown events: `kill <name>` and `stop <name>`; checked for group-at-a-time below.
    let shutdown = log
        .iter()
        .filter_map(|(_, m)| {
            let name = subject(m)?;
            if m.starts_with("killing ") {
                Some(format!("kill {name}"))
            } else if m.starts_with("stopped: ") {
                Some(format!("stop {name}"))
            } else {
                None
            }
        })
        .collect();
    (spawned, shutdown, listing)
}

/// Reduces a shutdown event list to the group order, checking that each group's processes are all
/// stopped before the next group's first kill.
fn group_order(events: &[String]) -> Vec<String> {
    let group_of = |name: &str| match name {
        "a" | "b" => "g".to_owned(),
        n if n.starts_with("w_") => "w".to_owned(),
        n => n.to_owned(),
    };
    let mut order: Vec<String> = Vec::new();
    let mut open: Vec<String> = Vec::new();
    for e in events {
        let (kind, name) = e.split_once(' ').unwrap_or_default();
        let g = group_of(name);
        if kind == "kill" {
            if order.last() != Some(&g) {
                assert!(
                    open.is_empty(),
                    "{g} signalled while {open:?} still running: {events:?}"
                );
                order.push(g);
            }
            open.push(name.to_owned());
        } else {
            open.retain(|n| n != name);
        }
    }
    order
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn spawn_and_shutdown_order_match_supervisord() {
    let f = Fixture::new();
    let (spawned, shutdown, listing) = run_order(&f, Path::new(PROCD));
    // Groups by ascending priority; a [group:x] keeps its `programs=` order.
    assert_eq!(
        spawned,
        ["early", "a", "b", "w_05", "w_06", "w_07", "late"],
        "ascending priority"
    );
    let groups = group_order(&shutdown);
    assert_eq!(
        groups,
        ["late", "w", "g", "early"],
        "descending group priority, one at a time"
    );
    {
        let reference = supervisord();
        let (s2, sh2, l2) = run_order(&f, &reference);
        assert_eq!(spawned, s2, "spawn order");
        assert_eq!(group_order(&sh2), groups, "shutdown group order");
        assert_eq!(listing, l2, "getAllProcessInfo order");
        let kills = |v: &[String]| {
            v.iter()
                .filter(|e| e.starts_with("kill"))
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(kills(&shutdown), kills(&sh2), "kill order");
    }
}

#[test]
fn pid_masking() {
    assert_eq!(
        mask_pids("spawned: 'x' with pid 123"),
        "spawned: 'x' with pid N"
    );
    assert_eq!(
        mask_pids("killing 'x' (123) with SIGKILL"),
        "killing 'x' (N) with SIGKILL"
    );
    assert_eq!(
        mask_pids("exited: x (exit status 1; not expected)"),
        "exited: x (exit status 1; not expected)"
    );
    assert_eq!(
        mask_pids("killing x (pid 77) with signal SIGTERM"),
        "killing x (pid N) with signal SIGTERM"
    );
}

/// The DEBG lines that copy child output into the main log, under `loglevel=debug`.
fn output_lines(f: &Fixture, bin: &Path) -> Vec<String> {
    f.write_conf(
        "",
        "[program:bin]\ncommand=/bin/sh -c \"printf '\\210\\n'; printf 'fine\\n' >&2; exec sleep 1000\"\n\
         startsecs=0\n",
    );
    let _ = std::fs::remove_file(f.main_log());
    let mut d = f.start_with(bin, &["-n"]);
    let want = 2;
    let lines = wait_until(LONG, "both output lines in the main log", || {
        let lines: Vec<String> = f
            .log()
            .into_iter()
            .filter(|(level, msg)| level == "DEBG" && msg.contains(" output:\n"))
            .map(|(_, msg)| msg)
            .collect();
        (lines.len() >= want).then_some(lines)
    });
    d.signal(Sig::SIGTERM);
    let _ = d.wait_exit(LONG);
    let mut lines = lines;
    lines.sort();
    lines
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn undecodable_output_is_logged_like_supervisord() {
    let f = Fixture::new();
    let theirs = output_lines(&f, &supervisord());
    let ours = output_lines(&f, Path::new(PROCD));
    assert_eq!(
        theirs,
        [
            "'bin' stderr output:\nfine\n",
            "'bin' stdout output:\nUndecodable: b'\\x88\\n'"
        ],
        "the reference's lines"
    );
    assert_eq!(ours, theirs);
}
