//! A full disk: the child keeps running, the loss is reported and counted, writing resumes by itself.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::common::{Fixture, wait_until};
use super::{DEADLINE, contains, read};

/// A 1 MiB tmpfs mounted for the test, unmounted on drop.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(dir: &Path) -> Option<Self> {
        std::fs::create_dir_all(dir).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| SmallDisk(dir.to_path_buf()))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn disk_full_is_reported_counted_and_recovers() {
    let fx = Fixture::new();
    let disk_dir = fx.path("small");
    let Some(_disk) = SmallDisk::mount(&disk_dir) else {
        eprintln!("skipped: cannot mount a tmpfs (not root?)");
        return;
    };
    // Most of the space is taken by a filler file we delete later.
    let filler = disk_dir.join("filler");
    std::fs::write(&filler, vec![b'f'; 700 * 1024]).expect("filler");
    let log = disk_dir.join("w.log");
    let program = super::program(
        "w",
        "sh -c 'yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c 2000000; \
         i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.05; done'",
        &format!(
            "stdout_logfile={}\nstdout_logfile_maxbytes=0",
            log.display()
        ),
    );
    fx.write_conf("", &program);
    let _d = fx.start();
    let pid = fx.wait_state("w", "RUNNING", DEADLINE);
    let pid = super::common::int_field(&pid, "pid");
    let msg = fx.wait_log(DEADLINE, "the write error", |m| {
        m.contains("could not write to stdout log of 'w'") && m.contains("output is being lost")
    });
    assert!(msg.contains("No space left on device"), "{msg}");
    let daemon_out = read(&fx.path("daemon.out"));
    assert!(
        contains(&daemon_out, b"procd: could not write to stdout log of 'w'"),
        "also on stderr"
    );
    // Reported once, not per chunk.
    let errors = fx
        .log()
        .into_iter()
        .filter(|(_, m)| m.contains("could not write to stdout log"))
        .count();
    assert_eq!(errors, 1);
    assert_eq!(fx.state("w"), "RUNNING");
    assert_eq!(fx.pid_of("w"), pid, "the child was not restarted");
    let full_len = read(&log).len();
    assert!(full_len < 2_000_000);
    // Space returns: writing resumes by itself and the loss is totalled.
    std::fs::remove_file(&filler).expect("free space");
    let msg = fx.wait_log(DEADLINE, "writable again", |m| {
        m.contains("stdout log of 'w' is writable again")
    });
    let lost: u64 = msg
        .split("; ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(lost > 0, "lost bytes counted: {msg}");
    let written = wait_until(DEADLINE, "ticks after recovery", || {
        let d = read(&log);
        (d.len() > full_len && contains(&d[full_len..], b"tick-")).then_some(d)
    });
    assert!(
        written.len() as u64 + lost >= 2_000_000,
        "bytes on disk + lost cover the burst"
    );
    assert_eq!(fx.pid_of("w"), pid);
}
