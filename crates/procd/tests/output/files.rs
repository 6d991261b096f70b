//! Which files exist and what they hold: redirect_stderr, NONE, AUTO names and cleanup, raw bytes,
//! non-seekable targets.

use super::common::{Fixture, wait_until};
use super::{DEADLINE, contains, fault_code, int, read, s, start, wait_file};

#[test]
fn redirect_stderr_interleaves_into_the_stdout_log() {
    let (fx, _d) = start(&super::program(
        "r",
        "sh -c 'echo out1; echo err1 >&2; echo out2; echo err2 >&2; exec sleep 1000'",
        "redirect_stderr=true\nstdout_logfile=%(here)s/r.log\nstderr_logfile=%(here)s/r.err",
    ));
    let data = wait_file(&fx.path("r.log"), "four lines", |d| d.len() >= 20);
    assert_eq!(data, b"out1\nerr1\nout2\nerr2\n");
    assert!(
        !fx.path("r.err").exists(),
        "no stderr file with redirect_stderr"
    );
    let v = fx.rpc(
        "supervisor.tailProcessStderrLog",
        vec![s("r"), int(0), int(100)],
    );
    assert_eq!(
        v.expect("tail stderr"),
        procd_protocol::Value::Array(vec![s(""), int(0), procd_protocol::Value::Bool(false)])
    );
}

#[test]
fn none_means_no_file_and_no_file_fault() {
    let (fx, _d) = start(&super::program(
        "q",
        "sh -c 'echo quiet; exec sleep 1000'",
        "stdout_logfile=NONE\nstderr_logfile=NONE",
    ));
    fx.wait_state("q", "RUNNING", DEADLINE);
    let code = fault_code(fx.rpc(
        "supervisor.readProcessStdoutLog",
        vec![s("q"), int(0), int(0)],
    ));
    assert_eq!(code, 10 + 10, "NO_FILE");
    let logs: Vec<String> = std::fs::read_dir(fx.dir.path())
        .expect("ls")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("q-"))
        .collect();
    assert!(logs.is_empty(), "no AUTO file for NONE: {logs:?}");
    assert_eq!(
        super::common::str_field(&fx.info("q"), "stdout_logfile"),
        ""
    );
}

fn auto_logs(fx: &Fixture, name: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(fx.dir.path())
        .expect("ls")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!("{name}-")))
        .collect();
    v.sort();
    v
}

fn is_auto_name(file: &str, name: &str, channel: &str) -> bool {
    let prefix = format!("{name}-{channel}---supervisor-");
    file.strip_prefix(&prefix)
        .and_then(|r| r.strip_suffix(".log"))
        .is_some_and(|r| r.len() == 8 && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
}

#[test]
fn auto_files_are_named_like_supervisord_and_cleaned_at_start() {
    let fx = Fixture::new();
    let stale = fx.path("a-stdout---supervisor-OLDOLD00.log");
    std::fs::write(&stale, b"old run\n").expect("stale file");
    let prog = super::program(
        "a",
        "sh -c 'echo auto-out; echo auto-err >&2; exec sleep 1000'",
        "",
    );
    fx.write_conf("", &prog);
    {
        let _d = fx.start();
        fx.wait_state("a", "RUNNING", DEADLINE);
        let info = fx.info("a");
        let out = super::common::str_field(&info, "stdout_logfile");
        let err = super::common::str_field(&info, "stderr_logfile");
        let out_name = out.rsplit('/').next().unwrap_or_default().to_owned();
        let err_name = err.rsplit('/').next().unwrap_or_default().to_owned();
        assert!(is_auto_name(&out_name, "a", "stdout"), "{out}");
        assert!(is_auto_name(&err_name, "a", "stderr"), "{err}");
        assert!(
            out.starts_with(&fx.dir.path().display().to_string()),
            "in childlogdir"
        );
        wait_file(std::path::Path::new(&out), "stdout", |d| d == b"auto-out\n");
        wait_file(std::path::Path::new(&err), "stderr", |d| d == b"auto-err\n");
        assert!(!stale.exists(), "old AUTO logs are removed at start");
    }
    let before = auto_logs(&fx, "a");
    assert_eq!(before.len(), 2, "{before:?}");
    // nocleanup keeps the previous run's files.
    fx.write_conf("nocleanup=true", &prog);
    {
        let _d = fx.start();
        fx.wait_state("a", "RUNNING", DEADLINE);
        let now = auto_logs(&fx, "a");
        assert_eq!(now.len(), 4, "{now:?}");
        assert!(before.iter().all(|f| now.contains(f)));
    }
    // And the default cleans them all again.
    fx.write_conf("", &prog);
    let _d = fx.start();
    fx.wait_state("a", "RUNNING", DEADLINE);
    let now = auto_logs(&fx, "a");
    assert_eq!(now.len(), 2, "{now:?}");
    assert!(before.iter().all(|f| !now.contains(f)));
}

#[test]
fn non_utf8_bytes_are_kept_on_disk_and_read_lossily() {
    // \377 and a snowman cut in half are not UTF-8.
    let (fx, _d) = start(&super::program(
        "b",
        r#"sh -c 'printf "a\377b\342\230\203c\342\230\n"; exec sleep 1000'"#,
        "stdout_logfile=%(here)s/b.log",
    ));
    let want: &[u8] = b"a\xffb\xe2\x98\x83c\xe2\x98\n";
    let data = wait_file(&fx.path("b.log"), "output", |d| d.len() >= want.len());
    assert_eq!(data, want, "byte for byte");
    let text = fx
        .rpc(
            "supervisor.readProcessStdoutLog",
            vec![s("b"), int(0), int(0)],
        )
        .expect("read");
    assert_eq!(text.as_str(), Some("a\u{fffd}b\u{2603}c\u{fffd}\n"));
    // An offset inside the snowman.
    let text = fx
        .rpc(
            "supervisor.readProcessStdoutLog",
            vec![s("b"), int(4), int(3)],
        )
        .expect("read mid-char");
    assert_eq!(text.as_str(), Some("\u{fffd}\u{fffd}c"));
    let tail = fx
        .rpc(
            "supervisor.tailProcessStdoutLog",
            vec![s("b"), int(0), int(5)],
        )
        .expect("tail");
    let arr = tail.as_array().expect("array").to_vec();
    assert_eq!(arr[0].as_str(), Some("\u{fffd}c\u{fffd}\n"));
    assert_eq!(arr[1].as_int(), Some(10));
}

#[test]
fn dev_stdout_reaches_the_daemons_stdout_without_rotation() {
    let (fx, _d) = start(&format!(
        "{}{}",
        super::program(
            "z",
            "sh -c 'echo zero-max-marker; exec sleep 1000'",
            "stdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0",
        ),
        super::program(
            "dflt",
            "sh -c 'seq 1 3000 | sed s/^/default-max-/; exec sleep 1000'",
            "stdout_logfile=/dev/stdout\nstderr_logfile=/dev/fd/2\nstdout_logfile_maxbytes=1KB",
        )
    ));
    let out = fx.path("daemon.out");
    wait_file(&out, "both programs' output on procd's stdout", |d| {
        contains(d, b"zero-max-marker\n") && contains(d, b"default-max-3000\n")
    });
    let data = read(&out);
    for i in [1, 1500, 3000] {
        assert!(
            contains(&data, format!("default-max-{i}\n").as_bytes()),
            "line {i}"
        );
    }
    let log = fx.log();
    assert!(
        !log.iter()
            .any(|(_, m)| m.contains("Illegal seek") || m.contains("could not write")),
        "no write errors: {log:?}"
    );
    assert!(!std::path::Path::new("/dev/stdout.1").exists());
    wait_until(DEADLINE, "both running", || {
        (fx.state("z") == "RUNNING" && fx.state("dflt") == "RUNNING").then_some(())
    });
}

#[test]
fn a_removed_log_is_created_again_when_the_program_restarts() {
    // supervisord opens a program's log files at every spawn; a user who deletes the log and restarts
    // the program finds a fresh file with the new output.
    let (fx, _d) = start(&super::program(
        "r",
        "sh -c 'echo run-$$; exec sleep 1000'",
        "stdout_logfile=%(here)s/r.log",
    ));
    let log = fx.path("r.log");
    wait_file(&log, "first run's line", |d| contains(d, b"run-"));
    fx.rpc("supervisor.stopProcess", vec![s("r")])
        .expect("stop");
    std::fs::remove_file(&log).unwrap();
    fx.rpc("supervisor.startProcess", vec![s("r")])
        .expect("start");
    let pid = fx.pid_of("r");
    // The program's shell is `pid` (exec keeps it), so its line names it.
    let data = wait_file(&log, "second run's line in a new file", |d| {
        contains(d, format!("run-{pid}\n").as_bytes())
    });
    assert_eq!(data, format!("run-{pid}\n").into_bytes());
}
