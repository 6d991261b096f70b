//! Golden comparisons: each command runs with supervisorctl and with procctl against the same daemon;
//! stdout, stderr and exit status must match once pids, uptimes and times are masked.

use std::path::Path;

use crate::fixture::{Daemon, Server, outcome, procctl_bin, python_bin_dir, same};

against_both!(
    // Marked ones compare procctl with the real supervisorctl: their procd test needs the reference too.
    #[cfg_attr(
        not(feature = "reference"),
        ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
    )]
    read_only_commands_match,
    #[cfg_attr(
        not(feature = "reference"),
        ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
    )]
    state_changing_sequences_match,
    #[cfg_attr(
        not(feature = "reference"),
        ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
    )]
    config_changes_match,
    #[cfg_attr(
        not(feature = "reference"),
        ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
    )]
    authentication_errors_match,
    signal_numbers_as_supervisord_takes_them,
    death_by_realtime_signal_is_noticed,
);

fn read_only_commands_match(server: Server) {
    let d = Daemon::settled(server);
    let c = &d.conf;
    let cases: &[&[&str]] = &[
        &["status"],
        &["status", "all"],
        &["status", "grp:*"],
        &["status", "grp:"],
        &["status", "good", "grp:a"],
        &["status", "nosuch"],
        &["status", "nosuch:"],
        &["status", "grp:zz", "good"],
        &["status", "manual"],
        &["status good"],
        &["pid"],
        &["pid", "good"],
        &["pid", "manual"],
        &["pid", "nosuch"],
        &["pid", "all"],
        &["avail"],
        &["avail", "x"],
        &["reread"],
        &["reread", "x"],
        &["version"],
        &["version", "x"],
        &["tail", "good"],
        &["tail", "good", "stderr"],
        &["tail", "-3", "good"],
        &["tail", "good", "STDERR"],
        &["tail", "good", "foo"],
        &["tail", "-x", "good"],
        &["tail"],
        &["tail", "a", "b", "c", "d"],
        &["tail", "nosuch"],
        &["tail", "manual"],
        &["maintail", "-x"],
        &["maintail", "x"],
        &["maintail", "a", "b"],
        &["help"],
        &["help", "nosuch"],
        &["help", "EOF"],
        &["foo"],
        &["foo", "bar"],
        &["!ls"],
        &["quit"],
        &["exit"],
        &["EOF"],
        &["start"],
        &["stop"],
        &["restart"],
        &["clear"],
        &["signal"],
        &["signal", "HUP"],
        &["fg"],
        &["fg", "a", "b"],
        &["fg", "nosuch"],
        &["fg", "manual"],
        &["shutdown", "now"],
        &["reload", "now"],
        &["open", "ftp://x"],
        &["open"],
        &["update", "nosuch"],
        &["add", "nosuch"],
        &["remove", "nosuch"],
        &["remove", "good"],
        &["add", "good"],
        &["start", "good"],
        &["start", "nosuch"],
        &["start", "nosuch:*"],
        &["start", "quick"],
        &["stop", "manual"],
        &["stop", "nosuch"],
        &["stop", "nosuch:"],
        &["signal", "HUP", "manual"],
        &["signal", "BOGUS", "good"],
        &["signal", "HUP", "nosuch"],
        &["signal", "HUP", "nosuch:*"],
        &["clear", "nosuch"],
        &["clear", "manual"],
        &["status", "grp:a", "grp:b"],
        &["status", "grp:a:x"],
        &["pid", "grp:*"],
        &["pid", "grp:"],
        &["pid", "grp:a", "quick"],
        &["start", "grp:"],
        &["start", "good", "grp:*"],
        &["stop", "grp:zz"],
        &["stop", "quick"],
        &["signal", "HUP", "grp:zz"],
        &["signal", "1", "manual"],
        &["signal", "SIGHUP", "quick"],
        &["tail", "good", "stdout"],
        &["tail", "-0", "good"],
        &["tail", "nosuch", "stderr"],
        &["tail", "grp:"],
        &["help", "start"],
        &["help", "tail"],
        &["update", "all"],
        &["update", "grp"],
        &["add", "grp"],
        &["remove", "grp"],
        &["fg", "grp:"],
        &["fg", "quick"],
    ];
    for args in cases {
        same(c, args);
    }
    // `help status` adds procctl's `--json` extension after supervisorctl's lines.
    let reference = outcome(
        &python_bin_dir().join("supervisorctl"),
        c,
        &["help", "status"],
        None,
    );
    let ours = outcome(&procctl_bin(), c, &["help", "status"], None);
    assert_eq!(
        ours.stdout,
        format!("{}\nstatus --json\t\t<desc>", reference.stdout)
    );
}

fn state_changing_sequences_match(server: Server) {
    let d = Daemon::settled(server);
    let c = &d.conf;
    // Each sequence leaves the daemon as it found it, so both clients see the same states.
    let sequences: &[&[&[&str]]] = &[
        &[
            &["stop", "grp:a"],
            &["status", "grp:a"],
            &["start", "grp:a"],
        ],
        &[&["stop", "grp:*"], &["start", "grp:*"]],
        &[
            &["start", "manual"],
            &["pid", "manual"],
            &["stop", "manual"],
        ],
        &[&["restart", "good"]],
        &[&["restart", "manual"], &["stop", "manual"]],
        &[&["signal", "USR1", "grp:*"]],
        &[&["signal", "CONT", "all"]],
        &[&["clear", "good"], &["clear", "all"]],
        &[
            &["stop", "all"],
            &["status"],
            &["start", "all"],
            &["stop", "manual"],
        ],
    ];
    for seq in sequences {
        // Run the whole sequence with supervisorctl, then with procctl, comparing step by step.
        let mut reference = Vec::new();
        for args in *seq {
            reference.push(outcome(
                &python_bin_dir().join("supervisorctl"),
                c,
                args,
                None,
            ));
        }
        d.wait_states(&[
            ("good", "RUNNING"),
            ("grp:a", "RUNNING"),
            ("grp:b", "RUNNING"),
        ]);
        for (args, expected) in seq.iter().zip(&reference) {
            let ours = outcome(&procctl_bin(), c, args, None);
            // Group results arrive in completion order, which varies from run to run.
            assert_eq!(sorted(&ours), sorted(expected), "step {args:?} of {seq:?}");
        }
        d.wait_states(&[
            ("good", "RUNNING"),
            ("grp:a", "RUNNING"),
            ("grp:b", "RUNNING"),
        ]);
    }
}

fn sorted(o: &crate::fixture::Outcome) -> (Vec<&str>, &str, Option<i32>) {
    let mut lines: Vec<&str> = o.stdout.lines().collect();
    lines.sort_unstable();
    (lines, o.stderr.as_str(), o.code)
}

fn config_changes_match(server: Server) {
    let d = Daemon::start_on(
        server,
        "[program:one]\ncommand=/bin/sleep 1000\nstartsecs=0\n",
        "",
    );
    d.wait_states(&[("one", "RUNNING")]);
    let c = &d.conf;
    let base = std::fs::read_to_string(c).expect("config");
    let reference = python_bin_dir().join("supervisorctl");
    let ours = procctl_bin();
    // Run a step with one client, then restore the config and state and run it with the other.
    let two = "\n[program:two]\ncommand=/bin/sleep 1000\nstartsecs=0\n";
    std::fs::write(c, format!("{base}{two}")).expect("write config");
    same(c, &["reread"]);
    same(c, &["avail"]);
    for bin in [&reference, &ours] {
        let o = outcome(bin, c, &["update"], None);
        assert_eq!(o.stdout, "two: added process group", "{bin:?}");
        assert_eq!(o.code, Some(0));
        d.wait_states(&[("two", "RUNNING")]);
        same(c, &["update"]);
        same(c, &["add", "two"]);
        same(c, &["remove", "two"]);
        let o = outcome(bin, c, &["stop", "two"], None);
        assert_eq!(o.code, Some(0));
        let o = outcome(bin, c, &["remove", "two"], None);
        assert_eq!(
            (o.stdout.as_str(), o.code),
            ("two: removed process group", Some(0)),
            "{bin:?}"
        );
        same(c, &["avail"]);
    }
    // A changed and a removed group, one client after the other.
    for bin in [&reference, &ours] {
        std::fs::write(c, base.replace("sleep 1000", "sleep 999")).expect("write config");
        let o = outcome(bin, c, &["update", "one", "nosuch"], None);
        assert_eq!(
            (o.stdout.as_str(), o.code),
            (
                "ERROR: no such group: nosuch\none: stopped\none: updated process group",
                Some(1)
            ),
            "{bin:?}"
        );
        std::fs::write(c, &base).expect("write config");
        let o = outcome(bin, c, &["update"], None);
        assert_eq!(
            o.stdout, "one: stopped\none: updated process group",
            "{bin:?}"
        );
        d.wait_states(&[("one", "RUNNING")]);
    }
    std::fs::write(c, format!("{base}\n[program:bad\n")).expect("write config");
    same(c, &["reread"]);
    std::fs::write(c, &base).expect("write config");
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn connection_and_option_errors_match() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = format!("unix://{}/nope.sock", dir.path().display());
    let none = Path::new("");
    let cases: Vec<Vec<String>> = vec![
        vec!["-s".into(), missing.clone(), "status".into()],
        vec!["-s".into(), missing.clone(), "start".into(), "x".into()],
        vec!["-s".into(), missing.clone(), "version".into()],
        vec!["-s".into(), missing.clone(), "avail".into()],
        vec!["-s".into(), missing.clone(), "shutdown".into()],
        vec!["-s".into(), missing.clone(), "help".into()],
        vec!["-s".into(), "http://127.0.0.1:1".into(), "status".into()],
        vec!["-s".into(), "http://127.0.0.1:1".into(), "pid".into()],
        vec!["-s".into(), "http://127.0.0.1:1".into(), "shutdown".into()],
        vec!["-s".into(), "http://127.0.0.1:1".into(), "reread".into()],
        vec!["-x".into()],
        vec!["-s".into()],
        vec!["-s".into(), "foo".into(), "status".into()],
        vec!["--serverurl".into()],
        vec!["--nope".into()],
        vec!["--h".into()],
        vec!["-s".into(), "a:b".into(), "-s".into(), "c:d".into()],
        vec![
            "-c".into(),
            format!("{}/missing.conf", dir.path().display()),
            "status".into(),
        ],
    ];
    for args in &cases {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        same(none, &refs);
    }
    let noctl = dir.path().join("noctl.conf");
    std::fs::write(&noctl, "[supervisord]\n").expect("write");
    same(&noctl, &["status"]);
}

fn authentication_errors_match(server: Server) {
    let (_d, url) = Daemon::with_auth(server);
    let none = Path::new("");
    same(none, &["-s", &url, "status"]);
    same(none, &["-s", &url, "-u", "user", "-p", "wrong", "avail"]);
    same(none, &["-s", &url, "-u", "user", "-p", "secret", "version"]);
    same(
        none,
        &["-s", &url, "-u", "user", "-p", "secret", "status", "grp:*"],
    );
}

/// Which signal numbers the server takes, as supervisord 4.3.0 answers: 0 (the existence probe) is valid,
/// 32 and 33 (reserved by the C library, unknown to Python's `signal` module) are not.
fn signal_numbers_as_supervisord_takes_them(server: Server) {
    let d = Daemon::settled(server);
    let o = outcome(&procctl_bin(), &d.conf, &["signal", "0", "grp:*"], None);
    assert_eq!(
        (o.stdout.as_str(), o.code),
        ("grp:a: signalled\ngrp:b: signalled", Some(0))
    );
    let o = outcome(&procctl_bin(), &d.conf, &["signal", "32", "grp:a"], None);
    assert_eq!(
        (o.stdout.as_str(), o.code),
        ("grp:a: ERROR (bad signal name)", Some(1))
    );
}

/// A process killed by a real-time signal exits like any other: `grp:a` (autorestart=unexpected) is
/// respawned with a new pid.
fn death_by_realtime_signal_is_noticed(server: Server) {
    let d = Daemon::settled(server);
    let pid = |d: &Daemon| String::from_utf8_lossy(&d.ctl(&["pid", "grp:a"]).stdout).into_owned();
    let before = pid(&d);
    let o = outcome(&procctl_bin(), &d.conf, &["signal", "RTMIN", "grp:a"], None);
    assert_eq!(o.stdout, "grp:a: signalled");
    d.wait_for("grp:a respawned with a new pid", |d| {
        let now = pid(d);
        now != before && now.trim() != "0"
    });
}
