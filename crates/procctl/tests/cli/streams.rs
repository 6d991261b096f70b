//! Followed logs (`tail -f`, `maintail -f`), `fg`, broken pipes and the procctl extensions.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use crate::fixture::{Daemon, Server, procctl_bin, same};

against_both!(
    // Marked ones compare procctl with the real supervisorctl: their procd test needs the reference too.
    #[cfg_attr(
        not(feature = "reference"),
        ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
    )]
    tail_follow_streams_and_stops_on_ctrl_c,
    broken_pipe_ends_quietly,
    fg_forwards_input_and_output,
    fg_reports_a_killed_process,
    status_json_and_wait,
);

/// Reads lines from `r` until one satisfies `pred`, failing after the deadline.
#[track_caller]
fn read_until(r: &mut impl BufRead, seen: &mut String, pred: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let mut line = String::new();
        match r.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {
                seen.push_str(&line);
                if pred(&line) {
                    return;
                }
            }
            Err(_) => break,
        }
    }
    panic!("expected line not seen; got {seen:?}");
}

fn interrupt(child: &std::process::Child) {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("SIGINT");
}

fn tail_follow_streams_and_stops_on_ctrl_c(server: Server) {
    let d = Daemon::settled(server);
    for (args, want) in [
        (vec!["tail", "-f", "good"], "hello"),
        (vec!["tail", "-f", "good", "stderr"], "oops"),
        (vec!["maintail", "-f"], "success: good"),
    ] {
        let mut child = Command::new(procctl_bin())
            .arg("-c")
            .arg(&d.conf)
            .args(&args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut seen = String::new();
        read_until(&mut out, &mut seen, |l| {
            l == "==> Press Ctrl-C to exit <==\n"
        });
        read_until(&mut out, &mut seen, |l| l.contains(want));
        interrupt(&child);
        let mut rest = String::new();
        out.read_to_string(&mut rest).expect("rest");
        let status = child.wait().expect("wait");
        assert_eq!(status.code(), Some(0), "{args:?}");
        assert!(
            rest.ends_with('\n'),
            "a newline is printed on Ctrl-C: {rest:?}"
        );
    }
    // A missing process: banner on stdout, the HTTP error on stderr, status 0 (as supervisorctl).
    same(&d.conf, &["tail", "-f", "nosuch"]);
}

fn broken_pipe_ends_quietly(server: Server) {
    let d = Daemon::settled(server);
    let script = format!(
        "'{}' -c '{}' tail -f ticker | head -n 3 >/dev/null; echo \"${{PIPESTATUS[0]}}\"",
        procctl_bin().display(),
        d.conf.display()
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("bash");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "no panic or error message"
    );
}

/// `fg grp:b` (a `cat`) running, past its banner: the child, its stdin, its stdout and what it printed.
fn fg_cat(d: &Daemon) -> (Child, ChildStdin, BufReader<ChildStdout>, String) {
    let mut child = Command::new(procctl_bin())
        .arg("-c")
        .arg(&d.conf)
        .args(["fg", "grp:b"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdin = child.stdin.take().expect("stdin");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut seen = String::new();
    read_until(&mut out, &mut seen, |l| l.starts_with("==> Press Ctrl-C"));
    (child, stdin, out, seen)
}

fn fg_forwards_input_and_output(server: Server) {
    let d = Daemon::settled(server);
    let (mut child, mut stdin, mut out, mut seen) = fg_cat(&d);
    stdin.write_all(b"ping-from-fg\n").expect("write");
    stdin.flush().expect("flush");
    // cat echoes the line back into its stdout log, which fg is following.
    read_until(&mut out, &mut seen, |l| l.contains("ping-from-fg"));
    drop(stdin);
    read_until(&mut out, &mut seen, |l| l == "Exiting foreground\n");
    assert_eq!(child.wait().expect("wait").code(), Some(0));
}

fn fg_reports_a_killed_process(server: Server) {
    let d = Daemon::settled(server);
    let (mut child, mut stdin, mut out, mut seen) = fg_cat(&d);
    assert!(d.ctl(&["stop", "grp:b"]).status.success());
    stdin.write_all(b"late\n").expect("write");
    read_until(&mut out, &mut seen, |l| l == "Process got killed\n");
    read_until(&mut out, &mut seen, |l| l == "Exiting foreground\n");
    drop(stdin);
    assert_eq!(child.wait().expect("wait").code(), Some(0));
}

fn status_json_and_wait(server: Server) {
    let d = Daemon::settled(server);
    let out = d.ctl(&["status", "--json", "grp:*"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let names: Vec<&str> = v
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert!(v[0]["pid"].as_i64().is_some_and(|p| p > 0));
    assert_eq!(
        d.ctl(&["status", "--json", "manual"]).status.code(),
        Some(3)
    );
    let bad = d.ctl(&["status", "--json", "nosuch"]);
    assert_eq!(bad.status.code(), Some(4));
    assert_eq!(
        String::from_utf8_lossy(&bad.stderr),
        "nosuch: ERROR (no such process)\n"
    );
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&bad.stdout).expect("json"),
        serde_json::json!([])
    );

    assert_eq!(d.ctl(&["wait", "good", "grp:*"]).status.code(), Some(0));
    let fatal = d.ctl(&["wait", "quick"]);
    assert_eq!(fatal.status.code(), Some(7));
    assert!(String::from_utf8_lossy(&fatal.stdout).starts_with("quick: ERROR (FATAL"));
    let start = Instant::now();
    let timeout = d.ctl(&["wait", "manual", "--timeout", "0.5"]);
    assert_eq!(timeout.status.code(), Some(1));
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(
        String::from_utf8_lossy(&timeout.stdout),
        "manual: ERROR (timed out in state STOPPED)\n"
    );
    assert_eq!(d.ctl(&["wait"]).status.code(), Some(2));
    assert_eq!(d.ctl(&["wait", "nosuch"]).status.code(), Some(4));
    // wait sees a process that becomes RUNNING meanwhile.
    let mut waiter = Command::new(procctl_bin())
        .arg("-c")
        .arg(&d.conf)
        .args(["wait", "manual", "--timeout", "20"])
        .spawn()
        .expect("spawn");
    assert!(d.ctl(&["start", "manual"]).status.success());
    assert_eq!(waiter.wait().expect("wait").code(), Some(0));
}

#[test]
fn completions_and_manpage() {
    let none = std::path::Path::new("");
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = crate::fixture::run(&procctl_bin(), none, &["completions", shell], None);
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("procctl"), "{shell}");
    }
    assert_eq!(
        crate::fixture::run(&procctl_bin(), none, &["completions", "tcsh"], None)
            .status
            .code(),
        Some(1)
    );
    let man = crate::fixture::run(&procctl_bin(), none, &["manpage"], None);
    assert_eq!(man.status.code(), Some(0));
    let page = String::from_utf8_lossy(&man.stdout);
    assert!(page.starts_with(".ie"), "roff output");
    // procctl has no version flag and no page per action.
    assert!(
        !page.contains("\\-V") && !page.contains("\\-\\-version"),
        "{page}"
    );
    assert!(
        !page.contains("procctl\\-add") && !page.contains("procctl-"),
        "{page}"
    );
    assert!(page.contains(".SH ACTIONS"), "{page}");
    for action in ["start", "maintail", "wait", "completions"] {
        assert!(
            page.contains(&format!("\\fB{action}\\fR")),
            "{action}: {page}"
        );
    }
    assert_eq!(
        crate::fixture::run(&procctl_bin(), none, &["-V"], None)
            .status
            .code(),
        Some(2),
        "-V stays an unknown option"
    );
}

/// Runs bash's completion of the generated script for the line `line` (cursor at its end) and returns
/// the candidates.
fn bash_complete(script: &std::path::Path, line: &str) -> Vec<String> {
    let program = format!(
        "source {}; COMP_LINE={line:?}; COMP_POINT=${{#COMP_LINE}}; _procctl; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display()
    );
    let out = std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut got: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    got.sort();
    got
}

#[test]
fn bash_completion_asks_the_running_daemon() {
    let d = Daemon::settled(Server::Procd);
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("procctl.bash");
    let out = crate::fixture::run(
        &procctl_bin(),
        std::path::Path::new(""),
        &["completions", "bash"],
        None,
    );
    std::fs::write(&script, &out.stdout).expect("script");
    let bin = procctl_bin().display().to_string();
    let conf = d.conf.display().to_string();
    let line = |rest: &str| format!("{bin} -c {conf} {rest}");

    assert_eq!(bash_complete(&script, &line("sta")), ["start", "status"]);
    assert_eq!(
        bash_complete(&script, &line("stop ")),
        [
            "good", "grp:*", "grp:a", "grp:b", "manual", "quick", "ticker"
        ]
    );
    assert_eq!(
        bash_complete(&script, &line("restart gr")),
        ["grp:*", "grp:a", "grp:b"]
    );
    // bash splits words at ':', so the candidates are what follows it.
    assert_eq!(bash_complete(&script, &line("tail grp:")), ["*", "a", "b"]);
    assert_eq!(bash_complete(&script, &line("update g")), ["good", "grp"]);
    assert_eq!(
        bash_complete(&script, &line("--")),
        [
            "--configuration",
            "--help",
            "--history_file",
            "--interactive",
            "--password",
            "--serverurl",
            "--username"
        ]
    );
    // Without a reachable server there are no names, and no error text.
    let nowhere = format!("{bin} -s unix:///nonexistent/procd.sock stop ");
    assert!(bash_complete(&script, &nowhere).is_empty());
}
