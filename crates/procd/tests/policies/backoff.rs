//! Restart backoff with real processes: the waits between attempts (from the main log's millisecond
//! stamps), the description while waiting, retrying forever and cancelling a pending restart.

use std::time::Duration;

use procd_protocol::Value;

use crate::common::{Fixture, read_main_log_timed, str_field, wait_until};

const LONG: Duration = Duration::from_secs(30);

/// Main-log times of the messages matching `pred`.
fn times(f: &Fixture, pred: impl Fn(&str) -> bool) -> Vec<f64> {
    read_main_log_timed(&f.main_log())
        .into_iter()
        .filter(|(_, _, m)| pred(m))
        .map(|(t, _, _)| t)
        .collect()
}

/// The gaps, in ms, from each `exited:` line to the next `spawned:` line.
fn gaps(f: &Fixture, name: &str) -> Vec<f64> {
    let exits = times(f, |m| m.starts_with(&format!("exited: {name} ")));
    let spawns = times(f, |m| m.starts_with(&format!("spawned: '{name}'")));
    // Exit i belongs to spawn i; the wait runs to spawn i + 1.
    exits
        .iter()
        .zip(spawns.iter().skip(1))
        .map(|(e, s)| (s - e) * 1000.0)
        .collect()
}

#[track_caller]
fn check_gaps(measured: &[f64], configured: &[f64]) {
    eprintln!("backoff waits: configured {configured:?} ms, measured {measured:?} ms");
    assert!(measured.len() >= configured.len(), "{measured:?}");
    for (m, c) in measured.iter().zip(configured) {
        // The log stamps whole milliseconds; a wait is never shorter than configured. The upper bound
        // only catches a wrong sequence (the benchmark-style figures go in the note).
        assert!(
            *m >= c - 2.0 && *m < c + 250.0,
            "wait {m} ms, configured {c} ms ({measured:?})"
        );
    }
}

#[test]
fn failed_starts_wait_as_configured_then_fatal() {
    let f = Fixture::new();
    f.write_conf(
        "",
        "[program:flap]\ncommand=sh -c 'exit 3'\nstartsecs=1\nstartretries=4\n\
         restart_delay=200ms\nrestart_max_delay=800ms\n",
    );
    let _d = f.start();
    f.wait_state("flap", "FATAL", LONG);
    check_gaps(&gaps(&f, "flap"), &[200.0, 400.0, 800.0, 800.0]);
    f.wait_log(LONG, "the restarting line", |m| {
        m == "restarting flap in 400 ms (attempt 2)"
    });
}

#[test]
fn autorestart_after_running_backs_off_and_the_description_says_when() {
    let f = Fixture::new();
    f.write_conf(
        "",
        "[program:crash]\ncommand=sh -c 'sleep 0.2; exit 1'\nstartsecs=0\nautorestart=true\n\
         restart_delay=300ms\nrestart_max_delay=1200ms\nrestart_steps=2\n\
         [program:slow]\ncommand=sh -c 'exit 1'\nstartsecs=0\nautorestart=true\nrestart_delay=30s\n",
    );
    let _d = f.start();
    wait_until(LONG, "four restarts of crash", || {
        (times(&f, |m| m.starts_with("spawned: 'crash'")).len() >= 4).then_some(())
    });
    // 300 ms, then 600 ms (300 -> 1200 in 2 steps), then 1200 ms.
    check_gaps(&gaps(&f, "crash"), &[300.0, 600.0, 1200.0]);

    // slow: EXITED, restarting in 30 s; the description says so and procctl status shows it.
    let info = f.wait_state("slow", "EXITED", LONG);
    let desc = str_field(&info, "description");
    let secs: u64 = desc
        .strip_prefix("restarting in ")
        .and_then(|r| r.strip_suffix(" s (attempt 1)"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{desc}"));
    assert!((20..=30).contains(&secs), "{desc}");
    let procctl = std::path::Path::new(env!("CARGO_BIN_EXE_procd")).with_file_name("procctl");
    if procctl.exists() {
        let ctl = f.path("ctl.conf");
        std::fs::write(
            &ctl,
            format!("[supervisorctl]\nserverurl=unix://{}\n", f.sock().display()),
        )
        .unwrap();
        let out = std::process::Command::new(&procctl)
            .args(["-c", &ctl.display().to_string(), "status", "slow"])
            .output()
            .expect("procctl");
        let text = String::from_utf8_lossy(&out.stdout);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(text.contains("restarting in "), "{text}{err}");
    }
    // A stop cancels the pending restart; the program stays EXITED.
    f.rpc("supervisor.stopProcess", vec![Value::String("slow".into())])
        .expect("stop cancels the restart");
    let info = f.info("slow");
    assert_eq!(str_field(&info, "statename"), "EXITED");
    assert!(!str_field(&info, "description").starts_with("restarting"));
}

#[test]
fn restart_forever_keeps_retrying_past_startretries() {
    let f = Fixture::new();
    f.write_conf(
        "",
        "[program:never]\ncommand=/no/such/cmd\nstartretries=1\nrestart_forever=true\n\
         restart_delay=50ms\nrestart_max_delay=100ms\n",
    );
    let _d = f.start();
    wait_until(LONG, "six spawn errors", || {
        (times(&f, |m| m.starts_with("spawnerr: can't find command")).len() >= 6).then_some(())
    });
    let info = f.info("never");
    assert_eq!(str_field(&info, "statename"), "BACKOFF");
    let desc = str_field(&info, "description");
    assert!(
        desc.starts_with("restarting in ")
            && desc.ends_with("): can't find command '/no/such/cmd'"),
        "{desc}"
    );
}
