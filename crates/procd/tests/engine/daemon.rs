//! The daemon itself: daemonizing, shutdown and reload signals, log reopen, main-log level filtering,
//! rotation and `silent`, and reaping orphans when procd is PID 1.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use nix::sys::signal::Signal as Sig;
use procd_protocol::{FaultCode, Value};

use crate::common::{Daemon, Fixture, PROCD, alive, wait_until};

const LONG: Duration = Duration::from_secs(20);

fn has(f: &Fixture, level: &str, msg: &str) -> bool {
    f.log().iter().any(|(l, m)| l == level && m == msg)
}

/// How many times the main log says the daemon (re)started: 1 after start-up, +1 per reload.
fn starts(f: &Fixture) -> usize {
    f.log()
        .iter()
        .filter(|(_, m)| m.starts_with("supervisord started with pid"))
        .count()
}

#[test]
fn daemonizes_without_n_and_keeps_serving() {
    let f = Fixture::new();
    f.write_conf("", "[program:up]\ncommand=sleep 1000\nstartsecs=0\n");
    let mut launcher = f.spawn_daemon(Path::new(PROCD), &[], None);
    let launcher_pid = launcher.pid();
    assert_eq!(
        launcher.wait_exit(LONG),
        Some(0),
        "the launching process exits 0"
    );
    let pid: i32 = wait_until(LONG, "the pidfile", || {
        std::fs::read_to_string(f.pidfile())
            .ok()
            .and_then(|s| s.trim().parse().ok())
    });
    let mut daemon = Daemon::adopt(pid, f.sock());
    assert_ne!(pid, launcher_pid);
    assert!(alive(pid));
    let served = wait_until(LONG, "getPID", || f.rpc("supervisor.getPID", vec![]).ok());
    assert_eq!(served, Value::Int(pid));
    f.wait_state("up", "RUNNING", LONG);
    assert!(has(&f, "INFO", "daemonizing the supervisord process"));
    daemon.signal(Sig::SIGTERM);
    daemon.wait_exit(LONG);
    assert!(!f.pidfile().exists(), "pidfile removed at exit");
}

#[test]
fn sigterm_sigint_sigquit_shut_down_in_order() {
    for (sig, name) in [
        (Sig::SIGTERM, "SIGTERM"),
        (Sig::SIGINT, "SIGINT"),
        (Sig::SIGQUIT, "SIGQUIT"),
    ] {
        let f = Fixture::new();
        f.write_conf("", "[program:up]\ncommand=sleep 1000\nstartsecs=0\n");
        let mut d = f.start();
        f.wait_state("up", "RUNNING", LONG);
        let child = f.pid_of("up");
        d.signal(sig);
        assert_eq!(d.wait_exit(LONG), Some(0), "{name}: exit status");
        assert!(
            has(
                &f,
                "WARN",
                &format!("received {name} indicating exit request")
            ),
            "{name}"
        );
        assert!(
            has(&f, "WARN", "stopped: up (terminated by SIGTERM)"),
            "{name}"
        );
        assert!(!alive(child), "{name}: the child is gone");
        assert!(
            !f.pidfile().exists() && !f.sock().exists(),
            "{name}: pidfile and socket removed"
        );
    }
}

#[test]
fn shutdown_and_reload_do_not_wait_on_groups_that_are_already_stopped() {
    // Regression: stopped groups were dropped at most 64 per pass of the loop, which then slept until
    // its 3 s report deadline, so 300 stopped programs took about 12 s to shut down or reload.
    let programs: String = (0..300)
        .map(|i| format!("[program:s{i}]\ncommand=sleep 1000\nautostart=false\n\n"))
        .collect();
    let f = Fixture::new();
    f.write_conf("", &programs);
    let mut d = f.start();
    let quick = Duration::from_secs(5);
    wait_until(LONG, "start-up", || (starts(&f) == 1).then_some(()));
    d.signal(Sig::SIGHUP);
    wait_until(quick, "the reload to finish", || {
        (starts(&f) == 2).then_some(())
    });
    d.signal(Sig::SIGTERM);
    assert_eq!(d.wait_exit(quick), Some(0), "prompt exit");
}

/// Sends `supervisor.getState` calls back to back on fresh connections until `stop`, counting answers.
/// Non-blocking connects and per-call timeouts, so a daemon going away never stalls the loop.
async fn hammer(sock: &Path, stop: &AtomicBool, served: &AtomicUsize) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = procd_protocol::encode_call(&procd_protocol::MethodCall::new(
        "supervisor.getProcessInfo",
        vec![Value::String("a".into())],
    ));
    let mut request = format!(
        "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    while !stop.load(Ordering::Relaxed) {
        let call = async {
            let mut s = tokio::net::UnixStream::connect(sock).await?;
            s.write_all(&request).await?;
            let mut reply = Vec::new();
            s.read_to_end(&mut reply).await?;
            Ok::<_, std::io::Error>(reply)
        };
        match tokio::time::timeout(Duration::from_secs(10), call).await {
            Ok(Ok(reply)) if reply.starts_with(b"HTTP/1.1 200") => {
                served.fetch_add(1, Ordering::Relaxed);
            }
            _ => tokio::time::sleep(Duration::from_millis(1)).await,
        }
    }
}

#[test]
fn calls_racing_a_shutdown_do_not_hold_up_the_exit() {
    // Regression: a call that reached the actor's queue just after its loop ended waited for an answer
    // that never came, and the graceful HTTP shutdown waited its 5 s deadline for that connection.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    for round in 0..10 {
        let f = Fixture::new();
        f.write_conf("", "[program:a]\ncommand=sleep 1000\nstartsecs=0\n");
        let mut d = f.start();
        let sock = f.sock();
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let served = std::sync::Arc::new(AtomicUsize::new(0));
        let clients: Vec<_> = (0..16)
            .map(|_| {
                let (sock, stop, served) = (sock.clone(), stop.clone(), served.clone());
                rt.spawn(async move { hammer(&sock, &stop, &served).await })
            })
            .collect();
        wait_until(LONG, "calls under way", || {
            (served.load(Ordering::Relaxed) >= 20).then_some(())
        });
        let shutdown = f.rpc("supervisor.shutdown", vec![]);
        let code = d.wait_exit(Duration::from_secs(3));
        stop.store(true, Ordering::Relaxed);
        for c in clients {
            rt.block_on(c).expect("client task");
        }
        assert_eq!(shutdown, Ok(Value::Bool(true)));
        assert_eq!(
            code,
            Some(0),
            "round {round}: procd exits while calls keep arriving"
        );
    }
}

#[test]
fn sighup_reloads_the_changed_config_in_the_same_process() {
    let f = Fixture::new();
    f.write_conf("", "[program:old]\ncommand=sleep 1000\nstartsecs=0\n");
    let d = f.start();
    f.wait_state("old", "RUNNING", LONG);
    f.write_conf("", "[program:new]\ncommand=sleep 1000\nstartsecs=0\n");
    d.signal(Sig::SIGHUP);
    wait_until(LONG, "new to run", || {
        f.rpc(
            "supervisor.getProcessInfo",
            vec![Value::String("new".into())],
        )
        .ok()
        .filter(|i| crate::common::str_field(i, "statename") == "RUNNING")
    });
    assert_eq!(
        f.rpc("supervisor.getPID", vec![]),
        Ok(Value::Int(d.pid())),
        "same pid"
    );
    let gone = f.rpc(
        "supervisor.getProcessInfo",
        vec![Value::String("old".into())],
    );
    assert_eq!(gone.map_err(|e| e.code), Err(FaultCode::BadName.code()));
    assert!(has(
        &f,
        "WARN",
        "received SIGHUP indicating restart request"
    ));
    assert!(has(&f, "WARN", "stopped: old (terminated by SIGTERM)"));
    assert_eq!(starts(&f), 2, "the start-up line again after the reload");
}

#[test]
fn reload_replaces_the_auto_child_logs_like_a_fresh_start() {
    let f = Fixture::new();
    f.write_conf("", "[program:up]\ncommand=sleep 1000\nstartsecs=0\n");
    let d = f.start();
    f.wait_state("up", "RUNNING", LONG);
    let auto_logs = || {
        let mut names: Vec<String> = std::fs::read_dir(f.dir.path())
            .expect("childlogdir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("up-std") && n.contains("---supervisor-"))
            .collect();
        names.sort();
        names
    };
    let before = auto_logs();
    assert_eq!(before.len(), 2, "stdout and stderr AUTO logs: {before:?}");
    d.signal(Sig::SIGHUP);
    wait_until(LONG, "the reload", || (starts(&f) == 2).then_some(()));
    f.wait_state("up", "RUNNING", LONG);
    let after = auto_logs();
    assert_eq!(
        after.len(),
        2,
        "only the new run's AUTO logs are left: {after:?}"
    );
    assert!(
        after.iter().all(|n| !before.contains(n)),
        "{before:?} -> {after:?}"
    );
}

#[test]
fn sigusr2_reopens_main_and_child_logs() {
    let f = Fixture::new();
    let out = f.path("talk.out");
    f.write_conf(
        "",
        &format!(
            "[program:talk]\ncommand=sh -c 'while :; do echo tick; sleep 0.1; done'\nstartsecs=0\n\
             stdout_logfile={}\n",
            out.display()
        ),
    );
    let d = f.start();
    f.wait_state("talk", "RUNNING", LONG);
    wait_until(LONG, "output", || {
        std::fs::metadata(&out).ok().filter(|m| m.len() > 0)
    });
    std::fs::rename(f.main_log(), f.path("main.old")).expect("move main log");
    std::fs::rename(&out, f.path("talk.old")).expect("move child log");
    d.signal(Sig::SIGUSR2);
    wait_until(LONG, "the new main log", || {
        f.main_log().exists().then_some(())
    });
    let old = crate::common::read_main_log(&f.path("main.old"));
    assert!(
        old.iter()
            .any(|(l, m)| l == "INFO" && m == "received SIGUSR2 indicating log reopen request"),
        "{old:?}"
    );
    wait_until(LONG, "new child log lines", || {
        std::fs::read_to_string(&out)
            .ok()
            .filter(|s| s.contains("tick\n"))
    });
    // New main-log lines go to the new file.
    f.rpc("supervisor.stopProcess", vec![Value::String("talk".into())])
        .expect("stop");
    assert!(
        f.log().iter().any(|(_, m)| m.starts_with("stopped: talk")),
        "{:?}",
        f.log()
    );
}

#[test]
fn loglevel_warn_drops_info_lines() {
    let f = Fixture::new();
    let conf = f.write_conf("", "[program:crash]\ncommand=false\nstartretries=0\n");
    let text = std::fs::read_to_string(&conf)
        .expect("conf")
        .replace("loglevel=debug", "loglevel=warn");
    std::fs::write(&conf, text).expect("conf");
    let _d = f.start();
    f.wait_state("crash", "FATAL", LONG);
    let log = f.log();
    assert!(
        log.iter()
            .any(|(l, m)| l == "WARN" && m == "exited: crash (exit status 1; not expected)")
    );
    assert!(
        log.iter()
            .all(|(l, _)| l == "WARN" || l == "CRIT" || l == "ERRO"),
        "{log:?}"
    );
}

#[test]
fn main_log_rotates_with_backups() {
    let f = Fixture::new();
    // Child output at loglevel=debug is copied into the main log, which fills it quickly.
    f.write_conf(
        "logfile_maxbytes=2KB\nlogfile_backups=2",
        "[program:chatty]\ncommand=sh -c 'while :; do echo 0123456789012345678901234567890123456789; sleep 0.005; done'\n\
         startsecs=0\n",
    );
    let _d = f.start();
    let backup2 = f.path("main.log.2");
    wait_until(LONG, "two backups", || backup2.exists().then_some(()));
    assert!(
        !f.path("main.log.3").exists(),
        "only logfile_backups=2 backups are kept"
    );
    for p in [f.path("main.log.1"), backup2] {
        let len = std::fs::metadata(&p).map_or(0, |m| m.len());
        assert!(
            (2048..4096).contains(&len),
            "{} has {len} bytes",
            p.display()
        );
    }
}

#[test]
fn silent_keeps_stdout_quiet_and_nodaemon_mirrors_the_log() {
    for (args, mirrored) in [(&["-n"][..], true), (&["-n", "-s"][..], false)] {
        let f = Fixture::new();
        f.write_conf("", "[program:up]\ncommand=sleep 1000\nstartsecs=0\n");
        let mut d = f.start_with(Path::new(PROCD), args);
        f.wait_state("up", "RUNNING", LONG);
        d.signal(Sig::SIGTERM);
        d.wait_exit(LONG);
        let stdout = std::fs::read_to_string(f.path("daemon.out")).unwrap_or_default();
        assert_eq!(
            stdout.contains("spawned: 'up' with pid"),
            mirrored,
            "{args:?}: {stdout}"
        );
        assert!(has(
            &f,
            "INFO",
            "success: up entered RUNNING state, process has stayed up for > than 0 seconds (startsecs)"
        ));
    }
}

/// procd is not a subreaper (supervisord is not either); as PID 1 of a PID namespace (a container)
/// orphans come to it, and it reaps and logs them.
#[test]
fn reaps_orphans_as_pid_1() {
    let f = Fixture::new();
    f.write_conf(
        "",
        "[program:parent]\ncommand=sh -c '(sleep 0.3; exit 4) & exec sleep 1000'\nstartsecs=0\n\n\
         [program:orphaner]\ncommand=sh -c '(sh -c \"sleep 0.3; exit 5\" &); exec sleep 1000'\nstartsecs=0\n",
    );
    let unshare = ["unshare", "--pid", "--fork", "--kill-child"];
    let _d = f.spawn_daemon(Path::new(PROCD), &["-n"], Some(&unshare));
    wait_until(LONG, "the daemon", || f.rpc_opt("supervisor.getPID"));
    assert_eq!(f.rpc("supervisor.getPID", vec![]), Ok(Value::Int(1)));
    let line = f.wait_log(LONG, "reaped unknown pid", |m| {
        m.starts_with("reaped unknown pid")
    });
    assert!(line.ends_with(" (exit status 5)"), "{line}");
    assert_eq!(f.state("orphaner"), "RUNNING");
    assert_eq!(f.state("parent"), "RUNNING");
}
