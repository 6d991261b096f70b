//! read/tail offsets over XML-RPC, clearing logs, and SIGUSR2 reopening child logs.

use procd_protocol::Value;

use super::{DEADLINE, contains, fault_code, int, read, s, start, wait_file};

fn tail(fx: &super::common::Fixture, name: &str, offset: i32, length: i32) -> (String, i32, bool) {
    let v = fx
        .rpc(
            "supervisor.tailProcessStdoutLog",
            vec![s(name), int(offset), int(length)],
        )
        .expect("tail");
    let a = v.as_array().expect("array");
    (
        a[0].as_str().unwrap_or_default().to_owned(),
        a[1].as_int().unwrap_or(-1),
        a[2].as_bool().unwrap_or(false),
    )
}

#[test]
fn read_and_tail_offsets_match_supervisord() {
    let (fx, _d) = start(&super::program(
        "d",
        "sh -c 'printf 0123456789; exec sleep 1000'",
        "stdout_logfile=%(here)s/d.log",
    ));
    wait_file(&fx.path("d.log"), "digits", |d| d.len() == 10);
    let read_log = |o: i32, l: i32| {
        fx.rpc(
            "supervisor.readProcessStdoutLog",
            vec![s("d"), int(o), int(l)],
        )
    };
    let table: [(i32, i32, &str); 7] = [
        (0, 0, "0123456789"),
        (2, 3, "234"),
        (7, 100, "789"),
        (-3, 0, "789"),
        (-100, 0, "0123456789"),
        (10, 0, ""),
        (50, 5, ""),
    ];
    for (o, l, want) in table {
        assert_eq!(
            read_log(o, l).expect("read").as_str(),
            Some(want),
            "read({o}, {l})"
        );
    }
    assert_eq!(
        fx.rpc("supervisor.readProcessLog", vec![s("d"), int(-3), int(0)])
            .expect("alias")
            .as_str(),
        Some("789")
    );
    for (o, l) in [(-1, 1), (0, -1), (-2, -2)] {
        assert_eq!(
            fault_code(read_log(o, l)),
            3,
            "BAD_ARGUMENTS for ({o}, {l})"
        );
    }
    assert_eq!(fault_code(read_log_name(&fx, "nope")), 10, "BAD_NAME");
    assert_eq!(tail(&fx, "d", 0, 3), ("789".into(), 10, true));
    assert_eq!(tail(&fx, "d", 0, 100), ("0123456789".into(), 10, false));
    assert_eq!(tail(&fx, "d", 8, 1), ("9".into(), 10, true));
    assert_eq!(tail(&fx, "d", 10, 100), (String::new(), 10, false));
    assert_eq!(tail(&fx, "d", 99, 5), (String::new(), 10, false));
}

fn read_log_name(fx: &super::common::Fixture, name: &str) -> Result<Value, procd_protocol::Fault> {
    fx.rpc(
        "supervisor.readProcessStdoutLog",
        vec![s(name), int(0), int(0)],
    )
}

#[test]
fn clear_truncates_and_sigusr2_reopens() {
    let ticker =
        "sh -c 'i=0; while :; do i=$((i+1)); echo tick-$i; echo tock-$i >&2; sleep 0.02; done'";
    let (fx, d) = start(&format!(
        "{}{}",
        super::program(
            "a",
            ticker,
            "stdout_logfile=%(here)s/a.log\nstderr_logfile=%(here)s/a.err",
        ),
        super::program(
            "b",
            ticker,
            "stdout_logfile=%(here)s/b.log\nstderr_logfile=NONE"
        ),
    ));
    for f in ["a.log", "a.err", "b.log"] {
        wait_file(&fx.path(f), f, |d| d.len() > 200);
    }
    assert_eq!(
        fx.rpc("supervisor.clearProcessLogs", vec![s("a")])
            .expect("clear"),
        Value::Bool(true)
    );
    // Just cleared: far smaller than before, and then it grows again with new ticks.
    assert!(read(&fx.path("a.log")).len() < 200);
    assert!(read(&fx.path("a.err")).len() < 200);
    wait_file(&fx.path("a.log"), "a.log grows after clear", |d| {
        contains(d, b"tick-")
    });
    let all = fx
        .rpc("supervisor.clearAllProcessLogs", vec![])
        .expect("clear all");
    let results = all.as_array().expect("array");
    assert_eq!(results.len(), 2);
    for r in results {
        assert_eq!(r.get("status").and_then(Value::as_int), Some(80), "{r:?}");
        assert_eq!(r.get("description").and_then(Value::as_str), Some("OK"));
    }
    assert!(read(&fx.path("b.log")).len() < 200);
    assert_eq!(
        fault_code(fx.rpc("supervisor.clearProcessLogs", vec![s("nope")])),
        10,
        "BAD_NAME"
    );

    // External rotation: move the file away, then SIGUSR2.
    let moved = fx.path("a.log.moved");
    std::fs::rename(fx.path("a.log"), &moved).expect("mv");
    let size = wait_file(&moved, "the old file still receives output", |d| {
        contains(d, b"tick-")
    })
    .len();
    d.signal(nix::sys::signal::SIGUSR2);
    let fresh = wait_file(&fx.path("a.log"), "a new a.log with new output", |d| {
        contains(d, b"tick-")
    });
    let old = read(&moved);
    assert!(old.len() >= size);
    // Nothing written twice: the last tick in the old file precedes the first in the new one.
    let last_old = last_tick(&old);
    let first_new = first_tick(&fresh);
    assert!(
        last_old < first_new,
        "old ends at {last_old}, new starts at {first_new}"
    );
}

fn ticks(data: &[u8]) -> Vec<u64> {
    String::from_utf8_lossy(data)
        .lines()
        .filter_map(|l| l.strip_prefix("tick-").and_then(|n| n.parse().ok()))
        .collect()
}

fn last_tick(data: &[u8]) -> u64 {
    ticks(data).last().copied().unwrap_or(0)
}

fn first_tick(data: &[u8]) -> u64 {
    ticks(data).first().copied().unwrap_or(u64::MAX)
}

#[test]
fn tail_of_a_missing_file_is_empty_and_read_faults() {
    let (fx, _d) = start(&super::program(
        "m",
        "sleep 1000",
        "stdout_logfile=%(here)s/m.log",
    ));
    fx.wait_state("m", "RUNNING", DEADLINE);
    std::fs::remove_file(fx.path("m.log")).expect("rm");
    assert_eq!(tail(&fx, "m", 0, 100), (String::new(), 0, false));
    assert_eq!(fault_code(read_log_name(&fx, "m")), 20, "NO_FILE");
}
