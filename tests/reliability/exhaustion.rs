//! Running out of things: file descriptors, disk space, patience with a child that ignores SIGTERM.

use std::process::Command;
use std::time::{Duration, Instant};

use procd_tests::{Daemon, Endpoint, Kind};

use crate::{
    Conn, SmallDisk, cpu_ticks, figure, guarded, log_count, ms, start, time_until,
    timed_call_within,
};

/// Ten programs, `RLIMIT_NOFILE` lowered on the running daemon (`prlimit --pid`), then 200 TCP
/// connections. Figures: whether calls are served while saturated, CPU used meanwhile, and the time
/// from the connections closing to the first served call.
fn fd_exhaustion(kind: Kind) -> (String, Option<Duration>, usize) {
    let mut fixture = guarded();
    for i in 0..10 {
        fixture = fixture.program(&format!("p{i}"), "command=sleep 100000\nstartsecs=0");
    }
    let d = start(kind, &fixture);
    let names: Vec<String> = (0..10).map(|i| format!("p{i}")).collect();
    d.wait_state(
        &names.iter().map(String::as_str).collect::<Vec<_>>(),
        "RUNNING",
    );
    let pid = d.pid().expect("pid");
    // The daemon keeps its open descriptors and gets 16 more, as if it had started under a limit
    // that its programs nearly filled.
    let open = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count);
    let limit = open + 16;
    let limited = Command::new("prlimit")
        .args([
            "--pid",
            &pid.to_string(),
            &format!("--nofile={limit}:{limit}"),
        ])
        .status()
        .is_ok_and(|s| s.success());
    assert!(limited, "prlimit --pid failed");
    let tcp = Endpoint::Tcp(d.port);
    let unix = Endpoint::Unix(d.socket());
    let mut conns: Vec<Conn> = (0..200).filter_map(|_| Conn::open(&tcp).ok()).collect();
    // Saturated: the daemon has hit its limit (at most 2 descriptors short of it: a daemon may keep one
    // in reserve to shed connections with).
    let fds = || std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count);
    let saturated = time_until(Duration::from_secs(30), || fds() + 2 >= limit);
    assert!(
        saturated.is_some(),
        "{kind:?}: {} of {limit} descriptors open",
        fds()
    );
    let ticks = cpu_ticks(pid);
    let window = Instant::now();
    let (during_ok, during) = timed_call_within(&unix, Duration::from_secs(3));
    std::thread::sleep(Duration::from_secs(1));
    // USER_HZ is 100 on Linux: ticks per second are a percentage of one core.
    let cpu = cpu_ticks(pid).saturating_sub(ticks) as f64 / window.elapsed().as_secs_f64();
    // Keep the connections busy until now, then close them all at once.
    for c in &mut conns {
        let _ = c.send(b"G");
    }
    drop(conns);
    let closed = Instant::now();
    let recovered = time_until(Duration::from_secs(10), || {
        timed_call_within(&tcp, Duration::from_secs(2)).0
    })
    .map(|_| closed.elapsed());
    let log_lines = log_count(&d, "accept failed");
    let summary = format!(
        "{kind:?}: RLIMIT_NOFILE {limit} ({open} open + 16), 200 connections: call while saturated {} in {}; CPU while \
         saturated {cpu:.0} % of a core; served again {} after the connections closed; {log_lines} \
         'accept failed' log lines",
        if during_ok { "answered" } else { "FAILED" },
        ms(during),
        recovered.map_or_else(|| "not within 10 s".to_owned(), ms),
    );
    (summary, recovered, log_lines)
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn descriptor_exhaustion_recovers_at_once() {
    let (summary, recovered, lines) = fd_exhaustion(Kind::Procd);
    figure("fd exhaustion", &summary);
    figure("fd exhaustion", &fd_exhaustion(Kind::Supervisord).0);
    let recovered = recovered.expect("served again");
    assert!(recovered < Duration::from_secs(1), "{summary}");
    assert!(lines <= 2, "logged once per episode per server: {summary}");
}

/// Whether the file system at `path` has no space left.
fn disk_full_at(path: &std::path::Path) -> bool {
    nix::sys::statvfs::statvfs(path).is_ok_and(|s| s.blocks_available() == 0)
}

/// A child writes a burst to a log on a 1 MiB tmpfs, then waits; space returns; it writes one more
/// line. Figures: bytes written, stored, lost, and what the daemon said about it.
fn disk_full(kind: Kind) -> Option<(String, u64, u64, u64)> {
    let burst: u64 = 2_000_000;
    let tmp = tempfile::Builder::new()
        .prefix("df")
        .tempdir_in("/tmp")
        .ok()?;
    let small = tmp.path().join("small");
    let _disk = SmallDisk::mount(&small, "1m")?;
    let go = tmp.path().join("go");
    let log = small.join("w.log");
    let fixture = guarded().program(
        "w",
        &format!(
            "command=sh -c 'yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c {burst}; \
             while [ ! -e {go} ]; do sleep 0.02; done; echo END'\n\
             autostart=false\nautorestart=false\nstartsecs=0\n\
             stdout_logfile={log}\nstdout_logfile_maxbytes=0",
            go = go.display(),
            log = log.display()
        ),
    );
    let d = start(kind, &fixture);
    let filler = small.join("filler");
    std::fs::write(&filler, vec![b'f'; 700 * 1024]).ok()?;
    d.ok("supervisor.startProcess", vec!["w".into()]);
    // The daemon has hit the wall once the disk is full and the burst is out of the child (`head`
    // exited: all but a pipe's worth of its 2 MB was read, far more than the 300 KiB left on the disk).
    let daemon = d.pid()?;
    let hit = time_until(Duration::from_secs(30), || {
        disk_full_at(&small)
            && !procd_testkit::procs::descendants(daemon).iter().any(|&p| {
                std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == "head")
            })
    });
    assert!(hit.is_some(), "{kind:?}: the daemon never filled the disk");
    std::fs::remove_file(&filler).ok()?;
    std::fs::write(&go, b"").ok()?;
    d.wait_state(&["w"], "EXITED");
    let stored = time_until(Duration::from_secs(10), || {
        std::fs::read(&log).is_ok_and(|b| b.ends_with(b"END\n"))
    })
    .map_or(0, |_| std::fs::metadata(&log).map_or(0, |m| m.len()));
    let main = std::fs::read_to_string(d.path().join("supervisord.log")).unwrap_or_default();
    let reported: u64 = main
        .lines()
        .filter(|l| l.contains("stdout log of 'w' is writable again; "))
        .filter_map(|l| {
            l.split("writable again; ")
                .nth(1)
                .and_then(|r| r.split(' ').next())
                .and_then(|n| n.parse::<u64>().ok())
        })
        .sum();
    let errors = log_count(&d, "could not write") + log_count(&d, "No space left");
    let written = burst + 4;
    let lost = written - stored.min(written);
    Some((
        format!(
            "{kind:?}: written {written} B, stored {stored} B, lost {lost} B, reported lost \
             {reported} B, {errors} error lines in the main log"
        ),
        written,
        stored,
        reported,
    ))
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn disk_full_loses_only_counted_bytes() {
    let Some((summary, written, stored, reported)) = disk_full(Kind::Procd) else {
        eprintln!("skipped: cannot mount a tmpfs (not root?)");
        return;
    };
    figure("disk full", &summary);
    if let Some((reference, ..)) = disk_full(Kind::Supervisord) {
        figure("disk full", &reference);
    }
    assert!(stored < written, "the disk filled: {summary}");
    assert_eq!(stored + reported, written, "{summary}");
}

/// SIGTERM to the daemon while a program ignores SIGTERM (`stopwaitsecs=2`).
fn stubborn_child(kind: Kind) -> (String, Duration, bool) {
    let fixture = guarded().program(
        "stubborn",
        "command=sh -c \"trap '' TERM; exec sleep 100000\"\nstartsecs=0\nstopwaitsecs=2",
    );
    let mut d: Daemon = start(kind, &fixture);
    d.wait_state(&["stubborn"], "RUNNING");
    let child = d.child_pids();
    let pid = d.pid().expect("pid");
    let t = Instant::now();
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    );
    d.wait_exit(Duration::from_secs(20));
    let took = t.elapsed();
    let left = child.iter().any(|&p| procd_tests_alive(p));
    (
        format!(
            "{kind:?}: exited {} after SIGTERM (stopwaitsecs=2); child {}",
            ms(took),
            if left { "LEFT RUNNING" } else { "killed" }
        ),
        took,
        left,
    )
}

fn procd_tests_alive(pid: i32) -> bool {
    // A zombie reaped by init disappears; a live process has a status file that is not "Z".
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| !s.rsplit_once(") ").is_some_and(|(_, r)| r.starts_with('Z')))
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn sigterm_with_a_child_that_ignores_it_ends_in_bounded_time() {
    let (summary, took, left) = stubborn_child(Kind::Procd);
    figure("sigterm, stubborn child", &summary);
    figure(
        "sigterm, stubborn child",
        &stubborn_child(Kind::Supervisord).0,
    );
    assert!(!left, "{summary}");
    assert!(took < Duration::from_secs(5), "{summary}");
}
