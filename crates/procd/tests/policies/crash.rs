//! Crash-safe restart: SIGKILL procd with 5 programs running, start it again, count the copies.

use std::time::Duration;

use crate::cgroup::CgroupCleanup;
use crate::common::{Fixture, alive, wait_until};

const LONG: Duration = Duration::from_secs(30);

/// Pids whose command line is exactly `sleep <arg>`.
fn sleeps(arg: &str) -> Vec<i32> {
    let want = format!("sleep\0{arg}\0");
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            if std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c == want.as_bytes())
                && alive(pid)
            {
                out.push(pid);
            }
        }
    }
    out
}

/// Kills every process of the markers when the test ends, whatever happened.
struct Reaper(Vec<String>);

impl Drop for Reaper {
    fn drop(&mut self) {
        for m in &self.0 {
            for pid in sleeps(m) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::SIGKILL,
                );
            }
        }
    }
}

/// Unique `sleep` arguments for this test run (other tests run at the same time).
fn markers(salt: u32) -> Vec<String> {
    let base = 7_000_000 + (std::process::id() % 100_000) * 20 + salt * 10;
    (0..5).map(|i| (base + i).to_string()).collect()
}

fn run(f: &Fixture, programs: &str, counted: &[String]) {
    f.write_conf("", programs);
    let mut first = f.start();
    wait_until(LONG, "5 programs running", || {
        counted.iter().all(|m| sleeps(m).len() == 1).then_some(())
    });
    first.signal(nix::sys::signal::Signal::SIGKILL);
    first.wait_exit(LONG);
    // The programs outlive the killed daemon.
    for m in counted {
        assert_eq!(sleeps(m).len(), 1, "sleep {m} after the crash");
    }
    let _second = f.start();
    for i in 0..5 {
        f.wait_state(&format!("p{i}"), "RUNNING", LONG);
    }
    for m in counted {
        let copies = wait_until(LONG, &format!("one copy of sleep {m}"), || {
            let n = sleeps(m).len();
            (n <= 1).then_some(n)
        });
        assert_eq!(copies, 1, "sleep {m}");
    }
    f.wait_log(LONG, "the leftover line", |m| {
        m.contains("left running by a previous procd instance")
    });
}

#[test]
fn restart_after_sigkill_runs_no_second_copy() {
    let f = Fixture::new();
    let marks = markers(0);
    let _reaper = Reaper(marks.clone());
    let programs: String = marks
        .iter()
        .enumerate()
        .map(|(i, m)| format!("[program:p{i}]\ncommand=sleep {m}\nstartsecs=0\nstopwaitsecs=5\n"))
        .collect();
    run(&f, &programs, &marks);
    assert!(f.path("d.pid.children").exists());
    f.wait_log(LONG, "one stop line per program", |_| {
        let n = f
            .log()
            .iter()
            .filter(|(_, m)| {
                m.starts_with("stopping p")
                    && m.ends_with("left running by a previous procd instance")
            })
            .count();
        n == 5
    });
}

#[test]
fn restart_after_sigkill_with_cgroups_kills_grandchildren_too() {
    let f = Fixture::new();
    let marks = markers(1);
    // Each program also leaves a grandchild in a session of its own (out of its process group).
    let grand: Vec<String> = marks.iter().map(|m| format!("{m}9")).collect();
    let mut all = marks.clone();
    all.extend(grand.iter().cloned());
    let _reaper = Reaper(all.clone());
    let _cg = CgroupCleanup::new(&f);
    let programs: String = marks
        .iter()
        .zip(&grand)
        .enumerate()
        .map(|(i, (m, g))| {
            format!(
                "[program:p{i}]\ncommand=sh -c 'setsid sleep {g} & exec sleep {m}'\nstartsecs=0\n\
                 kill_mode=cgroup\n"
            )
        })
        .collect();
    run(&f, &programs, &all);
    f.wait_log(LONG, "a cgroup.kill line", |m| {
        m.starts_with("killing p0/p0 (pids ")
            && m.ends_with("left running by a previous procd instance (cgroup.kill)")
    });
}
