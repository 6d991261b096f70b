//! `sendProcessStdin` and children that misbehave with their pipes: procd stays responsive.

use std::time::{Duration, Instant};

use super::common::wait_until;
use super::{DEADLINE, fault_code, s, start, wait_file};

#[test]
fn stdin_reaches_cat_and_faults_follow_supervisord() {
    let (fx, _d) = start(&format!(
        "{}{}{}",
        super::program("cat", "cat", "stdout_logfile=%(here)s/cat.log"),
        super::program("idle", "cat", "autostart=false"),
        super::program("closer", "sh -c 'exec 0<&-; exec sleep 1000'", ""),
    ));
    fx.wait_state("cat", "RUNNING", DEADLINE);
    for line in ["hello\n", "wörld\n"] {
        fx.rpc("supervisor.sendProcessStdin", vec![s("cat"), s(line)])
            .expect("send");
    }
    wait_file(&fx.path("cat.log"), "echo", |d| {
        d == "hello\nwörld\n".as_bytes()
    });
    assert_eq!(
        fault_code(fx.rpc("supervisor.sendProcessStdin", vec![s("idle"), s("x")])),
        70,
        "NOT_RUNNING"
    );
    assert_eq!(
        fault_code(fx.rpc("supervisor.sendProcessStdin", vec![s("nope"), s("x")])),
        10,
        "BAD_NAME"
    );
    fx.wait_state("closer", "RUNNING", DEADLINE);
    // The first writes may be queued before the broken pipe is noticed; then NO_FILE.
    wait_until(DEADLINE, "NO_FILE once stdin is closed", || {
        match fx.rpc(
            "supervisor.sendProcessStdin",
            vec![s("closer"), s("data\n")],
        ) {
            Err(f) if f.code == 20 => Some(()),
            Err(f) => panic!("unexpected fault {f:?}"),
            Ok(_) => None,
        }
    });
    assert_eq!(fx.state("closer"), "RUNNING");
}

#[test]
fn children_that_ignore_their_pipes_do_not_stall_procd() {
    let (fx, _d) = start(&format!(
        "{}{}{}",
        super::program("deaf", "sleep 1000", ""),
        super::program("mute", "sh -c 'exec 1>&- 2>&-; exec sleep 1000'", ""),
        super::program(
            "live",
            "sh -c 'i=0; while :; do i=$((i+1)); echo live-$i; sleep 0.02; done'",
            "stdout_logfile=%(here)s/live.log",
        ),
    ));
    fx.wait_state("deaf", "RUNNING", DEADLINE);
    fx.wait_state("mute", "RUNNING", DEADLINE);
    // 200 x 64 KiB: far more than a pipe holds, to a child that never reads.
    let chunk = "z".repeat(64 * 1024);
    let started = Instant::now();
    for _ in 0..200 {
        fx.rpc("supervisor.sendProcessStdin", vec![s("deaf"), s(&chunk)])
            .expect("queued");
        let t = Instant::now();
        fx.rpc("supervisor.getState", vec![]).expect("getState");
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "getState answered promptly"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(60));
    let before = super::read(&fx.path("live.log")).len();
    wait_file(&fx.path("live.log"), "other programs keep logging", |d| {
        d.len() > before + 20
    });
    for name in ["deaf", "mute", "live"] {
        assert_eq!(fx.state(name), "RUNNING", "{name}");
    }
}
