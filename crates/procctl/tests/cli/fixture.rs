//! Test fixture: a temp dir with a supervisord config, a daemon running it (the real supervisord 4.3.0 or
//! procd, killed on drop), and helpers to run the real supervisorctl and procctl against it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

pub(crate) use procd_testkit::bins::procd_bin;
use procd_testkit::port::{self, Port};
use procd_testkit::procs::tcp_listen_ports;
use procd_testkit::{DaemonProcess, Teardown, wait_until};

/// Directory holding the reference `supervisord` / `supervisorctl`.
#[track_caller]
pub(crate) fn python_bin_dir() -> PathBuf {
    procd_testkit::bins::supervisord();
    procd_testkit::bins::reference_bin_dir()
}

/// The daemon a test runs against: both must answer every client the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Server {
    Supervisord,
    Procd,
}

impl Server {
    pub(crate) fn binary(self) -> PathBuf {
        match self {
            Server::Supervisord => procd_testkit::bins::supervisord(),
            Server::Procd => procd_bin(),
        }
    }
}

pub(crate) fn procctl_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_procctl"))
}

pub(crate) const PROGRAMS: &str = r#"
[program:good]
command=/bin/sh -c 'echo hello; echo oops >&2; exec sleep 1000'
startsecs=1

[program:manual]
command=/bin/sleep 1000
autostart=false

[program:quick]
command=/bin/sh -c 'exit 3'
startsecs=1
startretries=0

[program:ticker]
command=/bin/sh -c 'while :; do echo tick; sleep 0.05; done'
startsecs=0

[group:grp]
programs=a,b

[program:a]
command=/bin/sleep 1000
startsecs=0

[program:b]
command=/bin/cat
startsecs=0
"#;

/// Declares each listed `fn name(server: Server)` as two tests, `supervisord::name` and `procd::name`.
/// Attributes before a name (e.g. `#[ignore = "procd bug: ..."]`) apply to the procd test only; the
/// supervisord tests need the reference supervisor 4.3.0, so they run with the `reference` feature.
macro_rules! against_both {
    ($($(#[$procd_attr:meta])* $name:ident),* $(,)?) => {
        mod supervisord {
            $(
                #[test]
                #[cfg_attr(not(feature = "reference"), ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh")]
                fn $name() {
                    super::$name(crate::fixture::Server::Supervisord)
                }
            )*
        }
        mod procd {
            $(
                #[test]
                $(#[$procd_attr])*
                fn $name() {
                    super::$name(crate::fixture::Server::Procd)
                }
            )*
        }
    };
}

/// A running daemon and its files.
pub(crate) struct Daemon {
    // Dropped in this order: the daemon stops before its dir and its port go.
    process: DaemonProcess,
    _dir: tempfile::TempDir,
    port_guard: Option<Port>,
    pub conf: PathBuf,
    pub url: String,
}

impl Daemon {
    /// Starts `server` on a unix socket with `programs` (config sections, `extra` going into the
    /// `[supervisorctl]` section) and waits until it answers.
    pub(crate) fn start_on(server: Server, programs: &str, extra: &str) -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let sock = dir.path().join("s.sock");
        let conf = dir.path().join("supervisord.conf");
        let text = format!(
            "[unix_http_server]\nfile={sock}\n\n[supervisord]\nlogfile={d}/main.log\npidfile={d}/sd.pid\n\
             childlogdir={d}\n\n[rpcinterface:supervisor]\n\
             supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n\
             [supervisorctl]\nserverurl=unix://{sock}\n{extra}\n{programs}",
            sock = sock.display(),
            d = dir.path().display(),
        );
        std::fs::write(&conf, text).expect("write config");
        let child = Command::new(server.binary())
            .args(["-n", "-c"])
            .arg(&conf)
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {server:?}: {e}"));
        let url = format!("unix://{}", sock.display());
        let daemon = Daemon {
            process: DaemonProcess::new(child, Teardown::Graceful(Duration::from_secs(15))),
            _dir: dir,
            port_guard: None,
            conf,
            url,
        };
        // `pid` names the daemon that answers: it must be the one just started.
        let pid = daemon.pid().map(|p| p.to_string());
        daemon.wait_for("the daemon to answer", |d| {
            let out = d.ctl(&["pid"]);
            out.status.success()
                && pid.as_deref() == Some(String::from_utf8_lossy(&out.stdout).trim())
        });
        daemon
    }

    /// Runs procctl with this config.
    pub(crate) fn ctl(&self, args: &[&str]) -> Output {
        run(&procctl_bin(), &self.conf, args, None)
    }

    /// Waits up to 30 s for `cond`.
    #[track_caller]
    pub(crate) fn wait_for(&self, what: &str, cond: impl Fn(&Daemon) -> bool) {
        wait_until(Duration::from_secs(30), what, || cond(self));
    }

    /// Waits until `procctl status` shows every `name STATE` pair.
    #[track_caller]
    pub(crate) fn wait_states(&self, pairs: &[(&str, &str)]) {
        self.wait_for(&format!("states {pairs:?}"), |d| {
            let out = String::from_utf8_lossy(&d.ctl(&["status"]).stdout).into_owned();
            pairs.iter().all(|(name, state)| {
                out.lines().any(|l| {
                    let mut w = l.split_whitespace();
                    w.next() == Some(*name) && w.next() == Some(*state)
                })
            })
        });
    }

    /// [`PROGRAMS`] on `server`, once every autostarted program has settled (quick FATAL, the others
    /// RUNNING).
    pub(crate) fn settled(server: Server) -> Daemon {
        let d = Daemon::start_on(server, PROGRAMS, "");
        d.wait_states(&[
            ("good", "RUNNING"),
            ("quick", "FATAL"),
            ("grp:a", "RUNNING"),
            ("grp:b", "RUNNING"),
            ("ticker", "RUNNING"),
        ]);
        d
    }

    /// [`PROGRAMS`] on `server` with an inet server on `127.0.0.1:<port>` requiring `user`/`secret`;
    /// returns the daemon and the server URL once that server answers.
    pub(crate) fn with_auth(server: Server) -> (Daemon, String) {
        let reserved = port::reserve();
        let port = reserved.get();
        let mut d = Daemon::start_on(
            server,
            &format!(
                "[inet_http_server]\nport=127.0.0.1:{port}\nusername=user\npassword=secret\n\n{PROGRAMS}"
            ),
            "",
        );
        d.port_guard = Some(reserved);
        let url = format!("http://127.0.0.1:{port}");
        // The daemon itself listens there (read back from the kernel), and answers.
        let pid = d.process.pid();
        d.wait_for("the inet server", |_| {
            tcp_listen_ports(pid).contains(&port)
                && run(
                    &procctl_bin(),
                    Path::new(""),
                    &["-s", &url, "-u", "user", "-p", "secret", "version"],
                    None,
                )
                .status
                .success()
        });
        (d, url)
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        u32::try_from(self.process.pid()).ok().filter(|&p| p > 0)
    }
}

/// Runs a client binary with `-c conf` (if given) and optional stdin text.
pub(crate) fn run(bin: &Path, conf: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(bin);
    if !conf.as_os_str().is_empty() {
        cmd.arg("-c").arg(conf);
    }
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn client");
    let mut input = child.stdin.take().expect("stdin");
    let text = stdin.unwrap_or("").to_string();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(text.as_bytes());
    });
    let out = child.wait_with_output().expect("client output");
    let _ = writer.join();
    out
}

/// Replaces run-dependent parts of client output: pids, uptimes, stop times, the program name in usage
/// lines, and the source location of `error:` lines.
pub(crate) fn mask(text: &str, bin: &Path) -> String {
    let bin = bin.display().to_string();
    text.lines()
        .map(|line| {
            let mut l = line.replace(&bin, "<prog>");
            if let Some(pos) = l.find(": file: ")
                && l.contains("error: <class ")
            {
                l.truncate(pos);
                l.push_str(": file: <f> line: <n>");
            }
            mask_help(&mask_tokens(&l))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Help texts are procctl's own words; only the command syntax before the tabs must match.
fn mask_help(line: &str) -> String {
    if line.starts_with("Note: ") {
        return "Note: <desc>".to_string();
    }
    match line.rfind('\t') {
        Some(p) => format!("{}<desc>", &line[..=p]),
        None => line.to_string(),
    }
}

fn mask_tokens(line: &str) -> String {
    // "pid 123, uptime 0:00:01" -> "pid <pid>, uptime <up>"; a bare number line -> "<n>";
    // "Nov 26 10:29 AM" -> "<time>".
    if !line.is_empty() && line.chars().all(|c| c.is_ascii_digit()) {
        return "<n>".to_string();
    }
    let mut out = String::new();
    let mut rest = line;
    while let Some(p) = rest.find("pid ") {
        out.push_str(&rest[..p]);
        let after = &rest[p + 4..];
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            out.push_str("pid ");
            rest = after;
            continue;
        }
        out.push_str("pid <pid>");
        rest = &after[digits..];
        if let Some(r) = rest.strip_prefix(", uptime ") {
            let n = r
                .chars()
                .take_while(|c| {
                    c.is_ascii_digit()
                        || *c == ':'
                        || *c == ','
                        || *c == ' '
                        || c.is_ascii_alphabetic()
                })
                .count();
            out.push_str(", uptime <up>");
            rest = &r[n..];
        }
    }
    out.push_str(rest);
    mask_stop_time(&out)
}

fn mask_stop_time(line: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    for m in MONTHS {
        if let Some(p) = line.find(&format!("{m} ")) {
            let tail = &line[p..];
            if tail.len() >= 15 && (tail.ends_with("AM") || tail.ends_with("PM")) {
                return format!("{}<time>", &line[..p]);
            }
        }
    }
    line.to_string()
}

/// One client run, masked.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub stdout: String,
    pub stderr: String,
    pub code: Option<i32>,
}

pub(crate) fn outcome(bin: &Path, conf: &Path, args: &[&str], stdin: Option<&str>) -> Outcome {
    let out = run(bin, conf, args, stdin);
    Outcome {
        stdout: mask(&String::from_utf8_lossy(&out.stdout), bin),
        stderr: mask(&String::from_utf8_lossy(&out.stderr), bin),
        code: out.status.code(),
    }
}

/// Runs the same command with supervisorctl then procctl and asserts identical masked results.
#[track_caller]
pub(crate) fn same(conf: &Path, args: &[&str]) -> Outcome {
    same_with_stdin(conf, args, None)
}

#[track_caller]
pub(crate) fn same_with_stdin(conf: &Path, args: &[&str], stdin: Option<&str>) -> Outcome {
    let reference = outcome(&python_bin_dir().join("supervisorctl"), conf, args, stdin);
    let ours = outcome(&procctl_bin(), conf, args, stdin);
    assert_eq!(
        ours, reference,
        "procctl differs from supervisorctl for {args:?}"
    );
    ours
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_volatile_parts() {
        let p = Path::new("/x/procctl");
        assert_eq!(
            mask(
                "good                             RUNNING   pid 12, uptime 1 day, 0:00:01",
                p
            ),
            "good                             RUNNING   pid <pid>, uptime <up>"
        );
        assert_eq!(
            mask("manual     STOPPED   Nov 26 10:29 AM", p),
            "manual     STOPPED   <time>"
        );
        assert_eq!(mask("4242", p), "<n>");
        assert_eq!(
            mask("start <name>\t\tStart it", p),
            "start <name>\t\t<desc>"
        );
        assert_eq!(
            mask("For help, use /x/procctl -h", p),
            "For help, use <prog> -h"
        );
        assert_eq!(
            mask("error: <class 'X'>, y: file: /a.py line: 3", p),
            "error: <class 'X'>, y: file: <f> line: <n>"
        );
    }
}
