//! A full disk: the child keeps running, the loss is reported and counted, writing resumes by itself.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::common::{Fixture, wait_until};
use super::{DEADLINE, contains, read, wait_file};

/// A 1 MiB tmpfs mounted for the test, unmounted on drop.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(dir: &Path) -> Option<Self> {
        Self::mount_sized(dir, "1m")
    }

    fn mount_sized(dir: &Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(dir).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
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

/// The reported loss is exact: on a full disk a chunk is often stored in part (a short write, then
/// `ENOSPC`), and only the part that did not reach the file counts as lost. Twenty rounds, each a
/// burst that fills a small tmpfs, then space returns and a last line is written; every round, bytes
/// on disk plus bytes reported lost equal the bytes the child wrote.
#[test]
fn disk_full_loss_count_is_exact() {
    const BURST: usize = 3_000_000;
    const ROUNDS: usize = 20;
    let fx = Fixture::new();
    let disk_dir = fx.path("small");
    let Some(_disk) = SmallDisk::mount_sized(&disk_dir, "4m") else {
        eprintln!("skipped: cannot mount a tmpfs (not root?)");
        return;
    };
    let filler = disk_dir.join("filler");
    let log = disk_dir.join("w.log");
    let go = fx.path("go");
    let d = fx.dir.path().display();
    // loglevel=info: at debug every chunk of output would also be copied into the main log.
    let conf = format!(
        "[unix_http_server]\nfile={d}/s.sock\n\n\
         [supervisord]\nlogfile={d}/main.log\npidfile={d}/d.pid\nchildlogdir={d}\nloglevel=info\n\n\
         [rpcinterface:supervisor]\n\
         supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n\
         [program:w]\ncommand=sh -c 'yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c {BURST}; \
         while [ ! -e {go} ]; do sleep 0.02; done; echo END'\n\
         autostart=false\nautorestart=false\nstartsecs=0\nstdout_logfile={log}\nstdout_logfile_maxbytes=0\n",
        go = go.display(),
        log = log.display(),
    );
    std::fs::write(fx.path("supervisord.conf"), conf).expect("config");
    let _d = fx.start();
    let lost_in = |lines: &[(String, String)]| -> u64 {
        lines
            .iter()
            .filter(|(_, m)| m.starts_with("stdout log of 'w' is writable again; "))
            .map(|(_, m)| {
                m.split("; ")
                    .nth(1)
                    .and_then(|r| r.split(' ').next())
                    .and_then(|n| n.parse::<u64>().ok())
                    .expect("loss count")
            })
            .sum()
    };
    let count = |what: &str| fx.log().iter().filter(|(_, m)| m.contains(what)).count();
    for round in 1..=ROUNDS {
        let _ = std::fs::remove_file(&go);
        fx.rpc("supervisor.clearProcessLogs", vec![super::s("w")])
            .expect("clear");
        // Leave about 512 KiB free, so the burst fills the disk mid-stream.
        std::fs::write(&filler, vec![b'f'; 3584 * 1024 - round * 4096 - 1000]).expect("filler");
        let before = fx.log().len();
        let errors_before = count("could not write to stdout log of 'w'");
        fx.rpc("supervisor.startProcess", vec![super::s("w")])
            .expect("start");
        wait_until(DEADLINE, "the disk-full error", || {
            (count("could not write to stdout log of 'w'") > errors_before).then_some(())
        });
        std::fs::remove_file(&filler).expect("free space");
        std::fs::write(&go, b"").expect("go");
        fx.wait_state("w", "EXITED", DEADLINE);
        let stored = wait_file(&log, "the last line", |d| d.ends_with(b"END\n")).len() as u64;
        let lines = wait_until(DEADLINE, "the loss report", || {
            let lines = fx.log().split_off(before);
            (lost_in(&lines) > 0).then_some(lines)
        });
        let lost = lost_in(&lines);
        assert_eq!(
            stored + lost,
            BURST as u64 + 4,
            "round {round}: {stored} bytes stored + {lost} reported lost"
        );
    }
}
