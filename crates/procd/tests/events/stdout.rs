//! The `supervisor-stdout` package's listener, as Docker images configure it: procd runs its built-in
//! equivalent and prints every program's output on its own stdout as `<name> <channel> | <data>`.

use std::path::Path;
use std::time::Duration;

use crate::common::{Fixture, PROCD, str_field, wait_until};

const LONG: Duration = Duration::from_secs(30);

/// The configuration from supervisor-stdout's README, with a program that writes to both channels.
const IMAGE_CONF: &str = "\
[program:web]
command = sh -c 'echo hello; echo oops >&2; until [ -e go1 ]; do sleep 0.01; done; printf \"partial\"; until [ -e go2 ]; do sleep 0.01; done; echo \" end\"; exec sleep 1000'
stdout_events_enabled = true
stderr_events_enabled = true
startsecs = 0

[eventlistener:stdout]
command = supervisor_stdout
buffer_size = 100
events = PROCESS_LOG
result_handler = supervisor_stdout:event_handler
";

#[test]
fn supervisor_stdout_prints_program_output_on_procds_stdout() {
    let f = Fixture::new();
    f.write_conf("", IMAGE_CONF);
    // -s: procd's own main-log copy stays off stdout, so stdout holds only the handler's lines.
    let _d = f.start_with(Path::new(PROCD), &["-n", "-s"]);
    // The program writes one piece at a time, each when the previous one has been printed, so every
    // piece is one chunk (one event).
    let printed = |piece: &str| {
        wait_until(LONG, piece, || {
            let text = std::fs::read_to_string(f.path("daemon.out")).unwrap_or_default();
            text.contains(piece).then_some(())
        });
    };
    printed("web stdout | hello\n");
    std::fs::write(f.path("go1"), "").expect("go1");
    printed("web stdout | partial");
    std::fs::write(f.path("go2"), "").expect("go2");
    let out = wait_until(LONG, "both channels on procd's stdout", || {
        let text = std::fs::read_to_string(f.path("daemon.out")).unwrap_or_default();
        text.contains("web stdout |  end\n").then_some(text)
    });
    // Each chunk as the Python 2 handler prints it: `print '%s %s | %s' % (...),` (no newline added;
    // a space before the next line after a chunk that did not end in one).
    // stdout and stderr are separate pipes, so their relative order is not fixed.
    let mut lines: Vec<&str> = out.lines().filter(|l| l.contains(" | ")).collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        [
            "web stderr | oops",
            "web stdout | hello",
            "web stdout | partial web stdout |  end"
        ],
        "{out}"
    );
    let listener = f.info("stdout");
    assert_eq!(str_field(&listener, "statename"), "RUNNING");
    assert!(
        !f.log()
            .iter()
            .any(|(_, m)| m.contains("event caused an error")),
        "{:?}",
        f.log()
    );
}

#[test]
fn a_listener_that_breaks_the_handler_goes_unknown_like_supervisord() {
    // A listener under the supervisor-stdout handler whose result is not an echoed PROCESS_LOG
    // payload: supervisord logs `event caused an error` and the listener gets no more events.
    let f = Fixture::new();
    f.write_conf(
        "",
        "[program:web]\ncommand=sh -c 'echo hello; exec sleep 1000'\nstdout_events_enabled=true\nstartsecs=0\n\n\
         [eventlistener:stdout]\ncommand=sh -c 'printf \"READY\\n\"; read line; printf \"RESULT 2\\nOK\"; exec sleep 1000'\n\
         events=PROCESS_LOG\nresult_handler=supervisor_stdout:event_handler\n",
    );
    let _d = f.start_with(Path::new(PROCD), &["-n", "-s"]);
    f.wait_log(LONG, "the handler's error", |m| {
        m == "stdout: event caused an error"
    });
    f.wait_log(LONG, "the UNKNOWN state", |m| {
        m.starts_with("stdout: has entered the UNKNOWN state")
    });
}
