//! Rotation under a writer at full speed: nothing lost, nothing reordered; `backups=0`; `maxbytes=0`.

use super::common::wait_until;
use super::{DEADLINE, backup, read, rotated_set, seq_bytes, start};

#[test]
fn full_speed_rotation_keeps_every_byte_in_order() {
    // `seq 1 7500000` prints 58,888,897 bytes of numbered lines as fast as it can.
    let lines = 7_500_000;
    let expected = seq_bytes(lines);
    let (fx, _d) = start(&super::program(
        "w",
        &format!("seq 1 {lines}"),
        "stdout_logfile=%(here)s/w.log\nstdout_logfile_maxbytes=1MB\nstdout_logfile_backups=200",
    ));
    let path = fx.path("w.log");
    let got = wait_until(
        std::time::Duration::from_secs(60),
        "all output on disk",
        || {
            let all = rotated_set(&path, 200);
            (all.len() >= expected.len()).then_some(all)
        },
    );
    assert_eq!(got.len(), expected.len(), "byte count");
    assert!(
        got == expected,
        "the backups and the current file are the output, in order"
    );
    assert!(backup(&path, 50).exists(), "about 56 rotations happened");
    assert!(!backup(&path, 80).exists());
    for n in 1..=50 {
        let len = read(&backup(&path, n)).len();
        assert!(len >= 1024 * 1024, "backup .{n} reached maxbytes ({len})");
    }
    fx.wait_state("w", "EXITED", DEADLINE);
}

#[test]
fn zero_backups_truncate_and_zero_maxbytes_never_rotates() {
    let (fx, _d) = start(&format!(
        "{}{}",
        super::program(
            "t",
            "seq 1 20000",
            "stdout_logfile=%(here)s/t.log\nstdout_logfile_maxbytes=1KB\nstdout_logfile_backups=0",
        ),
        super::program(
            "n",
            "seq 1 400000",
            "stdout_logfile=%(here)s/n.log\nstdout_logfile_maxbytes=0\nstdout_logfile_backups=3",
        )
    ));
    let all_t = seq_bytes(20_000);
    let all_n = seq_bytes(400_000);
    fx.wait_state("t", "EXITED", DEADLINE);
    let never = super::wait_file(&fx.path("n.log"), "n.log complete", |d| {
        d.len() >= all_n.len()
    });
    assert!(never == all_n, "maxbytes=0 keeps one file with everything");
    assert!(!backup(&fx.path("n.log"), 1).exists());
    // `t` ended; its output is on disk once the daemon has logged (at debug level, right after
    // writing each chunk to the file) the chunk that holds its last line.
    wait_until(DEADLINE, "t's last output chunk written", || {
        let written: String = fx
            .log()
            .into_iter()
            .filter_map(|(_, m)| m.strip_prefix("'t' stdout output:\n").map(str::to_owned))
            .collect();
        written.split_whitespace().last() == Some("20000")
    });
    // Its file holds what came after the last truncation: a tail of the output.
    let t = read(&fx.path("t.log"));
    assert!(
        all_t.ends_with(&t),
        "what is left is the tail of the output"
    );
    assert!(t.len() < 1024, "truncated at 1KB, now {} bytes", t.len());
    assert!(!backup(&fx.path("t.log"), 1).exists(), "no backups kept");
}
