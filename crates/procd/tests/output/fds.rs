//! File descriptors as a budget: under a low `RLIMIT_NOFILE`, programs whose output nobody reads cost
//! procd one descriptor each (their stdin), procd raises its soft limit to what the configuration needs,
//! and a hard limit that is too low is reported at start-up with the number needed. Under a limit too
//! low for every log file, log files open on demand from a bounded set; under one too low for two pipes
//! per program, stdin and stdout share one socket.

use std::fmt::Write as _;
use std::path::Path;

use super::common::{Fixture, PROCD, int_field, str_field, wait_until};
use super::{DEADLINE, program, s};
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
        m.contains("hard RLIMIT_NOFILE")
    });
    // Even with 16 log files open and stdin and stdout on one socket: 264 - 80 + 16 - 40.
    assert!(
        msg.contains("(160 with the fewest log files open) but the hard RLIMIT_NOFILE is 150"),
        "{msg}"
    );
    // The programs that do not fit are named in start order: (150 - 64 - 16) / 2 = 35 fit.
    assert!(
        msg.contains(
            "5 autostart programs will not fit and fail with \"too many open files\": \
             p35, p36, p37, p38, p39 ("
        ),
        "{msg}"
    );
    assert!(!msg.contains("p34"), "{msg}");
}

/// Lines a program prints before it becomes `cat` (which echoes its stdin into the log).
const LINES: u32 = 5;

fn expected_log(name: &str) -> String {
    (1..=LINES).map(|i| format!("{name}-{i}\n")).collect()
}

fn call(fx: &Fixture, method: &str, params: Vec<Value>) -> Value {
    fx.rpc(method, params)
        .unwrap_or_else(|f| panic!("{method}: {f:?}"))
}

/// `n` programs with their own stdout log under a limit of `limit` descriptors (soft and hard): every
/// program runs, its lines land in its file in order, rotation keeps every byte, reads and tails
/// match the file, stdin reaches every program, and procd stays within the limit with at most
/// `open_logs` log files open. Returns the fixture, the daemon and the main log.
fn own_logs_under_a_tight_limit(
    n: usize,
    limit: u64,
    open_logs: u64,
) -> (Fixture, super::common::Daemon, String) {
    let mut programs = String::new();
    for i in 0..n - 1 {
        let name = format!("p{i:03}");
        programs.push_str(&program(
            &name,
            &format!(
                "sh -c 'for i in $(seq 1 {LINES}); do echo {name}-$i; sleep 0.1; done; exec cat'"
            ),
            "stdout_logfile=%(here)s/logs/%(program_name)s.log\nredirect_stderr=true",
        ));
    }
    // One program rotates by size while the others write, so its file is closed and reopened
    // between writes.
    programs.push_str(&program(
        "rot",
        "sh -c 'for i in $(seq 100 159); do echo rot-$i; sleep 0.05; done; exec cat'",
        "stdout_logfile=%(here)s/logs/rot.log\nredirect_stderr=true\n\
         stdout_logfile_maxbytes=100\nstdout_logfile_backups=2",
    ));
    let (fx, d) = {
        let fx = Fixture::new();
        std::fs::create_dir(fx.path("logs")).unwrap();
        let conf = fx.write_conf("minfds=100", &programs);
        let text = std::fs::read_to_string(&conf).unwrap();
        std::fs::write(&conf, text.replace("loglevel=debug", "loglevel=info")).unwrap();
        let nofile = format!("--nofile={limit}:{limit}");
        let d = fx.spawn_daemon(Path::new(PROCD), &["-n"], Some(&["prlimit", &nofile]));
        wait_until(DEADLINE, "the daemon's socket", || {
            fx.rpc_opt("supervisor.getPID")
        });
        (fx, d)
    };
    wait_until(DEADLINE * 2, "every program RUNNING", || {
        let st = states(&fx);
        (st.len() == n && st.iter().all(|(_, s)| s == "RUNNING")).then_some(())
    });
    // Every line in its own file, in order.
    let log_path = |name: &str| fx.path(&format!("logs/{name}.log"));
    for i in 0..n - 1 {
        let name = format!("p{i:03}");
        let want = expected_log(&name);
        wait_until(DEADLINE, &format!("{name}'s log"), || {
            let got = std::fs::read_to_string(log_path(&name)).ok()?;
            (got == want).then_some(())
        });
    }
    // Rotation kept the last bytes in order across reopens: .2, .1 and the file are the tail of what
    // was written, and each backup was rotated once it reached maxbytes.
    let all: String = (100..160).map(|i| format!("rot-{i}\n")).collect();
    let kept = wait_until(DEADLINE, "rot's last line", || {
        let mut kept = String::new();
        for suffix in [".2", ".1", ""] {
            kept += &std::fs::read_to_string(format!("{}{suffix}", log_path("rot").display()))
                .unwrap_or_default();
        }
        kept.ends_with("rot-159\n").then_some(kept)
    });
    assert!(all.ends_with(&kept), "{kept:?}");
    for suffix in [".1", ".2"] {
        let backup = std::fs::read(format!("{}{suffix}", log_path("rot").display())).unwrap();
        assert!(backup.len() >= 100, "{suffix}: {} bytes", backup.len());
    }
    let log = std::fs::read_to_string(fx.path("main.log")).unwrap();
    assert!(!log.contains("too many open files"), "{log}");
    assert!(!log.contains("could not"), "{log}");
    assert!(
        log.contains(&format!(
            "at most {open_logs} of its {n} log files stay open"
        )),
        "{log}"
    );
    // procd stays within the limit, with at most `open_logs` log files open.
    let fds: Vec<_> = std::fs::read_dir(format!("/proc/{}/fd", d.pid()))
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .collect();
    assert!(fds.len() as u64 <= limit, "{} descriptors", fds.len());
    let logs_open = fds
        .iter()
        .filter(|t| t.starts_with(fx.path("logs")))
        .count();
    assert!(logs_open as u64 <= open_logs, "{logs_open} log files open");
    // Reading and tailing see exactly the file, whichever files are open.
    for name in ["p000", "p001", &format!("p{:03}", n - 2)] {
        let want = expected_log(name);
        assert_eq!(
            call(
                &fx,
                "supervisor.readProcessStdoutLog",
                vec![s(name), Value::Int(0), Value::Int(0)]
            ),
            s(&want)
        );
        assert_eq!(
            call(
                &fx,
                "supervisor.readProcessStdoutLog",
                vec![s(name), Value::Int(5), Value::Int(7)]
            ),
            s(&want[5..12])
        );
        assert_eq!(
            call(
                &fx,
                "supervisor.tailProcessStdoutLog",
                vec![s(name), Value::Int(0), Value::Int(1000)]
            ),
            Value::Array(vec![
                s(&want),
                Value::Int(want.len() as i32),
                Value::Bool(false)
            ])
        );
    }
    // stdin reaches every program (each `cat` echoes it into its log, after its own lines).
    for i in 0..n - 1 {
        let name = format!("p{i:03}");
        call(
            &fx,
            "supervisor.sendProcessStdin",
            vec![s(&name), s(&format!("in-{name}\n"))],
        );
    }
    for i in 0..n - 1 {
        let name = format!("p{i:03}");
        let want = format!("{}in-{name}\n", expected_log(&name));
        wait_until(DEADLINE, &format!("{name}'s echoed stdin"), || {
            let got = std::fs::read_to_string(log_path(&name)).ok()?;
            (got == want).then_some(())
        });
    }
    (fx, d, log)
}

fn child_fd(pid: i32, fd: u32) -> String {
    std::fs::read_link(format!("/proc/{pid}/fd/{fd}"))
        .unwrap()
        .display()
        .to_string()
}

#[test]
fn own_logs_beyond_the_limit_open_on_demand_and_share_one_socket_for_stdin_and_stdout() {
    // 200 programs with their own log: stdin pipe + stdout pipe + file = 3 * 200 + 64 = 664 > 300.
    // One socket each (264) leaves 36 log files open at once.
    let (fx, _d, log) = own_logs_under_a_tight_limit(200, 300, 36);
    assert!(
        log.contains("the stdin and stdout of 200 programs share one socket"),
        "{log}"
    );
    let pid = int_field(&fx.info("p007"), "pid");
    let stdin = child_fd(pid, 0);
    assert!(stdin.starts_with("socket:"), "{stdin}");
    assert_eq!(child_fd(pid, 1), stdin);
    assert_eq!(child_fd(pid, 2), stdin);
}

#[test]
fn own_logs_beyond_the_limit_with_room_for_pipes_keep_the_pipes() {
    // 100 programs: 3 * 100 + 64 = 364 > 300, but the pipes fit (264) and leave 36 log files.
    let (fx, _d, log) = own_logs_under_a_tight_limit(100, 300, 36);
    assert!(!log.contains("socket"), "{log}");
    let pid = int_field(&fx.info("p007"), "pid");
    assert!(child_fd(pid, 0).starts_with("pipe:"));
    assert!(child_fd(pid, 1).starts_with("pipe:"));
    assert_ne!(child_fd(pid, 0), child_fd(pid, 1));
}

#[test]
fn adding_programs_on_reload_raises_the_soft_limit_again() {
    let mut programs = String::new();
    for i in 0..3 {
        programs.push_str(&program(
            &format!("p{i}"),
            "sleep 1000",
            "stdout_logfile=NONE\nstderr_logfile=NONE",
        ));
    }
    // 64 + 3 descriptors fit in the soft limit of 100: nothing raised at start-up.
    let (fx, d) = start_limited(&programs, 100, 1000);
    assert_eq!(nofile(d.pid()), (100, 1000));
    // `update` adds a group of 150 unlogged programs: 64 + 3 + 150 = 217 descriptors.
    programs.push_str(
        "[program:many]\ncommand=sleep 1000\nnumprocs=150\nprocess_name=%(program_name)s_%(process_num)03d\n\
         autostart=false\nstartsecs=0\nstdout_logfile=NONE\nstderr_logfile=NONE\n",
    );
    let conf = fx.write_conf("minfds=100", &programs);
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(&conf, text.replace("loglevel=debug", "loglevel=info")).unwrap();
    fx.rpc("supervisor.reloadConfig", vec![])
        .expect("reloadConfig");
    fx.rpc(
        "supervisor.addProcessGroup",
        vec![Value::String("many".into())],
    )
    .expect("addProcessGroup");
    assert_eq!(nofile(d.pid()), (217, 1000));
    let log = std::fs::read_to_string(fx.path("main.log")).unwrap();
    assert!(
        log.contains("Increased RLIMIT_NOFILE limit to 217"),
        "{log}"
    );
    // All 150 start (under the old soft limit of 100 their stdin pipes could not all be held), and a
    // child still gets the soft limit procd started with.
    fx.rpc(
        "supervisor.startProcessGroup",
        vec![Value::String("many".into()), Value::Bool(true)],
    )
    .expect("startProcessGroup");
    let running = states(&fx).iter().filter(|(_, s)| s == "RUNNING").count();
    assert_eq!(running, 153);
    let pid = int_field(&fx.info("many:many_149"), "pid");
    assert_eq!(nofile(pid), (100, 1000));
    let log = std::fs::read_to_string(fx.path("main.log")).unwrap();
    assert!(!log.contains("too many open files"), "{log}");
}
