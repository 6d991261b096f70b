//! `stdout_syslog=true`: lines reach syslog as `<name> <line>` at LOG_USER|LOG_INFO, independently of
//! the log file. procd runs in a private mount namespace whose `/dev/log` is a datagram socket of the test.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::time::{Duration, Instant};

use super::common::{Fixture, wait_until};
use super::{DEADLINE, wait_file};

/// Runs `$@` with a fresh `/dev` holding the usual devices plus `/dev/log` bound to `sock`.
fn namespace_script(dir: &Path, sock: &Path) -> String {
    let d = dir.display();
    format!(
        "set -e; mkdir -p {d}/olddev; mount --bind /dev {d}/olddev; mount -t tmpfs none /dev; \
         for n in null zero full random urandom tty; do touch /dev/$n; mount --bind {d}/olddev/$n /dev/$n; done; \
         ln -s /proc/self/fd /dev/fd; ln -s /proc/self/fd/1 /dev/stdout; ln -s /proc/self/fd/2 /dev/stderr; \
         touch /dev/log; mount --bind {} /dev/log; exec \"$@\"",
        sock.display()
    )
}

fn unshare_available() -> bool {
    std::process::Command::new("unshare")
        .args(["-m", "true"])
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn syslog_gets_each_line_with_the_program_name() {
    if !unshare_available() {
        eprintln!("skipped: unshare -m is not available");
        return;
    }
    let fx = Fixture::new();
    let sock = fx.path("log.sock");
    let rx = UnixDatagram::bind(&sock).expect("bind syslog socket");
    rx.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let programs = format!(
        "{}{}",
        super::program(
            "both",
            "sh -c 'printf \"one\\ntwo\\n\"; sleep 0.2; printf \"three\\n\\n\"; exec sleep 1000'",
            "stdout_logfile=%(here)s/both.log\nstdout_syslog=true",
        ),
        super::program(
            "only",
            "sh -c 'echo to-syslog-only >&2; exec sleep 1000'",
            "stdout_logfile=NONE\nstderr_logfile=NONE\nstderr_syslog=true",
        )
    );
    fx.write_conf("", &programs);
    let script = namespace_script(fx.dir.path(), &sock);
    let _d = fx.spawn_daemon(
        Path::new(super::common::PROCD),
        &["-n"],
        Some(&[
            "unshare",
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            &script,
            "sh",
        ]),
    );
    let mut got: Vec<String> = Vec::new();
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    let want = ["both one", "both two", "both three", "only to-syslog-only"];
    while !want
        .iter()
        .all(|w| got.iter().any(|m| m.ends_with(&format!(": {w}"))))
    {
        assert!(
            start.elapsed() < DEADLINE,
            "syslog messages so far: {got:?}"
        );
        if let Ok(n) = rx.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
    let ours: Vec<&String> = got
        .iter()
        .filter(|m| m.contains(": both ") || m.contains(": only "))
        .collect();
    for m in &ours {
        assert!(m.starts_with("<14>"), "LOG_USER|LOG_INFO: {m}");
    }
    // "three\n\n" is one chunk: trailing newlines go, so no empty message follows it.
    assert_eq!(ours.len(), 4, "{ours:?}");
    // The file is written as well.
    wait_file(&fx.path("both.log"), "file copy", |d| {
        d == b"one\ntwo\nthree\n\n"
    });
    wait_until(DEADLINE, "no stray log files", || {
        let names: Vec<String> = std::fs::read_dir(fx.dir.path())
            .ok()?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        (!names.iter().any(|n| n.starts_with("only-"))).then_some(())
    });
}
