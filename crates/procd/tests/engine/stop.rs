//! Stopping: stopsignal, stopwaitsecs then SIGKILL, stopasgroup/killasgroup reaching grandchildren.

use std::time::Duration;

use procd_protocol::Value;

use crate::common::{Fixture, alive, descendants, read_main_log_timed, wait_until};

const LONG: Duration = Duration::from_secs(20);

fn stop(f: &Fixture, name: &str) {
    assert_eq!(
        f.rpc("supervisor.stopProcess", vec![Value::String(name.into())]),
        Ok(Value::Bool(true))
    );
}

#[test]
fn stopsignal_is_sent_and_expected_exit_logs_info() {
    let f = Fixture::new();
    let out = f.path("t.out");
    f.write_conf(
        "",
        &format!(
            "[program:t]\ncommand=sh -c 'trap \"echo got USR1; exit 0\" USR1; while :; do sleep 0.05; done'\n\
             startsecs=0\nstopsignal=USR1\nstdout_logfile={}\n",
            out.display()
        ),
    );
    let _d = f.start();
    f.wait_state("t", "RUNNING", LONG);
    let pid = f.pid_of("t");
    stop(&f, "t");
    assert_eq!(f.state("t"), "STOPPED");
    let log = f.log();
    assert!(log.iter().any(|(l, m)| l == "DEBG" && *m == format!("killing t (pid {pid}) with signal SIGUSR1")));
    assert!(
        log.iter()
            .any(|(l, m)| l == "INFO" && m == "stopped: t (exit status 0)"),
        "{log:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&out).unwrap_or_default(),
        "got USR1\n"
    );
}

#[test]
fn stopwaitsecs_then_sigkill() {
    let f = Fixture::new();
    f.write_conf(
        "",
        "[program:stubborn]\ncommand=sh -c 'trap \"\" TERM; while :; do sleep 0.05; done'\nstartsecs=0\nstopwaitsecs=1\n",
    );
    let _d = f.start();
    f.wait_state("stubborn", "RUNNING", LONG);
    let pid = f.pid_of("stubborn");
    stop(&f, "stubborn");
    let log = read_main_log_timed(&f.main_log());
    let find = |msg: &str| {
        log.iter()
            .find(|(_, _, m)| m == msg)
            .map(|(t, l, _)| (*t, l.clone()))
    };
    let (t_term, _) =
        find(&format!("killing stubborn (pid {pid}) with signal SIGTERM")).expect("TERM line");
    let (t_kill, level) =
        find(&format!("killing 'stubborn' ({pid}) with SIGKILL")).expect("SIGKILL line");
    assert_eq!(level, "WARN");
    let waited = t_kill - t_term;
    assert!(
        (1.0..1.3).contains(&waited),
        "SIGKILL after {waited:.3}s, want stopwaitsecs=1"
    );
    let (_, level) = find("stopped: stubborn (terminated by SIGKILL)").expect("stopped line");
    assert_eq!(level, "WARN", "a signal death is never an expected exit");
}

/// The `sleep 1000` grandchild of a `sh -c 'sleep 1000 & wait'` program.
fn grandchild(f: &Fixture, name: &str) -> i32 {
    let pid = f.pid_of(name);
    wait_until(LONG, "the grandchild", || {
        descendants(pid).into_iter().next()
    })
}

#[test]
fn stopasgroup_reaches_grandchildren_and_plain_stop_does_not() {
    let f = Fixture::new();
    f.write_conf(
        "",
        "[program:grouped]\ncommand=sh -c 'sleep 1000 & wait'\nstartsecs=0\nstopasgroup=true\n\n\
         [program:plain]\ncommand=sh -c 'sleep 1000 & wait'\nstartsecs=0\n\n\
         [program:killgroup]\ncommand=sh -c 'trap \"\" TERM; sleep 1000 & wait'\nstartsecs=0\n\
         killasgroup=true\nstopwaitsecs=1\n",
    );
    let _d = f.start();
    for n in ["grouped", "plain", "killgroup"] {
        f.wait_state(n, "RUNNING", LONG);
    }
    let (g1, g2, g3) = (
        grandchild(&f, "grouped"),
        grandchild(&f, "plain"),
        grandchild(&f, "killgroup"),
    );
    let pid = f.pid_of("grouped");
    stop(&f, "grouped");
    assert!(f.log().iter().any(
        |(_, m)| *m == format!("killing grouped (pid {pid}) process group with signal SIGTERM")
    ));
    wait_until(LONG, "grouped's grandchild to die", || {
        (!alive(g1)).then_some(())
    });

    let pid = f.pid_of("plain");
    stop(&f, "plain");
    // supervisord signals only the child: the grandchild lives on (issue #1101).
    assert!(
        f.log()
            .iter()
            .any(|(_, m)| *m == format!("killing plain (pid {pid}) with signal SIGTERM"))
    );

    let pid = f.pid_of("killgroup");
    stop(&f, "killgroup");
    assert!(
        f.log()
            .iter()
            .any(|(_, m)| *m == format!("killing 'killgroup' ({pid}) with SIGKILL"))
    );
    wait_until(LONG, "killgroup's grandchild to die", || {
        (!alive(g3)).then_some(())
    });
    // Stopping `killgroup` took its stopwaitsecs (1 s) and the death of its own grandchild: had
    // `plain`'s stop signalled its group, `plain`'s grandchild would be long dead by now.
    assert!(alive(g2), "plain stop must not reach the grandchild");
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(g2), nix::sys::signal::SIGKILL);
}
