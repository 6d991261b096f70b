//! File descriptors as a budget: under a low `RLIMIT_NOFILE`, programs whose output nobody reads cost
//! procd one descriptor each (their stdin), procd raises its soft limit to what the configuration needs,
//! and a hard limit that is too low is reported at start-up with the number needed.

use std::fmt::Write as _;
use std::path::Path;

use super::common::{Fixture, PROCD, int_field, str_field, wait_until};
use super::{DEADLINE, program};
use procd_protocol::Value;

/// `procd -n` under `prlimit --nofile=SOFT:HARD`, at loglevel info (at debug every output is read).
fn start_limited(programs: &str, soft: u64, hard: u64) -> (Fixture, super::common::Daemon) {
    let fx = Fixture::new();
    let conf = fx.write_conf("minfds=100", programs);
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(&conf, text.replace("loglevel=debug", "loglevel=info")).unwrap();
    let limit = format!("--nofile={soft}:{hard}");
    let d = fx.spawn_daemon(Path::new(PROCD), &["-n"], Some(&["prlimit", &limit]));
    wait_until(DEADLINE, "the daemon's socket", || {
        fx.rpc_opt("supervisor.getPID")
    });
    (fx, d)
}

fn states(fx: &Fixture) -> Vec<(String, String)> {
    let Value::Array(all) = fx
        .rpc("supervisor.getAllProcessInfo", vec![])
        .expect("getAllProcessInfo")
    else {
        panic!("not an array")
    };
    all.iter()
        .map(|p| (str_field(p, "name"), str_field(p, "statename")))
        .collect()
}

/// The soft and hard "Max open files" of a process.
fn nofile(pid: i32) -> (u64, u64) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let nums: Vec<u64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    (nums[0], nums[1])
}

#[test]
fn unlogged_programs_all_start_under_a_low_descriptor_limit() {
    // 200 programs under a hard limit of 400: the old three descriptors per program (stdin, stdout and
    // stderr pipes) would have needed 600.
    let n = 200;
    let mut programs = String::new();
    for i in 0..n {
        programs.push_str(&program(
            &format!("p{i:03}"),
            "sleep 1000",
            "stdout_logfile=NONE\nstderr_logfile=NONE",
        ));
    }
    // One logged, captured program among them keeps its pipes.
    programs.push_str(&program(
        "talker",
        "sh -c 'echo hello; echo oops >&2; exec cat'",
        "stdout_logfile=%(here)s/talker.log\nstderr_capture_maxbytes=1KB\nstderr_logfile=NONE",
    ));
    let (fx, d) = start_limited(&programs, 100, 400);
    wait_until(DEADLINE, "every program RUNNING", || {
        let st = states(&fx);
        (st.len() == n + 1 && st.iter().all(|(_, s)| s == "RUNNING")).then_some(())
    });
    let log = std::fs::read_to_string(fx.path("main.log")).unwrap();
    assert!(!log.contains("too many open files"), "{log}");
    // procd raised its soft limit to its budget (64 + 200 + 1 + 2 + 1) ...
    let (soft, hard) = nofile(d.pid());
    assert_eq!((soft, hard), (268, 400), "{log}");
    assert!(
        log.contains("Increased RLIMIT_NOFILE limit to 268"),
        "{log}"
    );
    // ... and holds about one descriptor per unlogged program, well under the old three.
    let open = std::fs::read_dir(format!("/proc/{}/fd", d.pid()))
        .unwrap()
        .count();
    assert!(open < 2 * n, "{open} descriptors open");
    // A child keeps the soft limit it would have had under supervisord; its output is /dev/null.
    let pid = int_field(&fx.info("p000"), "pid");
    assert_eq!(nofile(pid), (100, 400));
    assert_eq!(
        std::fs::read_link(format!("/proc/{pid}/fd/1")).unwrap(),
        Path::new("/dev/null")
    );
    // The logged program still logs, captures and receives stdin.
    fx.rpc(
        "supervisor.sendProcessStdin",
        vec![
            Value::String("talker".into()),
            Value::String("again\n".into()),
        ],
    )
    .expect("sendProcessStdin");
    wait_until(DEADLINE, "talker's log", || {
        let got = std::fs::read_to_string(fx.path("talker.log")).ok()?;
        (got == "hello\nagain\n").then_some(())
    });
    let Value::Array(tail) = fx
        .rpc(
            "supervisor.tailProcessStdoutLog",
            vec![
                Value::String("talker".into()),
                Value::Int(0),
                Value::Int(100),
            ],
        )
        .expect("tail")
    else {
        panic!("tail is not an array")
    };
    assert_eq!(tail[0], Value::String("hello\nagain\n".into()));
}

#[test]
fn a_hard_limit_too_low_is_reported_with_the_number_needed() {
    // Default logs: stdin, two pipes and two log files per program, 5 * 40 + 64 = 264 > 150.
    let mut programs = String::new();
    for i in 0..40 {
        let _ = writeln!(
            programs,
            "{}priority={i}",
            program(&format!("p{i:02}"), "sleep 1000", "")
        );
    }
    let (fx, _d) = start_limited(&programs, 150, 150);
    let msg = fx.wait_log(DEADLINE, "the shortfall warning", |m| {
        m.contains("needs 264 file descriptors")
    });
    assert!(msg.contains("the hard RLIMIT_NOFILE is 150"), "{msg}");
    // The programs that do not fit are named in start order: 17 fit in (150 - 64) / 5.
    assert!(
        msg.contains(
            "23 autostart programs will not fit and fail with \"too many open files\": p17, p18,"
        ),
        "{msg}"
    );
    assert!(msg.contains(" and 3 more"), "{msg}");
    assert!(!msg.contains("p16"), "{msg}");
}
