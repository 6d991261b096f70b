//! `procctl check`: a container health check that fails where `status` (like supervisorctl) answers 0.

use crate::fixture::{Daemon, Server};

against_both!(check_fails_on_backoff_fatal_and_unexpected_exits);

const CHECKED: &str = r#"
[program:up]
command=/bin/sleep 1000
startsecs=0

[program:done]
command=/bin/sh -c 'exit 0'
startsecs=0
autorestart=false

[program:exit2]
command=/bin/sh -c 'exit 2'
startsecs=0
autorestart=false
exitcodes=0,2

[program:crashed]
command=/bin/sh -c 'exit 1'
startsecs=0
autorestart=false

[program:broken]
command=/no/such/program
startretries=0

[program:flapping]
command=/bin/sh -c 'exit 1'
startsecs=5
startretries=1000

[program:manual]
command=/bin/sleep 1000
autostart=false
"#;

fn code(out: &std::process::Output) -> Option<i32> {
    out.status.code()
}

fn check_fails_on_backoff_fatal_and_unexpected_exits(server: Server) {
    let d = Daemon::start_on(server, CHECKED, "");
    d.wait_states(&[
        ("up", "RUNNING"),
        ("done", "EXITED"),
        ("exit2", "EXITED"),
        ("crashed", "EXITED"),
        ("broken", "FATAL"),
        ("flapping", "BACKOFF"),
    ]);
    // Healthy: running, expected exits (any code in exitcodes), stopped on purpose.
    let ok = d.ctl(&["check", "up", "done", "exit2", "manual"]);
    assert_eq!(
        (code(&ok), ok.stdout.as_slice()),
        (Some(0), &b""[..]),
        "{ok:?}"
    );

    let crashed = d.ctl(&["check", "crashed"]);
    assert_eq!(code(&crashed), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&crashed.stdout),
        "crashed: EXITED (exit status 1; not expected)\n"
    );
    let broken = d.ctl(&["check", "broken"]);
    assert_eq!(code(&broken), Some(1));
    assert!(
        String::from_utf8_lossy(&broken.stdout).starts_with("broken: FATAL ("),
        "{broken:?}"
    );
    // BACKOFF fails `check`, while `status` answers 0 for it, as supervisorctl does.
    assert_eq!(code(&d.ctl(&["check", "flapping"])), Some(1));
    assert_eq!(code(&d.ctl(&["status", "flapping"])), Some(0));

    let all = d.ctl(&["check"]);
    assert_eq!(code(&all), Some(1));
    let lines: Vec<String> = String::from_utf8_lossy(&all.stdout)
        .lines()
        .map(|l| l.split(':').next().unwrap_or("").to_owned())
        .collect();
    assert_eq!(lines, ["broken", "crashed", "flapping"]);

    assert_eq!(code(&d.ctl(&["check", "nosuch"])), Some(4));
}
