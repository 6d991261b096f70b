//! supervisorctl differential tests: the real supervisorctl 4.3.0 drives procd and supervisord with the
//! same fixture through every command; stdout, stderr and exit code must match after masking.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use procd_testkit::bins;
use procd_testkit::e2e::{CtlOutput, Daemon, Fixture};
use procd_testkit::mask::mask;

use crate::common::{both, on_both};

fn ctl_fixture() -> Fixture {
    Fixture::new()
        .program(
            "web",
            "command=sh -c \"echo hello;echo oops 1>&2;exec sleep 1000\"\nstartsecs=0",
        )
        .program("manual", "command=sleep 1000\nautostart=false\nstartsecs=0")
        .program("broken", "command=/nonexistent/prog\nautostart=false")
        .program("a", "command=sleep 1000\nstartsecs=0")
        .program("b", "command=sleep 1000\nstartsecs=0")
        .group("grp", "a,b", "")
}

/// Lines that are only a number (the `pid` command) are pids too, except 0.
fn mask_pids(o: CtlOutput) -> CtlOutput {
    let f = |s: &str| {
        s.lines()
            .map(|l| {
                if !l.is_empty() && l != "0" && l.bytes().all(|b| b.is_ascii_digit()) {
                    "<N>"
                } else {
                    l
                }
            })
            .map(|l| format!("{l}\n"))
            .collect::<String>()
    };
    CtlOutput {
        stdout: f(&o.stdout),
        stderr: f(&o.stderr),
        code: o.code,
    }
}

/// Runs each command on both daemons and records every difference; panics at the end with all of them.
struct Diff<'a> {
    p: &'a Daemon,
    r: &'a Daemon,
    mismatches: Vec<String>,
    steps: usize,
}

impl<'a> Diff<'a> {
    fn new(p: &'a Daemon, r: &'a Daemon) -> Self {
        Diff {
            p,
            r,
            mismatches: Vec::new(),
            steps: 0,
        }
    }

    fn run(&mut self, args: &[&str]) -> CtlOutput {
        // A waiting group start/stop prints its lines in completion order, which is timing-dependent
        // in supervisord too: compare those as sets of lines.
        let unordered = args.len() == 2
            && ["start", "stop"].contains(&args[0])
            && args[1].ends_with(['*', ':']);
        let sort = |mut o: CtlOutput| {
            if unordered {
                let mut lines: Vec<&str> = o.stdout.lines().collect();
                lines.sort_unstable();
                o.stdout = lines.iter().map(|l| format!("{l}\n")).collect();
            }
            o
        };
        let (a, b) = on_both(self.p, self.r, |d| sort(mask_pids(d.ctl_masked(args))));
        self.steps += 1;
        if a != b {
            self.mismatches.push(format!(
                "supervisorctl {}:\n  procd:       {a:?}\n  supervisord: {b:?}",
                args.join(" ")
            ));
        }
        b
    }

    fn both(&self, f: impl Fn(&Daemon) + Sync) {
        on_both(self.p, self.r, f);
    }

    #[track_caller]
    fn finish(self) {
        assert!(
            self.mismatches.is_empty(),
            "{} of {} supervisorctl commands differ:\n{}",
            self.mismatches.len(),
            self.steps,
            self.mismatches.join("\n")
        );
    }
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn every_command_matches_supervisord_over_unix_socket() {
    let fixture = ctl_fixture().unix_server();
    let (p, r) = both(&fixture);
    let mut t = Diff::new(&p, &r);
    t.both(|d| d.wait_state(&["web", "grp:a", "grp:b"], "RUNNING"));
    t.both(|d| {
        procd_testkit::wait_until(Duration::from_secs(10), "web output", || {
            std::fs::read_dir(d.path())
                .into_iter()
                .flatten()
                .flatten()
                .any(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    n.starts_with("web-stderr")
                        && std::fs::read_to_string(e.path()).unwrap_or_default() == "oops\n"
                })
        });
    });
    // The reference itself must say what the spec says, so a broken comparison cannot pass silently.
    let first = t.run(&["status"]);
    assert_eq!(first.code, 3, "{first:?}");
    assert!(
        first
            .stdout
            .contains("web                              RUNNING   pid <PID>, uptime <UP>\n"),
        "{first:?}"
    );
    assert!(
        first
            .stdout
            .contains("manual                           STOPPED   Not started\n"),
        "{first:?}"
    );
    for args in [
        &["status", "web"][..],
        &["status", "grp:*"],
        &["status", "grp:"],
        &["status", "nope"],
        &["status", "nope:"],
        &["status", "web", "nope"],
        &["status", "all"],
        &["status", "manual", "nope"],
        &["pid"],
        &["pid", "web"],
        &["pid", "all"],
        &["pid", "manual"],
        &["pid", "nope"],
        &["start", "manual"],
        &["start", "manual"],
        &["start", "nope"],
        &["start", "broken"],
        &["start"],
        &["start", "nope:*"],
        &["stop", "manual"],
        &["stop", "manual"],
        &["stop", "nope"],
        &["stop"],
        &["stop", "grp:*"],
        &["status"],
        &["start", "grp:*"],
        &["stop", "grp:a", "grp:b"],
        &["start", "grp:"],
        &["restart", "web"],
        &["restart", "manual"],
        &["restart"],
        &["stop", "manual"],
        &["signal", "WINCH", "web"],
        &["signal", "FOO", "web"],
        &["signal", "WINCH", "nope"],
        &["signal", "WINCH"],
        &["signal", "WINCH", "manual"],
        &["signal", "WINCH", "grp:*"],
        &["signal", "WINCH", "all"],
        &["signal WINCH web"],
        &["tail", "web"],
        &["tail", "web", "stderr"],
        &["tail", "-3", "web"],
        &["tail", "web", "foo"],
        &["tail", "nope"],
        &["tail", "-x", "web"],
        &["tail"],
        &["tail", "a", "b", "c", "d"],
        &["clear", "web"],
        &["tail", "web"],
        &["clear", "nope"],
        &["clear"],
        &["clear", "all"],
        &["avail"],
        &["reread"],
        &["update"],
        &["version"],
        &["help"],
        &["help", "start"],
        &["nosuchcommand"],
        &["fg"],
        &["fg", "nope"],
        &["fg", "manual"],
        &["fg", "a", "b"],
        &["add", "nope"],
        &["add", "web"],
        &["remove", "nope"],
        &["remove", "web"],
    ] {
        t.run(args);
    }

    // reread / update / add / remove with a changed config.
    let changed = ctl_fixture()
        .unix_server()
        .without("program:manual")
        .program("extra", "command=sleep 1000\nstartsecs=0")
        .program("b", "command=sleep 1000\nstartsecs=0\nstartretries=5");
    on_both(&p, &r, |d| {
        let dir = d.path().to_owned();
        std::fs::write(&d.conf, changed.render(&dir, d.port)).expect("rewrite config");
    });
    for args in [&["reread"][..], &["avail"], &["update"]] {
        t.run(args);
    }
    t.both(|d| d.wait_state(&["extra", "grp:a", "grp:b"], "RUNNING"));
    for args in [
        &["status"][..],
        &["update"],
        &["remove", "extra"],
        &["stop", "extra"],
        &["remove", "extra"],
        &["add", "extra"],
        &["add", "extra"],
    ] {
        t.run(args);
    }
    t.both(|d| d.wait_state(&["extra"], "RUNNING"));
    t.run(&["status", "extra"]);

    // maintail: the log lines differ in detail (pids, timings); the command itself must work alike.
    let (a, b) = on_both(&p, &r, |d| d.ctl(&["maintail", "-1000000"]));
    assert_eq!((a.code, b.code), (0, 0));
    for out in [&a, &b] {
        assert!(
            out.stdout.contains("supervisord started with pid"),
            "{out:?}"
        );
    }
    t.run(&["maintail", "-x"]);

    // reload: both come back with the new config.
    assert_eq!(t.run(&["reload"]).stdout, "Restarted supervisord\n");
    t.both(|d| d.wait_state(&["web", "extra", "grp:a", "grp:b"], "RUNNING"));
    t.run(&["status"]);
    t.run(&["reload", "now"]);
    t.run(&["shutdown", "now"]);
    assert_eq!(t.run(&["shutdown"]).stdout, "Shut down\n");
    on_both(&p, &r, |d| {
        procd_testkit::wait_until(Duration::from_secs(20), "daemon gone", || {
            !d.socket().exists()
        });
    });
    t.run(&["status"]);
    t.run(&["shutdown"]);
    t.run(&["start", "web"]);
    t.finish();
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn tail_follow_streams_like_supervisord() {
    let fixture = ctl_fixture().unix_server();
    let (p, r) = both(&fixture);
    on_both(&p, &r, |d| d.wait_state(&["web"], "RUNNING"));
    let (a, b) = on_both(&p, &r, |d| {
        follow(d, &["tail", "-f", "web", "stderr"], "oops")
    });
    assert_eq!(a, b);
    assert_eq!(b, "==> Press Ctrl-C to exit <==\noops\n");
    let (a, b) = on_both(&p, &r, |d| follow(d, &["tail", "-f", "web"], "hello"));
    assert_eq!(a, b);
    let (a, b) = on_both(&p, &r, |d| {
        follow(d, &["maintail", "-f"], "supervisord started")
    });
    assert!(
        a.starts_with("==> Press Ctrl-C to exit <==\n")
            && b.starts_with("==> Press Ctrl-C to exit <==\n"),
        "{a:?} {b:?}"
    );
}

/// Runs a following supervisorctl command until its stdout contains `until`, then kills it.
fn follow(d: &Daemon, args: &[&str], until: &str) -> String {
    let mut child = Command::new(bins::supervisorctl())
        .arg("-c")
        .arg(&d.conf)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn supervisorctl");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut got = String::new();
    while !got.contains(until) && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            got.push_str(&line);
            got.push('\n');
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        got.contains(until),
        "{:?}: {args:?} never printed {until:?}; got {got:?}",
        d.kind
    );
    mask(&got, d.path())
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn http_with_auth_and_the_401_path_match() {
    let fixture = ctl_fixture().inet_server_with_auth("user", "s3cret");
    let (p, r) = both(&fixture);
    on_both(&p, &r, |d| d.wait_state(&["web", "grp:a"], "RUNNING"));
    let mut t = Diff::new(&p, &r);
    t.run(&["status"]);
    t.run(&["-p", "wrong", "status"]);
    t.run(&["-u", "nobody", "status"]);
    t.run(&["-p", "wrong", "stop", "web"]);
    t.run(&["stop", "web"]);
    t.run(&["start", "web"]);
    t.run(&["tail", "web"]);
    t.finish();
    // Nothing happened through the refused requests.
    let (a, b) = on_both(&p, &r, |d| d.state_of("web"));
    assert_eq!((a.as_str(), b.as_str()), ("RUNNING", "RUNNING"));
    let (a, b) = on_both(&p, &r, |d| {
        follow(d, &["tail", "-f", "web", "stderr"], "oops")
    });
    assert_eq!(a, b);
}
